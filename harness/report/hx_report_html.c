/* hx_report_html.c — writes report.html: verdict, parameters, findings and counterexample (static HTML/SVG) plus the data the inline script draws. */
#include "harness/report/hx_report.h"
#include "harness/report/hx_report_internal.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TABLE_ROWS_MAX 50   /* rows of a findings table before "... N more" */
#define LOG_TAIL_LINES 60   /* harness.log lines shown */
#define PLAN_MAX 65536      /* bytes of plan.lua shown */

struct ctx {
	const char *dir;
	FILE *out;
	json_t *results;        /* NULL when missing or unreadable */
	char results_note[512]; /* why results.json is missing or partial */
	struct hx_report_hist hist;
	bool have_hist;
	char hist_note[512];
	char **notes;
	size_t n_notes;
};

/* ---- small output helpers ---- */

static void esc_n(FILE *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '&': fputs("&amp;", o); break;
		case '"': fputs("&quot;", o); break;
		case '\'': fputs("&#39;", o); break;
		default:
			if (c < 0x20 && c != '\n' && c != '\t')
				fputc('?', o);
			else
				fputc(c, o);
		}
	}
}

static void esc(FILE *o, const char *s)
{
	esc_n(o, s ? s : "", (size_t)-1);
}

static __attribute__((format(printf, 2, 3))) void escf(FILE *o, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	esc(o, buf);
}

static __attribute__((format(printf, 2, 3))) void note(struct ctx *c, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	char **n = realloc(c->notes, (c->n_notes + 1) * sizeof *n);
	if (!n)
		return;
	c->notes = n;
	if ((n[c->n_notes] = strdup(buf)))
		c->n_notes++;
}

/* A JSON value as short text: strings bare, the rest compact JSON, capped. */
static void esc_json(FILE *o, const json_t *v, size_t cap)
{
	if (!v) {
		fputs("", o);
		return;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		esc_n(o, s, cap);
		if (strlen(s) > cap)
			fputs("&hellip;", o);
		return;
	}
	if (json_is_real(v)) {
		fprintf(o, "%.6g", json_real_value(v));
		return;
	}
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		return;
	esc_n(o, s, cap);
	if (strlen(s) > cap)
		fputs("&hellip;", o);
	free(s);
}

static const char *verdict_class(const json_t *v)
{
	if (json_is_true(v))
		return "valid";
	if (json_is_false(v))
		return "invalid";
	return "unknown";
}

static const char *verdict_word(const json_t *v)
{
	if (json_is_true(v))
		return "VALID";
	if (json_is_false(v))
		return "INVALID";
	return "UNKNOWN";
}

static char *slurp(const char *path, size_t max, size_t *len_out, bool *cut)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	char *buf = malloc(max + 1);
	if (!buf) {
		fclose(fp);
		return NULL;
	}
	size_t n = fread(buf, 1, max, fp);
	buf[n] = 0;
	if (cut)
		*cut = n == max && fgetc(fp) != EOF;
	fclose(fp);
	if (len_out)
		*len_out = n;
	return buf;
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- sections ---- */

static void write_head(struct ctx *c)
{
	FILE *o = c->out;
	const json_t *r = c->results;
	const char *plan = json_string_value(json_object_get(r, "plan"));
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"rapat report\">\n<title>",
	      o);
	escf(o, "rapat: %s seed %lld: %s", plan ? plan : "run",
	     (long long)json_integer_value(json_object_get(r, "seed")),
	     r ? verdict_word(json_object_get(r, "valid")) : "NO RESULTS");
	fputs("</title>\n<style>\n", o);
	fwrite(hx_report_css, 1, hx_report_css_len, o);
	fputs("</style>\n</head>\n<body>\n", o);
}

