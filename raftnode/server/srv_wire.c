/* srv_wire.c — encoder and strict decoder of the peer transport frames. */
#include "raftnode/server/srv_wire.h"

#include <stdlib.h>

/* ---- encoding --------------------------------------------------------- */

struct enc {
	struct srv_buf *b;
	int oom;
};

static void e_bytes(struct enc *e, const void *p, size_t n)
{
	if (!e->oom && srv_buf_append(e->b, p, n) != 0)
		e->oom = 1;
}
static void e_u8(struct enc *e, uint8_t v) { e_bytes(e, &v, 1); }
static void e_u16(struct enc *e, uint16_t v)
{
	uint8_t t[2];
	srv_put_u16(t, v);
	e_bytes(e, t, 2);
}
static void e_u32(struct enc *e, uint32_t v)
{
	uint8_t t[4];
	srv_put_u32(t, v);
	e_bytes(e, t, 4);
}
static void e_u64(struct enc *e, uint64_t v)
{
	uint8_t t[8];
	srv_put_u64(t, v);
	e_bytes(e, t, 8);
}

static int finish(struct enc *e, size_t start, char *err, size_t errlen)
{
	if (e->oom) {
		e->b->len = start;
		return srv_errf(err, errlen, "encode frame: out of memory");
	}
	size_t body = e->b->len - start - 4;
	if (body > SRV_WIRE_MAX_FRAME) {
		e->b->len = start;
		return srv_errf(err, errlen, "encode frame: body of %zu bytes exceeds the %u byte cap", body,
		                SRV_WIRE_MAX_FRAME);
	}
	srv_put_u32(e->b->p + start, (uint32_t)body);
	return 0;
}

int srv_wire_encode_hello(raft_id from, raft_id to, const char *addr, struct srv_buf *out, char *err,
                          size_t errlen)
{
	struct enc e = {out, 0};
	size_t start = out->len;
	size_t al = strlen(addr);
	if (al >= sizeof ((struct srv_wire_frame *)0)->hello.addr)
		return srv_errf(err, errlen, "hello: address too long");
	e_u32(&e, 0); /* length, patched in finish() */
	e_u8(&e, SRV_WIRE_VERSION);
	e_u8(&e, SRV_WIRE_HELLO);
	e_u64(&e, from);
	e_u64(&e, to);
	e_u16(&e, (uint16_t)al);
	e_bytes(&e, addr, al);
	return finish(&e, start, err, errlen);
}

int srv_wire_encode(const struct raft_msg *m, struct srv_buf *out, char *err, size_t errlen)
{
	struct enc e = {out, 0};
	size_t start = out->len;
	e_u32(&e, 0);
	e_u8(&e, SRV_WIRE_VERSION);
	e_u8(&e, m->type);
	e_u64(&e, m->from);
	e_u64(&e, m->to);
	e_u64(&e, m->term);
	switch (m->type) {
	case RAFT_MSG_VOTE:
		e_u64(&e, m->vote.last_log_index);
		e_u64(&e, m->vote.last_log_term);
		e_u8(&e, (uint8_t)((m->vote.pre_vote ? 1 : 0) | (m->vote.transfer ? 2 : 0)));
		break;
	case RAFT_MSG_VOTE_RESULT:
		e_u8(&e, (uint8_t)((m->vote_result.granted ? 1 : 0) | (m->vote_result.pre_vote ? 2 : 0)));
		break;
	case RAFT_MSG_APPEND:
		e_u64(&e, m->append.prev_index);
		e_u64(&e, m->append.prev_term);
		e_u64(&e, m->append.commit);
		e_u64(&e, m->append.heartbeat_seq);
		e_u32(&e, m->append.n_entries);
		for (unsigned i = 0; i < m->append.n_entries; i++) {
			const struct raft_entry *en = &m->append.entries[i];
			if (en->buf.len > UINT32_MAX) {
				out->len = start;
				return srv_errf(err, errlen, "encode append: entry %u too large", i);
			}
			e_u64(&e, en->term);
			e_u8(&e, en->type);
			e_u32(&e, (uint32_t)en->buf.len);
			e_bytes(&e, en->buf.base, en->buf.len);
		}
		break;
	case RAFT_MSG_APPEND_RESULT:
		e_u8(&e, m->append_result.success ? 1 : 0);
		e_u64(&e, m->append_result.last_index);
		e_u64(&e, m->append_result.rejected);
		e_u64(&e, m->append_result.conflict_index);
		e_u64(&e, m->append_result.conflict_term);
		e_u64(&e, m->append_result.heartbeat_seq);
		break;
	case RAFT_MSG_SNAPSHOT: {
		e_u64(&e, m->snapshot.last_index);
		e_u64(&e, m->snapshot.last_term);
		e_u64(&e, m->snapshot.config_index);
		size_t at = out->len;
		e_u32(&e, 0); /* config length, patched below */
		if (e.oom)
			break;
		if (srv_wire_config_encode(&m->snapshot.config, out, err, errlen) != 0) {
			out->len = start;
			return srv_err_ctx(err, errlen, "encode snapshot");
		}
		srv_put_u32(out->p + at, (uint32_t)(out->len - at - 4));
		if (m->snapshot.data.len > UINT32_MAX) {
			out->len = start;
			return srv_errf(err, errlen, "encode snapshot: data too large");
		}
		e_u32(&e, (uint32_t)m->snapshot.data.len);
		e_bytes(&e, m->snapshot.data.base, m->snapshot.data.len);
		break;
	}
	case RAFT_MSG_TIMEOUT_NOW:
		break;
	default:
		out->len = start;
		return srv_errf(err, errlen, "encode: unknown message type %u", m->type);
	}
	return finish(&e, start, err, errlen);
}

