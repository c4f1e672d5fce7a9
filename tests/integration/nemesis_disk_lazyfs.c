/* nemesis_disk_lazyfs.c — integration test: a "node" process writes through
 * rapat-lazyfs (some data fsynced, some not), is SIGKILLed, and the crash
 * command leaves exactly the fsynced data, byte for byte; without the crash
 * command (clean unmount) every write survives. */
#include "nemesis/disk/nem_lazyfs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;
#define CHECK(cond, ...)                                                              \
	do {                                                                          \
		if (!(cond)) {                                                        \
			failures++;                                                   \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                 \
			fputc('\n', stderr);                                          \
		}                                                                     \
	} while (0)

static char data_dir[256];

static void pattern(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8));
}

static const char *at(const char *name)
{
	/* Two rotating buffers, so that rename(at(x), at(y)) works. */
	static char p[2][512];
	static int next;
	next ^= 1;
	snprintf(p[next], sizeof p[next], "%s/%s", data_dir, name);
	return p[next];
}

/* Writes all of buf at off (or appends when off < 0). */
static int put(int fd, const void *buf, size_t len, off_t off)
{
	ssize_t w = off < 0 ? write(fd, buf, len) : pwrite(fd, buf, len, off);
	return w == (ssize_t)len ? 0 : -1;
}

static void expect_file(const char *name, const uint8_t *want, size_t len)
{
	static uint8_t got[1 << 21];
	int fd = open(at(name), O_RDONLY);
	CHECK(fd >= 0, "%s: open: %s", name, strerror(errno));
	if (fd < 0)
		return;
	struct stat st;
	fstat(fd, &st);
	ssize_t n = read(fd, got, sizeof got);
	close(fd);
	CHECK(n == (ssize_t)len && st.st_size == (off_t)len, "%s: size %zd (stat %lld), want %zu", name, n,
	      (long long)st.st_size, len);
	if (n == (ssize_t)len)
		CHECK(memcmp(got, want, len) == 0, "%s: contents differ", name);
}

static void expect_absent(const char *name)
{
	struct stat st;
	CHECK(stat(at(name), &st) < 0 && errno == ENOENT, "%s should not exist", name);
}

static uint8_t a[8192 + 1000], b[5000], c[3000], c_new[10], d[10000], e[150], g[4096];

/* The node: runs through lazyfs, checks that it reads its own unsynced
 * writes, reports on the pipe, and waits to be killed. */