static void write_reason_list(FILE *o, const json_t *chk)
{
	const json_t *reasons = json_object_get(chk, "reasons");
	const json_t *expl = json_object_get(chk, "explanations");
	const json_t *reason = json_object_get(chk, "reason");
	const json_t *list = json_is_array(reasons) && json_array_size(reasons) ? reasons
			     : json_is_array(expl) && json_array_size(expl)     ? expl
										: NULL;
	if (reason && !json_is_null(reason) && !(list && json_is_string(reason) && json_array_size(list) == 1 &&
						  json_equal((json_t *)reason, json_array_get(list, 0)))) {
		fputs(" <span class=\"reason\">", o);
		esc_json(o, reason, 600);
		fputs("</span>", o);
	}
	if (list) {
		fputs("<ul class=\"reasons\">", o);
		size_t i;
		const json_t *x;
		json_array_foreach(list, i, x)
		{
			if (i >= 10) {
				fprintf(o, "<li>&hellip; %zu more</li>", json_array_size(list) - i);
				break;
			}
			fputs("<li>", o);
			esc_json(o, x, 600);
			fputs("</li>", o);
		}
		fputs("</ul>", o);
	}
}

static void write_banner(struct ctx *c)
{
	FILE *o = c->out;
	const json_t *r = c->results;
	const json_t *v = json_object_get(r, "valid");
	const char *cls = r ? verdict_class(v) : "unknown";
	fprintf(o, "<header class=\"banner %s\">\n<h1>", cls);
	const char *plan = json_string_value(json_object_get(r, "plan"));
	escf(o, "%s", plan ? plan : "rapat run");
	const json_t *seed = json_object_get(r, "seed");
	if (json_is_integer(seed))
		fprintf(o, " <small>seed %lld</small>", (long long)json_integer_value(seed));
	fprintf(o, " <span class=\"%s\">%s</span></h1>\n", cls,
		r ? verdict_word(v) : "UNKNOWN (no results)");
	const json_t *reason = json_object_get(r, "reason");
	if (json_is_string(reason)) {
		fputs("<p class=\"reason\"><pre class=\"inline\">", o);
		esc_json(o, reason, 4000);
		fputs("</pre></p>\n", o);
	}
	const json_t *checkers = json_object_get(r, "checkers");
	if (json_is_object(checkers) && json_object_size(checkers)) {
		fputs("<ul class=\"checkers\">\n", o);
		const char *name;
		const json_t *chk;
		json_object_foreach((json_t *)checkers, name, chk)
		{
			const json_t *cv = json_object_get(chk, "valid");
			fprintf(o, "<li><a href=\"#chk-");
			esc(o, name);
			fputs("\">", o);
			esc(o, name);
			fprintf(o, "</a>: <span class=\"%s\">%s</span>", verdict_class(cv),
				verdict_word(cv));
			write_reason_list(o, chk);
			fputs("</li>\n", o);
		}
		fputs("</ul>\n", o);
	}
	if (c->n_notes) {
		fputs("<div class=\"notes\"><b>What is missing or partial:</b><ul>\n", o);
		for (size_t i = 0; i < c->n_notes; i++) {
			fputs("<li>", o);
			esc(o, c->notes[i]);
			fputs("</li>\n", o);
		}
		fputs("</ul></div>\n", o);
	}
	fputs("<nav><a href=\"#params\">parameters</a> <a href=\"#timeline\">timeline</a> "
	      "<a href=\"#latency\">latency</a> <a href=\"#rate\">throughput</a> "
	      "<a href=\"#faults\">faults</a> <a href=\"#checkers\">checkers</a> "
	      "<a href=\"#files\">files</a></nav>\n</header>\n",
	      o);
}

static void kv_row(FILE *o, const char *k, const json_t *v)
{
	if (!v)
		return;
	fputs("<tr><th>", o);
	esc(o, k);
	fputs("</th><td>", o);
	esc_json(o, v, 2000);
	fputs("</td></tr>\n", o);
}

