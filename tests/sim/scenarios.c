/* scenarios.c — scripted cluster scenarios on the simulator: shapes that
 * random faults rarely produce, such as the paper's Figure 8. */
#include <stdlib.h>

#include "tests/sim/sim.h"

struct want_leader {
	unsigned mask; /* bit id: candidates we accept */
	raft_term min_term;
	raft_id found;
};

static bool pred_leader(struct sim *s, void *arg)
{
	struct want_leader *w = arg;
	for (raft_id id = 1; id <= SIM_MAX_NODES; id++) {
		struct raft *r = (w->mask >> id) & 1 ? sim_raft(s, id) : NULL;
		if (r && raft_role(r) == RAFT_LEADER && raft_current_term(r) > w->min_term) {
			w->found = id;
			return true;
		}
	}
	return false;
}

struct want_entry {
	unsigned mask;
	raft_index index;
	raft_term term;
	bool committed; /* else persisted */
};

static bool pred_entry(struct sim *s, void *arg)
{
	struct want_entry *w = arg;
	for (raft_id id = 1; id <= SIM_MAX_NODES; id++) {
		if (!((w->mask >> id) & 1))
			continue;
		struct raft *r = sim_raft(s, id);
		if (!r || raft_term_at(r, w->index) != w->term)
			return false;
		if (w->committed ? raft_commit_index(r) < w->index : raft_persisted_index(r) < w->index)
			return false;
	}
	return true;
}

#define BIT(id) (1u << (id))

/* Figure 8 (§5.4.2) on 5 servers, with async persistence:
 *  A. L leads term T1; an entry is committed everywhere (index i-1).
 *  B. L appends X at i (term T1) and replicates it only to A1.
 *  C. L and A1 are cut off; B is elected by the other three in T2, appends
 *     its no-op at i (term T2) and is cut off before sending it.
 *  D. L and A1 come back with held disks; one of them (A) wins term T3 and
 *     sends X (term T1) and its no-op (i+1, term T3). X reaches a majority
 *     (A, A1 and the others), its no-op does not: A and A1 cannot persist.
 *     A correct leader must not commit X now; the COMMIT_OLD_TERM mutant does.
 *  E. A and A1 crash (losing the no-op), the others are cut off, B returns
 *     and wins (its last term T2 beats T1): it overwrites X at i.
 * Returns 0 when the run completed or gave up; *reached tells whether the
 * scenario got its shape (timing can differ by seed). Violations are
 * reported by the simulator's checkers (sim_failure). */
int sim_scenario_figure8(struct sim *s, bool *reached)
{
	*reached = false;
	const unsigned all = BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5);
	struct want_leader wl = { .mask = all };
	if (!sim_run_until(s, 3000, pred_leader, &wl))
		return 0;
	raft_id L = wl.found;
	raft_id A1 = L % 5 + 1;
	raft_id others[3];
	unsigned k = 0;
	for (raft_id id = 1; id <= 5; id++)
		if (id != L && id != A1)
			others[k++] = id;
	raft_term t1 = raft_current_term(sim_raft(s, L));

	/* A: a committed baseline on every server. */
	raft_index base;
	if (sim_propose(s, L, &base) != RAFT_OK)
		return 0;
	struct want_entry we = { .mask = all, .index = base, .term = t1, .committed = true };
	if (!sim_run_until(s, 2000, pred_entry, &we))
		return 0;
	we.committed = false;
	if (!sim_run_until(s, 2000, pred_entry, &we))
		return 0;

	/* B: X at i, only on L and A1. */
	for (unsigned j = 0; j < 3; j++)
		sim_block(s, L, others[j], true);
	raft_index i;
	if (sim_propose(s, L, &i) != RAFT_OK || i != base + 1)
		return 0;
	struct want_entry wx = { .mask = BIT(L) | BIT(A1), .index = i, .term = t1 };
	if (!sim_run_until(s, 500, pred_entry, &wx))
		return 0;
	sim_isolate(s, L, true);
	sim_isolate(s, A1, true);

	/* C: B elected among the others; cut off at once. */
	struct want_leader wb = { .mask = BIT(others[0]) | BIT(others[1]) | BIT(others[2]), .min_term = t1 };
	if (!sim_run_until(s, 3000, pred_leader, &wb))
		return 0;
	raft_id B = wb.found;
	sim_isolate(s, B, true);
	raft_term t2 = raft_current_term(sim_raft(s, B));
	struct want_entry wn = { .mask = BIT(B), .index = i, .term = t2 };
	if (!sim_run_until(s, 500, pred_entry, &wn))
		return 0;
	raft_id C[2];
	k = 0;
	for (unsigned j = 0; j < 3; j++)
		if (others[j] != B)
			C[k++] = others[j];

	/* D: L and A1 return with held disks; one of them wins term T3. */
	sim_hold_disk(s, L, true);
	sim_hold_disk(s, A1, true);
	sim_isolate(s, L, false);
	sim_isolate(s, A1, false);
	sim_isolate(s, B, true);
	struct want_leader wa = { .mask = BIT(L) | BIT(A1), .min_term = t2 };
	if (!sim_run_until(s, 3000, pred_leader, &wa))
		return 0;
	raft_id A = wa.found, A2 = A == L ? A1 : L;
	raft_term t3 = raft_current_term(sim_raft(s, A));
	/* Give X every chance to reach the others and be acknowledged. */
	struct want_entry wc = { .mask = BIT(C[0]) | BIT(C[1]), .index = i + 1, .term = t3 };
	if (!sim_run_until(s, 1000, pred_entry, &wc))
		return 0;
	sim_run_for(s, 50);
	if (sim_failure(s))
		return 0;

	/* E: A and A1 crash (the no-op was never durable there); B returns. */
	sim_crash(s, A);
	sim_crash(s, A2);
	sim_isolate(s, B, false);
	sim_isolate(s, C[0], true);
	sim_isolate(s, C[1], true);
	sim_restart(s, A);
	sim_restart(s, A2);
	struct want_leader wb2 = { .mask = BIT(B), .min_term = t3 };
	if (!sim_run_until(s, 5000, pred_leader, &wb2))
		return 0;
	if (raft_term_at(sim_raft(s, B), i) != t2)
		return 0;
	*reached = true;
	/* Heal and let the cluster converge; the checkers keep watching. */
	sim_heal(s);
	sim_run_for(s, 2000);
	return 0;
}