static int node_main(int report)
{
	int bad = 0, fd;
#define TRY(x)                                                         \
	do {                                                           \
		if (!(x)) {                                            \
			fprintf(stderr, "node: %s: %s\n", #x, strerror(errno)); \
			bad++;                                         \
		}                                                      \
	} while (0)
	/* A: 8192 synced, 1000 appended unsynced. */
	TRY((fd = open(at("A"), O_CREAT | O_WRONLY | O_APPEND, 0644)) >= 0);
	TRY(put(fd, a, 8192, -1) == 0 && fsync(fd) == 0 && put(fd, a + 8192, 1000, -1) == 0);
	close(fd);
	/* B: created, written, never synced. */
	TRY((fd = open(at("B"), O_CREAT | O_RDWR, 0644)) >= 0);
	TRY(put(fd, b, sizeof b, 0) == 0);
	uint8_t back[sizeof b];
	TRY(pread(fd, back, sizeof back, 0) == (ssize_t)sizeof back && !memcmp(back, b, sizeof b));
	close(fd);
	/* C: fdatasync'ed, then overwritten in the middle. */
	TRY((fd = open(at("C"), O_CREAT | O_RDWR, 0644)) >= 0);
	TRY(put(fd, c, sizeof c, 0) == 0 && fdatasync(fd) == 0 && put(fd, c_new, sizeof c_new, 100) == 0);
	close(fd);
	/* D: synced, then truncated without sync. */
	TRY((fd = open(at("D"), O_CREAT | O_RDWR, 0644)) >= 0);
	TRY(put(fd, d, sizeof d, 0) == 0 && fsync(fd) == 0 && ftruncate(fd, 2000) == 0);
	struct stat st;
	TRY(fstat(fd, &st) == 0 && st.st_size == 2000);
	close(fd);
	/* E: synced, renamed (applied at once), appended unsynced. */
	TRY((fd = open(at("E"), O_CREAT | O_WRONLY, 0644)) >= 0);
	TRY(put(fd, e, 100, 0) == 0 && fsync(fd) == 0);
	close(fd);
	TRY(rename(at("E"), at("E2")) == 0);
	TRY((fd = open(at("E2"), O_WRONLY | O_APPEND)) >= 0);
	TRY(put(fd, e + 100, 50, -1) == 0);
	close(fd);
	/* old (existed before mounting): appended unsynced. */
	TRY((fd = open(at("old"), O_WRONLY | O_APPEND)) >= 0);
	TRY(put(fd, "NEW", 3, -1) == 0);
	close(fd);
	/* F: synced and unlinked: gone either way. */
	TRY((fd = open(at("F"), O_CREAT | O_WRONLY, 0644)) >= 0);
	TRY(put(fd, g, sizeof g, 0) == 0 && fsync(fd) == 0);
	close(fd);
	TRY(unlink(at("F")) == 0);
	/* sub/G: in a new directory, synced. */
	TRY(mkdir(at("sub"), 0755) == 0);
	TRY((fd = open(at("sub/G"), O_CREAT | O_WRONLY, 0644)) >= 0);
	TRY(put(fd, g, sizeof g, 0) == 0 && fsync(fd) == 0);
	close(fd);
	/* H: 10 bytes synced, then preallocated to 1 MiB (size unsynced). */
	TRY((fd = open(at("H"), O_CREAT | O_RDWR, 0644)) >= 0);
	TRY(put(fd, "0123456789", 10, 0) == 0 && fsync(fd) == 0 && fallocate(fd, 0, 0, 1 << 20) == 0);
	TRY(fstat(fd, &st) == 0 && st.st_size == (1 << 20));
	/* TR: synced "hello world", then reopened with O_TRUNC and rewritten
	 * shorter, unsynced. */
	TRY((fd = open(at("TR"), O_CREAT | O_WRONLY, 0644)) >= 0);
	TRY(put(fd, "hello world", 11, 0) == 0 && fsync(fd) == 0);
	close(fd);
	TRY((fd = open(at("TR"), O_WRONLY | O_TRUNC)) >= 0);
	TRY(put(fd, "hi", 2, -1) == 0);
	close(fd);
	/* M: synced, then changed through a shared mapping, no msync; the
	 * mapping dies with the process. */
	TRY((fd = open(at("M"), O_CREAT | O_RDWR, 0644)) >= 0);
	TRY(put(fd, g, sizeof g, 0) == 0 && fsync(fd) == 0);
	uint8_t *map = mmap(NULL, sizeof g, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TRY(map != MAP_FAILED);
	if (map != MAP_FAILED)
		memcpy(map + 100, "mmap-write", 10);
	/* Left open: the kill closes it. */
	char r = bad ? 'F' : 'R';
	TRY(write(report, &r, 1) == 1);
	for (;;)
		pause();
	return 0;
}

static pid_t start_node(void)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(node_main(p[1]));
	}
	close(p[1]);
	char r = 0;
	CHECK(read(p[0], &r, 1) == 1 && r == 'R', "node reported failures (%c)", r);
	close(p[0]);
	return pid;
}

