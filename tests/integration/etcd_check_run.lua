#!/usr/bin/env lua5.4
-- tests/integration/etcd_check_run.lua — checks an etcd audit's run directory: verdict, ok counts, faults, and that an invalid verdict shows a stale read.
--
-- Usage: etcd_check_run.lua RUN_DIR valid MIN_OK KINDS   (KINDS: comma list of fault kinds that must have started)
--        etcd_check_run.lua RUN_DIR stale
--        etcd_check_run.lua RUN_DIR partitions   (prints what each node read during each partition)
-- Prints what it found; exits 0 when the run is as expected, 1 otherwise.
local root = os.getenv("RAPAT_ROOT") or "."
package.path = root .. "/?.lua;" .. package.path
local json = require("workloads.lib.json")

local dir, mode = arg[1], arg[2]
local function die(msg) print("etcd_check_run: " .. msg); os.exit(1) end
local f = io.open(dir .. "/results.json") or die("no results.json in " .. tostring(dir))
local r = json.decode(f:read("a")); f:close()
local ops = r.ops or {}
print(string.format("verdict %s; ops: %d invoked, %d ok, %d fail, %d info; %d faults",
  tostring(r.valid), ops.invoke or 0, ops.ok or 0, ops.fail or 0, ops.info or 0, #(r.faults or {})))

if mode == "valid" then
  local min_ok, kinds = tonumber(arg[3]), arg[4] or ""
  if r.valid ~= true then die("verdict " .. tostring(r.valid) .. ", want valid") end
  if (ops.ok or 0) < min_ok then die(string.format("only %d ok operations, want >= %d", ops.ok or 0, min_ok)) end
  local seen = {}
  for _, ft in ipairs(r.faults or {}) do seen[ft.f] = (seen[ft.f] or 0) + 1 end
  for k in kinds:gmatch("[^,]+") do
    if not seen[k] then die("no " .. k .. " fault took effect") end
  end
  os.exit(0)
elseif mode == "stale" then
  if r.valid ~= false then die("verdict " .. tostring(r.valid) .. ", want false (invalid)") end
  local lin = r.checkers and r.checkers.linearizable
  local cx = lin and lin.counterexample
  if type(cx) ~= "table" or type(cx.ops) ~= "table" then die("invalid without a linearizability counterexample") end
  -- A stale read: a read that began after some write or cas of another value
  -- had completed ok, and returned an older value.
  for _, rd in ipairs(cx.ops) do
    if rd.f == "read" and rd.type == "ok" then
      for _, w in ipairs(cx.ops) do
        local wrote = w.f == "write" and w.value or (w.f == "cas" and type(w.value) == "table" and w.value[2])
        if wrote ~= nil and w.type == "ok" and w["end"] and rd.start and w["end"] < rd.start
           and json.encode(wrote) ~= json.encode(rd.value) then
          print(string.format("stale read in the counterexample: %s %s completed at %.3f s, then a read (process %s) began at %.3f s and returned %s",
            w.f, json.encode(w.value), w["end"] / 1e9, tostring(rd.process), rd.start / 1e9, json.encode(rd.value)))
          -- Informative: which node served it, and was a partition in force?
          local node, grudge = "?", nil
          local hf = io.open(dir .. "/history.jsonl")
          if hf then
            local n = 0
            for line in hf:lines() do
              n = n + 1
              local ev = json.decode(line)
              if ev.process == "nemesis" and ev.time and ev.time <= rd.start then
                if ev.f == "partition-start" then grudge = ev.value elseif ev.f == "partition-end" then grudge = nil end
              end
              if rd.line and n > rd.line and ev.process == rd.process and ev.type ~= "invoke" then
                node = tostring(ev.node); break
              end
            end
            hf:close()
          end
          print(string.format("  served by %s; partition in force when it began: %s", node,
            grudge and json.encode(grudge) or "none"))
          os.exit(0)
        end
      end
    end
  end
  die("the counterexample shows no read of an older value after a completed write: " .. json.encode(cx.ops))
elseif mode == "partitions" then
  -- Informative: per partition, the range of values each node's ok reads
  -- returned (integer register values grow with time), so that a cut-off
  -- member serving one old value while the majority moves on shows.
  local inpart, grudge, t0, per
  for line in io.lines(dir .. "/history.jsonl") do
    local ev = json.decode(line)
    if ev.process == "nemesis" and ev.f == "partition-start" then
      inpart, grudge, t0, per = true, ev.value, ev.time, {}
    elseif ev.process == "nemesis" and ev.f == "partition-end" and inpart then
      inpart = false
      local parts = {}
      local names = {}
      for n in pairs(per) do names[#names + 1] = n end
      table.sort(names)
      for _, n in ipairs(names) do
        local t = per[n]
        parts[#parts + 1] = string.format("%s %d reads %s..%s", n, t.c, t.lo, t.hi)
      end
      print(string.format("partition %.1f-%.1f s %s: %s", t0 / 1e9, ev.time / 1e9, json.encode(grudge),
        table.concat(parts, "; ")))
    elseif inpart and ev.type == "ok" and ev.f == "read" and math.type(ev.value) and ev.node then
      local t = per[ev.node] or { c = 0, lo = math.huge, hi = -1 }
      t.c, t.lo, t.hi = t.c + 1, math.min(t.lo, ev.value), math.max(t.hi, ev.value)
      per[ev.node] = t
    end
  end
  os.exit(0)
end
die("usage: etcd_check_run.lua RUN_DIR valid MIN_OK KINDS | RUN_DIR stale | RUN_DIR partitions")
