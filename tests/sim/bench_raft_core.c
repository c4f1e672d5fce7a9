/* bench_raft_core.c — throughput of the pure core: three nodes wired by an
 * in-memory FIFO, disks that are durable at once; prints proposals committed
 * per second of CPU for a few proposal batch sizes. Measures the core's own
 * cost (no syscalls, no fsync), an upper bound for the real server. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "raftnode/raft.h"

#define N 3
#define QCAP (1u << 16)

struct bench;
struct bnode {
	struct raft_io io;
	struct raft *r;
	struct bench *b;
	raft_index appended;
	raft_term appended_term;
	raft_index applied;
};

struct bench {
	struct bnode nodes[N];
	struct raft_msg *q; /* ring of message copies */
	unsigned head, len;
	uint64_t now;
	uint64_t rnd;
};

static uint64_t b_now(struct raft_io *io) { return ((struct bnode *)io->data)->b->now; }
static uint64_t b_random(struct raft_io *io)
{
	struct bench *b = ((struct bnode *)io->data)->b;
	b->rnd = b->rnd * 6364136223846793005ull + 1442695040888963407ull;
	return b->rnd >> 11;
}
static void b_send(struct raft_io *io, const struct raft_msg *m)
{
	struct bench *b = ((struct bnode *)io->data)->b;
	if (b->len == QCAP) {
		fprintf(stderr, "bench: queue full\n");
		exit(1);
	}
	if (raft_msg_copy(m, &b->q[(b->head + b->len++) % QCAP]) != RAFT_OK)
		exit(1);
}
static int b_vote(struct raft_io *io, raft_term t, raft_id v) { (void)io, (void)t, (void)v; return 0; }
static int b_append(struct raft_io *io, raft_index first, const struct raft_entry *e, unsigned n)
{
	struct bnode *nd = io->data;
	nd->appended = first + n - 1;
	nd->appended_term = e[n - 1].term;
	return 0;
}
static void b_apply(struct raft_io *io, raft_index index, const struct raft_entry *e)
{
	(void)e;
	((struct bnode *)io->data)->applied = index;
}
static int b_install(struct raft_io *io, const struct raft_snapshot_meta *m, const struct raft_buf *d)
{
	(void)io, (void)m, (void)d;
	return -1;
}
static int b_load(struct raft_io *io, struct raft_snapshot_meta *m, struct raft_buf *d)
{
	(void)io, (void)m, (void)d;
	return -1;
}
static void b_read_done(struct raft_io *io, uint64_t c, raft_index i, bool ok) { (void)io, (void)c, (void)i, (void)ok; }

/* Deliver everything queued, syncing "disks" in between (group commit). */
static void pump(struct bench *b)
{
	while (b->len) {
		struct raft_msg *m = &b->q[b->head];
		b->head = (b->head + 1) % QCAP;
		b->len--;
		raft_step(b->nodes[m->to - 1].r, m);
		raft_msg_release(m);
		for (unsigned i = 0; i < N; i++) {
			struct bnode *nd = &b->nodes[i];
			if (nd->appended > raft_persisted_index(nd->r))
				raft_persisted(nd->r, nd->appended, nd->appended_term);
		}
	}
}

static double secs(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void)
{
	struct bench *b = calloc(1, sizeof(*b));
	b->q = calloc(QCAP, sizeof(*b->q));
	b->rnd = 42;
	struct raft_config c = { 0 };
	for (raft_id i = 1; i <= N; i++)
		raft_config_add(&c, i, RAFT_VOTER, "bench");
	struct raft_options o;
	raft_options_default(&o);
	for (unsigned i = 0; i < N; i++) {
		struct bnode *nd = &b->nodes[i];
		nd->b = b;
		nd->io = (struct raft_io){ .data = nd, .now = b_now, .random = b_random, .send = b_send,
		                           .persist_vote = b_vote, .append = b_append, .apply = b_apply,
		                           .install_snapshot = b_install, .load_snapshot = b_load,
		                           .read_done = b_read_done };
		if (raft_new(&nd->r, i + 1, &nd->io, &o) || raft_bootstrap(nd->r, &c) || raft_start(nd->r))
			return 1;
		raft_persisted(nd->r, 1, 1);
	}
	raft_config_free(&c);
	/* Elect node 1: only its timer runs out. */
	struct raft *l = b->nodes[0].r;
	for (int k = 0; k < 50 && raft_role(l) != RAFT_LEADER; k++) {
		b->now += 1000;
		raft_tick(l);
		pump(b);
	}
	if (raft_role(l) != RAFT_LEADER) {
		fprintf(stderr, "bench: no leader\n");
		return 1;
	}
	static const unsigned batches[] = { 1, 8, 64 };
	char cmd[64];
	memset(cmd, 'x', sizeof(cmd));
	for (unsigned k = 0; k < sizeof(batches) / sizeof(batches[0]); k++) {
		unsigned batch = batches[k], total = 200000;
		raft_index start = raft_commit_index(l);
		double t0 = secs();
		for (unsigned done = 0; done < total; done += batch) {
			for (unsigned j = 0; j < batch; j++)
				if (raft_propose(l, cmd, sizeof(cmd), NULL, NULL) != RAFT_OK)
					return 1;
			pump(b);
			/* Compact now and then, as a host would after snapshots. */
			raft_index a = raft_applied_index(l);
			if (a > raft_snapshot_index(l) + 20000)
				for (unsigned i = 0; i < N; i++)
					raft_snapshot_taken(b->nodes[i].r, raft_applied_index(b->nodes[i].r), 1000);
		}
		double dt = secs() - t0;
		raft_index committed = raft_commit_index(l) - start;
		printf("raft core, 3 nodes, in-memory transport and disks, batches of %2u x 64 bytes: "
		       "%" PRIu64 " entries committed in %.2f s = %.0f entries/s\n",
		       batch, committed, dt, (double)committed / dt);
		if (committed < total)
			return 1;
	}
	for (unsigned i = 0; i < N; i++)
		raft_free(b->nodes[i].r);
	free(b->q);
	free(b);
	return 0;
}
