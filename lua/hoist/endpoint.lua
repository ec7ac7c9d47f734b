-- hoist.endpoint: one face for every place an image lives, so that each recipe works with every
-- transport: an OCI image layout (oci:DIR) and a registry (docker://) for reading and writing.
-- (docker-archive files are write-only: hoist.copy writes them through hoist.archive.)
-- Expected failures return nil, message, kind (hoist.cli.KINDS: EREMOTE, EAUTH, EIO, ENOENT,
-- EINVAL for what is not a valid image, EUSAGE for a reference that cannot be used here).
local core = require("hoist.oci.core")
local fs = require("hoist.fs")
local keys = require("hoist.keys")
local oci = require("hoist.oci")
local ref = require("hoist.ref")

local endpoint = {}

local EXIT_FAILURE, EXIT_USAGE = "EREMOTE", "EUSAGE"

endpoint.INDEX_TYPES = {
  [oci.MEDIA.index] = true,
  ["application/vnd.docker.distribution.manifest.list.v2+json"] = true,
}

local function fail(msg, kind) return nil, msg, kind or EXIT_FAILURE end

-- Decodes a manifest or index into { kind = "image"|"index", config, layers, manifests } (see
-- hoist.oci.core.parse_manifest), naming where it came from when it is malformed.
function endpoint.decode(bytes, media_type, where)
  local m, err = core.parse_manifest(bytes, media_type)
  if not m then return fail(where .. ": " .. err) end
  return m
end

local function is_digest(s) return type(s) == "string" and core.digest_valid(s) end

---------------------------------------------------------------------------------------------------
-- oci:DIR

local Layout = {}
Layout.__index = Layout
Layout.__name = "hoist.Endpoint"

function Layout:tags()
  local tags, err = self.store:tags()
  if not tags then return fail(err) end
  return tags
end

function Layout:resolve(name)
  name = name or self.ref.digest or self.ref.tag or "latest"
  if is_digest(name) then
    if not self.store:has_blob(name) then return fail(name .. " is not in " .. self.display) end
    local bytes, err = self.store:blob(name)
    if not bytes then return fail(err) end
    local m, derr = endpoint.decode(bytes, nil, self.display .. "@" .. name)
    if not m then return nil, derr, EXIT_FAILURE end
    return { mediaType = m.media_type, digest = name, size = #bytes }
  end
  local desc, err = self.store:resolve(name)
  if not desc then return fail(err) end
  return { mediaType = desc.mediaType, digest = desc.digest, size = desc.size }
end

function Layout:manifest(desc)
  local bytes, err = self:blob(desc)
  if not bytes then return nil, err, EXIT_FAILURE end
  local m, derr = endpoint.decode(bytes, desc.mediaType, self.display .. "@" .. desc.digest)
  if not m then return nil, derr, EXIT_FAILURE end
  return bytes, m
end

-- A small blob (a config) by its descriptor { digest, size }, read whole and checked.
function Layout:blob(desc)
  local digest = desc.digest
  if not self.store:has_blob(digest) then return fail("blob " .. digest .. " is missing from " .. self.display) end
  local bytes, err = self.store:blob(digest)
  if not bytes then return fail(err) end
  if core.digest(bytes) ~= digest then return fail("blob " .. digest .. " in " .. self.display .. " does not match its digest") end
  return bytes
end

function Layout:blob_file(desc)
  if not self.store:has_blob(desc.digest) then
    return fail("blob " .. desc.digest .. " is missing from " .. self.display)
  end
  return self.store:blob_path(desc.digest)
end

function Layout:has_blob(digest) return self.store:has_blob(digest) end

-- Copies blobs from src (any endpoint) into the layout: a registry's blobs are downloaded to a
-- private scratch folder and hard-linked in; another layout's are copied (or reflinked), so that
-- two layouts never share an inode an edit of one would change in the other.
function Layout:put_blobs(descs, src)
  local stats = { existing = 0, mounted = 0, uploaded = 0, uploaded_bytes = 0 }
  for _, d in ipairs(descs) do
    if self.store:has_blob(d.digest) then
      stats.existing = stats.existing + 1
    else
      local path, err = src:blob_file(d)
      if not path then return fail(err) end
      local ok, lerr
      if src.transport == "docker" then
        ok, lerr = fs.link_or_copy(path, self.store:blob_path(d.digest))
      else
        ok, lerr = fs.copy(path, self.store:blob_path(d.digest))
      end
      if not ok then return fail(lerr) end
      stats.uploaded = stats.uploaded + 1
      stats.uploaded_bytes = stats.uploaded_bytes + d.size
    end
  end
  return stats
end

-- Stores a manifest; a tag reference also tags it.
function Layout:put_manifest(bytes, media_type, name)
  local desc, err = self.store:put_blob(bytes, media_type)
  if not desc then return fail(err) end
  if name and not is_digest(name) then
    local ok, terr = self.store:tag(desc, { name })
    if not ok then return fail(terr) end
  end
  return desc.digest
end

function Layout:tag(desc, tags, bytes)
  if not self.store:has_blob(desc.digest) then
    local d, err = self.store:put_blob(bytes, desc.mediaType)
    if not d then return fail(err) end
  end
  local ok, err = self.store:tag(desc, tags)
  if not ok then return fail(err) end
  return true
end

-- Several tags at once: writes = { { desc, tag, bytes }, ... } (the blobs put first), with one
-- write of index.json.
function Layout:tag_many(writes)
  local items = {}
  for i, w in ipairs(writes) do
    if not self.store:has_blob(w.desc.digest) then
      local d, err = self.store:put_blob(w.bytes, w.desc.mediaType)
      if not d then return fail(err) end
    end
    items[i] = { desc = w.desc, tags = { w.tag } }
  end
  local ok, err = self.store:tag_all(items)
  if not ok then return fail(err) end
  return true
end

function Layout:close() end

---------------------------------------------------------------------------------------------------
-- docker://HOST/REPO

local Registry = {}
Registry.__index = Registry
Registry.__name = "hoist.Endpoint"

function Registry:tags()
  if not self.tag_cache then
    local tags, err = self.client:tags(self.repo)
    if not tags then return fail(err) end
    self.tag_cache = tags
  end
  return self.tag_cache
end

function Registry:resolve(name)
  name = name or self.ref.digest or self.ref.tag or "latest"
  local desc, err, code = self.client:resolve(self.repo, name)
  if desc == false then
    return fail((is_digest(name) and "manifest " or "tag '") .. name .. (is_digest(name) and "" or "'") ..
      " not found in " .. self.display)
  end
  if not desc then return fail(err, code) end
  return desc
end

function Registry:manifest(desc)
  local bytes, mt = self.client:manifest(self.repo, desc.digest)
  if not bytes then return fail(mt) end
  local m, derr = endpoint.decode(bytes, desc.mediaType or mt, self.display .. "@" .. desc.digest)
  if not m then return nil, derr, EXIT_FAILURE end
  return bytes, m
end

-- A small blob (a config) by its descriptor: more bytes than desc.size are refused.
function Registry:blob(desc)
  local bytes, err = self.client:blob(self.repo, desc.digest, desc.size)
  if not bytes then return fail(err) end
  return bytes
end

-- Downloads a blob once into this endpoint's scratch folder (removed by close).
function Registry:blob_file(desc)
  local path = self.files[desc.digest]
  if path then return path end
  if not self.scratch then
    local dir, err = fs.tmpdir("hoist-blobs")
    if not dir then return fail(err) end
    self.scratch = dir
  end
  path = self.scratch .. "/" .. desc.digest:gsub(":", "-")
  if math.type(desc.size) ~= "integer" then error("blob_file: the descriptor of " .. desc.digest .. " has no size", 2) end
  local size, err = self.client:blob_file(self.repo, desc.digest, desc.size, path)
  if not size then return fail(err) end
  self.files[desc.digest] = path
  return path
end

function Registry:has_blob(digest)
  local exists, err = self.client:has_blob(self.repo, digest)
  if exists == nil then return fail(err) end
  return exists
end

--[[
Puts the blobs the registry lacks: mounted from src's repository when src is the same registry,
otherwise read from src (downloaded first when src is a registry) and uploaded several at once.
]]
function Registry:put_blobs(descs, src)
  local stats = { existing = 0, mounted = 0, uploaded = 0, uploaded_bytes = 0 }
  local jobs = {}
  local same_registry = src.client and src.ref.api_host == self.ref.api_host
  for _, d in ipairs(descs) do
    local needed = true
    if src.client then
      -- a remote source costs a download: look first, and mount within one registry
      local exists, err = self:has_blob(d.digest)
      if exists == nil then return nil, err, EXIT_FAILURE end
      if exists then
        stats.existing = stats.existing + 1
        needed = false
      elseif same_registry and src.repo ~= self.repo then
        local mounted, merr = self.client:mount_blob(self.repo, d.digest, src.repo)
        if mounted == nil then return fail(merr) end
        if mounted then
          stats.mounted = stats.mounted + 1
          needed = false
        end
      end
    end
    if needed then
      local path, err = src:blob_file(d)
      if not path then return nil, err, EXIT_FAILURE end
      jobs[#jobs + 1] = { digest = d.digest, path = path, size = d.size }
    end
  end
  if #jobs > 0 then
    local r, err = self.client:put_blobs(self.repo, jobs, { parallel = self.parallel })
    if not r then return fail(err) end
    for _, k in ipairs({ "existing", "mounted", "uploaded", "uploaded_bytes" }) do
      stats[k] = stats[k] + (r[k] or 0)
    end
  end
  return stats
end

function Registry:put_manifest(bytes, media_type, name)
  local digest, err = self.client:put_manifest(self.repo, name, media_type, bytes)
  if not digest then return fail(err) end
  return digest
end

function Registry:tag(desc, tags, bytes)
  if type(tags) == "string" then tags = { tags } end
  for _, t in ipairs(tags) do
    local ok, err = self:put_manifest(bytes, desc.mediaType, t)
    if not ok then return nil, err, EXIT_FAILURE end
  end
  self.tag_cache = nil
  return true
end

-- Logs the requests the client had to try again: each at debug level (--debug), a summary at
-- info level, so that a flaky registry is visible without being noisy.
function Registry:log_retries()
  local r = self.client:retries()
  if r.total == 0 then return 0 end
  local log = require("hoist.log")
  for _, line in ipairs(r.recent) do log.debug("%s: retried %s", self.display, line) end
  log.info("%s: %d request%s tried again after a busy or dropped answer%s", self.display, r.total,
    r.total == 1 and "" or "s", #r.recent < r.total and " (--debug shows the latest)" or " (--debug shows each)")
  return r.total
end

function Registry:close()
  if self.client then self:log_retries() end
  if self.scratch then fs.remove(self.scratch); self.scratch = nil end
  self.files = {}
end

---------------------------------------------------------------------------------------------------

--[[
Opens an endpoint. r: a reference string or what hoist.ref.parse returns. opts: { creds =
"USER:PASS", insecure = bool, create = bool (an OCI layout that does not exist yet is made),
parallel = n, authfile = FILE (credentials looked up there first: hoist.auth) }. Returns the endpoint ({ transport, display, ref, ... } with the methods above),
or nil, message, exit code.
]]
function endpoint.open(r, opts)
  opts = keys.options(opts, { "creds", "insecure", "create", "parallel", "authfile" }, "endpoint.open")
  if type(r) == "string" then
    local parsed, err = ref.parse(r)
    if not parsed then return nil, err, EXIT_USAGE end
    r = parsed
  end
  if r.transport == "oci" then
    local store, err = oci.layout(r.dir, { create = opts.create == true })
    if not store then return fail(err) end
    return setmetatable({ transport = "oci", display = r.display, ref = r, store = store }, Layout)
  elseif r.transport == "docker" then
    local client, err, code = require("hoist.auth").connect(r, { creds = opts.creds, insecure = opts.insecure,
                                                                 authfile = opts.authfile })
    if not client then return nil, err, code or "EAUTH" end
    return setmetatable({ transport = "docker", display = r.display, ref = r, client = client,
                          repo = r.repository, files = {}, parallel = opts.parallel, remote = true }, Registry)
  end
  return nil, r.display .. " cannot be read (docker-archive is write-only)", EXIT_USAGE
end

-- "oci:dist/oci:1.0.0", "docker://host/repo@sha256:..." for messages.
function endpoint.name(ep, name)
  if not name then return ep.display end
  if is_digest(name) then return ep.display .. "@" .. name end
  return ep.display .. ":" .. name
end

return endpoint
