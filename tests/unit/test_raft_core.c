/* test_raft_core.c — one core driven by hand through a recording io table:
 * the rules that need message-level precision (vote rules, stickiness,
 * pre-vote, durability before counting/acknowledging, fast back-off,
 * bounded pipelining, refusals). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "raftnode/raft.h"

#define MAX_SENT 512

struct fake {
	struct raft_io io;
	struct raft *r;
	uint64_t now;
	raft_term vote_term;
	raft_id vote_for;
	struct raft_msg sent[MAX_SENT];
	unsigned n_sent;
	raft_index append_last;
	raft_term append_last_term;
	unsigned appends;
	raft_index applied;
	unsigned reads_ok, reads_failed;
	raft_index read_index;
};

static uint64_t f_now(struct raft_io *io) { return ((struct fake *)io->data)->now; }
static uint64_t f_random(struct raft_io *io) { (void)io; return 0; } /* timeouts = base */
static void f_send(struct raft_io *io, const struct raft_msg *m)
{
	struct fake *f = io->data;
	assert_true(f->n_sent < MAX_SENT);
	assert_int_equal(raft_msg_copy(m, &f->sent[f->n_sent++]), RAFT_OK);
}
static int f_persist_vote(struct raft_io *io, raft_term t, raft_id v)
{
	struct fake *f = io->data;
	f->vote_term = t;
	f->vote_for = v;
	return 0;
}
static int f_append(struct raft_io *io, raft_index first, const struct raft_entry *e, unsigned n)
{
	struct fake *f = io->data;
	f->appends++;
	f->append_last = first + n - 1;
	f->append_last_term = e[n - 1].term;
	return 0;
}
static void f_apply(struct raft_io *io, raft_index index, const struct raft_entry *e)
{
	struct fake *f = io->data;
	(void)e;
	assert_int_equal(index, f->applied + 1);
	f->applied = index;
}
static int f_install(struct raft_io *io, const struct raft_snapshot_meta *m, const struct raft_buf *d)
{
	(void)io, (void)m, (void)d;
	return 0;
}
static int f_load(struct raft_io *io, struct raft_snapshot_meta *m, struct raft_buf *d)
{
	(void)io, (void)m, (void)d;
	return -1;
}
static void f_read_done(struct raft_io *io, uint64_t ctx, raft_index idx, bool ok)
{
	struct fake *f = io->data;
	(void)ctx;
	if (ok) {
		f->reads_ok++;
		f->read_index = idx;
	} else {
		f->reads_failed++;
	}
}

static void clear_sent(struct fake *f)
{
	for (unsigned i = 0; i < f->n_sent; i++)
		raft_msg_release(&f->sent[i]);
	f->n_sent = 0;
}

/* A node `id` of a cluster of `voters` voters (ids 1..voters), bootstrapped
 * and started, with the bootstrap entry durable. */
static struct fake *fake_new(raft_id id, unsigned voters)
{
	struct fake *f = calloc(1, sizeof(*f));
	f->io = (struct raft_io){ .data = f, .now = f_now, .random = f_random, .send = f_send,
	                          .persist_vote = f_persist_vote, .append = f_append, .apply = f_apply,
	                          .install_snapshot = f_install, .load_snapshot = f_load,
	                          .read_done = f_read_done };
	struct raft_options o;
	raft_options_default(&o);
	o.election_timeout_ms = 100;
	o.heartbeat_ms = 10;
	o.max_inflight = 3;
	o.max_append_entries = 2;
	assert_int_equal(raft_new(&f->r, id, &f->io, &o), RAFT_OK);
	struct raft_config c = { 0 };
	for (raft_id i = 1; i <= voters; i++)
		raft_config_add(&c, i, RAFT_VOTER, "x");
	assert_int_equal(raft_bootstrap(f->r, &c), RAFT_OK);
	raft_config_free(&c);
	raft_persisted(f->r, 1, 1);
	assert_int_equal(raft_start(f->r), RAFT_OK);
	return f;
}

static void fake_free(struct fake *f)
{
	clear_sent(f);
	raft_free(f->r);
	free(f);
}

static const struct raft_msg *find_sent(struct fake *f, int type, raft_id to)
{
	for (unsigned i = f->n_sent; i-- > 0;)
		if (f->sent[i].type == type && (to == 0 || f->sent[i].to == to))
			return &f->sent[i];
	return NULL;
}

static void step(struct fake *f, struct raft_msg m)
{
	m.to = raft_id_of(f->r);
	assert_int_equal(raft_step(f->r, &m), RAFT_OK);
}

