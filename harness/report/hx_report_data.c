/* hx_report_data.c — digests history.jsonl for the report: operations paired into bars, fault windows, counts. */
#include "harness/report/hx_report.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HX_REPORT_VALUE_MAX 96 /* characters of a value kept for tooltips */

/* process -> index of its pending op (open addressing; processes are few). */
struct pending {
	long long *keys;
	size_t *vals;
	unsigned char *used;
	size_t cap, n;
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static int pending_grow(struct pending *p)
{
	size_t ncap = p->cap ? p->cap * 2 : 64;
	struct pending q = {calloc(ncap, sizeof *q.keys), calloc(ncap, sizeof *q.vals),
			    calloc(ncap, 1), ncap, 0};
	if (!q.keys || !q.vals || !q.used) {
		free(q.keys);
		free(q.vals);
		free(q.used);
		return -1;
	}
	for (size_t i = 0; i < p->cap; i++) {
		if (!p->used[i])
			continue;
		size_t j = mix64((uint64_t)p->keys[i]) & (ncap - 1);
		while (q.used[j])
			j = (j + 1) & (ncap - 1);
		q.used[j] = 1;
		q.keys[j] = p->keys[i];
		q.vals[j] = p->vals[i];
		q.n++;
	}
	free(p->keys);
	free(p->vals);
	free(p->used);
	*p = q;
	return 0;
}

/* Slot of key k (used or the free one where it would go). */
static size_t pending_slot(const struct pending *p, long long k)
{
	size_t j = mix64((uint64_t)k) & (p->cap - 1);
	while (p->used[j] && p->keys[j] != k)
		j = (j + 1) & (p->cap - 1);
	return j;
}

/* Removal keeps probe chains intact by re-inserting the rest of the cluster. */
static void pending_del(struct pending *p, size_t j)
{
	p->used[j] = 0;
	p->n--;
	for (size_t i = (j + 1) & (p->cap - 1); p->used[i]; i = (i + 1) & (p->cap - 1)) {
		long long k = p->keys[i];
		size_t v = p->vals[i];
		p->used[i] = 0;
		size_t s = pending_slot(p, k);
		p->used[s] = 1;
		p->keys[s] = k;
		p->vals[s] = v;
	}
}

static void pending_free(struct pending *p)
{
	free(p->keys);
	free(p->vals);
	free(p->used);
}

static void *grow(void *arr, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return arr;
	size_t ncap = *cap ? *cap * 2 : 256;
	while (ncap < need)
		ncap *= 2;
	void *n = realloc(arr, ncap * size);
	if (n)
		*cap = ncap;
	return n;
}

/* Compact JSON of v, cut at HX_REPORT_VALUE_MAX bytes (on a UTF-8 boundary). */
static char *value_text(const json_t *v)
{
	if (!v)
		return strdup("");
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		return strdup("?");
	size_t n = strlen(s);
	if (n > HX_REPORT_VALUE_MAX) {
		size_t cut = HX_REPORT_VALUE_MAX;
		while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
			cut--;
		memcpy(s + cut, "...", 4);
	}
	return s;
}

/* Index of name in list (appending it when new); -1 when out of memory. */
static long intern(char ***list, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*list)[i], name))
			return (long)i;
	char **nl = realloc(*list, (*n + 1) * sizeof *nl);
	if (!nl)
		return -1;
	*list = nl;
	if (!(nl[*n] = strdup(name)))
		return -1;
	return (long)(*n)++;
}

static void note_bad(struct hx_report_hist *h, size_t line, const char *why)
{
	h->bad_lines++;
	if (!h->first_bad_line) {
		h->first_bad_line = line;
		snprintf(h->bad_reason, sizeof h->bad_reason, "%s", why);
	}
}

/* Lane of process p; processes without a thread mapping get lanes in order of appearance. */
struct lanes {
	long long *procs;
	size_t n;
};

static long lane_of(struct hx_report_hist *h, struct lanes *l, long long p)
{
	if (h->concurrency > 0 && p >= 0) {
		unsigned lane = (unsigned)(p % h->concurrency);
		if (lane + 1 > h->n_lanes)
			h->n_lanes = lane + 1;
		return lane;
	}
	for (size_t i = 0; i < l->n; i++)
		if (l->procs[i] == p)
			return (long)i;
	long long *np = realloc(l->procs, (l->n + 1) * sizeof *np);
	if (!np)
		return -1;
	l->procs = np;
	np[l->n] = p;
	h->n_lanes = (unsigned)(l->n + 1);
	return (long)l->n++;
}

