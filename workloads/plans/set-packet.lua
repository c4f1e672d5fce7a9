-- workloads/plans/set-packet.lua — the set workload under packet faults.
--
-- Workload: unique elements added to a set, read whole; lost/unexpected/duplicated/stale elements.
-- Faults: the outgoing packets of one node or a minority delayed, lost, duplicated or reordered for 10 s.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "set-packet",
  workload = "set",
  nemesis = "packet",
  packet_targets = "one,minority",
  packet_faults = "delay,loss,duplicate,reorder",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 5,
  rate = 100,
  shards = 4,
  linearizable = true, -- raftnode promises linearizable reads: a stale read is an anomaly
}
