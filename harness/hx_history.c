/* hx_history.c — streams the run's events to history.jsonl, one flushed
 * JSON line each, and keeps counts and fault intervals. */
#include "harness/hx_history.h"
#include "harness/hx_util.h"

#include <errno.h>
#include <string.h>
#include <time.h>

uint64_t hx_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int hx_history_open(struct hx_history *h, const char *path, char *err, size_t errlen)
{
	memset(h, 0, sizeof *h);
	h->f = fopen(path, "w");
	if (!h->f) {
		hx_fmt(err, errlen, "open %s: %s", path, strerror(errno));
		return -1;
	}
	h->t0_ns = hx_now_ns();
	h->faults = json_array();
	h->open_faults = json_object();
	return 0;
}

double hx_history_elapsed(const struct hx_history *h)
{
	return (double)(hx_now_ns() - h->t0_ns) / 1e9;
}

static double round_ms(double s)
{
	return (double)(long long)(s * 1000.0 + 0.5) / 1000.0;
}

/* Fault bookkeeping: "<kind>-start" opens an interval, "<kind>-end" closes
 * the open one of that kind. A start while one is open closes nothing: the
 * later start is recorded as its own interval (nemesis packages never do
 * that, but a hand-written plan might). */
static void track_fault(struct hx_history *h, const struct hx_event *ev, double t)
{
	const char *f = ev->f;
	size_t n = strlen(f);
	char kind[64];
	if (n > 6 && strcmp(f + n - 6, "-start") == 0 && n - 6 < sizeof kind) {
		memcpy(kind, f, n - 6);
		kind[n - 6] = 0;
		json_t *fault = json_pack("{s:s, s:f, s:n, s:O}", "f", kind, "start_s", round_ms(t),
		                          "end_s", "value", ev->value ? ev->value : json_null());
		if (!fault)
			return;
		json_array_append_new(h->faults, fault);
		json_object_set_new(h->open_faults, kind, json_integer((json_int_t)json_array_size(h->faults) - 1));
	} else if (n > 4 && strcmp(f + n - 4, "-end") == 0 && n - 4 < sizeof kind) {
		memcpy(kind, f, n - 4);
		kind[n - 4] = 0;
		json_t *ix = json_object_get(h->open_faults, kind);
		if (!ix)
			return;
		json_t *fault = json_array_get(h->faults, (size_t)json_integer_value(ix));
		json_object_set_new(fault, "end_s", json_real(round_ms(t)));
		json_object_del(h->open_faults, kind);
	}
}

long long hx_history_record(struct hx_history *h, const struct hx_event *ev, char *err,
                            size_t errlen)
{
	uint64_t now = hx_now_ns() - h->t0_ns;
	long long index = (long long)h->next_index++;
	json_t *o = json_object();
	json_object_set_new(o, "index", json_integer(index));
	json_object_set_new(o, "time", json_integer((json_int_t)now));
	if (ev->process_name)
		json_object_set_new(o, "process", json_string(ev->process_name));
	else
		json_object_set_new(o, "process", json_integer(ev->process));
	json_object_set_new(o, "type", json_string(ev->type));
	json_object_set_new(o, "f", json_string(ev->f));
	if (ev->key)
		json_object_set(o, "key", (json_t *)ev->key);
	json_object_set(o, "value", ev->value ? (json_t *)ev->value : json_null());
	if (ev->node)
		json_object_set_new(o, "node", json_string(ev->node));
	if (ev->error)
		json_object_set_new(o, "error", json_string(ev->error));
	/* 15 significant digits: 0.8 stays "0.8" (17 would print 0.80000000000000004). */
	int rc = json_dumpf(o, h->f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
	json_decref(o);
	if (rc != 0 || fputc('\n', h->f) == EOF || fflush(h->f) != 0) {
		hx_fmt(err, errlen, "write history: %s", strerror(errno));
		return -1;
	}
	if (strcmp(ev->type, "invoke") == 0)
		h->counts.invoke++;
	else if (ev->process_name == NULL && strcmp(ev->type, "ok") == 0)
		h->counts.ok++;
	else if (ev->process_name == NULL && strcmp(ev->type, "fail") == 0)
		h->counts.fail++;
	else if (ev->process_name == NULL && strcmp(ev->type, "info") == 0)
		h->counts.info++;
	if (ev->process_name && strcmp(ev->process_name, "nemesis") == 0)
		track_fault(h, ev, (double)now / 1e9);
	return index;
}

void hx_history_close_open_faults(struct hx_history *h)
{
	const char *kind;
	json_t *ix;
	double t = round_ms(hx_history_elapsed(h));
	json_object_foreach(h->open_faults, kind, ix) {
		json_t *fault = json_array_get(h->faults, (size_t)json_integer_value(ix));
		json_object_set_new(fault, "end_s", json_real(t));
		json_object_set_new(fault, "unhealed", json_true());
	}
	json_object_clear(h->open_faults);
}

void hx_history_current_faults(const struct hx_history *h, char *buf, size_t len)
{
	const char *kind;
	json_t *ix;
	size_t off = 0;
	buf[0] = 0;
	json_object_foreach(h->open_faults, kind, ix) {
		int n = hx_fmt(buf + off, len - off, "%s%s", off ? "," : "", kind);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
}

void hx_history_close(struct hx_history *h)
{
	if (h->f)
		fclose(h->f);
	h->f = NULL;
	json_decref(h->faults);
	json_decref(h->open_faults);
	h->faults = h->open_faults = NULL;
}
