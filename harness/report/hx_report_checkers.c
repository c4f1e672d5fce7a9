/* hx_report_checkers.c — HTML for checker results: findings tables, stats tables and the counterexample picture (inline SVG). */
#include "harness/report/hx_report_internal.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CELL_MAX 200 /* characters of a JSON value in a table cell */

int hx_report_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void esc(FILE *o, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '&': fputs("&amp;", o); break;
		case '"': fputs("&quot;", o); break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
				fputc('?', o);
			else
				fputc(*s, o);
		}
	}
}

/* Compact text of a JSON value (strings bare), capped; caller frees. */
static char *text_of(const json_t *v, size_t cap)
{
	char *s;
	if (!v)
		s = strdup("");
	else if (json_is_string(v))
		s = strdup(json_string_value(v));
	else if (json_is_real(v)) {
		s = malloc(32);
		if (s)
			snprintf(s, 32, "%.6g", json_real_value(v));
	} else
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s && strlen(s) > cap) {
		size_t cut = cap;
		while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
			cut--;
		memcpy(s + cut, "...", 4);
	}
	return s;
}

static void cell(FILE *o, const json_t *v)
{
	char *s = text_of(v, CELL_MAX);
	fputs(json_is_number(v) ? "<td class=\"n\">" : "<td>", o);
	esc(o, s);
	fputs("</td>", o);
	free(s);
}

void hx_report_json_string(FILE *o, const char *s)
{
	fputc('"', o);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", o); break;
		case '\\': fputs("\\\\", o); break;
		case '\n': fputs("\\n", o); break;
		case '\r': fputs("\\r", o); break;
		case '\t': fputs("\\t", o); break;
		case '/': fputs("\\/", o); break;
		case '<': fputs("\\u003c", o); break;
		default:
			if (*p < 0x20)
				fprintf(o, "\\u%04x", *p);
			else
				fputc(*p, o);
		}
	}
	fputc('"', o);
}

void hx_report_url_path(FILE *o, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-_.~", *p))
			fputc(*p, o);
		else
			fprintf(o, "%%%02X", *p);
	}
}

/* Column names: union of keys over the first rows, in order of appearance. */
static size_t collect_columns(const json_t *arr, const char **cols, size_t max_cols)
{
	size_t n = 0, i;
	const json_t *row;
	json_array_foreach(arr, i, row)
	{
		if (i >= 200)
			break;
		const char *k;
		const json_t *v;
		json_object_foreach((json_t *)row, k, v)
		{
			size_t j;
			for (j = 0; j < n && strcmp(cols[j], k); j++)
				;
			if (j == n && n < max_cols)
				cols[n++] = k;
		}
	}
	return n;
}

void hx_report_table_of_objects(FILE *o, const json_t *arr, size_t max_rows)
{
	const char *cols[32];
	size_t nc = collect_columns(arr, cols, 32);
	fputs("<table><tr>", o);
	for (size_t j = 0; j < nc; j++) {
		fputs("<th>", o);
		esc(o, cols[j]);
		fputs("</th>", o);
	}
	fputs("</tr>\n", o);
	size_t i;
	const json_t *row;
	json_array_foreach(arr, i, row)
	{
		if (i >= max_rows) {
			fprintf(o, "<tr><td colspan=\"%zu\">&hellip; %zu more</td></tr>\n", nc ? nc : 1,
				json_array_size(arr) - i);
			break;
		}
		fputs("<tr>", o);
		if (json_is_object(row))
			for (size_t j = 0; j < nc; j++)
				cell(o, json_object_get(row, cols[j]));
		else
			cell(o, row);
		fputs("</tr>\n", o);
	}
	fputs("</table>\n", o);
}

/* An object whose members are objects, as rows; nested objects one level
 * deep become dotted columns (latency_ms.p50). */
