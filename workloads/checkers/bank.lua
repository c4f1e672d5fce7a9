-- workloads/checkers/bank.lua — the bank checker (after Jepsen's bank test): every read shows the same total and no negative balance.
--
-- History (f's of the bank workload):
--   init        invoke value = the opening accounts object {name = balance}
--   transfer    invoke value = {from, to, amount}; ok/fail/info
--   read        ok value = the whole accounts object (null before init)
--   final-read  the same as read, after every fault was healed
-- Each ok read must hold exactly the expected accounts, integer balances, none
-- negative (unless opts.negative_ok), summing to the expected total: opts.total,
-- else the sum of the init value, else (reported) the first read's total.
-- A null read before any init completed is "uninitialized" and harmless; a
-- null read after an init completed ok means the accounts vanished (bad).
-- Without any ok non-null read the verdict is "unknown".

local hist = require("workloads.lib.hist")

local M = {}

local READ_FS = { read = true, ["final-read"] = true }

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = tostring(k) end
  table.sort(ks)
  return ks
end

local function total_of(accounts)
  local sum = 0
  for _, v in pairs(accounts) do
    if math.type(v) ~= "integer" then return nil end
    sum = sum + v
  end
  return sum
end

-- Checks a bank history. opts: total, accounts (list of names),
-- negative_ok (default false), max_report (default 50).
function M.check(history, opts)
  opts = opts or {}
  local max = opts.max_report or 50
  local ops = hist.pair(history)

  local init_value, init_ok_time
  local reads, read_invocations = {}, 0
  local transfers = { ok = 0, fail = 0, info = 0 }
  for _, op in ipairs(ops) do
    if op.f == "init" then
      if not init_value and type(op.invoke_value) == "table" then init_value = op.invoke_value end
      if op.type == "ok" and (not init_ok_time or op.complete_time < init_ok_time) then
        init_ok_time = op.complete_time
      end
    elseif op.f == "transfer" then
      local t = op.type or "info"
      transfers[t] = (transfers[t] or 0) + 1
    elseif READ_FS[op.f] then
      read_invocations = read_invocations + 1
      if op.type == "ok" then reads[#reads + 1] = op end
    end
  end

  -- What every read must show.
  local names, total, total_from
  if opts.accounts then
    names = {}
    for _, n in ipairs(opts.accounts) do names[#names + 1] = tostring(n) end
    table.sort(names)
  elseif init_value then
    names = sorted_keys(init_value)
  end
  if opts.total then
    total, total_from = opts.total, "option total"
  elseif init_value and total_of(init_value) then
    total, total_from = total_of(init_value), "init value"
  end

  local result = {
    valid = true, reads = 0, uninitialized_reads = 0, transfers = transfers,
    bad_reads = hist.list(), bad_count = 0, explanations = hist.list(),
  }
  local function bad(op, entry, why)
    result.valid = false
    result.bad_count = result.bad_count + 1
    entry.read_index, entry.process, entry.invoke_s = op.complete_index, op.process, hist.seconds(op.invoke_time)
    entry.why = why
    if #result.bad_reads < max then
      result.bad_reads[#result.bad_reads + 1] = entry
      result.explanations[#result.explanations + 1] =
        string.format("%s at index %d (process %s, invoked %.3fs): %s", op.f, op.complete_index,
                      tostring(op.process), entry.invoke_s or 0, why)
    end
  end

  for _, op in ipairs(reads) do
    local v = op.value
    if hist.is_null(v) then
      if init_ok_time and op.invoke_time > init_ok_time then
        bad(op, { value = "null" }, "the accounts object is gone, though init completed ok before this read began")
      else
        result.uninitialized_reads = result.uninitialized_reads + 1
      end
    elseif type(v) ~= "table" then
      bad(op, { value = hist.show(v) }, "returned " .. hist.show(v) .. ", not an accounts object")
    else
      result.reads = result.reads + 1
      local problems, entry = {}, { value = hist.show(v) }
      if not names then names = sorted_keys(v) end
      local want = {}
      for _, n in ipairs(names) do
        want[n] = true
        if v[n] == nil then
          entry.missing = entry.missing or {}
          table.insert(entry.missing, n)
        end
      end
      for k in pairs(v) do
        if not want[tostring(k)] then
          entry.extra = entry.extra or {}
          table.insert(entry.extra, tostring(k))
        end
      end
      if entry.missing then problems[#problems + 1] = "missing account(s) " .. table.concat(entry.missing, ",") end
      if entry.extra then
        table.sort(entry.extra)
        problems[#problems + 1] = "unknown account(s) " .. table.concat(entry.extra, ",")
      end
      for _, k in ipairs(sorted_keys(v)) do
        local b = v[k]
        if math.type(b) ~= "integer" then
          problems[#problems + 1] = string.format("balance of %s is %s, not an integer", k, hist.show(b))
        elseif b < 0 and not opts.negative_ok then
          entry.negative = entry.negative or {}
          entry.negative[k] = b
          problems[#problems + 1] = string.format("balance of %s is negative (%d)", k, b)
        end
      end
      local sum = total_of(v)
      if sum then
        if not total then total, total_from = sum, "first read" end
        entry.total, entry.expected_total = sum, total
        if sum ~= total then
          problems[#problems + 1] = string.format("balances sum to %d, expected %d (from the %s)", sum, total,
                                                  total_from)
        end
      end
      if #problems > 0 then bad(op, entry, table.concat(problems, "; ")) end
    end
  end

  result.expected_total, result.total_from = total, total_from
  if result.reads == 0 and result.valid == true then
    result.valid = "unknown"
    result.reason = string.format("no read of the accounts completed ok (%d invoked, %d saw no accounts yet)",
                                  read_invocations, result.uninitialized_reads)
  end
  return result
end

return M
