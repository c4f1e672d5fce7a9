#!/usr/bin/env lua5.4
-- tests/adapters/etcd_test.lua — unit tests of harness/adapters/etcd.lua's translation and error classification against a mock http.
--
-- The mock answers like etcd 3.4's gateway did in tests/integration/etcd_gateway.sh
-- (base64 bytes, int64 as strings, zero fields omitted) and records every
-- request, so each test checks both what the adapter sent and what it made
-- of the answer. Run from the repository root (RAPAT_ROOT) with lua5.4.

local root = os.getenv("RAPAT_ROOT") or "."
package.path = root .. "/?.lua;" .. package.path
local adapter = dofile(root .. "/harness/adapters/etcd.lua")
local I = adapter._internal
local json = I.json

local failures, count = 0, 0
local function check(name, cond, detail)
  count = count + 1
  if not cond then
    failures = failures + 1
    print("FAIL  " .. name .. (detail and ("  (" .. tostring(detail) .. ")") or ""))
  end
end
local function eq(name, got, want)
  local g = type(got) == "table" and json.encode(got) or tostring(got)
  local w = type(want) == "table" and json.encode(want) or tostring(want)
  check(name, g == w, "got " .. g .. ", want " .. w)
end
local function raises(name, fn, pattern)
  local ok, err = pcall(fn)
  check(name, not ok and tostring(err):find(pattern, 1, true) ~= nil, ok and "no error" or err)
end

