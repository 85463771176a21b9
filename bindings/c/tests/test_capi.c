/*
 * Tests of the opstatus C API against the local F5 XC API emulator.
 *
 * The program reads these environment variables, which the emulator runner
 * Tests/Emulator/with-emulator exports:
 *   OPSTATUS_TEST_API_URL      the emulator's API URL (https, loopback only)
 *   OPSTATUS_TEST_CA_FILE      the PEM file of the emulator's CA
 *   OPSTATUS_TEST_CONTROL_URL  the emulator's control endpoint
 *   OPSTATUS_TEST_TOKEN        the API token the emulator accepts
 *
 * The emulator's seeded state is namespace "demo", HTTP load balancer
 * "shop-frontend" and operation 101, finished with "success" on 9 sites.
 * Faults are queued through the control endpoint and are consumed one per
 * API request.
 *
 * Each test is a function. A test passes when none of its checks failed.
 * The last line of output is "N passed, M failed", and the exit status is 1
 * when any test failed, 2 when the environment is incomplete.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "opstatus.h"

/* ------------------------------------------------------------------------ */
/* Test harness                                                             */
/* ------------------------------------------------------------------------ */

static int tests_passed;
static int tests_failed;
static bool current_test_failed;

static void report_check_failure(const char *file, int line,
                                 const char *format, ...)
{
    va_list arguments;

    current_test_failed = true;
    fprintf(stderr, "%s:%d: check failed: ", file, line);
    va_start(arguments, format);
    vfprintf(stderr, format, arguments);
    va_end(arguments);
    fputc('\n', stderr);
}

static bool expect_true_at(const char *file, int line, const char *expression,
                           bool value)
{
    if (!value) {
        report_check_failure(file, line, "%s", expression);
    }
    return value;
}

static bool expect_int_eq_at(const char *file, int line,
                             const char *actual_expression,
                             const char *expected_expression,
                             long long actual, long long expected)
{
    if (actual != expected) {
        report_check_failure(file, line,
                             "%s == %s (actual %lld, expected %lld)",
                             actual_expression, expected_expression, actual,
                             expected);
        return false;
    }
    return true;
}

static bool expect_str_eq_at(const char *file, int line,
                             const char *actual_expression,
                             const char *expected_expression,
                             const char *actual, const char *expected)
{
    if (actual == NULL || expected == NULL || strcmp(actual, expected) != 0) {
        report_check_failure(file, line,
                             "%s == %s (actual \"%s\", expected \"%s\")",
                             actual_expression, expected_expression,
                             actual != NULL ? actual : "(null)",
                             expected != NULL ? expected : "(null)");
        return false;
    }
    return true;
}

static bool expect_contains_at(const char *file, int line,
                               const char *text_expression,
                               const char *text, const char *part)
{
    if (text == NULL || strstr(text, part) == NULL) {
        report_check_failure(file, line,
                             "%s contains \"%s\" (actual \"%s\")",
                             text_expression, part,
                             text != NULL ? text : "(null)");
        return false;
    }
    return true;
}

static bool expect_null_at(const char *file, int line, const char *expression,
                           const void *pointer)
{
    if (pointer != NULL) {
        report_check_failure(file, line, "%s == NULL (actual %p)", expression,
                             pointer);
        return false;
    }
    return true;
}

static bool expect_not_null_at(const char *file, int line,
                               const char *expression, const void *pointer)
{
    if (pointer == NULL) {
        report_check_failure(file, line, "%s != NULL", expression);
        return false;
    }
    return true;
}

/*
 * Each check returns whether it passed, so that a test can stop with
 * "if (!EXPECT_...(...)) goto cleanup;" where later steps depend on it.
 */
#define EXPECT_TRUE(expression) \
    expect_true_at(__FILE__, __LINE__, #expression, (expression) != 0)
#define EXPECT_INT_EQ(actual, expected) \
    expect_int_eq_at(__FILE__, __LINE__, #actual, #expected, \
                     (long long)(actual), (long long)(expected))
#define EXPECT_STR_EQ(actual, expected) \
    expect_str_eq_at(__FILE__, __LINE__, #actual, #expected, (actual), \
                     (expected))
#define EXPECT_CONTAINS(text, part) \
    expect_contains_at(__FILE__, __LINE__, #text, (text), (part))
#define EXPECT_NULL(pointer) \
    expect_null_at(__FILE__, __LINE__, #pointer, (const void *)(pointer))
#define EXPECT_NOT_NULL(pointer) \
    expect_not_null_at(__FILE__, __LINE__, #pointer, (const void *)(pointer))

typedef void (*test_function)(void);

static void run_test(const char *name, test_function test)
{
    current_test_failed = false;
    test();
    if (current_test_failed) {
        tests_failed++;
        printf("FAIL %s\n", name);
    } else {
        tests_passed++;
        printf("ok   %s\n", name);
    }
    fflush(stdout);
}

#define RUN_TEST(test) run_test(#test, test)

/* ------------------------------------------------------------------------ */
/* Environment and shared helpers                                           */
/* ------------------------------------------------------------------------ */

static const char *test_api_url;
static const char *test_ca_file;
static const char *test_control_url;
static const char *test_token;

#define SEEDED_NAMESPACE "demo"
#define SEEDED_NAME "shop-frontend"
#define SEEDED_OPERATION_ID 101
#define SEEDED_SITE_COUNT 9

#define MAX_UINT64_TEXT "18446744073709551615"

/*
 * Storage whose address marks an out-parameter the library has not set.
 * Out-parameters are set to it before a call that must fail, so a test can
 * tell whether the library reset them to NULL.
 */
static union {
    long double alignment_long_double;
    void *alignment_pointer;
    long long alignment_integer;
} sentinel_storage;

#define SENTINEL ((void *)&sentinel_storage)

/*
 * Returns whether url is an https URL whose host is 127.0.0.0/8, [::1] or
 * localhost. The tests inject faults and send many requests, so they run
 * only against a server on this machine.
 */
static bool is_loopback_https_url(const char *url)
{
    static const char scheme[] = "https://";
    const char *host = url;
    const char *host_end;

    if (strncmp(url, scheme, sizeof scheme - 1) != 0) {
        return false;
    }
    host = url + sizeof scheme - 1;

    if (strncmp(host, "[::1]", 5) == 0) {
        host_end = host + 5;
    } else if (strncmp(host, "localhost", 9) == 0) {
        host_end = host + 9;
    } else if (strncmp(host, "127.", 4) == 0) {
        host_end = host + 4;
        while ((*host_end >= '0' && *host_end <= '9') || *host_end == '.') {
            host_end++;
        }
    } else {
        return false;
    }
    return *host_end == '\0' || *host_end == ':' || *host_end == '/';
}

/* Returns a JSON string's value, or NULL when value is not a string. */
static const char *get_string(const json_t *object, const char *key)
{
    return json_string_value(json_object_get(object, key));
}

/* Returns whether text is one or more ASCII digits and nothing else. */
static bool is_decimal_text(const char *text)
{
    if (text == NULL || *text == '\0') {
        return false;
    }
    for (; *text != '\0'; text++) {
        if (*text < '0' || *text > '9') {
            return false;
        }
    }
    return true;
}

/* Builds client settings as JSON text. Free the result with free(). */
static char *build_client_config(const char *api_url, const char *token)
{
    json_t *config = json_pack("{s:s, s:s, s:s}", "api_url", api_url,
                               "api_token", token, "ca_file", test_ca_file);
    char *text;

    if (config == NULL) {
        return NULL;
    }
    text = json_dumps(config, JSON_COMPACT);
    json_decref(config);
    return text;
}

/*
 * Creates a client for the emulator that sends the given token, with the
 * settings in extra_settings added. Takes ownership of extra_settings,
 * which may be NULL.
 */
static opstatus_client *new_client_with_settings(const char *token,
                                                 json_t *extra_settings)
{
    opstatus_client *client = NULL;
    json_t *config = json_pack("{s:s, s:s, s:s}", "api_url", test_api_url,
                               "api_token", token, "ca_file", test_ca_file);
    char *text = NULL;
    opstatus_result code;

    if (config != NULL && extra_settings != NULL) {
        json_object_update(config, extra_settings);
    }
    json_decref(extra_settings);
    if (config != NULL) {
        text = json_dumps(config, JSON_COMPACT);
        json_decref(config);
    }
    if (!EXPECT_NOT_NULL(text)) {
        return NULL;
    }
    code = opstatus_client_new(&client, text);
    free(text);
    if (!EXPECT_INT_EQ(code, OPSTATUS_OK)) {
        fprintf(stderr, "  library message: %s\n",
                opstatus_last_error()->message);
        return NULL;
    }
    return client;
}

static opstatus_client *new_client_with_token(const char *token)
{
    return new_client_with_settings(token, NULL);
}

static opstatus_client *new_emulator_client(void)
{
    return new_client_with_token(test_token);
}

/*
 * Checks that a call failed with expected_code, that the thread's last
 * error agrees, and that its message contains message_part.
 */
static bool expect_failure_at(const char *file, int line,
                              opstatus_result actual_code,
                              opstatus_result expected_code,
                              const char *message_part)
{
    const opstatus_error *error = opstatus_last_error();
    bool passed = true;

    if (actual_code != expected_code) {
        report_check_failure(file, line,
                             "result %d (%s), expected %d (%s); message \"%s\"",
                             (int)actual_code, opstatus_strerror(actual_code),
                             (int)expected_code,
                             opstatus_strerror(expected_code), error->message);
        return false;
    }
    if (error->code != expected_code) {
        report_check_failure(file, line,
                             "opstatus_last_error()->code %d, expected %d",
                             (int)error->code, (int)expected_code);
        passed = false;
    }
    if (error->message == NULL) {
        report_check_failure(file, line,
                             "opstatus_last_error()->message is NULL");
        return false;
    }
    if (message_part != NULL && strstr(error->message, message_part) == NULL) {
        report_check_failure(file, line,
                             "message \"%s\" does not contain \"%s\"",
                             error->message, message_part);
        passed = false;
    }
    return passed;
}

#define EXPECT_FAILURE(actual_code, expected_code, message_part) \
    expect_failure_at(__FILE__, __LINE__, (actual_code), (expected_code), \
                      (message_part))

/* ------------------------------------------------------------------------ */
/* Emulator control endpoint                                                */
/* ------------------------------------------------------------------------ */

struct response_buffer {
    char text[512];
    size_t length;
};

/* Keeps the start of a control response for failure messages. */
static size_t collect_response(char *data, size_t size, size_t count,
                               void *user_data)
{
    struct response_buffer *buffer = user_data;
    size_t total = size * count;
    size_t room = sizeof buffer->text - 1 - buffer->length;
    size_t copied = total < room ? total : room;

    memcpy(buffer->text + buffer->length, data, copied);
    buffer->length += copied;
    buffer->text[buffer->length] = '\0';
    return total;
}

/* Sends a POST with a JSON body to the control endpoint path, such as
 * "/reset". */
static bool post_to_control(const char *path, const char *body)
{
    struct response_buffer response = { "", 0 };
    struct curl_slist *headers = NULL;
    char url[1024];
    long http_status = 0;
    CURLcode curl_code;
    CURL *curl;
    int written;

    written = snprintf(url, sizeof url, "%s%s", test_control_url, path);
    if (!EXPECT_TRUE(written > 0 && (size_t)written < sizeof url)) {
        return false;
    }
    curl = curl_easy_init();
    if (!EXPECT_NOT_NULL(curl)) {
        return false;
    }
    headers = curl_slist_append(NULL, "Content-Type: application/json");

    curl_easy_setopt(curl, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
#endif
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_CAINFO, test_ca_file);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_response);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);

    curl_code = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);

    if (curl_code != CURLE_OK) {
        report_check_failure(__FILE__, __LINE__, "POST %s failed: %s", url,
                             curl_easy_strerror(curl_code));
        return false;
    }
    if (http_status < 200 || http_status > 299) {
        report_check_failure(__FILE__, __LINE__,
                             "POST %s returned HTTP %ld: %s", url, http_status,
                             response.text);
        return false;
    }
    return true;
}

/* Queues faults, a JSON array that this function takes ownership of. */
static bool queue_faults(json_t *faults)
{
    json_t *request = json_pack("{s:o}", "faults", faults);
    char *body;
    bool posted;

    if (!EXPECT_NOT_NULL(request)) {
        return false;
    }
    body = json_dumps(request, JSON_COMPACT);
    json_decref(request);
    if (!EXPECT_NOT_NULL(body)) {
        return false;
    }
    posted = post_to_control("/faults", body);
    free(body);
    return posted;
}

/* Queues one fault that returns HTTP 200 with body_value as the body. */
static bool queue_raw_json_body(json_t *body_value)
{
    char *body = json_dumps(body_value, JSON_COMPACT);
    json_t *faults;

    json_decref(body_value);
    if (!EXPECT_NOT_NULL(body)) {
        return false;
    }
    faults = json_pack("[{s:s, s:i, s:s, s:s}]", "kind", "raw", "status", 200,
                       "content_type", "application/json", "body", body);
    free(body);
    return queue_faults(faults);
}

/* Drops queued faults and restores the seeded state. */
static bool reset_emulator(void)
{
    return post_to_control("/reset", "{}");
}

/*
 * Returns a response body with one site whose purge object is the given one,
 * for operation 101.
 */
static json_t *build_one_site_body(json_t *purge)
{
    return json_pack("{s:[{s:i, s:s, s:o}]}", "items",
                     "service_op_id", SEEDED_OPERATION_ID,
                     "status", "success", "purge", purge);
}

/* ------------------------------------------------------------------------ */
/* Checks of a status result                                                */
/* ------------------------------------------------------------------------ */

/*
 * Adds a byte count written as decimal text to total. Returns false when
 * the text is not a number or the sum would overflow.
 */
static bool add_byte_count(unsigned long long *total, const char *text)
{
    unsigned long long value;
    char *end = NULL;

    errno = 0;
    value = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0') {
        return false;
    }
    if (value > ULLONG_MAX - *total) {
        return false;
    }
    *total += value;
    return true;
}

