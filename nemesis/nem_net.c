/* nem_net.c — applies grudges to the lab as blackhole fib rules (rtnl_rule_* over each node namespace's kept netlink socket), heals them, and verifies them with UDP probes. */
#include "nemesis/nem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/fib_rules.h>
#include <netlink/netlink.h>
#include <netlink/route/rule.h>

struct nem_net {
	struct hx_lab *lab;       /* borrowed */
	struct nem_grudge cur;    /* exactly the rules in force */
};

static int net_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int net_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Add or delete the rule "receiver r drops sender s". A delete of a rule that
 * is already gone succeeds (heal is idempotent). */
static int rule_op(struct nem_net *net, unsigned r, unsigned s, bool add, char *err, size_t errlen)
{
	struct hx_lab *lab = net->lab;
	struct nl_sock *sk = hx_lab_nl_sock(lab, r);
	char cidr[32];
	snprintf(cidr, sizeof cidr, "%s/32", lab->nodes[s].ip);
	struct nl_addr *src = NULL;
	struct rtnl_rule *rule = rtnl_rule_alloc();
	int rc = rule ? nl_addr_parse(cidr, AF_INET, &src) : -NLE_NOMEM;
	if (rc == 0 && !sk)
		rc = -NLE_BAD_SOCK;
	if (rc == 0) {
		rtnl_rule_set_family(rule, AF_INET);
		rtnl_rule_set_prio(rule, NEM_RULE_PREF);
		rtnl_rule_set_action(rule, FR_ACT_BLACKHOLE);
		rc = rtnl_rule_set_src(rule, src);
	}
	if (rc == 0)
		rc = rtnl_rule_set_iif(rule, lab->nodes[r].ifname);
	if (rc == 0)
		rc = add ? rtnl_rule_add(sk, rule, NLM_F_EXCL) : rtnl_rule_delete(sk, rule, 0);
	if (!add && rc == -NLE_OBJ_NOTFOUND)
		rc = 0;
	nl_addr_put(src);
	rtnl_rule_put(rule);
	if (rc < 0)
		return net_err(err, errlen, "partition: %s rule in %s dropping %s (from %s iif %s blackhole pref %d): %s",
		               add ? "add" : "delete", lab->nodes[r].id, lab->nodes[s].id, cidr,
		               lab->nodes[r].ifname, NEM_RULE_PREF, nl_geterror(rc));
	return 0;
}

/* Removes every IPv4 rule at NEM_RULE_PREF in node i's namespace (rules this
 * library did not record: left by an earlier nem_net on the same lab). */
static int flush_node(struct nem_net *net, unsigned i, unsigned *removed, char *err, size_t errlen)
{
	struct nl_sock *sk = hx_lab_nl_sock(net->lab, i);
	struct nl_cache *cache = NULL;
	int rc = rtnl_rule_alloc_cache(sk, AF_INET, &cache);
	if (rc < 0)
		return net_err(err, errlen, "partition: list rules in %s: %s", net->lab->nodes[i].id, nl_geterror(rc));
	for (struct nl_object *o = nl_cache_get_first(cache); o && rc >= 0; o = nl_cache_get_next(o)) {
		struct rtnl_rule *r = (struct rtnl_rule *)o;
		/* The dump carries every family whatever we asked: filter here. */
		if (rtnl_rule_get_family(r) != AF_INET || rtnl_rule_get_prio(r) != NEM_RULE_PREF)
			continue;
		rc = rtnl_rule_delete(sk, r, 0);
		if (rc == -NLE_OBJ_NOTFOUND)
			rc = 0;
		if (rc == 0 && removed)
			(*removed)++;
	}
	nl_cache_free(cache);
	if (rc < 0)
		return net_err(err, errlen, "partition: flush stale rules in %s: %s", net->lab->nodes[i].id, nl_geterror(rc));
	return 0;
}

int nem_net_new(struct nem_net **out, struct hx_lab *lab, char *err, size_t errlen)
{
	*out = NULL;
	struct nem_net *net = calloc(1, sizeof *net);
	if (!net)
		return net_err(err, errlen, "partition: out of memory");
	net->lab = lab;
	nem_grudge_init(&net->cur, lab->n_nodes);
	for (unsigned i = 0; i < lab->n_nodes; i++) {
		if (flush_node(net, i, NULL, err, errlen) < 0) {
			free(net);
			return -1;
		}
	}
	*out = net;
	return 0;
}

void nem_net_free(struct nem_net *net)
{
	if (!net)
		return;
	char err[256];
	nem_net_heal(net, NULL, err, sizeof err);
	free(net);
}

const struct nem_grudge *nem_net_current(const struct nem_net *net)
{
	return &net->cur;
}

