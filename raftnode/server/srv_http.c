/* srv_http.c — node protocol v1 over evhttp: the KV, status and membership
 * endpoints, and forwarding from followers to the leader.
 *
 * Forwarding: a follower proxies the whole HTTP request to the leader's
 * client address (from the Raft configuration) over pooled keep-alive
 * evhttp client connections and relays the answer verbatim. Compared with
 * proposing over the Raft transport, the leader's answer then carries the
 * exact outcome (ok, 412, 404, timeout), the follower keeps no state about
 * the write, and reads stay linearizable because the leader serves them.
 * A forwarded request carries X-Rapat-Forwarded; a node that gets one while
 * not leader answers 503 not_leader (nothing was proposed) instead of
 * forwarding again, so stale leader hints cannot loop. When the known
 * leader cannot even be connected to (nothing was sent), the request waits
 * for another leader like one that arrived with none known, then 503
 * no_leader; a failure after the request may have been sent is 502
 * forward_failed: unknown.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "raftnode/server/srv_log.h"
#include "raftnode/server/srv_node.h"
#include "raftnode/server/srv_util.h"

#define MAX_BODY (1u << 20)
#define FWD_HEADER "X-Rapat-Forwarded"

static const char *reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 412: return "Precondition Failed";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

void srv_http_reply(struct evhttp_request *req, int code, json_t *body)
{
	struct evbuffer *out = evbuffer_new();
	char *s = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	json_decref(body);
	if (!s) {
		code = 500;
		s = strdup("{\"error\":\"out_of_memory\"}");
	}
	if (out && s) {
		evbuffer_add(out, s, strlen(s));
		evbuffer_add(out, "\n", 1);
	}
	free(s);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
	evhttp_send_reply(req, code, reason(code), out);
	if (out)
		evbuffer_free(out);
}

void srv_http_reply_error(struct evhttp_request *req, int code, const char *error)
{
	srv_http_reply(req, code, json_pack("{s:s}", "error", error));
}

static void reply_bad(struct evhttp_request *req, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply_bad(struct evhttp_request *req, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	srv_http_reply(req, 400, json_pack("{s:s,s:s}", "error", "bad_request", "message", msg));
}

/* ---- forwarding -------------------------------------------------------------- */

static void park(struct srv_node *n, struct evhttp_request *req, raft_id avoid);

struct fwd_ctx {
	struct srv_node *n;
	struct evhttp_request *orig;
	struct srv_fwd_conn *fc;
	bool in_make;      /* inside evhttp_make_request */
	bool failed_early; /* the callback ran from inside it (connect failure) */
	bool saw_error;    /* libevent reported an error after connecting */
	raft_id leader;    /* where it was sent */
};

/* libevent calls this for failures once the connection exists (timeout,
 * EOF, bad answer): the request may have been sent. A failure while still
 * connecting (refused, connect timeout) ends the request WITHOUT this
 * callback (evhttp_connection_cb_cleanup), and requests are only written
 * after the connection is up: then nothing was sent. */
static void fwd_error(enum evhttp_request_error e, void *arg)
{
	struct fwd_ctx *c = arg;
	c->saw_error = true;
}

static void fwd_done(struct evhttp_request *fr, void *arg)
{
	struct fwd_ctx *c = arg;
	c->fc->busy = false;
	if (c->in_make) {
		/* libevent can fail the request synchronously, from inside
		 * evhttp_make_request; forward() answers and frees then. */
		c->failed_early = true;
		return;
	}
	int code = fr ? evhttp_request_get_response_code(fr) : 0;
	if (code == 0 && !c->saw_error) {
		/* The leader we know could not even be connected to: nothing was
		 * sent. Wait (bounded) for another leader, then 503 no_leader. */
		park(c->n, c->orig, c->leader);
	} else if (code == 0) {
		/* Reset or timed out after connecting: the leader may or may not
		 * have received and executed the request. */
		srv_http_reply_error(c->orig, 502, "forward_failed");
	} else {
		struct evbuffer *in = evhttp_request_get_input_buffer(fr);
		const char *ct = evhttp_find_header(evhttp_request_get_input_headers(fr), "Content-Type");
		evhttp_add_header(evhttp_request_get_output_headers(c->orig), "Content-Type",
		                  ct ? ct : "application/json");
		evhttp_send_reply(c->orig, code, evhttp_request_get_response_code_line(fr), in);
	}
	free(c);
}

