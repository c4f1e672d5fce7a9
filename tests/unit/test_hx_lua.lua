-- tests/unit/test_hx_lua.lua — generators, nemesis topologies and plan validation, run by test_hx_lua.
local gen = require("gen")
local nemesis = require("nemesis")
local plan = require("plan")

local n_tests, failures = 0, 0
local function case(name, fn)
  n_tests = n_tests + 1
  local ok, err = pcall(fn)
  if ok then print("ok   " .. name) else failures = failures + 1; print("FAIL " .. name .. ": " .. tostring(err)) end
end
local function eq(a, b, what) if a ~= b then error((what or "value") .. ": expected " .. tostring(b) .. ", got " .. tostring(a), 2) end end

-- A deterministic context; time advances only when the test says so.
local function ctx_at(t, thread, inflight)
  local seed = 7
  return { time = t, thread = thread or 1, rand = function(m, n)
    seed = (seed * 1103515245 + 12345) % 2147483648
    local x = seed / 2147483648
    if m == nil then return x end
    if n == nil then m, n = 1, m end
    return m + math.floor(x * (n - m + 1))
  end, in_flight = function() return inflight or 0 end }
end

case("once and repeat_", function()
  local g = gen.once({ f = "read" })
  eq(g:op(ctx_at(0)).f, "read")
  eq(g:op(ctx_at(0)), nil, "exhausted")
  local r = gen.repeat_({ f = "w" }, 3)
  for _ = 1, 3 do eq(r:op(ctx_at(0)).f, "w") end
  eq(r:op(ctx_at(0)), nil)
end)

case("limit counts ops across threads", function()
  local g = gen.limit(5, gen.repeat_({ f = "x" }))
  local n = 0
  for i = 1, 10 do if g:op(ctx_at(0, i % 3 + 1)) then n = n + 1 end end
  eq(n, 5)
end)

case("time_limit ends after dt from the first op", function()
  local g = gen.time_limit(2, gen.repeat_({ f = "x" }))
  eq(g:op(ctx_at(10)).f, "x")
  eq(g:op(ctx_at(11.9)).f, "x")
  eq(g:op(ctx_at(12)), nil)
end)

case("stagger spaces ops at the average rate", function()
  local g = gen.stagger(0.1, gen.repeat_({ f = "x" }))
  local ops, t = 0, 0
  while t < 100 do
    local op, wake = g:op(ctx_at(t))
    if op == gen.PENDING then t = wake else ops = ops + 1 end
  end
  assert(ops > 800 and ops < 1200, "about 1000 ops in 100 s at 10/s, got " .. ops)
end)

case("mix draws from all and drops exhausted ones", function()
  local g = gen.mix({ gen.repeat_({ f = "a" }, 50), gen.repeat_({ f = "b" }, 50) })
  local seen = { a = 0, b = 0 }
  for _ = 1, 100 do local op = g:op(ctx_at(0)); seen[op.f] = seen[op.f] + 1 end
  eq(seen.a, 50); eq(seen.b, 50)
  eq(g:op(ctx_at(0)), nil)
end)

