/* hx_lua.c — the Lua side of the runtime: the coroutine scheduler (tasks
 * that yield with lua_yieldk to the libevent loop) and the `hx` module:
 * time, sleep, spawn/join, history recording, HTTP through the one curl
 * multi handle, node control, JSON, the checker. */
#include "harness/hx_run.h"
#include "harness/hx_util.h"
#include "harness/hx_json.h"
#include "harness/hx_net.h"
#include "harness/hx_check.h"
#include "harness/hx_clock.h"
#include "harness/hx_packet.h"
#include "harness/hx_disk.h"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum hx_wait { HX_W_NONE, HX_W_READY, HX_W_SLEEP, HX_W_HTTP, HX_W_JOIN, HX_W_EXIT };

/* A task is a Lua thread run by the scheduler. Its userdata (metatable
 * "hx.task") is the handle returned by hx.spawn; while the task is alive
 * the registry holds it (ref), so an unreferenced task still runs. */
struct hx_task {
	struct hx_run *run;
	lua_State *co;
	int ref;                  /* registry ref of the userdata while alive */
	struct event *timer;      /* start, sleep, deferred wakes, timeouts */
	enum hx_wait wait;
	bool done, ok, woken, interrupted, uninterruptible;
	int wake_nargs;           /* values already pushed on co for the resume */
	struct hx_node *wait_node;
	struct hx_task *joiners[8];
	unsigned n_joiners;
	struct hx_task *next, *prev; /* run->tasks */
};

#define TASK_MT "hx.task"
#define NODE_MT "hx.node"

/* The run is kept as an upvalue-free registry light userdata. */
static const char run_key;
static struct hx_run *run_of(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &run_key);
	struct hx_run *r = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return r;
}

/* The task whose own thread is L, or NULL (main state, or a coroutine the
 * Lua code created itself: yielding there would yield to that coroutine's
 * resumer, not to the scheduler). */
static struct hx_task *task_of(lua_State *L)
{
	struct hx_task *t = *(struct hx_task **)lua_getextraspace(L);
	return t && t->co == L ? t : NULL;
}

static struct hx_task *check_task_ctx(lua_State *L, const char *fn)
{
	struct hx_task *t = task_of(L);
	if (!t)
		luaL_error(L, "%s may only be called from a harness task (hx.spawn), not from the "
		              "main chunk or a nested coroutine", fn);
	return t;
}

static void task_resume(struct hx_task *t, int nargs);

static void on_task_timer(evutil_socket_t fd, short what, void *arg)
{
	struct hx_task *t = arg;
	int nargs = 0;
	switch (t->wait) {
	case HX_W_READY:
		nargs = t->wake_nargs;
		break;
	case HX_W_SLEEP:
		lua_pushboolean(t->co, !t->interrupted);
		nargs = 1;
		break;
	case HX_W_EXIT:
		if (!t->woken && t->wait_node) {
			/* Timed out: leave the node's waiter list. */
			struct hx_node *n = t->wait_node;
			for (unsigned i = 0; i < n->n_exit_waiters; i++)
				if (n->exit_waiters[i] == t) {
					n->exit_waiters[i] = n->exit_waiters[--n->n_exit_waiters];
					break;
				}
		}
		lua_pushboolean(t->co, t->woken);
		nargs = 1;
		break;
	case HX_W_JOIN:
		nargs = 0;
		break;
	default:
		return; /* HTTP waits are resumed by the curl callback */
	}
	task_resume(t, nargs);
}

/* Deferred resume through the loop: never resume a task from inside another
 * task's C call stack. */
static void task_defer(struct hx_task *t)
{
	t->woken = true;
	event_del(t->timer);
	event_active(t->timer, EV_TIMEOUT, 1);
}

void hx_task_wake(struct hx_task *t)
{
	task_defer(t);
}

static void task_unlink(struct hx_task *t)
{
	struct hx_run *run = t->run;
	if (t->prev)
		t->prev->next = t->next;
	else if (run->tasks == t)
		run->tasks = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->next = t->prev = NULL;
}

