#!/usr/bin/env bash
# raftnode_bench.sh — starts a 3-node raftnode cluster on loopback with
# fsync on (the default durability), runs kvbench against it (PUT and GET at
# 1 and 32 clients; once against the leader only, once round-robin over all
# three nodes, where followers forward), prints the numbers, stops the
# cluster. Prints numbers; asserts nothing about speed.
# Environment: DURATION (s per phase, default 5), CLIENTS (default 1,32).
set -u
ROOT=${RAPAT_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${RAPAT_BIN:-$ROOT/bin}
DURATION=${DURATION:-5}
CLIENTS=${CLIENTS:-1,32}
for b in raftnode kvbench; do [ -x "$BIN/$b" ] || { echo "FAIL: $BIN/$b not built"; exit 1; }; done
WORK=$(mktemp -d /tmp/raftnode_bench.XXXXXX)
BASE=$(( 10000 + ($$ % 220) * 100 ))
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
P=""
for i in 1 2 3; do P="$P${P:+,}n$i=127.0.0.1:$((BASE+i))/127.0.0.1:$((BASE+50+i))"; done
for i in 1 2 3; do
  "$BIN/raftnode" --id n$i --listen-peer 127.0.0.1:$((BASE+i)) --listen-client 127.0.0.1:$((BASE+50+i)) \
    --peers "$P" --data-dir "$WORK/d$i" --election-timeout 1000 --heartbeat 100 --fsync always \
    --log-level info 2>"$WORK/n$i.log" &
  PIDS+=($!)
done
leader=""
for _ in $(seq 1 300); do
  leader=$(curl -s --max-time 1 "http://127.0.0.1:$((BASE+51))/v1/status" | sed -n 's/.*"leader":"n\([0-9]*\)".*/\1/p')
  [ -n "$leader" ] && break
  sleep 0.1
done
[ -n "$leader" ] || { echo "FAIL: no leader"; cat "$WORK"/n*.log; exit 1; }
echo "3-node raftnode cluster on loopback, fsync always, leader n$leader; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "-- against the leader"
"$BIN/kvbench" --endpoints "http://127.0.0.1:$((BASE+50+leader))" --clients "$CLIENTS" --duration "$DURATION" || exit 1
echo "-- round-robin over all three nodes (followers forward to the leader)"
"$BIN/kvbench" --endpoints "http://127.0.0.1:$((BASE+51)),http://127.0.0.1:$((BASE+52)),http://127.0.0.1:$((BASE+53))" \
  --clients "$CLIENTS" --duration "$DURATION" || exit 1
for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
PIDS=()
grep -h "stopping" "$WORK"/n*.log | sed 's/^/   /'
