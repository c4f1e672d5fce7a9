-- workloads/plans/bank-clock.lua — the bank workload under clock faults.
--
-- Workload: transfers between accounts by CAS of one object; every read keeps the total, no negative balance.
-- Faults: the clocks of one node or a minority bumped (0.1 s to 30 s either way) or run fast/slow (x0.5 to x2) for 10 s, then reset.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "bank-clock",
  workload = "bank",
  nemesis = "clock",
  clock_targets = "one,minority",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 5,
  rate = 100,
  accounts = 5,
  balance = 100,
}
