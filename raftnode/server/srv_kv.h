/* srv_kv.h — the replicated state machine: a map from string keys to JSON
 * values with put and compare-and-set, its log command encoding, and its
 * snapshot image.
 *
 * Command (little-endian): u8 op (1 put, 2 cas), u64 request id, u16 key
 * length, key bytes (UTF-8, no NUL), u32 value length, value as compact
 * JSON text, and for cas u32 expected length + expected JSON text. The
 * request id makes every proposal unique, so the proposer recognises its
 * own command when it is applied.
 *
 * Apply is deterministic: an undecodable command (which only corruption or
 * a bug can produce) changes nothing on every replica alike.
 * Not thread-safe; no global state.
 */
#ifndef SRV_KV_H
#define SRV_KV_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "raftnode/server/srv_util.h"

#define SRV_KV_KEY_MAX 1024

enum srv_kv_op { SRV_KV_PUT = 1, SRV_KV_CAS = 2 };
enum srv_kv_status {
	SRV_KV_OK = 0,
	SRV_KV_NOT_FOUND = 1,    /* cas on a missing key */
	SRV_KV_MISMATCH = 2,     /* cas: actual value differs (result.actual) */
	SRV_KV_BAD_COMMAND = 3,  /* undecodable command: nothing changed */
};

struct srv_kv;

int srv_kv_new(struct srv_kv **out);
void srv_kv_free(struct srv_kv *kv);

/* Is key acceptable (1..SRV_KV_KEY_MAX bytes of valid UTF-8 without NUL)? */
int srv_kv_key_ok(const char *key, size_t len);

/* Encode a command into out (appends). value/expect are borrowed. */
int srv_kv_encode(struct srv_buf *out, uint8_t op, uint64_t reqid, const char *key, size_t keylen,
                  const json_t *value, const json_t *expect, char *err, size_t errlen);
/* Read only the request id of an encoded command (0 if undecodable). */
uint64_t srv_kv_reqid(const void *cmd, size_t len);

struct srv_kv_result {
	int status;     /* enum srv_kv_status */
	json_t *actual; /* MISMATCH: the current value (new reference; caller json_decref) */
};
/* Apply one committed command. *reqid receives its request id (0 if bad). */
void srv_kv_apply(struct srv_kv *kv, const void *cmd, size_t len, uint64_t *reqid, struct srv_kv_result *res);

/* Borrowed value for key (valid until the next apply/restore), NULL if absent. */
json_t *srv_kv_get(struct srv_kv *kv, const char *key);
size_t srv_kv_size(const struct srv_kv *kv);

/* Snapshot image: compact JSON text of the whole map (malloc'd). */
int srv_kv_dump(const struct srv_kv *kv, char **out, size_t *len, char *err, size_t errlen);
/* Replace the map with an image from srv_kv_dump; unchanged on error. */
int srv_kv_restore(struct srv_kv *kv, const void *data, size_t len, char *err, size_t errlen);

#endif
