-- Make a signing key pair for `hoist sign` (ECDSA P-256, PEM files).
--
-- usage: hoist key generate [--out PREFIX] [--cosign] [--force] [--json]
--
-- Writes PREFIX.key (the private key, mode 0600) and PREFIX.pub (the public key, for `hoist
-- verify`, skopeo's sigstoreSigned policies and `cosign verify --key`); PREFIX defaults to
-- "hoist". The private key is PKCS#8 PEM; with HOIST_SIGNING_PASSWORD set it is encrypted with
-- that password (PBES2, AES-256-CBC). --cosign writes cosign's own "ENCRYPTED SIGSTORE PRIVATE
-- KEY" format instead (scrypt + secretbox, the password from HOIST_SIGNING_PASSWORD or empty), the
-- one cosign and containers/image sign with. A key is never overwritten without --force. The
-- password is read from the environment only, never from the command line, and never printed.
--
-- Exit codes: 0 written; 1 cannot write; 2 usage (or the files exist).
local cli = require("hoist.cli")
local sign = require("hoist.sign")

local USAGE = "usage: hoist key generate [--out PREFIX] [--cosign] [--force] [--json]"
local opts, args = cli.parse(arg, { usage = USAGE, options = {
  ["--out"] = { key = "out", value = true },
  ["--cosign"] = { key = "cosign" },
  ["--force"] = { key = "force" },
} })
if #args ~= 1 or args[1] ~= "generate" then cli.usage_error(USAGE) end
local key, info, kind = sign.generate({ out = opts.out or "hoist", force = opts.force == true,
                                        format = opts.cosign and "cosign" or "pkcs8" })
if not key then cli.fail(kind == "EEXIST" and "EUSAGE" or kind or "EIO", info) end
local encrypted = opts.cosign or (os.getenv(sign.PASSWORD_ENV) or "") ~= ""
cli.output({ private = info.private, public = info.public, id = info.id, encrypted = encrypted == true,
             format = opts.cosign and "cosign" or "pkcs8" },
  { "private key  " .. info.private .. (encrypted and " (encrypted)" or " (not encrypted: set " .. sign.PASSWORD_ENV .. " to encrypt it)"),
    "public key   " .. info.public, "key id       " .. info.id })
