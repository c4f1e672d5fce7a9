-- tests/integration/campaign_budget.lua — one run that ends unknown where valid is expected (skipped with its reason) and one that the budget leaves out.
return {
  name = "budget",
  runs = {
    { name = "vacuous", plan = "tests/integration/harness_short.lua", db = "tests/integration/harness_fake_adapter.lua",
      set = { nemesis = "kill", time_limit = 2, final_time_limit = 2, min_ok = 1000000 }, seeds = { 3 } },
    { name = "late", plan = "tests/integration/harness_short.lua", db = "tests/integration/harness_fake_adapter.lua",
      set = { nemesis = "kill", time_limit = 2, final_time_limit = 2 }, seeds = { 4 } },
  },
}
