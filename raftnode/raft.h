/* raft.h — the pure Raft core's public API: no syscalls, no clock, no
 * randomness; everything reaches the outside world through struct raft_io.
 *
 * DRAFT v0 (lead engineer). Owned by the raft-core work; the server
 * (raftnode/server_*.c) and the simulator (tests/sim) program against it.
 * Change it deliberately: keep this comment's "Changes" list current.
 *
 * Threading: a struct raft is used by one thread. Every raft_* call runs to
 * completion; io callbacks are invoked synchronously from inside them and must
 * not call back into raft_* (except where said).
 *
 * Ownership: buffers passed INTO the core (entries to propose, received
 * messages) are copied by the core before the call returns. Buffers passed
 * OUT through io callbacks are only valid during the callback; the io
 * implementation copies what it needs.
 *
 * Durability protocol (group commit): the core hands new log entries to
 * io->append(); the host writes them (possibly batching many appends into one
 * fsync) and later calls raft_persisted(r, index) once every entry up to
 * index is durable. The core never counts its own unpersisted entries toward
 * a commit quorum, and a follower acknowledges AppendEntries only after
 * persistence. Term and vote are persisted synchronously (io->persist_vote
 * returns only once durable).
 */
#ifndef RAFT_H
#define RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t raft_id;    /* server id, never 0; 0 means "none" */
typedef uint64_t raft_term;
typedef uint64_t raft_index; /* first log index is 1; 0 means "none" */

enum {
	RAFT_OK = 0,
	RAFT_ENOTLEADER = -1, /* proposal refused: not the leader */
	RAFT_ENOMEM = -2,
	RAFT_EBUSY = -3,      /* a configuration change is already in flight */
	RAFT_EINVAL = -4,
	RAFT_EIO = -5,        /* an io callback failed */
	RAFT_ESHUTDOWN = -6,
	RAFT_ECORRUPT = -7,   /* loaded state is inconsistent */
};
const char *raft_strerror(int rc);

struct raft_buf {
	void *base;
	size_t len;
};

enum raft_entry_type {
	RAFT_ENTRY_COMMAND = 1, /* state-machine command (opaque bytes) */
	RAFT_ENTRY_NOOP = 2,    /* appended by a new leader (§8) */
	RAFT_ENTRY_CONFIG = 3,  /* encoded struct raft_config (raft_config_encode) */
};

struct raft_entry {
	raft_term term;
	uint8_t type; /* enum raft_entry_type */
	struct raft_buf buf;
};

/* ---- configuration -------------------------------------------------- */
enum raft_server_role {
	RAFT_VOTER = 1,
	RAFT_LEARNER = 2, /* receives the log, does not vote or count */
};

#define RAFT_ADDR_MAX 192
struct raft_server {
	raft_id id;
	uint8_t role;                 /* enum raft_server_role */
	char address[RAFT_ADDR_MAX];  /* opaque to the core (host: peer/client URLs) */
};

struct raft_config {
	unsigned n;
	struct raft_server *servers;
};
int raft_config_add(struct raft_config *c, raft_id id, int role, const char *address);
int raft_config_remove(struct raft_config *c, raft_id id);
const struct raft_server *raft_config_get(const struct raft_config *c, raft_id id);
int raft_config_copy(const struct raft_config *src, struct raft_config *dst);
void raft_config_free(struct raft_config *c);
unsigned raft_config_voters(const struct raft_config *c);
/* Stable, versioned byte encoding (used for CONFIG entries and snapshots). */
int raft_config_encode(const struct raft_config *c, struct raft_buf *out); /* out->base malloc'd */
int raft_config_decode(const void *buf, size_t len, struct raft_config *c);

/* ---- messages (the transport encodes these; see server_wire.c) ------- */
enum raft_msg_type {
	RAFT_MSG_VOTE = 1,          /* RequestVote (also pre-vote) */
	RAFT_MSG_VOTE_RESULT = 2,
	RAFT_MSG_APPEND = 3,        /* AppendEntries (also heartbeat) */
	RAFT_MSG_APPEND_RESULT = 4,
	RAFT_MSG_SNAPSHOT = 5,      /* InstallSnapshot, whole snapshot in one message */
	RAFT_MSG_TIMEOUT_NOW = 6,   /* leadership transfer (thesis §3.10) */
};

