-- workloads/plans/vacuous.lua — a run that cannot test anything: every node is cut off from every other for the whole main phase, so it must end "unknown" (exit 3), never valid.
--
-- Why: a harness whose guards let such a run pass would pass a system that
-- never committed a thing (jepsen-io/maelstrom#44). The vacuity guards
-- (workloads/lib/guards.lua) must see that almost nothing succeeded and that
-- no add did, and say unknown.
--
-- partitions = "isolated" makes every node a component of its own, and
-- nemesis_schedule = "hold" puts that partition in force at the start of
-- the main phase and keeps it until the final heal (docs/plans.md).
return {
  name = "vacuous",
  workload = "set",
  nemesis = "partition",
  partitions = "isolated",
  nemesis_schedule = "hold",
  nodes = 3,
  time_limit = 6,
  concurrency = 3,
  rate = 50,
  recovery_time = 1,
  final_time_limit = 5,
}
