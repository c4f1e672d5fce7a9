/* test_chk_unit.c — cmocka unit tests of the checker on small hand-made histories with known verdicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "checker/chk.h"

static char err[1024];

/* Checks a JSONL (or EDN) history given as text. */
static int check_fmt(const char *text, const char *model, enum chk_format fmt, json_t **res,
		     int search_only)
{
	struct chk_options o = {.model = model, .format = fmt, .search_only = search_only};
	err[0] = 0;
	json_t *r = NULL;
	int rc = chk_check_buffer("t.hist", text, strlen(text), &o, &r, err, sizeof err);
	if (res)
		*res = r;
	else
		json_decref(r);
	return rc;
}

/* Both with and without the read-from check: the verdicts must agree. */
static int check(const char *text, const char *model)
{
	int a = check_fmt(text, model, CHK_FORMAT_JSONL, NULL, 0);
	char saved[1024];
	memcpy(saved, err, sizeof saved);
	int b = check_fmt(text, model, CHK_FORMAT_JSONL, NULL, 1);
	assert_int_equal(a, b);
	memcpy(err, saved, sizeof saved);
	return a;
}

#define EV(t, p, type, f, v) "{\"time\":" #t ",\"process\":" #p ",\"type\":\"" type "\",\"f\":\"" f "\",\"value\":" v "}\n"

static void test_register_basic(void **st)
{
	assert_int_equal(check(EV(1, 0, "invoke", "write", "1") EV(2, 0, "ok", "write", "1")
				       EV(3, 1, "invoke", "read", "null") EV(4, 1, "ok", "read", "1"),
			       "register"),
			 CHK_VALID);
	/* stale read: 1 then 2 written, then 1 read */
	assert_int_equal(check(EV(1, 0, "invoke", "write", "1") EV(2, 0, "ok", "write", "1")
				       EV(3, 0, "invoke", "write", "2") EV(4, 0, "ok", "write", "2")
					       EV(5, 1, "invoke", "read", "null")
						       EV(6, 1, "ok", "read", "1"),
			       "register"),
			 CHK_INVALID);
	/* a read concurrent with the write may see either value */
	assert_int_equal(check(EV(1, 0, "invoke", "write", "1") EV(2, 1, "invoke", "read", "null")
				       EV(3, 1, "ok", "read", "null") EV(4, 0, "ok", "write", "1")
					       EV(5, 1, "invoke", "read", "null")
						       EV(6, 1, "ok", "read", "1"),
			       "register"),
			 CHK_VALID);
	/* the register starts null: reading null first is fine, null after a write is not */
	assert_int_equal(check(EV(1, 1, "invoke", "read", "null") EV(2, 1, "ok", "read", "null"),
			       "register"),
			 CHK_VALID);
	assert_int_equal(check(EV(1, 0, "invoke", "write", "1") EV(2, 0, "ok", "write", "1")
				       EV(3, 1, "invoke", "read", "null") EV(4, 1, "ok", "read", "null"),
			       "register"),
			 CHK_INVALID);
	/* closed intervals: touching times overlap */
	assert_int_equal(check(EV(1, 0, "invoke", "write", "1") EV(2, 1, "invoke", "read", "null")
				       EV(2, 1, "ok", "read", "1") EV(2, 0, "ok", "write", "1"),
			       "register"),
			 CHK_VALID);
	/* values compare structurally: key order in objects does not matter */
	assert_int_equal(check(EV(1, 0, "invoke", "write", "{\"a\":[1,2],\"b\":null}")
				       EV(2, 0, "ok", "write", "{\"a\":[1,2],\"b\":null}")
					       EV(3, 1, "invoke", "read", "null")
						       EV(4, 1, "ok", "read", "{\"b\":null,\"a\":[1,2]}"),
			       "register"),
			 CHK_VALID);
	assert_int_equal(check(EV(1, 0, "invoke", "write", "\"1\"") EV(2, 0, "ok", "write", "\"1\"")
				       EV(3, 1, "invoke", "read", "null") EV(4, 1, "ok", "read", "1"),
			       "register"),
			 CHK_INVALID);
}

