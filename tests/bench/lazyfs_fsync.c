/* lazyfs_fsync.c — benchmark: WAL-style append+fdatasync and bulk write
 * throughput through rapat-lazyfs vs the same directory without it (prints
 * numbers, asserts nothing). */
#include "nemesis/disk/nem_lazyfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* n appends of rec bytes, each followed by fdatasync; returns seconds. */
static double wal(const char *dir, int n, size_t rec)
{
	char path[512];
	snprintf(path, sizeof path, "%s/wal.bench", dir);
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0644);
	if (fd < 0)
		return -1;
	char *buf = malloc(rec);
	memset(buf, 'w', rec);
	double t = now_s();
	for (int i = 0; i < n; i++)
		if (write(fd, buf, rec) != (ssize_t)rec || fdatasync(fd) < 0)
			return -1;
	t = now_s() - t;
	close(fd);
	unlink(path);
	free(buf);
	return t;
}

/* total bytes in 128 KiB writes, one fsync at the end; returns seconds. */
static double bulk(const char *dir, size_t total)
{
	char path[512];
	snprintf(path, sizeof path, "%s/bulk.bench", dir);
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0)
		return -1;
	size_t chunk = 128 << 10;
	char *buf = malloc(chunk);
	memset(buf, 'b', chunk);
	double t = now_s();
	for (size_t done = 0; done < total; done += chunk)
		if (write(fd, buf, chunk) != (ssize_t)chunk)
			return -1;
	if (fsync(fd) < 0)
		return -1;
	t = now_s() - t;
	close(fd);
	unlink(path);
	free(buf);
	return t;
}

int main(void)
{
	char root[] = "/tmp/lazyfs_benchXXXXXX", data[256], ctl[256], err[512], bin[4096];
	if (!mkdtemp(root))
		return 1;
	snprintf(data, sizeof data, "%s/data", root);
	snprintf(ctl, sizeof ctl, "%s/ctl.sock", root);
	mkdir(data, 0755);
	const char *b = getenv("RAPAT_BIN");
	snprintf(bin, sizeof bin, "%s/rapat-lazyfs", b && *b ? b : "bin");
	const int n = 2000;
	const size_t recs[] = { 128, 4096 }, total = 64u << 20;
	double plain_wal[2], plain_bulk, lazy_wal[2], lazy_bulk;
	for (int i = 0; i < 2; i++)
		plain_wal[i] = wal(data, n, recs[i]);
	plain_bulk = bulk(data, total);
	struct nem_lazyfs_opts o = { .binary = bin, .mountpoint = data, .ctl_path = ctl };
	pid_t pid;
	if (nem_lazyfs_start(&o, &pid, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (int i = 0; i < 2; i++)
		lazy_wal[i] = wal(data, n, recs[i]);
	lazy_bulk = bulk(data, total);
	if (nem_lazyfs_stop(pid, data, 0, err, sizeof err) < 0)
		fprintf(stderr, "%s\n", err);
	printf("%-34s %14s %14s %8s\n", "workload", "plain", "rapat-lazyfs", "ratio");
	for (int i = 0; i < 2; i++)
		printf("append %4zu B + fdatasync (ops/s) %14.0f %14.0f %8.2f\n", recs[i], n / plain_wal[i],
		       n / lazy_wal[i], plain_wal[i] / lazy_wal[i]);
	printf("%-34s %14.1f %14.1f %8.2f\n", "64 MiB in 128 KiB writes (MB/s)", total / plain_bulk / 1e6,
	       total / lazy_bulk / 1e6, plain_bulk / lazy_bulk);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : 1;
}
