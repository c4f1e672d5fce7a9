-- tests/integration/harness_lazyfs.lua — 3 raftnodes on rapat-lazyfs, set workload, the lose-unsynced disk fault (crash every node at once, dropping what each did not fsync) every 2 s for 8 s.
return {
  name = "harness-lazyfs",
  db = "raftnode",
  nodes = 3,
  workload = "set",
  linearizable = true,
  concurrency = 6,
  rate = 100,
  time_limit = 8,
  nemesis = "disk",
  disk_faults = "lose-unsynced",
  disk_targets = "all",
  nemesis_interval = 2,
  recovery_time = 2,
  final_time_limit = 10,
  start_timeout = 20,
  op_timeout = 2,
}