static struct raft_msg vote_result(raft_id from, raft_term term, bool pre, bool granted)
{
	struct raft_msg m = { .type = RAFT_MSG_VOTE_RESULT, .from = from, .term = term };
	m.vote_result.pre_vote = pre;
	m.vote_result.granted = granted;
	return m;
}

/* Make node 1 of a 3-voter cluster leader: election timeout, pre-vote
 * granted by 2, real vote granted by 2. */
static void make_leader(struct fake *f)
{
	f->now += 250;
	raft_tick(f->r);
	assert_int_equal(raft_role(f->r), RAFT_CANDIDATE);
	raft_term t = raft_current_term(f->r);
	step(f, vote_result(2, t + 1, true, true));
	assert_int_equal(raft_current_term(f->r), t + 1);
	step(f, vote_result(2, t + 1, false, true));
	assert_int_equal(raft_role(f->r), RAFT_LEADER);
}

static void test_single_node_commits_only_persisted(void **state)
{
	(void)state;
	struct fake *f = fake_new(1, 1);
	f->now += 250;
	raft_tick(f->r);
	assert_int_equal(raft_role(f->r), RAFT_LEADER);
	raft_term t = raft_current_term(f->r);
	/* The no-op (index 2) is not durable yet: nothing is committed. */
	assert_int_equal(raft_last_index(f->r), 2);
	assert_int_equal(raft_commit_index(f->r), 0);
	raft_persisted(f->r, 2, t + 1); /* wrong term: a stale report */
	assert_int_equal(raft_commit_index(f->r), 0);
	raft_persisted(f->r, 2, t);
	assert_int_equal(raft_commit_index(f->r), 2);
	assert_int_equal(f->applied, 2);
	raft_index idx;
	raft_term it;
	assert_int_equal(raft_propose(f->r, "a", 1, &idx, &it), RAFT_OK);
	assert_int_equal(idx, 3);
	assert_int_equal(raft_commit_index(f->r), 2);
	raft_persisted(f->r, 3, it);
	assert_int_equal(raft_commit_index(f->r), 3);
	/* A one-voter ReadIndex confirms at once. */
	assert_int_equal(raft_read_index(f->r, 7), RAFT_OK);
	assert_int_equal(f->reads_ok, 1);
	assert_int_equal(f->read_index, 3);
	fake_free(f);
}

static void test_follower_acks_only_persisted(void **state)
{
	(void)state;
	struct fake *f = fake_new(2, 3);
	struct raft_entry es[2] = { { .term = 2, .type = RAFT_ENTRY_NOOP }, { .term = 2, .type = RAFT_ENTRY_COMMAND } };
	struct raft_msg m = { .type = RAFT_MSG_APPEND, .from = 1, .term = 2 };
	m.append.prev_index = 1;
	m.append.prev_term = 1;
	m.append.commit = 3;
	m.append.n_entries = 2;
	m.append.entries = es;
	step(f, m);
	assert_int_equal(raft_leader(f->r), 1);
	assert_int_equal(raft_last_index(f->r), 3);
	const struct raft_msg *r = find_sent(f, RAFT_MSG_APPEND_RESULT, 1);
	assert_non_null(r);
	assert_true(r->append_result.success);
	assert_int_equal(r->append_result.last_index, 1); /* only index 1 is durable */
	/* The commit index only covers what matches the leader... */
	assert_int_equal(raft_commit_index(f->r), 3);
	clear_sent(f);
	raft_persisted(f->r, 3, 2);
	r = find_sent(f, RAFT_MSG_APPEND_RESULT, 1);
	assert_non_null(r);
	assert_true(r->append_result.success);
	assert_int_equal(r->append_result.last_index, 3);
	fake_free(f);
}

