/* chk_search.c — the linearizability search: Wing–Gong/Lowe just-in-time DFS with a compact 128-bit configuration cache, lazy placement of crashed writes, and sound pruning of ops that cannot matter. */
#include <stdlib.h>
#include <string.h>

#include "checker/chk_internal.h"

/*
 * Overview (one key at a time; the caller splits kv histories by key).
 *
 * Preprocessing, each step sound for "the sub-history is linearizable":
 *  - fail ops are dropped: they certainly did not take effect (contract).
 *  - reads that did not complete ok (info, or never completed) are dropped:
 *    a read changes no state and its result is unknown, so it constrains
 *    nothing.
 *  - a crashed cas [v v] is dropped: when it applies it leaves the state as
 *    it was, and it is never required to apply.
 *  - a crashed write of v (or crashed cas [a v]) whose value v is never
 *    observed — no ok read returns v, no ok or crashed cas expects v — is
 *    dropped. Proof: take a linearization L that contains it. Right after it
 *    the state is v, so the next op in L can neither be a read (it would
 *    return v) nor a cas (it would expect v): it is a write, or there is no
 *    next op. A write is legal in every state, so L without the crashed op is
 *    still legal, and a crashed op may be left out (it may never have taken
 *    effect). Conversely a linearization without it is one with it omitted.
 *  - crashed writes are not search candidates at all: they are "tokens"
 *    placed lazily. By the same argument, in some linearization every crashed
 *    write that is present is immediately followed by an op that needs its
 *    value (a read of v, a cas expecting v); so the search places one only
 *    when an op about to be linearized needs value v and the state is not v.
 *    Which crashed write of v it uses does not matter: all crashed writes of
 *    v whose invocation precedes the current point are interchangeable (each
 *    may take effect at any later time), so only how many of them have been
 *    used matters. If the state already is v no token is spent: same state,
 *    more tokens left, so that choice dominates.
 *  - crashed cas ops stay search candidates, but by the same argument one
 *    that is placed must be followed at once by an op that needs its new
 *    value (a read of it, an ok or crashed cas expecting it); otherwise the
 *    next op is a write and the crashed cas can be left out. Removing it may
 *    leave an earlier crashed op followed by that write, which can then be
 *    left out in turn, so every linearization has such a canonical form.
 *
 * Search: entries (call/return of each op) sorted by time, calls before
 * returns at equal times (intervals are closed), in a doubly linked list.
 * Candidates for the next linearization point are the calls before the first
 * return in the list (Lowe's just-in-time linearization). On top of the
 * Wing-Gong/Lowe DFS:
 *  - a candidate pure op (a read) legal in the current state is linearized
 *    at once, with no alternative tried (commutation proof at its use);
 *  - no token is spent while an ok write of the needed value is a candidate
 *    (exchange proof at its use);
 *  - after a crashed cas the next op must need its new value (above).
 * A configuration is (set of linearized ops, model state, must-observe
 * constraint, tokens used per value). The first three are cached as a 128-bit
 * hash: a Zobrist hash (XOR of a per-op pseudo-random 128-bit word, updated
 * incrementally when an op is linearized or undone) mixed with a bijective
 * hash of the state. No bitset is stored. Two distinct configurations collide
 * only if the XOR of the random words of their symmetric difference equals a
 * fixed value, probability 2^-128 per pair; with E cached configurations the
 * chance of any collision is below E^2 * 2^-128 (10^-21 for E = 10^9). A
 * collision could only prune a configuration wrongly, never accept an
 * illegal order. The token counts are kept beside the hash as a packed
 * vector and compared by dominance (cache_insert); when they do not pack
 * into 64 bits, a Zobrist word per (value, count) goes into the hash instead
 * and only equal counts match.
 */

struct entry {
	struct entry *prev, *next, *match; /* match: call -> return; NULL if none */
	uint32_t op;                       /* op id in h->ops */
	uint32_t local;                    /* index in this search (Zobrist word) */
	uint32_t pos;                      /* position in time order */
	uint8_t is_call, is_ok;
};

struct frame {
	struct entry *e;
	uint64_t state;  /* state before */
	int32_t token;   /* token class used, or -1 */
	uint32_t tok_op; /* op id of that crashed write */
	bool forced;     /* a pure op linearized without alternatives */
	int32_t must;    /* the must-observe constraint before this step */
};

/* Slots of 4 words: lo, hi (the configuration hash; (0,0) = empty), u (a
 * packed token vector), more (1 + index of further token vectors of the same
 * configuration in `extra`, 0 = none). Keeping the rare extra vectors out of
 * the table keeps probe runs short. */
#define CACHE_MAX_VECTORS 1024

