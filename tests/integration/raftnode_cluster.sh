#!/usr/bin/env bash
# raftnode_cluster.sh — real raftnode processes on loopback: a 3-node cluster
# (writes through every node, kill -9 of the leader, reads of every
# acknowledged write, full restart from disk, a joining node that catches up
# through a snapshot, removal of a node, torn-tail recovery, refusal of a
# corrupt WAL) and a 5-node cluster surviving two crashes.
# Ports derive from the pid; every process started here is killed by pid on
# exit (trap). Waits are bounded polls, never fixed sleeps that must suffice.
set -u
ROOT=${RAPAT_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${RAPAT_BIN:-$ROOT/bin}
RAFTNODE=$BIN/raftnode
command -v curl >/dev/null || { echo "curl is not installed"; exit 77; }
[ -x "$RAFTNODE" ] || { echo "FAIL: $RAFTNODE not built"; exit 1; }

WORK=$(mktemp -d /tmp/raftnode_cluster.XXXXXX)
BASE=$(( 10000 + ($$ % 220) * 100 ))   # below the ephemeral port range (32768+)
declare -A PID
cleanup() {
  for k in "${!PID[@]}"; do kill -9 "${PID[$k]}" 2>/dev/null; done
  for k in "${!PID[@]}"; do wait "${PID[$k]}" 2>/dev/null; done
  if [ "${KEEP:-0}" = 1 ] || [ "${FAILED:-0}" = 1 ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
FAILED=0
fail() { echo "FAIL: $*"; FAILED=1; for f in "$WORK"/*.log; do echo "--- $f"; tail -n 15 "$f"; done; exit 1; }
T0=$(date +%s.%N)
step() { printf '[%5.1fs] %s\n' "$(echo "$(date +%s.%N) - $T0" | bc)" "$*"; }

pport() { echo $(( BASE + $1 )); }
cport() { echo $(( BASE + 50 + $1 )); }
curl_() { curl -s --max-time 10 "$@"; }
peers_of() { # peers_of 1 2 3
  local s="" i
  for i in "$@"; do s="$s${s:+,}n$i=127.0.0.1:$(pport "$i")/127.0.0.1:$(cport "$i")"; done
  echo "$s"
}
start() { # start I DIR PEERS [extra flags...]
  local i=$1 dir=$2 peers=$3; shift 3
  "$RAFTNODE" --id "n$i" --listen-peer "127.0.0.1:$(pport "$i")" --listen-client "127.0.0.1:$(cport "$i")" \
    --data-dir "$dir" ${peers:+--peers "$peers"} --election-timeout 300 --heartbeat 50 \
    --snapshot-threshold 20 --segment-kib 64 "$@" >>"$WORK/n$i.log" 2>&1 &
  PID[$i]=$!
}
stop9() { kill -9 "${PID[$1]}" 2>/dev/null; wait "${PID[$1]}" 2>/dev/null; unset "PID[$1]"; }
status() { curl_ "http://127.0.0.1:$(cport "$1")/v1/status"; }
field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" | head -n 1 | tr -d '"'; }
# wait_leader I...: prints the id of a leader all of the given nodes agree on
# (never $NOT_LEADER: a node killed a moment ago is still believed leader).
NOT_LEADER=""
wait_leader() {
  local deadline=$(( $(date +%s) + 30 )) i l agree
  while [ "$(date +%s)" -lt $deadline ]; do
    agree=""
    for i in "$@"; do
      l=$(status "$i" | field leader)
      if [ -z "$l" ] || [ "$l" = null ] || { [ -n "$agree" ] && [ "$l" != "$agree" ]; }; then agree=""; break; fi
      agree=$l
    done
    if [ -n "$agree" ] && [ "$agree" != "$NOT_LEADER" ]; then echo "$agree"; return 0; fi
    sleep 0.1
  done
  return 1
}
declare -A ACKED
# put I KEY VALUE: through node I; remembers acknowledged writes.
put() {
  local code
  code=$(curl_ -o "$WORK/resp" -w '%{http_code}' -X PUT "http://127.0.0.1:$(cport "$1")/v1/kv/$2" -d "{\"value\":$3}")
  if [ "$code" = 200 ]; then ACKED[$2]=$3; return 0; fi
  return 1
}
# put_retry I KEY VALUE: retries (bounded) while the cluster elects.
put_retry() {
  local deadline=$(( $(date +%s) + 20 ))
  while [ "$(date +%s)" -lt $deadline ]; do put "$@" && return 0; sleep 0.1; done
  return 1
}
get() { curl_ "http://127.0.0.1:$(cport "$1")/v1/kv/$2"; }
check_all() { # check_all I...: every acknowledged write reads back through each node
  local i k n=0 keys urls line want
  keys=("${!ACKED[@]}")
  for i in "$@"; do
    urls=()
    for k in "${keys[@]}"; do urls+=("http://127.0.0.1:$(cport "$i")/v1/kv/$k"); done
    # One curl for all keys (keep-alive); each answer is one line.
    mapfile -t got < <(curl -s --max-time 30 "${urls[@]}")
    for idx in "${!keys[@]}"; do
      k=${keys[$idx]}
      want="{\"value\":${ACKED[$k]}}"
      line=${got[$idx]:-}
      [ "$line" = "$want" ] || fail "read $k through n$i: got '$line', want $want"
      n=$((n+1))
    done
  done
  step "verified $n reads of ${#ACKED[@]} acknowledged writes through nodes $*"
}
wait_applied() { # wait_applied I INDEX
  local deadline=$(( $(date +%s) + 30 )) a
  while [ "$(date +%s)" -lt $deadline ]; do
    a=$(status "$1" | field applied_index)
    [ -n "$a" ] && [ "$a" -ge "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

# ---------------------------------------------------------------- flags
usage_fails() { # usage_fails WORD ARGS...: exit 2 and a message naming WORD
  local word=$1 out rc; shift
  out=$("$RAFTNODE" "$@" 2>&1); rc=$?
  [ $rc -eq 2 ] || fail "raftnode $*: exit $rc, want 2 (usage error)"
  echo "$out" | grep -q -- "$word" || fail "raftnode $*: message does not name $word: $out"
}
COMMON=(--id n1 --listen-peer 127.0.0.1:1 --listen-client 127.0.0.1:2 --data-dir "$WORK/x" --join)
usage_fails --bogus "${COMMON[@]}" --bogus
usage_fails --election-timeout "${COMMON[@]}" --election-timeout abc
usage_fails --fsync "${COMMON[@]}" --fsync sometimes
usage_fails --peers --id n1 --listen-peer 127.0.0.1:1 --listen-client 127.0.0.1:2 --data-dir "$WORK/x" --peers n1=bad
usage_fails --id --id x1 --listen-peer 127.0.0.1:1 --listen-client 127.0.0.1:2 --data-dir "$WORK/x" --join
usage_fails --heartbeat "${COMMON[@]}" --heartbeat 900
usage_fails --data-dir --id n1 --listen-peer 127.0.0.1:1 --listen-client 127.0.0.1:2 --join
help=$("$RAFTNODE" --help) || fail "--help: non-zero exit"
for f in id listen-peer listen-client peers data-dir join election-timeout heartbeat snapshot-threshold fsync \
         pre-vote check-quorum log-level request-timeout; do
  echo "$help" | grep -q -- "--$f" || fail "--help does not document --$f"
done
step "usage errors exit 2 and name the flag; --help documents every flag"

# ---------------------------------------------------------------- 3 nodes
P3=$(peers_of 1 2 3)
for i in 1 2 3; do start $i "$WORK/d$i" "$P3"; done
L=$(wait_leader 1 2 3) || fail "no leader among n1 n2 n3"
step "3 nodes up, leader $L"
for j in $(seq 1 60); do i=$(( j % 3 + 1 )); put_retry $i "k$j" "$j" || fail "put k$j through n$i"; done
step "60 writes acknowledged through all three nodes"
# CAS semantics through a follower.
code=$(curl_ -o "$WORK/resp" -w '%{http_code}' -X POST "http://127.0.0.1:$(cport 1)/v1/kv/k1/cas" -d '{"expect":999,"value":5}')
[ "$code" = 412 ] && grep -q '"actual":1' "$WORK/resp" || fail "cas mismatch: $code $(cat "$WORK/resp")"
code=$(curl_ -o "$WORK/resp" -w '%{http_code}' -X POST "http://127.0.0.1:$(cport 2)/v1/kv/k1/cas" -d '{"expect":1,"value":101}')
[ "$code" = 200 ] && ACKED[k1]=101 || fail "cas: $code $(cat "$WORK/resp")"
code=$(curl_ -o "$WORK/resp" -w '%{http_code}' -X POST "http://127.0.0.1:$(cport 3)/v1/kv/nokey/cas" -d '{"expect":1,"value":2}')
[ "$code" = 404 ] || fail "cas on a missing key: $code"
code=$(curl_ -o "$WORK/resp" -w '%{http_code}' -X PUT "http://127.0.0.1:$(cport 3)/v1/kv/k1" -d '{"val":1}')
[ "$code" = 400 ] || fail "bad body: $code"
check_all 1 2 3

LI=${L#n}
stop9 "$LI"
REST=""; for i in 1 2 3; do [ "$i" != "$LI" ] && REST="$REST $i"; done
L2=$(NOT_LEADER=$L wait_leader $REST) || fail "no new leader after killing $L"
[ "$L2" != "$L" ] || fail "leader still $L after kill -9"
step "killed leader $L with SIGKILL; new leader $L2"
for j in $(seq 61 80); do put_retry "${REST##* }" "k$j" "$j" || fail "put k$j after failover"; done
check_all $REST
start "$LI" "$WORK/d$LI" "$P3"
wait_leader 1 2 3 >/dev/null || fail "old leader did not rejoin"
step "restarted $L"

# Full restart from disk.
for i in 1 2 3; do stop9 $i; done
for i in 1 2 3; do start $i "$WORK/d$i" "$P3"; done
L=$(wait_leader 1 2 3) || fail "no leader after restarting all"
step "all three killed and restarted from disk; leader $L"
grep -q "snapshot at index" "$WORK"/n*.log || fail "no snapshot was taken (threshold 20)"
check_all 1 2 3

# ---------------------------------------------------------------- join through a snapshot
start 4 "$WORK/d4" "" --join
code=$(curl_ --max-time 60 -o "$WORK/resp" -w '%{http_code}' -X POST "http://127.0.0.1:$(cport 1)/v1/members" \
  -d "{\"id\":\"n4\",\"peer_url\":\"http://127.0.0.1:$(pport 4)\",\"client_url\":\"http://127.0.0.1:$(cport 4)\"}")
[ "$code" = 200 ] || fail "add n4: $code $(cat "$WORK/resp")"
status 1 | grep -q '"id":"n4","role":"voter"' || fail "n4 is not a voter: $(status 1)"
grep -q "installed snapshot" "$WORK/n4.log" || fail "n4 did not catch up through a snapshot"
step "n4 joined (learner, snapshot, promoted to voter)"
put_retry 4 k81 81 || fail "put through n4"
C=$(status "${L#n}" | field commit_index)
wait_applied 4 "$C" || fail "n4 did not apply up to $C"
check_all 4

# ---------------------------------------------------------------- remove
code=$(curl_ --max-time 30 -o "$WORK/resp" -w '%{http_code}' -X DELETE "http://127.0.0.1:$(cport 4)/v1/members/n2")
[ "$code" = 200 ] || fail "remove n2: $code $(cat "$WORK/resp")"
status 1 | grep -q '"id":"n2"' && fail "n2 still a member: $(status 1)"
stop9 2
L=$(NOT_LEADER=n2 wait_leader 1 3 4) || fail "no leader after removing n2"
put_retry 3 k82 82 || fail "put after removing n2"
step "n2 removed; cluster n1 n3 n4 has leader $L"
check_all 1 3 4

# ---------------------------------------------------------------- torn tail
# (a) What a crash during a write leaves: a record whose header made it to
# disk but not all of its payload (never acknowledged: not yet fsynced).
victim=3; [ "$L" = n3 ] && victim=1
C=$(status "${L#n}" | field commit_index)
wait_applied $victim "$C" || fail "n$victim behind"
stop9 $victim
seg=$(ls "$WORK/d$victim/wal/"wal-*.log | tail -n 1)
size=$(stat -c %s "$seg")
tail -c +9 "$seg" | head -c 20 >"$WORK/partial"   # first record header + 4 payload bytes
cat "$WORK/partial" >>"$seg"
start $victim "$WORK/d$victim" ""
for _ in $(seq 1 100); do grep -q "torn record at offset $size" "$WORK/n$victim.log" && break; sleep 0.1; done
grep -q "torn record at offset $size" "$WORK/n$victim.log" || fail "n$victim did not report the torn tail at $size"
[ "$(stat -c %s "$seg")" = "$size" ] || fail "torn tail not cut: $(stat -c %s "$seg") bytes, want $size"
put_retry 4 k83 83 || fail "put after torn-tail restart"
L=$(wait_leader 1 3 4) || fail "no leader after torn-tail restart"
C=$(status "${L#n}" | field commit_index)
wait_applied $victim "$C" || fail "n$victim did not catch up after torn-tail recovery"
step "n$victim restarted with a partial record at the WAL tail: cut away, caught up to $C"
check_all $victim
# (b) The tail cut mid-record by truncation.
stop9 $victim
before=$(grep -o "recovered: snapshot at [0-9]*, [0-9]* log entries" "$WORK/n$victim.log" | tail -n 1)
seg=$(ls "$WORK/d$victim/wal/"wal-*.log | tail -n 1)
size=$(stat -c %s "$seg")
truncate -s $(( size - 3 )) "$seg"
start $victim "$WORK/d$victim" ""
for _ in $(seq 1 100); do grep -q "(of $(( size - 3 )) bytes) cut away" "$WORK/n$victim.log" && break; sleep 0.1; done
grep -o "torn record at offset [0-9]* (of $(( size - 3 )) bytes) cut away" "$WORK/n$victim.log" >/dev/null ||
  fail "n$victim did not cut the truncated record"
after=$(grep -o "recovered: snapshot at [0-9]*, [0-9]* log entries" "$WORK/n$victim.log" | tail -n 1)
[ -n "$(status $victim | field applied_index)" ] || fail "n$victim does not serve after truncation"
step "n$victim restarted with its WAL truncated mid-record: torn record cut ($after)"
check_all $victim

# ---------------------------------------------------------------- corrupt middle record
stop9 $victim
cp -a "$WORK/d$victim" "$WORK/corrupt"
seg=$(ls -S "$WORK/corrupt/wal/"wal-*.log | head -n 1)
size=$(stat -c %s "$seg")
off=$(( size / 2 ))
orig=$(od -An -tu1 -j $off -N1 "$seg" | tr -d ' ')
printf "$(printf '\\%03o' $(( (orig + 1) % 256 )))" | dd of="$seg" bs=1 seek=$off conv=notrunc status=none
"$RAFTNODE" --id "n$victim" --listen-peer "127.0.0.1:$(pport 9)" --listen-client "127.0.0.1:$(cport 9)" \
  --data-dir "$WORK/corrupt" --join >"$WORK/corrupt.log" 2>&1 &
cpid=$!
PID[corrupt]=$cpid
for _ in $(seq 1 100); do kill -0 $cpid 2>/dev/null || break; sleep 0.1; done
if kill -0 $cpid 2>/dev/null; then fail "raftnode runs on a WAL with a corrupt middle record"; fi
wait $cpid; rc=$?; unset "PID[corrupt]"
[ $rc -ne 0 ] || fail "corrupt WAL: exit status 0"
grep -q "corrupt WAL .*checksum mismatch" "$WORK/corrupt.log" || fail "no clear error: $(cat "$WORK/corrupt.log")"
step "corrupt middle record refused (exit $rc): $(grep -o 'corrupt WAL.*' "$WORK/corrupt.log" | head -n 1)"
start $victim "$WORK/d$victim" ""
for i in 1 3 4; do stop9 $i; done

# ---------------------------------------------------------------- 5 nodes
ACKED=()
P5=$(peers_of 11 12 13 14 15)
for i in 11 12 13 14 15; do start $i "$WORK/d$i" "$P5"; done
L=$(wait_leader 11 12 13 14 15) || fail "no leader among 5"
step "5 nodes up, leader $L"
for j in $(seq 1 30); do i=$(( 11 + j % 5 )); put_retry $i "f$j" "$j" || fail "put f$j through n$i"; done
LI=${L#n}
other=11; [ "$LI" = 11 ] && other=12
stop9 "$LI"; stop9 $other
REST=""; for i in 11 12 13 14 15; do [ "$i" != "$LI" ] && [ "$i" != $other ] && REST="$REST $i"; done
L2=$(NOT_LEADER=$L wait_leader $REST) || fail "no leader with 3 of 5"
step "killed $L and n$other; leader $L2 among$REST"
for j in $(seq 31 40); do put_retry "${REST##* }" "f$j" "$j" || fail "put f$j with 3 of 5"; done
check_all $REST
step "PASS"
