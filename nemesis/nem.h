/* nem.h — the network nemesis: partitions as Jepsen grudges (who drops whose packets), built from named topologies and applied to the lab as fib rules over libnl.
 *
 * Mechanism (see STYLE.md "Netlink facts"): the lab moved each node
 * namespace's IPv4 `lookup local` rule to HX_LAB_LOCAL_RULE_PREF. For each
 * (receiver, sender) pair of a grudge the receiver's namespace gets one rule
 *     from <sender ip>/32 iif <receiver's eth0> blackhole   pref NEM_RULE_PREF
 * so the sender's packets vanish on arrival, silently, exactly like Jepsen's
 * `iptables -A INPUT -s <sender> -j DROP`: connects time out (no fast error),
 * established connections stall (adding a rule invalidates the routes their
 * sockets cached) and resume by retransmission after the heal. A one-way
 * grudge (A drops B) still stops TCP both ways, since any handshake needs
 * packets from B to reach A; UDP is cut one way only. The lab gave every node permanent neighbour
 * entries, so a grudge never breaks ARP and never produces a fast
 * "no route"/"host unreachable" error. Locally generated packets (iif lo) and
 * the harness's switch address are never matched: clients always reach every
 * node.
 *
 * Errors: int return, 0 = ok, -1 with a message in err that carries context
 * and the libnl text ("partition n1|n2: add rule in n1 from 10.77.0.12:
 * Object exists"). Nothing here prints, exits or keeps global state. A
 * struct nem_net is used from one thread (the lab's thread: probes switch
 * that thread's network namespace briefly).
 */
#ifndef NEM_H
#define NEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/lab.h"

#define NEM_MAX_NODES HX_LAB_MAX_NODES
/* Preference of the blackhole rules; below HX_LAB_LOCAL_RULE_PREF. */
#define NEM_RULE_PREF 100

/* ---- grudges (pure data, no system calls) -------------------------------- */

/* A grudge over nodes 0..n-1 (lab indices): bit s of drops[r] set means node
 * r drops every packet from node s. A plain value: copy it freely. */
struct nem_grudge {
	unsigned n;
	uint64_t drops[NEM_MAX_NODES];
};

/* An empty grudge (no drops) over n nodes (n <= NEM_MAX_NODES). */
void nem_grudge_init(struct nem_grudge *g, unsigned n);
/* receiver drops packets from sender (both < g->n, receiver != sender;
 * anything else is ignored). */
void nem_grudge_drop(struct nem_grudge *g, unsigned receiver, unsigned sender);
bool nem_grudge_drops(const struct nem_grudge *g, unsigned receiver, unsigned sender);
/* Number of (receiver, sender) pairs, i.e. of rules in force. */
unsigned nem_grudge_count(const struct nem_grudge *g);
bool nem_grudge_equal(const struct nem_grudge *a, const struct nem_grudge *b);

/* A permutation of 0..n-1 drawn from seed (splitmix64 + Fisher-Yates; the
 * same seed gives the same order on every machine). */
void nem_order_shuffle(unsigned *order, unsigned n, uint64_t seed);

/* Topologies. `order` is a permutation of 0..n-1 saying how nodes are laid
 * out before splitting (NULL: index order); pass a shuffled order for the
 * random variants (random halves = halves over a shuffled order). All are
 * complete (symmetric) unless said otherwise. */
/* Nodes in different components drop each other; component[i] is node i's
 * component number. */
void nem_grudge_components(struct nem_grudge *g, unsigned n, const unsigned *component);
/* One node alone against the rest. */
void nem_grudge_isolate(struct nem_grudge *g, unsigned n, unsigned node);
/* Jepsen's bisect: the first floor(n/2) nodes of order (the minority) against
 * the rest (the majority). */
void nem_grudge_halves(struct nem_grudge *g, unsigned n, const unsigned *order);
/* Jepsen's bridge: halves, except that the first node of the second half
 * (*bridge, may be NULL) keeps talking to both sides and nobody drops it. */
void nem_grudge_bridge(struct nem_grudge *g, unsigned n, const unsigned *order, unsigned *bridge);
/* Jepsen's perfect majorities ring: nodes on a ring in `order`; each window
 * of m = n/2+1 consecutive nodes is what its middle node (index m/2 of the
 * window) hears from, it drops everyone else. Every node hears a majority and
 * no two nodes hear the same one. Symmetric for odd m (n = 4, 5: each node
 * drops the far side of the ring); one-directional pairs for even m (n = 3,
 * 6, 7), as in Jepsen. */
