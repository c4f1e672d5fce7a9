/* hx_history.h — the history recorder: every operation and fault as one
 * JSON line in history.jsonl, appended and flushed as it happens, plus the
 * running counts and fault intervals that results.json and the progress
 * line need. */
#ifndef HX_HISTORY_H
#define HX_HISTORY_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

struct hx_counts {
	uint64_t invoke, ok, fail, info;
};

struct hx_history {
	FILE *f;
	uint64_t t0_ns;          /* CLOCK_MONOTONIC at run start */
	uint64_t next_index;
	struct hx_counts counts;
	json_t *faults;          /* [{"f","start_s","end_s","value"}], owned */
	json_t *open_faults;     /* kind -> index into faults of the open one */
};

/* One event. process is either a client number (process_name NULL) or a
 * name such as "nemesis". value/key may be NULL (value is then written as
 * JSON null, key is omitted); node and error may be NULL (omitted). The
 * recorder borrows every pointer for the duration of the call only. */
struct hx_event {
	long long process;
	const char *process_name;
	const char *type;        /* invoke | ok | fail | info */
	const char *f;
	const json_t *key;
	const json_t *value;
	const char *node;
	const char *error;
};

uint64_t hx_now_ns(void);

/* Open path for appending (created, truncated) with the run clock starting
 * now. Returns 0, or -1 with err set. */
int hx_history_open(struct hx_history *h, const char *path, char *err, size_t errlen);

/* Append ev with the next index and the current time, then flush, so a
 * crashed harness still leaves every event it recorded. For nemesis events
 * whose f ends in "-start"/"-end" the fault intervals are updated. Returns
 * the event's index, or -1 with err set on a write error. Never blocks
 * beyond the write(2) of one line. */
long long hx_history_record(struct hx_history *h, const struct hx_event *ev, char *err,
                            size_t errlen);

/* Seconds since the run started. */
double hx_history_elapsed(const struct hx_history *h);

/* Close any still-open fault interval at the current time (end_s = now and
 * "unhealed": true) — used when a run is interrupted. */
void hx_history_close_open_faults(struct hx_history *h);

/* Comma list of the kinds currently in force ("" when none) into buf. */
void hx_history_current_faults(const struct hx_history *h, char *buf, size_t len);

void hx_history_close(struct hx_history *h);

#endif
