-- harness/lua/plan.lua — loads and validates a plan, its workload and its adapter before anything starts; every error names the file and line (exit 2).
--
-- A plan file returns a table of options. Core options (defaults below) plus
-- the options the workload module declares in its `options` table; any other
-- key is an error. Command-line overrides (--seed, --time-limit, --nodes,
-- --concurrency, --db, --set KEY=VALUE) are applied on top; --set values are
-- typed by the default value's type.

local nemesis = require("nemesis")

local M = {}

-- name -> {default, help}
M.CORE = {
  name             = { "",                 "run name (store/<name>/...); default: the plan file's base name" },
  db               = { "raftnode",         "adapter name (harness/adapters/<db>.lua) or path of an adapter file" },
  nodes            = { 5,                  "number of nodes" },
  workload         = { "register",         "workload module (workloads/<workload>.lua)" },
  concurrency      = { 10,                 "number of client threads" },
  rate             = { 100,                "client ops per second in total (0 = as fast as possible)" },
  time_limit       = { 60,                 "seconds of the main phase (workload + faults)" },
  seed             = { 0,                  "random seed (0 = derived from the clock; recorded)" },
  nemesis          = { "partition,kill,pause", "comma list of fault kinds, or none" },
  nemesis_interval = { 10,                 "seconds between fault start and stop" },
  nemesis_overlap  = { false,              "one schedule per fault kind, so faults of different kinds overlap" },
  nemesis_schedule = { "cycle",            "cycle (start/heal every nemesis_interval) or hold (every fault from t=0 until the final heal)" },
  partitions       = { "one,majority,bridge,ring,leader", "partition topologies to pick from" },
  partition_probe  = { false,              "measure each partition with UDP probes (blocks ~0.5 s)" },
  kill_targets     = { "one,minority",     "which nodes a kill hits (one, minority, majority, all)" },
  pause_targets    = { "one,minority",     "which nodes a pause hits" },
  clock_targets    = { "one,minority",     "whose clock a clock fault moves" },
  clock_faults     = { "bump,rate",        "clock faults to pick from: bump (step), rate (fast/slow)" },
  packet_targets   = { "one,minority",     "whose outgoing packets a packet fault shapes" },
  disk_targets     = { "one",              "which nodes a lose-unsynced disk fault crashes (one, minority, majority, all)" },
  disk_faults      = { "truncate,bitflip", "disk faults to pick from: truncate, bitflip (one node's file, while it is down), lose-unsynced (nodes on rapat-lazyfs; crash one, dropping what it did not fsync)" },
  packet_faults    = { "delay,loss,duplicate,reorder", "packet faults to pick from" },
  checkers         = { "linearizable",     "comma list of checkers (the workload runs them)" },
  tls              = { false,              "mutual TLS: the harness makes a CA and certificates (node.tls for the adapter)" },
  check_time_limit = { 120,                "seconds the checker may search before it says unknown" },
  op_timeout       = { 5,                  "seconds before a client request is abandoned (info)" },
  start_timeout    = { 30,                 "seconds the nodes get to become ready" },
  recovery_time    = { 5,                  "seconds between the final heal and the final phase" },
  final_time_limit = { 20,                 "seconds the final phase may take" },
}

local function fail(fmt, ...) error({ usage = string.format(fmt, ...) }, 0) end
M.fail = fail

