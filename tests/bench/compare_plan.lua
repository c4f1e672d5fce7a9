-- tests/bench/compare_plan.lua — the benchmark plan of compare_raftnode_etcd.sh: 3 nodes, no faults, clients as fast as they can go on the kv workload; the script sets db, concurrency and the read/write mix.
return {
  name = "compare",
  nodes = 3,
  workload = "kv",
  concurrency = 1,
  rate = 0,             -- closed loop: each client sends its next op when the last one completed
  time_limit = 10,
  nemesis = "none",
  keys = 16,
  ops_per_key = 100000, -- keys never retire during a run
  read_ratio = 0,
  write_ratio = 1,
  recovery_time = 0,
  check_time_limit = 30,
}
