-- tests/integration/harness_short.lua — a short plan for the harness tests: register workload under kills and pauses.
return {
  name = "harness-short",
  nodes = 3,
  workload = "register",
  concurrency = 6,
  rate = 200,
  time_limit = 6,
  nemesis = "kill,pause",
  nemesis_interval = 1,
  recovery_time = 1,
  start_timeout = 10,
  op_timeout = 1,
  final_time_limit = 3,
}
