/* hx_campaign_run.c — `rapat campaign`: plans the run list (shard, budget), runs each as a child `rapat run`, judges it, writes campaign.json / JUnit and posts a summary. */
#include "harness/campaign/hx_campaign.h"
#include "harness/campaign/hx_campaign_internal.h"
#include "harness/report/hx_report.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KILL_GRACE_S 60.0 /* after SIGTERM (the harness heals and writes results), then SIGKILL */

static const char usage[] =
	"usage: rapat campaign CAMPAIGN.lua [--budget S] [--shard I/N] [--junit FILE] [--post URL]\n"
	"                                   [--out DIR] [--list]\n"
	"\n"
	"Runs every entry x seed of the campaign file as its own `rapat run` (one\n"
	"after another), compares each verdict with the entry's expect (default\n"
	"\"valid\"; unknown where valid was expected counts as skipped) and writes\n"
	"campaign.json (and junit.xml) into the campaign directory.\n"
	"\n"
	"  --budget S    start no run that would end after S seconds; the rest are\n"
	"                skipped (\"budget\")\n"
	"  --shard I/N   only the runs k (0-based, in file order) with k mod N = I-1\n"
	"  --junit FILE  also write the JUnit XML report to FILE\n"
	"  --post URL    POST a JSON summary to URL at the end (a failed post is\n"
	"                reported, the exit code does not change)\n"
	"  --out DIR     campaign directory (default store/campaigns/<name>/<UTC time>)\n"
	"  --list        print the runs (after --shard) and exit\n"
	"\n"
	"Exit codes: 0 no run failed, 1 a run failed (wrong verdict, harness error),\n"
	"2 usage error or bad campaign file (file:line: field).\n"
	"Environment: RAPAT_EXE, the rapat binary the runs use (default: this one).\n";

/* The signal that asked the campaign to stop (SIGINT or SIGTERM), 0 while
 * none has: start nothing new. A process-wide flag, as signals are. */
static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	g_stop = sig;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The rapat binary the runs use: $RAPAT_EXE, else this process when it is
 * rapat, else rapat next to this binary or in $RAPAT_BIN, else bin/rapat. */
static void find_rapat(char *out, size_t len)
{
	const char *env = getenv("RAPAT_EXE");
	if (env && *env) {
		hx_fmt(out, len, "%s", env);
		return;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = 0;
		const char *b = strrchr(self, '/');
		if (b && !strcmp(b + 1, "rapat")) {
			hx_fmt(out, len, "%s", self);
			return;
		}
	}
	const char *bin = getenv("RAPAT_BIN");
	if (bin && *bin) {
		hx_fmt(out, len, "%s/rapat", bin);
		if (access(out, X_OK) == 0)
			return;
	}
	if (n > 0) {
		char *d = dirname(self);
		hx_fmt(out, len, "%s/rapat", d);
		if (access(out, X_OK) == 0)
			return;
	}
	hx_fmt(out, len, "bin/rapat");
}

static void build_runs(struct hx_campaign_state *st)
{
	size_t k = 0;
	for (size_t i = 0; i < st->c.n_entries; i++) {
		const struct hx_campaign_entry *e = &st->c.entries[i];
		for (size_t j = 0; j < e->n_seeds; j++, k++) {
			if (!hx_campaign_in_shard(k, st->shard, st->n_shards))
				continue;
			struct hx_campaign_result *r = &st->runs[st->n_runs++];
			memset(r, 0, sizeof *r);
			r->entry = i;
			r->seed = e->seeds[j];
			r->ordinal = k;
			hx_fmt(r->name, sizeof r->name, "%s-%zu-s%lld", e->name, i + 1, e->seeds[j]);
			hx_fmt(r->verdict, sizeof r->verdict, "not run");
		}
	}
}