static void task_finish(struct hx_task *t, int rc, int nres)
{
	lua_State *co = t->co;
	struct hx_run *run = t->run;
	lua_State *L = run->L;
	t->done = true;
	t->ok = rc == LUA_OK;
	t->wait = HX_W_NONE;
	/* Keep the results (or the error with a traceback) in the userdata's
	 * second user value, where join() finds them. */
	lua_rawgeti(L, LUA_REGISTRYINDEX, t->ref);
	if (t->ok) {
		lua_createtable(L, nres, 1);
		for (int i = 1; i <= nres; i++) {
			lua_pushvalue(co, -nres - 1 + i);
			lua_xmove(co, L, 1);
			lua_rawseti(L, -2, i);
		}
		lua_pushinteger(L, nres);
		lua_setfield(L, -2, "n");
	} else {
		const char *msg = lua_tostring(co, -1);
		luaL_traceback(L, co, msg ? msg : "(error object is not a string)", 0);
		lua_createtable(L, 1, 0);
		lua_insert(L, -2);
		lua_setfield(L, -2, "error");
	}
	lua_setiuservalue(L, -2, 2);
	lua_pop(L, 1);
	task_unlink(t);
	for (unsigned i = 0; i < t->n_joiners; i++) {
		t->joiners[i]->wake_nargs = 0;
		task_defer(t->joiners[i]);
	}
	t->n_joiners = 0;
	if (t->timer) {
		event_free(t->timer);
		t->timer = NULL;
	}
	luaL_unref(L, LUA_REGISTRYINDEX, t->ref);
	t->ref = LUA_NOREF;
}

static void task_resume(struct hx_task *t, int nargs)
{
	int nres = 0;
	t->wait = HX_W_NONE;
	t->woken = false;
	t->interrupted = false;
	int rc = lua_resume(t->co, t->run->L, nargs, &nres);
	if (rc == LUA_YIELD) {
		lua_pop(t->co, nres);
		if (t->wait == HX_W_NONE) {
			/* A bare coroutine.yield() at task level: nobody would ever resume
			 * it. Fail the task loudly rather than hang. */
			lua_pushstring(t->co, "task yielded outside the harness's I/O functions "
			                      "(coroutine.yield at task level is not allowed)");
			task_finish(t, LUA_ERRRUN, 0);
		}
		return;
	}
	task_finish(t, rc, rc == LUA_OK ? nres : 0);
}

/* hx.spawn(fn, ...) -> task. The task starts on the next loop turn. */
static int l_spawn(lua_State *L)
{
	struct hx_run *run = run_of(L);
	luaL_checktype(L, 1, LUA_TFUNCTION);
	int nargs = lua_gettop(L) - 1;
	struct hx_task *t = lua_newuserdatauv(L, sizeof *t, 2);
	memset(t, 0, sizeof *t);
	t->run = run;
	t->ref = LUA_NOREF;
	luaL_setmetatable(L, TASK_MT);
	t->co = lua_newthread(L);
	lua_setiuservalue(L, -2, 1); /* the userdata keeps its thread alive */
	*(struct hx_task **)lua_getextraspace(t->co) = t;
	t->timer = evtimer_new(run->base, on_task_timer, t);
	if (!t->timer)
		return luaL_error(L, "hx.spawn: evtimer_new failed");
	for (int i = 1; i <= nargs + 1; i++)
		lua_pushvalue(L, i);
	lua_xmove(L, t->co, nargs + 1);
	lua_pushvalue(L, -1);
	t->ref = luaL_ref(L, LUA_REGISTRYINDEX);
	t->next = run->tasks;
	if (run->tasks)
		run->tasks->prev = t;
	run->tasks = t;
	t->wait = HX_W_READY;
	t->wake_nargs = nargs;
	task_defer(t);
	return 1;
}

static int task_gc(lua_State *L)
{
	struct hx_task *t = luaL_checkudata(L, 1, TASK_MT);
	if (t->timer) {
		event_free(t->timer);
		t->timer = NULL;
	}
	return 0;
}

