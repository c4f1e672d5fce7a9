/* test_wal.c — the raftnode WAL and snapshot files: round trips, truncation,
 * votes, rotation and compaction, torn-tail recovery, corruption refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#include "raftnode/server/srv_snap.h"
#include "raftnode/server/srv_wal.h"

struct fx {
	char dir[256];
	char wal[300];
	int notices;
	char last_notice[512];
};

static void notice(void *ud, const char *msg)
{
	struct fx *f = ud;
	f->notices++;
	snprintf(f->last_notice, sizeof f->last_notice, "%s", msg);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/test_wal.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->wal, sizeof f->wal, "%s/wal", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct srv_wal *open_wal_t(struct fx *f, raft_index snap, raft_term snap_term, struct srv_wal_replay *st,
                                   size_t seg)
{
	struct srv_wal_opts o = {.dir = f->wal, .fsync = false, .segment_bytes = seg, .notice = notice, .notice_ud = f};
	struct srv_wal *w = NULL;
	char err[512];
	int rc = srv_wal_open(&w, &o, snap, snap_term, st, err, sizeof err);
	if (rc != 0)
		fail_msg("srv_wal_open: %s", err);
	return w;
}

/* Most tests write every entry with term 1 before their snapshot. */
static struct srv_wal *open_wal(struct fx *f, raft_index snap, struct srv_wal_replay *st, size_t seg)
{
	return open_wal_t(f, snap, snap ? 1 : 0, st, seg);
}

static int try_open(struct fx *f, raft_index snap, char *err, size_t errlen)
{
	struct srv_wal_opts o = {.dir = f->wal, .fsync = false, .notice = notice, .notice_ud = f};
	struct srv_wal *w = NULL;
	struct srv_wal_replay st;
	int rc = srv_wal_open(&w, &o, snap, snap ? 1 : 0, &st, err, errlen);
	if (rc == 0) {
		srv_wal_replay_free(&st);
		srv_wal_close(w);
	}
	return rc;
}

/* Append entries [first, first+n) with term t and payload "e<index>". */
static void put(struct srv_wal *w, raft_index first, unsigned n, raft_term t)
{
	struct raft_entry e[64];
	char bufs[64][32];
	assert_true(n <= 64);
	for (unsigned i = 0; i < n; i++) {
		snprintf(bufs[i], sizeof bufs[i], "e%llu", (unsigned long long)(first + i));
		e[i].term = t;
		e[i].type = RAFT_ENTRY_COMMAND;
		e[i].buf.base = bufs[i];
		e[i].buf.len = strlen(bufs[i]);
	}
	char err[256];
	assert_int_equal(srv_wal_append(w, first, e, n, err, sizeof err), 0);
}

static void sync_(struct srv_wal *w, raft_index want)
{
	raft_index d;
	char err[256];
	assert_int_equal(srv_wal_sync(w, &d, err, sizeof err), 0);
	assert_int_equal(d, want);
}

static void check_entry(const struct srv_wal_replay *st, raft_index idx, raft_term t)
{
	assert_true(idx >= st->first && idx < st->first + st->n);
	const struct raft_entry *e = &st->entries[idx - st->first];
	char want[32];
	snprintf(want, sizeof want, "e%llu", (unsigned long long)idx);
	assert_int_equal(e->term, t);
	assert_int_equal(e->buf.len, strlen(want));
	assert_memory_equal(e->buf.base, want, e->buf.len);
}

static char *only_segment(struct fx *f)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/wal-0000000000000000.log", f->wal);
	return path;
}

static off_t file_size(const char *p)
{
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	return st.st_size;
}

static void test_roundtrip(void **state)
{
	struct fx *f = *state;
	struct srv_wal_replay st;
	struct srv_wal *w = open_wal(f, 0, &st, 0);
	assert_int_equal(st.n, 0);
	assert_int_equal(st.first, 1);
	char err[256];
	assert_int_equal(srv_wal_set_vote(w, 3, 2, err, sizeof err), 0);
	put(w, 1, 10, 3);
	assert_true(srv_wal_pending(w));
	sync_(w, 10);
	assert_false(srv_wal_pending(w));
	uint64_t syncs, recs;
	srv_wal_stats(w, &syncs, &recs);
	assert_int_equal(recs, 11); /* vote + 10 entries, in 2 syncs */
	assert_int_equal(syncs, 2);
	srv_wal_close(w);
	srv_wal_replay_free(&st);

	w = open_wal(f, 0, &st, 0);
	assert_int_equal(st.term, 3);
	assert_int_equal(st.vote, 2);
	assert_int_equal(st.n, 10);
	for (raft_index i = 1; i <= 10; i++)
		check_entry(&st, i, 3);
	assert_int_equal(srv_wal_last_index(w), 10);
	assert_int_equal(f->notices, 0);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
}

