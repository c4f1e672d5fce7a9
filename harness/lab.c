/* lab.c — the lab: switch and node network namespaces built over libnl-route, the lab's PID namespace, and spawning node processes inside it. */
#include "harness/lab.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/rule.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

#define LAB_STR_(x) #x
#define LAB_STR(x) LAB_STR_(x)
#define LAB_BRIDGE "rapat0"
/* Interface group of the lab's devices in the switch namespace (the bridge
 * and the switch-side veths): destroy deletes them with one request, one
 * unregister batch for the kernel instead of one per device. */
#define LAB_IFGROUP 0x72617061u
#define LAB_PREFIX "10.77.0."
#define LAB_PREFIXLEN 24
#define LAB_SWITCH_HOST 1
#define LAB_NODE_HOST0 11
#define LAB_NODE_IF "eth0"
/* Locally administered MACs: 02:52:41:50 ("RAP"), then 00:<host octet>. */
#define LAB_MAC0 0x02, 0x52, 0x41, 0x50, 0x00

struct lab_priv {
	struct nl_sock *sw_sk;                  /* opened in the switch namespace */
	struct nl_sock *node_sk[HX_LAB_MAX_NODES]; /* opened inside each node namespace */
	int node_ifindex[HX_LAB_MAX_NODES];     /* eth0 inside each node namespace */
	int bridge_ifindex;
	int keepalive_w;   /* held only by us: the lab init exits on its hang-up */
	int pidns_fd;      /* the lab's PID namespace */
};

static int lab_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int lab_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);
	int saved = errno;
	close(fd);
	if (n != (ssize_t)len) {
		errno = n < 0 ? saved : EIO;
		return -1;
	}
	return 0;
}

static unsigned long fd_ino(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? (unsigned long)st.st_ino : 0;
}

/* ---- entering ---------------------------------------------------------- */

int hx_lab_enter(char *err, size_t errlen)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	if (uid != 0) {
		/* Unprivileged: become root of a fresh user namespace, mapped to
		 * ourselves, so that we may own network and PID namespaces. */
		char map[64];
		if (unshare(CLONE_NEWUSER) < 0)
			return lab_err(err, errlen, "lab: unshare(CLONE_NEWUSER): %s%s", strerror(errno),
			               errno == EINVAL ? " (the process must still have a single thread)" : "");
		if (write_file("/proc/self/setgroups", "deny") < 0)
			return lab_err(err, errlen, "lab: write /proc/self/setgroups: %s", strerror(errno));
		snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
		if (write_file("/proc/self/uid_map", map) < 0)
			return lab_err(err, errlen, "lab: write /proc/self/uid_map: %s", strerror(errno));
		snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
		if (write_file("/proc/self/gid_map", map) < 0)
			return lab_err(err, errlen, "lab: write /proc/self/gid_map: %s", strerror(errno));
	}
	if (unshare(CLONE_NEWNET) < 0)
		return lab_err(err, errlen, "lab: unshare(CLONE_NEWNET): %s", strerror(errno));
	/* A mount namespace of the lab's own, with every mount a slave of the
	 * host's: mounts the harness makes (rapat-lazyfs over node data
	 * directories) are invisible to the host and vanish with the last
	 * process of the lab, even when the harness is SIGKILLed and a FUSE
	 * daemon dies without unmounting. Host mounts still propagate in, and
	 * node processes inherit this namespace (they see the same files). In
	 * a user namespace the new mount namespace belongs to it, which is
	 * what lets the unprivileged harness mount at all. */
	if (unshare(CLONE_NEWNS) < 0)
		return lab_err(err, errlen, "lab: unshare(CLONE_NEWNS): %s", strerror(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return lab_err(err, errlen, "lab: make / a recursive slave mount: %s", strerror(errno));
	return 0;
}

/* Are we root of a user namespace other than the initial one? */
static bool lab_in_userns(void)
{
	char buf[128] = "";
	int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	unsigned a = 1, b = 1, c = 0;
	if (sscanf(buf, "%u %u %u", &a, &b, &c) != 3)
		return false;
	return !(a == 0 && b == 0 && c == 4294967295u);
}

/* ---- the lab PID namespace and its init -------------------------------- */

/* The init of the lab's PID namespace. Its only job: reap orphans, and exit
 * when the keep-alive pipe hangs up (the harness closed it or died) or the
 * harness's pidfd reports its exit (which also covers a child the harness
 * forked without exec, still holding a copy of the pipe): the kernel then
 * SIGKILLs every other process of the namespace. Runs in a forked child of
 * a possibly multithreaded parent: async-signal-safe calls only. */
static void lab_noop_handler(int sig) { (void)sig; }

static void __attribute__((noreturn)) lab_init_main(int ka, int harness_pidfd)
{
	prctl(PR_SET_NAME, "rapat-lab-init", 0, 0, 0);
	/* Keep exactly the pipe (as 0) and the pidfd (as 1, or none): no
	 * namespace fds, no sockets of the harness. */
	int ka3 = fcntl(ka, F_DUPFD_CLOEXEC, 3);
	int pf3 = harness_pidfd >= 0 ? fcntl(harness_pidfd, F_DUPFD_CLOEXEC, 3) : -1;
	if (ka3 < 0)
		_exit(1);
	dup2(ka3, 0);
	if (pf3 >= 0)
		dup2(pf3, 1);
	syscall(SYS_close_range, pf3 >= 0 ? 2u : 1u, ~0u, 0u);
	/* Out of the terminal's process group (a Ctrl-C is the harness's to
	 * handle), and none of the harness's signal handlers (libevent's would
	 * write to fds that are not there any more). */
	setsid();
	sigset_t all, none;
	sigfillset(&all);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &all, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	sa.sa_handler = lab_noop_handler;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	for (;;) {
		struct pollfd p[2] = { { .fd = 0, .events = POLLIN }, { .fd = pf3 >= 0 ? 1 : -1, .events = POLLIN } };
		int r = ppoll(p, 2, NULL, &none);
		if (r < 0 && errno == EINTR) {
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
			continue;
		}
		if (r < 0 || p[0].revents || p[1].revents)
			_exit(0);
	}
}

/* Create the lab PID namespace with a detached init: an intermediate child
 * unshares CLONE_NEWPID and forks the init (pid 1 there), reports its pid and
 * exits, so the init is not our child (we never have to reap it, and the
 * caller's waitpid(-1) never sees it). */
static int lab_start_init(struct hx_lab *lab, struct lab_priv *p, char *err, size_t errlen)
{
	int ka[2], rep[2];
	if (pipe2(ka, O_CLOEXEC) < 0)
		return lab_err(err, errlen, "lab: pipe: %s", strerror(errno));
	if (pipe2(rep, O_CLOEXEC) < 0) {
		int e = errno;
		close(ka[0]);
		close(ka[1]);
		return lab_err(err, errlen, "lab: pipe: %s", strerror(e));
	}
	pid_t x = fork();
	if (x < 0) {
		int e = errno;
		close(ka[0]); close(ka[1]); close(rep[0]); close(rep[1]);
		return lab_err(err, errlen, "lab: fork: %s", strerror(e));
	}
	if (x == 0) {
		close(ka[1]);
		close(rep[0]);
		int msg[2] = { 0, 0 };
		/* Our parent is the harness. A pidfd names it across PID
		 * namespaces (the init could not see its pid). Optional: without
		 * pidfd_open (Linux < 5.3) the pipe alone does the job. */
		int hpfd = (int)syscall(SYS_pidfd_open, getppid(), 0u);
		if (unshare(CLONE_NEWPID) < 0) {
			msg[1] = errno;
		} else {
			pid_t i = fork();
			if (i == 0) {
				close(rep[1]);
				lab_init_main(ka[0], hpfd);
			}
			if (i < 0)
				msg[1] = errno;
			msg[0] = i;
		}
		if (write(rep[1], msg, sizeof msg) < 0)
			_exit(2);
		_exit(0);
	}
	close(ka[0]);
	close(rep[1]);
	int msg[2] = { 0, 0 };
	ssize_t n;
	do
		n = read(rep[0], msg, sizeof msg);
	while (n < 0 && errno == EINTR);
	close(rep[0]);
	while (waitpid(x, NULL, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof msg || msg[0] <= 0) {
		close(ka[1]);
		return lab_err(err, errlen, "lab: create PID namespace: %s",
		               n != (ssize_t)sizeof msg ? "helper died" : strerror(msg[1]));
	}
	p->keepalive_w = ka[1];
	lab->init_pid = msg[0];
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)msg[0]);
	/* The init cannot exit while we hold the keep-alive pipe, so its pid
	 * cannot have been reused. */
	p->pidns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (p->pidns_fd < 0)
		return lab_err(err, errlen, "lab: open %s: %s", path, strerror(errno));
	return 0;
}

