-- Reads a list of tags (one per line), prints the semver ones in precedence order and the latest
-- stable one: the question a release step asks before picking the next version.
-- usage: hoist run examples/latest-tag.lua [TAGS_FILE]   (default: examples/tags.txt)
local semver = require("hoist.semver")

local file = arg[1] or "examples/tags.txt"
local tags, skipped = {}, {}
local f, err = io.open(file)
if not f then error("cannot read tags: " .. err, 0) end
for line in f:lines() do
  local tag = line:match("^%s*(.-)%s*$")
  if tag ~= "" then
    if semver.valid(tag) then tags[#tags + 1] = tag else skipped[#skipped + 1] = tag end
  end
end
f:close()

for _, tag in ipairs(semver.sort(tags)) do print(tag) end
if #skipped > 0 then print("(not semver: " .. table.concat(skipped, ", ") .. ")") end
local latest = semver.latest(tags)
print("latest: " .. (latest or "none"))
if latest then print("next minor: " .. semver.inc(latest, "minor")) end
