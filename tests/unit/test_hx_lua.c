/* test_hx_lua.c — runs tests/unit/test_hx_lua.lua (generators, nemesis
 * topologies, plan validation) in a Lua state with the harness's json
 * module and a stand-in `hx` table. */
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness/hx_json.h"

static int open_fake_hx(lua_State *L)
{
	lua_newtable(L);
	hx_json_open(L);
	lua_getfield(L, -1, "null");
	lua_setfield(L, -3, "null");
	lua_setfield(L, -2, "json");
	lua_newtable(L);
	lua_pushboolean(L, 1); /* as if partitions were built in */
	lua_setfield(L, -2, "available");
	lua_setfield(L, -2, "net");
	return 1;
}

int main(int argc, char **argv)
{
	const char *root = getenv("RAPAT_ROOT");
	if (!root)
		root = ".";
	lua_State *L = luaL_newstate();
	luaL_openlibs(L);
	lua_getglobal(L, "package");
	lua_pushfstring(L, "%s/harness/lua/?.lua;%s/?.lua", root, root);
	lua_setfield(L, -2, "path");
	lua_getfield(L, -1, "preload");
	lua_pushcfunction(L, open_fake_hx);
	lua_setfield(L, -2, "hx");
	lua_pop(L, 2);
	lua_pushstring(L, root);
	lua_setglobal(L, "ROOT");
	char path[4096];
	snprintf(path, sizeof path, "%s/tests/unit/test_hx_lua.lua", root);
	if (luaL_dofile(L, path) != LUA_OK) {
		fprintf(stderr, "FAIL: %s\n", lua_tostring(L, -1));
		lua_close(L);
		return 1;
	}
	lua_close(L);
	return 0;
}
