--[[
hoist.label: the Docker Desktop extension image labels (DESIGN.md section 3,
EXTENSIONS.md sections 2 and 5).

  label.extension(fields)          -> { [label key] = string }      (raises on misuse)
  label.unknown(fields)            -> { { name =, near = field } ... }  names hoist would not use
  label.validate_extension(labels [, opts]) -> ok, problems | nil, warnings  (raises on misuse)
  label.KEYS        array of { key =, field =, required = } in the order of the docs' table
  label.FIELDS      the field names, in the same order
  label.REQUIRED    set: key -> true
  label.MARKETPLACE_ONLY  set: key -> true for the labels only the Marketplace needs
  label.CATEGORIES  array of the documented category names

Division of work: extension() only checks Lua types (a wrong type is a bug in the
caller) and encodes; whether the values make a publishable extension is decided by
validate_extension(), so a description can be built, inspected and reported on in one
pass. Values already given as strings are passed through untouched for the same reason.
]]
local json = require("hoist.json")
local text = require("hoist.text")
local keys = require("hoist.keys")
local semver = require("hoist.semver")

local label = {}

-- How each field is turned into a label value: "string" as is, "json" a JSON array of
-- records, "list" a comma-joined array of strings.
label.KEYS = {
  { key = "org.opencontainers.image.title", field = "title", required = true },
  { key = "org.opencontainers.image.description", field = "description", required = true },
  { key = "org.opencontainers.image.vendor", field = "vendor", required = true },
  { key = "com.docker.desktop.extension.api.version", field = "api_version", required = true },
  { key = "com.docker.desktop.extension.icon", field = "icon", required = true },
  { key = "com.docker.extension.screenshots", field = "screenshots", required = true },
  { key = "com.docker.extension.detailed-description", field = "detailed_description", required = true },
  { key = "com.docker.extension.publisher-url", field = "publisher_url", required = true },
  { key = "com.docker.extension.additional-urls", field = "additional_urls", required = false },
  { key = "com.docker.extension.changelog", field = "changelog", required = true },
  { key = "com.docker.extension.account-info", field = "account_info", required = false },
  -- Optional in the docs, but `docker extension validate` has required it since 2023.
  { key = "com.docker.extension.categories", field = "categories", required = true },
}

