/* srv_flags.c — command-line parsing for raftnode. */
#include "raftnode/server/srv_flags.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "raftnode/server/srv_log.h"
#include "raftnode/server/srv_util.h"

void srv_flags_usage(FILE *out)
{
	fputs(
	    "usage: raftnode --id nK --listen-peer IP:PORT --listen-client IP:PORT --data-dir DIR\n"
	    "                (--peers LIST | --join) [options]\n"
	    "\n"
	    "The Raft key-value server. Serves node protocol v1 (HTTP/JSON) on the client\n"
	    "address and talks to its peers over TCP on the peer address.\n"
	    "\n"
	    "Required:\n"
	    "  --id nK                  this node's id: 'n' followed by a positive integer;\n"
	    "                           the integer is its Raft server id (n3 -> 3)\n"
	    "  --listen-peer IP:PORT    where peers connect (numeric IPv4 address)\n"
	    "  --listen-client IP:PORT  where clients speak HTTP (node protocol v1)\n"
	    "  --data-dir DIR           write-ahead log (DIR/wal) and snapshots (DIR/snap);\n"
	    "                           created if missing, locked while running\n"
	    "  --peers LIST             every initial member, this node included, as\n"
	    "                           ID=PEER_IP:PORT/CLIENT_IP:PORT joined by commas, e.g.\n"
	    "                           n1=10.0.0.1:7001/10.0.0.1:8001,n2=10.0.0.2:7001/10.0.0.2:8001\n"
	    "                           On an empty data dir the node bootstraps this\n"
	    "                           configuration (give the same list to every member);\n"
	    "                           with existing data the list only seeds addresses\n"
	    "                           and may be omitted.\n"
	    "  --join                   start empty without bootstrapping and wait to be\n"
	    "                           added by POST /v1/members on a member (--peers is\n"
	    "                           then optional)\n"
	    "Options:\n"
	    "  --election-timeout MS    base election timeout, randomised in [MS, 2*MS)\n"
	    "                           (default 1000)\n"
	    "  --heartbeat MS           leader heartbeat interval (default 100)\n"
	    "  --snapshot-threshold N   snapshot the state machine once N entries were applied\n"
	    "                           since the last snapshot (default 10000)\n"
	    "  --fsync always|never     fdatasync the WAL before acknowledging (default\n"
	    "                           always; never is for experiments only: it loses\n"
	    "                           acknowledged writes on a crash)\n"
	    "  --pre-vote on|off        pre-vote phase before elections (default on)\n"
	    "  --check-quorum on|off    leader steps down without a majority (default on)\n"
	    "  --request-timeout MS     answer 504 timeout when a write or read is not done\n"
	    "                           after MS (default 5000)\n"
	    "  --max-append N           entries per AppendEntries message (default 256)\n"
	    "  --max-inflight N         pipelined AppendEntries per follower (default 16)\n"
	    "  --segment-kib N          WAL segment size in KiB (default 8192)\n"
	    "  --log-level LEVEL        error|warn|info|debug (default info); logs go to stderr\n"
	    "  --help                   this text\n"
	    "\n"
	    "Exit status: 0 after SIGTERM/SIGINT, 1 on a runtime or disk error (including a\n"
	    "corrupt data directory, with a message naming file and offset), 2 on a usage error.\n",
	    out);
}

raft_id srv_node_id_parse(const char *s)
{
	if (s[0] != 'n' || s[1] < '1' || s[1] > '9')
		return 0;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s + 1, &end, 10);
	if (errno || *end || v == 0 || v > INT64_MAX)
		return 0;
	return v;
}

