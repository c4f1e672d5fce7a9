#!/usr/bin/env bash
# test_genhist.sh — rapat-genhist's histories have the verdicts they are built
# to have: "none" valid (by construction), every injected violation invalid,
# for several seeds, key counts, concurrency and crash rates; by the default
# check and by search alone.
set -u
bin=${RAPAT_BIN:-bin}
check=${RAPAT_BUILD:-build/default}/checker/rapat-check
gen=$bin/rapat-genhist
for p in "$gen" "$check"; do
  [ -x "$p" ] || { echo "missing $p (build it first)"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0
for seed in 1 2; do
  for shape in "--clients 3 --keys 1" "--clients 5 --keys 4 --crashed 0.05" "--clients 4 --keys 1 --crashed 0.1 --values 3" "--clients 6 --keys 1 --values 0"; do
    for v in none stale-read lost-write phantom-value duplicated-effect; do
      # shellcheck disable=SC2086
      "$gen" --ops 300 $shape --violation $v --seed $seed > "$tmp/h.jsonl" || { echo "generator failed: $shape $v $seed"; exit 1; }
      want=1; [ $v = none ] && want=0
      for mode in "" "--search-only"; do
        "$check" "$tmp/h.jsonl" --time-limit 30 $mode > "$tmp/out" 2>&1
        rc=$?
        n=$((n+1))
        if [ $rc -ne $want ]; then
          echo "FAIL: rapat-genhist --ops 300 $shape --violation $v --seed $seed: exit $rc, want $want ($mode)"
          head -5 "$tmp/out"
          fail=$((fail+1))
        fi
      done
    done
  done
done
# bad options are usage errors
"$gen" --violation nope > /dev/null 2>&1; [ $? -eq 2 ] || { echo "FAIL: bad --violation accepted"; fail=$((fail+1)); }
"$gen" --crashed 2 > /dev/null 2>&1; [ $? -eq 2 ] || { echo "FAIL: bad --crashed accepted"; fail=$((fail+1)); }
echo "$n checks, $fail failed"
[ $fail -eq 0 ]
