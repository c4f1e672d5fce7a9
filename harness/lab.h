/* lab.h — the private network lab: one network namespace per node, a bridge,
 * veth pairs and addresses, all over libnl; node processes spawned inside it.
 *
 * v1 (lab/nemesis engineer). The harness runtime (harness/hx_*.c) programs
 * against it; keep changes deliberate and list them here.
 * Changes from the lead's draft v0:
 *  - the lab's PID namespace is created by hx_lab_create (one per lab), not
 *    by hx_lab_enter: a process whose pid_for_children differs from its own
 *    PID namespace cannot create threads (clone(CLONE_THREAD) -> EINVAL), and
 *    libcurl/others may want threads. The caller's pid_for_children is never
 *    changed: hx_lab_spawn forks a short-lived helper that enters the lab PID
 *    namespace and clones the node process with CLONE_PARENT, so the node is
 *    still the caller's child.
 *  - struct hx_lab_node: `holder` removed (namespaces are held by fds, no
 *    holder process); `netns_ino` and `mac` added.
 *  - struct hx_lab: `init_pid` added (informational: the lab's PID-namespace
 *    init; it is NOT a child of the caller, never reap it).
 *  - hx_spawn_opts.log_path may be NULL (output goes to /dev/null); argv[0]
 *    without a '/' is searched in PATH.
 *  - hx_lab_nl_sock() added: the kept netlink socket of a namespace (for the
 *    nemesis).
 *  - hx_lab_create refuses a network namespace with interfaces other than lo.
 *
 * Lifetime design — nothing survives the harness, even SIGKILL:
 *  - hx_lab_enter() is called first thing in main(), single-threaded, before
 *    libevent/libcurl/Lua start. When not root it unshares a user namespace
 *    (uid/gid maps: the caller becomes root inside). It unshares a network
 *    namespace for the harness itself: the "switch". The bridge lives here,
 *    with the harness's own address on it, so libcurl in the harness process
 *    reaches every node directly; the harness is no longer in the host's
 *    network namespace and can reach neither host addresses nor the host's
 *    loopback afterwards. It also unshares a mount namespace with / made
 *    MS_REC|MS_SLAVE: mounts made by the harness (rapat-lazyfs) never
 *    reach the host and vanish with the lab's last process.
 *  - hx_lab_create() creates a PID namespace whose init ("rapat-lab-init") is
 *    detached from the caller (not its child) and exits as soon as a
 *    keep-alive pipe held only by the caller reports hang-up, or a pidfd of
 *    the caller reports its exit (this covers a child the caller forked
 *    without exec, which holds a copy of the pipe): when the caller exits or
 *    dies, even by SIGKILL, init exits and the kernel kills every process of
 *    that PID namespace. Every spawned node process is also
 *    PR_SET_PDEATHSIG(SIGKILL). (A PDEATHSIG on the init itself cannot work:
 *    its parent is a helper that exits at once.)
 *  - Node namespaces are never bind-mounted (/run/netns untouched): they are
 *    held by the lab's fds/netlink sockets and by the processes in them, so
 *    they vanish with them, and their veths vanish with their namespaces.
 *    The switch namespace and its bridge die with the harness.
 * The host's namespaces are never modified.
 *
 * Network: subnet 10.77.0.0/24, the switch (harness) is 10.77.0.1 on bridge
 * "rapat0"; node i (0-based) is "n<i+1>" at 10.77.0.<11+i> on interface
 * "eth0" in its namespace, MAC 02:52:41:50:00:<11+i>, joined to the bridge
 * by the switch-side veth "rv-n<i+1>". In each node namespace: loopback up,
 * IPv6 disabled, the IPv4 `lookup local` fib rule moved from preference 0 to
 * HX_LAB_LOCAL_RULE_PREF (so that the nemesis can drop packets with earlier
 * blackhole rules), and permanent neighbour entries for every other node and
 * the switch (no ARP is needed, so fib-rule partitions do not also break
 * address resolution).
 *
 * Threads: all functions must be called from the same thread as
 * hx_lab_create (the thread whose death would deliver PDEATHSIG); they switch
 * that thread's network namespace temporarily and always switch it back.
 * Nothing here is thread-safe on one lab.
 *
 * Errors: int return, 0 = ok; on failure a message with context is written
 * into err (errlen bytes), including nl_geterror()/strerror() text, e.g.
 * "lab: create veth n1: Object exists".
 */
#ifndef HX_LAB_H
#define HX_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define HX_LAB_MAX_NODES 64
/* Preference the IPv4 `lookup local` rule is moved to in node namespaces;
 * nemesis rules must use a smaller preference to act before it. */
#define HX_LAB_LOCAL_RULE_PREF 1000

struct nl_sock;

struct hx_lab_node {
	char id[16];          /* "n1".. */
	char ip[16];          /* dotted quad on the lab subnet, e.g. 10.77.0.11 */
	char ifname[16];      /* interface name inside the node namespace ("eth0") */
	char host_if[16];     /* the bridge-side veth in the switch namespace */
	char mac[18];         /* eth0's MAC, "02:52:41:50:00:0b" */
	int netns_fd;         /* open fd (O_CLOEXEC) of the node's network namespace */
	unsigned long netns_ino; /* inode number of that namespace (net:[ino]) */
};

