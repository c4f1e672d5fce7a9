-- workloads/plans/set-clock.lua — the set workload under clock faults.
--
-- Workload: unique elements added to a set, read whole; lost/unexpected/duplicated/stale elements.
-- Faults: the clocks of one node or a minority bumped (0.1 s to 30 s either way) or run fast/slow (x0.5 to x2) for 10 s, then reset.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "set-clock",
  workload = "set",
  nemesis = "clock",
  clock_targets = "one,minority",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 5,
  rate = 100,
  shards = 4,
  linearizable = true, -- raftnode promises linearizable reads: a stale read is an anomaly
}
