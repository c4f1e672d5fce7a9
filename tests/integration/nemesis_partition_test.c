/* nemesis_partition_test.c — partitions in a real 5-node lab, measured: TCP connections across a grudge time out (no fast error) while others connect, heal restores them, one-way grudges drop one direction, the switch always reaches every node, the probe agrees, the diff only touches changed rules. */
#include "nemesis/nem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/fib_rules.h>
#include <netlink/netlink.h>
#include <netlink/route/rule.h>

static int failures;
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

#define PORT 7500
/* How long a connect across a grudge must stay pending to count as "timed
 * out": a real drop never answers, so any bound shows it; what must never
 * happen is a fast error (EINVAL, ECONNREFUSED, EHOSTUNREACH). */
#define BLOCKED_MS 1500
/* Bound for connections that must work (generous: a noisy shared machine). */
#define OPEN_MS 10000

static struct hx_lab *lab;
static struct nem_net *net;
static const char *ids[NEM_MAX_NODES];
static int listeners[NEM_MAX_NODES];

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

struct mk {
	int type;
	int fd;
};
static int mk_fn(void *arg)
{
	struct mk *m = arg;
	m->fd = socket(AF_INET, m->type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	return m->fd < 0 ? -1 : 0;
}
/* A socket in node idx (or the switch for HX_LAB_SWITCH). */
static int sock_from(unsigned idx, int type)
{
	char err[256];
	if (idx == HX_LAB_SWITCH)
		return socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct mk m = { type, -1 };
	REQUIRE(hx_lab_in_node(lab, idx, mk_fn, &m, err, sizeof err) == 0, "%s", err);
	return m.fd;
}

static struct sockaddr_in addr(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

/* One TCP connect from node `from` to node `to`: 0 connected, ETIMEDOUT when
 * still pending after ms, else the errno it failed with. */
static int tcp_try(unsigned from, unsigned to, int ms)
{
	int fd = sock_from(from, SOCK_STREAM);
	struct sockaddr_in a = addr(lab->nodes[to].ip, PORT);
	int e = 0;
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
		e = errno;
	} else {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		if (poll(&p, 1, ms) == 0) {
			e = ETIMEDOUT;
		} else {
			socklen_t el = sizeof e;
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
		}
	}
	close(fd);
	/* Drain the accept queue so it never fills. */
	for (int c; (c = accept(listeners[to], NULL, NULL)) >= 0;)
		close(c);
	return e;
}

/* Connects within OPEN_MS, retrying (a machine under load may be slow). */
static int tcp_open(unsigned from, unsigned to)
{
	double end = now_ms() + OPEN_MS;
	int e;
	do
		e = tcp_try(from, to, 1000);
	while (e != 0 && now_ms() < end);
	return e;
}

static const char *name(unsigned i) { return i == HX_LAB_SWITCH ? "switch" : lab->nodes[i].id; }

static void expect_blocked(unsigned from, unsigned to)
{
	int e = tcp_try(from, to, BLOCKED_MS);
	CHECK(e == ETIMEDOUT, "%s -> %s should time out, got %s", name(from), name(to), e ? strerror(e) : "connected");
}
static void expect_open(unsigned from, unsigned to)
{
	int e = tcp_open(from, to);
	CHECK(e == 0, "%s -> %s should connect: %s", name(from), name(to), strerror(e));
}

/* UDP from -> to: was the datagram received within ms? */
static bool udp_arrives(unsigned from, unsigned to, int ms)
{
	int rx = sock_from(to, SOCK_DGRAM);
	struct sockaddr_in a = addr(lab->nodes[to].ip, PORT + 1);
	REQUIRE(bind(rx, (struct sockaddr *)&a, sizeof a) == 0, "bind udp in %s: %s", name(to), strerror(errno));
	int tx = sock_from(from, SOCK_DGRAM);
	bool got = false;
	double end = now_ms() + ms;
	while (!got && now_ms() < end) {
		(void)sendto(tx, "x", 1, 0, (struct sockaddr *)&a, sizeof a);
		struct pollfd p = { .fd = rx, .events = POLLIN };
		char b;
		if (poll(&p, 1, 100) == 1 && recv(rx, &b, 1, 0) == 1)
			got = true;
	}
	close(rx);
	close(tx);
	return got;
}

static void apply(const struct nem_grudge *g, const char *what)
{
	char err[512];
	struct nem_net_stats st;
	int rc = nem_net_apply(net, g, &st, err, sizeof err);
	REQUIRE(rc == 0, "apply %s: %s", what, err);
	char js[2048];
	nem_grudge_to_json(nem_net_current(net), ids, js, sizeof js);
	printf("%-22s +%-2u -%-2u rules in %7.3f ms  %s\n", what, st.added, st.removed, st.duration_ns / 1e6, js);
	CHECK(nem_grudge_equal(nem_net_current(net), g), "current differs after %s", what);
}

static void probe(const char *what)
{
	char err[512];
	struct nem_probe_result pr;
	int rc = nem_net_probe(net, 3000, &pr, err, sizeof err);
	REQUIRE(rc == 0, "probe: %s", err);
	printf("  probe after %-12s %u mismatches in %.1f ms%s%s\n", what, pr.mismatches, pr.duration_ns / 1e6,
	       pr.mismatches ? ": " : "", pr.first_mismatch);
	CHECK(pr.mismatches == 0, "probe after %s: %s", what, pr.first_mismatch);
	CHECK(pr.switch_heard == 0x1f && pr.heard_switch == 0x1f, "switch cut off after %s", what);
}

static void heal(const char *what)
{
	char err[512];
	struct nem_net_stats st;
	REQUIRE(nem_net_heal(net, &st, err, sizeof err) == 0, "heal: %s", err);
	printf("%-22s +%-2u -%-2u rules in %7.3f ms\n", what, st.added, st.removed, st.duration_ns / 1e6);
	CHECK(nem_grudge_count(nem_net_current(net)) == 0, "rules left after heal");
}

int main(void)
{
	char err[512];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (hx_lab_enter(err, sizeof err) < 0) {
		if (strstr(err, "Operation not permitted") || strstr(err, "Invalid argument")) {
			printf("skip: namespaces unavailable here: %s\n", err);
			return 77;
		}
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	REQUIRE(hx_lab_create(&lab, 5, err, sizeof err) == 0, "create: %s", err);
	nem_lab_ids(lab, ids);
	for (unsigned i = 0; i < 5; i++) {
		listeners[i] = sock_from(i, SOCK_STREAM);
		struct sockaddr_in a = addr(lab->nodes[i].ip, PORT);
		REQUIRE(bind(listeners[i], (struct sockaddr *)&a, sizeof a) == 0 && listen(listeners[i], 64) == 0,
		        "listen in %s", lab->nodes[i].id);
	}
	REQUIRE(nem_net_new(&net, lab, err, sizeof err) == 0, "nem_net_new: %s", err);
	const unsigned A = 0, B = 1, C = 2;

	/* Before anything: a full mesh. */
	expect_open(A, B);
	expect_open(B, A);
	probe("nothing");

	/* Established connections are cut too (Raft peers keep theirs open):
	 * a rule change invalidates the cached input routes of connected
	 * sockets, so their packets meet the blackhole rule as well. */
	struct nem_grudge g;
	{
		int c = sock_from(A, SOCK_STREAM);
		struct sockaddr_in a = addr(lab->nodes[B].ip, PORT);
		int e = 0;
		if (connect(c, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS)
			e = errno;
		struct pollfd pc = { .fd = c, .events = POLLOUT };
		REQUIRE(e == 0 && poll(&pc, 1, OPEN_MS) == 1, "connect n1 -> n2");
		struct pollfd pl = { .fd = listeners[B], .events = POLLIN };
		REQUIRE(poll(&pl, 1, OPEN_MS) == 1, "accept in n2");
		int srv = accept(listeners[B], NULL, NULL);
		REQUIRE(srv >= 0, "accept: %s", strerror(errno));
		fcntl(srv, F_SETFL, O_NONBLOCK);
		char buf[64];
		/* Warm: data flows both ways, so both sockets cache their routes. */
		REQUIRE(write(c, "ping", 4) == 4, "write");
		struct pollfd ps = { .fd = srv, .events = POLLIN };
		CHECK(poll(&ps, 1, OPEN_MS) == 1 && read(srv, buf, sizeof buf) == 4, "no data before the partition");
		REQUIRE(write(srv, "pong", 4) == 4, "write back");
		pc.events = POLLIN;
		CHECK(poll(&pc, 1, OPEN_MS) == 1 && read(c, buf, sizeof buf) == 4, "no reply before the partition");
		nem_grudge_init(&g, 5);
		nem_grudge_drop(&g, A, B);
		nem_grudge_drop(&g, B, A);
		apply(&g, "n1|n2 (established)");
		CHECK(write(c, "lost", 4) == 4, "write during partition");
		ps.revents = 0;
		CHECK(poll(&ps, 1, BLOCKED_MS) == 0, "established n1 -> n2 data crossed the partition");
		CHECK(write(srv, "lost", 4) == 4, "write back during partition");
		pc.revents = 0;
		CHECK(poll(&pc, 1, BLOCKED_MS) == 0, "established n2 -> n1 data crossed the partition");
		heal("heal (established)");
		/* TCP retransmits: the data arrives after the heal. */
		ps.revents = 0;
		CHECK(poll(&ps, 1, 30000) == 1 && read(srv, buf, sizeof buf) == 4, "data lost for good after heal");
		close(srv);
		close(c);
	}

	/* A and B cut from each other: A->B and B->A time out, A->C works, the
	 * harness still reaches both. */
	nem_grudge_init(&g, 5);
	nem_grudge_drop(&g, A, B);
	nem_grudge_drop(&g, B, A);
	apply(&g, "n1|n2");
	expect_blocked(A, B);
	expect_blocked(B, A);
	expect_open(A, C);
	expect_open(C, B);
	expect_open(HX_LAB_SWITCH, A);
	expect_open(HX_LAB_SWITCH, B);
	probe("n1|n2");
	heal("heal");
	expect_open(A, B);
	expect_open(B, A);
	probe("heal");
	heal("heal again");

	/* One way: A drops B. UDP B->A vanishes, A->B arrives; TCP fails both
	 * ways (B's SYN, or the ACK of A's handshake, is what A drops). */
	nem_grudge_one_way(&g, 5, A, B);
	apply(&g, "n1 drops n2");
	CHECK(!udp_arrives(B, A, 800), "UDP n2 -> n1 arrived through a one-way grudge");
	CHECK(udp_arrives(A, B, OPEN_MS), "UDP n1 -> n2 lost under a one-way grudge against n2");
	expect_blocked(B, A);
	expect_blocked(A, B);
	expect_open(C, A);
	probe("one-way");

	/* Majority/minority: {n1,n2} | {n3,n4,n5}; from one-way the diff
	 * removes nothing that is still wanted. */
	nem_grudge_halves(&g, 5, NULL);
	apply(&g, "halves");
	char js[1024];
	nem_grudge_to_json(nem_net_current(net), ids, js, sizeof js);
	CHECK(strcmp(js, "{\"n1\":[\"n3\",\"n4\",\"n5\"],\"n2\":[\"n3\",\"n4\",\"n5\"],\"n3\":[\"n1\",\"n2\"],"
	                 "\"n4\":[\"n1\",\"n2\"],\"n5\":[\"n1\",\"n2\"]}") == 0, "halves json %s", js);
	expect_blocked(A, C);
	expect_blocked(4, B);
	expect_open(A, B);
	expect_open(C, 4);
	for (unsigned i = 0; i < 5; i++)
		expect_open(HX_LAB_SWITCH, i);
	probe("halves");
	/* Same grudge again: nothing to do. */
	struct nem_net_stats st;
	REQUIRE(nem_net_apply(net, &g, &st, err, sizeof err) == 0, "%s", err);
	CHECK(st.added == 0 && st.removed == 0, "re-apply changed %u/%u rules", st.added, st.removed);

	/* Bridge and majorities ring, verified by the probe. */
	unsigned bridge;
	nem_grudge_bridge(&g, 5, NULL, &bridge);
	apply(&g, "bridge");
	probe("bridge");
	expect_open(A, bridge);
	expect_open(bridge, 4);
	expect_blocked(A, 4);
	nem_grudge_majorities_ring(&g, 5, NULL);
	apply(&g, "majorities-ring");
	probe("ring");
	unsigned order[5];
	nem_order_shuffle(order, 5, 1234);
	nem_grudge_halves(&g, 5, order);
	apply(&g, "random halves s1234");
	probe("random");
	nem_grudge_isolate(&g, 5, 4);
	apply(&g, "isolate n5");
	probe("isolate");
	expect_blocked(4, A);

	/* The probe notices rules it was not told about (it can fail): add a
	 * rule behind the library's back. */
	{
		struct nl_sock *sk = hx_lab_nl_sock(lab, C);
		struct rtnl_rule *r = rtnl_rule_alloc();
		struct nl_addr *src = NULL;
		nl_addr_parse("10.77.0.14/32", AF_INET, &src); /* n4 */
		rtnl_rule_set_family(r, AF_INET);
		rtnl_rule_set_prio(r, NEM_RULE_PREF);
		rtnl_rule_set_action(r, FR_ACT_BLACKHOLE);
		rtnl_rule_set_src(r, src);
		rtnl_rule_set_iif(r, "eth0");
		int rc = rtnl_rule_add(sk, r, NLM_F_EXCL);
		CHECK(rc == 0, "stray rule: %s", nl_geterror(rc));
		struct nem_probe_result pr;
		REQUIRE(nem_net_probe(net, 3000, &pr, err, sizeof err) == 0, "%s", err);
		CHECK(pr.mismatches == 1 && strstr(pr.first_mismatch, "n3 did not hear n4"),
		      "stray rule: %u mismatches, %s", pr.mismatches, pr.first_mismatch);
		printf("  probe with a stray rule: %u mismatch: %s\n", pr.mismatches, pr.first_mismatch);
		/* Applying a grudge that wants that very rule fails with context,
		 * and current() says what is really in force. */
		nem_grudge_init(&g, 5);
		nem_grudge_drop(&g, C, 3);
		rc = nem_net_apply(net, &g, NULL, err, sizeof err);
		CHECK(rc < 0 && strstr(err, "add rule in n3 dropping n4") && strstr(err, "exists"), "conflict: %s", err);
		printf("  conflicting apply -> %s\n", err);
		CHECK(!nem_grudge_drops(nem_net_current(net), C, 3) && nem_grudge_count(nem_net_current(net)) == 0,
		      "current claims a rule it did not add");
		/* A fresh nem_net clears stale rules left by anyone. */
		nem_net_free(net);
		REQUIRE(nem_net_new(&net, lab, err, sizeof err) == 0, "%s", err);
		probe("fresh nem_net");
		rtnl_rule_put(r);
		nl_addr_put(src);
	}

	/* A node joins: grudges can name it, and it starts with no rules. */
	{
		unsigned idx;
		REQUIRE(hx_lab_add_node(lab, &idx, err, sizeof err) == 0, "add node: %s", err);
		nem_lab_ids(lab, ids);
		nem_grudge_isolate(&g, 6, idx);
		apply(&g, "isolate n6");
		struct nem_probe_result pr;
		REQUIRE(nem_net_probe(net, 3000, &pr, err, sizeof err) == 0, "%s", err);
		CHECK(pr.n == 6 && pr.mismatches == 0 && pr.switch_heard == 0x3f && pr.heard_switch == 0x3f,
		      "6-node probe: %u mismatches %s", pr.mismatches, pr.first_mismatch);
		heal("heal 6");
	}

	nem_net_free(net);
	hx_lab_destroy(lab);
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("ok\n");
	return 0;
}
