-- hoist.oci: OCI images from files. Layers are built natively (hoist.oci.core: one streaming
-- pass per layer, in parallel, identical layers once, cached across runs); configs, manifests
-- and indexes are JSON documents encoded once with sorted keys and hashed exactly as written.
local core = require("hoist.oci.core")
local sign_core = require("hoist.sign.core")
local fs = require("hoist.fs")
local json = require("hoist.json")
local keys = require("hoist.keys")

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
--[[
A platform in either shape every API takes: "os/arch[/variant]" or a descriptor's table
{ os, architecture [, variant] }. parse_platform gives the table (a new one), platform_string the
string; both check what they are given (a bad table or string: nil, message; another type raises).
]]
function oci.parse_platform(s)
  if type(s) == "table" then
    if type(s.os) ~= "string" or type(s.architecture) ~= "string" or (s.variant ~= nil and type(s.variant) ~= "string") then
      return nil, "invalid platform table (expected { os = \"linux\", architecture = \"amd64\" [, variant] })"
    end
    return oci.parse_platform(s.os .. "/" .. s.architecture .. (s.variant and s.variant ~= "" and ("/" .. s.variant) or ""))
  end
  if type(s) ~= "string" then error("platform: a string like 'linux/amd64' or an { os, architecture } table expected", 2) end
  local os_, arch, variant = s:match("^([%w_-]+)/([%w_-]+)/?([%w_-]*)$")
  if not os_ then return nil, "invalid platform '" .. s .. "' (expected OS/ARCH[/VARIANT])" end
  return { os = os_, architecture = arch, variant = variant ~= "" and variant or nil }
end

function oci.platform_string(p)
  local t, err = oci.parse_platform(p)
  if not t then error(err, 2) end
  return t.os .. "/" .. t.architecture .. (t.variant and ("/" .. t.variant) or "")
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

local LAYOUT_OPTS = { "create" }
-- oci.layers, oci.cached_layers and oci.plan take the same options, so one table serves all three
local LAYERS_OPTS = { "mtime", "root", "threads", "cache", "private", "plans", "compression", "level",
                      "files", "push", "progress" }

--[[
Opens (creating when missing, unless opts.create == false) an OCI image layout. Temp files that
a killed writer left in blobs/sha256 are removed on the way (fs.sweep_temps). Every change of
index.json happens under DIR/index.json.lock (Layout:update), so concurrent writers never lose
each other's tags.
]]
function oci.layout(dir, opts)
  if type(dir) ~= "string" or dir == "" then error("oci.layout: a folder path expected", 2) end
  opts = keys.options(opts, LAYOUT_OPTS, "oci.layout")
  local self = setmetatable({ dir = dir, blob_dir = dir .. "/blobs/sha256" }, Layout)
  if opts.create == false then
    if not fs.exists(dir .. "/oci-layout") then return nil, "'" .. dir .. "' is not an OCI image layout" end
    fs.sweep_temps(self.blob_dir)
    return self
  end
  local ok, err = fs.mkdir(self.blob_dir)
  if not ok then return nil, err end
  if not fs.exists(dir .. "/oci-layout") then
    ok, err = fs.write(dir .. "/oci-layout", '{"imageLayoutVersion":"1.0.0"}')
    if not ok then return nil, err end
  end
  fs.sweep_temps(self.blob_dir)
  return self
end

function Layout:blob_path(digest)
  if not core.digest_valid(digest) then error("invalid digest '" .. tostring(digest) .. "'", 2) end
  return self.blob_dir .. "/" .. digest:sub(8)
end

function Layout:has_blob(digest)
  return fs.exists(self:blob_path(digest))
end

