/* sim.c — deterministic discrete-event simulation of a Raft cluster built
 * on the pure core, with a nemesis and invariant checkers run after every
 * step. Same seed, same run: all time and randomness come from here. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/sim.h"

/* ---- PRNG (splitmix64: tiny, good enough, fully deterministic) -------- */
struct rng {
	uint64_t s;
};
static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
static uint64_t rng_below(struct rng *r, uint64_t n)
{
	return n ? rng_next(r) % n : 0;
}
static bool rng_pct(struct rng *r, unsigned pct)
{
	return rng_below(r, 100) < pct;
}

/* ---- trace: binary records, formatted only when printed ---------------- */
enum tkind {
	T_SEND, T_DROP, T_DELIVER, T_ROLE, T_CRASH, T_RESTART, T_PAUSE, T_RESUME,
	T_BLOCK, T_HEAL, T_PROPOSE, T_READ, T_READ_DONE, T_COMMIT, T_SNAP, T_INSTALL,
	T_MEMBER, T_TRANSFER, T_SYNC, T_APPEND, T_FAIL, T_DROPRATE, T_DISK, T_NOTE, T_CLOCK,
};
struct trec {
	uint64_t t;
	uint8_t kind, node, peer, sub;
	uint64_t a, b, c;
};
#define TRACE_RING 4096
#define TRACE_TAIL 80

/* ---- events -------------------------------------------------------------- */
enum ev_type { EV_DELIVER, EV_TICK, EV_SYNC, EV_NEMESIS, EV_CLIENT };
struct ev {
	uint64_t t;
	uint64_t seq;
	uint8_t type;
	uint8_t node;
	uint32_t gen;
	struct raft_msg *msg;
};

struct pending_write {
	raft_index first;
	unsigned n;
	struct raft_entry *e;
};

struct node {
	struct sim *sim;
	raft_id id;
	struct raft_io io;
	struct raft *r; /* NULL while crashed */
	bool paused;
	bool disk_held;
	uint32_t gen;    /* bumped by a crash: events of the old incarnation die */
	int64_t clock_off; /* this node's clock minus simulated time (clock faults) */
	uint64_t tick_at;
	int last_role;
	/* Durable state: what survives a crash. */
	raft_term d_term;
	raft_id d_vote;
	struct raft_entry *d_log; /* d_log[0] is at index d_first */
	raft_index d_n, d_cap, d_first;
	raft_term d_base_term;    /* term at d_first-1 */
	bool has_snap;
	struct raft_snapshot_meta d_snap;
	uint8_t d_snap_data[16];  /* state machine: applied index, hash */
	/* Unsynced writes, lost by a crash. */
	struct pending_write *pend;
	unsigned n_pend, cap_pend;
	bool sync_scheduled;
	/* Volatile state machine: a hash chain over applied entries. */
	raft_index sm_index;
	uint64_t sm_hash;
	/* Checker bookkeeping. */
	raft_index seen_commit;
	raft_term lead_term;
	raft_index lead_last;
	raft_term lead_last_term;
	/* Events held while paused. */
	struct ev *def;
	unsigned n_def, cap_def;
};

struct erec { /* log matching table: (index, term) -> content */
	raft_index i;
	raft_term t;
	uint64_t h;
	raft_term prev;
};

struct rrec { /* a ReadIndex request */
	raft_index start; /* highest index known committed when it was issued */
	raft_id node;
	bool done;
};

struct sim {
	struct sim_opts o;
	struct rng rng;
	uint64_t now, seq, steps;
	struct ev *heap;
	size_t n_heap, cap_heap;
	struct node nodes[SIM_MAX_NODES];
	unsigned n;
	bool blocked[SIM_MAX_NODES + 1][SIM_MAX_NODES + 1];
	unsigned drop_pct, dup_pct;
	bool chaos; /* nemesis and clients active */
	/* checkers */
	raft_id *leader_of_term;
	size_t cap_lot;
	raft_term *committed; /* committed[i] = term of the entry known committed at i */
	size_t cap_committed;
	raft_term *commit_term; /* an upper bound of the term in which i was committed */
	size_t cap_commit_term;
	raft_index max_committed;
	uint64_t *chain; /* state-machine hash after applying index i */
	size_t cap_chain;
	struct erec *etab;
	size_t cap_etab, n_etab;
	struct rrec *reads;
	size_t n_reads_rec, cap_reads_rec;
	unsigned reads_ok, reads_failed;
	uint64_t cmd_counter;
	unsigned elections;
	bool failed;
	char why[2048];
	struct trec *trace;
	uint64_t trace_n;
	struct sim_stats stats;
};

static const char *msg_name(unsigned t)
{
	static const char *names[] = { "?", "Vote", "VoteRes", "Append", "AppendRes", "Snap", "TimeoutNow" };
	return t < 7 ? names[t] : "?";
}

static void format_trec(const struct trec *x, char *buf, size_t len)
{
	int o = snprintf(buf, len, "t=%-7" PRIu64 " n%u ", x->t, x->node);
	char *p = buf + o;
	size_t l = len - (size_t)o;
	switch (x->kind) {
	case T_SEND:
	case T_DROP:
	case T_DELIVER:
		snprintf(p, l, "%s %s ->n%u term=%" PRIu64 " a=%" PRIu64 " b=%" PRIu64 " c=%" PRIu64,
		         x->kind == T_SEND ? "send" : x->kind == T_DROP ? "DROP" : "recv", msg_name(x->sub), x->peer,
		         x->a, x->b, x->c, (uint64_t)0);
		break;
	case T_ROLE:
		snprintf(p, l, "role %s term=%" PRIu64 " leader=%" PRIu64 " last=%" PRIu64,
		         raft_role_name(x->sub), x->a, x->b, x->c);
		break;
	case T_CRASH: snprintf(p, l, "CRASH (lost %" PRIu64 " unsynced writes)", x->a); break;
	case T_RESTART: snprintf(p, l, "RESTART term=%" PRIu64 " last=%" PRIu64 " snap=%" PRIu64, x->a, x->b, x->c); break;
	case T_PAUSE: snprintf(p, l, "PAUSE"); break;
	case T_RESUME: snprintf(p, l, "RESUME"); break;
	case T_BLOCK: snprintf(p, l, "%s ->n%u", x->a ? "block" : "unblock", x->peer); break;
	case T_HEAL: snprintf(p, l, "HEAL network"); break;
	case T_PROPOSE: snprintf(p, l, "propose rc=%d index=%" PRIu64 " term=%" PRIu64, (int)(int64_t)x->c, x->a, x->b); break;
	case T_READ: snprintf(p, l, "read ctx=%" PRIu64 " rc=%d known_committed=%" PRIu64, x->a, (int)(int64_t)x->c, x->b); break;
	case T_READ_DONE: snprintf(p, l, "read_done ctx=%" PRIu64 " index=%" PRIu64 " ok=%" PRIu64, x->a, x->b, x->c); break;
	case T_COMMIT: snprintf(p, l, "commit %" PRIu64 " (term %" PRIu64 ")", x->a, x->b); break;
	case T_SNAP: snprintf(p, l, "snapshot taken at %" PRIu64 " trailing=%" PRIu64 " rc=%d", x->a, x->b, (int)(int64_t)x->c); break;
	case T_INSTALL: snprintf(p, l, "snapshot installed at %" PRIu64 " term=%" PRIu64, x->a, x->b); break;
	case T_MEMBER: snprintf(p, l, "member %s n%" PRIu64 " rc=%d", x->sub == 0 ? "add-learner" : x->sub == 1 ? "promote" : "remove", x->a, (int)(int64_t)x->c); break;
	case T_TRANSFER: snprintf(p, l, "transfer ->n%" PRIu64 " rc=%d", x->a, (int)(int64_t)x->c); break;
	case T_SYNC: snprintf(p, l, "disk synced to %" PRIu64 " (term %" PRIu64 ")", x->a, x->b); break;
	case T_APPEND: snprintf(p, l, "disk write first=%" PRIu64 " n=%" PRIu64 " term=%" PRIu64, x->a, x->b, x->c); break;
	case T_DROPRATE: snprintf(p, l, "drop rate %" PRIu64 "%%", x->a); break;
	case T_DISK: snprintf(p, l, "disk %s", x->a ? "held (slow)" : "released"); break;
	case T_NOTE: snprintf(p, l, "%s", x->a == 1 ? "--- heal all, liveness phase ---" : "note"); break;
	case T_FAIL: snprintf(p, l, "VIOLATION"); break;
	case T_CLOCK: snprintf(p, l, "clock bumped by %" PRId64 " ms", (int64_t)x->a); break;
	default: snprintf(p, l, "?"); break;
	}
}