static void table_of_rows(FILE *o, const json_t *obj, const char *first_col)
{
	const char *cols[48], *sub[48];
	size_t nc = 0;
	const char *rk;
	const json_t *rv;
	json_object_foreach((json_t *)obj, rk, rv)
	{
		const char *k;
		const json_t *v;
		json_object_foreach((json_t *)rv, k, v)
		{
			if (json_is_object(v)) {
				const char *k2;
				const json_t *v2;
				json_object_foreach((json_t *)v, k2, v2)
				{
					size_t j;
					for (j = 0; j < nc && !(!strcmp(cols[j], k) && sub[j] && !strcmp(sub[j], k2)); j++)
						;
					if (j == nc && nc < 48) {
						cols[nc] = k;
						sub[nc++] = k2;
					}
				}
				continue;
			}
			if (json_is_array(v))
				continue;
			size_t j;
			for (j = 0; j < nc && !(!strcmp(cols[j], k) && !sub[j]); j++)
				;
			if (j == nc && nc < 48) {
				cols[nc] = k;
				sub[nc++] = NULL;
			}
		}
	}
	fputs("<table><tr><th>", o);
	esc(o, first_col);
	fputs("</th>", o);
	for (size_t j = 0; j < nc; j++) {
		fputs("<th>", o);
		esc(o, cols[j]);
		if (sub[j]) {
			fputc('.', o);
			esc(o, sub[j]);
		}
		fputs("</th>", o);
	}
	fputs("</tr>\n", o);
	json_object_foreach((json_t *)obj, rk, rv)
	{
		fputs("<tr><th>", o);
		esc(o, rk);
		fputs("</th>", o);
		for (size_t j = 0; j < nc; j++) {
			const json_t *v = json_object_get(rv, cols[j]);
			if (sub[j])
				v = json_object_get(v, sub[j]);
			cell(o, v);
		}
		fputs("</tr>\n", o);
	}
	fputs("</table>\n", o);
}

static bool all_members_objects(const json_t *obj)
{
	if (!json_is_object(obj) || !json_object_size(obj))
		return false;
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)obj, k, v) if (!json_is_object(v)) return false;
	return true;
}

void hx_report_write_stats(FILE *o, const json_t *chk)
{
	const json_t *av = json_object_get(chk, "availability");
	const json_t *perf = json_object_get(chk, "perf");
	if (json_is_object(av)) {
		fputs("<h4>Availability (share of completed operations that were ok)</h4>\n", o);
		json_t *rows = json_object();
		const json_t *overall = json_object_get(av, "overall");
		if (json_is_object(overall))
			json_object_set(rows, "whole run", (json_t *)overall);
		const json_t *any = json_object_get(av, "any_fault");
		const char *k;
		const json_t *v;
		if (json_is_object(any))
			json_object_foreach((json_t *)any, k, v) if (json_is_object(v))
			{
				const char *name = !strcmp(k, "clean")	  ? "no fault in force"
						   : !strcmp(k, "faulty") ? "some fault in force"
									  : k;
				json_object_set(rows, name, (json_t *)v);
			}
		const json_t *byf = json_object_get(av, "by_fault");
		if (json_is_object(byf))
			json_object_foreach((json_t *)byf, k, v)
			{
				static const char *const ph[] = {"before", "during", "after"};
				for (size_t i = 0; i < 3; i++) {
					const json_t *x = json_object_get(v, ph[i]);
					if (!json_is_object(x))
						continue;
					char name[160];
					snprintf(name, sizeof name, "%s: %s", k, ph[i]);
					json_t *cp = json_deep_copy(x);
					if (i == 1) {
						json_object_set(cp, "intervals", json_object_get(v, "intervals"));
						json_object_set(cp, "fault_s", json_object_get(v, "fault_s"));
					}
					json_object_set_new(rows, name, cp);
				}
			}
		if (json_object_size(rows))
			table_of_rows(o, rows, "");
		json_decref(rows);
		const json_t *bynode = json_object_get(av, "by_node");
		if (all_members_objects(bynode)) {
			fputs("<h4>Availability per node served</h4>\n", o);
			table_of_rows(o, bynode, "node");
		}
	}
	if (json_is_object(perf)) {
		fputs("<h4>Performance</h4>\n", o);
		json_t *rows = json_object();
		const json_t *all = json_object_get(perf, "all");
		if (json_is_object(all))
			json_object_set(rows, "all", (json_t *)all);
		const json_t *byf = json_object_get(perf, "by_f");
		const char *k;
		const json_t *v;
		if (json_is_object(byf))
			json_object_foreach((json_t *)byf, k, v) if (json_is_object(v))
				json_object_set(rows, k, (json_t *)v);
		if (json_object_size(rows))
			table_of_rows(o, rows, "f");
		json_decref(rows);
	}
	if (!json_is_object(av) && !json_is_object(perf))
		hx_report_write_checker(o, chk, NULL);
}

