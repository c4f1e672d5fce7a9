/* nem_lazyfs.h — harness API for rapat-lazyfs, the FUSE filesystem that
 * loses unsynced writes: start it over a node's data directory, tell it to
 * drop unsynced data after killing the node, stop it at the end.
 *
 * Harness flow per node (docs/nemesis.md has the full story):
 *   setup:    nem_lazyfs_start({ .mountpoint = data_dir, .ctl_path = ... })
 *             before the node's first start; node processes see data_dir
 *             as usual (same mount namespace).
 *   kill:     SIGKILL the node, reap it, then nem_lazyfs_lose_unsynced()
 *             (record "disk-start"/"disk-end" with the stats), then restart.
 *   teardown: nem_lazyfs_stop() (unmounts; a clean unmount makes the
 *             remaining data durable, like umount(8)).
 * One rapat-lazyfs process serves one mount; it needs /dev/fuse and root
 * (or a user namespace that may mount FUSE, or fusermount3).
 *
 * Errors: int return, 0 = ok, -1 with a message in err (errlen bytes).
 * Blocking: every call blocks (bounded by its timeout); run them from the
 * harness's blocking-work context, not inside a latency-critical callback.
 */
#ifndef NEM_LAZYFS_H
#define NEM_LAZYFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct nem_lazyfs_opts {
	const char *binary;      /* path of rapat-lazyfs; NULL = "bin/rapat-lazyfs" */
	const char *mountpoint;  /* the node's data directory (must exist) */
	const char *backing;     /* NULL: mount over mountpoint, keeping its contents
	                          * as the durable store (opened before mounting) */
	const char *ctl_path;    /* unix socket path for commands (< 108 bytes) */
	const char *log_path;    /* stdout+stderr of the daemon; NULL = /dev/null */
	int timeout_ms;          /* how long to wait for the mount; 0 = 10000 */
	int lazy_metadata;       /* also lose namespace operations (creations, links,
	                          * renames, unlinks, rmdirs) not followed by any
	                          * fsync/fdatasync/directory fsync (ext4-like) */
};

struct nem_lazyfs_stats {
	uint64_t files;        /* files that had unsynced data */
	uint64_t dirty_bytes;  /* page-granular bytes of unsynced data */
	unsigned undone_ops;   /* crash, --lazy-metadata: namespace operations undone */
	unsigned failed_undo;  /* ... and undo steps that failed (backing changed behind us) */
	unsigned pending_ops;  /* stats: namespace operations not yet committed */
};

/* Fork+exec the daemon and wait until it answers "ping" (mounted). *pid is
 * the daemon; the caller reaps it (nem_lazyfs_stop does). On failure the
 * daemon is killed and reaped. The daemon gets SIGTERM (a clean unmount)
 * when the calling thread dies: call from a thread that lives for the run.
 * A daemon killed outright (SIGKILL, e.g. with the lab's PID namespace)
 * leaves a dead mount behind unless the mount lives in a mount namespace
 * of the lab's own (see docs/nemesis.md). */
int nem_lazyfs_start(const struct nem_lazyfs_opts *o, pid_t *pid, char *err, size_t errlen);

/* Send one command line ("crash", "crash-partial P SEED", "sync", "stats",
 * "report", "ping") and read the one-line reply (up to 64 KiB) into reply
 * (without the newline). "report" answers "ok {json}": what a crash would
 * lose now, per file — record it with the fault, then send "crash". A reply starting with
 * "error" is returned as -1 with the reply in err. */
int nem_lazyfs_command(const char *ctl_path, const char *cmd, char *reply, size_t replylen,
                       char *err, size_t errlen);

/* "crash": discard every write not yet fsynced; st (may be NULL) receives
 * what was lost. Call after the node's processes are dead. */
int nem_lazyfs_lose_unsynced(const char *ctl_path, struct nem_lazyfs_stats *st, char *err, size_t errlen);
/* "crash-partial P SEED": a torn crash — each unsynced 4 KiB page reaches
 * the disk with probability p (seeded), the rest is lost; *written_back
 * receives the number of pages kept. */
int nem_lazyfs_lose_unsynced_partial(const char *ctl_path, double p, uint64_t seed,
                                     struct nem_lazyfs_stats *st, uint64_t *written_back,
                                     char *err, size_t errlen);
/* "sync": make everything durable (a checkpoint). */
int nem_lazyfs_sync(const char *ctl_path, char *err, size_t errlen);
int nem_lazyfs_stats(const char *ctl_path, struct nem_lazyfs_stats *st, char *err, size_t errlen);

/* SIGTERM the daemon, wait up to timeout_ms (0 = 10000) for it to unmount
 * and exit, then SIGKILL; finally detach the mount if it is still there
 * (umount2 MNT_DETACH), so a dead daemon never leaves a broken mount. */
int nem_lazyfs_stop(pid_t pid, const char *mountpoint, int timeout_ms, char *err, size_t errlen);

#endif
