-- workloads/checkers/set.lua — the set checker (after Jepsen's set-full): lost, unexpected, duplicated, recovered and stale elements, visibility latency.
--
-- History (f's of the set workload):
--   add         invoke value = the element (unique per add); ok/fail/info
--   read        invoke value null; ok value = array of elements
--   final-read  the same as read, issued after every fault was healed
--
-- An element is *known* from the earliest of: its add's ok completion, or the
-- completion of the first read that contained it (an add that ended info may
-- still have happened, and a read proves it did). Against that time:
--   lost        known, yet missing from the last final read, which was
--               invoked after it became known      (invalid)
--   stale       a read invoked after the element was known did not contain
--               it, though the element was not lost   (reported; invalid
--               only with opts.linearizable, since a linearizable read can
--               never miss a completed add)
--   unexpected  a read contained an element never added, or whose every add
--               failed (fail promises it never takes effect) (invalid)
--   duplicated  an element appears more than once in one read (invalid)
--   recovered   an add that ended info (or never completed) whose element is
--               in the final read (fine: info means "maybe")
--   never_read  acknowledged adds with no read invoked after they became known
-- Without any ok read nothing was checked: the verdict is "unknown".

local hist = require("workloads.lib.hist")

local M = {}

local READ_FS = { read = true, ["final-read"] = true }

local function secs(t) return hist.seconds(t) end

-- Adds a capped entry to a report list; the count is kept separately.
local function note(list, max, entry)
  if #list < max then list[#list + 1] = entry end
end

-- Checks a set history. opts: max_report (entries kept per list, default 50),
-- linearizable (stale reads make the run invalid; default false),
-- per_element (also return latency_ms_by_element: element -> visibility
-- latency in ms for every acknowledged element that was read; default false,
-- since a minute of adds makes thousands of entries).
-- Returns a result table; result.valid is true, false or "unknown".
function M.check(history, opts)
  opts = opts or {}
  local max = opts.max_report or 50
  local ops = hist.pair(history)

  local adds = {}     -- element -> {ok_time, info (bool), fail_only (bool), op}
  local attempted = 0
  local reads = {}    -- ok reads
  local bad_reads = hist.list()
  local read_invocations, final_invocations = 0, 0
  for _, op in ipairs(ops) do
    if op.f == "add" then
      local e = op.invoke_value
      if hist.is_null(e) then
        error("workloads/checkers/set.lua: add at index " .. op.invoke_index .. " has no element", 2)
      end
      attempted = attempted + 1
      local a = adds[e]
      if not a then
        a = { fail_only = true, op = op }
        adds[e] = a
      end
      if op.type == "ok" then
        a.fail_only = false
        if not a.ok_time or op.complete_time < a.ok_time then a.ok_time, a.op = op.complete_time, op end
      elseif op.type ~= "fail" then
        a.fail_only = false
        a.info = true
      end
    elseif READ_FS[op.f] then
      read_invocations = read_invocations + 1
      if op.f == "final-read" then final_invocations = final_invocations + 1 end
      if op.type == "ok" then
        if type(op.value) ~= "table" then
          bad_reads[#bad_reads + 1] = { index = op.complete_index, value = hist.show(op.value) }
        else
          reads[#reads + 1] = op
        end
      end
    end
  end
  table.sort(reads, function(a, b)
    if a.invoke_time ~= b.invoke_time then return a.invoke_time < b.invoke_time end
    return a.invoke_index < b.invoke_index
  end)

  local result = {
    valid = true, attempted = attempted, acknowledged = 0, reads = #reads,
    lost = hist.list(), lost_count = 0, unexpected = hist.list(), unexpected_count = 0,
    duplicated = hist.list(), duplicated_count = 0, recovered = hist.list(), recovered_count = 0,
    stale = hist.list(), stale_count = 0, stale_elements = 0, never_read = hist.list(), never_read_count = 0,
    bad_reads = bad_reads, explanations = hist.list(),
  }
  for _, a in pairs(adds) do if a.ok_time then result.acknowledged = result.acknowledged + 1 end end
  if #bad_reads > 0 then
    result.valid = false
    note(result.explanations, max, string.format("read at index %d returned %s, not an array of elements",
      bad_reads[1].index, bad_reads[1].value))
  end
  if #reads == 0 then
    if result.valid == true then result.valid = "unknown" end
    result.reason = string.format("no read completed ok (%d invoked), so nothing was checked", read_invocations)
    return result
  end

  -- The final read: the last ok final-read by invocation, else the last ok read.
  local final
  for _, r in ipairs(reads) do
    if r.f == "final-read" then final = r end
  end
  if not final then
    final = reads[#reads]
    result.final_read_kind = "last read (no final-read completed ok)"
  end
  result.final_read = { index = final.complete_index, invoke_s = secs(final.invoke_time),
                        size = #final.value, process = final.process }

  -- Memory stays O(elements + reads), never O(sum of read sizes): a minute
  -- of adds makes thousands of reads of thousands of elements each, and
  -- keeping a set per read took a gigabyte. So the reads are streamed twice.
  --
  -- Pass 1: duplicates, unexpected elements, and each element's first
  -- sight (the read with the earliest completion containing it).
  local first_seen = {}
  local unexpected_seen = {}
  for _, r in ipairs(reads) do
    local counts = {}
    for _, e in ipairs(r.value) do counts[e] = (counts[e] or 0) + 1 end
    for e, c in pairs(counts) do
      if c > 1 then
        result.duplicated_count = result.duplicated_count + 1
        note(result.duplicated, max, { element = e, count = c, read_index = r.complete_index,
                                       read_s = secs(r.complete_time) })
      end
      local a = adds[e]
      if not a or a.fail_only then
        if not unexpected_seen[e] then
          unexpected_seen[e] = true
          result.unexpected_count = result.unexpected_count + 1
          note(result.unexpected, max, {
            element = e, read_index = r.complete_index, read_s = secs(r.complete_time),
            reason = a and string.format("its add (index %d) failed, which promises it never took effect",
                                         a.op.complete_index or a.op.invoke_index)
                       or "it was never added",
          })
        end
      end
      local fs = first_seen[e]
      if not fs or r.complete_time < fs.complete_time then first_seen[e] = r end
    end
  end

  -- When each attempted element became known.
  local known = {}
  for e, a in pairs(adds) do
    if not a.fail_only then
      local k, seen = a.ok_time, first_seen[e]
      if seen and (not k or seen.complete_time < k) then k = seen.complete_time end
      known[e] = k
    end
  end

  -- Pass 2: per known element, the reads begun after it was known that
  -- contain it, and the last read (by invocation) that contains it.
  local present_after, last_present, counted = {}, {}, {}
  for _, r in ipairs(reads) do
    for _, e in ipairs(r.value) do
      local k = known[e]
      if k and counted[e] ~= r then
        counted[e] = r
        last_present[e] = r
        if r.invoke_time > k then present_after[e] = (present_after[e] or 0) + 1 end
      end
    end
  end
  counted = nil

  -- Reads begun after time t: #reads minus those invoked at or before t.
  local invoke_times = {}
  for i, r in ipairs(reads) do invoke_times[i] = r.invoke_time end
  local function first_after(t)
    local lo, hi = 1, #invoke_times + 1
    while lo < hi do
      local mid = (lo + hi) // 2
      if invoke_times[mid] > t then hi = mid else lo = mid + 1 end
    end
    return lo
  end

  -- Membership of one read, for the few examples of stale reads we report;
  -- a bounded cache keeps the memory promise.
  local cache, cached = {}, 0
  local function holds(r, e)
    local set = cache[r]
    if not set then
      if cached >= 256 then cache, cached = {}, 0 end
      set = {}
      for _, x in ipairs(r.value) do set[x] = true end
      cache[r], cached = set, cached + 1
    end
    return set[e] == true
  end

  -- Per element: lost / stale / recovered / never read, latency.
  local latencies, slowest = {}, {}
  local by_element = opts.per_element and {} or nil
  local final_set = {}
  for _, e in ipairs(final.value) do final_set[e] = true end
  local elements = {}
  for e in pairs(adds) do elements[#elements + 1] = e end
  table.sort(elements, function(x, y)
    if type(x) == type(y) then return x < y end
    return type(x) == "number"
  end)
  for _, e in ipairs(elements) do
    local a = adds[e]
    local seen = first_seen[e]
    local k = known[e]
    if k then
      if a.ok_time and seen then
        local lat = math.max(0, seen.complete_time - a.ok_time)
        latencies[#latencies + 1] = lat
        slowest[#slowest + 1] = { element = e, ms = math.floor(lat / 1e3 + 0.5) / 1e3 }
        if by_element then by_element[tostring(e)] = slowest[#slowest].ms end
      end
      if final.invoke_time <= k then
        -- No final read started after we knew of it: nothing to hold it to.
        if not final_set[e] and not seen then
          result.never_read_count = result.never_read_count + 1
          note(result.never_read, max, e)
        end
      elseif not final_set[e] then
        result.lost_count = result.lost_count + 1
        local lp = last_present[e]
        note(result.lost, max, {
          element = e, known_s = secs(k),
          known_by = a.ok_time == k and string.format("add ok at index %d", a.op.complete_index)
                                    or string.format("read at index %d", seen.complete_index),
          last_seen_index = lp and lp.complete_index or nil,
          final_read_index = final.complete_index,
        })
      else
        local from = first_after(k)
        local stale_reads = (#reads - from + 1) - (present_after[e] or 0)
        if stale_reads > 0 then
          result.stale_count = result.stale_count + stale_reads
          result.stale_elements = result.stale_elements + 1
          for i = from, #reads do
            if #result.stale >= max then break end
            local r = reads[i]
            if not holds(r, e) then
              note(result.stale, max, { element = e, known_s = secs(k), read_index = r.complete_index,
                                        read_invoke_s = secs(r.invoke_time) })
            end
          end
        end
      end
      if a.info and not a.ok_time and final_set[e] then
        result.recovered_count = result.recovered_count + 1
        note(result.recovered, max, e)
      end
    end
  end

  table.sort(latencies)
  if #latencies > 0 then
    local function ms(ns) return math.floor(ns / 1e3 + 0.5) / 1e3 end -- to the microsecond
    result.visibility_latency_ms = {
      p50 = ms(hist.quantile(latencies, 0.5)), p90 = ms(hist.quantile(latencies, 0.9)),
      p99 = ms(hist.quantile(latencies, 0.99)), max = ms(latencies[#latencies]),
      n = #latencies,
    }
  end
  result.latency_ms_by_element = by_element
  table.sort(slowest, function(x, y) return x.ms > y.ms end)
  result.slowest = hist.list()
  for i = 1, math.min(10, #slowest) do result.slowest[i] = slowest[i] end

  -- Verdict and a sentence per kind of anomaly, with its first example.
  local ex = result.explanations
  if result.lost_count > 0 then
    result.valid = false
    local l = result.lost[1]
    note(ex, max, string.format("%d acknowledged or observed element(s) lost; e.g. %s, known since %.3fs (%s)%s, "
      .. "is missing from the final read at index %d", result.lost_count, hist.show(l.element), l.known_s,
      l.known_by, l.last_seen_index and string.format(", last seen by the read at index %d", l.last_seen_index) or "",
      l.final_read_index))
  end
  if result.unexpected_count > 0 then
    result.valid = false
    local u = result.unexpected[1]
    note(ex, max, string.format("%d unexpected element(s); e.g. %s in the read at index %d: %s",
      result.unexpected_count, hist.show(u.element), u.read_index, u.reason))
  end
  if result.duplicated_count > 0 then
    result.valid = false
    local d = result.duplicated[1]
    note(ex, max, string.format("%d duplicated element(s) within a read; e.g. %s appears %d times in the read at index %d",
      result.duplicated_count, hist.show(d.element), d.count, d.read_index))
  end
  if result.stale_count > 0 then
    if opts.linearizable then result.valid = false end
    local s = result.stale[1]
    note(ex, max, string.format("%d stale read(s) of %d element(s)%s; e.g. %s, known since %.3fs, is missing from "
      .. "the read at index %d invoked at %.3fs", result.stale_count, result.stale_elements,
      opts.linearizable and "" or " (allowed: linearizable=false)", hist.show(s.element), s.known_s,
      s.read_index, s.read_invoke_s))
  end
  return result
end

return M
