/* nem_lazyfs_cache.c — per-inode cache of unsynced pages for rapat-lazyfs
 * (contract in nem_lazyfs_cache.h). */
#include "nemesis/disk/nem_lazyfs_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LF_BUCKETS 1024

struct lf_page {
	uint64_t idx;
	uint8_t data[NEM_LF_PAGE];
};

/* One backing inode that is open or has unsynced data.
 * Invariant while dirty: floor <= size, and every byte of the backing file
 * at an offset >= floor is dead (reads as zero unless a cached page says
 * otherwise); no cached page lies entirely at or beyond size, and the bytes
 * of the last page beyond size are zero. */
struct lf_file {
	dev_t dev;
	ino_t ino;
	unsigned opens;
	bool dirty;
	int fd;       /* own O_RDWR fd on the backing file while dirty, else -1 */
	off_t size;   /* logical size */
	off_t floor;  /* lowest size the file was truncated to since the last flush */
	struct lf_page **slots; /* open addressing by page index; cap is a power of 2 */
	size_t cap, count;
	struct lf_file *next;
};

struct nem_lf_cache {
	pthread_mutex_t mu;
	struct lf_file *buckets[LF_BUCKETS];
	uint64_t dirty_files;
	uint64_t dirty_pages;
};

/* ---- page table ---------------------------------------------------------- */

static size_t pt_slot(const struct lf_file *f, uint64_t idx)
{
	return (size_t)((idx * 0x9E3779B97F4A7C15ull) >> 17) & (f->cap - 1);
}

static struct lf_page *pt_find(const struct lf_file *f, uint64_t idx)
{
	if (!f->cap)
		return NULL;
	for (size_t i = pt_slot(f, idx);; i = (i + 1) & (f->cap - 1)) {
		struct lf_page *p = f->slots[i];
		if (!p || p->idx == idx)
			return p;
	}
}

static int pt_insert(struct lf_file *f, struct lf_page *p);

static int pt_resize(struct lf_file *f, size_t cap)
{
	struct lf_page **old = f->slots;
	size_t old_cap = f->cap;
	f->slots = calloc(cap, sizeof *f->slots);
	if (!f->slots) {
		f->slots = old;
		return -ENOMEM;
	}
	f->cap = cap;
	f->count = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i])
			pt_insert(f, old[i]);
	free(old);
	return 0;
}

static int pt_insert(struct lf_file *f, struct lf_page *p)
{
	if ((f->count + 1) * 2 > f->cap) {
		int rc = pt_resize(f, f->cap ? f->cap * 2 : 16);
		if (rc < 0)
			return rc;
	}
	size_t i = pt_slot(f, p->idx);
	while (f->slots[i])
		i = (i + 1) & (f->cap - 1);
	f->slots[i] = p;
	f->count++;
	return 0;
}

/* Frees the pages with idx >= first (all when first == 0); returns how many. */
static size_t pt_drop_from(struct lf_file *f, uint64_t first)
{
	size_t dropped = 0;
	struct lf_page **keep = NULL;
	size_t nkeep = 0;
	if (first > 0 && f->count)
		keep = malloc(f->count * sizeof *keep);
	for (size_t i = 0; i < f->cap; i++) {
		struct lf_page *p = f->slots[i];
		if (!p)
			continue;
		if (p->idx >= first || !keep) {
			free(p);
			dropped++;
		} else {
			keep[nkeep++] = p;
		}
	}
	free(f->slots);
	f->slots = NULL;
	f->cap = f->count = 0;
	for (size_t i = 0; i < nkeep; i++) {
		if (pt_insert(f, keep[i]) < 0) {
			free(keep[i]); /* out of memory: losing a page is a crash anyway */
			dropped++;
		}
	}
	free(keep);
	return dropped;
}

/* ---- entries ------------------------------------------------------------- */

static size_t bucket_of(dev_t dev, ino_t ino)
{
	return (size_t)(((uint64_t)ino * 0x9E3779B97F4A7C15ull) ^ (uint64_t)dev) % LF_BUCKETS;
}

static struct lf_file *lookup(struct nem_lf_cache *c, dev_t dev, ino_t ino, bool create)
{
	size_t b = bucket_of(dev, ino);
	for (struct lf_file *f = c->buckets[b]; f; f = f->next)
		if (f->dev == dev && f->ino == ino)
			return f;
	if (!create)
		return NULL;
	struct lf_file *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->dev = dev;
	f->ino = ino;
	f->fd = -1;
	f->next = c->buckets[b];
	c->buckets[b] = f;
	return f;
}

