/* fuzz_raft_step.c — libFuzzer target: drives one core with arbitrary
 * messages (as a wire decoder could produce them), ticks, durability
 * reports and client calls; the core must neither crash nor break its own
 * invariants. Without libFuzzer it replays a corpus (tests/fuzz/replay_main.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "raftnode/raft.h"

struct fz {
	struct raft_io io;
	uint64_t now;
	raft_index applied;
	const uint8_t *p;
	size_t n;
};

static uint8_t next(struct fz *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

static uint64_t fz_now(struct raft_io *io) { return ((struct fz *)io->data)->now; }
static uint64_t fz_random(struct raft_io *io) { return ((struct fz *)io->data)->now * 2654435761u; }
static void fz_send(struct raft_io *io, const struct raft_msg *m) { (void)io, (void)m; }
static int fz_vote(struct raft_io *io, raft_term t, raft_id v) { (void)io, (void)t, (void)v; return 0; }
static int fz_append(struct raft_io *io, raft_index first, const struct raft_entry *e, unsigned n)
{
	(void)io, (void)first, (void)e, (void)n;
	return 0;
}
static void fz_apply(struct raft_io *io, raft_index index, const struct raft_entry *e)
{
	struct fz *f = io->data;
	(void)e;
	if (index != f->applied + 1)
		abort(); /* exactly once, in order */
	f->applied = index;
}
static int fz_install(struct raft_io *io, const struct raft_snapshot_meta *m, const struct raft_buf *d)
{
	struct fz *f = io->data;
	(void)d;
	f->applied = m->last_index;
	return 0;
}
static int fz_load(struct raft_io *io, struct raft_snapshot_meta *m, struct raft_buf *d)
{
	(void)io, (void)m, (void)d;
	return -1;
}
static void fz_read_done(struct raft_io *io, uint64_t ctx, raft_index i, bool ok) { (void)io, (void)ctx, (void)i, (void)ok; }

static void config_of(struct raft_config *c, unsigned n)
{
	memset(c, 0, sizeof(*c));
	for (raft_id i = 1; i <= n; i++)
		raft_config_add(c, i, RAFT_VOTER, "fz");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { .p = data, .n = size };
	f.io = (struct raft_io){ .data = &f, .now = fz_now, .random = fz_random, .send = fz_send,
	                         .persist_vote = fz_vote, .append = fz_append, .apply = fz_apply,
	                         .install_snapshot = fz_install, .load_snapshot = fz_load,
	                         .read_done = fz_read_done };
	struct raft *r;
	struct raft_options o;
	raft_options_default(&o);
	o.election_timeout_ms = 100;
	o.heartbeat_ms = 10;
	if (raft_new(&r, 1, &f.io, &o))
		return 0;
	struct raft_config conf;
	config_of(&conf, 1 + next(&f) % 3);
	raft_bootstrap(r, &conf);
	raft_config_free(&conf);
	raft_persisted(r, 1, 1);
	raft_start(r);
	raft_term last_term = raft_current_term(r);
	for (int ops = 0; f.n && ops < 4096; ops++) {
		uint8_t op = next(&f) % 8;
		if (op == 0) {
			f.now += next(&f);
			raft_tick(r);
		} else if (op == 1) {
			raft_index i = raft_last_index(r) - (next(&f) % 4);
			raft_persisted(r, i, raft_term_at(r, i) + (next(&f) % 2));
		} else if (op == 2 || op == 3) {
			struct raft_msg m = { .type = next(&f) % 8, .from = 1 + next(&f) % 4, .to = 1 };
			m.term = next(&f) % 8;
			struct raft_entry es[4];
			struct raft_buf enc = { 0 };
			uint8_t junk[8];
			switch (m.type) {
			case RAFT_MSG_VOTE:
				m.vote.last_log_index = next(&f) % 16;
				m.vote.last_log_term = next(&f) % 8;
				m.vote.pre_vote = next(&f) & 1;
				m.vote.transfer = next(&f) & 1;
				break;
			case RAFT_MSG_VOTE_RESULT:
				m.vote_result.granted = next(&f) & 1;
				m.vote_result.pre_vote = next(&f) & 1;
				break;
			case RAFT_MSG_APPEND:
				m.append.prev_index = next(&f) % 16;
				m.append.prev_term = next(&f) % 8;
				m.append.commit = next(&f) % 20;
				m.append.heartbeat_seq = next(&f) % 4;
				m.append.n_entries = next(&f) % 5;
				m.append.entries = es;
				for (unsigned i = 0; i < m.append.n_entries; i++) {
					es[i].term = next(&f) % 8;
					es[i].type = next(&f) % 4;
					es[i].buf.base = junk;
					es[i].buf.len = next(&f) % 9;
					memset(junk, next(&f), sizeof(junk));
					if (es[i].type == RAFT_ENTRY_CONFIG && (next(&f) & 1) && !enc.base) {
						struct raft_config c;
						config_of(&c, 1 + next(&f) % 4);
						raft_config_encode(&c, &enc);
						raft_config_free(&c);
						es[i].buf = enc;
					}
				}
				break;
			case RAFT_MSG_APPEND_RESULT:
				m.append_result.success = next(&f) & 1;
				m.append_result.last_index = next(&f) % 20;
				m.append_result.rejected = next(&f) % 20;
				m.append_result.conflict_index = next(&f) % 20;
				m.append_result.conflict_term = next(&f) % 8;
				m.append_result.heartbeat_seq = next(&f) % 4;
				break;
			case RAFT_MSG_SNAPSHOT:
				m.snapshot.last_index = next(&f) % 20;
				m.snapshot.last_term = next(&f) % 8;
				m.snapshot.config_index = next(&f) % 20;
				config_of(&m.snapshot.config, 1 + next(&f) % 3);
				m.snapshot.data.base = junk;
				m.snapshot.data.len = sizeof(junk);
				break;
			default:
				break;
			}
			raft_step(r, &m);
			if (m.type == RAFT_MSG_SNAPSHOT)
				raft_config_free(&m.snapshot.config);
			free(enc.base);
		} else if (op == 4) {
			raft_propose(r, "x", 1, NULL, NULL);
		} else if (op == 5) {
			raft_read_index(r, next(&f));
		} else if (op == 6) {
			raft_index a = raft_applied_index(r);
			if (a > raft_snapshot_index(r))
				raft_snapshot_taken(r, a, next(&f) % 3);
		} else {
			uint8_t k = next(&f) % 4;
			raft_id id = 1 + next(&f) % 4;
			if (k == 0)
				raft_add_learner(r, id, "fz", NULL);
			else if (k == 1)
				raft_promote(r, id, NULL);
			else if (k == 2)
				raft_remove(r, id, NULL);
			else
				raft_transfer(r, id);
		}
		/* Invariants visible from outside. */
		if (raft_current_term(r) < last_term || raft_commit_index(r) > raft_last_index(r) ||
		    raft_applied_index(r) > raft_commit_index(r) || raft_applied_index(r) != f.applied ||
		    raft_persisted_index(r) > raft_last_index(r) || raft_snapshot_index(r) > raft_applied_index(r) ||
		    raft_last_term(r) > raft_current_term(r))
			abort();
		last_term = raft_current_term(r);
	}
	raft_free(r);
	return 0;
}
