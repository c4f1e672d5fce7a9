/* nem_lazyfs_ctl.c — harness side of rapat-lazyfs: spawn, command over the
 * control socket, stop and unmount (contract in nem_lazyfs.h). */
#include "nemesis/disk/nem_lazyfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NEM_FUSE_SUPER_MAGIC 0x65735546

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

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int nem_lazyfs_command(const char *ctl_path, const char *cmd, char *reply, size_t replylen,
                       char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(ctl_path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "lazyfs %s: control socket path too long", ctl_path);
		return -1;
	}
	strcpy(sa.sun_path, ctl_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "lazyfs %s: socket: %s", ctl_path, strerror(errno));
		return -1;
	}
	/* The daemon answers from memory; 30 s only matters for "sync" of a
	 * large cache on a slow disk. */
	struct timeval tv = { .tv_sec = 30 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	char line[256];
	int n = snprintf(line, sizeof line, "%s\n", cmd);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || write(fd, line, (size_t)n) != n) {
		snprintf(err, errlen, "lazyfs %s: %s: %s", ctl_path, cmd, strerror(errno));
		close(fd);
		return -1;
	}
	enum { CAP = 65536 }; /* "report" replies are long */
	char *buf = malloc(CAP);
	if (!buf) {
		snprintf(err, errlen, "lazyfs %s: out of memory", ctl_path);
		close(fd);
		return -1;
	}
	size_t got = 0;
	for (;;) {
		ssize_t r = read(fd, buf + got, CAP - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "lazyfs %s: %s: reading reply: %s", ctl_path, cmd, strerror(errno));
			close(fd);
			free(buf);
			return -1;
		}
		if (r == 0 || (got += (size_t)r) == CAP - 1)
			break;
	}
	close(fd);
	buf[got] = 0;
	buf[strcspn(buf, "\r\n")] = 0;
	if (strncmp(buf, "ok", 2) != 0) {
		snprintf(err, errlen, "lazyfs %s: %s: %.300s", ctl_path, cmd, got ? buf : "no reply");
		free(buf);
		return -1;
	}
	if (reply)
		snprintf(reply, replylen, "%s", buf);
	free(buf);
	return 0;
}

static int parse_stats(const char *reply, struct nem_lazyfs_stats *st)
{
	if (!st)
		return 0;
	memset(st, 0, sizeof *st);
	if (sscanf(reply, "ok files=%" SCNu64 " bytes=%" SCNu64, &st->files, &st->dirty_bytes) != 2)
		return -1;
	const char *p;
	if ((p = strstr(reply, " undone_ops=")))
		sscanf(p, " undone_ops=%u failed_undo=%u", &st->undone_ops, &st->failed_undo);
	if ((p = strstr(reply, " pending_ops=")))
		sscanf(p, " pending_ops=%u", &st->pending_ops);
	return 0;
}

int nem_lazyfs_lose_unsynced(const char *ctl_path, struct nem_lazyfs_stats *st, char *err, size_t errlen)
{
	char reply[256];
	if (nem_lazyfs_command(ctl_path, "crash", reply, sizeof reply, err, errlen) < 0)
		return -1;
	if (parse_stats(reply, st) < 0) {
		snprintf(err, errlen, "lazyfs %s: crash: unexpected reply '%s'", ctl_path, reply);
		return -1;
	}
	return 0;
}

int nem_lazyfs_lose_unsynced_partial(const char *ctl_path, double p, uint64_t seed,
                                     struct nem_lazyfs_stats *st, uint64_t *written_back,
                                     char *err, size_t errlen)
{
	char cmd[96], reply[256];
	snprintf(cmd, sizeof cmd, "crash-partial %.9f %" PRIu64, p, seed);
	if (nem_lazyfs_command(ctl_path, cmd, reply, sizeof reply, err, errlen) < 0)
		return -1;
	struct nem_lazyfs_stats tmp;
	uint64_t kept;
	const char *wb = strstr(reply, " written_back_pages=");
	if (parse_stats(reply, &tmp) < 0 || !wb || sscanf(wb, " written_back_pages=%" SCNu64, &kept) != 1) {
		snprintf(err, errlen, "lazyfs %s: %s: unexpected reply '%s'", ctl_path, cmd, reply);
		return -1;
	}
	if (st)
		*st = tmp;
	if (written_back)
		*written_back = kept;
	return 0;
}

int nem_lazyfs_sync(const char *ctl_path, char *err, size_t errlen)
{
	return nem_lazyfs_command(ctl_path, "sync", NULL, 0, err, errlen);
}

