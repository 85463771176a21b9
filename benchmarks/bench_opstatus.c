/*
 * bench_opstatus: timing and memory loops over libopstatus's C API, the
 * counterpart of floor.c for the benchmarks.
 *
 * Usage:
 *   bench_opstatus seq NAMESPACE NAME OPERATION_ID WARMUP COUNT
 *       WARMUP untimed, then COUNT timed calls of opstatus_get_status().
 *   bench_opstatus threads THREADS NAMESPACE NAME OPERATION_ID WARMUP COUNT
 *       the same on THREADS threads at once, all sharing one client.
 *   bench_opstatus scaling NAMESPACE NAME OPERATION_ID WARMUP CALLS PAIRS
 *       one thread against two threads sharing one client, in alternating
 *       phases of CALLS calls; see scaling.h.
 *   bench_opstatus rss NAMESPACE NAME OPERATION_ID FIRST TOTAL
 *       VmRSS after FIRST calls and after TOTAL calls.
 *   bench_opstatus many NAMESPACE NAME OPERATION_ID OPERATIONS MAX_CONNECTIONS
 *       one opstatus_get_status_many_json() call asking OPERATIONS times
 *       for the same operation; MAX_CONNECTIONS 0 leaves the library's
 *       default.
 *
 * The client is configured from F5XC_API_URL, F5XC_API_TOKEN and
 * F5XC_CACERT, as the opstatus-status example is. Each mode prints one JSON
 * object on stdout. The timed modes print {"calls": N, "seconds": S,
 * "cpu_seconds": C}, where C is the CPU time of the whole process. Exit status: 0 on success, 1 when a call failed, 2 for
 * a usage error.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "opstatus.h"
#include "scaling.h"

#define EXIT_USAGE 2
#define MAX_THREADS 64

struct operation {
    const char *ns;
    const char *name;
    long long id;
};

struct thread_job {
    opstatus_client *client;
    const struct operation *operation;
    pthread_barrier_t *ready;
    long warmup;
    long count;
    int failed;
};

static double monotonic_seconds(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* Returns the user plus system CPU time of every thread of the process. */
static double cpu_seconds(void)
{
    struct rusage usage;

    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
           (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
}

static void print_timing(long calls, double seconds, double cpu)
{
    printf("{\"calls\": %ld, \"seconds\": %.9f, \"cpu_seconds\": %.6f}\n", calls,
           seconds, cpu);
}

static void print_library_error(opstatus_result code)
{
    fprintf(stderr, "bench_opstatus: %s: %s (HTTP %d)\n",
            opstatus_strerror(code), opstatus_last_error()->message,
            opstatus_last_error()->http_status);
}

static opstatus_client *create_client(void)
{
    const char *api_url = getenv("F5XC_API_URL");
    const char *token = getenv("F5XC_API_TOKEN");
    const char *ca_file = getenv("F5XC_CACERT");
    opstatus_client *client = NULL;
    json_t *config;
    char *config_text;
    opstatus_result code;

    if (api_url == NULL || token == NULL) {
        fprintf(stderr, "bench_opstatus: F5XC_API_URL or F5XC_API_TOKEN is "
                "not set. Set them to the server's base URL and API token.\n");
        return NULL;
    }
    config = json_pack("{s:s, s:s}", "api_url", api_url, "api_token", token);
    if (config == NULL) {
        return NULL;
    }
    if (ca_file != NULL && ca_file[0] != '\0') {
        json_object_set_new(config, "ca_file", json_string(ca_file));
    }
    config_text = json_dumps(config, JSON_COMPACT);
    json_decref(config);
    if (config_text == NULL) {
        return NULL;
    }
    code = opstatus_client_new(&client, config_text);
    free(config_text);
    if (code != OPSTATUS_OK) {
        print_library_error(code);
        return NULL;
    }
    return client;
}

/* Calls opstatus_get_status() count times. Returns 0, or -1 after a failure. */
static int get_status_repeatedly(opstatus_client *client,
                                 const struct operation *operation,
                                 long count)
{
    long call;

    for (call = 0; call < count; call++) {
        char *result = NULL;
        opstatus_result code = opstatus_get_status(
            &result, client, operation->ns, operation->name, operation->id);

        if (code != OPSTATUS_OK) {
            print_library_error(code);
            return -1;
        }
        opstatus_free(result);
    }
    return 0;
}

static int command_seq(opstatus_client *client,
                       const struct operation *operation, long warmup,
                       long count)
{
    double start;
    double start_cpu;
    double seconds;

    if (get_status_repeatedly(client, operation, warmup) != 0) {
        return EXIT_FAILURE;
    }
    start = monotonic_seconds();
    start_cpu = cpu_seconds();
    if (get_status_repeatedly(client, operation, count) != 0) {
        return EXIT_FAILURE;
    }
    seconds = monotonic_seconds() - start;
    print_timing(count, seconds, cpu_seconds() - start_cpu);
    return EXIT_SUCCESS;
}

struct scaling_context {
    opstatus_client *client;
    const struct operation *operation;
};

/* The scaling mode's calls: both workers share the context's client. */
static int scaling_calls(void *context, int worker, long count)
{
    struct scaling_context *shared = context;

    (void)worker;
    return get_status_repeatedly(shared->client, shared->operation, count);
}

/*
 * Sends the warmup calls, which open this thread's connection, waits at the
 * barrier until every thread is warm, then sends the timed calls.
 */
static void *run_thread(void *argument)
{
    struct thread_job *job = argument;

    if (get_status_repeatedly(job->client, job->operation, job->warmup) != 0) {
        job->failed = 1;
    }
    pthread_barrier_wait(job->ready);
    if (!job->failed &&
        get_status_repeatedly(job->client, job->operation, job->count) != 0) {
        job->failed = 1;
    }
    return NULL;
}

/*
 * Measures the wall time of count calls on each of thread_count threads
 * sharing one client. The clock starts when every thread has finished its
 * warmup calls, so connection setup is not timed.
 */
static int command_threads(opstatus_client *client,
                           const struct operation *operation,
                           int thread_count, long warmup, long count)
{
    pthread_t threads[MAX_THREADS];
    struct thread_job jobs[MAX_THREADS];
    pthread_barrier_t ready;
    double start;
    double start_cpu;
    double seconds;
    int index;
    int failed = 0;

    pthread_barrier_init(&ready, NULL, (unsigned)thread_count + 1);
    for (index = 0; index < thread_count; index++) {
        jobs[index].client = client;
        jobs[index].operation = operation;
        jobs[index].ready = &ready;
        jobs[index].warmup = warmup;
        jobs[index].count = count;
        jobs[index].failed = 0;
        pthread_create(&threads[index], NULL, run_thread, &jobs[index]);
    }
    pthread_barrier_wait(&ready);
    start = monotonic_seconds();
    start_cpu = cpu_seconds();
    for (index = 0; index < thread_count; index++) {
        pthread_join(threads[index], NULL);
        failed |= jobs[index].failed;
    }
    seconds = monotonic_seconds() - start;
    pthread_barrier_destroy(&ready);
    if (failed) {
        return EXIT_FAILURE;
    }
    print_timing(count * thread_count, seconds, cpu_seconds() - start_cpu);
    return EXIT_SUCCESS;
}

/* Returns the VmRSS line of /proc/self/status in KiB, or -1. */
static long read_rss_kib(void)
{
    FILE *file = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;

    if (file == NULL) {
        return -1;
    }
    while (fgets(line, sizeof line, file) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(file);
    return kib;
}

static int command_rss(opstatus_client *client,
                       const struct operation *operation, long first,
                       long total)
{
    long rss_first;
    long rss_total;
    double start = monotonic_seconds();

    if (get_status_repeatedly(client, operation, first) != 0) {
        return EXIT_FAILURE;
    }
    rss_first = read_rss_kib();
    if (get_status_repeatedly(client, operation, total - first) != 0) {
        return EXIT_FAILURE;
    }
    rss_total = read_rss_kib();
    printf("{\"first_calls\": %ld, \"rss_first_kib\": %ld, "
           "\"total_calls\": %ld, \"rss_total_kib\": %ld, "
           "\"seconds\": %.3f}\n",
           first, rss_first, total, rss_total, monotonic_seconds() - start);
    return EXIT_SUCCESS;
}

/* Builds {"operations": [...], "max_connections": N} as JSON text. */
static char *build_many_request(const struct operation *operation,
                                long operations, long max_connections)
{
    json_t *request = json_object();
    json_t *list = json_array();
    char *text;
    long index;

    for (index = 0; index < operations; index++) {
        json_array_append_new(
            list, json_pack("{s:s, s:s, s:I}", "namespace", operation->ns,
                            "name", operation->name, "service_op_id",
                            (json_int_t)operation->id));
    }
    json_object_set_new(request, "operations", list);
    if (max_connections > 0) {
        json_object_set_new(request, "max_connections",
                            json_integer(max_connections));
    }
    text = json_dumps(request, JSON_COMPACT);
    json_decref(request);
    return text;
}

/* Counts the entries of {"results": [...]} whose "ok" is true. */
static long count_successes(const char *result_text)
{
    json_t *result = json_loads(result_text, 0, NULL);
    json_t *entry;
    size_t index;
    long succeeded = 0;

    json_array_foreach(json_object_get(result, "results"), index, entry) {
        if (json_is_true(json_object_get(entry, "ok"))) {
            succeeded++;
        }
    }
    json_decref(result);
    return succeeded;
}

static int command_many(opstatus_client *client,
                        const struct operation *operation, long operations,
                        long max_connections)
{
    char *request = build_many_request(operation, operations, max_connections);
    char *result = NULL;
    opstatus_result code;
    double start;
    double seconds;
    long succeeded;

    if (request == NULL) {
        return EXIT_FAILURE;
    }
    start = monotonic_seconds();
    code = opstatus_get_status_many_json(&result, client, request);
    seconds = monotonic_seconds() - start;
    free(request);
    if (code != OPSTATUS_OK) {
        print_library_error(code);
        return EXIT_FAILURE;
    }
    succeeded = count_successes(result);
    opstatus_free(result);
    printf("{\"operations\": %ld, \"ok\": %ld, \"seconds\": %.6f}\n",
           operations, succeeded, seconds);
    return succeeded == operations ? EXIT_SUCCESS : EXIT_FAILURE;
}

static void print_usage(void)
{
    fprintf(stderr,
            "Usage: bench_opstatus seq NAMESPACE NAME OPERATION_ID WARMUP COUNT\n"
            "       bench_opstatus threads THREADS NAMESPACE NAME OPERATION_ID "
            "WARMUP COUNT\n"
            "       bench_opstatus scaling NAMESPACE NAME OPERATION_ID WARMUP "
            "CALLS PAIRS\n"
            "       bench_opstatus rss NAMESPACE NAME OPERATION_ID FIRST TOTAL\n"
            "       bench_opstatus many NAMESPACE NAME OPERATION_ID OPERATIONS "
            "MAX_CONNECTIONS\n");
}

/* Returns the value of a decimal count argument, or -1 when it is invalid. */
static long parse_count(const char *text)
{
    char *end = NULL;
    long value = strtol(text, &end, 10);

    if (end == text || *end != '\0' || value < 0) {
        return -1;
    }
    return value;
}

int main(int argc, char **argv)
{
    struct operation operation;
    opstatus_client *client;
    const char *mode = argc > 1 ? argv[1] : "";
    int first_operation_argument = strcmp(mode, "threads") == 0 ? 3 : 2;
    long numbers[3] = { -1, -1, -1 };
    int exit_status;
    int index;

    if (!((argc == 7 && (strcmp(mode, "seq") == 0 ||
                         strcmp(mode, "rss") == 0 ||
                         strcmp(mode, "many") == 0)) ||
          (argc == 8 && (strcmp(mode, "threads") == 0 ||
                         strcmp(mode, "scaling") == 0)))) {
        print_usage();
        return EXIT_USAGE;
    }
    operation.ns = argv[first_operation_argument];
    operation.name = argv[first_operation_argument + 1];
    operation.id = parse_count(argv[first_operation_argument + 2]);
    if (operation.id < 0) {
        fprintf(stderr, "bench_opstatus: invalid OPERATION_ID '%s': expected a "
                "non-negative decimal integer\n", argv[first_operation_argument + 2]);
        return EXIT_USAGE;
    }
    for (index = 0; index < 2; index++) {
        numbers[index] = parse_count(argv[first_operation_argument + 3 + index]);
    }
    if (strcmp(mode, "threads") == 0) {
        numbers[2] = parse_count(argv[2]);
        if (numbers[2] < 1 || numbers[2] > MAX_THREADS) {
            print_usage();
            return EXIT_USAGE;
        }
    }
    if (strcmp(mode, "scaling") == 0) {
        numbers[2] = parse_count(argv[7]);
        if (scaling_check_arguments(numbers[0], numbers[1], numbers[2]) != 0) {
            return EXIT_USAGE;
        }
    }
    if (numbers[0] < 0 || numbers[1] < 0) {
        print_usage();
        return EXIT_USAGE;
    }

    client = create_client();
    if (client == NULL) {
        return EXIT_FAILURE;
    }
    if (strcmp(mode, "seq") == 0) {
        exit_status = command_seq(client, &operation, numbers[0], numbers[1]);
    } else if (strcmp(mode, "threads") == 0) {
        exit_status = command_threads(client, &operation, (int)numbers[2],
                                      numbers[0], numbers[1]);
    } else if (strcmp(mode, "scaling") == 0) {
        struct scaling_context shared = { client, &operation };

        exit_status = scaling_main(scaling_calls, &shared, numbers[0], numbers[1],
                                   numbers[2], monotonic_seconds, cpu_seconds);
    } else if (strcmp(mode, "rss") == 0) {
        exit_status = numbers[1] > numbers[0]
                          ? command_rss(client, &operation, numbers[0],
                                        numbers[1])
                          : EXIT_USAGE;
    } else {
        exit_status = command_many(client, &operation, numbers[0], numbers[1]);
    }
    opstatus_client_free(client);
    return exit_status;
}
