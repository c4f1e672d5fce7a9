/* lab_basic_test.c — builds a real 5-node lab and checks isolation, reachability, spawning (env, cwd, logs, exec errors, time namespace), growth and teardown. */
#include "harness/lab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/rule.h>
#include <linux/rtnetlink.h>

/* Ports of this run's listeners: drawn from the pid, so that a program of
 * someone else listening in the host namespace on this shared machine
 * cannot be mistaken for ours (the host check below). */
static int LPORT, NPORT;
static int failures;
/* cond is evaluated exactly once. */
#define CHECK(cond, ...)                                                          \
	({                                                                        \
		bool ok_ = (cond);                                                \
		if (!ok_) {                                                       \
			failures++;                                               \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                             \
			fputc('\n', stderr);                                      \
		}                                                                 \
		ok_;                                                              \
	})
#define REQUIRE(cond, ...)                                                        \
	do {                                                                      \
		if (!CHECK(cond, __VA_ARGS__))                                    \
			exit(1);                                                  \
	} while (0)

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static unsigned long path_ino(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? (unsigned long)st.st_ino : 0;
}

/* A socket made in whatever namespace the calling thread is in. */
struct mk_sock {
	int type;
	int fd;
};
static int mk_sock_fn(void *arg)
{
	struct mk_sock *m = arg;
	m->fd = socket(AF_INET, m->type | SOCK_CLOEXEC, 0);
	return m->fd < 0 ? -1 : 0;
}
static int sock_in(struct hx_lab *lab, unsigned idx, int type)
{
	char err[256];
	struct mk_sock m = { type, -1 };
	int rc = hx_lab_in_node(lab, idx, mk_sock_fn, &m, err, sizeof err);
	REQUIRE(rc == 0, "%s", err);
	return m.fd;
}

static struct sockaddr_in sa(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

/* Connect fd to ip:port within timeout_ms: 0 ok, ETIMEDOUT, or an errno. */
static int connect_within(int fd, const char *ip, int port, int timeout_ms)
{
	struct sockaddr_in a = sa(ip, port);
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS)
		return errno;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	if (poll(&p, 1, timeout_ms) == 0)
		return ETIMEDOUT;
	int e = 0;
	socklen_t el = sizeof e;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
	return e;
}

/* Keep connecting (fresh sockets from node from_idx, or from the switch when
 * from_idx is HX_LAB_SWITCH) until it works or the deadline passes. */
static int connect_retry(struct hx_lab *lab, unsigned from_idx, const char *ip, int port, double within_s)
{
	double end = now_s() + within_s;
	int e;
	do {
		int fd = from_idx == HX_LAB_SWITCH ? socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)
		                                   : sock_in(lab, from_idx, SOCK_STREAM);
		e = connect_within(fd, ip, port, 1000);
		close(fd);
		if (e == 0)
			return 0;
		usleep(50 * 1000);
	} while (now_s() < end);
	return e;
}

static char *slurp(const char *path)
{
	static char buf[8192];
	buf[0] = 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return buf;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

/* Wait for pid to exit (bounded), return its wait status or -1. */
static int wait_exit(pid_t pid, double within_s)
{
	double end = now_s() + within_s;
	int st;
	while (now_s() < end) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return st;
		if (r < 0)
			return -1;
		usleep(10 * 1000);
	}
	return -1;
}

static bool rule_present(struct nl_sock *sk, uint32_t table, uint32_t prio)
{
	struct nl_cache *c = NULL;
	if (rtnl_rule_alloc_cache(sk, AF_INET, &c) < 0)
		return false;
	bool found = false;
	for (struct nl_object *o = nl_cache_get_first(c); o; o = nl_cache_get_next(o)) {
		struct rtnl_rule *r = (struct rtnl_rule *)o;
		if (rtnl_rule_get_family(r) == AF_INET && rtnl_rule_get_table(r) == table &&
		    rtnl_rule_get_prio(r) == prio)
			found = true;
	}
	nl_cache_free(c);
	return found;
}

struct read_file_arg {
	const char *path;
	char out[64];
};
static int read_file_fn(void *arg)
{
	struct read_file_arg *a = arg;
	snprintf(a->out, sizeof a->out, "%s", slurp(a->path));
	return 0;
}

static void *thread_fn(void *arg) { return arg; }