static void test_append_conflict_hint(void **state)
{
	(void)state;
	struct fake *f = fake_new(2, 3);
	/* Follower log: 1(t1) 2(t2) 3(t2) 4(t2) */
	struct raft_entry es[3] = { { .term = 2, .type = RAFT_ENTRY_NOOP }, { .term = 2 }, { .term = 2 } };
	es[1].type = es[2].type = RAFT_ENTRY_COMMAND;
	struct raft_msg m = { .type = RAFT_MSG_APPEND, .from = 1, .term = 2 };
	m.append.prev_index = 1;
	m.append.prev_term = 1;
	m.append.n_entries = 3;
	m.append.entries = es;
	step(f, m);
	clear_sent(f);
	/* New leader of term 4 probes at 4 with term 3: mismatch. */
	struct raft_msg p = { .type = RAFT_MSG_APPEND, .from = 3, .term = 4 };
	p.append.prev_index = 4;
	p.append.prev_term = 3;
	step(f, p);
	const struct raft_msg *r = find_sent(f, RAFT_MSG_APPEND_RESULT, 3);
	assert_non_null(r);
	assert_false(r->append_result.success);
	assert_int_equal(r->append_result.rejected, 4);
	assert_int_equal(r->append_result.conflict_term, 2);
	assert_int_equal(r->append_result.conflict_index, 2); /* first index of term 2 */
	clear_sent(f);
	/* Beyond the end: the hint is our last index + 1. */
	p.append.prev_index = 9;
	step(f, p);
	r = find_sent(f, RAFT_MSG_APPEND_RESULT, 3);
	assert_int_equal(r->append_result.conflict_index, 5);
	assert_int_equal(r->append_result.conflict_term, 0);
	clear_sent(f);
	/* The conflicting suffix is replaced (§5.3) and the truncation goes to
	 * the disk as an append at the conflict point. */
	struct raft_entry ne[1] = { { .term = 4, .type = RAFT_ENTRY_NOOP } };
	p.append.prev_index = 2;
	p.append.prev_term = 2;
	p.append.n_entries = 1;
	p.append.entries = ne;
	step(f, p);
	assert_int_equal(raft_last_index(f->r), 3);
	assert_int_equal(raft_term_at(f->r, 3), 4);
	assert_int_equal(f->append_last, 3);
	fake_free(f);
}

static void test_vote_rules(void **state)
{
	(void)state;
	struct fake *f = fake_new(2, 3);
	/* Give the follower log 1(t1) 2(t2). */
	struct raft_entry es[1] = { { .term = 2, .type = RAFT_ENTRY_NOOP } };
	struct raft_msg a = { .type = RAFT_MSG_APPEND, .from = 1, .term = 2 };
	a.append.prev_index = 1;
	a.append.prev_term = 1;
	a.append.n_entries = 1;
	a.append.entries = es;
	step(f, a);
	f->now += 1000; /* the leader's lease is long over */
	clear_sent(f);
	/* §5.4.1: a candidate whose log is less up-to-date is refused. */
	struct raft_msg v = { .type = RAFT_MSG_VOTE, .from = 3, .term = 3 };
	v.vote.last_log_index = 5;
	v.vote.last_log_term = 1;
	step(f, v);
	const struct raft_msg *r = find_sent(f, RAFT_MSG_VOTE_RESULT, 3);
	assert_non_null(r);
	assert_false(r->vote_result.granted);
	assert_int_equal(raft_current_term(f->r), 3); /* the term is adopted anyway */
	clear_sent(f);
	/* An up-to-date one is granted, durably before the reply. */
	v.from = 1;
	v.vote.last_log_index = 2;
	v.vote.last_log_term = 2;
	step(f, v);
	r = find_sent(f, RAFT_MSG_VOTE_RESULT, 1);
	assert_true(r->vote_result.granted);
	assert_int_equal(f->vote_term, 3);
	assert_int_equal(f->vote_for, 1);
	clear_sent(f);
	/* One vote per term. */
	v.from = 3;
	v.vote.last_log_index = 9;
	v.vote.last_log_term = 2;
	step(f, v);
	r = find_sent(f, RAFT_MSG_VOTE_RESULT, 3);
	assert_false(r->vote_result.granted);
	fake_free(f);
}

