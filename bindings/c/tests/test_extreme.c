/*
 * Extreme inputs through the C API: names at and past the length limit,
 * responses exactly at and one byte past max_response_bytes, 100,000
 * items, nesting past jansson's depth limit, invalid UTF-8, NUL
 * characters, and integers one past the 64-bit limits. Each must give a
 * result code, never a crash, and each test name says which code.
 *
 * Usage, under Tests/Emulator/with-emulator:
 *   test_extreme [--items N]
 * --items sets the item count of the large response (default 100000); a
 * smaller count keeps runs under valgrind short.
 *
 * Responses come from the emulator's "raw" fault (exact body bytes, with or
 * without Content-Length) and its "huge" fault (a valid status response of
 * an exact size, one item repeated).
 *
 * The last line of output is "N passed, M failed". The exit status is 0
 * when every test passed, 1 when one failed, and 2 for invalid arguments
 * or an incomplete environment.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define PROGRAM_NAME "test_extreme"

/* Maximum length of a name or namespace, in bytes. */
enum { MAX_IDENTIFIER_BYTES = 1024 };

/* Nesting depth of the deep documents. jansson 2.14 stops at 2048 levels,
 * and a real status response nests 4 (object, items, item, purge). */
enum { DEEP_NESTING_LEVELS = 3000 };

/* Size limit of the clients that read the exact-size responses. */
enum { RESPONSE_LIMIT = 4096 };

/*
 * The emulator's "huge" body is {"items":[ITEM,ITEM,...],"padding":"..."}
 * with one 288-byte item (see _HUGE_ITEM in Tests/Emulator/
 * emulator_faults.py): 25 fixed bytes plus 289 per item, less the last
 * comma. A body of 24 + 289 * N bytes has exactly N items and no padding.
 */
static long huge_item_count = 100000;

static const char *const status_request =
    "{\"namespace\": \"demo\", \"name\": \"shop-frontend\", "
    "\"service_op_id\": 101}";

/* Gets the seeded status with the JSON-text function; returns the code and
 * stores the parsed result in result (NULL on failure). */
static opstatus_result get_status(opstatus_client *client, json_t **result)
{
    char *out = NULL;
    opstatus_result code = opstatus_get_status_json(&out, client, status_request);

    *result = out != NULL ? json_loads(out, 0, NULL) : NULL;
    if (code != OPSTATUS_OK && out != NULL) {
        report_failure(__FILE__, __LINE__,
                       "a failed call left its out-parameter set");
    }
    opstatus_free(out);
    return code;
}

/* Queues a raw 200 response with body (NUL-terminated) and the framing. */
static bool queue_raw_body(const char *body, bool content_length)
{
    json_t *fault = json_pack("{s:s, s:s, s:b}", "kind", "raw", "body", body,
                              "content_length", content_length);

    return CHECK(fault != NULL) && CHECK(emulator_queue_fault_value(fault));
}

/* Queues a raw 200 response with arbitrary bytes, sent as base64. */
static bool queue_raw_bytes(const unsigned char *bytes, size_t length)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *encoded = malloc(4 * ((length + 2) / 3) + 1);
    size_t in = 0;
    size_t out = 0;
    json_t *fault;

    if (!CHECK(encoded != NULL)) {
        return false;
    }
    while (in < length) {
        uint32_t group = (uint32_t)bytes[in] << 16;
        size_t available = length - in;

        if (available > 1) {
            group |= (uint32_t)bytes[in + 1] << 8;
        }
        if (available > 2) {
            group |= bytes[in + 2];
        }
        encoded[out++] = alphabet[(group >> 18) & 63];
        encoded[out++] = alphabet[(group >> 12) & 63];
        encoded[out++] = available > 1 ? alphabet[(group >> 6) & 63] : '=';
        encoded[out++] = available > 2 ? alphabet[group & 63] : '=';
        in += 3;
    }
    encoded[out] = '\0';
    fault = json_pack("{s:s, s:s}", "kind", "raw", "body_base64", encoded);
    free(encoded);
    return CHECK(fault != NULL) && CHECK(emulator_queue_fault_value(fault));
}

