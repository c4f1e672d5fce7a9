-- tests/integration/harness_check_run.lua — checks a run directory: results.json verdict and counts, history.jsonl well-formed with invoke/completion pairs and nemesis start/end events.
-- usage: lua5.4 harness_check_run.lua RUN_DIR EXPECT_VALID MIN_OK KIND,KIND...
package.path = (os.getenv("RAPAT_ROOT") or ".") .. "/?.lua;" .. package.path
local json = require("workloads.lib.json")

local dir, expect, min_ok, kinds = arg[1], arg[2], tonumber(arg[3]) or 1, arg[4] or ""
local function die(fmt, ...) io.stderr:write("check_run: " .. string.format(fmt, ...) .. "\n") os.exit(1) end

local f = io.open(dir .. "/results.json") or die("no results.json in %s", dir)
local res = json.decode(f:read("a")); f:close()
if tostring(res.valid) ~= expect then die("results.json valid = %s, expected %s", tostring(res.valid), expect) end
if res.ops.ok < min_ok then die("only %d ok operations (want >= %d)", res.ops.ok, min_ok) end
for _, k in ipairs({ "plan", "seed", "nodes", "duration_s", "ops", "faults", "checkers", "perf", "availability" }) do
  if res[k] == nil then die("results.json lacks %s", k) end
end
-- The workloads' figures at the top level, and (for the HTML report) still
-- under checkers.stats.
if type(res.perf.all) ~= "table" or res.perf.all.ok ~= res.ops.ok then
  die("results.json perf.all.ok = %s, ops.ok = %d", tostring(res.perf.all and res.perf.all.ok), res.ops.ok)
end
if type(res.availability.overall) ~= "table" or type(res.availability.overall.availability) ~= "number" then
  die("results.json lacks availability.overall.availability")
end
if type(res.checkers.stats) ~= "table" or type(res.checkers.stats.perf) ~= "table" then
  die("results.json lacks checkers.stats.perf (the report reads it)")
end

local open, retired, n, last_time = {}, {}, 0, -1
local starts, ends = {}, {}
for line in io.lines(dir .. "/history.jsonl") do
  local ev = json.decode(line)
  if ev.index ~= n then die("line %d: index %s", n + 1, tostring(ev.index)) end
  if ev.time < last_time then die("line %d: time goes backwards", n + 1) end
  last_time = ev.time
  n = n + 1
  local p = ev.process
  if p == "nemesis" then
    if ev.type ~= "info" then die("line %d: nemesis event of type %s", n, ev.type) end
    local kind = ev.f:match("^(.-)%-start$")
    if kind then starts[kind] = (starts[kind] or 0) + 1 end
    kind = ev.f:match("^(.-)%-end$")
    if kind then ends[kind] = (ends[kind] or 0) + 1 end
  elseif math.type(p) == "integer" then
    if retired[p] then die("line %d: process %d used after it ended info", n, p) end
    if ev.type == "invoke" then
      if open[p] then die("line %d: process %d invokes twice", n, p) end
      open[p] = ev
    else
      local inv = open[p] or die("line %d: completion without invoke (process %d)", n, p)
      if inv.f ~= ev.f then die("line %d: completion f %s for invoke f %s", n, ev.f, inv.f) end
      if ev.type ~= "ok" and ev.type ~= "fail" and ev.type ~= "info" then die("line %d: type %s", n, ev.type) end
      open[p] = nil
      if ev.type == "info" then retired[p] = true end
    end
  else
    die("line %d: process %s", n, tostring(p))
  end
end
for p in pairs(open) do die("process %d has an invoke without completion", p) end
for k in kinds:gmatch("[^,]+") do
  if (starts[k] or 0) == 0 then die("no %s-start event", k) end
  if starts[k] ~= ends[k] then die("%s: %d starts but %d ends", k, starts[k], ends[k] or 0) end
end
print(string.format("check_run: %s ok: %d events, valid=%s, ok ops %d", dir, n, tostring(res.valid), res.ops.ok))