/* Returns whether text equals the string under key in some item's purge. */
static bool is_purge_value_of_some_item(const json_t *items, const char *key,
                                        const char *text)
{
    size_t index;
    const json_t *item;

    json_array_foreach(items, index, item) {
        const char *value = get_string(json_object_get(item, "purge"), key);

        if (value != NULL && strcmp(value, text) == 0) {
            return true;
        }
    }
    return false;
}

/* Checks one item of the seeded operation and adds its byte counts. */
static void check_seeded_item(const json_t *item, size_t index,
                              unsigned long long *bytes_purged,
                              unsigned long long *bytes_not_purged)
{
    const json_t *purge = json_object_get(item, "purge");
    const json_t *hard_purge;
    const char *site;
    const char *purged;
    const char *not_purged;
    const char *start_time;
    const char *finish_time;

    if (!EXPECT_TRUE(json_is_object(item))) {
        fprintf(stderr, "  in items[%zu]\n", index);
        return;
    }
    EXPECT_TRUE(json_is_integer(json_object_get(item, "service_op_id")));
    EXPECT_INT_EQ(json_integer_value(json_object_get(item, "service_op_id")),
                  SEEDED_OPERATION_ID);
    EXPECT_STR_EQ(get_string(item, "status"), "success");
    if (!EXPECT_TRUE(json_is_object(purge))) {
        fprintf(stderr, "  in items[%zu]\n", index);
        return;
    }

    site = get_string(purge, "site");
    if (EXPECT_NOT_NULL(site)) {
        EXPECT_TRUE(site[0] != '\0');
    }

    purged = get_string(purge, "bytes_purged");
    if (purged != NULL) {
        EXPECT_TRUE(is_decimal_text(purged));
        EXPECT_TRUE(add_byte_count(bytes_purged, purged));
    } else {
        EXPECT_NULL(json_object_get(purge, "bytes_purged"));
    }
    not_purged = get_string(purge, "bytes_not_purged");
    if (not_purged != NULL) {
        EXPECT_TRUE(is_decimal_text(not_purged));
        EXPECT_TRUE(add_byte_count(bytes_not_purged, not_purged));
    } else {
        EXPECT_NULL(json_object_get(purge, "bytes_not_purged"));
    }

    start_time = get_string(purge, "start_time");
    if (start_time == NULL) {
        EXPECT_NULL(json_object_get(purge, "start_time"));
    }
    finish_time = get_string(purge, "finish_time");
    if (finish_time == NULL) {
        EXPECT_NULL(json_object_get(purge, "finish_time"));
    }
    hard_purge = json_object_get(purge, "hard_purge");
    if (hard_purge != NULL) {
        EXPECT_TRUE(json_is_boolean(hard_purge));
    }
}

/* Checks that no two items name the same site. */
static void check_sites_distinct(const json_t *items)
{
    size_t first;
    size_t second;

    for (first = 0; first < json_array_size(items); first++) {
        const char *first_site =
            get_string(json_object_get(json_array_get(items, first), "purge"),
                       "site");

        for (second = first + 1; second < json_array_size(items); second++) {
            const char *second_site = get_string(
                json_object_get(json_array_get(items, second), "purge"),
                "site");

            if (first_site != NULL && second_site != NULL &&
                strcmp(first_site, second_site) == 0) {
                report_check_failure(__FILE__, __LINE__,
                                     "items[%zu] and items[%zu] both name "
                                     "site \"%s\"", first, second, first_site);
            }
        }
    }
}

/* Checks that a summary time is null, or one of the items' times for key. */
static void check_summary_time(const json_t *summary, const char *summary_key,
                               const json_t *items, const char *item_key)
{
    const json_t *value = json_object_get(summary, summary_key);
    bool any_item_has_time = false;
    size_t index;
    const json_t *item;

    json_array_foreach(items, index, item) {
        if (get_string(json_object_get(item, "purge"), item_key) != NULL) {
            any_item_has_time = true;
        }
    }

    if (!EXPECT_NOT_NULL(value)) {
        fprintf(stderr, "  summary.%s is missing\n", summary_key);
        return;
    }
    if (any_item_has_time) {
        if (EXPECT_TRUE(json_is_string(value))) {
            EXPECT_TRUE(is_purge_value_of_some_item(
                items, item_key, json_string_value(value)));
        }
    } else {
        EXPECT_TRUE(json_is_null(value));
    }
}

/* Checks a result of the seeded operation 101 on shop-frontend. */
static void check_seeded_result(const json_t *result)
{
    const json_t *items = json_object_get(result, "items");
    const json_t *summary = json_object_get(result, "summary");
    unsigned long long bytes_purged = 0;
    unsigned long long bytes_not_purged = 0;
    char total_text[32];
    size_t index;
    const json_t *item;

    if (!EXPECT_TRUE(json_is_object(result))) {
        return;
    }
    EXPECT_NULL(json_object_get(result, "error"));
    if (!EXPECT_TRUE(json_is_array(items))) {
        return;
    }
    EXPECT_INT_EQ(json_array_size(items), SEEDED_SITE_COUNT);
    json_array_foreach(items, index, item) {
        check_seeded_item(item, index, &bytes_purged, &bytes_not_purged);
    }
    check_sites_distinct(items);

    if (!EXPECT_TRUE(json_is_object(summary))) {
        return;
    }
    EXPECT_STR_EQ(get_string(summary, "state"), "succeeded");
    EXPECT_TRUE(json_is_integer(json_object_get(summary, "sites")));
    EXPECT_INT_EQ(json_integer_value(json_object_get(summary, "sites")),
                  SEEDED_SITE_COUNT);
    EXPECT_INT_EQ(json_integer_value(json_object_get(summary, "succeeded")),
                  SEEDED_SITE_COUNT);
    EXPECT_TRUE(json_is_integer(json_object_get(summary, "failed")));
    EXPECT_INT_EQ(json_integer_value(json_object_get(summary, "failed")), 0);
    EXPECT_TRUE(json_is_integer(json_object_get(summary, "pending")));
    EXPECT_INT_EQ(json_integer_value(json_object_get(summary, "pending")), 0);

    snprintf(total_text, sizeof total_text, "%llu", bytes_purged);
    EXPECT_STR_EQ(get_string(summary, "bytes_purged"), total_text);
    snprintf(total_text, sizeof total_text, "%llu", bytes_not_purged);
    EXPECT_STR_EQ(get_string(summary, "bytes_not_purged"), total_text);

    check_summary_time(summary, "earliest_start", items, "start_time");
    check_summary_time(summary, "latest_finish", items, "finish_time");
}

/* Parses a result given as JSON text and checks it as the seeded one. */
static void check_seeded_result_text(const char *text)
{
    json_error_t parse_error;
    json_t *result = json_loads(text, 0, &parse_error);

    if (!EXPECT_NOT_NULL(result)) {
        fprintf(stderr, "  result is not JSON: %s\n", parse_error.text);
        return;
    }
    check_seeded_result(result);
    json_decref(result);
}

/* Builds the seeded operation's request as JSON text. Free it with free(). */
static char *build_seeded_request_text(void)
{
    json_t *request = json_pack("{s:s, s:s, s:i}", "namespace",
                                SEEDED_NAMESPACE, "name", SEEDED_NAME,
                                "service_op_id", SEEDED_OPERATION_ID);
    char *text;

    if (request == NULL) {
        return NULL;
    }
    text = json_dumps(request, JSON_COMPACT);
    json_decref(request);
    return text;
}

