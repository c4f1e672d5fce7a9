-- harness/lua/report.lua — report.html: one self-contained page per run (verdict, checkers, faults, latency timeline with fault bands, throughput), rebuilt from results.json and history.jsonl.
--
-- report.write(run_dir) -> path | raises {usage = msg} when the directory is
-- not a run. Pure Lua plus hx.json; no external tools, no network: the page
-- inlines its SVG and CSS.
local hx = require("hx")
local json = hx.json

local M = {}

local function fail(fmt, ...) error({ usage = string.format(fmt, ...) }, 0) end

local function esc(s)
  return (tostring(s):gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end

local function read_all(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local COLORS = { ok = "#2e7d32", fail = "#c62828", info = "#ef6c00" }
local FAULT_COLORS = { partition = "#90caf9", kill = "#ef9a9a", pause = "#fff59d", clock = "#ce93d8",
                       disk = "#bcaaa4", packet = "#80cbc4", member = "#b0bec5" }

-- Loads the history: completions with their latency, plus fault intervals.
local function load_history(path)
  local f = io.open(path, "r")
  if not f then fail("%s: no history.jsonl", path) end
  local open, points, last_t = {}, {}, 0
  local faults, open_faults, crashes = {}, {}, {}
  local n = 0
  for line in f:lines() do
    n = n + 1
    local ev, err = json.decode(line)
    if type(ev) ~= "table" then f:close() fail("%s:%d: %s", path, n, tostring(err or "not an object")) end
    local t = (tonumber(ev.time) or 0) / 1e9
    if t > last_t then last_t = t end
    local p = ev.process
    if p == "nemesis" then
      local kind = type(ev.f) == "string" and ev.f:match("^(.-)%-start$")
      if kind then open_faults[kind] = { kind = kind, t0 = t, value = ev.value } end
      kind = type(ev.f) == "string" and ev.f:match("^(.-)%-end$")
      if kind and open_faults[kind] then
        open_faults[kind].t1 = t
        faults[#faults + 1] = open_faults[kind]
        open_faults[kind] = nil
      end
      if ev.f == "crash" then crashes[#crashes + 1] = { t = t, value = ev.value } end
    elseif ev.type == "invoke" then
      open[p] = t
    elseif open[p] then
      points[#points + 1] = { t = open[p], lat = (t - open[p]) * 1000, type = ev.type, f = ev.f }
      open[p] = nil
    end
  end
  f:close()
  for _, fl in pairs(open_faults) do fl.t1 = last_t; fl.unhealed = true; faults[#faults + 1] = fl end
  table.sort(faults, function(a, b) return a.t0 < b.t0 end)
  return { points = points, faults = faults, crashes = crashes, duration = last_t, events = n }
end

local W, H, L, R, T, B = 960, 320, 60, 20, 20, 40

local function axis_x(out, dur, h)
  local step = dur <= 20 and 2 or dur <= 60 and 5 or dur <= 300 and 30 or 60
  for s = 0, dur, step do
    local x = L + (W - L - R) * s / dur
    out[#out + 1] = string.format('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="grid"/>' ..
      '<text x="%.1f" y="%d" class="tick" text-anchor="middle">%ds</text>', x, T, x, h - B, x, h - B + 15, s)
  end
end

local function bands(out, faults, dur, h)
  for _, fl in ipairs(faults) do
    local x0 = L + (W - L - R) * fl.t0 / dur
    local x1 = L + (W - L - R) * (fl.t1 or dur) / dur
    out[#out + 1] = string.format('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" opacity="0.45">' ..
      '<title>%s %.1f–%.1f s %s</title></rect>', x0, T, math.max(1, x1 - x0), h - T - B,
      FAULT_COLORS[fl.kind] or "#ddd", esc(fl.kind), fl.t0, fl.t1 or dur, esc(json.encode(fl.value) or ""))
  end
end

-- Latency of every completed operation (log scale), coloured by outcome.
local function latency_svg(h)
  local dur = math.max(h.duration, 1)
  local maxlat = 1
  for _, p in ipairs(h.points) do if p.lat > maxlat then maxlat = p.lat end end
  local lo, hi = math.log(0.1, 10), math.log(maxlat * 1.2, 10)
  local out = { string.format('<svg viewBox="0 0 %d %d" width="%d" height="%d">', W, H, W, H) }
  bands(out, h.faults, dur, H)
  axis_x(out, dur, H)
  for e = -1, math.ceil(hi) do
    local y = H - B - (H - T - B) * (e - lo) / (hi - lo)
    if y >= T then
      out[#out + 1] = string.format('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" class="grid"/>' ..
        '<text x="%d" y="%.1f" class="tick" text-anchor="end">%s ms</text>', L, y, W - R, y, L - 4, y + 4,
        e >= 0 and string.format("%d", math.floor(10 ^ e)) or "0.1")
    end
  end
  -- At most ~20000 dots: sample evenly, never dropping fail/info.
  local every = math.max(1, #h.points // 20000)
  for i, p in ipairs(h.points) do
    if p.type ~= "ok" or i % every == 0 then
      local x = L + (W - L - R) * p.t / dur
      local y = H - B - (H - T - B) * (math.log(math.max(p.lat, 0.1), 10) - lo) / (hi - lo)
      out[#out + 1] = string.format('<circle cx="%.1f" cy="%.1f" r="1.6" fill="%s"/>', x, y, COLORS[p.type] or "#555")
    end
  end
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n")
end

-- Completions per second by outcome.
local function rate_svg(h)
  local dur = math.max(h.duration, 1)
  local nb = math.max(1, math.ceil(dur))
  local counts = { ok = {}, fail = {}, info = {} }
  for _, c in pairs(counts) do for i = 1, nb do c[i] = 0 end end
  local maxc = 1
  for _, p in ipairs(h.points) do
    local c = counts[p.type]
    if c then
      local b = math.min(nb, math.floor(p.t) + 1)
      c[b] = c[b] + 1
      if c[b] > maxc then maxc = c[b] end
    end
  end
  local hh = 220
  local out = { string.format('<svg viewBox="0 0 %d %d" width="%d" height="%d">', W, hh, W, hh) }
  bands(out, h.faults, dur, hh)
  axis_x(out, dur, hh)
  out[#out + 1] = string.format('<text x="%d" y="%d" class="tick" text-anchor="end">%d/s</text>', L - 4, T + 4, maxc)
  for _, ty in ipairs({ "ok", "fail", "info" }) do
    local pts = {}
    for i = 1, nb do
      local x = L + (W - L - R) * (i - 0.5) / dur
      local y = hh - B - (hh - T - B) * counts[ty][i] / maxc
      pts[#pts + 1] = string.format("%.1f,%.1f", x, y)
    end
    out[#out + 1] = string.format('<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5"/>',
                                  table.concat(pts, " "), COLORS[ty])
  end
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n")
end

local function verdict_word(v)
  if v == true then return "VALID", "valid" end
  if v == false then return "INVALID", "invalid" end
  return "UNKNOWN", "unknown"
end

local function pretty(v)
  local s = json.encode(v) or "?"
  if #s > 20000 then s = s:sub(1, 20000) .. " …" end
  return s
end

function M.render(run_dir)
  local rtext = read_all(run_dir .. "/results.json")
  if not rtext then fail("%s: not a run directory (no results.json)", run_dir) end
  local res, err = json.decode(rtext)
  if type(res) ~= "table" then fail("%s/results.json: %s", run_dir, tostring(err)) end
  local h = load_history(run_dir .. "/history.jsonl")
  local word, cls = verdict_word(res.valid)
  local o = {}
  local function add(...) for _, s in ipairs({ ... }) do o[#o + 1] = s end end
  add([[<!DOCTYPE html><html><head><meta charset="utf-8"><title>rapat ]], esc(res.plan or "run"), [[</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}
h1{font-size:20px}.valid{color:#2e7d32}.invalid{color:#c62828}.unknown{color:#ef6c00}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
.grid{stroke:#eee}.tick{font-size:11px;fill:#666}pre{background:#f6f6f6;padding:8px;overflow:auto;max-height:300px}
.legend span{display:inline-block;padding:0 8px;margin-right:6px;border-radius:3px}
</style></head><body>]])
  add(string.format('<h1>%s, seed %s: <span class="%s">%s</span></h1>', esc(res.plan or "?"),
                    esc(res.seed or "?"), cls, word))
  if res.reason then add("<p><b>reason:</b> ", esc(res.reason), "</p>") end
  local ops = res.ops or {}
  add(string.format("<p>%s nodes, %.1f s; operations: %s invoked, %s ok, %s fail, %s info</p>",
    esc(res.nodes or "?"), tonumber(res.duration_s) or 0, esc(ops.invoke or 0), esc(ops.ok or 0),
    esc(ops.fail or 0), esc(ops.info or 0)))
  if type(res.argv) == "table" then
    local a = {}
    for i, w in ipairs(res.argv) do a[i] = tostring(w) end
    add("<p><code>", esc(table.concat(a, " ")), "</code></p>")
  end
  add("<h2>Checkers</h2><table><tr><th>checker</th><th>verdict</th><th>details</th></tr>")
  local names = {}
  for k in pairs(res.checkers or {}) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do
    local c = res.checkers[k]
    local w, ccls = verdict_word(type(c) == "table" and c.valid)
    local d = {}
    if type(c) == "table" then
      for _, f in ipairs({ "ops", "keys", "time_s", "reason" }) do
        if c[f] ~= nil and c[f] ~= hx.null then d[#d + 1] = f .. ": " .. tostring(c[f]) end
      end
    end
    add(string.format('<tr><td>%s</td><td class="%s">%s</td><td>%s</td></tr>', esc(k), ccls, w, esc(table.concat(d, ", "))))
  end
  add("</table>")
  for _, k in ipairs(names) do
    local c = res.checkers[k]
    if type(c) == "table" and c.counterexample ~= nil and c.counterexample ~= hx.null then
      add("<h3>", esc(k), ": counterexample</h3><pre>", esc(pretty(c.counterexample)), "</pre>")
    end
  end
  add('<h2>Latency</h2><p class="legend"><span style="background:#c8e6c9">ok</span>',
      '<span style="background:#ffcdd2">fail</span><span style="background:#ffe0b2">info</span>')
  for kind, col in pairs(FAULT_COLORS) do
    for _, fl in ipairs(h.faults) do
      if fl.kind == kind then add(string.format('<span style="background:%s">%s</span>', col, kind)) break end
    end
  end
  add("</p>", latency_svg(h))
  add("<h2>Throughput (completions per second)</h2>", rate_svg(h))
  add("<h2>Faults</h2><table><tr><th>kind</th><th>from</th><th>to</th><th>what</th></tr>")
  for _, fl in ipairs(h.faults) do
    add(string.format("<tr><td>%s</td><td>%.2f s</td><td>%s</td><td><code>%s</code></td></tr>", esc(fl.kind), fl.t0,
      fl.unhealed and "never healed" or string.format("%.2f s", fl.t1), esc(pretty(fl.value))))
  end
  add("</table>")
  if #h.crashes > 0 then
    add("<h2>Unexpected node exits</h2><table>")
    for _, c in ipairs(h.crashes) do
      add(string.format("<tr><td>%.2f s</td><td><code>%s</code></td></tr>", c.t, esc(pretty(c.value))))
    end
    add("</table>")
  end
  add(string.format("<p>%d history events; files: plan.lua, history.jsonl, results.json, harness.log, nodes/</p>", h.events))
  add("</body></html>\n")
  return table.concat(o)
end

function M.write(run_dir)
  local html = M.render(run_dir)
  local path = run_dir .. "/report.html"
  local f, err = io.open(path .. ".tmp", "w")
  if not f then error(err, 0) end
  f:write(html)
  f:close()
  local ok, rerr = os.rename(path .. ".tmp", path)
  if not ok then error(rerr, 0) end
  return path
end

return M
