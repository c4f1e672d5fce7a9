/* nemesis_packet_shaper.c — integration test of rapat-shaper between two
 * network namespaces it builds itself: round trips go from well under the
 * configured delay to at least 0.8 x delay with the shaper on (UDP and TCP)
 * and back after stopping; only the chosen peer is shaped; losses near p;
 * duplicates and reordering observed. With argument "bench" it prints
 * configured vs measured added latency instead (asserts nothing). */
#include "nemesis/packet/nem_shaper.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

static char ns_a[32], ns_b[32], probe[4096], shaper_bin[4096], logdir[64];
static int fd_a = -1, fd_b = -1;
static pid_t servers[2];
#define IP_B "10.213.7.2"
#define IP_B2 "10.213.7.3" /* a second address of B, never shaped */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
	return rc;
}

static void cleanup(void)
{
	for (int i = 0; i < 2; i++)
		if (servers[i] > 0) {
			kill(servers[i], SIGKILL);
			waitpid(servers[i], NULL, 0);
		}
	if (ns_a[0]) {
		char cmd[256];
		snprintf(cmd, sizeof cmd, "ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null", ns_a, ns_b);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup: %s failed\n", cmd);
	}
}

static int open_ns(const char *name)
{
	char p[128];
	snprintf(p, sizeof p, "/run/netns/%s", name);
	return open(p, O_RDONLY | O_CLOEXEC);
}

/* Runs the probe with args inside netns fd; out (may be NULL) receives its
 * stdout; wait = 0 leaves it running (a server) and returns its pid. */
