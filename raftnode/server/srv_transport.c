/* srv_transport.c — peer TCP connections with bufferevents, framing,
 * reconnect with backoff. */
#include "raftnode/server/srv_transport.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "raftnode/server/srv_log.h"
#include "raftnode/server/srv_util.h"
#include "raftnode/server/srv_wire.h"

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 1000
#define SEND_QUEUE_CAP (16u << 20) /* bytes queued to one peer before we drop */
/* A partition that drops packets silently leaves a TCP connection looking
 * alive for many minutes while our frames pile up in it. The kernel aborts
 * a connection whose data stays unacknowledged this long (and probes idle
 * ones), so we reconnect instead of delivering a backlog of stale frames
 * after the heal. */
#define TCP_STALL_MS 5000

struct peer {
	struct srv_transport *t;
	raft_id id;
	char addr[64];
	struct sockaddr_storage sa;
	int salen;
	struct bufferevent *bev; /* NULL when disconnected */
	int connected;
	unsigned backoff_ms;
	struct event *redial;
	struct peer *next;
};

struct inbound {
	struct srv_transport *t;
	struct bufferevent *bev;
	raft_id from; /* from HELLO; 0 until then */
	char name[64];
	struct inbound *prev, *next;
};

struct srv_transport {
	struct event_base *base;
	raft_id self;
	char advertise[64];
	struct evconnlistener *listener;
	srv_transport_recv_fn recv;
	void *ud;
	struct peer *peers;
	struct inbound *inbound;
	struct srv_buf scratch; /* frame encoding buffer, reused */
	unsigned long long sent, dropped, received;
};

/* The one place where connection objects are made (TLS goes here). */
static struct bufferevent *transport_bev(struct srv_transport *t, evutil_socket_t fd)
{
	return bufferevent_socket_new(t->base, fd, BEV_OPT_CLOSE_ON_FREE);
}

static void tune_socket(evutil_socket_t fd)
{
	int one = 1, idle = 2, intvl = 1, cnt = 3;
	unsigned stall = TCP_STALL_MS;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &stall, sizeof stall);
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

static int parse_addr(const char *addr, struct sockaddr_storage *sa, int *salen)
{
	*salen = (int)sizeof *sa;
	memset(sa, 0, sizeof *sa);
	return evutil_parse_sockaddr_port(addr, (struct sockaddr *)sa, salen);
}

/* ---- outbound ----------------------------------------------------------- */

static void peer_dial(struct peer *p);

static void peer_down(struct peer *p, const char *why)
{
	if (p->bev) {
		bufferevent_free(p->bev);
		p->bev = NULL;
	}
	if (p->connected)
		SRV_INFO("peer n%" PRIu64 " (%s): connection lost: %s", p->id, p->addr, why);
	else
		SRV_DEBUG("peer n%" PRIu64 " (%s): connect failed: %s", p->id, p->addr, why);
	p->connected = 0;
	struct timeval tv = {p->backoff_ms / 1000, (p->backoff_ms % 1000) * 1000};
	event_add(p->redial, &tv);
	p->backoff_ms = p->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : p->backoff_ms * 2;
}

static void peer_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct peer *p = arg;
	if (what & BEV_EVENT_CONNECTED) {
		char err[256];
		struct srv_transport *t = p->t;
		tune_socket(bufferevent_getfd(bev));
		bufferevent_set_timeouts(bev, NULL, NULL); /* connected: the kernel watches stalls */
		t->scratch.len = 0;
		if (srv_wire_encode_hello(t->self, p->id, t->advertise, &t->scratch, err, sizeof err) == 0)
			bufferevent_write(bev, t->scratch.p, t->scratch.len);
		p->connected = 1;
		p->backoff_ms = BACKOFF_MIN_MS;
		SRV_INFO("peer n%" PRIu64 " (%s): connected", p->id, p->addr);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		peer_down(p, "connect timed out");
	} else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		int e = EVUTIL_SOCKET_ERROR();
		peer_down(p, (what & BEV_EVENT_EOF) ? "closed by peer" : evutil_socket_error_to_string(e));
	}
}

static void peer_read_cb(struct bufferevent *bev, void *arg)
{
	/* Nothing is expected on an outbound connection; reading lets us
	 * notice when the peer closes it. */
	evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
}

static void peer_redial_cb(evutil_socket_t fd, short what, void *arg)
{
	peer_dial(arg);
}

static void peer_dial(struct peer *p)
{
	if (p->bev)
		return;
	p->bev = transport_bev(p->t, -1);
	if (!p->bev) {
		peer_down(p, "out of memory");
		return;
	}
	bufferevent_setcb(p->bev, peer_read_cb, NULL, peer_event_cb, p);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
	/* Bound the connect: SYNs into a silent partition would otherwise be
	 * retried by the kernel for minutes, long after the heal. */
	struct timeval ct = {1, 0};
	bufferevent_set_timeouts(p->bev, NULL, &ct);
	if (bufferevent_socket_connect(p->bev, (struct sockaddr *)&p->sa, p->salen) != 0)
		peer_down(p, "connect failed");
}

