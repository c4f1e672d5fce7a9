/* test_report_data.c — unit tests of the report's history digest: pairing, lanes, fault windows, damaged histories, quantiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness/report/hx_report.h"

static void parse(struct hx_report_hist *h, const char *text, long conc)
{
	char err[256] = "";
	memset(h, 0, sizeof *h);
	assert_int_equal(hx_report_hist_parse(h, text, strlen(text), conc, err, sizeof err), 0);
}

static void test_pairs_and_lanes(void **state)
{
	(void)state;
	const char *text =
		"{\"index\":0,\"time\":1000000000,\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":1}\n"
		"{\"index\":1,\"time\":1100000000,\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}\n"
		"{\"index\":2,\"time\":1200000000,\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"value\":1,\"node\":\"n1\"}\n"
		"{\"index\":3,\"time\":1500000000,\"process\":1,\"type\":\"info\",\"f\":\"read\",\"error\":\"timeout\"}\n"
		/* process 1 continues as 3 (concurrency 2): same lane */
		"{\"index\":4,\"time\":1600000000,\"process\":3,\"type\":\"invoke\",\"f\":\"cas\",\"value\":[1,2]}\n"
		"{\"index\":5,\"time\":1700000000,\"process\":3,\"type\":\"fail\",\"f\":\"cas\",\"value\":[1,2],\"node\":\"n2\"}\n"
		"{\"index\":6,\"time\":1800000000,\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}\n";
	struct hx_report_hist h;
	parse(&h, text, 2);
	assert_int_equal(h.n_ops, 4);
	assert_int_equal(h.invokes, 4);
	assert_int_equal(h.oks, 1);
	assert_int_equal(h.infos, 1);
	assert_int_equal(h.fails, 1);
	assert_int_equal(h.incomplete, 1);
	assert_int_equal(h.n_lanes, 2);
	assert_int_equal(h.n_fs, 3);
	assert_true(h.has_time);
	assert_false(h.truncated);
	assert_int_equal(h.bad_lines, 0);
	/* op 0: write 1 ok on n1, 1.0 .. 1.2 s */
	assert_int_equal(h.ops[0].type, HX_REPORT_OK);
	assert_string_equal(h.fs[h.ops[0].f], "write");
	assert_true(h.ops[0].start > 0.999 && h.ops[0].start < 1.001);
	assert_true(h.ops[0].end > 1.199 && h.ops[0].end < 1.201);
	assert_string_equal(h.nodes[h.ops[0].node], "n1");
	/* op 1: read info with its error; the invoke's value stays */
	assert_int_equal(h.ops[1].type, HX_REPORT_INFO);
	assert_string_equal(h.ops[1].error, "timeout");
	assert_string_equal(h.ops[1].value, "null");
	/* op 2: process 3 on lane 1 (3 % 2), like process 1 */
	assert_int_equal(h.ops[2].process, 3);
	assert_int_equal(h.ops[2].lane, h.ops[1].lane);
	assert_string_equal(h.ops[2].value, "[1,2]");
	assert_int_equal(h.ops[2].index, 4);
	/* op 3: never completed */
	assert_true(h.ops[3].end < 0);
	assert_int_equal(h.ops[3].type, HX_REPORT_NONE);
	hx_report_hist_free(&h);
}

static void test_keys(void **state)
{
	(void)state;
	const char *text = "{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"k2\",\"value\":1}\n"
			   "{\"process\":1,\"type\":\"invoke\",\"f\":\"write\",\"key\":7,\"value\":1}\n"
			   "{\"process\":2,\"type\":\"invoke\",\"f\":\"read\"}\n";
	struct hx_report_hist h;
	parse(&h, text, 0);
	assert_true(h.has_keys);
	assert_string_equal(h.ops[0].key, "k2");
	assert_string_equal(h.ops[1].key, "7");
	assert_null(h.ops[2].key);
	hx_report_hist_free(&h);
}

static void test_lanes_without_concurrency(void **state)
{
	(void)state;
	const char *text = "{\"process\":5,\"type\":\"invoke\",\"f\":\"read\"}\n"
			   "{\"process\":9,\"type\":\"invoke\",\"f\":\"read\"}\n"
			   "{\"process\":5,\"type\":\"ok\",\"f\":\"read\",\"value\":3}\n"
			   "{\"process\":9,\"type\":\"ok\",\"f\":\"read\",\"value\":3}\n";
	struct hx_report_hist h;
	parse(&h, text, 0);
	assert_int_equal(h.n_lanes, 2);
	assert_int_equal(h.ops[0].lane, 0);
	assert_int_equal(h.ops[1].lane, 1);
	assert_false(h.has_time); /* times are line numbers */
	assert_true(h.ops[0].start == 1 && h.ops[0].end == 3);
	assert_string_equal(h.ops[0].value, "3");
	hx_report_hist_free(&h);
}

