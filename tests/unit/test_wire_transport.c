/* test_wire_transport.c — the peer transport over real loopback sockets:
 * delivery and order, reconnect after the peer restarts, a joining node
 * learning an address from HELLO, and malformed input closing only that
 * connection. Waits are bounded polls of the event loop, never sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "raftnode/server/srv_log.h"
#include "raftnode/server/srv_transport.h"
#include "raftnode/server/srv_util.h"
#include "raftnode/server/srv_wire.h"

#define MAXGOT 4096

struct inbox {
	unsigned n;
	uint8_t type[MAXGOT];
	raft_id from[MAXGOT];
	raft_term term[MAXGOT];
	unsigned n_entries[MAXGOT];
	char first_entry[MAXGOT][16];
};

static void recv_cb(void *ud, const struct raft_msg *m)
{
	struct inbox *in = ud;
	if (in->n >= MAXGOT)
		return;
	in->type[in->n] = m->type;
	in->from[in->n] = m->from;
	in->term[in->n] = m->term;
	in->n_entries[in->n] = m->type == RAFT_MSG_APPEND ? m->append.n_entries : 0;
	if (m->type == RAFT_MSG_APPEND && m->append.n_entries && m->append.entries[0].buf.len < 16) {
		memcpy(in->first_entry[in->n], m->append.entries[0].buf.base, m->append.entries[0].buf.len);
		in->first_entry[in->n][m->append.entries[0].buf.len] = 0;
	}
	in->n++;
}

struct fx {
	struct event_base *base;
	unsigned port0;
	char addr[4][32];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	f->base = event_base_new();
	assert_non_null(f->base);
	f->port0 = 20000 + (unsigned)(getpid() % 400) * 20;
	for (int i = 1; i <= 3; i++)
		snprintf(f->addr[i], sizeof f->addr[i], "127.0.0.1:%u", f->port0 + (unsigned)i);
	srv_log_setup(SRV_LOG_ERROR, "test");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	event_base_free(f->base);
	free(f);
	return 0;
}

static struct srv_transport *make(struct fx *f, raft_id id, struct inbox *in)
{
	struct srv_transport *t = NULL;
	char err[256];
	if (srv_transport_new(&t, f->base, id, f->addr[id], f->addr[id], recv_cb, in, err, sizeof err) != 0)
		fail_msg("transport n%u: %s", (unsigned)id, err);
	return t;
}

/* Run the loop until cond() holds, sending probe() each round; bounded. */
static int run_until(struct fx *f, int (*cond)(void *), void *arg, void (*probe)(void *), void *parg)
{
	for (int i = 0; i < 2000; i++) { /* 2000 x 5 ms = 10 s */
		if (cond(arg))
			return 1;
		if (probe)
			probe(parg);
		struct timeval tv = {0, 5000};
		event_base_loopexit(f->base, &tv);
		event_base_dispatch(f->base);
	}
	return cond(arg);
}

struct sendctx {
	struct srv_transport *t;
	struct raft_msg m;
};
static void send_probe(void *arg)
{
	struct sendctx *c = arg;
	srv_transport_send(c->t, &c->m);
}
static int has_any(void *arg) { return ((struct inbox *)arg)->n > 0; }
struct want {
	struct inbox *in;
	unsigned n;
};
static int has_n(void *arg)
{
	struct want *w = arg;
	return w->in->n >= w->n;
}

static struct raft_msg vote(raft_id from, raft_id to, raft_term term)
{
	struct raft_msg m;
	memset(&m, 0, sizeof m);
	m.type = RAFT_MSG_VOTE;
	m.from = from;
	m.to = to;
	m.term = term;
	m.vote.last_log_index = 5;
	return m;
}

static void test_delivery_order_and_reconnect(void **state)
{
	struct fx *f = *state;
	struct inbox *ia = calloc(1, sizeof *ia), *ib = calloc(1, sizeof *ib);
	struct srv_transport *a = make(f, 1, ia), *b = make(f, 2, ib);
	char err[256];
	assert_int_equal(srv_transport_set_peer(a, 2, f->addr[2], err, sizeof err), 0);
	assert_int_equal(srv_transport_set_peer(b, 1, f->addr[1], err, sizeof err), 0);
	/* Until connected, sends are dropped (Raft retries): probe until one arrives. */
	struct sendctx c = {a, vote(1, 2, 7)};
	assert_true(run_until(f, has_any, ib, send_probe, &c));
	assert_int_equal(ib->type[0], RAFT_MSG_VOTE);
	assert_int_equal(ib->from[0], 1);
	assert_int_equal(ib->term[0], 7);

	/* A burst arrives complete and in order. */
	unsigned base = ib->n;
	struct raft_entry e[3] = {{.term = 9, .type = RAFT_ENTRY_COMMAND}, {.term = 9, .type = RAFT_ENTRY_NOOP},
	                          {.term = 9, .type = RAFT_ENTRY_COMMAND}};
	char txt[1000][16];
	for (unsigned i = 0; i < 1000; i++) {
		snprintf(txt[i], sizeof txt[i], "m%u", i);
		e[0].buf.base = txt[i];
		e[0].buf.len = strlen(txt[i]);
		struct raft_msg m;
		memset(&m, 0, sizeof m);
		m.type = RAFT_MSG_APPEND;
		m.from = 1;
		m.to = 2;
		m.term = 100 + i;
		m.append.n_entries = 3;
		m.append.entries = e;
		srv_transport_send(a, &m);
	}
	struct want w = {ib, base + 1000};
	assert_true(run_until(f, has_n, &w, NULL, NULL));
	for (unsigned i = 0; i < 1000; i++) {
		assert_int_equal(ib->term[base + i], 100 + i);
		assert_int_equal(ib->n_entries[base + i], 3);
		assert_string_equal(ib->first_entry[base + i], txt[i]);
	}

	/* The peer goes away and comes back on the same address: a redials. */
	srv_transport_free(b);
	memset(ib, 0, sizeof *ib);
	b = make(f, 2, ib);
	c.m = vote(1, 2, 8);
	assert_true(run_until(f, has_any, ib, send_probe, &c));
	assert_int_equal(ib->term[0], 8);

	/* And the other direction works too. */
	assert_int_equal(srv_transport_set_peer(b, 1, f->addr[1], err, sizeof err), 0);
	struct sendctx back = {b, vote(2, 1, 9)};
	assert_true(run_until(f, has_any, ia, send_probe, &back));
	assert_int_equal(ia->from[0], 2);

	unsigned long long sent, dropped, received;
	srv_transport_stats(a, &sent, &dropped, &received);
	assert_true(sent >= 1002);
	srv_transport_free(a);
	srv_transport_free(b);
	free(ia);
	free(ib);
}

