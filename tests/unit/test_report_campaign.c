/* test_report_campaign.c — unit tests of campaign files (loading, errors naming file:line:field) and of --shard parsing and the split. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness/campaign/hx_campaign.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/test_report_campaign.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	char p[128];
	snprintf(p, sizeof p, "%s/plan.lua", dir);
	FILE *fp = fopen(p, "w");
	if (!fp)
		return -1;
	fputs("return { name = \"p\" }\n", fp);
	fclose(fp);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes a campaign (with @ standing for the plan's path) and loads it. */
static int load(const char *text, struct hx_campaign *c, char *err, size_t errlen, char *path, size_t plen)
{
	snprintf(path, plen, "%s/c.lua", dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	for (const char *p = text; *p; p++) {
		if (*p == '@')
			fprintf(fp, "%s/plan.lua", dir);
		else
			fputc(*p, fp);
	}
	fclose(fp);
	return hx_campaign_load(c, path, err, errlen);
}

static void test_good_file(void **state)
{
	(void)state;
	struct hx_campaign c;
	char err[1024] = "", path[128];
	int rc = load("return {\n"
		      "  name = \"nightly\",\n"
		      "  runs = {\n"
		      "    { plan = \"@\", set = { nemesis = \"partition,kill\", rate = 500, tls = true }, seeds = { 1, 2, 3 } },\n"
		      "    { name = \"stale\", plan = \"@\", db = \"etcd\",\n"
		      "      seeds = { 9 }, expect = \"invalid\", time_limit = 20, nodes = 3, timeout = 120 },\n"
		      "  },\n"
		      "}\n",
		      &c, err, sizeof err, path, sizeof path);
	assert_int_equal(rc, 0);
	assert_string_equal(c.name, "nightly");
	assert_int_equal(c.n_entries, 2);
	assert_string_equal(c.entries[0].name, "plan"); /* the plan's base name */
	assert_int_equal(c.entries[0].n_seeds, 3);
	assert_int_equal(c.entries[0].seeds[2], 3);
	assert_int_equal(c.entries[0].n_sets, 3);
	/* sorted by key, values as --set text */
	assert_string_equal(c.entries[0].sets[0], "nemesis=partition,kill");
	assert_string_equal(c.entries[0].sets[1], "rate=500");
	assert_string_equal(c.entries[0].sets[2], "tls=true");
	assert_int_equal(c.entries[0].expect, HX_CAMPAIGN_VALID);
	assert_int_equal(c.entries[0].line, 4);
	assert_string_equal(c.entries[1].name, "stale");
	assert_string_equal(c.entries[1].db, "etcd");
	assert_int_equal(c.entries[1].expect, HX_CAMPAIGN_INVALID);
	assert_true(c.entries[1].time_limit == 20);
	assert_int_equal(c.entries[1].nodes, 3);
	assert_true(c.entries[1].timeout == 120);
	assert_int_equal(c.entries[1].line, 5);
	hx_campaign_free(&c);
}

static void test_default_seed_and_name(void **state)
{
	(void)state;
	struct hx_campaign c;
	char err[1024] = "", path[128];
	assert_int_equal(load("return { runs = { { plan = \"@\" } } }\n", &c, err, sizeof err, path, sizeof path), 0);
	assert_string_equal(c.name, "c"); /* the file's base name */
	assert_int_equal(c.entries[0].n_seeds, 1);
	assert_int_equal(c.entries[0].seeds[0], 1);
	hx_campaign_free(&c);
}

struct bad_case {
	const char *text;
	const char *want; /* substring of the message after the path */
};

static void test_bad_files(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
		{"return {\n  runs = {\n    { plan = \"@\",\n      expect = \"maybe\" },\n  },\n}\n",
		 ":4: runs[1].expect: must be \"valid\", \"invalid\" or \"unknown\""},
		{"return {\n  runs = {\n    { plan = \"@\" },\n    { plan = \"@\", seeds = { 1, \"two\" } },\n  },\n}\n",
		 ":4: runs[2].seeds: element 2 must be a positive integer"},
		{"return {\n  runs = {\n    { plan = \"/nonexistent/plan.lua\" },\n  },\n}\n",
		 ":3: runs[1].plan: /nonexistent/plan.lua: no such file"},
		{"return {\n  runs = {\n    { plan = \"@\",\n      sets = { a = 1 } },\n  },\n}\n",
		 ":4: runs[1].sets: unknown field"},
		{"return {\n  runs = {\n    { plan = \"@\",\n      set = { rate = {} } },\n  },\n}\n",
		 ":4: runs[1].set.rate: must be a string, number or boolean"},
		{"return {\n  name = \"x\",\n  runs = {},\n}\n", ":3: runs: must be a non-empty list"},
		{"return {\n  name = \"x\",\n  rusn = {},\n}\n", ":3: rusn: unknown field"},
		{"return {\n  runs = {\n    { seeds = { 1 } },\n  },\n}\n", "runs[1].plan: missing"},
		{"return {\n  runs = {\n    { plan = \"@\", nodes = 0.5 },\n  },\n}\n",
		 ":3: runs[1].nodes: must be an integer 1..64"},
		{"return {\n  runs = {\n    { plan = \"@\" },\n    { plan = \"@\" },\n  },\n}\n",
		 ":4: runs[2].name: \"plan\" is also the name of runs[1]"},
		{"return 42\n", "must return a table"},
		{"return {\n  runs = {\n    { plan = \"@\" \n  },\n}\n", ":"}, /* Lua's own syntax error */
		{"return { name = \"a b\", runs = { { plan = \"@\" } } }\n", ":1: name: must be a non-empty string"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct hx_campaign c;
		char err[1024] = "", path[128];
		int rc = load(cases[i].text, &c, err, sizeof err, path, sizeof path);
		if (rc == 0 || strncmp(err, path, strlen(path)) != 0 || !strstr(err, cases[i].want)) {
			print_error("case %zu: rc %d, message \"%s\", want \"%s\"\n", i, rc, err, cases[i].want);
			fail();
		}
	}
}

static void test_shard_parse(void **state)
{
	(void)state;
	unsigned i, n;
	assert_int_equal(hx_campaign_parse_shard("1/1", &i, &n), 0);
	assert_int_equal(hx_campaign_parse_shard("2/3", &i, &n), 0);
	assert_int_equal(i, 2);
	assert_int_equal(n, 3);
	static const char *const bad[] = {"0/3", "4/3", "1/0", "a/3", "1/", "/3", "1-3", "-1/3", "1/3x", "", "1/1001"};
	for (size_t k = 0; k < sizeof bad / sizeof *bad; k++)
		assert_int_equal(hx_campaign_parse_shard(bad[k], &i, &n), -1);
}

static void test_shard_split(void **state)
{
	(void)state;
	/* every run in exactly one shard; shard sizes differ by at most one */
	for (unsigned n = 1; n <= 7; n++) {
		for (size_t total = 0; total <= 20; total++) {
			size_t min = (size_t)-1, max = 0;
			for (unsigned s = 1; s <= n; s++) {
				size_t cnt = 0;
				for (size_t k = 0; k < total; k++)
					cnt += hx_campaign_in_shard(k, s, n);
				min = cnt < min ? cnt : min;
				max = cnt > max ? cnt : max;
			}
			for (size_t k = 0; k < total; k++) {
				unsigned owners = 0;
				for (unsigned s = 1; s <= n; s++)
					owners += hx_campaign_in_shard(k, s, n);
				assert_int_equal(owners, 1);
			}
			assert_true(max - min <= 1);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),   cmocka_unit_test(test_default_seed_and_name),
		cmocka_unit_test(test_bad_files),   cmocka_unit_test(test_shard_parse),
		cmocka_unit_test(test_shard_split),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
