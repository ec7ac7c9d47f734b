-- hoist.publish: writing tags so that a release never goes backwards. A version tag is immutable
-- (unless forced); `latest` and the float tags (MAJOR, MAJOR.MINOR) only move forward, computed
-- from the destination's tags as they are when they are written, not as they were when the
-- release started. Every recipe that tags (release, index, promote, copy) goes through here.
--
-- OCI layouts: the check, the computation and the write of index.json happen under the layout's
-- lock, so concurrent writers are serialised and none loses a tag.
-- Registries: the distribution API has no conditional PUT. The version tag is looked up right
-- before it is written and read back right after; the float tags are computed from a listing
-- taken after the version tag is in place, and checked again after they are written (a float
-- tag another writer's higher version should have is handed to it). Writers on one machine are
-- serialised by a lock file per repository in the cache folder, so that between them the check and
-- the write are one step. Writers on different machines keep a window of one request between the
-- look-up and the PUT: the read-back tells the loser in most cases, but a writer whose PUT lands
-- after the other's last read-back cannot be told (the API has no compare-and-swap).
local fs = require("hoist.fs")
local keys = require("hoist.keys")
local semver = require("hoist.semver")

local publish = {}

local EXIT_FAILURE = "EREMOTE"

--[[
The tags a version gets: itself, then `latest` (opts.latest) when it is the highest stable version
among existing and itself, and `MAJOR` / `MAJOR.MINOR` (opts.float) when it is the highest stable
one in that line. A prerelease gets only its own tag. existing: the destination's tag names, read
just before (a failed listing is an error for the caller, never "no tags").
]]
function publish.tags_for(tag, existing, opts)
  if type(existing) ~= "table" then
    error("publish.tags_for: the destination's tags are needed (a failed listing must stop the release)", 2)
  end
  opts = opts or {}
  local tags = { tag }
  local parsed = semver.parse(tag)
  if not parsed then error("publish.tags_for: '" .. tostring(tag) .. "' is not a semantic version", 2) end
  if #parsed.prerelease > 0 then return tags end
  for _, f in ipairs(publish.floats_for(tag, existing, opts)) do tags[#tags + 1] = f end
  return tags
end

-- The float tags (latest, MAJOR, MAJOR.MINOR as opts asks) whose range tag is the highest in.
function publish.floats_for(tag, existing, opts)
  local parsed = semver.parse(tag)
  local out = {}
  if #parsed.prerelease > 0 then return out end
  for _, f in ipairs(publish.float_ranges(parsed, opts)) do
    local best = publish.highest(existing, f.range, tag)
    if best and semver.eq(best, tag) then out[#out + 1] = f.name end
  end
  return out
end

-- { { name = "latest", range = nil }, { name = "1", range = "1.x" }, ... } as opts asks.
function publish.float_ranges(parsed, opts)
  local out = {}
  if opts.latest then out[#out + 1] = { name = "latest" } end
  if opts.float then
    out[#out + 1] = { name = tostring(parsed.major), range = string.format("%d.x", parsed.major) }
    out[#out + 1] = { name = string.format("%d.%d", parsed.major, parsed.minor),
                      range = string.format("%d.%d.x", parsed.major, parsed.minor) }
  end
  return out
end

-- The highest stable version tag in range (nil: any) among names (and `also` when given).
function publish.highest(names, range, also)
  local versions = {}
  for _, t in ipairs(names) do
    if semver.valid(t) and t:sub(1, 1) ~= "v" then versions[#versions + 1] = t end
  end
  if also then versions[#versions + 1] = also end
  return semver.latest(versions, range)  -- the tag as it is spelled; prereleases never win
end

local function short(d) return tostring(d):sub(1, 19) end

-- A tag that names a version (semver, no leading 'v'): immutable once written.
function publish.is_version_tag(t) return semver.valid(t) ~= nil and t:sub(1, 1) ~= "v" end

-- The version tag points at found, not desc. concurrent: it changed since the caller looked
-- (opts.seen), or right after we wrote it (a read-back); otherwise it simply exists.
local function conflict(version, found, desc, where, concurrent)
  if not concurrent then
    return nil, string.format("tag '%s' already exists at %s as %s (use --force to replace it)",
      version, where, short(found)), "ECONFLICT"
  end
  return nil, string.format("%s was released concurrently as %s; this release (%s) was not tagged " ..
    "(use --force to replace it)", version, found, short(desc.digest)), "ECONFLICT"
end

local function changed_since(opts, found) return opts.seen ~= nil and opts.seen ~= found end

---------------------------------------------------------------------------------------------------
-- OCI layouts: everything under the lock

local function layout_version(ep, desc, version, opts)
  local written
  local tags, err, code = ep.store:update(function(view)
    local cur = view.target(version)
    if cur and cur ~= desc.digest and not opts.force then
      return conflict(version, cur, desc, ep.display, changed_since(opts, cur))
    end
    written = publish.tags_for(version, view.tags(), opts)
    for _, t in ipairs(opts.extra or {}) do
      -- an extra tag that is a version is as immutable as the version tag itself
      local other = publish.is_version_tag(t) and view.target(t)
      if other and other ~= desc.digest and not opts.force then return conflict(t, other, desc, ep.display, false) end
      written[#written + 1] = t
    end
    return desc, written
  end)
  if not tags then return nil, err, code or "EIO" end
  return written
end

---------------------------------------------------------------------------------------------------
-- Registries: look, write, read back

local registry_version_locked

-- The lock that serialises this machine's writers of one repository (nil when there is no cache
-- folder to keep it in: then only the read-back protects).
local function repository_lock(ep)
  local cache = require("hoist.oci").cache_dir()
  if not cache or not fs.mkdir(cache .. "/locks") then return nil end
  local name = require("hoist.oci.core").digest((ep.ref.api_host or "") .. "/" .. ep.repo):sub(8)
  return fs.lock(cache .. "/locks/" .. name .. ".lock")
end

local function registry_version(ep, desc, bytes, version, opts)
  local lock = repository_lock(ep)
  local tags, err, code = registry_version_locked(ep, desc, bytes, version, opts)
  if lock then lock:unlock() end
  return tags, err, code
end

registry_version_locked = function(ep, desc, bytes, version, opts)
  local client, repo = ep.client, ep.repo
  local function target(tag)
    local d, err = client:resolve(repo, tag)
    if d == nil then return nil, err end
    return d and d.digest or false
  end
  local function put(b, mt, tag)
    local ok, err = client:put_manifest(repo, tag, mt, b)
    if not ok then return nil, err end
    return true
  end
  local function listing()
    local names, err = client:tags(repo)
    if not names then return nil, "cannot list the tags of " .. ep.display .. ": " .. tostring(err) end
    return names
  end
  ep.tag_cache = nil
  -- 1. the version tag: looked up right before, read back right after
  local cur, err = target(version)
  if cur == nil then return nil, err, EXIT_FAILURE end
  if cur and cur ~= desc.digest and not opts.force then
    return conflict(version, cur, desc, ep.display, changed_since(opts, cur))
  end
  -- extra tags that are versions are as immutable as the version: checked before anything is written
  for _, t in ipairs(opts.extra or {}) do
    if publish.is_version_tag(t) and not opts.force then
      local other, terr = target(t)
      if other == nil then return nil, terr, EXIT_FAILURE end
      if other and other ~= desc.digest then return conflict(t, other, desc, ep.display, false) end
    end
  end
  if cur ~= desc.digest then
    local ok, perr = put(bytes, desc.mediaType, version)
    if not ok then return nil, perr, EXIT_FAILURE end
  end
  local back
  back, err = target(version)
  if back == nil then return nil, err, EXIT_FAILURE end
  if back ~= desc.digest then return conflict(version, back or "(nothing)", desc, ep.display, true) end
  local written = { version }
  for _, t in ipairs(opts.extra or {}) do
    local ok, perr = put(bytes, desc.mediaType, t)
    if not ok then return nil, perr, EXIT_FAILURE end
    written[#written + 1] = t
  end
  -- 2. float tags from a listing taken now that the version tag is in place (no listing when
  -- none is asked for: a round trip per release on a real network)
  local parsed = semver.parse(version)
  local ranges = #parsed.prerelease == 0 and publish.float_ranges(parsed, opts) or {}
  local floats = {}
  if #ranges > 0 then
    local names
    names, err = listing()
    if not names then return nil, err, EXIT_FAILURE end
    for _, f in ipairs(ranges) do
      local best = publish.highest(names, f.range, version)
      if best and semver.eq(best, version) then
        local ok, perr = put(bytes, desc.mediaType, f.name)
        if not ok then return nil, perr, EXIT_FAILURE end
        floats[#floats + 1] = f
      end
    end
  end
  -- 3. a higher version written meanwhile by another release owns those float tags: hand them over
  if #floats > 0 then
    local names
    names, err = listing()
    if not names then return nil, err, EXIT_FAILURE end
    for _, f in ipairs(floats) do
      local best = publish.highest(names, f.range, version)
      if best and not semver.eq(best, version) then
        local theirs, mt = client:manifest(repo, best)
        if not theirs then return nil, mt, EXIT_FAILURE end
        local ok, perr = put(theirs, mt, f.name)
        if not ok then return nil, perr, EXIT_FAILURE end
      else
        written[#written + 1] = f.name
      end
    end
  end
  -- 4. still ours at the end? (asked again only when something was written after the read-back
  -- above; with nothing in between it would only repeat it)
  if #written == 1 and #floats == 0 then return written end
  back, err = target(version)
  if back == nil then return nil, err, EXIT_FAILURE end
  if back ~= desc.digest then return conflict(version, back or "(nothing)", desc, ep.display, true) end
  return written
end

--[[
Tags desc (a manifest or index already at ep with all it names) as `version` on the endpoint ep
(hoist.endpoint: an OCI layout or a registry), then `latest` / MAJOR / MAJOR.MINOR as opts asks.
opts: { latest, float, force (replace a version tag pointing elsewhere), extra = { tag, ... }
(more tags written with the version; one that is a version is immutable like it, checked before
anything is written; others move), seen = digest | false (what the version tag pointed at
when the caller looked before building; only sharpens the message) }. bytes: desc's content.
Returns the tags written, or nil, message, kind: ECONFLICT for "tag 'V' already exists ..." and
"V was released concurrently as sha256:...", EREMOTE/EAUTH/EIO when the destination fails.
]]
function publish.version(ep, desc, bytes, version, opts)
  opts = keys.options(opts, { "latest", "float", "force", "extra", "seen" }, "publish.version")
  if ep.transport == "oci" then return layout_version(ep, desc, version, opts) end
  if ep.transport == "docker" then return registry_version(ep, desc, bytes, version, opts) end
  error("publish.version: an OCI layout or registry endpoint expected", 2)
end

return publish
