/* test_chk_diff.c — randomized differential test: thousands of tiny generated histories checked by the library (with and without the read-from check) and by the brute-force oracle; they must agree. Usage: test_chk_diff [COUNT [SEED]]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checker/chk.h"
#include "tests/checker/brute.h"

static unsigned long long rng;
static unsigned rnd(unsigned n)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)((rng >> 33) % n);
}




/* Makes a random history; half of them from a simulated register (mostly
 * valid), half with random read results (mostly invalid). */
static int generate(struct bop *ops, int *nkeys)
{
	int nproc = 2 + (int)rnd(3), n = 1 + (int)rnd(9);
	*nkeys = rnd(4) == 0 ? 2 : 1;
	int clock[5] = {0};
	bool simulate = rnd(2);
	/* a third of the histories are crash-heavy with two values, so that
	 * crashed writes (tokens) and their dominance cache get exercised */
	bool crashy = rnd(3) == 0;
	if (crashy)
		n = 4 + (int)rnd(7);
	int reg[2] = {-1, -1};
	int pending_eff[16];
	for (int i = 0; i < n; i++) {
		int p = (int)rnd((unsigned)nproc);
		struct bop *o = &ops[i];
		o->key = (int)rnd((unsigned)*nkeys);
		unsigned r = rnd(10);
		o->f = r < 4 ? B_READ : r < 7 ? B_WRITE : B_CAS;
		o->a = (int)rnd(4) - 1;
		o->b = (int)rnd(3);
		if (o->f == B_WRITE)
			o->a = (int)rnd(3);
		o->call = clock[p] + (int)rnd(3);
		o->ret = o->call + 1 + (int)rnd(6);
		clock[p] = o->ret + 1;
		unsigned s = rnd(10);
		o->status = s < 7 ? B_OK : s < 9 ? B_INFO : B_FAIL;
		if (crashy) {
			o->status = s < 5 ? B_OK : s < 9 ? B_INFO : B_FAIL;
			if (o->f == B_WRITE)
				o->a = (int)rnd(2);
			if (o->f == B_READ)
				o->a = (int)rnd(3) - 1;
		}
		pending_eff[i] = o->call + (int)rnd((unsigned)(o->ret - o->call + 1));
		(void)p;
	}
	/* process ids: each op belongs to the process whose clock it advanced;
	 * recompute by replaying so that a process never has two open ops */
	if (simulate) {
		/* apply effects in effect-time order to give reads their values
		 * and cas their outcomes */
		int order[16];
		for (int i = 0; i < n; i++)
			order[i] = i;
		for (int i = 0; i < n; i++)
			for (int j = i + 1; j < n; j++)
				if (pending_eff[order[j]] < pending_eff[order[i]]) {
					int t = order[i];
					order[i] = order[j];
					order[j] = t;
				}
		for (int k = 0; k < n; k++) {
			struct bop *o = &ops[order[k]];
			bool applies = o->status == B_OK || (o->status == B_INFO && rnd(2));
			if (o->status == B_FAIL)
				continue;
			if (o->f == B_READ) {
				o->a = reg[o->key];
			} else if (o->f == B_WRITE) {
				if (applies)
					reg[o->key] = o->a;
			} else {
				if (reg[o->key] == o->a) {
					if (applies)
						reg[o->key] = o->b;
				} else if (o->status == B_OK) {
					o->status = B_FAIL;
				}
			}
		}
	}
	return n;
}


int main(int argc, char **argv)
{
	long count = argc > 1 ? atol(argv[1]) : 6000;
	unsigned long long seed0 = argc > 2 ? strtoull(argv[2], NULL, 10) : 20261126;
	long disagree = 0, nvalid = 0, ninvalid = 0;
	for (long it = 0; it < count; it++) {
		unsigned long long seed = seed0 + (unsigned long long)it;
		rng = seed * 0x9e3779b97f4a7c15ull + 1;
		struct bop ops[16];
		int nkeys;
		int n = generate(ops, &nkeys);
		char text[8192];
		brute_jsonl(ops, n, text, sizeof text);
		bool expect = true;
		for (int k = 0; k < nkeys; k++)
			expect &= brute_linearizable(ops, n, k);
		for (int so = 0; so < 3; so++) {
			struct chk_options o = {.model = "kv", .search_only = so};
			char err[512];
			json_t *r = NULL;
			int rc = chk_check_buffer("gen", text, strlen(text), &o, &r, err, sizeof err);
			json_decref(r);
			int want = expect ? CHK_VALID : CHK_INVALID;
			if (rc != want) {
				printf("DISAGREE seed %llu (%s): brute force says %s, checker rc %d %s\n%s\n",
				       seed, so == 2 ? "search only, hashed tokens" : so ? "search only" : "with read-from check",
				       expect ? "valid" : "invalid", rc, rc == CHK_BAD_INPUT ? err : "",
				       text);
				disagree++;
			}
		}
		if (expect)
			nvalid++;
		else
			ninvalid++;
	}
	printf("%ld histories (%ld valid, %ld invalid), %ld disagreements (first seed %llu)\n", count,
	       nvalid, ninvalid, disagree, seed0);
	return disagree ? 1 : 0;
}