struct raft_msg {
	uint8_t type; /* enum raft_msg_type */
	raft_id from;
	raft_id to;
	raft_term term;
	union {
		struct {
			raft_index last_log_index;
			raft_term last_log_term;
			bool pre_vote;
			bool transfer; /* sent because of TIMEOUT_NOW: ignore leader stickiness */
		} vote;
		struct {
			bool granted;
			bool pre_vote;
		} vote_result;
		struct {
			raft_index prev_index;
			raft_term prev_term;
			raft_index commit;
			uint64_t heartbeat_seq; /* ReadIndex round, echoed back */
			unsigned n_entries;
			struct raft_entry *entries;
		} append;
		struct {
			bool success;
			raft_index last_index;  /* success: match index; failure: follower's last index */
			raft_index conflict_index; /* fast back-off hint (0 = none) */
			raft_term conflict_term;
			uint64_t heartbeat_seq;
		} append_result;
		struct {
			raft_index last_index;
			raft_term last_term;
			raft_index config_index;
			struct raft_config config;
			struct raft_buf data;  /* state-machine snapshot bytes */
		} snapshot;
	};
};

/* ---- snapshots ------------------------------------------------------ */
struct raft_snapshot_meta {
	raft_index last_index;
	raft_term last_term;
	raft_index config_index;
	struct raft_config config;
};

/* ---- the io table ---------------------------------------------------- */
struct raft;
struct raft_io {
	void *data;
	/* Monotonic milliseconds. */
	uint64_t (*now)(struct raft_io *io);
	/* Uniform random 64 bits (seeded by the host; deterministic in the sim). */
	uint64_t (*random)(struct raft_io *io);
	/* Best effort, asynchronous, may drop. Copy what you keep. */
	void (*send)(struct raft_io *io, const struct raft_msg *m);
	/* Durably record term and vote before returning. Nonzero = failure
	 * (the core then refuses to act on that term). */
	int (*persist_vote)(struct raft_io *io, raft_term term, raft_id voted_for);
	/* Append entries [first, first+n) to the durable log, first truncating
	 * every entry >= first if present. Asynchronous: report durability with
	 * raft_persisted(). Order of calls is the order on disk. */
	int (*append)(struct raft_io *io, raft_index first, const struct raft_entry *e, unsigned n);
	/* Apply a committed entry (type COMMAND; NOOP/CONFIG are reported too so
	 * the host can track applied_index). In index order, exactly once per
	 * index since the last snapshot restore. */
	void (*apply)(struct raft_io *io, raft_index index, const struct raft_entry *e);
	/* Install a snapshot received from the leader: persist it, replace the
	 * state machine, drop the log up to meta->last_index. Return 0 once done
	 * (synchronous; it is rare). */
	int (*install_snapshot)(struct raft_io *io, const struct raft_snapshot_meta *meta, const struct raft_buf *data);
	/* The leader needs the latest snapshot to send to a lagging follower.
	 * The host returns its most recent snapshot (meta+data) by reference,
	 * valid until the next call; nonzero if none. */
	int (*load_snapshot)(struct raft_io *io, struct raft_snapshot_meta *meta, struct raft_buf *data);
	/* A ReadIndex request completed: the read registered with ctx may be
	 * served once applied_index >= read_index. ok=false: leadership lost or
	 * unconfirmed; the host answers not_leader/no_leader. */
	void (*read_done)(struct raft_io *io, uint64_t ctx, raft_index read_index, bool ok);
	/* Optional: role/term/leader changed (for logs and status). */
	void (*state_changed)(struct raft_io *io);
};

/* ---- options ---------------------------------------------------------- */
struct raft_options {
	unsigned election_timeout_ms;  /* base; randomized in [base, 2*base) */
	unsigned heartbeat_ms;
	bool pre_vote;                 /* thesis §9.6 */
	bool check_quorum;             /* leader steps down without a majority for an election timeout */
	unsigned max_append_entries;   /* entries per AppendEntries message */
	unsigned max_inflight;         /* pipelined AppendEntries per follower */
	unsigned learner_catchup_lag;  /* a learner within this many entries may be promoted */
};
void raft_options_default(struct raft_options *o);

