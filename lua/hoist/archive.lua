-- hoist.archive: writes an image as a docker-archive tarball, the format `docker load` takes
-- (manifest.json with RepoTags, plus the OCI layout files newer Docker versions also read).
local core = require("hoist.oci.core")
local json = require("hoist.json")

local archive = {}

-- write_docker(file, store, image_desc, { "repo:tag" }) -> true | nil, err
function archive.write_docker(file, store, image, repo_tags)
  local members = {}
  local function blob(desc)
    members[#members + 1] = { name = "blobs/sha256/" .. desc.digest:sub(8), path = store:blob_path(desc.digest) }
    return "blobs/sha256/" .. desc.digest:sub(8)
  end
  local layers = json.array({})
  for i, l in ipairs(image.manifest.layers) do layers[i] = blob(l) end
  local config = blob(image.config)
  blob(image)
  local manifest = json.array({ { Config = config, RepoTags = json.array(repo_tags), Layers = layers } })
  local index = {
    schemaVersion = 2, mediaType = "application/vnd.oci.image.index.v1+json",
    manifests = json.array({ { mediaType = image.mediaType, digest = image.digest, size = image.size,
                               annotations = { ["io.containerd.image.name"] = repo_tags[1],
                                               ["org.opencontainers.image.ref.name"] = repo_tags[1]:match(":([^:]+)$") } } }),
  }
  table.insert(members, 1, { name = "oci-layout", data = '{"imageLayoutVersion":"1.0.0"}' })
  table.insert(members, 2, { name = "manifest.json", data = json.encode(manifest, { sort_keys = true }) })
  table.insert(members, 3, { name = "index.json", data = json.encode(index, { sort_keys = true }) })
  return core.write_tar(file, members)
end

return archive
