/*
 * opstatus: status of F5 Distributed Cloud service operations from C.
 *
 * The library asks an F5 XC tenant for the status of a service operation,
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
    /** What failed and on which value; never NULL, "" after success. */
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
 * environment variables listed with it, in that order; an empty variable
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
 * Item fields that the server left out stay out of the result. Byte counts
 * are decimal strings and service_op_id is a number.
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

#ifdef __cplusplus
}
#endif

#endif /* OPSTATUS_H */
