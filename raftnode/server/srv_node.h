/* srv_node.h — one raftnode server: the Raft core driven by a libevent loop,
 * with the WAL, snapshots, the KV state machine, the peer transport and the
 * HTTP client API. Internal to the raftnode binary (srv_node.c, srv_http.c).
 *
 * Why libevent 2.1: one thread and one loop give us timers (the Raft tick,
 * request deadlines), bufferevents for the peer TCP streams (and, later,
 * bufferevent_openssl for mutual TLS on the same code path), and evhttp
 * for an HTTP/1.1 keep-alive server plus the client used to forward
 * requests to the leader — without threads touching the core.
 *
 * The loop runs one iteration at a time (EVLOOP_ONCE) and after every
 * iteration runs after_iteration(): the group-commit point. Every log
 * append made by the callbacks of that iteration (many client proposals,
 * many AppendEntries) goes to the WAL's sync thread as one batch (one
 * write + one fdatasync) while the loop keeps serving; when the batch is
 * durable it is reported to the core with raft_persisted() and the next
 * batch (all that accumulated meanwhile) starts. Queued linearizable reads
 * are confirmed with one ReadIndex round per iteration as well.
 */
#ifndef SRV_NODE_H
#define SRV_NODE_H

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "raftnode/raft.h"
#include "raftnode/server/srv_flags.h"
#include "raftnode/server/srv_kv.h"
#include "raftnode/server/srv_snap.h"
#include "raftnode/server/srv_transport.h"
#include "raftnode/server/srv_wal.h"

/* A client write waiting for its entry to be applied. */
struct srv_pending {
	struct srv_pending *prev, *next;
	uint64_t reqid;
	raft_index index;
	raft_term term;
	struct evhttp_request *req;
	uint64_t deadline;
};

/* A linearizable read waiting for its ReadIndex round and the apply. */
struct srv_read {
	struct srv_read *next;
	struct evhttp_request *req;
	char *key;
};
struct srv_read_batch {
	struct srv_read_batch *prev, *next;
	uint64_t ctx;
	bool confirmed;
	raft_index read_index;
	struct srv_read *reads;
	uint64_t deadline;
};

/* POST/DELETE /v1/members in progress on the leader (one at a time). */
enum { SRV_MOP_ADD = 1, SRV_MOP_PROMOTE, SRV_MOP_WAIT_PROMOTE, SRV_MOP_REMOVE };
struct srv_member_op {
	struct evhttp_request *req;
	int phase;
	raft_id id;
	char address[RAFT_ADDR_MAX];
	raft_index index;
	raft_term term; /* of the entry at index, once proposed */
	uint64_t deadline;
};

/* A request that arrived while no leader was known: parked until one is
 * (then handled again from the start) or until its deadline (503
 * no_leader: nothing was proposed). */
struct srv_parked {
	struct srv_parked *next;
	struct evhttp_request *req;
	uint64_t deadline;
	raft_id avoid; /* a leader that could not be reached: wait for another */
};

/* A pooled HTTP client connection to the leader, for forwarding. */
struct srv_fwd_conn {
	struct srv_fwd_conn *next;
	struct evhttp_connection *evcon;
	char addr[RAFT_ADDR_MAX];
	bool busy;
};

struct srv_node {
	struct srv_flags *flags;
	struct event_base *base;
	struct raft *raft;
	struct raft_io io;
	struct srv_wal *wal;
	struct srv_kv *kv;
	struct srv_transport *transport;
	struct evhttp *http;
	struct event *tick_ev, *house_ev, *sigterm_ev, *sigint_ev, *wal_ev;
	char wal_dir[4096], snap_dir[4096];
	int lock_fd;

	/* durability */
	raft_term wal_last_term; /* term of the last entry handed to the WAL */
	raft_term durable_term;  /* term of the entry at the WAL's durable index */
	raft_term inflight_term; /* term of the last entry of the batch being synced */
	raft_index reported_index; /* last (index, term) given to raft_persisted */
	raft_term reported_term;
	/* state machine */
	raft_index applied;
	struct srv_snap snap;    /* newest snapshot (meta + data), for load_snapshot */
	bool have_snap;
	raft_index snap_failed_at; /* applied index of the last failed attempt */
	/* client operations */
	uint64_t reqid_base, reqid_seq, read_seq;
	struct srv_pending *pending;
	unsigned n_pending;
	struct srv_read *read_queue, **read_tail;
	struct srv_read_batch *batches;
	struct srv_member_op *mop;
	struct srv_fwd_conn *fwd;
	struct srv_parked *parked;
	/* bookkeeping */
	bool config_dirty;       /* a CONFIG entry or snapshot may have changed peers */
	bool stop;
	int exit_code;
	int last_role;
	raft_term last_term_seen;
	raft_id last_leader;
	uint64_t rng;
	uint64_t stat_applied_cmds;
};

int srv_node_init(struct srv_node *n, struct srv_flags *f, char *err, size_t errlen);
/* Runs until SIGTERM/SIGINT (returns 0) or a fatal error (returns 1). */
int srv_node_run(struct srv_node *n);
void srv_node_destroy(struct srv_node *n);

/* ---- shared between srv_node.c and srv_http.c ---- */
int srv_http_start(struct srv_node *n, char *err, size_t errlen);
void srv_http_stop(struct srv_node *n);
/* Parked requests: handle them again once a leader is known (called after
 * every loop iteration), refuse those past their deadline (housekeeping). */
void srv_http_unpark(struct srv_node *n);
void srv_http_expire_parked(struct srv_node *n, uint64_t now);
/* Send a JSON reply (takes ownership of body). */
void srv_http_reply(struct evhttp_request *req, int code, json_t *body);
void srv_http_reply_error(struct evhttp_request *req, int code, const char *error);
/* Fatal: log, stop the loop, exit 1 after it. */
void srv_node_fatal(struct srv_node *n, const char *what, const char *detail);
/* Parse a configuration address "PEER CLIENT" into its two halves. */
int srv_node_split_address(const char *address, char *peer, size_t peerlen, char *client, size_t clientlen);
/* The client address of server id from the latest configuration. */
int srv_node_client_addr(struct srv_node *n, raft_id id, char *out, size_t outlen);
/* Register a proposal's pending reply. */
int srv_node_add_pending(struct srv_node *n, struct evhttp_request *req, uint64_t reqid, raft_index index,
                         raft_term term);
uint64_t srv_node_new_reqid(struct srv_node *n);
void srv_node_queue_read(struct srv_node *n, struct evhttp_request *req, char *key);
void srv_node_serve_read(struct srv_node *n, struct evhttp_request *req, const char *key);
/* POST /v1/members and DELETE /v1/members/{id} on the leader: answered
 * asynchronously once the change is applied (or 409/503/504). */
void srv_node_member_add(struct srv_node *n, struct evhttp_request *req, raft_id id, const char *address);
void srv_node_member_remove(struct srv_node *n, struct evhttp_request *req, raft_id id);

#endif