/* argv of `rapat run` for r (pointers into e and the run's own buffers). */
static size_t run_argv(const struct hx_campaign_state *st, struct hx_campaign_result *r, char **argv,
		       size_t max)
{
	const struct hx_campaign_entry *e = &st->c.entries[r->entry];
	size_t n = 0;
	argv[n++] = (char *)st->rapat;
	argv[n++] = "run";
	argv[n++] = e->plan;
	hx_fmt(r->seed_s, sizeof r->seed_s, "%lld", r->seed);
	argv[n++] = "--seed";
	argv[n++] = r->seed_s;
	if (e->db) {
		argv[n++] = "--db";
		argv[n++] = e->db;
	}
	if (e->time_limit > 0) {
		hx_fmt(r->time_limit_s, sizeof r->time_limit_s, "%g", e->time_limit);
		argv[n++] = "--time-limit";
		argv[n++] = r->time_limit_s;
	}
	if (e->nodes > 0) {
		hx_fmt(r->nodes_s, sizeof r->nodes_s, "%ld", e->nodes);
		argv[n++] = "--nodes";
		argv[n++] = r->nodes_s;
	}
	/* max leaves room for every option: the loader caps n_sets */
	for (size_t i = 0; i < e->n_sets && n + 4 < max; i++) {
		argv[n++] = "--set";
		argv[n++] = e->sets[i];
	}
	argv[n++] = "--out";
	argv[n++] = r->dir;
	argv[n] = NULL;
	return n;
}