struct cache {
	uint64_t *slots;
	size_t cap, count; /* count: distinct (lo, hi) */
	uint64_t *extra;   /* pairs (u, more) */
	size_t nextra, capextra;
};

struct search {
	const struct chk_history *h;
	const struct chk_model *m;
	struct chk_limits *lim;
	size_t held; /* bytes reserved in lim */
	struct entry *ents;
	struct entry head;
	size_t nents;
	/* tokens: classes sorted by value; class k owns tok_pos[cls_start[k]..cls_start[k+1]) */
	int32_t *cls_value;
	uint32_t *cls_start;
	uint32_t *tok_pos, *tok_op;
	uint32_t *used;
	size_t ncls;
	/* When the used-token vector packs into 64 bits (field k at cls_shift[k],
	 * cls_width[k] bits), it is stored beside the configuration hash and
	 * compared by dominance instead of being hashed: see cache_insert. */
	bool packed;
	uint8_t *cls_shift, *cls_width;
	uint64_t guard; /* the top bit of every lane */
	struct cache cache;
	struct frame *stack;
	size_t sp;
	struct frame *best;
	size_t best_len, dirty;
	uint64_t best_state;
};

static inline uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Key part for the must-observe constraint (see the search loop). */
static inline uint64_t must_lo(int32_t must)
{
	return must < 0 ? 0 : mix64(0x452821e638d01377ull ^ (uint64_t)must);
}
static inline uint64_t must_hi(int32_t must)
{
	return must < 0 ? 0 : mix64(0xbe5466cf34e90c6cull ^ (uint64_t)must);
}

/* The per-op and per-(class, count) Zobrist words: a fixed pseudo-random
 * function so that runs are reproducible. */
static inline void zob_op(uint32_t local, uint64_t *lo, uint64_t *hi)
{
	*lo = mix64(0x243f6a8885a308d3ull ^ ((uint64_t)local << 1));
	*hi = mix64(0x13198a2e03707344ull ^ ((uint64_t)local << 1 | 1));
}

static inline void zob_tok(uint32_t cls, uint32_t count, uint64_t *lo, uint64_t *hi)
{
	if (count == 0) {
		*lo = *hi = 0;
		return;
	}
	uint64_t x = ((uint64_t)cls << 32) | count;
	*lo = mix64(0xa4093822299f31d0ull ^ mix64(x));
	*hi = mix64(0x082efa98ec4e6c89ull ^ mix64(x ^ 0x5555555555555555ull));
}

static bool reserve(struct search *s, size_t bytes)
{
	if (!chk_mem_reserve(s->lim, bytes))
		return false;
	s->held += bytes;
	return true;
}

static void release(struct search *s, size_t bytes)
{
	chk_mem_release(s->lim, bytes);
	s->held -= bytes;
}

/* true if every token count in a is <= the one in b (a dominates b).
 * Fields are lanes of equal width with a spare top bit (guard): b | guard
 * minus a leaves every guard bit set iff no lane of a exceeds b's, and no
 * borrow crosses lanes. */
static inline bool tokens_le(const struct search *s, uint64_t a, uint64_t b)
{
	return (((b | s->guard) - a) & s->guard) == s->guard;
}

/* Looks up configuration (lo, hi) with token vector u and records it.
 * Returns 1 if it must be explored (recorded), 0 if it is covered by an
 * explored configuration, -1 at the memory limit.
 *
 * Covered means: same linearized ok ops and state (same hash), and a token
 * vector that used no more tokens of any value. Soundness: with the same
 * ops linearized, both have the same candidates and frontier; with fewer
 * tokens used, every crashed write still available to the covered one is
 * available to the explored one at every later point, so any continuation
 * of the covered configuration is one of the explored configuration, which
 * failed (a configuration is only met again after its first visit was fully
 * explored without success, because the linearized set grows along a path).
 * A new vector that is below a recorded one replaces it (the old one is then
 * covered). Without packing, u is 0 and the token counts are in the hash. */
