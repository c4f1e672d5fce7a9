/* chk_cli.c — the `rapat check` command: options, verdict printing, exit codes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checker/chk_internal.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: rapat check HISTORY [--model register|cas-register|kv] "
		     "[--format auto|jsonl|edn] [--time-limit S] [--json]\n"
		     "                   [--threads N] [--mem-limit MIB] [--search-only]\n"
		     "exit: 0 valid, 1 invalid, 2 bad input or usage, 3 unknown\n");
}

static void print_ops_header(FILE *out)
{
	fprintf(out, "    %8s  %-4s  %-5s  %-24s  %14s  %14s  %s\n", "process", "type", "f", "value",
		"start", "end", "line");
}

static void print_op(FILE *out, const json_t *op, const char *mark)
{
	char *v = json_dumps(json_object_get(op, "value"), JSON_COMPACT | JSON_ENCODE_ANY);
	json_t *end = json_object_get(op, "end");
	char endbuf[32];
	if (json_is_integer(end))
		snprintf(endbuf, sizeof endbuf, "%lld", (long long)json_integer_value(end));
	else
		snprintf(endbuf, sizeof endbuf, "never");
	fprintf(out, "    %8lld  %-4s  %-5s  %-24s  %14lld  %14s  %lld%s\n",
		(long long)json_integer_value(json_object_get(op, "process")),
		json_string_value(json_object_get(op, "type")),
		json_string_value(json_object_get(op, "f")), v ? v : "?",
		(long long)json_integer_value(json_object_get(op, "start")), endbuf,
		(long long)json_integer_value(json_object_get(op, "line")), mark);
	free(v);
}

void chk_print_result(FILE *out, const char *path, const json_t *r)
{
	json_t *valid = json_object_get(r, "valid");
	const char *word = json_is_true(valid) ? "valid" : json_is_false(valid) ? "INVALID" : "unknown";
	long long keys = (long long)json_integer_value(json_object_get(r, "keys"));
	fprintf(out, "%s: %s (%s, %lld ops, %lld key%s, %.3f s, peak %.1f MiB)\n", path, word,
		json_string_value(json_object_get(r, "model")),
		(long long)json_integer_value(json_object_get(r, "ops")), keys, keys == 1 ? "" : "s",
		json_real_value(json_object_get(r, "time_s")),
		(double)json_integer_value(json_object_get(r, "peak_mem_bytes")) / (1 << 20));
	if (json_is_string(json_object_get(r, "reason")))
		fprintf(out, "reason: %s\n", json_string_value(json_object_get(r, "reason")));
	json_t *cx = json_object_get(r, "counterexample");
	if (!json_is_object(cx))
		return;
	json_t *ops = json_object_get(cx, "ops");
	char *key = json_dumps(json_object_get(cx, "key"), JSON_COMPACT | JSON_ENCODE_ANY);
	fprintf(out, "counterexample%s%s: %zu operation(s) that cannot be linearized together%s\n",
		json_is_null(json_object_get(cx, "key")) ? "" : " for key ",
		json_is_null(json_object_get(cx, "key")) ? "" : key, json_array_size(ops),
		json_is_true(json_object_get(cx, "minimal")) ? " (no single one can be removed)"
							       : " (shrinking stopped at its budget)");
	free(key);
	print_ops_header(out);
	size_t i;
	json_t *op;
	json_array_foreach(ops, i, op) print_op(
		out, op, json_is_true(json_object_get(op, "stuck")) ? "  <- cannot be placed" : "");
	json_t *pre = json_object_get(cx, "prefix");
	if (!json_is_object(pre)) {
		fprintf(out, "(found by the read-from check: the read's value was certainly overwritten, or never written, before it began)\n");
		return;
	}
	char *st = json_dumps(json_object_get(pre, "state"), JSON_COMPACT | JSON_ENCODE_ANY);
	fprintf(out,
		"longest linearizable prefix: %lld operations, leaving the register at %s; then this "
		"operation could not be placed:\n",
		(long long)json_integer_value(json_object_get(pre, "length")), st ? st : "?");
	free(st);
	print_ops_header(out);
	if (json_is_object(json_object_get(cx, "op")))
		print_op(out, json_object_get(cx, "op"), "");
	json_t *last = json_object_get(pre, "last");
	if (json_array_size(last)) {
		fprintf(out, "  the prefix ended with (in linearization order):\n");
		print_ops_header(out);
		json_array_foreach(last, i, op) print_op(out, op, "");
	}
}

int chk_cli_main(int argc, char **argv)
{
	struct chk_options o = {0};
	const char *path = NULL;
	bool as_json = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;
		if (strcmp(a, "--json") == 0) {
			as_json = true;
		} else if (strcmp(a, "--search-only") == 0) {
			o.search_only = 1;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--model") == 0) {
			if (!v || !chk_model_find(v)) {
				fprintf(stderr, "rapat check: --model: expected register, cas-register or kv%s%s\n",
					v ? ", got " : "", v ? v : "");
				return CHK_BAD_INPUT;
			}
			o.model = v;
			i++;
		} else if (strcmp(a, "--format") == 0) {
			if (v && strcmp(v, "auto") == 0)
				o.format = CHK_FORMAT_AUTO;
			else if (v && strcmp(v, "jsonl") == 0)
				o.format = CHK_FORMAT_JSONL;
			else if (v && strcmp(v, "edn") == 0)
				o.format = CHK_FORMAT_EDN;
			else {
				fprintf(stderr, "rapat check: --format: expected auto, jsonl or edn%s%s\n",
					v ? ", got " : "", v ? v : "");
				return CHK_BAD_INPUT;
			}
			i++;
		} else if (strcmp(a, "--time-limit") == 0) {
			errno = 0;
			double d = v ? strtod(v, &end) : -1;
			if (!v || *end || errno || d < 0 || d != d) {
				fprintf(stderr, "rapat check: --time-limit: expected seconds >= 0%s%s\n",
					v ? ", got " : "", v ? v : "");
				return CHK_BAD_INPUT;
			}
			o.time_limit_s = d;
			i++;
		} else if (strcmp(a, "--threads") == 0) {
			long n = v ? strtol(v, &end, 10) : -1;
			if (!v || *end || n < 0 || n > 64) {
				fprintf(stderr, "rapat check: --threads: expected 0..64%s%s\n",
					v ? ", got " : "", v ? v : "");
				return CHK_BAD_INPUT;
			}
			o.threads = (unsigned)n;
			i++;
		} else if (strcmp(a, "--mem-limit") == 0) {
			long n = v ? strtol(v, &end, 10) : -1;
			if (!v || *end || n <= 0) {
				fprintf(stderr, "rapat check: --mem-limit: expected MiB > 0%s%s\n",
					v ? ", got " : "", v ? v : "");
				return CHK_BAD_INPUT;
			}
			o.mem_limit_bytes = (size_t)n << 20;
			i++;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "rapat check: unknown option %s\n", a);
			usage(stderr);
			return CHK_BAD_INPUT;
		} else if (path) {
			fprintf(stderr, "rapat check: one history at a time (got %s and %s)\n", path, a);
			return CHK_BAD_INPUT;
		} else {
			path = a;
		}
	}
	if (!path) {
		fprintf(stderr, "rapat check: missing HISTORY\n");
		usage(stderr);
		return CHK_BAD_INPUT;
	}
	char err[1024];
	json_t *r;
	int rc = chk_check_path(path, &o, &r, err, sizeof err);
	if (rc == CHK_BAD_INPUT) {
		fprintf(stderr, "rapat check: %s\n", err);
		return rc;
	}
	if (as_json) {
		json_dumpf(r, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
	} else {
		chk_print_result(stdout, path, r);
	}
	json_decref(r);
	return rc;
}
