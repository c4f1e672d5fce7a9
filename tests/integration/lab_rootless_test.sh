#!/usr/bin/env bash
# lab_rootless_test.sh — the lab as an unprivileged user (uid/gid 65534, through a user namespace): the basic lab test, then the lifetime test with the harness unprivileged.
set -u
build=${RAPAT_BUILD:-build/default}
root=${RAPAT_ROOT:-.}
basic=$(realpath "$build/tests/integration/lab_basic_test")
[ -x "$basic" ] || { echo "missing $basic (make lab)"; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
  as=()          # already unprivileged
else
  command -v setpriv >/dev/null || { echo "setpriv missing (util-linux)"; exit 1; }
  as=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
fi
if ! (cd /tmp && "${as[@]}" unshare --user --map-root-user --net true) 2>/dev/null; then
  echo "skip: unprivileged user namespaces unavailable here"; exit 77
fi
rc=0
echo "== lab_basic_test as uid $("${as[@]}" id -u)"
(cd /tmp && "${as[@]}" "$basic") || { echo "FAIL: lab_basic_test unprivileged"; rc=1; }
if [ "$(id -u)" -eq 0 ]; then
  echo "== lab_lifetime_test.sh --as-nobody"
  RAPAT_BUILD=$build "$root/tests/integration/lab_lifetime_test.sh" --as-nobody 2>&1 | grep -v ' Killed ' ||:
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "FAIL: lifetime test unprivileged"; rc=1; }
fi
[ $rc -eq 0 ] && echo ok
exit $rc