static int cache_insert(struct search *s, uint64_t lo, uint64_t hi, uint64_t u)
{
	struct cache *c = &s->cache;
	if (lo == 0 && hi == 0)
		hi = 1; /* (0,0) marks empty slots; see the collision bound above */
	if ((c->count + 1) * 10 > c->cap * 7) {
		size_t ncap = c->cap ? c->cap * 2 : 1024;
		size_t bytes = ncap * 4 * sizeof(uint64_t);
		if (!reserve(s, bytes))
			return -1;
		uint64_t *ns = calloc(ncap * 4, sizeof(uint64_t));
		if (!ns) {
			release(s, bytes);
			return -1;
		}
		for (size_t i = 0; i < c->cap; i++) {
			uint64_t *e = &c->slots[4 * i];
			if (!e[0] && !e[1])
				continue;
			size_t j = (size_t)(e[0] ^ (e[1] >> 7)) & (ncap - 1);
			while (ns[4 * j] || ns[4 * j + 1])
				j = (j + 1) & (ncap - 1);
			memcpy(&ns[4 * j], e, 4 * sizeof(uint64_t));
		}
		free(c->slots);
		if (c->cap)
			release(s, c->cap * 4 * sizeof(uint64_t));
		c->slots = ns;
		c->cap = ncap;
	}
	size_t j = (size_t)(lo ^ (hi >> 7)) & (c->cap - 1);
	uint64_t *e;
	for (;;) {
		e = &c->slots[4 * j];
		if (!e[0] && !e[1]) {
			e[0] = lo;
			e[1] = hi;
			e[2] = u;
			e[3] = 0;
			c->count++;
			return 1;
		}
		if (e[0] == lo && e[1] == hi)
			break;
		j = (j + 1) & (c->cap - 1);
	}
	/* Known configuration: covered if one of its vectors is <= u. */
	uint64_t *replace = NULL;
	unsigned len = 0;
	for (uint64_t *v = &e[2];; v = &c->extra[2 * (v[1] - 1)]) {
		if (tokens_le(s, v[0], u))
			return 0;
		if (!replace && tokens_le(s, u, v[0]))
			replace = v;
		len++;
		if (!v[1])
			break;
	}
	if (replace) {
		replace[0] = u;
		return 1;
	}
	/* Not recording a configuration only costs pruning, never soundness;
	 * bounding the vectors kept per configuration bounds the cost of a
	 * lookup when token vectors are many and incomparable. */
	if (len >= CACHE_MAX_VECTORS)
		return 1;
	if (c->nextra == c->capextra) {
		size_t ncap = c->capextra ? c->capextra * 2 : 1024;
		if (!reserve(s, (ncap - c->capextra) * 2 * sizeof(uint64_t)))
			return -1;
		uint64_t *nx = realloc(c->extra, ncap * 2 * sizeof(uint64_t));
		if (!nx) {
			release(s, (ncap - c->capextra) * 2 * sizeof(uint64_t));
			return -1;
		}
		c->extra = nx;
		c->capextra = ncap;
	}
	/* e may not move: the table did not grow since it was found */
	c->extra[2 * c->nextra] = u;
	c->extra[2 * c->nextra + 1] = e[3];
	e[3] = ++c->nextra;
	return 1;
}

static void lift(struct entry *e)
{
	e->prev->next = e->next;
	if (e->next)
		e->next->prev = e->prev;
	struct entry *r = e->match;
	if (r) {
		r->prev->next = r->next;
		if (r->next)
			r->next->prev = r->prev;
	}
}

static void unlift(struct entry *e)
{
	struct entry *r = e->match;
	if (r) {
		r->prev->next = r;
		if (r->next)
			r->next->prev = r;
	}
	e->prev->next = e;
	if (e->next)
		e->next->prev = e;
}

struct ev {
	int64_t time;
	uint32_t seq;
	uint8_t kind; /* 0 call, 1 return, 2 token call */
	uint32_t op, local;
	uint8_t is_ok;
};

static int ev_cmp(const void *pa, const void *pb)
{
	const struct ev *a = pa, *b = pb;
	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	int ka = a->kind == 1, kb = b->kind == 1; /* calls (and tokens) first */
	if (ka != kb)
		return ka - kb;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int tok_cmp(const void *pa, const void *pb)
{
	const uint32_t *a = pa, *b = pb; /* (value, pos, op) triples */
	if (a[0] != b[0])
		return a[0] < b[0] ? -1 : 1;
	return a[1] < b[1] ? -1 : a[1] > b[1];
}

static int32_t class_of(const struct search *s, int32_t value)
{
	size_t lo = 0, hi = s->ncls;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->cls_value[mid] < value)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->ncls && s->cls_value[lo] == value ? (int32_t)lo : -1;
}

/* Number of tokens of class k whose call precedes position pos. */
static uint32_t tokens_before(const struct search *s, int32_t k, uint32_t pos)
{
	uint32_t lo = s->cls_start[k], hi = s->cls_start[k + 1];
	uint32_t a = lo, b = hi;
	while (a < b) {
		uint32_t mid = (a + b) / 2;
		if (s->tok_pos[mid] < pos)
			a = mid + 1;
		else
			b = mid;
	}
	return a - lo;
}

