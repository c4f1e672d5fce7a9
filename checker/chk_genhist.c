/* chk_genhist.c — rapat-genhist: writes synthetic register/kv histories (JSON Lines) from a simulated linearizable store, optionally with one injected violation. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The simulation: C clients loop think -> invoke -> complete. Every op gets
 * an effect time strictly inside its interval (ok) or anywhere after its
 * invocation up to a late window, or never (crashed, reported info). Effects
 * are applied to a real store in effect-time order, which yields the read
 * results and cas outcomes (a cas that finds another value fails and has no
 * effect). So a history with --violation none is linearizable by
 * construction: the effect times are a witness order. Violations add a few
 * ops by dedicated processes whose outcome no linearization can explain, with
 * values never used elsewhere (so the proof of invalidity is local). */

enum { F_READ, F_WRITE, F_CAS };
enum { ST_OK, ST_INFO, ST_FAIL };
enum { V_NONE, V_STALE, V_LOST, V_PHANTOM, V_DUP };

struct gop {
	int64_t inv, ret, eff;  /* eff < 0: no effect */
	int64_t eff2;           /* a second effect (duplicated-effect), or -1 */
	long process;
	int key, f, status;
	long a, b, result;
	int forced;             /* result fixed by the injection */
	int applied;            /* 0: acknowledged but lost */
};

struct gev {
	int64_t time;
	long op;
	int is_ret;
};

static uint64_t rng_state;
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
static double rndf(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}
static int64_t rndr(int64_t lo, int64_t hi) /* [lo, hi] */
{
	return hi <= lo ? lo : lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static struct gop *ops;
static size_t nops, capops;

static struct gop *add_op(void)
{
	if (nops == capops) {
		capops = capops ? capops * 2 : 1024;
		ops = realloc(ops, capops * sizeof *ops);
		if (!ops) {
			fprintf(stderr, "rapat-genhist: out of memory\n");
			exit(1);
		}
	}
	struct gop *o = &ops[nops++];
	memset(o, 0, sizeof *o);
	o->eff2 = -1;
	o->applied = 1;
	return o;
}

static int eff_cmp(const void *pa, const void *pb)
{
	const int64_t *a = pa, *b = pb; /* (time, op, which) */
	if (a[0] != b[0])
		return a[0] < b[0] ? -1 : 1;
	return a[1] < b[1] ? -1 : a[1] > b[1];
}

static int ev_cmp(const void *pa, const void *pb)
{
	const struct gev *a = pa, *b = pb;
	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	if (a->is_ret != b->is_ret)
		return a->is_ret ? 1 : -1; /* same time: invokes first */
	return a->op < b->op ? -1 : a->op > b->op;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: rapat-genhist [--ops N] [--clients C] [--keys K] [--values V (0 = unique)]\n"
		"                     [--crashed FRACTION] [--mix R,W,C] [--late T]\n"
		"                     [--violation none|stale-read|lost-write|phantom-value|duplicated-effect]\n"
		"                     [--violation-at FRACTION] [--seed S]\n");
}

static int parse_long(const char *opt, const char *v, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long x = v ? strtol(v, &end, 10) : 0;
	if (!v || *end || errno || x < lo || x > hi) {
		fprintf(stderr, "rapat-genhist: %s: expected an integer in [%ld, %ld]\n", opt, lo, hi);
		return -1;
	}
	*out = x;
	return 0;
}

static int parse_frac(const char *opt, const char *v, double *out)
{
	char *end;
	double x = v ? strtod(v, &end) : -1;
	if (!v || *end || !(x >= 0 && x <= 1)) {
		fprintf(stderr, "rapat-genhist: %s: expected a fraction in [0, 1]\n", opt);
		return -1;
	}
	*out = x;
	return 0;
}

