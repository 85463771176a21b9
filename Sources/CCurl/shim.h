#ifndef OPSTATUS_CCURL_SHIM_H
#define OPSTATUS_CCURL_SHIM_H

#include <curl/curl.h>

/*
 * curl_easy_setopt, curl_easy_getinfo and curl_share_setopt are variadic,
 * and Swift cannot call variadic C functions. These wrappers fix the type
 * of the last argument. They are static inline, so they add no symbols to
 * the library.
 */

static inline CURLcode opstatus_curl_setopt_long(CURL *handle,
                                                 CURLoption option,
                                                 long value) {
  return curl_easy_setopt(handle, option, value);
}

static inline CURLcode opstatus_curl_setopt_pointer(CURL *handle,
                                                    CURLoption option,
                                                    void *value) {
  return curl_easy_setopt(handle, option, value);
}

static inline CURLcode opstatus_curl_setopt_string(CURL *handle,
                                                   CURLoption option,
                                                   const char *value) {
  return curl_easy_setopt(handle, option, value);
}

static inline CURLcode opstatus_curl_setopt_write(CURL *handle,
                                                  CURLoption option,
                                                  curl_write_callback fn) {
  return curl_easy_setopt(handle, option, fn);
}

static inline CURLcode opstatus_curl_setopt_xferinfo(
    CURL *handle, curl_xferinfo_callback fn) {
  return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, fn);
}

static inline CURLcode opstatus_curl_setopt_offset(CURL *handle,
                                                   CURLoption option,
                                                   curl_off_t value) {
  return curl_easy_setopt(handle, option, value);
}

static inline CURLcode opstatus_curl_getinfo_long(CURL *handle,
                                                  CURLINFO info,
                                                  long *value) {
  return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode opstatus_curl_getinfo_string(CURL *handle,
                                                    CURLINFO info,
                                                    char **value) {
  return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode opstatus_curl_getinfo_offset(CURL *handle,
                                                    CURLINFO info,
                                                    curl_off_t *value) {
  return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode opstatus_curl_getinfo_double(CURL *handle,
                                                    CURLINFO info,
                                                    double *value) {
  return curl_easy_getinfo(handle, info, value);
}

static inline CURLSHcode opstatus_curl_share_setopt_long(CURLSH *share,
                                                         CURLSHoption option,
                                                         long value) {
  return curl_share_setopt(share, option, value);
}

static inline CURLSHcode opstatus_curl_share_setopt_lock(
    CURLSH *share, curl_lock_function lock, curl_unlock_function unlock,
    void *payload) {
  CURLSHcode result = curl_share_setopt(share, CURLSHOPT_LOCKFUNC, lock);
  if (result != CURLSHE_OK) {
    return result;
  }
  result = curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, unlock);
  if (result != CURLSHE_OK) {
    return result;
  }
  return curl_share_setopt(share, CURLSHOPT_USERDATA, payload);
}

static inline CURLMcode opstatus_curl_multi_setopt_long(CURLM *multi,
                                                        CURLMoption option,
                                                        long value) {
  return curl_multi_setopt(multi, option, value);
}

#endif
