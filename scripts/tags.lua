-- List the tags of an image repository (every page), optionally only semver ones by precedence.
--
-- usage: hoist tags REF [--semver | --all] [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]
--
-- REF: docker://HOST/REPO (or HOST/REPO) or oci:DIR; a tag or digest in REF is ignored.
-- Without --semver the tags come in the registry's order (lexical for the distribution
-- registry); with --semver only valid semantic versions are listed, lowest to highest
-- precedence (floating tags such as latest, 1 and 1.2 are left out). The tags that only attach
-- things to an image by digest (sha256-<hex>.sig signatures, sha256-<hex> referrers indexes of
-- SBOMs and provenance) are not names of images and are left out unless --all. --json prints an array.
-- An unknown repository has no tags.
--
-- Exit codes: 0 listed (even when empty); 1 the registry or layout cannot be read; 2 usage.
local cli = require("hoist.cli")
local endpoint = require("hoist.endpoint")
local json = require("hoist.json")
local semver = require("hoist.semver")

local USAGE = "usage: hoist tags REF [--semver | --all] [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]"
local opts, args = cli.parse(arg, { usage = USAGE, options = cli.registry_options({
  ["--semver"] = { key = "semver" },
  ["--all"] = { key = "all" },
}) })
if opts.semver and opts.all then cli.usage_error("--semver lists versions only; --all lists every tag") end
if #args ~= 1 then cli.usage_error(USAGE) end
local ep, err, code = endpoint.open(args[1], { creds = opts.creds, insecure = opts.insecure, authfile = opts.authfile })
if not ep then cli.fail(code, err) end
local tags
tags, err = ep:tags()
ep:close()
if not tags then cli.fail(cli.EXIT.failure, err) end
-- sha256-<64 hex> and sha256-<64 hex>.sig (also cosign's .att and .sbom): attachments, not images
local function attachment(t) return t:match("^sha256%-%x+$") ~= nil and #t == 71 or t:match("^sha256%-%x+%.%a+$") ~= nil end
if not opts.all and not opts.semver then
  local named = {}
  for _, t in ipairs(tags) do if not attachment(t) then named[#named + 1] = t end end
  tags = named
end
if opts.semver then
  local versions = {}
  for _, t in ipairs(tags) do
    if semver.valid(t) and t:sub(1, 1) ~= "v" then versions[#versions + 1] = t end
  end
  tags = semver.sort(versions)
end
cli.output(json.array(tags), #tags > 0 and table.concat(tags, "\n") or nil)
