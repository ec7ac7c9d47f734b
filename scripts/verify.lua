-- Check an image's cosign signature with a public key (what skopeo's sigstoreSigned policy checks).
--
-- usage: hoist verify REF --key PUB [--identity HOST/REPO | --any-identity] [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]
--
-- Reads the sha256-<hex>.sig manifest beside the image REF names and accepts the image when one
-- of its signatures verifies with PUB (a PEM public key), signs exactly that digest, and names
-- the identity HOST/REPO (default: REF's repository, as skopeo's matchRepository; an oci: layout
-- has none, so give --identity or --any-identity). Signatures made by cosign or skopeo are read
-- the same way as hoist's.
--
-- Exit codes: 0 verified; 1 not signed, no valid signature, or unreadable; 2 usage or a missing
-- key file; 3 PUB is not a P-256 public key.
local cli = require("hoist.cli")
local endpoint = require("hoist.endpoint")
local sign = require("hoist.sign")

local USAGE = "usage: hoist verify REF --key PUB [--identity HOST/REPO | --any-identity] [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]"
local opts, args = cli.parse(arg, { usage = USAGE, options = cli.registry_options({
  ["--key"] = { key = "key", value = true },
  ["--identity"] = { key = "identity", value = true },
  ["--any-identity"] = { key = "any_identity" },
}) })
if #args ~= 1 or not opts.key or (opts.identity and opts.any_identity) then cli.usage_error(USAGE) end

local pub, kerr, kind = sign.load_public(opts.key)
if not pub then cli.fail(kind == "ENOENT" and "EUSAGE" or kind == "EIO" and "EIO" or "EINVAL", kerr) end
local ep, err, code = endpoint.open(args[1], { creds = opts.creds, insecure = opts.insecure, authfile = opts.authfile })
if not ep then cli.fail(code, err) end
if ep.transport ~= "docker" and not opts.identity and not opts.any_identity then
  ep:close()
  cli.usage_error("verifying " .. args[1] .. " needs --identity HOST/REPO or --any-identity")
end
local desc, rerr = ep:resolve()
if not desc then ep:close(); cli.fail(cli.EXIT.failure, rerr) end
local identity = opts.identity
if opts.any_identity then identity = false end
local ok, info = sign.verify(ep, desc, pub, { identity = identity })
ep:close()
if not ok then cli.fail(cli.EXIT.failure, info) end
cli.output({ verified = true, digest = desc.digest, identity = info.identity, key = info.key,
             signatures = info.signatures },
  "verified " .. desc.digest .. ": signed for " .. info.identity .. " by key " .. info.key)