/* Waits for pid; after `timeout` seconds (0: none) SIGTERM, after the grace SIGKILL. */
static int wait_child(pid_t pid, double timeout, bool *timed_out, bool *interrupted)
{
	double t0 = now_s();
	bool termed = false, forwarded = false;
	double termed_at = 0;
	for (;;) {
		int status;
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			return status;
		if (w < 0 && errno != EINTR)
			return -1;
		double t = now_s();
		if (g_stop) {
			*interrupted = true;
			/* Ctrl-C reaches the whole process group (the child heals and
			 * stops by itself; a second SIGINT would make it abandon the
			 * heal). A SIGTERM sent to the campaign alone (CI timeouts) is
			 * passed on once. */
			if (g_stop == SIGTERM && !forwarded) {
				kill(pid, SIGTERM);
				forwarded = true;
				if (!termed) {
					termed = true;
					termed_at = t;
				}
			}
		}
		if (!termed && timeout > 0 && t - t0 > timeout) {
			*timed_out = true;
			kill(pid, SIGTERM);
			termed = true;
			termed_at = t;
		}
		if (termed && t - termed_at > KILL_GRACE_S)
			kill(pid, SIGKILL);
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

static const char *reason_of(const json_t *res)
{
	const char *r = json_string_value(json_object_get(res, "reason"));
	if (r)
		return r;
	const char *name;
	const json_t *chk;
	json_object_foreach((json_t *)json_object_get(res, "checkers"), name, chk)
	{
		if (json_is_true(json_object_get(chk, "valid")))
			continue;
		r = json_string_value(json_object_get(chk, "reason"));
		if (!r)
			r = json_string_value(json_array_get(json_object_get(chk, "reasons"), 0));
		if (!r)
			r = json_string_value(json_array_get(json_object_get(chk, "explanations"), 0));
		if (r)
			return r;
	}
	return NULL;
}

/* Key figures from results.json for campaign.json. */
static json_t *figures_of(const json_t *res)
{
	json_t *f = json_object();
	const json_t *ops = json_object_get(res, "ops");
	if (ops)
		json_object_set(f, "ops", (json_t *)ops);
	const json_t *faults = json_object_get(res, "faults");
	if (json_is_array(faults)) {
		json_t *kinds = json_object();
		size_t i;
		const json_t *x;
		json_array_foreach(faults, i, x)
		{
			const char *k = json_string_value(json_object_get(x, "f"));
			if (k)
				json_object_set_new(kinds, k, json_integer(json_integer_value(json_object_get(kinds, k)) + 1));
		}
		json_object_set_new(f, "faults", kinds);
	}
	const json_t *checkers = json_object_get(res, "checkers");
	json_t *cv = json_object();
	const char *name;
	const json_t *chk;
	json_object_foreach((json_t *)checkers, name, chk)
	{
		const json_t *v = json_object_get(chk, "valid");
		json_object_set(cv, name, v ? (json_t *)v : json_null());
	}
	json_object_set_new(f, "checkers", cv);
	const json_t *stats = json_object_get(checkers, "stats");
	const json_t *av = json_object_get(json_object_get(json_object_get(stats, "availability"), "overall"),
					   "availability");
	if (json_is_number(av))
		json_object_set(f, "availability", (json_t *)av);
	const json_t *all = json_object_get(json_object_get(stats, "perf"), "all");
	const json_t *p99 = json_object_get(json_object_get(all, "latency_ms"), "p99");
	if (json_is_number(p99))
		json_object_set(f, "latency_p99_ms", (json_t *)p99);
	const json_t *thr = json_object_get(all, "throughput");
	if (json_is_number(thr))
		json_object_set(f, "throughput", (json_t *)thr);
	const json_t *cx = json_object_get(json_object_get(checkers, "linearizable"), "counterexample");
	if (json_is_object(cx))
		json_object_set_new(f, "counterexample_ops", json_integer((json_int_t)json_array_size(
									  json_object_get(cx, "ops"))));
	const json_t *dur = json_object_get(res, "duration_s");
	if (dur)
		json_object_set(f, "run_duration_s", (json_t *)dur);
	return f;
}

/* Judges r from the child's exit status and results.json. */
static void judge(struct hx_campaign_state *st, struct hx_campaign_result *r, int status, bool timed_out)
{
	const struct hx_campaign_entry *e = &st->c.entries[r->entry];
	char path[PATH_MAX + 32];
	hx_fmt(path, sizeof path, "%s/results.json", r->dir);
	json_error_t jerr;
	json_t *res = json_load_file(path, 0, &jerr);
	if (res && !json_is_object(res)) {
		json_decref(res);
		res = NULL;
	}
	r->figures = res ? figures_of(res) : json_object();
	r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	const char *why = res ? reason_of(res) : NULL;
	const char *expect = hx_campaign_expect_name(e->expect);
	if (timed_out) {
		r->outcome = HX_CAMPAIGN_ERROR;
		hx_fmt(r->verdict, sizeof r->verdict, "error");
		hx_fmt(r->message, sizeof r->message, "did not finish within %.0f s (stopped)", r->timeout);
	} else if (status == -1 || !WIFEXITED(status)) {
		r->outcome = HX_CAMPAIGN_ERROR;
		hx_fmt(r->verdict, sizeof r->verdict, "error");
		hx_fmt(r->message, sizeof r->message, "rapat run %s",
			 status == -1 ? "could not be waited for"
				      : WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "ended oddly");
	} else if (r->exit_code == 0 || r->exit_code == 1 || r->exit_code == 3) {
		hx_fmt(r->verdict, sizeof r->verdict, "%s",
			 r->exit_code == 0 ? "valid" : r->exit_code == 1 ? "invalid" : "unknown");
		if (!strcmp(r->verdict, expect)) {
			r->outcome = HX_CAMPAIGN_PASSED;
			hx_fmt(r->message, sizeof r->message, "%s as expected%s%s", r->verdict, why ? ": " : "",
				 why ? why : "");
		} else if (e->expect == HX_CAMPAIGN_VALID && r->exit_code == 3) {
			r->outcome = HX_CAMPAIGN_SKIPPED;
			hx_fmt(r->message, sizeof r->message, "unknown: %s", why ? why : "(no reason given)");
		} else {
			r->outcome = HX_CAMPAIGN_FAILED;
			hx_fmt(r->message, sizeof r->message, "expected %s, got %s%s%s", expect, r->verdict,
				 why ? ": " : "", why ? why : "");
		}
	} else {
		r->outcome = HX_CAMPAIGN_ERROR;
		hx_fmt(r->verdict, sizeof r->verdict, "error");
		hx_fmt(r->message, sizeof r->message, "rapat run exited %d (%s)%s%s", r->exit_code,
			 r->exit_code == 2 ? "usage error or bad plan" : r->exit_code == 4 ? "the harness failed"
											   : "unexpected exit code",
			 why ? ": " : "", why ? why : "");
	}
	if (!res && r->outcome != HX_CAMPAIGN_ERROR) {
		/* an exit code without results.json: trust the code, but say so */
		size_t l = strlen(r->message);
		hx_fmt(r->message + l, sizeof r->message - l, " (no results.json)");
	}
	json_decref(res);
}

/* Tail of the run's output file, for messages (last `lines` lines). */
static void output_tail(const char *path, char *out, size_t len, int lines)
{
	out[0] = 0;
	FILE *fp = fopen(path, "r");
	if (!fp)
		return;
	char buf[8192];
	fseek(fp, 0, SEEK_END);
	long sz = ftell(fp);
	long from = sz > (long)sizeof buf - 1 ? sz - (long)sizeof buf + 1 : 0;
	fseek(fp, from, SEEK_SET);
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = 0;
	size_t at = n;
	int seen = 0;
	while (at > 0) {
		at--;
		if (buf[at] == '\n' && at + 1 < n && ++seen > lines) {
			at++;
			break;
		}
	}
	hx_fmt(out, len, "%s", buf + at);
}

static void run_one(struct hx_campaign_state *st, struct hx_campaign_result *r)
{
	const struct hx_campaign_entry *e = &st->c.entries[r->entry];
	hx_fmt(r->dir, sizeof r->dir, "%s/%s", st->dir, r->name);
	hx_fmt(r->out_path, sizeof r->out_path, "%s/%s.out", st->dir, r->name);
	r->timeout = e->timeout > 0 ? e->timeout : e->time_limit > 0 ? e->time_limit * 3 + 600 : 3600;
	char *argv[2 * HX_CAMPAIGN_MAX_SETS + 24];
	run_argv(st, r, argv, sizeof argv / sizeof *argv);
	r->argv = json_array();
	for (size_t i = 0; argv[i]; i++)
		json_array_append_new(r->argv, json_string(argv[i]));
	r->started = true;
	double t0 = now_s();
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		r->outcome = HX_CAMPAIGN_ERROR;
		hx_fmt(r->verdict, sizeof r->verdict, "error");
		hx_fmt(r->message, sizeof r->message, "fork: %s", strerror(errno));
		r->figures = json_object();
		return;
	}
	if (pid == 0) {
		int fd = open(r->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (in >= 0)
			dup2(in, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execv(argv[0], argv);
		fprintf(stderr, "rapat campaign: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	bool timed_out = false, interrupted = false;
	int status = wait_child(pid, r->timeout, &timed_out, &interrupted);
	r->duration = now_s() - t0;
	judge(st, r, status, timed_out);
	if (interrupted) { /* stopped half-way: whatever it found, the run is incomplete */
		char was[sizeof r->message];
		hx_fmt(was, sizeof was, "%s", r->message);
		r->outcome = HX_CAMPAIGN_ERROR;
		hx_fmt(r->message, sizeof r->message, "interrupted (%s) while running; %s",
				g_stop == SIGINT ? "SIGINT" : "SIGTERM", was);
	}
	if (r->outcome == HX_CAMPAIGN_ERROR && r->exit_code != 1) {
		char tail[1024];
		output_tail(r->out_path, tail, sizeof tail, 4);
		if (*tail) {
			size_t l = strlen(r->message);
			hx_fmt(r->message + l, sizeof r->message - l, "; output ends: %s", tail);
		}
	}
	/* A run that crashed before writing its page still gets one. */
	char page[PATH_MAX + 32], err[512];
	hx_fmt(page, sizeof page, "%s/report.html", r->dir);
	if (access(page, F_OK) != 0 && access(r->dir, F_OK) == 0)
		hx_report_write(r->dir, err, sizeof err);
}

static const char *outcome_word(enum hx_campaign_outcome o)
{
	switch (o) {
	case HX_CAMPAIGN_PASSED: return "passed";
	case HX_CAMPAIGN_FAILED: return "FAILED";
	case HX_CAMPAIGN_ERROR: return "ERROR";
	case HX_CAMPAIGN_SKIPPED: return "skipped";
	}
	return "?";
}

int hx_campaign_main(int argc, char **argv)
{
	const char *file = NULL, *junit = NULL, *post = NULL, *out = NULL;
	double budget = 0;
	bool list = false;
	unsigned shard = 1, n_shards = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return 0;
		}
		if (!strcmp(a, "--list")) {
			list = true;
			continue;
		}
		if (a[0] != '-') {
			if (file) {
				fprintf(stderr, "rapat campaign: unexpected argument '%s' (one campaign file)\n", a);
				return 2;
			}
			file = a;
			continue;
		}
		char name[32];
		const char *val = NULL, *eq = strchr(a, '=');
		if (eq && (size_t)(eq - a) < sizeof name) {
			memcpy(name, a, (size_t)(eq - a));
			name[eq - a] = 0;
			val = eq + 1;
		} else {
			hx_fmt(name, sizeof name, "%s", a);
		}
		if (strcmp(name, "--budget") && strcmp(name, "--shard") && strcmp(name, "--junit") &&
		    strcmp(name, "--post") && strcmp(name, "--out")) {
			fprintf(stderr, "rapat campaign: unknown option '%s'\n(see rapat campaign --help)\n", name);
			return 2;
		}
		if (!val) {
			if (i + 1 >= argc) {
				fprintf(stderr, "rapat campaign: option '%s' needs a value\n", name);
				return 2;
			}
			val = argv[++i];
		}
		if (!strcmp(name, "--budget")) {
			char *end;
			budget = strtod(val, &end);
			if (end == val || *end || !isfinite(budget) || budget <= 0) {
				fprintf(stderr, "rapat campaign: --budget: '%s' is not a positive number of seconds\n", val);
				return 2;
			}
		} else if (!strcmp(name, "--shard")) {
			if (hx_campaign_parse_shard(val, &shard, &n_shards) != 0) {
				fprintf(stderr, "rapat campaign: --shard: '%s' is not I/N with 1 <= I <= N <= 1000\n", val);
				return 2;
			}
		} else if (!strcmp(name, "--junit")) {
			junit = val;
		} else if (!strcmp(name, "--post")) {
			if (strncmp(val, "http://", 7) && strncmp(val, "https://", 8)) {
				fprintf(stderr, "rapat campaign: --post: '%s' is not an http:// or https:// URL\n", val);
				return 2;
			}
			post = val;
		} else {
			out = val;
		}
	}
	if (!file) {
		fputs("rapat campaign: missing CAMPAIGN.lua\n(see rapat campaign --help)\n", stderr);
		return 2;
	}
	struct hx_campaign_state st = {.shard = shard, .n_shards = n_shards, .budget = budget};
	char err[2048];
	if (hx_campaign_load(&st.c, file, err, sizeof err) != 0) {
		fprintf(stderr, "rapat campaign: %s\n", err);
		return 2;
	}
	size_t total = 0;
	for (size_t i = 0; i < st.c.n_entries; i++)
		total += st.c.entries[i].n_seeds;
	st.runs = calloc(total ? total : 1, sizeof *st.runs);
	if (!st.runs) {
		hx_campaign_free(&st.c);
		return 4;
	}
	st.total_all = total;
	build_runs(&st);
	if (list) {
		for (size_t i = 0; i < st.n_runs; i++) {
			const struct hx_campaign_entry *e = &st.c.entries[st.runs[i].entry];
			printf("%s\t%s\t%s\texpect %s\n", st.runs[i].name, e->plan, e->db ? e->db : "-",
			       hx_campaign_expect_name(e->expect));
		}
		free(st.runs);
		hx_campaign_free(&st.c);
		return 0;
	}
	find_rapat(st.rapat, sizeof st.rapat);
	time_t wall = time(NULL);
	struct tm tm;
	gmtime_r(&wall, &tm);
	strftime(st.started, sizeof st.started, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (out) {
		hx_fmt(st.dir, sizeof st.dir, "%s", out);
	} else {
		char ts[32];
		strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
		if (n_shards > 1)
			hx_fmt(st.dir, sizeof st.dir, "store/campaigns/%s/%s-shard%uof%u", st.c.name, ts, shard, n_shards);
		else
			hx_fmt(st.dir, sizeof st.dir, "store/campaigns/%s/%s", st.c.name, ts);
	}
	int code = 0;
	if (hx_mkdir_p(st.dir, err, sizeof err) != 0) {
		fprintf(stderr, "rapat campaign: %s\n", err);
		code = 4;
		goto out;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	struct sigaction old_int, old_term;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	printf("rapat campaign %s: %zu run(s)", st.c.name, st.n_runs);
	if (n_shards > 1)
		printf(" (shard %u/%u of %zu)", shard, n_shards, total);
	if (budget > 0)
		printf(", budget %.0f s", budget);
	printf(", directory %s (index.html), runs with %s\n", st.dir, st.rapat);
	fflush(stdout);
	/* the files exist from the start, so a long campaign can be watched */
	if (hx_campaign_write_json(&st, err, sizeof err) != 0 || hx_campaign_write_index(&st, err, sizeof err) != 0)
		fprintf(stderr, "rapat campaign: %s\n", err);
	double t0 = now_s(), sum = 0;
	size_t done = 0;
	for (size_t i = 0; i < st.n_runs; i++) {
		struct hx_campaign_result *r = &st.runs[i];
		const struct hx_campaign_entry *e = &st.c.entries[r->entry];
		double elapsed = now_s() - t0;
		/* estimate: the mean of the runs so far, at least the entry's time limit */
		double est = done ? sum / (double)done : 0;
		if (e->time_limit > est)
			est = e->time_limit;
		if (g_stop || (budget > 0 && elapsed + est > budget)) {
			/* an interrupted campaign is incomplete: its unstarted runs are errors */
			r->outcome = g_stop ? HX_CAMPAIGN_ERROR : HX_CAMPAIGN_SKIPPED;
			r->budget_skip = !g_stop;
			hx_fmt(r->verdict, sizeof r->verdict, "not run");
			if (g_stop)
				hx_fmt(r->message, sizeof r->message, "interrupted (%s) before it started",
						g_stop == SIGINT ? "SIGINT" : "SIGTERM");
			else
				hx_fmt(r->message, sizeof r->message,
					 "budget: %.0f s used of %.0f s, a run takes about %.0f s", elapsed, budget, est);
			r->figures = json_object();
			printf("[%zu/%zu] %s: %s (%s)\n", i + 1, st.n_runs, r->name, g_stop ? "not run" : "skipped",
			       r->message);
			fflush(stdout);
			continue;
		}
		printf("[%zu/%zu] %s: rapat run %s --seed %lld ...\n", i + 1, st.n_runs, r->name, e->plan, r->seed);
		fflush(stdout);
		run_one(&st, r);
		done++;
		sum += r->duration;
		printf("[%zu/%zu] %s: %s, expected %s: %s (%.1f s) %s\n", i + 1, st.n_runs, r->name, r->verdict,
		       hx_campaign_expect_name(e->expect), outcome_word(r->outcome), r->duration, r->dir);
		if (r->outcome != HX_CAMPAIGN_PASSED)
			printf("    %s\n", r->message);
		fflush(stdout);
		st.elapsed = now_s() - t0;
		if (hx_campaign_write_json(&st, err, sizeof err) != 0 ||
		    hx_campaign_write_index(&st, err, sizeof err) != 0)
			fprintf(stderr, "rapat campaign: %s\n", err);
	}
	st.elapsed = now_s() - t0;
	size_t failed = 0;
	for (size_t i = 0; i < st.n_runs; i++) {
		enum hx_campaign_outcome o = st.runs[i].outcome;
		st.counts[o]++;
		failed += o == HX_CAMPAIGN_FAILED || o == HX_CAMPAIGN_ERROR;
	}
	code = failed ? 1 : 0;
	st.exit_code = code;
	char junit_path[PATH_MAX + 16];
	hx_fmt(junit_path, sizeof junit_path, "%s/junit.xml", st.dir);
	if (hx_campaign_write_junit(&st, junit_path, err, sizeof err) != 0)
		fprintf(stderr, "rapat campaign: %s\n", err);
	if (junit && hx_campaign_write_junit(&st, junit, err, sizeof err) != 0) {
		fprintf(stderr, "rapat campaign: --junit: %s\n", err);
		code = code ? code : 4;
	}
	if (post) {
		st.post_url = post;
		st.post_done = true;
		if (hx_campaign_post(&st, post, &st.post_status, st.post_err, sizeof st.post_err) == 0) {
			st.post_ok = true;
			printf("posted the summary to %s (HTTP %ld)\n", post, st.post_status);
		} else {
			fprintf(stderr, "rapat campaign: --post %s failed: %s (the verdict stands)\n", post, st.post_err);
		}
	}
	if (hx_campaign_write_json(&st, err, sizeof err) != 0 || hx_campaign_write_index(&st, err, sizeof err) != 0)
		fprintf(stderr, "rapat campaign: %s\n", err);
	printf("campaign %s: %zu passed, %zu failed, %zu errors, %zu skipped in %.0f s; %s/campaign.json\n",
	       st.c.name, st.counts[HX_CAMPAIGN_PASSED], st.counts[HX_CAMPAIGN_FAILED],
	       st.counts[HX_CAMPAIGN_ERROR], st.counts[HX_CAMPAIGN_SKIPPED], st.elapsed, st.dir);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
out:
	for (size_t i = 0; i < st.n_runs; i++) {
		json_decref(st.runs[i].figures);
		json_decref(st.runs[i].argv);
	}
	free(st.runs);
	hx_campaign_free(&st.c);
	return code;
}