static struct srv_fwd_conn *fwd_conn(struct srv_node *n, const char *addr)
{
	for (struct srv_fwd_conn *fc = n->fwd; fc; fc = fc->next)
		if (!fc->busy && strcmp(fc->addr, addr) == 0)
			return fc;
	char host[RAFT_ADDR_MAX];
	snprintf(host, sizeof host, "%s", addr);
	char *colon = strrchr(host, ':');
	if (!colon)
		return NULL;
	*colon = 0;
	unsigned port = (unsigned)strtoul(colon + 1, NULL, 10);
	struct srv_fwd_conn *fc = calloc(1, sizeof *fc);
	if (!fc)
		return NULL;
	fc->evcon = evhttp_connection_base_new(n->base, NULL, host, (unsigned short)port);
	if (!fc->evcon) {
		free(fc);
		return NULL;
	}
	/* Never let libevent resend a request on its own: a write sent twice
	 * could take effect twice. */
	evhttp_connection_set_retries(fc->evcon, 0);
	evhttp_connection_set_timeout(fc->evcon, (int)(n->flags->request_timeout_ms / 1000) + 2);
	snprintf(fc->addr, sizeof fc->addr, "%s", addr);
	fc->next = n->fwd;
	n->fwd = fc;
	return fc;
}

/* Wait (bounded) for a leader instead of refusing at once: elections take
 * an election timeout or two, and a request parked meanwhile usually
 * succeeds. Nothing has been proposed, so expiring it is a clean 503. */
static void park(struct srv_node *n, struct evhttp_request *req, raft_id avoid)
{
	struct srv_parked *p = calloc(1, sizeof *p);
	if (!p) {
		srv_http_reply_error(req, 503, "no_leader");
		return;
	}
	uint64_t wait = 2ull * n->flags->election_timeout_ms;
	if (wait > n->flags->request_timeout_ms / 2)
		wait = n->flags->request_timeout_ms / 2;
	p->req = req;
	p->avoid = avoid;
	p->deadline = srv_now_ms() + wait;
	p->next = n->parked;
	n->parked = p;
}

static void handle(struct evhttp_request *req, void *arg);

void srv_http_unpark(struct srv_node *n)
{
	raft_id leader = raft_leader(n->raft);
	if (!n->parked || !leader)
		return;
	struct srv_parked *list = n->parked, *keep = NULL;
	n->parked = NULL;
	while (list) {
		struct srv_parked *p = list;
		list = p->next;
		if (leader == p->avoid) {
			p->next = keep;
			keep = p;
			continue;
		}
		handle(p->req, n); /* may park it again (leader lost meanwhile) */
		free(p);
	}
	while (keep) {
		struct srv_parked *p = keep;
		keep = p->next;
		p->next = n->parked;
		n->parked = p;
	}
}

void srv_http_expire_parked(struct srv_node *n, uint64_t now)
{
	for (struct srv_parked **pp = &n->parked; *pp;) {
		struct srv_parked *p = *pp;
		if (now >= p->deadline) {
			*pp = p->next;
			srv_http_reply_error(p->req, 503, "no_leader");
			free(p);
		} else {
			pp = &p->next;
		}
	}
}

