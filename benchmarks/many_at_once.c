/*
 * Benchmark: the status of many operations, read one request after another
 * with opstatus_get_status() and in one opstatus_get_status_many_json()
 * call over several connections.
 *
 * Usage: many_at_once [OPERATION_COUNT [LATENCY_MS [CONNECTIONS...]]]
 *
 *   OPERATION_COUNT  status requests per measurement (default 200)
 *   LATENCY_MS       the server's added latency per response, as given to
 *                    the emulator's --latency-ms (default 50). The
 *                    benchmark only prints it and does not measure it.
 *   CONNECTIONS      max_connections values of the many-call (default
 *                    8 16 32)
 *
 * The client reads F5XC_API_URL, F5XC_API_TOKEN and F5XC_CACERT, as
 * Tests/Emulator/with-emulator exports them. The benchmark starts a few
 * purges on the emulator's seeded load balancer demo/shop-frontend and
 * cycles through those operations and the seeded operation 101, so ids
 * repeat across the requests. benchmarks/run-many-at-once builds and runs it.
 *
 * The sequential time is measured once. Each many-call is run several times
 * and its median is printed, and every many-result must be ok with the
 * requested id, or the benchmark fails with exit status 1.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "opstatus.h"

#define PROGRAM_NAME "many_at_once"

#define NAMESPACE "demo"
#define LOAD_BALANCER "shop-frontend"
/* The emulator's seeded operation on demo/shop-frontend. */
#define SEEDED_OPERATION_ID 101
/* Purges started before measuring. With the seeded operation, they give
 * the distinct ids that the requests cycle through. */
#define PURGE_COUNT 3
#define DISTINCT_OPERATIONS (PURGE_COUNT + 1)
/* Runs of each many-call, of which the median is printed. */
#define MANY_RUNS 3
#define MAX_CONNECTION_SETTINGS 16

static const long default_connections[] = { 8, 16, 32 };

static double monotonic_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec * 1000.0 + (double)now.tv_nsec / 1.0e6;
}

static void print_library_error(const char *action, opstatus_result code)
{
    const opstatus_error *error = opstatus_last_error();

    fprintf(stderr, "%s: %s failed: %s: %s\n", PROGRAM_NAME, action,
            opstatus_strerror(code), error->message);
}

/* Parses a decimal integer from minimum to maximum, or returns -1. */
static long parse_count(const char *text, long minimum, long maximum)
{
    char *end = NULL;
    long value;

    if (text[0] < '0' || text[0] > '9') {
        return -1;
    }
    errno = 0;
    value = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < minimum || value > maximum) {
        return -1;
    }
    return value;
}

/*
 * Starts PURGE_COUNT purges and fills ids with their operation ids and the
 * seeded operation. Returns 0, or -1 after printing the error.
 */
static int create_operations(opstatus_client *client,
                             json_int_t ids[DISTINCT_OPERATIONS])
{
    int index;

    ids[0] = SEEDED_OPERATION_ID;
    for (index = 0; index < PURGE_COUNT; index++) {
        char request[256];
        char *response = NULL;
        json_t *parsed;
        opstatus_result code;

        snprintf(request, sizeof request,
                 "{\"namespace\": \"" NAMESPACE "\", \"name\": \""
                 LOAD_BALANCER "\", \"url\": \"/benchmark/%d.css\", "
                 "\"hard_purge\": {}}", index + 1);
        code = opstatus_purge_json(&response, client, request);
        if (code != OPSTATUS_OK) {
            print_library_error("starting a purge", code);
            return -1;
        }
        parsed = json_loads(response, 0, NULL);
        opstatus_free(response);
        if (!json_is_integer(json_object_get(parsed, "purge_request_id"))) {
            fprintf(stderr, "%s: the purge response has no integer "
                    "purge_request_id\n", PROGRAM_NAME);
            json_decref(parsed);
            return -1;
        }
        ids[index + 1] =
            json_integer_value(json_object_get(parsed, "purge_request_id"));
        json_decref(parsed);
    }
    return 0;
}

/*
 * Reads the status of operation_count operations one after another and
 * stores the time taken in elapsed_ms. Returns 0, or -1 on an error.
 */