/* ------------------------------------------------------------------------ */
/* Names                                                                    */
/* ------------------------------------------------------------------------ */

/* A 1024-byte name passes validation and reaches the emulator, which has
 * no load balancer of that name. */
static void test_name_1024_bytes_reaches_server_enotfound(void)
{
    opstatus_client *client = new_test_client(NULL);
    char *name = repeat_character('n', MAX_IDENTIFIER_BYTES);
    char *out = NULL;

    if (client != NULL && CHECK(name != NULL)) {
        emulator_reset();
        CHECK_RESULT(opstatus_get_status(&out, client, "demo", name, 101),
                     OPSTATUS_ENOTFOUND);
        CHECK_INT_EQ(opstatus_last_error()->http_status, 404);
        CHECK_RESULT(opstatus_get_status(&out, client, name, "cdn-1", 101),
                     OPSTATUS_ENOTFOUND);
    }
    free(name);
    opstatus_client_free(client);
}

static void test_name_1025_bytes_einval(void)
{
    opstatus_client *client = new_test_client(NULL);
    char *name = repeat_character('n', MAX_IDENTIFIER_BYTES + 1);
    char *out = NULL;

    if (client != NULL && CHECK(name != NULL)) {
        CHECK_RESULT(opstatus_get_status(&out, client, "demo", name, 101),
                     OPSTATUS_EINVAL);
        CHECK_CONTAINS(opstatus_last_error()->message, "1025 bytes");
        CHECK_INT_EQ(opstatus_last_error()->http_status, 0);
        CHECK_RESULT(opstatus_get_status(&out, client, name, "cdn-1", 101),
                     OPSTATUS_EINVAL);
        CHECK(out == NULL);
    }
    free(name);
    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* Response size limit                                                      */
/* ------------------------------------------------------------------------ */

/* Returns a malloc'd status response of exactly size bytes: one item, then
 * a "padding" string that the decoder ignores. */
static char *status_body_of_size(size_t size)
{
    static const char head[] =
        "{\"items\":[{\"service_op_id\":101,\"status\":\"success\","
        "\"purge\":{\"site\":\"ves-io-pa4-par\"}}],\"padding\":\"";
    static const char tail[] = "\"}";
    size_t fixed = strlen(head) + strlen(tail);
    char *body;

    if (size < fixed) {
        return NULL;
    }
    body = repeat_character('p', size);
    if (body != NULL) {
        memcpy(body, head, strlen(head));
        memcpy(body + size - strlen(tail), tail, strlen(tail));
    }
    return body;
}

/* Gets a response of body_size bytes with a client whose limit is
 * RESPONSE_LIMIT, and checks the code. */
static void check_response_of_size(size_t body_size, bool content_length,
                                   opstatus_result expected)
{
    char settings[96];
    opstatus_client *client;
    char *body = status_body_of_size(body_size);
    json_t *result = NULL;

    snprintf(settings, sizeof settings,
             "{\"max_response_bytes\": %d, \"max_attempts\": 1}", RESPONSE_LIMIT);
    client = new_test_client(settings);
    if (client != NULL && CHECK(body != NULL)) {
        emulator_reset();
        if (queue_raw_body(body, content_length)) {
            CHECK_RESULT(get_status(client, &result), expected);
        }
    }
    if (expected == OPSTATUS_OK && CHECK(result != NULL)) {
        CHECK_INT_EQ(json_integer_value(json_object_get(
                         json_object_get(result, "summary"), "sites")),
                     1);
    }
    if (expected == OPSTATUS_EPROTOCOL) {
        CHECK_CONTAINS(opstatus_last_error()->message, "max_response_bytes");
    }
    json_decref(result);
    free(body);
    opstatus_client_free(client);
}

static void test_response_at_limit_with_length_ok(void)
{
    check_response_of_size(RESPONSE_LIMIT, true, OPSTATUS_OK);
}

static void test_response_over_limit_with_length_eprotocol(void)
{
    check_response_of_size(RESPONSE_LIMIT + 1, true, OPSTATUS_EPROTOCOL);
}

/* Without Content-Length the limit is checked while the body arrives. */
static void test_response_at_limit_until_close_ok(void)
{
    check_response_of_size(RESPONSE_LIMIT, false, OPSTATUS_OK);
}

static void test_response_over_limit_until_close_eprotocol(void)
{
    check_response_of_size(RESPONSE_LIMIT + 1, false, OPSTATUS_EPROTOCOL);
}

/* ------------------------------------------------------------------------ */
/* 100,000 items                                                            */
/* ------------------------------------------------------------------------ */

static void test_many_items_ok_with_summary(void)
{
    opstatus_client *client =
        new_test_client("{\"max_response_bytes\": 67108864}");
    json_t *result = NULL;
    char fault[96];
    const json_t *summary;
    char expected_bytes[32];

    if (client == NULL) {
        return;
    }
    emulator_reset();
    snprintf(fault, sizeof fault, "{\"kind\": \"huge\", \"bytes\": %ld}",
             24 + 289 * huge_item_count);
    printf("     %ld items in %ld bytes\n", huge_item_count,
           24 + 289 * huge_item_count);
    if (!CHECK(emulator_queue_fault(fault)) ||
        !CHECK_RESULT(get_status(client, &result), OPSTATUS_OK) ||
        !CHECK(result != NULL)) {
        json_decref(result);
        opstatus_client_free(client);
        return;
    }
    summary = json_object_get(result, "summary");
    CHECK_INT_EQ(json_array_size(json_object_get(result, "items")),
                 huge_item_count);
    CHECK_INT_EQ(json_integer_value(json_object_get(summary, "sites")),
                 huge_item_count);
    CHECK_INT_EQ(json_integer_value(json_object_get(summary, "succeeded")),
                 huge_item_count);
    CHECK_STRING_EQ(json_string_value(json_object_get(summary, "state")),
                    "succeeded");
    /* Each item purged 6442450944 bytes. */
    snprintf(expected_bytes, sizeof expected_bytes, "%lld",
             6442450944LL * (long long)huge_item_count);
    CHECK_STRING_EQ(json_string_value(json_object_get(summary, "bytes_purged")),
                    expected_bytes);
    CHECK_STRING_EQ(json_string_value(json_object_get(summary, "earliest_start")),
                    "2019-09-23T12:32:11.733Z");
    CHECK_STRING_EQ(json_string_value(json_object_get(summary, "latest_finish")),
                    "2019-09-23T12:32:30.100Z");
    json_decref(result);
    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* Nesting                                                                  */
/* ------------------------------------------------------------------------ */

/* Returns {"items": [[[...]]]} nested levels deep in all, malloc'd. */
static char *deeply_nested_items(size_t levels)
{
    static const char head[] = "{\"items\":";
    size_t arrays = levels - 1;
    size_t length = strlen(head) + 2 * arrays + 1;
    char *text = malloc(length + 1);

    if (text != NULL) {
        memcpy(text, head, strlen(head));
        memset(text + strlen(head), '[', arrays);
        memset(text + strlen(head) + arrays, ']', arrays);
        text[length - 1] = '}';
        text[length] = '\0';
    }
    return text;
}

static void test_response_nested_3000_levels_eprotocol(void)
{
    opstatus_client *client = new_test_client("{\"max_attempts\": 1}");
    char *body = deeply_nested_items(DEEP_NESTING_LEVELS);
    json_t *result = NULL;

    if (client != NULL && CHECK(body != NULL)) {
        emulator_reset();
        if (queue_raw_body(body, true)) {
            CHECK_RESULT(get_status(client, &result), OPSTATUS_EPROTOCOL);
            CHECK_CONTAINS(opstatus_last_error()->message, "not valid JSON");
        }
    }
    json_decref(result);
    free(body);
    opstatus_client_free(client);
}

static void test_request_nested_3000_levels_einval(void)
{
    opstatus_client *client = new_test_client(NULL);
    char *request = deeply_nested_items(DEEP_NESTING_LEVELS);
    char *out = NULL;

    if (client != NULL && CHECK(request != NULL)) {
        CHECK_RESULT(opstatus_get_status_json(&out, client, request),
                     OPSTATUS_EINVAL);
        CHECK(out == NULL);
    }
    free(request);
    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* Strings                                                                  */
/* ------------------------------------------------------------------------ */

static void test_response_invalid_utf8_eprotocol(void)
{
    static const unsigned char body[] =
        "{\"items\":[{\"service_op_id\":101,\"status\":\"succ\xff\xfe" "ess\"}]}";
    opstatus_client *client = new_test_client("{\"max_attempts\": 1}");
    json_t *result = NULL;

    if (client == NULL) {
        return;
    }
    emulator_reset();
    if (queue_raw_bytes(body, sizeof body - 1)) {
        CHECK_RESULT(get_status(client, &result), OPSTATUS_EPROTOCOL);
    }
    json_decref(result);
    opstatus_client_free(client);
}

static void test_response_escaped_nul_eprotocol(void)
{
    opstatus_client *client = new_test_client("{\"max_attempts\": 1}");
    json_t *result = NULL;

    if (client == NULL) {
        return;
    }
    emulator_reset();
    if (queue_raw_body("{\"items\":[{\"purge\":{\"site\":\"ves\\u0000io\"}}]}",
                       true)) {
        CHECK_RESULT(get_status(client, &result), OPSTATUS_EPROTOCOL);
    }
    json_decref(result);
    opstatus_client_free(client);
}

/* A caller's jansson string may hold a NUL (json_stringn); the library
 * rejects it as a control character instead of cutting the name short. */
static void test_request_value_nul_in_name_einval(void)
{
    opstatus_client *client = new_test_client(NULL);
    json_t *request = json_pack("{s:s, s:o, s:i}", "namespace", "demo", "name",
                                json_stringn("shop\0frontend", 13),
                                "service_op_id", 101);
    json_t *out = NULL;

    if (client != NULL && CHECK(request != NULL)) {
        CHECK_RESULT(opstatus_get_status_value(&out, client, request),
                     OPSTATUS_EINVAL);
        CHECK_CONTAINS(opstatus_last_error()->message, "U+0");
        CHECK(out == NULL);
    }
    json_decref(request);
    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* Integers at the 64-bit limits                                            */
/* ------------------------------------------------------------------------ */

/* Gets a one-item response whose purge object is purge_fields. */
static void check_purge_fields(const char *purge_fields, opstatus_result expected)
{
    opstatus_client *client = new_test_client("{\"max_attempts\": 1}");
    char body[256];
    json_t *result = NULL;

    if (client == NULL) {
        return;
    }
    snprintf(body, sizeof body,
             "{\"items\":[{\"service_op_id\":101,\"status\":\"success\","
             "\"purge\":{%s}}]}",
             purge_fields);
    emulator_reset();
    if (queue_raw_body(body, true)) {
        CHECK_RESULT(get_status(client, &result), expected);
    }
    json_decref(result);
    opstatus_client_free(client);
}

static void test_bytes_uint64_max_ok(void)
{
    check_purge_fields("\"bytes_purged\":\"18446744073709551615\"", OPSTATUS_OK);
}

static void test_bytes_uint64_max_plus_one_eprotocol(void)
{
    check_purge_fields("\"bytes_purged\":\"18446744073709551616\"",
                       OPSTATUS_EPROTOCOL);
    CHECK_CONTAINS(opstatus_last_error()->message, "bytes_purged");
}

/* Two maximal counts add up past 2^64; the total is still exact. */
static void test_bytes_sum_past_uint64_ok(void)
{
    opstatus_client *client = new_test_client("{\"max_attempts\": 1}");
    json_t *result = NULL;

    if (client == NULL) {
        return;
    }
    emulator_reset();
    if (queue_raw_body("{\"items\":["
                       "{\"purge\":{\"bytes_purged\":\"18446744073709551615\"}},"
                       "{\"purge\":{\"bytes_purged\":\"18446744073709551615\"}}]}",
                       true) &&
        CHECK_RESULT(get_status(client, &result), OPSTATUS_OK) &&
        CHECK(result != NULL)) {
        CHECK_STRING_EQ(json_string_value(json_object_get(
                            json_object_get(result, "summary"), "bytes_purged")),
                        "36893488147419103230");
    }
    json_decref(result);
    opstatus_client_free(client);
}

static void test_id_int64_max_ok(void)
{
    opstatus_client *client = new_test_client("{\"max_attempts\": 1}");
    json_t *result = NULL;

    if (client == NULL) {
        return;
    }
    emulator_reset();
    if (queue_raw_body("{\"items\":[{\"service_op_id\":9223372036854775807}]}",
                       true) &&
        CHECK_RESULT(get_status(client, &result), OPSTATUS_OK) &&
        CHECK(result != NULL)) {
        const json_t *item = json_array_get(json_object_get(result, "items"), 0);

        CHECK(json_integer_value(json_object_get(item, "service_op_id")) ==
              INT64_MAX);
    }
    json_decref(result);
    opstatus_client_free(client);
}

/* jansson rejects a JSON number past 2^63 - 1 while parsing. */
static void test_id_int64_max_plus_one_eprotocol(void)
{
    opstatus_client *client = new_test_client("{\"max_attempts\": 1}");
    json_t *result = NULL;

    if (client == NULL) {
        return;
    }
    emulator_reset();
    if (queue_raw_body("{\"items\":[{\"service_op_id\":9223372036854775808}]}",
                       true)) {
        CHECK_RESULT(get_status(client, &result), OPSTATUS_EPROTOCOL);
        CHECK_CONTAINS(opstatus_last_error()->message, "not valid JSON");
    }
    json_decref(result);
    opstatus_client_free(client);
}

static void test_request_id_past_limits_einval(void)
{
    opstatus_client *client = new_test_client(NULL);
    char *out = NULL;

    if (client == NULL) {
        return;
    }
    CHECK_RESULT(opstatus_get_status_json(
                     &out, client,
                     "{\"namespace\": \"demo\", \"name\": \"cdn-1\", "
                     "\"service_op_id\": 9223372036854775808}"),
                 OPSTATUS_EINVAL);
    CHECK_RESULT(opstatus_get_status_json(
                     &out, client,
                     "{\"namespace\": \"demo\", \"name\": \"cdn-1\", "
                     "\"service_op_id\": \"18446744073709551616\"}"),
                 OPSTATUS_EINVAL);
    CHECK_RESULT(opstatus_get_status_json(
                     &out, client,
                     "{\"namespace\": \"demo\", \"name\": \"cdn-1\", "
                     "\"service_op_id\": \"9223372036854775808\"}"),
                 OPSTATUS_EINVAL);
    CHECK(out == NULL);
    opstatus_client_free(client);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--items") == 0) {
        char *end;

        huge_item_count = strtol(argv[2], &end, 10);
        if (*end != '\0' || huge_item_count < 1 || huge_item_count > 1000000) {
            argc = 0;
        }
    }
    if (argc != 1 && argc != 3) {
        fprintf(stderr, "usage: " PROGRAM_NAME " [--items 1-1000000]\n");
        return 2;
    }
    if (!setup_test_environment(PROGRAM_NAME)) {
        return 2;
    }

    RUN_TEST(test_name_1024_bytes_reaches_server_enotfound);
    RUN_TEST(test_name_1025_bytes_einval);
    RUN_TEST(test_response_at_limit_with_length_ok);
    RUN_TEST(test_response_over_limit_with_length_eprotocol);
    RUN_TEST(test_response_at_limit_until_close_ok);
    RUN_TEST(test_response_over_limit_until_close_eprotocol);
    RUN_TEST(test_many_items_ok_with_summary);
    RUN_TEST(test_response_nested_3000_levels_eprotocol);
    RUN_TEST(test_request_nested_3000_levels_einval);
    RUN_TEST(test_response_invalid_utf8_eprotocol);
    RUN_TEST(test_response_escaped_nul_eprotocol);
    RUN_TEST(test_request_value_nul_in_name_einval);
    RUN_TEST(test_bytes_uint64_max_ok);
    RUN_TEST(test_bytes_uint64_max_plus_one_eprotocol);
    RUN_TEST(test_bytes_sum_past_uint64_ok);
    RUN_TEST(test_id_int64_max_ok);
    RUN_TEST(test_id_int64_max_plus_one_eprotocol);
    RUN_TEST(test_request_id_past_limits_einval);

    emulator_reset();
    teardown_test_environment();
    return finish_tests();
}
