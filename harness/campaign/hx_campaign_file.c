/* hx_campaign_file.c — loads and validates a campaign file (Lua returning {name, runs = {...}}), naming file:line:field on errors. */
#include "harness/campaign/hx_campaign.h"

#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *hx_campaign_expect_name(enum hx_campaign_expect e)
{
	return e == HX_CAMPAIGN_INVALID ? "invalid" : e == HX_CAMPAIGN_UNKNOWN ? "unknown" : "valid";
}

int hx_campaign_parse_shard(const char *s, unsigned *shard, unsigned *n_shards)
{
	char *end;
	errno = 0;
	unsigned long i = strtoul(s, &end, 10);
	if (errno || end == s || *end != '/' || s[0] == '-')
		return -1;
	const char *t = end + 1;
	unsigned long n = strtoul(t, &end, 10);
	if (errno || end == t || *end || t[0] == '-' || n < 1 || n > 1000 || i < 1 || i > n)
		return -1;
	*shard = (unsigned)i;
	*n_shards = (unsigned)n;
	return 0;
}

/* The source, for locating lines: Lua tables keep no line numbers, so a field
 * is found as the first `FIELD =` at or after the entry's own line, and the
 * entry as the K-th `plan =` of the file. Good enough to point at the spot. */
struct src {
	char **lines;
	size_t n;
};

static void src_load(struct src *s, const char *path)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, fp) >= 0) {
		char **nl = realloc(s->lines, (s->n + 1) * sizeof *nl);
		if (!nl)
			break;
		s->lines = nl;
		/* drop comments (good enough: a "--" inside a string is rare in campaigns) */
		char *cm = strstr(line, "--");
		if (cm)
			*cm = 0;
		if (!(nl[s->n] = strdup(line)))
			break;
		s->n++;
	}
	free(line);
	fclose(fp);
}

static void src_free(struct src *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->lines[i]);
	free(s->lines);
}

/* Does line hold `word` as an identifier followed by '='? */
static bool has_field(const char *line, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = strstr(line, word); p; p = strstr(p + 1, word)) {
		bool left = p == line || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z') ||
					    (p[-1] >= 'A' && p[-1] <= 'Z') || (p[-1] >= '0' && p[-1] <= '9'));
		const char *q = p + wl;
		while (*q == ' ' || *q == '\t')
			q++;
		if (left && q[0] == '=' && q[1] != '=')
			return true;
	}
	return false;
}

/* 1-based line of the k-th (0-based) entry, 0 when not found. */
static int entry_line(const struct src *s, size_t k)
{
	size_t seen = 0;
	for (size_t i = 0; i < s->n; i++)
		if (has_field(s->lines[i], "plan") && seen++ == k)
			return (int)i + 1;
	return 0;
}

static int field_line(const struct src *s, int from, const char *field)
{
	for (size_t i = from > 0 ? (size_t)from - 1 : 0; i < s->n; i++)
		if (has_field(s->lines[i], field))
			return (int)i + 1;
	return from;
}

struct loader {
	lua_State *L;
	struct src src;
	const char *path;
	char *err;
	size_t errlen;
};

static __attribute__((format(printf, 4, 5))) int fail(struct loader *ld, int line, const char *where,
						      const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(ld->err, ld->errlen, "%s:%d: %s%s%s", ld->path, line > 0 ? line : 1, where ? where : "",
		 where ? ": " : "", msg);
	return -1;
}

static bool is_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *const ENTRY_KEYS[] = {"name", "plan", "db", "set", "seeds", "expect",
					 "time_limit", "nodes", "timeout", "note", NULL};

