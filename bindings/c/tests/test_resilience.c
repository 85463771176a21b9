/*
 * Resilience tests of the opstatus C API: retries, Retry-After, deadlines,
 * hostile server responses, the client-side rate limit, the log callback,
 * secrecy of the API token, and client certificates.
 *
 * Usage, under Tests/Emulator/with-emulator:
 *   test_resilience          every test except the certificate tests, for
 *                            an emulator started without --mtls
 *   test_resilience --mtls   only the certificate tests, for an emulator
 *                            started with --mtls
 *
 * The program reads these environment variables, which with-emulator
 * exports:
 *   OPSTATUS_TEST_API_URL      the emulator's API URL (https, loopback only)
 *   OPSTATUS_TEST_CA_FILE      the PEM file of the emulator's CA
 *   OPSTATUS_TEST_CONTROL_URL  the emulator's control endpoint
 *   OPSTATUS_TEST_TOKEN        the API token the emulator accepts
 *   OPSTATUS_TEST_STATE_DIR    with --mtls: the directory of emulator.json,
 *                              which names the client certificate files
 * With --mtls, OPSTATUS_EMULATOR_P12_PASSWORD must contain the password of
 * the emulator's client.p12.
 *
 * Every test resets the emulator before it sends API requests, so the
 * emulator's request log then contains only that test's requests. The
 * tests count attempts in that log. Timing checks use CLOCK_MONOTONIC.
 *
 * Failure output never shows the API token or a password: the reports
 * replace them with "<redacted>".
 *
 * The last line of output is "N passed, M failed". The exit status is 0
 * when every test passed, 1 when a test failed and 2 when the command line
 * or the environment is invalid.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "opstatus.h"

extern char **environ;

#define PROGRAM_NAME "test_resilience"

/* ------------------------------------------------------------------------ */
/* Secrets kept out of the output                                           */
/* ------------------------------------------------------------------------ */

enum { MAX_SECRETS = 8 };

/* Values that failure reports replace with "<redacted>". */
static const char *secret_values[MAX_SECRETS];
static size_t secret_count;

static void register_secret(const char *value)
{
    if (value != NULL && value[0] != '\0' && secret_count < MAX_SECRETS) {
        secret_values[secret_count++] = value;
    }
}

/* Returns the length of the secret that starts at text, or 0. */
static size_t secret_length_at(const char *text)
{
    size_t index;

    for (index = 0; index < secret_count; index++) {
        size_t length = strlen(secret_values[index]);

        if (strncmp(text, secret_values[index], length) == 0) {
            return length;
        }
    }
    return 0;
}

/* Writes text to stderr with every registered secret replaced. */
static void write_redacted(const char *text)
{
    while (*text != '\0') {
        size_t length = secret_length_at(text);

        if (length > 0) {
            fputs("<redacted>", stderr);
            text += length;
        } else {
            fputc(*text, stderr);
            text++;
        }
    }
}

