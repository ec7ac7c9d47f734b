-- Copy an image or index with all its platforms from one place to another.
--
-- usage: hoist copy SRC DST [--platform P] [--force] [--creds USER:PASS] [--src-creds USER:PASS]
--                   [--dest-creds USER:PASS] [--authfile FILE] [--insecure] [--json]
--
-- SRC: docker://HOST/REPO[:TAG|@DIGEST] (or HOST/REPO...) or oci:DIR[:TAG].
-- DST: the same forms, or docker-archive:FILE[:REPO:TAG] (one platform: --platform, default
--      this machine's). DST's tag defaults to SRC's; a SRC named by digest and a registry DST
--      without a tag copies untagged (by digest); an OCI layout DST must then name the tag
--      (a layout entry without a name is invisible to other tools).
-- A version tag (semver) at DST is immutable, as in release, promote and index: one pointing at
-- other content is refused (exit 1) unless --force. Other tags (latest, dev) move.
-- Blobs the destination has are skipped; within one registry they are mounted, not sent;
-- between registries each missing blob is streamed through a temporary file. Manifests are
-- copied byte for byte (digests do not change), children before their index, and the tag is
-- written last, so a failure never leaves a tag pointing at something missing.
-- Signatures (sha256-<hex>.sig) and referrers (sha256-<hex>: SBOMs, provenance) of every manifest
-- copied go along, merged with any the destination has, before the tag (not into a
-- docker-archive). A signature names the repository it was made for: a copy to another
-- repository needs `hoist sign` there to verify under a matchRepository policy.
-- --creds applies to both sides; --src-creds / --dest-creds to one; --authfile FILE is read first
-- for stored credentials (like skopeo's).
-- Output: the digest and tags; --json prints {"source", "destination", "digest", "tags",
-- "blobs": {"existing", "mounted", "uploaded", "uploaded_bytes"}, "manifests"}.
--
-- Exit codes: 0 copied; 1 a side cannot be read or written; 2 usage.
local cli = require("hoist.cli")
local copy = require("hoist.copy")
local endpoint = require("hoist.endpoint")
local json = require("hoist.json")
local ref = require("hoist.ref")

local USAGE = "usage: hoist copy SRC DST [--platform P] [--force] [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]"
local opts, args = cli.parse(arg, { usage = USAGE, options = cli.registry_options({
  ["--platform"] = { key = "platform", value = true },
  ["--force"] = { key = "force" },
  ["--src-creds"] = { key = "src_creds", value = true },
  ["--dest-creds"] = { key = "dest_creds", value = true },
}) })
if #args ~= 2 then cli.usage_error(USAGE) end
local sref, err = ref.parse(args[1])
if not sref then cli.usage_error(err) end
local dref
dref, err = ref.parse(args[2])
if not dref then cli.usage_error(err) end
if sref.transport == "docker-archive" then cli.usage_error("docker-archive is write-only: it cannot be a source") end
if opts.platform and dref.transport ~= "docker-archive" then
  cli.usage_error("--platform chooses the one platform of a docker-archive; other destinations get all")
end

local src, code
src, err, code = endpoint.open(sref, { creds = opts.src_creds or opts.creds, insecure = opts.insecure,
                                      authfile = opts.authfile })
if not src then cli.fail(code, err) end
local dst = dref
if dref.transport ~= "docker-archive" then
  dst, err, code = endpoint.open(dref, { creds = opts.dest_creds or opts.creds, insecure = opts.insecure,
                                         create = true, authfile = opts.authfile })
  if not dst then src:close(); cli.fail(code, err) end
end
local result
result, err, code = copy.run(src, dst, { platform = opts.platform, force = opts.force })
src:close()
if dst.close then dst:close() end
if not result then cli.fail(code or cli.EXIT.failure, err) end
local b = result.blobs
local carried = ""
if (result.signatures or 0) + (result.referrers or 0) > 0 then
  carried = string.format("; with %d signature%s and %d referrer%s", result.signatures, result.signatures == 1 and "" or "s",
    result.referrers, result.referrers == 1 and "" or "s")
end
cli.output({ source = args[1], destination = args[2], digest = result.digest, tags = json.array(result.tags),
             blobs = b, manifests = result.manifests, signatures = result.signatures or 0,
             referrers = result.referrers or 0 },
  string.format("copied %s to %s%s (%d blobs sent, %d mounted, %d already there%s)", result.digest,
    dst.display or args[2], #result.tags > 0 and (" as " .. table.concat(result.tags, ", ")) or "",
    b.uploaded, b.mounted, b.existing, carried))
