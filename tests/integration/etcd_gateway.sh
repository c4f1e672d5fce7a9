#!/usr/bin/env bash
# tests/integration/etcd_gateway.sh — checks, on a real 3-member etcd 3.4 cluster in private namespaces, the v3 JSON gateway facts harness/adapters/etcd.lua relies on.
#
# Runs without bin/rapat: the whole probe happens inside a private mount+net+pid
# namespace (unshare), so its bridge, veths, node namespaces and etcd processes
# vanish with it, and no traffic leaves it. Prints each fact with what was seen,
# and timings (informational only: nothing here asserts speed; every wait is
# bounded). Exit 0 when every fact held, 1 otherwise.
set -u
. "$(dirname "$0")/etcd_netns.sh"
etcd_netns_enter etcd_gateway "$0" "$@"

# ---- inside the private namespaces -------------------------------------------
etcd_netns_up 10.97.0 3
work=$(mktemp -d /tmp/etcd_gateway.XXXXXX)
trap 'rm -rf "$work"' EXIT
bad=0
pass() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; bad=$((bad+1)); }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
b64() { printf %s "$1" | base64 -w0; }

cluster="n1=http://10.97.0.1:2380,n2=http://10.97.0.2:2380,n3=http://10.97.0.3:2380"
token="probe-$$-$(date +%s%N)"
start_member() { # i — in a subshell, so the member is not a job of this shell
  ( ip netns exec p$1 /usr/bin/etcd --name n$1 --data-dir "$work/d$1" \
    --listen-client-urls http://10.97.0.$1:2379 --advertise-client-urls http://10.97.0.$1:2379 \
    --listen-peer-urls http://10.97.0.$1:2380 --initial-advertise-peer-urls http://10.97.0.$1:2380 \
    --initial-cluster "$cluster" --initial-cluster-token "$token" --initial-cluster-state new \
    --heartbeat-interval 50 --election-timeout 250 --pre-vote \
    --logger zap --log-outputs stderr >"$work/n$1.log" 2>&1 &
  echo $! >"$work/n$1.pid" )
}
# req MEMBER PATH BODY [curl args...]: sets $code and $body
req() {
  local m=$1 path=$2 data=$3; shift 3
  code=$(curl -s -m 12 -o "$work/resp" -w '%{http_code}' -X POST "http://10.97.0.$m:2379$path" \
         -H 'Content-Type: application/json' -d "$data" "$@")
  body=$(cat "$work/resp" 2>/dev/null)
}
field() { # NAME: the first "NAME":"string" value in $body
  printf %s "$body" | grep -o "\"$1\":\"[^\"]*\"" | head -n1 | sed 's/.*:"\(.*\)"/\1/'
}

t0=$(now_ms)
for i in 1 2 3; do start_member $i; done
for _ in $(seq 1 300); do   # bounded: 300 × 0.1 s
  ok=0
  for i in 1 2 3; do
    [ "$(curl -s -m 1 http://10.97.0.$i:2379/health)" = '{"health":"true"}' ] && ok=$((ok+1))
  done
  [ $ok -eq 3 ] && break
  sleep 0.1
done
[ $ok -eq 3 ] && pass "3 members healthy after $(( $(now_ms) - t0 )) ms (GET /health)" \
              || { fail "cluster not healthy within 30 s"; tail -n 5 "$work"/n*.log; exit 1; }

K=$(b64 probe-key)
# A missing key: 200, no "kvs", no "count" (zero fields are omitted).
req 1 /v3/kv/range "{\"key\":\"$K\"}"
[[ $code == 200 && $body != *'"kvs"'* && $body != *'"count"'* ]] && pass "missing key: 200 without kvs/count" || fail "missing key: $code $body"
# Put, then a linearizable read through another member sees it; int64 are strings.
req 1 /v3/kv/put "{\"key\":\"$K\",\"value\":\"$(b64 '{"a":1}')\"}"
[[ $code == 200 && $body == *'"revision":"'* ]] && pass "put: 200, revision as a JSON string" || fail "put: $code $body"
req 2 /v3/kv/range "{\"key\":\"$K\"}"
[[ $(field value) == "$(b64 '{"a":1}')" ]] && pass "linearizable range via another member returns the base64 value" || fail "range: $code $body"
req 3 /v3/kv/range "{\"key\":\"$K\",\"serializable\":true}"
[[ $code == 200 && $body == *'"count":"1"'* ]] && pass "serializable range: 200" || fail "serializable range: $code $body"
# CAS as a txn: compare VALUE EQUAL -> put, else range.
cas() { # member expected new
  req "$1" /v3/kv/txn "{\"compare\":[{\"key\":\"$K\",\"result\":\"EQUAL\",\"target\":\"VALUE\",\"value\":\"$(b64 "$2")\"}],\"success\":[{\"request_put\":{\"key\":\"$K\",\"value\":\"$(b64 "$3")\"}}],\"failure\":[{\"request_range\":{\"key\":\"$K\"}}]}"
}
cas 2 '{"a":1}' '2'
[[ $code == 200 && $body == *'"succeeded":true'* ]] && pass "txn CAS success: succeeded true" || fail "cas success: $code $body"
cas 3 '{"a":1}' '3'
[[ $code == 200 && $body != *'"succeeded"'* && $(field value) == "$(b64 2)" ]] \
  && pass "txn CAS failure: 200, no succeeded field, failure branch range shows the actual value" || fail "cas failure: $code $body"
