-- workloads/plans/kv-kill.lua — the kv workload under kill faults.
--
-- Workload: independent registers (read/write/cas per key); linearizable per key.
-- Faults: SIGKILL of one node or a minority every 10 s, restarted 10 s later.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "kv-kill",
  workload = "kv",
  nemesis = "kill",
  kill_targets = "one,minority",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 10,
  rate = 100,
  keys = 8,
  ops_per_key = 150,
}
