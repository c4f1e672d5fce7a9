/* test_nem_shaper.c — unit tests of the shaper's pure parts: decision
 * statistics and determinism, delay bounds, the event heap's order. */
#include "nemesis/packet/nem_shaper.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void test_decisions(void **state)
{
	struct nem_shaper_params p = { .delay_ns = 50000000, .jitter_ns = 10000000, .loss = 0.2,
	                               .duplicate = 0.1, .reorder = 0.25 };
	struct nem_shaper_rng g = { 42 };
	int n = 100000, drops = 0, dups = 0, immediate = 0;
	for (int i = 0; i < n; i++) {
		struct nem_shaper_decision d;
		nem_shaper_decide(&p, &g, &d);
		if (d.drop) {
			drops++;
			continue;
		}
		if (d.delay_ns == 0)
			immediate++;
		else
			assert_true(d.delay_ns >= 40000000 && d.delay_ns <= 60000000);
		if (d.dup) {
			dups++;
			assert_true(d.dup_delay_ns >= 40000000 && d.dup_delay_ns <= 60000000);
		}
	}
	/* sd of a proportion over 1e5 draws is < 0.0016: +-0.01 is > 6 sd. */
	assert_true(abs(drops - 20000) < 1000);
	assert_true(abs(dups - 8000) < 800);          /* 0.1 of the 80% kept */
	assert_true(abs(immediate - 20000) < 1000);   /* 0.25 of the 80% kept */
	/* Same seed, same decisions. */
	struct nem_shaper_rng a = { 7 }, b = { 7 };
	for (int i = 0; i < 1000; i++) {
		struct nem_shaper_decision x, y;
		nem_shaper_decide(&p, &a, &x);
		nem_shaper_decide(&p, &b, &y);
		assert_memory_equal(&x, &y, sizeof x);
	}
}

static void test_no_faults(void **state)
{
	struct nem_shaper_params p = { 0 };
	struct nem_shaper_rng g = { 1 };
	for (int i = 0; i < 1000; i++) {
		struct nem_shaper_decision d;
		nem_shaper_decide(&p, &g, &d);
		assert_false(d.drop);
		assert_false(d.dup);
		assert_int_equal(d.delay_ns, 0);
	}
	/* Jitter larger than the delay clamps at zero, never negative. */
	p.delay_ns = 1000;
	p.jitter_ns = 1000000;
	for (int i = 0; i < 1000; i++) {
		struct nem_shaper_decision d;
		nem_shaper_decide(&p, &g, &d);
		assert_true(d.delay_ns >= 0);
	}
}

static void test_heap(void **state)
{
	struct nem_shaper_heap h = { 0 };
	struct nem_shaper_rng g = { 3 };
	assert_int_equal(nem_shaper_heap_peek(&h), INT64_MAX);
	for (uint32_t i = 0; i < 5000; i++) {
		struct nem_shaper_event ev = { .due_ns = (int64_t)(nem_shaper_rng_next(&g) % 1000), .packet_id = i };
		assert_int_equal(nem_shaper_heap_push(&h, ev), 0);
	}
	int64_t last = -1;
	uint64_t last_seq = 0;
	struct nem_shaper_event ev;
	size_t n = 0;
	while (nem_shaper_heap_pop(&h, &ev) == 0) {
		assert_true(ev.due_ns >= last);
		/* Equal due times leave in insertion order. */
		if (ev.due_ns == last)
			assert_true(ev.seq > last_seq);
		last = ev.due_ns;
		last_seq = ev.seq;
		n++;
	}
	assert_int_equal(n, 5000);
	/* Copies are freed by heap_free. */
	struct nem_shaper_event c = { .due_ns = 1, .is_copy = 1, .copy = malloc(10), .copy_len = 10 };
	assert_int_equal(nem_shaper_heap_push(&h, c), 0);
	nem_shaper_heap_free(&h);
	assert_int_equal(h.n, 0);
}

static void test_rate(void **state)
{
	struct nem_shaper_params p = { .rate_bps = 1000000 }; /* 1 Mbit/s: 1250 B take 10 ms */
	int64_t link = 0;
	assert_int_equal(nem_shaper_depart(&p, &link, 0, 1250), 10000000);
	/* Queued behind the first. */
	assert_int_equal(nem_shaper_depart(&p, &link, 0, 1250), 20000000);
	/* Ready after the link went idle: starts when ready. */
	assert_int_equal(nem_shaper_depart(&p, &link, 100000000, 125), 101000000);
	p.rate_bps = 0;
	assert_int_equal(nem_shaper_depart(&p, &link, 5, 1250), 5);
}

static void test_corrupt(void **state)
{
	unsigned char pkt[60] = { 0x45 }, orig[60];
	for (int i = 1; i < 60; i++)
		pkt[i] = (unsigned char)i;
	memcpy(orig, pkt, sizeof pkt);
	for (uint64_t pick = 0; pick < 1000; pick += 7) {
		memcpy(pkt, orig, sizeof pkt);
		long bit = nem_shaper_corrupt(pkt, sizeof pkt, pick);
		assert_true(bit >= 20 * 8 && bit < 60 * 8); /* never the IP header */
		int diff = 0;
		for (int i = 0; i < 60; i++)
			diff += __builtin_popcount(pkt[i] ^ orig[i]);
		assert_int_equal(diff, 1);
		assert_int_not_equal(pkt[bit / 8], orig[bit / 8]);
	}
	/* Nothing beyond the header: untouched. */
	assert_int_equal(nem_shaper_corrupt(pkt, 20, 3), -1);
	assert_int_equal(nem_shaper_corrupt(pkt, 10, 3), -1);
	/* Decisions: corrupt probability holds. */
	struct nem_shaper_params p = { .corrupt = 0.3 };
	struct nem_shaper_rng g = { 5 };
	int n = 0;
	for (int i = 0; i < 100000; i++) {
		struct nem_shaper_decision d;
		nem_shaper_decide(&p, &g, &d);
		n += d.corrupt;
	}
	assert_true(abs(n - 30000) < 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decisions),
		cmocka_unit_test(test_no_faults),
		cmocka_unit_test(test_heap),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_corrupt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
