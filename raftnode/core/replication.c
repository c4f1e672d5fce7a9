/* replication.c — log replication (§5.3): AppendEntries out and in, the
 * commit rule (§5.4.2), applying, proposals and the durability protocol. */
#include <stdlib.h>
#include <string.h>

#include "raftnode/core/internal.h"

/* Safety invariants that a mutant build deliberately breaks are left to the
 * simulator's checkers there instead of aborting. */

/* What the leader may count for itself: only entries it has persisted
 * (the durability protocol; thesis §10.2.1 lets the leader write its log in
 * parallel with replication but it only counts itself once durable). */
raft_index raft_replication_self_match(const struct raft *r)
{
#ifdef RAFT_MUTANT_ACK_UNPERSISTED
	return raft_log_last_index(&r->log); /* MUTANT: counts unpersisted entries */
#else
	return r->persisted;
#endif
}

int raft_replication_append_local(struct raft *r, const struct raft_entry *e)
{
	raft_index idx = raft_log_last_index(&r->log) + 1;
	int rc = raft_log_append_copy(&r->log, e);
	if (rc)
		return raft_fatal(r, rc);
	if (e->type == RAFT_ENTRY_CONFIG) {
		rc = raft_membership_apply_entry(r, idx, e);
		if (rc)
			return raft_fatal(r, rc);
	}
	if (r->io->append(r->io, idx, raft_log_get(&r->log, idx), 1) != 0)
		return raft_fatal(r, RAFT_EIO);
	return RAFT_OK;
}

void raft_replication_send(struct raft *r, struct raft_progress *pr, bool heartbeat)
{
	raft_index last = raft_log_last_index(&r->log);
	if (!heartbeat && pr->next <= r->log.offset) {
		/* The entries it needs are compacted: §7 InstallSnapshot. */
		raft_snapshot_send(r, pr);
		return;
	}
	struct raft_msg m = { .type = RAFT_MSG_APPEND, .to = pr->id };
	raft_index prev;
	unsigned n = 0;
	if (heartbeat) {
		/* A heartbeat names an index the follower is known to share with
		 * us, so it is never rejected for log reasons. */
		prev = pr->match;
		if (prev < r->log.offset)
			prev = r->log.offset;
		if (prev > last)
			prev = last;
	} else {
		prev = pr->next - 1;
		assert(prev >= r->log.offset && prev <= last);
		raft_index avail = last - prev;
		n = avail < r->opts.max_append_entries ? (unsigned)avail : r->opts.max_append_entries;
	}
	m.append.prev_index = prev;
	m.append.prev_term = raft_log_term_at(&r->log, prev);
	m.append.commit = r->commit;
	m.append.heartbeat_seq = r->hb_seq;
	m.append.n_entries = n;
	m.append.entries = n ? raft_log_get(&r->log, prev + 1) : NULL;
	raft_send(r, &m);
	if (heartbeat)
		return;
	pr->last_send = raft_now(r);
	if (pr->state == RAFT_PR_PIPELINE && n > 0) {
		/* Pipelining: assume it arrives and send the next batch without
		 * waiting (thesis §10.2.2); a rejection resets next. */
		pr->next = prev + n + 1;
		raft_progress_inflight_add(pr, prev + n);
	} else if (pr->state == RAFT_PR_PROBE) {
		pr->probe_sent = true;
	}
}

static void replicate(struct raft *r, struct raft_progress *pr)
{
	/* Each send either fills an in-flight slot or leaves the sending
	 * state; the bound makes a mistake there a stall, not a hang. */
	for (unsigned k = 0; k <= r->opts.max_inflight && r->role == RAFT_LEADER && raft_progress_may_send(r, pr); k++)
		raft_replication_send(r, pr, false);
}

void raft_replication_broadcast(struct raft *r)
{
	for (unsigned i = 0; i < r->n_progress && r->role == RAFT_LEADER; i++)
		replicate(r, &r->progress[i]);
}

/* Figure 2, leaders: "send initial empty AppendEntries RPCs (heartbeat) to
 * each server; repeat during idle periods to prevent election timeouts". */