static pid_t run_probe(int nsfd, char *out, size_t outlen, const char *const *args, int wait)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		if (setns(nsfd, CLONE_NEWNET) < 0)
			_exit(126);
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		const char *argv[12] = { probe };
		for (int i = 0; args[i] && i < 10; i++)
			argv[i + 1] = args[i];
		execv(probe, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	if (!wait) {
		close(p[0]);
		return pid;
	}
	size_t n = 0;
	ssize_t r;
	while (n + 1 < outlen && (r = read(p[0], out + n, outlen - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = 0;
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

struct udp_result {
	long sent, distinct, dups, late, p10, p50, p90, span;
};

static int udp(const char *ip, int count, int interval_us, int wait_ms, struct udp_result *r)
{
	char out[512], c[16], i[16], w[16];
	snprintf(c, sizeof c, "%d", count);
	snprintf(i, sizeof i, "%d", interval_us);
	snprintf(w, sizeof w, "%d", wait_ms);
	if (run_probe(fd_a, out, sizeof out, (const char *[]){ "udp-client", ip, "7001", c, i, w, NULL }, 1) < 0 ||
	    sscanf(out, "sent=%ld distinct=%ld dups=%ld late=%ld rtt_p10_us=%ld rtt_p50_us=%ld rtt_p90_us=%ld span_us=%ld",
	           &r->sent, &r->distinct, &r->dups, &r->late, &r->p10, &r->p50, &r->p90, &r->span) != 8) {
		fprintf(stderr, "udp probe failed: %s\n", out);
		return -1;
	}
	printf("  udp to %s: %s", ip, out);
	return 0;
}

static int tcp(const char *ip, long *connect_us, long *p10, long *p50)
{
	char out[256];
	if (run_probe(fd_a, out, sizeof out, (const char *[]){ "tcp-client", ip, "7002", "10", NULL }, 1) < 0 ||
	    sscanf(out, "connect_us=%ld rtt_p10_us=%ld rtt_p50_us=%ld", connect_us, p10, p50) != 3) {
		fprintf(stderr, "tcp probe failed: %s\n", out);
		return -1;
	}
	printf("  tcp to %s: %s", ip, out);
	return 0;
}

static int shaper_on(struct nem_shaper_opts *o, pid_t *pid)
{
	char err[512], log[128];
	snprintf(log, sizeof log, "%s/shaper.log", logdir);
	o->binary = shaper_bin;
	o->log_path = log;
	if (!o->n_peers) {
		o->peers[0] = IP_B;
		o->n_peers = 1;
	}
	if (nem_shaper_start(o, fd_a, pid, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int shaper_off(pid_t pid)
{
	char err[512];
	if (nem_shaper_stop(pid, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int count_rules(void)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "ip netns exec %s iptables-legacy -S OUTPUT | grep -c NFQUEUE", ns_a);
	FILE *f = popen(cmd, "r");
	int n = -1;
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		pclose(f);
	}
	return n;
}

/* Udp InCsumErrors of namespace B (/proc/net/snmp), -1 when unreadable. */
static long udp_csum_errors(void)
{
	char cmd[128], head[512], vals[512];
	snprintf(cmd, sizeof cmd, "ip netns exec %s cat /proc/net/snmp", ns_b);
	FILE *f = popen(cmd, "r");
	long v = -1;
	if (!f)
		return -1;
	while (fgets(head, sizeof head, f)) {
		if (strncmp(head, "Udp:", 4) || !fgets(vals, sizeof vals, f))
			continue;
		/* The header line names the columns; find InCsumErrors's index. */
		int col = -1, i = 0;
		for (char *t = strtok(head, " \n"); t; t = strtok(NULL, " \n"), i++)
			if (!strcmp(t, "InCsumErrors"))
				col = i;
		i = 0;
		for (char *t = strtok(vals, " \n"); t; t = strtok(NULL, " \n"), i++)
			if (i == col)
				v = atol(t);
		break;
	}
	pclose(f);
	return v;
}

static int bench(void)
{
	static const int delays[] = { 0, 5, 20, 50, 100 };
	printf("configured_ms  udp_p50_ms  udp_added_ms  tcp_p50_ms\n");
	struct udp_result base;
	if (udp(IP_B, 50, 10000, 300, &base) < 0)
		return 1;
	for (size_t k = 0; k < sizeof delays / sizeof *delays; k++) {
		struct nem_shaper_opts o = { .delay_ms = delays[k], .seed = 1 };
		pid_t pid;
		struct udp_result r;
		long cu, t10, t50;
		if (shaper_on(&o, &pid) < 0 || udp(IP_B, 100, 10000, 2 * delays[k] + 500, &r) < 0 ||
		    tcp(IP_B, &cu, &t10, &t50) < 0 || shaper_off(pid) < 0)
			return 1;
		printf("RESULT %13d  %10.3f  %12.3f  %10.3f\n", delays[k], r.p50 / 1000.0,
		       (r.p50 - base.p50) / 1000.0, t50 / 1000.0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (geteuid() != 0) {
		printf("skip: needs root to create network namespaces and iptables rules\n");
		return 77;
	}
	const char *bin = getenv("RAPAT_BIN"), *build = getenv("RAPAT_BUILD");
	snprintf(probe, sizeof probe, "%s/tests/integration/nemesis_packet_probe", build && *build ? build : "build/default");
	snprintf(shaper_bin, sizeof shaper_bin, "%s/rapat-shaper", bin && *bin ? bin : "bin");
	snprintf(logdir, sizeof logdir, "/tmp/nem_shaperXXXXXX");
	if (!mkdtemp(logdir))
		return 1;
	snprintf(ns_a, sizeof ns_a, "rpsa%d", (int)getpid());
	snprintf(ns_b, sizeof ns_b, "rpsb%d", (int)getpid());
	atexit(cleanup);
	if (sh("ip netns add %s && ip netns add %s", ns_a, ns_b) ||
	    sh("ip -n %s link add veth0 type veth peer name veth0 netns %s", ns_a, ns_b) ||
	    sh("ip -n %s addr add 10.213.7.1/24 dev veth0 && ip -n %s link set veth0 up && ip -n %s link set lo up",
	       ns_a, ns_a, ns_a) ||
	    sh("ip -n %s addr add " IP_B "/24 dev veth0 && ip -n %s addr add " IP_B2 "/24 dev veth0 && "
	       "ip -n %s link set veth0 up && ip -n %s link set lo up",
	       ns_b, ns_b, ns_b, ns_b))
		return 1;
	fd_a = open_ns(ns_a);
	fd_b = open_ns(ns_b);
	if (fd_a < 0 || fd_b < 0)
		return 1;
	servers[0] = run_probe(fd_b, NULL, 0, (const char *[]){ "udp-echo", "7001", NULL }, 0);
	servers[1] = run_probe(fd_b, NULL, 0, (const char *[]){ "tcp-echo", "7002", NULL }, 0);
	usleep(200000); /* servers bind; the first probe retries below anyway */

	struct udp_result base, r;
	/* Warm up (ARP, server start): a few tries, bounded. */
	for (int i = 0; i < 20; i++) {
		if (udp(IP_B, 5, 10000, 200, &base) == 0 && base.distinct == 5)
			break;
		usleep(100000);
	}
	if (argc > 1 && !strcmp(argv[1], "bench"))
		return bench();

	const long delay_ms = 100;
	printf("baseline:\n");
	long cu, t10, t50;
	if (udp(IP_B, 50, 5000, 300, &base) < 0 || tcp(IP_B, &cu, &t10, &t50) < 0)
		return 1;
	CHECK(base.distinct == 50 && base.dups == 0, "baseline lost or duplicated datagrams");
	CHECK(base.p50 >= 0 && base.p50 < delay_ms * 1000 / 2, "baseline udp p50 %ld us is not well under the delay", base.p50);
	CHECK(t50 < delay_ms * 1000 / 2, "baseline tcp p50 %ld us", t50);

	printf("delay %ld ms:\n", delay_ms);
	pid_t pid;
	struct nem_shaper_opts o = { .delay_ms = (double)delay_ms, .seed = 1 };
	if (shaper_on(&o, &pid) < 0)
		return 1;
	CHECK(count_rules() == 1, "want exactly one NFQUEUE rule while shaping, have %d", count_rules());
	if (udp(IP_B, 30, 20000, 1000, &r) < 0 || tcp(IP_B, &cu, &t10, &t50) < 0)
		return 1;
	CHECK(r.distinct == 30, "delay alone lost datagrams (%ld of 30)", r.distinct);
	CHECK(r.p10 >= delay_ms * 800, "udp p10 %ld us < 0.8 x delay", r.p10);
	CHECK(r.p50 <= delay_ms * 1000 * 10, "udp p50 %ld us absurdly high", r.p50);
	CHECK(t10 >= delay_ms * 800 && cu >= delay_ms * 800, "tcp rtt p10 %ld us / connect %ld us < 0.8 x delay",
	      t10, cu);
	/* Only traffic to the chosen peer address is shaped. */
	struct udp_result other;
	if (udp(IP_B2, 30, 5000, 300, &other) < 0)
		return 1;
	CHECK(other.distinct == 30 && other.p50 < delay_ms * 1000 / 2,
	      "traffic to an unshaped address was delayed or lost (%ld/30, p50 %ld us)", other.distinct, other.p50);
	if (tcp(IP_B2, &cu, &t10, &t50) < 0)
		return 1;
	CHECK(t50 < delay_ms * 1000 / 2, "tcp to an unshaped address was delayed (p50 %ld us)", t50);
	if (shaper_off(pid) < 0)
		failures++;
	CHECK(count_rules() == 0, "rules left after stop: %d", count_rules());
	printf("after stop:\n");
	if (udp(IP_B, 50, 5000, 300, &r) < 0 || tcp(IP_B, &cu, &t10, &t50) < 0)
		return 1;
	CHECK(r.distinct == 50 && r.p50 >= 0 && r.p50 < delay_ms * 1000 / 2, "not back to normal: %ld/50, p50 %ld us",
	      r.distinct, r.p50);
	CHECK(t50 < delay_ms * 1000 / 2, "tcp not back to normal: p50 %ld us", t50);

	printf("loss 0.3:\n");
	o = (struct nem_shaper_opts){ .loss = 0.3, .seed = 2 };
	if (shaper_on(&o, &pid) < 0 || udp(IP_B, 1000, 1000, 500, &r) < 0)
		return 1;
	double lost = 1.0 - (double)r.distinct / (double)r.sent;
	printf("  observed loss %.3f\n", lost);
	CHECK(lost > 0.2 && lost < 0.4, "loss %.3f not near 0.3", lost);
	if (shaper_off(pid) < 0)
		failures++;

	printf("duplicate 0.5:\n");
	o = (struct nem_shaper_opts){ .duplicate = 0.5, .seed = 3 };
	if (shaper_on(&o, &pid) < 0 || udp(IP_B, 500, 2000, 500, &r) < 0)
		return 1;
	double dup = (double)r.dups / (double)r.sent;
	printf("  observed duplicates %.3f per datagram\n", dup);
	CHECK(r.distinct == r.sent, "duplication lost datagrams (%ld of %ld)", r.distinct, r.sent);
	CHECK(dup > 0.35 && dup < 0.65, "duplicate rate %.3f not near 0.5", dup);
	if (shaper_off(pid) < 0)
		failures++;

	printf("delay 30 ms, jitter 30 ms (reordering):\n");
	o = (struct nem_shaper_opts){ .delay_ms = 30, .jitter_ms = 30, .seed = 4 };
	if (shaper_on(&o, &pid) < 0 || udp(IP_B, 300, 1000, 500, &r) < 0)
		return 1;
	CHECK(r.distinct == r.sent, "jitter lost datagrams");
	CHECK(r.late > 30, "only %ld of %ld datagrams arrived out of order", r.late, r.sent);
	if (shaper_off(pid) < 0)
		failures++;

	printf("delay 100 ms, reorder 0.5 (half overtake):\n");
	o = (struct nem_shaper_opts){ .delay_ms = 100, .reorder = 0.5, .seed = 5 };
	if (shaper_on(&o, &pid) < 0 || udp(IP_B, 200, 1000, 600, &r) < 0)
		return 1;
	CHECK(r.late > 20, "reorder: only %ld late", r.late);
	CHECK(r.p10 < 50000 && r.p90 >= 80000, "reorder: want a fast half and a slow half (p10 %ld, p90 %ld us)",
	      r.p10, r.p90);
	if (shaper_off(pid) < 0)
		failures++;

	/* Rate: 200 datagrams of 92 bytes on the wire (64 B payload + UDP + IP)
	 * offered at 1 per ms through a 100 kbit/s link need 200 x 736 bit /
	 * 100 kbit/s = 1.47 s; unshaped they all return within ~0.2 s. */
	printf("rate 100 kbit/s:\n");
	o = (struct nem_shaper_opts){ .rate_kbps = 100, .seed = 8 };
	if (shaper_on(&o, &pid) < 0 || udp(IP_B, 200, 1000, 3000, &r) < 0)
		return 1;
	CHECK(r.distinct == r.sent, "rate limit lost datagrams (%ld of %ld)", r.distinct, r.sent);
	CHECK(r.span >= 1177000, "200 datagrams through 100 kbit/s took %ld us, want >= 0.8 x 1.47 s", r.span);
	if (shaper_off(pid) < 0)
		failures++;

	/* Corruption: the receiver's UDP checksum rejects the damaged copies
	 * (counted in B's InCsumErrors), so they look lost to the client. */
	printf("corrupt 0.5:\n");
	long csum0 = udp_csum_errors();
	o = (struct nem_shaper_opts){ .corrupt = 0.5, .seed = 9 };
	if (shaper_on(&o, &pid) < 0 || udp(IP_B, 400, 1000, 500, &r) < 0)
		return 1;
	long csum = udp_csum_errors() - csum0, lost_n = r.sent - r.distinct;
	printf("  lost %ld of %ld, receiver counted %ld UDP checksum errors\n", lost_n, r.sent, csum);
	CHECK(lost_n > 0.35 * r.sent && lost_n < 0.65 * r.sent, "corrupt 0.5: %ld of %ld lost", lost_n, r.sent);
	CHECK(csum0 >= 0 && csum >= lost_n * 9 / 10 && csum <= lost_n, "checksum errors %ld for %ld lost", csum, lost_n);
	if (shaper_off(pid) < 0)
		failures++;

	/* A killed shaper leaves a bypassed rule (traffic flows) that the next
	 * start removes. */
	printf("SIGKILLed shaper:\n");
	o = (struct nem_shaper_opts){ .delay_ms = 100, .seed = 6 };
	if (shaper_on(&o, &pid) < 0)
		return 1;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (udp(IP_B, 20, 5000, 300, &r) < 0)
		return 1;
	CHECK(r.distinct == 20 && r.p50 >= 0 && r.p50 < 50000, "bypass: traffic should flow unshaped after SIGKILL");
	o = (struct nem_shaper_opts){ .delay_ms = 1, .seed = 7 };
	if (shaper_on(&o, &pid) < 0)
		return 1;
	CHECK(count_rules() == 1, "restart should replace the stale rule, have %d", count_rules());
	if (shaper_off(pid) < 0)
		failures++;
	CHECK(count_rules() == 0, "rules left: %d", count_rules());

	char cmd[128];
	snprintf(cmd, sizeof cmd, "cat %s/shaper.log", logdir);
	if (failures && system(cmd) != 0)
		fprintf(stderr, "no shaper log\n");
	snprintf(cmd, sizeof cmd, "rm -rf %s", logdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", logdir);
	if (failures) {
		fprintf(stderr, "%d checks failed\n", failures);
		return 1;
	}
	printf("ok\n");
	return 0;
}
