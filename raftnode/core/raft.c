/* raft.c — lifecycle (new/load/bootstrap/start/free), small helpers shared
 * by the other files, inspection, error strings and message copies. */
#include <stdlib.h>
#include <string.h>

#include "raftnode/core/internal.h"

const char *raft_strerror(int rc)
{
	switch (rc) {
	case RAFT_OK: return "ok";
	case RAFT_ENOTLEADER: return "not the leader";
	case RAFT_ENOMEM: return "out of memory";
	case RAFT_EBUSY: return "a configuration change is in progress";
	case RAFT_EINVAL: return "invalid argument";
	case RAFT_EIO: return "i/o callback failed";
	case RAFT_ESHUTDOWN: return "node stopped after a fatal error";
	case RAFT_ECORRUPT: return "corrupt state or encoding";
	case RAFT_ETRANSFER: return "leadership transfer in progress";
	case RAFT_ECATCHUP: return "learner has not caught up";
	case RAFT_ENOTFOUND: return "no such server";
	default: return "unknown error";
	}
}

const char *raft_role_name(int role)
{
	switch (role) {
	case RAFT_FOLLOWER: return "follower";
	case RAFT_CANDIDATE: return "candidate";
	case RAFT_LEADER: return "leader";
	default: return "unknown";
	}
}

const char *raft_mutant_name(void)
{
#if defined(RAFT_MUTANT_COMMIT_OLD_TERM)
	return "COMMIT_OLD_TERM";
#elif defined(RAFT_MUTANT_VOTE_ANY_LOG)
	return "VOTE_ANY_LOG";
#elif defined(RAFT_MUTANT_READ_LOCAL)
	return "READ_LOCAL";
#elif defined(RAFT_MUTANT_ACK_UNPERSISTED)
	return "ACK_UNPERSISTED";
#elif defined(RAFT_MUTANT_READ_NO_TERM_COMMIT)
	return "READ_NO_TERM_COMMIT";
#elif defined(RAFT_MUTANT_SKIP_PREV_CHECK)
	return "SKIP_PREV_CHECK";
#else
	return NULL;
#endif
}

void raft_options_default(struct raft_options *o)
{
	o->election_timeout_ms = 1000;
	o->heartbeat_ms = 100;
	o->pre_vote = true;
	o->check_quorum = true;
	o->max_append_entries = 64;
	o->max_inflight = 8;
	o->learner_catchup_lag = 16;
}

/* ---- helpers ------------------------------------------------------------ */

/* The host's clock should be monotonic, but clock faults (or a host that
 * uses wall time) can move it back. Time never runs backwards inside the
 * core: elapsed-time arithmetic would wrap and fire every timeout at once.
 * (Safety never depends on time; only liveness does.) */
uint64_t raft_now(struct raft *r)
{
	uint64_t now = r->io->now(r->io);
	if (now < r->last_now)
		now = r->last_now;
	r->last_now = now;
	return now;
}

void raft_send(struct raft *r, struct raft_msg *m)
{
	m->from = r->id;
	/* Pre-vote requests carry the term the sender would campaign in, and a
	 * pre-vote grant echoes it (so the pre-candidate does not discard it as
	 * stale); everything else carries our current term. */
	bool keep = (m->type == RAFT_MSG_VOTE && m->vote.pre_vote) ||
	            (m->type == RAFT_MSG_VOTE_RESULT && m->vote_result.pre_vote && m->vote_result.granted);
	if (!keep)
		m->term = r->term;
	r->io->send(r->io, m);
}

void raft_notify(struct raft *r)
{
	if (r->io->state_changed)
		r->io->state_changed(r->io);
}

int raft_fatal(struct raft *r, int rc)
{
	r->stopped = true;
	return rc;
}

/* Figure 2: "persistent state on all servers, updated on stable storage
 * before responding to RPCs". */
int raft_persist_term_vote(struct raft *r, raft_term term, raft_id vote)
{
	assert(term >= r->term);
	if (term == r->term && vote == r->voted_for)
		return RAFT_OK;
	if (r->io->persist_vote(r->io, term, vote) != 0)
		return raft_fatal(r, RAFT_EIO);
	r->term = term;
	r->voted_for = vote;
	return RAFT_OK;
}

bool raft_is_voter(const struct raft *r, raft_id id)
{
	const struct raft_server *s = raft_config_get(&r->config, id);
	return s && s->role == RAFT_VOTER;
}

