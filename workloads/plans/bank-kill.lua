-- workloads/plans/bank-kill.lua — the bank workload under kill faults.
--
-- Workload: transfers between accounts by CAS of one object; every read keeps the total, no negative balance.
-- Faults: SIGKILL of one node or a minority every 10 s, restarted 10 s later.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "bank-kill",
  workload = "bank",
  nemesis = "kill",
  kill_targets = "one,minority",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 5,
  rate = 100,
  accounts = 5,
  balance = 100,
}
