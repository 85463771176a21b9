/*
 * Shared helpers of the C test programs test_error_paths, test_extreme and
 * test_threads: a small test harness, the emulator's settings from the
 * environment, fault injection through the emulator's control endpoint,
 * and clients built from those settings.
 *
 * The programs run under Tests/Emulator/with-emulator, which exports
 *   OPSTATUS_TEST_API_URL      the emulator's API URL (loopback only)
 *   OPSTATUS_TEST_CA_FILE      the PEM file of the emulator's CA, absent
 *                              or "None" with --plain-http
 *   OPSTATUS_TEST_CONTROL_URL  the emulator's control endpoint
 *   OPSTATUS_TEST_TOKEN        the API token the emulator accepts
 *
 * Failure output never contains the API token.
 */
#ifndef OPSTATUS_TEST_SUPPORT_H
#define OPSTATUS_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "opstatus.h"

/* ------------------------------------------------------------------------ */
/* Harness                                                                  */
/* ------------------------------------------------------------------------ */

typedef void (*test_function)(void);

/* Runs one test and prints "ok   NAME" or "FAIL NAME". */
void run_test(const char *name, test_function test);

/* Records a check made outside run_test(), such as one thread's, as one
 * test that passed or failed, and prints it as run_test() does. */
void record_test(const char *name, bool passed);

/* Returns whether a check of the running test has failed. */
bool current_test_has_failed(void);

/* Prints "N passed, M failed" and returns the exit status: 0 when every
 * test passed, 1 otherwise. */
int finish_tests(void);

/* Marks the running test as failed and prints file:line and the message. */
void report_failure(const char *file, int line, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

bool check_true_at(const char *file, int line, const char *expression,
                   bool value);
bool check_int_eq_at(const char *file, int line, const char *actual_text,
                     const char *expected_text, long long actual,
                     long long expected);
bool check_string_eq_at(const char *file, int line, const char *actual_text,
                        const char *actual, const char *expected);
bool check_contains_at(const char *file, int line, const char *text_name,
                       const char *text, const char *part);

/*
 * Checks that a call returned expected and that opstatus_last_error() and
 * opstatus_last_error_json() agree with it. On a mismatch the report shows
 * both codes by name and the library's message.
 */
bool check_result_at(const char *file, int line, const char *call_text,
                     opstatus_result actual, opstatus_result expected);

#define CHECK(expression) \
    check_true_at(__FILE__, __LINE__, #expression, (expression))
#define CHECK_INT_EQ(actual, expected) \
    check_int_eq_at(__FILE__, __LINE__, #actual, #expected, \
                    (long long)(actual), (long long)(expected))
#define CHECK_STRING_EQ(actual, expected) \
    check_string_eq_at(__FILE__, __LINE__, #actual, (actual), (expected))
#define CHECK_CONTAINS(text, part) \
    check_contains_at(__FILE__, __LINE__, #text, (text), (part))
#define CHECK_RESULT(call, expected) \
    check_result_at(__FILE__, __LINE__, #call, (call), (expected))

#define RUN_TEST(function) run_test(#function, function)

/* The enumerator's name, such as "OPSTATUS_ENOTFOUND", or "unknown". */
const char *result_name(opstatus_result code);

/* ------------------------------------------------------------------------ */
/* Emulator                                                                 */
/* ------------------------------------------------------------------------ */

/* The emulator as the environment describes it. */
struct test_environment {
    const char *api_url;
    /* NULL when the emulator serves plain HTTP. */
    const char *ca_file;
    const char *control_url;
    const char *token;
};

extern struct test_environment test_env;

/*
 * Reads the variables above into test_env and checks that the URLs are on
 * a loopback address. Unsets the F5XC_*, VOLT_* and VES_* variables, so
 * they cannot fill in settings that a test leaves out, keeps libcurl away
 * from any proxy, and initialises libcurl. Returns false after printing
 * the reason, with program in front, when something is missing.
 */
bool setup_test_environment(const char *program);

/* Releases what setup_test_environment() set up. */
void teardown_test_environment(void);

/* Clears the emulator's fault queue and request log. */
bool emulator_reset(void);

/* Appends one fault, given as a JSON object in text, to the queue. */
bool emulator_queue_fault(const char *fault_json);

/* Appends one fault given as a jansson object, which it takes over. */
bool emulator_queue_fault_value(json_t *fault);

/* ------------------------------------------------------------------------ */
/* Clients                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * Creates a client for the emulator: its URL, token and CA file, with
 * use_environment false, plus the keys of extra_settings (a JSON object in
 * text, or NULL), which replace those defaults. Returns the result of
 * opstatus_client_new().
 */
opstatus_result create_test_client(opstatus_client **out,
                                   const char *extra_settings);

/* As create_test_client(), but reports a failure and returns NULL. */
opstatus_client *new_test_client(const char *extra_settings);

/* ------------------------------------------------------------------------ */
/* Text                                                                     */
/* ------------------------------------------------------------------------ */

/* Returns a malloc'd string of count copies of fill, or NULL. */
char *repeat_character(char fill, size_t count);

#endif
