/* hx_http.h — asynchronous HTTP over ONE libcurl multi handle driven by a
 * libevent base (curl_multi_socket_action + event timers). Connections are
 * kept alive in the multi's cache and shared by all requests. */
#ifndef HX_HTTP_H
#define HX_HTTP_H

#include <curl/curl.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>

struct hx_http;

/* Coarse outcome of a request that got no HTTP answer. The split matters to
 * clients: HX_HTTP_ECONNECT means the request was never sent (connection
 * refused / unreachable before connecting), so an operation can be recorded
 * as failed; every other kind leaves the outcome unknown. */
enum hx_http_error {
	HX_HTTP_OK = 0,
	HX_HTTP_ECONNECT,  /* "connect": never sent */
	HX_HTTP_ETIMEOUT,  /* "timeout" */
	HX_HTTP_EBROKEN,   /* "broken": connection failed after sending */
	HX_HTTP_EOTHER,    /* "error": anything else (TLS, bad URL, ...) */
};
const char *hx_http_error_name(enum hx_http_error e);

struct hx_http_response {
	enum hx_http_error error;
	long status;          /* HTTP status when error == HX_HTTP_OK */
	const char *body;     /* NUL-terminated; valid only during the callback */
	size_t body_len;
	const char *message;  /* curl's text when error != HX_HTTP_OK */
	double elapsed_s;
};

/* Completion callback, called exactly once per started request from the
 * event loop (never from inside hx_http_request). */
typedef void (*hx_http_cb)(void *arg, const struct hx_http_response *r);

struct hx_http_request {
	const char *method;         /* GET, PUT, POST, DELETE ... */
	const char *url;
	const char *body;           /* may be NULL */
	size_t body_len;
	const char *const *headers; /* NULL-terminated "Name: value" list, may be NULL */
	long timeout_ms;            /* whole request; <= 0 means 5000 */
	bool has_content_type;      /* headers name one: no default JSON type */
	/* TLS (mutual) for later: PEM paths, all optional. */
	const char *ca_file, *cert_file, *key_file;
};

/* Create the engine on base. Returns NULL with err set. */
struct hx_http *hx_http_new(struct event_base *base, char *err, size_t errlen);

/* Start a request; cb(arg, response) runs later from the loop. All strings
 * are copied. Returns 0, or -1 with err set (then cb is never called). */
int hx_http_request(struct hx_http *h, const struct hx_http_request *req, hx_http_cb cb,
                    void *arg, char *err, size_t errlen);

/* Number of requests in flight. */
unsigned hx_http_in_flight(const struct hx_http *h);

/* Abort every request in flight; their callbacks run now with
 * HX_HTTP_EOTHER "aborted". Used on hard shutdown. */
void hx_http_abort_all(struct hx_http *h);

void hx_http_free(struct hx_http *h);

#endif
