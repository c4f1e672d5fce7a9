/* hx_clock.h — clock faults exposed to Lua as hx.clock: per-node control
 * files of the LD_PRELOAD clock shim (nemesis/clock/nem_clock.h). */
#ifndef HX_CLOCK_H
#define HX_CLOCK_H

#include <lua.h>

/* Pushes the table hx.clock:
 *   hx.clock.available                      false when built without nem_clock
 *   hx.clock.create(path) -> ctl | nil, msg  a control file (offset 0, rate 1,
 *                                            monotonic clocks follow too)
 *   ctl:bump(seconds) / ctl:set(offset_s, rate) / ctl:reset()  -> true | nil, msg
 *   ctl:offset() -> seconds, ctl:rate() -> rate, ctl:close()
 * None of these block or yield (they write a shared memory page). */
void hx_clock_open(lua_State *L);

#endif
