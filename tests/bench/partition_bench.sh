#!/usr/bin/env bash
# partition_bench.sh — apply/heal time of a 5-node majority/minority partition: nem_net (libnl) side by side with `ip rule` and `iptables` commands in the same lab namespaces. Prints numbers, asserts no speed.
set -eu
build=${RAPAT_BUILD:-build/default}
bin=$build/tests/bench/partition_bench
[ -x "$bin" ] || { echo "missing $bin (make nemesis-net)"; exit 1; }
for tool in ip iptables; do
  command -v "$tool" >/dev/null || { echo "missing $tool (iproute2 / iptables)"; exit 1; }
done
echo "machine: $(nproc) cores, kernel $(uname -r), $(ip -V), $(iptables -V)"
exec "$bin" "${PARTITION_BENCH_RUNS:-200}" "${PARTITION_BENCH_CMD_RUNS:-15}"
