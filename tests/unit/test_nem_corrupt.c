/* test_nem_corrupt.c — unit tests of the corruption helpers: exact reports,
 * determinism per seed, flip statistics, argument errors. */
#include "nemesis/disk/nem_corrupt.h"

#include <fcntl.h>
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

#define SZ (1 << 20)
static char path[64];
static uint8_t orig[SZ], now[SZ];

static void make_file(size_t n)
{
	for (size_t i = 0; i < n; i++)
		orig[i] = (uint8_t)(i * 131 + (i >> 9));
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, orig, n), (ssize_t)n);
	close(fd);
}

static size_t load(void)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	ssize_t n = read(fd, now, SZ);
	close(fd);
	return (size_t)n;
}

/* The report must account for every differing bit, and nothing else. */
static void check_flips(const struct nem_corrupt_report *r, size_t n, uint64_t start, uint64_t end)
{
	static uint8_t replay[SZ];
	memcpy(replay, orig, n);
	for (size_t i = 0; i < r->n; i++) {
		const struct nem_corrupt_change *c = &r->changes[i];
		assert_int_equal(c->kind, NEM_CORRUPT_BITFLIP);
		assert_true(c->offset >= start && c->offset < end);
		assert_int_equal(replay[c->offset], c->old_byte);
		replay[c->offset] ^= (uint8_t)(1u << c->bit);
		assert_int_equal(replay[c->offset], c->new_byte);
		if (i)
			assert_true(c->offset > r->changes[i - 1].offset ||
			            (c->offset == r->changes[i - 1].offset && c->bit != r->changes[i - 1].bit));
	}
	assert_memory_equal(replay, now, n);
}

static void test_bitflip_count(void **state)
{
	char err[256];
	struct nem_corrupt_report r, r2;
	make_file(4096);
	assert_int_equal(nem_corrupt_bitflip(path, 100, 200, 50, 0, 7, &r, err, sizeof err), 0);
	assert_int_equal(load(), 4096);
	assert_int_equal(r.n, 50);
	check_flips(&r, 4096, 100, 200);
	/* Same seed, same file: the same flips. */
	make_file(4096);
	assert_int_equal(nem_corrupt_bitflip(path, 100, 200, 50, 0, 7, &r2, err, sizeof err), 0);
	assert_int_equal(r2.n, 50);
	assert_memory_equal(r.changes, r2.changes, 50 * sizeof *r.changes);
	nem_corrupt_report_free(&r2);
	/* Another seed: different flips. */
	make_file(4096);
	assert_int_equal(nem_corrupt_bitflip(path, 100, 200, 50, 0, 8, &r2, err, sizeof err), 0);
	assert_true(memcmp(r.changes, r2.changes, 50 * sizeof *r.changes) != 0);
	nem_corrupt_report_free(&r);
	nem_corrupt_report_free(&r2);
	/* Every bit of a region. */
	make_file(4096);
	assert_int_equal(nem_corrupt_bitflip(path, 10, 12, 16, 0, 1, &r, err, sizeof err), 0);
	load();
	assert_int_equal(now[10], (uint8_t)~orig[10]);
	assert_int_equal(now[11], (uint8_t)~orig[11]);
	nem_corrupt_report_free(&r);
}

static void test_bitflip_probability(void **state)
{
	char err[256];
	struct nem_corrupt_report r;
	make_file(SZ);
	/* 8 Mi bits at p = 1e-3: mean 8389, sd 92; +-6 sd. */
	assert_int_equal(nem_corrupt_bitflip(path, 0, 0, 0, 1e-3, 99, &r, err, sizeof err), 0);
	load();
	check_flips(&r, SZ, 0, SZ);
	assert_true(r.n > 7840 && r.n < 8940);
	nem_corrupt_report_free(&r);
	/* Small p over many seeds: the mean stays unbiased (64 Ki bits, p = 1e-4,
	 * 200 seeds: mean 6.55, sd of the mean 0.18). */
	size_t total = 0;
	for (uint64_t seed = 0; seed < 200; seed++) {
		make_file(8192);
		assert_int_equal(nem_corrupt_bitflip(path, 0, 0, 0, 1e-4, seed, &r, err, sizeof err), 0);
		total += r.n;
		nem_corrupt_report_free(&r);
	}
	double mean = (double)total / 200;
	printf("mean flips %.2f (expected 6.55)\n", mean);
	assert_true(mean > 5.4 && mean < 7.7);
	/* p = 1 flips everything in the region. */
	make_file(4096);
	assert_int_equal(nem_corrupt_bitflip(path, 0, 4, 0, 1.0, 1, &r, err, sizeof err), 0);
	assert_int_equal(r.n, 32);
	nem_corrupt_report_free(&r);
}

