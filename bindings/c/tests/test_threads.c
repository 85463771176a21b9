/*
 * Many threads sharing one opstatus client.
 *
 * Usage, under Tests/Emulator/with-emulator:
 *   test_threads [--threads N] [--calls N] [--batch] [--time-limit S]
 * Defaults: 8 threads, 2000 status calls per thread, no batch calls, and
 * a time limit of 900 s, after which the program reports a hang and exits
 * with 1.
 *
 * Before the threads start, the program starts one cache purge per thread,
 * each with its own URL ("/test-threads/<thread>") on one of the emulator's
 * seeded load balancers, so every thread owns one operation id. Each thread
 * then gets the status of its own operation over and over, through the
 * JSON-text, jansson-value and plain-argument functions in turn (with
 * --batch also opstatus_get_status_many_json() with two copies of its
 * request), and checks that every item of every result carries its operation id and
 * its URL (the emulator reports the purge target as purge.regexp). A
 * result with another thread's id or URL is a crossed result. Every 50th
 * call asks for an operation that does not exist and checks that the
 * thread's own last error names the id that thread asked for.
 *
 * Meanwhile thread 0 turns the client's log callback on and off every 100
 * calls while the other threads log through it, and a client-side rate
 * limit high enough never to delay a call makes every call take the rate
 * limiter's lock.
 *
 * Built with -fsanitize=thread against a library built with
 * -sanitize=thread, the same run checks for data races.
 *
 * The last line of output is "N passed, M failed", one test per thread
 * plus the setup. The exit status is 0 when every thread got only its own
 * results, 1 otherwise, and 2 for invalid arguments or environment.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"

#define PROGRAM_NAME "test_threads"

enum { MAX_THREADS = 64, NOT_FOUND_EVERY = 50 };

/* One of the emulator's seeded load balancers. */
struct load_balancer {
    const char *ns;
    const char *name;
    const char *kind;
};

static const struct load_balancer load_balancers[] = {
    {"demo", "shop-frontend", "http_loadbalancer"},
    {"demo", "cdn-1", "http_loadbalancer"},
    {"demo", "media-cdn", "cdn_loadbalancer"},
    {"ns1", "cdn-1", "http_loadbalancer"},
};

/* One thread's operation, its requests and the outcomes it counted. */
struct thread_work {
    pthread_t thread;
    int index;
    const struct load_balancer *load_balancer;
    int64_t operation_id;
    char url[64];
    char *request_text;
    json_t *request_value;
    /* {"operations": [request, request]}, for the batch function. */
    char *batch_text;

    long calls_made;
    long successes;
    long expected_not_found;
    long crossed_results;
    long other_failures;
    /* The first problem the thread saw, for the report. */
    char first_problem[512];
};

static opstatus_client *shared_client;
static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static long log_lines;
static long calls_per_thread = 2000;
/*
 * NOTE: with --batch, 5 or more threads calling
 * opstatus_get_status_many_json() at once on one client hang past
 * deadline_ms (2 operations each, default max_connections 8). With
 * "max_connections": 256 in the request they finish. Batch calls are
 * therefore off by default, and the time limit turns a hang into a failure.
 */
static bool use_batch;
static long time_limit_seconds = 900;
static pthread_barrier_t start_barrier;

