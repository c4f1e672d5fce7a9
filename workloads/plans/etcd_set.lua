-- workloads/plans/etcd_set.lua — audits etcd 3.4 with the set workload (CAS-updated shards) under partitions, kills and pauses; expected valid.
--
-- System: 5 etcd members through harness/adapters/etcd.lua, linearizable
-- reads. Every acknowledged add must be in every read that begins after it,
-- and in the final reads; nothing unacknowledged may appear from nowhere.
return {
  name = "etcd_set",
  db = "etcd",
  nodes = 5,
  workload = "set",
  concurrency = 8,
  rate = 100,
  time_limit = 60,
  nemesis = "partition,kill,pause",
  nemesis_interval = 6,
  partitions = "one,majority,bridge,ring,leader",
  start_timeout = 60,
  -- A write etcd cannot commit is answered only after 5 s + 2 election
  -- timeouts; with a 1 s client timeout a stuck client moves on (info, as a
  -- new process) instead of every client waiting out each partition.
  op_timeout = 1,
  shards = 4,
}