static void test_cas_register(void **st)
{
	assert_int_equal(check(EV(1, 0, "invoke", "write", "1") EV(2, 0, "ok", "write", "1")
				       EV(3, 0, "invoke", "cas", "[1,2]") EV(4, 0, "ok", "cas", "[1,2]")
					       EV(5, 1, "invoke", "read", "null")
						       EV(6, 1, "ok", "read", "2"),
			       "cas-register"),
			 CHK_VALID);
	/* a cas that succeeded although the value was something else */
	assert_int_equal(check(EV(1, 0, "invoke", "write", "1") EV(2, 0, "ok", "write", "1")
				       EV(3, 0, "invoke", "cas", "[3,2]") EV(4, 0, "ok", "cas", "[3,2]"),
			       "cas-register"),
			 CHK_INVALID);
	/* the register model has no cas: bad input naming the line and field */
	assert_int_equal(check(EV(1, 0, "invoke", "cas", "[1,2]") EV(2, 0, "ok", "cas", "[1,2]"),
			       "register"),
			 CHK_BAD_INPUT);
	assert_non_null(strstr(err, "t.hist:1: f:"));
	/* cas from null */
	assert_int_equal(check(EV(1, 0, "invoke", "cas", "[null,5]") EV(2, 0, "ok", "cas", "[null,5]")
				       EV(3, 1, "invoke", "read", "null") EV(4, 1, "ok", "read", "5"),
			       "cas-register"),
			 CHK_VALID);
}

static void test_fail_semantics(void **st)
{
	/* a failed write did not happen */
	assert_int_equal(check(EV(1, 0, "invoke", "write", "1") EV(2, 0, "fail", "write", "1")
				       EV(3, 1, "invoke", "read", "null") EV(4, 1, "ok", "read", "1"),
			       "register"),
			 CHK_INVALID);
	/* a failed cas is simply absent */
	assert_int_equal(check(EV(1, 0, "invoke", "cas", "[7,1]") EV(2, 0, "fail", "cas", "[7,1]")
				       EV(3, 1, "invoke", "read", "null") EV(4, 1, "ok", "read", "null"),
			       "cas-register"),
			 CHK_VALID);
}

static void test_info_semantics(void **st)
{
	/* an info write may have happened... */
	assert_int_equal(check(EV(1, 0, "invoke", "write", "1") EV(2, 0, "info", "write", "1")
				       EV(3, 1, "invoke", "read", "null") EV(4, 1, "ok", "read", "1"),
			       "register"),
			 CHK_VALID);
	/* ...or not */
	assert_int_equal(check(EV(1, 0, "invoke", "write", "1") EV(2, 0, "info", "write", "1")
				       EV(3, 1, "invoke", "read", "null") EV(4, 1, "ok", "read", "null"),
			       "register"),
			 CHK_VALID);
	/* ...at any time after its invocation, even after later writes */
	assert_int_equal(check(EV(1, 0, "invoke", "write", "1") EV(2, 0, "info", "write", "1")
				       EV(3, 2, "invoke", "write", "2") EV(4, 2, "ok", "write", "2")
					       EV(5, 1, "invoke", "read", "null")
						       EV(6, 1, "ok", "read", "1"),
			       "register"),
			 CHK_VALID);
	/* but only once: 1, then 2, then 1 again needs two writes of 1 */
	assert_int_equal(check(EV(1, 0, "invoke", "write", "1") EV(2, 0, "info", "write", "1")
				       EV(3, 1, "invoke", "read", "null") EV(4, 1, "ok", "read", "1")
					       EV(5, 2, "invoke", "write", "2") EV(6, 2, "ok", "write", "2")
						       EV(7, 1, "invoke", "read", "null")
							       EV(8, 1, "ok", "read", "1"),
			       "register"),
			 CHK_INVALID);
	/* not before its invocation */
	assert_int_equal(check(EV(1, 1, "invoke", "read", "null") EV(2, 1, "ok", "read", "1")
				       EV(3, 0, "invoke", "write", "1") EV(4, 0, "info", "write", "1"),
			       "register"),
			 CHK_INVALID);
	/* an invoke that never completes is info too */
	assert_int_equal(check(EV(1, 0, "invoke", "write", "1") EV(3, 1, "invoke", "read", "null")
				       EV(4, 1, "ok", "read", "1"),
			       "register"),
			 CHK_VALID);
	/* an info read says nothing */
	assert_int_equal(check(EV(1, 0, "invoke", "write", "1") EV(2, 0, "ok", "write", "1")
				       EV(3, 1, "invoke", "read", "null") EV(4, 1, "info", "read", "7"),
			       "register"),
			 CHK_VALID);
	/* info cas: may apply when it matches */
	assert_int_equal(check(EV(1, 0, "invoke", "write", "1") EV(2, 0, "ok", "write", "1")
				       EV(3, 2, "invoke", "cas", "[1,3]") EV(4, 2, "info", "cas", "[1,3]")
					       EV(5, 1, "invoke", "read", "null")
						       EV(6, 1, "ok", "read", "3"),
			       "cas-register"),
			 CHK_VALID);
	assert_int_equal(check(EV(1, 0, "invoke", "write", "1") EV(2, 0, "ok", "write", "1")
				       EV(3, 2, "invoke", "cas", "[4,3]") EV(4, 2, "info", "cas", "[4,3]")
					       EV(5, 1, "invoke", "read", "null")
						       EV(6, 1, "ok", "read", "3"),
			       "cas-register"),
			 CHK_INVALID);
	/* a client continues under a new process after info; reusing one after info is allowed */
	assert_int_equal(check(EV(1, 0, "invoke", "write", "1") EV(2, 0, "info", "write", "1")
				       EV(3, 0, "invoke", "read", "null") EV(4, 0, "ok", "read", "1"),
			       "register"),
			 CHK_VALID);
}

