-- workloads/lib/guards.lua — vacuity guards (a run that tested nothing is "unknown", never valid) and the node-log crash scanner.
--
-- Why: a checker that finds no anomaly in a history where almost nothing
-- succeeded, or where the requested fault never happened, says nothing about
-- the system (jepsen-io/maelstrom#44, scalar-labs/scalar-jepsen#222). These
-- guards turn such runs into "unknown" with a reason a person can act on.
--
-- guards.check(history, opts) -> {valid = true | "unknown" | false, reasons = {...}, ...}
--   opts.min_ok         fewer ok client operations than this: unknown (default 20)
--   opts.min_ok_ratio   ok / invoked below this: unknown (default 0.05)
--   opts.require_f      list of f's that must each have at least one ok
--                       (e.g. {"add"}: a set run whose adds all failed is vacuous)
--   opts.faults         list of fault kinds requested (the words of --set
--                       nemesis=); each needs at least one "<kind>-start" event
--   opts.final_reads    true when the workload issues final reads; then at
--                       least one ok op of f opts.final_f ("final-read") is needed
--   opts.allow_crash    true when the plan tolerates a node dying on its own
--   opts.logs           list of node log files to scan (see scan_logs); a
--                       crash found in a log makes the run opts.log_verdict
--                       (default false, i.e. invalid: a node that panics or
--                       trips a sanitizer has a bug, whatever the history says)
-- A node that died on its own shows in the history as a nemesis event with f
-- "crash" and `node` (or value.node). It counts as restarted when a later
-- event shows it back: a "kill-end"/"pause-end"/"start"/"restart" event
-- naming it, or a client op it served ok.

local hist = require("workloads.lib.hist")

local M = {}

M.defaults = { min_ok = 20, min_ok_ratio = 0.05, final_f = "final-read", log_verdict = false }

-- What a crash looks like in a node's log. Plain substrings, checked in
-- order; the first that matches names the line's kind.
M.crash_patterns = {
  { "AddressSanitizer", "AddressSanitizer report" },
  { "LeakSanitizer", "LeakSanitizer report" },
  { "UndefinedBehaviorSanitizer", "UBSan report" },
  { "ThreadSanitizer", "ThreadSanitizer report" },
  { "runtime error:", "runtime error (UBSan or Go)" },
  { "panic:", "panic (Go)" },
  { "panicked at", "panic (Rust)" },
  { "Assertion `", "assertion failure (C assert)" },
  { "Assertion failed", "assertion failure" },
  { "assertion failed", "assertion failure" },
  { "Segmentation fault", "segmentation fault" },
  { "SIGSEGV", "segmentation fault" },
  { "stack smashing detected", "stack smashing" },
  { "double free or corruption", "heap corruption (glibc)" },
  { "Aborted (core dumped)", "abort" },
}

local names_node
function names_node(value, id)
  if value == nil then return false end
  if value == id then return true end
  if type(value) == "table" then
    if value.node == id or value[id] ~= nil then return true end
    for _, v in ipairs(value) do
      if v == id then return true end
    end
    if type(value.nodes) == "table" then return names_node(value.nodes, id) end
  end
  return false
end

local RESTART_FS = { ["kill-end"] = true, ["pause-end"] = true, start = true, restart = true,
                     ["node-start"] = true }

-- The crashes of a history, each {node, time, index, status, restarted}.
function M.crashes(history)
  local out = hist.list()
  for pos, ev in ipairs(history) do
    if ev.process == "nemesis" and ev.f == "crash" then
      local v = ev.value
      out[#out + 1] = { node = ev.node or (type(v) == "table" and v.node) or "?", time = hist.time_of(ev, pos),
                        index = ev.index or pos, status = type(v) == "table" and v.status or nil,
                        restarted = false }
    end
  end
  for _, c in ipairs(out) do
    for pos, ev in ipairs(history) do
      if hist.time_of(ev, pos) > c.time then
        if ev.process == "nemesis" and RESTART_FS[ev.f] and (names_node(ev.value, c.node) or ev.node == c.node) then
          c.restarted = true
          break
        end
        if ev.process ~= "nemesis" and ev.type == "ok" and ev.node == c.node then
          c.restarted = true
          break
        end
      end
    end
  end
  return out
end

-- Scans log files for crash signatures. Returns a list of
-- {file, line, kind, text} (at most max_per_file per file, default 20) and
-- the total number of matching lines. Missing files are skipped: a node that
-- never started has no log, and that is reported elsewhere.
function M.scan_logs(files, max_per_file)
  max_per_file = max_per_file or 20
  local found, total = hist.list(), 0
  for _, file in ipairs(files or {}) do
    local fh = io.open(file, "r")
    if fh then
      local n, lineno = 0, 0
      for line in fh:lines() do
        lineno = lineno + 1
        for _, p in ipairs(M.crash_patterns) do
          if line:find(p[1], 1, true) then
            total = total + 1
            n = n + 1
            if n <= max_per_file then
              found[#found + 1] = { file = file, line = lineno, kind = p[2], text = line:sub(1, 300) }
            end
            break
          end
        end
      end
      fh:close()
    end
  end
  return found, total
end

-- The log files of a run directory's nodes: <run_dir>/nodes/<id>/log.
function M.node_log_files(run_dir, node_ids)
  local files = {}
  for _, id in ipairs(node_ids) do files[#files + 1] = run_dir .. "/nodes/" .. id .. "/log" end
  return files
end

-- Splits "partition,kill" (or a list) into a list of kinds.
local function kinds_of(faults)
  if faults == nil then return {} end
  if type(faults) == "string" then
    local out = {}
    for w in faults:gmatch("[^,%s]+") do
      if w ~= "none" then out[#out + 1] = w end
    end
    return out
  end
  return faults
end

-- Runs every guard over a history (see the top of the file).
function M.check(history, opts)
  opts = opts or {}
  local min_ok = opts.min_ok or M.defaults.min_ok
  local min_ratio = opts.min_ok_ratio or M.defaults.min_ok_ratio
  local final_f = opts.final_f or M.defaults.final_f
  local result = { valid = true, reasons = hist.list() }
  local function unknown(msg)
    if result.valid == true then result.valid = "unknown" end
    result.reasons[#result.reasons + 1] = msg
  end

  -- 1. Enough operations succeeded.
  local invoked, ok, ok_by_f, final_ok, final_invoked = 0, 0, {}, 0, 0
  for _, op in ipairs(hist.pair(history)) do
    invoked = invoked + 1
    if op.f == final_f then final_invoked = final_invoked + 1 end
    if op.type == "ok" then
      ok = ok + 1
      ok_by_f[op.f] = (ok_by_f[op.f] or 0) + 1
      if op.f == final_f then final_ok = final_ok + 1 end
    end
  end
  result.ops = { invoked = invoked, ok = ok }
  if ok < min_ok then
    unknown(string.format("only %d client operations succeeded (of %d invoked); at least %d are needed "
      .. "(option min_ok)", ok, invoked, min_ok))
  elseif invoked > 0 and ok / invoked < min_ratio then
    unknown(string.format("only %.1f%% of client operations succeeded (%d of %d); at least %.1f%% are needed "
      .. "(option min_ok_ratio)", 100 * ok / invoked, ok, invoked, 100 * min_ratio))
  end
  for _, f in ipairs(opts.require_f or {}) do
    if not ok_by_f[f] then unknown(string.format("no %q operation succeeded", f)) end
  end

  -- 2. Every requested fault took effect.
  -- The harness records a start it could not carry out as "<kind>-failed"
  -- with the error: quote it, it says what to fix.
  local started, failed = {}, {}
  for pos, ev in ipairs(history) do
    if ev.process == "nemesis" and type(ev.f) == "string" then
      local k = ev.f:match("^(.-)%-start$")
      if k then started[k] = (started[k] or 0) + 1 end
      k = ev.f:match("^(.-)%-failed$")
      if k and not failed[k] then failed[k] = tostring(ev.error or ev.value or "?") end
    end
  end
  result.faults_started = started
  for _, kind in ipairs(kinds_of(opts.faults)) do
    if not started[kind] then
      unknown(string.format("fault %q was requested but never took effect (no %s-start in the history%s)", kind,
        kind, failed[kind] and ("; it failed: " .. failed[kind]) or ""))
    end
  end

  -- 3. Final reads completed.
  if opts.final_reads then
    result.final_reads = { invoked = final_invoked, ok = final_ok }
    if final_ok == 0 then
      unknown(string.format("no final read completed ok (%d invoked): the state after healing is unknown",
                            final_invoked))
    end
  end

  -- 4. No node left dead by a crash the plan did not allow.
  result.crashes = M.crashes(history)
  for _, c in ipairs(result.crashes) do
    if not c.restarted and not opts.allow_crash then
      unknown(string.format("node %s died unexpectedly at %.3fs%s and was not restarted (history index %d)",
        tostring(c.node), hist.seconds(c.time) or 0, c.status and (" (" .. c.status .. ")") or "", c.index))
    end
  end

  -- 5. Crash signatures in the node logs.
  if opts.logs then
    local found, total = M.scan_logs(opts.logs)
    result.log_findings, result.log_findings_count = found, total
    if total > 0 then
      local verdict = opts.log_verdict
      if verdict == nil then verdict = M.defaults.log_verdict end
      local f = found[1]
      local msg = string.format("%d crash line(s) in node logs; first: %s:%d: %s: %s", total, f.file, f.line,
                                f.kind, f.text)
      if verdict == false then
        result.valid = false
        result.reasons[#result.reasons + 1] = msg
      else
        unknown(msg)
      end
    end
  end
  return result
end

-- Merges verdicts: false beats "unknown" beats true (as Jepsen's compose).
function M.merge(...)
  local v = true
  for i = 1, select("#", ...) do
    local x = select(i, ...)
    if x == false then return false end
    if x == "unknown" or x == nil then v = "unknown" end
  end
  return v
end

return M
