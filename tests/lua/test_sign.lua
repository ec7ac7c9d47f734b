-- hoist.sign and hoist.attest without a registry: payload bytes, keys, base64, layer application
-- (whiteouts, opaque folders, hard links), document determinism, option checking.
local t = require("testlib")
local attest = require("hoist.attest")
local core = require("hoist.sign.core")
local fs = require("hoist.fs")
local json = require("hoist.json")
local oci = require("hoist.oci")
local sign = require("hoist.sign")

local D = "sha256:" .. string.rep("ab", 32)
local dir = assert(fs.tmpdir("hoist-test-sign"))

t.test("the payload is cosign's, byte for byte", function()
  t.eq(sign.payload(D, "reg.example/acme/hello"),
    '{"critical":{"identity":{"docker-reference":"reg.example/acme/hello"},"image":{"docker-manifest-digest":"' ..
    D .. '"},"type":"cosign container image signature"},"optional":null}')
  t.eq(json.decode(sign.payload(D, "r/x", { b = "2", a = "1" })).optional.a, "1")
  t.eq(sign.tag_for(D), "sha256-" .. string.rep("ab", 32) .. ".sig")
  t.eq(attest.referrers_tag(D), "sha256-" .. string.rep("ab", 32))
  t.raises(function() sign.payload("sha256:xyz", "r/x") end, "a digest expected")
  t.raises(function() sign.payload(D, "") end, "identity")
end)

t.test("identities compare as repositories", function()
  t.eq(sign._repository_of("index.docker.io/library/alpine"), "docker.io/library/alpine")
  t.eq(sign._repository_of("localhost:5000/acme/x:1.0.0"), "localhost:5000/acme/x")
  t.eq(sign._repository_of("localhost:5000/acme/x@" .. D), "localhost:5000/acme/x")
  t.eq(sign._repository_of("localhost:5000/acme/x"), "localhost:5000/acme/x")
end)

t.test("base64 is strict", function()
  for _, s in ipairs({ "", "f", "fo", "foo", "foob", "fooba", "foobar", "\0\255\128" }) do
    t.eq(core.base64_decode(core.base64_encode(s)), s)
  end
  t.eq(core.base64_encode("foob"), "Zm9vYg==")
  for _, bad in ipairs({ "Zm9vYg=", "Zm9vYh==", "Zm9v\nYg==", "Zm=vYg==", "====", "Zm9vY!==" }) do
    t.eq(core.base64_decode(bad), nil, "decoding '" .. bad .. "'")
  end
end)

t.test("keys: generate, write, load back, sign, verify", function()
  local key, info = assert(sign.generate({ out = dir .. "/k", password = false }))
  t.eq(info.private, dir .. "/k.key")
  t.eq(fs.stat(info.private).mode & 511, 384, "mode 0600")
  local priv = assert(sign.load_private(info.private, false))
  local pub = assert(sign.load_public(info.public))
  t.eq(pub:id(), key:id())
  t.ok(not pub:is_private() and priv:is_private())
  local sig = priv:sign("payload")
  t.ok(pub:verify("payload", sig))
  t.eq(pub:verify("payloaD", sig), false)
  t.eq(pub:verify("payload", "not base64!"), false)
  -- ECDSA signatures are randomized: two differ, both verify
  local sig2 = priv:sign("payload")
  t.ok(sig2 ~= sig and pub:verify("payload", sig2))
  t.raises(function() pub:sign("x") end, "a public key cannot sign")
  local _, err, kind = sign.generate({ out = dir .. "/k", password = false })
  t.eq(kind, "EEXIST")
  t.ok(err:find("never overwritten", 1, true))
end)

