/* hx_check.h — the checker exposed to Lua: hx.check.linearizable(path, opts). */
#ifndef HX_CHECK_H
#define HX_CHECK_H

#include <lua.h>

struct hx_run;

/* Pushes the table {linearizable = fn, available = bool}.
 * hx.check.linearizable(history_path, {model=, time_limit=, threads=})
 *   -> result table (the checker's JSON object: valid, model, ops, keys,
 *      time_s, counterexample, reason) | nil, msg on bad input.
 * Blocks the whole loop while it runs: call it after the workload ended. */
void hx_check_open(lua_State *L, struct hx_run *run);

#endif
