-- Sign an image the way cosign does (the signatures cosign and containers/image read).
--
-- usage: hoist sign REF --key KEY [--identity HOST/REPO] [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]
--
-- REF: docker://HOST/REPO[:TAG|@DIGEST] or oci:DIR[:TAG|@DIGEST]; what it names (for a release,
-- the index) is signed. KEY: a PEM private key (`hoist key generate`; PKCS#8, encrypted PKCS#8, or
-- cosign's encrypted key). The password of an encrypted key comes from HOIST_SIGNING_PASSWORD,
-- never from an argument. The signature is a "cosign container image signature" of the digest for
-- the identity HOST/REPO (default: REF's repository; required for oci:), added as a layer of the
-- manifest tagged sha256-<hex>.sig beside the image (signatures already there are kept; the same
-- key signing the same image twice changes nothing). The key is loaded before anything is read or
-- written: a bad key leaves the destination untouched.
--
-- Exit codes: 0 signed; 1 registry or I/O failure; 2 usage, or the key file is missing;
-- 3 the key cannot be used (wrong password, no password, RSA or another curve, a public key).
local cli = require("hoist.cli")
local endpoint = require("hoist.endpoint")
local sign = require("hoist.sign")

local USAGE = "usage: hoist sign REF --key KEY [--identity HOST/REPO] [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]"
local opts, args = cli.parse(arg, { usage = USAGE, options = cli.registry_options({
  ["--key"] = { key = "key", value = true },
  ["--identity"] = { key = "identity", value = true },
}) })
if #args ~= 1 or not opts.key then cli.usage_error(USAGE) end

local key, kerr, kind = sign.load_private(opts.key)
if not key then cli.fail(kind == "ENOENT" and "EUSAGE" or kind == "EIO" and "EIO" or "EINVAL", kerr) end

local ep, err, code = endpoint.open(args[1], { creds = opts.creds, insecure = opts.insecure, authfile = opts.authfile })
if not ep then cli.fail(code, err) end
if ep.transport ~= "docker" and not opts.identity then
  ep:close()
  cli.usage_error("signing " .. args[1] .. " needs --identity HOST/REPO (the repository it will be published as)")
end
local desc, rerr = ep:resolve()
if not desc then ep:close(); cli.fail(cli.EXIT.failure, rerr) end
local res, serr = sign.image(ep, desc, key, { identity = opts.identity })
ep:close()
if not res then cli.fail(cli.EXIT.failure, serr) end
local added = res.added and 1 or 0
for _, c in ipairs(res.children) do if c.added then added = added + 1 end end
cli.output(res, (added > 0 and "signed " or "already signed ") .. desc.digest .. " as " .. res.identity ..
  (#res.children > 0 and (" with its " .. #res.children .. " platform manifests") or "") ..
  " (" .. endpoint.name(ep, res.tag) .. ", " .. res.signatures .. " signature" .. (res.signatures == 1 and "" or "s") .. ")")
