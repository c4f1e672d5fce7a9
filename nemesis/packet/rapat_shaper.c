/* rapat_shaper.c — bin/rapat-shaper: delays, drops, duplicates and reorders
 * the packets this network namespace sends to chosen peers, by holding them
 * in an NFQUEUE and issuing verdicts late (and out of order). Run it inside
 * the sending node's namespace; see nem_shaper.h and docs/nemesis.md. */
#include "nemesis/packet/nem_shaper.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Copies we re-inject carry this mark so that, when they pass our own
 * NFQUEUE rule, we accept them at once instead of shaping them again. */
#define SHAPER_MARK 0x52415041u /* "RAPA" */

struct shaper {
	struct nfq_handle *h;
	struct nfq_q_handle *qh;
	int raw;               /* raw IPv4 socket for duplicates, -1 if none */
	struct nem_shaper_params p;
	struct nem_shaper_rng rng;
	struct nem_shaper_heap heap;
	int64_t link_free_ns;  /* --rate-kbps: when the emulated link is next idle */
	unsigned long long seen, dropped, delayed, immediate, duplicated, corrupted, copies_seen, errors;
};

static volatile sig_atomic_t stop_requested; /* set by SIGTERM/SIGINT */

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void verdict(struct shaper *s, uint32_t id, uint32_t v, const unsigned char *data, size_t len)
{
	if (nfq_set_verdict(s->qh, id, v, data ? (uint32_t)len : 0, data) < 0)
		s->errors++;
}

static void send_copy(struct shaper *s, const unsigned char *pkt, size_t len)
{
	if (s->raw < 0 || len < sizeof(struct iphdr))
		return;
	const struct iphdr *ip = (const struct iphdr *)pkt;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = ip->daddr };
	if (sendto(s->raw, pkt, len, 0, (struct sockaddr *)&to, sizeof to) < 0)
		s->errors++;
	else
		s->duplicated++;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data)
{
	struct shaper *s = data;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	if (!ph)
		return 0;
	uint32_t id = ntohl(ph->packet_id);
	if (nfq_get_nfmark(nfa) == SHAPER_MARK) {
		s->copies_seen++;
		verdict(s, id, NF_ACCEPT, NULL, 0);
		return 0;
	}
	s->seen++;
	struct nem_shaper_decision d;
	nem_shaper_decide(&s->p, &s->rng, &d);
	if (d.drop) {
		s->dropped++;
		verdict(s, id, NF_DROP, NULL, 0);
		return 0;
	}
	int64_t now = now_ns();
	unsigned char *payload;
	int len = nfq_get_payload(nfa, &payload);
	if (len < 0)
		len = 0;
	/* A corrupted packet is re-injected with the verdict (the kernel takes
	 * the modified bytes); its checksum no longer matches. */
	unsigned char *mod = NULL;
	if (d.corrupt && len > 0 && (mod = malloc((size_t)len))) {
		memcpy(mod, payload, (size_t)len);
		if (nem_shaper_corrupt(mod, (size_t)len, d.corrupt_pick) < 0) {
			free(mod);
			mod = NULL;
		} else {
			s->corrupted++;
		}
	}
	if (d.dup) {
		unsigned char *copy = len > 0 ? malloc((size_t)len) : NULL;
		if (copy) {
			memcpy(copy, payload, (size_t)len);
			struct nem_shaper_event ev = { .due_ns = now + d.dup_delay_ns, .is_copy = 1,
			                               .copy = copy, .copy_len = (size_t)len };
			if (nem_shaper_heap_push(&s->heap, ev) < 0) {
				free(copy);
				s->errors++;
			}
		}
	}
	int64_t due = nem_shaper_depart(&s->p, &s->link_free_ns, now + d.delay_ns, (size_t)len);
	if (due <= now) {
		s->immediate++;
		verdict(s, id, NF_ACCEPT, mod, (size_t)len);
		free(mod);
		return 0;
	}
	struct nem_shaper_event ev = { .due_ns = due, .packet_id = id, .copy = mod, .copy_len = (size_t)len };
	if (nem_shaper_heap_push(&s->heap, ev) < 0) {
		s->errors++;
		verdict(s, id, NF_ACCEPT, mod, (size_t)len); /* out of memory: do not lose it */
		free(mod);
		return 0;
	}
	s->delayed++;
	return 0;
}