static void tr(struct sim *s, unsigned kind, unsigned node, unsigned peer, unsigned sub, uint64_t a, uint64_t b, uint64_t c)
{
	struct trec *x = &s->trace[s->trace_n % TRACE_RING];
	x->t = s->now;
	x->kind = (uint8_t)kind;
	x->node = (uint8_t)node;
	x->peer = (uint8_t)peer;
	x->sub = (uint8_t)sub;
	x->a = a;
	x->b = b;
	x->c = c;
	s->trace_n++;
	switch (kind) {
	case T_CRASH: s->stats.crashes++; break;
	case T_INSTALL: s->stats.installs++; break;
	case T_SNAP: s->stats.snapshots += c == 0; break;
	case T_MEMBER: s->stats.member_changes += c == 0; break;
	case T_TRANSFER: s->stats.transfers += c == 0; break;
	case T_PAUSE: s->stats.pauses++; break;
	case T_BLOCK: s->stats.partitions++; break;
	default: break;
	}
	if (s->o.verbose) {
		char buf[256];
		format_trec(x, buf, sizeof(buf));
		printf("%s\n", buf);
	}
}

static void fail(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct sim *s, const char *fmt, ...)
{
	if (s->failed)
		return;
	s->failed = true;
	va_list ap;
	va_start(ap, fmt);
	int o = snprintf(s->why, sizeof(s->why), "seed %" PRIu64 " t=%" PRIu64 " step %" PRIu64 ": ", s->o.seed, s->now, s->steps);
	vsnprintf(s->why + o, sizeof(s->why) - (size_t)o, fmt, ap);
	va_end(ap);
	tr(s, T_FAIL, 0, 0, 0, 0, 0, 0);
	if (s->o.verbose)
		printf("VIOLATION: %s\n", s->why);
}

/* One line per node into the failure report (liveness failures need the
 * whole picture: roles, logs, configurations). */
static void append_node_states(struct sim *s)
{
	size_t o = strlen(s->why);
	for (unsigned i = 0; i < s->n && o + 1 < sizeof(s->why); i++) {
		struct node *nd = &s->nodes[i];
		if (!nd->r) {
			o += (size_t)snprintf(s->why + o, sizeof(s->why) - o, "\n  n%" PRIu64 ": down", nd->id);
			continue;
		}
		struct raft *r = nd->r;
		int k = snprintf(s->why + o, sizeof(s->why) - o,
		                 "\n  n%" PRIu64 ": %s term %" PRIu64 " last %" PRIu64 "/%" PRIu64 " commit %" PRIu64 " config [",
		                 nd->id, raft_role_name(raft_role(r)), raft_current_term(r), raft_last_index(r),
		                 raft_last_term(r), raft_commit_index(r));
		o += (size_t)k;
		const struct raft_config *c = raft_configuration(r);
		for (unsigned j = 0; j < c->n && o + 1 < sizeof(s->why); j++)
			o += (size_t)snprintf(s->why + o, sizeof(s->why) - o, "%s%" PRIu64 "%s", j ? " " : "", c->servers[j].id,
			                      c->servers[j].role == RAFT_LEARNER ? "(l)" : "");
		if (o + 1 < sizeof(s->why))
			o += (size_t)snprintf(s->why + o, sizeof(s->why) - o, "]");
	}
}

const char *sim_failure(const struct sim *s)
{
	return s->failed ? s->why : NULL;
}

void sim_dump_trace(const struct sim *s, FILE *f)
{
	uint64_t from = s->trace_n > TRACE_TAIL ? s->trace_n - TRACE_TAIL : 0;
	if (s->trace_n - from > TRACE_RING)
		from = s->trace_n - TRACE_RING;
	char buf[256];
	for (uint64_t i = from; i < s->trace_n; i++) {
		format_trec(&s->trace[i % TRACE_RING], buf, sizeof(buf));
		fprintf(f, "  %s\n", buf);
	}
}

/* ---- growable arrays ------------------------------------------------------- */
static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	size_t nc = *cap ? *cap : 64;
	while (nc < need)
		nc *= 2;
	char *q = realloc(p, nc * elem);
	if (!q) {
		fprintf(stderr, "sim: out of memory\n");
		abort();
	}
	memset(q + *cap * elem, 0, (nc - *cap) * elem);
	*cap = nc;
	return q;
}

/* ---- event heap ---------------------------------------------------------------- */
static bool ev_less(const struct ev *a, const struct ev *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void heap_push(struct sim *s, struct ev e)
{
	s->heap = grow(s->heap, &s->cap_heap, s->n_heap + 1, sizeof(*s->heap));
	size_t i = s->n_heap++;
	s->heap[i] = e;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!ev_less(&s->heap[i], &s->heap[p]))
			break;
		struct ev t = s->heap[i];
		s->heap[i] = s->heap[p];
		s->heap[p] = t;
		i = p;
	}
}

static struct ev heap_pop(struct sim *s)
{
	struct ev top = s->heap[0];
	s->heap[0] = s->heap[--s->n_heap];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < s->n_heap && ev_less(&s->heap[l], &s->heap[m]))
			m = l;
		if (r < s->n_heap && ev_less(&s->heap[r], &s->heap[m]))
			m = r;
		if (m == i)
			break;
		struct ev t = s->heap[i];
		s->heap[i] = s->heap[m];
		s->heap[m] = t;
		i = m;
	}
	return top;
}

static void schedule(struct sim *s, uint64_t at, unsigned type, unsigned node, uint32_t gen, struct raft_msg *msg)
{
	struct ev e = { .t = at, .seq = s->seq++, .type = (uint8_t)type, .node = (uint8_t)node, .gen = gen, .msg = msg };
	heap_push(s, e);
}

static void free_msg(struct raft_msg *m)
{
	if (m) {
		raft_msg_release(m);
		free(m);
	}
}

static struct node *node_of(struct sim *s, raft_id id)
{
	return id >= 1 && id <= s->n ? &s->nodes[id - 1] : NULL;
}

static void schedule_tick(struct sim *s, struct node *nd, uint64_t at)
{
	if (nd->tick_at > s->now && nd->tick_at <= at)
		return; /* an earlier tick is already scheduled */
	nd->tick_at = at;
	schedule(s, at, EV_TICK, nd->id, nd->gen, NULL);
}

/* ---- hashing --------------------------------------------------------------------- */
static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t entry_hash(const struct raft_entry *e)
{
	uint64_t h = 0xcbf29ce484222325ull;
	h = fnv(h, &e->type, 1);
	h = fnv(h, &e->term, sizeof(e->term));
	return fnv(h, e->buf.base, e->buf.len);
}

