-- hoist.base: the base image an extension is built on (extension.lua's `base`). A base is read
-- like any pull (with the stored credentials), its manifest for each platform picked from its
-- index, and only its manifests and configs are fetched to plan a release: a base layer is
-- downloaded only when it must be (a destination that lacks it and cannot mount it, an OCI layout
-- or a docker-archive that must be complete, a check that must look inside it), into the layer
-- cache by digest, verified.
local core = require("hoist.oci.core")
local endpoint = require("hoist.endpoint")
local fs = require("hoist.fs")
local imagefs = require("hoist.imagefs")
local json = require("hoist.json")
local log = require("hoist.log")
local oci = require("hoist.oci")
local ref = require("hoist.ref")

local base = {}

-- failure kinds (hoist.cli.KINDS)
local EXIT_FAILURE, EXIT_USAGE, EXIT_INVALID = "EREMOTE", "EUSAGE", "EINVAL"

-- Layer media types a base may have, and what the extension's OCI manifest calls them (the
-- bytes and digests are the same: Docker's schema 2 names the same tar+gzip differently).
base.LAYER_TYPES = {
  ["application/vnd.oci.image.layer.v1.tar"] = oci.MEDIA.layer_tar,
  ["application/vnd.oci.image.layer.v1.tar+gzip"] = oci.MEDIA.layer_gzip,
  ["application/vnd.oci.image.layer.v1.tar+zstd"] = oci.MEDIA.layer_zstd,
  ["application/vnd.docker.image.rootfs.diff.tar.gzip"] = oci.MEDIA.layer_gzip,
  ["application/vnd.docker.image.rootfs.diff.tar"] = oci.MEDIA.layer_tar,
}
local NON_DISTRIBUTABLE = {
  ["application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"] = true,
  ["application/vnd.oci.image.layer.nondistributable.v1.tar"] = true,
  ["application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"] = true,
  ["application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"] = true,
}

--[[
Parses a base reference the way `docker pull` reads names: "alpine:3.20" is
docker.io/library/alpine:3.20, a name without a tag means :latest. "docker://HOST/REPO:TAG",
"NAME@sha256:..." and "oci:DIR:TAG" (an OCI layout) work too. Returns { transport, ref (for
hoist.endpoint), name (for messages and the org.opencontainers.image.base.name annotation),
reference (the tag or digest to resolve) } or nil, message.
]]
function base.parse(s)
  if type(s) ~= "string" or s == "" then return nil, "a base image reference is empty" end
  local r, err
  if s:match("^oci:") then
    r, err = ref.parse(s)
    if not r then return nil, err end
    return { transport = "oci", ref = r, name = s, reference = r.digest or r.tag or "latest" }
  end
  if s:match("^docker%-archive:") or (s:match("^[%a][%w+.-]*:") and not s:match("^docker://")
      and not s:match("^[^/:]+:[^/]*$") and not s:match("^[^/]+:%d+/")) then
    return nil, "base '" .. s .. "': only docker:// (or a plain name like alpine:3.20) and oci: bases can be read"
  end
  r, err = ref.parse(s:match("^docker://") and s or ("docker://" .. s))
  if not r then return nil, "base '" .. s .. "': " .. tostring(err) end
  local reference = r.digest or r.tag or "latest"
  local name = r.registry .. "/" .. r.repository ..
    (r.tag and (":" .. r.tag) or (r.digest and "" or ":latest")) .. (r.digest and ("@" .. r.digest) or "")
  return { transport = "docker", ref = r, name = name, reference = reference }
end

-- Does an index entry's platform serve `want`? The os and architecture must match, and the
-- variant, where arm64's v8 and no variant are the same thing (an index may say either).
local function platform_matches(p, want)
  if type(p) ~= "table" or p.os ~= want.os or p.architecture ~= want.architecture then return false end
  local function norm(v)
    if v == "" then v = nil end
    if want.architecture == "arm64" and v == "v8" then v = nil end
    return v
  end
  return norm(p.variant) == norm(want.variant)
end

local function platform_name(p)
  if type(p) ~= "table" or type(p.os) ~= "string" or type(p.architecture) ~= "string" then return "?" end
  return p.os .. "/" .. p.architecture .. ((type(p.variant) == "string" and p.variant ~= "") and ("/" .. p.variant) or "")
end

--[[
A context that opens each base once and remembers what it resolved: base.session(opts) with
opts = { creds, insecure, authfile, cache = folder | false } (creds: the user's --creds apply only to the
destination; bases use the stored credentials, like any pull). session:resolve(s, platform_name)
returns the resolved base for one platform:
  { name, digest (what the reference resolved to: the index, or the image), manifest_digest,
    platform, config (the decoded config document), config_desc, layers = { OCI descriptors },
    ep (the endpoint it came from) }
or nil, message, kind (EREMOTE/EAUTH: the base cannot be read or the registry sent other content;
EINVAL: the base has no image for that platform, or layers hoist cannot redistribute).
]]
function base.session(opts)
  opts = opts or {}
  local s = { opts = opts, eps = {}, tops = {}, resolved = {}, indexes = {} }
  local cache = opts.cache
  if cache == nil then cache = oci.cache_dir() end
  s.cache = cache or nil

  function s:open(parsed)
    local ep = self.eps[parsed.name]
    if ep then return ep end
    local err, code
    ep, err, code = endpoint.open(parsed.ref, { insecure = self.opts.insecure, authfile = self.opts.authfile })
    if not ep then return nil, "base " .. parsed.name .. ": " .. tostring(err), code or EXIT_FAILURE end
    self.eps[parsed.name] = ep
    return ep
  end

  -- the top descriptor, bytes and decoded document of a base (once per reference)
  function s:top(parsed)
    local t = self.tops[parsed.name]
    if t then return t end
    local ep, err, code = self:open(parsed)
    if not ep then return nil, err, code end
    local desc
    desc, err = ep:resolve(parsed.reference)
    if not desc then return nil, "base " .. parsed.name .. " cannot be read: " .. tostring(err), EXIT_FAILURE end
    local bytes, m = ep:manifest(desc)
    if not bytes then return nil, "base " .. parsed.name .. ": " .. tostring(m), EXIT_FAILURE end
    t = { ep = ep, desc = desc, bytes = bytes, m = m }
    self.tops[parsed.name] = t
    return t
  end

  function s:resolve(str, pname)
    pname = oci.platform_string(pname)  -- "linux/arm64" or { os, architecture }: one shape
    local key = str .. "\0" .. pname
    if self.resolved[key] then return self.resolved[key] end
    local parsed, perr = base.parse(str)
    if not parsed then return nil, perr, EXIT_INVALID end
    local want = assert(oci.parse_platform(pname))
    local t, err, code = self:top(parsed)
    if not t then return nil, err, code end
    local mdesc, mbytes, m = t.desc, t.bytes, t.m
    if m.kind == "index" then
      local found, have = nil, {}
      for _, c in ipairs(m.manifests) do
        if c.platform and c.platform.os ~= "unknown" then
          have[#have + 1] = platform_name(c.platform)
          if not found and platform_matches(c.platform, want) then found = c end
        end
      end
      if not found then
        return nil, string.format("base %s has no %s image (it has %s)", parsed.name, pname,
          #have > 0 and table.concat(have, ", ") or "none"), EXIT_INVALID
      end
      mdesc = found
      mbytes, m = t.ep:manifest(found)
      if not mbytes then return nil, "base " .. parsed.name .. ": " .. tostring(m), EXIT_FAILURE end
      if m.kind ~= "image" then
        return nil, "base " .. parsed.name .. ": the " .. pname .. " entry is not an image", EXIT_INVALID
      end
    end
    local cbytes
    cbytes, err = t.ep:blob(m.config)
    if not cbytes then return nil, "base " .. parsed.name .. ": its config: " .. tostring(err), EXIT_FAILURE end
    local config, jerr = json.decode(cbytes)
    if type(config) ~= "table" then
      return nil, "base " .. parsed.name .. ": its config is not JSON: " .. tostring(jerr), EXIT_INVALID
    end
    if m == t.m and (config.os ~= want.os or config.architecture ~= want.architecture) then
      return nil, string.format("base %s is a %s/%s image, not %s (name an index or give one base per platform)",
        parsed.name, tostring(config.os), tostring(config.architecture), pname), EXIT_INVALID
    end
    local layers = {}
    for i, l in ipairs(m.layers) do
      local mt = base.LAYER_TYPES[l.mediaType]
      if NON_DISTRIBUTABLE[l.mediaType] or l.urls then
        return nil, string.format("base %s: layer %d (%s) is a foreign, non-distributable layer; hoist " ..
          "does not copy those (choose a base without them)", parsed.name, i, tostring(l.mediaType)), EXIT_INVALID
      end
      if not mt then
        return nil, string.format("base %s: layer %d has media type %s, which is not an image layer",
          parsed.name, i, tostring(l.mediaType)), EXIT_INVALID
      end
      layers[i] = { mediaType = mt, digest = l.digest, size = l.size }
    end
    local diff_ids = type(config.rootfs) == "table" and config.rootfs.diff_ids or nil
    if type(diff_ids) ~= "table" or #diff_ids ~= #layers then
      return nil, string.format("base %s: its config lists %d layers, its manifest %d", parsed.name,
        type(diff_ids) == "table" and #diff_ids or 0, #layers), EXIT_INVALID
    end
    local r = { name = parsed.name, digest = t.desc.digest, manifest_digest = mdesc.digest,
                platform = pname, config = config, config_desc = m.config, layers = layers, ep = t.ep,
                transport = parsed.transport, repository = parsed.ref.repository,
                api_host = parsed.ref.api_host }
    self.resolved[key] = r
    return r
  end

  --[[
  session:blob_file(r, desc) -> a local file holding the base layer desc (of resolved base r), in
  the layer cache by digest when there is one, downloaded once and checked against its digest
  (a cached one is checked again, and fetched anew when it does not match), or nil, message.
  ]]
  function s:blob_file(r, desc)
    if r.transport == "oci" then
      local path, err = r.ep:blob_file(desc)
      if not path then return nil, err end
      if core.digest_file(path) ~= desc.digest then
        return nil, "base " .. r.name .. ": blob " .. desc.digest .. " does not match its digest"
      end
      return path
    end
    if not self.cache or not fs.mkdir(self.cache .. "/blobs") then
      return r.ep:blob_file(desc)  -- no cache: the endpoint's scratch folder (checked on download)
    end
    local path = self.cache .. "/blobs/" .. desc.digest:sub(8)
    local st = fs.stat(path, true)
    if st and st.size == desc.size and core.digest_file(path) == desc.digest then return path end
    if st then fs.remove(path) end
    local size, err = r.ep.client:blob_file(r.ep.repo, desc.digest, desc.size, path)
    if not size then return nil, "base " .. r.name .. ": " .. tostring(err) end
    return path
  end

  --[[
  session:copy_into(store, r [, private]) puts every layer of base r into store (an oci.Layout):
  copied from the cache (hard-linked only into a private staging store). Returns how many bytes
  it placed, or nil, message.
  ]]
  function s:copy_into(store, r, private)
    local bytes = 0
    for _, l in ipairs(r.layers) do
      if not store:has_blob(l.digest) then
        local path, err = self:blob_file(r, l)
        if not path then return nil, err end
        local ok, perr
        if private then ok, perr = fs.link_or_copy(path, store:blob_path(l.digest))
        else ok, perr = fs.copy(path, store:blob_path(l.digest)) end
        if not ok then return nil, perr end
        bytes = bytes + l.size
      end
    end
    return bytes
  end

  --[[
  session:lookup(r) -> lookup, failure: base r's filesystem as a hoist.imagefs lookup over its
  layers, read top-down and only when a question reaches them (imagefs.layered): a layer is
  downloaded (once per digest, into the cache) only when the layers above it do not decide a
  path. failure() -> the first layer that could not be read, or nil.
  ]]
  function s:lookup(r)
    if not r.lookup then
      r.lookup, r.failure = imagefs.layered(#r.layers, function(i, path)
        local l = r.layers[i]
        local idx = self.indexes[l.digest]
        if idx then return idx end
        log.debug("base %s (%s): layer %d is read for /%s", r.name, tostring(r.platform), i, path)
        local path, err = self:blob_file(r, l)
        if not path then return nil, err end
        local _, _, info = core.scan_layer(path, nil, nil, true)
        if not info then return nil, string.format("base %s: layer %d: cannot be read", r.name, i) end
        idx = imagefs.layer_index(info)
        self.indexes[l.digest] = idx
        return idx
      end)
    end
    return r.lookup, r.failure
  end

  function s:close()
    for _, ep in pairs(self.eps) do ep:close() end
  end

  return s
end

return base
