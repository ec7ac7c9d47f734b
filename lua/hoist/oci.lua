-- hoist.oci: OCI images from files. Layers are built natively (hoist.oci.core: one streaming
-- pass per layer, in parallel, identical layers once, cached across runs); configs, manifests
-- and indexes are JSON documents encoded once with sorted keys and hashed exactly as written.
local core = require("hoist.oci.core")
local fs = require("hoist.fs")
local json = require("hoist.json")

local oci = {}

oci.MEDIA = {
  index = "application/vnd.oci.image.index.v1+json",
  manifest = "application/vnd.oci.image.manifest.v1+json",
  config = "application/vnd.oci.image.config.v1+json",
  layer_gzip = core.media_type("gzip"),
  layer_zstd = core.media_type("zstd"),
  layer_tar = core.media_type("none"),
}
oci.REF_NAME = "org.opencontainers.image.ref.name"

oci.digest = core.digest
oci.digest_file = core.digest_file

local function encode(doc)
  return json.encode(doc, { sort_keys = true })
end

-- "linux/arm64/v8" -> { os = "linux", architecture = "arm64", variant = "v8" }
function oci.parse_platform(s)
  if type(s) ~= "string" then error("platform: a string like 'linux/amd64' expected", 2) end
  local os_, arch, variant = s:match("^([%w_-]+)/([%w_-]+)/?([%w_-]*)$")
  if not os_ then return nil, "invalid platform '" .. s .. "' (expected OS/ARCH[/VARIANT])" end
  return { os = os_, architecture = arch, variant = variant ~= "" and variant or nil }
end

function oci.platform_string(p)
  return p.os .. "/" .. p.architecture .. (p.variant and ("/" .. p.variant) or "")
end

-- RFC 3339 time of a Unix epoch (SOURCE_DATE_EPOCH for reproducible images).
function oci.timestamp(epoch)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", epoch or 0)
end

-- SOURCE_DATE_EPOCH as an integer (0 when unset); an invalid value is misuse of the environment.
function oci.source_date_epoch()
  local v = os.getenv("SOURCE_DATE_EPOCH")
  if v == nil or v == "" then return 0 end
  local n = math.tointeger(tonumber(v))
  if not n or n < 0 then return nil, "SOURCE_DATE_EPOCH must be a non-negative integer, got '" .. v .. "'" end
  return n
end

---------------------------------------------------------------------------------------------------
-- OCI image layout: DIR/oci-layout, DIR/index.json, DIR/blobs/sha256/<hex>

local Layout = {}
Layout.__index = Layout
Layout.__name = "hoist.Layout"
function Layout:__tostring() return "oci:" .. self.dir end

-- Opens (creating when missing) an OCI image layout.
function oci.layout(dir, opts)
  if type(dir) ~= "string" or dir == "" then error("oci.layout: a folder path expected", 2) end
  opts = opts or {}
  local self = setmetatable({ dir = dir, blob_dir = dir .. "/blobs/sha256" }, Layout)
  if opts.create == false then
    if not fs.exists(dir .. "/oci-layout") then return nil, "'" .. dir .. "' is not an OCI image layout" end
    return self
  end
  local ok, err = fs.mkdir(self.blob_dir)
  if not ok then return nil, err end
  if not fs.exists(dir .. "/oci-layout") then
    ok, err = fs.write(dir .. "/oci-layout", '{"imageLayoutVersion":"1.0.0"}')
    if not ok then return nil, err end
  end
  return self
end

function Layout:blob_path(digest)
  if not core.digest_valid(digest) then error("invalid digest '" .. tostring(digest) .. "'", 2) end
  return self.blob_dir .. "/" .. digest:sub(8)
end

function Layout:has(digest)
  return fs.exists(self:blob_path(digest))
end