/* ---- checkers --------------------------------------------------------------------- */

/* Log matching (§5.3): "if two entries in different logs have the same index
 * and term, then they store the same command" and "the logs are identical in
 * all preceding entries". Checked inductively on every append: (index, term)
 * determines the content and the previous entry's term. */
static void check_entry(struct sim *s, struct node *nd, raft_index i, const struct raft_entry *e, raft_term prev)
{
	if (s->n_etab * 2 + 2 > s->cap_etab) {
		size_t nc = s->cap_etab ? s->cap_etab * 2 : 1024;
		struct erec *t = calloc(nc, sizeof(*t));
		if (!t)
			abort();
		for (size_t k = 0; k < s->cap_etab; k++) {
			if (!s->etab[k].t)
				continue;
			size_t h = (size_t)((s->etab[k].i * 0x9e3779b97f4a7c15ull) ^ (s->etab[k].t * 0xc2b2ae3d27d4eb4full));
			while (t[h & (nc - 1)].t)
				h++;
			t[h & (nc - 1)] = s->etab[k];
		}
		free(s->etab);
		s->etab = t;
		s->cap_etab = nc;
	}
	uint64_t eh = entry_hash(e);
	size_t h = (size_t)((i * 0x9e3779b97f4a7c15ull) ^ (e->term * 0xc2b2ae3d27d4eb4full));
	for (;; h++) {
		struct erec *x = &s->etab[h & (s->cap_etab - 1)];
		if (!x->t) {
			x->i = i;
			x->t = e->term;
			x->h = eh;
			x->prev = prev;
			s->n_etab++;
			return;
		}
		if (x->i == i && x->t == e->term) {
			if (x->h != eh)
				fail(s, "log matching: n%" PRIu64 " has a different entry at index %" PRIu64 " term %" PRIu64, nd->id, i, e->term);
			else if (prev != (raft_term)-1 && x->prev != (raft_term)-1 && x->prev != prev)
				fail(s, "log matching: n%" PRIu64 " entry %" PRIu64 "/%" PRIu64 " follows term %" PRIu64 ", elsewhere %" PRIu64,
				     nd->id, i, e->term, prev, x->prev);
			return;
		}
	}
}

static void leader_completeness(struct sim *s, struct node *nd)
{
	/* §5.4: "if a log entry is committed in a given term, then that entry
	 * will be present in the logs of the leaders for all higher-numbered
	 * terms". Entries below the snapshot are committed state already. */
	struct raft *r = nd->r;
	for (raft_index i = raft_snapshot_index(r) + 1; i <= s->max_committed; i++) {
		/* Only for entries committed in an earlier term than this one: a
		 * candidate of an old term may still win with old votes. */
		if (!s->committed[i] || s->commit_term[i] >= raft_current_term(r))
			continue;
		if (raft_term_at(r, i) != s->committed[i]) {
			fail(s, "leader completeness: n%" PRIu64 " leads term %" PRIu64 " with term %" PRIu64
			        " at index %" PRIu64 ", but term %" PRIu64 " was committed there (durability lost?)",
			     nd->id, raft_current_term(r), raft_term_at(r, i), i, s->committed[i]);
			return;
		}
	}
}

static void check_node(struct sim *s, struct node *nd)
{
	struct raft *r = nd->r;
	if (!r)
		return;
	raft_term term = raft_current_term(r);
	if (raft_role(r) == RAFT_LEADER) {
		/* Election safety (§5.2): at most one leader per term. */
		s->leader_of_term = grow(s->leader_of_term, &s->cap_lot, term + 1, sizeof(raft_id));
		if (s->leader_of_term[term] && s->leader_of_term[term] != nd->id)
			fail(s, "election safety: n%" PRIu64 " and n%" PRIu64 " both leaders of term %" PRIu64,
			     s->leader_of_term[term], nd->id, term);
		if (!s->leader_of_term[term])
			s->elections++;
		s->leader_of_term[term] = nd->id;
		if (nd->lead_term != term) {
			nd->lead_term = term;
			nd->lead_last = 0;
			leader_completeness(s, nd);
		}
		/* Leader append-only (§5.3): a leader never overwrites or deletes
		 * entries in its log. */
		if (nd->lead_last) {
			if (raft_last_index(r) < nd->lead_last ||
			    (nd->lead_last > raft_snapshot_index(r) && raft_term_at(r, nd->lead_last) != nd->lead_last_term))
				fail(s, "leader append-only: n%" PRIu64 " lost/changed entry %" PRIu64, nd->id, nd->lead_last);
		}
		nd->lead_last = raft_last_index(r);
		nd->lead_last_term = raft_last_term(r);
	} else {
		nd->lead_term = 0;
	}
	/* Commitment: record what each node reports committed; two different
	 * entries committed at one index is a state-machine safety violation. */
	raft_index c = raft_commit_index(r);
	if (c > nd->seen_commit) {
		s->committed = grow(s->committed, &s->cap_committed, c + 1, sizeof(raft_term));
		s->commit_term = grow(s->commit_term, &s->cap_commit_term, c + 1, sizeof(raft_term));
		for (raft_index i = nd->seen_commit + 1; i <= c; i++) {
			raft_term t = raft_term_at(r, i);
			if (!t)
				continue;
			/* The commit happened in a term <= the observer's term. */
			if (!s->commit_term[i] || term < s->commit_term[i])
				s->commit_term[i] = term;
			if (s->committed[i] && s->committed[i] != t)
				fail(s, "commit safety: n%" PRIu64 " committed term %" PRIu64 " at %" PRIu64 ", term %" PRIu64 " was committed there",
				     nd->id, t, i, s->committed[i]);
			s->committed[i] = t;
		}
		if (c > s->max_committed) {
			tr(s, T_COMMIT, nd->id, 0, 0, c, raft_term_at(r, c), 0);
			s->max_committed = c;
		}
		nd->seen_commit = c;
	}
	if (raft_applied_index(r) > c)
		fail(s, "n%" PRIu64 " applied %" PRIu64 " beyond commit %" PRIu64, nd->id, raft_applied_index(r), c);
}

static void check_all(struct sim *s)
{
	for (unsigned i = 0; i < s->n; i++)
		check_node(s, &s->nodes[i]);
}

/* ---- the io table ---------------------------------------------------------------- */
static uint64_t io_now(struct raft_io *io)
{
	struct node *nd = io->data;
	/* Each node reads its own clock, which the nemesis may bump. */
	int64_t t = (int64_t)nd->sim->now + nd->clock_off;
	return t > 0 ? (uint64_t)t : 0;
}

static uint64_t io_random(struct raft_io *io)
{
	struct node *nd = io->data;
	return rng_next(&nd->sim->rng);
}

static void msg_fields(const struct raft_msg *m, uint64_t *a, uint64_t *b)
{
	switch (m->type) {
	case RAFT_MSG_VOTE: *a = m->vote.last_log_index; *b = m->vote.pre_vote; break;
	case RAFT_MSG_VOTE_RESULT: *a = m->vote_result.granted; *b = m->vote_result.pre_vote; break;
	case RAFT_MSG_APPEND: *a = m->append.prev_index; *b = m->append.n_entries; break;
	case RAFT_MSG_APPEND_RESULT: *a = m->append_result.last_index; *b = m->append_result.success; break;
	case RAFT_MSG_SNAPSHOT: *a = m->snapshot.last_index; *b = 0; break;
	default: *a = *b = 0;
	}
}

