-- workloads/checkers/counter.lua — the counter checker (after Jepsen's counter): every read lies between what was surely added and what might have been.
--
-- History (f's of the counter workload):
--   add         invoke value = delta (an integer >= 0); ok/fail/info
--   read        ok value = the counter (null: the key does not exist yet,
--               which counts as opts.initial, default 0)
--   final-read  the same as read, after every fault was healed
-- For an ok read R:
--   lower bound = initial + the deltas of adds that completed ok before R
--                 was invoked (they took effect before R began)
--   upper bound = initial + the deltas of adds invoked before R completed,
--                 except those that failed (fail: never took effect); info
--                 adds count, since they may have happened
-- A read outside [lower, upper] is a violation; the result names each such
-- read with its bounds.
--
-- With opts.monotonic (default true) a read must also be at least the value
-- of every read that completed before it was invoked: the counter only
-- grows, so in a linearizable system a later read never sees less than an
-- earlier one saw. This catches stale reads that the bounds alone allow
-- (when the earlier read saw adds that were still in flight or ended info).
-- Jepsen's counter checker does not make this check; turn it off for
-- systems that promise less than linearizable reads.
-- Without any ok read the verdict is "unknown".

local hist = require("workloads.lib.hist")

local M = {}

local READ_FS = { read = true, ["final-read"] = true }

-- Index of the last element of sorted `keys` that is < x (0 if none).
local function count_below(keys, x)
  local lo, hi = 0, #keys
  while lo < hi do
    local mid = (lo + hi + 1) // 2
    if keys[mid] < x then lo = mid else hi = mid - 1 end
  end
  return lo
end

-- Sorts {time, delta} pairs by time, returns times and prefix sums of deltas.
local function prefix(pairs_)
  table.sort(pairs_, function(a, b) return a[1] < b[1] end)
  local times, sums, acc = {}, { [0] = 0 }, 0
  for i, p in ipairs(pairs_) do
    times[i] = p[1]
    acc = acc + p[2]
    sums[i] = acc
  end
  return times, sums
end

-- Checks a counter history. opts: initial (default 0), monotonic (default
-- true), max_report (default 50).
function M.check(history, opts)
  opts = opts or {}
  local initial = opts.initial or 0
  local max = opts.max_report or 50
  local ops = hist.pair(history)

  local acked, possible, reads, bad_values = {}, {}, {}, hist.list()
  local ok_sum, attempted_sum, read_invocations = 0, 0, 0
  for _, op in ipairs(ops) do
    if op.f == "add" then
      local d = op.invoke_value
      if math.type(d) ~= "integer" or d < 0 then
        error(string.format("workloads/checkers/counter.lua: add at index %d has delta %s; the counter checker "
          .. "needs integers >= 0", op.invoke_index, hist.show(d)), 2)
      end
      if op.type == "ok" then
        acked[#acked + 1] = { op.complete_time, d }
        ok_sum = ok_sum + d
      end
      if op.type ~= "fail" then
        possible[#possible + 1] = { op.invoke_time, d }
        attempted_sum = attempted_sum + d
      end
    elseif READ_FS[op.f] then
      read_invocations = read_invocations + 1
      if op.type == "ok" then
        local v = op.value
        if hist.is_null(v) then v = initial end
        if math.type(v) ~= "integer" then
          bad_values[#bad_values + 1] = { index = op.complete_index, value = hist.show(op.value) }
        else
          reads[#reads + 1] = { op = op, value = v }
        end
      end
    end
  end

  local result = {
    valid = true, reads = #reads, acknowledged_sum = ok_sum, attempted_sum = attempted_sum,
    errors = hist.list(), error_count = 0, bad_values = bad_values, explanations = hist.list(),
  }
  if #bad_values > 0 then
    result.valid = false
    result.explanations[1] = string.format("read at index %d returned %s, not an integer",
      bad_values[1].index, bad_values[1].value)
  end
  if #reads == 0 then
    if result.valid == true then result.valid = "unknown" end
    result.reason = string.format("no read completed ok (%d invoked), so nothing was checked", read_invocations)
    return result
  end

  local acked_times, acked_sums = prefix(acked)
  local possible_times, possible_sums = prefix(possible)

  -- For the monotonic check: reads by completion, with the running maximum
  -- of their values (and which read holds it).
  local monotonic = opts.monotonic ~= false
  local by_completion = {}
  for i, r in ipairs(reads) do by_completion[i] = r end
  table.sort(by_completion, function(a, b) return a.op.complete_time < b.op.complete_time end)
  local done_times, best = {}, { [0] = false }
  for i, r in ipairs(by_completion) do
    done_times[i] = r.op.complete_time
    local prev = best[i - 1]
    best[i] = (prev and prev.value >= r.value) and prev or r
  end

  local function report(op, entry, sentence)
    result.valid = false
    result.error_count = result.error_count + 1
    if #result.errors < max then
      entry.read_index, entry.f, entry.process = op.complete_index, op.f, op.process
      entry.invoke_s, entry.complete_s = hist.seconds(op.invoke_time), hist.seconds(op.complete_time)
      result.errors[#result.errors + 1] = entry
      result.explanations[#result.explanations + 1] = sentence
    end
  end

  for _, r in ipairs(reads) do
    local op = r.op
    local lower = initial + acked_sums[count_below(acked_times, op.invoke_time)]
    -- "invoked before R completed": invocation time <= completion time.
    local upper = initial + possible_sums[count_below(possible_times, op.complete_time + 1)]
    if r.value < lower then
      report(op, { value = r.value, lower = lower, upper = upper, kind = "below" },
        string.format("%s at index %d (process %s) returned %d, but adds acknowledged before it was invoked "
                      .. "already sum to %d (allowed %d..%d)", op.f, op.complete_index, tostring(op.process),
                      r.value, lower, lower, upper))
    elseif r.value > upper then
      report(op, { value = r.value, lower = lower, upper = upper, kind = "above" },
        string.format("%s at index %d (process %s) returned %d, more than all adds invoked before it completed "
                      .. "could make (allowed %d..%d)", op.f, op.complete_index, tostring(op.process),
                      r.value, lower, upper))
    elseif monotonic then
      local earlier = best[count_below(done_times, op.invoke_time)]
      if earlier and earlier.value > r.value then
        report(op, { value = r.value, lower = lower, upper = upper, kind = "went back",
                     earlier_read_index = earlier.op.complete_index, earlier_value = earlier.value },
          string.format("%s at index %d (process %s) returned %d, less than the %d returned by the read at index %d, "
                        .. "which completed before it began: the counter went back", op.f, op.complete_index,
                        tostring(op.process), r.value, earlier.value, earlier.op.complete_index))
      end
    end
  end
  local last = reads[#reads]
  result.last_read = { index = last.op.complete_index, value = last.value }
  return result
end

return M
