/* nem_net_grudge.c — grudges as data: topology builders (Jepsen's halves, bridge, majorities ring, ...) and their JSON form; no system calls. */
#include "nemesis/nem.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int grudge_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int grudge_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

void nem_grudge_init(struct nem_grudge *g, unsigned n)
{
	memset(g, 0, sizeof *g);
	g->n = n > NEM_MAX_NODES ? NEM_MAX_NODES : n;
}

void nem_grudge_drop(struct nem_grudge *g, unsigned receiver, unsigned sender)
{
	if (receiver < g->n && sender < g->n && receiver != sender)
		g->drops[receiver] |= UINT64_C(1) << sender;
}

bool nem_grudge_drops(const struct nem_grudge *g, unsigned receiver, unsigned sender)
{
	return receiver < g->n && sender < g->n && (g->drops[receiver] >> sender & 1u);
}

unsigned nem_grudge_count(const struct nem_grudge *g)
{
	unsigned c = 0;
	for (unsigned r = 0; r < g->n; r++)
		c += (unsigned)__builtin_popcountll(g->drops[r]);
	return c;
}

bool nem_grudge_equal(const struct nem_grudge *a, const struct nem_grudge *b)
{
	unsigned n = a->n > b->n ? a->n : b->n;
	for (unsigned r = 0; r < n; r++) {
		uint64_t x = r < a->n ? a->drops[r] : 0, y = r < b->n ? b->drops[r] : 0;
		if (x != y)
			return false;
	}
	return true;
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void nem_order_shuffle(unsigned *order, unsigned n, uint64_t seed)
{
	uint64_t s = seed;
	for (unsigned i = 0; i < n; i++)
		order[i] = i;
	for (unsigned i = n; i > 1; i--) {
		/* Modulo bias is < n/2^64: irrelevant here. */
		unsigned j = (unsigned)(splitmix64(&s) % i);
		unsigned t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
}

static unsigned at(const unsigned *order, unsigned i) { return order ? order[i] : i; }

void nem_grudge_components(struct nem_grudge *g, unsigned n, const unsigned *component)
{
	nem_grudge_init(g, n);
	for (unsigned r = 0; r < g->n; r++)
		for (unsigned s = 0; s < g->n; s++)
			if (component[r] != component[s])
				nem_grudge_drop(g, r, s);
}

void nem_grudge_isolate(struct nem_grudge *g, unsigned n, unsigned node)
{
	unsigned comp[NEM_MAX_NODES] = { 0 };
	if (node < NEM_MAX_NODES)
		comp[node] = 1;
	nem_grudge_components(g, n, comp);
}

void nem_grudge_halves(struct nem_grudge *g, unsigned n, const unsigned *order)
{
	unsigned comp[NEM_MAX_NODES] = { 0 };
	n = n > NEM_MAX_NODES ? NEM_MAX_NODES : n;
	for (unsigned i = 0; i < n; i++)
		comp[at(order, i)] = i < n / 2 ? 0 : 1;
	nem_grudge_components(g, n, comp);
}

void nem_grudge_bridge(struct nem_grudge *g, unsigned n, const unsigned *order, unsigned *bridge)
{
	nem_grudge_halves(g, n, order);
	if (g->n < 2)
		return;
	unsigned b = at(order, g->n / 2);
	/* The bridge snubs nobody, and nobody hates the bridge. */
	g->drops[b] = 0;
	for (unsigned r = 0; r < g->n; r++)
		g->drops[r] &= ~(UINT64_C(1) << b);
	if (bridge)
		*bridge = b;
}

void nem_grudge_majorities_ring(struct nem_grudge *g, unsigned n, const unsigned *order)
{
	nem_grudge_init(g, n);
	n = g->n;
	unsigned m = n / 2 + 1;
	if (n < 3)
		return; /* no ring with distinct majorities */
	for (unsigned w = 0; w < n; w++) {
		/* Window w: ring positions w .. w+m-1; its middle node hears it. */
		unsigned mid = at(order, (w + m / 2) % n);
		uint64_t hears = 0;
		for (unsigned k = 0; k < m; k++)
			hears |= UINT64_C(1) << at(order, (w + k) % n);
		for (unsigned s = 0; s < n; s++)
			if (!(hears >> s & 1u))
				nem_grudge_drop(g, mid, s);
	}
}

void nem_grudge_one_way(struct nem_grudge *g, unsigned n, unsigned receiver, unsigned sender)
{
	nem_grudge_init(g, n);
	nem_grudge_drop(g, receiver, sender);
}

void nem_lab_ids(const struct hx_lab *lab, const char **ids)
{
	for (unsigned i = 0; i < lab->n_nodes; i++)
		ids[i] = lab->nodes[i].id;
}

/* Appends to buf at *off; false when it does not fit. */
static bool put(char *buf, size_t len, size_t *off, const char *s)
{
	size_t l = strlen(s);
	if (*off + l + 1 > len)
		return false;
	memcpy(buf + *off, s, l + 1);
	*off += l;
	return true;
}

/* Node ids are short plain words ("n1"), but escape the two characters JSON
 * requires anyway rather than emit a broken history line. */
static bool put_str(char *buf, size_t len, size_t *off, const char *s)
{
	if (!put(buf, len, off, "\""))
		return false;
	for (; *s; s++) {
		char c[3] = { *s, 0, 0 };
		if (*s == '"' || *s == '\\') {
			c[0] = '\\';
			c[1] = *s;
		}
		if ((unsigned char)*s < 0x20)
			c[0] = '?';
		if (!put(buf, len, off, c))
			return false;
	}
	return put(buf, len, off, "\"");
}

int nem_grudge_to_json(const struct nem_grudge *g, const char *const *ids, char *buf, size_t len)
{
	size_t off = 0;
	bool first = true;
	if (len == 0)
		return -1;
	buf[0] = 0;
	if (!put(buf, len, &off, "{"))
		return -1;
	for (unsigned r = 0; r < g->n; r++) {
		if (!g->drops[r])
			continue;
		if ((!first && !put(buf, len, &off, ",")) || !put_str(buf, len, &off, ids[r]) ||
		    !put(buf, len, &off, ":["))
			return -1;
		first = false;
		bool f2 = true;
		for (unsigned s = 0; s < g->n; s++) {
			if (!(g->drops[r] >> s & 1u))
				continue;
			if ((!f2 && !put(buf, len, &off, ",")) || !put_str(buf, len, &off, ids[s]))
				return -1;
			f2 = false;
		}
		if (!put(buf, len, &off, "]"))
			return -1;
	}
	if (!put(buf, len, &off, "}"))
		return -1;
	return (int)off;
}

static int id_index(unsigned n, const char *const *ids, const char *id)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return (int)i;
	return -1;
}

int nem_grudge_from_json(struct nem_grudge *g, unsigned n, const char *const *ids, const char *json,
                         char *err, size_t errlen)
{
	json_error_t je;
	nem_grudge_init(g, n);
	json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return grudge_err(err, errlen, "grudge: bad JSON at column %d: %s", je.column, je.text);
	int ret = 0;
	if (!json_is_object(root)) {
		ret = grudge_err(err, errlen, "grudge: want an object {\"n1\":[\"n2\"],...}");
		goto out;
	}
	const char *key;
	json_t *val;
	json_object_foreach(root, key, val) {
		int r = id_index(g->n, ids, key);
		if (r < 0) {
			ret = grudge_err(err, errlen, "grudge: unknown node \"%s\"", key);
			goto out;
		}
		if (!json_is_array(val)) {
			ret = grudge_err(err, errlen, "grudge: \"%s\": want a list of node ids", key);
			goto out;
		}
		size_t i;
		json_t *e;
		json_array_foreach(val, i, e) {
			int s = json_is_string(e) ? id_index(g->n, ids, json_string_value(e)) : -1;
			if (s < 0) {
				ret = grudge_err(err, errlen, "grudge: \"%s\": unknown node %s%s%s", key,
				                 json_is_string(e) ? "\"" : "", json_is_string(e) ? json_string_value(e) : "(not a string)",
				                 json_is_string(e) ? "\"" : "");
				goto out;
			}
			if (s == r) {
				ret = grudge_err(err, errlen, "grudge: \"%s\" cannot drop itself", key);
				goto out;
			}
			nem_grudge_drop(g, (unsigned)r, (unsigned)s);
		}
	}
out:
	json_decref(root);
	return ret;
}