-- Stores bytes as a blob; returns the descriptor { mediaType, digest, size }.
function Layout:put_blob(bytes, media_type)
  local digest = core.digest(bytes)
  local path = self:blob_path(digest)
  if not fs.exists(path) then
    local ok, err = fs.write(path, bytes)
    if not ok then return nil, err end
  end
  return { mediaType = media_type, digest = digest, size = #bytes }
end

function Layout:blob(digest)
  return fs.read(self:blob_path(digest))
end

function Layout:blob_json(digest)
  local data, err = self:blob(digest)
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

-- The tag names of an index, in file order.
local function tag_names(idx)
  local out = {}
  for _, m in ipairs(idx.manifests) do
    local name = m.annotations and m.annotations[oci.REF_NAME]
    if name then out[#out + 1] = name end
  end
  return out
end

-- Tag names in index.json, in file order.
function Layout:tags()
  local idx, err = self:index()
  if not idx then return nil, err end
  return tag_names(idx)
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

local write_tags

--[[
A read-modify-write of index.json under the layout's lock: fn(view) runs while no other hoist
changes the layout, with view = { tags = function() -> names, target = function(tag) -> digest
| nil } read from index.json as it is now; it returns desc, tags (point those tags at desc; the
blob must be in the layout: a tag never dangles), or nil, message, code to change nothing.
Returns what fn returned second (tags) or nil, message, code.
]]
-- The one read-modify-write of index.json: under the lock, fn(idx) -> items for write_tags, or
-- nil, message, code to change nothing (a raise in fn unlocks and goes on).
local function locked_update(self, fn)
  local lock, lerr = fs.lock(self.dir .. "/index.json.lock")
  if not lock then return nil, lerr end
  local idx, err = self:index()
  if not idx then lock:unlock(); return nil, err end
  local ok, items, ferr, code = pcall(fn, idx)
  if not ok then lock:unlock(); error(items, 0) end
  if not items then lock:unlock(); return nil, ferr, code end
  local wok, werr = write_tags(self, idx, items)
  lock:unlock()
  if not wok then return nil, werr end
  return true
end

function Layout:update(fn)
  local tags
  local ok, err, code = locked_update(self, function(idx)
    local view = {
      tags = function() return tag_names(idx) end,
      target = function(tag)
        for _, m in ipairs(idx.manifests) do
          if m.annotations and m.annotations[oci.REF_NAME] == tag then return m.digest end
        end
        return nil
      end,
    }
    local desc, t, c = fn(view)
    if not desc then return nil, t, c end
    tags = t
    return { { desc = desc, tags = t } }
  end)
  if not ok then return nil, err, code end
  return tags
end

-- Points tags at a descriptor (replacing what they pointed at), under the layout's lock, with
-- one atomic write of index.json. The descriptor's blob must already be in the layout.
function Layout:tag(desc, tags)
  if type(tags) == "string" then tags = { tags } end
  return self:tag_all({ { desc = desc, tags = tags } })
end

--[[
Several of Layout:tag at once: items = { { desc = ..., tags = { ... } }, ... }, applied in order
with one write of index.json (a signed release tags its signatures and referrers indexes: one
fsync'd index.json instead of one per tag).
]]
function Layout:tag_all(items)
  for _, it in ipairs(items) do
    if not self:has_blob(it.desc.digest) then
      error("cannot tag " .. it.desc.digest .. ": the blob is not in " .. tostring(self), 2)
    end
  end
  return locked_update(self, function() return items end)
end

-- The index's entries with tags pointing at desc instead of what they pointed at.
local function retag(manifests, desc, tags)
  local drop = {}
  for _, t in ipairs(tags) do drop[t] = true end
  local kept = json.array({})
  for _, m in ipairs(manifests) do
    local name = m.annotations and m.annotations[oci.REF_NAME]
    if not (name and drop[name]) then kept[#kept + 1] = m end
  end
  for _, t in ipairs(tags) do
    kept[#kept + 1] = {
      mediaType = desc.mediaType, digest = desc.digest, size = desc.size,
      annotations = { [oci.REF_NAME] = t },
    }
  end
  return kept
end

-- index.json with each item's tags pointing at its desc (the caller holds the lock).
write_tags = function(self, idx, items)
  for _, it in ipairs(items) do
    if not self:has_blob(it.desc.digest) then
      error("cannot tag " .. it.desc.digest .. ": the blob is not in " .. tostring(self), 3)
    end
    idx.manifests = retag(idx.manifests, it.desc, it.tags)
  end
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

--[[
The layer cache: layers/<key>.json -> { digest, diff_id, size, sig } and blobs/<hex>. A blob is
trusted when it is still the file the record saw (sig: size, mtime in ns, inode): anything that
wrote to it changed that, and it is then hashed again; one that no longer matches its digest is
dropped and the layer rebuilt. Cache blobs never share an inode with a layout the user can edit
(they are copied, or reflinked where the file system can); only a private staging store (the
one a registry release pushes from, removed afterwards) takes hard links.
]]
local function file_sig(path)
  local st = fs.stat(path, true)
  if not st or st.type ~= "file" then return nil end
  return { size = st.size, mtime_ns = st.mtime_ns, ino = st.ino }
end

local function same_sig(a, b)
  return type(a) == "table" and type(b) == "table" and a.size == b.size and a.mtime_ns == b.mtime_ns
    and a.ino == b.ino
end

-- into a store: a hard link only into a private one; into the cache without fsync (it is checked)
local function place(src, dst, private, durable)
  if private then return fs.link_or_copy(src, dst) end
  return fs.copy(src, dst, { durable = durable })
end

-- The cache's blob of a record, verified (see above), or nil when it is missing or spoiled.
local function cache_blob(cache, key, rec)
  local src = cache .. "/blobs/" .. rec.digest:sub(8)
  local sig = file_sig(src)
  if not sig or sig.size ~= rec.size then
    if sig then fs.remove(src) end
    fs.remove(cache_record_path(cache, key))
    return nil
  end
  if not same_sig(sig, rec.sig) then
    local d = core.digest_file(src)
    if d ~= rec.digest then
      require("hoist.log").warn("layer cache: %s does not match its digest; dropped, the layer is built again",
        src)
      fs.remove(src)
      fs.remove(cache_record_path(cache, key))
      return nil
    end
    rec.sig = sig
    json.write(cache_record_path(cache, key), rec)
  end
  return src
end

-- Looks a plan's key up in the cache: its record and its verified blob, or nil.
local function cache_lookup(cache, key)
  local rec = json.read(cache_record_path(cache, key))
  if type(rec) ~= "table" or not core.digest_valid(rec.digest or "") then return nil end
  local src = cache_blob(cache, key, rec)
  if not src then return nil end
  rec.written = false
  return rec, src
end

--[[
Puts the blobs of cache hits ({ { rec, src }, ... }) into the store, all at once: a private store
takes hard links; any other gets copies, fsynced, on several threads, the biggest first (a
re-release into a new layout copies every layer: the copies and their fsyncs overlap). Sets
rec.written on the hits whose blob this put there. Returns the set of digests that could not be
placed (those layers are built instead).
]]
local function cache_place(store, hits, private)
  local copies, seen, failed = {}, {}, {}
  for _, h in ipairs(hits) do
    local d = h.rec.digest
    if not seen[d] and not store:has_blob(d) then
      copies[#copies + 1] = { from = h.src, to = store:blob_path(d), size = h.rec.size, rec = h.rec }
    end
    seen[d] = true
  end
  if private then
    for _, c in ipairs(copies) do place(c.from, c.to, true, true) end
  else
    table.sort(copies, function(a, b)
      if a.size ~= b.size then return (a.size or 0) > (b.size or 0) end
      return a.to < b.to
    end)
    fs.copy_all(copies, { durable = true })   -- a failure leaves that blob missing: checked below
  end
  for _, c in ipairs(copies) do
    if store:has_blob(c.rec.digest) then c.rec.written = true else failed[c.rec.digest] = true end
  end
  return failed
end

--[[
The file lists of layers, by layer digest: CACHE/files/<hex>.jsonl, JSON Lines written and read
by C (host/core/image/filesrecord.h) one entry at a time, so that a list of 60,000 files never
becomes a parsed tree or Lua tables. A list is a hoist.LayerFiles value (list:entries() gives
{ name, type, mode, link, size, sha256, sha1 } tables in archive order), as
hoist.sign.core.layer_files reads them from a blob and core.write_layers records them while it
writes one (hoist.attest's SBOMs read them). Content-addressed, so a record never goes stale;
oci.layers writes one for every layer it builds with a cache, so an SBOM of a layer hoist built
never reads the layer again.
oci.cached_files(cache, digest) -> list | nil (no record, or not a whole one)
oci.cache_files(cache, digest, list) -> true | nil (best effort: a record that cannot be written
only costs the next SBOM a read of the layer)
]]
local function files_record_path(cache, digest) return cache .. "/files/" .. digest:sub(8) .. ".jsonl" end

local function check_cache_digest(cache, digest, fname)
  if type(cache) ~= "string" or cache == "" then error(fname .. ": a cache folder expected", 3) end
  if type(digest) ~= "string" or not core.digest_valid(digest) then error(fname .. ": a sha256 digest expected", 3) end
end

function oci.cached_files(cache, digest)
  check_cache_digest(cache, digest, "oci.cached_files")
  return (sign_core.files_record_read(files_record_path(cache, digest)))
end

function oci.cache_files(cache, digest, list)
  check_cache_digest(cache, digest, "oci.cache_files")
  if type(list) ~= "userdata" then error("oci.cache_files: a layer file list (hoist.LayerFiles) expected", 2) end
  if not fs.mkdir(cache .. "/files") then return nil end
  return sign_core.files_record_write(files_record_path(cache, digest), list) and true or nil
end

local function cache_store(cache, store, key, rec, private)
  -- best effort: a cache that cannot be written only costs the next release some time
  if not fs.mkdir(cache .. "/blobs") or not fs.mkdir(cache .. "/layers") then return end
  local dst = cache .. "/blobs/" .. rec.digest:sub(8)
  if not fs.exists(dst) and not place(store:blob_path(rec.digest), dst, private, false) then return end
  rec.sig = file_sig(dst)
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
    local parents = spec.parents ~= false
    local sig, inputs = { compression, tostring(level), tostring(parents) }, {}
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
        parents = parents,
      })
      if not plan then return nil, err, code, i end
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
--[[
Plans every spec (walking its files: a file that cannot go into a layer, such as a FIFO, is an
error here, before anything is built) for oci.layers / oci.cached_layers, which take it as
opts.plans instead of walking the files again. Returns the plan set or nil, err, code, the index
of the spec that failed.
]]
function oci.plan(specs, opts)
  local plans, by_key, order, failed = plan_specs(specs, keys.options(opts, LAYERS_OPTS, "oci.plan"))
  if not plans then return nil, by_key, order, failed end
  return { plans = plans, by_key = by_key, order = order, specs = specs }
end

local function planned(specs, opts)
  local set = opts.plans
  if set then
    if set.specs ~= specs then error("oci: opts.plans was made for other specs", 3) end
    return set.plans, set.by_key, set.order
  end
  return plan_specs(specs, opts)
end

function oci.cached_layers(specs, opts)
  opts = keys.options(opts, LAYERS_OPTS, "oci.cached_layers")
  local cache = opts.cache
  if cache == nil then cache = oci.cache_dir() end
  local plans, err, code = planned(specs, opts)
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
  level = n, parents = false (folders implied by deeper entries are not written: for a layer over
  a base image, whose folders keep their modes and owners; default: written 0755, owned like the
  entry that implies them) }. An input's owner is "uid:gid" (default "0:0"), its exclude a list of globs on
paths under a folder `from` (see host/core/image/pathglob.h: "*.map", "/build", "docs/", "!docs/README.md");
`source` is allowed and ignored (extension.lua's spelling of `from`); other keys raise.
opts: { mtime = SOURCE_DATE_EPOCH, root = folder every `from` must stay in, threads = n,
        files = false (with a cache, record no file lists: see oci.cached_files; saves hashing
        every file's bytes, SHA-256 + SHA-1, when no SBOM will be made),
        cache = folder | false, private = true when store is a private staging store (cache
        blobs may then be hard-linked into it), plans = oci.plan(specs, ...),
        push = a push stream (client:push_stream): the layers built are also uploaded while
        they are written; cached ones are not (the caller pushes them),
        progress = fn({ read_bytes, total_bytes }): called about 4 times a second while layers
        are built (file content read so far, of what the layers to build hold), and once at
        the end; not called when every layer is cached }.
Identical specs (same inputs, same files) are built once; independent ones in parallel; a spec
whose key is in the cache is not read again. Returns descriptors
{ mediaType, digest, size, diff_id, key, cached = bool, streamed = bool } in spec order, or
nil, err (naming the layer by its inputs), code.
]]
function oci.layers(store, specs, opts)
  opts = keys.options(opts, LAYERS_OPTS, "oci.layers")
  local cache = opts.cache
  if cache == nil then cache = oci.cache_dir() end
  if opts.files ~= nil and type(opts.files) ~= "boolean" then error("oci.layers: opts.files must be a boolean", 2) end
  local record = cache and opts.files ~= false
  local plans, by_key, order = planned(specs, opts)
  if not plans then return nil, by_key, order end
  local to_build, build_keys = {}, {}
  local hits, hit_of = {}, {}
  for _, key in ipairs(order) do
    local rec, src
    if cache then rec, src = cache_lookup(cache, key) end
    if rec then
      hits[#hits + 1] = { rec = rec, src = src }
      hit_of[key] = rec
    end
  end
  local failed = cache_place(store, hits, opts.private)
  for _, key in ipairs(order) do
    local slot, rec = by_key[key], hit_of[key]
    if rec and not failed[rec.digest] then
      slot.result = { digest = rec.digest, diff_id = rec.diff_id, size = rec.size, cached = true,
                      written = rec.written }
    else
      to_build[#to_build + 1] = slot.plan
      build_keys[#build_keys + 1] = key
    end
  end
  if #to_build > 0 then
    -- with a cache, each layer's file list is recorded while it is written (SHA-256 and SHA-1 of
    -- the bytes read anyway) and kept beside the layer: an SBOM then reads no layer back
    local results, err, code, at = core.write_layers(to_build, store.blob_dir,
      { threads = opts.threads, push = opts.push, files = record and true or false, progress = opts.progress })
    if not results then
      -- "layer N" is N of this build: name it by what it holds
      for i, p in ipairs(at and plans or {}) do
        if p.key == build_keys[at] then
          err = err:gsub("^layer %d+", function() return "layer " .. oci.describe_spec(specs[i]) end, 1)
          break
        end
      end
      return nil, err, code
    end
    for i, r in ipairs(results) do
      local key = build_keys[i]
      by_key[key].result = { digest = r.digest, diff_id = r.diff_id, size = r.size, cached = false,
                             written = true, streamed = r.streamed == true }
      if cache then
        cache_store(cache, store, key, { digest = r.digest, diff_id = r.diff_id, size = r.size }, opts.private)
        if record and not fs.exists(files_record_path(cache, r.digest)) then oci.cache_files(cache, r.digest, r.files) end
      end
      r.files = nil  -- a list of thousands of entries: not kept past this loop
      collectgarbage()
    end
  end
  local out = {}
  for i, p in ipairs(plans) do
    local r = by_key[p.key].result
    -- `written`: this call put the blob into the store (built, or copied from the cache);
    -- reported once per distinct layer
    out[i] = { mediaType = p.media, digest = r.digest, size = r.size, diff_id = r.diff_id,
               key = p.key, cached = r.cached, written = r.written and not r.reported,
               streamed = r.streamed == true }
    r.reported = true
  end
  return out
end

-- A layer spec in words, for messages: "'ui' -> /ui, 'host/amd64' -> /" (how extension.lua
-- spelled each source, else its path).
function oci.describe_spec(spec)
  local parts = {}
  for _, e in ipairs(type(spec) == "table" and spec.inputs or {}) do
    parts[#parts + 1] = "'" .. tostring(e.source or e.from) .. "' -> " .. tostring(e.to)
  end
  return "(" .. table.concat(parts, ", ") .. ")"
end

-- One layer: oci.layer(store, inputs [, opts]) -> descriptor | nil, err
function oci.layer(store, inputs, opts)
  opts = keys.options(opts, LAYERS_OPTS, "oci.layer")
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
  if type(v) ~= "table" then error(what .. ": a list of strings expected", 3) end
  local out = json.array({})
  for i, s in ipairs(v) do
    if type(s) ~= "string" then error(what .. "[" .. i .. "]: a string expected", 3) end
    out[i] = s
  end
  return out
end

-- A command as the config holds it: a list (exec form), or a string (shell form: run by
-- /bin/sh -c, exactly as Docker turns `CMD string` into ["/bin/sh", "-c", "string"]).
function oci.command(v, what)
  if type(v) == "string" then return json.array({ "/bin/sh", "-c", v }) end
  return string_list(v, what or "command")
end

local function env_list(env)
  local out = json.array({})
  if env == nil then return out end
  if env[1] ~= nil or next(env) == nil then
    for i, e in ipairs(env) do out[i] = e end
  else
    local ks = {}
    for k in pairs(env) do ks[#ks + 1] = k end
    table.sort(ks)
    for _, k in ipairs(ks) do out[#out + 1] = k .. "=" .. tostring(env[k]) end
  end
  return out
end

local function copy_json(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = copy_json(x) end
  return setmetatable(out, getmetatable(v))  -- keeps json.array / json.object marks
end

--[[
oci.image_config(base_config, c) -> the image config's `config` object (Docker's names): the base
image's (base_config: its `config` object, or nil for scratch) with the extension's on top, the way
a Dockerfile's instructions would leave it:
  env          merged by variable: ours replace the base's, new ones come after, in order
  entrypoint   ours replaces the base's, and then the base's Cmd is dropped unless cmd is given
  cmd          ours replaces the base's
  workdir, user, stop_signal, healthcheck   ours replace the base's
  exposed_ports, volumes   added to the base's
  labels       merged, ours win
c: { env = { "K=V" } | { K = "V" }, entrypoint = list | string (shell form), cmd = list | string,
     workdir, user, exposed_ports = { "8080/tcp" }, volumes = { "/data" }, stop_signal,
     healthcheck = { Test = {...}, Interval = ns, ... } (Docker's form), labels = {} }
The base's ONBUILD triggers are dropped (hoist runs no build steps).
]]
function oci.image_config(base_config, c)
  c = c or {}
  local cfg = copy_json(type(base_config) == "table" and base_config or {})
  setmetatable(cfg, nil)
  cfg.OnBuild = nil
  if c.labels and next(c.labels) then
    cfg.Labels = type(cfg.Labels) == "table" and cfg.Labels or {}
    for k, v in pairs(c.labels) do cfg.Labels[k] = v end
  end
  local ours = env_list(c.env)
  if #ours > 0 then
    local env = type(cfg.Env) == "table" and cfg.Env or json.array({})
    local at = {}
    for i, e in ipairs(env) do at[e:match("^([^=]*)")] = i end
    for _, e in ipairs(ours) do
      local k = e:match("^([^=]*)")
      if at[k] then env[at[k]] = e else env[#env + 1] = e; at[k] = #env end
    end
    cfg.Env = json.array(env)
  end
  if c.entrypoint ~= nil then
    cfg.Entrypoint = oci.command(c.entrypoint, "entrypoint")
    if c.cmd == nil then cfg.Cmd = nil end  -- as Docker: a new ENTRYPOINT resets the base's CMD
  end
  if c.cmd ~= nil then cfg.Cmd = oci.command(c.cmd, "cmd") end
  if cfg.Cmd ~= nil and #cfg.Cmd == 0 then cfg.Cmd = nil end
  if cfg.Entrypoint ~= nil and #cfg.Entrypoint == 0 then cfg.Entrypoint = nil end
  if c.workdir then cfg.WorkingDir = c.workdir end
  if c.user then cfg.User = c.user end
  if c.stop_signal then cfg.StopSignal = c.stop_signal end
  if c.healthcheck then cfg.Healthcheck = c.healthcheck end
  for _, f in ipairs({ { "exposed_ports", "ExposedPorts" }, { "volumes", "Volumes" } }) do
    local list = c[f[1]]
    if list and #list > 0 then
      local set = type(cfg[f[2]]) == "table" and cfg[f[2]] or {}
      for _, p in ipairs(list) do set[p] = json.object({}) end
      cfg[f[2]] = set
    end
  end
  return cfg
end

--[[
oci.image(store, { platform = "linux/arm64", layers = { desc, ... }, created = epoch,
                   config = { see oci.image_config }, history = { "what made layer 1", ... },
                   annotations = {}, base = { config = the base image's config document,
                   layers = { desc, ... } } })
-> the manifest's descriptor, with .platform, .config (descriptor) and .manifest (the document)
With a base, its layers come first (their blobs are not put in the store: the caller copies or
pushes them), its diff_ids and history are kept, and its config is inherited (oci.image_config).
]]
function oci.image(store, spec)
  local platform, perr = oci.parse_platform(spec.platform)
  if not platform then error("oci.image: " .. perr, 2) end
  local created = oci.timestamp(spec.created)
  local b = spec.base
  local bdoc = b and b.config or {}
  local cfg = oci.image_config(bdoc.config, spec.config)
  local diff_ids, history, layers = json.array({}), json.array({}), json.array({})
  if b then
    local rootfs = type(bdoc.rootfs) == "table" and bdoc.rootfs or {}
    for i, d in ipairs(rootfs.diff_ids or {}) do diff_ids[i] = d end
    for i, h in ipairs(type(bdoc.history) == "table" and bdoc.history or {}) do history[i] = copy_json(h) end
    for i, l in ipairs(b.layers or {}) do layers[i] = descriptor(l) end
    if #diff_ids ~= #layers then
      error(string.format("oci.image: the base has %d layers but %d diff_ids", #layers, #diff_ids), 2)
    end
  end
  for i, l in ipairs(spec.layers or {}) do
    diff_ids[#diff_ids + 1] = l.diff_id
    layers[#layers + 1] = descriptor(l)
    history[#history + 1] = { created = created, created_by = (spec.history and spec.history[i]) or ("hoist layer " .. i) }
  end
  local config = {
    architecture = platform.architecture, os = platform.os, variant = platform.variant,
    created = created, config = next(cfg) and cfg or json.object({}),
    rootfs = { type = "layers", diff_ids = diff_ids }, history = history,
  }
  local config_desc, err = store:put_blob(encode(config), oci.MEDIA.config)
  if not config_desc then return nil, err end
  local manifest = {
    schemaVersion = 2, mediaType = oci.MEDIA.manifest,
    config = config_desc, layers = layers,
    annotations = (spec.annotations and next(spec.annotations)) and spec.annotations or nil,
  }
  local desc
  desc, err = store:put_blob(encode(manifest), oci.MEDIA.manifest)
  if not desc then return nil, err end
  desc.platform = platform
  desc.config = config_desc
  desc.manifest = manifest
  desc.config_doc = config
  return desc
end

-- oci.index(store, { image_desc, ... } [, { annotations = {} }]) -> descriptor with .index
function oci.index(store, images, opts)
  opts = keys.options(opts, { "annotations" }, "oci.index")
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
  local desc, err = store:put_blob(encode(index), oci.MEDIA.index)
  if not desc then return nil, err end
  desc.index = index
  return desc
end

return oci
