-- tests/workloads/test_workloads.lua — each workload end to end against an in-memory store: correct store → valid; a store with a bug → the anomaly is caught.
local T = require("tests.workloads.testlib")
local fakedb = require("tests.workloads.fakedb")
local analyze = require("workloads.lib.analyze")

local WORKLOADS = { "set", "counter", "bank" }
local FLAKY = { p_fail = 0.05, p_info_applied = 0.03, p_info_lost = 0.03 }

local function run(name, store_opts, n, seed, interfere)
  local w = require("workloads." .. name)
  local o = w.configure({})
  local rand = fakedb.rng(seed or 11)
  local store = fakedb.store(store_opts, fakedb.rng((seed or 11) + 1))
  if interfere then
    local inside = false
    store_opts.interfere = function()
      -- Another client's whole operation slips in between a read and its CAS.
      if inside or rand() > 0.3 then return end
      inside = true
      fakedb.perform(4, fakedb.gen(4))
      inside = false
    end
  end
  local h = fakedb.run(w, o, store, n or 300, 4, rand)
  local res = analyze.run(h, { name = name, check = w.check_history, opts = o,
                               guards = { require_f = w.guards.require_f, final_reads = w.guards.final_reads,
                                          faults = "partition" } })
  return res, res.checkers[name], h
end

for _, name in ipairs(WORKLOADS) do
  T.case(name .. ": valid against a correct store with fail/info faults", function()
    local res, r = run(name, FLAKY)
    T.eq(res.valid, true, "valid: " .. table.concat(r.explanations or {}, "; ")
      .. table.concat(res.checkers.vacuity.reasons, "; "))
    T.truthy(res.perf.all.ok > 200, "ok operations: " .. res.perf.all.ok)
    T.truthy(res.perf.all.info > 0, "some info completions")
  end)

  T.case(name .. ": valid with contention (CAS retries) and concurrent operations", function()
    local res, r, h = run(name, {}, 300, 5, true)
    T.eq(res.valid, true, "valid: " .. table.concat(r.explanations or {}, "; "))
    -- Interfering operations ran inside others' invoke..complete windows.
    local open, nested = {}, 0
    for _, ev in ipairs(h) do
      if ev.type == "invoke" then
        if next(open) then nested = nested + 1 end
        open[ev.process] = true
      else
        open[ev.process] = nil
      end
    end
    T.truthy(nested > 20, "concurrent operations: " .. nested)
  end)
end

T.case("set: a store that loses acknowledged CASes loses elements", function()
  local res, r = run("set", { bug = "lose_acked", p_bug = 0.05 })
  T.eq(res.valid, false, "valid")
  T.truthy(r.lost_count > 0, "lost")
end)

T.case("set: a store that applies what it says failed shows unexpected elements", function()
  local res, r = run("set", { bug = "fail_applied", p_bug = 0.05 })
  T.eq(res.valid, false, "valid")
  T.truthy(r.unexpected_count > 0, "unexpected")
end)

T.case("set: stale reads are reported", function()
  local _, r = run("set", { bug = "stale_read", p_bug = 0.2 })
  T.truthy(r.stale_count > 0, "stale")
end)

T.case("counter: lost acknowledged increments make reads too low", function()
  local res, r = run("counter", { bug = "lose_acked", p_bug = 0.05 })
  T.eq(res.valid, false, "valid")
  T.truthy(r.error_count > 0, "errors")
  T.mentions(r.explanations, "already sum to")
end)

T.case("counter: increments applied but reported failed make reads too high", function()
  local res, r = run("counter", { bug = "fail_applied", p_bug = 0.05 })
  T.eq(res.valid, false, "valid")
  T.mentions(r.explanations, "more than all adds")
end)

T.case("counter: stale reads make the counter go back", function()
  local res, r = run("counter", { bug = "stale_read", p_bug = 0.2 })
  T.eq(res.valid, false, "valid")
  T.truthy(r.error_count > 0, "errors")
end)

T.case("bank: a store that corrupts a balance breaks the total", function()
  local w = require("workloads.bank")
  local o = w.configure({})
  local store = fakedb.store({})
  local h = fakedb.run(w, o, store, 100, 3, fakedb.rng(3))
  store.data.bank.a1 = store.data.bank.a1 + 7 -- a bit flip in the state machine
  fakedb.perform(1, w.final_op())
  local r = w.check_history(h, o)
  T.eq(r.valid, false, "valid")
  T.mentions(r.explanations, "expected 500")
end)

T.case("bank: transfers never overdraw; refused ones fail", function()
  local w = require("workloads.bank")
  local o = w.configure({ accounts = 2, balance = 3, max_transfer = 5 })
  local h = fakedb.run(w, o, fakedb.store({}), 200, 2, fakedb.rng(9))
  local refused = 0
  for _, ev in ipairs(h) do
    if ev.type == "fail" and ev.error == "insufficient funds" then refused = refused + 1 end
  end
  T.truthy(refused > 0, "some transfers refused")
  T.eq(w.check_history(h, o).valid, true, "valid")
end)