static void io_send(struct raft_io *io, const struct raft_msg *m)
{
	struct node *nd = io->data;
	struct sim *s = nd->sim;
	uint64_t a, b;
	msg_fields(m, &a, &b);
	if (!node_of(s, m->to) || s->blocked[m->from][m->to] || rng_pct(&s->rng, s->drop_pct)) {
		tr(s, T_DROP, m->from, (unsigned)m->to, m->type, m->term, a, b);
		return;
	}
	unsigned copies = rng_pct(&s->rng, s->dup_pct) ? 2 : 1;
	for (unsigned k = 0; k < copies; k++) {
		struct raft_msg *c = malloc(sizeof(*c));
		if (!c || raft_msg_copy(m, c) != RAFT_OK)
			abort();
		uint64_t lat = 1 + rng_below(&s->rng, s->o.max_latency_ms);
		if (rng_pct(&s->rng, 3))
			lat += rng_below(&s->rng, 5 * (uint64_t)s->o.max_latency_ms); /* reordering spike */
		schedule(s, s->now + lat, EV_DELIVER, (unsigned)m->to, node_of(s, m->to)->gen, c);
	}
}

static int io_persist_vote(struct raft_io *io, raft_term term, raft_id vote)
{
	struct node *nd = io->data;
	if (term < nd->d_term)
		fail(nd->sim, "n%" PRIu64 " persisted term %" PRIu64 " below durable %" PRIu64, nd->id, term, nd->d_term);
	if (term == nd->d_term && nd->d_vote && vote != nd->d_vote)
		fail(nd->sim, "n%" PRIu64 " changed its vote in term %" PRIu64, nd->id, term);
	nd->d_term = term;
	nd->d_vote = vote;
	return 0;
}

static void schedule_sync(struct sim *s, struct node *nd)
{
	if (nd->sync_scheduled || nd->disk_held || !nd->n_pend)
		return;
	nd->sync_scheduled = true;
	uint64_t lat = 1 + rng_below(&s->rng, s->o.max_sync_ms);
	schedule(s, s->now + lat, EV_SYNC, nd->id, nd->gen, NULL);
}

static int io_append(struct raft_io *io, raft_index first, const struct raft_entry *e, unsigned n)
{
	struct node *nd = io->data;
	struct sim *s = nd->sim;
	for (unsigned i = 0; i < n; i++) {
		raft_term prev = i ? e[i - 1].term : raft_term_at(nd->r, first - 1);
		if (first + i == 1)
			prev = 0;
		else if (!prev)
			prev = (raft_term)-1; /* unknown (compacted) */
		check_entry(s, nd, first + i, &e[i], prev);
	}
	if (nd->n_pend + 1 > nd->cap_pend) {
		size_t c = nd->cap_pend;
		nd->pend = grow(nd->pend, &c, nd->n_pend + 1, sizeof(*nd->pend));
		nd->cap_pend = (unsigned)c;
	}
	struct pending_write *w = &nd->pend[nd->n_pend++];
	w->first = first;
	w->n = n;
	w->e = calloc(n ? n : 1, sizeof(*w->e));
	if (!w->e)
		abort();
	for (unsigned i = 0; i < n; i++) {
		w->e[i] = e[i];
		w->e[i].buf.base = malloc(e[i].buf.len ? e[i].buf.len : 1);
		if (!w->e[i].buf.base)
			abort();
		memcpy(w->e[i].buf.base, e[i].buf.base, e[i].buf.len);
	}
	tr(s, T_APPEND, nd->id, 0, 0, first, n, n ? e[0].term : 0);
	schedule_sync(s, nd);
	return 0;
}

static void sm_apply(struct sim *s, struct node *nd, raft_index index, const struct raft_entry *e)
{
	if (index != nd->sm_index + 1) {
		fail(s, "n%" PRIu64 " applied index %" PRIu64 " after %" PRIu64 " (not exactly once, in order)", nd->id, index, nd->sm_index);
		return;
	}
	nd->sm_index = index;
	uint64_t eh = entry_hash(e);
	nd->sm_hash = fnv(nd->sm_hash ^ index, &eh, sizeof(eh));
	/* State machine safety (§5.4.3): "if a server has applied a log entry
	 * at a given index to its state machine, no other server will ever
	 * apply a different log entry for the same index". The chain hash
	 * covers the whole prefix, snapshots included. */
	s->chain = grow(s->chain, &s->cap_chain, index + 1, sizeof(uint64_t));
	if (s->chain[index] && s->chain[index] != nd->sm_hash)
		fail(s, "state machine safety: n%" PRIu64 " applied a different history at index %" PRIu64, nd->id, index);
	s->chain[index] = nd->sm_hash;
}

static void io_apply(struct raft_io *io, raft_index index, const struct raft_entry *e)
{
	struct node *nd = io->data;
	sm_apply(nd->sim, nd, index, e);
}

static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static void dlog_free(struct node *nd)
{
	for (raft_index i = 0; i < nd->d_n; i++)
		free(nd->d_log[i].buf.base);
	nd->d_n = 0;
}

static void pend_free(struct node *nd)
{
	for (unsigned k = 0; k < nd->n_pend; k++) {
		for (unsigned i = 0; i < nd->pend[k].n; i++)
			free(nd->pend[k].e[i].buf.base);
		free(nd->pend[k].e);
	}
	nd->n_pend = 0;
}

static int io_install_snapshot(struct raft_io *io, const struct raft_snapshot_meta *meta, const struct raft_buf *data)
{
	struct node *nd = io->data;
	struct sim *s = nd->sim;
	if (data->len != 16 || get64(data->base) != meta->last_index) {
		fail(s, "n%" PRIu64 " got a malformed snapshot", nd->id);
		return -1;
	}
	raft_config_free(&nd->d_snap.config);
	nd->d_snap = *meta;
	if (raft_config_copy(&meta->config, &nd->d_snap.config))
		abort();
	memcpy(nd->d_snap_data, data->base, 16);
	nd->has_snap = true;
	/* The durable log is replaced: writes not yet synced are obsolete. */
	dlog_free(nd);
	pend_free(nd);
	nd->d_first = meta->last_index + 1;
	nd->d_base_term = meta->last_term;
	nd->sm_index = meta->last_index;
	nd->sm_hash = get64(nd->d_snap_data + 8);
	s->chain = grow(s->chain, &s->cap_chain, nd->sm_index + 1, sizeof(uint64_t));
	if (s->chain[nd->sm_index] && s->chain[nd->sm_index] != nd->sm_hash)
		fail(s, "state machine safety: n%" PRIu64 " installed a snapshot with a different history at %" PRIu64, nd->id, nd->sm_index);
	tr(s, T_INSTALL, nd->id, 0, 0, meta->last_index, meta->last_term, 0);
	return 0;
}

static int io_load_snapshot(struct raft_io *io, struct raft_snapshot_meta *meta, struct raft_buf *data)
{
	struct node *nd = io->data;
	if (!nd->has_snap)
		return -1;
	*meta = nd->d_snap;
	data->base = nd->d_snap_data;
	data->len = 16;
	return 0;
}

static struct rrec *read_rec(struct sim *s, uint64_t ctx)
{
	return ctx < s->n_reads_rec ? &s->reads[ctx] : NULL;
}

static void io_read_done(struct raft_io *io, uint64_t ctx, raft_index index, bool ok)
{
	struct node *nd = io->data;
	struct sim *s = nd->sim;
	struct rrec *rr = read_rec(s, ctx);
	tr(s, T_READ_DONE, nd->id, 0, 0, ctx, index, ok);
	if (!rr || rr->done || rr->node != nd->id) {
		fail(s, "read_done for unknown or finished read %" PRIu64, ctx);
		return;
	}
	rr->done = true;
	if (!ok) {
		s->reads_failed++;
		return;
	}
	s->reads_ok++;
	/* Linearizable reads (thesis §6.4): the read index must cover every
	 * entry known committed (anywhere) before the read began. */
	if (index < rr->start)
		fail(s, "linearizability: read %" PRIu64 " at n%" PRIu64 " served at index %" PRIu64
		        " but %" PRIu64 " was committed before it started",
		     ctx, nd->id, index, rr->start);
}

