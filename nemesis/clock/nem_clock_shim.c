/* nem_clock_shim.c — LD_PRELOAD library (bin/librapat_clock.so) that offsets
 * and scales the clocks a process reads through glibc, steered at run time
 * by the control page named in RAPAT_CLOCK_CTL (see nem_clock.h).
 *
 * Global state, necessarily (a preload library has no caller to hold it):
 *  - shim_page: the read-only mapping of the control page, set once by the
 *    constructor (NULL = pass-through: no variable, unreadable file);
 *  - shim_timens_mono: this process's time-namespace monotonic offset, so
 *    the page's anchor (taken in the controller's namespace) can be compared
 *    with our own monotonic clock;
 *  - shim_last[]: the last value returned per monotonic clock, so shifted
 *    monotonic clocks never run backwards (shared by all threads, atomic).
 * Nothing here allocates or locks on the read path; it is async-signal-safe
 * like the functions it wraps.
 */
#include "nemesis/clock/nem_clock.h"
#include "nemesis/clock/nem_clock_page.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

static const struct nem_clock_page *shim_page;
static int64_t shim_timens_mono;
static int64_t shim_last[16]; /* indexed by clockid, monotonic ones only */

/* The real clock: the vDSO through the raw entry glibc uses internally would
 * need dlsym(RTLD_NEXT), which may itself read the clock during symbol
 * lookup; the syscall is always safe, and the kernel still answers from the
 * same clocks. The vDSO is tried first when available. */
typedef int (*vdso_gettime_fn)(clockid_t, struct timespec *);
static vdso_gettime_fn shim_vdso;

/* Finds __vdso_clock_gettime in the vDSO image the kernel mapped for us. */
static vdso_gettime_fn find_vdso(void)
{
	uintptr_t base = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
	if (!base)
		return NULL;
	const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)base;
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(base + eh->e_phoff);
	uintptr_t load_off = 0;
	const ElfW(Dyn) *dyn = NULL;
	bool have_load = false;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !have_load) {
			load_off = base + ph[i].p_offset - ph[i].p_vaddr;
			have_load = true;
		} else if (ph[i].p_type == PT_DYNAMIC) {
			dyn = (const ElfW(Dyn) *)(base + ph[i].p_offset);
		}
	}
	if (!dyn || !have_load)
		return NULL;
	const ElfW(Sym) *sym = NULL;
	const char *str = NULL;
	const Elf32_Word *hash = NULL;
	for (const ElfW(Dyn) *d = dyn; d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_SYMTAB)
			sym = (const ElfW(Sym) *)(d->d_un.d_ptr + load_off);
		else if (d->d_tag == DT_STRTAB)
			str = (const char *)(d->d_un.d_ptr + load_off);
		else if (d->d_tag == DT_HASH)
			hash = (const Elf32_Word *)(d->d_un.d_ptr + load_off);
	}
	if (!sym || !str || !hash)
		return NULL;
	Elf32_Word nsyms = hash[1];
	for (Elf32_Word i = 0; i < nsyms; i++) {
		if (sym[i].st_name && strcmp(str + sym[i].st_name, "__vdso_clock_gettime") == 0 &&
		    sym[i].st_shndx != SHN_UNDEF)
			return (vdso_gettime_fn)(sym[i].st_value + load_off);
	}
	return NULL;
}

