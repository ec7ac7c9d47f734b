-- hoist.semver on the semver benchmark workload: sort the versions in FILE, then test each one
-- against 4 ranges; the same work as shared/bench/semver_bench.js does with node-semver.
-- usage: hoist run semver_bench.lua VERSIONS_FILE   (driven by tests/bench/semver)
-- Prints JSON: milliseconds (CPU time, os.clock) for the sort and for the satisfies loop, the count
-- of matches, and the first and last versions after sorting.
local semver = require("hoist.semver")

local path = arg[1]
if not path then
  io.stderr:write("usage: hoist run semver_bench.lua VERSIONS_FILE\n")
  os.exit(2)
end
local vs, n = {}, 0
for line in assert(io.open(path, "r")):lines() do
  if line ~= "" then
    n = n + 1
    vs[n] = line
  end
end

local t = os.clock()
local s = semver.sort(vs)
local sort_ms = (os.clock() - t) * 1000

local ranges = { "^1.2.3", "~2.3.0 || >=10.0.0 <11.0.0-0", "1.x || 3.2.1 - 4.5.6", ">= 0.3.3" }
local satisfies = semver.satisfies
t = os.clock()
local c = 0
for i = 1, n do
  local v = vs[i]
  for j = 1, #ranges do
    if satisfies(v, ranges[j]) then c = c + 1 end
  end
end
local sat_ms = (os.clock() - t) * 1000

local function str(x)
  return '"' .. x:gsub('[%c"\\]', function(ch) return string.format("\\u%04x", ch:byte()) end) .. '"'
end
print(string.format('{"sortMs":%.3f,"satMs":%.3f,"matches":%d,"first":%s,"last":%s}',
  sort_ms, sat_ms, c, str(s[1]), str(s[n])))