static void test_stickiness_and_prevote(void **state)
{
	(void)state;
	struct fake *f = fake_new(2, 3);
	struct raft_msg hb = { .type = RAFT_MSG_APPEND, .from = 1, .term = 2 };
	hb.append.prev_index = 1;
	hb.append.prev_term = 1;
	step(f, hb);
	clear_sent(f);
	/* Thesis §4.2.3: a vote request inside the leader's lease is ignored
	 * without adopting its term. */
	struct raft_msg v = { .type = RAFT_MSG_VOTE, .from = 3, .term = 5 };
	v.vote.last_log_index = 10;
	v.vote.last_log_term = 4;
	step(f, v);
	assert_int_equal(raft_current_term(f->r), 2);
	assert_int_equal(f->n_sent, 0);
	/* ...unless the leader asked for it (TimeoutNow). */
	v.vote.transfer = true;
	step(f, v);
	assert_int_equal(raft_current_term(f->r), 5);
	assert_true(find_sent(f, RAFT_MSG_VOTE_RESULT, 3)->vote_result.granted);
	fake_free(f);

	/* Pre-vote (thesis §9.6): granting one leaves our term alone, and the
	 * grant echoes the term asked about. */
	f = fake_new(2, 3);
	f->now += 1000;
	struct raft_msg pv = { .type = RAFT_MSG_VOTE, .from = 3, .term = 7 };
	pv.vote.pre_vote = true;
	pv.vote.last_log_index = 1;
	pv.vote.last_log_term = 1;
	step(f, pv);
	const struct raft_msg *r = find_sent(f, RAFT_MSG_VOTE_RESULT, 3);
	assert_true(r->vote_result.granted && r->vote_result.pre_vote);
	assert_int_equal(r->term, 7);
	assert_int_equal(raft_current_term(f->r), 1);
	assert_int_equal(raft_voted_for(f->r), 0);
	fake_free(f);

	/* A pre-candidate does not bump its own term until a majority agrees. */
	f = fake_new(1, 3);
	f->now += 250;
	raft_tick(f->r);
	assert_int_equal(raft_role(f->r), RAFT_CANDIDATE);
	assert_int_equal(raft_current_term(f->r), 1);
	const struct raft_msg *sent = find_sent(f, RAFT_MSG_VOTE, 2);
	assert_true(sent->vote.pre_vote);
	assert_int_equal(sent->term, 2);
	f->now += 250;
	raft_tick(f->r); /* a new pre-vote round: still term 1 */
	assert_int_equal(raft_current_term(f->r), 1);
	fake_free(f);
}

static void test_leader_backoff_and_inflight(void **state)
{
	(void)state;
	struct fake *f = fake_new(1, 3);
	make_leader(f);
	raft_term t = raft_current_term(f->r);
	raft_persisted(f->r, raft_last_index(f->r), t);
	for (int i = 0; i < 20; i++)
		assert_int_equal(raft_propose(f->r, "x", 1, NULL, NULL), RAFT_OK);
	raft_persisted(f->r, raft_last_index(f->r), t);
	/* Follower 2 answers the first probe: it matches at 2 (the no-op). */
	struct raft_msg ok = { .type = RAFT_MSG_APPEND_RESULT, .from = 2, .term = t };
	ok.append_result.success = true;
	ok.append_result.last_index = 2;
	clear_sent(f);
	step(f, ok);
	/* Pipelining: at most max_inflight (3) appends with entries, each at
	 * most max_append_entries (2) entries, before any acknowledgement. */
	unsigned with_entries = 0;
	for (unsigned i = 0; i < f->n_sent; i++)
		if (f->sent[i].type == RAFT_MSG_APPEND && f->sent[i].to == 2 && f->sent[i].append.n_entries) {
			with_entries++;
			assert_true(f->sent[i].append.n_entries <= 2);
		}
	assert_int_equal(with_entries, 3);
	assert_int_equal(raft_match_index(f->r, 2), 2);
	/* Commit needs a majority of durable copies of a current-term entry. */
	assert_int_equal(raft_commit_index(f->r), 2);
	clear_sent(f);
	/* A stale rejection (for an index known to match) is ignored. */
	struct raft_msg rej = { .type = RAFT_MSG_APPEND_RESULT, .from = 2, .term = t };
	rej.append_result.success = false;
	rej.append_result.rejected = 2;
	rej.append_result.conflict_index = 2;
	step(f, rej);
	assert_int_equal(f->n_sent, 0);
	/* A rejection of a pipelined append (prev 4) with a hint "my log
	 * ends at 3" moves next straight to 4 and probes from there. */
	rej.append_result.rejected = 4;
	rej.append_result.conflict_index = 4;
	rej.append_result.conflict_term = 0;
	rej.append_result.last_index = 3;
	step(f, rej);
	const struct raft_msg *m = find_sent(f, RAFT_MSG_APPEND, 2);
	assert_non_null(m);
	assert_int_equal(m->append.prev_index, 3);
	assert_int_equal(f->n_sent, 1); /* probing: one at a time */
	clear_sent(f);
	/* With a term hint the leader skips the follower's whole term: the
	 * probe is outstanding at prev 3, the follower has term 1 there. Our
	 * last entry of term 1 is index 1, so next becomes 2 (clamped to
	 * match+1 = 3). */
	rej.append_result.rejected = 3;
	rej.append_result.conflict_term = 1;
	rej.append_result.conflict_index = 3;
	step(f, rej);
	m = find_sent(f, RAFT_MSG_APPEND, 2);
	assert_non_null(m);
	assert_int_equal(m->append.prev_index, 2);
	fake_free(f);
}

