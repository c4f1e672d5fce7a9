/* srv_wire.h — the peer transport's binary framing for struct raft_msg.
 *
 * Frame = u32 body length (little-endian) + body. Body = u8 version (1),
 * u8 type, then fixed-width little-endian fields; variable parts (entries,
 * configuration servers, snapshot data) carry their own u32/u16 lengths.
 * A frame whose body exceeds SRV_WIRE_MAX_FRAME is refused before it is
 * buffered. The decoder checks every length against the bytes present,
 * refuses unknown versions, types, flag bits, entry types and roles, and
 * refuses trailing bytes: a malformed frame is an error, never a crash.
 *
 * Frame types: the six raft message types (same numbers as enum
 * raft_msg_type) and SRV_WIRE_HELLO, the first frame on every connection
 * (who dials whom: a peer identity check; later also the place where a TLS
 * peer identity is compared).
 */
#ifndef SRV_WIRE_H
#define SRV_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "raftnode/raft.h"
#include "raftnode/server/srv_util.h"

#define SRV_WIRE_VERSION 1
#define SRV_WIRE_HELLO 100
#define SRV_WIRE_MAX_FRAME (64u << 20)

struct srv_wire_frame {
	uint8_t type; /* a raft_msg_type or SRV_WIRE_HELLO */
	struct {
		raft_id from, to;
		char addr[64]; /* the sender's own peer address ("" if not given) */
	} hello;
	struct raft_msg msg; /* valid when type != SRV_WIRE_HELLO */
};

/* Append one complete frame for m to out. Entry and snapshot data are
 * copied. Returns 0, or -1 with err set (oversized frame, bad type, ENOMEM). */
int srv_wire_encode(const struct raft_msg *m, struct srv_buf *out, char *err, size_t errlen);
/* Append a HELLO frame: sender from, intended receiver to, and the sender's
 * peer address (so a node that does not know us yet, e.g. one that is
 * joining, can answer; at most 63 bytes, may be ""). */
int srv_wire_encode_hello(raft_id from, raft_id to, const char *addr, struct srv_buf *out, char *err,
                          size_t errlen);

/* Look at the start of a byte stream: when a whole frame is present, set
 * *frame_len (4 + body) and return 1; when more bytes are needed return 0;
 * when the declared length is 0 or above the cap return -1 with err set. */
int srv_wire_peek(const uint8_t *p, size_t avail, size_t *frame_len, char *err, size_t errlen);

/* Decode one body (without the length prefix). On success fills *out; the
 * message BORROWS entry and snapshot bytes from body (valid while body is)
 * and owns its entries/servers arrays: release with srv_wire_frame_free.
 * On failure returns -1, err names the field, *out needs no freeing. */
int srv_wire_decode(const uint8_t *body, size_t len, struct srv_wire_frame *out, char *err, size_t errlen);
void srv_wire_frame_free(struct srv_wire_frame *f);

/* The configuration encoding used inside SNAPSHOT frames and snapshot files:
 * u32 n, then per server u64 id, u8 role, u16 address length, address.
 * Decode checks exact length, roles, ids (nonzero, unique) and addresses;
 * c->servers is malloc'd (free() it). */
int srv_wire_config_encode(const struct raft_config *c, struct srv_buf *out, char *err, size_t errlen);
int srv_wire_config_decode(const uint8_t *p, size_t len, struct raft_config *c, char *err, size_t errlen);

#endif
