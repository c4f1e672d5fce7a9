/* step.c — receiving a message: the term rules of Figure 2 and dispatch to
 * the file handling each message type. */
#include "raftnode/core/internal.h"

static void reply_stale(struct raft *r, const struct raft_msg *m)
{
	struct raft_msg rep = { .to = m->from };
	if (m->type == RAFT_MSG_VOTE) {
		rep.type = RAFT_MSG_VOTE_RESULT;
		rep.vote_result.pre_vote = m->vote.pre_vote;
		rep.vote_result.granted = false;
	} else {
		rep.type = RAFT_MSG_APPEND_RESULT;
		rep.append_result.success = false;
		rep.append_result.last_index = raft_log_last_index(&r->log);
	}
	raft_send(r, &rep);
}

/* Messages come from the network through a decoder: refuse shapes no
 * correct peer sends, rather than let them reach the log (where they would
 * break invariants the core asserts). */
static bool msg_valid(const struct raft_msg *m)
{
	switch (m->type) {
	case RAFT_MSG_APPEND: {
		if (m->append.n_entries && !m->append.entries)
			return false;
		if (m->append.prev_index + m->append.n_entries < m->append.prev_index)
			return false; /* overflow */
		if (m->append.prev_term > m->term || (m->append.prev_index == 0 && m->append.prev_term != 0))
			return false;
		raft_term t = m->append.prev_term;
		for (unsigned i = 0; i < m->append.n_entries; i++) {
			const struct raft_entry *e = &m->append.entries[i];
			/* Terms along a log never decrease and never exceed the
			 * leader's current term. */
			if (e->term < t || e->term > m->term || e->term == 0)
				return false;
			if (e->type < RAFT_ENTRY_COMMAND || e->type > RAFT_ENTRY_CONFIG || (e->buf.len && !e->buf.base))
				return false;
			if (e->type == RAFT_ENTRY_CONFIG) {
				struct raft_config c;
				if (raft_config_decode(e->buf.base, e->buf.len, &c) != RAFT_OK)
					return false;
				raft_config_free(&c);
			}
			t = e->term;
		}
		return true;
	}
	case RAFT_MSG_SNAPSHOT:
		return m->snapshot.last_index > 0 && m->snapshot.last_term > 0 && m->snapshot.last_term <= m->term &&
		       m->snapshot.config_index <= m->snapshot.last_index &&
		       (m->snapshot.config.n == 0 || m->snapshot.config.servers) &&
		       (m->snapshot.data.len == 0 || m->snapshot.data.base);
	case RAFT_MSG_VOTE:
	case RAFT_MSG_VOTE_RESULT:
	case RAFT_MSG_APPEND_RESULT:
	case RAFT_MSG_TIMEOUT_NOW:
		return true;
	default:
		return false;
	}
}

int raft_step(struct raft *r, const struct raft_msg *m)
{
	if (r->stopped)
		return RAFT_ESHUTDOWN;
	if (!r->started || m->to != r->id || m->from == 0 || m->from == r->id || !msg_valid(m))
		return RAFT_EINVAL;
	int rc;
	if (m->term > r->term) {
		if (m->type == RAFT_MSG_VOTE) {
			/* Thesis §4.2.3 (leader stickiness): within the lease of
			 * a live leader, neither update the term nor vote —
			 * unless the leader itself asked for this election. */
			if (!m->vote.transfer && raft_election_in_lease(r))
				return RAFT_OK;
			/* Thesis §9.6: a pre-vote does not change our term. */
			if (!m->vote.pre_vote) {
				rc = raft_convert_to_follower(r, m->term, 0);
				if (rc)
					return rc;
			}
		} else if (m->type == RAFT_MSG_VOTE_RESULT && m->vote_result.pre_vote && m->vote_result.granted) {
			/* A pre-vote grant echoes the term we asked about. */
		} else {
			/* Figure 2, all servers: "If RPC request or response
			 * contains term T > currentTerm: set currentTerm = T,
			 * convert to follower". */
			bool from_leader = m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_SNAPSHOT ||
			                   m->type == RAFT_MSG_TIMEOUT_NOW;
			rc = raft_convert_to_follower(r, m->term, from_leader ? m->from : 0);
			if (rc)
				return rc;
		}
	} else if (m->term < r->term) {
		/* Stale sender. Figure 2: "Reply false if term < currentTerm" —
		 * with our term, "for leader/candidate to update itself". A
		 * candidate we never send to (it is not in our configuration)
		 * would otherwise never catch up with our term and could never
		 * win our vote. */
		if (m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_SNAPSHOT || m->type == RAFT_MSG_VOTE)
			reply_stale(r, m);
		return RAFT_OK;
	}

	switch (m->type) {
	case RAFT_MSG_VOTE:
		return raft_election_recv_vote(r, m);
	case RAFT_MSG_VOTE_RESULT:
		return raft_election_recv_vote_result(r, m);
	case RAFT_MSG_APPEND:
	case RAFT_MSG_SNAPSHOT:
		/* Election safety (§5.2): at most one leader per term, so an
		 * AppendEntries in our own term while leading is impossible. */
		if (r->role == RAFT_LEADER)
			return RAFT_OK;
		/* §5.2: "If the leader's term ... is at least as large as the
		 * candidate's current term, then the candidate recognizes the
		 * leader as legitimate and returns to follower state." */
		if (r->role != RAFT_FOLLOWER || r->leader != m->from) {
			rc = raft_convert_to_follower(r, m->term, m->from);
			if (rc)
				return rc;
		}
		if (m->type == RAFT_MSG_APPEND)
			return raft_replication_recv_append(r, m);
		return raft_snapshot_recv(r, m);
	case RAFT_MSG_APPEND_RESULT:
		return raft_replication_recv_append_result(r, m);
	case RAFT_MSG_TIMEOUT_NOW:
		return raft_transfer_recv_timeout_now(r, m);
	default:
		return RAFT_EINVAL;
	}
}