static void test_faults(void **state)
{
	(void)state;
	const char *text =
		"{\"time\":1000000000,\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"nodes-ready\",\"value\":{\"nodes\":3}}\n"
		"{\"time\":2000000000,\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"partition-start\",\"value\":{\"n1\":[\"n2\"]}}\n"
		"{\"time\":2500000000,\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"kill-start\",\"value\":[\"n3\"]}\n"
		"{\"time\":3000000000,\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"partition-end\",\"value\":null}\n"
		"{\"time\":4000000000,\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"crash\",\"value\":\"n2\"}\n";
	struct hx_report_hist h;
	parse(&h, text, 0);
	assert_int_equal(h.n_faults, 2);
	assert_string_equal(h.faults[0].kind, "partition");
	assert_true(h.faults[0].start == 2.0 && h.faults[0].end == 3.0);
	assert_string_equal(h.faults[0].value, "{\"n1\":[\"n2\"]}");
	assert_string_equal(h.faults[1].kind, "kill");
	assert_true(h.faults[1].end < 0); /* never healed */
	assert_int_equal(h.n_events, 2);
	assert_string_equal(h.events[0].f, "nodes-ready");
	assert_string_equal(h.events[1].f, "crash");
	assert_true(h.duration == 4.0);
	hx_report_hist_free(&h);
}

static void test_damaged(void **state)
{
	(void)state;
	/* a garbage line, an orphan completion, an unknown type, a cut last line */
	const char *text = "{\"time\":1,\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":1}\n"
			   "not json at all\n"
			   "{\"time\":2,\"process\":7,\"type\":\"ok\",\"f\":\"write\",\"value\":1}\n"
			   "{\"time\":3,\"process\":0,\"type\":\"maybe\",\"f\":\"write\"}\n"
			   "\n"
			   "{\"time\":4,\"process\":0,\"type\":\"ok\",\"f\":\"wri";
	struct hx_report_hist h;
	parse(&h, text, 0);
	assert_true(h.truncated);
	assert_int_equal(h.bad_lines, 4);
	assert_int_equal(h.first_bad_line, 2);
	assert_non_null(strstr(h.bad_reason, "")); /* jansson's text, non-empty */
	assert_true(strlen(h.bad_reason) > 0);
	assert_int_equal(h.n_ops, 1);
	assert_int_equal(h.incomplete, 1);
	hx_report_hist_free(&h);
}

static void test_value_capped(void **state)
{
	(void)state;
	char text[2048];
	char big[600];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	snprintf(text, sizeof text, "{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":\"%s\"}\n", big);
	struct hx_report_hist h;
	parse(&h, text, 0);
	assert_int_equal(h.n_ops, 1);
	assert_true(strlen(h.ops[0].value) < 120);
	assert_non_null(strstr(h.ops[0].value, "..."));
	hx_report_hist_free(&h);
}

static void test_quantiles(void **state)
{
	(void)state;
	/* ten ok reads with latencies 1..10 ms, one fail of 100 ms */
	char text[4096] = "";
	size_t n = 0;
	for (int i = 0; i < 10; i++) {
		long long t = (long long)(i + 1) * 1000000000LL;
		n += (size_t)snprintf(text + n, sizeof text - n,
				      "{\"time\":%lld,\"process\":%d,\"type\":\"invoke\",\"f\":\"read\"}\n"
				      "{\"time\":%lld,\"process\":%d,\"type\":\"ok\",\"f\":\"read\",\"value\":1}\n",
				      t, i, t + (i + 1) * 1000000LL, i);
	}
	n += (size_t)snprintf(text + n, sizeof text - n,
			      "{\"time\":20000000000,\"process\":20,\"type\":\"invoke\",\"f\":\"write\",\"value\":2}\n"
			      "{\"time\":20100000000,\"process\":20,\"type\":\"fail\",\"f\":\"write\",\"value\":2}\n");
	struct hx_report_hist h;
	parse(&h, text, 0);
	assert_int_equal(h.oks, 10);
	double p50 = hx_report_hist_quantile(&h, HX_REPORT_OK, NULL, 0.5);
	double mx = hx_report_hist_quantile(&h, HX_REPORT_OK, "read", 1);
	double all_max = hx_report_hist_quantile(&h, HX_REPORT_NONE, NULL, 1);
	assert_true(p50 > 0.0049 && p50 < 0.0051);
	assert_true(mx > 0.0099 && mx < 0.0101);
	assert_true(all_max > 0.099 && all_max < 0.101);
	assert_true(hx_report_hist_quantile(&h, HX_REPORT_INFO, NULL, 0.5) < 0);
	hx_report_hist_free(&h);
}

