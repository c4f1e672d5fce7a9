/* hx_report.h — report.html from a run directory: the public entry points and the history digest behind the page. */
#ifndef HX_REPORT_H
#define HX_REPORT_H

#include <stdbool.h>
#include <stddef.h>

/* Exit codes of `rapat report` (the contract's numbers). */
enum {
	HX_REPORT_EXIT_OK = 0,
	HX_REPORT_EXIT_USAGE = 2,   /* usage error, or RUN_DIR is not a run directory */
	HX_REPORT_EXIT_FAILED = 4,  /* the page could not be written */
};

/* `rapat report RUN_DIR`; argv[0] is "report". Rebuilds RUN_DIR/report.html
 * and prints its path; messages go to stderr. Returns an exit code above. */
int hx_report_main(int argc, char **argv);

/* Writes run_dir/report.html (atomically: a temporary file renamed over it)
 * from whatever the directory holds; a missing or partial results.json or a
 * truncated history still gives a page that says what is missing.
 * Returns 0, or HX_REPORT_EXIT_USAGE when run_dir is not a run directory,
 * HX_REPORT_EXIT_FAILED when the page cannot be written; `err` says why.
 * Blocks (reads the history once); no global state, safe from any thread. */
int hx_report_write(const char *run_dir, char *err, size_t errlen);

/* ---- the history digest (also used by the unit tests) ---- */

enum hx_report_type { HX_REPORT_NONE = 0, HX_REPORT_OK, HX_REPORT_FAIL, HX_REPORT_INFO };

/* One client operation: an invoke and (when recorded) its completion. */
struct hx_report_op {
	double start, end;     /* seconds since the run started; end < 0: no completion */
	long long process;
	long long index;       /* the invoke's history index */
	unsigned lane;         /* timeline lane (client thread) */
	unsigned f;            /* index into hx_report_hist.fs */
	int node;              /* index into hx_report_hist.nodes, -1 when absent */
	enum hx_report_type type;
	char *value;           /* completion value (invoke's when none), compact JSON, capped */
	char *error;           /* the completion's error, or NULL */
	char *key;             /* the invoke's key (compact JSON), or NULL for a single register */
};

/* One fault window from a nemesis "<kind>-start" .. "<kind>-end" pair. */
struct hx_report_fault {
	char *kind;
	double start, end;     /* end < 0: never healed in the history */
	char *value;           /* compact JSON of the start event's value, capped */
};

/* Another nemesis event (crash, nodes-ready, ...). */
struct hx_report_event {
	double time;
	char *f;
	char *value;
};

struct hx_report_hist {
	struct hx_report_op *ops;
	size_t n_ops, cap_ops;
	struct hx_report_fault *faults;
	size_t n_faults, cap_faults;
	struct hx_report_event *events;
	size_t n_events, cap_events;
	char **fs;             /* distinct operation names, in order of appearance */
	size_t n_fs;
	char **nodes;          /* distinct node ids */
	size_t n_nodes;
	unsigned n_lanes;
	long concurrency;      /* lanes are process % concurrency when > 0 */
	size_t lines;          /* lines read */
	size_t bad_lines;      /* lines that are not a JSON event (skipped) */
	size_t first_bad_line; /* 1-based, 0 when none */
	char bad_reason[160];  /* why the first bad line was skipped */
	bool truncated;        /* the last line has no newline (a crashed run) */
	size_t invokes, oks, fails, infos, incomplete;
	double duration;       /* time of the last event, seconds */
	bool has_time;         /* events carry "time" (else times are line numbers) */
	bool has_keys;         /* some operation carries a "key" */
};

/* Reads a history (JSON Lines) from memory into `h` (zeroed by the caller).
 * concurrency > 0 maps process p to lane p % concurrency (a client thread
 * keeps its lane when it continues under a new process after an info);
 * otherwise each process gets its own lane. Malformed lines are counted and
 * skipped, never fatal. Returns 0, or -1 when out of memory (err says so). */
int hx_report_hist_parse(struct hx_report_hist *h, const char *buf, size_t len, long concurrency,
			 char *err, size_t errlen);

/* The same from a file; -1 with "PATH: strerror" when it cannot be read. */
int hx_report_hist_load(struct hx_report_hist *h, const char *path, long concurrency, char *err,
			size_t errlen);

void hx_report_hist_free(struct hx_report_hist *h);

/* Latency quantile q (0..1) in seconds of the completed ops of type t
 * (HX_REPORT_NONE: any completed op) and name f (NULL: all); -1 when none. */
double hx_report_hist_quantile(const struct hx_report_hist *h, enum hx_report_type t, const char *f,
			       double q);

#endif
