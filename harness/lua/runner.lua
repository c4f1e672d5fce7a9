-- harness/lua/runner.lua — the standard test shape, run as the harness's main task: start nodes → main phase (clients + nemesis, time-limited) → final heal (always) → recovery → final phase → checkers.
--
-- run(loaded) returns a table for the C side:
--   { checkers = {name = result}, perf = table|nil, availability = table|nil,
--     reason = string|nil, exit = 2|4|nil, error = message|nil }
-- perf and availability are the workloads' figures (workloads/lib/stats.lua),
-- which results.json carries at its top level.
-- Errors never escape: a usage problem found late (e.g. an adapter's start
-- returning garbage) is exit 2, anything else the harness could not do is
-- exit 4, and in every case the final heal runs first.
local hx = require("hx")
local gen = require("gen")
local nemesis = require("nemesis")
local client_v1 = require("client_v1")

local M = {}

-- The http object adapters and the v1 client use: hx.http.request, plus
-- the run's client certificate and CA when the plan asks for mutual TLS.
local http = { request = hx.http.request }
local function use_tls(tls)
  http.request = function(t)
    if t.ca_file == nil then t.ca_file = tls.ca end
    if t.cert_file == nil then t.cert_file = tls.client.cert end
    if t.key_file == nil then t.key_file = tls.client.key end
    return hx.http.request(t)
  end
  client_v1.request = http.request
end

