-- Release a Docker extension: validate, build every platform, publish, tag by semver.
--
-- usage: hoist release [DIR] --version V | --bump major|minor|patch|prerelease[:ID]
--                      [--to REF] [--platform LIST] [--latest] [--float] [--force]
--                      [--dry-run] [--push-by-digest] [--sdk VERSION] [--private] [--strict]
--                      [--sign KEY] [--identity HOST/REPO] [--no-sbom] [--no-provenance]
--                      [--sbom] [--provenance] [--label KEY=VALUE]... [--tag TAG]...
--                      [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]
--
-- DIR holds extension.lua (default: the current folder). REF is where the image goes:
--   oci:DIR                         an OCI image layout (default: oci:dist/oci)
--   docker-archive:FILE[:REPO:TAG]  a tarball for `docker load` (one platform: use --platform)
--   docker://HOST[:PORT]/REPO       a registry (HOST alone: the repository is extension.lua's name)
-- --creds USER:PASSWORD  credentials for the registry (plain HTTP is used for loopback registries)
-- --authfile FILE    credentials looked up in FILE first (like skopeo and podman; it must exist)
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
-- --sign KEY         sign the index and every platform manifest (cosign's format) with the
--                    private key KEY; the password of an encrypted key comes from
--                    HOIST_SIGNING_PASSWORD. The key is loaded before anything is built: a missing
--                    key is exit 2, one that cannot be used exit 3, and nothing is written
-- --identity H/R     the repository a release into an OCI layout is signed as (a registry: REF's)
-- --no-sbom, --no-provenance   leave out the SPDX SBOM per platform image / the SLSA provenance,
--                    which a registry release attaches by default (OCI 1.1 referrers)
-- --sbom, --provenance         attach them to a release into an OCI layout too
-- --label KEY=VALUE  an extra label on every platform image (repeatable; not the labels hoist
--                    checks, which come from extension.lua)
-- --tag TAG          an extra tag written with the version (repeatable); a version-like tag is
--                    immutable like the version, others move
--
-- Signatures and attestations are keyed by digest and written before the version tag, which is
-- written last. Under GitHub Actions (GITHUB_ACTIONS=true) problems are also printed as workflow
-- annotations and the result is appended to $GITHUB_STEP_SUMMARY.
--
-- Exit codes: 0 released (warnings, if any, as "warning: ..." lines on stderr); 1 the destination
-- failed or the tag exists; 2 usage (or a missing --sign key); 3 the extension has problems (each
-- printed on its own line; nothing is built), or the --sign key cannot be used.
local cli = require("hoist.cli")
local release = require("hoist.release")

local USAGE = "usage: hoist release [DIR] --version V | --bump KIND [--to REF] [--platform LIST] " ..
  "[--latest] [--float] [--force] [--dry-run] [--push-by-digest] [--sdk VERSION] [--private] [--strict] " ..
  "[--sign KEY] [--identity HOST/REPO] [--no-sbom] [--no-provenance] [--label KEY=VALUE]... [--tag TAG]... [--json]"

local opts, args = cli.parse(arg, {
  usage = USAGE,
  options = cli.registry_options({
    ["--version"] = { key = "version", value = true },
    ["--bump"] = { key = "bump", value = true },
    ["--to"] = { key = "to", value = true },
    ["--platform"] = { key = "platform", value = true },
    ["--latest"] = { key = "latest" },
    ["--float"] = { key = "float" },
    ["--force"] = { key = "force" },
    ["--dry-run"] = { key = "dry_run" },
    ["--push-by-digest"] = { key = "push_by_digest" },
    ["--sdk"] = { key = "sdk", value = true },
    ["--private"] = { key = "private" },
    ["--strict"] = { key = "strict" },
    ["--sign"] = { key = "sign", value = true },
    ["--identity"] = { key = "identity", value = true },
    ["--no-sbom"] = { key = "no_sbom" },
    ["--no-provenance"] = { key = "no_provenance" },
    ["--sbom"] = { key = "sbom" },
    ["--provenance"] = { key = "provenance" },
    ["--label"] = { key = "label", value = true, list = true },
    ["--tag"] = { key = "tag", value = true, list = true },
  }),
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
if opts.sbom and opts.no_sbom then cli.usage_error("--sbom and --no-sbom contradict each other") end
if opts.provenance and opts.no_provenance then cli.usage_error("--provenance and --no-provenance contradict each other") end
if opts.no_sbom then opts.sbom = false end
if opts.no_provenance then opts.provenance = false end
opts.no_sbom, opts.no_provenance = nil, nil
if opts.label then
  local labels = {}
  for _, kv in ipairs(opts.label) do
    local k, v = kv:match("^([^=]+)=(.*)$")
    if not k then cli.usage_error("--label needs KEY=VALUE, got '" .. kv .. "'") end
    if labels[k] then cli.usage_error("--label " .. k .. " is given twice") end
    labels[k] = v
  end
  opts.labels, opts.label = labels, nil
end
if opts.tag then opts.tags, opts.tag = opts.tag, nil end

local ctx = release.context(opts)
local result, err, kind = release.run(ctx)
local summary = require("hoist.summary")
if not result then
  cli.problems(ctx.problems, { file = ctx.desc and ctx.desc.path, title = "hoist release" })
  cli.warnings(ctx.warnings)
  summary.release_failed(ctx, err)
  cli.fail(kind or "EIO", err, { problems = ctx.problems, warnings = ctx.warnings })
end
local lines
if opts.dry_run then lines = err else result, lines = release.report(ctx) end
cli.warnings(ctx.warnings, result)
if not opts.dry_run then summary.release(result) end
cli.output(result, lines)