static void test_truncate_and_gap(void **state)
{
	struct fx *f = *state;
	struct srv_wal_replay st;
	struct srv_wal *w = open_wal(f, 0, &st, 0);
	put(w, 1, 10, 1);
	put(w, 6, 2, 2); /* overwrites 6.. : log is 1..7 */
	sync_(w, 7);
	char err[256];
	struct raft_entry e = {.term = 2, .type = RAFT_ENTRY_NOOP};
	assert_int_not_equal(srv_wal_append(w, 9, &e, 1, err, sizeof err), 0); /* gap after 7 */
	assert_non_null(strstr(err, "gap"));
	srv_wal_close(w);
	srv_wal_replay_free(&st);
	w = open_wal(f, 0, &st, 0);
	assert_int_equal(st.n, 7);
	check_entry(&st, 5, 1);
	check_entry(&st, 6, 2);
	check_entry(&st, 7, 2);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
}

static void test_rotation_compaction_snapshot(void **state)
{
	struct fx *f = *state;
	struct srv_wal_replay st;
	struct srv_wal *w = open_wal(f, 0, &st, 4096);
	char err[256];
	assert_int_equal(srv_wal_set_vote(w, 7, 1, err, sizeof err), 0);
	for (raft_index i = 1; i <= 640; i += 64) {
		put(w, i, 64, 7);
		sync_(w, i + 63);
	}
	unsigned segs = srv_wal_segments(w);
	assert_true(segs >= 4);
	assert_int_equal(srv_wal_compact(w, 499, err, sizeof err), 0);
	assert_true(srv_wal_segments(w) < segs);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
	/* A snapshot at 500 covers what was deleted; the rest follows it. */
	w = open_wal_t(f, 500, 7, &st, 4096);
	assert_int_equal(st.first, 501);
	assert_int_equal(st.n, 140);
	assert_int_equal(st.term, 7); /* the vote survives: every segment starts with it */
	assert_int_equal(st.vote, 1);
	check_entry(&st, 640, 7);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
	/* Without that snapshot the deleted entries are missing: refuse. */
	assert_int_not_equal(try_open(f, 0, err, sizeof err), 0);
	assert_non_null(strstr(err, "missing entries"));
}

static void test_reset_after_install(void **state)
{
	struct fx *f = *state;
	struct srv_wal_replay st;
	struct srv_wal *w = open_wal(f, 0, &st, 0);
	put(w, 1, 5, 1);
	char err[256];
	assert_int_equal(srv_wal_reset(w, 100, 3, err, sizeof err), 0);
	put(w, 101, 3, 4);
	sync_(w, 103);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
	w = open_wal_t(f, 100, 3, &st, 0);
	assert_int_equal(st.first, 101);
	assert_int_equal(st.n, 3);
	check_entry(&st, 103, 4);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
}

/* A snapshot (taken, or installed from the leader) got ahead of what the
 * WAL made durable, then a crash: the log continues from the snapshot and
 * a later restart must not see a gap. Found by the integration test. */
static void test_snapshot_ahead_of_wal(void **state)
{
	struct fx *f = *state;
	struct srv_wal_replay st;
	struct srv_wal *w = open_wal(f, 0, &st, 0);
	put(w, 1, 60, 1);
	put(w, 61, 5, 1);
	sync_(w, 65);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
	w = open_wal(f, 80, &st, 0); /* snapshot at 80 */
	assert_int_equal(st.n, 0);
	assert_int_equal(st.first, 81);
	assert_int_equal(srv_wal_last_index(w), 80);
	put(w, 81, 3, 2);
	sync_(w, 83);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
	w = open_wal(f, 80, &st, 0);
	assert_int_equal(st.first, 81);
	assert_int_equal(st.n, 3);
	check_entry(&st, 83, 2);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
	/* Also when the WAL ends before a later snapshot (term 3 at 90). */
	w = open_wal_t(f, 90, 3, &st, 0);
	assert_int_equal(st.n, 0);
	put(w, 91, 1, 3);
	sync_(w, 91);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
	w = open_wal_t(f, 90, 3, &st, 0);
	assert_int_equal(st.n, 1);
	check_entry(&st, 91, 3);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
}