/* The entry on top of the stack (index k, 0-based) into e. */
static int load_entry(struct loader *ld, size_t k, struct hx_campaign_entry *e)
{
	lua_State *L = ld->L;
	int line = entry_line(&ld->src, k);
	e->line = line;
	char where[96];
	if (!lua_istable(L, -1)) {
		snprintf(where, sizeof where, "runs[%zu]", k + 1);
		return fail(ld, line, where, "must be a table, got %s", luaL_typename(L, -1));
	}
	/* unknown keys */
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING) {
			snprintf(where, sizeof where, "runs[%zu]", k + 1);
			lua_pop(L, 1);
			return fail(ld, line, where, "keys must be names (a list inside an entry?)");
		}
		const char *key = lua_tostring(L, -1);
		bool ok = false;
		for (size_t i = 0; ENTRY_KEYS[i]; i++)
			ok |= !strcmp(key, ENTRY_KEYS[i]);
		if (!ok) {
			snprintf(where, sizeof where, "runs[%zu].%s", k + 1, key);
			int fl = field_line(&ld->src, line, key);
			lua_pop(L, 1);
			return fail(ld, fl, where,
				    "unknown field (known: name, plan, db, set, seeds, expect, time_limit, nodes, "
				    "timeout, note)");
		}
	}
