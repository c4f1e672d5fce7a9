/* hx_campaign.h — `rapat campaign`: many runs (plan entries x seeds) as child processes, judged against expectations, summarised as campaign.json, JUnit XML and a webhook POST. */
#ifndef HX_CAMPAIGN_H
#define HX_CAMPAIGN_H

#include <stdbool.h>
#include <stddef.h>

/* `rapat campaign CAMPAIGN.lua [--budget S] [--shard I/N] [--junit FILE]
 * [--post URL] [--out DIR] [--list]`; argv[0] is "campaign".
 * Runs each entry x seed as `rapat run PLAN --seed N ... --out DIR/<name>-<i>-s<seed>`
 * in a child process (one after another; the campaign itself never enters a
 * lab). Returns 0 when no run failed, 1 otherwise, 2 for usage errors and bad
 * campaign files (the message names file:line and the field). Blocks. */
int hx_campaign_main(int argc, char **argv);

#define HX_CAMPAIGN_MAX_SETS 100 /* options in one entry's `set` */

enum hx_campaign_expect { HX_CAMPAIGN_VALID, HX_CAMPAIGN_INVALID, HX_CAMPAIGN_UNKNOWN };

/* One entry of a campaign file's `runs` list. */
struct hx_campaign_entry {
	char *name;            /* entry name (default: the plan's base name without .lua) */
	char *plan;            /* path of the plan */
	char *db;              /* --db value, or NULL */
	char **sets;           /* "KEY=VALUE" strings for --set, sorted by key */
	size_t n_sets;
	long long *seeds;      /* at least one */
	size_t n_seeds;
	enum hx_campaign_expect expect;
	double time_limit;     /* --time-limit, 0 = the plan's */
	long nodes;            /* --nodes, 0 = the plan's */
	double timeout;        /* wall-clock bound of one run in seconds, 0 = default */
	int line;              /* where the entry starts in the file (best effort) */
};

struct hx_campaign {
	char *path;
	char *name;
	struct hx_campaign_entry *entries;
	size_t n_entries;
};

/* Loads and validates a campaign file. Returns 0, or -1 with err naming
 * "FILE:LINE: runs[K].FIELD: what is wrong". Plans (and db paths) must exist
 * relative to the current directory. */
int hx_campaign_load(struct hx_campaign *c, const char *path, char *err, size_t errlen);

void hx_campaign_free(struct hx_campaign *c);

/* Shard selection: the k-th run (0-based, entries in file order, seeds in
 * entry order) belongs to shard (k mod n) + 1. Deterministic, balanced. */
static inline bool hx_campaign_in_shard(size_t k, unsigned shard, unsigned n_shards)
{
	return n_shards <= 1 || (unsigned)(k % n_shards) + 1 == shard;
}

/* Parses "I/N" (1 <= I <= N <= 1000). Returns 0 or -1. */
int hx_campaign_parse_shard(const char *s, unsigned *shard, unsigned *n_shards);

const char *hx_campaign_expect_name(enum hx_campaign_expect e);

#endif