static int real_gettime(clockid_t id, struct timespec *ts)
{
	vdso_gettime_fn f = __atomic_load_n(&shim_vdso, __ATOMIC_RELAXED);
	if (f)
		return f(id, ts);
	return (int)syscall(SYS_clock_gettime, id, ts);
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static void ns_ts(int64_t ns, struct timespec *ts)
{
	ts->tv_sec = ns / 1000000000LL;
	ts->tv_nsec = ns % 1000000000LL;
	if (ts->tv_nsec < 0) {
		ts->tv_sec -= 1;
		ts->tv_nsec += 1000000000LL;
	}
}

static int64_t read_timens_offset(void)
{
	int fd = open("/proc/self/timens_offsets", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	char buf[256];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	for (char *line = buf; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		char name[32];
		long long s, ns;
		if (sscanf(line, "%31s %lld %lld", name, &s, &ns) == 3 &&
		    (strcmp(name, "monotonic") == 0 || strcmp(name, "1") == 0))
			return (int64_t)s * 1000000000LL + ns;
	}
	return 0;
}

__attribute__((constructor)) static void shim_init(void)
{
	__atomic_store_n(&shim_vdso, find_vdso(), __ATOMIC_RELAXED);
	shim_timens_mono = read_timens_offset();
	const char *path = getenv(NEM_CLOCK_ENV);
	if (!path || !*path)
		return;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat st;
	if (fstat(fd, &st) == 0 && st.st_size >= NEM_CLOCK_PAGE_SIZE) {
		void *m = mmap(NULL, NEM_CLOCK_PAGE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
		if (m != MAP_FAILED)
			__atomic_store_n(&shim_page, (const struct nem_clock_page *)m, __ATOMIC_RELEASE);
	}
	close(fd);
}

static bool is_wall(clockid_t id)
{
	return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE || id == CLOCK_TAI;
}

static bool is_mono(clockid_t id)
{
	return id == CLOCK_MONOTONIC || id == CLOCK_MONOTONIC_COARSE || id == CLOCK_MONOTONIC_RAW ||
	       id == CLOCK_BOOTTIME;
}

/* Returns the value to report for clock id whose real reading is real_ns. */
static int64_t shift(clockid_t id, int64_t real_ns)
{
	const struct nem_clock_page *pg = __atomic_load_n(&shim_page, __ATOMIC_ACQUIRE);
	struct nem_clock_params p;
	if (!pg || nem_clock_page_read(pg, &p) < 0)
		return real_ns;
	bool mono = is_mono(id);
	if (mono && !(p.flags & NEM_CLOCK_F_MONOTONIC) && __atomic_load_n(&shim_last[id], __ATOMIC_RELAXED) == 0)
		return real_ns;
	int64_t off = 0;
	if (!mono || (p.flags & NEM_CLOCK_F_MONOTONIC)) {
		/* The rate needs elapsed real time since the anchor, on the
		 * controller's monotonic clock; with rate 1 it is unused. */
		int64_t m = real_ns;
		struct timespec ts;
		if (id != CLOCK_MONOTONIC && p.rate_ppb != NEM_CLOCK_RATE_ONE &&
		    real_gettime(CLOCK_MONOTONIC, &ts) == 0)
			m = ts_ns(&ts);
		off = nem_clock_effective_offset(&p, m - shim_timens_mono);
	}
	int64_t v = real_ns + off;
	if (!mono)
		return v;
	/* Monotonic clocks never go back: after a backward step (or the flag
	 * being cleared) they stand still until real time catches up. */
	int64_t *last = &shim_last[id];
	int64_t seen = __atomic_load_n(last, __ATOMIC_RELAXED);
	for (;;) {
		if (v <= seen)
			return seen;
		if (__atomic_compare_exchange_n(last, &seen, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return v;
	}
}

SHIM_EXPORT int clock_gettime(clockid_t id, struct timespec *ts)
{
	int rc = real_gettime(id, ts);
	if (rc != 0 || id < 0 || (!is_wall(id) && !is_mono(id)))
		return rc;
	ns_ts(shift(id, ts_ns(ts)), ts);
	return 0;
}

SHIM_EXPORT int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec ts;
	if (tz) {
		/* Obsolete; glibc reports UTC. */
		struct timezone *z = tz;
		z->tz_minuteswest = 0;
		z->tz_dsttime = 0;
	}
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return -1;
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

SHIM_EXPORT time_t time(time_t *t)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (time_t)-1;
	if (t)
		*t = ts.tv_sec;
	return ts.tv_sec;
}

SHIM_EXPORT int timespec_get(struct timespec *ts, int base)
{
	if (base != TIME_UTC || clock_gettime(CLOCK_REALTIME, ts) != 0)
		return 0;
	return base;
}
