-- hoist.oci.core.parse_manifest: the binding of host/core/image/manifest.c (the C unit test covers each rule;
-- this checks the Lua shape, the error contract and what a release writes).
local t = require("testlib")
local core = require("hoist.oci.core")
local fs = require("hoist.fs")
local json = require("hoist.json")
local oci = require("hoist.oci")

local CASES = "../unit/cases/manifest/"
local function case(name) return assert(fs.read(CASES .. name .. ".json")) end

local OCI_M, OCI_I = "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json"
local DK_M, DK_L = "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json"

t.test("an OCI image: kind, media type, config and layers", function()
  local m = assert(core.parse_manifest(case("oci_image")))
  t.eq(m.kind, "image")
  t.eq(m.media_type, OCI_M)
  t.same(m.config, { mediaType = "application/vnd.oci.image.config.v1+json",
    digest = "sha256:a3a327c2b359404eb8330fb7a6fbaa74e83cad6aaf66c4f7125b4a93da48b32a", size = 2005 })
  t.eq(#m.layers, 3)
  t.same(m.layers[2], { mediaType = "application/vnd.oci.image.layer.v1.tar+gzip",
    digest = "sha256:7c5e0a5d72f242092e1d1933902cb96d57c4532f4dd8dd4b6a5569087bf3a4d0", size = 709 })
  t.eq(math.type(m.layers[1].size), "integer")
  t.same(m.manifests, {}, "an image has no children")
  t.eq(m.subject, nil)
  t.eq(m.annotations, nil)
end)

t.test("an OCI index: children with platforms, annotations", function()
  local m = assert(core.parse_manifest(case("oci_index"), OCI_I))
  t.eq(m.kind, "index")
  t.eq(m.media_type, OCI_I)
  t.eq(m.config, nil)
  t.same(m.layers, {})
  t.eq(#m.manifests, 2)
  t.same(m.manifests[2].platform, { os = "linux", architecture = "arm64" })
  t.eq(oci.platform_string(m.manifests[1].platform), "linux/amd64")
  t.eq(m.annotations["org.opencontainers.image.version"], "1.0.0")
end)

t.test("Docker manifest and list", function()
  local m = assert(core.parse_manifest(case("docker_manifest"), DK_M .. "; charset=utf-8"))
  t.eq(m.kind, "image")
  t.eq(m.media_type, DK_M)
  t.eq(m.config.mediaType, "application/vnd.docker.container.image.v1+json")
  local l = assert(core.parse_manifest(case("docker_list")))
  t.eq(l.kind, "index")
  t.eq(l.media_type, DK_L)
  t.same(l.manifests[3].platform, { os = "linux", architecture = "arm", variant = "v7" })
  t.same(l.manifests[4].platform, { os = "windows", architecture = "amd64", ["os.version"] = "10.0.17763.5329" })
end)

t.test("the kind from the hint, then from the shape", function()
  local body = case("shape_image")
  t.eq(assert(core.parse_manifest(body)).media_type, OCI_M)
  t.eq(assert(core.parse_manifest(body, "application/json")).media_type, OCI_M)
  t.eq(assert(core.parse_manifest(body, DK_M)).media_type, DK_M)
  t.eq(assert(core.parse_manifest(case("shape_index"))).kind, "index")
end)

t.test("artifacts: subject, artifactType, descriptor annotations", function()
  local m = assert(core.parse_manifest(case("artifact")))
  t.eq(m.artifact_type, "application/vnd.example.sbom.v1")
  t.eq(m.subject.digest, "sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f")
  t.eq(m.layers[1].annotations["org.opencontainers.image.title"], "sbom.spdx.json")
  local r = assert(core.parse_manifest(case("referrers_index")))
  t.eq(r.manifests[1].artifactType, "application/vnd.dev.cosign.artifact.sig.v1+json")
  t.eq(r.manifests[1].platform, nil)
end)

t.test("failures return nil, a message naming the field, a code", function()
  local function fails(body, hint, fragment, code)
    local m, err, c = core.parse_manifest(body, hint)
    t.eq(m, nil, fragment)
    t.ok(err:find(fragment, 1, true), string.format("%q in %q", fragment, err))
    t.eq(err:sub(1, 18), "invalid manifest: ")
    t.eq(c, code or "EINVAL")
  end
  fails("not json", nil, "not valid JSON")
  fails("[]", nil, "not a JSON object")
  fails(case("schema1"), nil, "schema 1 manifests are not supported")
  fails(case("oci_image"), DK_M, "'mediaType' is '" .. OCI_M .. "' but '" .. DK_M .. "' was expected")
  fails(case("size_negative"), nil, "'layers[0].size' is negative")
  fails(case("size_over_2_53"), nil, "is more than 2^53", "ERANGE")
  fails(case("digest_sha256_short"), nil, "'layers[0].digest'")
  fails(case("platform_os_number"), nil, "'manifests[1].platform.os' must be a string")
  fails(case("ambiguous"), nil, "ambiguous")
end)

t.test("misuse raises", function()
  t.raises(function() core.parse_manifest() end, "bad argument #1")
  t.raises(function() core.parse_manifest("{}", {}) end, "bad argument #2")
  t.raises(function() core.parse_manifest("{}", "a\0b") end, "NUL")
end)

t.test("what hoist.oci writes parses back to the same descriptors", function()
  local root = assert(fs.tmpdir("hoist-test-manifest"))
  local store = assert(oci.layout(root .. "/oci", { create = true }))
  assert(fs.write(root .. "/a.txt", "hello\n"))
  local layer = oci.layer(store, { { from = root .. "/a.txt", to = "/a.txt" } }, { root = root })
  local image = oci.image(store, { platform = "linux/arm64/v8", layers = { layer }, config = {} })
  local idx = oci.index(store, { image })
  local m = assert(core.parse_manifest(assert(store:blob(image.digest)), image.mediaType))
  t.eq(m.kind, "image")
  t.eq(m.layers[1].digest, layer.digest)
  t.eq(m.layers[1].size, layer.size)
  local i = assert(core.parse_manifest(assert(store:blob(idx.digest))))
  t.eq(i.manifests[1].digest, image.digest)
  t.same(i.manifests[1].platform, { os = "linux", architecture = "arm64", variant = "v8" })
  -- the layout's own index.json too
  assert(store:tag(idx, { "1.0.0" }))
  t.eq(assert(core.parse_manifest(assert(fs.read(root .. "/oci/index.json")))).kind, "index")
  t.eq(fs.remove(root), true)
end)

t.test("many inputs do not leak or crash (each truncation of a real index)", function()
  local body = case("docker_list")
  for n = 0, #body do
    local m, err = core.parse_manifest(body:sub(1, n))
    t.ok(m or type(err) == "string")
  end
  t.ok(json.decode(body), "the fixture is JSON")
end)

t.done()
