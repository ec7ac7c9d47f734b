-- What `release --sign KEY` with SBOMs and provenance would add after a release, in one process:
-- sign the index and its platform manifests, an SBOM per platform, one provenance statement, all
-- attached. usage: hoist run sign_attest.lua REF KEY [IDENTITY]
local attest = require("hoist.attest")
local endpoint = require("hoist.endpoint")
local oci = require("hoist.oci")
local sign = require("hoist.sign")
local ref, keyfile, identity = arg[1], arg[2], arg[3]
local key = assert(sign.load_private(keyfile))
local ep = assert(endpoint.open(ref))
local top = assert(ep:resolve())
local signed = assert(sign.image(ep, top, key, { identity = identity }))
local _, m = ep:manifest(top)
local memo, files, items = {}, 0, {}
assert(attest.prepare(ep, m.manifests, { memo = memo }))
for _, child in ipairs(m.manifests) do
  local sb, doc = assert(attest.sbom(ep, child, { name = identity or "bench", platform = oci.platform_string(child.platform), memo = memo }))
  files = files + doc.files
  items[#items + 1] = { subject = child, artifact = { artifactType = attest.SPDX_MEDIA_TYPE, data = sb } }
end
local pv = attest.provenance({ subject = { { name = identity or "bench", digest = top.digest } }, version = "1.0.0", destination = ref })
items[#items + 1] = { subject = top, artifact = { artifactType = attest.INTOTO_MEDIA_TYPE, data = pv,
                                                  annotations = { [attest.PREDICATE_ANNOTATION] = attest.SLSA_PREDICATE_TYPE } } }
assert(attest.attach_all(ep, items))
ep:close()
print(string.format("signed %d manifests, %d files in %d SBOMs", 1 + #signed.children, files, #m.manifests))
