-- Check a built extension image like `docker extension validate`: tag, platforms, labels, files.
--
-- usage: hoist validate REF [--sdk VERSION] [--private] [--strict] [--creds USER:PASS] [--authfile FILE] [--insecure]
--                       [--json]
--
-- REF: oci:DIR[:TAG] or docker://HOST/REPO[:TAG|@DIGEST] (without TAG: the highest semver tag).
-- Manifests and configs are read, and layers top-down only as far as the checks need (from a
-- registry, a layer no answer depends on is not downloaded; --json says how much was read). The
-- checks: the tag is semver; the image is an index of linux/amd64 and linux/arm64 with nothing
-- else in it (an attestation manifest is a warning); every required extension label is set,
-- well-formed and identical on every platform; metadata.json is valid and every file it names
-- (icon, UI, compose file, host binaries) is in every platform's image (a host binary missing on
-- some platforms only is a warning); host binaries are executable, and the backend that runs this
-- image has a command whose program is in the image (PATH, symlinks and whiteouts followed).
-- --sdk VERSION  also check that the api.version label accepts that extension SDK version (like
--                `docker extension validate --sdk-compatibility`)
-- --private      an extension installed with `docker extension install`, not listed in the
--                Marketplace: the Marketplace-only labels and the semver tag give warnings
-- --strict       warnings count as problems
--
-- Exit codes: 0 valid (warnings, if any, as "warning: ..." lines on stderr); 3 problems (one line
-- each on stderr); 1 the image cannot be read; 2 usage.
local cli = require("hoist.cli")
local endpoint = require("hoist.endpoint")
local ref = require("hoist.ref")
local validate = require("hoist.validate")

local USAGE = "usage: hoist validate REF [--sdk VERSION] [--private] [--strict] [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]"
local opts, args = cli.parse(arg, { usage = USAGE, options = cli.registry_options({
  ["--sdk"] = { key = "sdk", value = true },
  ["--private"] = { key = "private" },
  ["--strict"] = { key = "strict" },
}) })
if #args ~= 1 then cli.usage_error(USAGE) end
if opts.sdk and not require("hoist.semver").valid(opts.sdk) then
  cli.usage_error("invalid --sdk '" .. opts.sdk .. "' (an extension SDK version like 0.3.4)")
end
local r, err = ref.parse(args[1])
if not r then cli.usage_error(err) end
if r.transport == "docker-archive" then
  cli.usage_error("validate reads oci:DIR[:TAG] or docker://HOST/REPO[:TAG]; docker-archive files are write-only")
end
local ep, eerr, ecode = endpoint.open(r, { creds = opts.creds, insecure = opts.insecure, authfile = opts.authfile })
if not ep then cli.fail(ecode or cli.EXIT.failure, eerr) end
local src = validate.endpoint_source(ep)
local problems, summary = validate.image(src, r.digest or r.tag, { private = opts.private, sdk = opts.sdk })
ep:close()
if not problems then cli.fail(cli.EXIT.failure, summary) end
local warnings = summary.warnings
if opts.strict then
  for _, w in ipairs(warnings) do problems[#problems + 1] = w end
  warnings = {}
end
local result = { reference = args[1], tag = summary.tag, digest = summary.digest,
                 platforms = require("hoist.json").array(summary.platforms),
                 valid = #problems == 0, problems = require("hoist.json").array(problems),
                 layers = summary.layers, read = summary.read }
cli.warnings(warnings, result)
if #problems > 0 then
  cli.problems(problems, { title = "hoist validate" })
  cli.fail("EINVAL", string.format("%s:%s has %d problem%s", src.display, summary.tag,
    #problems, #problems == 1 and "" or "s"), { result = result, problems = problems, warnings = warnings })
end
cli.output(result, string.format("%s:%s passes the validation checks (%s)%s", src.display, summary.tag,
  table.concat(summary.platforms, ", "), #warnings > 0 and string.format(", with %d warning%s", #warnings,
  #warnings == 1 and "" or "s") or ""))