int nem_net_apply(struct nem_net *net, const struct nem_grudge *g, struct nem_net_stats *st,
                  char *err, size_t errlen)
{
	struct nem_net_stats local = { 0 };
	if (!st)
		st = &local;
	memset(st, 0, sizeof *st);
	if (g->n > net->lab->n_nodes)
		return net_err(err, errlen, "partition: grudge over %u nodes, the lab has %u", g->n, net->lab->n_nodes);
	uint64_t t0 = now_ns();
	unsigned n = net->lab->n_nodes;
	if (net->cur.n < n)
		net->cur.n = n; /* nodes added to the lab since: they start with no rules */
	int ret = 0;
	/* Removals first: a change of partition briefly heals more, never cuts
	 * more, than either grudge. */
	for (unsigned r = 0; r < n && ret == 0; r++) {
		uint64_t want = r < g->n ? g->drops[r] : 0;
		uint64_t gone = net->cur.drops[r] & ~want;
		for (unsigned s = 0; s < n && ret == 0; s++) {
			if (!(gone >> s & 1u))
				continue;
			ret = rule_op(net, r, s, false, err, errlen);
			if (ret == 0) {
				net->cur.drops[r] &= ~(UINT64_C(1) << s);
				st->removed++;
			}
		}
	}
	for (unsigned r = 0; r < n && ret == 0; r++) {
		uint64_t want = r < g->n ? g->drops[r] : 0;
		uint64_t fresh = want & ~net->cur.drops[r] & ~(UINT64_C(1) << r);
		for (unsigned s = 0; s < n && ret == 0; s++) {
			if (!(fresh >> s & 1u))
				continue;
			ret = rule_op(net, r, s, true, err, errlen);
			if (ret == 0) {
				net->cur.drops[r] |= UINT64_C(1) << s;
				st->added++;
			}
		}
	}
	st->duration_ns = now_ns() - t0;
	return ret;
}

int nem_net_heal(struct nem_net *net, struct nem_net_stats *st, char *err, size_t errlen)
{
	struct nem_grudge none;
	nem_grudge_init(&none, 0);
	return nem_net_apply(net, &none, st, err, errlen);
}

/* ---- probing ------------------------------------------------------------- */

#define PROBE_MAGIC 0x72617061u /* "rapa" */
#define PROBE_SWITCH 0xffu

struct probe_msg {
	uint32_t magic;
	uint32_t nonce;
	uint8_t from;
	uint8_t to;
};

/* A non-blocking UDP socket on port 0 of all addresses, created in the
 * network namespace nsfd (the thread switches there and back). */
static int udp_in_ns(int nsfd, uint16_t *port, char *err, size_t errlen, const char *where)
{
	int back = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (back < 0)
		return net_err(err, errlen, "probe: open /proc/thread-self/ns/net: %s", strerror(errno));
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		int e = errno;
		close(back);
		return net_err(err, errlen, "probe: setns(%s): %s", where, strerror(e));
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int e = errno;
	if (setns(back, CLONE_NEWNET) < 0) {
		e = errno;
		close(back);
		if (fd >= 0)
			close(fd);
		return net_err(err, errlen, "probe: setns back from %s: %s", where, strerror(e));
	}
	close(back);
	if (fd < 0)
		return net_err(err, errlen, "probe: socket in %s: %s", where, strerror(e));
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof a;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
		e = errno;
		close(fd);
		return net_err(err, errlen, "probe: bind in %s: %s", where, strerror(e));
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static void probe_send(int fd, const char *ip, uint16_t port, uint32_t nonce, unsigned from, unsigned to)
{
	struct probe_msg m = { PROBE_MAGIC, nonce, (uint8_t)from, (uint8_t)to };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, ip, &a.sin_addr);
	/* A full socket buffer or a transient error just means "resend later". */
	(void)sendto(fd, &m, sizeof m, 0, (struct sockaddr *)&a, sizeof a);
}

/* Reads every datagram queued on the probe sockets (all of them when `all`,
 * else those poll() flagged) and records who heard whom. */
static void probe_drain(struct pollfd *pf, const int *fds, unsigned n, uint32_t nonce,
                        struct nem_probe_result *res, bool all)
{
	for (unsigned i = 0; i <= n; i++) {
		if (!all && !(pf[i].revents & POLLIN))
			continue;
		struct probe_msg m;
		while (recv(fds[i], &m, sizeof m, 0) == (ssize_t)sizeof m) {
			unsigned to = i < n ? i : PROBE_SWITCH;
			if (m.magic != PROBE_MAGIC || m.nonce != nonce || m.to != to)
				continue;
			if (to == PROBE_SWITCH && m.from < n)
				res->switch_heard |= UINT64_C(1) << m.from;
			else if (to != PROBE_SWITCH && m.from == PROBE_SWITCH)
				res->heard_switch |= UINT64_C(1) << to;
			else if (to != PROBE_SWITCH && m.from < n)
				res->heard[to] |= UINT64_C(1) << m.from;
		}
	}
}