void raft_replication_heartbeat(struct raft *r)
{
	uint64_t now = raft_now(r);
	for (unsigned i = 0; i < r->n_progress && r->role == RAFT_LEADER; i++) {
		struct raft_progress *pr = &r->progress[i];
		switch (pr->state) {
		case RAFT_PR_PROBE:
			/* Resend a probe that may have been lost; it doubles as
			 * the heartbeat. */
			pr->probe_sent = false;
			raft_replication_send(r, pr, false);
			break;
		case RAFT_PR_PIPELINE:
			/* No acknowledgement for a while with appends
			 * outstanding: some were lost; fall back to probing. */
			if (pr->inflight > 0 && now - pr->last_progress >= 2ull * r->opts.heartbeat_ms) {
				raft_progress_to_probe(pr, pr->match + 1, now);
				raft_replication_send(r, pr, false);
			} else {
				raft_replication_send(r, pr, true);
				replicate(r, pr);
			}
			break;
		case RAFT_PR_SNAPSHOT:
			if (now - pr->last_send >= r->opts.election_timeout_ms) {
				raft_progress_to_probe(pr, pr->match + 1, now);
				raft_replication_send(r, pr, false);
			} else {
				raft_replication_send(r, pr, true);
			}
			break;
		}
	}
}

/* §5.3 + §5.4.2 (Figure 2, leaders): "If there exists an N such that
 * N > commitIndex, a majority of matchIndex[i] >= N, and log[N].term ==
 * currentTerm: set commitIndex = N". Majorities are of the voters in the
 * latest configuration (§4.1); a leader that is not one of them does not
 * count itself (§4.2.2). */
void raft_replication_maybe_commit(struct raft *r)
{
	if (r->role != RAFT_LEADER)
		return;
	unsigned quorum = raft_quorum(r);
	raft_index best = 0;
	for (unsigned i = 0; i < r->config.n; i++) {
		const struct raft_server *si = &r->config.servers[i];
		if (si->role != RAFT_VOTER)
			continue;
		raft_index cand = raft_match_index(r, si->id);
		if (cand <= best)
			continue;
		unsigned count = 0;
		for (unsigned j = 0; j < r->config.n; j++) {
			const struct raft_server *sj = &r->config.servers[j];
			if (sj->role == RAFT_VOTER && raft_match_index(r, sj->id) >= cand)
				count++;
		}
		if (count >= quorum)
			best = cand;
	}
	if (best <= r->commit)
		return;
	if (best > raft_log_last_index(&r->log))
		best = raft_log_last_index(&r->log);
#ifdef RAFT_MUTANT_COMMIT_OLD_TERM
	/* MUTANT: commits entries of older terms by counting replicas. */
	if (best <= r->commit)
		return;
#else
	/* §5.4.2: "Raft never commits log entries from previous terms by
	 * counting replicas. Only log entries from the leader's current term
	 * are committed by counting replicas". */
	if (raft_log_term_at(&r->log, best) != r->term)
		return;
#endif
	r->commit = best;
	raft_replication_apply(r);
	raft_membership_after_commit(r);
	raft_read_index_check(r);
}

/* Figure 2, all servers: "If commitIndex > lastApplied: increment
 * lastApplied, apply log[lastApplied] to state machine". */
int raft_replication_apply(struct raft *r)
{
	while (r->applied < r->commit) {
		const struct raft_entry *e = raft_log_get(&r->log, r->applied + 1);
		if (!e)
			break;
		r->applied++;
		r->io->apply(r->io, r->applied, e);
	}
	return RAFT_OK;
}

void raft_replication_follower_ack(struct raft *r, bool force, uint64_t seq)
{
	if (r->role != RAFT_FOLLOWER || r->leader == 0)
		return;
#ifdef RAFT_MUTANT_ACK_UNPERSISTED
	raft_index ack = r->leader_match; /* MUTANT: acknowledges unpersisted entries */
#else
	/* Acknowledge only what is both durable here and known to match the
	 * leader's log: a durable entry past leader_match may be from another
	 * leader's term, and a matching one that is not durable could be lost
	 * in a crash after the leader counted it. */
	raft_index ack = r->persisted < r->leader_match ? r->persisted : r->leader_match;
#endif
	if (ack <= r->acked && !force)
		return;
	struct raft_msg m = { .type = RAFT_MSG_APPEND_RESULT, .to = r->leader };
	m.append_result.success = true;
	m.append_result.last_index = ack;
	m.append_result.heartbeat_seq = seq;
	if (ack > r->acked)
		r->acked = ack;
	raft_send(r, &m);
}

static void reject(struct raft *r, const struct raft_msg *m, raft_index prev)
{
	struct raft_msg rep = { .type = RAFT_MSG_APPEND_RESULT, .to = m->from };
	raft_index last = raft_log_last_index(&r->log);
	rep.append_result.success = false;
	rep.append_result.last_index = last;
	rep.append_result.rejected = m->append.prev_index;
	rep.append_result.heartbeat_seq = m->append.heartbeat_seq;
	if (prev > last) {
		rep.append_result.conflict_index = last + 1;
		rep.append_result.conflict_term = 0;
	} else if (prev > r->log.offset) {
		rep.append_result.conflict_term = raft_log_term_at(&r->log, prev);
		rep.append_result.conflict_index = raft_log_first_of_term(&r->log, prev);
	} else {
		rep.append_result.conflict_index = prev;
		rep.append_result.conflict_term = 0;
	}
	raft_send(r, &rep);
}

