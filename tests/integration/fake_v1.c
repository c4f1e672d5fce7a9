/* fake_v1.c — a trivial node-protocol-v1 server for the harness's tests and
 * benchmark: one in-memory key-value map behind libevent's evhttp. With
 * --leader L only node L serves (the others answer 503 not_leader), which
 * makes a group of fakes a linearizable "cluster" without any replication.
 * --state FILE keeps the map across restarts (written after each change).
 * --bug stale makes reads answer an old value now and then (for tests that
 * must see the checker catch it); --bug die makes the process exit on its
 * own after 300 requests (for tests of crash reporting). --tls CA CERT KEY
 * serves HTTPS and requires a client certificate signed by CA (mutual TLS). */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fake {
	const char *id, *leader, *state_path;
	json_t *kv;
	json_t *old;  /* previous value per key (for --bug stale) */
	int bug_stale, bug_die;
	unsigned long ops;
};

static void reply(struct evhttp_request *req, int code, const char *reason, json_t *body)
{
	char *s = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
	struct evbuffer *b = evbuffer_new();
	evbuffer_add(b, s, strlen(s));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
	free(s);
	json_decref(body);
}

static void save(struct fake *f)
{
	if (!f->state_path)
		return;
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", f->state_path);
	if (json_dump_file(f->kv, tmp, JSON_COMPACT) == 0)
		rename(tmp, f->state_path);
}

static json_t *read_body(struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	char *buf = malloc(len + 1);
	evbuffer_remove(in, buf, len);
	buf[len] = 0;
	json_t *j = json_loads(buf, JSON_DECODE_ANY, NULL);
	free(buf);
	return j;
}

static void handle(struct evhttp_request *req, void *arg)
{
	struct fake *f = arg;
	const char *uri = evhttp_request_get_uri(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	f->ops++;
	if (f->bug_die && f->ops > 300) {
		fprintf(stderr, "fake_v1 %s: dying on purpose (--bug die)\n", f->id);
		exit(3);
	}
	if (!strcmp(uri, "/v1/status")) {
		const char *leader = f->leader ? f->leader : f->id;
		reply(req, 200, "OK",
		      json_pack("{s:s, s:s, s:i, s:s, s:i, s:i, s:[]}", "id", f->id, "role",
		                strcmp(leader, f->id) ? "follower" : "leader", "term", 1, "leader", leader,
		                "commit_index", (int)f->ops, "applied_index", (int)f->ops, "members"));
		return;
	}
	if (strncmp(uri, "/v1/kv/", 7) != 0) {
		reply(req, 404, "Not Found", json_pack("{s:s}", "error", "no_such_endpoint"));
		return;
	}
	if (f->leader && strcmp(f->leader, f->id)) {
		reply(req, 503, "Unavailable", json_pack("{s:s}", "error", "not_leader"));
		return;
	}
	char key[256];
	snprintf(key, sizeof key, "%s", uri + 7);
	int cas = 0;
	size_t kl = strlen(key);
	if (kl > 4 && !strcmp(key + kl - 4, "/cas")) {
		key[kl - 4] = 0;
		cas = 1;
	}
	json_t *cur = json_object_get(f->kv, key);
	if (cmd == EVHTTP_REQ_GET && !cas) {
		if (f->bug_stale && json_object_get(f->old, key) && rand() % 4 == 0)
			cur = json_object_get(f->old, key);
		if (!cur)
			reply(req, 404, "Not Found", json_pack("{s:s}", "error", "not_found"));
		else
			reply(req, 200, "OK", json_pack("{s:O}", "value", cur));
		return;
	}
	json_t *body = read_body(req);
	if (!json_is_object(body) || !json_object_get(body, "value")) {
		json_decref(body);
		reply(req, 400, "Bad Request", json_pack("{s:s}", "error", "bad_request"));
		return;
	}
	if (cmd == EVHTTP_REQ_PUT && !cas) {
		if (cur)
			json_object_set(f->old, key, cur);
		json_object_set(f->kv, key, json_object_get(body, "value"));
		save(f);
		reply(req, 200, "OK", json_pack("{s:b}", "ok", 1));
	} else if (cmd == EVHTTP_REQ_POST && cas) {
		if (!cur) {
			reply(req, 404, "Not Found", json_pack("{s:s}", "error", "not_found"));
		} else if (!json_equal(cur, json_object_get(body, "expect"))) {
			reply(req, 412, "Precondition Failed",
			      json_pack("{s:s, s:O}", "error", "precondition_failed", "actual", cur));
		} else {
			json_object_set(f->old, key, cur);
			json_object_set(f->kv, key, json_object_get(body, "value"));
			save(f);
			reply(req, 200, "OK", json_pack("{s:b}", "ok", 1));
		}
	} else {
		reply(req, 405, "Method Not Allowed", json_pack("{s:s}", "error", "method"));
	}
	json_decref(body);
}

/* evhttp asks for each connection's bufferevent: a TLS one when serving
 * HTTPS. */
static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
	SSL *ssl = SSL_new(arg);
	return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
	                                      BEV_OPT_CLOSE_ON_FREE);
}

