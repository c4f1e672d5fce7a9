# harness/adapters/adapters.mk — tests and benchmarks of the adapters for other Raft implementations (etcd).
# Pure Lua (no build step): the adapter's translation and error classification
# against a mock http run with lua5.4; the gateway probe and the audits run
# real etcd members in namespaces.
FAST_TESTS += tests/adapters/etcd_test.lua
INTEG_TESTS += tests/integration/etcd_gateway.sh
