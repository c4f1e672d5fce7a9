/* nem_corrupt.h — file corruption helpers (Jepsen's bitflip, truncate and
 * copy-file-chunks nemeses): seeded, and each returns exactly what it
 * changed so the harness can record it in the history.
 *
 * Harness use: corrupt a node's files while the node is down (after the kill,
 * before the restart), so the node reads the damage on startup. When the
 * data directory is a rapat-lazyfs mount, corrupt through the mount after a
 * "sync" or "crash" command, or the backing directory directly: either way
 * the change lands in the durable copy (these helpers fsync the file).
 * Record f "disk-start" with value = nem_corrupt_report_json(); nothing heals
 * corruption, so "disk-end" follows at once.
 *
 * Regions are [start, end) byte offsets; end = 0 means the end of the file.
 * Errors: int return, 0 = ok, -1 with a message in err; the file is
 * unchanged on error unless the message says otherwise (an I/O error in the
 * middle of writing).
 */
#ifndef NEM_CORRUPT_H
#define NEM_CORRUPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum nem_corrupt_kind {
	NEM_CORRUPT_BITFLIP,   /* one bit at offset/bit flipped: old -> new */
	NEM_CORRUPT_TRUNCATE,  /* file cut from old size (src) to offset; len bytes gone */
	NEM_CORRUPT_COPY,      /* len bytes from src copied over offset */
};

struct nem_corrupt_change {
	enum nem_corrupt_kind kind;
	uint64_t offset;
	uint64_t len;
	uint64_t src;
	uint8_t bit;       /* BITFLIP: 0 = least significant */
	uint8_t old_byte;  /* BITFLIP: the byte before and after */
	uint8_t new_byte;
};

struct nem_corrupt_report {
	char kind[16];          /* "bitflip", "truncate", "copy" */
	uint64_t size_before, size_after;
	size_t n, cap;
	struct nem_corrupt_change *changes; /* sorted by offset */
};

/* Frees the changes array; the report can be reused. */
void nem_corrupt_report_free(struct nem_corrupt_report *r);

/* Flip bits in [start, end): exactly `count` distinct bits chosen uniformly
 * when count > 0; otherwise each bit independently with `probability`
 * (0 < p <= 1). The same seed, file size and arguments flip the same bits. */
int nem_corrupt_bitflip(const char *path, uint64_t start, uint64_t end, uint64_t count,
                        double probability, uint64_t seed, struct nem_corrupt_report *r,
                        char *err, size_t errlen);

/* Drop the last `drop` bytes (a torn tail); dropping more than the file
 * holds leaves it empty. */
int nem_corrupt_truncate(const char *path, uint64_t drop, struct nem_corrupt_report *r,
                         char *err, size_t errlen);

/* Split [start, end) into chunks of chunk_size (the last partial chunk is not
 * used), choose `count` distinct destination chunks and for each a different
 * random source chunk, and copy the sources' original contents over the
 * destinations: valid-looking data in the wrong place. Needs >= 2 chunks and
 * count <= chunks. */
int nem_corrupt_copy_chunks(const char *path, uint64_t start, uint64_t end, uint64_t chunk_size,
                            uint64_t count, uint64_t seed, struct nem_corrupt_report *r,
                            char *err, size_t errlen);

/* Writes the report as one JSON object (no newline):
 * {"file":..,"kind":..,"size_before":..,"size_after":..,"changes":[...]} */
void nem_corrupt_report_json(const struct nem_corrupt_report *r, const char *path, FILE *out);

#endif
