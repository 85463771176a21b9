/*
 * opstatus: status of F5 Distributed Cloud service operations from C.
 *
 * The library requests from an F5 XC tenant the status of a service operation,
 * such as a cache purge, on a load balancer with caching enabled. Each
 * operation runs on every edge site, and the result lists what every site
 * reported, with a summary of the whole operation.
 *
 * Conventions used by every function in this header:
 *
 * - Functions that can fail return an opstatus_result. OPSTATUS_OK (0) means
 *   success. On failure, opstatus_last_error() describes the failure in
 *   detail on the calling thread.
 * - Out-parameters come first and are named "out". On failure they are set
 *   to NULL, so the caller never frees a half-built result.
 * - Strings returned through "char **out" are allocated by the library and
 *   are freed with opstatus_free(). jansson values returned through
 *   "json_t **out" are new references, released with json_decref().
 * - Text in and out is UTF-8. JSON follows the F5 XC API schemas.
 * - One client may be used from many threads at once.
 */
#ifndef OPSTATUS_H
#define OPSTATUS_H

#include <stdint.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Major version: changes when the ABI changes incompatibly. */
#define OPSTATUS_VERSION_MAJOR 0
/** Minor version: changes when functions or settings are added. */
#define OPSTATUS_VERSION_MINOR 1
/** Patch version: changes for fixes that keep the interface. */
#define OPSTATUS_VERSION_PATCH 0
/** Version as one number, MAJOR * 10000 + MINOR * 100 + PATCH. */
#define OPSTATUS_VERSION_NUMBER \
    (OPSTATUS_VERSION_MAJOR * 10000 + OPSTATUS_VERSION_MINOR * 100 + \
     OPSTATUS_VERSION_PATCH)

/**
 * Result of every function that can fail.
 *
 * The numeric values are part of the ABI and never change meaning.
 */
typedef enum opstatus_result {
    /** Success. */
    OPSTATUS_OK = 0,
    /** A caller's argument is invalid; nothing was sent. */
    OPSTATUS_EINVAL = 1,
    /** Settings are missing, unknown or inconsistent. */
    OPSTATUS_ECONFIG = 2,
    /** DNS, connect, TLS or a broken connection. */
    OPSTATUS_ETRANSPORT = 3,
    /** The connect timeout, request timeout or deadline passed. */
    OPSTATUS_ETIMEOUT = 4,
    /** HTTP 401: the API token or certificate was not accepted. */
    OPSTATUS_EUNAUTHORIZED = 5,
    /** HTTP 403: the credentials lack permission for this namespace. */
    OPSTATUS_EFORBIDDEN = 6,
    /** HTTP 404: unknown namespace, load balancer or operation id. */
    OPSTATUS_ENOTFOUND = 7,
    /** HTTP 409: the request conflicts with the current state. */
    OPSTATUS_ECONFLICT = 8,
    /** HTTP 429: the tenant's rate limit was reached. */
    OPSTATUS_ERATELIMITED = 9,
    /** HTTP 500, 502 or another 5xx not listed below. */
    OPSTATUS_ESERVER = 10,
    /** HTTP 503: the service is unavailable. */
    OPSTATUS_EUNAVAILABLE = 11,
    /** HTTP 504: a gateway timed out. */
    OPSTATUS_EGATEWAYTIMEOUT = 12,
    /** A response that is not the documented shape, or too large. */
    OPSTATUS_EPROTOCOL = 13,
    /** HTTP 200 whose error.code is neither EOK nor EPARTIAL. */
    OPSTATUS_EAPI = 14,
    /** The caller cancelled the call. */
    OPSTATUS_ECANCELLED = 15,
    /** HTTP 400 or another 4xx not listed above: the server rejected
     *  the request. */
    OPSTATUS_EBADREQUEST = 16,
    /** Memory could not be allocated. */
    OPSTATUS_ENOMEM = 17,
    /** An unexpected failure inside the library. */
    OPSTATUS_EINTERNAL = 18
} opstatus_result;

/**
 * Detail of the last failure on the calling thread.
 *
 * Read it right after a function returned something other than
 * OPSTATUS_OK. The pointers stay valid until the next opstatus call on the
 * same thread.
 */
typedef struct opstatus_error {
    /** The result code the failing function returned. */
    opstatus_result code;
    /** HTTP status of the response, or 0 when no response was received. */
    int http_status;
    /** Description of the failure, naming the value that failed; never
     *  NULL, and "" after success. */
    const char *message;
    /** F5 XC error.code of the response, such as "EPERMS", or NULL. */
    const char *api_code;
    /** Delay the server asked for with Retry-After in milliseconds, or -1. */
    int64_t retry_after_ms;
} opstatus_error;

