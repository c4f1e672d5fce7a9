-- workloads/plans/counter-pause.lua — the counter workload under pause faults.
--
-- Workload: increments by CAS loops and reads; every read within its bounds.
-- Faults: SIGSTOP of one node or a minority every 10 s, resumed 10 s later.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "counter-pause",
  workload = "counter",
  nemesis = "pause",
  pause_targets = "one,minority",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 5,
  rate = 100,
  max_delta = 5,
}
