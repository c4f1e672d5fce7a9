/* fuzz_wal.c — fuzz target for the WAL record reader (srv_wal_scan): the
 * first input byte chooses "last segment" (torn tails allowed) and whether
 * the magic is prepended; the rest is a segment image. Checks that the
 * reader never crashes, that a torn tail is only reported for a last
 * segment, and that replayed entries are contiguous. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raftnode/server/srv_wal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool is_last = data[0] & 1;
	bool add_magic = data[0] & 2;
	size_t n = size - 1 + (add_magic ? SRV_WAL_MAGIC_LEN : 0);
	uint8_t *img = malloc(n ? n : 1);
	if (!img)
		return 0;
	if (add_magic)
		memcpy(img, SRV_WAL_MAGIC, SRV_WAL_MAGIC_LEN);
	memcpy(img + (add_magic ? SRV_WAL_MAGIC_LEN : 0), data + 1, size - 1);
	struct srv_wal_replay rp = {0};
	size_t valid = 0;
	char err[512];
	int rc = srv_wal_scan(img, n, is_last, &rp, &valid, err, sizeof err);
	if (rc == 1 && !is_last) {
		fprintf(stderr, "fuzz_wal: torn tail reported for a closed segment\n");
		abort();
	}
	if (rc >= 0 && valid > n) {
		fprintf(stderr, "fuzz_wal: valid length %zu beyond %zu\n", valid, n);
		abort();
	}
	if (rc == 1) {
		/* Re-reading only the valid prefix must succeed cleanly. */
		struct srv_wal_replay again = {0};
		size_t v2;
		int rc2 = srv_wal_scan(img, valid, is_last, &again, &v2, err, sizeof err);
		if (!(rc2 == 0 || (rc2 == 1 && valid < SRV_WAL_MAGIC_LEN)) || again.n != rp.n) {
			fprintf(stderr, "fuzz_wal: valid prefix of %zu bytes does not rescan cleanly (%d, %zu vs %zu entries)\n",
			        valid, rc2, again.n, rp.n);
			abort();
		}
		srv_wal_replay_free(&again);
	}
	for (size_t i = 0; i < rp.n; i++)
		if (rp.entries[i].term == 0 || rp.entries[i].type < RAFT_ENTRY_COMMAND ||
		    rp.entries[i].type > RAFT_ENTRY_CONFIG) {
			fprintf(stderr, "fuzz_wal: replayed an invalid entry\n");
			abort();
		}
	if (rp.n && rp.last != rp.first + rp.n - 1) {
		fprintf(stderr, "fuzz_wal: entries not contiguous with last index\n");
		abort();
	}
	srv_wal_replay_free(&rp);
	free(img);
	return 0;
}
