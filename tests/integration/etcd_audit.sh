#!/usr/bin/env bash
# tests/integration/etcd_audit.sh — audits real etcd 3.4 through bin/rapat and the etcd adapter: linearizable reads valid under faults, serializable reads caught stale, broken adapters end with exit 4 or 2 and say why.
#
# 1. etcd_register (linearizable reads) under partitions, kills and pauses:
#    valid, with at least MIN_OK ok operations and every fault kind applied.
# 2. etcd_set (CAS-updated set shards) under the same faults: valid.
# 3. etcd_stale (serializable reads) under partitions: invalid, with a stale
#    read in the counterexample. One run can in principle miss it, so up to
#    STALE_SEEDS seeds are tried; the test prints how many it took.
# 4. Broken adapters: a start command that exits at once and a server that
#    answers garbage end with exit 4 and name the node; bad adapter options
#    given with --set end with exit 2 and name the option.
set -u
root=${RAPAT_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
export RAPAT_ROOT=$root
bin=${RAPAT_BIN:-$root/bin}/rapat
[ -x "$bin" ] || { echo "missing $bin (make all)"; exit 1; }
[ -x /usr/bin/etcd ] || "$root/scripts/deps.sh" || { echo "scripts/deps.sh could not install etcd"; exit 1; }
[ -x /usr/bin/etcd ] || { echo "etcd missing after scripts/deps.sh"; exit 1; }
[ "$(id -u)" -eq 0 ] || unshare --user --map-root-user --net true 2>/dev/null || { echo "skip: no namespaces for this user"; exit 77; }
TIME=${TIME:-30}
MIN_OK=${MIN_OK:-300}
STALE_SEEDS=${STALE_SEEDS:-5}
tmp=$(mktemp -d /tmp/etcd_audit.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }
check() { lua5.4 "$root/tests/integration/etcd_check_run.lua" "$@"; }

faults=partition,kill,pause
run() { # name out args... : runs rapat, prints its summary, returns its exit code
  local name=$1 out=$2; shift 2
  echo "== $name: rapat run $*"
  "$bin" run "$@" --out "$out" >"$out.log" 2>&1
  local rc=$?
  grep -E '^(== rapat|   [a-zA-Z]|verdict)' "$out.log" | cut -c1-200
  return $rc
}

# 1. linearizable reads: valid
run register "$tmp/reg" "$root/workloads/plans/etcd_register.lua" --seed 1 --time-limit "$TIME" \
  --set nemesis=$faults --set nemesis_interval=4
rc=$?
[ $rc -eq 0 ] || fail "etcd_register exited $rc, want 0 (valid)"
check "$tmp/reg" valid "$MIN_OK" "$faults" || fail "etcd_register run checks"

# 2. the set workload: valid
run set "$tmp/set" "$root/workloads/plans/etcd_set.lua" --seed 2 --time-limit "$TIME" \
  --set nemesis=$faults --set nemesis_interval=4
rc=$?
[ $rc -eq 0 ] || fail "etcd_set exited $rc, want 0 (valid)"
check "$tmp/set" valid "$MIN_OK" "$faults" || fail "etcd_set run checks"

# 3. serializable reads: invalid, the stale read in the counterexample
caught=0 tries=0
for seed in $(seq 1 "$STALE_SEEDS"); do
  tries=$seed
  run stale "$tmp/stale$seed" "$root/workloads/plans/etcd_stale.lua" --seed "$seed" --time-limit 15 \
    --set nemesis_interval=3
  rc=$?
  if [ $rc -eq 1 ]; then
    check "$tmp/stale$seed" partitions
    check "$tmp/stale$seed" stale && caught=1 && break
    fail "seed $seed: invalid, but no stale read in the counterexample"
  elif [ $rc -ne 0 ]; then
    fail "etcd_stale seed $seed exited $rc, want 1 (invalid) or 0 (missed)"
  else
    echo "seed $seed: the stale reads were missed (valid); next seed"
  fi
done
[ $caught -eq 1 ] && echo "serializable reads caught stale at try $tries of $STALE_SEEDS" \
                  || fail "serializable reads not caught in $STALE_SEEDS seeds"

# 4. broken adapters
run bad-exit "$tmp/bad_exit" "$root/tests/integration/harness_short.lua" --db "$root/tests/integration/etcd_bad_exit.lua"
rc=$?
[ $rc -eq 4 ] || fail "start command exiting at once: exit $rc, want 4"
grep -q "node n[0-9]* exited during startup" "$tmp/bad_exit.log" || fail "start command exiting at once: no 'exited during startup' message"
grep -q "flag provided but not defined" "$tmp/bad_exit/nodes/n1/log" || fail "the node's log lacks etcd's complaint"

run bad-garbage "$tmp/bad_garbage" "$root/tests/integration/harness_short.lua" \
  --db "$root/tests/integration/etcd_bad_garbage.lua" --set start_timeout=5
rc=$?
[ $rc -eq 4 ] || fail "server answering garbage: exit $rc, want 4"
grep -q "node n[0-9]* not ready after 5 s" "$tmp/bad_garbage.log" || fail "server answering garbage: no 'not ready' message"

run bad-option "$tmp/bad_option" "$root/tests/integration/harness_short.lua" --db etcd --set etcd_election_ms=100
rc=$?
[ $rc -eq 2 ] || fail "bad adapter option: exit $rc, want 2"
grep -q "harness/adapters/etcd.lua: cluster.options.etcd_election_ms" "$tmp/bad_option.log" \
  || fail "bad adapter option: the message does not name the adapter file and option"

run bad-reads "$tmp/bad_reads" "$root/tests/integration/harness_short.lua" --db etcd --set reads=stale
rc=$?
[ $rc -eq 2 ] || fail "bad reads mode: exit $rc, want 2"
grep -q 'cluster.options.reads must be "linearizable" or "serializable", got "stale"' "$tmp/bad_reads.log" \
  || fail "bad reads mode: the message does not name the option and value"

if [ $fails -ne 0 ]; then
  cp -r "$tmp" "$tmp.kept"; echo "$fails failed (run directories kept in $tmp.kept)"; exit 1
fi
echo "etcd audit: linearizable valid, serializable caught stale, broken adapters reported"