static struct srv_wal *open_async(struct fx *f, struct srv_wal_replay *st)
{
	struct srv_wal_opts o = {.dir = f->wal, .fsync = true, .segment_bytes = 4096, .notice = notice, .notice_ud = f,
	                         .async = true};
	struct srv_wal *w = NULL;
	char err[512];
	if (srv_wal_open(&w, &o, 0, 0, st, err, sizeof err) != 0)
		fail_msg("srv_wal_open: %s", err);
	return w;
}

/* Wait (bounded) for the worker's notification and poll it. */
static void await_batch(struct srv_wal *w)
{
	char err[256];
	for (int i = 0; i < 1000; i++) {
		fd_set rd;
		FD_ZERO(&rd);
		FD_SET(srv_wal_notify_fd(w), &rd);
		struct timeval tv = {0, 10000};
		select(srv_wal_notify_fd(w) + 1, &rd, NULL, NULL, &tv);
		int rc = srv_wal_poll_done(w, err, sizeof err);
		assert_int_not_equal(rc, -1);
		if (rc == 1)
			return;
	}
	fail_msg("the sync thread never finished a batch");
}

static void test_background_sync(void **state)
{
	struct fx *f = *state;
	struct srv_wal_replay st;
	struct srv_wal *w = open_async(f, &st);
	char err[256];
	assert_false(srv_wal_busy(w));
	assert_int_equal(srv_wal_sync_start(w, err, sizeof err), 0); /* nothing buffered: no-op */
	assert_false(srv_wal_busy(w));
	put(w, 1, 10, 1);
	assert_int_equal(srv_wal_sync_start(w, err, sizeof err), 0);
	assert_true(srv_wal_busy(w));
	put(w, 11, 5, 1); /* buffered while the batch is in flight */
	assert_int_equal(srv_wal_sync_start(w, err, sizeof err), 0); /* in flight: no-op */
	await_batch(w);
	assert_int_equal(srv_wal_durable_index(w), 10);
	assert_false(srv_wal_busy(w));
	assert_int_equal(srv_wal_sync_start(w, err, sizeof err), 0);
	/* A vote while a batch is in flight waits for it: order is kept. */
	put(w, 11, 2, 2); /* truncates the 11..15 batch's tail: rewrites 11, 12 */
	assert_int_equal(srv_wal_set_vote(w, 2, 1, err, sizeof err), 0);
	assert_int_equal(srv_wal_durable_index(w), 12);
	assert_int_equal(srv_wal_poll_done(w, err, sizeof err), 0); /* already accounted for */
	/* Many rotations through the thread. */
	for (raft_index i = 13; i <= 400; i += 16) {
		put(w, i, 16, 2);
		assert_int_equal(srv_wal_sync_start(w, err, sizeof err), 0);
		await_batch(w);
	}
	assert_int_equal(srv_wal_durable_index(w), 412);
	assert_true(srv_wal_segments(w) > 2);
	put(w, 413, 3, 2);
	assert_int_equal(srv_wal_sync_start(w, err, sizeof err), 0);
	srv_wal_close(w); /* waits for the batch in flight */
	srv_wal_replay_free(&st);
	w = open_wal(f, 0, &st, 0);
	assert_int_equal(st.n, 415);
	assert_int_equal(st.term, 2);
	check_entry(&st, 10, 1);
	check_entry(&st, 11, 2);
	check_entry(&st, 12, 2);
	check_entry(&st, 415, 2);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
}

/* A snapshot installed (or taken) past what was synced, then a crash: the
 * durable log runs on another branch after the snapshot's index. Its
 * entries must not be loaded after the snapshot, and the log restarts. */
static void test_log_on_another_branch(void **state)
{
	struct fx *f = *state;
	struct srv_wal_replay st;
	struct srv_wal *w = open_wal(f, 0, &st, 0);
	put(w, 1, 20, 1); /* an old leader's branch, term 1 */
	sync_(w, 20);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
	w = open_wal_t(f, 15, 2, &st, 0); /* the snapshot says entry 15 has term 2 */
	assert_int_equal(st.n, 0);
	assert_int_equal(st.first, 16);
	assert_int_equal(f->notices, 1);
	assert_non_null(strstr(f->last_notice, "do not continue the snapshot"));
	assert_int_equal(srv_wal_last_index(w), 15);
	put(w, 16, 2, 2);
	sync_(w, 17);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
	w = open_wal_t(f, 15, 2, &st, 0);
	assert_int_equal(st.n, 2);
	check_entry(&st, 17, 2);
	assert_int_equal(f->notices, 1); /* consistent now: nothing dropped */
	srv_wal_close(w);
	srv_wal_replay_free(&st);
	/* The same log with a snapshot of the right term keeps its entries. */
	w = open_wal_t(f, 16, 2, &st, 0);
	assert_int_equal(st.n, 1);
	check_entry(&st, 17, 2);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
}

