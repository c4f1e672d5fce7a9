/* chk.h — public API of the rapat linearizability checker (library libchecker.a). */
#ifndef RAPAT_CHK_H
#define RAPAT_CHK_H

#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

enum chk_format { CHK_FORMAT_AUTO, CHK_FORMAT_JSONL, CHK_FORMAT_EDN };

/* Verdicts; they double as the exit codes of `rapat check`. */
enum { CHK_VALID = 0, CHK_INVALID = 1, CHK_BAD_INPUT = 2, CHK_UNKNOWN = 3 };

struct chk_options {
	const char *model;      /* "register" | "cas-register" | "kv"; NULL = auto
	                           (kv if any op has a key, else cas-register) */
	enum chk_format format;
	double time_limit_s;    /* 0 = none */
	size_t mem_limit_bytes; /* 0 = default (1 GiB); exceeding it ends in unknown */
	unsigned threads;       /* 0 = auto (one per core, at most one per key) */
	int search_only;        /* diagnostics: 1 = skip the read-from check, decide by search;
	                           2 = also hash token counts instead of comparing them by
	                           dominance (the fallback for many crashed values) */
};

/* Checks the history file at `path` for linearizability.
 * Returns CHK_VALID, CHK_INVALID, CHK_UNKNOWN, or CHK_BAD_INPUT (then `err`
 * names file:line and the field at fault and *result is NULL).
 * On the other three, *result is a new reference (caller json_decref()s it)
 * to the contract's checker object:
 *   {"valid": true|false|"unknown", "model": ..., "ops": N, "keys": K,
 *    "time_s": T, "peak_mem_bytes": M, "counterexample": null | {...},
 *    "reason": "..." (unknown only), "cpu_s": C, "configurations": E}
 * counterexample (invalid only), for drawing lanes:
 *   {"key": K | null, "found_by": "search" | "read-from check",
 *    "op": OP,                 the op that could not be placed
 *    "ops": [OP...],           a small set that is not linearizable on its own
 *                              (that op carries "stuck": true); "ops_total": N
 *    "minimal": bool,          no single op of the set can be removed
 *    "shrink_checks": n,
 *    "prefix": null | {"length": L, "state": V, "last": [OP...]}}
 *                              the longest linearizable prefix, its final
 *                              register value and its last ops in order
 *   OP = {"id", "process", "type": "ok"|"info"|"fail", "f", "value", "key"
 *         (kv only), "start", "end" (null: never completed), "line"}
 * `o` may be NULL (defaults). Blocks; may start up to o->threads threads,
 * all joined before it returns. Thread-safe: no global mutable state. */
int chk_check_path(const char *path, const struct chk_options *o, json_t **result, char *err,
		   size_t errlen);

/* The same on a history already in memory (`name` is used in messages). */
int chk_check_buffer(const char *name, const char *data, size_t len, const struct chk_options *o,
		     json_t **result, char *err, size_t errlen);

/* The `rapat check` command; argv[0] is "check". Prints the verdict (and a
 * counterexample) to stdout, errors to stderr; returns the exit code
 * (0 valid, 1 invalid, 2 bad input or usage, 3 unknown). */
int chk_cli_main(int argc, char **argv);

/* Prints a result object from chk_check_* readably (verdict line, counterexample
 * as a table of operations) to `out`. */
void chk_print_result(FILE *out, const char *path, const json_t *result);

#endif
