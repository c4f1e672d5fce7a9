/* hx_util.h — small helpers shared by the harness's C files. */
#ifndef HX_UTIL_H
#define HX_UTIL_H

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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

/* mkdir -p: create path and its missing parents (mode 0755). Existing
 * directories are fine. Returns 0, or -1 with "mkdir DIR: reason" in err. */
static inline int hx_mkdir_p(const char *path, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	hx_fmt(tmp, sizeof tmp, "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
		goto fail;
	return 0;
fail:
	hx_fmt(err, errlen, "mkdir %s: %s", tmp, strerror(errno));
	return -1;
}

#endif
