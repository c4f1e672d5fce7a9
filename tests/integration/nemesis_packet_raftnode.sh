#!/usr/bin/env bash
# nemesis_packet_raftnode.sh — integration test: rapat-shaper against
# raftnode. Three nodes, each in its own network namespace on a bridge (the
# lab's topology). Delaying everything the leader sends to its peers by
# 1.5 s (beyond the 300-600 ms election timeout) must hand leadership to
# another node in a higher term; after the shaper stops the cluster serves
# writes again.
set -u
BIN=${RAPAT_BIN:-bin}
for b in raftnode rapat-shaper; do
  [ -x "$BIN/$b" ] || { echo "FAIL: $BIN/$b is not built"; exit 1; }
done
command -v curl >/dev/null || { echo "FAIL: curl missing"; exit 1; }
if [ "$(id -u)" -ne 0 ]; then echo "skip: needs root for network namespaces"; exit 77; fi
dir=$(mktemp -d /tmp/nem_packet_rn.XXXXXX)
cp "$BIN/raftnode" "$BIN/rapat-shaper" "$dir/" || exit 1
BIN=$dir
tag=$$
ns() { echo "rpr$1x$tag"; }
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  for i in 0 1 2 3; do ip netns del "$(ns $i)" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT

# ns 0 is the switch (bridge) and where curl runs; nodes 1..3 on 10.215.0.1i
ip netns add "$(ns 0)" || exit 1
ip -n "$(ns 0)" link add br0 type bridge && ip -n "$(ns 0)" link set br0 up && ip -n "$(ns 0)" link set lo up
ip -n "$(ns 0)" addr add 10.215.0.100/24 dev br0
peers=
for i in 1 2 3; do
  n=$(ns $i)
  ip netns add "$n" || exit 1
  ip -n "$(ns 0)" link add "v$i" type veth peer name eth0 netns "$n"
  ip -n "$(ns 0)" link set "v$i" master br0 && ip -n "$(ns 0)" link set "v$i" up
  ip -n "$n" link set eth0 up && ip -n "$n" link set lo up && ip -n "$n" addr add "10.215.0.1$i/24" dev eth0
  peers="$peers${peers:+,}n$i=10.215.0.1$i:7001/10.215.0.1$i:8001"
done
for i in 1 2 3; do
  ip netns exec "$(ns $i)" "$BIN/raftnode" --id "n$i" --listen-peer "10.215.0.1$i:7001" \
    --listen-client "10.215.0.1$i:8001" --data-dir "$dir/n$i" --peers "$peers" \
    --election-timeout 300 --heartbeat 50 >"$dir/n$i.log" 2>&1 & pids+=($!)
done
status() { ip netns exec "$(ns 0)" curl -s -m 1 "10.215.0.1$1:8001/v1/status"; }
field() { sed -nE "s/.*\"$2\":\"?([a-z0-9]+)\"?.*/\1/p" <<<"$1"; }
leader_term() {
  local l=() t=
  for i in 1 2 3; do s=$(status $i); l+=("$(field "$s" leader)"); t=$(field "$s" term); done
  [ -n "${l[0]}" ] && [ "${l[0]}" != null ] && [ "${l[0]}" = "${l[1]}" ] && [ "${l[1]}" = "${l[2]}" ] && echo "${l[0]} $t"
}
wait_leader() { # $1 = minimum term; bounded: 20 s
  for _ in $(seq 400); do
    lt=$(leader_term)
    if [ -n "$lt" ] && [ "${lt#* }" -ge "$1" ]; then echo "$lt"; return 0; fi
    sleep 0.05
  done
  return 1
}
lt=$(wait_leader 1) || { echo "FAIL: no leader"; tail -n 5 "$dir"/n*.log; exit 1; }
leader=${lt% *} term=${lt#* } li=${leader#n}
others=() peer_args=()
for i in 1 2 3; do [ "$i" != "$li" ] && others+=("$i") && peer_args+=(--peer "10.215.0.1$i"); done
echo "leader $leader in term $term; delaying what it sends to its peers by 1500 ms"
ip netns exec "$(ns "$li")" "$BIN/rapat-shaper" "${peer_args[@]}" --delay-ms 1500 --seed 1 --ready-fd 3 \
  3>"$dir/ready" >"$dir/shaper.log" 2>&1 & shaper=$!
pids+=($shaper)
for _ in $(seq 200); do grep -q ready "$dir/ready" 2>/dev/null && break; sleep 0.05; done
grep -q ready "$dir/ready" || { echo "FAIL: shaper not ready"; cat "$dir/shaper.log"; exit 1; }
fail=0
# The delayed leader may still believe it leads; the other two agree on a new one.
new=
for _ in $(seq 400); do
  a=$(status "${others[0]}") b=$(status "${others[1]}")
  la=$(field "$a" leader) ta=$(field "$a" term) lb=$(field "$b" leader)
  if [ -n "$la" ] && [ "$la" != null ] && [ "$la" != "$leader" ] && [ "$la" = "$lb" ] && [ "$ta" -gt "$term" ]; then
    new="$la $ta"; break
  fi
  sleep 0.05
done
if [ -n "$new" ]; then echo "followers elected ${new% *} in term ${new#* }"; else echo "FAIL: no new leader within 20 s"; fail=1; fi
kill "$shaper"; wait "$shaper"; cat "$dir/shaper.log"
lt=$(wait_leader $((term + 1))) || { echo "FAIL: the cluster did not converge after the shaper stopped"; fail=1; }
l=${lt% *}
ip netns exec "$(ns 0)" curl -s -m 5 -X PUT -d '{"value":7}' "10.215.0.1${l#n}:8001/v1/kv/x" | grep -q '"ok":true' ||
  { echo "FAIL: no write after healing"; fail=1; }
[ $fail -eq 0 ] && echo ok
exit $fail