/* ---- netlink helpers ---------------------------------------------------- */

static struct nl_sock *lab_nl_open(char *err, size_t errlen, const char *where)
{
	struct nl_sock *sk = nl_socket_alloc();
	if (!sk) {
		lab_err(err, errlen, "lab: %s: nl_socket_alloc: out of memory", where);
		return NULL;
	}
	int rc = nl_connect(sk, NETLINK_ROUTE);
	if (rc < 0) {
		lab_err(err, errlen, "lab: %s: netlink connect: %s", where, nl_geterror(rc));
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

static int lab_ifindex(struct nl_sock *sk, const char *name, int *ifindex)
{
	struct rtnl_link *l = NULL;
	int rc = rtnl_link_get_kernel(sk, 0, name, &l);
	if (rc < 0)
		return rc;
	*ifindex = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return 0;
}

static int lab_link_up(struct nl_sock *sk, int ifindex)
{
	struct rtnl_link *req = rtnl_link_alloc();
	if (!req)
		return -NLE_NOMEM;
	rtnl_link_set_ifindex(req, ifindex);
	rtnl_link_set_flags(req, IFF_UP);
	int rc = rtnl_link_change(sk, req, req, 0);
	rtnl_link_put(req);
	return rc;
}

static int lab_addr_add(struct nl_sock *sk, int ifindex, const char *cidr)
{
	struct nl_addr *local = NULL;
	int rc = nl_addr_parse(cidr, AF_INET, &local);
	if (rc < 0)
		return rc;
	struct rtnl_addr *a = rtnl_addr_alloc();
	if (!a) {
		nl_addr_put(local);
		return -NLE_NOMEM;
	}
	rtnl_addr_set_ifindex(a, ifindex);
	rc = rtnl_addr_set_local(a, local);
	if (rc == 0)
		rc = rtnl_addr_add(sk, a, NLM_F_EXCL);
	rtnl_addr_put(a);
	nl_addr_put(local);
	return rc;
}

static void lab_mac_bytes(unsigned host, unsigned char mac[6])
{
	const unsigned char base[5] = { LAB_MAC0 };
	memcpy(mac, base, 5);
	mac[5] = (unsigned char)host;
}

/* A permanent neighbour entry ip -> MAC(host) on ifindex. */
static int lab_neigh_add(struct nl_sock *sk, int ifindex, const char *ip, unsigned host)
{
	unsigned char mac[6];
	lab_mac_bytes(host, mac);
	struct nl_addr *dst = NULL, *ll = nl_addr_build(AF_LLC, mac, 6);
	if (!ll)
		return -NLE_NOMEM;
	int rc = nl_addr_parse(ip, AF_INET, &dst);
	if (rc < 0) {
		nl_addr_put(ll);
		return rc;
	}
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	if (!n) {
		rc = -NLE_NOMEM;
		goto out;
	}
	rtnl_neigh_set_ifindex(n, ifindex);
	rtnl_neigh_set_family(n, AF_INET);
	rtnl_neigh_set_lladdr(n, ll);
	rc = rtnl_neigh_set_dst(n, dst);
	if (rc == 0) {
		rtnl_neigh_set_state(n, NUD_PERMANENT);
		rc = rtnl_neigh_add(sk, n, NLM_F_CREATE | NLM_F_REPLACE);
	}
	rtnl_neigh_put(n);
out:
	nl_addr_put(dst);
	nl_addr_put(ll);
	return rc;
}

/* Move the IPv4 `lookup local` rule from preference 0 to
 * HX_LAB_LOCAL_RULE_PREF, so that blackhole rules at smaller preferences see
 * incoming packets before they are delivered locally. Deleted first: nothing
 * runs in the namespace yet, and a delete without a preference could
 * otherwise match the new rule. */
static int lab_move_local_rule(struct nl_sock *sk, const char **step)
{
	struct rtnl_rule *r = rtnl_rule_alloc();
	if (!r)
		return -NLE_NOMEM;
	rtnl_rule_set_family(r, AF_INET);
	rtnl_rule_set_table(r, RT_TABLE_LOCAL);
	rtnl_rule_set_action(r, FR_ACT_TO_TBL);
	rtnl_rule_set_prio(r, 0);
	*step = "delete rule 0: lookup local";
	int rc = rtnl_rule_delete(sk, r, 0);
	if (rc == 0) {
		*step = "add rule " LAB_STR(HX_LAB_LOCAL_RULE_PREF) ": lookup local";
		rtnl_rule_set_prio(r, HX_LAB_LOCAL_RULE_PREF);
		rc = rtnl_rule_add(sk, r, NLM_F_EXCL);
	}
	rtnl_rule_put(r);
	return rc;
}

/* ---- nodes --------------------------------------------------------------- */

/* Create node idx's namespace (this thread enters it briefly), its netlink
 * socket, loopback, sysctls and rules; then, from the switch, the veth pair
 * with the peer placed straight into the node namespace; then the address,
 * link and neighbour entries. On failure everything of this node is undone. */
static int lab_node_setup(struct hx_lab *lab, unsigned idx, char *err, size_t errlen)
{
	struct lab_priv *p = lab->priv;
	struct hx_lab_node *nd = &lab->nodes[idx];
	unsigned host = LAB_NODE_HOST0 + idx;
	unsigned char mac[6];
	char cidr[32];
	int rc, lo = 0, eth = 0;
	bool veth_made = false;
	const char *step = "";

	memset(nd, 0, sizeof *nd);
	nd->netns_fd = -1;
	snprintf(nd->id, sizeof nd->id, "n%u", idx + 1);
	snprintf(nd->ip, sizeof nd->ip, LAB_PREFIX "%u", host);
	snprintf(nd->ifname, sizeof nd->ifname, "%s", LAB_NODE_IF);
	snprintf(nd->host_if, sizeof nd->host_if, "rv-n%u", idx + 1);
	lab_mac_bytes(host, mac);
	snprintf(nd->mac, sizeof nd->mac, "%02x:%02x:%02x:%02x:%02x:%02x",
	         mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);

	/* 1. The namespace, entered by this thread only for setup. */
	if (unshare(CLONE_NEWNET) < 0)
		return lab_err(err, errlen, "lab: node %s: unshare(CLONE_NEWNET): %s", nd->id, strerror(errno));
	int ret = 0;
	nd->netns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (nd->netns_fd < 0) {
		ret = lab_err(err, errlen, "lab: node %s: open /proc/thread-self/ns/net: %s", nd->id, strerror(errno));
		goto back;
	}
	nd->netns_ino = fd_ino(nd->netns_fd);
	p->node_sk[idx] = lab_nl_open(err, errlen, nd->id);
	if (!p->node_sk[idx]) {
		ret = -1;
		goto back;
	}
	step = "loopback up";
	rc = lab_ifindex(p->node_sk[idx], "lo", &lo);
	if (rc == 0)
		rc = lab_link_up(p->node_sk[idx], lo);
	if (rc == 0)
		rc = lab_move_local_rule(p->node_sk[idx], &step);
	if (rc < 0) {
		ret = lab_err(err, errlen, "lab: node %s: %s: %s", nd->id, step, nl_geterror(rc));
		goto back;
	}
	/* IPv6 off: the lab speaks IPv4 only, and the partition rules are
	 * IPv4 rules; no link-local addresses, no v6 path around a grudge.
	 * /proc/sys/net resolves to the opener's namespace (this thread's). */
	if (access("/proc/sys/net/ipv6", F_OK) == 0) {
		const char *knobs[] = { "/proc/sys/net/ipv6/conf/all/disable_ipv6",
		                        "/proc/sys/net/ipv6/conf/default/disable_ipv6" };
		for (size_t k = 0; k < 2; k++) {
			if (write_file(knobs[k], "1") < 0) {
				ret = lab_err(err, errlen, "lab: node %s: write %s: %s", nd->id, knobs[k], strerror(errno));
				goto back;
			}
		}
	}
back:
	if (setns(lab->switch_netns_fd, CLONE_NEWNET) < 0) {
		/* Cannot happen short of a kernel bug; the thread would be left in
		 * the wrong namespace, so say so loudly. */
		lab_err(err, errlen, "lab: node %s: setns back to the switch: %s", nd->id, strerror(errno));
		ret = -1;
	}
	if (ret < 0)
		goto fail;

	/* 2. The veth pair, created in the switch with the peer placed straight
	 * into the node namespace by fd, already enslaved to the bridge. */
	{
		struct rtnl_link *link = rtnl_link_veth_alloc();
		if (!link) {
			ret = lab_err(err, errlen, "lab: create veth %s: out of memory", nd->id);
			goto fail;
		}
		struct rtnl_link *peer = rtnl_link_veth_get_peer(link);
		struct nl_addr *ll = nl_addr_build(AF_LLC, mac, 6);
		rtnl_link_set_name(link, nd->host_if);
		rtnl_link_set_group(link, LAB_IFGROUP);
		rtnl_link_set_master(link, p->bridge_ifindex);
		rtnl_link_set_flags(link, IFF_UP);
		rtnl_link_set_name(peer, nd->ifname);
		rtnl_link_set_ns_fd(peer, nd->netns_fd);
		if (ll)
			rtnl_link_set_addr(peer, ll);
		rc = ll ? rtnl_link_add(p->sw_sk, link, NLM_F_CREATE | NLM_F_EXCL) : -NLE_NOMEM;
		nl_addr_put(ll);
		rtnl_link_put(peer);
		rtnl_link_put(link);
		if (rc < 0) {
			ret = lab_err(err, errlen, "lab: create veth %s: %s", nd->id, nl_geterror(rc));
			goto fail;
		}
		veth_made = true;
	}

	/* 3. Inside the node: address, link up, neighbours. */
	struct nl_sock *sk = p->node_sk[idx];
	snprintf(cidr, sizeof cidr, "%s/%d", nd->ip, LAB_PREFIXLEN);
	step = "find " LAB_NODE_IF;
	rc = lab_ifindex(sk, nd->ifname, &eth);
	if (rc == 0) {
		p->node_ifindex[idx] = eth;
		step = "add address";
		rc = lab_addr_add(sk, eth, cidr);
	}
	if (rc == 0) {
		step = LAB_NODE_IF " up";
		rc = lab_link_up(sk, eth);
	}
	if (rc == 0) {
		step = "neighbour switch";
		rc = lab_neigh_add(sk, eth, lab->switch_ip, LAB_SWITCH_HOST);
	}
	for (unsigned j = 0; rc == 0 && j < lab->n_nodes; j++) {
		if (j == idx)
			continue;
		step = "neighbour peer";
		rc = lab_neigh_add(sk, eth, lab->nodes[j].ip, LAB_NODE_HOST0 + j);
		if (rc == 0)
			rc = lab_neigh_add(p->node_sk[j], p->node_ifindex[j], nd->ip, host);
	}
	if (rc == 0) {
		step = "neighbour in switch";
		rc = lab_neigh_add(p->sw_sk, p->bridge_ifindex, nd->ip, host);
	}
	if (rc < 0) {
		ret = lab_err(err, errlen, "lab: node %s: %s: %s", nd->id, step, nl_geterror(rc));
		goto fail;
	}
	return 0;

fail:
	/* Only what we made: a name clash must not delete another lab's veth. */
	if (veth_made) {
		struct rtnl_link *l = rtnl_link_alloc();
		if (l) {
			rtnl_link_set_name(l, nd->host_if);
			rtnl_link_delete(p->sw_sk, l);
			rtnl_link_put(l);
		}
	}
	if (p->node_sk[idx]) {
		nl_socket_free(p->node_sk[idx]);
		p->node_sk[idx] = NULL;
	}
	if (nd->netns_fd >= 0)
		close(nd->netns_fd);
	nd->netns_fd = -1;
	return ret;
}

/* ---- create / grow / destroy ------------------------------------------------ */

/* Safety net for a caller that forgot hx_lab_enter, or a lab left behind:
 * build only in a network namespace that holds nothing but `lo`, as the one
 * hx_lab_enter makes does. The host's namespace always fails this (it has
 * its own interfaces), so a lab is never built there. */
static int lab_check_fresh(struct nl_sock *sk, char *err, size_t errlen)
{
	struct nl_cache *cache = NULL;
	int rc = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (rc < 0)
		return lab_err(err, errlen, "lab: switch: list links: %s", nl_geterror(rc));
	char names[128] = "";
	size_t off = 0;
	unsigned others = 0;
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		const char *name = rtnl_link_get_name((struct rtnl_link *)o);
		if (!name || strcmp(name, "lo") == 0)
			continue;
		if (others++ < 4 && off < sizeof names)
			off += (size_t)snprintf(names + off, sizeof names - off, "%s%s", others > 1 ? " " : "", name);
	}
	nl_cache_free(cache);
	if (others)
		return lab_err(err, errlen, "lab: refusing to build in a network namespace that already has "
		                            "interfaces (%s%s): not the one hx_lab_enter made, or a lab is still there",
		               names, others > 4 ? " ..." : "");
	return 0;
}

int hx_lab_create(struct hx_lab **out, unsigned n_nodes, char *err, size_t errlen)
{
	*out = NULL;
	if (n_nodes < 1 || n_nodes > HX_LAB_MAX_NODES)
		return lab_err(err, errlen, "lab: %u nodes: must be 1..%d", n_nodes, HX_LAB_MAX_NODES);
	struct hx_lab *lab = calloc(1, sizeof *lab);
	struct lab_priv *p = calloc(1, sizeof *p);
	if (!lab || !p) {
		free(lab);
		free(p);
		return lab_err(err, errlen, "lab: out of memory");
	}
	lab->priv = p;
	lab->switch_netns_fd = -1;
	p->keepalive_w = p->pidns_fd = -1;
	for (unsigned i = 0; i < HX_LAB_MAX_NODES; i++)
		lab->nodes[i].netns_fd = -1;
	snprintf(lab->subnet, sizeof lab->subnet, LAB_PREFIX "0/%d", LAB_PREFIXLEN);
	snprintf(lab->switch_ip, sizeof lab->switch_ip, LAB_PREFIX "%d", LAB_SWITCH_HOST);
	snprintf(lab->bridge, sizeof lab->bridge, "%s", LAB_BRIDGE);
	lab->rootless = lab_in_userns();

	int rc, lo = 0;
	const char *step;
	lab->switch_netns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (lab->switch_netns_fd < 0) {
		lab_err(err, errlen, "lab: open /proc/thread-self/ns/net: %s", strerror(errno));
		goto fail;
	}
	lab->switch_netns_ino = fd_ino(lab->switch_netns_fd);
	p->sw_sk = lab_nl_open(err, errlen, "switch");
	if (!p->sw_sk)
		goto fail;
	if (lab_check_fresh(p->sw_sk, err, errlen) < 0)
		goto fail;
	if (lab_start_init(lab, p, err, errlen) < 0)
		goto fail;

	step = "loopback up";
	rc = lab_ifindex(p->sw_sk, "lo", &lo);
	if (rc == 0)
		rc = lab_link_up(p->sw_sk, lo);
	if (rc < 0) {
		lab_err(err, errlen, "lab: switch: %s: %s", step, nl_geterror(rc));
		goto fail;
	}
	{
		/* The bridge gets a fixed MAC: a bridge otherwise takes the lowest
		 * port MAC, which would change as nodes join and invalidate the
		 * nodes' permanent neighbour entries for the switch. */
		unsigned char mac[6];
		lab_mac_bytes(LAB_SWITCH_HOST, mac);
		struct nl_addr *ll = nl_addr_build(AF_LLC, mac, 6);
		struct rtnl_link *br = rtnl_link_bridge_alloc();
		if (!br || !ll) {
			rtnl_link_put(br);
			nl_addr_put(ll);
			lab_err(err, errlen, "lab: create bridge %s: out of memory", LAB_BRIDGE);
			goto fail;
		}
		rtnl_link_set_name(br, LAB_BRIDGE);
		rtnl_link_set_group(br, LAB_IFGROUP);
		rtnl_link_set_addr(br, ll);
		rtnl_link_set_flags(br, IFF_UP);
		rc = rtnl_link_add(p->sw_sk, br, NLM_F_CREATE | NLM_F_EXCL);
		rtnl_link_put(br);
		nl_addr_put(ll);
		if (rc < 0) {
			lab_err(err, errlen, "lab: create bridge %s: %s", LAB_BRIDGE, nl_geterror(rc));
			goto fail;
		}
	}
	char cidr[32];
	snprintf(cidr, sizeof cidr, "%s/%d", lab->switch_ip, LAB_PREFIXLEN);
	step = "find bridge";
	rc = lab_ifindex(p->sw_sk, LAB_BRIDGE, &p->bridge_ifindex);
	if (rc == 0) {
		step = "bridge up";
		rc = lab_link_up(p->sw_sk, p->bridge_ifindex);
	}
	if (rc == 0) {
		step = "add switch address";
		rc = lab_addr_add(p->sw_sk, p->bridge_ifindex, cidr);
	}
	if (rc < 0) {
		lab_err(err, errlen, "lab: switch: %s %s: %s", step, cidr, nl_geterror(rc));
		goto fail;
	}
	for (unsigned i = 0; i < n_nodes; i++) {
		if (lab_node_setup(lab, i, err, errlen) < 0)
			goto fail;
		lab->n_nodes = i + 1;
	}
	*out = lab;
	return 0;
fail:
	hx_lab_destroy(lab);
	return -1;
}

int hx_lab_add_node(struct hx_lab *lab, unsigned *idx, char *err, size_t errlen)
{
	if (lab->n_nodes >= HX_LAB_MAX_NODES)
		return lab_err(err, errlen, "lab: add node: already %d nodes", HX_LAB_MAX_NODES);
	unsigned i = lab->n_nodes;
	if (lab_node_setup(lab, i, err, errlen) < 0)
		return -1;
	lab->n_nodes = i + 1;
	if (idx)
		*idx = i;
	return 0;
}

/* RTM_DELLINK by interface group (libnl has no call for it): the kernel
 * unregisters the whole group at once. Deleting one end of a veth deletes
 * the pair. Done explicitly, not left to namespace teardown (asynchronous),
 * so that names are free when hx_lab_destroy returns. */
static int lab_delete_group(struct nl_sock *sk)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK);
	if (!msg)
		return -NLE_NOMEM;
	int rc = nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO);
	if (rc == 0)
		rc = nla_put_u32(msg, IFLA_GROUP, LAB_IFGROUP);
	if (rc == 0)
		rc = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (rc >= 0)
		rc = nl_wait_for_ack(sk);
	return rc < 0 ? rc : 0;
}

