#!/usr/bin/env lua5.4
-- tests/integration/etcd_adapter_live.lua — drives harness/adapters/etcd.lua against real etcd members without the harness: start argv, ready, invoke, status, add/remove member.
--
-- Run by etcd_adapter_live.sh inside its private namespaces (node namespaces
-- p1..p4 at 10.98.0.1-4, this process on the bridge). The http the adapter
-- gets is a blocking shim over the curl command (one process per request),
-- with the harness's error kinds (connect, timeout, broken, error). Every
-- wait is bounded. Prints each check; exits 1 when any failed.
local root = os.getenv("RAPAT_ROOT") or "."
local work = assert(os.getenv("WORK"), "WORK must name a scratch directory")
package.path = root .. "/?.lua;" .. package.path
local adapter = dofile(root .. "/harness/adapters/etcd.lua")
local json = require("workloads.lib.json")

local bad = 0
local function ok(cond, what, detail)
  print((cond and "ok    " or "FAIL  ") .. what .. (detail and ("  (" .. tostring(detail) .. ")") or ""))
  if not cond then bad = bad + 1 end
  return cond
end

local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local function now() local p = io.popen("date +%s%N"); local t = tonumber(p:read("l")); p:close(); return t / 1e9 end
local function sleep(s) os.execute("sleep " .. s) end

