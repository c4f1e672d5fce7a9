-- tests/workloads/test_json_tool.lua — the JSON codec and workloads/tools/check.lua end to end on history files (exit codes 0/1/2/3).
local T = require("tests.workloads.testlib")
local json = require("workloads.lib.json")
local hist = require("workloads.lib.hist")

T.case("json: decode and re-encode", function()
  local v = json.decode('{"a":[1,2.5,"x\\n\\u00e9",null,true],"b":{},"c":[]}')
  T.eq(v.a[1], 1, "integer")
  T.eq(math.type(v.a[1]), "integer", "integer type")
  T.eq(v.a[2], 2.5, "float")
  T.eq(v.a[3], "x\né", "escapes")
  T.eq(v.a[4], json.null, "null")
  T.eq(#v.a, 5, "array length with a null inside")
  T.eq(json.encode(v), '{"a":[1,2.5,"x\\né",null,true],"b":{},"c":[]}', "encode")
end)

T.case("json: floats in their shortest exact form", function()
  T.eq(json.encode({ 0.792, 1 / 3, 2.0, 1e300 }), "[0.792,0.33333333333333331,2.0,1e+300]", "floats")
  T.eq(json.decode(json.encode(1 / 3)), 1 / 3, "round trip")
end)

T.case("json: errors name the position", function()
  local ok, err = pcall(json.decode, '{"a":\n  [1,}')
  T.eq(ok, false, "raised")
  T.truthy(tostring(err):find("line 2 column 6"), "position: " .. tostring(err))
end)

T.case("hist.load: names file and line of a bad event", function()
  local path = os.tmpname()
  local fh = assert(io.open(path, "w"))
  fh:write('{"index":0,"process":1,"type":"invoke","f":"read","value":null}\n{"index":1,\n')
  fh:close()
  local h, err = hist.load(path)
  T.eq(h, nil, "no history")
  T.truthy(err:find(path .. ":2:", 1, true), "file:line in " .. tostring(err))
  os.remove(path)
end)

local function write_history(lines)
  local path = os.tmpname()
  local fh = assert(io.open(path, "w"))
  fh:write(table.concat(lines, "\n"), "\n")
  fh:close()
  return path
end

-- 25 acked adds, a partition, and a final read holding `final`.
local function set_history(final)
  local lines, i, t = {}, 0, 0
  local function ev(s)
    t = t + 1000000
    lines[#lines + 1] = string.format('{"index":%d,"time":%d,%s}', i, t, s)
    i = i + 1
  end
  for e = 1, 25 do
    ev(string.format('"process":1,"type":"invoke","f":"add","value":%d', e))
    ev(string.format('"process":1,"type":"ok","f":"add","value":%d', e))
  end
  ev('"process":"nemesis","type":"info","f":"partition-start","value":{}')
  ev('"process":"nemesis","type":"info","f":"partition-end","value":null')
  ev('"process":2,"type":"invoke","f":"final-read","value":null')
  ev('"process":2,"type":"ok","f":"final-read","value":' .. json.encode(json.array(final)))
  return write_history(lines)
end

local function tool(args)
  local ok, how, code = os.execute("lua5.4 workloads/tools/check.lua " .. args .. " >/dev/null 2>&1")
  return how == "exit" and code or -1
end

T.case("tool: valid, invalid, unknown, usage", function()
  local all = {}
  for e = 1, 25 do all[e] = e end
  local good = set_history(all)
  T.eq(tool("set " .. good .. " --faults partition"), 0, "valid run")
  T.eq(tool("set " .. good .. " --faults partition,kill"), 3, "kill never took effect: unknown")
  T.eq(tool("set " .. good .. " --set min_ok=100"), 3, "too few ok: unknown")
  local lost = set_history({ 1, 2, 3 })
  T.eq(tool("set " .. lost), 1, "lost elements: invalid")
  T.eq(tool("nosuch " .. good), 2, "unknown workload: usage")
  T.eq(tool("set /nonexistent/history.jsonl"), 2, "missing file: usage")
  os.remove(good)
  os.remove(lost)
end)

T.case("tool: kv linearizability through bin/rapat check", function()
  local rapat = (os.getenv("RAPAT_BIN") or "bin") .. "/rapat"
  if not io.open(rapat) then
    print("      (no " .. rapat .. ": case not run)")
    return
  end
  local lines = {}
  local function ev(i, s) lines[#lines + 1] = string.format('{"index":%d,"time":%d,%s}', i, (i + 1) * 1000000, s) end
  local i = 0
  for k = 1, 25 do
    ev(i, string.format('"process":1,"type":"invoke","f":"write","key":%d,"value":1', k)); i = i + 1
    ev(i, string.format('"process":1,"type":"ok","f":"write","key":%d,"value":1', k)); i = i + 1
  end
  local good = write_history(lines)
  ev(i, '"process":2,"type":"invoke","f":"read","key":3,"value":null'); i = i + 1
  ev(i, '"process":2,"type":"ok","f":"read","key":3,"value":null') -- the write of 1 is lost
  local bad = write_history(lines)
  T.eq(tool("kv " .. good), 0, "linearizable")
  T.eq(tool("kv " .. bad), 1, "a lost write")
  os.remove(good)
  os.remove(bad)
end)

T.done()