-- Stores bytes as a blob; returns the descriptor { mediaType, digest, size }.
function Layout:put(bytes, media_type)
  local digest = core.digest(bytes)
  local path = self:blob_path(digest)
  if not fs.exists(path) then
    local ok, err = fs.write(path, bytes)
    if not ok then return nil, err end
  end
  return { mediaType = media_type, digest = digest, size = #bytes }
end

function Layout:read(digest)
  return fs.read(self:blob_path(digest))
end

function Layout:read_json(digest)
  local data, err = self:read(digest)
  if not data then return nil, err end
  return json.decode(data)
end

-- The layout's index.json (an empty one when the file does not exist yet).
function Layout:index()
  local path = self.dir .. "/index.json"
  if not fs.exists(path) then
    return { schemaVersion = 2, mediaType = oci.MEDIA.index, manifests = json.array({}) }
  end
  local doc, err = json.read(path)
  if not doc then return nil, err end
  doc.manifests = doc.manifests or json.array({})
  return doc
end

-- Tag names in index.json, in file order.
function Layout:tags()
  local idx, err = self:index()
  if not idx then return nil, err end
  local out = {}
  for _, m in ipairs(idx.manifests) do
    local name = m.annotations and m.annotations[oci.REF_NAME]
    if name then out[#out + 1] = name end
  end
  return out
end

-- The descriptor a tag points at, or nil.
function Layout:resolve(tag)
  local idx, err = self:index()
  if not idx then return nil, err end
  for _, m in ipairs(idx.manifests) do
    if m.annotations and m.annotations[oci.REF_NAME] == tag then return m end
  end
  return nil, "tag '" .. tag .. "' not found in " .. tostring(self)
end

-- Points tags at a descriptor (replacing what they pointed at) with one atomic write of
-- index.json. The descriptor's blob must already be in the layout: a tag never dangles.
function Layout:tag(desc, tags)
  if type(tags) == "string" then tags = { tags } end
  if not self:has(desc.digest) then
    error("cannot tag " .. desc.digest .. ": the blob is not in " .. tostring(self), 2)
  end
  local idx, err = self:index()
  if not idx then return nil, err end
  local drop = {}
  for _, t in ipairs(tags) do drop[t] = true end
  local kept = json.array({})
  for _, m in ipairs(idx.manifests) do
    local name = m.annotations and m.annotations[oci.REF_NAME]
    if not (name and drop[name]) then kept[#kept + 1] = m end
  end
  for _, t in ipairs(tags) do
    kept[#kept + 1] = {
      mediaType = desc.mediaType, digest = desc.digest, size = desc.size,
      annotations = { [oci.REF_NAME] = t },
    }
  end
  idx.manifests = kept
  idx.schemaVersion = 2
  idx.mediaType = oci.MEDIA.index
  local ok, werr = fs.write(self.dir .. "/index.json", json.encode(idx, { sort_keys = true, indent = 2 }) .. "\n")
  if not ok then return nil, werr end
  return true
end

---------------------------------------------------------------------------------------------------
-- Layers

-- The cache folder: $XDG_CACHE_HOME/hoist, else ~/.cache/hoist.
function oci.cache_dir()
  local base = os.getenv("XDG_CACHE_HOME")
  if not base or base == "" then
    local home = os.getenv("HOME")
    if not home or home == "" then return nil end
    base = home .. "/.cache"
  end
  return base .. "/hoist"
end

local function cache_record_path(cache, key)
  return cache .. "/layers/" .. key:sub(8) .. ".json"
end

-- Looks a plan's key up in the cache; puts the blob into the store on a hit.
local function cache_fetch(cache, store, key)
  local rec = json.read(cache_record_path(cache, key))
  if type(rec) ~= "table" or not core.digest_valid(rec.digest or "") then return nil end
  rec.written = false
  if not store:has(rec.digest) then
    local src = cache .. "/blobs/" .. rec.digest:sub(8)
    if not fs.exists(src) or not fs.link_or_copy(src, store:blob_path(rec.digest)) then return nil end
    rec.written = true
  end
  return rec
end

local function cache_store(cache, store, key, rec)
  -- best effort: a cache that cannot be written only costs the next release some time
  if not fs.mkdir(cache .. "/blobs") or not fs.mkdir(cache .. "/layers") then return end
  local dst = cache .. "/blobs/" .. rec.digest:sub(8)
  if not fs.exists(dst) then fs.link_or_copy(store:blob_path(rec.digest), dst) end
  json.write(cache_record_path(cache, key), rec)
end

-- Plans every spec (walking its files once per distinct input set): plans[i] = { plan, key,
-- media }, by_key[key] = { plan, media }, order = distinct keys in spec order.
local function plan_specs(specs, opts)
  local plans, by_key, order, by_inputs = {}, {}, {}, {}
  for i, spec in ipairs(specs) do
    local compression = spec.compression or opts.compression or "gzip"
    local level = spec.level or opts.level
    -- the same inputs on several platforms (metadata, UI) are walked once
    local sig, inputs = { compression, tostring(level) }, {}
    for k, e in ipairs(spec.inputs) do
      local excl = tostring(e.exclude)
      if type(e.exclude) == "table" then
        excl = {}
        for j, pat in ipairs(e.exclude) do excl[j] = tostring(pat) end  -- the core checks types
        excl = table.concat(excl, "\0")
      end
      sig[#sig + 1] = tostring(e.from) .. "\0" .. tostring(e.to) .. "\0" .. tostring(e.mode) ..
        "\0" .. tostring(e.owner) .. "\0" .. excl
      -- `source` (how extension.lua spelled `from`) is for messages; every other key goes to the
      -- core, which refuses the ones it does not know
      local copy = e
      if type(e) == "table" then
        copy = {}
        for key, v in pairs(e) do
          if key ~= "source" then copy[key] = v end
        end
      end
      inputs[k] = copy
    end
    sig = table.concat(sig, "\1")
    local plan, err, code = by_inputs[sig], nil, nil
    if not plan then
      plan, err, code = core.plan_layer(inputs, {
        compression = compression, level = level, mtime = opts.mtime or 0, root = opts.root,
      })
      if not plan then return nil, err, code end
      by_inputs[sig] = plan
    end
    local key = plan:key()
    plans[i] = { plan = plan, key = key, media = core.media_type(compression) }
    if not by_key[key] then
      by_key[key] = { plan = plan, media = plans[i].media }
      order[#order + 1] = key
    end
  end
  return plans, by_key, order
end

--[[
What oci.layers would do, without building or writing anything: for each spec { key, digest,
size } when the cache already holds its blob, else { key } (it would be built).
]]
function oci.cached_layers(specs, opts)
  opts = opts or {}
  local cache = opts.cache
  if cache == nil then cache = oci.cache_dir() end
  local plans, err, code = plan_specs(specs, opts)
  if not plans then return nil, err, code end
  local out = {}
  for i, p in ipairs(plans) do
    local rec = cache and json.read(cache_record_path(cache, p.key))
    if type(rec) == "table" and core.digest_valid(rec.digest or "") and fs.exists(cache .. "/blobs/" .. rec.digest:sub(8)) then
      out[i] = { key = p.key, digest = rec.digest, size = rec.size, mediaType = p.media }
    else
      out[i] = { key = p.key, mediaType = p.media }
    end
  end
  return out
end

--[[
Builds several layers into a store: oci.layers(store, { spec, ... } [, opts]) where a spec is
{ inputs = { {from=, to=, mode=, owner=, exclude=}, ... }, compression = "gzip"|"zstd"|"none",
  level = n }. An input's owner is "uid:gid" (default "0:0"), its exclude a list of globs on
paths under a folder `from` (see host/pathglob.h: "*.map", "/build", "docs/", "!docs/README.md");
`source` is allowed and ignored (extension.lua's spelling of `from`); other keys raise.
opts: { mtime = SOURCE_DATE_EPOCH, root = folder every `from` must stay in, threads = n,
        cache = folder | false }.
Identical specs (same inputs, same files) are built once; independent ones in parallel; a spec
whose key is in the cache is not read again. Returns descriptors
{ mediaType, digest, size, diff_id, key, cached = bool } in spec order, or nil, err.
]]
function oci.layers(store, specs, opts)
  opts = opts or {}
  local cache = opts.cache
  if cache == nil then cache = oci.cache_dir() end
  local plans, by_key, order = plan_specs(specs, opts)
  if not plans then return nil, by_key, order end
  local to_build, build_keys = {}, {}
  for _, key in ipairs(order) do
    local slot = by_key[key]
    local rec = cache and cache_fetch(cache, store, key)
    if rec then
      slot.result = { digest = rec.digest, diff_id = rec.diff_id, size = rec.size, cached = true,
                      written = rec.written }
    else
      to_build[#to_build + 1] = slot.plan
      build_keys[#build_keys + 1] = key
    end
  end
  if #to_build > 0 then
    local results, err, code = core.write_layers(to_build, store.blob_dir, opts.threads)
    if not results then return nil, err, code end
    for i, r in ipairs(results) do
      local key = build_keys[i]
      by_key[key].result = { digest = r.digest, diff_id = r.diff_id, size = r.size, cached = false,
                             written = true }
      if cache then
        cache_store(cache, store, key, { digest = r.digest, diff_id = r.diff_id, size = r.size })
      end
    end
  end
  local out = {}
  for i, p in ipairs(plans) do
    local r = by_key[p.key].result
    -- `written`: this call put the blob into the store (built, or copied from the cache);
    -- reported once per distinct layer
    out[i] = { mediaType = p.media, digest = r.digest, size = r.size, diff_id = r.diff_id,
               key = p.key, cached = r.cached, written = r.written and not r.reported }
    r.reported = true
  end
  return out
end

-- One layer: oci.layer(store, inputs [, opts]) -> descriptor | nil, err
function oci.layer(store, inputs, opts)
  opts = opts or {}
  local list, err = oci.layers(store, { { inputs = inputs, compression = opts.compression,
                                          level = opts.level } }, opts)
  if not list then return nil, err end
  return list[1]
end

---------------------------------------------------------------------------------------------------
-- Images and indexes

local function descriptor(d)
  return { mediaType = d.mediaType, digest = d.digest, size = d.size }
end

local function string_list(v, what)
  if v == nil then return nil end
  if type(v) == "string" then v = { v } end
  if type(v) ~= "table" then error(what .. ": a list of strings expected", 3) end
  local out = json.array({})
  for i, s in ipairs(v) do
    if type(s) ~= "string" then error(what .. "[" .. i .. "]: a string expected", 3) end
    out[i] = s
  end
  return out
end

--[[
oci.image(store, { platform = "linux/arm64", layers = { desc, ... }, created = epoch,
                   config = { labels = {}, env = {} | { K = "v" }, entrypoint = {}, cmd = {},
                              workdir = "", user = "", exposed_ports = { "8080/tcp" } },
                   history = { "what made layer 1", ... }, annotations = {} })
-> the manifest's descriptor, with .platform, .config (descriptor) and .manifest (the document)
]]
function oci.image(store, spec)
  local platform, perr = oci.parse_platform(spec.platform)
  if not platform then error("oci.image: " .. perr, 2) end
  local c = spec.config or {}
  local created = oci.timestamp(spec.created)
  local cfg = {}
  if c.labels and next(c.labels) then cfg.Labels = c.labels end
  if c.env then
    local env = json.array({})
    if c.env[1] ~= nil or next(c.env) == nil then
      for i, e in ipairs(c.env) do env[i] = e end
    else
      local keys = {}
      for k in pairs(c.env) do keys[#keys + 1] = k end
      table.sort(keys)
      for _, k in ipairs(keys) do env[#env + 1] = k .. "=" .. tostring(c.env[k]) end
    end
    if #env > 0 then cfg.Env = env end
  end
  cfg.Entrypoint = string_list(c.entrypoint, "entrypoint")
  cfg.Cmd = string_list(c.cmd, "cmd")
  if c.workdir then cfg.WorkingDir = c.workdir end
  if c.user then cfg.User = c.user end
  if c.exposed_ports then
    local ports = {}
    for _, p in ipairs(c.exposed_ports) do ports[p] = json.object({}) end
    cfg.ExposedPorts = ports
  end
  local diff_ids, history, layers = json.array({}), json.array({}), json.array({})
  for i, l in ipairs(spec.layers or {}) do
    diff_ids[i] = l.diff_id
    layers[i] = descriptor(l)
    history[i] = { created = created, created_by = (spec.history and spec.history[i]) or ("hoist layer " .. i) }
  end
  local config = {
    architecture = platform.architecture, os = platform.os, variant = platform.variant,
    created = created, config = next(cfg) and cfg or json.object({}),
    rootfs = { type = "layers", diff_ids = diff_ids }, history = history,
  }
  local config_desc, err = store:put(encode(config), oci.MEDIA.config)
  if not config_desc then return nil, err end
  local manifest = {
    schemaVersion = 2, mediaType = oci.MEDIA.manifest,
    config = config_desc, layers = layers,
    annotations = (spec.annotations and next(spec.annotations)) and spec.annotations or nil,
  }
  local desc
  desc, err = store:put(encode(manifest), oci.MEDIA.manifest)
  if not desc then return nil, err end
  desc.platform = platform
  desc.config = config_desc
  desc.manifest = manifest
  desc.config_doc = config
  return desc
end

-- oci.index(store, { image_desc, ... } [, { annotations = {} }]) -> descriptor with .index
function oci.index(store, images, opts)
  opts = opts or {}
  local manifests = json.array({})
  for i, img in ipairs(images) do
    if not img.platform then error("oci.index: image " .. i .. " has no platform", 2) end
    local d = descriptor(img)
    d.platform = { os = img.platform.os, architecture = img.platform.architecture,
                   variant = img.platform.variant }
    manifests[i] = d
  end
  local index = {
    schemaVersion = 2, mediaType = oci.MEDIA.index, manifests = manifests,
    annotations = (opts.annotations and next(opts.annotations)) and opts.annotations or nil,
  }
  local desc, err = store:put(encode(index), oci.MEDIA.index)
  if not desc then return nil, err end
  desc.index = index
  return desc
end

return oci