static void write_params(struct ctx *c)
{
	FILE *o = c->out;
	const json_t *r = c->results;
	const json_t *opts = json_object_get(r, "options");
	fputs("<section id=\"params\"><h2>Run parameters</h2>\n<table class=\"kv\">\n", o);
	static const char *const top[] = {"plan", "seed", "nodes", "duration_s", "tls", "adapter", "run_dir"};
	for (size_t i = 0; i < sizeof top / sizeof *top; i++)
		kv_row(o, top[i], json_object_get(r, top[i]));
	static const char *const opt_keys[] = {"db", "workload", "nemesis", "nemesis_interval", "concurrency",
					       "rate", "time_limit", "raftnode_mutant"};
	for (size_t i = 0; i < sizeof opt_keys / sizeof *opt_keys; i++) {
		const json_t *v = json_object_get(opts, opt_keys[i]);
		if (v && !(json_is_string(v) && !strcmp(opt_keys[i], "raftnode_mutant") &&
			   !strcmp(json_string_value(v), "none")))
			kv_row(o, opt_keys[i], v);
	}
	const json_t *argv = json_object_get(r, "argv");
	if (json_is_array(argv)) {
		fputs("<tr><th>command</th><td><code>", o);
		size_t i;
		const json_t *a;
		json_array_foreach(argv, i, a)
		{
			const char *s = json_string_value(a);
			if (!s)
				continue;
			if (i)
				fputc(' ', o);
			bool plain = *s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
						     "0123456789-_./=,:+@%") == strlen(s);
			if (plain) {
				esc(o, s);
			} else {
				fputc('\'', o);
				for (const char *p = s; *p; p++) {
					if (*p == '\'')
						fputs("'\\''", o);
					else
						esc_n(o, p, 1);
				}
				fputc('\'', o);
			}
		}
		fputs("</code></td></tr>\n", o);
	}
	const json_t *ops = json_object_get(r, "ops");
	if (json_is_object(ops)) {
		fputs("<tr><th>operations</th><td>", o);
		const char *k;
		const json_t *v;
		json_object_foreach((json_t *)ops, k, v)
		{
			esc(o, k);
			fputs(" ", o);
			esc_json(o, v, 40);
			fputs(" &nbsp; ", o);
		}
		fputs("</td></tr>\n", o);
	}
	if (c->have_hist) {
		const struct hx_report_hist *h = &c->hist;
		fprintf(o,
			"<tr><th>history</th><td>%zu lines, %zu invoked: %zu ok, %zu fail, %zu info, "
			"%zu never completed; %zu fault windows, %zu other nemesis events</td></tr>\n",
			h->lines, h->invokes, h->oks, h->fails, h->infos, h->incomplete, h->n_faults,
			h->n_events);
		double p50 = hx_report_hist_quantile(h, HX_REPORT_OK, NULL, 0.5);
		double p99 = hx_report_hist_quantile(h, HX_REPORT_OK, NULL, 0.99);
		double mx = hx_report_hist_quantile(h, HX_REPORT_OK, NULL, 1);
		if (p50 >= 0 && h->has_time)
			fprintf(o, "<tr><th>ok latency</th><td>p50 %.2f ms, p99 %.2f ms, max %.2f ms</td></tr>\n",
				p50 * 1e3, p99 * 1e3, mx * 1e3);
	}
	fputs("</table>\n", o);
	const json_t *crashes = json_object_get(r, "crashes");
	if (json_is_array(crashes) && json_array_size(crashes)) {
		fputs("<h3>Unexpected node exits</h3>\n", o);
		hx_report_table_of_objects(o, crashes, TABLE_ROWS_MAX);
	}
	if (json_is_object(opts) && json_object_size(opts)) {
		fputs("<details><summary>All effective options</summary>\n<table class=\"kv\">\n", o);
		/* sorted, so that two reports compare line by line */
		size_t n = json_object_size(opts), i = 0;
		const char **keys = malloc(n * sizeof *keys);
		if (keys) {
			const char *k;
			const json_t *v;
			json_object_foreach((json_t *)opts, k, v) keys[i++] = k;
			qsort(keys, n, sizeof *keys, hx_report_cmp_str);
			for (i = 0; i < n; i++)
				kv_row(o, keys[i], json_object_get(opts, keys[i]));
			free(keys);
		}
		fputs("</table></details>\n", o);
	}
	fputs("</section>\n", o);
}

