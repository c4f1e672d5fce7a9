#!/usr/bin/env bash
# Test runner: runs each test command, counts results, prints one closing line
# "N passed, N failed, N skipped". Exit status 77 from a test means skipped
# (its environment is missing); the test prints why.
# Usage: tests/run.sh --suite NAME CMD...   (a CMD may carry arguments joined by ':')
set -u
suite=all
if [ "${1:-}" = "--suite" ]; then suite=$2; shift 2; fi
pass=0 fail=0 skip=0 failed=()
logdir=${RAPAT_BUILD:-build}/test-logs
mkdir -p "$logdir"
start_all=$(date +%s)
for t in "$@"; do
  cmd=${t//:/ }
  # Display name: the program's basename plus its arguments, so that one
  # program run with different arguments gets distinct names and logs.
  name=$(basename "${cmd%% *}")
  [ "$cmd" != "${cmd%% *}" ] && name="$name ${cmd#* }"
  log="$logdir/$(printf '%s' "$name" | tr -c 'A-Za-z0-9._-' '_').log"
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  $cmd >"$log" 2>&1
  rc=$?
  dt=$(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)")
  case $rc in
    0)  pass=$((pass+1)); printf 'PASS  %-50s %6ss\n' "$name" "$dt";;
    77) skip=$((skip+1)); printf 'SKIP  %-50s %6ss  %s\n' "$name" "$dt" "$(tail -n 1 "$log")";;
    *)  fail=$((fail+1)); failed+=("$name"); printf 'FAIL  %-50s %6ss  (exit %d, log %s)\n' "$name" "$dt" "$rc" "$log"
        tail -n 30 "$log" | sed 's/^/      | /';;
  esac
done
echo "suite $suite: $(( $(date +%s) - start_all ))s"
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
