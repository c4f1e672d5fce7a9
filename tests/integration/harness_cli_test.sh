#!/usr/bin/env bash
# harness_cli_test.sh — rapat's command line: help, and usage errors (unknown options, malformed values, plans with a syntax error, an unknown key or a missing adapter) exit 2 naming the word or file:line, before anything starts.
set -u
bin=${RAPAT_BIN:-bin}/rapat
root=${RAPAT_ROOT:-.}
[ -x "$bin" ] || { echo "missing $bin"; exit 1; }
tmp=$(mktemp -d /tmp/harness_cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
# expect CODE PATTERN CMD... : exit code and a pattern in stdout+stderr
expect() {
  local want=$1 pat=$2; shift 2
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -ne "$want" ]; then echo "FAIL: '$*' exited $rc, want $want"; echo "$out" | sed 's/^/    /'; fails=$((fails+1)); return; fi
  if ! grep -qF -- "$pat" <<<"$out"; then echo "FAIL: '$*' output lacks '$pat'"; echo "$out" | sed 's/^/    /'; fails=$((fails+1)); return; fi
  echo "ok: $* -> $rc"
}
adapter=$root/tests/integration/harness_fake_adapter.lua
printf 'return {\n  nodes = 3,\n  rate = ,\n}\n' >"$tmp/syntax.lua"
printf 'return {\n  nodes = 3,\n  nemesis = "kill",\n  concurrancy = 4,\n}\n' >"$tmp/unknown.lua"
printf 'return {\n  nodes = 3,\n  db = "nosuchdb",\n}\n' >"$tmp/noadapter.lua"
printf 'return {\n  nodes = 3,\n  nemesis = "kill,earthquake",\n}\n' >"$tmp/badkind.lua"
printf 'return 42\n' >"$tmp/notable.lua"
printf 'return { nodes = 1, time_limit = 1 }\n' >"$tmp/ok.lua"

expect 0 "usage: rapat" "$bin" --help
expect 0 "--set KEY=VALUE" "$bin" run --help
expect 2 "unknown command 'frobnicate'" "$bin" frobnicate
expect 2 "missing PLAN.lua" "$bin" run
expect 2 "unknown option '--bogus'" "$bin" run "$tmp/ok.lua" --bogus 3
expect 2 "--nodes: 'abc' is not an integer" "$bin" run "$tmp/ok.lua" --nodes abc
expect 2 "--time-limit: '-1'" "$bin" run "$tmp/ok.lua" --time-limit=-1
expect 2 "--seed: '1x'" "$bin" run "$tmp/ok.lua" --seed 1x
expect 2 "option '--db' needs a value" "$bin" run "$tmp/ok.lua" --db
expect 2 "--set: 'rate' is not KEY=VALUE" "$bin" run "$tmp/ok.lua" --set rate
expect 2 "$tmp/syntax.lua:3:" "$bin" run "$tmp/syntax.lua" --db "$adapter" --out "$tmp/r1"
expect 2 "$tmp/unknown.lua:4: unknown plan key 'concurrancy'" "$bin" run "$tmp/unknown.lua" --db "$adapter" --out "$tmp/r2"
expect 2 "$tmp/noadapter.lua:3: adapter 'nosuchdb' not found" "$bin" run "$tmp/noadapter.lua" --out "$tmp/r3"
expect 2 "$tmp/badkind.lua:3: unknown nemesis kind 'earthquake'" "$bin" run "$tmp/badkind.lua" --db "$adapter" --out "$tmp/r4"
expect 2 "must return a table" "$bin" run "$tmp/notable.lua" --out "$tmp/r5"
expect 2 "--db: adapter" "$bin" run "$tmp/ok.lua" --db "$tmp/none.lua" --out "$tmp/r6"
expect 2 "unknown plan key 'bogus'" "$bin" run "$tmp/ok.lua" --db "$adapter" --set bogus=1 --out "$tmp/r7"
expect 2 "'fast' is not a number" "$bin" run "$tmp/ok.lua" --db "$adapter" --set rate=fast --out "$tmp/r8"
expect 2 "no such plan file" "$bin" run "$tmp/missing.lua"
expect 2 "needs an adapter with add_member" "$bin" run "$tmp/ok.lua" --db "$adapter" --set nemesis=member --out "$tmp/r9"
expect 2 "cannot be combined" "$bin" run "$tmp/ok.lua" --set nemesis=member,disk --set disk_faults=lose-unsynced --out "$tmp/r10"
expect 2 "usage: rapat report RUN_DIR" "$bin" report
expect 2 "missing CAMPAIGN.lua" "$bin" campaign
expect 2 "No such file or directory" "$bin" report "$tmp/r1"
mkdir -p "$tmp/r1"   # an empty directory is not a run either
expect 2 "not a run directory" "$bin" report "$tmp/r1"
rmdir "$tmp/r1"
# Nothing started: none of those runs created its directory.
for i in 1 2 3 4 5 6 7 8 9 10; do
  [ ! -e "$tmp/r$i" ] || { echo "FAIL: a rejected plan created $tmp/r$i"; fails=$((fails+1)); }
done
[ $fails -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "all CLI checks passed"