static int add_fault_event(struct hx_report_hist *h, const char *f, double t, const json_t *value)
{
	size_t fl = strlen(f);
	bool start = fl > 6 && !strcmp(f + fl - 6, "-start");
	bool end = fl > 4 && !strcmp(f + fl - 4, "-end");
	if (start) {
		void *n = grow(h->faults, &h->cap_faults, h->n_faults + 1, sizeof *h->faults);
		if (!n)
			return -1;
		h->faults = n;
		struct hx_report_fault *fw = &h->faults[h->n_faults];
		fw->kind = strndup(f, fl - 6);
		fw->value = value_text(value);
		fw->start = t;
		fw->end = -1;
		if (!fw->kind || !fw->value)
			return -1;
		h->n_faults++;
		return 0;
	}
	if (end) {
		/* heal the latest open window of that kind */
		for (size_t i = h->n_faults; i-- > 0;) {
			struct hx_report_fault *fw = &h->faults[i];
			if (fw->end < 0 && strlen(fw->kind) == fl - 4 && !strncmp(fw->kind, f, fl - 4)) {
				fw->end = t;
				return 0;
			}
		}
		/* an end without a start: record it as an event */
	}
	void *n = grow(h->events, &h->cap_events, h->n_events + 1, sizeof *h->events);
	if (!n)
		return -1;
	h->events = n;
	struct hx_report_event *ev = &h->events[h->n_events];
	ev->time = t;
	ev->f = strdup(f);
	ev->value = value_text(value);
	if (!ev->f || !ev->value)
		return -1;
	h->n_events++;
	return 0;
}

static int parse_line(struct hx_report_hist *h, struct pending *pend, struct lanes *lanes,
		      const char *s, size_t n, size_t lineno)
{
	json_error_t jerr;
	json_t *ev = json_loadb(s, n, JSON_DECODE_ANY, &jerr);
	char why[160];
	int rc = 0;
	if (!ev || !json_is_object(ev)) {
		snprintf(why, sizeof why, "%s", ev ? "not a JSON object" : jerr.text);
		note_bad(h, lineno, why);
		json_decref(ev);
		return 0;
	}
	const json_t *jt = json_object_get(ev, "time");
	double t;
	if (json_is_number(jt)) {
		t = json_number_value(jt) / 1e9;
		h->has_time = true;
	} else {
		t = (double)lineno;
	}
	if (t > h->duration)
		h->duration = t;
	const char *type = json_string_value(json_object_get(ev, "type"));
	const char *f = json_string_value(json_object_get(ev, "f"));
	const json_t *jp = json_object_get(ev, "process");
	if (!type || !f) {
		note_bad(h, lineno, !type ? "field \"type\" missing or not a string"
					  : "field \"f\" missing or not a string");
		goto out;
	}
	if (json_is_string(jp)) { /* the nemesis */
		if (add_fault_event(h, f, t, json_object_get(ev, "value")) != 0)
			rc = -1;
		goto out;
	}
	if (!json_is_integer(jp)) {
		note_bad(h, lineno, "field \"process\" missing or not an integer");
		goto out;
	}
	long long p = json_integer_value(jp);
	if (!strcmp(type, "invoke")) {
		long fi = intern(&h->fs, &h->n_fs, f);
		long lane = lane_of(h, lanes, p);
		void *na = grow(h->ops, &h->cap_ops, h->n_ops + 1, sizeof *h->ops);
		if (fi < 0 || lane < 0 || !na) {
			rc = -1;
			goto out;
		}
		h->ops = na;
		struct hx_report_op *op = &h->ops[h->n_ops];
		memset(op, 0, sizeof *op);
		op->start = t;
		op->end = -1;
		op->process = p;
		const json_t *ji = json_object_get(ev, "index");
		op->index = json_is_integer(ji) ? json_integer_value(ji) : (long long)lineno - 1;
		op->lane = (unsigned)lane;
		op->f = (unsigned)fi;
		op->node = -1;
		op->type = HX_REPORT_NONE;
		if (!(op->value = value_text(json_object_get(ev, "value")))) {
			rc = -1;
			goto out;
		}
		const json_t *jk = json_object_get(ev, "key");
		if (jk && !json_is_null(jk)) {
			if (!(op->key = json_is_string(jk) ? strndup(json_string_value(jk), HX_REPORT_VALUE_MAX)
							   : value_text(jk))) {
				rc = -1;
				goto out;
			}
			h->has_keys = true;
		}
		h->invokes++;
		if ((pend->n + 1) * 2 > pend->cap && pending_grow(pend) != 0) {
			rc = -1;
			goto out;
		}
		size_t j = pending_slot(pend, p);
		if (pend->used[j]) /* a second invoke: the first never completed */
			pend->vals[j] = h->n_ops;
		else {
			pend->used[j] = 1;
			pend->keys[j] = p;
			pend->vals[j] = h->n_ops;
			pend->n++;
		}
		h->n_ops++;
		goto out;
	}
	enum hx_report_type ty = !strcmp(type, "ok")     ? HX_REPORT_OK
				 : !strcmp(type, "fail") ? HX_REPORT_FAIL
				 : !strcmp(type, "info") ? HX_REPORT_INFO
							 : HX_REPORT_NONE;
	if (ty == HX_REPORT_NONE) {
		snprintf(why, sizeof why, "unknown type \"%.40s\"", type);
		note_bad(h, lineno, why);
		goto out;
	}
	size_t j = pend->cap ? pending_slot(pend, p) : 0;
	if (!pend->cap || !pend->used[j]) {
		note_bad(h, lineno, "a completion without an invoke of its process");
		goto out;
	}
	struct hx_report_op *op = &h->ops[pend->vals[j]];
	pending_del(pend, j);
	op->end = t;
	op->type = ty;
	const json_t *jv = json_object_get(ev, "value");
	if (jv && ty == HX_REPORT_OK) {
		char *v = value_text(jv);
		if (!v) {
			rc = -1;
			goto out;
		}
		free(op->value);
		op->value = v;
	}
	const char *e = json_string_value(json_object_get(ev, "error"));
	if (e && !(op->error = strndup(e, HX_REPORT_VALUE_MAX))) {
		rc = -1;
		goto out;
	}
	const char *node = json_string_value(json_object_get(ev, "node"));
	if (node) {
		long ni = intern(&h->nodes, &h->n_nodes, node);
		if (ni < 0) {
			rc = -1;
			goto out;
		}
		op->node = (int)ni;
	}
	if (ty == HX_REPORT_OK)
		h->oks++;
	else if (ty == HX_REPORT_FAIL)
		h->fails++;
	else
		h->infos++;
out:
	json_decref(ev);
	return rc;
}

