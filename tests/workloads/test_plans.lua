-- tests/workloads/test_plans.lua — the example plans under workloads/plans/ that name our workloads: each loads, names a known workload and fault kind, and uses only known keys.
local T = require("tests.workloads.testlib")

local WORKLOADS = { set = true, counter = true, bank = true, kv = true }
local KINDS = { partition = true, kill = true, pause = true, clock = true, disk = true, packet = true, member = true }

-- The core plan keys, read from the harness's plan loader when it is there
-- (harness/lua/plan.lua, M.CORE), so this test follows the harness.
local function core_keys()
  local fh = io.open("harness/lua/plan.lua", "r")
  if not fh then return nil end
  local src = fh:read("a")
  fh:close()
  local body = src:match("M%.CORE%s*=%s*(%b{})")
  if not body then return nil end
  local keys = {}
  for k in body:gmatch("\n%s*([%w_]+)%s*=%s*{") do keys[k] = true end
  return keys
end

local function plan_files()
  local out = {}
  local p = io.popen("ls workloads/plans/*.lua")
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  return out
end

local core = core_keys()
local covered = {}
for _, path in ipairs(plan_files()) do
  local chunk = assert(loadfile(path, "t"))
  local ok, plan = pcall(chunk)
  if ok and type(plan) == "table" and WORKLOADS[plan.workload] then
    T.case(path, function()
      local fh = assert(io.open(path))
      local first = fh:read("l")
      fh:close()
      T.truthy(first:match("^%-%- workloads/plans/"), "a one-line purpose comment at the top")
      local w = require("workloads." .. plan.workload)
      for k, v in pairs(plan) do
        local known = w.options[k] ~= nil or (core and core[k])
        if core then T.truthy(known, "plan key '" .. k .. "' is neither a core nor a " .. plan.workload .. " option") end
        if w.options[k] ~= nil then
          T.eq(type(v), type(w.options[k]), "type of " .. k)
        end
      end
      w.configure(plan) -- raises on a bad workload option
      for kind in tostring(plan.nemesis):gmatch("[^,%s]+") do
        T.truthy(KINDS[kind] or kind == "none", "fault kind " .. kind)
        covered[plan.workload .. "-" .. kind] = true
      end
    end)
  end
end

T.case("every workload × every fault kind has a plan", function()
  for w in pairs(WORKLOADS) do
    for _, kind in ipairs({ "partition", "kill", "pause", "clock", "disk", "packet", "member" }) do
      T.truthy(covered[w .. "-" .. kind], "plan for " .. w .. " under " .. kind)
    end
  end
end)

T.done()
