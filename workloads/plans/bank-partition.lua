-- workloads/plans/bank-partition.lua — the bank workload under partition faults.
--
-- Workload: transfers between accounts by CAS of one object; every read keeps the total, no negative balance.
-- Faults: network partitions (one node, majority/minority, bridge, majorities ring, the leader) every 10 s.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "bank-partition",
  workload = "bank",
  nemesis = "partition",
  partitions = "one,majority,bridge,ring,leader",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 5,
  rate = 100,
  accounts = 5,
  balance = 100,
}