/* Issues every event due by `until` (INT64_MAX: everything, copies dropped). */
static void release_due(struct shaper *s, int64_t until, bool send_copies)
{
	struct nem_shaper_event ev;
	while (nem_shaper_heap_peek(&s->heap) <= until && nem_shaper_heap_pop(&s->heap, &ev) == 0) {
		if (ev.is_copy) {
			if (send_copies)
				send_copy(s, ev.copy, ev.copy_len);
			free(ev.copy);
		} else {
			verdict(s, ev.packet_id, NF_ACCEPT, ev.copy, ev.copy_len);
			free(ev.copy);
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: rapat-shaper --peer IP [--peer IP]... [--queue N] [--delay-ms D] [--jitter-ms J]\n"
	        "                    [--loss P] [--duplicate P] [--reorder P] [--corrupt P] [--rate-kbps R]\n"
	        "                    [--seed S] [--ready-fd FD]\n"
	        "Shapes the IPv4 packets this network namespace sends to the peers: each is\n"
	        "dropped with probability P(loss), else held D +- J ms (uniform), or sent at once\n"
	        "with probability P(reorder); with probability P(duplicate) a copy follows after\n"
	        "an independent delay; with probability P(corrupt) one bit beyond the IP header\n"
	        "is flipped; --rate-kbps queues packets behind an emulated link of that rate.\n"
	        "Needs CAP_NET_ADMIN (and CAP_NET_RAW for copies). On\n"
	        "SIGTERM/SIGINT: removes its rule, releases held packets, prints counters, exits 0.\n"
	        "--ready-fd: write \"ready\\n\" there once shaping is in force.\n");
}

static int parse_double(const char *opt, const char *v, double lo, double hi, double *out)
{
	char *end;
	double d = strtod(v, &end);
	if (end == v || *end || !(d >= lo && d <= hi)) {
		fprintf(stderr, "rapat-shaper: %s: want a number in [%g, %g], got '%s'\n", opt, lo, hi, v);
		return -1;
	}
	*out = d;
	return 0;
}

int main(int argc, char **argv)
{
	const char *peers[NEM_SHAPER_MAX_PEERS];
	unsigned n_peers = 0;
	double queue = 0, delay = 0, jitter = 0, loss = 0, dup = 0, reorder = 0, seed = 0, ready = -1;
	double corrupt = 0, rate = 0;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
			usage(stdout);
			return 0;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "rapat-shaper: %s needs a value\n", o);
			return 2;
		}
		const char *v = argv[++i];
		int rc = 0;
		if (!strcmp(o, "--peer")) {
			struct in_addr a;
			if (n_peers == NEM_SHAPER_MAX_PEERS || inet_pton(AF_INET, v, &a) != 1) {
				fprintf(stderr, "rapat-shaper: --peer: not an IPv4 address (or too many): %s\n", v);
				return 2;
			}
			peers[n_peers++] = v;
		} else if (!strcmp(o, "--queue"))
			rc = parse_double(o, v, 0, 65535, &queue);
		else if (!strcmp(o, "--delay-ms"))
			rc = parse_double(o, v, 0, 3600000, &delay);
		else if (!strcmp(o, "--jitter-ms"))
			rc = parse_double(o, v, 0, 3600000, &jitter);
		else if (!strcmp(o, "--loss"))
			rc = parse_double(o, v, 0, 1, &loss);
		else if (!strcmp(o, "--duplicate"))
			rc = parse_double(o, v, 0, 1, &dup);
		else if (!strcmp(o, "--reorder"))
			rc = parse_double(o, v, 0, 1, &reorder);
		else if (!strcmp(o, "--corrupt"))
			rc = parse_double(o, v, 0, 1, &corrupt);
		else if (!strcmp(o, "--rate-kbps"))
			rc = parse_double(o, v, 0, 100000000, &rate);
		else if (!strcmp(o, "--seed"))
			rc = parse_double(o, v, 0, 9007199254740992.0, &seed);
		else if (!strcmp(o, "--ready-fd"))
			rc = parse_double(o, v, 0, 1 << 20, &ready);
		else {
			fprintf(stderr, "rapat-shaper: unknown option %s\n", o);
			usage(stderr);
			return 2;
		}
		if (rc < 0)
			return 2;
	}
	if (n_peers == 0) {
		fprintf(stderr, "rapat-shaper: at least one --peer is required\n");
		return 2;
	}
	struct shaper s = { .raw = -1 };
	s.p = (struct nem_shaper_params){ .delay_ns = (int64_t)(delay * 1e6), .jitter_ns = (int64_t)(jitter * 1e6),
	                                  .loss = loss, .duplicate = dup, .reorder = reorder,
	                                  .corrupt = corrupt, .rate_bps = (uint64_t)(rate * 1000.0) };
	s.rng.s = (uint64_t)seed;
	unsigned q = (unsigned)queue;
	char err[512];
	int rc = 1;

	/* SIGTERM/SIGINT are only delivered inside ppoll: no lost wakeups. */
	sigset_t block, waitmask;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if (dup > 0) {
		s.raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
		unsigned mark = SHAPER_MARK;
		if (s.raw < 0 || setsockopt(s.raw, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0) {
			fprintf(stderr, "rapat-shaper: raw socket for duplicates: %s\n", strerror(errno));
			return 1;
		}
	}
	s.h = nfq_open();
	if (!s.h) {
		fprintf(stderr, "rapat-shaper: nfq_open: %s\n", strerror(errno));
		return 1;
	}
	nfq_bind_pf(s.h, AF_INET); /* a no-op on current kernels; harmless */
	s.qh = nfq_create_queue(s.h, (uint16_t)q, on_packet, &s);
	if (!s.qh) {
		fprintf(stderr, "rapat-shaper: bind queue %u: %s (another shaper on it?)\n", q, strerror(errno));
		goto close_nfq;
	}
	if (nfq_set_mode(s.qh, NFQNL_COPY_PACKET, 0xffff) < 0) {
		fprintf(stderr, "rapat-shaper: set copy mode: %s\n", strerror(errno));
		goto destroy_queue;
	}
	nfq_set_queue_maxlen(s.qh, 65536);
	/* A full queue lets packets through rather than adding loss nobody asked for. */
	nfq_set_queue_flags(s.qh, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN);
	int fd = nfq_fd(s.h);
	int one = 1;
	setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
	nfnl_rcvbufsiz(nfq_nfnlh(s.h), 8 << 20);

	unsigned stale = 0;
	if (nem_shaper_rules_remove(q, &stale, err, sizeof err) < 0 ||
	    nem_shaper_rules_add(q, peers, n_peers, err, sizeof err) < 0) {
		fprintf(stderr, "rapat-shaper: %s\n", err);
		goto destroy_queue;
	}
	printf("rapat-shaper: queue %u, %u peer(s), delay %.3f ms +- %.3f, loss %.3f, duplicate %.3f, "
	       "reorder %.3f, corrupt %.3f, rate %.0f kbit/s, seed %llu%s\n",
	       q, n_peers, delay, jitter, loss, dup, reorder, corrupt, rate, (unsigned long long)seed,
	       stale ? " (removed stale rules)" : "");
	fflush(stdout);
	if (ready >= 0) {
		(void)!write((int)ready, "ready\n", 6);
		close((int)ready);
	}

	static char buf[0x10000 + 4096];
	while (!stop_requested) {
		int64_t next = nem_shaper_heap_peek(&s.heap), now = now_ns();
		struct timespec ts, *tsp = NULL;
		if (next != INT64_MAX) {
			int64_t wait = next > now ? next - now : 0;
			ts.tv_sec = wait / 1000000000LL;
			ts.tv_nsec = wait % 1000000000LL;
			tsp = &ts;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int pr = ppoll(&pfd, 1, tsp, &waitmask);
		if (pr < 0 && errno != EINTR) {
			fprintf(stderr, "rapat-shaper: poll: %s\n", strerror(errno));
			break;
		}
		if (pr > 0) {
			for (;;) {
				ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
				if (n < 0) {
					if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ENOBUFS)
						s.errors++;
					break;
				}
				nfq_handle_packet(s.h, buf, (int)n);
			}
		}
		release_due(&s, now_ns(), true);
	}
	rc = stop_requested ? 0 : 1;
	/* Clean exit: first stop queueing new packets, then let the held ones go. */
	if (nem_shaper_rules_remove(q, NULL, err, sizeof err) < 0) {
		fprintf(stderr, "rapat-shaper: %s\n", err);
		rc = 1;
	}
	release_due(&s, INT64_MAX, false);
	printf("rapat-shaper: seen %llu, dropped %llu, delayed %llu, immediate %llu, duplicated %llu, "
	       "corrupted %llu, copies re-seen %llu, errors %llu\n",
	       s.seen, s.dropped, s.delayed, s.immediate, s.duplicated, s.corrupted, s.copies_seen, s.errors);
destroy_queue:
	nfq_destroy_queue(s.qh);
close_nfq:
	nfq_close(s.h);
	nem_shaper_heap_free(&s.heap);
	if (s.raw >= 0)
		close(s.raw);
	return rc;
}
