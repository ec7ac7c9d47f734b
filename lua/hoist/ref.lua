-- hoist.ref: image references in skopeo's spelling. Every reference a recipe reads carries its
-- transport, as skopeo requires, so that a path is never taken for a Docker Hub name:
--   oci:DIR[:TAG|@DIGEST]              an OCI image layout
--   docker-archive:FILE[:REPO:TAG]     a tarball docker load takes
--   docker://HOST[:PORT]/REPO[:TAG|@DIGEST]   a registry
-- (extension.lua's `base` alone follows `docker pull` naming: hoist.base adds docker://.)
local ref = {}

local TAG = "^[%w_][%w_.-]*$"

-- What a reference without a transport was probably meant to be, for the message.
local function suggest(s)
  local first = s:match("^([^/]*)")
  if first:find("[.:]") or first == "localhost" then return "docker://" .. s end
  return "oci:" .. s
end

--[[
Returns { transport = "oci"|"docker-archive"|"docker", display = "...", ... } or nil, err.
opts: { default_name = a repository for a registry given alone ("docker://localhost:5000") }.
A reference without a transport is an error that suggests one ("did you mean oci:dist/other?").
]]
function ref.parse(s, opts)
  opts = opts or {}
  if type(s) ~= "string" or s == "" then return nil, "empty image reference" end
  local rest = s:match("^oci:(.*)$")
  if rest then
    if rest == "" then return nil, "invalid reference '" .. s .. "': oci: needs a folder" end
    local ddir, digest = rest:match("^(.+)@([%w+._-]+:.*)$")
    if ddir then
      if not require("hoist.oci.core").digest_valid(digest) then
        return nil, "invalid digest '" .. digest .. "' in '" .. s .. "'"
      end
      return { transport = "oci", dir = ddir, digest = digest, display = "oci:" .. ddir }
    end
    local dir, tag = rest:match("^(.*):([^:/]*)$")
    if dir and dir ~= "" and tag ~= "" then
      if not tag:match(TAG) or #tag > 128 then
        return nil, "invalid tag '" .. tag .. "' in '" .. s .. "' (letters, digits, '_', '.', '-'; no '+')"
      end
      return { transport = "oci", dir = dir, tag = tag, display = "oci:" .. dir }
    end
    return { transport = "oci", dir = rest, display = "oci:" .. rest }
  end
  rest = s:match("^docker%-archive:(.*)$")
  if rest then
    local file, repo, tag = rest:match("^([^:]+):([^:]+):([^:]+)$")
    if not file then
      file = rest:match("^([^:]+)$")
      if not file then return nil, "invalid reference '" .. s .. "' (docker-archive:FILE[:REPO:TAG])" end
    elseif not tag:match(TAG) then
      return nil, "invalid tag '" .. tag .. "' in '" .. s .. "'"
    end
    return { transport = "docker-archive", file = file, repo = repo, tag = tag, display = "docker-archive:" .. file }
  end
  rest = s:match("^docker://(.*)$")
  if not rest then
    if s:match("^%a[%w+.-]*:") and not s:match("^[^/]+:%d+/") and not s:match("^[^/:]+:[^/]+$")
        and not s:match("^[^/]+:%d+$") then
      return nil, "unknown transport in '" .. s .. "' (use docker://, oci: or docker-archive:)"
    end
    return nil, string.format("'%s' names no transport: did you mean %s? (references are " ..
      "oci:DIR[:TAG], docker://HOST/REPO[:TAG] or docker-archive:FILE)", s, suggest(s))
  end
  -- a registry alone ("docker://localhost:5000") takes the description's name as repository
  if not rest:find("/", 1, true) and opts.default_name and (rest:find("[.:]") or rest == "localhost") then
    rest = rest .. "/" .. opts.default_name
  end
  local r, err = require("hoist.registry").parse_ref(rest)
  if not r then return nil, err end
  return { transport = "docker", registry = r.registry, api_host = r.api_host, repository = r.repository,
           tag = r.tag, digest = r.digest, loopback = r.loopback,
           display = "docker://" .. r.registry .. "/" .. r.repository }
end

return ref
