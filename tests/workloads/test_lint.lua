-- tests/workloads/test_lint.lua — our Lua files use no globals (reads only of the standard library, no assignments) and start with a purpose comment.
local T = require("tests.workloads.testlib")

local STD = {}
for _, n in ipairs({ "arg", "assert", "collectgarbage", "coroutine", "debug", "dofile", "error", "getmetatable",
  "io", "ipairs", "load", "loadfile", "math", "next", "os", "package", "pairs", "pcall", "print", "rawequal",
  "rawget", "rawlen", "rawset", "require", "select", "setmetatable", "string", "table", "tonumber", "tostring",
  "type", "utf8", "xpcall", "_G", "_VERSION" }) do STD[n] = true end

local function files()
  local out = {}
  local p = io.popen("find workloads tests/workloads -name '*.lua' ! -name register.lua ! -name default.lua "
    .. "! -name 'etcd_*' | sort")
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  return out
end

for _, path in ipairs(files()) do
  T.case(path, function()
    local fh = assert(io.open(path))
    local first = fh:read("l")
    fh:close()
    T.truthy(first and first:match("^%-%- %S+%.lua — "), "first line is '-- <path> — <purpose>': " .. tostring(first))
    local p = io.popen("luac5.4 -p -l " .. path .. " 2>&1")
    local listing = p:read("a")
    p:close()
    for line in listing:gmatch("[^\n]+") do
      local op, name = line:match("%s(%u+TABUP)%s.-_ENV \"([%w_]+)\"")
      if op == "SETTABUP" then error("assigns the global '" .. name .. "': " .. line) end
      if op == "GETTABUP" and not STD[name] then error("reads the global '" .. name .. "': " .. line) end
    end
  end)
end

T.done()
