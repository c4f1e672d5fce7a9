#!/usr/bin/env bash
# tests/workloads/integ_workloads.sh — each workload (set, counter, bank, kv) against a real raftnode cluster under partitions and kills for a few seconds, and the vacuous plan.
#
# Passes when: every workload run exits 0 with a valid verdict, a non-trivial
# number of ok operations (≥ 50) and at least one fault in force; its history,
# re-checked offline by workloads/tools/check.lua, is valid too; and
# workloads/plans/vacuous.lua ends unknown (exit 3). Which faults happen
# when depends on timing, so the runs ask for "at least one fault" (the
# schedule always starts one at nemesis_interval, long before time_limit),
# never for a particular one (faults_required=false).
set -u
root=${RAPAT_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${RAPAT_BIN:-$root/bin}
cd "$root" || exit 1
skip() { echo "$1"; exit 77; }
[ -x "$bin/rapat" ] || skip "bin/rapat is not built yet"
[ -x "$bin/raftnode" ] || skip "bin/raftnode is not built yet"
command -v lua5.4 >/dev/null || skip "lua5.4 is not installed"
# The system under test: the raftnode adapter (RAPAT_WORKLOADS_DB names
# another adapter file, e.g. while the shipped one is missing).
db=${RAPAT_WORKLOADS_DB:-$root/harness/adapters/raftnode.lua}
[ -f "$db" ] || skip "no raftnode adapter yet ($db)"

export LUA_PATH="$root/?.lua;;"
out=$(mktemp -d /tmp/rapat-integ-workloads.XXXXXX)
trap 'rm -rf "$out"' EXIT
fail=0

# Prints FIELD of results.json (a dotted path) as JSON, or "absent".
field() { lua5.4 tests/workloads/json_field.lua "$1" "$2"; }

# Partitions need the nemesis library built into rapat; probe once so that
# the runs below ask only for faults this build can inject.
"$bin/rapat" run workloads/plans/kv-partition.lua --db "$db" --seed 1 --nodes 3 --concurrency 2 --time-limit 1.5 \
  --out "$out/probe" --set nemesis_interval=0.5 --set recovery_time=0 --set faults_required=false >"$out/probe.log" 2>&1
if grep -q '"f":"partition-start"' "$out/probe/history.jsonl" 2>/dev/null; then
  faults=partition,kill
else
  faults=kill
  echo "note: this rapat cannot partition yet ($(grep -m1 -o 'partition.*' "$out/probe.log")); kills only"
fi

seed=1
for w in set counter bank kv; do
  seed=$((seed + 1))
  dir=$out/$w
  echo "== $w: $faults"
  "$bin/rapat" run "workloads/plans/$w-partition.lua" --db "$db" --seed $seed --nodes 3 --concurrency 4 \
    --time-limit 8 --out "$dir" --set nemesis=$faults --set nemesis_interval=2 \
    --set faults_required=false --set recovery_time=1 --set final_time_limit=5 --set rate=80 >"$out/$w.log" 2>&1
  rc=$?
  verdict=$(field "$dir/results.json" valid)
  ok=$(field "$dir/results.json" ops.ok)
  starts=$(grep -c '"f":"[a-z]*-start"' "$dir/history.jsonl" 2>/dev/null || echo 0)
  echo "   exit $rc, valid $verdict, ok ops $ok, faults started $starts"
  if [ "$rc" -ne 0 ] || [ "$verdict" != "true" ]; then
    echo "FAIL: $w: expected exit 0 and valid; tail of the run's output:"; tail -n 20 "$out/$w.log"
    lua5.4 -e 'print(io.open(arg[1]):read("a"))' "$dir/results.json" 2>/dev/null | head -c 3000; echo
    fail=1
  fi
  if [ "$ok" = absent ] || [ "$ok" -lt 50 ] 2>/dev/null; then echo "FAIL: $w: only $ok ok operations"; fail=1; fi
  if [ "$starts" -lt 1 ]; then echo "FAIL: $w: no fault took effect"; fail=1; fi
  lua5.4 workloads/tools/check.lua "$w" "$dir/history.jsonl" --run-dir "$dir" --nodes n1,n2,n3 \
    --set faults_required=false >"$out/$w.check.json"
  crc=$?
  echo "   offline re-check: exit $crc"
  [ "$crc" -eq 0 ] || { echo "FAIL: $w: offline re-check exit $crc"; head -c 2000 "$out/$w.check.json"; echo; fail=1; }
done

# Every node cut off from every other for the whole run; while this rapat
# cannot partition, every node killed for the whole run stands in for it.
if [ "$faults" = kill ]; then
  echo "== vacuous: every node killed for the whole run (no partitions in this build)"
  vargs=(--set nemesis=kill --set kill_targets=all)
else
  echo "== vacuous: every node alone for the whole run"
  vargs=()
fi
"$bin/rapat" run workloads/plans/vacuous.lua --db "$db" --seed 1 --out "$out/vacuous" "${vargs[@]}" \
  >"$out/vacuous.log" 2>&1
rc=$?
verdict=$(field "$out/vacuous/results.json" valid)
echo "   exit $rc, valid $verdict"
reasons=$(field "$out/vacuous/results.json" checkers.vacuity.reasons)
echo "   vacuity: $reasons"
if [ "$rc" -ne 3 ] || [ "$verdict" != '"unknown"' ]; then
  echo "FAIL: vacuous: expected exit 3 and unknown"; tail -n 20 "$out/vacuous.log"; fail=1
fi
# Unknown for the right reason: the guards saw that nothing was achieved.
case $reasons in
  *"operations succeeded"*|*'no \"add\" operation succeeded'*) ;;
  *) echo "FAIL: vacuous: the guards did not notice that nothing succeeded"; fail=1;;
esac
exit $fail
