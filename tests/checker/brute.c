/* brute.c — exhaustive linearizability oracle for tiny histories: tries every real-time-consistent order, with no pruning beyond legality. */
#include "tests/checker/brute.h"

static bool rec(const struct bop *ops, int n, int key, unsigned placed, int state)
{
	bool all_ok = true;
	for (int i = 0; i < n; i++)
		if (ops[i].key == key && ops[i].status == B_OK && !(placed & (1u << i)))
			all_ok = false;
	if (all_ok)
		return true;
	for (int i = 0; i < n; i++) {
		const struct bop *o = &ops[i];
		if (o->key != key || (placed & (1u << i)) || o->status == B_FAIL)
			continue;
		if (o->f == B_READ && o->status != B_OK)
			continue;
		/* real time: every unplaced ok op that returned before o was invoked
		 * must come first */
		bool blocked = false;
		for (int j = 0; j < n && !blocked; j++)
			if (j != i && ops[j].key == key && ops[j].status == B_OK &&
			    !(placed & (1u << j)) && ops[j].ret < o->call)
				blocked = true;
		if (blocked)
			continue;
		int next;
		if (o->f == B_READ) {
			if (state != o->a)
				continue;
			next = state;
		} else if (o->f == B_WRITE) {
			next = o->a;
		} else {
			if (state != o->a)
				continue;
			next = o->b;
		}
		if (rec(ops, n, key, placed | (1u << i), next))
			return true;
	}
	return false;
}

bool brute_linearizable(const struct bop *ops, int n, int key)
{
	return rec(ops, n, key, 0, -1);
}
