-- tests/workloads/test_glue.lua — the harness entry points with the harness's real generator library (harness/lua/gen.lua): init first and alone, ops carry via, final reads until ok.
local T = require("tests.workloads.testlib")
package.path = "harness/lua/?.lua;" .. package.path
local ok_gen, gen = pcall(require, "gen")
local fakedb = require("tests.workloads.fakedb")

if not ok_gen then
  print("harness/lua/gen.lua not found: " .. tostring(gen))
  os.exit(77)
end

-- A ctx as the runner builds it; `flight` counts ops handed out and not
-- yet completed, as in_flight() does.
local function ctx_for(thread, t, flight)
  return { time = t, thread = thread, process = thread - 1, rand = fakedb.rng(thread),
           in_flight = function() return flight.n end }
end

T.case("set: the init op comes first, alone, and runs setup through via", function()
  local w = require("workloads.set")
  local g = w.generator(w.configure({ shards = 2 }), { rand = fakedb.rng(1) })
  local flight = { n = 0 }
  local init = g:op(ctx_for(1, 0, flight))
  T.eq(init.f, "init", "first op")
  T.eq(type(init.via), "function", "init carries via")
  flight.n = 1
  T.eq(g:op(ctx_for(2, 0, flight)), gen.PENDING, "others wait while init is in flight")
  local store = fakedb.store({})
  local c = init.via(store.call)
  T.eq(c.type, "ok", "setup ran")
  T.truthy(store.data["set/0"] and store.data["set/1"], "both shards created")
  flight.n = 0
  g:update(ctx_for(1, 0, flight), init, c)
  local op = g:op(ctx_for(2, 0.1, flight))
  T.truthy(op.f == "add" or op.f == "read", "then the workload's ops: " .. tostring(op.f))
  T.eq(type(op.via), "function", "which carry via")
  local r = op.via(store.call)
  T.eq(r.type, "ok", "and run over the primitives")
end)

T.case("kv: register ops, no init, no via", function()
  local w = require("workloads.kv")
  local g = gen.lift(w.generator(w.configure({}), { rand = fakedb.rng(2) }))
  local op = g:op(ctx_for(1, 0, { n = 0 }))
  T.truthy(op.f == "read" or op.f == "write" or op.f == "cas", "a register op: " .. tostring(op.f))
  T.eq(op.via, nil, "no via")
  T.eq(math.type(op.key), "integer", "integer key")
end)

T.case("final generator: each thread reads until one read is ok, paced", function()
  local w = require("workloads.counter")
  local fg = w.final_generator(w.configure({}), {})
  local flight = { n = 0 }
  local a = fg:op(ctx_for(1, 10, flight))
  T.eq(a.f, "final-read", "thread 1 reads")
  T.eq(type(a.via), "function", "via")
  fg:update(ctx_for(1, 10, flight), a, { type = "fail" })
  local again = fg:op(ctx_for(1, 10.01, flight))
  T.eq(again, gen.PENDING, "a retry waits 50 ms")
  local b = fg:op(ctx_for(1, 10.06, flight))
  T.eq(b.f, "final-read", "then reads again")
  fg:update(ctx_for(1, 10.06, flight), b, { type = "ok", value = 3 })
  T.eq(fg:op(ctx_for(1, 11, flight)), nil, "done after an ok read")
  local other = fg:op(ctx_for(2, 11, flight))
  T.eq(other.f, "final-read", "every thread reads on its own")
end)

T.done()
