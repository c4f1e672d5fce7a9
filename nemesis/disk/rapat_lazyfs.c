/* rapat_lazyfs.c — bin/rapat-lazyfs: a FUSE pass-through filesystem that
 * keeps file data written but not fsynced in memory (nem_lazyfs_cache.h) and
 * discards it on the control socket's "crash" command, to reproduce lost
 * unsynced writes for any implementation. Usage and semantics: --help and
 * docs/nemesis.md; the harness drives it through nem_lazyfs.h. */
#define FUSE_USE_VERSION 312
#include "nemesis/disk/nem_lazyfs.h"
#include "nemesis/disk/nem_lazyfs_cache.h"
#include "nemesis/disk/nem_lazyfs_meta.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

struct lfs {
	int backing_fd;            /* the backing directory, opened before mounting */
	struct nem_lf_cache *cache;
	struct nem_lf_meta *meta;  /* --lazy-metadata: namespace journal, else NULL */
	dev_t root_dev;            /* the backing root, to hide the trash in its listing */
	ino_t root_ino;
	const char *mountpoint;
	char root[4096];           /* the backing directory's path, for reports */
	int ctl_fd;                /* listening control socket */
	pthread_t ctl_thread;
	bool flush_on_exit;
};

static struct lfs *lfs_of_ctx(void)
{
	return fuse_get_context()->private_data;
}

/* FUSE paths are absolute within the mount; the backing calls are *at()
 * relative to backing_fd. */
static const char *rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

static int neg(int rc)
{
	return rc < 0 ? -errno : 0;
}

/* With --lazy-metadata the journal's trash directory does not exist for
 * users of the mount. */
static bool hidden(const struct lfs *l, const char *path)
{
	return l->meta && path && nem_lf_meta_hidden(rel(path));
}

/* Any fsync commits every namespace operation before it (ext4-like). */
static void commit_meta(struct lfs *l)
{
	if (l->meta)
		nem_lf_meta_commit(l->meta);
}

/* Files the daemon creates as root belong to the caller, as on a real fs. */
static void give_fd_to_caller(int fd)
{
	struct fuse_context *ctx = fuse_get_context();
	if (geteuid() == 0)
		(void)!fchown(fd, ctx->uid, ctx->gid);
}

static void give_to_caller(int dirfd, const char *name)
{
	struct fuse_context *ctx = fuse_get_context();
	if (geteuid() == 0)
		(void)!fchownat(dirfd, name, ctx->uid, ctx->gid, AT_SYMLINK_NOFOLLOW);
}

static void *lfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	/* Inode numbers pass through; no attribute, entry or data caching in
	 * the kernel beyond an open file (page cache is dropped on every open),
	 * so after a crash the next open and stat see the durable state. */
	cfg->use_ino = 1;
	cfg->nullpath_ok = 1;
	cfg->hard_remove = 1;
	cfg->attr_timeout = 0;
	cfg->entry_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->kernel_cache = 0;
	cfg->auto_cache = 0;
	cfg->direct_io = 0;
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	return lfs_of_ctx();
}

static void lfs_destroy(void *data)
{
	struct lfs *l = data;
	if (l->flush_on_exit) {
		(void)nem_lf_flush_all(l->cache);
		commit_meta(l);
	}
}

static int lfs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct lfs *l = lfs_of_ctx();
	if (!fi && hidden(l, path))
		return -ENOENT;
	int rc = fi ? fstat((int)fi->fh, st) : fstatat(l->backing_fd, rel(path), st, AT_SYMLINK_NOFOLLOW);
	if (rc < 0)
		return -errno;
	if (S_ISREG(st->st_mode))
		nem_lf_fix_stat(l->cache, st);
	return 0;
}

