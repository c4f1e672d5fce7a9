/* hx_util.h — small helpers shared by the harness's C files. */
#ifndef HX_UTIL_H
#define HX_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* snprintf whose truncation is deliberate: messages and paths are capped at
 * their buffer's size (a cut message beats no message). Returns the length
 * the full text would have had. */
static inline __attribute__((format(printf, 3, 4))) int hx_fmt(char *buf, size_t len,
                                                                const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n;
}

#endif
