-- Release a Docker extension: validate, build every platform, publish, tag by semver.
--
-- usage: hoist release [DIR] --version V | --bump major|minor|patch|prerelease[:ID]
--                      [--to REF] [--platform LIST] [--latest] [--float] [--force]
--                      [--dry-run] [--push-by-digest] [--sdk VERSION] [--private] [--strict] [--json]
--
-- DIR holds extension.lua (default: the current folder). REF is where the image goes:
--   oci:DIR                         an OCI image layout (default: oci:dist/oci)
--   docker-archive:FILE[:REPO:TAG]  a tarball for `docker load` (one platform: use --platform)
--   docker://HOST[:PORT]/REPO       a registry (HOST alone: the repository is extension.lua's name)
-- --creds USER:PASSWORD  credentials for the registry (plain HTTP is used for loopback registries)
-- --insecure         plain HTTP or unverified TLS for a registry that is not on loopback
-- --version V        the version to release (a leading 'v' is dropped; build metadata goes to
--                    the org.opencontainers.image.version label, not the tag)
-- --bump KIND        the next version after the highest semver tag at REF (0.0.0 if none)
-- --platform LIST    comma-separated platforms instead of extension.lua's
-- --latest           also tag 'latest' when this is the highest stable version
-- --float            also move the MAJOR and MAJOR.MINOR tags when this is the highest in its line
-- --force            replace an existing version tag
-- --dry-run          print what would be built and tagged; change nothing
-- --push-by-digest   write the image without tags (one platform allowed; see `hoist index`)
-- --sdk VERSION      also check that the api.version label accepts that extension SDK version
--                    (like `docker extension validate --sdk-compatibility`; extension.lua's `sdk`)
-- --private          an extension installed with `docker extension install`, not listed in the
--                    Marketplace (as `marketplace = false`): the Marketplace-only labels give warnings
-- --strict           warnings count as problems
--
-- Exit codes: 0 released (warnings, if any, as "warning: ..." lines on stderr); 1 the destination
-- failed or the tag exists; 2 usage; 3 the extension has problems (each printed on its own line;
-- nothing is built).
local cli = require("hoist.cli")
local release = require("hoist.release")

local USAGE = "usage: hoist release [DIR] --version V | --bump KIND [--to REF] [--platform LIST] " ..
  "[--latest] [--float] [--force] [--dry-run] [--push-by-digest] [--sdk VERSION] [--private] [--strict] [--json]"

local opts, args = cli.parse(arg, {
  usage = USAGE,
  options = {
    ["--version"] = { key = "version", value = true },
    ["--bump"] = { key = "bump", value = true },
    ["--to"] = { key = "to", value = true },
    ["--platform"] = { key = "platform", value = true },
    ["--latest"] = { key = "latest" },
    ["--float"] = { key = "float" },
    ["--force"] = { key = "force" },
    ["--dry-run"] = { key = "dry_run" },
    ["--push-by-digest"] = { key = "push_by_digest" },
    ["--creds"] = { key = "creds", value = true },
    ["--insecure"] = { key = "insecure" },
    ["--sdk"] = { key = "sdk", value = true },
    ["--private"] = { key = "private" },
    ["--strict"] = { key = "strict" },
  },
})
if #args > 1 then cli.usage_error("one extension folder at most; " .. USAGE) end
if opts.version and opts.bump then cli.usage_error("give --version or --bump, not both") end
opts.dir = args[1] or "."
if opts.platform then
  opts.platforms = {}
  for p in opts.platform:gmatch("[^,%s]+") do opts.platforms[#opts.platforms + 1] = p end
  opts.platform = nil   -- release.context knows `platforms` only
end
if opts.sdk and not require("hoist.semver").valid(opts.sdk) then
  cli.usage_error("invalid --sdk '" .. opts.sdk .. "' (an extension SDK version like 0.3.4)")
end

local ctx = release.context(opts)
local result, err, kind = release.run(ctx)
if not result then
  for _, p in ipairs(ctx.problems) do io.stderr:write(p, "\n") end
  cli.warnings(ctx.warnings)
  cli.fail(kind or "EIO", err, { problems = ctx.problems, warnings = ctx.warnings })
end
local lines
if opts.dry_run then lines = err else result, lines = release.report(ctx) end
cli.warnings(ctx.warnings, result)
cli.output(result, lines)
