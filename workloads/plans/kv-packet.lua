-- workloads/plans/kv-packet.lua — the kv workload under packet faults.
--
-- Workload: independent registers (read/write/cas per key); linearizable per key.
-- Faults: the outgoing packets of one node or a minority delayed, lost, duplicated or reordered for 10 s.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "kv-packet",
  workload = "kv",
  nemesis = "packet",
  packet_targets = "one,minority",
  packet_faults = "delay,loss,duplicate,reorder",
  nemesis_interval = 10,
  time_limit = 60,
  concurrency = 10,
  rate = 100,
  keys = 8,
  ops_per_key = 150,
}