void hx_lab_destroy(struct hx_lab *lab)
{
	if (!lab)
		return;
	struct lab_priv *p = lab->priv;
	if (p) {
		/* Hang up on the init first: the kernel kills every lab process. */
		if (p->keepalive_w >= 0)
			close(p->keepalive_w);
		if (p->sw_sk && p->bridge_ifindex > 0 && lab_delete_group(p->sw_sk) == 0) {
			/* All gone in one batch. */
		} else if (p->sw_sk) {
			/* Deleting one end of a veth deletes the pair; the bridge last.
			 * Done explicitly (not left to namespace teardown, which is
			 * asynchronous) so that names are free when this returns. */
			for (unsigned i = 0; i < lab->n_nodes; i++) {
				struct rtnl_link *l = rtnl_link_alloc();
				if (!l)
					continue;
				rtnl_link_set_name(l, lab->nodes[i].host_if);
				rtnl_link_delete(p->sw_sk, l);
				rtnl_link_put(l);
			}
			if (p->bridge_ifindex > 0) {
				struct rtnl_link *l = rtnl_link_alloc();
				if (l) {
					rtnl_link_set_ifindex(l, p->bridge_ifindex);
					rtnl_link_delete(p->sw_sk, l);
					rtnl_link_put(l);
				}
			}
		}
		if (p->sw_sk)
			nl_socket_free(p->sw_sk);
		for (unsigned i = 0; i < HX_LAB_MAX_NODES; i++)
			if (p->node_sk[i])
				nl_socket_free(p->node_sk[i]);
		if (p->pidns_fd >= 0)
			close(p->pidns_fd);
		free(p);
	}
	for (unsigned i = 0; i < HX_LAB_MAX_NODES; i++)
		if (lab->nodes[i].netns_fd >= 0)
			close(lab->nodes[i].netns_fd);
	if (lab->switch_netns_fd >= 0)
		close(lab->switch_netns_fd);
	free(lab);
}