static void write_plots(struct ctx *c)
{
	FILE *o = c->out;
	fputs("<section id=\"timeline\"><h2>Timeline</h2>\n"
	      "<p class=\"help\">One lane per client thread (a thread keeps its lane when it continues under "
	      "a new process after an <i>info</i>). Bars: <span class=\"k ok\">ok</span> "
	      "<span class=\"k fail\">fail</span> <span class=\"k info\">info</span> "
	      "<span class=\"k none\">never completed</span>; shaded: faults in force. "
	      "Wheel or the buttons zoom (all plots follow), drag pans, hover for details.</p>\n"
	      "<div class=\"controls\"><button data-z=\"in\">zoom in</button> <button data-z=\"out\">zoom "
	      "out</button> <button data-z=\"reset\">whole run</button> <button data-z=\"cx\" id=\"cx-button\" "
	      "hidden=\"hidden\">jump to the counterexample</button> <span id=\"view\"></span></div>\n"
	      "<div class=\"plot\"><canvas id=\"tl\" height=\"300\"></canvas></div>\n"
	      "<noscript><p class=\"notes\">The timeline and the plots need JavaScript; the tables "
	      "below do not.</p></noscript>\n</section>\n"
	      "<section id=\"latency\"><h2>Latency over time</h2>\n"
	      "<p class=\"help\">Each completed operation at its invocation time (log scale): dot = ok, "
	      "square = fail, cross = info, coloured by operation; lines: p50 and p99 of ok operations "
	      "per time bucket.</p>\n"
	      "<div class=\"plot\"><canvas id=\"lat\" height=\"260\"></canvas></div><div class=\"legend\" "
	      "id=\"lat-legend\"></div>\n</section>\n"
	      "<section id=\"rate\"><h2>Throughput over time</h2>\n"
	      "<p class=\"help\">Completions per second per operation (solid: ok, dashed: fail + info).</p>\n"
	      "<div class=\"plot\"><canvas id=\"thr\" height=\"220\"></canvas></div><div class=\"legend\" "
	      "id=\"thr-legend\"></div>\n</section>\n",
	      o);
	(void)c;
}

static void write_faults(struct ctx *c)
{
	FILE *o = c->out;
	fputs("<section id=\"faults\"><h2>Faults</h2>\n", o);
	const json_t *rf = json_object_get(c->results, "faults");
	if (json_is_array(rf) && json_array_size(rf)) {
		hx_report_table_of_objects(o, rf, 500);
	} else if (c->have_hist && c->hist.n_faults) {
		fputs("<table><tr><th>f</th><th>start_s</th><th>end_s</th><th>value</th></tr>\n", o);
		for (size_t i = 0; i < c->hist.n_faults && i < 500; i++) {
			const struct hx_report_fault *f = &c->hist.faults[i];
			fputs("<tr><td>", o);
			esc(o, f->kind);
			fprintf(o, "</td><td>%.3f</td><td>", f->start);
			if (f->end >= 0)
				fprintf(o, "%.3f", f->end);
			else
				fputs("never healed", o);
			fputs("</td><td>", o);
			esc(o, f->value);
			fputs("</td></tr>\n", o);
		}
		fputs("</table>\n", o);
	} else {
		fputs("<p>No fault took effect.</p>\n", o);
	}
	if (c->have_hist && c->hist.n_events) {
		fputs("<details><summary>Other nemesis events</summary><table><tr><th>time_s</th><th>f</th>"
		      "<th>value</th></tr>\n",
		      o);
		for (size_t i = 0; i < c->hist.n_events && i < 500; i++) {
			const struct hx_report_event *e = &c->hist.events[i];
			fprintf(o, "<tr><td>%.3f</td><td>", e->time);
			esc(o, e->f);
			fputs("</td><td>", o);
			esc(o, e->value);
			fputs("</td></tr>\n", o);
		}
		fputs("</table></details>\n", o);
	}
	fputs("</section>\n", o);
}

