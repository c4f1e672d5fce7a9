-- workloads/campaigns/mutants.lua — broken raftnode variants that the harness must catch (each expected "invalid"), plus the correct build under the same faults (expected "valid").
--
-- Each mutant gets the workload and faults that give its bug a real chance:
--   READ_LOCAL           a deposed leader answers reads from local state: isolate the leader
--                        (check_quorum off, so it keeps believing) while the majority writes.
--   READ_NO_TERM_COMMIT  a new leader answers reads before committing an entry of its term:
--                        kill or isolate the leader often, read-heavy.
--   COMMIT_OLD_TERM      Raft figure 8: commit of older-term entries by counting replicas;
--                        needs leader changes while entries are half-replicated.
--   VOTE_ANY_LOG         votes ignore log freshness: a stale node can win and drop committed
--                        entries; cut one node off at a time, pre-vote off (so it returns with
--                        a higher term and real vote requests).
--   SKIP_PREV_CHECK      AppendEntries skips the term check of prevLogIndex: logs diverge
--                        after leader changes.
--   ACK_UNPERSISTED      acknowledges before persisting: kill majorities right after writes.
--                        SIGKILL keeps the page cache, so this needs luck; the disk nemesis
--                        (lose unsynced writes) would expose it once the harness offers it.
-- Mutants are chosen with the raftnode adapter's options: raftnode_mutant for the four it
-- knows, raftnode_binary (an absolute path: nodes run in their data directories) for the rest.
-- How often each is caught in short runs is measured in docs/campaign.md.
local root = os.getenv("RAPAT_ROOT") or os.getenv("PWD") or "."
local plan = "workloads/plans/default.lua"
local seeds = { 1, 2, 3 }

local function mutant(name, set, extra)
  local e = { name = name:lower():gsub("_", "-"), plan = plan, set = set, seeds = seeds,
              expect = "invalid", time_limit = 30 }
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

local function with(base, t)
  local r = {}
  for k, v in pairs(base) do r[k] = v end
  for k, v in pairs(t) do r[k] = v end
  return r
end

-- Common shape: register workload, reads dominant, short fault intervals.
local churn = { workload = "register", rate = 300, concurrency = 10, read_weight = 3,
                nemesis = "partition,kill", partitions = "leader,majority,one",
                kill_targets = "one,minority", nemesis_interval = 3, op_timeout = 2,
                raftnode_election_ms = 300, raftnode_heartbeat_ms = 30 }

return {
  name = "mutants",
  runs = {
    -- control: the correct build under the harshest of the settings below must stay valid
    { name = "control", plan = plan, seeds = { 1 }, time_limit = 30,
      set = with(churn, { check_quorum = false, pre_vote = false }) },

    mutant("READ_LOCAL", with(churn, { raftnode_mutant = "READ_LOCAL", nemesis = "partition",
                                       partitions = "leader", check_quorum = false,
                                       nemesis_interval = 4 })),
    mutant("READ_NO_TERM_COMMIT", with(churn, { raftnode_binary = root .. "/bin/raftnode-READ_NO_TERM_COMMIT",
                                                partitions = "leader", kill_targets = "one" })),
    mutant("COMMIT_OLD_TERM", with(churn, { raftnode_mutant = "COMMIT_OLD_TERM", read_weight = 1 })),
    -- pre-vote shields this bug (0 of 3 caught with it on): a cut-off node must come back
    -- with a higher term and ask for real votes
    mutant("VOTE_ANY_LOG", with(churn, { raftnode_mutant = "VOTE_ANY_LOG", pre_vote = false, nemesis = "partition",
                                         partitions = "one", nemesis_interval = 4, read_weight = 1 })),
    mutant("SKIP_PREV_CHECK", with(churn, { raftnode_binary = root .. "/bin/raftnode-SKIP_PREV_CHECK",
                                            read_weight = 1 })),
    mutant("ACK_UNPERSISTED", with(churn, { raftnode_mutant = "ACK_UNPERSISTED", nemesis = "kill",
                                            kill_targets = "majority,all", read_weight = 1 })),
  },
}
