/* test_raft_cluster.c — targeted scenarios on the deterministic simulator,
 * one per rule: election, pre-vote, check-quorum, ReadIndex, leadership
 * transfer, snapshots, membership, restarts that lose an unsynced tail. The
 * simulator's safety checkers run after every step of each. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/sim/sim.h"

#define ET 100 /* the simulator's election timeout (ms) */

static struct sim *new_sim(unsigned nodes, uint64_t seed)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.nodes = nodes;
	o.seed = seed;
	o.faults = false;
	struct sim *s = sim_new(&o);
	assert_non_null(s);
	return s;
}

static void no_violation(struct sim *s)
{
	if (sim_failure(s)) {
		sim_dump_trace(s, stderr);
		fail_msg("%s", sim_failure(s));
	}
}

static bool has_leader(struct sim *s, void *arg)
{
	(void)arg;
	return sim_leader(s) != 0;
}

static raft_id wait_leader(struct sim *s)
{
	assert_true(sim_run_until(s, 30 * ET, has_leader, NULL));
	return sim_leader(s);
}

struct committed_at {
	raft_id id;
	raft_index index;
	raft_id other;
};

static bool pred_applied(struct sim *s, void *arg)
{
	struct committed_at *c = arg;
	struct raft *r = sim_raft(s, c->id);
	return r && raft_applied_index(r) >= c->index;
}

static void wait_applied(struct sim *s, raft_id id, raft_index index)
{
	struct committed_at c = { id, index, 0 };
	assert_true(sim_run_until(s, 30 * ET, pred_applied, &c));
}

static raft_index propose_n(struct sim *s, raft_id l, unsigned n)
{
	raft_index idx = 0;
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(sim_propose(s, l, &idx), RAFT_OK);
	return idx;
}

static raft_id other_than(struct sim *s, raft_id a, raft_id b)
{
	(void)s;
	for (raft_id id = 1;; id++)
		if (id != a && id != b)
			return id;
}

static void test_election_and_stability(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct sim *s = new_sim(seed % 2 ? 3 : 5, seed);
		raft_id l = wait_leader(s);
		raft_term t = raft_current_term(sim_raft(s, l));
		/* No faults: the leader keeps its term (no spurious elections). */
		sim_run_for(s, 20 * ET);
		assert_int_equal(sim_leader(s), l);
		assert_int_equal(raft_current_term(sim_raft(s, l)), t);
		raft_index idx = propose_n(s, l, 3);
		for (raft_id id = 1; id <= (seed % 2 ? 3u : 5u); id++)
			wait_applied(s, id, idx);
		no_violation(s);
		sim_free(s);
	}
}

static void test_prevote_keeps_isolated_node_quiet(void **state)
{
	(void)state;
	struct sim *s = new_sim(3, 7);
	raft_id l = wait_leader(s);
	raft_term t = raft_current_term(sim_raft(s, l));
	raft_id f = other_than(s, l, 0);
	sim_isolate(s, f, true);
	sim_run_for(s, 20 * ET);
	/* Pre-vote (thesis §9.6): it never won a pre-vote, so never bumped
	 * its term... */
	assert_int_equal(raft_current_term(sim_raft(s, f)), t);
	sim_isolate(s, f, false);
	sim_run_for(s, 10 * ET);
	/* ...and rejoining does not depose the leader. */
	assert_int_equal(sim_leader(s), l);
	assert_int_equal(raft_current_term(sim_raft(s, l)), t);
	no_violation(s);
	sim_free(s);
}

static void test_without_prevote_terms_grow(void **state)
{
	(void)state;
	/* The control experiment: the test above can fail. */
	struct sim_opts o;
	sim_opts_default(&o);
	o.seed = 7;
	o.faults = false;
	o.pre_vote = false;
	struct sim *s = sim_new(&o);
	raft_id l = wait_leader(s);
	raft_term t = raft_current_term(sim_raft(s, l));
	raft_id f = other_than(s, l, 0);
	sim_isolate(s, f, true);
	sim_run_for(s, 20 * ET);
	assert_true(raft_current_term(sim_raft(s, f)) > t + 3);
	no_violation(s);
	sim_free(s);
}

static void test_check_quorum_steps_down(void **state)
{
	(void)state;
	struct sim *s = new_sim(5, 3);
	raft_id l = wait_leader(s);
	sim_isolate(s, l, true);
	/* Thesis §6.2: it steps down within about an election timeout (at
	 * most two: the check runs once per timeout). */
	sim_run_for(s, 2 * ET + 5);
	assert_int_not_equal(raft_role(sim_raft(s, l)), RAFT_LEADER);
	raft_id l2 = wait_leader(s);
	assert_int_not_equal(l2, l);
	no_violation(s);
	sim_free(s);
}

