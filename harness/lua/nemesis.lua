-- harness/lua/nemesis.lua — fault packages (partition, kill, pause) with inject/heal/final functions, and the schedules: "cycle" alternates start/stop every nemesis_interval seconds, "hold" starts every fault at once and keeps it until the final heal.
--
-- A package is a table
--   { kind = "partition",
--     inject = function(env) -> value | nil, err  -- put the fault in force
--     heal   = function(env) -> value | nil, err  -- heal it (only when active)
--     final  = function(env) -> value | nil        -- heal whatever is left,
--                                                 -- idempotent; value = what it healed
--     prepare = function(env), node_env = function(env, node) -> {K=V}  (optional)
--     active = false }
-- env (built by the runner): nodes (node handles, see runner.lua), rand,
-- adapter, http, opts (the plan options), status(node) (the adapter's status
-- or nil), start_node(node) (restart through the adapter).
-- The schedule emits ops {f = "<kind>-start"|"<kind>-end"} for the nemesis
-- thread; the runner calls start/stop and records what they return as the
-- event's value. New kinds (clock, disk, packet, member) register here with
-- nemesis.register(kind, constructor).

local gen = require("gen")
local hx = require("hx")

local M = {}
local constructors = {}

function M.register(kind, ctor) constructors[kind] = ctor end

-- A random source of its own for the nemesis (splitmix64), seeded from the
-- run's seed: the clients draw from math.random in an order that depends on
-- timing, so sharing one stream would make the fault schedule (kinds,
-- targets, topologies) differ between runs with the same seed. With its own
-- stream the schedule repeats exactly (except what depends on the system's
-- state, e.g. who the leader is). Returns rand() / rand(n) / rand(m, n) like
-- math.random.
function M.rng(seed)
  local x = math.tointeger(seed) or 0
  local function next64()
    x = x + 0x9E3779B97F4A7C15
    local z = x
    z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * 0x94D049BB133111EB
    return z ~ (z >> 31)
  end
  return function(m, n)
    local r = (next64() >> 11) * (1.0 / 9007199254740992.0) -- [0, 1)
    if m == nil then return r end
    if n == nil then m, n = 1, m end
    return m + math.floor(r * (n - m + 1))
  end
end

-- Every kind the contract names; those without a constructor are rejected
-- at plan load with a clear message.
M.KINDS = { partition = true, kill = true, pause = true, clock = true, disk = true,
            packet = true, member = true }

function M.available(kind) return constructors[kind] ~= nil end

-- What a kind needs from the adapter, checked when the plan is loaded:
-- requirements[kind](adapter) -> nil, or a message saying what is missing.
M.requirements = {}

local function shuffled(list, rand)
  local c = {}
  for i, v in ipairs(list) do c[i] = v end
  for i = #c, 2, -1 do
    local j = rand(1, i)
    c[i], c[j] = c[j], c[i]
  end
  return c
end

local function ids(nodes)
  local r = {}
  for i, n in ipairs(nodes) do r[i] = n.id end
  return r
end

-- ---------------------------------------------------------------- grudges
-- A grudge maps a node id to the ids whose packets it drops (one-way by
-- construction; a symmetric cut lists both directions).