/* ---- decoding --------------------------------------------------------- */

int srv_wire_peek(const uint8_t *p, size_t avail, size_t *frame_len, char *err, size_t errlen)
{
	if (avail < 4)
		return 0;
	uint32_t body = srv_get_u32(p);
	if (body < 2)
		return srv_errf(err, errlen, "frame: body length %u is shorter than its header", body);
	if (body > SRV_WIRE_MAX_FRAME)
		return srv_errf(err, errlen, "frame: body length %u exceeds the %u byte cap", body,
		                SRV_WIRE_MAX_FRAME);
	if (avail - 4 < body)
		return 0;
	*frame_len = 4 + (size_t)body;
	return 1;
}

/* A bounds-checked reader: the first failed read records which field it was
 * and every later read is a no-op, so decoders read straight through and
 * check once. */
struct dec {
	const uint8_t *p;
	size_t len, off;
	const char *bad; /* first field that did not fit */
};

static int d_need(struct dec *d, size_t n, const char *field)
{
	if (d->bad)
		return 0;
	if (d->len - d->off < n) {
		d->bad = field;
		return 0;
	}
	return 1;
}
static uint8_t d_u8(struct dec *d, const char *f)
{
	if (!d_need(d, 1, f))
		return 0;
	return d->p[d->off++];
}
static uint16_t d_u16(struct dec *d, const char *f)
{
	if (!d_need(d, 2, f))
		return 0;
	uint16_t v = srv_get_u16(d->p + d->off);
	d->off += 2;
	return v;
}
static uint32_t d_u32(struct dec *d, const char *f)
{
	if (!d_need(d, 4, f))
		return 0;
	uint32_t v = srv_get_u32(d->p + d->off);
	d->off += 4;
	return v;
}
static uint64_t d_u64(struct dec *d, const char *f)
{
	if (!d_need(d, 8, f))
		return 0;
	uint64_t v = srv_get_u64(d->p + d->off);
	d->off += 8;
	return v;
}
static const uint8_t *d_bytes(struct dec *d, size_t n, const char *f)
{
	if (!d_need(d, n, f))
		return NULL;
	const uint8_t *p = d->p + d->off;
	d->off += n;
	return p;
}

int srv_wire_config_decode(const uint8_t *p, size_t len, struct raft_config *c, char *err, size_t errlen)
{
	struct dec d = {p, len, 0, NULL};
	memset(c, 0, sizeof *c);
	uint32_t n = d_u32(&d, "config.n");
	if (d.bad)
		return srv_errf(err, errlen, "config: truncated at field %s", d.bad);
	/* A server takes at least 11 bytes: check before allocating. */
	if (n == 0 || n > (d.len - d.off) / 11)
		return srv_errf(err, errlen, "config: %u servers cannot fit in %zu bytes", n, d.len - d.off);
	c->servers = calloc(n, sizeof *c->servers);
	if (!c->servers)
		return srv_errf(err, errlen, "config: out of memory");
	c->n = n;
	for (uint32_t i = 0; i < n; i++) {
		struct raft_server *s = &c->servers[i];
		s->id = d_u64(&d, "server.id");
		s->role = d_u8(&d, "server.role");
		uint16_t al = d_u16(&d, "server.address_length");
		const uint8_t *a = d_bytes(&d, al, "server.address");
		if (d.bad)
			break;
		const char *why = NULL;
		if (s->id == 0)
			why = "id 0";
		else if (s->role != RAFT_VOTER && s->role != RAFT_LEARNER)
			why = "unknown role";
		else if (al >= RAFT_ADDR_MAX)
			why = "address too long";
		else if (memchr(a, 0, al))
			why = "NUL in address";
		for (uint32_t j = 0; j < i && !why; j++)
			if (c->servers[j].id == s->id)
				why = "duplicate id";
		if (why) {
			free(c->servers);
			memset(c, 0, sizeof *c);
			return srv_errf(err, errlen, "config: server %u: %s", i, why);
		}
		memcpy(s->address, a, al);
		s->address[al] = 0;
	}
	if (d.bad || d.off != d.len) {
		free(c->servers);
		memset(c, 0, sizeof *c);
		if (d.bad)
			return srv_errf(err, errlen, "config: truncated at field %s", d.bad);
		return srv_errf(err, errlen, "config: %zu trailing bytes", len - d.off);
	}
	return 0;
}

