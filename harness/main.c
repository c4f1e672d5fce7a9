/* main.c — bin/rapat: the command line (run, check, --help) and exit codes. */
#include "harness/hx_run.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HX_HAVE_CHECKER
#include "checker/chk.h"
#endif
#ifdef HX_HAVE_REPORT
#include "harness/report/hx_report.h"
#endif
#ifdef HX_HAVE_CAMPAIGN
#include "harness/campaign/hx_campaign.h"
#endif


static const char usage_main[] =
	"usage: rapat COMMAND ...\n"
	"\n"
	"  rapat run PLAN.lua [--seed N] [--time-limit S] [--nodes N] [--concurrency N]\n"
	"                     [--db ADAPTER.lua] [--out DIR] [--set KEY=VALUE]...\n"
	"  rapat check HISTORY [--model register|cas-register|kv] [--format auto|jsonl|edn]\n"
	"                      [--time-limit S] [--json]\n"
	"  rapat campaign CAMPAIGN.lua [--budget S] [--shard I/N] [--junit FILE] [--post URL]\n"
	"  rapat report RUN_DIR          rebuild report.html from a run directory\n"
	"  rapat --help | rapat run --help\n"
	"\n"
	"Exit codes: 0 valid, 1 invalid, 2 usage/bad plan/bad input, 3 unknown,\n"
	"4 the harness failed (nodes would not start, no lab).\n";

static const char usage_run[] =
	"usage: rapat run PLAN.lua [options]\n"
	"\n"
	"Runs the plan: starts its nodes in a private network lab, drives the\n"
	"workload with concurrent clients while the nemesis injects faults, heals\n"
	"everything, runs the final phase and checks the history.\n"
	"\n"
	"  --seed N           random seed (default: derived from the clock, recorded)\n"
	"  --time-limit S     seconds of the main phase\n"
	"  --nodes N          number of nodes (1..64)\n"
	"  --concurrency N    client threads\n"
	"  --db ADAPTER.lua   the system under test (an adapter file)\n"
	"  --out DIR          run directory (default store/<plan>/<UTC time>-s<seed>)\n"
	"  --set KEY=VALUE    override any plan option, e.g. --set nemesis=partition,kill\n"
	"                     --set rate=500 (typed by the option's default)\n"
	"  -h, --help         this text\n"
	"\n"
	"Fault kinds (--set nemesis=...): partition, kill, pause, clock, packet, disk,\n"
	"member (needs an adapter with add_member/remove_member), or none.\n"
	"\n"
	"Writes plan.lua, history.jsonl, results.json, report.html, harness.log and\n"
	"nodes/<id>/ into the run directory; without --out it is in store/ and\n"
	"store/latest points at it. See docs/plans.md.\n";

static __attribute__((format(printf, 1, 2))) int bad(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "rapat run: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n(see rapat run --help)\n");
	va_end(ap);
	return HX_EXIT_USAGE;
}

static int parse_ll(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int cmd_run(int argc, char **argv, int full_argc, char **full_argv)
{
	struct hx_cli cli = {0};
	const char *sets[256];
	cli.sets = sets;
	cli.argc = full_argc;
	cli.argv = full_argv;
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_run, stdout);
			return 0;
		}
		if (a[0] != '-' || !strcmp(a, "-")) {
			if (cli.plan_path)
				return bad("unexpected argument '%s' (one plan per run)", a);
			cli.plan_path = a;
			continue;
		}
		/* --opt VALUE or --opt=VALUE */
		char name[64];
		const char *val = NULL;
		const char *eq = strchr(a, '=');
		if (eq && eq - a < (long)sizeof name) {
			memcpy(name, a, (size_t)(eq - a));
			name[eq - a] = 0;
			val = eq + 1;
		} else {
			snprintf(name, sizeof name, "%s", a);
		}
		static const char *const known[] = {"--seed", "--time-limit", "--nodes", "--concurrency",
		                                    "--db", "--out", "--set", NULL};
		bool ok = false;
		for (int k = 0; known[k]; k++)
			ok |= !strcmp(name, known[k]);
		if (!ok)
			return bad("unknown option '%s'", name);
		if (!val) {
			if (i + 1 >= argc)
				return bad("option '%s' needs a value", name);
			val = argv[++i];
		}
		long long v;
		if (!strcmp(name, "--seed")) {
			if (parse_ll(val, LLONG_MIN / 2, LLONG_MAX / 2, &v) != 0)
				return bad("--seed: '%s' is not an integer", val);
			cli.has_seed = true;
			cli.seed = v;
		} else if (!strcmp(name, "--time-limit")) {
			char *end;
			double d = strtod(val, &end);
			if (end == val || *end || !isfinite(d) || d <= 0)
				return bad("--time-limit: '%s' is not a positive number of seconds", val);
			cli.has_time_limit = true;
			cli.time_limit = d;
		} else if (!strcmp(name, "--nodes")) {
			if (parse_ll(val, 1, 64, &v) != 0)
				return bad("--nodes: '%s' is not an integer 1..64", val);
			cli.has_nodes = true;
			cli.nodes = (long)v;
		} else if (!strcmp(name, "--concurrency")) {
			if (parse_ll(val, 1, 10000, &v) != 0)
				return bad("--concurrency: '%s' is not an integer 1..10000", val);
			cli.has_concurrency = true;
			cli.concurrency = (long)v;
		} else if (!strcmp(name, "--db")) {
			cli.db = val;
		} else if (!strcmp(name, "--out")) {
			if (!*val)
				return bad("--out: '%s' is not a directory name", val);
			cli.out = val;
		} else if (!strcmp(name, "--set")) {
			const char *e = strchr(val, '=');
			if (!e || e == val)
				return bad("--set: '%s' is not KEY=VALUE", val);
			if (cli.n_sets >= 256)
				return bad("--set: too many (%s)", val);
			sets[cli.n_sets++] = val;
		}
	}
	if (!cli.plan_path)
		return bad("%s", "missing PLAN.lua");
	return hx_run_main(&cli);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_main, stderr);
		return HX_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1, argc, argv);
	if (!strcmp(cmd, "check")) {
#ifdef HX_HAVE_CHECKER
		return chk_cli_main(argc - 1, argv + 1);
#else
		fprintf(stderr, "rapat: this build has no checker (checker/libchecker.a)\n");
		return HX_EXIT_HARNESS;
#endif
	}
	if (!strcmp(cmd, "report")) {
#ifdef HX_HAVE_REPORT
		return hx_report_main(argc - 1, argv + 1);
#else
		fprintf(stderr, "rapat: this build has no report (harness/report)\n");
		return HX_EXIT_HARNESS;
#endif
	}
	if (!strcmp(cmd, "campaign")) {
#ifdef HX_HAVE_CAMPAIGN
		return hx_campaign_main(argc - 1, argv + 1);
#else
		fprintf(stderr, "rapat: this build has no campaign runner (harness/campaign)\n");
		return HX_EXIT_HARNESS;
#endif
	}
	fprintf(stderr, "rapat: unknown command '%s'\n\n%s", cmd, usage_main);
	return HX_EXIT_USAGE;
}
