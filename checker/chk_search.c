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
 *
 * Search: entries (call/return of each op) sorted by time, calls before
 * returns at equal times (intervals are closed), in a doubly linked list.
 * Candidates for the next linearization point are the calls before the first
 * return in the list (Lowe's just-in-time linearization). A configuration is
 * (set of linearized ops, tokens used per value, model state); it is cached
 * as a 128-bit hash: a Zobrist hash (XOR of a per-op random 128-bit word,
 * updated incrementally when an op is linearized or undone, and of a word per
 * (token class, count)) mixed with a bijective hash of the state. No bitset
 * is stored. Two distinct configurations collide only if the XOR of the
 * random words of their symmetric difference equals a fixed value, which has
 * probability 2^-128 per pair; with E cached configurations the chance of any
 * collision is below E^2 * 2^-128 (10^-21 for E = 10^9). A collision could
 * only prune a configuration wrongly, never accept an illegal order.
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
};

struct cache {
	uint64_t *slots; /* pairs (lo, hi); (0, 0) = empty */
	size_t cap, count;
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

/* Returns 1 if the key was new (inserted), 0 if present, -1 at the memory limit. */
static int cache_insert(struct search *s, uint64_t lo, uint64_t hi)
{
	struct cache *c = &s->cache;
	if (lo == 0 && hi == 0)
		hi = 1; /* (0,0) marks empty slots; see the collision bound above */
	if ((c->count + 1) * 10 > c->cap * 7) {
		size_t ncap = c->cap ? c->cap * 2 : 1024;
		size_t bytes = ncap * 2 * sizeof(uint64_t);
		if (!reserve(s, bytes))
			return -1;
		uint64_t *ns = calloc(ncap * 2, sizeof(uint64_t));
		if (!ns) {
			release(s, bytes);
			return -1;
		}
		for (size_t i = 0; i < c->cap; i++) {
			uint64_t a = c->slots[2 * i], b = c->slots[2 * i + 1];
			if (!a && !b)
				continue;
			size_t j = (size_t)(a ^ (b >> 7)) & (ncap - 1);
			while (ns[2 * j] || ns[2 * j + 1])
				j = (j + 1) & (ncap - 1);
			ns[2 * j] = a;
			ns[2 * j + 1] = b;
		}
		free(c->slots);
		if (c->cap)
			release(s, c->cap * 2 * sizeof(uint64_t));
		c->slots = ns;
		c->cap = ncap;
	}
	size_t j = (size_t)(lo ^ (hi >> 7)) & (c->cap - 1);
	for (;;) {
		uint64_t a = c->slots[2 * j], b = c->slots[2 * j + 1];
		if (!a && !b)
			break;
		if (a == lo && b == hi)
			return 0;
		j = (j + 1) & (c->cap - 1);
	}
	c->slots[2 * j] = lo;
	c->slots[2 * j + 1] = hi;
	c->count++;
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
	free(s->cache.slots);
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

void chk_search(const struct chk_history *h, const struct chk_model *m, const uint32_t *ids,
		size_t n, struct chk_limits *lim, struct chk_search_result *res)
{
	memset(res, 0, sizeof *res);
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
	uint64_t state = m->init(), hlo = 0, hhi = 0;
	struct entry *e = s.head.next;
	uint64_t iter = 0;
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
		if (e->is_call) {
			const struct chk_op *o = &h->ops[e->op];
			int32_t need = m->requires(o);
			uint64_t st = state, next;
			int32_t k = -1;
			if (need >= 0 && !m->equal(state, (uint64_t)need)) {
				k = class_of(&s, need);
				if (k >= 0) {
					/* the frontier: the first return still in the list */
					struct entry *r = e;
					while (r->is_call)
						r = r->next;
					if (tokens_before(&s, k, r->pos) > s.used[k])
						st = (uint64_t)need;
					else
						k = -1;
				}
			}
			if (m->step(st, o, &next)) {
				uint64_t zlo, zhi, tlo = 0, thi = 0;
				zob_op(e->local, &zlo, &zhi);
				if (k >= 0) {
					uint64_t a, b, c, d;
					zob_tok((uint32_t)k, s.used[k], &a, &b);
					zob_tok((uint32_t)k, s.used[k] + 1, &c, &d);
					tlo = a ^ c;
					thi = b ^ d;
				}
				uint64_t nlo = hlo ^ zlo ^ tlo, nhi = hhi ^ zhi ^ thi;
				uint64_t sh = m->hash(next);
				int ins = cache_insert(&s, nlo ^ sh, nhi ^ mix64(sh ^ 0x6a09e667f3bcc908ull));
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
						k >= 0 ? s.tok_op[s.cls_start[k] + s.used[k]] : 0};
					if (k >= 0)
						s.used[k]++;
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
					continue;
				}
			}
			e = e->next;
		} else {
			/* An op must be linearized before this return, and no candidate
			 * order works from here: backtrack. */
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
			if (f->token >= 0) {
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
			e = f->e->next;
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
