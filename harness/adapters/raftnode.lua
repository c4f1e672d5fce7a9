-- harness/adapters/raftnode.lua — runs rapat's own Raft KV server (bin/raftnode), which speaks node protocol v1 natively.
--
-- The harness talks to the nodes directly (protocol = "v1"); this adapter
-- only says how to start a member, where its client API is, and how to ask
-- for status and membership changes.
--
-- Plan / --set options read from cluster.options (strings or Lua values):
--   raftnode_election_ms    --election-timeout (default 500)
--   raftnode_heartbeat_ms   --heartbeat (default 50)
--   snapshot_threshold      --snapshot-threshold (default 1000: runs exercise
--                           snapshots and InstallSnapshot)
--   fsync                   "always" (default) or "never" (experiments only)
--   pre_vote, check_quorum  true (default) or false
--   raftnode_mutant         run a deliberately broken build: bin/raftnode-<MUTANT>,
--                           one per RAFT_MUTANT_* of raftnode/raft.h (e.g.
--                           READ_LOCAL); "none" (default) runs bin/raftnode
--   raftnode_binary         path of the binary (default "": <root>/bin/raftnode)
--   raftnode_request_timeout_ms  --request-timeout (default 4000: the server
--                           answers 504 before the harness's op_timeout of 5 s)
-- The defaults are declared in adapter.options, so plans and --set accept
-- these keys.
--
-- Membership: a node added during a run is started FIRST (start() gives it
-- --join when it is not among the initial members, or node.joining is true),
-- THEN add_member asks a member to add it: POST /v1/members answers 200 only
-- once the new node has caught up and is a voter, which needs it running.

local ADAPTER = "harness/adapters/raftnode.lua"

local function load_json()
  local ok, mod = pcall(require, "workloads.lib.json")
  if ok then return mod end
  local src = debug.getinfo(1, "S").source
  local dir = src:sub(1, 1) == "@" and src:sub(2):match("^(.*)/[^/]*$") or "."
  local chunk, err = loadfile(dir .. "/../../workloads/lib/json.lua")
  if not chunk then error(ADAPTER .. ": cannot load workloads/lib/json.lua: " .. err, 0) end
  return chunk()
end
local json = load_json()

local function opt(cluster, name)
  local o = cluster and cluster.options
  if o == nil then return nil end
  return o[name]
end

local function opt_int(cluster, name, default, min)
  local v = opt(cluster, name)
  if v == nil then return default end
  local n = math.tointeger(tonumber(v))
  if not n or n < min then
    error(string.format("%s: cluster.options.%s must be an integer >= %d, got %q", ADAPTER, name, min, tostring(v)), 0)
  end
  return n
end

local function opt_bool(cluster, name, default)
  local v = opt(cluster, name)
  if v == nil then return default end
  if v == true or v == "true" or v == "1" or v == 1 or v == "on" or v == "yes" then return true end
  if v == false or v == "false" or v == "0" or v == 0 or v == "off" or v == "no" then return false end
  error(string.format("%s: cluster.options.%s must be true or false, got %q", ADAPTER, name, tostring(v)), 0)
end

local function check_node(node, fn, fields)
  if type(node) ~= "table" and type(node) ~= "userdata" then
    error(ADAPTER .. ": " .. fn .. ": node must be a node object, got " .. type(node), 0)
  end
  for _, f in ipairs(fields or { "id", "ip", "client_port" }) do
    if node[f] == nil then error(string.format("%s: %s: node.%s is missing", ADAPTER, fn, f), 0) end
  end
end

local function client_addr(node) return node.ip .. ":" .. node.client_port end
local function peer_addr(node) return node.ip .. ":" .. node.peer_port end
local function client_url(node) return "http://" .. client_addr(node) end

local function binary(cluster)
  local b = opt(cluster, "raftnode_binary")
  if b ~= nil and b ~= "" then return tostring(b) end
  local root = (cluster and cluster.root) or "."
  local m = opt(cluster, "raftnode_mutant")
  if m ~= nil and m ~= "" and m ~= "none" then
    m = tostring(m):upper()
    local path = root .. "/bin/raftnode-" .. m
    local f = m:match("^[A-Z0-9_]+$") and io.open(path, "r")
    if not f then
      error(string.format("%s: cluster.options.raftnode_mutant %q: no mutant binary %s (make builds one per "
        .. "RAFT_MUTANT_* in raftnode/raft.h)", ADAPTER, m, path), 0)
    end
    f:close()
    return path
  end
  return root .. "/bin/raftnode"
end

local function get_json(http, url, timeout)
  local status, body = http.request({ method = "GET", url = url, timeout = timeout or 2 })
  if status == nil then return nil, nil, body end
  local ok, decoded = pcall(json.decode, body or "")
  return status, ok and decoded or nil
end

local adapter = {
  name = "raftnode",
  protocol = "v1",
  options = {
    raftnode_election_ms = 500,
    raftnode_heartbeat_ms = 50,
    raftnode_request_timeout_ms = 4000,
    snapshot_threshold = 1000,
    fsync = "always",
    pre_vote = true,
    check_quorum = true,
    raftnode_mutant = "none",
    raftnode_binary = "",
  },
}

-- argv for one member: its own addresses, its data directory, and every
-- initial member (id=peer/client) so a fresh data directory bootstraps the
-- same configuration everywhere. A member that is not among cluster.nodes
-- (or is marked joining) starts empty with --join and waits to be added.
function adapter.start(node, cluster)
  check_node(node, "start", { "id", "ip", "client_port", "peer_port" })
  if type(cluster) ~= "table" or type(cluster.nodes) ~= "table" then
    error(ADAPTER .. ": start: cluster.nodes must be a list of nodes", 0)
  end
  local election = opt_int(cluster, "raftnode_election_ms", 500, 10)
  local heartbeat = opt_int(cluster, "raftnode_heartbeat_ms", 50, 1)
  if heartbeat * 2 > election then
    error(string.format("%s: cluster.options.raftnode_heartbeat_ms (%d) must be at most half of raftnode_election_ms (%d)",
      ADAPTER, heartbeat, election), 0)
  end
  local fsync = tostring(opt(cluster, "fsync") or "always")
  if fsync ~= "always" and fsync ~= "never" then
    error(string.format("%s: cluster.options.fsync must be \"always\" or \"never\", got %q", ADAPTER, fsync), 0)
  end
  local peers, member = {}, false
  for _, n in ipairs(cluster.nodes) do
    check_node(n, "start (cluster.nodes)", { "id", "ip", "client_port", "peer_port" })
    if not n.joining then
      peers[#peers + 1] = string.format("%s=%s/%s", n.id, peer_addr(n), client_addr(n))
      member = member or n.id == node.id
    end
  end
  local argv = {
    binary(cluster),
    "--id", node.id,
    "--listen-peer", peer_addr(node),
    "--listen-client", client_addr(node),
    "--data-dir", node.data_dir or "data",
    "--election-timeout", tostring(election),
    "--heartbeat", tostring(heartbeat),
    "--snapshot-threshold", tostring(opt_int(cluster, "snapshot_threshold", 1000, 1)),
    "--request-timeout", tostring(opt_int(cluster, "raftnode_request_timeout_ms", 4000, 10)),
    "--fsync", fsync,
    "--pre-vote", opt_bool(cluster, "pre_vote", true) and "on" or "off",
    "--check-quorum", opt_bool(cluster, "check_quorum", true) and "on" or "off",
  }
  if node.joining == true or not member then
    argv[#argv + 1] = "--join"
  else
    argv[#argv + 1] = "--peers"
    argv[#argv + 1] = table.concat(peers, ",")
  end
  return { argv = argv, env = {} }
end

function adapter.client_url(node)
  return client_url(node)
end

-- Ready once the node serves /v1/status and knows a leader (a joining node:
-- once it serves /v1/status).
function adapter.ready(node, http)
  check_node(node, "ready")
  local status, body = get_json(http, client_url(node) .. "/v1/status", 2)
  if status ~= 200 or type(body) ~= "table" then return false end
  if node.joining then return true end
  return body.leader ~= nil and not json.is_null(body.leader)
end

-- {role, term, leader, commit_index, applied_index, members} from
-- /v1/status; leader is a node id or nil. nil, reason when unreachable.
function adapter.status(node, http)
  check_node(node, "status")
  local status, body, err = get_json(http, client_url(node) .. "/v1/status", 2)
  if status ~= 200 or type(body) ~= "table" then
    return nil, status and ("HTTP " .. status) or tostring(err)
  end
  local leader = body.leader
  if leader ~= nil and json.is_null(leader) then leader = nil end
  return {
    role = body.role,
    term = math.tointeger(body.term) or 0,
    leader = leader,
    commit_index = math.tointeger(body.commit_index),
    applied_index = math.tointeger(body.applied_index),
    members = body.members,
  }
end

-- Asks `node` (any member: followers forward to the leader) to add
-- new_node. The new node must already be running with --join (see start).
-- Returns true once it is a voter; false, reason otherwise (409: another
-- change is in flight — retry later).
function adapter.add_member(node, http, new_node)
  check_node(node, "add_member")
  check_node(new_node, "add_member", { "id", "ip", "client_port", "peer_port" })
  local status, body = http.request({
    method = "POST",
    url = client_url(node) .. "/v1/members",
    body = json.encode({ id = new_node.id, peer_url = "http://" .. peer_addr(new_node),
                         client_url = client_url(new_node) }),
    headers = { ["Content-Type"] = "application/json" },
    timeout = 90, -- catching up may take a snapshot transfer; the server gives up at 60 s
  })
  if status == 200 then return true end
  if status == nil then return false, tostring(body) end
  local ok, decoded = pcall(json.decode, body or "")
  return false, string.format("HTTP %d %s", status, ok and type(decoded) == "table" and tostring(decoded.error) or "")
end

-- Asks `node` to remove the member target (a node id, or a node).
function adapter.remove_member(node, http, target)
  check_node(node, "remove_member")
  if type(target) == "table" or type(target) == "userdata" then target = target.id end
  if type(target) ~= "string" then error(ADAPTER .. ": remove_member: target must be a node id", 0) end
  local status, body = http.request({ method = "DELETE", url = client_url(node) .. "/v1/members/" .. target,
                                      timeout = 30 })
  if status == 200 then return true end
  if status == nil then return false, tostring(body) end
  return false, "HTTP " .. status .. " " .. tostring(body)
end

-- The WAL and snapshots stay in the data directory, which the run keeps.
function adapter.log_files(node)
  return {}
end

return adapter
