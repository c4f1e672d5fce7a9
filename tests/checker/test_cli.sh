#!/usr/bin/env bash
# test_cli.sh — `rapat check` as users and scripts see it: exit codes 0/1/2/3,
# messages naming file:line and field, usage errors naming the word, --json.
set -u
check=${RAPAT_BUILD:-build/default}/checker/rapat-check
[ -x "$check" ] || { echo "missing $check (build it first)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
expect() { # want_rc needle cmd...
  local want=$1 needle=$2; shift 2
  "$@" > "$tmp/out" 2>&1
  local rc=$?
  if [ $rc -ne "$want" ] || ! grep -qF -- "$needle" "$tmp/out"; then
    echo "FAIL: $* -> exit $rc (want $want), output lacks '$needle':"; sed 's/^/    /' "$tmp/out" | head -10
    fail=$((fail+1))
  fi
}
cat > "$tmp/ok.jsonl" <<'H'
{"time":1,"process":0,"type":"invoke","f":"write","value":1}
{"time":2,"process":0,"type":"ok","f":"write","value":1}
{"time":3,"process":1,"type":"invoke","f":"read","value":null}
{"time":4,"process":1,"type":"ok","f":"read","value":1}
H
cat > "$tmp/bad.jsonl" <<'H'
{"time":1,"process":0,"type":"invoke","f":"write","value":1}
{"time":2,"process":0,"type":"ok","f":"write","value":1}
{"time":3,"process":0,"type":"invoke","f":"write","value":2}
{"time":4,"process":0,"type":"ok","f":"write","value":2}
{"time":5,"process":1,"type":"invoke","f":"read","value":null}
{"time":6,"process":1,"type":"ok","f":"read","value":1}
H
printf '{"time":1,"process":0,"type":"invoke","f":"write","value":1}\n{"time":0,"process":0,"type":"ok","f":"write","value":1}\n' > "$tmp/back.jsonl"
printf '[{:process 0 :type :invoke :f :write :value 1}\n {:process 0 :type :ok :f :write :value 1}\n {:process 1 :type :invoke :f :read :value nil}\n {:process 1 :type :ok :f :read :value 2}]\n' > "$tmp/h.edn"

expect 0 "valid" "$check" "$tmp/ok.jsonl"
expect 1 "INVALID" "$check" "$tmp/bad.jsonl"
expect 1 "cannot be placed" "$check" "$tmp/bad.jsonl"
expect 1 '"valid": false' "$check" "$tmp/bad.jsonl" --json
expect 1 '"counterexample"' "$check" "$tmp/bad.jsonl" --json --model register
expect 0 '"valid": true' "$check" "$tmp/ok.jsonl" --json --format jsonl --time-limit 5
expect 1 "INVALID" "$check" "$tmp/h.edn"
expect 1 "INVALID" "$check" "$tmp/h.edn" --format edn --model cas-register
expect 2 "back.jsonl:2: time: goes backwards" "$check" "$tmp/back.jsonl"
expect 2 "ok.jsonl: line 1" "$check" "$tmp/ok.jsonl" --format edn
expect 2 "cannot open" "$check" "$tmp/missing.jsonl"
expect 2 "unknown option --frobnicate" "$check" "$tmp/ok.jsonl" --frobnicate
expect 2 "--model" "$check" "$tmp/ok.jsonl" --model queue
expect 2 "--format" "$check" "$tmp/ok.jsonl" --format xml
expect 2 "--time-limit" "$check" "$tmp/ok.jsonl" --time-limit soon
expect 2 "missing HISTORY" "$check"
expect 2 "one history at a time" "$check" "$tmp/ok.jsonl" "$tmp/bad.jsonl"
expect 0 "usage" "$check" --help
# unknown: a search too big for the memory allowed ends in exit 3 with a reason
{
  for i in $(seq 0 15); do echo "{\"time\":$i,\"process\":$i,\"type\":\"invoke\",\"f\":\"write\",\"value\":$i}"; done
  echo '{"time":16,"process":99,"type":"invoke","f":"read","value":null}'
  echo '{"time":17,"process":99,"type":"ok","f":"read","value":-1}'
  for i in $(seq 0 15); do echo "{\"time\":$((18+i)),\"process\":$i,\"type\":\"ok\",\"f\":\"write\",\"value\":$i}"; done
} > "$tmp/wide.jsonl"
expect 3 "memory limit" "$check" "$tmp/wide.jsonl" --search-only --mem-limit 1
expect 3 '"valid": "unknown"' "$check" "$tmp/wide.jsonl" --search-only --mem-limit 1 --json
expect 1 "read-from check" "$check" "$tmp/wide.jsonl"
echo "$fail failed"
[ $fail -eq 0 ]