int nem_net_probe(struct nem_net *net, unsigned timeout_ms, struct nem_probe_result *res,
                  char *err, size_t errlen)
{
	struct hx_lab *lab = net->lab;
	unsigned n = lab->n_nodes;
	int fds[NEM_MAX_NODES + 1];
	uint16_t ports[NEM_MAX_NODES + 1];
	int ret = 0;
	unsigned made = 0;
	memset(res, 0, sizeof *res);
	res->n = n;
	uint64_t t0 = now_ns();

	/* fds[0..n-1] in the nodes, fds[n] in the switch. */
	for (; made <= n; made++) {
		int nsfd = made < n ? lab->nodes[made].netns_fd : lab->switch_netns_fd;
		fds[made] = udp_in_ns(nsfd, &ports[made], err, errlen, made < n ? lab->nodes[made].id : "switch");
		if (fds[made] < 0) {
			ret = -1;
			goto out;
		}
	}
	uint32_t nonce = 0;
	if (getrandom(&nonce, sizeof nonce, GRND_NONBLOCK) != sizeof nonce)
		nonce = (uint32_t)t0;

	uint64_t all = n >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << n) - 1;
	uint64_t expect[NEM_MAX_NODES];
	for (unsigned r = 0; r < n; r++) {
		uint64_t drops = r < net->cur.n ? net->cur.drops[r] : 0;
		expect[r] = all & ~drops & ~(UINT64_C(1) << r);
	}
	uint64_t deadline = t0 + (uint64_t)timeout_ms * 1000000u;
	/* Datagrams that should be dropped were sent in the same bursts as the
	 * ones that arrived: once those are all in, a short grace catches any
	 * that got through. */
	unsigned grace_ms = timeout_ms / 4 < 20 ? 20 : timeout_ms / 4 > 200 ? 200 : timeout_ms / 4;
	uint64_t grace = (uint64_t)grace_ms * 1000000u;
	uint64_t grace_end = 0, next_send = 0;
	struct pollfd pf[NEM_MAX_NODES + 1];
	for (unsigned i = 0; i <= n; i++)
		pf[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };

	for (;;) {
		uint64_t now = now_ns();
		bool complete = res->switch_heard == all && res->heard_switch == all;
		for (unsigned r = 0; r < n && complete; r++)
			complete = (res->heard[r] & expect[r]) == expect[r];
		if (complete && !grace_end)
			grace_end = now + grace;
		if (grace_end ? now >= grace_end : now >= deadline)
			break;
		if (now >= next_send) {
			/* Every pair not heard yet, the ones that should be dropped
			 * included: they must stay unheard however often they try. */
			for (unsigned r = 0; r < n; r++) {
				for (unsigned s = 0; s < n; s++)
					if (s != r && !(res->heard[r] >> s & 1u))
						probe_send(fds[s], lab->nodes[r].ip, ports[r], nonce, s, r);
				if (!(res->heard_switch >> r & 1u))
					probe_send(fds[n], lab->nodes[r].ip, ports[r], nonce, PROBE_SWITCH, r);
				if (!(res->switch_heard >> r & 1u))
					probe_send(fds[r], lab->switch_ip, ports[n], nonce, r, PROBE_SWITCH);
			}
			next_send = now + 50 * 1000000u;
		}
		uint64_t until = grace_end ? grace_end : deadline;
		if (next_send < until)
			until = next_send;
		int wait_ms = until > now ? (int)((until - now + 999999) / 1000000) : 0;
		if (poll(pf, n + 1, wait_ms) < 0 && errno != EINTR) {
			ret = net_err(err, errlen, "probe: poll: %s", strerror(errno));
			goto out;
		}
		probe_drain(pf, fds, n, nonce, res, false);
	}
	/* Whatever arrived while we were not looking (a loaded machine may not
	 * run us for a while) still counts. */
	probe_drain(pf, fds, n, nonce, res, true);

	/* Compare with the grudge in force. */
	for (unsigned r = 0; r < n; r++) {
		for (unsigned s = 0; s < n; s++) {
			if (s == r)
				continue;
			bool heard = res->heard[r] >> s & 1u, should = expect[r] >> s & 1u;
			if (heard != should && res->mismatches++ == 0)
				snprintf(res->first_mismatch, sizeof res->first_mismatch, "%s %s %s (%s)",
				         lab->nodes[r].id, heard ? "heard" : "did not hear", lab->nodes[s].id,
				         heard ? "should drop" : "should hear");
		}
		if (!(res->heard_switch >> r & 1u) && res->mismatches++ == 0)
			snprintf(res->first_mismatch, sizeof res->first_mismatch, "%s did not hear the switch",
			         lab->nodes[r].id);
		if (!(res->switch_heard >> r & 1u) && res->mismatches++ == 0)
			snprintf(res->first_mismatch, sizeof res->first_mismatch, "the switch did not hear %s",
			         lab->nodes[r].id);
	}
out:
	for (unsigned i = 0; i < made; i++)
		close(fds[i]);
	res->duration_ns = now_ns() - t0;
	return ret;
}
