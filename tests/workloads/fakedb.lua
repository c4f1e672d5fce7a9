-- tests/workloads/fakedb.lua — an in-memory register store with scripted faults, and a sequential run loop, to test workloads end to end without a cluster.
--
-- The store is linearizable by construction (one Lua state, one call at a
-- time). Faults are drawn from a seeded LCG, never from the clock, so every
-- run of a test sees the same history.

local json = require("workloads.lib.json")

local M = {}

-- A deterministic PRNG: rand() in [0,1).
function M.rng(seed)
  local x = seed or 1
  return function()
    x = (x * 1103515245 + 12345) % 2147483648
    return x / 2147483648
  end
end

local function copy(v)
  if type(v) ~= "table" or json.is_null(v) then return v end
  local t = setmetatable({}, getmetatable(v))
  for k, x in pairs(v) do t[k] = copy(x) end
  return t
end

local function equal(a, b)
  if json.is_null(a) and json.is_null(b) then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  for k, v in pairs(a) do if not equal(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

-- A store. opts (all optional, probabilities per primitive call):
--   p_fail         refuse before doing anything (fail, nothing applied)
--   p_info_applied apply, then answer info (a lost reply)
--   p_info_lost    do nothing, answer info (a lost request)
--   bug            "lose_acked": acknowledge writes/CAS without applying them
--                  "fail_applied": apply writes/CAS but answer fail (a lie)
--                  "stale_read": reads return the value of an earlier call
--   p_bug          how often the bug strikes (default 0.2)
--   interfere      function(key) run between a workload's read and its CAS,
--                  i.e. another client's operation slipping in
function M.store(opts, rand)
  opts = opts or {}
  rand = rand or M.rng(7)
  local data, previous = {}, {}
  local s = { data = data, calls = 0 }
  function s.call(op)
    s.calls = s.calls + 1
    local r = rand()
    if r < (opts.p_fail or 0) then return { type = "fail", error = "no_leader" } end
    r = r - (opts.p_fail or 0)
    local lost_request = r < (opts.p_info_lost or 0)
    if lost_request then return { type = "info", error = "timeout" } end
    r = r - (opts.p_info_lost or 0)
    local info_after = r < (opts.p_info_applied or 0)
    local bug = opts.bug and rand() < (opts.p_bug or 0.2)
    local k = op.key
    if op.f == "read" then
      if bug and opts.bug == "stale_read" and previous[k] ~= nil then
        return { type = "ok", value = copy(previous[k]) }
      end
      local v = data[k]
      if v == nil then v = json.null end
      if opts.interfere and s.in_loop then opts.interfere(k) end
      return { type = "ok", value = copy(v) }
    end
    local function apply(v)
      if bug and opts.bug == "lose_acked" then return end
      previous[k] = data[k]
      data[k] = copy(v)
    end
    local answer_fail = bug and opts.bug == "fail_applied"
    if op.f == "write" then
      apply(op.value)
    elseif op.f == "cas" then
      local cur = data[k]
      if cur == nil then return { type = "fail", error = "not_found" } end
      if not equal(cur, op.value[1]) then return { type = "fail", error = "precondition_failed", actual = copy(cur) } end
      apply(op.value[2])
    else
      error("fakedb: unknown f " .. tostring(op.f))
    end
    if answer_fail then return { type = "fail", error = "precondition_failed" } end
    if info_after then return { type = "info", error = "timeout" } end
    return { type = "ok", value = op.value }
  end
  return s
end

-- Runs a workload sequentially: setup, n main-phase operations spread over
-- `procs` processes (a process whose op ends info is replaced, as in the
-- harness), a partition-start/end pair in the middle, then one final read per
-- process. Returns the history (a list of events with increasing times).
function M.run(w, o, store, n, procs, rand)
  procs = procs or 3
  local events, t = {}, 0
  local function rec(ev)
    t = t + 1000000
    ev.index, ev.time = #events, t
    events[#events + 1] = ev
  end
  local ok, err = w.setup(store.call, o)
  assert(ok, err)
  local gen = w.next_op_fn(o, rand)
  M.gen = gen -- the run's generator, for interfering operations
  local pids, next_pid = {}, procs
  for i = 1, procs do pids[i] = i - 1 end
  local function perform(slot, op)
    local p = pids[slot]
    rec({ process = p, type = "invoke", f = op.f, key = op.key, value = op.value })
    store.in_loop = true
    local c = w.invoke(store.call, op, o)
    store.in_loop = false
    rec({ process = p, type = c.type, f = op.f, key = op.key, value = c.value, error = c.error })
    if c.type == "info" then
      next_pid = next_pid + 1
      pids[slot] = next_pid
    end
    return c
  end
  M.perform = perform
  for i = 1, n do
    if i == n // 3 then rec({ process = "nemesis", type = "info", f = "partition-start", value = {} }) end
    if i == 2 * n // 3 then rec({ process = "nemesis", type = "info", f = "partition-end", value = json.null }) end
    perform((i % procs) + 1, gen(pids[(i % procs) + 1]))
  end
  if w.final_op then
    for slot = 1, procs do
      -- until ok, as a final phase does; the store's faults still apply
      for _ = 1, 20 do
        if perform(slot, w.final_op()).type == "ok" then break end
      end
    end
  end
  return events
end

return M
