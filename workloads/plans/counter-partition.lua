-- workloads/plans/counter-partition.lua — the counter workload under partition faults.
--
-- Workload: increments by CAS loops and reads; every read within its bounds.
-- Faults: network partitions (one node, majority/minority, bridge, majorities ring, the leader) every 10 s.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "counter-partition",
  workload = "counter",
  nemesis = "partition",
  partitions = "one,majority,bridge,ring,leader",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 5,
  rate = 100,
  max_delta = 5,
}
