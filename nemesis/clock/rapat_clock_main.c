/* rapat_clock_main.c — bin/rapat-clock: drive a clock control file from the
 * shell (tests, debugging); the harness links nem_clock.h instead. */
#include "nemesis/clock/nem_clock.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: rapat-clock create CTL [--monotonic]\n"
	        "       rapat-clock set CTL OFFSET_NS RATE\n"
	        "       rapat-clock bump CTL DELTA_NS\n"
	        "       rapat-clock reset CTL\n"
	        "       rapat-clock strobe CTL DELTA_NS PERIOD_NS DURATION_NS\n"
	        "       rapat-clock show CTL\n"
	        "A shimmed process reads the clocks through LD_PRELOAD=librapat_clock.so\n"
	        "with " NEM_CLOCK_ENV "=CTL in its environment.\n");
}

static int parse_i64(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end) {
		fprintf(stderr, "rapat-clock: not an integer: %s\n", s);
		return -1;
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	char err[512];
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 3) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1], *path = argv[2];
	struct nem_clock_ctl *ctl = NULL;
	int rc = 0;
	if (!strcmp(cmd, "create")) {
		uint32_t flags = 0;
		if (argc == 4 && !strcmp(argv[3], "--monotonic"))
			flags = NEM_CLOCK_F_MONOTONIC;
		else if (argc != 3) {
			usage(stderr);
			return 2;
		}
		if (nem_clock_ctl_create(path, flags, &ctl, err, sizeof err) < 0)
			goto fail;
		nem_clock_ctl_close(ctl);
		return 0;
	}
	if (nem_clock_ctl_open(path, &ctl, err, sizeof err) < 0)
		goto fail;
	int64_t a = 0, b = 0, c = 0;
	if (!strcmp(cmd, "set") && argc == 5) {
		char *end;
		double rate = strtod(argv[4], &end);
		if (parse_i64(argv[3], &a) < 0 || *end || end == argv[4]) {
			rc = 2;
			goto out;
		}
		if (nem_clock_set(ctl, a, rate, err, sizeof err) < 0)
			goto fail;
	} else if (!strcmp(cmd, "bump") && argc == 4) {
		if (parse_i64(argv[3], &a) < 0) {
			rc = 2;
			goto out;
		}
		if (nem_clock_bump(ctl, a, err, sizeof err) < 0)
			goto fail;
	} else if (!strcmp(cmd, "reset") && argc == 3) {
		if (nem_clock_reset(ctl, err, sizeof err) < 0)
			goto fail;
	} else if (!strcmp(cmd, "strobe") && argc == 6) {
		if (parse_i64(argv[3], &a) < 0 || parse_i64(argv[4], &b) < 0 || parse_i64(argv[5], &c) < 0) {
			rc = 2;
			goto out;
		}
		if (nem_clock_strobe(ctl, a, b, c, err, sizeof err) < 0)
			goto fail;
	} else if (!strcmp(cmd, "show") && argc == 3) {
		printf("{\"offset_ns\":%" PRId64 ",\"rate\":%.9f,\"monotonic\":%s}\n",
		       nem_clock_offset(ctl), nem_clock_rate(ctl),
		       (nem_clock_flags(ctl) & NEM_CLOCK_F_MONOTONIC) ? "true" : "false");
	} else {
		usage(stderr);
		rc = 2;
	}
out:
	nem_clock_ctl_close(ctl);
	return rc;
fail:
	fprintf(stderr, "rapat-clock: %s\n", err);
	nem_clock_ctl_close(ctl);
	return 1;
}
