/* raft.h — the pure Raft core's public API: no syscalls, no clock, no
 * randomness; everything reaches the outside world through struct raft_io.
 *
 * v1 (raft-core). The server (raftnode/server/) and the simulator (tests/sim)
 * program against it. Change it deliberately: keep "Changes" current.
 *
 * Changes:
 *  v1 (from the lead's draft v0):
 *   - raft_persisted() takes the term of the entry at index as well: the log
 *     may be truncated and rewritten while an earlier write is still being
 *     synced, and (index, term) identifies the whole prefix (log matching),
 *     so a stale completion can never mark newer entries durable.
 *   - append_result gains `rejected` (the prev_index that a failed
 *     AppendEntries carried) so a leader can drop stale rejections while
 *     pipelining.
 *   - new error codes RAFT_ETRANSFER (proposal refused: leadership transfer
 *     in progress; definitely not applied) and RAFT_ECATCHUP (promote
 *     refused: the learner is not caught up yet; retry later), RAFT_ENOTFOUND.
 *   - raft_promote() returns RAFT_ECATCHUP instead of a separate
 *     raft_catching_up() (which the draft mentioned but did not declare).
 *   - raft_snapshot_meta_at(): the metadata (term, configuration) the host
 *     stores next to a snapshot it takes.
 *   - raft_snapshot_index(), raft_msg_copy(), raft_msg_release() (helpers for
 *     transports that queue messages).
 *   - contracts written down: read_done is called exactly once per accepted
 *     raft_read_index; io->append/install_snapshot failures are fatal.
 *   - RAFT_MUTANT_* compile-time flags documented (end of this file).
 *  v1.1 (comments only, no API change): host obligations for snapshots and
 *   durable logs (install_snapshot drops unsynced appends; raft_load passes
 *   entries after a snapshot only when the log agrees with it).
 *  v1.2 (behaviour): raft_promote also requires the learner's match index to
 *   cover the latest configuration entry (an empty learner on a short log
 *   passed the lag test); raft_step drops malformed messages (RAFT_EINVAL);
 *   leader stickiness no longer depends on check_quorum (thesis §4.2.3: it
 *   is what keeps removed servers from disrupting without pre-vote);
 *   a clock that goes back no longer fires every timeout at once; two more
 *   mutants (READ_NO_TERM_COMMIT, SKIP_PREV_CHECK).
 *
 * Threading: a struct raft is used by one thread. Every raft_* call runs to
 * completion; io callbacks are invoked synchronously from inside them and must
 * not call back into raft_* (the host queues what it wants to do next).
 *
 * Ownership: buffers passed INTO the core (entries to propose, received
 * messages, loaded state) are copied by the core before the call returns. Buffers
 * passed OUT through io callbacks are only valid during the callback; the io
 * implementation copies what it needs.
 *
 * Durability protocol (group commit): the core hands new log entries to
 * io->append(); the host writes them (possibly batching many appends into one
 * fsync) and later calls raft_persisted(r, index, term) once every entry up to
 * index is durable. The core never counts its own unpersisted entries toward
 * a commit quorum, and a follower acknowledges AppendEntries only up to what
 * it has persisted. Term and vote are persisted synchronously
 * (io->persist_vote returns only once durable).
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
	RAFT_ENOTLEADER = -1, /* refused: not the leader; definitely not applied */
	RAFT_ENOMEM = -2,
	RAFT_EBUSY = -3,      /* a configuration change is already in flight */
	RAFT_EINVAL = -4,
	RAFT_EIO = -5,        /* an io callback failed; the node is now stopped */
	RAFT_ESHUTDOWN = -6,  /* the node stopped after a fatal error */
	RAFT_ECORRUPT = -7,   /* loaded or decoded state is inconsistent */
	RAFT_ETRANSFER = -8,  /* refused: leadership transfer in progress */
	RAFT_ECATCHUP = -9,   /* refused: learner not caught up yet (retry) */
	RAFT_ENOTFOUND = -10, /* no such server in the configuration */
};
/* Static string; never NULL. */
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
	char address[RAFT_ADDR_MAX];  /* NUL-terminated, opaque to the core (host: URLs) */
};

/* A configuration owns its servers array (malloc'd); an all-zero struct is
 * a valid empty configuration. */
