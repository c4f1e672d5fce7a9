/* hx_disk.c — hx.disk: list a node's files and corrupt one, reporting
 * exactly what changed; mount rapat-lazyfs over node data directories and
 * make it lose what was not fsynced. */
#include "harness/hx_disk.h"
#include "harness/hx_json.h"
#include "harness/hx_run.h"
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

static void open_corrupt(lua_State *L)
{
	lua_pushcfunction(L, l_files);
	lua_setfield(L, -2, "files");
	lua_pushcfunction(L, l_corrupt);
	lua_setfield(L, -2, "corrupt");
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "available");
}
#else
static void open_corrupt(lua_State *L)
{
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "available");
}
#endif

#ifdef HX_HAVE_LAZYFS
#include "nemesis/disk/nem_lazyfs.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* The daemons this harness started. Kept on the C side so that teardown
 * unmounts them whatever became of the Lua state (an error mid-run, an
 * interrupt): a FUSE mount must never outlive the run. One per node. */
#define LAZYFS_MAX 64
struct lazyfs_mount {
	pid_t pid;
	char mountpoint[PATH_MAX];
	char ctl[sizeof(((struct sockaddr_un *)0)->sun_path)];
};
static struct lazyfs_mount lazyfs_mounts[LAZYFS_MAX];
static unsigned lazyfs_n;
static const char lazyfs_run_key;

static struct hx_run *lazyfs_run(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &lazyfs_run_key);
	struct hx_run *r = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return r;
}

/* A string field of the argument table, or NULL. Only real strings: those
 * stay anchored by the table after the pop (a number converted by
 * lua_tostring would not). */
static const char *str_field(lua_State *L, const char *f)
{
	lua_getfield(L, 1, f);
	const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
	lua_pop(L, 1);
	return v;
}

static int push_fail(lua_State *L, const char *msg)
{
	lua_pushnil(L);
	lua_pushstring(L, msg);
	return 2;
}

/* hx.disk.lazyfs_start{mountpoint=, ctl=, log=, lazy_metadata=} -> pid | nil, msg.
 * Creates the mountpoint if needed, mounts bin/rapat-lazyfs over it (its
 * current contents are the durable store) and waits until it answers. */