/* A child forked before hx_lab_enter stays in the host's namespaces and
 * answers questions about them: for a port, "L" when a TCP socket listens on
 * it in the host network namespace (/proc/net/tcp and tcp6), "C" when a
 * connect to 127.0.0.1:port succeeds, "-" otherwise. */
static bool host_listens(int port)
{
	const char *files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	char want[16];
	snprintf(want, sizeof want, ":%04X ", port);
	for (size_t f = 0; f < 2; f++) {
		FILE *fp = fopen(files[f], "r");
		char line[512];
		while (fp && fgets(line, sizeof line, fp)) {
			/* "sl local_address rem_address st ...": st 0A = LISTEN */
			char local[128], rem[128], st[8];
			if (sscanf(line, "%*s %127s %127s %7s", local, rem, st) == 3 && strcmp(st, "0A") == 0) {
				strcat(local, " ");
				if (strstr(local, want)) {
					fclose(fp);
					return true;
				}
			}
		}
		if (fp)
			fclose(fp);
	}
	return false;
}

static void host_inspector(int rq, int rs)
{
	int port;
	while (read(rq, &port, sizeof port) == (ssize_t)sizeof port) {
		char a = '-';
		if (host_listens(port))
			a = 'L';
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in lo = sa("127.0.0.1", port);
		if (a == '-' && connect(fd, (struct sockaddr *)&lo, sizeof lo) == 0)
			a = 'C';
		close(fd);
		if (write(rs, &a, 1) != 1)
			break;
	}
	_exit(0);
}

static char ask_host(int rq, int rs, int port)
{
	char a = '?';
	if (write(rq, &port, sizeof port) != (ssize_t)sizeof port || read(rs, &a, 1) != 1)
		return '?';
	return a;
}

