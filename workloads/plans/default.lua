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
  partitions = "one,majority,bridge,ring,leader",
}
