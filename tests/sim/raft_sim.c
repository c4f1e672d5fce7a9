/* raft_sim.c — command line for the deterministic cluster simulator: runs
 * many seeds of randomized faults and prints the failing seed with a trace
 * tail. Linked against the real core or against a mutant build. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/sim/sim.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: raft_sim --seeds N [--start S] [--nodes 3|5] [--steps K] [--no-membership]\n"
	        "                [--expect-violation] [--scenario figure8]\n"
	        "       raft_sim --seed S [--nodes 3|5] [--steps K] [-v]\n"
	        "  Without --nodes, seeds alternate between 3 and 5 nodes.\n"
	        "  --expect-violation: succeed only if some seed finds a violation (mutant builds).\n"
	        "  --scenario figure8: run the scripted Figure 8 scenario (5 nodes) per seed.\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s)
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t seeds = 1, start = 1, nodes = 0, steps = 3000, one = 0;
	bool verbose = false, single = false, expect = false, membership = true;
	const char *scenario = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--seeds") && !parse_u64(v, &seeds)) {
			i++;
		} else if (!strcmp(a, "--start") && !parse_u64(v, &start)) {
			i++;
		} else if (!strcmp(a, "--nodes") && !parse_u64(v, &nodes) && (nodes == 3 || nodes == 5)) {
			i++;
		} else if (!strcmp(a, "--steps") && !parse_u64(v, &steps) && steps > 0) {
			i++;
		} else if (!strcmp(a, "--seed") && !parse_u64(v, &one)) {
			single = true;
			i++;
		} else if (!strcmp(a, "-v")) {
			verbose = true;
		} else if (!strcmp(a, "--expect-violation")) {
			expect = true;
		} else if (!strcmp(a, "--scenario") && v && !strcmp(v, "figure8")) {
			scenario = v;
			i++;
		} else if (!strcmp(a, "--no-membership")) {
			membership = false;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "raft_sim: bad argument '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (single) {
		start = one;
		seeds = 1;
	}
	const char *mutant = raft_mutant_name();
	printf("raft_sim: core %s, seeds %" PRIu64 "..%" PRIu64 ", %" PRIu64 " steps each\n",
	       mutant ? mutant : "(correct)", start, start + seeds - 1, steps);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t total_steps = 0, commits = 0, elections = 0, reads = 0, reached = 0;
	struct sim_stats st = { 0 };
	for (uint64_t seed = start; seed < start + seeds; seed++) {
		struct sim_opts o;
		sim_opts_default(&o);
		o.seed = seed;
		o.nodes = nodes ? (unsigned)nodes : (seed % 2 ? 3 : 5);
		o.steps = (unsigned)steps;
		o.verbose = verbose;
		o.membership = membership;
		if (!scenario)
			sim_opts_vary(&o, seed);
		if (scenario) {
			o.nodes = 5;
			o.faults = false;
		}
		struct sim *s = sim_new(&o);
		if (!s) {
			fprintf(stderr, "raft_sim: cannot create the simulation\n");
			return 2;
		}
		int rc;
		if (scenario) {
			bool got = false;
			sim_scenario_figure8(s, &got);
			reached += got;
			rc = sim_failure(s) != NULL;
		} else {
			rc = sim_run(s);
		}
		total_steps += sim_steps(s);
		commits += sim_max_committed(s);
		elections += sim_elections(s);
		reads += sim_reads_ok(s);
		const struct sim_stats *x = sim_stats(s);
		st.crashes += x->crashes;
		st.installs += x->installs;
		st.snapshots += x->snapshots;
		st.member_changes += x->member_changes;
		st.transfers += x->transfers;
		st.pauses += x->pauses;
		st.partitions += x->partitions;
		st.clock_bumps += x->clock_bumps;
		if (rc) {
			printf("FAIL %s\n", sim_failure(s));
			printf("trace tail (seed %" PRIu64 ", %u nodes):\n", seed, o.nodes);
			sim_dump_trace(s, stdout);
			if (scenario)
				printf("reproduce: raft_sim --scenario %s --seed %" PRIu64 " -v\n", scenario, seed);
			else
				printf("reproduce: raft_sim --seed %" PRIu64 " --nodes %u --steps %" PRIu64 "%s -v\n", seed,
				       o.nodes, steps, membership ? "" : " --no-membership");
			sim_free(s);
			if (expect) {
				printf("violation detected as expected (mutant %s) at seed %" PRIu64 "\n",
				       mutant ? mutant : "none", seed);
				return 0;
			}
			return 1;
		}
		sim_free(s);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%" PRIu64 " seeds passed: %" PRIu64 " steps, %" PRIu64 " elections, %" PRIu64
	       " entries committed, %" PRIu64 " reads; %.2f s (%.0f seeds/s, %.0f steps/s)\n",
	       seeds, total_steps, elections, commits, reads, secs, secs > 0 ? (double)seeds / secs : 0.0,
	       secs > 0 ? (double)total_steps / secs : 0.0);
	printf("faults and operations: %" PRIu64 " crashes, %" PRIu64 " pauses, %" PRIu64 " partition changes, %" PRIu64
	       " snapshots taken, %" PRIu64 " installed, %" PRIu64 " membership changes, %" PRIu64 " transfers started, %" PRIu64
	       " clock jumps\n",
	       st.crashes, st.pauses, st.partitions, st.snapshots, st.installs, st.member_changes, st.transfers,
	       st.clock_bumps);
	if (scenario)
		printf("scenario %s reached its shape in %" PRIu64 " of %" PRIu64 " seeds\n", scenario, reached, seeds);
	if (scenario && reached == 0) {
		printf("FAIL: the scenario never reached its shape: it tests nothing\n");
		return 1;
	}
	if (expect) {
		printf("FAIL: expected the %s mutant to violate an invariant within %" PRIu64 " seeds\n",
		       mutant ? mutant : "(none)", seeds);
		return 1;
	}
	return 0;
}