static void test_read_index(void **state)
{
	(void)state;
	struct sim *s = new_sim(3, 11);
	raft_id l = wait_leader(s);
	raft_index idx = propose_n(s, l, 2);
	wait_applied(s, l, idx);
	assert_int_equal(sim_read(s, l), RAFT_OK);
	sim_run_for(s, ET);
	assert_int_equal(sim_reads_ok(s), 1);
	/* A follower refuses (the host forwards to the leader). */
	assert_int_equal(sim_read(s, other_than(s, l, 0)), RAFT_ENOTLEADER);
	/* A deposed-but-unaware leader never confirms: the read fails when it
	 * steps down, it is never served from local state. */
	sim_isolate(s, l, true);
	assert_int_equal(sim_read(s, l), RAFT_OK);
	sim_run_for(s, 5 * ET);
	assert_int_equal(sim_reads_ok(s), 1);
	assert_int_equal(sim_reads_failed(s), 1);
	no_violation(s);
	sim_free(s);
}

static void test_transfer(void **state)
{
	(void)state;
	struct sim *s = new_sim(5, 5);
	raft_id l = wait_leader(s);
	wait_applied(s, l, propose_n(s, l, 5));
	raft_id t = other_than(s, l, 0);
	assert_int_equal(raft_transfer(sim_raft(s, l), t), RAFT_OK);
	/* Thesis §3.10: no new proposals while transferring. */
	assert_int_equal(sim_propose(s, l, NULL), RAFT_ETRANSFER);
	sim_run_for(s, ET / 2);
	assert_int_equal(sim_leader(s), t);
	/* A transfer to an unreachable server is aborted after an election
	 * timeout, and the leader serves again. */
	raft_id t2 = other_than(s, t, l);
	sim_isolate(s, t2, true);
	assert_int_equal(raft_transfer(sim_raft(s, t), t2), RAFT_OK);
	assert_int_equal(sim_propose(s, t, NULL), RAFT_ETRANSFER);
	sim_run_for(s, ET + 10);
	assert_int_equal(sim_leader(s), t);
	raft_index idx;
	assert_int_equal(sim_propose(s, t, &idx), RAFT_OK);
	wait_applied(s, t, idx);
	/* id 0 picks the most up-to-date voter. */
	sim_isolate(s, t2, false);
	assert_int_equal(raft_transfer(sim_raft(s, t), 0), RAFT_OK);
	sim_run_for(s, ET);
	assert_int_not_equal(sim_leader(s), t);
	no_violation(s);
	sim_free(s);
}

static void test_snapshot_install(void **state)
{
	(void)state;
	struct sim *s = new_sim(3, 13);
	raft_id l = wait_leader(s);
	raft_id f = other_than(s, l, 0);
	sim_isolate(s, f, true);
	raft_index idx = propose_n(s, l, 40);
	wait_applied(s, l, idx);
	assert_int_equal(sim_snapshot(s, l, 0), RAFT_OK);
	assert_int_equal(raft_snapshot_index(sim_raft(s, l)), idx);
	assert_null(raft_entry_at(sim_raft(s, l), idx)); /* compacted */
	sim_isolate(s, f, false);
	wait_applied(s, f, idx);
	/* It got there through InstallSnapshot (§7): its log starts there. */
	assert_true(raft_snapshot_index(sim_raft(s, f)) >= idx);
	/* And it keeps replicating normally afterwards, and survives a crash. */
	raft_index idx2 = propose_n(s, l, 5);
	wait_applied(s, f, idx2);
	sim_crash(s, f);
	sim_restart(s, f);
	wait_applied(s, f, idx2);
	no_violation(s);
	sim_free(s);
}

static bool pred_committed_config(struct sim *s, void *arg)
{
	raft_id *l = arg;
	struct raft *r = sim_raft(s, *l);
	return r && raft_role(r) == RAFT_LEADER && raft_remove(r, 0xffff, NULL) != RAFT_EBUSY;
}

static bool pred_match(struct sim *s, void *arg)
{
	struct committed_at *c = arg;
	struct raft *r = sim_raft(s, c->id);
	return r && raft_match_index(r, c->other) >= c->index;
}

