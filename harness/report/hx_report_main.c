/* hx_report_main.c — `rapat report RUN_DIR`: rebuilds report.html from a run directory. */
#include "harness/report/hx_report.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
	"usage: rapat report RUN_DIR\n"
	"\n"
	"Rebuilds RUN_DIR/report.html from the run directory (results.json,\n"
	"history.jsonl, plan.lua, harness.log, nodes/): one self-contained page with\n"
	"the verdict, the run's parameters, a timeline of operations with the faults,\n"
	"latency and throughput plots, the checkers' findings and the counterexample.\n"
	"A crashed run (no or partial results.json, truncated history) still gets a\n"
	"page that says what is missing.\n"
	"\n"
	"Exit codes: 0 written, 2 usage or RUN_DIR is not a run directory,\n"
	"4 the page could not be written.\n";

int hx_report_main(int argc, char **argv)
{
	const char *dir = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return HX_REPORT_EXIT_OK;
		}
		if (a[0] == '-' && a[1]) {
			fprintf(stderr, "rapat report: unknown option '%s'\n(see rapat report --help)\n", a);
			return HX_REPORT_EXIT_USAGE;
		}
		if (dir) {
			fprintf(stderr, "rapat report: unexpected argument '%s' (one RUN_DIR)\n", a);
			return HX_REPORT_EXIT_USAGE;
		}
		dir = a;
	}
	if (!dir) {
		fputs("rapat report: missing RUN_DIR\n", stderr);
		fputs(usage, stderr);
		return HX_REPORT_EXIT_USAGE;
	}
	char err[1024];
	int rc = hx_report_write(dir, err, sizeof err);
	if (rc != 0) {
		fprintf(stderr, "rapat report: %s\n", err);
		return rc;
	}
	printf("%s/report.html\n", dir);
	return HX_REPORT_EXIT_OK;
}