int raft_replication_recv_append(struct raft *r, const struct raft_msg *m)
{
	/* step.c made us a follower of m->from in m->term. */
	assert(r->role == RAFT_FOLLOWER && r->leader == m->from && r->term == m->term);
	r->last_leader_contact = raft_now(r);
	raft_reset_election_timer(r);

	raft_index prev = m->append.prev_index;
	raft_term prev_term = m->append.prev_term;
	const struct raft_entry *es = m->append.entries;
	raft_index n = m->append.n_entries;
	raft_index end = prev + n; /* our log matches the leader's up to here on success */

	/* Entries at or below our snapshot are committed, hence identical to
	 * the leader's (leader completeness, §5.4): skip them. */
	if (prev < r->log.offset) {
		raft_index skip = r->log.offset - prev;
		if (skip >= n) {
			end = r->log.offset;
			n = 0;
			es = NULL;
		} else {
			prev_term = es[skip - 1].term;
			es += skip;
			n -= skip;
		}
		prev = r->log.offset;
		if (n == 0)
			prev_term = r->log.offset_term;
	}

	/* Figure 2, AppendEntries receiver: "Reply false if log doesn't
	 * contain an entry at prevLogIndex whose term matches prevLogTerm". */
#ifdef RAFT_MUTANT_SKIP_PREV_CHECK
	/* MUTANT: only checks that prev exists, not its term. */
	(void)prev_term;
	if (prev > raft_log_last_index(&r->log)) {
#else
	if (prev > raft_log_last_index(&r->log) || raft_log_term_at(&r->log, prev) != prev_term) {
#endif
		reject(r, m, prev);
		return RAFT_OK;
	}

	/* "If an existing entry conflicts with a new one (same index but
	 * different terms), delete the existing entry and all that follow it.
	 * Append any new entries not already in the log." */
	raft_index i = 0;
	for (; i < n; i++) {
		raft_index idx = prev + 1 + i;
		if (idx > raft_log_last_index(&r->log))
			break;
		if (raft_log_term_at(&r->log, idx) != es[i].term) {
			/* Committed entries are never overwritten (§5.4): only a
			 * broken or forged peer asks for it. Refuse (mutant builds
			 * go ahead, for the simulator's checkers to see). */
#ifndef RAFT_MUTANT_ANY
			if (idx <= r->commit)
				return RAFT_EINVAL;
			/* Nor does a leader contradict what it already sent in
			 * its term: its log is append-only (§5.3). */
			if (idx <= r->leader_match)
				return RAFT_EINVAL;
#endif
			raft_log_truncate(&r->log, idx);
			if (r->leader_match >= idx)
				r->leader_match = idx - 1;
			if (r->persisted >= idx)
				r->persisted = idx - 1;
			if (r->acked >= idx)
				r->acked = idx - 1;
			if (r->config_index >= idx) {
				int rc = raft_membership_rollback(r);
				if (rc)
					return raft_fatal(r, rc);
			}
			if (r->commit >= idx)
				r->commit = idx - 1; /* only reachable in mutant builds */
			break;
		}
	}
	if (i < n) {
		raft_index first = prev + 1 + i;
		for (raft_index j = i; j < n; j++) {
			int rc = raft_log_append_copy(&r->log, &es[j]);
			if (rc)
				return raft_fatal(r, rc);
			if (es[j].type == RAFT_ENTRY_CONFIG) {
				rc = raft_membership_apply_entry(r, prev + 1 + j, &es[j]);
				if (rc)
					return raft_fatal(r, rc);
			}
		}
		if (r->io->append(r->io, first, raft_log_get(&r->log, first), (unsigned)(n - i)) != 0)
			return raft_fatal(r, RAFT_EIO);
	}

	/* Within one term the leader's log only grows, so the highest index
	 * ever known to match stays valid. */
	if (end > r->leader_match)
		r->leader_match = end;
	/* "If leaderCommit > commitIndex, set commitIndex = min(leaderCommit,
	 * index of last new entry)". */
	if (m->append.commit > r->commit) {
		raft_index c = m->append.commit < r->leader_match ? m->append.commit : r->leader_match;
		if (c > r->commit)
			r->commit = c;
		raft_replication_apply(r);
	}
	/* Always answer (echoing the ReadIndex round); raft_persisted sends
	 * another acknowledgement once more entries are durable. */
	raft_replication_follower_ack(r, true, m->append.heartbeat_seq);
	return RAFT_OK;
}

int raft_replication_recv_append_result(struct raft *r, const struct raft_msg *m)
{
	if (r->role != RAFT_LEADER)
		return RAFT_OK;
	struct raft_progress *pr = raft_progress_get(r, m->from);
	if (!pr)
		return RAFT_OK;
	uint64_t now = raft_now(r);
	/* Any answer in our term shows that this server still follows us:
	 * check-quorum and ReadIndex confirmation both count it. */
	pr->recent_active = true;
	if (m->append_result.heartbeat_seq > pr->hb_seq_acked) {
		pr->hb_seq_acked = m->append_result.heartbeat_seq;
		raft_read_index_check(r);
		if (r->role != RAFT_LEADER)
			return RAFT_OK;
	}

	if (m->append_result.success) {
		raft_index li = m->append_result.last_index;
		if (li > raft_log_last_index(&r->log))
			li = raft_log_last_index(&r->log); /* cannot match more than we have */
		if (li > pr->match) {
			pr->match = li;
			raft_progress_inflight_free_to(pr, li);
			pr->last_progress = now;
			if (pr->next <= li)
				pr->next = li + 1;
			if (pr->state == RAFT_PR_SNAPSHOT && li >= pr->snapshot_index)
				raft_progress_to_pipeline(pr, now);
			raft_replication_maybe_commit(r);
			if (r->role != RAFT_LEADER)
				return RAFT_OK;
			raft_transfer_maybe_send(r, pr);
		}
		if (pr->state == RAFT_PR_PROBE)
			/* The probe matched: stream from the confirmed match. */
			raft_progress_to_pipeline(pr, now);
		replicate(r, pr);
		return RAFT_OK;
	}

	/* Rejection. Drop stale ones: in pipeline mode one for an index we
	 * already know matches; in probe mode one that is not for the
	 * outstanding probe. */
	raft_index rej = m->append_result.rejected;
	if (pr->state == RAFT_PR_SNAPSHOT || rej > raft_log_last_index(&r->log))
		return RAFT_OK; /* (we never sent a prev_index beyond our log) */
	if (pr->state == RAFT_PR_PIPELINE && rej <= pr->match)
		return RAFT_OK;
	if (pr->state == RAFT_PR_PROBE && rej != pr->next - 1)
		return RAFT_OK;
	if (rej <= pr->match)
		return RAFT_OK;
	/* §5.3 optimisation: skip a whole conflicting term per round trip.
	 * If we hold entries of the follower's conflicting term, resume after
	 * our last one; otherwise at the follower's first index of it. */
	raft_index next = m->append_result.conflict_index;
	raft_term ct = m->append_result.conflict_term;
	if (ct != 0) {
		raft_index k = rej < raft_log_last_index(&r->log) ? rej : raft_log_last_index(&r->log);
		while (k > r->log.offset && raft_log_term_at(&r->log, k) > ct)
			k--;
		if (k > r->log.offset && raft_log_term_at(&r->log, k) == ct)
			next = k + 1;
	}
	if (next == 0 || next > rej)
		next = rej; /* always move back at least one */
	raft_progress_to_probe(pr, next, now);
	replicate(r, pr);
	return RAFT_OK;
}

int raft_propose(struct raft *r, const void *data, size_t len, raft_index *index, raft_term *term)
{
	if (r->stopped)
		return RAFT_ESHUTDOWN;
	if (r->role != RAFT_LEADER)
		return RAFT_ENOTLEADER;
	/* Thesis §3.10: during a transfer "the prior leader stops accepting new
	 * client requests". */
	if (r->transfer_target)
		return RAFT_ETRANSFER;
	if (len && !data)
		return RAFT_EINVAL;
	struct raft_entry e = { .term = r->term, .type = RAFT_ENTRY_COMMAND };
	e.buf.base = (void *)data;
	e.buf.len = len;
	int rc = raft_replication_append_local(r, &e);
	if (rc)
		return rc;
	if (index)
		*index = raft_log_last_index(&r->log);
	if (term)
		*term = r->term;
	raft_replication_broadcast(r);
	/* Normally a no-op (the new entry is not durable yet); it matters for
	 * builds where the leader counts itself earlier. */
	raft_replication_maybe_commit(r);
	return RAFT_OK;
}

void raft_persisted(struct raft *r, raft_index index, raft_term term)
{
	if (r->stopped || index <= r->persisted)
		return;
	/* (index, term) identifies the whole prefix (log matching, §5.3); a
	 * report for entries since truncated or replaced does not match. */
	if (index > raft_log_last_index(&r->log) || raft_log_term_at(&r->log, index) != term)
		return;
	r->persisted = index;
	if (r->role == RAFT_LEADER)
		raft_replication_maybe_commit(r);
	else
		raft_replication_follower_ack(r, false, 0);
}
