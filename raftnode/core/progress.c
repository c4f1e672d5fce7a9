/* progress.c — the leader's per-server replication state (nextIndex,
 * matchIndex of Figure 2) and flow control: probe, pipeline, snapshot. */
#include <stdlib.h>
#include <string.h>

#include "raftnode/core/internal.h"

void raft_progress_free(struct raft *r)
{
	free(r->progress);
	r->progress = NULL;
	r->n_progress = 0;
}

struct raft_progress *raft_progress_get(struct raft *r, raft_id id)
{
	for (unsigned i = 0; i < r->n_progress; i++)
		if (r->progress[i].id == id)
			return &r->progress[i];
	return NULL;
}

/* Figure 2, leaders: "nextIndex ... initialized to leader last log index + 1;
 * matchIndex ... initialized to 0". */
void raft_progress_reset(struct raft_progress *pr, raft_index last, uint64_t now)
{
	raft_id id = pr->id;
	memset(pr, 0, sizeof(*pr));
	pr->id = id;
	pr->next = last + 1;
	pr->state = RAFT_PR_PROBE;
	pr->last_progress = now;
}

void raft_progress_to_probe(struct raft_progress *pr, raft_index next, uint64_t now)
{
	pr->state = RAFT_PR_PROBE;
	pr->next = next > pr->match ? next : pr->match + 1;
	pr->probe_sent = false;
	pr->inflight = 0;
	pr->inflight_head = 0;
	pr->last_progress = now;
}

void raft_progress_to_pipeline(struct raft_progress *pr, uint64_t now)
{
	pr->state = RAFT_PR_PIPELINE;
	pr->next = pr->match + 1;
	pr->probe_sent = false;
	pr->inflight = 0;
	pr->inflight_head = 0;
	pr->last_progress = now;
}

void raft_progress_inflight_add(struct raft_progress *pr, raft_index last)
{
	assert(pr->inflight < RAFT_INFLIGHT_MAX);
	pr->inflight_last[(pr->inflight_head + pr->inflight) % RAFT_INFLIGHT_MAX] = last;
	pr->inflight++;
}

/* An acknowledgement of index upto frees every append that ended at or
 * before it (acks are cumulative: the follower's log matches up to upto). */
void raft_progress_inflight_free_to(struct raft_progress *pr, raft_index upto)
{
	while (pr->inflight > 0 && pr->inflight_last[pr->inflight_head] <= upto) {
		pr->inflight_head = (pr->inflight_head + 1) % RAFT_INFLIGHT_MAX;
		pr->inflight--;
	}
}

bool raft_progress_may_send(const struct raft *r, const struct raft_progress *pr)
{
	switch (pr->state) {
	case RAFT_PR_PROBE:
		return !pr->probe_sent;
	case RAFT_PR_PIPELINE:
		return pr->inflight < r->opts.max_inflight && pr->next <= raft_log_last_index(&r->log);
	default:
		return false;
	}
}

/* One progress per server of the latest configuration other than self;
 * existing ones keep their state. */
int raft_progress_rebuild(struct raft *r)
{
	struct raft_progress *np = NULL;
	unsigned nn = 0;
	if (r->config.n) {
		np = calloc(r->config.n, sizeof(*np));
		if (!np)
			return RAFT_ENOMEM;
	}
	uint64_t now = raft_now(r);
	for (unsigned i = 0; i < r->config.n; i++) {
		raft_id id = r->config.servers[i].id;
		if (id == r->id)
			continue;
		struct raft_progress *old = raft_progress_get(r, id);
		if (old) {
			np[nn] = *old;
		} else {
			np[nn].id = id;
			raft_progress_reset(&np[nn], raft_log_last_index(&r->log), now);
			/* A new server counts as active for the running
			 * check-quorum round: it cannot have answered yet. */
			np[nn].recent_active = true;
		}
		nn++;
	}
	free(r->progress);
	r->progress = np;
	r->n_progress = nn;
	return RAFT_OK;
}
