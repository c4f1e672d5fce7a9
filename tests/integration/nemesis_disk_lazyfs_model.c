/* nemesis_disk_lazyfs_model.c — integration test: thousands of seeded random
 * file operations through a real rapat-lazyfs mount (writes, appends,
 * truncations, O_TRUNC opens, hard links, renames, unlinks, fsyncs, crashes),
 * each checked against a model of what must be visible and what must
 * survive a crash; in both metadata modes. Prints the seed on failure.
 * Usage: nemesis_disk_lazyfs_model [SEED [STEPS]] */
#include "nemesis/disk/nem_lazyfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAMES 6
#define MAXSZ 20000
#define MAXINO 4096

struct inode {
	uint8_t *cur, *dur; /* visible and durable contents */
	size_t cur_n, dur_n;
};

struct model {
	struct inode ino[MAXINO];
	int n_ino;
	int names[NAMES];     /* name -> inode, -1 = absent */
	int dur_names[NAMES]; /* --lazy-metadata: the namespace as of the last fsync */
	bool lazy_meta;
};

static uint64_t rng;
static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static char dir[256];
static const char *path_of(int name)
{
	static char p[2][300];
	static int k;
	k ^= 1;
	snprintf(p[k], sizeof p[k], "%s/f%d", dir, name);
	return p[k];
}

static int new_inode(struct model *m)
{
	if (m->n_ino == MAXINO)
		return -1;
	struct inode *i = &m->ino[m->n_ino];
	i->cur = calloc(1, MAXSZ);
	i->dur = calloc(1, MAXSZ);
	i->cur_n = i->dur_n = 0;
	return m->n_ino++;
}

static void set_size(struct inode *i, size_t n)
{
	if (n > i->cur_n)
		memset(i->cur + i->cur_n, 0, n - i->cur_n);
	i->cur_n = n;
}

static int failures;
static int trace; /* RAPAT_MODEL_TRACE=1: print every operation */
static uint64_t seed;
static int step;

#define FAILF(...)                                                                          \
	do {                                                                                \
		failures++;                                                                 \
		fprintf(stderr, "FAIL (seed %llu, step %d): ", (unsigned long long)seed, step); \
		fprintf(stderr, __VA_ARGS__);                                               \
		fputc('\n', stderr);                                                        \
	} while (0)

static void check_name(struct model *m, int name)
{
	int fd = open(path_of(name), O_RDONLY);
	if (m->names[name] < 0) {
		if (fd >= 0) {
			FAILF("f%d exists, the model says it does not", name);
			close(fd);
		} else if (errno != ENOENT) {
			FAILF("f%d: open: %s", name, strerror(errno));
		}
		return;
	}
	if (fd < 0) {
		FAILF("f%d: open: %s (the model has %zu bytes)", name, strerror(errno), m->ino[m->names[name]].cur_n);
		return;
	}
	static uint8_t buf[MAXSZ + 10];
	struct stat st;
	fstat(fd, &st);
	ssize_t n = pread(fd, buf, sizeof buf, 0);
	close(fd);
	struct inode *i = &m->ino[m->names[name]];
	if (n != (ssize_t)i->cur_n || st.st_size != (off_t)i->cur_n)
		FAILF("f%d: read %zd bytes, stat %lld, model %zu", name, n, (long long)st.st_size, i->cur_n);
	else if (memcmp(buf, i->cur, i->cur_n) != 0)
		FAILF("f%d: contents differ from the model", name);
}

