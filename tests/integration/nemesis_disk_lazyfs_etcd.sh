#!/usr/bin/env bash
# nemesis_disk_lazyfs_etcd.sh — integration test: etcd (Debian's 3.4, a Go
# program) keeps its data directory on rapat-lazyfs through the harness flow
# (puts, SIGKILL, crash command, restart): every acknowledged put is still
# there, i.e. lazyfs serves what etcd does (flock, fallocate, fdatasync, bbolt's
# mmap) and its crash keeps exactly the synced data; with and without
# --lazy-metadata. Private network namespace, loopback only.
set -u
BIN=${RAPAT_BIN:-bin}
[ -x "$BIN/rapat-lazyfs" ] || { echo "FAIL: $BIN/rapat-lazyfs is not built"; exit 1; }
for c in etcd etcdctl; do
  command -v $c >/dev/null || { echo "FAIL: $c missing (scripts/deps.sh installs etcd-server etcd-client)"; exit 1; }
done
if [ -z "${NEM_IN_NETNS:-}" ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "skip: needs root (network namespace, FUSE mount)"; exit 77; fi
  exec unshare -n env NEM_IN_NETNS=1 "$0" "$@"
fi
ip link set lo up
export ETCDCTL_API=3
N=30
dir=$(mktemp -d /tmp/nem_lazyfs_etcd.XXXXXX)
lz= et=
cleanup() {
  [ -n "$et" ] && kill -9 "$et" 2>/dev/null && wait "$et" 2>/dev/null
  [ -n "$lz" ] && kill "$lz" 2>/dev/null && wait "$lz" 2>/dev/null
  grep -q " $dir/data " /proc/mounts && umount -l "$dir/data"
  rm -rf "$dir"
}
trap cleanup EXIT
cp "$BIN/rapat-lazyfs" "$dir/" || exit 1
ctl() { "$dir/rapat-lazyfs" --ctl "$dir/ctl.sock" --command "$1"; }
ec() { etcdctl --endpoints=127.0.0.1:23790 --command-timeout=5s "$@"; }


start_etcd() {
  etcd --name e1 --data-dir "$dir/data/e1" --listen-client-urls http://127.0.0.1:23790 \
    --advertise-client-urls http://127.0.0.1:23790 --listen-peer-urls http://127.0.0.1:23800 \
    --initial-advertise-peer-urls http://127.0.0.1:23800 --initial-cluster e1=http://127.0.0.1:23800 \
    >>"$dir/etcd.log" 2>&1 & et=$!
  for _ in $(seq 400); do ec endpoint health >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "FAIL: etcd did not become healthy"; tail -20 "$dir/etcd.log"; exit 1
}
fail=0
for mode in "" --lazy-metadata; do
rm -rf "$dir/data" && mkdir "$dir/data"
"$dir/rapat-lazyfs" --ctl "$dir/ctl.sock" $mode "$dir/data" >>"$dir/lazyfs.log" 2>&1 & lz=$!
for _ in $(seq 200); do ctl ping >/dev/null 2>&1 && break; sleep 0.05; done
ctl ping >/dev/null || { echo "FAIL: lazyfs did not mount"; cat "$dir/lazyfs.log"; exit 1; }
start_etcd
acked=0
for i in $(seq 1 $N); do ec put "k$i" "v$i" >/dev/null 2>&1 && acked=$((acked+1)); done
kill -9 "$et"; wait "$et" 2>/dev/null; et=
echo "crash: $(ctl crash)"
start_etcd
readable=0
for i in $(seq 1 $N); do [ "$(ec get "k$i" --print-value-only 2>/dev/null)" = "v$i" ] && readable=$((readable+1)); done
echo "etcd on lazyfs ${mode:-(default)}: $acked acknowledged puts, $readable readable after kill + crash + restart"
kill "$et"; wait "$et" 2>/dev/null; et=
kill "$lz"; wait "$lz" 2>/dev/null; lz=
[ "$acked" -eq $N ] && [ "$readable" -eq $N ] || { echo "FAIL: acknowledged puts lost"; fail=1; }
done
[ $fail -eq 0 ] && echo ok
exit $fail
