-- hoist.extension: loads an extension description (DIR/extension.lua), expands it per platform,
-- and checks everything a release needs before anything is built: the description, the labels,
-- metadata.json, and that every file metadata.json names exists in every platform's image.
local fs = require("hoist.fs")
local text = require("hoist.text")
local json = require("hoist.json")
local keys = require("hoist.keys")
local label = require("hoist.label")
local oci = require("hoist.oci")
local semver = require("hoist.semver")

local extension = {}

extension.REQUIRED_PLATFORMS = { "linux/amd64", "linux/arm64" }
-- metadata.json is read whole, here and by validate (from a layer): no larger than this
extension.METADATA_MAX = 1024 * 1024
extension.METADATA_KEYS = { icon = true, ui = true, vm = true, host = true }
extension.HOST_OSES = { "darwin", "windows", "linux" }

-- Every key extension.lua may use, level by level: anything else is a problem naming it.
extension.TOP_KEYS = { "name", "platforms", "base", "labels", "layers", "config", "hooks", "compression",
                       "sdk", "marketplace" }
extension.HOOK_NAMES = { "before_build", "after_build", "before_publish", "after_publish" }
extension.ENTRY_KEYS = { "from", "to", "mode", "owner", "exclude" }
extension.CONFIG_KEYS = { "env", "cmd", "entrypoint", "workdir", "user", "exposed_ports", "volumes",
                          "stop_signal", "healthcheck", "labels" }
extension.HEALTHCHECK_KEYS = { "test", "interval", "timeout", "start_period", "start_interval", "retries" }
extension.COMPRESSIONS = { gzip = true, zstd = true, none = true }

local function join(dir, rel)
  if rel:sub(1, 1) == "/" then return rel end
  if dir == "." then return rel end
  return dir .. "/" .. rel
end

-- Image paths compare without leading '/', "." or empty components.
local function normalize(path)
  local parts = {}
  for part in path:gmatch("[^/]+") do
    if part ~= "." then parts[#parts + 1] = part end
  end
  return table.concat(parts, "/")
end
extension.normalize = normalize

-- ${os} ${arch} ${variant} in a string, for one platform.
function extension.expand(s, platform)
  if type(platform) ~= "table" then platform = assert(oci.parse_platform(platform)) end
  return (s:gsub("%${(%w+)}", function(name)
    if name == "os" then return platform.os end
    if name == "arch" then return platform.architecture end
    if name == "variant" then return platform.variant or "" end
    return nil
  end))
end

--[[
Loads DIR/extension.lua. Returns the description table (with .dir, .path) or nil, err.
The file runs in its own environment (standard globals readable, its own globals private), with
DIR/.hoist on package.path so a team's modules are found by require, and DIR/.hoist/rocks (a
luarocks tree: hoist.rocks) on package.path and package.cpath.
]]
function extension.load(dir)
  dir = dir or "."
  local path = join(dir, "extension.lua")
  if not fs.exists(path) then return nil, "no extension description: '" .. path .. "' does not exist" end
  -- read through hoist.fs: a FIFO or a device is refused instead of read (or waited on) forever
  local text, rerr = fs.read(path, 4 * 1024 * 1024)
  if not text then return nil, rerr end
  local env = setmetatable({}, { __index = _G })
  local chunk, err = load(text, "@" .. path, "t", env)
  if not chunk then return nil, err end
  -- a team's rocks (DIR/.hoist/rocks, a luarocks tree) stay on the path: hooks may require later
  require("hoist.rocks").activate(dir)
  local saved = package.path
  package.path = dir .. "/.hoist/?.lua;" .. dir .. "/.hoist/?/init.lua;" .. saved
  local ok, desc = pcall(chunk)
  package.path = saved
  if not ok then return nil, path .. ": " .. tostring(desc) end
  if type(desc) ~= "table" then return nil, path .. ": must return a table (the description)" end
  desc.dir = dir
  desc.path = path
  return desc
end

-- The layers as lists of {from, to, mode} entries (a single entry may stand for a layer).
local function layer_entries(layer)
  if type(layer) ~= "table" then return nil end
  if layer.from ~= nil or layer.to ~= nil then return { layer } end
  return layer
end

