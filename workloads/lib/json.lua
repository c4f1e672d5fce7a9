-- workloads/lib/json.lua — a small pure-Lua JSON codec, so checkers and tools can read history.jsonl without a C module.
--
-- JSON null decodes to json.null (a unique sentinel), never to nil, so that a
-- read of a missing key ({"value": null}) stays distinguishable from an absent
-- field, and arrays with nulls keep their length. Objects decode to tables
-- with string keys, arrays to sequences tagged with the metatable json.array
-- so that an empty array re-encodes as [] and not {}.

local M = {}

-- Inside bin/rapat the harness's own null (hx.null, a light userdata) is the
-- sentinel, so that values built here cross into the harness's C JSON
-- conversion as null (a plain table would become []). Outside the harness
-- (tests, tools) a private table stands in for it.
local own_null = setmetatable({}, { __name = "json.null", __tostring = function() return "null" end })
local function harness_null()
  local ok, hx = pcall(require, "hx")
  if not ok or type(hx) ~= "table" then return nil end
  if hx.null ~= nil then return hx.null end
  if type(hx.json) == "table" then return hx.json.null end
  return nil
end
M.null = harness_null() or own_null
M.array_mt = { __name = "json.array" }

-- True for JSON null however a producer spelled it: the sentinel, nil, or a
-- NULL light userdata (lua-cjson and many C bindings use one).
function M.is_null(v)
  return v == nil or v == M.null or v == own_null
    or (type(v) == "userdata" and tostring(v):find("^userdata: %(nil%)") ~= nil)
end

local escapes = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

