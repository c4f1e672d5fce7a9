-- workloads/counter.lua — the counter workload: increments by client-side CAS retry loops on one register, and reads, checked against sum bounds.
--
-- Storage: one register (option key, default "counter") holding an integer,
-- created with 0 by setup. An add of delta d is a read-modify-CAS loop
-- (workloads/lib/casloop.lua): it ends ok once a CAS from v to v+d succeeded,
-- fail when every CAS was refused, info as soon as one may have applied.
-- Deltas are ≥ 1, so the value only grows and a CAS can never succeed on a
-- value that merely looks like the one it read (no ABA).
--
-- History:
--   add         value = delta (1..max_delta)
--   read        ok value = the counter
--   final-read  the same, after every fault was healed
-- Checker: workloads/checkers/counter.lua (each read within
-- [acknowledged adds before it began, attempted adds before it ended]).

local casloop = require("workloads.lib.casloop")
local json = require("workloads.lib.json")
local checker = require("workloads.checkers.counter")
local opts_lib = require("workloads.lib.options")
local glue = require("workloads.lib.glue")

local NAME = "workloads/counter.lua"

local M = { name = "counter" }

-- Options, with their defaults (the plan loader learns the workload's keys
-- from this table; --set values arrive typed by the default's type).
M.options = {
  key = "counter",   -- the register
  max_delta = 5,     -- adds draw their delta from 1..max_delta
  read_ratio = 0.3,  -- share of reads among the main phase's operations
  retries = 20,      -- CAS attempts per add before it fails as contention
  monotonic = true,  -- a read seeing less than an earlier completed read is an anomaly
}

M.option_docs = {
  key = "the register holding the counter",
  max_delta = "largest increment (≥ 1); deltas are drawn from 1..max_delta",
  read_ratio = "share of reads among the main phase's operations (0..1)",
  retries = "CAS attempts per add before it fails with 'gave up'",
  monotonic = "a read must see at least what any read completed before it saw (linearizable systems)",
}

-- Validates and completes options; raises naming the option.
function M.configure(given)
  local o = opts_lib.merge(NAME, M.options, given)
  opts_lib.word(NAME, o, "key")
  opts_lib.int(NAME, o, "max_delta", 1)
  opts_lib.ratio(NAME, o, "read_ratio")
  opts_lib.int(NAME, o, "retries", 1)
  opts_lib.bool(NAME, o, "monotonic")
  return o
end

function M.init_value() return 0 end

-- pace: how setup waits and when it gives up (workloads/lib/casloop.lua, init).
function M.setup(call, o, pace)
  local c = casloop.init(call, o.key, 0, pace)
  if c.type ~= "ok" then
    return nil, string.format("%s: setup: creating %s: %s %s", NAME, o.key, c.type, tostring(c.error))
  end
  return true
end

-- The main phase's operations: next_op_fn(o, rand)() -> op. One stream
-- serves every client thread.
function M.next_op_fn(o, rand)
  rand = rand or math.random
  return function()
    if rand() < o.read_ratio then return { f = "read", value = json.null } end
    return { f = "add", value = math.floor(rand() * o.max_delta) + 1 }
  end
end

function M.final_op() return { f = "final-read", value = json.null } end

function M.invoke(call, op, o)
  if op.f == "init" then return glue.init(M, call, o) end
  if op.f == "add" then
    local d = op.value
    local r = casloop.update(call, o.key, function(cur)
      if json.is_null(cur) then return nil, "the counter does not exist (setup did not run?)" end
      if math.type(cur) ~= "integer" then return nil, "the counter holds " .. json.encode(cur) end
      return cur + d
    end, o.retries)
    return { type = r.type, value = d, error = r.error }
  elseif op.f == "read" or op.f == "final-read" then
    local v, c = casloop.read(call, o.key)
    if v == nil then return { type = "fail", error = c.error } end
    return { type = "ok", value = v }
  end
  error(string.format("%s: invoke: unknown f %q", NAME, tostring(op.f)), 2)
end

function M.check_history(history, o)
  return checker.check(history, { monotonic = not o or o.monotonic ~= false })
end

M.guards = { require_f = { "add" }, final_reads = true }

-- The harness's entry points (workloads/lib/glue.lua).
glue.declare_guard_options(M.options)
M.generator = glue.generator(M)
M.final_generator = glue.final_generator(M)
M.check = glue.check(M)

return M
