-- workloads/tools/check.lua — re-checks a stored history.jsonl with a workload's Lua checker, the vacuity guards and the statistics.
--
-- Usage (from the repository root, or with LUA_PATH="<root>/?.lua;;"):
--   lua5.4 workloads/tools/check.lua WORKLOAD HISTORY.jsonl [--run-dir DIR] [--faults K,K]
--                                    [--set KEY=VALUE]...
-- WORKLOAD is set, counter or bank (their Lua checkers), or kv and register
-- (linearizability through `bin/rapat check --json`, found in $RAPAT_BIN or
-- the repository's bin/; without it, guards and statistics only). --run-dir scans the
-- node logs of DIR/nodes/*/log (nodes named by --nodes n1,n2,...; default
-- n1..n5). --set passes checker/guard options (numbers and true/false are
-- converted). Prints the analysis as JSON; exits 0 valid, 1 invalid,
-- 2 usage or bad history, 3 unknown (the contract's codes).

local function script_root()
  local src = debug.getinfo(1, "S").source:gsub("^@", "")
  return (src:match("^(.*)/workloads/tools/[^/]+$") or ".")
end
package.path = script_root() .. "/?.lua;" .. package.path

local json = require("workloads.lib.json")
local hist = require("workloads.lib.hist")
local analyze = require("workloads.lib.analyze")

local CHECKERS = {
  set = { check = "workloads.checkers.set", guards = { require_f = { "add" }, final_reads = true } },
  counter = { check = "workloads.checkers.counter", guards = { require_f = { "add" }, final_reads = true } },
  bank = { check = "workloads.checkers.bank", guards = { require_f = { "transfer" }, final_reads = true } },
  kv = { guards = { require_f = { "write" } }, model = "kv" },
  register = { guards = {} , model = "cas-register" },
}

local function usage(msg)
  io.stderr:write("check.lua: " .. msg .. "\n"
    .. "usage: lua5.4 workloads/tools/check.lua set|counter|bank|kv|register HISTORY.jsonl "
    .. "[--run-dir DIR] [--nodes n1,n2] [--faults K,K] [--set KEY=VALUE]...\n")
  os.exit(2)
end

local function convert(v)
  if v == "true" then return true elseif v == "false" then return false end
  return math.tointeger(tonumber(v)) or tonumber(v) or v
end

local name, path = arg[1], arg[2]
if not name or not path then usage("needs a workload and a history") end
local w = CHECKERS[name]
if not w then usage("unknown workload '" .. name .. "'") end
local sets, run_dir, nodes, faults = {}, nil, { "n1", "n2", "n3", "n4", "n5" }, nil
local i = 3
while i <= #arg do
  local a, v = arg[i], arg[i + 1]
  if a == "--run-dir" and v then run_dir = v
  elseif a == "--nodes" and v then nodes = {} for n in v:gmatch("[^,]+") do nodes[#nodes + 1] = n end
  elseif a == "--faults" and v then faults = v
  elseif a == "--set" and v then
    local k, val = v:match("^([%w_]+)=(.*)$")
    if not k then usage("--set needs KEY=VALUE, got '" .. v .. "'") end
    sets[k] = convert(val)
  else usage("unknown or incomplete option '" .. a .. "'") end
  i = i + 2
end

local history, err = hist.load(path)
if not history then usage(err) end

local g = {}
for k, v in pairs(w.guards) do g[k] = v end
for k, v in pairs(sets) do g[k] = v end
g.faults = faults
if run_dir then
  local guards = require("workloads.lib.guards")
  g.logs = guards.node_log_files(run_dir, nodes)
end
local res = analyze.run(history, {
  name = name, check = w.check and require(w.check).check or nil, opts = sets, guards = g,
})
-- Linearizability by the C checker, when the workload has a model.
local function shell_quote(x) return "'" .. tostring(x):gsub("'", "'\\''") .. "'" end
if w.model then
  local rapat = (os.getenv("RAPAT_BIN") or (script_root() .. "/bin")) .. "/rapat"
  local probe = io.open(rapat, "r")
  if probe then
    probe:close()
    local p = io.popen(string.format("%s check %s --model %s --json 2>&1", shell_quote(rapat), shell_quote(path),
                                      w.model))
    local text = p:read("a")
    p:close()
    local ok, lin = pcall(json.decode, text)
    if not ok or type(lin) ~= "table" then
      lin = { valid = "unknown", reason = "rapat check: " .. text:sub(1, 300) }
    end
    res.checkers.linearizable = lin
    res.valid = require("workloads.lib.guards").merge(res.valid, lin.valid)
  else
    res.checkers.linearizable = { valid = "unknown", reason = rapat .. " not found: linearizability not checked" }
    res.valid = require("workloads.lib.guards").merge(res.valid, "unknown")
  end
end
print(json.encode(res))
os.exit(res.valid == true and 0 or res.valid == false and 1 or 3)
