-- harness/adapters/etcd_serializable.lua — the etcd adapter with serializable (local, possibly stale) reads by default: `--db etcd_serializable` to audit that mode.
--
-- The same as harness/adapters/etcd.lua with the option reads defaulting to
-- "serializable", for plans and campaigns that cannot pass adapter options
-- through --set (the harness does not yet merge adapter.options into the
-- plan's known keys). Expect the linearizability checker to find stale reads.
local src = debug.getinfo(1, "S").source
local dir = src:sub(1, 1) == "@" and src:sub(2):match("^(.*)/[^/]*$") or "."
local chunk, err = loadfile(dir .. "/etcd.lua")
if not chunk then error("harness/adapters/etcd_serializable.lua: cannot load etcd.lua: " .. tostring(err), 0) end
local adapter = chunk()
adapter.name = "etcd-serializable"
adapter.options.reads = "serializable"
return adapter