/* ---- the counterexample picture ---- */

struct cx_op {
	const json_t *j;
	long long process;
	double start, end; /* seconds; end < 0: never completed */
	bool stuck, prefix;
};

static double ns_field(const json_t *op, const char *k)
{
	const json_t *v = json_object_get(op, k);
	return json_is_number(v) ? json_number_value(v) / 1e9 : -1;
}

static size_t gather_cx(const json_t *arr, bool prefix, struct cx_op *out, size_t n, size_t max)
{
	size_t i;
	const json_t *op;
	json_array_foreach(arr, i, op)
	{
		if (n >= max)
			break;
		if (!json_is_object(op))
			continue;
		struct cx_op *c = &out[n];
		c->j = op;
		c->process = json_integer_value(json_object_get(op, "process"));
		c->start = ns_field(op, "start");
		c->end = ns_field(op, "end");
		c->stuck = json_is_true(json_object_get(op, "stuck"));
		c->prefix = prefix;
		if (c->start < 0)
			continue;
		n++;
	}
	return n;
}

static void op_label(const json_t *op, char *buf, size_t len)
{
	const char *f = json_string_value(json_object_get(op, "f"));
	const char *type = json_string_value(json_object_get(op, "type"));
	char *v = text_of(json_object_get(op, "value"), 28);
	snprintf(buf, len, "%s %s%s%s", f ? f : "?", v ? v : "",
		 type && strcmp(type, "ok") ? " " : "", type && strcmp(type, "ok") ? type : "");
	free(v);
}

static void cx_svg(FILE *o, const json_t *cx, const struct hx_report_hist *h)
{
	struct cx_op ops[96];
	size_t n = gather_cx(json_object_get(cx, "ops"), false, ops, 0, 64);
	if (!n)
		return;
	double lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		lo = fmin(lo, ops[i].start);
		hi = fmax(hi, ops[i].end >= 0 ? ops[i].end : ops[i].start);
	}
	/* the end of the longest linearizable prefix, when near enough to show */
	const json_t *pre = json_object_get(cx, "prefix");
	size_t ncx = n;
	n = gather_cx(json_object_get(pre, "last"), true, ops, n, 96);
	double span = hi - lo > 0 ? hi - lo : 1e-3;
	size_t keep = ncx;
	for (size_t i = ncx; i < n; i++) {
		if (ops[i].start < lo - 2 * span)
			continue;
		bool dup = false; /* the prefix's end and the counterexample may share ops */
		const json_t *id = json_object_get(ops[i].j, "id");
		for (size_t j = 0; j < ncx && id; j++)
			dup |= json_equal((json_t *)id, json_object_get(ops[j].j, "id"));
		if (!dup)
			ops[keep++] = ops[i];
	}
	n = keep;
	for (size_t i = ncx; i < n; i++) {
		lo = fmin(lo, ops[i].start);
		hi = fmax(hi, ops[i].end >= 0 ? ops[i].end : ops[i].start);
	}
	span = hi - lo > 0 ? hi - lo : 1e-3;
	double pad = span * 0.04;
	lo -= pad;
	hi += pad;
	span = hi - lo;
	long long procs[96];
	size_t np = 0;
	for (size_t i = 0; i < n; i++) {
		size_t j;
		for (j = 0; j < np && procs[j] != ops[i].process; j++)
			;
		if (j == np)
			procs[np++] = ops[i].process;
	}
	/* lanes in process order */
	for (size_t i = 1; i < np; i++)
		for (size_t j = i; j > 0 && procs[j - 1] > procs[j]; j--) {
			long long t = procs[j];
			procs[j] = procs[j - 1];
			procs[j - 1] = t;
		}
	const int W = 960, L = 110, R = 20, LH = 56, TOP = 24;
	double label_end[96]; /* per lane: where the last label above the bar ends */
	for (size_t p = 0; p < 96; p++)
		label_end[p] = -1;
	int H = TOP + (int)np * LH + 40;
	double plot_w = W - L - R;
