/* test_nem_clock.c — unit tests of the clock control page: seqlock copy,
 * offset/rate arithmetic, and the controller API on a temporary file. */
#include "nemesis/clock/nem_clock.h"
#include "nemesis/clock/nem_clock_page.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#define NS 1000000000LL

static void test_effective_offset(void **state)
{
	struct nem_clock_params p = { .offset_ns = 5 * NS, .rate_ppb = NEM_CLOCK_RATE_ONE, .anchor_ns = 100 * NS };
	assert_int_equal(nem_clock_effective_offset(&p, 100 * NS), 5 * NS);
	assert_int_equal(nem_clock_effective_offset(&p, 1000 * NS), 5 * NS);
	p.rate_ppb = 2 * NEM_CLOCK_RATE_ONE; /* twice as fast: +1 s per real second */
	assert_int_equal(nem_clock_effective_offset(&p, 110 * NS), 15 * NS);
	p.rate_ppb = NEM_CLOCK_RATE_ONE / 2; /* half speed: -0.5 s per second */
	assert_int_equal(nem_clock_effective_offset(&p, 110 * NS), 0);
	/* Saturates instead of wrapping. */
	p.offset_ns = INT64_MAX - 1;
	p.rate_ppb = 1000 * NEM_CLOCK_RATE_ONE;
	assert_int_equal(nem_clock_effective_offset(&p, INT64_MAX / 2), INT64_MAX);
}

static void test_page_roundtrip(void **state)
{
	struct nem_clock_page pg = { .magic = NEM_CLOCK_MAGIC, .version = NEM_CLOCK_VERSION };
	struct nem_clock_params in = { .flags = 1, .offset_ns = -42, .rate_ppb = 7, .anchor_ns = 9 }, out;
	nem_clock_page_write(&pg, &in);
	assert_int_equal(pg.seq, 2);
	assert_int_equal(nem_clock_page_read(&pg, &out), 0);
	assert_int_equal(out.flags, 1);
	assert_int_equal(out.offset_ns, -42);
	assert_int_equal(out.rate_ppb, 7);
	assert_int_equal(out.anchor_ns, 9);
	/* A writer that died mid-write: readers give up instead of hanging. */
	pg.seq = 3;
	assert_int_equal(nem_clock_page_read(&pg, &out), -1);
	/* The next write repairs the counter. */
	nem_clock_page_write(&pg, &in);
	assert_int_equal(pg.seq, 6);
	assert_int_equal(nem_clock_page_read(&pg, &out), 0);
	pg.version = 99;
	assert_int_equal(nem_clock_page_read(&pg, &out), -1);
}

static char path[64];

