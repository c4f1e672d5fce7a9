/* nemesis_partition_grudge_test.c — pure tests of grudges: topology builders against Jepsen's definitions, seeded shuffles, the JSON form both ways. */
#include "nemesis/nem.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(cond, ...)                                                          \
	({                                                                        \
		bool ok_ = (cond);                                                \
		if (!ok_) {                                                       \
			failures++;                                               \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                             \
			fputc('\n', stderr);                                      \
		}                                                                 \
		ok_;                                                              \
	})

static const char *ids[NEM_MAX_NODES];
static char idbuf[NEM_MAX_NODES][8];

static const char *js(const struct nem_grudge *g)
{
	static char buf[4096];
	if (nem_grudge_to_json(g, ids, buf, sizeof buf) < 0)
		return "(too long)";
	return buf;
}

/* Does r hear s (no drop), counting a node as hearing itself. */
static bool hears(const struct nem_grudge *g, unsigned r, unsigned s)
{
	return r == s || !nem_grudge_drops(g, r, s);
}

static bool symmetric(const struct nem_grudge *g)
{
	for (unsigned r = 0; r < g->n; r++)
		for (unsigned s = 0; s < g->n; s++)
			if (nem_grudge_drops(g, r, s) != nem_grudge_drops(g, s, r))
				return false;
	return true;
}

static void test_basics(void)
{
	struct nem_grudge g;
	nem_grudge_init(&g, 5);
	CHECK(nem_grudge_count(&g) == 0 && strcmp(js(&g), "{}") == 0, "empty: %s", js(&g));
	nem_grudge_drop(&g, 0, 0); /* ignored: self */
	nem_grudge_drop(&g, 0, 7); /* ignored: out of range */
	nem_grudge_drop(&g, 7, 0);
	CHECK(nem_grudge_count(&g) == 0, "self/out of range recorded");
	nem_grudge_one_way(&g, 5, 0, 1);
	CHECK(nem_grudge_drops(&g, 0, 1) && !nem_grudge_drops(&g, 1, 0) && nem_grudge_count(&g) == 1, "one way");
	CHECK(strcmp(js(&g), "{\"n1\":[\"n2\"]}") == 0, "one way json %s", js(&g));
	struct nem_grudge h = g;
	CHECK(nem_grudge_equal(&g, &h), "copy equal");
	h.n = 7; /* wider but the same drops */
	CHECK(nem_grudge_equal(&g, &h), "equal across n");
	nem_grudge_drop(&h, 1, 0);
	CHECK(!nem_grudge_equal(&g, &h), "differ");
}

static void test_halves(void)
{
	struct nem_grudge g;
	nem_grudge_halves(&g, 5, NULL);
	/* Jepsen's bisect: the smaller half first. */
	const char *want = "{\"n1\":[\"n3\",\"n4\",\"n5\"],\"n2\":[\"n3\",\"n4\",\"n5\"],"
	                   "\"n3\":[\"n1\",\"n2\"],\"n4\":[\"n1\",\"n2\"],\"n5\":[\"n1\",\"n2\"]}";
	CHECK(strcmp(js(&g), want) == 0, "halves(5) = %s", js(&g));
	CHECK(nem_grudge_count(&g) == 12 && symmetric(&g), "halves count %u", nem_grudge_count(&g));

	nem_grudge_isolate(&g, 5, 2);
	CHECK(strcmp(js(&g), "{\"n1\":[\"n3\"],\"n2\":[\"n3\"],\"n3\":[\"n1\",\"n2\",\"n4\",\"n5\"],"
	                     "\"n4\":[\"n3\"],\"n5\":[\"n3\"]}") == 0, "isolate n3 = %s", js(&g));

	/* Random halves: a permutation; the same seed, the same split; the
	 * minority always has floor(n/2) nodes. */
	unsigned o1[16], o2[16];
	nem_order_shuffle(o1, 16, 42);
	nem_order_shuffle(o2, 16, 42);
	CHECK(memcmp(o1, o2, sizeof o1) == 0, "same seed, different order");
	unsigned seen = 0;
	for (unsigned i = 0; i < 16; i++)
		seen |= 1u << o1[i];
	CHECK(seen == 0xffff, "not a permutation");
	int differing = 0;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		unsigned o[5];
		nem_order_shuffle(o, 5, seed);
		struct nem_grudge r;
		nem_grudge_halves(&r, 5, o);
		CHECK(symmetric(&r) && nem_grudge_count(&r) == 12, "random halves seed %llu", (unsigned long long)seed);
		unsigned minority = 0;
		for (unsigned i = 0; i < 5; i++)
			minority += __builtin_popcountll(r.drops[i]) == 3;
		CHECK(minority == 2, "seed %llu: minority of %u", (unsigned long long)seed, minority);
		differing += !nem_grudge_equal(&r, &g);
		struct nem_grudge plain;
		nem_grudge_halves(&plain, 5, NULL);
		differing += !nem_grudge_equal(&r, &plain);
	}
	CHECK(differing > 10, "shuffles hardly vary (%d)", differing);
}

