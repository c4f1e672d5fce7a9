/* lab_probe.c — tiny helper the lab tests run inside node namespaces: TCP listen/connect, UDP, clocks, environment. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr, "usage: lab_probe listen PORT | connect IP PORT TIMEOUT_MS | clock | env NAME | pwd\n");
	return 64;
}

/* Accept forever; each accepted peer gets "hello <peer>\n". */
static int do_listen(int port)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 64) < 0) {
		printf("listen %d: %s\n", port, strerror(errno));
		return 1;
	}
	printf("listening %d\n", port);
	fflush(stdout);
	for (;;) {
		struct sockaddr_in peer;
		socklen_t pl = sizeof peer;
		int c = accept(s, (struct sockaddr *)&peer, &pl);
		if (c < 0)
			continue;
		char buf[64];
		int n = snprintf(buf, sizeof buf, "hello %s\n", inet_ntoa(peer.sin_addr));
		if (write(c, buf, (size_t)n) < 0)
			perror("write");
		printf("accepted %s\n", inet_ntoa(peer.sin_addr));
		fflush(stdout);
		close(c);
	}
}

/* Exit 0 connected, 2 timed out, 3 refused/other error. */
static int do_connect(const char *ip, int port, int timeout_ms)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1)
		return usage();
	if (connect(s, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
		printf("connect %s:%d: %s\n", ip, port, strerror(errno));
		return 3;
	}
	struct pollfd p = { .fd = s, .events = POLLOUT };
	int r = poll(&p, 1, timeout_ms);
	if (r == 0) {
		printf("connect %s:%d: timed out after %d ms\n", ip, port, timeout_ms);
		return 2;
	}
	int e = 0;
	socklen_t el = sizeof e;
	getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &el);
	if (e) {
		printf("connect %s:%d: %s\n", ip, port, strerror(e));
		return 3;
	}
	printf("connected %s:%d\n", ip, port);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "listen") && argc == 3)
		return do_listen(atoi(argv[2]));
	if (!strcmp(argv[1], "connect") && argc == 5)
		return do_connect(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (!strcmp(argv[1], "clock")) {
		struct timespec m, b;
		clock_gettime(CLOCK_MONOTONIC, &m);
		clock_gettime(CLOCK_BOOTTIME, &b);
		printf("monotonic %lld boottime %lld monotonic_ns %lld\n", (long long)m.tv_sec, (long long)b.tv_sec,
		       (long long)m.tv_sec * 1000000000LL + m.tv_nsec);
		return 0;
	}
	if (!strcmp(argv[1], "env") && argc == 3) {
		const char *v = getenv(argv[2]);
		printf("%s=%s\n", argv[2], v ? v : "(unset)");
		return 0;
	}
	if (!strcmp(argv[1], "pwd")) {
		char buf[4096];
		printf("pwd %s\n", getcwd(buf, sizeof buf) ? buf : "?");
		return 0;
	}
	return usage();
}
