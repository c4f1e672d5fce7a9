/* hx_campaign_out.c — the campaign's outputs: campaign.json, JUnit XML and the webhook POST (libcurl). */
#include "harness/campaign/hx_campaign_internal.h"
#include "harness/report/hx_report_internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *outcome_name(enum hx_campaign_outcome o)
{
	switch (o) {
	case HX_CAMPAIGN_PASSED: return "passed";
	case HX_CAMPAIGN_FAILED: return "failed";
	case HX_CAMPAIGN_ERROR: return "error";
	case HX_CAMPAIGN_SKIPPED: return "skipped";
	}
	return "?";
}

static json_t *totals(const struct hx_campaign_state *st)
{
	size_t n[4] = {0};
	for (size_t i = 0; i < st->n_runs; i++)
		n[st->runs[i].outcome]++;
	size_t pending = 0;
	for (size_t i = 0; i < st->n_runs; i++)
		pending += !st->runs[i].started && st->runs[i].outcome == HX_CAMPAIGN_PASSED;
	/* runs not reached yet sit at PASSED (zero) without having started */
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "runs", (json_int_t)st->n_runs, "passed",
			 (json_int_t)(n[HX_CAMPAIGN_PASSED] - pending), "failed", (json_int_t)n[HX_CAMPAIGN_FAILED],
			 "errors", (json_int_t)n[HX_CAMPAIGN_ERROR], "skipped", (json_int_t)n[HX_CAMPAIGN_SKIPPED],
			 "pending", (json_int_t)pending);
}

static bool finished(const struct hx_campaign_result *r)
{
	return r->started || r->outcome != HX_CAMPAIGN_PASSED;
}

json_t *hx_campaign_summary(const struct hx_campaign_state *st)
{
	json_t *s = json_object();
	json_object_set_new(s, "campaign", json_string(st->c.name));
	json_object_set_new(s, "file", json_string(st->c.path));
	json_object_set_new(s, "started", json_string(st->started));
	json_object_set_new(s, "duration_s", json_real(st->elapsed));
	json_object_set_new(s, "dir", json_string(st->dir));
	json_object_set_new(s, "shard", json_pack("{s:i, s:i}", "index", (int)st->shard, "count", (int)st->n_shards));
	json_object_set_new(s, "runs_in_campaign", json_integer((json_int_t)st->total_all));
	json_object_set_new(s, "budget_s", st->budget > 0 ? json_real(st->budget) : json_null());
	json_object_set_new(s, "totals", totals(st));
	json_object_set_new(s, "exit", json_integer(st->exit_code));
	json_t *bad = json_array();
	for (size_t i = 0; i < st->n_runs; i++) {
		const struct hx_campaign_result *r = &st->runs[i];
		if (r->outcome != HX_CAMPAIGN_FAILED && r->outcome != HX_CAMPAIGN_ERROR)
			continue;
		json_array_append_new(bad, json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", r->name, "expect",
						     hx_campaign_expect_name(st->c.entries[r->entry].expect),
						     "verdict", r->verdict, "message", r->message, "run_dir", r->dir));
	}
	json_object_set_new(s, "failed", bad);
	return s;
}

