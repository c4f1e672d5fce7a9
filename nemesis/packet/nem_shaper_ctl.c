/* nem_shaper_ctl.c — harness side of rapat-shaper: start it inside a node's
 * network namespace and wait until shaping is in force; stop it cleanly
 * (contract in nem_shaper.h). */
#include "nemesis/packet/nem_shaper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Between fork and exec only async-signal-safe calls: the parent may be
 * multi-threaded. Writes "msg: strerror(e)" to stderr. */
static void child_fail(const char *msg, int e)
{
	const char *es = strerrordesc_np(e);
	(void)!write(2, msg, strlen(msg));
	(void)!write(2, ": ", 2);
	(void)!write(2, es ? es : "error", strlen(es ? es : "error"));
	(void)!write(2, "\n", 1);
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int nem_shaper_start(const struct nem_shaper_opts *o, int netns_fd, pid_t *pid, char *err, size_t errlen)
{
	const char *bin = o->binary ? o->binary : "bin/rapat-shaper";
	if (o->n_peers == 0 || o->n_peers > NEM_SHAPER_MAX_PEERS) {
		snprintf(err, errlen, "shaper: need 1..%d peers", NEM_SHAPER_MAX_PEERS);
		return -1;
	}
	/* All argument strings are built before fork: the child only execs. */
	enum { NUMS = 10 };
	char nums[NUMS][48];
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "shaper: pipe: %s", strerror(errno));
		return -1;
	}
	snprintf(nums[0], sizeof nums[0], "%u", o->queue);
	snprintf(nums[1], sizeof nums[1], "%.6f", o->delay_ms);
	snprintf(nums[2], sizeof nums[2], "%.6f", o->jitter_ms);
	snprintf(nums[3], sizeof nums[3], "%.6f", o->loss);
	snprintf(nums[4], sizeof nums[4], "%.6f", o->duplicate);
	snprintf(nums[5], sizeof nums[5], "%.6f", o->reorder);
	snprintf(nums[6], sizeof nums[6], "%llu", (unsigned long long)(o->seed & ((1ull << 53) - 1)));
	snprintf(nums[7], sizeof nums[7], "%d", ready[1]);
	snprintf(nums[8], sizeof nums[8], "%.6f", o->corrupt);
	snprintf(nums[9], sizeof nums[9], "%.3f", o->rate_kbps);
	const char *argv[2 * NEM_SHAPER_MAX_PEERS + 2 * NUMS + 2];
	int n = 0;
	argv[n++] = bin;
	for (unsigned i = 0; i < o->n_peers; i++) {
		argv[n++] = "--peer";
		argv[n++] = o->peers[i];
	}
	static const char *const names[NUMS] = { "--queue", "--delay-ms", "--jitter-ms", "--loss",
		                                   "--duplicate", "--reorder", "--seed", "--ready-fd",
		                                   "--corrupt", "--rate-kbps" };
	for (int i = 0; i < NUMS; i++) {
		argv[n++] = names[i];
		argv[n++] = nums[i];
	}
	argv[n] = NULL;
	pid_t p = fork();
	if (p < 0) {
		snprintf(err, errlen, "shaper: fork: %s", strerror(errno));
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	if (p == 0) {
		/* If the harness dies, the shaper removes its rule and releases
		 * what it holds (tied to the forking thread). */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		int fd = open(o->log_path ? o->log_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) < 0) {
			child_fail("shaper: setns", errno);
			_exit(126);
		}
		/* Nothing of the harness leaks into the shaper (close_range:
		 * async-signal-safe), except the ready pipe. */
		close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
		fcntl(ready[1], F_SETFD, 0);
		execv(bin, (char *const *)argv);
		child_fail("shaper: exec", errno);
		_exit(127);
	}
	close(ready[1]);
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	long long end = mono_ms() + timeout;
	char buf[16] = "";
	ssize_t got = 0;
	for (;;) {
		long long left = end - mono_ms();
		struct pollfd pfd = { .fd = ready[0], .events = POLLIN };
		int pr = left > 0 ? poll(&pfd, 1, (int)left) : 0;
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr > 0)
			got = read(ready[0], buf, sizeof buf - 1);
		break;
	}
	close(ready[0]);
	if (got >= 6 && memcmp(buf, "ready\n", 6) == 0) {
		*pid = p;
		return 0;
	}
	/* EOF without "ready": it exited; or timeout. */
	int status = 0;
	if (waitpid(p, &status, WNOHANG) == 0) {
		kill(p, SIGKILL);
		waitpid(p, &status, 0);
		snprintf(err, errlen, "shaper: not ready after %d ms; killed (log: %s)", timeout,
		         o->log_path ? o->log_path : "none");
	} else {
		snprintf(err, errlen, "shaper: exited with %s %d before shaping (log: %s)",
		         WIFEXITED(status) ? "status" : "signal",
		         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
		         o->log_path ? o->log_path : "none");
	}
	return -1;
}

int nem_shaper_stop(pid_t pid, char *err, size_t errlen)
{
	if (kill(pid, SIGTERM) < 0 && errno != ESRCH) {
		snprintf(err, errlen, "shaper %d: kill: %s", (int)pid, strerror(errno));
		return -1;
	}
	long long end = mono_ms() + 5000;
	int status;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0) {
			snprintf(err, errlen, "shaper %d: waitpid: %s", (int)pid, strerror(errno));
			return -1;
		}
		if (mono_ms() >= end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			snprintf(err, errlen, "shaper %d: no clean exit within 5 s of SIGTERM; killed "
			         "(its rule stays, bypassed)", (int)pid);
			return -1;
		}
		struct timespec ts = { 0, 5000000 };
		nanosleep(&ts, NULL);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, errlen, "shaper %d: exited with %s %d", (int)pid,
		         WIFEXITED(status) ? "status" : "signal",
		         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -1;
	}
	return 0;
}
