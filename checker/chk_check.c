/* chk_check.c — checking a whole history: reading it, choosing the model, splitting by key, parallel per-key search, verdict object, counterexample shrinking. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checker/chk_internal.h"

#define DEFAULT_MEM_LIMIT ((size_t)1 << 30)
#define CX_MAX_OPS 200

struct part {
	int32_t key;
	uint32_t *ids;
	size_t n;
	struct chk_search_result res;
	bool done;
};

struct run {
	const struct chk_history *h;
	const struct chk_model *m;
	struct part *parts;
	size_t nparts;
	atomic_size_t next;
	struct chk_limits *lim;
};

static void *worker(void *arg)
{
	struct run *r = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&r->next, 1);
		if (i >= r->nparts)
			break;
		struct part *p = &r->parts[i];
		if (atomic_load(&r->lim->stop)) {
			p->res.verdict = CHK_V_STOPPED;
			continue;
		}
		chk_search(r->h, r->m, p->ids, p->n, r->lim, &p->res);
		p->done = true;
		/* Stop everything on the first invalid key: the verdict is decided. */
		if (p->res.verdict == CHK_V_INVALID)
			atomic_store(&r->lim->stop, 1);
	}
	return NULL;
}

static int part_cmp(const void *pa, const void *pb)
{
	const struct part *a = pa, *b = pb;
	if (a->n != b->n)
		return a->n > b->n ? -1 : 1; /* biggest first: it bounds the wall time */
	return a->key < b->key ? -1 : a->key > b->key;
}

/* Groups op ids by key (one group for single-register models). */
static int split(const struct chk_history *h, bool by_key, struct part **out, size_t *nout)
{
	size_t nk = by_key ? h->keys.n + 1 : 1; /* slot 0 = ops without key */
	size_t *count = calloc(nk, sizeof *count);
	if (!count)
		return -1;
	for (size_t i = 0; i < h->n_ops; i++)
		count[by_key ? (size_t)(h->ops[i].key + 1) : 0]++;
	size_t np = 0;
	for (size_t k = 0; k < nk; k++)
		np += count[k] > 0;
	struct part *parts = calloc(np ? np : 1, sizeof *parts);
	size_t *slot = calloc(nk, sizeof *slot);
	if (!parts || !slot) {
		free(count);
		free(parts);
		free(slot);
		return -1;
	}
	size_t j = 0;
	for (size_t k = 0; k < nk; k++) {
		if (!count[k])
			continue;
		parts[j].key = by_key ? (int32_t)k - 1 : -1;
		parts[j].ids = malloc(count[k] * sizeof(uint32_t));
		if (!parts[j].ids) {
			for (size_t q = 0; q < j; q++)
				free(parts[q].ids);
			free(parts);
			free(count);
			free(slot);
			return -1;
		}
		slot[k] = j++;
	}
	for (size_t i = 0; i < h->n_ops; i++) {
		size_t k = by_key ? (size_t)(h->ops[i].key + 1) : 0;
		struct part *p = &parts[slot[k]];
		p->ids[p->n++] = (uint32_t)i;
	}
	free(count);
	free(slot);
	qsort(parts, np, sizeof *parts, part_cmp);
	*out = parts;
	*nout = np;
	return 0;
}

/* ---- counterexample ---- */

static int32_t observed_value(const struct chk_op *o)
{
	if (o->status == CHK_ST_FAIL)
		return -1;
	if (o->f == CHK_F_READ)
		return o->status == CHK_ST_OK ? o->a : -1;
	if (o->f == CHK_F_CAS)
		return o->a;
	return -1;
}

/* A candidate counterexample must not lose the writers of the values its
 * reads and cas's see: dropping the only write of 3 would turn a stale read
 * of 3 into a misleading "read of a value nobody wrote". So every observed
 * non-null value that the whole key's history writes must still be written
 * by some kept op. */
