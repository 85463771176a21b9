/*
 * floor: a minimal client for an operation's status, the baseline of the
 * benchmarks. It sends the status request with one
 * libcurl easy handle per thread (so the connection is kept alive between
 * calls) and parses the response with jansson's json_loadb(). It checks the
 * HTTP status and that the body parses, and does nothing else: no summary,
 * no validation of the fields, no retries.
 *
 * Usage:
 *   floor seq NAMESPACE NAME OPERATION_ID WARMUP COUNT
 *       WARMUP untimed calls, then COUNT timed calls on one connection.
 *   floor threads THREADS NAMESPACE NAME OPERATION_ID WARMUP COUNT
 *       the same on THREADS threads at once, each with its own handle.
 *   floor scaling NAMESPACE NAME OPERATION_ID WARMUP CALLS PAIRS
 *       one thread against two threads with a handle each, in alternating
 *       phases of CALLS calls; see scaling.h.
 *   floor status NAMESPACE NAME OPERATION_ID
 *       one call, then one line per site: site and status.
 *   floor parse FILE COUNT
 *       json_loadb() on the bytes of FILE, COUNT times, with no network.
 *
 * Environment (as for the opstatus-status example):
 *   F5XC_API_URL    base URL such as https://127.0.0.1:8443, without /api
 *   F5XC_API_TOKEN  sent as "Authorization: APIToken <token>"
 *   F5XC_CACERT     PEM file of the CA to trust (optional)
 *
 * The timed modes print one JSON object on stdout: {"calls": N,
 * "seconds": S, "cpu_seconds": C}, where C is the CPU time of the whole
 * process. Exit status: 0 on success, 1 when a call failed, 2 for a usage
 * error.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "scaling.h"

#define EXIT_USAGE 2
#define MAX_THREADS 64

/* Settings that every thread reads. They do not change once threads run. */
struct request_settings {
    char url[1024];
    char authorization[1024];
    const char *ca_file;
    char *body;
};

/* Response body of the last call. Each handle reuses its buffer. */
struct response_buffer {
    char *data;
    size_t length;
    size_t capacity;
};

struct connection {
    CURL *handle;
    struct curl_slist *headers;
    struct response_buffer response;
};

