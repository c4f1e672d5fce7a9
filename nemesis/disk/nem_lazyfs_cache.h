/* nem_lazyfs_cache.h — the unsynced-data cache behind rapat-lazyfs: per
 * backing inode, the pages written but not yet fsynced, the logical size and
 * the truncation floor; flushed to the backing file by fsync, discarded by a
 * crash. Independent of FUSE so it can be unit-tested on plain files.
 *
 * Model (what a "crash" loses — see docs/nemesis.md):
 *  - file contents written since the file's last fsync/fdatasync: writes,
 *    extensions, truncations (shrinking and growing), fallocate size changes;
 *  - nothing else: namespace operations are applied to the backing directory
 *    at once (as if the directory were always synced).
 * Entries are keyed by the backing inode (st_dev, st_ino), so data follows a
 * file across renames and hard links. A dirty entry holds its own O_RDWR fd
 * on the backing file, which pins the inode (no inode-number reuse while
 * data is cached) and lets "sync" flush files nobody has open.
 *
 * Every function takes the cache's internal lock; all are thread-safe.
 * Functions taking fd: fd is an open descriptor of the backing file (any
 * access mode); the cache finds the entry through fstat(fd).
 * Errors: negative errno (FUSE convention), 0 or a byte count on success.
 */
#ifndef NEM_LAZYFS_CACHE_H
#define NEM_LAZYFS_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define NEM_LF_PAGE 4096

struct nem_lf_cache;

struct nem_lf_stats {
	uint64_t files;        /* files with unsynced data */
	uint64_t dirty_bytes;  /* bytes of cached pages */
};

/* Allocates an empty cache; NULL on out of memory. */
struct nem_lf_cache *nem_lf_cache_new(void);
/* Frees everything WITHOUT flushing (a crash); NULL ok. */
void nem_lf_cache_free(struct nem_lf_cache *c);

/* A handle on the backing file was opened / released. Open counts decide
 * when an unlinked file's data can be forgotten. */
int nem_lf_open(struct nem_lf_cache *c, int fd);
int nem_lf_release(struct nem_lf_cache *c, int fd);

/* pread/pwrite through the cache. read returns bytes read (short only at the
 * logical end of file); write returns len. */
ssize_t nem_lf_read(struct nem_lf_cache *c, int fd, void *buf, size_t len, off_t off);
ssize_t nem_lf_write(struct nem_lf_cache *c, int fd, const void *buf, size_t len, off_t off);
/* Set the logical size (unsynced). */
int nem_lf_truncate(struct nem_lf_cache *c, int fd, off_t size);
/* Zero [off, off+len) without changing the size (fallocate punch hole). */
int nem_lf_zero(struct nem_lf_cache *c, int fd, off_t off, off_t len);
/* Make the file's cached data durable: write it to the backing file, set the
 * backing size, then fsync (datasync: fdatasync) the backing file. */
int nem_lf_flush(struct nem_lf_cache *c, int fd, int datasync);

/* Replace st_size (and st_blocks, when smaller) with the cached values when
 * the inode st describes has unsynced data. */
void nem_lf_fix_stat(struct nem_lf_cache *c, struct stat *st);
/* After an unlink or a rename over (dev, ino): forget the inode's data if
 * nobody has it open and it has no links left. */
void nem_lf_gc(struct nem_lf_cache *c, dev_t dev, ino_t ino);

/* Crash: discard every unsynced change; *st receives what was lost. */
void nem_lf_drop_all(struct nem_lf_cache *c, struct nem_lf_stats *st);
/* Torn crash: before discarding, write back each unsynced page
 * independently with probability p (as if the kernel had flushed part of its
 * dirty pages before the power went out). A written-back page lands clipped
 * to the file's logical size and extends the durable size to cover it;
 * truncations are never applied. Pages are chosen by a hash of (seed, inode,
 * page index). *st receives what was cached; *written_back the pages kept. */
int nem_lf_drop_partial(struct nem_lf_cache *c, double p, uint64_t seed, struct nem_lf_stats *st,
                        uint64_t *written_back);
/* Checkpoint: flush every file (like sync(2)). Returns 0 or the first error. */
int nem_lf_flush_all(struct nem_lf_cache *c);
void nem_lf_get_stats(struct nem_lf_cache *c, struct nem_lf_stats *st);

/* What a crash would lose right now, as one JSON object (no newline) in buf:
 * {"files":[{"path":P,"size":N,"durable_size":D,"dirty_pages":K,
 * "truncated_to":F}],"more":M} — path relative to root (the backing
 * directory's absolute path; "(deleted)" marks an unlinked file), at most
 * max_files entries (M counts the rest). Returns the length written
 * (truncated to len - 1 like snprintf). */
size_t nem_lf_report(struct nem_lf_cache *c, const char *root, unsigned max_files, char *buf, size_t len);

#endif