/* Crashed writes are placed lazily as "tokens"; two orders that reach the
 * same ops and state but used different numbers of tokens must not be
 * confused: the order that spent the only crashed write of 1 on the first
 * read (explored first) fails at the last read; the order that explains the
 * first read by the ok write of 1 succeeds. */
static void test_token_dominance(void **st)
{
	const char *h = EV(0, 0, "invoke", "write", "1") EV(1, 0, "info", "write", "1")
		EV(1, 1, "invoke", "read", "null") EV(2, 2, "invoke", "write", "2")
			EV(3, 2, "ok", "write", "2") EV(5, 3, "invoke", "write", "1")
				EV(6, 3, "ok", "write", "1") EV(10, 1, "ok", "read", "1")
					EV(11, 2, "invoke", "write", "2") EV(12, 2, "ok", "write", "2")
						EV(13, 3, "invoke", "read", "null") EV(14, 3, "ok", "read", "1");
	for (int mode = 0; mode < 3; mode++)
		assert_int_equal(check_fmt(h, "register", CHK_FORMAT_JSONL, NULL, mode), CHK_VALID);
	/* without the crashed write the last read is stale */
	const char *h2 = EV(1, 1, "invoke", "read", "null") EV(2, 2, "invoke", "write", "2")
		EV(3, 2, "ok", "write", "2") EV(5, 3, "invoke", "write", "1")
			EV(6, 3, "ok", "write", "1") EV(10, 1, "ok", "read", "1")
				EV(11, 2, "invoke", "write", "2") EV(12, 2, "ok", "write", "2")
					EV(13, 3, "invoke", "read", "null") EV(14, 3, "ok", "read", "1");
	for (int mode = 0; mode < 3; mode++)
		assert_int_equal(check_fmt(h2, "register", CHK_FORMAT_JSONL, NULL, mode), CHK_INVALID);
}

#define KEV(t, p, type, f, k, v) "{\"time\":" #t ",\"process\":" #p ",\"type\":\"" type "\",\"f\":\"" f "\",\"key\":" k ",\"value\":" v "}\n"

