-- Differential test, hoist side: replays the cases written by gen_and_node.js through hoist.semver
-- and reports every answer that differs from node-semver's.
-- usage: hoist run check.lua CASES.jsonl [MAX_PRINTED]
-- Prints one line per mismatch (function, inputs, node's answer, hoist's answer), up to
-- MAX_PRINTED of them (default: all), then the failures per function and "N passed, M failed";
-- exits 1 when anything failed. Case format: see the header of gen_and_node.js.
-- The cases are JSON lines; a small decoder lives here so this test depends on hoist.semver alone.
local semver = require("hoist.semver")

local path = arg and arg[1]
if not path then
  io.stderr:write("usage: hoist run check.lua CASES.jsonl [MAX_PRINTED]\n")
  os.exit(2)
end
local max_printed = tonumber(arg[2] or "") or math.huge

-- {===== JSON decoding (what JSON.stringify writes) =====

local NULL = setmetatable({}, { __tostring = function() return "null" end })

local ESC = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

local decode_value

local function decode_string(s, i)
  -- i is just after the opening quote
  local parts, n = {}, 0
  while true do
    local j = s:find('["\\]', i)
    if not j then error("unterminated string at " .. i) end
    n = n + 1
    parts[n] = s:sub(i, j - 1)
    if s:sub(j, j) == '"' then
      return table.concat(parts), j + 1
    end
    local c = s:sub(j + 1, j + 1)
    if c == "u" then
      local cp = tonumber(s:sub(j + 2, j + 5), 16)
      i = j + 6
      if cp >= 0xD800 and cp <= 0xDBFF and s:sub(i, i + 1) == "\\u" then
        local lo = tonumber(s:sub(i + 2, i + 5), 16)
        cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
        i = i + 6
      end
      n = n + 1
      parts[n] = utf8.char(cp)
    else
      n = n + 1
      parts[n] = assert(ESC[c], "bad escape")
      i = j + 2
    end
  end
end

decode_value = function(s, i)
  i = s:find("%S", i)
  local c = s:sub(i, i)
  if c == '"' then
    return decode_string(s, i + 1)
  elseif c == "{" then
    local t = {}
    i = s:find("%S", i + 1)
    if s:sub(i, i) == "}" then return t, i + 1 end
    while true do
      i = s:find('"', i)
      local k
      k, i = decode_string(s, i + 1)
      i = s:find(":", i) + 1
      t[k], i = decode_value(s, i)
      i = s:find("%S", i)
      local d = s:sub(i, i)
      if d == "}" then return t, i + 1 end
      i = i + 1
    end
  elseif c == "[" then
    local t, n = {}, 0
    i = s:find("%S", i + 1)
    if s:sub(i, i) == "]" then return t, i + 1 end
    while true do
      n = n + 1
      t[n], i = decode_value(s, i)
      i = s:find("%S", i)
      local d = s:sub(i, i)
      if d == "]" then
        t.n = n
        return t, i + 1
      end
      i = i + 1
    end
  elseif s:sub(i, i + 3) == "true" then
    return true, i + 4
  elseif s:sub(i, i + 4) == "false" then
    return false, i + 5
  elseif s:sub(i, i + 3) == "null" then
    return NULL, i + 4
  else
    local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
    return math.tointeger(tonumber(num)) or tonumber(num), i + #num
  end
end

-- =====}

