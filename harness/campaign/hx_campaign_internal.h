/* hx_campaign_internal.h — the campaign's state shared by its C files (run list, outcomes, outputs). */
#ifndef HX_CAMPAIGN_INTERNAL_H
#define HX_CAMPAIGN_INTERNAL_H

#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "harness/campaign/hx_campaign.h"
#include "harness/hx_util.h"

enum hx_campaign_outcome { HX_CAMPAIGN_PASSED, HX_CAMPAIGN_FAILED, HX_CAMPAIGN_ERROR, HX_CAMPAIGN_SKIPPED };

struct hx_campaign_result {
	size_t entry;          /* index into the campaign's entries */
	size_t ordinal;        /* position in the whole (unsharded) run list */
	long long seed;
	char name[192];        /* <name>-<i>-s<seed> */
	char dir[PATH_MAX];
	char out_path[PATH_MAX];
	char seed_s[24], time_limit_s[32], nodes_s[16];
	bool started, budget_skip;
	enum hx_campaign_outcome outcome;
	char verdict[16];      /* valid | invalid | unknown | error | not run */
	char message[2048];
	int exit_code;
	double duration, timeout;
	json_t *figures;
	json_t *argv;
};

struct hx_campaign_state {
	struct hx_campaign c;
	struct hx_campaign_result *runs;
	size_t n_runs, total_all;
	unsigned shard, n_shards;
	double budget, elapsed;
	char dir[PATH_MAX];
	char rapat[PATH_MAX];
	char started[32];
	size_t counts[4];
	int exit_code;
	const char *post_url;
	bool post_done, post_ok;
	long post_status;
	char post_err[512];
};

/* campaign.json in st->dir (atomically). */
int hx_campaign_write_json(const struct hx_campaign_state *st, char *err, size_t errlen);

/* The summary posted to the webhook (also the head of campaign.json). */
json_t *hx_campaign_summary(const struct hx_campaign_state *st);

/* index.html in st->dir: the runs as a table linking each run's report.html (atomically). */
int hx_campaign_write_index(const struct hx_campaign_state *st, char *err, size_t errlen);

/* JUnit XML: one testsuite, one testcase per run of the shard. */
int hx_campaign_write_junit(const struct hx_campaign_state *st, const char *path, char *err, size_t errlen);

/* POSTs hx_campaign_summary() as JSON: connect timeout 5 s, 15 s per attempt,
 * 3 attempts at most (1 s, 2 s apart) on transport errors, 429 and 5xx.
 * Returns 0 on a 2xx answer; -1 with err otherwise (*status: last HTTP code or 0). */
int hx_campaign_post(const struct hx_campaign_state *st, const char *url, long *status, char *err,
		     size_t errlen);

#endif