int hx_report_hist_parse(struct hx_report_hist *h, const char *buf, size_t len, long concurrency,
			 char *err, size_t errlen)
{
	struct pending pend = {0};
	struct lanes lanes = {0};
	h->concurrency = concurrency;
	int rc = 0;
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len;
		h->lines++;
		if (!nl)
			h->truncated = true;
		size_t a = pos, b = end;
		while (a < b && (buf[a] == ' ' || buf[a] == '\t' || buf[a] == '\r'))
			a++;
		while (b > a && (buf[b - 1] == ' ' || buf[b - 1] == '\t' || buf[b - 1] == '\r'))
			b--;
		if (b > a && parse_line(h, &pend, &lanes, buf + a, b - a, h->lines) != 0) {
			snprintf(err, errlen, "history line %zu: out of memory", h->lines);
			rc = -1;
			break;
		}
		pos = end + 1;
	}
	h->incomplete = h->invokes - (h->oks + h->fails + h->infos);
	pending_free(&pend);
	free(lanes.procs);
	return rc;
}

int hx_report_hist_load(struct hx_report_hist *h, const char *path, long concurrency, char *err,
			size_t errlen)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + 65536 > cap) {
			size_t ncap = cap ? cap * 2 : 1 << 20;
			char *nb = realloc(buf, ncap);
			if (!nb) {
				snprintf(err, errlen, "%s: out of memory after %zu bytes", path, len);
				free(buf);
				fclose(fp);
				return -1;
			}
			buf = nb;
			cap = ncap;
		}
		size_t got = fread(buf + len, 1, cap - len, fp);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		free(buf);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	int rc = hx_report_hist_parse(h, buf ? buf : "", len, concurrency, err, errlen);
	free(buf);
	return rc;
}

void hx_report_hist_free(struct hx_report_hist *h)
{
	for (size_t i = 0; i < h->n_ops; i++) {
		free(h->ops[i].value);
		free(h->ops[i].error);
		free(h->ops[i].key);
	}
	for (size_t i = 0; i < h->n_faults; i++) {
		free(h->faults[i].kind);
		free(h->faults[i].value);
	}
	for (size_t i = 0; i < h->n_events; i++) {
		free(h->events[i].f);
		free(h->events[i].value);
	}
	for (size_t i = 0; i < h->n_fs; i++)
		free(h->fs[i]);
	for (size_t i = 0; i < h->n_nodes; i++)
		free(h->nodes[i]);
	free(h->ops);
	free(h->faults);
	free(h->events);
	free(h->fs);
	free(h->nodes);
	memset(h, 0, sizeof *h);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double hx_report_hist_quantile(const struct hx_report_hist *h, enum hx_report_type t, const char *f,
			       double q)
{
	double *lat = malloc((h->n_ops ? h->n_ops : 1) * sizeof *lat);
	if (!lat)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < h->n_ops; i++) {
		const struct hx_report_op *op = &h->ops[i];
		if (op->end < 0 || (t != HX_REPORT_NONE && op->type != t))
			continue;
		if (f && strcmp(h->fs[op->f], f))
			continue;
		lat[n++] = op->end - op->start;
	}
	double r = -1;
	if (n) {
		qsort(lat, n, sizeof *lat, cmp_double);
		double pos = q <= 0 ? 0 : q >= 1 ? (double)(n - 1) : ceil(q * (double)n) - 1;
		r = lat[(size_t)pos];
	}
	free(lat);
	return r;
}