static void io_state_changed(struct raft_io *io)
{
	struct node *nd = io->data;
	struct raft *r = nd->r;
	if (r)
		tr(nd->sim, T_ROLE, nd->id, 0, raft_role(r), raft_current_term(r), raft_leader(r), raft_last_index(r));
}

/* ---- node lifecycle ------------------------------------------------------------ */
static struct raft_options node_options(const struct sim *s)
{
	struct raft_options o;
	raft_options_default(&o);
	o.election_timeout_ms = s->o.election_ms;
	o.heartbeat_ms = s->o.heartbeat_ms;
	o.pre_vote = s->o.pre_vote;
	o.check_quorum = s->o.check_quorum;
	o.max_append_entries = s->o.max_append ? s->o.max_append : 16;
	o.max_inflight = s->o.max_inflight ? s->o.max_inflight : 4;
	o.learner_catchup_lag = 8;
	return o;
}

static void node_boot(struct sim *s, struct node *nd)
{
	struct raft_options o = node_options(s);
	if (raft_new(&nd->r, nd->id, &nd->io, &o) != RAFT_OK)
		abort();
	nd->last_role = RAFT_FOLLOWER;
}

/* Apply the pending writes to the durable log, in order. */
static void disk_sync(struct sim *s, struct node *nd)
{
	for (unsigned k = 0; k < nd->n_pend; k++) {
		struct pending_write *w = &nd->pend[k];
		raft_index dlast = nd->d_first + nd->d_n - 1;
		if (w->first < nd->d_first || w->first > dlast + 1) {
			fail(s, "n%" PRIu64 " io->append at %" PRIu64 " leaves a gap or rewrites a snapshot (durable %" PRIu64 "..%" PRIu64 ")",
			     nd->id, w->first, nd->d_first, dlast);
			break;
		}
		/* "truncating every entry >= first" */
		while (nd->d_n > 0 && nd->d_first + nd->d_n - 1 >= w->first) {
			nd->d_n--;
			free(nd->d_log[nd->d_n].buf.base);
		}
		if (nd->d_n + w->n > nd->d_cap) {
			size_t c = nd->d_cap;
			nd->d_log = grow(nd->d_log, &c, nd->d_n + w->n, sizeof(*nd->d_log));
			nd->d_cap = c;
		}
		for (unsigned i = 0; i < w->n; i++) {
			nd->d_log[nd->d_n++] = w->e[i]; /* ownership of the buffer moves */
			w->e[i].buf.base = NULL;
		}
	}
	pend_free(nd);
	if (nd->d_n && nd->r) {
		raft_index last = nd->d_first + nd->d_n - 1;
		raft_term t = nd->d_log[nd->d_n - 1].term;
		tr(s, T_SYNC, nd->id, 0, 0, last, t, 0);
		raft_persisted(nd->r, last, t);
	}
}

static raft_term dlog_term_at(const struct node *nd, raft_index i)
{
	if (i + 1 == nd->d_first)
		return nd->d_base_term;
	if (i < nd->d_first || i >= nd->d_first + nd->d_n)
		return 0;
	return nd->d_log[i - nd->d_first].term;
}

static void node_start(struct sim *s, struct node *nd)
{
	node_boot(s, nd);
	raft_index si = nd->has_snap ? nd->d_snap.last_index : 0;
	const struct raft_entry *ents = NULL;
	unsigned n = 0;
	/* Entries after the snapshot are only valid if the durable log agrees
	 * with the snapshot at its last index (unsynced writes issued before
	 * a snapshot can leave an older branch on disk). */
	if (!si || dlog_term_at(nd, si) == nd->d_snap.last_term) {
		if (si + 1 >= nd->d_first && si + 1 < nd->d_first + nd->d_n) {
			ents = &nd->d_log[si + 1 - nd->d_first];
			n = (unsigned)(nd->d_first + nd->d_n - (si + 1));
		}
	} else {
		/* Unusable: the durable log restarts right after the snapshot. */
		dlog_free(nd);
		nd->d_first = si + 1;
		nd->d_base_term = nd->d_snap.last_term;
	}
	int rc = raft_load(nd->r, nd->d_term, nd->d_vote, nd->has_snap ? &nd->d_snap : NULL, ents, n);
	if (rc != RAFT_OK) {
		fail(s, "n%" PRIu64 " raft_load failed: %s", nd->id, raft_strerror(rc));
		return;
	}
	nd->sm_index = si;
	nd->sm_hash = nd->has_snap ? get64(nd->d_snap_data + 8) : 0;
	nd->seen_commit = raft_commit_index(nd->r);
	nd->lead_term = 0;
	raft_start(nd->r);
	tr(s, T_RESTART, nd->id, 0, 0, nd->d_term, raft_last_index(nd->r), si);
	schedule_tick(s, nd, s->now + 1);
}

void sim_opts_default(struct sim_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->nodes = 3;
	o->seed = 1;
	o->steps = 3000;
	o->faults = true;
	o->membership = true;
	o->election_ms = 100;
	o->heartbeat_ms = 20;
	o->max_sync_ms = 30;
	o->max_latency_ms = 10;
	o->pre_vote = true;
	o->check_quorum = true;
}

void sim_opts_vary(struct sim_opts *o, uint64_t seed)
{
	struct rng r = { seed ^ 0x5bd1e995u };
	/* Most seeds keep the defaults: the combination the server runs. */
	if (rng_below(&r, 4) != 0)
		return;
	o->pre_vote = rng_below(&r, 2);
	o->check_quorum = rng_below(&r, 2);
	o->max_append = 1 + (unsigned)rng_below(&r, 8);
	o->max_inflight = 1 + (unsigned)rng_below(&r, 8);
	o->max_latency_ms = 1 + (unsigned)rng_below(&r, 30);
	o->max_sync_ms = 1 + (unsigned)rng_below(&r, 60);
}

struct sim *sim_new(const struct sim_opts *opts)
{
	if (opts->nodes < 1 || opts->nodes > SIM_MAX_NODES)
		return NULL;
	struct sim *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->o = *opts;
	s->rng.s = opts->seed * 0x2545f4914f6cdd1dull + 7;
	s->n = opts->nodes;
	s->trace = calloc(TRACE_RING, sizeof(*s->trace));
	if (!s->trace) {
		free(s);
		return NULL;
	}
	s->n_reads_rec = 1; /* ctx 0 unused */
	s->reads = grow(NULL, &s->cap_reads_rec, 1, sizeof(*s->reads));
	struct raft_config conf = { 0 };
	for (unsigned i = 0; i < s->n; i++) {
		char addr[32];
		snprintf(addr, sizeof(addr), "sim://n%u", i + 1);
		raft_config_add(&conf, i + 1, RAFT_VOTER, addr);
	}
	for (unsigned i = 0; i < s->n; i++) {
		struct node *nd = &s->nodes[i];
		nd->sim = s;
		nd->id = i + 1;
		nd->d_first = 1;
		nd->io = (struct raft_io){
			.data = nd, .now = io_now, .random = io_random, .send = io_send,
			.persist_vote = io_persist_vote, .append = io_append, .apply = io_apply,
			.install_snapshot = io_install_snapshot, .load_snapshot = io_load_snapshot,
			.read_done = io_read_done, .state_changed = io_state_changed,
		};
		node_boot(s, nd);
		if (raft_bootstrap(nd->r, &conf) != RAFT_OK)
			abort();
		disk_sync(s, nd); /* the bootstrap configuration is durable */
		raft_start(nd->r);
		schedule_tick(s, nd, 1 + rng_below(&s->rng, 5));
	}
	raft_config_free(&conf);
	return s;
}

