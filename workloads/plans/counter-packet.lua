-- workloads/plans/counter-packet.lua — the counter workload under packet faults.
--
-- Workload: increments by CAS loops and reads; every read within its bounds, never going back.
-- Faults: the outgoing packets of one node or a minority delayed, lost, duplicated or reordered for 10 s.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "counter-packet",
  workload = "counter",
  nemesis = "packet",
  packet_targets = "one,minority",
  packet_faults = "delay,loss,duplicate,reorder",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 5,
  rate = 100,
  max_delta = 5,
}
