/* test_nem_lazyfs_cache.c — unit tests of the unsynced-data cache behind
 * rapat-lazyfs, on plain temporary files: targeted cases plus a seeded
 * random model check (current view vs durable view after every step). */
#include "nemesis/disk/nem_lazyfs_cache.h"

#include <fcntl.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

static char path[64];

static int fresh_file(const void *data, size_t len)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	if (len)
		assert_int_equal(pwrite(fd, data, len, 0), (ssize_t)len);
	return fd;
}

static size_t backing(uint8_t *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	ssize_t n = pread(fd, buf, cap, 0);
	assert_true(n >= 0);
	close(fd);
	return (size_t)n;
}

static off_t cached_size(struct nem_lf_cache *c, int fd)
{
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	nem_lf_fix_stat(c, &st);
	return st.st_size;
}

static void test_write_flush_drop(void **state)
{
	struct nem_lf_cache *c = nem_lf_cache_new();
	uint8_t orig[10000], buf[20000];
	for (size_t i = 0; i < sizeof orig; i++)
		orig[i] = (uint8_t)(i * 7);
	int fd = fresh_file(orig, sizeof orig);
	assert_int_equal(nem_lf_open(c, fd), 0);
	/* An unsynced patch: visible through the cache, not in the file. */
	assert_int_equal(nem_lf_write(c, fd, "hello", 5, 5000), 5);
	assert_int_equal(nem_lf_read(c, fd, buf, sizeof buf, 0), 10000);
	assert_memory_equal(buf, orig, 5000);
	assert_memory_equal(buf + 5000, "hello", 5);
	assert_memory_equal(buf + 5005, orig + 5005, 10000 - 5005);
	assert_int_equal(backing(buf, sizeof buf), 10000);
	assert_memory_equal(buf, orig, 10000);
	/* Crash: gone. */
	struct nem_lf_stats st;
	nem_lf_drop_all(c, &st);
	assert_int_equal(st.files, 1);
	assert_int_equal(st.dirty_bytes, NEM_LF_PAGE);
	assert_int_equal(nem_lf_read(c, fd, buf, sizeof buf, 0), 10000);
	assert_memory_equal(buf, orig, 10000);
	/* Write past the end and fsync: durable, byte exact. */
	assert_int_equal(nem_lf_write(c, fd, "tail", 4, 12000), 4);
	assert_int_equal(cached_size(c, fd), 12004);
	assert_int_equal(nem_lf_flush(c, fd, 1), 0);
	nem_lf_drop_all(c, &st);
	assert_int_equal(st.files, 0);
	assert_int_equal(backing(buf, sizeof buf), 12004);
	assert_memory_equal(buf, orig, 10000);
	for (int i = 10000; i < 12000; i++)
		assert_int_equal(buf[i], 0);
	assert_memory_equal(buf + 12000, "tail", 4);
	assert_int_equal(nem_lf_release(c, fd), 0);
	close(fd);
	nem_lf_cache_free(c);
}

static void test_truncate_semantics(void **state)
{
	struct nem_lf_cache *c = nem_lf_cache_new();
	uint8_t orig[9000], buf[16384];
	memset(orig, 'a', sizeof orig);
	int fd = fresh_file(orig, sizeof orig);
	/* Shrink then grow: the old bytes must not reappear. */
	assert_int_equal(nem_lf_truncate(c, fd, 100), 0);
	assert_int_equal(cached_size(c, fd), 100);
	assert_int_equal(nem_lf_truncate(c, fd, 9000), 0);
	assert_int_equal(nem_lf_read(c, fd, buf, sizeof buf, 0), 9000);
	for (int i = 0; i < 9000; i++)
		assert_int_equal(buf[i], i < 100 ? 'a' : 0);
	/* Durable file untouched until fsync. */
	assert_int_equal(backing(buf, sizeof buf), 9000);
	assert_int_equal(buf[5000], 'a');
	assert_int_equal(nem_lf_flush(c, fd, 0), 0);
	assert_int_equal(backing(buf, sizeof buf), 9000);
	for (int i = 0; i < 9000; i++)
		assert_int_equal(buf[i], i < 100 ? 'a' : 0);
	/* Punch a hole (unsynced), then lose it. */
	memset(orig, 'b', sizeof orig);
	assert_int_equal(nem_lf_write(c, fd, orig, 9000, 0), 9000);
	assert_int_equal(nem_lf_flush(c, fd, 0), 0);
	assert_int_equal(nem_lf_zero(c, fd, 10, 20), 0);
	assert_int_equal(nem_lf_read(c, fd, buf, 40, 0), 40);
	assert_int_equal(buf[9], 'b');
	assert_int_equal(buf[10], 0);
	assert_int_equal(buf[29], 0);
	assert_int_equal(buf[30], 'b');
	struct nem_lf_stats st;
	nem_lf_drop_all(c, &st);
	assert_int_equal(nem_lf_read(c, fd, buf, 40, 0), 40);
	assert_int_equal(buf[15], 'b');
	close(fd);
	nem_lf_cache_free(c);
}