/* Pushes join's results: true, results... | false, error. */
static int push_join_result(lua_State *L, int idx)
{
	lua_getiuservalue(L, idx, 2);
	lua_getfield(L, -1, "error");
	if (!lua_isnil(L, -1)) {
		lua_pushboolean(L, 0);
		lua_insert(L, -2);
		return 2;
	}
	lua_pop(L, 1);
	lua_getfield(L, -1, "n");
	int n = (int)lua_tointeger(L, -1);
	lua_pop(L, 1);
	luaL_checkstack(L, n + 1, "join");
	lua_pushboolean(L, 1);
	for (int i = 1; i <= n; i++)
		lua_rawgeti(L, -1 - i, i);
	return n + 1;
}

static int join_k(lua_State *L, int status, lua_KContext ctx)
{
	return push_join_result(L, 1);
}

/* task:join() -> true, results... | false, err. Yields until the task ends. */
static int l_task_join(lua_State *L)
{
	struct hx_task *target = luaL_checkudata(L, 1, TASK_MT);
	lua_settop(L, 1);
	if (target->done)
		return push_join_result(L, 1);
	struct hx_task *self = check_task_ctx(L, "task:join");
	if (self == target)
		return luaL_error(L, "task:join: a task cannot join itself");
	if (target->n_joiners >= sizeof target->joiners / sizeof target->joiners[0])
		return luaL_error(L, "task:join: too many joiners");
	target->joiners[target->n_joiners++] = self;
	self->wait = HX_W_JOIN;
	return lua_yieldk(L, 0, 0, join_k);
}

static int l_task_done(lua_State *L)
{
	struct hx_task *t = luaL_checkudata(L, 1, TASK_MT);
	lua_pushboolean(L, t->done);
	return 1;
}

static int sleep_k(lua_State *L, int status, lua_KContext ctx)
{
	return 1; /* the boolean pushed by the timer */
}

/* hx.sleep(seconds) -> true, or false when cut short by a stop request. */
static int l_sleep(lua_State *L)
{
	double s = luaL_checknumber(L, 1);
	luaL_argcheck(L, s >= 0 && isfinite(s), 1, "sleep needs a finite, non-negative time");
	struct hx_task *t = check_task_ctx(L, "hx.sleep");
	struct hx_run *run = t->run;
	if (run->stopping && s > 0 && !lua_toboolean(L, 2)) {
		/* Sleeping after a stop request only delays shutdown; return now. */
		lua_pushboolean(L, 0);
		return 1;
	}
	struct timeval tv = {(time_t)s, (suseconds_t)((s - floor(s)) * 1e6)};
	t->wait = HX_W_SLEEP;
	t->interrupted = false;
	/* A second argument true makes the sleep uninterruptible (final heal). */
	t->uninterruptible = lua_toboolean(L, 2);
	/* libevent measures timeouts from its cached loop time, which may be
	 * stale by the time this task runs: refresh it so a sleep never ends
	 * early by real time. */
	event_base_update_cache_time(run->base);
	evtimer_add(t->timer, &tv);
	return lua_yieldk(L, 0, 0, sleep_k);
}

void hx_sched_interrupt_sleepers(struct hx_run *run)
{
	for (struct hx_task *t = run->tasks; t; t = t->next)
		if (t->wait == HX_W_SLEEP && !t->uninterruptible) {
			t->interrupted = true;
			event_del(t->timer);
			event_active(t->timer, EV_TIMEOUT, 1);
		}
}

static int l_now(lua_State *L)
{
	struct hx_run *run = run_of(L);
	lua_pushnumber(L, run->hist_open ? hx_history_elapsed(&run->hist) : 0.0);
	return 1;
}

static int l_stopping(lua_State *L)
{
	struct hx_run *run = run_of(L);
	lua_pushboolean(L, run->stopping);
	if (run->stopping) {
		lua_pushstring(L, run->stop_reason);
		return 2;
	}
	return 1;
}

/* hx.stop(reason): ask every task to wind down (as Ctrl-C does). */
static int l_stop(lua_State *L)
{
	struct hx_run *run = run_of(L);
	const char *why = luaL_optstring(L, 1, "stopped");
	if (!run->stopping) {
		run->stopping = true;
		hx_fmt(run->stop_reason, sizeof run->stop_reason, "%s", why);
		hx_sched_interrupt_sleepers(run);
	}
	return 0;
}