void sim_free(struct sim *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_heap; i++)
		free_msg(s->heap[i].msg);
	for (unsigned i = 0; i < s->n; i++) {
		struct node *nd = &s->nodes[i];
		raft_free(nd->r);
		dlog_free(nd);
		free(nd->d_log);
		pend_free(nd);
		free(nd->pend);
		raft_config_free(&nd->d_snap.config);
		for (unsigned k = 0; k < nd->n_def; k++)
			free_msg(nd->def[k].msg);
		free(nd->def);
	}
	free(s->heap);
	free(s->leader_of_term);
	free(s->committed);
	free(s->commit_term);
	free(s->chain);
	free(s->etab);
	free(s->reads);
	free(s->trace);
	free(s);
}

/* ---- faults ---------------------------------------------------------------------- */
void sim_crash(struct sim *s, raft_id id)
{
	struct node *nd = node_of(s, id);
	if (!nd || !nd->r)
		return;
	/* Pending reads die with the process: the client sees a timeout. */
	for (size_t i = 1; i < s->n_reads_rec; i++)
		if (s->reads[i].node == id && !s->reads[i].done)
			s->reads[i].done = true;
	tr(s, T_CRASH, id, 0, 0, nd->n_pend, 0, 0);
	raft_free(nd->r);
	nd->r = NULL;
	pend_free(nd); /* unsynced writes are lost */
	nd->sync_scheduled = false;
	nd->paused = false;
	nd->disk_held = false;
	for (unsigned k = 0; k < nd->n_def; k++)
		free_msg(nd->def[k].msg);
	nd->n_def = 0;
	nd->gen++;
	nd->tick_at = 0;
}

void sim_restart(struct sim *s, raft_id id)
{
	struct node *nd = node_of(s, id);
	if (!nd || nd->r)
		return;
	node_start(s, nd);
}

void sim_pause(struct sim *s, raft_id id)
{
	struct node *nd = node_of(s, id);
	if (!nd || !nd->r || nd->paused)
		return;
	nd->paused = true;
	tr(s, T_PAUSE, id, 0, 0, 0, 0, 0);
}

void sim_resume(struct sim *s, raft_id id)
{
	struct node *nd = node_of(s, id);
	if (!nd || !nd->paused)
		return;
	nd->paused = false;
	tr(s, T_RESUME, id, 0, 0, 0, 0, 0);
	/* Held events arrive in their original order, right away. */
	for (unsigned k = 0; k < nd->n_def; k++) {
		struct ev e = nd->def[k];
		e.t = s->now + 1;
		e.seq = s->seq++;
		if (e.type == EV_TICK)
			nd->tick_at = e.t;
		heap_push(s, e);
	}
	nd->n_def = 0;
}

void sim_block(struct sim *s, raft_id from, raft_id to, bool blocked)
{
	if (from < 1 || from > s->n || to < 1 || to > s->n)
		return;
	s->blocked[from][to] = blocked;
	tr(s, T_BLOCK, from, (unsigned)to, 0, blocked, 0, 0);
}

void sim_isolate(struct sim *s, raft_id id, bool isolated)
{
	for (raft_id o = 1; o <= s->n; o++) {
		if (o == id)
			continue;
		s->blocked[id][o] = isolated;
		s->blocked[o][id] = isolated;
	}
	tr(s, T_BLOCK, id, 0, 0, isolated, 0, 0);
}

void sim_heal(struct sim *s)
{
	memset(s->blocked, 0, sizeof(s->blocked));
	tr(s, T_HEAL, 0, 0, 0, 0, 0, 0);
}

void sim_set_drop(struct sim *s, unsigned percent)
{
	s->drop_pct = percent;
	tr(s, T_DROPRATE, 0, 0, 0, percent, 0, 0);
}

void sim_hold_disk(struct sim *s, raft_id id, bool hold)
{
	struct node *nd = node_of(s, id);
	if (!nd || !nd->r)
		return;
	nd->disk_held = hold;
	tr(s, T_DISK, id, 0, 0, hold, 0, 0);
	if (!hold)
		schedule_sync(s, nd);
}

/* ---- client operations ------------------------------------------------------------ */
static void after_call(struct sim *s, struct node *nd)
{
	/* A role change (say, to leader) needs a tick sooner than planned. */
	if (nd->r && raft_role(nd->r) != nd->last_role) {
		nd->last_role = raft_role(nd->r);
		schedule_tick(s, nd, s->now + 1);
	}
	check_all(s);
}

int sim_propose(struct sim *s, raft_id id, raft_index *index)
{
	struct node *nd = node_of(s, id);
	if (!nd || !nd->r || nd->paused)
		return RAFT_ENOTLEADER;
	uint8_t cmd[16];
	put64(cmd, ++s->cmd_counter);
	put64(cmd + 8, s->o.seed);
	raft_index idx = 0;
	raft_term term = 0;
	int rc = raft_propose(nd->r, cmd, sizeof(cmd), &idx, &term);
	tr(s, T_PROPOSE, id, 0, 0, idx, term, (uint64_t)(int64_t)rc);
	if (index)
		*index = idx;
	after_call(s, nd);
	return rc;
}

int sim_read(struct sim *s, raft_id id)
{
	struct node *nd = node_of(s, id);
	if (!nd || !nd->r || nd->paused)
		return RAFT_ENOTLEADER;
	s->reads = grow(s->reads, &s->cap_reads_rec, s->n_reads_rec + 1, sizeof(*s->reads));
	uint64_t ctx = s->n_reads_rec++;
	s->reads[ctx].start = s->max_committed;
	s->reads[ctx].node = id;
	s->reads[ctx].done = false;
	int rc = raft_read_index(nd->r, ctx);
	tr(s, T_READ, id, 0, 0, ctx, s->max_committed, (uint64_t)(int64_t)rc);
	if (rc != RAFT_OK)
		s->reads[ctx].done = true;
	after_call(s, nd);
	return rc;
}

int sim_snapshot(struct sim *s, raft_id id, unsigned trailing)
{
	struct node *nd = node_of(s, id);
	if (!nd || !nd->r || nd->paused)
		return RAFT_EINVAL;
	raft_index a = raft_applied_index(nd->r);
	if (a == 0 || a <= raft_snapshot_index(nd->r) || (nd->has_snap && a <= nd->d_snap.last_index))
		return RAFT_EINVAL;
	if (nd->sm_index != a)
		fail(s, "n%" PRIu64 ": core applied %" PRIu64 " but the host saw %" PRIu64, id, a, nd->sm_index);
	struct raft_snapshot_meta meta;
	int rc = raft_snapshot_meta_at(nd->r, a, &meta);
	if (rc == RAFT_OK) {
		/* The snapshot is written durably before the core is told. */
		raft_config_free(&nd->d_snap.config);
		nd->d_snap = meta;
		put64(nd->d_snap_data, a);
		put64(nd->d_snap_data + 8, nd->sm_hash);
		nd->has_snap = true;
		rc = raft_snapshot_taken(nd->r, a, trailing);
	}
	tr(s, T_SNAP, id, 0, 0, a, trailing, (uint64_t)(int64_t)rc);
	after_call(s, nd);
	return rc;
}

unsigned sim_reads_ok(const struct sim *s) { return s->reads_ok; }
unsigned sim_reads_failed(const struct sim *s) { return s->reads_failed; }
raft_index sim_max_committed(const struct sim *s) { return s->max_committed; }
unsigned sim_elections(const struct sim *s) { return s->elections; }
uint64_t sim_steps(const struct sim *s) { return s->steps; }
uint64_t sim_now(const struct sim *s) { return s->now; }
const struct sim_stats *sim_stats(const struct sim *s) { return &s->stats; }

