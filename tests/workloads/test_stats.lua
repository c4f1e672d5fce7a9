-- tests/workloads/test_stats.lua — perf and availability figures on a hand-made history with a partition in the middle.
local T = require("tests.workloads.testlib")
local stats = require("workloads.lib.stats")

-- 0..1 s: 4 ok writes of 10 ms; partition 1..2 s: 1 ok, 2 info, 1 fail;
-- after 2 s: 3 ok reads of 20 ms, 1 fail. Times in ms.
local function run()
  local h = T.history()
  for i = 0, 3 do h:at(i * 200):invoke(1, "write", i):at(i * 200 + 10):complete(1, "ok", "write", i) end
  h:at(1000):nemesis("partition-start", { n1 = { "n2" } })
  h:at(1100):invoke(1, "write", 9):at(1400):complete(1, "info", "write", 9)
  h:at(1150):invoke(2, "write", 8):at(1160):complete(2, "fail", "write", 8)
  h:at(1200):invoke(3, "read", nil):at(1500):complete(3, "info", "read", nil)
  h:at(1300):invoke(4, "read", nil):at(1340):complete(4, "ok", "read", 3)
  h:at(2000):nemesis("partition-end", nil)
  for i = 0, 2 do h:at(2100 + i * 100):invoke(5, "read", nil):at(2120 + i * 100):complete(5, "ok", "read", 3) end
  h:at(2500):invoke(5, "write", 1):at(2600):complete(5, "fail", "write", 1)
  h:at(2700):invoke(6, "read", nil) -- never completes
  return h.events
end

T.case("perf: counts, throughput, latency quantiles per f", function()
  local s = stats.compute(run())
  local p = s.perf
  T.eq(p.duration_s, 2.7, "duration")
  T.eq(p.by_f.write.ok, 4, "ok writes")
  T.eq(p.by_f.write.fail, 2, "failed writes")
  T.eq(p.by_f.write.info, 1, "info writes")
  T.eq(p.by_f.read.ok, 4, "ok reads")
  T.eq(p.by_f.read.incomplete, 1, "incomplete reads")
  T.eq(p.by_f.write.latency_ms.p50, 10.0, "write p50")
  T.eq(p.by_f.write.latency_ms.max, 10.0, "write max")
  T.eq(p.by_f.read.latency_ms.p50, 20.0, "read p50")
  T.eq(p.by_f.read.latency_ms.max, 40.0, "read max")
  T.eq(p.all.ok, 8, "all ok")
  T.eq(p.by_f.read.throughput, 1.481, "read throughput (4 / 2.7 s, to 1/1000)")
end)

T.case("availability: before, during and after the partition", function()
  local a = stats.compute(run()).availability
  T.eq(a.overall.completed, 12, "completed")
  T.eq(a.overall.ok, 8, "ok")
  local p = a.by_fault.partition
  T.truthy(p, "partition window")
  T.eq(p.intervals, 1, "intervals")
  T.eq(p.fault_s, 1.0, "seconds under fault")
  T.eq(p.before.availability, 1.0, "before")
  T.eq(p.during.completed, 4, "during completed")
  T.eq(p.during.availability, 0.25, "during")
  T.eq(p.after.availability, 0.75, "after")
  T.eq(a.any_fault.faulty.availability, 0.25, "any fault")
end)

T.case("timeline and per-node availability", function()
  local h = T.history()
  h:at(100):invoke(1, "read", nil):at(200):push({ process = 1, type = "ok", f = "read", value = 1, node = "n1" })
  h:at(1500):invoke(1, "read", nil):at(1600):push({ process = 1, type = "fail", f = "read", node = "n2" })
  h:at(3100):invoke(1, "read", nil):at(3200):push({ process = 1, type = "ok", f = "read", value = 1, node = "n2" })
  local s = stats.compute(h.events)
  local tl = s.perf.timeline
  T.eq(#tl, 4, "seconds 0..3")
  T.eq(tl[1].ok, 1, "second 0 ok")
  T.eq(tl[2].fail, 1, "second 1 fail")
  T.eq(tl[3].ok + tl[3].fail + tl[3].info, 0, "second 2 empty")
  T.eq(tl[4].t, 3, "second 3")
  T.eq(s.availability.by_node.n1.availability, 1.0, "n1")
  T.eq(s.availability.by_node.n2.availability, 0.5, "n2")
end)

T.case("availability: a fault never healed lasts to the end", function()
  local h = T.history()
  h:at(0):nemesis("kill-start", { "n1" })
  h:at(10):invoke(1, "read", nil):at(20):complete(1, "info", "read", nil)
  local a = stats.compute(h.events).availability
  T.eq(a.by_fault.kill.during.completed, 1, "during")
  T.eq(a.by_fault.kill.during.availability, 0.0, "availability")
end)

T.case("empty history", function()
  local s = stats.compute({})
  T.eq(s.perf.all.ok, 0, "ok")
  T.eq(s.availability.overall.availability, nil, "no availability without ops")
end)

T.done()
