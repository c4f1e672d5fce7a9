-- tests/integration/campaign_bad.lua — a campaign file with a wrong field on line 6 (the test wants exit 2 naming it).
return {
  name = "bad",
  runs = {
    { plan = "tests/integration/harness_short.lua",
      expect = "sometimes" },
  },
}
