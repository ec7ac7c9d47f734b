-- hoist.validate: checks a built extension image the way `docker extension validate` does:
-- the tag is semver, the image is multi-platform (an index of linux/amd64 and linux/arm64 and
-- nothing else), the labels are complete and identical on every platform, metadata.json is
-- valid and every file it names is in every platform's filesystem.
local core = require("hoist.oci.core")
local extension = require("hoist.extension")
local json = require("hoist.json")
local label = require("hoist.label")
local oci = require("hoist.oci")
local semver = require("hoist.semver")

local validate = {}

--[[
A source gives blobs: { display = "oci:dist/oci", tags = function() -> list,
resolve = function(tag) -> descriptor | nil, err, read = function(digest) -> bytes | nil, err,
path = function(digest) -> a local file holding the blob | nil, err }.
]]
function validate.layout_source(store)
  return {
    display = tostring(store),
    tags = function() return store:tags() or {} end,
    resolve = function(tag) return store:resolve(tag) end,
    read = function(digest)
      if not store:has(digest) then return nil, "blob " .. digest .. " is missing from " .. tostring(store) end
      return store:read(digest)
    end,
    path = function(digest)
      if not store:has(digest) then return nil, "blob " .. digest .. " is missing from " .. tostring(store) end
      return store:blob_path(digest)
    end,
  }
end

local function read_json(src, digest)
  local data, err = src.read(digest)
  if not data then return nil, err end
  if core.digest(data) ~= digest then return nil, "blob " .. digest .. " does not match its digest" end
  return json.decode(data)
end

-- The files of one platform's filesystem, layers applied in order (whiteouts honoured), and
-- metadata.json's content when a layer has it.
local function platform_files(src, manifest, problems, pname)
  local files, meta = {}, nil
  for i, l in ipairs(manifest.layers or {}) do
    local path, err = src.path(l.digest)
    if not path then
      problems[#problems + 1] = string.format("%s: layer %d: %s", pname, i, err)
    else
      local paths, contents = core.scan_layer(path, { "metadata.json" })
      if not paths then
        problems[#problems + 1] = string.format("%s: layer %d: %s", pname, i, contents)
      else
        for name in pairs(paths) do
          local dir, base = name:match("^(.-)/?([^/]*)$")
          if base:sub(1, 4) == ".wh." then
            local target = (dir ~= "" and dir .. "/" or "") .. base:sub(5)
            files[extension.normalize(target)] = nil
          else
            files[extension.normalize(name)] = true
          end
        end
        if contents["metadata.json"] then meta = contents["metadata.json"] end
      end
    end
  end
  return files, meta
end

local function labels_equal(a, b)
  for k, v in pairs(a) do if b[k] ~= v then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

--[[
Validates the image `tag` of src (nil: the highest semver tag, like validate --auto-resolve-tag).
Returns problems (an array of one-line strings; empty when the image is valid) and a summary
{ tag =, digest =, platforms = { "linux/amd64", ... } }, or nil, err when the image cannot be read.
]]
function validate.image(src, tag)
  local problems = {}
  if not tag then
    local tags = {}
    for _, t in ipairs(src.tags()) do if semver.valid(t) then tags[#tags + 1] = t end end
    if #tags == 0 then return nil, "no semver tag at " .. src.display end
    tag = semver.rsort(tags)[1]
  end
  if not semver.valid(tag) or tag:sub(1, 1) == "v" then
    problems[#problems + 1] = "image tag '" .. tag .. "' is not semver (use a version like 1.2.0)"
  end
  local top, err = src.resolve(tag)
  if not top then return nil, err end
  local summary = { tag = tag, digest = top.digest, platforms = {} }
  if top.mediaType ~= oci.MEDIA.index and top.mediaType ~= "application/vnd.docker.distribution.manifest.list.v2+json" then
    problems[#problems + 1] = "the image is not multi-platform: '" .. tag ..
      "' is a single manifest, not an index of linux/amd64 and linux/arm64"
    return problems, summary
  end
  local index
  index, err = read_json(src, top.digest)
  if not index then return nil, err end
  local seen, first_labels = {}, nil
  for i, m in ipairs(index.manifests or {}) do
    local p = m.platform
    if type(p) ~= "table" or not p.os or not p.architecture then
      problems[#problems + 1] = string.format("index entry %d has no platform", i)
    elseif p.os == "unknown" then
      problems[#problems + 1] = string.format("index entry %d is not an image (platform unknown/unknown, e.g. an attestation)", i)
    else
      local pname = oci.platform_string(p)
      seen[p.os .. "/" .. p.architecture] = true
      summary.platforms[#summary.platforms + 1] = pname
      local manifest, merr = read_json(src, m.digest)
      local config = manifest and read_json(src, manifest.config and manifest.config.digest or "")
      if not manifest then
        problems[#problems + 1] = pname .. ": " .. merr
      elseif not config then
        problems[#problems + 1] = pname .. ": cannot read the image config"
      else
        if config.os ~= p.os or config.architecture ~= p.architecture then
          problems[#problems + 1] = pname .. ": the config says " .. tostring(config.os) .. "/" ..
            tostring(config.architecture)
        end
        local labels = (config.config and config.config.Labels) or {}
        if not first_labels then
          first_labels = labels
          local ok, lp = label.validate_extension(labels)
          if not ok then for _, x in ipairs(lp) do problems[#problems + 1] = x end end
        elseif not labels_equal(first_labels, labels) then
          problems[#problems + 1] = pname .. ": labels differ from the other platforms' (they must be identical)"
        end
        local files, meta_text = platform_files(src, manifest, problems, pname)
        if not meta_text then
          problems[#problems + 1] = "metadata.json is missing from the " .. pname .. " image"
        else
          local meta, jerr = json.decode(meta_text)
          if meta == nil then
            problems[#problems + 1] = "metadata.json (" .. pname .. "): " .. tostring(jerr)
          else
            local shape = {}
            extension.check_metadata_shape(meta, shape)
            for _, x in ipairs(shape) do problems[#problems + 1] = x .. " (" .. pname .. ")" end
            extension.check_named_files(meta, function(path) return files[extension.normalize(path)] end,
              pname, problems)
          end
        end
      end
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
