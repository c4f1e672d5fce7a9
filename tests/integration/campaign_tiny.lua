-- tests/integration/campaign_tiny.lua — two short runs against the fake v1 server: one expected valid, one deliberately expected invalid (so it fails).
return {
  name = "tiny",
  runs = {
    { name = "good", plan = "tests/integration/harness_short.lua", db = "tests/integration/harness_fake_adapter.lua",
      set = { nemesis = "kill", time_limit = 2, final_time_limit = 2 }, seeds = { 7 } },
    { name = "wrong", plan = "tests/integration/harness_short.lua", db = "tests/integration/harness_fake_adapter.lua",
      set = { nemesis = "pause", time_limit = 2, final_time_limit = 2 }, seeds = { 8 }, expect = "invalid" },
  },
}