static int measure_sequential(opstatus_client *client,
                              const json_int_t ids[DISTINCT_OPERATIONS],
                              long operation_count, double *elapsed_ms)
{
    double started = monotonic_ms();
    long index;

    for (index = 0; index < operation_count; index++) {
        char *status = NULL;
        opstatus_result code;

        code = opstatus_get_status(&status, client, NAMESPACE, LOAD_BALANCER,
                                   ids[index % DISTINCT_OPERATIONS]);
        if (code != OPSTATUS_OK) {
            print_library_error("opstatus_get_status", code);
            return -1;
        }
        opstatus_free(status);
    }
    *elapsed_ms = monotonic_ms() - started;
    return 0;
}

/* Builds the request of the many-call as JSON text, freed with free(). */
static char *build_many_request(const json_int_t ids[DISTINCT_OPERATIONS],
                                long operation_count, long max_connections)
{
    json_t *request = json_object();
    json_t *operations = json_array();
    char *text = NULL;
    long index;

    if (request == NULL || operations == NULL) {
        goto done;
    }
    for (index = 0; index < operation_count; index++) {
        json_t *operation = json_pack(
            "{s:s, s:s, s:I}", "namespace", NAMESPACE, "name", LOAD_BALANCER,
            "service_op_id", ids[index % DISTINCT_OPERATIONS]);

        if (json_array_append_new(operations, operation) != 0) {
            goto done;
        }
    }
    if (json_object_set(request, "operations", operations) != 0 ||
        json_object_set_new(request, "max_connections",
                            json_integer(max_connections)) != 0) {
        goto done;
    }
    text = json_dumps(request, JSON_COMPACT);

done:
    json_decref(operations);
    json_decref(request);
    return text;
}

/*
 * Checks that the many-result has one ok entry per operation, in order,
 * with the requested id and a status summary. Returns 0, or -1 after
 * printing the first problem.
 */
static int check_many_result(const char *text,
                             const json_int_t ids[DISTINCT_OPERATIONS],
                             long operation_count)
{
    json_t *result = json_loads(text, 0, NULL);
    const json_t *results = json_object_get(result, "results");
    long index;
    int status = 0;

    if (json_array_size(results) != (size_t)operation_count) {
        fprintf(stderr, "%s: the many-result has %lu entries, expected %ld\n",
                PROGRAM_NAME, (unsigned long)json_array_size(results),
                operation_count);
        json_decref(result);
        return -1;
    }
    for (index = 0; index < operation_count && status == 0; index++) {
        const json_t *entry = json_array_get(results, (size_t)index);
        const json_t *request = json_object_get(entry, "request");
        const json_t *summary =
            json_object_get(json_object_get(entry, "status"), "summary");
        json_int_t expected_id = ids[index % DISTINCT_OPERATIONS];

        if (!json_is_true(json_object_get(entry, "ok"))) {
            const json_t *error = json_object_get(entry, "error");

            fprintf(stderr, "%s: result %ld (operation %" JSON_INTEGER_FORMAT
                    ") is not ok: %s\n", PROGRAM_NAME, index, expected_id,
                    json_string_value(json_object_get(error, "message")));
            status = -1;
        } else if (json_integer_value(json_object_get(
                       request, "service_op_id")) != expected_id) {
            fprintf(stderr, "%s: result %ld is for operation %"
                    JSON_INTEGER_FORMAT ", expected %" JSON_INTEGER_FORMAT
                    "\n", PROGRAM_NAME, index,
                    json_integer_value(json_object_get(request,
                                                       "service_op_id")),
                    expected_id);
            status = -1;
        } else if (!json_is_object(summary)) {
            fprintf(stderr, "%s: result %ld has no status summary\n",
                    PROGRAM_NAME, index);
            status = -1;
        }
    }
    json_decref(result);
    return status;
}

static int compare_doubles(const void *left, const void *right)
{
    double a = *(const double *)left;
    double b = *(const double *)right;

    return (a > b) - (a < b);
}

/*
 * Runs the many-call MANY_RUNS times with max_connections, checks every
 * result, and stores the median time in median_ms. Returns 0, or -1.
 */
static int measure_many(opstatus_client *client,
                        const json_int_t ids[DISTINCT_OPERATIONS],
                        long operation_count, long max_connections,
                        double *median_ms)
{
    double times[MANY_RUNS];
    char *request = build_many_request(ids, operation_count, max_connections);
    int run;

    if (request == NULL) {
        fprintf(stderr, "%s: building the many-request failed: out of "
                "memory\n", PROGRAM_NAME);
        return -1;
    }
    for (run = 0; run < MANY_RUNS; run++) {
        char *result = NULL;
        double started = monotonic_ms();
        opstatus_result code;
        int checked;

        code = opstatus_get_status_many_json(&result, client, request);
        times[run] = monotonic_ms() - started;
        if (code != OPSTATUS_OK) {
            print_library_error("opstatus_get_status_many_json", code);
            free(request);
            return -1;
        }
        checked = check_many_result(result, ids, operation_count);
        opstatus_free(result);
        if (checked != 0) {
            free(request);
            return -1;
        }
    }
    free(request);

    qsort(times, MANY_RUNS, sizeof times[0], compare_doubles);
    *median_ms = times[MANY_RUNS / 2];
    return 0;
}

