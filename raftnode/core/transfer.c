/* transfer.c — leadership transfer (thesis §3.10). */
#include "raftnode/core/internal.h"

int raft_transfer(struct raft *r, raft_id id)
{
	if (r->stopped)
		return RAFT_ESHUTDOWN;
	if (r->role != RAFT_LEADER)
		return RAFT_ENOTLEADER;
	if (r->transfer_target)
		return RAFT_ETRANSFER;
	if (id == 0) {
		/* The most up-to-date voter needs the least catching up. */
		raft_index best = 0;
		for (unsigned i = 0; i < r->n_progress; i++) {
			const struct raft_progress *pr = &r->progress[i];
			if (raft_is_voter(r, pr->id) && (id == 0 || pr->match > best)) {
				id = pr->id;
				best = pr->match;
			}
		}
		if (id == 0)
			return RAFT_EINVAL;
	}
	if (id == r->id || !raft_is_voter(r, id))
		return RAFT_EINVAL;
	struct raft_progress *pr = raft_progress_get(r, id);
	assert(pr);
	r->transfer_target = id;
	r->transfer_start = raft_now(r);
	/* "The prior leader ... catches up the target server's log", then
	 * TimeoutNow. */
	if (pr->match == raft_log_last_index(&r->log))
		raft_transfer_maybe_send(r, pr);
	else
		raft_replication_broadcast(r);
	return RAFT_OK;
}

void raft_transfer_maybe_send(struct raft *r, struct raft_progress *pr)
{
	if (r->role != RAFT_LEADER || pr->id != r->transfer_target || pr->match != raft_log_last_index(&r->log))
		return;
	/* Thesis §3.10: "the prior leader sends a TimeoutNow request to the
	 * target server. This request has the same effect as the target
	 * server's election timer firing". */
	struct raft_msg m = { .type = RAFT_MSG_TIMEOUT_NOW, .to = pr->id };
	raft_send(r, &m);
}

int raft_transfer_recv_timeout_now(struct raft *r, const struct raft_msg *m)
{
	if (r->role != RAFT_FOLLOWER || r->leader != m->from)
		return RAFT_OK;
	/* No pre-vote: the leader asked for this election, and the vote
	 * requests say so, so followers ignore their leader stickiness. */
	return raft_election_start(r, false, true);
}

/* "If the transfer does not complete within about one election timeout,
 * the prior leader aborts the transfer and resumes accepting client
 * requests." */
void raft_transfer_tick(struct raft *r)
{
	if (r->transfer_target && raft_now(r) - r->transfer_start >= r->opts.election_timeout_ms)
		r->transfer_target = 0;
}
