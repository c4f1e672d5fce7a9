/* nemesis_clock_shim.c — integration test: a program running under
 * librapat_clock.so reads shifted wall time after a bump, faster/slower wall
 * time under a rate, unshifted monotonic clocks by default, shifted but never
 * backward monotonic clocks with NEM_CLOCK_F_MONOTONIC, and real time after
 * a reset; also drives one bump through the rapat-clock CLI. */
#include "nemesis/clock/nem_clock.h"
#include "tests/integration/nemesis_clock_common.h"

#include <stdint.h>

static const clockid_t own_clock[PROBE_FIELDS] = {
	CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_REALTIME, CLOCK_REALTIME,
	CLOCK_REALTIME, CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC, CLOCK_REALTIME,
};
static const char *const names[PROBE_FIELDS] = {
	"realtime", "monotonic", "boottime", "gettimeofday", "time", "realtime_coarse",
	"monotonic_raw", "monotonic_coarse", "timespec_get",
};
/* How far below the bracket a correct reading may be: truncation to µs or
 * whole seconds, and the coarse clocks' tick (generously). */
static const long long low_slack[PROBE_FIELDS] = {
	0, 0, 0, 1000, NS, 100000000LL, 0, 100000000LL, 0,
};

/* Reads the probe bracketed by our own readings of the same clocks. */
static int sample(struct probe *p, long long v[PROBE_FIELDS], long long lo[PROBE_FIELDS],
                  long long hi[PROBE_FIELDS])
{
	for (int i = 0; i < PROBE_FIELDS; i++)
		lo[i] = now_ns(own_clock[i]);
	int rc = probe_read(p, v);
	for (int i = 0; i < PROBE_FIELDS; i++)
		hi[i] = now_ns(own_clock[i]);
	return rc;
}

/* Every field i with is_wall(i) == wall must lie in
 * [lo + off_lo - slack, hi + off_hi]. */
static bool wall_field(int i)
{
	return own_clock[i] == CLOCK_REALTIME;
}

static void expect(const char *step, const long long v[], const long long lo[], const long long hi[],
                   bool wall, long long off_lo, long long off_hi)
{
	for (int i = 0; i < PROBE_FIELDS; i++) {
		if (wall_field(i) != wall)
			continue;
		long long a = lo[i] + off_lo - low_slack[i], b = hi[i] + off_hi;
		CHECK(v[i] >= a && v[i] <= b, "%s: %s = %lld not in [%lld, %lld] (off %.3f s)", step,
		      names[i], v[i], a, b, (double)(v[i] - lo[i]) / NS);
	}
}