#define X(t) (L + ((t) - lo) / span * plot_w)
	fprintf(o,
		"<svg class=\"cx\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		"height=\"%d\" role=\"img\" aria-label=\"counterexample\">\n",
		W, H, W, H);
	/* faults in force during the window */
	for (size_t i = 0; h && i < h->n_faults; i++) {
		const struct hx_report_fault *f = &h->faults[i];
		double fe = f->end < 0 ? h->duration : f->end;
		if (fe < lo || f->start > hi)
			continue;
		double x0 = X(fmax(f->start, lo)), x1 = X(fmin(fe, hi));
		fprintf(o, "<rect class=\"fault\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\"><title>",
			x0, TOP - 6, fmax(x1 - x0, 1), (int)np * LH + 6);
		esc(o, f->kind);
		fputs(" ", o);
		esc(o, f->value);
		fputs("</title></rect>\n", o);
		fprintf(o, "<text class=\"fault-label\" x=\"%.1f\" y=\"%d\">", x0 + 2, TOP - 10);
		esc(o, f->kind);
		fputs("</text>\n", o);
	}
	for (size_t p = 0; p < np; p++) {
		int y = TOP + (int)p * LH;
		fprintf(o, "<line class=\"lane\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", L, y + LH - 4, W - R,
			y + LH - 4);
		fprintf(o, "<text class=\"lane-label\" x=\"4\" y=\"%d\">process %lld</text>\n", y + 30,
			procs[p]);
	}
	for (size_t i = 0; i < n; i++) {
		size_t p;
		for (p = 0; p < np && procs[p] != ops[i].process; p++)
			;
		int y = TOP + (int)p * LH + 20;
		double x0 = X(ops[i].start);
		bool open = ops[i].end < 0;
		double x1 = open ? W - R : X(ops[i].end);
		const char *type = json_string_value(json_object_get(ops[i].j, "type"));
		const char *cls = ops[i].prefix ? "prefix" : ops[i].stuck ? "stuck" : type ? type : "none";
		char label[96];
		op_label(ops[i].j, label, sizeof label);
		fprintf(o, "<g class=\"op %s%s\"><rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"14\" rx=\"3\"/>",
			cls, open ? " open" : "", x0, y, fmax(x1 - x0, 3));
		/* labels of bars in the right half end at the bar's end, so they stay
		 * inside; a label that would overlap the lane's previous one goes below */
		double chars = (double)strlen(label) + (ops[i].stuck ? 22 : 0), lw = chars * 6.7;
		bool right = x0 > L + plot_w / 2;
		double lx0 = right ? fmin(x1, W - R) - lw : x0;
		int ly = y - 4;
		if (lx0 < label_end[p] + 4)
			ly = y + 26;
		else
			label_end[p] = lx0 + lw;
		if (right)
			fprintf(o, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\">", fmin(x1, W - R), ly);
		else
			fprintf(o, "<text x=\"%.1f\" y=\"%d\">", x0, ly);
		esc(o, label);
		if (ops[i].stuck)
			fputs(" \xe2\x80\x94 cannot be linearized", o);
		fputs("</text><title>", o);
		char *full = text_of(ops[i].j, 400);
		esc(o, full);
		free(full);
		fputs("</title></g>\n", o);
	}
	/* time axis: milliseconds from the first op shown */
	int ya = TOP + (int)np * LH + 8;
	fprintf(o, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", L, ya, W - R, ya);
	bool us = span < 0.01; /* under 10 ms: microseconds */
	for (int k = 0; k <= 5; k++) {
		double t = lo + span * k / 5;
		fprintf(o, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">%s%.*f %s</text>\n",
			X(t), ya + 16, k == 0 ? "start" : k == 5 ? "end" : "middle", k ? "+" : "", us ? 1 : 3,
			(t - lo) * (us ? 1e6 : 1e3), us ? "\xc2\xb5s" : "ms");
	}
	fprintf(o, "<text class=\"tick\" x=\"4\" y=\"%d\">at %.6f s</text>\n", ya + 16, lo);
#undef X
	fputs("</svg>\n", o);
}

