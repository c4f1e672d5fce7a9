/* nemesis_clock_timens.c — integration test: a process started in a time
 * namespace with a CLOCK_MONOTONIC/BOOTTIME offset reads the shifted clocks
 * (what hx_spawn_opts.mono_offset_ns gives Go programs like etcd), and the
 * clock shim still computes its rate correctly inside such a namespace. */
#include "nemesis/clock/nem_clock.h"
#include "tests/integration/nemesis_clock_common.h"

#include <stdint.h>

#define MONO_OFF (3600LL * NS)   /* one hour ahead */
#define BOOT_OFF (7200LL * NS)

int main(void)
{
	char err[512];
	/* Fork first: the namespace is entered by a helper, as a spawner would,
	 * so this process keeps its own clocks for bracketing. */
	int sync_pipe[2];
	if (pipe(sync_pipe) < 0)
		return 1;
	pid_t helper = fork();
	if (helper == 0) {
		close(sync_pipe[0]);
		if (nem_clock_timens_unshare(MONO_OFF, BOOT_OFF, err, sizeof err) < 0) {
			int e = errno;
			fprintf(stderr, "%s\n", err);
			_exit(e == EPERM ? 77 : 1);
		}
		/* The helper itself stays in the old namespace; what it forks
		 * (here: the probe, with and without the shim) reads the new one. */
		char dir[] = "/tmp/nem_clock_tnsXXXXXX", ctl_path[256], shim[4096];
		if (!mkdtemp(dir))
			_exit(1);
		snprintf(ctl_path, sizeof ctl_path, "%s/clock.ctl", dir);
		snprintf(shim, sizeof shim, "%s/librapat_clock.so", env_or("RAPAT_BIN", "bin"));
		struct nem_clock_ctl *ctl;
		if (nem_clock_ctl_create(ctl_path, NEM_CLOCK_F_MONOTONIC, &ctl, err, sizeof err) < 0) {
			fprintf(stderr, "%s\n", err);
			_exit(1);
		}
		struct probe p;
		long long v[PROBE_FIELDS];
		/* Plain process: sees exactly the namespace offsets. */
		long long m0 = now_ns(CLOCK_MONOTONIC), b0 = now_ns(CLOCK_BOOTTIME);
		long long r0 = now_ns(CLOCK_REALTIME);
		if (probe_start(&p, NULL, NULL) < 0 || probe_read(&p, v) < 0)
			_exit(1);
		long long m1 = now_ns(CLOCK_MONOTONIC), b1 = now_ns(CLOCK_BOOTTIME);
		long long r1 = now_ns(CLOCK_REALTIME);
		probe_stop(&p);
		CHECK(v[P_MONO] >= m0 + MONO_OFF && v[P_MONO] <= m1 + MONO_OFF,
		      "monotonic in namespace: %lld not in [%lld, %lld]", v[P_MONO], m0 + MONO_OFF,
		      m1 + MONO_OFF);
		CHECK(v[P_BOOT] >= b0 + BOOT_OFF && v[P_BOOT] <= b1 + BOOT_OFF,
		      "boottime in namespace: %lld not in [%lld, %lld]", v[P_BOOT], b0 + BOOT_OFF, b1 + BOOT_OFF);
		CHECK(v[P_REAL] >= r0 && v[P_REAL] <= r1, "realtime must not move in a time namespace");
		printf("time namespace: monotonic +%.3f s, boottime +%.3f s (asked +%lld, +%lld)\n",
		       (double)(v[P_MONO] - m0) / NS, (double)(v[P_BOOT] - b0) / NS, MONO_OFF / NS,
		       BOOT_OFF / NS);

		/* Shimmed process in the namespace, rate 3 on monotonic clocks: the
		 * shim must measure elapsed time on the controller's clock (ours,
		 * outside), not be confused by the hour of namespace offset. */
		if (probe_start(&p, shim, ctl_path) < 0)
			_exit(1);
		long long a0 = nem_clock_init_monotonic_ns();
		if (nem_clock_set(ctl, 0, 3.0, err, sizeof err) < 0) {
			fprintf(stderr, "%s\n", err);
			_exit(1);
		}
		long long a1 = nem_clock_init_monotonic_ns();
		struct timespec ts = { 0, 300000000L };
		nanosleep(&ts, NULL);
		m0 = now_ns(CLOCK_MONOTONIC);
		r0 = now_ns(CLOCK_REALTIME);
		if (probe_read(&p, v) < 0)
			_exit(1);
		m1 = now_ns(CLOCK_MONOTONIC);
		r1 = now_ns(CLOCK_REALTIME);
		probe_stop(&p);
		long long lo = m0 + MONO_OFF + 2 * (m0 - a1), hi = m1 + MONO_OFF + 2 * (m1 - a0);
		CHECK(v[P_MONO] >= lo && v[P_MONO] <= hi, "shim rate 3 in namespace: monotonic %lld not in [%lld, %lld]",
		      v[P_MONO], lo, hi);
		lo = r0 + 2 * (m0 - a1);
		hi = r1 + 2 * (m1 - a0);
		CHECK(v[P_REAL] >= lo && v[P_REAL] <= hi, "shim rate 3 in namespace: realtime %lld not in [%lld, %lld]",
		      v[P_REAL], lo, hi);
		nem_clock_ctl_close(ctl);
		unlink(ctl_path);
		rmdir(dir);
		fflush(stdout);
		_exit(failures ? 1 : 0);
	}
	close(sync_pipe[1]);
	/* nem_clock_timens_enter: the process itself moves into the namespace,
	 * so what it execs (no extra fork) reads the shifted clocks. */
	int ep[2];
	if (pipe(ep) < 0)
		return 1;
	long long m0 = now_ns(CLOCK_MONOTONIC);
	pid_t direct = fork();
	if (direct == 0) {
		if (nem_clock_timens_enter(-((m0 / 2) / NS) * NS, 0, err, sizeof err) < 0) {
			fprintf(stderr, "%s\n", err);
			_exit(1);
		}
		dup2(ep[1], 1);
		char probe_path[4096];
		snprintf(probe_path, sizeof probe_path, "%s/tests/integration/nemesis_clock_probe",
		         env_or("RAPAT_BUILD", "build/default"));
		int in[2];
		if (pipe(in) < 0 || write(in[1], "r\n", 2) != 2)
			_exit(1);
		close(in[1]);
		dup2(in[0], 0);
		execl(probe_path, probe_path, (char *)NULL);
		_exit(127);
	}
	close(ep[1]);
	char line[512] = "";
	FILE *pf = fdopen(ep[0], "r");
	if (!fgets(line, sizeof line, pf))
		line[0] = 0;
	fclose(pf);
	long long m1 = now_ns(CLOCK_MONOTONIC), v_mono = 0, v_real = 0;
	int dst;
	waitpid(direct, &dst, 0);
	CHECK(sscanf(line, "%lld %lld", &v_real, &v_mono) == 2, "direct probe printed '%s'", line);
	/* A negative offset this time: back by half the uptime (whole seconds),
	 * which keeps the shifted clock positive. */
	long long off = -((m0 / 2) / NS) * NS;
	CHECK(v_mono >= m0 + off && v_mono <= m1 + off, "entered namespace: monotonic %lld not in [%lld, %lld]",
	      v_mono, m0 + off, m1 + off);
	printf("nem_clock_timens_enter: exec'd program reads monotonic %+.3f s from ours (asked %+.3f s)\n",
	       (double)(v_mono - m0) / NS, (double)off / NS);
	int st;
	if (waitpid(helper, &st, 0) < 0)
		return 1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
		printf("skip: time namespaces not permitted here\n");
		return 77;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || failures) {
		fprintf(stderr, "time namespace checks failed\n");
		return 1;
	}
	printf("ok\n");
	return 0;
}