-- A mock of the harness's http: a queue of canned answers; every request kept.
local function mock(answers)
  local m = { requests = {} }
  m.request = function(req)
    m.requests[#m.requests + 1] = req
    local a = table.remove(answers, 1)
    assert(a, "mock http: unexpected request to " .. req.url)
    if a.err then return nil, a.err end
    return a.status, type(a.body) == "table" and json.encode(a.body) or a.body
  end
  m.sent = function(i) return json.decode(m.requests[i].body) end
  return m
end

local b64, unb64 = I.b64_encode, I.b64_decode
local node = { id = "n1", ip = "10.77.0.11", client_port = 2379, peer_port = 2380, data_dir = "/r/run-1/nodes/n1/data" }
local HDR = { cluster_id = "1", member_id = "111", revision = "5", raft_term = "3" }

-- base64 ------------------------------------------------------------------
for _, s in ipairs({ "", "f", "fo", "foo", "foob", "fooba", "foobar", "\0\255\1" }) do
  eq("b64 round trip " .. #s, unb64(b64(s)), s)
end
eq("b64 of foobar (RFC 4648)", b64("foobar"), "Zm9vYmFy")
eq("b64 of fo", b64("fo"), "Zm8=")
check("b64 rejects bad length", unb64("abc") == nil)
check("b64 rejects a bad character", unb64("a!==") == nil)
check("b64 rejects '=' in the middle", unb64("a=bc") == nil)

-- start ------------------------------------------------------------------
local nodes = {
  node,
  { id = "n2", ip = "10.77.0.12", client_port = 2379, peer_port = 2380, data_dir = "/r/run-1/nodes/n2/data" },
  { id = "n3", ip = "10.77.0.13", client_port = 2379, peer_port = 2380, data_dir = "/r/run-1/nodes/n3/data" },
}
local cluster = { nodes = nodes, seed = 42, options = {} }
local function argv_of(n, c)
  local cmd = adapter.start(n, c)
  local flags = {}
  for i, a in ipairs(cmd.argv) do
    if a:sub(1, 2) == "--" then
      local k, v = a:match("^%-%-([^=]+)=(.*)$")
      if k then flags[k] = v else flags[a:sub(3)] = cmd.argv[i + 1] end
    end
  end
  return cmd, flags
end
local cmd, fl = argv_of(node, cluster)
eq("start: binary", cmd.argv[1], "/usr/bin/etcd")
eq("start: name", fl.name, "n1")
eq("start: data dir", fl["data-dir"], node.data_dir)
eq("start: client url", fl["listen-client-urls"], "http://10.77.0.11:2379")
eq("start: advertised client url", fl["advertise-client-urls"], "http://10.77.0.11:2379")
eq("start: peer url", fl["initial-advertise-peer-urls"], "http://10.77.0.11:2380")
eq("start: every member in --initial-cluster", fl["initial-cluster"],
  "n1=http://10.77.0.11:2380,n2=http://10.77.0.12:2380,n3=http://10.77.0.13:2380")
eq("start: bootstrap state", fl["initial-cluster-state"], "new")
eq("start: default heartbeat", fl["heartbeat-interval"], "50")
eq("start: default election", fl["election-timeout"], "500")
eq("start: pre-vote on by default", fl["pre-vote"], "true")
check("start: env is a table", type(cmd.env) == "table")
local _, fl2 = argv_of(nodes[2], cluster)
local _, fl3 = argv_of(nodes[3], { nodes = nodes, seed = 42, options = {} })
eq("start: one token for all members of a run", fl2["initial-cluster-token"], fl["initial-cluster-token"])
eq("start: the token does not depend on the cluster table", fl3["initial-cluster-token"], fl["initial-cluster-token"])
local other = {}
for i, n in ipairs(nodes) do
  other[i] = { id = n.id, ip = n.ip, client_port = n.client_port, peer_port = n.peer_port,
               data_dir = n.data_dir:gsub("run%-1", "run-2") }
end
local _, flo = argv_of(other[1], { nodes = other, seed = 42, options = {} })
check("start: another run gets another token", flo["initial-cluster-token"] ~= fl["initial-cluster-token"])
local _, fls = argv_of(node, { nodes = nodes, seed = 43, options = {} })
check("start: another seed gets another token", fls["initial-cluster-token"] ~= fl["initial-cluster-token"])

local _, flx = argv_of(node, { nodes = nodes, seed = 1, options = {
  etcd_heartbeat_ms = "100", etcd_election_ms = 1000, pre_vote = "false", etcd_token = "tok" } })
eq("options: heartbeat from a --set string", flx["heartbeat-interval"], "100")
eq("options: election", flx["election-timeout"], "1000")
eq("options: pre_vote=false", flx["pre-vote"], "false")
eq("options: explicit token", flx["initial-cluster-token"], "tok")
raises("options: bad heartbeat names adapter and field",
  function() adapter.start(node, { nodes = nodes, options = { etcd_heartbeat_ms = "fast" } }) end,
  "harness/adapters/etcd.lua: cluster.options.etcd_heartbeat_ms")
raises("options: election below 5 heartbeats is refused",
  function() adapter.start(node, { nodes = nodes, options = { etcd_heartbeat_ms = 100, etcd_election_ms = 300 } }) end,
  "cluster.options.etcd_election_ms (300) must be at least 5 x")
raises("options: bad pre_vote", function() adapter.start(node, { nodes = nodes, options = { pre_vote = "maybe" } }) end,
  "cluster.options.pre_vote must be true or false")
raises("options: bad reads", function() adapter.start(node, { nodes = nodes, options = { reads = "stale" } }) end,
  "cluster.options.reads must be")
raises("start: node without ip", function() adapter.start({ id = "n9", client_port = 1 }, cluster) end,
  "harness/adapters/etcd.lua: start: node.ip is missing")
raises("start: cluster without nodes", function() adapter.start(node, {}) end, "cluster.nodes must be a list")

local joiner = { id = "n4", ip = "10.77.0.14", client_port = 2379, peer_port = 2380, data_dir = "/r/run-1/nodes/n4/data" }
local _, flj = argv_of(joiner, cluster)
eq("start: a joining node uses state existing", flj["initial-cluster-state"], "existing")
eq("start: a joining node lists itself", flj["initial-cluster"],
  "n1=http://10.77.0.11:2380,n2=http://10.77.0.12:2380,n3=http://10.77.0.13:2380,n4=http://10.77.0.14:2380")
eq("client_url", adapter.client_url(node), "http://10.77.0.11:2379")

-- invoke: write -----------------------------------------------------------
adapter.start(node, cluster) -- linearizable reads
local h = mock({ { status = 200, body = { header = HDR } } })
local c = adapter.invoke(node, h, { f = "write", value = { b = 2, a = { 1, 2 } } })
eq("write: ok", c.type, "ok")
eq("write: POST /v3/kv/put", h.requests[1].method .. " " .. h.requests[1].url, "POST http://10.77.0.11:2379/v3/kv/put")
eq("write: key of the single register", unb64(h.sent(1).key), "rapat/register")
eq("write: value is the JSON text (sorted keys), base64", unb64(h.sent(1).value), '{"a":[1,2],"b":2}')
eq("write: hasleader header sent", h.requests[1].headers["Grpc-Metadata-hasleader"], "true")
eq("write: the default client timeout (no op_timeout)", h.requests[1].timeout, 5)
adapter.start(node, { nodes = nodes, seed = 1, options = { op_timeout = 1.5 } })
h = mock({ { status = 200, body = { header = HDR } } })
adapter.invoke(node, h, { f = "write", value = 1 })
eq("write: op_timeout is the client timeout", h.requests[1].timeout, 1.5)
raises("options: bad op_timeout", function() adapter.start(node, { nodes = nodes, options = { op_timeout = "soon" } }) end,
  "cluster.options.op_timeout must be a positive number")
adapter.start(node, cluster)

h = mock({ { status = 200, body = { header = HDR } } })
adapter.invoke(node, h, { f = "write", key = 7, value = "x" })
eq("write: multi-key key", unb64(h.sent(1).key), "rapat/k/7")
eq("write: string value JSON-quoted", unb64(h.sent(1).value), '"x"')

-- invoke: read ------------------------------------------------------------
h = mock({ { status = 200, body = { header = HDR } } })
c = adapter.invoke(node, h, { f = "read", key = "k1" })
eq("read missing key: ok", c.type, "ok")
check("read missing key: null", json.is_null(c.value))
check("read: linearizable by default (no serializable field)", h.sent(1).serializable == nil)
eq("read: linearizable reads send hasleader (fail fast without a leader)", h.requests[1].headers["Grpc-Metadata-hasleader"], "true")
h = mock({ { status = 200, body = { header = HDR, count = "1",
  kvs = { { key = b64("rapat/k/k1"), mod_revision = "4", version = "2", value = b64("[1,4]") } } } } })
c = adapter.invoke(node, h, { f = "read", key = "k1" })
eq("read: decoded JSON value", c.value, { 1, 4 })
h = mock({ { status = 200, body = { header = HDR, kvs = { { key = b64("rapat/register"), value = b64("not json") } } } } })
c = adapter.invoke(node, h, { f = "read" })
eq("read of foreign bytes: fail (nothing changed)", c.type, "fail")
h = mock({ { status = 200, body = "<html>garbage</html>" } })
c = adapter.invoke(node, h, { f = "read" })
eq("read: garbage answer is fail", c.type, "fail")

adapter.start(node, { nodes = nodes, seed = 1, options = { reads = "serializable" } })
h = mock({ { status = 200, body = { header = HDR } } })
adapter.invoke(node, h, { f = "read" })
eq("reads=serializable sends serializable: true", h.sent(1).serializable, true)
check("reads=serializable: no hasleader header (etcd client default)", h.requests[1].headers["Grpc-Metadata-hasleader"] == nil)
h = mock({ { status = 200, body = { header = HDR } } })
adapter.invoke(node, h, { f = "write", value = 1 })
eq("reads=serializable: writes still send hasleader", h.requests[1].headers["Grpc-Metadata-hasleader"], "true")
adapter.start(node, cluster)

-- invoke: cas -------------------------------------------------------------
h = mock({ { status = 200, body = { header = HDR, succeeded = true, responses = { { response_put = { header = { revision = "6" } } } } } } })
c = adapter.invoke(node, h, { f = "cas", key = "k2", value = { 1, 4 } })
eq("cas: ok when succeeded", c.type, "ok")
local t = h.sent(1)
eq("cas: POST /v3/kv/txn", h.requests[1].url, "http://10.77.0.11:2379/v3/kv/txn")
eq("cas: compare VALUE EQUAL", t.compare[1].target .. " " .. t.compare[1].result, "VALUE EQUAL")
eq("cas: compares the JSON text of expected", unb64(t.compare[1].value), "1")
eq("cas: compare on the key", unb64(t.compare[1].key), "rapat/k/k2")
eq("cas: success puts the new JSON text", unb64(t.success[1].request_put.value), "4")
eq("cas: failure reads the key", unb64(t.failure[1].request_range.key), "rapat/k/k2")

h = mock({ { status = 200, body = { header = HDR, responses = { { response_range = { header = { revision = "6" },
  kvs = { { key = b64("rapat/k/k2"), value = b64("3") } }, count = "1" } } } } } })
c = adapter.invoke(node, h, { f = "cas", key = "k2", value = { 1, 4 } })
eq("cas: no succeeded field = definite fail", c.type, "fail")
eq("cas: fail carries the actual value", c.actual, 3)
eq("cas: fail reason", c.error, "precondition_failed")
h = mock({ { status = 200, body = { header = HDR, responses = { { response_range = { header = { revision = "6" } } } } } } })
c = adapter.invoke(node, h, { f = "cas", key = "k2", value = { 1, 4 } })
eq("cas on a missing key: fail", c.type, "fail")
check("cas on a missing key: actual null", json.is_null(c.actual))

h = mock({ { status = 200, body = { header = HDR, succeeded = true } } })
adapter.invoke(node, h, { f = "cas", value = { json.null, 1 } })
t = h.sent(1)
eq("cas from null: compare VERSION EQUAL \"0\"", t.compare[1].target .. " " .. t.compare[1].version, "VERSION 0")
-- The harness's own null is a light userdata; io.stdout stands in for one.
local HXNULL = io.stdout
h = mock({ { status = 200, body = { header = HDR, succeeded = true } } })
adapter.invoke(node, h, { f = "cas", key = HXNULL, value = { HXNULL, { 1, HXNULL } } })
t = h.sent(1)
eq("cas: a harness null expected means create", t.compare[1].target, "VERSION")
eq("cas: a harness null key is the single register", unb64(t.compare[1].key), "rapat/register")
eq("cas: harness nulls inside values encode as null", unb64(t.success[1].request_put.value), "[1,null]")
h = mock({ { status = 200, body = { header = HDR } } })
adapter.invoke(node, h, { f = "write", value = json.array({}) })
eq("write: an empty array stays []", unb64(h.sent(1).value), "[]")
-- workload ops composed of primitives (workloads/lib/glue.lua's `via`)
h = mock({ { status = 200, body = { header = HDR } }, { status = 200, body = { header = HDR, succeeded = true } } })
c = adapter.invoke(node, h, { f = "add", value = 9, via = function(call)
  local r = call({ f = "read", key = "s/0" })
  local w = call({ f = "cas", key = "s/0", value = { r.value, { 9 } } })
  return { type = w.type, value = 9 }
end })
eq("via: the composed op's completion", c.type, "ok")
eq("via: primitives went to this node", h.requests[2].url, "http://10.77.0.11:2379/v3/kv/txn")
eq("via: read of a missing shard, then create", h.sent(2).compare[1].target, "VERSION")
raises("cas without a pair", function() adapter.invoke(node, mock({}), { f = "cas", value = 3 }) end,
  "harness/adapters/etcd.lua: invoke: cas needs op.value")
raises("unknown f", function() adapter.invoke(node, mock({}), { f = "add", value = 3 }) end,
  "unsupported op.f \"add\"")

-- classification ----------------------------------------------------------
local E = function(msg, code) return { error = msg, message = msg, code = code } end
local cases = {
  -- write outcomes: fail only where etcd never proposed the request
  { "write", 503, E("etcdserver: no leader", 14), nil, "fail" },
  { "write", 400, E("unexpected EOF", 3), nil, "fail" },
  { "write", 400, E("etcdserver: request is too large", 3), nil, "fail" },
  { "write", 429, E("etcdserver: too many requests", 8), nil, "fail" },
  -- "connect" may follow a copy sent on a reused connection (libcurl retries)
  { "write", nil, nil, "connect", "info" },
  { "cas", nil, nil, "connect", "info" },
  { "read", nil, nil, "connect", "fail" },
  { "write", 503, E("etcdserver: request timed out", 14), nil, "info" },
  { "write", 503, E("etcdserver: leader changed", 14), nil, "info" },
  { "write", 500, E("context deadline exceeded", 2), nil, "info" },
  { "write", 503, E("etcdserver: request timed out, possibly due to previous leader failure", 14), nil, "info" },
  { "write", 503, nil, nil, "info" },
  { "write", 502, nil, nil, "info" },
  { "write", nil, nil, "timeout", "info" },
  { "write", nil, nil, "broken", "info" },
  { "write", nil, nil, "error", "info" },
  { "cas", 503, E("etcdserver: no leader", 14), nil, "fail" },
  { "cas", 503, E("etcdserver: request timed out", 14), nil, "info" },
  { "cas", nil, nil, "timeout", "info" },
  -- reads change nothing: every failed read is fail
  { "read", 503, E("etcdserver: request timed out", 14), nil, "fail" },
  { "read", nil, nil, "timeout", "fail" },
}
for _, k in ipairs(cases) do
  local kind, reason = I.classify(k[1], k[2], k[3], k[4])
  eq(string.format("classify %s %s %s %s", k[1], tostring(k[2]), k[3] and k[3].error or "", k[4] or ""), kind, k[5])
  check("classify gives a reason", type(reason) == "string" and #reason > 0)
end
-- and end to end through invoke
h = mock({ { status = 503, body = E("etcdserver: request timed out", 14) } })
c = adapter.invoke(node, h, { f = "write", value = 1 })
eq("invoke: timed-out write is info", c.type, "info")
eq("invoke: info carries etcd's message", c.error, "etcdserver: request timed out")
h = mock({ { err = "connect" } })
eq("invoke: refused (re)connection on a cas is info", adapter.invoke(node, h, { f = "cas", value = { 1, 2 } }).type, "info")
h = mock({ { status = 200, body = "garbage" } })
eq("invoke: garbage 200 on a write is info", adapter.invoke(node, h, { f = "write", value = 1 }).type, "info")

-- status -------------------------------------------------------------------
local members = { header = HDR, members = {
  { ID = "111", name = "n1", peerURLs = { "http://10.77.0.11:2380" } },
  { ID = "222", name = "n2", peerURLs = { "http://10.77.0.12:2380" } },
  { ID = "18446744073709551615", name = "n3", peerURLs = { "http://10.77.0.13:2380" } } } }
h = mock({
  { status = 200, body = { header = { member_id = "111", raft_term = "7" }, leader = "18446744073709551615",
                           raftIndex = "40", raftTerm = "6", raftAppliedIndex = "39" } },
  { status = 200, body = members },
})
local s = adapter.status(node, h)
eq("status: follower", s.role, "follower")
eq("status: leader mapped through member/list (uint64 beyond int64 as a string)", s.leader, "n3")
eq("status: term is the larger of header.raft_term and raftTerm", s.term, 7)
eq("status: commit index", s.commit_index, 40)
eq("status: asked member/list", h.requests[2].url, "http://10.77.0.11:2379/v3/cluster/member/list")
h = mock({ { status = 200, body = { header = { member_id = "222", raft_term = "7" }, leader = "222" } } })
s = adapter.status(nodes[2], h)
eq("status: leader is self", s.role, "leader")
eq("status: cached map, no second request", #h.requests, 1)
eq("status: leader id", s.leader, "n2")
h = mock({ { status = 200, body = { header = { member_id = "111", raft_term = "9" }, errors = { "etcdserver: no leader" } } } })
s = adapter.status(node, h)
check("status without leader: leader nil", s.leader == nil)
eq("status without leader: follower", s.role, "follower")
h = mock({ { status = 200, body = { header = { member_id = "444" }, leader = "111", isLearner = true } } })
eq("status: learner", adapter.status(node, h).role, "learner")
h = mock({ { err = "timeout" } })
local s2, why = adapter.status(node, h)
check("status unreachable: nil + reason", s2 == nil and why == "timeout")

-- ready --------------------------------------------------------------------
eq("ready: health true", adapter.ready(node, mock({ { status = 200, body = '{"health":"true"}' } })), true)
eq("ready: health false (503)", adapter.ready(node, mock({ { status = 503, body = '{"health":"false"}' } })), false)
eq("ready: garbage", adapter.ready(node, mock({ { status = 200, body = "<html>" } })), false)
eq("ready: refused", adapter.ready(node, mock({ { err = "connect" } })), false)

-- membership ---------------------------------------------------------------
h = mock({ { status = 200, body = { header = HDR, member = { ID = "555", peerURLs = { "http://10.77.0.14:2380" } } } } })
eq("add_member: ok", adapter.add_member(node, h, joiner), true)
eq("add_member: POST member/add", h.requests[1].url, "http://10.77.0.11:2379/v3/cluster/member/add")
eq("add_member: peer URL", h.sent(1).peerURLs, { "http://10.77.0.14:2380" })
h = mock({ { status = 503, body = E("etcdserver: unhealthy cluster", 14) } })
local ok, err = adapter.add_member(node, h, joiner)
check("add_member refused: false + etcd's reason", ok == false and err == "etcdserver: unhealthy cluster", err)
h = mock({ { status = 200, body = members }, { status = 200, body = { header = HDR, members = {} } } })
eq("remove_member: ok", adapter.remove_member(node, h, "n3"), true)
eq("remove_member: ID as a string", h.sent(2).ID, "18446744073709551615")
h = mock({ { status = 200, body = members } })
ok, err = adapter.remove_member(node, h, "n9")
check("remove_member of an unknown node: false", ok == false and err:find("n9"), err)

eq("log_files: stderr only", #adapter.log_files(node), 0)

-- option defaults, as the plan loader sees them ------------------------------
eq("adapter.options declares the defaults", adapter.options, {
  etcd_binary = "/usr/bin/etcd", etcd_election_ms = 500, etcd_heartbeat_ms = 50, etcd_token = "",
  pre_vote = true, reads = "linearizable" })
local _, flb = argv_of(node, { nodes = nodes, seed = 1, options = { pre_vote = false, etcd_heartbeat_ms = 100,
  etcd_election_ms = 1000 } })
eq("options as typed plan values (etcd's own settings)", flb["heartbeat-interval"] .. " " .. flb["election-timeout"]
  .. " " .. flb["pre-vote"], "100 1000 false")
local _, flr = argv_of(node, { nodes = nodes, seed = 5, options = {}, run_dir = "/store/x/1" })
local _, flr2 = argv_of(node, { nodes = nodes, seed = 5, options = {}, run_dir = "/store/x/2" })
check("token: from cluster.run_dir when given", flr["initial-cluster-token"] ~= flr2["initial-cluster-token"])

print(string.format("etcd adapter: %d checks, %d failed", count, failures))
os.exit(failures == 0 and 0 or 1)
