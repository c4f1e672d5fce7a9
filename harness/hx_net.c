/* hx_net.c — hx.net: grudges from Lua applied through the nemesis library. */
#include "harness/hx_net.h"
#include "harness/hx_util.h"
#include "harness/hx_run.h"

#include <lauxlib.h>
#include <stdlib.h>
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
/* Until the nemesis library (nemesis/nem.h) is linked, partitions are
 * applied here directly, the way STYLE.md describes and lab.h prepares:
 * in the receiving node's namespace a fib rule "from <sender ip> iif eth0
 * blackhole" at a preference below HX_LAB_LOCAL_RULE_PREF drops the
 * sender's packets on arrival, silently (both sides see timeouts). One
 * rule per (receiver, sender) pair: exactly a grudge. */
#include "harness/lab.h"

#include <linux/fib_rules.h>
#include <netlink/addr.h>
#include <netlink/errno.h>
#include <netlink/route/rule.h>
#include <sys/socket.h>

#define HX_NET_RULE_PREF 100

struct hx_net_rule {
	unsigned dst;      /* receiving node (namespace) */
	unsigned src;      /* sender it drops */
};

struct hx_net_state {
	struct hx_net_rule rules[HX_LAB_MAX_NODES * HX_LAB_MAX_NODES];
	unsigned n;
};

static struct rtnl_rule *make_rule(struct hx_run *run, unsigned dst, unsigned src, char *err,
                                   size_t errlen)
{
	struct rtnl_rule *r = rtnl_rule_alloc();
	struct nl_addr *a = NULL;
	char cidr[32];
	hx_fmt(cidr, sizeof cidr, "%s/32", run->lab->nodes[src].ip);
	int rc;
	if (!r || (rc = nl_addr_parse(cidr, AF_INET, &a)) < 0) {
		hx_fmt(err, errlen, "rule for %s: %s", cidr, r ? nl_geterror(rc) : "out of memory");
		rtnl_rule_put(r);
		return NULL;
	}
	rtnl_rule_set_family(r, AF_INET);
	rtnl_rule_set_prio(r, HX_NET_RULE_PREF);
	rtnl_rule_set_src(r, a);
	nl_addr_put(a);
	rtnl_rule_set_iif(r, run->lab->nodes[dst].ifname);
	rtnl_rule_set_action(r, FR_ACT_BLACKHOLE);
	return r;
}

static int heal_all(struct hx_run *run, char *err, size_t errlen)
{
	struct hx_net_state *st = run->net;
	int rc = 0;
	if (!st || !run->lab)
		return 0;
	/* Delete from the end so that a failure leaves a consistent prefix. */
	while (st->n > 0) {
		struct hx_net_rule *x = &st->rules[st->n - 1];
		struct nl_sock *sk = hx_lab_nl_sock(run->lab, x->dst);
		struct rtnl_rule *r = make_rule(run, x->dst, x->src, err, errlen);
		if (!r)
			return -1;
		int e = sk ? rtnl_rule_delete(sk, r, 0) : -NLE_BAD_SOCK;
		rtnl_rule_put(r);
		if (e < 0 && e != -NLE_OBJ_NOTFOUND) {
			hx_fmt(err, errlen, "heal: delete rule in %s (from %s): %s", run->lab->nodes[x->dst].id,
			       run->lab->nodes[x->src].id, nl_geterror(e));
			rc = -1;
			break;
		}
		st->n--;
	}
	return rc;
}

static int l_partition(lua_State *L)
{
	struct hx_run *run = net_run(L);
	check_grudge(L, run, 1);
	char err[512];
	if (!run->lab) {
		lua_pushnil(L);
		lua_pushstring(L, "partition: no lab");
		return 2;
	}
	if (!run->net && !(run->net = calloc(1, sizeof(struct hx_net_state))))
		return luaL_error(L, "partition: out of memory");
	struct hx_net_state *st = run->net;
	if (heal_all(run, err, sizeof err) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		unsigned dst = (unsigned)node_index_of(run, lua_tostring(L, -2));
		lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
		for (lua_Integer i = 1; i <= n; i++) {
			lua_rawgeti(L, -1, i);
			unsigned src = (unsigned)node_index_of(run, lua_tostring(L, -1));
			lua_pop(L, 1);
			struct rtnl_rule *r = make_rule(run, dst, src, err, sizeof err);
			struct nl_sock *sk = hx_lab_nl_sock(run->lab, dst);
			int e = r && sk ? rtnl_rule_add(sk, r, NLM_F_CREATE | NLM_F_EXCL) : -NLE_BAD_SOCK;
			rtnl_rule_put(r);
			if (e < 0) {
				char e2[256];
				hx_fmt(err, sizeof err, "partition: add rule in %s (drop from %s): %s",
				       run->nodes[dst].id, run->nodes[src].id, nl_geterror(e));
				heal_all(run, e2, sizeof e2);
				lua_pushnil(L);
				lua_pushstring(L, err);
				return 2;
			}
			st->rules[st->n].dst = dst;
			st->rules[st->n].src = src;
			st->n++;
		}
		lua_pop(L, 1);
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int l_heal(lua_State *L)
{
	struct hx_run *run = net_run(L);
	char err[512];
	if (heal_all(run, err, sizeof err) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

void hx_net_heal_all(struct hx_run *run)
{
	char err[512];
	if (heal_all(run, err, sizeof err) != 0)
		hx_log(run, true, "%s", err);
	free(run->net);
	run->net = NULL;
}
#define HX_NET_AVAILABLE 1
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
