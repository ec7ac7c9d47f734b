-- hoist.keys: the one checker for tables a user writes (extension.lua at every level) and for the
-- option tables of the Lua API. A key hoist does not know is never ignored: a misspelt
-- `platfroms` or `before_bulid` would otherwise change nothing and say nothing. Each unknown key
-- is named with where it is and, when one is close, the known key it was probably meant to be.
-- (The C bindings check their own option tables the same way: host/lua/binding.c.)
local text = require("hoist.text")

local keys = {}

-- Edit distance of two short strings, a swap of two neighbouring letters counting as one edit
-- (optimal string alignment): `platfroms`, `entrypiont`, `anme` are one typo away from theirs.
local function distance(a, b)
  local la, lb = #a, #b
  if la > 64 or lb > 64 then return math.huge end
  local d = {}
  for i = 0, la do d[i] = { [0] = i } end
  for j = 0, lb do d[0][j] = j end
  for i = 1, la do
    for j = 1, lb do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      local best = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        best = math.min(best, d[i - 2][j - 2] + 1)
      end
      d[i][j] = best
    end
  end
  return d[la][lb]
end

-- The known name closest to word, when it is close enough to be a likely typo (nil otherwise):
-- within a third of its length (at least 1), or `limit` edits when given.
-- Case and '-'/'_' differences count as nothing: `Entrypoint`, `exposed-ports` find theirs.
function keys.closest(word, known, limit)
  if type(word) ~= "string" then return nil end
  local function fold(s) return (s:lower():gsub("[-_.]", "")) end
  local w = fold(word)
  local best, best_d = nil, math.huge
  for _, k in ipairs(known) do
    local d = fold(k) == w and 0 or distance(word:lower(), k:lower())
    if d < best_d then best, best_d = k, d end
  end
  if best and best_d <= (limit or math.max(1, #word // 3)) then return best end
  return nil
end

-- a key as the message quotes it: one line whatever it holds (control characters as \ddd)
local function show(k)
  if type(k) == "string" then return "'" .. text.bare(k) .. "'" end
  return tostring(k) .. " (a " .. type(k) .. " key)"
end

-- "unknown key 'entrypiont' in config (did you mean 'entrypoint'?)"
function keys.message(k, known, where)
  local near = keys.closest(k, known)
  return string.format("unknown key %s%s%s", show(k), where and (" in " .. where) or "",
    near and (" (did you mean '" .. near .. "'?)") or "")
end

--[[
keys.check(t, known, where, problems [, prefix]) appends one line to problems for each key of t
not in known (an array of names; integer keys count as unknown unless allow_array), sorted so the
output is stable, and returns how many it found. prefix starts each line ("extension.lua: ").
]]
function keys.check(t, known, where, problems, prefix, allow_array)
  if type(t) ~= "table" then return 0 end
  local set = {}
  for _, k in ipairs(known) do set[k] = true end
  local bad = {}
  for k in pairs(t) do
    if not set[k] and not (allow_array and math.type(k) == "integer") then bad[#bad + 1] = k end
  end
  table.sort(bad, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(bad) do
    problems[#problems + 1] = (prefix or "") .. keys.message(k, known, where)
  end
  return #bad
end

--[[
keys.options(opts, known, fname [, depth]): the option table of an API function. nil is an empty
table; a non-table or an unknown key is misuse and raises "bad option 'dryrun' to
'release.context' (did you mean 'dry_run'?)" at the caller's caller (depth: that many frames
further out, for a module's own helper that calls this). Returns opts (or {}).
]]
function keys.options(opts, known, fname, depth)
  local level = 3 + (depth or 0)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error(string.format("%s: options must be a table, got a %s", fname, type(opts)), level) end
  local set = {}
  for _, k in ipairs(known) do set[k] = true end
  local bad = {}
  for k in pairs(opts) do if not set[k] then bad[#bad + 1] = k end end
  if #bad > 0 then
    table.sort(bad, function(a, b) return tostring(a) < tostring(b) end)
    local near = keys.closest(bad[1], known)
    error(string.format("bad option %s to '%s'%s", show(bad[1]), fname,
      near and (" (did you mean '" .. near .. "'?)") or ""), level)
  end
  return opts
end

return keys
