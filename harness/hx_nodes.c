/* hx_nodes.c — node supervision: spawn through the lab, signal the node's
 * process group (kill/pause/resume), reap on SIGCHLD and record every exit
 * the harness did not cause. */
#include "harness/hx_run.h"
#include "harness/hx_util.h"
#include "harness/lab.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int hx_node_spawn(struct hx_run *run, struct hx_node *n, const char *const *argv,
                  const char *const *env, char *err, size_t errlen)
{
	char data[PATH_MAX + 8], logp[PATH_MAX + 8];
	if (n->pid) {
		hx_fmt(err, errlen, "node %s: already running (pid %d)", n->id, (int)n->pid);
		return -1;
	}
	hx_fmt(data, sizeof data, "%s/data", n->dir);
	hx_fmt(logp, sizeof logp, "%s/log", n->dir);
	if (hx_mkdir_p(data, err, errlen) != 0)
		return -1;
	struct hx_spawn_opts o = {.argv = argv, .env = env, .cwd = data, .log_path = logp};
	pid_t pid;
	char e[512];
	if (hx_lab_spawn(run->lab, n->idx, &o, &pid, e, sizeof e) != 0) {
		hx_fmt(err, errlen, "node %s: spawn %s: %s", n->id, argv[0], e);
		return -1;
	}
	n->pid = pid;
	n->state = HX_NODE_RUNNING;
	n->expect_exit = false;
	n->starts++;
	char cmd[512];
	size_t off = 0;
	for (const char *const *a = argv; *a && off < sizeof cmd - 1; a++)
		off += (size_t)hx_fmt(cmd + off, sizeof cmd - off, "%s%s", a == argv ? "" : " ", *a);
	hx_log(run, false, "node %s: started pid %d: %s", n->id, (int)pid, cmd);
	return 0;
}

int hx_node_signal(struct hx_run *run, struct hx_node *n, int sig, char *err, size_t errlen)
{
	if (!n->pid) {
		hx_fmt(err, errlen, "node %s is down", n->id);
		return -1;
	}
	if (sig == SIGKILL || sig == SIGTERM)
		n->expect_exit = true;
	/* The lab puts each node in its own process group: signal the group so
	 * helper processes a node may fork go with it. */
	if (kill(-n->pid, sig) != 0 && kill(n->pid, sig) != 0) {
		hx_fmt(err, errlen, "node %s: kill(%d, %s): %s", n->id, (int)n->pid, strsignal(sig),
		         strerror(errno));
		return -1;
	}
	if (sig == SIGSTOP)
		n->state = HX_NODE_PAUSED;
	else if (sig == SIGCONT)
		n->state = HX_NODE_RUNNING;
	hx_log(run, false, "node %s: sent %s to pid %d", n->id, sigabbrev_np(sig) ? sigabbrev_np(sig) : "?",
	       (int)n->pid);
	return 0;
}

static void describe_status(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		hx_fmt(buf, len, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		hx_fmt(buf, len, "killed by SIG%s", sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?");
	else
		hx_fmt(buf, len, "wait status %#x", st);
}

void hx_nodes_reap(struct hx_run *run)
{
	for (unsigned i = 0; i < run->n_nodes; i++) {
		struct hx_node *n = &run->nodes[i];
		if (!n->pid)
			continue;
		int st;
		pid_t r = waitpid(n->pid, &st, WNOHANG);
		if (r != n->pid)
			continue;
		char what[64];
		describe_status(st, what, sizeof what);
		n->last_status = st;
		pid_t old = n->pid;
		n->pid = 0;
		n->state = HX_NODE_DOWN;
		if (n->expect_exit) {
			hx_log(run, false, "node %s: pid %d %s (expected)", n->id, (int)old, what);
		} else {
			/* A node that dies on its own is a finding, never hidden: it goes
			 * to harness.log, stderr, the history and results.json. */
			n->unexpected_exits++;
			hx_log(run, true, "node %s: pid %d %s UNEXPECTEDLY (see %s/log)", n->id, (int)old,
			       what, n->dir);
			double t = run->hist_open ? hx_history_elapsed(&run->hist) : 0;
			json_t *v = json_pack("{s:s, s:s, s:f}", "node", n->id, "status", what, "time_s", t);
			if (run->crashes)
				json_array_append(run->crashes, v);
			if (run->hist_open) {
				char err[256];
				struct hx_event ev = {.process_name = "nemesis", .type = "info", .f = "crash",
				                      .value = v, .node = n->id};
				hx_history_record(&run->hist, &ev, err, sizeof err);
			}
			json_decref(v);
		}
		for (unsigned w = 0; w < n->n_exit_waiters; w++)
			hx_task_wake(n->exit_waiters[w]);
		n->n_exit_waiters = 0;
	}
}

void hx_nodes_kill_all(struct hx_run *run)
{
	char err[256];
	for (unsigned i = 0; i < run->n_nodes; i++)
		if (run->nodes[i].pid)
			hx_node_signal(run, &run->nodes[i], SIGKILL, err, sizeof err);
	/* SIGKILL is reliable; bound the wait anyway (a process in D state). */
	for (int tries = 0; tries < 1000; tries++) {
		hx_nodes_reap(run);
		bool any = false;
		for (unsigned i = 0; i < run->n_nodes; i++)
			any |= run->nodes[i].pid != 0;
		if (!any)
			return;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	hx_log(run, true, "some node processes were not reaped after SIGKILL within 10 s");
}
