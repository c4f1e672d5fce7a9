/* read_index.c — linearizable reads without log writes: ReadIndex (thesis
 * §6.4). */
#include <stdlib.h>
#include <string.h>

#include "raftnode/core/internal.h"

int raft_read_index(struct raft *r, uint64_t ctx)
{
	if (r->stopped)
		return RAFT_ESHUTDOWN;
	if (r->role != RAFT_LEADER)
		return RAFT_ENOTLEADER;
#ifdef RAFT_MUTANT_READ_LOCAL
	/* MUTANT: answers from local state without confirming leadership. */
	r->io->read_done(r->io, ctx, r->commit, true);
	return RAFT_OK;
#else
	if (r->n_reads == r->cap_reads) {
		unsigned cap = r->cap_reads ? r->cap_reads * 2 : 16;
		struct raft_read *p = realloc(r->reads, cap * sizeof(*p));
		if (!p)
			return RAFT_ENOMEM;
		r->reads = p;
		r->cap_reads = cap;
	}
	/* Thesis §6.4 step 1: "the leader saves its current commit index in a
	 * local variable readIndex". Step 0: "If the leader has not yet marked
	 * an entry from its current term committed, it waits until it has" —
	 * until then the commit index may be behind, so it is taken later. */
	struct raft_read *rd = &r->reads[r->n_reads++];
	rd->ctx = ctx;
	rd->index = raft_log_term_at(&r->log, r->commit) == r->term ? r->commit : 0;
	/* Step 2: "the leader sends heartbeats ... to make sure it hasn't been
	 * deposed". A fresh round number: only answers to messages sent after
	 * the request count. */
	rd->seq = ++r->hb_seq;
	for (unsigned i = 0; i < r->n_progress; i++)
		raft_replication_send(r, &r->progress[i], true);
	raft_read_index_check(r);
	return RAFT_OK;
#endif
}

static unsigned acks_for(const struct raft *r, uint64_t seq)
{
	unsigned n = raft_is_voter(r, r->id) ? 1 : 0;
	for (unsigned i = 0; i < r->n_progress; i++)
		if (r->progress[i].hb_seq_acked >= seq && raft_is_voter(r, r->progress[i].id))
			n++;
	return n;
}

/* Step 3: once a majority acknowledged the round, "the leader knows that no
 * other leader existed at the moment it sent the heartbeats" and the read
 * index is safe to serve (step 4, waiting for apply, is the host's). */
void raft_read_index_check(struct raft *r)
{
	if (r->role != RAFT_LEADER || r->n_reads == 0)
		return;
#ifndef RAFT_MUTANT_READ_NO_TERM_COMMIT
	if (raft_log_term_at(&r->log, r->commit) != r->term)
		return;
#endif
	unsigned quorum = raft_quorum(r);
	/* Rounds are numbered in request order, so confirmations form a prefix. */
	unsigned done = 0;
	for (unsigned i = 0; i < r->n_reads; i++)
		if (acks_for(r, r->reads[i].seq) >= quorum)
			done = i + 1;
	if (done == 0)
		return;
	struct raft_read *batch = malloc(done * sizeof(*batch));
	if (!batch)
		return; /* retried on the next acknowledgement */
	memcpy(batch, r->reads, done * sizeof(*batch));
	memmove(r->reads, r->reads + done, (r->n_reads - done) * sizeof(*r->reads));
	r->n_reads -= done;
	for (unsigned i = 0; i < done; i++) {
		/* MUTANT READ_NO_TERM_COMMIT: serves a new leader's stale
		 * commit index (it skipped the wait above). */
		raft_index idx = batch[i].index ? batch[i].index : r->commit;
		r->io->read_done(r->io, batch[i].ctx, idx, true);
	}
	free(batch);
}

void raft_read_index_fail_all(struct raft *r)
{
	unsigned n = r->n_reads;
	r->n_reads = 0;
	for (unsigned i = 0; i < n; i++)
		r->io->read_done(r->io, r->reads[i].ctx, 0, false);
}