struct nl_sock *hx_lab_nl_sock(struct hx_lab *lab, unsigned idx)
{
	struct lab_priv *p = lab->priv;
	if (idx == HX_LAB_SWITCH)
		return p->sw_sk;
	return idx < lab->n_nodes ? p->node_sk[idx] : NULL;
}

int hx_lab_in_node(struct hx_lab *lab, unsigned idx, int (*fn)(void *), void *arg,
                   char *err, size_t errlen)
{
	if (idx >= lab->n_nodes)
		return lab_err(err, errlen, "lab: in node: no node index %u", idx);
	int back = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (back < 0)
		return lab_err(err, errlen, "lab: in node %s: open /proc/thread-self/ns/net: %s",
		               lab->nodes[idx].id, strerror(errno));
	if (setns(lab->nodes[idx].netns_fd, CLONE_NEWNET) < 0) {
		int e = errno;
		close(back);
		return lab_err(err, errlen, "lab: in node %s: setns: %s", lab->nodes[idx].id, strerror(e));
	}
	int r = fn(arg);
	int e = setns(back, CLONE_NEWNET) < 0 ? errno : 0;
	close(back);
	if (e)
		return lab_err(err, errlen, "lab: in node %s: setns back: %s", lab->nodes[idx].id, strerror(e));
	return r;
}

