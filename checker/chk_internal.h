/* chk_internal.h — data structures shared by the checker's modules (not installed). */
#ifndef RAPAT_CHK_INTERNAL_H
#define RAPAT_CHK_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "checker/chk.h"

/* ---- error buffer helpers ---------------------------------------------- */

/* Writes a message into err (truncating). Returns CHK_BAD_INPUT for convenience. */
int chk_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefixes the message already in err with more context: "<ctx>: <old>". */
void chk_err_prefix(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- interned values ----------------------------------------------------- */

/* Every distinct JSON value (structural equality, via its canonical compact
 * sorted-key text) gets a small integer id; id 0 is null. The table owns the
 * json_t references it keeps. Not thread-safe for writes; read-only sharing
 * between threads after the history is built is fine. */
struct chk_values {
	json_t **vals;   /* id -> value */
	char **texts;    /* id -> canonical text */
	size_t n, cap;
	int32_t *slots;  /* open addressing over texts, -1 = empty */
	size_t nslots;
};
int chk_values_init(struct chk_values *t);
void chk_values_free(struct chk_values *t);
/* Interns v (borrowed). Returns the id, or -1 on allocation failure. */
int32_t chk_values_intern(struct chk_values *t, json_t *v);

/* ---- history ---------------------------------------------------------------- */

enum chk_f { CHK_F_READ, CHK_F_WRITE, CHK_F_CAS };
enum chk_status { CHK_ST_OK, CHK_ST_INFO, CHK_ST_FAIL };

/* One client operation: an invoke and its completion (or none = info). */
struct chk_op {
	int64_t process;
	int64_t call_time, ret_time; /* ret_time = INT64_MAX when it never completed */
	uint32_t call_seq, ret_seq;  /* event positions (line order), ties broken by them */
	uint32_t call_line, ret_line;/* 1-based source lines (0 = none) */
	int32_t key;                 /* key id, -1 = no key */
	int32_t a, b;                /* read: value read (ok only); write: a = value;
	                                cas: a = expected, b = new */
	uint8_t f, status;
};

struct chk_history {
	struct chk_op *ops;
	size_t n_ops, cap_ops;
	struct chk_values values; /* id 0 = null */
	struct chk_values keys;
	size_t n_events;          /* client events read (invokes + completions) */
	size_t n_ignored;         /* nemesis and other non-client events */
	bool any_key;
	bool any_cas;
	bool has_time;
	bool edn;
};

void chk_history_init(struct chk_history *h);
void chk_history_free(struct chk_history *h);

/* Parses a whole history in memory. `name` is used in messages
 * ("name:line: field: problem"). Returns 0 or CHK_BAD_INPUT. */
int chk_parse_jsonl(const char *name, const char *data, size_t len, struct chk_history *h,
		    char *err, size_t errlen);
int chk_parse_edn(const char *name, const char *data, size_t len, struct chk_history *h,
		  char *err, size_t errlen);

/* Incremental builder used by both parsers: feeds one event as a JSON object
 * with the contract's fields (type, process, f, value, key, time).
 * `edn` says that keyword strings start with ':' and that `value` may be an
 * independent-key tuple. Returns 0 or CHK_BAD_INPUT. */
struct chk_builder;
struct chk_builder *chk_builder_new(struct chk_history *h, const char *name);
int chk_builder_event(struct chk_builder *b, json_t *ev, unsigned line, char *err, size_t errlen);
/* Closes open invokes (they become info). Frees b. */
int chk_builder_finish(struct chk_builder *b, char *err, size_t errlen);
void chk_builder_free(struct chk_builder *b);

/* ---- EDN reader ------------------------------------------------------------- */

/* A small EDN reader: nil, booleans, integers, floats, strings, characters,
 * keywords (kept as strings with their leading ':'), symbols (strings),
 * vectors, lists and sets (arrays), maps (objects; non-string keys printed as
 * EDN), tagged literals (the tag is dropped), #_ discard, comments. */
struct chk_edn {
	const char *p, *end;
	unsigned line;
	unsigned depth;
};
void chk_edn_init(struct chk_edn *r, const char *data, size_t len);
/* Skips whitespace, commas and comments. Returns false at end of input. */
bool chk_edn_skip(struct chk_edn *r);
/* Reads one form into *out (new reference). Returns 0 or CHK_BAD_INPUT with
 * "line N: problem" in err. */
int chk_edn_read(struct chk_edn *r, json_t **out, char *err, size_t errlen);

/* ---- models -------------------------------------------------------------------- */

/* A sequential specification over a state that fits in 64 bits (a value id
 * for the register models: the kv model is split by key into cas-registers
 * before the search, P-compositionality). `step` is pure. */
struct chk_model {
	const char *name;
	uint64_t (*init)(void);
	bool (*step)(uint64_t state, const struct chk_op *op, uint64_t *next);
	/* The value id the state must equal for op to be legal, or -1 if any state
	 * will do; the search uses it to place crashed writes lazily. */
	int32_t (*requires)(const struct chk_op *op);
	/* True if op never changes the state where it is legal (reads): the
	 * search linearizes such ops greedily. */
	bool (*pure)(const struct chk_op *op);
	uint64_t (*hash)(uint64_t state);
	bool (*equal)(uint64_t a, uint64_t b);
	/* Writes a readable description of the state into buf. */
	void (*describe)(uint64_t state, const struct chk_history *h, char *buf, size_t len);
};
/* Returns the named model or NULL. */
const struct chk_model *chk_model_find(const char *name);
/* Model-specific validation of the ops (e.g. register has no cas). */
int chk_model_validate(const char *model, const struct chk_history *h, const char *path, char *err,
		       size_t errlen);

/* ---- search ---------------------------------------------------------------------- */

/* Shared limits and counters of one check (all threads). */
struct chk_limits {
	double deadline;            /* CLOCK_MONOTONIC seconds; 0 = none */
	size_t mem_limit;
	atomic_size_t mem_used;     /* bytes held by search structures */
	atomic_size_t mem_peak;
	atomic_int stop;            /* set when any partition is invalid */
	atomic_ullong configs;      /* configurations explored (stats) */
	bool no_precheck;           /* tests: search only, skip the read-from check */
	bool no_pack;               /* tests: never pack token vectors (hash them) */
};

enum chk_verdict { CHK_V_VALID = 0, CHK_V_INVALID = 1, CHK_V_UNKNOWN = 3, CHK_V_STOPPED = 4 };

struct chk_search_result {
	int verdict;                /* CHK_V_* */
	char reason[160];           /* for unknown */
	/* On invalid: the deepest linearization reached (op ids into h->ops, in
	 * order; tokens = crashed ops placed lazily) and the op that could not be
	 * placed after it. */
	uint32_t *prefix;
	size_t prefix_len;
	uint32_t stuck;             /* op id */
	uint64_t state_after_prefix;
	uint64_t configs;
	/* Set when the read-from check (not the search) found the violation:
	 * the stuck op's last possible writer and the op that certainly
	 * overwrote it before the stuck op began (UINT32_MAX = none). */
	bool by_precheck;
	uint32_t witness[2];
};

/* Checks the sub-history made of ops `ids[0..n)` of h (all of one key) against
 * model m. Preprocessing drops what cannot matter (see chk_search.c). Blocks;
 * honours lim (deadline, memory, stop). Caller frees res->prefix. */
void chk_search(const struct chk_history *h, const struct chk_model *m, const uint32_t *ids,
		size_t n, struct chk_limits *lim, struct chk_search_result *res);

double chk_now(void);
bool chk_mem_reserve(struct chk_limits *lim, size_t bytes);
void chk_mem_release(struct chk_limits *lim, size_t bytes);

/* Describes op i as JSON for counterexamples: process, type, f, value, key,
 * start, end, line. */
json_t *chk_op_json(const struct chk_history *h, uint32_t i);

#endif
