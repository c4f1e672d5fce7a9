/* hx_disk.h — disk faults exposed to Lua as hx.disk: seeded file corruption
 * (nemesis/disk/nem_corrupt.h) of a node's files while the node is down. */
#ifndef HX_DISK_H
#define HX_DISK_H

#include <lua.h>

/* Pushes the table hx.disk:
 *   hx.disk.available                    false when built without nem_corrupt
 *   hx.disk.files(dir) -> {{path=, size=}...} regular files under dir
 *       (recursive, in directory order) | nil, msg
 *   hx.disk.corrupt{path=, mode="truncate"|"bitflip", drop=, count=,
 *                   start=, seed=} -> report table (file, kind, size_before,
 *       size_after, changes) | nil, msg
 * Blocking file I/O (small); never yields. */
void hx_disk_open(lua_State *L);

#endif