static void write_checkers(struct ctx *c)
{
	FILE *o = c->out;
	fputs("<section id=\"checkers\"><h2>Checkers</h2>\n", o);
	const json_t *checkers = json_object_get(c->results, "checkers");
	if (!json_is_object(checkers) || !json_object_size(checkers)) {
		fputs("<p>No checker results", o);
		if (!c->results)
			fputs(" (results.json is missing or unreadable)", o);
		fputs(".</p>\n", o);
	} else {
		const char *name;
		const json_t *chk;
		json_object_foreach((json_t *)checkers, name, chk)
		{
			const json_t *cv = json_object_get(chk, "valid");
			fputs("<div class=\"checker\" id=\"chk-", o);
			esc(o, name);
			fputs("\"><h3>", o);
			esc(o, name);
			fprintf(o, " <span class=\"%s\">%s</span></h3>\n", verdict_class(cv), verdict_word(cv));
			write_reason_list(o, chk);
			if (!strcmp(name, "stats"))
				hx_report_write_stats(o, chk);
			else
				hx_report_write_checker(o, chk, c->have_hist ? &c->hist : NULL);
			fputs("</div>\n", o);
		}
	}
	fputs("</section>\n", o);
}

static int cmp_dirent(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void write_files(struct ctx *c)
{
	FILE *o = c->out;
	char path[4096];
	fputs("<section id=\"files\"><h2>Files</h2>\n<ul class=\"files\">\n", o);
	static const char *const top[] = {"results.json", "history.jsonl", "plan.lua", "harness.log"};
	for (size_t i = 0; i < sizeof top / sizeof *top; i++) {
		snprintf(path, sizeof path, "%s/%s", c->dir, top[i]);
		if (is_file(path))
			fprintf(o, "<li><a href=\"%s\">%s</a></li>\n", top[i], top[i]);
		else
			fprintf(o, "<li class=\"missing\">%s (missing)</li>\n", top[i]);
	}
	snprintf(path, sizeof path, "%s/nodes", c->dir);
	DIR *d = opendir(path);
	char **names = NULL;
	size_t n = 0;
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			char **nn = realloc(names, (n + 1) * sizeof *nn);
			if (!nn)
				break;
			names = nn;
			if ((names[n] = strdup(de->d_name)))
				n++;
		}
		closedir(d);
		qsort(names, n, sizeof *names, cmp_dirent);
	}
	for (size_t i = 0; i < n; i++) {
		char nd[4096];
		snprintf(nd, sizeof nd, "%s/nodes/%s", c->dir, names[i]);
		DIR *nd_dir = opendir(nd);
		if (!nd_dir)
			continue;
		char **files = NULL;
		size_t nf = 0;
		struct dirent *de;
		while ((de = readdir(nd_dir))) {
			if (de->d_name[0] == '.')
				continue;
			char fp[4096 + 256];
			snprintf(fp, sizeof fp, "%s/%s", nd, de->d_name);
			if (!is_file(fp))
				continue;
			char **nn = realloc(files, (nf + 1) * sizeof *nn);
			if (!nn)
				break;
			files = nn;
			if ((files[nf] = strdup(de->d_name)))
				nf++;
		}
		closedir(nd_dir);
		qsort(files, nf, sizeof *files, cmp_dirent);
		fputs("<li>node ", o);
		esc(o, names[i]);
		fputs(":", o);
		for (size_t j = 0; j < nf; j++) {
			fputs(" <a href=\"nodes/", o);
			hx_report_url_path(o, names[i]);
			fputc('/', o);
			hx_report_url_path(o, files[j]);
			fputs("\">", o);
			esc(o, files[j]);
			fputs("</a>", o);
			free(files[j]);
		}
		if (!nf)
			fputs(" (no log)", o);
		free(files);
		fputs("</li>\n", o);
		free(names[i]);
	}
	free(names);
	fputs("</ul>\n", o);

	/* harness.log tail */
	snprintf(path, sizeof path, "%s/harness.log", c->dir);
	size_t len = 0;
	char *log = slurp(path, 8 << 20, &len, NULL);
	if (log) {
		size_t lines = 0, at = len;
		while (at > 0 && lines <= LOG_TAIL_LINES) {
			at--;
			if (log[at] == '\n' && at + 1 < len)
				lines++;
		}
		if (lines > LOG_TAIL_LINES)
			at++;
		fprintf(o, "<details><summary>harness.log (last %d lines)</summary><pre>", LOG_TAIL_LINES);
		esc(o, log + at);
		fputs("</pre></details>\n", o);
		free(log);
	}
	snprintf(path, sizeof path, "%s/plan.lua", c->dir);
	bool cut = false;
	char *plan = slurp(path, PLAN_MAX, NULL, &cut);
	if (plan) {
		fputs("<details><summary>plan.lua</summary><pre>", o);
		esc(o, plan);
		if (cut)
			fputs("\n-- (cut: see plan.lua)", o);
		fputs("</pre></details>\n", o);
		free(plan);
	}
	fputs("</section>\n", o);
}