/* ---- spawning ------------------------------------------------------------ */

enum spawn_step {
	SP_PDEATHSIG = 1, SP_PARENT_GONE, SP_PGID, SP_NETNS, SP_TIMENS, SP_TIMENS_OFFSETS,
	SP_CHDIR, SP_DEVNULL, SP_LOG, SP_DUP, SP_EXEC,
};
static const char *spawn_step_name(int s)
{
	switch (s) {
	case SP_PDEATHSIG: return "prctl(PR_SET_PDEATHSIG)";
	case SP_PARENT_GONE: return "parent exited during spawn";
	case SP_PGID: return "setpgid";
	case SP_NETNS: return "setns(node netns)";
	case SP_TIMENS: return "unshare(CLONE_NEWTIME)";
	case SP_TIMENS_OFFSETS: return "write /proc/self/timens_offsets";
	case SP_CHDIR: return "chdir";
	case SP_DEVNULL: return "open /dev/null";
	case SP_LOG: return "open log";
	case SP_DUP: return "dup2";
	case SP_EXEC: return "execve";
	}
	return "?";
}

/* Everything the child needs, prepared before fork(): after fork() in a
 * possibly multithreaded parent only async-signal-safe calls are allowed. */
struct spawn_plan {
	const char *path;
	char *const *argv;
	char **envp;
	const char *cwd;
	const char *log_path;
	int netns_fd;
	int errfd;
	bool timens;
	char offsets[128];
};