case("flip_flop alternates", function()
  local g = gen.flip_flop(gen.repeat_({ f = "start" }), gen.repeat_({ f = "stop" }, 2))
  local fs = {}
  for _ = 1, 6 do local op = g:op(ctx_at(0)); fs[#fs + 1] = op and op.f or "nil" end
  eq(table.concat(fs, ","), "start,stop,start,stop,start,nil")
end)

case("each_thread + until_ok: one read per thread until ok", function()
  local g = gen.each_thread(function() return gen.until_ok(gen.repeat_({ f = "read" })) end)
  local c1, c2 = ctx_at(0, 1), ctx_at(0, 2)
  local a = g:op(c1)
  eq(g:op(c1), gen.PENDING, "one outstanding per thread")
  g:update(c1, a, { type = "fail" })
  local b = g:op(c1)
  eq(b.f, "read", "retried after fail")
  g:update(c1, b, { type = "ok" })
  eq(g:op(c1), nil, "thread 1 done after ok")
  eq(g:op(c2).f, "read", "thread 2 independent")
end)

case("phases waits for in-flight ops between phases", function()
  local g = gen.phases({ gen.once({ f = "a" }), gen.once({ f = "b" }) })
  eq(g:op(ctx_at(0, 1, 0)).f, "a")
  eq(g:op(ctx_at(0, 2, 1)), gen.PENDING, "a still in flight")
  eq(g:op(ctx_at(0, 2, 0)).f, "b")
  eq(g:op(ctx_at(0, 2, 0)), nil)
end)

case("clients/nemesis route by thread; sleep and log are special ops", function()
  local g = gen.clients(gen.repeat_({ f = "x" }))
  eq(g:op(ctx_at(0, "nemesis")), nil)
  eq(g:op(ctx_at(0, 1)).f, "x")
  eq(gen.sleep(3):op(ctx_at(0)).type, "sleep")
  eq(gen.log("hi"):op(ctx_at(0)).value, "hi")
end)

case("lifting: functions, op tables and lists", function()
  local n = 0
  local g = gen.lift(function() n = n + 1; if n <= 2 then return { f = "f" .. n } end end)
  eq(g:op(ctx_at(0)).f, "f1"); eq(g:op(ctx_at(0)).f, "f2"); eq(g:op(ctx_at(0)), nil)
  local s = gen.lift({ { f = "a" }, { f = "b" } })
  eq(s:op(ctx_at(0)).f, "a"); eq(s:op(ctx_at(0)).f, "b"); eq(s:op(ctx_at(0)), nil)
  local ok = pcall(gen.lift, 42)
  eq(ok, false, "a number is no generator")
end)

local five = { "n1", "n2", "n3", "n4", "n5" }
local function drops(g, a, b)
  for _, x in ipairs(g[a] or {}) do if x == b then return true end end
  return false
end

case("topologies: one, majority, bridge, ring", function()
  local r = ctx_at(0).rand
  local g = nemesis.topologies.one(five, r)
  local cut = 0
  for _, id in ipairs(five) do if #(g[id] or {}) == 4 then cut = cut + 1 end end
  eq(cut, 1, "exactly one node hears nobody")
  g = nemesis.topologies.majority(five, r)
  local sizes = {}
  for _, id in ipairs(five) do sizes[#sizes + 1] = #(g[id] or {}) end
  table.sort(sizes)
  eq(table.concat(sizes, ","), "2,2,2,3,3", "majority of 3 drops 2, minority of 2 drops 3")
  g = nemesis.topologies.bridge(five, r)
  local free = 0
  for _, id in ipairs(five) do if not g[id] then free = free + 1 end end
  eq(free, 1, "the bridge drops nothing")
  g = nemesis.topologies.ring(five, r)
  for _, id in ipairs(five) do eq(#g[id], 2, "each hears a majority of 3") end
  for _, a in ipairs(five) do
    for _, b in ipairs(five) do eq(drops(g, a, b), drops(g, b, a), "ring is symmetric") end
  end
end)

case("topology isolated: every node alone, symmetric", function()
  local g = nemesis.topologies.isolated(five)
  for _, a in ipairs(five) do
    eq(#g[a], 4, a .. " hears nobody")
    for _, b in ipairs(five) do
      if a ~= b then assert(drops(g, a, b), a .. " must drop " .. b) end
    end
  end
  eq(next(nemesis.topologies.isolated({ "n1" })), nil, "one node alone: nothing to drop")
end)

case("hold schedule: every kind starts at once, nothing heals", function()
  local g = nemesis.hold({ { kind = "partition" }, { kind = "kill" } })
  local c = ctx_at(0, "nemesis")
  eq(g:op(c).f, "partition-start"); eq(g:op(c).f, "kill-start"); eq(g:op(c), nil, "then exhausted")
  eq(nemesis.hold({}):op(c), nil, "no packages, no ops")
end)

case("schedule alternates sleep, start, sleep, end", function()
  local p = { kind = "kill" }
  local g = nemesis.schedule({ p }, 5)
  local c = ctx_at(0, "nemesis")
  local a, b, d, e = g:op(c), g:op(c), g:op(c), g:op(c)
  eq(a.type, "sleep"); eq(a.value, 5); eq(b.f, "kill-start"); eq(d.type, "sleep"); eq(e.f, "kill-end")
end)

case("nemesis rng: seeded, reproducible, in range", function()
  local a, b, c = nemesis.rng(42), nemesis.rng(42), nemesis.rng(43)
  local same, differ = true, false
  for _ = 1, 100 do
    local x, y, z = a(1, 6), b(1, 6), c(1, 6)
    if x ~= y then same = false end
    if x ~= z then differ = true end
    assert(x >= 1 and x <= 6 and math.type(x) == "integer", "range: " .. tostring(x))
  end
  assert(same, "same seed, same stream")
  assert(differ, "another seed, another stream")
  local r = a()
  assert(r >= 0 and r < 1, "unit interval")
end)

-- Plan validation: write plans to temp files and check the messages.
local function write(path, text)
  local f = assert(io.open(path, "w")); f:write(text); f:close()
end
local function load_err(text, extra)
  local p = os.tmpname() .. ".lua"
  write(p, text)
  local args = { plan_path = p, root = ROOT, sets = {} }
  for k, v in pairs(extra or {}) do args[k] = v end
  local ok, e = pcall(plan.load, args)
  os.remove(p)
  if ok then return nil, p, e end
  return (type(e) == "table" and e.usage) or ("not a usage error: " .. tostring(e)), p
end

local adapter = os.tmpname() .. ".lua"
write(adapter, "return { start = function() return { argv = { 'true' } } end, client_url = function(n) return 'http://x' end }")

case("plan: a syntax error names file and line", function()
  local e, p = load_err("return {\n  nodes = 3,\n  rate = ,\n}")
  assert(e and e:find(p .. ":3:", 1, true), e)
end)

case("plan: an unknown key names file, line and key", function()
  local e, p = load_err("return {\n  db = '" .. adapter .. "',\n  nodse = 3,\n}")
  assert(e and e:find(p .. ":3: unknown plan key 'nodse'", 1, true), e)
end)

case("plan: a wrongly typed key", function()
  local e, p = load_err("return {\n  db = '" .. adapter .. "',\n  rate = 'fast',\n}")
  assert(e and e:find(p .. ":3: plan key 'rate' must be a number", 1, true), e)
end)

case("plan: a missing adapter names the db line", function()
  local e, p = load_err("return {\n  nodes = 3,\n  db = 'no-such-db',\n}")
  assert(e and e:find(p .. ":3: adapter 'no-such-db' not found", 1, true), e)
end)

case("plan: --set is typed, unknown --set keys are errors", function()
  local e = load_err("return { db = '" .. adapter .. "' }", { sets = { "rate=abc" } })
  assert(e and e:find("'abc' is not a number", 1, true), e)
  e = load_err("return { db = '" .. adapter .. "' }", { sets = { "bogus=1" } })
  assert(e and e:find("unknown plan key 'bogus'", 1, true), e)
  e = load_err("return { db = '" .. adapter .. "' }", { sets = { "nemesis=partition,flood" } })
  assert(e and e:find("unknown nemesis kind 'flood'", 1, true), e)
  local none, _, loaded = load_err("return { db = '" .. adapter .. "' }",
    { sets = { "rate=500", "nemesis=kill" }, overrides = { nodes = 3 } })
  eq(none, nil, "valid plan")
  eq(loaded.options.rate, 500); eq(math.type(loaded.options.rate), "integer")
  eq(loaded.options.nodes, 3); eq(loaded.options.nemesis, "kill")
end)

case("plan: nemesis_schedule, partitions and disk_faults are validated", function()
  local e, p = load_err("return {\n  db = '" .. adapter .. "',\n  nemesis_schedule = 'once',\n}")
  assert(e and e:find(p .. ":3: nemesis_schedule must be cycle or hold, not 'once'", 1, true), e)
  e, p = load_err("return {\n  db = '" .. adapter .. "',\n  partitions = 'one,islands',\n}")
  assert(e and e:find(p .. ":3: partitions names an unknown topology 'islands'", 1, true), e)
  assert(e:find("isolated", 1, true), "the message lists the known topologies: " .. e)
  local none, _, loaded = load_err("return { db = '" .. adapter .. "' }",
    { sets = { "nemesis_schedule=hold", "partitions=isolated" } })
  eq(none, nil, "valid plan")
  eq(loaded.options.nemesis_schedule, "hold"); eq(loaded.options.partitions, "isolated")
  none, _, loaded = load_err("return { db = '" .. adapter .. "' }")
  eq(loaded.options.nemesis_schedule, "cycle", "default")
  e, p = load_err("return {\n  db = '" .. adapter .. "',\n  disk_faults = 'bitflip,lose-synced',\n}")
  assert(e and e:find(p .. ":3: disk_faults names an unknown disk fault 'lose-synced'", 1, true), e)
  none = load_err("return { db = '" .. adapter .. "', disk_faults = 'lose-unsynced,truncate' }")
  eq(none, nil, "lose-unsynced is a disk fault")
end)

case("plan: adapter options are plan keys, typed by their defaults", function()
  local a2 = os.tmpname() .. ".lua"
  write(a2, "return { start = function() return { argv = { 'true' } } end, client_url = function(n) return 'http://x' end, options = { knob = 3 } }")
  local none, _, loaded = load_err("return { db = '" .. a2 .. "', knob = 5 }", { sets = { "knob=7" } })
  eq(none, nil, "valid plan")
  eq(loaded.options.knob, 7)
  local e = load_err("return { db = '" .. a2 .. "' }", { sets = { "knob=x" } })
  assert(e and e:find("'x' is not a number", 1, true), e)
  os.remove(a2)
end)

case("plan: the default plan loads", function()
  local ok, e = pcall(plan.load, { plan_path = ROOT .. "/workloads/plans/default.lua", root = ROOT, sets = {},
                                   db = adapter })
  assert(ok, type(e) == "table" and e.usage or tostring(e))
  eq(e.options.nodes, 5)
end)

os.remove(adapter)
print(string.format("%d tests, %d failed", n_tests, failures))
if failures > 0 then error(failures .. " failed") end
