/* brute.c — exhaustive linearizability oracle for tiny histories: tries every real-time-consistent order, with no pruning beyond legality. */
#include <stdio.h>
#include <stdlib.h>

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

struct event {
	int time, op, is_ret;
};

static int ev_cmp(const void *pa, const void *pb)
{
	const struct event *a = pa, *b = pb;
	if (a->time != b->time)
		return a->time - b->time;
	if (a->is_ret != b->is_ret) /* at equal times, arbitrary but fixed */
		return a->is_ret - b->is_ret;
	return a->op - b->op;
}

static void put_value(char *buf, size_t len, int v)
{
	if (v < 0)
		snprintf(buf, len, "null");
	else
		snprintf(buf, len, "%d", v);
}

void brute_jsonl(const struct bop *ops, int n, char *buf, size_t len)
{
	/* processes: in call order, the lowest process free at the call */
	int proc[16], free_at[32], nproc = 0, idx[16];
	bool retired[32] = {0};
	for (int i = 0; i < n; i++)
		idx[i] = i;
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (ops[idx[j]].call < ops[idx[i]].call) {
				int t = idx[i];
				idx[i] = idx[j];
				idx[j] = t;
			}
	for (int k = 0; k < n; k++) {
		int i = idx[k], p = -1;
		for (int q = 0; q < nproc && p < 0; q++)
			if (!retired[q] && free_at[q] < ops[i].call)
				p = q;
		if (p < 0)
			p = nproc++;
		proc[i] = p;
		free_at[p] = ops[i].ret;
		if (ops[i].status == B_INFO)
			retired[p] = true;
	}
	struct event ev[32];
	int ne = 0;
	for (int i = 0; i < n; i++) {
		ev[ne++] = (struct event){ops[i].call, i, 0};
		ev[ne++] = (struct event){ops[i].ret, i, 1};
	}
	qsort(ev, (size_t)ne, sizeof ev[0], ev_cmp);
	size_t off = 0;
	static const char *const fs[] = {"read", "write", "cas"};
	static const char *const st[] = {"ok", "info", "fail"};
	buf[0] = 0;
	for (int e = 0; e < ne && off < len; e++) {
		const struct bop *o = &ops[ev[e].op];
		char v[64], a[16], b[16];
		put_value(a, sizeof a, o->a);
		put_value(b, sizeof b, o->b);
		if (o->f == B_CAS)
			snprintf(v, sizeof v, "[%s,%s]", a, b);
		else if (o->f == B_READ)
			snprintf(v, sizeof v, "%s", ev[e].is_ret && o->status == B_OK ? a : "null");
		else
			snprintf(v, sizeof v, "%s", a);
		off += (size_t)snprintf(buf + off, len - off,
					"{\"time\":%d,\"process\":%d,\"type\":\"%s\",\"f\":\"%s\",\"key\":%d,\"value\":%s}\n",
					ev[e].time, proc[ev[e].op],
					ev[e].is_ret ? st[o->status] : "invoke", fs[o->f], o->key, v);
	}
}