static void test_kv(void **st)
{
	json_t *r;
	/* a missing key reads null; keys are independent */
	const char *h = KEV(1, 0, "invoke", "write", "\"a\"", "1") KEV(2, 0, "ok", "write", "\"a\"", "1")
		KEV(3, 1, "invoke", "read", "\"b\"", "null") KEV(4, 1, "ok", "read", "\"b\"", "null")
			KEV(5, 1, "invoke", "read", "\"a\"", "null") KEV(6, 1, "ok", "read", "\"a\"", "1")
				KEV(7, 1, "invoke", "read", "2", "null") KEV(8, 1, "ok", "read", "2", "null");
	assert_int_equal(check_fmt(h, NULL, CHK_FORMAT_JSONL, &r, 0), CHK_VALID);
	assert_string_equal(json_string_value(json_object_get(r, "model")), "kv");
	assert_int_equal(json_integer_value(json_object_get(r, "keys")), 3);
	json_decref(r);
	/* one bad key makes the whole history invalid, and is named */
	const char *bad = KEV(1, 0, "invoke", "write", "\"a\"", "1") KEV(2, 0, "ok", "write", "\"a\"", "1")
		KEV(3, 0, "invoke", "write", "\"b\"", "1") KEV(4, 0, "ok", "write", "\"b\"", "1")
			KEV(5, 1, "invoke", "read", "\"b\"", "null") KEV(6, 1, "ok", "read", "\"b\"", "null");
	assert_int_equal(check_fmt(bad, "kv", CHK_FORMAT_JSONL, &r, 0), CHK_INVALID);
	json_t *cx = json_object_get(r, "counterexample");
	assert_string_equal(json_string_value(json_object_get(cx, "key")), "b");
	json_decref(r);
	/* several keys under a single-register model is bad input */
	assert_int_equal(check(bad, "cas-register"), CHK_BAD_INPUT);
}

static void test_counterexample(void **st)
{
	json_t *r;
	const char *h = EV(1, 0, "invoke", "write", "1") EV(2, 0, "ok", "write", "1")
		EV(3, 2, "invoke", "read", "null") EV(4, 2, "ok", "read", "1")
			EV(5, 0, "invoke", "write", "2") EV(6, 0, "ok", "write", "2")
				EV(7, 3, "invoke", "write", "3") EV(8, 3, "ok", "write", "3")
					EV(9, 1, "invoke", "read", "null") EV(10, 1, "ok", "read", "1");
	for (int so = 0; so < 2; so++) {
		assert_int_equal(check_fmt(h, "register", CHK_FORMAT_JSONL, &r, so), CHK_INVALID);
		json_t *cx = json_object_get(r, "counterexample");
		assert_non_null(cx);
		json_t *ops = json_object_get(cx, "ops");
		/* {write 1, a later write, read 1}: three ops, the read is the stuck one */
		assert_int_equal(json_array_size(ops), 3);
		json_t *last = json_array_get(ops, 2);
		assert_true(json_is_true(json_object_get(last, "stuck")));
		assert_int_equal(json_integer_value(json_object_get(last, "start")), 9);
		assert_int_equal(json_integer_value(json_object_get(last, "end")), 10);
		assert_int_equal(json_integer_value(json_object_get(last, "process")), 1);
		assert_true(json_is_true(json_object_get(cx, "minimal")));
		if (so) {
			json_t *pre = json_object_get(cx, "prefix");
			assert_true(json_integer_value(json_object_get(pre, "length")) >= 3);
		}
		json_decref(r);
	}
	/* valid: no counterexample */
	assert_int_equal(check_fmt(EV(1, 0, "invoke", "write", "1") EV(2, 0, "ok", "write", "1"),
				   NULL, CHK_FORMAT_JSONL, &r, 0),
			 CHK_VALID);
	assert_true(json_is_null(json_object_get(r, "counterexample")));
	assert_true(json_is_true(json_object_get(r, "valid")));
	json_decref(r);
}

static void expect_bad(const char *h, const char *needle)
{
	int rc = check_fmt(h, NULL, CHK_FORMAT_JSONL, NULL, 0);
	if (rc != CHK_BAD_INPUT || !strstr(err, needle))
		fail_msg("expected bad input mentioning \"%s\", got rc %d: %s", needle, rc, err);
}

