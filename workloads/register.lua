-- workloads/register.lua — a single linearizable register: reads, unique writes and compare-and-set, checked as a cas-register.
--
-- History (single register, no key): read (invoke value null, ok value the
-- value read, null when never written), write (the value; every written value
-- is unique), cas ({expected, new}; new is unique, expected is a recently
-- written value so that some succeed).
--
-- Workload module interface (see docs/plans.md):
--   options            extra plan keys with their defaults (typed)
--   generator(opts, ctx)        the main-phase client generator (the runner
--                               applies rate and time_limit)
--   final_generator(opts, ctx)  optional: ops after the final heal
--   check(ctx)                  -> {checker_name = result table}
local gen = require("gen")
local hx = require("hx")

local W = {}

W.options = {
  read_weight = 2,   -- relative frequency of reads
  write_weight = 1,  -- of writes
  cas_weight = 1,    -- of compare-and-set
}

function W.generator(opts, ctx)
  local next_value = 0
  local function fresh()
    next_value = next_value + 1
    return next_value
  end
  local total = opts.read_weight + opts.write_weight + opts.cas_weight
  if total <= 0 then error("register: read_weight + write_weight + cas_weight must be positive", 0) end
  return gen.fn(function(c)
    local x = c.rand() * total
    if x < opts.read_weight then
      return { f = "read" }
    elseif x < opts.read_weight + opts.write_weight then
      return { f = "write", value = fresh() }
    else
      -- Expect one of the last few values written: a fair chance to succeed.
      local expect = next_value - c.rand(0, 3)
      if expect < 1 then return { f = "write", value = fresh() } end
      return { f = "cas", value = { expect, fresh() } }
    end
  end)
end

-- After the heal: every client thread reads until one read succeeds.
function W.final_generator(opts, ctx)
  return gen.each_thread(function()
    return gen.until_ok(gen.repeat_({ f = "read" }))
  end)
end

-- Linearizability by the C checker, plus (through workloads/lib/glue.lua,
-- when present) the vacuity guards — a run where almost nothing succeeded or
-- a requested fault never happened is "unknown", not valid — and the
-- latency/availability statistics.
W.name = "register"
W.model = "cas-register"
W.guards = { require_f = { "write" } }
function W.configure(opts) return opts end

local function check_alone(ctx)
  local r, err = hx.check.linearizable(ctx.history_path, {
    model = W.model, time_limit = ctx.opts.check_time_limit })
  if not r then
    return { linearizable = { valid = "unknown", reason = err } }
  end
  return { linearizable = r }
end

local has_glue, glue = pcall(require, "workloads.lib.glue")
if has_glue and type(glue) == "table" and glue.check and glue.declare_guard_options then
  glue.declare_guard_options(W.options)
  W.check = glue.check(W)
else
  W.check = check_alone
end

return W
