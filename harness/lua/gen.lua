-- harness/lua/gen.lua — Jepsen-style generators made Lua-native: stateful op streams composed with mix, stagger, limit, time_limit, phases, each_thread, once, until_ok, sleep, flip_flop.
--
-- A generator is an object with
--   g:op(ctx)            -> op            the next operation (a fresh table)
--                        -> nil           exhausted, for this thread, forever
--                        -> gen.PENDING, t  nothing now; ask again at time t
--                                           (seconds since run start; nil = soon)
--   g:update(ctx, op, completion)  told about every completion of an op it
--                                  (or a child) emitted; optional.
-- ctx = { time = seconds since run start, thread = 1..n or "nemesis",
--         process = the thread's current process, rand = function(m, n),
--         in_flight = function() -> ops outstanding across all threads }.
-- Generators are shared by every thread that pulls from them (all threads run
-- on one OS thread as coroutines, so no locking); use each_thread for a copy
-- per thread. Special ops: {type = "sleep", value = s} makes the thread sleep,
-- {type = "log", value = msg} writes to harness.log.
-- Plain values are lifted: a function f(ctx) -> op|nil is called for every op
-- (a source that never ends unless it returns nil); an op table {f = ...} is
-- emitted once; a list of generators runs them one after the other.

local gen = {}

gen.PENDING = setmetatable({}, { __name = "gen.PENDING", __tostring = function() return "PENDING" end })
local PENDING = gen.PENDING

local G = {}
G.__index = G
G.__name = "generator"

local function noop() end

local function new(name, op, update)
  return setmetatable({ name = name, op = op, update = update or noop }, G)
end
gen.new = new

function gen.is_gen(x) return getmetatable(x) == G end

local function copy(op)
  local c = {}
  for k, v in pairs(op) do c[k] = v end
  return c
end
gen.copy = copy

local lift

-- Emits op once (a copy of it).
function gen.once(op)
  local done = false
  return new("once", function(self, ctx)
    if done then return nil end
    done = true
    return copy(op)
  end)
end

-- Calls fn(ctx) for each op until it returns nil.
function gen.fn(fn)
  local ended = false
  return new("fn", function(self, ctx)
    if ended then return nil end
    local op = fn(ctx)
    if op == nil then ended = true; return nil end
    return op
  end)
end

-- Emits a copy of op forever, or n times.
function gen.repeat_(op, n)
  local left = n
  return new("repeat", function(self, ctx)
    if left then
      if left <= 0 then return nil end
      left = left - 1
    end
    return copy(op)
  end)
end

-- Runs the given generators one after another (no synchronisation).
function gen.seq(list)
  local gens = {}
  for i, g in ipairs(list) do gens[i] = lift(g) end
  local i = 1
  return new("seq", function(self, ctx)
    while gens[i] do
      local op, t = gens[i]:op(ctx)
      if op ~= nil then return op, t end
      i = i + 1
    end
    return nil
  end, function(self, ctx, op, c)
    for _, g in ipairs(gens) do g:update(ctx, op, c) end
  end)
end

lift = function(x)
  if gen.is_gen(x) then return x end
  local t = type(x)
  if t == "function" then return gen.fn(x) end
  if t == "table" then
    if x.f ~= nil or x.type ~= nil then return gen.once(x) end
    return gen.seq(x)
  end
  error("gen: cannot make a generator out of a " .. t, 3)
end
gen.lift = lift

-- Picks uniformly at random among the generators that still have ops.
function gen.mix(list)
  local gens = {}
  for i, g in ipairs(list) do gens[i] = lift(g) end
  return new("mix", function(self, ctx)
    local soonest
    while #gens > 0 do
      local order = {}
      for i = 1, #gens do order[i] = i end
      for i = #order, 2, -1 do
        local j = ctx.rand(1, i)
        order[i], order[j] = order[j], order[i]
      end
      local exhausted = nil
      for _, i in ipairs(order) do
        local op, t = gens[i]:op(ctx)
        if op == nil then
          exhausted = i
          break
        elseif op == PENDING then
          if t and (not soonest or t < soonest) then soonest = t end
        else
          return op
        end
      end
      if not exhausted then return PENDING, soonest end
      table.remove(gens, exhausted)
    end
    return nil
  end, function(self, ctx, op, c)
    for _, g in ipairs(gens) do g:update(ctx, op, c) end
  end)
end

-- Takes from whichever generator has an op first (in order); ends when all end.
function gen.any(list)
  local gens = {}
  for i, g in ipairs(list) do gens[i] = lift(g) end
  return new("any", function(self, ctx)
    local soonest
    local i = 1
    while i <= #gens do
      local op, t = gens[i]:op(ctx)
      if op == nil then
        table.remove(gens, i)
      elseif op == PENDING then
        if t and (not soonest or t < soonest) then soonest = t end
        i = i + 1
      else
        return op
      end
    end
    if #gens == 0 then return nil end
    return PENDING, soonest
  end, function(self, ctx, op, c)
    for _, g in ipairs(gens) do g:update(ctx, op, c) end
  end)
end

-- At most n ops in total (across threads).
function gen.limit(n, g)
  g = lift(g)
  local left = n
  return new("limit", function(self, ctx)
    if left <= 0 then return nil end
    local op, t = g:op(ctx)
    if op ~= nil and op ~= PENDING then left = left - 1 end
    return op, t
  end, function(self, ctx, op, c) g:update(ctx, op, c) end)
end

-- Ops for dt seconds, counted from the first time anyone asks.
function gen.time_limit(dt, g)
  g = lift(g)
  local deadline
  return new("time_limit", function(self, ctx)
    deadline = deadline or ctx.time + dt
    if ctx.time >= deadline then return nil end
    local op, t = g:op(ctx)
    if op == PENDING and t and t > deadline then t = deadline end
    return op, t
  end, function(self, ctx, op, c) g:update(ctx, op, c) end)
