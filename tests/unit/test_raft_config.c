/* test_raft_config.c — configuration operations, the versioned config
 * encoding (bounds checks against truncated and malformed bytes) and message
 * deep copies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "raftnode/raft.h"

static void make_conf(struct raft_config *c)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(raft_config_add(c, 1, RAFT_VOTER, "http://10.0.0.1:7001"), RAFT_OK);
	assert_int_equal(raft_config_add(c, 2, RAFT_VOTER, "http://10.0.0.2:7001"), RAFT_OK);
	assert_int_equal(raft_config_add(c, 77, RAFT_LEARNER, ""), RAFT_OK);
}

static void test_config_ops(void **state)
{
	(void)state;
	struct raft_config c;
	make_conf(&c);
	assert_int_equal(c.n, 3);
	assert_int_equal(raft_config_voters(&c), 2);
	assert_int_equal(raft_config_add(&c, 2, RAFT_VOTER, "x"), RAFT_EINVAL); /* duplicate */
	assert_int_equal(raft_config_add(&c, 0, RAFT_VOTER, "x"), RAFT_EINVAL);
	assert_int_equal(raft_config_add(&c, 9, 7, "x"), RAFT_EINVAL);
	char big[RAFT_ADDR_MAX + 1];
	memset(big, 'a', sizeof(big) - 1);
	big[RAFT_ADDR_MAX] = 0;
	assert_int_equal(raft_config_add(&c, 9, RAFT_VOTER, big), RAFT_EINVAL);
	assert_non_null(raft_config_get(&c, 77));
	assert_int_equal(raft_config_get(&c, 77)->role, RAFT_LEARNER);
	assert_int_equal(raft_config_remove(&c, 5), RAFT_ENOTFOUND);
	assert_int_equal(raft_config_remove(&c, 1), RAFT_OK);
	assert_null(raft_config_get(&c, 1));
	assert_string_equal(raft_config_get(&c, 2)->address, "http://10.0.0.2:7001");
	struct raft_config d;
	assert_int_equal(raft_config_copy(&c, &d), RAFT_OK);
	raft_config_free(&c);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.servers[1].id, 77);
	raft_config_free(&d);
	raft_config_free(&d); /* safe on a freed (zeroed) config */
}

static void test_encode_roundtrip(void **state)
{
	(void)state;
	struct raft_config c, d;
	make_conf(&c);
	struct raft_buf b;
	assert_int_equal(raft_config_encode(&c, &b), RAFT_OK);
	/* version 1, n=3, then 3 servers of 8+1+2+len bytes */
	assert_int_equal(b.len, 1 + 4 + (11 + 20) + (11 + 20) + 11);
	assert_int_equal(((uint8_t *)b.base)[0], 1);
	assert_int_equal(raft_config_decode(b.base, b.len, &d), RAFT_OK);
	assert_int_equal(d.n, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(d.servers[i].id, c.servers[i].id);
		assert_int_equal(d.servers[i].role, c.servers[i].role);
		assert_string_equal(d.servers[i].address, c.servers[i].address);
	}
	raft_config_free(&d);
	/* An empty configuration encodes too. */
	struct raft_config e = { 0 };
	struct raft_buf eb;
	assert_int_equal(raft_config_encode(&e, &eb), RAFT_OK);
	assert_int_equal(raft_config_decode(eb.base, eb.len, &d), RAFT_OK);
	assert_int_equal(d.n, 0);
	free(eb.base);
	raft_config_free(&c);
	free(b.base);
}

