-- hoist.attach: what goes beside an image when it is released, indexed, copied or promoted:
-- cosign signatures (hoist.sign) and OCI 1.1 referrers (hoist.attest: SBOMs, provenance). All
-- of it is keyed by digest (`sha256-<hex>.sig`, `sha256-<hex>`), so it is written BEFORE the tag
-- that makes the image visible: a tag is written last, once everything it points to is in place.
--
-- Expected failures return nil, message, kind (hoist.cli.KINDS); misuse raises.
local attest = require("hoist.attest")
local fs = require("hoist.fs")
local json = require("hoist.json")
local keys = require("hoist.keys")
local oci = require("hoist.oci")
local sign = require("hoist.sign")

local attach = {}

--[[
Loads a signing key before anything is built or written, with the kinds a recipe needs: a missing
file is a usage error (EUSAGE, exit 2); a key that cannot be used (wrong or no password, RSA,
another curve, a public key, not a key) is EINVAL (exit 3). The password comes from
HOIST_SIGNING_PASSWORD only and is never in a message.
]]
function attach.load_key(path)
  if type(path) ~= "string" or path == "" then return nil, "--sign needs a key file", "EUSAGE" end
  local key, err, kind = sign.load_private(path)
  if key then return key end
  if kind == "ENOENT" then return nil, err, "EUSAGE" end
  if kind == "EIO" then return nil, err, "EIO" end
  return nil, err, "EINVAL"
end

--[[
A source hoist.attest reads an image from (manifests and layer files) that looks in a staging
OCI layout first and, for layers of a base image that were mounted or streamed to the registry
rather than copied into staging, asks the base session (hoist.base: through the layer cache).
base_blobs: { [layer digest] = resolved base } as release.build fills ctx.base_blobs.
]]
function attach.staging_source(store, base_session, base_blobs)
  local src = {}
  function src.manifest(_, desc)
    local bytes, err = store:blob(desc.digest)
    if not bytes then return nil, err end
    return bytes, json.decode(bytes)
  end
  function src.blob_file(_, desc)
    if store:has_blob(desc.digest) then return store:blob_path(desc.digest) end
    local b = base_blobs and base_blobs[desc.digest]
    if b and base_session then
      for _, l in ipairs(b.layers) do
        if l.digest == desc.digest then return base_session:blob_file(b, l) end
      end
    end
    return nil, "layer " .. desc.digest .. " is neither in the staging layout nor in a base image"
  end
  return src
end

