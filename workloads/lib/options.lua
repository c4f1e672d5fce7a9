-- workloads/lib/options.lua — workload options: defaults merged with plan and --set values, converted and checked with errors that name the option.
--
-- Values from --set arrive as strings ("4", "true", "0.2"); plans give Lua
-- values. Both are accepted. Keys a workload does not know are left alone:
-- the same table carries the plan's other options (nemesis, rate, ...).

local M = {}

-- Copies `defaults`, then every key of `given` (which may be nil).
function M.merge(who, defaults, given)
  if given ~= nil and type(given) ~= "table" then
    error(string.format("%s: options must be a table, got %s", who, type(given)), 3)
  end
  local o = {}
  for k, v in pairs(defaults) do o[k] = v end
  for k, v in pairs(given or {}) do o[k] = v end
  return o
end

local function fail(who, name, want, v)
  error(string.format("%s: option %s must be %s, got %s", who, name, want, tostring(v)), 3)
end

-- Integer option, at least min (and at most max when given).
function M.int(who, o, name, min, max)
  local v = o[name]
  local n = math.tointeger(tonumber(v))
  local want = max and string.format("an integer in %d..%d", min, max) or string.format("an integer ≥ %d", min)
  if n == nil or n < min or (max and n > max) then fail(who, name, want, v) end
  o[name] = n
  return n
end

-- Number in [0, 1].
function M.ratio(who, o, name)
  local n = tonumber(o[name])
  if n == nil or n < 0 or n > 1 then fail(who, name, "a number in 0..1", o[name]) end
  o[name] = n
  return n
end

function M.bool(who, o, name)
  local v = o[name]
  if v == "true" or v == "1" then v = true elseif v == "false" or v == "0" then v = false end
  if type(v) ~= "boolean" then fail(who, name, "true or false", o[name]) end
  o[name] = v
  return v
end

-- A non-empty string without "/" or spaces (it becomes part of a key).
function M.word(who, o, name)
  local v = o[name]
  if type(v) ~= "string" or not v:match("^[%w_.-]+$") then fail(who, name, "a word ([A-Za-z0-9_.-]+)", v) end
  return v
end

return M