/* Prints one line comparing the sequential time with a many-call's time. */
static void print_comparison(long operation_count, long latency_ms,
                             double sequential_ms, long max_connections,
                             double many_ms)
{
    double ratio = sequential_ms / many_ms;

    printf("%ld operations, %ld ms latency: sequential %.0f ms, many "
           "(%ld connection%s) %.0f ms, ", operation_count, latency_ms,
           sequential_ms, max_connections, max_connections == 1 ? "" : "s",
           many_ms);
    if (ratio >= 1.0) {
        printf("%.1fx faster\n", ratio);
    } else {
        /* Two decimals, so that a small slowdown does not print as 1.0x. */
        printf("%.2fx slower\n", 1.0 / ratio);
    }
    fflush(stdout);
}

int main(int argc, char **argv)
{
    long operation_count = 200;
    long latency_ms = 50;
    long connections[MAX_CONNECTION_SETTINGS];
    int connection_settings = 0;
    json_int_t ids[DISTINCT_OPERATIONS];
    opstatus_client *client = NULL;
    opstatus_result code;
    double sequential_ms;
    char *warm_up = NULL;
    int exit_status = EXIT_FAILURE;
    int index;

    if (argc > 1 && (operation_count = parse_count(argv[1], 1, 100000)) < 0) {
        fprintf(stderr, "%s: invalid OPERATION_COUNT '%s': expected 1 to "
                "100000\n", PROGRAM_NAME, argv[1]);
        return 2;
    }
    if (argc > 2 && (latency_ms = parse_count(argv[2], 0, 600000)) < 0) {
        fprintf(stderr, "%s: invalid LATENCY_MS '%s': expected 0 to 600000\n",
                PROGRAM_NAME, argv[2]);
        return 2;
    }
    if (argc - 3 > MAX_CONNECTION_SETTINGS) {
        fprintf(stderr, "%s: too many CONNECTIONS values: at most %d are "
                "accepted\n", PROGRAM_NAME, MAX_CONNECTION_SETTINGS);
        return 2;
    }
    for (index = 3; index < argc; index++) {
        long value = parse_count(argv[index], 1, 256);

        if (value < 0) {
            fprintf(stderr, "%s: invalid CONNECTIONS '%s': expected 1 to "
                    "256\n", PROGRAM_NAME, argv[index]);
            return 2;
        }
        connections[connection_settings++] = value;
    }
    if (connection_settings == 0) {
        for (index = 0; index < 3; index++) {
            connections[connection_settings++] = default_connections[index];
        }
    }

    code = opstatus_client_new(&client, NULL);
    if (code != OPSTATUS_OK) {
        print_library_error("creating the client", code);
        return EXIT_FAILURE;
    }
    if (create_operations(client, ids) != 0) {
        goto cleanup;
    }

    /* Opens the first connection, so the sequential time has no TLS setup. */
    code = opstatus_get_status(&warm_up, client, NAMESPACE, LOAD_BALANCER,
                               SEEDED_OPERATION_ID);
    opstatus_free(warm_up);
    if (code != OPSTATUS_OK) {
        print_library_error("opstatus_get_status", code);
        goto cleanup;
    }

    printf("operations");
    for (index = 0; index < DISTINCT_OPERATIONS; index++) {
        printf(" %" JSON_INTEGER_FORMAT, ids[index]);
    }
    printf(" in turn; many-call times are the median of %d runs\n",
           MANY_RUNS);
    fflush(stdout);

    if (measure_sequential(client, ids, operation_count, &sequential_ms) !=
        0) {
        goto cleanup;
    }
    for (index = 0; index < connection_settings; index++) {
        double many_ms;

        if (measure_many(client, ids, operation_count, connections[index],
                         &many_ms) != 0) {
            goto cleanup;
        }
        print_comparison(operation_count, latency_ms, sequential_ms,
                         connections[index], many_ms);
    }
    exit_status = EXIT_SUCCESS;

cleanup:
    opstatus_client_free(client);
    return exit_status;
}
