/* test_hx_json.c — Lua <-> JSON conversion: round trips, null, arrays vs
 * objects, and the errors for values JSON cannot hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <lauxlib.h>
#include <lualib.h>
#include <string.h>

#include "harness/hx_json.h"

static lua_State *new_state(void)
{
	lua_State *L = luaL_newstate();
	luaL_openlibs(L);
	hx_json_open(L);
	lua_setglobal(L, "json");
	return L;
}

/* Evaluates a Lua expression and returns its JSON text (caller frees). */
static char *encode_expr(lua_State *L, const char *expr, char *err, size_t errlen)
{
	char code[512];
	snprintf(code, sizeof code, "return %s", expr);
	assert_int_equal(luaL_dostring(L, code), LUA_OK);
	json_t *j = hx_json_from_lua(L, -1, err, errlen);
	lua_pop(L, 1);
	if (!j)
		return NULL;
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	json_decref(j);
	return s;
}

static void check_encode(lua_State *L, const char *expr, const char *want)
{
	char err[256];
	char *s = encode_expr(L, expr, err, sizeof err);
	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

static void test_encode(void **state)
{
	lua_State *L = new_state();
	check_encode(L, "1", "1");
	check_encode(L, "3.0", "3");
	check_encode(L, "2.5", "2.5");
	check_encode(L, "'x'", "\"x\"");
	check_encode(L, "{1, 2, 3}", "[1,2,3]");
	check_encode(L, "{}", "[]");
	check_encode(L, "json.object()", "{}");
	check_encode(L, "{a = 1, b = {true, false}}", "{\"a\":1,\"b\":[true,false]}");
	check_encode(L, "{json.null, 4}", "[null,4]");
	check_encode(L, "json.null", "null");
	check_encode(L, "{[1] = 'a', [3] = 'c'}", "{\"1\":\"a\",\"3\":\"c\"}");
	/* The workloads' own null sentinel (a table named json.null). */
	check_encode(L, "setmetatable({}, {__name = 'json.null'})", "null");
	lua_close(L);
}

static void test_encode_errors(void **state)
{
	lua_State *L = new_state();
	char err[256];
	assert_null(encode_expr(L, "print", err, sizeof err));
	assert_non_null(strstr(err, "function"));
	assert_null(encode_expr(L, "0/0", err, sizeof err));
	assert_null(encode_expr(L, "(function() local t = {} t[1] = t return t end)()", err, sizeof err));
	assert_non_null(strstr(err, "deeper"));
	lua_close(L);
}

static void test_decode_roundtrip(void **state)
{
	lua_State *L = new_state();
	assert_int_equal(luaL_dostring(L,
		"local v = json.decode('{\"a\":[1,null,\"x\"],\"b\":{},\"c\":1.5}')\n"
		"assert(v.a[1] == 1 and v.a[2] == json.null and v.a[3] == 'x')\n"
		"assert(json.encode(v.b) == '{}')\n"
		"assert(v.c == 1.5)\n"
		"local bad, msg = json.decode('{')\n"
		"assert(bad == nil and msg:find('line 1'))\n"
		"assert(json.encode({value = 7}) == '{\"value\":7}')\n"
		"assert(json.encode({b = 1, a = 2, c = {z = 1, y = 2}}) == '{\"a\":2,\"b\":1,\"c\":{\"y\":2,\"z\":1}}',\n"
		"       'objects are written with sorted keys')\n"), LUA_OK);
	lua_close(L);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_decode_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