static int lfs_readlink(const char *path, char *buf, size_t size)
{
	if (hidden(lfs_of_ctx(), path))
		return -ENOENT;
	ssize_t n = readlinkat(lfs_of_ctx()->backing_fd, rel(path), buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

static int lfs_mknod(const char *path, mode_t mode, dev_t rdev)
{
	struct lfs *l = lfs_of_ctx();
	if (l->meta) {
		int rc = nem_lf_meta_create(l->meta, 'n', rel(path), NULL, 0, mode, rdev, NULL);
		if (rc < 0)
			return rc;
	} else if (mknodat(l->backing_fd, rel(path), mode, rdev) < 0)
		return -errno;
	give_to_caller(l->backing_fd, rel(path));
	return 0;
}

static int lfs_mkdir(const char *path, mode_t mode)
{
	struct lfs *l = lfs_of_ctx();
	if (l->meta) {
		int rc = nem_lf_meta_create(l->meta, 'd', rel(path), NULL, 0, mode, 0, NULL);
		if (rc < 0)
			return rc;
	} else if (mkdirat(l->backing_fd, rel(path), mode) < 0)
		return -errno;
	give_to_caller(l->backing_fd, rel(path));
	return 0;
}

static int lfs_unlink(const char *path)
{
	struct lfs *l = lfs_of_ctx();
	if (l->meta)
		return nem_lf_meta_remove(l->meta, rel(path), false); /* data forgotten at commit */
	struct stat st;
	if (fstatat(l->backing_fd, rel(path), &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (unlinkat(l->backing_fd, rel(path), 0) < 0)
		return -errno;
	nem_lf_gc(l->cache, st.st_dev, st.st_ino);
	return 0;
}

static int lfs_rmdir(const char *path)
{
	struct lfs *l = lfs_of_ctx();
	if (l->meta)
		return nem_lf_meta_remove(l->meta, rel(path), true);
	return neg(unlinkat(lfs_of_ctx()->backing_fd, rel(path), AT_REMOVEDIR));
}

static int lfs_symlink(const char *target, const char *path)
{
	struct lfs *l = lfs_of_ctx();
	if (l->meta) {
		int rc = nem_lf_meta_create(l->meta, 'l', rel(path), target, 0, 0, 0, NULL);
		if (rc < 0)
			return rc;
	} else if (symlinkat(target, l->backing_fd, rel(path)) < 0)
		return -errno;
	give_to_caller(l->backing_fd, rel(path));
	return 0;
}

static int lfs_rename(const char *from, const char *to, unsigned int flags)
{
	struct lfs *l = lfs_of_ctx();
	if (l->meta)
		return nem_lf_meta_rename(l->meta, rel(from), rel(to), flags);
	struct stat st;
	bool replaced = !(flags & RENAME_EXCHANGE) &&
	                fstatat(l->backing_fd, rel(to), &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (renameat2(l->backing_fd, rel(from), l->backing_fd, rel(to), flags) < 0)
		return -errno;
	if (replaced)
		nem_lf_gc(l->cache, st.st_dev, st.st_ino);
	return 0;
}

static int lfs_link(const char *from, const char *to)
{
	struct lfs *l = lfs_of_ctx();
	if (l->meta)
		return nem_lf_meta_create(l->meta, 'h', rel(to), rel(from), 0, 0, 0, NULL);
	return neg(linkat(l->backing_fd, rel(from), l->backing_fd, rel(to), 0));
}

static int lfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	if (fi)
		return neg(fchmod((int)fi->fh, mode));
	if (hidden(lfs_of_ctx(), path))
		return -ENOENT;
	return neg(fchmodat(lfs_of_ctx()->backing_fd, rel(path), mode, 0));
}

static int lfs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	if (fi)
		return neg(fchown((int)fi->fh, uid, gid));
	if (hidden(lfs_of_ctx(), path))
		return -ENOENT;
	return neg(fchownat(lfs_of_ctx()->backing_fd, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW));
}

static int lfs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct lfs *l = lfs_of_ctx();
	if (fi)
		return nem_lf_truncate(l->cache, (int)fi->fh, size);
	if (hidden(l, path))
		return -ENOENT;
	int fd = openat(l->backing_fd, rel(path), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	int rc = nem_lf_truncate(l->cache, fd, size);
	close(fd);
	return rc;
}

/* Backing files are opened without O_APPEND/O_TRUNC: the kernel computes
 * append offsets itself and sends truncations as setattr, and our own
 * positional writes must not be redirected to the backing end of file. */
static int open_flags(int flags)
{
	return (flags & (O_ACCMODE | O_NOFOLLOW | O_DIRECTORY)) | O_CLOEXEC;
}

static int lfs_open(const char *path, struct fuse_file_info *fi)
{
	struct lfs *l = lfs_of_ctx();
	if (hidden(l, path))
		return -ENOENT;
	int fd = openat(l->backing_fd, rel(path), open_flags(fi->flags));
	if (fd < 0)
		return -errno;
	int rc = nem_lf_open(l->cache, fd);
	/* With atomic O_TRUNC (libfuse's default) the kernel passes O_TRUNC
	 * here instead of a setattr: the truncation is unsynced like any. */
	if (rc == 0 && (fi->flags & O_TRUNC) && (fi->flags & O_ACCMODE) != O_RDONLY)
		rc = nem_lf_truncate(l->cache, fd, 0);
	if (rc < 0) {
		(void)nem_lf_release(l->cache, fd);
		close(fd);
		return rc;
	}
	fi->fh = (uint64_t)fd;
	fi->keep_cache = 0;
	return 0;
}

static int lfs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct lfs *l = lfs_of_ctx();
	int fd;
	if (l->meta) {
		int rc = nem_lf_meta_create(l->meta, 'f', rel(path), NULL, open_flags(fi->flags) | (fi->flags & O_EXCL),
		                            mode, 0, &fd);
		if (rc < 0)
			return rc;
	} else if ((fd = openat(l->backing_fd, rel(path), open_flags(fi->flags) | O_CREAT | (fi->flags & O_EXCL),
	                        mode)) < 0)
		return -errno;
	give_fd_to_caller(fd);
	int rc = nem_lf_open(l->cache, fd);
	if (rc == 0 && (fi->flags & O_TRUNC))
		rc = nem_lf_truncate(l->cache, fd, 0); /* lost a creation race to an existing file */
	if (rc < 0) {
		(void)nem_lf_release(l->cache, fd);
		close(fd);
		return rc;
	}
	fi->fh = (uint64_t)fd;
	fi->keep_cache = 0;
	return 0;
}

static int lfs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	return (int)nem_lf_read(lfs_of_ctx()->cache, (int)fi->fh, buf, size, off);
}

static int lfs_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	return (int)nem_lf_write(lfs_of_ctx()->cache, (int)fi->fh, buf, size, off);
}