struct raft_config {
	unsigned n;
	struct raft_server *servers;
};
/* RAFT_EINVAL if id is 0, already present, role invalid or address too long. */
int raft_config_add(struct raft_config *c, raft_id id, int role, const char *address);
/* RAFT_ENOTFOUND if id is absent. */
int raft_config_remove(struct raft_config *c, raft_id id);
/* Pointer into c (valid until c changes), NULL if absent. */
const struct raft_server *raft_config_get(const struct raft_config *c, raft_id id);
/* dst must be empty or freed; on success the caller owns dst. */
int raft_config_copy(const struct raft_config *src, struct raft_config *dst);
/* Frees servers and zeroes c. Safe on a zeroed struct. */
void raft_config_free(struct raft_config *c);
unsigned raft_config_voters(const struct raft_config *c);
/* Stable, versioned byte encoding (used for CONFIG entries and snapshots).
 * Format v1, all integers little-endian:
 *   u8 version(=1) u32 n, then n times: u64 id, u8 role, u16 addr_len, addr bytes
 * encode: out->base is malloc'd, the caller frees it.
 * decode: reads untrusted bytes; every length is bounds-checked; RAFT_ECORRUPT
 * on a malformed or trailing-garbage buffer; on success the caller owns *c
 * (which must be empty on entry). */
int raft_config_encode(const struct raft_config *c, struct raft_buf *out);
int raft_config_decode(const void *buf, size_t len, struct raft_config *c);

/* ---- messages (the transport encodes these) -------------------------- */
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
	raft_term term; /* pre-vote requests carry the term the sender would use */
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
			raft_index last_index;  /* success: persisted match index; failure: follower's last index */
			raft_index rejected;    /* failure: the prev_index that did not match */
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
/* Deep copy (entries, their buffers, snapshot config and data are malloc'd).
 * On success the caller owns dst and frees it with raft_msg_release(). */
int raft_msg_copy(const struct raft_msg *src, struct raft_msg *dst);
/* Frees what raft_msg_copy (or a decoder using malloc the same way) allocated. */
void raft_msg_release(struct raft_msg *m);

/* ---- snapshots ------------------------------------------------------ */
struct raft_snapshot_meta {
	raft_index last_index;
	raft_term last_term;
	raft_index config_index;
	struct raft_config config; /* the configuration as of last_index */
};

/* ---- the io table ---------------------------------------------------- */
struct raft;
struct raft_io {
	void *data;
	/* Monotonic milliseconds. Should it go back (clock faults), the core
	 * keeps its highest reading: timeouts are delayed, never fired early;
	 * safety never depends on it (reads are confirmed by a quorum, not
	 * by a lease). */
	uint64_t (*now)(struct raft_io *io);
	/* Uniform random 64 bits (seeded by the host; deterministic in the sim). */
	uint64_t (*random)(struct raft_io *io);
	/* Best effort, asynchronous, may drop. m and everything it points to are
	 * valid only during the call: copy what you keep (raft_msg_copy). */
	void (*send)(struct raft_io *io, const struct raft_msg *m);
	/* Durably record term and vote before returning. Nonzero is fatal:
	 * the call in progress returns RAFT_EIO and the node stops (every later
	 * call returns RAFT_ESHUTDOWN; the host restarts the process). */
	int (*persist_vote)(struct raft_io *io, raft_term term, raft_id voted_for);
	/* Append entries [first, first+n) to the durable log, first truncating
	 * every entry >= first if present. Asynchronous: report durability with
	 * raft_persisted(). Order of calls is the order on disk. n may be 0 (a
	 * pure truncation is never requested; n >= 1 in practice). Nonzero
	 * return is fatal: the node stops (RAFT_ESHUTDOWN from then on). */
	int (*append)(struct raft_io *io, raft_index first, const struct raft_entry *e, unsigned n);
	/* Apply a committed entry (type COMMAND; NOOP/CONFIG are reported too so
	 * the host can track applied_index). In index order, exactly once per
	 * index since the last snapshot restore / raft_load. */
	void (*apply)(struct raft_io *io, raft_index index, const struct raft_entry *e);
	/* Install a snapshot received from the leader: persist it, replace the
	 * state machine, and drop the whole durable log, including appends
	 * handed over earlier but not yet synced (they must never land after
	 * the snapshot: they may belong to another branch). The core's log is
	 * empty after it; the next append starts at meta->last_index+1.
	 * Synchronous (it is rare): return 0 once durable. Nonzero is fatal. */
	int (*install_snapshot)(struct raft_io *io, const struct raft_snapshot_meta *meta, const struct raft_buf *data);
	/* The leader needs the latest snapshot to send to a lagging follower.
	 * The host fills meta+data by reference (the core does not free them),
	 * valid until the next call into the host; nonzero if none (the core
	 * retries at the next heartbeat). */
	int (*load_snapshot)(struct raft_io *io, struct raft_snapshot_meta *meta, struct raft_buf *data);
	/* A ReadIndex request completed: the read registered with ctx may be
	 * served once applied_index >= read_index. ok=false: leadership lost or
	 * unconfirmed; the host answers not_leader/no_leader. */
	void (*read_done)(struct raft_io *io, uint64_t ctx, raft_index read_index, bool ok);
	/* Optional (may be NULL): role/term/leader changed (for logs and status). */
	void (*state_changed)(struct raft_io *io);
};

