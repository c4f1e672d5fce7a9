/* nem_clock_ctl.c — controller side of the clock shim: creates the control
 * page, steps/scales it under the seqlock, and time-namespace helpers. */
#include "nemesis/clock/nem_clock.h"
#include "nemesis/clock/nem_clock_page.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct nem_clock_ctl {
	struct nem_clock_page *page;
	char path[4096];
};

static int64_t monotonic_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Parses "monotonic S NS" from /proc/self/timens_offsets; 0 when absent
 * (kernels without time namespaces have no such file). */
static int64_t timens_mono_offset(void)
{
	FILE *f = fopen("/proc/self/timens_offsets", "re");
	if (!f)
		return 0;
	char line[128];
	int64_t off = 0;
	while (fgets(line, sizeof line, f)) {
		char name[32];
		long long s, ns;
		if (sscanf(line, "%31s %lld %lld", name, &s, &ns) == 3 &&
		    (strcmp(name, "monotonic") == 0 || strcmp(name, "1") == 0))
			off = (int64_t)s * 1000000000LL + ns;
	}
	fclose(f);
	return off;
}

int64_t nem_clock_init_monotonic_ns(void)
{
	return monotonic_ns(CLOCK_MONOTONIC) - timens_mono_offset();
}

static int fail(char *err, size_t errlen, int saved_errno, const char *path, const char *what)
{
	snprintf(err, errlen, "clock control %s: %s: %s", path, what, strerror(saved_errno));
	return -1;
}

