/* campaign_http_sink.c — a loopback HTTP listener for the campaign test: records each request's body, answers a fixed status. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* usage: campaign_http_sink PORT_FILE BODY_PREFIX STATUS MAX_REQUESTS
 * Listens on 127.0.0.1 (an ephemeral port, written to PORT_FILE), writes the
 * body of request k to BODY_PREFIX.k and the request line to BODY_PREFIX.k.head,
 * answers STATUS, exits after MAX_REQUESTS requests or 120 s without one. */
int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s PORT_FILE BODY_PREFIX STATUS MAX_REQUESTS\n", argv[0]);
		return 2;
	}
	int status = atoi(argv[3]), max = atoi(argv[4]);
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 8) != 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &al) != 0) {
		perror("campaign_http_sink: listen");
		return 1;
	}
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
	FILE *pf = fopen(tmp, "w");
	if (!pf || fprintf(pf, "%d\n", ntohs(a.sin_port)) < 0 || fclose(pf) != 0 || rename(tmp, argv[1]) != 0) {
		perror("campaign_http_sink: port file");
		return 1;
	}
	for (int k = 1; k <= max; k++) {
		struct pollfd p = {.fd = ls, .events = POLLIN};
		if (poll(&p, 1, 120000) <= 0) {
			fprintf(stderr, "campaign_http_sink: no request %d within 120 s\n", k);
			return 1;
		}
		int c = accept(ls, NULL, NULL);
		if (c < 0)
			continue;
		static char buf[1 << 20];
		size_t n = 0;
		long want = -1;
		char *body = NULL;
		for (;;) {
			struct pollfd q = {.fd = c, .events = POLLIN};
			if (poll(&q, 1, 10000) <= 0)
				break;
			ssize_t r = read(c, buf + n, sizeof buf - 1 - n);
			if (r <= 0)
				break;
			n += (size_t)r;
			buf[n] = 0;
			if (!body && (body = strstr(buf, "\r\n\r\n"))) {
				body += 4;
				for (char *h = strstr(buf, "\r\n"); h && h < body; h = strstr(h + 2, "\r\n"))
					if (!strncasecmp(h + 2, "Content-Length:", 15))
						want = atol(h + 17);
			}
			if (body && (want < 0 || (long)(buf + n - body) >= want))
				break;
		}
		char path[4096];
		snprintf(path, sizeof path, "%s.%d", argv[2], k);
		FILE *bf = fopen(path, "w");
		if (bf) {
			if (body)
				fwrite(body, 1, (size_t)(buf + n - body), bf);
			fclose(bf);
		}
		snprintf(path, sizeof path, "%s.%d.head", argv[2], k);
		bf = fopen(path, "w");
		if (bf) {
			size_t hl = body ? (size_t)(body - buf) : n;
			fwrite(buf, 1, hl, bf);
			fclose(bf);
		}
		char resp[256];
		int rl = snprintf(resp, sizeof resp, "HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
				  status);
		if (write(c, resp, (size_t)rl) < 0)
			perror("campaign_http_sink: write");
		close(c);
	}
	return 0;
}
