/* test_hx_history.c — the recorder writes the contract's JSON lines in
 * order, flushed, with counts and fault intervals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/hx_history.h"

static void test_lines(void **state)
{
	char path[] = "/tmp/test_hx_history_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct hx_history h;
	char err[256];
	assert_int_equal(hx_history_open(&h, path, err, sizeof err), 0);
	json_t *v = json_pack("[i,i]", 1, 4);
	struct hx_event inv = {.process = 3, .type = "invoke", .f = "cas", .value = v};
	assert_int_equal(hx_history_record(&h, &inv, err, sizeof err), 0);
	/* Flushed at once: another reader sees the line before close. */
	FILE *r = fopen(path, "r");
	char line[512];
	assert_non_null(fgets(line, sizeof line, r));
	fclose(r);
	assert_non_null(strstr(line, "\"index\":0,\"time\":"));
	assert_non_null(strstr(line, "\"process\":3,\"type\":\"invoke\",\"f\":\"cas\",\"value\":[1,4]}"));
	struct hx_event ok = {.process = 3, .type = "ok", .f = "cas", .value = v, .node = "n2"};
	assert_int_equal(hx_history_record(&h, &ok, err, sizeof err), 1);
	struct hx_event rd = {.process = 4, .type = "invoke", .f = "read"};
	assert_int_equal(hx_history_record(&h, &rd, err, sizeof err), 2);
	json_t *g = json_pack("{s:[s]}", "n1", "n2");
	struct hx_event ps = {.process_name = "nemesis", .type = "info", .f = "partition-start", .value = g};
	assert_int_equal(hx_history_record(&h, &ps, err, sizeof err), 3);
	char cur[64];
	hx_history_current_faults(&h, cur, sizeof cur);
	assert_string_equal(cur, "partition");
	struct hx_event pe = {.process_name = "nemesis", .type = "info", .f = "partition-end", .value = g};
	assert_int_equal(hx_history_record(&h, &pe, err, sizeof err), 4);
	hx_history_current_faults(&h, cur, sizeof cur);
	assert_string_equal(cur, "");
	struct hx_event ks = {.process_name = "nemesis", .type = "info", .f = "kill-start"};
	hx_history_record(&h, &ks, err, sizeof err);
	hx_history_close_open_faults(&h);
	assert_int_equal(h.counts.invoke, 2);
	assert_int_equal(h.counts.ok, 1);
	assert_int_equal(json_array_size(h.faults), 2);
	json_t *f0 = json_array_get(h.faults, 0);
	assert_string_equal(json_string_value(json_object_get(f0, "f")), "partition");
	assert_true(json_is_number(json_object_get(f0, "end_s")));
	json_t *f1 = json_array_get(h.faults, 1);
	assert_true(json_is_true(json_object_get(f1, "unhealed")));
	hx_history_close(&h);
	json_decref(v);
	json_decref(g);

	/* Every line parses, indexes are 0..n-1 and times never decrease. */
	r = fopen(path, "r");
	long long last = -1, n = 0;
	while (fgets(line, sizeof line, r)) {
		json_t *j = json_loads(line, 0, NULL);
		assert_non_null(j);
		assert_int_equal(json_integer_value(json_object_get(j, "index")), n);
		long long t = json_integer_value(json_object_get(j, "time"));
		assert_true(t >= last);
		last = t;
		n++;
		json_decref(j);
	}
	fclose(r);
	assert_int_equal(n, 6);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_lines)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
