# harness/adapters/adapters.mk — tests and benchmarks of the adapters for other Raft implementations (etcd).
# Pure Lua (no build step): the adapter's translation and error classification
# run with lua5.4 against a mock http; the gateway probe, the audits through
# bin/rapat and the side-by-side benchmark run real etcd members in namespaces.
FAST_TESTS += tests/adapters/etcd_test.lua
INTEG_TESTS += tests/integration/etcd_gateway.sh tests/integration/etcd_adapter_live.sh tests/integration/etcd_audit.sh
BENCHES += tests/bench/compare_raftnode_etcd.sh
