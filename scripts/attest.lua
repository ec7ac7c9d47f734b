-- Attach an SBOM per platform image and a SLSA provenance statement to a published image.
--
-- usage: hoist attest REF [--no-sbom] [--no-provenance] [--base NAME@DIGEST] [--extension FILE]
--                    [--version V] [--commit SHA] [--source URI] [--input NAME@DIGEST]...
--                    [--out DIR] [--dry-run] [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]
--
-- REF: docker://HOST/REPO[:TAG|@DIGEST] or oci:DIR[:TAG|@DIGEST]. For each platform image (or the
-- image itself), an SPDX 2.3 JSON SBOM listing every regular file of its filesystem with its SHA-1
-- and SHA-256 (--base adds the base image as a package); for REF, an in-toto v1 Statement with a
-- SLSA provenance v1 predicate (builder hoist, the version, the destination, and the digests of
-- --extension FILE, --commit, --base and each --input). Each is pushed as an OCI 1.1 artifact whose
-- subject is the image it describes and listed in the referrers index tagged sha256-<hex> (the
-- distribution spec's referrers tag schema), never in the image's own index. --out DIR also
-- writes the documents there; --dry-run only writes them (needs --out). Documents are
-- reproducible: times come from SOURCE_DATE_EPOCH (else 1970-01-01 in the SBOM and none in the
-- provenance). Attaching the same documents again changes nothing. `hoist referrers REF
-- --platforms` lists them.
--
-- Exit codes: 0 attached; 1 registry or I/O failure; 2 usage.
local attest = require("hoist.attest")
local cli = require("hoist.cli")
local endpoint = require("hoist.endpoint")
local fs = require("hoist.fs")
local oci = require("hoist.oci")

local USAGE = "usage: hoist attest REF [--no-sbom] [--no-provenance] [--base NAME@DIGEST] [--extension FILE] " ..
  "[--version V] [--commit SHA] [--source URI] [--input NAME@DIGEST]... [--out DIR] [--dry-run] [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]"
local opts, args = cli.parse(arg, { usage = USAGE, options = cli.registry_options({
  ["--no-sbom"] = { key = "no_sbom" },
  ["--no-provenance"] = { key = "no_provenance" },
  ["--base"] = { key = "base", value = true },
  ["--extension"] = { key = "extension", value = true },
  ["--version"] = { key = "version", value = true },
  ["--commit"] = { key = "commit", value = true },
  ["--source"] = { key = "source", value = true },
  ["--input"] = { key = "inputs", value = true, list = true },
  ["--out"] = { key = "out", value = true },
  ["--dry-run"] = { key = "dry_run" },
}) })
if #args ~= 1 or (opts.dry_run and not opts.out) then cli.usage_error(USAGE) end

local function name_at_digest(s, what)
  local name, digest = tostring(s):match("^(.+)@(sha256:%x+)$")
  if not name or not require("hoist.oci.core").digest_valid(digest) then
    cli.usage_error(what .. " must be NAME@sha256:<64 hex>, got '" .. tostring(s) .. "'")
  end
  return { name = name, digest = digest }
end
local base = opts.base and name_at_digest(opts.base, "--base")
local inputs = {}
for i, s in ipairs(opts.inputs or {}) do inputs[i] = name_at_digest(s, "--input") end
if opts.commit and not opts.commit:match("^%x+$") then cli.usage_error("--commit must be a hex commit id") end
local extension
if opts.extension then
  local digest, derr = oci.digest_file(opts.extension)
  if not digest then cli.fail(cli.EXIT.usage, derr) end
  extension = { path = opts.extension:match("([^/]+)$"), digest = digest }
end

local ep, err, code = endpoint.open(args[1], { creds = opts.creds, insecure = opts.insecure, authfile = opts.authfile })
if not ep then cli.fail(code, err) end
local function check(ok, e)
  if not ok then ep:close(); cli.fail(cli.EXIT.failure, e) end
  return ok
end
if opts.out then check(fs.mkdir(opts.out)) end
local top = check(ep:resolve())
local bytes, m = ep:manifest(top)
check(bytes, m)
local name = require("hoist.sign").identity_of(ep) or args[1]:gsub("^oci:", ""):gsub(":[^/:]*$", "")

local result = { digest = top.digest, sbom = {}, provenance = nil }
local lines, items, slots = {}, {}, {}
-- documents are written to --out as they are made; all of them are attached at once at the end
local function add(subject, artifact_type, data, annotations, file, slot)
  if opts.out then check(fs.write(opts.out .. "/" .. file, data)) end
  slot.file = file
  if not opts.dry_run then
    items[#items + 1] = { subject = subject, artifact = { artifactType = artifact_type, data = data, annotations = annotations } }
    slots[#items] = slot
  end
  return slot
end

if not opts.no_sbom then
  local images = m.kind == "index" and m.manifests or { top }
  local memo = {}
  check(attest.prepare(ep, images, { memo = memo }))
  for _, img in ipairs(images) do
    local platform = img.platform and oci.platform_string(img.platform) or nil
    local sb = check(attest.sbom(ep, img, { name = name, version = opts.version, platform = platform,
                                            base = base, memo = memo }))
    result.sbom[#result.sbom + 1] = add(img, attest.SPDX_MEDIA_TYPE, sb, nil,
      "sbom-" .. (platform and platform:gsub("/", "-") or "image") .. ".spdx.json", { platform = platform, image = img.digest })
  end
end
if not opts.no_provenance then
  local pv = attest.provenance({
    subject = { { name = name, digest = top.digest } }, version = opts.version, destination = args[1],
    extension = extension, base = base, inputs = #inputs > 0 and inputs or nil,
    git = opts.commit and { uri = opts.source, commit = opts.commit } or nil,
  })
  result.provenance = add(top, attest.INTOTO_MEDIA_TYPE, pv,
    { [attest.PREDICATE_ANNOTATION] = attest.SLSA_PREDICATE_TYPE }, "provenance.intoto.json", {})
end
if #items > 0 then
  local res = check(attest.attach_all(ep, items))
  for i, r in ipairs(res) do
    for k, v in pairs(r) do slots[i][k] = v end
  end
end
for _, s in ipairs(result.sbom) do
  lines[#lines + 1] = string.format("sbom        %-12s %s", s.platform or "", s.digest or s.file)
end
if result.provenance then
  lines[#lines + 1] = string.format("provenance  %-12s %s", "", result.provenance.digest or result.provenance.file)
end
ep:close()
cli.note("%s %s", opts.dry_run and "documents for" or "attached to", top.digest)
cli.output(result, lines)
