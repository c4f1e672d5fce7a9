/* chk_util.c — error buffers, value interning, clocks and memory accounting for the checker. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checker/chk_internal.h"

int chk_errf(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return CHK_BAD_INPUT;
}

void chk_err_prefix(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	char ctx[512], old[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof ctx, fmt, ap);
	va_end(ap);
	snprintf(old, sizeof old, "%s", err);
	snprintf(err, errlen, "%s: %s", ctx, old);
}

double chk_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Memory accounting is optimistic-then-check: the bytes are added, and taken
 * back if the total passes the limit, so concurrent threads never together
 * hold more than the limit. */
bool chk_mem_reserve(struct chk_limits *lim, size_t bytes)
{
	size_t now = atomic_fetch_add(&lim->mem_used, bytes) + bytes;
	if (lim->mem_limit && now > lim->mem_limit) {
		atomic_fetch_sub(&lim->mem_used, bytes);
		return false;
	}
	size_t peak = atomic_load(&lim->mem_peak);
	while (now > peak && !atomic_compare_exchange_weak(&lim->mem_peak, &peak, now))
		;
	return true;
}

void chk_mem_release(struct chk_limits *lim, size_t bytes)
{
	atomic_fetch_sub(&lim->mem_used, bytes);
}

/* ---- value interning ---- */

static uint64_t text_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

int chk_values_init(struct chk_values *t)
{
	memset(t, 0, sizeof *t);
	json_t *null = json_null();
	return chk_values_intern(t, null) == 0 ? 0 : -1;
}

void chk_values_free(struct chk_values *t)
{
	for (size_t i = 0; i < t->n; i++) {
		json_decref(t->vals[i]);
		free(t->texts[i]);
	}
	free(t->vals);
	free(t->texts);
	free(t->slots);
	memset(t, 0, sizeof *t);
}

static int rehash(struct chk_values *t, size_t nslots)
{
	int32_t *s = malloc(nslots * sizeof *s);
	if (!s)
		return -1;
	memset(s, 0xff, nslots * sizeof *s);
	for (size_t i = 0; i < t->n; i++) {
		size_t j = text_hash(t->texts[i]) & (nslots - 1);
		while (s[j] >= 0)
			j = (j + 1) & (nslots - 1);
		s[j] = (int32_t)i;
	}
	free(t->slots);
	t->slots = s;
	t->nslots = nslots;
	return 0;
}

int32_t chk_values_intern(struct chk_values *t, json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!text)
		return -1;
	if ((t->n + 1) * 2 > t->nslots && rehash(t, t->nslots ? t->nslots * 2 : 64) != 0) {
		free(text);
		return -1;
	}
	size_t j = text_hash(text) & (t->nslots - 1);
	while (t->slots[j] >= 0) {
		if (strcmp(t->texts[t->slots[j]], text) == 0) {
			free(text);
			return t->slots[j];
		}
		j = (j + 1) & (t->nslots - 1);
	}
	if (t->n == INT32_MAX) {
		free(text);
		return -1;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		json_t **nv = realloc(t->vals, cap * sizeof *nv);
		if (!nv) {
			free(text);
			return -1;
		}
		t->vals = nv;
		char **nt = realloc(t->texts, cap * sizeof *nt);
		if (!nt) {
			free(text);
			return -1;
		}
		t->texts = nt;
		t->cap = cap;
	}
	t->vals[t->n] = json_incref(v);
	t->texts[t->n] = text;
	t->slots[j] = (int32_t)t->n;
	return (int32_t)t->n++;
}
