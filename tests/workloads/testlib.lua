-- tests/workloads/testlib.lua — a tiny test library for the workload tests: a history builder and assertions that name the case.
--
-- The tests run with the plain lua5.4 interpreter from the repository root
-- (tests/workloads/lua_tests.sh sets package.path), so they need no harness.

local M = {}

-- JSON null as the checkers see it (see workloads/lib/json.lua).
M.null = require("workloads.lib.json").null

-- History builder. Every event advances the clock by `step` ns (1 ms by
-- default) unless at(t) set it; times are therefore strictly increasing and
-- tests never depend on the real clock.
local Builder = {}
Builder.__index = Builder

function M.history()
  return setmetatable({ events = {}, t = 0, step = 1000000 }, Builder)
end

-- Sets the time (in milliseconds) of the next event.
function Builder:at(ms)
  self.t = math.floor(ms * 1e6)
  self.fixed = true
  return self
end

function Builder:push(ev)
  if not self.fixed then self.t = self.t + self.step end
  self.fixed = false
  ev.index = #self.events
  ev.time = self.t
  self.events[#self.events + 1] = ev
  return self
end

function Builder:invoke(p, f, value, key)
  return self:push({ process = p, type = "invoke", f = f, value = value, key = key })
end

function Builder:complete(p, typ, f, value, key, err)
  return self:push({ process = p, type = typ, f = f, value = value, key = key, error = err })
end

-- invoke + immediate completion.
function Builder:op(p, f, invoke_value, typ, value, key)
  self:invoke(p, f, invoke_value, key)
  if typ then self:complete(p, typ, f, value == nil and invoke_value or value, key) end
  return self
end

function Builder:nemesis(f, value)
  return self:push({ process = "nemesis", type = "info", f = f, value = value })
end

local failures, cases = 0, 0

-- Runs one named case; a failing assertion reports the case and continues.
function M.case(name, fn)
  cases = cases + 1
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    print("ok    " .. name)
  else
    failures = failures + 1
    print("FAIL  " .. name .. "\n" .. tostring(err))
  end
end

function M.eq(got, want, what)
  if got ~= want then
    error(string.format("%s: got %s, want %s", what or "value", tostring(got), tostring(want)), 2)
  end
end

function M.truthy(v, what)
  if not v then error((what or "condition") .. " is false", 2) end
end

-- True when some string in list contains the plain text `needle`.
function M.mentions(list, needle, what)
  for _, s in ipairs(list or {}) do
    if type(s) == "string" and s:find(needle, 1, true) then return end
  end
  error(string.format("%s: no message mentions %q (messages: %s)", what or "messages", needle,
    table.concat(list or {}, " | ")), 2)
end

-- Ends the test file: exit status 0 when every case passed.
function M.done()
  print(string.format("%d cases, %d failed", cases, failures))
  os.exit(failures == 0 and 0 or 1)
end

return M
