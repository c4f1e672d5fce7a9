/* tick.c — the passage of time: election timeouts, heartbeats,
 * check-quorum and transfer deadlines. */
#include "raftnode/core/internal.h"

/* Thesis §6.2: "a leader steps down if an election timeout elapses without
 * a successful round of heartbeats to a majority of its cluster". */
static bool check_quorum(struct raft *r, uint64_t now)
{
	if (now - r->quorum_check_start < r->opts.election_timeout_ms)
		return true;
	unsigned active = raft_is_voter(r, r->id) ? 1 : 0;
	for (unsigned i = 0; i < r->n_progress; i++) {
		struct raft_progress *pr = &r->progress[i];
		if (pr->recent_active && raft_is_voter(r, pr->id))
			active++;
		pr->recent_active = false;
	}
	r->quorum_check_start = now;
	return active >= raft_quorum(r);
}

unsigned raft_tick(struct raft *r)
{
	if (r->stopped || !r->started)
		return r->opts.heartbeat_ms;
	uint64_t now = raft_now(r);
	if (r->role == RAFT_LEADER) {
		if (r->opts.check_quorum && !check_quorum(r, now)) {
			raft_convert_to_follower(r, r->term, 0);
			return r->opts.heartbeat_ms / 2 + 1;
		}
		raft_transfer_tick(r);
		if (now - r->heartbeat_last >= r->opts.heartbeat_ms) {
			r->heartbeat_last = now;
			raft_replication_heartbeat(r);
		}
		uint64_t next = r->heartbeat_last + r->opts.heartbeat_ms;
		return next > now ? (unsigned)(next - now) : 1;
	}
	/* §5.2: "If a follower receives no communication over a period of
	 * time called the election timeout, then it assumes there is no
	 * viable leader and begins an election". Candidates restart one. */
	if (now - r->election_start >= r->election_rand) {
		raft_election_start(r, r->opts.pre_vote, false);
		if (r->role == RAFT_LEADER)
			return r->opts.heartbeat_ms;
	}
	uint64_t deadline = r->election_start + r->election_rand;
	return deadline > now ? (unsigned)(deadline - now) : 1;
}