#define WHERE(f) (snprintf(where, sizeof where, "runs[%zu].%s", k + 1, f), where)
#define FLINE(f) field_line(&ld->src, line, f)
	/* plan */
	lua_getfield(L, -1, "plan");
	if (lua_type(L, -1) != LUA_TSTRING) {
		int t = lua_type(L, -1);
		lua_pop(L, 1);
		return fail(ld, t == LUA_TNIL ? line : FLINE("plan"), WHERE("plan"),
			    t == LUA_TNIL ? "missing (the plan file to run)" : "must be a string (a path)");
	}
	e->plan = strdup(lua_tostring(L, -1));
	lua_pop(L, 1);
	if (!is_file(e->plan))
		return fail(ld, FLINE("plan"), WHERE("plan"), "%s: no such file", e->plan);
	/* name */
	lua_getfield(L, -1, "name");
	if (!lua_isnil(L, -1)) {
		const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
		if (!s || !*s || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
					  strlen(s)) {
			lua_pop(L, 1);
			return fail(ld, FLINE("name"), WHERE("name"),
				    "must be a non-empty string of letters, digits, '-', '_', '.'");
		}
		e->name = strdup(s);
	} else {
		const char *b = strrchr(e->plan, '/');
		b = b ? b + 1 : e->plan;
		size_t n = strlen(b);
		if (n > 4 && !strcmp(b + n - 4, ".lua"))
			n -= 4;
		e->name = strndup(b, n);
	}
	lua_pop(L, 1);
	/* db */
	lua_getfield(L, -1, "db");
	if (!lua_isnil(L, -1)) {
		if (lua_type(L, -1) != LUA_TSTRING) {
			lua_pop(L, 1);
			return fail(ld, FLINE("db"), WHERE("db"), "must be a string (an adapter file)");
		}
		e->db = strdup(lua_tostring(L, -1));
		if ((strchr(e->db, '/') || strstr(e->db, ".lua")) && !is_file(e->db)) {
			lua_pop(L, 1);
			return fail(ld, FLINE("db"), WHERE("db"), "%s: no such file", e->db);
		}
	}
	lua_pop(L, 1);
	/* set */
	lua_getfield(L, -1, "set");
	if (!lua_isnil(L, -1)) {
		if (!lua_istable(L, -1)) {
			lua_pop(L, 1);
			return fail(ld, FLINE("set"), WHERE("set"), "must be a table of plan options");
		}
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			if (lua_type(L, -2) != LUA_TSTRING) {
				lua_pop(L, 3);
				return fail(ld, FLINE("set"), WHERE("set"), "keys must be option names");
			}
			const char *key = lua_tostring(L, -2);
			int t = lua_type(L, -1);
			if (t != LUA_TSTRING && t != LUA_TNUMBER && t != LUA_TBOOLEAN) {
				char w2[160];
				snprintf(w2, sizeof w2, "runs[%zu].set.%s", k + 1, key);
				int fl = field_line(&ld->src, FLINE("set"), key);
				lua_pop(L, 3);
				return fail(ld, fl, w2, "must be a string, number or boolean");
			}
			size_t vl;
			const char *v = luaL_tolstring(L, -1, &vl);
			char **ns = realloc(e->sets, (e->n_sets + 1) * sizeof *ns);
			if (!ns) {
				lua_pop(L, 4);
				return fail(ld, line, WHERE("set"), "out of memory");
			}
			e->sets = ns;
			size_t kl = strlen(key);
			if ((ns[e->n_sets] = malloc(kl + vl + 2))) {
				memcpy(ns[e->n_sets], key, kl);
				ns[e->n_sets][kl] = '=';
				memcpy(ns[e->n_sets] + kl + 1, v, vl + 1);
				e->n_sets++;
			}
			lua_pop(L, 2); /* tolstring's copy and the value */
		}
		if (e->n_sets > HX_CAMPAIGN_MAX_SETS) {
			lua_pop(L, 1);
			return fail(ld, FLINE("set"), WHERE("set"), "%zu options; at most %d", e->n_sets,
				    HX_CAMPAIGN_MAX_SETS);
		}
		qsort(e->sets, e->n_sets, sizeof *e->sets, cmp_str);
	}
	lua_pop(L, 1);
	/* seeds */
	lua_getfield(L, -1, "seeds");
	if (lua_isnil(L, -1)) {
		e->seeds = malloc(sizeof *e->seeds);
		if (e->seeds) {
			e->seeds[0] = 1;
			e->n_seeds = 1;
		}
	} else {
		if (!lua_istable(L, -1) || luaL_len(L, -1) < 1) {
			lua_pop(L, 1);
			return fail(ld, FLINE("seeds"), WHERE("seeds"), "must be a non-empty list of integers");
		}
		lua_Integer n = luaL_len(L, -1);
		e->seeds = calloc((size_t)n, sizeof *e->seeds);
		for (lua_Integer i = 1; e->seeds && i <= n; i++) {
			lua_geti(L, -1, i);
			int isint = 0;
			lua_Integer s = lua_tointegerx(L, -1, &isint);
			lua_pop(L, 1);
			if (!isint || s <= 0) {
				lua_pop(L, 1);
				return fail(ld, FLINE("seeds"), WHERE("seeds"),
					    "element %lld must be a positive integer (0 would mean a random seed)",
					    (long long)i);
			}
			e->seeds[e->n_seeds++] = (long long)s;
		}
	}
	lua_pop(L, 1);
	/* expect */
	lua_getfield(L, -1, "expect");
	if (!lua_isnil(L, -1)) {
		const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
		if (!strcmp(s, "valid"))
			e->expect = HX_CAMPAIGN_VALID;
		else if (!strcmp(s, "invalid"))
			e->expect = HX_CAMPAIGN_INVALID;
		else if (!strcmp(s, "unknown"))
			e->expect = HX_CAMPAIGN_UNKNOWN;
		else {
			lua_pop(L, 1);
			return fail(ld, FLINE("expect"), WHERE("expect"),
				    "must be \"valid\", \"invalid\" or \"unknown\"");
		}
	}
	lua_pop(L, 1);
	/* numbers */
	static const char *const nums[] = {"time_limit", "nodes", "timeout"};
	for (size_t i = 0; i < 3; i++) {
		lua_getfield(L, -1, nums[i]);
		if (!lua_isnil(L, -1)) {
			int isnum = 0;
			lua_Number v = lua_tonumberx(L, -1, &isnum);
			bool bad = !isnum || !(v > 0) || v > 1e7;
			if (i == 1 && (v != (long)v || v > 64))
				bad = true;
			if (bad) {
				lua_pop(L, 1);
				return fail(ld, FLINE(nums[i]), WHERE(nums[i]),
					    i == 1 ? "must be an integer 1..64" : "must be a positive number of seconds");
			}
			if (i == 0)
				e->time_limit = v;
			else if (i == 1)
				e->nodes = (long)v;
			else
				e->timeout = v;
		}
		lua_pop(L, 1);
	}
#undef WHERE
#undef FLINE
	if (!e->plan || !e->name || !e->seeds)
		return fail(ld, line, NULL, "out of memory");
	return 0;
}