static void test_unlinked_forgotten(void **state)
{
	struct nem_lf_cache *c = nem_lf_cache_new();
	struct nem_lf_stats st;
	int fd = fresh_file(NULL, 0);
	struct stat sb;
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(nem_lf_open(c, fd), 0);
	assert_int_equal(nem_lf_write(c, fd, "x", 1, 0), 1);
	assert_int_equal(unlink(path), 0);
	/* Still open: the data stays readable. */
	nem_lf_gc(c, sb.st_dev, sb.st_ino);
	nem_lf_get_stats(c, &st);
	assert_int_equal(st.files, 1);
	/* Last close of an unlinked file: forgotten. */
	assert_int_equal(nem_lf_release(c, fd), 0);
	nem_lf_get_stats(c, &st);
	assert_int_equal(st.files, 0);
	close(fd);
	/* Closed, then unlinked: forgotten by gc. */
	fd = fresh_file(NULL, 0);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(nem_lf_write(c, fd, "y", 1, 0), 1);
	close(fd);
	assert_int_equal(unlink(path), 0);
	nem_lf_get_stats(c, &st);
	assert_int_equal(st.files, 1);
	nem_lf_gc(c, sb.st_dev, sb.st_ino);
	nem_lf_get_stats(c, &st);
	assert_int_equal(st.files, 0);
	nem_lf_cache_free(c);
}

static void test_flush_all(void **state)
{
	struct nem_lf_cache *c = nem_lf_cache_new();
	uint8_t buf[64];
	int fd = fresh_file(NULL, 0);
	assert_int_equal(nem_lf_write(c, fd, "durable", 7, 3), 7);
	close(fd); /* nobody has it open: sync must still reach it */
	assert_int_equal(nem_lf_flush_all(c), 0);
	assert_int_equal(backing(buf, sizeof buf), 10);
	assert_memory_equal(buf, "\0\0\0durable", 10);
	nem_lf_cache_free(c);
}

static void test_drop_partial(void **state)
{
	enum { PAGES = 64 };
	static uint8_t orig[PAGES * NEM_LF_PAGE], neu[PAGES * NEM_LF_PAGE + 100], buf[sizeof neu];
	memset(orig, 'o', sizeof orig);
	memset(neu, 'n', sizeof neu);
	const double ps[] = { 0.0, 1.0, 0.5 };
	for (int k = 0; k < 3; k++) {
		struct nem_lf_cache *c = nem_lf_cache_new();
		int fd = fresh_file(orig, sizeof orig);
		/* Overwrite every page and grow by 100 bytes, all unsynced. */
		assert_int_equal(nem_lf_write(c, fd, neu, sizeof neu, 0), (ssize_t)sizeof neu);
		struct nem_lf_stats st;
		uint64_t kept = 0;
		assert_int_equal(nem_lf_drop_partial(c, ps[k], 9, &st, &kept), 0);
		assert_int_equal(st.files, 1);
		assert_int_equal(st.dirty_bytes, (PAGES + 1) * NEM_LF_PAGE);
		size_t n = backing(buf, sizeof buf);
		/* Each page is entirely old or entirely new; the count matches. */
		uint64_t new_pages = 0;
		for (size_t pg = 0; pg < PAGES; pg++) {
			bool is_new = buf[pg * NEM_LF_PAGE] == 'n';
			assert_memory_equal(buf + pg * NEM_LF_PAGE, is_new ? neu : orig, NEM_LF_PAGE);
			new_pages += is_new;
		}
		bool tail = n == sizeof neu;
		assert_true(n == sizeof orig || tail);
		if (tail)
			assert_memory_equal(buf + sizeof orig, neu, 100);
		assert_int_equal(new_pages + tail, kept);
		if (ps[k] == 0.0)
			assert_int_equal(kept, 0);
		else if (ps[k] == 1.0)
			assert_int_equal(kept, PAGES + 1);
		else
			assert_true(kept > 12 && kept < 53); /* Binomial(65, 0.5): > 5 sd */
		/* Nothing unsynced is left. */
		nem_lf_get_stats(c, &st);
		assert_int_equal(st.files, 0);
		close(fd);
		nem_lf_cache_free(c);
	}
}