static void test_joining_node_learns_address(void **state)
{
	struct fx *f = *state;
	struct inbox *ib = calloc(1, sizeof *ib), *ic = calloc(1, sizeof *ic);
	struct srv_transport *b = make(f, 2, ib), *c = make(f, 3, ic);
	char err[256];
	/* n3 knows n2; n2 has never heard of n3 (n3 is joining). */
	assert_int_equal(srv_transport_set_peer(c, 2, f->addr[2], err, sizeof err), 0);
	struct sendctx s = {c, vote(3, 2, 1)};
	assert_true(run_until(f, has_any, ib, send_probe, &s));
	/* n2 learned n3's address from HELLO and can answer. */
	struct sendctx r = {b, vote(2, 3, 2)};
	assert_true(run_until(f, has_any, ic, send_probe, &r));
	assert_int_equal(ic->from[0], 2);
	srv_transport_free(b);
	srv_transport_free(c);
	free(ib);
	free(ic);
}

static int raw_connect(unsigned port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	return fd;
}

struct closed {
	int fd;
	int closed;
};
static int is_closed(void *arg)
{
	struct closed *c = arg;
	char buf[64];
	ssize_t k = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
	if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
		c->closed = 1;
	return c->closed;
}

static void test_malformed_input_closes_connection(void **state)
{
	struct fx *f = *state;
	struct inbox *ib = calloc(1, sizeof *ib);
	struct srv_transport *b = make(f, 2, ib);
	char err[256];
	/* 1: a frame over the cap. */
	int fd = raw_connect(f->port0 + 2);
	uint8_t big[4] = {0xff, 0xff, 0xff, 0x7f};
	assert_int_equal(write(fd, big, 4), 4);
	struct closed cl = {fd, 0};
	assert_true(run_until(f, is_closed, &cl, NULL, NULL));
	close(fd);
	/* 2: a message before HELLO. */
	fd = raw_connect(f->port0 + 2);
	struct srv_buf buf = {0};
	struct raft_msg m = vote(1, 2, 1);
	assert_int_equal(srv_wire_encode(&m, &buf, err, sizeof err), 0);
	assert_int_equal(write(fd, buf.p, buf.len), (ssize_t)buf.len);
	cl = (struct closed){fd, 0};
	assert_true(run_until(f, is_closed, &cl, NULL, NULL));
	close(fd);
	/* 3: HELLO meant for another node. */
	fd = raw_connect(f->port0 + 2);
	buf.len = 0;
	assert_int_equal(srv_wire_encode_hello(1, 5, "", &buf, err, sizeof err), 0);
	assert_int_equal(write(fd, buf.p, buf.len), (ssize_t)buf.len);
	cl = (struct closed){fd, 0};
	assert_true(run_until(f, is_closed, &cl, NULL, NULL));
	close(fd);
	/* 4: garbage after a good HELLO; the good message before it arrives. */
	fd = raw_connect(f->port0 + 2);
	buf.len = 0;
	assert_int_equal(srv_wire_encode_hello(1, 2, "", &buf, err, sizeof err), 0);
	assert_int_equal(srv_wire_encode(&m, &buf, err, sizeof err), 0);
	uint8_t junk[8] = {4, 0, 0, 0, 9, 9, 9, 9}; /* version 9 */
	assert_int_equal(srv_buf_append(&buf, junk, sizeof junk), 0);
	assert_int_equal(write(fd, buf.p, buf.len), (ssize_t)buf.len);
	cl = (struct closed){fd, 0};
	assert_true(run_until(f, is_closed, &cl, NULL, NULL));
	assert_int_equal(ib->n, 1);
	assert_int_equal(ib->type[0], RAFT_MSG_VOTE);
	close(fd);
	/* The transport still accepts good connections afterwards. */
	struct inbox *ia = calloc(1, sizeof *ia);
	struct srv_transport *a = make(f, 1, ia);
	assert_int_equal(srv_transport_set_peer(a, 2, f->addr[2], err, sizeof err), 0);
	struct sendctx s = {a, vote(1, 2, 42)};
	struct want w = {ib, 2};
	assert_true(run_until(f, has_n, &w, send_probe, &s));
	assert_int_equal(ib->term[1], 42);
	srv_buf_free(&buf);
	srv_transport_free(a);
	srv_transport_free(b);
	free(ia);
	free(ib);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_delivery_order_and_reconnect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_joining_node_learns_address, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_input_closes_connection, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
