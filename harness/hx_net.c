/* hx_net.c — hx.net: grudges from Lua applied through the nemesis library. */
#include "harness/hx_net.h"
#include "harness/hx_util.h"
#include "harness/hx_run.h"

#include <lauxlib.h>
#include <string.h>

static const char net_run_key;

static struct hx_run *net_run(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &net_run_key);
	struct hx_run *r = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return r;
}

static int node_index_of(struct hx_run *run, const char *id)
{
	for (unsigned i = 0; i < run->n_nodes; i++)
		if (strcmp(run->nodes[i].id, id) == 0)
			return (int)i;
	return -1;
}

/* Checks the grudge table shape; raises (programmer error) when malformed. */
static void check_grudge(lua_State *L, struct hx_run *run, int idx)
{
	luaL_checktype(L, idx, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		if (lua_type(L, -2) != LUA_TSTRING || node_index_of(run, lua_tostring(L, -2)) < 0)
			luaL_argerror(L, idx, "grudge keys must be node ids");
		if (!lua_istable(L, -1))
			luaL_argerror(L, idx, "grudge values must be lists of node ids");
		lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
		for (lua_Integer i = 1; i <= n; i++) {
			lua_rawgeti(L, -1, i);
			if (lua_type(L, -1) != LUA_TSTRING || node_index_of(run, lua_tostring(L, -1)) < 0)
				luaL_argerror(L, idx, "grudge values must be lists of node ids");
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	}
}

#ifdef HX_HAVE_NEM
#include "nemesis/nem.h"
#error "hx_net: nem.h binding not written yet"
#else
static int l_partition(lua_State *L)
{
	check_grudge(L, net_run(L), 1);
	lua_pushnil(L);
	lua_pushstring(L, "partitions need the nemesis library (nemesis/nem.h), not built into this rapat");
	return 2;
}

static int l_heal(lua_State *L)
{
	lua_pushboolean(L, 1);
	return 1;
}

void hx_net_heal_all(struct hx_run *run)
{
}
#define HX_NET_AVAILABLE 0
#endif

void hx_net_open(lua_State *L, struct hx_run *run)
{
	lua_pushlightuserdata(L, run);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &net_run_key);
	lua_newtable(L);
	lua_pushcfunction(L, l_partition);
	lua_setfield(L, -2, "partition");
	lua_pushcfunction(L, l_heal);
	lua_setfield(L, -2, "heal");
	lua_pushboolean(L, HX_NET_AVAILABLE);
	lua_setfield(L, -2, "available");
}