/* ------------------------------------------------------------------------ */
/* Version and result codes                                                 */
/* ------------------------------------------------------------------------ */

static void test_version_macros_match_runtime(void)
{
    char expected[32];

    snprintf(expected, sizeof expected, "%d.%d.%d", OPSTATUS_VERSION_MAJOR,
             OPSTATUS_VERSION_MINOR, OPSTATUS_VERSION_PATCH);
    EXPECT_STR_EQ(opstatus_version(), expected);
    EXPECT_INT_EQ(opstatus_version_number(), OPSTATUS_VERSION_NUMBER);
    EXPECT_INT_EQ(OPSTATUS_VERSION_NUMBER,
                  OPSTATUS_VERSION_MAJOR * 10000 +
                      OPSTATUS_VERSION_MINOR * 100 + OPSTATUS_VERSION_PATCH);
}

static void test_strerror_every_code(void)
{
    const char *texts[OPSTATUS_EINTERNAL + 1];
    int code;
    int other;

    for (code = OPSTATUS_OK; code <= OPSTATUS_EINTERNAL; code++) {
        const char *text = opstatus_strerror((opstatus_result)code);

        texts[code] = text;
        if (!EXPECT_NOT_NULL(text)) {
            fprintf(stderr, "  for code %d\n", code);
            continue;
        }
        if (!EXPECT_TRUE(text[0] != '\0') ||
            !EXPECT_TRUE(strcmp(text, "unknown result code") != 0) ||
            !EXPECT_TRUE(strchr(text, '\n') == NULL)) {
            fprintf(stderr, "  for code %d: \"%s\"\n", code, text);
        }
    }

    /* Each code has its own text, so a message never hides which it was. */
    for (code = OPSTATUS_OK; code <= OPSTATUS_EINTERNAL; code++) {
        for (other = code + 1; other <= OPSTATUS_EINTERNAL; other++) {
            if (texts[code] != NULL && texts[other] != NULL &&
                strcmp(texts[code], texts[other]) == 0) {
                report_check_failure(__FILE__, __LINE__,
                                     "codes %d and %d share the text \"%s\"",
                                     code, other, texts[code]);
            }
        }
    }
}

static void test_strerror_unknown_code(void)
{
    EXPECT_STR_EQ(opstatus_strerror((opstatus_result)19),
                  "unknown result code");
    EXPECT_STR_EQ(opstatus_strerror((opstatus_result)1000),
                  "unknown result code");
    EXPECT_STR_EQ(opstatus_strerror((opstatus_result)-1),
                  "unknown result code");
}

/* ------------------------------------------------------------------------ */
/* opstatus_client_new                                                      */
/* ------------------------------------------------------------------------ */

static void test_client_new_null_out(void)
{
    char *config = build_client_config(test_api_url, test_token);

    if (!EXPECT_NOT_NULL(config)) {
        return;
    }
    EXPECT_FAILURE(opstatus_client_new(NULL, config), OPSTATUS_EINVAL, "out");
    free(config);
}

/* Prints settings for a failure message, with the API token replaced. */
static void print_settings_without_token(const char *config_json)
{
    json_t *config;
    char *text;

    if (config_json == NULL) {
        fprintf(stderr, "  for settings NULL\n");
        return;
    }
    config = json_loads(config_json, 0, NULL);
    if (!json_is_object(config)) {
        /* Only the tests' own malformed literals get here; none has a token. */
        fprintf(stderr, "  for settings %s\n", config_json);
        json_decref(config);
        return;
    }
    if (json_object_get(config, "api_token") != NULL) {
        json_object_set_new(config, "api_token", json_string("(redacted)"));
    }
    text = json_dumps(config, JSON_COMPACT);
    fprintf(stderr, "  for settings %s\n",
            text != NULL ? text : "(not printable)");
    free(text);
    json_decref(config);
}

/*
 * Calls opstatus_client_new with config_json, and checks that it fails with
 * expected_code, that the message contains message_part and that the
 * client pointer is set to NULL.
 */
static void expect_client_new_failure_at(const char *file, int line,
                                         const char *config_json,
                                         opstatus_result expected_code,
                                         const char *message_part)
{
    opstatus_client *client = SENTINEL;
    opstatus_result code = opstatus_client_new(&client, config_json);

    if (!expect_failure_at(file, line, code, expected_code, message_part)) {
        print_settings_without_token(config_json);
    }
    if (!expect_null_at(file, line, "client", client)) {
        if (code == OPSTATUS_OK) {
            opstatus_client_free(client);
        }
    }
}

#define EXPECT_CLIENT_NEW_FAILURE(config_json, expected_code, message_part) \
    expect_client_new_failure_at(__FILE__, __LINE__, (config_json), \
                                 (expected_code), (message_part))

static void test_client_new_invalid_json(void)
{
    EXPECT_CLIENT_NEW_FAILURE("{\"api_url\": ", OPSTATUS_EINVAL, NULL);
    EXPECT_CLIENT_NEW_FAILURE("not json", OPSTATUS_EINVAL, NULL);
}

static void test_client_new_non_object_json(void)
{
    EXPECT_CLIENT_NEW_FAILURE("[]", OPSTATUS_EINVAL, NULL);
    EXPECT_CLIENT_NEW_FAILURE("\"https://127.0.0.1/api\"", OPSTATUS_EINVAL,
                              NULL);
    EXPECT_CLIENT_NEW_FAILURE("42", OPSTATUS_EINVAL, NULL);
}

static void test_client_new_unknown_key(void)
{
    json_t *config = json_pack("{s:s, s:s, s:i}", "api_url", test_api_url,
                               "api_token", test_token, "timeout_msec", 5000);
    char *text = json_dumps(config, JSON_COMPACT);

    json_decref(config);
    if (!EXPECT_NOT_NULL(text)) {
        return;
    }
    EXPECT_CLIENT_NEW_FAILURE(text, OPSTATUS_ECONFIG, "timeout_msec");
    free(text);
}

static void test_client_new_missing_api_url(void)
{
    json_t *config = json_pack("{s:s, s:b}", "api_token", test_token,
                               "use_environment", 0);
    char *text = json_dumps(config, JSON_COMPACT);

    json_decref(config);
    if (!EXPECT_NOT_NULL(text)) {
        return;
    }
    EXPECT_CLIENT_NEW_FAILURE(text, OPSTATUS_ECONFIG, "api_url");
    free(text);

    /*
     * NULL and "" mean {}, which lacks api_url too, because main() cleared
     * the environment variables that could supply it.
     */
    EXPECT_CLIENT_NEW_FAILURE(NULL, OPSTATUS_ECONFIG, "api_url");
    EXPECT_CLIENT_NEW_FAILURE("", OPSTATUS_ECONFIG, "api_url");
    EXPECT_CLIENT_NEW_FAILURE("{}", OPSTATUS_ECONFIG, "api_url");
}

static void test_client_new_missing_api_token(void)
{
    json_t *config = json_pack("{s:s, s:b}", "api_url", test_api_url,
                               "use_environment", 0);
    char *text = json_dumps(config, JSON_COMPACT);

    json_decref(config);
    if (!EXPECT_NOT_NULL(text)) {
        return;
    }
    EXPECT_CLIENT_NEW_FAILURE(text, OPSTATUS_ECONFIG, "api_token");
    free(text);
}

static void test_client_new_http_non_loopback(void)
{
    /* ".invalid" never resolves, and the URL is rejected before any lookup. */
    EXPECT_CLIENT_NEW_FAILURE(
        "{\"api_url\": \"http://tenant.example.invalid/api\", "
        "\"api_token\": \"placeholder\"}",
        OPSTATUS_ECONFIG, "api_url");
    EXPECT_CLIENT_NEW_FAILURE(
        "{\"api_url\": \"http://10.0.0.1/api\", "
        "\"api_token\": \"placeholder\"}",
        OPSTATUS_ECONFIG, "api_url");
}

static void test_client_new_http_loopback_accepted(void)
{
    static const char *const urls[] = {
        "http://127.0.0.1:9/api",
        "http://[::1]:9/",
        "http://localhost:9",
    };
    size_t index;

    for (index = 0; index < sizeof urls / sizeof urls[0]; index++) {
        json_t *config = json_pack("{s:s, s:s}", "api_url", urls[index],
                                   "api_token", "placeholder");
        char *text = json_dumps(config, JSON_COMPACT);
        opstatus_client *client = SENTINEL;
        opstatus_result code;

        json_decref(config);
        if (!EXPECT_NOT_NULL(text)) {
            continue;
        }
        code = opstatus_client_new(&client, text);
        if (!EXPECT_INT_EQ(code, OPSTATUS_OK)) {
            fprintf(stderr, "  for %s: %s\n", urls[index],
                    opstatus_last_error()->message);
        } else {
            EXPECT_NOT_NULL(client);
            EXPECT_INT_EQ(opstatus_last_error()->code, OPSTATUS_OK);
            EXPECT_STR_EQ(opstatus_last_error()->message, "");
            opstatus_client_free(client);
        }
        free(text);
    }
}

static void test_client_new_wrong_setting_types(void)
{
    /* Each case sets one key to a value of the wrong JSON type. */
    static const struct {
        const char *key;
        const char *value_json;
    } cases[] = {
        { "api_url", "5" },
        { "api_token", "true" },
        { "ca_file", "[\"ca.pem\"]" },
        { "connect_timeout_ms", "true" },
        { "deadline_ms", "\"one minute\"" },
        { "max_attempts", "[4]" },
        { "use_environment", "\"no\"" },
        { "resource_kind", "1" },
        { "timeout_ms", "1.5" },
        { "max_response_bytes", "{}" },
        { "success_statuses", "\"success\"" },
        { "failure_statuses", "[1]" },
    };
    size_t index;

    for (index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        json_t *config = json_pack("{s:s, s:s}", "api_url", test_api_url,
                                   "api_token", test_token);
        json_t *value = json_loads(cases[index].value_json, JSON_DECODE_ANY,
                                   NULL);
        char *text;

        if (!EXPECT_NOT_NULL(config) || !EXPECT_NOT_NULL(value)) {
            json_decref(config);
            json_decref(value);
            continue;
        }
        json_object_set_new(config, cases[index].key, value);
        text = json_dumps(config, JSON_COMPACT);
        json_decref(config);
        if (!EXPECT_NOT_NULL(text)) {
            continue;
        }
        EXPECT_CLIENT_NEW_FAILURE(text, OPSTATUS_ECONFIG, cases[index].key);
        free(text);
    }
}