static void unlink_entry(struct nem_lf_cache *c, struct lf_file *f)
{
	struct lf_file **pp = &c->buckets[bucket_of(f->dev, f->ino)];
	while (*pp != f)
		pp = &(*pp)->next;
	*pp = f->next;
	free(f);
}

/* Discards the unsynced state of f (pages, fd); f becomes clean. */
static void make_clean(struct nem_lf_cache *c, struct lf_file *f)
{
	if (!f->dirty)
		return;
	c->dirty_pages -= pt_drop_from(f, 0);
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->dirty = false;
	c->dirty_files--;
}

/* Frees f when nothing needs it any more. */
static void maybe_free(struct nem_lf_cache *c, struct lf_file *f)
{
	if (f->opens == 0 && !f->dirty)
		unlink_entry(c, f);
}

static int entry_of_fd(struct nem_lf_cache *c, int fd, bool create, struct lf_file **out)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	*out = lookup(c, st.st_dev, st.st_ino, create);
	if (create && !*out)
		return -ENOMEM;
	return 0;
}

/* First unsynced change: take our own read-write fd on the inode and
 * snapshot its durable size. */
static int make_dirty(struct nem_lf_cache *c, struct lf_file *f, int fd)
{
	if (f->dirty)
		return 0;
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	int own = open(proc, O_RDWR | O_CLOEXEC);
	if (own < 0)
		return -errno;
	struct stat st;
	if (fstat(own, &st) < 0) {
		int e = errno;
		close(own);
		return -e;
	}
	f->fd = own;
	f->size = f->floor = st.st_size;
	f->dirty = true;
	c->dirty_files++;
	return 0;
}

/* Fills buf[0, n) with the durable view of [off, off+n): backing bytes below
 * floor, zeros elsewhere. */
