# tests/integration/etcd_netns.sh — sourced by the etcd probes: re-runs the calling script inside private mount+net+pid namespaces and builds a bridge with node namespaces there.
#
# Everything they create (bridge, veths, node namespaces named p1..pN in a
# private /run/netns, etcd processes) lives in namespaces that die with the
# script: nothing is left on the host, and no traffic leaves them.

# etcd_netns_enter NAME SCRIPT [ARGS...]: outside, installs etcd if missing and
# execs SCRIPT again under unshare (exit 77 when not root: no namespaces);
# inside, returns.
etcd_netns_enter() {
  local name=$1; shift
  [ -n "${ETCD_NETNS_INNER:-}" ] && return 0
  local root=${RAPAT_ROOT:-$(cd "$(dirname "$1")/../.." && pwd)}
  [ -x /usr/bin/etcd ] || "$root/scripts/deps.sh" || { echo "$name: scripts/deps.sh failed"; exit 1; }
  if [ "$(id -u)" -ne 0 ]; then echo "$name: needs root for network namespaces"; exit 77; fi
  exec unshare --mount --net --pid --fork --kill-child --mount-proc \
    env ETCD_NETNS_INNER=1 RAPAT_ROOT="$root" bash "$@"
}

# etcd_netns_up PREFIX N: a bridge here at PREFIX.100/24 and namespaces p1..pN
# at PREFIX.1..PREFIX.N, each with eth0 on the bridge and lo up.
etcd_netns_up() {
  local prefix=$1 n=$2 i
  mount --make-rprivate /
  mkdir -p /run/netns && mount -t tmpfs tmpfs /run/netns   # netns names stay private
  ip link set lo up
  ip link add br0 type bridge && ip link set br0 up
  ip addr add "$prefix.100/24" dev br0
  for i in $(seq 1 "$n"); do
    ip netns add p$i
    ip link add v$i type veth peer name eth0 netns p$i
    ip link set v$i master br0 up
    ip -n p$i addr add "$prefix.$i/24" dev eth0
    ip -n p$i link set eth0 up; ip -n p$i link set lo up
  done
}
