-- workloads/lib/casloop.lua — read-modify-CAS retry loops that turn register primitives into one workload operation with the right outcome.
--
-- The workloads (set, counter, bank) keep their state in registers of the
-- node protocol and change it only by compare-and-set of the whole value, so
-- that Raft's linearizable CAS is what makes each operation atomic. One
-- workload operation (an add, a transfer) may take several primitive calls;
-- the history records only the workload operation, and its outcome must keep
-- the contract's promise:
--   ok    the change took effect (exactly once: the CAS that succeeded)
--   fail  it certainly did not and never will: every CAS we sent was refused
--         (precondition failed or a definite error), or we never sent one
--   info  a CAS may have taken effect (timeout, broken connection, any
--         indefinite error): we stop at once; retrying could apply it twice
--
-- `call` is the primitive: call({f = "read"|"write"|"cas", key = K, value = V})
-- returns a completion {type = "ok"|"fail"|"info", value = ..., error = ...},
-- as an adapter's invoke does; a read of a missing key is ok with null.

local json = require("workloads.lib.json")

local M = {}

M.null = json.null

-- Reads key. Returns the value (json.null when missing), or nil and the
-- completion that ended the read (fail or info: either way nothing changed).
function M.read(call, key)
  local c = call({ f = "read", key = key, value = json.null })
  if c.type ~= "ok" then return nil, c end
  local v = c.value
  if v == nil then v = json.null end
  return v
end

-- Applies fn to the value of key with CAS, retrying on contention.
-- fn(current) returns the new value, or nil and a reason to refuse (the
-- operation then ends fail with that reason, nothing written).
-- Returns {type, error, value = the new value when ok, old = what it replaced,
-- attempts}.
function M.update(call, key, fn, retries)
  retries = retries or 10
  local attempts, last_err = 0, nil
  while attempts < retries do
    attempts = attempts + 1
    local cur, rc = M.read(call, key)
    if cur == nil then
      -- The read failed: no CAS of ours is outstanding, so nothing happened.
      return { type = "fail", error = "read: " .. tostring(rc.error or rc.type), attempts = attempts }
    end
    local new, refusal = fn(cur)
    if new == nil then
      return { type = "fail", error = refusal or "refused", attempts = attempts, old = cur }
    end
    local c = call({ f = "cas", key = key, value = { cur, new } })
    if c.type == "ok" then
      return { type = "ok", value = new, old = cur, attempts = attempts }
    elseif c.type == "info" then
      return { type = "info", error = "cas: " .. tostring(c.error or "indeterminate"), attempts = attempts }
    end
    -- A definite refusal: someone else changed the value first (or the
    -- cluster had no leader); our CAS never applies, so trying again is safe.
    last_err = c.error or "cas refused"
  end
  return { type = "fail", error = string.format("gave up after %d CAS attempts (last: %s)", attempts,
                                                tostring(last_err)), attempts = attempts }
end

-- Makes key exist with value `initial` unless it already holds something,
-- retrying through fail and info answers (the cluster may still be electing
-- its first leader). Setup runs before any workload operation, so repeating
-- the same write cannot undo anybody's update. Used once, by one process:
-- two concurrent initialisers could overwrite each other's later updates.
-- pace (optional) = {sleep = fn(s), now = fn() -> s, deadline = s}: sleep
-- between attempts (growing to 0.5 s), and give up once now() passes the
-- deadline; without it, `attempts` (default 25) tries back to back.
function M.init(call, key, initial, pace, attempts)
  pace = pace or {}
  local last
  for i = 1, attempts or 25 do
    local cur, rc = M.read(call, key)
    if cur ~= nil then
      if not json.is_null(cur) then return { type = "ok", value = cur, existed = true } end
      local c = call({ f = "write", key = key, value = initial })
      if c.type == "ok" then return { type = "ok", value = initial } end
      last = c
    else
      last = rc
    end
    if pace.now and pace.deadline and pace.now() >= pace.deadline then break end
    if pace.sleep then pace.sleep(math.min(0.05 * i, 0.5)) end
  end
  return { type = last.type, error = last.error }
end

return M