/* ---- options ---------------------------------------------------------- */
struct raft_options {
	unsigned election_timeout_ms;  /* base; randomized in [base, 2*base) */
	unsigned heartbeat_ms;
	bool pre_vote;                 /* thesis §9.6 */
	bool check_quorum;             /* leader steps down without a majority for an election timeout */
	                               /* (leader stickiness, thesis §4.2.3, is always on) */
	unsigned max_append_entries;   /* entries per AppendEntries message */
	unsigned max_inflight;         /* pipelined AppendEntries per follower */
	unsigned learner_catchup_lag;  /* a learner within this many entries may be promoted */
};
/* election 1000, heartbeat 100, pre_vote and check_quorum on, 64 entries,
 * 8 in flight, lag 16. */
void raft_options_default(struct raft_options *o);

/* ---- lifecycle ------------------------------------------------------- */
/* Create a node. Allocates; never touches io until raft_start. opts NULL =
 * defaults. io must outlive r. */
int raft_new(struct raft **out, raft_id id, struct raft_io *io, const struct raft_options *opts);
/* Frees r. Pending reads are dropped without read_done. */
void raft_free(struct raft *r);

/* Load durable state before start (host read it from disk):
 * term/vote, optional snapshot meta (NULL if none), then the entries that
 * follow it, starting at index snapshot.last_index+1 (or 1). The core copies.
 * With a snapshot, pass entries only if the durable log's entry at
 * snapshot.last_index has term snapshot.last_term (or the log was restarted
 * right after that snapshot); otherwise pass none: they may continue an
 * older branch. RAFT_ECORRUPT if terms decrease or exceed term.
 * Loaded entries count as persisted. The host's state machine must equal the
 * snapshot (or be empty); entries after it are applied again once committed.
 * A log that lost an unsynced tail is fine: Raft only relies on what was
 * acknowledged, and only persisted entries were acknowledged. */
int raft_load(struct raft *r, raft_term term, raft_id vote,
              const struct raft_snapshot_meta *snap,
              const struct raft_entry *entries, unsigned n);
/* Bootstrap a brand-new cluster: persists term 1 and writes a CONFIG entry
 * (term 1) at index 1 through io->append. Only on an empty node (else
 * RAFT_EINVAL); every initial member bootstraps with the same configuration. */
int raft_bootstrap(struct raft *r, const struct raft_config *conf);
int raft_start(struct raft *r);

/* ---- driving the core ------------------------------------------------- */
/* Call at least every heartbeat/2 ms, and soon after any call that changed
 * the role; returns ms until the next needed tick. */
unsigned raft_tick(struct raft *r);
/* A message arrived from the network (m->to must be this node). Malformed
 * messages (terms decreasing along entries, entry terms above the message
 * term, undecodable CONFIG entries, bad types...) are dropped with
 * RAFT_EINVAL without changing any state. */
int raft_step(struct raft *r, const struct raft_msg *m);
/* Every entry up to index is durable, and the entry at index has term term
 * (io->append completed and was synced). Stale reports are ignored. */
void raft_persisted(struct raft *r, raft_index index, raft_term term);

/* ---- client operations (leader) -------------------------------------- */
/* Append a command; on success *index and *term identify it. The host answers
 * the client when io->apply reports (index, term); if it sees a different
 * term at that index, the command was lost (answer "info"/retry).
 * RAFT_ENOTLEADER / RAFT_ETRANSFER: definitely not appended. */