local function read_file(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- The first line where `key =` appears as a table field, or nil.
local function line_of(source, key)
  if not source then return nil end
  local n = 0
  for line in (source .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    local code = line:gsub("%-%-.*$", "")
    if code:find("[%s{,]" .. key .. "%s*=") or code:find("^" .. key .. "%s*=")
       or code:find("%[%s*[\"']" .. key .. "[\"']%s*%]%s*=") then
      return n
    end
  end
  return nil
end
M.line_of = line_of

local function where(path, source, key)
  local l = line_of(source, key)
  return l and (path .. ":" .. l) or path
end

-- Loads a Lua file that must return a table. Syntax and runtime errors
-- already carry "file:line:".
local function load_table(path, what)
  local chunk, err = loadfile(path, "t")
  if not chunk then fail("%s", err) end
  local ok, t = pcall(chunk)
  if not ok then fail("%s", type(t) == "string" and t or (path .. ": error while loading the " .. what)) end
  if type(t) ~= "table" then fail("%s: the %s must return a table (it returned %s)", path, what, type(t)) end
  return t
end

local function file_exists(p)
  local f = io.open(p, "r")
  if f then f:close() return true end
  return false
end

local function basename(p) return (p:match("([^/]+)$") or p):gsub("%.lua$", "") end

-- Converts a --set string by the default's type.
local function typed(key, text, default)
  local t = type(default)
  if t == "number" then
    local v = tonumber(text)
    if not v then fail("--set %s=%s: '%s' is not a number", key, text, text) end
    if math.type(default) == "integer" and math.type(v) == "float" and v == math.floor(v) then
      v = math.tointeger(v)
    end
    return v
  elseif t == "boolean" then
    if text == "true" or text == "1" or text == "yes" then return true end
    if text == "false" or text == "0" or text == "no" then return false end
    fail("--set %s=%s: '%s' is not a boolean (true/false)", key, text, text)
  end
  return text
end

local function resolve_adapter(root, db)
  if db:find("/") or db:find("%.lua$") then return db end
  return root .. "/harness/adapters/" .. db .. ".lua"
end

-- args: { plan_path, root, overrides = {seed=, time_limit=, nodes=, concurrency=},
--         db = path|nil, sets = {"K=V", ...} }
function M.load(args)
  local path = args.plan_path
  if not file_exists(path) then fail("%s: no such plan file", path) end
  local source = read_file(path)
  local plan = load_table(path, "plan")

  -- The workload first: it declares the rest of the known keys.
  local wname = plan.workload
  for _, s in ipairs(args.sets or {}) do
    local k, v = s:match("^([^=]+)=(.*)$")
    if k == "workload" then wname = v end
  end
  if wname == nil then wname = M.CORE.workload[1] end
  if type(wname) ~= "string" or not wname:match("^[%w_%.%-]+$") then
    fail("%s: workload must be a module name such as \"register\"", where(path, source, "workload"))
  end
  local wpath = args.root .. "/workloads/" .. wname:gsub("%.", "/") .. ".lua"
  if not file_exists(wpath) then
    fail("%s: workload '%s' not found (%s)", where(path, source, "workload"), wname, wpath)
  end
  local workload = load_table(wpath, "workload module")
  if type(workload.generator) ~= "function" then
    fail("%s: the workload must define generator(opts, ctx)", wpath)
  end

  -- The adapter next: it may declare options too (adapter.options).
  local dbname = plan.db
  for _, s in ipairs(args.sets or {}) do
    local k, v = s:match("^([^=]+)=(.*)$")
    if k == "db" then dbname = v end
  end
  if args.db then dbname = args.db end
  if dbname == nil then dbname = M.CORE.db[1] end
  if type(dbname) ~= "string" or dbname == "" then
    fail("%s: db must be an adapter name or the path of an adapter file", where(path, source, "db"))
  end
  local apath = resolve_adapter(args.root, dbname)
  local aref = args.db and "--db" or where(path, source, "db")
  if not file_exists(apath) then fail("%s: adapter '%s' not found (%s)", aref, dbname, apath) end
  local adapter = load_table(apath, "adapter")
  if type(adapter.start) ~= "function" then fail("%s: the adapter must define start(node, cluster)", apath) end
  if type(adapter.client_url) ~= "function" and type(adapter.invoke) ~= "function" then
    fail("%s: the adapter must define client_url(node) (protocol v1) or invoke(node, http, op)", apath)
  end
  if type(adapter.client_url) ~= "function" and type(adapter.ready) ~= "function" then
    fail("%s: an adapter without client_url must define ready(node, http) (the harness cannot ask /v1/status)", apath)
  end
  if adapter.options ~= nil and type(adapter.options) ~= "table" then
    fail("%s: adapter.options must be a table of option = default", apath)
  end

  local known = {}
  for k, d in pairs(M.CORE) do known[k] = d[1] end
  if type(workload.options) ~= "table" and workload.options ~= nil then
    fail("%s: the workload's options must be a table of option = default", wpath)
  end
  for k, v in pairs(workload.options or {}) do
    if M.CORE[k] then fail("%s: workload option '%s' clashes with a core plan option", wpath, k) end
    known[k] = v
  end
  for k, v in pairs(adapter.options or {}) do
    if M.CORE[k] then fail("%s: adapter option '%s' clashes with a core plan option", apath, k) end
    if workload.options and workload.options[k] ~= nil then
      fail("%s: adapter option '%s' clashes with an option of %s", apath, k, wpath)
    end
    known[k] = v
  end

  local opts = {}
  for k, v in pairs(known) do opts[k] = v end
  for k, v in pairs(plan) do
    if type(k) ~= "string" then fail("%s: plan keys must be names (found a %s key)", path, type(k)) end
    local d = known[k]
    if d == nil then
      fail("%s: unknown plan key '%s'", where(path, source, k), k)
    end
    if type(v) ~= type(d) then
      fail("%s: plan key '%s' must be a %s (got %s)", where(path, source, k), k, type(d), type(v))
    end
    opts[k] = v
  end

  local ov = args.overrides or {}
  for _, k in ipairs({ "seed", "time_limit", "nodes", "concurrency" }) do
    if ov[k] ~= nil then opts[k] = ov[k] end
  end
  for _, s in ipairs(args.sets or {}) do
    local k, v = s:match("^([^=]+)=(.*)$")
    if not k then fail("--set %s: expected KEY=VALUE", s) end
    if known[k] == nil then fail("--set %s: unknown plan key '%s'", s, k) end
    opts[k] = typed(k, v, known[k])
  end
  if args.db then opts.db = args.db end

  -- Range checks (a typo here would otherwise show up much later).
  local function need(cond, key, msg)
    if not cond then
      local src = args.overrides and args.overrides[key] ~= nil and "command line" or where(path, source, key)
      fail("%s: %s %s", src, key, msg)
    end
  end
  need(math.type(opts.nodes) == "integer" and opts.nodes >= 1 and opts.nodes <= 64, "nodes", "must be an integer 1..64")
  need(math.type(opts.concurrency) == "integer" and opts.concurrency >= 1 and opts.concurrency <= 10000, "concurrency", "must be an integer 1..10000")
  need(opts.time_limit > 0, "time_limit", "must be positive")
  need(opts.rate >= 0, "rate", "must be >= 0")
  need(opts.nemesis_interval > 0, "nemesis_interval", "must be positive")
  need(opts.op_timeout > 0, "op_timeout", "must be positive")
  need(nemesis.SCHEDULES[opts.nemesis_schedule], "nemesis_schedule",
       "must be cycle or hold, not '" .. tostring(opts.nemesis_schedule) .. "'")
  for _, m in ipairs(nemesis.split_list(opts.disk_faults)) do
    need(nemesis.DISK_MODES[m], "disk_faults",
         "names an unknown disk fault '" .. m .. "' (truncate, bitflip, lose-unsynced)")
  end
  -- Topologies are checked here too, not only when the partition package
  -- is built mid-start: a typo is a usage error before any node runs.
  for _, t in ipairs(nemesis.split_list(opts.partitions)) do
    need(nemesis.topologies[t], "partitions",
         "names an unknown topology '" .. t .. "' (known: " .. nemesis.topology_names() .. ")")
  end
  need(math.type(opts.seed) == "integer" or opts.seed == math.floor(opts.seed), "seed", "must be an integer")
  for _, k in ipairs(nemesis.split_list(opts.nemesis)) do
    if k ~= "none" then
      if not nemesis.KINDS[k] then
        fail("%s: unknown nemesis kind '%s' (partition, kill, pause, clock, disk, packet, member)",
             where(path, source, "nemesis"), k)
      end
      if not nemesis.available(k) then
        fail("%s: nemesis kind '%s' is not available in this build", where(path, source, "nemesis"), k)
      end
      local need = nemesis.requirements[k] and nemesis.requirements[k](adapter)
      if need then fail("%s: %s (%s does not have them)", where(path, source, "nemesis"), need, apath) end
    end
  end
  -- The member fault sets a removed node's data directory aside by renaming
  -- it, which a rapat-lazyfs mount point cannot be: refuse the mix here,
  -- before any node runs, rather than fail mid-run.
  local kinds = {}
  for _, k in ipairs(nemesis.split_list(opts.nemesis)) do kinds[k] = true end
  if kinds.member and kinds.disk then
    for _, m in ipairs(nemesis.split_list(opts.disk_faults)) do
      if m == "lose-unsynced" then
        fail("%s: nemesis kinds 'member' and 'disk' with disk_faults lose-unsynced cannot be combined "
             .. "(member renames a data directory that is a lazyfs mount point)",
             where(path, source, "nemesis"))
      end
    end
  end
  if opts.name == "" then opts.name = basename(path) end

  return { name = opts.name, options = opts, adapter = adapter, adapter_path = apath,
           workload = workload, workload_path = wpath, path = path, source = source }
end

-- The plan as run: the effective options as a comment block, then the file.
function M.annotated_source(loaded, argv)
  local keys = {}
  for k in pairs(loaded.options) do keys[#keys + 1] = k end
  table.sort(keys)
  local out = { "-- rapat: this plan as run", "-- command: " .. argv, "-- effective options:" }
  for _, k in ipairs(keys) do
    local v = loaded.options[k]
    out[#out + 1] = string.format("--   %s = %s", k, type(v) == "string" and string.format("%q", v) or tostring(v))
  end
  out[#out + 1] = "-- adapter: " .. loaded.adapter_path
  out[#out + 1] = "-- workload: " .. loaded.workload_path
  out[#out + 1] = ""
  out[#out + 1] = loaded.source
  return table.concat(out, "\n")
end

return M