static void __attribute__((noreturn)) spawn_fail(int errfd, int step, int e)
{
	int msg[2] = { step, e };
	ssize_t n = write(errfd, msg, sizeof msg);
	(void)n;
	_exit(127);
}

/* Make fd become target, without close-on-exec. */
static int child_dup_to(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, target) < 0 ? -1 : 0;
}

static void __attribute__((noreturn)) spawn_child(const struct spawn_plan *sp)
{
	int errfd = fcntl(sp->errfd, F_DUPFD_CLOEXEC, 3);
	if (errfd < 0)
		_exit(127);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		spawn_fail(errfd, SP_PDEATHSIG, errno);
	/* Our parent is outside this PID namespace, so getppid() is 0 while it
	 * lives; if it died before the prctl we were reparented to the lab init
	 * (pid 1) and PDEATHSIG will never come. */
	if (getppid() != 0)
		spawn_fail(errfd, SP_PARENT_GONE, ESRCH);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++) {
		if (s == SIGKILL || s == SIGSTOP)
			continue;
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_DFL;
		sigaction(s, &sa, NULL); /* glibc-reserved signals fail: fine */
	}
	if (setpgid(0, 0) < 0)
		spawn_fail(errfd, SP_PGID, errno);
	if (setns(sp->netns_fd, CLONE_NEWNET) < 0)
		spawn_fail(errfd, SP_NETNS, errno);
	if (sp->timens) {
		/* The new time namespace becomes ours at execve(). */
		if (unshare(CLONE_NEWTIME) < 0)
			spawn_fail(errfd, SP_TIMENS, errno);
		int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			spawn_fail(errfd, SP_TIMENS_OFFSETS, errno);
		size_t len = strlen(sp->offsets);
		if (write(fd, sp->offsets, len) != (ssize_t)len)
			spawn_fail(errfd, SP_TIMENS_OFFSETS, errno);
		close(fd);
	}
	if (sp->cwd && chdir(sp->cwd) < 0)
		spawn_fail(errfd, SP_CHDIR, errno);
	int nfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nfd < 0)
		spawn_fail(errfd, SP_DEVNULL, errno);
	int lfd = open(sp->log_path ? sp->log_path : "/dev/null",
	               O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
	if (lfd < 0)
		spawn_fail(errfd, SP_LOG, errno);
	/* Above 2 first, so that the dup2s below cannot clobber each other. */
	int n3 = fcntl(nfd, F_DUPFD_CLOEXEC, 3), l3 = fcntl(lfd, F_DUPFD_CLOEXEC, 3);
	if (n3 < 0 || l3 < 0)
		spawn_fail(errfd, SP_DUP, errno);
	if (child_dup_to(n3, 0) < 0 || child_dup_to(l3, 1) < 0 || child_dup_to(l3, 2) < 0)
		spawn_fail(errfd, SP_DUP, errno);
	/* Nothing of the harness leaks into the node (sockets, namespace fds,
	 * the lab keep-alive pipe). */
	syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
	execve(sp->path, sp->argv, sp->envp);
	spawn_fail(errfd, SP_EXEC, errno);
}

