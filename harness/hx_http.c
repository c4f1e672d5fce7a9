/* hx_http.c — libcurl multi driven by libevent: one multi handle, socket
 * events per curl socket, one timer, a pool of reusable easy handles. */
#include "harness/hx_http.h"
#include "harness/hx_util.h"

#include <stdlib.h>
#include <string.h>

struct hx_http_xfer {
	struct hx_http *h;
	CURL *easy;
	struct curl_slist *headers;
	char *body_out;           /* request body copy */
	char *buf;                /* response body */
	size_t len, cap;
	hx_http_cb cb;
	void *arg;
	struct hx_http_xfer *next; /* free list / in-flight list */
	struct hx_http_xfer *prev;
	bool sent;                /* some request bytes left for the server */
	char errbuf[CURL_ERROR_SIZE];
};

struct hx_sock {
	struct event *ev;
};

struct hx_http {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct hx_http_xfer *free_list;
	struct hx_http_xfer *active;  /* doubly linked */
	unsigned in_flight;
};

const char *hx_http_error_name(enum hx_http_error e)
{
	switch (e) {
	case HX_HTTP_OK: return "ok";
	case HX_HTTP_ECONNECT: return "connect";
	case HX_HTTP_ETIMEOUT: return "timeout";
	case HX_HTTP_EBROKEN: return "broken";
	default: return "error";
	}
}

static void check_done(struct hx_http *h);

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct hx_http *h = arg;
	int flags = 0, running;
	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(h->multi, fd, flags, &running);
	check_done(h);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct hx_http *h = arg;
	int running;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(h);
}

/* CURLMOPT_SOCKETFUNCTION: keep one persistent libevent event per socket. */
static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct hx_http *h = userp;
	struct hx_sock *sk = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (sk) {
			event_free(sk->ev);
			free(sk);
			curl_multi_assign(h->multi, s, NULL);
		}
		return 0;
	}
	short kind = EV_PERSIST;
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (!sk) {
		sk = calloc(1, sizeof *sk);
		if (!sk)
			return -1;
		curl_multi_assign(h->multi, s, sk);
	} else {
		event_del(sk->ev);
		event_free(sk->ev);
	}
	sk->ev = event_new(h->base, s, kind, on_socket_event, h);
	event_add(sk->ev, NULL);
	return 0;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct hx_http *h = userp;
	if (timeout_ms < 0) {
		evtimer_del(h->timer);
		return 0;
	}
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	evtimer_add(h->timer, &tv);
	return 0;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct hx_http_xfer *x = userdata;
	size_t n = size * nmemb;
	if (x->len + n + 1 > x->cap) {
		size_t cap = x->cap ? x->cap : 1024;
		while (cap < x->len + n + 1)
			cap *= 2;
		char *b = realloc(x->buf, cap);
		if (!b)
			return 0;
		x->buf = b;
		x->cap = cap;
	}
	memcpy(x->buf + x->len, ptr, n);
	x->len += n;
	x->buf[x->len] = 0;
	return n;
}

static void list_remove(struct hx_http *h, struct hx_http_xfer *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		h->active = x->next;
	if (x->next)
		x->next->prev = x->prev;
	x->next = x->prev = NULL;
}

/* Return x to the pool. The easy handle is kept (curl_easy_reset keeps its
 * connection/session caches), which is what makes keep-alive cheap. */
static void recycle(struct hx_http *h, struct hx_http_xfer *x)
{
	curl_slist_free_all(x->headers);
	x->headers = NULL;
	free(x->body_out);
	x->body_out = NULL;
	x->len = 0;
	x->cb = NULL;
	x->next = h->free_list;
	h->free_list = x;
}

/* CURLOPT_DEBUGFUNCTION: notes that request bytes went out. Why: when a
 * reused keep-alive connection dies after the request was written (the node
 * was killed while handling it), libcurl silently resends the request on a
 * fresh connection; if that connect is refused it reports only
 * CURLE_COULDNT_CONNECT. The first copy may have reached the node and taken
 * effect, so "connect" (a definite fail) would be a lie: the harness must
 * record info. Measured with libcurl 7.88.1 against etcd and raftnode. */
static int debug_cb(CURL *e, curl_infotype type, char *data, size_t size, void *userp)
{
	struct hx_http_xfer *x = userp;
	if (type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_OUT ||
	    type == CURLINFO_SSL_DATA_OUT)
		x->sent = true;
	return 0;
}

static enum hx_http_error classify(CURLcode rc, const struct hx_http_xfer *x)
{
	CURL *easy = x->easy;
	switch (rc) {
	case CURLE_OK:
		return HX_HTTP_OK;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_URL_MALFORMAT:
		/* Never sent, unless an earlier copy went out (see debug_cb). */
		return x->sent ? HX_HTTP_EBROKEN : HX_HTTP_ECONNECT;
	case CURLE_OPERATION_TIMEDOUT: {
		/* A timeout while still connecting means nothing was sent. */
		long connected = 0;
		curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connected);
		curl_off_t pretransfer = 0;
		curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
		return pretransfer == 0 && !x->sent ? HX_HTTP_ECONNECT : HX_HTTP_ETIMEOUT;
	}
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return HX_HTTP_EBROKEN;
	default:
		return HX_HTTP_EOTHER;
	}
}

