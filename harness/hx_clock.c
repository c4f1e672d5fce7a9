/* hx_clock.c — hx.clock: the clock shim's control files as Lua objects. */
#include "harness/hx_clock.h"
#include "harness/hx_util.h"

#include <lauxlib.h>
#include <math.h>
#include <stdint.h>

#ifdef HX_HAVE_CLOCK
#include "nemesis/clock/nem_clock.h"

#define CLOCK_MT "hx.clock"

struct hx_clock {
	struct nem_clock_ctl *ctl;
};

static struct hx_clock *check_clock(lua_State *L)
{
	struct hx_clock *c = luaL_checkudata(L, 1, CLOCK_MT);
	if (!c->ctl)
		luaL_argerror(L, 1, "clock control is closed");
	return c;
}

static int push_result(lua_State *L, int rc, const char *err)
{
	if (rc != 0) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int64_t to_ns(lua_State *L, int idx)
{
	double s = luaL_checknumber(L, idx);
	luaL_argcheck(L, isfinite(s) && fabs(s) < 1e9, idx, "seconds out of range");
	return (int64_t)(s * 1e9);
}

static int l_create(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct hx_clock *c = lua_newuserdatauv(L, sizeof *c, 0);
	c->ctl = NULL;
	luaL_setmetatable(L, CLOCK_MT);
	char err[512];
	if (nem_clock_ctl_create(path, NEM_CLOCK_F_MONOTONIC, &c->ctl, err, sizeof err) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	return 1;
}

static int l_bump(lua_State *L)
{
	struct hx_clock *c = check_clock(L);
	char err[256];
	return push_result(L, nem_clock_bump(c->ctl, to_ns(L, 2), err, sizeof err), err);
}

static int l_set(lua_State *L)
{
	struct hx_clock *c = check_clock(L);
	double rate = luaL_optnumber(L, 3, 1.0);
	luaL_argcheck(L, rate > 0 && rate <= 1000, 3, "rate must be in (0, 1000]");
	char err[256];
	return push_result(L, nem_clock_set(c->ctl, to_ns(L, 2), rate, err, sizeof err), err);
}

static int l_reset(lua_State *L)
{
	struct hx_clock *c = check_clock(L);
	char err[256];
	return push_result(L, nem_clock_reset(c->ctl, err, sizeof err), err);
}

static int l_offset(lua_State *L)
{
	struct hx_clock *c = check_clock(L);
	lua_pushnumber(L, (double)nem_clock_offset(c->ctl) / 1e9);
	return 1;
}

static int l_rate(lua_State *L)
{
	struct hx_clock *c = check_clock(L);
	lua_pushnumber(L, nem_clock_rate(c->ctl));
	return 1;
}

static int l_close(lua_State *L)
{
	struct hx_clock *c = luaL_checkudata(L, 1, CLOCK_MT);
	nem_clock_ctl_close(c->ctl);
	c->ctl = NULL;
	return 0;
}

void hx_clock_open(lua_State *L)
{
	if (luaL_newmetatable(L, CLOCK_MT)) {
		static const luaL_Reg methods[] = {{"bump", l_bump},     {"set", l_set},
		                                   {"reset", l_reset},   {"offset", l_offset},
		                                   {"rate", l_rate},     {"close", l_close},
		                                   {NULL, NULL}};
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, l_close);
		lua_setfield(L, -2, "__gc");
	}
	lua_pop(L, 1);
	lua_newtable(L);
	lua_pushcfunction(L, l_create);
	lua_setfield(L, -2, "create");
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "available");
}
#else
void hx_clock_open(lua_State *L)
{
	lua_newtable(L);
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "available");
}
#endif
