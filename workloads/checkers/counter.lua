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
-- read with its bounds. Without any ok read the verdict is "unknown".

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

-- Checks a counter history. opts: initial (default 0), max_report (default 50).
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
  for _, r in ipairs(reads) do
    local op = r.op
    local lower = initial + acked_sums[count_below(acked_times, op.invoke_time)]
    -- "invoked before R completed": invocation time <= completion time.
    local upper = initial + possible_sums[count_below(possible_times, op.complete_time + 1)]
    if r.value < lower or r.value > upper then
      result.valid = false
      result.error_count = result.error_count + 1
      if #result.errors < max then
        result.errors[#result.errors + 1] = {
          read_index = op.complete_index, f = op.f, process = op.process, value = r.value,
          lower = lower, upper = upper, invoke_s = hist.seconds(op.invoke_time),
          complete_s = hist.seconds(op.complete_time),
        }
        result.explanations[#result.explanations + 1] = r.value < lower
          and string.format("%s at index %d (process %s) returned %d, but adds acknowledged before it was invoked "
                            .. "already sum to %d (allowed %d..%d)", op.f, op.complete_index, tostring(op.process),
                            r.value, lower, lower, upper)
          or string.format("%s at index %d (process %s) returned %d, more than all adds invoked before it completed "
                           .. "could make (allowed %d..%d)", op.f, op.complete_index, tostring(op.process),
                           r.value, lower, upper)
      end
    end
  end
  local last = reads[#reads]
  result.last_read = { index = last.op.complete_index, value = last.value }
  return result
end

return M
