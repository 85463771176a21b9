/*
 * Shared helpers of the C test programs; see test_support.h.
 */
#define _POSIX_C_SOURCE 200809L

#include "test_support.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

/* ------------------------------------------------------------------------ */
/* Harness                                                                  */
/* ------------------------------------------------------------------------ */

static int passed_tests;
static int failed_tests;
static bool current_test_failed;

void record_test(const char *name, bool passed)
{
    if (passed) {
        passed_tests++;
        printf("ok   %s\n", name);
    } else {
        failed_tests++;
        printf("FAIL %s\n", name);
    }
    fflush(stdout);
}

void run_test(const char *name, test_function test)
{
    current_test_failed = false;
    test();
    record_test(name, !current_test_failed);
}

bool current_test_has_failed(void)
{
    return current_test_failed;
}

int finish_tests(void)
{
    printf("%d passed, %d failed\n", passed_tests, failed_tests);
    return failed_tests > 0 ? 1 : 0;
}

/* Writes text with the API token replaced by "<redacted>". */
static void write_redacted(FILE *stream, const char *text)
{
    const char *token = test_env.token;
    size_t token_length = token != NULL ? strlen(token) : 0;

    while (*text != '\0') {
        if (token_length > 0 && strncmp(text, token, token_length) == 0) {
            fputs("<redacted>", stream);
            text += token_length;
        } else {
            fputc(*text, stream);
            text++;
        }
    }
}

void report_failure(const char *file, int line, const char *format, ...)
{
    va_list arguments;
    char text[2048];

    current_test_failed = true;
    va_start(arguments, format);
    vsnprintf(text, sizeof text, format, arguments);
    va_end(arguments);
    fprintf(stderr, "%s:%d: check failed: ", file, line);
    write_redacted(stderr, text);
    fputc('\n', stderr);
}

bool check_true_at(const char *file, int line, const char *expression,
                   bool value)
{
    if (!value) {
        report_failure(file, line, "%s", expression);
    }
    return value;
}

bool check_int_eq_at(const char *file, int line, const char *actual_text,
                     const char *expected_text, long long actual,
                     long long expected)
{
    if (actual != expected) {
        report_failure(file, line, "%s == %s (actual %lld, expected %lld)",
                       actual_text, expected_text, actual, expected);
        return false;
    }
    return true;
}

bool check_string_eq_at(const char *file, int line, const char *actual_text,
                        const char *actual, const char *expected)
{
    if (actual == NULL || strcmp(actual, expected) != 0) {
        report_failure(file, line, "%s == \"%s\" (actual %s%s%s)",
                       actual_text, expected, actual != NULL ? "\"" : "",
                       actual != NULL ? actual : "NULL",
                       actual != NULL ? "\"" : "");
        return false;
    }
    return true;
}

bool check_contains_at(const char *file, int line, const char *text_name,
                       const char *text, const char *part)
{
    if (text == NULL || strstr(text, part) == NULL) {
        report_failure(file, line, "%s contains \"%s\" (actual %s%.300s%s)",
                       text_name, part, text != NULL ? "\"" : "",
                       text != NULL ? text : "NULL",
                       text != NULL ? "\"" : "");
        return false;
    }
    return true;
}

static const char *const result_names[] = {
    "OPSTATUS_OK",          "OPSTATUS_EINVAL",
    "OPSTATUS_ECONFIG",     "OPSTATUS_ETRANSPORT",
    "OPSTATUS_ETIMEOUT",    "OPSTATUS_EUNAUTHORIZED",
    "OPSTATUS_EFORBIDDEN",  "OPSTATUS_ENOTFOUND",
    "OPSTATUS_ECONFLICT",   "OPSTATUS_ERATELIMITED",
    "OPSTATUS_ESERVER",     "OPSTATUS_EUNAVAILABLE",
    "OPSTATUS_EGATEWAYTIMEOUT", "OPSTATUS_EPROTOCOL",
    "OPSTATUS_EAPI",        "OPSTATUS_ECANCELLED",
    "OPSTATUS_EBADREQUEST", "OPSTATUS_ENOMEM",
    "OPSTATUS_EINTERNAL",
};

const char *result_name(opstatus_result code)
{
    size_t count = sizeof result_names / sizeof result_names[0];

    if ((size_t)code < count) {
        return result_names[code];
    }
    return "unknown";
}

