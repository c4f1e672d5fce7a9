/* srv_util.c — error buffers, CRC32C, clocks and byte buffers for the server. */
#include "raftnode/server/srv_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int srv_errf(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int srv_err_ctx(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return -1;
	char ctx[256], old[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof ctx, fmt, ap);
	va_end(ap);
	snprintf(old, sizeof old, "%s", err);
	snprintf(err, errlen, "%s: %s", ctx, old);
	return -1;
}

/* A pure cache, not state: the table is built lazily on first use; two
 * threads racing both write identical values, and the flag is published with
 * release/acquire ordering. */
static uint32_t crc_table[256];
static int crc_table_ready;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_table[i] = c;
	}
	__atomic_store_n(&crc_table_ready, 1, __ATOMIC_RELEASE);
}

uint32_t srv_crc32c(uint32_t crc, const void *buf, size_t len)
{
	if (!__atomic_load_n(&crc_table_ready, __ATOMIC_ACQUIRE))
		crc_init();
	const uint8_t *p = buf;
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint64_t srv_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int srv_buf_reserve(struct srv_buf *b, size_t n)
{
	if (b->cap - b->len >= n)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < n) {
		if (cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	uint8_t *p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

int srv_buf_append(struct srv_buf *b, const void *data, size_t n)
{
	if (srv_buf_reserve(b, n) != 0)
		return -1;
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

void srv_buf_free(struct srv_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int srv_fsync_dir(const char *dir, char *err, size_t errlen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return srv_errf(err, errlen, "open directory %s: %s", dir, strerror(errno));
	if (fsync(fd) != 0) {
		int e = errno;
		close(fd);
		return srv_errf(err, errlen, "fsync directory %s: %s", dir, strerror(e));
	}
	close(fd);
	return 0;
}
