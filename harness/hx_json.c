/* hx_json.c — Lua <-> jansson conversion and the hx.json Lua module. */
#include "harness/hx_json.h"
#include "harness/hx_util.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Address of this byte is the null sentinel: unique and never freed. */
static const char hx_json_null_tag;
/* Registry key of the metatable that marks a table as a JSON object. */
static const char hx_json_object_mt_key;

void hx_json_push_null(lua_State *L)
{
	lua_pushlightuserdata(L, (void *)&hx_json_null_tag);
}

int hx_json_is_null(lua_State *L, int idx)
{
	return lua_islightuserdata(L, idx) && lua_touserdata(L, idx) == (void *)&hx_json_null_tag;
}

static int is_object_marked(lua_State *L, int idx)
{
	if (!lua_getmetatable(L, idx))
		return 0;
	lua_rawgetp(L, LUA_REGISTRYINDEX, &hx_json_object_mt_key);
	int same = lua_rawequal(L, -1, -2);
	lua_pop(L, 2);
	return same;
}

/* Length of the table as an array, or -1 when it is not a sequence 1..n. */
static long long array_length(lua_State *L, int idx)
{
	long long n = 0, max = 0;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (!lua_isinteger(L, -1)) {
			lua_pop(L, 1);
			return -1;
		}
		long long k = lua_tointeger(L, -1);
		if (k < 1) {
			lua_pop(L, 1);
			return -1;
		}
		if (k > max)
			max = k;
		n++;
	}
	return n == max ? n : -1;
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Lua tables have no key order (and string hashing is seeded per process),
 * so the same value would be written differently from run to run. Objects
 * get their keys sorted: histories of runs with the same seed compare equal.
 * Takes o, returns the sorted copy (or o itself when it cannot allocate). */
static json_t *sorted_object(json_t *o)
{
	size_t n = json_object_size(o);
	if (n < 2)
		return o;
	const char **keys = malloc(n * sizeof *keys);
	json_t *s = json_object();
	if (!keys || !s) {
		free(keys);
		json_decref(s);
		return o;
	}
	size_t i = 0;
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof *keys, cmp_keys);
	for (i = 0; i < n; i++)
		json_object_set(s, keys[i], json_object_get(o, keys[i]));
	free(keys);
	json_decref(o);
	return s;
}

static json_t *from_lua(lua_State *L, int idx, int depth, char *err, size_t errlen)
{
	idx = lua_absindex(L, idx);
	if (depth > 64) {
		hx_fmt(err, errlen, "value nested deeper than 64 levels (a cycle?)");
		return NULL;
	}
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		return json_null();
	case LUA_TBOOLEAN:
		return json_boolean(lua_toboolean(L, idx));
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			return json_integer(lua_tointeger(L, idx));
		double d = lua_tonumber(L, idx);
		if (!isfinite(d)) {
			hx_fmt(err, errlen, "number %g cannot be represented in JSON", d);
			return NULL;
		}
		/* Integral floats (e.g. 3.0 from arithmetic) are written as integers so
		 * histories compare equal to what servers echo back. */
		if (d == floor(d) && fabs(d) < 9007199254740992.0)
			return json_integer((json_int_t)d);
		return json_real(d);
	case LUA_TSTRING: {
		size_t len;
		const char *s = lua_tolstring(L, idx, &len);
		json_t *j = json_stringn(s, len);
		if (!j)
			hx_fmt(err, errlen, "string is not valid UTF-8");
		return j;
	}
	case LUA_TLIGHTUSERDATA:
		if (hx_json_is_null(L, idx))
			return json_null();
		break;
	case LUA_TTABLE: {
		luaL_checkstack(L, 4, "json");
		/* The workloads' Lua JSON library has its own null: a table whose
		 * metatable is named "json.null". */
		if (luaL_getmetafield(L, idx, "__name") == LUA_TSTRING) {
			int is_null = strcmp(lua_tostring(L, -1), "json.null") == 0;
			lua_pop(L, 1);
			if (is_null)
				return json_null();
		} else {
			/* luaL_getmetafield pushes nothing when the field is absent */
		}
		long long n = is_object_marked(L, idx) ? -1 : array_length(L, idx);
		if (n >= 0) {
			json_t *a = json_array();
			for (long long i = 1; i <= n; i++) {
				lua_rawgeti(L, idx, i);
				json_t *e = from_lua(L, -1, depth + 1, err, errlen);
				lua_pop(L, 1);
				if (!e || json_array_append_new(a, e)) {
					json_decref(a);
					return NULL;
				}
			}
			return a;
		}
		json_t *o = json_object();
		lua_pushnil(L);
		while (lua_next(L, idx)) {
			char kbuf[32];
			const char *k;
			if (lua_type(L, -2) == LUA_TSTRING) {
				k = lua_tostring(L, -2);
			} else if (lua_isinteger(L, -2)) {
				hx_fmt(kbuf, sizeof kbuf, "%lld", (long long)lua_tointeger(L, -2));
				k = kbuf;
			} else {
				hx_fmt(err, errlen, "table key of type %s cannot be a JSON object key",
				         luaL_typename(L, -2));
				lua_pop(L, 2);
				json_decref(o);
				return NULL;
			}
			json_t *e = from_lua(L, -1, depth + 1, err, errlen);
			lua_pop(L, 1);
			if (!e || json_object_set_new(o, k, e)) {
				lua_pop(L, 1);
				json_decref(o);
				return NULL;
			}
		}
		return sorted_object(o);
	}
	default:
		break;
	}
	hx_fmt(err, errlen, "a %s cannot be represented in JSON", luaL_typename(L, idx));
	return NULL;
}

