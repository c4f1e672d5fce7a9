#!/usr/bin/env bash
# lab_lifetime_test.sh — nothing of a lab survives its harness: after SIGKILL, SIGINT, a plain exit and hx_lab_destroy no lab process, namespace or interface remains, and nothing listened in the host namespace. --as-nobody runs the harness unprivileged.
set -u
build=${RAPAT_BUILD:-build/default}
hold=$build/tests/integration/lab_hold
[ -x "$hold" ] || { echo "missing $hold (make lab)"; exit 1; }
prefix=()
who=root
if [ "${1:-}" = "--as-nobody" ]; then
  prefix=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
  who=nobody
fi
[ "$(id -u)" -eq 0 ] || { echo "skip: the checks from outside need root (to see every process)"; exit 77; }
if ! "${prefix[@]}" unshare --user --map-root-user --net true 2>/dev/null && ! unshare --net true 2>/dev/null; then
  echo "skip: network namespaces unavailable here"; exit 77
fi

fails=0
fail() { echo "FAIL [$mode/$who]: $*"; fails=$((fails+1)); }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
host_ifs=$(ls /sys/class/net | sort | tr '\n' ' ')
# Interfaces that appeared in the host namespace since the start. Ours would
# be named rapat0 / rv-n* / eth0-like; other engineers' tests may run at the
# same time on this shared machine, so a foreign new name is reported, and
# only a lab-like one fails.
host_if_check() {
  local now new=""
  now=$(ls /sys/class/net | sort | tr '\n' ' ')
  [ "$now" = "$host_ifs" ] && return 0
  for i in $now; do case " $host_ifs " in *" $i "*) ;; *) new="$new $i";; esac; done
  [ -z "$new" ] && return 0
  case "$new" in *rapat*|*rv-n*) fail "lab interfaces in the host namespace ($1):$new";;
    *) echo "note: new host interfaces not from this lab ($1):$new";; esac
}
port=$((30000 + RANDOM % 20000))   # random: a foreign host listener must not look like ours

