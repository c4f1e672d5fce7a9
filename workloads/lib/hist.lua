-- workloads/lib/hist.lua — shared history helpers for the Lua checkers: loading history.jsonl, pairing invocations with completions, times.
--
-- A history is a sequence of events as the contract defines them:
--   {index, time, process, type, f, key, value, node, error}
-- Client events have an integer process; faults have process "nemesis".
-- `time` (nanoseconds) may be missing, as for `rapat check`: then the
-- event's position stands in for it, which keeps "before"/"after" right.

local json = require("workloads.lib.json")

local M = {}

M.null = json.null
M.is_null = json.is_null

-- The time of an event: its `time`, else its `index`, else its position.
function M.time_of(ev, pos)
  return ev.time or ev.index or pos
end

function M.is_client(ev)
  return ev.process ~= "nemesis"
end

-- The JSON decoder for histories: the harness's C one (jansson, about ten
-- times faster on the large arrays of set reads) inside bin/rapat, ours
-- elsewhere. Both give JSON null as json.null (which is hx.null inside).
local function decoder()
  local ok, hx = pcall(require, "hx")
  if ok and type(hx) == "table" and type(hx.json) == "table" and type(hx.json.decode) == "function" then
    local decode = hx.json.decode
    return function(s)
      local v, err = decode(s)
      if v == nil then error(tostring(err or "malformed JSON"), 0) end
      return v
    end
  end
  return json.decode
end

-- Reads a JSON Lines history file into a list of events.
-- Returns the list, or nil and "FILE:LINE: reason".
function M.load(path)
  local fh, err = io.open(path, "r")
  if not fh then return nil, err end
  local decode = decoder()
  local events, lineno = {}, 0
  for line in fh:lines() do
    lineno = lineno + 1
    if line:find("%S") then
      local ok, ev = pcall(decode, line)
      if not ok then
        fh:close()
        return nil, string.format("%s:%d: %s", path, lineno, ev)
      end
      if type(ev) ~= "table" or type(ev.type) ~= "string" then
        fh:close()
        return nil, string.format("%s:%d: not an event object (needs \"type\")", path, lineno)
      end
      events[#events + 1] = ev
    end
  end
  fh:close()
  return events
end

-- Pairs each client invocation with its completion (the next event of the
-- same process). Returns a list of operations in invocation order:
--   {f, key, value (the completion's when it has one, else the invocation's),
--    invoke_value, type ("ok"|"fail"|"info"|nil when it never completed),
--    invoke_time, complete_time (nil if never completed),
--    invoke_index, complete_index, process, node, error}
-- Events of other f's are included too; callers filter.
function M.pair(history)
  local ops, open = {}, {}
  for pos, ev in ipairs(history) do
    if M.is_client(ev) then
      local t = M.time_of(ev, pos)
      if ev.type == "invoke" then
        local op = {
          f = ev.f, key = ev.key, value = ev.value, invoke_value = ev.value,
          invoke_time = t, invoke_index = ev.index or pos, process = ev.process,
        }
        ops[#ops + 1] = op
        open[ev.process] = op
      elseif ev.type == "ok" or ev.type == "fail" or ev.type == "info" then
        local op = open[ev.process]
        if op then
          open[ev.process] = nil
          op.type = ev.type
          op.complete_time = t
          op.complete_index = ev.index or pos
          op.node = ev.node
          op.error = ev.error
          if ev.value ~= nil then op.value = ev.value end
        end
      end
    end
  end
  return ops
end

-- The nemesis events as {f, kind, phase ("start"|"end"|nil), time, index, value}.
function M.faults(history)
  local out = {}
  for pos, ev in ipairs(history) do
    if ev.process == "nemesis" and type(ev.f) == "string" then
      local kind, phase = ev.f:match("^(.-)%-(start)$")
      if not kind then kind, phase = ev.f:match("^(.-)%-(end)$") end
      out[#out + 1] = { f = ev.f, kind = kind or ev.f, phase = phase,
                        time = M.time_of(ev, pos), index = ev.index or pos, value = ev.value }
    end
  end
  return out
end

-- The intervals during which each fault kind was in force:
-- { partition = { {start=t0, ["end"]=t1}, ... }, ... }. A start without an
-- end lasts until `last_time` (the end of the history); a second start of
-- the same kind while one is open is folded into the open interval.
function M.fault_intervals(history, last_time)
  local by_kind, open = {}, {}
  for _, fe in ipairs(M.faults(history)) do
    if fe.phase == "start" then
      if not open[fe.kind] then
        local iv = { start = fe.time }
        by_kind[fe.kind] = by_kind[fe.kind] or {}
        table.insert(by_kind[fe.kind], iv)
        open[fe.kind] = iv
      end
    elseif fe.phase == "end" then
      local iv = open[fe.kind]
      if iv then
        iv["end"] = fe.time
        open[fe.kind] = nil
      end
    end
  end
  for _, iv in pairs(open) do iv["end"] = last_time end
  return by_kind
end

-- The largest time in the history (0 for an empty one).
function M.last_time(history)
  local m = 0
  for pos, ev in ipairs(history) do
    local t = M.time_of(ev, pos)
    if t > m then m = t end
  end
  return m
end

-- Nearest-rank quantile of a sorted list (q in [0,1]); nil for an empty one.
function M.quantile(sorted, q)
  local n = #sorted
  if n == 0 then return nil end
  local r = math.ceil(q * n)
  if r < 1 then r = 1 end
  return sorted[r]
end

-- Values as the history shows them, for messages: JSON text.
function M.show(v)
  local ok, s = pcall(json.encode, v)
  return ok and s or tostring(v)
end

-- An empty list that encodes as [] (not {}) when it stays empty.
function M.list()
  return json.array({})
end

-- Nanoseconds to seconds, rounded to the millisecond, for reports.
function M.seconds(ns)
  if ns == nil then return nil end
  return math.floor(ns / 1e6 + 0.5) / 1000
end

return M
