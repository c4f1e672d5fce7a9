/* srv_snap.h — snapshot files: the state machine image plus its Raft
 * metadata, written atomically (temp file, fsync, rename, fsync directory).
 *
 * File <dir>/snap-<16 hex digit last index>.snap:
 *   "RNSNAP01", u64 last_index, u64 last_term, u64 config_index,
 *   u32 config length, config (srv_wire_config_encode), u64 data length,
 *   data, u32 CRC32C of everything before it. Little-endian.
 * Only the newest snapshot is kept. A damaged newest snapshot is an error
 * (the WAL before it may already be gone), never silently skipped.
 * Blocking file I/O; no state.
 */
#ifndef SRV_SNAP_H
#define SRV_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raftnode/raft.h"

struct srv_snap {
	struct raft_snapshot_meta meta; /* meta.config.servers malloc'd */
	uint8_t *data;                  /* malloc'd */
	size_t len;
};
void srv_snap_free(struct srv_snap *s);

/* Write a snapshot durably (fsync=false skips the syncs), then delete older
 * snapshot files. */
int srv_snap_save(const char *dir, const struct raft_snapshot_meta *meta, const void *data, size_t len, bool fsync,
                  char *err, size_t errlen);
/* Load the newest snapshot in dir. *found=false (and 0) when there is none.
 * Leftover temp files are removed. */
int srv_snap_load(const char *dir, struct srv_snap *out, bool *found, char *err, size_t errlen);
/* Parse a snapshot file image (exposed for tests). */
int srv_snap_parse(const uint8_t *buf, size_t len, struct srv_snap *out, char *err, size_t errlen);

#endif