/* The page's data for the script: columnar arrays, compact enough for 100k ops. */
static void write_data(struct ctx *c)
{
	FILE *o = c->out;
	const struct hx_report_hist *h = &c->hist;
	fputs("<script type=\"application/json\" id=\"rapat-data\">", o);
	json_t *d = json_object();
	json_object_set_new(d, "has_time", json_boolean(!c->have_hist || h->has_time));
	json_object_set_new(d, "duration", json_real(h->duration));
	json_t *lanes = json_array(), *fs = json_array(), *nodes = json_array();
	for (unsigned i = 0; i < h->n_lanes; i++)
		json_array_append_new(lanes, json_integer(i));
	for (size_t i = 0; i < h->n_fs; i++)
		json_array_append_new(fs, json_string(h->fs[i]));
	for (size_t i = 0; i < h->n_nodes; i++)
		json_array_append_new(nodes, json_string(h->nodes[i]));
	json_object_set_new(d, "lanes", lanes);
	json_object_set_new(d, "fs", fs);
	json_object_set_new(d, "nodes", nodes);
	json_object_set_new(d, "concurrency", json_integer(h->concurrency));
	json_t *faults = json_array();
	for (size_t i = 0; i < h->n_faults; i++) {
		const struct hx_report_fault *f = &h->faults[i];
		json_array_append_new(faults, json_pack("{s:s, s:f, s:f, s:s}", "kind", f->kind, "start",
							 f->start, "end", f->end < 0 ? h->duration : f->end,
							 "value", f->value));
	}
	json_object_set_new(d, "faults", faults);
	/* counterexample operations, to mark them on the timeline: [process, start_s, end_s, stuck] */
	json_t *cxs = json_array();
	const char *name;
	const json_t *chk;
	json_object_foreach(json_object_get(c->results, "checkers"), name, chk)
	{
		size_t i;
		const json_t *op;
		json_array_foreach(json_object_get(json_object_get(chk, "counterexample"), "ops"), i, op)
		{
			const json_t *p = json_object_get(op, "process"), *st = json_object_get(op, "start"),
				     *en = json_object_get(op, "end");
			if (!json_is_integer(p) || !json_is_number(st))
				continue;
			json_array_append_new(cxs, json_pack("[I, f, f, b]", json_integer_value(p),
							     json_number_value(st) / 1e9,
							     json_is_number(en) ? json_number_value(en) / 1e9 : -1.0,
							     json_is_true(json_object_get(op, "stuck"))));
		}
	}
	json_object_set_new(d, "cx", cxs);
	json_dumpf(d, o, JSON_COMPACT | JSON_ESCAPE_SLASH);
	json_decref(d);
	fputs("</script>\n", o);
	/* ops: written by hand (jansson trees of 100k ops cost ~100 MB) */
	fputs("<script type=\"application/json\" id=\"rapat-ops\">{\"lane\":[", o);
	for (size_t i = 0; i < h->n_ops; i++)
		fprintf(o, i ? ",%u" : "%u", h->ops[i].lane);
	fputs("],\"s\":[", o);
	for (size_t i = 0; i < h->n_ops; i++)
		fprintf(o, i ? ",%.6f" : "%.6f", h->ops[i].start);
	fputs("],\"e\":[", o);
	for (size_t i = 0; i < h->n_ops; i++)
		fprintf(o, i ? ",%.6f" : "%.6f", h->ops[i].end);
	fputs("],\"t\":[", o);
	for (size_t i = 0; i < h->n_ops; i++)
		fprintf(o, i ? ",%d" : "%d", (int)h->ops[i].type);
	fputs("],\"f\":[", o);
	for (size_t i = 0; i < h->n_ops; i++)
		fprintf(o, i ? ",%u" : "%u", h->ops[i].f);
	fputs("],\"p\":[", o);
	for (size_t i = 0; i < h->n_ops; i++)
		fprintf(o, i ? ",%lld" : "%lld", h->ops[i].process);
	fputs("],\"i\":[", o);
	for (size_t i = 0; i < h->n_ops; i++)
		fprintf(o, i ? ",%lld" : "%lld", h->ops[i].index);
	fputs("],\"n\":[", o);
	for (size_t i = 0; i < h->n_ops; i++)
		fprintf(o, i ? ",%d" : "%d", h->ops[i].node);
	fputs("],\"v\":[", o);
	for (size_t i = 0; i < h->n_ops; i++) {
		if (i)
			fputc(',', o);
		hx_report_json_string(o, h->ops[i].value);
	}
	fputs("],\"k\":[", o);
	for (size_t i = 0; h->has_keys && i < h->n_ops; i++) {
		if (i)
			fputc(',', o);
		if (h->ops[i].key)
			hx_report_json_string(o, h->ops[i].key);
		else
			fputs("null", o);
	}
	fputs("],\"err\":{", o);
	bool first = true;
	for (size_t i = 0; i < h->n_ops; i++) {
		if (!h->ops[i].error)
			continue;
		fprintf(o, first ? "\"%zu\":" : ",\"%zu\":", i);
		hx_report_json_string(o, h->ops[i].error);
		first = false;
	}
	fputs("}}</script>\n", o);
}

