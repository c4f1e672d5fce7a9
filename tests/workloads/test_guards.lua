-- tests/workloads/test_guards.lua — vacuity guards and the node-log crash scanner, each guard shown to trip and not to trip.
local T = require("tests.workloads.testlib")
local guards = require("workloads.lib.guards")

-- n ok writes (and m info writes) by process 1, then optional extras.
local function busy(n, m)
  local h = T.history()
  for i = 1, n do h:op(1, "write", i, "ok") end
  for i = 1, (m or 0) do h:invoke(100 + i, "write", i):complete(100 + i, "info", "write", i) end
  return h
end

T.case("a busy run with its fault and final reads passes", function()
  local h = busy(30)
  h:nemesis("partition-start", {}):nemesis("partition-end", nil)
  h:op(1, "final-read", nil, "ok", 3)
  local r = guards.check(h.events, { faults = "partition", final_reads = true })
  T.eq(r.valid, true, "valid: " .. table.concat(r.reasons, "; "))
end)

T.case("too few ok operations (absolute)", function()
  local r = guards.check(busy(5).events, { min_ok = 10 })
  T.eq(r.valid, "unknown", "valid")
  T.mentions(r.reasons, "only 5 client operations succeeded")
end)

T.case("too few ok operations (relative)", function()
  local r = guards.check(busy(30, 600).events, { min_ok = 10, min_ok_ratio = 0.1 })
  T.eq(r.valid, "unknown", "valid")
  T.mentions(r.reasons, "of client operations succeeded (30 of 630)")
end)

T.case("a required f never succeeded", function()
  local h = busy(30)
  h:op(2, "add", 1, "fail")
  local r = guards.check(h.events, { require_f = { "add" } })
  T.eq(r.valid, "unknown", "valid")
  T.mentions(r.reasons, 'no "add" operation succeeded')
end)

T.case("a requested fault never took effect", function()
  local h = busy(30)
  h:nemesis("kill-start", { "n1" }):nemesis("kill-end", { "n1" })
  local r = guards.check(h.events, { faults = "partition,kill" })
  T.eq(r.valid, "unknown", "valid")
  T.mentions(r.reasons, 'fault "partition" was requested but never took effect')
  T.eq(#r.reasons, 1, "kill did take effect")
end)

T.case("a fault that failed to start is quoted", function()
  local h = busy(30)
  h:push({ process = "nemesis", type = "info", f = "partition-failed", error = "netlink: Operation not permitted" })
  local r = guards.check(h.events, { faults = "partition" })
  T.eq(r.valid, "unknown", "valid")
  T.mentions(r.reasons, "it failed: netlink: Operation not permitted")
end)

T.case("final reads did not complete", function()
  local h = busy(30)
  h:invoke(1, "final-read", nil):complete(1, "info", "final-read", nil)
  local r = guards.check(h.events, { final_reads = true })
  T.eq(r.valid, "unknown", "valid")
  T.mentions(r.reasons, "no final read completed ok (1 invoked)")
end)

T.case("a node died and was not restarted", function()
  local h = busy(30)
  h:push({ process = "nemesis", type = "info", f = "crash", node = "n2",
           value = { node = "n2", status = "killed by signal 6" } })
  local r = guards.check(h.events)
  T.eq(r.valid, "unknown", "valid")
  T.mentions(r.reasons, "node n2 died unexpectedly")
  T.mentions(r.reasons, "signal 6")
  T.eq(guards.check(h.events, { allow_crash = true }).valid, true, "allowed by the plan")
end)

T.case("a crashed node that served requests again counts as restarted", function()
  local h = busy(30)
  h:push({ process = "nemesis", type = "info", f = "crash", node = "n2", value = { node = "n2" } })
  h:invoke(1, "write", 1):push({ process = 1, type = "ok", f = "write", value = 1, node = "n2" })
  local r = guards.check(h.events)
  T.eq(r.valid, true, "valid")
  T.eq(r.crashes[1].restarted, true, "restarted")
end)

T.case("log scanner: finds crash lines with file and line", function()
  local dir = os.tmpname()
  os.remove(dir)
  local path = dir .. ".log"
  local fh = assert(io.open(path, "w"))
  fh:write("raftnode n1 starting\n", "term 3 leader n2\n",
           "raftnode: raft_log.c:88: log_append: Assertion `index > 0' failed.\n",
           "==123==ERROR: AddressSanitizer: heap-use-after-free on address 0x6020\n", "fine\n")
  fh:close()
  local found, total = guards.scan_logs({ path, dir .. ".missing" })
  T.eq(total, 2, "matches")
  T.eq(found[1].line, 3, "line of the assertion")
  T.eq(found[1].kind, "assertion failure (C assert)", "kind")
  T.eq(found[2].kind, "AddressSanitizer report", "kind")
  T.eq(found[2].file, path, "file")
  local r = guards.check(busy(30).events, { logs = { path } })
  T.eq(r.valid, false, "crash lines make the run invalid by default")
  T.mentions(r.reasons, path .. ":3:")
  T.eq(guards.check(busy(30).events, { logs = { path }, log_verdict = "unknown" }).valid, "unknown",
       "log_verdict=unknown")
  os.remove(path)
end)

T.case("log scanner: a clean log finds nothing", function()
  local path = os.tmpname()
  local fh = assert(io.open(path, "w"))
  fh:write("all good\nleader elected\n")
  fh:close()
  local found, total = guards.scan_logs({ path })
  T.eq(total, 0, "matches")
  T.eq(#found, 0, "found")
  os.remove(path)
end)

T.case("merge: false beats unknown beats true", function()
  T.eq(guards.merge(true, true), true, "all true")
  T.eq(guards.merge(true, "unknown"), "unknown", "unknown")
  T.eq(guards.merge("unknown", false, true), false, "false")
end)

T.done()
