/*
 * Printing of an operation's status result, shared by the C examples.
 *
 * Every function takes a status result as the opstatus status and wait
 * functions return it: an object with "items" (one per site) and
 * "summary". A field that the result lacks is printed as "-", and a count
 * that it lacks as -1, so a partial or unexpected result still prints.
 */
#ifndef STATUS_TABLE_H
#define STATUS_TABLE_H

#include <stdio.h>

#include <jansson.h>

/*
 * Prints one line per site in aligned columns (site, status, bytes purged,
 * bytes not purged, finish time) under a line of column titles, or a note
 * when no site has reported yet.
 */
void status_table_print_sites(FILE *stream, const json_t *result);

/* Prints the result's summary: state, site counts, byte totals and times. */
void status_table_print_summary(FILE *stream, const json_t *result);

/* Prints the site table, a blank line and the summary. */
void status_table_print(FILE *stream, const json_t *result);

/*
 * Prints a warning line, prefixed with program_name, when the server marked
 * the result as partial with error.code EPARTIAL, because sites may then be
 * missing from the table. Prints nothing for a complete result.
 */
void status_table_warn_if_partial(FILE *stream, const char *program_name,
                                  const json_t *result);

#endif /* STATUS_TABLE_H */