static void search_free(struct search *s)
{
	free(s->ents);
	free(s->cls_value);
	free(s->cls_start);
	free(s->tok_pos);
	free(s->tok_op);
	free(s->used);
	free(s->cls_shift);
	free(s->cls_width);
	free(s->cache.slots);
	free(s->cache.extra);
	free(s->stack);
	free(s->best);
	if (s->held)
		chk_mem_release(s->lim, s->held);
}

static void set_unknown(struct chk_search_result *res, const char *why)
{
	res->verdict = CHK_V_UNKNOWN;
	snprintf(res->reason, sizeof res->reason, "%s", why);
}

/* Builds entries and token classes. Returns false at the memory limit. */
static bool prepare(struct search *s, const uint32_t *ids, size_t n)
{
	const struct chk_history *h = s->h;
	size_t nv = h->values.n;
	size_t obs_bytes = (nv + 7) / 8;
	if (!reserve(s, obs_bytes + n * (sizeof(struct ev) + 2 * sizeof(struct entry) +
					 3 * sizeof(uint32_t))))
		return false;
	uint8_t *observed = calloc(obs_bytes ? obs_bytes : 1, 1);
	struct ev *evs = malloc((2 * n + 1) * sizeof *evs);
	uint32_t *toks = malloc((3 * n + 1) * sizeof *toks);
	s->ents = malloc((2 * n + 1) * sizeof *s->ents);
	if (!observed || !evs || !toks || !s->ents) {
		free(observed);
		free(evs);
		free(toks);
		return false;
	}
#define OBS(v) (observed[(v) >> 3] & (1u << ((v)&7)))
	for (size_t i = 0; i < n; i++) {
		const struct chk_op *o = &h->ops[ids[i]];
		if (o->status == CHK_ST_FAIL)
			continue;
		if (o->f == CHK_F_READ && o->status == CHK_ST_OK)
			observed[o->a >> 3] |= (uint8_t)(1u << (o->a & 7));
		if (o->f == CHK_F_CAS && !(o->status == CHK_ST_INFO && o->a == o->b))
			observed[o->a >> 3] |= (uint8_t)(1u << (o->a & 7));
	}
	size_t nev = 0, ntok = 0;
	uint32_t local = 0;
	for (size_t i = 0; i < n; i++) {
		const struct chk_op *o = &h->ops[ids[i]];
		if (o->status == CHK_ST_FAIL)
			continue;
		if (o->status != CHK_ST_OK) {
			if (o->f == CHK_F_READ)
				continue;
			if (o->f == CHK_F_WRITE) {
				if (!OBS(o->a))
					continue;
				/* a token: placed lazily */
				evs[nev++] = (struct ev){o->call_time, o->call_seq, 2, ids[i], 0, 0};
				continue;
			}
			if (o->a == o->b || !OBS(o->b))
				continue;
		}
		evs[nev++] = (struct ev){o->call_time, o->call_seq, 0, ids[i], local,
					 o->status == CHK_ST_OK};
		if (o->status == CHK_ST_OK)
			evs[nev++] = (struct ev){o->ret_time, o->ret_seq, 1, ids[i], local, 1};
		local++;
	}
#undef OBS
	free(observed);
	qsort(evs, nev, sizeof *evs, ev_cmp);
	/* Link the list; remember each call entry by its local index to attach
	 * returns. */
	struct entry **call_of = calloc(local + 1, sizeof *call_of);
	if (!call_of) {
		free(evs);
		free(toks);
		return false;
	}
	struct entry *prev = &s->head;
	s->head.prev = NULL;
	size_t ne = 0;
	for (size_t i = 0; i < nev; i++) {
		struct ev *v = &evs[i];
		if (v->kind == 2) {
			toks[3 * ntok] = (uint32_t)h->ops[v->op].a;
			toks[3 * ntok + 1] = (uint32_t)i;
			toks[3 * ntok + 2] = v->op;
			ntok++;
			continue;
		}
		struct entry *e = &s->ents[ne++];
		*e = (struct entry){.prev = prev, .next = NULL, .match = NULL, .op = v->op,
				    .local = v->local, .pos = (uint32_t)i,
				    .is_call = v->kind == 0, .is_ok = v->is_ok};
		prev->next = e;
		prev = e;
		if (v->kind == 0)
			call_of[v->local] = e;
		else
			call_of[v->local]->match = e;
	}
	prev->next = NULL;
	if (prev == &s->head)
		s->head.next = NULL;
	s->nents = ne;
	free(call_of);
	free(evs);
	/* token classes */
	qsort(toks, ntok, 3 * sizeof *toks, tok_cmp);
	s->tok_pos = malloc((ntok + 1) * sizeof *s->tok_pos);
	s->tok_op = malloc((ntok + 1) * sizeof *s->tok_op);
	s->cls_value = malloc((ntok + 1) * sizeof *s->cls_value);
	s->cls_start = malloc((ntok + 2) * sizeof *s->cls_start);
	s->used = calloc(ntok + 1, sizeof *s->used);
	if (!s->tok_pos || !s->tok_op || !s->cls_value || !s->cls_start || !s->used) {
		free(toks);
		return false;
	}
	s->ncls = 0;
	for (size_t i = 0; i < ntok; i++) {
		if (i == 0 || toks[3 * i] != toks[3 * (i - 1)]) {
			s->cls_value[s->ncls] = (int32_t)toks[3 * i];
			s->cls_start[s->ncls++] = (uint32_t)i;
		}
		s->tok_pos[i] = toks[3 * i + 1];
		s->tok_op[i] = toks[3 * i + 2];
	}
	s->cls_start[s->ncls] = (uint32_t)ntok;
	free(toks);
	/* Pack the used-token vector if every class's count fits in equal lanes
	 * with one guard bit each (see tokens_le). */
	s->cls_shift = malloc(s->ncls + 1);
	s->cls_width = malloc(s->ncls + 1);
	if (!s->cls_shift || !s->cls_width)
		return false;
	unsigned w = 1;
	for (size_t k = 0; k < s->ncls; k++) {
		uint32_t cnt = s->cls_start[k + 1] - s->cls_start[k];
		while (w < 32 && (cnt >> w))
			w++;
	}
	s->packed = s->ncls * (w + 1) <= 64 && !s->lim->no_pack;
	s->guard = 0;
	for (size_t k = 0; s->packed && k < s->ncls; k++) {
		s->cls_shift[k] = (uint8_t)(k * (w + 1));
		s->cls_width[k] = (uint8_t)w;
		s->guard |= (uint64_t)1 << (k * (w + 1) + w);
	}
	return true;
}

