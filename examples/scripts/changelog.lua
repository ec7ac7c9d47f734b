-- changelog: a team step that fills the com.docker.extension.changelog label from git history:
-- the subjects of the commits since the last git tag (or the last 20), as an HTML list.
-- Use it as a hook in extension.lua (it runs before validation, so the label is checked):
--   local changelog = dofile("examples/scripts/changelog.lua")   -- or require it from .hoist/
--   hooks = { before_build = changelog.before_build }
-- or call changelog.html(dir) from a script.
local exec = require("hoist.exec")

local M = {}

local function git(dir, ...)
  local out, err = exec.output{ "git", "-C", dir, ... }
  if not out then return nil, err end
  return (out:gsub("%s+$", ""))
end

local function escape(s)
  return (s:gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end

-- The changelog HTML for the git checkout holding dir, or nil, err.
function M.html(dir, version)
  local since = git(dir, "describe", "--tags", "--abbrev=0")
  local log, err
  if since then
    log, err = git(dir, "log", "--no-merges", "--pretty=format:%s", since .. "..HEAD")
  else
    log, err = git(dir, "log", "--no-merges", "-n", "20", "--pretty=format:%s")
  end
  if not log then return nil, "changelog: " .. err end
  local items = {}
  for line in log:gmatch("[^\n]+") do items[#items + 1] = "<li>" .. escape(line) .. "</li>" end
  if #items == 0 then items[1] = "<li>No changes since " .. escape(since or "the last release") .. ".</li>" end
  return string.format("<h3>%s</h3><ul>%s</ul>", escape(version or "Changes"), table.concat(items))
end

function M.before_build(ctx)
  local html, err = M.html(ctx.desc.dir, ctx.version)
  if not html then error(err, 0) end
  ctx.desc.labels = ctx.desc.labels or {}
  ctx.desc.labels.changelog = html
end

return M
