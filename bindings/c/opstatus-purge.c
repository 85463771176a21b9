/*
 * opstatus-purge: purges one URL path from the cache of an F5 XC HTTP load
 * balancer, waits until every site has finished the purge, and prints the
 * status site by site, followed by the summary of the operation.
 *
 * Usage: opstatus-purge NAMESPACE NAME URL_PATH [--soft]
 *
 * The library reads the client settings from the environment: F5XC_API_URL
 * and F5XC_API_TOKEN (required) and F5XC_CACERT (optional), or the other
 * variables that opstatus.h lists for opstatus_client_new().
 *
 * Exit status: 0 when the purge succeeded on every site, 3 when it failed
 * on a site, and 4 when the wait timed out. 130 means that SIGINT
 * interrupted the program before the operation finished. 2 is a usage or
 * settings error, and 1 any other error.
 *
 * SIGINT handling: SIGINT is blocked in every thread, and a watcher thread
 * takes it with sigwait() and calls opstatus_client_cancel(). The library is
 * not async-signal-safe, so no signal handler calls it. A program started
 * with SIGINT ignored leaves it ignored and starts no watcher.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "opstatus.h"
#include "status_table.h"

#define PROGRAM_NAME "opstatus-purge"

#define EXIT_USAGE 2
#define EXIT_SITE_FAILED 3
#define EXIT_TIMED_OUT 4
/* 128 + SIGINT, the status a shell reports for a program that SIGINT ended. */
#define EXIT_INTERRUPTED 130

/* Delays between polls of the wait, in milliseconds. */
#define INITIAL_POLL_DELAY_MS 500
#define MAX_POLL_DELAY_MS 2000

/*
 * The thread that takes SIGINT with sigwait() and cancels the client's calls.
 * The mutex protects interrupted and stopping.
 */
struct interrupt_watcher {
    pthread_t thread;
    pthread_mutex_t mutex;
    opstatus_client *client;
    /* Set when a SIGINT arrived. */
    int interrupted;
    /* Set by stop_interrupt_watcher() to make the thread return. */
    int stopping;
};

