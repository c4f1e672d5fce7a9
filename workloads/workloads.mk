# workloads/workloads.mk — the Lua workloads: checkers, statistics and vacuity guards are pure Lua,
# tested with the standalone lua5.4 interpreter (no build step).
FAST_TESTS += tests/workloads/lua_tests.sh
# Real raftnode clusters through bin/rapat (skips until the harness can run the workloads).
INTEG_TESTS += tests/workloads/integ_workloads.sh
