-- Assemble a multi-arch index from per-platform images pushed by digest, validate it, then tag it.
--
-- usage: hoist index --to REF:TAG SRC... [--latest] [--float] [--force] [--private] [--strict]
--                    [--sign KEY] [--identity HOST/REPO] [--provenance|--no-provenance]
--                    [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]
--
-- The last step of a release built on several CI runners (each ran `hoist release --platform P
-- --push-by-digest`). REF: docker://HOST/REPO or oci:DIR; TAG: the version (semver).
-- SRC: an image or an index by digest or tag: docker://HOST/REPO@sha256:..., oci:DIR:TAG, or a
-- bare sha256:... meaning REF's repository. An index SRC gives all of its platforms. Sources in
-- another repository are copied in first (mounted within one registry).
-- The assembled index is validated like `hoist validate` (linux/amd64 and linux/arm64, labels
-- identical on every platform, metadata.json and the files it names; --private and --strict as
-- there; an attestation manifest a source index holds is kept, with a warning) before anything is tagged;
-- then it is pushed by digest and tagged TAG, plus `latest` (--latest) and `MAJOR`, `MAJOR.MINOR`
-- (--float) when TAG is the highest stable version (in its line). An existing TAG is replaced
-- only with --force. TAG must be the version the images were built as (their
-- org.opencontainers.image.version label, build metadata aside): exit 3 otherwise, unless --force.
-- Sources copied from elsewhere bring their signatures and referrers (SBOMs, provenance) along.
-- --sign KEY signs the index and each platform manifest (cosign's format; --identity HOST/REPO
-- for an OCI layout) once the index is there by digest and before any tag is written; the key
-- is loaded first (a missing key: exit 2; one that cannot be used: exit 3; nothing written).
-- A SLSA provenance statement for the index is attached too (by default to a registry,
-- --provenance for a layout, --no-provenance for none): hoist index as the builder, each platform
-- image as an input, the platforms, and the commit of the working folder when it is a git checkout.
-- (Each platform's SBOM and provenance come from its own `hoist release --push-by-digest`.)
--
-- Exit codes: 0 tagged; 1 a source or the destination failed, or TAG exists; 2 usage;
-- 3 the assembled index has problems (one line each; nothing is tagged).
local cli = require("hoist.cli")
local copy = require("hoist.copy")
local core = require("hoist.oci.core")
local endpoint = require("hoist.endpoint")
local json = require("hoist.json")
local oci = require("hoist.oci")
local ref = require("hoist.ref")
local semver = require("hoist.semver")
local validate = require("hoist.validate")

local USAGE = "usage: hoist index --to REF:TAG SRC... [--latest] [--float] [--force] [--private] [--strict] " ..
  "[--sign KEY] [--identity HOST/REPO] [--provenance|--no-provenance] [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]"
local opts, args = cli.parse(arg, { usage = USAGE, options = cli.registry_options({
  ["--to"] = { key = "to", value = true },
  ["--latest"] = { key = "latest" },
  ["--float"] = { key = "float" },
  ["--force"] = { key = "force" },
  ["--private"] = { key = "private" },
  ["--strict"] = { key = "strict" },
  ["--sign"] = { key = "sign", value = true },
  ["--identity"] = { key = "identity", value = true },
  ["--provenance"] = { key = "provenance" },
  ["--no-provenance"] = { key = "no_provenance" },
}) })
if opts.provenance and opts.no_provenance then cli.usage_error("--provenance and --no-provenance contradict each other") end
-- the key before anything is read or written
local key
if opts.sign then
  local kerr, kkind
  key, kerr, kkind = require("hoist.attach").load_key(opts.sign)
  if not key then cli.fail(kkind, kerr) end
end
if not opts.to then cli.usage_error("--to REF:TAG is required; " .. USAGE) end
if #args == 0 then cli.usage_error("give at least one source image; " .. USAGE) end
local dref, err = ref.parse(opts.to)
if not dref then cli.usage_error(err) end
if dref.transport == "docker-archive" then cli.usage_error("an index cannot go to a docker-archive") end
local tag = dref.tag
if not tag or dref.digest then cli.usage_error("give the version tag of the index: --to " .. dref.display .. ":1.2.0") end
if not semver.valid(tag) or tag:sub(1, 1) == "v" then
  cli.usage_error("invalid version tag '" .. tag .. "' (semver like 1.2.0, no leading 'v', no '+')")
end
if key and dref.transport == "oci" and not opts.identity then
  cli.usage_error("signing into " .. dref.display .. " needs --identity HOST/REPO (the repository it will be published as)")
end

local open_eps = {}
local function finish(code, msg)
  for _, e in ipairs(open_eps) do e:close() end
  cli.fail(code, msg)
end
local function open(r)
  local e, oerr, ocode = endpoint.open(r, { creds = opts.creds, insecure = opts.insecure, create = r == dref,
                                           authfile = opts.authfile })
  if not e then finish(ocode or cli.EXIT.failure, oerr) end
  open_eps[#open_eps + 1] = e
  return e
end
local dst = open(dref)

-- Each source's images, copied into the destination when they live elsewhere.
local children, by_platform, annotations = {}, {}, nil
for _, s in ipairs(args) do
  local sref, serr
  if core.digest_valid(s) then
    sref = setmetatable({ digest = s }, { __index = dref })
  else
    sref, serr = ref.parse(s)
    if not sref then cli.usage_error(serr) end
  end
  local src = (sref.transport == dref.transport and sref.dir == dref.dir and sref.api_host == dref.api_host
               and sref.repository == dref.repository) and dst or open(sref)
  local top, rerr, rcode = src:resolve(sref.digest or sref.tag)
  if not top then finish(rcode or cli.EXIT.failure, rerr) end
  if src ~= dst then
    local ok, cerr, ccode = copy.run(src, dst, { reference = top.digest, tags = {} })
    if not ok then finish(ccode or cli.EXIT.failure, cerr) end
  end
  local bytes, m = dst:manifest(top)
  if not bytes then finish(cli.EXIT.failure, m) end
  local entries = {}
  if m.kind == "index" then
    for _, c in ipairs(m.manifests) do entries[#entries + 1] = c end
    local doc = json.decode(bytes)
    if annotations == nil then
      annotations = doc.annotations or {}
    else -- keep only what every source index agrees on
      for k, v in pairs(annotations) do
        if not doc.annotations or doc.annotations[k] ~= v then annotations[k] = nil end
      end
    end
  else
    local cfg_bytes, cerr = dst:blob(m.config)
    if not cfg_bytes then finish(cli.EXIT.failure, cerr) end
    local cfg = json.decode(cfg_bytes) or {}
    entries[1] = { mediaType = top.mediaType or m.media_type, digest = top.digest, size = #bytes,
                   platform = { os = cfg.os, architecture = cfg.architecture, variant = cfg.variant } }
  end
  for _, c in ipairs(entries) do
    local p = c.platform
    if not p or type(p.os) ~= "string" or type(p.architecture) ~= "string" then
      finish(cli.EXIT.failure, s .. ": " .. c.digest .. " has no platform")
    end
    local name = oci.platform_string(p)
    -- buildx adds one attestation manifest (unknown/unknown) per platform: told apart by digest
    local ann = type(c.annotations) == "table" and c.annotations or {}
    if ann[validate.ATTESTATION] == "attestation-manifest" then name = name .. "@" .. c.digest end
    if by_platform[name] and by_platform[name] ~= c.digest then
      finish(cli.EXIT.usage, "two sources give " .. name .. " (" .. by_platform[name] .. " and " .. c.digest .. ")")
    end
    if not by_platform[name] then
      by_platform[name] = c.digest
      children[#children + 1] = { mediaType = c.mediaType, digest = c.digest, size = c.size,
        platform = { os = p.os, architecture = p.architecture, variant = p.variant },
        annotations = (c.annotations and next(c.annotations)) and c.annotations or nil }
    end
  end
end

table.sort(children, function(a, b)
  local pa, pb = oci.platform_string(a.platform), oci.platform_string(b.platform)
  if pa ~= pb then return pa < pb end
  return a.digest < b.digest   -- attestations share unknown/unknown: the order stays the same
end)
local index_doc = { schemaVersion = 2, mediaType = oci.MEDIA.index, manifests = json.array(children),
                    annotations = (annotations and next(annotations)) and annotations or nil }
local index_bytes = json.encode(index_doc, { sort_keys = true })
local index_desc = { mediaType = oci.MEDIA.index, digest = core.digest(index_bytes), size = #index_bytes }

-- Validate the assembled index as if it were already tagged, before anything is written.
local vsrc = validate.endpoint_source(dst)
vsrc.resolve = function() return index_desc end
local dst_manifest = vsrc.manifest
vsrc.manifest = function(d)
  if d.digest == index_desc.digest then return index_bytes end
  return dst_manifest(d)
end
local problems, summary = validate.image(vsrc, tag, { private = opts.private })
if not problems then finish(cli.EXIT.failure, summary) end
-- the tag and every image's version label must agree: a 5.0.0 tag on images built as 0.0.1 would
-- tell clients an update exists that is not one (--force when it is meant)
if not opts.force then
  for _, c in ipairs(children) do
    if c.platform and c.platform.os ~= "unknown" then
      local _, m = dst:manifest(c)
      local cfg_bytes = m and m.config and dst:blob(m.config)
      local cfg = cfg_bytes and json.decode(cfg_bytes)
      local labels = type(cfg) == "table" and type(cfg.config) == "table" and cfg.config.Labels or {}
      local v = type(labels) == "table" and labels["org.opencontainers.image.version"]
      if type(v) == "string" and v:gsub("^v", ""):gsub("%+.*$", "") ~= tag then
        problems[#problems + 1] = string.format("%s (%s) is labelled version %q, not %s: the tag and the " ..
          "org.opencontainers.image.version label must agree (--force to tag it anyway)",
          oci.platform_string(c.platform), c.digest:sub(1, 19), v, tag)
      end
    end
  end
end
local warnings = summary.warnings
if opts.strict then
  for _, w in ipairs(warnings) do problems[#problems + 1] = w end
  warnings = {}
end
if #problems > 0 then
  cli.problems(problems, { title = "hoist index" })
  cli.warnings(warnings)
  finish(cli.EXIT.validation, string.format("the index for %s:%s has %d problem%s; nothing was tagged",
    dst.display, tag, #problems, #problems == 1 and "" or "s"))
end

local ok, perr = dst:put_manifest(index_bytes, oci.MEDIA.index, index_desc.digest)
if not ok then finish(cli.EXIT.failure, perr) end
-- signatures are keyed by digest: in place before the tag makes the index visible
local signed
if key then
  signed, perr = require("hoist.sign").image(dst, index_desc, key, { identity = opts.identity })
  if not signed then finish(cli.EXIT.failure, perr) end
end
-- provenance of the index, keyed by digest like the signatures: before the tag
local provenance
if opts.provenance or (not opts.no_provenance and dref.transport == "docker") then
  local attest = require("hoist.attest")
  local release = require("hoist.release")
  local platforms, inputs = json.array({}), {}
  for _, c in ipairs(children) do
    if c.platform and c.platform.os ~= "unknown" then
      local p = oci.platform_string(c.platform)
      platforms[#platforms + 1] = p
      inputs[#inputs + 1] = { name = "image " .. p, digest = c.digest }
    end
  end
  local rev = release.git_revision(".")
  local created = os.getenv("SOURCE_DATE_EPOCH")
  if created == "" then created = nil end
  local pv = attest.provenance({
    subject = { { name = opts.identity or dst.display, digest = index_desc.digest } }, version = tag,
    destination = dst.display, parameters = { platforms = platforms, step = "index" },
    git = rev and rev:match("^%x+$") and { commit = rev } or nil, inputs = inputs,
    created = created and math.tointeger(tonumber(created)) or release.commit_time("."),
  })
  local res, aerr = attest.attach_all(dst, { { subject = index_desc, artifact = {
    artifactType = attest.INTOTO_MEDIA_TYPE, data = pv,
    annotations = { [attest.PREDICATE_ANNOTATION] = attest.SLSA_PREDICATE_TYPE } } } })
  if not res then finish(cli.EXIT.failure, aerr) end
  provenance = res[1].digest
end
-- the version tag (immutable unless --force), then latest/floats from the tags as they are now
local tags, terr, tcode = require("hoist.publish").version(dst, index_desc, index_bytes, tag,
  { latest = opts.latest, float = opts.float, force = opts.force })
if not tags then finish(tcode or cli.EXIT.failure, terr) end
for _, e in ipairs(open_eps) do e:close() end

local lines = { string.format("indexed %s as %s", dst.display, table.concat(tags, ", ")),
                "  index        " .. index_desc.digest }
for _, c in ipairs(children) do
  lines[#lines + 1] = string.format("  %-12s %s", oci.platform_string(c.platform), c.digest)
end
if signed then
  lines[#lines + 1] = string.format("  signed       as %s (%d manifests, %s)", signed.identity, 1 + #signed.children, signed.tag)
end
if provenance then lines[#lines + 1] = "  provenance   " .. provenance end
local out = { destination = dst.display, digest = index_desc.digest, platforms = by_platform,
             tags = json.array(tags),
             signed = signed and { identity = signed.identity, tag = signed.tag, manifests = 1 + #signed.children } or nil,
             provenance = provenance }
local rows = { { "destination", dst.display }, { "index", index_desc.digest }, { "tags", table.concat(tags, ", ") } }
for _, c in ipairs(children) do rows[#rows + 1] = { oci.platform_string(c.platform), c.digest } end
rows[#rows + 1] = { "signed", signed and ("as " .. signed.identity) or "no" }
rows[#rows + 1] = { "provenance", provenance or "no" }
require("hoist.summary").rows("hoist index " .. tag, rows)
cli.warnings(warnings, out)
cli.output(out, lines)
