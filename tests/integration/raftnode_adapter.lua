-- tests/integration/raftnode_adapter.lua — drives harness/adapters/raftnode.lua against real raftnode processes on loopback: start argv, ready, status, add_member (a joining node), remove_member.
-- Run by raftnode_adapter.sh (which owns the processes' cleanup).
local root, work, base, binroot = arg[1], arg[2], tonumber(arg[3]), arg[4]
package.path = root .. "/?.lua;" .. package.path
local json = require("workloads.lib.json")
local a = dofile(root .. "/harness/adapters/raftnode.lua")

local function fail(fmt, ...)
  io.stderr:write("FAIL: " .. string.format(fmt, ...) .. "\n")
  os.exit(1)
end
local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local function sleep(s) os.execute("sleep " .. s) end

-- The adapter's http contract, over curl: status, body or nil, kind.
local http = {}
function http.request(req)
  local args = { "curl", "-s", "-o", q(work .. "/body"), "-w", "'%{http_code}'", "--max-time",
                 tostring(req.timeout or 10), "-X", req.method or "GET" }
  for k, v in pairs(req.headers or {}) do args[#args + 1] = "-H " .. q(k .. ": " .. v) end
  if req.body then args[#args + 1] = "--data-binary " .. q(req.body) end
  args[#args + 1] = q(req.url)
  local p = io.popen(table.concat(args, " "))
  local code = tonumber(p:read("a"))
  p:close()
  if not code or code == 0 then return nil, "connect" end
  local f = io.open(work .. "/body")
  local body = f and f:read("a") or ""
  if f then f:close() end
  return code, body
end

local nodes = {}
for i = 1, 4 do
  nodes[i] = { id = "n" .. i, ip = "127.0.0.1", peer_port = base + i, client_port = base + 50 + i,
               data_dir = work .. "/d" .. i }
end
local initial = { nodes[1], nodes[2], nodes[3] }
local cluster = { nodes = initial, root = binroot, seed = 1,
                  options = { raftnode_election_ms = "300", raftnode_heartbeat_ms = "50", snapshot_threshold = 10 } }

local function spawn(node)
  local cmd = a.start(node, cluster)
  local parts = {}
  for i, w in ipairs(cmd.argv) do parts[i] = q(w) end
  os.execute(table.concat(parts, " ") .. " >>" .. q(work .. "/" .. node.id .. ".log") .. " 2>&1 & echo $! >>"
             .. q(work .. "/pids"))
  return cmd.argv
end

local function wait(what, f)
  for _ = 1, 300 do
    local r = f()
    if r then return r end
    sleep(0.1)
  end
  fail("timed out waiting for %s", what)
end

for _, n in ipairs(initial) do
  local argv = spawn(n)
  if argv[#argv - 1] ~= "--peers" then fail("initial member %s started without --peers", n.id) end
end
for _, n in ipairs(initial) do wait(n.id .. " ready", function() return a.ready(n, http) end) end
local leader = wait("one leader", function()
  local l
  for _, n in ipairs(initial) do
    local st = a.status(n, http)
    if not st or not st.leader or (l and st.leader ~= l) then return nil end
    l = st.leader
  end
  return l
end)
print("3 members ready, leader " .. leader)

-- Some writes so the joiner needs the log (and a snapshot at threshold 10).
for i = 1, 30 do
  local code = http.request({ method = "PUT", url = a.client_url(initial[i % 3 + 1]) .. "/v1/kv/a" .. i,
                              body = json.encode({ value = i }) })
  if code ~= 200 then fail("put a%d: %s", i, tostring(code)) end
end

nodes[4].joining = true
local argv = spawn(nodes[4])
if argv[#argv] ~= "--join" then fail("a joining node must start with --join, got %s", argv[#argv]) end
wait("n4 serving", function() return a.ready(nodes[4], http) end)
local ok, why = a.add_member(initial[2], http, nodes[4])
if not ok then fail("add_member n4: %s", why) end
local st = a.status(nodes[4], http)
if not st or st.role ~= "follower" then fail("n4 after add: %s", st and st.role or "unreachable") end
local voter = false
for _, m in ipairs(st.members or {}) do voter = voter or (m.id == "n4" and m.role == "voter") end
if not voter then fail("n4 is not a voter in its own status") end
wait("n4 applied the writes", function()
  local s = a.status(nodes[4], http)
  return s and s.applied_index and s.applied_index >= 30
end)
print("n4 joined as a voter and caught up")

ok, why = a.remove_member(initial[1], http, "n4")
if not ok then fail("remove_member n4: %s", why) end
st = a.status(initial[1], http)
for _, m in ipairs(st.members or {}) do if m.id == "n4" then fail("n4 still listed after removal") end end
print("n4 removed")
print("PASS")
