/* srv_util.h — small helpers shared by the raftnode server modules: error
 * buffers that gain context, little-endian field access, CRC32C, clocks. */
#ifndef SRV_UTIL_H
#define SRV_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Write a formatted message into err (errlen bytes, always terminated).
 * Returns -1 so callers can `return srv_errf(...)`. */
int srv_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prepend context to the message already in err: "ctx: old". Returns -1. */
int srv_err_ctx(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static inline void srv_put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void srv_put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void srv_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t srv_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t srv_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t srv_get_u64(const uint8_t *p)
{
	return (uint64_t)srv_get_u32(p) | (uint64_t)srv_get_u32(p + 4) << 32;
}

/* CRC32C (Castagnoli), software table; crc starts at 0 and chains. */
uint32_t srv_crc32c(uint32_t crc, const void *buf, size_t len);

/* Monotonic milliseconds. */
uint64_t srv_now_ms(void);

/* Growable byte buffer (used to build frames and WAL batches). */
struct srv_buf {
	uint8_t *p;
	size_t len, cap;
};
/* Ensure room for n more bytes; -1 on ENOMEM. */
int srv_buf_reserve(struct srv_buf *b, size_t n);
int srv_buf_append(struct srv_buf *b, const void *data, size_t n);
void srv_buf_free(struct srv_buf *b);

/* fsync a directory (after creating/renaming/unlinking files in it). */
int srv_fsync_dir(const char *dir, char *err, size_t errlen);

#endif