/* PATH search in the parent (execvpe is not async-signal-safe). Returns a
 * malloc'd path, or NULL with errno set: EACCES only when a file of that
 * name exists but is not executable (a directory on PATH we may not search
 * does not count), else ENOENT. */
static char *spawn_resolve(const char *name, const char *const *env)
{
	if (strchr(name, '/'))
		return strdup(name);
	/* The child's PATH decides, as execvpe in the child would. */
	const char *path = NULL;
	for (size_t i = 0; env && env[i] && !path; i++)
		if (strncmp(env[i], "PATH=", 5) == 0)
			path = env[i] + 5;
	if (!path)
		path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	int last = ENOENT;
	while (*path) {
		const char *colon = strchr(path, ':');
		size_t dl = colon ? (size_t)(colon - path) : strlen(path);
		char *cand = NULL;
		struct stat st;
		if (asprintf(&cand, "%.*s/%s", (int)(dl ? dl : 1), dl ? path : ".", name) < 0)
			return NULL;
		if (access(cand, X_OK) == 0 && stat(cand, &st) == 0 && S_ISREG(st.st_mode))
			return cand;
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode))
			last = EACCES;
		free(cand);
		path += dl + (colon ? 1 : 0);
	}
	errno = last;
	return NULL;
}

/* environ with env's entries added or overriding. Only the array is
 * allocated; strings are borrowed. */
static char **spawn_env(const char *const *env)
{
	size_t ne = 0, nx = 0;
	while (environ && environ[ne])
		ne++;
	while (env && env[nx])
		nx++;
	char **out = calloc(ne + nx + 1, sizeof *out);
	if (!out)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < ne; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t kl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		bool overridden = false;
		for (size_t j = 0; j < nx && !overridden; j++)
			overridden = strncmp(env[j], environ[i], kl) == 0 && env[j][kl] == '=';
		if (!overridden)
			out[k++] = environ[i];
	}
	for (size_t j = 0; j < nx; j++)
		out[k++] = (char *)env[j];
	out[k] = NULL;
	return out;
}