static int read_backing(const struct lf_file *f, uint8_t *buf, size_t n, off_t off)
{
	size_t got = 0;
	while (got < n && off + (off_t)got < f->floor) {
		size_t want = n - got;
		if (off + (off_t)got + (off_t)want > f->floor)
			want = (size_t)(f->floor - off - (off_t)got);
		ssize_t r = pread(f->fd, buf + got, want, off + (off_t)got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	memset(buf + got, 0, n - got);
	return 0;
}

static int page_for_write(struct nem_lf_cache *c, struct lf_file *f, uint64_t idx, struct lf_page **out)
{
	struct lf_page *p = pt_find(f, idx);
	if (!p) {
		p = malloc(sizeof *p);
		if (!p)
			return -ENOMEM;
		p->idx = idx;
		int rc = read_backing(f, p->data, NEM_LF_PAGE, (off_t)(idx * NEM_LF_PAGE));
		if (rc == 0)
			rc = pt_insert(f, p);
		if (rc < 0) {
			free(p);
			return rc;
		}
		c->dirty_pages++;
	}
	*out = p;
	return 0;
}

/* ---- API ----------------------------------------------------------------- */

struct nem_lf_cache *nem_lf_cache_new(void)
{
	struct nem_lf_cache *c = calloc(1, sizeof *c);
	if (c)
		pthread_mutex_init(&c->mu, NULL);
	return c;
}

void nem_lf_cache_free(struct nem_lf_cache *c)
{
	if (!c)
		return;
	for (size_t b = 0; b < LF_BUCKETS; b++) {
		while (c->buckets[b]) {
			struct lf_file *f = c->buckets[b];
			make_clean(c, f);
			unlink_entry(c, f);
		}
	}
	pthread_mutex_destroy(&c->mu);
	free(c);
}

int nem_lf_open(struct nem_lf_cache *c, int fd)
{
	pthread_mutex_lock(&c->mu);
	struct lf_file *f;
	int rc = entry_of_fd(c, fd, true, &f);
	if (rc == 0)
		f->opens++;
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int nem_lf_release(struct nem_lf_cache *c, int fd)
{
	pthread_mutex_lock(&c->mu);
	struct lf_file *f;
	int rc = entry_of_fd(c, fd, false, &f);
	if (rc == 0 && f) {
		if (f->opens > 0)
			f->opens--;
		if (f->opens == 0 && f->dirty) {
			/* Unlinked and closed by everyone: nobody can ever read it. */
			struct stat st;
			if (fstat(f->fd, &st) == 0 && st.st_nlink == 0)
				make_clean(c, f);
		}
		maybe_free(c, f);
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

ssize_t nem_lf_read(struct nem_lf_cache *c, int fd, void *buf, size_t len, off_t off)
{
	pthread_mutex_lock(&c->mu);
	struct lf_file *f;
	ssize_t rc = entry_of_fd(c, fd, false, &f);
	if (rc < 0)
		goto out;
	if (!f || !f->dirty) {
		/* Nothing unsynced: the backing file is the truth. */
		pthread_mutex_unlock(&c->mu);
		rc = pread(fd, buf, len, off);
		return rc < 0 ? -errno : rc;
	}
	if (off >= f->size || len == 0) {
		rc = 0;
		goto out;
	}
	size_t n = len;
	if ((off_t)n > f->size - off)
		n = (size_t)(f->size - off);
	rc = read_backing(f, buf, n, off);
	if (rc < 0)
		goto out;
	uint64_t first = (uint64_t)off / NEM_LF_PAGE, last = (uint64_t)(off + (off_t)n - 1) / NEM_LF_PAGE;
	for (uint64_t idx = first; idx <= last; idx++) {
		struct lf_page *p = pt_find(f, idx);
		if (!p)
			continue;
		off_t pstart = (off_t)(idx * NEM_LF_PAGE);
		off_t a = off > pstart ? off : pstart;
		off_t b = off + (off_t)n < pstart + NEM_LF_PAGE ? off + (off_t)n : pstart + NEM_LF_PAGE;
		memcpy((uint8_t *)buf + (a - off), p->data + (a - pstart), (size_t)(b - a));
	}
	rc = (ssize_t)n;
out:
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* The entry of fd, made dirty (its unsynced state tracked from now on), for
 * a change to its data. Called with c->mu held; on failure the entry is
 * released again if nothing else holds it (maybe_free). */
static int dirty_entry(struct nem_lf_cache *c, int fd, struct lf_file **f)
{
	int rc = entry_of_fd(c, fd, true, f);
	if (rc == 0 && (rc = make_dirty(c, *f, fd)) < 0)
		maybe_free(c, *f);
	return rc;
}

ssize_t nem_lf_write(struct nem_lf_cache *c, int fd, const void *buf, size_t len, off_t off)
{
	if (off < 0)
		return -EINVAL;
	if (len == 0)
		return 0;
	pthread_mutex_lock(&c->mu);
	struct lf_file *f;
	ssize_t rc = dirty_entry(c, fd, &f);
	if (rc < 0)
		goto out;
	const uint8_t *src = buf;
	size_t done = 0;
	while (done < len) {
		off_t pos = off + (off_t)done;
		uint64_t idx = (uint64_t)pos / NEM_LF_PAGE;
		size_t in_page = (size_t)(pos % NEM_LF_PAGE);
		size_t chunk = NEM_LF_PAGE - in_page;
		if (chunk > len - done)
			chunk = len - done;
		struct lf_page *p;
		rc = page_for_write(c, f, idx, &p);
		if (rc < 0)
			break;
		memcpy(p->data + in_page, src + done, chunk);
		done += chunk;
	}
	if (off + (off_t)done > f->size)
		f->size = off + (off_t)done;
	rc = done ? (ssize_t)done : rc;
out:
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int nem_lf_truncate(struct nem_lf_cache *c, int fd, off_t size)
{
	if (size < 0)
		return -EINVAL;
	pthread_mutex_lock(&c->mu);
	struct lf_file *f;
	int rc = dirty_entry(c, fd, &f);
	if (rc < 0)
		goto out;
	if (size < f->size) {
		uint64_t keep = ((uint64_t)size + NEM_LF_PAGE - 1) / NEM_LF_PAGE;
		c->dirty_pages -= pt_drop_from(f, keep);
		struct lf_page *p = size % NEM_LF_PAGE ? pt_find(f, (uint64_t)size / NEM_LF_PAGE) : NULL;
		if (p)
			memset(p->data + size % NEM_LF_PAGE, 0, NEM_LF_PAGE - (size_t)(size % NEM_LF_PAGE));
		if (size < f->floor)
			f->floor = size;
		/* The dropped pages count was "keep" pages or more; a size
		 * between pages leaves the partial page's tail zeroed. */
	}
	f->size = size;
	maybe_free(c, f);
out:
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int nem_lf_zero(struct nem_lf_cache *c, int fd, off_t off, off_t len)
{
	if (off < 0 || len < 0)
		return -EINVAL;
	pthread_mutex_lock(&c->mu);
	struct lf_file *f;
	int rc = dirty_entry(c, fd, &f);
	if (rc < 0)
		goto out;
	off_t end = off + len < f->size ? off + len : f->size;
	for (off_t pos = off; pos < end;) {
		uint64_t idx = (uint64_t)pos / NEM_LF_PAGE;
		off_t in_page = pos % NEM_LF_PAGE;
		off_t chunk = NEM_LF_PAGE - in_page;
		if (chunk > end - pos)
			chunk = end - pos;
		struct lf_page *p;
		rc = page_for_write(c, f, idx, &p);
		if (rc < 0)
			break;
		memset(p->data + in_page, 0, (size_t)chunk);
		pos += chunk;
	}
out:
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* Writes f's cached state into its backing file and makes f clean. Returns
 * the fd to fsync (ownership passes to the caller) or a negative errno, in
 * which case f stays dirty. Called with the lock held. */
static int flush_locked(struct nem_lf_cache *c, struct lf_file *f)
{
	struct stat st;
	if (fstat(f->fd, &st) < 0)
		return -errno;
	if (f->floor < st.st_size && ftruncate(f->fd, f->floor) < 0)
		return -errno;
	for (size_t i = 0; i < f->cap; i++) {
		struct lf_page *p = f->slots[i];
		if (!p)
			continue;
		off_t pos = (off_t)(p->idx * NEM_LF_PAGE);
		size_t n = NEM_LF_PAGE;
		if (pos + (off_t)n > f->size)
			n = (size_t)(f->size - pos);
		size_t done = 0;
		while (done < n) {
			ssize_t w = pwrite(f->fd, p->data + done, n - done, pos + (off_t)done);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			done += (size_t)w;
		}
	}
	if (ftruncate(f->fd, f->size) < 0)
		return -errno;
	int fd = f->fd;
	f->fd = -1; /* keep it from make_clean: the caller syncs and closes it */
	make_clean(c, f);
	maybe_free(c, f);
	return fd;
}

int nem_lf_flush(struct nem_lf_cache *c, int fd, int datasync)
{
	pthread_mutex_lock(&c->mu);
	struct lf_file *f;
	int rc = entry_of_fd(c, fd, false, &f);
	int sync_fd = fd, own = 0;
	if (rc == 0 && f && f->dirty) {
		rc = flush_locked(c, f);
		if (rc >= 0) {
			sync_fd = rc;
			own = 1;
			rc = 0;
		}
	}
	pthread_mutex_unlock(&c->mu);
	if (rc < 0)
		return rc;
	/* Outside the lock: other files keep being written while this one
	 * reaches the disk. New writes to this file start a new dirty entry. */
	if ((datasync ? fdatasync(sync_fd) : fsync(sync_fd)) < 0)
		rc = -errno;
	if (own)
		close(sync_fd);
	return rc;
}

void nem_lf_fix_stat(struct nem_lf_cache *c, struct stat *st)
{
	pthread_mutex_lock(&c->mu);
	struct lf_file *f = lookup(c, st->st_dev, st->st_ino, false);
	if (f && f->dirty) {
		st->st_size = f->size;
		blkcnt_t blocks = (f->size + 511) / 512;
		if (st->st_blocks < blocks)
			st->st_blocks = blocks;
	}
	pthread_mutex_unlock(&c->mu);
}

void nem_lf_gc(struct nem_lf_cache *c, dev_t dev, ino_t ino)
{
	pthread_mutex_lock(&c->mu);
	struct lf_file *f = lookup(c, dev, ino, false);
	if (f && f->opens == 0 && f->dirty) {
		struct stat st;
		if (fstat(f->fd, &st) == 0 && st.st_nlink == 0) {
			make_clean(c, f);
			maybe_free(c, f);
		}
	}
	pthread_mutex_unlock(&c->mu);
}

void nem_lf_drop_all(struct nem_lf_cache *c, struct nem_lf_stats *st)
{
	pthread_mutex_lock(&c->mu);
	st->files = c->dirty_files;
	st->dirty_bytes = c->dirty_pages * NEM_LF_PAGE;
	for (size_t b = 0; b < LF_BUCKETS; b++) {
		struct lf_file *f = c->buckets[b];
		while (f) {
			struct lf_file *next = f->next;
			make_clean(c, f);
			maybe_free(c, f);
			f = next;
		}
	}
	pthread_mutex_unlock(&c->mu);
}

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

int nem_lf_drop_partial(struct nem_lf_cache *c, double p, uint64_t seed, struct nem_lf_stats *st,
                        uint64_t *written_back)
{
	int first_err = 0;
	uint64_t kept = 0;
	pthread_mutex_lock(&c->mu);
	st->files = c->dirty_files;
	st->dirty_bytes = c->dirty_pages * NEM_LF_PAGE;
	for (size_t b = 0; b < LF_BUCKETS; b++) {
		struct lf_file *f = c->buckets[b];
		while (f) {
			struct lf_file *next = f->next;
			for (size_t i = 0; f->dirty && i < f->cap; i++) {
				struct lf_page *pg = f->slots[i];
				if (!pg)
					continue;
				uint64_t h = mix64(seed ^ mix64((uint64_t)f->ino * 0x9E3779B97F4A7C15ull ^ pg->idx));
				if ((double)(h >> 11) / 9007199254740992.0 >= p)
					continue;
				off_t pos = (off_t)(pg->idx * NEM_LF_PAGE);
				size_t n = NEM_LF_PAGE;
				if (pos + (off_t)n > f->size)
					n = (size_t)(f->size - pos);
				if (pwrite(f->fd, pg->data, n, pos) != (ssize_t)n) {
					if (!first_err)
						first_err = -errno;
					continue;
				}
				kept++;
			}
			if (f->dirty && fsync(f->fd) < 0 && !first_err)
				first_err = -errno;
			make_clean(c, f);
			maybe_free(c, f);
			f = next;
		}
	}
	pthread_mutex_unlock(&c->mu);
	*written_back = kept;
	return first_err;
}

int nem_lf_flush_all(struct nem_lf_cache *c)
{
	int first_err = 0;
	pthread_mutex_lock(&c->mu);
	for (size_t b = 0; b < LF_BUCKETS; b++) {
		struct lf_file *f = c->buckets[b];
		while (f) {
			struct lf_file *next = f->next;
			if (f->dirty) {
				int fd = flush_locked(c, f);
				if (fd >= 0) {
					if (fsync(fd) < 0 && !first_err)
						first_err = -errno;
					close(fd);
				} else if (!first_err) {
					first_err = fd;
				}
			}
			f = next;
		}
	}
	pthread_mutex_unlock(&c->mu);
	return first_err;
}

/* Appends to buf at *pos, never beyond len - 1 (always terminated). */
static void emit(char *buf, size_t len, size_t *pos, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void emit(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	if (*pos + 1 >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos = *pos + (size_t)n < len ? *pos + (size_t)n : len - 1;
}

static void emit_json_string(char *buf, size_t len, size_t *pos, const char *s)
{
	emit(buf, len, pos, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			emit(buf, len, pos, "\\%c", *p);
		else if (*p < 0x20)
			emit(buf, len, pos, "\\u%04x", *p);
		else
			emit(buf, len, pos, "%c", *p);
	}
	emit(buf, len, pos, "\"");
}

size_t nem_lf_report(struct nem_lf_cache *c, const char *root, unsigned max_files, char *buf, size_t len)
{
	size_t pos = 0, rootlen = strlen(root);
	unsigned shown = 0, more = 0;
	if (len)
		buf[0] = 0;
	emit(buf, len, &pos, "{\"files\":[");
	pthread_mutex_lock(&c->mu);
	for (size_t b = 0; b < LF_BUCKETS; b++) {
		for (struct lf_file *f = c->buckets[b]; f; f = f->next) {
			if (!f->dirty)
				continue;
			if (shown == max_files) {
				more++;
				continue;
			}
			char proc[64], path[4096];
			snprintf(proc, sizeof proc, "/proc/self/fd/%d", f->fd);
			ssize_t n = readlink(proc, path, sizeof path - 1);
			path[n > 0 ? n : 0] = 0;
			const char *rel = path;
			if (!strncmp(path, root, rootlen) && path[rootlen] == '/')
				rel = path + rootlen + 1;
			struct stat st;
			off_t durable = fstat(f->fd, &st) == 0 ? st.st_size : -1;
			emit(buf, len, &pos, "%s{\"path\":", shown ? "," : "");
			emit_json_string(buf, len, &pos, rel);
			emit(buf, len, &pos, ",\"size\":%lld,\"durable_size\":%lld,\"dirty_pages\":%zu", (long long)f->size,
			     (long long)durable, f->count);
			if (f->floor < durable)
				emit(buf, len, &pos, ",\"truncated_to\":%lld", (long long)f->floor);
			emit(buf, len, &pos, "}");
			shown++;
		}
	}
	pthread_mutex_unlock(&c->mu);
	emit(buf, len, &pos, "],\"more\":%u}", more);
	return pos;
}

void nem_lf_get_stats(struct nem_lf_cache *c, struct nem_lf_stats *st)
{
	pthread_mutex_lock(&c->mu);
	st->files = c->dirty_files;
	st->dirty_bytes = c->dirty_pages * NEM_LF_PAGE;
	pthread_mutex_unlock(&c->mu);
}
