#!/usr/bin/env bash
# harness_bench.sh — prints (does not assert) the time to build the lab and get 5 nodes ready, and the client throughput rapat drives and records against a trivial v1 endpoint, next to a plain libcurl loop against the same server (the recording overhead as a ratio).
set -u
bin=${RAPAT_BIN:-bin}/rapat
root=${RAPAT_ROOT:-.}
build=${RAPAT_BUILD:-build/default}
fake=$(realpath -m "$build/tests/integration/fake_v1")
loop=$build/tests/bench/harness_curl_loop
export RAPAT_FAKE_V1=$fake
conc=${CONC:-32}
secs=${SECS:-5}
tmp=$(mktemp -d /tmp/harness_bench.XXXXXX)
trap 'rm -rf "$tmp"; [ -n "${fpid:-}" ] && kill "$fpid" 2>/dev/null' EXIT

# 1. Lab + 5 nodes ready (raftnode if it is there, else the fake).
db=raftnode
[ -f "$root/harness/adapters/raftnode.lua" ] && [ -x "$root/bin/raftnode" ] || db=$root/tests/integration/harness_fake_adapter.lua
for i in 1 2 3; do
  "$bin" run "$root/tests/integration/harness_short.lua" --db "$db" --nodes 5 --time-limit 0.5 \
    --set nemesis=none --set final_time_limit=0.5 --set recovery_time=0 --out "$tmp/ready$i" >/dev/null 2>&1
  lab=$(grep -o 'built in [0-9]* ms' "$tmp/ready$i/harness.log" | grep -o '[0-9]*')
  ready=$(grep -o 'nodes ready in [0-9]* ms' "$tmp/ready$i/harness.log" | grep -o '[0-9]*')
  echo "lab_build_ms=${lab:-?} nodes_ready_ms=${ready:-?} (5 nodes, db $(basename "$db" .lua), try $i)"
done

# 2 + 3. Throughput through rapat (reads only, no rate limit, one fake node
# in the lab, every event recorded) against a plain libcurl loop on the same
# server program over loopback. The machine is shared and noisy: the two are
# interleaved over ROUNDS rounds and the medians compared.
rounds=${ROUNDS:-3}
port=$(( 20000 + RANDOM % 20000 ))
"$fake" --listen 127.0.0.1:$port --id n1 >/dev/null 2>&1 &
fpid=$!
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
  sleep 0.05
done
hx_rates=() curl_rates=()
for r in $(seq "$rounds"); do
  "$bin" run "$root/tests/integration/harness_short.lua" --db "$root/tests/integration/harness_fake_adapter.lua" \
    --nodes 1 --concurrency "$conc" --time-limit "$secs" --set rate=0 --set nemesis=none \
    --set read_weight=1 --set write_weight=0 --set cas_weight=0 --set final_time_limit=1 \
    --set recovery_time=0 --out "$tmp/tput$r" >/dev/null 2>&1
  hx_rate=$(lua5.4 - "$tmp/tput$r/history.jsonl" <<'LUA'
local first, last, ok
ok = 0
for l in io.lines(arg[1]) do
  local t = tonumber(l:match('"time":(%d+)'))
  if l:find('"type":"invoke"') and not first then first = t end
  if l:find('"type":"ok"') then ok = ok + 1; last = t end
end
print(string.format("%.0f", ok / ((last - first) / 1e9)))
LUA
)
  curl_rate=$("$loop" "http://127.0.0.1:$port/v1/kv/r" "$conc" "$secs" | awk '{print $NF}')
  echo "round $r: rapat_ops_per_s=$hx_rate curl_loop_ops_per_s=$curl_rate"
  hx_rates+=("$hx_rate"); curl_rates+=("$curl_rate")
done
kill $fpid; wait $fpid 2>/dev/null; fpid=
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
hm=$(med "${hx_rates[@]}"); cm=$(med "${curl_rates[@]}")
echo "rapat_ops_per_s_median=$hm (concurrency $conc, reads, two history events per op, fake v1 behind the lab's veth/bridge)"
echo "curl_loop_ops_per_s_median=$cm (same concurrency, plain libcurl multi loop, no recording, loopback)"
awk -v a="$hm" -v b="$cm" 'BEGIN { if (b > 0) printf "rapat/curl_loop=%.2f\n", a / b }'