static struct peer *find_peer(struct srv_transport *t, raft_id id)
{
	for (struct peer *p = t->peers; p; p = p->next)
		if (p->id == id)
			return p;
	return NULL;
}

int srv_transport_set_peer(struct srv_transport *t, raft_id id, const char *addr, char *err, size_t errlen)
{
	if (id == t->self)
		return 0;
	struct peer *p = find_peer(t, id);
	if (p && strcmp(p->addr, addr) == 0)
		return 0;
	struct sockaddr_storage sa;
	int salen;
	if (strlen(addr) >= sizeof p->addr || parse_addr(addr, &sa, &salen) != 0)
		return srv_errf(err, errlen, "peer n%" PRIu64 ": bad address \"%s\" (want IP:PORT)", id, addr);
	if (!p) {
		p = calloc(1, sizeof *p);
		if (!p)
			return srv_errf(err, errlen, "out of memory");
		p->t = t;
		p->id = id;
		p->redial = evtimer_new(t->base, peer_redial_cb, p);
		if (!p->redial) {
			free(p);
			return srv_errf(err, errlen, "out of memory");
		}
		p->next = t->peers;
		t->peers = p;
	} else if (p->bev) {
		bufferevent_free(p->bev);
		p->bev = NULL;
		p->connected = 0;
	}
	strcpy(p->addr, addr);
	p->sa = sa;
	p->salen = salen;
	p->backoff_ms = BACKOFF_MIN_MS;
	event_del(p->redial);
	peer_dial(p);
	return 0;
}

static void peer_free(struct peer *p)
{
	if (p->bev)
		bufferevent_free(p->bev);
	event_free(p->redial);
	free(p);
}

void srv_transport_remove_peer(struct srv_transport *t, raft_id id)
{
	for (struct peer **pp = &t->peers; *pp; pp = &(*pp)->next)
		if ((*pp)->id == id) {
			struct peer *p = *pp;
			*pp = p->next;
			peer_free(p);
			return;
		}
}

void srv_transport_send(struct srv_transport *t, const struct raft_msg *m)
{
	struct peer *p = find_peer(t, m->to);
	if (!p || !p->connected || evbuffer_get_length(bufferevent_get_output(p->bev)) > SEND_QUEUE_CAP) {
		t->dropped++;
		return;
	}
	char err[256];
	t->scratch.len = 0;
	if (srv_wire_encode(m, &t->scratch, err, sizeof err) != 0) {
		SRV_WARN("send to n%" PRIu64 ": %s", m->to, err);
		t->dropped++;
		return;
	}
	if (bufferevent_write(p->bev, t->scratch.p, t->scratch.len) != 0) {
		t->dropped++;
		return;
	}
	/* Keep the scratch buffer from pinning a snapshot-sized allocation. */
	if (t->scratch.cap > (1u << 20))
		srv_buf_free(&t->scratch);
	t->sent++;
}

void srv_transport_flush(struct srv_transport *t)
{
	for (struct peer *p = t->peers; p; p = p->next) {
		if (!p->connected)
			continue;
		struct evbuffer *out = bufferevent_get_output(p->bev);
		if (evbuffer_get_length(out) == 0)
			continue;
		/* Non-blocking socket: writes what fits; the bufferevent sends the
		 * rest when the socket is writable again. Errors surface there. */
		evbuffer_write(out, bufferevent_getfd(p->bev));
	}
}

/* ---- inbound ------------------------------------------------------------ */

static void inbound_close(struct inbound *in, const char *why)
{
	struct srv_transport *t = in->t;
	if (why)
		SRV_INFO("inbound %s%s: closed: %s", in->name, in->from ? "" : " (before hello)", why);
	bufferevent_free(in->bev);
	if (in->prev)
		in->prev->next = in->next;
	else
		t->inbound = in->next;
	if (in->next)
		in->next->prev = in->prev;
	free(in);
}