json_t *hx_json_from_lua(lua_State *L, int idx, char *err, size_t errlen)
{
	return from_lua(L, idx, 0, err, errlen);
}

void hx_json_push(lua_State *L, const json_t *v)
{
	luaL_checkstack(L, 4, "json");
	switch (json_typeof(v)) {
	case JSON_NULL:
		hx_json_push_null(L);
		break;
	case JSON_TRUE:
		lua_pushboolean(L, 1);
		break;
	case JSON_FALSE:
		lua_pushboolean(L, 0);
		break;
	case JSON_INTEGER:
		lua_pushinteger(L, (lua_Integer)json_integer_value(v));
		break;
	case JSON_REAL:
		lua_pushnumber(L, json_real_value(v));
		break;
	case JSON_STRING:
		lua_pushlstring(L, json_string_value(v), json_string_length(v));
		break;
	case JSON_ARRAY: {
		size_t i;
		json_t *e;
		lua_createtable(L, (int)json_array_size(v), 0);
		json_array_foreach(v, i, e) {
			hx_json_push(L, e);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		break;
	}
	case JSON_OBJECT: {
		const char *k;
		json_t *e;
		lua_createtable(L, 0, (int)json_object_size(v));
		/* Mark it so an empty object survives a round trip as {}. */
		lua_rawgetp(L, LUA_REGISTRYINDEX, &hx_json_object_mt_key);
		if (lua_istable(L, -1))
			lua_setmetatable(L, -2);
		else
			lua_pop(L, 1);
		json_object_foreach((json_t *)v, k, e) {
			hx_json_push(L, e);
			lua_setfield(L, -2, k);
		}
		break;
	}
	}
}

/* hx.json.encode(v) -> string | nil, msg */
static int l_encode(lua_State *L)
{
	char err[256];
	luaL_checkany(L, 1);
	json_t *j = hx_json_from_lua(L, 1, err, sizeof err);
	if (!j) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
	json_decref(j);
	if (!s)
		return luaL_error(L, "json encode: out of memory");
	lua_pushstring(L, s);
	free(s);
	return 1;
}

/* hx.json.decode(s) -> value | nil, msg */
static int l_decode(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	json_error_t je;
	json_t *j = json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (!j) {
		lua_pushnil(L);
		lua_pushfstring(L, "json decode: %s at line %d column %d", je.text, je.line, je.column);
		return 2;
	}
	hx_json_push(L, j);
	json_decref(j);
	return 1;
}

/* hx.json.object(t) marks t as an object so that {} encodes as {}. */
static int l_object(lua_State *L)
{
	if (lua_isnoneornil(L, 1))
		lua_newtable(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &hx_json_object_mt_key);
	lua_setmetatable(L, 1);
	return 1;
}

int hx_json_open(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &hx_json_object_mt_key);
	if (!lua_istable(L, -1)) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushliteral(L, "json.object");
		lua_setfield(L, -2, "__name");
		lua_rawsetp(L, LUA_REGISTRYINDEX, &hx_json_object_mt_key);
	} else {
		lua_pop(L, 1);
	}
	static const luaL_Reg fns[] = {
		{"encode", l_encode}, {"decode", l_decode}, {"object", l_object}, {NULL, NULL}};
	luaL_newlib(L, fns);
	hx_json_push_null(L);
	lua_setfield(L, -2, "null");
	return 1;
}
