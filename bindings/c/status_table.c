/*
 * Printing of an operation's status result as a per-site table and a
 * summary. status_table.h documents the functions.
 */
#include "status_table.h"

#include <string.h>

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

static void print_row(FILE *stream, const char *const cells[COLUMN_COUNT],
                      const int widths[COLUMN_COUNT])
{
    int column;

    for (column = 0; column < COLUMN_COUNT; column++) {
        const char *separator = column + 1 < COLUMN_COUNT ? "  " : "\n";

        if (column + 1 == COLUMN_COUNT && !column_is_numeric[column]) {
            /* The last column is not padded, so lines end without spaces. */
            fprintf(stream, "%s%s", cells[column], separator);
        } else if (column_is_numeric[column]) {
            fprintf(stream, "%*s%s", widths[column], cells[column],
                    separator);
        } else {
            fprintf(stream, "%-*s%s", widths[column], cells[column],
                    separator);
        }
    }
}

/*
 * NOTE: widths count bytes, so a site name with multi-byte UTF-8 characters
 * shifts the columns after it on that line.
 */
void status_table_print_sites(FILE *stream, const json_t *result)
{
    const json_t *items = json_object_get(result, "items");
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

    print_row(stream, column_titles, widths);
    json_array_foreach(items, index, item) {
        get_site_cells(item, cells);
        print_row(stream, cells, widths);
    }
    if (json_array_size(items) == 0) {
        fprintf(stream, "(no site has reported yet)\n");
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

void status_table_print_summary(FILE *stream, const json_t *result)
{
    const json_t *summary = json_object_get(result, "summary");

    fprintf(stream, "state:            %s\n",
            get_string_field(summary, "state"));
    fprintf(stream, "sites:            %" JSON_INTEGER_FORMAT
            " (succeeded %" JSON_INTEGER_FORMAT
            ", failed %" JSON_INTEGER_FORMAT
            ", pending %" JSON_INTEGER_FORMAT ")\n",
            get_count_field(summary, "sites"),
            get_count_field(summary, "succeeded"),
            get_count_field(summary, "failed"),
            get_count_field(summary, "pending"));
    fprintf(stream, "bytes purged:     %s\n",
            get_string_field(summary, "bytes_purged"));
    fprintf(stream, "bytes not purged: %s\n",
            get_string_field(summary, "bytes_not_purged"));
    fprintf(stream, "earliest start:   %s\n",
            get_string_field(summary, "earliest_start"));
    fprintf(stream, "latest finish:    %s\n",
            get_string_field(summary, "latest_finish"));
}

void status_table_print(FILE *stream, const json_t *result)
{
    status_table_print_sites(stream, result);
    fprintf(stream, "\n");
    status_table_print_summary(stream, result);
}

void status_table_warn_if_partial(FILE *stream, const char *program_name,
                                  const json_t *result)
{
    const json_t *error = json_object_get(result, "error");

    if (strcmp(get_string_field(error, "code"), "EPARTIAL") != 0) {
        return;
    }
    fprintf(stream, "%s: warning: the server returned a partial result, "
            "so some sites may be missing: %s\n",
            program_name, get_string_field(error, "message"));
}
