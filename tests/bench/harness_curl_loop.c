/* harness_curl_loop.c — the baseline for the harness benchmark: N plain
 * libcurl easy handles in one multi handle, each looping GET on URL for S
 * seconds, no recording. Prints "ops N secs S rate R". */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static size_t sink(char *p, size_t s, size_t n, void *u)
{
	return s * n;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: harness_curl_loop URL CONCURRENCY SECONDS\n");
		return 2;
	}
	const char *url = argv[1];
	int conc = atoi(argv[2]);
	double secs = atof(argv[3]);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURLM *m = curl_multi_init();
	CURL **e = calloc((size_t)conc, sizeof *e);
	for (int i = 0; i < conc; i++) {
		e[i] = curl_easy_init();
		curl_easy_setopt(e[i], CURLOPT_URL, url);
		curl_easy_setopt(e[i], CURLOPT_WRITEFUNCTION, sink);
		curl_easy_setopt(e[i], CURLOPT_PROXY, "");
		curl_easy_setopt(e[i], CURLOPT_TCP_NODELAY, 1L);
		curl_multi_add_handle(m, e[i]);
	}
	long ops = 0, errors = 0;
	double t0 = now(), end = t0 + secs;
	int running = conc;
	while (running > 0) {
		curl_multi_perform(m, &running);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			CURL *h = msg->easy_handle;
			if (msg->data.result == CURLE_OK)
				ops++;
			else
				errors++;
			curl_multi_remove_handle(m, h);
			if (now() < end) {
				curl_multi_add_handle(m, h);
				running++;
			}
		}
		if (running > 0)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	double dt = now() - t0;
	printf("ops %ld errors %ld secs %.2f rate %.0f\n", ops, errors, dt, (double)ops / dt);
	for (int i = 0; i < conc; i++)
		curl_easy_cleanup(e[i]);
	free(e);
	curl_multi_cleanup(m);
	return errors > ops ? 1 : 0;
}