label.REQUIRED = {}
label.FIELDS = {}
local by_field, by_key = {}, {}
for _, k in ipairs(label.KEYS) do
  if k.required then label.REQUIRED[k.key] = true end
  label.FIELDS[#label.FIELDS + 1] = k.field
  by_field[k.field] = k
  by_key[k.key] = k
end

-- What `docker extension install` itself needs is the title (the tab's name) and api.version
-- (Desktop refuses an extension it is too old for); every other label is only read by the
-- Marketplace. A private extension (marketplace = false, --private) gets warnings for those.
label.MARKETPLACE_ONLY = {}
for _, k in ipairs(label.KEYS) do
  if k.field ~= "title" and k.field ~= "api_version" then label.MARKETPLACE_ONLY[k.key] = true end
end

-- The prefixes of Docker's own extension labels: a key under one of them that is not one of
-- Docker's labels is a misspelt label (Docker would ignore it, and the real one stays unset).
label.NAMESPACES = { "com.docker.extension.", "com.docker.desktop.extension." }
local PREFIXES = { "com.docker.desktop.extension.", "com.docker.extension.", "org.opencontainers.image." }

local function in_namespace(key)
  for _, ns in ipairs(label.NAMESPACES) do
    if key:sub(1, #ns) == ns then return true end
  end
  return false
end

-- The label records keyed by what follows their prefix ("categories", "api.version", "title").
local by_suffix, suffixes = {}, {}
for _, k in ipairs(label.KEYS) do
  for _, p in ipairs(PREFIXES) do
    if k.key:sub(1, #p) == p then
      local rest = k.key:sub(#p + 1)
      by_suffix[rest] = k
      suffixes[#suffixes + 1] = rest
      break
    end
  end
end

--[[
The Docker label a key in Docker's namespaces was probably meant to be: its record { key, field },
or nil. Only the part after the prefix is compared, and under either prefix, so
com.docker.extension.category finds categories, com.docker.extension.api.version finds
com.docker.desktop.extension.api.version and com.docker.extension.title finds the OCI title.
]]
local function near_label(key)
  for _, p in ipairs(PREFIXES) do
    if key:sub(1, #p) == p then
      -- looser than for a field name: the namespace already says a Docker label was meant, and
      -- category/categories are three edits apart
      local rest = key:sub(#p + 1)
      local near = keys.closest(rest, suffixes, math.max(2, #rest // 2))
      return near and by_suffix[near] or nil
    end
  end
  return nil
end

label.CATEGORIES = {
  "ci-cd", "container-orchestration", "cloud-deployment", "cloud-development", "database",
  "kubernetes", "networking", "image-registry", "security", "testing-tools", "utility-tools",
  "volumes",
}
local is_category = {}
for _, c in ipairs(label.CATEGORIES) do is_category[c] = true end

local ENCODING = { screenshots = "json", additional_urls = "json", categories = "list" }

-- ---- building ----

-- Checks that v is an array (keys exactly 1..n) whose entries have type entry_type.
local function check_array(v, field, entry_type)
  local n = #v
  for k in pairs(v) do
    if math.type(k) ~= "integer" or k < 1 or k > n then
      error(string.format("label.extension: %s must be an array (found key %s)", field,
        type(k) == "string" and text.quote(k) or tostring(k)), 4)
    end
  end
  for i = 1, n do
    if type(v[i]) ~= entry_type then
      error(string.format("label.extension: %s[%d] must be a %s, got %s", field, i, entry_type, type(v[i])), 4)
    end
  end
end

local function encode_field(field, v)
  local how = ENCODING[field]
  if type(v) == "string" then return v end          -- given ready-made: validate judges it
  if how == nil or type(v) ~= "table" then
    error(string.format("label.extension: %s must be a string%s, got %s", field,
      how and " or a table" or "", type(v)), 3)
  end
  if how == "list" then
    check_array(v, field, "string")
    return table.concat(v, ",")
  end
  check_array(v, field, "table")
  -- A copy marked as an array so an empty list encodes as "[]" without marking the caller's table.
  local copy = json.array({})
  for i, entry in ipairs(v) do copy[i] = entry end
  return json.encode(copy, { sort_keys = true })    -- sorted keys: the same text every time
end

function label.extension(fields)
  if type(fields) ~= "table" then
    error("label.extension: table expected, got " .. type(fields), 2)
  end
  -- Names in sorted order, so the same bad input always raises the same error.
  local names = {}
  for name in pairs(fields) do
    if type(name) ~= "string" then error("label.extension: unexpected key " .. tostring(name), 2) end
    names[#names + 1] = name
  end
  table.sort(names)
  local out = {}
  for _, name in ipairs(names) do
    local v = fields[name]
    if by_field[name] then
      out[by_field[name].key] = encode_field(name, v)
    elseif name:find(".", 1, true) then
      -- A raw label such as org.opencontainers.image.source: passed through unchanged.
      if type(v) ~= "string" then
        error(string.format("label.extension: label %s must be a string, got %s", text.quote(name), type(v)), 2)
      end
    else
      local near = keys.closest(name, label.FIELDS)
      error(string.format("label.extension: unknown field %s%s", text.quote(name),
        near and (" (did you mean '" .. near .. "'?)") or ""), 2)
    end
  end
  -- Raw keys second, so a clash with a field is caught whichever name sorts first.
  for _, name in ipairs(names) do
    local v = fields[name]
    if not by_field[name] and name:find(".", 1, true) then
      if out[name] ~= nil then
        error(string.format("label.extension: label %s is set twice (as %s and as a raw key)",
          text.quote(name), by_key[name].field), 2)
      end
      out[name] = v
    end
  end
  return out
end

--[[
label.unknown(fields): the names in an extension.lua labels table that would not make the label
their author meant: a name without a dot that is not a field ("catgories"), and a raw key in
Docker's namespaces that is not one of Docker's labels ("com.docker.extension.category").
Returns an array of { name =, raw = bool, near = the field it was probably meant to be (or nil) },
sorted by name. Other raw keys (org.opencontainers.image.source, a team's own) are fine.
]]
function label.unknown(fields)
  if type(fields) ~= "table" then error("label.unknown: table expected, got " .. type(fields), 2) end
  local out = {}
  for name in pairs(fields) do
    if type(name) == "string" and not by_field[name] then
      if not name:find(".", 1, true) then
        out[#out + 1] = { name = name, raw = false, near = keys.closest(name, label.FIELDS) }
      elseif in_namespace(name) and not by_key[name] then
        local near = near_label(name)
        out[#out + 1] = { name = name, raw = true, near = near and near.field }
      end
    end
  end
  table.sort(out, function(a, b) return a.name < b.name end)
  return out
end

-- ---- validating ----

local quote = text.quote

-- "[" for a decoded JSON array, "{" for an object: decode marks the arrays it makes, so
-- encoding again tells "[]" from "{}", which both arrive as empty tables.
local function json_kind(v)
  return type(v) == "table" and json.encode(v):sub(1, 1) or nil
end

-- Checks a JSON array of objects that must each carry the non-empty string members in names.
local function check_records(s, names)
  local list, err = json.decode(s)
  if list == nil then return { "is not valid JSON (" .. tostring(err) .. ")" } end
  if json_kind(list) ~= "[" then return { "is not a JSON array" } end
  local found = {}
  for i, entry in ipairs(list) do
    if json_kind(entry) ~= "{" then
      found[#found + 1] = string.format("has entry %d that is not an object", i)
    else
      for _, name in ipairs(names) do
        local m = entry[name]
        if m == nil then
          found[#found + 1] = string.format("has entry %d without %s", i, quote(name))
        elseif type(m) ~= "string" or m == "" then
          found[#found + 1] = string.format("has entry %d whose %s is empty or not a string", i, quote(name))
        end
      end
    end
  end
  return found
end

-- Only the shape (scheme, host, no spaces): whether the URL answers is not checked here (nor
-- by Docker: two submitters replaced an icon path by a URL to pass, a dead URL is found in review).
local function check_url(s)
  if s:match("^https?://[^/%s?#]+[^%s]*$") then return {} end
  return { "(" .. quote(s) .. ") is not an http(s) URL" }
end

-- Format checks by key; each returns an array of problem texts (without the key).
local CHECKS = {
  ["com.docker.desktop.extension.api.version"] = function(s)
    if semver.valid_range(s) then return {} end
    return { "(" .. quote(s) .. ") is not a semver version or constraint" }
  end,
  ["com.docker.desktop.extension.icon"] = check_url,
  ["com.docker.extension.publisher-url"] = check_url,
  ["com.docker.extension.screenshots"] = function(s)
    return check_records(s, { "alt", "url" })
  end,
  ["com.docker.extension.additional-urls"] = function(s)
    return check_records(s, { "title", "url" })
  end,
  ["com.docker.extension.account-info"] = function(s)
    if s == "required" then return {} end
    return { "(" .. quote(s) .. ") must be \"required\" or empty" }
  end,
}

--[[
Category names outside the documented list are only a warning: Docker's validate does not check
them ("Utility tools", "utility", "DATABASES & STORAGE" all passed in 2025-26), but the
Marketplace files an extension under the documented ones only.
]]
local function category_warnings(key, s)
  local found = {}
  for item in (s .. ","):gmatch("([^,]*),") do
    local name = item:match("^%s*(.-)%s*$")
    if name == "" then
      found[#found + 1] = string.format('image label "%s" has an empty entry', key)
    elseif not is_category[name] then
      local near = keys.closest(name, label.CATEGORIES)
      found[#found + 1] = string.format('image label "%s" has %s, which is not one of the documented ' ..
        "categories%s", key, quote(name), near and (" (did you mean " .. quote(near) .. "?)")
        or " (" .. table.concat(label.CATEGORIES, ", ") .. ")")
    end
  end
  return found
end

-- Keys in sorted order, so problems come out sorted by key.
local SORTED = {}
for _, k in ipairs(label.KEYS) do SORTED[#SORTED + 1] = k.key end
table.sort(SORTED)

local TITLE = "org.opencontainers.image.title"
local API = "com.docker.desktop.extension.api.version"

--[[
The SDK compatibility check of `docker extension validate --sdk-compatibility`: the api.version
constraint must accept the SDK version (a bare version means exactly that version, a comma means
AND: `>= 1.4.7, < 2.0`). Returns Docker's message, or nil when compatible.
]]
function label.sdk_problem(api_version, sdk)
  if type(api_version) ~= "string" then error("label.sdk_problem: the api.version label expected", 2) end
  if type(sdk) ~= "string" or not semver.valid(sdk) then
    error("label.sdk_problem: an SDK version like \"0.3.4\" expected, got " .. tostring(sdk), 2)
  end
  if semver.valid_range(api_version) and semver.satisfies(sdk, api_version) then return nil end
  return string.format('(required) image label "%s" (%s) is incompatible with current SDK version %s. ' ..
    'Consider changing it to ">=%s"', API, quote(api_version), quote(semver.valid(sdk)), semver.valid(sdk))
end

local VALIDATE_OPTS = { "private", "sdk" }

--[[
label.validate_extension(labels [, opts]) checks image labels like `docker extension validate`.
opts: { private = true (an extension installed with `docker extension install`, not listed in the
Marketplace: problems with the Marketplace-only labels become warnings), sdk = "0.3.4" (also check
that api.version accepts that SDK version) }.
Returns ok, problems (nil when ok), warnings (an array, maybe empty); each one line naming the key.
]]
function label.validate_extension(labels, opts)
  if type(labels) ~= "table" then
    error("label.validate_extension: table expected, got " .. type(labels), 2)
  end
  opts = keys.options(opts, VALIDATE_OPTS, "label.validate_extension")
  if opts.sdk ~= nil and (type(opts.sdk) ~= "string" or not semver.valid(opts.sdk)) then
    error("label.validate_extension: opts.sdk must be a version like \"0.3.4\", got " .. tostring(opts.sdk), 2)
  end
  local problems, warnings = {}, {}
  for _, key in ipairs(SORTED) do
    local v = labels[key]
    local required = label.REQUIRED[key]
    local relaxed = opts.private and label.MARKETPLACE_ONLY[key]
    local found = {}
    -- validate's own wording; it prefixes every problem of a required label with "(required)".
    local prefix = string.format('%simage label "%s"', required and "(required) " or "", key)
    if v == nil then
      if required then found[#found + 1] = prefix .. " is missing" end
    elseif type(v) ~= "string" then
      found[#found + 1] = prefix .. " is not a string (" .. type(v) .. ")"
    elseif v:match("^%s*$") then
      -- Blank counts as empty: Desktop would show nothing. An empty optional label is
      -- as good as an absent one (account-info is empty by design; additional-urls "" passes).
      if required then found[#found + 1] = prefix .. " is set to empty string" end
    else
      for _, what in ipairs(CHECKS[key] and CHECKS[key](v) or {}) do
        found[#found + 1] = prefix .. " " .. what
      end
      if key == "com.docker.extension.categories" then
        for _, w in ipairs(category_warnings(key, v)) do warnings[#warnings + 1] = w end
      end
    end
    for _, f in ipairs(found) do
      if relaxed then
        warnings[#warnings + 1] = f .. " (the Marketplace needs it; a private extension may go without)"
      else
        problems[#problems + 1] = f
      end
    end
  end
  -- Docker's naming rule (2022 onward; renames still asked for in 2025): the title label only,
  -- in any case. Desktop installs such an image, so for a private extension it is a warning.
  local title = labels[TITLE]
  if type(title) == "string" and title:lower():find("extension", 1, true) then
    local msg = string.format('title %s should not include "extension"', quote(title))
    if opts.private then warnings[#warnings + 1] = msg else problems[#problems + 1] = msg end
  end
  local api = labels[API]
  if opts.sdk and type(api) == "string" and semver.valid_range(api) then
    problems[#problems + 1] = label.sdk_problem(api, opts.sdk)
  end
  -- A key in Docker's namespaces that is none of Docker's labels: a misspelling (the real label
  -- stays unset). Docker ignores it, so on an image it is a warning; extension.lua refuses it.
  local odd = {}
  for k in pairs(labels) do
    if type(k) == "string" and in_namespace(k) and not by_key[k] then odd[#odd + 1] = k end
  end
  table.sort(odd)
  for _, k in ipairs(odd) do
    local near = near_label(k)
    warnings[#warnings + 1] = string.format('image label "%s" is not a Docker extension label%s', text.bare(k),
      near and (' (did you mean "' .. near.key .. '"?)') or "")
  end
  if #problems > 0 then return false, problems, warnings end
  return true, nil, warnings
end

return label