t.test("keys: passwords and formats", function()
  for _, format in ipairs({ "pkcs8", "cosign" }) do
    local p = dir .. "/" .. format
    assert(sign.generate({ out = p, password = "s3cret", format = format }))
    t.ok(assert(sign.load_private(p .. ".key", "s3cret")):is_private())
    local k, err, kind = sign.load_private(p .. ".key", "wrong")
    t.eq(k, nil)
    t.eq(kind, "EAUTH")
    t.ok(err:find("wrong password", 1, true), err)
    t.ok(not err:find("s3cret", 1, true), "the password is not in the message")
    _, err, kind = sign.load_private(p .. ".key", false)
    t.eq(kind, "EAUTH", format .. " without a password: " .. tostring(err))
  end
  -- cosign's format with an empty password (what `cosign generate-key-pair` makes without one)
  assert(sign.generate({ out = dir .. "/empty", password = false, format = "cosign" }))
  t.ok(assert(sign.load_private(dir .. "/empty.key", "")):is_private())
  local _, _, kind = sign.load_private(dir .. "/nope.key")
  t.eq(kind, "ENOENT")
  _, _, kind = sign.load_private(dir .. "/k.pub")
  t.eq(kind, "EINVAL")
  _, _, kind = sign.load_public(dir .. "/k.key")
  t.eq(kind, "EINVAL")
  t.raises(function() sign.generate({ outt = "x" }) end, "bad option 'outt'")
  t.raises(function() sign.generate({ format = "rsa" }) end, "format must be")
end)

