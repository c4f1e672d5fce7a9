-- workloads/plans/set-kill.lua — the set workload under kill faults.
--
-- Workload: unique elements added to a set, read whole; lost/unexpected/duplicated/stale elements.
-- Faults: SIGKILL of one node or a minority every 10 s, restarted 10 s later.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "set-kill",
  workload = "set",
  nemesis = "kill",
  kill_targets = "one,minority",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 5,
  rate = 100,
  shards = 4,
  linearizable = true, -- raftnode promises linearizable reads: a stale read is an anomaly
}
