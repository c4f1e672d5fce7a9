/* fuzz_history_diff.c — differential fuzz target: bytes become a tiny register/kv history; the checker in all its modes must agree with the brute-force oracle. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checker/chk.h"
#include "tests/checker/brute.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int nkeys = 1 + (data[0] & 1);
	int n = (int)((size - 1) / 5);
	if (n > 10)
		n = 10;
	struct bop ops[16] = {0};
	for (int i = 0; i < n; i++) {
		const uint8_t *b = data + 1 + 5 * i;
		struct bop *o = &ops[i];
		o->f = b[0] % 3;
		unsigned s = (b[0] >> 2) % 8;
		o->status = s < 5 ? B_OK : s < 7 ? B_INFO : B_FAIL;
		o->key = (b[0] >> 5) % nkeys;
		o->a = o->f == B_WRITE ? b[1] % 3 : (int)(b[1] % 4) - 1;
		o->b = b[2] % 3;
		o->call = b[3] % 16;
		o->ret = o->call + 1 + b[4] % 8;
	}
	char text[8192];
	brute_jsonl(ops, n, text, sizeof text);
	bool expect = true;
	for (int k = 0; k < nkeys; k++)
		expect &= brute_linearizable(ops, n, k);
	for (int mode = 0; mode < 3; mode++) {
		struct chk_options o = {.model = "kv", .search_only = mode, .threads = 1};
		char err[512];
		json_t *r = NULL;
		int rc = chk_check_buffer("diff", text, strlen(text), &o, &r, err, sizeof err);
		json_decref(r);
		if (rc != (expect ? CHK_VALID : CHK_INVALID)) {
			fprintf(stderr, "mode %d: checker %d, brute force %s\n%s\n%s\n", mode, rc,
				expect ? "valid" : "invalid", rc == CHK_BAD_INPUT ? err : "", text);
			abort();
		}
	}
	return 0;
}
