-- List what refers to an image: SBOMs, provenance and other OCI 1.1 artifacts, and its signatures.
--
-- usage: hoist referrers REF [--type ARTIFACT_TYPE] [--platforms] [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]
--
-- REF: docker://HOST/REPO[:TAG|@DIGEST] or oci:DIR[:TAG|@DIGEST]. Reads the referrers tag schema
-- of the distribution spec (the index tagged sha256-<hex> beside the image, which is how hoist
-- attaches artifacts on every registry and in OCI layouts) and the cosign signature manifest
-- (sha256-<hex>.sig). One line per artifact: its artifact type, digest and size. --type keeps one
-- artifact type (application/spdx+json, application/vnd.in-toto+json); --platforms also lists what
-- refers to each platform image of an index (where hoist puts the SBOMs). --json prints
-- {"digest", "referrers": [...], "signatures": n, "platforms": {"linux/amd64": {...}}}.
--
-- Exit codes: 0 listed (also when there is nothing); 1 unreadable; 2 usage.
local attest = require("hoist.attest")
local cli = require("hoist.cli")
local endpoint = require("hoist.endpoint")
local oci = require("hoist.oci")
local sign = require("hoist.sign")

local USAGE = "usage: hoist referrers REF [--type ARTIFACT_TYPE] [--platforms] [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]"
local opts, args = cli.parse(arg, { usage = USAGE, options = cli.registry_options({
  ["--type"] = { key = "type", value = true },
  ["--platforms"] = { key = "platforms" },
}) })
if #args ~= 1 then cli.usage_error(USAGE) end
local ep, err, code = endpoint.open(args[1], { creds = opts.creds, insecure = opts.insecure, authfile = opts.authfile })
if not ep then cli.fail(code, err) end
local function check(ok, e)
  if ok == nil then ep:close(); cli.fail(cli.EXIT.failure, e) end
  return ok
end

-- What refers to one digest: { digest, referrers = {...}, signatures = n }
local function describe(desc)
  local list = check(attest.referrers(ep, desc, { artifact_type = opts.type }))
  local sigs = 0
  local has = check(sign._has_tag(ep, sign.tag_for(desc.digest)))
  if has then
    local sdesc = check(ep:resolve(sign.tag_for(desc.digest)))
    local _, m = ep:manifest(sdesc)
    sigs = m and #m.layers or 0
  end
  return { digest = desc.digest, referrers = list, signatures = sigs }
end

local top = check(ep:resolve())
local out = describe(top)
local lines = {}
local function add_lines(prefix, d)
  for _, r in ipairs(d.referrers) do
    lines[#lines + 1] = string.format("%s%-32s %s %d", prefix, tostring(r.artifactType), r.digest, r.size or 0)
  end
  if d.signatures > 0 then
    lines[#lines + 1] = string.format("%s%-32s %s (%d)", prefix, "cosign signature", sign.tag_for(d.digest), d.signatures)
  end
end
add_lines("", out)
if opts.platforms then
  local bytes, m = ep:manifest(top)
  check(bytes, m)
  if m.kind == "index" then
    out.platforms = {}
    for i, child in ipairs(m.manifests) do
      local name = child.platform and oci.platform_string(child.platform) or ("#" .. i)
      out.platforms[name] = describe(child)
      add_lines(name .. "  ", out.platforms[name])
    end
  end
end
ep:close()
cli.note("%s", top.digest)
cli.output(out, lines)
