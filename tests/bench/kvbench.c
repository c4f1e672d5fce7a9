/* kvbench.c — closed-loop load generator for node protocol v1: N client
 * threads, each with one keep-alive libcurl connection to one endpoint
 * (round-robin over the list), PUT then GET for a fixed time; prints
 * throughput and p50/p99/max latency per phase. Prints numbers, asserts
 * nothing about speed; exits 1 only when no request succeeded.
 *
 * usage: kvbench --endpoints URL[,URL...] [--clients N[,N...]] [--duration S]
 *                [--ops put,get] [--keys K]
 */
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ENDPOINTS 16
#define MAX_CLIENTS 1024

struct opts {
	char *endpoints[MAX_ENDPOINTS];
	int n_endpoints;
	int clients[16];
	int n_clients;
	double duration;
	int do_put, do_get;
	int keys;
};

struct worker {
	pthread_t th;
	const struct opts *o;
	int id;
	int is_put;
	const char *endpoint;
	double deadline;
	double *lat; /* seconds */
	size_t n_lat, cap_lat;
	unsigned long errors;
	long last_code;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t sink(char *p, size_t s, size_t n, void *ud)
{
	return s * n;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	CURL *c = curl_easy_init();
	if (!c)
		return NULL;
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	char url[512], body[128];
	unsigned long i = 0;
	while (now_s() < w->deadline) {
		int key = (int)((unsigned long)w->id * 7919u + i) % w->o->keys;
		snprintf(url, sizeof url, "%s/v1/kv/bench%d", w->endpoint, key);
		curl_easy_setopt(c, CURLOPT_URL, url);
		if (w->is_put) {
			snprintf(body, sizeof body, "{\"value\":%lu}", i);
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		} else {
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
			curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		}
		double t0 = now_s();
		CURLcode rc = curl_easy_perform(c);
		double dt = now_s() - t0;
		long code = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		i++;
		/* A read of a key never written is a 404: still a served read. */
		if (rc != CURLE_OK || !(code == 200 || (!w->is_put && code == 404))) {
			w->errors++;
			w->last_code = rc != CURLE_OK ? -(long)rc : code;
			continue;
		}
		if (w->n_lat == w->cap_lat) {
			size_t nc = w->cap_lat ? w->cap_lat * 2 : 4096;
			double *nl = realloc(w->lat, nc * sizeof *nl);
			if (!nl)
				break;
			w->lat = nl;
			w->cap_lat = nc;
		}
		w->lat[w->n_lat++] = dt;
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return NULL;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static size_t phase(const struct opts *o, int clients, int is_put)
{
	struct worker *ws = calloc((size_t)clients, sizeof *ws);
	if (!ws)
		return 0;
	double start = now_s();
	for (int i = 0; i < clients; i++) {
		ws[i].o = o;
		ws[i].id = i;
		ws[i].is_put = is_put;
		ws[i].endpoint = o->endpoints[i % o->n_endpoints];
		ws[i].deadline = start + o->duration;
		pthread_create(&ws[i].th, NULL, run, &ws[i]);
	}
	size_t total = 0;
	unsigned long errors = 0;
	long last_code = 0;
	for (int i = 0; i < clients; i++) {
		pthread_join(ws[i].th, NULL);
		total += ws[i].n_lat;
		errors += ws[i].errors;
		if (ws[i].errors)
			last_code = ws[i].last_code;
	}
	double elapsed = now_s() - start;
	double *all = malloc((total ? total : 1) * sizeof *all);
	size_t k = 0;
	for (int i = 0; i < clients; i++) {
		if (all)
			memcpy(all + k, ws[i].lat, ws[i].n_lat * sizeof *all);
		k += ws[i].n_lat;
		free(ws[i].lat);
	}
	free(ws);
	double p50 = 0, p99 = 0, mx = 0;
	if (all && total) {
		qsort(all, total, sizeof *all, cmp_d);
		p50 = all[(size_t)(0.50 * (double)(total - 1))];
		p99 = all[(size_t)(0.99 * (double)(total - 1))];
		mx = all[total - 1];
	}
	free(all);
	printf("%-4s clients=%-3d ops=%-7zu ops/s=%-8.0f p50_ms=%-7.2f p99_ms=%-7.2f max_ms=%-7.2f errors=%lu%s",
	       is_put ? "put" : "get", clients, total, (double)total / elapsed, p50 * 1e3, p99 * 1e3, mx * 1e3, errors,
	       errors ? "" : "\n");
	if (errors)
		printf(" (last: %s %ld)\n", last_code < 0 ? "curl error" : "http", last_code < 0 ? -last_code : last_code);
	fflush(stdout);
	return total;
}

static void usage(FILE *f)
{
	fputs("usage: kvbench --endpoints URL[,URL...] [--clients N[,N...]] [--duration S] [--ops put,get] "
	      "[--keys K]\n"
	      "  defaults: --clients 1,32 --duration 5 --ops put,get --keys 1000\n",
	      f);
}

static int bad(const char *flag, const char *v)
{
	fprintf(stderr, "kvbench: %s: bad value '%s'\n", flag, v ? v : "(missing)");
	usage(stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct opts o = {.duration = 5, .do_put = 1, .do_get = 1, .keys = 1000};
	o.clients[0] = 1;
	o.clients[1] = 32;
	o.n_clients = 2;
	for (int i = 1; i < argc; i += 2) { /* every flag takes one value (--help aside) */
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--endpoints") == 0 && v) {
			char *s = strdup(v), *save = NULL;
			o.n_endpoints = 0;
			for (char *t = strtok_r(s, ",", &save); t && o.n_endpoints < MAX_ENDPOINTS; t = strtok_r(NULL, ",", &save))
				o.endpoints[o.n_endpoints++] = t;
		} else if (strcmp(a, "--clients") == 0 && v) {
			char *s = strdup(v), *save = NULL;
			o.n_clients = 0;
			for (char *t = strtok_r(s, ",", &save); t && o.n_clients < 16; t = strtok_r(NULL, ",", &save)) {
				int n = atoi(t);
				if (n < 1 || n > MAX_CLIENTS)
					return bad(a, t);
				o.clients[o.n_clients++] = n;
			}
		} else if (strcmp(a, "--duration") == 0 && v) {
			o.duration = atof(v);
			if (!(o.duration > 0))
				return bad(a, v);
		} else if (strcmp(a, "--keys") == 0 && v) {
			o.keys = atoi(v);
			if (o.keys < 1)
				return bad(a, v);
		} else if (strcmp(a, "--ops") == 0 && v) {
			o.do_put = strstr(v, "put") != NULL;
			o.do_get = strstr(v, "get") != NULL;
			if (!o.do_put && !o.do_get)
				return bad(a, v);
		} else {
			return bad(a, v);
		}
	}
	if (!o.n_endpoints)
		return bad("--endpoints", NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	size_t ok = 0;
	for (int k = 0; k < o.n_clients; k++) {
		if (o.do_put)
			ok += phase(&o, o.clients[k], 1);
		if (o.do_get)
			ok += phase(&o, o.clients[k], 0);
	}
	curl_global_cleanup();
	return ok ? 0 : 1;
}
