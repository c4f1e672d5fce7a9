/* chk_history.c — turns invoke/completion events into operations, with the contract's checks (pairing, time order, fields), and the JSON Lines reader. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checker/chk_internal.h"

void chk_history_init(struct chk_history *h)
{
	memset(h, 0, sizeof *h);
	chk_values_init(&h->values);
	chk_values_init(&h->keys);
}

void chk_history_free(struct chk_history *h)
{
	free(h->ops);
	chk_values_free(&h->values);
	chk_values_free(&h->keys);
	memset(h, 0, sizeof *h);
}

/* Per-process open operation: process id -> op index, open addressing. */
struct open_slot {
	int64_t process;
	uint32_t op;
	uint8_t used;
};

struct chk_builder {
	struct chk_history *h;
	const char *name;
	struct open_slot *slots;
	size_t nslots, nopen;
	bool mode_set;
	int64_t last_time;
	unsigned last_time_line;
	uint32_t seq;
};

struct chk_builder *chk_builder_new(struct chk_history *h, const char *name)
{
	struct chk_builder *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	b->h = h;
	b->name = name;
	b->nslots = 64;
	b->slots = calloc(b->nslots, sizeof *b->slots);
	if (!b->slots) {
		free(b);
		return NULL;
	}
	return b;
}

void chk_builder_free(struct chk_builder *b)
{
	if (!b)
		return;
	free(b->slots);
	free(b);
}

static size_t proc_hash(int64_t p, size_t mask)
{
	uint64_t x = (uint64_t)p * 0x9e3779b97f4a7c15ull;
	return (size_t)(x >> 17) & mask;
}

/* Returns the slot of process p (used or the empty one where it would go). */
static struct open_slot *proc_slot(struct chk_builder *b, int64_t p)
{
	size_t mask = b->nslots - 1, j = proc_hash(p, mask);
	while (b->slots[j].used && b->slots[j].process != p)
		j = (j + 1) & mask;
	return &b->slots[j];
}

static int proc_grow(struct chk_builder *b)
{
	struct open_slot *old = b->slots;
	size_t oldn = b->nslots;
	b->nslots *= 2;
	b->slots = calloc(b->nslots, sizeof *b->slots);
	if (!b->slots) {
		b->slots = old;
		b->nslots = oldn;
		return -1;
	}
	for (size_t i = 0; i < oldn; i++)
		if (old[i].used)
			*proc_slot(b, old[i].process) = old[i];
	free(old);
	return 0;
}

/* Deleting from linear probing: backward-shift so later lookups still work. */
static void proc_delete(struct chk_builder *b, struct open_slot *s)
{
	size_t mask = b->nslots - 1, i = (size_t)(s - b->slots), j = i;
	b->slots[i].used = 0;
	for (;;) {
		j = (j + 1) & mask;
		if (!b->slots[j].used)
			break;
		size_t k = proc_hash(b->slots[j].process, mask);
		/* Move slot j back to i if its home k is not in (i, j]. */
		bool home_between = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (!home_between) {
			b->slots[i] = b->slots[j];
			b->slots[j].used = 0;
			i = j;
		}
	}
	b->nopen--;
}

/* Returns the string form of a field that may be an EDN keyword (":x" -> "x"). */
static const char *word(const struct chk_builder *b, json_t *v)
{
	if (!json_is_string(v))
		return NULL;
	const char *s = json_string_value(v);
	if (b->h->edn && s[0] == ':')
		s++;
	return s;
}

static int intern(struct chk_builder *b, json_t *v, int32_t *id, unsigned line, char *err,
		  size_t errlen)
{
	*id = chk_values_intern(&b->h->values, v ? v : json_null());
	if (*id < 0)
		return chk_errf(err, errlen, "%s:%u: value: out of memory", b->name, line);
	return 0;
}