static void test_ctl(void **state)
{
	char err[256];
	struct nem_clock_ctl *ctl, *ctl2;
	assert_int_equal(nem_clock_ctl_create(path, 0, &ctl, err, sizeof err), 0);
	assert_int_equal(nem_clock_offset(ctl), 0);
	assert_true(nem_clock_rate(ctl) == 1.0);
	assert_int_equal(nem_clock_bump(ctl, 3 * NS, err, sizeof err), 0);
	assert_int_equal(nem_clock_bump(ctl, -1 * NS, err, sizeof err), 0);
	assert_int_equal(nem_clock_offset(ctl), 2 * NS);
	/* A second handle (the CLI) sees and changes the same page. */
	assert_int_equal(nem_clock_ctl_open(path, &ctl2, err, sizeof err), 0);
	assert_int_equal(nem_clock_offset(ctl2), 2 * NS);
	assert_int_equal(nem_clock_set_flags(ctl2, NEM_CLOCK_F_MONOTONIC, err, sizeof err), 0);
	assert_int_equal(nem_clock_flags(ctl), NEM_CLOCK_F_MONOTONIC);
	assert_int_equal(nem_clock_set_flags(ctl2, 0x80, err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown flags"));
	nem_clock_ctl_close(ctl2);
	/* Rates out of range are refused with the path in the message. */
	assert_int_equal(nem_clock_set(ctl, 0, 0.0, err, sizeof err), -1);
	assert_non_null(strstr(err, path));
	assert_int_equal(nem_clock_set(ctl, 0, -1.0, err, sizeof err), -1);
	assert_int_equal(nem_clock_set(ctl, 0, 1e6, err, sizeof err), -1);
	/* A fast clock's offset grows; the value at set time is exact. */
	assert_int_equal(nem_clock_set(ctl, NS, 1000.0, err, sizeof err), 0);
	int64_t o1 = nem_clock_offset(ctl);
	assert_true(o1 >= NS);
	usleep(2000);
	assert_true(nem_clock_offset(ctl) >= o1 + 999 * 2000000LL);
	/* A bump keeps the rate. */
	assert_int_equal(nem_clock_bump(ctl, NS, err, sizeof err), 0);
	assert_true(nem_clock_rate(ctl) == 1000.0);
	assert_int_equal(nem_clock_reset(ctl, err, sizeof err), 0);
	assert_int_equal(nem_clock_offset(ctl), 0);
	assert_true(nem_clock_rate(ctl) == 1.0);
	/* Overflowing bumps are refused. */
	assert_int_equal(nem_clock_set(ctl, INT64_MAX - 5, 1.0, err, sizeof err), 0);
	assert_int_equal(nem_clock_bump(ctl, 10, err, sizeof err), -1);
	nem_clock_ctl_close(ctl);
}

static void test_strobe_steps(void **state)
{
	char err[256];
	struct nem_clock_ctl *ctl;
	assert_int_equal(nem_clock_ctl_create(path, 0, &ctl, err, sizeof err), 0);
	assert_int_equal(nem_clock_bump(ctl, 7 * NS, err, sizeof err), 0);
	struct nem_clock_strobe st;
	int64_t next;
	int64_t t0 = nem_clock_strobe_now();
	assert_int_equal(nem_clock_strobe_begin(ctl, 100 * NS, NS / 10, NS, &st, &next, err, sizeof err), 0);
	assert_true(next >= t0 + NS / 10);
	/* The offset flips between base + delta and base at every tick (the
	 * offsets are exact: rate 1). Ticks are driven with synthetic times. */
	assert_int_equal(nem_clock_offset(ctl), 107 * NS);
	int64_t now = next;
	assert_int_equal(nem_clock_strobe_tick(ctl, &st, now, &next, err, sizeof err), 1);
	assert_int_equal(nem_clock_offset(ctl), 7 * NS);
	assert_int_equal(next, now + NS / 10);
	assert_int_equal(nem_clock_strobe_tick(ctl, &st, next, &next, err, sizeof err), 1);
	assert_int_equal(nem_clock_offset(ctl), 107 * NS);
	/* Past the duration: back to base, done. */
	assert_int_equal(nem_clock_strobe_tick(ctl, &st, st.end_ns, &next, err, sizeof err), 0);
	assert_int_equal(nem_clock_offset(ctl), 7 * NS);
	assert_int_equal(nem_clock_strobe_begin(ctl, NS, 0, NS, &st, &next, err, sizeof err), -1);
	/* The blocking form ends at the base too. */
	assert_int_equal(nem_clock_strobe(ctl, 5 * NS, NS / 100, NS / 20, err, sizeof err), 0);
	assert_int_equal(nem_clock_offset(ctl), 7 * NS);
	nem_clock_ctl_close(ctl);
}

static void test_open_errors(void **state)
{
	char err[256];
	struct nem_clock_ctl *ctl;
	assert_int_equal(nem_clock_ctl_open("/nonexistent/dir/ctl", &ctl, err, sizeof err), -1);
	assert_non_null(strstr(err, "No such file"));
	/* A file that is not a control page. */
	int fd = open(path, O_RDWR | O_TRUNC);
	assert_true(fd >= 0);
	char junk[NEM_CLOCK_PAGE_SIZE] = { 1, 2, 3 };
	assert_int_equal(write(fd, junk, sizeof junk), sizeof junk);
	close(fd);
	assert_int_equal(nem_clock_ctl_open(path, &ctl, err, sizeof err), -1);
	assert_non_null(strstr(err, "bad magic"));
	assert_int_equal(truncate(path, 10), 0);
	assert_int_equal(nem_clock_ctl_open(path, &ctl, err, sizeof err), -1);
	assert_non_null(strstr(err, "too short"));
}

int main(void)
{
	snprintf(path, sizeof path, "/tmp/test_nem_clock.%d", (int)getpid());
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_effective_offset),
		cmocka_unit_test(test_page_roundtrip),
		cmocka_unit_test(test_ctl),
		cmocka_unit_test(test_strobe_steps),
		cmocka_unit_test(test_open_errors),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return rc;
}
