-- workloads/plans/bank-member.lua — the bank workload under member faults.
--
-- Workload: transfers between accounts by CAS of one object; every read keeps the total, no negative balance.
-- Faults: a member removed (killed, its data set aside) for 10 s, then started empty and added back.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "bank-member",
  workload = "bank",
  nemesis = "member",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 5,
  rate = 100,
  accounts = 5,
  balance = 100,
}
