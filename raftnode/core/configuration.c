/* configuration.c — struct raft_config: the set of servers, and its stable,
 * versioned, bounds-checked byte encoding (read from disk and network). */
#include <stdlib.h>
#include <string.h>

#include "raftnode/core/internal.h"

#define RAFT_CONFIG_VERSION 1
/* Sanity limit for decoding: no real cluster has more servers. */
#define RAFT_CONFIG_MAX_SERVERS 1024

const struct raft_server *raft_config_get(const struct raft_config *c, raft_id id)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->servers[i].id == id)
			return &c->servers[i];
	return NULL;
}

int raft_config_add(struct raft_config *c, raft_id id, int role, const char *address)
{
	if (id == 0 || (role != RAFT_VOTER && role != RAFT_LEARNER) || raft_config_get(c, id))
		return RAFT_EINVAL;
	if (!address)
		address = "";
	size_t alen = strlen(address);
	if (alen >= RAFT_ADDR_MAX)
		return RAFT_EINVAL;
	struct raft_server *s = realloc(c->servers, (c->n + 1) * sizeof(*s));
	if (!s)
		return RAFT_ENOMEM;
	c->servers = s;
	memset(&s[c->n], 0, sizeof(s[c->n]));
	s[c->n].id = id;
	s[c->n].role = (uint8_t)role;
	memcpy(s[c->n].address, address, alen + 1);
	c->n++;
	return RAFT_OK;
}

int raft_config_remove(struct raft_config *c, raft_id id)
{
	for (unsigned i = 0; i < c->n; i++) {
		if (c->servers[i].id == id) {
			memmove(&c->servers[i], &c->servers[i + 1], (c->n - i - 1) * sizeof(c->servers[0]));
			c->n--;
			return RAFT_OK;
		}
	}
	return RAFT_ENOTFOUND;
}

int raft_config_copy(const struct raft_config *src, struct raft_config *dst)
{
	dst->n = 0;
	dst->servers = NULL;
	if (src->n == 0)
		return RAFT_OK;
	dst->servers = malloc(src->n * sizeof(*dst->servers));
	if (!dst->servers)
		return RAFT_ENOMEM;
	memcpy(dst->servers, src->servers, src->n * sizeof(*dst->servers));
	dst->n = src->n;
	return RAFT_OK;
}

void raft_config_free(struct raft_config *c)
{
	free(c->servers);
	c->servers = NULL;
	c->n = 0;
}

unsigned raft_config_voters(const struct raft_config *c)
{
	unsigned v = 0;
	for (unsigned i = 0; i < c->n; i++)
		v += c->servers[i].role == RAFT_VOTER;
	return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int raft_config_encode(const struct raft_config *c, struct raft_buf *out)
{
	size_t len = 1 + 4;
	for (unsigned i = 0; i < c->n; i++)
		len += 8 + 1 + 2 + strnlen(c->servers[i].address, RAFT_ADDR_MAX - 1);
	uint8_t *p = malloc(len);
	if (!p)
		return RAFT_ENOMEM;
	size_t o = 0;
	p[o++] = RAFT_CONFIG_VERSION;
	put_le(p + o, c->n, 4);
	o += 4;
	for (unsigned i = 0; i < c->n; i++) {
		const struct raft_server *s = &c->servers[i];
		size_t al = strnlen(s->address, RAFT_ADDR_MAX - 1);
		put_le(p + o, s->id, 8);
		o += 8;
		p[o++] = s->role;
		put_le(p + o, al, 2);
		o += 2;
		memcpy(p + o, s->address, al);
		o += al;
	}
	assert(o == len);
	out->base = p;
	out->len = len;
	return RAFT_OK;
}

int raft_config_decode(const void *buf, size_t len, struct raft_config *c)
{
	const uint8_t *p = buf;
	size_t o = 0;
	c->n = 0;
	c->servers = NULL;
	if (!p || len < 5 || p[0] != RAFT_CONFIG_VERSION)
		return RAFT_ECORRUPT;
	o = 1;
	uint64_t n = get_le(p + o, 4);
	o += 4;
	if (n > RAFT_CONFIG_MAX_SERVERS)
		return RAFT_ECORRUPT;
	char addr[RAFT_ADDR_MAX];
	for (uint64_t i = 0; i < n; i++) {
		if (len - o < 11)
			goto corrupt;
		raft_id id = get_le(p + o, 8);
		o += 8;
		int role = p[o++];
		size_t al = get_le(p + o, 2);
		o += 2;
		if (al >= RAFT_ADDR_MAX || len - o < al)
			goto corrupt;
		memcpy(addr, p + o, al);
		addr[al] = 0;
		o += al;
		/* A NUL inside the address would silently shorten it. */
		if (strlen(addr) != al)
			goto corrupt;
		if (raft_config_add(c, id, role, addr) != RAFT_OK)
			goto corrupt; /* id 0, duplicate or bad role (or ENOMEM) */
	}
	if (o != len)
		goto corrupt;
	return RAFT_OK;
corrupt:
	raft_config_free(c);
	return RAFT_ECORRUPT;
}
