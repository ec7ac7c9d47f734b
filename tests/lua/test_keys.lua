-- Every key a user writes is checked (hoist issue 12, item 1): each documented key of extension.lua
-- (top level, layer entries, config, healthcheck, hooks, the label fields, base, metadata.json's
-- nested keys) and each option of the Lua API, misspelt by swapping two neighbouring letters,
-- must give an error (a problem, a warning for metadata.json below its root, a raise for an option
-- table) that names the misspelt key, says where it is, and suggests the key meant.
local t = require("testlib")
local extension = require("hoist.extension")
local fs = require("hoist.fs")
local json = require("hoist.json")
local keys = require("hoist.keys")
local label = require("hoist.label")

-- "platforms" -> "paltforms": the first two different neighbouring letters after the first one
-- swapped (a typo keeps its first letter more often than not), else the first two.
local function swap(word)
  for i = 2, #word - 1 do
    local a, b = word:sub(i, i), word:sub(i + 1, i + 1)
    if a ~= b then return word:sub(1, i - 1) .. b .. a .. word:sub(i + 2) end
  end
  return word:sub(2, 2) .. word:sub(1, 1) .. word:sub(3)
end

local function find(list, text)
  for _, line in ipairs(list) do
    if line:find(text, 1, true) then return line end
  end
  return nil
end

-- the line for `bad` must name it, say where, and suggest `good`; returns the line
local function assert_named(list, bad, good, where, what)
  local line = find(list, "'" .. bad .. "'") or find(list, '"' .. bad .. '"')
  t.ok(line, string.format("%s: no line names '%s' in: %s", what, bad, table.concat(list, " | ")))
  t.ok(line:find(where, 1, true), string.format("%s: '%s' is not where it is (%s): %s", what, bad, where, line))
  t.ok(line:find("(did you mean '" .. good .. "'?)", 1, true), string.format("%s: no suggestion '%s': %s", what, good, line))
  t.ok(not line:find("\n", 1, true), "one line")
  return line
end

t.test("swap misspells every documented key", function()
  t.eq(swap("platforms"), "paltforms")
  t.eq(swap("to"), "ot")
  t.eq(swap("sdk"), "skd")
  for _, list in ipairs({ extension.TOP_KEYS, extension.ENTRY_KEYS, extension.CONFIG_KEYS,
                          extension.HEALTHCHECK_KEYS, extension.HOOK_NAMES, label.FIELDS }) do
    for _, k in ipairs(list) do t.ok(swap(k) ~= k, k) end
  end
end)

-- A complete extension folder and a description of it, made fresh for each key.
local dir = assert(fs.tmpdir("hoist-keys"))
assert(fs.mkdir(dir .. "/ui"))
assert(fs.write(dir .. "/metadata.json", json.encode({ icon = "docker.svg",
  ui = { ["dashboard-tab"] = { title = "Keys", root = "/ui", src = "index.html" } } })))
assert(fs.write(dir .. "/docker.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>"))
assert(fs.write(dir .. "/ui/index.html", "<!DOCTYPE html>"))

local function desc()
  return {
    dir = dir, path = dir .. "/extension.lua",
    name = "acme/keys", platforms = { "linux/amd64", "linux/arm64" },
    labels = {
      title = "Keys", description = "d", vendor = "v", api_version = ">= 0.3.3",
      icon = "https://acme.example/i.svg", screenshots = { { alt = "a", url = "https://acme.example/1.png" } },
      detailed_description = "<p>d</p>", publisher_url = "https://acme.example",
      additional_urls = { { title = "Docs", url = "https://acme.example/docs" } },
      changelog = "<p>c</p>", account_info = "required", categories = { "utility-tools" },
    },
    layers = { { from = "metadata.json", to = "/metadata.json" },
               { { from = "docker.svg", to = "/docker.svg" }, { from = "ui", to = "/ui" } } },
  }
end

