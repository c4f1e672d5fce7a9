-- workloads/plans/default.lua — the plan `make run` uses: 5 raftnodes, a register under partitions, kills and pauses for about a minute, checked for linearizability.
return {
  name = "default",
  db = "raftnode",
  nodes = 5,
  workload = "register",
  concurrency = 10,
  rate = 200,
  time_limit = 60,
  nemesis = "partition,kill,pause",
  nemesis_interval = 8,
  -- Clients give up after 2 s (info) instead of waiting out a whole fault
  -- window: the threads bound to a cut-off node keep probing it, which is
  -- what exposes stale reads.
  op_timeout = 2,
  partitions = "one,majority,bridge,ring,leader",
}
