-- harness/adapters/etcd_defaults.lua — the etcd adapter with etcd 3.4's own out-of-the-box Raft settings: 100 ms heartbeat, 1 s election timeout, no pre-vote.
--
-- The same as harness/adapters/etcd.lua otherwise. Without pre-vote a member
-- cut off in a minority keeps campaigning and, once healed, deposes the
-- leader with its higher term (1–4 s without a leader in the research runs):
-- an availability cost, which must never cost safety. Selected with
-- `--db etcd_defaults` (adapter options cannot be given with --set yet).
local src = debug.getinfo(1, "S").source
local dir = src:sub(1, 1) == "@" and src:sub(2):match("^(.*)/[^/]*$") or "."
local chunk, err = loadfile(dir .. "/etcd.lua")
if not chunk then error("harness/adapters/etcd_defaults.lua: cannot load etcd.lua: " .. tostring(err), 0) end
local adapter = chunk()
adapter.name = "etcd-defaults"
adapter.options.etcd_heartbeat_ms = 100
adapter.options.etcd_election_ms = 1000
adapter.options.pre_vote = false
return adapter
