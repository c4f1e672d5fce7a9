/* hx_run.h — one harness run: the event loop, the curl engine, the Lua VM
 * with its coroutine scheduler, the recorder, the lab and its nodes, the run
 * directory. Every piece of state hangs off struct hx_run (no globals). */
#ifndef HX_RUN_H
#define HX_RUN_H

#include <event2/event.h>
#include <jansson.h>
#include <limits.h>
#include <lua.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "harness/hx_history.h"
#include "harness/hx_http.h"

struct hx_lab;
struct hx_task;

/* Exit codes of the contract. */
enum {
	HX_EXIT_VALID = 0,
	HX_EXIT_INVALID = 1,
	HX_EXIT_USAGE = 2,
	HX_EXIT_UNKNOWN = 3,
	HX_EXIT_HARNESS = 4,
};

enum hx_node_state { HX_NODE_DOWN, HX_NODE_RUNNING, HX_NODE_PAUSED };

struct hx_node {
	unsigned idx;
	char id[16];
	char ip[16];
	int client_port, peer_port;
	char dir[PATH_MAX];      /* <run>/nodes/<id> */
	pid_t pid;               /* 0 when down */
	enum hx_node_state state;
	bool expect_exit;        /* we signalled it: its exit is not a crash */
	unsigned starts, unexpected_exits;
	int last_status;         /* wait status of the last exit */
	struct hx_task *exit_waiters[16];
	unsigned n_exit_waiters;
};

/* The command line of `rapat run`, already syntax-checked. */
struct hx_cli {
	const char *plan_path;
	bool has_seed, has_time_limit, has_nodes, has_concurrency;
	long long seed;
	double time_limit;
	long nodes, concurrency;
	const char *db;
	const char *out;
	const char **sets;       /* "KEY=VALUE" */
	int n_sets;
	int argc;                /* the whole argv, recorded in results */
	char **argv;
};

struct hx_run {
	struct hx_cli *cli;
	char root[PATH_MAX];     /* the repository root */
	char run_dir[PATH_MAX];
	lua_State *L;
	int plan_ref;            /* registry ref of the loaded plan (options) table */
	struct event_base *base;
	struct hx_http *http;
	struct hx_history hist;
	bool hist_open;
	FILE *log;               /* harness.log */
	struct hx_lab *lab;
	void *net;               /* hx_net.c's partition state */
	struct hx_node nodes[64];
	unsigned n_nodes;
	json_t *crashes;         /* unexpected node exits, for results.json */
	struct hx_task *tasks;   /* live tasks (linked) */
	struct event *sig_int, *sig_term, *sig_chld, *progress;
	int signals;             /* SIGINT/SIGTERM seen */
	bool stopping;           /* workload should wind down (signal) */
	char stop_reason[128];
	bool main_done;
	bool shutting_down;      /* teardown: callbacks no longer resume tasks */
	bool tty;
	char fatal[1024];        /* a harness failure (exit 4) */
	long long seed;
	double time_limit;
	bool tls;                /* plan option tls: certificates in <run>/tls */
	double started_wall;     /* for duration_s */
	char progress_status[256];
	double progress_last_t;  /* the progress line's previous tick */
	uint64_t progress_last_done;
};

/* `rapat run` with a syntax-checked command line: loads the plan (usage
 * errors: exit 2 before anything starts), builds the run directory and the
 * lab, runs the test, writes results.json and report.html, prints the
 * summary. Returns the contract's exit code. Blocks for the whole run. */
int hx_run_main(struct hx_cli *cli);

/* harness.log: one line, prefixed with the run time; also to stderr when
 * echo is set. printf-style. */
void hx_log(struct hx_run *run, bool echo, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Nodes (hx_nodes.c). */
/* Spawn node i with argv/env through the lab; log to <dir>/log, cwd
 * <dir>/data. Returns 0, or -1 with err set. Never blocks on the node. */
int hx_node_spawn(struct hx_run *run, struct hx_node *n, const char *const *argv,
                  const char *const *env, char *err, size_t errlen);
/* Send sig to the node's process group (SIGKILL marks the exit expected).
 * Returns 0, or -1 with err set (e.g. the node is down). */
int hx_node_signal(struct hx_run *run, struct hx_node *n, int sig, char *err, size_t errlen);
/* Reap every node that exited (called on SIGCHLD and at teardown); records
 * unexpected exits in harness.log, history and run->crashes; wakes tasks
 * waiting for an exit. */
void hx_nodes_reap(struct hx_run *run);
/* SIGKILL every running node and wait (bounded: 10 s) until reaped. */
void hx_nodes_kill_all(struct hx_run *run);

/* Scheduler + Lua bindings (hx_lua.c). */
/* Open the Lua VM with the `hx` module preloaded and package.path set to
 * <root>/harness/lua and <root>. Returns 0, or -1 with err set. */
int hx_lua_open(struct hx_run *run, char *err, size_t errlen);
/* Run a function as the main task: run->L's stack holds the function and,
 * above it, its nargs arguments (all consumed). Dispatches the event loop
 * until the task ends (or a second SIGINT/SIGTERM). On success the task's
 * first result is left on run->L's stack and 0 is returned; otherwise -1
 * with err set to the Lua error and its traceback. Blocks the caller; must
 * not be called from inside a task. */
int hx_lua_run_main(struct hx_run *run, int nargs, char *err, size_t errlen);
/* hx.nodes = the node handles (after the lab exists). */
void hx_lua_set_nodes(struct hx_run *run);
/* Wake every task sleeping in hx.sleep (used on stop). */
void hx_sched_interrupt_sleepers(struct hx_run *run);
/* Resume t on the next loop turn (never from inside another task's C
 * stack) — used by node exit waiters. */
void hx_task_wake(struct hx_task *t);

#endif