int nem_lazyfs_stats(const char *ctl_path, struct nem_lazyfs_stats *st, char *err, size_t errlen)
{
	char reply[256];
	if (nem_lazyfs_command(ctl_path, "stats", reply, sizeof reply, err, errlen) < 0)
		return -1;
	if (parse_stats(reply, st) < 0) {
		snprintf(err, errlen, "lazyfs %s: stats: unexpected reply '%s'", ctl_path, reply);
		return -1;
	}
	return 0;
}

/* Waits for pid to exit for up to ms; 1 = exited (reaped), 0 = still running. */
static int wait_exit(pid_t pid, int ms, int *status)
{
	long long end = mono_ms() + ms;
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid || (r < 0 && errno == ECHILD))
			return 1;
		if (mono_ms() >= end)
			return 0;
		sleep_ms(10);
	}
}

int nem_lazyfs_start(const struct nem_lazyfs_opts *o, pid_t *pid, char *err, size_t errlen)
{
	const char *bin = o->binary ? o->binary : "bin/rapat-lazyfs";
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	if (!o->mountpoint || !o->ctl_path) {
		snprintf(err, errlen, "lazyfs: mountpoint and ctl_path are required");
		return -1;
	}
	pid_t p = fork();
	if (p < 0) {
		snprintf(err, errlen, "lazyfs %s: fork: %s", o->mountpoint, strerror(errno));
		return -1;
	}
	if (p == 0) {
		/* If the harness dies, the daemon unmounts cleanly instead of
		 * leaving a dead mount (SIGTERM is handled by libfuse). Tied to the
		 * forking thread: call this from a thread that lives for the run. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		int fd = open(o->log_path ? o->log_path : "/dev/null",
		              O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (nul >= 0)
			dup2(nul, 0);
		/* Nothing of the harness leaks into the daemon. */
		close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
		const char *argv[10];
		int n = 0;
		argv[n++] = bin;
		argv[n++] = "--ctl";
		argv[n++] = o->ctl_path;
		if (o->lazy_metadata)
			argv[n++] = "--lazy-metadata";
		if (o->backing) {
			argv[n++] = "--backing";
			argv[n++] = o->backing;
		}
		argv[n++] = o->mountpoint;
		argv[n] = NULL;
		execv(bin, (char *const *)argv);
		child_fail("lazyfs: exec", errno);
		_exit(127);
	}
	long long end = mono_ms() + timeout;
	char reply[64], cerr[256];
	for (;;) {
		int status;
		pid_t r = waitpid(p, &status, WNOHANG);
		if (r == p) {
			snprintf(err, errlen, "lazyfs %s: daemon exited (%s %d) before mounting; see %s",
			         o->mountpoint, WIFEXITED(status) ? "status" : "signal",
			         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			         o->log_path ? o->log_path : "its log");
			return -1;
		}
		if (nem_lazyfs_command(o->ctl_path, "ping", reply, sizeof reply, cerr, sizeof cerr) == 0)
			break;
		if (mono_ms() >= end) {
			char ignored[64];
			kill(p, SIGKILL);
			waitpid(p, NULL, 0);
			(void)nem_lazyfs_stop(0, o->mountpoint, 1, ignored, sizeof ignored);
			snprintf(err, errlen, "lazyfs %s: not ready after %d ms (%s)", o->mountpoint, timeout, cerr);
			return -1;
		}
		sleep_ms(10);
	}
	*pid = p;
	return 0;
}

int nem_lazyfs_stop(pid_t pid, const char *mountpoint, int timeout_ms, char *err, size_t errlen)
{
	int timeout = timeout_ms > 0 ? timeout_ms : 10000;
	int status = 0, rc = 0;
	if (pid > 0) {
		kill(pid, SIGTERM);
		if (!wait_exit(pid, timeout, &status)) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			snprintf(err, errlen, "lazyfs %s: did not exit within %d ms of SIGTERM; killed",
			         mountpoint, timeout);
			rc = -1;
		} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			/* Also a daemon that had died before we asked. */
			snprintf(err, errlen, "lazyfs %s: daemon ended with %s %d (see its log)", mountpoint,
			         WIFEXITED(status) ? "status" : "signal",
			         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			rc = -1;
		}
	}
	/* Detach only what is still a FUSE mount there (a dead daemon's mount
	 * answers ENOTCONN): never whatever lies underneath. */
	struct statfs sf;
	int r = statfs(mountpoint, &sf);
	if ((r < 0 && errno == ENOTCONN) || (r == 0 && sf.f_type == NEM_FUSE_SUPER_MAGIC)) {
		if (umount2(mountpoint, MNT_DETACH) < 0 && rc == 0) {
			snprintf(err, errlen, "lazyfs %s: umount: %s", mountpoint, strerror(errno));
			rc = -1;
		}
	}
	return rc;
}
