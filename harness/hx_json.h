/* hx_json.h — conversion between Lua values and jansson values, and the
 * Lua module `hx.json` (encode/decode) with the `hx.null` sentinel. */
#ifndef HX_JSON_H
#define HX_JSON_H

#include <jansson.h>
#include <lua.h>
#include <stddef.h>

/* The JSON null as seen from Lua: a light userdata that is stable for the
 * life of the process, so `v == hx.null` works in plans and adapters. */
void hx_json_push_null(lua_State *L);
int hx_json_is_null(lua_State *L, int idx);

/* Convert the Lua value at idx into a new jansson value (caller owns the
 * reference). Tables whose keys are exactly 1..n become arrays (an empty
 * table becomes an empty array unless it carries the hx.json.object
 * marker metatable); other tables become objects with string keys.
 * Returns NULL with err set for functions, userdata, cycles (depth > 64),
 * non-finite numbers and keys that are neither strings nor integers.
 * Never raises. */
json_t *hx_json_from_lua(lua_State *L, int idx, char *err, size_t errlen);

/* Push jansson value v onto L (null → hx.null). Does not steal v.
 * Raises only on Lua memory errors. */
void hx_json_push(lua_State *L, const json_t *v);

/* luaopen-style: pushes the table {encode=, decode=, null=, object=}. */
int hx_json_open(lua_State *L);

#endif