static bool grow_frames(struct search *s, struct frame **arr, size_t *cap, size_t need)
{
	if (need <= *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 256;
	while (ncap < need)
		ncap *= 2;
	if (!reserve(s, (ncap - *cap) * sizeof(struct frame)))
		return false;
	struct frame *n = realloc(*arr, ncap * sizeof *n);
	if (!n) {
		release(s, (ncap - *cap) * sizeof(struct frame));
		return false;
	}
	*arr = n;
	*cap = ncap;
	return true;
}

/* ---- read-from check: a polynomial necessary condition ----
 *
 * An ok read of v (or ok cas expecting v) r is impossible if, for every op
 * w that could write v (ok or crashed write of v, cas [a v] with a != v; the
 * initial null counts as a writer that finished before everything) and that
 * was invoked before r returned, some ok op w' that certainly changes the
 * state to another value (a write, or a cas [a b] with a != b, whose value is
 * not v) lies strictly between them in real time: w returned before w' was
 * invoked, and w' returned before r was invoked. Proof: in a linearization,
 * let w be the last writer of v before r; w' comes after w and before r and
 * leaves another value, so another writer of v must follow w' before r,
 * contradicting the choice of w.
 * Checking it is O(n log n): among the writers of v invoked before r returned
 * only the one that returned last matters (a later return leaves fewer
 * candidates for w'), and "some state-changing op invoked after t returned
 * before r.call" is a suffix minimum over ops sorted by invocation. No
 * writer of v can be such a w' (it would have returned later than the last
 * writer). This catches phantom values, stale reads and lost or duplicated
 * writes at once when values pin the writer, without any search; what it
 * misses is left to the search. */

struct span {
	int64_t call, ret;
	uint32_t op;
	int32_t v;
};

static int span_cmp(const void *pa, const void *pb)
{
	const struct span *a = pa, *b = pb;
	if (a->v != b->v)
		return a->v < b->v ? -1 : 1;
	if (a->call != b->call)
		return a->call < b->call ? -1 : 1;
	return a->op < b->op ? -1 : a->op > b->op;
}

static bool precheck(const struct chk_history *h, const uint32_t *ids, size_t n,
		     struct chk_limits *lim, struct chk_search_result *res)
{
	size_t bytes = n * (3 * sizeof(struct span) + 2 * sizeof(int64_t) + sizeof(uint32_t));
	if (!chk_mem_reserve(lim, bytes))
		return false;
	struct span *ch = malloc((n + 1) * sizeof *ch); /* state changers, v = 0 */
	struct span *wr = malloc((n + 1) * sizeof *wr); /* writers by (value, call) */
	struct span *ob = malloc((n + 1) * sizeof *ob); /* observers */
	int64_t *sufmin = malloc((n + 1) * sizeof *sufmin);
	int64_t *premax = malloc((n + 1) * sizeof *premax);
	uint32_t *premax_op = malloc((n + 1) * sizeof *premax_op);
	size_t nch = 0, nwr = 0, nob = 0;
	bool found = false;
	if (!ch || !wr || !ob || !sufmin || !premax || !premax_op)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct chk_op *o = &h->ops[ids[i]];
		if (o->status == CHK_ST_FAIL)
			continue;
		bool ok = o->status == CHK_ST_OK;
		int32_t produces = o->f == CHK_F_WRITE			 ? o->a
				   : o->f == CHK_F_CAS && o->a != o->b ? o->b
									 : -1;
		if (produces >= 0) {
			wr[nwr++] = (struct span){o->call_time, o->ret_time, ids[i], produces};
			if (ok)
				ch[nch++] = (struct span){o->call_time, o->ret_time, ids[i], 0};
		}
		if (ok && (o->f == CHK_F_READ || o->f == CHK_F_CAS))
			ob[nob++] = (struct span){o->call_time, o->ret_time, ids[i], o->a};
	}
	qsort(ch, nch, sizeof *ch, span_cmp);
	qsort(wr, nwr, sizeof *wr, span_cmp);
	sufmin[nch] = INT64_MAX;
	for (size_t i = nch; i-- > 0;)
		sufmin[i] = ch[i].ret < sufmin[i + 1] ? ch[i].ret : sufmin[i + 1];
	for (size_t i = 0; i < nwr; i++) {
		bool first = i == 0 || wr[i].v != wr[i - 1].v;
		if (first || wr[i].ret > premax[i - 1]) {
			premax[i] = wr[i].ret;
			premax_op[i] = wr[i].op;
		} else {
			premax[i] = premax[i - 1];
			premax_op[i] = premax_op[i - 1];
		}
	}
	for (size_t i = 0; i < nob && !found; i++) {
		const struct span *r = &ob[i];
		/* last writer of r->v invoked at or before r returned */
		size_t lo = 0, hi = nwr;
		while (lo < hi) { /* first index with (v, call) > (r->v, r->ret) */
			size_t mid = (lo + hi) / 2;
			if (wr[mid].v < r->v || (wr[mid].v == r->v && wr[mid].call <= r->ret))
				lo = mid + 1;
			else
				hi = mid;
		}
		int64_t maxret;
		uint32_t wop = UINT32_MAX;
		if (lo > 0 && wr[lo - 1].v == r->v) {
			maxret = premax[lo - 1];
			wop = premax_op[lo - 1];
		} else {
			maxret = INT64_MIN; /* no writer */
		}
		if (r->v == 0 && maxret < -1) {
			maxret = -1; /* the initial null */
			wop = UINT32_MAX;
		}
		if (maxret == INT64_MAX)
			continue; /* a crashed writer may take effect any time */
		uint32_t sep = UINT32_MAX;
		if (maxret != INT64_MIN) {
			/* first changer invoked strictly after maxret */
			size_t a = 0, b = nch;
			while (a < b) {
				size_t mid = (a + b) / 2;
				if (ch[mid].call <= maxret)
					a = mid + 1;
				else
					b = mid;
			}
			if (sufmin[a] >= r->call)
				continue;
			for (size_t j = a; j < nch; j++)
				if (ch[j].ret < r->call) {
					sep = ch[j].op;
					break;
				}
		}
		found = true;
		res->verdict = CHK_V_INVALID;
		res->by_precheck = true;
		res->stuck = r->op;
		res->witness[0] = wop;
		res->witness[1] = sep;
		res->state_after_prefix = 0;
	}
out:
	free(ch);
	free(wr);
	free(ob);
	free(sufmin);
	free(premax);
	free(premax_op);
	chk_mem_release(lim, bytes);
	return found;
}