int srv_wire_config_encode(const struct raft_config *c, struct srv_buf *out, char *err, size_t errlen)
{
	struct enc e = {out, 0};
	size_t start = out->len;
	e_u32(&e, c->n);
	for (unsigned i = 0; i < c->n; i++) {
		size_t al = strnlen(c->servers[i].address, RAFT_ADDR_MAX);
		if (al >= RAFT_ADDR_MAX) {
			out->len = start;
			return srv_errf(err, errlen, "config: server %u address not terminated", i);
		}
		e_u64(&e, c->servers[i].id);
		e_u8(&e, c->servers[i].role);
		e_u16(&e, (uint16_t)al);
		e_bytes(&e, c->servers[i].address, al);
	}
	if (e.oom) {
		out->len = start;
		return srv_errf(err, errlen, "config: out of memory");
	}
	return 0;
}

void srv_wire_frame_free(struct srv_wire_frame *f)
{
	if (f->type == RAFT_MSG_APPEND) {
		free(f->msg.append.entries);
		f->msg.append.entries = NULL;
	} else if (f->type == RAFT_MSG_SNAPSHOT) {
		free(f->msg.snapshot.config.servers);
		f->msg.snapshot.config.servers = NULL;
	}
}

static const char *msg_name(uint8_t t)
{
	static const char *const names[] = {"?", "vote", "vote_result", "append", "append_result",
	                                    "snapshot", "timeout_now"};
	return t < sizeof names / sizeof names[0] ? names[t] : "?";
}