int main(int argc, char **argv)
{
	char err[512];
	char probe[PATH_MAX], self[PATH_MAX];
	setvbuf(stdout, NULL, _IOLBF, 0);
	ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
	REQUIRE(sl > 0, "readlink /proc/self/exe");
	self[sl] = 0;
	snprintf(probe, sizeof probe, "%s/lab_probe", dirname(self));
	REQUIRE(access(probe, X_OK) == 0, "helper %s missing", probe);

	LPORT = 20000 + (int)(getpid() % 10000) * 2;
	NPORT = LPORT + 1;
	int q[2], r[2];
	REQUIRE(pipe(q) == 0 && pipe(r) == 0, "pipe");
	pid_t inspector = fork();
	REQUIRE(inspector >= 0, "fork");
	if (inspector == 0) {
		close(q[1]);
		close(r[0]);
		host_inspector(q[0], r[1]);
	}
	close(q[0]);
	close(r[1]);
	/* Positive control: the inspector does see a listener in the host. */
	{
		int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in a = sa("127.0.0.1", 0);
		socklen_t al = sizeof a;
		REQUIRE(bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 1) == 0 &&
		        getsockname(l, (struct sockaddr *)&a, &al) == 0, "host listener");
		char v = ask_host(q[1], r[0], ntohs(a.sin_port));
		CHECK(v == 'L', "inspector misses a host listener (%c)", v);
		close(l);
	}
	unsigned long host_net = path_ino("/proc/self/ns/net");
	bool unprivileged = geteuid() != 0;
	{
		/* Without hx_lab_enter nothing is built in the host namespace. */
		struct hx_lab *bad = NULL;
		int rc0 = hx_lab_create(&bad, 2, err, sizeof err);
		CHECK(rc0 < 0 && bad == NULL, "lab built in the host namespace");
		CHECK(unprivileged || strstr(err, "refusing to build"), "no refusal: %s", err);
		printf("create before enter -> %s\n", err);
	}
	if (hx_lab_enter(err, sizeof err) < 0) {
		/* Only a kernel/container without namespaces for us is a skip. */
		if (strstr(err, "Operation not permitted") || strstr(err, "Invalid argument") ||
		    strstr(err, "No space left")) {
			printf("skip: namespaces unavailable here: %s\n", err);
			return 77;
		}
		fprintf(stderr, "hx_lab_enter: %s\n", err);
		return 1;
	}
	unsigned long sw_net = path_ino("/proc/self/ns/net");
	CHECK(sw_net != host_net, "harness still in the host netns after enter");
	printf("entered: host net:[%lu] switch net:[%lu] rootless=%d\n", host_net, sw_net, unprivileged);

	struct hx_lab *lab = NULL;
	double t0 = now_s();
	int rc = hx_lab_create(&lab, 5, err, sizeof err);
	REQUIRE(rc == 0, "create: %s", err);
	printf("created 5-node lab in %.1f ms (init pid %d, rootless=%d)\n", (now_s() - t0) * 1e3,
	       (int)lab->init_pid, lab->rootless);
	CHECK(lab->n_nodes == 5, "n_nodes %u", lab->n_nodes);
	CHECK(lab->switch_netns_ino == sw_net, "switch ino");
	CHECK(strcmp(lab->switch_ip, "10.77.0.1") == 0, "switch ip %s", lab->switch_ip);
	for (unsigned i = 0; i < 5; i++) {
		CHECK(lab->nodes[i].netns_ino != host_net && lab->nodes[i].netns_ino != sw_net,
		      "node %u namespace not private", i);
		for (unsigned j = 0; j < i; j++)
			CHECK(lab->nodes[i].netns_ino != lab->nodes[j].netns_ino, "nodes %u,%u share a netns", i, j);
		/* The local rule moved out of the way of the nemesis. */
		CHECK(rule_present(hx_lab_nl_sock(lab, i), RT_TABLE_LOCAL, HX_LAB_LOCAL_RULE_PREF) &&
		      !rule_present(hx_lab_nl_sock(lab, i), RT_TABLE_LOCAL, 0),
		      "node %u: lookup local not at %d only", i, HX_LAB_LOCAL_RULE_PREF);
		struct read_file_arg rf = { .path = "/proc/sys/net/ipv6/conf/all/disable_ipv6" };
		CHECK(hx_lab_in_node(lab, i, read_file_fn, &rf, err, sizeof err) == 0, "%s", err);
		CHECK(rf.out[0] == '1' || access("/proc/sys/net/ipv6", F_OK) != 0, "node %u: IPv6 not disabled", i);
	}
	CHECK(strcmp(lab->nodes[0].ip, "10.77.0.11") == 0 && strcmp(lab->nodes[4].ip, "10.77.0.15") == 0,
	      "addresses %s..%s", lab->nodes[0].ip, lab->nodes[4].ip);

	/* A second lab in the same switch namespace is refused, naming what is
	 * there, and the failed attempt removes nothing of the first lab. */
	{
		struct hx_lab *again = NULL;
		rc = hx_lab_create(&again, 2, err, sizeof err);
		CHECK(rc < 0 && again == NULL && strstr(err, "refusing to build") && strstr(err, "rapat0"), "clash: %s", err);
		printf("second lab -> %s\n", err);
	}

	/* 1. A TCP listener in n2 accepts a connection from n1. */
	{
		int l = sock_in(lab, 1, SOCK_STREAM);
		struct sockaddr_in a = sa(lab->nodes[1].ip, NPORT);
		REQUIRE(bind(l, (struct sockaddr *)&a, sizeof a) == 0, "bind in n2: %s", strerror(errno));
		REQUIRE(listen(l, 16) == 0, "listen");
		int e = connect_retry(lab, 0, lab->nodes[1].ip, NPORT, 10);
		CHECK(e == 0, "n1 -> n2:%d: %s", NPORT, strerror(e));
		struct sockaddr_in peer;
		socklen_t pl = sizeof peer;
		struct pollfd p = { .fd = l, .events = POLLIN };
		CHECK(poll(&p, 1, 5000) == 1, "no connection queued in n2");
		int c = accept(l, (struct sockaddr *)&peer, &pl);
		CHECK(c >= 0 && peer.sin_addr.s_addr == sa(lab->nodes[0].ip, 0).sin_addr.s_addr,
		      "n2 accepted from %s, wanted n1", inet_ntoa(peer.sin_addr));
		if (c >= 0)
			close(c);
		/* The harness (switch namespace) reaches the node too. */
		e = connect_retry(lab, HX_LAB_SWITCH, lab->nodes[1].ip, NPORT, 10);
		CHECK(e == 0, "switch -> n2:%d: %s", NPORT, strerror(e));
		/* And every node reaches the harness's address. */
		int hl = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in ha = sa(lab->switch_ip, 7101);
		REQUIRE(bind(hl, (struct sockaddr *)&ha, sizeof ha) == 0 && listen(hl, 16) == 0, "bind switch");
		for (unsigned i = 0; i < 5; i++) {
			e = connect_retry(lab, i, lab->switch_ip, 7101, 10);
			CHECK(e == 0, "%s -> switch: %s", lab->nodes[i].id, strerror(e));
		}
		close(hl);
		close(l);
	}

	char dir[] = "/tmp/lab_basic_XXXXXX";
	REQUIRE(mkdtemp(dir), "mkdtemp");
	char logp[PATH_MAX + 32];

	/* 2. A spawned listener in n3: reachable from the harness, lives in n3's
	 * namespace, own process group. */
	pid_t lpid = 0;
	{
		snprintf(logp, sizeof logp, "%s/n3.log", dir);
		char lps[16];
		snprintf(lps, sizeof lps, "%d", LPORT);
		const char *av[] = { probe, "listen", lps, NULL };
		struct hx_spawn_opts o = { .argv = av, .cwd = dir, .log_path = logp };
		rc = hx_lab_spawn(lab, 2, &o, &lpid, err, sizeof err);
		REQUIRE(rc == 0, "spawn listener: %s", err);
		int e = connect_retry(lab, HX_LAB_SWITCH, lab->nodes[2].ip, LPORT, 15);
		CHECK(e == 0, "switch -> spawned listener in n3: %s", strerror(e));
		e = connect_retry(lab, 4, lab->nodes[2].ip, LPORT, 15);
		CHECK(e == 0, "n5 -> spawned listener in n3: %s", strerror(e));
		char nsl[64];
		snprintf(nsl, sizeof nsl, "/proc/%d/ns/net", (int)lpid);
		CHECK(path_ino(nsl) == lab->nodes[2].netns_ino, "listener not in n3's netns");
		CHECK(getpgid(lpid) == lpid, "listener not its own process group");
		snprintf(nsl, sizeof nsl, "/proc/%d/ns/pid", (int)lpid);
		char initns[64];
		snprintf(initns, sizeof initns, "/proc/%d/ns/pid", (int)lab->init_pid);
		CHECK(path_ino(nsl) == path_ino(initns) && path_ino(nsl) != path_ino("/proc/self/ns/pid"),
		      "listener not in the lab PID namespace");
		/* The log got the listener's stdout. */
		double end = now_s() + 10;
		while (!strstr(slurp(logp), "accepted") && now_s() < end)
			usleep(20 * 1000);
		char want_l[32];
		snprintf(want_l, sizeof want_l, "listening %d", LPORT);
		CHECK(strstr(slurp(logp), want_l) && strstr(slurp(logp), "accepted 10.77.0.1"),
		      "log: %s", slurp(logp));
		/* Nothing of it in the host network namespace: no listener on
		 * LPORT (nor NPORT, in n2), and 127.0.0.1:LPORT there refuses. */
		char v = ask_host(q[1], r[0], LPORT);
		CHECK(v == '-', "host namespace: port %d %s", LPORT, v == 'L' ? "listens" : v == 'C' ? "accepts" : "unknown");
		v = ask_host(q[1], r[0], NPORT);
		CHECK(v == '-', "host namespace: port %d %c", NPORT, v);
	}

	/* 3. Environment, working directory, exit status. */
	{
		snprintf(logp, sizeof logp, "%s/env.log", dir);
		const char *av[] = { probe, "env", "RAPAT_TEST_VAR", NULL };
		const char *env[] = { "RAPAT_TEST_VAR=forty-two", NULL };
		struct hx_spawn_opts o = { .argv = av, .env = env, .cwd = dir, .log_path = logp };
		pid_t p;
		REQUIRE(hx_lab_spawn(lab, 0, &o, &p, err, sizeof err) == 0, "spawn env: %s", err);
		int st = wait_exit(p, 20);
		CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "env probe status %d", st);
		CHECK(strstr(slurp(logp), "RAPAT_TEST_VAR=forty-two"), "env log: %s", slurp(logp));
		/* env overrides what the caller has, and its PATH is the one
		 * searched. */
		const char *avh[] = { "lab_probe", "env", "HOME", NULL };
		char pathv[PATH_MAX + 8];
		char pdir[PATH_MAX];
		snprintf(pdir, sizeof pdir, "%s", probe);
		snprintf(pathv, sizeof pathv, "PATH=%s", dirname(pdir));
		const char *envh[] = { "HOME=/rapat-home", pathv, NULL };
		struct hx_spawn_opts oh = { .argv = avh, .env = envh, .log_path = logp };
		REQUIRE(hx_lab_spawn(lab, 0, &oh, &p, err, sizeof err) == 0, "spawn by the child's PATH: %s", err);
		st = wait_exit(p, 20);
		CHECK(st >= 0 && strstr(slurp(logp), "HOME=/rapat-home"), "HOME override: %s", slurp(logp));
		const char *av2[] = { probe, "pwd", NULL };
		o.argv = av2;
		REQUIRE(hx_lab_spawn(lab, 0, &o, &p, err, sizeof err) == 0, "spawn pwd: %s", err);
		st = wait_exit(p, 20);
		char want[PATH_MAX + 8];
		snprintf(want, sizeof want, "pwd %s", dir);
		CHECK(st >= 0 && strstr(slurp(logp), want), "pwd log: %s", slurp(logp));
		/* PATH search and exit status of a failing program. */
		const char *av3[] = { "false", NULL };
		o.argv = av3;
		REQUIRE(hx_lab_spawn(lab, 0, &o, &p, err, sizeof err) == 0, "spawn false: %s", err);
		st = wait_exit(p, 20);
		CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 1, "false status %d", st);
	}

	/* 4. Failures are clear errors, not silent exits. */
	{
		pid_t p = 0;
		const char *av[] = { "/nonexistent/rapat-node", NULL };
		struct hx_spawn_opts o = { .argv = av, .log_path = logp };
		rc = hx_lab_spawn(lab, 0, &o, &p, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "execve") && strstr(err, "No such file"), "missing binary: rc %d, %s", rc, err);
		printf("missing binary -> %s\n", err);
		const char *av2[] = { "rapat-no-such-program", NULL };
		o.argv = av2;
		rc = hx_lab_spawn(lab, 0, &o, &p, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "No such file"), "missing in PATH: %s", err);
		const char *av3[] = { probe, "pwd", NULL };
		o.argv = av3;
		o.cwd = "/nonexistent-dir";
		rc = hx_lab_spawn(lab, 0, &o, &p, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "chdir"), "bad cwd: %s", err);
		printf("bad cwd -> %s\n", err);
		o.cwd = NULL;
		o.log_path = "/nonexistent-dir/x.log";
		rc = hx_lab_spawn(lab, 0, &o, &p, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "open log"), "bad log: %s", err);
		CHECK(hx_lab_spawn(lab, 9, &o, &p, err, sizeof err) < 0, "bad index accepted");
	}

	/* 5. Time namespace: a +1000 s monotonic/boottime offset is seen by the
	 * node process (and *pid is that process: it is what we reaped). */
	{
		snprintf(logp, sizeof logp, "%s/clock.log", dir);
		const char *av[] = { probe, "clock", NULL };
		struct hx_spawn_opts o = { .argv = av, .log_path = logp, .mono_offset_ns = 1000LL * 1000000000LL };
		pid_t p;
		struct timespec m;
		clock_gettime(CLOCK_MONOTONIC, &m);
		rc = hx_lab_spawn(lab, 3, &o, &p, err, sizeof err);
		REQUIRE(rc == 0, "spawn clock: %s", err);
		int st = wait_exit(p, 20);
		CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "clock status %d", st);
		long long mono = -1, boot = -1;
		sscanf(slurp(logp), "monotonic %lld boottime %lld", &mono, &boot);
		CHECK(mono >= (long long)m.tv_sec + 999 && mono < (long long)m.tv_sec + 1000 + 600,
		      "monotonic in node %lld, ours %lld", mono, (long long)m.tv_sec);
		printf("time namespace: ours %lld s, node %lld s\n", (long long)m.tv_sec, mono);

		/* A negative offset that is not whole seconds (the kernel wants
		 * 0 <= ns < 1e9, so -1.5 s is written as -2 s + 0.5e9 ns). */
		snprintf(logp, sizeof logp, "%s/clock2.log", dir);
		o.mono_offset_ns = -1500000000LL;
		clock_gettime(CLOCK_MONOTONIC, &m);
		long long ours = (long long)m.tv_sec * 1000000000LL + m.tv_nsec;
		rc = hx_lab_spawn(lab, 3, &o, &p, err, sizeof err);
		REQUIRE(rc == 0, "spawn clock -1.5 s: %s", err);
		st = wait_exit(p, 20);
		long long mono_ns = -1;
		const char *at = strstr(slurp(logp), "monotonic_ns");
		if (at)
			sscanf(at, "monotonic_ns %lld", &mono_ns);
		CHECK(mono_ns >= ours - 1500000000LL && mono_ns < ours - 1500000000LL + 600000000000LL,
		      "monotonic in node %lld ns, ours %lld ns, want ours - 1.5 s (+ elapsed)", mono_ns, ours);
		printf("time namespace -1.5 s: node - ours = %.3f s\n", (double)(mono_ns - ours) / 1e9);
	}

	/* The caller may still create threads after spawning (its own
	 * pid_for_children was never changed). */
	{
		pthread_t th;
		int e = pthread_create(&th, NULL, thread_fn, NULL);
		CHECK(e == 0, "pthread_create after spawn: %s", strerror(e));
		if (e == 0)
			pthread_join(th, NULL);
	}

	/* 6. Growing: a sixth node joins and is reachable both ways. */
	{
		unsigned idx = 0;
		rc = hx_lab_add_node(lab, &idx, err, sizeof err);
		REQUIRE(rc == 0, "add node: %s", err);
		CHECK(idx == 5 && lab->n_nodes == 6 && strcmp(lab->nodes[5].ip, "10.77.0.16") == 0, "idx %u", idx);
		int e = connect_retry(lab, 5, lab->nodes[2].ip, LPORT, 15);
		CHECK(e == 0, "n6 -> n3: %s", strerror(e));
		int l = sock_in(lab, 5, SOCK_STREAM);
		struct sockaddr_in a = sa(lab->nodes[5].ip, 7200);
		REQUIRE(bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 8) == 0, "bind n6");
		e = connect_retry(lab, 0, lab->nodes[5].ip, 7200, 15);
		CHECK(e == 0, "n1 -> n6: %s", strerror(e));
		e = connect_retry(lab, HX_LAB_SWITCH, lab->nodes[5].ip, 7200, 15);
		CHECK(e == 0, "switch -> n6: %s", strerror(e));
		close(l);
	}

	/* 7. Destroy kills what the lab started; names are free again. */
	{
		t0 = now_s();
		hx_lab_destroy(lab);
		int st = wait_exit(lpid, 30);
		CHECK(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "listener after destroy: status %d", st);
		printf("destroy + listener reaped in %.1f ms\n", (now_s() - t0) * 1e3);
		t0 = now_s();
		rc = hx_lab_create(&lab, 3, err, sizeof err);
		CHECK(rc == 0, "re-create after destroy: %s", err);
		printf("re-created 3-node lab in %.1f ms\n", (now_s() - t0) * 1e3);
		if (rc == 0) {
			int e = connect_retry(lab, 0, lab->nodes[2].ip, LPORT, 2);
			CHECK(e != 0, "old listener still reachable");
			/* The init killed from outside: its node processes die, and
			 * a spawn explains itself. */
			const char *av[] = { "sleep", "1000", NULL };
			struct hx_spawn_opts o = { .argv = av };
			pid_t sp;
			REQUIRE(hx_lab_spawn(lab, 1, &o, &sp, err, sizeof err) == 0, "spawn sleep: %s", err);
			CHECK(kill(lab->init_pid, SIGKILL) == 0, "kill init: %s", strerror(errno));
			int sst = wait_exit(sp, 30);
			CHECK(sst >= 0 && WIFSIGNALED(sst) && WTERMSIG(sst) == SIGKILL, "sleep survived its init: %d", sst);
			double end = now_s() + 30;
			do
				rc = hx_lab_spawn(lab, 1, &o, &sp, err, sizeof err);
			while (rc == 0 && (kill(sp, SIGKILL), waitpid(sp, NULL, 0), now_s() < end));
			CHECK(rc < 0 && strstr(err, "PID namespace is gone"), "spawn after init death: %s", err);
			printf("spawn after the init died -> %s\n", err);
			hx_lab_destroy(lab);
		}
	}

	close(q[1]); /* the inspector exits on EOF */
	close(r[0]);
	waitpid(inspector, NULL, 0);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", dir);
	(void)argc;
	(void)argv;
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("ok\n");
	return 0;
}
