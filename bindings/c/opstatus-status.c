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

#define PROGRAM_NAME "opstatus-status"

#define EXIT_USAGE 2

/* Text printed in place of a field that the server left out. */
#define ABSENT_FIELD "-"

enum site_column {
    COLUMN_SITE,
    COLUMN_STATUS,
    COLUMN_BYTES_PURGED,
    COLUMN_BYTES_NOT_PURGED,
    COLUMN_FINISH_TIME,
    COLUMN_COUNT
};

static const char *const column_titles[COLUMN_COUNT] = {
    "SITE", "STATUS", "BYTES PURGED", "BYTES NOT PURGED", "FINISHED"
};

/* Byte counts are right-aligned so that their digits line up. */
static const int column_is_numeric[COLUMN_COUNT] = { 0, 0, 1, 1, 0 };

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

/* Returns the string stored under key, or ABSENT_FIELD when there is none. */
static const char *get_string_field(const json_t *object, const char *key)
{
    const json_t *value = json_object_get(object, key);

    if (!json_is_string(value)) {
        return ABSENT_FIELD;
    }
    return json_string_value(value);
}

/* Fills cells with the texts of one item of the result's "items" array. */
static void get_site_cells(const json_t *item,
                           const char *cells[COLUMN_COUNT])
{
    const json_t *purge = json_object_get(item, "purge");

    cells[COLUMN_SITE] = get_string_field(purge, "site");
    cells[COLUMN_STATUS] = get_string_field(item, "status");
    cells[COLUMN_BYTES_PURGED] = get_string_field(purge, "bytes_purged");
    cells[COLUMN_BYTES_NOT_PURGED] =
        get_string_field(purge, "bytes_not_purged");
    cells[COLUMN_FINISH_TIME] = get_string_field(purge, "finish_time");
}

static void print_row(const char *const cells[COLUMN_COUNT],
                      const int widths[COLUMN_COUNT])
{
    int column;

    for (column = 0; column < COLUMN_COUNT; column++) {
        const char *separator = column + 1 < COLUMN_COUNT ? "  " : "\n";

        if (column + 1 == COLUMN_COUNT && !column_is_numeric[column]) {
            /* The last column is not padded, so lines end without spaces. */
            printf("%s%s", cells[column], separator);
        } else if (column_is_numeric[column]) {
            printf("%*s%s", widths[column], cells[column], separator);
        } else {
            printf("%-*s%s", widths[column], cells[column], separator);
        }
    }
}

/*
 * Prints one line per site in aligned columns.
 *
 * NOTE: widths count bytes, so a site name with multi-byte UTF-8 characters
 * shifts the columns after it on that line.
 */
static void print_sites(const json_t *items)
{
    const char *cells[COLUMN_COUNT];
    int widths[COLUMN_COUNT];
    size_t index;
    const json_t *item;
    int column;

    for (column = 0; column < COLUMN_COUNT; column++) {
        widths[column] = (int)strlen(column_titles[column]);
    }
    json_array_foreach(items, index, item) {
        get_site_cells(item, cells);
        for (column = 0; column < COLUMN_COUNT; column++) {
            size_t length = strlen(cells[column]);

            if (length > (size_t)widths[column]) {
                widths[column] = (int)length;
            }
        }
    }

    print_row(column_titles, widths);
    json_array_foreach(items, index, item) {
        get_site_cells(item, cells);
        print_row(cells, widths);
    }
    if (json_array_size(items) == 0) {
        printf("(no site has reported yet)\n");
    }
}

/* Returns the integer stored under key, or -1 when there is none. */
static json_int_t get_count_field(const json_t *object, const char *key)
{
    const json_t *value = json_object_get(object, key);

    if (!json_is_integer(value)) {
        return -1;
    }
    return json_integer_value(value);
}

static void print_summary(const json_t *summary)
{
    printf("state:            %s\n", get_string_field(summary, "state"));
    printf("sites:            %" JSON_INTEGER_FORMAT
           " (succeeded %" JSON_INTEGER_FORMAT
           ", failed %" JSON_INTEGER_FORMAT
           ", pending %" JSON_INTEGER_FORMAT ")\n",
           get_count_field(summary, "sites"),
           get_count_field(summary, "succeeded"),
           get_count_field(summary, "failed"),
           get_count_field(summary, "pending"));
    printf("bytes purged:     %s\n",
           get_string_field(summary, "bytes_purged"));
    printf("bytes not purged: %s\n",
           get_string_field(summary, "bytes_not_purged"));
    printf("earliest start:   %s\n",
           get_string_field(summary, "earliest_start"));
    printf("latest finish:    %s\n",
           get_string_field(summary, "latest_finish"));
}

/*
 * Warns when the server marked the result as partial with error.code
 * EPARTIAL, because sites may then be missing from the table.
 */
static void print_partial_warning(const json_t *result)
{
    const json_t *error = json_object_get(result, "error");

    if (strcmp(get_string_field(error, "code"), "EPARTIAL") != 0) {
        return;
    }
    fprintf(stderr, "%s: warning: the server returned a partial result, "
            "so some sites may be missing: %s\n",
            PROGRAM_NAME, get_string_field(error, "message"));
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

    print_sites(json_object_get(result, "items"));
    printf("\n");
    print_summary(json_object_get(result, "summary"));
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: writing the output failed: %s\n", PROGRAM_NAME,
                strerror(errno));
        goto cleanup;
    }

    /* Printed after the table has been flushed, so it follows the table. */
    print_partial_warning(result);
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
