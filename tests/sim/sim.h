/* sim.h — deterministic discrete-event cluster fixture for the Raft core:
 * seeded PRNG, simulated network (latency, reordering, drops, duplicates,
 * partitions incl. one-way), disks that lose unsynced writes on a crash,
 * pauses, clients; safety invariants are checked after every step. */
#ifndef RAFT_SIM_H
#define RAFT_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "raftnode/raft.h"

#define SIM_MAX_NODES 7

struct sim_opts {
	unsigned nodes;         /* 1..SIM_MAX_NODES (3 or 5 for random runs) */
	uint64_t seed;
	unsigned steps;         /* events of the faulty phase (sim_run) */
	bool verbose;           /* print the trace as it happens */
	bool faults;            /* random nemesis in sim_run */
	bool membership;        /* random membership changes in sim_run */
	unsigned election_ms;   /* raft option; default 100 */
	unsigned heartbeat_ms;  /* raft option; default 20 */
	unsigned max_sync_ms;   /* disk sync latency upper bound; default 30 */
	unsigned max_latency_ms;/* network latency upper bound; default 10 */
	bool pre_vote;          /* default true (set by sim_opts_default) */
	bool check_quorum;      /* default true */
	unsigned max_append;    /* entries per AppendEntries; default (0) 16 */
	unsigned max_inflight;  /* pipelined appends per follower; default (0) 4 */
};
/* Varies the knobs by seed (pre-vote, check-quorum, batch and pipeline
 * sizes, latencies) so random runs also cover the less common settings. */
void sim_opts_vary(struct sim_opts *o, uint64_t seed);
void sim_opts_default(struct sim_opts *o);

struct sim;
/* Creates and bootstraps a cluster of opts->nodes voters (ids 1..n);
 * NULL on allocation failure. */
struct sim *sim_new(const struct sim_opts *opts);
void sim_free(struct sim *s);

/* Random run: opts.steps events with faults, then heal and check liveness
 * (a leader elected and a proposal committed within bounded simulated
 * time) and convergence. 0 = every check passed. */
int sim_run(struct sim *s);

/* Failure report: NULL while no invariant was violated. */
const char *sim_failure(const struct sim *s);
/* The last lines of the trace (all of it when verbose). */
void sim_dump_trace(const struct sim *s, FILE *f);

/* ---- scripted control, for targeted scenarios -------------------------- */
uint64_t sim_now(const struct sim *s);
/* Runs events until simulated time advances by ms (or a failure). */
void sim_run_for(struct sim *s, uint64_t ms);
/* Runs until pred(s, arg) holds, at most ms; returns whether it held. */
bool sim_run_until(struct sim *s, uint64_t ms, bool (*pred)(struct sim *, void *), void *arg);
struct raft *sim_raft(struct sim *s, raft_id id); /* NULL while crashed */
raft_id sim_leader(struct sim *s);                /* a live leader of the highest term, or 0 */
void sim_crash(struct sim *s, raft_id id);
void sim_restart(struct sim *s, raft_id id);
void sim_pause(struct sim *s, raft_id id);
void sim_resume(struct sim *s, raft_id id);
/* Block (or unblock) messages from -> to. */
void sim_block(struct sim *s, raft_id from, raft_id to, bool blocked);
/* Isolate id from every other node in both directions (or heal it). */
void sim_isolate(struct sim *s, raft_id id, bool isolated);
void sim_heal(struct sim *s);
void sim_set_drop(struct sim *s, unsigned percent);
/* Disk: hold syncs of id (writes stay unsynced) until released. */
void sim_hold_disk(struct sim *s, raft_id id, bool hold);
/* Client operations at node id; return the raft_* code. */
int sim_propose(struct sim *s, raft_id id, raft_index *index);
int sim_read(struct sim *s, raft_id id);
int sim_snapshot(struct sim *s, raft_id id, unsigned trailing);
/* Reads answered so far with ok=true / ok=false. */
unsigned sim_reads_ok(const struct sim *s);
unsigned sim_reads_failed(const struct sim *s);
/* Highest index known committed anywhere. */
raft_index sim_max_committed(const struct sim *s);
/* Number of leader elections seen so far. */
unsigned sim_elections(const struct sim *s);
/* What the nemesis and clients managed to do (successful calls). */
struct sim_stats {
	uint64_t crashes, installs, snapshots, member_changes, transfers, pauses, partitions, clock_bumps;
};
const struct sim_stats *sim_stats(const struct sim *s);
/* Events processed so far. */
uint64_t sim_steps(const struct sim *s);


/* ---- scripted scenarios (scenarios.c) ------------------------------------ */
/* The paper's Figure 8 on a fresh 5-node sim; see scenarios.c. */
int sim_scenario_figure8(struct sim *s, bool *reached);

#endif