static int l_lazyfs_start(lua_State *L)
{
	struct hx_run *run = lazyfs_run(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	const char *mp = str_field(L, "mountpoint");
	const char *ctl = str_field(L, "ctl");
	const char *logp = str_field(L, "log");
	if (!mp || !ctl)
		return luaL_argerror(L, 1, "mountpoint and ctl are required");
	if (strlen(ctl) >= sizeof lazyfs_mounts[0].ctl)
		return luaL_argerror(L, 1, "ctl: a unix socket path must be shorter than 108 bytes");
	if (strlen(mp) >= sizeof lazyfs_mounts[0].mountpoint)
		return luaL_argerror(L, 1, "mountpoint: path too long");
	lua_getfield(L, 1, "lazy_metadata");
	int lazy_meta = lua_toboolean(L, -1);
	lua_pop(L, 1);
	if (lazyfs_n >= LAZYFS_MAX)
		return push_fail(L, "lazyfs: too many mounts");
	char binary[PATH_MAX + 32], err[1024];
	hx_fmt(binary, sizeof binary, "%s/bin/rapat-lazyfs", run->root);
	if (access(binary, X_OK) != 0) {
		hx_fmt(err, sizeof err, "%s: %s (build it with make)", binary, strerror(errno));
		return push_fail(L, err);
	}
	if (mkdir(mp, 0755) != 0 && errno != EEXIST) {
		hx_fmt(err, sizeof err, "mkdir %s: %s", mp, strerror(errno));
		return push_fail(L, err);
	}
	struct nem_lazyfs_opts o = {.binary = binary, .mountpoint = mp, .ctl_path = ctl,
	                            .log_path = logp, .lazy_metadata = lazy_meta};
	pid_t pid;
	if (nem_lazyfs_start(&o, &pid, err, sizeof err) != 0)
		return push_fail(L, err);
	struct lazyfs_mount *m = &lazyfs_mounts[lazyfs_n++];
	m->pid = pid;
	hx_fmt(m->mountpoint, sizeof m->mountpoint, "%s", mp);
	hx_fmt(m->ctl, sizeof m->ctl, "%s", ctl);
	hx_log(run, false, "lazyfs: pid %d mounted over %s (ctl %s)", (int)pid, mp, ctl);
	lua_pushinteger(L, pid);
	return 1;
}

/* hx.disk.lazyfs_report(ctl) -> what a crash would lose now, decoded
 * ({files = {{path, size, durable_size, dirty_pages, ...}}, more}) | nil, msg */
static int l_lazyfs_report(lua_State *L)
{
	const char *ctl = luaL_checkstring(L, 1);
	size_t cap = 64 * 1024 + 1;
	char *reply = malloc(cap);
	char err[512];
	if (!reply)
		return push_fail(L, "lazyfs report: out of memory");
	if (nem_lazyfs_command(ctl, "report", reply, cap, err, sizeof err) != 0) {
		free(reply);
		return push_fail(L, err);
	}
	/* "ok {json}" */
	const char *js = strncmp(reply, "ok ", 3) == 0 ? reply + 3 : NULL;
	json_error_t jerr;
	json_t *j = js ? json_loads(js, 0, &jerr) : NULL;
	if (!j) {
		hx_fmt(err, sizeof err, "lazyfs report: unreadable reply '%.80s'", reply);
		free(reply);
		return push_fail(L, err);
	}
	free(reply);
	hx_json_push(L, j);
	json_decref(j);
	return 1;
}

static void push_stats(lua_State *L, const struct nem_lazyfs_stats *st)
{
	lua_createtable(L, 0, 4);
	lua_pushinteger(L, (lua_Integer)st->files);
	lua_setfield(L, -2, "files");
	lua_pushinteger(L, (lua_Integer)st->dirty_bytes);
	lua_setfield(L, -2, "bytes");
	lua_pushinteger(L, st->undone_ops);
	lua_setfield(L, -2, "undone_ops");
	lua_pushinteger(L, st->failed_undo);
	lua_setfield(L, -2, "failed_undo");
}

/* hx.disk.lazyfs_crash(ctl) -> {files, bytes, undone_ops, failed_undo}
 * (what was dropped) | nil, msg. Only once the node's processes are dead. */
static int l_lazyfs_crash(lua_State *L)
{
	const char *ctl = luaL_checkstring(L, 1);
	struct nem_lazyfs_stats st = {0};
	char err[512];
	if (nem_lazyfs_lose_unsynced(ctl, &st, err, sizeof err) != 0)
		return push_fail(L, err);
	push_stats(L, &st);
	return 1;
}

/* hx.disk.lazyfs_sync(ctl) -> true | nil, msg: make everything durable. */
static int l_lazyfs_sync(lua_State *L)
{
	const char *ctl = luaL_checkstring(L, 1);
	char err[512];
	if (nem_lazyfs_sync(ctl, err, sizeof err) != 0)
		return push_fail(L, err);
	lua_pushboolean(L, 1);
	return 1;
}

void hx_disk_lazyfs_stop_all(struct hx_run *run)
{
	char err[512];
	for (unsigned i = 0; i < lazyfs_n; i++) {
		struct lazyfs_mount *m = &lazyfs_mounts[i];
		if (nem_lazyfs_stop(m->pid, m->mountpoint, 0, err, sizeof err) != 0)
			hx_log(run, true, "lazyfs: unmount of %s: %s", m->mountpoint, err);
		else
			hx_log(run, false, "lazyfs: %s unmounted", m->mountpoint);
		unlink(m->ctl);
	}
	lazyfs_n = 0;
}

static void open_lazyfs(lua_State *L, struct hx_run *run)
{
	lua_pushlightuserdata(L, run);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &lazyfs_run_key);
	lua_pushcfunction(L, l_lazyfs_start);
	lua_setfield(L, -2, "lazyfs_start");
	lua_pushcfunction(L, l_lazyfs_report);
	lua_setfield(L, -2, "lazyfs_report");
	lua_pushcfunction(L, l_lazyfs_crash);
	lua_setfield(L, -2, "lazyfs_crash");
	lua_pushcfunction(L, l_lazyfs_sync);
	lua_setfield(L, -2, "lazyfs_sync");
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "lazyfs_available");
}
#else
void hx_disk_lazyfs_stop_all(struct hx_run *run)
{
	(void)run;
}

static void open_lazyfs(lua_State *L, struct hx_run *run)
{
	(void)run;
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "lazyfs_available");
}
#endif

void hx_disk_open(lua_State *L, struct hx_run *run)
{
	lua_newtable(L);
	open_corrupt(L);
	open_lazyfs(L, run);
}
