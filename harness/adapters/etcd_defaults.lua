-- harness/adapters/etcd_defaults.lua — the etcd adapter with etcd 3.4's own out-of-the-box Raft settings: 100 ms heartbeat, 1 s election timeout, no pre-vote.
--
-- The same as harness/adapters/etcd.lua otherwise. Without pre-vote a member
-- cut off in a minority keeps campaigning and, once healed, deposes the
-- leader with its higher term (1–4 s without a leader in the research runs):
-- an availability cost, which must never cost safety. Selected with
-- `--db etcd_defaults` (adapter options cannot be given with --set yet).
return require("harness.adapters.etcd").variant("etcd-defaults",
  { etcd_heartbeat_ms = 100, etcd_election_ms = 1000, pre_vote = false })