static void test_bad_input(void **st)
{
	expect_bad(EV(1, 0, "ok", "write", "1"), "t.hist:1: process: 0 completes");
	expect_bad(EV(1, 0, "invoke", "write", "1") EV(2, 0, "invoke", "write", "2"),
		   "t.hist:2: process: 0 invokes again");
	expect_bad(EV(5, 0, "invoke", "write", "1") EV(4, 0, "ok", "write", "1"),
		   "t.hist:2: time: goes backwards");
	expect_bad(EV(1, 0, "invoke", "write", "1") "{\"time\":2,\"process\":0,\"type\":\"ok\",\"f\":\"write\"\n",
		   "t.hist:2: invalid JSON");
	expect_bad("\n\n[1,2]\n", "t.hist:3: expected a JSON object");
	expect_bad(EV(1, 0, "invoke", "append", "1"), "t.hist:1: f:");
	expect_bad(EV(1, 0, "begin", "write", "1"), "t.hist:1: type:");
	expect_bad("{\"time\":1,\"type\":\"invoke\",\"f\":\"read\"}\n", "t.hist:1: process: missing");
	expect_bad(EV(1, 0, "invoke", "cas", "5"), "t.hist:1: value: cas needs");
	expect_bad(EV(1, 0, "invoke", "write", "1") EV(2, 0, "ok", "read", "1"), "t.hist:2: f:");
	expect_bad(EV(1, "\"x\"", "invoke", "write", "1"), "t.hist:1: process:");
	expect_bad(EV(1, 0, "invoke", "write", "1") "{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"value\":1}\n",
		   "t.hist:2: time: missing");
	expect_bad(EV(-1, 0, "invoke", "write", "1"), "t.hist:1: time:");
	expect_bad(KEV(1, 0, "invoke", "write", "[1]", "1"), "t.hist:1: key:");
	/* nemesis events are ignored, whatever their f */
	assert_int_equal(check("{\"time\":0,\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"partition-start\",\"value\":{\"n1\":[\"n2\"]}}\n"
			       EV(1, 0, "invoke", "write", "1") EV(2, 0, "ok", "write", "1"),
			       NULL),
			 CHK_VALID);
	/* without times, line order is the order (equal or missing times) */
	assert_int_equal(check("{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":1}\n"
			       "{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"value\":1}\n"
			       "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}\n"
			       "{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"value\":null}\n",
			       NULL),
			 CHK_INVALID);
	/* an empty history is valid */
	assert_int_equal(check("", NULL), CHK_VALID);
	/* unknown model */
	assert_int_equal(check_fmt(EV(1, 0, "invoke", "write", "1"), "queue", CHK_FORMAT_JSONL, NULL, 0),
			 CHK_BAD_INPUT);
	/* a missing file names the path */
	json_t *r;
	assert_int_equal(chk_check_path("/nonexistent/h.jsonl", NULL, &r, err, sizeof err),
			 CHK_BAD_INPUT);
	assert_non_null(strstr(err, "/nonexistent/h.jsonl"));
}