local function tail(path, n)
  local f = io.open(path, "r")
  if not f then return "(no log)" end
  local lines = {}
  for l in f:lines() do
    lines[#lines + 1] = l
    if #lines > n then table.remove(lines, 1) end
  end
  f:close()
  if #lines == 0 then return "(empty log)" end
  return "    " .. table.concat(lines, "\n    ")
end

local function harness_error(msg) error({ harness = msg }, 0) end
local function usage_error(msg) error({ usage = msg }, 0) end

function M.run(loaded)
  local opts = loaded.options
  local adapter = loaded.adapter
  local wl = loaded.workload
  local rand = math.random
  local aname = loaded.adapter_path

  -- Node tables as the contract gives them to adapters, and the handles.
  local nodes, handles, by_id = {}, {}, {}
  for i, h in ipairs(hx.nodes) do
    nodes[i] = { id = h.id, ip = h.ip, client_port = h.client_port, peer_port = h.peer_port,
                 data_dir = h.data_dir, log_path = h.log_path, index = i }
    handles[i] = h
    by_id[h.id] = i
  end
  if opts.tls then
    if not hx.tls then harness_error("tls: no certificates were made") end
    use_tls(hx.tls)
    for _, n in ipairs(nodes) do
      n.tls = { ca = hx.tls.ca, cert = hx.tls.nodes[n.id].cert, key = hx.tls.nodes[n.id].key,
                client_cert = hx.tls.client.cert, client_key = hx.tls.client.key }
    end
  end
  local cluster = { nodes = nodes, seed = hx.seed, options = opts, root = hx.root, run_dir = hx.run_dir }
  for _, n in ipairs(nodes) do
    if adapter.client_url then
      local ok, url = pcall(adapter.client_url, n)
      if not ok or type(url) ~= "string" then
        usage_error(aname .. ": client_url(" .. n.id .. ") " ..
                    (ok and "must return a URL string" or ("failed: " .. tostring(url))))
      end
      n.url = url
    end
  end

  -- The fault packages exist before the nodes start: some prepare the
  -- nodes' environment (clock control files, LD_PRELOAD).
  local env = { nodes = handles, rand = nemesis.rng(hx.seed), opts = opts, adapter = adapter, http = http }
  local ok_pk, pkgs = pcall(nemesis.build, opts.nemesis, env)
  if not ok_pk then usage_error(tostring(pkgs)) end
  for _, p in ipairs(pkgs) do
    if p.prepare then
      local okp, err = pcall(p.prepare, env)
      if not okp then harness_error(p.kind .. ": " .. tostring(err)) end
    end
  end

  local function start_node(i)
    local ok, cmd = pcall(adapter.start, nodes[i], cluster)
    if not ok then usage_error(aname .. ": start(" .. nodes[i].id .. "): " .. tostring(cmd)) end
    if type(cmd) ~= "table" or type(cmd.argv) ~= "table" or #cmd.argv == 0 then
      usage_error(aname .. ": start(" .. nodes[i].id .. ") must return {argv = {...}, env = {...}}")
    end
    local penv = {}
    for k, v in pairs(cmd.env or {}) do penv[k] = v end
    for _, p in ipairs(pkgs) do
      for k, v in pairs(p.node_env and p.node_env(env, handles[i]) or {}) do
        -- Preloads compose; anything else from a package wins.
        if k == "LD_PRELOAD" and penv[k] then penv[k] = penv[k] .. ":" .. v else penv[k] = v end
      end
    end
    return handles[i]:spawn({ argv = cmd.argv, env = penv })
  end

  -- The node tables double as node objects for plans and workloads
  -- (wctx.nodes): id, ip, url, ... and kill/start/pause/resume/state. The
  -- adapter sees the same tables; the methods are simply extra fields.
  for i, n in ipairs(nodes) do
    n.kill = function() return handles[i]:kill() end
    n.start = function() return start_node(i) end
    n.pause = function() return handles[i]:pause() end
    n.resume = function() return handles[i]:resume() end
    n.state = function() return handles[i].state end
  end

  local ready_errors = {}
  local function node_ready(i)
    if adapter.ready then
      local ok, r = pcall(adapter.ready, nodes[i], http)
      if not ok then ready_errors[i] = aname .. ": ready(" .. nodes[i].id .. ") failed: " .. tostring(r) end
      return ok and r
    end
    local status = http.request({ url = nodes[i].url .. "/v1/status", timeout = 1 })
    return status == 200
  end

  -- ---------------------------------------------------------- start nodes
  local t0 = hx.now()
  hx.set_status("starting nodes")
  for i = 1, #nodes do
    local ok, err = start_node(i)
    if not ok then harness_error("could not start node " .. nodes[i].id .. ": " .. tostring(err)) end
  end
  local waiters = {}
  for i = 1, #nodes do
    waiters[i] = hx.spawn(function()
      local deadline = hx.now() + opts.start_timeout
      while hx.now() < deadline do
        if handles[i].state == "down" then
          return nil, string.format("node %s exited during startup; last lines of %s:\n%s",
                                    nodes[i].id, nodes[i].log_path, tail(nodes[i].log_path, 15))
        end
        if node_ready(i) then return true end
        if hx.stopping() then return nil, "interrupted" end
        hx.sleep(0.1)
      end
      return nil, string.format("node %s not ready after %g s%s; last lines of %s:\n%s", nodes[i].id,
                                opts.start_timeout, ready_errors[i] and (" (" .. ready_errors[i] .. ")") or "",
                                nodes[i].log_path, tail(nodes[i].log_path, 15))
    end)
  end
  for i = 1, #nodes do
    local ok, ready, err = waiters[i]:join()
    if not ok then harness_error(tostring(ready)) end
    if not ready then harness_error(err) end
  end
  hx.say(string.format("%d nodes ready in %.0f ms", #nodes, (hx.now() - t0) * 1000))
  hx.record({ process = "nemesis", type = "info", f = "nodes-ready",
              value = { nodes = #nodes, ms = math.floor((hx.now() - t0) * 1000) } })

  -- ---------------------------------------------------------- the pieces
  local invoke
  if adapter.invoke then
    invoke = function(i, op)
      return adapter.invoke(nodes[i], http, op)
    end
  else
    invoke = function(i, op) return client_v1.invoke(nodes[i].url, op, opts.op_timeout) end
  end

  -- How one op runs: an op carrying `via` (a workload op built from
  -- register primitives) runs it over `call`; else a workload with its own
  -- invoke(call, op, opts) gets it; else the op goes to the adapter / v1.
  local wl_opts = opts
  if wl.invoke and wl.configure then
    local okc, r = pcall(wl.configure, opts)
    if not okc then usage_error(loaded.workload_path .. ": " .. tostring(r)) end
    wl_opts = r
  end
  local calls = {}
  for i = 1, #nodes do calls[i] = function(p) return invoke(i, p) end end
  local function execute(i, op)
    local call = calls[i]
    if type(op.via) == "function" then return op.via(call) end
    if wl.invoke and not wl.register_ops then return wl.invoke(call, op, wl_opts) end
    return invoke(i, op)
  end

  local function find_leader()
    for i, n in ipairs(nodes) do
      if handles[i].state == "running" then
        local st
        if adapter.status then
          local ok, r = pcall(adapter.status, n, http)
          st = ok and r or nil
        elseif n.url then
          local status, body = http.request({ url = n.url .. "/v1/status", timeout = 1 })
          if status == 200 then st = hx.json.decode(body) end
        end
        if type(st) == "table" then
          if st.role == "leader" then return n.id end
          if type(st.leader) == "string" and by_id[st.leader] then return st.leader end
        end
      end
    end
    return nil
  end

  env.find_leader = find_leader
  env.start_node = function(h) return start_node(by_id[h.id]) end
  env.node_table = function(h) return nodes[by_id[h.id]] end
  env.node_ready = function(h) return node_ready(by_id[h.id]) end

  local in_flight = 0
  local function count_in_flight() return in_flight end

  -- One client thread: pulls ops from g until it is exhausted or a stop.
  local function client_thread(thread, g, process)
    local ni = (thread - 1) % #nodes + 1
    -- One context table per thread, refreshed per op: generators must not
    -- keep it (they get the values they need from it when called).
    local ctx = { thread = thread, rand = rand, in_flight = count_in_flight }
    while not hx.stopping() do
      ctx.time, ctx.process = hx.now(), process
      local op, t = g:op(ctx)
      if op == nil then break end
      if op == gen.PENDING then
        local dt = t and (t - hx.now()) or 0.01
        hx.sleep(math.max(0.0005, math.min(dt, 0.05)))
      elseif op.type == "sleep" then
        hx.sleep(op.value)
      elseif op.type == "log" then
        hx.log(op.value)
      else
        hx.record({ process = process, type = "invoke", f = op.f, key = op.key, value = op.value })
        in_flight = in_flight + 1
        local ok, c = pcall(execute, ni, op)
        in_flight = in_flight - 1
        if not ok then
          hx.log("client " .. process .. " " .. op.f .. ": " .. tostring(c))
          c = { type = "info", error = "client error: " .. tostring(c) }
        elseif type(c) ~= "table" or (c.type ~= "ok" and c.type ~= "fail" and c.type ~= "info") then
          c = { type = "info", error = "invoke returned no valid completion" }
        end
        local value = c.value
        if value == nil and op.f ~= "read" then value = op.value end
        hx.record({ process = process, type = c.type, f = op.f, key = op.key, value = value,
                    node = nodes[ni].id, error = c.error })
        g:update(ctx, op, c)
        -- An indeterminate op crashed this process: continue as a new one.
        if c.type == "info" then process = process + opts.concurrency end
      end
    end
    return process
  end

  local function run_clients(g, processes)
    local tasks = {}
    for i = 1, opts.concurrency do tasks[i] = hx.spawn(client_thread, i, g, processes[i]) end
    for i = 1, opts.concurrency do
      local ok, p = tasks[i]:join()
      if not ok then error(p, 0) end
      processes[i] = p
    end
  end

  local function record_fault(f, value, err)
    hx.record({ process = "nemesis", type = "info", f = f, value = value, error = err })
  end

  local function nemesis_thread(g, deadline)
    while not hx.stopping() do
      local ctx = { time = hx.now(), thread = "nemesis", process = "nemesis", rand = env.rand,
                    in_flight = count_in_flight }
      if ctx.time >= deadline then break end
      local op, t = g:op(ctx)
      if op == nil then break end
      if op == gen.PENDING then
        hx.sleep(math.max(0.001, math.min((t or ctx.time + 0.05) - ctx.time, deadline - ctx.time)))
      elseif op.type == "sleep" then
        hx.sleep(math.max(0, math.min(op.value, deadline - hx.now())))
      elseif op.type == "log" then
        hx.log(op.value)
      elseif op.package then
        local p = op.package
        if op.f:match("%-start$") then
          local v, err = p.inject(env)
          if v ~= nil then
            record_fault(op.f, v)
            -- A fault that cannot be healed (disk corruption) ends at once.
            if p.instant then record_fault(p.kind .. "-end", v) end
          else
            hx.say(op.f .. " failed: " .. tostring(err))
            record_fault(p.kind .. "-failed", nil, tostring(err))
          end
        elseif p.active then
          local v, err = p.heal(env)
          if v ~= nil then record_fault(op.f, v)
          else hx.say(op.f .. " failed: " .. tostring(err)) end
        end
      end
    end
  end

  -- ---------------------------------------------------------- main phase
  local processes = {}
  for i = 1, opts.concurrency do processes[i] = i - 1 end
  local wctx = { nodes = nodes, concurrency = opts.concurrency, rand = rand }
  local phase_err
  local main_ok, main_err = pcall(function()
    local g = wl.generator(opts, wctx)
    g = gen.time_limit(opts.time_limit, gen.rate(opts.rate, g))
    local deadline = hx.now() + opts.time_limit
    hx.set_status("")
    hx.log("main phase: " .. opts.time_limit .. " s, concurrency " .. opts.concurrency ..
           ", rate " .. opts.rate .. ", nemesis " .. opts.nemesis ..
           (opts.nemesis_schedule == "hold" and " (held)" or ""))
    -- One fault at a time (default), or with nemesis_overlap one schedule
    -- per kind, each starting at its own offset, so faults of different
    -- kinds overlap (a partition while a node is paused, ...).
    -- With nemesis_schedule = "hold" every fault starts at once and stays
    -- until the final heal (overlap is then moot).
    local nems = {}
    if opts.nemesis_schedule == "hold" then
      nems[1] = hx.spawn(nemesis_thread, nemesis.hold(pkgs), deadline)
    elseif opts.nemesis_overlap and #pkgs > 1 then
      for _, p in ipairs(pkgs) do
        local offset = env.rand() * opts.nemesis_interval
        nems[#nems + 1] = hx.spawn(function()
          hx.sleep(offset)
          return nemesis_thread(nemesis.schedule({ p }, opts.nemesis_interval), deadline)
        end)
      end
    else
      nems[1] = hx.spawn(nemesis_thread, nemesis.schedule(pkgs, opts.nemesis_interval), deadline)
    end
    run_clients(g, processes)
    for _, nem in ipairs(nems) do
      local ok, err = nem:join()
      if not ok then error(err, 0) end
    end
  end)
  if not main_ok then
    phase_err = main_err
    hx.say("main phase failed: " .. (type(main_err) == "table" and (main_err.usage or main_err.harness) or tostring(main_err)))
  end

  -- ---------------------------------------------------------- final heal
  -- Always, also after an error or Ctrl-C: every package heals what is left.
  hx.log("final heal")
  hx.set_status("final heal")
  for _, p in ipairs(pkgs) do
    local ok, v = pcall(p.final, env)
    if not ok then hx.say("final heal of " .. p.kind .. " failed: " .. tostring(v))
    elseif v ~= nil then record_fault(p.kind .. "-end", v) end
  end

  if phase_err then error(phase_err, 0) end
  if hx.stopping() then
    local _, why = hx.stopping()
    return { checkers = {}, reason = why }
  end

  -- ---------------------------------------------------------- final phase
  if wl.final_generator then
    hx.log("recovery: " .. opts.recovery_time .. " s")
    hx.set_status("recovery")
    hx.sleep(opts.recovery_time)
    local fg = wl.final_generator(opts, wctx)
    if fg then
      hx.log("final phase")
      hx.set_status("final phase")
      -- Rate-limited too: until_ok loops against an unavailable node must
      -- not turn into a busy loop.
      run_clients(gen.time_limit(opts.final_time_limit, gen.rate(opts.rate, fg)), processes)
    end
  end
  if hx.stopping() then
    local _, why = hx.stopping()
    return { checkers = {}, reason = why }
  end

  -- ---------------------------------------------------------- checkers
  -- The nodes are done: stop them first, so that the checker (the slow
  -- part) has the machine to itself. Their logs and data stay.
  hx.set_status("stopping nodes")
  for _, h in ipairs(handles) do
    if h.state == "paused" then h:resume() end
    if h.state ~= "down" then h:kill() end
  end
  hx.set_status("checking")
  local checkers = {}
  if wl.check then
    local ok, r = pcall(wl.check, { history_path = hx.run_dir .. "/history.jsonl", opts = opts,
                                    run_dir = hx.run_dir, nodes = nodes })
    if not ok then harness_error("workload checker failed: " .. tostring(r)) end
    checkers = r or {}
  end
  -- The workloads hand their statistics over as the always-valid "stats"
  -- checker (workloads/lib/glue.lua); results.json has them at the top.
  -- The checker stays too: the HTML report (harness/report) draws its
  -- tables from checkers.stats, and older run directories only have that.
  local perf, availability
  if type(checkers.stats) == "table" then
    perf, availability = checkers.stats.perf, checkers.stats.availability
  end
  return { checkers = checkers, perf = perf, availability = availability }
end

-- The main task's entry: never raises.
function M.main(loaded)
  -- Most garbage is per-operation tables that die young.
  collectgarbage("generational")
  local ok, r = xpcall(M.run, function(e)
    if type(e) == "string" then return debug.traceback(e, 2) end
    return e
  end, loaded)
  if ok then return r end
  local stopping, why = hx.stopping()
  if stopping and not (type(r) == "table" and r.usage) then
    -- Interrupted while starting (or a failure caused by the interruption):
    -- unknown, not a harness failure.
    return { checkers = {}, reason = why .. " (" .. tostring(type(r) == "table" and r.harness or r) .. ")" }
  end
  if type(r) == "table" and r.usage then return { exit = 2, error = r.usage } end
  if type(r) == "table" and r.harness then return { exit = 4, error = r.harness } end
  return { exit = 4, error = tostring(r) }
end

return M