static void test_many_processes(void **state)
{
	(void)state;
	/* 5000 interleaved processes exercise the pending map's growth and deletion */
	size_t cap = 5000 * 140 * 2, n = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	for (int i = 0; i < 5000; i++)
		n += (size_t)snprintf(text + n, cap - n, "{\"time\":%d,\"process\":%d,\"type\":\"invoke\",\"f\":\"read\"}\n",
				      i, i * 7919);
	for (int i = 4999; i >= 0; i--)
		n += (size_t)snprintf(text + n, cap - n,
				      "{\"time\":%d,\"process\":%d,\"type\":\"ok\",\"f\":\"read\",\"value\":%d}\n",
				      10000 + i, i * 7919, i);
	struct hx_report_hist h;
	parse(&h, text, 0);
	assert_int_equal(h.n_ops, 5000);
	assert_int_equal(h.oks, 5000);
	assert_int_equal(h.bad_lines, 0);
	for (int i = 0; i < 5000; i++) {
		char want[16];
		snprintf(want, sizeof want, "%d", i);
		assert_string_equal(h.ops[i].value, want);
	}
	hx_report_hist_free(&h);
	free(text);
}

/* ---- the page writer, on a run directory made here ---- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static char *read_page(const char *dir)
{
	char path[512];
	snprintf(path, sizeof path, "%s/report.html", dir);
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	buf[n] = 0;
	fclose(fp);
	return buf;
}

static void test_write_page(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_report_page.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char err[512] = "";
	/* not a run directory yet */
	assert_int_equal(hx_report_write(dir, err, sizeof err), HX_REPORT_EXIT_USAGE);
	assert_non_null(strstr(err, "not a run directory"));
	assert_int_equal(hx_report_write("/nonexistent/run", err, sizeof err), HX_REPORT_EXIT_USAGE);

	write_file(dir, "history.jsonl",
		   "{\"time\":1000000,\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":\"</script><b>\"}\n"
		   "{\"time\":2000000,\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"value\":\"</script><b>\"}\n"
		   "{\"time\":3000000,\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"kill-start\",\"value\":[\"n2\"]}\n"
		   "{\"time\":4000000,\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}\n"
		   "{\"time\":5000000,\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"value\":7}\n");
	write_file(dir, "results.json",
		   "{\"valid\": false, \"plan\": \"unit\", \"seed\": 3, \"options\": {\"concurrency\": 2},\n"
		   " \"checkers\": {\"linearizable\": {\"valid\": false, \"counterexample\": {\"key\": null,\n"
		   "   \"found_by\": \"read-from check\", \"prefix\": null, \"minimal\": true, \"ops\": [\n"
		   "   {\"process\": 1, \"type\": \"ok\", \"f\": \"read\", \"value\": 7, \"start\": 4000000,\n"
		   "    \"end\": 5000000, \"line\": 5, \"id\": 1, \"stuck\": true}]}},\n"
		   "  \"set\": {\"valid\": true, \"lost\": [], \"stale\": [{\"element\": 4, \"index\": 9}]}}}\n");
	assert_int_equal(hx_report_write(dir, err, sizeof err), 0);
	const char *page = read_page(dir);
	assert_non_null(strstr(page, "<!DOCTYPE html>"));
	assert_non_null(strstr(page, "<span class=\"invalid\">INVALID</span>"));
	assert_non_null(strstr(page, "<svg class=\"cx\""));
	assert_non_null(strstr(page, "read 7 \xe2\x80\x94 cannot be linearized"));
	assert_non_null(strstr(page, "<h4>stale <small>(1)</small></h4>"));
	assert_non_null(strstr(page, "\"kind\":\"kill\""));
	/* a value cannot end the script element it is embedded in */
	assert_null(strstr(page, "</script><b>"));
	assert_non_null(strstr(page, "\\u003c\\/script>"));
	assert_non_null(strstr(page, "plan.lua is missing"));
	assert_null(strstr(page, "http://"));

	/* crashed: no results.json, a cut history */
	char path[512];
	snprintf(path, sizeof path, "%s/results.json", dir);
	unlink(path);
	write_file(dir, "history.jsonl", "{\"time\":1,\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"va");
	assert_int_equal(hx_report_write(dir, err, sizeof err), 0);
	page = read_page(dir);
	assert_non_null(strstr(page, "UNKNOWN (no results)"));
	assert_non_null(strstr(page, "results.json is missing"));
	assert_non_null(strstr(page, "the history is truncated"));

	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairs_and_lanes), cmocka_unit_test(test_lanes_without_concurrency),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_faults),          cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_value_capped),    cmocka_unit_test(test_quantiles),
		cmocka_unit_test(test_many_processes), cmocka_unit_test(test_write_page),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
