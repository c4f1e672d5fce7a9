/* srv_node.c — the raftnode server: raft_io on top of the WAL, snapshots,
 * KV state machine and transport; the event loop with its group-commit
 * hook; startup recovery; membership changes. HTTP handlers: srv_http.c. */
#include "raftnode/server/srv_node.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "raftnode/server/srv_log.h"
#include "raftnode/server/srv_util.h"

#define HOUSEKEEPING_MS 20
#define MEMBER_OP_TIMEOUT_MS 60000

static struct srv_node *node_of(struct raft_io *io)
{
	return io->data;
}

void srv_node_fatal(struct srv_node *n, const char *what, const char *detail)
{
	SRV_ERROR("fatal: %s: %s", what, detail);
	n->exit_code = 1;
	n->stop = true;
	event_base_loopbreak(n->base);
}

int srv_node_split_address(const char *address, char *peer, size_t peerlen, char *client, size_t clientlen)
{
	const char *sp = strchr(address, ' ');
	if (!sp || (size_t)(sp - address) >= peerlen || strlen(sp + 1) >= clientlen)
		return -1;
	memcpy(peer, address, (size_t)(sp - address));
	peer[sp - address] = 0;
	strcpy(client, sp + 1);
	return 0;
}

int srv_node_client_addr(struct srv_node *n, raft_id id, char *out, size_t outlen)
{
	const struct raft_server *s = raft_config_get(raft_configuration(n->raft), id);
	char peer[RAFT_ADDR_MAX];
	if (s && srv_node_split_address(s->address, peer, sizeof peer, out, outlen) == 0)
		return 0;
	/* Not (yet) in the configuration we know: fall back to --peers. */
	for (unsigned i = 0; i < n->flags->n_peers; i++)
		if (n->flags->peers[i].id == id && strlen(n->flags->peers[i].client_addr) < outlen) {
			strcpy(out, n->flags->peers[i].client_addr);
			return 0;
		}
	return -1;
}

/* ---- raft_io ---------------------------------------------------------------- */

static uint64_t io_now(struct raft_io *io)
{
	return srv_now_ms();
}

