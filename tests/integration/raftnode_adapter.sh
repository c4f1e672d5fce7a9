#!/usr/bin/env bash
# raftnode_adapter.sh — runs raftnode_adapter.lua (the raftnode adapter
# against real processes on loopback) and kills every process it started.
set -u
ROOT=${RAPAT_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${RAPAT_BIN:-$ROOT/bin}
command -v lua5.4 >/dev/null || { echo "lua5.4 is not installed"; exit 77; }
command -v curl >/dev/null || { echo "curl is not installed"; exit 77; }
[ -x "$BIN/raftnode" ] || { echo "FAIL: $BIN/raftnode not built"; exit 1; }
WORK=$(mktemp -d /tmp/raftnode_adapter.XXXXXX)
cleanup() {
  if [ -f "$WORK/pids" ]; then
    while read -r p; do kill -9 "$p" 2>/dev/null; done <"$WORK/pids"
  fi
  if [ "${rc:-1}" -ne 0 ]; then for f in "$WORK"/n*.log; do echo "--- $f"; tail -n 10 "$f"; done; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
# The adapter finds bin/raftnode under cluster.root: point it at $BIN's tree.
lua5.4 "$ROOT/tests/integration/raftnode_adapter.lua" "$ROOT" "$WORK" $(( 10000 + ($$ % 220) * 100 )) "$(dirname "$BIN")"
rc=$?
exit $rc
