#!/usr/bin/env bash
# harness_fake_test.sh — rapat run end to end against fake v1 servers in the lab: a correct system is valid with invoke/completion pairs and fault events; a system with stale reads is caught (exit 1); SIGINT heals and ends unknown (exit 3); after SIGKILL of rapat no process or namespace of the lab remains.
set -u
bin=${RAPAT_BIN:-bin}/rapat
root=${RAPAT_ROOT:-.}
build=${RAPAT_BUILD:-build/default}
export RAPAT_FAKE_V1=$(realpath -m "$build/tests/integration/fake_v1")
[ -x "$bin" ] && [ -x "$RAPAT_FAKE_V1" ] || { echo "missing $bin or $RAPAT_FAKE_V1"; exit 1; }
[ "$(id -u)" -eq 0 ] || unshare --user --map-root-user --net true 2>/dev/null || { echo "skip: no namespaces for this user"; exit 77; }
plan=$root/tests/integration/harness_short.lua
adapter=$root/tests/integration/harness_fake_adapter.lua
check=$root/tests/integration/harness_check_run.lua
tmp=$(mktemp -d /tmp/harness_fake.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
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
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
kinds=partition,kill,pause

# 1. A correct system: valid, pairs, faults started and ended.
"$bin" run "$plan" --db "$adapter" --seed 7 --set nemesis=$kinds --out "$tmp/good" >"$tmp/good.out" 2>&1
rc=$?
cat "$tmp/good.out"
[ $rc -eq 0 ] || fail "correct system: exit $rc, want 0"
lua5.4 "$check" "$tmp/good" true 100 "$kinds" || fail "correct system: run directory checks"
for f in plan.lua history.jsonl results.json harness.log nodes/n1/log nodes/n1/data; do
  [ -e "$tmp/good/$f" ] || fail "run directory lacks $f"
done
grep -q -- '-- effective options:' "$tmp/good/plan.lua" || fail "plan.lua lacks the effective options"
grep -q 'seed 7' "$tmp/good/harness.log" || fail "harness.log lacks the seed"
grep -q '(env hello-n2)' "$tmp/good/nodes/n2/log" || fail "the adapter's env did not reach node n2"
grep -q '<title>rapat: harness-short seed 7: VALID' "$tmp/good/report.html" || fail "report.html lacks the verdict"
rm "$tmp/good/report.html"
"$bin" report "$tmp/good" >/dev/null || fail "rapat report failed"
[ -s "$tmp/good/report.html" ] || fail "rapat report did not rebuild report.html"

# 1b. Clock and packet faults: control files, shim preloaded, shapers run
# in node namespaces, start/end events.
"$bin" run "$plan" --db "$adapter" --seed 7 --set nemesis=clock,packet --set nemesis_overlap=true --out "$tmp/clock" >"$tmp/clock.out" 2>&1
rc=$?
[ $rc -eq 0 ] || { fail "clock/packet faults: exit $rc, want 0"; tail -5 "$tmp/clock.out"; }
lua5.4 "$check" "$tmp/clock" true 50 clock,packet || fail "clock/packet faults: run directory checks"
[ -f "$tmp/clock/nodes/n3/clock.ctl" ] || fail "clock faults: no control file for n3"
grep -qh 'rapat-shaper: seen' "$tmp"/clock/nodes/*/shaper.log 2>/dev/null || fail "packet faults: no shaper ran to the end"

# 1c. Mutual TLS: the harness's CA and certificates, HTTPS with client certs.
"$bin" run "$plan" --db "$adapter" --seed 7 --set tls=true --set nemesis=pause --out "$tmp/tls" >"$tmp/tls.out" 2>&1
rc=$?
[ $rc -eq 0 ] || { fail "tls: exit $rc, want 0"; tail -5 "$tmp/tls.out"; }
lua5.4 "$check" "$tmp/tls" true 50 pause || fail "tls: run directory checks"
grep -q 'with mutual TLS' "$tmp/tls/nodes/n1/log" || fail "tls: node n1 did not serve TLS"
grep -q '"tls": true' "$tmp/tls/results.json" || fail "tls: results.json says no TLS"
openssl verify -CAfile "$tmp/tls/tls/ca.pem" "$tmp/tls/tls/n2.pem" "$tmp/tls/tls/client.pem" >/dev/null \
  || fail "tls: certificates do not verify against the run CA"
openssl x509 -in "$tmp/tls/tls/n2.pem" -noout -text | grep -q 'IP Address:10.77.0.12' \
  || fail "tls: n2's certificate lacks its IP"
[ "$(stat -c %a "$tmp/tls/tls/n2.key")" = 600 ] || fail "tls: private key not 0600"

# 1d. The same seed gives the same fault schedule (kinds, targets,
# topologies), whatever the clients' timing.
for r in a b; do
  "$bin" run "$plan" --db "$adapter" --seed 21 --nodes 5 --set nemesis=partition,kill,pause \
    --set partitions=one,majority,bridge,ring --out "$tmp/seed-$r" >/dev/null 2>&1
  grep -o '"f":"[a-z]*-start","value":[^}]*}' "$tmp/seed-$r/history.jsonl" >"$tmp/seed-$r.faults"
done
# (A very slow machine may fit one fault fewer into one of the runs: compare
# the common prefix, which must hold at least two faults.)
na=$(wc -l <"$tmp/seed-a.faults"); nb=$(wc -l <"$tmp/seed-b.faults")
n=$(( na < nb ? na : nb ))
[ "$n" -ge 2 ] || fail "seed: fewer than 2 faults recorded ($na, $nb)"
cmp -s <(head -n "$n" "$tmp/seed-a.faults") <(head -n "$n" "$tmp/seed-b.faults") \
  || { fail "seed: two runs with seed 21 had different fault schedules"; diff "$tmp/seed-a.faults" "$tmp/seed-b.faults"; }

# 2. Stale reads must be caught: exit 1, valid false, a counterexample.
RAPAT_FAKE_BUG=stale "$bin" run "$plan" --db "$adapter" --seed 8 --set nemesis=none --out "$tmp/bad" >"$tmp/bad.out" 2>&1
rc=$?
tail -5 "$tmp/bad.out"
[ $rc -eq 1 ] || fail "stale reads: exit $rc, want 1"
lua5.4 "$check" "$tmp/bad" false 10 "" || fail "stale reads: run directory checks"
grep -q '<title>rapat: harness-short seed 8: INVALID' "$tmp/bad/report.html" || fail "stale reads: report.html lacks the verdict"

# 3. SIGINT mid-run: final heal, results unknown with a reason, exit 3.
"$bin" run "$plan" --db "$adapter" --seed 9 --set time_limit=60 --set nemesis=pause --out "$tmp/int" >"$tmp/int.out" 2>&1 &
pid=$!
t_end=$(( $(now_ms) + 20000 ))
until grep -q '"pause-start"' "$tmp/int/history.jsonl" 2>/dev/null || [ "$(now_ms)" -gt $t_end ]; do sleep 0.1; done
kill -INT $pid
wait $pid; rc=$?
[ $rc -eq 3 ] || { fail "SIGINT: exit $rc, want 3"; cat "$tmp/int.out"; }
grep -q '"valid": "unknown"' "$tmp/int/results.json" || fail "SIGINT: results.json not unknown"
grep -q 'interrupted by SIGINT' "$tmp/int/results.json" || fail "SIGINT: no reason in results.json"
grep -q '"pause-end"' "$tmp/int/history.jsonl" || fail "SIGINT: the pause was not healed"

# 4. SIGKILL mid-run: nothing of the lab survives.
"$bin" run "$plan" --db "$adapter" --seed 10 --set time_limit=60 --out "$tmp/kill" >"$tmp/kill.out" 2>&1 &
pid=$!
t_end=$(( $(now_ms) + 20000 ))
until grep -q -- '-start"' "$tmp/kill/history.jsonl" 2>/dev/null || [ "$(now_ms)" -gt $t_end ]; do sleep 0.1; done
grep -q -- '-start"' "$tmp/kill/history.jsonl" || fail "SIGKILL: no fault started"
nets=$(grep -o 'net:\[[0-9]*\]' "$tmp/kill/harness.log" | sort -u)
[ -n "$nets" ] || fail "SIGKILL: harness.log lacks the lab namespaces"
left() {
  local n
  for n in $nets; do
    find /proc/[0-9]*/ns -maxdepth 1 -type l -lname "$(printf '%s' "$n" | sed 's/\[/\\[/; s/\]/\\]/')" 2>/dev/null
  done | only_old
  grep -l "${tmp}/kil[l]" /proc/[0-9]*/cmdline 2>/dev/null || true
}
# Positive control: the scan does see the live lab.
before=$(ls /proc | grep -E '^[0-9]+$')
[ -n "$(left)" ] || fail "SIGKILL: the scan misses the live lab (check broken)"
before=$(ls /proc | grep -E '^[0-9]+$')
kill -KILL $pid
wait $pid 2>/dev/null
t_end=$(( $(now_ms) + 15000 ))
while [ -n "$(left)" ] && [ "$(now_ms)" -lt $t_end ]; do sleep 0.1; done
if [ -n "$(left)" ]; then fail "SIGKILL: lab leftovers:"; left; fi
# The history survived (flushed as it went).
lua5.4 - "$tmp/kill/history.jsonl" <<'LUA' || fail "SIGKILL: history has a torn line"
for l in io.lines(arg[1]) do assert(l:match("^{.*}$"), "torn line: " .. l) end
LUA

