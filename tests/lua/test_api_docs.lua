-- The Lua API reference (docs/lua-api.md) and the code must not drift: every function a hoist
-- module exports (and every method of the objects they return) is named there, and every
-- `module.function(` it names exists.
local t = require("testlib")
local fs = require("hoist.fs")

local doc = assert(fs.read("../../docs/lua-api.md"))

-- Modules and the short name docs/lua-api.md uses for them (`semver.valid`, `oci.layout`, ...).
local MODULES = {
  { "hoist.semver", "semver" }, { "hoist.json", "json" }, { "hoist.fs", "fs" },
  { "hoist.oci", "oci" }, { "hoist.registry", "registry" }, { "hoist.label", "label" },
  { "hoist.cli", "cli" }, { "hoist.log", "log" }, { "hoist.extension", "extension" },
  { "hoist.release", "release" }, { "hoist.validate", "validate" }, { "hoist.ref", "ref" },
  { "hoist.endpoint", "endpoint" }, { "hoist.copy", "copy" }, { "hoist.publish", "publish" },
  { "hoist.keys", "keys" }, { "hoist.archive", "archive" },
}
for _, extra in ipairs({ { "hoist.exec", "exec" }, { "hoist.auth", "auth" }, { "hoist.sign", "sign" },
                         { "hoist.attest", "attest" }, { "hoist.dockerfile", "dockerfile" },
                         { "hoist.attach", "attach" }, { "hoist.summary", "summary" }, { "hoist.rocks", "rocks" } }) do
  if package.preload[extra[1]] or package.searchpath(extra[1], package.path) then MODULES[#MODULES + 1] = extra end
end

local function documented(short, name)
  return doc:find(short .. "." .. name, 1, true) ~= nil or doc:find(short .. ":" .. name, 1, true) ~= nil
end

t.test("every exported function is in docs/lua-api.md", function()
  local missing = {}
  for _, m in ipairs(MODULES) do
    local mod = require(m[1])
    for name, v in pairs(mod) do
      if type(v) == "function" and name:sub(1, 1) ~= "_" and not documented(m[2], name) then
        missing[#missing + 1] = m[2] .. "." .. name
      end
    end
  end
  table.sort(missing)
  t.eq(table.concat(missing, ", "), "", "undocumented")
end)

-- Objects the modules hand out, and the name the reference gives them (`c:tags`, `store:tag`, ...).
t.test("every method of the objects the modules return is in docs/lua-api.md", function()
  local fs_ = require("hoist.fs")
  local dir = assert(fs_.tmpdir("hoist-api-docs"))
  local objects = {
    { "store", require("hoist.oci").layout(dir .. "/layout") },
    { "c", assert(require("hoist.registry").connect("127.0.0.1:1")) },  -- connecting sends nothing
    -- a push stream starts no thread and sends nothing before its first layer
    { "s", assert(assert(require("hoist.registry").connect("127.0.0.1:1")):push_stream("a/b")) },
    { "ep", assert(require("hoist.endpoint").open("oci:" .. dir .. "/ep", { create = true })) },
    { "p", require("hoist.log").progress("x", 1) },
  }
  local missing = {}
  for _, o in ipairs(objects) do
    local mt = getmetatable(o[2])
    local methods = type(mt.__index) == "table" and mt.__index or mt
    for name, v in pairs(methods) do
      if type(v) == "function" and name:sub(1, 2) ~= "__" and
          not doc:find(o[1] .. ":" .. name, 1, true) then
        missing[#missing + 1] = o[1] .. ":" .. name
      end
    end
  end
  fs_.remove(dir)
  table.sort(missing)
  t.eq(table.concat(missing, ", "), "", "undocumented methods")
end)

t.test("docs/lua-api.md names no function that does not exist", function()
  local stale = {}
  for _, m in ipairs(MODULES) do
    local mod = require(m[1])
    for name in doc:gmatch("`" .. m[2]:gsub("%p", "%%%0") .. "%.([%a_][%w_]*)%(") do
      if mod[name] == nil then stale[#stale + 1] = m[2] .. "." .. name end
    end
  end
  table.sort(stale)
  t.eq(table.concat(stale, ", "), "", "documented but missing")
end)

-- The examples that show a result (`EXPR --> RESULT`) are true: each EXPR is evaluated with the
-- modules under their short names and must equal RESULT (a Lua value). An example that uses a
-- script's own variables (`bytes`, `store`) cannot run alone: it is counted as skipped.
t.test("every `EXPR --> RESULT` example gives that result", function()
  local env = setmetatable({}, { __index = _G })
  for _, m in ipairs(MODULES) do env[m[2]] = require(m[1]) end
  env.core = require("hoist.oci.core")
  local function same(a, b)
    if type(a) ~= type(b) then return false end
    if type(a) ~= "table" then return a == b end
    for k, v in pairs(a) do if not same(v, b[k]) then return false end end
    for k in pairs(b) do if a[k] == nil then return false end end
    return true
  end
  local wrong, checked, skipped = {}, 0, 0
  for expr, want in doc:gmatch("`([^`]-) %-%-> ([^`]+)`") do
    local want_fn = assert(load("return " .. want, "=(result)", "t", env), "not a Lua value: " .. want)
    local expr_fn = assert(load("return " .. expr, "=(example)", "t", env), "not a Lua expression: " .. expr)
    local ok, got = pcall(expr_fn)
    if not ok and tostring(got):find("undeclared global", 1, true) then
      skipped = skipped + 1
    elseif not ok then
      wrong[#wrong + 1] = expr .. " raises " .. tostring(got)
    else
      checked = checked + 1
      local expected = want_fn()
      if not same(got, expected) then
        wrong[#wrong + 1] = expr .. " --> " .. (type(got) == "table" and require("hoist.json").encode(got) or tostring(got))
      end
    end
  end
  t.eq(table.concat(wrong, "; "), "", "examples that do not give what they show")
  t.ok(checked >= 30, "only " .. checked .. " examples checked (" .. skipped .. " skipped): the pattern finds nothing?")
end)

t.done()
