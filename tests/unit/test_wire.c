/* test_wire.c — peer frame encoding: every message type round-trips, and
 * truncated, oversized or malformed frames are refused without crashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "raftnode/server/srv_wire.h"

static struct raft_entry entries[3] = {
    {.term = 5, .type = RAFT_ENTRY_COMMAND, .buf = {"hello", 5}},
    {.term = 5, .type = RAFT_ENTRY_NOOP, .buf = {NULL, 0}},
    {.term = 6, .type = RAFT_ENTRY_CONFIG, .buf = {"\x01\x02\x03", 3}},
};
static struct raft_server servers[2] = {{.id = 1, .role = RAFT_VOTER, .address = "127.0.0.1:7001 127.0.0.1:8001"},
                                        {.id = 9, .role = RAFT_LEARNER, .address = ""}};

static struct raft_msg sample(uint8_t type)
{
	struct raft_msg m;
	memset(&m, 0, sizeof m);
	m.type = type;
	m.from = 2;
	m.to = 3;
	m.term = 0x0102030405060708ull;
	switch (type) {
	case RAFT_MSG_VOTE:
		m.vote.last_log_index = 77;
		m.vote.last_log_term = 4;
		m.vote.pre_vote = true;
		m.vote.transfer = true;
		break;
	case RAFT_MSG_VOTE_RESULT:
		m.vote_result.granted = true;
		break;
	case RAFT_MSG_APPEND:
		m.append.prev_index = 10;
		m.append.prev_term = 4;
		m.append.commit = 9;
		m.append.heartbeat_seq = 99;
		m.append.n_entries = 3;
		m.append.entries = entries;
		break;
	case RAFT_MSG_APPEND_RESULT:
		m.append_result.success = false;
		m.append_result.last_index = 12;
		m.append_result.rejected = 11;
		m.append_result.conflict_index = 8;
		m.append_result.conflict_term = 3;
		m.append_result.heartbeat_seq = 98;
		break;
	case RAFT_MSG_SNAPSHOT:
		m.snapshot.last_index = 100;
		m.snapshot.last_term = 6;
		m.snapshot.config_index = 90;
		m.snapshot.config.n = 2;
		m.snapshot.config.servers = servers;
		m.snapshot.data.base = "{\"k\":1}";
		m.snapshot.data.len = 7;
		break;
	}
	return m;
}

static void same(const struct raft_msg *a, const struct raft_msg *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->from, b->from);
	assert_int_equal(a->to, b->to);
	assert_int_equal(a->term, b->term);
	switch (a->type) {
	case RAFT_MSG_VOTE:
		assert_int_equal(a->vote.last_log_index, b->vote.last_log_index);
		assert_int_equal(a->vote.last_log_term, b->vote.last_log_term);
		assert_int_equal(a->vote.pre_vote, b->vote.pre_vote);
		assert_int_equal(a->vote.transfer, b->vote.transfer);
		break;
	case RAFT_MSG_VOTE_RESULT:
		assert_int_equal(a->vote_result.granted, b->vote_result.granted);
		assert_int_equal(a->vote_result.pre_vote, b->vote_result.pre_vote);
		break;
	case RAFT_MSG_APPEND:
		assert_int_equal(a->append.prev_index, b->append.prev_index);
		assert_int_equal(a->append.prev_term, b->append.prev_term);
		assert_int_equal(a->append.commit, b->append.commit);
		assert_int_equal(a->append.heartbeat_seq, b->append.heartbeat_seq);
		assert_int_equal(a->append.n_entries, b->append.n_entries);
		for (unsigned i = 0; i < a->append.n_entries; i++) {
			assert_int_equal(a->append.entries[i].term, b->append.entries[i].term);
			assert_int_equal(a->append.entries[i].type, b->append.entries[i].type);
			assert_int_equal(a->append.entries[i].buf.len, b->append.entries[i].buf.len);
			if (a->append.entries[i].buf.len)
				assert_memory_equal(a->append.entries[i].buf.base, b->append.entries[i].buf.base,
				                    a->append.entries[i].buf.len);
		}
		break;
	case RAFT_MSG_APPEND_RESULT:
		assert_int_equal(a->append_result.success, b->append_result.success);
		assert_int_equal(a->append_result.last_index, b->append_result.last_index);
		assert_int_equal(a->append_result.rejected, b->append_result.rejected);
		assert_int_equal(a->append_result.conflict_index, b->append_result.conflict_index);
		assert_int_equal(a->append_result.conflict_term, b->append_result.conflict_term);
		assert_int_equal(a->append_result.heartbeat_seq, b->append_result.heartbeat_seq);
		break;
	case RAFT_MSG_SNAPSHOT:
		assert_int_equal(a->snapshot.last_index, b->snapshot.last_index);
		assert_int_equal(a->snapshot.last_term, b->snapshot.last_term);
		assert_int_equal(a->snapshot.config_index, b->snapshot.config_index);
		assert_int_equal(a->snapshot.config.n, b->snapshot.config.n);
		for (unsigned i = 0; i < a->snapshot.config.n; i++) {
			assert_int_equal(a->snapshot.config.servers[i].id, b->snapshot.config.servers[i].id);
			assert_int_equal(a->snapshot.config.servers[i].role, b->snapshot.config.servers[i].role);
			assert_string_equal(a->snapshot.config.servers[i].address, b->snapshot.config.servers[i].address);
		}
		assert_int_equal(a->snapshot.data.len, b->snapshot.data.len);
		assert_memory_equal(a->snapshot.data.base, b->snapshot.data.base, a->snapshot.data.len);
		break;
	}
}

static void test_roundtrip_all_types(void **state)
{
	for (uint8_t t = RAFT_MSG_VOTE; t <= RAFT_MSG_TIMEOUT_NOW; t++) {
		struct raft_msg m = sample(t);
		struct srv_buf b = {0};
		char err[256];
		assert_int_equal(srv_wire_encode(&m, &b, err, sizeof err), 0);
		size_t flen = 0;
		assert_int_equal(srv_wire_peek(b.p, b.len, &flen, err, sizeof err), 1);
		assert_int_equal(flen, b.len);
		struct srv_wire_frame f;
		assert_int_equal(srv_wire_decode(b.p + 4, b.len - 4, &f, err, sizeof err), 0);
		assert_int_equal(f.type, t);
		same(&m, &f.msg);
		srv_wire_frame_free(&f);
		/* Every proper prefix is "need more" for peek and an error for decode. */
		for (size_t cut = 0; cut < b.len; cut++) {
			assert_int_equal(srv_wire_peek(b.p, cut, &flen, err, sizeof err), 0);
			if (cut >= 4) {
				int rc = srv_wire_decode(b.p + 4, cut - 4, &f, err, sizeof err);
				assert_int_equal(rc, -1);
				assert_true(strlen(err) > 0);
			}
		}
		/* Trailing garbage is refused. */
		uint8_t extra = 0;
		srv_buf_append(&b, &extra, 1);
		assert_int_equal(srv_wire_decode(b.p + 4, b.len - 4, &f, err, sizeof err), -1);
		assert_non_null(strstr(err, "trailing"));
		srv_buf_free(&b);
	}
}

