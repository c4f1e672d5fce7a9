-- tests/integration/etcd_bad_option.lua — a misconfigured etcd adapter for tests: an election timeout below 5 heartbeats, which start() refuses, so rapat must end with exit 2 naming the option.
return require("harness.adapters.etcd").variant("etcd-bad-option", { etcd_election_ms = 100 })
