-- tests/workloads/json_field.lua — prints one field of a JSON file (a dotted path) as JSON, or "absent": for shell tests reading results.json.
-- Usage: lua5.4 tests/workloads/json_field.lua FILE PATH   (LUA_PATH must reach the repository root)
local json = require("workloads.lib.json")
local file, path = arg[1], arg[2]
local fh = io.open(file or "", "r")
if not fh then print("absent") os.exit(0) end
local ok, v = pcall(json.decode, fh:read("a"))
fh:close()
if not ok then print("absent") os.exit(0) end
for k in (path or ""):gmatch("[^.]+") do
  if type(v) ~= "table" then v = nil break end
  v = v[k]
end
print(v == nil and "absent" or json.encode(v))
