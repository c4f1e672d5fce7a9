/* election.c — leader election (§5.2, §5.4.1), pre-vote (thesis §9.6) and
 * leader stickiness (thesis §4.2.3). */
#include <string.h>

#include "raftnode/core/internal.h"

/* Thesis §4.2.3: "if a server receives a RequestVote request within the
 * minimum election timeout of hearing from a current leader, it does not
 * update its term or grant its vote" — this keeps removed servers (which
 * no longer hear from the leader) from disrupting the cluster, with or
 * without pre-vote. A leader is its own current leader: it steps down
 * through check-quorum, or when a message of a higher term other than a
 * vote request arrives (a rejoining server answers its heartbeats with its
 * term). */
bool raft_election_in_lease(struct raft *r)
{
	if (r->role == RAFT_LEADER)
		return true;
	return r->leader != 0 && raft_now(r) - r->last_leader_contact < r->opts.election_timeout_ms;
}

static bool has_vote(const struct raft *r, raft_id id)
{
	for (unsigned i = 0; i < r->n_votes; i++)
		if (r->votes[i] == id)
			return true;
	return false;
}

static unsigned count_votes(const struct raft *r)
{
	unsigned n = 0;
	for (unsigned i = 0; i < r->n_votes; i++)
		n += raft_is_voter(r, r->votes[i]);
	return n;
}

/* Only voters of our configuration count (§4.1: the latest configuration
 * decides); that also bounds the array by config.n. */
static void record_vote(struct raft *r, raft_id id)
{
	if (!raft_is_voter(r, id) || has_vote(r, id))
		return;
	assert(r->n_votes < r->cap_votes);
	r->votes[r->n_votes++] = id;
}

static int maybe_won(struct raft *r)
{
	if (count_votes(r) < raft_quorum(r))
		return RAFT_OK;
	if (r->pre_vote_phase)
		/* Thesis §9.6: only once a majority would vote does the
		 * pre-candidate increment its term and run a real election. */
		return raft_election_start(r, false, r->transfer_campaign);
	/* §5.2: "A candidate wins an election if it receives votes from a
	 * majority of the servers in the full cluster for the same term." */
	return raft_convert_to_leader(r);
}

/* A server that is not a voter of its latest configuration does not start
 * elections: removed servers must not disrupt (thesis §4.2.3). Except while
 * that configuration is not yet committed and we were a voter before it:
 * "a server that is not part of its own latest configuration should still
 * start new elections, as it might still be needed until the Cnew entry is
 * committed" (thesis §4.2.2) — e.g. a leader of two that removed itself and
 * restarted before replicating: the other one cannot win without it. */
static bool may_campaign(const struct raft *r)
{
	if (raft_is_voter(r, r->id))
		return true;
	if (r->config_index <= r->commit || r->config_index == 0)
		return false;
	struct raft_config prev;
	raft_index ci;
	if (raft_membership_config_at(r, r->config_index - 1, &prev, &ci) != RAFT_OK)
		return false;
	const struct raft_server *s = raft_config_get(&prev, r->id);
	bool was_voter = s && s->role == RAFT_VOTER;
	raft_config_free(&prev);
	return was_voter;
}

int raft_election_start(struct raft *r, bool pre_vote, bool transfer)
{
	if (!may_campaign(r)) {
		raft_reset_election_timer(r);
		return RAFT_OK;
	}
	int rc = raft_convert_to_candidate(r, pre_vote, transfer);
	if (rc)
		return rc;
	record_vote(r, r->id);
	for (unsigned i = 0; i < r->config.n; i++) {
		const struct raft_server *s = &r->config.servers[i];
		if (s->id == r->id || s->role != RAFT_VOTER)
			continue;
		struct raft_msg m = { .type = RAFT_MSG_VOTE, .to = s->id };
		m.vote.last_log_index = raft_log_last_index(&r->log);
		m.vote.last_log_term = raft_log_last_term(&r->log);
		m.vote.pre_vote = pre_vote;
		m.vote.transfer = transfer;
		/* A pre-vote asks about the term we would use, without adopting it. */
		m.term = pre_vote ? r->term + 1 : r->term;
		raft_send(r, &m);
	}
	return maybe_won(r);
}

/* §5.4.1: "If votedFor is null or candidateId, and candidate's log is at
 * least as up-to-date as receiver's log, grant vote". Up-to-date: "If the
 * logs have last entries with different terms, then the log with the later
 * term is more up-to-date. If the logs end with the same term, then
 * whichever log is longer is more up-to-date." */
static bool log_up_to_date(const struct raft *r, const struct raft_msg *m)
{
#ifdef RAFT_MUTANT_VOTE_ANY_LOG
	(void)r;
	(void)m;
	return true; /* MUTANT: skips the up-to-date check */
#else
	raft_term lt = raft_log_last_term(&r->log);
	if (m->vote.last_log_term != lt)
		return m->vote.last_log_term > lt;
	return m->vote.last_log_index >= raft_log_last_index(&r->log);
#endif
}

int raft_election_recv_vote(struct raft *r, const struct raft_msg *m)
{
	/* step.c already applied the term rules: m->term >= r->term here, and
	 * equal unless this is a pre-vote. */
	bool can_vote = r->voted_for == m->from || (r->voted_for == 0 && r->leader == 0) ||
	                (m->vote.pre_vote && m->term > r->term);
	bool grant = can_vote && log_up_to_date(r, m);
	struct raft_msg reply = { .type = RAFT_MSG_VOTE_RESULT, .to = m->from };
	reply.vote_result.pre_vote = m->vote.pre_vote;
	reply.vote_result.granted = grant;
	if (grant && !m->vote.pre_vote) {
		int rc = raft_persist_term_vote(r, r->term, m->from);
		if (rc)
			return rc;
		/* §5.2: a follower that grants a vote restarts its timer, so that
		 * it does not compete with the candidate it just voted for. */
		raft_reset_election_timer(r);
	}
	if (grant && m->vote.pre_vote)
		reply.term = m->term; /* echoed, see raft_send */
	raft_send(r, &reply);
	return RAFT_OK;
}

int raft_election_recv_vote_result(struct raft *r, const struct raft_msg *m)
{
	if (r->role != RAFT_CANDIDATE || m->vote_result.pre_vote != r->pre_vote_phase)
		return RAFT_OK;
	/* A pre-vote grant echoes the term we asked about; a real vote result
	 * must be for our term. Anything else is a stale reply. */
	if (m->term != (m->vote_result.pre_vote ? r->term + 1 : r->term))
		return RAFT_OK;
	if (!m->vote_result.granted)
		return RAFT_OK;
	record_vote(r, m->from);
	return maybe_won(r);
}
