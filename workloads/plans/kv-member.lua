-- workloads/plans/kv-member.lua — the kv workload under member faults.
--
-- Workload: independent registers (read/write/cas per key); linearizable per key.
-- Faults: a member removed (killed, its data set aside) for 10 s, then started empty and added back.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "kv-member",
  workload = "kv",
  nemesis = "member",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 10,
  rate = 100,
  keys = 8,
  ops_per_key = 150,
}
