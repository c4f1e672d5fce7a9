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
/* Partitions through the nemesis library: grudges applied as a diff of fib
 * rules, healed idempotently, and probed on demand. */
#include "nemesis/nem.h"

#include <stdlib.h>

static struct nem_net *get_net(struct hx_run *run, char *err, size_t errlen)
{
	if (run->net)
		return run->net;
	if (!run->lab) {
		hx_fmt(err, errlen, "no lab");
		return NULL;
	}
	struct nem_net *net;
	if (nem_net_new(&net, run->lab, err, errlen) != 0)
		return NULL;
	run->net = net;
	return net;
}

/* Lua grudge table at idx -> struct nem_grudge (shape already checked). */
static void to_grudge(lua_State *L, struct hx_run *run, int idx, struct nem_grudge *g)
{
	nem_grudge_init(g, run->n_nodes);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		int r = node_index_of(run, lua_tostring(L, -2));
		lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
		for (lua_Integer i = 1; i <= n; i++) {
			lua_rawgeti(L, -1, i);
			nem_grudge_drop(g, (unsigned)r, (unsigned)node_index_of(run, lua_tostring(L, -1)));
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	}
}

static void push_grudge(lua_State *L, struct hx_run *run, const struct nem_grudge *g)
{
	lua_newtable(L);
	for (unsigned r = 0; r < g->n; r++) {
		int k = 0;
		for (unsigned s = 0; s < g->n; s++) {
			if (!nem_grudge_drops(g, r, s))
				continue;
			if (k == 0)
				lua_newtable(L);
			lua_pushstring(L, run->nodes[s].id);
			lua_rawseti(L, -2, ++k);
		}
		if (k)
			lua_setfield(L, -2, run->nodes[r].id);
	}
}

static int l_partition(lua_State *L)
{
	struct hx_run *run = net_run(L);
	check_grudge(L, run, 1);
	char err[512];
	struct nem_net *net = get_net(run, err, sizeof err);
	struct nem_grudge g;
	to_grudge(L, run, 1, &g);
	struct nem_net_stats st;
	if (!net || nem_net_apply(net, &g, &st, err, sizeof err) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	hx_log(run, false, "partition applied: %u rules added, %u removed in %.1f ms", st.added,
	       st.removed, (double)st.duration_ns / 1e6);
	lua_pushboolean(L, 1);
	return 1;
}

static int l_heal(lua_State *L)
{
	struct hx_run *run = net_run(L);
	char err[512];
	if (!run->net) {
		lua_pushboolean(L, 1); /* nothing was ever applied */
		return 1;
	}
	struct nem_net_stats st;
	if (nem_net_heal(run->net, &st, err, sizeof err) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	if (st.removed)
		hx_log(run, false, "partition healed: %u rules removed", st.removed);
	lua_pushboolean(L, 1);
	return 1;
}

/* hx.net.topology(name, order) -> grudge table, from nem.h's builders.
 * name: halves | bridge | ring | isolate; order: a list of node ids (a
 * permutation of all nodes for halves/bridge/ring, the node for isolate). */
static int l_topology(lua_State *L)
{
	struct hx_run *run = net_run(L);
	const char *name = luaL_checkstring(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	unsigned order[HX_LAB_MAX_NODES];
	unsigned n = (unsigned)lua_rawlen(L, 2);
	if (n > run->n_nodes)
		return luaL_argerror(L, 2, "more ids than nodes");
	for (unsigned i = 0; i < n; i++) {
		lua_rawgeti(L, 2, (lua_Integer)i + 1);
		int ix = lua_isstring(L, -1) ? node_index_of(run, lua_tostring(L, -1)) : -1;
		lua_pop(L, 1);
		if (ix < 0)
			return luaL_argerror(L, 2, "order must list node ids");
		order[i] = (unsigned)ix;
	}
	struct nem_grudge g;
	if (!strcmp(name, "isolate")) {
		if (n != 1)
			return luaL_argerror(L, 2, "isolate takes one node id");
		nem_grudge_isolate(&g, run->n_nodes, order[0]);
	} else {
		if (n != run->n_nodes)
			return luaL_argerror(L, 2, "order must be a permutation of every node id");
		if (!strcmp(name, "halves"))
			nem_grudge_halves(&g, n, order);
		else if (!strcmp(name, "bridge"))
			nem_grudge_bridge(&g, n, order, NULL);
		else if (!strcmp(name, "ring"))
			nem_grudge_majorities_ring(&g, n, order);
		else
			return luaL_argerror(L, 1, "halves, bridge, ring or isolate");
	}
	push_grudge(L, run, &g);
	return 1;
}

/* hx.net.probe(timeout_s) -> {mismatches=, first_mismatch=, ms=} | nil, err.
 * Blocks the whole loop for up to 1.25 * timeout: use sparingly. */
static int l_probe(lua_State *L)
{
	struct hx_run *run = net_run(L);
	double to = luaL_optnumber(L, 1, 0.5);
	char err[512];
	struct nem_net *net = get_net(run, err, sizeof err);
	struct nem_probe_result res;
	if (!net || nem_net_probe(net, (unsigned)(to * 1000), &res, err, sizeof err) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_createtable(L, 0, 3);
	lua_pushinteger(L, res.mismatches);
	lua_setfield(L, -2, "mismatches");
	lua_pushstring(L, res.first_mismatch);
	lua_setfield(L, -2, "first_mismatch");
	lua_pushnumber(L, (double)res.duration_ns / 1e6);
	lua_setfield(L, -2, "ms");
	return 1;
}

void hx_net_heal_all(struct hx_run *run)
{
	if (run->net)
		nem_net_free(run->net); /* heals, best effort */
	run->net = NULL;
}
#define HX_NET_AVAILABLE 1
#define HX_NET_EXTRA 1
#else
/* Built without the nemesis library: no partitions (plans asking for them
 * are refused at load time because hx.net.available is false). */
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
#ifdef HX_NET_EXTRA
	lua_pushcfunction(L, l_topology);
	lua_setfield(L, -2, "topology");
	lua_pushcfunction(L, l_probe);
	lua_setfield(L, -2, "probe");
#endif
	lua_pushboolean(L, HX_NET_AVAILABLE);
	lua_setfield(L, -2, "available");
}
