-- workloads/plans/etcd_stale.lua — audits etcd 3.4's serializable reads under partitions: members cut off from the leader serve stale values; expected INVALID.
--
-- System: 5 etcd members through harness/adapters/etcd.lua with reads =
-- "serializable" (reads carry "serializable": true and no hasleader header,
-- as etcd's own client sends them: each member answers from its local state). Faults:
-- partitions isolating one node or the leader, every 5 s; clients are spread
-- over all nodes, so those bound to the cut-off member keep reading its old
-- value while the majority commits new writes. The linearizability checker
-- must reject the history and show the stale read in its counterexample.
return {
  name = "etcd_stale",
  db = "etcd",
  reads = "serializable",
  nodes = 5,
  workload = "register",
  concurrency = 10,
  rate = 200,
  time_limit = 30,
  nemesis = "partition",
  nemesis_interval = 5,
  partitions = "one,leader",
  start_timeout = 60,
  -- A write etcd cannot commit is answered only after 5 s + 2 election
  -- timeouts; with a 1 s client timeout a stuck client moves on (info, as a
  -- new process) instead of every client waiting out each partition.
  op_timeout = 1,
  -- Mostly reads, so that a cut-off member's clients read often.
  read_weight = 3,
  write_weight = 1,
  cas_weight = 1,
}
