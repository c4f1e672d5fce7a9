/* membership.c — cluster membership changes, one server at a time (thesis
 * §4.1), learners (thesis §4.2.1) and removal of the leader (§4.2.2). */
#include <stdlib.h>
#include <string.h>

#include "raftnode/core/internal.h"

static int set_config(struct raft *r, struct raft_config *c, raft_index index)
{
	raft_config_free(&r->config);
	r->config = *c;
	r->config_index = index;
	if (r->role == RAFT_LEADER) {
		int rc = raft_progress_rebuild(r);
		if (rc)
			return rc;
	}
	return RAFT_OK;
}

/* Thesis §4.1: "a server always uses the latest configuration in its log,
 * regardless of whether the entry is committed" — so a configuration takes
 * effect as soon as its entry is appended, on leader and followers alike. */
int raft_membership_apply_entry(struct raft *r, raft_index index, const struct raft_entry *e)
{
	assert(e->type == RAFT_ENTRY_CONFIG);
	struct raft_config c;
	int rc = raft_config_decode(e->buf.base, e->buf.len, &c);
	if (rc)
		return rc;
	return set_config(r, &c, index);
}

/* The entry holding the latest configuration was truncated away: "a log
 * entry for a configuration change can be removed (if leadership changes);
 * in this case, a server must be prepared to fall back to the previous
 * configuration in its log". */
int raft_membership_rollback(struct raft *r)
{
	for (raft_index i = raft_log_last_index(&r->log); i > r->log.offset; i--) {
		const struct raft_entry *e = raft_log_get(&r->log, i);
		if (e->type == RAFT_ENTRY_CONFIG)
			return raft_membership_apply_entry(r, i, e);
	}
	struct raft_config c;
	int rc = raft_config_copy(&r->snap_config, &c);
	if (rc)
		return rc;
	return set_config(r, &c, r->snap_config_index);
}

int raft_membership_config_at(const struct raft *r, raft_index index, struct raft_config *out,
                         raft_index *config_index)
{
	if (index < r->log.offset || index > raft_log_last_index(&r->log))
		return RAFT_EINVAL;
	for (raft_index i = index; i > r->log.offset; i--) {
		const struct raft_entry *e = raft_log_get(&r->log, i);
		if (e->type == RAFT_ENTRY_CONFIG) {
			*config_index = i;
			return raft_config_decode(e->buf.base, e->buf.len, out);
		}
	}
	*config_index = r->snap_config_index;
	return raft_config_copy(&r->snap_config, out);
}

/* Thesis §4.2.2: "the leader steps down (returns to follower state) once
 * the Cnew entry is committed" when it is not part of Cnew. */
void raft_membership_after_commit(struct raft *r)
{
	if (r->role == RAFT_LEADER && r->commit >= r->config_index && !raft_is_voter(r, r->id))
		raft_convert_to_follower(r, r->term, 0);
}

/* Common checks for a change, then append the CONFIG entry. */
static int propose_config(struct raft *r, const struct raft_config *c, raft_index *index)
{
	struct raft_entry e = { .term = r->term, .type = RAFT_ENTRY_CONFIG };
	int rc = raft_config_encode(c, &e.buf);
	if (rc)
		return rc;
	rc = raft_replication_append_local(r, &e);
	free(e.buf.base);
	if (rc)
		return rc;
	if (index)
		*index = raft_log_last_index(&r->log);
	raft_replication_broadcast(r);
	return RAFT_OK;
}

static int change_allowed(const struct raft *r)
{
	if (r->stopped)
		return RAFT_ESHUTDOWN;
	if (r->role != RAFT_LEADER)
		return RAFT_ENOTLEADER;
	if (r->transfer_target)
		return RAFT_ETRANSFER;
	/* Thesis §4.1: "The leader ... does not begin a new configuration
	 * change until the previous one has committed". And (the single-server
	 * change bug fix, raft-dev 2015): not before the leader has committed
	 * an entry of its own term, or an uncommitted change from an earlier
	 * term could combine with this one into two disjoint majorities. */
	if (r->config_index > r->commit || raft_log_term_at(&r->log, r->commit) != r->term)
		return RAFT_EBUSY;
	return RAFT_OK;
}

int raft_add_learner(struct raft *r, raft_id id, const char *address, raft_index *index)
{
	int rc = change_allowed(r);
	if (rc)
		return rc;
	struct raft_config c;
	rc = raft_config_copy(&r->config, &c);
	if (rc)
		return rc;
	rc = raft_config_add(&c, id, RAFT_LEARNER, address);
	if (rc == RAFT_OK)
		rc = propose_config(r, &c, index);
	raft_config_free(&c);
	return rc;
}

int raft_promote(struct raft *r, raft_id id, raft_index *index)
{
	int rc = change_allowed(r);
	if (rc)
		return rc;
	const struct raft_server *s = raft_config_get(&r->config, id);
	if (!s)
		return RAFT_ENOTFOUND;
	if (s->role != RAFT_LEARNER)
		return RAFT_EINVAL;
	/* Thesis §4.2.1: a new server joins as a non-voting member until it
	 * has caught up, so that it does not stall commitment. */
	raft_index match = raft_match_index(r, id);
	/* Caught up: it holds the latest configuration (so at least the entry
	 * that made it a learner — on a short log the lag alone would pass an
	 * empty learner) and is within the lag of our last entry. */
	if (match < r->config_index || match + r->opts.learner_catchup_lag < raft_log_last_index(&r->log))
		return RAFT_ECATCHUP;
	struct raft_config c;
	rc = raft_config_copy(&r->config, &c);
	if (rc)
		return rc;
	for (unsigned i = 0; i < c.n; i++)
		if (c.servers[i].id == id)
			c.servers[i].role = RAFT_VOTER;
	rc = propose_config(r, &c, index);
	raft_config_free(&c);
	return rc;
}

int raft_remove(struct raft *r, raft_id id, raft_index *index)
{
	int rc = change_allowed(r);
	if (rc)
		return rc;
	if (!raft_config_get(&r->config, id))
		return RAFT_ENOTFOUND;
	struct raft_config c;
	rc = raft_config_copy(&r->config, &c);
	if (rc)
		return rc;
	raft_config_remove(&c, id);
	if (raft_config_voters(&c) == 0)
		rc = RAFT_EINVAL; /* nobody could ever commit again */
	else
		rc = propose_config(r, &c, index);
	raft_config_free(&c);
	return rc;
}