static int lfs_statfs(const char *path, struct statvfs *st)
{
	return neg(fstatvfs(lfs_of_ctx()->backing_fd, st));
}

static int lfs_release(const char *path, struct fuse_file_info *fi)
{
	(void)nem_lf_release(lfs_of_ctx()->cache, (int)fi->fh);
	close((int)fi->fh);
	return 0;
}

static int lfs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	struct lfs *l = lfs_of_ctx();
	int rc = nem_lf_flush(l->cache, (int)fi->fh, datasync);
	if (rc == 0)
		commit_meta(l);
	return rc;
}

static int lfs_opendir(const char *path, struct fuse_file_info *fi)
{
	if (hidden(lfs_of_ctx(), path))
		return -ENOENT;
	int fd = openat(lfs_of_ctx()->backing_fd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return -e;
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	return 0;
}

static int lfs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
                       struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct lfs *l = lfs_of_ctx();
	DIR *d = (DIR *)(uintptr_t)fi->fh;
	struct stat dst;
	bool is_root = l->meta && fstat(dirfd(d), &dst) == 0 && dst.st_dev == l->root_dev &&
	               dst.st_ino == l->root_ino;
	/* Offsets are not passed to filler: libfuse buffers the whole listing,
	 * so every call starts from the beginning. */
	rewinddir(d);
	errno = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (is_root && !strcmp(de->d_name, NEM_LF_TRASH))
			continue;
		struct stat st = { .st_ino = de->d_ino, .st_mode = (mode_t)DTTOIF(de->d_type) };
		if (filler(buf, de->d_name, &st, 0, 0))
			break;
	}
	return -errno;
}

static int lfs_releasedir(const char *path, struct fuse_file_info *fi)
{
	closedir((DIR *)(uintptr_t)fi->fh);
	return 0;
}

static int lfs_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
	int fd = dirfd((DIR *)(uintptr_t)fi->fh);
	int rc = neg(datasync ? fdatasync(fd) : fsync(fd));
	if (rc == 0)
		commit_meta(lfs_of_ctx());
	return rc;
}

static int lfs_access(const char *path, int mask)
{
	if (hidden(lfs_of_ctx(), path))
		return -ENOENT;
	return neg(faccessat(lfs_of_ctx()->backing_fd, rel(path), mask, AT_SYMLINK_NOFOLLOW));
}