--[[
The per-platform view of a description: { platform = {...}, name = "linux/arm64",
layers = { { inputs = { {from = host path, to = image path, mode = m} } }, ... } }.
`problems` collects what is wrong with the layer list.
]]
function extension.platform_layers(desc, platform, problems)
  platform = assert(oci.parse_platform(platform))  -- a string or a table: one shape from here
  local pname = oci.platform_string(platform)
  local layers = {}
  for i, layer in ipairs(desc.layers or {}) do
    local entries = layer_entries(layer)
    if not entries or #entries == 0 then
      problems[#problems + 1] = string.format("extension.lua: layer %d must be {from=, to=} or a list of them", i)
    else
      local inputs = {}
      if layer.from == nil and layer.to == nil then
        keys.check(layer, {}, string.format("layer %d (a list of entries)", i), problems, "extension.lua: ", true)
      end
      for k, e in ipairs(entries) do
        if type(e) == "table" then
          keys.check(e, extension.ENTRY_KEYS, string.format("layer %d entry %d", i, k), problems, "extension.lua: ")
        end
        if type(e) ~= "table" or type(e.from) ~= "string" or type(e.to) ~= "string" then
          problems[#problems + 1] = string.format("extension.lua: layer %d entry %d needs 'from' and 'to' strings", i, k)
        elseif ("/" .. e.to .. "/"):find("/%.%./") then
          problems[#problems + 1] = string.format("extension.lua: layer %d entry %d: 'to' path %s leaves the " ..
            "image's root ('..' is not allowed)", i, k, text.quote(e.to))
        else
          local mode, owner, exclude = e.mode, e.owner, e.exclude
          if mode ~= nil then
            local m, merr = fs.parse_mode(mode)
            if not m then
              problems[#problems + 1] = string.format("extension.lua: layer %d entry %d: %s", i, k, merr)
            end
            mode = m
          end
          if owner ~= nil and not (type(owner) == "string" and owner:match("^%d+:%d+$")) then
            problems[#problems + 1] = string.format("extension.lua: layer %d entry %d: owner must be \"UID:GID\" " ..
              "with numbers (like \"1000:1000\"), got %s", i, k, type(owner) == "string" and text.quote(owner) or type(owner))
            owner = nil
          end
          if exclude ~= nil then
            local good = type(exclude) == "table"
            for j, g in pairs(good and exclude or {}) do
              if math.type(j) ~= "integer" or type(g) ~= "string" or g == "" then good = false end
            end
            if not good then
              problems[#problems + 1] = string.format("extension.lua: layer %d entry %d: exclude must be a " ..
                "list of glob patterns (like { \"**/*.map\", \"node_modules\" })", i, k)
              exclude = nil
            end
          end
          inputs[#inputs + 1] = {
            from = join(desc.dir, extension.expand(e.from, platform)),
            to = extension.expand(e.to, platform),
            mode = mode,
            owner = owner,
            exclude = exclude,
            source = e.from,
          }
        end
      end
      layers[#layers + 1] = { inputs = inputs, index = i }
    end
  end
  return { platform = platform, name = pname, layers = layers }
end

--[[
Where an image path comes from in a platform's layers: the host path, or nil. Later layers and
later entries win, as they would in the image.
]]
function extension.find_in_image(view, image_path)
  local want = normalize(image_path)
  for li = #view.layers, 1, -1 do
    local inputs = view.layers[li].inputs
    for k = #inputs, 1, -1 do
      local e = inputs[k]
      local to = normalize(e.to)
      local st = fs.stat(e.from, true)
      if st then
        if st.type ~= "dir" and e.to:sub(-1) == "/" then
          to = normalize(e.to .. (e.from:match("[^/]+$") or ""))
        end
        if to == want then return e.from, e end
        if st.type == "dir" then
          local rest
          if to == "" then rest = want
          elseif want:sub(1, #to + 1) == to .. "/" then rest = want:sub(#to + 2) end
          if rest and rest ~= "" and fs.exists(e.from .. "/" .. rest) then
            return e.from .. "/" .. rest, e
          end
        end
      end
    end
  end
  return nil
end

--[[
What a platform's own layers put at an image path, as hoist.imagefs wants it: { type = "f" | "d"
| "l" | "o", mode, link } (a file's mode is its entry's `mode` when one is given, as the layer
writes it), a folder implied by a deeper path, or nil.
]]
function extension.image_entry(view, image_path)
  local want = normalize(image_path)
  local host, e = extension.find_in_image(view, image_path)
  if host then
    local st = fs.stat(host, host == e.from)  -- a layer follows its top `from`, not links inside
    if st then
      local t = ({ file = "f", dir = "d", link = "l" })[st.type] or "o"
      local entry = { type = t, mode = st.mode }
      if t == "f" and e.mode then entry.mode = e.mode end
      if t == "l" then entry.link = fs.readlink(host) end
      return entry
    end
  end
  if want == "" then return nil end
  for li = #view.layers, 1, -1 do
    for _, i in ipairs(view.layers[li].inputs) do
      local to = normalize(i.to)
      if to:sub(1, #want + 1) == want .. "/" then return { type = "d", mode = tonumber("755", 8) } end
    end
  end
  return nil
end

local function check_platforms(desc, opts, problems)
  local list = desc.platforms or extension.REQUIRED_PLATFORMS
  if type(list) ~= "table" or #list == 0 then
    problems[#problems + 1] = "extension.lua: platforms must be a list like {\"linux/amd64\", \"linux/arm64\"}"
    return {}
  end
  local platforms, seen = {}, {}
  for _, s in ipairs(list) do
    local p, err = oci.parse_platform(s)
    if not p then
      problems[#problems + 1] = "extension.lua: " .. err
    elseif p.os ~= "linux" then
      problems[#problems + 1] = "extension.lua: platform '" .. s .. "': extensions are Linux images"
    elseif not seen[s] then
      seen[oci.platform_string(p)] = true
      platforms[#platforms + 1] = p
    end
  end
  if not opts.single_platform then
    for _, req in ipairs(extension.REQUIRED_PLATFORMS) do
      if not seen[req] then
        problems[#problems + 1] = "the image must be multi-platform: platform \"" .. req ..
          "\" is missing (extensions need at least linux/amd64 and linux/arm64)"
      end
    end
  end
  return platforms
end

--[[
A source that does not exist is a problem, unless `pending` (a before_build hook will run first and
may produce it: a dry run on a clean checkout). Then it is recorded in view.pending instead, and
e.pending is set, so the plan can say "produced by before_build".
]]
local function check_sources(view, root, problems, pending)
  for _, layer in ipairs(view.layers) do
    for _, e in ipairs(layer.inputs) do
      local real = fs.realpath(e.from)
      if not real and pending and not fs.stat(e.from) then
        e.pending = true
        view.pending = view.pending or {}
        view.pending[#view.pending + 1] = e
      elseif not real then
        problems[#problems + 1] = string.format("layer %d (%s): '%s' does not exist", layer.index, view.name, e.from)
      elseif root and real ~= root and real:sub(1, #root + 1) ~= root .. "/" then
        problems[#problems + 1] = string.format(
          "layer %d (%s): '%s' resolves outside the extension folder", layer.index, view.name, e.from)
      end
    end
  end
end

-- The keys Docker's schema knows below the root, by where they are. Docker has not been seen
-- rejecting unknown ones there, so they are warnings (with the key they were probably meant to be).
extension.METADATA_NESTED = {
  ui = { "dashboard-tab" },
  ["ui.dashboard-tab"] = { "title", "root", "src", "backend" },
  ["ui.dashboard-tab.backend"] = { "socket" },
  vm = { "image", "composefile", "exposes" },
  ["vm.exposes"] = { "socket" },
  host = { "binaries" },
  ["host.binaries[]"] = extension.HOST_OSES,
  ["host.binaries[].os[]"] = { "path" },
}

--[[
metadata.json's own shape (the parts Docker's schema and validate enforce): problems for what
Docker rejects, warnings (optional) for what it lets through but is probably a mistake.
]]
function extension.check_metadata_shape(meta, problems, warnings)
  warnings = warnings or {}
  local p = function(msg) problems[#problems + 1] = "metadata.json: " .. msg end
  local function nested(t, where, at)
    if type(t) == "table" then
      keys.check(t, extension.METADATA_NESTED[where], at or where, warnings, "metadata.json: ")
    end
  end
  if type(meta) ~= "table" or meta[1] ~= nil then p("the root must be an object"); return end
  local names = {}
  for k in pairs(meta) do names[#names + 1] = tostring(k) end
  table.sort(names)
  for _, k in ipairs(names) do
    -- Docker's (gojsonschema's) wording, seen for `name` and `provider`
    if not extension.METADATA_KEYS[k] then p("(root): Additional property " .. text.bare(k) .. " is not allowed") end
  end
  if meta.ui == nil and meta.vm == nil and meta.host == nil then
    p("an extension needs at least one of ui, vm or host")
  end
  if meta.icon ~= nil and (type(meta.icon) ~= "string" or meta.icon == "") then p("icon must be a file path") end
  if meta.ui ~= nil then
    nested(meta.ui, "ui")
    local tab = type(meta.ui) == "table" and meta.ui["dashboard-tab"]
    if type(tab) ~= "table" then
      p("ui.dashboard-tab is required in ui")
    else
      nested(tab, "ui.dashboard-tab")
      for _, f in ipairs({ "title", "root", "src" }) do
        if type(tab[f]) ~= "string" or tab[f] == "" then p("ui.dashboard-tab." .. f .. " must be a non-empty string") end
      end
      if tab.backend ~= nil and (type(tab.backend) ~= "table" or type(tab.backend.socket) ~= "string") then
        p("ui.dashboard-tab.backend.socket must be a string")
      end
      nested(tab.backend, "ui.dashboard-tab.backend")
    end
  end
  if meta.vm ~= nil then
    if type(meta.vm) ~= "table" then
      p("vm must be an object")
    else
      nested(meta.vm, "vm")
      -- image, composefile or both: published extensions ship both (with exposes) and pass
      local has_image, has_compose = meta.vm.image ~= nil, meta.vm.composefile ~= nil
      if not has_image and not has_compose then p("vm must define either image or composefile") end
      if has_image and (type(meta.vm.image) ~= "string" or meta.vm.image == "") then p("vm.image must be a non-empty string") end
      if has_compose and (type(meta.vm.composefile) ~= "string" or meta.vm.composefile == "") then
        p("vm.composefile must be a file path")
      end
      if meta.vm.exposes ~= nil and (type(meta.vm.exposes) ~= "table" or type(meta.vm.exposes.socket) ~= "string") then
        p("vm.exposes.socket must be a string")
      end
      nested(meta.vm.exposes, "vm.exposes")
    end
  end
  if meta.host ~= nil then
    nested(meta.host, "host")
    local bins = type(meta.host) == "table" and meta.host.binaries
    if type(bins) ~= "table" or (next(bins) ~= nil and bins[1] == nil) then
      p("host.binaries must be an array of objects with darwin, windows and linux lists")
    else
      for i, b in ipairs(bins) do
        if type(b) ~= "table" then
          p(string.format("host.binaries[%d] must be an object", i - 1))
        else
          -- any subset of darwin/windows/linux passes Docker; another name is a warning
          nested(b, "host.binaries[]", string.format("host.binaries[%d]", i - 1))
          for _, os_ in ipairs(extension.HOST_OSES) do
            local list = b[os_]
            if list ~= nil and type(list) ~= "table" then
              p(string.format("host.binaries[%d].%s must be an array of {path}", i - 1, os_))
            elseif list ~= nil then
              for j, item in ipairs(list) do
                if type(item) ~= "table" or type(item.path) ~= "string" or item.path == "" then
                  p(string.format("host.binaries[%d].%s[%d].path must be a file path", i - 1, os_, j - 1))
                else
                  nested(item, "host.binaries[].os[]", string.format("host.binaries[%d].%s[%d]", i - 1, os_, j - 1))
                end
              end
            end
          end
        end
      end
    end
  end
end

--[[
The backend rules that need the image config: a vm.image of ${DESKTOP_PLUGIN_IMAGE} runs this
very image as the backend, so it needs a command (CMD or entrypoint); a UI that talks to a
backend socket must name the one the backend exposes. has_command: whether the config has one.
]]
function extension.check_backend(meta, has_command, problems)
  if type(meta) ~= "table" or type(meta.vm) ~= "table" then return end
  if meta.vm.image == "${DESKTOP_PLUGIN_IMAGE}" and not has_command then
    problems[#problems + 1] = "metadata.json: vm.image is ${DESKTOP_PLUGIN_IMAGE} (this image is the backend) " ..
      "but the image has no command: set config.entrypoint or config.cmd in extension.lua"
  end
  local tab = type(meta.ui) == "table" and meta.ui["dashboard-tab"]
  local ui_socket = type(tab) == "table" and type(tab.backend) == "table" and tab.backend.socket
  local vm_socket = type(meta.vm.exposes) == "table" and meta.vm.exposes.socket
  if type(ui_socket) == "string" and type(vm_socket) == "string" and ui_socket ~= vm_socket then
    problems[#problems + 1] = string.format("metadata.json: ui.dashboard-tab.backend.socket '%s' is not the " ..
      "socket the backend exposes (vm.exposes.socket '%s')", text.bare(ui_socket), text.bare(vm_socket))
  end
end

local quote = text.quote

-- A dashboard-tab src that is a URL (Portainer's is, and it is published) names no file.
local function is_url(s)
  return s:match("^%a[%w+.-]*://") ~= nil
end

--[[
Every file metadata.json names, as { what = "icon", given = the text as written (for messages),
path = the absolute image path ("/docker.svg"), os = "darwin" | "windows" | "linux" for a host
binary }. The dashboard tab's src is always relative to its root, a leading "/" included
(root "/ui" + src "/index.html" is /ui/index.html), a ?query or #fragment is not part of the
file, and a src that is a URL names no file at all.
]]
function extension.named_files(meta)
  local out = {}
  local function add(what, given, path, os_)
    if type(path) ~= "string" or path == "" then return end
    out[#out + 1] = { what = what, given = given, path = "/" .. normalize(path), os = os_ }
  end
  if type(meta) ~= "table" then return out end
  if type(meta.icon) == "string" then add("icon", quote(meta.icon), meta.icon) end
  local tab = type(meta.ui) == "table" and meta.ui["dashboard-tab"]
  if type(tab) == "table" and type(tab.root) == "string" and type(tab.src) == "string" and not is_url(tab.src) then
    local file = tab.src:gsub("[?#].*$", "")
    if file ~= "" then
      add("ui.dashboard-tab", "root " .. quote(tab.root) .. " + src " .. quote(tab.src), tab.root .. "/" .. file)
    end
  end
  if type(meta.vm) == "table" and type(meta.vm.composefile) == "string" then
    add("vm.composefile", quote(meta.vm.composefile), meta.vm.composefile)
  end
  local bins = type(meta.host) == "table" and meta.host.binaries
  if type(bins) == "table" then
    for i, b in ipairs(bins) do
      if type(b) == "table" then
        for _, os_ in ipairs(extension.HOST_OSES) do
          if type(b[os_]) == "table" then
            for j, item in ipairs(b[os_]) do
              if type(item) == "table" and type(item.path) == "string" then
                add(string.format("host.binaries[%d].%s[%d]", i - 1, os_, j - 1), quote(item.path), item.path, os_)
              end
            end
          end
        end
      end
    end
  end
  return out
end

local function platform_list(names)
  if #names == 1 then return "the " .. names[1] .. " image" end
  return "the " .. table.concat(names, ", ", 1, #names - 1) .. " and " .. names[#names] .. " images"
end

--[[
extension.check_named_files(meta, platforms, problems [, warnings]) checks that every file
metadata.json names is in every platform's image. platforms: { { name = "linux/amd64",
exists = function(image_path) -> true | false | "pending" } ... } ("pending": a before_build hook
may still produce it). A missing file is a problem naming the platforms that lack it, except a host
binary that some platforms have: Docker's own multi-arch docs ship the Windows .exe in the amd64
image only, so that is a warning (a host installing the other image gets no such binary).
The older form (meta, exists, platform_name, problems) checks one platform.
]]
function extension.check_named_files(meta, platforms, problems, warnings)
  if type(platforms) == "function" then
    platforms, problems, warnings = { { name = problems, exists = platforms } }, warnings, nil
  end
  warnings = warnings or problems
  for _, f in ipairs(extension.named_files(meta)) do
    local missing, found = {}, 0
    for _, v in ipairs(platforms) do
      if v.exists(f.path) then found = found + 1 else missing[#missing + 1] = v.name end
    end
    if #missing > 0 then
      local where = f.given and (f.what .. " " .. f.given) or f.what
      local msg = string.format("metadata.json: %s is missing from %s", where, platform_list(missing))
      if f.path ~= f.given and '"' .. f.path .. '"' ~= f.given then
        -- one line whatever the path holds (fuzz_metadata: a newline forged a second warning line)
        msg = msg .. " (no file at " .. text.bare(f.path) .. ")"
      end
      if f.os and found > 0 then
        warnings[#warnings + 1] = msg .. ": a host that installs " ..
          (#missing == 1 and "that image" or "those images") .. " gets no such binary"
      else
        problems[#problems + 1] = msg
      end
    end
  end
end

-- A Go duration ("30s", "1m30s", "500ms", "1h") in nanoseconds, as Docker's Healthcheck wants it.
function extension.duration_ns(v)
  if type(v) ~= "string" or v == "" then return nil end
  if v == "0" then return 0 end
  local units = { ns = 1, us = 1e3, ["µs"] = 1e3, ms = 1e6, s = 1e9, m = 60e9, h = 3600e9 }
  local total, rest = 0, v
  while rest ~= "" do
    local num, unit, after = rest:match("^(%d+%.?%d*)(%a+)(.*)$")
    if not num then num, unit, after = rest:match("^(%d+%.?%d*)(µs)(.*)$") end
    if not num or not units[unit] then return nil end
    total = total + tonumber(num) * units[unit]
    rest = after
  end
  return math.tointeger(math.floor(total + 0.5))
end

local function string_list_of(v)
  if type(v) ~= "table" then return false end
  local n = 0
  for k, x in pairs(v) do
    if math.type(k) ~= "integer" or type(x) ~= "string" then return false end
    n = n + 1
  end
  return n == #v
end

--[[
The config section, checked and normalised for oci.image_config: env as "K=V" lists, commands as
lists or strings (shell form), ports as "N/proto", the healthcheck in Docker's form (durations in
nanoseconds). Problems name the key; a bad value is left out.
]]
function extension.normalize_config(c, problems)
  local out = {}
  local function p(fmt, ...) problems[#problems + 1] = "extension.lua: config." .. string.format(fmt, ...) end
  if c == nil then return out end
  if type(c) ~= "table" then
    problems[#problems + 1] = "extension.lua: config must be a table"
    return out
  end
  keys.check(c, extension.CONFIG_KEYS, "config", problems, "extension.lua: ")
  if c.env ~= nil then
    if type(c.env) ~= "table" then
      p("env must be a table of NAME = \"value\" (or a list of \"NAME=value\")")
    elseif c.env[1] ~= nil then
      if not string_list_of(c.env) then p("env must be a list of \"NAME=value\" strings")
      else
        for _, e in ipairs(c.env) do
          if not e:match("^[^=]+=") then p("env entry %s is not NAME=value", quote(e)) end
        end
        out.env = c.env
      end
    else
      local ok = true
      for k, v in pairs(c.env) do
        if type(k) ~= "string" or k == "" or k:find("=", 1, true) or
           (type(v) ~= "string" and type(v) ~= "number" and type(v) ~= "boolean") then
          p("env.%s must be a string", tostring(k)); ok = false
        end
      end
      if ok then out.env = c.env end
    end
  end
  for _, k in ipairs({ "cmd", "entrypoint" }) do
    local v = c[k]
    if v ~= nil then
      if type(v) == "string" then
        if v == "" then p("%s is empty (use a list like { \"/service\" }, or a shell command)", k) else out[k] = v end
      elseif string_list_of(v) then out[k] = v
      else p("%s must be a list of strings (exec form) or a string (shell form, run by /bin/sh -c)", k) end
    end
  end
  for _, k in ipairs({ "workdir", "user", "stop_signal" }) do
    local v = c[k]
    if v ~= nil then
      if type(v) ~= "string" or v == "" then p("%s must be a non-empty string", k) else out[k] = v end
    end
  end
  if out.workdir and out.workdir:sub(1, 1) ~= "/" then
    p("workdir %s must be an absolute path", quote(out.workdir)); out.workdir = nil
  end
  if out.stop_signal and not (out.stop_signal:match("^SIG[A-Z0-9+-]+$") or out.stop_signal:match("^%d+$")) then
    p("stop_signal %s must be a signal name like \"SIGTERM\" or a number", quote(out.stop_signal)); out.stop_signal = nil
  end
  if c.exposed_ports ~= nil then
    if not string_list_of(c.exposed_ports) then p("exposed_ports must be a list like { \"8080/tcp\" }")
    else
      out.exposed_ports = {}
      for _, e in ipairs(c.exposed_ports) do
        local port, proto = e:match("^(%d+)/?(%a*)$")
        proto = proto ~= "" and proto:lower() or "tcp"
        if not port or tonumber(port) < 1 or tonumber(port) > 65535 or
           not (proto == "tcp" or proto == "udp" or proto == "sctp") then
          p("exposed_ports entry %s must be PORT or PORT/tcp|udp|sctp", quote(e))
        else
          out.exposed_ports[#out.exposed_ports + 1] = port .. "/" .. proto
        end
      end
    end
  end
  if c.volumes ~= nil then
    if not string_list_of(c.volumes) then p("volumes must be a list of absolute paths like { \"/data\" }")
    else
      out.volumes = {}
      for _, v in ipairs(c.volumes) do
        if v:sub(1, 1) ~= "/" then p("volumes entry %s must be an absolute path", quote(v))
        else out.volumes[#out.volumes + 1] = v end
      end
    end
  end
  if c.labels ~= nil then
    local ok = type(c.labels) == "table"
    for k, v in pairs(ok and c.labels or {}) do
      if type(k) ~= "string" or type(v) ~= "string" then ok = false end
    end
    if ok then out.labels = c.labels else p("labels must be a table of \"key\" = \"string\"") end
  end
  local hc = c.healthcheck
  if hc ~= nil then
    if type(hc) ~= "table" then
      p("healthcheck must be a table like { test = { \"CMD\", \"/probe\" }, interval = \"30s\" }")
    else
      keys.check(hc, extension.HEALTHCHECK_KEYS, "config.healthcheck", problems, "extension.lua: ")
      local h = {}
      local test = hc.test
      if type(test) == "string" then test = { "CMD-SHELL", test } end
      if not string_list_of(test) or #test == 0 or not (test[1] == "CMD" or test[1] == "CMD-SHELL" or test[1] == "NONE")
         or (test[1] ~= "NONE" and #test < 2) then
        p("healthcheck.test must be { \"CMD\", program, args... }, { \"CMD-SHELL\", command }, { \"NONE\" } " ..
          "or a string (a shell command)")
      else
        h.Test = json.array(test)
      end
      for _, f in ipairs({ { "interval", "Interval" }, { "timeout", "Timeout" }, { "start_period", "StartPeriod" },
                           { "start_interval", "StartInterval" } }) do
        if hc[f[1]] ~= nil then
          local ns = extension.duration_ns(hc[f[1]])
          if not ns then p("healthcheck.%s must be a duration like \"30s\" or \"1m30s\"", f[1]) else h[f[2]] = ns end
        end
      end
      if hc.retries ~= nil then
        if math.type(hc.retries) ~= "integer" or hc.retries < 0 then p("healthcheck.retries must be a whole number")
        else h.Retries = hc.retries end
      end
      if h.Test then out.healthcheck = h end
    end
  end
  return out
end

--[[
The base images, per platform name: desc.base is one reference for every platform or a table
{ ["linux/amd64"] = ref, ... } that must name each platform the extension ships. Returns
{ [platform name] = reference string } (empty: FROM scratch).
]]
function extension.base_refs(base, platforms, problems)
  local out = {}
  if base == nil then return out end
  if type(base) == "string" then
    if base == "" or base == "scratch" then
      if base == "" then problems[#problems + 1] = "extension.lua: base is empty (leave it unset for an image from scratch)" end
      return out
    end
    for _, v in ipairs(platforms) do out[v.name] = base end
    return out
  end
  if type(base) ~= "table" then
    problems[#problems + 1] = "extension.lua: base must be an image reference (like \"alpine:3.20\") or a table " ..
      "{ [\"linux/amd64\"] = ..., [\"linux/arm64\"] = ... }"
    return out
  end
  local names = {}
  for _, v in ipairs(platforms) do names[#names + 1] = v.name end
  for k, v in pairs(base) do
    if type(v) ~= "string" or v == "" then
      problems[#problems + 1] = string.format("extension.lua: base[%s] must be an image reference", quote(k))
    end
  end
  keys.check(base, names, "base (a platform the extension does not ship)", problems, "extension.lua: ")
  for _, n in ipairs(names) do
    if base[n] == nil then
      problems[#problems + 1] = string.format("extension.lua: base has no image for %s (give every platform one)", n)
    elseif type(base[n]) == "string" and base[n] ~= "scratch" then
      out[n] = base[n]
    end
  end
  return out
end

--[[
The checks Docker only makes by installing the extension, on one platform's image (what its own
layers hold over what its base holds: lookup, a hoist.imagefs lookup; base_unknown when a base's
layers could not be looked at, as in a dry run: then what falls through to the base is listed in
unchecked instead of being a problem):
  - host binaries for darwin and linux must be executable (the mode as the layer writes it);
  - the backend that runs this image (vm.image ${DESKTOP_PLUGIN_IMAGE}, or a compose service whose
    image it is) must have a command whose program exists and is executable, found through the
    image's PATH, symlinks followed, a shell form needing /bin/sh.
cfg: the image config's `config` (ours over the base's). read_file(path) -> the content of a
file the extension's layers put in the image, or nil, why.
]]
function extension.check_runtime(meta, view, cfg, lookup, base_unknown, read_file, problems, unchecked)
  if type(meta) ~= "table" then return end
  local imagefs = require("hoist.imagefs")
  local function failed(path, why, what)
    if base_unknown and why:find("does not exist", 1, true) then
      unchecked[#unchecked + 1] = { platform = view.name, path = path, what = what }
      return
    end
    problems[#problems + 1] = string.format("%s (%s image): %s", what, view.name, why)
  end
  -- host binaries
  local bins = type(meta.host) == "table" and meta.host.binaries
  if type(bins) == "table" then
    for i, b in ipairs(bins) do
      for _, os_ in ipairs({ "darwin", "linux" }) do
        for j, item in ipairs(type(b) == "table" and type(b[os_]) == "table" and b[os_] or {}) do
          if type(item) == "table" and type(item.path) == "string" and item.path ~= "" then
            local ok, why = imagefs.executable(lookup, "/" .. normalize(item.path))
            -- a missing one is reported by check_named_files
            if not ok and not why:find("does not exist", 1, true) then
              failed(item.path, why, string.format("metadata.json: host.binaries[%d].%s[%d]", i - 1, os_, j - 1))
            end
          end
        end
      end
    end
  end
  if type(meta.vm) ~= "table" then return end
  local function check_command(argv, what)
    if #argv == 0 then return end
    local prog, why = imagefs.find_program(lookup, argv[1], cfg.Env, cfg.WorkingDir)
    if not prog then
      if base_unknown and (why:find("does not exist", 1, true) or why:find("is not in the image's PATH", 1, true)) then
        unchecked[#unchecked + 1] = { platform = view.name, path = argv[1], what = what }
        return
      end
      if argv[1] == "/bin/sh" and argv[2] == "-c" then why = why .. " (a shell-form command needs /bin/sh)" end
      failed(argv[1], why, what .. " cannot start")
    end
  end
  local function concat(a, b)
    local out = {}
    for _, x in ipairs(a or {}) do out[#out + 1] = x end
    for _, x in ipairs(b or {}) do out[#out + 1] = x end
    return out
  end
  if meta.vm.image == "${DESKTOP_PLUGIN_IMAGE}" then
    check_command(concat(cfg.Entrypoint, cfg.Cmd), "the backend (vm.image is this image)")
  end
  local compose = meta.vm.composefile
  if type(compose) == "string" and compose ~= "" then
    local body, rerr = read_file("/" .. normalize(compose))
    if not body then
      if rerr then problems[#problems + 1] = "metadata.json: vm.composefile: " .. tostring(rerr) end
      return
    end
    local doc, yerr = require("hoist.yaml").decode(body, compose)
    if doc == nil then
      problems[#problems + 1] = "metadata.json: vm.composefile is not valid YAML: " .. tostring(yerr)
      return
    end
    local services = type(doc) == "table" and doc.services
    if type(services) ~= "table" then
      problems[#problems + 1] = string.format("metadata.json: vm.composefile '%s' has no services", text.bare(compose))
      return
    end
    local names = {}
    for n in pairs(services) do names[#names + 1] = tostring(n) end
    table.sort(names)
    -- names from the user's files go into one-line messages: control characters escaped
    local shown_compose = text.bare(compose)
    for _, key in ipairs(names) do
      local svc, n = services[key], text.bare(key)
      if type(svc) == "table" and svc.image == "${DESKTOP_PLUGIN_IMAGE}" then
        local function words(v, key)
          if v == nil then return nil end
          if type(v) == "string" then
            local w = imagefs.shell_words(v)
            if not w then problems[#problems + 1] = string.format("%s: service '%s': %s has an unclosed quote", shown_compose, n, key) end
            return w or {}
          end
          if type(v) == "table" then
            local out = {}
            for _, x in ipairs(v) do out[#out + 1] = tostring(x) end
            return out
          end
          problems[#problems + 1] = string.format("%s: service '%s': %s must be a string or a list", shown_compose, n, key)
          return {}
        end
        local ep, cmd = words(svc.entrypoint, "entrypoint"), words(svc.command, "command")
        -- as compose: an entrypoint given here replaces the image's and clears its CMD
        local argv = concat(ep or cfg.Entrypoint, cmd or (ep == nil and cfg.Cmd or nil))
        local what = string.format("compose service '%s' (image ${DESKTOP_PLUGIN_IMAGE})", n)
        if #argv == 0 then
          problems[#problems + 1] = string.format("%s runs this image but has no command: neither the " ..
            "service (command, entrypoint) nor the image (config.cmd, config.entrypoint) gives one", what)
        else
          check_command(argv, what)
        end
      end
    end
  end
end

-- The marker `hoist init` writes where only the author knows the answer.
extension.PLACEHOLDER = "<fill in"

-- Reports every label field still holding an init placeholder, naming the field and the hint.
function extension.check_placeholders(fields, problems)
  local names = {}
  for k in pairs(fields) do names[#names + 1] = tostring(k) end
  table.sort(names)
  local function scan(where, v)
    if type(v) == "string" then
      local at = v:find(extension.PLACEHOLDER, 1, true)
      if at then
        local hint = v:match("<fill in:?%s*([^>]*)>", at) or ""
        problems[#problems + 1] = string.format("extension.lua: labels.%s is still a placeholder: fill in %s",
          where, hint ~= "" and hint or "a value")
      end
    elseif type(v) == "table" then
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = k end
      table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
      for _, k in ipairs(keys) do
        scan(where .. (math.type(k) == "integer" and ("[" .. k .. "]") or ("." .. tostring(k))), v[k])
      end
    end
  end
  for _, k in ipairs(names) do scan(k, fields[k]) end
end

-- Whether a pending source of the view (one before_build has yet to produce) may put a file at path.
function extension.pending_covers(view, path)
  local want = normalize(path)
  for _, e in ipairs(view.pending or {}) do
    local to = normalize(e.to)
    if to == "" or want == to or want:sub(1, #to + 1) == to .. "/" then return true end
  end
  return false
end

-- The top-level `sdk` and `marketplace` keys (what kind of release this is).
function extension.check_release_kind(desc, problems)
  if desc.sdk ~= nil and (type(desc.sdk) ~= "string" or not semver.valid(desc.sdk)) then
    problems[#problems + 1] = "extension.lua: sdk must be a Docker Desktop extension SDK version like \"0.3.4\" " ..
      "(api.version must accept it), got " .. (type(desc.sdk) == "string" and quote(desc.sdk) or type(desc.sdk))
  end
  if desc.marketplace ~= nil and type(desc.marketplace) ~= "boolean" then
    problems[#problems + 1] = "extension.lua: marketplace must be true or false (false: a private extension, " ..
      "installed with `docker extension install`), got " .. type(desc.marketplace)
  end
end

--[[
Problems for the names in extension.lua's labels that would not make the label meant (see
label.unknown): a misspelt field, or a raw key in Docker's namespaces that is not a Docker label.
where: "labels" (the default; the suggestion is a field) or "config.labels" (raw keys only; the
suggestion is the label key). Returns { [name] = the field it was probably meant to be, or false }.
]]
function extension.check_label_names(fields, problems, where)
  local meant = {}
  local raw_only = where == "config.labels"
  for _, u in ipairs(label.unknown(fields)) do
    if u.raw then
      meant[u.name] = u.near or false
      local near = u.near
      for _, k in ipairs(label.KEYS) do if raw_only and k.field == near then near = k.key end end
      problems[#problems + 1] = string.format("extension.lua: unknown label %s in %s (%s)", quote(u.name),
        where or "labels", near and ("did you mean '" .. near .. "'?") or "it is in Docker's namespace but none of Docker's labels")
    elseif not raw_only then
      meant[u.name] = u.near or false
      problems[#problems + 1] = "extension.lua: " .. keys.message(u.name, label.FIELDS, "labels")
    end
  end
  return meant
end

--[[
Checks a loaded description for a release. opts: { platforms = {"linux/amd64", ...} to override
desc.platforms, single_platform = true to allow one platform (push by digest), private = true
(as `marketplace = false`: the Marketplace-only labels give warnings), sdk = "0.3.4" (api.version
must accept it; overrides desc.sdk), pending = true (a before_build hook will run first: a layer
source that does not exist yet is recorded in view.pending, not a problem),
resolve_base = function(reference, platform name) -> resolved | nil, message, code,
base_lookup = function(resolved) -> lookup, failure (hoist.imagefs.layered over the base's layers;
absent in a dry run, which downloads no layer: then what falls through is listed as unchecked) }.
Returns plan, problems, warnings: plan = { platforms = {view...}, labels = {key=value},
metadata = table, config = table (normalised), private = bool, bases = { [platform] =
reference }, base = { [platform] = resolved }, base_failure = { message, code } | nil,
unchecked = { { platform, path } } } even when there are problems; problems and warnings are
arrays of one-line strings.
]]
local CHECK_OPTS = { "platforms", "single_platform", "private", "sdk", "pending", "resolve_base", "base_lookup" }

function extension.check(desc, opts)
  opts = keys.options(opts, CHECK_OPTS, "extension.check")
  local problems, warnings = {}, {}
  local plan = { desc = desc }

  do
    -- what extension.load added is not the author's
    local own = {}
    for k, v in pairs(desc) do if k ~= "dir" and k ~= "path" then own[k] = v end end
    keys.check(own, extension.TOP_KEYS, nil, problems, "extension.lua: ")
  end
  if desc.name ~= nil and (type(desc.name) ~= "string" or not desc.name:match("^[a-z0-9][a-z0-9._/-]*$")) then
    problems[#problems + 1] = "extension.lua: name must be a lowercase repository path like 'acme/my-extension'"
  end
  if desc.hooks ~= nil and type(desc.hooks) ~= "table" then
    problems[#problems + 1] = "extension.lua: hooks must be a table of functions"
  elseif desc.hooks ~= nil then
    -- a misspelt hook name would silently skip the team's step
    keys.check(desc.hooks, extension.HOOK_NAMES, "hooks", problems, "extension.lua: ")
    for _, h in ipairs(extension.HOOK_NAMES) do
      if desc.hooks[h] ~= nil and type(desc.hooks[h]) ~= "function" then
        problems[#problems + 1] = "extension.lua: hooks." .. h .. " must be a function"
      end
    end
  end
  if desc.compression ~= nil and not extension.COMPRESSIONS[desc.compression] then
    problems[#problems + 1] = "extension.lua: compression must be \"gzip\" (the default), \"zstd\" or \"none\""
  end
  if type(desc.layers) ~= "table" or #desc.layers == 0 then
    problems[#problems + 1] = "extension.lua: layers must list at least one layer"
  end
  extension.check_release_kind(desc, problems)
  plan.private = opts.private == true or desc.marketplace == false
  local sdk = opts.sdk or (type(desc.sdk) == "string" and semver.valid(desc.sdk) and desc.sdk) or nil

  local wanted = desc.platforms
  if opts.platforms then wanted = opts.platforms end
  plan.platforms = {}
  for _, p in ipairs(check_platforms({ platforms = wanted }, opts, problems)) do
    plan.platforms[#plan.platforms + 1] = extension.platform_layers(desc, p, problems)
  end

  local root = fs.realpath(desc.dir)
  for _, view in ipairs(plan.platforms) do check_sources(view, root, problems, opts.pending) end
  plan.bases = extension.base_refs(desc.base, plan.platforms, problems)
  -- the base of each platform, resolved by the caller (opts.resolve_base(reference, platform)
  -- -> resolved | nil, message, exit code): a base that lacks a platform or cannot be
  -- redistributed is a problem (kind EINVAL); one that cannot be read stops the caller
  -- (plan.base_failure = { message, code })
  plan.base = {}
  if next(plan.bases) and opts.resolve_base then
    for _, view in ipairs(plan.platforms) do
      local str = plan.bases[view.name]
      if str and not plan.base_failure then
        local r, err, code = opts.resolve_base(str, view.name)
        if r then plan.base[view.name] = r
        elseif code == "EINVAL" then problems[#problems + 1] = tostring(err)
        else plan.base_failure = { err, code or "EREMOTE" } end
      end
    end
  end

  -- labels
  local fields = desc.labels or {}
  if type(fields) ~= "table" then
    problems[#problems + 1] = "extension.lua: labels must be a table"
    fields = {}
  end
  local meant = extension.check_label_names(fields, problems)
  local known_fields = {}
  for k, v in pairs(fields) do if meant[k] == nil then known_fields[k] = v end end
  local ok, labels = pcall(label.extension, known_fields)
  if not ok then
    problems[#problems + 1] = "extension.lua: labels: " .. tostring(labels):gsub("^[^:]*:%d+: ", "")
    labels = {}
  else
    local _, label_problems, label_warnings = label.validate_extension(labels, { private = plan.private, sdk = sdk })
    -- a misspelt label is said once: its line stands for the "is missing" of the one it meant
    local said = {}
    for _, f in pairs(meant) do
      for _, k in ipairs(label.KEYS) do if k.field == f then said['image label "' .. k.key .. '" is missing'] = true end end
    end
    for _, list in ipairs({ { label_problems or {}, problems }, { label_warnings, warnings } }) do
      for _, lp in ipairs(list[1]) do
        -- a placeholder is reported once, as such, not also as a malformed value
        local missing = lp:match('image label "[^"]+" is missing')
        if not lp:find(extension.PLACEHOLDER, 1, true) and not said[missing] then list[2][#list[2] + 1] = lp end
      end
    end
  end
  plan.labels = labels
  extension.check_placeholders(fields, problems)

  -- metadata.json, in every platform's tree
  local meta_text, meta_read
  for _, view in ipairs(plan.platforms) do
    local host = extension.find_in_image(view, "/metadata.json")
    if not host and extension.pending_covers(view, "/metadata.json") then
      plan.metadata_pending = true  -- before_build may write it: nothing to check yet
    elseif not host then
      problems[#problems + 1] = "metadata.json is missing from the " .. view.name ..
        " image (no layer puts a file at /metadata.json)"
    elseif not meta_read then
      local rerr
      meta_read = true
      meta_text, rerr = fs.read(host, extension.METADATA_MAX)
      if not meta_text then
        -- a folder, a FIFO, unreadable or too big: the metadata checks cannot be skipped
        problems[#problems + 1] = "metadata.json: " .. tostring(rerr)
      end
      plan.metadata_path = host
    end
  end
  if meta_text then
    local meta, err = json.decode(meta_text)
    if meta == nil then
      problems[#problems + 1] = "metadata.json: " .. tostring(err)
    else
      plan.metadata = meta
      extension.check_metadata_shape(meta, problems, warnings)
      -- a named file may come from the base image: its layers are looked through when
      -- opts.base_lookup(resolved) reads them (absent in a dry run, which downloads no layer;
      -- such files are listed in plan.unchecked)
      plan.unchecked = {}
      local views = {}
      for _, view in ipairs(plan.platforms) do
        local r = plan.base[view.name]
        views[#views + 1] = { name = view.name, exists = function(path)
          if extension.find_in_image(view, path) then return true end
          if extension.pending_covers(view, path) then return "pending" end
          if not r or plan.base_failure then return false end
          if not opts.base_lookup then
            plan.unchecked[#plan.unchecked + 1] = { platform = view.name, path = path }
            return true
          end
          local lookup, failure = opts.base_lookup(r)
          local e = lookup(path)
          if failure() then plan.base_failure = { failure(), "EREMOTE" }; return true end
          return e ~= nil
        end }
      end
      extension.check_named_files(meta, views, problems, warnings)
    end
  end

  plan.config = extension.normalize_config(desc.config, problems)
  if type(plan.config.labels) == "table" then
    -- labels set there go into the image as they are: a misspelt Docker label too
    extension.check_label_names(plan.config.labels, problems, "config.labels")
  end
  if plan.metadata then
    -- the command the image ends with: ours, else the base's
    for _, view in ipairs(plan.platforms) do
      local r = plan.base[view.name]
      local bcfg = r and type(r.config) == "table" and r.config.config or nil
      local cfg = oci.image_config(bcfg, plan.config)
      local has = (type(cfg.Entrypoint) == "table" and #cfg.Entrypoint > 0) or
                  (type(cfg.Cmd) == "table" and #cfg.Cmd > 0)
      local before = #problems
      extension.check_backend(plan.metadata, has, problems)
      if #problems > before then break end  -- said once, not once per platform
    end
    -- what would only fail once Desktop runs it: modes, the backend's program, the compose file
    local imagefs = require("hoist.imagefs")
    for _, view in ipairs(plan.platforms) do
      local r = plan.base[view.name]
      local bcfg = r and type(r.config) == "table" and r.config.config or nil
      local cfg = oci.image_config(bcfg, plan.config)
      local ours = function(p)
        local e = extension.image_entry(view, p)
        if e then return e end
        -- what before_build will produce (a dry run): taken to be what the release will check
        if extension.pending_covers(view, p) then return { type = "?" } end
        return nil
      end
      local lookup, unknown, base_failure = ours, false, nil
      if r and not plan.base_failure then
        -- the base's layers are read only when a path falls through the extension's own
        if opts.base_lookup then
          local blookup
          blookup, base_failure = opts.base_lookup(r)
          lookup = imagefs.stack(ours, blookup)
        else
          unknown = true
        end
      elseif not r then
        lookup = imagefs.stack(ours)
      end
      if plan.base_failure then break end
      local function read_file(path)
        local host = extension.find_in_image(view, path)
        if host then return fs.read(host, extension.METADATA_MAX) end
        if r then
          plan.unchecked[#plan.unchecked + 1] = { platform = view.name, path = path, what = "vm.composefile" }
          return nil
        end
        return nil, "'" .. path .. "' is not in the " .. view.name .. " image"
      end
      extension.check_runtime(plan.metadata, view, cfg, lookup, unknown, read_file, problems, plan.unchecked)
      if base_failure and base_failure() then plan.base_failure = { base_failure(), "EREMOTE" }; break end
    end
  end
  return plan, problems, warnings
end

return extension