static uint64_t io_random(struct raft_io *io)
{
	/* xorshift64*: seeded from getrandom at startup; the core only needs
	 * election jitter, not cryptographic quality. */
	struct srv_node *n = node_of(io);
	uint64_t x = n->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	n->rng = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static void io_send(struct raft_io *io, const struct raft_msg *m)
{
	srv_transport_send(node_of(io)->transport, m);
}

static int io_persist_vote(struct raft_io *io, raft_term term, raft_id vote)
{
	struct srv_node *n = node_of(io);
	char err[512];
	if (srv_wal_set_vote(n->wal, term, vote, err, sizeof err) != 0) {
		srv_node_fatal(n, "persist term/vote", err);
		return -1;
	}
	/* That sync also made every buffered entry durable; after_iteration
	 * reports it to the core (not from inside this callback). */
	n->durable_term = n->wal_last_term;
	return 0;
}

static int io_append(struct raft_io *io, raft_index first, const struct raft_entry *e, unsigned cnt)
{
	struct srv_node *n = node_of(io);
	char err[512];
	if (srv_wal_append(n->wal, first, e, cnt, err, sizeof err) != 0) {
		srv_node_fatal(n, "wal append", err);
		return -1;
	}
	for (unsigned i = 0; i < cnt; i++)
		if (e[i].type == RAFT_ENTRY_CONFIG)
			n->config_dirty = true;
	if (cnt)
		n->wal_last_term = e[cnt - 1].term;
	return 0;
}

static void reply_lost(struct srv_pending *p)
{
	srv_http_reply_error(p->req, 500, "unknown");
}

static void pending_remove(struct srv_node *n, struct srv_pending *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		n->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
	n->n_pending--;
	free(p);
}

static void io_apply(struct raft_io *io, raft_index index, const struct raft_entry *e)
{
	struct srv_node *n = node_of(io);
	n->applied = index;
	uint64_t reqid = 0;
	struct srv_kv_result res = {0};
	if (e->type == RAFT_ENTRY_COMMAND) {
		srv_kv_apply(n->kv, e->buf.base, e->buf.len, &reqid, &res);
		n->stat_applied_cmds++;
		if (res.status == SRV_KV_BAD_COMMAND)
			SRV_WARN("entry %" PRIu64 ": undecodable command ignored", index);
	} else if (e->type == RAFT_ENTRY_CONFIG) {
		n->config_dirty = true;
	}
	/* Answer our own proposal at this index, or learn that it was lost:
	 * a different entry committed at its index means it never will be. */
	struct srv_pending *p = n->pending, *next;
	for (; p; p = next) {
		next = p->next;
		if (reqid && p->reqid == reqid) {
			switch (res.status) {
			case SRV_KV_OK: {
				srv_http_reply(p->req, 200, json_pack("{s:b}", "ok", 1));
				break;
			}
			case SRV_KV_NOT_FOUND: srv_http_reply_error(p->req, 404, "not_found"); break;
			case SRV_KV_MISMATCH:
				srv_http_reply(p->req, 412,
				               json_pack("{s:s,s:O}", "error", "precondition_failed", "actual", res.actual));
				break;
			default: srv_http_reply_error(p->req, 500, "bad_command"); break;
			}
			pending_remove(n, p);
		} else if (p->index <= index) {
			reply_lost(p);
			pending_remove(n, p);
		}
	}
	json_decref(res.actual);
}

static int io_install_snapshot(struct raft_io *io, const struct raft_snapshot_meta *meta, const struct raft_buf *data)
{
	struct srv_node *n = node_of(io);
	char err[512];
	if (srv_snap_save(n->snap_dir, meta, data->base, data->len, n->flags->fsync, err, sizeof err) != 0) {
		srv_node_fatal(n, "install snapshot", err);
		return -1;
	}
	if (srv_kv_restore(n->kv, data->base, data->len, err, sizeof err) != 0) {
		srv_node_fatal(n, "install snapshot: state machine", err);
		return -1;
	}
	raft_index durable;
	/* Appends not yet handed to a sync may belong to another branch: they
	 * must never reach the file after the snapshot (raft.h). */
	srv_wal_discard_pending(n->wal);
	if (srv_wal_reset(n->wal, meta->last_index, meta->last_term, err, sizeof err) != 0 ||
	    srv_wal_sync(n->wal, &durable, err, sizeof err) != 0) {
		srv_node_fatal(n, "install snapshot: wal", err);
		return -1;
	}
	n->wal_last_term = n->durable_term = meta->last_term;
	/* Keep it in memory too: we may have to send it on as leader. */
	struct srv_snap s = {0};
	s.meta = *meta;
	s.meta.config.servers = NULL;
	s.data = malloc(data->len ? data->len : 1);
	if (!s.data || raft_config_copy(&meta->config, &s.meta.config) != 0) {
		free(s.data);
		srv_node_fatal(n, "install snapshot", "out of memory");
		return -1;
	}
	memcpy(s.data, data->base, data->len);
	s.len = data->len;
	if (n->have_snap)
		srv_snap_free(&n->snap);
	n->snap = s;
	n->have_snap = true;
	n->applied = meta->last_index;
	n->config_dirty = true;
	if (srv_wal_compact(n->wal, meta->last_index - 1, err, sizeof err) != 0)
		SRV_WARN("compact wal after snapshot install: %s", err);
	/* Our proposals at or below it: their fate is unknown to us now. */
	struct srv_pending *p = n->pending, *next;
	for (; p; p = next) {
		next = p->next;
		if (p->index <= meta->last_index) {
			reply_lost(p);
			pending_remove(n, p);
		}
	}
	SRV_INFO("installed snapshot from the leader: last index %" PRIu64 " term %" PRIu64 ", %zu bytes",
	         meta->last_index, meta->last_term, data->len);
	return 0;
}

static int io_load_snapshot(struct raft_io *io, struct raft_snapshot_meta *meta, struct raft_buf *data)
{
	struct srv_node *n = node_of(io);
	if (!n->have_snap)
		return -1;
	*meta = n->snap.meta;
	data->base = n->snap.data;
	data->len = n->snap.len;
	return 0;
}

static void batch_fail(struct srv_node *n, struct srv_read_batch *b, int code, const char *error)
{
	while (b->reads) {
		struct srv_read *r = b->reads;
		b->reads = r->next;
		srv_http_reply_error(r->req, code, error);
		free(r->key);
		free(r);
	}
	if (b->prev)
		b->prev->next = b->next;
	else
		n->batches = b->next;
	if (b->next)
		b->next->prev = b->prev;
	free(b);
}

static void io_read_done(struct raft_io *io, uint64_t ctx, raft_index read_index, bool ok)
{
	struct srv_node *n = node_of(io);
	for (struct srv_read_batch *b = n->batches; b; b = b->next)
		if (b->ctx == ctx) {
			if (!ok) {
				/* Reads change nothing: refusing one is always safe. */
				batch_fail(n, b, 503, "not_leader");
			} else {
				b->confirmed = true;
				b->read_index = read_index;
			}
			return;
		}
}

static void io_state_changed(struct raft_io *io)
{
	struct srv_node *n = node_of(io);
	int role = raft_role(n->raft);
	raft_term term = raft_current_term(n->raft);
	raft_id leader = raft_leader(n->raft);
	if (role != n->last_role || term != n->last_term_seen || leader != n->last_leader) {
		if (role != n->last_role && role == RAFT_CANDIDATE)
			SRV_INFO("election: campaigning in term %" PRIu64, term);
		if (leader != n->last_leader || role != n->last_role) {
			char l[32] = "none";
			if (leader)
				snprintf(l, sizeof l, "n%" PRIu64, leader);
			SRV_INFO("role %s, term %" PRIu64 ", leader %s", raft_is_learner(n->raft) ? "learner" : raft_role_name(role),
			         term, l);
		}
		n->last_role = role;
		n->last_term_seen = term;
		n->last_leader = leader;
	}
}

/* ---- pending operations --------------------------------------------------------- */

uint64_t srv_node_new_reqid(struct srv_node *n)
{
	return n->reqid_base + ++n->reqid_seq;
}

int srv_node_add_pending(struct srv_node *n, struct evhttp_request *req, uint64_t reqid, raft_index index,
                         raft_term term)
{
	struct srv_pending *p = calloc(1, sizeof *p);
	if (!p)
		return -1;
	p->reqid = reqid;
	p->index = index;
	p->term = term;
	p->req = req;
	p->deadline = srv_now_ms() + n->flags->request_timeout_ms;
	p->next = n->pending;
	if (n->pending)
		n->pending->prev = p;
	n->pending = p;
	n->n_pending++;
	return 0;
}

void srv_node_queue_read(struct srv_node *n, struct evhttp_request *req, char *key)
{
	struct srv_read *r = calloc(1, sizeof *r);
	if (!r) {
		free(key);
		srv_http_reply_error(req, 500, "out_of_memory");
		return;
	}
	r->req = req;
	r->key = key;
	*n->read_tail = r;
	n->read_tail = &r->next;
}

void srv_node_serve_read(struct srv_node *n, struct evhttp_request *req, const char *key)
{
	json_t *v = srv_kv_get(n->kv, key);
	if (!v)
		srv_http_reply_error(req, 404, "not_found");
	else
		srv_http_reply(req, 200, json_pack("{s:O}", "value", v));
}

/* One ReadIndex round for every read queued during this iteration. */
static void issue_reads(struct srv_node *n)
{
	if (!n->read_queue)
		return;
	struct srv_read_batch *b = calloc(1, sizeof *b);
	if (!b)
		return; /* retried next iteration */
	b->ctx = ++n->read_seq;
	b->reads = n->read_queue;
	b->deadline = srv_now_ms() + n->flags->request_timeout_ms;
	n->read_queue = NULL;
	n->read_tail = &n->read_queue;
	b->next = n->batches;
	if (n->batches)
		n->batches->prev = b;
	n->batches = b;
	int rc = raft_read_index(n->raft, b->ctx);
	if (rc != 0)
		batch_fail(n, b, rc == RAFT_ENOTLEADER ? 503 : 500, rc == RAFT_ENOTLEADER ? "not_leader" : "unknown");
}

static void serve_confirmed_reads(struct srv_node *n)
{
	struct srv_read_batch *b = n->batches, *next;
	for (; b; b = next) {
		next = b->next;
		if (!b->confirmed || b->read_index > n->applied)
			continue;
		while (b->reads) {
			struct srv_read *r = b->reads;
			b->reads = r->next;
			srv_node_serve_read(n, r->req, r->key);
			free(r->key);
			free(r);
		}
		batch_fail(n, b, 0, NULL); /* now empty: just unlinks */
	}
}

/* ---- configuration → transport ------------------------------------------- */

static void sync_peers(struct srv_node *n)
{
	n->config_dirty = false;
	const struct raft_config *c = raft_configuration(n->raft);
	for (unsigned i = 0; c && i < c->n; i++) {
		char peer[RAFT_ADDR_MAX], client[RAFT_ADDR_MAX], err[256];
		if (c->servers[i].id == raft_id_of(n->raft))
			continue;
		if (srv_node_split_address(c->servers[i].address, peer, sizeof peer, client, sizeof client) != 0) {
			SRV_WARN("configuration: server n%" PRIu64 " has a malformed address \"%s\"", c->servers[i].id,
			         c->servers[i].address);
			continue;
		}
		if (srv_transport_set_peer(n->transport, c->servers[i].id, peer, err, sizeof err) != 0)
			SRV_WARN("configuration: %s", err);
	}
}

/* ---- snapshots --------------------------------------------------------------- */

static void maybe_snapshot(struct srv_node *n)
{
	raft_index base = n->have_snap ? n->snap.meta.last_index : 0;
	if (n->applied < base + n->flags->snapshot_threshold || n->applied == n->snap_failed_at)
		return;
	char err[512];
	struct srv_snap s = {0};
	raft_index idx = n->applied;
	int rc = raft_snapshot_meta_at(n->raft, idx, &s.meta);
	if (rc != 0) {
		/* Not retried until more is applied: no log line per iteration. */
		n->snap_failed_at = idx;
		SRV_WARN("snapshot at %" PRIu64 ": %s", idx, raft_strerror(rc));
		return;
	}
	char *data;
	size_t len;
	if (srv_kv_dump(n->kv, &data, &len, err, sizeof err) != 0) {
		n->snap_failed_at = idx;
		raft_config_free(&s.meta.config);
		SRV_WARN("snapshot at %" PRIu64 ": %s", idx, err);
		return;
	}
	s.data = (uint8_t *)data;
	s.len = len;
	uint64_t t0 = srv_now_ms();
	if (srv_snap_save(n->snap_dir, &s.meta, s.data, s.len, n->flags->fsync, err, sizeof err) != 0) {
		srv_snap_free(&s);
		srv_node_fatal(n, "save snapshot", err);
		return;
	}
	if (n->have_snap)
		srv_snap_free(&n->snap);
	n->snap = s;
	n->have_snap = true;
	/* Keep some entries behind the snapshot so slightly lagging followers
	 * get entries instead of a whole snapshot. */
	unsigned trailing = n->flags->snapshot_threshold / 2;
	if (trailing > 5000)
		trailing = 5000;
	rc = raft_snapshot_taken(n->raft, idx, trailing);
	if (rc != 0)
		SRV_WARN("raft_snapshot_taken(%" PRIu64 "): %s", idx, raft_strerror(rc));
	if (srv_wal_compact(n->wal, idx - 1, err, sizeof err) != 0)
		SRV_WARN("compact wal: %s", err);
	SRV_INFO("snapshot at index %" PRIu64 " (%zu keys, %zu bytes) in %" PRIu64 " ms; wal segments now %u", idx,
	         srv_kv_size(n->kv), len, srv_now_ms() - t0, srv_wal_segments(n->wal));
}

/* ---- membership -------------------------------------------------------------- */

static void mop_finish(struct srv_node *n, int code, const char *error)
{
	if (error)
		srv_http_reply_error(n->mop->req, code, error);
	else
		srv_http_reply(n->mop->req, code, json_pack("{s:b}", "ok", 1));
	free(n->mop);
	n->mop = NULL;
}

static void member_step(struct srv_node *n)
{
	struct srv_member_op *m = n->mop;
	if (!m)
		return;
	if (srv_now_ms() > m->deadline) {
		SRV_WARN("membership change for n%" PRIu64 " timed out", m->id);
		mop_finish(n, 504, "timeout");
		return;
	}
	if ((m->phase == SRV_MOP_WAIT_PROMOTE || m->phase == SRV_MOP_REMOVE) && m->index &&
	    raft_commit_index(n->raft) >= m->index && raft_term_at(n->raft, m->index) == m->term) {
		/* Committed: done, even if we are no longer leader (a leader that
		 * removed itself steps down once the removal commits, §4.2.2). */
		SRV_INFO("membership: n%" PRIu64 " %s", m->id, m->phase == SRV_MOP_REMOVE ? "removed" : "is a voter");
		mop_finish(n, 200, NULL);
		return;
	}
	if (raft_role(n->raft) != RAFT_LEADER) {
		/* The change may or may not survive the new leader. */
		mop_finish(n, 500, "unknown");
		return;
	}
	int rc;
	switch (m->phase) {
	case SRV_MOP_ADD:
		if (n->applied < m->index)
			return;
		m->phase = SRV_MOP_PROMOTE;
		/* fall through */
	case SRV_MOP_PROMOTE:
		/* The core checks the lag against the leader's last index; on a
		 * short log that holds even for a learner that has nothing yet, so
		 * also require that it has at least the entry that added it. */
		if (m->index && raft_match_index(n->raft, m->id) < m->index)
			return;
		rc = raft_promote(n->raft, m->id, &m->index);
		if (rc == RAFT_ECATCHUP || rc == RAFT_EBUSY)
			return; /* try again on the next housekeeping tick */
		if (rc != 0) {
			mop_finish(n, 500, raft_strerror(rc));
			return;
		}
		m->term = raft_current_term(n->raft);
		SRV_INFO("membership: n%" PRIu64 " caught up, promoting to voter (entry %" PRIu64 ")", m->id, m->index);
		m->phase = SRV_MOP_WAIT_PROMOTE;
		return;
	case SRV_MOP_WAIT_PROMOTE:
	case SRV_MOP_REMOVE:
		return; /* waiting for the commit (checked above) */
	}
}

/* ---- timers ------------------------------------------------------------------ */

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct srv_node *n = arg;
	unsigned ms = raft_tick(n->raft);
	unsigned cap = n->flags->heartbeat_ms / 2 ? n->flags->heartbeat_ms / 2 : 1;
	if (ms == 0)
		ms = 1;
	if (ms > cap)
		ms = cap;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	evtimer_add(n->tick_ev, &tv);
}

