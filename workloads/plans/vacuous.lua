-- workloads/plans/vacuous.lua — a run that cannot test anything: every node is cut off from every other for the whole main phase, so it must end "unknown" (exit 3), never valid.
--
-- Why: a harness whose guards let such a run pass would pass a system that
-- never committed a thing (jepsen-io/maelstrom#44). The vacuity guards
-- (workloads/lib/guards.lua) must see that almost nothing succeeded and that
-- no add did, and say unknown.
--
-- The harness's partition package has no "every node alone" topology, and
-- its schedule waits nemesis_interval before the first fault. This plan runs
-- inside the harness's Lua VM before the nemesis is built, so it adds both
-- for its own run: a topology "isolated" (only if the harness has none of
-- that name) and a schedule that puts each requested fault in force at once
-- and holds it until the final heal. (Asked of the harness as proper
-- features; see docs/workloads.md.) Outside the harness (plain lua5.4, as in
-- tests/workloads/test_plans.lua) the plan is just its table.
local ok_nem, nemesis = pcall(require, "nemesis")
local ok_gen, gen = pcall(require, "gen")
if ok_nem and ok_gen and type(nemesis) == "table" and type(nemesis.topologies) == "table" then
  if not nemesis.topologies.isolated then
    nemesis.topologies.isolated = function(all)
      local components = {}
      for i, id in ipairs(all) do components[i] = { id } end
      return nemesis.complete_grudge(components)
    end
  end
  nemesis.schedule = function(pkgs)
    local starts = {}
    for i, p in ipairs(pkgs) do starts[i] = { f = p.kind .. "-start", package = p } end
    return gen.seq(starts)
  end
end

return {
  name = "vacuous",
  workload = "set",
  nemesis = "partition",
  partitions = "isolated",
  nodes = 3,
  time_limit = 6,
  concurrency = 3,
  rate = 50,
  recovery_time = 1,
  final_time_limit = 5,
}