int chk_builder_event(struct chk_builder *b, json_t *ev, unsigned line, char *err, size_t errlen)
{
	struct chk_history *h = b->h;
	const char *name = b->name;
	if (!json_is_object(ev))
		return chk_errf(err, errlen, "%s:%u: expected an event object", name, line);

	json_t *jp = json_object_get(ev, "process");
	if (!jp)
		return chk_errf(err, errlen, "%s:%u: process: missing", name, line);
	if (json_is_string(jp)) {
		const char *p = word(b, jp);
		if (strcmp(p, "nemesis") == 0) {
			h->n_ignored++;
			return 0;
		}
		return chk_errf(err, errlen,
				"%s:%u: process: \"%s\" is neither a client (integer) nor \"nemesis\"",
				name, line, json_string_value(jp));
	}
	if (!json_is_integer(jp))
		return chk_errf(err, errlen, "%s:%u: process: expected an integer or \"nemesis\"", name,
				line);
	int64_t process = json_integer_value(jp);

	const char *type = word(b, json_object_get(ev, "type"));
	if (!type)
		return chk_errf(err, errlen, "%s:%u: type: missing or not a string", name, line);
	int kind; /* 0 invoke, else status + 1 */
	if (strcmp(type, "invoke") == 0)
		kind = 0;
	else if (strcmp(type, "ok") == 0)
		kind = 1 + CHK_ST_OK;
	else if (strcmp(type, "info") == 0)
		kind = 1 + CHK_ST_INFO;
	else if (strcmp(type, "fail") == 0)
		kind = 1 + CHK_ST_FAIL;
	else
		return chk_errf(err, errlen,
				"%s:%u: type: \"%s\" is not one of invoke, ok, fail, info", name, line,
				type);

	const char *fs = word(b, json_object_get(ev, "f"));
	if (!fs)
		return chk_errf(err, errlen, "%s:%u: f: missing or not a string", name, line);
	int f;
	if (strcmp(fs, "read") == 0)
		f = CHK_F_READ;
	else if (strcmp(fs, "write") == 0)
		f = CHK_F_WRITE;
	else if (strcmp(fs, "cas") == 0)
		f = CHK_F_CAS;
	else
		return chk_errf(err, errlen,
				"%s:%u: f: \"%s\" is not a register operation (read, write, cas)", name,
				line, fs);

	/* Time: decided by the first client event. With times, every client event
	 * needs one and they must not go backwards; without, line order is time. */
	json_t *jt = json_object_get(ev, "time");
	if (jt && json_is_null(jt))
		jt = NULL;
	/* EDN histories are ordered as written, as Knossos orders them: Jepsen
	 * stamps :time per worker thread before appending, so published
	 * histories have small inversions (knossos' rethink-fail.edn). */
	if (h->edn)
		jt = NULL;
	if (!b->mode_set) {
		b->mode_set = true;
		h->has_time = jt != NULL;
	}
	int64_t t;
	if (h->has_time) {
		if (!jt)
			return chk_errf(err, errlen,
					"%s:%u: time: missing (earlier events carry times)", name, line);
		if (!json_is_integer(jt) || json_integer_value(jt) < 0 ||
		    json_integer_value(jt) == INT64_MAX)
			return chk_errf(err, errlen, "%s:%u: time: expected a non-negative integer",
					name, line);
		t = json_integer_value(jt);
		if (b->seq > 0 && t < b->last_time)
			return chk_errf(err, errlen,
					"%s:%u: time: goes backwards (%lld after %lld at line %u)", name,
					line, (long long)t, (long long)b->last_time, b->last_time_line);
	} else {
		t = b->seq;
	}
	if (b->seq == UINT32_MAX - 1)
		return chk_errf(err, errlen, "%s:%u: too many events", name, line);

	json_t *jv = json_object_get(ev, "value");
	struct open_slot *s = proc_slot(b, process);
	if (kind == 0) {
		if (s->used) {
			const struct chk_op *o = &h->ops[s->op];
			return chk_errf(err, errlen,
					"%s:%u: process: %lld invokes again while its operation invoked at line %u is still open",
					name, line, (long long)process, o->call_line);
		}
		if (h->n_ops >= UINT32_MAX - 1)
			return chk_errf(err, errlen, "%s:%u: too many operations", name, line);
		if (h->n_ops == h->cap_ops) {
			size_t cap = h->cap_ops ? h->cap_ops * 2 : 256;
			struct chk_op *n = realloc(h->ops, cap * sizeof *n);
			if (!n)
				return chk_errf(err, errlen, "%s:%u: out of memory", name, line);
			h->ops = n;
			h->cap_ops = cap;
		}
		struct chk_op o = {
			.process = process, .call_time = t, .ret_time = INT64_MAX,
			.call_seq = b->seq, .ret_seq = UINT32_MAX, .call_line = line,
			.key = -1, .a = 0, .b = 0, .f = (uint8_t)f, .status = CHK_ST_INFO,
		};
		json_t *jk = json_object_get(ev, "key");
		if (jk && !json_is_null(jk)) {
			if (!json_is_string(jk) && !json_is_integer(jk))
				return chk_errf(err, errlen,
						"%s:%u: key: expected a string or an integer", name,
						line);
			o.key = chk_values_intern(&h->keys, jk);
			if (o.key < 0)
				return chk_errf(err, errlen, "%s:%u: key: out of memory", name, line);
			h->any_key = true;
		}
		if (f == CHK_F_WRITE) {
			if (intern(b, jv, &o.a, line, err, errlen))
				return CHK_BAD_INPUT;
		} else if (f == CHK_F_CAS) {
			if (!json_is_array(jv) || json_array_size(jv) != 2)
				return chk_errf(err, errlen,
						"%s:%u: value: cas needs [expected, new]", name, line);
			if (intern(b, json_array_get(jv, 0), &o.a, line, err, errlen) ||
			    intern(b, json_array_get(jv, 1), &o.b, line, err, errlen))
				return CHK_BAD_INPUT;
			h->any_cas = true;
		}
		h->ops[h->n_ops] = o;
		if (b->nopen * 2 >= b->nslots) {
			if (proc_grow(b) != 0)
				return chk_errf(err, errlen, "%s:%u: out of memory", name, line);
			s = proc_slot(b, process);
		}
		s->used = 1;
		s->process = process;
		s->op = (uint32_t)h->n_ops++;
		b->nopen++;
	} else {
		if (!s->used)
			return chk_errf(err, errlen,
					"%s:%u: process: %lld completes (%s) an operation it never invoked",
					name, line, (long long)process, type);
		struct chk_op *o = &h->ops[s->op];
		if (o->f != f)
			return chk_errf(err, errlen,
					"%s:%u: f: completion says \"%s\" but the invoke at line %u was another operation",
					name, line, fs, o->call_line);
		o->status = (uint8_t)(kind - 1);
		o->ret_line = line;
		o->ret_seq = b->seq;
		if (o->status != CHK_ST_INFO)
			o->ret_time = t;
		if (o->status == CHK_ST_OK && f == CHK_F_READ) {
			if (intern(b, jv, &o->a, line, err, errlen))
				return CHK_BAD_INPUT;
		}
		proc_delete(b, s);
	}
	b->last_time = t;
	b->last_time_line = line;
	b->seq++;
	h->n_events++;
	return 0;
}

