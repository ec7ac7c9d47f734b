-- hoist.attest: an SPDX 2.3 SBOM per platform image, an in-toto v1 Statement with a SLSA v1
-- provenance predicate per release, and OCI 1.1 artifacts that refer to an image through their
-- `subject`, made discoverable by the referrers tag schema of the distribution spec (an index
-- tagged `sha256-<hex>` listing them), which works on every registry (Debian's docker-registry
-- 2.8 has no referrers API) and in OCI layouts. docs/signing.md describes the documents.
--
-- Every document is deterministic: sorted keys and lists, and no wall-clock time unless
-- opts.created or SOURCE_DATE_EPOCH gives one.
-- Expected failures return nil, message, kind ("EIO", or "EINVAL" for an image that cannot be
-- read as one); misuse raises.
local core = require("hoist.sign.core")
local fs = require("hoist.fs")
local host = require("hoist.host")
local json = require("hoist.json")
local oci = require("hoist.oci")
local sign = require("hoist.sign")
local digest_valid = require("hoist.oci.core").digest_valid

local attest = {}

attest.SPDX_MEDIA_TYPE = "application/spdx+json"
attest.INTOTO_MEDIA_TYPE = "application/vnd.in-toto+json"
attest.STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
attest.SLSA_PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
attest.PREDICATE_ANNOTATION = "in-toto.io/predicate-type"
attest.BUILD_TYPE = "urn:hoist:buildtype:extension-release:v1"
attest.EMPTY = { mediaType = "application/vnd.oci.empty.v1+json", size = 2,
                 digest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" }

-- hoist.keys checks the table (and suggests the option meant); known is a set here
local function check_opts(opts, fname, known)
  local list = {}
  for k in pairs(known) do list[#list + 1] = k end
  return require("hoist.keys").options(opts, list, fname, 1)
end

local function encode(doc) return json.encode(doc, { sort_keys = true }) end

local function hex_of(digest) return digest:match("^sha256:(%x+)$") end

-- RFC 3339 time from opts.created (epoch or string), else SOURCE_DATE_EPOCH, else nil.
local function created_time(created, fname)
  if type(created) == "string" then
    if not created:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$") then
      error(fname .. ": created must be an epoch or a time like 2024-01-31T12:00:00Z", 3)
    end
    return created
  elseif math.type(created) == "integer" then
    return oci.timestamp(created)
  elseif created ~= nil then
    error(fname .. ": created must be an integer epoch or an RFC 3339 string", 3)
  end
  local v = os.getenv("SOURCE_DATE_EPOCH")
  if v and v ~= "" then
    local epoch, err = oci.source_date_epoch()
    if not epoch then error(err, 3) end
    return oci.timestamp(epoch)
  end
  return nil
end

---------------------------------------------------------------------------------------------------
-- The files of an image

-- Reading manifests and layer files from an OCI layout store (hoist.oci.layout) or an endpoint.
local function reader(src)
  if type(src) ~= "table" then error("attest: an OCI layout store or an endpoint expected", 3) end
  if type(src.blob_file) == "function" then
    return {
      manifest = function(desc)
        local bytes, m = src:manifest(desc)
        if not bytes then return nil, m end
        return json.decode(bytes)
      end,
      layer = function(desc) return src:blob_file(desc) end,
    }
  elseif type(src.blob_path) == "function" and type(src.blob_json) == "function" then
    return {
      manifest = function(desc)
        if not src:has_blob(desc.digest) then return nil, desc.digest .. " is not in " .. tostring(src) end
        return src:blob_json(desc.digest)
      end,
      layer = function(desc)
        if not src:has_blob(desc.digest) then return nil, "layer " .. desc.digest .. " is not in " .. tostring(src) end
        return src:blob_path(desc.digest)
      end,
    }
  end
  error("attest: an OCI layout store or an endpoint expected", 3)
end

local cache_read, cache_write, files_fragment

--[[
The regular files of an image whose layers (bottom first) have these file lists (hoist.LayerFiles,
from hoist.sign.core.layer_files or the cache): attest._apply_layers({ list, ... }) -> path ->
{ sha256, sha1, size, mode }. Applied in C (host/core/image/imagefiles.h) the way a container
runtime applies layers: whiteouts, opaque folders, a non-folder replacing a folder, hard links.
]]
function attest._apply_layers(layers)
  local files = assert(core.image_files(layers))
  local map = {}
  for _, f in ipairs(files) do map[f.path:sub(2)] = { sha256 = f.sha256, sha1 = f.sha1, size = f.size, mode = f.mode } end
  return map
end

-- The file lists of layers are cached by layer digest (hoist.oci owns the record: oci.layers
-- writes it for every layer it builds, from the hashes recorded while the layer was written), so
-- neither a layer hoist built nor one read once before is read again.
cache_read = oci.cached_files
cache_write = oci.cache_files

--[[
The regular files of one platform image: attest.files(store_or_endpoint, image_desc [, opts]) ->
a list sorted by path of { path = "/a/b", sha256, sha1, size, mode }, or nil, message, kind.
opts: { memo = table shared between calls (layers already read, by digest: platforms share
layers), threads = n (layers read at once, default 2), cache = folder | false (default
hoist's cache folder: file lists by layer digest) }.
]]
-- The image manifest of image_desc, or nil, message, kind.
local function image_manifest(r, image_desc)
  local manifest, err = r.manifest(image_desc)
  if type(manifest) ~= "table" then return nil, err or (image_desc.digest .. " cannot be read"), "EIO" end
  if type(manifest.layers) ~= "table" then
    return nil, image_desc.digest .. " is not an image manifest (an index? give one platform's image)", "EINVAL"
  end
  for _, l in ipairs(manifest.layers) do
    if type(l) ~= "table" or not digest_valid(l.digest or "") then
      return nil, image_desc.digest .. " has a layer without a sha256 digest", "EINVAL"
    end
  end
  return manifest
end

local files_of

function attest.files(src, image_desc, opts)
  opts = check_opts(opts, "attest.files", { memo = true, threads = true, cache = true })
  local r = reader(src)
  if type(image_desc) ~= "table" or not digest_valid(image_desc.digest or "") then
    error("attest.files: an image descriptor expected", 2)
  end
  local manifest, err, kind = image_manifest(r, image_desc)
  if not manifest then return nil, err, kind end
  return files_of(r, manifest, opts)
end

-- Reads the file lists of layers (descriptors) into memo: from the cache, else from the blobs,
-- all at once on opts.threads threads, largest first so that the threads finish together.
local function read_layers(r, layers, memo, opts)
  local cache = opts.cache
  if cache == nil then cache = oci.cache_dir() end
  local todo, queued = {}, {}
  for _, l in ipairs(layers) do
    if not memo[l.digest] and not queued[l.digest] then
      local hit = cache and cache_read(cache, l.digest)
      if hit then
        memo[l.digest] = hit
      else
        local path, perr = r.layer(l)
        if not path then return nil, perr, "EIO" end
        queued[l.digest] = true
        todo[#todo + 1] = { digest = l.digest, path = path, size = math.type(l.size) == "integer" and l.size or 0 }
      end
    end
  end
  if #todo == 0 then return true end
  table.sort(todo, function(a, b)
    if a.size ~= b.size then return a.size > b.size end
    return a.digest < b.digest
  end)
  local paths = {}
  for i, t in ipairs(todo) do paths[i] = t.path end
  local lists, lerr = core.layer_files(paths, opts.threads or 2)
  if not lists then return nil, lerr, "EINVAL" end
  for i, t in ipairs(todo) do
    memo[t.digest] = lists[i]
    if cache then cache_write(cache, t.digest, lists[i]) end
  end
  return true
end

-- The layer lists of manifest's layers, bottom first (read into opts.memo), or nil, message, kind.
local function layer_lists(r, manifest, opts)
  local memo = opts.memo or {}
  local ok, err, kind = read_layers(r, manifest.layers, memo, opts)
  if not ok then return nil, err, kind end
  local lists = {}
  for i, l in ipairs(manifest.layers) do lists[i] = memo[l.digest] end
  return lists
end

files_of = function(r, manifest, opts)
  local lists, err, kind = layer_lists(r, manifest, opts)
  if not lists then return nil, err, kind end
  local files, ferr = core.image_files(lists)
  if not files then return nil, ferr, "EIO" end
  return files
end

---------------------------------------------------------------------------------------------------
-- SPDX 2.3

local function spdx_id(kind, s)
  return "SPDXRef-" .. kind .. "-" .. hex_of(oci.digest(s)):sub(1, 24)
end

local function purl_name(name)
  -- pkg:oci/NAME: the last path segment, lowercased (the purl spec for OCI)
  return (name:match("([^/]+)$") or name):lower()
end

--[[
Reads the layers of several images at once into opts.memo (then pass the same memo to
attest.sbom or attest.files for each): attest.prepare(store_or_endpoint, { image_desc, ... },
{ memo = table [, threads, cache] }) -> true | nil, message, kind. The layers of all platforms
then share the threads (largest first), instead of one platform's layers at a time.
]]
-- The manifest without the layers in skip (a set of digests: a base image's layers).
local function without(manifest, skip)
  if not skip then return manifest end
  local copy, layers = {}, {}
  for k, v in pairs(manifest) do copy[k] = v end
  for _, l in ipairs(manifest.layers) do if not skip[l.digest] then layers[#layers + 1] = l end end
  copy.layers = layers
  return copy
end

local fragment_path

function attest.prepare(src, image_descs, opts)
  opts = check_opts(opts, "attest.prepare", { memo = true, threads = true, cache = true, skip = true })
  if type(opts.memo) ~= "table" then error("attest.prepare: opts.memo (a table to fill) is required", 2) end
  if type(image_descs) ~= "table" then error("attest.prepare: a list of image descriptors expected", 2) end
  local r = reader(src)
  local layers = {}
  for i, d in ipairs(image_descs) do
    if type(d) ~= "table" or not digest_valid(d.digest or "") then error("attest.prepare: image " .. i .. " is not a descriptor", 2) end
    local manifest, err, kind = image_manifest(r, d)
    if not manifest then return nil, err, kind end
    manifest = without(manifest, opts.skip)
    -- an image whose SBOM files part is cached needs no layer list (an unchanged re-release)
    local frag = fragment_path(manifest, opts)
    if not (frag and core.spdx_fragment_read(frag)) then
      for _, l in ipairs(manifest.layers) do layers[#layers + 1] = l end
    end
  end
  return read_layers(r, layers, opts.memo, opts)
end

--[[
The part of an SBOM that depends only on the image's layers: the `files` array and the
`hasFiles` array, the package verification code and the file count, written by C into a fragment
file (host/core/sign/spdxfiles.h) so that thousands of files never become Lua tables or strings.
It is kept in the cache (CACHE/sbom/<sha256 of the layer digests>) so that an unchanged
re-release, whose platform manifests are new but whose layers are not, writes its SBOMs without
applying layers. Without a cache (or one that cannot be written) it goes into tmpdir.
Returns { count, code, path } or nil, message, kind.
]]
local FRAGMENT_MAGIC = "hoist-sbom-files 2"

-- Where the cache keeps the files part of the SBOM of an image with these layers, or nil.
fragment_path = function(manifest, opts)
  local cache = opts.cache
  if cache == nil then cache = oci.cache_dir() end
  if not cache then return nil end
  local digests = {}
  for i, l in ipairs(manifest.layers) do digests[i] = l.digest end
  return cache .. "/sbom/" .. hex_of(oci.digest(FRAGMENT_MAGIC .. "\n" .. table.concat(digests, "\n")))
end

files_fragment = function(r, manifest, opts, tmpdir)
  local cache = opts.cache
  if cache == nil then cache = oci.cache_dir() end
  local path = tmpdir .. "/files"
  if cache and fs.mkdir(cache .. "/sbom") then
    path = fragment_path(manifest, opts)
    local count, code = core.spdx_fragment_read(path)
    if count then return { count = count, code = code, path = path } end
  end
  local lists, err, kind = layer_lists(r, manifest, opts)
  if not lists then return nil, err, kind end
  local count, code, ckind = core.spdx_fragment(lists, path)
  if not count and ckind == "EIO" and path ~= tmpdir .. "/files" then
    -- best effort, like the file lists: a cache that cannot be written costs only the reuse
    path = tmpdir .. "/files"
    count, code, ckind = core.spdx_fragment(lists, path)
  end
  if not count then return nil, code, ckind end
  return { count = count, code = code, path = path }
end

--[[
An SPDX 2.3 JSON document of one platform image: attest.sbom(store_or_endpoint, image_desc [,
opts]) -> bytes (or opts.path), { name, documentNamespace, files = count, packageVerificationCode,
digest, size } | nil, message, kind. Every regular file of the image's filesystem
(layers applied in order, whiteouts honoured) with its SHA-1 and SHA-256, inside a package for
the image (its manifest digest, a verification code over its files); the base image as a package
with its digest when opts.base = { name = "docker.io/library/alpine", digest = "sha256:..." }.
opts: { name = the image's name (default "image"), version = its version, platform = "linux/amd64",
base = { name, digest }, created = epoch | "RFC 3339" (default SOURCE_DATE_EPOCH, else
1970-01-01T00:00:00Z), memo, threads, cache (as attest.files), skip = { [layer digest] = true }
(layers whose files are not listed: a base image's, which the base package stands for, so that
an SBOM never needs the base's layers downloaded), path = a file to write the document to
instead of returning it (at 60,000 files it is 15 MB: it is streamed there, never held whole) }.
]]
function attest.sbom(src, image_desc, opts)
  opts = check_opts(opts, "attest.sbom", { name = true, version = true, platform = true, base = true,
                                           created = true, memo = true, threads = true, cache = true, skip = true,
                                           path = true })
  if opts.path ~= nil and (type(opts.path) ~= "string" or opts.path == "") then
    error("attest.sbom: path must be a file path", 2)
  end
  if type(image_desc) ~= "table" or not digest_valid(image_desc.digest or "") then
    error("attest.sbom: an image descriptor expected", 2)
  end
  local r = reader(src)
  local manifest, err, kind = image_manifest(r, image_desc)
  if not manifest then return nil, err, kind end
  local tmpdir, terr = fs.tmpdir("hoist-sbom")
  if not tmpdir then return nil, terr, "EIO" end
  local function done(...) fs.remove(tmpdir); return ... end
  local frag
  frag, err, kind = files_fragment(r, without(manifest, opts.skip), opts, tmpdir)
  if not frag then return done(nil, err, kind) end
  local name = opts.name or "image"
  if type(name) ~= "string" or name == "" then error("attest.sbom: name must be a string", 2) end
  local base = opts.base
  if base ~= nil and (type(base) ~= "table" or type(base.name) ~= "string" or not digest_valid(base.digest or "")) then
    error("attest.sbom: base must be { name = '...', digest = 'sha256:...' }", 2)
  end
  local FILES, HAS_FILES = "\1hoist-files\1", "\1hoist-has-files\1"
  local image_id = "SPDXRef-Package-image"
  local image_pkg = {
    SPDXID = image_id, name = name, versionInfo = opts.version, downloadLocation = "NOASSERTION",
    primaryPackagePurpose = "CONTAINER", filesAnalyzed = true, hasFiles = HAS_FILES,
    packageVerificationCode = { packageVerificationCodeValue = frag.code },
    checksums = { { algorithm = "SHA256", checksumValue = hex_of(image_desc.digest) } },
    externalRefs = { { referenceCategory = "PACKAGE-MANAGER", referenceType = "purl",
                       referenceLocator = "pkg:oci/" .. purl_name(name) .. "@sha256%3A" .. hex_of(image_desc.digest) ..
                         (opts.platform and ("?platform=" .. opts.platform:gsub("/", "%%2F")) or "") } },
    comment = opts.platform and ("platform " .. opts.platform) or nil,
  }
  local packages = json.array({ image_pkg })
  local relationships = json.array({
    { spdxElementId = "SPDXRef-DOCUMENT", relationshipType = "DESCRIBES", relatedSpdxElement = image_id },
  })
  if base then
    packages[2] = {
      SPDXID = "SPDXRef-Package-base", name = base.name, downloadLocation = "NOASSERTION",
      primaryPackagePurpose = "CONTAINER", filesAnalyzed = false,
      checksums = { { algorithm = "SHA256", checksumValue = hex_of(base.digest) } },
      externalRefs = { { referenceCategory = "PACKAGE-MANAGER", referenceType = "purl",
                         referenceLocator = "pkg:oci/" .. purl_name(base.name) .. "@sha256%3A" .. hex_of(base.digest) } },
    }
    relationships[2] = { spdxElementId = image_id, relationshipType = "DESCENDANT_OF",
                         relatedSpdxElement = "SPDXRef-Package-base" }
  end
  local doc = {
    spdxVersion = "SPDX-2.3", dataLicense = "CC0-1.0", SPDXID = "SPDXRef-DOCUMENT",
    name = name .. (opts.platform and (" " .. opts.platform) or ""),
    documentNamespace = "https://hoist.invalid/spdx/" .. image_desc.digest:gsub(":", "-"),
    creationInfo = { created = created_time(opts.created, "attest.sbom") or oci.timestamp(0),
                     creators = { "Tool: hoist-" .. host.version } },
    documentDescribes = { image_id },
    packages = packages, files = FILES, relationships = relationships,
  }
  -- the document around the two arrays, which C streams in from the fragment
  local text = encode(doc)
  local i1, j1 = text:find(json.encode(FILES), 1, true)
  local i2, j2 = text:find(json.encode(HAS_FILES), 1, true)
  assert(i1 and i2 and j1 < i2, "attest.sbom: files come before packages in a sorted document")
  local path = opts.path or (tmpdir .. "/sbom.json")
  local digest, size, dkind = core.spdx_document(path, frag.path, text:sub(1, i1 - 1), text:sub(j1 + 1, i2 - 1),
                                                 text:sub(j2 + 1))
  if not digest then return done(nil, size, dkind) end
  local info = { name = doc.name, documentNamespace = doc.documentNamespace, files = frag.count,
                 packageVerificationCode = frag.code, digest = digest, size = size }
  if opts.path then return done(opts.path, info) end
  local bytes, rerr = fs.read(path)
  if not bytes then return done(nil, rerr, "EIO") end
  return done(bytes, info)
end

---------------------------------------------------------------------------------------------------
-- in-toto v1 + SLSA provenance v1

local function resource(name, digest, uri, fname)
  if type(digest) ~= "string" or not digest_valid(digest) then
    error(fname .. ": " .. name .. " needs a sha256 digest", 3)
  end
  return { name = name, uri = uri, digest = { sha256 = hex_of(digest) } }
end

--[[
An in-toto v1 Statement with a SLSA provenance v1 predicate: attest.provenance(opts) -> bytes,
statement. opts: {
  subject = { { name = "HOST/REPO", digest = "sha256:..." }, ... } (what was built; required),
  version = "1.2.0", destination = "docker://HOST/REPO" (externalParameters),
  parameters = { ... } (more externalParameters, e.g. platforms),
  extension = { path = "extension.lua", digest = "sha256:..." },
  git = { uri = "git+https://host/repo", commit = "40 hex" },
  base = { name, digest }, inputs = { { name, digest [, uri] }, ... } (resolvedDependencies),
  created = epoch | "RFC 3339" (startedOn/finishedOn; default SOURCE_DATE_EPOCH, else none),
  invocation = "an id of this run" }.
]]
function attest.provenance(opts)
  opts = check_opts(opts, "attest.provenance", { subject = true, version = true, destination = true,
    parameters = true, extension = true, git = true, base = true, inputs = true, created = true,
    invocation = true })
  if type(opts.subject) ~= "table" or #opts.subject == 0 then
    error("attest.provenance: subject = { { name, digest }, ... } is required", 2)
  end
  local subject = json.array({})
  for i, s in ipairs(opts.subject) do
    if type(s) ~= "table" or type(s.name) ~= "string" or not digest_valid(s.digest or "") then
      error("attest.provenance: subject[" .. i .. "] needs a name and a sha256 digest", 2)
    end
    subject[i] = { name = s.name, digest = { sha256 = hex_of(s.digest) } }
  end
  table.sort(subject, function(a, b)
    if a.name ~= b.name then return a.name < b.name end
    return a.digest.sha256 < b.digest.sha256
  end)
  local external = {}
  if opts.parameters ~= nil then
    if type(opts.parameters) ~= "table" then error("attest.provenance: parameters must be a table", 2) end
    for k, v in pairs(opts.parameters) do external[k] = v end
  end
  external.version, external.destination = opts.version, opts.destination
  local deps = json.array({})
  if opts.extension then
    local e = opts.extension
    if type(e) ~= "table" then error("attest.provenance: extension must be { path, digest }", 2) end
    deps[#deps + 1] = resource(e.path or "extension.lua", e.digest, nil, "attest.provenance")
  end
  if opts.git then
    local g = opts.git
    if type(g) ~= "table" or type(g.commit) ~= "string" or not g.commit:match("^%x+$") then
      error("attest.provenance: git must be { uri, commit = hex }", 2)
    end
    deps[#deps + 1] = { uri = g.uri and (g.uri .. "@" .. g.commit) or nil, name = "source",
                        digest = { gitCommit = g.commit:lower() } }
  end
  if opts.base then
    if type(opts.base) ~= "table" or type(opts.base.name) ~= "string" then
      error("attest.provenance: base must be { name, digest }", 2)
    end
    deps[#deps + 1] = resource(opts.base.name, opts.base.digest, "pkg:oci/" .. purl_name(opts.base.name) ..
      "@" .. tostring(opts.base.digest):gsub(":", "%%3A"), "attest.provenance")
  end
  if opts.inputs then
    if type(opts.inputs) ~= "table" then error("attest.provenance: inputs must be a list", 2) end
    local inputs = {}
    for i, d in ipairs(opts.inputs) do
      if type(d) ~= "table" or type(d.name) ~= "string" then error("attest.provenance: inputs[" .. i .. "] needs a name", 2) end
      inputs[i] = resource(d.name, d.digest, d.uri, "attest.provenance")
    end
    table.sort(inputs, function(a, b) return a.name < b.name end)
    for _, d in ipairs(inputs) do deps[#deps + 1] = d end
  end
  local when = created_time(opts.created, "attest.provenance")
  local metadata = { invocationId = opts.invocation, startedOn = when, finishedOn = when }
  local statement = {
    _type = attest.STATEMENT_TYPE,
    subject = subject,
    predicateType = attest.SLSA_PREDICATE_TYPE,
    predicate = {
      buildDefinition = {
        buildType = attest.BUILD_TYPE,
        externalParameters = external,
        internalParameters = { hoist = host.version },
        resolvedDependencies = deps,
      },
      runDetails = {
        builder = { id = "urn:hoist:builder:hoist@" .. host.version, version = { hoist = host.version } },
        metadata = next(metadata) and metadata or nil,
      },
    },
  }
  return encode(statement), statement
end

---------------------------------------------------------------------------------------------------
-- OCI 1.1 artifacts and the referrers tag schema

-- "sha256:abc" -> "sha256-abc": the referrers tag schema's tag for a subject.
function attest.referrers_tag(digest)
  if not digest_valid(digest) then error("attest.referrers_tag: a digest expected", 2) end
  return (digest:gsub(":", "-", 1))
end

-- The referrers index of a subject: its decoded table, or false when there is none.
local function referrers_index(ep, digest)
  local tag = attest.referrers_tag(digest)
  local has, err = sign._has_tag(ep, tag)
  if has == nil then return nil, err end
  if not has then return false end
  local desc, rerr = ep:resolve(tag)
  if not desc then return nil, rerr end
  local bytes, merr = ep:manifest(desc)
  if not bytes then return nil, merr end
  local doc = json.decode(bytes)
  if type(doc) ~= "table" or type(doc.manifests) ~= "table" then
    return nil, tag .. " in " .. ep.display .. " is not an index"
  end
  return doc
end

local function check_subject(subject_desc, fname)
  if type(subject_desc) ~= "table" or not digest_valid(subject_desc.digest or "") or
      type(subject_desc.mediaType) ~= "string" or math.type(subject_desc.size) ~= "integer" then
    error(fname .. ": a subject descriptor { mediaType, digest, size } expected", 3)
  end
end

local function check_artifact(artifact, fname)
  check_opts(artifact, fname, { artifactType = true, data = true, file = true, digest = true, size = true,
                                mediaType = true, annotations = true })
  if type(artifact) ~= "table" or type(artifact.artifactType) ~= "string" or
      (type(artifact.data) == "string") == (type(artifact.file) == "string") then
    error(fname .. ": artifact = { artifactType = '...', data = bytes | file = path } expected", 4)
  end
  if artifact.data and (artifact.digest ~= nil or artifact.size ~= nil) then
    error(fname .. ": artifact digest and size go with file, not data (they are computed from data)", 4)
  end
end

-- The descriptor fields of an artifact's document: digest, size (of data, or of the file).
local function artifact_blob(artifact)
  if artifact.data then return oci.digest(artifact.data), #artifact.data end
  if digest_valid(artifact.digest or "") and math.type(artifact.size) == "integer" then
    return artifact.digest, artifact.size
  end
  local d, size = oci.digest_file(artifact.file)
  if not d then return nil, size end
  return d, size
end

--[[
Pushes artifacts that refer to images in ep and lists each in its subject's referrers index (tag
`sha256-<hex>`): attest.attach_all(ep, { { subject = desc, artifact = {...} }, ... }) -> a list
of results as attest.attach's, in order, or nil, message, "EIO". All blobs go in one push, and on
a registry the artifact manifests, then the referrers indexes, are written at once.
]]
function attest.attach_all(ep, items)
  if type(ep) ~= "table" or type(ep.put_manifest) ~= "function" then error("attest.attach_all: an endpoint expected", 2) end
  if type(items) ~= "table" then error("attest.attach_all: a list of { subject, artifact } expected", 2) end
  local blobs, seen = { { digest = attest.EMPTY.digest, bytes = "{}", mediaType = attest.EMPTY.mediaType } }, {}
  local made, order, by_subject = {}, {}, {}
  for i, it in ipairs(items) do
    if type(it) ~= "table" then error("attest.attach_all: item " .. i .. " must be a table", 2) end
    check_subject(it.subject, "attest.attach_all")
    check_artifact(it.artifact, "attest.attach_all")
    local artifact = it.artifact
    local annotations = artifact.annotations
    if annotations ~= nil and (type(annotations) ~= "table" or not next(annotations)) then annotations = nil end
    local layer_type = artifact.mediaType or artifact.artifactType
    local digest, size = artifact_blob(artifact)
    if not digest then return nil, size, "EIO" end
    local data_desc = { mediaType = layer_type, digest = digest, size = size }
    if not seen[data_desc.digest] then
      seen[data_desc.digest] = true
      blobs[#blobs + 1] = { digest = digest, bytes = artifact.data, path = artifact.file, size = size,
                            mediaType = layer_type }
    end
    local manifest = encode({
      schemaVersion = 2, mediaType = oci.MEDIA.manifest, artifactType = artifact.artifactType,
      config = attest.EMPTY, layers = { data_desc },
      subject = { mediaType = it.subject.mediaType, digest = it.subject.digest, size = it.subject.size },
      annotations = annotations,
    })
    local mdesc = { mediaType = oci.MEDIA.manifest, digest = oci.digest(manifest), size = #manifest }
    made[i] = { desc = mdesc, bytes = manifest, artifactType = artifact.artifactType, annotations = annotations,
                subject = it.subject.digest }
    if not by_subject[it.subject.digest] then
      by_subject[it.subject.digest] = {}
      order[#order + 1] = it.subject.digest
    end
    table.insert(by_subject[it.subject.digest], i)
  end
  local ok, err = sign._put_small_blobs(ep, blobs)
  if not ok then return nil, err, "EIO" end
  -- the artifact manifests, by digest (untagged)
  local writes = {}
  for _, m in ipairs(made) do writes[#writes + 1] = { desc = m.desc, tag = m.desc.digest, bytes = m.bytes } end
  if ep.client and ep.repo and #writes > 1 then
    ok, err = sign._tag_many(ep, writes)
    if not ok then return nil, err, "EIO" end
  else
    for _, w in ipairs(writes) do
      local put, perr = ep:put_manifest(w.bytes, w.desc.mediaType, w.desc.digest)
      if not put then return nil, perr, "EIO" end
    end
  end
  -- each subject's referrers index: read, append what it lacks, write back
  local results, index_writes = {}, {}
  for _, subject in ipairs(order) do
    local tag = attest.referrers_tag(subject)
    local index, ierr = referrers_index(ep, subject)
    if index == nil then return nil, ierr, "EIO" end
    local manifests, listed = json.array({}), {}
    for _, m in ipairs(index and index.manifests or {}) do
      manifests[#manifests + 1] = m
      if type(m) == "table" and m.digest then listed[m.digest] = true end
    end
    local changed = false
    for _, i in ipairs(by_subject[subject]) do
      local m = made[i]
      results[i] = { digest = m.desc.digest, size = m.desc.size, tag = tag, added = not listed[m.desc.digest] }
      if not listed[m.desc.digest] then
        listed[m.desc.digest] = true
        changed = true
        manifests[#manifests + 1] = { mediaType = oci.MEDIA.manifest, digest = m.desc.digest, size = m.desc.size,
                                      artifactType = m.artifactType, annotations = m.annotations }
      end
    end
    if changed then
      local ibytes = encode({ schemaVersion = 2, mediaType = oci.MEDIA.index, manifests = manifests })
      index_writes[#index_writes + 1] = { desc = { mediaType = oci.MEDIA.index, digest = oci.digest(ibytes), size = #ibytes },
                                          tag = tag, bytes = ibytes }
    end
  end
  ok, err = sign._tag_many(ep, index_writes)
  if not ok then return nil, err, "EIO" end
  return results
end

--[[
Pushes an artifact that refers to subject_desc (an image or index in ep) and lists it in the
subject's referrers index (tag `sha256-<hex>`). artifact: { artifactType = "application/spdx+json",
data = bytes, mediaType = the layer's type (default artifactType), annotations = { k = "v" }
(on the manifest, and copied into the referrers index entry) }. The manifest is an OCI 1.1
image manifest with `artifactType`, `subject`, the empty config ({}) and the data as its one
layer. Attaching the same bytes twice changes nothing. Returns { digest (the artifact
manifest's), size, tag, added = bool } or nil, message, "EIO".
]]
function attest.attach(ep, subject_desc, artifact)
  if type(ep) ~= "table" or type(ep.put_manifest) ~= "function" then error("attest.attach: an endpoint expected", 2) end
  check_subject(subject_desc, "attest.attach")
  check_artifact(artifact, "attest.attach")
  local results, err, kind = attest.attach_all(ep, { { subject = subject_desc, artifact = artifact } })
  if not results then return nil, err, kind end
  return results[1]
end

--[[
The artifacts that refer to desc in ep, from the referrers tag schema: a list of descriptors
{ mediaType, digest, size, artifactType, annotations } in the index's order (empty when there
are none). opts: { artifact_type = "..." (only those) }. nil, message, "EIO" on failure.
]]
function attest.referrers(ep, desc, opts)
  opts = check_opts(opts, "attest.referrers", { artifact_type = true })
  if type(ep) ~= "table" or type(ep.resolve) ~= "function" then error("attest.referrers: an endpoint expected", 2) end
  if type(desc) ~= "table" or not digest_valid(desc.digest or "") then error("attest.referrers: a descriptor expected", 2) end
  local index, err = referrers_index(ep, desc.digest)
  if index == nil then return nil, err, "EIO" end
  local out = json.array({})   -- [] in JSON when there is none
  for _, m in ipairs(index and index.manifests or {}) do
    if type(m) == "table" and digest_valid(m.digest or "") and
        (opts.artifact_type == nil or m.artifactType == opts.artifact_type) then
      out[#out + 1] = { mediaType = m.mediaType, digest = m.digest, size = m.size,
                        artifactType = m.artifactType, annotations = m.annotations }
    end
  end
  return out
end

--[[
Fetches a referrer's document: attest.fetch(ep, referrer_desc) -> bytes, artifact manifest (a
table) | nil, message, "EIO"/"EINVAL". Checks that the manifest's subject is what it claims.
]]
function attest.fetch(ep, desc)
  local bytes, err = ep:manifest(desc)
  if not bytes then return nil, err, "EIO" end
  local m = json.decode(bytes)
  if type(m) ~= "table" or type(m.layers) ~= "table" or type(m.layers[1]) ~= "table" then
    return nil, desc.digest .. " is not an artifact manifest", "EINVAL"
  end
  local data, berr = ep:blob(m.layers[1])
  if not data then return nil, berr, "EIO" end
  return data, m
end

return attest
