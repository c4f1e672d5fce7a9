/* hx_disk.c — hx.disk: list a node's files and corrupt one, reporting
 * exactly what changed. */
#include "harness/hx_disk.h"
#include "harness/hx_json.h"
#include "harness/hx_util.h"

#include <lauxlib.h>
#include <string.h>

#ifdef HX_HAVE_DISK
#include "nemesis/disk/nem_corrupt.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

/* Appends the regular files under dir to the table on top (depth-bounded). */
static int walk(lua_State *L, const char *dir, int depth, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		hx_fmt(err, errlen, "opendir %s: %s", dir, strerror(errno));
		return -1;
	}
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char p[PATH_MAX];
		hx_fmt(p, sizeof p, "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < 8) {
			if ((rc = walk(L, p, depth + 1, err, errlen)) != 0)
				break;
		} else if (S_ISREG(st.st_mode)) {
			lua_createtable(L, 0, 2);
			lua_pushstring(L, p);
			lua_setfield(L, -2, "path");
			lua_pushinteger(L, (lua_Integer)st.st_size);
			lua_setfield(L, -2, "size");
			lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
		}
	}
	closedir(d);
	return rc;
}

static int l_files(lua_State *L)
{
	const char *dir = luaL_checkstring(L, 1);
	char err[512];
	lua_newtable(L);
	if (walk(L, dir, 0, err, sizeof err) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	return 1; /* in readdir order: callers sort when they need an order */
}

static lua_Integer opt_int_field(lua_State *L, const char *f, lua_Integer def)
{
	lua_getfield(L, 1, f);
	lua_Integer v = luaL_optinteger(L, -1, def);
	lua_pop(L, 1);
	return v;
}

static int l_corrupt(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_getfield(L, 1, "path");
	const char *path = lua_tostring(L, -1);
	lua_getfield(L, 1, "mode");
	const char *mode = lua_tostring(L, -1);
	if (!path || !mode)
		return luaL_argerror(L, 1, "path and mode are required");
	struct nem_corrupt_report r = {0};
	char err[512];
	int rc;
	if (!strcmp(mode, "truncate")) {
		lua_Integer drop = opt_int_field(L, "drop", 1);
		luaL_argcheck(L, drop > 0, 1, "drop must be positive");
		rc = nem_corrupt_truncate(path, (uint64_t)drop, &r, err, sizeof err);
	} else if (!strcmp(mode, "bitflip")) {
		lua_Integer count = opt_int_field(L, "count", 1);
		lua_Integer start = opt_int_field(L, "start", 0);
		luaL_argcheck(L, count > 0 && start >= 0, 1, "count must be positive, start >= 0");
		rc = nem_corrupt_bitflip(path, (uint64_t)start, 0, (uint64_t)count, 0,
		                         (uint64_t)opt_int_field(L, "seed", 1), &r, err, sizeof err);
	} else {
		return luaL_argerror(L, 1, "mode must be truncate or bitflip");
	}
	if (rc != 0) {
		nem_corrupt_report_free(&r);
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (m) {
		nem_corrupt_report_json(&r, path, m);
		fclose(m);
	}
	nem_corrupt_report_free(&r);
	json_t *j = buf ? json_loadb(buf, len, 0, NULL) : NULL;
	free(buf);
	if (!j) {
		lua_pushnil(L);
		lua_pushstring(L, "corrupt: unreadable report");
		return 2;
	}
	hx_json_push(L, j);
	json_decref(j);
	return 1;
}

void hx_disk_open(lua_State *L)
{
	lua_newtable(L);
	lua_pushcfunction(L, l_files);
	lua_setfield(L, -2, "files");
	lua_pushcfunction(L, l_corrupt);
	lua_setfield(L, -2, "corrupt");
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "available");
}
#else
void hx_disk_open(lua_State *L)
{
	lua_newtable(L);
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "available");
}
#endif
