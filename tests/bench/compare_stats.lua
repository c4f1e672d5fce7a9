#!/usr/bin/env lua5.4
-- tests/bench/compare_stats.lua — throughput and latency percentiles of one run's main phase, from its history.jsonl, for compare_raftnode_etcd.sh.
--
-- Usage: compare_stats.lua RUN_DIR SECONDS
-- The main phase starts at the "nodes-ready" event and lasts SECONDS (the
-- plan's time_limit). Counts client operations invoked in that window;
-- throughput = ok completions / SECONDS; latency = invoke to ok completion.
-- Prints one line: "ok=N fail=N info=N ops_s=X p50_ms=X p99_ms=X".
local root = os.getenv("RAPAT_ROOT") or "."
package.path = root .. "/?.lua;" .. package.path
local json = require("workloads.lib.json")

local dir, secs = arg[1], tonumber(arg[2])
if not dir or not secs then io.stderr:write("usage: compare_stats.lua RUN_DIR SECONDS\n"); os.exit(2) end
local fh = io.open(dir .. "/history.jsonl") or error("no history.jsonl in " .. dir)
local t0, t_end
local open, lat = {}, {}
local n = { ok = 0, fail = 0, info = 0 }
for line in fh:lines() do
  local ev = json.decode(line)
  if ev.process == "nemesis" then
    if ev.f == "nodes-ready" and not t0 then t0 = ev.time; t_end = t0 + secs * 1e9 end
  elseif t0 then
    if ev.type == "invoke" then
      if ev.time <= t_end then open[ev.process] = ev.time end
    elseif open[ev.process] then
      n[ev.type] = n[ev.type] + 1
      if ev.type == "ok" then lat[#lat + 1] = (ev.time - open[ev.process]) / 1e6 end
      open[ev.process] = nil
    end
  end
end
fh:close()
table.sort(lat)
local function pct(p)
  if #lat == 0 then return 0 end
  return lat[math.max(1, math.ceil(#lat * p))]
end
print(string.format("ok=%d fail=%d info=%d ops_s=%.0f p50_ms=%.2f p99_ms=%.2f",
  n.ok, n.fail, n.info, n.ok / secs, pct(0.50), pct(0.99)))
