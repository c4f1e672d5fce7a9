-- workloads/plans/set-member.lua — the set workload under member faults.
--
-- Workload: unique elements added to a set, read whole; lost/unexpected/duplicated/stale elements.
-- Faults: a member removed (killed, its data set aside) for 10 s, then started empty and added back.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "set-member",
  workload = "set",
  nemesis = "member",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 5,
  rate = 100,
  shards = 4,
  linearizable = true, -- raftnode promises linearizable reads: a stale read is an anomaly
}
