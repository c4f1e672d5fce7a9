/* chk_edn.c — a small EDN reader (Clojure data notation) and the Jepsen/Knossos EDN history reader. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checker/chk_internal.h"

/* Nesting bound: EDN from Jepsen is shallow; the bound keeps hostile input
 * from exhausting the C stack through recursion. */
#define EDN_MAX_DEPTH 200

void chk_edn_init(struct chk_edn *r, const char *data, size_t len)
{
	r->p = data;
	r->end = data + len;
	r->line = 1;
	r->depth = 0;
}

bool chk_edn_skip(struct chk_edn *r)
{
	while (r->p < r->end) {
		char c = *r->p;
		if (c == '\n') {
			r->line++;
			r->p++;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == ',' || c == '\f') {
			r->p++;
		} else if (c == ';') {
			while (r->p < r->end && *r->p != '\n')
				r->p++;
		} else {
			return true;
		}
	}
	return false;
}

static bool sym_char(char c)
{
	return isalnum((unsigned char)c) || strchr(".*+!-_?$%&=<>/:#'", c) != NULL;
}

static int edn_err(struct chk_edn *r, char *err, size_t errlen, const char *what)
{
	return chk_errf(err, errlen, "line %u: %s", r->line, what);
}

/* Appends one UTF-8 encoded code point. */
static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	o[0] = (char)(0xe0 | (cp >> 12));
	o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[2] = (char)(0x80 | (cp & 0x3f));
	return 3;
}

static int read_hex4(const char *p, const char *end, unsigned *cp)
{
	if (end - p < 4)
		return -1;
	*cp = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		int d = isdigit((unsigned char)c)	? c - '0'
			: (c >= 'a' && c <= 'f') ? c - 'a' + 10
			: (c >= 'A' && c <= 'F') ? c - 'A' + 10
						 : -1;
		if (d < 0)
			return -1;
		*cp = *cp * 16 + (unsigned)d;
	}
	return 0;
}

static int read_string(struct chk_edn *r, json_t **out, char *err, size_t errlen)
{
	unsigned start_line = r->line;
	r->p++; /* opening quote */
	size_t cap = 64, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		return edn_err(r, err, errlen, "out of memory");
	for (;;) {
		if (r->p >= r->end) {
			free(buf);
			return chk_errf(err, errlen, "line %u: unterminated string", start_line);
		}
		if (n + 8 > cap) {
			cap *= 2;
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return edn_err(r, err, errlen, "out of memory");
			}
			buf = nb;
		}
		char c = *r->p++;
		if (c == '"')
			break;
		if (c == '\n')
			r->line++;
		if (c != '\\') {
			buf[n++] = c;
			continue;
		}
		if (r->p >= r->end)
			continue; /* reported as unterminated on the next turn */
		char e = *r->p++;
		switch (e) {
		case 'n': buf[n++] = '\n'; break;
		case 't': buf[n++] = '\t'; break;
		case 'r': buf[n++] = '\r'; break;
		case 'b': buf[n++] = '\b'; break;
		case 'f': buf[n++] = '\f'; break;
		case '"': buf[n++] = '"'; break;
		case '\\': buf[n++] = '\\'; break;
		case 'u': {
			unsigned cp;
			if (read_hex4(r->p, r->end, &cp) != 0) {
				free(buf);
				return edn_err(r, err, errlen, "bad \\u escape in string");
			}
			r->p += 4;
			if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
				cp = 0xfffd; /* no NULs or lone surrogates in JSON strings */
			n += put_utf8(buf + n, cp);
			break;
		}
		default:
			free(buf);
			return edn_err(r, err, errlen, "unknown escape in string");
		}
	}
	/* JSON strings must be valid UTF-8 (values are compared as JSON text). */
	*out = json_stringn(buf, n);
	free(buf);
	if (!*out)
		return chk_errf(err, errlen, "line %u: string is not valid UTF-8", start_line);
	return 0;
}