unsigned raft_quorum(const struct raft *r)
{
	return raft_config_voters(&r->config) / 2 + 1;
}

/* ---- lifecycle ------------------------------------------------------------ */

int raft_new(struct raft **out, raft_id id, struct raft_io *io, const struct raft_options *opts)
{
	if (id == 0 || !io || !io->now || !io->random || !io->send || !io->persist_vote ||
	    !io->append || !io->apply || !io->install_snapshot || !io->load_snapshot || !io->read_done)
		return RAFT_EINVAL;
	struct raft *r = calloc(1, sizeof(*r));
	if (!r)
		return RAFT_ENOMEM;
	r->id = id;
	r->io = io;
	if (opts)
		r->opts = *opts;
	else
		raft_options_default(&r->opts);
	if (r->opts.election_timeout_ms == 0 || r->opts.heartbeat_ms == 0 ||
	    r->opts.heartbeat_ms >= r->opts.election_timeout_ms) {
		free(r);
		return RAFT_EINVAL;
	}
	if (r->opts.max_append_entries == 0)
		r->opts.max_append_entries = 1;
	if (r->opts.max_inflight == 0)
		r->opts.max_inflight = 1;
	if (r->opts.max_inflight > RAFT_INFLIGHT_MAX)
		r->opts.max_inflight = RAFT_INFLIGHT_MAX;
	r->role = RAFT_FOLLOWER;
	*out = r;
	return RAFT_OK;
}

void raft_free(struct raft *r)
{
	if (!r)
		return;
	raft_log_free(&r->log);
	raft_config_free(&r->config);
	raft_config_free(&r->snap_config);
	raft_progress_free(r);
	free(r->votes);
	free(r->reads);
	free(r);
}

int raft_load(struct raft *r, raft_term term, raft_id vote, const struct raft_snapshot_meta *snap,
              const struct raft_entry *entries, unsigned n)
{
	if (r->started || raft_log_last_index(&r->log) != 0 || r->term != 0)
		return RAFT_EINVAL;
	r->term = term;
	r->voted_for = vote;
	if (snap && snap->last_index > 0) {
		if (snap->last_term == 0 || snap->last_term > term || snap->config_index > snap->last_index)
			return RAFT_ECORRUPT;
		raft_log_reset(&r->log, snap->last_index, snap->last_term);
		int rc = raft_config_copy(&snap->config, &r->snap_config);
		if (rc)
			return rc;
		rc = raft_config_copy(&snap->config, &r->config);
		if (rc)
			return rc;
		r->snap_config_index = r->config_index = snap->config_index;
		/* The host's state machine equals the snapshot. */
		r->commit = r->applied = snap->last_index;
	}
	for (unsigned i = 0; i < n; i++) {
		/* Terms never decrease along a log and never exceed the current
		 * term; anything else is a damaged or mixed-up log. */
		if (entries[i].term < raft_log_last_term(&r->log) || entries[i].term > term || entries[i].term == 0)
			return RAFT_ECORRUPT;
		int rc = raft_log_append_copy(&r->log, &entries[i]);
		if (rc)
			return rc;
		if (entries[i].type == RAFT_ENTRY_CONFIG) {
			rc = raft_membership_apply_entry(r, raft_log_last_index(&r->log), &entries[i]);
			if (rc)
				return rc;
		}
	}
	r->persisted = raft_log_last_index(&r->log);
	return RAFT_OK;
}

int raft_bootstrap(struct raft *r, const struct raft_config *conf)
{
	if (r->started || r->term != 0 || raft_log_last_index(&r->log) != 0 || conf->n == 0 ||
	    !raft_config_voters(conf))
		return RAFT_EINVAL;
	struct raft_entry e = { .term = 1, .type = RAFT_ENTRY_CONFIG };
	int rc = raft_config_encode(conf, &e.buf);
	if (rc)
		return rc;
	rc = raft_persist_term_vote(r, 1, 0);
	if (rc == RAFT_OK)
		rc = raft_log_append_copy(&r->log, &e);
	if (rc == RAFT_OK)
		rc = raft_membership_apply_entry(r, 1, &e);
	if (rc == RAFT_OK && r->io->append(r->io, 1, raft_log_get(&r->log, 1), 1) != 0)
		rc = raft_fatal(r, RAFT_EIO);
	free(e.buf.base);
	return rc;
}

