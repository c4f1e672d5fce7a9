#!/usr/bin/env bash
# tests/integration/etcd_adapter_live.sh — runs etcd_adapter_live.lua (the etcd adapter's start/ready/invoke/status/membership against real members) in private namespaces.
#
# Everything happens inside unshare --mount --net --pid: a bridge, four node
# namespaces (p1..p4, 10.98.0.1-4; p4 for the member added later), the etcd
# processes; all of it vanishes when the script ends. No harness involved.
set -u
if [ -z "${ETCD_LIVE_INNER:-}" ]; then
  root=${RAPAT_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
  [ -x /usr/bin/etcd ] || "$root/scripts/deps.sh" || { echo "etcd_adapter_live: scripts/deps.sh failed"; exit 1; }
  if [ "$(id -u)" -ne 0 ]; then echo "etcd_adapter_live: needs root for network namespaces"; exit 77; fi
  exec unshare --mount --net --pid --fork --kill-child --mount-proc \
    env ETCD_LIVE_INNER=1 RAPAT_ROOT="$root" bash "$0" "$@"
fi
mount --make-rprivate /
mkdir -p /run/netns && mount -t tmpfs tmpfs /run/netns
WORK=$(mktemp -d /tmp/etcd_live.XXXXXX)
export WORK
trap 'rm -rf "$WORK"' EXIT
ip link set lo up
ip link add br0 type bridge && ip link set br0 up
ip addr add 10.98.0.100/24 dev br0
for i in 1 2 3 4; do
  ip netns add p$i
  ip link add v$i type veth peer name eth0 netns p$i
  ip link set v$i master br0 up
  ip -n p$i addr add 10.98.0.$i/24 dev eth0
  ip -n p$i link set eth0 up; ip -n p$i link set lo up
done
lua5.4 "$RAPAT_ROOT/tests/integration/etcd_adapter_live.lua"
rc=$?
[ $rc -eq 0 ] || { echo "--- node logs (tails)"; for f in "$WORK"/n*.log; do echo "== $f"; tail -n 5 "$f"; done; }
exit $rc