/* The node that served a counterexample op, found in the history by process and invocation time. */
static const char *served_by(const struct hx_report_hist *h, long long process, double start)
{
	for (size_t i = 0; h && i < h->n_ops; i++)
		if (h->ops[i].process == process && fabs(h->ops[i].start - start) < 1e-6)
			return h->ops[i].node >= 0 ? h->nodes[h->ops[i].node] : NULL;
	return NULL;
}

static void cx_table(FILE *o, const json_t *arr, const struct hx_report_hist *h)
{
	fputs("<table><tr><th>history line</th><th>process</th><th>type</th><th>f</th><th>key</th>"
	      "<th>value</th><th>node</th><th>start s</th><th>end s</th><th>latency ms</th><th></th></tr>\n",
	      o);
	size_t i;
	const json_t *op;
	json_array_foreach(arr, i, op)
	{
		fputs(json_is_true(json_object_get(op, "stuck")) ? "<tr class=\"stuck\">" : "<tr>", o);
		cell(o, json_object_get(op, "line"));
		cell(o, json_object_get(op, "process"));
		cell(o, json_object_get(op, "type"));
		cell(o, json_object_get(op, "f"));
		cell(o, json_object_get(op, "key"));
		cell(o, json_object_get(op, "value"));
		double s = ns_field(op, "start"), e = ns_field(op, "end");
		const char *node = served_by(h, json_integer_value(json_object_get(op, "process")), s);
		fputs("<td>", o);
		esc(o, node ? node : "");
		fputs("</td>", o);
		fprintf(o, "<td class=\"n\">%.6f</td>", s);
		if (e >= 0)
			fprintf(o, "<td class=\"n\">%.6f</td><td class=\"n\">%.3f</td>", e, (e - s) * 1e3);
		else
			fputs("<td>never</td><td></td>", o);
		fputs(json_is_true(json_object_get(op, "stuck")) ? "<td>cannot be linearized</td>" : "<td></td>",
		      o);
		fputs("</tr>\n", o);
	}
	fputs("</table>\n", o);
}