static void test_decode_rejects_malformed(void **state)
{
	(void)state;
	struct raft_config c, d;
	make_conf(&c);
	struct raft_buf b;
	assert_int_equal(raft_config_encode(&c, &b), RAFT_OK);
	uint8_t *p = b.base;
	/* Every truncation is rejected, never read past. */
	for (size_t len = 0; len < b.len; len++) {
		uint8_t *t = malloc(len ? len : 1);
		memcpy(t, p, len);
		assert_int_equal(raft_config_decode(t, len, &d), RAFT_ECORRUPT);
		assert_null(d.servers);
		free(t);
	}
	/* Trailing garbage. */
	uint8_t *g = malloc(b.len + 1);
	memcpy(g, p, b.len);
	g[b.len] = 0;
	assert_int_equal(raft_config_decode(g, b.len + 1, &d), RAFT_ECORRUPT);
	/* Unknown version. */
	memcpy(g, p, b.len);
	g[0] = 2;
	assert_int_equal(raft_config_decode(g, b.len, &d), RAFT_ECORRUPT);
	/* Absurd server count. */
	memcpy(g, p, b.len);
	g[4] = 0x7f;
	assert_int_equal(raft_config_decode(g, b.len, &d), RAFT_ECORRUPT);
	/* Bad role of the first server (offset 1+4+8). */
	memcpy(g, p, b.len);
	g[13] = 9;
	assert_int_equal(raft_config_decode(g, b.len, &d), RAFT_ECORRUPT);
	/* Server id 0. */
	memcpy(g, p, b.len);
	memset(g + 5, 0, 8);
	assert_int_equal(raft_config_decode(g, b.len, &d), RAFT_ECORRUPT);
	/* Duplicate id: second server gets the first one's id. */
	memcpy(g, p, b.len);
	memcpy(g + 5 + 31, g + 5, 8);
	assert_int_equal(raft_config_decode(g, b.len, &d), RAFT_ECORRUPT);
	/* A NUL inside an address. */
	memcpy(g, p, b.len);
	g[5 + 11 + 3] = 0;
	assert_int_equal(raft_config_decode(g, b.len, &d), RAFT_ECORRUPT);
	/* Address length beyond the buffer. */
	memcpy(g, p, b.len);
	g[5 + 9] = 0xff;
	g[5 + 10] = 0xff;
	assert_int_equal(raft_config_decode(g, b.len, &d), RAFT_ECORRUPT);
	assert_int_equal(raft_config_decode(NULL, 0, &d), RAFT_ECORRUPT);
	/* Every single-byte change either decodes to something valid or is
	 * rejected cleanly (run under ASan, this is a small exhaustive fuzz). */
	for (size_t i = 0; i < b.len; i++) {
		for (unsigned v = 0; v < 256; v += 7) {
			memcpy(g, p, b.len);
			g[i] = (uint8_t)v;
			int rc = raft_config_decode(g, b.len, &d);
			assert_true(rc == RAFT_OK || rc == RAFT_ECORRUPT);
			if (rc == RAFT_OK)
				raft_config_free(&d);
		}
	}
	free(g);
	free(b.base);
	raft_config_free(&c);
}

static void test_msg_copy(void **state)
{
	(void)state;
	char d1[] = "hello", d2[] = "";
	struct raft_entry es[2] = {
		{ .term = 3, .type = RAFT_ENTRY_COMMAND, .buf = { d1, 5 } },
		{ .term = 3, .type = RAFT_ENTRY_NOOP, .buf = { d2, 0 } },
	};
	struct raft_msg m = { .type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 3 };
	m.append.prev_index = 4;
	m.append.n_entries = 2;
	m.append.entries = es;
	struct raft_msg c;
	assert_int_equal(raft_msg_copy(&m, &c), RAFT_OK);
	assert_ptr_not_equal(c.append.entries, es);
	assert_int_equal(c.append.n_entries, 2);
	assert_memory_equal(c.append.entries[0].buf.base, "hello", 5);
	assert_int_equal(c.append.entries[1].type, RAFT_ENTRY_NOOP);
	d1[0] = 'j'; /* the copy is independent */
	assert_memory_equal(c.append.entries[0].buf.base, "hello", 5);
	raft_msg_release(&c);

	struct raft_msg s = { .type = RAFT_MSG_SNAPSHOT, .from = 1, .to = 2, .term = 3 };
	make_conf(&s.snapshot.config);
	s.snapshot.data.base = d1;
	s.snapshot.data.len = 5;
	assert_int_equal(raft_msg_copy(&s, &c), RAFT_OK);
	assert_int_equal(c.snapshot.config.n, 3);
	assert_ptr_not_equal(c.snapshot.config.servers, s.snapshot.config.servers);
	assert_memory_equal(c.snapshot.data.base, "jello", 5);
	raft_msg_release(&c);
	raft_config_free(&s.snapshot.config);
}

static void test_strings(void **state)
{
	(void)state;
	for (int rc = 0; rc >= -12; rc--)
		assert_non_null(raft_strerror(rc));
	assert_string_equal(raft_role_name(RAFT_LEADER), "leader");
	assert_string_equal(raft_role_name(RAFT_CANDIDATE), "candidate");
	assert_null(raft_mutant_name()); /* the production library */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_ops),
		cmocka_unit_test(test_encode_roundtrip),
		cmocka_unit_test(test_decode_rejects_malformed),
		cmocka_unit_test(test_msg_copy),
		cmocka_unit_test(test_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
