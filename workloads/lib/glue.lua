-- workloads/lib/glue.lua — the harness-facing functions of a workload module, built from its pure parts (configure, next_op_fn, final_op, invoke, check_history).
--
-- The harness (harness/lua/runner.lua, docs/plans.md) calls on the module:
--   generator(opts, wctx)        -> the main phase: one `init` op, then the
--                                   workload's ops (gen.phases), each with `via`
--   final_generator(opts, wctx)  -> the final phase: each thread reads until ok
--   check(args)                  -> the checkers table for results.json
-- and runs an op's via(call) (or the module's invoke(call, op, opts)) over
-- register primitives. opts are the plan's options (core ones and those the
-- module declares in its `options` table); wctx = {nodes, concurrency, rand};
-- args = {history_path, opts, run_dir, nodes}. The pure parts stay testable
-- with plain lua5.4; only these functions touch the harness ("gen", "hx").

local hist = require("workloads.lib.hist")
local analyze = require("workloads.lib.analyze")

local M = {}

-- Plan options every workload of this kind declares (merged into its
-- `options` table), so that plans and --set can tune the vacuity guards.
M.guard_options_defaults = {
  min_ok = 20,            -- fewer ok client operations: unknown
  min_ok_ratio = 0.05,    -- smaller share of ok among invoked: unknown
  allow_crash = false,    -- a node dying on its own and staying dead is tolerated
  faults_required = true, -- every fault kind in `nemesis` must have started
}

-- Adds the guard options to a workload's options table.
function M.declare_guard_options(options)
  for k, v in pairs(M.guard_options_defaults) do
    if options[k] == nil then options[k] = v end
  end
  return options
end

-- How a workload operation reaches the nodes: the runner runs an op's
-- `via(call)` when it has one (harness/lua/runner.lua, execute), where
-- `call` sends a register primitive to the op's node through the adapter or
-- node protocol v1. So a workload op (add, transfer, ...) carries a `via`
-- that runs the workload's invoke over `call`; register ops (kv) carry none
-- and go to the adapter as they are.
local function with_via(wl, o, op)
  if op and wl.invoke and not wl.register_ops then
    op.via = function(call) return wl.invoke(call, op, o) end
  end
  return op
end

-- How setup waits between attempts and when it gives up: inside the
-- harness hx.sleep (it yields the client's coroutine) and a budget of
-- SETUP_BUDGET_S seconds for the whole setup; outside, no waiting.
M.SETUP_BUDGET_S = 10
local function pacer()
  local ok, hx = pcall(require, "hx")
  if not ok or type(hx) ~= "table" or not hx.sleep or not hx.now then return nil end
  return { sleep = hx.sleep, now = hx.now, deadline = hx.now() + M.SETUP_BUDGET_S }
end

-- The completion of a workload's `init` op: its setup, recorded in the
-- history so that checkers (bank) see the opening state. Workloads call it
-- from invoke for f == "init".
function M.init(wl, call, o)
  local done, err = wl.setup(call, o, pacer())
  if done then return { type = "ok", value = wl.init_value and wl.init_value(o) or nil } end
  -- Setup may have written before it gave up: not a definite failure.
  return { type = "info", error = tostring(err) }
end

-- generator(opts, wctx): first one `init` op that runs the workload's setup
-- (so it is recorded in the history; every other thread waits for it), then
-- one shared op stream for all client threads.
function M.generator(wl)
  return function(opts, wctx)
    local o = wl.configure(opts)
    local rand = (wctx and wctx.rand) or math.random
    local next_op = wl.next_op_fn(o, function() return rand() end)
    local main = function(ctx) return with_via(wl, o, next_op(ctx and ctx.process)) end
    local ok, gen = pcall(require, "gen")
    if not ok or not wl.setup or wl.register_ops then return main end
    local init = with_via(wl, o, { f = "init", value = wl.init_value and wl.init_value(o) or nil })
    return gen.phases({ gen.once(init), gen.fn(main) })
  end
end

-- final_generator(opts, wctx): every client thread repeats the workload's
-- final read until one completes ok (the runner bounds the phase in time).
function M.final_generator(wl)
  return function(opts, wctx)
    local gen = require("gen")
    local o = wl.configure(opts)
    -- 20 tries a second per thread at most: a node that stays without a
    -- leader must not flood the history with thousands of failed reads.
    return gen.each_thread(function()
      return gen.until_ok(gen.delay(0.05, function() return with_via(wl, o, wl.final_op()) end))
    end)
  end
end

-- The requested fault kinds, as the nemesis option spells them.
local function requested_faults(opts)
  local n = opts and opts.nemesis
  if type(n) ~= "string" or n == "none" or n == "" then return {} end
  local out = {}
  for w in n:gmatch("[^,%s]+") do out[#out + 1] = w end
  return out
end

-- Guard options from the module's declared guards and the plan's options:
-- the plan may set min_ok, min_ok_ratio, allow_crash (and faults_required =
-- false to skip the "requested fault took effect" guard).
function M.guard_options(wl, opts, nodes)
  local g = {}
  for k, v in pairs(wl.guards or {}) do g[k] = v end
  opts = opts or {}
  g.min_ok, g.min_ok_ratio, g.allow_crash = opts.min_ok, opts.min_ok_ratio, opts.allow_crash
  if opts.faults_required ~= false then g.faults = requested_faults(opts) end
  if nodes then
    g.logs = {}
    for _, n in ipairs(nodes) do
      if n.log_path then g.logs[#g.logs + 1] = n.log_path end
    end
  end
  return g
end

-- check(args): the workload's Lua checker, the vacuity guards and the
-- statistics; for workloads with a `model` also the C linearizability
-- checker (hx.check.linearizable). Returns the checkers table.
function M.check(wl)
  return function(args)
    local history, err = hist.load(args.history_path)
    if not history then error("workloads/" .. wl.name .. ".lua: check: " .. tostring(err), 0) end
    local o = wl.configure(args.opts or {})
    local res = analyze.run(history, {
      name = wl.name,
      check = wl.check_history and function(h) return wl.check_history(h, o) end or nil,
      guards = M.guard_options(wl, args.opts, args.nodes),
    })
    local checkers = res.checkers
    if wl.model then
      local ok, hx = pcall(require, "hx")
      if ok and hx.check and hx.check.linearizable then
        local r, msg = hx.check.linearizable(args.history_path, {
          model = wl.model, time_limit = args.opts and args.opts.check_time_limit })
        checkers.linearizable = r or { valid = "unknown", reason = tostring(msg) }
      end
    end
    -- Statistics travel as a checker that is always valid: the harness
    -- copies perf/availability to the top of results.json, and the HTML
    -- report draws its tables from checkers.stats (docs/workloads.md).
    checkers.stats = { valid = true, perf = res.perf, availability = res.availability }
    return checkers
  end
end

return M
