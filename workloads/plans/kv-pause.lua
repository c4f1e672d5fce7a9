-- workloads/plans/kv-pause.lua — the kv workload under pause faults.
--
-- Workload: independent registers (read/write/cas per key); linearizable per key.
-- Faults: SIGSTOP of one node or a minority every 10 s, resumed 10 s later.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "kv-pause",
  workload = "kv",
  nemesis = "pause",
  pause_targets = "one,minority",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 10,
  rate = 100,
  keys = 8,
  ops_per_key = 150,
}
