/* chk_model.c — the sequential specifications: register, cas-register, and kv (a map of cas-registers, checked key by key). */
#include <stdio.h>
#include <string.h>

#include "checker/chk_internal.h"

/* State = the interned id of the register's value; 0 is null, the initial
 * value (a missing key reads as null). Values compare structurally because
 * interning maps structurally equal JSON to one id. */
static uint64_t reg_init(void)
{
	return 0;
}

static bool reg_step(uint64_t state, const struct chk_op *op, uint64_t *next)
{
	switch (op->f) {
	case CHK_F_READ:
		*next = state;
		return state == (uint64_t)op->a;
	case CHK_F_WRITE:
		*next = (uint64_t)op->a;
		return true;
	case CHK_F_CAS:
		if (state != (uint64_t)op->a)
			return false;
		*next = (uint64_t)op->b;
		return true;
	}
	return false;
}

static int32_t reg_requires(const struct chk_op *op)
{
	return op->f == CHK_F_WRITE ? -1 : op->a;
}

static bool reg_pure(const struct chk_op *op)
{
	return op->f == CHK_F_READ || (op->f == CHK_F_CAS && op->a == op->b);
}

/* splitmix64's finaliser: a bijection, so distinct states never share a hash. */
static uint64_t reg_hash(uint64_t s)
{
	s ^= s >> 30;
	s *= 0xbf58476d1ce4e5b9ull;
	s ^= s >> 27;
	s *= 0x94d049bb133111ebull;
	s ^= s >> 31;
	return s;
}

static bool reg_equal(uint64_t a, uint64_t b)
{
	return a == b;
}

static void reg_describe(uint64_t state, const struct chk_history *h, char *buf, size_t len)
{
	if (state < h->values.n)
		snprintf(buf, len, "%s", h->values.texts[state]);
	else
		snprintf(buf, len, "?");
}

static const struct chk_model models[] = {
	{"register", reg_init, reg_step, reg_requires, reg_pure, reg_hash, reg_equal, reg_describe},
	{"cas-register", reg_init, reg_step, reg_requires, reg_pure, reg_hash, reg_equal, reg_describe},
	/* kv: the history is split by key (P-compositionality: a map of
	 * independent registers is linearizable iff each key's sub-history is)
	 * and each key is a cas-register. */
	{"kv", reg_init, reg_step, reg_requires, reg_pure, reg_hash, reg_equal, reg_describe},
};

const struct chk_model *chk_model_find(const char *name)
{
	for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
		if (strcmp(models[i].name, name) == 0)
			return &models[i];
	return NULL;
}

int chk_model_validate(const char *model, const struct chk_history *h, const char *path, char *err,
		       size_t errlen)
{
	if (strcmp(model, "kv") == 0)
		return 0;
	for (size_t i = 0; i < h->n_ops; i++) {
		const struct chk_op *o = &h->ops[i];
		if (strcmp(model, "register") == 0 && o->f == CHK_F_CAS)
			return chk_errf(err, errlen,
					"%s:%u: f: cas is not an operation of the register model (use --model cas-register)",
					path, o->call_line);
		if (o->key >= 0 && h->keys.n > 2)
			return chk_errf(err, errlen,
					"%s:%u: key: the history has several keys; model %s is a single register (use --model kv)",
					path, o->call_line, model);
	}
	return 0;
}