static void forward(struct srv_node *n, struct evhttp_request *req)
{
	if (evhttp_find_header(evhttp_request_get_input_headers(req), FWD_HEADER)) {
		srv_http_reply_error(req, 503, "not_leader");
		return;
	}
	raft_id leader = raft_leader(n->raft);
	char addr[RAFT_ADDR_MAX];
	if (!leader) {
		park(n, req, 0);
		return;
	}
	if (leader == raft_id_of(n->raft) || srv_node_client_addr(n, leader, addr, sizeof addr) != 0) {
		srv_http_reply_error(req, 503, "no_leader");
		return;
	}
	struct srv_fwd_conn *fc = fwd_conn(n, addr);
	struct fwd_ctx *c = calloc(1, sizeof *c);
	struct evhttp_request *fr = c ? evhttp_request_new(fwd_done, c) : NULL;
	if (!fc || !fr) {
		free(c);
		srv_http_reply_error(req, 503, "no_leader"); /* nothing was sent */
		return;
	}
	c->n = n;
	c->orig = req;
	c->fc = fc;
	c->leader = leader;
	evhttp_request_set_error_cb(fr, fwd_error);
	struct evkeyvalq *h = evhttp_request_get_output_headers(fr);
	evhttp_add_header(h, "Host", addr);
	evhttp_add_header(h, "Content-Type", "application/json");
	char self[32];
	snprintf(self, sizeof self, "n%" PRIu64, raft_id_of(n->raft));
	evhttp_add_header(h, FWD_HEADER, self);
	/* Copy, not move, the body: the request may be handled again (parked
	 * when this leader turns out to be unreachable). */
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	size_t blen = evbuffer_get_length(body);
	if (blen)
		evbuffer_add(evhttp_request_get_output_buffer(fr), evbuffer_pullup(body, -1), blen);
	fc->busy = true;
	c->in_make = true;
	int rc = evhttp_make_request(fc->evcon, fr, evhttp_request_get_command(req), evhttp_request_get_uri(req));
	c->in_make = false;
	if (rc != 0 || c->failed_early) {
		fc->busy = false;
		free(c);
		/* Most likely nothing went out, but libevent does not say: unknown. */
		srv_http_reply_error(req, 502, "forward_failed");
	}
}

/* ---- handlers ------------------------------------------------------------------- */

static json_t *read_body(struct evhttp_request *req, const char **why)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	if (len == 0) {
		*why = "empty body (want a JSON object)";
		return NULL;
	}
	const char *p = (const char *)evbuffer_pullup(in, -1);
	json_error_t je;
	json_t *j = json_loadb(p, len, JSON_ALLOW_NUL, &je);
	if (!j) {
		*why = "body is not valid JSON";
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		*why = "body is not a JSON object";
		return NULL;
	}
	return j;
}

static void handle_status(struct srv_node *n, struct evhttp_request *req)
{
	struct raft *r = n->raft;
	char id[32], leader[32];
	snprintf(id, sizeof id, "n%" PRIu64, raft_id_of(r));
	raft_id l = raft_leader(r);
	snprintf(leader, sizeof leader, "n%" PRIu64, l);
	const char *role = raft_is_learner(r) ? "learner" : raft_role_name(raft_role(r));
	json_t *members = json_array();
	const struct raft_config *c = raft_configuration(r);
	for (unsigned i = 0; c && i < c->n; i++) {
		char mid[32], peer[RAFT_ADDR_MAX] = "", client[RAFT_ADDR_MAX] = "";
		snprintf(mid, sizeof mid, "n%" PRIu64, c->servers[i].id);
		srv_node_split_address(c->servers[i].address, peer, sizeof peer, client, sizeof client);
		json_array_append_new(members,
		                      json_pack("{s:s,s:s,s:s,s:s}", "id", mid, "role",
		                                c->servers[i].role == RAFT_VOTER ? "voter" : "learner", "peer_url",
		                                peer, "client_url", client));
	}
	json_t *j = json_pack("{s:s,s:s,s:I,s:o,s:I,s:I,s:o,s:I}", "id", id, "role", role, "term",
	                      (json_int_t)raft_current_term(r), "leader", l ? json_string(leader) : json_null(),
	                      "commit_index", (json_int_t)raft_commit_index(r), "applied_index",
	                      (json_int_t)n->applied, "members", members, "last_index",
	                      (json_int_t)raft_last_index(r));
	srv_http_reply(req, 200, j);
}