# 5. A system that will not start: exit 4, the node's log tail on stderr.
printf '#!/bin/sh\necho "boom: cannot open the frobnicator" >&2\nexit 1\n' >"$tmp/broken.sh"
chmod +x "$tmp/broken.sh"
RAPAT_FAKE_V1=$tmp/broken.sh "$bin" run "$plan" --db "$adapter" --out "$tmp/broken" >"$tmp/broken.out" 2>&1
rc=$?
[ $rc -eq 4 ] || fail "broken system: exit $rc, want 4"
grep -q "boom: cannot open the frobnicator" "$tmp/broken.out" || { fail "broken system: no log tail in the message"; cat "$tmp/broken.out"; }
grep -q '"valid": "unknown"' "$tmp/broken/results.json" || fail "broken system: results.json not unknown"

# 6. A node dying on its own is reported everywhere, never hidden.
RAPAT_FAKE_BUG=die "$bin" run "$plan" --db "$adapter" --set nemesis=none --out "$tmp/die" >"$tmp/die.out" 2>&1
grep -q '"f":"crash"' "$tmp/die/history.jsonl" || fail "crash: no crash event in the history"
grep -q 'UNEXPECTEDLY' "$tmp/die/harness.log" || fail "crash: not in harness.log"
grep -q 'UNEXPECTEDLY' "$tmp/die.out" || fail "crash: not on the terminal"
lua5.4 - "$tmp/die/results.json" <<'LUA' || fail "crash: results.json crashes empty"
package.path = (os.getenv("RAPAT_ROOT") or ".") .. "/?.lua;" .. package.path
local j = require("workloads.lib.json")
local f = io.open(arg[1])
local r = j.decode(f:read("a"))
os.exit(#r.crashes > 0 and 0 or 1)
LUA

[ $fails -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "all harness fake-system checks passed"