struct raft *sim_raft(struct sim *s, raft_id id)
{
	struct node *nd = node_of(s, id);
	return nd ? nd->r : NULL;
}

raft_id sim_leader(struct sim *s)
{
	raft_id best = 0;
	raft_term bt = 0;
	for (unsigned i = 0; i < s->n; i++) {
		struct raft *r = s->nodes[i].r;
		if (r && !s->nodes[i].paused && raft_role(r) == RAFT_LEADER && raft_current_term(r) >= bt) {
			best = s->nodes[i].id;
			bt = raft_current_term(r);
		}
	}
	return best;
}

/* ---- nemesis and clients ----------------------------------------------------------- */
static raft_id pick_node(struct sim *s, bool want_up)
{
	raft_id cand[SIM_MAX_NODES];
	unsigned k = 0;
	for (unsigned i = 0; i < s->n; i++)
		if ((s->nodes[i].r != NULL) == want_up)
			cand[k++] = s->nodes[i].id;
	return k ? cand[rng_below(&s->rng, k)] : 0;
}

static raft_id pick_leader(struct sim *s)
{
	raft_id cand[SIM_MAX_NODES];
	unsigned k = 0;
	for (unsigned i = 0; i < s->n; i++)
		if (s->nodes[i].r && !s->nodes[i].paused && raft_role(s->nodes[i].r) == RAFT_LEADER)
			cand[k++] = s->nodes[i].id;
	return k ? cand[rng_below(&s->rng, k)] : 0;
}

static void nemesis_member(struct sim *s)
{
	raft_id l = pick_leader(s);
	if (!l)
		return;
	struct raft *r = sim_raft(s, l);
	const struct raft_config *c = raft_configuration(r);
	unsigned op = (unsigned)rng_below(&s->rng, 3);
	raft_id target = 1 + rng_below(&s->rng, s->n);
	const struct raft_server *sv = raft_config_get(c, target);
	int rc;
	if (!sv) {
		op = 0;
		rc = raft_add_learner(r, target, "sim", NULL);
	} else if (sv->role == RAFT_LEARNER && op != 2) {
		op = 1;
		rc = raft_promote(r, target, NULL);
	} else {
		op = 2;
		/* Down to one voter at most (raft_remove refuses zero). */
		if (sv->role == RAFT_VOTER && raft_config_voters(c) <= 1)
			return;
		rc = raft_remove(r, target, NULL);
	}
	tr(s, T_MEMBER, l, 0, op, target, 0, (uint64_t)(int64_t)rc);
	after_call(s, node_of(s, l));
}

static void nemesis(struct sim *s)
{
	unsigned x = (unsigned)rng_below(&s->rng, 100);
	if (x < 12) { /* symmetric partition into two random sides */
		bool side[SIM_MAX_NODES + 1];
		for (raft_id i = 1; i <= s->n; i++)
			side[i] = rng_pct(&s->rng, 50);
		for (raft_id a = 1; a <= s->n; a++)
			for (raft_id b = 1; b <= s->n; b++)
				s->blocked[a][b] = a != b && side[a] != side[b];
		for (raft_id i = 1; i <= s->n; i++)
			tr(s, T_BLOCK, i, 0, side[i] ? 1 : 2, 2, 0, 0);
	} else if (x < 18) { /* one-way */
		raft_id a = 1 + rng_below(&s->rng, s->n), b = 1 + rng_below(&s->rng, s->n);
		if (a != b)
			sim_block(s, a, b, true);
	} else if (x < 22) {
		sim_isolate(s, 1 + rng_below(&s->rng, s->n), true);
	} else if (x < 38) {
		sim_heal(s);
	} else if (x < 48) {
		sim_crash(s, pick_node(s, true));
	} else if (x < 60) {
		sim_restart(s, pick_node(s, false));
	} else if (x < 65) {
		sim_pause(s, pick_node(s, true));
	} else if (x < 72) {
		for (unsigned i = 0; i < s->n; i++)
			if (s->nodes[i].paused && rng_pct(&s->rng, 60))
				sim_resume(s, s->nodes[i].id);
	} else if (x < 76) {
		static const unsigned rates[] = { 0, 0, 5, 20 };
		sim_set_drop(s, rates[rng_below(&s->rng, 4)]);
	} else if (x < 80) {
		raft_id l = pick_leader(s);
		if (l) {
			raft_id t = rng_below(&s->rng, s->n + 1);
			int rc = raft_transfer(sim_raft(s, l), t);
			tr(s, T_TRANSFER, l, 0, 0, t, 0, (uint64_t)(int64_t)rc);
			after_call(s, node_of(s, l));
		}
	} else if (x < 88) {
		raft_id id = pick_node(s, true);
		if (id)
			sim_snapshot(s, id, (unsigned)rng_below(&s->rng, 5));
	} else if (x < 96) {
		if (s->o.membership)
			nemesis_member(s);
	} else if (x < 98) {
		raft_id id = pick_node(s, true);
		if (id)
			sim_hold_disk(s, id, !node_of(s, id)->disk_held);
	} else {
		/* Clock fault: a node's clock jumps, backwards or forwards. */
		raft_id id = 1 + rng_below(&s->rng, s->n);
		int64_t d = (int64_t)rng_below(&s->rng, 601) - 300;
		node_of(s, id)->clock_off += d;
		tr(s, T_CLOCK, id, 0, 0, (uint64_t)d, 0, 0);
		s->stats.clock_bumps++;
	}
}

static void client(struct sim *s)
{
	raft_id l = pick_leader(s);
	if (!l)
		return;
	if (rng_pct(&s->rng, 70))
		sim_propose(s, l, NULL);
	else
		sim_read(s, l);
}

/* ---- the event loop -------------------------------------------------------------------- */
static void defer(struct node *nd, struct ev e)
{
	if (nd->n_def + 1 > nd->cap_def) {
		size_t c = nd->cap_def;
		nd->def = grow(nd->def, &c, nd->n_def + 1, sizeof(*nd->def));
		nd->cap_def = (unsigned)c;
	}
	nd->def[nd->n_def++] = e;
}

static void step(struct sim *s)
{
	struct ev e = heap_pop(s);
	if (e.t > s->now)
		s->now = e.t;
	s->steps++;
	struct node *nd = e.node ? node_of(s, e.node) : NULL;
	switch (e.type) {
	case EV_NEMESIS:
		if (s->chaos) {
			nemesis(s);
			schedule(s, s->now + 20 + rng_below(&s->rng, 300), EV_NEMESIS, 0, 0, NULL);
		}
		break;
	case EV_CLIENT:
		if (s->chaos) {
			client(s);
			schedule(s, s->now + 3 + rng_below(&s->rng, 25), EV_CLIENT, 0, 0, NULL);
		}
		break;
	default:
		if (!nd->r || e.gen != nd->gen) {
			free_msg(e.msg); /* for a crashed incarnation */
			break;
		}
		if (nd->paused) {
			defer(nd, e);
			break;
		}
		if (e.type == EV_DELIVER) {
			uint64_t a, b;
			msg_fields(e.msg, &a, &b);
			/* A partition also swallows what was in flight. */
			if (s->blocked[e.msg->from][e.msg->to]) {
				tr(s, T_DROP, e.node, (unsigned)e.msg->from, e.msg->type, e.msg->term, a, b);
				free_msg(e.msg);
				break;
			}
			tr(s, T_DELIVER, e.node, (unsigned)e.msg->from, e.msg->type, e.msg->term, a, b);
			int rc = raft_step(nd->r, e.msg);
			/* Every message here comes from a core: refusing one as
			 * malformed is a bug in the validation (or the sender). */
			if (rc != RAFT_OK)
				fail(s, "n%" PRIu64 " refused a %s from n%" PRIu64 ": %s", nd->id, msg_name(e.msg->type), e.msg->from,
				     raft_strerror(rc));
			free_msg(e.msg);
		} else if (e.type == EV_TICK) {
			if (e.t != nd->tick_at)
				break; /* superseded */
			unsigned next = raft_tick(nd->r);
			if (next > 50)
				next = 50;
			nd->tick_at = 0;
			schedule_tick(s, nd, s->now + (next ? next : 1));
		} else if (e.type == EV_SYNC) {
			nd->sync_scheduled = false;
			if (!nd->disk_held)
				disk_sync(s, nd);
		}
		after_call(s, nd);
	}
}