static void finish(struct hx_http *h, struct hx_http_xfer *x, CURLcode rc)
{
	struct hx_http_response r = {0};
	r.error = classify(rc, x);
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r.status);
	curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &r.elapsed_s);
	r.body = x->buf ? x->buf : "";
	r.body_len = x->len;
	r.message = rc == CURLE_OK ? "" : (x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
	hx_http_cb cb = x->cb;
	void *arg = x->arg;
	curl_multi_remove_handle(h->multi, x->easy);
	list_remove(h, x);
	h->in_flight--;
	cb(arg, &r);
	recycle(h, x);
}

static void check_done(struct hx_http *h)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(h->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct hx_http_xfer *x = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		CURLcode rc = m->data.result;
		finish(h, x, rc);
	}
}

struct hx_http *hx_http_new(struct event_base *base, char *err, size_t errlen)
{
	struct hx_http *h = calloc(1, sizeof *h);
	if (!h) {
		hx_fmt(err, errlen, "out of memory");
		return NULL;
	}
	h->base = base;
	h->multi = curl_multi_init();
	h->timer = evtimer_new(base, on_timer, h);
	if (!h->multi || !h->timer) {
		hx_fmt(err, errlen, "curl_multi_init/evtimer_new failed");
		hx_http_free(h);
		return NULL;
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	/* Hundreds of clients talk to a handful of nodes: keep enough idle
	 * connections that every client can reuse its own. */
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 1024L);
	return h;
}

int hx_http_request(struct hx_http *h, const struct hx_http_request *req, hx_http_cb cb,
                    void *arg, char *err, size_t errlen)
{
	struct hx_http_xfer *x = h->free_list;
	if (x) {
		h->free_list = x->next;
		x->next = NULL;
		curl_easy_reset(x->easy);
	} else {
		x = calloc(1, sizeof *x);
		if (!x || !(x->easy = curl_easy_init())) {
			free(x);
			hx_fmt(err, errlen, "curl_easy_init failed");
			return -1;
		}
		x->h = h;
	}
	CURL *e = x->easy;
	x->errbuf[0] = 0;
	x->sent = false;
	x->cb = cb;
	x->arg = arg;
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 5000L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 5000L);
	/* Loopback and lab addresses only: never consult a proxy from the env. */
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(e, CURLOPT_DEBUGDATA, x);
	curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
	const char *method = req->method ? req->method : "GET";
	if (strcmp(method, "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (req->body) {
		x->body_out = malloc(req->body_len + 1);
		if (!x->body_out) {
			recycle(h, x);
			hx_fmt(err, errlen, "out of memory");
			return -1;
		}
		memcpy(x->body_out, req->body, req->body_len);
		x->body_out[req->body_len] = 0;
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body_out);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
		if (!req->has_content_type)
			x->headers = curl_slist_append(x->headers, "Content-Type: application/json");
	}
	/* No "Expect: 100-continue" round trip for small bodies. */
	x->headers = curl_slist_append(x->headers, "Expect:");
	for (const char *const *hd = req->headers; hd && *hd; hd++)
		x->headers = curl_slist_append(x->headers, *hd);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	if (req->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
	if (req->cert_file)
		curl_easy_setopt(e, CURLOPT_SSLCERT, req->cert_file);
	if (req->key_file)
		curl_easy_setopt(e, CURLOPT_SSLKEY, req->key_file);
	CURLMcode mc = curl_multi_add_handle(h->multi, e);
	if (mc != CURLM_OK) {
		recycle(h, x);
		hx_fmt(err, errlen, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
		return -1;
	}
	x->next = h->active;
	if (h->active)
		h->active->prev = x;
	h->active = x;
	h->in_flight++;
	return 0;
}

unsigned hx_http_in_flight(const struct hx_http *h)
{
	return h->in_flight;
}

void hx_http_abort_all(struct hx_http *h)
{
	while (h->active) {
		struct hx_http_xfer *x = h->active;
		hx_fmt(x->errbuf, sizeof x->errbuf, "aborted");
		finish(h, x, CURLE_ABORTED_BY_CALLBACK);
	}
}

void hx_http_free(struct hx_http *h)
{
	if (!h)
		return;
	if (h->multi)
		hx_http_abort_all(h);
	while (h->free_list) {
		struct hx_http_xfer *x = h->free_list;
		h->free_list = x->next;
		curl_easy_cleanup(x->easy);
		free(x->buf);
		free(x);
	}
	if (h->multi)
		curl_multi_cleanup(h->multi);
	if (h->timer)
		event_free(h->timer);
	free(h);
}