static void test_bridge(void)
{
	struct nem_grudge g;
	unsigned b = 99;
	nem_grudge_bridge(&g, 5, NULL, &b);
	/* [n1 n2] | [n3 n4 n5], n3 the bridge. */
	CHECK(b == 2, "bridge %u", b);
	CHECK(strcmp(js(&g), "{\"n1\":[\"n4\",\"n5\"],\"n2\":[\"n4\",\"n5\"],\"n4\":[\"n1\",\"n2\"],"
	                     "\"n5\":[\"n1\",\"n2\"]}") == 0, "bridge(5) = %s", js(&g));
	unsigned o[7];
	nem_order_shuffle(o, 7, 7);
	nem_grudge_bridge(&g, 7, o, &b);
	for (unsigned i = 0; i < 7; i++)
		CHECK(hears(&g, b, i) && hears(&g, i, b), "bridge %u cut from %u", b, i);
	CHECK(symmetric(&g) && nem_grudge_count(&g) == 2 * 3 * 3, "bridge(7) %s", js(&g));
}

/* Jepsen's majorities ring: every node hears a majority (itself included),
 * no two nodes hear the same set. */
static void test_ring(void)
{
	for (unsigned n = 3; n <= NEM_MAX_NODES; n++) {
		unsigned o[NEM_MAX_NODES];
		nem_order_shuffle(o, n, n * 11);
		struct nem_grudge g;
		nem_grudge_majorities_ring(&g, n, o);
		uint64_t views[NEM_MAX_NODES];
		for (unsigned r = 0; r < n; r++) {
			unsigned c = 0;
			views[r] = 0;
			for (unsigned s = 0; s < n; s++)
				if (hears(&g, r, s)) {
					c++;
					views[r] |= UINT64_C(1) << s;
				}
			CHECK(c == n / 2 + 1, "n=%u: node %u hears %u nodes", n, r, c);
			for (unsigned q = 0; q < r; q++)
				CHECK(views[q] != views[r], "n=%u: nodes %u and %u hear the same majority", n, q, r);
		}
		if (n == 4 || n == 5)
			CHECK(symmetric(&g), "ring(%u) not symmetric: %s", n, js(&g));
	}
	struct nem_grudge g;
	nem_grudge_majorities_ring(&g, 5, NULL);
	/* Ring n1..n5: each hears its two neighbours. */
	CHECK(strcmp(js(&g), "{\"n1\":[\"n3\",\"n4\"],\"n2\":[\"n4\",\"n5\"],\"n3\":[\"n1\",\"n5\"],"
	                     "\"n4\":[\"n1\",\"n2\"],\"n5\":[\"n2\",\"n3\"]}") == 0, "ring(5) = %s", js(&g));
}

