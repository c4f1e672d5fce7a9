-- harness/adapters/etcd.lua — runs etcd 3.4 (Debian's /usr/bin/etcd) under rapat and translates register operations to its v3 JSON gateway.
--
-- What etcd guarantees, and so how each answer is recorded, is written next
-- to every classification below; docs/adapters.md lists the measurements
-- behind them (tests/integration/etcd_gateway.sh re-checks them on a real
-- cluster).
--
-- Options: plan keys (cluster.options), defaults in adapter.options below;
-- accepted as Lua values or as strings:
--   etcd_heartbeat_ms  --heartbeat-interval
--   etcd_election_ms   --election-timeout (etcd wants >= 5 heartbeats)
--   pre_vote           --pre-vote; false reproduces etcd 3.4's own default,
--                      where a healed minority deposes the leader
--   reads              "linearizable", or "serializable": local, possibly
--                      stale reads, the mode an audit should catch
--   op_timeout         (a core plan option, seconds) client timeout of one
--                      request. etcd itself gives up on a request it cannot
--                      commit only after 5 s + 2 election timeouts, and with
--                      a few closed-loop clients every one of them soon waits
--                      on such a request: keep it short (the etcd plans use
--                      1 s) so that clients move on as new processes
--   etcd_binary        path of the etcd binary
--   etcd_token         --initial-cluster-token ("" = derived per run)

local ADAPTER = "harness/adapters/etcd.lua"

-- The JSON codec of the workloads (sorted object keys: the same value always
-- has the same text, which CAS below depends on). The harness puts the
-- repository root on package.path; standalone tests do the same.
local json = require("workloads.lib.json")

-- JSON null as the harness spells it (hx.null, a light userdata) or as the
-- workloads do (json.null): no workload value is otherwise a userdata.
local function is_null(v)
  return v == nil or json.is_null(v) or type(v) == "userdata"
end

-- The JSON text stored for a value, with any harness null made json.null
-- first (the workloads' encoder knows only its own).
local function normalize(v)
  if type(v) == "userdata" then return json.null end
  if type(v) ~= "table" or json.is_null(v) then return v end
  local out = setmetatable({}, getmetatable(v))
  for k, x in pairs(v) do out[k] = normalize(x) end
  return out
end
local function json_text(v)
  return json.encode(normalize(v))
end

-- base64 (RFC 4648, with padding): etcd's gateway carries keys and values,
-- which are protobuf `bytes`, as base64 strings.
local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local B64_INDEX = {}
for i = 1, #B64 do B64_INDEX[B64:byte(i)] = i - 1 end

local function b64_encode(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = (a << 16) | ((b or 0) << 8) | (c or 0)
    out[#out + 1] = B64:sub((n >> 18) + 1, (n >> 18) + 1)
      .. B64:sub(((n >> 12) & 63) + 1, ((n >> 12) & 63) + 1)
      .. (b and B64:sub(((n >> 6) & 63) + 1, ((n >> 6) & 63) + 1) or "=")
      .. (c and B64:sub((n & 63) + 1, (n & 63) + 1) or "=")
  end
  return table.concat(out)
end

-- Returns the decoded bytes, or nil and a reason.
local function b64_decode(s)
  if type(s) ~= "string" or #s % 4 ~= 0 then return nil, "base64: length not a multiple of 4" end
  local out = {}
  for i = 1, #s, 4 do
    local n, pad = 0, 0
    for j = i, i + 3 do
      local ch = s:byte(j)
      local v = B64_INDEX[ch]
      if ch == 61 and j >= #s - 1 then -- '=' only in the last two places
        v, pad = 0, pad + 1
      elseif not v or pad > 0 then
        return nil, "base64: bad character at " .. j
      end
      n = (n << 6) | v
    end
    local bytes = string.char((n >> 16) & 255, (n >> 8) & 255, n & 255)
    out[#out + 1] = bytes:sub(1, 3 - pad)
  end
  return table.concat(out)
end

-- ---------------------------------------------------------------- options

-- Defaults of the options above, declared as adapter.options: the plan
-- loader makes them plan keys, typed by these defaults, so that plans and
-- --set can give them (e.g. --db etcd --set reads=serializable).
local DEFAULTS = {
  etcd_heartbeat_ms = 50,
  etcd_election_ms = 500,
  pre_vote = true,
  reads = "linearizable",
  etcd_binary = "/usr/bin/etcd",
  etcd_token = "",
}

local function opt_raw(cluster, name)
  local o = cluster and cluster.options
  local v = o and o[name]
  if v == nil then v = DEFAULTS[name] end
  return v
end

local function opt_int(cluster, name, min)
  local v = opt_raw(cluster, name)
  local n = math.tointeger(tonumber(v))
  if not n or n < min then
    error(string.format("%s: cluster.options.%s must be an integer >= %d, got %q", ADAPTER, name, min, tostring(v)), 0)
  end
  return n
end

local function opt_bool(cluster, name)
  local v = opt_raw(cluster, name)
  if v == true or v == "true" or v == "1" or v == 1 or v == "yes" or v == "on" then return true end
  if v == false or v == "false" or v == "0" or v == 0 or v == "no" or v == "off" then return false end
  error(string.format("%s: cluster.options.%s must be true or false, got %q", ADAPTER, name, tostring(v)), 0)
end

local function opt_reads(cluster)
  local v = opt_raw(cluster, "reads")
  if v == "linearizable" then return "linearizable" end
  if v == "serializable" then return "serializable" end
  error(string.format("%s: cluster.options.reads must be \"linearizable\" or \"serializable\", got %q",
    ADAPTER, tostring(v)), 0)
end

local function check_node(node, fn)
  -- The harness passes its node objects (userdata with fields); tests pass tables.
  if type(node) ~= "table" and type(node) ~= "userdata" then
    error(ADAPTER .. ": " .. fn .. ": node must be a node object, got " .. type(node), 0)
  end
  for _, f in ipairs({ "id", "ip", "client_port" }) do
    if node[f] == nil then error(string.format("%s: %s: node.%s is missing", ADAPTER, fn, f), 0) end
  end
end

-- 64-bit FNV-1a, printed in hex: a short run-specific suffix for the token.
local function fnv1a(s)
  local h = 0xcbf29ce484222325
  for i = 1, #s do h = (h ~ s:byte(i)) * 0x100000001b3 end
  return string.format("%016x", h)
end

local function common_prefix(a, b)
  local i = 1
  while i <= #a and a:byte(i) == b:byte(i) do i = i + 1 end
  return a:sub(1, i - 1)
end

-- The --initial-cluster-token. Every member of one bootstrap must get the
-- same token, and two runs must not (etcd derives member and cluster IDs from
-- it: a leftover member of an earlier run with the same token is accepted as
-- "already bootstrapped"). So it is computed, not drawn: from the seed and
-- the run directory (cluster.run_dir, else the data directories' common
-- prefix), which differs between runs. On a restart etcd ignores the token
-- (the data dir decides).
local function cluster_token(node, cluster)
  local t = opt_raw(cluster, "etcd_token")
  if t ~= nil and t ~= "" then return tostring(t) end
  local where = cluster.run_dir
  if where == nil then
    where = node.data_dir or ""
    for _, n in ipairs(cluster.nodes or {}) do
      if n.data_dir then where = common_prefix(where, n.data_dir) end
    end
  end
  return string.format("rapat-s%s-%s", tostring(cluster.seed or 0), fnv1a(where):sub(1, 12))
end

local function peer_url(node)
  return "http://" .. node.ip .. ":" .. node.peer_port
end

local function client_url(node)
  return "http://" .. node.ip .. ":" .. node.client_port
end

-- --------------------------------------------------------------- requests

-- Module state: the options seen by start() (invoke and status get no
-- cluster table), and the etcd member ID -> node id map filled from
-- /v3/cluster/member/list (etcd names members with our --name = node.id).
local state = { reads = DEFAULTS.reads, timeout_s = 5, ids = {} }

local HEADERS = {
  ["Content-Type"] = "application/json",
  -- Makes a member without a leader refuse at once with 503 "etcdserver: no
  -- leader", from a gRPC interceptor that runs before the request reaches
  -- the server: such a refusal is a definite failure (see classify).
  ["Grpc-Metadata-hasleader"] = "true",
}

-- Serializable reads go without the hasleader header, as etcd's own client
-- sends them by default: a member cut off from the leader then keeps
-- answering from its local state for the whole partition (with the header it
-- would refuse once it noticed, after about one election timeout), which is
-- the stale-read behaviour the reads=serializable audit is about.
local HEADERS_PLAIN = { ["Content-Type"] = "application/json" }

-- POST a JSON body to a v3 gateway path. Returns status and the decoded
-- body (nil when it is not a JSON object); or nil, nil and the http error
-- kind ("connect", "timeout", "broken", "error").
local function post(node, http, path, body, headers)
  local status, resp = http.request({
    method = "POST",
    url = client_url(node) .. path,
    body = json.encode(body),
    headers = headers or HEADERS,
    timeout = state.timeout_s,
  })
  if status == nil then return nil, nil, resp end
  local ok, decoded = pcall(json.decode, resp or "")
  return status, ok and type(decoded) == "table" and decoded or nil
end

-- How an error answer is recorded. Reads never change state, so every
-- failed read is `fail`. For writes and CAS, `fail` only where etcd promises
-- the request was never proposed to Raft:
--   * 503 "etcdserver: no leader": the hasleader interceptor refused it
--     before the server saw it (measured: 1 ms, nothing written);
--   * 400 (gRPC InvalidArgument, code 3): the gateway or the server's request
--     validation rejected it (bad JSON or base64, missing key, request too
--     large), all before proposing;
--   * "etcdserver: too many requests": the server refuses to propose while
--     its applied index lags the committed index.
-- Everything else is `info`. That includes the http error kind "connect":
-- libcurl (7.88.1 here) silently resends a request whose reused keep-alive
-- connection died without an answer, and reports only the failed reconnect
-- (CURLE_COULDNT_CONNECT) — after the first copy reached the server
-- (measured; docs/adapters.md). An etcd set run found an element whose add
-- had been recorded failed this way. In particular 503 "request timed out", 503
-- "leader changed", 500 "context deadline exceeded", a timeout or a broken
-- connection: the proposal may sit in a leader's queue and commit later
-- (measured: a put that timed out after 7 s through a follower of a paused
-- leader was committed once the leader resumed).
local function classify(f, status, body, err_kind)
  local reason
  if status == nil then
    reason = tostring(err_kind)
  else
    reason = (body and (body.error or body.message)) or ("HTTP " .. status)
  end
  if f == "read" then return "fail", reason end
  if status == nil then return "info", reason end
  if status == 503 and reason == "etcdserver: no leader" then return "fail", reason end
  if status == 400 and body and tonumber(body.code) == 3 then return "fail", reason end
  if reason == "etcdserver: too many requests" then return "fail", reason end
  return "info", reason
end

-- The JSON value stored under a kv, or json.null for no kv. Returns nil and
-- a reason when the stored bytes are not a JSON text written by us.
local function kv_value(kvs)
  if kvs == nil or json.is_null(kvs) or #kvs == 0 then return json.null end
  local raw, err = b64_decode(kvs[1].value or "") -- an empty value is omitted
  if not raw then return nil, err end
  local ok, v = pcall(json.decode, raw)
  if not ok then return nil, "stored value is not JSON: " .. tostring(v) end
  return v
end

-- The etcd key of an operation's key: the register (no key) or key k.
local function etcd_key(op)
  if is_null(op.key) then return "rapat/register" end
  return "rapat/k/" .. tostring(op.key)
end

local function completion(op, kind, value, err)
  return { type = kind, value = value, error = err }
end

local function do_read(node, http, op, key)
  local req, headers = { key = b64_encode(key) }, HEADERS
  if state.reads == "serializable" then req.serializable, headers = true, HEADERS_PLAIN end
  local status, body, err = post(node, http, "/v3/kv/range", req, headers)
  if status ~= 200 or body == nil then
    local kind, reason = classify("read", status, body, err)
    if status == 200 then reason = "unparsable answer" end
    return completion(op, kind, nil, reason)
  end
  local v, why = kv_value(body.kvs)
  if v == nil then return completion(op, "fail", nil, why) end
  return completion(op, "ok", v)
end

local function do_write(node, http, op, key)
  local status, body, err = post(node, http, "/v3/kv/put",
    { key = b64_encode(key), value = b64_encode(json_text(op.value)) })
  if status == 200 and body then return completion(op, "ok", op.value) end
  if status == 200 then return completion(op, "info", op.value, "unparsable answer") end
  local kind, reason = classify("write", status, body, err)
  return completion(op, kind, op.value, reason)
end

-- cas [expected, new] as one txn: if the key's value equals the JSON text of
-- expected (for a null expected: if the key does not exist), put new; else
-- read the key, so that a refused CAS reports what it saw. A txn answer
-- without "succeeded" (false is omitted) means the compare failed and
-- nothing was written: a definite `fail`.
local function do_cas(node, http, op, key)
  local pair = op.value
  if type(pair) ~= "table" or pair[2] == nil then
    error(ADAPTER .. ": invoke: cas needs op.value = {expected, new}", 0)
  end
  local expected, new = pair[1], pair[2]
  local k = b64_encode(key)
  local cmp
  if is_null(expected) then
    -- etcd omits zero fields on output but takes an explicit "0" as input.
    cmp = { key = k, result = "EQUAL", target = "VERSION", version = "0" }
  else
    cmp = { key = k, result = "EQUAL", target = "VALUE", value = b64_encode(json_text(expected)) }
  end
  local status, body, err = post(node, http, "/v3/kv/txn", {
    compare = { cmp },
    success = { { request_put = { key = k, value = b64_encode(json_text(new)) } } },
    failure = { { request_range = { key = k } } },
  })
  if status ~= 200 or body == nil then
    local kind, reason = classify("cas", status, body, err)
    if status == 200 then kind, reason = "info", "unparsable answer" end
    return completion(op, kind, op.value, reason)
  end
  if body.succeeded == true then return completion(op, "ok", op.value) end
  local actual
  local r = body.responses and body.responses[1] and body.responses[1].response_range
  if r then actual = kv_value(r.kvs) end
  local c = completion(op, "fail", op.value, "precondition_failed")
  c.actual = actual
  return c
end

-- ------------------------------------------------------------ the adapter

local adapter = { name = "etcd", options = DEFAULTS }

-- argv for one member. A node listed in cluster.nodes at bootstrap starts
-- with --initial-cluster-state new; a node joining later (node.joining, set
-- when the harness starts it after add_member) starts with "existing" and
-- an --initial-cluster of the members plus itself.
function adapter.start(node, cluster)
  check_node(node, "start")
  if node.peer_port == nil then error(ADAPTER .. ": start: node.peer_port is missing", 0) end
  if type(cluster) ~= "table" or type(cluster.nodes) ~= "table" then
    error(ADAPTER .. ": start: cluster.nodes must be a list of nodes", 0)
  end
  local heartbeat = opt_int(cluster, "etcd_heartbeat_ms", 1)
  local election = opt_int(cluster, "etcd_election_ms", 1)
  if election < 5 * heartbeat then
    -- etcd refuses to start otherwise; say so here, with our option names.
    error(string.format("%s: cluster.options.etcd_election_ms (%d) must be at least 5 x etcd_heartbeat_ms (%d)",
      ADAPTER, election, heartbeat), 0)
  end
  state.reads = opt_reads(cluster)
  local to = opt_raw(cluster, "op_timeout")
  if to ~= nil then
    state.timeout_s = tonumber(to)
    if not state.timeout_s or state.timeout_s <= 0 then
      error(string.format("%s: cluster.options.op_timeout must be a positive number of seconds, got %q",
        ADAPTER, tostring(to)), 0)
    end
  end
  local members, seen_self = {}, false
  for _, n in ipairs(cluster.nodes) do
    members[#members + 1] = n.id .. "=" .. peer_url(n)
    seen_self = seen_self or n.id == node.id
  end
  if not seen_self then members[#members + 1] = node.id .. "=" .. peer_url(node) end
  local joining = node.joining == true or not seen_self
  local argv = {
    tostring(opt_raw(cluster, "etcd_binary")),
    "--name", node.id,
    "--data-dir", node.data_dir or "data",
    "--listen-client-urls", client_url(node),
    "--advertise-client-urls", client_url(node),
    "--listen-peer-urls", peer_url(node),
    "--initial-advertise-peer-urls", peer_url(node),
    "--initial-cluster", table.concat(members, ","),
    "--initial-cluster-token", cluster_token(node, cluster),
    "--initial-cluster-state", joining and "existing" or "new",
    "--heartbeat-interval", tostring(heartbeat),
    "--election-timeout", tostring(election),
    "--pre-vote=" .. tostring(opt_bool(cluster, "pre_vote")),
    "--logger", "zap", "--log-outputs", "stderr",
  }
  state.ids = {}
  -- Go's scheduler on 2 shared cores: leave GOMAXPROCS to its default.
  return { argv = argv, env = {} }
end

function adapter.client_url(node)
  return client_url(node)
end

-- Ready when the member serves client requests and knows a leader
-- (/health is {"health":"true"}; 503 {"health":"false"} without a leader).
function adapter.ready(node, http)
  check_node(node, "ready")
  local status, body = http.request({ method = "GET", url = client_url(node) .. "/health", timeout = 2 })
  if status == 200 then
    local ok, h = pcall(json.decode, body or "")
    return ok and type(h) == "table" and h.health == "true"
  end
  return false
end

-- op = {f = "read"|"write"|"cas", key = K or nil, value = ...}. Returns a
-- completion {type = "ok"|"fail"|"info", value = ..., error = reason};
-- a refused cas also carries `actual` (the value it saw, json.null when
-- the key is missing). A read of a missing key is ok with json.null.
function adapter.invoke(node, http, op)
  check_node(node, "invoke")
  if type(op.via) == "function" then
    -- A workload operation made of register primitives (set's add, bank's
    -- transfer: workloads/lib/glue.lua attaches `via` until the runner calls
    -- the workload's invoke itself): run it over this adapter, on this node.
    return op.via(function(p) return adapter.invoke(node, http, p) end)
  end
  local key = etcd_key(op)
  if op.f == "read" then return do_read(node, http, op, key) end
  if op.f == "write" then return do_write(node, http, op, key) end
  if op.f == "cas" then return do_cas(node, http, op, key) end
  error(string.format("%s: invoke: unsupported op.f %q (etcd adapter does read, write, cas)", ADAPTER, tostring(op.f)), 0)
end

-- Refreshes the member ID -> node id map from this node's member list.
local function refresh_ids(node, http)
  local status, body = post(node, http, "/v3/cluster/member/list", {})
  if status ~= 200 or not body then return nil end
  for _, m in ipairs(body.members or {}) do
    if m.ID and m.name and m.name ~= "" then state.ids[m.ID] = m.name end
  end
  return body.members or {}
end

-- {role, term, leader} from /v3/maintenance/status. leader is our node id
-- (nil when the member knows none). etcd does not expose its Raft node's
-- current term: both header.raft_term and raftTerm stayed at 2 on a member
-- that had been campaigning (pre-vote off) for 3 s, cut off from its peers.
-- term is the larger of the two, a lower bound of the real term. Nor does
-- etcd report candidacy: a member without a leader says "follower" with
-- leader nil. Returns nil, reason when unreachable.
function adapter.status(node, http)
  check_node(node, "status")
  local status, body, err = post(node, http, "/v3/maintenance/status", {})
  if status ~= 200 or not body then
    return nil, status and ("HTTP " .. status) or tostring(err)
  end
  local header = body.header or {}
  local self_id, leader_id = header.member_id, body.leader
  local leader
  if leader_id and leader_id ~= "0" then
    if self_id and not state.ids[self_id] then state.ids[self_id] = node.id end
    if not state.ids[leader_id] then refresh_ids(node, http) end
    leader = state.ids[leader_id] or ("etcd:" .. leader_id)
  end
  local role = "follower"
  if body.isLearner == true then role = "learner"
  elseif leader_id ~= nil and leader_id == self_id then role = "leader" end
  return {
    role = role,
    term = math.max(math.tointeger(tonumber(header.raft_term or "0")) or 0,
                    math.tointeger(tonumber(body.raftTerm or "0")) or 0),
    leader = leader,
    commit_index = math.tointeger(tonumber(body.raftIndex or "0")),
    applied_index = math.tointeger(tonumber(body.raftAppliedIndex or "0")),
  }
end

-- Adds new_node as a voting member, asking `node`. Returns true, or false
-- and a reason. etcd refuses (503 "unhealthy cluster") until all members
-- have been connected for 5 s (--strict-reconfig-check), and while another
-- change is unfinished: both are definite refusals the caller may retry.
-- The new member must then be started with state "existing" (see start).
function adapter.add_member(node, http, new_node)
  check_node(node, "add_member")
  check_node(new_node, "add_member")
  local status, body, err = post(node, http, "/v3/cluster/member/add", { peerURLs = { peer_url(new_node) } })
  if status == 200 then
    local m = body and body.member
    if m and m.ID then state.ids[m.ID] = new_node.id end
    return true
  end
  return false, status and ((body and body.error) or ("HTTP " .. status)) or tostring(err)
end

-- Removes the member named target_id (our node id), asking `node`.
function adapter.remove_member(node, http, target_id)
  check_node(node, "remove_member")
  if type(target_id) == "table" then target_id = target_id.id end
  local members = refresh_ids(node, http)
  if not members then return false, "member list unavailable" end
  local etcd_id
  for _, m in ipairs(members) do
    if m.name == target_id then etcd_id = m.ID end
  end
  if not etcd_id then return false, "no member named " .. tostring(target_id) end
  local status, body, err = post(node, http, "/v3/cluster/member/remove", { ID = etcd_id })
  if status == 200 then return true end
  return false, status and ((body and body.error) or ("HTTP " .. status)) or tostring(err)
end

-- etcd logs to stderr, which the harness already keeps as the node's log.
function adapter.log_files(node)
  return {}
end

-- Pure pieces, exposed for tests/adapters/etcd_test.lua only.
adapter._internal = {
  b64_encode = b64_encode, b64_decode = b64_decode, classify = classify,
  cluster_token = cluster_token, state = state, json = json,
}

return adapter
