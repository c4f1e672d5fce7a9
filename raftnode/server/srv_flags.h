/* srv_flags.h — raftnode's command line: parsing, validation, --help. */
#ifndef SRV_FLAGS_H
#define SRV_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "raftnode/raft.h"

#define SRV_MAX_PEERS 64

struct srv_peer_spec {
	raft_id id;
	char name[16];        /* "n3" */
	char peer_addr[64];   /* IP:PORT */
	char client_addr[64]; /* IP:PORT */
};

struct srv_flags {
	raft_id id;
	char name[16];
	char listen_peer[64];
	char listen_client[64];
	char data_dir[3800];
	struct srv_peer_spec peers[SRV_MAX_PEERS];
	unsigned n_peers;
	bool join;
	unsigned election_timeout_ms;
	unsigned heartbeat_ms;
	unsigned snapshot_threshold;
	bool fsync;
	bool pre_vote;
	bool check_quorum;
	int log_level;
	unsigned request_timeout_ms;
	unsigned max_append_entries;
	unsigned max_inflight;
	unsigned segment_kib;
	bool help;
};

/* Parse argv. Returns 0, or -1 with err naming the offending flag/value
 * (the caller prints it with the usage line and exits 2). */
int srv_flags_parse(struct srv_flags *f, int argc, char **argv, char *err, size_t errlen);
void srv_flags_usage(FILE *out);

/* "n3" -> 3 (ids are n1..n2^63); 0 if malformed. */
raft_id srv_node_id_parse(const char *s);
/* Normalise "http://IP:PORT/", "tcp://IP:PORT" or "IP:PORT" to IP:PORT
 * (numeric IPv4 address and port); -1 if malformed. */
int srv_addr_normalize(const char *in, char *out, size_t outlen);

#endif
