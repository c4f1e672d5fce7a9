/* internal.h — private state of the Raft core shared by the files of
 * raftnode/core (one file per concern of the paper). Not installed. */
#ifndef RAFT_CORE_INTERNAL_H
#define RAFT_CORE_INTERNAL_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include "raftnode/raft.h"

/* Any mutant build (see the end of raft.h): safety guards that a mutant
 * deliberately lets through are compiled out so the simulator sees the
 * consequences instead of a refusal. */
#if defined(RAFT_MUTANT_COMMIT_OLD_TERM) || defined(RAFT_MUTANT_VOTE_ANY_LOG) || \
    defined(RAFT_MUTANT_READ_LOCAL) || defined(RAFT_MUTANT_ACK_UNPERSISTED) || \
    defined(RAFT_MUTANT_READ_NO_TERM_COMMIT) || defined(RAFT_MUTANT_SKIP_PREV_CHECK)
#define RAFT_MUTANT_ANY 1
#endif

/* Upper bound for options.max_inflight (the ring of in-flight appends). */
#define RAFT_INFLIGHT_MAX 64

/* In-memory log. entries[0] is at index offset+1; everything <= offset has
 * been compacted into a snapshot whose last entry had term offset_term. */
struct raft_log {
	struct raft_entry *entries;
	raft_index n;
	raft_index cap;
	raft_index offset;
	raft_term offset_term;
};

enum raft_progress_state {
	RAFT_PR_PROBE = 1,    /* one append at a time until the follower's log position is known */
	RAFT_PR_PIPELINE = 2, /* optimistic: up to max_inflight appends outstanding */
	RAFT_PR_SNAPSHOT = 3, /* an InstallSnapshot is outstanding */
};

/* What a leader knows about one other server (Figure 2: nextIndex[],
 * matchIndex[]) plus flow control. */
struct raft_progress {
	raft_id id;
	raft_index next;
	raft_index match;
	uint8_t state;
	bool probe_sent;         /* PROBE: an append is outstanding, wait */
	unsigned inflight;       /* PIPELINE: appends with entries outstanding */
	unsigned inflight_head;  /* ring of their last indexes */
	raft_index inflight_last[RAFT_INFLIGHT_MAX];
	uint64_t last_send;      /* ms: last append (not heartbeat) or snapshot sent */
	uint64_t last_progress;  /* ms: match advanced / state entered */
	bool recent_active;      /* heard from since the last check-quorum round */
	uint64_t hb_seq_acked;   /* highest ReadIndex round echoed */
	raft_index snapshot_index;
};

struct raft_read {
	uint64_t ctx;
	raft_index index; /* commit index at request; 0 = take it once the term's entry commits */
	uint64_t seq;     /* heartbeat round that must be acknowledged by a majority */
};

struct raft {
	raft_id id;
	struct raft_io *io;
	struct raft_options opts;
	bool started;
	bool stopped; /* a fatal io error happened */

	/* Persistent state on all servers (Figure 2). */
	raft_term term;
	raft_id voted_for;
	struct raft_log log;
	raft_index persisted; /* local entries known durable */

	/* Volatile state. */
	int role;
	raft_id leader;
	raft_index commit;
	raft_index applied;

	/* Configuration: the latest one in the log, committed or not (§4.1),
	 * and the one as of the compaction point (to roll back to). */
	struct raft_config config;
	raft_index config_index;
	struct raft_config snap_config;
	raft_index snap_config_index;

	/* Timers (ms, from io->now, never decreasing: see raft_now). */
	uint64_t last_now;
	uint64_t election_start;
	unsigned election_rand;
	uint64_t last_leader_contact;
	uint64_t heartbeat_last;
	uint64_t quorum_check_start;

	/* Candidate. */
	bool pre_vote_phase;
	raft_id *votes; /* ids that granted, n_votes of them, capacity config.n */
	unsigned n_votes;
	unsigned cap_votes;
	bool transfer_campaign; /* campaigning because of TimeoutNow */

	/* Follower: highest index known to match the current leader's log in
	 * this term, and the highest index acknowledged to it. */
	raft_index leader_match;
	raft_index acked;