static void write_tail(struct ctx *c)
{
	FILE *o = c->out;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char ts[64];
	strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%SZ", &tm);
	fprintf(o, "<footer>rapat report, written %s. Rebuild with <code>rapat report ", ts);
	esc(o, c->dir);
	fputs("</code>.</footer>\n<div id=\"tip\" class=\"tip\"></div>\n<script>\n", o);
	fwrite(hx_report_js, 1, hx_report_js_len, o);
	fputs("</script>\n</body>\n</html>\n", o);
}

/* A directory is a run directory when it holds any file a run writes. */
static bool is_run_dir(const char *dir)
{
	static const char *const marks[] = {"results.json", "history.jsonl", "plan.lua", "harness.log"};
	char path[4096];
	for (size_t i = 0; i < sizeof marks / sizeof *marks; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, marks[i]);
		if (is_file(path))
			return true;
	}
	return false;
}

static void load_inputs(struct ctx *c)
{
	char path[4096], err[512];
	snprintf(path, sizeof path, "%s/results.json", c->dir);
	json_error_t jerr;
	if (!is_file(path)) {
		note(c, "results.json is missing: the run did not finish (crashed or still running); "
			"the verdict is unknown");
	} else if (!(c->results = json_load_file(path, 0, &jerr))) {
		note(c, "results.json:%d:%d: %s (the run may have crashed while writing it); the verdict is "
			"unknown",
		     jerr.line, jerr.column, jerr.text);
	} else if (!json_is_object(c->results)) {
		note(c, "results.json: not a JSON object; the verdict is unknown");
		json_decref(c->results);
		c->results = NULL;
	} else {
		static const char *const want[] = {"valid", "checkers", "ops", "seed", "plan"};
		for (size_t i = 0; i < sizeof want / sizeof *want; i++)
			if (!json_object_get(c->results, want[i]))
				note(c, "results.json has no field \"%s\"", want[i]);
	}
	long conc = 0;
	const json_t *jc = json_object_get(json_object_get(c->results, "options"), "concurrency");
	if (json_is_integer(jc))
		conc = (long)json_integer_value(jc);
	snprintf(path, sizeof path, "%s/history.jsonl", c->dir);
	if (!is_file(path)) {
		note(c, "history.jsonl is missing: no timeline or plots");
	} else if (hx_report_hist_load(&c->hist, path, conc, err, sizeof err) != 0) {
		note(c, "%s", err);
		hx_report_hist_free(&c->hist);
	} else {
		c->have_hist = true;
		const struct hx_report_hist *h = &c->hist;
		if (h->truncated)
			note(c, "history.jsonl: the last line (%zu) has no newline: the history is truncated "
				"(the run crashed or was killed)",
			     h->lines);
		if (h->bad_lines)
			note(c, "history.jsonl: %zu line(s) skipped; the first, line %zu: %s", h->bad_lines,
			     h->first_bad_line, h->bad_reason);
		if (!h->has_time && h->lines)
			note(c, "history.jsonl: events carry no \"time\": the time axis shows line numbers");
		if (h->incomplete && !c->results)
			note(c, "history.jsonl: %zu operation(s) never completed", h->incomplete);
	}
	snprintf(path, sizeof path, "%s/plan.lua", c->dir);
	if (!is_file(path))
		note(c, "plan.lua is missing");
	snprintf(path, sizeof path, "%s/harness.log", c->dir);
	if (!is_file(path))
		note(c, "harness.log is missing");
}

