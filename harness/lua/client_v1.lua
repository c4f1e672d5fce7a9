-- harness/lua/client_v1.lua — the default client: register ops (read/write/cas) over node protocol v1, with the contract's ok/fail/info classification.
--
-- invoke(url, op, timeout) -> completion {type = "ok"|"fail"|"info", value, error}
--   op.f = "read"  : GET  /v1/kv/{key}        200 -> ok value; 404 -> ok null
--   op.f = "write" : PUT  /v1/kv/{key}        200 -> ok
--   op.f = "cas"   : POST /v1/kv/{key}/cas    200 -> ok; 412 or 404 -> fail
-- A 503 {"error":"not_leader"|"no_leader"} promises the op did not and will
-- not take effect: fail. A connection that was never made: fail. A read
-- changes nothing, so every failed read is fail. Anything else (timeouts,
-- broken connections, other answers): info — the op may yet take effect.
local hx = require("hx")
local json = hx.json

local M = {}
-- The request function (the runner swaps in one that adds TLS files).
M.request = hx.http.request

local function key_path(op)
  local k = op.key
  if k == nil or k == hx.null then k = "r" end
  return "/v1/kv/" .. tostring(k)
end

local function decode(body)
  local v = json.decode(body or "")
  if type(v) == "table" then return v end
  return nil
end

-- The error word of an answer, for the history's "error" field.
local function reason(status, body)
  local b = decode(body)
  if b and type(b.error) == "string" then return b.error end
  return "HTTP " .. tostring(status)
end

local function definite_refusal(status, body)
  if status ~= 503 then return false end
  local b = decode(body)
  return b ~= nil and (b.error == "not_leader" or b.error == "no_leader")
end

function M.invoke(url, op, timeout)
  local f = op.f
  local req = { url = url .. key_path(op), timeout = timeout }
  if f == "read" then
    req.method = "GET"
  elseif f == "write" then
    req.method = "PUT"
    req.body = json.encode({ value = op.value })
  elseif f == "cas" then
    req.method = "POST"
    req.url = req.url .. "/cas"
    req.body = json.encode({ expect = op.value[1], value = op.value[2] })
  else
    error("client_v1: unsupported op f '" .. tostring(f) .. "' (read, write, cas)", 2)
  end
  local status, body, kind = M.request(req)
  if status == nil then
    if f == "read" or kind == "connect" then return { type = "fail", error = kind } end
    return { type = "info", error = kind }
  end
  if status == 200 then
    if f == "read" then
      local b = decode(body)
      if not b then return { type = "fail", error = "malformed answer" } end
      local v = b.value
      if v == nil then v = hx.null end
      return { type = "ok", value = v }
    end
    return { type = "ok", value = op.value }
  end
  if f == "read" then
    if status == 404 then return { type = "ok", value = hx.null } end
    return { type = "fail", error = reason(status, body) }
  end
  if f == "cas" and (status == 412 or status == 404) then
    return { type = "fail", error = reason(status, body) }
  end
  if definite_refusal(status, body) then return { type = "fail", error = reason(status, body) } end
  return { type = "info", error = reason(status, body) }
end

return M
