/*
 * scaling.h: the "scaling" mode of floor.c and bench_opstatus.c, which
 * compares one thread with two threads inside one process.
 *
 * Two worker threads send their warmup calls, then the process runs pairs
 * of timed phases. In a one-thread phase, worker 0 sends `calls` calls and
 * worker 1 waits; in a two-thread phase, each worker sends calls / 2. Each
 * pair runs its phases in the opposite order of the pair before (one, two,
 * two, one, ...), so a machine that gets slower or faster during the run
 * affects both kinds of phase alike. Phases take tens of milliseconds, so
 * other load on the machine mostly hits both phases of a pair.
 *
 * The result is one JSON object on stdout:
 *   {"calls_per_phase": N, "one": [S, ...], "two": [S, ...],
 *    "cpu_seconds": C}
 * with the wall seconds of every phase, in the order of the pairs, and the
 * CPU time of the process during all phases.
 *
 * The including file defines the function that sends the calls. It gets
 * the file's context, the worker's index (0 or 1) and the number of calls,
 * and returns 0, or -1 after a failure.
 */
#ifndef OPSTATUS_BENCH_SCALING_H
#define OPSTATUS_BENCH_SCALING_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define SCALING_MAX_PAIRS 200

typedef int (*scaling_calls_fn)(void *context, int worker, long count);

struct scaling_run {
    scaling_calls_fn send_calls;
    void *context;
    long warmup;
    pthread_barrier_t start;
    pthread_barrier_t done;
    /* Phase settings, written by the main thread between barriers and read
       by the workers. */
    int active_workers;
    long calls_per_worker;
    int stop;
    int failed[2];
};

struct scaling_worker {
    struct scaling_run *run;
    int index;
};

static void *scaling_worker_main(void *argument)
{
    struct scaling_worker *worker = argument;
    struct scaling_run *run = worker->run;
    int index = worker->index;

    if (run->send_calls(run->context, index, run->warmup) != 0) {
        run->failed[index] = 1;
    }
    /* Tells the main thread that the warmup is over. */
    pthread_barrier_wait(&run->done);
    for (;;) {
        pthread_barrier_wait(&run->start);
        if (run->stop) {
            break;
        }
        if (index < run->active_workers && !run->failed[index] &&
            run->send_calls(run->context, index, run->calls_per_worker) != 0) {
            run->failed[index] = 1;
        }
        pthread_barrier_wait(&run->done);
    }
    return NULL;
}

/* Runs one phase with `workers` active threads and returns its wall seconds. */
static double scaling_phase(struct scaling_run *run, int workers, long calls,
                            double (*clock_seconds)(void))
{
    double started;

    run->active_workers = workers;
    run->calls_per_worker = calls / workers;
    pthread_barrier_wait(&run->start);
    started = clock_seconds();
    pthread_barrier_wait(&run->done);
    return clock_seconds() - started;
}

/*
 * Runs `pairs` pairs of phases of `calls` calls each (an even number) and
 * prints the result. Returns EXIT_SUCCESS, or EXIT_FAILURE when a call
 * failed.
 */
static int scaling_main(scaling_calls_fn send_calls, void *context,
                        long warmup, long calls, long pairs,
                        double (*clock_seconds)(void),
                        double (*cpu_clock_seconds)(void))
{
    struct scaling_run run;
    struct scaling_worker workers[2];
    pthread_t threads[2];
    double one[SCALING_MAX_PAIRS];
    double two[SCALING_MAX_PAIRS];
    double cpu_started;
    double cpu;
    long pair;
    int index;

    run.send_calls = send_calls;
    run.context = context;
    run.warmup = warmup;
    run.active_workers = 0;
    run.calls_per_worker = 0;
    run.stop = 0;
    run.failed[0] = run.failed[1] = 0;
    if (pthread_barrier_init(&run.start, NULL, 3) != 0 ||
        pthread_barrier_init(&run.done, NULL, 3) != 0) {
        fprintf(stderr, "scaling: pthread_barrier_init failed\n");
        return EXIT_FAILURE;
    }
    for (index = 0; index < 2; index++) {
        workers[index].run = &run;
        workers[index].index = index;
        if (pthread_create(&threads[index], NULL, scaling_worker_main,
                           &workers[index]) != 0) {
            /* The other thread waits at a barrier for ever, so end here. */
            fprintf(stderr, "scaling: pthread_create failed\n");
            exit(EXIT_FAILURE);
        }
    }

    /* The CPU time counts the phases only, not the warmup. */
    pthread_barrier_wait(&run.done);
    cpu_started = cpu_clock_seconds();
    for (pair = 0; pair < pairs; pair++) {
        if (pair % 2 == 0) {
            one[pair] = scaling_phase(&run, 1, calls, clock_seconds);
            two[pair] = scaling_phase(&run, 2, calls, clock_seconds);
        } else {
            two[pair] = scaling_phase(&run, 2, calls, clock_seconds);
            one[pair] = scaling_phase(&run, 1, calls, clock_seconds);
        }
    }
    cpu = cpu_clock_seconds() - cpu_started;
    run.stop = 1;
    pthread_barrier_wait(&run.start);
    for (index = 0; index < 2; index++) {
        pthread_join(threads[index], NULL);
    }
    pthread_barrier_destroy(&run.start);
    pthread_barrier_destroy(&run.done);
    if (run.failed[0] || run.failed[1]) {
        return EXIT_FAILURE;
    }

    printf("{\"calls_per_phase\": %ld, \"one\": [", calls);
    for (pair = 0; pair < pairs; pair++) {
        printf("%s%.9f", pair == 0 ? "" : ", ", one[pair]);
    }
    printf("], \"two\": [");
    for (pair = 0; pair < pairs; pair++) {
        printf("%s%.9f", pair == 0 ? "" : ", ", two[pair]);
    }
    printf("], \"cpu_seconds\": %.6f}\n", cpu);
    return EXIT_SUCCESS;
}

/* Returns 0 when the arguments of the scaling mode are usable, else -1. */
static int scaling_check_arguments(long warmup, long calls, long pairs)
{
    if (warmup < 0 || calls < 2 || calls % 2 != 0 || pairs < 1 ||
        pairs > SCALING_MAX_PAIRS) {
        fprintf(stderr, "scaling: invalid arguments: WARMUP must be 0 or more, "
                "CALLS an even number of at least 2, and PAIRS from 1 to %d\n",
                SCALING_MAX_PAIRS);
        return -1;
    }
    return 0;
}

#endif