static bool writers_kept(const struct chk_history *h, const uint32_t *all, size_t nall,
			 const uint32_t *keep, size_t nkeep, uint8_t *written_all, uint8_t *written)
{
	memset(written, 0, h->values.n);
	for (size_t i = 0; i < nkeep; i++) {
		const struct chk_op *o = &h->ops[keep[i]];
		if (o->status == CHK_ST_FAIL)
			continue;
		if (o->f == CHK_F_WRITE)
			written[o->a] = 1;
		else if (o->f == CHK_F_CAS)
			written[o->b] = 1;
	}
	for (size_t i = 0; i < nkeep; i++) {
		int32_t v = observed_value(&h->ops[keep[i]]);
		if (v > 0 && written_all[v] && !written[v])
			return false;
	}
	(void)all;
	(void)nall;
	return true;
}

static int id_cmp(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	return a < b ? -1 : a > b;
}

static int check_subset(const struct chk_history *h, const struct chk_model *m,
			const uint32_t *ids, size_t n, double deadline, size_t mem_limit)
{
	/* the read-from check is sound, so it may decide subsets too */
	struct chk_limits lim = {.deadline = deadline, .mem_limit = mem_limit};
	struct chk_search_result r;
	chk_search(h, m, ids, n, &lim, &r);
	free(r.prefix);
	return r.verdict;
}

/* Shrinks the invalid key history `p` to a small invalid subset that keeps
 * the op that could not be placed, within a budget of checks and time.
 * Returns a malloc'd array of op ids (sorted by call) in *out. */
static size_t shrink(const struct chk_history *h, const struct chk_model *m, const struct part *p,
		     double deadline, size_t mem_limit, uint32_t **out, unsigned *checks,
		     bool *complete)
{
	uint32_t stuck = p->res.stuck;
	uint32_t *cur = malloc((p->n + 1) * sizeof *cur);
	uint32_t *cand = malloc((p->n + 1) * sizeof *cand);
	uint8_t *written_all = calloc(h->values.n, 1);
	uint8_t *written = calloc(h->values.n, 1);
	size_t n = 0;
	*checks = 0;
	*complete = false;
	if (!cur || !cand || !written_all || !written)
		goto fail;
	for (size_t i = 0; i < p->n; i++) {
		const struct chk_op *o = &h->ops[p->ids[i]];
		if (o->status == CHK_ST_FAIL)
			continue;
		if (o->f == CHK_F_WRITE)
			written_all[o->a] = 1;
		else if (o->f == CHK_F_CAS)
			written_all[o->b] = 1;
	}
	const struct chk_op *so = stuck != UINT32_MAX ? &h->ops[stuck] : NULL;
	if (p->res.by_precheck) {
		/* The read-from check names the ops that prove it. */
		for (int w = 0; w < 2; w++)
			if (p->res.witness[w] != UINT32_MAX)
				cur[n++] = p->res.witness[w];
		cur[n++] = stuck;
	} else {
		/* Start from the ops invoked before the stuck op returned: what
		 * comes later cannot be needed to show that it cannot be placed. */
		for (size_t i = 0; i < p->n; i++) {
			const struct chk_op *o = &h->ops[p->ids[i]];
			if (o->status == CHK_ST_FAIL || (o->f == CHK_F_READ && o->status != CHK_ST_OK))
				continue; /* never matter to the search */
			if (so && o->call_time > so->ret_time)
				continue;
			cur[n++] = p->ids[i];
		}
		/* On long histories, first try short windows just before the stuck
		 * op (plus the last writer of each value they observe), growing
		 * fourfold: delta debugging from a window is far cheaper than from
		 * the whole prefix. */
		for (size_t k = 16; k < n && chk_now() < deadline; k *= 4) {
			size_t cn = 0;
			bool has_stuck = false;
			for (size_t i = n - k; i < n; i++) {
				cand[cn++] = cur[i];
				has_stuck |= cur[i] == stuck;
			}
			if (!has_stuck && stuck != UINT32_MAX)
				cand[cn++] = stuck;
			memset(written, 0, h->values.n);
			for (size_t i = 0; i < cn; i++) {
				const struct chk_op *o = &h->ops[cand[i]];
				if (o->f == CHK_F_WRITE)
					written[o->a] = 1;
				else if (o->f == CHK_F_CAS)
					written[o->b] = 1;
			}
			size_t base = cn;
			for (size_t i = 0; i < base; i++) {
				int32_t v = observed_value(&h->ops[cand[i]]);
				if (v <= 0 || !written_all[v] || written[v])
					continue;
				for (size_t j = n - k; j-- > 0;) {
					const struct chk_op *o = &h->ops[cur[j]];
					if ((o->f == CHK_F_WRITE && o->a == v) ||
					    (o->f == CHK_F_CAS && o->b == v)) {
						cand[cn++] = cur[j];
						written[v] = 1;
						break;
					}
				}
			}
			qsort(cand, cn, sizeof *cand, id_cmp);
			(*checks)++;
			if (check_subset(h, m, cand, cn, deadline, mem_limit) == CHK_V_INVALID) {
				memcpy(cur, cand, cn * sizeof *cur);
				n = cn;
				break;
			}
		}
	}
	(*checks)++;
	if (check_subset(h, m, cur, n, deadline, mem_limit) != CHK_V_INVALID) {
		n = 0;
		for (size_t i = 0; i < p->n; i++)
			cur[n++] = p->ids[i];
	}
	/* Delta debugging: remove chunks, halving the chunk size, while the rest
	 * stays invalid. */
	for (size_t chunk = n / 2 ? n / 2 : 1;; chunk /= 2) {
		if (chunk == 0)
			chunk = 1;
		bool removed_any = false;
		for (size_t start = 0; start < n;) {
			if (chk_now() > deadline || *checks >= 2000)
				goto done;
			size_t end = start + chunk < n ? start + chunk : n;
			bool has_stuck = false;
			for (size_t i = start; i < end; i++)
				has_stuck |= cur[i] == stuck;
			if (has_stuck && end - start == 1) {
				start = end;
				continue;
			}
			size_t cn = 0;
			for (size_t i = 0; i < n; i++)
				if (i < start || i >= end || cur[i] == stuck)
					cand[cn++] = cur[i];
			if (cn == n || !writers_kept(h, p->ids, p->n, cand, cn, written_all, written)) {
				start = end;
				continue;
			}
			(*checks)++;
			if (check_subset(h, m, cand, cn, deadline, mem_limit) == CHK_V_INVALID) {
				memcpy(cur, cand, cn * sizeof *cur);
				n = cn;
				removed_any = true;
			} else {
				start = end;
			}
		}
		if (chunk == 1 && !removed_any) {
			*complete = true;
			break;
		}
	}
done:
	free(cand);
	free(written_all);
	free(written);
	*out = cur;
	return n;
fail:
	free(cur);
	free(cand);
	free(written_all);
	free(written);
	*out = NULL;
	return 0;
}

