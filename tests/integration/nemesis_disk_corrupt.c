/* nemesis_disk_corrupt.c — integration test of bin/rapat-corrupt: run each
 * command on a real file and check that the file changed exactly as the
 * printed JSON report says (bit flips, torn tail, copied chunks) and nowhere
 * else; usage errors exit 2 and leave the file alone. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SZ (256 * 1024)
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

static char file[64], tool[4096];
static uint8_t orig[SZ], now[SZ], want[SZ];

static void make_file(void)
{
	for (size_t i = 0; i < SZ; i++)
		orig[i] = (uint8_t)((i * 2654435761u) >> 13);
	FILE *f = fopen(file, "wb");
	fwrite(orig, 1, SZ, f);
	fclose(f);
	memcpy(want, orig, SZ);
}

static size_t load(void)
{
	FILE *f = fopen(file, "rb");
	size_t n = fread(now, 1, SZ, f);
	fclose(f);
	return n;
}

/* Runs rapat-corrupt with args (NULL-terminated); returns the exit status
 * and the parsed JSON on stdout (NULL when none). */
static int run(json_t **out, const char *const *args)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		const char *argv[16] = { tool };
		for (int i = 0; args[i] && i < 14; i++)
			argv[i + 1] = args[i];
		execv(tool, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	static char buf[1 << 22];
	size_t n = 0;
	ssize_t r;
	while ((r = read(p[0], buf + n, sizeof buf - 1 - n)) > 0)
		n += (size_t)r;
	close(p[0]);
	buf[n] = 0;
	int st;
	waitpid(pid, &st, 0);
	json_error_t je;
	*out = n ? json_loads(buf, 0, &je) : NULL;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static uint64_t num(json_t *o, const char *k)
{
	return (uint64_t)json_integer_value(json_object_get(o, k));
}

int main(void)
{
	const char *bin = getenv("RAPAT_BIN");
	snprintf(tool, sizeof tool, "%s/rapat-corrupt", bin && *bin ? bin : "bin");
	snprintf(file, sizeof file, "/tmp/nemesis_disk_corrupt.%d", (int)getpid());
	json_t *j, *ch;
	size_t i;

	/* Exactly 40 bit flips inside [1000, 3000). */
	make_file();
	CHECK(run(&j, (const char *[]){ "bitflip", file, "--count", "40", "--start", "1000", "--end", "3000",
	                                "--seed", "11", NULL }) == 0 && j, "bitflip --count failed");
	if (!j)
		return 1;
	json_array_foreach(json_object_get(j, "changes"), i, ch) {
		uint64_t off = num(ch, "offset");
		CHECK(off >= 1000 && off < 3000, "flip at %llu outside the region", (unsigned long long)off);
		CHECK(want[off] == num(ch, "old"), "old byte at %llu", (unsigned long long)off);
		want[off] ^= (uint8_t)(1u << num(ch, "bit"));
		CHECK(want[off] == num(ch, "new"), "new byte at %llu", (unsigned long long)off);
	}
	CHECK(json_array_size(json_object_get(j, "changes")) == 40, "reported %zu flips",
	      json_array_size(json_object_get(j, "changes")));
	CHECK(load() == SZ && memcmp(now, want, SZ) == 0, "file differs from the report");
	int bits = 0;
	for (size_t k = 0; k < SZ; k++)
		bits += __builtin_popcount(now[k] ^ orig[k]);
	CHECK(bits == 40, "%d bits differ, want 40", bits);
	printf("bitflip --count 40: %d bits differ, all reported\n", bits);
	json_decref(j);

	/* Probability 1e-3 over 2 Mi bits: about 2097 flips. */
	make_file();
	CHECK(run(&j, (const char *[]){ "bitflip", file, "--probability", "0.001", "--seed", "5", NULL }) == 0 && j,
	      "bitflip --probability failed");
	if (!j)
		return 1;
	json_array_foreach(json_object_get(j, "changes"), i, ch)
		want[num(ch, "offset")] ^= (uint8_t)(1u << num(ch, "bit"));
	size_t nflips = json_array_size(json_object_get(j, "changes"));
	CHECK(nflips > 1700 && nflips < 2500, "%zu flips for p=0.001 over %d bits", nflips, SZ * 8);
	CHECK(load() == SZ && memcmp(now, want, SZ) == 0, "file differs from the report");
	printf("bitflip --probability 0.001: %zu flips over %d bits (expected %.0f)\n", nflips, SZ * 8,
	       SZ * 8 * 0.001);
	json_decref(j);

	/* Torn tail. */
	make_file();
	CHECK(run(&j, (const char *[]){ "truncate", file, "--drop", "1234", NULL }) == 0 && j, "truncate failed");
	CHECK(j && num(j, "size_before") == SZ && num(j, "size_after") == SZ - 1234, "truncate report");
	CHECK(load() == SZ - 1234 && memcmp(now, orig, SZ - 1234) == 0, "truncate changed more than the tail");
	json_decref(j);

	/* Chunks copied over chunks. */
	make_file();
	CHECK(run(&j, (const char *[]){ "copy", file, "--chunk-size", "4096", "--count", "5", "--seed", "2", NULL }) == 0 && j,
	      "copy failed");
	if (!j)
		return 1;
	json_array_foreach(json_object_get(j, "changes"), i, ch)
		memcpy(want + num(ch, "offset"), orig + num(ch, "src"), num(ch, "len"));
	CHECK(json_array_size(json_object_get(j, "changes")) == 5, "copy reported %zu chunks",
	      json_array_size(json_object_get(j, "changes")));
	CHECK(load() == SZ && memcmp(now, want, SZ) == 0, "file differs from the copy report");
	json_decref(j);

	/* Usage and operational errors. */
	make_file();
	CHECK(run(&j, (const char *[]){ "bitflip", file, NULL }) == 2, "bitflip without count: want exit 2");
	CHECK(run(&j, (const char *[]){ "bitflip", file, "--count", "x", NULL }) == 2, "bad number: want exit 2");
	CHECK(run(&j, (const char *[]){ "frob", file, NULL }) == 2, "unknown command: want exit 2");
	CHECK(run(&j, (const char *[]){ "bitflip", file, "--count", "1", "--start", "999999999", NULL }) == 1,
	      "region outside the file: want exit 1");
	CHECK(load() == SZ && memcmp(now, orig, SZ) == 0, "refused commands changed the file");

	unlink(file);
	if (failures) {
		fprintf(stderr, "%d checks failed\n", failures);
		return 1;
	}
	printf("ok\n");
	return 0;
}