end

-- Ops at random intervals uniform in [0, 2*dt] (a total rate of 1/dt, not
-- per thread). A thread that finds nothing due waits for the next slot.
function gen.stagger(dt, g)
  g = lift(g)
  local next_t
  return new("stagger", function(self, ctx)
    next_t = next_t or ctx.time
    if ctx.time < next_t then return PENDING, next_t end
    local op, t = g:op(ctx)
    if op == nil or op == PENDING then return op, t end
    -- Catch up after a stall, but never by more than a second's burst.
    if next_t < ctx.time - 1 then next_t = ctx.time end
    next_t = next_t + ctx.rand() * 2 * dt
    return op
  end, function(self, ctx, op, c) g:update(ctx, op, c) end)
end

-- r ops per second in total, at random intervals.
function gen.rate(r, g)
  if r <= 0 then return lift(g) end
  return gen.stagger(1 / r, g)
end

-- Ops exactly dt apart (catching up if behind).
function gen.delay(dt, g)
  g = lift(g)
  local next_t
  return new("delay", function(self, ctx)
    next_t = next_t or ctx.time
    if ctx.time < next_t then return PENDING, next_t end
    local op, t = g:op(ctx)
    if op == nil or op == PENDING then return op, t end
    next_t = next_t + dt
    return op
  end, function(self, ctx, op, c) g:update(ctx, op, c) end)
end

-- A sleep of dt seconds for the thread that takes it.
function gen.sleep(dt) return gen.once({ type = "sleep", value = dt }) end

-- A line in harness.log.
function gen.log(msg) return gen.once({ type = "log", value = msg }) end

-- An independent generator per thread: factory(thread) builds it.
function gen.each_thread(factory)
  if type(factory) ~= "function" then
    -- A generator object cannot be copied (it has state); an op table or a
    -- list of them can: each thread lifts its own.
    if gen.is_gen(factory) then
      error("gen.each_thread: pass a function that builds the generator (generators are stateful)", 2)
    end
    local template = factory
    factory = function() return template end
  end
  local per = {}
  local function get(ctx)
    local g = per[ctx.thread]
    if not g then g = lift(factory(ctx.thread)); per[ctx.thread] = g end
    return g
  end
  return new("each_thread", function(self, ctx)
    return get(ctx):op(ctx)
  end, function(self, ctx, op, c)
    local g = per[ctx.thread]
    if g then g:update(ctx, op, c) end
  end)
end

-- Repeats g's ops until one of them completes ok (e.g. final reads). Only
-- one op is outstanding at a time, so use it per thread (each_thread).
function gen.until_ok(g)
  g = lift(g)
  local done, outstanding = false, nil
  return new("until_ok", function(self, ctx)
    if done then return nil end
    if outstanding then return PENDING end
    local op, t = g:op(ctx)
    if op ~= nil and op ~= PENDING then outstanding = op end
    return op, t
  end, function(self, ctx, op, c)
    g:update(ctx, op, c)
    if op == outstanding then
      outstanding = nil
      if c.type == "ok" then done = true end
    end
  end)
end

-- Alternates a, b, a, b, ... until either is exhausted (fault start/stop).
function gen.flip_flop(a, b)
  local gens = { lift(a), lift(b) }
  local i = 1
  return new("flip_flop", function(self, ctx)
    local op, t = gens[i]:op(ctx)
    if op == nil then return nil end
    if op ~= PENDING then i = 3 - i end
    return op, t
  end, function(self, ctx, op, c)
    gens[1]:update(ctx, op, c); gens[2]:update(ctx, op, c)
  end)
end

-- Each generator to exhaustion, and between two phases wait until no op is
-- in flight on any thread (Jepsen's synchronize).
function gen.phases(list)
  local gens = {}
  for i, g in ipairs(list) do gens[i] = lift(g) end
  local i, barrier = 1, false
  return new("phases", function(self, ctx)
    while gens[i] do
      if barrier then
        if ctx.in_flight() > 0 then return PENDING end
        barrier = false
      end
      local op, t = gens[i]:op(ctx)
      if op ~= nil then return op, t end
      i = i + 1
      barrier = true
    end
    return nil
  end, function(self, ctx, op, c)
    for _, g in ipairs(gens) do g:update(ctx, op, c) end
  end)
end

-- Ops only for client threads / only for the nemesis thread.
function gen.clients(g)
  g = lift(g)
  return new("clients", function(self, ctx)
    if ctx.thread == "nemesis" then return nil end
    return g:op(ctx)
  end, function(self, ctx, op, c) g:update(ctx, op, c) end)
end

function gen.nemesis(g)
  g = lift(g)
  return new("nemesis", function(self, ctx)
    if ctx.thread ~= "nemesis" then return nil end
    return g:op(ctx)
  end, function(self, ctx, op, c) g:update(ctx, op, c) end)
end

-- Transforms every op (fn(op, ctx) -> op).
function gen.map(fn, g)
  g = lift(g)
  return new("map", function(self, ctx)
    local op, t = g:op(ctx)
    if op == nil or op == PENDING then return op, t end
    return fn(op, ctx)
  end, function(self, ctx, op, c) g:update(ctx, op, c) end)
end

-- Drops ops for which pred(op, ctx) is false.
function gen.filter(pred, g)
  g = lift(g)
  return new("filter", function(self, ctx)
    for _ = 1, 1000 do
      local op, t = g:op(ctx)
      if op == nil or op == PENDING then return op, t end
      if pred(op, ctx) then return op end
    end
    return PENDING
  end, function(self, ctx, op, c) g:update(ctx, op, c) end)
end

return gen
