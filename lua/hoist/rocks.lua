-- hoist.rocks: LuaRocks trees on package.path and package.cpath, so that a team's steps shared
-- as rocks are found by require. A tree is what `luarocks --tree DIR/.hoist/rocks --lua-version
-- 5.4 install|make ...` writes: Lua modules under share/lua/5.4/, C modules under lib/lua/5.4/
-- (luarocks path conventions). hoist adds DIR/.hoist/rocks for the extension folder it loads
-- (hoist.extension); ./.hoist/rocks is on the paths of every run (host/lua/runtime.c), after the
-- .hoist/ folder itself.
local rocks = {}

rocks.LUA_VERSION = "5.4"

--[[
The templates a tree adds: rocks.templates(tree) -> path, cpath (';'-separated, as package.path
holds them): TREE/share/lua/5.4/?.lua;TREE/share/lua/5.4/?/init.lua and TREE/lib/lua/5.4/?.so.
]]
function rocks.templates(tree)
  if type(tree) ~= "string" or tree == "" then error("rocks.templates: a folder expected", 2) end
  local v = rocks.LUA_VERSION
  return string.format("%s/share/lua/%s/?.lua;%s/share/lua/%s/?/init.lua", tree, v, tree, v),
         string.format("%s/lib/lua/%s/?.so", tree, v)
end

-- Whether s (a ';'-separated list) already holds the template t.
local function holds(s, t) return (";" .. s .. ";"):find(";" .. t .. ";", 1, true) ~= nil end

--[[
Puts the tree DIR/.hoist/rocks on package.path and package.cpath when it exists (once; before
hoist's own lua/ folder, after what is there already: HOIST_PATH and .hoist/ keep precedence).
Returns true when the tree was added (or was there), false when DIR has none.
]]
function rocks.activate(dir)
  local tree = (dir or ".") .. "/.hoist/rocks"
  local fs = require("hoist.fs")
  if not fs.exists(tree .. "/share") and not fs.exists(tree .. "/lib") then return false end
  local path, cpath = rocks.templates(tree)
  for t in path:gmatch("[^;]+") do
    if not holds(package.path, t) then
      -- after HOIST_PATH and ./.hoist/, before hoist's own modules: a team rock cannot shadow hoist.*
      local own = package.path:find(";[^;]*/lua/%?%.lua")
      if own then package.path = package.path:sub(1, own) .. t .. package.path:sub(own)
      else package.path = package.path .. ";" .. t end
    end
  end
  if not holds(package.cpath, cpath) then package.cpath = cpath .. ";" .. package.cpath end
  return true
end

return rocks