# Processes (or fds, or tasks) still referring to any of the given namespace
# links ("net:[123]" ...), as "path -> link" lines; one find for speed.
ns_refs() {
  local expr=() l
  for l in "$@"; do
    [ ${#expr[@]} -gt 0 ] && expr+=(-o)
    expr+=(-lname "$(printf '%s' "$l" | sed 's/\[/\\[/; s/\]/\\]/')")
  done
  find /proc/[0-9]*/ns /proc/[0-9]*/task/[0-9]*/ns /proc/[0-9]*/fd -maxdepth 1 -type l \( "${expr[@]}" \) 2>/dev/null
}

# kill-linger: the harness has forked a child that never execs and so holds
# its fds, the lab's keep-alive pipe included; the lab must die anyway.
for mode in ${LAB_LIFETIME_MODES:-kill int exit destroy kill-linger}; do
  out=$(mktemp /tmp/lab_hold.XXXXXX); chmod 644 "$out"
  port=$((port+1))
  extra=(); [ $mode = kill-linger ] && extra=(linger)
  coproc HOLD { exec "${prefix[@]}" "$hold" 5 "$port" "${extra[@]}" >"$out" 2>&1; }
  hpid=$HOLD_PID
  to_hold=${HOLD[1]}
  t_end=$(( $(now_ms) + 30000 ))
  while ! grep -q '^ready' "$out" && ! grep -q 'failed' "$out" && [ "$(now_ms)" -lt $t_end ]; do sleep 0.05; done
  if ! grep -q '^ready' "$out"; then
    cat "$out"
    if [ $who = nobody ] && grep -q 'enter-failed.*not permitted' "$out"; then
      kill -KILL "$hpid" 2>/dev/null; echo "skip: unprivileged user namespaces unavailable"; exit 77
    fi
    h=$(awk '$1=="harness"{print $2}' "$out"); [ -n "$h" ] && kill -KILL "$h" 2>/dev/null
    fail "lab did not come up"; kill -KILL "$hpid" 2>/dev/null; wait "$hpid" 2>/dev/null; continue
  fi
  harness=$(awk '$1=="harness"{print $2}' "$out")   # lab_hold's parent is a reaper
  pidns=$(awk '$1=="pidns_ino"{print $2}' "$out")
  sw=$(awk '$1=="switch_ino"{print $2}' "$out")
  init=$(awk '$1=="init"{print $2}' "$out")
  listener=$(awk '$1=="listener"{print $2}' "$out")
  nets="net:[$sw]"; for i in $(awk '$1=="node_ino"{print $3}' "$out"); do nets="$nets net:[$i]"; done
  nodepids="$listener $(awk '$1=="pid"{print $3}' "$out")"
  pids="$init $nodepids"

  # While it runs: every lab process is alive, in its node namespace and the
  # lab PID namespace; nothing of it in the host network namespace.
  for p in $(awk '$1=="pid"{print $3}' "$out"); do
    n=$(awk -v p="$p" '$1=="pid" && $3==p {print $2}' "$out")
    ino=$(awk -v n="$n" '$1=="node_ino" && $2==n {print $3}' "$out")
    [ "$(readlink /proc/"$p"/ns/net)" = "net:[$ino]" ] || fail "$n's sleep ($p) not in net:[$ino]"
    [ "$(readlink /proc/"$p"/ns/pid)" = "pid:[$pidns]" ] || fail "$n's sleep ($p) not in the lab pid ns"
  done
  [ "$(readlink /proc/"$harness"/ns/net)" != "$(readlink /proc/self/ns/net)" ] || fail "harness still in the host netns"
  [ -z "$(ss -Hltn "sport = :$port")" ] || fail "port $port listens in the host namespace"
  if timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; then fail "host 127.0.0.1:$port accepted"; fi
  host_if_check "while running"
  [ -z "$(ip -o addr show | grep 10.77.0.)" ] || fail "lab address visible in the host namespace"

  # Positive control: the scan used below does see a live lab.
  [ "$(ns_refs "pid:[$pidns]" | wc -l)" -ge 7 ] || fail "scan misses the live lab's processes (check broken)"
  [ -n "$(ns_refs "net:[$sw]")" ] || fail "scan misses the switch namespace (check broken)"

  t0=$(now_ms)
  case $mode in
    kill|kill-linger) kill -KILL "$harness"; want=137;;
    int)     kill -INT "$harness"; want=130;;
    exit)    eval "exec $to_hold>&-"; want=0;;
    destroy) echo destroy >&"$to_hold"; eval "exec $to_hold>&-"; want=0;;
  esac
  linger=$(awk '$1=="linger"{print $2}' "$out")
  if [ -n "$linger" ]; then
    # The reaper waits for the lingering child too: check the lab first.
    rc=137
  else
    wait "$hpid"; rc=$?
  fi
  eval "exec $to_hold>&-" 2>/dev/null
  [ "$rc" -eq "$want" ] || fail "harness exit status $rc, wanted $want"
  [ $mode != destroy ] || grep -q '^destroyed' "$out" || fail "destroy did not finish"

  # Afterwards: bounded wait until nothing refers to the lab's namespaces and
  # no recorded process is left.
  # First: every node process dead (gone, or a zombie waiting for a reaper).
  t_end=$(( $(now_ms) + 30000 ))
  while :; do
    running=""; for p in $nodepids; do
      st=$(awk '/^State/{print $2}' /proc/"$p"/status 2>/dev/null)
      [ -n "$st" ] && [ "$st" != Z ] && [ "$(readlink /proc/"$p"/ns/pid 2>/dev/null)" = "pid:[$pidns]" ] && running="$running $p"
    done
    [ -z "$running" ] || [ "$(now_ms)" -ge $t_end ] && break
    sleep 0.01
  done
  dt_dead=$(( $(now_ms) - t0 ))
  [ -z "$running" ] || fail "lab processes still running: $running"
  if [ -n "$linger" ]; then
    # The lingering child holds copies of the harness's namespace fds and
    # sockets (nothing can take those from it), but the lab's PID namespace
    # must empty: the init saw the harness die through its pidfd.
    in_pidns() { find /proc/[0-9]*/ns -maxdepth 1 -type l -lname "pid:\[$pidns\]" 2>/dev/null; }
    t_end=$(( $(now_ms) + 30000 ))
    while [ -n "$(in_pidns)" ] && [ "$(now_ms)" -lt $t_end ]; do sleep 0.05; done
    [ -z "$(in_pidns)" ] || fail "lab processes outlive the harness while a forked child lingers: $(in_pidns)"
    [ -e /proc/"$linger" ] || fail "the lingering child vanished early (test broken)"
    kill -KILL "$linger"; wait "$hpid"
  fi
  # Then: gone entirely, the lab init included (zombies reaped; on this VM
  # pid 1 reaps lazily, seconds apart).
  t_end=$(( $(now_ms) + 90000 ))
  while :; do
    refs=$(ns_refs $nets "pid:[$pidns]")
    alive=""; for p in $pids; do [ -e /proc/"$p" ] && [ "$(readlink /proc/"$p"/ns/pid 2>/dev/null)" = "pid:[$pidns]" ] && alive="$alive $p"; done
    [ -z "$refs$alive" ] && break
    [ "$(now_ms)" -ge $t_end ] && break
    sleep 0.05
  done
  dt=$(( $(now_ms) - t0 ))
  [ -z "$refs" ] || fail "namespaces still referenced: $refs"
  [ -z "$alive" ] || fail "lab processes still alive: $alive"
  host_if_check "after the $mode"
  echo "$who $mode: harness exit $rc; node processes dead ${dt_dead} ms and namespaces gone ${dt} ms after the $mode (processes: $(echo $pids | wc -w), namespaces: $(echo $nets | wc -w) net + 1 pid)"
  rm -f "$out"
done
[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo ok