int raft_start(struct raft *r)
{
	if (r->started)
		return RAFT_EINVAL;
	r->started = true;
	r->role = RAFT_FOLLOWER;
	raft_reset_election_timer(r);
	return RAFT_OK;
}

/* ---- inspection ----------------------------------------------------------- */

int raft_role(const struct raft *r) { return r->role; }
raft_id raft_id_of(const struct raft *r) { return r->id; }
raft_term raft_current_term(const struct raft *r) { return r->term; }
raft_id raft_voted_for(const struct raft *r) { return r->voted_for; }
raft_id raft_leader(const struct raft *r) { return r->leader; }
raft_index raft_commit_index(const struct raft *r) { return r->commit; }
raft_index raft_applied_index(const struct raft *r) { return r->applied; }
raft_index raft_last_index(const struct raft *r) { return raft_log_last_index(&r->log); }
raft_term raft_last_term(const struct raft *r) { return raft_log_last_term(&r->log); }
raft_index raft_snapshot_index(const struct raft *r) { return r->log.offset; }
raft_index raft_persisted_index(const struct raft *r) { return r->persisted; }
raft_term raft_term_at(const struct raft *r, raft_index i) { return raft_log_term_at(&r->log, i); }
const struct raft_entry *raft_entry_at(const struct raft *r, raft_index i) { return raft_log_get(&r->log, i); }
const struct raft_config *raft_configuration(const struct raft *r) { return &r->config; }

bool raft_is_learner(const struct raft *r)
{
	const struct raft_server *s = raft_config_get(&r->config, r->id);
	return s && s->role == RAFT_LEARNER;
}

raft_index raft_match_index(const struct raft *r, raft_id id)
{
	if (r->role != RAFT_LEADER)
		return 0;
	if (id == r->id)
		return raft_replication_self_match(r); /* only durable entries count */
	for (unsigned i = 0; i < r->n_progress; i++)
		if (r->progress[i].id == id)
			return r->progress[i].match;
	return 0;
}

/* ---- message copies --------------------------------------------------------- */

void raft_msg_release(struct raft_msg *m)
{
	if (m->type == RAFT_MSG_APPEND && m->append.entries) {
		for (unsigned i = 0; i < m->append.n_entries; i++)
			free(m->append.entries[i].buf.base);
		free(m->append.entries);
		m->append.entries = NULL;
		m->append.n_entries = 0;
	} else if (m->type == RAFT_MSG_SNAPSHOT) {
		raft_config_free(&m->snapshot.config);
		free(m->snapshot.data.base);
		m->snapshot.data.base = NULL;
		m->snapshot.data.len = 0;
	}
}

static void *dup_bytes(const void *p, size_t len)
{
	void *d = malloc(len ? len : 1);
	if (d && len)
		memcpy(d, p, len);
	return d;
}

int raft_msg_copy(const struct raft_msg *src, struct raft_msg *dst)
{
	*dst = *src;
	if (src->type == RAFT_MSG_APPEND) {
		dst->append.entries = NULL;
		dst->append.n_entries = 0;
		if (src->append.n_entries == 0)
			return RAFT_OK;
		dst->append.entries = calloc(src->append.n_entries, sizeof(struct raft_entry));
		if (!dst->append.entries)
			return RAFT_ENOMEM;
		for (unsigned i = 0; i < src->append.n_entries; i++) {
			const struct raft_entry *e = &src->append.entries[i];
			dst->append.entries[i] = *e;
			dst->append.entries[i].buf.base = dup_bytes(e->buf.base, e->buf.len);
			dst->append.n_entries = i + 1;
			if (!dst->append.entries[i].buf.base) {
				raft_msg_release(dst);
				return RAFT_ENOMEM;
			}
		}
	} else if (src->type == RAFT_MSG_SNAPSHOT) {
		dst->snapshot.data.base = NULL;
		int rc = raft_config_copy(&src->snapshot.config, &dst->snapshot.config);
		if (rc)
			return rc;
		dst->snapshot.data.base = dup_bytes(src->snapshot.data.base, src->snapshot.data.len);
		if (!dst->snapshot.data.base) {
			raft_msg_release(dst);
			return RAFT_ENOMEM;
		}
	}
	return RAFT_OK;
}