static int map_page(const char *path, int oflags, bool init, uint32_t flags,
                    struct nem_clock_ctl **out, char *err, size_t errlen)
{
	int fd = open(path, oflags | O_RDWR | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail(err, errlen, errno, path, "open");
	if (init && ftruncate(fd, NEM_CLOCK_PAGE_SIZE) < 0) {
		int e = errno;
		close(fd);
		return fail(err, errlen, e, path, "ftruncate");
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size < NEM_CLOCK_PAGE_SIZE) {
		close(fd);
		snprintf(err, errlen, "clock control %s: not a control file (too short)", path);
		return -1;
	}
	void *m = mmap(NULL, NEM_CLOCK_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int e = errno;
	close(fd);
	if (m == MAP_FAILED)
		return fail(err, errlen, e, path, "mmap");
	struct nem_clock_ctl *c = calloc(1, sizeof *c);
	if (!c) {
		munmap(m, NEM_CLOCK_PAGE_SIZE);
		return fail(err, errlen, ENOMEM, path, "alloc");
	}
	c->page = m;
	snprintf(c->path, sizeof c->path, "%s", path);
	if (init) {
		/* A fresh page: fields first, the magic last, so a shim that maps
		 * the file early sees either no page or a complete one. */
		struct nem_clock_params p = { .flags = flags, .offset_ns = 0,
		                              .rate_ppb = NEM_CLOCK_RATE_ONE,
		                              .anchor_ns = nem_clock_init_monotonic_ns() };
		__atomic_store_n(&c->page->magic, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&c->page->version, NEM_CLOCK_VERSION, __ATOMIC_RELAXED);
		nem_clock_page_write(c->page, &p);
		__atomic_store_n(&c->page->magic, NEM_CLOCK_MAGIC, __ATOMIC_RELEASE);
	} else {
		struct nem_clock_params p;
		if (nem_clock_page_read(c->page, &p) < 0) {
			nem_clock_ctl_close(c);
			snprintf(err, errlen, "clock control %s: bad magic or version", path);
			return -1;
		}
	}
	*out = c;
	return 0;
}

int nem_clock_ctl_create(const char *path, uint32_t flags, struct nem_clock_ctl **out,
                         char *err, size_t errlen)
{
	return map_page(path, O_CREAT, true, flags, out, err, errlen);
}

int nem_clock_ctl_open(const char *path, struct nem_clock_ctl **out, char *err, size_t errlen)
{
	return map_page(path, 0, false, 0, out, err, errlen);
}

void nem_clock_ctl_close(struct nem_clock_ctl *ctl)
{
	if (!ctl)
		return;
	munmap(ctl->page, NEM_CLOCK_PAGE_SIZE);
	free(ctl);
}

static struct nem_clock_params current(const struct nem_clock_ctl *ctl)
{
	struct nem_clock_params p;
	if (nem_clock_page_read(ctl->page, &p) < 0) {
		/* Validated at open, so only a writer that died mid-write gets
		 * here: take the fields as they are; the next write repairs the
		 * counter. */
		p.flags = __atomic_load_n(&ctl->page->flags, __ATOMIC_RELAXED);
		p.offset_ns = __atomic_load_n(&ctl->page->offset_ns, __ATOMIC_RELAXED);
		p.rate_ppb = __atomic_load_n(&ctl->page->rate_ppb, __ATOMIC_RELAXED);
		p.anchor_ns = __atomic_load_n(&ctl->page->anchor_ns, __ATOMIC_RELAXED);
	}
	return p;
}

int nem_clock_set(struct nem_clock_ctl *ctl, int64_t offset_ns, double rate,
                  char *err, size_t errlen)
{
	if (!(rate > 0.0) || rate > 1000.0 || isnan(rate)) {
		snprintf(err, errlen, "clock control %s: rate %g out of range (0, 1000]",
		         ctl->path, rate);
		return -1;
	}
	struct nem_clock_params p = current(ctl);
	p.offset_ns = offset_ns;
	p.rate_ppb = llround(rate * (double)NEM_CLOCK_RATE_ONE);
	/* The anchor is "now": the new offset holds exactly at this instant and
	 * the rate only shapes the future, so changing the rate never steps the
	 * clock. */
	p.anchor_ns = nem_clock_init_monotonic_ns();
	nem_clock_page_write(ctl->page, &p);
	return 0;
}

int64_t nem_clock_offset(const struct nem_clock_ctl *ctl)
{
	struct nem_clock_params p = current(ctl);
	return nem_clock_effective_offset(&p, nem_clock_init_monotonic_ns());
}

double nem_clock_rate(const struct nem_clock_ctl *ctl)
{
	return (double)current(ctl).rate_ppb / (double)NEM_CLOCK_RATE_ONE;
}

uint32_t nem_clock_flags(const struct nem_clock_ctl *ctl)
{
	return current(ctl).flags;
}

int nem_clock_bump(struct nem_clock_ctl *ctl, int64_t delta_ns, char *err, size_t errlen)
{
	int64_t off = nem_clock_offset(ctl);
	if ((delta_ns > 0 && off > INT64_MAX - delta_ns) ||
	    (delta_ns < 0 && off < INT64_MIN - delta_ns)) {
		snprintf(err, errlen, "clock control %s: bump overflows the offset", ctl->path);
		return -1;
	}
	return nem_clock_set(ctl, off + delta_ns, nem_clock_rate(ctl), err, errlen);
}

int nem_clock_reset(struct nem_clock_ctl *ctl, char *err, size_t errlen)
{
	return nem_clock_set(ctl, 0, 1.0, err, errlen);
}

int nem_clock_set_flags(struct nem_clock_ctl *ctl, uint32_t flags, char *err, size_t errlen)
{
	if (flags & ~NEM_CLOCK_F_MONOTONIC) {
		snprintf(err, errlen, "clock control %s: unknown flags 0x%x", ctl->path, flags);
		return -1;
	}
	struct nem_clock_params p = current(ctl);
	int64_t now = nem_clock_init_monotonic_ns();
	p.offset_ns = nem_clock_effective_offset(&p, now);
	p.anchor_ns = now;
	p.flags = flags;
	nem_clock_page_write(ctl->page, &p);
	return 0;
}

int64_t nem_clock_strobe_now(void)
{
	return monotonic_ns(CLOCK_MONOTONIC);
}

int nem_clock_strobe_begin(struct nem_clock_ctl *ctl, int64_t delta_ns, int64_t period_ns,
                           int64_t duration_ns, struct nem_clock_strobe *st, int64_t *next_ns,
                           char *err, size_t errlen)
{
	if (period_ns <= 0 || duration_ns < 0) {
		snprintf(err, errlen, "clock control %s: strobe needs period > 0, duration >= 0", ctl->path);
		return -1;
	}
	int64_t now = nem_clock_strobe_now();
	st->base_ns = nem_clock_offset(ctl);
	st->delta_ns = delta_ns;
	st->period_ns = period_ns;
	st->end_ns = now + duration_ns;
	st->rate = nem_clock_rate(ctl);
	st->up = 1;
	*next_ns = now + period_ns;
	return nem_clock_set(ctl, st->base_ns + delta_ns, st->rate, err, errlen);
}

int nem_clock_strobe_tick(struct nem_clock_ctl *ctl, struct nem_clock_strobe *st, int64_t now_ns,
                          int64_t *next_ns, char *err, size_t errlen)
{
	if (now_ns >= st->end_ns) {
		st->up = 0;
		return nem_clock_set(ctl, st->base_ns, st->rate, err, errlen) < 0 ? -1 : 0;
	}
	st->up = !st->up;
	*next_ns = now_ns + st->period_ns;
	if (nem_clock_set(ctl, st->up ? st->base_ns + st->delta_ns : st->base_ns, st->rate, err, errlen) < 0)
		return -1;
	return 1;
}

int nem_clock_strobe(struct nem_clock_ctl *ctl, int64_t delta_ns, int64_t period_ns,
                     int64_t duration_ns, char *err, size_t errlen)
{
	struct nem_clock_strobe st;
	int64_t next;
	if (nem_clock_strobe_begin(ctl, delta_ns, period_ns, duration_ns, &st, &next, err, errlen) < 0)
		return -1;
	for (;;) {
		int64_t now = nem_clock_strobe_now();
		if (next > now) {
			struct timespec ts = { .tv_sec = (next - now) / 1000000000LL,
			                       .tv_nsec = (next - now) % 1000000000LL };
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
			now = nem_clock_strobe_now();
		}
		int rc = nem_clock_strobe_tick(ctl, &st, now, &next, err, errlen);
		if (rc <= 0)
			return rc;
	}
}

int nem_clock_timens_unshare(int64_t mono_offset_ns, int64_t boot_offset_ns,
                             char *err, size_t errlen)
{
	if (unshare(CLONE_NEWTIME) < 0) {
		snprintf(err, errlen, "unshare(CLONE_NEWTIME): %s", strerror(errno));
		return -1;
	}
	/* The file takes "<clock> <secs> <nanosecs>" with 0 <= nanosecs < 1e9. */
	char buf[160];
	long long ms = mono_offset_ns / 1000000000LL, mn = mono_offset_ns % 1000000000LL;
	long long bs = boot_offset_ns / 1000000000LL, bn = boot_offset_ns % 1000000000LL;
	if (mn < 0) {
		ms -= 1;
		mn += 1000000000LL;
	}
	if (bn < 0) {
		bs -= 1;
		bn += 1000000000LL;
	}
	int n = snprintf(buf, sizeof buf, "monotonic %lld %lld\nboottime %lld %lld\n", ms, mn, bs, bn);
	int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "open /proc/self/timens_offsets: %s", strerror(errno));
		return -1;
	}
	ssize_t w = write(fd, buf, (size_t)n);
	int e = errno;
	close(fd);
	if (w != n) {
		snprintf(err, errlen, "write /proc/self/timens_offsets (%s): %s", buf,
		         w < 0 ? strerror(e) : "short write");
		return -1;
	}
	return 0;
}

int nem_clock_timens_enter(int64_t mono_offset_ns, int64_t boot_offset_ns, char *err, size_t errlen)
{
	if (nem_clock_timens_unshare(mono_offset_ns, boot_offset_ns, err, errlen) < 0)
		return -1;
	int fd = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "open /proc/self/ns/time_for_children: %s", strerror(errno));
		return -1;
	}
	int rc = setns(fd, CLONE_NEWTIME);
	int e = errno;
	close(fd);
	if (rc < 0) {
		snprintf(err, errlen, "setns(time namespace): %s", strerror(e));
		return -1;
	}
	return 0;
}
