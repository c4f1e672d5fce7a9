-- tests/integration/report_markup_check.lua — sanity checks of generated markup: balanced tags (HTML or XML), no external resources, the report's embedded data parses.
-- usage: lua5.4 report_markup_check.lua html|xml FILE
local mode, path = arg[1], arg[2]
local f = assert(io.open(path, "rb"))
local s = f:read("a")
f:close()
local fails = 0
local function fail(msg) io.stderr:write(path .. ": " .. msg .. "\n"); fails = fails + 1 end

local VOID = { area = 1, base = 1, br = 1, col = 1, embed = 1, hr = 1, img = 1, input = 1, link = 1,
               meta = 1, source = 1, track = 1, wbr = 1 }
-- Optional end tags in HTML that we never omit anyway; still, only these may be implied.
local text = s
local raw = {}
if mode == "html" then
  if not s:match("^<!DOCTYPE html>") then fail("no <!DOCTYPE html> at the start") end
  -- script and style bodies are raw text: take them out (and keep them for checks)
  text = s:gsub("(<script[^>]*>)(.-)(</script>)", function(a, body, c) raw[#raw + 1] = { a, body }; return a .. c end)
  text = text:gsub("(<style[^>]*>)(.-)(</style>)", function(a, body, c) raw[#raw + 1] = { a, body }; return a .. c end)
else
  if not s:match("^<%?xml version=\"1.0\" encoding=\"UTF%-8\"%?>") then fail("no XML declaration") end
  text = s:gsub("^<%?xml[^>]*%?>", "")
end
text = text:gsub("<!%-%-.-%-%->", ""):gsub("<!DOCTYPE[^>]*>", "")

local stack, pos = {}, 1
while true do
  local a, b, close, name, attrs, selfclose = text:find("<(/?)([%w:_-]+)([^<>]*)(/?)>", pos)
  if not a then break end
  -- a stray '<' between pos and a?
  local between = text:sub(pos, a - 1)
  if between:find("<") then fail("stray '<' near: " .. between:sub(between:find("<"), between:find("<") + 40)) end
  name = mode == "html" and name:lower() or name
  if attrs:sub(-1) == "/" then selfclose = "/"; attrs = attrs:sub(1, -2) end
  -- attribute syntax: name="value" pairs only (values without raw '<' or '"')
  local rest = attrs:gsub('%s+[%w:_-]+="[^"<]*"', ""):gsub("%s+", "")
  if rest ~= "" and rest ~= "/" then fail("odd attributes in <" .. name .. attrs .. ">") end
  if mode == "xml" and attrs:find("&[^#%w]") then fail("unescaped & in attributes of <" .. name .. ">") end
  if close == "/" then
    local top = table.remove(stack)
    if top ~= name then fail(string.format("</%s> closes <%s> at byte %d", name, tostring(top), a)); break end
  elseif selfclose == "/" or (mode == "html" and VOID[name]) then
    -- nothing to close
  else
    stack[#stack + 1] = name
  end
  pos = b + 1
end
if #stack > 0 then fail("unclosed: " .. table.concat(stack, " > ")) end

if mode == "html" then
  -- self-contained: nothing fetched from elsewhere
  -- (URLs in text, e.g. a node's command line in harness.log, are fine)
  for _, pat in ipairs({ 'href%s*=%s*"%a[%w+.-]*:', "src%s*=", "<link", "<iframe", "<object", "@import",
                         "url%(", "fetch%(", "XMLHttpRequest", "WebSocket", "<base" }) do
    local at = text:find(pat)
    for _, r in ipairs(raw) do at = at or r[2]:find(pat) end
    if at then fail("external reference '" .. pat .. "'") end
  end
  -- the embedded data decodes and its columns agree
  local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
  local json = dofile(here .. "/../../workloads/lib/json.lua")
  local data, ops
  for _, r in ipairs(raw) do
    if r[1]:find('id="rapat%-data"') then data = json.decode(r[2]) end
    if r[1]:find('id="rapat%-ops"') then ops = json.decode(r[2]) end
  end
  if (not data or not ops) and os.getenv("REPORT_CHECK_NO_DATA") then
    -- pages without plots (the campaign's index) have no embedded data
  elseif not data or not ops then fail("embedded data missing")
  else
    local n = #ops.s
    for _, k in ipairs({ "lane", "e", "t", "f", "p", "i", "n", "v" }) do
      if #ops[k] ~= n then fail("ops." .. k .. " has " .. #ops[k] .. " entries, ops.s " .. n) end
    end
    if #ops.k ~= 0 and #ops.k ~= n then fail("ops.k has " .. #ops.k .. " entries, ops.s " .. n) end
    print(string.format("%s: %d ops, %d lanes, %d fault windows", path, n, #data.lanes, #data.faults))
  end
end
os.exit(fails == 0 and 0 or 1)