static void housekeeping_cb(evutil_socket_t fd, short what, void *arg)
{
	struct srv_node *n = arg;
	uint64_t now = srv_now_ms();
	struct srv_pending *p = n->pending, *next;
	for (; p; p = next) {
		next = p->next;
		if (now > p->deadline) {
			srv_http_reply_error(p->req, 504, "timeout");
			pending_remove(n, p);
		}
	}
	struct srv_read_batch *b = n->batches, *bn;
	for (; b; b = bn) {
		bn = b->next;
		if (now > b->deadline)
			batch_fail(n, b, 504, "timeout");
	}
	member_step(n);
	srv_http_expire_parked(n, now);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct srv_node *n = arg;
	SRV_INFO("signal %d: shutting down", (int)sig);
	n->stop = true;
	event_base_loopbreak(n->base);
}

/* The sync thread finished a batch: account for it; after_iteration (which
 * runs right after this iteration) reports it to the core and starts the
 * next batch with everything buffered meanwhile. */
static void wal_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct srv_node *n = arg;
	char err[512];
	int rc = srv_wal_poll_done(n->wal, err, sizeof err);
	if (rc < 0)
		srv_node_fatal(n, "wal sync", err);
	else if (rc == 1)
		n->durable_term = n->inflight_term;
}

