/* nemesis_clock_common.h — shared helpers of the clock integration tests:
 * run the probe under the shim and bracket its readings with our own. */
#ifndef NEMESIS_CLOCK_COMMON_H
#define NEMESIS_CLOCK_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NS 1000000000LL
#define PROBE_FIELDS 9
enum { P_REAL, P_MONO, P_BOOT, P_GTOD, P_TIME, P_REAL_COARSE, P_MONO_RAW, P_MONO_COARSE, P_TSGET };

struct probe {
	pid_t pid;
	FILE *in, *out;
};

static int failures;
#define CHECK(cond, ...)                                                              \
	do {                                                                          \
		if (!(cond)) {                                                        \
			failures++;                                                   \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                 \
			fputc('\n', stderr);                                          \
		}                                                                     \
	} while (0)

static long long now_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * NS + ts.tv_nsec;
}

static const char *env_or(const char *k, const char *dflt)
{
	const char *v = getenv(k);
	return v && *v ? v : dflt;
}

/* Starts the probe with LD_PRELOAD=shim (NULL = none) and RAPAT_CLOCK_CTL=ctl. */
static int probe_start(struct probe *p, const char *shim, const char *ctl)
{
	char probe_path[4096];
	snprintf(probe_path, sizeof probe_path, "%s/tests/integration/nemesis_clock_probe",
	         env_or("RAPAT_BUILD", "build/default"));
	int to[2], from[2];
	if (pipe(to) < 0 || pipe(from) < 0)
		return -1;
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (p->pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[0]), close(to[1]), close(from[0]), close(from[1]);
		if (shim)
			setenv("LD_PRELOAD", shim, 1);
		if (ctl)
			setenv("RAPAT_CLOCK_CTL", ctl, 1);
		execl(probe_path, probe_path, (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", probe_path, strerror(errno));
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	p->in = fdopen(to[1], "w");
	p->out = fdopen(from[0], "r");
	setvbuf(p->in, NULL, _IOLBF, 0);
	return 0;
}

/* One reading; returns 0 or -1 when the probe died. */
static int probe_read(struct probe *p, long long v[PROBE_FIELDS])
{
	char line[512];
	fputs("r\n", p->in);
	fflush(p->in);
	if (!fgets(line, sizeof line, p->out))
		return -1;
	return sscanf(line, "%lld %lld %lld %lld %lld %lld %lld %lld %lld", &v[0], &v[1], &v[2], &v[3],
	              &v[4], &v[5], &v[6], &v[7], &v[8]) == PROBE_FIELDS ? 0 : -1;
}

static int probe_stop(struct probe *p)
{
	fclose(p->in);
	fclose(p->out);
	int st;
	if (waitpid(p->pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

#endif