struct thread_job {
    const struct request_settings *settings;
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

static size_t append_response(char *bytes, size_t size, size_t count,
                              void *userdata)
{
    struct response_buffer *buffer = userdata;
    size_t added = size * count;

    if (buffer->length + added > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity : 16384;
        char *data;

        while (capacity < buffer->length + added) {
            capacity *= 2;
        }
        data = realloc(buffer->data, capacity);
        if (data == NULL) {
            return 0; /* libcurl fails the transfer with CURLE_WRITE_ERROR. */
        }
        buffer->data = data;
        buffer->capacity = capacity;
    }
    memcpy(buffer->data + buffer->length, bytes, added);
    buffer->length += added;
    return added;
}

static int read_settings(struct request_settings *settings, const char *ns,
                         const char *name, const char *operation_id)
{
    const char *api_url = getenv("F5XC_API_URL");
    const char *token = getenv("F5XC_API_TOKEN");
    const char *ca_file = getenv("F5XC_CACERT");
    json_t *request;
    char *end = NULL;
    long long id = strtoll(operation_id, &end, 10);

    if (api_url == NULL || token == NULL || api_url[0] == '\0' ||
        token[0] == '\0') {
        fprintf(stderr, "floor: F5XC_API_URL or F5XC_API_TOKEN is not set. "
                "Set them to the server's base URL and API token.\n");
        return -1;
    }
    if (end == operation_id || *end != '\0' || id < 0) {
        fprintf(stderr, "floor: invalid OPERATION_ID '%s': expected a "
                "non-negative decimal integer\n", operation_id);
        return -1;
    }
    snprintf(settings->url, sizeof settings->url,
             "%s/api/cdn/namespaces/%s/http_loadbalancer/"
             "get-service-operation-status", api_url, ns);
    snprintf(settings->authorization, sizeof settings->authorization,
             "Authorization: APIToken %s", token);
    settings->ca_file = (ca_file != NULL && ca_file[0] != '\0') ? ca_file
                                                               : NULL;

    request = json_pack("{s:s, s:s, s:I}", "namespace", ns, "name", name,
                        "service_op_id", (json_int_t)id);
    if (request == NULL) {
        fprintf(stderr, "floor: building the request body failed\n");
        return -1;
    }
    settings->body = json_dumps(request, JSON_COMPACT);
    json_decref(request);
    return settings->body == NULL ? -1 : 0;
}

static int open_connection(struct connection *connection,
                           const struct request_settings *settings)
{
    memset(connection, 0, sizeof *connection);
    connection->handle = curl_easy_init();
    if (connection->handle == NULL) {
        return -1;
    }
    connection->headers =
        curl_slist_append(NULL, settings->authorization);
    connection->headers = curl_slist_append(connection->headers,
                                            "Content-Type: application/json");
    connection->headers = curl_slist_append(connection->headers,
                                            "Accept: application/json");

    curl_easy_setopt(connection->handle, CURLOPT_URL, settings->url);
    curl_easy_setopt(connection->handle, CURLOPT_HTTPHEADER,
                     connection->headers);
    curl_easy_setopt(connection->handle, CURLOPT_POSTFIELDS, settings->body);
    curl_easy_setopt(connection->handle, CURLOPT_WRITEFUNCTION,
                     append_response);
    curl_easy_setopt(connection->handle, CURLOPT_WRITEDATA,
                     &connection->response);
    curl_easy_setopt(connection->handle, CURLOPT_NOSIGNAL, 1L);
    if (settings->ca_file != NULL) {
        curl_easy_setopt(connection->handle, CURLOPT_CAINFO,
                         settings->ca_file);
    }
    return 0;
}

static void close_connection(struct connection *connection)
{
    curl_easy_cleanup(connection->handle);
    curl_slist_free_all(connection->headers);
    free(connection->response.data);
}

/*
 * Sends one request and parses the response. Returns the parsed body (a
 * new reference) or NULL after printing why the call failed.
 */
static json_t *fetch_status(struct connection *connection)
{
    CURLcode code;
    long http_status = 0;
    json_t *parsed;
    json_error_t error;

    connection->response.length = 0;
    code = curl_easy_perform(connection->handle);
    if (code != CURLE_OK) {
        fprintf(stderr, "floor: request failed: %s\n",
                curl_easy_strerror(code));
        return NULL;
    }
    curl_easy_getinfo(connection->handle, CURLINFO_RESPONSE_CODE,
                      &http_status);
    if (http_status != 200) {
        fprintf(stderr, "floor: expected HTTP 200, got %ld\n", http_status);
        return NULL;
    }
    parsed = json_loadb(connection->response.data, connection->response.length,
                        0, &error);
    if (parsed == NULL) {
        fprintf(stderr, "floor: invalid JSON response: %s\n", error.text);
    }
    return parsed;
}

/* Sends count calls, and sets *failed and stops at the first failure. */
static void run_calls(struct connection *connection, long count, int *failed)
{
    long call;

    for (call = 0; call < count; call++) {
        json_t *parsed = fetch_status(connection);

        if (parsed == NULL) {
            *failed = 1;
            return;
        }
        json_decref(parsed);
    }
}

/*
 * Opens a connection and sends the warmup calls, waits at the barrier until
 * every thread is warm, then sends the timed calls.
 */
static void *run_thread(void *argument)
{
    struct thread_job *job = argument;
    struct connection connection;
    int opened = open_connection(&connection, job->settings) == 0;

    if (!opened) {
        job->failed = 1;
    } else {
        run_calls(&connection, job->warmup, &job->failed);
    }
    pthread_barrier_wait(job->ready);
    if (opened && !job->failed) {
        run_calls(&connection, job->count, &job->failed);
    }
    if (opened) {
        close_connection(&connection);
    }
    return NULL;
}

/* The scaling mode's state: one connection per worker, opened by the worker. */
struct scaling_connections {
    const struct request_settings *settings;
    struct connection connections[2];
    int opened[2];
};

/* The scaling mode's calls: each worker uses its own connection. */
static int scaling_calls(void *context, int worker, long count)
{
    struct scaling_connections *state = context;
    int failed = 0;

    if (!state->opened[worker]) {
        if (open_connection(&state->connections[worker], state->settings) != 0) {
            return -1;
        }
        state->opened[worker] = 1;
    }
    run_calls(&state->connections[worker], count, &failed);
    return failed ? -1 : 0;
}

static int command_scaling(const struct request_settings *settings,
                           long warmup, long calls, long pairs)
{
    struct scaling_connections state;
    int exit_status;
    int index;

    memset(&state, 0, sizeof state);
    state.settings = settings;
    exit_status = scaling_main(scaling_calls, &state, warmup, calls, pairs,
                               monotonic_seconds, cpu_seconds);
    for (index = 0; index < 2; index++) {
        if (state.opened[index]) {
            close_connection(&state.connections[index]);
        }
    }
    return exit_status;
}

static int command_seq(const struct request_settings *settings, long warmup,
                       long count)
{
    struct connection connection;
    int failed = 0;
    double start;
    double start_cpu;
    double seconds;
    double cpu;

    if (open_connection(&connection, settings) != 0) {
        return EXIT_FAILURE;
    }
    run_calls(&connection, warmup, &failed);
    start = monotonic_seconds();
    start_cpu = cpu_seconds();
    if (!failed) {
        run_calls(&connection, count, &failed);
    }
    seconds = monotonic_seconds() - start;
    cpu = cpu_seconds() - start_cpu;
    close_connection(&connection);
    if (failed) {
        return EXIT_FAILURE;
    }
    print_timing(count, seconds, cpu);
    return EXIT_SUCCESS;
}

/*
 * Measures the wall time of count calls on each of thread_count threads.
 * The clock starts when every thread has finished its warmup calls, so
 * connection setup is not timed.
 */
static int command_threads(const struct request_settings *settings,
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
        jobs[index].settings = settings;
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

/* Returns the string member key of object, or "-" when there is none. */
static const char *string_member(const json_t *object, const char *key)
{
    const char *value = json_string_value(json_object_get(object, key));

    return value != NULL ? value : "-";
}

static int command_status(const struct request_settings *settings)
{
    struct connection connection;
    json_t *parsed;
    json_t *items;
    size_t index;
    json_t *item;

    if (open_connection(&connection, settings) != 0) {
        return EXIT_FAILURE;
    }
    parsed = fetch_status(&connection);
    close_connection(&connection);
    if (parsed == NULL) {
        return EXIT_FAILURE;
    }
    items = json_object_get(parsed, "items");
    json_array_foreach(items, index, item) {
        json_t *purge = json_object_get(item, "purge");

        printf("%s %s\n", string_member(purge, "site"),
               string_member(item, "status"));
    }
    json_decref(parsed);
    return EXIT_SUCCESS;
}

static int command_parse(const char *path, long count)
{
    FILE *file = fopen(path, "rb");
    char *data;
    long size;
    long round;
    double start;
    double start_cpu;
    double seconds;

    if (file == NULL) {
        fprintf(stderr, "floor: opening %s failed\n", path);
        return EXIT_FAILURE;
    }
    if (fseek(file, 0, SEEK_END) != 0 || (size = ftell(file)) < 0 ||
        fseek(file, 0, SEEK_SET) != 0 ||
        (data = malloc((size_t)size + 1)) == NULL ||
        fread(data, 1, (size_t)size, file) != (size_t)size) {
        fprintf(stderr, "floor: reading %s failed\n", path);
        fclose(file);
        return EXIT_FAILURE;
    }
    fclose(file);

    start = monotonic_seconds();
    start_cpu = cpu_seconds();
    for (round = 0; round < count; round++) {
        json_error_t error;
        json_t *parsed = json_loadb(data, (size_t)size, 0, &error);

        if (parsed == NULL) {
            fprintf(stderr, "floor: %s is not valid JSON: %s\n", path,
                    error.text);
            return EXIT_FAILURE;
        }
        json_decref(parsed);
    }
    seconds = monotonic_seconds() - start;
    print_timing(count, seconds, cpu_seconds() - start_cpu);
    free(data);
    return EXIT_SUCCESS;
}

static void print_usage(void)
{
    fprintf(stderr,
            "Usage: floor seq NAMESPACE NAME OPERATION_ID WARMUP COUNT\n"
            "       floor threads THREADS NAMESPACE NAME OPERATION_ID WARMUP COUNT\n"
            "       floor scaling NAMESPACE NAME OPERATION_ID WARMUP CALLS PAIRS\n"
            "       floor status NAMESPACE NAME OPERATION_ID\n"
            "       floor parse FILE COUNT\n");
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
    struct request_settings settings;
    int exit_status;

    if (argc == 4 && strcmp(argv[1], "parse") == 0) {
        long count = parse_count(argv[3]);

        if (count < 1) {
            print_usage();
            return EXIT_USAGE;
        }
        return command_parse(argv[2], count);
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    memset(&settings, 0, sizeof settings);
    if (argc == 7 && strcmp(argv[1], "seq") == 0) {
        long warmup = parse_count(argv[5]);
        long count = parse_count(argv[6]);

        if (warmup < 0 || count < 1) {
            print_usage();
            return EXIT_USAGE;
        }
        if (read_settings(&settings, argv[2], argv[3], argv[4]) != 0) {
            return EXIT_USAGE;
        }
        exit_status = command_seq(&settings, warmup, count);
    } else if (argc == 8 && strcmp(argv[1], "threads") == 0) {
        long thread_count = parse_count(argv[2]);
        long warmup = parse_count(argv[6]);
        long count = parse_count(argv[7]);

        if (thread_count < 1 || thread_count > MAX_THREADS || warmup < 0 ||
            count < 1) {
            print_usage();
            return EXIT_USAGE;
        }
        if (read_settings(&settings, argv[3], argv[4], argv[5]) != 0) {
            return EXIT_USAGE;
        }
        exit_status = command_threads(&settings, (int)thread_count, warmup,
                                      count);
    } else if (argc == 8 && strcmp(argv[1], "scaling") == 0) {
        long warmup = parse_count(argv[5]);
        long calls = parse_count(argv[6]);
        long pairs = parse_count(argv[7]);

        if (scaling_check_arguments(warmup, calls, pairs) != 0) {
            print_usage();
            return EXIT_USAGE;
        }
        if (read_settings(&settings, argv[2], argv[3], argv[4]) != 0) {
            return EXIT_USAGE;
        }
        exit_status = command_scaling(&settings, warmup, calls, pairs);
    } else if (argc == 5 && strcmp(argv[1], "status") == 0) {
        if (read_settings(&settings, argv[2], argv[3], argv[4]) != 0) {
            return EXIT_USAGE;
        }
        exit_status = command_status(&settings);
    } else {
        print_usage();
        return EXIT_USAGE;
    }

    free(settings.body);
    curl_global_cleanup();
    return exit_status;
}
