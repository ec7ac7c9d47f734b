-- hoist.copy: copies an image or an index with every platform from one endpoint to another, in
-- the order that never leaves a tag dangling: blobs, then each manifest by digest (children
-- before their index), then the tags.
local archive = require("hoist.archive")
local endpoint = require("hoist.endpoint")
local fs = require("hoist.fs")
local keys = require("hoist.keys")
local oci = require("hoist.oci")

local copy = {}

local function fail(msg, kind) return nil, msg, kind or "EREMOTE" end

--[[
Everything under a top descriptor: { manifests = { {desc, bytes, m}, ... } children first,
blobs = { desc, ... } each digest once, top = { desc, bytes, m } }.
]]
function copy.collect(src, top)
  local out = { manifests = {}, blobs = {} }
  local seen_blob, seen_manifest = {}, {}
  local function add_blob(d)
    if not seen_blob[d.digest] then
      seen_blob[d.digest] = true
      out.blobs[#out.blobs + 1] = d
    end
  end
  local function walk(desc, depth)
    if seen_manifest[desc.digest] then return true end
    if depth > 4 then return fail(endpoint.name(src, desc.digest) .. ": indexes nested too deep") end
    local bytes, m, code = src:manifest(desc)
    if not bytes then return nil, m, code end
    if m.kind == "index" then
      for _, child in ipairs(m.manifests) do
        local ok, err, ecode = walk(child, depth + 1)
        if not ok then return nil, err, ecode end
      end
    else
      add_blob(m.config)
      for _, l in ipairs(m.layers) do add_blob(l) end
    end
    seen_manifest[desc.digest] = true
    local entry = { desc = { mediaType = desc.mediaType or m.media_type, digest = desc.digest, size = #bytes },
                    bytes = bytes, m = m }
    out.manifests[#out.manifests + 1] = entry
    out.top = entry
    return true
  end
  local ok, err, code = walk(top, 0)
  if not ok then return nil, err, code end
  return out
end

-- The image of one platform in a collected index (for destinations that hold one platform).
local function pick_platform(set, platform)
  if set.top.m.kind == "image" then return set.top end
  local want = oci.parse_platform(platform)
  for _, child in ipairs(set.top.m.manifests) do
    local p = child.platform
    if p and p.os == want.os and p.architecture == want.architecture
        and (not want.variant or p.variant == want.variant) then
      for _, e in ipairs(set.manifests) do if e.desc.digest == child.digest then return e end end
    end
  end
  return nil
end

local function write_archive(src, set, dst_ref, tags, opts)
  local platform = opts.platform or require("hoist.host").platform
  local image = pick_platform(set, platform)
  if not image then return fail(src.display .. " has no " .. platform .. " image (choose one with --platform)", "EUSAGE") end
  local store, staging = src.store, nil
  if not store then
    -- a registry source: the platform's blobs go through a scratch layout
    staging = assert(fs.tmpdir("hoist-archive"))
    local dst = assert(endpoint.open({ transport = "oci", dir = staging, display = "oci:" .. staging }, { create = true }))
    local blobs = { image.m.config }
    for _, l in ipairs(image.m.layers) do blobs[#blobs + 1] = l end
    local ok, err = dst:put_blobs(blobs, src)
    if ok then ok, err = dst:put_manifest(image.bytes, image.desc.mediaType) end
    if not ok then fs.remove(staging); return fail(err) end
    store = dst.store
  end
  local repo_tag = (dst_ref.repo and dst_ref.tag) and (dst_ref.repo .. ":" .. dst_ref.tag)
    or ((src.ref.repository or "image"):match("[^/]+$") .. ":" .. (tags[1] or "latest"))
  local ok, err = archive.write_docker(dst_ref.file, store, {
    manifest = { layers = image.m.layers }, config = image.m.config, digest = image.desc.digest,
    mediaType = image.desc.mediaType, size = image.desc.size }, { repo_tag })
  if staging then fs.remove(staging) end
  if not ok then return fail(err) end
  return { digest = image.desc.digest, mediaType = image.desc.mediaType, tags = { repo_tag },
           blobs = { existing = 0, mounted = 0, uploaded = 0, uploaded_bytes = 0 } }
end

--[[
copy.run(src, dst, opts) copies what src names (opts.reference, default its tag or digest) to dst
and tags it opts.tags (default: dst's tag, else src's tag; none when src names a digest). A copy
into an OCI layout must name what it writes (a layout entry without a name is invisible to other
tools): without a tag it fails (exit 2) unless opts.tags is given, even empty, by a caller that
tags afterwards. A version tag (semver) is immutable: one pointing at other content is refused
unless opts.force (hoist.publish, with the layout's lock or the registry's read-back).
Signatures (`sha256-<hex>.sig`) and referrers (`sha256-<hex>`: SBOMs, provenance) of every
manifest copied go along, merged with what dst has, before any tag (hoist.attach.carry);
opts.attachments = false leaves them. A docker-archive gets none.
src: an endpoint; dst: an endpoint or a parsed docker-archive reference.
Returns { digest, mediaType, tags, blobs = { existing, mounted, uploaded, uploaded_bytes },
manifests = n, signatures = n, referrers = n } or nil, message, kind.
]]
function copy.run(src, dst, opts)
  opts = keys.options(opts, { "reference", "tags", "platform", "force", "attachments" }, "copy.run")
  local top, err, code = src:resolve(opts.reference)
  if not top then return nil, err, code end
  local set
  set, err, code = copy.collect(src, top)
  if not set then return nil, err, code end
  local tags = opts.tags
  if not tags then
    local dref = dst.ref or dst
    if dref.tag then tags = { dref.tag }
    elseif src.ref.tag and not src.ref.digest and not opts.reference then tags = { src.ref.tag }
    elseif opts.reference and not opts.reference:find(":", 1, true) then tags = { opts.reference }
    else tags = {} end
  end
  if (dst.ref or dst).digest and (dst.ref or dst).digest ~= top.digest then
    return fail("the destination names " .. (dst.ref or dst).digest .. " but the source is " .. top.digest, "EUSAGE")
  end
  if dst.transport == "oci" and #tags == 0 and opts.tags == nil then
    return fail(string.format("%s is named by digest: give the tag the copy writes in the layout " ..
      "(%s:TAG)", endpoint.name(src, top.digest), dst.display), "EUSAGE")
  end
  if dst.transport == "docker-archive" then return write_archive(src, set, dst, tags, opts) end
  local stats
  stats, err, code = dst:put_blobs(set.blobs, src)
  if not stats then return nil, err, code end
  for _, e in ipairs(set.manifests) do
    local ok, merr = dst:put_manifest(e.bytes, e.desc.mediaType, e.desc.digest)
    if not ok then return fail(merr) end
  end
  -- signatures and referrers (SBOMs, provenance) of every manifest copied, before any tag
  local carried
  if opts.attachments ~= false then
    local digests = {}
    for i, e in ipairs(set.manifests) do digests[i] = e.desc.digest end
    carried, err, code = require("hoist.attach").carry(src, dst, digests)
    if not carried then return nil, err, code end
    for _, k in ipairs({ "existing", "mounted", "uploaded", "uploaded_bytes" }) do
      stats[k] = stats[k] + (carried.blobs[k] or 0)
    end
  end
  local semver = require("hoist.semver")
  for _, t in ipairs(tags) do
    local ok, terr, tcode
    if semver.valid(t) and not t:find("^v") then
      -- a version is immutable: refused when it points elsewhere (unless force)
      ok, terr, tcode = require("hoist.publish").version(dst, set.top.desc, set.top.bytes, t,
                                                       { force = opts.force })
    else
      ok, terr = dst:tag(set.top.desc, { t }, set.top.bytes)
    end
    if not ok then return nil, terr, tcode or "EREMOTE" end
  end
  return { digest = top.digest, mediaType = set.top.desc.mediaType, tags = tags, blobs = stats,
           manifests = #set.manifests, top = { desc = set.top.desc, bytes = set.top.bytes },
           signatures = carried and carried.signatures or 0, referrers = carried and carried.referrers or 0 }
end

return copy
