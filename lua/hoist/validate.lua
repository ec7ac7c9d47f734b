-- hoist.validate: checks a built extension image the way `docker extension validate` does:
-- the tag is semver, the image is multi-platform (an index of linux/amd64 and linux/arm64 and
-- nothing else), the labels are complete and identical on every platform, metadata.json is
-- valid and every file it names is in every platform's filesystem.
local core = require("hoist.oci.core")
local extension = require("hoist.extension")
local imagefs = require("hoist.imagefs")
local json = require("hoist.json")
local keys = require("hoist.keys")
local label = require("hoist.label")
local oci = require("hoist.oci")
local semver = require("hoist.semver")

local validate = {}

--[[
A source gives blobs: { display = "oci:dist/oci", tags = function() -> list,
resolve = function(tag) -> descriptor | nil, err, blob = function(desc) -> bytes | nil, err,
manifest = function(desc) -> bytes | nil, err (optional; read is used without it),
path = function(desc) -> a local file holding the blob | nil, err,
(desc: a descriptor { digest, size }; a remote source reads no more than size bytes) }.
Layers are read top-down and only as far as the checks need (hoist.imagefs.layered), so a
remote source downloads no layer the answer does not depend on.
]]
function validate.layout_source(store)
  return {
    display = tostring(store),
    tags = function() return store:tags() end,
    resolve = function(tag) return store:resolve(tag) end,
    blob = function(desc)
      if not store:has_blob(desc.digest) then return nil, "blob " .. desc.digest .. " is missing from " .. tostring(store) end
      return store:blob(desc.digest)
    end,
    path = function(desc)
      if not store:has_blob(desc.digest) then return nil, "blob " .. desc.digest .. " is missing from " .. tostring(store) end
      return store:blob_path(desc.digest)
    end,
  }
end

-- A source over any hoist.endpoint (an OCI layout or a registry).
function validate.endpoint_source(ep)
  return {
    display = ep.display,
    tags = function() return ep:tags() end,
    resolve = function(tag) return ep:resolve(tag) end,
    blob = function(desc) return ep:blob(desc) end,
    manifest = function(desc)
      local bytes, err = ep:manifest({ digest = desc.digest })
      if not bytes then return nil, err end
      return bytes
    end,
    path = function(desc) return ep:blob_file(desc) end,
  }
end

-- A JSON blob: the document, or nil, message, "read" (it cannot be read: the caller fails) or
-- "content" (it is not JSON: a problem of the image).
local function read_json(src, desc, is_manifest)
  local data, err
  if is_manifest and src.manifest then data, err = src.manifest(desc) else data, err = src.blob(desc) end
  if not data then return nil, err, "read" end
  if core.digest(data) ~= desc.digest then return nil, "blob " .. desc.digest .. " does not match its digest", "read" end
  local doc, jerr = json.decode(data)
  if doc == nil then return nil, "blob " .. desc.digest .. ": " .. tostring(jerr), "content" end
  return doc
end

-- What one layer holds: the index of its entries (hoist.imagefs.layer_index), metadata.json's
-- content and the local file of its blob; scanned once per digest, since platforms share layers
-- (memo: digest -> that table or { err }).
local function scan(src, desc, memo)
  local digest = desc.digest
  local hit = memo[digest]
  if hit then return hit end
  local path, err = src.path(desc)
  if path then
    local paths, contents, info = core.scan_layer(path, { "metadata.json" }, extension.METADATA_MAX, true)
    if paths then
      hit = { index = imagefs.layer_index(info), meta = contents["metadata.json"], path = path, size = desc.size }
    else
      err = contents
    end
  end
  hit = hit or { err = err }
  memo[digest] = hit
  return hit
end

--[[
One platform's filesystem as a hoist.imagefs lookup over its layers, read top-down and only as
far as each question needs: what a remote source does not need is not downloaded. Returns the
lookup, a function giving the first layer that could not be read (a failure, not a problem of
the image), and read_file(path) -> the content of a regular file in the image, or nil, why.
]]
local function platform_fs(src, manifest, pname, memo)
  local layers = type(manifest.layers) == "table" and manifest.layers or {}
  local lookup, failure = imagefs.layered(#layers, function(i)
    local layer = scan(src, layers[i], memo)
    if layer.err then return nil, string.format("%s: layer %d: %s", pname, i, layer.err) end
    return layer.index
  end)
  local function read_file(path)
    local e, i = lookup(path)
    if not e then return nil, "'" .. path .. "' is not in the " .. pname .. " image" end
    if e.type ~= "f" then return nil, "'" .. path .. "' is not a regular file in the " .. pname .. " image" end
    local name = path:gsub("^/+", "")
    local _, contents = core.scan_layer(memo[layers[i].digest].path, { name }, extension.METADATA_MAX)
    local text = type(contents) == "table" and contents[name]
    if not text then return nil, "'" .. path .. "' cannot be read from the " .. pname .. " image" end
    return text
  end
  return lookup, failure, read_file