int srv_addr_normalize(const char *in, char *out, size_t outlen)
{
	const char *p = in;
	if (strncmp(p, "http://", 7) == 0)
		p += 7;
	else if (strncmp(p, "tcp://", 6) == 0)
		p += 6;
	char tmp[64];
	size_t n = strlen(p);
	if (n && p[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, p, n);
	tmp[n] = 0;
	char *colon = strrchr(tmp, ':');
	if (!colon)
		return -1;
	*colon = 0;
	struct in_addr ia;
	if (inet_pton(AF_INET, tmp, &ia) != 1)
		return -1;
	char *end;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (errno || *end || colon[1] == 0 || port == 0 || port > 65535)
		return -1;
	if ((size_t)snprintf(out, outlen, "%s:%lu", tmp, port) >= outlen)
		return -1;
	return 0;
}

static int parse_uint(const char *flag, const char *v, unsigned min, unsigned max, unsigned *out, char *err,
                      size_t errlen)
{
	char *end;
	errno = 0;
	unsigned long x = strtoul(v, &end, 10);
	if (errno || *end || !*v || v[0] == '-' || x < min || x > max)
		return srv_errf(err, errlen, "%s: '%s' is not an integer in [%u, %u]", flag, v, min, max);
	*out = (unsigned)x;
	return 0;
}

static int parse_onoff(const char *flag, const char *v, bool *out, char *err, size_t errlen)
{
	if (!v || strcmp(v, "on") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = true;
	else if (strcmp(v, "off") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = false;
	else
		return srv_errf(err, errlen, "%s: '%s' is not on or off", flag, v);
	return 0;
}

static int parse_peers(struct srv_flags *f, const char *list, char *err, size_t errlen)
{
	char *copy = strdup(list), *save = NULL;
	if (!copy)
		return srv_errf(err, errlen, "out of memory");
	int rc = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
		if (f->n_peers == SRV_MAX_PEERS) {
			rc = srv_errf(err, errlen, "--peers: more than %d members", SRV_MAX_PEERS);
			break;
		}
		struct srv_peer_spec *p = &f->peers[f->n_peers];
		char *eq = strchr(tok, '='), *slash = eq ? strchr(eq, '/') : NULL;
		if (!eq || !slash) {
			rc = srv_errf(err, errlen, "--peers: '%s' is not ID=PEER_IP:PORT/CLIENT_IP:PORT", tok);
			break;
		}
		*eq = *slash = 0;
		p->id = srv_node_id_parse(tok);
		if (!p->id || strlen(tok) >= sizeof p->name) {
			rc = srv_errf(err, errlen, "--peers: '%s' is not a node id like n1", tok);
			break;
		}
		strcpy(p->name, tok);
		if (srv_addr_normalize(eq + 1, p->peer_addr, sizeof p->peer_addr) != 0 ||
		    srv_addr_normalize(slash + 1, p->client_addr, sizeof p->client_addr) != 0) {
			rc = srv_errf(err, errlen, "--peers: %s: bad address in '%s/%s' (want IP:PORT)", tok, eq + 1, slash + 1);
			break;
		}
		for (unsigned i = 0; i < f->n_peers; i++)
			if (f->peers[i].id == p->id)
				rc = srv_errf(err, errlen, "--peers: %s listed twice", tok);
		f->n_peers++;
	}
	free(copy);
	return rc;
}

int srv_flags_parse(struct srv_flags *f, int argc, char **argv, char *err, size_t errlen)
{
	enum {
		O_ID = 256, O_LPEER, O_LCLIENT, O_PEERS, O_DATA, O_JOIN, O_ELECT, O_HB, O_SNAP, O_FSYNC, O_PREVOTE,
		O_CQ, O_LOG, O_REQTO, O_MAXAPP, O_INFL, O_SEG, O_HELP,
	};
	static const struct option opts[] = {
	    {"id", required_argument, 0, O_ID},
	    {"listen-peer", required_argument, 0, O_LPEER},
	    {"listen-client", required_argument, 0, O_LCLIENT},
	    {"peers", required_argument, 0, O_PEERS},
	    {"data-dir", required_argument, 0, O_DATA},
	    {"join", no_argument, 0, O_JOIN},
	    {"election-timeout", required_argument, 0, O_ELECT},
	    {"heartbeat", required_argument, 0, O_HB},
	    {"snapshot-threshold", required_argument, 0, O_SNAP},
	    {"fsync", required_argument, 0, O_FSYNC},
	    {"pre-vote", optional_argument, 0, O_PREVOTE},
	    {"check-quorum", optional_argument, 0, O_CQ},
	    {"log-level", required_argument, 0, O_LOG},
	    {"request-timeout", required_argument, 0, O_REQTO},
	    {"max-append", required_argument, 0, O_MAXAPP},
	    {"max-inflight", required_argument, 0, O_INFL},
	    {"segment-kib", required_argument, 0, O_SEG},
	    {"help", no_argument, 0, O_HELP},
	    {0, 0, 0, 0},
	};
	memset(f, 0, sizeof *f);
	f->election_timeout_ms = 1000;
	f->heartbeat_ms = 100;
	f->snapshot_threshold = 10000;
	f->fsync = true;
	f->pre_vote = true;
	f->check_quorum = true;
	f->log_level = SRV_LOG_INFO;
	f->request_timeout_ms = 5000;
	f->max_append_entries = 256;
	f->max_inflight = 16;
	f->segment_kib = 8192;
	optind = 1;
	opterr = 0;
	int c, prev;
	/* Walk the options ourselves so errors can name the exact word. */
	for (;;) {
		prev = optind;
		c = getopt_long(argc, argv, ":", opts, NULL);
		if (c == -1)
			break;
		const char *word = argv[prev < argc ? prev : argc - 1];
		switch (c) {
		case O_ID:
			f->id = srv_node_id_parse(optarg);
			if (!f->id || strlen(optarg) >= sizeof f->name)
				return srv_errf(err, errlen, "--id: '%s' is not a node id like n1", optarg);
			strcpy(f->name, optarg);
			break;
		case O_LPEER:
			if (srv_addr_normalize(optarg, f->listen_peer, sizeof f->listen_peer) != 0)
				return srv_errf(err, errlen, "--listen-peer: '%s' is not IP:PORT", optarg);
			break;
		case O_LCLIENT:
			if (srv_addr_normalize(optarg, f->listen_client, sizeof f->listen_client) != 0)
				return srv_errf(err, errlen, "--listen-client: '%s' is not IP:PORT", optarg);
			break;
		case O_PEERS:
			if (parse_peers(f, optarg, err, errlen) != 0)
				return -1;
			break;
		case O_DATA:
			if (!*optarg || strlen(optarg) >= sizeof f->data_dir)
				return srv_errf(err, errlen, "--data-dir: empty or too long");
			strcpy(f->data_dir, optarg);
			break;
		case O_JOIN: f->join = true; break;
		case O_ELECT:
			if (parse_uint("--election-timeout", optarg, 10, 600000, &f->election_timeout_ms, err, errlen))
				return -1;
			break;
		case O_HB:
			if (parse_uint("--heartbeat", optarg, 1, 600000, &f->heartbeat_ms, err, errlen))
				return -1;
			break;
		case O_SNAP:
			if (parse_uint("--snapshot-threshold", optarg, 1, 100000000, &f->snapshot_threshold, err, errlen))
				return -1;
			break;
		case O_FSYNC:
			if (strcmp(optarg, "always") == 0)
				f->fsync = true;
			else if (strcmp(optarg, "never") == 0)
				f->fsync = false;
			else
				return srv_errf(err, errlen, "--fsync: '%s' is not always or never", optarg);
			break;
		case O_PREVOTE:
		case O_CQ: {
			/* Accept --pre-vote, --pre-vote=off and --pre-vote off. */
			const char *v = optarg;
			if (!v && optind < argc && argv[optind][0] != '-')
				v = argv[optind++];
			if (parse_onoff(c == O_PREVOTE ? "--pre-vote" : "--check-quorum", v,
			                c == O_PREVOTE ? &f->pre_vote : &f->check_quorum, err, errlen))
				return -1;
			break;
		}
		case O_LOG:
			f->log_level = srv_log_level_parse(optarg);
			if (f->log_level < 0)
				return srv_errf(err, errlen, "--log-level: '%s' is not error, warn, info or debug", optarg);
			break;
		case O_REQTO:
			if (parse_uint("--request-timeout", optarg, 10, 3600000, &f->request_timeout_ms, err, errlen))
				return -1;
			break;
		case O_MAXAPP:
			if (parse_uint("--max-append", optarg, 1, 65536, &f->max_append_entries, err, errlen))
				return -1;
			break;
		case O_INFL:
			if (parse_uint("--max-inflight", optarg, 1, 1024, &f->max_inflight, err, errlen))
				return -1;
			break;
		case O_SEG:
			if (parse_uint("--segment-kib", optarg, 4, 4194304, &f->segment_kib, err, errlen))
				return -1;
			break;
		case O_HELP: f->help = true; return 0;
		case ':': return srv_errf(err, errlen, "%s: missing value", word);
		default: return srv_errf(err, errlen, "%s: unknown option", word);
		}
	}
	if (optind < argc)
		return srv_errf(err, errlen, "%s: unexpected argument", argv[optind]);
	if (!f->id)
		return srv_errf(err, errlen, "--id: required");
	if (!f->listen_peer[0])
		return srv_errf(err, errlen, "--listen-peer: required");
	if (!f->listen_client[0])
		return srv_errf(err, errlen, "--listen-client: required");
	if (!f->data_dir[0])
		return srv_errf(err, errlen, "--data-dir: required");
	if (!f->join && f->n_peers) {
		bool self = false;
		for (unsigned i = 0; i < f->n_peers; i++)
			self |= f->peers[i].id == f->id;
		if (!self)
			return srv_errf(err, errlen, "--peers: does not list this node (%s)", f->name);
	}
	if (f->heartbeat_ms * 2 > f->election_timeout_ms)
		return srv_errf(err, errlen, "--heartbeat: %u ms must be at most half of --election-timeout (%u ms)",
		                f->heartbeat_ms, f->election_timeout_ms);
	return 0;
}
