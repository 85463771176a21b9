/*
 * Every opstatus_result the library can return, each triggered on purpose.
 *
 * Usage, under Tests/Emulator/with-emulator (without --plain-http, since
 * one test needs a TLS certificate that the system does not trust):
 *   test_error_paths
 *
 * The emulator's faults supply the HTTP statuses and the broken responses.
 * Each test checks the code a function returned, that opstatus_last_error()
 * and opstatus_last_error_json() agree with it, and that out-parameters
 * are NULL after a failure. The last test checks that every code from
 * OPSTATUS_OK to OPSTATUS_EINTERNAL was returned by some test, so a code
 * that no test reaches any more fails the run.
 *
 * Two codes need more than a fault:
 *   - OPSTATUS_ENOMEM: jansson's allocator is replaced with one that fails
 *     the n-th allocation, for every n in turn, while the library runs a
 *     call. Every such call must return a code, never crash, and leave the
 *     out-parameter NULL on failure. Allocations inside jansson's parser
 *     are left alone, because jansson 2.14 itself writes out of bounds when
 *     one fails there. To pause the failures around the real functions,
 *     this program defines json_loadb() and json_loads(), and the
 *     library's calls bind to those definitions. The sweep runs in a child process, so that a crash,
 *     a leak report of LeakSanitizer or valgrind at the child's exit, or a
 *     failed check there fails this one test.
 *   - OPSTATUS_EINTERNAL: a key password longer than libcurl accepts for
 *     any string option (8,000,000 bytes in libcurl 7.88) makes setting up
 *     the transfer fail. The test runs in a child process, so a crash
 *     there fails that test without ending the others.
 *
 * The last line of output is "N passed, M failed"; the exit status is 0
 * when every test passed, 1 when one failed, 2 when the environment is
 * incomplete.
 */
/* For RTLD_NEXT. */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"

#define PROGRAM_NAME "test_error_paths"

enum { RESULT_COUNT = OPSTATUS_EINTERNAL + 1 };

/* The codes that some check saw returned as expected. */
static bool code_returned[RESULT_COUNT];

static const char *const status_request =
    "{\"namespace\": \"demo\", \"name\": \"shop-frontend\", "
    "\"service_op_id\": 101}";

/*
 * Checks a call's code as CHECK_RESULT does, records the code as returned,
 * and checks that the out-parameter is NULL after a failure.
 */
static bool expect_result_at(const char *file, int line, const char *call_text,
                             opstatus_result actual, opstatus_result expected,
                             const void *out)
{
    bool ok = check_result_at(file, line, call_text, actual, expected);

    if (ok && (size_t)expected < RESULT_COUNT) {
        code_returned[expected] = true;
    }
    if (actual != OPSTATUS_OK && out != NULL) {
        report_failure(file, line, "%s failed but left its out-parameter set",
                       call_text);
        ok = false;
    }
    return ok;
}

