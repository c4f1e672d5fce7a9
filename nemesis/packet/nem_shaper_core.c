/* nem_shaper_core.c — the shaper's pure parts: per-packet decisions from a
 * seeded generator and the timed-event heap (contract in nem_shaper.h). */
#include "nemesis/packet/nem_shaper.h"

#include <stdlib.h>
#include <string.h>

uint64_t nem_shaper_rng_next(struct nem_shaper_rng *g)
{
	uint64_t z = (g->s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

double nem_shaper_rng_unit(struct nem_shaper_rng *g)
{
	return (double)(nem_shaper_rng_next(g) >> 11) / 9007199254740992.0;
}

static int64_t draw_delay(const struct nem_shaper_params *p, struct nem_shaper_rng *g)
{
	int64_t d = p->delay_ns;
	if (p->jitter_ns > 0)
		d += (int64_t)((nem_shaper_rng_unit(g) * 2.0 - 1.0) * (double)p->jitter_ns);
	return d > 0 ? d : 0;
}

void nem_shaper_decide(const struct nem_shaper_params *p, struct nem_shaper_rng *g,
                       struct nem_shaper_decision *d)
{
	memset(d, 0, sizeof *d);
	/* Every draw happens for every packet, so one decision never shifts the
	 * random stream of the next: runs with the same seed and traffic match. */
	double u_loss = nem_shaper_rng_unit(g), u_dup = nem_shaper_rng_unit(g);
	double u_reorder = nem_shaper_rng_unit(g), u_corrupt = nem_shaper_rng_unit(g);
	uint64_t pick = nem_shaper_rng_next(g);
	int64_t delay = draw_delay(p, g), dup_delay = draw_delay(p, g);
	if (u_loss < p->loss) {
		d->drop = 1;
		return;
	}
	d->delay_ns = u_reorder < p->reorder ? 0 : delay;
	if (u_dup < p->duplicate) {
		d->dup = 1;
		d->dup_delay_ns = dup_delay;
	}
	if (u_corrupt < p->corrupt) {
		d->corrupt = 1;
		d->corrupt_pick = pick;
	}
}

int64_t nem_shaper_depart(const struct nem_shaper_params *p, int64_t *link_free_ns, int64_t ready_ns,
                          size_t len)
{
	if (p->rate_bps == 0)
		return ready_ns;
	int64_t start = ready_ns > *link_free_ns ? ready_ns : *link_free_ns;
	int64_t tx = (int64_t)((unsigned __int128)len * 8u * 1000000000u / p->rate_bps);
	*link_free_ns = start + tx;
	return start + tx;
}

long nem_shaper_corrupt(unsigned char *pkt, size_t len, uint64_t pick)
{
	if (len < 20)
		return -1;
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
	if (ihl < 20 || ihl >= len)
		return -1;
	uint64_t bits = (uint64_t)(len - ihl) * 8;
	uint64_t bit = pick % bits;
	pkt[ihl + bit / 8] ^= (unsigned char)(1u << (bit % 8));
	return (long)(ihl * 8 + bit);
}

static int earlier(const struct nem_shaper_event *a, const struct nem_shaper_event *b)
{
	return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

int nem_shaper_heap_push(struct nem_shaper_heap *h, struct nem_shaper_event ev)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256;
		struct nem_shaper_event *v = realloc(h->v, cap * sizeof *v);
		if (!v)
			return -1;
		h->v = v;
		h->cap = cap;
	}
	ev.seq = h->next_seq++;
	size_t i = h->n++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!earlier(&ev, &h->v[parent]))
			break;
		h->v[i] = h->v[parent];
		i = parent;
	}
	h->v[i] = ev;
	return 0;
}

int nem_shaper_heap_pop(struct nem_shaper_heap *h, struct nem_shaper_event *ev)
{
	if (h->n == 0)
		return -1;
	*ev = h->v[0];
	struct nem_shaper_event last = h->v[--h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && earlier(&h->v[c + 1], &h->v[c]))
			c++;
		if (!earlier(&h->v[c], &last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return 0;
}

int64_t nem_shaper_heap_peek(const struct nem_shaper_heap *h)
{
	return h->n ? h->v[0].due_ns : INT64_MAX;
}

void nem_shaper_heap_free(struct nem_shaper_heap *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->v[i].copy);
	free(h->v);
	memset(h, 0, sizeof *h);
}
