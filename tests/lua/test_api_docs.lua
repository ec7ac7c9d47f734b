-- The README's Lua API reference and the code must not drift: every function a hoist module
-- exports (and every method of the objects they return) is named in README.md.
local t = require("testlib")
local fs = require("hoist.fs")

local readme = assert(fs.read("../../README.md"))

-- Modules and the short name the README uses for them (`semver.valid`, `oci.layout`, ...).
local MODULES = {
  { "hoist.semver", "semver" }, { "hoist.json", "json" }, { "hoist.fs", "fs" },
  { "hoist.oci", "oci" }, { "hoist.registry", "registry" }, { "hoist.label", "label" },
  { "hoist.cli", "cli" }, { "hoist.log", "log" }, { "hoist.extension", "extension" },
  { "hoist.release", "release" }, { "hoist.validate", "validate" }, { "hoist.ref", "ref" },
  { "hoist.endpoint", "endpoint" }, { "hoist.copy", "copy" },
}
for _, extra in ipairs({ { "hoist.exec", "exec" }, { "hoist.auth", "auth" }, { "hoist.sign", "sign" },
                         { "hoist.attest", "attest" } }) do
  if package.preload[extra[1]] or package.searchpath(extra[1], package.path) then MODULES[#MODULES + 1] = extra end
end

local function documented(short, name)
  return readme:find(short .. "." .. name, 1, true) ~= nil or readme:find(short .. ":" .. name, 1, true) ~= nil
end

t.test("every exported function is in the README", function()
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

-- Objects the modules hand out, and the name the README gives them (`c:tags`, `store:tag`, ...).
t.test("every method of the objects the modules return is in the README", function()
  local fs_ = require("hoist.fs")
  local dir = assert(fs_.tmpdir("hoist-api-docs"))
  local objects = {
    { "store", require("hoist.oci").layout(dir .. "/layout") },
    { "c", assert(require("hoist.registry").connect("127.0.0.1:1")) },  -- connecting sends nothing
    { "ep", assert(require("hoist.endpoint").open("oci:" .. dir .. "/ep", { create = true })) },
    { "p", require("hoist.log").progress("x", 1) },
  }
  local missing = {}
  for _, o in ipairs(objects) do
    local mt = getmetatable(o[2])
    local methods = type(mt.__index) == "table" and mt.__index or mt
    for name, v in pairs(methods) do
      if type(v) == "function" and name:sub(1, 2) ~= "__" and
          not readme:find(o[1] .. ":" .. name, 1, true) then
        missing[#missing + 1] = o[1] .. ":" .. name
      end
    end
  end
  fs_.remove(dir)
  table.sort(missing)
  t.eq(table.concat(missing, ", "), "", "undocumented methods")
end)

t.test("the README names no function that does not exist", function()
  local stale = {}
  for _, m in ipairs(MODULES) do
    local mod = require(m[1])
    for name in readme:gmatch("`" .. m[2]:gsub("%p", "%%%0") .. "%.([%a_][%w_]*)%(") do
      if mod[name] == nil then stale[#stale + 1] = m[2] .. "." .. name end
    end
  end
  table.sort(stale)
  t.eq(table.concat(stale, ", "), "", "documented but missing")
end)

t.done()
