#!/usr/bin/env bash
# nemesis_clock_raftnode.sh — integration test: the clock shim reaches
# raftnode. Three nodes (private network namespace, loopback), each with
# LD_PRELOAD=librapat_clock.so and its own control file (monotonic clocks
# included). Slowing the leader's clock to 0.05x stretches its libevent timers
# (heartbeats every 50 ms of its time = 1 s of real time, beyond the
# followers' 300-600 ms election timeout): another node must take over in a
# higher term. Then the clock is reset and the cluster keeps serving.
set -u
BIN=${RAPAT_BIN:-bin}
for b in raftnode rapat-clock librapat_clock.so; do
  [ -e "$BIN/$b" ] || { echo "FAIL: $BIN/$b is not built"; exit 1; }
done
command -v curl >/dev/null || { echo "FAIL: curl missing"; exit 1; }
if [ -z "${NEM_IN_NETNS:-}" ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "skip: needs root for a private network namespace"; exit 77; fi
  exec unshare -n env NEM_IN_NETNS=1 "$0" "$@"
fi
ip link set lo up
BIN=$(cd "$BIN" && pwd)
dir=$(mktemp -d /tmp/nem_clock_rn.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
# Private copies: a rebuild in bin/ during the test must not break it.
cp "$BIN/raftnode" "$BIN/librapat_clock.so" "$BIN/rapat-clock" "$dir/" || exit 1
BIN=$dir

peers=n1=127.0.0.1:17101/127.0.0.1:18101,n2=127.0.0.1:17102/127.0.0.1:18102,n3=127.0.0.1:17103/127.0.0.1:18103
for i in 1 2 3; do
  "$BIN/rapat-clock" create "$dir/n$i.ctl" --monotonic || exit 1
  LD_PRELOAD="$BIN/librapat_clock.so" RAPAT_CLOCK_CTL="$dir/n$i.ctl" "$BIN/raftnode" --id "n$i" \
    --listen-peer "127.0.0.1:1710$i" --listen-client "127.0.0.1:1810$i" --data-dir "$dir/n$i" \
    --peers "$peers" --election-timeout 300 --heartbeat 50 >"$dir/n$i.log" 2>&1 & pids+=($!)
done
field() { sed -nE "s/.*\"$2\":\"?([a-z0-9]+)\"?.*/\1/p" <<<"$1"; }
status() { curl -s -m 1 "127.0.0.1:1810$1/v1/status"; }
leader_term() { # prints "LEADER TERM" once all three agree on a leader
  local s1 s2 s3
  s1=$(status 1) s2=$(status 2) s3=$(status 3)
  local l1 l2 l3
  l1=$(field "$s1" leader) l2=$(field "$s2" leader) l3=$(field "$s3" leader)
  [ -n "$l1" ] && [ "$l1" = "$l2" ] && [ "$l2" = "$l3" ] && [ "$l1" != none ] && [ "$l1" != null ] && echo "$l1 $(field "$s1" term)"
}
wait_leader() { # $1 = minimum term
  for _ in $(seq 300); do
    lt=$(leader_term)
    if [ -n "$lt" ] && [ "${lt#* }" -ge "$1" ]; then echo "$lt"; return 0; fi
    sleep 0.05
  done
  return 1
}
lt=$(wait_leader 1) || { echo "FAIL: no leader"; tail "$dir"/n*.log; exit 1; }
leader=${lt% *} term=${lt#* }
echo "leader $leader in term $term; slowing its clock to 0.05x"
"$BIN/rapat-clock" set "$dir/$leader.ctl" 0 0.05 || exit 1
lt2=$(wait_leader $((term + 1))) || { echo "FAIL: no new term within 15 s of slowing the leader's clock"; exit 1; }
echo "new leader ${lt2% *} in term ${lt2#* }"
fail=0
[ "${lt2% *}" != "$leader" ] || { echo "FAIL: the slowed leader is still leading"; fail=1; }
"$BIN/rapat-clock" reset "$dir/$leader.ctl"
curl -s -m 5 -X PUT -d '{"value":1}' 127.0.0.1:18101/v1/kv/x | grep -q '"ok":true' ||
  { echo "FAIL: the cluster does not serve writes after the clock reset"; fail=1; }
[ $fail -eq 0 ] && echo ok
exit $fail
