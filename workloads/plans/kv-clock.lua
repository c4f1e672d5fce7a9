-- workloads/plans/kv-clock.lua — the kv workload under clock faults.
--
-- Workload: independent registers (read/write/cas per key); linearizable per key.
-- Faults: the clocks of one node or a minority bumped (0.1 s to 30 s either way) or run fast/slow (x0.5 to x2) for 10 s, then reset.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "kv-clock",
  workload = "kv",
  nemesis = "clock",
  clock_targets = "one,minority",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 10,
  rate = 100,
  keys = 8,
  ops_per_key = 150,
}
