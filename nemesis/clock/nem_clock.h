/* nem_clock.h — clock faults: the controller side of the LD_PRELOAD clock
 * shim (bin/librapat_clock.so), plus time-namespace helpers.
 *
 * How the harness uses it (see docs/nemesis.md):
 *  1. Per node, before the first start: nem_clock_ctl_create(path) with a
 *     path in the run directory (e.g. nodes/n1/clock.ctl). Keep the handle
 *     for the whole run; the file survives node restarts, so a restarted
 *     node comes back with the same skewed clock (as a real host would).
 *  2. Start the node with LD_PRELOAD=<abs path>/bin/librapat_clock.so and
 *     RAPAT_CLOCK_CTL=<abs path of the file> in its environment.
 *  3. Faults, at any time, without restarting the node:
 *       bump:   nem_clock_bump(ctl, delta_ns)
 *       strobe: nem_clock_strobe_begin(), then nem_clock_strobe_tick()
 *               from a timer at each *next_ns until it returns 0
 *       rate:   nem_clock_set(ctl, nem_clock_offset(ctl), rate)
 *       reset:  nem_clock_reset(ctl)   (record "clock-end")
 *  4. At the end: nem_clock_ctl_close(ctl).
 *
 * Which clocks move: the wall clocks (CLOCK_REALTIME, _COARSE, CLOCK_TAI,
 * gettimeofday, time, timespec_get) always. The monotonic clocks
 * (CLOCK_MONOTONIC, _COARSE, _RAW, CLOCK_BOOTTIME) only with
 * NEM_CLOCK_F_MONOTONIC, and even then the shim never lets them go
 * backwards: a backward step makes them stand still until real time has
 * caught up. Reach: C/C++ programs that read time through glibc. Programs
 * that read the vDSO or issue the syscall directly (Go, e.g. etcd) are not
 * affected; for those, time namespaces (below) shift CLOCK_MONOTONIC and
 * CLOCK_BOOTTIME at start, and nothing short of the host clock shifts their
 * wall clock.
 *
 * Errors: int return, 0 = ok, -1 with a message in err (errlen bytes).
 * Thread safety: one writer per control file; a handle is not thread-safe.
 */
#ifndef NEM_CLOCK_H
#define NEM_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Apply offset and rate to the monotonic clocks too (default: wall only). */
#define NEM_CLOCK_F_MONOTONIC 0x1u

/* Environment variable the shim reads: the control file's path. */
#define NEM_CLOCK_ENV "RAPAT_CLOCK_CTL"

struct nem_clock_ctl;

/* Create (or truncate and re-initialise) the control file at path: offset 0,
 * rate 1, the given flags. The file is mode 0644. *out receives a handle. */
int nem_clock_ctl_create(const char *path, uint32_t flags, struct nem_clock_ctl **out,
                         char *err, size_t errlen);
/* Open an existing control file for writing (e.g. from the rapat-clock CLI). */
int nem_clock_ctl_open(const char *path, struct nem_clock_ctl **out, char *err, size_t errlen);
/* Unmap and free. The file stays (running shims keep their mapping). NULL ok. */
void nem_clock_ctl_close(struct nem_clock_ctl *ctl);

/* From now on, shimmed clocks read real + offset_ns, and then drift from
 * there at rate (1.0 = real speed, 2.0 = twice as fast; 0 < rate <= 1000). */
int nem_clock_set(struct nem_clock_ctl *ctl, int64_t offset_ns, double rate,
                  char *err, size_t errlen);
/* Step the clock by delta_ns (positive = into the future), keeping the rate. */
int nem_clock_bump(struct nem_clock_ctl *ctl, int64_t delta_ns, char *err, size_t errlen);
/* Offset 0, rate 1. */
int nem_clock_reset(struct nem_clock_ctl *ctl, char *err, size_t errlen);
/* Change flags (NEM_CLOCK_F_MONOTONIC), keeping offset and rate. */
int nem_clock_set_flags(struct nem_clock_ctl *ctl, uint32_t flags, char *err, size_t errlen);

/* The offset in force right now (ns), including the drift from the rate. */
int64_t nem_clock_offset(const struct nem_clock_ctl *ctl);
/* The rate in force. */
double nem_clock_rate(const struct nem_clock_ctl *ctl);
uint32_t nem_clock_flags(const struct nem_clock_ctl *ctl);

/* Non-blocking strobe for an event loop: begin() steps to base + delta
 * (base = the offset in force) and says when to call tick() next; each tick
 * flips between base + delta and base and gives the next time; once
 * duration has passed, tick() restores base and returns 0 (done). Times are
 * CLOCK_MONOTONIC ns of the caller (nem_clock_strobe_now()). The rate in
 * force at begin() is kept. */
struct nem_clock_strobe {
	int64_t base_ns, delta_ns, period_ns, end_ns;
	double rate;
	int up;
};
int64_t nem_clock_strobe_now(void);
int nem_clock_strobe_begin(struct nem_clock_ctl *ctl, int64_t delta_ns, int64_t period_ns,
                           int64_t duration_ns, struct nem_clock_strobe *st, int64_t *next_ns,
                           char *err, size_t errlen);
/* Returns 1 (call again at *next_ns), 0 (finished, offset back to base) or
 * -1 (err set). */
int nem_clock_strobe_tick(struct nem_clock_ctl *ctl, struct nem_clock_strobe *st, int64_t now_ns,
                          int64_t *next_ns, char *err, size_t errlen);

/* Blocking strobe for the CLI and tests: for duration_ns, every period_ns
 * flip between the current offset and current offset + delta_ns; ends at the
 * starting offset. The harness should drive a strobe from its own timers
 * with nem_clock_set instead of blocking its event loop. */
int nem_clock_strobe(struct nem_clock_ctl *ctl, int64_t delta_ns, int64_t period_ns,
                     int64_t duration_ns, char *err, size_t errlen);

/* CLOCK_MONOTONIC of the initial time namespace, as seen from the calling
 * process (its reading minus its time namespace's monotonic offset, from
 * /proc/self/timens_offsets). */
int64_t nem_clock_init_monotonic_ns(void);

/* Time namespaces. In the calling process: unshare(CLONE_NEWTIME) and write
 * the offsets for CLOCK_MONOTONIC and CLOCK_BOOTTIME (ns, may be negative
 * but the resulting clocks must stay >= 0). The caller itself keeps its
 * clocks; its children forked afterwards (and whatever they exec) read the
 * shifted clocks. Call before any fork that should be shifted; it fails once
 * a child has been forked into the new namespace. Needs CAP_SYS_ADMIN
 * (root, or a user namespace). Process-wide: call it in a child that then
 * forks the node, or in the spawner after fork and before exec (as
 * hx_lab_spawn does for mono_offset_ns: unshare, write offsets, fork again). */
int nem_clock_timens_unshare(int64_t mono_offset_ns, int64_t boot_offset_ns,
                             char *err, size_t errlen);

/* Like nem_clock_timens_unshare, then also moves the calling process itself
 * into the new namespace (setns on /proc/self/ns/time_for_children), so an
 * exec that follows runs with the shifted clocks: what a spawner calls in
 * the child between fork and exec (no extra fork needed). The caller must
 * be single-threaded (true right after fork). */
int nem_clock_timens_enter(int64_t mono_offset_ns, int64_t boot_offset_ns, char *err, size_t errlen);

#endif