end

local function labels_equal(a, b)
  for k, v in pairs(a) do if b[k] ~= v then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

-- The annotation buildx puts on the attestation manifests (SBOM, provenance) it adds to an index.
validate.ATTESTATION = "vnd.docker.reference.type"

local function short(digest) return tostring(digest):sub(1, 19) end

--[[
What one index entry is: "image" (linux/amd64 or linux/arm64: validated), "attestation"
(buildx's attestation manifest, platform unknown/unknown), or "other" with a message naming the
entry.
]]
local function entry_kind(i, m)
  local ann = type(m.annotations) == "table" and m.annotations or {}
  if ann[validate.ATTESTATION] == "attestation-manifest" then return "attestation" end
  local p = m.platform
  if type(p) ~= "table" or type(p.os) ~= "string" or type(p.architecture) ~= "string" then
    return "other", string.format("index entry %d (%s) has no platform", i, short(m.digest))
  end
  local name = oci.platform_string(p)
  if p.os ~= "linux" or (p.architecture ~= "amd64" and p.architecture ~= "arm64") then
    return "other", string.format("index entry %d (%s, %s) is not an image for linux/amd64 or linux/arm64, " ..
      "the only platforms an extension's index may hold", i, name, short(m.digest))
  end
  return "image"
end

local IMAGE_OPTS = { "private", "sdk" }

--[[
Validates the image `tag` of src (nil: the highest semver tag, like validate --auto-resolve-tag).
opts: { private = true (an extension installed with `docker extension install`, not listed in the
Marketplace: the Marketplace-only rules give warnings), sdk = "0.3.4" (api.version must accept
it, like validate --sdk-compatibility) }.
Returns problems (an array of one-line strings; empty when the image is valid) and a summary
{ tag =, digest =, platforms = { "linux/amd64", ... }, warnings = { ... } }, or nil, err when the
image cannot be read.
]]
function validate.image(src, tag, opts)
  opts = keys.options(opts, IMAGE_OPTS, "validate.image")
  if opts.sdk ~= nil and (type(opts.sdk) ~= "string" or not semver.valid(opts.sdk)) then
    error("validate.image: opts.sdk must be a version like \"0.3.4\", got " .. tostring(opts.sdk), 2)
  end
  local problems, warnings = {}, {}
  if not tag then
    local tags = {}
    -- a listing that fails is the real cause (unreachable registry, bad credentials), not "no tag"
    local names, terr = src.tags()
    if not names then return nil, "cannot list the tags of " .. src.display .. ": " .. tostring(terr) end
    for _, t in ipairs(names) do if semver.valid(t) then tags[#tags + 1] = t end end
    if #tags == 0 then return nil, "no semver tag at " .. src.display end
    tag = semver.rsort(tags)[1]
  end
  -- an image named by digest has no tag to check (hoist index checks its tag itself)
  if not core.digest_valid(tag) and (not semver.valid(tag) or tag:sub(1, 1) == "v") then
    -- the Marketplace finds versions by semver tags; `docker extension install` takes any tag
    local msg = "image tag '" .. tag .. "' is not semver (use a version like 1.2.0)"
    if opts.private then warnings[#warnings + 1] = msg else problems[#problems + 1] = msg end
  end
  local top, err = src.resolve(tag)
  if not top then return nil, err end
  -- layers: every distinct layer of the image; read: those the checks had to read
  local summary = { tag = tag, digest = top.digest, platforms = {}, warnings = warnings,
    layers = { count = 0, bytes = 0 }, read = { count = 0, bytes = 0 } }
  local all_layers = {}
  if top.mediaType ~= oci.MEDIA.index and top.mediaType ~= "application/vnd.docker.distribution.manifest.list.v2+json" then
    problems[#problems + 1] = "the image is not multi-platform: '" .. tag ..
      "' is a single manifest, not an index of linux/amd64 and linux/arm64"
    return problems, summary
  end
  local index
  index, err = read_json(src, top, true)
  if not index then return nil, err end
  local seen, first_labels, layer_memo = {}, nil, {}
  local groups, group_of = {}, {}   -- platforms by metadata.json text: { text, meta, views }
  for i, m in ipairs(index.manifests or {}) do
    local kind, what = entry_kind(i, m)
    if kind == "attestation" then
      warnings[#warnings + 1] = string.format("index entry %d (%s) is an attestation manifest (platform unknown/unknown): " ..
        "Docker Desktop installs such an image, but `docker extension validate` rejects it (docker/extensions-sdk#305); " ..
        "build without attestations (buildx --provenance=false --sbom=false) for the Marketplace", i, short(m.digest))
    elseif kind == "other" then
      problems[#problems + 1] = what
    else
      local p = m.platform
      local pname = oci.platform_string(p)
      seen[p.os .. "/" .. p.architecture] = true
      summary.platforms[#summary.platforms + 1] = pname
      local manifest, merr, mkind = read_json(src, m, true)
      if not manifest and mkind == "read" then return nil, pname .. ": " .. merr end
      local config, cerr, ckind
      if manifest and type(manifest.config) == "table" then
        config, cerr, ckind = read_json(src, manifest.config)
        if not config and ckind == "read" then return nil, pname .. ": " .. cerr end
      end
      if not manifest then
        problems[#problems + 1] = pname .. ": " .. merr
      elseif not config then
        problems[#problems + 1] = pname .. ": the image config " .. (cerr or "is missing from the manifest")
      else
        if config.os ~= p.os or config.architecture ~= p.architecture then
          problems[#problems + 1] = pname .. ": the config says " .. tostring(config.os) .. "/" ..
            tostring(config.architecture)
        end
        local labels = (config.config and config.config.Labels) or {}
        if not first_labels then
          first_labels = labels
          local _, lp, lw = label.validate_extension(labels, { private = opts.private, sdk = opts.sdk })
          for _, x in ipairs(lp or {}) do problems[#problems + 1] = x end
          for _, x in ipairs(lw) do warnings[#warnings + 1] = x end
        elseif not labels_equal(first_labels, labels) then
          problems[#problems + 1] = pname .. ": labels differ from the other platforms' (they must be identical)"
        end
        local lookup, failure, read_file = platform_fs(src, manifest, pname, layer_memo)
        local meta_entry, meta_layer = lookup("metadata.json")
        if failure() then return nil, failure() end
        local meta_text = meta_entry and meta_entry.type == "f" and layer_memo[manifest.layers[meta_layer].digest].meta
        if not meta_text then
          problems[#problems + 1] = "metadata.json is missing from the " .. pname .. " image" ..
            (meta_entry and " (it is not a regular file)" or "")
        else
          local g = group_of[meta_text]
          if not g then
            g = { text = meta_text, views = {}, configs = {} }
            group_of[meta_text] = g
            groups[#groups + 1] = g
          end
          g.views[#g.views + 1] = { name = pname, lookup = lookup, failure = failure, read_file = read_file,
            exists = function(path) return lookup(path) ~= nil end }
          g.configs[#g.configs + 1] = config.config or {}
        end
        for _, l in ipairs(manifest.layers or {}) do
          if not all_layers[l.digest] then
            all_layers[l.digest] = true
            summary.layers.count = summary.layers.count + 1
            summary.layers.bytes = summary.layers.bytes + (tonumber(l.size) or 0)
          end
        end
      end
    end
  end
  -- metadata.json once per distinct content (normally one for every platform), so a file
  -- present on some platforms only is told as such
  for _, g in ipairs(groups) do
    local names = {}
    for _, v in ipairs(g.views) do names[#names + 1] = v.name end
    local suffix = " (" .. table.concat(names, ", ") .. ")"
    local meta, jerr = json.decode(g.text)
    if meta == nil then
      problems[#problems + 1] = "metadata.json" .. suffix .. ": " .. tostring(jerr)
    else
      local shape, shape_w = {}, {}
      extension.check_metadata_shape(meta, shape, shape_w)
      for _, x in ipairs(shape) do problems[#problems + 1] = x .. suffix end
      for _, x in ipairs(shape_w) do warnings[#warnings + 1] = x .. suffix end
      extension.check_named_files(meta, g.views, problems, warnings)
      for _, view in ipairs(g.views) do
        if view.failure() then return nil, view.failure() end
      end
      for k, c in ipairs(g.configs) do
        local view = g.views[k]
        local backend = {}
        extension.check_backend(meta, type(c.Entrypoint) == "table" and #c.Entrypoint > 0
          or type(c.Cmd) == "table" and #c.Cmd > 0, backend)
        for _, x in ipairs(backend) do problems[#problems + 1] = x .. " (" .. view.name .. ")" end
        -- what would only fail once Desktop runs it: host binaries' modes, the backend's program
        extension.check_runtime(meta, view, c, view.lookup, false, view.read_file, problems, {})
        if view.failure() then return nil, view.failure() end
      end
    end
  end
  for _, layer in pairs(layer_memo) do
    if layer.index then
      summary.read.count = summary.read.count + 1
      summary.read.bytes = summary.read.bytes + (tonumber(layer.size) or 0)
    end
  end
  for _, req in ipairs(extension.REQUIRED_PLATFORMS) do
    if not seen[req] then
      problems[#problems + 1] = "the image is not multi-platform: platform \"" .. req .. "\" is missing"
    end
  end
  return problems, summary
end

return validate
