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
	double u_reorder = nem_shaper_rng_unit(g);
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