static void kill_node(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void expect_all_written(const char *when)
{
	fprintf(stderr, "checking every write is visible (%s)\n", when);
	uint8_t c_cur[sizeof c], d_cur[2000], e_cur[150], h[1 << 20];
	expect_file("A", a, sizeof a);
	expect_file("B", b, sizeof b);
	memcpy(c_cur, c, sizeof c);
	memcpy(c_cur + 100, c_new, sizeof c_new);
	expect_file("C", c_cur, sizeof c_cur);
	memcpy(d_cur, d, sizeof d_cur);
	expect_file("D", d_cur, sizeof d_cur);
	memcpy(e_cur, e, sizeof e_cur);
	expect_file("E2", e_cur, sizeof e_cur);
	expect_absent("E");
	expect_file("old", (const uint8_t *)"OLDNEW", 6);
	expect_absent("F");
	expect_file("sub/G", g, sizeof g);
	memset(h, 0, sizeof h);
	memcpy(h, "0123456789", 10);
	expect_file("H", h, sizeof h);
	uint8_t m[sizeof g];
	memcpy(m, g, sizeof m);
	memcpy(m + 100, "mmap-write", 10);
	expect_file("M", m, sizeof m);
	expect_file("TR", (const uint8_t *)"hi", 2);
}

int main(void)
{
	char err[512], root[] = "/tmp/nem_lazyfsXXXXXX", ctl[300], log[300], bin[4096];
	if (access("/dev/fuse", R_OK | W_OK) < 0) {
		printf("skip: /dev/fuse not usable: %s\n", strerror(errno));
		return 77;
	}
	if (!mkdtemp(root))
		return 1;
	snprintf(data_dir, sizeof data_dir, "%s/data", root);
	snprintf(ctl, sizeof ctl, "%s/lazyfs.sock", root);
	snprintf(log, sizeof log, "%s/lazyfs.log", root);
	const char *b_env = getenv("RAPAT_BIN");
	snprintf(bin, sizeof bin, "%s/rapat-lazyfs", b_env && *b_env ? b_env : "bin");
	pattern(a, sizeof a, 1), pattern(b, sizeof b, 2), pattern(c, sizeof c, 3);
	pattern(c_new, sizeof c_new, 4), pattern(d, sizeof d, 5), pattern(e, sizeof e, 6);
	pattern(g, sizeof g, 7);
	mkdir(data_dir, 0755);
	int fd = open(at("old"), O_CREAT | O_WRONLY, 0644);
	if (fd < 0 || write(fd, "OLD", 3) != 3)
		return 1;
	close(fd);

	/* Round 1: kill, crash command, check. */
	struct nem_lazyfs_opts o = { .binary = bin, .mountpoint = data_dir, .ctl_path = ctl, .log_path = log };
	pid_t lz;
	if (nem_lazyfs_start(&o, &lz, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	pid_t node = start_node();
	kill_node(node);
	expect_all_written("after the kill, before the crash command");
	struct nem_lazyfs_stats st;
	CHECK(nem_lazyfs_stats(ctl, &st, err, sizeof err) == 0, "%s", err);
	CHECK(st.files >= 8 && st.files <= 9, "unsynced files before crash: %llu, want A B C D E2 old H TR (+ M once the kernel wrote back its mapping)",
	      (unsigned long long)st.files);
	/* What a crash would lose, per file. */
	static char rep[65536];
	CHECK(nem_lazyfs_command(ctl, "report", rep, sizeof rep, err, sizeof err) == 0, "%s", err);
	CHECK(strstr(rep, "{\"path\":\"A\",\"size\":9192,\"durable_size\":8192,\"dirty_pages\":1}") != NULL,
	      "report lacks A: %s", rep);
	CHECK(strstr(rep, "{\"path\":\"D\",\"size\":2000,\"durable_size\":10000,\"dirty_pages\":0,\"truncated_to\":2000}") !=
	              NULL,
	      "report lacks D: %s", rep);
	CHECK(strstr(rep, "\"path\":\"B\",\"size\":5000,\"durable_size\":0") != NULL, "report lacks B: %s", rep);
	CHECK(strstr(rep, "\"more\":0}") != NULL, "report: %s", rep);
	printf("report: %.200s...\n", rep);
	CHECK(nem_lazyfs_lose_unsynced(ctl, &st, err, sizeof err) == 0, "%s", err);
	printf("crash dropped %llu files, %llu bytes of unsynced pages\n", (unsigned long long)st.files,
	       (unsigned long long)st.dirty_bytes);
	expect_file("A", a, 8192);
	expect_file("B", (const uint8_t *)"", 0);
	expect_file("C", c, sizeof c);
	expect_file("D", d, sizeof d);
	expect_file("E2", e, 100);
	expect_absent("E");
	expect_file("old", (const uint8_t *)"OLD", 3);
	expect_absent("F");
	expect_file("sub/G", g, sizeof g);
	expect_file("H", (const uint8_t *)"0123456789", 10);
	expect_file("M", g, sizeof g);
	expect_file("TR", (const uint8_t *)"hello world", 11);
	char reply[64];
	CHECK(nem_lazyfs_command(ctl, "bogus", reply, sizeof reply, err, sizeof err) == -1 &&
	              strstr(err, "unknown command"),
	      "bogus command: %s", err);
	CHECK(nem_lazyfs_stop(lz, data_dir, 0, err, sizeof err) == 0, "%s", err);
	/* Unmounted: the directory itself holds exactly the durable data. */
	expect_file("A", a, 8192);
	expect_file("old", (const uint8_t *)"OLD", 3);

	/* Round 2: same writes on a fresh directory, no crash command: a clean
	 * stop makes everything durable. */
	char cmd[2400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir '%s' && printf OLD > '%s/old'", data_dir, data_dir, data_dir);
	if (system(cmd) != 0)
		return 1;
	if (nem_lazyfs_start(&o, &lz, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	node = start_node();
	kill_node(node);
	CHECK(nem_lazyfs_stop(lz, data_dir, 0, err, sizeof err) == 0, "%s", err);
	expect_all_written("after a clean unmount, on the backing directory");

	/* Round 3: a daemon killed with SIGKILL leaves no broken mount behind
	 * once stopped. */
	if (nem_lazyfs_start(&o, &lz, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	kill(lz, SIGKILL);
	waitpid(lz, NULL, 0);
	CHECK(nem_lazyfs_stop(0, data_dir, 0, err, sizeof err) == 0, "%s", err);
	struct stat sb;
	CHECK(stat(at("A"), &sb) == 0, "after SIGKILL + stop: %s", strerror(errno));

	/* Round 4: a torn crash keeps a random subset of unsynced pages. */
	if (nem_lazyfs_start(&o, &lz, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	{
		enum { PAGES = 64, PG = 4096 };
		static uint8_t oldc[PAGES * PG], newc[PAGES * PG], got[PAGES * PG];
		memset(oldc, 'o', sizeof oldc);
		memset(newc, 'n', sizeof newc);
		fd = open(at("T"), O_CREAT | O_RDWR, 0644);
		CHECK(fd >= 0 && put(fd, oldc, sizeof oldc, 0) == 0 && fsync(fd) == 0 &&
		              put(fd, newc, sizeof newc, 0) == 0,
		      "torn: write: %s", strerror(errno));
		close(fd);
		uint64_t kept = 0;
		CHECK(nem_lazyfs_lose_unsynced_partial(ctl, 0.5, 77, &st, &kept, err, sizeof err) == 0, "%s", err);
		fd = open(at("T"), O_RDONLY);
		CHECK(fd >= 0 && read(fd, got, sizeof got) == (ssize_t)sizeof got, "torn: read back");
		close(fd);
		uint64_t n_new = 0;
		for (int pg = 0; pg < PAGES; pg++) {
			bool is_new = got[pg * PG] == 'n';
			CHECK(memcmp(got + pg * PG, is_new ? newc : oldc, PG) == 0, "torn: page %d is mixed", pg);
			n_new += is_new;
		}
		CHECK(n_new == kept && kept > 10 && kept < 54, "torn: %llu new pages, reply said %llu",
		      (unsigned long long)n_new, (unsigned long long)kept);
		printf("crash-partial 0.5: %llu of %d unsynced pages reached the disk\n", (unsigned long long)kept, PAGES);
	}
	CHECK(nem_lazyfs_stop(lz, data_dir, 0, err, sizeof err) == 0, "%s", err);

	/* Round 5: --lazy-metadata — namespace operations after the last fsync
	 * are undone by the crash too. */
	snprintf(cmd, sizeof cmd,
	         "rm -rf '%s' && mkdir -p '%s/d1' && printf K > '%s/keep' && printf V > '%s/victim' && "
	         "printf T > '%s/target'",
	         data_dir, data_dir, data_dir, data_dir, data_dir);
	if (system(cmd) != 0)
		return 1;
	o.lazy_metadata = 1;
	if (nem_lazyfs_start(&o, &lz, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	pid_t n5 = fork();
	if (n5 == 0) {
		int bad = 0;
		int f = open(at("synced"), O_CREAT | O_WRONLY, 0644);
		bad |= f < 0 || put(f, "S", 1, 0) || fsync(f);
		close(f);
		f = open(at("lost"), O_CREAT | O_WRONLY, 0644);
		bad |= f < 0 || put(f, "L", 1, 0);
		close(f);
		bad |= rename(at("keep"), at("keep2")) || unlink(at("victim")) || rmdir(at("d1")) ||
		       mkdir(at("d2"), 0755) || rename(at("synced"), at("target"));
		/* The journal's trash is invisible. */
		struct stat tst;
		bad |= stat(at(".rapat-lazyfs-trash"), &tst) == 0;
		_exit(bad);
	}
	int st5;
	waitpid(n5, &st5, 0);
	CHECK(WIFEXITED(st5) && WEXITSTATUS(st5) == 0, "lazy-metadata node failed");
	snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -q rapat-lazyfs-trash", data_dir);
	CHECK(system(cmd) != 0, "the trash directory shows up in a listing");
	CHECK(nem_lazyfs_stats(ctl, &st, err, sizeof err) == 0 && st.pending_ops == 6, "pending ops %u, want 6",
	      st.pending_ops);
	CHECK(nem_lazyfs_lose_unsynced(ctl, &st, err, sizeof err) == 0, "%s", err);
	CHECK(st.undone_ops == 6 && st.failed_undo == 0, "undone %u (failed %u), want 6", st.undone_ops,
	      st.failed_undo);
	printf("lazy metadata: crash undid %u namespace operations\n", st.undone_ops);
	expect_file("synced", (const uint8_t *)"S", 1);
	expect_file("target", (const uint8_t *)"T", 1);
	expect_file("keep", (const uint8_t *)"K", 1);
	expect_file("victim", (const uint8_t *)"V", 1);
	expect_absent("lost");
	expect_absent("keep2");
	expect_absent("d2");
	struct stat d1st;
	CHECK(stat(at("d1"), &d1st) == 0 && S_ISDIR(d1st.st_mode), "d1 not restored");
	/* An fsync of any file commits the namespace operations before it. */
	n5 = fork();
	if (n5 == 0) {
		int f = open(at("x"), O_CREAT | O_WRONLY, 0644);
		int bad = rename(at("keep"), at("keep3")) || f < 0 || put(f, "X", 1, 0) || fsync(f);
		_exit(bad);
	}
	waitpid(n5, &st5, 0);
	CHECK(WIFEXITED(st5) && WEXITSTATUS(st5) == 0, "lazy-metadata node 2 failed");
	CHECK(nem_lazyfs_lose_unsynced(ctl, &st, err, sizeof err) == 0 && st.undone_ops == 0, "undone %u, want 0",
	      st.undone_ops);
	expect_file("keep3", (const uint8_t *)"K", 1);
	expect_file("x", (const uint8_t *)"X", 1);
	CHECK(nem_lazyfs_stop(lz, data_dir, 0, err, sizeof err) == 0, "%s", err);

	/* Round 6: the process that started the daemon dies: the daemon gets
	 * SIGTERM and unmounts by itself. */
	o.lazy_metadata = 0;
	pid_t starter = fork();
	if (starter == 0) {
		pid_t daemon_pid;
		_exit(nem_lazyfs_start(&o, &daemon_pid, err, sizeof err) == 0 ? 0 : 1);
	}
	int sst;
	waitpid(starter, &sst, 0);
	CHECK(WIFEXITED(sst) && WEXITSTATUS(sst) == 0, "starter failed");
	bool unmounted = false;
	for (int i = 0; i < 1000 && !unmounted; i++) { /* up to 10 s */
		struct statfs sf;
		unmounted = statfs(data_dir, &sf) == 0 && sf.f_type != 0x65735546;
		if (!unmounted)
			usleep(10000);
	}
	CHECK(unmounted, "the daemon did not unmount after its starter died");

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	if (!failures && system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", root);
	if (failures) {
		fprintf(stderr, "%d checks failed (files kept in %s)\n", failures, root);
		return 1;
	}
	printf("ok\n");
	return 0;
}
