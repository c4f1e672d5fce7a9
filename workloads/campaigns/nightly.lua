-- workloads/campaigns/nightly.lua — the nightly CI matrix: every workload under every single fault kind on raftnode (2 seeds), a mixed-fault run each, and etcd (correct config valid, serializable reads caught).
--
-- Size: 5 workloads x 5 fault settings x 2 seeds = 50 raftnode runs of 45 s plus
-- 5 etcd runs: about 50 minutes on one machine (measured: 46-54 s a run; runs are
-- sequential). Split it
-- over CI machines with --shard I/N; cap a job with --budget S. For example:
--   bin/rapat campaign workloads/campaigns/nightly.lua --shard 1/4 --budget 1200 \
--       --junit junit-1.xml --post "$NIGHTLY_WEBHOOK"
-- Faults: partition (one node, majority/minority, bridge, majorities ring, the
-- leader), kill (SIGKILL of one node or a minority, restarted), pause (SIGSTOP),
-- clock (bumps and rate changes through the clock shim), and all of these mixed.

local workloads = {
  -- workload name, plan (its defaults: concurrency, rate, workload options)
  { "register", "workloads/plans/default.lua" },
  { "kv", "workloads/plans/kv-partition.lua" },
  { "set", "workloads/plans/set-partition.lua" },
  { "counter", "workloads/plans/counter-partition.lua" },
  { "bank", "workloads/plans/bank-partition.lua" },
}

local faults = {
  { "partition", { nemesis = "partition", partitions = "one,majority,bridge,ring,leader" } },
  { "kill", { nemesis = "kill", kill_targets = "one,minority" } },
  { "pause", { nemesis = "pause", pause_targets = "one,minority" } },
  { "clock", { nemesis = "clock", clock_targets = "one,minority" } },
  { "mixed", { nemesis = "partition,kill,pause,clock" } },
}

local runs = {}
for _, w in ipairs(workloads) do
  for _, f in ipairs(faults) do
    local set = { nemesis_interval = 6 }
    for k, v in pairs(f[2]) do set[k] = v end
    runs[#runs + 1] = { name = w[1] .. "-" .. f[1], plan = w[2], set = set, seeds = { 1, 2 },
                        time_limit = 45, timeout = 600 }
  end
end

-- etcd, as shipped (harness/adapters/etcd.lua): linearizable, must stay valid.
runs[#runs + 1] = { name = "etcd-register", plan = "workloads/plans/etcd_register.lua", seeds = { 1, 2 },
                    time_limit = 45, timeout = 900 }
runs[#runs + 1] = { name = "etcd-set", plan = "workloads/plans/etcd_set.lua", seeds = { 1 },
                    time_limit = 45, timeout = 900 }
-- etcd with serializable (local) reads: stale reads under partitions must be caught.
runs[#runs + 1] = { name = "etcd-serializable", plan = "workloads/plans/etcd_stale.lua",
                    set = { reads = "serializable" }, seeds = { 1, 2 }, expect = "invalid",
                    time_limit = 30, timeout = 900 }

return { name = "nightly", runs = runs }