bool check_result_at(const char *file, int line, const char *call_text,
                     opstatus_result actual, opstatus_result expected)
{
    const opstatus_error *error = opstatus_last_error();
    bool ok = true;

    if (actual != expected) {
        report_failure(file, line, "%s returned %s, expected %s: %s",
                       call_text, result_name(actual), result_name(expected),
                       error->message);
        return false;
    }
    if (error->code != expected) {
        report_failure(file, line,
                       "after %s, opstatus_last_error()->code is %s, "
                       "expected %s",
                       call_text, result_name(error->code),
                       result_name(expected));
        ok = false;
    }
    if (expected == OPSTATUS_OK) {
        if (error->message[0] != '\0') {
            report_failure(file, line,
                           "after %s succeeded, the message is \"%s\", "
                           "expected \"\"",
                           call_text, error->message);
            ok = false;
        }
        return ok;
    }
    if (error->message[0] == '\0') {
        report_failure(file, line, "after %s failed, the message is empty",
                       call_text);
        ok = false;
    }

    /* The JSON form names the same code; opstatus_last_error_json() does
     * not change the thread's last error. */
    char *text = opstatus_last_error_json();
    json_t *value = text != NULL ? json_loads(text, 0, NULL) : NULL;
    const char *name = json_string_value(json_object_get(value, "name"));
    if (name == NULL || strcmp(name, result_name(expected)) != 0) {
        report_failure(file, line,
                       "after %s, opstatus_last_error_json() names %s, "
                       "expected %s",
                       call_text, name != NULL ? name : "nothing",
                       result_name(expected));
        ok = false;
    }
    json_decref(value);
    opstatus_free(text);
    return ok;
}

/* ------------------------------------------------------------------------ */
/* Emulator                                                                 */
/* ------------------------------------------------------------------------ */

struct test_environment test_env;

/* Returns whether url is http or https on 127.0.0.0/8, [::1] or
 * localhost. The tests inject faults and send thousands of requests, so
 * they reject any other host. */
static bool is_loopback_url(const char *url)
{
    const char *host;
    const char *loopback_prefixes[] = {"127.", "[::1]", "localhost"};
    size_t index;

    if (strncmp(url, "https://", 8) == 0) {
        host = url + 8;
    } else if (strncmp(url, "http://", 7) == 0) {
        host = url + 7;
    } else {
        return false;
    }
    for (index = 0; index < 3; index++) {
        size_t length = strlen(loopback_prefixes[index]);

        if (strncmp(host, loopback_prefixes[index], length) == 0) {
            char next = host[length];

            if (index == 0 || next == ':' || next == '/' || next == '\0') {
                return true;
            }
        }
    }
    return false;
}

static const char *const setting_variables[] = {
    "F5XC_API_URL",   "VOLT_API_URL",      "F5XC_API_TOKEN",
    "F5XC_P12_FILE",  "VOLT_API_P12_FILE", "F5XC_P12_PASSWORD",
    "VES_P12_PASSWORD", "F5XC_CERT",       "VOLT_API_CERT",
    "F5XC_KEY",       "VOLT_API_KEY",      "F5XC_CACERT",
    "VOLT_API_CA_CERT", "VOLT_API_TIMEOUT",
};

bool setup_test_environment(const char *program)
{
    const char *ca_file = getenv("OPSTATUS_TEST_CA_FILE");
    size_t index;

    test_env.api_url = getenv("OPSTATUS_TEST_API_URL");
    test_env.control_url = getenv("OPSTATUS_TEST_CONTROL_URL");
    test_env.token = getenv("OPSTATUS_TEST_TOKEN");
    if (test_env.api_url == NULL || test_env.control_url == NULL ||
        test_env.token == NULL || test_env.token[0] == '\0') {
        fprintf(stderr,
                "%s: OPSTATUS_TEST_API_URL, OPSTATUS_TEST_CONTROL_URL and "
                "OPSTATUS_TEST_TOKEN must be set; run the program under "
                "Tests/Emulator/with-emulator\n",
                program);
        return false;
    }
    if (!is_loopback_url(test_env.api_url) ||
        !is_loopback_url(test_env.control_url)) {
        fprintf(stderr,
                "%s: OPSTATUS_TEST_API_URL and OPSTATUS_TEST_CONTROL_URL "
                "must be on a loopback address\n",
                program);
        return false;
    }
    /* with-emulator --plain-http exports Python's "None" for no CA. */
    if (ca_file != NULL && ca_file[0] != '\0' && strcmp(ca_file, "None") != 0) {
        test_env.ca_file = ca_file;
    }

    for (index = 0; index < sizeof setting_variables / sizeof setting_variables[0];
         index++) {
        unsetenv(setting_variables[index]);
    }
    setenv("NO_PROXY", "*", 1);
    setenv("no_proxy", "*", 1);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "%s: curl_global_init failed\n", program);
        return false;
    }
    return true;
}