static bool is_leader(struct srv_node *n)
{
	return raft_role(n->raft) == RAFT_LEADER;
}

static void handle_write(struct srv_node *n, struct evhttp_request *req, const char *key, size_t keylen, bool cas)
{
	const char *why = NULL;
	json_t *body = read_body(req, &why);
	if (!body) {
		reply_bad(req, "%s", why);
		return;
	}
	json_t *value = json_object_get(body, "value");
	json_t *expect = json_object_get(body, "expect");
	if (!value) {
		json_decref(body);
		reply_bad(req, "%s", "body has no \"value\" field");
		return;
	}
	if (cas && !expect) {
		json_decref(body);
		reply_bad(req, "%s", "body has no \"expect\" field");
		return;
	}
	if (!is_leader(n)) {
		json_decref(body);
		forward(n, req);
		return;
	}
	struct srv_buf cmd = {0};
	char err[256];
	uint64_t reqid = srv_node_new_reqid(n);
	if (srv_kv_encode(&cmd, cas ? SRV_KV_CAS : SRV_KV_PUT, reqid, key, keylen, value, expect, err, sizeof err) !=
	    0) {
		json_decref(body);
		srv_buf_free(&cmd);
		reply_bad(req, "%s", err);
		return;
	}
	json_decref(body);
	raft_index index;
	raft_term term;
	int rc = raft_propose(n->raft, cmd.p, cmd.len, &index, &term);
	srv_buf_free(&cmd);
	if (rc == RAFT_ENOTLEADER || rc == RAFT_ETRANSFER) {
		srv_http_reply_error(req, 503, "not_leader"); /* refused before proposing */
		return;
	}
	if (rc != 0) {
		srv_http_reply_error(req, 500, raft_strerror(rc));
		if (rc == RAFT_ESHUTDOWN || rc == RAFT_EIO)
			srv_node_fatal(n, "raft_propose", raft_strerror(rc));
		return;
	}
	if (srv_node_add_pending(n, req, reqid, index, term) != 0)
		srv_http_reply_error(req, 500, "unknown"); /* proposed, cannot track it */
}

static void handle_members_post(struct srv_node *n, struct evhttp_request *req)
{
	const char *why = NULL;
	json_t *body = read_body(req, &why);
	if (!body) {
		reply_bad(req, "%s", why);
		return;
	}
	const char *id = json_string_value(json_object_get(body, "id"));
	const char *peer_url = json_string_value(json_object_get(body, "peer_url"));
	const char *client_url = json_string_value(json_object_get(body, "client_url"));
	raft_id rid = id ? srv_node_id_parse(id) : 0;
	char peer[64], client[64], addr[RAFT_ADDR_MAX];
	if (!rid) {
		reply_bad(req, "field \"id\": %s is not a node id like n4", id ? id : "(missing)");
	} else if (!peer_url || srv_addr_normalize(peer_url, peer, sizeof peer) != 0) {
		reply_bad(req, "field \"peer_url\": %s is not http://IP:PORT", peer_url ? peer_url : "(missing)");
	} else if (!client_url || srv_addr_normalize(client_url, client, sizeof client) != 0) {
		reply_bad(req, "field \"client_url\": %s is not http://IP:PORT", client_url ? client_url : "(missing)");
	} else if (!is_leader(n)) {
		forward(n, req);
	} else {
		snprintf(addr, sizeof addr, "%s %s", peer, client);
		srv_node_member_add(n, req, rid, addr);
	}
	json_decref(body);
}

