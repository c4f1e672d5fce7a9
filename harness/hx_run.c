/* hx_run.c — `rapat run`: plan loading, run directory, lab and event loop
 * setup, the main task, teardown, results.json, summary and exit code. */
#include "harness/hx_run.h"
#include "harness/hx_disk.h"
#include "harness/hx_util.h"
#include "harness/hx_json.h"
#include "harness/hx_net.h"
#include "harness/hx_tls.h"
#ifdef HX_HAVE_REPORT
#include "harness/report/hx_report.h"
#endif
#include "harness/lab.h"

#include <curl/curl.h>
#include <errno.h>
#include <lauxlib.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


void hx_log(struct hx_run *run, bool echo, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	double t = run->hist_open ? hx_history_elapsed(&run->hist) : 0.0;
	if (run->log) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		struct tm tm;
		gmtime_r(&ts.tv_sec, &tm);
		char wall[32];
		strftime(wall, sizeof wall, "%H:%M:%S", &tm);
		fprintf(run->log, "%s.%03ldZ %9.3f %s\n", wall, ts.tv_nsec / 1000000, t, msg);
		fflush(run->log);
	}
	if (echo) {
		if (run->tty)
			fputs("\r\033[K", stdout);
		fflush(stdout);
		fprintf(stderr, "[%7.2fs] %s\n", t, msg);
	}
}

/* The repository root: $RAPAT_ROOT, else the parent of the directory
 * holding this executable (bin/rapat -> .), checked by harness/lua/plan.lua
 * being there. */
static int find_root(char *root, size_t len, char *err, size_t errlen)
{
	const char *env = getenv("RAPAT_ROOT");
	char probe[PATH_MAX + 64];
	if (env && *env) {
		if (!realpath(env, root)) {
			hx_fmt(err, errlen, "RAPAT_ROOT=%s: %s", env, strerror(errno));
			return -1;
		}
		return 0;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n < 0) {
		hx_fmt(err, errlen, "readlink /proc/self/exe: %s", strerror(errno));
		return -1;
	}
	exe[n] = 0;
	/* Walk up from the binary until harness/lua/plan.lua appears. */
	for (int up = 0; up < 4; up++) {
		char *slash = strrchr(exe, '/');
		if (!slash)
			break;
		*slash = 0;
		hx_fmt(probe, sizeof probe, "%s/harness/lua/plan.lua", exe);
		if (access(probe, R_OK) == 0) {
			hx_fmt(root, len, "%s", exe);
			return 0;
		}
	}
	hx_fmt(err, errlen, "cannot find the rapat tree (harness/lua/plan.lua) above %s; set RAPAT_ROOT",
	         exe);
	return -1;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct hx_run *run = arg;
	if (sig == SIGCHLD) {
		hx_nodes_reap(run);
		return;
	}
	run->signals++;
	if (run->signals == 1) {
		run->stopping = true;
		hx_fmt(run->stop_reason, sizeof run->stop_reason, "interrupted by SIG%s",
		         sigabbrev_np((int)sig));
		hx_log(run, true, "SIG%s: stopping the workload, healing faults (again to abort)",
		       sigabbrev_np((int)sig));
		hx_sched_interrupt_sleepers(run);
	} else {
		hx_log(run, true, "SIG%s again: aborting", sigabbrev_np((int)sig));
		event_base_loopbreak(run->base);
	}
}

static void on_progress(evutil_socket_t fd, short what, void *arg)
{
	struct hx_run *run = arg;
	struct hx_counts *c = &run->hist.counts;
	double t = hx_history_elapsed(&run->hist);
	uint64_t done = c->ok + c->fail + c->info;
	/* ops/s since the previous tick: what the system does now (a fault
	 * shows at once), not the average of the whole run. */
	double dt = t - run->progress_last_t;
	double rate = dt > 0 ? (double)(done - run->progress_last_done) / dt : 0;
	run->progress_last_t = t;
	run->progress_last_done = done;
	char faults[128];
	hx_history_current_faults(&run->hist, faults, sizeof faults);
	printf("\r\033[K[%5.0fs/%.0fs] %6.0f ops/s  ok %llu  fail %llu  info %llu  faults: %s%s%s", t,
	       run->time_limit, rate, (unsigned long long)c->ok, (unsigned long long)c->fail,
	       (unsigned long long)c->info, faults[0] ? faults : "none",
	       run->progress_status[0] ? "  " : "", run->progress_status);
	fflush(stdout);
}