#define EXPECT(call, expected, out) \
    expect_result_at(__FILE__, __LINE__, #call, (call), (expected), (out))

/* Runs a status request through opstatus_get_status_json() and checks the
 * code; returns the message of the last error for further checks. */
static const char *expect_status_at(const char *file, int line,
                                    opstatus_client *client,
                                    opstatus_result expected)
{
    char *out = NULL;
    opstatus_result result = opstatus_get_status_json(&out, client, status_request);

    expect_result_at(file, line, "opstatus_get_status_json", result, expected,
                     result == OPSTATUS_OK ? NULL : out);
    opstatus_free(out);
    return opstatus_last_error()->message;
}

#define EXPECT_STATUS(client, expected) \
    expect_status_at(__FILE__, __LINE__, (client), (expected))

/* A client that makes one attempt per call, so a fault decides the code. */
static opstatus_client *new_single_attempt_client(void)
{
    return new_test_client("{\"max_attempts\": 1}");
}

/* ------------------------------------------------------------------------ */
/* OPSTATUS_OK and OPSTATUS_EINVAL                                          */
/* ------------------------------------------------------------------------ */

static void test_ok_for_seeded_operation(void)
{
    opstatus_client *client = new_test_client(NULL);

    if (client == NULL) {
        return;
    }
    emulator_reset();
    EXPECT_STATUS(client, OPSTATUS_OK);
    opstatus_client_free(client);
}

static void test_einval_for_invalid_arguments(void)
{
    opstatus_client *client = new_test_client(NULL);
    char *out = NULL;
    json_t *value = NULL;

    if (client == NULL) {
        return;
    }
    EXPECT(opstatus_get_status_json(NULL, client, status_request),
           OPSTATUS_EINVAL, NULL);
    EXPECT(opstatus_get_status_json(&out, NULL, status_request),
           OPSTATUS_EINVAL, out);
    EXPECT(opstatus_get_status_json(&out, client, "{\"namespace\": "),
           OPSTATUS_EINVAL, out);
    EXPECT(opstatus_get_status(&out, client, "demo", "", 101), OPSTATUS_EINVAL,
           out);
    EXPECT(opstatus_get_status(&out, client, "demo", "shop-frontend", -1),
           OPSTATUS_EINVAL, out);
    EXPECT(opstatus_get_status_value(&value, client, NULL), OPSTATUS_EINVAL,
           value);
    EXPECT(opstatus_purge_json(&out, client, "{\"namespace\": \"demo\"}"),
           OPSTATUS_EINVAL, out);
    EXPECT(opstatus_list_json(&out, client, "{\"namespace\": \"demo\"}"),
           OPSTATUS_EINVAL, out);
    EXPECT(opstatus_get_status_many_json(&out, client, "{\"operations\": 5}"),
           OPSTATUS_EINVAL, out);
    EXPECT(opstatus_wait_json(&out, client, "{\"growth\": 0.5}", NULL, NULL),
           OPSTATUS_EINVAL, out);
    EXPECT(opstatus_set_log_callback(client, (opstatus_log_level)11, NULL, NULL),
           OPSTATUS_EINVAL, NULL);
    EXPECT(opstatus_client_cancel(NULL), OPSTATUS_EINVAL, NULL);
    EXPECT(opstatus_client_new(NULL, "{}"), OPSTATUS_EINVAL, NULL);
    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* OPSTATUS_ECONFIG                                                         */
/* ------------------------------------------------------------------------ */

static void test_econfig_for_invalid_settings(void)
{
    opstatus_client *client = NULL;

    EXPECT(opstatus_client_new(&client, "{\"use_environment\": false}"),
           OPSTATUS_ECONFIG, client);
    CHECK_CONTAINS(opstatus_last_error()->message, "api_url");
    EXPECT(create_test_client(&client, "{\"timeout_ms\": 0}"), OPSTATUS_ECONFIG,
           client);
    EXPECT(create_test_client(&client, "{\"api_url\": \"http://example.com\"}"),
           OPSTATUS_ECONFIG, client);
    EXPECT(create_test_client(&client, "{\"ca_file\": \"/nonexistent/ca.pem\"}"),
           OPSTATUS_ECONFIG, client);
    EXPECT(create_test_client(&client, "{\"retry_base_ms\": 900, "
                                       "\"retry_max_ms\": 800}"),
           OPSTATUS_ECONFIG, client);
    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* OPSTATUS_ETRANSPORT and OPSTATUS_ETIMEOUT                                */
/* ------------------------------------------------------------------------ */

/* Returns a port on 127.0.0.1 that had no listener a moment ago, or -1. */
static int find_closed_loopback_port(void)
{
    struct sockaddr_in address;
    socklen_t length = sizeof address;
    int descriptor = socket(AF_INET, SOCK_STREAM, 0);
    int port = -1;

    if (descriptor < 0) {
        return -1;
    }
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(descriptor, (struct sockaddr *)&address, sizeof address) == 0 &&
        getsockname(descriptor, (struct sockaddr *)&address, &length) == 0) {
        port = ntohs(address.sin_port);
    }
    close(descriptor);
    return port;
}

static void test_etransport_for_refused_connection(void)
{
    char settings[160];
    opstatus_client *client;
    int port = find_closed_loopback_port();

    if (!CHECK(port > 0)) {
        return;
    }
    snprintf(settings, sizeof settings,
             "{\"api_url\": \"http://127.0.0.1:%d\", \"max_attempts\": 1}", port);
    client = new_test_client(settings);
    if (client == NULL) {
        return;
    }
    EXPECT_STATUS(client, OPSTATUS_ETRANSPORT);
    CHECK_INT_EQ(opstatus_last_error()->http_status, 0);
    opstatus_client_free(client);
}

static void test_etransport_for_untrusted_certificate(void)
{
    opstatus_client *client = NULL;
    char *settings;
    json_t *value;

    if (test_env.ca_file == NULL) {
        report_failure(__FILE__, __LINE__,
                       "the emulator serves plain HTTP; run it with TLS");
        return;
    }
    /* Without ca_file the system's CAs apply, and none of them signed the
     * emulator's certificate. */
    value = json_pack("{s:s, s:s, s:b, s:i}", "api_url", test_env.api_url,
                      "api_token", test_env.token, "use_environment", 0,
                      "max_attempts", 1);
    settings = json_dumps(value, JSON_COMPACT);
    json_decref(value);
    if (EXPECT(opstatus_client_new(&client, settings), OPSTATUS_OK, NULL)) {
        EXPECT_STATUS(client, OPSTATUS_ETRANSPORT);
        CHECK_CONTAINS(opstatus_last_error()->message, "certificate");
    }
    free(settings);
    opstatus_client_free(client);
}

static void test_etimeout_for_hanging_server(void)
{
    opstatus_client *client =
        new_test_client("{\"max_attempts\": 1, \"timeout_ms\": 300}");

    if (client == NULL) {
        return;
    }
    emulator_reset();
    emulator_queue_fault("{\"kind\": \"hang\", \"seconds\": 10}");
    EXPECT_STATUS(client, OPSTATUS_ETIMEOUT);
    opstatus_client_free(client);
}

static void test_etimeout_for_deadline(void)
{
    opstatus_client *client = new_test_client("{\"deadline_ms\": 300}");

    if (client == NULL) {
        return;
    }
    emulator_reset();
    emulator_queue_fault("{\"kind\": \"hang\", \"seconds\": 10}");
    EXPECT_STATUS(client, OPSTATUS_ETIMEOUT);
    CHECK_CONTAINS(opstatus_last_error()->message, "deadline_ms");
    opstatus_client_free(client);
}

/* A wait whose deadline passes while the operation is still in progress
 * returns ETIMEOUT with the last poll's result. */
static void test_etimeout_for_wait_deadline(void)
{
    opstatus_client *client = new_test_client(NULL);
    char *out = NULL;
    char request[256];
    json_t *purge = NULL;
    json_t *result;

    if (client == NULL) {
        return;
    }
    emulator_reset();
    if (!EXPECT(opstatus_purge_json(&out, client,
                                    "{\"namespace\": \"demo\", \"name\": "
                                    "\"cdn-1\", \"url\": \"/error-paths\", "
                                    "\"soft_purge\": {}}"),
                OPSTATUS_OK, NULL)) {
        opstatus_client_free(client);
        return;
    }
    purge = json_loads(out, 0, NULL);
    opstatus_free(out);
    out = NULL;
    snprintf(request, sizeof request,
             "{\"namespace\": \"demo\", \"name\": \"cdn-1\", \"service_op_id\": "
             "%lld, \"deadline_ms\": 200, \"initial_delay_ms\": 50}",
             (long long)json_integer_value(json_object_get(purge, "purge_request_id")));
    json_decref(purge);

    CHECK_RESULT(opstatus_wait_json(&out, client, request, NULL, NULL),
                 OPSTATUS_ETIMEOUT);
    code_returned[OPSTATUS_ETIMEOUT] = true;
    result = out != NULL ? json_loads(out, 0, NULL) : NULL;
    if (CHECK(result != NULL)) {
        const json_t *wait = json_object_get(result, "wait");

        CHECK_STRING_EQ(json_string_value(json_object_get(wait, "outcome")),
                        "timeout");
    }
    json_decref(result);
    opstatus_free(out);
    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* Codes for HTTP statuses                                                  */
/* ------------------------------------------------------------------------ */

static void test_eunauthorized_for_wrong_token(void)
{
    opstatus_client *client =
        new_test_client("{\"api_token\": \"not-the-emulator-token\"}");

    if (client == NULL) {
        return;
    }
    emulator_reset();
    EXPECT_STATUS(client, OPSTATUS_EUNAUTHORIZED);
    CHECK_INT_EQ(opstatus_last_error()->http_status, 401);
    opstatus_client_free(client);
}

static void test_enotfound_for_unknown_operation(void)
{
    opstatus_client *client = new_test_client(NULL);
    char *out = NULL;

    if (client == NULL) {
        return;
    }
    emulator_reset();
    EXPECT(opstatus_get_status(&out, client, "demo", "shop-frontend", 999999),
           OPSTATUS_ENOTFOUND, out);
    CHECK_INT_EQ(opstatus_last_error()->http_status, 404);
    EXPECT(opstatus_get_status(&out, client, "demo", "no-such-lb", 101),
           OPSTATUS_ENOTFOUND, out);
    opstatus_client_free(client);
}

/* An HTTP status from a fault and the code it maps to. */
struct status_case {
    int http_status;
    opstatus_result expected;
};

static const struct status_case status_cases[] = {
    {400, OPSTATUS_EBADREQUEST},   {403, OPSTATUS_EFORBIDDEN},
    {409, OPSTATUS_ECONFLICT},     {418, OPSTATUS_EBADREQUEST},
    {429, OPSTATUS_ERATELIMITED},  {500, OPSTATUS_ESERVER},
    {502, OPSTATUS_ESERVER},       {503, OPSTATUS_EUNAVAILABLE},
    {504, OPSTATUS_EGATEWAYTIMEOUT}, {599, OPSTATUS_ESERVER},
};

static void test_codes_for_http_statuses(void)
{
    opstatus_client *client = new_single_attempt_client();
    size_t index;

    if (client == NULL) {
        return;
    }
    for (index = 0; index < sizeof status_cases / sizeof status_cases[0]; index++) {
        const struct status_case *status_case = &status_cases[index];
        char fault[96];

        emulator_reset();
        snprintf(fault, sizeof fault, "{\"kind\": \"status\", \"status\": %d}",
                 status_case->http_status);
        emulator_queue_fault(fault);
        EXPECT_STATUS(client, status_case->expected);
        CHECK_INT_EQ(opstatus_last_error()->http_status, status_case->http_status);
    }
    opstatus_client_free(client);
}

static void test_retry_after_kept_for_429(void)
{
    opstatus_client *client = new_single_attempt_client();

    if (client == NULL) {
        return;
    }
    emulator_reset();
    emulator_queue_fault("{\"kind\": \"status\", \"status\": 429, "
                         "\"headers\": {\"Retry-After\": \"7\"}}");
    EXPECT_STATUS(client, OPSTATUS_ERATELIMITED);
    CHECK_INT_EQ(opstatus_last_error()->retry_after_ms, 7000);
    opstatus_client_free(client);
}

/* A purge is not sent again after a 5xx, and a list fails like a status. */
static void test_codes_for_purge_and_list(void)
{
    opstatus_client *client = new_test_client(NULL);
    char *out = NULL;

    if (client == NULL) {
        return;
    }
    emulator_reset();
    emulator_queue_fault("{\"kind\": \"status\", \"status\": 403}");
    EXPECT(opstatus_purge_json(&out, client,
                               "{\"namespace\": \"demo\", \"name\": \"cdn-1\", "
                               "\"purge_all\": {}, \"hard_purge\": {}}"),
           OPSTATUS_EFORBIDDEN, out);
    emulator_queue_fault("{\"kind\": \"status\", \"status\": 500}");
    EXPECT(opstatus_purge_json(&out, client,
                               "{\"namespace\": \"demo\", \"name\": \"cdn-1\", "
                               "\"purge_all\": {}, \"hard_purge\": {}}"),
           OPSTATUS_ESERVER, out);
    emulator_queue_fault("{\"kind\": \"api_error\", \"code\": \"EPERMS\"}");
    EXPECT(opstatus_list_json(&out, client,
                              "{\"namespace\": \"demo\", \"lastn\": 3}"),
           OPSTATUS_EAPI, out);
    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* OPSTATUS_EPROTOCOL and OPSTATUS_EAPI                                     */
/* ------------------------------------------------------------------------ */

static const char *const protocol_faults[] = {
    "{\"kind\": \"invalid_json\"}",
    "{\"kind\": \"wrong_types\"}",
    "{\"kind\": \"html\"}",
    "{\"kind\": \"redirect\", \"location\": \"https://127.0.0.2/api\"}",
    "{\"kind\": \"raw\", \"body\": \"[1, 2, 3]\"}",
    ("{\"kind\": \"raw\", \"body\": \"{\\\"items\\\": [{\\\"purge\\\": "
     "{\\\"start_time\\\": \\\"yesterday\\\"}}]}\"}"),
    "{\"kind\": \"raw\", \"body\": \"\"}",
    "{\"kind\": \"huge\", \"bytes\": 4096}",
};

static void test_eprotocol_for_malformed_responses(void)
{
    opstatus_client *client =
        new_test_client("{\"max_attempts\": 1, \"max_response_bytes\": 4095}");
    size_t index;

    if (client == NULL) {
        return;
    }
    for (index = 0; index < sizeof protocol_faults / sizeof protocol_faults[0];
         index++) {
        emulator_reset();
        emulator_queue_fault(protocol_faults[index]);
        EXPECT_STATUS(client, OPSTATUS_EPROTOCOL);
    }
    opstatus_client_free(client);
}

static void test_eapi_for_error_code(void)
{
    opstatus_client *client = new_test_client(NULL);

    if (client == NULL) {
        return;
    }
    emulator_reset();
    emulator_queue_fault("{\"kind\": \"api_error\", \"code\": \"EPERMS\", "
                         "\"message\": \"no access\"}");
    EXPECT_STATUS(client, OPSTATUS_EAPI);
    CHECK_STRING_EQ(opstatus_last_error()->api_code, "EPERMS");
    opstatus_client_free(client);
}

/* A batch succeeds as a whole and carries each operation's error. */
static void test_batch_entries_carry_errors(void)
{
    opstatus_client *client = new_single_attempt_client();
    char *out = NULL;
    json_t *result;
    const json_t *results;

    if (client == NULL) {
        return;
    }
    emulator_reset();
    emulator_queue_fault("{\"kind\": \"status\", \"status\": 503}");
    EXPECT(opstatus_get_status_many_json(
               &out, client,
               "{\"operations\": [{\"namespace\": \"demo\", \"name\": "
               "\"shop-frontend\", \"service_op_id\": 101}, {\"namespace\": "
               "\"demo\"}], \"max_connections\": 1}"),
           OPSTATUS_OK, NULL);
    result = out != NULL ? json_loads(out, 0, NULL) : NULL;
    results = json_object_get(result, "results");
    if (CHECK(json_array_size(results) == 2)) {
        const json_t *first = json_object_get(json_array_get(results, 0), "error");
        const json_t *second = json_object_get(json_array_get(results, 1), "error");

        CHECK_STRING_EQ(json_string_value(json_object_get(first, "name")),
                        "OPSTATUS_EUNAVAILABLE");
        CHECK_STRING_EQ(json_string_value(json_object_get(second, "name")),
                        "OPSTATUS_EINVAL");
    }
    json_decref(result);
    opstatus_free(out);
    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* OPSTATUS_ECANCELLED                                                      */
/* ------------------------------------------------------------------------ */

static int cancel_at_first_poll(const char *progress_json, void *payload)
{
    (void)progress_json;
    (void)payload;
    return 1;
}

static void test_ecancelled_by_progress_callback(void)
{
    opstatus_client *client = new_test_client(NULL);
    char *out = NULL;
    json_t *result;

    if (client == NULL) {
        return;
    }
    emulator_reset();
    CHECK_RESULT(opstatus_wait_json(&out, client, status_request,
                                    cancel_at_first_poll, NULL),
                 OPSTATUS_ECANCELLED);
    code_returned[OPSTATUS_ECANCELLED] = true;
    result = out != NULL ? json_loads(out, 0, NULL) : NULL;
    if (CHECK(result != NULL)) {
        const json_t *wait = json_object_get(result, "wait");

        CHECK_STRING_EQ(json_string_value(json_object_get(wait, "outcome")),
                        "cancelled");
    }
    json_decref(result);
    opstatus_free(out);
    opstatus_client_free(client);
}

/* What a call on another thread returned. */
struct background_call {
    opstatus_client *client;
    opstatus_result result;
    opstatus_result last_error_code;
    bool out_was_null;
};

static void *call_status_in_background(void *argument)
{
    struct background_call *call = argument;
    char *out = NULL;

    call->result = opstatus_get_status_json(&out, call->client, status_request);
    call->last_error_code = opstatus_last_error()->code;
    call->out_was_null = out == NULL;
    opstatus_free(out);
    return NULL;
}

static void test_ecancelled_by_client_cancel(void)
{
    struct background_call call;
    pthread_t thread;
    struct timespec pause = {0, 300 * 1000 * 1000};

    call.client = new_test_client(NULL);
    if (call.client == NULL) {
        return;
    }
    emulator_reset();
    emulator_queue_fault("{\"kind\": \"hang\", \"seconds\": 10}");
    pthread_create(&thread, NULL, call_status_in_background, &call);
    nanosleep(&pause, NULL);
    EXPECT(opstatus_client_cancel(call.client), OPSTATUS_OK, NULL);
    pthread_join(thread, NULL);

    CHECK_INT_EQ(call.result, OPSTATUS_ECANCELLED);
    CHECK_INT_EQ(call.last_error_code, OPSTATUS_ECANCELLED);
    CHECK(call.out_was_null);
    opstatus_client_free(call.client);
}

/* ------------------------------------------------------------------------ */
/* OPSTATUS_ENOMEM                                                          */
/* ------------------------------------------------------------------------ */

/* Allocations left before the one that fails; -1 means none fails. */
static long allocations_before_failure = -1;
static long injected_failures;

static void *failing_malloc(size_t size)
{
    if (allocations_before_failure == 0) {
        allocations_before_failure = -1;
        injected_failures++;
        return NULL;
    }
    if (allocations_before_failure > 0) {
        allocations_before_failure--;
    }
    return malloc(size);
}

static void plain_free(void *pointer)
{
    free(pointer);
}

/* Calls of the parser wrappers below, to prove they are in use. */
static long parser_calls;

typedef json_t *(*loadb_function)(const char *, size_t, size_t, json_error_t *);
typedef json_t *(*loads_function)(const char *, size_t, json_error_t *);

/* Looks up the next definition of name, which is jansson's. */
static void *find_next_definition(const char *name)
{
    void *address = dlsym(RTLD_NEXT, name);

    if (address == NULL) {
        fprintf(stderr, PROGRAM_NAME ": dlsym(%s) failed: %s\n", name, dlerror());
        abort();
    }
    return address;
}

/* jansson's json_loadb() with allocation failures paused, since jansson
 * 2.14's lexer corrupts memory when one of its allocations fails. */
json_t *json_loadb(const char *buffer, size_t length, size_t flags,
                   json_error_t *error)
{
    static loadb_function real_loadb;
    long saved = allocations_before_failure;
    json_t *value;

    if (real_loadb == NULL) {
        void *address = find_next_definition("json_loadb");

        memcpy(&real_loadb, &address, sizeof real_loadb);
    }
    parser_calls++;
    allocations_before_failure = -1;
    value = real_loadb(buffer, length, flags, error);
    allocations_before_failure = saved;
    return value;
}

/* jansson's json_loads() with allocation failures paused. */
json_t *json_loads(const char *input, size_t flags, json_error_t *error)
{
    static loads_function real_loads;
    long saved = allocations_before_failure;
    json_t *value;

    if (real_loads == NULL) {
        void *address = find_next_definition("json_loads");

        memcpy(&real_loads, &address, sizeof real_loads);
    }
    parser_calls++;
    allocations_before_failure = -1;
    value = real_loads(input, flags, error);
    allocations_before_failure = saved;
    return value;
}

/* One call of the library to run with an allocation failure. */
typedef opstatus_result (*memory_call)(opstatus_client *client, void **out);

static opstatus_result call_status_json(opstatus_client *client, void **out)
{
    return opstatus_get_status_json((char **)out, client, status_request);
}

/* Built before the sweep, so that only the library meets the failures. */
static json_t *status_request_value;

static opstatus_result call_status_value(opstatus_client *client, void **out)
{
    return opstatus_get_status_value((json_t **)out, client,
                                     status_request_value);
}

static opstatus_result call_list_json(opstatus_client *client, void **out)
{
    return opstatus_list_json((char **)out, client,
                              "{\"namespace\": \"demo\", \"lastn\": 2}");
}

static opstatus_result call_many_json(opstatus_client *client, void **out)
{
    return opstatus_get_status_many_json(
        (char **)out, client,
        "{\"operations\": [{\"namespace\": \"demo\", \"name\": "
        "\"shop-frontend\", \"service_op_id\": 101}, {\"namespace\": 5}]}");
}

static opstatus_result call_wait_json(opstatus_client *client, void **out)
{
    return opstatus_wait_json((char **)out, client,
                              "{\"namespace\": \"demo\", \"name\": "
                              "\"shop-frontend\", \"service_op_id\": 101, "
                              "\"initial_delay_ms\": 1}",
                              NULL, NULL);
}

static void release_out(memory_call call, void *out)
{
    if (call == call_status_value) {
        json_decref(out);
    } else {
        opstatus_free(out);
    }
}

/* What the calls of one sweep returned. */
struct sweep_counts {
    long by_code[RESULT_COUNT];
    /* OPSTATUS_OK results whose text is not valid JSON. */
    long invalid_text;
};

/* Returns whether a call's text result parses as JSON; the jansson value
 * result of opstatus_get_status_value() always counts as valid. */
static bool out_is_valid(memory_call call, void *out)
{
    json_t *value;

    if (call == call_status_value) {
        return out != NULL;
    }
    value = out != NULL ? json_loads(out, 0, NULL) : NULL;
    json_decref(value);
    return value != NULL;
}

/*
 * Fails the n-th jansson allocation of one call, for n = 0, 1, 2, ...,
 * until a call runs without meeting the failure, and adds what each call
 * returned to counts.
 */
static void sweep_allocation_failures(opstatus_client *client, memory_call call,
                                      const char *call_name,
                                      struct sweep_counts *counts)
{
    long failure_index;

    for (failure_index = 0; failure_index < 100000; failure_index++) {
        void *out = NULL;
        opstatus_result result;
        long failures_before = injected_failures;

        allocations_before_failure = failure_index;
        result = call(client, &out);
        allocations_before_failure = -1;

        if ((size_t)result >= RESULT_COUNT) {
            report_failure(__FILE__, __LINE__,
                           "%s returned %d with allocation %ld failing",
                           call_name, (int)result, failure_index);
        } else {
            counts->by_code[result]++;
        }
        if (result != OPSTATUS_OK && out != NULL) {
            report_failure(__FILE__, __LINE__,
                           "%s failed with %s but left its out-parameter set "
                           "(allocation %ld failing)",
                           call_name, result_name(result), failure_index);
        }
        if (result != OPSTATUS_OK && opstatus_last_error()->code != result) {
            report_failure(__FILE__, __LINE__,
                           "%s returned %s but the last error is %s "
                           "(allocation %ld failing)",
                           call_name, result_name(result),
                           result_name(opstatus_last_error()->code),
                           failure_index);
        }
        if (result == OPSTATUS_OK && !out_is_valid(call, out)) {
            counts->invalid_text++;
        }
        release_out(call, out);
        if (injected_failures == failures_before) {
            break;
        }
    }
}

static void sweep_every_call(void)
{
    static const struct {
        memory_call call;
        const char *name;
    } calls[] = {
        {call_status_json, "opstatus_get_status_json"},
        {call_status_value, "opstatus_get_status_value"},
        {call_list_json, "opstatus_list_json"},
        {call_many_json, "opstatus_get_status_many_json"},
        {call_wait_json, "opstatus_wait_json"},
    };
    struct sweep_counts counts;
    opstatus_client *client = new_test_client(NULL);
    size_t index;
    int code;

    status_request_value = json_loads(status_request, 0, NULL);
    if (client == NULL || !CHECK(status_request_value != NULL)) {
        opstatus_client_free(client);
        return;
    }
    emulator_reset();
    parser_calls = 0;
    memset(&counts, 0, sizeof counts);
    for (index = 0; index < sizeof calls / sizeof calls[0]; index++) {
        sweep_allocation_failures(client, calls[index].call, calls[index].name,
                                  &counts);
    }
    /* The library's parses went through the wrappers. */
    CHECK(parser_calls > 0);
    CHECK(counts.by_code[OPSTATUS_ENOMEM] > 0);

    printf("     allocation failures gave:");
    for (code = 0; code < RESULT_COUNT; code++) {
        if (counts.by_code[code] > 0) {
            printf(" %s %ld", result_name((opstatus_result)code),
                   counts.by_code[code]);
        }
    }
    printf("\n");
    /*
     * NOTE: this is printed, not failed. jansson 2.14's json_dumps() ignores
     * a failed write of an object key and returns text with the key
     * missing, and the library hands that text over with OPSTATUS_OK.
     */
    if (counts.invalid_text > 0) {
        printf("     NOTE: %ld calls returned OPSTATUS_OK with text that is "
               "not valid JSON\n",
               counts.invalid_text);
    }
    json_decref(status_request_value);
    opstatus_client_free(client);
}

/*
 * Runs body in a child process and returns its wait status. The child
 * exits through exit(), so sanitizers and valgrind check it for leaks, with
 * status 1 when one of its checks failed.
 */
static int run_in_child(void (*body)(void))
{
    int status = 0;
    pid_t child;

    fflush(stdout);
    fflush(stderr);
    child = fork();
    if (child < 0) {
        report_failure(__FILE__, __LINE__, "fork failed");
        return -1;
    }
    if (child == 0) {
        body();
        teardown_test_environment();
        fflush(stdout);
        exit(current_test_has_failed() ? 1 : 0);
    }
    waitpid(child, &status, 0);
    return status;
}

static void test_enomem_when_allocations_fail(void)
{
    int status = run_in_child(sweep_every_call);

    if (status == -1) {
        return;
    }
    if (WIFSIGNALED(status)) {
        report_failure(__FILE__, __LINE__,
                       "the allocation failure sweep crashed with signal %d",
                       WTERMSIG(status));
    } else if (WEXITSTATUS(status) != 0) {
        report_failure(__FILE__, __LINE__,
                       "the allocation failure sweep exited with %d: see the "
                       "failed checks, or the sanitizer or valgrind report, "
                       "above",
                       WEXITSTATUS(status));
    } else {
        code_returned[OPSTATUS_ENOMEM] = true;
    }
}

/* ------------------------------------------------------------------------ */
/* OPSTATUS_EINTERNAL                                                       */
/* ------------------------------------------------------------------------ */

/* One byte more than libcurl 7.88 accepts in a string option
 * (CURL_MAX_INPUT_LENGTH). */
enum { OVERLONG_OPTION_BYTES = 8000001 };

/* Runs in a child: exits with the code of the status call, or 100 when
 * the client could not be created. */
static void run_overlong_password_call(void)
{
    char *password = repeat_character('k', OVERLONG_OPTION_BYTES);
    json_t *settings;
    char *text;
    opstatus_client *client = NULL;
    char *out = NULL;
    opstatus_result result;

    settings = json_pack("{s:s, s:s, s:s, s:b, s:i}", "api_url",
                         test_env.api_url, "p12_file", "/dev/null",
                         "p12_password", password, "use_environment", 0,
                         "max_attempts", 1);
    text = json_dumps(settings, JSON_COMPACT);
    json_decref(settings);
    free(password);
    if (opstatus_client_new(&client, text) != OPSTATUS_OK) {
        free(text);
        _exit(100);
    }
    free(text);
    result = opstatus_get_status_json(&out, client, status_request);
    opstatus_free(out);
    opstatus_client_free(client);
    teardown_test_environment();
    exit((int)result);
}

static void test_einternal_for_rejected_transfer_option(void)
{
    int status = run_in_child(run_overlong_password_call);

    if (status == -1) {
        return;
    }
    if (WIFSIGNALED(status)) {
        report_failure(__FILE__, __LINE__,
                       "the status call with an overlong p12_password "
                       "crashed with signal %d instead of returning "
                       "OPSTATUS_EINTERNAL",
                       WTERMSIG(status));
        return;
    }
    if (WEXITSTATUS(status) != OPSTATUS_EINTERNAL) {
        report_failure(__FILE__, __LINE__,
                       "the child exited with %d, expected %d "
                       "(OPSTATUS_EINTERNAL); another value is a result "
                       "code, 100 for a client that could not be created, "
                       "or the exit status of a sanitizer or valgrind report "
                       "above",
                       WEXITSTATUS(status), OPSTATUS_EINTERNAL);
        return;
    }
    code_returned[OPSTATUS_EINTERNAL] = true;
}

/* ------------------------------------------------------------------------ */
/* Coverage of the codes                                                    */
/* ------------------------------------------------------------------------ */

static void test_every_code_returned(void)
{
    int code;

    for (code = 0; code < RESULT_COUNT; code++) {
        if (!code_returned[code]) {
            report_failure(__FILE__, __LINE__, "no test saw %s returned",
                           result_name((opstatus_result)code));
        }
    }
}

int main(void)
{
    if (!setup_test_environment(PROGRAM_NAME)) {
        return 2;
    }
    /* Set before any other jansson call, so every value the library and
     * the tests allocate goes through the same pair of functions. */
    json_set_alloc_funcs(failing_malloc, plain_free);

    RUN_TEST(test_ok_for_seeded_operation);
    RUN_TEST(test_einval_for_invalid_arguments);
    RUN_TEST(test_econfig_for_invalid_settings);
    RUN_TEST(test_etransport_for_refused_connection);
    RUN_TEST(test_etransport_for_untrusted_certificate);
    RUN_TEST(test_etimeout_for_hanging_server);
    RUN_TEST(test_etimeout_for_deadline);
    RUN_TEST(test_etimeout_for_wait_deadline);
    RUN_TEST(test_eunauthorized_for_wrong_token);
    RUN_TEST(test_enotfound_for_unknown_operation);
    RUN_TEST(test_codes_for_http_statuses);
    RUN_TEST(test_retry_after_kept_for_429);
    RUN_TEST(test_codes_for_purge_and_list);
    RUN_TEST(test_eprotocol_for_malformed_responses);
    RUN_TEST(test_eapi_for_error_code);
    RUN_TEST(test_batch_entries_carry_errors);
    RUN_TEST(test_ecancelled_by_progress_callback);
    RUN_TEST(test_ecancelled_by_client_cancel);
    RUN_TEST(test_enomem_when_allocations_fail);
    RUN_TEST(test_einternal_for_rejected_transfer_option);
    RUN_TEST(test_every_code_returned);

    emulator_reset();
    teardown_test_environment();
    return finish_tests();
}