static void test_refusals_and_check_quorum(void **state)
{
	(void)state;
	struct fake *f = fake_new(1, 3);
	assert_int_equal(raft_propose(f->r, "x", 1, NULL, NULL), RAFT_ENOTLEADER);
	assert_int_equal(raft_read_index(f->r, 1), RAFT_ENOTLEADER);
	make_leader(f);
	raft_term t = raft_current_term(f->r);
	/* No entry of this term committed yet: no membership change, and a
	 * read waits (thesis §6.4). */
	assert_int_equal(raft_remove(f->r, 3, NULL), RAFT_EBUSY);
	assert_int_equal(raft_read_index(f->r, 1), RAFT_OK);
	raft_persisted(f->r, 2, t);
	struct raft_msg ok = { .type = RAFT_MSG_APPEND_RESULT, .from = 2, .term = t };
	ok.append_result.success = true;
	ok.append_result.last_index = 2;
	ok.append_result.heartbeat_seq = 1;
	step(f, ok);
	assert_int_equal(raft_commit_index(f->r), 2);
	assert_int_equal(f->reads_ok, 1);
	assert_int_equal(f->read_index, 2);
	/* One change at a time. */
	raft_index ci;
	assert_int_equal(raft_add_learner(f->r, 4, "y", &ci), RAFT_OK);
	assert_int_equal(raft_remove(f->r, 3, NULL), RAFT_EBUSY);
	assert_int_equal(raft_promote(f->r, 4, NULL), RAFT_EBUSY);
	/* Once the change commits, an empty learner is still refused although
	 * the log is short enough for the lag test alone. */
	raft_persisted(f->r, ci, t);
	ok.append_result.last_index = ci;
	ok.append_result.heartbeat_seq = 0;
	step(f, ok);
	assert_int_equal(raft_commit_index(f->r), ci);
	assert_int_equal(raft_promote(f->r, 4, NULL), RAFT_ECATCHUP);
	/* Transfer: proposals refused while it runs, aborted after an
	 * election timeout. */
	assert_int_equal(raft_transfer(f->r, 2), RAFT_OK);
	assert_int_equal(raft_propose(f->r, "x", 1, NULL, NULL), RAFT_ETRANSFER);
	f->now += 100;
	raft_tick(f->r);
	/* Check-quorum: node 2 answered in this round, so still leader. */
	assert_int_equal(raft_role(f->r), RAFT_LEADER);
	assert_int_equal(raft_propose(f->r, "x", 1, NULL, NULL), RAFT_OK);
	/* A pending read fails when leadership is lost. */
	assert_int_equal(raft_read_index(f->r, 2), RAFT_OK);
	f->now += 100;
	raft_tick(f->r); /* nobody answered for a whole election timeout */
	assert_int_equal(raft_role(f->r), RAFT_FOLLOWER);
	assert_int_equal(raft_current_term(f->r), t);
	assert_int_equal(f->reads_failed, 1);
	fake_free(f);
}

static void test_refuses_to_overwrite_committed(void **state)
{
	(void)state;
	struct fake *f = fake_new(2, 3);
	struct raft_entry es[2] = { { .term = 2, .type = RAFT_ENTRY_NOOP }, { .term = 2, .type = RAFT_ENTRY_NOOP } };
	struct raft_msg m = { .type = RAFT_MSG_APPEND, .from = 1, .term = 3, .to = 2 };
	m.append.prev_index = 1;
	m.append.prev_term = 1;
	m.append.commit = 3;
	m.append.n_entries = 2;
	m.append.entries = es;
	assert_int_equal(raft_step(f->r, &m), RAFT_OK);
	assert_int_equal(raft_commit_index(f->r), 3);
	/* A broken (or forged) peer asks to replace committed entries. */
	struct raft_entry bad[1] = { { .term = 3, .type = RAFT_ENTRY_NOOP } };
	m.from = 3;
	m.append.prev_index = 2;
	m.append.prev_term = 2;
	m.append.n_entries = 1;
	m.append.entries = bad;
	assert_int_equal(raft_step(f->r, &m), RAFT_EINVAL);
	assert_int_equal(raft_last_index(f->r), 3);
	assert_int_equal(raft_term_at(f->r, 3), 2);
	fake_free(f);
}

