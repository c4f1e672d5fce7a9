/* test_hx_http.c — hx_http's error classification against a scripted
 * loopback server: a request that libcurl silently resent after its reused
 * connection died must not be reported as "connect" (never sent), because
 * its first copy reached the server; a request to a port nobody listens on
 * is "connect". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness/hx_http.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct server {
	struct event_base *base;
	int lfd, cfd;
	struct event *lev, *cev;
	char buf[8192];
	size_t len;
	unsigned requests;   /* complete requests read */
	bool got_second;     /* the body of request 2 arrived */
};

struct result {
	bool done;
	enum hx_http_error error;
	long status;
};

/* A request is complete once the header end and Content-Length bytes are in. */
static bool take_request(struct server *s)
{
	s->buf[s->len] = 0;
	char *end = strstr(s->buf, "\r\n\r\n");
	if (!end)
		return false;
	size_t body = 0;
	const char *cl = strcasestr(s->buf, "Content-Length:");
	if (cl && cl < end)
		body = strtoul(cl + 15, NULL, 10);
	size_t total = (size_t)(end + 4 - s->buf) + body;
	if (s->len < total)
		return false;
	if (strstr(s->buf, "second"))
		s->got_second = true;
	memmove(s->buf, s->buf + total, s->len - total);
	s->len -= total;
	return true;
}

static void on_conn(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	ssize_t n = read(fd, s->buf + s->len, sizeof s->buf - 1 - s->len);
	if (n <= 0) {
		event_del(s->cev);
		close(fd);
		s->cfd = -1;
		return;
	}
	s->len += (size_t)n;
	while (take_request(s)) {
		s->requests++;
		if (s->requests == 1) {
			static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
			assert_int_equal(write(fd, ok, sizeof ok - 1), (ssize_t)(sizeof ok - 1));
		} else {
			/* The node "dies" while handling request 2: the connection
			 * closes without an answer and nobody listens any more. */
			event_del(s->cev);
			close(fd);
			s->cfd = -1;
			event_del(s->lev);
			close(s->lfd);
			s->lfd = -1;
			return;
		}
	}
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	int c = accept(fd, NULL, NULL);
	if (c < 0)
		return;
	if (s->cfd >= 0) { /* only one connection expected */
		close(c);
		return;
	}
	s->cfd = c;
	s->cev = event_new(s->base, c, EV_READ | EV_PERSIST, on_conn, s);
	event_add(s->cev, NULL);
}

static void on_done(void *arg, const struct hx_http_response *r)
{
	struct result *res = arg;
	res->done = true;
	res->error = r->error;
	res->status = r->status;
}

static void run_until(struct event_base *base, const struct result *r)
{
	for (int i = 0; i < 100000 && !r->done; i++)
		event_base_loop(base, EVLOOP_ONCE);
	assert_true(r->done);
}

static int listen_loopback(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 8), 0);
	socklen_t al = sizeof a;
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void request(struct hx_http *h, const char *url, const char *body, struct result *r)
{
	char err[256];
	struct hx_http_request req = {.method = "PUT", .url = url, .body = body,
	                              .body_len = strlen(body), .timeout_ms = 5000};
	memset(r, 0, sizeof *r);
	assert_int_equal(hx_http_request(h, &req, on_done, r, err, sizeof err), 0);
}

static void test_resent_request_is_not_connect(void **state)
{
	struct server s = {.cfd = -1};
	s.base = event_base_new();
	int port;
	s.lfd = listen_loopback(&port);
	s.lev = event_new(s.base, s.lfd, EV_READ | EV_PERSIST, on_accept, &s);
	event_add(s.lev, NULL);
	char err[256], url[64];
	struct hx_http *h = hx_http_new(s.base, err, sizeof err);
	assert_non_null(h);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/kv/k", port);

	struct result r;
	request(h, url, "{\"value\":\"first\"}", &r);
	run_until(s.base, &r);
	assert_int_equal(r.error, HX_HTTP_OK);
	assert_int_equal(r.status, 200);

	request(h, url, "{\"value\":\"second\"}", &r);
	run_until(s.base, &r);
	assert_true(s.got_second);              /* the server did receive it */
	assert_int_not_equal(r.error, HX_HTTP_OK);
	assert_int_not_equal(r.error, HX_HTTP_ECONNECT);

	/* Control: nothing listens on the port now and no connection is
	 * pooled for it: that is a genuine "connect". */
	request(h, url, "{\"value\":\"third\"}", &r);
	run_until(s.base, &r);
	assert_int_equal(r.error, HX_HTTP_ECONNECT);

	hx_http_free(h);
	event_free(s.lev);
	if (s.cev)
		event_free(s.cev);
	event_base_free(s.base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resent_request_is_not_connect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