--[[
The provenance resource list of a release: extension.lua's digest, then per-platform base
manifests and metadata.json as inputs. Returns extension, inputs.
]]
local function release_inputs(ctx)
  local ext
  local path = ctx.desc and ctx.desc.path
  if path then
    local d = oci.digest_file(path)
    if d then ext = { path = "extension.lua", digest = d } end
  end
  local inputs = {}
  local meta = ctx.dir .. "/metadata.json"
  local md = oci.digest_file(meta)
  if md then inputs[#inputs + 1] = { name = "metadata.json", digest = md } end
  local summary = require("hoist.release").base_summary(ctx)
  if summary then
    for pname, b in pairs(summary.platforms) do
      if b.manifest then
        inputs[#inputs + 1] = { name = "base " .. pname, digest = b.manifest,
          uri = "pkg:oci/" .. (b.name:match("([^/]+)$") or b.name):lower() .. "@" .. b.manifest:gsub(":", "%%3A") }
      end
    end
  end
  return ext, inputs
end

--[[
Signs and attests a built release at its destination, before any tag is written. ctx: the release
context (hoist.release) after build and before publish: ctx.index and ctx.images are in ep (the
registry has the manifests by digest, a layout has them as blobs). opts: { key = a private key
(hoist.sign) or nil, identity = "HOST/REPO", sbom = bool, provenance = bool, source = a source
for the SBOMs (attach.staging_source), created = epoch or nil, name = the image's name }.
Returns { signed = sign.image's result or nil, sbom = { { platform, image, digest }, ... },
provenance = { digest } or nil } or nil, message, kind.
]]
function attach.release(ctx, ep, opts)
  opts = keys.options(opts, { "key", "identity", "sbom", "provenance", "source", "created", "name" }, "attach.release")
  local out = { sbom = json.array({}) }
  local index = { mediaType = ctx.index.mediaType, digest = ctx.index.digest, size = ctx.index.size }
  if opts.key then
    local res, err = sign.image(ep, index, opts.key, { identity = opts.identity })
    if not res then return nil, err, "EREMOTE" end
    out.signed = res
  end
  local items, slots = {}, {}
  local name = opts.name or opts.identity or "extension"
  local summary = require("hoist.release").base_summary(ctx)
  local sbom_dir
  local function done(...)
    if sbom_dir then fs.remove(sbom_dir) end
    return ...
  end
  if opts.sbom then
    local memo, terr = {}, nil
    -- the documents go to files, pushed from there: at 60,000 files each is 15 MB
    sbom_dir, terr = fs.tmpdir("hoist-sbom")
    if not sbom_dir then return nil, terr, "EIO" end
    local descs = {}
    for i, img in ipairs(ctx.images) do descs[i] = { mediaType = img.mediaType, digest = img.digest, size = img.size } end
    -- the files of the extension's own layers; a base is one package, by digest (its layers are
    -- not downloaded for an SBOM: that is the base's SBOM's business)
    local skip
    for _, r in pairs(ctx.plan and ctx.plan.base or {}) do
      for _, l in ipairs(r.layers or {}) do skip = skip or {}; skip[l.digest] = true end
    end
    local ok, err, kind = attest.prepare(opts.source, descs, { memo = memo, skip = skip })
    if not ok then return done(nil, err, kind) end
    for i, img in ipairs(ctx.images) do
      local platform = oci.platform_string(img.platform)
      local b = summary and summary.platforms[platform]
      local path, info, skind = attest.sbom(opts.source, descs[i], { name = name, version = ctx.version,
        platform = platform, base = b and { name = b.name, digest = b.digest } or nil,
        created = opts.created, memo = memo, skip = skip, path = sbom_dir .. "/" .. i .. ".spdx.json" })
      if not path then return done(nil, info, skind) end
      items[#items + 1] = { subject = descs[i], artifact = { artifactType = attest.SPDX_MEDIA_TYPE, file = path,
                                                              digest = info.digest, size = info.size } }
      slots[#items] = { platform = platform, image = img.digest }
      out.sbom[#out.sbom + 1] = slots[#items]
    end
  end
  if opts.provenance then
    local ext, inputs = release_inputs(ctx)
    local platforms = json.array({})
    for i, img in ipairs(ctx.images) do platforms[i] = oci.platform_string(img.platform) end
    local pv = attest.provenance({
      subject = { { name = name, digest = index.digest } }, version = ctx.version,
      destination = ctx.dest.display, parameters = { platforms = platforms },
      extension = ext, base = summary and summary.digest and { name = summary.name, digest = summary.digest } or nil,
      git = ctx.revision and ctx.revision:match("^%x+$") and { commit = ctx.revision } or nil,
      inputs = #inputs > 0 and inputs or nil, created = opts.created,
    })
    items[#items + 1] = { subject = index, artifact = { artifactType = attest.INTOTO_MEDIA_TYPE, data = pv,
      annotations = { [attest.PREDICATE_ANNOTATION] = attest.SLSA_PREDICATE_TYPE } } }
    out.provenance = {}
    slots[#items] = out.provenance
  end
  if #items > 0 then
    local res, err, kind = attest.attach_all(ep, items)
    if not res then return done(nil, err, kind) end
    for i, r in ipairs(res) do slots[i].digest = r.digest end
  end
  return done(out)
end

---------------------------------------------------------------------------------------------------
-- Carrying signatures and referrers along with a copy

-- The manifest src tags `tag`, with its bytes and what it names; false when there is none.
local function tagged(src, tag)
  local has, err = sign._has_tag(src, tag)
  if has == nil then return nil, err end
  if not has then return false end
  local desc, rerr = src:resolve(tag)
  if not desc then return nil, rerr end
  local bytes, m = src:manifest(desc)
  if not bytes then return nil, m end
  return { desc = desc, bytes = bytes, doc = json.decode(bytes) }
end

local function encode(doc) return json.encode(doc, { sort_keys = true }) end

-- dst's signature manifest with src's layers added to its own (each signature once): what a
-- second signer appending would write. Returns bytes, desc, or false when dst already has all.
local function merged_signatures(theirs, ours)
  local layers, seen = json.array({}), {}
  local function key(l)
    local s = type(l.annotations) == "table" and l.annotations[sign.SIGNATURE_ANNOTATION] or ""
    return tostring(l.digest) .. " " .. tostring(s)
  end
  for _, l in ipairs(ours.layers or {}) do layers[#layers + 1] = l; seen[key(l)] = true end
  local added = false
  for _, l in ipairs(theirs.layers or {}) do
    if not seen[key(l)] then layers[#layers + 1] = l; seen[key(l)] = true; added = true end
  end
  if not added then return false end
  local diff_ids = json.array({})
  for i, l in ipairs(layers) do diff_ids[i] = l.digest end
  local config = encode({ architecture = "", os = "", config = json.object({}),
                          rootfs = { type = "layers", diff_ids = diff_ids } })
  local cdesc = { mediaType = oci.MEDIA.config, digest = oci.digest(config), size = #config }
  local bytes = encode({ schemaVersion = 2, mediaType = oci.MEDIA.manifest, config = cdesc, layers = layers })
  return bytes, { mediaType = oci.MEDIA.manifest, digest = oci.digest(bytes), size = #bytes }, config, cdesc
end

-- The union of two referrers indexes (dst's entries first), or false when dst lists them all.
local function merged_referrers(theirs, ours)
  local manifests, seen = json.array({}), {}
  for _, m in ipairs(ours.manifests or {}) do manifests[#manifests + 1] = m; seen[m.digest] = true end
  local added = false
  for _, m in ipairs(theirs.manifests or {}) do
    if type(m) == "table" and m.digest and not seen[m.digest] then
      manifests[#manifests + 1] = m; seen[m.digest] = true; added = true
    end
  end
  if not added then return false end
  local bytes = encode({ schemaVersion = 2, mediaType = oci.MEDIA.index, manifests = manifests })
  return bytes, { mediaType = oci.MEDIA.index, digest = oci.digest(bytes), size = #bytes }
end

--[[
Copies what refers to each of `digests` in src to dst: the cosign signature manifest
(`sha256-<hex>.sig`) and the referrers index (`sha256-<hex>`) with every artifact it lists and
their blobs (mounted within one registry, else copied). What dst already has is kept: signatures
and referrers are merged, never replaced. Call it after the images themselves and before their
tags. Returns { signatures = n, referrers = n (artifact manifests listed), blobs = stats } or
nil, message, kind.
]]
function attach.carry(src, dst, digests)
  local copy = require("hoist.copy")
  local out = { signatures = 0, referrers = 0 }
  local blobs, manifests, writes, seen_blob = {}, {}, {}, {}
  local function add_blob(d)
    if not seen_blob[d.digest] then seen_blob[d.digest] = true; blobs[#blobs + 1] = d end
  end
  local small = {}   -- blobs made here (a merged signature config)
  for _, digest in ipairs(digests) do
    -- the signature manifest: its config and payload blobs, then the tag (merged with dst's)
    local stag = sign.tag_for(digest)
    local s, err = tagged(src, stag)
    if s == nil then return nil, err, "EREMOTE" end
    if s and type(s.doc) == "table" then
      add_blob(s.doc.config)
      for _, l in ipairs(s.doc.layers or {}) do add_blob(l) end
      local d, derr = tagged(dst, stag)
      if d == nil then return nil, derr, "EREMOTE" end
      if not d then
        writes[#writes + 1] = { desc = s.desc, tag = stag, bytes = s.bytes }
      else
        local bytes, desc, config, cdesc = merged_signatures(s.doc, d.doc)
        if bytes then
          small[#small + 1] = { digest = cdesc.digest, bytes = config, mediaType = cdesc.mediaType }
          writes[#writes + 1] = { desc = desc, tag = stag, bytes = bytes }
        end
      end
      out.signatures = out.signatures + #(s.doc.layers or {})
    end
    -- the referrers index: every artifact manifest it lists, then the index (merged with dst's)
    local rtag = attest.referrers_tag(digest)
    local r, rerr = tagged(src, rtag)
    if r == nil then return nil, rerr, "EREMOTE" end
    if r then
      local set, cerr, ckind = copy.collect(src, r.desc)
      if not set then return nil, cerr, ckind end
      for _, b in ipairs(set.blobs) do add_blob(b) end
      for _, e in ipairs(set.manifests) do
        if e ~= set.top then manifests[#manifests + 1] = e end
      end
      local d, derr = tagged(dst, rtag)
      if d == nil then return nil, derr, "EREMOTE" end
      if not d then
        writes[#writes + 1] = { desc = r.desc, tag = rtag, bytes = r.bytes }
      else
        local bytes, desc = merged_referrers(r.doc, d.doc)
        if bytes then writes[#writes + 1] = { desc = desc, tag = rtag, bytes = bytes } end
      end
      out.referrers = out.referrers + #(r.doc.manifests or {})
    end
  end
  local stats, err, kind = dst:put_blobs(blobs, src)
  if not stats then return nil, err, kind end
  out.blobs = stats
  if #small > 0 then
    local ok, serr = sign._put_small_blobs(dst, small)
    if not ok then return nil, serr, "EREMOTE" end
  end
  for _, e in ipairs(manifests) do
    local ok, merr = dst:put_manifest(e.bytes, e.desc.mediaType, e.desc.digest)
    if not ok then return nil, merr, "EREMOTE" end
  end
  local ok, terr = sign._tag_many(dst, writes)
  if not ok then return nil, terr, "EREMOTE" end
  return out
end

return attach
