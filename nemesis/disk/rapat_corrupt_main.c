/* rapat_corrupt_main.c — bin/rapat-corrupt: the CLI of nem_corrupt.h; prints
 * one JSON object saying exactly what it changed. */
#include "nemesis/disk/nem_corrupt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: rapat-corrupt bitflip FILE (--count N | --probability P) [--start B] [--end B] [--seed S]\n"
	        "       rapat-corrupt truncate FILE --drop N\n"
	        "       rapat-corrupt copy FILE --chunk-size N --count N [--start B] [--end B] [--seed S]\n"
	        "Regions are [start, end) in bytes; end 0 (default) = end of file. Prints a JSON\n"
	        "object with every change (offsets, bits, old/new bytes, copy sources).\n"
	        "Exit: 0 done, 1 failed, 2 usage.\n");
}

static int parse_u64(const char *opt, const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-') {
		fprintf(stderr, "rapat-corrupt: %s: not a non-negative integer: %s\n", opt, s);
		return -1;
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 3) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1], *file = argv[2];
	uint64_t count = 0, start = 0, end = 0, seed = 0, drop = 0, chunk = 0;
	double prob = 0;
	int have_drop = 0;
	for (int i = 3; i < argc; i++) {
		const char *o = argv[i];
		if (i + 1 >= argc) {
			fprintf(stderr, "rapat-corrupt: %s needs a value\n", o);
			return 2;
		}
		const char *v = argv[++i];
		int rc = 0;
		if (!strcmp(o, "--count"))
			rc = parse_u64(o, v, &count);
		else if (!strcmp(o, "--start"))
			rc = parse_u64(o, v, &start);
		else if (!strcmp(o, "--end"))
			rc = parse_u64(o, v, &end);
		else if (!strcmp(o, "--seed"))
			rc = parse_u64(o, v, &seed);
		else if (!strcmp(o, "--drop"))
			rc = parse_u64(o, v, &drop), have_drop = 1;
		else if (!strcmp(o, "--chunk-size"))
			rc = parse_u64(o, v, &chunk);
		else if (!strcmp(o, "--probability")) {
			char *e;
			prob = strtod(v, &e);
			if (e == v || *e) {
				fprintf(stderr, "rapat-corrupt: --probability: not a number: %s\n", v);
				rc = -1;
			}
		} else {
			fprintf(stderr, "rapat-corrupt: unknown option %s\n", o);
			rc = -1;
		}
		if (rc < 0)
			return 2;
	}
	char err[512];
	struct nem_corrupt_report r;
	int rc;
	if (!strcmp(cmd, "bitflip")) {
		if (!count && prob == 0) {
			fprintf(stderr, "rapat-corrupt: bitflip needs --count or --probability\n");
			return 2;
		}
		rc = nem_corrupt_bitflip(file, start, end, count, prob, seed, &r, err, sizeof err);
	} else if (!strcmp(cmd, "truncate")) {
		if (!have_drop) {
			fprintf(stderr, "rapat-corrupt: truncate needs --drop\n");
			return 2;
		}
		rc = nem_corrupt_truncate(file, drop, &r, err, sizeof err);
	} else if (!strcmp(cmd, "copy")) {
		if (!chunk || !count) {
			fprintf(stderr, "rapat-corrupt: copy needs --chunk-size and --count\n");
			return 2;
		}
		rc = nem_corrupt_copy_chunks(file, start, end, chunk, count, seed, &r, err, sizeof err);
	} else {
		fprintf(stderr, "rapat-corrupt: unknown command %s\n", cmd);
		usage(stderr);
		return 2;
	}
	if (rc < 0) {
		fprintf(stderr, "rapat-corrupt: %s\n", err);
		nem_corrupt_report_free(&r);
		return 1;
	}
	nem_corrupt_report_json(&r, file, stdout);
	fputc('\n', stdout);
	nem_corrupt_report_free(&r);
	return fflush(stdout) == 0 ? 0 : 1;
}
