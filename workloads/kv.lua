-- workloads/kv.lua — the kv workload: many independent registers (keys), reads, writes of values unique per key, and CAS; checked for linearizability per key.
--
-- Keys are integers. `keys` of them are in use at a time; a key retires after
-- `ops_per_key` operations and a fresh one takes its place, which bounds the
-- per-key history the linearizability search must explore (Jepsen's
-- independent generator does the same). Written values are 1, 2, 3, ... per
-- key, never repeated, so that every read names the write it saw.
--
-- History (the contract's register f's, with "key"):
--   read   ok value = the value, null when the key was never written
--   write  value = a fresh value
--   cas    value = [expected, new]; expected is one of the last three
--          values written to the key, new is fresh (a key's first
--          operation that is not a read is a write)
-- Checker: the C linearizability checker (checker/chk.h, model kv), called
-- by the harness; this module has no Lua checker of its own.

local json = require("workloads.lib.json")
local opts_lib = require("workloads.lib.options")
local glue = require("workloads.lib.glue")

local NAME = "workloads/kv.lua"

local M = { name = "kv", model = "kv" }

-- Its operations are the register primitives themselves: the adapter (or
-- node protocol v1) performs them, no workload invoke in between.
M.register_ops = true

-- Options, with their defaults (the plan loader learns the workload's keys
-- from this table; --set values arrive typed by the default's type).
M.options = {
  keys = 8,            -- keys in use at a time
  ops_per_key = 150,   -- operations before a key retires
  read_ratio = 0.4,    -- shares of reads, writes, (the rest) cas
  write_ratio = 0.4,
}

M.option_docs = {
  keys = "keys in use at a time (≥ 1)",
  ops_per_key = "operations on a key before it retires (≥ 1); bounds the checker's search",
  read_ratio = "share of reads (0..1)",
  write_ratio = "share of writes (0..1); the rest are cas",
}

-- Validates and completes options; raises naming the option.
function M.configure(given)
  local o = opts_lib.merge(NAME, M.options, given)
  opts_lib.int(NAME, o, "keys", 1)
  opts_lib.int(NAME, o, "ops_per_key", 1)
  opts_lib.ratio(NAME, o, "read_ratio")
  opts_lib.ratio(NAME, o, "write_ratio")
  if o.read_ratio + o.write_ratio > 1 then
    error(string.format("%s: options read_ratio + write_ratio must be ≤ 1, got %s + %s", NAME,
                        o.read_ratio, o.write_ratio), 2)
  end
  return o
end

function M.setup() return true end

-- The main phase's operations: next_op_fn(o, rand)() -> op. One stream
-- serves every client thread.
function M.next_op_fn(o, rand)
  rand = rand or math.random
  local slots, next_key = {}, 0
  for i = 1, o.keys do
    slots[i] = { key = next_key, ops = 0, last = 0, recent = {} }
    next_key = next_key + 1
  end
  return function()
    local i = math.floor(rand() * o.keys) + 1
    local s = slots[i]
    if s.ops >= o.ops_per_key then
      s = { key = next_key, ops = 0, last = 0, recent = {} }
      next_key = next_key + 1
      slots[i] = s
    end
    s.ops = s.ops + 1
    local x = rand()
    if x < o.read_ratio then return { f = "read", key = s.key, value = json.null } end
    s.last = s.last + 1
    local new = s.last
    if x < o.read_ratio + o.write_ratio or #s.recent == 0 then
      table.insert(s.recent, 1, new)
      if #s.recent > 3 then s.recent[4] = nil end
      return { f = "write", key = s.key, value = new }
    end
    local expected = s.recent[math.floor(rand() * #s.recent) + 1]
    table.insert(s.recent, 1, new)
    if #s.recent > 3 then s.recent[4] = nil end
    return { f = "cas", key = s.key, value = { expected, new } }
  end
end

-- Register operations go to the node as they are.
function M.invoke(call, op)
  local c = call({ f = op.f, key = op.key, value = op.value })
  return { type = c.type, value = c.value, error = c.error }
end

M.guards = { require_f = { "write" } }

-- The harness's entry points (workloads/lib/glue.lua).
glue.declare_guard_options(M.options)
M.generator = glue.generator(M)
M.check = glue.check(M)

return M
