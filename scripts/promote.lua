-- Promote a released version from a staging repository to production, if it validates and is newer.
--
-- usage: hoist promote SRC:VERSION DST [--no-latest] [--float] [--force] [--private] [--strict]
--                      [--sign KEY] [--identity HOST/REPO]
--                      [--creds USER:PASS] [--src-creds USER:PASS] [--dest-creds USER:PASS]
--                      [--authfile FILE] [--insecure] [--json]
--
-- SRC:VERSION: the staged release (docker://HOST/REPO:1.2.0 or oci:DIR:1.2.0); DST: the
-- production repository (docker://HOST/REPO or oci:DIR, no tag). In order:
--   1. SRC:VERSION is validated like `hoist validate` (problems: exit 3, nothing copied;
--      warnings are printed; --private and --strict as for `hoist validate`);
--   2. VERSION must be newer than every semver tag in DST (else exit 1: production would go
--      backwards), and must not exist there (exit 1; --force replaces it and skips step 2's
--      check for that one version);
--   3. the image is copied with all platforms (blobs mounted within one registry), then tagged
--      VERSION, and `latest` when VERSION is the highest stable version (unless --no-latest),
--      plus MAJOR and MAJOR.MINOR with --float. Tags are written last.
-- The image's signatures and referrers (SBOMs, provenance) go with it (mounted within one
-- registry, copied otherwise). A signature names the repository it was made for, so promoting
-- to another repository needs a new one: --sign KEY signs the index and its platform manifests
-- for DST's repository (--identity HOST/REPO for an OCI layout), before the tags are written.
-- The key is loaded first: a missing key is exit 2, one that cannot be used exit 3, nothing copied.
--
-- Exit codes: 0 promoted; 1 a side failed, or VERSION is not newer or exists; 2 usage;
-- 3 the staged image has problems.
local cli = require("hoist.cli")
local copy = require("hoist.copy")
local endpoint = require("hoist.endpoint")
local json = require("hoist.json")
local ref = require("hoist.ref")
local semver = require("hoist.semver")
local validate = require("hoist.validate")

local USAGE = "usage: hoist promote SRC:VERSION DST [--no-latest] [--float] [--force] [--private] [--strict] " ..
  "[--sign KEY] [--identity HOST/REPO] [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]"
local opts, args = cli.parse(arg, { usage = USAGE, options = cli.registry_options({
  ["--no-latest"] = { key = "no_latest" },
  ["--float"] = { key = "float" },
  ["--force"] = { key = "force" },
  ["--private"] = { key = "private" },
  ["--strict"] = { key = "strict" },
  ["--sign"] = { key = "sign", value = true },
  ["--identity"] = { key = "identity", value = true },
  ["--src-creds"] = { key = "src_creds", value = true },
  ["--dest-creds"] = { key = "dest_creds", value = true },
}) })
if #args ~= 2 then cli.usage_error(USAGE) end
-- the key before anything is read or written
local key
if opts.sign then
  local kerr, kkind
  key, kerr, kkind = require("hoist.attach").load_key(opts.sign)
  if not key then cli.fail(kkind, kerr) end
end
local sref, err = ref.parse(args[1])
if not sref then cli.usage_error(err) end
local dref
dref, err = ref.parse(args[2])
if not dref then cli.usage_error(err) end
if sref.transport == "docker-archive" or dref.transport == "docker-archive" then
  cli.usage_error("promote works between registries and OCI layouts, not docker-archive files")
end
local version = sref.tag
if not version or sref.digest or not semver.valid(version) or version:sub(1, 1) == "v" then
  cli.usage_error("give the staged version as SRC:VERSION (a semver tag like 1.2.0), got '" .. args[1] .. "'")
end
if dref.tag or dref.digest then cli.usage_error("give the production repository without a tag: the version is the tag") end
if key and dref.transport == "oci" and not opts.identity then
  cli.usage_error("signing into " .. dref.display .. " needs --identity HOST/REPO (the repository it will be published as)")
end

local src, dst, code
local function finish(c, msg)
  if src then src:close() end
  if dst then dst:close() end
  cli.fail(c, msg)
end
src, err, code = endpoint.open(sref, { creds = opts.src_creds or opts.creds, insecure = opts.insecure,
                                      authfile = opts.authfile })
if not src then finish(code, err) end
dst, err, code = endpoint.open(dref, { creds = opts.dest_creds or opts.creds, insecure = opts.insecure, create = true,
                                      authfile = opts.authfile })
if not dst then finish(code, err) end

-- 1. the staged image must be publishable
local problems, summary = validate.image(validate.endpoint_source(src), version, { private = opts.private })
if not problems then finish(cli.EXIT.failure, summary) end
local warnings = summary.warnings
if opts.strict then
  for _, w in ipairs(warnings) do problems[#problems + 1] = w end
  warnings = {}
end
if #problems > 0 then
  cli.problems(problems, { title = "hoist promote" })
  cli.warnings(warnings)
  finish(cli.EXIT.validation, string.format("%s:%s has %d problem%s; nothing was promoted", src.display,
    version, #problems, #problems == 1 and "" or "s"))
end

-- 2. production moves forward only
local existing
existing, err = dst:tags()
if not existing then finish(cli.EXIT.failure, err) end
local others = {}
for _, t in ipairs(existing) do
  if t == version then
    if not opts.force then
      finish(cli.EXIT.failure, dst.display .. ":" .. version .. " already exists (use --force to replace it)")
    end
  elseif semver.valid(t) and t:sub(1, 1) ~= "v" then
    others[#others + 1] = t
  end
end
local newest = #others > 0 and semver.rsort(others)[1] or nil
if newest and not semver.gt(version, newest) and not opts.force then
  finish(cli.EXIT.failure, string.format("%s is not newer than %s's %s: production does not go backwards",
    version, dst.display, newest))
end

-- 3. copy untagged, then tag: the version (checked again as it is written), then latest/floats
-- from production's tags as they are at that moment (hoist.publish)
local result
result, err, code = copy.run(src, dst, { reference = version, tags = {} })
if not result then finish(code or cli.EXIT.failure, err) end
-- a signature for the production repository, keyed by digest, before the tags
local signed
if key then
  signed, err = require("hoist.sign").image(dst, result.top.desc, key, { identity = opts.identity })
  if not signed then finish(cli.EXIT.failure, err) end
end
local tags
tags, err, code = require("hoist.publish").version(dst, result.top.desc, result.top.bytes, version,
  { latest = not opts.no_latest, float = opts.float, force = opts.force })
if not tags then finish(code or cli.EXIT.failure, err) end
src:close(); dst:close()
local out = { source = args[1], destination = dst.display, version = version, digest = result.digest,
              tags = json.array(tags), blobs = result.blobs, previous = newest,
              signatures = result.signatures, referrers = result.referrers,
              signed = signed and { identity = signed.identity, tag = signed.tag, manifests = 1 + #signed.children } or nil }
require("hoist.summary").rows("hoist promote " .. version, {
  { "destination", dst.display }, { "index", result.digest }, { "tags", table.concat(tags, ", ") },
  { "carried", string.format("%d signatures, %d referrers", result.signatures, result.referrers) },
  { "signed", signed and ("as " .. signed.identity) or "no" } })
cli.warnings(warnings, out)
cli.output(out,
  { string.format("promoted %s to %s as %s", version, dst.display, table.concat(tags, ", ")),
    "  index        " .. result.digest,
    "  previous     " .. (newest or "(none)"),
    string.format("  blobs        %d sent, %d mounted, %d already there", result.blobs.uploaded,
      result.blobs.mounted, result.blobs.existing),
    string.format("  carried      %d signature%s, %d referrer%s", result.signatures, result.signatures == 1 and "" or "s",
      result.referrers, result.referrers == 1 and "" or "s"),
    signed and ("  signed       as " .. signed.identity .. " (" .. (1 + #signed.children) .. " manifests)") or nil })
