#!/usr/bin/env bash
# harness_lazyfs_test.sh — the lose-unsynced disk fault through `rapat run`: 3 raftnodes on rapat-lazyfs, every node crashed at once every 2 s. With --fsync never the crash drops acknowledged writes and the set checker finds them lost (exit 1); with --fsync always nothing unsynced is dropped and the run is valid. No FUSE mount ever shows in the host's mount namespace: not during a run, not after it, not after SIGKILL of rapat (the lab's own mount namespace dies with it).
set -u
bin=${RAPAT_BIN:-bin}/rapat
root=${RAPAT_ROOT:-.}
plan=$root/tests/integration/harness_lazyfs.lua
[ -x "$bin" ] || { echo "missing $bin"; exit 1; }
[ -x "$root/bin/raftnode" ] || { echo "missing $root/bin/raftnode"; exit 1; }
[ -x "$root/bin/rapat-lazyfs" ] || { echo "missing $root/bin/rapat-lazyfs"; exit 1; }
[ -c /dev/fuse ] || { echo "skip: no /dev/fuse"; exit 77; }
[ "$(id -u)" -eq 0 ] || unshare --user --map-root-user --net true 2>/dev/null || { echo "skip: no namespaces for this user"; exit 77; }
tmp=$(mktemp -d /tmp/harness_lazyfs.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# FUSE mounts of this test's runs visible in the host's (our) mount namespace.
host_mounts() { grep -h -- "$tmp" /proc/self/mountinfo /proc/1/mountinfo 2>/dev/null || true; }
# Sums the bytes lazyfs dropped over every disk-start event of a history.
lost_bytes() {
  lua5.4 - "$1" <<'LUA'
package.path = (os.getenv("RAPAT_ROOT") or ".") .. "/?.lua;" .. package.path
local json = require("workloads.lib.json")
local total, events = 0, 0
for line in io.lines(arg[1]) do
  local ev = json.decode(line)
  if ev.f == "disk-start" and type(ev.value) == "table" and ev.value.mode == "lose-unsynced" then
    events = events + 1
    for _, l in pairs(ev.value.lost) do total = total + l.bytes end
  end
end
print(events .. " " .. total)
LUA
}

# 1. fsync never: the crash loses acknowledged writes.
"$bin" run "$plan" --seed 3 --set fsync=never --out "$tmp/never" >"$tmp/never.out" 2>&1
rc=$?
if [ "$rc" -eq 4 ] && grep -q 'cannot mount rapat-lazyfs' "$tmp/never.out"; then
  # A lab that may not mount FUSE (rootless without a usable /dev/fuse):
  # the harness must say so and exit 4, which it just did.
  grep 'cannot mount' "$tmp/never.out"
  echo "skip: FUSE cannot be mounted here (the harness said so, exit 4)"
  exit 77
fi
read -r ev bytes <<<"$(lost_bytes "$tmp/never/history.jsonl")"
echo "fsync never: exit $rc, $ev lose-unsynced faults, $bytes unsynced bytes dropped"
[ "${ev:-0}" -ge 1 ] || fail "fsync never: no lose-unsynced fault recorded"
[ "${bytes:-0}" -gt 0 ] || fail "fsync never: the faults dropped nothing"
grep -q '"path":"wal/' "$tmp/never/history.jsonl" || fail "fsync never: lazyfs's report (per file) is not in the event"
grep -q '"f":"disk-end"' "$tmp/never/history.jsonl" || fail "fsync never: no disk-end"
[ "$rc" -eq 1 ] || { fail "fsync never: exit $rc, want 1 (acknowledged adds lost)"; tail -12 "$tmp/never.out"; }
grep -q 'element(s) lost' "$tmp/never.out" || fail "fsync never: the set checker does not report lost elements"
[ -z "$(host_mounts)" ] || { fail "fsync never: a mount is left in the host namespace"; host_mounts; }

# 2. fsync always: nothing unsynced to lose; valid.
"$bin" run "$plan" --seed 3 --out "$tmp/always" >"$tmp/always.out" 2>&1
rc=$?
read -r ev bytes <<<"$(lost_bytes "$tmp/always/history.jsonl")"
echo "fsync always: exit $rc, $ev lose-unsynced faults, $bytes unsynced bytes dropped"
[ "${ev:-0}" -ge 1 ] || fail "fsync always: no lose-unsynced fault recorded"
[ "$rc" -eq 0 ] || { fail "fsync always: exit $rc, want 0"; tail -12 "$tmp/always.out"; }
[ -z "$(host_mounts)" ] || { fail "fsync always: a mount is left in the host namespace"; host_mounts; }
grep -q 'unmounted' "$tmp/always/harness.log" || fail "fsync always: harness.log does not record the unmounts"

# 3. SIGKILL of rapat mid-run: the mounts were never in the host's mount
# namespace, and nothing of them (daemon, dead mount) stays anywhere.
"$bin" run "$plan" --seed 5 --set time_limit=60 --out "$tmp/kill" >"$tmp/kill.out" 2>&1 &
pid=$!
t_end=$(( $(now_ms) + 30000 ))
until grep -q '"f":"disk-start"' "$tmp/kill/history.jsonl" 2>/dev/null || [ "$(now_ms)" -gt $t_end ]; do sleep 0.1; done
grep -q '"f":"disk-start"' "$tmp/kill/history.jsonl" || fail "SIGKILL: no disk fault within 30 s"
# Positive control: the harness's own mount namespace has them.
grep -q "$tmp/kill/nodes/n1/data" "/proc/$pid/mountinfo" 2>/dev/null || fail "SIGKILL: rapat's mount namespace lacks the lazyfs mount (check broken)"
[ -z "$(host_mounts)" ] || { fail "SIGKILL: a lazyfs mount is visible in the host namespace during the run"; host_mounts; }
kill -KILL $pid
wait $pid 2>/dev/null
daemons() { grep -l "$tmp/kil[l]" /proc/[0-9]*/cmdline 2>/dev/null || true; }
t_end=$(( $(now_ms) + 15000 ))
while [ -n "$(daemons)" ] && [ "$(now_ms)" -lt $t_end ]; do sleep 0.1; done
[ -z "$(daemons)" ] || { fail "SIGKILL: processes of the run remain"; daemons; }
[ -z "$(host_mounts)" ] || { fail "SIGKILL: a mount is left in the host namespace"; host_mounts; }
ls "$tmp/kill/nodes/n1/data" >/dev/null || fail "SIGKILL: n1's data directory is unreadable"

[ $fails -eq 0 ] || { echo "$fails failed (run directories kept in $tmp.kept)"; cp -r "$tmp" "$tmp.kept"; exit 1; }
echo "lose-unsynced: writes lost with fsync never, valid with fsync always; no mount left behind, even after SIGKILL"