static int read_token(struct chk_edn *r, const char **s, size_t *n)
{
	*s = r->p;
	while (r->p < r->end && sym_char(*r->p))
		r->p++;
	*n = (size_t)(r->p - *s);
	return 0;
}

static int read_number_or_symbol(struct chk_edn *r, json_t **out, char *err, size_t errlen)
{
	const char *s;
	size_t n;
	read_token(r, &s, &n);
	if (n == 0)
		return edn_err(r, err, errlen, "unexpected character");
	char tok[128];
	if (n >= sizeof tok)
		return edn_err(r, err, errlen, "token too long");
	memcpy(tok, s, n);
	tok[n] = 0;
	bool num = isdigit((unsigned char)tok[0]) ||
		   ((tok[0] == '-' || tok[0] == '+') && isdigit((unsigned char)tok[1]));
	if (!num) {
		if (strcmp(tok, "nil") == 0)
			*out = json_null();
		else if (strcmp(tok, "true") == 0)
			*out = json_true();
		else if (strcmp(tok, "false") == 0)
			*out = json_false();
		else
			*out = json_string(tok); /* symbol */
		if (!*out)
			return edn_err(r, err, errlen, "bad symbol");
		return 0;
	}
	if (tok[n - 1] == 'N')
		tok[--n] = 0; /* bigint suffix; must still fit in 64 bits */
	char *e;
	errno = 0;
	long long v = strtoll(tok, &e, 10);
	if (*e == 0) {
		if (errno == ERANGE)
			return edn_err(r, err, errlen, "integer out of range");
		*out = json_integer(v);
		return *out ? 0 : edn_err(r, err, errlen, "out of memory");
	}
	if (tok[n - 1] == 'M')
		tok[--n] = 0;
	errno = 0;
	double d = strtod(tok, &e);
	if (*e != 0 || n == 0 || !isfinite(d))
		return edn_err(r, err, errlen, "malformed number");
	*out = json_real(d);
	return *out ? 0 : edn_err(r, err, errlen, "out of memory");
}

static int read_seq(struct chk_edn *r, char close, json_t **out, char *err, size_t errlen)
{
	unsigned start_line = r->line;
	json_t *a = json_array();
	if (!a)
		return edn_err(r, err, errlen, "out of memory");
	for (;;) {
		if (!chk_edn_skip(r)) {
			json_decref(a);
			return chk_errf(err, errlen, "line %u: missing '%c' for the '%c' opened here",
					start_line, close,
					close == ']' ? '[' : close == ')' ? '(' : '{');
		}
		if (*r->p == close) {
			r->p++;
			break;
		}
		if (*r->p == ']' || *r->p == ')' || *r->p == '}') {
			json_decref(a);
			return edn_err(r, err, errlen, "mismatched closing bracket");
		}
		json_t *v;
		if (chk_edn_read(r, &v, err, errlen)) {
			json_decref(a);
			return CHK_BAD_INPUT;
		}
		if (!v) /* #_ discarded form */
			continue;
		json_array_append_new(a, v);
	}
	*out = a;
	return 0;
}

static int read_map(struct chk_edn *r, json_t **out, char *err, size_t errlen)
{
	json_t *items;
	if (read_seq(r, '}', &items, err, errlen))
		return CHK_BAD_INPUT;
	if (json_array_size(items) % 2) {
		json_decref(items);
		return edn_err(r, err, errlen, "map with an odd number of forms");
	}
	json_t *m = json_object();
	for (size_t i = 0; m && i < json_array_size(items); i += 2) {
		json_t *k = json_array_get(items, i);
		char *ks = json_is_string(k) ? strdup(json_string_value(k))
					     : json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS |
								  JSON_ENCODE_ANY);
		if (!ks || json_object_set(m, ks, json_array_get(items, i + 1)) != 0) {
			json_decref(m);
			m = NULL;
		}
		free(ks);
	}
	json_decref(items);
	if (!m)
		return edn_err(r, err, errlen, "bad map");
	*out = m;
	return 0;
}

