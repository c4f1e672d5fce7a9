/* srv_kv.c — key → JSON value map with put and compare-and-set. */
#include "raftnode/server/srv_kv.h"

#include <stdlib.h>

struct srv_kv {
	json_t *map; /* a jansson object: its hash table is the map */
};

int srv_kv_new(struct srv_kv **out)
{
	struct srv_kv *kv = calloc(1, sizeof *kv);
	if (!kv)
		return -1;
	kv->map = json_object();
	if (!kv->map) {
		free(kv);
		return -1;
	}
	*out = kv;
	return 0;
}

void srv_kv_free(struct srv_kv *kv)
{
	if (!kv)
		return;
	json_decref(kv->map);
	free(kv);
}

int srv_kv_key_ok(const char *key, size_t len)
{
	if (len == 0 || len > SRV_KV_KEY_MAX)
		return 0;
	const unsigned char *s = (const unsigned char *)key;
	size_t i = 0;
	while (i < len) {
		unsigned c = s[i];
		size_t n;
		unsigned min;
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1, min = 0x80, c &= 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2, min = 0x800, c &= 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3, min = 0x10000, c &= 0x07;
		} else {
			return 0;
		}
		if (len - i - 1 < n)
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (s[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

static int append_json(struct srv_buf *out, const json_t *v)
{
	size_t at = out->len;
	uint8_t t[4] = {0};
	if (srv_buf_append(out, t, 4) != 0)
		return -1;
	size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
	if (n == 0 || n > UINT32_MAX || srv_buf_reserve(out, n) != 0)
		return -1;
	if (json_dumpb(v, (char *)out->p + out->len, n, JSON_COMPACT | JSON_ENCODE_ANY) != n)
		return -1;
	out->len += n;
	srv_put_u32(out->p + at, (uint32_t)n);
	return 0;
}

int srv_kv_encode(struct srv_buf *out, uint8_t op, uint64_t reqid, const char *key, size_t keylen,
                  const json_t *value, const json_t *expect, char *err, size_t errlen)
{
	size_t start = out->len;
	uint8_t h[11];
	if (!srv_kv_key_ok(key, keylen))
		return srv_errf(err, errlen, "key is not 1..%d bytes of UTF-8 without NUL", SRV_KV_KEY_MAX);
	if ((op != SRV_KV_PUT && op != SRV_KV_CAS) || !value || (op == SRV_KV_CAS && !expect))
		return srv_errf(err, errlen, "bad command");
	h[0] = op;
	srv_put_u64(h + 1, reqid);
	srv_put_u16(h + 9, (uint16_t)keylen);
	if (srv_buf_append(out, h, sizeof h) != 0 || srv_buf_append(out, key, keylen) != 0 ||
	    append_json(out, value) != 0 || (op == SRV_KV_CAS && append_json(out, expect) != 0)) {
		out->len = start;
		return srv_errf(err, errlen, "encode command: out of memory or value too large");
	}
	return 0;
}

uint64_t srv_kv_reqid(const void *cmd, size_t len)
{
	return len >= 9 ? srv_get_u64((const uint8_t *)cmd + 1) : 0;
}

struct parsed {
	uint8_t op;
	uint64_t reqid;
	char key[SRV_KV_KEY_MAX + 1];
	json_t *value, *expect;
};

static json_t *take_json(const uint8_t *p, size_t len, size_t *off)
{
	if (len - *off < 4)
		return NULL;
	uint32_t n = srv_get_u32(p + *off);
	*off += 4;
	if (len - *off < n)
		return NULL;
	json_t *v = json_loadb((const char *)p + *off, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	*off += n;
	return v;
}

static int parse(const uint8_t *p, size_t len, struct parsed *c)
{
	memset(c, 0, sizeof *c);
	if (len < 11)
		return -1;
	c->op = p[0];
	c->reqid = srv_get_u64(p + 1);
	size_t kl = srv_get_u16(p + 9), off = 11;
	if (kl > SRV_KV_KEY_MAX || len - off < kl || !srv_kv_key_ok((const char *)p + off, kl))
		return -1;
	memcpy(c->key, p + off, kl);
	c->key[kl] = 0;
	off += kl;
	if (c->op != SRV_KV_PUT && c->op != SRV_KV_CAS)
		return -1;
	c->value = take_json(p, len, &off);
	if (!c->value)
		return -1;
	if (c->op == SRV_KV_CAS) {
		c->expect = take_json(p, len, &off);
		if (!c->expect)
			goto bad;
	}
	if (off != len)
		goto bad;
	return 0;
bad:
	json_decref(c->value);
	json_decref(c->expect);
	return -1;
}

void srv_kv_apply(struct srv_kv *kv, const void *cmd, size_t len, uint64_t *reqid, struct srv_kv_result *res)
{
	struct parsed c;
	res->actual = NULL;
	*reqid = 0;
	if (parse(cmd, len, &c) != 0) {
		res->status = SRV_KV_BAD_COMMAND;
		return;
	}
	*reqid = c.reqid;
	res->status = SRV_KV_OK;
	if (c.op == SRV_KV_CAS) {
		json_t *cur = json_object_get(kv->map, c.key);
		if (!cur) {
			res->status = SRV_KV_NOT_FOUND;
		} else if (!json_equal(cur, c.expect)) {
			res->status = SRV_KV_MISMATCH;
			res->actual = json_incref(cur);
		}
	}
	if (res->status == SRV_KV_OK && json_object_set_new(kv->map, c.key, c.value) == 0)
		c.value = NULL; /* the map owns it now */
	else if (res->status == SRV_KV_OK)
		res->status = SRV_KV_BAD_COMMAND;
	json_decref(c.value);
	json_decref(c.expect);
}

json_t *srv_kv_get(struct srv_kv *kv, const char *key)
{
	return json_object_get(kv->map, key);
}

size_t srv_kv_size(const struct srv_kv *kv)
{
	return json_object_size(kv->map);
}

int srv_kv_dump(const struct srv_kv *kv, char **out, size_t *len, char *err, size_t errlen)
{
	char *s = json_dumps(kv->map, JSON_COMPACT);
	if (!s)
		return srv_errf(err, errlen, "dump state machine: out of memory");
	*out = s;
	*len = strlen(s);
	return 0;
}

int srv_kv_restore(struct srv_kv *kv, const void *data, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *m = json_loadb(data, len, JSON_ALLOW_NUL, &je);
	if (!m)
		return srv_errf(err, errlen, "state machine image: line %d column %d: %s", je.line, je.column, je.text);
	if (!json_is_object(m)) {
		json_decref(m);
		return srv_errf(err, errlen, "state machine image: not a JSON object");
	}
	json_decref(kv->map);
	kv->map = m;
	return 0;
}
