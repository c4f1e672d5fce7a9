/* lab_hold.c — enters a lab, builds N nodes, spawns `sleep 1000` in each and a listener in n1, reports what it made, then waits to be killed or told to exit (driven by lab_lifetime_test.sh). */
#include "harness/lab.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned long path_ino(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? (unsigned long)st.st_ino : 0;
}

/* The process that plays the harness runs as a child of this one, a child
 * subreaper that reaps every orphan at once and exits with the harness's
 * status (128+signal when killed). Without it orphaned zombies wait for the
 * machine's pid 1, which on some VMs reaps only every few seconds: that
 * would measure pid 1, not the lab. The tests signal the pid printed as
 * "harness". */
static int reap_all(pid_t harness)
{
	int code = 1, st;
	pid_t p;
	while ((p = wait(&st)) > 0 || (p < 0 && errno == EINTR))
		if (p == harness)
			code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return code;
}

/* usage: lab_hold N PORT [linger]
 * stdout: "key value" lines, then "ready". stdin: EOF -> exit(0) without
 * cleanup; "destroy" -> hx_lab_destroy, reap, "destroyed", exit(0).
 * linger: the harness also forks a child that never execs (it holds copies
 * of all the harness's fds, the lab's keep-alive pipe included) and prints
 * "linger <pid>"; it exits on its own after 600 s. */
int main(int argc, char **argv)
{
	char err[512];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 3 && !(argc == 4 && strcmp(argv[3], "linger") == 0)) {
		fprintf(stderr, "usage: lab_hold N PORT [linger]\n");
		return 64;
	}
	unsigned n = (unsigned)atoi(argv[1]);
	char self[PATH_MAX], probe[PATH_MAX];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
	if (sl <= 0)
		return 1;
	self[sl] = 0;
	snprintf(probe, sizeof probe, "%s/lab_probe", dirname(self));

	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		printf("subreaper-failed %s\n", strerror(errno));
		return 2;
	}
	pid_t harness = fork();
	if (harness < 0) {
		printf("fork-failed %s\n", strerror(errno));
		return 2;
	}
	if (harness > 0)
		return reap_all(harness);
	if (hx_lab_enter(err, sizeof err) < 0) {
		printf("enter-failed %s\n", err);
		return 3;
	}
	struct hx_lab *lab;
	if (hx_lab_create(&lab, n, err, sizeof err) < 0) {
		printf("create-failed %s\n", err);
		return 4;
	}
	char p[64];
	printf("harness %d\n", (int)getpid());
	printf("switch_ino %lu\n", lab->switch_netns_ino);
	printf("init %d\n", (int)lab->init_pid);
	snprintf(p, sizeof p, "/proc/%d/ns/pid", (int)lab->init_pid);
	printf("pidns_ino %lu\n", path_ino(p));
	pid_t pids[HX_LAB_MAX_NODES + 1];
	for (unsigned i = 0; i < n; i++) {
		const char *av[] = { "sleep", "1000", NULL };
		struct hx_spawn_opts o = { .argv = av };
		printf("node_ino %s %lu\n", lab->nodes[i].id, lab->nodes[i].netns_ino);
		if (hx_lab_spawn(lab, i, &o, &pids[i], err, sizeof err) < 0) {
			printf("spawn-failed %s\n", err);
			return 5;
		}
		printf("pid %s %d\n", lab->nodes[i].id, (int)pids[i]);
	}
	const char *av[] = { probe, "listen", argv[2], NULL };
	struct hx_spawn_opts o = { .argv = av };
	if (hx_lab_spawn(lab, 0, &o, &pids[n], err, sizeof err) < 0) {
		printf("spawn-failed %s\n", err);
		return 5;
	}
	printf("listener %d\n", (int)pids[n]);
	if (argc == 4) {
		pid_t l = fork();
		if (l == 0) {
			alarm(600);
			for (;;)
				pause();
		}
		printf("linger %d\n", (int)l);
	}
	printf("ready\n");
	char line[64];
	if (fgets(line, sizeof line, stdin) && strncmp(line, "destroy", 7) == 0) {
		hx_lab_destroy(lab);
		for (unsigned i = 0; i <= n; i++)
			waitpid(pids[i], NULL, 0);
		printf("destroyed\n");
	}
	return 0;
}