/*
 * Environment variables that opstatus_client_new reads for settings absent
 * from the config JSON, as the header lists them.
 */
static const char *const setting_variables[] = {
    "F5XC_API_URL", "VOLT_API_URL", "F5XC_API_TOKEN", "F5XC_P12_FILE",
    "VOLT_API_P12_FILE", "F5XC_P12_PASSWORD", "VES_P12_PASSWORD",
    "F5XC_CERT", "VOLT_API_CERT", "F5XC_KEY", "VOLT_API_KEY", "F5XC_CACERT",
    "VOLT_API_CA_CERT", "VOLT_API_TIMEOUT",
};

static void clear_setting_variables(void)
{
    size_t count = sizeof setting_variables / sizeof setting_variables[0];
    size_t index;

    for (index = 0; index < count; index++) {
        unsetenv(setting_variables[index]);
    }
}

/* Gets the seeded status with client and checks that it succeeds. */
static void expect_seeded_status_at(const char *file, int line,
                                    opstatus_client *client)
{
    char *result = NULL;
    opstatus_result code = opstatus_get_status(
        &result, client, SEEDED_NAMESPACE, SEEDED_NAME, SEEDED_OPERATION_ID);

    if (!expect_int_eq_at(file, line, "opstatus_get_status(...)",
                          "OPSTATUS_OK", code, OPSTATUS_OK)) {
        fprintf(stderr, "  library message: %s\n",
                opstatus_last_error()->message);
    } else if (expect_not_null_at(file, line, "result", result)) {
        check_seeded_result_text(result);
    }
    opstatus_free(result);
}

#define EXPECT_SEEDED_STATUS(client) \
    expect_seeded_status_at(__FILE__, __LINE__, (client))

static void test_client_new_reads_environment(void)
{
    opstatus_client *client = NULL;

    setenv("F5XC_API_URL", test_api_url, 1);
    setenv("F5XC_API_TOKEN", test_token, 1);
    setenv("F5XC_CACERT", test_ca_file, 1);

    if (EXPECT_INT_EQ(opstatus_client_new(&client, NULL), OPSTATUS_OK)) {
        EXPECT_SEEDED_STATUS(client);
        opstatus_client_free(client);
    }

    /* F5's own tools name the URL VOLT_API_URL. */
    unsetenv("F5XC_API_URL");
    setenv("VOLT_API_URL", test_api_url, 1);
    client = NULL;
    if (EXPECT_INT_EQ(opstatus_client_new(&client, "{}"), OPSTATUS_OK)) {
        EXPECT_SEEDED_STATUS(client);
        opstatus_client_free(client);
    }

    EXPECT_CLIENT_NEW_FAILURE("{\"use_environment\": false}",
                              OPSTATUS_ECONFIG, "api_url");
    clear_setting_variables();
}

static void test_client_new_json_beats_environment(void)
{
    /* A wrong token in the environment loses to the right one in the JSON. */
    opstatus_client *client;

    setenv("F5XC_API_TOKEN", "not-the-emulator-token", 1);
    client = new_emulator_client();
    if (client != NULL) {
        EXPECT_SEEDED_STATUS(client);
        opstatus_client_free(client);
    }
    clear_setting_variables();
}

static void test_client_free_null(void)
{
    /* Freeing NULL has no effect to observe, so the test is that it returns. */
    opstatus_client_free(NULL);
    opstatus_free(NULL);
}

/* ------------------------------------------------------------------------ */
/* Status: success in all three forms                                       */
/* ------------------------------------------------------------------------ */

static void test_status_json_text_success(void)
{
    opstatus_client *client = new_emulator_client();
    char *request = build_seeded_request_text();
    char *result = SENTINEL;
    opstatus_result code;

    if (client == NULL || !EXPECT_NOT_NULL(request)) {
        goto cleanup;
    }
    code = opstatus_get_status_json(&result, client, request);
    if (!EXPECT_INT_EQ(code, OPSTATUS_OK)) {
        fprintf(stderr, "  library message: %s\n",
                opstatus_last_error()->message);
        goto cleanup;
    }
    EXPECT_INT_EQ(opstatus_last_error()->code, OPSTATUS_OK);
    EXPECT_STR_EQ(opstatus_last_error()->message, "");
    if (EXPECT_NOT_NULL(result)) {
        check_seeded_result_text(result);
        opstatus_free(result);
    }

cleanup:
    free(request);
    opstatus_client_free(client);
}

static void test_status_json_text_string_id(void)
{
    opstatus_client *client = new_emulator_client();
    char *result = NULL;
    opstatus_result code;

    if (client == NULL) {
        return;
    }
    code = opstatus_get_status_json(
        &result, client,
        "{\"namespace\": \"demo\", \"name\": \"shop-frontend\", "
        "\"service_op_id\": \"101\"}");
    if (EXPECT_INT_EQ(code, OPSTATUS_OK) && EXPECT_NOT_NULL(result)) {
        check_seeded_result_text(result);
    } else {
        fprintf(stderr, "  library message: %s\n",
                opstatus_last_error()->message);
    }
    opstatus_free(result);
    opstatus_client_free(client);
}

static void test_status_value_success(void)
{
    opstatus_client *client = new_emulator_client();
    json_t *request = json_pack("{s:s, s:s, s:i}", "namespace",
                                SEEDED_NAMESPACE, "name", SEEDED_NAME,
                                "service_op_id", SEEDED_OPERATION_ID);
    json_t *result = SENTINEL;
    opstatus_result code;

    if (client == NULL || !EXPECT_NOT_NULL(request)) {
        goto cleanup;
    }
    code = opstatus_get_status_value(&result, client, request);
    if (!EXPECT_INT_EQ(code, OPSTATUS_OK)) {
        fprintf(stderr, "  library message: %s\n",
                opstatus_last_error()->message);
        goto cleanup;
    }
    if (EXPECT_NOT_NULL(result)) {
        check_seeded_result(result);
        /* The result is a new reference that this test owns alone. */
        EXPECT_INT_EQ(result->refcount, 1);
        json_decref(result);
    }

    /* The function neither keeps nor changes the request. */
    EXPECT_INT_EQ(request->refcount, 1);
    EXPECT_INT_EQ(json_object_size(request), 3);
    EXPECT_STR_EQ(get_string(request, "namespace"), SEEDED_NAMESPACE);
    EXPECT_STR_EQ(get_string(request, "name"), SEEDED_NAME);
    EXPECT_INT_EQ(json_integer_value(json_object_get(request, "service_op_id")),
                  SEEDED_OPERATION_ID);

cleanup:
    json_decref(request);
    opstatus_client_free(client);
}

