#!/usr/bin/env bash
# harness_raftnode_test.sh — the CI run: a short plan with 5 real raftnodes (the default adapter) under partitions and kills must be valid with a non-trivial number of ok operations, invoke/completion pairs and nemesis start/end events; afterwards no process or namespace of the lab remains.
set -u
bin=${RAPAT_BIN:-bin}/rapat
root=${RAPAT_ROOT:-.}
[ -x "$bin" ] || { echo "missing $bin"; exit 1; }
[ -x "$root/bin/raftnode" ] || { echo "missing $root/bin/raftnode (the raftnode module did not build)"; exit 1; }
[ -f "$root/harness/adapters/raftnode.lua" ] || { echo "missing harness/adapters/raftnode.lua"; exit 1; }
[ "$(id -u)" -eq 0 ] || unshare --user --map-root-user --net true 2>/dev/null || { echo "skip: no namespaces for this user"; exit 77; }
tmp=$(mktemp -d /tmp/harness_raft.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
fails=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }
# Namespace inodes are recycled: a namespace created by someone else after
# the kill may reuse one. Only processes that existed before the kill count.
only_old() {
  local l pid
  while read -r l; do
    pid=${l#/proc/}; pid=${pid%%/*}
    grep -qx "$pid" <<<"$before" && echo "$l"
  done
  return 0
}

"$bin" run "$root/tests/integration/harness_raft.lua" --seed "${SEED:-11}" --out "$tmp/run" 2>&1 | tee "$tmp/out"
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] || fail "rapat run exited $rc, want 0 (valid)"
lua5.4 "$root/tests/integration/harness_check_run.lua" "$tmp/run" true 100 partition,kill || fail "run directory checks"

# Membership changes and pauses: a member removed (data set aside) and
# added back empty, a pause; still valid.
"$bin" run "$root/tests/integration/harness_raft.lua" --seed 13 --set nemesis=member,pause \
  --set time_limit=12 --out "$tmp/member" >"$tmp/member.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { fail "member,pause run exited $rc, want 0"; tail -12 "$tmp/member.out"; }
lua5.4 "$root/tests/integration/harness_check_run.lua" "$tmp/member" true 100 member,pause || fail "member run directory checks"
ls -d "$tmp"/member/nodes/*/data.removed-1 >/dev/null 2>&1 || fail "member: no data directory set aside"

# Disk corruption: whatever raftnode makes of a damaged file (recover, or
# refuse to start), the harness records the corruption, reports a node that
# stays down, and still reaches a verdict (never exit 4).
"$bin" run "$root/tests/integration/harness_raft.lua" --seed 14 --set nemesis=disk \
  --set time_limit=4 --out "$tmp/disk" >"$tmp/disk.out" 2>&1
rc=$?
[ "$rc" -ne 4 ] && [ "$rc" -ne 2 ] || { fail "disk run exited $rc"; tail -12 "$tmp/disk.out"; }
grep -q '"f":"disk-start","value":{"corruption":{"changes":\[' "$tmp/disk/history.jsonl" || fail "disk: no corruption recorded"
grep -q '"f":"disk-end"' "$tmp/disk/history.jsonl" || fail "disk: no disk-end"
[ -s "$tmp/disk/results.json" ] || fail "disk: no results.json"

before=$(ls /proc | grep -E '^[0-9]+$')
nets=$(grep -o 'net:\[[0-9]*\]' "$tmp/run/harness.log" | sort -u)
[ -n "$nets" ] || fail "harness.log lacks the lab namespaces"
left() {
  local n
  for n in $nets; do
    find /proc/[0-9]*/ns -maxdepth 1 -type l -lname "$(printf '%s' "$n" | sed 's/\[/\\[/; s/\]/\\]/')" 2>/dev/null
  done | only_old
  grep -l "${tmp}/ru[n]" /proc/[0-9]*/cmdline 2>/dev/null || true
}
t_end=$(( $(now_ms) + 15000 ))
while [ -n "$(left)" ] && [ "$(now_ms)" -lt $t_end ]; do sleep 0.1; done
if [ -n "$(left)" ]; then fail "lab leftovers after the run:"; left; fi
# SIGKILL of rapat mid-run (faults in force or not): nothing of the lab
# remains — no node process, no namespace, no interface in the host.
host_ifs=$(ls /sys/class/net | sort | tr '\n' ' ')
"$bin" run "$root/tests/integration/harness_raft.lua" --seed 12 --set time_limit=60 --out "$tmp/kill" >"$tmp/kill.out" 2>&1 &
pid=$!
t_end=$(( $(now_ms) + 30000 ))
until grep -q -- '-start"' "$tmp/kill/history.jsonl" 2>/dev/null || [ "$(now_ms)" -gt $t_end ]; do sleep 0.1; done
grep -q -- '-start"' "$tmp/kill/history.jsonl" || fail "SIGKILL: no fault started within 30 s"
nets=$(grep -o 'net:\[[0-9]*\]' "$tmp/kill/harness.log" | sort -u)
left_k() {
  local n
  for n in $nets; do
    find /proc/[0-9]*/ns -maxdepth 1 -type l -lname "$(printf '%s' "$n" | sed 's/\[/\\[/; s/\]/\\]/')" 2>/dev/null
  done | only_old
  grep -l "${tmp}/kil[l]" /proc/[0-9]*/cmdline 2>/dev/null || true
}
# Positive control: the scan does see the live lab.
before=$(ls /proc | grep -E '^[0-9]+$')
[ -n "$(left_k)" ] || fail "SIGKILL: the scan misses the live lab (check broken)"
before=$(ls /proc | grep -E '^[0-9]+$')
kill -KILL $pid
wait $pid 2>/dev/null
t_end=$(( $(now_ms) + 15000 ))
while [ -n "$(left_k)" ] && [ "$(now_ms)" -lt $t_end ]; do sleep 0.1; done
if [ -n "$(left_k)" ]; then fail "SIGKILL: lab leftovers:"; left_k; fi
[ "$(ls /sys/class/net | sort | tr '\n' ' ')" = "$host_ifs" ] || fail "SIGKILL: host interfaces changed"
ip -o addr show 2>/dev/null | grep -q '10\.77\.0\.' && fail "SIGKILL: a lab address is visible in the host namespace"

[ $fails -eq 0 ] || { echo "$fails failed (run directory kept in $tmp.kept)"; cp -r "$tmp" "$tmp.kept"; exit 1; }
echo "raftnode run valid; nothing left behind after the run or after SIGKILL"