/* ---- lifecycle ------------------------------------------------------- */
/* Create a node. Allocates; never touches io until raft_start. */
int raft_new(struct raft **out, raft_id id, struct raft_io *io, const struct raft_options *opts);
void raft_free(struct raft *r);

/* Load durable state before start (host read it from disk):
 * term/vote, optional snapshot meta (NULL if none), then the entries that
 * follow it, starting at index snapshot.last_index+1 (or 1). The core copies. */
int raft_load(struct raft *r, raft_term term, raft_id vote,
              const struct raft_snapshot_meta *snap,
              const struct raft_entry *entries, unsigned n);
/* Bootstrap a brand-new cluster: writes a CONFIG entry at index 1 through
 * io->append. Only on an empty node; every initial member bootstraps with
 * the same configuration. */
int raft_bootstrap(struct raft *r, const struct raft_config *conf);
int raft_start(struct raft *r);

/* ---- driving the core ------------------------------------------------- */
/* Call at least every heartbeat/2 ms; returns ms until the next needed tick. */
unsigned raft_tick(struct raft *r);
/* A message arrived from the network. */
int raft_step(struct raft *r, const struct raft_msg *m);
/* Entries up to index are durable (io->append completed). */
void raft_persisted(struct raft *r, raft_index index);

/* ---- client operations (leader) -------------------------------------- */
/* Append a command; on success *index/*term identify it. The host answers
 * the client when io->apply reports (index, term); if it sees a different
 * term at that index, the command was lost (answer "info"/retry). */
int raft_propose(struct raft *r, const void *data, size_t len, raft_index *index, raft_term *term);
/* ReadIndex (thesis §6.4): confirm leadership with a heartbeat round, then
 * io->read_done(ctx, commit index at the time of the request, ok). */
int raft_read_index(struct raft *r, uint64_t ctx);
/* Membership (single-server changes, thesis §4.1). A new server is added as
 * a learner; promote it when it has caught up (raft_catching_up tells).
 * RAFT_EBUSY while an uncommitted config change exists. */
int raft_add_learner(struct raft *r, raft_id id, const char *address, raft_index *index);
int raft_promote(struct raft *r, raft_id id, raft_index *index);
int raft_remove(struct raft *r, raft_id id, raft_index *index);
/* Leadership transfer (thesis §3.10); id 0 = pick the most up-to-date voter. */
int raft_transfer(struct raft *r, raft_id id);
/* The host took a snapshot of its state machine covering up to index
 * (<= applied). The core may now drop log entries <= index - trailing. */
int raft_snapshot_taken(struct raft *r, raft_index index, unsigned trailing);

/* ---- inspection ------------------------------------------------------- */
enum raft_role { RAFT_FOLLOWER = 1, RAFT_CANDIDATE = 2, RAFT_LEADER = 3 };
const char *raft_role_name(int role);
int raft_role(const struct raft *r);
raft_id raft_id_of(const struct raft *r);
raft_term raft_current_term(const struct raft *r);
raft_id raft_voted_for(const struct raft *r);
raft_id raft_leader(const struct raft *r);        /* 0 if unknown */
raft_index raft_commit_index(const struct raft *r);
raft_index raft_applied_index(const struct raft *r);
raft_index raft_last_index(const struct raft *r);
raft_term raft_last_term(const struct raft *r);
raft_term raft_term_at(const struct raft *r, raft_index i); /* 0 if unknown/compacted */
const struct raft_entry *raft_entry_at(const struct raft *r, raft_index i); /* NULL if not in memory */
const struct raft_config *raft_configuration(const struct raft *r); /* latest (possibly uncommitted) */
bool raft_is_learner(const struct raft *r);
/* For a leader: match index of a follower (0 if unknown). */
raft_index raft_match_index(const struct raft *r, raft_id id);

#endif