T.case("kv: unique values per key, keys retire after ops_per_key", function()
  local w = require("workloads.kv")
  local o = w.configure({ keys = 2, ops_per_key = 10 })
  local gen = w.next_op_fn(o, fakedb.rng(4))
  local per_key, written = {}, {}
  for _ = 1, 200 do
    local op = gen(1)
    per_key[op.key] = (per_key[op.key] or 0) + 1
    local v = op.f == "write" and op.value or op.f == "cas" and op.value[2] or nil
    if v then
      written[op.key] = written[op.key] or {}
      T.eq(written[op.key][v], nil, "value " .. v .. " written twice to key " .. op.key)
      written[op.key][v] = true
    end
    T.truthy(op.f ~= "cas" or written[op.key][op.value[1]], "cas expects a written value")
  end
  for k, n in pairs(per_key) do T.truthy(n <= 10, "key " .. k .. " has " .. n .. " ops") end
  T.truthy(per_key[15] ~= nil, "fresh keys keep coming")
end)

T.case("options: bad values name the option", function()
  local ok, err = pcall(require("workloads.bank").configure, { accounts = 1 })
  T.eq(ok, false, "raised")
  T.truthy(tostring(err):find("option accounts must be an integer ≥ 2, got 1", 1, true), tostring(err))
  ok, err = pcall(require("workloads.set").configure, { read_ratio = "lots" })
  T.truthy(not ok and tostring(err):find("option read_ratio", 1, true), tostring(err))
  local o = require("workloads.counter").configure({ max_delta = "3" })
  T.eq(o.max_delta, 3, "--set strings convert")
end)

T.case("init op: invoke runs setup once and records the opening state", function()
  local w = require("workloads.bank")
  local o = w.configure({ accounts = 3, balance = 10 })
  local store = fakedb.store({ p_fail = 0.3 }, fakedb.rng(5))
  local c = w.invoke(store.call, { f = "init" }, o)
  T.eq(c.type, "ok", "init completes through refusals")
  T.eq(c.value.a3, 10, "init value = opening accounts")
  T.eq(store.data.bank.a1, 10, "created")
  store.data.bank.a1 = 3 -- a later init must not reset existing state
  T.eq(w.invoke(fakedb.store({}, fakedb.rng(1)).call, { f = "init" }, o).type, "ok", "fresh store")
  T.eq(w.invoke(store.call, { f = "init" }, o).type, "ok", "existing state")
  T.eq(store.data.bank.a1, 3, "not reset")
end)

T.case("setup: paced retries that give up at the deadline", function()
  local casloop = require("workloads.lib.casloop")
  local clock, slept = 0, {}
  local pace = { sleep = function(s) slept[#slept + 1] = s; clock = clock + s end,
                 now = function() return clock end, deadline = 2 }
  local store = fakedb.store({ p_fail = 1 }) -- never a leader
  local c = casloop.init(store.call, "k", 0, pace)
  T.eq(c.type, "fail", "gave up")
  T.truthy(clock >= 2 and clock < 3, "stopped at the deadline: " .. clock)
  T.eq(slept[1], 0.05, "first wait")
  T.truthy(slept[#slept] <= 0.5, "waits grow to 0.5 s at most")
  local calls = fakedb.store({ p_fail = 1 })
  casloop.init(calls.call, "k", 0, nil, 7)
  T.eq(calls.calls, 7, "without pace: `attempts` tries")
end)

T.case("harness entry points: generator(opts, wctx) and check(args) on a history file", function()
  local json = require("workloads.lib.json")
  local w = require("workloads.set")
  local g = w.generator({ shards = 2, read_ratio = 0.5 }, { rand = fakedb.rng(2) })
  local fs = {}
  for _ = 1, 50 do fs[g({ process = 1 }).f] = true end
  T.truthy(fs.add and fs.read, "adds and reads")
  -- check(args): write a run's history as history.jsonl, as the recorder does.
  local o = w.configure({})
  local h = fakedb.run(w, o, fakedb.store(FLAKY), 200, 3, fakedb.rng(8))
  local path = os.tmpname()
  local fh = assert(io.open(path, "w"))
  for _, ev in ipairs(h) do fh:write(json.encode(ev), "\n") end
  fh:close()
  local logpath = os.tmpname()
  local checkers = w.check({ history_path = path, opts = { nemesis = "partition" },
                             nodes = { { id = "n1", log_path = logpath } } })
  T.eq(checkers.set.valid, true, "set checker")
  T.eq(checkers.vacuity.valid, true, "vacuity: " .. table.concat(checkers.vacuity.reasons, "; "))
  T.truthy(checkers.stats.perf.by_f.add.ok > 50, "perf")
  T.truthy(checkers.stats.availability.by_fault.partition, "availability per fault")
  local c2 = w.check({ history_path = path, opts = { nemesis = "partition,kill" } })
  T.eq(c2.vacuity.valid, "unknown", "kill requested, never happened")
  -- a crash in a node log makes it invalid
  fh = assert(io.open(logpath, "w"))
  fh:write("panic: runtime error: index out of range\n")
  fh:close()
  local c3 = w.check({ history_path = path, opts = { nemesis = "partition" },
                       nodes = { { id = "n1", log_path = logpath } } })
  T.eq(c3.vacuity.valid, false, "log crash")
  os.remove(path)
  os.remove(logpath)
end)

T.done()