static int l_log(lua_State *L)
{
	struct hx_run *run = run_of(L);
	int n = lua_gettop(L); /* before luaL_buffinit, which may push a box */
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, ' ');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	hx_log(run, false, "%s", lua_tostring(L, -1));
	return 0;
}

/* hx.say(...): harness.log and the terminal. */
static int l_say(lua_State *L)
{
	struct hx_run *run = run_of(L);
	lua_concat(L, lua_gettop(L));
	hx_log(run, true, "%s", lua_tostring(L, -1));
	return 0;
}

static json_t *opt_json_field(lua_State *L, int t, const char *field, bool *present)
{
	char err[256];
	lua_getfield(L, t, field);
	*present = !lua_isnil(L, -1);
	if (!*present) {
		lua_pop(L, 1);
		return NULL;
	}
	json_t *j = hx_json_from_lua(L, -1, err, sizeof err);
	lua_pop(L, 1);
	if (!j)
		luaL_error(L, "hx.record: field '%s': %s", field, err);
	return j;
}

static const char *opt_str_field(lua_State *L, int t, const char *field)
{
	lua_getfield(L, t, field);
	const char *s = NULL;
	if (lua_isstring(L, -1))
		s = lua_tostring(L, -1);
	else if (!lua_isnil(L, -1))
		luaL_error(L, "hx.record: field '%s' must be a string", field);
	lua_pop(L, 1); /* the string stays alive: it is referenced by the table */
	return s;
}

