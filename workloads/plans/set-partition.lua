-- workloads/plans/set-partition.lua — the set workload under partition faults.
--
-- Workload: unique elements added to a set, read whole; lost/unexpected/duplicated/stale elements.
-- Faults: network partitions (one node, majority/minority, bridge, majorities ring, the leader) every 10 s.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "set-partition",
  workload = "set",
  nemesis = "partition",
  partitions = "one,majority,bridge,ring,leader",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 5,
  rate = 100,
  shards = 4,
  linearizable = true, -- raftnode promises linearizable reads: a stale read is an anomaly
}