static void inbound_read_cb(struct bufferevent *bev, void *arg)
{
	struct inbound *in = arg;
	struct srv_transport *t = in->t;
	struct evbuffer *ib = bufferevent_get_input(bev);
	char err[256];
	for (;;) {
		size_t avail = evbuffer_get_length(ib), flen;
		uint8_t *head = evbuffer_pullup(ib, avail < 4 ? (ev_ssize_t)avail : 4);
		int k = srv_wire_peek(head, avail, &flen, err, sizeof err);
		if (k < 0) {
			inbound_close(in, err);
			return;
		}
		if (k == 0)
			return;
		uint8_t *frame = evbuffer_pullup(ib, (ev_ssize_t)flen);
		if (!frame) {
			inbound_close(in, "out of memory");
			return;
		}
		struct srv_wire_frame f;
		if (srv_wire_decode(frame + 4, flen - 4, &f, err, sizeof err) != 0) {
			inbound_close(in, err);
			return;
		}
		if (f.type == SRV_WIRE_HELLO) {
			if (f.hello.to != t->self) {
				snprintf(err, sizeof err, "hello from n%" PRIu64 " meant for n%" PRIu64 ", this is n%" PRIu64,
				         f.hello.from, f.hello.to, t->self);
				inbound_close(in, err);
				return;
			}
			in->from = f.hello.from;
			if (!find_peer(t, in->from) && f.hello.addr[0]) {
				SRV_INFO("peer n%" PRIu64 " introduced itself at %s", in->from, f.hello.addr);
				if (srv_transport_set_peer(t, in->from, f.hello.addr, err, sizeof err) != 0)
					SRV_WARN("inbound %s: %s", in->name, err);
			}
		} else if (!in->from) {
			srv_wire_frame_free(&f);
			inbound_close(in, "message before hello");
			return;
		} else if (f.msg.to != t->self || f.msg.from != in->from) {
			SRV_WARN("inbound %s: dropped message n%" PRIu64 "->n%" PRIu64 " on the connection of n%" PRIu64,
			         in->name, f.msg.from, f.msg.to, in->from);
		} else {
			t->received++;
			t->recv(t->ud, &f.msg);
		}
		srv_wire_frame_free(&f);
		evbuffer_drain(ib, flen);
	}
}

static void inbound_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct inbound *in = arg;
	if (what & BEV_EVENT_EOF)
		inbound_close(in, NULL);
	else if (what & BEV_EVENT_ERROR)
		inbound_close(in, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct srv_transport *t = arg;
	struct inbound *in = calloc(1, sizeof *in);
	if (!in) {
		evutil_closesocket(fd);
		return;
	}
	tune_socket(fd);
	in->t = t;
	in->bev = transport_bev(t, fd);
	if (!in->bev) {
		evutil_closesocket(fd);
		free(in);
		return;
	}
	if (sa->sa_family == AF_INET) {
		char ip[INET_ADDRSTRLEN];
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		evutil_inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
		snprintf(in->name, sizeof in->name, "%s:%u", ip, ntohs(s4->sin_port));
	} else {
		snprintf(in->name, sizeof in->name, "fd %d", (int)fd);
	}
	in->next = t->inbound;
	if (t->inbound)
		t->inbound->prev = in;
	t->inbound = in;
	/* Read at most one frame cap ahead: a peer that floods us is slowed by
	 * TCP flow control instead of our memory. */
	bufferevent_setwatermark(in->bev, EV_READ, 0, SRV_WIRE_MAX_FRAME + 4);
	bufferevent_setcb(in->bev, inbound_read_cb, NULL, inbound_event_cb, in);
	bufferevent_enable(in->bev, EV_READ);
}

int srv_transport_new(struct srv_transport **out, struct event_base *base, raft_id self, const char *listen_addr,
                      const char *advertise, srv_transport_recv_fn recv, void *ud, char *err, size_t errlen)
{
	if (strlen(advertise) >= sizeof ((struct srv_transport *)0)->advertise)
		return srv_errf(err, errlen, "advertised peer address too long");
	struct sockaddr_storage sa;
	int salen;
	if (parse_addr(listen_addr, &sa, &salen) != 0)
		return srv_errf(err, errlen, "--listen-peer: bad address \"%s\" (want IP:PORT)", listen_addr);
	struct srv_transport *t = calloc(1, sizeof *t);
	if (!t)
		return srv_errf(err, errlen, "out of memory");
	t->base = base;
	t->self = self;
	strcpy(t->advertise, advertise);
	t->recv = recv;
	t->ud = ud;
	t->listener = evconnlistener_new_bind(base, accept_cb, t, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128,
	                                      (struct sockaddr *)&sa, salen);
	if (!t->listener) {
		int e = errno;
		free(t);
		return srv_errf(err, errlen, "listen on %s (peers): %s", listen_addr, strerror(e));
	}
	*out = t;
	return 0;
}

void srv_transport_free(struct srv_transport *t)
{
	if (!t)
		return;
	while (t->peers) {
		struct peer *p = t->peers;
		t->peers = p->next;
		peer_free(p);
	}
	while (t->inbound)
		inbound_close(t->inbound, NULL);
	if (t->listener)
		evconnlistener_free(t->listener);
	srv_buf_free(&t->scratch);
	free(t);
}

void srv_transport_stats(const struct srv_transport *t, unsigned long long *sent, unsigned long long *dropped,
                         unsigned long long *received)
{
	*sent = t->sent;
	*dropped = t->dropped;
	*received = t->received;
}