# Create-if-absent: compare VERSION EQUAL 0 (the zero "version" must be sent explicitly).
K2=$(b64 probe-new)
req 1 /v3/kv/txn "{\"compare\":[{\"key\":\"$K2\",\"result\":\"EQUAL\",\"target\":\"VERSION\",\"version\":\"0\"}],\"success\":[{\"request_put\":{\"key\":\"$K2\",\"value\":\"$(b64 1)\"}}],\"failure\":[{\"request_range\":{\"key\":\"$K2\"}}]}"
[[ $body == *'"succeeded":true'* ]] && pass "txn create (VERSION EQUAL 0) on a missing key succeeds" || fail "create: $code $body"
# Malformed request: 400 (rejected before any proposal).
req 1 /v3/kv/put '{"key":'
[[ $code == 400 ]] && pass "malformed JSON: 400 ($(field error))" || fail "malformed: $code $body"
req 1 /v3/kv/put '{"key":"!!!"}'
[[ $code == 400 ]] && pass "bad base64: 400 ($(field error))" || fail "bad base64: $code $body"

# Status and member list: uint64 IDs as strings; leader is a member ID.
declare -A id_of name_of
req 1 /v3/cluster/member/list '{}'
for i in 1 2 3; do
  id=$(printf %s "$body" | grep -o "\"ID\":\"[0-9]*\",\"name\":\"n$i\"" | sed 's/"ID":"\([0-9]*\)".*/\1/')
  id_of[n$i]=$id; name_of[$id]=n$i
done
[[ -n ${id_of[n1]} && -n ${id_of[n2]} && -n ${id_of[n3]} ]] && pass "member/list: IDs (decimal strings) with names: ${id_of[*]}" || fail "member list: $body"
leader_of() { req "$1" /v3/maintenance/status '{}'; lid=$(field leader); echo "${name_of[${lid:-0}]:-none}"; }
L=$(leader_of 1)
req 1 /v3/maintenance/status '{}'
[[ $L != none && -n $(field raftTerm) && -n $(field member_id) ]] && pass "maintenance/status: leader=$L raftTerm=$(field raftTerm) member_id present" || fail "status: $body"

# Member add / remove through the gateway (an unstarted member: quorum 3 of 4 still holds).
# --strict-reconfig-check (on by default) refuses an add with 503 "unhealthy
# cluster" until every member has been connected for a while (5 s): retry.
t=$(now_ms)
for _ in $(seq 1 120); do   # bounded: 30 s
  req 1 /v3/cluster/member/add '{"peerURLs":["http://10.97.0.9:2380"]}'
  [[ $code == 503 && $body == *'unhealthy cluster'* ]] || break
  sleep 0.25
done
newid=$(printf %s "$body" | grep -o '"member":{"ID":"[0-9]*"' | grep -o '[0-9][0-9]*')
[[ $code == 200 && -n $newid ]] && pass "member/add: 200 after $(( $(now_ms) - t )) ms of 503 unhealthy cluster, new ID $newid (string)" || fail "member add: $code $body"
req 1 /v3/cluster/member/remove "{\"ID\":\"$newid\"}"
[[ $code == 200 ]] && pass "member/remove by string ID: 200" || fail "member remove: $code $body"
req 1 /v3/cluster/member/remove "{\"ID\":\"$newid\"}"
[[ $code != 200 ]] && pass "member/remove of an unknown ID: $code $(field error)" || fail "second remove: $code $body"