static bool run_until_time(struct sim *s, uint64_t until, bool (*pred)(struct sim *, void *), void *arg)
{
	while (!s->failed && s->n_heap > 0 && s->heap[0].t <= until) {
		step(s);
		if (pred && pred(s, arg))
			return true;
	}
	if (s->now < until && !s->failed)
		s->now = until;
	return pred ? pred(s, arg) : false;
}

void sim_run_for(struct sim *s, uint64_t ms)
{
	run_until_time(s, s->now + ms, NULL, NULL);
}

bool sim_run_until(struct sim *s, uint64_t ms, bool (*pred)(struct sim *, void *), void *arg)
{
	if (pred(s, arg))
		return true;
	return run_until_time(s, s->now + ms, pred, arg);
}

struct live_goal {
	raft_id node;
	raft_index index;
	raft_term term;
	bool done;
};

static bool live_committed(struct sim *s, void *arg)
{
	struct live_goal *g = arg;
	for (unsigned i = 0; i < s->n; i++) {
		struct raft *r = s->nodes[i].r;
		if (r && raft_commit_index(r) >= g->index && raft_term_at(r, g->index) == g->term) {
			g->done = true;
			return true;
		}
	}
	/* The proposer lost its leadership: the entry may be lost; try anew. */
	struct raft *p = sim_raft(s, g->node);
	return !p || raft_role(p) != RAFT_LEADER || raft_current_term(p) != g->term;
}

/* Liveness in calm periods: once every fault is healed, a leader is
 * elected and a proposal commits within bounded simulated time. */
static void liveness(struct sim *s)
{
	s->chaos = false;
	tr(s, T_NOTE, 0, 0, 0, 1, 0, 0);
	sim_heal(s);
	sim_set_drop(s, 0);
	for (unsigned i = 0; i < s->n; i++) {
		struct node *nd = &s->nodes[i];
		if (!nd->r)
			sim_restart(s, nd->id);
		sim_resume(s, nd->id);
		if (nd->disk_held)
			sim_hold_disk(s, nd->id, false);
	}
	/* Bounded: elections, plus the time to replicate the backlog one
	 * round trip and one disk sync per batch (small batches and windows
	 * are among the varied settings). */
	raft_index backlog = 0;
	for (unsigned i = 0; i < s->n; i++)
		if (s->nodes[i].r && raft_last_index(s->nodes[i].r) > s->max_committed)
			backlog = raft_last_index(s->nodes[i].r) - s->max_committed > backlog
			                  ? raft_last_index(s->nodes[i].r) - s->max_committed
			                  : backlog;
	uint64_t per_batch = 2ull * s->o.max_latency_ms + s->o.max_sync_ms + s->o.heartbeat_ms;
	uint64_t batch = (s->o.max_append ? s->o.max_append : 16) * (uint64_t)(s->o.max_inflight ? s->o.max_inflight : 4);
	uint64_t budget = 40ull * s->o.election_ms + (backlog / batch + 1) * per_batch * 2;
	uint64_t deadline = s->now + budget;
	bool committed = false;
	while (!s->failed && !committed && s->now < deadline) {
		raft_id l = sim_leader(s);
		struct live_goal g = { 0 };
		if (l && sim_propose(s, l, &g.index) == RAFT_OK) {
			g.node = l;
			g.term = raft_current_term(sim_raft(s, l));
			sim_run_until(s, deadline - s->now, live_committed, &g);
			committed = g.done;
		} else {
			sim_run_for(s, s->o.heartbeat_ms);
		}
	}
	if (s->failed)
		return;
	if (!committed) {
		fail(s, "liveness: no proposal committed within %" PRIu64 " ms after healing (backlog %" PRIu64 ")", budget, backlog);
		append_node_states(s);
		return;
	}
	/* Durability: every entry ever reported committed, by any node, is
	 * still there — in the final leader's log or under its snapshot. */
	raft_id l = sim_leader(s);
	if (!l)
		return; /* leadership moved on in between; the commit above was enough */
	struct raft *lr = sim_raft(s, l);
	for (raft_index i = raft_snapshot_index(lr) + 1; i <= s->max_committed; i++) {
		if (s->committed[i] && raft_term_at(lr, i) != s->committed[i]) {
			fail(s, "durability: entry %" PRIu64 " (term %" PRIu64 ") was reported committed but the final leader n%" PRIu64
			        " has term %" PRIu64 " there",
			     i, s->committed[i], l, raft_term_at(lr, i));
			return;
		}
	}
	if (raft_commit_index(lr) < s->max_committed) {
		fail(s, "durability: the final leader's commit index %" PRIu64 " is below %" PRIu64 ", reported committed earlier",
		     raft_commit_index(lr), s->max_committed);
		return;
	}
	/* Convergence: every member of the leader's configuration catches up
	 * to the leader's commit index with the same state machine. */
	raft_index target = raft_commit_index(lr);
	/* A lagging member (a learner added late, a node back from a long
	 * crash) catches up batch by batch. */
	raft_index lag = 0;
	for (unsigned i = 0; i < s->n; i++) {
		struct raft *r = s->nodes[i].r;
		if (r && target > raft_applied_index(r) && target - raft_applied_index(r) > lag)
			lag = target - raft_applied_index(r);
	}
	uint64_t until = s->now + 40ull * s->o.election_ms + (lag / batch + 1) * per_batch * 2;
	while (!s->failed && s->now < until) {
		bool all = true;
		const struct raft_config *c = raft_configuration(lr);
		for (unsigned i = 0; i < c->n; i++) {
			struct raft *r = sim_raft(s, c->servers[i].id);
			if (r && raft_applied_index(r) < target)
				all = false;
		}
		if (all)
			return;
		sim_run_for(s, s->o.heartbeat_ms);
		if (sim_leader(s) != l)
			return; /* new leader: nothing more to compare against */
	}
	if (!s->failed)
		fail(s, "liveness: members did not apply up to %" PRIu64 " after healing", target);
	if (s->failed)
		append_node_states(s);
}

int sim_run(struct sim *s)
{
	s->chaos = true;
	schedule(s, s->now + 50 + rng_below(&s->rng, 200), EV_NEMESIS, 0, 0, NULL);
	schedule(s, s->now + 5, EV_CLIENT, 0, 0, NULL);
	s->dup_pct = 2;
	if (!s->o.faults) {
		s->dup_pct = 0;
	}
	uint64_t limit = s->steps + s->o.steps;
	while (!s->failed && s->steps < limit && s->n_heap > 0) {
		if (!s->o.faults && s->heap[0].type == EV_NEMESIS) {
			heap_pop(s);
			continue;
		}
		step(s);
	}
	if (!s->failed)
		liveness(s);
	return s->failed ? 1 : 0;
}
