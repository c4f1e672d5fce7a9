/* hx_packet.h — packet faults exposed to Lua as hx.packet: the NFQUEUE
 * shaper (bin/rapat-shaper, nemesis/packet/nem_shaper.h) run inside a node's
 * network namespace, shaping what that node sends to chosen peers. */
#ifndef HX_PACKET_H
#define HX_PACKET_H

#include <lua.h>

struct hx_run;

/* Pushes the table hx.packet:
 *   hx.packet.available                   false when built without the shaper
 *   hx.packet.start{node = index (1-based), peers = {ip...}, delay_ms=,
 *                   jitter_ms=, loss=, duplicate=, reorder=, corrupt=,
 *                   rate_kbps=, seed=, log_path=} -> pid | nil, msg
 *       Blocks the loop until the shaper's rule is installed (normally a
 *       few ms, at most 10 s).
 *   hx.packet.stop(pid) -> true | nil, msg   (SIGTERM, then SIGKILL after 5 s;
 *       reaps it) */
void hx_packet_open(lua_State *L, struct hx_run *run);

#endif
