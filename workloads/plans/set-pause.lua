-- workloads/plans/set-pause.lua — the set workload under pause faults.
--
-- Workload: unique elements added to a set, read whole; lost/unexpected/duplicated/stale elements.
-- Faults: SIGSTOP of one node or a minority every 10 s, resumed 10 s later.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "set-pause",
  workload = "set",
  nemesis = "pause",
  pause_targets = "one,minority",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 5,
  rate = 100,
  shards = 4,
  linearizable = true, -- raftnode promises linearizable reads: a stale read is an anomaly
}