static void print_usage(FILE *stream)
{
    fprintf(stream,
            "Usage: %s NAMESPACE NAME URL_PATH [--soft]\n"
            "\n"
            "Purges URL_PATH, such as /images/logo.png, from the cache of the\n"
            "HTTP load balancer NAME in NAMESPACE, polls the operation until\n"
            "every site has finished, with one line per poll, then prints\n"
            "the status of each site and the summary of the operation.\n"
            "\n"
            "Options:\n"
            "  --soft  mark the cached content expired, so that it is\n"
            "          revalidated with the origin, instead of removing it\n"
            "          (a hard purge, the default)\n"
            "\n"
            "Environment (read by the library):\n"
            "  F5XC_API_URL    tenant API URL (required), such as\n"
            "                  https://acme.console.ves.volterra.io/api\n"
            "  F5XC_API_TOKEN  F5 XC API token (required)\n"
            "  F5XC_CACERT     PEM file of CA certificates to trust instead\n"
            "                  of the system's (optional)\n"
            "\n"
            "The wait gives up after 10 minutes, the library's default\n"
            "deadline_ms. Ctrl-C (SIGINT) cancels it and prints the last\n"
            "status read.\n"
            "\n"
            "Exit status: 0 purge succeeded on every site, 1 other error,\n"
            "2 usage or settings error, 3 purge failed on a site, 4 wait\n"
            "timed out, 130 interrupted by SIGINT.\n",
            PROGRAM_NAME);
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

/* Returns the integer stored under key, or -1 when there is none. */
static json_int_t get_integer_field(const json_t *object, const char *key)
{
    const json_t *value = json_object_get(object, key);

    if (!json_is_integer(value)) {
        return -1;
    }
    return json_integer_value(value);
}

static int was_interrupted(struct interrupt_watcher *watcher)
{
    int interrupted;

    pthread_mutex_lock(&watcher->mutex);
    interrupted = watcher->interrupted;
    pthread_mutex_unlock(&watcher->mutex);
    return interrupted;
}

static void *watch_for_interrupts(void *argument)
{
    struct interrupt_watcher *watcher = argument;
    sigset_t signals;
    int signal_number;

    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    for (;;) {
        if (sigwait(&signals, &signal_number) != 0) {
            continue;
        }

        pthread_mutex_lock(&watcher->mutex);
        if (watcher->stopping) {
            pthread_mutex_unlock(&watcher->mutex);
            return NULL;
        }
        watcher->interrupted = 1;
        pthread_mutex_unlock(&watcher->mutex);

        fprintf(stderr, "%s: SIGINT received, cancelling\n", PROGRAM_NAME);
        /*
         * The client stays valid here because main() frees it only after
         * stop_interrupt_watcher() has joined this thread.
         *
         * NOTE: while a request receives no bytes, the library checks for
         * the cancellation only in libcurl's progress callback, which ran
         * up to about 1 s later in tests with libopstatus 0.1.0.
         */
        opstatus_client_cancel(watcher->client);
    }
}

/*
 * Starts the watcher thread. SIGINT must already be blocked in the calling
 * thread, so that the new thread and every thread the library creates later
 * inherit the blocked signal. Returns 0, or an errno value on failure.
 */
static int start_interrupt_watcher(struct interrupt_watcher *watcher,
                                   opstatus_client *client)
{
    int error;

    watcher->client = client;
    watcher->interrupted = 0;
    watcher->stopping = 0;
    error = pthread_mutex_init(&watcher->mutex, NULL);
    if (error != 0) {
        return error;
    }
    error = pthread_create(&watcher->thread, NULL, watch_for_interrupts,
                           watcher);
    if (error != 0) {
        pthread_mutex_destroy(&watcher->mutex);
    }
    return error;
}

/*
 * Makes the watcher thread return and joins it. A SIGINT that arrives after
 * this stays blocked and pending, so it no longer interrupts the program.
 */
static void stop_interrupt_watcher(struct interrupt_watcher *watcher)
{
    pthread_mutex_lock(&watcher->mutex);
    watcher->stopping = 1;
    pthread_mutex_unlock(&watcher->mutex);

    /* The thread-directed SIGINT wakes the thread's sigwait(). */
    pthread_kill(watcher->thread, SIGINT);
    pthread_join(watcher->thread, NULL);
    pthread_mutex_destroy(&watcher->mutex);
}

/*
 * Prints one line per poll of the wait, and returns non-zero to cancel the
 * wait when a SIGINT arrived. The library calls it on the waiting thread.
 */
static int print_progress(const json_t *progress, void *payload)
{
    struct interrupt_watcher *watcher = payload;
    const json_t *summary = json_object_get(progress, "summary");
    const json_t *wait = json_object_get(progress, "wait");
    json_int_t elapsed_ms = get_integer_field(wait, "elapsed_ms");

    printf("poll %" JSON_INTEGER_FORMAT ": %" JSON_INTEGER_FORMAT
           " of %" JSON_INTEGER_FORMAT " sites succeeded, %"
           JSON_INTEGER_FORMAT " failed, %" JSON_INTEGER_FORMAT
           " pending (%.1f s)\n",
           get_integer_field(wait, "polls"),
           get_integer_field(summary, "succeeded"),
           get_integer_field(summary, "sites"),
           get_integer_field(summary, "failed"),
           get_integer_field(summary, "pending"),
           (double)elapsed_ms / 1000.0);
    fflush(stdout);

    return watcher != NULL && was_interrupted(watcher);
}

/*
 * Starts the purge and stores the new operation's id in operation_id.
 * Returns 0, or the process exit status on failure.
 */
static int start_purge(opstatus_client *client, const char *ns,
                       const char *name, const char *url_path, int soft,
                       json_int_t *operation_id)
{
    json_t *request;
    json_t *response = NULL;
    const json_t *id;
    opstatus_result code;

    request = json_pack("{s:s, s:s, s:s, s:{}}", "namespace", ns, "name", name,
                        "url", url_path, soft ? "soft_purge" : "hard_purge");
    if (request == NULL) {
        /* json_pack fails on text that is not UTF-8, or without memory. */
        fprintf(stderr, "%s: building the purge request failed: NAMESPACE, "
                "NAME and URL_PATH must be valid UTF-8\n", PROGRAM_NAME);
        return EXIT_USAGE;
    }

    code = opstatus_purge_value(&response, client, request);
    json_decref(request);
    if (code != OPSTATUS_OK) {
        print_library_error(code);
        if (code == OPSTATUS_EINVAL) {
            return EXIT_USAGE;
        }
        if (code == OPSTATUS_ECANCELLED) {
            fprintf(stderr, "%s: the purge may or may not have started, so "
                    "list the load balancer's operations to find out\n",
                    PROGRAM_NAME);
            return EXIT_INTERRUPTED;
        }
        return EXIT_FAILURE;
    }

    id = json_object_get(response, "purge_request_id");
    if (!json_is_integer(id)) {
        fprintf(stderr, "%s: the purge response has no integer "
                "purge_request_id\n", PROGRAM_NAME);
        json_decref(response);
        return EXIT_FAILURE;
    }
    *operation_id = json_integer_value(id);
    json_decref(response);
    return 0;
}

/* Maps the outcome of a wait that returned OPSTATUS_OK to an exit status. */
static int exit_status_of_outcome(const json_t *result)
{
    const json_t *wait = json_object_get(result, "wait");
    const char *outcome = json_string_value(json_object_get(wait, "outcome"));

    if (outcome != NULL && strcmp(outcome, "succeeded") == 0) {
        return EXIT_SUCCESS;
    }
    if (outcome != NULL && strcmp(outcome, "failed") == 0) {
        return EXIT_SITE_FAILED;
    }
    fprintf(stderr, "%s: the wait ended with the unexpected outcome %s\n",
            PROGRAM_NAME, outcome != NULL ? outcome : "(missing)");
    return EXIT_FAILURE;
}

/*
 * Waits for the operation, printing progress, and stores the last status
 * read in result (NULL when no poll completed). Returns the exit status.
 */
static int wait_for_operation(opstatus_client *client,
                              struct interrupt_watcher *watcher,
                              const char *ns, const char *name,
                              json_int_t operation_id, json_t **result)
{
    json_t *request;
    opstatus_result code;

    request = json_pack("{s:s, s:s, s:I, s:i, s:i}", "namespace", ns,
                        "name", name, "service_op_id", operation_id,
                        "initial_delay_ms", INITIAL_POLL_DELAY_MS,
                        "max_delay_ms", MAX_POLL_DELAY_MS);
    if (request == NULL) {
        fprintf(stderr, "%s: building the wait request failed: out of "
                "memory\n", PROGRAM_NAME);
        return EXIT_FAILURE;
    }

    code = opstatus_wait_value(result, client, request, print_progress,
                               watcher);
    json_decref(request);

    switch (code) {
    case OPSTATUS_OK:
        return exit_status_of_outcome(*result);
    case OPSTATUS_ETIMEOUT:
        print_library_error(code);
        return EXIT_TIMED_OUT;
    case OPSTATUS_ECANCELLED:
        return EXIT_INTERRUPTED;
    default:
        print_library_error(code);
        return EXIT_FAILURE;
    }
}

/*
 * Prints the last status, then the reason for a failure exit status to
 * stderr. Returns exit_status, or 1 when writing stdout failed.
 */
static int report_result(const json_t *result, int exit_status,
                         const char *ns, const char *name,
                         json_int_t operation_id)
{
    const json_t *summary = json_object_get(result, "summary");

    if (result != NULL) {
        status_table_print(stdout, result);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: writing the output failed: %s\n", PROGRAM_NAME,
                strerror(errno));
        return EXIT_FAILURE;
    }

    /* Printed after the table has been flushed, so it follows the table. */
    if (result != NULL) {
        status_table_warn_if_partial(stderr, PROGRAM_NAME, result);
    }
    if (exit_status == EXIT_SITE_FAILED) {
        fprintf(stderr, "%s: operation %" JSON_INTEGER_FORMAT " failed on %"
                JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT " sites\n",
                PROGRAM_NAME, operation_id,
                get_integer_field(summary, "failed"),
                get_integer_field(summary, "sites"));
    }
    if (exit_status == EXIT_INTERRUPTED || exit_status == EXIT_TIMED_OUT) {
        fprintf(stderr, "%s: operation %" JSON_INTEGER_FORMAT " may still "
                "be running; check it later with: opstatus-status %s %s %"
                JSON_INTEGER_FORMAT "\n", PROGRAM_NAME, operation_id, ns,
                name, operation_id);
    }
    return exit_status;
}

