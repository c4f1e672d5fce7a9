-- workloads/plans/kv-partition.lua — the kv workload under partition faults.
--
-- Workload: independent registers (read/write/cas per key); linearizable per key.
-- Faults: network partitions (one node, majority/minority, bridge, majorities ring, the leader) every 10 s.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "kv-partition",
  workload = "kv",
  nemesis = "partition",
  partitions = "one,majority,bridge,ring,leader",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 10,
  rate = 100,
  keys = 8,
  ops_per_key = 150,
}
