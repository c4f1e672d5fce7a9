-- workloads/plans/counter-kill.lua — the counter workload under kill faults.
--
-- Workload: increments by CAS loops and reads; every read within its bounds.
-- Faults: SIGKILL of one node or a minority every 10 s, restarted 10 s later.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "counter-kill",
  workload = "counter",
  nemesis = "kill",
  kill_targets = "one,minority",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 5,
  rate = 100,
  max_delta = 5,
}