static int lfs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	if (fi)
		return neg(futimens((int)fi->fh, tv));
	if (hidden(lfs_of_ctx(), path))
		return -ENOENT;
	return neg(utimensat(lfs_of_ctx()->backing_fd, rel(path), tv, AT_SYMLINK_NOFOLLOW));
}

static int lfs_fallocate(const char *path, int mode, off_t off, off_t len, struct fuse_file_info *fi)
{
	struct lfs *l = lfs_of_ctx();
	int fd = (int)fi->fh;
	if (off < 0 || len <= 0)
		return -EINVAL;
	if (mode == 0) {
		/* Allocation that may grow the file: the size change is unsynced. */
		struct stat st;
		if (fstat(fd, &st) < 0)
			return -errno;
		nem_lf_fix_stat(l->cache, &st);
		if (off + len > st.st_size)
			return nem_lf_truncate(l->cache, fd, off + len);
		return 0;
	}
	if (mode == FALLOC_FL_KEEP_SIZE)
		return 0; /* reserves space only; the contents do not change */
	if (mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) ||
	    mode == (FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE))
		return nem_lf_zero(l->cache, fd, off, len);
	return -EOPNOTSUPP;
}

static const struct fuse_operations lfs_ops = {
	.init = lfs_init,
	.destroy = lfs_destroy,
	.getattr = lfs_getattr,
	.readlink = lfs_readlink,
	.mknod = lfs_mknod,
	.mkdir = lfs_mkdir,
	.unlink = lfs_unlink,
	.rmdir = lfs_rmdir,
	.symlink = lfs_symlink,
	.rename = lfs_rename,
	.link = lfs_link,
	.chmod = lfs_chmod,
	.chown = lfs_chown,
	.truncate = lfs_truncate,
	.open = lfs_open,
	.create = lfs_create,
	.read = lfs_read,
	.write = lfs_write,
	.statfs = lfs_statfs,
	.release = lfs_release,
	.fsync = lfs_fsync,
	.opendir = lfs_opendir,
	.readdir = lfs_readdir,
	.releasedir = lfs_releasedir,
	.fsyncdir = lfs_fsyncdir,
	.access = lfs_access,
	.utimens = lfs_utimens,
	.fallocate = lfs_fallocate,
};

/* ---- control socket ------------------------------------------------------ */

/* Before a crash: make the kernel hand us the dirty pages of shared
 * writable mappings (a killed node's mmap writes), which it would otherwise
 * write back later, or on the next open, after the crash. They arrive as
 * ordinary unsynced writes, served by the FUSE worker threads while this
 * thread waits, and the crash then drops them. */
static void writeback_mount(struct lfs *l)
{
	int fd = open(l->mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		syncfs(fd);
		close(fd);
	}
}

static void ctl_answer(struct lfs *l, const char *cmd, char *reply, size_t len)
{
	struct nem_lf_stats st;
	unsigned undone = 0, failed = 0;
	if (!strcmp(cmd, "crash") || !strcmp(cmd, "lose-unsynced")) {
		/* Data first (entries of files about to vanish go with it), then
		 * the namespace, newest operation first. */
		writeback_mount(l);
		nem_lf_drop_all(l->cache, &st);
		if (l->meta)
			nem_lf_meta_undo(l->meta, &undone, &failed);
		snprintf(reply, len, "ok files=%" PRIu64 " bytes=%" PRIu64 " undone_ops=%u failed_undo=%u\n", st.files,
		         st.dirty_bytes, undone, failed);
	} else if (!strncmp(cmd, "crash-partial ", 14)) {
		double p;
		unsigned long long seed;
		uint64_t kept = 0;
		if (sscanf(cmd + 14, "%lf %llu", &p, &seed) != 2 || !(p >= 0 && p <= 1)) {
			snprintf(reply, len, "error usage: crash-partial P SEED (0 <= P <= 1)\n");
			return;
		}
		writeback_mount(l);
		int rc = nem_lf_drop_partial(l->cache, p, seed, &st, &kept);
		if (l->meta)
			nem_lf_meta_undo(l->meta, &undone, &failed);
		if (rc < 0)
			snprintf(reply, len, "error crash-partial: %s (unsynced data dropped anyway)\n", strerror(-rc));
		else
			snprintf(reply, len,
			         "ok files=%" PRIu64 " bytes=%" PRIu64 " written_back_pages=%" PRIu64
			         " undone_ops=%u failed_undo=%u\n",
			         st.files, st.dirty_bytes, kept, undone, failed);
	} else if (!strcmp(cmd, "sync")) {
		int rc = nem_lf_flush_all(l->cache);
		commit_meta(l);
		if (rc < 0)
			snprintf(reply, len, "error sync: %s\n", strerror(-rc));
		else
			snprintf(reply, len, "ok\n");
	} else if (!strcmp(cmd, "stats")) {
		nem_lf_get_stats(l->cache, &st);
		snprintf(reply, len, "ok files=%" PRIu64 " bytes=%" PRIu64 " pending_ops=%u\n", st.files,
		         st.dirty_bytes, l->meta ? nem_lf_meta_pending(l->meta) : 0);
	} else if (!strcmp(cmd, "report")) {
		/* One line: at most 100 files, capped by the reply buffer. */
		size_t n = nem_lf_report(l->cache, l->root, 100, reply + 3, len - 4);
		memcpy(reply, "ok ", 3);
		reply[3 + n] = '\n';
		reply[4 + n] = 0;
	} else if (!strcmp(cmd, "ping")) {
		snprintf(reply, len, "ok\n");
	} else {
		snprintf(reply, len, "error unknown command '%.64s'\n", cmd);
	}
}

