-- hoist_team.changelog: a before_build step for hoist. The version being released must have a
-- "## VERSION" section in CHANGELOG.md beside extension.lua; its first lines (up to a blank
-- line or the next section) become the changelog label, as HTML paragraphs.
local M = {}

M.VERSION = "1.0.0"

-- The entry of `version` in a changelog's text: the lines after "## VERSION", or nil.
function M.entry(text, version)
  local lines, inside = {}, false
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    if inside then
      if line:match("^##") or (line:match("^%s*$") and #lines > 0) then break end
      if not line:match("^%s*$") then lines[#lines + 1] = line end
    elseif line:match("^##%s+v?(%S+)%s*$") == version then
      inside = true
    end
  end
  if #lines == 0 then return nil end
  return table.concat(lines, " ")
end

local function escape(s)
  return (s:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"))
end

function M.before_build(ctx)
  local fs = require("hoist.fs")
  local text = fs.read(ctx.dir .. "/CHANGELOG.md") or ""
  local entry = M.entry(text, ctx.tag)
  if not entry then error("CHANGELOG.md has no '## " .. ctx.tag .. "' entry", 0) end
  ctx.desc.labels.changelog = "<p>" .. escape(entry) .. "</p>"
end

return M
