/* snapshot.c — log compaction (§7): taking snapshots, InstallSnapshot out
 * and in. */
#include <string.h>

#include "raftnode/core/internal.h"

void raft_snapshot_send(struct raft *r, struct raft_progress *pr)
{
	struct raft_snapshot_meta meta;
	struct raft_buf data;
	memset(&meta, 0, sizeof(meta));
	memset(&data, 0, sizeof(data));
	if (r->io->load_snapshot(r->io, &meta, &data) != 0 || meta.last_index < r->log.offset) {
		/* The host has none (yet): wait in probe mode and retry at the
		 * next heartbeat (in pipeline mode the sender would loop). */
		raft_progress_to_probe(pr, pr->next, raft_now(r));
		pr->probe_sent = true;
		return;
	}
	struct raft_msg m = { .type = RAFT_MSG_SNAPSHOT, .to = pr->id };
	m.snapshot.last_index = meta.last_index;
	m.snapshot.last_term = meta.last_term;
	m.snapshot.config_index = meta.config_index;
	m.snapshot.config = meta.config; /* by reference; io->send copies */
	m.snapshot.data = data;
	raft_send(r, &m);
	pr->state = RAFT_PR_SNAPSHOT;
	pr->snapshot_index = meta.last_index;
	pr->inflight = 0;
	pr->probe_sent = false;
	pr->last_send = raft_now(r);
}

int raft_snapshot_recv(struct raft *r, const struct raft_msg *m)
{
	assert(r->role == RAFT_FOLLOWER && r->leader == m->from && r->term == m->term);
	r->last_leader_contact = raft_now(r);
	raft_reset_election_timer(r);
	raft_index si = m->snapshot.last_index;
	if (si <= r->commit || raft_log_term_at(&r->log, si) == m->snapshot.last_term) {
		/* §7: "If existing log entry has same index and term as
		 * snapshot's last included entry, retain log entries following
		 * it". Everything up to si is committed, so it matches the
		 * leader's log. */
		if (si > r->leader_match && si <= raft_log_last_index(&r->log))
			r->leader_match = si;
		if (si > r->commit && si <= raft_log_last_index(&r->log)) {
			r->commit = si;
			raft_replication_apply(r);
		}
		raft_replication_follower_ack(r, true, 0);
		return RAFT_OK;
	}
	/* "Discard the entire log ... Reset state machine using snapshot
	 * contents (and load snapshot's cluster configuration)". */
	struct raft_snapshot_meta meta = {
		.last_index = si,
		.last_term = m->snapshot.last_term,
		.config_index = m->snapshot.config_index,
		.config = m->snapshot.config,
	};
	struct raft_config c1, c2;
	int rc = raft_config_copy(&m->snapshot.config, &c1);
	if (rc)
		return rc;
	rc = raft_config_copy(&m->snapshot.config, &c2);
	if (rc) {
		raft_config_free(&c1);
		return rc;
	}
	if (r->io->install_snapshot(r->io, &meta, &m->snapshot.data) != 0) {
		raft_config_free(&c1);
		raft_config_free(&c2);
		return raft_fatal(r, RAFT_EIO);
	}
	raft_log_reset(&r->log, si, m->snapshot.last_term);
	raft_config_free(&r->snap_config);
	raft_config_free(&r->config);
	r->snap_config = c1;
	r->config = c2;
	r->snap_config_index = r->config_index = m->snapshot.config_index;
	r->commit = r->applied = r->persisted = si;
	r->leader_match = si;
	r->acked = 0;
	raft_replication_follower_ack(r, true, 0);
	return RAFT_OK;
}

int raft_snapshot_taken(struct raft *r, raft_index index, unsigned trailing)
{
	if (r->stopped)
		return RAFT_ESHUTDOWN;
	if (index > r->applied || index < r->log.offset)
		return RAFT_EINVAL;
	/* The snapshot is durable: every entry up to index is. */
	if (index > r->persisted)
		r->persisted = index;
	raft_index upto = index > trailing ? index - trailing : 0;
	if (upto <= r->log.offset)
		return RAFT_OK;
	struct raft_config c;
	raft_index ci;
	int rc = raft_membership_config_at(r, upto, &c, &ci);
	if (rc)
		return rc;
	raft_config_free(&r->snap_config);
	r->snap_config = c;
	r->snap_config_index = ci;
	raft_log_compact(&r->log, upto);
	return RAFT_OK;
}

int raft_snapshot_meta_at(const struct raft *r, raft_index index, struct raft_snapshot_meta *meta)
{
	if (index == 0 || index > raft_log_last_index(&r->log) || index < r->log.offset)
		return RAFT_EINVAL;
	memset(meta, 0, sizeof(*meta));
	meta->last_index = index;
	meta->last_term = raft_log_term_at(&r->log, index);
	return raft_membership_config_at(r, index, &meta->config, &meta->config_index);
}