/* hx.record{process=, type=, f=, key=, value=, node=, error=} -> index */
static int l_record(lua_State *L)
{
	struct hx_run *run = run_of(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	struct hx_event ev = {0};
	lua_getfield(L, 1, "process");
	if (lua_isinteger(L, -1))
		ev.process = lua_tointeger(L, -1);
	else if (lua_type(L, -1) == LUA_TSTRING)
		ev.process_name = lua_tostring(L, -1);
	else
		return luaL_argerror(L, 1, "process must be an integer or a string");
	lua_pop(L, 1);
	ev.type = opt_str_field(L, 1, "type");
	ev.f = opt_str_field(L, 1, "f");
	if (!ev.type || !ev.f)
		return luaL_argerror(L, 1, "type and f are required");
	if (strcmp(ev.type, "invoke") && strcmp(ev.type, "ok") && strcmp(ev.type, "fail") &&
	    strcmp(ev.type, "info"))
		return luaL_argerror(L, 1, "type must be invoke, ok, fail or info");
	ev.node = opt_str_field(L, 1, "node");
	ev.error = opt_str_field(L, 1, "error");
	bool has_key, has_value;
	json_t *key = opt_json_field(L, 1, "key", &has_key);
	json_t *value = opt_json_field(L, 1, "value", &has_value);
	ev.key = key;
	ev.value = value;
	char err[256];
	long long ix = hx_history_record(&run->hist, &ev, err, sizeof err);
	json_decref(key);
	json_decref(value);
	if (ix < 0)
		return luaL_error(L, "hx.record: %s", err);
	lua_pushinteger(L, ix);
	return 1;
}

/* ---- HTTP ---- */

static void http_done(void *arg, const struct hx_http_response *r)
{
	struct hx_task *t = arg;
	lua_State *co = t->co;
	int n;
	if (r->error == HX_HTTP_OK) {
		lua_pushinteger(co, r->status);
		lua_pushlstring(co, r->body, r->body_len);
		lua_pushnumber(co, r->elapsed_s);
		n = 3;
	} else {
		lua_pushnil(co);
		lua_pushstring(co, hx_http_error_name(r->error));
		lua_pushstring(co, r->message);
		n = 3;
	}
	/* During teardown nobody resumes tasks: the VM is about to close. */
	if (t->run->shutting_down)
		return;
	task_resume(t, n);
}

static int http_k(lua_State *L, int status, lua_KContext ctx)
{
	return 3;
}

/* hx.http.request{method=, url=, body=, headers={...}, timeout=seconds}
 * -> status, body, elapsed | nil, kind, message  (kind: connect, timeout,
 * broken, error). Yields until the answer; raises on bad arguments. */
static int l_http_request(lua_State *L)
{
	struct hx_run *run = run_of(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	struct hx_task *t = check_task_ctx(L, "http.request");
	struct hx_http_request req = {0};
	lua_getfield(L, 1, "url");
	req.url = lua_tostring(L, -1);
	if (!req.url)
		return luaL_argerror(L, 1, "url (a string) is required");
	lua_getfield(L, 1, "method");
	req.method = luaL_optstring(L, -1, "GET");
	lua_getfield(L, 1, "body");
	if (!lua_isnil(L, -1)) {
		if (lua_type(L, -1) != LUA_TSTRING)
			return luaL_argerror(L, 1, "body must be a string");
		req.body = lua_tolstring(L, -1, &req.body_len);
	}
	lua_getfield(L, 1, "timeout");
	double to = luaL_optnumber(L, -1, 5.0);
	req.timeout_ms = (long)(to * 1000.0);
	if (req.timeout_ms < 1)
		req.timeout_ms = 1;
	const char *hdrs[33];
	int nh = 0;
	lua_getfield(L, 1, "headers");
	if (lua_istable(L, -1)) {
		int hi = lua_gettop(L);
		lua_pushnil(L);
		while (lua_next(L, hi)) {
			if (lua_type(L, -2) != LUA_TSTRING || !lua_isstring(L, -1))
				return luaL_argerror(L, 1, "headers must map names to strings");
			if (nh >= 32)
				return luaL_argerror(L, 1, "at most 32 headers");
			const char *name = lua_tostring(L, -2);
			const char *value = lua_tostring(L, -1);
			if (strcasecmp(name, "Content-Type") == 0)
				req.has_content_type = true;
			lua_pushfstring(L, "%s: %s", name, value);
			hdrs[nh++] = lua_tostring(L, -1);
			lua_insert(L, hi); /* keep the string on the stack, below the table */
			hi++;
			lua_pop(L, 1);
		}
	} else if (!lua_isnil(L, -1)) {
		return luaL_argerror(L, 1, "headers must be a table");
	}
	hdrs[nh] = NULL;
	req.headers = hdrs;
	lua_getfield(L, 1, "ca_file");
	req.ca_file = lua_tostring(L, -1);
	lua_getfield(L, 1, "cert_file");
	req.cert_file = lua_tostring(L, -1);
	lua_getfield(L, 1, "key_file");
	req.key_file = lua_tostring(L, -1);
	char err[256];
	if (hx_http_request(run->http, &req, http_done, t, err, sizeof err) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, "error");
		lua_pushstring(L, err);
		return 3;
	}
	lua_settop(L, 0);
	t->wait = HX_W_HTTP;
	return lua_yieldk(L, 0, 0, http_k);
}

/* ---- nodes ---- */

static struct hx_node *check_node(lua_State *L, int idx)
{
	struct hx_node **p = luaL_checkudata(L, idx, NODE_MT);
	return *p;
}

static int node_index(lua_State *L)
{
	struct hx_node *n = check_node(L, 1);
	const char *k = luaL_checkstring(L, 2);
	if (!strcmp(k, "id"))
		lua_pushstring(L, n->id);
	else if (!strcmp(k, "ip"))
		lua_pushstring(L, n->ip);
	else if (!strcmp(k, "index"))
		lua_pushinteger(L, n->idx + 1);
	else if (!strcmp(k, "client_port"))
		lua_pushinteger(L, n->client_port);
	else if (!strcmp(k, "peer_port"))
		lua_pushinteger(L, n->peer_port);
	else if (!strcmp(k, "dir"))
		lua_pushstring(L, n->dir);
	else if (!strcmp(k, "data_dir"))
		lua_pushfstring(L, "%s/data", n->dir);
	else if (!strcmp(k, "log_path"))
		lua_pushfstring(L, "%s/log", n->dir);
	else if (!strcmp(k, "pid"))
		lua_pushinteger(L, n->pid);
	else if (!strcmp(k, "state"))
		lua_pushstring(L, n->state == HX_NODE_DOWN ? "down" : n->state == HX_NODE_PAUSED ? "paused" : "running");
	else if (!strcmp(k, "unexpected_exits"))
		lua_pushinteger(L, n->unexpected_exits);
	else {
		/* methods */
		luaL_getmetatable(L, NODE_MT);
		lua_getfield(L, -1, "methods");
		lua_getfield(L, -1, k);
	}
	return 1;
}

/* A NULL-terminated char* array from the list (or K=V map when kv) at t.
 * The array is a userdata and every string is anchored in the table at
 * anchor, so Lua frees all of it and nothing dangles until both go. */
static const char **string_list(lua_State *L, int t, int anchor, const char *what, bool kv)
{
	int n = 0;
	lua_pushnil(L);
	while (lua_next(L, t)) {
		n++;
		lua_pop(L, 1);
	}
	const char **list = lua_newuserdatauv(L, sizeof(char *) * (size_t)(n + 1), 0);
	lua_rawseti(L, anchor, (lua_Integer)lua_rawlen(L, anchor) + 1);
	int i = 0;
	if (!kv) {
		for (i = 0; i < n; i++) {
			lua_rawgeti(L, t, i + 1);
			if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
				luaL_error(L, "node:spawn: %s[%d] must be a string", what, i + 1);
			lua_pushstring(L, lua_tostring(L, -1));
			list[i] = lua_tostring(L, -1);
			lua_rawseti(L, anchor, (lua_Integer)lua_rawlen(L, anchor) + 1);
			lua_pop(L, 1);
		}
	} else {
		lua_pushnil(L);
		while (lua_next(L, t)) {
			if (lua_type(L, -2) != LUA_TSTRING)
				luaL_error(L, "node:spawn: %s keys must be strings", what);
			/* Separate statements: the order in which C evaluates call
			 * arguments is unspecified, and luaL_tolstring pushes. */
			const char *k = lua_tostring(L, -2);
			const char *v = luaL_tolstring(L, -1, NULL);
			lua_pushfstring(L, "%s=%s", k, v);
			list[i++] = lua_tostring(L, -1);
			lua_rawseti(L, anchor, (lua_Integer)lua_rawlen(L, anchor) + 1);
			lua_pop(L, 2);
		}
	}
	list[i] = NULL;
	return list;
}

/* node:spawn{argv={...}, env={K=V}} -> true | nil, err. Raises on a
 * malformed table (a programmer error in the adapter or runner). */
static int node_spawn(lua_State *L)
{
	struct hx_run *run = run_of(L);
	struct hx_node *n = check_node(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	lua_newtable(L); /* 3: anchor */
	lua_getfield(L, 2, "argv"); /* 4 */
	if (!lua_istable(L, 4) || lua_rawlen(L, 4) == 0)
		return luaL_argerror(L, 2, "argv must be a non-empty list of strings");
	const char **argv = string_list(L, 4, 3, "argv", false);
	lua_getfield(L, 2, "env"); /* 5 */
	const char **env = NULL;
	if (!lua_isnil(L, 5)) {
		if (!lua_istable(L, 5))
			return luaL_argerror(L, 2, "env must be a table of K=V");
		env = string_list(L, 5, 3, "env", true);
	}
	char err[700];
	if (hx_node_spawn(run, n, argv, env, err, sizeof err) != 0) {
		hx_log(run, false, "%s", err);
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int node_sig(lua_State *L, int sig)
{
	struct hx_run *run = run_of(L);
	struct hx_node *n = check_node(L, 1);
	char err[256];
	if (hx_node_signal(run, n, sig, err, sizeof err) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int node_pause(lua_State *L) { return node_sig(L, SIGSTOP); }
static int node_resume(lua_State *L) { return node_sig(L, SIGCONT); }
static int node_terminate(lua_State *L) { return node_sig(L, SIGTERM); }

static int exit_k(lua_State *L, int status, lua_KContext ctx)
{
	if (lua_toboolean(L, -1))
		return 1;
	lua_pushnil(L);
	lua_pushstring(L, "node did not exit in time");
	return 2;
}

/* node:wait_exit(timeout_s) -> true | nil, msg. Yields. */
static int node_wait_exit(lua_State *L)
{
	struct hx_run *run = run_of(L);
	struct hx_node *n = check_node(L, 1);
	double to = luaL_optnumber(L, 2, 10.0);
	struct hx_task *t = check_task_ctx(L, "node:wait_exit");
	hx_nodes_reap(run);
	if (!n->pid) {
		lua_pushboolean(L, 1);
		return 1;
	}
	if (n->n_exit_waiters >= sizeof n->exit_waiters / sizeof n->exit_waiters[0])
		return luaL_error(L, "node:wait_exit: too many waiters on %s", n->id);
	n->exit_waiters[n->n_exit_waiters++] = t;
	t->wait = HX_W_EXIT;
	t->wait_node = n;
	t->woken = false;
	struct timeval tv = {(time_t)to, (suseconds_t)((to - floor(to)) * 1e6)};
	event_base_update_cache_time(run->base);
	evtimer_add(t->timer, &tv);
	return lua_yieldk(L, 0, 0, exit_k);
}

/* node:kill() -> true | nil, err: SIGKILL and wait (bounded) until reaped. */
static int node_kill(lua_State *L)
{
	struct hx_run *run = run_of(L);
	struct hx_node *n = check_node(L, 1);
	char err[256];
	if (!n->pid) {
		lua_pushnil(L);
		lua_pushfstring(L, "node %s is down", n->id);
		return 2;
	}
	if (hx_node_signal(run, n, SIGKILL, err, sizeof err) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_settop(L, 1);
	lua_pushnumber(L, 10.0);
	return node_wait_exit(L);
}

static int node_tostring(lua_State *L)
{
	struct hx_node *n = check_node(L, 1);
	lua_pushfstring(L, "node %s (%s)", n->id, n->ip);
	return 1;
}

/* ---- checker, net, misc ---- */

static int l_set_status(lua_State *L)
{
	struct hx_run *run = run_of(L);
	hx_fmt(run->progress_status, sizeof run->progress_status, "%s", luaL_optstring(L, 1, ""));
	return 0;
}

static int l_counts(lua_State *L)
{
	struct hx_run *run = run_of(L);
	lua_createtable(L, 0, 4);
	lua_pushinteger(L, (lua_Integer)run->hist.counts.invoke);
	lua_setfield(L, -2, "invoke");
	lua_pushinteger(L, (lua_Integer)run->hist.counts.ok);
	lua_setfield(L, -2, "ok");
	lua_pushinteger(L, (lua_Integer)run->hist.counts.fail);
	lua_setfield(L, -2, "fail");
	lua_pushinteger(L, (lua_Integer)run->hist.counts.info);
	lua_setfield(L, -2, "info");
	return 1;
}

static int l_reap(lua_State *L)
{
	hx_nodes_reap(run_of(L));
	return 0;
}

static int open_hx(lua_State *L)
{
	struct hx_run *run = run_of(L);
	static const luaL_Reg fns[] = {
		{"spawn", l_spawn}, {"sleep", l_sleep}, {"now", l_now}, {"stopping", l_stopping},
		{"stop", l_stop}, {"log", l_log}, {"say", l_say}, {"record", l_record},
		{"set_status", l_set_status}, {"counts", l_counts}, {"reap", l_reap},
		{NULL, NULL}};
	luaL_newlib(L, fns);
	hx_json_open(L);
	lua_getfield(L, -1, "null");
	lua_setfield(L, -3, "null");
	lua_setfield(L, -2, "json");
	lua_newtable(L);
	lua_pushcfunction(L, l_http_request);
	lua_setfield(L, -2, "request");
	lua_setfield(L, -2, "http");
	hx_net_open(L, run);
	lua_setfield(L, -2, "net");
	hx_check_open(L, run);
	lua_setfield(L, -2, "check");
	hx_clock_open(L);
	lua_setfield(L, -2, "clock");
	hx_packet_open(L, run);
	lua_setfield(L, -2, "packet");
	hx_disk_open(L, run);
	lua_setfield(L, -2, "disk");
	lua_pushstring(L, run->root);
	lua_setfield(L, -2, "root");
	lua_pushstring(L, run->run_dir);
	lua_setfield(L, -2, "run_dir");
	lua_pushinteger(L, run->seed);
	lua_setfield(L, -2, "seed");
	/* nodes: filled by hx_lua_set_nodes once the lab exists */
	lua_newtable(L);
	lua_setfield(L, -2, "nodes");
	return 1;
}

int hx_lua_open(struct hx_run *run, char *err, size_t errlen)
{
	lua_State *L = luaL_newstate();
	if (!L) {
		hx_fmt(err, errlen, "lua: out of memory");
		return -1;
	}
	run->L = L;
	*(struct hx_task **)lua_getextraspace(L) = NULL;
	luaL_openlibs(L);
	lua_pushlightuserdata(L, run);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &run_key);

	luaL_newmetatable(L, TASK_MT);
	lua_pushcfunction(L, task_gc);
	lua_setfield(L, -2, "__gc");
	lua_newtable(L);
	lua_pushcfunction(L, l_task_join);
	lua_setfield(L, -2, "join");
	lua_pushcfunction(L, l_task_done);
	lua_setfield(L, -2, "done");
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);

	luaL_newmetatable(L, NODE_MT);
	lua_pushcfunction(L, node_index);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, node_tostring);
	lua_setfield(L, -2, "__tostring");
	static const luaL_Reg node_methods[] = {
		{"spawn", node_spawn}, {"kill", node_kill}, {"pause", node_pause},
		{"resume", node_resume}, {"terminate", node_terminate},
		{"wait_exit", node_wait_exit}, {NULL, NULL}};
	luaL_newlib(L, node_methods);
	lua_setfield(L, -2, "methods");
	lua_pop(L, 1);

	/* package.path: the harness library first, then the repository root so
	 * that require("workloads.register") finds workloads/register.lua. */
	lua_getglobal(L, "package");
	lua_pushfstring(L, "%s/harness/lua/?.lua;%s/?.lua;%s/?/init.lua", run->root, run->root,
	                run->root);
	lua_setfield(L, -2, "path");
	lua_pushstring(L, "");
	lua_setfield(L, -2, "cpath");
	lua_getfield(L, -1, "preload");
	lua_pushcfunction(L, open_hx);
	lua_setfield(L, -2, "hx");
	lua_pop(L, 2);
	return 0;
}

/* Called once the lab exists: hx.nodes = { node userdata... } */
void hx_lua_set_nodes(struct hx_run *run)
{
	lua_State *L = run->L;
	lua_getglobal(L, "require");
	lua_pushliteral(L, "hx");
	lua_call(L, 1, 1);
	lua_createtable(L, (int)run->n_nodes, 0);
	for (unsigned i = 0; i < run->n_nodes; i++) {
		struct hx_node **p = lua_newuserdatauv(L, sizeof *p, 0);
		*p = &run->nodes[i];
		luaL_setmetatable(L, NODE_MT);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "nodes");
	lua_pushinteger(L, run->seed);
	lua_setfield(L, -2, "seed");
	lua_pushstring(L, run->run_dir);
	lua_setfield(L, -2, "run_dir");
	lua_pop(L, 1);
}

int hx_lua_run_main(struct hx_run *run, int nargs, char *err, size_t errlen)
{
	lua_State *L = run->L;
	/* Stack: fn, args... -> spawn it as a task. */
	lua_pushcfunction(L, l_spawn);
	lua_insert(L, -(nargs + 2));
	lua_call(L, nargs + 1, 1);
	struct hx_task *t = luaL_checkudata(L, -1, TASK_MT);
	while (!t->done) {
		if (event_base_loop(run->base, EVLOOP_ONCE) < 0) {
			hx_fmt(err, errlen, "event loop failed");
			lua_pop(L, 1);
			return -1;
		}
		if (run->signals >= 2)
			break;
	}
	if (!t->done) {
		hx_fmt(err, errlen, "interrupted twice: abandoning the run");
		lua_pop(L, 1);
		return -1;
	}
	int idx = lua_gettop(L);
	int n = push_join_result(L, idx);
	if (!lua_toboolean(L, -n)) {
		hx_fmt(err, errlen, "%s", lua_tostring(L, -1));
		lua_settop(L, idx - 1);
		return -1;
	}
	/* keep the first result */
	if (n >= 2)
		lua_pushvalue(L, -n + 1);
	else
		lua_pushnil(L);
	lua_replace(L, idx);
	lua_settop(L, idx);
	return 0;
}
