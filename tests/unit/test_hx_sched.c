/* test_hx_sched.c — the coroutine scheduler and the hx module without a lab:
 * tasks that sleep, join, fail and are interrupted; HTTP through the one
 * curl multi handle against an in-process evhttp server on loopback (ok,
 * keep-alive, timeout, refused). Pure enough for ASan+UBSan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <strings.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/hx_run.h"

struct fixture {
	struct hx_run run;
	struct evhttp *srv;
	int port;
	char tmpdir[64];
};

/* /slow never answers by itself (the client's timeout ends it); anything
 * else answers 200 with the path as body. */
static void serve(struct evhttp_request *req, void *arg)
{
	const char *uri = evhttp_request_get_uri(req);
	if (strcmp(uri, "/slow") == 0)
		return; /* left pending: freed with the server */
	struct evbuffer *b = evbuffer_new();
	if (strcmp(uri, "/hdr") == 0) {
		/* Echo what the client sent: content types (all of them) and X-Test. */
		struct evkeyvalq *in = evhttp_request_get_input_headers(req);
		for (struct evkeyval *kv = in->tqh_first; kv; kv = kv->next.tqe_next)
			if (!strcasecmp(kv->key, "Content-Type") || !strcasecmp(kv->key, "X-Test"))
				evbuffer_add_printf(b, "%s=%s;", kv->key, kv->value);
		evhttp_send_reply(req, 200, "OK", b);
		evbuffer_free(b);
		return;
	}
	evbuffer_add_printf(b, "%s", uri);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);
	struct hx_run *run = &fx->run;
	char err[256];
	const char *root = getenv("RAPAT_ROOT");
	snprintf(run->root, sizeof run->root, "%s", root ? root : ".");
	snprintf(fx->tmpdir, sizeof fx->tmpdir, "/tmp/test_hx_sched_XXXXXX");
	assert_non_null(mkdtemp(fx->tmpdir));
	snprintf(run->run_dir, sizeof run->run_dir, "%s", fx->tmpdir);
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/history.jsonl", fx->tmpdir);
	assert_int_equal(hx_history_open(&run->hist, path, err, sizeof err), 0);
	run->hist_open = true;
	run->crashes = json_array();
	run->base = event_base_new();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	run->http = hx_http_new(run->base, err, sizeof err);
	assert_non_null(run->http);
	assert_int_equal(hx_lua_open(run, err, sizeof err), 0);
	fx->srv = evhttp_new(run->base);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(fx->srv, "127.0.0.1", 0);
	assert_non_null(bs);
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sa, &sl);
	fx->port = ntohs(sa.sin_port);
	evhttp_set_gencb(fx->srv, serve, NULL);
	lua_pushinteger(run->L, fx->port);
	lua_setglobal(run->L, "PORT");
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	struct hx_run *run = &fx->run;
	run->shutting_down = true;
	hx_http_free(run->http);
	lua_close(run->L);
	evhttp_free(fx->srv);
	event_base_free(run->base);
	hx_history_close(&run->hist);
	json_decref(run->crashes);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", fx->tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", fx->tmpdir);
	curl_global_cleanup();
	free(fx);
	return 0;
}

/* Runs `return function() <body> end` as the main task; expects "ok". */
static void run_main(struct fixture *fx, const char *body)
{
	lua_State *L = fx->run.L;
	char err[2048];
	char *code = malloc(strlen(body) + 64);
	sprintf(code, "return function()\n%s\nend", body);
	if (luaL_loadstring(L, code) != LUA_OK)
		fail_msg("load: %s", lua_tostring(L, -1));
	free(code);
	lua_call(L, 0, 1);
	if (hx_lua_run_main(&fx->run, 0, err, sizeof err) != 0)
		fail_msg("task failed: %s", err);
	const char *r = lua_tostring(L, -1);
	if (!r || strcmp(r, "ok") != 0)
		fail_msg("task returned %s", r ? r : "(not a string)");
	lua_pop(L, 1);
}

static void test_sleep_spawn_join(void **state)
{
	run_main(*state,
		"local hx = require('hx')\n"
		"local order = {}\n"
		"local a = hx.spawn(function(x) hx.sleep(0.03); order[#order+1] = 'a'; return x * 2 end, 21)\n"
		"local b = hx.spawn(function() hx.sleep(0.01); order[#order+1] = 'b'; return 'b', 'c' end)\n"
		"local ok, v = a:join()\n"
		"assert(ok and v == 42, 'join a')\n"
		"local ok2, x, y = b:join()\n"
		"assert(ok2 and x == 'b' and y == 'c', 'join b')\n"
		"assert(table.concat(order) == 'ba', 'sleep order ' .. table.concat(order))\n"
		"assert(a:done() and b:done())\n"
		"local ok3, again = a:join()\n"
		"assert(ok3 and again == 42, 'join after done')\n"
		"local t0 = hx.now(); hx.sleep(0.02); assert(hx.now() - t0 >= 0.019, 'slept')\n"
		"return 'ok'");
}