/* The group-commit point: runs after every loop iteration. */
static void after_iteration(struct srv_node *n)
{
	char err[512];
	/* First, requests that waited for a leader (their proposals and reads
	 * then join this iteration's batch). */
	srv_http_unpark(n);
	for (int round = 0; round < 8 && !n->stop; round++) {
		issue_reads(n);
		if (srv_wal_pending(n->wal) && !srv_wal_busy(n->wal)) {
			/* Followers get the entries before we start syncing them. */
			srv_transport_flush(n->transport);
			n->inflight_term = n->wal_last_term;
			if (srv_wal_sync_start(n->wal, err, sizeof err) != 0) {
				srv_node_fatal(n, "wal sync", err);
				return;
			}
		}
		raft_index idx = srv_wal_durable_index(n->wal);
		if (idx == n->reported_index && n->durable_term == n->reported_term)
			break;
		n->reported_index = idx;
		n->reported_term = n->durable_term;
		/* Reporting durability may commit entries (leader) or send acks
		 * (follower); neither appends, but loop in case it does. */
		if (idx)
			raft_persisted(n->raft, idx, n->durable_term);
	}
	if (n->stop)
		return;
	serve_confirmed_reads(n);
	if (n->config_dirty)
		sync_peers(n);
	maybe_snapshot(n);
}