/* A RESET keeps its segment through compaction below the snapshot. */
static void test_reset_survives_compaction(void **state)
{
	struct fx *f = *state;
	struct srv_wal_replay st;
	struct srv_wal *w = open_wal(f, 0, &st, 4096);
	put(w, 1, 64, 1);
	sync_(w, 64);
	char err[256];
	assert_int_equal(srv_wal_reset(w, 500, 4, err, sizeof err), 0);
	sync_(w, 500);
	for (raft_index i = 501; i <= 700; i += 50) {
		put(w, i, 50, 4);
		sync_(w, i + 49);
	}
	assert_int_equal(srv_wal_compact(w, 499, err, sizeof err), 0);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
	w = open_wal_t(f, 500, 4, &st, 4096);
	assert_int_equal(st.first, 501);
	assert_int_equal(st.n, 200);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
}

static void write_some(struct fx *f, unsigned n)
{
	struct srv_wal_replay st;
	struct srv_wal *w = open_wal(f, 0, &st, 0);
	put(w, 1, n, 1);
	sync_(w, n);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
}

static void test_torn_partial_record(void **state)
{
	struct fx *f = *state;
	write_some(f, 20);
	const char *seg = only_segment(f);
	off_t size = file_size(seg);
	/* A crash mid-write: the first record's header and 4 payload bytes. */
	int fd = open(seg, O_RDWR);
	unsigned char buf[20];
	assert_int_equal(pread(fd, buf, 20, 8), 20);
	assert_int_equal(pwrite(fd, buf, 20, size), 20);
	close(fd);
	struct srv_wal_replay st;
	struct srv_wal *w = open_wal(f, 0, &st, 0);
	assert_int_equal(f->notices, 1);
	assert_non_null(strstr(f->last_notice, "torn record"));
	assert_int_equal(st.n, 20);
	assert_int_equal(file_size(seg), size);
	put(w, 21, 1, 1); /* and it keeps working after the cut */
	sync_(w, 21);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
	w = open_wal(f, 0, &st, 0);
	assert_int_equal(st.n, 21);
	assert_int_equal(f->notices, 1);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
}

static void test_torn_truncated(void **state)
{
	struct fx *f = *state;
	write_some(f, 20);
	const char *seg = only_segment(f);
	off_t size = file_size(seg);
	for (int cut = 1; cut < 20; cut += 3) {
		assert_int_equal(truncate(seg, size - cut), 0);
		struct srv_wal_replay st;
		struct srv_wal *w = open_wal(f, 0, &st, 0);
		assert_int_equal(st.n, 19); /* only the cut record is gone */
		/* write the record again for the next round */
		put(w, 20, 1, 1);
		sync_(w, 20);
		srv_wal_close(w);
		srv_wal_replay_free(&st);
		size = file_size(seg);
	}
	/* A bad checksum in the last record followed by zeros is torn too. */
	int fd = open(seg, O_RDWR);
	unsigned char c;
	assert_int_equal(pread(fd, &c, 1, size - 1), 1);
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, size - 1), 1);
	unsigned char zeros[100] = {0};
	assert_int_equal(pwrite(fd, zeros, sizeof zeros, size), (ssize_t)sizeof zeros);
	close(fd);
	struct srv_wal_replay st;
	struct srv_wal *w = open_wal(f, 0, &st, 0);
	assert_int_equal(st.n, 19);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
}

static void test_corrupt_middle(void **state)
{
	struct fx *f = *state;
	write_some(f, 40);
	const char *seg = only_segment(f);
	off_t size = file_size(seg);
	for (off_t off = 8; off < size - 100; off += 37) {
		int fd = open(seg, O_RDWR);
		unsigned char c;
		assert_int_equal(pread(fd, &c, 1, off), 1);
		unsigned char x = c ^ 0x01;
		assert_int_equal(pwrite(fd, &x, 1, off), 1);
		char err[512];
		assert_int_not_equal(try_open(f, 0, err, sizeof err), 0);
		assert_non_null(strstr(err, "corrupt WAL"));
		assert_non_null(strstr(err, "checksum mismatch"));
		assert_int_equal(file_size(seg), size); /* nothing was cut */
		assert_int_equal(pwrite(fd, &c, 1, off), 1);
		close(fd);
	}
	assert_int_equal(f->notices, 0);
}