static double monotonic_seconds(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static void note_problem(struct thread_work *work, const char *format,
                         const char *detail)
{
    if (work->first_problem[0] == '\0') {
        snprintf(work->first_problem, sizeof work->first_problem, format,
                 detail);
    }
}

/*
 * Checks that a status result belongs to the thread's own operation: at
 * least one item, every item with the thread's id and URL, and a summary
 * that counts every item. Returns false for a crossed result.
 */
static bool result_is_own(struct thread_work *work, const json_t *result)
{
    const json_t *items = json_object_get(result, "items");
    const json_t *summary = json_object_get(result, "summary");
    size_t index;
    const json_t *item;

    if (!json_is_array(items) || json_array_size(items) == 0) {
        return false;
    }
    if (json_integer_value(json_object_get(summary, "sites")) !=
        (json_int_t)json_array_size(items)) {
        return false;
    }
    json_array_foreach(items, index, item) {
        const json_t *purge = json_object_get(item, "purge");
        const char *regexp = json_string_value(json_object_get(purge, "regexp"));

        if (json_integer_value(json_object_get(item, "service_op_id")) !=
            work->operation_id) {
            return false;
        }
        if (regexp == NULL || strcmp(regexp, work->url) != 0) {
            return false;
        }
    }
    return true;
}

/* Checks a batch result for two copies of the thread's own request. */
static bool batch_is_own(struct thread_work *work, const json_t *result)
{
    const json_t *results = json_object_get(result, "results");
    size_t index;
    const json_t *entry;

    if (!json_is_array(results) || json_array_size(results) != 2) {
        return false;
    }
    json_array_foreach(results, index, entry) {
        if (!json_is_true(json_object_get(entry, "ok")) ||
            !result_is_own(work, json_object_get(entry, "status"))) {
            return false;
        }
    }
    return true;
}

/*
 * Gets the thread's own status through one of the functions in turn: JSON
 * text, jansson value, plain arguments, and with --batch a batch of two.
 */
static void call_own_status(struct thread_work *work, long call)
{
    opstatus_result result;
    json_t *value = NULL;
    char *text = NULL;
    const struct load_balancer *load_balancer = work->load_balancer;
    int variant = (int)(call % (use_batch ? 4 : 3));
    bool own;

    /* The plain-argument function uses the client's resource_kind,
     * http_loadbalancer, so the CDN load balancer's thread uses JSON. */
    if (variant == 2 && strcmp(load_balancer->kind, "http_loadbalancer") != 0) {
        variant = 0;
    }
    switch (variant) {
    case 0:
        result = opstatus_get_status_json(&text, shared_client,
                                          work->request_text);
        break;
    case 1:
        result = opstatus_get_status_value(&value, shared_client,
                                           work->request_value);
        break;
    case 2:
        result = opstatus_get_status(&text, shared_client, load_balancer->ns,
                                     load_balancer->name, work->operation_id);
        break;
    default:
        result = opstatus_get_status_many_json(&text, shared_client,
                                               work->batch_text);
        break;
    }

    if (result != OPSTATUS_OK) {
        work->other_failures++;
        note_problem(work, "a status call failed: %s",
                     opstatus_last_error()->message);
        return;
    }
    if (opstatus_last_error()->code != OPSTATUS_OK) {
        work->other_failures++;
        note_problem(work, "%s", "the last error was not cleared by a success");
    }
    if (text != NULL) {
        value = json_loads(text, 0, NULL);
        opstatus_free(text);
    }
    own = value != NULL && (variant == 3 ? batch_is_own(work, value)
                                         : result_is_own(work, value));
    if (own) {
        work->successes++;
    } else {
        char *result_text = value != NULL ? json_dumps(value, JSON_COMPACT) : NULL;

        work->crossed_results++;
        note_problem(work, "a result that is not the thread's own: %.400s",
                     result_text != NULL ? result_text : "(not JSON)");
        free(result_text);
    }
    json_decref(value);
}

/*
 * Asks for an operation id that exists nowhere, unique to the thread and
 * call, and checks that the thread's last error names that id.
 */
static void call_missing_status(struct thread_work *work, long call)
{
    const struct load_balancer *load_balancer = work->load_balancer;
    char *text = NULL;
    char request[256];
    char expected[64];
    int64_t missing_id = 4000000000LL + (int64_t)work->index * 100000 + call;
    opstatus_result result;
    const opstatus_error *error;

    snprintf(request, sizeof request,
             "{\"namespace\": \"%s\", \"name\": \"%s\", \"kind\": \"%s\", "
             "\"service_op_id\": %" PRId64 "}",
             load_balancer->ns, load_balancer->name, load_balancer->kind,
             missing_id);
    snprintf(expected, sizeof expected, "service operation %" PRId64 " ",
             missing_id);
    result = opstatus_get_status_json(&text, shared_client, request);
    error = opstatus_last_error();
    if (result == OPSTATUS_ENOTFOUND && text == NULL &&
        error->code == OPSTATUS_ENOTFOUND &&
        strstr(error->message, expected) != NULL) {
        work->expected_not_found++;
        return;
    }
    work->crossed_results++;
    note_problem(work, "an unknown operation gave another error: %s",
                 error->message);
    opstatus_free(text);
}

static void count_log_line(opstatus_log_level level, const char *message,
                           void *payload)
{
    (void)level;
    (void)payload;
    if (message[0] == '\0') {
        return;
    }
    pthread_mutex_lock(&log_mutex);
    log_lines++;
    pthread_mutex_unlock(&log_mutex);
}

/* Turns the log callback on for even hundreds of calls, off for odd. */
static void toggle_log_callback(struct thread_work *work, long call)
{
    bool on = (call / 100) % 2 == 0;
    opstatus_result result = opstatus_set_log_callback(
        shared_client, OPSTATUS_LOG_DEBUG, on ? count_log_line : NULL, NULL);

    if (result != OPSTATUS_OK) {
        work->other_failures++;
        note_problem(work, "opstatus_set_log_callback failed: %s",
                     opstatus_last_error()->message);
    }
}

static void *run_thread(void *argument)
{
    struct thread_work *work = argument;
    long call;

    pthread_barrier_wait(&start_barrier);
    for (call = 0; call < calls_per_thread; call++) {
        if (work->index == 0 && call % 100 == 0) {
            toggle_log_callback(work, call);
        }
        if (call % NOT_FOUND_EVERY == NOT_FOUND_EVERY - 1) {
            call_missing_status(work, call);
        } else {
            call_own_status(work, call);
        }
        work->calls_made++;
    }
    return NULL;
}

/* Starts the purge that gives a thread its own operation id. */
static bool start_own_purge(struct thread_work *work)
{
    const struct load_balancer *load_balancer = work->load_balancer;
    json_t *request = json_pack("{s:s, s:s, s:s, s:s, s:{}}", "namespace",
                                load_balancer->ns, "name", load_balancer->name,
                                "kind", load_balancer->kind, "url", work->url,
                                "hard_purge");
    json_t *response = NULL;
    opstatus_result result =
        opstatus_purge_value(&response, shared_client, request);

    json_decref(request);
    if (!CHECK_RESULT(result, OPSTATUS_OK)) {
        return false;
    }
    work->operation_id =
        json_integer_value(json_object_get(response, "purge_request_id"));
    json_decref(response);

    work->request_value = json_pack("{s:s, s:s, s:s, s:I}", "namespace",
                                    load_balancer->ns, "name",
                                    load_balancer->name, "kind",
                                    load_balancer->kind, "service_op_id",
                                    (json_int_t)work->operation_id);
    work->request_text = work->request_value != NULL
                             ? json_dumps(work->request_value, JSON_COMPACT)
                             : NULL;
    if (work->request_text != NULL) {
        size_t size = 2 * strlen(work->request_text) + 32;

        work->batch_text = malloc(size);
        if (work->batch_text != NULL) {
            snprintf(work->batch_text, size, "{\"operations\": [%s, %s]}",
                     work->request_text, work->request_text);
        }
    }
    return CHECK(work->operation_id > 0) && CHECK(work->request_text != NULL) &&
           CHECK(work->batch_text != NULL);
}

/* Ends a run that passed the time limit; only async-signal-safe calls. */
static void report_hang(int signal_number)
{
    static const char message[] =
        PROGRAM_NAME ": the calls did not finish within the time limit; "
        "a call hangs\n0 passed, 1 failed\n";

    (void)signal_number;
    (void)write(STDOUT_FILENO, message, sizeof message - 1);
    _exit(1);
}

static bool parse_count(const char *text, long maximum, long *out)
{
    char *end;
    long value = strtol(text, &end, 10);

    if (*text == '\0' || *end != '\0' || value < 1 || value > maximum) {
        return false;
    }
    *out = value;
    return true;
}

int main(int argc, char **argv)
{
    static struct thread_work works[MAX_THREADS];
    long thread_count = 8;
    long index;
    int argument;
    double started;
    double elapsed;
    bool setup_ok = true;
    char name[32];

    for (argument = 1; argument < argc; argument++) {
        bool valid = argument + 1 < argc;

        if (strcmp(argv[argument], "--batch") == 0) {
            use_batch = true;
        } else if (valid && strcmp(argv[argument], "--time-limit") == 0) {
            valid = parse_count(argv[++argument], 86400, &time_limit_seconds);
        } else if (valid && strcmp(argv[argument], "--threads") == 0) {
            valid = parse_count(argv[++argument], MAX_THREADS, &thread_count);
        } else if (valid && strcmp(argv[argument], "--calls") == 0) {
            valid = parse_count(argv[++argument], 10000000, &calls_per_thread);
        } else {
            valid = false;
        }
        if (!valid) {
            fprintf(stderr,
                    "usage: " PROGRAM_NAME " [--threads 1-%d] [--calls N] "
                    "[--batch] [--time-limit SECONDS]\n",
                    MAX_THREADS);
            return 2;
        }
    }
    if (!setup_test_environment(PROGRAM_NAME)) {
        return 2;
    }
    shared_client = new_test_client("{\"rate_per_second\": 100000}");
    setup_ok = shared_client != NULL && emulator_reset();

    for (index = 0; setup_ok && index < thread_count; index++) {
        struct thread_work *work = &works[index];
        size_t balancer_count = sizeof load_balancers / sizeof load_balancers[0];

        work->index = (int)index;
        work->load_balancer = &load_balancers[(size_t)index % balancer_count];
        snprintf(work->url, sizeof work->url, "/test-threads/%ld", index);
        setup_ok = start_own_purge(work);
    }
    record_test("setup", setup_ok);

    if (setup_ok) {
        signal(SIGALRM, report_hang);
        alarm((unsigned)time_limit_seconds);
        pthread_barrier_init(&start_barrier, NULL, (unsigned)thread_count);
        started = monotonic_seconds();
        for (index = 0; index < thread_count; index++) {
            pthread_create(&works[index].thread, NULL, run_thread, &works[index]);
        }
        for (index = 0; index < thread_count; index++) {
            pthread_join(works[index].thread, NULL);
        }
        elapsed = monotonic_seconds() - started;
        pthread_barrier_destroy(&start_barrier);
        alarm(0);

        printf("%ld threads x %ld calls in %.1f s (%.0f calls/s), "
               "%ld log lines\n",
               thread_count, calls_per_thread, elapsed,
               (double)(thread_count * calls_per_thread) / elapsed, log_lines);
        record_test("log callback called", log_lines > 0);
    }

    for (index = 0; index < thread_count; index++) {
        struct thread_work *work = &works[index];

        if (setup_ok) {
            bool own_only = work->crossed_results == 0 &&
                            work->other_failures == 0 &&
                            work->calls_made == calls_per_thread;

            printf("thread %ld: operation %" PRId64 ", %ld own results, "
                   "%ld expected not-found errors, %ld crossed, %ld failed\n",
                   index, work->operation_id,
                   work->successes, work->expected_not_found,
                   work->crossed_results, work->other_failures);
            if (!own_only) {
                fprintf(stderr, "thread %ld: %s\n", index, work->first_problem);
            }
            snprintf(name, sizeof name, "thread %ld", index);
            record_test(name, own_only);
        }
        json_decref(work->request_value);
        free(work->request_text);
        free(work->batch_text);
    }
    opstatus_client_free(shared_client);
    teardown_test_environment();
    return finish_tests();
}