/* ---- lifecycle ---------------------------------------------------------------- */

static void wal_notice(void *ud, const char *msg)
{
	SRV_WARN("%s", msg);
}

static int build_bootstrap_config(struct srv_node *n, struct raft_config *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	for (unsigned i = 0; i < n->flags->n_peers; i++) {
		const struct srv_peer_spec *p = &n->flags->peers[i];
		char addr[RAFT_ADDR_MAX];
		snprintf(addr, sizeof addr, "%s %s", p->peer_addr, p->client_addr);
		int rc = raft_config_add(c, p->id, RAFT_VOTER, addr);
		if (rc != 0) {
			raft_config_free(c);
			return srv_errf(err, errlen, "--peers: %s: %s", p->name, raft_strerror(rc));
		}
	}
	return 0;
}

static void recv_cb(void *ud, const struct raft_msg *m)
{
	struct srv_node *n = ud;
	SRV_DEBUG("recv type %u from n%" PRIu64 " term %" PRIu64, m->type, m->from, m->term);
	int rc = raft_step(n->raft, m);
	if (rc != 0)
		SRV_DEBUG("raft_step(type %u from n%" PRIu64 "): %s", m->type, m->from, raft_strerror(rc));
	if (rc == RAFT_ESHUTDOWN || rc == RAFT_EIO)
		srv_node_fatal(n, "raft_step", raft_strerror(rc));
}