/** A connection to one F5 XC tenant; opaque. */
typedef struct opstatus_client opstatus_client;

/** Severity of a log message; the values match Python's logging levels. */
typedef enum opstatus_log_level {
    /** Every request: method, path, HTTP status, time taken, attempt. */
    OPSTATUS_LOG_DEBUG = 10,
    /** Progress of long operations. */
    OPSTATUS_LOG_INFO = 20,
    /** Retries and give-ups, with the attempt, the cause and the delay. */
    OPSTATUS_LOG_WARNING = 30,
    /** Failures the library handled itself. */
    OPSTATUS_LOG_ERROR = 40
} opstatus_log_level;

/**
 * Receives log messages.
 *
 * @param level    the message's severity.
 * @param message  one line of UTF-8 text, valid only during the call.
 *                 It never contains the token, a password or key material.
 * @param payload  the pointer given to opstatus_set_log_callback().
 *
 * The callback runs on the thread that made the request, possibly on
 * several threads at once. It may call opstatus functions, except
 * opstatus_client_free() on the client that is logging.
 */
typedef void (*opstatus_log_fn)(opstatus_log_level level, const char *message,
                                void *payload);

/**
 * Returns the library's version as "MAJOR.MINOR.PATCH".
 *
 * The string is static. Compare with the OPSTATUS_VERSION_* macros to find
 * out whether the loaded library matches the header a program was built
 * with.
 */
const char *opstatus_version(void);

/**
 * Returns the library's version as MAJOR * 10000 + MINOR * 100 + PATCH,
 * the same encoding as OPSTATUS_VERSION_NUMBER.
 */
unsigned int opstatus_version_number(void);

/**
 * Returns a static, one-line English description of a result code.
 *
 * Unknown codes give "unknown result code". The text never changes for a
 * code, so programs may show it but should compare codes, not text.
 */
const char *opstatus_strerror(opstatus_result code);

/**
 * Returns the detail of the last failure on the calling thread.
 *
 * Never returns NULL. After a call that succeeded, code is OPSTATUS_OK and
 * message is "". The error belongs to the library and stays valid until the
 * next opstatus call on the same thread.
 */
const opstatus_error *opstatus_last_error(void);

/**
 * Returns the last failure on the calling thread as a JSON object.
 *
 * Keys: "code" (number), "name" (such as "OPSTATUS_ENOTFOUND"),
 * "message", "http_status" (number or null), "api_code" (string or null)
 * and "retry_after_ms" (number or null). Free the string with
 * opstatus_free(). Returns NULL only when memory runs out.
 */
char *opstatus_last_error_json(void);

/**
 * Frees a string that the library returned. NULL is ignored.
 *
 * Use it for every "char *" the library hands over, never free() directly:
 * the library and the program may use different allocators.
 */
void opstatus_free(void *ptr);