static void test_missing_segment(void **state)
{
	struct fx *f = *state;
	struct srv_wal_replay st;
	struct srv_wal *w = open_wal(f, 0, &st, 4096);
	for (raft_index i = 1; i <= 320; i += 64) {
		put(w, i, 64, 1);
		sync_(w, i + 63);
	}
	assert_true(srv_wal_segments(w) >= 3);
	srv_wal_close(w);
	srv_wal_replay_free(&st);
	char path[512], err[512];
	snprintf(path, sizeof path, "%s/wal-0000000000000001.log", f->wal);
	assert_int_equal(unlink(path), 0);
	assert_int_not_equal(try_open(f, 0, err, sizeof err), 0);
	assert_non_null(strstr(err, "missing"));
}

static void test_snapshot_files(void **state)
{
	struct fx *f = *state;
	struct raft_server servers[2] = {{.id = 1, .role = RAFT_VOTER, .address = "127.0.0.1:1 127.0.0.1:2"},
	                                 {.id = 4, .role = RAFT_LEARNER, .address = "10.0.0.4:1 10.0.0.4:2"}};
	struct raft_snapshot_meta m = {.last_index = 42, .last_term = 3, .config_index = 7,
	                               .config = {.n = 2, .servers = servers}};
	char err[512];
	struct srv_snap s;
	bool found = true;
	assert_int_equal(srv_snap_load(f->dir, &s, &found, err, sizeof err), 0);
	assert_false(found);
	assert_int_equal(srv_snap_save(f->dir, &m, "{\"a\":1}", 7, false, err, sizeof err), 0);
	m.last_index = 50;
	assert_int_equal(srv_snap_save(f->dir, &m, "{\"a\":2}", 7, false, err, sizeof err), 0);
	assert_int_equal(srv_snap_load(f->dir, &s, &found, err, sizeof err), 0);
	assert_true(found);
	assert_int_equal(s.meta.last_index, 50);
	assert_int_equal(s.meta.last_term, 3);
	assert_int_equal(s.meta.config_index, 7);
	assert_int_equal(s.meta.config.n, 2);
	assert_int_equal(s.meta.config.servers[1].id, 4);
	assert_int_equal(s.meta.config.servers[1].role, RAFT_LEARNER);
	assert_string_equal(s.meta.config.servers[1].address, "10.0.0.4:1 10.0.0.4:2");
	assert_int_equal(s.len, 7);
	assert_memory_equal(s.data, "{\"a\":2}", 7);
	srv_snap_free(&s);
	char old[512];
	snprintf(old, sizeof old, "%s/snap-000000000000002a.snap", f->dir);
	assert_int_not_equal(access(old, F_OK), 0); /* the older one was deleted */
	/* Any flipped byte is detected. */
	char path[512];
	snprintf(path, sizeof path, "%s/snap-0000000000000032.snap", f->dir);
	off_t size = file_size(path);
	for (off_t off = 0; off < size; off++) {
		int fd = open(path, O_RDWR);
		unsigned char c, x;
		assert_int_equal(pread(fd, &c, 1, off), 1);
		x = c ^ 0x10;
		assert_int_equal(pwrite(fd, &x, 1, off), 1);
		assert_int_not_equal(srv_snap_load(f->dir, &s, &found, err, sizeof err), 0);
		assert_non_null(strstr(err, "corrupt snapshot"));
		assert_int_equal(pwrite(fd, &c, 1, off), 1);
		close(fd);
	}
}

static void test_scan_garbage(void **state)
{
	/* The reader never crashes on arbitrary bytes (the fuzzer does more). */
	uint8_t buf[512];
	uint32_t x = 12345;
	for (int round = 0; round < 200; round++) {
		memcpy(buf, SRV_WAL_MAGIC, 8);
		for (size_t i = 8; i < sizeof buf; i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (uint8_t)(x >> 16);
		}
		struct srv_wal_replay rp = {0};
		size_t valid;
		char err[256];
		int rc = srv_wal_scan(buf, (size_t)(8 + round * 2), round % 2, &rp, &valid, err, sizeof err);
		assert_true(rc == -1 || rc == 1 || rc == 0);
		srv_wal_replay_free(&rp);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_truncate_and_gap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation_compaction_snapshot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_after_install, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_snapshot_ahead_of_wal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_background_sync, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_log_on_another_branch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_survives_compaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_partial_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_truncated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_middle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_segment, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_snapshot_files, setup, teardown),
	    cmocka_unit_test(test_scan_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