int srv_node_init(struct srv_node *n, struct srv_flags *f, char *err, size_t errlen)
{
	memset(n, 0, sizeof *n);
	n->flags = f;
	n->lock_fd = -1;
	n->read_tail = &n->read_queue;
	if (getrandom(&n->rng, sizeof n->rng, 0) != sizeof n->rng || n->rng == 0)
		n->rng = srv_now_ms() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ull;
	uint64_t r = 0;
	if (getrandom(&r, sizeof r, 0) != sizeof r)
		r = n->rng * 0x9E3779B97F4A7C15ull;
	/* Request ids: a random 32-bit boot nonce above a counter, unique across
	 * restarts of this node; the node id keeps nodes apart. */
	n->reqid_base = (r & 0xffffffff00000000ull) ^ (f->id << 56);

	if (mkdir(f->data_dir, 0755) != 0 && errno != EEXIST)
		return srv_errf(err, errlen, "--data-dir: mkdir %s: %s", f->data_dir, strerror(errno));
	char lock[4200];
	snprintf(lock, sizeof lock, "%s/LOCK", f->data_dir);
	n->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (n->lock_fd < 0)
		return srv_errf(err, errlen, "open %s: %s", lock, strerror(errno));
	if (flock(n->lock_fd, LOCK_EX | LOCK_NB) != 0)
		return srv_errf(err, errlen, "%s: data directory is in use by another process", f->data_dir);
	snprintf(n->wal_dir, sizeof n->wal_dir, "%s/wal", f->data_dir);
	snprintf(n->snap_dir, sizeof n->snap_dir, "%s/snap", f->data_dir);
	if (mkdir(n->snap_dir, 0755) != 0 && errno != EEXIST)
		return srv_errf(err, errlen, "mkdir %s: %s", n->snap_dir, strerror(errno));

	if (srv_kv_new(&n->kv) != 0)
		return srv_errf(err, errlen, "out of memory");
	if (srv_snap_load(n->snap_dir, &n->snap, &n->have_snap, err, errlen) != 0)
		return -1;
	raft_index snap_index = n->have_snap ? n->snap.meta.last_index : 0;
	if (n->have_snap) {
		if (srv_kv_restore(n->kv, n->snap.data, n->snap.len, err, errlen) != 0)
			return srv_err_ctx(err, errlen, "snapshot %" PRIu64 " in %s", snap_index, n->snap_dir);
		n->applied = snap_index;
	}
	struct srv_wal_opts wo = {
	    .dir = n->wal_dir,
	    .fsync = f->fsync,
	    .segment_bytes = (size_t)f->segment_kib * 1024,
	    .notice = wal_notice,
	    .async = true,
	};
	struct srv_wal_replay st;
	if (srv_wal_open(&n->wal, &wo, snap_index, n->have_snap ? n->snap.meta.last_term : 0, &st, err, errlen) != 0)
		return -1;
	SRV_INFO("recovered: snapshot at %" PRIu64 ", %zu log entries after it, term %" PRIu64 ", vote %" PRIu64,
	         snap_index, st.n, st.term, st.vote);

	n->io = (struct raft_io){
	    .data = n,
	    .now = io_now,
	    .random = io_random,
	    .send = io_send,
	    .persist_vote = io_persist_vote,
	    .append = io_append,
	    .apply = io_apply,
	    .install_snapshot = io_install_snapshot,
	    .load_snapshot = io_load_snapshot,
	    .read_done = io_read_done,
	    .state_changed = io_state_changed,
	};
	struct raft_options ro;
	raft_options_default(&ro);
	ro.election_timeout_ms = f->election_timeout_ms;
	ro.heartbeat_ms = f->heartbeat_ms;
	ro.pre_vote = f->pre_vote;
	ro.check_quorum = f->check_quorum;
	ro.max_append_entries = f->max_append_entries;
	ro.max_inflight = f->max_inflight;
	ro.learner_catchup_lag = 64;
	int rc = raft_new(&n->raft, f->id, &n->io, &ro);
	if (rc != 0) {
		srv_wal_replay_free(&st);
		return srv_errf(err, errlen, "raft_new: %s", raft_strerror(rc));
	}
	n->wal_last_term = st.n ? st.entries[st.n - 1].term : (n->have_snap ? n->snap.meta.last_term : 0);
	/* What was loaded counts as persisted already (raft_load). */
	n->durable_term = n->reported_term = n->wal_last_term;
	n->reported_index = srv_wal_durable_index(n->wal);
	if (st.n > UINT32_MAX) {
		srv_wal_replay_free(&st);
		return srv_errf(err, errlen, "too many log entries");
	}
	rc = raft_load(n->raft, st.term, st.vote, n->have_snap ? &n->snap.meta : NULL, st.entries, (unsigned)st.n);
	bool empty = !n->have_snap && st.n == 0;
	srv_wal_replay_free(&st);
	if (rc != 0)
		return srv_errf(err, errlen, "load state from %s: %s", f->data_dir, raft_strerror(rc));

	n->base = event_base_new();
	if (!n->base)
		return srv_errf(err, errlen, "event_base_new failed");
	/* Advertise our address as the configuration (or --peers) has it; the
	 * listen address only when we are not in either yet (joining). */
	char advertise[RAFT_ADDR_MAX], client[RAFT_ADDR_MAX];
	snprintf(advertise, sizeof advertise, "%s", f->listen_peer);
	const struct raft_server *me = raft_config_get(raft_configuration(n->raft), f->id);
	if (me && srv_node_split_address(me->address, advertise, sizeof advertise, client, sizeof client) != 0)
		snprintf(advertise, sizeof advertise, "%s", f->listen_peer);
	for (unsigned i = 0; !me && i < f->n_peers; i++)
		if (f->peers[i].id == f->id)
			snprintf(advertise, sizeof advertise, "%s", f->peers[i].peer_addr);
	if (srv_transport_new(&n->transport, n->base, f->id, f->listen_peer, advertise, recv_cb, n, err, errlen) != 0)
		return -1;
	if (srv_http_start(n, err, errlen) != 0)
		return -1;
	if (empty && !f->join && f->n_peers == 0)
		return srv_errf(err, errlen, "%s is empty: give --peers to bootstrap a new cluster, or --join", f->data_dir);
	if (empty && !f->join) {
		struct raft_config c;
		if (build_bootstrap_config(n, &c, err, errlen) != 0)
			return -1;
		rc = raft_bootstrap(n->raft, &c);
		raft_config_free(&c);
		if (rc != 0)
			return srv_errf(err, errlen, "bootstrap: %s", raft_strerror(rc));
		SRV_INFO("bootstrapped a new cluster of %u members", f->n_peers);
	} else if (empty) {
		SRV_INFO("joining: waiting to be added to a cluster");
	}
	return 0;
}