/**
 * Creates a client for one tenant from settings given as JSON text.
 *
 * Each setting is taken from the config JSON first, then from the
 * environment variables listed with it, in that order. An empty variable
 * counts as unset. Set "use_environment" to false to read the config JSON
 * only.
 *
 * @param out          receives the new client, or NULL on failure. Free it
 *                     with opstatus_client_free().
 * @param config_json  a JSON object with the keys below; NULL or "" means
 *                     {}. Unknown keys are rejected, so that a misspelt
 *                     setting is not ignored.
 *
 * Where the tenant is:
 *   - "api_url" (string, required; F5XC_API_URL, VOLT_API_URL): a tenant
 *     name such as "acme", which means
 *     "https://acme.console.ves.volterra.io", or a URL such as
 *     "https://acme.console.ves.volterra.io/api". A trailing "/api", "/api/"
 *     or "/" is optional. "http://" is accepted for loopback hosts only
 *     (127.0.0.0/8, ::1, localhost).
 *
 * Credentials, exactly one kind:
 *   - "api_token" (string; F5XC_API_TOKEN): an F5 XC API token, sent as
 *     "Authorization: APIToken <token>".
 *   - "p12_file" (F5XC_P12_FILE, VOLT_API_P12_FILE) and "p12_password"
 *     (F5XC_P12_PASSWORD, VES_P12_PASSWORD): an API certificate as a
 *     PKCS#12 bundle, for mutual TLS.
 *   - "cert_file" (F5XC_CERT, VOLT_API_CERT), "key_file" (F5XC_KEY,
 *     VOLT_API_KEY) and optionally "key_password": a PEM certificate and
 *     key, for mutual TLS.
 *   - "auth" ("token" or "certificate"): which credentials win when both a
 *     token and a certificate are set. Without it, that is an error.
 *
 * TLS and limits:
 *   - "ca_file" (string; F5XC_CACERT, VOLT_API_CA_CERT): a PEM file of CA
 *     certificates to trust instead of the system's. Certificate and host
 *     name checks are always on.
 *   - "connect_timeout_ms" (default 10000): time allowed for DNS, TCP and
 *     TLS setup of one attempt.
 *   - "timeout_ms" (default 30000; VOLT_API_TIMEOUT as a duration such as
 *     "20s"): time allowed for one attempt, from connect to the last byte.
 *   - "max_response_bytes" (default 8388608): largest response body
 *     accepted; a larger one is rejected while it arrives.
 *
 * Retries (status and list requests are retried on HTTP 429, 500, 502, 503,
 * 504 and connection failures; a purge only when the server certainly did
 * not act on it, that is on 429 or when no connection was made):
 *   - "max_attempts" (default 4): attempts in all; 1 turns retries off.
 *   - "retry_base_ms" (default 500) and "retry_max_ms" (default 20000): the
 *     delay before attempt n + 1 is random between 0 and
 *     min(retry_max_ms, retry_base_ms * 2^(n-1)).
 *   - "retry_after_max_ms" (default 60000): longest Retry-After honoured;
 *     a server that asks for longer ends the retries.
 *   - "deadline_ms" (default 60000): time allowed for a whole call,
 *     retries and delays included.
 *   - "rate_per_second" (number, default off) and "burst" (default the
 *     rate rounded up): a client-side limit shared by every thread using
 *     the client.
 *
 * Status interpretation:
 *   - "success_statuses", "failure_statuses" (arrays of strings): the
 *     status words that count as a site that succeeded or failed, matched
 *     without regard to ASCII case. Defaults: "success", "succeeded",
 *     "completed", "complete", "done"; and "failed", "failure", "error",
 *     "errored", "aborted", "cancelled", "timeout". Other words mean the
 *     site is still pending.
 *   - "resource_kind" (default "http_loadbalancer"): the load balancer
 *     kind of requests that do not name one, "http_loadbalancer" or
 *     "cdn_loadbalancer".
 *
 * @return OPSTATUS_OK, OPSTATUS_EINVAL when out is NULL or the text is not
 *   a JSON object, OPSTATUS_ECONFIG for missing, unreadable or inconsistent
 *   settings (the message names them), OPSTATUS_ENOMEM.
 */
opstatus_result opstatus_client_new(opstatus_client **out,
                                    const char *config_json);

/**
 * Frees a client, closing its connections. NULL is ignored.
 *
 * No other thread may be using the client when it is freed.
 */
void opstatus_client_free(opstatus_client *client);

/**
 * Sets the function that receives the client's log messages.
 *
 * @param client    the client.
 * @param level     the least severe level delivered.
 * @param callback  the function to call, or NULL to stop logging.
 * @param payload   passed to every call of callback, unchanged.
 * @return OPSTATUS_OK, or OPSTATUS_EINVAL when client is NULL or level is
 *   not one of the opstatus_log_level values.
 *
 * The change applies to requests that start after it, on every thread.
 */
opstatus_result opstatus_set_log_callback(opstatus_client *client,
                                          opstatus_log_level level,
                                          opstatus_log_fn callback,
                                          void *payload);

/**
 * Gets the status of a service operation, with JSON text in and out.
 *
 * @param out           receives the result as JSON text; free it with
 *                      opstatus_free(). NULL on failure.
 * @param client        the client.
 * @param request_json  a JSON object with "namespace" (string), "name"
 *                      (string, the load balancer) and "service_op_id"
 *                      (integer, as a number or a decimal string).
 *
 * The result is the F5 XC response, {"items": [...]} with "error" when the
 * server sent one, plus a "summary" object:
 *   - "state": "succeeded" when at least one site reported and every site
 *     that reported succeeded, "failed" when any site failed, else
 *     "pending".
 *   - "sites", "succeeded", "failed", "pending": counts of items.
 *   - "bytes_purged", "bytes_not_purged": totals as decimal strings, since
 *     they may exceed 2^53.
 *   - "earliest_start", "latest_finish": the earliest start_time and latest
 *     finish_time as the server wrote them, or null when no site gave one.
 * Item fields that the server left out stay out of the result, and fields
 * the API does not define, null fields and empty times are removed. Byte counts
 * are decimal strings and service_op_id is a number. Each item also gets
 * "state": "succeeded", "failed" or "pending", the classification of its
 * status word by the client's success_statuses and failure_statuses.
 *
 * A response whose error.code is "EPARTIAL" is a success that carries the
 * items the server had and the "error" object. Any other error.code except
 * "EOK" fails with OPSTATUS_EAPI.
 *
 * @return OPSTATUS_OK or a failure code; see opstatus_last_error().
 */
