-- tests/integration/etcd_bad_option.lua — a misconfigured etcd adapter for tests: an election timeout below 5 heartbeats, which start() refuses, so rapat must end with exit 2 naming the option.
local adapter = dofile((os.getenv("RAPAT_ROOT") or ".") .. "/harness/adapters/etcd.lua")
adapter.name = "etcd-bad-option"
adapter.options.etcd_election_ms = 100
return adapter
