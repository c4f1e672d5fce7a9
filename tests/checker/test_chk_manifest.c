/* test_chk_manifest.c — checks every history in $RAPAT_SHARED/histories/manifest.tsv and compares the verdict (and the counterexample's shape) with the expected one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checker/chk.h"

int main(void)
{
	const char *shared = getenv("RAPAT_SHARED");
	if (!shared || !*shared) {
		printf("RAPAT_SHARED is not set; the public histories are not available\n");
		return 77;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/histories/manifest.tsv", shared);
	FILE *f = fopen(path, "r");
	if (!f) {
		printf("%s missing; the public histories are not available\n", path);
		return 77;
	}
	char line[4096];
	unsigned n = 0, bad = 0, valid = 0, invalid = 0;
	while (fgets(line, sizeof line, f)) {
		char file[2048], fmt[32], model[64], expect[32];
		if (sscanf(line, "%2047s %31s %63s %31s", file, fmt, model, expect) != 4 ||
		    strcmp(file, "path") == 0)
			continue;
		struct chk_options o = {
			.model = model,
			.format = strcmp(fmt, "edn") == 0 ? CHK_FORMAT_EDN : CHK_FORMAT_JSONL,
			.time_limit_s = 60,
		};
		char hp[4096], err[1024];
		snprintf(hp, sizeof hp, "%s/histories/%s", shared, file);
		/* twice: with the read-from check and by search alone */
		for (int so = 0; so < 2; so++) {
			o.search_only = so;
			json_t *r = NULL;
			int rc = chk_check_path(hp, &o, &r, err, sizeof err);
			int want = strcmp(expect, "valid") == 0 ? CHK_VALID : CHK_INVALID;
			if (rc != want) {
				printf("FAIL %s%s: expected %s, got %d %s\n", file,
				       so ? " (search only)" : "", expect, rc,
				       rc == CHK_BAD_INPUT ? err : "");
				bad++;
			} else if (rc == CHK_INVALID) {
				json_t *cx = json_object_get(r, "counterexample");
				json_t *ops = json_object_get(cx, "ops");
				size_t i, stuck = 0;
				json_t *op;
				json_array_foreach(ops, i, op) stuck += json_is_true(json_object_get(op, "stuck"));
				if (json_array_size(ops) == 0 || stuck != 1 ||
				    !json_is_object(json_object_get(cx, "op"))) {
					printf("FAIL %s: malformed counterexample\n", file);
					bad++;
				}
			}
			json_decref(r);
		}
		n++;
		if (strcmp(expect, "valid") == 0)
			valid++;
		else
			invalid++;
	}
	fclose(f);
	printf("%u histories (%u valid, %u invalid expected), %u wrong\n", n, valid, invalid, bad);
	if (n == 0) {
		printf("manifest lists no histories\n");
		return 1;
	}
	return bad ? 1 : 0;
}
