--[[
hoist.label: the Docker Desktop extension image labels (DESIGN.md section 3,
EXTENSIONS.md sections 2 and 5).

  label.extension(fields)          -> { [label key] = string }      (raises on misuse)
  label.validate_extension(labels) -> true | false, problems        (raises on misuse)
  label.KEYS        array of { key =, field =, required = } in the order of the docs' table
  label.REQUIRED    set: key -> true
  label.CATEGORIES  array of the allowed category names

Division of work: extension() only checks Lua types (a wrong type is a bug in the
caller) and encodes; whether the values make a publishable extension is decided by
validate_extension(), so a description can be built, inspected and reported on in one
pass. Values already given as strings are passed through untouched for the same reason.
]]
local json = require("hoist.json")
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
local by_field, by_key = {}, {}
for _, k in ipairs(label.KEYS) do
  if k.required then label.REQUIRED[k.key] = true end
  by_field[k.field] = k
  by_key[k.key] = k
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
      error(string.format("label.extension: %s must be an array (found key %s)", field, tostring(k)), 4)
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
        error(string.format("label.extension: label %q must be a string, got %s", name, type(v)), 2)
      end
    else
      error(string.format("label.extension: unknown field %q", name), 2)
    end
  end
  -- Raw keys second, so a clash with a field is caught whichever name sorts first.
  for _, name in ipairs(names) do
    local v = fields[name]
    if not by_field[name] and name:find(".", 1, true) then
      if out[name] ~= nil then
        error(string.format("label.extension: label %q is set twice (as %s and as a raw key)",
          name, by_key[name].field), 2)
      end
      out[name] = v
    end
  end
  return out
end

-- ---- validating ----

-- %q, kept on one line: every problem is one line, whatever the value holds.
local function quote(s)
  return (string.format("%q", s):gsub("\\\n", "\\n"))
end

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

-- Only the shape (scheme, host, no spaces): whether the URL answers is not checked here.
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
  ["com.docker.extension.categories"] = function(s)
    local found = {}
    for item in (s .. ","):gmatch("([^,]*),") do
      local name = item:match("^%s*(.-)%s*$")
      if name == "" then
        found[#found + 1] = "has an empty entry"
      elseif not is_category[name] then
        found[#found + 1] = "has unknown category " .. quote(name)
      end
    end
    return found
  end,
}

-- Keys in sorted order, so problems come out sorted by key.
local SORTED = {}
for _, k in ipairs(label.KEYS) do SORTED[#SORTED + 1] = k.key end
table.sort(SORTED)

function label.validate_extension(labels)
  if type(labels) ~= "table" then
    error("label.validate_extension: table expected, got " .. type(labels), 2)
  end
  local problems = {}
  for _, key in ipairs(SORTED) do
    local v = labels[key]
    local required = label.REQUIRED[key]
    -- validate's own wording; it prefixes every problem of a required label with "(required)".
    local prefix = string.format('%simage label "%s"', required and "(required) " or "", key)
    if v == nil then
      if required then problems[#problems + 1] = prefix .. " is missing" end
    elseif type(v) ~= "string" then
      problems[#problems + 1] = prefix .. " is not a string (" .. type(v) .. ")"
    elseif v:match("^%s*$") then
      -- Blank counts as empty: Desktop would show nothing. An empty optional label is
      -- as good as an absent one (account-info is empty by design).
      if required then problems[#problems + 1] = prefix .. " is set to empty string" end
    else
      for _, what in ipairs(CHECKS[key] and CHECKS[key](v) or {}) do
        problems[#problems + 1] = prefix .. " " .. what
      end
    end
  end
  if #problems > 0 then return false, problems end
  return true
end

return label