/* One command per connection: read a line, answer a line, close. */
static void *ctl_main(void *arg)
{
	struct lfs *l = arg;
	for (;;) {
		int c = accept4(l->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break; /* shut down by main */
		}
		struct timeval tv = { .tv_sec = 5 };
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		char cmd[128];
		size_t n = 0;
		while (n < sizeof cmd - 1) {
			ssize_t r = read(c, cmd + n, sizeof cmd - 1 - n);
			if (r <= 0)
				break;
			n += (size_t)r;
			if (memchr(cmd, '\n', n))
				break;
		}
		cmd[n] = 0;
		cmd[strcspn(cmd, "\r\n")] = 0;
		static char reply[65536]; /* one control thread */
		ctl_answer(l, cmd, reply, sizeof reply);
		(void)!write(c, reply, strlen(reply));
		close(c);
	}
	return NULL;
}

static int ctl_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "control socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	unlink(path); /* a stale socket from a killed instance */
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0) {
		snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: rapat-lazyfs --ctl SOCKET [--backing DIR] [--lazy-metadata] [--no-flush-on-exit]\n"
	        "                    [--debug] MOUNTPOINT\n"
	        "       rapat-lazyfs --ctl SOCKET --command CMD     (send CMD to a running instance,\n"
	        "                    print the reply; exit 0 on ok, 1 on error)\n"
	        "Mounts a pass-through filesystem over MOUNTPOINT (backed by DIR, default the\n"
	        "directory MOUNTPOINT itself as it was before mounting) that keeps unsynced file\n"
	        "data in memory. Commands on SOCKET, one line per connection:\n"
	        "  crash   discard every write not yet fsynced (reply: ok files=N bytes=M)\n"
	        "  crash-partial P SEED   first write back each unsynced 4 KiB page with\n"
	        "          probability P (torn writes), then discard the rest\n"
	        "  sync    make everything durable\n"
	        "  stats   unsynced files and bytes\n"
	        "  report  what a crash would lose, per file (one JSON line)\n"
	        "  ping    ok once mounted\n"
	        "--lazy-metadata: creations, links, renames, unlinks and rmdirs are undone by a\n"
	        "crash too, unless an fsync/fdatasync/directory fsync came after them (ext4-like).\n"
	        "SIGTERM/SIGINT unmount (after a sync unless --no-flush-on-exit).\n");
}

