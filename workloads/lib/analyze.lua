-- workloads/lib/analyze.lua — one call that runs a workload's checker, the vacuity guards and the statistics over a history.
--
-- analyze.run(history, spec) -> {
--   valid        = true | false | "unknown"  (false beats unknown beats true)
--   checkers     = { [spec.name] = checker result, vacuity = guards result }
--   perf         = stats.perf            (for results.json "perf")
--   availability = stats.availability    (for results.json "availability")
-- }
-- spec.name      the checker's name in results (e.g. "set")
-- spec.check     function(history, opts) -> result with .valid; optional (the
--                register and kv workloads are checked by the C checker)
-- spec.opts      options for spec.check
-- spec.guards    options for guards.check (faults, final_reads, require_f, logs...)
-- A checker that raises is reported as {valid="unknown", error=message}:
-- a crash of the analysis must never read as a pass (maelstrom#92).

local guards = require("workloads.lib.guards")
local stats = require("workloads.lib.stats")

local M = {}

function M.run(history, spec)
  spec = spec or {}
  local out = { checkers = {} }
  local verdicts = {}
  if spec.check then
    local ok, res = pcall(spec.check, history, spec.opts or {})
    if not ok then res = { valid = "unknown", error = tostring(res) } end
    out.checkers[spec.name or "workload"] = res
    verdicts[#verdicts + 1] = res.valid
  end
  local g = guards.check(history, spec.guards or {})
  out.checkers.vacuity = g
  verdicts[#verdicts + 1] = g.valid
  -- One sentence per checker that is not valid, for the run's summary
  -- (the harness prints `reason`).
  for _, r in pairs(out.checkers) do
    if r.valid ~= true and r.reason == nil then
      local list = (r.reasons and #r.reasons > 0 and r.reasons) or r.explanations
      if list and #list > 0 then r.reason = table.concat(list, "; ", 1, math.min(#list, 3)) end
    end
  end
  local s = stats.compute(history)
  out.perf, out.availability = s.perf, s.availability
  out.valid = guards.merge(table.unpack(verdicts))
  return out
end

return M
