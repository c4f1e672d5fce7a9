/* convert.c — role transitions: follower, (pre-)candidate, leader. */
#include <stdlib.h>
#include <string.h>

#include "raftnode/core/internal.h"

/* §5.2: "Raft uses randomized election timeouts ... chosen randomly from a
 * fixed interval". Ours is [base, 2*base). */
void raft_reset_election_timer(struct raft *r)
{
	r->election_start = raft_now(r);
	unsigned base = r->opts.election_timeout_ms;
	r->election_rand = base + (unsigned)(r->io->random(r->io) % base);
}

static void leave_leadership(struct raft *r)
{
	if (r->role == RAFT_LEADER) {
		raft_read_index_fail_all(r);
		raft_progress_free(r);
		r->transfer_target = 0;
	}
}

int raft_convert_to_follower(struct raft *r, raft_term term, raft_id leader)
{
	bool changed = r->role != RAFT_FOLLOWER || r->term != term || r->leader != leader;
	if (term > r->term) {
		/* Figure 2, all servers: "If RPC request or response contains term
		 * T > currentTerm: set currentTerm = T, convert to follower". */
		int rc = raft_persist_term_vote(r, term, 0);
		if (rc)
			return rc;
		r->leader_match = 0;
		r->acked = 0;
	}
	leave_leadership(r);
	if (leader != r->leader) {
		r->leader_match = 0;
		r->acked = 0;
	}
	/* Figure 2, followers: "If election timeout elapses without receiving
	 * AppendEntries RPC from current leader or granting vote to candidate:
	 * convert to candidate" — merely learning of a higher term does not
	 * restart the timer, or candidates with stale logs could keep a server
	 * with a better log from ever campaigning (a livelock without
	 * pre-vote). A former leader, whose timer was not running, gets one. */
	if (r->role == RAFT_LEADER)
		raft_reset_election_timer(r);
	r->role = RAFT_FOLLOWER;
	r->leader = leader;
	r->pre_vote_phase = false;
	r->transfer_campaign = false;
	if (changed)
		raft_notify(r);
	return RAFT_OK;
}

int raft_convert_to_candidate(struct raft *r, bool pre_vote, bool transfer)
{
	leave_leadership(r);
	if (!pre_vote) {
		/* §5.2: "To begin an election, a follower increments its current
		 * term and transitions to candidate state. It then votes for
		 * itself". Durable before any RequestVote leaves. */
		int rc = raft_persist_term_vote(r, r->term + 1, r->id);
		if (rc)
			return rc;
	}
	r->role = RAFT_CANDIDATE;
	r->leader = 0;
	r->leader_match = 0;
	r->acked = 0;
	r->pre_vote_phase = pre_vote;
	r->transfer_campaign = transfer;
	if (r->cap_votes < r->config.n) {
		raft_id *v = realloc(r->votes, r->config.n * sizeof(*v));
		if (!v)
			return raft_fatal(r, RAFT_ENOMEM);
		r->votes = v;
		r->cap_votes = r->config.n;
	}
	r->n_votes = 0;
	raft_reset_election_timer(r);
	raft_notify(r);
	return RAFT_OK;
}

int raft_convert_to_leader(struct raft *r)
{
	assert(r->role == RAFT_CANDIDATE && !r->pre_vote_phase);
	r->role = RAFT_LEADER;
	r->leader = r->id;
	r->pre_vote_phase = false;
	r->transfer_campaign = false;
	r->transfer_target = 0;
	r->n_reads = 0;
	uint64_t now = raft_now(r);
	r->heartbeat_last = now;
	r->quorum_check_start = now;
	int rc = raft_progress_rebuild(r);
	if (rc)
		return raft_fatal(r, rc);
	raft_notify(r);
	/* §8: "each leader commit a blank no-op entry into the log at the start
	 * of its term" — it commits the previous terms' entries (§5.4.2) and
	 * lets ReadIndex learn the commit index (thesis §6.4). */
	struct raft_entry noop = { .term = r->term, .type = RAFT_ENTRY_NOOP };
	rc = raft_replication_append_local(r, &noop);
	if (rc)
		return rc;
	raft_replication_broadcast(r);
	return RAFT_OK;
}
