-- workloads/plans/bank-packet.lua — the bank workload under packet faults.
--
-- Workload: transfers between accounts by CAS of one object; every read keeps the total, no negative balance.
-- Faults: the outgoing packets of one node or a minority delayed, lost, duplicated or reordered for 10 s.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "bank-packet",
  workload = "bank",
  nemesis = "packet",
  packet_targets = "one,minority",
  packet_faults = "delay,loss,duplicate,reorder",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 5,
  rate = 100,
  accounts = 5,
  balance = 100,
}