static void test_json(void)
{
	char err[256];
	struct nem_grudge g, back;
	nem_grudge_halves(&g, 5, NULL);
	CHECK(nem_grudge_from_json(&back, 5, ids, js(&g), err, sizeof err) == 0, "%s", err);
	CHECK(nem_grudge_equal(&g, &back), "round trip: %s", js(&back));
	CHECK(nem_grudge_from_json(&back, 5, ids, "{}", err, sizeof err) == 0 && nem_grudge_count(&back) == 0, "{}");
	CHECK(nem_grudge_from_json(&back, 5, ids, "{\"n9\":[\"n1\"]}", err, sizeof err) < 0 &&
	      strstr(err, "unknown node \"n9\""), "n9: %s", err);
	CHECK(nem_grudge_from_json(&back, 5, ids, "{\"n1\":[\"n1\"]}", err, sizeof err) < 0 &&
	      strstr(err, "itself"), "self: %s", err);
	CHECK(nem_grudge_from_json(&back, 5, ids, "{\"n1\":[3]}", err, sizeof err) < 0 &&
	      strstr(err, "not a string"), "number: %s", err);
	CHECK(nem_grudge_from_json(&back, 5, ids, "{\"n1\":\"n2\"}", err, sizeof err) < 0 &&
	      strstr(err, "list"), "not a list: %s", err);
	CHECK(nem_grudge_from_json(&back, 5, ids, "[", err, sizeof err) < 0 && strstr(err, "bad JSON"), "bad: %s", err);
	CHECK(nem_grudge_from_json(&back, 5, ids, "{\"n1\":[\"n2\"],\"n1\":[\"n3\"]}", err, sizeof err) < 0,
	      "duplicate key accepted");
	/* Too small a buffer is an error, never a truncated document. */
	char small[20];
	CHECK(nem_grudge_to_json(&g, ids, small, sizeof small) == -1, "small buffer");
	/* All 64 nodes, complete halves: fits in a large buffer, round-trips. */
	for (unsigned i = 0; i < NEM_MAX_NODES; i++) {
		snprintf(idbuf[i], sizeof idbuf[i], "n%u", i + 1);
		ids[i] = idbuf[i];
	}
	nem_grudge_halves(&g, 64, NULL);
	static char big[65536];
	int len = nem_grudge_to_json(&g, ids, big, sizeof big);
	CHECK(len > 0 && (size_t)len == strlen(big), "64 nodes: %d", len);
	CHECK(nem_grudge_from_json(&back, 64, ids, big, err, sizeof err) == 0 && nem_grudge_equal(&g, &back) &&
	      nem_grudge_count(&back) == 2 * 32 * 32, "64-node round trip: %s", err);
}

/* Property: any grudge survives the JSON round trip, and builders never
 * make a node drop itself. Seeded, so a failure names its seed. */
static void test_random_round_trip(void)
{
	char err[256];
	static char buf[65536];
	uint64_t s = 12345;
	for (int iter = 0; iter < 500; iter++) {
		unsigned order[NEM_MAX_NODES];
		nem_order_shuffle(order, NEM_MAX_NODES, s++);
		unsigned n = 1 + order[0];
		struct nem_grudge g, back;
		nem_grudge_init(&g, n);
		unsigned bits[NEM_MAX_NODES];
		nem_order_shuffle(bits, NEM_MAX_NODES, s++);
		for (unsigned k = 0; k < n * 2; k++)
			nem_grudge_drop(&g, bits[k % NEM_MAX_NODES] % n, bits[(k * 7 + 3) % NEM_MAX_NODES] % n);
		for (unsigned r = 0; r < n; r++)
			CHECK(!nem_grudge_drops(&g, r, r), "seed %llu: self drop", (unsigned long long)s);
		int len = nem_grudge_to_json(&g, ids, buf, sizeof buf);
		CHECK(len > 0, "seed %llu: to_json", (unsigned long long)s);
		CHECK(nem_grudge_from_json(&back, n, ids, buf, err, sizeof err) == 0 && nem_grudge_equal(&g, &back),
		      "seed %llu: round trip of %s: %s", (unsigned long long)s, buf, err);
	}
}

int main(void)
{
	for (unsigned i = 0; i < NEM_MAX_NODES; i++) {
		snprintf(idbuf[i], sizeof idbuf[i], "n%u", i + 1);
		ids[i] = idbuf[i];
	}
	test_basics();
	test_halves();
	test_bridge();
	test_ring();
	test_json();
	test_random_round_trip();
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("ok\n");
	return 0;
}
