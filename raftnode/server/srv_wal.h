/* srv_wal.h — the write-ahead log: segment files of checksummed records
 * holding log entries, truncations, resets (after a snapshot install) and
 * term/vote.
 *
 * Files: <dir>/wal-<16 hex digit sequence>.log, each starting with the magic
 * "RNWAL001" and, as its first record, the current term/vote (so that old
 * segments can be deleted without losing the vote). Record = 16-byte header
 * { u32 payload length, u8 type, 3 zero bytes, u32 CRC32C of the first 8
 * header bytes, u32 CRC32C of the payload } + payload, little-endian.
 *
 * Recovery (srv_wal_open): a bad record at the END of the LAST segment (a
 * partial header or payload, or a bad checksum followed by nothing but
 * zeros) is a torn write from a crash: it is cut away and reported through
 * the notice callback. Any other bad record, a missing segment, an index gap
 * or a term going backwards is corruption: an error naming file, offset and
 * field, never a silent reset.
 *
 * Group commit: srv_wal_append and srv_wal_reset only buffer; srv_wal_sync
 * writes everything buffered with one write and one fdatasync. The caller
 * batches all appends of one event-loop iteration, then syncs once.
 *
 * Blocking: open, sync, set_vote, compact do file I/O and block. One caller
 * thread; with opts.async a private worker thread does the write+fdatasync
 * of srv_wal_sync_start batches.
 */
#ifndef SRV_WAL_H
#define SRV_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raftnode/raft.h"
#include "raftnode/server/srv_util.h"

#define SRV_WAL_MAGIC "RNWAL001"
#define SRV_WAL_MAGIC_LEN 8
#define SRV_WAL_HDR 16
#define SRV_WAL_MAX_RECORD (256u << 20)

enum srv_wal_rec {
	SRV_WAL_ENTRY = 1,    /* u64 index, u64 term, u8 entry type, data */
	SRV_WAL_TRUNCATE = 2, /* u64 index: drop entries >= index */
	SRV_WAL_VOTE = 3,     /* u64 term, u64 voted_for */
	SRV_WAL_RESET = 4,    /* u64 index, u64 term: drop all entries; the log
	                       * continues after (index, term), a snapshot */
};

/* What replaying records produced. Entries own their data (malloc). */
struct srv_wal_replay {
	raft_term term;
	raft_id vote;
	raft_index first;           /* index of entries[0] when n > 0 */
	struct raft_entry *entries;
	size_t n, cap;
	raft_index last;            /* last index written (entries or reset) */
	bool have_last;
	raft_index base_index;      /* last RESET: the log continues after it */
	raft_term base_term;
	raft_index seg_max;         /* highest entry index seen in the current segment */
};
void srv_wal_replay_free(struct srv_wal_replay *rp);

/* Parse one segment image (magic + records) and apply its records to rp.
 * Returns 0 when every byte is a valid record; 1 when the segment ends in a
 * torn record (only possible when is_last; *valid_len is where it starts);
 * -1 on corruption or ENOMEM, with err naming offset and field. This is the
 * whole record reader: recovery and the fuzz target both use it. */
int srv_wal_scan(const uint8_t *buf, size_t len, bool is_last, struct srv_wal_replay *rp, size_t *valid_len,
                 char *err, size_t errlen);

struct srv_wal_opts {
	const char *dir;        /* created if missing */
	bool fsync;             /* false = never fdatasync (experiments only) */
	size_t segment_bytes;   /* rotate after this size (0 = 8 MiB) */
	/* Called with a human-readable line for recoverable events (torn tail
	 * cut). May be NULL. */
	void (*notice)(void *ud, const char *msg);
	void *notice_ud;
	/* Start a sync thread for srv_wal_sync_start (see below). */
	bool async;
};

struct srv_wal;

/* Open (or create) the WAL in o->dir and recover it. (snap_index,
 * snap_term) is the last entry covered by the newest snapshot on disk (0, 0
 * if none): loaded entries at or below it are dropped, and those returned
 * in *st start at snap_index+1 — but only if the log continues that
 * snapshot (its entry at snap_index has snap_term, or it was reset to it).
 * A log on another branch (a snapshot taken or installed past what was
 * synced, then a crash) is dropped with a notice and restarts after the
 * snapshot. On success *st is filled (caller frees it with
 * srv_wal_replay_free; the entries can be handed to raft_load). */
int srv_wal_open(struct srv_wal **out, const struct srv_wal_opts *o, raft_index snap_index, raft_term snap_term,
                 struct srv_wal_replay *st, char *err, size_t errlen);
void srv_wal_close(struct srv_wal *w);

/* Buffer entries [first, first+n), truncating >= first first (a TRUNCATE
 * record) when the log already reaches first. Refuses a gap. No I/O. */
int srv_wal_append(struct srv_wal *w, raft_index first, const struct raft_entry *e, unsigned n, char *err,
                   size_t errlen);
/* Buffer a RESET to (index, term): a snapshot covering index was
 * installed; the log continues at index+1. */
int srv_wal_reset(struct srv_wal *w, raft_index index, raft_term term, char *err, size_t errlen);
/* Forget buffered appends not yet handed to a sync (install_snapshot: they
 * may belong to another branch and must not land after the snapshot). */
void srv_wal_discard_pending(struct srv_wal *w);
/* Record term/vote durably: buffers it and syncs everything buffered. */
int srv_wal_set_vote(struct srv_wal *w, raft_term term, raft_id vote, char *err, size_t errlen);
/* Anything buffered? */
bool srv_wal_pending(const struct srv_wal *w);
/* Write all buffered records and fdatasync; then rotate when the segment is
 * full. *durable = last index now on disk. A failure is fatal for the
 * caller (the page cache state after a failed fsync is unknown). */
int srv_wal_sync(struct srv_wal *w, raft_index *durable, char *err, size_t errlen);
/* Background group commit (opts.async): hand everything buffered to the
 * sync thread, which writes and fdatasyncs it while the caller goes on
 * buffering the next batch. No-op when nothing is buffered or a batch is
 * already in flight (start again once it is done). Never blocks. */
int srv_wal_sync_start(struct srv_wal *w, char *err, size_t errlen);
/* Readable when a batch finished: watch it with the event loop. */
int srv_wal_notify_fd(const struct srv_wal *w);
/* On that event: 1 when a batch completed (srv_wal_durable_index moved),
 * 0 when nothing finished, -1 when its write/fsync failed (fatal). */
int srv_wal_poll_done(struct srv_wal *w, char *err, size_t errlen);
/* A batch is in flight (or finished but not yet polled). */
bool srv_wal_busy(const struct srv_wal *w);
/* srv_wal_sync, set_vote and close first wait for a batch in flight, so
 * records always reach the file in the order they were buffered. */

/* Delete closed segments holding no entry (or reset) above upto. A caller
 * with a snapshot at S passes S-1: the entry at S (or the RESET to S) must
 * stay, it is how the next open knows the log continues the snapshot. */
int srv_wal_compact(struct srv_wal *w, raft_index upto, char *err, size_t errlen);
raft_index srv_wal_last_index(const struct srv_wal *w);
/* Last index made durable by a sync (including the sync inside set_vote). */
raft_index srv_wal_durable_index(const struct srv_wal *w);
unsigned srv_wal_segments(const struct srv_wal *w);
/* Statistics for logs/benchmarks: number of syncs and of records synced. */
void srv_wal_stats(const struct srv_wal *w, uint64_t *syncs, uint64_t *records);

#endif