int srv_node_run(struct srv_node *n)
{
	n->tick_ev = evtimer_new(n->base, tick_cb, n);
	n->house_ev = event_new(n->base, -1, EV_PERSIST, housekeeping_cb, n);
	n->sigterm_ev = evsignal_new(n->base, SIGTERM, signal_cb, n);
	n->sigint_ev = evsignal_new(n->base, SIGINT, signal_cb, n);
	n->wal_ev = event_new(n->base, srv_wal_notify_fd(n->wal), EV_READ | EV_PERSIST, wal_done_cb, n);
	if (!n->tick_ev || !n->house_ev || !n->sigterm_ev || !n->sigint_ev || !n->wal_ev) {
		SRV_ERROR("out of memory");
		return 1;
	}
	event_add(n->wal_ev, NULL);
	evsignal_add(n->sigterm_ev, NULL);
	evsignal_add(n->sigint_ev, NULL);
	struct timeval hk = {0, HOUSEKEEPING_MS * 1000};
	event_add(n->house_ev, &hk);
	n->config_dirty = true;
	int rc = raft_start(n->raft);
	if (rc != 0) {
		SRV_ERROR("raft_start: %s", raft_strerror(rc));
		return 1;
	}
	io_state_changed(&n->io);
	tick_cb(-1, 0, n);
	while (!n->stop) {
		after_iteration(n);
		if (n->stop)
			break;
		if (event_base_loop(n->base, EVLOOP_ONCE) < 0) {
			SRV_ERROR("event loop failed");
			n->exit_code = 1;
			break;
		}
	}
	uint64_t syncs, records;
	srv_wal_stats(n->wal, &syncs, &records);
	unsigned long long sent, dropped, received;
	srv_transport_stats(n->transport, &sent, &dropped, &received);
	SRV_INFO("stopping: applied %" PRIu64 ", %" PRIu64 " wal syncs for %" PRIu64
	         " records, %llu frames sent, %llu dropped, %llu received",
	         n->applied, syncs, records, sent, dropped, received);
	return n->exit_code;
}