int hx_campaign_write_json(const struct hx_campaign_state *st, char *err, size_t errlen)
{
	json_t *doc = hx_campaign_summary(st);
	json_object_set_new(doc, "rapat", json_string(st->rapat));
	json_t *runs = json_array();
	for (size_t i = 0; i < st->n_runs; i++) {
		const struct hx_campaign_result *r = &st->runs[i];
		const struct hx_campaign_entry *e = &st->c.entries[r->entry];
		json_t *set = json_object();
		for (size_t j = 0; j < e->n_sets; j++) {
			const char *eq = strchr(e->sets[j], '=');
			char key[256];
			hx_fmt(key, sizeof key, "%.*s", (int)(eq - e->sets[j]), e->sets[j]);
			json_object_set_new(set, key, json_string(eq + 1));
		}
		json_t *x = json_object();
		json_object_set_new(x, "name", json_string(r->name));
		json_object_set_new(x, "entry", json_integer((json_int_t)r->entry + 1));
		json_object_set_new(x, "entry_name", json_string(e->name));
		json_object_set_new(x, "plan", json_string(e->plan));
		json_object_set_new(x, "db", e->db ? json_string(e->db) : json_null());
		json_object_set_new(x, "set", set);
		json_object_set_new(x, "seed", json_integer(r->seed));
		json_object_set_new(x, "time_limit", e->time_limit > 0 ? json_real(e->time_limit) : json_null());
		json_object_set_new(x, "nodes", e->nodes > 0 ? json_integer(e->nodes) : json_null());
		json_object_set_new(x, "expect", json_string(hx_campaign_expect_name(e->expect)));
		json_object_set_new(x, "verdict", json_string(finished(r) ? r->verdict : "pending"));
		json_object_set_new(x, "outcome", json_string(finished(r) ? outcome_name(r->outcome) : "pending"));
		json_object_set_new(x, "message", json_string(r->message));
		json_object_set_new(x, "exit_code", r->started ? json_integer(r->exit_code) : json_null());
		json_object_set_new(x, "duration_s", r->started ? json_real(r->duration) : json_null());
		json_object_set_new(x, "run_dir", r->started ? json_string(r->dir) : json_null());
		json_object_set_new(x, "output", r->started ? json_string(r->out_path) : json_null());
		json_object_set_new(x, "command", r->argv ? json_incref(r->argv) : json_null());
		json_object_set_new(x, "figures", r->figures ? json_incref(r->figures) : json_object());
		json_array_append_new(runs, x);
	}
	json_object_set_new(doc, "runs", runs);
	if (st->post_done)
		json_object_set_new(doc, "post", json_pack("{s:s, s:b, s:I, s:s}", "url", st->post_url, "ok",
							   st->post_ok, "status", (json_int_t)st->post_status,
							   "error", st->post_ok ? "" : st->post_err));
	char path[PATH_MAX + 32], tmp[PATH_MAX + 64];
	hx_fmt(path, sizeof path, "%s/campaign.json", st->dir);
	hx_fmt(tmp, sizeof tmp, "%s/.campaign.json.%ld.tmp", st->dir, (long)getpid());
	int rc = 0;
	if (json_dump_file(doc, tmp, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0) {
		hx_fmt(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
		unlink(tmp);
		rc = -1;
	} else if (rename(tmp, path) != 0) {
		hx_fmt(err, errlen, "rename %s -> %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		rc = -1;
	}
	json_decref(doc);
	return rc;
}

/* Closes o (written to tmp) and renames tmp over path, so readers see the
 * old file or the whole new one; on failure tmp is removed and err says why. */
static int publish(FILE *o, const char *tmp, const char *path, char *err, size_t errlen)
{
	if (ferror(o) | (fclose(o) != 0)) {
		hx_fmt(err, errlen, "%s: write failed: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		hx_fmt(err, errlen, "rename %s -> %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* XML text: escapes markup, drops characters XML 1.0 forbids. */
static void xml(FILE *o, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '&': fputs("&amp;", o); break;
		case '"': fputs("&quot;", o); break;
		case '\'': fputs("&apos;", o); break;
		case '\n': fputs("&#10;", o); break;
		case '\t': fputs("&#9;", o); break;
		case '\r': break;
		default:
			if (*p >= 0x20)
				fputc(*p, o);
		}
	}
}

/* Text content: the same, but newlines stay newlines. */
static void xml_text(FILE *o, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '\n')
			fputc('\n', o);
		else {
			char c[2] = {(char)*p, 0};
			xml(o, c);
		}
	}
}

int hx_campaign_write_junit(const struct hx_campaign_state *st, const char *path, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 64];
	hx_fmt(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
	FILE *o = fopen(tmp, "w");
	if (!o) {
		hx_fmt(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	size_t n[4] = {0};
	for (size_t i = 0; i < st->n_runs; i++)
		n[st->runs[i].outcome]++;
	char suite[256];
	if (st->n_shards > 1)
		hx_fmt(suite, sizeof suite, "%s (shard %u/%u)", st->c.name, st->shard, st->n_shards);
	else
		hx_fmt(suite, sizeof suite, "%s", st->c.name);
	char host[256] = "localhost";
	gethostname(host, sizeof host - 1);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"rapat campaign ", o);
	xml(o, suite);
	fprintf(o, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
		st->n_runs, n[HX_CAMPAIGN_FAILED], n[HX_CAMPAIGN_ERROR], n[HX_CAMPAIGN_SKIPPED], st->elapsed);
	fputs("  <testsuite name=\"", o);
	xml(o, suite);
	fprintf(o, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\" timestamp=\"",
		st->n_runs, n[HX_CAMPAIGN_FAILED], n[HX_CAMPAIGN_ERROR], n[HX_CAMPAIGN_SKIPPED], st->elapsed);
	/* JUnit's timestamp has no zone designator */
	fprintf(o, "%.19s\" hostname=\"", st->started);
	xml(o, host);
	fputs("\">\n    <properties>\n      <property name=\"campaign_file\" value=\"", o);
	xml(o, st->c.path);
	fputs("\"/>\n      <property name=\"campaign_dir\" value=\"", o);
	xml(o, st->dir);
	fputs("\"/>\n    </properties>\n", o);
	for (size_t i = 0; i < st->n_runs; i++) {
		const struct hx_campaign_result *r = &st->runs[i];
		const struct hx_campaign_entry *e = &st->c.entries[r->entry];
		fputs("    <testcase classname=\"", o);
		xml(o, st->c.name);
		fputc('.', o);
		xml(o, e->name);
		fputs("\" name=\"", o);
		xml(o, r->name);
		fprintf(o, "\" time=\"%.3f\"", r->duration);
		if (e->plan) {
			fputs(" file=\"", o);
			xml(o, e->plan);
			fputc('"', o);
		}
		fputs(">\n", o);
		char head[256];
		hx_fmt(head, sizeof head, "expected %s, got %s", hx_campaign_expect_name(e->expect), r->verdict);
		switch (r->outcome) {
		case HX_CAMPAIGN_FAILED:
			fputs("      <failure type=\"verdict\" message=\"", o);
			xml(o, r->message);
			fputs("\">", o);
			xml_text(o, head);
			fputs("&#10;run directory: ", o);
			xml_text(o, r->dir);
			fputs("</failure>\n", o);
			break;
		case HX_CAMPAIGN_ERROR:
			fputs("      <error type=\"harness\" message=\"", o);
			xml(o, r->message);
			fputs("\">", o);
			xml_text(o, r->message);
			fputs("</error>\n", o);
			break;
		case HX_CAMPAIGN_SKIPPED:
			fputs("      <skipped message=\"", o);
			xml(o, r->message);
			fputs("\"/>\n", o);
			break;
		case HX_CAMPAIGN_PASSED: break;
		}
		if (r->started) {
			fputs("      <system-out>", o);
			xml_text(o, r->message);
			fputs("&#10;run directory: ", o);
			xml_text(o, r->dir);
			fputs("&#10;report: ", o);
			xml_text(o, r->dir);
			fputs("/report.html&#10;output: ", o);
			xml_text(o, r->out_path);
			fputs("</system-out>\n", o);
		}
		fputs("    </testcase>\n", o);
	}
	fputs("  </testsuite>\n</testsuites>\n", o);
	return publish(o, tmp, path, err, errlen);
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
	(void)p;
	(void)u;
	return s * n;
}

int hx_campaign_post(const struct hx_campaign_state *st, const char *url, long *status, char *err,
		     size_t errlen)
{
	*status = 0;
	json_t *s = hx_campaign_summary(st);
	char *body = json_dumps(s, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(s);
	if (!body) {
		hx_fmt(err, errlen, "cannot encode the summary");
		return -1;
	}
	int rc = -1;
	CURL *h = curl_easy_init();
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	if (!h || !hdr) {
		hx_fmt(err, errlen, "cannot initialise libcurl");
		goto out;
	}
	char cerr[CURL_ERROR_SIZE];
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 15000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "rapat-campaign");
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	for (int attempt = 1; attempt <= 3; attempt++) {
		cerr[0] = 0;
		CURLcode cc = curl_easy_perform(h);
		if (cc == CURLE_OK) {
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
			if (*status >= 200 && *status < 300) {
				rc = 0;
				break;
			}
			hx_fmt(err, errlen, "HTTP %ld (attempt %d of 3)", *status, attempt);
			if (*status != 429 && *status < 500)
				break; /* the server refuses: retrying will not help */
		} else {
			hx_fmt(err, errlen, "%s (attempt %d of 3)", *cerr ? cerr : curl_easy_strerror(cc), attempt);
		}
		if (attempt < 3)
			sleep((unsigned)attempt);
	}
out:
	curl_slist_free_all(hdr);
	if (h)
		curl_easy_cleanup(h);
	free(body);
	return rc;
}

static void html(FILE *o, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '&': fputs("&amp;", o); break;
		case '"': fputs("&quot;", o); break;
		default: fputc(*s, o);
		}
	}
}

int hx_campaign_write_index(const struct hx_campaign_state *st, char *err, size_t errlen)
{
	char path[PATH_MAX + 32], tmp[PATH_MAX + 64];
	hx_fmt(path, sizeof path, "%s/index.html", st->dir);
	hx_fmt(tmp, sizeof tmp, "%s/.index.html.%ld.tmp", st->dir, (long)getpid());
	FILE *o = fopen(tmp, "w");
	if (!o) {
		hx_fmt(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	size_t n[4] = {0}, pending = 0;
	for (size_t i = 0; i < st->n_runs; i++) {
		if (finished(&st->runs[i]))
			n[st->runs[i].outcome]++;
		else
			pending++;
	}
	bool bad = n[HX_CAMPAIGN_FAILED] || n[HX_CAMPAIGN_ERROR];
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>rapat campaign ", o);
	html(o, st->c.name);
	fputs("</title>\n<style>\n", o);
	fwrite(hx_report_css, 1, hx_report_css_len, o);
	fprintf(o, "</style>\n</head>\n<body>\n<header class=\"banner %s\">\n<h1>campaign ",
		bad ? "invalid" : pending ? "unknown" : "valid");
	html(o, st->c.name);
	if (st->n_shards > 1)
		fprintf(o, " <small>shard %u/%u</small>", st->shard, st->n_shards);
	fprintf(o, " <span class=\"%s\">%s</span></h1>\n", bad ? "invalid" : pending ? "unknown" : "valid",
		bad ? "FAILED" : pending ? "RUNNING" : "PASSED");
	fprintf(o, "<p>%zu run(s): %zu passed, %zu failed, %zu errors, %zu skipped, %zu to go; %.0f s. File <code>",
		st->n_runs, n[HX_CAMPAIGN_PASSED], n[HX_CAMPAIGN_FAILED], n[HX_CAMPAIGN_ERROR],
		n[HX_CAMPAIGN_SKIPPED], pending, st->elapsed);
	html(o, st->c.path);
	fprintf(o, "</code>, started %s. <a href=\"campaign.json\">campaign.json</a></p>\n</header>\n", st->started);
	fputs("<table>\n<tr><th>run</th><th>expect</th><th>verdict</th><th>outcome</th><th>seconds</th>"
	      "<th>ok / invoked</th><th>availability</th><th>p99 ms</th><th>faults</th><th>message</th>"
	      "<th>files</th></tr>\n",
	      o);
	for (size_t i = 0; i < st->n_runs; i++) {
		const struct hx_campaign_result *r = &st->runs[i];
		const struct hx_campaign_entry *e = &st->c.entries[r->entry];
		const char *oc = !finished(r)                       ? "pending"
				 : r->outcome == HX_CAMPAIGN_PASSED  ? "passed"
				 : r->outcome == HX_CAMPAIGN_SKIPPED ? "skipped"
				 : r->outcome == HX_CAMPAIGN_FAILED  ? "failed"
								     : "error";
		const char *cls = !strcmp(oc, "passed") ? "valid" : !strcmp(oc, "failed") || !strcmp(oc, "error") ? "invalid" : "unknown";
		fputs("<tr><td>", o);
		html(o, r->name);
		fputs("</td><td>", o);
		html(o, hx_campaign_expect_name(e->expect));
		fputs("</td><td>", o);
		html(o, finished(r) ? r->verdict : "");
		fprintf(o, "</td><td><span class=\"%s\">%s</span></td>", cls, oc);
		if (r->started)
			fprintf(o, "<td class=\"n\">%.1f</td>", r->duration);
		else
			fputs("<td></td>", o);
		const json_t *fig = r->figures;
		const json_t *ops = json_object_get(fig, "ops");
		if (json_is_object(ops))
			fprintf(o, "<td class=\"n\">%lld / %lld</td>", (long long)json_integer_value(json_object_get(ops, "ok")),
				(long long)json_integer_value(json_object_get(ops, "invoke")));
		else
			fputs("<td></td>", o);
		const json_t *av = json_object_get(fig, "availability"), *p99 = json_object_get(fig, "latency_p99_ms");
		if (json_is_number(av))
			fprintf(o, "<td class=\"n\">%.3f</td>", json_number_value(av));
		else
			fputs("<td></td>", o);
		if (json_is_number(p99))
			fprintf(o, "<td class=\"n\">%.1f</td>", json_number_value(p99));
		else
			fputs("<td></td>", o);
		fputs("<td>", o);
		const char *k;
		const json_t *v;
		json_object_foreach(json_object_get(fig, "faults"), k, v)
		{
			html(o, k);
			fprintf(o, "&times;%lld ", (long long)json_integer_value(v));
		}
		fputs("</td><td>", o);
		if (r->outcome != HX_CAMPAIGN_PASSED)
			html(o, r->message);
		fputs("</td><td>", o);
		if (r->started) {
			/* relative links: the run directories and outputs sit next to this page */
			fputs("<a href=\"", o);
			hx_report_url_path(o, r->name);
			fputs("/report.html\">report</a> <a href=\"", o);
			hx_report_url_path(o, r->name);
			fputs(".out\">output</a>", o);
		}
		fputs("</td></tr>\n", o);
	}
	fputs("</table>\n<footer>rapat campaign</footer>\n</body>\n</html>\n", o);
	return publish(o, tmp, path, err, errlen);
}