-- {===== showing values =====

local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    local named = { ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r", ['"'] = '\\"', ["\\"] = "\\\\" }
    return named[c] or string.format("\\x%02x", c:byte())
  end) .. '"'
end

local function show(v)
  local ty = type(v)
  if v == nil or v == NULL then
    return "nil"
  elseif ty == "string" then
    return quote(v)
  elseif ty == "number" then
    return math.type(v) == "float" and string.format("%.17g (float)", v) or tostring(v)
  elseif ty == "boolean" then
    return tostring(v)
  elseif ty == "table" then
    if v.__error then
      return "<raised: " .. tostring(v.__error) .. ">"
    end
    local out = {}
    local n = v.n or #v
    for i = 1, n do out[#out + 1] = show(v[i]) end
    local keys = {}
    for k in pairs(v) do
      if type(k) == "string" and k ~= "n" then keys[#keys + 1] = k end
    end
    table.sort(keys)
    for _, k in ipairs(keys) do out[#out + 1] = k .. "=" .. show(v[k]) end
    return "{" .. table.concat(out, ", ") .. "}"
  end
  return "<" .. ty .. ">"
end

-- =====}

-- Equal to node's answer: nil for null, integers (not floats) for numbers, arrays element-wise.
local function same(want, got)
  if want == NULL then
    return got == nil
  end
  local ty = type(want)
  if ty == "number" then
    return math.type(got) == "integer" and got == want
  elseif ty == "table" then
    if type(got) ~= "table" or got.__error then return false end
    local n = want.n or 0
    if n > 0 or next(want) == nil then
      -- an array (an empty JSON object never occurs as an answer)
      if #got ~= n then return false end
      for i = 1, n do
        if not same(want[i], got[i]) then return false end
      end
      return true
    end
    for k, v in pairs(want) do
      if not same(v, got[k]) then return false end
    end
    return true
  end
  return got == want
end

-- A version object as a plain table, to compare with node's parse answer.
local function fields(v)
  if v == nil then return nil end
  local pre, build = {}, {}
  for i, x in ipairs(v.prerelease) do pre[i] = x end
  for i, x in ipairs(v.build) do build[i] = x end
  return {
    major = v.major, minor = v.minor, patch = v.patch, prerelease = pre, build = build,
    version = v.version, str = tostring(v),
  }
end

local function copy_list(t)
  local r = {}
  for i = 1, t.n or #t do r[i] = t[i] end
  return r
end

local function arg_or_nil(x)
  if x == NULL then return nil end
  return x
end

-- How hoist answers each case: returns the answer (raising is caught by the caller).
local RUN = {
  parse = function(a, o) return fields(semver.parse(a[1], o)) end,
  valid = function(a, o) return semver.valid(a[1], o) end,
  clean = function(a, o) return semver.clean(a[1], o) end,
  coerce = function(a, o) return semver.coerce(a[1], o) end,
  compare = function(a, o) return semver.compare(a[1], a[2], o) end,
  compare_build = function(a, o) return semver.compare_build(a[1], a[2], o) end,
  diff = function(a) return semver.diff(a[1], a[2]) end,
  satisfies = function(a, o) return semver.satisfies(a[1], a[2], o) end,
  max_satisfying = function(a, o) return semver.max_satisfying(copy_list(a[1]), a[2], o) end,
  min_satisfying = function(a, o) return semver.min_satisfying(copy_list(a[1]), a[2], o) end,
  latest = function(a, o)
    if a[2] == NULL then return semver.latest(copy_list(a[1]), nil, o) end
    return semver.latest(copy_list(a[1]), a[2], o)
  end,
  valid_range = function(a, o) return semver.valid_range(a[1], o) end,
  min_version = function(a, o) return semver.min_version(a[1], o) end,
  inc = function(a)
    return semver.inc(a[1], a[2], arg_or_nil(a[3]), arg_or_nil(a[4]))
  end,
  sort = function(a, o) return semver.sort(copy_list(a[1]), o) end,
  rsort = function(a, o) return semver.rsort(copy_list(a[1]), o) end,
}

-- Derived checks with the same node answer: version objects in place of strings.
local function parsed(s, o)
  local v = semver.parse(s, o)
  return v
end
local DERIVED = {
  compare = function(a, o, want)
    local x, y = parsed(a[1], o), parsed(a[2], o)
    if not x or not y then return end
    local r = {
      ["compare(objects)"] = semver.compare(x, y, o),
      ["compare(object, string)"] = semver.compare(x, a[2], o),
      ["x < y"] = x < y,
      ["x <= y"] = x <= y,
      ["x == y"] = x == y,
    }
    local expect = {
      ["compare(objects)"] = want,
      ["compare(object, string)"] = want,
      ["x < y"] = want < 0,
      ["x <= y"] = want <= 0,
      ["x == y"] = want == 0,
    }
    return r, expect
  end,
  satisfies = function(a, o, want)
    local x = parsed(a[1], o)
    if not x then return end
    return { ["satisfies(object)"] = semver.satisfies(x, a[2], o) }, { ["satisfies(object)"] = want }
  end,
}

local passed, failed, printed = 0, 0, 0
local failed_by = {}

local function describe(f, a, o)
  local parts = {}
  for i = 1, a.n or #a do parts[i] = show(a[i]) end
  if o ~= nil then parts[#parts + 1] = show(o) end
  return f .. "(" .. table.concat(parts, ", ") .. ")"
end

local function report(label, a, o, want, got)
  failed = failed + 1
  failed_by[label] = (failed_by[label] or 0) + 1
  if printed < max_printed then
    printed = printed + 1
    print(string.format("FAIL %s\n  node:  %s\n  hoist: %s", describe(label, a, o), show(want), show(got)))
  end
end

local file = assert(io.open(path, "r"))
local lineno = 0
for line in file:lines() do
  lineno = lineno + 1
  if line ~= "" then
    local c = decode_value(line, 1)
    local f, a = c.f, c.a
    local o = c.o
    if o == NULL then o = nil end
    local run = assert(RUN[f], "unknown function " .. tostring(f) .. " on line " .. lineno)
    local ok, got = pcall(run, a, o)
    if not ok then got = { __error = got } end
    if c.err then
      -- node threw: hoist must raise
      if ok then
        report(f, a, o, { __error = "(node throws)" }, got)
      else
        passed = passed + 1
      end
    elseif ok and same(c.r, got) then
      passed = passed + 1
      local derive = DERIVED[f]
      if derive then
        local dok, r, expect = pcall(derive, a, o, c.r)
        if not dok then
          report(f .. "(objects)", a, o, c.r, { __error = r })
        elseif r then
          for k, w in pairs(expect) do
            if r[k] == w then
              passed = passed + 1
            else
              report(f .. ": " .. k, a, o, w, r[k])
            end
          end
        end
      end
    else
      report(f, a, o, c.r, got)
    end
  end
end
file:close()

if printed < failed then
  print(string.format("... %d more failures not shown", failed - printed))
end
local names = {}
for k in pairs(failed_by) do names[#names + 1] = k end
table.sort(names)
for _, k in ipairs(names) do
  print(string.format("  %-28s %6d failed", k, failed_by[k]))
end
print(string.format("%d passed, %d failed", passed, failed))
if failed > 0 then
  os.exit(1)
end