static void write_counterexample(FILE *o, const json_t *cx, const struct hx_report_hist *h)
{
	fputs("<div class=\"cx\"><h4>Counterexample</h4>\n<p>", o);
	const json_t *key = json_object_get(cx, "key");
	if (key && !json_is_null(key)) {
		fputs("Key <code>", o);
		char *k = text_of(key, 80);
		esc(o, k);
		free(k);
		fputs("</code>. ", o);
	}
	const json_t *ops = json_object_get(cx, "ops");
	fprintf(o, "%zu operation(s) that cannot be linearized together", json_array_size(ops));
	const json_t *total = json_object_get(cx, "ops_total");
	if (json_is_integer(total) && (size_t)json_integer_value(total) > json_array_size(ops))
		fprintf(o, " (%lld in all; the ones nearest the failing operation are shown)",
			(long long)json_integer_value(total));
	fputs(json_is_true(json_object_get(cx, "minimal")) ? "; minimal: removing any one makes the rest "
							      "linearizable"
							    : "",
	      o);
	const char *by = json_string_value(json_object_get(cx, "found_by"));
	if (by) {
		fputs(". Found by the ", o);
		esc(o, by);
		fputs(".", o);
	}
	fputs("</p>\n", o);
	cx_svg(o, cx, h);
	fputs("<p class=\"help\">Bars run from invocation to completion on each process's lane; red: the "
	      "operation no order can explain; grey: the end of the longest linearizable prefix. Hover a "
	      "bar for its record.</p>\n",
	      o);
	if (json_is_array(ops))
		cx_table(o, ops, h);
	const json_t *pre = json_object_get(cx, "prefix");
	if (json_is_object(pre)) {
		fputs("<h4>Longest linearizable prefix</h4><p>", o);
		fprintf(o, "%lld operation(s) linearize",
			(long long)json_integer_value(json_object_get(pre, "length")));
		const json_t *st = json_object_get(pre, "state");
		if (st) {
			fputs(", leaving the state <code>", o);
			char *s = text_of(st, 200);
			esc(o, s);
			free(s);
			fputs("</code>", o);
		}
		fputs("; its last operations:</p>\n", o);
		const json_t *last = json_object_get(pre, "last");
		if (json_is_array(last) && json_array_size(last))
			cx_table(o, last, h);
	} else {
		fputs("<p class=\"help\">No longest linearizable prefix: the read-from check decided without a "
		      "search (a read saw a value that no order allows).</p>\n",
		      o);
	}
	fputs("</div>\n", o);
}

static bool skip_key(const char *k)
{
	return !strcmp(k, "valid") || !strcmp(k, "reason") || !strcmp(k, "reasons") ||
	       !strcmp(k, "explanations") || !strcmp(k, "counterexample");
}

void hx_report_write_checker(FILE *o, const json_t *chk, const struct hx_report_hist *h)
{
	if (!json_is_object(chk)) {
		fputs("<pre>", o);
		char *s = text_of(chk, 4000);
		esc(o, s);
		free(s);
		fputs("</pre>\n", o);
		return;
	}
	const char *k;
	const json_t *v;
	bool any = false;
	json_object_foreach((json_t *)chk, k, v)
	{
		if (skip_key(k) || json_is_array(v) || json_is_object(v))
			continue;
		if (!any)
			fputs("<table class=\"kv\">\n", o);
		any = true;
		fputs("<tr><th>", o);
		esc(o, k);
		fputs("</th>", o);
		cell(o, v);
		fputs("</tr>\n", o);
	}
	if (any)
		fputs("</table>\n", o);
	const json_t *cx = json_object_get(chk, "counterexample");
	if (json_is_object(cx))
		write_counterexample(o, cx, h);
	json_object_foreach((json_t *)chk, k, v)
	{
		if (skip_key(k))
			continue;
		if (json_is_array(v)) {
			if (!json_array_size(v))
				continue;
			fputs("<h4>", o);
			esc(o, k);
			fprintf(o, " <small>(%zu)</small></h4>\n", json_array_size(v));
			const json_t *first = json_array_get(v, 0);
			if (json_is_object(first)) {
				hx_report_table_of_objects(o, v, 50);
			} else {
				fputs("<p class=\"list\">", o);
				size_t i;
				const json_t *x;
				json_array_foreach(v, i, x)
				{
					if (i >= 200) {
						fprintf(o, " &hellip; %zu more", json_array_size(v) - i);
						break;
					}
					char *s = text_of(x, 80);
					if (i)
						fputs(", ", o);
					esc(o, s);
					free(s);
				}
				fputs("</p>\n", o);
			}
		} else if (json_is_object(v) && json_object_size(v)) {
			fputs("<h4>", o);
			esc(o, k);
			fputs("</h4>\n", o);
			if (all_members_objects(v)) {
				table_of_rows(o, v, "");
			} else {
				fputs("<table class=\"kv\">\n", o);
				const char *k2;
				const json_t *v2;
				json_object_foreach((json_t *)v, k2, v2)
				{
					fputs("<tr><th>", o);
					esc(o, k2);
					fputs("</th>", o);
					cell(o, v2);
					fputs("</tr>\n", o);
				}
				fputs("</table>\n", o);
			}
		}
	}
}
