/* partition_bench.c — time to apply and heal a 5-node majority/minority partition: nem_net over libnl versus `ip rule` and `iptables` commands doing the same grudge in the same lab namespaces. Prints numbers; asserts only that each mechanism had its effect. */
#include "nemesis/nem.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NODES 5

static struct hx_lab *lab;
static struct nem_net *net;
static struct nem_grudge grudge;

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void summary(const char *what, double *apply, double *heal, int n, unsigned effect)
{
	qsort(apply, (size_t)n, sizeof *apply, cmp_d);
	qsort(heal, (size_t)n, sizeof *heal, cmp_d);
	printf("%-44s %8.3f %8.3f %8.3f   %8.3f %8.3f %8.3f   %4d  %u\n", what, apply[0], apply[n / 2], apply[n - 1],
	       heal[0], heal[n / 2], heal[n - 1], n, effect);
}

/* Runs argv in node idx's network namespace (stdin from `input` when not
 * NULL), waits; returns its exit status or -1. */
static int run_in(unsigned idx, const char *const *argv, const char *input)
{
	int in[2] = { -1, -1 };
	if (input && pipe(in) < 0)
		return -1;
	pid_t p = fork();
	if (p == 0) {
		if (setns(lab->nodes[idx].netns_fd, CLONE_NEWNET) < 0)
			_exit(126);
		if (input) {
			dup2(in[0], 0);
			close(in[0]);
			close(in[1]);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (input) {
		close(in[0]);
		size_t len = strlen(input);
		if (write(in[1], input, len) != (ssize_t)len)
			fprintf(stderr, "short write to %s\n", argv[0]);
		close(in[1]);
	}
	int st;
	if (p < 0 || waitpid(p, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* How many ordered pairs the probe finds cut although nem_net has nothing in
 * force: the effect of the rules the commands made (12 expected). */
static unsigned effect(void)
{
	char err[256];
	struct nem_probe_result pr;
	if (nem_net_probe(net, 400, &pr, err, sizeof err) < 0) {
		fprintf(stderr, "probe: %s\n", err);
		exit(1);
	}
	return pr.mismatches;
}

static void must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "bench: %s failed\n", what);
		exit(1);
	}
}

/* `ip rule add|del from S/32 iif eth0 blackhole pref 100`, one process per rule. */
static void ip_rule_each(bool add)
{
	for (unsigned r = 0; r < NODES; r++)
		for (unsigned s = 0; s < NODES; s++) {
			if (!nem_grudge_drops(&grudge, r, s))
				continue;
			char src[32];
			snprintf(src, sizeof src, "%s/32", lab->nodes[s].ip);
			const char *av[] = { "ip", "rule", add ? "add" : "del", "from", src, "iif", "eth0",
			                     "blackhole", "pref", "100", NULL };
			must(run_in(r, av, NULL) == 0, "ip rule");
		}
}

/* `ip -batch -`, one process per receiving namespace. */
static void ip_rule_batch(bool add)
{
	for (unsigned r = 0; r < NODES; r++) {
		char script[1024] = "";
		size_t off = 0;
		for (unsigned s = 0; s < NODES; s++)
			if (nem_grudge_drops(&grudge, r, s))
				off += (size_t)snprintf(script + off, sizeof script - off,
				                        "rule %s from %s/32 iif eth0 blackhole pref 100\n",
				                        add ? "add" : "del", lab->nodes[s].ip);
		if (!off)
			continue;
		const char *av[] = { "ip", "-batch", "-", NULL };
		must(run_in(r, av, script) == 0, "ip -batch");
	}
}

/* Jepsen's way: `iptables -A INPUT -s S -j DROP -w` per rule, healed with
 * `iptables -F -w` per node. */
static void iptables_each(bool add)
{
	for (unsigned r = 0; r < NODES; r++) {
		if (!add) {
			if (!grudge.drops[r])
				continue;
			const char *av[] = { "iptables", "-w", "-F", "INPUT", NULL };
			must(run_in(r, av, NULL) == 0, "iptables -F");
			continue;
		}
		for (unsigned s = 0; s < NODES; s++) {
			if (!nem_grudge_drops(&grudge, r, s))
				continue;
			const char *av[] = { "iptables", "-w", "-A", "INPUT", "-s", lab->nodes[s].ip, "-j", "DROP", NULL };
			must(run_in(r, av, NULL) == 0, "iptables -A");
		}
	}
}

static void bench_cmd(const char *what, void (*fn)(bool), int runs)
{
	double a[64], h[64];
	unsigned eff = 0;
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();
		fn(true);
		a[i] = now_ms() - t0;
		if (i == 0)
			eff = effect();
		t0 = now_ms();
		fn(false);
		h[i] = now_ms() - t0;
		if (i == 0)
			must(effect() == 0, "heal left rules");
	}
	summary(what, a, h, runs, eff);
}

int main(int argc, char **argv)
{
	char err[512];
	int runs = argc > 1 ? atoi(argv[1]) : 200;
	int cmd_runs = argc > 2 ? atoi(argv[2]) : 15;
	if (runs < 1 || runs > 100000 || cmd_runs < 1 || cmd_runs > 64) {
		fprintf(stderr, "usage: partition_bench [RUNS<=100000] [COMMAND_RUNS<=64]\n");
		return 64;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (hx_lab_enter(err, sizeof err) < 0 || hx_lab_create(&lab, NODES, err, sizeof err) < 0 ||
	    nem_net_new(&net, lab, err, sizeof err) < 0) {
		fprintf(stderr, "bench: %s\n", err);
		return 1;
	}
	nem_grudge_halves(&grudge, NODES, NULL);
	char js[512];
	const char *ids[NODES];
	nem_lab_ids(lab, ids);
	nem_grudge_to_json(&grudge, ids, js, sizeof js);
	printf("5-node majority/minority partition, %u rules: %s\n", nem_grudge_count(&grudge), js);
	printf("%-44s %26s   %26s   %4s  %s\n", "", "apply ms min/median/max", "heal ms min/median/max", "runs",
	       "pairs cut");

	double *a = calloc((size_t)runs, sizeof *a), *h = calloc((size_t)runs, sizeof *h);
	must(a && h, "calloc");
	struct nem_net_stats st;
	unsigned eff = 0;
	for (int i = 0; i < runs; i++) {
		must(nem_net_apply(net, &grudge, &st, err, sizeof err) == 0, err);
		a[i] = st.duration_ns / 1e6;
		if (i == 0) {
			struct nem_probe_result pr;
			must(nem_net_probe(net, 400, &pr, err, sizeof err) == 0 && pr.mismatches == 0, "probe nem_net");
			eff = nem_grudge_count(nem_net_current(net));
		}
		must(nem_net_heal(net, &st, err, sizeof err) == 0, err);
		h[i] = st.duration_ns / 1e6;
	}
	summary("libnl rtnl_rule_* (nem_net)", a, h, runs, eff);
	free(a);
	free(h);
	/* The same with the wall clock around the call, for fairness. */
	{
		double wa[64], wh[64];
		int n = cmd_runs;
		for (int i = 0; i < n; i++) {
			double t0 = now_ms();
			must(nem_net_apply(net, &grudge, NULL, err, sizeof err) == 0, err);
			wa[i] = now_ms() - t0;
			t0 = now_ms();
			must(nem_net_heal(net, NULL, err, sizeof err) == 0, err);
			wh[i] = now_ms() - t0;
		}
		summary("libnl, wall clock around apply/heal", wa, wh, n, eff);
	}
	bench_cmd("`ip rule add/del`, one process per rule", ip_rule_each, cmd_runs);
	bench_cmd("`ip -batch -`, one process per namespace", ip_rule_batch, cmd_runs);
	bench_cmd("`iptables -A INPUT -s .. -j DROP` / `-F`", iptables_each, cmd_runs);
	nem_net_free(net);
	hx_lab_destroy(lab);

	/* Spawning a node process (until it has exec'd), plain and with a time
	 * namespace; then waiting for it. */
	{
		must(hx_lab_create(&lab, NODES, err, sizeof err) == 0, err);
		double t[2][64];
		int n = cmd_runs;
		for (int k = 0; k < 2; k++)
			for (int i = 0; i < n; i++) {
				const char *av[] = { "true", NULL };
				struct hx_spawn_opts o = { .argv = av, .mono_offset_ns = k ? 3600LL * 1000000000LL : 0 };
				pid_t p;
				double t0 = now_ms();
				must(hx_lab_spawn(lab, (unsigned)i % NODES, &o, &p, err, sizeof err) == 0, err);
				t[k][i] = now_ms() - t0;
				waitpid(p, NULL, 0);
			}
		qsort(t[0], (size_t)n, sizeof t[0][0], cmp_d);
		qsort(t[1], (size_t)n, sizeof t[1][0], cmp_d);
		printf("\nhx_lab_spawn(true) until exec: min/median/max %.2f/%.2f/%.2f ms; with a time namespace "
		       "%.2f/%.2f/%.2f ms (%d runs)\n", t[0][0], t[0][n / 2], t[0][n - 1], t[1][0], t[1][n / 2],
		       t[1][n - 1], n);
		hx_lab_destroy(lab);
	}

	/* The lab itself, and the same work at the lab's largest size. */
	printf("\nlab and scale (one run each, wall clock):\n");
	for (unsigned n = 5; n <= HX_LAB_MAX_NODES; n = n == 5 ? 16 : n * 4) {
		double t0 = now_ms();
		must(hx_lab_create(&lab, n, err, sizeof err) == 0, err);
		double t_create = now_ms() - t0;
		must(nem_net_new(&net, lab, err, sizeof err) == 0, err);
		struct nem_grudge g;
		nem_grudge_halves(&g, n, NULL);
		struct nem_net_stats sa, sh;
		must(nem_net_apply(net, &g, &sa, err, sizeof err) == 0, err);
		struct nem_probe_result pr;
		must(nem_net_probe(net, 3000, &pr, err, sizeof err) == 0, err);
		must(nem_net_heal(net, &sh, err, sizeof err) == 0, err);
		nem_net_free(net);
		t0 = now_ms();
		hx_lab_destroy(lab);
		double t_destroy = now_ms() - t0;
		printf("%2u nodes: create %7.1f ms, destroy %7.1f ms; halves %4u rules: apply %6.2f ms, heal %6.2f ms, "
		       "probe %6.1f ms (%u mismatches)\n", n, t_create, t_destroy, sa.added, sa.duration_ns / 1e6,
		       sh.duration_ns / 1e6, pr.duration_ns / 1e6, pr.mismatches);
		must(pr.mismatches == 0, "probe at scale");
	}
	return 0;
}
