-- workloads/plans/counter-disk.lua — the counter workload under disk faults.
--
-- Workload: increments by CAS loops and reads; every read within its bounds, never going back.
-- Faults: one node killed and one of its data files truncated or bit-flipped, then restarted; raftnode refuses a corrupt data directory and stays down, which this plan allows (allow_crash), so one fault in a 5-node cluster keeps a majority for the final reads.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "counter-disk",
  workload = "counter",
  nemesis = "disk",
  disk_faults = "truncate,bitflip",
  nodes = 5,
  nemesis_interval = 15,
  time_limit = 40, -- one fault: at 15 s (the next would come at 45 s)
  allow_crash = true,
  concurrency = 5,
  rate = 100,
  max_delta = 5,
}