static void test_status_plain_success(void)
{
    opstatus_client *client = new_emulator_client();
    char *result = SENTINEL;
    opstatus_result code;

    if (client == NULL) {
        return;
    }
    code = opstatus_get_status(&result, client, SEEDED_NAMESPACE, SEEDED_NAME,
                               SEEDED_OPERATION_ID);
    if (EXPECT_INT_EQ(code, OPSTATUS_OK) && EXPECT_NOT_NULL(result)) {
        check_seeded_result_text(result);
        opstatus_free(result);
    } else {
        fprintf(stderr, "  library message: %s\n",
                opstatus_last_error()->message);
    }
    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* Status: HTTP failures                                                    */
/* ------------------------------------------------------------------------ */

static void test_status_wrong_token_unauthorized(void)
{
    opstatus_client *client = new_client_with_token("not-the-emulator-token");
    char *result = SENTINEL;
    opstatus_result code;

    if (client == NULL) {
        return;
    }
    code = opstatus_get_status(&result, client, SEEDED_NAMESPACE, SEEDED_NAME,
                               SEEDED_OPERATION_ID);
    EXPECT_FAILURE(code, OPSTATUS_EUNAUTHORIZED, NULL);
    EXPECT_INT_EQ(opstatus_last_error()->http_status, 401);
    EXPECT_NULL(result);
    opstatus_client_free(client);
}

static void test_status_unknown_load_balancer(void)
{
    opstatus_client *client = new_emulator_client();
    char *result = SENTINEL;
    opstatus_result code;

    if (client == NULL) {
        return;
    }
    code = opstatus_get_status(&result, client, SEEDED_NAMESPACE,
                               "no-such-load-balancer", SEEDED_OPERATION_ID);
    EXPECT_FAILURE(code, OPSTATUS_ENOTFOUND, NULL);
    EXPECT_INT_EQ(opstatus_last_error()->http_status, 404);
    EXPECT_NULL(result);
    opstatus_client_free(client);
}

static void test_status_unknown_operation_id(void)
{
    opstatus_client *client = new_emulator_client();
    char *result = SENTINEL;
    opstatus_result code;

    if (client == NULL) {
        return;
    }
    code = opstatus_get_status(&result, client, SEEDED_NAMESPACE, SEEDED_NAME,
                               987654);
    EXPECT_FAILURE(code, OPSTATUS_ENOTFOUND, NULL);
    EXPECT_INT_EQ(opstatus_last_error()->http_status, 404);
    EXPECT_NULL(result);
    opstatus_client_free(client);
}

/* Queues count faults that each return HTTP 503. */
static bool queue_unavailable_faults(int count)
{
    json_t *faults = json_array();
    int index;

    if (!EXPECT_NOT_NULL(faults)) {
        return false;
    }
    for (index = 0; index < count; index++) {
        json_array_append_new(faults, json_pack("{s:s, s:i}", "kind", "status",
                                                "status", 503));
    }
    return queue_faults(faults);
}

static void test_status_503_without_retries(void)
{
    opstatus_client *client = new_client_with_settings(
        test_token, json_pack("{s:i}", "max_attempts", 1));
    char *result = SENTINEL;
    opstatus_result code;

    if (client == NULL) {
        return;
    }
    if (queue_unavailable_faults(1)) {
        code = opstatus_get_status(&result, client, SEEDED_NAMESPACE,
                                   SEEDED_NAME, SEEDED_OPERATION_ID);
        EXPECT_FAILURE(code, OPSTATUS_EUNAVAILABLE, NULL);
        EXPECT_INT_EQ(opstatus_last_error()->http_status, 503);
        EXPECT_NULL(result);
        if (code == OPSTATUS_OK) {
            opstatus_free(result);
        }
    }
    EXPECT_TRUE(reset_emulator());
    opstatus_client_free(client);
}

static void test_status_503_retries_exhausted(void)
{
    /*
     * Five faults meet a client allowed four attempts. A client without
     * retries then counts what is left: exactly one fault, so its first
     * call fails and its second succeeds.
     */
    opstatus_client *client = new_client_with_settings(
        test_token, json_pack("{s:i, s:i, s:i}", "max_attempts", 4,
                              "retry_base_ms", 10, "retry_max_ms", 20));
    opstatus_client *single_attempt_client = new_client_with_settings(
        test_token, json_pack("{s:i}", "max_attempts", 1));
    char *result = SENTINEL;
    opstatus_result code;

    if (client == NULL || single_attempt_client == NULL ||
        !queue_unavailable_faults(5)) {
        goto cleanup;
    }
    code = opstatus_get_status(&result, client, SEEDED_NAMESPACE, SEEDED_NAME,
                               SEEDED_OPERATION_ID);
    EXPECT_FAILURE(code, OPSTATUS_EUNAVAILABLE, NULL);
    EXPECT_INT_EQ(opstatus_last_error()->http_status, 503);
    EXPECT_NULL(result);
    if (code == OPSTATUS_OK) {
        opstatus_free(result);
    }

    result = NULL;
    code = opstatus_get_status(&result, single_attempt_client,
                               SEEDED_NAMESPACE, SEEDED_NAME,
                               SEEDED_OPERATION_ID);
    EXPECT_FAILURE(code, OPSTATUS_EUNAVAILABLE, NULL);
    opstatus_free(result);

    result = NULL;
    code = opstatus_get_status(&result, single_attempt_client,
                               SEEDED_NAMESPACE, SEEDED_NAME,
                               SEEDED_OPERATION_ID);
    EXPECT_INT_EQ(code, OPSTATUS_OK);
    opstatus_free(result);

cleanup:
    EXPECT_TRUE(reset_emulator());
    opstatus_client_free(single_attempt_client);
    opstatus_client_free(client);
}

static void test_status_503_retried_then_ok(void)
{
    opstatus_client *client = new_client_with_settings(
        test_token, json_pack("{s:i, s:i}", "retry_base_ms", 10,
                              "retry_max_ms", 20));
    char *result = NULL;
    opstatus_result code;

    if (client == NULL) {
        return;
    }
    if (queue_unavailable_faults(1)) {
        code = opstatus_get_status(&result, client, SEEDED_NAMESPACE,
                                   SEEDED_NAME, SEEDED_OPERATION_ID);
        if (EXPECT_INT_EQ(code, OPSTATUS_OK) && EXPECT_NOT_NULL(result)) {
            check_seeded_result_text(result);
        } else {
            fprintf(stderr, "  library message: %s\n",
                    opstatus_last_error()->message);
        }
        opstatus_free(result);
    }
    EXPECT_TRUE(reset_emulator());
    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* Status: invalid arguments                                                */
/* ------------------------------------------------------------------------ */

static void test_status_null_out(void)
{
    opstatus_client *client = new_emulator_client();
    char *request = build_seeded_request_text();
    json_t *request_value = json_pack("{s:s, s:s, s:i}", "namespace",
                                      SEEDED_NAMESPACE, "name", SEEDED_NAME,
                                      "service_op_id", SEEDED_OPERATION_ID);

    if (client == NULL || !EXPECT_NOT_NULL(request) ||
        !EXPECT_NOT_NULL(request_value)) {
        goto cleanup;
    }
    EXPECT_FAILURE(opstatus_get_status_json(NULL, client, request),
                   OPSTATUS_EINVAL, "out");
    EXPECT_FAILURE(opstatus_get_status_value(NULL, client, request_value),
                   OPSTATUS_EINVAL, "out");
    EXPECT_FAILURE(opstatus_get_status(NULL, client, SEEDED_NAMESPACE,
                                       SEEDED_NAME, SEEDED_OPERATION_ID),
                   OPSTATUS_EINVAL, "out");

cleanup:
    json_decref(request_value);
    free(request);
    opstatus_client_free(client);
}

static void test_status_null_client(void)
{
    char *request = build_seeded_request_text();
    json_t *request_value = json_pack("{s:s, s:s, s:i}", "namespace",
                                      SEEDED_NAMESPACE, "name", SEEDED_NAME,
                                      "service_op_id", SEEDED_OPERATION_ID);
    char *text_result = SENTINEL;
    json_t *value_result = SENTINEL;

    if (!EXPECT_NOT_NULL(request) || !EXPECT_NOT_NULL(request_value)) {
        goto cleanup;
    }
    EXPECT_FAILURE(opstatus_get_status_json(&text_result, NULL, request),
                   OPSTATUS_EINVAL, "client");
    EXPECT_NULL(text_result);

    EXPECT_FAILURE(opstatus_get_status_value(&value_result, NULL,
                                             request_value),
                   OPSTATUS_EINVAL, "client");
    EXPECT_NULL(value_result);

    text_result = SENTINEL;
    EXPECT_FAILURE(opstatus_get_status(&text_result, NULL, SEEDED_NAMESPACE,
                                       SEEDED_NAME, SEEDED_OPERATION_ID),
                   OPSTATUS_EINVAL, "client");
    EXPECT_NULL(text_result);

cleanup:
    json_decref(request_value);
    free(request);
}

static void test_status_invalid_plain_arguments(void)
{
    enum { NAME_LIMIT = 1024 };
    char long_name[NAME_LIMIT + 2];
    /* C99 allows a local array's initializer to take long_name's address. */
    const struct {
        const char *label;
        const char *ns;
        const char *name;
        int64_t service_op_id;
        const char *field;
    } cases[] = {
        /* The C parameter is named ns, and messages about it use that name. */
        { "NULL namespace", NULL, SEEDED_NAME, 101, "ns" },
        { "empty namespace", "", SEEDED_NAME, 101, "namespace" },
        { "NULL name", SEEDED_NAMESPACE, NULL, 101, "name" },
        { "empty name", SEEDED_NAMESPACE, "", 101, "name" },
        { "negative id", SEEDED_NAMESPACE, SEEDED_NAME, -1, "service_op_id" },
        { "smallest id", SEEDED_NAMESPACE, SEEDED_NAME, INT64_MIN,
          "service_op_id" },
        { "name of 1025 bytes", SEEDED_NAMESPACE, long_name, 101, "name" },
        { "name with newline", SEEDED_NAMESPACE, "shop\nfrontend", 101,
          "name" },
        { "name with escape", SEEDED_NAMESPACE, "shop\033[2Jfrontend", 101,
          "name" },
        { "name not UTF-8", SEEDED_NAMESPACE, "shop-\xff\xfe", 101, "name" },
        { "name truncated UTF-8", SEEDED_NAMESPACE, "shop-\xc3", 101, "name" },
        { "namespace not UTF-8", "de\x80mo", SEEDED_NAME, 101, "ns" },
    };
    opstatus_client *client = new_emulator_client();
    size_t index;

    memset(long_name, 'a', NAME_LIMIT + 1);
    long_name[NAME_LIMIT + 1] = '\0';
    if (client == NULL) {
        return;
    }

    for (index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        char *result = SENTINEL;
        opstatus_result code = opstatus_get_status(
            &result, client, cases[index].ns, cases[index].name,
            cases[index].service_op_id);

        if (!EXPECT_FAILURE(code, OPSTATUS_EINVAL, cases[index].field) ||
            !EXPECT_NULL(result) ||
            !EXPECT_INT_EQ(opstatus_last_error()->http_status, 0)) {
            fprintf(stderr, "  in case \"%s\"\n", cases[index].label);
        }
        if (code == OPSTATUS_OK) {
            opstatus_free(result);
        }
    }
    opstatus_client_free(client);
}

static void test_status_invalid_request_json(void)
{
    static const struct {
        const char *request;
        opstatus_result code;
        const char *field;
    } cases[] = {
        { "{\"name\": \"shop-frontend\", \"service_op_id\": 101}",
          OPSTATUS_EINVAL, "namespace" },
        { "{\"namespace\": \"demo\", \"service_op_id\": 101}",
          OPSTATUS_EINVAL, "name" },
        { "{\"namespace\": \"demo\", \"name\": \"shop-frontend\"}",
          OPSTATUS_EINVAL, "service_op_id" },
        { "{\"namespace\": 7, \"name\": \"shop-frontend\", "
          "\"service_op_id\": 101}", OPSTATUS_EINVAL, "namespace" },
        { "{\"namespace\": \"demo\", \"name\": [\"shop-frontend\"], "
          "\"service_op_id\": 101}", OPSTATUS_EINVAL, "name" },
        { "{\"namespace\": \"demo\", \"name\": \"shop-frontend\", "
          "\"service_op_id\": true}", OPSTATUS_EINVAL, "service_op_id" },
        { "{\"namespace\": \"demo\", \"name\": \"shop-frontend\", "
          "\"service_op_id\": 1.5}", OPSTATUS_EINVAL, "service_op_id" },
        { "{\"namespace\": \"demo\", \"name\": \"shop-frontend\", "
          "\"service_op_id\": \"12x\"}", OPSTATUS_EINVAL, "service_op_id" },
        { "{\"namespace\": \"demo\", \"name\": \"shop-frontend\", "
          "\"service_op_id\": -5}", OPSTATUS_EINVAL, "service_op_id" },
        { "{\"namespace\": \"demo\", \"name\": \"shop-frontend\", "
          "\"service_op_id\": 101, \"site\": \"edge-1\"}",
          OPSTATUS_EINVAL, "site" },
        { "{\"namespace\": \"demo\", \"name\": \"shop-\xff\", "
          "\"service_op_id\": 101}", OPSTATUS_EINVAL, NULL },
        { "[\"demo\", \"shop-frontend\", 101]", OPSTATUS_EINVAL, NULL },
        { "{\"namespace\": \"demo\"", OPSTATUS_EINVAL, NULL },
        { "", OPSTATUS_EINVAL, NULL },
    };
    opstatus_client *client = new_emulator_client();
    size_t index;

    if (client == NULL) {
        return;
    }
    for (index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        char *result = SENTINEL;
        opstatus_result code =
            opstatus_get_status_json(&result, client, cases[index].request);

        if (!EXPECT_FAILURE(code, cases[index].code, cases[index].field) ||
            !EXPECT_NULL(result)) {
            fprintf(stderr, "  for request %s\n", cases[index].request);
        }
        if (code == OPSTATUS_OK) {
            opstatus_free(result);
        }
    }

    {
        char *result = SENTINEL;

        EXPECT_FAILURE(opstatus_get_status_json(&result, client, NULL),
                       OPSTATUS_EINVAL, NULL);
        EXPECT_NULL(result);
    }
    opstatus_client_free(client);
}

/* Calls opstatus_get_status_value and checks an EINVAL naming field. */
static void expect_invalid_request_value_at(const char *file, int line,
                                            opstatus_client *client,
                                            const json_t *request,
                                            const char *field)
{
    json_t *result = SENTINEL;
    opstatus_result code = opstatus_get_status_value(&result, client, request);

    expect_failure_at(file, line, code, OPSTATUS_EINVAL, field);
    expect_null_at(file, line, "result", result);
    if (code == OPSTATUS_OK) {
        json_decref(result);
    }
}

#define EXPECT_INVALID_REQUEST_VALUE(client, request, field) \
    expect_invalid_request_value_at(__FILE__, __LINE__, (client), (request), \
                                    (field))

static void test_status_invalid_request_value(void)
{
    opstatus_client *client = new_emulator_client();
    json_t *request;

    if (client == NULL) {
        return;
    }

    request = json_pack("{s:s, s:i}", "namespace", SEEDED_NAMESPACE,
                        "service_op_id", SEEDED_OPERATION_ID);
    EXPECT_INVALID_REQUEST_VALUE(client, request, "name");
    json_decref(request);

    request = json_pack("{s:s, s:s, s:b}", "namespace", SEEDED_NAMESPACE,
                        "name", SEEDED_NAME, "service_op_id", 1);
    EXPECT_INVALID_REQUEST_VALUE(client, request, "service_op_id");
    json_decref(request);

    request = json_pack("{s:i, s:s, s:i}", "namespace", 3, "name",
                        SEEDED_NAME, "service_op_id", SEEDED_OPERATION_ID);
    EXPECT_INVALID_REQUEST_VALUE(client, request, "namespace");
    json_decref(request);

    request = json_pack("{s:s, s:s, s:i, s:n}", "namespace", SEEDED_NAMESPACE,
                        "name", SEEDED_NAME, "service_op_id",
                        SEEDED_OPERATION_ID, "lastn");
    EXPECT_INVALID_REQUEST_VALUE(client, request, "lastn");
    json_decref(request);

    /* jansson's _nocheck functions let a C host pass text that is not UTF-8. */
    request = json_pack("{s:s, s:i}", "namespace", SEEDED_NAMESPACE,
                        "service_op_id", SEEDED_OPERATION_ID);
    if (EXPECT_NOT_NULL(request)) {
        json_object_set_new(request, "name",
                            json_string_nocheck("shop-\xff"));
        EXPECT_INVALID_REQUEST_VALUE(client, request, "name");
    }
    json_decref(request);

    request = json_array();
    EXPECT_INVALID_REQUEST_VALUE(client, request, NULL);
    json_decref(request);

    EXPECT_INVALID_REQUEST_VALUE(client, NULL, NULL);

    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* Status: responses that are not the seeded ones                           */
/* ------------------------------------------------------------------------ */

static void test_status_largest_uint64_bytes(void)
{
    opstatus_client *client = new_emulator_client();
    json_t *purge = json_pack("{s:s, s:s, s:s, s:s, s:s}",
                              "site", "edge-max",
                              "bytes_purged", MAX_UINT64_TEXT,
                              "bytes_not_purged", "0",
                              "start_time", "2024-05-01T10:00:00Z",
                              "finish_time", "2024-05-01T10:00:07Z");
    json_t *result = NULL;
    json_t *request = NULL;
    const json_t *summary;
    opstatus_result code;

    if (client == NULL || !EXPECT_NOT_NULL(purge)) {
        json_decref(purge);
        goto cleanup;
    }
    if (!queue_raw_json_body(build_one_site_body(purge))) {
        goto cleanup;
    }
    request = json_pack("{s:s, s:s, s:i}", "namespace", SEEDED_NAMESPACE,
                        "name", SEEDED_NAME, "service_op_id",
                        SEEDED_OPERATION_ID);
    code = opstatus_get_status_value(&result, client, request);
    if (!EXPECT_INT_EQ(code, OPSTATUS_OK)) {
        fprintf(stderr, "  library message: %s\n",
                opstatus_last_error()->message);
        goto cleanup;
    }
    EXPECT_STR_EQ(get_string(json_object_get(json_array_get(
                      json_object_get(result, "items"), 0), "purge"),
                      "bytes_purged"),
                  MAX_UINT64_TEXT);
    summary = json_object_get(result, "summary");
    EXPECT_STR_EQ(get_string(summary, "bytes_purged"), MAX_UINT64_TEXT);
    EXPECT_STR_EQ(get_string(summary, "bytes_not_purged"), "0");
    EXPECT_INT_EQ(json_integer_value(json_object_get(summary, "sites")), 1);
    EXPECT_STR_EQ(get_string(summary, "state"), "succeeded");
    EXPECT_STR_EQ(get_string(summary, "earliest_start"),
                  "2024-05-01T10:00:00Z");
    EXPECT_STR_EQ(get_string(summary, "latest_finish"),
                  "2024-05-01T10:00:07Z");

cleanup:
    EXPECT_TRUE(reset_emulator());
    json_decref(result);
    json_decref(request);
    opstatus_client_free(client);
}

static void test_status_bytes_as_number(void)
{
    /* Protobuf's JSON mapping allows a 64-bit integer as a JSON number. */
    opstatus_client *client = new_emulator_client();
    json_t *purge = json_pack("{s:s, s:I, s:I}", "site", "edge-number",
                              "bytes_purged", (json_int_t)1048576,
                              "bytes_not_purged", (json_int_t)12);
    char *result = NULL;
    json_t *parsed = NULL;
    const json_t *purge_result;
    opstatus_result code;

    if (client == NULL || !EXPECT_NOT_NULL(purge)) {
        json_decref(purge);
        goto cleanup;
    }
    if (!queue_raw_json_body(build_one_site_body(purge))) {
        goto cleanup;
    }
    code = opstatus_get_status(&result, client, SEEDED_NAMESPACE, SEEDED_NAME,
                               SEEDED_OPERATION_ID);
    if (!EXPECT_INT_EQ(code, OPSTATUS_OK) || !EXPECT_NOT_NULL(result)) {
        fprintf(stderr, "  library message: %s\n",
                opstatus_last_error()->message);
        goto cleanup;
    }
    parsed = json_loads(result, 0, NULL);
    if (!EXPECT_NOT_NULL(parsed)) {
        goto cleanup;
    }
    purge_result = json_object_get(
        json_array_get(json_object_get(parsed, "items"), 0), "purge");
    EXPECT_STR_EQ(get_string(purge_result, "bytes_purged"), "1048576");
    EXPECT_STR_EQ(get_string(purge_result, "bytes_not_purged"), "12");
    EXPECT_STR_EQ(get_string(json_object_get(parsed, "summary"),
                             "bytes_purged"),
                  "1048576");
    /* The server left out both times, so the summary has none either. */
    EXPECT_NULL(json_object_get(purge_result, "start_time"));
    EXPECT_TRUE(json_is_null(json_object_get(
        json_object_get(parsed, "summary"), "earliest_start")));
    EXPECT_TRUE(json_is_null(json_object_get(
        json_object_get(parsed, "summary"), "latest_finish")));

cleanup:
    EXPECT_TRUE(reset_emulator());
    json_decref(parsed);
    opstatus_free(result);
    opstatus_client_free(client);
}

static void test_status_bytes_wrong_type(void)
{
    opstatus_client *client = new_emulator_client();
    json_t *purge = json_pack("{s:s, s:b}", "site", "edge-bool",
                              "bytes_purged", 1);
    char *result = SENTINEL;
    opstatus_result code;

    if (client == NULL || !EXPECT_NOT_NULL(purge)) {
        json_decref(purge);
        goto cleanup;
    }
    if (!queue_raw_json_body(build_one_site_body(purge))) {
        goto cleanup;
    }
    code = opstatus_get_status(&result, client, SEEDED_NAMESPACE, SEEDED_NAME,
                               SEEDED_OPERATION_ID);
    EXPECT_FAILURE(code, OPSTATUS_EPROTOCOL, "items[0].purge.bytes_purged");
    EXPECT_INT_EQ(opstatus_last_error()->http_status, 200);
    EXPECT_NULL(result);
    if (code == OPSTATUS_OK) {
        opstatus_free(result);
    }

cleanup:
    EXPECT_TRUE(reset_emulator());
    opstatus_client_free(client);
}

static void test_status_api_error_eperms(void)
{
    opstatus_client *client = new_emulator_client();
    char *result = SENTINEL;
    opstatus_result code;

    if (client == NULL) {
        return;
    }
    if (queue_faults(json_pack("[{s:s, s:s}]", "kind", "api_error", "code",
                               "EPERMS"))) {
        code = opstatus_get_status(&result, client, SEEDED_NAMESPACE,
                                   SEEDED_NAME, SEEDED_OPERATION_ID);
        EXPECT_FAILURE(code, OPSTATUS_EAPI, NULL);
        EXPECT_STR_EQ(opstatus_last_error()->api_code, "EPERMS");
        EXPECT_INT_EQ(opstatus_last_error()->http_status, 200);
        EXPECT_NULL(result);
        if (code == OPSTATUS_OK) {
            opstatus_free(result);
        }
    }
    EXPECT_TRUE(reset_emulator());
    opstatus_client_free(client);
}

static void test_status_api_error_epartial(void)
{
    opstatus_client *client = new_emulator_client();
    json_t *request = json_pack("{s:s, s:s, s:i}", "namespace",
                                SEEDED_NAMESPACE, "name", SEEDED_NAME,
                                "service_op_id", SEEDED_OPERATION_ID);
    json_t *result = NULL;
    const json_t *error;
    opstatus_result code;

    if (client == NULL || !EXPECT_NOT_NULL(request)) {
        goto cleanup;
    }
    if (!queue_faults(json_pack("[{s:s, s:s}]", "kind", "api_error", "code",
                                "EPARTIAL"))) {
        goto cleanup;
    }
    code = opstatus_get_status_value(&result, client, request);
    if (!EXPECT_INT_EQ(code, OPSTATUS_OK) || !EXPECT_NOT_NULL(result)) {
        fprintf(stderr, "  library message: %s\n",
                opstatus_last_error()->message);
        goto cleanup;
    }
    error = json_object_get(result, "error");
    if (EXPECT_TRUE(json_is_object(error))) {
        EXPECT_STR_EQ(get_string(error, "code"), "EPARTIAL");
    }
    EXPECT_TRUE(json_is_array(json_object_get(result, "items")));
    EXPECT_TRUE(json_is_object(json_object_get(result, "summary")));
    EXPECT_INT_EQ(opstatus_last_error()->code, OPSTATUS_OK);

cleanup:
    EXPECT_TRUE(reset_emulator());
    json_decref(result);
    json_decref(request);
    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* Log callback                                                             */
/* ------------------------------------------------------------------------ */

/* Counts of the log messages that record_log_message received. */
struct log_record {
    int message_count;
    int messages_below_level;
    int messages_with_token;
    int messages_not_one_line;
    opstatus_log_level least_level;
    int warning_count;
};

static void record_log_message(opstatus_log_level level, const char *message,
                               void *payload)
{
    struct log_record *record = payload;

    record->message_count++;
    if (level < record->least_level) {
        record->messages_below_level++;
    }
    if (level == OPSTATUS_LOG_WARNING) {
        record->warning_count++;
    }
    if (message == NULL || strstr(message, test_token) != NULL) {
        record->messages_with_token++;
    }
    if (message == NULL || message[0] == '\0' ||
        strchr(message, '\n') != NULL) {
        record->messages_not_one_line++;
    }
}

static void test_log_callback_invalid_arguments(void)
{
    struct log_record record;
    opstatus_client *client = new_emulator_client();

    memset(&record, 0, sizeof record);
    EXPECT_FAILURE(opstatus_set_log_callback(NULL, OPSTATUS_LOG_DEBUG,
                                             record_log_message, &record),
                   OPSTATUS_EINVAL, "client");
    if (client == NULL) {
        return;
    }
    EXPECT_FAILURE(opstatus_set_log_callback(client, (opstatus_log_level)15,
                                             record_log_message, &record),
                   OPSTATUS_EINVAL, "level");
    EXPECT_FAILURE(opstatus_set_log_callback(client, (opstatus_log_level)0,
                                             record_log_message, &record),
                   OPSTATUS_EINVAL, "level");
    opstatus_client_free(client);
}

static void test_log_callback_debug_requests(void)
{
    struct log_record record;
    opstatus_client *client = new_emulator_client();
    int count_before_removal;

    if (client == NULL) {
        return;
    }
    memset(&record, 0, sizeof record);
    record.least_level = OPSTATUS_LOG_DEBUG;
    EXPECT_INT_EQ(opstatus_set_log_callback(client, OPSTATUS_LOG_DEBUG,
                                            record_log_message, &record),
                  OPSTATUS_OK);
    EXPECT_SEEDED_STATUS(client);

    EXPECT_TRUE(record.message_count >= 1);
    EXPECT_INT_EQ(record.messages_with_token, 0);
    EXPECT_INT_EQ(record.messages_not_one_line, 0);

    /* After NULL replaces the callback, requests log nothing more. */
    count_before_removal = record.message_count;
    EXPECT_INT_EQ(opstatus_set_log_callback(client, OPSTATUS_LOG_DEBUG, NULL,
                                            NULL),
                  OPSTATUS_OK);
    EXPECT_SEEDED_STATUS(client);
    EXPECT_INT_EQ(record.message_count, count_before_removal);
    opstatus_client_free(client);
}

static void test_log_callback_warns_on_retry(void)
{
    struct log_record record;
    opstatus_client *client = new_client_with_settings(
        test_token, json_pack("{s:i, s:i}", "retry_base_ms", 10,
                              "retry_max_ms", 20));

    if (client == NULL) {
        return;
    }
    memset(&record, 0, sizeof record);
    record.least_level = OPSTATUS_LOG_WARNING;
    EXPECT_INT_EQ(opstatus_set_log_callback(client, OPSTATUS_LOG_WARNING,
                                            record_log_message, &record),
                  OPSTATUS_OK);
    if (queue_unavailable_faults(1)) {
        EXPECT_SEEDED_STATUS(client);
        EXPECT_TRUE(record.warning_count >= 1);
        EXPECT_INT_EQ(record.messages_below_level, 0);
        EXPECT_INT_EQ(record.messages_with_token, 0);
    }
    EXPECT_TRUE(reset_emulator());
    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* Last error                                                               */
/* ------------------------------------------------------------------------ */

/* Checks that object has key, with an integer or null as its value. */
static void check_number_or_null(const json_t *object, const char *key)
{
    const json_t *value = json_object_get(object, key);

    if (!EXPECT_NOT_NULL(value)) {
        fprintf(stderr, "  key \"%s\" is missing\n", key);
        return;
    }
    if (!EXPECT_TRUE(json_is_integer(value) || json_is_null(value))) {
        fprintf(stderr, "  key \"%s\" is neither a number nor null\n", key);
    }
}

static void test_last_error_json_after_failure(void)
{
    opstatus_client *client = new_emulator_client();
    char *result = NULL;
    char *message = NULL;
    char *error_text = NULL;
    json_t *error = NULL;
    opstatus_result code;

    if (client == NULL) {
        return;
    }
    code = opstatus_get_status(&result, client, SEEDED_NAMESPACE,
                               "no-such-load-balancer", SEEDED_OPERATION_ID);
    if (!EXPECT_FAILURE(code, OPSTATUS_ENOTFOUND, NULL)) {
        goto cleanup;
    }
    /* Copied because the next opstatus call may replace the message. */
    message = strdup(opstatus_last_error()->message);
    if (!EXPECT_NOT_NULL(message)) {
        goto cleanup;
    }

    error_text = opstatus_last_error_json();
    if (!EXPECT_NOT_NULL(error_text)) {
        goto cleanup;
    }
    error = json_loads(error_text, 0, NULL);
    if (!EXPECT_NOT_NULL(error)) {
        fprintf(stderr, "  not JSON: %s\n", error_text);
        goto cleanup;
    }
    EXPECT_TRUE(json_is_object(error));
    EXPECT_TRUE(json_is_integer(json_object_get(error, "code")));
    EXPECT_INT_EQ(json_integer_value(json_object_get(error, "code")),
                  OPSTATUS_ENOTFOUND);
    EXPECT_STR_EQ(get_string(error, "name"), "OPSTATUS_ENOTFOUND");
    EXPECT_STR_EQ(get_string(error, "message"), message);
    EXPECT_TRUE(json_is_integer(json_object_get(error, "http_status")));
    EXPECT_INT_EQ(json_integer_value(json_object_get(error, "http_status")),
                  404);
    EXPECT_TRUE(json_is_string(json_object_get(error, "api_code")) ||
                json_is_null(json_object_get(error, "api_code")));
    check_number_or_null(error, "retry_after_ms");
    EXPECT_INT_EQ(json_object_size(error), 6);

    /* Reading the error as JSON leaves the error itself in place. */
    EXPECT_INT_EQ(opstatus_last_error()->code, OPSTATUS_ENOTFOUND);

cleanup:
    json_decref(error);
    opstatus_free(error_text);
    free(message);
    opstatus_free(result);
    opstatus_client_free(client);
}

static void test_last_error_json_names_codes(void)
{
    /* Failures that need no server, each with the name it must report. */
    opstatus_client *client = SENTINEL;
    char *error_text;
    json_t *error;

    EXPECT_INT_EQ(opstatus_client_new(&client, "[]"), OPSTATUS_EINVAL);
    error_text = opstatus_last_error_json();
    error = error_text != NULL ? json_loads(error_text, 0, NULL) : NULL;
    if (EXPECT_NOT_NULL(error)) {
        EXPECT_STR_EQ(get_string(error, "name"), "OPSTATUS_EINVAL");
        EXPECT_INT_EQ(json_integer_value(json_object_get(error, "code")),
                      OPSTATUS_EINVAL);
        /*
         * The header allows null or a number for a missing HTTP status and
         * retry delay, so the struct's 0 and -1 are accepted too.
         */
        check_number_or_null(error, "http_status");
        check_number_or_null(error, "retry_after_ms");
        EXPECT_TRUE(json_is_null(json_object_get(error, "http_status")) ||
                    json_integer_value(json_object_get(error, "http_status"))
                        == 0);
        EXPECT_TRUE(json_is_null(json_object_get(error, "api_code")));
        EXPECT_TRUE(
            json_is_null(json_object_get(error, "retry_after_ms")) ||
            json_integer_value(json_object_get(error, "retry_after_ms")) == -1);
    }
    json_decref(error);
    opstatus_free(error_text);

    client = SENTINEL;
    EXPECT_INT_EQ(opstatus_client_new(&client, "{}"), OPSTATUS_ECONFIG);
    error_text = opstatus_last_error_json();
    error = error_text != NULL ? json_loads(error_text, 0, NULL) : NULL;
    if (EXPECT_NOT_NULL(error)) {
        EXPECT_STR_EQ(get_string(error, "name"), "OPSTATUS_ECONFIG");
        EXPECT_CONTAINS(get_string(error, "message"), "api_url");
    }
    json_decref(error);
    opstatus_free(error_text);
}

static void test_last_error_cleared_by_success(void)
{
    opstatus_client *client = new_emulator_client();
    char *result = NULL;
    char *error_text = NULL;
    json_t *error = NULL;
    const opstatus_error *last;

    if (client == NULL) {
        return;
    }
    EXPECT_INT_EQ(opstatus_get_status(&result, client, "", SEEDED_NAME,
                                      SEEDED_OPERATION_ID),
                  OPSTATUS_EINVAL);
    EXPECT_INT_EQ(opstatus_get_status(&result, client, SEEDED_NAMESPACE,
                                      SEEDED_NAME, SEEDED_OPERATION_ID),
                  OPSTATUS_OK);

    last = opstatus_last_error();
    EXPECT_INT_EQ(last->code, OPSTATUS_OK);
    EXPECT_STR_EQ(last->message, "");
    EXPECT_INT_EQ(last->http_status, 0);
    EXPECT_NULL(last->api_code);
    EXPECT_INT_EQ(last->retry_after_ms, -1);

    error_text = opstatus_last_error_json();
    error = error_text != NULL ? json_loads(error_text, 0, NULL) : NULL;
    if (EXPECT_NOT_NULL(error)) {
        EXPECT_INT_EQ(json_integer_value(json_object_get(error, "code")),
                      OPSTATUS_OK);
        EXPECT_STR_EQ(get_string(error, "name"), "OPSTATUS_OK");
        EXPECT_STR_EQ(get_string(error, "message"), "");
        EXPECT_TRUE(json_is_null(json_object_get(error, "api_code")));
    }

    json_decref(error);
    opstatus_free(error_text);
    opstatus_free(result);
    opstatus_client_free(client);
}

/*
 * One thread's view of its own last error: the state before its first
 * call, the code its call returned, and the last error read after every
 * other thread has failed as well.
 */
struct thread_error_probe {
    opstatus_client *client;
    const char *ns;
    const char *name;
    pthread_barrier_t *barrier;
    opstatus_result initial_code;
    bool initial_message_empty;
    opstatus_result returned_code;
    opstatus_result code_after_barrier;
    int http_status_after_barrier;
    char *message_after_barrier;
};

static void *probe_thread_error(void *argument)
{
    struct thread_error_probe *probe = argument;
    const opstatus_error *error = opstatus_last_error();
    char *result = NULL;

    probe->initial_code = error->code;
    probe->initial_message_empty = error->message != NULL &&
                                   error->message[0] == '\0';

    probe->returned_code = opstatus_get_status(&result, probe->client,
                                               probe->ns, probe->name,
                                               SEEDED_OPERATION_ID);
    opstatus_free(result);

    /* Every thread has failed before any thread reads its error again. */
    pthread_barrier_wait(probe->barrier);

    error = opstatus_last_error();
    probe->code_after_barrier = error->code;
    probe->http_status_after_barrier = error->http_status;
    probe->message_after_barrier = strdup(error->message);
    return NULL;
}

static void test_last_error_thread_local(void)
{
    opstatus_client *client = new_emulator_client();
    pthread_barrier_t barrier;
    struct thread_error_probe probes[2];
    pthread_t threads[2];
    opstatus_client *unused = SENTINEL;
    char *main_message = NULL;
    int started = 0;
    int index;

    if (client == NULL) {
        return;
    }

    /* The main thread fails first, with a third kind of failure. */
    EXPECT_INT_EQ(opstatus_client_new(&unused, "{}"), OPSTATUS_ECONFIG);
    main_message = strdup(opstatus_last_error()->message);

    memset(probes, 0, sizeof probes);
    probes[0].ns = "";
    probes[0].name = SEEDED_NAME;
    probes[1].ns = SEEDED_NAMESPACE;
    probes[1].name = "no-such-load-balancer";
    if (!EXPECT_INT_EQ(pthread_barrier_init(&barrier, NULL, 2), 0)) {
        goto cleanup;
    }
    for (index = 0; index < 2; index++) {
        probes[index].client = client;
        probes[index].barrier = &barrier;
        if (!EXPECT_INT_EQ(pthread_create(&threads[index], NULL,
                                          probe_thread_error, &probes[index]),
                           0)) {
            break;
        }
        started++;
    }
    if (started == 1) {
        /* The main thread takes the missing thread's place at the barrier. */
        pthread_barrier_wait(&barrier);
    }
    for (index = 0; index < started; index++) {
        pthread_join(threads[index], NULL);
    }
    pthread_barrier_destroy(&barrier);
    if (started != 2) {
        goto cleanup;
    }

    for (index = 0; index < 2; index++) {
        EXPECT_INT_EQ(probes[index].initial_code, OPSTATUS_OK);
        EXPECT_TRUE(probes[index].initial_message_empty);
    }
    EXPECT_INT_EQ(probes[0].returned_code, OPSTATUS_EINVAL);
    EXPECT_INT_EQ(probes[0].code_after_barrier, OPSTATUS_EINVAL);
    EXPECT_INT_EQ(probes[0].http_status_after_barrier, 0);
    EXPECT_CONTAINS(probes[0].message_after_barrier, "namespace");

    EXPECT_INT_EQ(probes[1].returned_code, OPSTATUS_ENOTFOUND);
    EXPECT_INT_EQ(probes[1].code_after_barrier, OPSTATUS_ENOTFOUND);
    EXPECT_INT_EQ(probes[1].http_status_after_barrier, 404);

    EXPECT_INT_EQ(opstatus_last_error()->code, OPSTATUS_ECONFIG);
    EXPECT_INT_EQ(opstatus_last_error()->http_status, 0);
    EXPECT_STR_EQ(opstatus_last_error()->message, main_message);

cleanup:
    for (index = 0; index < 2; index++) {
        free(probes[index].message_after_barrier);
    }
    free(main_message);
    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* One client shared by several threads                                     */
/* ------------------------------------------------------------------------ */

enum { SHARED_THREAD_COUNT = 4, CALLS_PER_THREAD = 50 };

struct shared_client_worker {
    opstatus_client *client;
    int succeeded_calls;
    int complete_results;
    opstatus_result first_failure_code;
    char *first_failure_message;
};

static void *call_shared_client(void *argument)
{
    struct shared_client_worker *worker = argument;
    int call;

    for (call = 0; call < CALLS_PER_THREAD; call++) {
        char *result = NULL;
        json_t *parsed;
        opstatus_result code = opstatus_get_status(
            &result, worker->client, SEEDED_NAMESPACE, SEEDED_NAME,
            SEEDED_OPERATION_ID);

        if (code != OPSTATUS_OK) {
            if (worker->first_failure_message == NULL) {
                worker->first_failure_code = code;
                worker->first_failure_message =
                    strdup(opstatus_last_error()->message);
            }
            continue;
        }
        worker->succeeded_calls++;

        parsed = json_loads(result, 0, NULL);
        if (json_array_size(json_object_get(parsed, "items")) ==
            SEEDED_SITE_COUNT) {
            worker->complete_results++;
        }
        json_decref(parsed);
        opstatus_free(result);
    }
    return NULL;
}

static void test_shared_client_four_threads(void)
{
    opstatus_client *client = new_emulator_client();
    struct shared_client_worker workers[SHARED_THREAD_COUNT];
    pthread_t threads[SHARED_THREAD_COUNT];
    int started = 0;
    int index;

    if (client == NULL) {
        return;
    }
    memset(workers, 0, sizeof workers);
    for (index = 0; index < SHARED_THREAD_COUNT; index++) {
        workers[index].client = client;
        if (!EXPECT_INT_EQ(pthread_create(&threads[index], NULL,
                                          call_shared_client,
                                          &workers[index]),
                           0)) {
            break;
        }
        started++;
    }
    for (index = 0; index < started; index++) {
        pthread_join(threads[index], NULL);
    }

    EXPECT_INT_EQ(started, SHARED_THREAD_COUNT);
    for (index = 0; index < started; index++) {
        if (!EXPECT_INT_EQ(workers[index].succeeded_calls,
                           CALLS_PER_THREAD)) {
            fprintf(stderr, "  thread %d first failed with %s: %s\n", index,
                    opstatus_strerror(workers[index].first_failure_code),
                    workers[index].first_failure_message != NULL
                        ? workers[index].first_failure_message
                        : "(no message)");
        }
        EXPECT_INT_EQ(workers[index].complete_results,
                      workers[index].succeeded_calls);
        free(workers[index].first_failure_message);
    }
    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* Main                                                                     */
/* ------------------------------------------------------------------------ */

/* Returns the variable's value, or NULL after printing why it is unusable. */
static const char *require_env(const char *name)
{
    const char *value = getenv(name);

    if (value == NULL || value[0] == '\0') {
        fprintf(stderr, "test_capi: %s is not set. Run the tests under "
                "Tests/Emulator/with-emulator, which starts the emulator "
                "and sets it\n", name);
        return NULL;
    }
    return value;
}

static bool load_test_environment(void)
{
    test_api_url = require_env("OPSTATUS_TEST_API_URL");
    test_ca_file = require_env("OPSTATUS_TEST_CA_FILE");
    test_control_url = require_env("OPSTATUS_TEST_CONTROL_URL");
    test_token = require_env("OPSTATUS_TEST_TOKEN");
    if (test_api_url == NULL || test_ca_file == NULL ||
        test_control_url == NULL || test_token == NULL) {
        return false;
    }
    if (!is_loopback_https_url(test_api_url)) {
        fprintf(stderr, "test_capi: OPSTATUS_TEST_API_URL %s is not an "
                "https URL on 127.0.0.0/8, [::1] or localhost; the tests "
                "run only against the local emulator\n", test_api_url);
        return false;
    }
    if (!is_loopback_https_url(test_control_url)) {
        fprintf(stderr, "test_capi: OPSTATUS_TEST_CONTROL_URL %s is not an "
                "https URL on 127.0.0.0/8, [::1] or localhost; the tests "
                "run only against the local emulator\n", test_control_url);
        return false;
    }
    return true;
}

int main(void)
{
    if (!load_test_environment()) {
        return 2;
    }
    /*
     * The runner also exports F5XC_* variables for the example programs.
     * Cleared, they cannot fill in settings that a test leaves out.
     */
    clear_setting_variables();
    /* Requests go straight to the emulator even if a proxy is configured. */
    setenv("NO_PROXY", "*", 1);
    setenv("no_proxy", "*", 1);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "test_capi: curl_global_init failed\n");
        return 2;
    }

    RUN_TEST(test_version_macros_match_runtime);
    RUN_TEST(test_strerror_every_code);
    RUN_TEST(test_strerror_unknown_code);

    RUN_TEST(test_client_new_null_out);
    RUN_TEST(test_client_new_invalid_json);
    RUN_TEST(test_client_new_non_object_json);
    RUN_TEST(test_client_new_unknown_key);
    RUN_TEST(test_client_new_missing_api_url);
    RUN_TEST(test_client_new_missing_api_token);
    RUN_TEST(test_client_new_http_non_loopback);
    RUN_TEST(test_client_new_http_loopback_accepted);
    RUN_TEST(test_client_new_wrong_setting_types);
    RUN_TEST(test_client_free_null);

    /* Starts from the seeded state even if an earlier run left faults. */
    if (!reset_emulator()) {
        fprintf(stderr, "test_capi: resetting the emulator through its "
                "control endpoint failed, so later results may be wrong\n");
    }

    RUN_TEST(test_status_json_text_success);
    RUN_TEST(test_status_json_text_string_id);
    RUN_TEST(test_status_value_success);
    RUN_TEST(test_status_plain_success);
    RUN_TEST(test_status_wrong_token_unauthorized);
    RUN_TEST(test_status_unknown_load_balancer);
    RUN_TEST(test_status_unknown_operation_id);
    RUN_TEST(test_status_503_without_retries);
    RUN_TEST(test_status_503_retries_exhausted);
    RUN_TEST(test_status_503_retried_then_ok);

    RUN_TEST(test_status_null_out);
    RUN_TEST(test_status_null_client);
    RUN_TEST(test_status_invalid_plain_arguments);
    RUN_TEST(test_status_invalid_request_json);
    RUN_TEST(test_status_invalid_request_value);

    RUN_TEST(test_status_largest_uint64_bytes);
    RUN_TEST(test_status_bytes_as_number);
    RUN_TEST(test_status_bytes_wrong_type);
    RUN_TEST(test_status_api_error_eperms);
    RUN_TEST(test_status_api_error_epartial);

    RUN_TEST(test_client_new_reads_environment);
    RUN_TEST(test_client_new_json_beats_environment);
    RUN_TEST(test_log_callback_invalid_arguments);
    RUN_TEST(test_log_callback_debug_requests);
    RUN_TEST(test_log_callback_warns_on_retry);

    RUN_TEST(test_last_error_json_after_failure);
    RUN_TEST(test_last_error_json_names_codes);
    RUN_TEST(test_last_error_cleared_by_success);
    RUN_TEST(test_last_error_thread_local);
    RUN_TEST(test_shared_client_four_threads);

    curl_global_cleanup();

    printf("%d passed, %d failed\n", tests_passed, tests_failed);
    return tests_failed > 0 ? 1 : 0;
}
