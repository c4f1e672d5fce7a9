-- workloads/bank.lua — the bank workload: transfers between accounts kept in one JSON object, by CAS of the whole object; reads must keep the total.
--
-- Storage: one register (option key, default "bank") holding an object
-- {name = balance}, created by setup with `accounts` accounts a1..aN of
-- `balance` each. A transfer reads the object, refuses (fail) when the
-- source cannot pay, and otherwise CASes the whole object to the one with
-- the amount moved (workloads/lib/casloop.lua: ok once a CAS succeeded, info
-- as soon as one may have applied). A CAS that matches an equal object
-- written by other transfers in between is still a correct transfer: the new
-- object is computed from exactly the balances it replaces.
--
-- History:
--   init        value = the opening object (recorded by setup when the
--               harness records setup operations; the checker also takes
--               the total from the options)
--   transfer    value = {from = name, to = name, amount = n}
--   read        ok value = the accounts object
--   final-read  the same, after every fault was healed
-- Checker: workloads/checkers/bank.lua (same total in every read, no
-- negative balance, exactly the accounts created).

local casloop = require("workloads.lib.casloop")
local json = require("workloads.lib.json")
local checker = require("workloads.checkers.bank")
local opts_lib = require("workloads.lib.options")
local glue = require("workloads.lib.glue")

local NAME = "workloads/bank.lua"

local M = { name = "bank" }

-- Options, with their defaults (the plan loader learns the workload's keys
-- from this table; --set values arrive typed by the default's type).
M.options = {
  key = "bank",        -- the register holding the accounts object
  accounts = 5,        -- number of accounts, named a1..aN
  balance = 100,       -- opening balance of each
  max_transfer = 20,   -- transfers move 1..max_transfer
  read_ratio = 0.3,    -- share of reads among the main phase's operations
  retries = 20,        -- CAS attempts per transfer before it fails as contention
}

M.option_docs = {
  key = "the register holding the accounts object",
  accounts = "number of accounts (≥ 2), named a1..aN",
  balance = "opening balance of each account (≥ 0)",
  max_transfer = "largest amount moved by one transfer (≥ 1)",
  read_ratio = "share of reads among the main phase's operations (0..1)",
  retries = "CAS attempts per transfer before it fails with 'gave up'",
}

-- Validates and completes options; raises naming the option.
function M.configure(given)
  local o = opts_lib.merge(NAME, M.options, given)
  opts_lib.word(NAME, o, "key")
  opts_lib.int(NAME, o, "accounts", 2)
  opts_lib.int(NAME, o, "balance", 0)
  opts_lib.int(NAME, o, "max_transfer", 1)
  opts_lib.ratio(NAME, o, "read_ratio")
  opts_lib.int(NAME, o, "retries", 1)
  return o
end

function M.account_names(o)
  local names = {}
  for i = 1, o.accounts do names[i] = "a" .. i end
  return names
end

function M.opening(o)
  local obj = {}
  for _, n in ipairs(M.account_names(o)) do obj[n] = o.balance end
  return obj
end

-- The value the recorded `init` op carries: the opening accounts.
function M.init_value(o) return M.opening(o) end

-- pace: how setup waits and when it gives up (workloads/lib/casloop.lua, init).
function M.setup(call, o, pace)
  local c = casloop.init(call, o.key, M.opening(o), pace)
  if c.type ~= "ok" then
    return nil, string.format("%s: setup: creating %s: %s %s", NAME, o.key, c.type, tostring(c.error))
  end
  return true
end

-- The main phase's operations: next_op_fn(o, rand)() -> op. One stream
-- serves every client thread.
function M.next_op_fn(o, rand)
  rand = rand or math.random
  local function pick() return "a" .. (math.floor(rand() * o.accounts) + 1) end
  return function()
    if rand() < o.read_ratio then return { f = "read", value = json.null } end
    local from, to = pick(), pick()
    while to == from do to = pick() end
    return { f = "transfer", value = { from = from, to = to, amount = math.floor(rand() * o.max_transfer) + 1 } }
  end
end

function M.final_op() return { f = "final-read", value = json.null } end

function M.invoke(call, op, o)
  if op.f == "init" then return glue.init(M, call, o) end
  if op.f == "transfer" then
    local t = op.value
    local r = casloop.update(call, o.key, function(cur)
      if type(cur) ~= "table" then return nil, "the accounts object is " .. json.encode(cur) end
      local from, to = cur[t.from], cur[t.to]
      if math.type(from) ~= "integer" or math.type(to) ~= "integer" then
        return nil, string.format("account %s or %s is missing", t.from, t.to)
      end
      if from < t.amount then return nil, "insufficient funds" end
      local new = {}
      for k, v in pairs(cur) do new[k] = v end
      new[t.from] = from - t.amount
      new[t.to] = to + t.amount
      return new
    end, o.retries)
    return { type = r.type, value = t, error = r.error }
  elseif op.f == "read" or op.f == "final-read" then
    local v, c = casloop.read(call, o.key)
    if v == nil then return { type = "fail", error = c.error } end
    return { type = "ok", value = v }
  end
  error(string.format("%s: invoke: unknown f %q", NAME, tostring(op.f)), 2)
end

function M.check_history(history, o)
  o = o or M.configure({})
  return checker.check(history, { total = o.accounts * o.balance, accounts = M.account_names(o) })
end

M.guards = { require_f = { "transfer" }, final_reads = true }

-- The harness's entry points (workloads/lib/glue.lua).
glue.declare_guard_options(M.options)
M.generator = glue.generator(M)
M.final_generator = glue.final_generator(M)
M.check = glue.check(M)

return M