-- Components (lists of ids) -> complete grudge: nobody hears anyone outside
-- its own component.
function M.complete_grudge(components)
  local comp_of = {}
  for ci, comp in ipairs(components) do
    for _, id in ipairs(comp) do comp_of[id] = ci end
  end
  local g = {}
  for id, ci in pairs(comp_of) do
    local drops = {}
    for other, cj in pairs(comp_of) do
      if cj ~= ci then drops[#drops + 1] = other end
    end
    table.sort(drops)
    if #drops > 0 then g[id] = drops end
  end
  return g
end

local topologies = {}

-- nem.h's builders when the nemesis library is linked (hx.net.topology);
-- the Lua versions below otherwise (and in unit tests).
local function nem_topology(name, order)
  if hx.net and hx.net.topology then return hx.net.topology(name, order) end
  return nil
end

-- One random node cut off from everyone.
function topologies.one(all, rand)
  local s = shuffled(all, rand)
  local g = nem_topology("isolate", { s[1] })
  if g then return g end
  local rest = {}
  for i = 2, #s do rest[#rest + 1] = s[i] end
  return M.complete_grudge({ { s[1] }, rest })
end

-- A random majority and minority.
function topologies.majority(all, rand)
  local s = shuffled(all, rand)
  local g = nem_topology("halves", s)
  if g then return g end
  local m = #s // 2 + 1
  local a, b = {}, {}
  for i, id in ipairs(s) do
    if i <= m then a[#a + 1] = id else b[#b + 1] = id end
  end
  return M.complete_grudge({ a, b })
end

-- Two halves plus one bridge node that hears both sides.
function topologies.bridge(all, rand)
  if #all < 3 then return topologies.one(all, rand) end
  local s = shuffled(all, rand)
  local ng = nem_topology("bridge", s)
  if ng then return ng end
  local bridge = s[1]
  local half = (#s - 1) // 2
  local a, b = {}, {}
  for i = 2, #s do
    if i - 1 <= half then a[#a + 1] = s[i] else b[#b + 1] = s[i] end
  end
  local g = M.complete_grudge({ a, b })
  g[bridge] = nil
  return g
end

-- Majorities ring: every node hears a majority (its neighbours on a random
-- ring), and no two nodes hear the same majority.
function topologies.ring(all, rand)
  local s = shuffled(all, rand)
  local ng = nem_topology("ring", s)
  if ng then return ng end
  local n = #s
  local m = n // 2 + 1
  local g = {}
  for i = 1, n do
    local hears = {}
    for d = -((m - 1) // 2), m // 2 do
      hears[s[((i - 1 + d) % n) + 1]] = true
    end
    local drops = {}
    for _, id in ipairs(s) do
      if not hears[id] then drops[#drops + 1] = id end
    end
    table.sort(drops)
    if #drops > 0 then g[s[i]] = drops end
  end
  return g
end

-- The current leader (asked through the adapter's status) cut off.
function topologies.leader(all, rand, env)
  local leader = env.find_leader and env.find_leader()
  if not leader then return topologies.one(all, rand), "one (no leader known)" end
  local rest = {}
  for _, id in ipairs(all) do
    if id ~= leader then rest[#rest + 1] = id end
  end
  return M.complete_grudge({ { leader }, rest })
end

-- Every node alone: nobody hears anybody, so no quorum anywhere. Useless
-- for finding bugs, but it is what a vacuity check needs (a run in which
-- nothing can commit must never come out valid; workloads/plans/vacuous.lua).
function topologies.isolated(all)
  local components = {}
  for i, id in ipairs(all) do components[i] = { id } end
  return M.complete_grudge(components)
end
M.topologies = topologies

-- The topology names, sorted, for messages.
function M.topology_names()
  local names = {}
  for name in pairs(topologies) do names[#names + 1] = name end
  table.sort(names)
  return table.concat(names, ", ")
end

local function split_list(s)
  local r = {}
  for w in tostring(s):gmatch("[^,%s]+") do r[#r + 1] = w end
  return r
end
M.split_list = split_list

-- ---------------------------------------------------------------- packages

-- Only when the nemesis network library is built in: otherwise a plan
-- asking for partitions is refused at load time (exit 2), not mid-run.
local register_partition = (hx.net and hx.net.available) and M.register or function() end
register_partition("partition", function(env)
  local names = split_list(env.opts.partitions)
  for _, t in ipairs(names) do
    if not topologies[t] then
      error(string.format("unknown partition topology '%s' (known: %s)", t, M.topology_names()), 0)
    end
  end
  local p = { kind = "partition", active = false }
  function p.inject(e)
    local name = names[e.rand(1, #names)]
    local grudge = topologies[name](ids(e.nodes), e.rand, e)
    local ok, err = hx.net.partition(grudge)
    if not ok then return nil, err end
    p.active, p.grudge = true, grudge
    hx.log("partition " .. name .. ": " .. hx.json.encode(grudge))
    -- Optionally measure that the grudge is really in force (one UDP probe
    -- per ordered pair). It blocks the loop for up to ~0.6 s, which shows as
    -- latency, hence off by default. A mismatch is loud, never hidden.
    if e.opts.partition_probe and hx.net.probe then
      local r, perr = hx.net.probe(0.5)
      if not r then
        hx.say("partition probe failed: " .. tostring(perr))
      elseif r.mismatches > 0 then
        hx.say(string.format("partition NOT in force as intended: %d mismatches (%s)", r.mismatches,
                             r.first_mismatch))
      else
        hx.log(string.format("partition verified by probe in %.0f ms", r.ms))
      end
    end
    return grudge
  end
  function p.heal(e)
    local ok, err = hx.net.heal()
    if not ok then return nil, err end
    p.active = false
    return p.grudge
  end
  function p.final(e)
    local ok, err = hx.net.heal() -- always, even if we think nothing is in force
    if not ok then hx.say("final heal of partitions failed: " .. tostring(err)) end
    if p.active then
      p.active = false
      return p.grudge
    end
    return nil
  end
  return p
end)

-- Targets for process faults: "one", "minority", "majority", "all".
local function pick_targets(e, spec)
  local specs = split_list(spec)
  local which = specs[e.rand(1, #specs)]
  local s = shuffled(e.nodes, e.rand)
  local n = #s
  local k = ({ one = 1, minority = (n - 1) // 2, majority = n // 2 + 1, all = n })[which] or 1
  if k < 1 then k = 1 end
  local r = {}
  for i = 1, k do r[i] = s[i] end
  return r
end

local function process_package(kind, inject, heal, in_fault_state)
  return function(env)
    local p = { kind = kind, active = false, targets = {} }
    function p.inject(e)
      local hit = {}
      local errs = {}
      for _, node in ipairs(pick_targets(e, e.opts[kind .. "_targets"])) do
        local ok, err = inject(e, node)
        if ok then hit[#hit + 1] = node else errs[#errs + 1] = node.id .. ": " .. tostring(err) end
      end
      if #hit == 0 then return nil, table.concat(errs, "; ") end
      p.active, p.targets = true, hit
      return ids(hit)
    end
    function p.heal(e)
      local healed = {}
      for _, node in ipairs(p.targets) do
        local ok, err = heal(e, node)
        if ok then healed[#healed + 1] = node.id
        else hx.say(kind .. "-end: " .. node.id .. ": " .. tostring(err)) end
      end
      p.active, p.targets = false, {}
      return healed
    end
    -- Heals every node in the fault's state, whoever put it there. Nodes
    -- this package put there are reported as its "-end"; others (a node
    -- that died on its own, before the final reads) get their own event
    -- ("restart" for kill, "<kind>-heal" otherwise), so the history never
    -- claims the nemesis caused what it did not.
    function p.final(e)
      local mine = {}
      for _, node in ipairs(p.targets) do mine[node.id] = true end
      local healed = {}
      for _, node in ipairs(e.nodes) do
        if in_fault_state(node) then
          local ok, err = heal(e, node)
          if not ok then
            hx.say("final heal (" .. kind .. ") of " .. node.id .. " failed: " .. tostring(err))
          elseif mine[node.id] then
            healed[#healed + 1] = node.id
          else
            hx.record({ process = "nemesis", type = "info", f = kind == "kill" and "restart" or (kind .. "-heal"),
                        value = { node = node.id }, node = node.id })
          end
        end
      end
      local was = p.active
      p.active, p.targets = false, {}
      if #healed == 0 and not was then return nil end
      return healed
    end
    return p
  end
end

M.register("kill", process_package("kill",
  function(e, node) return node:kill() end,
  function(e, node) return e.start_node(node) end,
  function(node) return node.state == "down" end))

M.register("pause", process_package("pause",
  function(e, node) return node:pause() end,
  function(e, node) return node:resume() end,
  function(node) return node.state == "paused" end))

-- Clock faults through the LD_PRELOAD shim (bin/librapat_clock.so): every
-- node runs with its own control file (nodes/<id>/clock.ctl, kept across
-- restarts); a fault bumps the clock of the targets (wall and monotonic;
-- monotonic never runs backwards, it stands still instead) or makes it run
-- fast or slow. Reaches programs that read time through glibc (raftnode);
-- not Go programs (etcd), which read the vDSO directly.
local register_clock = (hx.clock and hx.clock.available) and M.register or function() end
register_clock("clock", function(env)
  local modes = split_list(env.opts.clock_faults)
  for _, m in ipairs(modes) do
    if m ~= "bump" and m ~= "rate" then
      error(string.format("unknown clock fault '%s' (bump, rate)", m), 0)
    end
  end
  local p = { kind = "clock", active = false, targets = {}, ctls = {} }
  local function ctl_path(h) return h.dir .. "/clock.ctl" end
  function p.prepare(e)
    for _, h in ipairs(e.nodes) do
      local ctl, err = hx.clock.create(ctl_path(h))
      if not ctl then error(err, 0) end
      p.ctls[h.id] = ctl
    end
  end
  function p.node_env(e, h)
    return { LD_PRELOAD = hx.root .. "/bin/librapat_clock.so", RAPAT_CLOCK_CTL = ctl_path(h) }
  end
  function p.inject(e)
    local value = {}
    local hit = {}
    for _, node in ipairs(pick_targets(e, e.opts.clock_targets)) do
      local ctl = p.ctls[node.id]
      local mode = modes[e.rand(1, #modes)]
      local ok, err
      if mode == "bump" then
        -- 0.1 s .. ~30 s either way, log-uniform: small and large skews.
        local s = 0.1 * (300 ^ e.rand()) * (e.rand() < 0.5 and -1 or 1)
        ok, err = ctl:bump(s)
        value[node.id] = { bump_ms = math.floor(s * 1000) }
      else
        local r = ({ 0.5, 0.8, 1.25, 2.0 })[e.rand(1, 4)]
        ok, err = ctl:set(ctl:offset(), r)
        value[node.id] = { rate = r }
      end
      if not ok then return nil, node.id .. ": " .. tostring(err) end
      hit[#hit + 1] = node
    end
    p.active, p.targets = true, hit
    return value
  end
  local function reset(node)
    local ok, err = p.ctls[node.id]:reset()
    if not ok then hx.say("clock reset of " .. node.id .. " failed: " .. tostring(err)) end
    return ok
  end
  function p.heal(e)
    local healed = {}
    for _, node in ipairs(p.targets) do
      if reset(node) then healed[#healed + 1] = node.id end
    end
    p.active, p.targets = false, {}
    return healed
  end
  function p.final(e)
    local healed = {}
    for _, node in ipairs(e.nodes) do
      local ctl = p.ctls[node.id]
      if ctl and (ctl:offset() ~= 0 or ctl:rate() ~= 1) and reset(node) then
        healed[#healed + 1] = node.id
      end
    end
    local was = p.active
    p.active, p.targets = false, {}
    if #healed == 0 and not was then return nil end
    return healed
  end
  return p
end)

-- Packet faults without netem: bin/rapat-shaper (NFQUEUE) inside a target
-- node's namespace shapes what it sends to every other node — delay with
-- jitter, loss, duplication, or reordering. The harness's own traffic (from
-- the switch address) is never shaped: clients still reach every node.
local register_packet = (hx.packet and hx.packet.available) and M.register or function() end
register_packet("packet", function(env)
  local kinds = split_list(env.opts.packet_faults)
  local known = { delay = true, loss = true, duplicate = true, reorder = true }
  for _, k in ipairs(kinds) do
    if not known[k] then error(string.format("unknown packet fault '%s' (delay, loss, duplicate, reorder)", k), 0) end
  end
  local p = { kind = "packet", active = false, shapers = {} }
  function p.inject(e)
    local value = {}
    for _, node in ipairs(pick_targets(e, e.opts.packet_targets)) do
      local t = e.node_table(node)
      local peers = {}
      for _, other in ipairs(e.nodes) do
        if other.id ~= node.id then peers[#peers + 1] = other.ip end
      end
      local k = kinds[e.rand(1, #kinds)]
      local spec = { node = t.index, peers = peers, seed = e.rand(1, 2 ^ 31),
                     log_path = node.dir .. "/shaper.log" }
      if k == "delay" then
        spec.delay_ms = e.rand(50, 400); spec.jitter_ms = spec.delay_ms // 4
      elseif k == "loss" then
        spec.loss = ({ 0.1, 0.3, 0.5 })[e.rand(1, 3)]
      elseif k == "duplicate" then
        spec.duplicate = 0.3
      else
        spec.delay_ms = 100; spec.jitter_ms = 50; spec.reorder = 0.3
      end
      local pid, err = hx.packet.start(spec)
      if not pid then
        p.active = #p.shapers > 0
        return nil, node.id .. ": " .. tostring(err)
      end
      p.shapers[#p.shapers + 1] = { pid = pid, id = node.id }
      value[node.id] = { fault = k, delay_ms = spec.delay_ms, jitter_ms = spec.jitter_ms, loss = spec.loss,
                         duplicate = spec.duplicate, reorder = spec.reorder }
    end
    p.active = true
    return value
  end
  function p.heal(e)
    local healed = {}
    for _, sh in ipairs(p.shapers) do
      local ok, err = hx.packet.stop(sh.pid)
      if not ok then hx.say("packet-end: shaper of " .. sh.id .. ": " .. tostring(err)) end
      healed[#healed + 1] = sh.id
    end
    p.active, p.shapers = false, {}
    return healed
  end
  function p.final(e)
    if #p.shapers == 0 and not p.active then return nil end
    return p.heal(e)
  end
  return p
end)

-- Disk faults. Corruption (Jepsen's bitflip/truncate): kill one node,
-- damage one of its files (a torn tail, or a few flipped bits near the end,
-- where the newest log entries are), restart it so it reads the damage.
-- Nothing heals corruption: "disk-end" is recorded right after "disk-start"
-- (instant). A Raft node may legitimately lose what it had fsynced here;
-- whether the cluster as a whole stays linearizable is exactly the question.
--
-- lose-unsynced (LazyFS/Jepsen): every node's data directory sits on
-- bin/rapat-lazyfs, mounted before the nodes start (prepare) and unmounted
-- by the harness's teardown (C side: a mount never outlives the run). The
-- fault SIGKILLs disk_targets nodes, asks lazyfs what a crash would lose
-- (the report goes in the event's value), drops every write they did not
-- fsync and restarts them: a machine crash, for any implementation. A
-- plain kill fault on such a node loses nothing (the page cache survives a
-- process crash).
local DISK_MODES = { truncate = true, bitflip = true, ["lose-unsynced"] = true }
M.DISK_MODES = DISK_MODES
local register_disk = (hx.disk and hx.disk.available) and M.register or function() end
register_disk("disk", function(env)
  local modes = split_list(env.opts.disk_faults)
  local lazy = false
  for _, m in ipairs(modes) do
    if not DISK_MODES[m] then
      error(string.format("unknown disk fault '%s' (truncate, bitflip, lose-unsynced)", m), 0)
    end
    if m == "lose-unsynced" then lazy = true end
  end
  if lazy and not hx.disk.lazyfs_available then
    error("disk fault 'lose-unsynced' needs rapat-lazyfs support, which this build lacks", 0)
  end
  local p = { kind = "disk", active = false, instant = true, ctl = {} }

  -- Mount lazyfs over every node's data directory before any node starts.
  -- Its control socket sits next to the data directory unless that path is
  -- too long for a unix socket (108 bytes); then in /tmp.
  if lazy then
    function p.prepare(e)
      for _, h in ipairs(e.nodes) do
        local dir = h.data_dir:match("^(.*)/[^/]+$") or "."
        local ctl = dir .. "/lazyfs.sock"
        if #ctl >= 100 then
          ctl = os.tmpname()
          os.remove(ctl)
          ctl = ctl .. ".lazyfs.sock"
        end
        local pid, err = hx.disk.lazyfs_start({ mountpoint = h.data_dir, ctl = ctl,
                                                log = dir .. "/lazyfs.log" })
        if not pid then
          error(string.format("disk_faults lose-unsynced: cannot mount rapat-lazyfs over %s: %s " ..
                              "(FUSE needs /dev/fuse, and root or a user namespace that may mount)",
                              h.data_dir, tostring(err)), 0)
        end
        p.ctl[h.id] = ctl
      end
    end
  end

  local function corrupt(e, node, t, mode)
    -- On lazyfs, first make the dead node's writes durable: corruption
    -- damages what is on disk, not what a later crash would drop anyway.
    if p.ctl[node.id] then
      local ok, err = hx.disk.lazyfs_sync(p.ctl[node.id])
      if not ok then return nil, "lazyfs sync: " .. tostring(err) end
    end
    local files, ferr = hx.disk.files(t.data_dir)
    local candidates = {}
    for _, f in ipairs(files or {}) do
      if f.size > 0 then candidates[#candidates + 1] = f end
    end
    table.sort(candidates, function(a, b) return a.path < b.path end)
    if #candidates == 0 then
      return nil, "no file to corrupt in " .. t.data_dir .. (ferr and (": " .. ferr) or "")
    end
    local f = candidates[e.rand(1, #candidates)]
    -- Drawn after the file when not drawn before (no lose-unsynced in
    -- disk_faults): the same seed corrupts the same bits as it always did.
    mode = mode or modes[e.rand(1, #modes)]
    if mode == "truncate" then
      return hx.disk.corrupt({ path = f.path, mode = "truncate", drop = e.rand(1, math.min(f.size, 4096)) })
    end
    return hx.disk.corrupt({ path = f.path, mode = "bitflip", count = e.rand(1, 8),
                             start = math.max(0, f.size - 65536), seed = e.rand(1, 2 ^ 31) })
  end

  -- What a crash loses: the report first (per file, before it is gone),
  -- then the crash itself, whose figures are the authoritative ones.
  local function lose_unsynced(node)
    local ctl = p.ctl[node.id]
    local report, rerr = hx.disk.lazyfs_report(ctl)
    local lost, cerr = hx.disk.lazyfs_crash(ctl)
    if not lost then return nil, "lazyfs crash: " .. tostring(cerr) end
    return { files = lost.files, bytes = lost.bytes, report = report,
             report_error = report == nil and tostring(rerr) or nil }
  end

  local function stop(node)
    if node.state == "down" then return true end
    if node.state == "paused" then node:resume() end
    local ok, err = node:kill()
    if not ok then return nil, node.id .. ": kill: " .. tostring(err) end
    return true
  end

  -- lose-unsynced hits disk_targets at once (all of them dead before any
  -- restarts: a majority crashing together is what can lose acknowledged
  -- writes); corruption damages one node.
  local function inject_lose_unsynced(e)
    local targets = pick_targets(e, e.opts.disk_targets)
    table.sort(targets, function(a, b) return a.id < b.id end)
    local value, errs = { mode = "lose-unsynced", nodes = {}, lost = {} }, {}
    for _, node in ipairs(targets) do
      local ok, err = stop(node)
      if not ok then errs[#errs + 1] = err end
    end
    for _, node in ipairs(targets) do
      if node.state == "down" then
        local lost, err = lose_unsynced(node)
        if lost then
          value.nodes[#value.nodes + 1] = node.id
          value.lost[node.id] = lost
        else
          errs[#errs + 1] = node.id .. ": " .. tostring(err)
        end
      end
    end
    for _, node in ipairs(targets) do
      if node.state == "down" then -- not one whose kill failed
        local ok, serr = e.start_node(node)
        if not ok then hx.say("disk: restart of " .. node.id .. " failed: " .. tostring(serr)) end
      end
    end
    if #value.nodes == 0 then return nil, table.concat(errs, "; ") end
    if #errs > 0 then value.errors = errs end
    return value
  end

  function p.inject(e)
    local mode = lazy and modes[e.rand(1, #modes)] or nil
    if mode == "lose-unsynced" then return inject_lose_unsynced(e) end
    local node = pick_targets(e, "one")[1]
    local ok, kerr = stop(node)
    if not ok then return nil, kerr end
    local report, err = corrupt(e, node, e.node_table(node), mode)
    -- Restart whatever happened: the node must come back (or crash visibly).
    local sok, serr = e.start_node(node)
    if not sok then hx.say("disk: restart of " .. node.id .. " failed: " .. tostring(serr)) end
    if not report then return nil, node.id .. ": " .. tostring(err) end
    return { node = node.id, corruption = report }
  end
  function p.heal(e) return nil, "disk faults cannot be healed" end
  function p.final(e) return nil end
  return p
end)

-- Membership: remove a member from the cluster (through the adapter's
-- remove_member, asked of another running member), kill it and set its data
-- directory aside (data.removed-N: kept as evidence); heal = start it empty
-- with joining = true (the adapter's start gives it --join), wait until it
-- answers, and add it back (add_member). Needs an adapter with
-- add_member/remove_member (raftnode has them).
M.requirements.member = function(adapter)
  if type(adapter.add_member) ~= "function" or type(adapter.remove_member) ~= "function" then
    return "nemesis kind 'member' needs an adapter with add_member and remove_member"
  end
end
M.register("member", function(env)
  local missing = M.requirements.member(env.adapter)
  if missing then error(missing, 0) end
  local p = { kind = "member", active = false, removed = nil, count = 0 }
  local function helper(e, except)
    -- Prefer the leader (no forwarding), else any running member.
    local lid = e.find_leader and e.find_leader()
    for _, h in ipairs(e.nodes) do
      if h.id == lid and h.id ~= except.id and h.state == "running" then return h end
    end
    for _, h in ipairs(shuffled(e.nodes, e.rand)) do
      if h.id ~= except.id and h.state == "running" then return h end
    end
    return nil
  end
  -- Retries a membership call: 409 means another change is in flight.
  local function retry(fn, tries)
    local ok, err
    for _ = 1, tries do
      ok, err = fn()
      if ok then return true end
      if not hx.sleep(0.5) and hx.stopping() then break end
    end
    return nil, err
  end
  function p.inject(e)
    local target = pick_targets({ nodes = e.nodes, rand = e.rand }, "one")[1]
    local ok, err = retry(function()
      local h = helper(e, target)
      if not h then return nil, "no running member to ask" end
      return e.adapter.remove_member(e.node_table(h), e.http, target.id)
    end, 10)
    if not ok then return nil, "remove " .. target.id .. ": " .. tostring(err) end
    if target.state ~= "down" then target:kill() end
    p.count = p.count + 1
    local t = e.node_table(target)
    local aside = t.data_dir .. ".removed-" .. p.count
    local rok, rerr = os.rename(t.data_dir, aside)
    if not rok then hx.say("member: could not set " .. t.data_dir .. " aside: " .. tostring(rerr)) end
    t.joining = true
    p.active, p.removed = true, target
    return { removed = target.id, data = aside }
  end
  function p.heal(e)
    local target = p.removed
    if not target then return nil, "nothing removed" end
    local t = e.node_table(target)
    if target.state == "down" then
      local ok, err = e.start_node(target)
      if not ok then return nil, "start " .. target.id .. ": " .. tostring(err) end
    end
    local deadline = hx.now() + e.opts.start_timeout
    while not e.node_ready(target) do
      if hx.now() > deadline or target.state == "down" then return nil, target.id .. " did not come up to join" end
      hx.sleep(0.2, true)
    end
    local ok, err = retry(function()
      local h = helper(e, target)
      if not h then return nil, "no running member to ask" end
      return e.adapter.add_member(e.node_table(h), e.http, t)
    end, 10)
    if not ok then return nil, "add " .. target.id .. ": " .. tostring(err) end
    t.joining = nil
    p.active, p.removed = false, nil
    return { added = target.id }
  end
  function p.final(e)
    if not p.active then return nil end
    local v, err = p.heal(e)
    if not v then hx.say("final heal (member): " .. tostring(err)) end
    return v
  end
  return p
end)

-- ---------------------------------------------------------------- schedule

-- Builds the packages for a comma list of kinds ("" or "none": no faults).
function M.build(kinds, env)
  local pkgs = {}
  for _, k in ipairs(split_list(kinds)) do
    if k ~= "none" then
      local ctor = constructors[k]
      if not ctor then error("nemesis kind '" .. k .. "' is not available in this build", 0) end
      pkgs[#pkgs + 1] = ctor(env)
    end
  end
  return pkgs
end

-- How the main phase schedules faults (plan option nemesis_schedule).
M.SCHEDULES = { cycle = true, hold = true }

-- The "hold" schedule: every package's fault put in force at once, at the
-- start of the main phase, and never healed before the final heal. For
-- runs that must see a fault the whole time (vacuity checks), not for
-- finding bugs: nothing is ever healed and recovered from mid-run.
function M.hold(pkgs)
  local starts = {}
  for i, p in ipairs(pkgs) do starts[i] = { f = p.kind .. "-start", package = p } end
  return gen.seq(starts)
end

-- The main-phase schedule ("cycle"): wait interval, inject a fault of the next package
-- (in a seeded random order), wait interval, stop it; repeat. One fault at a time keeps every interval
-- attributable to one cause.
function M.schedule(pkgs, interval)
  if #pkgs == 0 then return gen.seq({}) end
  local state, current, bag = "wait", nil, {}
  return gen.fn(function(ctx)
    if state == "wait" then
      state = "start"
      return { type = "sleep", value = interval }
    elseif state == "start" then
      -- Draw kinds from a shuffled bag: random order, yet every kind gets
      -- its turn each round (a short run still exercises all of them).
      if #bag == 0 then bag = shuffled(pkgs, ctx.rand) end
      current = table.remove(bag)
      state = "wait2"
      return { f = current.kind .. "-start", package = current }
    elseif state == "wait2" then
      state = "stop"
      return { type = "sleep", value = interval }
    else
      state = "wait"
      local p = current
      current = nil
      return { f = p.kind .. "-end", package = p }
    end
  end)
end

return M
