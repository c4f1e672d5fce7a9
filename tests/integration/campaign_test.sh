#!/usr/bin/env bash
# campaign_test.sh — rapat campaign end to end on short runs against the fake v1 server: verdicts vs expectations, exit codes, campaign.json, JUnit XML, --shard, --budget, unknown-as-skipped, and the webhook POST (a loopback listener; a failing one changes nothing).
set -u
root=${RAPAT_ROOT:-.}
bin=${RAPAT_BIN:-bin}
build=${RAPAT_BUILD:-build/default}
campaign=$(realpath -m "$build/harness/campaign/rapat-campaign")
sink=$(realpath -m "$build/tests/integration/campaign_http_sink")
export RAPAT_FAKE_V1=$(realpath -m "$build/tests/integration/fake_v1")
export RAPAT_EXE=$(realpath -m "$bin/rapat")
for x in "$campaign" "$sink" "$RAPAT_FAKE_V1" "$RAPAT_EXE"; do [ -x "$x" ] || { echo "missing $x"; exit 1; }; done
check="lua5.4 $root/tests/integration/report_markup_check.lua"
tmp=$(mktemp -d /tmp/campaign_test.XXXXXX)
sinkpid=
trap '[ -n "$sinkpid" ] && kill "$sinkpid" 2>/dev/null; rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }
# jget FILE EXPR: a value from a JSON file (EXPR is Lua on the decoded table d)
jget() {
  lua5.4 - "$root" "$1" "$2" <<'LUA'
local json = dofile(arg[1] .. "/workloads/lib/json.lua")
local f = assert(io.open(arg[2])); local d = json.decode(f:read("a")); f:close()
local v = assert(load("local d = ...; return " .. arg[3]))(d)
print(type(v) == "number" and math.tointeger(v) or tostring(v))
LUA
}
start_sink() { # STATUS MAX -> sets port
  rm -f "$tmp/port"
  "$sink" "$tmp/port" "$tmp/body" "$1" "$2" & sinkpid=$!
  for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
  port=$(cat "$tmp/port")
}
cd "$root" || exit 1

# 0. Bad campaign files and usage: exit 2, the message names file:line and field.
"$campaign" tests/integration/campaign_bad.lua --out "$tmp/bad" 2>"$tmp/bad.err"; rc=$?
[ $rc -eq 2 ] || fail "bad campaign: exit $rc, want 2"
grep -q 'tests/integration/campaign_bad.lua:6: runs\[1\].expect' "$tmp/bad.err" || fail "bad campaign: message: $(cat "$tmp/bad.err")"
"$campaign" tests/integration/campaign_tiny.lua --shard 3/2 2>/dev/null; [ $? -eq 2 ] || fail "--shard 3/2: want exit 2"
"$campaign" tests/integration/campaign_tiny.lua --budget -1 2>/dev/null; [ $? -eq 2 ] || fail "--budget -1: want exit 2"
"$campaign" tests/integration/campaign_tiny.lua --post ftp://x 2>/dev/null; [ $? -eq 2 ] || fail "--post ftp: want exit 2"
"$campaign" 2>/dev/null; [ $? -eq 2 ] || fail "no file: want exit 2"

# 1. Sharding: deterministic, disjoint, complete.
"$campaign" tests/integration/campaign_shard.lua --list | cut -f1 >"$tmp/all" || fail "--list"
"$campaign" tests/integration/campaign_shard.lua --list --shard 1/2 | cut -f1 >"$tmp/s1"
"$campaign" tests/integration/campaign_shard.lua --list --shard 2/2 | cut -f1 >"$tmp/s2"
"$campaign" tests/integration/campaign_shard.lua --list --shard 1/2 | cut -f1 | cmp -s - "$tmp/s1" || fail "shard 1/2 differs between two listings"
[ "$(wc -l <"$tmp/all")" -eq 5 ] || fail "campaign_shard lists $(wc -l <"$tmp/all") runs, want 5"
[ "$(cat "$tmp/s1")" = "$(printf 'a-1-s1\na-1-s3\nb-2-s5')" ] || fail "shard 1/2: $(cat "$tmp/s1" | tr '\n' ' ')"
[ "$(sort "$tmp/s1" "$tmp/s2")" = "$(sort "$tmp/all")" ] || fail "shards 1/2 + 2/2 are not the whole list"
[ -z "$(sort "$tmp/s1" "$tmp/s2" | uniq -d)" ] || fail "shards overlap"

# 2. Two runs, one deliberately wrong expectation; JUnit; webhook answering 200.
start_sink 200 1
"$campaign" tests/integration/campaign_tiny.lua --out "$tmp/c1" --junit "$tmp/junit.xml" \
  --post "http://127.0.0.1:$port/hook" >"$tmp/c1.out" 2>&1