-- http.request with the harness's contract, through curl.
local CURL_KIND = { [7] = "connect", [28] = "timeout", [52] = "broken", [56] = "broken", [55] = "broken" }
local http = {}
function http.request(req)
  local args = { "curl", "-s", "-o", shq(work .. "/resp"), "-w", "'%{http_code}'", "-m", tostring(req.timeout or 5),
                 "-X", req.method or "GET" }
  for k, v in pairs(req.headers or {}) do args[#args + 1] = "-H " .. shq(k .. ": " .. v) end
  if req.body then
    local f = assert(io.open(work .. "/req", "w")); f:write(req.body); f:close()
    args[#args + 1] = "--data-binary @" .. shq(work .. "/req")
  end
  args[#args + 1] = shq(req.url)
  local p = io.popen(table.concat(args, " ") .. "; echo \" $?\"")
  local out = p:read("a"); p:close()
  local code, rc = out:match("^(%d+)%s+(%d+)")
  rc = tonumber(rc)
  if rc ~= 0 then return nil, CURL_KIND[rc] or "error", "curl exit " .. tostring(rc) end
  local f = io.open(work .. "/resp"); local body = f and f:read("a") or ""; if f then f:close() end
  return tonumber(code), body
end

local function node(i)
  return { id = "n" .. i, ip = "10.98.0." .. i, client_port = 2379, peer_port = 2380,
           data_dir = work .. "/n" .. i .. "/data", index = i }
end
local nodes = { node(1), node(2), node(3) }
local cluster = { nodes = nodes, seed = 7, run_dir = work, options = { op_timeout = 8 } }
local pids = {}

local function spawn(n)
  local cmd = adapter.start(n, cluster)
  local argv = {}
  for i, a in ipairs(cmd.argv) do argv[i] = shq(a) end
  os.execute("mkdir -p " .. shq(n.data_dir))
  local sh = string.format("cd %s && ip netns exec p%d %s >%s 2>&1 & echo $!", shq(n.data_dir), n.index,
    table.concat(argv, " "), shq(work .. "/" .. n.id .. ".log"))
  local p = io.popen(sh); pids[n.id] = tonumber(p:read("l")); p:close()
  return cmd
end

local function wait_for(what, limit, fn)
  local t0 = now()
  while now() - t0 < limit do
    local r = fn()
    if r then return r, now() - t0 end
    sleep(0.1)
  end
  return nil, limit
end

-- 1. start: the argv bootstraps a real cluster; ready() turns true.
local cmd = spawn(nodes[1]); spawn(nodes[2]); spawn(nodes[3])
ok(cmd.argv[1] == "/usr/bin/etcd", "start: argv runs /usr/bin/etcd")
for _, n in ipairs(nodes) do
  local r, t = wait_for("ready", 30, function() return adapter.ready(n, http) end)
  ok(r, n.id .. " ready", string.format("%.1f s", t))
end

-- 2. status: one leader, everyone names it by our node id.
local function statuses(list)
  local out = {}
  for _, n in ipairs(list) do out[n.id] = adapter.status(n, http) end
  return out
end
local leader
local agreed = wait_for("leader", 10, function()
  local st = statuses(nodes)
  local l, leaders = nil, 0
  for id, s in pairs(st) do
    if s.role == "leader" then leaders = leaders + 1; l = id end
  end
  if leaders ~= 1 then return nil end
  for _, s in pairs(st) do if s.leader ~= l then return nil end end
  leader = l
  return st
end)
ok(agreed, "status: exactly one leader, named the same (our id) by all", leader)
if agreed then
  ok(agreed[leader].term >= 2, "status: term >= 2", agreed[leader].term)
end

-- 3. invoke through followers and leader.
local function c(n, op) return adapter.invoke(n, http, op) end
local r = c(nodes[2], { f = "read", key = "x" })
ok(r.type == "ok" and json.is_null(r.value), "read of a missing key: ok null", r.type)
ok(c(nodes[1], { f = "write", key = "x", value = { a = 1 } }).type == "ok", "write {a=1}")
r = c(nodes[3], { f = "read", key = "x" })
ok(r.type == "ok" and type(r.value) == "table" and r.value.a == 1, "read via another member: {a=1}", json.encode(r.value))
ok(c(nodes[2], { f = "cas", key = "x", value = { { a = 1 }, 2 } }).type == "ok", "cas {a=1} -> 2")
r = c(nodes[3], { f = "cas", key = "x", value = { { a = 1 }, 3 } })
ok(r.type == "fail" and r.actual == 2, "cas with a stale expectation: fail, actual 2", json.encode(r))
ok(c(nodes[1], { f = "cas", key = "y", value = { json.null, 1 } }).type == "ok", "cas from null creates y")
ok(c(nodes[1], { f = "cas", key = "y", value = { json.null, 5 } }).type == "fail", "cas from null on an existing y: fail")

-- 4. membership: add n4 (retrying etcd's "unhealthy cluster"), start it as a joiner.
local n4 = node(4)
local added, why
local _, t_add = wait_for("add", 30, function()
  added, why = adapter.add_member(nodes[1], http, n4)
  return added or (why ~= "etcdserver: unhealthy cluster" and "stop")
end)
ok(added, "add_member n4", string.format("%s after %.1f s", tostring(why or "ok"), t_add))
local jcmd = spawn(n4)
local joined_state
for i, a in ipairs(jcmd.argv) do if a == "--initial-cluster-state" then joined_state = jcmd.argv[i + 1] end end
ok(joined_state == "existing", "start: a node not in cluster.nodes joins with state existing", joined_state)
local rd, t4 = wait_for("n4 ready", 30, function() return adapter.ready(n4, http) end)
ok(rd, "n4 ready", string.format("%.1f s", t4))
r = c(n4, { f = "read", key = "x" })
ok(r.type == "ok" and r.value == 2, "read via the new member sees x = 2", json.encode(r.value))
local s4 = adapter.status(n4, http)
ok(s4 and s4.leader == leader, "the new member names the leader by our id", s4 and s4.leader)

local removed, rwhy = adapter.remove_member(nodes[1], http, "n4")
ok(removed, "remove_member n4", rwhy)
local gone = wait_for("n4 gone", 10, function()
  local st, body = http.request({ method = "POST", url = "http://10.98.0.1:2379/v3/cluster/member/list", body = "{}" })
  return st == 200 and not body:find('"name":"n4"', 1, true)
end)
ok(gone, "n4 is no longer in the member list")
local again, awhy = adapter.remove_member(nodes[1], http, "n4")
ok(not again and awhy:find("no member named n4", 1, true), "removing it again: refused", awhy)

-- 5. kill the leader: the others elect a new one and say who it is.
if leader then
  os.execute("kill -KILL " .. pids[leader])
  local rest = {}
  for _, n in ipairs(nodes) do if n.id ~= leader then rest[#rest + 1] = n end end
  local newl, tl = wait_for("new leader", 15, function()
    local st = statuses(rest)
    local a, b = st[rest[1].id], st[rest[2].id]
    return a and b and a.leader and a.leader == b.leader and a.leader ~= leader and a.leader
  end)
  ok(newl, "after killing " .. leader .. ", the others agree on a new leader", string.format("%s in %.1f s", tostring(newl), tl))
  local w = adapter.invoke(rest[1], http, { f = "write", key = "x", value = 9 })
  ok(w.type == "ok", "write through a survivor", w.type .. " " .. tostring(w.error))
  local dead = adapter.invoke(node(tonumber(leader:sub(2))), http, { f = "write", key = "x", value = 10 })
  ok(dead.type == "info" and dead.error == "connect", "write to the dead member: info (connect is not proof of not sent)", dead.type)
end

print(string.format("etcd adapter live: %d failed", bad))
os.exit(bad == 0 and 0 or 1)