static void test_hello(void **state)
{
	struct srv_buf b = {0};
	char err[256];
	assert_int_equal(srv_wire_encode_hello(3, 4, "10.0.0.3:7001", &b, err, sizeof err), 0);
	struct srv_wire_frame f;
	assert_int_equal(srv_wire_decode(b.p + 4, b.len - 4, &f, err, sizeof err), 0);
	assert_int_equal(f.type, SRV_WIRE_HELLO);
	assert_int_equal(f.hello.from, 3);
	assert_int_equal(f.hello.to, 4);
	assert_string_equal(f.hello.addr, "10.0.0.3:7001");
	srv_wire_frame_free(&f);
	b.p[6] = 0; /* from = 0 (low byte; the id was 3) */
	assert_int_equal(srv_wire_decode(b.p + 4, b.len - 4, &f, err, sizeof err), -1);
	srv_buf_free(&b);
}

static void test_bad_headers(void **state)
{
	char err[256];
	struct srv_wire_frame f;
	size_t flen;
	uint8_t big[4] = {0xff, 0xff, 0xff, 0xff};
	assert_int_equal(srv_wire_peek(big, 4, &flen, err, sizeof err), -1);
	assert_non_null(strstr(err, "cap"));
	uint8_t tiny[5] = {1, 0, 0, 0, 1};
	assert_int_equal(srv_wire_peek(tiny, 5, &flen, err, sizeof err), -1);

	struct raft_msg m = sample(RAFT_MSG_VOTE);
	struct srv_buf b = {0};
	assert_int_equal(srv_wire_encode(&m, &b, err, sizeof err), 0);
	b.p[4] = 2; /* version */
	assert_int_equal(srv_wire_decode(b.p + 4, b.len - 4, &f, err, sizeof err), -1);
	assert_non_null(strstr(err, "version"));
	b.p[4] = 1;
	b.p[5] = 42; /* type */
	assert_int_equal(srv_wire_decode(b.p + 4, b.len - 4, &f, err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown type"));
	b.p[5] = RAFT_MSG_VOTE;
	b.p[b.len - 1] = 0x80; /* unknown flag bit */
	assert_int_equal(srv_wire_decode(b.p + 4, b.len - 4, &f, err, sizeof err), -1);
	assert_non_null(strstr(err, "flag"));
	srv_buf_free(&b);

	/* An append claiming 2^32-1 entries in a few bytes: refused before any
	 * allocation of that size. */
	m = sample(RAFT_MSG_APPEND);
	m.append.n_entries = 0;
	assert_int_equal(srv_wire_encode(&m, &b, err, sizeof err), 0);
	memset(b.p + b.len - 4, 0xff, 4);
	assert_int_equal(srv_wire_decode(b.p + 4, b.len - 4, &f, err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot fit"));
	srv_buf_free(&b);
}

static void test_config_rules(void **state)
{
	char err[256];
	struct raft_server dup[2] = {{.id = 1, .role = RAFT_VOTER}, {.id = 1, .role = RAFT_VOTER}};
	struct raft_config c = {.n = 2, .servers = dup};
	struct srv_buf b = {0};
	assert_int_equal(srv_wire_config_encode(&c, &b, err, sizeof err), 0);
	struct raft_config out;
	assert_int_equal(srv_wire_config_decode(b.p, b.len, &out, err, sizeof err), -1);
	assert_non_null(strstr(err, "duplicate"));
	srv_buf_free(&b);
	dup[1].id = 2;
	dup[1].role = 7;
	assert_int_equal(srv_wire_config_encode(&c, &b, err, sizeof err), 0);
	assert_int_equal(srv_wire_config_decode(b.p, b.len, &out, err, sizeof err), -1);
	assert_non_null(strstr(err, "role"));
	srv_buf_free(&b);
	dup[1].role = RAFT_LEARNER;
	assert_int_equal(srv_wire_config_encode(&c, &b, err, sizeof err), 0);
	assert_int_equal(srv_wire_config_decode(b.p, b.len, &out, err, sizeof err), 0);
	assert_int_equal(out.n, 2);
	free(out.servers);
	srv_buf_free(&b);
}

static void test_stream_of_frames(void **state)
{
	/* Several frames back to back are split correctly by peek. */
	struct srv_buf b = {0};
	char err[256];
	for (uint8_t t = RAFT_MSG_VOTE; t <= RAFT_MSG_TIMEOUT_NOW; t++) {
		struct raft_msg m = sample(t);
		assert_int_equal(srv_wire_encode(&m, &b, err, sizeof err), 0);
	}
	size_t off = 0, flen;
	uint8_t want = RAFT_MSG_VOTE;
	while (off < b.len) {
		assert_int_equal(srv_wire_peek(b.p + off, b.len - off, &flen, err, sizeof err), 1);
		struct srv_wire_frame f;
		assert_int_equal(srv_wire_decode(b.p + off + 4, flen - 4, &f, err, sizeof err), 0);
		assert_int_equal(f.type, want++);
		srv_wire_frame_free(&f);
		off += flen;
	}
	assert_int_equal(want, RAFT_MSG_TIMEOUT_NOW + 1);
	srv_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip_all_types),
	    cmocka_unit_test(test_hello),
	    cmocka_unit_test(test_bad_headers),
	    cmocka_unit_test(test_config_rules),
	    cmocka_unit_test(test_stream_of_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
