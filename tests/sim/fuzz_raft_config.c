/* fuzz_raft_config.c — libFuzzer target for raft_config_decode (bytes from
 * disk and network): decode, and if valid, re-encode to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "raftnode/raft.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct raft_config c;
	if (raft_config_decode(data, size, &c) != RAFT_OK)
		return 0;
	struct raft_buf b;
	if (raft_config_encode(&c, &b) != RAFT_OK)
		abort();
	/* The encoding is canonical: a valid input is its own encoding. */
	if (b.len != size || memcmp(b.base, data, size) != 0)
		abort();
	free(b.base);
	raft_config_free(&c);
	return 0;
}
