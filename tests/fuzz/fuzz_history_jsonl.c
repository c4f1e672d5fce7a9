/* fuzz_history_jsonl.c — fuzz target: any byte string given to the checker as a JSONL history must yield a verdict or a clean bad-input error, never a crash, leak or hang. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checker/chk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chk_options o = {
		.format = CHK_FORMAT_JSONL,
		.time_limit_s = 0.5,
		.mem_limit_bytes = 64u << 20,
		.threads = 1,
	};
	char err[512];
	json_t *r = NULL;
	int rc = chk_check_buffer("fuzz.jsonl", (const char *)data, size, &o, &r, err, sizeof err);
	if (rc == CHK_BAD_INPUT) {
		/* errors name the input and are terminated strings */
		if (r != NULL || strncmp(err, "fuzz.", 5) != 0)
			abort();
	} else {
		if (!r)
			abort();
		char *buf = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&buf, &len);
		if (out) {
			chk_print_result(out, "fuzz.jsonl", r);
			fclose(out);
		}
		free(buf);
		json_decref(r);
	}
	return 0;
}
