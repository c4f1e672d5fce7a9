#!/usr/bin/env bash
# report_test.sh — report.html from a real short raftnode run, from a synthetic invalid history (the counterexample's ops are on the page), from a crashed run (says what is missing), and `report` usage errors; every page is balanced markup with no external references.
set -u
root=${RAPAT_ROOT:-.}
bin=${RAPAT_BIN:-bin}
build=${RAPAT_BUILD:-build/default}
report=$build/harness/report/rapat-report
check="lua5.4 $root/tests/integration/report_markup_check.lua"
for x in "$report" "$bin/rapat" "$bin/rapat-genhist" "$bin/raftnode"; do
  [ -x "$x" ] || { echo "missing $x"; exit 1; }
done
tmp=$(mktemp -d /tmp/report_test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }
has() { grep -qF -- "$2" "$1" || fail "$1 lacks: $2"; }

# 1. A real short run (3 raftnodes, kills and pauses), then the page rebuilt from its directory.
if [ "$(id -u)" -eq 0 ] || unshare --user --map-root-user --net true 2>/dev/null; then
  (cd "$root" && "$bin/rapat" run tests/integration/harness_short.lua --seed 11 --time-limit 3 \
     --set final_time_limit=2 --out "$tmp/real") >"$tmp/real.out" 2>&1
  rc=$?
  tail -4 "$tmp/real.out"
  [ -f "$tmp/real/history.jsonl" ] || fail "the real run wrote no history (exit $rc)"
  rm -f "$tmp/real/report.html"
  "$report" "$tmp/real" >"$tmp/r1.out" 2>&1 || fail "report of the real run: exit $?: $(cat "$tmp/r1.out")"
  page=$tmp/real/report.html
  $check html "$page" || fail "real run: markup check"
  case $rc in 0) want='<span class="valid">VALID</span>';; 1) want='<span class="invalid">INVALID</span>';;
              *) want='<span class="unknown">UNKNOWN</span>';; esac
  has "$page" "$want"
  has "$page" '<canvas id="tl"'
  has "$page" 'href="nodes/n1/log"'
  has "$page" '<section id="params">'
  has "$page" 'harness-short'
  grep -q '"kind":"kill"\|"kind":"pause"' "$page" || fail "real run: no fault window in the page data"
else
  echo "note: no namespaces here; the real-run part is skipped"
fi

# 2. A synthetic invalid history: the counterexample's operations are drawn and listed.
mkdir -p "$tmp/inv"
"$bin/rapat-genhist" --ops 400 --clients 5 --violation stale-read --seed 5 >"$tmp/inv/history.jsonl"
"$bin/rapat" check "$tmp/inv/history.jsonl" --json >"$tmp/check.json"
[ $? -eq 1 ] || fail "rapat check did not find the stale read"
{ printf '{"valid": false, "plan": "synthetic", "seed": 5, "nodes": 3, "duration_s": 1.0,\n'
  printf ' "ops": {"invoke": 400}, "options": {"concurrency": 5},\n'
  printf ' "checkers": {"linearizable": '; cat "$tmp/check.json"; printf '}}\n'; } >"$tmp/inv/results.json"
"$report" "$tmp/inv" >/dev/null || fail "report of the synthetic run: exit $?"
page=$tmp/inv/report.html
$check html "$page" || fail "synthetic: markup check"
has "$page" '<span class="invalid">INVALID</span>'
has "$page" '<svg class="cx"'
has "$page" 'cannot be linearized'
has "$page" '<tr class="stuck">'
# every op of the counterexample appears in its table, by history line
lines=$(lua5.4 - "$root" "$tmp/check.json" <<'LUA'
local json = dofile(arg[1] .. "/workloads/lib/json.lua")
local f = assert(io.open(arg[2])); local r = json.decode(f:read("a")); f:close()
for _, op in ipairs(r.counterexample.ops) do print(math.tointeger(op.line)) end
LUA
)
[ -n "$lines" ] || fail "synthetic: no counterexample ops in rapat check's output"
for line in $lines; do
  grep -q "<td class=\"n\">$line</td>" "$page" || fail "synthetic: counterexample op at line $line not in the table"
done

# 3. A crashed run: no results.json, a history cut mid-line.
mkdir -p "$tmp/crash/nodes/n1"
head -c 20000 "$tmp/inv/history.jsonl" >"$tmp/crash/history.jsonl"
echo "node log" >"$tmp/crash/nodes/n1/log"
"$report" "$tmp/crash" >/dev/null || fail "report of a crashed run: exit $?"
page=$tmp/crash/report.html
$check html "$page" || fail "crashed: markup check"
has "$page" 'results.json is missing'
has "$page" 'the history is truncated'
has "$page" 'UNKNOWN (no results)'

# 4. results.json cut in the middle
mkdir -p "$tmp/partial"
cp "$tmp/inv/history.jsonl" "$tmp/partial/"
head -c 200 "$tmp/inv/results.json" >"$tmp/partial/results.json"
"$report" "$tmp/partial" >/dev/null || fail "report with a partial results.json: exit $?"
has "$tmp/partial/report.html" 'results.json:'
$check html "$tmp/partial/report.html" || fail "partial: markup check"

# 5. Usage errors: exit 2 with a message naming the directory.
mkdir -p "$tmp/empty"
"$report" "$tmp/empty" 2>"$tmp/e1"; rc=$?
[ $rc -eq 2 ] || fail "empty directory: exit $rc, want 2"
grep -q "not a run directory" "$tmp/e1" || fail "empty directory: message: $(cat "$tmp/e1")"
"$report" "$tmp/nonexistent" 2>"$tmp/e2"; rc=$?
[ $rc -eq 2 ] || fail "missing directory: exit $rc, want 2"
grep -q "$tmp/nonexistent" "$tmp/e2" || fail "missing directory: message: $(cat "$tmp/e2")"
"$report" 2>/dev/null; [ $? -eq 2 ] || fail "no argument: want exit 2"
"$report" --bogus "$tmp/inv" 2>/dev/null; [ $? -eq 2 ] || fail "unknown option: want exit 2"

# 6. A large history (100k operations): measured, not judged by time.
mkdir -p "$tmp/big"
"$bin/rapat-genhist" --ops 100000 --clients 20 --seed 9 >"$tmp/big/history.jsonl"
printf '{"valid": true, "plan": "big", "seed": 9, "options": {"concurrency": 20}, "checkers": {}}\n' \
  >"$tmp/big/results.json"
t0=$(date +%s%N)
"$report" "$tmp/big" >/dev/null || fail "report of 100k ops: exit $?"
t1=$(date +%s%N)
$check html "$tmp/big/report.html" || fail "big: markup check"
echo "100k ops: report written in $(( (t1 - t0) / 1000000 )) ms, $(( $(stat -c %s "$tmp/big/report.html") / 1024 )) KiB"

[ $fails -eq 0 ] && echo "report_test: all passed"
[ $fails -eq 0 ]