local function f(name, content, extra)
  local e = { name = name, type = "f", sha256 = oci.digest(content):sub(8), sha1 = core.sha1(content), size = #content, mode = 420 }
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end
local function paths(map)
  local out = {}
  for p in pairs(map) do out[#out + 1] = p end
  table.sort(out)
  return table.concat(out, " ")
end

t.test("layers apply like a container runtime", function()
  local l1 = { { name = "etc", type = "d" }, f("etc/a", "1"), f("etc/b", "2"), { name = "opt", type = "d" },
               f("opt/x", "x"), f("opt/sub/y", "y"), f("dir-to-file/z", "z"), f("file-to-dir", "f") }
  local l2 = { f("etc/.wh.a", ""), f("opt/.wh..wh..opq", ""), f("opt/new", "n"), f("dir-to-file", "now a file"),
               { name = "file-to-dir", type = "d" }, f("file-to-dir/in", "i"),
               { name = "etc/hard", type = "h", link = "etc/b" }, { name = "etc/sym", type = "l", link = "b" } }
  local l3 = { f(".wh.etc", ""), f("etc/again", "g") }
  l1, l2, l3 = core.layer_list(l1), core.layer_list(l2), core.layer_list(l3)
  local m = attest._apply_layers({ l1, l2 })
  t.eq(paths(m), "dir-to-file etc/b etc/hard file-to-dir/in opt/new")
  t.eq(m["etc/hard"].sha256, m["etc/b"].sha256)
  m = attest._apply_layers({ l1, l2, l3 })
  t.eq(paths(m), "dir-to-file etc/again file-to-dir/in opt/new")
  -- a hard link to a file of its own layer that a later entry of that layer took away
  -- (a file replacing its folder) still has the content it linked to
  local l4 = core.layer_list({ { name = "d", type = "d" }, f("d/x", "x"), f("d", "now a file"),
                               { name = "hx", type = "h", link = "d/x" } })
  m = attest._apply_layers({ l4 })
  t.eq(paths(m), "d hx")
  t.eq(m.hx.sha256, oci.digest("x"):sub(8))
  -- an opaque folder at the root, and many whiteouts and re-adds (tombstones in the C table)
  local many, back = {}, {}
  for i = 1, 3000 do many[#many + 1] = f("m/f" .. i, tostring(i)) end
  for i = 1, 3000, 2 do back[#back + 1] = f("m/.wh.f" .. i, "") end
  for i = 1, 3000, 4 do back[#back + 1] = f("m/f" .. i, "again") end
  m = attest._apply_layers({ core.layer_list(many), core.layer_list(back) })
  local n = 0
  for _ in pairs(m) do n = n + 1 end
  t.eq(n, 1500 + 750)
  t.eq(m["m/f1"].sha256, oci.digest("again"):sub(8))
  t.eq(m["m/f3"], nil)
  t.eq(m["m/f2"].sha256, oci.digest("2"):sub(8))
  m = attest._apply_layers({ l1, core.layer_list({ f(".wh..wh..opq", ""), f("new", "n") }) })
  t.eq(paths(m), "new")
  -- the list type: entries back as tables, misuse raises
  t.same(core.layer_list({ { name = "./a/", type = "d", mode = 493 } }):entries(), { { name = "a", type = "d", mode = 493 } })
  t.eq(#l1, 8)
  t.raises(function() core.layer_list({ { name = "a", type = "f" } }) end, "needs sha256 and sha1")
  t.raises(function() core.layer_list({ { name = "a", type = "q" } }) end, "needs a name, a type")
  t.raises(function() core.image_files({ {} }) end, "hoist.LayerFiles")
end)

t.test("provenance is deterministic and checks its input", function()
  local o = { subject = { { name = "r/x", digest = D } }, version = "1.0.0", destination = "docker://r/x",
              inputs = { { name = "b", digest = D }, { name = "a", digest = D } }, git = { commit = "ABCDEF" } }
  local a, doc = attest.provenance(o)
  t.eq(a, (attest.provenance(o)))
  t.eq(doc.predicate.buildDefinition.resolvedDependencies[2].name, "a", "inputs sorted")
  t.eq(doc.predicate.buildDefinition.resolvedDependencies[1].digest.gitCommit, "abcdef")
  t.eq(doc.predicate.runDetails.metadata, nil)
  local _, d2 = attest.provenance({ subject = o.subject, created = 86400 })
  t.eq(d2.predicate.runDetails.metadata.startedOn, "1970-01-02T00:00:00Z")
  t.raises(function() attest.provenance({ subject = o.subject, verison = "1" }) end, "bad option 'verison'")
  t.raises(function() attest.provenance({}) end, "subject")
  t.raises(function() attest.provenance({ subject = o.subject, base = { name = "b", digest = "x" } }) end, "sha256 digest")
end)

t.test("an SBOM from a layout store: files, checksums, determinism", function()
  local store = assert(oci.layout(dir .. "/layout"))
  fs.mkdir(dir .. "/src/ui")
  fs.write(dir .. "/src/ui/index.html", "<html></html>")
  fs.write(dir .. "/src/metadata.json", "{}")
  local l1 = assert(oci.layer(store, { { from = dir .. "/src/metadata.json", to = "/metadata.json" } }, { cache = false }))
  local l2 = assert(oci.layer(store, { { from = dir .. "/src/ui", to = "/ui" } }, { cache = false }))
  local img = assert(oci.image(store, { platform = "linux/amd64", layers = { l1, l2 } }))
  local files = assert(attest.files(store, img, { cache = false }))
  t.eq(#files, 2)
  t.eq(files[1].path, "/metadata.json")
  t.eq(files[2].sha256, oci.digest("<html></html>"):sub(8))
  t.eq(files[2].sha1, core.sha1("<html></html>"))
  local a = assert(attest.sbom(store, img, { name = "acme/x", platform = "linux/amd64", cache = false }))
  t.eq(a, (attest.sbom(store, img, { name = "acme/x", platform = "linux/amd64", cache = false })))
  local doc = json.decode(a)
  t.eq(select(2, attest.sbom(store, img, { cache = false })).files, 2)
  t.eq(doc.spdxVersion, "SPDX-2.3")
  t.eq(doc.files[2].fileName, "./ui/index.html")
  t.eq(doc.creationInfo.created, "1970-01-01T00:00:00Z")
  t.raises(function() attest.sbom(store, img, { nmae = "x" }) end, "bad option 'nmae'")
  -- prepare reads every layer once into the memo; sbom then needs no layer file at all
  local memo = {}
  t.ok(attest.prepare(store, { img }, { memo = memo, cache = false }))
  t.ok(memo[l1.digest] and memo[l2.digest], "both layers read")
  local gone = fs.rename(store:blob_path(l2.digest), dir .. "/moved")
  t.ok(gone)
  t.eq(select(2, assert(attest.sbom(store, img, { memo = memo, cache = false }))).files, 2)
  local _, perr = attest.sbom(store, img, { cache = false })
  t.ok(perr and perr:find("is not in", 1, true), "without the memo the missing layer is noticed: " .. tostring(perr))
  fs.rename(dir .. "/moved", store:blob_path(l2.digest))
  -- with the SBOM's files part in the cache (an unchanged re-release), prepare reads no layer
  -- list at all, and the SBOM is the same bytes
  local cache = dir .. "/sbom-cache"
  local first = assert(attest.sbom(store, img, { name = "acme/x", platform = "linux/amd64", cache = cache }))
  t.eq(first, a, "the same document with a cache")
  local memo2 = {}
  t.ok(attest.prepare(store, { img }, { memo = memo2, cache = cache }))
  t.eq(next(memo2), nil, "no layer list read")
  t.eq((attest.sbom(store, img, { name = "acme/x", platform = "linux/amd64", cache = cache, memo = memo2 })), a)
  t.raises(function() attest.prepare(store, { img }, {}) end, "opts.memo")
  local idx = assert(oci.index(store, { img }))
  local _, err, kind = attest.sbom(store, idx, { cache = false })
  t.eq(kind, "EINVAL")
  t.ok(err:find("not an image manifest", 1, true), err)
end)

t.test("artifacts and signatures in a layout endpoint", function()
  local endpoint = require("hoist.endpoint")
  local ep = assert(endpoint.open("oci:" .. dir .. "/layout"))
  local store = ep.store
  local img = assert(oci.image(store, { platform = "linux/amd64", layers = {} }))
  local desc = { mediaType = oci.MEDIA.manifest, digest = img.digest, size = img.size }
  local res = assert(attest.attach_all(ep, {
    { subject = desc, artifact = { artifactType = attest.SPDX_MEDIA_TYPE, data = "{\"a\":1}" } },
    { subject = desc, artifact = { artifactType = attest.INTOTO_MEDIA_TYPE, data = "{\"b\":2}", annotations = { x = "y" } } },
  }))
  t.ok(res[1].added and res[2].added)
  local again = assert(attest.attach(ep, desc, { artifactType = attest.SPDX_MEDIA_TYPE, data = "{\"a\":1}" }))
  t.eq(again.added, false)
  t.eq(again.digest, res[1].digest)
  local list = assert(attest.referrers(ep, desc))
  t.eq(#list, 2)
  t.eq(list[2].annotations.x, "y")
  t.eq(#assert(attest.referrers(ep, desc, { artifact_type = attest.INTOTO_MEDIA_TYPE })), 1)
  local data, m = assert(attest.fetch(ep, list[1]))
  t.eq(data, "{\"a\":1}")
  t.eq(m.subject.digest, desc.digest)
  t.eq(m.config.digest, attest.EMPTY.digest)
  t.raises(function() attest.attach(ep, desc, { artifactType = "x", data = "y", extra = 1 }) end, "bad option 'extra'")
  t.raises(function() attest.attach(ep, { digest = desc.digest }, { artifactType = "x", data = "y" }) end, "subject descriptor")
  -- signatures: made, found, refused for another identity or key, not duplicated
  local key = assert(sign.generate())
  local r = assert(sign.image(ep, desc, key, { identity = "reg.example/acme/x" }))
  t.ok(r.added and r.signatures == 1 and #r.children == 0)
  t.eq(assert(sign.image(ep, desc, key, { identity = "reg.example/acme/x" })).added, false)
  t.ok(sign.verify(ep, desc, key, { identity = "reg.example/acme/x:1.0.0" }))
  local ok, err, kind = sign.verify(ep, desc, key, { identity = "reg.example/acme/y" })
  t.eq(ok, nil)
  t.eq(kind, "EINVAL")
  t.ok(err:find("is for reg.example/acme/x, not reg.example/acme/y", 1, true), err)
  kind = select(3, sign.verify(ep, desc, assert(sign.generate()), { identity = false }))
  t.eq(kind, "EINVAL")
  kind = select(3, sign.verify(ep, { digest = D, mediaType = oci.MEDIA.manifest, size = 1 }, key))
  t.eq(kind, "ENOENT")
  t.raises(function() sign.image(ep, desc, key) end, "opts.identity")
  t.raises(function() sign.image(ep, desc, key, { identity = "r/x", recursve = true }) end, "bad option 'recursve'")
end)

fs.remove(dir)
t.done()
