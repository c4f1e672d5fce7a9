/* log.c — the in-memory Raft log: an array of entries after a compaction
 * offset. Entries own copies of their buffers. */
#include <stdlib.h>
#include <string.h>

#include "raftnode/core/internal.h"

raft_index raft_log_last_index(const struct raft_log *l)
{
	return l->offset + l->n;
}

raft_term raft_log_last_term(const struct raft_log *l)
{
	return l->n ? l->entries[l->n - 1].term : l->offset_term;
}

/* The term at the compaction point stays known so AppendEntries' consistency
 * check (§5.3) still works for prev_index == offset. */
raft_term raft_log_term_at(const struct raft_log *l, raft_index i)
{
	if (i == l->offset)
		return l->offset_term;
	if (i < l->offset || i > l->offset + l->n)
		return 0;
	return l->entries[i - l->offset - 1].term;
}

struct raft_entry *raft_log_get(const struct raft_log *l, raft_index i)
{
	if (i <= l->offset || i > l->offset + l->n)
		return NULL;
	return &l->entries[i - l->offset - 1];
}

int raft_log_append_copy(struct raft_log *l, const struct raft_entry *e)
{
	if (l->n == l->cap) {
		raft_index cap = l->cap ? l->cap * 2 : 64;
		struct raft_entry *p = realloc(l->entries, cap * sizeof(*p));
		if (!p)
			return RAFT_ENOMEM;
		l->entries = p;
		l->cap = cap;
	}
	struct raft_entry *d = &l->entries[l->n];
	d->term = e->term;
	d->type = e->type;
	d->buf.len = e->buf.len;
	/* Always allocate (even 0 bytes) so every entry owns a freeable pointer. */
	d->buf.base = malloc(e->buf.len ? e->buf.len : 1);
	if (!d->buf.base)
		return RAFT_ENOMEM;
	if (e->buf.len)
		memcpy(d->buf.base, e->buf.base, e->buf.len);
	/* Log terms never decrease: the leader appends in its own term, and a
	 * follower only accepts a suffix of a leader's log. */
	assert(e->term >= raft_log_last_term(l));
	l->n++;
	return RAFT_OK;
}

void raft_log_truncate(struct raft_log *l, raft_index from)
{
	assert(from > l->offset);
	while (l->offset + l->n >= from && l->n > 0) {
		l->n--;
		free(l->entries[l->n].buf.base);
	}
}

void raft_log_compact(struct raft_log *l, raft_index upto)
{
	if (upto <= l->offset)
		return;
	if (upto > raft_log_last_index(l))
		upto = raft_log_last_index(l);
	raft_index k = upto - l->offset;
	raft_term t = l->entries[k - 1].term;
	for (raft_index i = 0; i < k; i++)
		free(l->entries[i].buf.base);
	memmove(l->entries, l->entries + k, (l->n - k) * sizeof(*l->entries));
	l->n -= k;
	l->offset = upto;
	l->offset_term = t;
}

void raft_log_reset(struct raft_log *l, raft_index offset, raft_term offset_term)
{
	for (raft_index i = 0; i < l->n; i++)
		free(l->entries[i].buf.base);
	l->n = 0;
	l->offset = offset;
	l->offset_term = offset_term;
}

void raft_log_free(struct raft_log *l)
{
	raft_log_reset(l, 0, 0);
	free(l->entries);
	memset(l, 0, sizeof(*l));
}

/* First index (> offset) of the run of entries with the same term as i:
 * the conflict hint of the fast back-off (§5.3, "the follower can include
 * the term of the conflicting entry and the first index it stores for that
 * term"). */
raft_index raft_log_first_of_term(const struct raft_log *l, raft_index i)
{
	raft_term t = raft_log_term_at(l, i);
	while (i > l->offset + 1 && raft_log_term_at(l, i - 1) == t)
		i--;
	return i;
}