local function check(d)
  local _, problems, warnings = extension.check(d)
  return problems, warnings
end

t.test("the valid description has no problem and no warning", function()
  local problems, warnings = check(desc())
  t.eq(table.concat(problems, " | "), "")
  t.eq(table.concat(warnings, " | "), "")
end)

t.test("every top-level key of extension.lua", function()
  t.ok(#extension.TOP_KEYS >= 10)
  for _, k in ipairs(extension.TOP_KEYS) do
    local d = desc()
    d[swap(k)] = d[k] or true
    d[k] = nil
    local problems = check(d)
    local line = assert_named(problems, swap(k), k, "extension.lua: unknown key", "top level " .. k)
    t.ok(not line:find(" in ", 1, true), "the top level has no 'in': " .. line)
  end
end)

t.test("every key of a layer entry", function()
  for _, k in ipairs(extension.ENTRY_KEYS) do
    local d = desc()
    d.layers[2][2][swap(k)] = "x"
    assert_named(check(d), swap(k), k, "in layer 2 entry 2", "entry " .. k)
    -- a single-entry layer too
    d = desc()
    d.layers[1][swap(k)] = "x"
    assert_named(check(d), swap(k), k, "in layer 1 entry 1", "single entry " .. k)
  end
end)

t.test("every key of config and config.healthcheck", function()
  for _, k in ipairs(extension.CONFIG_KEYS) do
    local d = desc()
    d.config = { [swap(k)] = "x" }
    assert_named(check(d), swap(k), k, "in config", "config " .. k)
  end
  for _, k in ipairs(extension.HEALTHCHECK_KEYS) do
    local d = desc()
    d.config = { healthcheck = { test = { "CMD", "/probe" }, [swap(k)] = "30s" } }
    assert_named(check(d), swap(k), k, "in config.healthcheck", "healthcheck " .. k)
  end
end)

t.test("every hook name", function()
  for _, k in ipairs(extension.HOOK_NAMES) do
    local d = desc()
    d.hooks = { [swap(k)] = function() end }
    assert_named(check(d), swap(k), k, "in hooks", "hook " .. k)
  end
end)

t.test("every label field, and Docker's raw label keys", function()
  t.eq(#label.FIELDS, 12)
  for _, k in ipairs(label.FIELDS) do
    local d = desc()
    d.labels[swap(k)] = d.labels[k]
    d.labels[k] = nil
    local problems = check(d)
    assert_named(problems, swap(k), k, "in labels", "label field " .. k)
    -- said once: not also as the missing label it was meant to be
    local rec
    for _, r in ipairs(label.KEYS) do if r.field == k then rec = r end end
    t.ok(not find(problems, 'image label "' .. rec.key .. '" is missing'), "missing said too for " .. k)
  end
  -- a raw key in Docker's namespaces, misspelt: the field meant
  for _, r in ipairs(label.KEYS) do
    local prefix, rest = r.key:match("^(.-%.)([^.]+)$")
    if r.key:find("^com%.docker%.") then
      local d = desc()
      local bad = prefix .. swap(rest)
      d.labels[bad] = "x"
      assert_named(check(d), bad, r.field, "in labels", "raw " .. r.key)
    end
  end
  -- the brief's example: com.docker.extension.category -> categories
  local d = desc()
  d.labels.categories = nil
  d.labels["com.docker.extension.category"] = "utility-tools"
  assert_named(check(d), "com.docker.extension.category", "categories", "in labels", "category")
  -- in config.labels the real key is suggested
  d = desc()
  d.config = { labels = { ["com.docker.extension.chagnelog"] = "x" } }
  assert_named(check(d), "com.docker.extension.chagnelog", "com.docker.extension.changelog", "in config.labels", "config.labels")
end)

t.test("base: a platform the extension does not ship", function()
  local d = desc()
  d.base = { ["linux/amd64"] = "alpine", [swap("linux/arm64")] = "alpine" }
  assert_named(check(d), swap("linux/arm64"), "linux/arm64", "in base", "base")
end)

t.test("metadata.json below the root: warnings naming the key meant", function()
  local n = 0
  for where, list in pairs(extension.METADATA_NESTED) do
    for _, k in ipairs(list) do
      n = n + 1
      local meta = { ui = { ["dashboard-tab"] = { title = "T", root = "/ui", src = "index.html",
                                                   backend = { socket = "s.sock" } } },
                     vm = { image = "x", exposes = { socket = "s.sock" } },
                     host = { binaries = { { linux = { { path = "/linux/tool" } } } } } }
      local tables = {
        ui = meta.ui, ["ui.dashboard-tab"] = meta.ui["dashboard-tab"],
        ["ui.dashboard-tab.backend"] = meta.ui["dashboard-tab"].backend, vm = meta.vm,
        ["vm.exposes"] = meta.vm.exposes, host = meta.host, ["host.binaries[]"] = meta.host.binaries[1],
        ["host.binaries[].os[]"] = meta.host.binaries[1].linux[1],
      }
      tables[where][swap(k)] = tables[where][k] or "x"
      local problems, warnings = {}, {}
      extension.check_metadata_shape(json.decode(json.encode(meta)), problems, warnings)
      local at = ({ ["host.binaries[]"] = "host.binaries[0]", ["host.binaries[].os[]"] = "host.binaries[0].linux[0]" })[where] or where
      assert_named(warnings, swap(k), k, "metadata.json: unknown key", "metadata " .. where .. "." .. k)
      assert_named(warnings, swap(k), k, "in " .. at, "metadata " .. where .. "." .. k)
    end
  end
  t.ok(n >= 14, "walked " .. n)
  -- the root stays Docker's error, in Docker's words
  local problems = {}
  extension.check_metadata_shape({ icon = "i.svg", ui = { ["dashboard-tab"] = { title = "T", root = "/ui", src = "i" } },
                                   name = "x" }, problems, {})
  t.ok(find(problems, "metadata.json: (root): Additional property name is not allowed"), table.concat(problems, " | "))
end)

-- ---------------------------------------------------------------- option tables of the Lua API
-- fname, the options the README documents, and a call with an option table
local oci = require("hoist.oci")
local store = assert(oci.layout(dir .. "/layout"))
local OPTION_TABLES = {
  { "release.context", require("hoist.release").OPTIONS, function(o) return (require("hoist.release").context(o)) end },
  { "copy.run", { "reference", "tags", "platform" }, function(o) return (require("hoist.copy").run({}, {}, o)) end },
  { "endpoint.open", { "creds", "insecure", "create", "parallel" },
    function(o) return (require("hoist.endpoint").open("oci:" .. dir .. "/ep", o)) end },
  { "oci.layout", { "create" }, function(o) return (oci.layout(dir .. "/layout2", o)) end },
  { "oci.layers", { "mtime", "root", "threads", "cache", "private", "plans", "compression", "level" },
    function(o) return (oci.layers(store, {}, o)) end },
  { "oci.cached_layers", { "mtime", "root", "threads", "cache", "private", "plans", "compression", "level" },
    function(o) return (oci.cached_layers({}, o)) end },
  { "oci.plan", { "mtime", "root", "threads", "cache", "private", "plans", "compression", "level" },
    function(o) return (oci.plan({}, o)) end },
  { "oci.layer", { "mtime", "root", "threads", "cache", "private", "plans", "compression", "level" },
    function(o) return (oci.layer(store, {}, o)) end },
  { "oci.index", { "annotations" }, function(o) return (oci.index(store, {}, o)) end },
  { "validate.image", { "private", "sdk" },
    function(o) return (require("hoist.validate").image({}, "1.0.0", o)) end },
  { "label.validate_extension", { "private", "sdk" }, function(o) return (label.validate_extension({}, o)) end },
  { "auth.config_path", { "env" }, function(o) return (require("hoist.auth").config_path(o)) end },
  { "auth.files", { "env" }, function(o) return (require("hoist.auth").files(o)) end },
  { "auth.credentials", { "creds", "env" }, function(o) return (require("hoist.auth").credentials("r.example", o)) end },
  { "auth.connect", { "creds", "insecure", "env", "parallel", "chunk_size" },
    function(o) return (require("hoist.auth").connect("docker://r.example/acme/x", o)) end },
  { "auth.store", { "env" }, function(o) return (require("hoist.auth").store("r.example", "u", "p", o)) end },
  { "auth.erase", { "env" }, function(o) return (require("hoist.auth").erase("r.example", o)) end },
  { "publish.version", { "latest", "float", "force", "extra", "seen" },
    function(o) return (require("hoist.publish").version({}, {}, "", "1.0.0", o)) end },
  { "log.progress", { "unit", "tty_only" }, function(o) return (require("hoist.log").progress("x", 1, o)) end },
}

t.test("every option of every option table", function()
  for _, entry in ipairs(OPTION_TABLES) do
    local fname, known, call = entry[1], entry[2], entry[3]
    for _, k in ipairs(known) do
      local bad = swap(k)
      local ok, err = pcall(call, { [bad] = true })
      t.eq(ok, false, fname .. " accepted " .. bad)
      err = tostring(err)
      t.ok(err:find("bad option '" .. bad .. "' to '" .. fname .. "'", 1, true), fname .. ": " .. err)
      t.ok(err:find("(did you mean '" .. k .. "'?)", 1, true), fname .. " " .. k .. ": " .. err)
      -- raised at the caller (this file), not inside hoist
      t.ok(err:find("test_keys.lua", 1, true), fname .. ": not raised at the caller: " .. err)
      -- the right key is never refused as unknown (the call may fail for other reasons)
      local _, err2 = pcall(call, { [k] = false })
      t.ok(not tostring(err2):find("bad option '" .. k .. "' to '" .. fname .. "'", 1, true),
        fname .. " refuses its own " .. k .. ": " .. tostring(err2))
    end
    local ok, err = pcall(call, "nope")
    t.eq(ok, false, fname .. " accepted a string")
    t.ok(tostring(err):find("options must be a table", 1, true), fname .. ": " .. tostring(err))
  end
end)

t.test("release.context{ dryrun = true } raises instead of publishing", function()
  local release = require("hoist.release")
  local err = t.raises(function() release.context({ dryrun = true, version = "1.0.0" }) end,
    "bad option 'dryrun' to 'release.context' (did you mean 'dry_run'?)")
  t.ok(err:find("test_keys.lua", 1, true), err)
  -- the recipe's raw --platform string is not an option: `platform` would silently do nothing
  t.raises(function() release.context({ platform = "linux/amd64" }) end, "(did you mean 'platforms'?)")
  t.eq(release.context({ dry_run = true }).opts.dry_run, true)
  t.eq(release.context().dir, ".")
end)

t.test("copy.run{ ref = ... } raises", function()
  t.raises(function() require("hoist.copy").run({}, {}, { ref = "1.0.0" }) end, "bad option 'ref' to 'copy.run'")
end)

t.test("hoist.exec options (checked in C) suggest the option meant", function()
  local exec = require("hoist.exec")
  for _, k in ipairs({ "env", "cwd", "stdin", "capture", "timeout", "clear_env" }) do
    local err = t.raises(function() exec.run({ "true", [swap(k)] = 1 }) end, "unknown option '" .. swap(k) .. "'")
    t.ok(err:find("(did you mean '" .. k .. "'?)", 1, true), err)
  end
end)

t.test("keys.closest: one typo away, not further", function()
  t.eq(keys.closest("platfroms", extension.TOP_KEYS), "platforms")
  t.eq(keys.closest("anme", extension.TOP_KEYS), "name")           -- a swap is one edit
  t.eq(keys.closest("exposed-ports", extension.CONFIG_KEYS), "exposed_ports")
  t.eq(keys.closest("Entrypoint", extension.CONFIG_KEYS), "entrypoint")
  t.eq(keys.closest("zzz", extension.TOP_KEYS), nil)
  t.eq(keys.closest("category", { "categories" }), nil)            -- too far for a field name ...
  t.eq(keys.closest("category", { "categories" }, 4), "categories") -- ... but given a limit
end)

t.test("every problem stays one line, whatever a key or value holds (fuzz_metadata found a label key with a newline)", function()
  local text = require("hoist.text")
  t.eq(text.quote("a\nb"), '"a\\nb"')
  t.eq(text.bare("org.op\ncontainer"), "org.op\\010container")
  local problems, warnings = {}, {}
  extension.check_metadata_shape(json.decode('{"org.op\\ncontainer": "x", "icon": "i.svg", "host": {"binaries": []}}'),
    problems, warnings)
  t.ok(#problems > 0, "the unknown root key is a problem")
  for _, p in ipairs(problems) do t.ok(not p:find("\n", 1, true), p) end
  t.ok(problems[1]:find("org.op\\010container", 1, true), problems[1])
  local cfg_problems = {}
  extension.normalize_config({ workdir = "rel\npath", env = { "A\nB" } }, cfg_problems)
  t.eq(#cfg_problems, 2)
  for _, p in ipairs(cfg_problems) do t.ok(not p:find("\n", 1, true), p) end
  -- an unknown key below the root is a warning, quoted by hoist.keys: one line too (fuzz_metadata)
  local np, nw = {}, {}
  extension.check_metadata_shape(json.decode('{"icon": "i.svg", "ui": {"dashboard-tab": {"title": "T", ' ..
    '"root": "/ui", "src": "i.html", "bckd\\n": {}}}}'), np, nw)
  t.eq(#nw, 1)
  t.ok(not nw[1]:find("\n", 1, true), nw[1])
  t.ok(nw[1]:find("'bckd\\010'", 1, true), nw[1])
  -- an unknown raw label in Docker's namespace is a warning on an image: one line too (fuzz_metadata)
  local _, _, lw = require("hoist.label").validate_extension({ ["com.docker.extension.cat\negories"] = "x" })
  t.eq(#lw, 1)
  t.ok(not lw[1]:find("\n", 1, true) and lw[1]:find("cat\\010egories", 1, true), lw[1])
  local ok, err = pcall(keys.options, { ["dry\nrun"] = true }, { "dry_run" }, "release.context")
  t.ok(not ok and not tostring(err):find("\n", 1, true), tostring(err))
  -- a host binary present on some platforms only: the path it names is one line in the warning
  -- (fuzz_metadata: "(no file at PATH)" carried the newline)
  local hp, hw = {}, {}
  extension.check_named_files(json.decode('{"host": {"binaries": [{"windows": [{"path": "/windows/a\\nb.exe"}]}]}}'), {
    { name = "linux/amd64", exists = function() return true end },
    { name = "linux/arm64", exists = function() return false end },
  }, hp, hw)
  t.eq(#hp, 0)
  t.eq(#hw, 1)
  t.ok(not hw[1]:find("\n", 1, true) and hw[1]:find("no file at /windows/a\\010b.exe", 1, true), hw[1])
  -- sockets that differ, one with a newline
  local sp = {}
  extension.check_backend(json.decode('{"vm": {"exposes": {"socket": "b.sock"}}, "ui": {"dashboard-tab": ' ..
    '{"backend": {"socket": "a\\n.sock"}}}}'), true, sp)
  t.eq(#sp, 1)
  t.ok(not sp[1]:find("\n", 1, true) and sp[1]:find("a\\010.sock", 1, true), sp[1])
end)

fs.remove(dir)
t.done()
