-- tests/integration/harness_raft.lua — the CI plan: 5 raftnodes, register workload under partitions and kills for about 12 s.
return {
  name = "harness-raft",
  db = "raftnode",
  nodes = 5,
  workload = "register",
  concurrency = 10,
  rate = 150,
  time_limit = 12,
  nemesis = "partition,kill",
  nemesis_interval = 2,
  recovery_time = 2,
  final_time_limit = 15,
  start_timeout = 20,
  op_timeout = 2,
}