static void test_rejected_vote_keeps_timer(void **state)
{
	(void)state;
	struct fake *f = fake_new(2, 3);
	/* The election timer started at 0 and runs out at 100. A candidate
	 * with a stale log asks at 60: we adopt its term but do not vote, and
	 * (Figure 2) do not restart our timer either. */
	f->now = 60;
	struct raft_msg v = { .type = RAFT_MSG_VOTE, .from = 3, .term = 5 };
	v.vote.last_log_index = 0;
	v.vote.last_log_term = 0;
	step(f, v);
	assert_int_equal(raft_current_term(f->r), 5);
	assert_false(find_sent(f, RAFT_MSG_VOTE_RESULT, 3)->vote_result.granted);
	f->now = 100;
	raft_tick(f->r);
	assert_int_equal(raft_role(f->r), RAFT_CANDIDATE);
	clear_sent(f);
	/* A stale RequestVote is answered with our term (Figure 2), so that a
	 * candidate we never send to can catch up. */
	v.term = 3;
	step(f, v);
	const struct raft_msg *r = find_sent(f, RAFT_MSG_VOTE_RESULT, 3);
	assert_non_null(r);
	assert_false(r->vote_result.granted);
	assert_int_equal(r->term, 5);
	fake_free(f);
}

static void test_clock_going_back(void **state)
{
	(void)state;
	struct fake *f = fake_new(2, 3);
	f->now = 5000;
	struct raft_msg hb = { .type = RAFT_MSG_APPEND, .from = 1, .term = 2 };
	hb.append.prev_index = 1;
	hb.append.prev_term = 1;
	step(f, hb);
	/* The host clock jumps back: no timeout fires because of it. */
	f->now = 1000;
	raft_tick(f->r);
	assert_int_equal(raft_role(f->r), RAFT_FOLLOWER);
	assert_int_equal(raft_current_term(f->r), 2);
	/* Time then has to really pass (from the highest reading) for the
	 * election timer to expire. */
	f->now = 5050;
	raft_tick(f->r);
	assert_int_equal(raft_role(f->r), RAFT_FOLLOWER);
	f->now = 5000 + 250;
	raft_tick(f->r);
	assert_int_equal(raft_role(f->r), RAFT_CANDIDATE);
	fake_free(f);
}

static void test_load_rejects_corrupt(void **state)
{
	(void)state;
	struct fake *f = calloc(1, sizeof(*f));
	f->io = (struct raft_io){ .data = f, .now = f_now, .random = f_random, .send = f_send,
	                          .persist_vote = f_persist_vote, .append = f_append, .apply = f_apply,
	                          .install_snapshot = f_install, .load_snapshot = f_load,
	                          .read_done = f_read_done };
	assert_int_equal(raft_new(&f->r, 1, &f->io, NULL), RAFT_OK);
	struct raft_entry es[2] = { { .term = 3, .type = RAFT_ENTRY_NOOP }, { .term = 2, .type = RAFT_ENTRY_NOOP } };
	assert_int_equal(raft_load(f->r, 3, 0, NULL, es, 2), RAFT_ECORRUPT); /* terms go down */
	raft_free(f->r);
	assert_int_equal(raft_new(&f->r, 1, &f->io, NULL), RAFT_OK);
	assert_int_equal(raft_load(f->r, 2, 0, NULL, es, 1), RAFT_ECORRUPT); /* entry term > current term */
	raft_free(f->r);
	struct raft_options bad;
	raft_options_default(&bad);
	bad.heartbeat_ms = bad.election_timeout_ms;
	assert_int_equal(raft_new(&f->r, 1, &f->io, &bad), RAFT_EINVAL);
	assert_int_equal(raft_new(&f->r, 0, &f->io, NULL), RAFT_EINVAL);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_node_commits_only_persisted),
		cmocka_unit_test(test_follower_acks_only_persisted),
		cmocka_unit_test(test_append_conflict_hint),
		cmocka_unit_test(test_vote_rules),
		cmocka_unit_test(test_stickiness_and_prevote),
		cmocka_unit_test(test_leader_backoff_and_inflight),
		cmocka_unit_test(test_refusals_and_check_quorum),
		cmocka_unit_test(test_refuses_to_overwrite_committed),
		cmocka_unit_test(test_rejected_vote_keeps_timer),
		cmocka_unit_test(test_clock_going_back),
		cmocka_unit_test(test_load_rejects_corrupt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