static int run(const char *bin, const char *root, bool lazy_meta, int steps)
{
	char ctl[300], log[300], err[512];
	snprintf(dir, sizeof dir, "%s/data-%s", root, lazy_meta ? "lazymeta" : "sync");
	snprintf(ctl, sizeof ctl, "%s/ctl-%d.sock", root, lazy_meta);
	snprintf(log, sizeof log, "%s/lazyfs-%d.log", root, lazy_meta);
	mkdir(dir, 0755);
	static struct model m;
	for (int i = 0; i < m.n_ino; i++) {
		free(m.ino[i].cur);
		free(m.ino[i].dur);
	}
	memset(&m, 0, sizeof m);
	m.lazy_meta = lazy_meta;
	for (int k = 0; k < NAMES; k++)
		m.names[k] = m.dur_names[k] = -1;
	struct nem_lazyfs_opts o = { .binary = bin, .mountpoint = dir, .ctl_path = ctl, .log_path = log,
		                     .lazy_metadata = lazy_meta };
	pid_t pid;
	if (nem_lazyfs_start(&o, &pid, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	static uint8_t data[MAXSZ];
	int crashes = 0, fsyncs = 0;
	for (step = 0; step < steps && failures < 5; step++) {
		int name = (int)(rnd() % NAMES), other = (int)(rnd() % NAMES);
		unsigned op = (unsigned)(rnd() % 100);
		int ino = m.names[name];
		if (trace)
			fprintf(stderr, "step %d op %u f%d(ino %d, %zu bytes) f%d(ino %d)\n", step, op, name, ino,
			        ino >= 0 ? m.ino[ino].cur_n : 0, other, m.names[other]);
		if (op < 30) { /* pwrite, creating the file when missing */
			size_t off = rnd() % (MAXSZ / 2), len = 1 + rnd() % (MAXSZ / 2 - 1);
			for (size_t k = 0; k < len; k++)
				data[k] = (uint8_t)rnd();
			int fd = open(path_of(name), O_WRONLY | O_CREAT, 0644);
			if (fd < 0 || pwrite(fd, data, len, (off_t)off) != (ssize_t)len) {
				FAILF("pwrite f%d: %s", name, strerror(errno));
			} else {
				if (ino < 0 && (ino = m.names[name] = new_inode(&m)) < 0)
					break;
				struct inode *i = &m.ino[ino];
				if (off + len > i->cur_n)
					set_size(i, off + len);
				memcpy(i->cur + off, data, len);
			}
			if (fd >= 0)
				close(fd);
		} else if (op < 40 && ino >= 0) { /* append */
			struct inode *i = &m.ino[ino];
			size_t len = 1 + rnd() % 3000;
			if (i->cur_n + len > MAXSZ)
				continue;
			for (size_t k = 0; k < len; k++)
				data[k] = (uint8_t)rnd();
			int fd = open(path_of(name), O_WRONLY | O_APPEND);
			if (fd < 0 || write(fd, data, len) != (ssize_t)len)
				FAILF("append f%d: %s", name, strerror(errno));
			else {
				memcpy(i->cur + i->cur_n, data, len);
				i->cur_n += len;
			}
			if (fd >= 0)
				close(fd);
		} else if (op < 50 && ino >= 0) { /* truncate by path */
			size_t n = rnd() % MAXSZ;
			if (truncate(path_of(name), (off_t)n) < 0)
				FAILF("truncate f%d: %s", name, strerror(errno));
			else
				set_size(&m.ino[ino], n);
		} else if (op < 55) { /* open O_TRUNC (creating) and write a little */
			size_t len = rnd() % 100;
			for (size_t k = 0; k < len; k++)
				data[k] = (uint8_t)rnd();
			int fd = open(path_of(name), O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
				FAILF("O_TRUNC f%d: %s", name, strerror(errno));
			} else {
				if (ino < 0 && (ino = m.names[name] = new_inode(&m)) < 0)
					break;
				set_size(&m.ino[ino], 0);
				memcpy(m.ino[ino].cur, data, len);
				m.ino[ino].cur_n = len;
			}
			if (fd >= 0)
				close(fd);
		} else if (op < 70 && ino >= 0) { /* fsync or fdatasync */
			int fd = open(path_of(name), O_RDONLY);
			if (fd < 0 || ((op & 1) ? fdatasync(fd) : fsync(fd)) < 0)
				FAILF("fsync f%d: %s", name, strerror(errno));
			else {
				struct inode *i = &m.ino[ino];
				memcpy(i->dur, i->cur, i->cur_n);
				i->dur_n = i->cur_n;
				if (lazy_meta) /* any fsync commits the namespace */
					memcpy(m.dur_names, m.names, sizeof m.names);
				fsyncs++;
			}
			if (fd >= 0)
				close(fd);
		} else if (op < 77 && ino >= 0 && other != name) { /* rename, maybe over another file */
			if (rename(path_of(name), path_of(other)) < 0)
				FAILF("rename f%d f%d: %s", name, other, strerror(errno));
			else if (m.names[other] != ino) { /* two links to one file: rename(2) does nothing */
				m.names[other] = ino;
				m.names[name] = -1;
			}
		} else if (op < 81 && ino >= 0 && other != name && m.names[other] < 0) { /* hard link */
			if (link(path_of(name), path_of(other)) < 0)
				FAILF("link f%d f%d: %s", name, other, strerror(errno));
			else
				m.names[other] = ino;
		} else if (op < 86 && ino >= 0) { /* unlink */
			if (unlink(path_of(name)) < 0)
				FAILF("unlink f%d: %s", name, strerror(errno));
			else
				m.names[name] = -1;
		} else if (op < 90) { /* crash */
			struct nem_lazyfs_stats st;
			if (nem_lazyfs_lose_unsynced(ctl, &st, err, sizeof err) < 0) {
				FAILF("%s", err);
				break;
			}
			crashes++;
			if (lazy_meta)
				memcpy(m.names, m.dur_names, sizeof m.names);
			for (int k = 0; k < m.n_ino; k++) {
				struct inode *i = &m.ino[k];
				memcpy(i->cur, i->dur, i->dur_n);
				i->cur_n = i->dur_n;
			}
			for (int k = 0; k < NAMES; k++)
				check_name(&m, k);
		} else {
			check_name(&m, name);
		}
	}
	for (int k = 0; k < NAMES; k++)
		check_name(&m, k);
	/* A clean stop keeps exactly what is visible (metadata committed). */
	if (nem_lazyfs_stop(pid, dir, 0, err, sizeof err) < 0)
		FAILF("stop: %s", err);
	for (int k = 0; k < NAMES; k++)
		check_name(&m, k);
	printf("%s metadata: %d steps, %d crashes, %d fsyncs, %d inodes, %d failures\n",
	       lazy_meta ? "lazy" : "sync", step, crashes, fsyncs, m.n_ino, failures);
	return 0;
}

int main(int argc, char **argv)
{
	seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 20261126;
	int steps = argc > 2 ? atoi(argv[2]) : 3000;
	trace = getenv("RAPAT_MODEL_TRACE") != NULL;
	if (access("/dev/fuse", R_OK | W_OK) < 0) {
		printf("skip: /dev/fuse not usable: %s\n", strerror(errno));
		return 77;
	}
	char root[] = "/tmp/nem_lazyfs_modelXXXXXX", bin[4096];
	if (!mkdtemp(root))
		return 1;
	const char *b = getenv("RAPAT_BIN");
	snprintf(bin, sizeof bin, "%s/rapat-lazyfs", b && *b ? b : "bin");
	rng = seed;
	if (run(bin, root, false, steps) < 0)
		return 1;
	rng = seed ^ 0x5555;
	if (run(bin, root, true, steps) < 0)
		return 1;
	if (failures) {
		fprintf(stderr, "%d failures; rerun with: %s %llu %d (files kept in %s)\n", failures, argv[0],
		        (unsigned long long)seed, steps, root);
		return 1;
	}
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", root);
	printf("ok\n");
	return 0;
}