static void handle(struct evhttp_request *req, void *arg)
{
	struct srv_node *n = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *raw = uri ? evhttp_uri_get_path(uri) : NULL;
	if (!raw) {
		reply_bad(req, "%s", "no path");
		return;
	}
	size_t plen;
	char *path = evhttp_uridecode(raw, 0, &plen);
	if (!path) {
		reply_bad(req, "%s", "bad path encoding");
		return;
	}
	if (strcmp(path, "/v1/status") == 0) {
		if (cmd == EVHTTP_REQ_GET)
			handle_status(n, req);
		else
			srv_http_reply_error(req, 405, "method_not_allowed");
	} else if (strncmp(path, "/v1/kv/", 7) == 0) {
		char *key = path + 7;
		size_t keylen = plen - 7;
		bool cas = false;
		if (cmd == EVHTTP_REQ_POST && keylen > 4 && strcmp(key + keylen - 4, "/cas") == 0) {
			cas = true;
			keylen -= 4;
			key[keylen] = 0;
		}
		if (!srv_kv_key_ok(key, keylen)) {
			reply_bad(req, "key must be 1..%d bytes of UTF-8 without NUL", SRV_KV_KEY_MAX);
		} else if (cmd == EVHTTP_REQ_GET) {
			if (!is_leader(n)) {
				forward(n, req);
			} else {
				char *k = strdup(key);
				if (k)
					srv_node_queue_read(n, req, k);
				else
					srv_http_reply_error(req, 500, "out_of_memory");
			}
		} else if (cmd == EVHTTP_REQ_PUT || cas) {
			handle_write(n, req, key, keylen, cas);
		} else {
			srv_http_reply_error(req, 405, "method_not_allowed");
		}
	} else if (strcmp(path, "/v1/members") == 0) {
		if (cmd == EVHTTP_REQ_POST)
			handle_members_post(n, req);
		else
			srv_http_reply_error(req, 405, "method_not_allowed");
	} else if (strncmp(path, "/v1/members/", 12) == 0) {
		raft_id id = srv_node_id_parse(path + 12);
		if (cmd != EVHTTP_REQ_DELETE)
			srv_http_reply_error(req, 405, "method_not_allowed");
		else if (!id)
			reply_bad(req, "'%s' is not a node id like n4", path + 12);
		else if (!is_leader(n))
			forward(n, req);
		else
			srv_node_member_remove(n, req, id);
	} else {
		srv_http_reply_error(req, 404, "no_such_endpoint");
	}
	free(path);
}

int srv_http_start(struct srv_node *n, char *err, size_t errlen)
{
	n->http = evhttp_new(n->base);
	if (!n->http)
		return srv_errf(err, errlen, "evhttp_new failed");
	evhttp_set_max_body_size(n->http, MAX_BODY);
	evhttp_set_allowed_methods(n->http, EVHTTP_REQ_GET | EVHTTP_REQ_PUT | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(n->http, handle, n);
	char host[64];
	snprintf(host, sizeof host, "%s", n->flags->listen_client);
	char *colon = strrchr(host, ':');
	if (!colon)
		return srv_errf(err, errlen, "--listen-client: bad address");
	*colon = 0;
	unsigned port = (unsigned)strtoul(colon + 1, NULL, 10);
	if (!evhttp_bind_socket_with_handle(n->http, host, (unsigned short)port))
		return srv_errf(err, errlen, "listen on %s (clients): %s", n->flags->listen_client, strerror(errno));
	return 0;
}

void srv_http_stop(struct srv_node *n)
{
	while (n->parked) {
		struct srv_parked *p = n->parked;
		n->parked = p->next;
		srv_http_reply_error(p->req, 503, "no_leader");
		free(p);
	}
	while (n->fwd) {
		struct srv_fwd_conn *fc = n->fwd;
		n->fwd = fc->next;
		evhttp_connection_free(fc->evcon);
		free(fc);
	}
	if (n->http) {
		evhttp_free(n->http);
		n->http = NULL;
	}
}
