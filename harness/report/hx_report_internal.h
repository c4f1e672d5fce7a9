/* hx_report_internal.h — what the report's C files share: embedded assets and HTML fragment writers. */
#ifndef HX_REPORT_INTERNAL_H
#define HX_REPORT_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "harness/report/hx_report.h"

/* report.css and report.js, embedded at build time (hx_report_assets.c). */
extern const char hx_report_css[];
extern const size_t hx_report_css_len;
extern const char hx_report_js[];
extern const size_t hx_report_js_len;

/* qsort comparator for an array of const char *. */
int hx_report_cmp_str(const void *a, const void *b);

/* s as a JSON string literal (safe inside <script>: '/' and '<' escaped). */
void hx_report_json_string(FILE *o, const char *s);

/* s percent-encoded for a relative URL path segment. */
void hx_report_url_path(FILE *o, const char *s);

/* An array of objects as a table: columns = union of keys (first rows),
 * nested values as compact JSON; at most max_rows rows, then a count. */
void hx_report_table_of_objects(FILE *o, const json_t *arr, size_t max_rows);

/* The stats checker: availability (overall, clean/faulty, per fault, per
 * node) and performance (latency quantiles, throughput per f) tables. */
void hx_report_write_stats(FILE *o, const json_t *chk);

/* Any other checker: scalar fields, finding tables; a linearizability
 * counterexample as an SVG of process lanes plus tables. h may be NULL. */
void hx_report_write_checker(FILE *o, const json_t *chk, const struct hx_report_hist *h);

#endif