void srv_node_destroy(struct srv_node *n)
{
	while (n->pending) {
		srv_http_reply_error(n->pending->req, 500, "unknown");
		pending_remove(n, n->pending);
	}
	while (n->batches)
		batch_fail(n, n->batches, 503, "not_leader");
	while (n->read_queue) {
		struct srv_read *r = n->read_queue;
		n->read_queue = r->next;
		srv_http_reply_error(r->req, 503, "not_leader");
		free(r->key);
		free(r);
	}
	if (n->mop)
		mop_finish(n, 500, "unknown");
	srv_http_stop(n);
	srv_transport_free(n->transport);
	if (n->tick_ev)
		event_free(n->tick_ev);
	if (n->house_ev)
		event_free(n->house_ev);
	if (n->sigterm_ev)
		event_free(n->sigterm_ev);
	if (n->sigint_ev)
		event_free(n->sigint_ev);
	if (n->wal_ev)
		event_free(n->wal_ev);
	if (n->raft)
		raft_free(n->raft);
	srv_wal_close(n->wal);
	srv_kv_free(n->kv);
	if (n->have_snap)
		srv_snap_free(&n->snap);
	if (n->base)
		event_base_free(n->base);
	if (n->lock_fd >= 0)
		close(n->lock_fd);
}

/* ---- membership entry points (called from srv_http.c) ---- */

void srv_node_member_add(struct srv_node *n, struct evhttp_request *req, raft_id id, const char *address)
{
	if (n->mop) {
		srv_http_reply_error(req, 409, "change_in_flight");
		return;
	}
	const struct raft_server *s = raft_config_get(raft_configuration(n->raft), id);
	struct srv_member_op *m = calloc(1, sizeof *m);
	if (!m) {
		srv_http_reply_error(req, 500, "out_of_memory");
		return;
	}
	m->req = req;
	m->id = id;
	m->deadline = srv_now_ms() + MEMBER_OP_TIMEOUT_MS;
	snprintf(m->address, sizeof m->address, "%s", address);
	int rc = 0;
	if (s && s->role == RAFT_VOTER) {
		/* Already a voter: wait only until that is applied here. */
		m->phase = SRV_MOP_WAIT_PROMOTE;
		m->index = raft_last_index(n->raft);
		m->term = raft_last_term(n->raft);
	} else if (s) {
		m->phase = SRV_MOP_PROMOTE;
	} else {
		rc = raft_add_learner(n->raft, id, address, &m->index);
		m->phase = SRV_MOP_ADD;
	}
	if (rc != 0) {
		free(m);
		if (rc == RAFT_EBUSY)
			srv_http_reply_error(req, 409, "change_in_flight");
		else if (rc == RAFT_ENOTLEADER || rc == RAFT_ETRANSFER)
			srv_http_reply_error(req, 503, "not_leader");
		else
			srv_http_reply_error(req, 400, raft_strerror(rc));
		return;
	}
	if (m->phase == SRV_MOP_ADD)
		SRV_INFO("membership: adding n%" PRIu64 " (%s) as a learner (entry %" PRIu64 ")", id, address, m->index);
	n->mop = m;
	n->config_dirty = true;
}

void srv_node_member_remove(struct srv_node *n, struct evhttp_request *req, raft_id id)
{
	if (n->mop) {
		srv_http_reply_error(req, 409, "change_in_flight");
		return;
	}
	if (!raft_config_get(raft_configuration(n->raft), id)) {
		srv_http_reply(req, 200, json_pack("{s:b,s:s}", "ok", 1, "note", "not a member"));
		return;
	}
	struct srv_member_op *m = calloc(1, sizeof *m);
	if (!m) {
		srv_http_reply_error(req, 500, "out_of_memory");
		return;
	}
	int rc = raft_remove(n->raft, id, &m->index);
	if (rc != 0) {
		free(m);
		if (rc == RAFT_EBUSY)
			srv_http_reply_error(req, 409, "change_in_flight");
		else if (rc == RAFT_ENOTLEADER || rc == RAFT_ETRANSFER)
			srv_http_reply_error(req, 503, "not_leader");
		else
			srv_http_reply_error(req, 400, raft_strerror(rc));
		return;
	}
	m->term = raft_current_term(n->raft);
	SRV_INFO("membership: removing n%" PRIu64 " (entry %" PRIu64 ")", id, m->index);
	m->req = req;
	m->id = id;
	m->phase = SRV_MOP_REMOVE;
	m->deadline = srv_now_ms() + MEMBER_OP_TIMEOUT_MS;
	n->mop = m;
}
