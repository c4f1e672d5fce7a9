-- tests/integration/campaign_shard.lua — five runs for the --shard / --list test (never run).
return {
  name = "shard",
  runs = {
    { name = "a", plan = "tests/integration/harness_short.lua", seeds = { 1, 2, 3 } },
    { name = "b", plan = "tests/integration/harness_short.lua", seeds = { 4, 5 }, expect = "invalid" },
  },
}
