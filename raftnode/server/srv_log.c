/* srv_log.c — timestamped log lines on stderr. The level and node name are
 * the binary's process-wide configuration, written once at startup. */
#include "raftnode/server/srv_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static int log_level = SRV_LOG_INFO;
static char log_name[32] = "raftnode";

void srv_log_setup(int level, const char *node_name)
{
	log_level = level;
	snprintf(log_name, sizeof log_name, "%s", node_name);
}

int srv_log_level_parse(const char *s)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

int srv_log_enabled(int level)
{
	return level <= log_level;
}

void srv_log(int level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	static const char *const tags[] = {"ERROR", "WARN", "INFO", "DEBUG"};
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	char line[2048];
	int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %-5s ", tm.tm_year + 1900,
	                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000),
	                 log_name, tags[level]);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof line)
		vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	/* One fputs per line so lines of concurrent writers do not interleave. */
	size_t len = strlen(line);
	if (len + 1 < sizeof line) {
		line[len] = '\n';
		line[len + 1] = 0;
	}
	fputs(line, stderr);
}
