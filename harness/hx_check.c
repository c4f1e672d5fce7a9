/* hx_check.c — Lua binding of the linearizability checker (checker/chk.h). */
#include "harness/hx_check.h"
#include "harness/hx_util.h"
#include "harness/hx_json.h"

#include <lauxlib.h>
#include <string.h>

#ifdef HX_HAVE_CHECKER
#include "checker/chk.h"

static int l_linearizable(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct chk_options o = {0};
	o.format = CHK_FORMAT_JSONL;
	if (lua_istable(L, 2)) {
		lua_getfield(L, 2, "model");
		o.model = lua_tostring(L, -1);
		lua_getfield(L, 2, "time_limit");
		o.time_limit_s = luaL_optnumber(L, -1, 0);
		lua_getfield(L, 2, "threads");
		o.threads = (unsigned)luaL_optinteger(L, -1, 0);
	}
	json_t *res = NULL;
	char err[512];
	int rc = chk_check_path(path, &o, &res, err, sizeof err);
	if (!res) {
		lua_pushnil(L);
		lua_pushstring(L, rc == CHK_BAD_INPUT ? err : "checker returned no result");
		return 2;
	}
	hx_json_push(L, res);
	json_decref(res);
	return 1;
}
#define HX_CHECK_AVAILABLE 1
#else
static int l_linearizable(lua_State *L)
{
	lua_pushnil(L);
	lua_pushstring(L, "the linearizability checker (checker/libchecker.a) was not built into this rapat");
	return 2;
}
#define HX_CHECK_AVAILABLE 0
#endif

void hx_check_open(lua_State *L, struct hx_run *run)
{
	lua_newtable(L);
	lua_pushcfunction(L, l_linearizable);
	lua_setfield(L, -2, "linearizable");
	lua_pushboolean(L, HX_CHECK_AVAILABLE);
	lua_setfield(L, -2, "available");
}
