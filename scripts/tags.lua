-- List the tags of an image repository (every page), optionally only semver ones by precedence.
--
-- usage: hoist tags REF [--semver] [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]
--
-- REF: docker://HOST/REPO (or HOST/REPO) or oci:DIR; a tag or digest in REF is ignored.
-- Without --semver the tags come in the registry's order (lexical for the distribution
-- registry); with --semver only valid semantic versions are listed, lowest to highest
-- precedence (floating tags such as latest, 1 and 1.2 are left out). --json prints an array.
-- An unknown repository has no tags.
--
-- Exit codes: 0 listed (even when empty); 1 the registry or layout cannot be read; 2 usage.
local cli = require("hoist.cli")
local endpoint = require("hoist.endpoint")
local json = require("hoist.json")
local semver = require("hoist.semver")

local USAGE = "usage: hoist tags REF [--semver] [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]"
local opts, args = cli.parse(arg, { usage = USAGE, options = cli.registry_options({
  ["--semver"] = { key = "semver" },
}) })
if #args ~= 1 then cli.usage_error(USAGE) end
local ep, err, code = endpoint.open(args[1], { creds = opts.creds, insecure = opts.insecure, authfile = opts.authfile })
if not ep then cli.fail(code, err) end
local tags
tags, err = ep:tags()
ep:close()
if not tags then cli.fail(cli.EXIT.failure, err) end
if opts.semver then
  local versions = {}
  for _, t in ipairs(tags) do
    if semver.valid(t) and t:sub(1, 1) ~= "v" then versions[#versions + 1] = t end
  end
  tags = semver.sort(versions)
end
cli.output(json.array(tags), #tags > 0 and table.concat(tags, "\n") or nil)
