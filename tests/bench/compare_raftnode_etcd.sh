#!/usr/bin/env bash
# tests/bench/compare_raftnode_etcd.sh — raftnode and etcd side by side: the same plan, the same harness client, write-only and read-only, 1 and 16 clients; prints throughput and p50/p99 latency.
#
# Each cell is one `bin/rapat run tests/bench/compare_plan.lua` (3 nodes, no
# faults, closed-loop clients on the kv workload) with --db raftnode or etcd;
# numbers come from the run's history (tests/bench/compare_stats.lua). Both
# systems fsync their logs; etcd runs with the adapter's defaults (50/500 ms
# timers, pre-vote, linearizable reads through ReadIndex). Nothing here
# asserts speed: the machine is shared. Exit 1 only when a run fails.
# BENCH_TIME=S sets each run's length (default 10 s).
set -u
root=${RAPAT_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
export RAPAT_ROOT=$root
bin=${RAPAT_BIN:-$root/bin}/rapat
secs=${BENCH_TIME:-10}
[ -x "$bin" ] || { echo "missing $bin (make all)"; exit 1; }
[ -x /usr/bin/etcd ] || "$root/scripts/deps.sh" || { echo "scripts/deps.sh could not install etcd"; exit 1; }
tmp=$(mktemp -d /tmp/compare_bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failed=0
declare -A cell

for mix in write read; do
  if [ $mix = write ]; then ratios="--set read_ratio=0 --set write_ratio=1"; else ratios="--set read_ratio=1 --set write_ratio=0"; fi
  for clients in 1 16; do
    for db in raftnode etcd; do
      out="$tmp/$db-$mix-$clients"
      # shellcheck disable=SC2086
      "$bin" run "$root/tests/bench/compare_plan.lua" --db $db --concurrency $clients --time-limit "$secs" \
        --seed 1 $ratios --out "$out" >"$out.log" 2>&1
      rc=$?
      # 0 valid, 1 invalid, 3 unknown (a read-only run has nothing for the
      # vacuity guards): all completed runs whose numbers count.
      if { [ $rc -le 1 ] || [ $rc -eq 3 ]; } && [ -f "$out/history.jsonl" ]; then
        cell[$db,$mix,$clients]=$(lua5.4 "$root/tests/bench/compare_stats.lua" "$out" "$secs")
        [ $rc -ne 1 ] || cell[$db,$mix,$clients]+=" (checker: INVALID)"
      else
        cell[$db,$mix,$clients]="run failed (exit $rc): $(grep -m1 '^verdict' "$out.log" | cut -c1-120)"
        failed=1
      fi
      echo "$db $mix x$clients: ${cell[$db,$mix,$clients]}" >&2
    done
  done
done

fmt() { # "ok=.. ops_s=X p50_ms=Y p99_ms=Z" -> "X ops/s  p50 Y ms  p99 Z ms"
  local s=$1
  if [[ $s == ok=* ]]; then
    local ops p50 p99
    ops=$(sed -n 's/.*ops_s=\([0-9.]*\).*/\1/p' <<<"$s")
    p50=$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$s")
    p99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$s")
    printf '%7s ops/s  p50 %7s ms  p99 %7s ms' "$ops" "$p50" "$p99"
  else
    printf '%s' "${s:0:44}"
  fi
}
echo
echo "3 nodes, ${secs} s per cell, bin/rapat kv workload, 16 keys, closed loop, no faults ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-8s %-7s | %-44s | %-44s\n' workload clients raftnode etcd
for mix in write read; do
  for clients in 1 16; do
    printf '%-8s %-7s | %-44s | %-44s\n' $mix $clients "$(fmt "${cell[raftnode,$mix,$clients]}")" "$(fmt "${cell[etcd,$mix,$clients]}")"
  done
done
exit $failed