void teardown_test_environment(void)
{
    curl_global_cleanup();
}

static size_t discard_body(char *data, size_t size, size_t count,
                           void *payload)
{
    (void)data;
    (void)payload;
    return size * count;
}

/* POSTs body to the control path, such as "/reset"; true on HTTP 2xx. */
static bool post_control(const char *path, const char *body)
{
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = NULL;
    char url[512];
    long status = 0;
    CURLcode code;

    if (curl == NULL) {
        return false;
    }
    snprintf(url, sizeof url, "%s%s", test_env.control_url, path);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (test_env.ca_file != NULL) {
        curl_easy_setopt(curl, CURLOPT_CAINFO, test_env.ca_file);
    }
    code = curl_easy_perform(curl);
    if (code == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (code != CURLE_OK || status < 200 || status > 299) {
        fprintf(stderr, "control request %s failed: %s, HTTP %ld\n", path,
                curl_easy_strerror(code), status);
        return false;
    }
    return true;
}

bool emulator_reset(void)
{
    return post_control("/reset", "{}");
}

bool emulator_queue_fault_value(json_t *fault)
{
    json_t *request = json_pack("{s:[o]}", "faults", fault);
    char *text = request != NULL ? json_dumps(request, JSON_COMPACT) : NULL;
    bool ok = text != NULL && post_control("/faults", text);

    free(text);
    json_decref(request);
    return ok;
}

bool emulator_queue_fault(const char *fault_json)
{
    json_error_t error;
    json_t *fault = json_loads(fault_json, 0, &error);

    if (fault == NULL) {
        fprintf(stderr, "fault %s is not valid JSON: %s\n", fault_json,
                error.text);
        return false;
    }
    return emulator_queue_fault_value(fault);
}

/* ------------------------------------------------------------------------ */
/* Clients                                                                  */
/* ------------------------------------------------------------------------ */

opstatus_result create_test_client(opstatus_client **out,
                                   const char *extra_settings)
{
    json_t *settings = json_pack("{s:s, s:s, s:b}", "api_url", test_env.api_url,
                                 "api_token", test_env.token,
                                 "use_environment", 0);
    opstatus_result result;
    char *text;

    if (settings == NULL) {
        return OPSTATUS_ENOMEM;
    }
    if (test_env.ca_file != NULL) {
        json_object_set_new(settings, "ca_file", json_string(test_env.ca_file));
    }
    if (extra_settings != NULL) {
        json_error_t error;
        json_t *extra = json_loads(extra_settings, 0, &error);

        if (extra == NULL) {
            fprintf(stderr, "settings %s are not valid JSON: %s\n",
                    extra_settings, error.text);
            json_decref(settings);
            return OPSTATUS_EINVAL;
        }
        json_object_update(settings, extra);
        json_decref(extra);
    }
    text = json_dumps(settings, JSON_COMPACT);
    json_decref(settings);
    if (text == NULL) {
        return OPSTATUS_ENOMEM;
    }
    result = opstatus_client_new(out, text);
    free(text);
    return result;
}

opstatus_client *new_test_client(const char *extra_settings)
{
    opstatus_client *client = NULL;
    opstatus_result result = create_test_client(&client, extra_settings);

    if (result != OPSTATUS_OK) {
        report_failure(__FILE__, __LINE__,
                       "creating a client with %s failed: %s: %s",
                       extra_settings != NULL ? extra_settings : "defaults",
                       result_name(result), opstatus_last_error()->message);
        return NULL;
    }
    return client;
}

/* ------------------------------------------------------------------------ */
/* Text                                                                     */
/* ------------------------------------------------------------------------ */

char *repeat_character(char fill, size_t count)
{
    char *text = malloc(count + 1);

    if (text != NULL) {
        memset(text, fill, count);
        text[count] = '\0';
    }
    return text;
}
