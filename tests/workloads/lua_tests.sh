#!/usr/bin/env bash
# tests/workloads/lua_tests.sh — runs the workload tests (tests/workloads/test_*.lua) with the standalone lua5.4 interpreter.
# Usage: tests/workloads/lua_tests.sh [TEST.lua...]   (default: all of them)
set -u
root=${RAPAT_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 1
if ! command -v lua5.4 >/dev/null; then
  echo "lua5.4 is not installed (scripts/deps.sh installs it)"
  exit 77
fi
# Modules are named from the repository root: require("workloads.lib.hist").
export LUA_PATH="$root/?.lua;;"
tests=("$@")
[ ${#tests[@]} -eq 0 ] && tests=(tests/workloads/test_*.lua)
rc=0
for t in "${tests[@]}"; do
  echo "== $t"
  lua5.4 "$t"
  case $? in
    0) ;;
    77) echo "SKIPPED: $t";;
    *) echo "FAILED: $t"; rc=1;;
  esac
done
exit $rc
