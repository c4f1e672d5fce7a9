#!/usr/bin/env bash
# nemesis_disk_lazyfs_raftnode.sh — integration test: raftnode's data
# directory on rapat-lazyfs, the harness flow (SIGKILL, "crash", restart).
# With --fsync always every acknowledged write survives; with --fsync never
# they survive a plain kill (page-cache semantics) but the crash command loses
# them — the fault lazyfs exists to expose. Runs in a private network
# namespace (loopback only), so fixed ports never clash with anything.
set -u
BIN=${RAPAT_BIN:-bin}
for b in "$BIN/raftnode" "$BIN/rapat-lazyfs"; do
  [ -x "$b" ] || { echo "FAIL: $b is not built"; exit 1; }
done
command -v curl >/dev/null || { echo "FAIL: curl missing (scripts/deps.sh installs it)"; exit 1; }
if [ -z "${NEM_IN_NETNS:-}" ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "skip: needs root (network namespace, FUSE mount)"; exit 77; fi
  exec unshare -n env NEM_IN_NETNS=1 "$0" "$@"
fi
ip link set lo up

N=40
fail=0
dir=$(mktemp -d /tmp/nem_lazyfs_rn.XXXXXX)
lz= rn=
cleanup() {
  [ -n "$rn" ] && kill -9 "$rn" 2>/dev/null && wait "$rn" 2>/dev/null
  [ -n "$lz" ] && kill "$lz" 2>/dev/null && wait "$lz" 2>/dev/null
  grep -q " $dir/data " /proc/mounts && umount -l "$dir/data"
  rm -rf "$dir"
}
trap cleanup EXIT
# A private copy: a rebuild of bin/raftnode during the test must not break it.
cp "$BIN/raftnode" "$dir/raftnode" || exit 1

ctl() { "$BIN/rapat-lazyfs" --ctl "$dir/ctl.sock" --command "$1"; }

start_lazyfs() {
  rm -rf "$dir/data" && mkdir "$dir/data"
  "$BIN/rapat-lazyfs" --ctl "$dir/ctl.sock" "$dir/data" >>"$dir/lazyfs.log" 2>&1 & lz=$!
  for _ in $(seq 200); do ctl ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "FAIL: lazyfs did not mount"; cat "$dir/lazyfs.log"; exit 1
}

start_node() { # $1 = always|never
  "$dir/raftnode" --id n1 --listen-peer 127.0.0.1:17101 --listen-client 127.0.0.1:18101 \
    --data-dir "$dir/data/n1" --peers n1=127.0.0.1:17101/127.0.0.1:18101 --fsync "$1" \
    --election-timeout 150 --heartbeat 30 >>"$dir/raftnode.log" 2>&1 & rn=$!
  for _ in $(seq 400); do
    curl -s -m 1 127.0.0.1:18101/v1/status | grep -q '"role":"leader"' && return 0
    sleep 0.05
  done
  echo "FAIL: raftnode did not become leader"; tail -20 "$dir/raftnode.log"; exit 1
}

# scenario MODE CRASH(yes|no) -> sets acked, readable
scenario() {
  start_lazyfs
  start_node "$1"
  acked=0
  for i in $(seq 1 $N); do
    curl -s -m 5 -X PUT -d "{\"value\":$i}" "127.0.0.1:18101/v1/kv/k$i" | grep -q '"ok":true' && acked=$((acked+1))
  done
  kill -9 "$rn"; wait "$rn" 2>/dev/null; rn=
  local lost="(no crash command)"
  [ "$2" = yes ] && lost=$(ctl crash)
  start_node "$1"
  readable=0
  for i in $(seq 1 $N); do
    curl -s -m 5 "127.0.0.1:18101/v1/kv/k$i" | grep -q "\"value\":$i" && readable=$((readable+1))
  done
  kill "$rn"; wait "$rn" 2>/dev/null; rn=
  kill "$lz"; wait "$lz" 2>/dev/null; lz=
  echo "fsync=$1 crash=$2: $acked acknowledged, $readable readable after restart; lazyfs: $lost"
}

scenario always yes
[ "$acked" -eq $N ] && [ "$readable" -eq $N ] || { echo "FAIL: fsync=always must keep every acknowledged write"; fail=1; }
scenario never no
[ "$acked" -eq $N ] && [ "$readable" -eq $N ] || { echo "FAIL: without the crash command nothing may be lost"; fail=1; }
scenario never yes
[ "$acked" -eq $N ] && [ "$readable" -lt "$acked" ] || { echo "FAIL: fsync=never + crash must lose acknowledged writes"; fail=1; }

[ $fail -eq 0 ] && echo ok
exit $fail
