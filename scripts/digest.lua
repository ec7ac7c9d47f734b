-- Print the digest a reference resolves to (an index, or an image).
--
-- usage: hoist digest REF [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]
--
-- REF: docker://HOST/REPO[:TAG|@DIGEST] or oci:DIR[:TAG|@DIGEST] (default tag: latest). Prints
-- sha256:... on stdout, the digest of the manifest or index exactly as the registry or layout
-- stores it (what `REF@DIGEST` pulls, what signatures name), like `crane digest` or
-- `skopeo inspect --format '{{.Digest}}'` without reading the platform image. --json prints
-- {"reference", "digest", "mediaType", "size"}.
--
-- Exit codes: 0 printed; 1 not found or unreadable; 2 usage.
local cli = require("hoist.cli")
local endpoint = require("hoist.endpoint")

local USAGE = "usage: hoist digest REF [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]"
local opts, args = cli.parse(arg, { usage = USAGE, options = cli.registry_options({}) })
if #args ~= 1 then cli.usage_error(USAGE) end
local ep, err, code = endpoint.open(args[1], { creds = opts.creds, insecure = opts.insecure, authfile = opts.authfile })
if not ep then cli.fail(code, err) end
local desc, rerr, rcode = ep:resolve()
ep:close()
if not desc then cli.fail(rcode or "EREMOTE", rerr) end
cli.output({ reference = args[1], digest = desc.digest, mediaType = desc.mediaType, size = desc.size }, desc.digest)
