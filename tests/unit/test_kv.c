/* test_kv.c — the KV state machine: command encoding, put/cas semantics,
 * snapshot images, key validation, and robustness to bad commands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "raftnode/server/srv_kv.h"

static int apply(struct srv_kv *kv, uint8_t op, uint64_t reqid, const char *key, const char *value,
                 const char *expect, json_t **actual)
{
	json_t *v = json_loads(value, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	json_t *e = expect ? json_loads(expect, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
	assert_non_null(v);
	struct srv_buf b = {0};
	char err[256];
	assert_int_equal(srv_kv_encode(&b, op, reqid, key, strlen(key), v, e, err, sizeof err), 0);
	assert_int_equal(srv_kv_reqid(b.p, b.len), reqid);
	uint64_t got = 0;
	struct srv_kv_result res;
	srv_kv_apply(kv, b.p, b.len, &got, &res);
	assert_int_equal(got, reqid);
	if (actual)
		*actual = res.actual;
	else
		json_decref(res.actual);
	json_decref(v);
	json_decref(e);
	srv_buf_free(&b);
	return res.status;
}

static void assert_value(struct srv_kv *kv, const char *key, const char *want)
{
	json_t *v = srv_kv_get(kv, key);
	if (!want) {
		assert_null(v);
		return;
	}
	assert_non_null(v);
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	assert_string_equal(s, want);
	free(s);
}

static void test_put_cas(void **state)
{
	struct srv_kv *kv;
	assert_int_equal(srv_kv_new(&kv), 0);
	assert_int_equal(apply(kv, SRV_KV_PUT, 1, "a", "1", NULL, NULL), SRV_KV_OK);
	assert_value(kv, "a", "1");
	assert_int_equal(apply(kv, SRV_KV_PUT, 2, "b", "{\"x\":[1,null,\"s\"]}", NULL, NULL), SRV_KV_OK);
	assert_value(kv, "b", "{\"x\":[1,null,\"s\"]}");
	json_t *actual = NULL;
	assert_int_equal(apply(kv, SRV_KV_CAS, 3, "a", "5", "2", &actual), SRV_KV_MISMATCH);
	assert_non_null(actual);
	assert_int_equal(json_integer_value(actual), 1);
	json_decref(actual);
	assert_value(kv, "a", "1");
	assert_int_equal(apply(kv, SRV_KV_CAS, 4, "a", "5", "1", NULL), SRV_KV_OK);
	assert_value(kv, "a", "5");
	assert_int_equal(apply(kv, SRV_KV_CAS, 5, "zz", "5", "1", NULL), SRV_KV_NOT_FOUND);
	assert_value(kv, "zz", NULL);
	/* Structured values compare by value. */
	assert_int_equal(apply(kv, SRV_KV_CAS, 6, "b", "null", "{\"x\":[1,null,\"s\"]}", NULL), SRV_KV_OK);
	assert_value(kv, "b", "null");
	assert_int_equal(srv_kv_size(kv), 2);
	srv_kv_free(kv);
}

static void test_snapshot_image(void **state)
{
	struct srv_kv *a, *b;
	assert_int_equal(srv_kv_new(&a), 0);
	assert_int_equal(srv_kv_new(&b), 0);
	char key[32];
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof key, "k%d", i);
		assert_int_equal(apply(a, SRV_KV_PUT, (uint64_t)i + 1, key, "[1,2]", NULL, NULL), SRV_KV_OK);
	}
	assert_int_equal(apply(a, SRV_KV_PUT, 1000, "\xc3\xa9t\xc3\xa9", "\"\\u0000x\"", NULL, NULL), SRV_KV_OK);
	char *img;
	size_t len;
	char err[256];
	assert_int_equal(srv_kv_dump(a, &img, &len, err, sizeof err), 0);
	assert_int_equal(srv_kv_restore(b, img, len, err, sizeof err), 0);
	assert_int_equal(srv_kv_size(b), 101);
	assert_value(b, "k42", "[1,2]");
	assert_true(json_equal(srv_kv_get(a, "\xc3\xa9t\xc3\xa9"), srv_kv_get(b, "\xc3\xa9t\xc3\xa9")));
	free(img);
	/* A bad image leaves the map alone. */
	assert_int_equal(srv_kv_restore(b, "[1]", 3, err, sizeof err), -1);
	assert_int_equal(srv_kv_restore(b, "{\"a\":", 5, err, sizeof err), -1);
	assert_non_null(strstr(err, "line"));
	assert_int_equal(srv_kv_size(b), 101);
	srv_kv_free(a);
	srv_kv_free(b);
}

static void test_keys(void **state)
{
	assert_true(srv_kv_key_ok("a", 1));
	assert_true(srv_kv_key_ok("\xc3\xa9", 2));
	assert_true(srv_kv_key_ok("\xf0\x9f\x98\x80", 4));
	assert_false(srv_kv_key_ok("", 0));
	assert_false(srv_kv_key_ok("a\0b", 3));
	assert_false(srv_kv_key_ok("\xc3", 1));         /* cut sequence */
	assert_false(srv_kv_key_ok("\xc0\x80", 2));     /* overlong NUL */
	assert_false(srv_kv_key_ok("\xed\xa0\x80", 3)); /* surrogate */
	assert_false(srv_kv_key_ok("\xff", 1));
	char big[SRV_KV_KEY_MAX + 2];
	memset(big, 'k', sizeof big);
	assert_true(srv_kv_key_ok(big, SRV_KV_KEY_MAX));
	assert_false(srv_kv_key_ok(big, SRV_KV_KEY_MAX + 1));
	struct srv_buf b = {0};
	char err[256];
	json_t *v = json_integer(1);
	assert_int_equal(srv_kv_encode(&b, SRV_KV_PUT, 1, "\xff", 1, v, NULL, err, sizeof err), -1);
	assert_int_equal(srv_kv_encode(&b, SRV_KV_CAS, 1, "k", 1, v, NULL, err, sizeof err), -1); /* no expect */
	assert_int_equal(b.len, 0);
	json_decref(v);
}

static void test_bad_commands(void **state)
{
	struct srv_kv *kv;
	assert_int_equal(srv_kv_new(&kv), 0);
	json_t *v = json_integer(7);
	struct srv_buf b = {0};
	char err[256];
	assert_int_equal(srv_kv_encode(&b, SRV_KV_PUT, 9, "key", 3, v, NULL, err, sizeof err), 0);
	/* Every prefix and every single-byte corruption either applies cleanly
	 * or is a no-op BAD_COMMAND; nothing crashes or leaks. */
	for (size_t cut = 0; cut < b.len; cut++) {
		uint64_t id;
		struct srv_kv_result r;
		srv_kv_apply(kv, b.p, cut, &id, &r);
		assert_int_equal(r.status, SRV_KV_BAD_COMMAND);
		assert_null(r.actual);
	}
	for (size_t i = 0; i < b.len; i++) {
		uint8_t save = b.p[i];
		b.p[i] ^= 0xa5;
		uint64_t id;
		struct srv_kv_result r;
		srv_kv_apply(kv, b.p, b.len, &id, &r);
		assert_true(r.status == SRV_KV_OK || r.status == SRV_KV_BAD_COMMAND);
		json_decref(r.actual);
		b.p[i] = save;
	}
	json_decref(v);
	srv_buf_free(&b);
	srv_kv_free(kv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_put_cas),
	    cmocka_unit_test(test_snapshot_image),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_bad_commands),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
