-- workloads/plans/bank-disk.lua — the bank workload under disk faults.
--
-- Workload: transfers between accounts by CAS of one object; every read keeps the total, no negative balance.
-- Faults: one node killed and one of its data files truncated or bit-flipped, then restarted; raftnode refuses a corrupt data directory and stays down, which this plan allows (allow_crash), so one fault in a 5-node cluster keeps a majority for the final reads.
-- docs/workloads.md describes the options and what the checker reports.
return {
  name = "bank-disk",
  workload = "bank",
  nemesis = "disk",
  disk_faults = "truncate,bitflip",
  nodes = 5,
  nemesis_interval = 15,
  time_limit = 40, -- one fault: at 15 s (the next would come at 45 s)
  allow_crash = true,
  concurrency = 5,
  rate = 100,
  accounts = 5,
  balance = 100,
}