/* Purges, waits and prints, then returns the process exit status. */
static int run(opstatus_client *client, struct interrupt_watcher *watcher,
               const char *ns, const char *name, const char *url_path,
               int soft)
{
    json_int_t operation_id = 0;
    json_t *result = NULL;
    int exit_status;

    if (watcher != NULL && was_interrupted(watcher)) {
        return EXIT_INTERRUPTED;
    }

    exit_status = start_purge(client, ns, name, url_path, soft,
                              &operation_id);
    if (exit_status != 0) {
        return exit_status;
    }
    printf("purge started: operation %" JSON_INTEGER_FORMAT "\n",
           operation_id);
    fflush(stdout);

    /*
     * A SIGINT that arrives between this check and the start of the wait
     * cancels nothing, because opstatus_client_cancel() affects only calls
     * in progress. print_progress() then cancels the wait after its first
     * poll.
     */
    if (watcher != NULL && was_interrupted(watcher)) {
        exit_status = EXIT_INTERRUPTED;
    } else {
        exit_status = wait_for_operation(client, watcher, ns, name,
                                         operation_id, &result);
    }

    exit_status = report_result(result, exit_status, ns, name, operation_id);
    json_decref(result);
    return exit_status;
}

/*
 * Reads the arguments into the out-parameters. Returns -1 to go on, or the
 * exit status when the program ends here (help printed, or a usage error).
 */
