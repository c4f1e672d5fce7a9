-- workloads/lib/stats.lua — performance and availability figures from a history, for results.perf and results.availability.
--
-- perf: per f (and for all client ops together) the counts of ok/fail/info,
-- the throughput of ok operations over the run (ok per second between the
-- first invocation and the last completion), and latency quantiles of ok
-- operations (p50, p90, p99, max; nearest rank; milliseconds).
--
-- availability: the share of ok among completed client operations
-- (ok / (ok + fail + info)), overall and for each fault kind in three
-- windows: before its first start, during it (inside any of its start..end
-- intervals) and after (outside its intervals, after its first start). An
-- operation belongs to the window in which it was *invoked*: a request sent
-- into a partition that times out later is the partition's doing.
-- Operations that never completed are left out: the run ended under them.
-- availability.by_node gives the same share per serving node (the history's
-- `node`; operations that failed before reaching one have none).
--
-- perf.timeline: per second of the run (by completion time), the counts of
-- ok, fail and info completions: {{t = 0, ok = .., fail = .., info = ..}, ...},
-- what a rate plot with the faults shaded needs.

local hist = require("workloads.lib.hist")

local M = {}

-- Rounds to 1/1000 (microseconds for milliseconds): enough for a report,
-- and results.json stays readable.
local function r3(x)
  if x == nil then return nil end
  return math.floor(x * 1000 + 0.5) / 1000
end


local function window()
  return { ok = 0, fail = 0, info = 0, completed = 0, availability = nil }
end

local function add(w, typ)
  w[typ] = w[typ] + 1
  w.completed = w.completed + 1
end

local function finish(w)
  if w.completed > 0 then w.availability = r3(w.ok / w.completed) end
  return w
end

local function latency_summary(lat)
  table.sort(lat)
  if #lat == 0 then return nil end
  return { p50 = r3(hist.quantile(lat, 0.5) / 1e6), p90 = r3(hist.quantile(lat, 0.9) / 1e6),
           p99 = r3(hist.quantile(lat, 0.99) / 1e6), max = r3(lat[#lat] / 1e6) }
end

local function inside(intervals, t)
  for _, iv in ipairs(intervals) do
    if t >= iv.start and t < iv["end"] then return true end
  end
  return false
end

-- Computes {perf = ..., availability = ...} for a history (see above).
-- Times are taken as nanoseconds; with histories that lack `time` the
-- figures are per event position and only the shares are meaningful.
function M.compute(history)
  local ops = hist.pair(history)
  local first, last
  local per_f, all = {}, { ok = 0, fail = 0, info = 0, incomplete = 0, lat = {} }
  for _, op in ipairs(ops) do
    if not first or op.invoke_time < first then first = op.invoke_time end
    local t = op.complete_time or op.invoke_time
    if not last or t > last then last = t end
    local s = per_f[op.f]
    if not s then
      s = { ok = 0, fail = 0, info = 0, incomplete = 0, lat = {} }
      per_f[op.f] = s
    end
    local typ = op.type or "incomplete"
    s[typ] = s[typ] + 1
    all[typ] = all[typ] + 1
    if typ == "ok" then
      local l = op.complete_time - op.invoke_time
      s.lat[#s.lat + 1] = l
      all.lat[#all.lat + 1] = l
    end
  end
  local duration_ns = (first and last and last > first) and (last - first) or 0
  local duration_s = duration_ns / 1e9

  local function summarize(s)
    return {
      ok = s.ok, fail = s.fail, info = s.info, incomplete = s.incomplete,
      throughput = duration_s > 0 and r3(s.ok / duration_s) or nil,
      latency_ms = latency_summary(s.lat),
    }
  end
  local perf = { duration_s = r3(duration_s), all = summarize(all), by_f = {} }
  for f, s in pairs(per_f) do perf.by_f[f] = summarize(s) end

  -- Completions per second since the start of the history.
  local buckets, last_b = {}, -1
  for _, op in ipairs(ops) do
    if op.type then
      local b = math.floor(op.complete_time / 1e9)
      local bk = buckets[b]
      if not bk then
        bk = { t = b, ok = 0, fail = 0, info = 0 }
        buckets[b] = bk
      end
      bk[op.type] = bk[op.type] + 1
      if b > last_b then last_b = b end
    end
  end
  perf.timeline = hist.list()
  for b = 0, last_b do
    perf.timeline[#perf.timeline + 1] = buckets[b] or { t = b, ok = 0, fail = 0, info = 0 }
  end

  -- Availability per fault kind.
  local end_time = math.max(last or 0, hist.last_time(history))
  local intervals = hist.fault_intervals(history, end_time)
  local overall = window()
  local by_fault = {}
  for kind, ivs in pairs(intervals) do
    by_fault[kind] = { before = window(), during = window(), after = window(), intervals = #ivs,
                       fault_s = 0 }
    for _, iv in ipairs(ivs) do by_fault[kind].fault_s = by_fault[kind].fault_s + (iv["end"] - iv.start) / 1e9 end
    by_fault[kind].fault_s = r3(by_fault[kind].fault_s)
  end
  local any_fault = { faulty = window(), clean = window() }
  local by_node = {}
  for _, op in ipairs(ops) do
    if op.type then
      add(overall, op.type)
      if op.node then
        by_node[op.node] = by_node[op.node] or window()
        add(by_node[op.node], op.type)
      end
      local faulty = false
      for kind, ivs in pairs(intervals) do
        local w = by_fault[kind]
        if op.invoke_time < ivs[1].start then
          add(w.before, op.type)
        elseif inside(ivs, op.invoke_time) then
          add(w.during, op.type)
          faulty = true
        else
          add(w.after, op.type)
        end
      end
      add(faulty and any_fault.faulty or any_fault.clean, op.type)
    end
  end
  finish(overall)
  finish(any_fault.faulty)
  finish(any_fault.clean)
  for _, w in pairs(by_fault) do
    finish(w.before); finish(w.during); finish(w.after)
  end
  for _, w in pairs(by_node) do finish(w) end
  return { perf = perf, availability = { overall = overall, by_fault = by_fault, any_fault = any_fault,
                                         by_node = by_node } }
end

return M
