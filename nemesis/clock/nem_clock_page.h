/* nem_clock_page.h — the shared-memory clock control page read by the
 * LD_PRELOAD shim and written by the controller (nem_clock_ctl.c), and the
 * arithmetic both sides use. Internal to nemesis/clock; the harness uses
 * nem_clock.h.
 *
 * Layout is a fixed ABI (version 1): the controller and a running node may
 * come from different builds. One writer (the controller) and many readers
 * (every thread of every shimmed process) synchronise with a seqlock: the
 * writer makes seq odd, stores the fields, makes seq even again; a reader
 * retries while seq is odd or changed during its copy. Every field is read
 * and written with __atomic builtins so the race is defined behaviour.
 */
#ifndef NEM_CLOCK_PAGE_H
#define NEM_CLOCK_PAGE_H

#include <stdint.h>

#define NEM_CLOCK_MAGIC 0x4b4c4352u /* "RCLK" little endian */
#define NEM_CLOCK_VERSION 1u
#define NEM_CLOCK_PAGE_SIZE 4096
#define NEM_CLOCK_RATE_ONE 1000000000LL /* rate_ppb for real speed */

struct nem_clock_page {
	uint32_t magic;
	uint32_t version;
	uint32_t seq;        /* seqlock counter, odd while being written */
	uint32_t flags;      /* NEM_CLOCK_F_* (nem_clock.h) */
	int64_t offset_ns;   /* offset in force at anchor_ns */
	int64_t rate_ppb;    /* clock speed in parts per 1e9 of real speed */
	int64_t anchor_ns;   /* CLOCK_MONOTONIC of the initial time namespace
	                      * at the moment offset_ns/rate_ppb were set */
};

/* A consistent copy of the page's parameters. */
struct nem_clock_params {
	uint32_t flags;
	int64_t offset_ns;
	int64_t rate_ppb;
	int64_t anchor_ns;
};

/* Seqlock read; spins (briefly: a write is a handful of stores) while the
 * writer is active. Returns 0, or -1 when the page is not a valid page or
 * stays mid-write for about a million tries (a controller killed inside a
 * write): readers then fall back to real time instead of hanging. */
static inline int nem_clock_page_read(const struct nem_clock_page *p, struct nem_clock_params *out)
{
	if (__atomic_load_n(&p->magic, __ATOMIC_RELAXED) != NEM_CLOCK_MAGIC ||
	    __atomic_load_n(&p->version, __ATOMIC_RELAXED) != NEM_CLOCK_VERSION)
		return -1;
	for (unsigned tries = 0;; tries++) {
		if (tries > (1u << 20))
			return -1;
		uint32_t s1 = __atomic_load_n(&p->seq, __ATOMIC_ACQUIRE);
		if (s1 & 1u) {
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#endif
			continue;
		}
		out->flags = __atomic_load_n(&p->flags, __ATOMIC_RELAXED);
		out->offset_ns = __atomic_load_n(&p->offset_ns, __ATOMIC_RELAXED);
		out->rate_ppb = __atomic_load_n(&p->rate_ppb, __ATOMIC_RELAXED);
		out->anchor_ns = __atomic_load_n(&p->anchor_ns, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&p->seq, __ATOMIC_RELAXED) == s1)
			return 0;
	}
}

/* Seqlock write; single writer per page. An odd counter left by a writer
 * that died mid-write is first rounded up, so the protocol recovers. */
static inline void nem_clock_page_write(struct nem_clock_page *p, const struct nem_clock_params *in)
{
	uint32_t s = __atomic_load_n(&p->seq, __ATOMIC_RELAXED);
	s += s & 1u;
	__atomic_store_n(&p->seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&p->flags, in->flags, __ATOMIC_RELAXED);
	__atomic_store_n(&p->offset_ns, in->offset_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&p->rate_ppb, in->rate_ppb, __ATOMIC_RELAXED);
	__atomic_store_n(&p->anchor_ns, in->anchor_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&p->seq, s + 2, __ATOMIC_RELEASE);
}

/* The offset (ns) to add to a real clock reading when the real monotonic
 * clock (initial time namespace) reads mono_ns:
 *   offset_ns + (rate - 1) * (mono_ns - anchor_ns)
 * computed in 128 bits, saturated to int64. */
static inline int64_t nem_clock_effective_offset(const struct nem_clock_params *c, int64_t mono_ns)
{
	__int128 elapsed = (__int128)mono_ns - c->anchor_ns;
	__int128 skew = elapsed * (c->rate_ppb - NEM_CLOCK_RATE_ONE) / NEM_CLOCK_RATE_ONE;
	__int128 off = (__int128)c->offset_ns + skew;
	if (off > INT64_MAX)
		return INT64_MAX;
	if (off < INT64_MIN)
		return INT64_MIN;
	return (int64_t)off;
}

#endif