static SSL_CTX *tls_ctx(const char *ca, const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		ERR_print_errors_fp(stderr);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return ctx;
}

int main(int argc, char **argv)
{
	const char *tls_ca = NULL, *tls_cert = NULL, *tls_key = NULL;
	struct fake f = {.id = "n1"};
	const char *listen = "127.0.0.1:8080";
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--tls") && i + 3 < argc) {
			tls_ca = argv[i + 1];
			tls_cert = argv[i + 2];
			tls_key = argv[i + 3];
			i += 1; /* three values: the loop adds 2 */
			continue;
		}
		if (!strcmp(argv[i], "--listen"))
			listen = argv[i + 1];
		else if (!strcmp(argv[i], "--id"))
			f.id = argv[i + 1];
		else if (!strcmp(argv[i], "--leader"))
			f.leader = argv[i + 1];
		else if (!strcmp(argv[i], "--state"))
			f.state_path = argv[i + 1];
		else if (!strcmp(argv[i], "--bug"))
		{
			f.bug_stale = !strcmp(argv[i + 1], "stale");
			f.bug_die = !strcmp(argv[i + 1], "die");
		}
		else {
			fprintf(stderr, "fake_v1: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	char host[64];
	snprintf(host, sizeof host, "%s", listen);
	char *colon = strrchr(host, ':');
	if (!colon)
		return 2;
	*colon = 0;
	int port = atoi(colon + 1);
	f.kv = NULL;
	if (f.state_path)
		f.kv = json_load_file(f.state_path, 0, NULL);
	if (!json_is_object(f.kv))
		f.kv = json_object();
	f.old = json_object();
	signal(SIGPIPE, SIG_IGN);
	struct event_base *base = event_base_new();
	struct evhttp *http = evhttp_new(base);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_PUT | EVHTTP_REQ_POST);
	evhttp_set_gencb(http, handle, &f);
	if (tls_ca) {
		SSL_CTX *ctx = tls_ctx(tls_ca, tls_cert, tls_key);
		if (!ctx) {
			fprintf(stderr, "fake_v1 %s: bad TLS files\n", f.id);
			return 1;
		}
		evhttp_set_bevcb(http, tls_bev, ctx);
	}
	if (evhttp_bind_socket(http, host, (ev_uint16_t)port) != 0) {
		fprintf(stderr, "fake_v1 %s: cannot listen on %s\n", f.id, listen);
		return 1;
	}
	const char *probe = getenv("RAPAT_FAKE_ENV");
	fprintf(stderr, "fake_v1 %s: listening on %s%s (env %s)\n", f.id, listen, tls_ca ? " with mutual TLS" : "",
	        probe ? probe : "-");
	event_base_dispatch(base);
	return 0;
}