	/* Leader. */
	struct raft_progress *progress;
	unsigned n_progress;
	uint64_t hb_seq;
	struct raft_read *reads;
	unsigned n_reads;
	unsigned cap_reads;
	raft_id transfer_target;
	uint64_t transfer_start;
};

/* log.c */
raft_index raft_log_last_index(const struct raft_log *l);
raft_term raft_log_last_term(const struct raft_log *l);
raft_term raft_log_term_at(const struct raft_log *l, raft_index i);
struct raft_entry *raft_log_get(const struct raft_log *l, raft_index i);
int raft_log_append_copy(struct raft_log *l, const struct raft_entry *e);
void raft_log_truncate(struct raft_log *l, raft_index from);
void raft_log_compact(struct raft_log *l, raft_index upto);
void raft_log_reset(struct raft_log *l, raft_index offset, raft_term offset_term);
void raft_log_free(struct raft_log *l);
raft_index raft_log_first_of_term(const struct raft_log *l, raft_index i);

/* util (raft.c) */
uint64_t raft_now(struct raft *r);
void raft_send(struct raft *r, struct raft_msg *m);
void raft_notify(struct raft *r);
int raft_persist_term_vote(struct raft *r, raft_term term, raft_id vote);
int raft_fatal(struct raft *r, int rc);
unsigned raft_quorum(const struct raft *r);
bool raft_is_voter(const struct raft *r, raft_id id);

/* convert.c */
int raft_convert_to_follower(struct raft *r, raft_term term, raft_id leader);
int raft_convert_to_candidate(struct raft *r, bool pre_vote, bool transfer);
int raft_convert_to_leader(struct raft *r);
void raft_reset_election_timer(struct raft *r);

/* election.c */
int raft_election_start(struct raft *r, bool pre_vote, bool transfer);
int raft_election_recv_vote(struct raft *r, const struct raft_msg *m);
int raft_election_recv_vote_result(struct raft *r, const struct raft_msg *m);
bool raft_election_in_lease(struct raft *r);

/* replication.c */
int raft_replication_append_local(struct raft *r, const struct raft_entry *e);
void raft_replication_send(struct raft *r, struct raft_progress *pr, bool heartbeat);
void raft_replication_heartbeat(struct raft *r);
void raft_replication_broadcast(struct raft *r);
int raft_replication_recv_append(struct raft *r, const struct raft_msg *m);
int raft_replication_recv_append_result(struct raft *r, const struct raft_msg *m);
void raft_replication_maybe_commit(struct raft *r);
int raft_replication_apply(struct raft *r);
void raft_replication_follower_ack(struct raft *r, bool force, uint64_t seq);
raft_index raft_replication_self_match(const struct raft *r);

/* progress.c */
int raft_progress_rebuild(struct raft *r);
struct raft_progress *raft_progress_get(struct raft *r, raft_id id);
void raft_progress_reset(struct raft_progress *pr, raft_index last, uint64_t now);
void raft_progress_to_probe(struct raft_progress *pr, raft_index next, uint64_t now);
void raft_progress_to_pipeline(struct raft_progress *pr, uint64_t now);
void raft_progress_inflight_add(struct raft_progress *pr, raft_index last);
void raft_progress_inflight_free_to(struct raft_progress *pr, raft_index upto);
bool raft_progress_may_send(const struct raft *r, const struct raft_progress *pr);
void raft_progress_free(struct raft *r);

/* membership.c */
int raft_membership_apply_entry(struct raft *r, raft_index index, const struct raft_entry *e);
int raft_membership_rollback(struct raft *r);
int raft_membership_config_at(const struct raft *r, raft_index index, struct raft_config *out, raft_index *config_index);
void raft_membership_after_commit(struct raft *r);

/* read_index.c */
void raft_read_index_check(struct raft *r);
void raft_read_index_fail_all(struct raft *r);

/* transfer.c */
void raft_transfer_maybe_send(struct raft *r, struct raft_progress *pr);
int raft_transfer_recv_timeout_now(struct raft *r, const struct raft_msg *m);
void raft_transfer_tick(struct raft *r);

/* snapshot.c */
void raft_snapshot_send(struct raft *r, struct raft_progress *pr);
int raft_snapshot_recv(struct raft *r, const struct raft_msg *m);

/* tick.c is raft_tick; step.c is raft_step. */

#endif