static void test_errors(void **state)
{
	run_main(*state,
		"local hx = require('hx')\n"
		"local t = hx.spawn(function() error('boom') end)\n"
		"local ok, err = t:join()\n"
		"assert(not ok and err:find('boom'), 'error propagates: ' .. tostring(err))\n"
		"local y = hx.spawn(function() coroutine.yield() end)\n"
		"local ok2, err2 = y:join()\n"
		"assert(not ok2 and err2:find('yielded outside'), 'bare yield fails the task')\n"
		"local co = coroutine.create(function() return pcall(hx.sleep, 0.01) end)\n"
		"local _, pok, perr = coroutine.resume(co)\n"
		"assert(not pok and perr:find('harness task'), 'sleep in a nested coroutine raises')\n"
		"local e1 = pcall(hx.sleep, -1)\n"
		"assert(not e1, 'negative sleep raises')\n"
		"local e2 = pcall(hx.http.request, { method = 'GET' })\n"
		"assert(not e2, 'http without url raises')\n"
		"return 'ok'");
}

static void test_stop_interrupts_sleep(void **state)
{
	run_main(*state,
		"local hx = require('hx')\n"
		"local t = hx.spawn(function() return hx.sleep(30) end)\n"
		"hx.sleep(0.01)\n"
		"hx.stop('test')\n"
		"local ok, slept = t:join()\n"
		"assert(ok and slept == false, 'interrupted sleep returns false')\n"
		"local s, why = hx.stopping()\n"
		"assert(s and why == 'test')\n"
		"assert(hx.sleep(0.01) == false, 'interruptible sleeps return at once while stopping')\n"
		"assert(hx.sleep(0.01, true) == true, 'uninterruptible sleep still sleeps')\n"
		"return 'ok'");
}

static void test_http(void **state)
{
	run_main(*state,
		"local hx = require('hx')\n"
		"local base = 'http://127.0.0.1:' .. PORT\n"
		"local tasks = {}\n"
		"for i = 1, 50 do\n"
		"  tasks[i] = hx.spawn(function()\n"
		"    local n = 0\n"
		"    for j = 1, 5 do\n"
		"      local st, body = hx.http.request({ url = base .. '/x' .. i, timeout = 5 })\n"
		"      assert(st == 200 and body == '/x' .. i, 'answer ' .. tostring(st) .. ' ' .. tostring(body))\n"
		"      n = n + 1\n"
		"    end\n"
		"    return n\n"
		"  end)\n"
		"end\n"
		"for i = 1, 50 do local ok, n = tasks[i]:join(); assert(ok and n == 5, tostring(n)) end\n"
		"local st, kind = hx.http.request({ url = base .. '/slow', timeout = 0.2 })\n"
		"assert(st == nil and kind == 'timeout', 'timeout kind: ' .. tostring(kind))\n"
		"local st2, kind2 = hx.http.request({ url = 'http://127.0.0.1:1/', timeout = 1 })\n"
		"assert(st2 == nil and kind2 == 'connect', 'refused is connect: ' .. tostring(kind2))\n"
		"local st3, body3 = hx.http.request({ method = 'PUT', url = base .. '/p', body = '{}', timeout = 2 })\n"
		"assert(st3 == 200 and body3 == '/p')\n"
		"local _, h1 = hx.http.request({ method = 'POST', url = base .. '/hdr', body = '{}' })\n"
		"assert(h1 == 'Content-Type=application/json;', 'default type: ' .. h1)\n"
		"local _, h2 = hx.http.request({ method = 'POST', url = base .. '/hdr', body = 'x',\n"
		"  headers = { ['content-type'] = 'text/plain', ['X-Test'] = 'yes' } })\n"
		"assert(h2:find('text/plain') and not h2:find('json') and h2:find('X%-Test=yes'), 'own headers: ' .. h2)\n"
		"assert(not pcall(hx.http.request, { url = base, headers = { [1] = 'x' } }), 'bad headers raise')\n"
		"return 'ok'");
}

static void test_record(void **state)
{
	struct fixture *fx = *state;
	run_main(fx,
		"local hx = require('hx')\n"
		"assert(hx.record({ process = 1, type = 'invoke', f = 'read' }) == 0)\n"
		"assert(hx.record({ process = 1, type = 'ok', f = 'read', value = hx.null, node = 'n1' }) == 1)\n"
		"assert(hx.record({ process = 'nemesis', type = 'info', f = 'kill-start', value = { 'n2' } }) == 2)\n"
		"assert(not pcall(hx.record, { process = 1, type = 'maybe', f = 'read' }), 'bad type raises')\n"
		"assert(not pcall(hx.record, { process = 1, type = 'ok', f = 'x', value = print }), 'bad value raises')\n"
		"local c = hx.counts(); assert(c.invoke == 1 and c.ok == 1)\n"
		"return 'ok'");
	assert_int_equal(json_array_size(fx->run.hist.faults), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sleep_spawn_join, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_interrupts_sleep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
