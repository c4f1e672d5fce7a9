/* brute.h — an exhaustive, deliberately naive linearizability checker for tiny register histories (the differential test's oracle). */
#ifndef RAPAT_TEST_BRUTE_H
#define RAPAT_TEST_BRUTE_H

#include <stdbool.h>
#include <stddef.h>

enum { B_READ, B_WRITE, B_CAS };
enum { B_OK, B_INFO, B_FAIL };

/* Values are small ints; -1 is null. ret is ignored for info ops. */
struct bop {
	int f, status, key;
	int a, b; /* read: value read; write: a; cas: a -> b */
	int call, ret;
};

/* True if the ops of key `key` can be ordered: every ok op exactly once,
 * every info write/cas at most once, fail ops and info reads never; each op
 * after every ok op that returned before it was invoked; each step legal for
 * a register starting at null. Tries every order (n <= 12). */
bool brute_linearizable(const struct bop *ops, int n, int key);

/* Writes the ops (n <= 16) as a JSONL history into buf: events sorted by
 * time, each op on the lowest process free at its call (a process whose op
 * ended info is not reused). */
void brute_jsonl(const struct bop *ops, int n, char *buf, size_t len);

#endif