/* Random operations against a model with a current and a durable image. */
#define MAXSZ 60000
static uint64_t rng_state;
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static void test_random_model(void **state)
{
	static uint8_t cur[MAXSZ], dur[MAXSZ], buf[MAXSZ], data[MAXSZ];
	size_t cur_n = 0, dur_n = 0;
	rng_state = 42;
	struct nem_lf_cache *c = nem_lf_cache_new();
	int fd = fresh_file(NULL, 0);
	for (int step = 0; step < 3000; step++) {
		unsigned op = (unsigned)(rnd() % 100);
		if (op < 50) {
			size_t off = rnd() % (MAXSZ - 10000), len = 1 + rnd() % 9000;
			for (size_t i = 0; i < len; i++)
				data[i] = (uint8_t)rnd();
			assert_int_equal(nem_lf_write(c, fd, data, len, (off_t)off), (ssize_t)len);
			if (off > cur_n)
				memset(cur + cur_n, 0, off - cur_n);
			memcpy(cur + off, data, len);
			if (off + len > cur_n)
				cur_n = off + len;
		} else if (op < 65) {
			size_t sz = rnd() % MAXSZ;
			assert_int_equal(nem_lf_truncate(c, fd, (off_t)sz), 0);
			if (sz > cur_n)
				memset(cur + cur_n, 0, sz - cur_n);
			cur_n = sz;
		} else if (op < 70) {
			size_t off = rnd() % MAXSZ, len = rnd() % 9000;
			assert_int_equal(nem_lf_zero(c, fd, (off_t)off, (off_t)len), 0);
			for (size_t i = off; i < off + len && i < cur_n; i++)
				cur[i] = 0;
		} else if (op < 80) {
			assert_int_equal(nem_lf_flush(c, fd, (int)(rnd() & 1)), 0);
			memcpy(dur, cur, cur_n);
			dur_n = cur_n;
		} else if (op < 88) {
			struct nem_lf_stats st;
			nem_lf_drop_all(c, &st);
			memcpy(cur, dur, dur_n);
			cur_n = dur_n;
		} else {
			size_t off = rnd() % MAXSZ, len = rnd() % MAXSZ;
			ssize_t want = off >= cur_n ? 0 : (ssize_t)(cur_n - off < len ? cur_n - off : len);
			assert_int_equal(nem_lf_read(c, fd, buf, len, (off_t)off), want);
			if (want)
				assert_memory_equal(buf, cur + off, (size_t)want);
		}
		assert_int_equal(cached_size(c, fd), (off_t)cur_n);
		/* The durable file never holds anything but the durable image. */
		if (step % 50 == 0 || op < 80) {
			size_t n = backing(buf, MAXSZ);
			if (op >= 70 && op < 80) {
				assert_int_equal(n, dur_n);
				assert_memory_equal(buf, dur, n);
			}
		}
	}
	close(fd);
	nem_lf_cache_free(c);
}

int main(void)
{
	snprintf(path, sizeof path, "/tmp/test_nem_lazyfs.%d", (int)getpid());
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_flush_drop),
		cmocka_unit_test(test_truncate_semantics),
		cmocka_unit_test(test_unlinked_forgotten),
		cmocka_unit_test(test_flush_all),
		cmocka_unit_test(test_drop_partial),
		cmocka_unit_test(test_random_model),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return rc;
}