/* Returns whether text contains any registered secret. */
static bool contains_secret(const char *text)
{
    size_t index;

    if (text == NULL) {
        return false;
    }
    for (index = 0; index < secret_count; index++) {
        if (strstr(text, secret_values[index]) != NULL) {
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------------------ */
/* Test harness                                                             */
/* ------------------------------------------------------------------------ */

static int passed_tests;
static int failed_tests;
static bool current_test_failed;

/* Extra text for failure reports inside a loop, such as "HTTP 502". */
static char check_context[96];

/*
 * Reports a failed check at file:line. The report is formatted into one
 * string first, so write_redacted never gets a secret split in two.
 */
static void report_failure(const char *file, int line, const char *format,
                           ...)
{
    va_list arguments;
    char *text;
    int length;

    current_test_failed = true;
    va_start(arguments, format);
    length = vsnprintf(NULL, 0, format, arguments);
    va_end(arguments);
    fprintf(stderr, "%s:%d: check failed: ", file, line);
    text = length >= 0 ? malloc((size_t)length + 1) : NULL;
    if (text == NULL) {
        fputs("(the report could not be formatted)", stderr);
    } else {
        va_start(arguments, format);
        vsnprintf(text, (size_t)length + 1, format, arguments);
        va_end(arguments);
        write_redacted(text);
        free(text);
    }
    if (check_context[0] != '\0') {
        fprintf(stderr, " [%s]", check_context);
    }
    fputc('\n', stderr);
}

static bool check_true_at(const char *file, int line, const char *expression,
                          bool value)
{
    if (!value) {
        report_failure(file, line, "%s", expression);
    }
    return value;
}

static bool check_int_eq_at(const char *file, int line,
                            const char *actual_expression,
                            const char *expected_expression, long long actual,
                            long long expected)
{
    if (actual != expected) {
        report_failure(file, line, "%s == %s (actual %lld, expected %lld)",
                       actual_expression, expected_expression, actual,
                       expected);
        return false;
    }
    return true;
}

static bool check_contains_at(const char *file, int line,
                              const char *text_expression, const char *text,
                              const char *part)
{
    if (text == NULL || part == NULL || strstr(text, part) == NULL) {
        report_failure(file, line, "%s contains \"%s\" (actual \"%s\")",
                       text_expression, part != NULL ? part : "(null)",
                       text != NULL ? text : "(null)");
        return false;
    }
    return true;
}

/*
 * Checks that text does not contain part. The report names only the
 * expressions, because part is usually a secret.
 */
static bool check_lacks_at(const char *file, int line,
                           const char *text_expression,
                           const char *part_expression, const char *text,
                           const char *part)
{
    if (text != NULL && part != NULL && part[0] != '\0' &&
        strstr(text, part) != NULL) {
        report_failure(file, line, "%s does not contain %s", text_expression,
                       part_expression);
        return false;
    }
    return true;
}

static bool check_elapsed_at(const char *file, int line, double elapsed,
                             double minimum, double maximum)
{
    if (elapsed < minimum || elapsed >= maximum) {
        report_failure(file, line,
                       "elapsed %.3f s, expected at least %.2f s and below "
                       "%.2f s", elapsed, minimum, maximum);
        return false;
    }
    return true;
}

/*
 * Each check returns whether it passed, so a test can stop where later
 * steps depend on it.
 */
#define CHECK(expression) \
    check_true_at(__FILE__, __LINE__, #expression, (expression) != 0)
#define CHECK_INT_EQ(actual, expected) \
    check_int_eq_at(__FILE__, __LINE__, #actual, #expected, \
                    (long long)(actual), (long long)(expected))
#define CHECK_CONTAINS(text, part) \
    check_contains_at(__FILE__, __LINE__, #text, (text), (part))
#define CHECK_LACKS(text, part) \
    check_lacks_at(__FILE__, __LINE__, #text, #part, (text), (part))
#define CHECK_ELAPSED(elapsed, minimum, maximum) \
    check_elapsed_at(__FILE__, __LINE__, (elapsed), (minimum), (maximum))

typedef void (*test_function)(void);

static void run_test(const char *name, test_function test)
{
    current_test_failed = false;
    check_context[0] = '\0';
    test();
    check_context[0] = '\0';
    if (current_test_failed) {
        failed_tests++;
        printf("FAIL %s\n", name);
    } else {
        passed_tests++;
        printf("ok   %s\n", name);
    }
    fflush(stdout);
}

#define RUN_TEST(test) run_test(#test, test)

/* ------------------------------------------------------------------------ */
/* Environment                                                              */
/* ------------------------------------------------------------------------ */

static const char *test_api_url;
static const char *test_ca_file;
static const char *test_control_url;
static const char *test_token;

/* Only with --mtls: the client certificate files and the P12 password. */
static char *client_cert_file;
static char *client_key_file;
static char *client_p12_file;
static const char *p12_password;

/* "SECRET-TOKEN-" and 32 random hexadecimal digits, set by main(). */
static char secret_token[64];

#define SEEDED_NAMESPACE "demo"
#define SEEDED_NAME "shop-frontend"
#define SEEDED_OPERATION_ID 101
#define SEEDED_SITE_COUNT 9

/*
 * Upper bound in seconds for a call that has no intended wait. Under
 * valgrind on a 2-core machine such calls took at most 0.15 s, and 0.65 s
 * for the first call with a PKCS#12 bundle. The bound leaves room for a
 * loaded machine.
 */
#define QUICK_CALL_SECONDS 3.0

/* Backoff settings that make retries without Retry-After almost instant. */
#define SHORT_BACKOFF_SETTINGS "retry_base_ms", 10, "retry_max_ms", 20

/* Stand-in for an out-parameter that the library has not written. */
static char unset_marker;
#define UNSET_POINTER ((void *)&unset_marker)

static const char *read_required_variable(const char *name)
{
    const char *value = getenv(name);

    if (value == NULL || value[0] == '\0') {
        fprintf(stderr, PROGRAM_NAME ": %s is not set; run the program "
                "under Tests/Emulator/with-emulator, which sets it\n", name);
        return NULL;
    }
    return value;
}

/*
 * Returns whether url is an https URL on 127.0.0.0/8, [::1] or localhost.
 * The tests inject faults and send many requests, so they do not run
 * against any other host.
 */
static bool is_loopback_https_url(const char *url)
{
    static const char prefix[] = "https://";
    const char *host;
    const char *end;

    if (strncmp(url, prefix, sizeof prefix - 1) != 0) {
        return false;
    }
    host = url + sizeof prefix - 1;
    if (strncmp(host, "[::1]", 5) == 0) {
        end = host + 5;
    } else if (strncmp(host, "localhost", 9) == 0) {
        end = host + 9;
    } else if (strncmp(host, "127.", 4) == 0) {
        end = host + 4;
        while ((*end >= '0' && *end <= '9') || *end == '.') {
            end++;
        }
    } else {
        return false;
    }
    return *end == '\0' || *end == ':' || *end == '/';
}

/* Copies a string field of emulator.json. Reports a missing field. */
static char *copy_state_field(const json_t *state, const char *key,
                              const char *path)
{
    const char *value = json_string_value(json_object_get(state, key));

    if (value == NULL || value[0] == '\0') {
        fprintf(stderr, PROGRAM_NAME ": %s has no \"%s\"; start the "
                "emulator with --mtls\n", path, key);
        return NULL;
    }
    return strdup(value);
}

/* Reads the client certificate paths from emulator.json. */
static bool load_certificate_paths(void)
{
    const char *state_dir = read_required_variable("OPSTATUS_TEST_STATE_DIR");
    char path[4096];
    json_error_t parse_error;
    json_t *state;

    if (state_dir == NULL) {
        return false;
    }
    snprintf(path, sizeof path, "%s/emulator.json", state_dir);
    state = json_load_file(path, 0, &parse_error);
    if (state == NULL) {
        fprintf(stderr, PROGRAM_NAME ": reading %s failed: %s\n", path,
                parse_error.text);
        return false;
    }
    client_cert_file = copy_state_field(state, "client_cert", path);
    client_key_file = copy_state_field(state, "client_key", path);
    client_p12_file = copy_state_field(state, "client_p12", path);
    json_decref(state);
    return client_cert_file != NULL && client_key_file != NULL &&
           client_p12_file != NULL;
}

static bool load_environment(bool mtls_mode)
{
    test_api_url = read_required_variable("OPSTATUS_TEST_API_URL");
    test_ca_file = read_required_variable("OPSTATUS_TEST_CA_FILE");
    test_control_url = read_required_variable("OPSTATUS_TEST_CONTROL_URL");
    test_token = read_required_variable("OPSTATUS_TEST_TOKEN");
    if (test_api_url == NULL || test_ca_file == NULL ||
        test_control_url == NULL || test_token == NULL) {
        return false;
    }
    register_secret(test_token);
    if (!is_loopback_https_url(test_api_url) ||
        !is_loopback_https_url(test_control_url)) {
        fprintf(stderr, PROGRAM_NAME ": OPSTATUS_TEST_API_URL and "
                "OPSTATUS_TEST_CONTROL_URL must be https URLs on "
                "127.0.0.0/8, [::1] or localhost, because the tests run "
                "only against a local emulator\n");
        return false;
    }
    if (!mtls_mode) {
        return true;
    }
    p12_password = read_required_variable("OPSTATUS_EMULATOR_P12_PASSWORD");
    if (p12_password == NULL) {
        return false;
    }
    register_secret(p12_password);
    return load_certificate_paths();
}

/* Fills text with 2 * byte_count random hexadecimal digits. */
static bool fill_random_hex(char *text, size_t byte_count)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char bytes[32];
    FILE *source;
    size_t index;
    size_t read_count;

    if (byte_count > sizeof bytes) {
        return false;
    }
    source = fopen("/dev/urandom", "rb");
    if (source == NULL) {
        return false;
    }
    read_count = fread(bytes, 1, byte_count, source);
    fclose(source);
    if (read_count != byte_count) {
        return false;
    }
    for (index = 0; index < byte_count; index++) {
        text[2 * index] = digits[bytes[index] >> 4];
        text[2 * index + 1] = digits[bytes[index] & 0x0f];
    }
    text[2 * byte_count] = '\0';
    return true;
}

/* ------------------------------------------------------------------------ */
/* Time and sockets                                                         */
/* ------------------------------------------------------------------------ */

static double monotonic_seconds(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/*
 * Opens a TCP socket that listens on 127.0.0.1 at a port the system picks.
 * Returns the descriptor and stores the port, or returns -1.
 */
static int listen_on_loopback(int *port)
{
    struct sockaddr_in address;
    socklen_t address_length = sizeof address;
    int descriptor = socket(AF_INET, SOCK_STREAM, 0);

    if (descriptor < 0) {
        return -1;
    }
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (bind(descriptor, (struct sockaddr *)&address, sizeof address) != 0 ||
        listen(descriptor, 4) != 0 ||
        getsockname(descriptor, (struct sockaddr *)&address,
                    &address_length) != 0) {
        close(descriptor);
        return -1;
    }
    *port = ntohs(address.sin_port);
    return descriptor;
}

/*
 * Returns a port on 127.0.0.1 that was free a moment ago and has no
 * listener, so a connection to it is refused; or -1.
 */
static int find_closed_loopback_port(void)
{
    int port = -1;
    int descriptor = listen_on_loopback(&port);

    if (descriptor < 0) {
        return -1;
    }
    close(descriptor);
    return port;
}

/* ------------------------------------------------------------------------ */
/* Emulator control endpoint                                                */
/* ------------------------------------------------------------------------ */

/* Cap on a control response. The request log after 11 status calls
 * measured 5.7 kB. */
enum { MAX_CONTROL_RESPONSE_BYTES = 16 * 1024 * 1024 };

struct text_buffer {
    char *data;
    size_t length;
    bool too_large;
};

static size_t append_to_text_buffer(char *data, size_t size, size_t count,
                                    void *user_data)
{
    struct text_buffer *buffer = user_data;
    size_t total = size * count;
    char *grown;

    if (buffer->length + total > MAX_CONTROL_RESPONSE_BYTES) {
        buffer->too_large = true;
        return 0;
    }
    grown = realloc(buffer->data, buffer->length + total + 1);
    if (grown == NULL) {
        return 0;
    }
    buffer->data = grown;
    memcpy(buffer->data + buffer->length, data, total);
    buffer->length += total;
    buffer->data[buffer->length] = '\0';
    return total;
}

/*
 * Sends a request to the control endpoint, such as GET "/requests", and
 * stores the 2xx response body in response; free response->data with
 * free(). body is the JSON body of a POST, or NULL for a GET. With --mtls
 * the emulator requires the client certificate on control requests too.
 */
static bool send_control_request(const char *path, const char *body,
                                 struct text_buffer *response)
{
    struct curl_slist *headers = NULL;
    char url[2048];
    long http_status = 0;
    CURLcode curl_code;
    CURL *curl;

    response->data = NULL;
    response->length = 0;
    response->too_large = false;
    snprintf(url, sizeof url, "%s%s", test_control_url, path);
    curl = curl_easy_init();
    if (!CHECK(curl != NULL)) {
        return false;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
#endif
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_CAINFO, test_ca_file);
    if (client_cert_file != NULL) {
        curl_easy_setopt(curl, CURLOPT_SSLCERT, client_cert_file);
        curl_easy_setopt(curl, CURLOPT_SSLKEY, client_key_file);
    }
    if (body != NULL) {
        headers = curl_slist_append(NULL, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_to_text_buffer);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, response);

    curl_code = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);

    if (curl_code != CURLE_OK || http_status < 200 || http_status > 299) {
        report_failure(__FILE__, __LINE__,
                       "control request %s %s failed: %s, HTTP %ld%s: %s",
                       body != NULL ? "POST" : "GET", url,
                       curl_easy_strerror(curl_code), http_status,
                       response->too_large ? " (response too large)" : "",
                       response->data != NULL ? response->data : "");
        free(response->data);
        response->data = NULL;
        return false;
    }
    return true;
}

static bool post_control(const char *path, const char *body)
{
    struct text_buffer response;
    bool sent = send_control_request(path, body, &response);

    free(response.data);
    return sent;
}

/* Clears the fault queue and the request log. */
static bool reset_emulator(void)
{
    return post_control("/reset", "{}");
}

/* Queues faults in order. Takes ownership of the JSON array. */
static bool queue_faults(json_t *faults)
{
    json_t *request = json_pack("{s:o}", "faults", faults);
    char *body = request != NULL ? json_dumps(request, JSON_COMPACT) : NULL;
    bool queued = false;

    json_decref(request);
    if (CHECK(body != NULL)) {
        queued = post_control("/faults", body);
    }
    free(body);
    return queued;
}

/* Queues one fault and takes ownership of it. */
static bool queue_fault(json_t *fault)
{
    if (!CHECK(fault != NULL)) {
        return false;
    }
    return queue_faults(json_pack("[o]", fault));
}

/*
 * Builds a "status" fault for count requests. retry_after is the value of
 * a Retry-After header, or NULL for none.
 */
static json_t *build_status_fault(int status, const char *retry_after,
                                  int count)
{
    json_t *fault = json_pack("{s:s, s:i, s:i}", "kind", "status", "status",
                              status, "count", count);

    if (fault != NULL && retry_after != NULL) {
        json_object_set_new(fault, "headers",
                            json_pack("{s:s}", "Retry-After", retry_after));
    }
    return fault;
}

/* Returns the emulator's request log, a JSON array, or NULL. */
static json_t *fetch_request_log(void)
{
    struct text_buffer response;
    json_error_t parse_error;
    json_t *log;

    if (!send_control_request("/requests", NULL, &response)) {
        return NULL;
    }
    log = json_loads(response.data, 0, &parse_error);
    free(response.data);
    if (!CHECK(json_is_array(log))) {
        fprintf(stderr, "  the request log is not a JSON array: %s\n",
                parse_error.text);
        json_decref(log);
        return NULL;
    }
    return log;
}

/* Returns the number of API requests since the last reset, or -1. */
static int count_api_requests(void)
{
    json_t *log = fetch_request_log();
    int count;

    if (log == NULL) {
        return -1;
    }
    count = (int)json_array_size(log);
    json_decref(log);
    return count;
}

/* ------------------------------------------------------------------------ */
/* Clients and calls                                                        */
/* ------------------------------------------------------------------------ */

/*
 * Creates a client from the emulator's URL and CA, with environment
 * variables ignored, plus settings. Takes ownership of settings, which may
 * be NULL, and whose keys replace the defaults.
 */
static opstatus_result create_client(opstatus_client **out, json_t *settings)
{
    json_t *config = json_pack("{s:s, s:s, s:b}", "api_url", test_api_url,
                               "ca_file", test_ca_file, "use_environment", 0);
    char *text = NULL;
    opstatus_result code = OPSTATUS_ENOMEM;

    *out = NULL;
    if (config != NULL && settings != NULL) {
        json_object_update(config, settings);
    }
    json_decref(settings);
    if (config != NULL) {
        text = json_dumps(config, JSON_COMPACT);
        json_decref(config);
    }
    if (CHECK(text != NULL)) {
        code = opstatus_client_new(out, text);
    }
    free(text);
    return code;
}

/* Creates a client that must be valid; reports and returns NULL if not. */
static opstatus_client *new_client(json_t *settings)
{
    opstatus_client *client = NULL;
    opstatus_result code = create_client(&client, settings);

    if (!CHECK_INT_EQ(code, OPSTATUS_OK)) {
        report_failure(__FILE__, __LINE__, "opstatus_client_new failed: %s",
                       opstatus_last_error()->message);
        return NULL;
    }
    return client;
}

/* Creates a client that sends token, plus extra settings (may be NULL). */
static opstatus_client *new_token_client(const char *token, json_t *extra)
{
    json_t *settings = json_pack("{s:s}", "api_token", token);

    if (settings != NULL && extra != NULL) {
        json_object_update(settings, extra);
    }
    json_decref(extra);
    return new_client(settings);
}

/* Outcome of one status call. */
struct status_call {
    opstatus_result code;
    double elapsed_seconds;
};

/*
 * Gets the status of operation 101 on load balancer name, timing the call.
 * On success it checks that the result lists the seeded sites; on failure,
 * that the out-parameter was set to NULL. The result is freed either way.
 * Nothing calls the library after a failure, so opstatus_last_error()
 * still describes it.
 */
static struct status_call call_status_at(const char *file, int line,
                                         opstatus_client *client,
                                         const char *name)
{
    struct status_call call;
    char *result = UNSET_POINTER;
    double started = monotonic_seconds();

    call.code = opstatus_get_status(&result, client, SEEDED_NAMESPACE, name,
                                    SEEDED_OPERATION_ID);
    call.elapsed_seconds = monotonic_seconds() - started;

    if (call.code != OPSTATUS_OK) {
        if (result != NULL) {
            report_failure(file, line, "failed call left result %s",
                           result == UNSET_POINTER ? "unset" : "non-NULL");
        }
        return call;
    }
    if (result == NULL || result == UNSET_POINTER) {
        report_failure(file, line, "successful call returned no result");
        return call;
    }
    {
        json_t *parsed = json_loads(result, 0, NULL);
        size_t item_count = json_array_size(json_object_get(parsed, "items"));

        if (item_count != SEEDED_SITE_COUNT) {
            report_failure(file, line, "result has %zu items, expected %d",
                           item_count, SEEDED_SITE_COUNT);
        }
        json_decref(parsed);
    }
    opstatus_free(result);
    return call;
}

#define CALL_STATUS(client, name) \
    call_status_at(__FILE__, __LINE__, (client), (name))
#define CALL_SEEDED_STATUS(client) CALL_STATUS((client), SEEDED_NAME)

/* http_status value for check_last_error_at that skips the check. */
#define ANY_HTTP_STATUS (-1)
/* retry_after_ms of an error without Retry-After. */
#define NO_RETRY_AFTER (-1)

/*
 * Checks that a call returned expected_code and that opstatus_last_error()
 * agrees: same code, the HTTP status, a message containing message_part
 * (unless NULL), no F5 XC error code, and the Retry-After delay.
 */
static void check_last_error_at(const char *file, int line,
                                opstatus_result returned,
                                opstatus_result expected_code,
                                int http_status, int64_t retry_after_ms,
                                const char *message_part)
{
    const opstatus_error *error = opstatus_last_error();

    if (returned != expected_code) {
        report_failure(file, line, "result %d (%s), expected %d (%s); "
                       "message \"%s\"", (int)returned,
                       opstatus_strerror(returned), (int)expected_code,
                       opstatus_strerror(expected_code),
                       error->message != NULL ? error->message : "(null)");
        return;
    }
    check_int_eq_at(file, line, "opstatus_last_error()->code",
                    "expected_code", error->code, expected_code);
    if (http_status != ANY_HTTP_STATUS) {
        check_int_eq_at(file, line, "opstatus_last_error()->http_status",
                        "http_status", error->http_status, http_status);
    }
    if (error->message == NULL || error->message[0] == '\0') {
        report_failure(file, line, "opstatus_last_error()->message is empty");
    } else if (message_part != NULL) {
        check_contains_at(file, line, "opstatus_last_error()->message",
                          error->message, message_part);
    }
    if (error->api_code != NULL) {
        report_failure(file, line, "opstatus_last_error()->api_code is \"%s\","
                       " expected NULL", error->api_code);
    }
    check_int_eq_at(file, line, "opstatus_last_error()->retry_after_ms",
                    "retry_after_ms", error->retry_after_ms, retry_after_ms);
}

/* Checks that a call succeeded and that the thread's last error is clear. */
static void check_success_at(const char *file, int line,
                             opstatus_result returned)
{
    const opstatus_error *error = opstatus_last_error();

    if (returned != OPSTATUS_OK) {
        report_failure(file, line, "result %d (%s), expected OPSTATUS_OK; "
                       "message \"%s\"", (int)returned,
                       opstatus_strerror(returned),
                       error->message != NULL ? error->message : "(null)");
        return;
    }
    check_int_eq_at(file, line, "opstatus_last_error()->code", "OPSTATUS_OK",
                    error->code, OPSTATUS_OK);
    check_int_eq_at(file, line, "opstatus_last_error()->http_status", "0",
                    error->http_status, 0);
    check_true_at(file, line, "opstatus_last_error()->message is \"\"",
                  error->message != NULL && error->message[0] == '\0');
    check_true_at(file, line, "opstatus_last_error()->api_code == NULL",
                  error->api_code == NULL);
    check_int_eq_at(file, line, "opstatus_last_error()->retry_after_ms",
                    "NO_RETRY_AFTER", error->retry_after_ms, NO_RETRY_AFTER);
}

#define CHECK_LAST_ERROR(returned, code, http_status, retry_after_ms, part) \
    check_last_error_at(__FILE__, __LINE__, (returned), (code), \
                        (http_status), (retry_after_ms), (part))
#define CHECK_SUCCESS(returned) \
    check_success_at(__FILE__, __LINE__, (returned))

/* ------------------------------------------------------------------------ */
/* Log capture                                                              */
/* ------------------------------------------------------------------------ */

enum { MAX_CAPTURED_LINES = 64 };

/* Log messages that capture_log_line received, for one client. */
struct log_capture {
    opstatus_log_level least_level;
    int line_count;
    int lines_below_least_level;
    int lines_with_secret;
    int lines_not_single;
    opstatus_log_level levels[MAX_CAPTURED_LINES];
    char *lines[MAX_CAPTURED_LINES];
};

static void capture_log_line(opstatus_log_level level, const char *message,
                             void *payload)
{
    struct log_capture *capture = payload;

    if (level < capture->least_level) {
        capture->lines_below_least_level++;
    }
    if (message == NULL || message[0] == '\0' ||
        strchr(message, '\n') != NULL) {
        capture->lines_not_single++;
    }
    if (contains_secret(message)) {
        capture->lines_with_secret++;
    }
    if (capture->line_count < MAX_CAPTURED_LINES) {
        capture->levels[capture->line_count] = level;
        capture->lines[capture->line_count] =
            strdup(message != NULL ? message : "");
    }
    capture->line_count++;
}

/* Starts capturing the client's log messages at least_level and above. */
static bool start_log_capture(struct log_capture *capture,
                              opstatus_client *client,
                              opstatus_log_level least_level)
{
    memset(capture, 0, sizeof *capture);
    capture->least_level = least_level;
    return CHECK_INT_EQ(opstatus_set_log_callback(client, least_level,
                                                  capture_log_line, capture),
                        OPSTATUS_OK);
}

static void free_log_capture(struct log_capture *capture)
{
    int index;

    for (index = 0; index < capture->line_count && index < MAX_CAPTURED_LINES;
         index++) {
        free(capture->lines[index]);
        capture->lines[index] = NULL;
    }
}

/* Writes the captured lines to stderr, for a failure report. */
static void print_log_capture(const struct log_capture *capture)
{
    int index;

    for (index = 0; index < capture->line_count && index < MAX_CAPTURED_LINES;
         index++) {
        fprintf(stderr, "  log line %d, level %d: ", index,
                (int)capture->levels[index]);
        write_redacted(capture->lines[index] != NULL ? capture->lines[index]
                                                     : "(null)");
        fputc('\n', stderr);
    }
}

/*
 * Returns whether text has a number of milliseconds, such as "250 ms",
 * which is how a log line states a delay.
 */
static bool contains_milliseconds(const char *text)
{
    const char *found = text;

    while ((found = strstr(found, " ms")) != NULL) {
        if (found > text && found[-1] >= '0' && found[-1] <= '9') {
            return true;
        }
        found++;
    }
    return false;
}

/* Counts captured lines at level that contain part. */
static int count_lines_containing(const struct log_capture *capture,
                                  opstatus_log_level level, const char *part)
{
    int count = 0;
    int index;

    for (index = 0; index < capture->line_count && index < MAX_CAPTURED_LINES;
         index++) {
        if (capture->levels[index] == level && capture->lines[index] != NULL &&
            strstr(capture->lines[index], part) != NULL) {
            count++;
        }
    }
    return count;
}

/* ------------------------------------------------------------------------ */
/* HTTP 429 and Retry-After                                                 */
/* ------------------------------------------------------------------------ */

static void test_retry_after_seconds_then_ok(void)
{
    opstatus_client *client = new_token_client(
        test_token, json_pack("{s:i, s:i}", SHORT_BACKOFF_SETTINGS));
    struct status_call call;

    if (client == NULL) {
        return;
    }
    if (reset_emulator() && queue_fault(build_status_fault(429, "1", 1))) {
        call = CALL_SEEDED_STATUS(client);
        CHECK_SUCCESS(call.code);
        CHECK_ELAPSED(call.elapsed_seconds, 1.0, 3.0);
        CHECK_INT_EQ(count_api_requests(), 2);
    }
    opstatus_client_free(client);
}

/* Formats a time as an HTTP date (IMF-fixdate), such as
 * "Sun, 06 Nov 1994 08:49:37 GMT". Needs the C locale, the default. */
static bool format_http_date(time_t when, char *text, size_t size)
{
    struct tm parts;

    if (gmtime_r(&when, &parts) == NULL) {
        return false;
    }
    return strftime(text, size, "%a, %d %b %Y %H:%M:%S GMT", &parts) > 0;
}

static void test_retry_after_http_date_then_ok(void)
{
    opstatus_client *client = new_token_client(
        test_token, json_pack("{s:i, s:i}", SHORT_BACKOFF_SETTINGS));
    char date[64];
    struct status_call call;

    if (client == NULL) {
        return;
    }
    /*
     * The date has whole seconds, so "now + 2 s" requests a wait of more
     * than 1 s and at most 2 s.
     */
    if (CHECK(format_http_date(time(NULL) + 2, date, sizeof date)) &&
        reset_emulator() && queue_fault(build_status_fault(429, date, 1))) {
        call = CALL_SEEDED_STATUS(client);
        CHECK_SUCCESS(call.code);
        CHECK_ELAPSED(call.elapsed_seconds, 0.95, 4.0);
        CHECK_INT_EQ(count_api_requests(), 2);
    }
    opstatus_client_free(client);
}

static void test_rate_limited_after_max_attempts(void)
{
    opstatus_client *client = new_token_client(
        test_token, json_pack("{s:i, s:i, s:i}", "max_attempts", 2,
                              SHORT_BACKOFF_SETTINGS));
    struct status_call call;
    json_t *error_json;
    char *error_text;

    if (client == NULL) {
        return;
    }
    if (reset_emulator() && queue_fault(build_status_fault(429, "1", 2))) {
        call = CALL_SEEDED_STATUS(client);
        CHECK_LAST_ERROR(call.code, OPSTATUS_ERATELIMITED, 429, 1000, "429");
        CHECK_ELAPSED(call.elapsed_seconds, 1.0, 3.0);

        error_text = opstatus_last_error_json();
        error_json = error_text != NULL ? json_loads(error_text, 0, NULL)
                                        : NULL;
        if (CHECK(error_json != NULL)) {
            CHECK_CONTAINS(json_string_value(json_object_get(error_json,
                                                             "name")),
                           "OPSTATUS_ERATELIMITED");
            CHECK_INT_EQ(json_integer_value(json_object_get(error_json,
                                                            "http_status")),
                         429);
            CHECK_INT_EQ(json_integer_value(json_object_get(
                             error_json, "retry_after_ms")),
                         1000);
        }
        json_decref(error_json);
        opstatus_free(error_text);
        CHECK_INT_EQ(count_api_requests(), 2);
    }
    opstatus_client_free(client);
}

static void test_retry_after_above_max_ends(void)
{
    opstatus_client *client = new_token_client(
        test_token, json_pack("{s:i, s:i, s:i}", "retry_after_max_ms", 2000,
                              SHORT_BACKOFF_SETTINGS));
    struct status_call call;

    if (client == NULL) {
        return;
    }
    if (reset_emulator() && queue_fault(build_status_fault(429, "30", 1))) {
        call = CALL_SEEDED_STATUS(client);
        CHECK_LAST_ERROR(call.code, OPSTATUS_ERATELIMITED, 429, 30000,
                         "retry_after_max_ms");
        CHECK_ELAPSED(call.elapsed_seconds, 0.0, QUICK_CALL_SECONDS);
        CHECK_INT_EQ(count_api_requests(), 1);
    }
    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* HTTP 5xx and 4xx                                                         */
/* ------------------------------------------------------------------------ */

static void test_server_errors_retried_then_ok(void)
{
    static const int statuses[] = { 500, 502, 503, 504 };
    opstatus_client *client = new_token_client(
        test_token, json_pack("{s:i, s:i}", SHORT_BACKOFF_SETTINGS));
    size_t index;

    if (client == NULL) {
        return;
    }
    for (index = 0; index < sizeof statuses / sizeof statuses[0]; index++) {
        struct status_call call;

        snprintf(check_context, sizeof check_context, "HTTP %d then 200",
                 statuses[index]);
        if (!reset_emulator() ||
            !queue_fault(build_status_fault(statuses[index], NULL, 1))) {
            continue;
        }
        call = CALL_SEEDED_STATUS(client);
        CHECK_SUCCESS(call.code);
        CHECK_ELAPSED(call.elapsed_seconds, 0.0, QUICK_CALL_SECONDS);
        CHECK_INT_EQ(count_api_requests(), 2);
    }
    opstatus_client_free(client);
}

static void test_unavailable_after_two_attempts(void)
{
    opstatus_client *client = new_token_client(
        test_token, json_pack("{s:i, s:i, s:i}", "max_attempts", 2,
                              SHORT_BACKOFF_SETTINGS));
    struct status_call call;

    if (client == NULL) {
        return;
    }
    if (reset_emulator() && queue_fault(build_status_fault(503, NULL, 3))) {
        call = CALL_SEEDED_STATUS(client);
        CHECK_LAST_ERROR(call.code, OPSTATUS_EUNAVAILABLE, 503,
                         NO_RETRY_AFTER, "503");
        CHECK_ELAPSED(call.elapsed_seconds, 0.0, QUICK_CALL_SECONDS);
        CHECK_INT_EQ(count_api_requests(), 2);
    }
    opstatus_client_free(client);
}

static void test_not_found_not_retried(void)
{
    opstatus_client *client = new_token_client(
        test_token, json_pack("{s:i, s:i}", SHORT_BACKOFF_SETTINGS));
    struct status_call call;

    if (client == NULL) {
        return;
    }
    if (reset_emulator()) {
        call = CALL_STATUS(client, "no-such-load-balancer");
        CHECK_LAST_ERROR(call.code, OPSTATUS_ENOTFOUND, 404, NO_RETRY_AFTER,
                         "404");
        CHECK_ELAPSED(call.elapsed_seconds, 0.0, QUICK_CALL_SECONDS);
        CHECK_INT_EQ(count_api_requests(), 1);
    }
    opstatus_client_free(client);
}

static void test_unauthorized_not_retried(void)
{
    opstatus_client *client = new_token_client(
        "not-the-emulator-token",
        json_pack("{s:i, s:i}", SHORT_BACKOFF_SETTINGS));
    struct status_call call;

    if (client == NULL) {
        return;
    }
    if (reset_emulator()) {
        call = CALL_SEEDED_STATUS(client);
        CHECK_LAST_ERROR(call.code, OPSTATUS_EUNAUTHORIZED, 401,
                         NO_RETRY_AFTER, "401");
        CHECK_ELAPSED(call.elapsed_seconds, 0.0, QUICK_CALL_SECONDS);
        CHECK_INT_EQ(count_api_requests(), 1);
    }
    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* Deadline and broken connections                                          */
/* ------------------------------------------------------------------------ */

static void test_deadline_ends_hanging_request(void)
{
    opstatus_client *client = new_token_client(
        test_token, json_pack("{s:i, s:i, s:i}", "deadline_ms", 2000,
                              SHORT_BACKOFF_SETTINGS));
    struct status_call call;

    if (client == NULL) {
        return;
    }
    if (reset_emulator() &&
        queue_fault(json_pack("{s:s, s:f}", "kind", "hang", "seconds",
                              30.0))) {
        call = CALL_SEEDED_STATUS(client);
        CHECK_LAST_ERROR(call.code, OPSTATUS_ETIMEOUT, 0, NO_RETRY_AFTER,
                         "deadline_ms");
        CHECK_ELAPSED(call.elapsed_seconds, 1.9, 2.5);
        CHECK_INT_EQ(count_api_requests(), 1);
    }
    opstatus_client_free(client);
}

/* Checks that one fault of kind, which breaks the connection, is retried. */
static void check_broken_connection_retried(const char *kind)
{
    opstatus_client *client = new_token_client(
        test_token, json_pack("{s:i, s:i}", SHORT_BACKOFF_SETTINGS));
    struct status_call call;

    if (client == NULL) {
        return;
    }
    if (reset_emulator() && queue_fault(json_pack("{s:s}", "kind", kind))) {
        call = CALL_SEEDED_STATUS(client);
        CHECK_SUCCESS(call.code);
        CHECK_ELAPSED(call.elapsed_seconds, 0.0, QUICK_CALL_SECONDS);
        CHECK_INT_EQ(count_api_requests(), 2);
    }
    opstatus_client_free(client);
}

static void test_reset_connection_retried(void)
{
    check_broken_connection_retried("reset");
}

static void test_truncated_body_retried(void)
{
    check_broken_connection_retried("truncate");
}

static void test_refused_connection_retried(void)
{
    int port = find_closed_loopback_port();
    char url[64];
    char port_text[16];
    struct log_capture capture;
    opstatus_client *client;
    struct status_call call;

    if (!CHECK(port > 0)) {
        return;
    }
    snprintf(url, sizeof url, "https://127.0.0.1:%d", port);
    snprintf(port_text, sizeof port_text, "%d", port);
    client = new_client(json_pack("{s:s, s:s, s:i, s:i}", "api_url", url,
                                  "api_token", test_token, "max_attempts", 3,
                                  "retry_base_ms", 50));
    if (client == NULL) {
        return;
    }
    if (start_log_capture(&capture, client, OPSTATUS_LOG_WARNING)) {
        call = CALL_SEEDED_STATUS(client);
        CHECK_LAST_ERROR(call.code, OPSTATUS_ETRANSPORT, 0, NO_RETRY_AFTER,
                         port_text);
        CHECK_ELAPSED(call.elapsed_seconds, 0.0, 2.0);
        /* Three attempts mean two retry warnings, after attempts 1 and 2. */
        if (!CHECK_INT_EQ(count_lines_containing(&capture,
                                                 OPSTATUS_LOG_WARNING,
                                                 "retrying"),
                          2) ||
            !CHECK_INT_EQ(count_lines_containing(&capture,
                                                 OPSTATUS_LOG_WARNING,
                                                 "attempt 2 of 3"),
                          1)) {
            print_log_capture(&capture);
        }
        CHECK_INT_EQ(capture.lines_with_secret, 0);
        free_log_capture(&capture);
    }
    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* Hostile responses                                                        */
/* ------------------------------------------------------------------------ */

/*
 * Checks that one fault (taken over) makes the call fail with
 * OPSTATUS_EPROTOCOL after one request, with message_part in the message.
 */
static void check_protocol_error(json_t *fault, json_t *extra_settings,
                                 int http_status, const char *message_part)
{
    opstatus_client *client = new_token_client(test_token, extra_settings);
    struct status_call call;

    if (client == NULL || !reset_emulator()) {
        json_decref(fault);
        opstatus_client_free(client);
        return;
    }
    if (queue_fault(fault)) {
        call = CALL_SEEDED_STATUS(client);
        CHECK_LAST_ERROR(call.code, OPSTATUS_EPROTOCOL, http_status,
                         NO_RETRY_AFTER, message_part);
        CHECK_ELAPSED(call.elapsed_seconds, 0.0, QUICK_CALL_SECONDS);
        CHECK_INT_EQ(count_api_requests(), 1);
    }
    opstatus_client_free(client);
}

static void test_invalid_json_rejected(void)
{
    check_protocol_error(json_pack("{s:s}", "kind", "invalid_json"), NULL,
                         200, "JSON");
}

static void test_wrong_types_name_path(void)
{
    /* The fault's "items" is an object where the API has an array. */
    check_protocol_error(json_pack("{s:s}", "kind", "wrong_types"), NULL, 200,
                         "items");
}

static void test_html_page_rejected(void)
{
    check_protocol_error(json_pack("{s:s}", "kind", "html"), NULL, 200,
                         "HTML");
}

static void test_huge_body_rejected(void)
{
    /*
     * The response's status line arrived, but whether http_status is 0 or
     * 200 for a body that was cut off is not documented.
     */
    check_protocol_error(json_pack("{s:s, s:i}", "kind", "huge", "bytes",
                                   4 * 1024 * 1024),
                         json_pack("{s:i}", "max_response_bytes", 65536),
                         ANY_HTTP_STATUS, "max_response_bytes");
}

static void test_redirect_not_followed(void)
{
    int port = -1;
    int listener = listen_on_loopback(&port);
    char location[96];
    char location_host[64];
    struct pollfd pending = { -1, POLLIN, 0 };

    if (!CHECK(listener >= 0)) {
        return;
    }
    /*
     * The Location points at a listener of this test. Its port differs from
     * the emulator's, so a message that names it names the Location's host,
     * and a connection to it would show that the redirect was followed.
     */
    snprintf(location, sizeof location, "https://127.0.0.1:%d/login", port);
    snprintf(location_host, sizeof location_host, "127.0.0.1:%d", port);
    check_protocol_error(json_pack("{s:s, s:i, s:s}", "kind", "redirect",
                                   "status", 302, "location", location),
                         NULL, 302, location_host);

    pending.fd = listener;
    CHECK_INT_EQ(poll(&pending, 1, 0), 0);
    close(listener);
}

/* ------------------------------------------------------------------------ */
/* Client-side rate limit                                                   */
/* ------------------------------------------------------------------------ */

static void test_rate_limit_spaces_calls(void)
{
    enum { CALL_COUNT = 11 };
    opstatus_client *client = new_token_client(
        test_token, json_pack("{s:f, s:i}", "rate_per_second", 10.0, "burst",
                              1));
    int succeeded = 0;
    double started;
    double elapsed;
    int index;

    if (client == NULL) {
        return;
    }
    if (reset_emulator()) {
        started = monotonic_seconds();
        for (index = 0; index < CALL_COUNT; index++) {
            struct status_call call = CALL_SEEDED_STATUS(client);

            if (call.code == OPSTATUS_OK) {
                succeeded++;
            }
        }
        elapsed = monotonic_seconds() - started;

        CHECK_INT_EQ(succeeded, CALL_COUNT);
        /*
         * The first call takes the one burst token. The other 10 wait for
         * tokens that arrive at 10 per second, so they need at least 1.0 s.
         */
        CHECK_ELAPSED(elapsed, 0.95, 5.0);
        CHECK_INT_EQ(count_api_requests(), CALL_COUNT);
    }
    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* Log callback                                                             */
/* ------------------------------------------------------------------------ */

/* Returns a copy of the path of the first API request in the log, or NULL. */
static char *copy_first_request_path(void)
{
    json_t *log = fetch_request_log();
    const char *path = json_string_value(
        json_object_get(json_array_get(log, 0), "path"));
    char *copy = path != NULL ? strdup(path) : NULL;

    json_decref(log);
    return copy;
}

static void test_log_debug_line_for_success(void)
{
    opstatus_client *client = new_token_client(test_token, NULL);
    struct log_capture capture;
    struct status_call call;
    char *path;

    if (client == NULL) {
        return;
    }
    if (reset_emulator() &&
        start_log_capture(&capture, client, OPSTATUS_LOG_DEBUG)) {
        call = CALL_SEEDED_STATUS(client);
        CHECK_SUCCESS(call.code);
        CHECK_ELAPSED(call.elapsed_seconds, 0.0, QUICK_CALL_SECONDS);
        path = copy_first_request_path();

        if (CHECK_INT_EQ(capture.line_count, 1) && CHECK(path != NULL)) {
            CHECK_INT_EQ(capture.levels[0], OPSTATUS_LOG_DEBUG);
            CHECK_CONTAINS(capture.lines[0], "POST");
            CHECK_CONTAINS(capture.lines[0], path);
            CHECK_CONTAINS(capture.lines[0], "200");
            CHECK_CONTAINS(capture.lines[0], "attempt 1");
        } else {
            print_log_capture(&capture);
        }
        CHECK_INT_EQ(capture.lines_with_secret, 0);
        CHECK_INT_EQ(capture.lines_not_single, 0);
        CHECK_INT_EQ(count_api_requests(), 1);
        free(path);
        free_log_capture(&capture);
    }
    opstatus_client_free(client);
}

static void test_log_warning_for_retried_503(void)
{
    opstatus_client *client = new_token_client(
        test_token, json_pack("{s:i, s:i}", SHORT_BACKOFF_SETTINGS));
    struct log_capture capture;
    struct status_call call;

    if (client == NULL) {
        return;
    }
    if (reset_emulator() && queue_fault(build_status_fault(503, NULL, 1)) &&
        start_log_capture(&capture, client, OPSTATUS_LOG_WARNING)) {
        call = CALL_SEEDED_STATUS(client);
        CHECK_SUCCESS(call.code);
        CHECK_ELAPSED(call.elapsed_seconds, 0.0, QUICK_CALL_SECONDS);

        /* The line gives the attempt, the cause (HTTP 503) and the delay. */
        if (CHECK_INT_EQ(capture.line_count, 1)) {
            CHECK_INT_EQ(capture.levels[0], OPSTATUS_LOG_WARNING);
            CHECK_CONTAINS(capture.lines[0], "attempt 1");
            CHECK_CONTAINS(capture.lines[0], "503");
            if (!CHECK(contains_milliseconds(capture.lines[0]))) {
                print_log_capture(&capture);
            }
        } else {
            print_log_capture(&capture);
        }
        CHECK_INT_EQ(capture.lines_below_least_level, 0);
        CHECK_INT_EQ(capture.lines_with_secret, 0);
        CHECK_INT_EQ(count_api_requests(), 2);
        free_log_capture(&capture);
    }
    opstatus_client_free(client);
}

static void test_log_callback_null_stops(void)
{
    opstatus_client *client = new_token_client(test_token, NULL);
    struct log_capture capture;
    struct status_call call;

    if (client == NULL) {
        return;
    }
    if (reset_emulator() &&
        start_log_capture(&capture, client, OPSTATUS_LOG_DEBUG)) {
        call = CALL_SEEDED_STATUS(client);
        CHECK_SUCCESS(call.code);
        CHECK_INT_EQ(capture.line_count, 1);

        CHECK_INT_EQ(opstatus_set_log_callback(client, OPSTATUS_LOG_DEBUG,
                                               NULL, &capture),
                     OPSTATUS_OK);
        call = CALL_SEEDED_STATUS(client);
        CHECK_SUCCESS(call.code);
        CHECK_ELAPSED(call.elapsed_seconds, 0.0, QUICK_CALL_SECONDS);
        CHECK_INT_EQ(capture.line_count, 1);
        CHECK_INT_EQ(count_api_requests(), 2);
        free_log_capture(&capture);
    }
    opstatus_client_free(client);
}

static void test_log_invalid_level_rejected(void)
{
    static const int invalid_levels[] = { -10, 0, 5, 15, 25, 35, 50 };
    opstatus_client *client = new_token_client(test_token, NULL);
    struct log_capture capture;
    size_t index;

    memset(&capture, 0, sizeof capture);
    if (client == NULL) {
        return;
    }
    for (index = 0; index < sizeof invalid_levels / sizeof invalid_levels[0];
         index++) {
        opstatus_result code;

        snprintf(check_context, sizeof check_context, "level %d",
                 invalid_levels[index]);
        code = opstatus_set_log_callback(
            client, (opstatus_log_level)invalid_levels[index],
            capture_log_line, &capture);
        CHECK_LAST_ERROR(code, OPSTATUS_EINVAL, 0, NO_RETRY_AFTER, "level");
    }
    check_context[0] = '\0';
    CHECK_LAST_ERROR(opstatus_set_log_callback(NULL, OPSTATUS_LOG_DEBUG,
                                               capture_log_line, &capture),
                     OPSTATUS_EINVAL, 0, NO_RETRY_AFTER, "client");
    CHECK_INT_EQ(capture.line_count, 0);
    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* Secrecy of the API token                                                 */
/* ------------------------------------------------------------------------ */

/* Checks that neither form of the thread's last error contains token. */
static void check_error_lacks_token(const char *token)
{
    char *error_json;

    CHECK_LACKS(opstatus_last_error()->message, token);
    error_json = opstatus_last_error_json();
    if (CHECK(error_json != NULL)) {
        CHECK_LACKS(error_json, token);
    }
    opstatus_free(error_json);
}

static void test_token_absent_from_errors_and_logs(void)
{
    /* A NULL fault means the emulator's own 401 for an unknown token. */
    struct token_case {
        const char *label;
        json_t *fault;
        opstatus_result code;
        int http_status;
        double min_seconds;
        double max_seconds;
    } cases[4];
    opstatus_client *client;
    struct log_capture capture;
    size_t index;

    cases[0] = (struct token_case){ "401", NULL, OPSTATUS_EUNAUTHORIZED, 401,
                                    0.0, QUICK_CALL_SECONDS };
    cases[1] = (struct token_case){
        "404", build_status_fault(404, NULL, 1), OPSTATUS_ENOTFOUND, 404, 0.0,
        QUICK_CALL_SECONDS };
    cases[2] = (struct token_case){
        "invalid JSON", json_pack("{s:s}", "kind", "invalid_json"),
        OPSTATUS_EPROTOCOL, 200, 0.0, QUICK_CALL_SECONDS };
    cases[3] = (struct token_case){
        "timeout", json_pack("{s:s, s:f}", "kind", "hang", "seconds", 10.0),
        OPSTATUS_ETIMEOUT, 0, 0.9, 2.5 };

    client = new_token_client(secret_token,
                              json_pack("{s:i, s:i}", "max_attempts", 1,
                                        "timeout_ms", 1000));
    if (client == NULL || !start_log_capture(&capture, client,
                                             OPSTATUS_LOG_DEBUG)) {
        for (index = 0; index < 4; index++) {
            json_decref(cases[index].fault);
        }
        opstatus_client_free(client);
        return;
    }

    for (index = 0; index < 4; index++) {
        struct status_call call;

        snprintf(check_context, sizeof check_context, "%s",
                 cases[index].label);
        if (!reset_emulator()) {
            json_decref(cases[index].fault);
            continue;
        }
        if (cases[index].fault != NULL && !queue_fault(cases[index].fault)) {
            continue;
        }
        call = CALL_SEEDED_STATUS(client);
        CHECK_LAST_ERROR(call.code, cases[index].code,
                         cases[index].http_status, NO_RETRY_AFTER, NULL);
        check_error_lacks_token(secret_token);
        CHECK_ELAPSED(call.elapsed_seconds, cases[index].min_seconds,
                      cases[index].max_seconds);
        CHECK_INT_EQ(count_api_requests(), 1);
    }
    check_context[0] = '\0';

    /* Each of the three responses logs a DEBUG line. */
    CHECK(capture.line_count >= 3);
    CHECK_INT_EQ(capture.lines_with_secret, 0);
    free_log_capture(&capture);
    opstatus_client_free(client);
}

static void test_echoed_token_absent_from_logs(void)
{
    /*
     * A hostile or broken server puts the request's Authorization header
     * into a 503 body. The retry warning quotes the cause, and the header
     * promises that no log message contains the token.
     */
    opstatus_client *client = new_token_client(
        test_token, json_pack("{s:i, s:i}", SHORT_BACKOFF_SETTINGS));
    struct log_capture capture;
    struct status_call call;
    char body[512];
    json_t *fault;

    if (client == NULL || !reset_emulator()) {
        opstatus_client_free(client);
        return;
    }
    snprintf(body, sizeof body, "upstream failed; request had "
             "Authorization: APIToken %s", test_token);
    fault = build_status_fault(503, NULL, 1);
    if (fault != NULL) {
        json_object_set_new(fault, "body", json_string(body));
    }
    if (queue_fault(fault) &&
        start_log_capture(&capture, client, OPSTATUS_LOG_DEBUG)) {
        call = CALL_SEEDED_STATUS(client);
        CHECK_SUCCESS(call.code);
        CHECK_ELAPSED(call.elapsed_seconds, 0.0, QUICK_CALL_SECONDS);
        CHECK(capture.line_count >= 1);
        if (!CHECK_INT_EQ(capture.lines_with_secret, 0)) {
            print_log_capture(&capture);
        }
        CHECK_INT_EQ(count_api_requests(), 2);
        free_log_capture(&capture);
    }
    opstatus_client_free(client);
}

/* ------------------------------------------------------------------------ */
/* Client certificates (--mtls)                                             */
/* ------------------------------------------------------------------------ */

/* Settings for the emulator's client certificate as a PKCS#12 bundle. */
static json_t *build_p12_settings(const char *password)
{
    return json_pack("{s:s, s:s}", "p12_file", client_p12_file,
                     "p12_password", password);
}

/* Settings for the emulator's client certificate as PEM files. */
static json_t *build_pem_settings(void)
{
    return json_pack("{s:s, s:s}", "cert_file", client_cert_file, "key_file",
                     client_key_file);
}

/* Checks that a client with settings gets the seeded status in 1 request. */
static void check_certificate_client_succeeds(json_t *settings)
{
    opstatus_client *client = new_client(settings);
    struct status_call call;

    if (client == NULL) {
        return;
    }
    if (reset_emulator()) {
        call = CALL_SEEDED_STATUS(client);
        CHECK_SUCCESS(call.code);
        CHECK_ELAPSED(call.elapsed_seconds, 0.0, QUICK_CALL_SECONDS);
        CHECK_INT_EQ(count_api_requests(), 1);
    }
    opstatus_client_free(client);
}

static void test_mtls_p12_bundle_accepted(void)
{
    check_certificate_client_succeeds(build_p12_settings(p12_password));
}

static void test_mtls_pem_files_accepted(void)
{
    check_certificate_client_succeeds(build_pem_settings());
}

static void test_mtls_wrong_p12_password(void)
{
    char wrong_password[48];
    opstatus_client *client = NULL;
    opstatus_result code;
    const opstatus_error *error;
    struct status_call call;

    strcpy(wrong_password, "wrong-");
    if (!CHECK(fill_random_hex(wrong_password + 6, 16))) {
        return;
    }
    register_secret(wrong_password);

    /*
     * The library may read the bundle when it creates the client or at the
     * first request, so either step may report the wrong password.
     */
    code = create_client(&client, build_p12_settings(wrong_password));
    if (code == OPSTATUS_OK && reset_emulator()) {
        call = CALL_SEEDED_STATUS(client);
        code = call.code;
        CHECK_ELAPSED(call.elapsed_seconds, 0.0, QUICK_CALL_SECONDS);
    }
    error = opstatus_last_error();
    if (!CHECK(code == OPSTATUS_ECONFIG || code == OPSTATUS_ETRANSPORT)) {
        report_failure(__FILE__, __LINE__, "result %d (%s): %s", (int)code,
                       opstatus_strerror(code), error->message);
    } else {
        CHECK_INT_EQ(error->code, code);
        CHECK_INT_EQ(error->http_status, 0);
        CHECK_CONTAINS(error->message, "p12");
        CHECK_LACKS(error->message, wrong_password);
        CHECK_LACKS(error->message, p12_password);
        CHECK(error->api_code == NULL);
        CHECK_INT_EQ(error->retry_after_ms, NO_RETRY_AFTER);
        check_error_lacks_token(wrong_password);
    }
    if (client != NULL) {
        /* The TLS handshake failed, so no request reached the API. */
        CHECK_INT_EQ(count_api_requests(), 0);
    }
    opstatus_client_free(client);
}

static void test_mtls_token_and_certificate_need_auth(void)
{
    opstatus_client *client = NULL;
    json_t *settings;
    opstatus_result code;

    /* A PKCS#12 bundle and a token, without "auth". */
    settings = build_p12_settings(p12_password);
    json_object_set_new(settings, "api_token", json_string(test_token));
    code = create_client(&client, settings);
    CHECK_LAST_ERROR(code, OPSTATUS_ECONFIG, 0, NO_RETRY_AFTER, "api_token");
    if (code == OPSTATUS_ECONFIG) {
        CHECK_CONTAINS(opstatus_last_error()->message, "p12_file");
        CHECK_LACKS(opstatus_last_error()->message, test_token);
        CHECK_LACKS(opstatus_last_error()->message, p12_password);
    }
    CHECK(client == NULL);
    opstatus_client_free(client);

    /* PEM files and a token, without "auth". */
    client = NULL;
    settings = build_pem_settings();
    json_object_set_new(settings, "api_token", json_string(test_token));
    code = create_client(&client, settings);
    CHECK_LAST_ERROR(code, OPSTATUS_ECONFIG, 0, NO_RETRY_AFTER, "api_token");
    if (code == OPSTATUS_ECONFIG) {
        CHECK_CONTAINS(opstatus_last_error()->message, "cert_file");
        CHECK_LACKS(opstatus_last_error()->message, test_token);
    }
    CHECK(client == NULL);
    opstatus_client_free(client);

    /*
     * "auth": "certificate" picks the bundle. The token is not the
     * emulator's, so only the certificate can make the call succeed.
     */
    settings = build_p12_settings(p12_password);
    json_object_set_new(settings, "api_token",
                        json_string("not-the-emulator-token"));
    json_object_set_new(settings, "auth", json_string("certificate"));
    check_certificate_client_succeeds(settings);
}

static void test_mtls_missing_certificate_fails(void)
{
    opstatus_client *client = new_token_client(
        test_token, json_pack("{s:i}", "max_attempts", 1));
    struct status_call call;

    if (client == NULL) {
        return;
    }
    if (reset_emulator()) {
        call = CALL_SEEDED_STATUS(client);
        CHECK_LAST_ERROR(call.code, OPSTATUS_ETRANSPORT, 0, NO_RETRY_AFTER,
                         NULL);
        CHECK_ELAPSED(call.elapsed_seconds, 0.0, QUICK_CALL_SECONDS);
        /* The emulator ends the TLS handshake, so it logs no request. */
        CHECK_INT_EQ(count_api_requests(), 0);
    }
    opstatus_client_free(client);
}

/*
 * Runs a command with its output discarded and returns whether it exited
 * with status 0.
 */
static bool run_quietly(char *const arguments[])
{
    posix_spawn_file_actions_t actions;
    pid_t child;
    int status = 0;
    int spawn_error;

    if (posix_spawn_file_actions_init(&actions) != 0) {
        return false;
    }
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null",
                                     O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null",
                                     O_WRONLY, 0);
    spawn_error = posix_spawnp(&child, arguments[0], &actions, NULL,
                               arguments, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawn_error != 0) {
        fprintf(stderr, "  starting %s failed: %s\n", arguments[0],
                strerror(spawn_error));
        return false;
    }
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            return false;
        }
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void test_mtls_unknown_ca_rejected(void)
{
    const char *temporary = getenv("TMPDIR");
    char directory[1024];
    char ca_file[1100];
    char key_file[1100];
    json_t *settings;
    opstatus_client *client = NULL;
    struct status_call call;

    snprintf(directory, sizeof directory, "%s/opstatus-unknown-ca.XXXXXX",
             temporary != NULL && temporary[0] != '\0' ? temporary : "/tmp");
    if (!CHECK(mkdtemp(directory) != NULL)) {
        return;
    }
    snprintf(ca_file, sizeof ca_file, "%s/ca.pem", directory);
    snprintf(key_file, sizeof key_file, "%s/ca-key.pem", directory);

    /* A self-signed CA that signed nothing the emulator uses. */
    {
        char *const arguments[] = {
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key_file,
            "-out", ca_file, "-days", "1", "-subj",
            "/CN=opstatus test CA unrelated to the emulator", NULL
        };

        if (!CHECK(run_quietly(arguments))) {
            goto cleanup;
        }
    }

    settings = build_p12_settings(p12_password);
    json_object_set_new(settings, "ca_file", json_string(ca_file));
    json_object_set_new(settings, "max_attempts", json_integer(1));
    client = new_client(settings);
    if (client != NULL && reset_emulator()) {
        call = CALL_SEEDED_STATUS(client);
        CHECK_LAST_ERROR(call.code, OPSTATUS_ETRANSPORT, 0, NO_RETRY_AFTER,
                         "certificate");
        CHECK_ELAPSED(call.elapsed_seconds, 0.0, QUICK_CALL_SECONDS);
        CHECK_INT_EQ(count_api_requests(), 0);
    }

cleanup:
    opstatus_client_free(client);
    unlink(ca_file);
    unlink(key_file);
    rmdir(directory);
}

/* ------------------------------------------------------------------------ */
/* Main                                                                     */
/* ------------------------------------------------------------------------ */

static void run_resilience_tests(void)
{
    RUN_TEST(test_retry_after_seconds_then_ok);
    RUN_TEST(test_retry_after_http_date_then_ok);
    RUN_TEST(test_rate_limited_after_max_attempts);
    RUN_TEST(test_retry_after_above_max_ends);

    RUN_TEST(test_server_errors_retried_then_ok);
    RUN_TEST(test_unavailable_after_two_attempts);
    RUN_TEST(test_not_found_not_retried);
    RUN_TEST(test_unauthorized_not_retried);

    RUN_TEST(test_deadline_ends_hanging_request);
    RUN_TEST(test_reset_connection_retried);
    RUN_TEST(test_truncated_body_retried);
    RUN_TEST(test_refused_connection_retried);

    RUN_TEST(test_invalid_json_rejected);
    RUN_TEST(test_wrong_types_name_path);
    RUN_TEST(test_html_page_rejected);
    RUN_TEST(test_huge_body_rejected);
    RUN_TEST(test_redirect_not_followed);

    RUN_TEST(test_rate_limit_spaces_calls);

    RUN_TEST(test_log_debug_line_for_success);
    RUN_TEST(test_log_warning_for_retried_503);
    RUN_TEST(test_log_callback_null_stops);
    RUN_TEST(test_log_invalid_level_rejected);

    RUN_TEST(test_token_absent_from_errors_and_logs);
    RUN_TEST(test_echoed_token_absent_from_logs);
}

static void run_certificate_tests(void)
{
    RUN_TEST(test_mtls_p12_bundle_accepted);
    RUN_TEST(test_mtls_pem_files_accepted);
    RUN_TEST(test_mtls_wrong_p12_password);
    RUN_TEST(test_mtls_token_and_certificate_need_auth);
    RUN_TEST(test_mtls_missing_certificate_fails);
    RUN_TEST(test_mtls_unknown_ca_rejected);
}

int main(int argc, char **argv)
{
    bool mtls_mode = false;

    if (argc == 2 && strcmp(argv[1], "--mtls") == 0) {
        mtls_mode = true;
    } else if (argc != 1) {
        fprintf(stderr, "usage: " PROGRAM_NAME " [--mtls]\n");
        return 2;
    }
    if (!load_environment(mtls_mode)) {
        return 2;
    }
    strcpy(secret_token, "SECRET-TOKEN-");
    if (!fill_random_hex(secret_token + strlen(secret_token), 16)) {
        fprintf(stderr, PROGRAM_NAME ": reading /dev/urandom failed\n");
        return 2;
    }
    register_secret(secret_token);

    /* Keeps libcurl from sending the requests through a proxy that the
     * environment sets. */
    setenv("NO_PROXY", "*", 1);
    setenv("no_proxy", "*", 1);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, PROGRAM_NAME ": curl_global_init failed\n");
        return 2;
    }

    if (mtls_mode) {
        run_certificate_tests();
    } else {
        run_resilience_tests();
    }

    curl_global_cleanup();
    free(client_cert_file);
    free(client_key_file);
    free(client_p12_file);

    printf("%d passed, %d failed\n", passed_tests, failed_tests);
    return failed_tests > 0 ? 1 : 0;
}