static json_t *counterexample(const struct chk_history *h, const struct chk_model *m,
			      const struct part *p, double deadline, size_t mem_limit)
{
	json_t *cx = json_object();
	if (!cx)
		return NULL;
	const struct chk_search_result *r = &p->res;
	json_object_set(cx, "key", p->key >= 0 ? h->keys.vals[p->key] : json_null());
	if (r->stuck != UINT32_MAX)
		json_object_set_new(cx, "op", chk_op_json(h, r->stuck));
	char st[256];
	m->describe(r->state_after_prefix, h, st, sizeof st);
	json_object_set_new(cx, "found_by", json_string(r->by_precheck ? "read-from check" : "search"));
	json_t *pre = json_object();
	json_object_set_new(pre, "length", json_integer((json_int_t)r->prefix_len));
	json_object_set(pre, "state",
			r->state_after_prefix < h->values.n ? h->values.vals[r->state_after_prefix]
							    : json_null());
	json_t *last = json_array();
	size_t from = r->prefix_len > 12 ? r->prefix_len - 12 : 0;
	for (size_t i = from; i < r->prefix_len; i++)
		json_array_append_new(last, chk_op_json(h, r->prefix[i]));
	json_object_set_new(pre, "last", last);
	if (r->by_precheck) {
		/* no search ran: there is no prefix to show */
		json_decref(pre);
		pre = json_null();
	}
	json_object_set_new(cx, "prefix", pre);
	uint32_t *ids;
	unsigned checks;
	bool complete;
	size_t n = shrink(h, m, p, deadline, mem_limit, &ids, &checks, &complete);
	json_t *ops = json_array();
	/* Keep the report readable when shrinking ran out of budget: at most
	 * CX_MAX_OPS ops, the ones nearest to (and including) the stuck op. */
	size_t first = 0;
	if (n > CX_MAX_OPS) {
		size_t at = n - 1;
		for (size_t i = 0; i < n; i++)
			if (ids[i] == r->stuck)
				at = i;
		first = at + 1 > CX_MAX_OPS ? at + 1 - CX_MAX_OPS : 0;
	}
	json_object_set_new(cx, "ops_total", json_integer((json_int_t)n));
	for (size_t i = first; i < n && i < first + CX_MAX_OPS; i++) {
		json_t *o = chk_op_json(h, ids[i]);
		if (ids[i] == r->stuck)
			json_object_set_new(o, "stuck", json_true());
		json_array_append_new(ops, o);
	}
	free(ids);
	json_object_set_new(cx, "ops", ops);
	json_object_set_new(cx, "minimal", json_boolean(complete));
	json_object_set_new(cx, "shrink_checks", json_integer(checks));
	return cx;
}

