-- hoist.imagefs: a platform image's filesystem as a lookup, for the checks Docker only makes by
-- installing an extension: that a host binary is executable, that the backend's program exists
-- in the image (found through PATH, symlinks followed inside the image, base layers included).
--
-- A filesystem is a function lookup(path) -> entry | nil, with path normalised (no leading '/',
-- "" for the root) and entry = { type = "f" | "d" | "l" | "h" | "o", mode = bits, link = target }
-- ("h": a hard link, a regular file for these checks; "?": not known yet, as what a before_build
-- hook has still to produce in a dry run: accepted, never followed). imagefs.stack(top, ..., bottom) layers
-- several lookups: the first that knows a path wins (an extension's layers over its base's).
local imagefs = {}

imagefs.DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
local MAX_LINKS = 40

local function split(path)
  local parts = {}
  for p in path:gmatch("[^/]+") do if p ~= "." then parts[#parts + 1] = p end end
  return parts
end

function imagefs.stack(...)
  local lookups = { ... }
  return function(path)
    for _, l in ipairs(lookups) do
      local e = l(path)
      if e == false then return nil end  -- whited out above what lies below
      if e then return e end
    end
    if path == "" then return { type = "d", mode = tonumber("755", 8) } end
    return nil
  end
end

-- A lookup over a table of entries (path -> entry), e.g. base layers applied in order.
function imagefs.from_entries(entries)
  return function(path) return entries[path] end
end

--[[
Resolves path (absolute, in the image) through every symlink on the way, as the kernel would
inside the container. Returns the final path ("/..." ), its entry; or nil, reason.
]]
function imagefs.resolve(lookup, path)
  local pending = split(path)
  local done = {}
  local hops = 0
  while #pending > 0 do
    local comp = table.remove(pending, 1)
    if comp == ".." then
      done[#done] = nil
    else
      local cur = table.concat(done, "/") .. (#done > 0 and "/" or "") .. comp
      local e = lookup(cur)
      if e and e.type == "?" then
        -- not known yet (a dry run: before_build has still to produce it): nothing to follow
        return "/" .. cur .. (#pending > 0 and ("/" .. table.concat(pending, "/")) or ""), e
      end
      if not e then
        if hops == 0 then return nil, "'/" .. table.concat(split(path), "/") .. "' does not exist" end
        return nil, "'" .. path .. "' leads to '/" .. cur .. "', which does not exist"
      end
      if e.type == "l" then
        hops = hops + 1
        if hops > MAX_LINKS then return nil, "'/" .. cur .. "': too many levels of symbolic links" end
        local target = e.link or ""
        if target:sub(1, 1) == "/" then done = {} end
        local t = split(target)
        for k = #t, 1, -1 do table.insert(pending, 1, t[k]) end
      else
        if #pending > 0 and e.type ~= "d" then return nil, "'/" .. cur .. "' is not a folder" end
        done[#done + 1] = comp
      end
    end
  end
  local final = table.concat(done, "/")
  return "/" .. final, lookup(final)
end

local function is_file(e) return e and (e.type == "f" or e.type == "h") end

-- ok, or nil and why not: path resolves to a regular file with an execute bit.
function imagefs.executable(lookup, path)
  local final, e = imagefs.resolve(lookup, path)
  if not final then return nil, e end
  if e and e.type == "?" then return final end  -- unknown: not a failure
  if not is_file(e) then return nil, "'" .. final .. "' is not a file" end
  if (e.mode or 0) & tonumber("111", 8) == 0 then
    return nil, string.format("'%s' is not executable (mode %04o)", final, e.mode or 0)
  end
  return final
end

--[[
Where a command's program is: argv0 with a '/' is a path (relative to workdir), else it is looked
for in PATH (from env, the config's "NAME=value" list; Docker's default PATH when unset), as the
runtime's exec does. Returns the program's path, or nil and why.
]]
function imagefs.find_program(lookup, argv0, env, workdir)
  if type(argv0) ~= "string" or argv0 == "" then return nil, "the command is empty" end
  if argv0:find("/", 1, true) then
    local p = argv0:sub(1, 1) == "/" and argv0 or ((workdir or "/") .. "/" .. argv0)
    local ok, why = imagefs.executable(lookup, p)
    if not ok then return nil, why end
    return ok
  end
  local path = imagefs.DEFAULT_PATH
  for _, e in ipairs(env or {}) do
    local v = type(e) == "string" and e:match("^PATH=(.*)$")
    if v then path = v end
  end
  local seen_not_exec
  for dir in path:gmatch("[^:]+") do
    local ok, why = imagefs.executable(lookup, dir .. "/" .. argv0)
    if ok then return ok end
    if why and not why:find("does not exist", 1, true) then seen_not_exec = seen_not_exec or why end
  end
  return nil, seen_not_exec or string.format("'%s' is not in the image's PATH (%s)", argv0, path)
end

--[[
Splits a compose `command:` / `entrypoint:` string the way compose does (shell-like words,
quotes and backslashes, no variables or globbing: it does not run a shell). nil on an unclosed
quote.
]]
function imagefs.shell_words(s)
  local words, cur, quote, i, have = {}, {}, nil, 1, false
  while i <= #s do
    local c = s:sub(i, i)
    if quote == "'" then
      if c == "'" then quote = nil else cur[#cur + 1] = c end
    elseif quote == '"' then
      if c == '"' then quote = nil
      elseif c == "\\" and i < #s and ('"\\$`'):find(s:sub(i + 1, i + 1), 1, true) then
        i = i + 1; cur[#cur + 1] = s:sub(i, i)
      else cur[#cur + 1] = c end
    elseif c == "'" or c == '"' then quote = c; have = true
    elseif c == "\\" and i < #s then i = i + 1; cur[#cur + 1] = s:sub(i, i); have = true
    elseif c:match("%s") then
      if #cur > 0 or have then words[#words + 1] = table.concat(cur); cur = {}; have = false end
    else cur[#cur + 1] = c end
    i = i + 1
  end
  if quote then return nil end
  if #cur > 0 or have then words[#words + 1] = table.concat(cur) end
  return words
end

local function normalize(path)
  return table.concat(split(path), "/")
end

--[[
One layer's entries (what core.scan_layer gives with details: name -> { type, mode, link }) as
the index a layered lookup reads: entries by normalised path, the folders its paths imply, its
whiteouts (`.wh.NAME` hides NAME below) and opaque folders (`.wh..wh..opq` hides all below).
]]
function imagefs.layer_index(info)
  local idx = { entries = {}, dirs = {}, whiteouts = {}, opaque = {} }
  for name, e in pairs(info) do
    local p = normalize(name)
    local dir, leaf = p:match("^(.-)/?([^/]*)$")
    if leaf == ".wh..wh..opq" then
      idx.opaque[dir] = true
    elseif leaf:sub(1, 4) == ".wh." then
      idx.whiteouts[(dir ~= "" and dir .. "/" or "") .. leaf:sub(5)] = true
    elseif p ~= "" then
      idx.entries[p] = e
    end
    -- every folder on the way exists in this layer, written or not
    local at = 1
    while true do
      local slash = p:find("/", at, true)
      if not slash then break end
      idx.dirs[p:sub(1, slash - 1)] = true
      at = slash + 1
    end
  end
  return idx
end

--[[
A lookup over an image's layers, read top-down and only as far as a question needs: n layers
(1 at the bottom), load(i, path) -> layer_index or nil, err, called once per layer at most
(path: the lookup that first needed layer i). The
topmost layer that holds a path decides it; a whiteout of it or of a folder above it, an opaque
folder above it, or a non-folder in place of a folder above it hides what lower layers hold.
Returns lookup(path) -> entry | nil (and the layer it came from), and failure() -> the first
load error, or nil (a lookup that could not load a layer answers nil: check failure()).
]]
function imagefs.layered(n, load)
  local loaded, failed = {}, nil
  local function layer(i, path)
    if loaded[i] == nil then
      local idx, err = load(i, path)
      if not idx then failed = failed or err; idx = false end
      loaded[i] = idx
    end
    return loaded[i] or nil
  end
  local function lookup(path)
    path = normalize(path)
    if path == "" then return { type = "d", mode = tonumber("755", 8) } end
    local parents = {}
    local at = 1
    while true do
      local slash = path:find("/", at, true)
      if not slash then break end
      parents[#parents + 1] = path:sub(1, slash - 1)
      at = slash + 1
    end
    for i = n, 1, -1 do
      local l = layer(i, path)
      if not l then return nil end
      local e = l.entries[path]
      if e then return e, i end
      if l.dirs[path] then return { type = "d", mode = tonumber("755", 8) }, i end
      if l.whiteouts[path] or l.opaque[""] then return nil end
      for _, q in ipairs(parents) do
        local qe = l.entries[q]
        if l.whiteouts[q] or l.opaque[q] or (qe and qe.type ~= "d") then return nil end
      end
    end
    return nil
  end
  return lookup, function() return failed end
end

return imagefs