static void test_membership(void **state)
{
	(void)state;
	struct sim *s = new_sim(4, 17);
	raft_id l = wait_leader(s);
	wait_applied(s, l, propose_n(s, l, 3));
	raft_id x = other_than(s, l, 0);
	raft_index ci;
	assert_int_equal(raft_remove(sim_raft(s, l), x, &ci), RAFT_OK);
	/* Thesis §4.1: one change at a time. */
	assert_int_equal(raft_add_learner(sim_raft(s, l), x, "back", NULL), RAFT_EBUSY);
	wait_applied(s, l, ci);
	assert_null(raft_config_get(raft_configuration(sim_raft(s, l)), x));
	raft_term t = raft_current_term(sim_raft(s, l));
	/* The removed server is not disruptive (pre-vote + stickiness). */
	sim_run_for(s, 20 * ET);
	assert_int_equal(sim_leader(s), l);
	assert_int_equal(raft_current_term(sim_raft(s, l)), t);
	/* Back as a learner: it receives the log... */
	assert_true(sim_run_until(s, 10 * ET, pred_committed_config, &l));
	assert_int_equal(raft_add_learner(sim_raft(s, l), x, "back", &ci), RAFT_OK);
	wait_applied(s, x, ci);
	assert_true(raft_is_learner(sim_raft(s, x)));
	/* ...then is promoted once caught up (as the leader knows it). */
	assert_true(sim_run_until(s, 10 * ET, pred_committed_config, &l));
	struct committed_at m = { l, ci, x };
	assert_true(sim_run_until(s, 10 * ET, pred_match, &m));
	assert_int_equal(raft_promote(sim_raft(s, l), x, &ci), RAFT_OK);
	wait_applied(s, x, ci);
	const struct raft_server *sv = raft_config_get(raft_configuration(sim_raft(s, x)), x);
	assert_non_null(sv);
	assert_int_equal(sv->role, RAFT_VOTER);
	no_violation(s);
	sim_free(s);
}

static void test_learner_does_not_count(void **state)
{
	(void)state;
	struct sim *s = new_sim(4, 19);
	raft_id l = wait_leader(s);
	raft_id x = other_than(s, l, 0);
	raft_index ci;
	assert_true(sim_run_until(s, 10 * ET, pred_committed_config, &l));
	assert_int_equal(raft_remove(sim_raft(s, l), x, &ci), RAFT_OK);
	wait_applied(s, l, ci);
	assert_true(sim_run_until(s, 10 * ET, pred_committed_config, &l));
	assert_int_equal(raft_add_learner(sim_raft(s, l), x, "l", &ci), RAFT_OK);
	wait_applied(s, x, ci);
	/* The promote check refuses a learner that lags. */
	sim_isolate(s, x, true);
	wait_applied(s, l, propose_n(s, l, 20));
	assert_int_equal(raft_promote(sim_raft(s, l), x, NULL), RAFT_ECATCHUP);
	sim_isolate(s, x, false);
	wait_applied(s, x, raft_commit_index(sim_raft(s, l)));
	/* Voters 3 (l, a, b) + learner x. Cut a and b off: the leader and
	 * the learner alone are no majority. */
	raft_id a = other_than(s, l, x), b = 0;
	for (raft_id id = 1; id <= 4; id++)
		if (id != l && id != x && id != a)
			b = id;
	sim_block(s, l, a, true);
	sim_block(s, l, b, true);
	raft_index idx;
	assert_int_equal(sim_propose(s, l, &idx), RAFT_OK);
	sim_run_for(s, ET / 2);
	assert_true(raft_commit_index(sim_raft(s, l)) < idx);
	assert_true(raft_last_index(sim_raft(s, x)) >= idx); /* it has the entry */
	sim_heal(s);
	wait_applied(s, l, idx);
	no_violation(s);
	sim_free(s);
}

static void test_removed_leader_steps_down(void **state)
{
	(void)state;
	struct sim *s = new_sim(3, 23);
	raft_id l = wait_leader(s);
	assert_true(sim_run_until(s, 10 * ET, pred_committed_config, &l));
	raft_index ci;
	assert_int_equal(raft_remove(sim_raft(s, l), l, &ci), RAFT_OK);
	/* Thesis §4.2.2: it manages the cluster until the removal commits,
	 * then steps down; the others elect a leader among themselves. */
	sim_run_for(s, 30 * ET);
	raft_id l2 = sim_leader(s);
	assert_int_not_equal(l2, 0);
	assert_int_not_equal(l2, l);
	assert_true(raft_commit_index(sim_raft(s, l2)) >= ci);
	raft_term t = raft_current_term(sim_raft(s, l));
	sim_run_for(s, 20 * ET);
	/* Not in its own configuration: it never campaigns again. */
	assert_int_not_equal(raft_role(sim_raft(s, l)), RAFT_CANDIDATE);
	assert_true(raft_current_term(sim_raft(s, l)) <= t + 1);
	no_violation(s);
	sim_free(s);
}

