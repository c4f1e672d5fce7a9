/* hx_disk.h — disk faults exposed to Lua as hx.disk: seeded file corruption
 * (nemesis/disk/nem_corrupt.h) of a node's files while the node is down,
 * and rapat-lazyfs (nemesis/disk/nem_lazyfs.h) under node data directories
 * to lose writes that were not fsynced. */
#ifndef HX_DISK_H
#define HX_DISK_H

#include <lua.h>

struct hx_run;

/* Pushes the table hx.disk:
 *   hx.disk.available                    false when built without nem_corrupt
 *   hx.disk.files(dir) -> {{path=, size=}...} regular files under dir
 *       (recursive, in directory order) | nil, msg
 *   hx.disk.corrupt{path=, mode="truncate"|"bitflip", drop=, count=,
 *                   start=, seed=} -> report table (file, kind, size_before,
 *       size_after, changes) | nil, msg
 *   hx.disk.lazyfs_available             false when built without nem_lazyfs
 *   hx.disk.lazyfs_start{mountpoint=, ctl=, log=, lazy_metadata=}
 *       -> pid | nil, msg: bin/rapat-lazyfs mounted over mountpoint
 *       (created if missing; its contents stay the durable store), ctl its
 *       control socket (< 108 bytes). Unmounted by hx_disk_lazyfs_stop_all.
 *   hx.disk.lazyfs_report(ctl) -> what a crash would lose now
 *       ({files = {{path=, size=, durable_size=, dirty_pages=}...}, more=})
 *   hx.disk.lazyfs_crash(ctl) -> {files=, bytes=, undone_ops=, failed_undo=}:
 *       drop every unsynced write (the node's processes must be dead)
 *   hx.disk.lazyfs_sync(ctl) -> true: make everything durable
 *   (each returns nil, msg on failure)
 * Blocking file I/O and control-socket round trips (small, bounded); never
 * yields. */
void hx_disk_open(lua_State *L, struct hx_run *run);

/* Stops every lazyfs daemon hx.disk.lazyfs_start started (clean unmount,
 * bounded; a dead daemon's mount is detached). Call after the node
 * processes are dead: teardown. */
void hx_disk_lazyfs_stop_all(struct hx_run *run);

#endif