int chk_builder_finish(struct chk_builder *b, char *err, size_t errlen)
{
	/* Invokes still open at the end never completed: they are info (already
	 * the default status), i.e. may or may not have taken effect. */
	chk_builder_free(b);
	return 0;
}

int chk_parse_jsonl(const char *name, const char *data, size_t len, struct chk_history *h,
		    char *err, size_t errlen)
{
	struct chk_builder *b = chk_builder_new(h, name);
	if (!b)
		return chk_errf(err, errlen, "%s: out of memory", name);
	const char *p = data, *end = data + len;
	unsigned line = 0;
	int rc = 0;
	while (p < end) {
		line++;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *q = p;
		while (q < le && (*q == ' ' || *q == '\t' || *q == '\r'))
			q++;
		if (q < le) {
			json_error_t je;
			json_t *ev = json_loadb(p, (size_t)(le - p), JSON_DECODE_ANY, &je);
			if (!ev) {
				rc = chk_errf(err, errlen, "%s:%u: invalid JSON: %s (column %d)", name,
					      line, je.text, je.column);
				break;
			}
			if (!json_is_object(ev)) {
				json_decref(ev);
				rc = chk_errf(err, errlen, "%s:%u: expected a JSON object per line",
					      name, line);
				break;
			}
			rc = chk_builder_event(b, ev, line, err, errlen);
			json_decref(ev);
			if (rc)
				break;
		}
		p = nl ? nl + 1 : end;
	}
	if (rc) {
		chk_builder_free(b);
		return rc;
	}
	return chk_builder_finish(b, err, errlen);
}

json_t *chk_op_json(const struct chk_history *h, uint32_t i)
{
	const struct chk_op *o = &h->ops[i];
	static const char *const fs[] = {"read", "write", "cas"};
	static const char *const st[] = {"ok", "info", "fail"};
	json_t *v;
	if (o->f == CHK_F_CAS)
		v = json_pack("[OO]", h->values.vals[o->a], h->values.vals[o->b]);
	else if (o->f == CHK_F_READ && o->status != CHK_ST_OK)
		v = json_null();
	else
		v = json_incref(h->values.vals[o->a]);
	json_t *j = json_pack("{s:I,s:s,s:s,s:o,s:I,s:I}", "process", (json_int_t)o->process,
			      "type", st[o->status], "f", fs[o->f], "value", v, "start",
			      (json_int_t)o->call_time, "line", (json_int_t)o->call_line);
	if (!j)
		return NULL;
	json_object_set_new(j, "end",
			    o->ret_time == INT64_MAX ? json_null() : json_integer(o->ret_time));
	if (o->key >= 0)
		json_object_set(j, "key", h->keys.vals[o->key]);
	json_object_set_new(j, "id", json_integer(i));
	return j;
}