void chk_search(const struct chk_history *h, const struct chk_model *m, const uint32_t *ids,
		size_t n, struct chk_limits *lim, struct chk_search_result *res)
{
	memset(res, 0, sizeof *res);
	res->witness[0] = res->witness[1] = UINT32_MAX;
	if (!lim->no_precheck && precheck(h, ids, n, lim, res))
		return;
	struct search s = {.h = h, .m = m, .lim = lim};
	size_t stack_cap = 0, best_cap = 0;
	char why[160];
	if (!prepare(&s, ids, n)) {
		snprintf(why, sizeof why, "memory limit of %zu MiB reached while preparing",
			 lim->mem_limit >> 20);
		set_unknown(res, why);
		goto out;
	}
	size_t remaining_ok = 0;
	for (size_t i = 0; i < s.nents; i++)
		if (s.ents[i].is_call && s.ents[i].is_ok)
			remaining_ok++;
	uint64_t state = m->init(), hlo = 0, hhi = 0, tokvec = 0;
	int32_t must = -1; /* value the next op must need, after a crashed cas */
	struct entry *e = s.head.next;
	uint64_t iter = 0;
	bool fresh = true;
	for (;;) {
		if (remaining_ok == 0) {
			res->verdict = CHK_V_VALID;
			break;
		}
		if ((++iter & 4095) == 0) {
			if (atomic_load(&lim->stop)) {
				res->verdict = CHK_V_STOPPED;
				break;
			}
			if (lim->deadline > 0 && chk_now() > lim->deadline) {
				snprintf(why, sizeof why,
					 "time limit reached after %zu configurations", s.cache.count);
				set_unknown(res, why);
				break;
			}
		}
		if (fresh) {
			/* Pure ops first (reads; cas [v v]): if a candidate pure op is
			 * legal in the current state, linearizing it now loses nothing.
			 * Proof: in any successful continuation it appears later; move it
			 * to the front. It leaves the state unchanged, so every op keeps
			 * its state; real time is respected because it is a candidate, so
			 * no unlinearized op returned before it was invoked. Hence this
			 * configuration succeeds iff the one with the pure op added does,
			 * and no other candidate needs trying here. */
			fresh = false;
			struct entry *p = s.head.next;
			for (; p && p->is_call; p = p->next) {
				const struct chk_op *po = &h->ops[p->op];
				uint64_t pn;
				if (m->pure(po) && m->step(state, po, &pn))
					break;
			}
			if (p && p->is_call) {
				uint64_t zlo, zhi;
				zob_op(p->local, &zlo, &zhi);
				uint64_t sh = m->hash(state);
				int ins = cache_insert(&s, hlo ^ zlo ^ sh,
						       hhi ^ zhi ^ mix64(sh ^ 0x6a09e667f3bcc908ull), tokvec);
				if (ins < 0) {
					snprintf(why, sizeof why,
						 "memory limit of %zu MiB reached after %zu configurations",
						 lim->mem_limit >> 20, s.cache.count);
					set_unknown(res, why);
					break;
				}
				if (ins == 0) /* explored before without success: so is this one */
					goto backtrack;
				if (!grow_frames(&s, &s.stack, &stack_cap, s.sp + 1)) {
					set_unknown(res, "memory limit reached");
					break;
				}
				s.stack[s.sp++] = (struct frame){p, state, -1, 0, true, must};
				must = -1;
				hlo ^= zlo;
				hhi ^= zhi;
				if (p->is_ok)
					remaining_ok--;
				lift(p);
				if (s.sp > s.best_len) {
					if (!grow_frames(&s, &s.best, &best_cap, s.sp)) {
						set_unknown(res, "memory limit reached");
						break;
					}
					memcpy(s.best + s.dirty, s.stack + s.dirty,
					       (s.sp - s.dirty) * sizeof *s.stack);
					s.best_len = s.dirty = s.sp;
					s.best_state = state;
				}
				fresh = true;
				e = s.head.next;
				continue;
			}
		}
		if (e->is_call) {
			const struct chk_op *o = &h->ops[e->op];
			int32_t need = m->requires(o);
			uint64_t st = state, next;
			int32_t k = -1;
			if (must >= 0 && need != must) {
				e = e->next;
				continue;
			}
			if (need >= 0 && !m->equal(state, (uint64_t)need)) {
				k = class_of(&s, need);
				if (k >= 0) {
					/* The frontier is the first return still in the list. If
					 * an ok write of the needed value is a candidate, no token
					 * is spent: the branch that linearizes that write now
					 * covers this one (swap the token and the write: the
					 * token may take effect at the write's later place, the
					 * write may move earlier as it is a candidate, and every
					 * state in between is the same). */
					struct entry *r = s.head.next;
					bool ok_writer = false;
					for (; r->is_call; r = r->next) {
						const struct chk_op *ro = &h->ops[r->op];
						if (r->is_ok && ro->f == CHK_F_WRITE && ro->a == need)
							ok_writer = true;
					}
					if (!ok_writer && tokens_before(&s, k, r->pos) > s.used[k])
						st = (uint64_t)need;
					else
						k = -1;
				}
			}
			if (m->step(st, o, &next)) {
				uint64_t zlo, zhi, tlo = 0, thi = 0;
				zob_op(e->local, &zlo, &zhi);
				if (k >= 0 && !s.packed) {
					uint64_t a, b, c, d;
					zob_tok((uint32_t)k, s.used[k], &a, &b);
					zob_tok((uint32_t)k, s.used[k] + 1, &c, &d);
					tlo = a ^ c;
					thi = b ^ d;
				}
				uint64_t nlo = hlo ^ zlo ^ tlo, nhi = hhi ^ zhi ^ thi;
				uint64_t sh = m->hash(next);
				uint64_t nu = tokvec;
				if (k >= 0 && s.packed)
					nu += (uint64_t)1 << s.cls_shift[k];
				/* A crashed op, once placed, must be followed at once by an op
				 * that needs its value (see the top of the file), so the
				 * configuration after it carries that constraint. */
				int32_t nmust = e->is_ok ? -1 : (int32_t)next;
				int ins = cache_insert(&s, nlo ^ sh ^ must_lo(nmust),
						       nhi ^ mix64(sh ^ 0x6a09e667f3bcc908ull) ^ must_hi(nmust),
						       nu);
				if (ins < 0) {
					snprintf(why, sizeof why,
						 "memory limit of %zu MiB reached after %zu configurations",
						 lim->mem_limit >> 20, s.cache.count);
					set_unknown(res, why);
					break;
				}
				if (ins == 1) {
					if (!grow_frames(&s, &s.stack, &stack_cap, s.sp + 1)) {
						snprintf(why, sizeof why, "memory limit of %zu MiB reached",
							 lim->mem_limit >> 20);
						set_unknown(res, why);
						break;
					}
					s.stack[s.sp++] = (struct frame){
						e, state, k,
						k >= 0 ? s.tok_op[s.cls_start[k] + s.used[k]] : 0, false, must};
					must = nmust;
					if (k >= 0)
						s.used[k]++;
					tokvec = nu;
					state = next;
					hlo = nlo;
					hhi = nhi;
					if (e->is_ok)
						remaining_ok--;
					lift(e);
					if (s.sp > s.best_len) {
						if (!grow_frames(&s, &s.best, &best_cap, s.sp)) {
							set_unknown(res, "memory limit reached");
							break;
						}
						memcpy(s.best + s.dirty, s.stack + s.dirty,
						       (s.sp - s.dirty) * sizeof *s.stack);
						s.best_len = s.dirty = s.sp;
						s.best_state = state;
					}
					e = s.head.next;
					fresh = true;
					continue;
				}
			}
			e = e->next;
		} else {
			/* An op must be linearized before this return, and no candidate
			 * order works from here: backtrack. */
		backtrack:
			if (s.sp == 0) {
				res->verdict = CHK_V_INVALID;
				break;
			}
			struct frame *f = &s.stack[--s.sp];
			if (s.sp < s.dirty)
				s.dirty = s.sp;
			unlift(f->e);
			state = f->state;
			uint64_t zlo, zhi;
			zob_op(f->e->local, &zlo, &zhi);
			hlo ^= zlo;
			hhi ^= zhi;
			if (f->token >= 0 && s.packed) {
				tokvec -= (uint64_t)1 << s.cls_shift[f->token];
				s.used[f->token]--;
			} else if (f->token >= 0) {
				uint64_t a, b, c, d;
				int32_t k = f->token;
				zob_tok((uint32_t)k, s.used[k], &a, &b);
				zob_tok((uint32_t)k, s.used[k] - 1, &c, &d);
				hlo ^= a ^ c;
				hhi ^= b ^ d;
				s.used[k]--;
			}
			if (f->e->is_ok)
				remaining_ok++;
			must = f->must;
			e = f->e->next;
			if (f->forced) /* the parent had no other choice to try */
				goto backtrack;
		}
	}
	res->configs = s.cache.count;
	atomic_fetch_add(&lim->configs, s.cache.count);
	if (res->verdict == CHK_V_INVALID) {
		/* The deepest linearization reached, as op ids (a token before the op
		 * that needed it), and the op that could not be placed after it: the
		 * earliest-returning ok op not in it. */
		size_t len = 0;
		for (size_t i = 0; i < s.best_len; i++)
			len += 1 + (s.best[i].token >= 0);
		res->prefix = malloc((len + 1) * sizeof *res->prefix);
		uint8_t *in = calloc(s.nents + 1, 1);
		if (res->prefix && in) {
			for (size_t i = 0; i < s.best_len; i++) {
				if (s.best[i].token >= 0)
					res->prefix[res->prefix_len++] = s.best[i].tok_op;
				res->prefix[res->prefix_len++] = s.best[i].e->op;
				in[s.best[i].e->local] = 1;
			}
			res->stuck = UINT32_MAX;
			for (size_t i = 0; i < s.nents; i++)
				if (!s.ents[i].is_call && !in[s.ents[i].local]) {
					res->stuck = s.ents[i].op;
					break;
				}
		}
		free(in);
		res->state_after_prefix = s.best_len ? s.best_state : m->init();
	}
out:
	search_free(&s);
}
