#!/usr/bin/env bash
# tests/integration/etcd_adapter_live.sh — runs etcd_adapter_live.lua (the etcd adapter's start/ready/invoke/status/membership against real members) in private namespaces.
#
# Everything happens inside unshare --mount --net --pid: a bridge, four node
# namespaces (p1..p4, 10.98.0.1-4; p4 for the member added later), the etcd
# processes; all of it vanishes when the script ends. No harness involved.
set -u
. "$(dirname "$0")/etcd_netns.sh"
etcd_netns_enter etcd_adapter_live "$0" "$@"
etcd_netns_up 10.98.0 4
WORK=$(mktemp -d /tmp/etcd_live.XXXXXX)
export WORK
trap 'rm -rf "$WORK"' EXIT
lua5.4 "$RAPAT_ROOT/tests/integration/etcd_adapter_live.lua"
rc=$?
[ $rc -eq 0 ] || { echo "--- node logs (tails)"; for f in "$WORK"/n*.log; do echo "== $f"; tail -n 5 "$f"; done; }
exit $rc
