-- workloads/plans/counter-clock.lua — the counter workload under clock faults.
--
-- Workload: increments by CAS loops and reads; every read within its bounds, never going back.
-- Faults: the clocks of one node or a minority bumped (0.1 s to 30 s either way) or run fast/slow (x0.5 to x2) for 10 s, then reset.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "counter-clock",
  workload = "counter",
  nemesis = "clock",
  clock_targets = "one,minority",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 5,
  rate = 100,
  max_delta = 5,
}
