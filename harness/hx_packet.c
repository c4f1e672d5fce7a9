/* hx_packet.c — hx.packet: start/stop the packet shaper in node namespaces. */
#include "harness/hx_packet.h"
#include "harness/hx_run.h"
#include "harness/hx_util.h"

#include <lauxlib.h>
#include <math.h>
#include <string.h>

#ifdef HX_HAVE_PACKET
#include "harness/lab.h"
#include "nemesis/packet/nem_shaper.h"

static const char packet_run_key;

static struct hx_run *packet_run(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &packet_run_key);
	struct hx_run *r = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return r;
}

static double opt_prob(lua_State *L, const char *field)
{
	lua_getfield(L, 1, field);
	double v = luaL_optnumber(L, -1, 0);
	lua_pop(L, 1);
	if (!(v >= 0 && v <= 1))
		luaL_argerror(L, 1, lua_pushfstring(L, "%s must be a probability 0..1", field));
	return v;
}

static double opt_nonneg(lua_State *L, const char *field)
{
	lua_getfield(L, 1, field);
	double v = luaL_optnumber(L, -1, 0);
	lua_pop(L, 1);
	if (!(v >= 0 && isfinite(v)))
		luaL_argerror(L, 1, lua_pushfstring(L, "%s must be a number >= 0", field));
	return v;
}

static int l_start(lua_State *L)
{
	struct hx_run *run = packet_run(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_getfield(L, 1, "node");
	lua_Integer node = luaL_checkinteger(L, -1);
	lua_pop(L, 1);
	if (!run->lab || node < 1 || (unsigned)node > run->lab->n_nodes)
		return luaL_argerror(L, 1, "node must be a node index 1..n");
	struct nem_shaper_opts o = {0};
	char binary[PATH_MAX + 32];
	hx_fmt(binary, sizeof binary, "%s/bin/rapat-shaper", run->root);
	o.binary = binary;
	lua_getfield(L, 1, "peers");
	if (!lua_istable(L, -1))
		return luaL_argerror(L, 1, "peers must be a list of IPv4 addresses");
	o.n_peers = (unsigned)lua_rawlen(L, -1);
	if (o.n_peers == 0 || o.n_peers > NEM_SHAPER_MAX_PEERS)
		return luaL_argerror(L, 1, "peers: 1..64 addresses");
	for (unsigned i = 0; i < o.n_peers; i++) {
		lua_rawgeti(L, -1, (lua_Integer)i + 1);
		o.peers[i] = lua_tostring(L, -1); /* anchored by the peers table */
		lua_pop(L, 1);
		if (!o.peers[i])
			return luaL_argerror(L, 1, "peers must be strings");
	}
	o.delay_ms = opt_nonneg(L, "delay_ms");
	o.jitter_ms = opt_nonneg(L, "jitter_ms");
	o.rate_kbps = opt_nonneg(L, "rate_kbps");
	o.loss = opt_prob(L, "loss");
	o.duplicate = opt_prob(L, "duplicate");
	o.reorder = opt_prob(L, "reorder");
	o.corrupt = opt_prob(L, "corrupt");
	lua_getfield(L, 1, "seed");
	o.seed = (uint64_t)luaL_optinteger(L, -1, 1);
	lua_getfield(L, 1, "log_path");
	o.log_path = lua_tostring(L, -1);
	/* One queue per namespace; distinct numbers keep logs readable. */
	o.queue = 1000u + (unsigned)node;
	pid_t pid;
	char err[512];
	if (nem_shaper_start(&o, run->lab->nodes[node - 1].netns_fd, &pid, err, sizeof err) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	hx_log(run, false, "packet: shaper pid %d in %s (delay %.0f ms, loss %.2f, duplicate %.2f)", (int)pid,
	       run->lab->nodes[node - 1].id, o.delay_ms, o.loss, o.duplicate);
	lua_pushinteger(L, pid);
	return 1;
}

static int l_stop(lua_State *L)
{
	pid_t pid = (pid_t)luaL_checkinteger(L, 1);
	luaL_argcheck(L, pid > 0, 1, "a shaper pid");
	char err[512];
	if (nem_shaper_stop(pid, err, sizeof err) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

void hx_packet_open(lua_State *L, struct hx_run *run)
{
	lua_pushlightuserdata(L, run);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &packet_run_key);
	lua_newtable(L);
	lua_pushcfunction(L, l_start);
	lua_setfield(L, -2, "start");
	lua_pushcfunction(L, l_stop);
	lua_setfield(L, -2, "stop");
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "available");
}
#else
void hx_packet_open(lua_State *L, struct hx_run *run)
{
	lua_newtable(L);
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "available");
}
#endif
