-- policy: a team step that refuses a release
--   * from a git tree with uncommitted changes, and
--   * that changes metadata.json without at least a minor version bump over the version already
--     published (compared with the commit that version was built from: its
--     org.opencontainers.image.revision label).
-- Use it as a hook: hooks = { before_build = dofile("examples/scripts/policy.lua").before_build }
local endpoint = require("hoist.endpoint")
local exec = require("hoist.exec")
local json = require("hoist.json")
local release = require("hoist.release")
local semver = require("hoist.semver")

local M = {}

local function git(dir, ...)
  return exec.run{ "git", "-C", dir, ... }
end

-- Uncommitted changes under dir: an error naming the first few files.
function M.check_clean(dir)
  local r, err = git(dir, "status", "--porcelain", "--", ".")
  if not r then error("policy: " .. err, 0) end
  if not r.ok then error("policy: " .. dir .. " is not in a git checkout", 0) end
  if r.stdout ~= "" then
    local files = {}
    for line in r.stdout:gmatch("[^\n]+") do
      if #files < 3 then files[#files + 1] = line:sub(4) end
    end
    error("policy: the git tree has uncommitted changes (" .. table.concat(files, ", ") ..
      "): commit them first", 0)
  end
end

-- The git revision the highest published version was built from, and that version.
local function published(ctx)
  local tags = release.existing_tags(ctx) or {}
  local versions = {}
  for _, t in ipairs(tags) do if semver.valid(t) and t ~= ctx.tag then versions[#versions + 1] = t end end
  if #versions == 0 then return nil end
  local prev = semver.rsort(versions)[1]
  local ep = assert(endpoint.open(ctx.opts.to or "oci:dist/oci", { creds = ctx.opts.creds, insecure = ctx.opts.insecure }))
  local top = assert(ep:resolve(prev))
  local _, m = assert(ep:manifest(top))
  if m.kind == "index" then _, m = assert(ep:manifest(m.manifests[1])) end
  local config = json.decode(assert(ep:blob(m.config)))
  ep:close()
  local labels = config.config and config.config.Labels or {}
  return labels["org.opencontainers.image.revision"], prev
end

function M.check_bump(ctx)
  local rev, prev = published(ctx)
  if not rev then return end
  local r = git(ctx.desc.dir, "diff", "--quiet", rev, "HEAD", "--", "metadata.json")
  if r and r.code == 1 then
    local kind = semver.diff(prev, ctx.tag)
    if kind ~= "major" and kind ~= "minor" and kind ~= "premajor" and kind ~= "preminor" then
      error(string.format("policy: metadata.json changed since %s (%s): release at least a minor " ..
        "version (got %s, a %s change)", prev, rev:sub(1, 12), ctx.tag, tostring(kind)), 0)
    end
  end
end

function M.before_build(ctx)
  M.check_clean(ctx.desc.dir)
  M.check_bump(ctx)
end

return M
