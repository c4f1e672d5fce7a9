/* srv_log.h — timestamped log lines on stderr for the raftnode binary. */
#ifndef SRV_LOG_H
#define SRV_LOG_H

enum srv_log_level { SRV_LOG_ERROR = 0, SRV_LOG_WARN = 1, SRV_LOG_INFO = 2, SRV_LOG_DEBUG = 3 };

/* Process-wide settings of the binary (set once by main before the loop):
 * the level and the node name printed on every line. */
void srv_log_setup(int level, const char *node_name);
int srv_log_level_parse(const char *s); /* -1 if unknown */
int srv_log_enabled(int level);
void srv_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define SRV_ERROR(...) srv_log(SRV_LOG_ERROR, __VA_ARGS__)
#define SRV_WARN(...) srv_log(SRV_LOG_WARN, __VA_ARGS__)
#define SRV_INFO(...) srv_log(SRV_LOG_INFO, __VA_ARGS__)
#define SRV_DEBUG(...) \
	do { \
		if (srv_log_enabled(SRV_LOG_DEBUG)) \
			srv_log(SRV_LOG_DEBUG, __VA_ARGS__); \
	} while (0)

#endif