local function decode_error(s, pos, what)
  local line, col = 1, 1
  for i = 1, math.min(pos - 1, #s) do
    if s:sub(i, i) == "\n" then line, col = line + 1, 1 else col = col + 1 end
  end
  error(string.format("json: %s at line %d column %d", what, line, col), 0)
end

local function skip_ws(s, pos)
  return (s:find("[^ \t\r\n]", pos)) or #s + 1
end

local function utf8_of(code) return utf8.char(code) end

local decode_value -- forward

local function decode_string(s, pos)
  -- pos is at the opening quote
  local out, i = {}, pos + 1
  while true do
    local j = s:find('["\\]', i)
    if not j then decode_error(s, pos, "unterminated string") end
    out[#out + 1] = s:sub(i, j - 1)
    if s:sub(j, j) == '"' then return table.concat(out), j + 1 end
    local c = s:sub(j + 1, j + 1)
    if c == "u" then
      local hex = s:sub(j + 2, j + 5)
      if not hex:match("^%x%x%x%x$") then decode_error(s, j, "bad \\u escape") end
      local code, nexti = tonumber(hex, 16), j + 6
      if code >= 0xD800 and code <= 0xDBFF and s:sub(nexti, nexti + 1) == "\\u" then
        local lo = tonumber(s:sub(nexti + 2, nexti + 5), 16)
        if lo and lo >= 0xDC00 and lo <= 0xDFFF then
          code = 0x10000 + (code - 0xD800) * 0x400 + (lo - 0xDC00)
          nexti = nexti + 6
        end
      end
      out[#out + 1] = utf8_of(code)
      i = nexti
    elseif escapes[c] then
      out[#out + 1] = escapes[c]
      i = j + 2
    else
      decode_error(s, j, "bad escape \\" .. c)
    end
  end
end

local function decode_number(s, pos)
  local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
  if not num or num == "" or num == "-" then decode_error(s, pos, "bad number") end
  local v = math.tointeger(tonumber(num)) or tonumber(num)
  if v == nil then decode_error(s, pos, "bad number " .. num) end
  return v, pos + #num
end

function decode_value(s, pos)
  pos = skip_ws(s, pos)
  local c = s:sub(pos, pos)
  if c == "{" then
    local obj = {}
    pos = skip_ws(s, pos + 1)
    if s:sub(pos, pos) == "}" then return obj, pos + 1 end
    while true do
      pos = skip_ws(s, pos)
      if s:sub(pos, pos) ~= '"' then decode_error(s, pos, "expected object key") end
      local k
      k, pos = decode_string(s, pos)
      pos = skip_ws(s, pos)
      if s:sub(pos, pos) ~= ":" then decode_error(s, pos, "expected ':'") end
      obj[k], pos = decode_value(s, pos + 1)
      pos = skip_ws(s, pos)
      local d = s:sub(pos, pos)
      if d == "}" then return obj, pos + 1 end
      if d ~= "," then decode_error(s, pos, "expected ',' or '}'") end
      pos = pos + 1
    end
  elseif c == "[" then
    local arr, n = setmetatable({}, M.array_mt), 0
    pos = skip_ws(s, pos + 1)
    if s:sub(pos, pos) == "]" then return arr, pos + 1 end
    while true do
      n = n + 1
      arr[n], pos = decode_value(s, pos)
      pos = skip_ws(s, pos)
      local d = s:sub(pos, pos)
      if d == "]" then return arr, pos + 1 end
      if d ~= "," then decode_error(s, pos, "expected ',' or ']'") end
      pos = pos + 1
    end
  elseif c == '"' then
    return decode_string(s, pos)
  elseif c == "-" or c:match("%d") then
    return decode_number(s, pos)
  elseif s:sub(pos, pos + 3) == "true" then
    return true, pos + 4
  elseif s:sub(pos, pos + 4) == "false" then
    return false, pos + 5
  elseif s:sub(pos, pos + 3) == "null" then
    return M.null, pos + 4
  end
  decode_error(s, pos, c == "" and "unexpected end of input" or ("unexpected '" .. c .. "'"))
end

-- Decodes one JSON text. Raises "json: <what> at line L column C" on bad input.
function M.decode(s)
  local v, pos = decode_value(s, 1)
  pos = skip_ws(s, pos)
  if pos <= #s then decode_error(s, pos, "trailing characters") end
  return v
end

local function is_array(t)
  if getmetatable(t) == M.array_mt then return true end
  local n = 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 then return false end
    n = n + 1
  end
  return n > 0 and n == #t
end

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    local e = ({ ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" })[c]
    return e or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function encode(v, out, seen)
  local t = type(v)
  if M.is_null(v) then
    out[#out + 1] = "null"
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then
      error("json: cannot encode " .. tostring(v), 0)
    end
    if math.type(v) == "integer" then
      out[#out + 1] = tostring(v)
    else
      -- The shortest text that reads back as the same number: 0.792, not
      -- 0.79200000000000004.
      local txt = string.format("%.14g", v)
      if tonumber(txt) ~= v then txt = string.format("%.17g", v) end
      if not txt:find("[.eEn]") then txt = txt .. ".0" end
      out[#out + 1] = txt
    end
  elseif t == "string" then
    out[#out + 1] = encode_string(v)
  elseif t == "table" then
    if seen[v] then error("json: cannot encode a cyclic table", 0) end
    seen[v] = true
    if is_array(v) then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        encode(v[i], out, seen)
      end
      out[#out + 1] = "]"
    else
      -- Sorted keys: the same table always encodes to the same text, which
      -- keeps results.json diffable and test expectations stable.
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = encode_string(k)
        out[#out + 1] = ":"
        local val = v[k]
        if val == nil then val = v[tonumber(k)] end
        encode(val, out, seen)
      end
      out[#out + 1] = "}"
    end
    seen[v] = nil
  else
    error("json: cannot encode a " .. t, 0)
  end
end

-- Encodes a Lua value. Tables with keys 1..n (or tagged json.array) become
-- arrays; other tables become objects with sorted keys.
function M.encode(v)
  local out = {}
  encode(v, out, {})
  return table.concat(out)
end

-- Marks a table as a JSON array (so that {} encodes as []).
function M.array(t)
  return setmetatable(t or {}, M.array_mt)
end

return M