int hx_lab_spawn(struct hx_lab *lab, unsigned idx, const struct hx_spawn_opts *o,
                 pid_t *pid, char *err, size_t errlen)
{
	struct lab_priv *p = lab->priv;
	if (idx >= lab->n_nodes)
		return lab_err(err, errlen, "lab: spawn: no node index %u", idx);
	const char *id = lab->nodes[idx].id;
	if (!o || !o->argv || !o->argv[0])
		return lab_err(err, errlen, "lab: spawn in %s: empty argv", id);
	const char *name = o->argv[0];

	struct spawn_plan sp;
	memset(&sp, 0, sizeof sp);
	sp.argv = (char *const *)o->argv;
	sp.cwd = o->cwd;
	sp.log_path = o->log_path;
	sp.netns_fd = lab->nodes[idx].netns_fd;
	if (o->mono_offset_ns != 0) {
		long long s = o->mono_offset_ns / 1000000000LL, ns = o->mono_offset_ns % 1000000000LL;
		if (ns < 0) { /* the kernel wants 0 <= nanoseconds < 1e9 */
			ns += 1000000000LL;
			s -= 1;
		}
		sp.timens = true;
		snprintf(sp.offsets, sizeof sp.offsets, "monotonic %lld %lld\nboottime %lld %lld\n", s, ns, s, ns);
	}
	char *path = spawn_resolve(name, o->env);
	if (!path)
		return lab_err(err, errlen, "lab: spawn %s in %s: not found in PATH: %s", name, id, strerror(errno));
	sp.path = path;
	sp.envp = spawn_env(o->env);
	if (!sp.envp) {
		free(path);
		return lab_err(err, errlen, "lab: spawn %s in %s: out of memory", name, id);
	}
	int ep[2];
	if (pipe2(ep, O_CLOEXEC) < 0) {
		int e = errno;
		free(path);
		free(sp.envp);
		return lab_err(err, errlen, "lab: spawn %s in %s: pipe: %s", name, id, strerror(e));
	}
	sp.errfd = ep[1];

	/* The node process must be our child (so that the caller reaps it and
	 * its PDEATHSIG follows us) and in the lab PID namespace. Switching our
	 * own pid_for_children would forbid thread creation until switched back,
	 * and an unprivileged user may not switch back (no CAP_SYS_ADMIN over the
	 * initial PID namespace). So a short-lived helper enters the lab PID
	 * namespace and creates the node with CLONE_PARENT: its parent is us. */
	int ret = 0, rp[2];
	if (pipe2(rp, O_CLOEXEC) < 0) {
		ret = lab_err(err, errlen, "lab: spawn %s in %s: pipe: %s", name, id, strerror(errno));
		close(ep[0]);
		close(ep[1]);
		goto out;
	}
	pid_t h = fork();
	if (h == 0) {
		int rep[2] = { 0, 0 };
		close(rp[0]);
		close(ep[0]);
		if (setns(p->pidns_fd, CLONE_NEWPID) < 0) {
			rep[1] = errno;
		} else {
			long c = syscall(SYS_clone, (unsigned long)(CLONE_PARENT | SIGCHLD), 0L, 0L, 0L, 0L);
			if (c == 0) {
				close(rp[1]);
				spawn_child(&sp);
			}
			if (c < 0)
				rep[1] = errno;
			rep[0] = (int)c;
		}
		if (write(rp[1], rep, sizeof rep) < 0)
			_exit(2);
		_exit(0);
	}
	int fork_errno = errno;
	close(ep[1]);
	close(rp[1]);
	if (h < 0) {
		close(ep[0]);
		close(rp[0]);
		ret = lab_err(err, errlen, "lab: spawn %s in %s: fork: %s", name, id, strerror(fork_errno));
		goto out;
	}
	int rep[2] = { 0, 0 };
	ssize_t rn;
	do
		rn = read(rp[0], rep, sizeof rep);
	while (rn < 0 && errno == EINTR);
	close(rp[0]);
	/* The helper is our child too; ECHILD if the caller's SIGCHLD handler
	 * reaped it first is fine. */
	while (waitpid(h, NULL, 0) < 0 && errno == EINTR)
		;
	if (rn != (ssize_t)sizeof rep || rep[0] <= 0) {
		close(ep[0]);
		/* clone() into a PID namespace whose init has exited fails with
		 * ENOMEM: say what that means. */
		ret = lab_err(err, errlen, "lab: spawn %s in %s: %s: %s%s", name, id,
		              rn != (ssize_t)sizeof rep ? "helper died" : "enter lab PID namespace / clone",
		              rn != (ssize_t)sizeof rep ? "no report" : strerror(rep[1]),
		              rn == (ssize_t)sizeof rep && rep[1] == ENOMEM
		                      ? " (the lab's PID namespace is gone: its init exited)" : "");
		goto out;
	}
	pid_t c = rep[0];
	int msg[2];
	ssize_t n;
	do
		n = read(ep[0], msg, sizeof msg);
	while (n < 0 && errno == EINTR);
	close(ep[0]);
	if (n == 0) {
		*pid = c;
		goto out;
	}
	/* The child failed before or at execve: reap it here (ECHILD if the
	 * caller's SIGCHLD handler got there first is fine). */
	while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof msg)
		ret = lab_err(err, errlen, "lab: spawn %s in %s: %s: %s", name, id,
		              spawn_step_name(msg[0]), strerror(msg[1]));
	else
		ret = lab_err(err, errlen, "lab: spawn %s in %s: child failed before exec", name, id);
out:
	free(path);
	free(sp.envp);
	return ret;
}