static void test_truncate(void **state)
{
	char err[256];
	struct nem_corrupt_report r;
	make_file(1000);
	assert_int_equal(nem_corrupt_truncate(path, 17, &r, err, sizeof err), 0);
	assert_int_equal(r.size_before, 1000);
	assert_int_equal(r.size_after, 983);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.changes[0].offset, 983);
	assert_int_equal(r.changes[0].len, 17);
	assert_int_equal(load(), 983);
	assert_memory_equal(now, orig, 983);
	nem_corrupt_report_free(&r);
	assert_int_equal(nem_corrupt_truncate(path, 5000, &r, err, sizeof err), 0);
	assert_int_equal(r.size_after, 0);
	assert_int_equal(r.changes[0].len, 983);
	nem_corrupt_report_free(&r);
}

static void test_copy(void **state)
{
	char err[256];
	struct nem_corrupt_report r;
	make_file(65536);
	assert_int_equal(nem_corrupt_copy_chunks(path, 4096, 0, 1024, 10, 3, &r, err, sizeof err), 0);
	assert_int_equal(r.n, 10);
	load();
	uint8_t want[65536];
	memcpy(want, orig, sizeof want);
	for (size_t i = 0; i < r.n; i++) {
		const struct nem_corrupt_change *c = &r.changes[i];
		assert_int_equal(c->len, 1024);
		assert_true(c->offset >= 4096 && c->src >= 4096 && c->offset != c->src);
		assert_int_equal((c->offset - 4096) % 1024, 0);
		if (i)
			assert_true(c->offset > r.changes[i - 1].offset);
		memcpy(want + c->offset, orig + c->src, 1024);
	}
	assert_memory_equal(now, want, sizeof want);
	nem_corrupt_report_free(&r);
}

static void test_errors(void **state)
{
	char err[256];
	struct nem_corrupt_report r;
	make_file(100);
	assert_int_equal(nem_corrupt_bitflip(path, 50, 200, 1, 0, 0, &r, err, sizeof err), -1);
	assert_non_null(strstr(err, "not inside the file"));
	assert_int_equal(nem_corrupt_bitflip(path, 0, 1, 9, 0, 0, &r, err, sizeof err), -1);
	assert_non_null(strstr(err, "do not fit"));
	assert_int_equal(nem_corrupt_bitflip(path, 0, 0, 0, 0.0, 0, &r, err, sizeof err), -1);
	assert_int_equal(nem_corrupt_bitflip(path, 0, 0, 0, 1.5, 0, &r, err, sizeof err), -1);
	assert_int_equal(nem_corrupt_copy_chunks(path, 0, 0, 64, 1, 0, &r, err, sizeof err), -1);
	assert_non_null(strstr(err, "need >= 2 chunks"));
	assert_int_equal(nem_corrupt_truncate("/nonexistent/x", 1, &r, err, sizeof err), -1);
	assert_non_null(strstr(err, "/nonexistent/x: open: No such file"));
	/* Nothing changed by the refused calls. */
	assert_int_equal(load(), 100);
	assert_memory_equal(now, orig, 100);
}

int main(void)
{
	snprintf(path, sizeof path, "/tmp/test_nem_corrupt.%d", (int)getpid());
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bitflip_count),
		cmocka_unit_test(test_bitflip_probability),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_errors),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return rc;
}
