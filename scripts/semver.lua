-- Semantic versions for shell release steps: compare, satisfies, inc, sort, latest, valid.
--
-- usage: hoist semver COMMAND [ARGS...] [--loose] [--include-prerelease] [--json]
--
--   compare A B            print -1, 0 or 1 (A lower, equal, higher)
--   compare A OP B         OP is < <= > >= == != (or lt le gt ge eq ne); prints true or false
--   gt|gte|lt|lte|eq|neq A B   the same as compare A OP B
--   satisfies V RANGE      print true or false
--   inc V RELEASE [ID [BASE]]  RELEASE: major minor patch premajor preminor prepatch prerelease
--                          release; ID a prerelease identifier, BASE 0, 1 or false
--   diff A B               print the kind of difference (major, minor, patch, pre..., none)
--   valid V                print the canonical version
--   range RANGE            print the normalized range
--   sort [-r]              versions on stdin, one per line, printed in precedence order
--   latest [RANGE]         tags on stdin; print the highest semver one (non-semver tags are
--                          skipped; prereleases only if RANGE or --include-prerelease allow)
--
-- Exit codes: 0 yes / done; 1 the answer is no (compare with OP, gt..., satisfies, valid,
-- latest with no match); 2 usage error or an argument that is not a version or range.
local semver = require("hoist.semver")
local cli = require("hoist.cli")

local USAGE = "usage: hoist semver compare|gt|gte|lt|lte|eq|neq|satisfies|inc|diff|valid|range|sort|latest ..."

local opts, args = cli.parse(arg, {
  usage = USAGE,
  options = {
    ["--loose"] = { key = "loose" },
    ["--include-prerelease"] = { key = "include_prerelease" },
    ["-p"] = { key = "include_prerelease" },
    ["-r"] = { key = "reverse" },
    ["--reverse"] = { key = "reverse" },
  },
})
local sopts = { loose = opts.loose, include_prerelease = opts.include_prerelease }

local function need(n, what)
  if #args - 1 ~= n then cli.usage_error("'" .. args[1] .. "' takes " .. what .. "; " .. USAGE) end
end

local function version_arg(s)
  if not semver.valid(s, sopts) then cli.usage_error("invalid version '" .. s .. "'") end
  return s
end

local function range_arg(s)
  if not semver.valid_range(s, sopts) then cli.usage_error("invalid range '" .. s .. "'") end
  return s
end

-- Prints a yes/no answer and exits 1 on no.
local function answer(yes)
  cli.output(yes, yes and "true" or "false")
  if not yes then os.exit(cli.EXIT.failure) end
end

local ops = {
  ["<"] = "lt", ["<="] = "lte", [">"] = "gt", [">="] = "gte", ["=="] = "eq", ["="] = "eq",
  ["!="] = "neq", lt = "lt", le = "lte", lte = "lte", gt = "gt", ge = "gte", gte = "gte",
  eq = "eq", ne = "neq", neq = "neq",
}

local function read_lines()
  local out = {}
  for line in io.stdin:lines() do
    line = line:match("^%s*(.-)%s*$")
    if line ~= "" then out[#out + 1] = line end
  end
  return out
end

local cmd = args[1]
if cmd == nil then cli.usage_error(USAGE) end

if cmd == "compare" then
  if #args == 3 then
    cli.output(semver.compare(version_arg(args[2]), version_arg(args[3]), sopts),
      semver.compare(args[2], args[3], sopts))
  elseif #args == 4 then
    local op = ops[args[3]]
    if not op then cli.usage_error("unknown operator '" .. args[3] .. "'") end
    answer(semver[op](version_arg(args[2]), version_arg(args[4]), sopts))
  else
    need(2, "two versions (and an optional operator between them)")
  end
elseif cmd == "gt" or cmd == "gte" or cmd == "lt" or cmd == "lte" or cmd == "eq" or cmd == "neq" then
  need(2, "two versions")
  answer(semver[cmd](version_arg(args[2]), version_arg(args[3]), sopts))
elseif cmd == "satisfies" then
  need(2, "a version and a range")
  answer(semver.satisfies(version_arg(args[2]), range_arg(args[3]), sopts))
elseif cmd == "inc" then
  if #args < 3 or #args > 5 then need(2, "a version, a release type and an optional identifier") end
  local base = args[5]
  if base == "false" then base = false end
  local v = semver.inc(version_arg(args[2]), args[3], sopts, args[4], base)
  if not v then
    cli.usage_error("cannot increment '" .. args[2] .. "' by '" .. args[3] .. "'" ..
      (args[4] and (" with identifier '" .. args[4] .. "'") or ""))
  end
  cli.output(v, v)
elseif cmd == "diff" then
  need(2, "two versions")
  local d = semver.diff(version_arg(args[2]), version_arg(args[3]))
  cli.output(d or require("hoist.json").null, d or "none")
elseif cmd == "valid" then
  need(1, "a version")
  local v = semver.valid(args[2], sopts)
  if v then cli.output(v, v) else answer(false) end
elseif cmd == "range" then
  need(1, "a range")
  local r = semver.valid_range(args[2], sopts)
  if not r then cli.usage_error("invalid range '" .. args[2] .. "'") end
  cli.output(r, r)
elseif cmd == "sort" then
  need(0, "versions on standard input")
  local lines = read_lines()
  for i, l in ipairs(lines) do
    if not semver.valid(l, sopts) then
      cli.usage_error(string.format("invalid version '%s' on line %d of standard input", l, i))
    end
  end
  local sorted = opts.reverse and semver.rsort(lines, sopts) or semver.sort(lines, sopts)
  cli.output(cli.json_mode() and require("hoist.json").array(sorted) or sorted, sorted)
elseif cmd == "latest" then
  if #args > 2 then need(1, "an optional range") end
  local range = args[2] and range_arg(args[2]) or nil
  local best = semver.latest(read_lines(), range, sopts)
  if best then cli.output(best, best) else answer(false) end
else
  cli.usage_error("unknown command '" .. cmd .. "'; " .. USAGE)
end