int hx_campaign_load(struct hx_campaign *c, const char *path, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	struct loader ld = {.path = path, .err = err, .errlen = errlen};
	int rc = -1;
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	src_load(&ld.src, path);
	ld.L = luaL_newstate();
	if (!ld.L) {
		snprintf(err, errlen, "%s: cannot create a Lua state", path);
		goto out;
	}
	luaL_openlibs(ld.L);
	if (luaL_loadfile(ld.L, path) != LUA_OK || lua_pcall(ld.L, 0, 1, 0) != LUA_OK) {
		/* Lua's message already reads "FILE:LINE: ..." */
		snprintf(err, errlen, "%s", lua_tostring(ld.L, -1));
		goto out;
	}
	lua_State *L = ld.L;
	if (!lua_istable(L, -1)) {
		fail(&ld, (int)ld.src.n, NULL, "a campaign file must return a table {name = ..., runs = {...}}, got %s",
		     luaL_typename(L, -1));
		goto out;
	}
	c->path = strdup(path);
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_pop(L, 1);
		const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
		if (!key || (strcmp(key, "name") && strcmp(key, "runs") && strcmp(key, "note"))) {
			int fl = key ? field_line(&ld.src, 1, key) : 1;
			fail(&ld, fl, key ? key : "(a list element)", "unknown field (known: name, runs, note)");
			lua_pop(L, 1);
			goto out;
		}
	}
	lua_getfield(L, -1, "name");
	if (lua_isnil(L, -1)) {
		const char *b = strrchr(path, '/');
		b = b ? b + 1 : path;
		size_t n = strlen(b);
		c->name = strndup(b, n > 4 && !strcmp(b + n - 4, ".lua") ? n - 4 : n);
	} else if (lua_type(L, -1) == LUA_TSTRING && *lua_tostring(L, -1) &&
		   strspn(lua_tostring(L, -1),
			  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
			   strlen(lua_tostring(L, -1))) {
		c->name = strdup(lua_tostring(L, -1));
	} else {
		fail(&ld, field_line(&ld.src, 1, "name"), "name",
		     "must be a non-empty string of letters, digits, '-', '_', '.'");
		goto out;
	}
	lua_pop(L, 1);
	lua_getfield(L, -1, "runs");
	if (!lua_istable(L, -1) || luaL_len(L, -1) < 1) {
		fail(&ld, field_line(&ld.src, 1, "runs"), "runs",
		     lua_isnil(L, -1) ? "missing (a list of {plan = ..., seeds = {...}} entries)"
				      : "must be a non-empty list of entries");
		goto out;
	}
	lua_Integer n = luaL_len(L, -1);
	c->entries = calloc((size_t)n, sizeof *c->entries);
	if (!c->entries) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	for (lua_Integer i = 1; i <= n; i++) {
		lua_geti(L, -1, i);
		c->n_entries++;
		if (load_entry(&ld, (size_t)(i - 1), &c->entries[i - 1]) != 0)
			goto out;
		lua_pop(L, 1);
	}
	/* run names must not collide: <name>-<i>-s<seed> is unique by i, but two
	 * entries with the same name are confusing in JUnit; say so. */
	for (size_t i = 0; i < c->n_entries; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->entries[i].name, c->entries[j].name)) {
				char where[64];
				snprintf(where, sizeof where, "runs[%zu].name", i + 1);
				fail(&ld, c->entries[i].line, where,
				     "\"%s\" is also the name of runs[%zu]: give one of them a name = \"...\"",
				     c->entries[i].name, j + 1);
				goto out;
			}
	rc = 0;
out:
	if (ld.L)
		lua_close(ld.L);
	src_free(&ld.src);
	if (rc != 0)
		hx_campaign_free(c);
	return rc;
}

void hx_campaign_free(struct hx_campaign *c)
{
	for (size_t i = 0; i < c->n_entries; i++) {
		struct hx_campaign_entry *e = &c->entries[i];
		free(e->name);
		free(e->plan);
		free(e->db);
		for (size_t j = 0; j < e->n_sets; j++)
			free(e->sets[j]);
		free(e->sets);
		free(e->seeds);
	}
	free(c->entries);
	free(c->path);
	free(c->name);
	memset(c, 0, sizeof *c);
}
