/* nem_corrupt.c — seeded file corruption: bit flips, torn tails, chunks
 * copied over other chunks; every change reported (contract in
 * nem_corrupt.h). */
#include "nemesis/disk/nem_corrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* splitmix64: small, seedable, good enough to place faults. */
struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *g)
{
	uint64_t z = (g->s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0, without modulo bias (Lemire). */
static uint64_t rng_below(struct rng *g, uint64_t n)
{
	unsigned __int128 m = (unsigned __int128)rng_next(g) * n;
	uint64_t lo = (uint64_t)m;
	if (lo < n) {
		uint64_t t = -n % n;
		while (lo < t) {
			m = (unsigned __int128)rng_next(g) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

/* Uniform in (0, 1]. */
static double rng_unit(struct rng *g)
{
	return ((double)(rng_next(g) >> 11) + 1.0) / 9007199254740992.0;
}

void nem_corrupt_report_free(struct nem_corrupt_report *r)
{
	free(r->changes);
	r->changes = NULL;
	r->n = r->cap = 0;
}

static int add_change(struct nem_corrupt_report *r, const struct nem_corrupt_change *c)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct nem_corrupt_change *n = realloc(r->changes, cap * sizeof *n);
		if (!n)
			return -1;
		r->changes = n;
		r->cap = cap;
	}
	r->changes[r->n++] = *c;
	return 0;
}

static int sys_fail(char *err, size_t errlen, const char *path, const char *what)
{
	snprintf(err, errlen, "corrupt %s: %s: %s", path, what, strerror(errno));
	return -1;
}

/* Opens path read-write and resolves end (0 = EOF), checking the region. */
static int open_region(const char *path, uint64_t start, uint64_t *end, int *fd_out, uint64_t *size,
                       char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return sys_fail(err, errlen, path, "open");
	struct stat st;
	if (fstat(fd, &st) < 0) {
		sys_fail(err, errlen, path, "fstat");
		close(fd);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	if (*end == 0)
		*end = *size;
	if (start >= *end || *end > *size) {
		snprintf(err, errlen, "corrupt %s: region [%" PRIu64 ", %" PRIu64 ") not inside the file (%" PRIu64 " bytes)",
		         path, start, *end, *size);
		close(fd);
		return -1;
	}
	*fd_out = fd;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* count distinct bit positions in [0, total), sorted. */
static uint64_t *pick_distinct(struct rng *g, uint64_t total, uint64_t count)
{
	uint64_t *v = malloc(count * sizeof *v);
	if (!v)
		return NULL;
	uint64_t n = 0;
	while (n < count) {
		while (n < count)
			v[n++] = rng_below(g, total);
		qsort(v, n, sizeof *v, cmp_u64);
		uint64_t w = 0;
		for (uint64_t i = 0; i < n; i++)
			if (w == 0 || v[i] != v[w - 1])
				v[w++] = v[i];
		n = w;
	}
	return v;
}

static int finish(int fd, const char *path, struct nem_corrupt_report *r, char *err, size_t errlen)
{
	struct stat st;
	if (fsync(fd) < 0 || fstat(fd, &st) < 0) {
		sys_fail(err, errlen, path, "fsync (the file may be partly corrupted)");
		close(fd);
		return -1;
	}
	r->size_after = (uint64_t)st.st_size;
	close(fd);
	return 0;
}

int nem_corrupt_bitflip(const char *path, uint64_t start, uint64_t end, uint64_t count,
                        double probability, uint64_t seed, struct nem_corrupt_report *r,
                        char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	snprintf(r->kind, sizeof r->kind, "bitflip");
	if (count == 0 && !(probability > 0.0 && probability <= 1.0)) {
		snprintf(err, errlen, "corrupt %s: bitflip needs count > 0 or 0 < probability <= 1", path);
		return -1;
	}
	int fd;
	if (open_region(path, start, &end, &fd, &r->size_before, err, errlen) < 0)
		return -1;
	uint64_t total = (end - start) * 8;
	struct rng g = { seed };
	uint64_t *bits = NULL, nbits = 0;
	if (count > 0) {
		if (count > total || count > 100000000ull) {
			snprintf(err, errlen, "corrupt %s: %" PRIu64 " flips do not fit in %" PRIu64 " bits",
			         path, count, total);
			close(fd);
			return -1;
		}
		bits = pick_distinct(&g, total, count);
		nbits = count;
	} else {
		/* Geometric gaps between flipped bits: cost proportional to the
		 * number of flips, not to the file size. */
		size_t cap = 0;
		double lq = log1p(-probability);
		for (uint64_t pos = 0;;) {
			uint64_t gap = 0;
			if (probability < 1.0) {
				double gg = floor(log(rng_unit(&g)) / lq);
				gap = gg >= (double)total ? total : (uint64_t)gg;
			}
			if (gap >= total - pos)
				break;
			pos += gap;
			if (nbits == cap) {
				cap = cap ? cap * 2 : 64;
				uint64_t *nb = realloc(bits, cap * sizeof *nb);
				if (!nb) {
					snprintf(err, errlen, "corrupt %s: out of memory", path);
					goto fail;
				}
				bits = nb;
			}
			bits[nbits++] = pos++;
			if (pos >= total)
				break;
		}
	}
	if (!bits && nbits) {
		snprintf(err, errlen, "corrupt %s: out of memory", path);
		close(fd);
		return -1;
	}
	for (uint64_t i = 0; i < nbits;) {
		uint64_t off = start + bits[i] / 8;
		uint8_t byte;
		if (pread(fd, &byte, 1, (off_t)off) != 1) {
			sys_fail(err, errlen, path, "read");
			goto fail;
		}
		for (; i < nbits && start + bits[i] / 8 == off; i++) {
			struct nem_corrupt_change c = { .kind = NEM_CORRUPT_BITFLIP, .offset = off, .len = 1,
			                                .bit = (uint8_t)(bits[i] % 8), .old_byte = byte };
			byte ^= (uint8_t)(1u << c.bit);
			c.new_byte = byte;
			if (add_change(r, &c) < 0) {
				snprintf(err, errlen, "corrupt %s: out of memory", path);
				goto fail;
			}
		}
		if (pwrite(fd, &byte, 1, (off_t)off) != 1) {
			sys_fail(err, errlen, path, "write (the file may be partly corrupted)");
			goto fail;
		}
	}
	free(bits);
	return finish(fd, path, r, err, errlen);
fail:
	free(bits);
	close(fd);
	return -1;
}

int nem_corrupt_truncate(const char *path, uint64_t drop, struct nem_corrupt_report *r,
                         char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	snprintf(r->kind, sizeof r->kind, "truncate");
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return sys_fail(err, errlen, path, "open");
	struct stat st;
	if (fstat(fd, &st) < 0) {
		sys_fail(err, errlen, path, "fstat");
		close(fd);
		return -1;
	}
	r->size_before = (uint64_t)st.st_size;
	uint64_t keep = r->size_before > drop ? r->size_before - drop : 0;
	if (ftruncate(fd, (off_t)keep) < 0) {
		sys_fail(err, errlen, path, "ftruncate");
		close(fd);
		return -1;
	}
	struct nem_corrupt_change c = { .kind = NEM_CORRUPT_TRUNCATE, .offset = keep,
	                                .len = r->size_before - keep, .src = r->size_before };
	if (add_change(r, &c) < 0) {
		close(fd);
		snprintf(err, errlen, "corrupt %s: out of memory (the file was truncated)", path);
		return -1;
	}
	return finish(fd, path, r, err, errlen);
}

static int cmp_change(const void *a, const void *b)
{
	const struct nem_corrupt_change *x = a, *y = b;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

int nem_corrupt_copy_chunks(const char *path, uint64_t start, uint64_t end, uint64_t chunk_size,
                            uint64_t count, uint64_t seed, struct nem_corrupt_report *r,
                            char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	snprintf(r->kind, sizeof r->kind, "copy");
	int fd;
	if (chunk_size == 0) {
		snprintf(err, errlen, "corrupt %s: chunk size must be > 0", path);
		return -1;
	}
	if (open_region(path, start, &end, &fd, &r->size_before, err, errlen) < 0)
		return -1;
	uint64_t chunks = (end - start) / chunk_size;
	if (chunks < 2 || count == 0 || count > chunks || count * chunk_size > (256u << 20)) {
		snprintf(err, errlen,
		         "corrupt %s: cannot copy %" PRIu64 " chunks of %" PRIu64 " bytes within a region of %" PRIu64
		         " chunks (need >= 2 chunks, 1 <= count <= chunks, at most 256 MiB)",
		         path, count, chunk_size, chunks);
		close(fd);
		return -1;
	}
	struct rng g = { seed };
	uint64_t *idx = malloc(chunks * sizeof *idx);
	uint8_t *buf = malloc(count * chunk_size);
	if (!idx || !buf) {
		snprintf(err, errlen, "corrupt %s: out of memory", path);
		goto fail;
	}
	/* Partial Fisher-Yates: the first count entries are distinct targets. */
	for (uint64_t i = 0; i < chunks; i++)
		idx[i] = i;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t j = i + rng_below(&g, chunks - i);
		uint64_t t = idx[i];
		idx[i] = idx[j];
		idx[j] = t;
		uint64_t src = rng_below(&g, chunks - 1);
		if (src >= idx[i])
			src++;
		struct nem_corrupt_change c = { .kind = NEM_CORRUPT_COPY, .offset = start + idx[i] * chunk_size,
		                                .len = chunk_size, .src = start + src * chunk_size };
		if (add_change(r, &c) < 0) {
			snprintf(err, errlen, "corrupt %s: out of memory", path);
			goto fail;
		}
	}
	/* All sources are read before any destination is written: each copy
	 * carries original data even when a source is also a destination. */
	for (size_t i = 0; i < r->n; i++) {
		if (pread(fd, buf + i * chunk_size, chunk_size, (off_t)r->changes[i].src) != (ssize_t)chunk_size) {
			sys_fail(err, errlen, path, "read");
			goto fail;
		}
	}
	for (size_t i = 0; i < r->n; i++) {
		if (pwrite(fd, buf + i * chunk_size, chunk_size, (off_t)r->changes[i].offset) != (ssize_t)chunk_size) {
			sys_fail(err, errlen, path, "write (the file may be partly corrupted)");
			goto fail;
		}
	}
	qsort(r->changes, r->n, sizeof *r->changes, cmp_change);
	free(idx);
	free(buf);
	return finish(fd, path, r, err, errlen);
fail:
	free(idx);
	free(buf);
	close(fd);
	return -1;
}

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void nem_corrupt_report_json(const struct nem_corrupt_report *r, const char *path, FILE *out)
{
	fputs("{\"file\":", out);
	json_string(out, path);
	fprintf(out, ",\"kind\":\"%s\",\"size_before\":%" PRIu64 ",\"size_after\":%" PRIu64 ",\"changes\":[",
	        r->kind, r->size_before, r->size_after);
	for (size_t i = 0; i < r->n; i++) {
		const struct nem_corrupt_change *c = &r->changes[i];
		if (i)
			fputc(',', out);
		switch (c->kind) {
		case NEM_CORRUPT_BITFLIP:
			fprintf(out, "{\"offset\":%" PRIu64 ",\"bit\":%u,\"old\":%u,\"new\":%u}", c->offset,
			        c->bit, c->old_byte, c->new_byte);
			break;
		case NEM_CORRUPT_TRUNCATE:
			fprintf(out, "{\"offset\":%" PRIu64 ",\"dropped\":%" PRIu64 "}", c->offset, c->len);
			break;
		case NEM_CORRUPT_COPY:
			fprintf(out, "{\"offset\":%" PRIu64 ",\"len\":%" PRIu64 ",\"src\":%" PRIu64 "}", c->offset,
			        c->len, c->src);
			break;
		}
	}
	fputs("]}", out);
}
