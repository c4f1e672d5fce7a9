#!/usr/bin/env bash
# checker_bench.sh — prints the checker's numbers: per generated class (length,
# concurrency, crashed fraction, keys, values, violation) the ops, verdict,
# check time, accounted peak memory and process max RSS; the 102 porcupine etcd
# histories (total and worst). Violation classes run twice: by default (read-from
# check + search) and --search-only (the search alone must decide). Numbers only,
# no assertions: the machine is shared and noisy.
# Usage: tests/bench/checker_bench.sh [--quick]
set -u
bin=${RAPAT_BIN:-bin}
build=${RAPAT_BUILD:-build/default}
shared=${RAPAT_SHARED:-../shared}
gen=$bin/rapat-genhist
check=$build/checker/rapat-check
limit=${CHECK_TIME_LIMIT:-30}
quick=0; [ "${1:-}" = "--quick" ] && quick=1
for p in "$gen" "$check"; do [ -x "$p" ] || { echo "missing $p; run make first"; exit 1; }; done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
have_time=0; [ -x /usr/bin/time ] && have_time=1

# run FILE [ARGS...] -> sets verdict, secs, peak_mb, rss_mb, ops
run() {
  local f=$1; shift
  if [ $have_time = 1 ]; then
    /usr/bin/time -f '%M' -o "$tmp/rss" "$check" "$f" --json --time-limit "$limit" "$@" > "$tmp/out" 2>"$tmp/err"
  else
    "$check" "$f" --json --time-limit "$limit" "$@" > "$tmp/out" 2>"$tmp/err"
  fi
  local rc=$?
  case $rc in 0) verdict=valid;; 1) verdict=invalid;; 3) verdict=unknown;; *) verdict="error($rc)";; esac
  secs=$(sed -n 's/^ "time_s": \(.*\),$/\1/p' "$tmp/out")
  cpu=$(sed -n 's/^ "cpu_s": \(.*\),$/\1/p' "$tmp/out")
  [ -n "$cpu" ] && cpu=$(awk -v s="$cpu" 'BEGIN{printf "%.3f", s}')
  local peak; peak=$(sed -n 's/^ "peak_mem_bytes": \([0-9]*\),*$/\1/p' "$tmp/out")
  ops=$(sed -n 's/^ "ops": \([0-9]*\),*$/\1/p' "$tmp/out")
  peak_mb=$(awk -v b="${peak:-0}" 'BEGIN{printf "%.1f", b/1048576}')
  rss_mb="-"; [ $have_time = 1 ] && rss_mb=$(awk -v k="$(tail -n 1 "$tmp/rss")" 'BEGIN{printf "%.0f", k/1024}')
  [ -n "$secs" ] && secs=$(awk -v s="$secs" 'BEGIN{printf "%.3f", s}')
}

printf '%-28s %-50s %7s %-8s %8s %8s %9s %7s   %s\n' class "generator args" ops expected "wall s" "cpu s" "peak MiB" "RSS MB" "verdict (search only: verdict wall cpu peak)"
row() { # name expected genargs...
  local name=$1 expect=$2; shift 2
  "$gen" "$@" > "$tmp/h.jsonl"
  run "$tmp/h.jsonl"
  local line; line=$(printf '%-28s %-50s %7s %-8s %8s %8s %9s %7s   %s' "$name" "$*" "$ops" "$expect" "$secs" "$cpu" "$peak_mb" "$rss_mb" "$verdict")
  if [ "$expect" = invalid ]; then
    run "$tmp/h.jsonl" --search-only
    line="$line   (search only: $verdict ${secs}s ${cpu}s ${peak_mb} MiB, RSS $rss_mb MB)"
  fi
  echo "$line"
}

# G1 length, 1 key, 5 clients
for n in 1000 10000 100000; do
  [ $quick = 1 ] && [ $n = 100000 ] && continue
  row "G1 len n$n none" valid --ops $n --clients 5 --seed 1
  row "G1 len n$n phantom" invalid --ops $n --clients 5 --seed 1 --violation phantom-value
  row "G1 len n$n stale" invalid --ops $n --clients 5 --seed 1 --violation stale-read
done
# G2 concurrency, 10k ops, 1 key
for c in 10 15 20; do
  [ $quick = 1 ] && [ $c != 10 ] && continue
  row "G2 conc c$c none" valid --ops 10000 --clients $c --seed 1
  row "G2 conc c$c phantom" invalid --ops 10000 --clients $c --seed 1 --violation phantom-value
  row "G2 conc c$c lost-write" invalid --ops 10000 --clients $c --seed 1 --violation lost-write
done
# G3 crashed ops, 10k ops, 5 clients
for x in 0.001 0.01 0.03; do
  row "G3 crashed $x none" valid --ops 10000 --clients 5 --crashed $x --seed 1
  row "G3 crashed $x phantom" invalid --ops 10000 --clients 5 --crashed $x --seed 1 --violation phantom-value
  row "G3 crashed $x dup" invalid --ops 10000 --clients 5 --crashed $x --seed 1 --violation duplicated-effect
done
# G4 keys, 100k ops, 20 clients, 1% crashed
if [ $quick = 0 ]; then
  for k in 10 100 1000; do
    row "G4 keys k$k none" valid --ops 100000 --clients 20 --keys $k --crashed 0.01 --seed 1
    row "G4 keys k$k stale" invalid --ops 100000 --clients 20 --keys $k --crashed 0.01 --seed 1 --violation stale-read
  done
fi
# G5 value domain, 10k ops, 10 clients
for v in 2 50 0; do
  row "G5 values $v none" valid --ops 10000 --clients 10 --values $v --seed 1
done
row "G5 values unique stale" invalid --ops 10000 --clients 10 --values 0 --seed 1 --violation stale-read
# G6 many concurrent crashed writes on one key
g6="--ops 2000 --clients 10 --crashed 0.05 --mix 0.3,0.7,0 --late 100 --seed 1"
# shellcheck disable=SC2086
row "G6 crashed writes none" valid $g6
# shellcheck disable=SC2086
row "G6 crashed writes phantom" invalid $g6 --violation phantom-value
# shellcheck disable=SC2086
row "G6 crashed writes stale" invalid $g6 --violation stale-read

# The 102 porcupine etcd histories
dir=$shared/histories/porcupine-etcd
if [ -d "$dir" ]; then
  for mode in "" "--search-only"; do
    total=0 tcpu=0 worst=0 worstf="" nv=0 ni=0 other=0 maxrss=0
    for f in "$dir"/*.jsonl; do
      # shellcheck disable=SC2086
      run "$f" --model cas-register $mode
      case $verdict in valid) nv=$((nv+1));; invalid) ni=$((ni+1));; *) other=$((other+1));; esac
      total=$(awk -v a="$total" -v b="$secs" 'BEGIN{printf "%.6f", a+b}')
      tcpu=$(awk -v a="$tcpu" -v b="$cpu" 'BEGIN{printf "%.6f", a+b}')
      if awk -v a="$secs" -v b="$worst" 'BEGIN{exit !(a>b)}'; then worst=$secs; worstf=$(basename "$f"); fi
      [ "$rss_mb" != "-" ] && [ "$rss_mb" -gt "$maxrss" ] && maxrss=$rss_mb
    done
    printf 'porcupine etcd, 102 histories %-14s total %.3f s wall (%.3f s cpu), worst %s s (%s), %d valid / %d invalid / %d other, max RSS %s MB\n' \
      "${mode:-(default)}" "$total" "$tcpu" "$worst" "$worstf" "$nv" "$ni" "$other" "$maxrss"
  done
else
  echo "porcupine etcd: $dir missing, skipped"
fi
