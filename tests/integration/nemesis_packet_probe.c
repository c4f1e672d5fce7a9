/* nemesis_packet_probe.c — test helper for the packet shaper: UDP and TCP
 * echo servers, and clients that measure round trips, losses, duplicates
 * and reordering (one summary line on stdout). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int64_t pct(int64_t *v, size_t n, double p)
{
	if (!n)
		return -1;
	qsort(v, n, sizeof *v, cmp64);
	size_t i = (size_t)(p * (double)(n - 1));
	return v[i];
}

static struct sockaddr_in addr(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

static int udp_echo(int port)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = addr("0.0.0.0", port);
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("bind");
		return 1;
	}
	char buf[2048];
	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
		if (n > 0)
			sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
}

/* Sends count datagrams every interval_us; echoes are matched by sequence
 * number until wait_ms after the last send. */
static int udp_client(const char *ip, int port, int count, int interval_us, int wait_ms)
{
	/* Not connected: the echo may come from another address of the server
	 * (its primary one), which a connected socket would filter out. */
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = addr(ip, port);
	int64_t *sent_at = calloc((size_t)count, sizeof *sent_at);
	int *seen = calloc((size_t)count, sizeof *seen);
	int64_t *rtt = calloc((size_t)count, sizeof *rtt);
	size_t nrtt = 0;
	long dups = 0, late = 0, received = 0;
	int64_t last_arrival = 0;
	int max_seq = -1, next = 0;
	int64_t start = now_us(), deadline = INT64_MAX;
	for (;;) {
		int64_t t = now_us();
		if (next < count && t >= start + (int64_t)next * interval_us) {
			uint32_t msg[16] = { (uint32_t)next };
			sent_at[next] = t;
			sendto(s, msg, sizeof msg, 0, (struct sockaddr *)&a, sizeof a);
			if (++next == count)
				deadline = now_us() + (int64_t)wait_ms * 1000;
			continue;
		}
		if (t >= deadline)
			break;
		int64_t until = next < count ? start + (int64_t)next * interval_us : deadline;
		struct pollfd p = { .fd = s, .events = POLLIN };
		int ms = (int)((until - t + 999) / 1000);
		if (poll(&p, 1, ms > 0 ? ms : 0) <= 0)
			continue;
		uint32_t msg[16];
		ssize_t n;
		while ((n = recv(s, msg, sizeof msg, MSG_DONTWAIT)) > 0) {
			int seq = (int)msg[0];
			if (seq < 0 || seq >= count)
				continue;
			received++;
			last_arrival = now_us();
			if (seen[seq]++) {
				dups++;
				continue;
			}
			rtt[nrtt++] = now_us() - sent_at[seq];
			if (seq < max_seq)
				late++;
			else
				max_seq = seq;
		}
	}
	/* span: from the first send to the last echo (a rate limit stretches it) */
	printf("sent=%d distinct=%zu dups=%ld late=%ld rtt_p10_us=%lld rtt_p50_us=%lld rtt_p90_us=%lld span_us=%lld\n",
	       count, nrtt, dups, late, (long long)pct(rtt, nrtt, 0.1), (long long)pct(rtt, nrtt, 0.5),
	       (long long)pct(rtt, nrtt, 0.9), (long long)(last_arrival ? last_arrival - start : -1));
	free(sent_at);
	free(seen);
	free(rtt);
	close(s);
	return 0;
}

static int tcp_echo(int port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = addr("0.0.0.0", port);
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 16) < 0) {
		perror("bind/listen");
		return 1;
	}
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		char buf[4096];
		ssize_t n;
		while ((n = read(c, buf, sizeof buf)) > 0)
			if (write(c, buf, (size_t)n) != n)
				break;
		close(c);
	}
}

static int tcp_client(const char *ip, int port, int count)
{
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct sockaddr_in a = addr(ip, port);
	int64_t t0 = now_us();
	if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("connect");
		return 1;
	}
	int64_t connect_us = now_us() - t0;
	int64_t *rtt = calloc((size_t)count, sizeof *rtt);
	char msg[64] = "ping", back[64];
	for (int i = 0; i < count; i++) {
		int64_t t = now_us();
		if (write(s, msg, sizeof msg) != sizeof msg) {
			free(rtt);
			return 1;
		}
		size_t got = 0;
		while (got < sizeof back) {
			ssize_t n = read(s, back + got, sizeof back - got);
			if (n <= 0) {
				free(rtt);
				return 1;
			}
			got += (size_t)n;
		}
		rtt[i] = now_us() - t;
	}
	printf("connect_us=%lld rtt_p10_us=%lld rtt_p50_us=%lld\n", (long long)connect_us,
	       (long long)pct(rtt, (size_t)count, 0.1), (long long)pct(rtt, (size_t)count, 0.5));
	free(rtt);
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "udp-echo"))
		return udp_echo(atoi(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "tcp-echo"))
		return tcp_echo(atoi(argv[2]));
	if (argc == 7 && !strcmp(argv[1], "udp-client"))
		return udp_client(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]));
	if (argc == 5 && !strcmp(argv[1], "tcp-client"))
		return tcp_client(argv[2], atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: %s udp-echo PORT | tcp-echo PORT | udp-client IP PORT COUNT INTERVAL_US WAIT_MS"
	                " | tcp-client IP PORT COUNT\n", argv[0]);
	return 2;
}
