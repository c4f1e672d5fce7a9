/* nem_lazyfs_meta.h — optional namespace journal for rapat-lazyfs
 * (--lazy-metadata): creations, links, renames, unlinks and rmdirs are
 * applied to the backing directory at once (so everyone sees them) but
 * remembered with their inverse until the next commit; a crash undoes the
 * uncommitted ones in reverse order.
 *
 * Commit model (ext4-like, documented in docs/nemesis.md): any fsync,
 * fdatasync or directory fsync through the mount commits every namespace
 * operation issued before it, as ext4's journal commit does. Unlinked and
 * replaced entries are kept in a hidden directory of the backing root
 * (NEM_LF_TRASH) until the commit, so an undone unlink gets its file back.
 *
 * Paths are relative to the backing directory, as rapat-lazyfs uses them.
 * All functions are thread-safe (one internal lock); they return 0 or a
 * negative errno.
 */
#ifndef NEM_LAZYFS_META_H
#define NEM_LAZYFS_META_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "nemesis/disk/nem_lazyfs_cache.h"

#define NEM_LF_TRASH ".rapat-lazyfs-trash"

struct nem_lf_meta;

/* Creates (or empties, after an unclean exit) the trash directory under
 * backing_fd. The cache (may be NULL) is told about inodes whose last link
 * goes away at commit time. */
int nem_lf_meta_new(int backing_fd, struct nem_lf_cache *cache, struct nem_lf_meta **out);
void nem_lf_meta_free(struct nem_lf_meta *m);

/* True for the trash directory and anything under it: hidden from users. */
bool nem_lf_meta_hidden(const char *rel_path);

/* The creating operations, performed and journaled (undo: remove). kind is
 * the operation: 'f' file (openat O_CREAT|O_EXCL, returns the fd through
 * *fd), 'd' mkdir, 'l' symlink (target), 'n' mknod (mode, rdev), 'h' hard link
 * (target = existing path). */
int nem_lf_meta_create(struct nem_lf_meta *m, char kind, const char *path, const char *target,
                       int open_flags, mode_t mode, dev_t rdev, int *fd);
/* unlink (is_dir false) or rmdir (is_dir true; ENOTEMPTY as usual). */
int nem_lf_meta_remove(struct nem_lf_meta *m, const char *path, bool is_dir);
/* rename with renameat2 flags (RENAME_NOREPLACE, RENAME_EXCHANGE). */
int nem_lf_meta_rename(struct nem_lf_meta *m, const char *from, const char *to, unsigned flags);

/* Commit everything journaled so far (deletes the trashed entries). */
void nem_lf_meta_commit(struct nem_lf_meta *m);
/* Crash: undo everything journaled, newest first. *undone and *failed count
 * the steps (a failed step is skipped: something outside the mount changed
 * the backing directory). */
void nem_lf_meta_undo(struct nem_lf_meta *m, unsigned *undone, unsigned *failed);
/* Journaled operations not yet committed. */
unsigned nem_lf_meta_pending(struct nem_lf_meta *m);

#endif