opstatus_result opstatus_get_status_json(char **out, opstatus_client *client,
                                         const char *request_json);

/**
 * Gets the status of a service operation, with jansson values in and out.
 *
 * @param out      receives the result (see opstatus_get_status_json()) as
 *                 a new reference; release it with json_decref(). NULL on
 *                 failure.
 * @param client   the client.
 * @param request  a JSON object as for opstatus_get_status_json(); the
 *                 function does not keep or change it.
 * @return OPSTATUS_OK or a failure code; see opstatus_last_error().
 */
opstatus_result opstatus_get_status_value(json_t **out,
                                          opstatus_client *client,
                                          const json_t *request);

/**
 * Gets the status of a service operation given as plain arguments.
 *
 * @param out            receives the result as JSON text (see
 *                       opstatus_get_status_json()); free it with
 *                       opstatus_free(). NULL on failure.
 * @param client         the client.
 * @param ns             the namespace, such as "default".
 * @param name           the load balancer's name, such as "cdn-1".
 * @param service_op_id  the operation id; must not be negative.
 * @return OPSTATUS_OK or a failure code; see opstatus_last_error().
 */
opstatus_result opstatus_get_status(char **out, opstatus_client *client,
                                    const char *ns, const char *name,
                                    int64_t service_op_id);

/**
 * Starts a cache purge on a load balancer.
 *
 * @param out           receives {"purge_request_id": N} as JSON text; N is
 *                      the operation id to pass to the status and wait
 *                      functions. Free it with opstatus_free(). NULL on
 *                      failure.
 * @param client        the client.
 * @param request_json  a JSON object with "namespace", "name" (the load
 *                      balancer), optionally "kind" ("http_loadbalancer",
 *                      the default, or "cdn_loadbalancer"), and the body of
 *                      the F5 XC purge request:
 *   - exactly one target: "url" (a path starting with "/"), "pattern" (a
 *     PCRE regular expression of 1 to 256 characters), "hostname" (a domain
 *     name, "*." allowed in front), or "purge_all": {};
 *   - exactly one mode: "hard_purge": {} removes the content,
 *     "soft_purge": {} marks it expired so it is revalidated with the
 *     origin. true is accepted in place of {}.
 *
 * A purge is sent again only when the server certainly did not act on it:
 * after HTTP 429 or when no connection was made. After any other failure
 * the purge may or may not have started; list the load balancer's
 * operations to find out.
 *
 * @return OPSTATUS_OK or a failure code; see opstatus_last_error().
 */
opstatus_result opstatus_purge_json(char **out, opstatus_client *client,
                                    const char *request_json);

/**
 * Starts a cache purge, with jansson values in and out.
 *
 * @param out      receives {"purge_request_id": N} as a new reference;
 *                 release it with json_decref(). NULL on failure.
 * @param client   the client.
 * @param request  a JSON object as for opstatus_purge_json().
 * @return OPSTATUS_OK or a failure code; see opstatus_last_error().
 */
opstatus_result opstatus_purge_value(json_t **out, opstatus_client *client,
                                     const json_t *request);

/**
 * Lists recent operations, with JSON text in and out.
 *
 * @param out           receives {"items": [{"service_op_id",
 *                      "svc_version", "created_time", "modified_time"},
 *                      ...]} as JSON text, with "error" when the server
 *                      sent one. Free it with opstatus_free(). NULL on
 *                      failure.
 * @param client        the client.
 * @param request_json  a JSON object with "namespace", optionally "name"
 *                      (the load balancer) and "kind", and exactly one of
 *                      "lastn" (the last n operations, 1 or more) and
 *                      "time_range": {"start_time", "finish_time"}, each a
 *                      unix timestamp (number or string) or an RFC 3339
 *                      time such as "2019-09-23T12:32:11.733Z".
 * @return OPSTATUS_OK or a failure code; see opstatus_last_error().
 */