int main(int argc, char **argv)
{
	const char *backing = NULL, *ctl = NULL, *mnt = NULL, *command = NULL;
	bool flush_on_exit = true, debug = false, lazy_meta = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--backing") && i + 1 < argc)
			backing = argv[++i];
		else if (!strcmp(argv[i], "--ctl") && i + 1 < argc)
			ctl = argv[++i];
		else if (!strcmp(argv[i], "--command") && i + 1 < argc)
			command = argv[++i];
		else if (!strcmp(argv[i], "--lazy-metadata"))
			lazy_meta = true;
		else if (!strcmp(argv[i], "--no-flush-on-exit"))
			flush_on_exit = false;
		else if (!strcmp(argv[i], "--debug"))
			debug = true;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] != '-' && !mnt)
			mnt = argv[i];
		else {
			fprintf(stderr, "rapat-lazyfs: unexpected argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (ctl && command && !mnt) {
		static char reply[65536];
		char cerr[512];
		if (nem_lazyfs_command(ctl, command, reply, sizeof reply, cerr, sizeof cerr) < 0) {
			fprintf(stderr, "rapat-lazyfs: %s\n", cerr);
			return 1;
		}
		printf("%s\n", reply);
		return 0;
	}
	if (!mnt || !ctl || command) {
		usage(stderr);
		return 2;
	}
	umask(0); /* the kernel already applied the caller's umask */
	char err[512];
	struct lfs l = { .flush_on_exit = flush_on_exit, .mountpoint = mnt };
	l.backing_fd = open(backing ? backing : mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l.backing_fd < 0) {
		fprintf(stderr, "rapat-lazyfs: backing directory %s: %s\n", backing ? backing : mnt, strerror(errno));
		return 1;
	}
	l.cache = nem_lf_cache_new();
	if (!l.cache) {
		fprintf(stderr, "rapat-lazyfs: out of memory\n");
		return 1;
	}
	struct stat root;
	if (fstat(l.backing_fd, &root) < 0) {
		fprintf(stderr, "rapat-lazyfs: fstat backing: %s\n", strerror(errno));
		return 1;
	}
	l.root_dev = root.st_dev;
	{
		char proc[64];
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", l.backing_fd);
		ssize_t rn = readlink(proc, l.root, sizeof l.root - 1);
		l.root[rn > 0 ? rn : 0] = 0;
	}
	l.root_ino = root.st_ino;
	if (lazy_meta) {
		int mrc = nem_lf_meta_new(l.backing_fd, l.cache, &l.meta);
		if (mrc < 0) {
			fprintf(stderr, "rapat-lazyfs: namespace journal: %s\n", strerror(-mrc));
			return 1;
		}
	}
	char opts[256];
	snprintf(opts, sizeof opts, "fsname=rapat-lazyfs,subtype=lazyfs,default_permissions%s",
	         geteuid() == 0 ? ",allow_other" : "");
	char *fargv[] = { argv[0], "-o", opts, debug ? "-d" : NULL, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(debug ? 4 : 3, fargv);
	struct fuse *f = fuse_new(&args, &lfs_ops, sizeof lfs_ops, &l);
	fuse_opt_free_args(&args); /* libfuse may have copied them */
	if (!f) {
		fprintf(stderr, "rapat-lazyfs: fuse_new failed\n");
		return 1;
	}
	if (fuse_mount(f, mnt) != 0) {
		fprintf(stderr, "rapat-lazyfs: mount on %s failed (needs /dev/fuse and root or fusermount3)\n", mnt);
		fuse_destroy(f);
		return 1;
	}
	int rc = 1;
	if (fuse_set_signal_handlers(fuse_get_session(f)) != 0) {
		fprintf(stderr, "rapat-lazyfs: cannot install signal handlers\n");
		goto unmount;
	}
	l.ctl_fd = ctl_listen(ctl, err, sizeof err);
	if (l.ctl_fd < 0) {
		fprintf(stderr, "rapat-lazyfs: %s\n", err);
		goto signals;
	}
	if (pthread_create(&l.ctl_thread, NULL, ctl_main, &l) != 0) {
		fprintf(stderr, "rapat-lazyfs: cannot start the control thread\n");
		close(l.ctl_fd);
		goto signals;
	}
	printf("rapat-lazyfs: mounted %s (backing %s), control %s%s\n", mnt, backing ? backing : mnt, ctl,
	       lazy_meta ? ", lazy metadata" : "");
	fflush(stdout);
	/* > 0: ended by a signal (SIGTERM/SIGINT/SIGHUP: a clean stop). */
	rc = fuse_loop_mt(f, NULL) < 0 ? 1 : 0;
	shutdown(l.ctl_fd, SHUT_RDWR);
	pthread_join(l.ctl_thread, NULL);
	close(l.ctl_fd);
	unlink(ctl);
signals:
	fuse_remove_signal_handlers(fuse_get_session(f));
unmount:
	fuse_unmount(f);
	fuse_destroy(f); /* runs lfs_destroy: the final sync */
	nem_lf_meta_free(l.meta);
	nem_lf_cache_free(l.cache);
	close(l.backing_fd);
	return rc;
}
