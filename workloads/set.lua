-- workloads/set.lua — the set workload: unique elements added to a set kept in CAS-updated registers, read whole, checked set-full style.
--
-- Storage: the set lives in `shards` registers (keys "<prefix>/0".."<prefix>/N-1"),
-- each holding a JSON array. Element e goes to shard e % shards; an add is a
-- read-modify-CAS loop on that one register (workloads/lib/casloop.lua), so
-- Raft's linearizable CAS makes it atomic. Sharding only spreads contention:
-- every element lives in exactly one register, so "an element acknowledged
-- before a read began must be in it" still holds for a read that reads the
-- shards one after the other within its own invoke..complete window.
--
-- History:
--   add         value = the element (a positive integer, unique in the run)
--   read        ok value = every element of every shard (an array)
--   final-read  the same, after every fault was healed
-- Checker: workloads/checkers/set.lua (lost, unexpected, duplicated,
-- recovered, stale, visibility latency).

local casloop = require("workloads.lib.casloop")
local json = require("workloads.lib.json")
local checker = require("workloads.checkers.set")
local opts_lib = require("workloads.lib.options")
local glue = require("workloads.lib.glue")

local NAME = "workloads/set.lua"

local M = { name = "set" }

-- Options, with their defaults (the plan loader learns the workload's keys
-- from this table; --set values arrive typed by the default's type).
M.options = {
  shards = 4,          -- registers the set is spread over
  key_prefix = "set",  -- their keys: <prefix>/<i>
  read_ratio = 0.2,    -- share of reads among the main phase's operations
  retries = 20,        -- CAS attempts per add before it fails as contention
  linearizable = false, -- stale reads make the run invalid (see the checker)
}

M.option_docs = {
  shards = "registers the set is spread over (>= 1)",
  key_prefix = "key prefix of those registers",
  read_ratio = "share of reads among the main phase's operations (0..1)",
  retries = "CAS attempts per add before it fails with 'gave up'",
  linearizable = "count stale reads as anomalies",
}

-- Validates and completes options; raises naming the option.
function M.configure(given)
  local o = opts_lib.merge(NAME, M.options, given)
  opts_lib.int(NAME, o, "shards", 1)
  opts_lib.int(NAME, o, "retries", 1)
  opts_lib.ratio(NAME, o, "read_ratio")
  opts_lib.bool(NAME, o, "linearizable")
  opts_lib.word(NAME, o, "key_prefix")
  return o
end

local function shard_key(o, i) return o.key_prefix .. "/" .. i end

-- Before the run, once: every shard exists and holds an array.
-- pace: how setup waits and when it gives up (workloads/lib/casloop.lua, init).
function M.setup(call, o, pace)
  for i = 0, o.shards - 1 do
    local c = casloop.init(call, shard_key(o, i), json.array({}), pace)
    if c.type ~= "ok" then
      return nil, string.format("%s: setup: creating %s: %s %s", NAME, shard_key(o, i), c.type, tostring(c.error))
    end
  end
  return true
end

-- A generator: returns next_op(process) -> op. Elements are unique across
-- processes because one generator serves them all.
-- The main phase's operations: next_op_fn(o, rand)() -> op. One stream
-- serves every client thread.
function M.next_op_fn(o, rand)
  rand = rand or math.random
  local next_element = 0
  return function()
    if rand() < o.read_ratio then return { f = "read", value = json.null } end
    next_element = next_element + 1
    return { f = "add", value = next_element }
  end
end

function M.final_op() return { f = "final-read", value = json.null } end

-- Reads every shard; fails (reads change nothing) if any read does not succeed.
local function read_all(call, o)
  local out = json.array({})
  for i = 0, o.shards - 1 do
    local v, c = casloop.read(call, shard_key(o, i))
    if v == nil then return { type = "fail", error = string.format("read %s: %s", shard_key(o, i), tostring(c.error or c.type)) } end
    if json.is_null(v) then
      -- A shard that setup created has vanished: report what we saw (nothing
      -- of it) and let the checker judge the missing elements.
      v = {}
    elseif type(v) ~= "table" then
      return { type = "ok", value = v } -- not an array: the checker reports it
    end
    for _, e in ipairs(v) do out[#out + 1] = e end
  end
  return { type = "ok", value = out }
end

-- Performs one workload operation through the register primitive `call`.
function M.invoke(call, op, o)
  if op.f == "init" then return glue.init(M, call, o) end
  if op.f == "add" then
    local e = op.value
    local r = casloop.update(call, shard_key(o, e % o.shards), function(cur)
      if type(cur) ~= "table" then return nil, "shard holds " .. json.encode(cur) .. ", not an array" end
      local new = json.array({})
      for i, x in ipairs(cur) do
        -- Only a CAS of this very add can have put e there, and each of
        -- them was refused definitely: the store broke that promise. Refuse
        -- too (nothing written now); the checker then reports e as present
        -- though its add failed, instead of us hiding it.
        if x == e then return nil, "element already present, though every CAS that added it was refused" end
        new[i] = x
      end
      new[#new + 1] = e
      return new
    end, o.retries)
    return { type = r.type, value = e, error = r.error }
  elseif op.f == "read" or op.f == "final-read" then
    return read_all(call, o)
  end
  error(string.format("%s: invoke: unknown f %q", NAME, tostring(op.f)), 2)
end

function M.check_history(history, o)
  return checker.check(history, { linearizable = o and o.linearizable })
end

-- What makes a set run vacuous (see workloads/lib/guards.lua).
M.guards = { require_f = { "add" }, final_reads = true }

-- The harness's entry points (workloads/lib/glue.lua).
glue.declare_guard_options(M.options)
M.generator = glue.generator(M)
M.final_generator = glue.final_generator(M)
M.check = glue.check(M)

return M