opstatus_result opstatus_list_json(char **out, opstatus_client *client,
                                   const char *request_json);

/**
 * Lists recent operations, with jansson values in and out.
 *
 * @param out      receives the result (see opstatus_list_json()) as a new
 *                 reference; release it with json_decref(). NULL on
 *                 failure.
 * @param client   the client.
 * @param request  a JSON object as for opstatus_list_json().
 * @return OPSTATUS_OK or a failure code; see opstatus_last_error().
 */
opstatus_result opstatus_list_value(json_t **out, opstatus_client *client,
                                    const json_t *request);

/**
 * Gets the status of many operations in one call, with JSON text in and
 * out.
 *
 * The requests run at once over at most max_connections connections
 * through libcurl's multi interface, each with the retry rules of a single
 * status request. Each result is independent: an invalid or unknown
 * operation gives an error entry and does not fail the others.
 *
 * @param out           receives {"results": [...]} as JSON text, one entry
 *                      per operation in the order given: {"request": ...,
 *                      "ok": true, "status": <as opstatus_get_status_json>}
 *                      or {"request": ..., "ok": false, "error": <as
 *                      opstatus_last_error_json>}. Free it with
 *                      opstatus_free(). NULL on failure.
 * @param client        the client.
 * @param request_json  {"operations": [<status request>, ...]} with
 *                      optionally "max_connections" (1 to 256, default the
 *                      client's max_connections setting, 8). Each status
 *                      request is as for opstatus_get_status_json(), with
 *                      an optional "kind".
 * @return OPSTATUS_OK when every operation has a result, even an error.
 *   Another code means the call as a whole failed, such as
 *   OPSTATUS_EINVAL for a request that is not of this shape.
 */
opstatus_result opstatus_get_status_many_json(char **out,
                                              opstatus_client *client,
                                              const char *request_json);

/**
 * Gets the status of many operations, with jansson values in and out.
 *
 * @param out      receives the result (see
 *                 opstatus_get_status_many_json()) as a new reference;
 *                 release it with json_decref(). NULL on failure.
 * @param client   the client.
 * @param request  a JSON object as for opstatus_get_status_many_json().
 * @return as for opstatus_get_status_many_json().
 */
opstatus_result opstatus_get_status_many_value(json_t **out,
                                               opstatus_client *client,
                                               const json_t *request);

/**
 * Receives the progress of a wait as JSON text after every poll.
 *
 * @param progress_json  for opstatus_wait_json(), a status result (see
 *                       opstatus_get_status_json()) with a "wait" object:
 *                       "outcome" ("pending", "succeeded" or "failed"),
 *                       "polls" and "elapsed_ms". For
 *                       opstatus_wait_many_json(), the result described
 *                       there. Valid only during the call.
 * @param payload        the pointer given to the wait function.
 * @return 0 to go on waiting, any other value to cancel the wait.
 */
typedef int (*opstatus_progress_fn)(const char *progress_json, void *payload);

/**
 * Receives the progress of a wait as a jansson value after every poll.
 *
 * @param progress  as for opstatus_progress_fn, a borrowed reference valid
 *                  only during the call.
 * @param payload   the pointer given to the wait function.
 * @return 0 to go on waiting, any other value to cancel the wait.
 */
typedef int (*opstatus_progress_value_fn)(const json_t *progress,
                                          void *payload);