static bool pred_persisted(struct sim *s, void *arg)
{
	struct committed_at *c = arg;
	struct raft *r = sim_raft(s, c->id);
	return r && raft_persisted_index(r) >= c->index;
}

static void test_self_removal_of_two_not_committed(void **state)
{
	(void)state;
	/* Two voters; the leader removes itself but only its own disk gets the
	 * entry before it restarts. Its latest configuration excludes it, the
	 * other server's does not, and the other cannot win without its vote
	 * (its log is shorter). Thesis §4.2.2: it must still campaign until
	 * that configuration commits — or the cluster is stuck forever. */
	struct sim *s = new_sim(2, 31);
	raft_id l = wait_leader(s);
	raft_id o = l == 1 ? 2 : 1;
	wait_applied(s, o, propose_n(s, l, 2));
	assert_true(sim_run_until(s, 10 * ET, pred_committed_config, &l));
	sim_isolate(s, l, true);
	raft_index ci;
	assert_int_equal(raft_remove(sim_raft(s, l), l, &ci), RAFT_OK);
	struct committed_at p = { l, ci, 0 };
	assert_true(sim_run_until(s, 10 * ET, pred_persisted, &p));
	sim_crash(s, l);
	sim_restart(s, l);
	sim_isolate(s, l, false);
	sim_run_for(s, 40 * ET);
	/* The removal committed and the remaining server leads alone. */
	assert_int_equal(sim_leader(s), o);
	assert_true(raft_commit_index(sim_raft(s, o)) >= ci);
	assert_null(raft_config_get(raft_configuration(sim_raft(s, o)), l));
	/* The removed server, knowing its removal is committed, stays quiet. */
	raft_term t = raft_current_term(sim_raft(s, o));
	sim_run_for(s, 20 * ET);
	assert_int_equal(sim_leader(s), o);
	assert_int_equal(raft_current_term(sim_raft(s, o)), t);
	no_violation(s);
	sim_free(s);
}

static void test_restart_loses_unsynced_tail(void **state)
{
	(void)state;
	struct sim *s = new_sim(3, 29);
	raft_id l = wait_leader(s);
	wait_applied(s, l, propose_n(s, l, 2));
	raft_id f = other_than(s, l, 0);
	sim_hold_disk(s, f, true);
	raft_index idx = propose_n(s, l, 10);
	wait_applied(s, l, idx); /* committed by the leader and the other follower */
	raft_index before = raft_last_index(sim_raft(s, f));
	assert_true(before >= idx);
	assert_true(raft_persisted_index(sim_raft(s, f)) < idx);
	sim_crash(s, f);
	sim_restart(s, f);
	/* The unsynced tail is gone after the restart... */
	assert_true(raft_last_index(sim_raft(s, f)) < idx);
	/* ...which is safe: it never acknowledged it, and it catches up. */
	wait_applied(s, f, idx);
	/* The same with the leader: it only counted durable entries. */
	sim_hold_disk(s, l, true);
	raft_index idx2 = propose_n(s, l, 5);
	sim_run_for(s, ET / 2);
	sim_crash(s, l);
	sim_restart(s, l);
	raft_id l2 = wait_leader(s);
	raft_index idx3;
	assert_int_equal(sim_propose(s, l2, &idx3), RAFT_OK);
	for (raft_id id = 1; id <= 3; id++)
		wait_applied(s, id, idx3);
	(void)idx2;
	no_violation(s);
	sim_free(s);
}

static void test_figure8(void **state)
{
	(void)state;
	unsigned reached = 0;
	for (uint64_t seed = 1; seed <= 10; seed++) {
		struct sim_opts o;
		sim_opts_default(&o);
		o.nodes = 5;
		o.seed = seed;
		o.faults = false;
		struct sim *s = sim_new(&o);
		bool got = false;
		sim_scenario_figure8(s, &got);
		reached += got;
		no_violation(s);
		sim_free(s);
	}
	assert_true(reached > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_election_and_stability),
		cmocka_unit_test(test_prevote_keeps_isolated_node_quiet),
		cmocka_unit_test(test_without_prevote_terms_grow),
		cmocka_unit_test(test_check_quorum_steps_down),
		cmocka_unit_test(test_read_index),
		cmocka_unit_test(test_transfer),
		cmocka_unit_test(test_snapshot_install),
		cmocka_unit_test(test_membership),
		cmocka_unit_test(test_learner_does_not_count),
		cmocka_unit_test(test_removed_leader_steps_down),
		cmocka_unit_test(test_self_removal_of_two_not_committed),
		cmocka_unit_test(test_restart_loses_unsynced_tail),
		cmocka_unit_test(test_figure8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