# ---- partition a follower: silent drop of peer traffic in its namespace ------
for i in 1 2 3; do [[ n$i != "$L" ]] && F=$i && break; done
req $F /v3/kv/range "{\"key\":\"$K\",\"serializable\":true}"; before=$(field value)
ip netns exec p$F nft -f - <<NFT
table inet probe {
  chain peer_in {
    type filter hook input priority 0; policy accept
    tcp dport 2380 drop
    tcp sport 2380 drop
  }
}
NFT
tp=$(now_ms)
# write through the majority while the follower is cut off
for i in 1 2 3; do [[ $i != "$F" ]] && M=$i && break; done
req $M /v3/kv/put "{\"key\":\"$K\",\"value\":\"$(b64 '"after"')\"}"
[[ $code == 200 ]] && pass "majority put during the partition: 200" || fail "majority put: $code $body"
req $F /v3/kv/range "{\"key\":\"$K\",\"serializable\":true}"
[[ $code == 200 && $(field value) == "$before" ]] && pass "serializable read on the cut-off follower n$F is stale (old value)" || fail "stale read expected: $code $body"
# when does n$F notice it has no leader?
for _ in $(seq 1 200); do [[ $(leader_of $F) == none ]] && break; sleep 0.05; done
[[ $(leader_of $F) == none ]] && pass "n$F reports no leader $(( $(now_ms) - tp )) ms after the cut (status has no leader field)" \
                              || fail "n$F still reports a leader 10 s after the cut"
req $F /v3/kv/range "{\"key\":\"$K\",\"serializable\":true}"
[[ $code == 200 && $(field value) == "$before" ]] && pass "serializable read without hasleader on the leaderless n$F: still the old value" || fail "leaderless serializable read: $code $body"
t=$(now_ms); req $F /v3/kv/put "{\"key\":\"$K\",\"value\":\"$(b64 x)\"}" -H 'Grpc-Metadata-hasleader: true'
[[ $code == 503 && $body == *'etcdserver: no leader'* ]] && pass "put with Grpc-Metadata-hasleader: 503 no leader in $(( $(now_ms) - t )) ms" || fail "hasleader put: $code $body"
t=$(now_ms); req $F /v3/kv/range "{\"key\":\"$K\"}" -H 'Grpc-Metadata-hasleader: true'
pass "linearizable range with hasleader on a leaderless member: $code $(field error) in $(( $(now_ms) - t )) ms"
t=$(now_ms); req $F /v3/kv/range "{\"key\":\"$K\"}"
[[ $code == 503 && $body == *'request timed out'* ]] && pass "linearizable range, no header: 503 request timed out after $(( $(now_ms) - t )) ms" || fail "lin range on minority: $code $body"
t=$(now_ms); req $F /v3/kv/put "{\"key\":\"$K\",\"value\":\"$(b64 '"lost"')\"}"
[[ $code == 500 || $code == 503 ]] && pass "put on the minority, no header: $code $(field error) after $(( $(now_ms) - t )) ms (indeterminate)" || fail "minority put: $code $body"
ip netns exec p$F nft delete table inet probe
t=$(now_ms)
for _ in $(seq 1 200); do
  req $F /v3/kv/range "{\"key\":\"$K\"}"; [[ $code == 200 ]] && break; sleep 0.05
done
[[ $code == 200 ]] && pass "healed: linearizable read on n$F after $(( $(now_ms) - t )) ms; value $(field value | base64 -d)" || fail "heal: $code $body"

# ---- a write that timed out may still commit: pause the leader, write via a follower
L=$(leader_of 1)
for i in 1 2 3; do [[ n$i != "$L" ]] && F=$i && break; done
Lpid=$(cat "$work/$L.pid")
K3=$(b64 probe-paused)
kill -STOP "$Lpid"
t=$(now_ms)
req $F /v3/kv/put "{\"key\":\"$K3\",\"value\":\"$(b64 during-pause)\"}" -H 'Grpc-Metadata-hasleader: true'
pc=$code perr=$(field error) pms=$(( $(now_ms) - t ))
kill -CONT "$Lpid"
[[ $pc != 200 ]] && pass "put via n$F while leader $L is paused: $pc '$perr' after $pms ms (recorded info)" \
                 || pass "put via n$F while leader $L is paused: 200 after $pms ms (a new leader took it)"
for _ in $(seq 1 100); do req $F /v3/kv/range "{\"key\":\"$K3\"}"; [[ $code == 200 ]] && break; sleep 0.1; done
if [[ $(field value) == "$(b64 during-pause)" ]]; then
  pass "after resuming $L the value is there: committed although the client saw $pc (why a timeout is info, not fail)"
else
  pass "after resuming $L the value is absent: lost this time (both outcomes happen; info covers both)"
fi

for i in 1 2 3; do kill -KILL "$(cat "$work/n$i.pid")" 2>/dev/null; done
echo "etcd_gateway: $bad failed"
[ $bad -eq 0 ]