rc=$?
cat "$tmp/c1.out"
[ $rc -eq 1 ] || fail "tiny campaign: exit $rc, want 1 (one run fails its expectation)"
cj=$tmp/c1/campaign.json
[ "$(jget "$cj" 'd.totals.runs')" = 2 ] || fail "campaign.json: totals.runs"
[ "$(jget "$cj" 'd.totals.passed')" = 1 ] || fail "campaign.json: totals.passed"
[ "$(jget "$cj" 'd.totals.failed')" = 1 ] || fail "campaign.json: totals.failed"
[ "$(jget "$cj" 'd.runs[1].name')" = good-1-s7 ] || fail "campaign.json: runs[1].name"
[ "$(jget "$cj" 'd.runs[1].verdict')" = valid ] || fail "campaign.json: runs[1].verdict"
[ "$(jget "$cj" 'd.runs[1].seed')" = 7 ] || fail "campaign.json: runs[1].seed"
[ "$(jget "$cj" 'd.runs[1].set.nemesis')" = kill ] || fail "campaign.json: runs[1].set"
[ "$(jget "$cj" 'd.runs[2].outcome')" = failed ] || fail "campaign.json: runs[2].outcome"
[ "$(jget "$cj" 'd.runs[2].expect')" = invalid ] || fail "campaign.json: runs[2].expect"
[ "$(jget "$cj" 'd.runs[2].figures.ops.invoke > 0')" = true ] || fail "campaign.json: runs[2].figures.ops"
[ "$(jget "$cj" 'd.post.ok')" = true ] || fail "campaign.json: post.ok"
[ -d "$tmp/c1/good-1-s7" ] && [ -f "$tmp/c1/good-1-s7/results.json" ] || fail "run directory good-1-s7"
[ -f "$tmp/c1/wrong-2-s8.out" ] || fail "run output wrong-2-s8.out"
$check xml "$tmp/junit.xml" || fail "junit.xml: markup"
grep -q '<testsuite name="tiny" tests="2" failures="1" errors="0" skipped="0"' "$tmp/junit.xml" || fail "junit.xml: counts"
[ "$(grep -c '<testcase ' "$tmp/junit.xml")" -eq 2 ] || fail "junit.xml: testcase count"
grep -q '<failure type="verdict" message="expected invalid, got valid' "$tmp/junit.xml" || fail "junit.xml: failure element"
grep -Eq '<testcase [^>]*name="good-1-s7" time="[0-9]+\.[0-9]+"' "$tmp/junit.xml" || fail "junit.xml: time attribute"
cmp -s "$tmp/junit.xml" "$tmp/c1/junit.xml" || fail "junit.xml differs from the campaign directory's copy"
REPORT_CHECK_NO_DATA=1 $check html "$tmp/c1/index.html" || fail "index.html: markup"
grep -q 'href="good-1-s7/report.html"' "$tmp/c1/index.html" || fail "index.html: no link to good-1-s7's report"
[ -f "$tmp/c1/good-1-s7/report.html" ] || fail "good-1-s7 has no report.html"
wait "$sinkpid"; sinkpid=
[ -s "$tmp/body.1" ] || fail "the webhook received nothing"
grep -qi '^POST /hook' "$tmp/body.1.head" || fail "webhook: not a POST to /hook"
grep -qi '^content-type: application/json' "$tmp/body.1.head" || fail "webhook: no JSON content type"
[ "$(jget "$tmp/body.1" 'd.campaign')" = tiny ] || fail "webhook body: campaign"
[ "$(jget "$tmp/body.1" 'd.totals.failed')" = 1 ] || fail "webhook body: totals"
[ "$(jget "$tmp/body.1" 'd.failed[1].name')" = wrong-2-s8 ] || fail "webhook body: failed runs"

# 3. Unknown where valid was expected = skipped (with the reason); the budget leaves the
#    second run out; a webhook that keeps answering 500 is retried (3 attempts) and the
#    exit code stays 0.
rm -f "$tmp"/body.*
start_sink 500 3
"$campaign" tests/integration/campaign_budget.lua --out "$tmp/c2" --budget 1 --junit "$tmp/j2.xml" \
  --post "http://127.0.0.1:$port/hook" >"$tmp/c2.out" 2>&1
rc=$?
cat "$tmp/c2.out"
[ $rc -eq 0 ] || fail "budget campaign: exit $rc, want 0 (nothing failed; a failed post changes nothing)"
cj=$tmp/c2/campaign.json
[ "$(jget "$cj" 'd.totals.skipped')" = 2 ] || fail "budget campaign: skipped count"
[ "$(jget "$cj" 'd.runs[1].verdict')" = unknown ] || fail "budget campaign: runs[1] verdict"
jget "$cj" 'd.runs[1].message' | grep -q '^unknown: ' || fail "budget campaign: runs[1] reason: $(jget "$cj" 'd.runs[1].message')"
[ "$(jget "$cj" 'd.runs[2].verdict')" = "not run" ] || fail "budget campaign: runs[2] verdict"
jget "$cj" 'd.runs[2].message' | grep -q '^budget' || fail "budget campaign: runs[2] message"
[ "$(jget "$cj" 'd.post.ok')" = false ] || fail "budget campaign: post.ok"
grep -q 'failed: HTTP 500' "$tmp/c2.out" || fail "budget campaign: the failed post is not reported"
$check xml "$tmp/j2.xml" || fail "j2.xml: markup"
grep -q 'tests="2" failures="0" errors="0" skipped="2"' "$tmp/j2.xml" || fail "j2.xml: counts"
[ "$(grep -c '<skipped message=' "$tmp/j2.xml")" -eq 2 ] || fail "j2.xml: skipped elements"
wait "$sinkpid"; sinkpid=
[ -s "$tmp/body.3" ] || fail "the webhook was not retried 3 times"

[ $fails -eq 0 ] && echo "campaign_test: all passed"
[ $fails -eq 0 ]