int main(void)
{
	char err[512], dir[] = "/tmp/nem_clock_shimXXXXXX", ctl_path[256], shim[4096];
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(ctl_path, sizeof ctl_path, "%s/clock.ctl", dir);
	snprintf(shim, sizeof shim, "%s/librapat_clock.so", env_or("RAPAT_BIN", "bin"));
	struct nem_clock_ctl *ctl;
	if (nem_clock_ctl_create(ctl_path, 0, &ctl, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct probe p;
	if (probe_start(&p, shim, ctl_path) < 0) {
		perror("probe");
		return 1;
	}
	long long v[PROBE_FIELDS], lo[PROBE_FIELDS], hi[PROBE_FIELDS];

	/* 1. No fault: real time. */
	if (sample(&p, v, lo, hi) < 0)
		goto died;
	expect("initial", v, lo, hi, true, 0, 0);
	expect("initial", v, lo, hi, false, 0, 0);

	/* 2. Bump +1000 s: wall clocks jump, monotonic ones do not. */
	if (nem_clock_bump(ctl, 1000 * NS, err, sizeof err) < 0)
		goto ctlfail;
	if (sample(&p, v, lo, hi) < 0)
		goto died;
	expect("bump +1000s", v, lo, hi, true, 1000 * NS, 1000 * NS);
	expect("bump +1000s", v, lo, hi, false, 0, 0);
	printf("after bump +1000 s: probe realtime - real = %.6f s\n", (double)(v[P_REAL] - lo[P_REAL]) / NS);

	/* 3. Bump -1500 s: the wall clock goes back in time (a strobe step). */
	if (nem_clock_bump(ctl, -1500 * NS, err, sizeof err) < 0)
		goto ctlfail;
	if (sample(&p, v, lo, hi) < 0)
		goto died;
	expect("bump -1500s", v, lo, hi, true, -500 * NS, -500 * NS);
	expect("bump -1500s", v, lo, hi, false, 0, 0);

	/* 4. Rate 2: the offset grows by (2-1) x elapsed real time since set. */
	long long a0 = nem_clock_init_monotonic_ns();
	if (nem_clock_set(ctl, 0, 2.0, err, sizeof err) < 0)
		goto ctlfail;
	long long a1 = nem_clock_init_monotonic_ns();
	long long first_real = 0, first_lo = 0;
	for (int k = 0; k < 3; k++) {
		struct timespec ts = { 0, 200000000L };
		nanosleep(&ts, NULL);
		long long m0 = nem_clock_init_monotonic_ns();
		if (sample(&p, v, lo, hi) < 0)
			goto died;
		long long m1 = nem_clock_init_monotonic_ns();
		expect("rate 2", v, lo, hi, true, m0 - a1, m1 - a0);
		expect("rate 2", v, lo, hi, false, 0, 0);
		if (k == 0) {
			first_real = v[P_REAL];
			first_lo = lo[P_REAL];
		}
	}
	double ratio = (double)(v[P_REAL] - first_real) / (double)(lo[P_REAL] - first_lo);
	printf("rate 2.0: probe wall clock advanced %.3f x real time over %.3f s\n", ratio,
	       (double)(lo[P_REAL] - first_lo) / NS);

	/* 5. Rate 0.5 from +10 s. */
	a0 = nem_clock_init_monotonic_ns();
	if (nem_clock_set(ctl, 10 * NS, 0.5, err, sizeof err) < 0)
		goto ctlfail;
	a1 = nem_clock_init_monotonic_ns();
	{
		struct timespec ts = { 0, 300000000L };
		nanosleep(&ts, NULL);
		long long m0 = nem_clock_init_monotonic_ns();
		if (sample(&p, v, lo, hi) < 0)
			goto died;
		long long m1 = nem_clock_init_monotonic_ns();
		/* offset = 10 s - 0.5 x elapsed: largest when elapsed is smallest. */
		expect("rate 0.5", v, lo, hi, true, 10 * NS - (m1 - a0) / 2, 10 * NS - (m0 - a1) / 2);
	}
	CHECK(nem_clock_rate(ctl) == 0.5, "rate read back %f", nem_clock_rate(ctl));

	/* 6. Reset: real time again. */
	if (nem_clock_reset(ctl, err, sizeof err) < 0)
		goto ctlfail;
	if (sample(&p, v, lo, hi) < 0)
		goto died;
	expect("reset", v, lo, hi, true, 0, 0);
	expect("reset", v, lo, hi, false, 0, 0);

	/* 7. The CLI drives the same file. */
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "%s/rapat-clock bump %s 7000000000", env_or("RAPAT_BIN", "bin"), ctl_path);
	CHECK(system(cmd) == 0, "%s failed", cmd);
	if (sample(&p, v, lo, hi) < 0)
		goto died;
	expect("cli bump +7s", v, lo, hi, true, 7 * NS, 7 * NS);

	/* 8. Monotonic option: +100 s moves the monotonic clocks; going back
	 * (-100 s) must not make them run backwards. */
	if (nem_clock_reset(ctl, err, sizeof err) < 0 ||
	    nem_clock_set_flags(ctl, NEM_CLOCK_F_MONOTONIC, err, sizeof err) < 0 ||
	    nem_clock_bump(ctl, 100 * NS, err, sizeof err) < 0)
		goto ctlfail;
	if (sample(&p, v, lo, hi) < 0)
		goto died;
	expect("monotonic +100s", v, lo, hi, true, 100 * NS, 100 * NS);
	expect("monotonic +100s", v, lo, hi, false, 100 * NS, 100 * NS);
	long long prev[PROBE_FIELDS];
	memcpy(prev, v, sizeof prev);
	if (nem_clock_bump(ctl, -100 * NS, err, sizeof err) < 0)
		goto ctlfail;
	if (sample(&p, v, lo, hi) < 0)
		goto died;
	expect("monotonic back to 0", v, lo, hi, true, 0, 0);
	for (int i = 0; i < PROBE_FIELDS; i++) {
		if (wall_field(i))
			continue;
		CHECK(v[i] >= prev[i], "monotonic back: %s went backwards %lld -> %lld", names[i], prev[i], v[i]);
		CHECK(v[i] <= prev[i] + (hi[i] - lo[i]) + NS, "monotonic back: %s jumped forward", names[i]);
	}
	printf("monotonic clock after a -100 s step: stands still at +%.3f s over real\n",
	       (double)(v[P_MONO] - lo[P_MONO]) / NS);

	/* 9. A process without a control file is untouched. */
	if (probe_stop(&p) < 0) {
		fprintf(stderr, "probe exited badly\n");
		failures++;
	}
	if (probe_start(&p, shim, "/nonexistent/clock.ctl") < 0 || sample(&p, v, lo, hi) < 0)
		goto died;
	expect("no control file", v, lo, hi, true, 0, 0);
	expect("no control file", v, lo, hi, false, 0, 0);
	probe_stop(&p);

	nem_clock_ctl_close(ctl);
	unlink(ctl_path);
	rmdir(dir);
	if (failures) {
		fprintf(stderr, "%d checks failed\n", failures);
		return 1;
	}
	printf("ok\n");
	return 0;
died:
	fprintf(stderr, "probe died or printed garbage\n");
	return 1;
ctlfail:
	fprintf(stderr, "control: %s\n", err);
	return 1;
}
