-- hoist.sign: sigstore/cosign "simple signing" signatures of images, stored the way cosign and
-- containers/image (skopeo, podman) store and read them: an OCI image manifest tagged
-- `sha256-<hex>.sig` in the image's repository, one layer per signature (the payload JSON, media
-- type application/vnd.dev.cosign.simplesigning.v1+json) with the base64 ECDSA P-256/SHA-256
-- signature in the layer's `dev.cosignproject.cosign/signature` annotation. docs/signing.md has
-- the format and where it comes from.
--
-- Expected failures return nil, message, kind (a string, listed per function); misuse raises.
local core = require("hoist.sign.core")
local fs = require("hoist.fs")
local json = require("hoist.json")
local oci = require("hoist.oci")
local digest_valid = require("hoist.oci.core").digest_valid

local sign = {}

sign.PAYLOAD_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
sign.SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
sign.PAYLOAD_TYPE = "cosign container image signature"
sign.PASSWORD_ENV = "HOIST_SIGNING_PASSWORD"

-- A payload larger than this is not a simple-signing payload (cosign's are ~250 bytes).
local MAX_PAYLOAD = 64 * 1024

-- hoist.keys checks the table (and suggests the option meant); known is a set here
local function check_opts(opts, fname, known)
  local list = {}
  for k in pairs(known) do list[#list + 1] = k end
  return require("hoist.keys").options(opts, list, fname, 1)
end

local function is_key(k)
  local mt = getmetatable(k)
  return type(k) == "userdata" and mt and mt.__name == "hoist.SigningKey"
end

local function check_desc(desc, fname)
  if type(desc) ~= "table" or not digest_valid(desc.digest or "") then
    error(fname .. ": a descriptor { mediaType, digest, size } expected", 3)
  end
end

-- "sha256:abc..." -> "sha256-abc....sig": the tag cosign and containers/image look under.
function sign.tag_for(digest)
  if not digest_valid(digest) then error("sign.tag_for: a digest expected", 2) end
  return (digest:gsub(":", "-", 1)) .. ".sig"
end

-- The identity a registry endpoint signs for: "HOST[:PORT]/REPO" (containers/image's
-- matchRepository compares this with the repository it pulls from). nil for a layout.
function sign.identity_of(ep)
  local r = ep and ep.ref
  if r and r.transport == "docker" then return r.registry .. "/" .. r.repository end
  return nil
end

--[[
The simple-signing payload for an image digest, byte for byte what cosign writes:
{"critical":{"identity":{"docker-reference":ID},"image":{"docker-manifest-digest":D},
"type":"cosign container image signature"},"optional":null}; annotations (a string map) go into
"optional" (sorted keys).
]]
function sign.payload(digest, identity, annotations)
  if not digest_valid(digest) then error("sign.payload: a digest expected", 2) end
  if type(identity) ~= "string" or identity == "" then error("sign.payload: an identity (HOST/REPO) expected", 2) end
  local optional = json.null
  if annotations ~= nil then
    if type(annotations) ~= "table" then error("sign.payload: annotations must be a table", 2) end
    for k, v in pairs(annotations) do
      if type(k) ~= "string" or type(v) ~= "string" then error("sign.payload: annotations must map strings to strings", 2) end
    end
    if next(annotations) then optional = annotations end
  end
  return json.encode({
    critical = {
      identity = { ["docker-reference"] = identity },
      image = { ["docker-manifest-digest"] = digest },
      type = sign.PAYLOAD_TYPE,
    },
    optional = optional,
  }, { sort_keys = true })
end

-- The repository a docker-reference names, as containers/image's matchRepository compares them: a
-- tag or digest is dropped, and Docker Hub's host aliases are one (cosign writes index.docker.io).
function sign._repository_of(reference)
  local r = reference:gsub("@.*$", "")
  local last = r:match("[^/]*$")
  if last:find(":", 1, true) and r:find("/", 1, true) then r = r:gsub(":[^:/]*$", "") end
  r = r:gsub("^index%.docker%.io/", "docker.io/"):gsub("^registry%-1%.docker%.io/", "docker.io/")
  return r
end

---------------------------------------------------------------------------------------------------
-- Keys

local function password_from(password)
  if password == false then return nil end
  if password == nil then
    local env = os.getenv(sign.PASSWORD_ENV)
    if env == nil or env == "" then return nil end
    return env
  end
  if type(password) ~= "string" then error("password must be a string, false or nil", 3) end
  return password
end

local KIND = { ENOENT = "ENOENT", EAUTH = "EAUTH", EINVAL = "EINVAL", ERANGE = "EINVAL" }

local function read_key_file(path, fname)
  if type(path) ~= "string" or path == "" then error(fname .. ": a key file path expected", 3) end
  local st = fs.stat(path, true)
  if not st then return nil, "key file '" .. path .. "' does not exist", "ENOENT" end
  if st.type ~= "file" then return nil, "key file '" .. path .. "' is not a file", "ENOENT" end
  local text, err = fs.read(path)
  if not text then return nil, err, "EIO" end
  return text
end

--[[
A private key from a PEM file: PKCS#8 ("PRIVATE KEY"), encrypted PKCS#8 ("ENCRYPTED PRIVATE
KEY"), "EC PRIVATE KEY", or cosign's "ENCRYPTED SIGSTORE PRIVATE KEY". password: a string, nil
(then $HOIST_SIGNING_PASSWORD when set) or false (none). Only ECDSA P-256 keys are accepted.
Returns the key, or nil, message, kind: "ENOENT" (no such file), "EAUTH" (encrypted and no
password, or a wrong one), "EINVAL" (RSA, another curve, a public key, not a key), "EIO".
]]
function sign.load_private(path, password)
  local pw = password_from(password)
  local text, err, kind = read_key_file(path, "sign.load_private")
  if not text then return nil, err, kind end
  local key, kerr, code = core.load_private(text, pw, "key '" .. path .. "'")
  if not key then return nil, kerr, KIND[code] or "EIO" end
  return key
end

-- A public key ("PUBLIC KEY" PEM, P-256). Returns the key, or nil, message, kind as load_private.
function sign.load_public(path)
  local text, err, kind = read_key_file(path, "sign.load_public")
  if not text then return nil, err, kind end
  local key, kerr, code = core.load_public(text, "key '" .. path .. "'")
  if not key then return nil, kerr, KIND[code] or "EIO" end
  return key
end

--[[
A new ECDSA P-256 key pair. opts: { out = PREFIX (write PREFIX.key, mode 0600, and PREFIX.pub),
password = string | nil ($HOIST_SIGNING_PASSWORD) | false (none), format = "pkcs8" (default;
encrypted PKCS#8 with a password) | "cosign" ("ENCRYPTED SIGSTORE PRIVATE KEY", what cosign and
skopeo sign with), force = bool (replace existing files) }.
Returns key, { private = path, public = path, id = "sha256:..." } (paths only with out), or nil,
message, kind ("EEXIST", "EIO").
]]
function sign.generate(opts)
  opts = check_opts(opts, "sign.generate", { out = true, password = true, format = true, force = true })
  local format = opts.format or "pkcs8"
  if format ~= "pkcs8" and format ~= "cosign" then error("sign.generate: format must be 'pkcs8' or 'cosign'", 2) end
  if opts.out ~= nil and (type(opts.out) ~= "string" or opts.out == "") then error("sign.generate: out must be a path prefix", 2) end
  local pw = password_from(opts.password)
  local key = assert(core.generate())
  local info = { id = assert(key:id()) }
  if not opts.out then return key, info end
  local priv_path, pub_path = opts.out .. ".key", opts.out .. ".pub"
  if not opts.force then
    for _, p in ipairs({ priv_path, pub_path }) do
      if fs.exists(p) then return nil, "'" .. p .. "' exists (a key is never overwritten without force)", "EEXIST" end
    end
  end
  local priv, err
  if format == "cosign" then priv, err = key:cosign_pem(pw or "") else priv, err = key:private_pem(pw) end
  if not priv then return nil, err, "EIO" end
  local ok, werr = fs.write(priv_path, priv, { mode = "0600" })
  if not ok then return nil, werr, "EIO" end
  ok, werr = fs.write(pub_path, assert(key:public_pem()), { mode = "0644" })
  if not ok then return nil, werr, "EIO" end
  info.private, info.public = priv_path, pub_path
  return key, info
end

---------------------------------------------------------------------------------------------------
-- Signature manifests

-- A source for endpoint:put_blobs holding in-memory blobs (written to a temporary folder), since
-- endpoints take blobs from another endpoint's files; a blob already in a file (b.path) is taken
-- from there.
local function memory_source(blobs)
  local dir, err = fs.tmpdir("hoist-sign")
  if not dir then return nil, err end
  local src = { dir = dir, paths = {} }
  for _, b in ipairs(blobs) do
    local path = b.path
    if not path then
      path = dir .. "/" .. b.digest:sub(8)
      local ok, werr = fs.write(path, b.bytes, { durable = false })   -- removed after the push
      if not ok then fs.remove(dir); return nil, werr end
    end
    src.paths[b.digest] = path
  end
  function src.blob_file(self, d) return self.paths[d.digest] or nil, "no blob " .. d.digest end
  function src.close(self) fs.remove(self.dir) end
  return src
end

-- Puts small blobs ({ digest, bytes | path and size, mediaType }) into an endpoint.
function sign._put_small_blobs(ep, blobs)
  local src, err = memory_source(blobs)
  if not src then return nil, err end
  local descs = {}
  for i, b in ipairs(blobs) do descs[i] = { digest = b.digest, size = b.size or #b.bytes, mediaType = b.mediaType } end
  local stats, perr = ep:put_blobs(descs, src)
  src:close()
  if not stats then return nil, perr end
  return stats
end

-- The tags of each endpoint this process has listed, plus the ones it wrote since: one tag listing
-- per endpoint instead of one per signature and per referrers index (ep:tag drops the endpoint's
-- own cache). Weak keys: a closed endpoint's set goes with it.
local tag_sets = setmetatable({}, { __mode = "k" })

-- Whether a tag exists; nil, err when the endpoint cannot be read.
function sign._has_tag(ep, tag)
  local set = tag_sets[ep]
  if not set then
    local tags, err = ep:tags()
    if not tags then return nil, err end
    set = {}
    for _, t in ipairs(tags) do set[t] = true end
    tag_sets[ep] = set
  end
  return set[tag] == true
end

-- Tags desc as tag in ep and remembers it.
function sign._tag(ep, desc, tag, bytes)
  local ok, err = ep:tag(desc, { tag }, bytes)
  if not ok then return nil, err end
  if tag_sets[ep] then tag_sets[ep][tag] = true end
  return true
end

--[[
Writes several manifests under their tags: { { desc, tag, bytes }, ... }. On a registry they go
out at once (the client's put_manifests: one connection each), since they do not depend on each
other; elsewhere one after the other. (The endpoint has no batch method; this reaches for its
client, and drops the endpoint's tag cache as ep:tag would.)
]]
function sign._tag_many(ep, writes)
  if #writes == 0 then return true end
  local client = ep.client
  if #writes > 1 and client ~= nil and ep.repo then
    if client.put_manifests then
      local items = {}
      for i, w in ipairs(writes) do items[i] = { ref = w.tag, media_type = w.desc.mediaType, bytes = w.bytes } end
      local ok, err = client:put_manifests(ep.repo, items)
      ep.tag_cache = nil
      if not ok then return nil, err end
      for _, w in ipairs(writes) do if tag_sets[ep] then tag_sets[ep][w.tag] = true end end
      return true
    end
  end
  if #writes > 1 and type(ep.tag_many) == "function" then
    -- a layout: one write of index.json for all of them
    local ok, err = ep:tag_many(writes)
    if not ok then return nil, err end
    for _, w in ipairs(writes) do if tag_sets[ep] then tag_sets[ep][w.tag] = true end end
    return true
  end
  for _, w in ipairs(writes) do
    local ok, err = sign._tag(ep, w.desc, w.tag, w.bytes)
    if not ok then return nil, err end
  end
  return true
end

-- The signature manifest of a digest: bytes, decoded table; false when there is none.
local function signature_manifest(ep, digest)
  local tag = sign.tag_for(digest)
  local has, err = sign._has_tag(ep, tag)
  if has == nil then return nil, err end
  if not has then return false end
  local desc, rerr = ep:resolve(tag)
  if not desc then return nil, rerr end
  local bytes, merr = ep:manifest(desc)
  if not bytes then return nil, merr end
  local doc = json.decode(bytes)
  if type(doc) ~= "table" or type(doc.layers) ~= "table" then
    return nil, "the signature manifest " .. tag .. " in " .. ep.display .. " is not an image manifest"
  end
  return bytes, doc, desc
end

local function encode(doc) return json.encode(doc, { sort_keys = true }) end

-- Prepares the signature of one manifest (no recursion): the result, and unless it is already
-- there, the blobs to push and the manifest to tag. See sign.image.
local function plan_one(ep, desc, key, identity, annotations)
  local payload = sign.payload(desc.digest, identity, annotations)
  local payload_digest = oci.digest(payload)
  local tag = sign.tag_for(desc.digest)

  local old_bytes, old, old_desc = signature_manifest(ep, desc.digest)
  if old_bytes == nil then return nil, old end
  local layers = json.array({})
  if old_bytes then
    for _, l in ipairs(old.layers) do
      local s = type(l.annotations) == "table" and l.annotations[sign.SIGNATURE_ANNOTATION]
      -- the same payload signed by this key already: signing again would only add noise
      if l.digest == payload_digest and type(s) == "string" and key:verify(payload, s) then
        return { result = { digest = desc.digest, tag = tag, manifest = old_desc.digest, added = false,
                            signatures = #old.layers } }
      end
      layers[#layers + 1] = l
    end
  end
  local signature, serr = key:sign(payload)
  if not signature then return nil, serr end
  layers[#layers + 1] = {
    mediaType = sign.PAYLOAD_MEDIA_TYPE, digest = payload_digest, size = #payload,
    annotations = { [sign.SIGNATURE_ANNOTATION] = signature },
  }
  -- the config containers/image writes: an image config whose diff_ids are the layers' digests
  local diff_ids = json.array({})
  for i, l in ipairs(layers) do diff_ids[i] = l.digest end
  local config = encode({ architecture = "", os = "", config = json.object({}),
                          rootfs = { type = "layers", diff_ids = diff_ids } })
  local config_desc = { mediaType = oci.MEDIA.config, digest = oci.digest(config), size = #config }
  local manifest = encode({ schemaVersion = 2, mediaType = oci.MEDIA.manifest, config = config_desc, layers = layers })
  local mdesc = { mediaType = oci.MEDIA.manifest, digest = oci.digest(manifest), size = #manifest }
  return {
    result = { digest = desc.digest, tag = tag, manifest = mdesc.digest, added = true, signatures = #layers },
    blobs = { { digest = payload_digest, bytes = payload, mediaType = sign.PAYLOAD_MEDIA_TYPE },
              { digest = config_desc.digest, bytes = config, mediaType = oci.MEDIA.config } },
    write = { desc = mdesc, tag = tag, bytes = manifest },
  }
end

-- The children of an index (their descriptors), or nil when desc is not an index.
local function children_of(ep, desc)
  local bytes, m = ep:manifest(desc)
  if not bytes then return nil, m end
  if m.kind ~= "index" then return false end
  return m.manifests
end

--[[
Signs the image (or index) `desc` names in endpoint ep with key: adds a layer to the
`sha256-<hex>.sig` manifest (made when missing), keeping the signatures already there. An index
is signed recursively by default (each platform manifest, then the index): containers/image
checks the signature of the platform manifest it copies as well as the index's.
opts: { identity = "HOST/REPO" (default: the registry endpoint's repository; required for an OCI
layout), annotations = { k = "v" } (the payload's "optional" object), recursive = bool (default
true) }.
Returns { digest, tag, manifest (the signature manifest's digest), identity, added = bool,
signatures = n, children = { result, ... } }; added is false when a signature of the same payload
by the same key is already there (nothing is written then). Failures: nil, message, "EIO".
]]
function sign.image(ep, desc, key, opts)
  opts = check_opts(opts, "sign.image", { identity = true, annotations = true, recursive = true })
  if type(ep) ~= "table" or type(ep.put_blobs) ~= "function" then error("sign.image: an endpoint expected", 2) end
  check_desc(desc, "sign.image")
  if not is_key(key) or not key:is_private() then error("sign.image: a private key expected (sign.load_private)", 2) end
  local identity = opts.identity or sign.identity_of(ep)
  if type(identity) ~= "string" or identity == "" then
    error("sign.image: opts.identity (HOST/REPO the image is published as) is needed for " .. tostring(ep.display), 2)
  end
  local targets = {}
  if opts.recursive ~= false then
    local list, err = children_of(ep, desc)
    if list == nil then return nil, err, "EIO" end
    for i, child in ipairs(list or {}) do targets[i] = child end
  end
  targets[#targets + 1] = desc
  -- every signature is prepared first, then all blobs go in one push and all manifests at once
  local plans, blobs, seen, writes = {}, {}, {}, {}
  for i, t in ipairs(targets) do
    local p, err = plan_one(ep, t, key, identity, opts.annotations)
    if not p then return nil, err, "EIO" end
    plans[i] = p
    for _, b in ipairs(p.blobs or {}) do
      if not seen[b.digest] then seen[b.digest] = true; blobs[#blobs + 1] = b end
    end
    if p.write then writes[#writes + 1] = p.write end
  end
  if #blobs > 0 then
    local ok, err = sign._put_small_blobs(ep, blobs)
    if not ok then return nil, err, "EIO" end
  end
  local ok, err = sign._tag_many(ep, writes)
  if not ok then return nil, err, "EIO" end
  local res = plans[#plans].result
  local children = json.array({})
  for i = 1, #plans - 1 do children[i] = plans[i].result end
  res.identity, res.children = identity, children
  return res
end

--[[
Verifies that the image `desc` names in ep carries a valid signature by pub (a public or private
key): a layer of its `sha256-<hex>.sig` manifest whose signature verifies over its payload, whose
payload is a "cosign container image signature" of exactly desc.digest, and whose
docker-reference is opts.identity (default: the registry endpoint's HOST/REPO; for a layout
without opts.identity the identity is not checked but returned). opts.identity = false skips the
check. For an index, each platform manifest must carry such a signature too (opts.recursive =
false: the index alone), as containers/image requires.
Returns true, { identity, signatures = n, key = key id, layer = i, children = n }, or nil, message,
kind: "ENOENT" (no signature manifest, or no signature layer), "EINVAL" (none verifies: the
message says why for each), "EIO".
]]
local function verify_one(ep, desc, pub, want)
  local where = ep.display .. "@" .. desc.digest
  local bytes, doc = signature_manifest(ep, desc.digest)
  if bytes == nil then return nil, doc, "EIO" end
  if not bytes then return nil, where .. " is not signed (no " .. sign.tag_for(desc.digest) .. ")", "ENOENT" end
  local reasons, seen = {}, 0
  for i, l in ipairs(doc.layers) do
    if type(l) == "table" and l.mediaType == sign.PAYLOAD_MEDIA_TYPE then
      seen = seen + 1
      local sig = type(l.annotations) == "table" and l.annotations[sign.SIGNATURE_ANNOTATION]
      if type(sig) ~= "string" then
        reasons[#reasons + 1] = "signature " .. i .. " has no " .. sign.SIGNATURE_ANNOTATION .. " annotation"
      elseif math.type(l.size) ~= "integer" or l.size > MAX_PAYLOAD then
        reasons[#reasons + 1] = "signature " .. i .. ": the payload is larger than " .. MAX_PAYLOAD .. " bytes"
      else
        local payload, berr = ep:blob(l)
        if not payload then return nil, berr, "EIO" end
        local ok, why = pub:verify(payload, sig)
        if not ok then
          reasons[#reasons + 1] = "signature " .. i .. " was not made by key " .. pub:id() .. " (" .. tostring(why) .. ")"
        else
          local p = json.decode(payload)
          local c = type(p) == "table" and p.critical
          local image = type(c) == "table" and type(c.image) == "table" and c.image["docker-manifest-digest"]
          local identity = type(c) == "table" and type(c.identity) == "table" and c.identity["docker-reference"]
          if type(c) ~= "table" or c.type ~= sign.PAYLOAD_TYPE then
            reasons[#reasons + 1] = "signature " .. i .. ": the payload is not a '" .. sign.PAYLOAD_TYPE .. "'"
          elseif image ~= desc.digest then
            reasons[#reasons + 1] = "signature " .. i .. " signs another image (" .. tostring(image) .. ")"
          elseif type(identity) ~= "string" then
            reasons[#reasons + 1] = "signature " .. i .. ": the payload has no docker-reference"
          elseif want and sign._repository_of(identity) ~= sign._repository_of(want) then
            reasons[#reasons + 1] = "signature " .. i .. " is for " .. identity .. ", not " .. want
          else
            return true, { identity = identity, signatures = seen, key = pub:id(), layer = i }
          end
        end
      end
    end
  end
  if seen == 0 then return nil, where .. " is not signed (" .. sign.tag_for(desc.digest) .. " holds no signature)", "ENOENT" end
  return nil, "no valid signature for " .. where .. ": " .. table.concat(reasons, "; "), "EINVAL"
end

function sign.verify(ep, desc, pub, opts)
  opts = check_opts(opts, "sign.verify", { identity = true, recursive = true })
  if type(ep) ~= "table" or type(ep.resolve) ~= "function" then error("sign.verify: an endpoint expected", 2) end
  check_desc(desc, "sign.verify")
  if not is_key(pub) then error("sign.verify: a key expected (sign.load_public)", 2) end
  local want = opts.identity
  if want == nil then want = sign.identity_of(ep) end
  if want ~= false and want ~= nil and type(want) ~= "string" then error("sign.verify: identity must be a string or false", 2) end
  local ok, info, kind = verify_one(ep, desc, pub, want)
  if not ok then return nil, info, kind end
  info.children = 0
  if opts.recursive ~= false then
    local list, err = children_of(ep, desc)
    if list == nil then return nil, err, "EIO" end
    for _, child in ipairs(list or {}) do
      local cok, cerr, ckind = verify_one(ep, child, pub, want or info.identity)
      if not cok then return nil, cerr, ckind end
      info.children = info.children + 1
    end
  end
  return true, info
end

return sign