int raft_propose(struct raft *r, const void *data, size_t len, raft_index *index, raft_term *term);
/* ReadIndex (thesis §6.4): record the commit index, confirm leadership with a
 * heartbeat round acknowledged by a majority, wait until the leader has
 * committed an entry of its own term, then io->read_done(ctx, read index, ok).
 * Returns RAFT_ENOTLEADER (no callback) when not leader; after a 0 return
 * read_done is called exactly once (ok=false if leadership is lost first). */
int raft_read_index(struct raft *r, uint64_t ctx);
/* Membership (single-server changes, thesis §4.1), on the leader, one change
 * at a time (RAFT_EBUSY while an uncommitted config change exists). A new
 * server is added as a learner; raft_promote makes it a voter once its match
 * index covers the latest configuration entry and is within
 * learner_catchup_lag of the leader's last index (RAFT_ECATCHUP otherwise). *index (may be NULL) is the CONFIG entry's index:
 * the change is done once that index is applied. */
int raft_add_learner(struct raft *r, raft_id id, const char *address, raft_index *index);
int raft_promote(struct raft *r, raft_id id, raft_index *index);
int raft_remove(struct raft *r, raft_id id, raft_index *index);
/* Leadership transfer (thesis §3.10); id 0 = pick the most up-to-date voter.
 * Proposals are refused (RAFT_ETRANSFER) until it completes or is aborted
 * after an election timeout. */
int raft_transfer(struct raft *r, raft_id id);
/* The host took a snapshot of its state machine covering up to index
 * (<= applied) and made it durable. The core may now drop log entries
 * <= index - trailing, and counts every entry <= index as durable. On disk,
 * entries after the snapshot stay valid only while the durable log agrees
 * with it: if a crash could leave the log shorter than index, or with
 * another term at index (possible when appends were still unsynced at
 * snapshot time), the host must pass no entries to raft_load after that
 * snapshot (see raft_load) and restart its log at index+1. */
int raft_snapshot_taken(struct raft *r, raft_index index, unsigned trailing);
/* Metadata of a snapshot covering up to index (index <= applied and still in
 * the log, or == raft_snapshot_index()). meta->config is a copy the caller
 * frees with raft_config_free. */
int raft_snapshot_meta_at(const struct raft *r, raft_index index, struct raft_snapshot_meta *meta);

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
raft_index raft_snapshot_index(const struct raft *r); /* last compacted index, 0 if none */
raft_index raft_persisted_index(const struct raft *r);
raft_term raft_term_at(const struct raft *r, raft_index i); /* 0 if unknown/compacted (except the snapshot's last index) */
/* Valid until the next raft_* call. NULL if not in memory. */
const struct raft_entry *raft_entry_at(const struct raft *r, raft_index i);
const struct raft_config *raft_configuration(const struct raft *r); /* latest (possibly uncommitted) */
bool raft_is_learner(const struct raft *r);
/* For a leader: match index of a follower (0 if unknown). */
raft_index raft_match_index(const struct raft *r, raft_id id);

/* ---- mutants ----------------------------------------------------------
 * Deliberately broken builds for the "broken raftnode variants" campaign and
 * for proving that the simulator can fail. Compile the files of raftnode/core with
 * one of (never in production):
 *   -DRAFT_MUTANT_COMMIT_OLD_TERM  the leader commits entries of older terms
 *                                  by counting replicas (breaks §5.4.2, Fig. 8)
 *   -DRAFT_MUTANT_VOTE_ANY_LOG     votes are granted without the "candidate's
 *                                  log is at least as up-to-date" check (§5.4.1)
 *   -DRAFT_MUTANT_READ_LOCAL       ReadIndex answers at once from the local
 *                                  commit index, without the heartbeat round
 *   -DRAFT_MUTANT_ACK_UNPERSISTED  followers acknowledge and the leader counts
 *                                  itself for entries not yet persisted
 *   -DRAFT_MUTANT_READ_NO_TERM_COMMIT  ReadIndex does not wait for the new
 *                                  leader to commit an entry of its term
 *                                  (thesis §6.4 step 1): stale reads
 *   -DRAFT_MUTANT_SKIP_PREV_CHECK  AppendEntries' consistency check only
 *                                  tests that prevLogIndex exists, not its
 *                                  term (§5.3): breaks log matching
 * raft_mutant_name() returns the compiled-in mutant's name, or NULL. */
const char *raft_mutant_name(void);

#endif
