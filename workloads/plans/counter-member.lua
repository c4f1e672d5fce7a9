-- workloads/plans/counter-member.lua — the counter workload under member faults.
--
-- Workload: increments by CAS loops and reads; every read within its bounds, never going back.
-- Faults: a member removed (killed, its data set aside) for 10 s, then started empty and added back.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "counter-member",
  workload = "counter",
  nemesis = "member",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 5,
  rate = 100,
  max_delta = 5,
}