int srv_wire_decode(const uint8_t *body, size_t len, struct srv_wire_frame *out, char *err, size_t errlen)
{
	struct dec d = {body, len, 0, NULL};
	memset(out, 0, sizeof *out);
	uint8_t ver = d_u8(&d, "version");
	uint8_t type = d_u8(&d, "type");
	if (d.bad)
		return srv_errf(err, errlen, "frame: truncated header");
	if (ver != SRV_WIRE_VERSION)
		return srv_errf(err, errlen, "frame: unsupported version %u (this node speaks %u)", ver,
		                SRV_WIRE_VERSION);
	struct raft_msg *m = &out->msg;
	if (type == SRV_WIRE_HELLO) {
		out->type = type;
		out->hello.from = d_u64(&d, "hello.from");
		out->hello.to = d_u64(&d, "hello.to");
		uint16_t al = d_u16(&d, "hello.address_length");
		const uint8_t *a = d_bytes(&d, al, "hello.address");
		if (!d.bad && out->hello.from == 0)
			return srv_errf(err, errlen, "hello: sender id 0");
		if (!d.bad && (al >= sizeof out->hello.addr || memchr(a, 0, al)))
			return srv_errf(err, errlen, "hello: bad address (%u bytes)", al);
		if (!d.bad) {
			memcpy(out->hello.addr, a, al);
			out->hello.addr[al] = 0;
		}
		goto done;
	}
	if (type < RAFT_MSG_VOTE || type > RAFT_MSG_TIMEOUT_NOW)
		return srv_errf(err, errlen, "frame: unknown type %u", type);
	m->type = type;
	out->type = type; /* so srv_wire_frame_free knows what to release on failure */
	m->from = d_u64(&d, "from");
	m->to = d_u64(&d, "to");
	m->term = d_u64(&d, "term");
	if (!d.bad && (m->from == 0 || m->to == 0))
		return srv_errf(err, errlen, "%s: server id 0 in from/to", msg_name(type));
	switch (type) {
	case RAFT_MSG_VOTE: {
		m->vote.last_log_index = d_u64(&d, "vote.last_log_index");
		m->vote.last_log_term = d_u64(&d, "vote.last_log_term");
		uint8_t fl = d_u8(&d, "vote.flags");
		if (fl & ~3u)
			return srv_errf(err, errlen, "vote: unknown flag bits 0x%02x", fl);
		m->vote.pre_vote = fl & 1;
		m->vote.transfer = (fl & 2) != 0;
		break;
	}
	case RAFT_MSG_VOTE_RESULT: {
		uint8_t fl = d_u8(&d, "vote_result.flags");
		if (fl & ~3u)
			return srv_errf(err, errlen, "vote_result: unknown flag bits 0x%02x", fl);
		m->vote_result.granted = fl & 1;
		m->vote_result.pre_vote = (fl & 2) != 0;
		break;
	}
	case RAFT_MSG_APPEND: {
		m->append.prev_index = d_u64(&d, "append.prev_index");
		m->append.prev_term = d_u64(&d, "append.prev_term");
		m->append.commit = d_u64(&d, "append.commit");
		m->append.heartbeat_seq = d_u64(&d, "append.heartbeat_seq");
		uint32_t n = d_u32(&d, "append.n_entries");
		if (d.bad)
			break;
		/* Every entry takes at least 13 bytes: refuse counts the frame
		 * cannot hold before allocating for them. */
		if (n > (d.len - d.off) / 13)
			return srv_errf(err, errlen, "append: %u entries cannot fit in %zu bytes", n, d.len - d.off);
		if (n) {
			m->append.entries = calloc(n, sizeof *m->append.entries);
			if (!m->append.entries)
				return srv_errf(err, errlen, "append: out of memory");
		}
		m->append.n_entries = n;
		for (uint32_t i = 0; i < n && !d.bad; i++) {
			struct raft_entry *en = &m->append.entries[i];
			en->term = d_u64(&d, "entry.term");
			en->type = d_u8(&d, "entry.type");
			uint32_t el = d_u32(&d, "entry.length");
			en->buf.base = (void *)d_bytes(&d, el, "entry.data");
			en->buf.len = el;
			if (!d.bad && (en->type < RAFT_ENTRY_COMMAND || en->type > RAFT_ENTRY_CONFIG)) {
				uint8_t bad_type = en->type; /* en dies with the array */
				srv_wire_frame_free(out);
				return srv_errf(err, errlen, "append: entry %u has unknown type %u", i, bad_type);
			}
			if (!d.bad && en->term == 0) {
				srv_wire_frame_free(out);
				return srv_errf(err, errlen, "append: entry %u has term 0", i);
			}
		}
		break;
	}
	case RAFT_MSG_APPEND_RESULT: {
		uint8_t fl = d_u8(&d, "append_result.flags");
		if (fl & ~1u)
			return srv_errf(err, errlen, "append_result: unknown flag bits 0x%02x", fl);
		m->append_result.success = fl & 1;
		m->append_result.last_index = d_u64(&d, "append_result.last_index");
		m->append_result.rejected = d_u64(&d, "append_result.rejected");
		m->append_result.conflict_index = d_u64(&d, "append_result.conflict_index");
		m->append_result.conflict_term = d_u64(&d, "append_result.conflict_term");
		m->append_result.heartbeat_seq = d_u64(&d, "append_result.heartbeat_seq");
		break;
	}
	case RAFT_MSG_SNAPSHOT: {
		m->snapshot.last_index = d_u64(&d, "snapshot.last_index");
		m->snapshot.last_term = d_u64(&d, "snapshot.last_term");
		m->snapshot.config_index = d_u64(&d, "snapshot.config_index");
		uint32_t cl = d_u32(&d, "snapshot.config_length");
		const uint8_t *cp = d_bytes(&d, cl, "snapshot.config");
		if (d.bad)
			break;
		if (srv_wire_config_decode(cp, cl, &m->snapshot.config, err, errlen) != 0)
			return srv_err_ctx(err, errlen, "snapshot");
		uint32_t dl = d_u32(&d, "snapshot.data_length");
		m->snapshot.data.base = (void *)d_bytes(&d, dl, "snapshot.data");
		m->snapshot.data.len = dl;
		break;
	}
	case RAFT_MSG_TIMEOUT_NOW:
		break;
	}
done:
	if (d.bad) {
		srv_wire_frame_free(out);
		return srv_errf(err, errlen, "%s: truncated at field %s (offset %zu of %zu)",
		                type == SRV_WIRE_HELLO ? "hello" : msg_name(type), d.bad, d.off, d.len);
	}
	if (d.off != d.len) {
		srv_wire_frame_free(out);
		return srv_errf(err, errlen, "%s: %zu trailing bytes", type == SRV_WIRE_HELLO ? "hello" : msg_name(type),
		                d.len - d.off);
	}
	return 0;
}