/* ---- entry points ---- */

static enum chk_format sniff(const char *path, const char *data, size_t len)
{
	size_t pl = strlen(path);
	if (pl >= 4 && strcmp(path + pl - 4, ".edn") == 0)
		return CHK_FORMAT_EDN;
	if ((pl >= 6 && strcmp(path + pl - 6, ".jsonl") == 0) ||
	    (pl >= 5 && strcmp(path + pl - 5, ".json") == 0))
		return CHK_FORMAT_JSONL;
	size_t i = 0;
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
		i++;
	if (i < len && data[i] == '{') {
		i++;
		while (i < len && (data[i] == ' ' || data[i] == '\t'))
			i++;
		if (i < len && data[i] == ':')
			return CHK_FORMAT_EDN;
		return CHK_FORMAT_JSONL;
	}
	return i < len ? CHK_FORMAT_EDN : CHK_FORMAT_JSONL;
}

int chk_check_buffer(const char *name, const char *data, size_t len, const struct chk_options *o,
		     json_t **result, char *err, size_t errlen)
{
	static const struct chk_options defaults = {0};
	if (!o)
		o = &defaults;
	*result = NULL;
	double t0 = chk_now();
	struct timespec c0;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	struct chk_history h;
	chk_history_init(&h);
	enum chk_format fmt = o->format == CHK_FORMAT_AUTO ? sniff(name, data, len) : o->format;
	int rc = fmt == CHK_FORMAT_EDN ? chk_parse_edn(name, data, len, &h, err, errlen)
				       : chk_parse_jsonl(name, data, len, &h, err, errlen);
	if (rc) {
		chk_history_free(&h);
		return CHK_BAD_INPUT;
	}
	const char *model = o->model ? o->model : h.any_key ? "kv" : "cas-register";
	const struct chk_model *m = chk_model_find(model);
	if (!m) {
		chk_history_free(&h);
		return chk_errf(err, errlen, "model: unknown model \"%s\" (register, cas-register, kv)",
				model);
	}
	if (chk_model_validate(model, &h, name, err, errlen)) {
		chk_history_free(&h);
		return CHK_BAD_INPUT;
	}
	struct chk_limits lim = {
		.deadline = o->time_limit_s > 0 ? t0 + o->time_limit_s : 0,
		.mem_limit = o->mem_limit_bytes ? o->mem_limit_bytes : DEFAULT_MEM_LIMIT,
		.no_precheck = o->search_only != 0,
		.no_pack = o->search_only >= 2,
	};
	/* The history and its per-key index count against the memory limit too
	 * (the parsed JSON is freed line by line; interned values stay). */
	size_t hist_bytes = h.cap_ops * sizeof(struct chk_op) + h.n_ops * sizeof(uint32_t) +
			    h.values.cap * (2 * sizeof(void *) + 32) + h.values.nslots * sizeof(int32_t);
	if (!chk_mem_reserve(&lim, hist_bytes)) {
		json_t *res = json_pack("{s:s,s:s,s:I,s:I,s:n,s:s,s:f,s:I}", "valid", "unknown", "model",
					model, "ops", (json_int_t)h.n_ops, "keys", (json_int_t)0,
					"counterexample", "reason",
					"the history alone needs more memory than the limit", "time_s",
					chk_now() - t0, "peak_mem_bytes", (json_int_t)hist_bytes);
		chk_history_free(&h);
		*result = res;
		return CHK_UNKNOWN;
	}
	struct part *parts = NULL;
	size_t np = 0;
	if (split(&h, strcmp(model, "kv") == 0, &parts, &np) != 0) {
		chk_history_free(&h);
		return chk_errf(err, errlen, "%s: out of memory", name);
	}
	struct run run = {.h = &h, .m = m, .parts = parts, .nparts = np, .lim = &lim};
	unsigned nt = o->threads;
	if (nt == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		nt = c > 0 ? (unsigned)c : 1;
	}
	if (nt > np)
		nt = np ? (unsigned)np : 1;
	if (nt > 64)
		nt = 64;
	pthread_t tids[64];
	unsigned started = 0;
	for (unsigned i = 1; i < nt; i++)
		if (pthread_create(&tids[started], NULL, worker, &run) == 0)
			started++;
	worker(&run);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);

	/* Verdict: invalid if any key is; unknown if any key gave up; else valid. */
	struct part *bad = NULL, *unk = NULL;
	for (size_t i = 0; i < np; i++) {
		if (parts[i].res.verdict == CHK_V_INVALID && !bad)
			bad = &parts[i];
		if (parts[i].res.verdict == CHK_V_UNKNOWN && !unk)
			unk = &parts[i];
	}
	int verdict = bad ? CHK_INVALID : unk ? CHK_UNKNOWN : CHK_VALID;
	json_t *res = json_object();
	json_object_set_new(res, "valid",
			    verdict == CHK_VALID     ? json_true()
			    : verdict == CHK_INVALID ? json_false()
						     : json_string("unknown"));
	json_object_set_new(res, "model", json_string(model));
	json_object_set_new(res, "ops", json_integer((json_int_t)h.n_ops));
	json_object_set_new(res, "keys", json_integer((json_int_t)np));
	if (bad) {
		/* Shrinking gets a bounded slice of time: at most 2 s, and never past
		 * the caller's time limit. */
		double dl = chk_now() + 2.0;
		if (lim.deadline > 0 && lim.deadline < dl)
			dl = lim.deadline;
		json_object_set_new(res, "counterexample",
				    counterexample(&h, m, bad, dl, lim.mem_limit));
	} else {
		json_object_set_new(res, "counterexample", json_null());
	}
	if (verdict == CHK_UNKNOWN) {
		char why[256];
		if (unk->key >= 0 && np > 1)
			snprintf(why, sizeof why, "key %s: %s", h.keys.texts[unk->key],
				 unk->res.reason);
		else
			snprintf(why, sizeof why, "%s", unk->res.reason);
		json_object_set_new(res, "reason", json_string(why));
	}
	json_object_set_new(res, "time_s", json_real(chk_now() - t0));
	/* CPU time of the whole process (all threads): on a loaded machine it is
	 * the steadier number; inside a larger program it includes its work. */
	struct timespec c1;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	json_object_set_new(res, "cpu_s", json_real((double)(c1.tv_sec - c0.tv_sec) +
						    (double)(c1.tv_nsec - c0.tv_nsec) * 1e-9));
	json_object_set_new(res, "peak_mem_bytes", json_integer((json_int_t)atomic_load(&lim.mem_peak)));
	json_object_set_new(res, "configurations",
			    json_integer((json_int_t)atomic_load(&lim.configs)));
	for (size_t i = 0; i < np; i++) {
		free(parts[i].ids);
		free(parts[i].res.prefix);
	}
	free(parts);
	chk_history_free(&h);
	*result = res;
	return verdict;
}

int chk_check_path(const char *path, const struct chk_options *o, json_t **result, char *err,
		   size_t errlen)
{
	*result = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return chk_errf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
	size_t cap = 1 << 16, len = 0, n;
	char *buf = malloc(cap);
	while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	int rd_err = ferror(f);
	fclose(f);
	if (!buf)
		return chk_errf(err, errlen, "%s: out of memory", path);
	if (rd_err) {
		free(buf);
		return chk_errf(err, errlen, "%s: read error", path);
	}
	int rc = chk_check_buffer(path, buf, len, o, result, err, errlen);
	free(buf);
	return rc;
}