/**
 * Polls an operation until it has finished on every site, with JSON text
 * in and out.
 *
 * The first poll is sent at once; the delay before each later poll starts
 * at initial_delay_ms and grows by growth up to max_delay_ms. Between
 * polls the thread sleeps and costs no CPU.
 *
 * An operation has succeeded when at least one site (or expected_sites)
 * has reported, every reported site succeeded, and two polls in a row show
 * the same sites, all succeeded, at least settle_ms apart. An empty list of
 * sites means nothing has reported yet, never done. It has failed as soon
 * as a site failed, or with stop_on_failure false, once a site failed and
 * none is pending.
 *
 * @param out           receives the last poll's result: the status result
 *                      of opstatus_get_status_json() with a "wait" object
 *                      ("outcome", "polls", "elapsed_ms"). It is set for
 *                      OPSTATUS_OK, and also for OPSTATUS_ETIMEOUT and
 *                      OPSTATUS_ECANCELLED once a poll has completed, so
 *                      the caller sees how far the operation got. Free it
 *                      with opstatus_free().
 * @param client        the client.
 * @param request_json  a status request (see opstatus_get_status_json(),
 *                      with an optional "kind") and these options:
 *   - "initial_delay_ms" (default 1000), "growth" (default 1.5, from 1 to
 *     10), "max_delay_ms" (default 15000): the delays between polls.
 *   - "deadline_ms" (default 600000): time allowed for the whole wait.
 *   - "success_statuses", "failure_statuses": status words for this wait,
 *     in place of the client's.
 *   - "stop_on_failure" (default true): stop at the first failed site.
 *   - "expected_sites": sites that must report before the operation counts
 *     as done.
 *   - "settle_ms" (default 0): time the set of succeeded sites must stay
 *     unchanged, for sites that report late.
 * @param progress      called after every poll, or NULL. It may return
 *                      non-zero to cancel the wait.
 * @param payload       passed to progress unchanged.
 * @return OPSTATUS_OK when the operation finished; summary.state and
 *   wait.outcome in the result tell whether it succeeded or failed.
 *   OPSTATUS_ETIMEOUT when deadline_ms passed first, OPSTATUS_ECANCELLED
 *   when progress or opstatus_client_cancel() cancelled it, or the code of
 *   a poll that failed, such as OPSTATUS_ENOTFOUND.
 */
opstatus_result opstatus_wait_json(char **out, opstatus_client *client,
                                   const char *request_json,
                                   opstatus_progress_fn progress,
                                   void *payload);

/**
 * Polls an operation until it has finished, with jansson values in and
 * out.
 *
 * @param out       receives the result (see opstatus_wait_json()) as a new
 *                  reference; release it with json_decref().
 * @param client    the client.
 * @param request   a JSON object as for opstatus_wait_json().
 * @param progress  called after every poll with the result so far, or NULL.
 * @param payload   passed to progress unchanged.
 * @return as for opstatus_wait_json().
 */
opstatus_result opstatus_wait_value(json_t **out, opstatus_client *client,
                                    const json_t *request,
                                    opstatus_progress_value_fn progress,
                                    void *payload);

/**
 * Polls many operations until each has finished, with JSON text in and
 * out.
 *
 * Every round polls the unfinished operations at once, as
 * opstatus_get_status_many_json() does, then sleeps for the next delay.
 * Each operation follows the rules of opstatus_wait_json() on its own, and
 * one that cannot be read (an unknown id, say) ends with an error without
 * stopping the others.
 *
 * @param out           receives {"operations": [{"request": ...,
 *                      "outcome": "pending" | "succeeded" | "failed" |
 *                      "error", "status": ... or "error": ...}], "wait":
 *                      {"outcome", "polls", "elapsed_ms"}}, with
 *                      wait.outcome "succeeded" only when every operation
 *                      succeeded. Set as for opstatus_wait_json(). Free it
 *                      with opstatus_free().
 * @param client        the client.
 * @param request_json  {"operations": [<status request>, ...]} with
 *                      optionally "max_connections" and the options of
 *                      opstatus_wait_json(), which apply to every
 *                      operation.
 * @param progress      called after every round with the result so far,
 *                      or NULL. It may return non-zero to cancel.
 * @param payload       passed to progress unchanged.
 * @return as for opstatus_wait_json().
 */
opstatus_result opstatus_wait_many_json(char **out, opstatus_client *client,
                                        const char *request_json,
                                        opstatus_progress_fn progress,
                                        void *payload);

/**
 * Polls many operations until each has finished, with jansson values in
 * and out.
 *
 * @param out       receives the result (see opstatus_wait_many_json()) as
 *                  a new reference; release it with json_decref().
 * @param client    the client.
 * @param request   a JSON object as for opstatus_wait_many_json().
 * @param progress  called after every round, or NULL.
 * @param payload   passed to progress unchanged.
 * @return as for opstatus_wait_json().
 */
opstatus_result opstatus_wait_many_value(json_t **out, opstatus_client *client,
                                         const json_t *request,
                                         opstatus_progress_value_fn progress,
                                         void *payload);

/**
 * Cancels every call in progress on the client, from any thread.
 *
 * Waits, retry delays and transfers stop within about 100 ms and return
 * OPSTATUS_ECANCELLED. Calls that start after this one are not affected.
 *
 * @param client  the client.
 * @return OPSTATUS_OK, or OPSTATUS_EINVAL when client is NULL.
 */
opstatus_result opstatus_client_cancel(opstatus_client *client);

#ifdef __cplusplus
}
#endif

#endif /* OPSTATUS_H */
