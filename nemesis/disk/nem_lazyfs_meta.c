/* nem_lazyfs_meta.c — undo journal of namespace operations for rapat-lazyfs
 * --lazy-metadata (contract in nem_lazyfs_meta.h). */
#include "nemesis/disk/nem_lazyfs_meta.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum jop {
	J_CREATED,   /* path was created (is_dir: a directory) */
	J_REMOVED,   /* path was moved to trash */
	J_RENAMED,   /* path -> path2; trash holds what path2 replaced, if any */
	J_EXCHANGED, /* path <-> path2 */
};

struct jent {
	enum jop op;
	bool is_dir;
	char *path, *path2, *trash;
	dev_t dev; /* the trashed entry's inode, for the cache at commit */
	ino_t ino;
};

struct nem_lf_meta {
	pthread_mutex_t mu;
	int bfd;
	struct nem_lf_cache *cache;
	struct jent *v;
	size_t n, cap;
	unsigned long long next_trash;
};

bool nem_lf_meta_hidden(const char *rel)
{
	size_t n = strlen(NEM_LF_TRASH);
	while (*rel == '/')
		rel++;
	return strncmp(rel, NEM_LF_TRASH, n) == 0 && (rel[n] == 0 || rel[n] == '/');
}

/* Removes parent/name and everything below it. */
static void remove_tree(int parent, const char *name)
{
	if (unlinkat(parent, name, 0) == 0 || (errno != EISDIR && errno != EPERM))
		return;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		DIR *d = fdopendir(fd);
		if (d) {
			struct dirent *de;
			while ((de = readdir(d)))
				if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
					remove_tree(dirfd(d), de->d_name);
			closedir(d);
		} else {
			close(fd);
		}
	}
	unlinkat(parent, name, AT_REMOVEDIR);
}

int nem_lf_meta_new(int backing_fd, struct nem_lf_cache *cache, struct nem_lf_meta **out)
{
	/* A trash left by an unclean exit holds removals nobody can undo any
	 * more: they are committed now. */
	remove_tree(backing_fd, NEM_LF_TRASH);
	if (mkdirat(backing_fd, NEM_LF_TRASH, 0700) < 0)
		return -errno;
	struct nem_lf_meta *m = calloc(1, sizeof *m);
	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->mu, NULL);
	m->bfd = backing_fd;
	m->cache = cache;
	*out = m;
	return 0;
}

static void free_entry(struct jent *e)
{
	free(e->path);
	free(e->path2);
	free(e->trash);
}

void nem_lf_meta_free(struct nem_lf_meta *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free_entry(&m->v[i]);
	free(m->v);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static int push(struct nem_lf_meta *m, struct jent e)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct jent *v = realloc(m->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] = e;
	return 0;
}

/* Journals e; on allocation failure the operation stays applied but
 * unjournaled, i.e. committed at once (reported as ENOMEM would undo an
 * operation the caller was told succeeded, which is worse). */
static void journal(struct nem_lf_meta *m, enum jop op, bool is_dir, const char *path, const char *path2,
                    const char *trash, dev_t dev, ino_t ino)
{
	struct jent e = { .op = op, .is_dir = is_dir, .dev = dev, .ino = ino };
	e.path = strdup(path);
	e.path2 = path2 ? strdup(path2) : NULL;
	e.trash = trash ? strdup(trash) : NULL;
	if (!e.path || (path2 && !e.path2) || (trash && !e.trash) || push(m, e) < 0)
		free_entry(&e);
}

int nem_lf_meta_create(struct nem_lf_meta *m, char kind, const char *path, const char *target,
                       int open_flags, mode_t mode, dev_t rdev, int *fd)
{
	if (nem_lf_meta_hidden(path))
		return -EACCES;
	int rc = 0;
	bool journaled = true;
	pthread_mutex_lock(&m->mu);
	switch (kind) {
	case 'f':
		*fd = openat(m->bfd, path, open_flags | O_CREAT | O_EXCL, mode);
		if (*fd < 0 && errno == EEXIST && !(open_flags & O_EXCL)) {
			/* Lost a race with another creator: an open, not a creation. */
			journaled = false;
			*fd = openat(m->bfd, path, open_flags, mode);
		}
		rc = *fd < 0 ? -errno : 0;
		break;
	case 'd':
		rc = mkdirat(m->bfd, path, mode) < 0 ? -errno : 0;
		break;
	case 'l':
		rc = symlinkat(target, m->bfd, path) < 0 ? -errno : 0;
		break;
	case 'n':
		rc = mknodat(m->bfd, path, mode, rdev) < 0 ? -errno : 0;
		break;
	case 'h':
		if (nem_lf_meta_hidden(target))
			rc = -ENOENT;
		else
			rc = linkat(m->bfd, target, m->bfd, path, 0) < 0 ? -errno : 0;
		break;
	default:
		rc = -EINVAL;
	}
	if (rc == 0 && journaled)
		journal(m, J_CREATED, kind == 'd', path, NULL, NULL, 0, 0);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

static int dir_is_empty(int bfd, const char *path)
{
	int fd = openat(bfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return -e;
	}
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			rc = -ENOTEMPTY;
			break;
		}
	closedir(d);
	return rc;
}

/* Moves path into the trash; *trash receives its name there. */
static int to_trash(struct nem_lf_meta *m, const char *path, char *trash, size_t len)
{
	snprintf(trash, len, "%s/%llu", NEM_LF_TRASH, m->next_trash++);
	return renameat(m->bfd, path, m->bfd, trash) < 0 ? -errno : 0;
}