/* Field `name` of the table on top of L as JSON when it is a non-empty
 * table, else NULL (nil, or a value that cannot be JSON: results.json then
 * simply has no such field). */
static json_t *object_field(lua_State *L, const char *name)
{
	char err[256];
	lua_getfield(L, -1, name);
	json_t *j = lua_istable(L, -1) ? hx_json_from_lua(L, -1, err, sizeof err) : NULL;
	lua_pop(L, 1);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* results.json: the contract's shape plus what reproduces the run. */
static json_t *build_results(struct hx_run *run, json_t *checkers, json_t *perf,
                             json_t *availability, const char *valid_word, const char *reason,
                             double duration)
{
	json_t *r = json_object();
	if (!strcmp(valid_word, "true"))
		json_object_set_new(r, "valid", json_true());
	else if (!strcmp(valid_word, "false"))
		json_object_set_new(r, "valid", json_false());
	else
		json_object_set_new(r, "valid", json_string("unknown"));
	lua_State *L = run->L;
	lua_rawgeti(L, LUA_REGISTRYINDEX, run->plan_ref);
	lua_getfield(L, -1, "name");
	json_object_set_new(r, "plan", json_string(lua_tostring(L, -1)));
	lua_pop(L, 1);
	json_object_set_new(r, "seed", json_integer(run->seed));
	json_object_set_new(r, "nodes", json_integer(run->n_nodes));
	json_object_set_new(r, "duration_s", json_real((double)(long long)(duration * 10 + 0.5) / 10));
	json_object_set_new(r, "tls", json_boolean(run->tls));
	struct hx_counts *c = &run->hist.counts;
	json_object_set_new(r, "ops", json_pack("{s:I, s:I, s:I, s:I}", "invoke", (json_int_t)c->invoke,
	                                        "ok", (json_int_t)c->ok, "fail", (json_int_t)c->fail,
	                                        "info", (json_int_t)c->info));
	json_object_set(r, "faults", run->hist.faults ? run->hist.faults : json_array());
	json_object_set(r, "checkers", checkers);
	/* The workloads' figures (workloads/lib/stats.lua), absent when no
	 * workload checker ran (an interrupted or failed run). */
	if (perf)
		json_object_set(r, "perf", perf);
	if (availability)
		json_object_set(r, "availability", availability);
	if (reason)
		json_object_set_new(r, "reason", json_string(reason));
	json_object_set(r, "crashes", run->crashes);
	json_t *argv = json_array();
	for (int i = 0; i < run->cli->argc; i++)
		json_array_append_new(argv, json_string(run->cli->argv[i]));
	json_object_set_new(r, "argv", argv);
	lua_getfield(L, -1, "options");
	char err[256];
	json_t *opts = hx_json_from_lua(L, -1, err, sizeof err);
	lua_pop(L, 1);
	json_object_set_new(r, "options", opts ? opts : json_null());
	lua_getfield(L, -1, "adapter_path");
	json_object_set_new(r, "adapter", json_string(lua_tostring(L, -1)));
	lua_pop(L, 2);
	json_object_set_new(r, "run_dir", json_string(run->run_dir));
	return r;
}

static int write_json_file(const char *path, json_t *j, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 8];
	hx_fmt(tmp, sizeof tmp, "%s.tmp", path);
	if (json_dump_file(j, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9)) != 0 || rename(tmp, path) != 0) {
		hx_fmt(err, errlen, "write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Calls require(mod)[fn] with the values on top (nargs), protected.
 * Leaves one result on success; on failure returns -1 with err set and
 * *usage true when the error was a {usage = msg} table. */
static int call_lua(lua_State *L, const char *mod, const char *fn, int nargs, bool *usage, char *err,
                    size_t errlen)
{
	*usage = false;
	lua_getglobal(L, "require");
	lua_pushstring(L, mod);
	if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
		hx_fmt(err, errlen, "%s", lua_tostring(L, -1));
		lua_pop(L, 1 + nargs);
		return -1;
	}
	lua_getfield(L, -1, fn);
	lua_remove(L, -2);
	lua_insert(L, -(nargs + 1));
	if (lua_pcall(L, nargs, 1, 0) != LUA_OK) {
		if (lua_istable(L, -1)) {
			lua_getfield(L, -1, "usage");
			*usage = lua_isstring(L, -1);
			hx_fmt(err, errlen, "%s", *usage ? lua_tostring(L, -1) : "error");
			lua_pop(L, 1);
		} else {
			hx_fmt(err, errlen, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
		}
		lua_pop(L, 1);
		return -1;
	}
	return 0;
}

static void argv_string(struct hx_cli *cli, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = 0;
	for (int i = 0; i < cli->argc && off < len; i++)
		off += (size_t)hx_fmt(buf + off, len - off, "%s%s", i ? " " : "", cli->argv[i]);
}

/* Load and validate the plan (before anything starts): 0, or an exit code. */
static int load_plan(struct hx_run *run)
{
	struct hx_cli *cli = run->cli;
	lua_State *L = run->L;
	char err[4096];
	bool usage;
	lua_newtable(L);
	lua_pushstring(L, cli->plan_path);
	lua_setfield(L, -2, "plan_path");
	lua_pushstring(L, run->root);
	lua_setfield(L, -2, "root");
	lua_newtable(L);
	if (cli->has_seed) {
		lua_pushinteger(L, cli->seed);
		lua_setfield(L, -2, "seed");
	}
	if (cli->has_time_limit) {
		lua_pushnumber(L, cli->time_limit);
		lua_setfield(L, -2, "time_limit");
	}
	if (cli->has_nodes) {
		lua_pushinteger(L, cli->nodes);
		lua_setfield(L, -2, "nodes");
	}
	if (cli->has_concurrency) {
		lua_pushinteger(L, cli->concurrency);
		lua_setfield(L, -2, "concurrency");
	}
	lua_setfield(L, -2, "overrides");
	if (cli->db) {
		lua_pushstring(L, cli->db);
		lua_setfield(L, -2, "db");
	}
	lua_createtable(L, cli->n_sets, 0);
	for (int i = 0; i < cli->n_sets; i++) {
		lua_pushstring(L, cli->sets[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "sets");
	if (call_lua(L, "plan", "load", 1, &usage, err, sizeof err) != 0) {
		fprintf(stderr, "rapat: %s\n", err);
		return usage ? HX_EXIT_USAGE : HX_EXIT_HARNESS;
	}
	run->plan_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_rawgeti(L, LUA_REGISTRYINDEX, run->plan_ref);
	lua_getfield(L, -1, "options");
	lua_getfield(L, -1, "seed");
	run->seed = (long long)lua_tonumber(L, -1);
	lua_pop(L, 1);
	if (run->seed == 0) {
		/* No seed given: derive one and record it, so the run can be
		 * repeated with --seed. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		run->seed = ((long long)ts.tv_nsec ^ ((long long)getpid() << 16) ^ ts.tv_sec) % 1000000000 + 1;
		if (run->seed < 0)
			run->seed = -run->seed;
		lua_pushinteger(L, run->seed);
		lua_setfield(L, -2, "seed");
	}
	lua_getfield(L, -1, "tls");
	run->tls = lua_toboolean(L, -1);
	lua_pop(L, 1);
	lua_getfield(L, -1, "time_limit");
	run->time_limit = lua_tonumber(L, -1);
	lua_getfield(L, -2, "nodes");
	run->n_nodes = (unsigned)lua_tointeger(L, -1);
	lua_pop(L, 4);
	return 0;
}

/* With tls = true: the run's CA and certificates in <run>/tls, published to
 * Lua as hx.tls = {ca, client = {cert, key}, nodes = {id = {cert, key}}}. */
static int make_tls(struct hx_run *run, char *err, size_t errlen)
{
	const char *names[64], *ips[64];
	struct hx_tls_ident node[64], client;
	char dir[PATH_MAX + 8], ca[PATH_MAX];
	for (unsigned i = 0; i < run->n_nodes; i++) {
		names[i] = run->nodes[i].id;
		ips[i] = run->nodes[i].ip;
	}
	hx_fmt(dir, sizeof dir, "%s/tls", run->run_dir);
	uint64_t t0 = hx_now_ns();
	if (hx_tls_make(dir, names, ips, run->n_nodes, ca, sizeof ca, node, &client, err, errlen) != 0)
		return -1;
	hx_log(run, false, "tls: CA and %u node certificates in %s (%.0f ms)", run->n_nodes, dir,
	       (double)(hx_now_ns() - t0) / 1e6);
	lua_State *L = run->L;
	lua_getglobal(L, "require");
	lua_pushliteral(L, "hx");
	lua_call(L, 1, 1);
	lua_newtable(L);
	lua_pushstring(L, ca);
	lua_setfield(L, -2, "ca");
	lua_createtable(L, 0, 2);
	lua_pushstring(L, client.cert);
	lua_setfield(L, -2, "cert");
	lua_pushstring(L, client.key);
	lua_setfield(L, -2, "key");
	lua_setfield(L, -2, "client");
	lua_newtable(L);
	for (unsigned i = 0; i < run->n_nodes; i++) {
		lua_createtable(L, 0, 2);
		lua_pushstring(L, node[i].cert);
		lua_setfield(L, -2, "cert");
		lua_pushstring(L, node[i].key);
		lua_setfield(L, -2, "key");
		lua_setfield(L, -2, run->nodes[i].id);
	}
	lua_setfield(L, -2, "nodes");
	lua_setfield(L, -2, "tls");
	lua_pop(L, 1);
	return 0;
}

static int make_run_dir(struct hx_run *run, char *err, size_t errlen)
{
	lua_State *L = run->L;
	lua_rawgeti(L, LUA_REGISTRYINDEX, run->plan_ref);
	lua_getfield(L, -1, "name");
	char name[128];
	hx_fmt(name, sizeof name, "%s", lua_tostring(L, -1));
	lua_pop(L, 2);
	for (char *p = name; *p; p++)
		if (*p == '/' || *p == ' ')
			*p = '_';
	char rel[PATH_MAX];
	if (run->cli->out) {
		hx_fmt(rel, sizeof rel, "%s", run->cli->out);
	} else {
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		char stamp[32];
		strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
		hx_fmt(rel, sizeof rel, "store/%s/%s-s%lld", name, stamp, run->seed);
		/* Two runs in the same second with the same seed: add a suffix. */
		struct stat st;
		for (int i = 2; stat(rel, &st) == 0 && i < 100; i++)
			hx_fmt(rel, sizeof rel, "store/%s/%s-s%lld.%d", name, stamp, run->seed, i);
	}
	if (hx_mkdir_p(rel, err, errlen) != 0)
		return -1;
	char hist[PATH_MAX + 32];
	hx_fmt(hist, sizeof hist, "%s/history.jsonl", rel);
	if (run->cli->out && access(hist, F_OK) == 0) {
		hx_fmt(err, errlen, "--out %s: already holds a run (history.jsonl); choose a new directory",
		         rel);
		return -1;
	}
	if (!realpath(rel, run->run_dir)) {
		hx_fmt(err, errlen, "realpath %s: %s", rel, strerror(errno));
		return -1;
	}
	/* store/latest -> the run, for runs in the store. A run with --out (tests,
	 * benchmarks, scripts) leaves the store alone, so that it never moves the
	 * user's "latest" away from their last real run. The link is replaced
	 * atomically (symlink + rename). */
	if (!run->cli->out) {
		char tmp[64];
		hx_fmt(tmp, sizeof tmp, "store/.latest.%d", (int)getpid());
		unlink(tmp);
		if (symlink(rel + strlen("store/"), tmp) == 0)
			rename(tmp, "store/latest");
	}
	return 0;
}

static int write_plan_copy(struct hx_run *run, char *err, size_t errlen)
{
	lua_State *L = run->L;
	char cmd[4096];
	argv_string(run->cli, cmd, sizeof cmd);
	bool usage;
	lua_rawgeti(L, LUA_REGISTRYINDEX, run->plan_ref);
	lua_pushstring(L, cmd);
	if (call_lua(L, "plan", "annotated_source", 2, &usage, err, errlen) != 0)
		return -1;
	char path[PATH_MAX + 16];
	hx_fmt(path, sizeof path, "%s/plan.lua", run->run_dir);
	FILE *f = fopen(path, "w");
	size_t len;
	const char *s = lua_tolstring(L, -1, &len);
	int rc = 0;
	if (!f || fwrite(s, 1, len, f) != len) {
		hx_fmt(err, errlen, "write %s: %s", path, strerror(errno));
		rc = -1;
	}
	if (f)
		fclose(f);
	lua_pop(L, 1);
	return rc;
}

static const char *verdict_of(json_t *checkers)
{
	const char *key;
	json_t *v;
	bool any = false, unknown = false;
	json_object_foreach(checkers, key, v) {
		json_t *valid = json_object_get(v, "valid");
		any = true;
		if (json_is_false(valid))
			return "false";
		if (!json_is_true(valid))
			unknown = true;
	}
	return !any || unknown ? "unknown" : "true";
}

static void print_summary(struct hx_run *run, json_t *results, int code)
{
	json_t *ops = json_object_get(results, "ops");
	printf("\n== rapat run %s, seed %lld: %u nodes, %.1f s\n",
	       json_string_value(json_object_get(results, "plan")), run->seed, run->n_nodes,
	       json_real_value(json_object_get(results, "duration_s")));
	printf("   ops: %lld invoked, %lld ok, %lld fail, %lld info\n",
	       (long long)json_integer_value(json_object_get(ops, "invoke")),
	       (long long)json_integer_value(json_object_get(ops, "ok")),
	       (long long)json_integer_value(json_object_get(ops, "fail")),
	       (long long)json_integer_value(json_object_get(ops, "info")));
	json_t *faults = json_object_get(results, "faults");
	size_t i;
	json_t *f;
	char kinds[512] = "";
	size_t off = 0;
	json_array_foreach(faults, i, f) {
		const char *k = json_string_value(json_object_get(f, "f"));
		off += (size_t)hx_fmt(kinds + off, off < sizeof kinds ? sizeof kinds - off : 0, "%s%s",
		                        i ? ", " : "", k ? k : "?");
		if (off >= sizeof kinds)
			break;
	}
	printf("   faults: %zu%s%s%s\n", json_array_size(faults), off ? " (" : "", off ? kinds : "",
	       off ? ")" : "");
	if (json_array_size(run->crashes))
		printf("   UNEXPECTED node exits: %zu (see results.json \"crashes\")\n",
		       json_array_size(run->crashes));
	const char *name;
	json_t *c;
	json_object_foreach(json_object_get(results, "checkers"), name, c) {
		json_t *valid = json_object_get(c, "valid");
		const char *w = json_is_true(valid) ? "valid" : json_is_false(valid) ? "INVALID" : "unknown";
		printf("   %s: %s", name, w);
		if (json_object_get(c, "time_s"))
			printf(" (%lld ops, %.2f s)", (long long)json_integer_value(json_object_get(c, "ops")),
			       json_number_value(json_object_get(c, "time_s")));
		const char *why = json_string_value(json_object_get(c, "reason"));
		if (why && !json_is_true(valid))
			printf(": %s", why);
		printf("\n");
	}
	const char *reason = json_string_value(json_object_get(results, "reason"));
	static const char *const words[] = {"VALID", "INVALID", "USAGE ERROR", "UNKNOWN", "HARNESS FAILURE"};
	printf("verdict: %s%s%s (exit %d)\n", words[code], reason ? ": " : "", reason ? reason : "", code);
	printf("run directory: %s\n", run->run_dir);
	char rep[PATH_MAX + 16];
	hx_fmt(rep, sizeof rep, "%s/report.html", run->run_dir);
	if (access(rep, R_OK) == 0)
		printf("report: %s\n", rep);
	fflush(stdout);
}

/* report.html next to results.json (harness/report); a failure here never
 * changes the verdict, it is logged and `rapat report RUN_DIR` can retry. */
static void write_report(struct hx_run *run)
{
#ifdef HX_HAVE_REPORT
	char err[1024];
	if (hx_report_write(run->run_dir, err, sizeof err) != 0)
		hx_log(run, true, "report.html: %s", err);
#else
	hx_log(run, false, "report.html: not built into this rapat (harness/report)");
#endif
}

static void teardown(struct hx_run *run)
{
	run->shutting_down = true;
	if (run->progress) {
		event_free(run->progress);
		run->progress = NULL;
		if (run->tty) {
			printf("\r\033[K");
			fflush(stdout);
		}
	}
	hx_nodes_kill_all(run);
	/* After the nodes are dead (a busy mount would only be detached). */
	hx_disk_lazyfs_stop_all(run);
	hx_net_heal_all(run);
	if (run->lab) {
		hx_lab_destroy(run->lab);
		run->lab = NULL;
		hx_log(run, false, "lab destroyed");
	}
}

int hx_run_main(struct hx_cli *cli)
{
	struct hx_run *run = calloc(1, sizeof *run);
	char err[4096];
	int code = HX_EXIT_HARNESS;
	json_t *checkers = NULL, *perf = NULL, *availability = NULL;
	char reason[2048] = "";
	if (!run) {
		fprintf(stderr, "rapat: out of memory\n");
		return HX_EXIT_HARNESS;
	}
	run->cli = cli;
	run->plan_ref = LUA_NOREF;
	run->crashes = json_array();
	run->tty = isatty(STDOUT_FILENO) == 1;
	if (find_root(run->root, sizeof run->root, err, sizeof err) != 0) {
		fprintf(stderr, "rapat: %s\n", err);
		goto out;
	}
	/* Plan, workload and adapter are loaded and checked before anything
	 * starts. The Lua VM creates no threads, so this may precede
	 * hx_lab_enter (which needs a single-threaded process). */
	if (hx_lua_open(run, err, sizeof err) != 0) {
		fprintf(stderr, "rapat: %s\n", err);
		goto out;
	}
	code = load_plan(run);
	if (code != 0)
		goto out;
	code = HX_EXIT_USAGE;
	if (make_run_dir(run, err, sizeof err) != 0) {
		fprintf(stderr, "rapat: %s\n", err);
		goto out;
	}
	code = HX_EXIT_HARNESS;
	char path[PATH_MAX + 32];
	hx_fmt(path, sizeof path, "%s/harness.log", run->run_dir);
	run->log = fopen(path, "w");
	if (!run->log) {
		fprintf(stderr, "rapat: open %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (write_plan_copy(run, err, sizeof err) != 0) {
		fprintf(stderr, "rapat: %s\n", err);
		goto out;
	}
	hx_fmt(path, sizeof path, "%s/history.jsonl", run->run_dir);
	if (hx_history_open(&run->hist, path, err, sizeof err) != 0) {
		fprintf(stderr, "rapat: %s\n", err);
		goto out;
	}
	run->hist_open = true;
	{
		char cmd[4096];
		argv_string(cli, cmd, sizeof cmd);
		hx_log(run, false, "rapat run: %s", cmd);
		hx_log(run, false, "root %s, seed %lld, run directory %s", run->root, run->seed, run->run_dir);
		lua_rawgeti(run->L, LUA_REGISTRYINDEX, run->plan_ref);
		lua_getfield(run->L, -1, "options");
		json_t *o = hx_json_from_lua(run->L, -1, err, sizeof err);
		lua_pop(run->L, 2);
		char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(9)) : NULL;
		hx_log(run, false, "effective options: %s", s ? s : "?");
		free(s);
		json_decref(o);
	}
	printf("rapat: run directory %s (seed %lld)\n", run->run_dir, run->seed);
	fflush(stdout);

	if (hx_lab_enter(err, sizeof err) != 0) {
		hx_log(run, true, "cannot enter the lab: %s", err);
		hx_fmt(reason, sizeof reason, "lab: %s", err);
		goto results;
	}
	signal(SIGPIPE, SIG_IGN);
	run->base = event_base_new();
	if (!run->base || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		hx_fmt(reason, sizeof reason, "event_base_new/curl_global_init failed");
		hx_log(run, true, "%s", reason);
		goto results;
	}
	run->http = hx_http_new(run->base, err, sizeof err);
	if (!run->http) {
		hx_fmt(reason, sizeof reason, "http: %s", err);
		goto results;
	}
	run->sig_int = evsignal_new(run->base, SIGINT, on_signal, run);
	run->sig_term = evsignal_new(run->base, SIGTERM, on_signal, run);
	run->sig_chld = evsignal_new(run->base, SIGCHLD, on_signal, run);
	event_add(run->sig_int, NULL);
	event_add(run->sig_term, NULL);
	event_add(run->sig_chld, NULL);

	uint64_t lab_t0 = hx_now_ns();
	if (hx_lab_create(&run->lab, run->n_nodes, err, sizeof err) != 0) {
		hx_log(run, true, "cannot build the lab: %s", err);
		hx_fmt(reason, sizeof reason, "lab: %s", err);
		goto results;
	}
	hx_log(run, false, "lab: %u nodes on %s, switch %s, built in %.0f ms", run->lab->n_nodes,
	       run->lab->subnet, run->lab->switch_ip, (double)(hx_now_ns() - lab_t0) / 1e6);
	{
		/* The namespaces by inode: tests use them to prove nothing of the
		 * lab outlives the harness. */
		char inos[2048];
		size_t off = 0;
		for (unsigned i = 0; i < run->lab->n_nodes && off < sizeof inos; i++)
			off += (size_t)hx_fmt(inos + off, sizeof inos - off, " %s=net:[%lu]",
			                      run->lab->nodes[i].id, run->lab->nodes[i].netns_ino);
		hx_log(run, false, "lab namespaces: switch=net:[%lu]%s", run->lab->switch_netns_ino, inos);
	}
	for (unsigned i = 0; i < run->n_nodes; i++) {
		struct hx_node *n = &run->nodes[i];
		n->idx = i;
		hx_fmt(n->id, sizeof n->id, "%s", run->lab->nodes[i].id);
		hx_fmt(n->ip, sizeof n->ip, "%s", run->lab->nodes[i].ip);
		/* Every node has its own address, so all share the same ports. */
		n->client_port = 8080;
		n->peer_port = 9090;
		hx_fmt(n->dir, sizeof n->dir, "%s/nodes/%s", run->run_dir, n->id);
		if (hx_mkdir_p(n->dir, err, sizeof err) != 0) {
			hx_fmt(reason, sizeof reason, "%s", err);
			goto results;
		}
	}
	hx_lua_set_nodes(run);
	if (run->tls && make_tls(run, reason, sizeof reason) != 0) {
		hx_log(run, true, "%s", reason);
		goto results;
	}
	{
		/* The seeded random source every plan/nemesis choice draws from. */
		lua_State *L = run->L;
		lua_getglobal(L, "math");
		lua_getfield(L, -1, "randomseed");
		lua_pushinteger(L, run->seed);
		lua_call(L, 1, 0);
		lua_pop(L, 1);
	}
	if (run->tty) {
		run->progress = event_new(run->base, -1, EV_PERSIST, on_progress, run);
		struct timeval tv = {1, 0};
		event_add(run->progress, &tv);
	}

	/* The main task: runner.main(loaded). */
	{
		lua_State *L = run->L;
		lua_getglobal(L, "require");
		lua_pushliteral(L, "runner");
		if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
			hx_fmt(reason, sizeof reason, "%s", lua_tostring(L, -1));
			lua_pop(L, 1);
			hx_log(run, true, "%s", reason);
			goto results;
		}
		lua_getfield(L, -1, "main");
		lua_remove(L, -2);
		lua_rawgeti(L, LUA_REGISTRYINDEX, run->plan_ref);
		if (hx_lua_run_main(run, 1, err, sizeof err) != 0) {
			hx_fmt(reason, sizeof reason, "%s", err);
			hx_log(run, true, "%s", err);
			if (run->signals >= 2)
				code = HX_EXIT_UNKNOWN;
			goto results;
		}
		/* {checkers=, perf=, availability=, reason=, exit=, error=} */
		if (lua_istable(L, -1)) {
			lua_getfield(L, -1, "exit");
			int ex = (int)lua_tointeger(L, -1);
			lua_getfield(L, -2, "error");
			if (ex) {
				hx_fmt(reason, sizeof reason, "%s", lua_tostring(L, -1));
				code = ex;
				fprintf(stderr, "rapat: %s\n", reason);
				hx_log(run, false, "run failed: %s", reason);
				lua_pop(L, 3);
				goto results;
			}
			lua_pop(L, 2);
			lua_getfield(L, -1, "reason");
			if (lua_isstring(L, -1))
				hx_fmt(reason, sizeof reason, "%s", lua_tostring(L, -1));
			lua_pop(L, 1);
			lua_getfield(L, -1, "checkers");
			checkers = hx_json_from_lua(L, -1, err, sizeof err);
			if (checkers && !json_is_object(checkers)) {
				json_decref(checkers);
				checkers = json_object();
			}
			lua_pop(L, 1);
			perf = object_field(L, "perf");
			availability = object_field(L, "availability");
		}
		lua_pop(L, 1);
		code = -1; /* decided by the checkers below */
	}

results:
	teardown(run);
	if (run->hist_open) {
		hx_history_close_open_faults(&run->hist);
		if (!checkers)
			checkers = json_object();
		const char *valid = verdict_of(checkers);
		if (code == -1) {
			code = !strcmp(valid, "true") ? HX_EXIT_VALID :
			       !strcmp(valid, "false") ? HX_EXIT_INVALID : HX_EXIT_UNKNOWN;
			if (run->stopping && code != HX_EXIT_INVALID) {
				code = HX_EXIT_UNKNOWN;
				valid = "unknown";
			}
		} else {
			valid = "unknown";
		}
		if (code == HX_EXIT_UNKNOWN && !reason[0] && json_object_size(checkers) == 0)
			hx_fmt(reason, sizeof reason, "no checker ran");
		double duration = hx_history_elapsed(&run->hist);
		json_t *res = build_results(run, checkers, perf, availability, valid, reason[0] ? reason : NULL, duration);
		hx_fmt(path, sizeof path, "%s/results.json", run->run_dir);
		if (write_json_file(path, res, err, sizeof err) != 0) {
			hx_log(run, true, "%s", err);
			code = HX_EXIT_HARNESS;
		}
		hx_log(run, false, "verdict: valid=%s exit %d", valid, code);
		write_report(run);
		print_summary(run, res, code);
		json_decref(res);
	}
out:
	json_decref(checkers);
	json_decref(perf);
	json_decref(availability);
	if (run->http)
		hx_http_free(run->http);
	if (run->L)
		lua_close(run->L);
	if (run->hist_open)
		hx_history_close(&run->hist);
	if (run->sig_int)
		event_free(run->sig_int);
	if (run->sig_term)
		event_free(run->sig_term);
	if (run->sig_chld)
		event_free(run->sig_chld);
	if (run->base)
		event_base_free(run->base);
	if (run->log)
		fclose(run->log);
	json_decref(run->crashes);
	free(run);
	return code < 0 ? HX_EXIT_HARNESS : code;
}
