/* nem_shaper.h — packet faults without netem: delay, jitter, loss,
 * duplication, reordering, corruption and a rate limit on the packets one
 * node sends to chosen peers, by bin/rapat-shaper (NFQUEUE,
 * libnetfilter_queue) running inside that node's network namespace.
 *
 * How the harness uses it (docs/nemesis.md):
 *   start: nem_shaper_start(&opts, node.netns_fd, &pid) shapes what this node
 *          sends to opts.peers (one direction). For a symmetric fault between
 *          n1 and n2 start one shaper in n1 (peers n2) and one in n2 (peers
 *          n1). One shaper per node namespace at a time (restart it to change
 *          parameters or peers); record "packet-start".
 *   stop:  nem_shaper_stop(pid): removes the rule, releases every held
 *          packet, exits; record "packet-end".
 *   If a shaper dies (SIGKILL), its rule stays but lets packets through
 *   unshaped (--queue-bypass); the next start on that node removes it.
 * Requirements: CAP_NET_ADMIN in the node namespace (root, or the lab's user
 * namespace), iptables-legacy kernel support (ip_tables + xt_NFQUEUE), and
 * CAP_NET_RAW for duplication (copies are re-sent through a raw socket).
 *
 * Errors: int return, 0 = ok, -1 with a message in err (errlen bytes).
 */
#ifndef NEM_SHAPER_H
#define NEM_SHAPER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NEM_SHAPER_MAX_PEERS 64

struct nem_shaper_opts {
	const char *binary;         /* path of rapat-shaper; NULL = "bin/rapat-shaper" */
	const char *peers[NEM_SHAPER_MAX_PEERS]; /* dotted-quad IPv4 destinations */
	unsigned n_peers;
	unsigned queue;             /* NFQUEUE number, 0..65535 (one per namespace) */
	double delay_ms;            /* mean added delay */
	double jitter_ms;           /* delay is uniform in [delay - jitter, delay + jitter], >= 0 */
	double loss;                /* drop probability, 0..1 */
	double duplicate;           /* probability that a packet is sent twice */
	double reorder;             /* probability that a packet skips the delay (overtakes) */
	double corrupt;             /* probability that one bit of the packet's transport
	                             * header or payload is flipped (the receiver's
	                             * checksum then rejects it, as with netem corrupt) */
	double rate_kbps;           /* link rate in kbit/s (queueing + serialisation); 0 = unlimited */
	uint64_t seed;
	const char *log_path;       /* stdout+stderr of the shaper; NULL = /dev/null */
	int timeout_ms;             /* wait for readiness; 0 = 10000 */
};

/* Fork, enter netns_fd (a network namespace fd; -1 = stay in the caller's),
 * exec the shaper and wait until its rule is installed and its queue bound.
 * *pid is the shaper; the caller reaps it (nem_shaper_stop does). */
int nem_shaper_start(const struct nem_shaper_opts *o, int netns_fd, pid_t *pid, char *err, size_t errlen);

/* SIGTERM, wait up to 5 s for a clean exit (rule removed, held packets
 * released), else SIGKILL. Returns -1 when the shaper had to be killed or had
 * already failed (its exit status in err). */
int nem_shaper_stop(pid_t pid, char *err, size_t errlen);

/* ---- internals shared by rapat-shaper and its unit tests ---------------- */

struct nem_shaper_params {
	int64_t delay_ns, jitter_ns;
	double loss, duplicate, reorder, corrupt;
	uint64_t rate_bps;          /* 0 = unlimited */
};

/* What to do with one packet. */
struct nem_shaper_decision {
	int drop;               /* verdict DROP */
	int64_t delay_ns;       /* hold this long, then ACCEPT (0 = at once) */
	int dup;                /* also send a copy ... */
	int64_t dup_delay_ns;   /* ... this long from now */
	int corrupt;            /* flip one bit ... */
	uint64_t corrupt_pick;  /* ... chosen by this random number */
};

/* splitmix64 state; seedable, no global state. */
struct nem_shaper_rng {
	uint64_t s;
};
uint64_t nem_shaper_rng_next(struct nem_shaper_rng *g);
/* Uniform in [0, 1). */
double nem_shaper_rng_unit(struct nem_shaper_rng *g);

void nem_shaper_decide(const struct nem_shaper_params *p, struct nem_shaper_rng *g,
                       struct nem_shaper_decision *d);

/* Serialisation on a link of p->rate_bps: returns when a packet of len
 * bytes that is ready at ready_ns leaves, and advances *link_free_ns (the
 * time the link is next idle). Unlimited rate: ready_ns. */
int64_t nem_shaper_depart(const struct nem_shaper_params *p, int64_t *link_free_ns, int64_t ready_ns,
                          size_t len);

/* Flips one bit of an IPv4 packet beyond its IP header (transport header or
 * payload), chosen by pick; returns the bit index flipped, or -1 when the
 * packet has nothing beyond its IP header. */
long nem_shaper_corrupt(unsigned char *pkt, size_t len, uint64_t pick);

/* A min-heap of timed events (held packets and pending copies). */
struct nem_shaper_event {
	int64_t due_ns;
	uint64_t seq;      /* insertion order: equal due times keep FIFO order */
	uint32_t packet_id;
	int is_copy;          /* a duplicate to send (else: a verdict to issue) */
	unsigned char *copy;  /* malloc'd packet bytes: the duplicate, or for a
	                       * verdict the modified (corrupted) packet; NULL = as is */
	size_t copy_len;
};
struct nem_shaper_heap {
	struct nem_shaper_event *v;
	size_t n, cap;
	uint64_t next_seq;
};
int nem_shaper_heap_push(struct nem_shaper_heap *h, struct nem_shaper_event ev);
/* Pops the earliest event into *ev; 0 on success, -1 when empty. */
int nem_shaper_heap_pop(struct nem_shaper_heap *h, struct nem_shaper_event *ev);
/* Earliest due time, or INT64_MAX when empty. */
int64_t nem_shaper_heap_peek(const struct nem_shaper_heap *h);
void nem_shaper_heap_free(struct nem_shaper_heap *h);

/* iptables-legacy rules through libiptc (no shelling out): append to the
 * filter table's OUTPUT chain "-d PEER -j NFQUEUE --queue-num Q
 * --queue-bypass" for each peer; remove every NFQUEUE rule for queue Q.
 * Run inside the target namespace. */
int nem_shaper_rules_add(unsigned queue, const char *const *peers, unsigned n_peers,
                         char *err, size_t errlen);
int nem_shaper_rules_remove(unsigned queue, unsigned *removed, char *err, size_t errlen);

#endif
