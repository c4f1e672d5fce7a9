/* lab.h — the private network lab: one network namespace per node, a bridge,
 * veth pairs and addresses, all over libnl; node processes spawned inside it.
 *
 * DRAFT v0 (lead engineer). Owned by the lab/nemesis work; the harness
 * runtime (harness/hx_*.c) programs against it. Keep changes deliberate.
 *
 * Lifetime design — nothing survives the harness, even SIGKILL:
 *  - hx_lab_enter() is called first thing in main(), single-threaded, before
 *    libevent/libcurl/Lua start. When not root it unshares a user namespace
 *    (uid/gid maps to the caller). It unshares a network namespace for the
 *    harness itself (the "switch": the bridge lives here, plus the harness's
 *    own address on it, so libcurl reaches the nodes directly) and a PID
 *    namespace: the first child forked afterwards is a tiny init that sets
 *    PR_SET_PDEATHSIG(SIGKILL) and reaps; when the harness dies the init
 *    dies and the kernel kills every process of the lab.
 *  - Node namespaces are never bind-mounted (/run/netns untouched): they are
 *    held by fds and by the processes in them, so they vanish with them, and
 *    their veths and the bridge vanish with their namespaces.
 * The host's namespaces are never modified.
 *
 * Errors: int return, 0 = ok; on failure a message with context is written
 * into err (errlen bytes), including nl_geterror()/strerror() text.
 */
#ifndef HX_LAB_H
#define HX_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define HX_LAB_MAX_NODES 64

struct hx_lab_node {
	char id[16];       /* "n1".. */
	char ip[16];       /* dotted quad on the lab subnet, e.g. 10.77.0.11 */
	char ifname[16];   /* interface name inside the node namespace ("eth0") */
	char host_if[16];  /* the bridge-side veth in the switch namespace */
	int netns_fd;      /* open fd of the node's network namespace */
	pid_t holder;      /* process keeping the namespace alive (inside the lab pid ns) */
};

struct hx_lab {
	unsigned n_nodes;
	struct hx_lab_node nodes[HX_LAB_MAX_NODES];
	char subnet[32];     /* e.g. "10.77.0.0/24" */
	char switch_ip[16];  /* the harness's own address on the bridge */
	char bridge[16];
	int switch_netns_fd; /* the harness's own (switch) namespace */
	bool rootless;       /* entered through a user namespace */
	void *priv;          /* netlink sockets etc. */
};

/* Step 1, first thing in main(): enter the lab's user/net/pid namespaces.
 * Returns 0, or -1 with err set (e.g. "unshare(CLONE_NEWNET): Operation
 * not permitted"): the harness exits 4. */
int hx_lab_enter(char *err, size_t errlen);

/* Step 2: build the bridge and n node namespaces with addresses, links up.
 * Allocates *out. */
int hx_lab_create(struct hx_lab **out, unsigned n_nodes, char *err, size_t errlen);
/* Grow by one node (membership tests); *idx receives its index. */
int hx_lab_add_node(struct hx_lab *lab, unsigned *idx, char *err, size_t errlen);
/* Tear everything down (kills holders; namespaces go with them). Idempotent. */
void hx_lab_destroy(struct hx_lab *lab);

/* Spawn argv inside node idx's network namespace, with working directory
 * cwd, extra environment env (NULL-terminated "K=V" list, may be NULL),
 * stdout+stderr appended to log_path, stdin /dev/null, in a new process
 * group, PR_SET_PDEATHSIG(SIGKILL). Optional: time namespace clock offsets
 * (ns) for CLOCK_MONOTONIC/BOOTTIME when mono_offset_ns != 0.
 * The caller reaps (SIGCHLD/waitpid). */
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
 * namespace (e.g. to open a netlink socket or a probe connection there),
 * then switch back. */
int hx_lab_in_node(struct hx_lab *lab, unsigned idx, int (*fn)(void *), void *arg,
                   char *err, size_t errlen);

#endif