void nem_grudge_majorities_ring(struct nem_grudge *g, unsigned n, const unsigned *order);
/* One way only: receiver drops sender; sender still hears receiver. */
void nem_grudge_one_way(struct nem_grudge *g, unsigned n, unsigned receiver, unsigned sender);

/* The history's description of a grudge, {"n1":["n3","n4"],"n2":["n3","n4"]}:
 * receivers in index order, each with the senders it drops; receivers that
 * drop nobody are left out ({} for no grudge). ids[i] names node i. Writes a
 * NUL-terminated string; returns its length, or -1 when len is too small. */
int nem_grudge_to_json(const struct nem_grudge *g, const char *const *ids, char *buf, size_t len);
/* The inverse: parses that form (keys and listed senders must be among
 * ids[0..n-1]); unknown ids, a receiver listing itself or a malformed text are
 * errors naming the offending word. */
int nem_grudge_from_json(struct nem_grudge *g, unsigned n, const char *const *ids, const char *json,
                         char *err, size_t errlen);
/* Fills ids[0..lab->n_nodes-1] with the lab's node ids (borrowed pointers). */
void nem_lab_ids(const struct hx_lab *lab, const char **ids);

/* ---- applying grudges to the lab ----------------------------------------- */

struct nem_net;

struct nem_net_stats {
	uint64_t duration_ns; /* wall time of the netlink work (CLOCK_MONOTONIC) */
	unsigned added;       /* rules added */
	unsigned removed;     /* rules removed */
};

/* Binds to a lab (borrowed: it must outlive the nem_net) and heals whatever
 * an earlier user left: every IPv4 rule at NEM_RULE_PREF in every node
 * namespace is removed. Allocates *out. Blocks on netlink only. */
int nem_net_new(struct nem_net **out, struct hx_lab *lab, char *err, size_t errlen);
/* Heals (best effort, errors ignored) and frees. NULL is fine. */
void nem_net_free(struct nem_net *net);

/* Make g the grudge in force, replacing the current one: only the rules that
 * differ are removed/added (the diff), so re-applying the same grudge costs
 * nothing. g->n must be <= lab->n_nodes (nodes added to the lab later are
 * simply not in the grudge). On failure the rules changed so far stay
 * changed and nem_net_current() says exactly what is in force; apply again or
 * heal. st (may be NULL) gets the duration and counts. Blocks on netlink. */
int nem_net_apply(struct nem_net *net, const struct nem_grudge *g, struct nem_net_stats *st,
                  char *err, size_t errlen);
/* Remove every rule in force. Idempotent (a rule already gone is fine). */
int nem_net_heal(struct nem_net *net, struct nem_net_stats *st, char *err, size_t errlen);
/* The grudge in force (borrowed; changes on apply/heal). */
const struct nem_grudge *nem_net_current(const struct nem_net *net);

/* Verifies the grudge in force by measurement. UDP rather than TCP: a TCP
 * handshake needs both directions, so it cannot tell which way a one-way
 * grudge cuts; a datagram per direction can. One UDP datagram for every
 * ordered pair of nodes and between the switch (the harness) and every node,
 * resent every 50 ms while missing. Waits until every datagram that should
 * arrive has arrived, plus a grace of a quarter of timeout_ms (20..200 ms)
 * for ones that should not; gives up at timeout_ms (a datagram that should
 * arrive and did not is a mismatch). Blocks up to timeout_ms + 200 ms; the
 * usual cost is the grace. Returns -1 only when it could not probe (sockets,
 * namespaces); the verdict is res->mismatches. */
struct nem_probe_result {
	unsigned n;                        /* nodes probed */
	uint64_t heard[NEM_MAX_NODES];     /* bit s of heard[r]: r received from s */
	uint64_t switch_heard;             /* bit r: the switch received from node r */
	uint64_t heard_switch;             /* bit r: node r received from the switch */
	unsigned mismatches;               /* pairs not as the grudge says (0 = verified) */
	char first_mismatch[96];           /* e.g. "n2 heard n1 (should drop)" */
	uint64_t duration_ns;
};
int nem_net_probe(struct nem_net *net, unsigned timeout_ms, struct nem_probe_result *res,
                  char *err, size_t errlen);

#endif
