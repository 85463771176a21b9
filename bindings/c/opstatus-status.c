/*
 * opstatus-status: prints the status of one F5 XC service operation, such as
 * a cache purge, site by site, followed by the summary of the operation.
 *
 * Usage: opstatus-status NAMESPACE NAME OPERATION_ID
 *
 * Environment:
 *   F5XC_API_URL    the tenant's API URL (required), for example
 *                   https://acme.console.ves.volterra.io/api
 *   F5XC_API_TOKEN  an F5 XC API token (required)
 *   F5XC_CACERT     a PEM file of CA certificates to trust instead of the
 *                   system's (optional)
 *
 * Exit status: 0 when the status was printed, 1 when the library or the
 * output failed, 2 for a usage error or a missing environment variable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "opstatus.h"
#include "status_table.h"

#define PROGRAM_NAME "opstatus-status"

#define EXIT_USAGE 2

static void print_usage(FILE *stream)
{
    fprintf(stream,
            "Usage: %s NAMESPACE NAME OPERATION_ID\n"
            "\n"
            "Prints the status of a service operation, such as a cache purge,\n"
            "on the HTTP load balancer NAME in NAMESPACE, one line per site,\n"
            "then the summary of the whole operation.\n"
            "\n"
            "Environment:\n"
            "  F5XC_API_URL    tenant API URL (required), such as\n"
            "                  https://acme.console.ves.volterra.io/api\n"
            "  F5XC_API_TOKEN  F5 XC API token (required)\n"
            "  F5XC_CACERT     PEM file of CA certificates to trust instead\n"
            "                  of the system's (optional)\n",
            PROGRAM_NAME);
}

/*
 * Parses a non-negative decimal operation id. strtoll alone accepts leading
 * spaces and signs and clamps values out of range, so those are rejected
 * here, as are empty text and trailing characters.
 */
static int parse_operation_id(const char *text, long long *out)
{
    char *end = NULL;
    long long value;

    if (text[0] < '0' || text[0] > '9') {
        return -1;
    }

    errno = 0;
    value = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < 0) {
        return -1;
    }

    *out = value;
    return 0;
}

/* Returns the environment variable's value, or NULL when unset or empty. */
static const char *get_nonempty_env(const char *name)
{
    const char *value = getenv(name);

    if (value == NULL || value[0] == '\0') {
        return NULL;
    }
    return value;
}

/*
 * Overwrites text that contains a secret before it is freed. The volatile
 * pointer keeps the compiler from dropping stores to memory about to be freed.
 */
static void clear_secret_text(char *text)
{
    volatile char *cursor = text;

    while (*cursor != '\0') {
        *cursor = '\0';
        cursor++;
    }
}

/* Prints the calling thread's last library error in one line to stderr. */
static void print_library_error(opstatus_result code)
{
    const opstatus_error *error = opstatus_last_error();

    fprintf(stderr, "%s: %s: %s", PROGRAM_NAME, opstatus_strerror(code),
            error->message);
    if (error->http_status != 0) {
        fprintf(stderr, " (HTTP %d)", error->http_status);
    }
    fputc('\n', stderr);
}

/*
 * Builds the client settings as JSON text, so that a token or path with
 * quotes or backslashes is escaped correctly. Free the result with free().
 */
static char *build_config_json(const char *api_url, const char *api_token,
                               const char *ca_file)
{
    json_t *config = json_object();
    char *text = NULL;

    if (config == NULL) {
        return NULL;
    }
    if (json_object_set_new(config, "api_url", json_string(api_url)) != 0 ||
        json_object_set_new(config, "api_token", json_string(api_token)) != 0) {
        json_decref(config);
        return NULL;
    }
    if (ca_file != NULL &&
        json_object_set_new(config, "ca_file", json_string(ca_file)) != 0) {
        json_decref(config);
        return NULL;
    }

    text = json_dumps(config, JSON_COMPACT);
    json_decref(config);
    return text;
}

/* Fetches and prints the status, and returns the process exit status. */
static int run(const char *config_json, const char *ns, const char *name,
               long long operation_id)
{
    opstatus_client *client = NULL;
    json_t *request = NULL;
    json_t *result = NULL;
    opstatus_result code;
    int exit_status = EXIT_FAILURE;

    code = opstatus_client_new(&client, config_json);
    if (code != OPSTATUS_OK) {
        print_library_error(code);
        return EXIT_FAILURE;
    }

    request = json_pack("{s:s, s:s, s:I}", "namespace", ns, "name", name,
                        "service_op_id", (json_int_t)operation_id);
    if (request == NULL) {
        /* json_pack fails on text that is not UTF-8, or without memory. */
        fprintf(stderr, "%s: building the request failed: NAMESPACE and NAME "
                "must be valid UTF-8\n", PROGRAM_NAME);
        opstatus_client_free(client);
        return EXIT_USAGE;
    }

    code = opstatus_get_status_value(&result, client, request);
    if (code != OPSTATUS_OK) {
        print_library_error(code);
        goto cleanup;
    }

    status_table_print(stdout, result);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: writing the output failed: %s\n", PROGRAM_NAME,
                strerror(errno));
        goto cleanup;
    }

    /* Printed after the table has been flushed, so it follows the table. */
    status_table_warn_if_partial(stderr, PROGRAM_NAME, result);
    exit_status = EXIT_SUCCESS;

cleanup:
    json_decref(result);
    json_decref(request);
    opstatus_client_free(client);
    return exit_status;
}

int main(int argc, char **argv)
{
    const char *api_url;
    const char *api_token;
    const char *ca_file;
    char *config_json;
    long long operation_id;
    int exit_status;

    if (argc == 2 && (strcmp(argv[1], "-h") == 0 ||
                      strcmp(argv[1], "--help") == 0)) {
        print_usage(stdout);
        return EXIT_SUCCESS;
    }
    if (argc != 4) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    if (parse_operation_id(argv[3], &operation_id) != 0) {
        fprintf(stderr, "%s: invalid OPERATION_ID '%s': expected a "
                "non-negative decimal integer such as 101\n",
                PROGRAM_NAME, argv[3]);
        return EXIT_USAGE;
    }

    api_url = get_nonempty_env("F5XC_API_URL");
    api_token = get_nonempty_env("F5XC_API_TOKEN");
    ca_file = get_nonempty_env("F5XC_CACERT");
    if (api_url == NULL) {
        fprintf(stderr, "%s: F5XC_API_URL is not set. Set it to the tenant's "
                "API URL, such as https://acme.console.ves.volterra.io/api\n",
                PROGRAM_NAME);
        return EXIT_USAGE;
    }
    if (api_token == NULL) {
        fprintf(stderr, "%s: F5XC_API_TOKEN is not set. Set it to an F5 XC "
                "API token\n", PROGRAM_NAME);
        return EXIT_USAGE;
    }

    config_json = build_config_json(api_url, api_token, ca_file);
    if (config_json == NULL) {
        fprintf(stderr, "%s: building the client settings failed: "
                "F5XC_API_URL, F5XC_API_TOKEN and F5XC_CACERT must be valid "
                "UTF-8\n", PROGRAM_NAME);
        return EXIT_USAGE;
    }

    exit_status = run(config_json, argv[1], argv[2], operation_id);

    clear_secret_text(config_json);
    free(config_json);
    return exit_status;
}
