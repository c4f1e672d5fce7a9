-- workloads/plans/etcd_register.lua — audits etcd 3.4 with linearizable reads: a register under partitions, kills and pauses; expected valid.
--
-- System: 5 etcd members through harness/adapters/etcd.lua (50 ms heartbeat,
-- 500 ms election timeout, pre-vote; see docs/adapters.md). Reads are
-- linearizable (etcd's default, ReadIndex through the leader), so every
-- read, write and CAS must linearize: a verdict other than valid is a finding
-- against etcd or against the adapter's classification.
-- Faults: every 6 s one of partition (one node, majority/minority, bridge,
-- ring, the leader), kill -9 + restart, SIGSTOP/SIGCONT of one or a minority.
return {
  name = "etcd_register",
  db = "etcd",
  nodes = 5,
  workload = "register",
  concurrency = 10,
  rate = 200,
  time_limit = 60,
  nemesis = "partition,kill,pause",
  nemesis_interval = 6,
  partitions = "one,majority,bridge,ring,leader",
  start_timeout = 60,
  -- A write etcd cannot commit is answered only after 5 s + 2 election
  -- timeouts; with a 1 s client timeout a stuck client moves on (info, as a
  -- new process) instead of every client waiting out each partition.
  op_timeout = 1,
}