int hx_report_write(const char *run_dir, char *err, size_t errlen)
{
	struct stat st;
	if (!run_dir || !*run_dir) {
		snprintf(err, errlen, "no run directory given");
		return HX_REPORT_EXIT_USAGE;
	}
	if (stat(run_dir, &st) != 0) {
		snprintf(err, errlen, "%s: %s", run_dir, strerror(errno));
		return HX_REPORT_EXIT_USAGE;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", run_dir);
		return HX_REPORT_EXIT_USAGE;
	}
	if (!is_run_dir(run_dir)) {
		snprintf(err, errlen,
			 "%s: not a run directory (none of results.json, history.jsonl, plan.lua, "
			 "harness.log is there)",
			 run_dir);
		return HX_REPORT_EXIT_USAGE;
	}
	struct ctx c = {.dir = run_dir};
	load_inputs(&c);
	char tmp[4096], final[4096];
	snprintf(final, sizeof final, "%s/report.html", run_dir);
	snprintf(tmp, sizeof tmp, "%s/.report.html.%ld.tmp", run_dir, (long)getpid());
	int rc = 0;
	c.out = fopen(tmp, "w");
	if (!c.out) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		rc = HX_REPORT_EXIT_FAILED;
		goto out;
	}
	setvbuf(c.out, NULL, _IOFBF, 1 << 16);
	write_head(&c);
	write_banner(&c);
	write_params(&c);
	write_plots(&c);
	write_faults(&c);
	write_checkers(&c);
	write_files(&c);
	write_data(&c);
	write_tail(&c);
	if (ferror(c.out) | (fclose(c.out) != 0)) {
		snprintf(err, errlen, "%s: write failed: %s", tmp, strerror(errno));
		unlink(tmp);
		rc = HX_REPORT_EXIT_FAILED;
		goto out;
	}
	if (rename(tmp, final) != 0) {
		snprintf(err, errlen, "rename %s -> %s: %s", tmp, final, strerror(errno));
		unlink(tmp);
		rc = HX_REPORT_EXIT_FAILED;
	}
out:
	json_decref(c.results);
	if (c.have_hist)
		hx_report_hist_free(&c.hist);
	for (size_t i = 0; i < c.n_notes; i++)
		free(c.notes[i]);
	free(c.notes);
	return rc;
}