struct hx_lab {
	unsigned n_nodes;
	struct hx_lab_node nodes[HX_LAB_MAX_NODES];
	char subnet[32];      /* "10.77.0.0/24" */
	char switch_ip[16];   /* the harness's own address on the bridge */
	char bridge[16];
	int switch_netns_fd;  /* the harness's own (switch) namespace */
	unsigned long switch_netns_ino;
	pid_t init_pid;       /* the lab PID namespace's init, in the caller's PID
	                         namespace; not the caller's child: never reap it */
	bool rootless;        /* entered through a user namespace */
	void *priv;           /* netlink sockets etc. */
};

/* Step 1, first thing in main(), while the process has one thread: enter a
 * user namespace (only when not root) and the switch network namespace.
 * Call at most once per process. Returns 0, or -1 with err set (e.g.
 * "lab: unshare(CLONE_NEWNET): Operation not permitted"): the harness exits 4. */
int hx_lab_enter(char *err, size_t errlen);

/* Step 2: create the lab PID namespace, the bridge and n_nodes (1..64) node
 * namespaces with addresses, links up. Call hx_lab_enter first: the lab is
 * built in the calling thread's network namespace, and only when that holds
 * nothing but `lo` (as the one hx_lab_enter made does); anything else, the
 * host's namespace above all, is refused ("lab: refusing to build in a
 * network namespace that already has interfaces (eth0 ...)"). So: one lab per
 * switch namespace at a time; after hx_lab_destroy a new one may be built.
 * Allocates *out (free with hx_lab_destroy). Blocks on netlink and a short
 * fork only. */
int hx_lab_create(struct hx_lab **out, unsigned n_nodes, char *err, size_t errlen);

/* Grow by one node (membership tests); *idx receives its index. Existing
 * nodes get neighbour entries for it. */
int hx_lab_add_node(struct hx_lab *lab, unsigned *idx, char *err, size_t errlen);

/* Tear everything down: the lab's init is told to exit (the kernel then
 * SIGKILLs every process of the lab asynchronously), the switch-side veths
 * and the bridge are deleted, netlink sockets and namespace fds are closed.
 * Spawned node processes remain the caller's children: the caller reaps them
 * as usual (their exit status will be "killed by SIGKILL"). NULL is fine. */
void hx_lab_destroy(struct hx_lab *lab);

/* Spawn argv inside node idx's network namespace and the lab's PID
 * namespace, with working directory cwd (NULL: unchanged), extra
 * environment env (NULL-terminated "K=V" list added to / overriding the
 * caller's environment, may be NULL), stdout+stderr appended to log_path
 * (created 0644; NULL: /dev/null), stdin /dev/null, default signal
 * dispositions and an empty signal mask, fds other than 0-2 closed, in a new
 * process group (pgid == *pid, so kill(-*pid, sig) reaches its children
 * too), PR_SET_PDEATHSIG(SIGKILL).
 * Time namespace: when mono_offset_ns != 0 the child unshares a time
 * namespace, writes the offset for both CLOCK_MONOTONIC and CLOCK_BOOTTIME
 * into /proc/self/timens_offsets, and the execve() moves it into that
 * namespace (Linux >= 5.11 switches a task to its time_for_children on
 * exec). So there is no extra fork: *pid is the node process itself, the one
 * to signal and reap. Offsets may be negative only as far as the clocks stay
 * positive.
 * A short-lived helper process (also the caller's child, reaped here; a
 * SIGCHLD handler of the caller may see its pid exit first, with status 0:
 * ignore pids you did not get from here) puts the node in the lab's PID
 * namespace without touching the caller's own namespaces.
 * Blocks until the child has exec'd or failed; exec failure (missing binary,
 * bad cwd, unwritable log, ...) is returned as an error naming the step and
 * errno text, and that child is reaped here. On success the caller reaps
 * (SIGCHLD/waitpid). Call from the lab's thread. */
struct hx_spawn_opts {
	const char *const *argv;
	const char *const *env;
	const char *cwd;
	const char *log_path;
	long long mono_offset_ns;
};
int hx_lab_spawn(struct hx_lab *lab, unsigned idx, const struct hx_spawn_opts *o,
                 pid_t *pid, char *err, size_t errlen);

/* Run fn(arg) with the calling thread switched into node idx's network
 * namespace (e.g. to open a probe socket there: sockets keep the namespace
 * they were created in), then switch back. Returns fn's result, or -1 with
 * err set when switching failed (fn not run or namespace not restored). */
int hx_lab_in_node(struct hx_lab *lab, unsigned idx, int (*fn)(void *), void *arg,
                   char *err, size_t errlen);

/* The kept rtnetlink socket opened inside node idx's namespace (idx < n_nodes),
 * or the switch's for idx == HX_LAB_SWITCH. Borrowed: valid until
 * hx_lab_destroy; do not close. NULL for a bad index. */
#define HX_LAB_SWITCH (~0u)
struct nl_sock *hx_lab_nl_sock(struct hx_lab *lab, unsigned idx);

#endif