int chk_edn_read(struct chk_edn *r, json_t **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!chk_edn_skip(r))
		return edn_err(r, err, errlen, "unexpected end of input");
	if (r->depth >= EDN_MAX_DEPTH)
		return edn_err(r, err, errlen, "forms nested too deeply");
	r->depth++;
	int rc = 0;
	char c = *r->p;
	switch (c) {
	case '[':
		r->p++;
		rc = read_seq(r, ']', out, err, errlen);
		break;
	case '(':
		r->p++;
		rc = read_seq(r, ')', out, err, errlen);
		break;
	case '{':
		r->p++;
		rc = read_map(r, out, err, errlen);
		break;
	case '"':
		rc = read_string(r, out, err, errlen);
		break;
	case ']': case ')': case '}':
		rc = edn_err(r, err, errlen, "unexpected closing bracket");
		break;
	case '\\': {
		r->p++;
		const char *s;
		size_t n;
		read_token(r, &s, &n);
		if (n == 0 && r->p < r->end) { /* \( \[ etc. */
			s = r->p++;
			n = 1;
		}
		char ch[8] = {0};
		if (n == 7 && memcmp(s, "newline", 7) == 0)
			ch[0] = '\n';
		else if (n == 5 && memcmp(s, "space", 5) == 0)
			ch[0] = ' ';
		else if (n == 3 && memcmp(s, "tab", 3) == 0)
			ch[0] = '\t';
		else if (n == 6 && memcmp(s, "return", 6) == 0)
			ch[0] = '\r';
		else if (n == 1 && (unsigned char)s[0] < 0x80 && s[0] != 0)
			ch[0] = s[0];
		else if (n == 5 && s[0] == 'u') {
			unsigned cp;
			if (read_hex4(s + 1, s + 5, &cp) != 0 || cp == 0 ||
			    (cp >= 0xd800 && cp <= 0xdfff)) {
				rc = edn_err(r, err, errlen, "bad character literal");
				break;
			}
			put_utf8(ch, cp);
		} else {
			rc = edn_err(r, err, errlen, "bad character literal");
			break;
		}
		*out = json_string(ch);
		if (!*out)
			rc = edn_err(r, err, errlen, "bad character literal");
		break;
	}
	case ':': {
		const char *s;
		size_t n;
		read_token(r, &s, &n);
		if (n < 2) {
			rc = edn_err(r, err, errlen, "empty keyword");
			break;
		}
		*out = json_stringn(s, n);
		if (!*out)
			rc = edn_err(r, err, errlen, "bad keyword");
		break;
	}
	case '#': {
		r->p++;
		if (r->p < r->end && *r->p == '_') {
			r->p++;
			json_t *dropped;
			rc = chk_edn_read(r, &dropped, err, errlen);
			json_decref(dropped);
			*out = NULL;
			break;
		}
		if (r->p < r->end && *r->p == '{') {
			r->p++;
			rc = read_seq(r, '}', out, err, errlen);
			break;
		}
		const char *s;
		size_t n;
		read_token(r, &s, &n);
		if (n == 0 || !isalpha((unsigned char)s[0])) {
			rc = edn_err(r, err, errlen, "bad dispatch after '#'");
			break;
		}
		/* A tagged literal: #inst "...", #uuid "...", #jepsen.Foo{...}: keep the value. */
		rc = chk_edn_read(r, out, err, errlen);
		if (rc == 0 && !*out)
			rc = edn_err(r, err, errlen, "tag without a value");
		break;
	}
	default:
		rc = read_number_or_symbol(r, out, err, errlen);
	}
	r->depth--;
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* ---- EDN histories ---- */

/* Copies an EDN event map with keyword keys (":process") as plain field names. */
static json_t *event_fields(json_t *m)
{
	json_t *ev = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(m, k, v) json_object_set(ev, k[0] == ':' ? k + 1 : k, v);
	return ev;
}

static bool is_client_register_event(json_t *ev)
{
	json_t *p = json_object_get(ev, "process");
	const char *f = json_string_value(json_object_get(ev, "f"));
	return json_is_integer(p) && f &&
	       (!strcmp(f, ":read") || !strcmp(f, ":write") || !strcmp(f, ":cas"));
}