static void test_edn(void **st)
{
	const char *good =
		"; a comment\n"
		"[{:process 0, :type :invoke, :f :write, :value 1}\n"
		" {:process 0, :type :ok, :f :write, :value 1}\n"
		" {:process :nemesis, :type :info, :f :start, :value nil}\n"
		" {:process 1 :type :invoke :f :read :value nil :time 5}\n"
		" #_ {:process 9 :type :ok}\n"
		" {:process 1, :type :ok, :f :read, :value 1, :error [:x \"a \\\"b\\\"\"]}\n"
		" {:process 2, :type :invoke, :f :cas, :value [1 2]}\n"
		" {:process 2, :type :fail, :f :cas, :value [1 2]}]\n";
	assert_int_equal(check_fmt(good, "cas-register", CHK_FORMAT_EDN, NULL, 0), CHK_VALID);
	/* auto-detected as EDN, and the same history as a list of maps */
	assert_int_equal(check_fmt("({:process 0 :type :invoke :f :read :value nil}\n"
				   " {:process 0 :type :ok :f :read :value 3})",
				   NULL, CHK_FORMAT_AUTO, NULL, 0),
			 CHK_INVALID);
	/* one map per line, no enclosing vector */
	assert_int_equal(check_fmt("{:process 0 :type :invoke :f :write :value \"x\"}\n"
				   "{:process 0 :type :ok :f :write :value \"x\"}\n"
				   "{:process 1 :type :invoke :f :read :value nil}\n"
				   "{:process 1 :type :ok :f :read :value \"x\"}\n",
				   NULL, CHK_FORMAT_EDN, NULL, 0),
			 CHK_VALID);
	/* keywords and strings are different values */
	assert_int_equal(check_fmt("{:process 0 :type :invoke :f :write :value :x}\n"
				   "{:process 0 :type :ok :f :write :value :x}\n"
				   "{:process 1 :type :invoke :f :read :value nil}\n"
				   "{:process 1 :type :ok :f :read :value \"x\"}\n",
				   NULL, CHK_FORMAT_EDN, NULL, 0),
			 CHK_INVALID);
	/* independent keys: [key value] tuples */
	json_t *r;
	const char *indep = "[{:process 0 :type :invoke :f :write :value [1 5]}\n"
			    " {:process 0 :type :ok :f :write :value [1 5]}\n"
			    " {:process 1 :type :invoke :f :read :value [2 nil]}\n"
			    " {:process 1 :type :ok :f :read :value [2 nil]}\n"
			    " {:process 1 :type :invoke :f :cas :value [1 [5 6]]}\n"
			    " {:process 1 :type :ok :f :cas :value [1 [5 6]]}\n"
			    " {:process 1 :type :invoke :f :read :value [1 nil]}\n"
			    " {:process 1 :type :ok :f :read :value [1 6]}]\n";
	assert_int_equal(check_fmt(indep, NULL, CHK_FORMAT_EDN, &r, 0), CHK_VALID);
	assert_int_equal(json_integer_value(json_object_get(r, "keys")), 2);
	json_decref(r);
	/* errors name the line */
	const struct {
		const char *text, *needle;
	} bad[] = {
		{"[{:process 0 :type :invoke :f :write :value 1}\n {:process 0 :type :ok", "line 2"},
		{"[{:process 0 :type :invoke :f :write :value 1}\n\n 42]", "t.hist:3: expected an operation map"},
		{"[{:process 0 :type :invoke :f :write :value \"abc}]", "unterminated string"},
		{"{:process 0 :type :invoke :f :write}\n{:process 0 :type :ok :f :read}", "t.hist:2: f:"},
		{"[{:process 0 :type :invoke :f :write :value 1}] extra", "unexpected data"},
		{"{:a 1 :b}", "odd number"},
		{"[{:process 0 :type :invoke :f :write :value 1)]", "mismatched"},
		{"{:process 0 :type :invoke :f :write :value 99999999999999999999}", "out of range"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = check_fmt(bad[i].text, NULL, CHK_FORMAT_EDN, NULL, 0);
		if (rc != CHK_BAD_INPUT || !strstr(err, bad[i].needle))
			fail_msg("EDN case %zu: expected \"%s\", got rc %d: %s", i, bad[i].needle, rc,
				 err);
	}
	/* deep nesting is refused, not a stack overflow */
	char *deep = malloc(200001);
	memset(deep, '[', 200000);
	deep[200000] = 0;
	assert_int_equal(check_fmt(deep, NULL, CHK_FORMAT_EDN, NULL, 0), CHK_BAD_INPUT);
	free(deep);
}

/* n processes write distinct values, all concurrently, then a read of a
 * value nobody wrote: the search must try every subset of the writes. */
static char *wide_history(int n)
{
	size_t cap = 200 * (size_t)n + 400, len = 0;
	char *b = malloc(cap);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(b + len, cap - len,
					"{\"time\":%d,\"process\":%d,\"type\":\"invoke\",\"f\":\"write\",\"value\":%d}\n",
					i, i, i);
	len += (size_t)snprintf(b + len, cap - len,
				"{\"time\":%d,\"process\":%d,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}\n"
				"{\"time\":%d,\"process\":%d,\"type\":\"ok\",\"f\":\"read\",\"value\":-1}\n",
				n, n, n + 1, n);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(b + len, cap - len,
					"{\"time\":%d,\"process\":%d,\"type\":\"ok\",\"f\":\"write\",\"value\":%d}\n",
					n + 2 + i, i, i);
	return b;
}

static void test_limits(void **st)
{
	char *h = wide_history(16);
	json_t *r;
	/* the read-from check sees the phantom value at once */
	assert_int_equal(check_fmt(h, NULL, CHK_FORMAT_JSONL, &r, 0), CHK_INVALID);
	json_decref(r);
	/* memory bound: unknown with a reason, never a crash */
	struct chk_options o = {.mem_limit_bytes = 256 << 10, .search_only = 1};
	assert_int_equal(chk_check_buffer("wide", h, strlen(h), &o, &r, err, sizeof err), CHK_UNKNOWN);
	assert_string_equal(json_string_value(json_object_get(r, "valid")), "unknown");
	assert_non_null(strstr(json_string_value(json_object_get(r, "reason")), "memory limit"));
	json_decref(r);
	/* time bound: 1 us is over long before 2^16 subsets are explored */
	o = (struct chk_options){.time_limit_s = 1e-6, .search_only = 1};
	assert_int_equal(chk_check_buffer("wide", h, strlen(h), &o, &r, err, sizeof err), CHK_UNKNOWN);
	assert_non_null(strstr(json_string_value(json_object_get(r, "reason")), "time limit"));
	json_decref(r);
	free(h);
	/* small enough to finish: invalid by search too */
	h = wide_history(8);
	o = (struct chk_options){.search_only = 1};
	assert_int_equal(chk_check_buffer("wide", h, strlen(h), &o, &r, err, sizeof err), CHK_INVALID);
	json_decref(r);
	free(h);
}

/* Many keys, checked by several threads: same verdicts as one thread, and
 * the bad key is the one reported. */
static void test_threads(void **st)
{
	size_t cap = 1 << 20, len = 0;
	char *b = malloc(cap);
	for (int bad = 0; bad < 2; bad++) {
		len = 0;
		for (int k = 0; k < 64; k++) {
			int t = k * 10;
			int seen = bad && k == 37 ? 1 : 2; /* key 37 reads an overwritten value */
			len += (size_t)snprintf(b + len, cap - len,
						"{\"time\":%d,\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"key\":%d,\"value\":1}\n"
						"{\"time\":%d,\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"key\":%d,\"value\":1}\n"
						"{\"time\":%d,\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"key\":%d,\"value\":2}\n"
						"{\"time\":%d,\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"key\":%d,\"value\":2}\n"
						"{\"time\":%d,\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":%d,\"value\":null}\n"
						"{\"time\":%d,\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"key\":%d,\"value\":%d}\n",
						t, k, t + 1, k, t + 2, k, t + 3, k, t + 4, k, t + 5, k, seen);
		}
		for (unsigned threads = 1; threads <= 4; threads++) {
			for (int so = 0; so < 2; so++) {
				struct chk_options o = {.threads = threads, .search_only = so};
				json_t *r;
				int rc = chk_check_buffer("keys", b, len, &o, &r, err, sizeof err);
				assert_int_equal(rc, bad ? CHK_INVALID : CHK_VALID);
				assert_int_equal(json_integer_value(json_object_get(r, "keys")), 64);
				if (bad) {
					json_t *cx = json_object_get(r, "counterexample");
					assert_int_equal(json_integer_value(json_object_get(cx, "key")), 37);
				}
				json_decref(r);
			}
		}
	}
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_basic), cmocka_unit_test(test_cas_register),
		cmocka_unit_test(test_fail_semantics), cmocka_unit_test(test_info_semantics),
		cmocka_unit_test(test_kv),	       cmocka_unit_test(test_counterexample),
		cmocka_unit_test(test_bad_input),      cmocka_unit_test(test_edn),
		cmocka_unit_test(test_limits),	       cmocka_unit_test(test_threads),
		cmocka_unit_test(test_token_dominance),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