int nem_lf_meta_remove(struct nem_lf_meta *m, const char *path, bool is_dir)
{
	if (nem_lf_meta_hidden(path))
		return -ENOENT;
	struct stat st;
	char trash[64];
	int rc;
	pthread_mutex_lock(&m->mu);
	if (fstatat(m->bfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		rc = -errno;
		goto out;
	}
	/* What unlink(2)/rmdir(2) would refuse, refuse here too. */
	if (is_dir && !S_ISDIR(st.st_mode)) {
		rc = -ENOTDIR;
		goto out;
	}
	if (!is_dir && S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		goto out;
	}
	if (is_dir && (rc = dir_is_empty(m->bfd, path)) < 0)
		goto out;
	rc = to_trash(m, path, trash, sizeof trash);
	if (rc == 0)
		journal(m, J_REMOVED, is_dir, path, NULL, trash, st.st_dev, st.st_ino);
out:
	pthread_mutex_unlock(&m->mu);
	return rc;
}

int nem_lf_meta_rename(struct nem_lf_meta *m, const char *from, const char *to, unsigned flags)
{
	if (nem_lf_meta_hidden(from) || nem_lf_meta_hidden(to))
		return -EACCES;
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	int rc = 0;
	pthread_mutex_lock(&m->mu);
	if (flags & RENAME_EXCHANGE) {
		rc = renameat2(m->bfd, from, m->bfd, to, RENAME_EXCHANGE) < 0 ? -errno : 0;
		if (rc == 0)
			journal(m, J_EXCHANGED, false, from, to, NULL, 0, 0);
		goto out;
	}
	struct stat sf, stt;
	if (fstatat(m->bfd, from, &sf, AT_SYMLINK_NOFOLLOW) < 0) {
		rc = -errno;
		goto out;
	}
	char trash[64];
	bool replaced = false;
	if (fstatat(m->bfd, to, &stt, AT_SYMLINK_NOFOLLOW) == 0) {
		if (flags & RENAME_NOREPLACE) {
			rc = -EEXIST;
			goto out;
		}
		if (sf.st_dev == stt.st_dev && sf.st_ino == stt.st_ino)
			goto out; /* the same file: rename(2) does nothing */
		if (S_ISDIR(sf.st_mode) && !S_ISDIR(stt.st_mode)) {
			rc = -ENOTDIR;
			goto out;
		}
		if (!S_ISDIR(sf.st_mode) && S_ISDIR(stt.st_mode)) {
			rc = -EISDIR;
			goto out;
		}
		if (S_ISDIR(stt.st_mode) && (rc = dir_is_empty(m->bfd, to)) < 0)
			goto out;
		/* The replaced entry goes to the trash first (not atomic with the
		 * rename: a concurrent lookup of `to` may briefly miss). */
		if ((rc = to_trash(m, to, trash, sizeof trash)) < 0)
			goto out;
		replaced = true;
	}
	if (renameat(m->bfd, from, m->bfd, to) < 0) {
		rc = -errno;
		if (replaced)
			renameat(m->bfd, trash, m->bfd, to);
		goto out;
	}
	journal(m, J_RENAMED, S_ISDIR(sf.st_mode), from, to, replaced ? trash : NULL,
	        replaced ? stt.st_dev : 0, replaced ? stt.st_ino : 0);
out:
	pthread_mutex_unlock(&m->mu);
	return rc;
}

void nem_lf_meta_commit(struct nem_lf_meta *m)
{
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < m->n; i++) {
		struct jent *e = &m->v[i];
		if (e->trash) {
			struct stat st;
			bool dir = fstatat(m->bfd, e->trash, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
			unlinkat(m->bfd, e->trash, dir ? AT_REMOVEDIR : 0);
			if (m->cache)
				nem_lf_gc(m->cache, e->dev, e->ino);
		}
		free_entry(e);
	}
	m->n = 0;
	pthread_mutex_unlock(&m->mu);
}

void nem_lf_meta_undo(struct nem_lf_meta *m, unsigned *undone, unsigned *failed)
{
	*undone = *failed = 0;
	pthread_mutex_lock(&m->mu);
	for (size_t i = m->n; i-- > 0;) {
		struct jent *e = &m->v[i];
		int rc = 0;
		switch (e->op) {
		case J_CREATED:
			rc = unlinkat(m->bfd, e->path, e->is_dir ? AT_REMOVEDIR : 0);
			break;
		case J_REMOVED:
			rc = renameat(m->bfd, e->trash, m->bfd, e->path);
			break;
		case J_RENAMED:
			rc = renameat(m->bfd, e->path2, m->bfd, e->path);
			if (rc == 0 && e->trash)
				rc = renameat(m->bfd, e->trash, m->bfd, e->path2);
			break;
		case J_EXCHANGED:
			rc = renameat2(m->bfd, e->path, m->bfd, e->path2, RENAME_EXCHANGE);
			break;
		}
		if (rc == 0)
			(*undone)++;
		else
			(*failed)++;
		free_entry(e);
	}
	m->n = 0;
	pthread_mutex_unlock(&m->mu);
}

unsigned nem_lf_meta_pending(struct nem_lf_meta *m)
{
	pthread_mutex_lock(&m->mu);
	unsigned n = (unsigned)m->n;
	pthread_mutex_unlock(&m->mu);
	return n;
}