/* Jepsen's independent checker writes :value [key v] on every client event
 * (cas: [key [old new]]). It is recognised per file: every client event has
 * such a tuple and no :key field; a plain cas-register history fails the test
 * because its reads carry nil or a value, and its cas values hold no vector. */
static bool independent(json_t *events)
{
	size_t i, n = 0;
	json_t *ev;
	json_array_foreach(events, i, ev) {
		if (!is_client_register_event(ev))
			continue;
		n++;
		json_t *v = json_object_get(ev, "value");
		if (json_object_get(ev, "key") || !json_is_array(v) || json_array_size(v) != 2)
			return false;
		const char *f = json_string_value(json_object_get(ev, "f"));
		json_t *inner = json_array_get(v, 1);
		if (!strcmp(f, ":cas") && (!json_is_array(inner) || json_array_size(inner) != 2))
			return false;
	}
	return n > 0;
}

int chk_parse_edn(const char *name, const char *data, size_t len, struct chk_history *h,
		  char *err, size_t errlen)
{
	struct chk_edn r;
	chk_edn_init(&r, data, len);
	h->edn = true;
	json_t *events = json_array();
	unsigned *lines = NULL;
	size_t nlines = 0, caplines = 0;
	int rc = 0;
	char sub[512];
	bool wrapped = false;
	char close = 0;
	unsigned open_line = 0;
	if (!events)
		return chk_errf(err, errlen, "%s: out of memory", name);
	if (chk_edn_skip(&r) && (*r.p == '[' || *r.p == '(')) {
		wrapped = true;
		close = *r.p == '[' ? ']' : ')';
		open_line = r.line;
		r.p++;
	}
	for (;;) {
		if (!chk_edn_skip(&r)) {
			if (wrapped) {
				rc = chk_errf(err, errlen, "%s:%u: missing '%c' closing the history opened at line %u",
					      name, r.line, close, open_line);
				goto out;
			}
			break;
		}
		if (wrapped && *r.p == close) {
			r.p++;
			if (chk_edn_skip(&r)) {
				rc = chk_errf(err, errlen, "%s:%u: unexpected data after the history",
					      name, r.line);
				goto out;
			}
			break;
		}
		unsigned line = r.line;
		json_t *form;
		if (chk_edn_read(&r, &form, sub, sizeof sub)) {
			rc = chk_errf(err, errlen, "%s: %s", name, sub);
			goto out;
		}
		if (!form)
			continue;
		if (!json_is_object(form)) {
			json_decref(form);
			rc = chk_errf(err, errlen, "%s:%u: expected an operation map {:process ...}",
				      name, line);
			goto out;
		}
		json_t *ev = event_fields(form);
		json_decref(form);
		if (!ev || json_array_append_new(events, ev) != 0) {
			rc = chk_errf(err, errlen, "%s: out of memory", name);
			goto out;
		}
		if (nlines == caplines) {
			caplines = caplines ? caplines * 2 : 256;
			unsigned *nl = realloc(lines, caplines * sizeof *nl);
			if (!nl) {
				rc = chk_errf(err, errlen, "%s: out of memory", name);
				goto out;
			}
			lines = nl;
		}
		lines[nlines++] = line;
	}
	bool indep = independent(events);
	struct chk_builder *b = chk_builder_new(h, name);
	if (!b) {
		rc = chk_errf(err, errlen, "%s: out of memory", name);
		goto out;
	}
	size_t i;
	json_t *ev;
	json_array_foreach(events, i, ev) {
		if (indep && is_client_register_event(ev)) {
			json_t *v = json_object_get(ev, "value");
			json_object_set(ev, "key", json_array_get(v, 0));
			json_object_set(ev, "value", json_array_get(v, 1));
		}
		rc = chk_builder_event(b, ev, lines[i], err, errlen);
		if (rc) {
			chk_builder_free(b);
			goto out;
		}
	}
	rc = chk_builder_finish(b, err, errlen);
out:
	json_decref(events);
	free(lines);
	return rc;
}