int main(int argc, char **argv)
{
	long n = 1000, clients = 5, keys = 1, values = 5, late = 100, seed = 1;
	double crashed = 0, at = 0.9, mix[3] = {0.5, 0.3, 0.2};
	int viol = V_NONE;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = 0;
		if (!strcmp(a, "--ops"))
			bad = parse_long(a, v, 1, 100000000, &n);
		else if (!strcmp(a, "--clients"))
			bad = parse_long(a, v, 1, 100000, &clients);
		else if (!strcmp(a, "--keys"))
			bad = parse_long(a, v, 1, 10000000, &keys);
		else if (!strcmp(a, "--values"))
			bad = parse_long(a, v, 0, 1000000000, &values);
		else if (!strcmp(a, "--late"))
			bad = parse_long(a, v, 0, 1000000000, &late);
		else if (!strcmp(a, "--seed"))
			bad = parse_long(a, v, 0, INT64_MAX, &seed);
		else if (!strcmp(a, "--crashed"))
			bad = parse_frac(a, v, &crashed);
		else if (!strcmp(a, "--violation-at"))
			bad = parse_frac(a, v, &at);
		else if (!strcmp(a, "--mix")) {
			if (!v || sscanf(v, "%lf,%lf,%lf", &mix[0], &mix[1], &mix[2]) != 3 ||
			    mix[0] < 0 || mix[1] < 0 || mix[2] < 0 || mix[0] + mix[1] + mix[2] <= 0) {
				fprintf(stderr, "rapat-genhist: --mix: expected R,W,C weights\n");
				bad = -1;
			}
		} else if (!strcmp(a, "--violation")) {
			static const char *const names[] = {"none", "stale-read", "lost-write",
							    "phantom-value", "duplicated-effect"};
			viol = -1;
			for (int k = 0; v && k < 5; k++)
				if (!strcmp(v, names[k]))
					viol = k;
			if (viol < 0) {
				fprintf(stderr, "rapat-genhist: --violation: unknown kind %s\n", v ? v : "");
				bad = -1;
			}
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage();
			return 0;
		} else {
			fprintf(stderr, "rapat-genhist: unknown option %s\n", a);
			usage();
			return 2;
		}
		if (bad)
			return 2;
		i++;
	}
	rng_state = (uint64_t)seed * 0x2545f4914f6cdd1dull + 1;
	double msum = mix[0] + mix[1] + mix[2];
	long fresh = values > 0 ? values : 0; /* next never-used value */
	const int64_t lat = 10000, think = 2000; /* time units; ops last up to lat */
	/* clients: each runs ops back to back with think time */
	int64_t *clock = calloc((size_t)clients, sizeof *clock);
	long *proc = calloc((size_t)clients, sizeof *proc);
	if (!clock || !proc)
		return 1;
	long next_proc = clients;
	for (long c = 0; c < clients; c++) {
		proc[c] = c;
		clock[c] = rndr(0, think);
	}
	for (long i = 0; i < n; i++) {
		long c = 0; /* the client that is free earliest */
		for (long k = 1; k < clients; k++)
			if (clock[k] < clock[c])
				c = k;
		struct gop *o = add_op();
		o->process = proc[c];
		o->key = (int)(keys > 1 ? (long)(rnd() % (uint64_t)keys) : 0);
		double r = rndf() * msum;
		o->f = r < mix[0] ? F_READ : r < mix[0] + mix[1] ? F_WRITE : F_CAS;
		long vdom = values > 0 ? values : 0;
		if (o->f == F_WRITE)
			o->a = vdom ? (long)(rnd() % (uint64_t)vdom) : fresh++;
		if (o->f == F_CAS) {
			o->a = vdom ? (long)(rnd() % (uint64_t)vdom) : (fresh > 0 ? (long)(rnd() % (uint64_t)fresh) : 0);
			o->b = vdom ? (long)(rnd() % (uint64_t)vdom) : fresh++;
		}
		o->inv = clock[c];
		int64_t dur = rndr(lat / 10, lat);
		o->ret = o->inv + dur;
		if (rndf() < crashed) {
			o->status = ST_INFO;
			/* took effect (half the time) anywhere up to `late` op lengths
			 * after its invocation, or never */
			o->eff = rndf() < 0.5 ? rndr(o->inv + 1, o->ret + late * lat / 10) : -1;
			proc[c] = next_proc++;
		} else {
			o->status = ST_OK;
			o->eff = rndr(o->inv + 1, o->ret - 1);
		}
		clock[c] = o->ret + rndr(1, think);
	}
	size_t nreal = nops;
	/* Violations: a few ops by dedicated processes at fraction `at` of the
	 * history, on key 0, with fresh values u1, u2 that nothing else writes. */
	int64_t T = 0;
	if (viol != V_NONE) {
		size_t idx = (size_t)(at * (double)(nreal - 1));
		T = ops[idx].inv;
		long p1 = next_proc++, p2 = next_proc++;
		long u1 = fresh++, u2 = fresh++;
		if (viol == V_PHANTOM) {
			/* a read returns a value nobody ever wrote */
			struct gop *rd = add_op();
			*rd = (struct gop){.inv = T, .ret = T + 10, .eff = T + 5, .eff2 = -1,
					   .process = p1, .key = 0, .f = F_READ, .status = ST_OK,
					   .result = u1, .forced = 1, .applied = 1};
		} else {
			/* w(u1) by p1, then w(u2) by p2 strictly after, then a read by p1
			 * strictly after that returns u1: no order explains it, since only
			 * w(u1) writes u1 and it precedes w(u2). The stories differ in
			 * what the store did: stale-read (the store served an old copy),
			 * lost-write (w(u2) was acknowledged but never applied), and
			 * duplicated-effect (w(u1) was applied again after w(u2)). */
			struct gop *w1 = add_op();
			*w1 = (struct gop){.inv = T, .ret = T + 10, .eff = T + 5, .eff2 = -1,
					   .process = p1, .f = F_WRITE, .status = ST_OK, .a = u1, .applied = 1};
			struct gop *w2 = add_op();
			*w2 = (struct gop){.inv = T + 20, .ret = T + 30, .eff = T + 25, .eff2 = -1,
					   .process = p2, .f = F_WRITE, .status = ST_OK, .a = u2,
					   .applied = viol != V_LOST};
			if (viol == V_DUP)
				ops[nops - 2].eff2 = T + 35;
			struct gop *rd = add_op();
			*rd = (struct gop){.inv = T + 40, .ret = T + 50, .eff = T + 45, .eff2 = -1,
					   .process = p1, .f = F_READ, .status = ST_OK, .result = u1,
					   .forced = 1, .applied = 1};
		}
	}
	/* Apply effects in time order. */
	int64_t *effs = malloc((2 * nops + 1) * 3 * sizeof *effs);
	long *reg = malloc((size_t)keys * sizeof *reg);
	unsigned char *set = calloc((size_t)keys, 1); /* 0 = null */
	if (!effs || !reg || !set)
		return 1;
	size_t ne = 0;
	for (size_t i = 0; i < nops; i++) {
		if (ops[i].eff >= 0) {
			effs[3 * ne] = ops[i].eff;
			effs[3 * ne + 1] = (int64_t)i;
			effs[3 * ne + 2] = 0;
			ne++;
		}
		if (ops[i].eff2 >= 0) {
			effs[3 * ne] = ops[i].eff2;
			effs[3 * ne + 1] = (int64_t)i;
			effs[3 * ne + 2] = 1;
			ne++;
		}
	}
	qsort(effs, ne, 3 * sizeof *effs, eff_cmp);
	for (size_t e = 0; e < ne; e++) {
		struct gop *o = &ops[effs[3 * e + 1]];
		int k = o->key;
		if (o->f == F_READ) {
			if (!o->forced)
				o->result = set[k] ? reg[k] : -1;
		} else if (o->f == F_WRITE) {
			if (o->applied) {
				reg[k] = o->a;
				set[k] = 1;
			}
		} else {
			int match = set[k] && reg[k] == o->a;
			if (match) {
				reg[k] = o->b;
			} else if (o->status == ST_OK) {
				o->status = ST_FAIL; /* compare failed: no effect */
			}
		}
	}
	/* Crashed ops whose effect never happened stay info; reads that crashed
	 * report nothing. Emit events in time order. */
	struct gev *evs = malloc((2 * nops + 1) * sizeof *evs);
	if (!evs)
		return 1;
	size_t nev = 0;
	for (size_t i = 0; i < nops; i++) {
		evs[nev++] = (struct gev){ops[i].inv, (long)i, 0};
		evs[nev++] = (struct gev){ops[i].ret, (long)i, 1};
	}
	qsort(evs, nev, sizeof *evs, ev_cmp);
	static const char *const fn[] = {"read", "write", "cas"};
	static const char *const stn[] = {"ok", "info", "fail"};
	for (size_t i = 0; i < nev; i++) {
		const struct gop *o = &ops[evs[i].op];
		char key[32] = "";
		if (keys > 1)
			snprintf(key, sizeof key, ",\"key\":\"k%d\"", o->key);
		char val[64];
		if (o->f == F_READ) {
			if (evs[i].is_ret && o->status == ST_OK && o->result >= 0)
				snprintf(val, sizeof val, "%ld", o->result);
			else
				snprintf(val, sizeof val, "null");
		} else if (o->f == F_WRITE) {
			snprintf(val, sizeof val, "%ld", o->a);
		} else {
			snprintf(val, sizeof val, "[%ld,%ld]", o->a, o->b);
		}
		printf("{\"index\":%zu,\"time\":%lld,\"process\":%ld,\"type\":\"%s\",\"f\":\"%s\"%s,\"value\":%s}\n",
		       i, (long long)evs[i].time, o->process,
		       evs[i].is_ret ? stn[o->status] : "invoke", fn[o->f], key, val);
	}
	free(evs);
	free(effs);
	free(reg);
	free(set);
	free(clock);
	free(proc);
	free(ops);
	return 0;
}
