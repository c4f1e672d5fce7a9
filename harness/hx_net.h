/* hx_net.h — network faults exposed to Lua as hx.net: partitions as
 * grudges applied to the lab through the nemesis library (nemesis/nem.h). */
#ifndef HX_NET_H
#define HX_NET_H

#include <lua.h>

struct hx_run;

/* Pushes the table hx.net:
 *   hx.net.partition(grudge) -> true | nil, msg
 *       grudge = { n1 = {"n3","n4"}, ... }: n1 drops packets from n3 and n4.
 *       Replaces any partition in force. Blocks on netlink only (short).
 *   hx.net.heal() -> true | nil, msg      idempotent
 *   hx.net.available                      false when built without nem.h */
void hx_net_open(lua_State *L, struct hx_run *run);

/* Heal everything (teardown, C side). */
void hx_net_heal_all(struct hx_run *run);

#endif