static int parse_arguments(int argc, char **argv, const char *operands[3],
                           int *soft)
{
    int operand_count = 0;
    int index;

    *soft = 0;
    for (index = 1; index < argc; index++) {
        const char *argument = argv[index];

        if (strcmp(argument, "-h") == 0 || strcmp(argument, "--help") == 0) {
            print_usage(stdout);
            return EXIT_SUCCESS;
        }
        if (strcmp(argument, "--soft") == 0) {
            *soft = 1;
        } else if (argument[0] == '-') {
            fprintf(stderr, "%s: unknown option '%s'. Run '%s --help' for "
                    "the usage\n", PROGRAM_NAME, argument, PROGRAM_NAME);
            return EXIT_USAGE;
        } else if (operand_count < 3) {
            operands[operand_count] = argument;
            operand_count++;
        } else {
            print_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (operand_count != 3) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    if (operands[2][0] != '/') {
        fprintf(stderr, "%s: invalid URL_PATH '%s': expected a path starting "
                "with /, such as /images/logo.png\n", PROGRAM_NAME,
                operands[2]);
        return EXIT_USAGE;
    }
    return -1;
}

int main(int argc, char **argv)
{
    const char *operands[3];
    int soft;
    int exit_status;
    struct sigaction previous;
    sigset_t interrupt_signal;
    struct interrupt_watcher watcher;
    struct interrupt_watcher *active_watcher = NULL;
    opstatus_client *client = NULL;
    opstatus_result code;
    int error;

    exit_status = parse_arguments(argc, argv, operands, &soft);
    if (exit_status >= 0) {
        return exit_status;
    }

    /*
     * A program started with SIGINT ignored, such as a background job of a
     * shell without job control, keeps ignoring it, as shells expect.
     */
    sigaction(SIGINT, NULL, &previous);
    if (previous.sa_handler != SIG_IGN) {
        sigemptyset(&interrupt_signal);
        sigaddset(&interrupt_signal, SIGINT);
        error = pthread_sigmask(SIG_BLOCK, &interrupt_signal, NULL);
        if (error != 0) {
            fprintf(stderr, "%s: blocking SIGINT failed: %s\n", PROGRAM_NAME,
                    strerror(error));
            return EXIT_FAILURE;
        }
    }

    code = opstatus_client_new(&client, NULL);
    if (code != OPSTATUS_OK) {
        print_library_error(code);
        return code == OPSTATUS_ECONFIG ? EXIT_USAGE : EXIT_FAILURE;
    }

    if (previous.sa_handler != SIG_IGN) {
        error = start_interrupt_watcher(&watcher, client);
        if (error != 0) {
            fprintf(stderr, "%s: starting the SIGINT watcher thread failed: "
                    "%s\n", PROGRAM_NAME, strerror(error));
            opstatus_client_free(client);
            return EXIT_FAILURE;
        }
        active_watcher = &watcher;
    }

    exit_status = run(client, active_watcher, operands[0], operands[1],
                      operands[2], soft);

    if (active_watcher != NULL) {
        stop_interrupt_watcher(active_watcher);
    }
    opstatus_client_free(client);
    return exit_status;
}
