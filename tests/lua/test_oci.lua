-- hoist.oci: image layouts, layers (once, in parallel, cached), images and indexes whose
-- digests are those of the bytes stored.
local t = require("testlib")
local oci = require("hoist.oci")
local fs = require("hoist.fs")
local json = require("hoist.json")

local root = assert(fs.tmpdir("hoist-test-oci"))
local function P(rel) return root .. "/" .. rel end

-- The extension sources the layers are made of.
local src = P("src")
assert(fs.mkdir(src .. "/ui/assets"))
assert(fs.mkdir(src .. "/bin"))
assert(fs.write(src .. "/ui/index.html", "<html>hello</html>\n", { mode = "0644" }))
assert(fs.write(src .. "/ui/assets/app.js", string.rep("console.log(1);\n", 1000), { mode = "0644" }))
assert(fs.write(src .. "/metadata.json", '{"name":"test"}\n', { mode = "0644" }))
assert(fs.write(src .. "/bin/tool", "#!/bin/sh\necho tool\n", { mode = "0755" }))

local function ui_spec(compression)
  return { inputs = { { from = src .. "/ui", to = "/ui" } }, compression = compression }
end
local function bin_spec()
  return { inputs = { { from = src .. "/bin/tool", to = "/usr/bin/tool", mode = "0755" },
                      { from = src .. "/metadata.json", to = "/" } } }
end

-- The blobs of a layout, as a sorted list of hex names.
local function blobs(store) return assert(fs.list(store.blob_dir)) end

-- Checks that the top-level keys of a JSON object text appear in the given order.
local function keys_in_order(text, keys)
  local body = text:sub(2, -2):gsub("%b{}", "{}"):gsub("%b[]", "[]")  -- nested values out
  local last = 0
  for _, k in ipairs(keys) do
    local at = body:find('"' .. k .. '":', 1, true)
    t.ok(at, "key " .. k .. " present")
    t.ok(at > last, "key " .. k .. " after the previous one")
    last = at
  end
end

-- A document stored in the layout is canonical: sorted keys, compact, and named by its digest.
local function check_stored(store, desc, media)
  local bytes = assert(store:blob(desc.digest))
  t.eq(oci.digest(bytes), desc.digest, "digest of the stored bytes")
  t.eq(#bytes, desc.size, "size")
  t.eq(desc.mediaType, media, "media type")
  t.eq(json.encode(assert(json.decode(bytes)), { sort_keys = true }), bytes, "canonical JSON")
  return bytes, assert(json.decode(bytes))
end

t.test("digests", function()
  t.eq(oci.digest(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  t.eq(oci.digest("abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  local d, size = oci.digest_file(src .. "/metadata.json")
  t.eq(d, oci.digest('{"name":"test"}\n'))
  t.eq(size, 16)
  local ok, msg, code = oci.digest_file(P("no-such"))
  t.eq(ok, nil)
  t.ok(msg:find(P("no-such"), 1, true), msg)
  t.eq(code, "EIO")
  t.raises(function() oci.digest() end, "bad argument #1")
end)

t.test("media types", function()
  t.eq(oci.MEDIA.layer_gzip, "application/vnd.oci.image.layer.v1.tar+gzip")
  t.eq(oci.MEDIA.layer_zstd, "application/vnd.oci.image.layer.v1.tar+zstd")
  t.eq(oci.MEDIA.layer_tar, "application/vnd.oci.image.layer.v1.tar")
  t.eq(oci.MEDIA.manifest, "application/vnd.oci.image.manifest.v1+json")
end)

t.test("layout: creates oci-layout and blobs/sha256", function()
  local dir = P("layout1")
  local store = assert(oci.layout(dir))
  t.eq(fs.read(dir .. "/oci-layout"), '{"imageLayoutVersion":"1.0.0"}')
  t.eq(fs.stat(dir .. "/blobs/sha256").type, "dir")
  t.same(fs.list(dir), { "blobs", "oci-layout" })
  t.eq(tostring(store), "oci:" .. dir)
  -- opening it again changes nothing
  assert(fs.write(dir .. "/oci-layout", '{"imageLayoutVersion":"1.0.0"}'))
  assert(oci.layout(dir))
  t.eq(fs.read(dir .. "/oci-layout"), '{"imageLayoutVersion":"1.0.0"}')
  -- create = false opens only an existing layout
  assert(oci.layout(dir, { create = false }))
  local none, err = oci.layout(P("not-a-layout"), { create = false })
  t.eq(none, nil)
  t.ok(err:find("not an OCI image layout", 1, true), err)
  t.eq(fs.exists(P("not-a-layout")), false)
  t.raises(function() oci.layout("") end, "folder path expected")
end)

t.test("layout: put, read, has", function()
  local store = assert(oci.layout(P("layout2")))
  local d = assert(store:put_blob("hello blob", "text/plain"))
  t.same(d, { mediaType = "text/plain", digest = oci.digest("hello blob"), size = 10 })
  t.eq(store:has_blob(d.digest), true)
  t.eq(store:blob(d.digest), "hello blob")
  t.eq(store:blob_path(d.digest), store.blob_dir .. "/" .. d.digest:sub(8))
  t.same(blobs(store), { d.digest:sub(8) })
  -- the same bytes again: the same blob
  t.same(store:put_blob("hello blob", "text/plain"), d)
  t.same(blobs(store), { d.digest:sub(8) })
  local other = oci.digest("other")
  t.eq(store:has_blob(other), false)
  local none, msg, code = store:blob(other)
  t.eq(none, nil)
  t.eq(code, "ENOENT")
  t.ok(msg:find(other:sub(8), 1, true), msg)
  t.raises(function() store:has_blob("sha256:abc") end, "invalid digest")
  t.raises(function() store:blob("../../etc/passwd") end, "invalid digest")
end)

t.test("layout: tag, resolve, tags; index.json replaced atomically", function()
  local dir = P("layout3")
  local store = assert(oci.layout(dir))
  t.same(store:tags(), {})
  local none, msg = store:resolve("v1")
  t.eq(none, nil)
  t.ok(msg:find("'v1'", 1, true), msg)

  local d1 = assert(store:put_blob('{"one":1}', oci.MEDIA.manifest))
  local d2 = assert(store:put_blob('{"two":2}', oci.MEDIA.manifest))
  t.eq(store:tag(d1, "v1"), true)
  t.same(store:tags(), { "v1" })
  local r = assert(store:resolve("v1"))
  t.eq(r.digest, d1.digest)
  t.eq(r.size, d1.size)
  t.eq(r.mediaType, oci.MEDIA.manifest)
  t.eq(r.annotations[oci.REF_NAME], "v1")

  local text = assert(fs.read(dir .. "/index.json"))
  t.eq(text:sub(-1), "\n")
  local idx = assert(json.decode(text))
  t.eq(idx.schemaVersion, 2)
  t.eq(idx.mediaType, oci.MEDIA.index)
  t.eq(#idx.manifests, 1)

  -- a hard link to the old index.json still sees the old content after tagging:
  -- the file was replaced by rename, not rewritten in place
  assert(fs.link_or_copy(dir .. "/index.json", P("index.before")))
  t.eq(store:tag(d2, { "v2", "latest" }), true)
  t.eq(fs.read(P("index.before")), text)
  t.same(store:tags(), { "v1", "v2", "latest" })
  t.eq(store:resolve("latest").digest, d2.digest)

  -- moving a tag replaces its entry (and puts it last)
  t.eq(store:tag(d2, "v1"), true)
  t.same(store:tags(), { "v2", "latest", "v1" })
  t.eq(store:resolve("v1").digest, d2.digest)
  idx = assert(json.read(dir .. "/index.json"))
  t.eq(#idx.manifests, 3)
  -- nothing but the layout's own files in its folder (and the lock its tag writes take)
  t.same(fs.list(dir), { "blobs", "index.json", "index.json.lock", "oci-layout" })

  -- another Layout object on the same folder sees the same tags
  local again = assert(oci.layout(dir, { create = false }))
  t.same(again:tags(), { "v2", "latest", "v1" })

  -- several descriptors tagged at once, in order (a later item moves an earlier one's tag), with
  -- one rewrite of index.json (its inode changes once: a hard link to the old one keeps it)
  assert(fs.link_or_copy(dir .. "/index.json", P("index.before-all")))
  local before_all = fs.read(dir .. "/index.json")
  t.eq(store:tag_all({ { desc = d1, tags = { "a", "b" } }, { desc = d2, tags = { "b", "c" } } }), true)
  t.eq(fs.read(P("index.before-all")), before_all)
  t.same(store:tags(), { "v2", "latest", "v1", "a", "b", "c" })
  t.eq(store:resolve("a").digest, d1.digest)
  t.eq(store:resolve("b").digest, d2.digest)
  local ghost = { mediaType = oci.MEDIA.manifest, digest = oci.digest("not stored"), size = 10 }
  t.raises(function() store:tag_all({ { desc = d1, tags = { "x" } }, { desc = ghost, tags = { "y" } } }) end, "is not in")
  t.eq(store:resolve("x"), nil, "nothing of a refused batch is written")
end)

t.test("layout: a tag never points at a missing blob", function()
  local dir = P("layout4")
  local store = assert(oci.layout(dir))
  local ghost = { mediaType = oci.MEDIA.manifest, digest = oci.digest("not stored"), size = 10 }
  t.raises(function() store:tag(ghost, "v1") end, "is not in")
  t.eq(fs.exists(dir .. "/index.json"), false)
  t.same(store:tags(), {})
end)

t.test("layers: progress counts the file bytes read while building, and its errors come out", function()
  -- 8 MiB of words: long enough to be seen on the way, whatever the machine
  local big = P("progress-src")
  assert(fs.mkdir(big))
  local words = {}
  for i = 1, 4096 do words[i] = string.format("w%05d ", (i * 7919) % 100000) end
  local chunk = table.concat(words)
  local total = 0
  for f = 1, 8 do
    local text = string.rep(chunk, (1 << 20) // #chunk + 1):sub(1, 1 << 20)
    assert(fs.write(big .. "/f" .. f .. ".txt", text, { mode = "0644" }))
    total = total + #text
  end
  local store = assert(oci.layout(P("layout-progress")))
  local calls, last, last_done = {}, -1, nil
  local list = assert(oci.layers(store, { { inputs = { { from = big, to = "/data" } } } }, { mtime = 0, cache = false,
    progress = function(p)
      t.eq(p.total_bytes, total)
      t.ok(p.read_bytes >= last and p.read_bytes <= total, "read_bytes grows within the total")
      last = p.read_bytes
      last_done = p.done
      calls[#calls + 1] = p.read_bytes
    end }))
  t.eq(#list, 1)
  t.ok(#calls >= 1, "called at least at the end")
  t.eq(calls[#calls], total, "the last call has every byte")
  t.eq(last_done, true, "the last call says done")
  -- cached: nothing built, no call
  local store2 = assert(oci.layout(P("layout-progress2")))
  local cache = P("progress-cache")
  assert(oci.layers(store2, { { inputs = { { from = big, to = "/data" } } } }, { mtime = 0, cache = cache }))
  local again = 0
  assert(oci.layers(store2, { { inputs = { { from = big, to = "/data" } } } }, { mtime = 0, cache = cache,
    progress = function() again = again + 1 end }))
  t.eq(again, 0)
  -- a progress function that raises: the build ends, then its error comes out
  local store3 = assert(oci.layout(P("layout-progress3")))
  t.raises(function()
    oci.layers(store3, { { inputs = { { from = big, to = "/data" } } } }, { mtime = 0, cache = false,
      progress = function() error("progress says stop") end })
  end, "progress says stop")
  t.raises(function() oci.layers(store3, { ui_spec() }, { cache = false, progress = 5 }) end, "'progress' must be a function")
end)

t.test("layers: identical specs are built once", function()
  local store = assert(oci.layout(P("layout5")))
  local list = assert(oci.layers(store, { ui_spec(), ui_spec(), bin_spec() }, { mtime = 0, cache = false }))
  t.eq(#list, 3)
  t.eq(list[1].digest, list[2].digest)
  t.eq(list[1].key, list[2].key)
  t.eq(list[1].diff_id, list[2].diff_id)
  t.ok(list[3].digest ~= list[1].digest, "another layer")
  -- `written` is reported once per distinct layer
  t.eq(list[1].written, true)
  t.eq(list[2].written, false)
  t.eq(list[3].written, true)
  t.same(blobs(store), (function()
    local b = { list[1].digest:sub(8), list[3].digest:sub(8) }
    table.sort(b)
    return b
  end)())
  for i, d in ipairs(list) do
    t.eq(d.mediaType, oci.MEDIA.layer_gzip, "layer " .. i)
    t.eq(d.cached, false)
    t.eq(oci.digest(assert(store:blob(d.digest))), d.digest, "layer " .. i .. " digest")
    t.eq(d.size, fs.stat(store:blob_path(d.digest)).size)
    t.ok(d.diff_id:match("^sha256:%x+$") and #d.diff_id == 71, "diff_id")
    t.ok(d.key:match("^sha256:%x+$") and #d.key == 71, "key")
  end
  -- the same tar with another compression: another blob, the same diff_id
  local z = assert(oci.layers(store, { ui_spec("zstd"), ui_spec("none") }, { mtime = 0, cache = false }))
  t.eq(z[1].mediaType, oci.MEDIA.layer_zstd)
  t.eq(z[2].mediaType, oci.MEDIA.layer_tar)
  t.eq(z[1].diff_id, list[1].diff_id)
  t.eq(z[2].diff_id, list[1].diff_id)
  t.eq(z[2].digest, list[1].diff_id)  -- an uncompressed layer is its own tar
  t.ok(z[1].digest ~= list[1].digest, "zstd blob differs")
  -- the same inputs again (cache off): the same bytes
  local again = assert(oci.layer(store, ui_spec().inputs, { mtime = 0, cache = false }))
  t.eq(again.digest, list[1].digest)
  -- another mtime: another layer
  local later = assert(oci.layer(store, ui_spec().inputs, { mtime = 1700000000, cache = false }))
  t.ok(later.digest ~= list[1].digest and later.diff_id ~= list[1].diff_id, "mtime is in the tar")
end)

t.test("layers: the content is what the inputs say", function()
  local store = assert(oci.layout(P("layout6")))
  local d = assert(oci.layer(store, bin_spec().inputs, { mtime = 0, cache = false, compression = "none" }))
  local core = require("hoist.oci.core")
  local paths, files = assert(core.scan_layer(store:blob_path(d.digest), { "usr/bin/tool", "metadata.json" }))
  t.eq(paths["usr/bin/tool"], "f")
  t.eq(paths["metadata.json"], "f")
  t.eq(files["usr/bin/tool"], "#!/bin/sh\necho tool\n")
  t.eq(files["metadata.json"], '{"name":"test"}\n')
end)

-- "mode owner name" per entry of a gzip layer, as GNU tar lists it (numeric owners).
local function tar_listing(path)
  local exec = require("hoist.exec")
  local out = assert(exec.output{ "tar", "--numeric-owner", "-tvzf", path })
  local entries = {}
  for line in out:gmatch("[^\n]+") do
    local mode, owner, name = line:match("^(%S+)%s+(%d+/%d+)%s+%d+%s+%S+%s+%S+%s+(.-)$")
    t.ok(mode, "a tar -tv line: " .. line)
    name = name:gsub(" %-> .*$", ""):gsub("/$", "")
    entries[name] = { mode = mode, owner = owner }
  end
  return entries
end

t.test("layers: entries with owner and exclude", function()
  local ox = P("ox")
  assert(fs.mkdir(ox .. "/cache"))
  assert(fs.mkdir(ox .. "/assets"))
  for _, f in ipairs({ "index.html", "app.js.map", "assets/logo.svg", "assets/x.map",
                       "cache/blob", "cache/keep.txt", "single.txt" }) do
    assert(fs.write(ox .. "/" .. f, f .. "\n", { mode = "0644" }))
  end
  local store = assert(oci.layout(P("layout-ox")))
  local inputs = {
    { from = ox, to = "/app", owner = "1000:2000", exclude = { "**/*.map", "/cache", "!cache/keep.txt" },
      source = "ox" },
    { from = ox .. "/single.txt", to = "/etc/single.txt", owner = "5:6", exclude = { "*" } },
  }
  local d = assert(oci.layer(store, inputs, { mtime = 0, cache = false }))
  local l = tar_listing(store:blob_path(d.digest))
  for _, name in ipairs({ "app", "app/index.html", "app/assets", "app/assets/logo.svg", "app/cache",
                          "app/cache/keep.txt", "app/single.txt" }) do
    t.ok(l[name], name .. " is in the layer")
    t.eq(l[name] and l[name].owner, "1000/2000", name .. "'s owner")
  end
  for _, name in ipairs({ "app/app.js.map", "app/assets/x.map", "app/cache/blob" }) do
    t.eq(l[name], nil, name .. " is left out")
  end
  t.ok(l["app/cache"].mode:sub(1, 1) == "d", "the excluded folder that keeps a file is a folder")
  t.eq(l["etc/single.txt"] and l["etc/single.txt"].owner, "5/6", "a single file's owner")
  t.eq(l["etc"] and l["etc"].owner, "5/6", "an implied folder is owned like the entry implying it")
  -- over a base: implied folders are not written (the base's keep their modes: /root 0700)
  local over = assert(oci.layers(store, { { inputs = { { from = ox .. "/single.txt", to = "/root/deep/x.txt" } },
                                            parents = false } }, { mtime = 0, cache = false }))
  local ol = tar_listing(store:blob_path(over[1].digest))
  t.ok(ol["root/deep/x.txt"], "the entry is there")
  t.eq(ol["root"], nil, "no implied /root")
  t.eq(ol["root/deep"], nil, "no implied /root/deep")
  local with_parents = assert(oci.layers(store, { { inputs = { { from = ox .. "/single.txt", to = "/root/deep/x.txt" } } } },
                                         { mtime = 0, cache = false }))
  t.ok(with_parents[1].digest ~= over[1].digest, "parents = false is another layer")
  t.ok(tar_listing(store:blob_path(with_parents[1].digest))["root/deep"], "by default implied folders are written")
  -- a folder several entries imply is owned like the earliest of them, whatever the order of the walk
  for _, order in ipairs({ { "1:1", "2:2" }, { "2:2", "1:1" } }) do
    local two = assert(oci.layer(store, { { from = ox .. "/single.txt", to = "/srv/a/x", owner = order[1] },
                                          { from = ox .. "/single.txt", to = "/srv/b/x", owner = order[2] } },
                                 { mtime = 0, cache = false }))
    local tl = tar_listing(store:blob_path(two.digest))
    t.eq(tl["srv"] and tl["srv"].owner, order[1]:gsub(":", "/"), "/srv is owned like the first entry")
    t.eq(tl["srv/b"] and tl["srv/b"].owner, order[2]:gsub(":", "/"), "/srv/b like its own entry")
  end
  -- another owner or other patterns: another layer (and not one mistaken for the other)
  local function with(owner, exclude)
    return { inputs = { { from = ox, to = "/app", owner = owner, exclude = exclude } } }
  end
  local list = assert(oci.layers(store, { with("1000:2000", { "*.map" }), with("1000:2001", { "*.map" }),
                                          with("1000:2000", { "*.map", "*.none" }), with(nil, nil) },
                                 { mtime = 0, cache = false }))
  t.ok(list[1].key ~= list[2].key and list[1].digest ~= list[2].digest, "owner changes the layer")
  t.ok(list[1].key ~= list[3].key, "patterns change the key")
  t.eq(list[1].diff_id, list[3].diff_id)  -- "*.none" matched nothing
  t.eq(tar_listing(store:blob_path(list[4].digest))["app/index.html"].owner, "0/0", "default owner")
  t.ok(tar_listing(store:blob_path(list[4].digest))["app/app.js.map"], "nothing excluded by default")
  -- what the core refuses
  t.raises(function() oci.layer(store, { { from = ox, to = "/app", ownr = "1:1" } }, { cache = false }) end,
    "unknown key 'ownr'")
  t.raises(function() oci.layer(store, { { from = ox, to = "/app", owner = "root" } }, { cache = false }) end,
    "uid:gid")
  t.raises(function() oci.layer(store, { { from = ox, to = "/app", owner = 1000 } }, { cache = false }) end,
    "owner")
  t.raises(function() oci.layer(store, { { from = ox, to = "/app", exclude = "*.map" } }, { cache = false }) end,
    "exclude")
  t.raises(function() oci.layer(store, { { from = ox, to = "/app", exclude = { 1 } } }, { cache = false }) end,
    "exclude[1]")
  local ok, msg = oci.layer(store, { { from = ox, to = "/app", exclude = { "a/../b" } } }, { cache = false })
  t.eq(ok, nil)
  t.ok(msg:find("a/../b", 1, true), msg)
end)

t.test("layers: errors name the input", function()
  local store = assert(oci.layout(P("layout7")))
  local ok, msg, code = oci.layers(store, { { inputs = { { from = P("no-such"), to = "/x" } } } }, { cache = false })
  t.eq(ok, nil)
  t.ok(msg:find(P("no-such"), 1, true), msg)
  t.eq(type(code), "string")
  ok, msg = oci.layers(store, { { inputs = { { from = src .. "/ui", to = "/../etc" } } } }, { cache = false })
  t.eq(ok, nil)
  t.ok(msg:find("..", 1, true), msg)
  ok, msg = oci.layers(store, { ui_spec() }, { cache = false, root = src .. "/bin" })
  t.eq(ok, nil)
  t.ok(msg:find("outside", 1, true), msg)
  t.same(blobs(store), {})
  t.raises(function() oci.layers(store, { ui_spec("brotli") }, { cache = false }) end, "compression")
end)

t.test("layers: the cache skips unchanged inputs and restores blobs", function()
  local store = assert(oci.layout(P("layout8")))
  local cache = P("cache")
  local first = assert(oci.layers(store, { ui_spec(), bin_spec() }, { mtime = 0, cache = cache }))
  t.eq(first[1].cached, false)
  t.eq(first[2].cached, false)
  t.eq(fs.exists(cache .. "/layers/" .. first[1].key:sub(8) .. ".json"), true)
  t.eq(fs.exists(cache .. "/blobs/" .. first[1].digest:sub(8)), true)

  local second = assert(oci.layers(store, { ui_spec(), bin_spec() }, { mtime = 0, cache = cache }))
  for i = 1, 2 do
    t.eq(second[i].cached, true, "layer " .. i .. " cached")
    t.eq(second[i].written, false, "layer " .. i .. " already in the layout")
    t.eq(second[i].digest, first[i].digest)
    t.eq(second[i].diff_id, first[i].diff_id)
    t.eq(second[i].size, first[i].size)
    t.eq(second[i].key, first[i].key)
    t.eq(second[i].mediaType, first[i].mediaType)
  end

  -- the layout lost its blob: the cache puts it back
  assert(fs.remove(store:blob_path(first[1].digest)))
  t.eq(store:has_blob(first[1].digest), false)
  local third = assert(oci.layers(store, { ui_spec() }, { mtime = 0, cache = cache }))
  t.eq(third[1].cached, true)
  t.eq(third[1].written, true)
  t.eq(third[1].digest, first[1].digest)
  t.eq(store:has_blob(first[1].digest), true)
  t.eq(oci.digest(assert(store:blob(first[1].digest))), first[1].digest)

  -- another layout shares the cache
  local other = assert(oci.layout(P("layout9")))
  local fourth = assert(oci.layers(other, { bin_spec() }, { mtime = 0, cache = cache }))
  t.eq(fourth[1].cached, true)
  t.eq(fourth[1].written, true)
  t.eq(other:has_blob(first[2].digest), true)

  -- a changed input is a new key: built again
  assert(fs.write(src .. "/ui/index.html", "<html>changed</html>\n"))
  local fifth = assert(oci.layers(store, { ui_spec() }, { mtime = 0, cache = cache }))
  t.eq(fifth[1].cached, false)
  t.ok(fifth[1].digest ~= first[1].digest, "new content, new layer")
  assert(fs.write(src .. "/ui/index.html", "<html>hello</html>\n"))
end)

-- The cache and the layouts never share an inode (an edit of one must not change another), and a
-- cache blob that was changed is found, dropped and rebuilt instead of being passed on.
t.test("layers: the cache is verified and shares no inode with layouts", function()
  local cache = P("cache-verify")
  local a = assert(oci.layout(P("layout-va")))
  local first = assert(oci.layers(a, { ui_spec() }, { mtime = 0, cache = cache }))
  local d = first[1].digest
  local cached_blob = cache .. "/blobs/" .. d:sub(8)
  local b = assert(oci.layout(P("layout-vb")))
  t.eq(assert(oci.layers(b, { ui_spec() }, { mtime = 0, cache = cache }))[1].cached, true)
  local ia, ib, ic = fs.stat(a:blob_path(d)).ino, fs.stat(b:blob_path(d)).ino, fs.stat(cached_blob).ino
  t.ok(ia ~= ic and ib ~= ic and ia ~= ib, "three inodes")
  -- a byte flipped in a layout's blob touches neither the cache nor the other layout
  local bytes = assert(fs.read(a:blob_path(d)))
  local flipped = bytes:sub(1, 99) .. string.char(bytes:byte(100) ~ 0xff) .. bytes:sub(101)
  assert(fs.write(a:blob_path(d), flipped))
  t.eq(oci.digest(assert(fs.read(b:blob_path(d)))), d)
  t.eq(oci.digest(assert(fs.read(cached_blob))), d)
  -- a byte flipped in the cache's blob (same size): noticed, dropped, the layer built again
  assert(fs.write(cached_blob, flipped))
  local c = assert(oci.layout(P("layout-vc")))
  local again = assert(oci.layers(c, { ui_spec() }, { mtime = 0, cache = cache }))
  t.eq(again[1].cached, false, "rebuilt, not taken from a spoiled cache")
  t.eq(again[1].digest, d)
  t.eq(oci.digest(assert(fs.read(c:blob_path(d)))), d)
  t.eq(oci.digest(assert(fs.read(cached_blob))), d, "the cache holds the good blob again")
  -- and a private staging store may take hard links (it is removed after the push)
  local s = assert(oci.layout(P("layout-vs")))
  t.eq(assert(oci.layers(s, { ui_spec() }, { mtime = 0, cache = cache, private = true }))[1].cached, true)
  t.eq(fs.stat(s:blob_path(d)).ino, fs.stat(cached_blob).ino)
end)

-- Every layer oci.layers builds with a cache leaves its file list beside it (CACHE/files/<hex>.jsonl),
-- recorded while the layer was written: exactly what hoist.sign.core.layer_files reads back from
-- the blob, so hoist.attest's SBOMs read no layer that hoist built.
t.test("layers: file lists recorded while building, for SBOMs", function()
  local sc = require("hoist.sign.core")
  local attest = require("hoist.attest")
  local cache = P("cache-files")
  local store = assert(oci.layout(P("layout-files")))
  local lf = P("lf")
  assert(fs.mkdir(lf .. "/sub"))
  assert(fs.write(lf .. "/sub/a.txt", "a\n", { mode = "0600" }))
  assert(fs.write(lf .. "/empty", ""))
  assert(fs.link_or_copy(lf .. "/sub/a.txt", lf .. "/hard"))
  local specs = { ui_spec(), bin_spec(), ui_spec("zstd"), ui_spec("none"),
                  { inputs = { { from = lf, to = "/lf", owner = "1000:1000", exclude = { "empty" } },
                               { from = lf .. "/empty", to = "/e/" } } } }
  local layers = assert(oci.layers(store, specs, { mtime = 0, cache = cache }))
  local blobs_read = assert(sc.layer_files((function()
    local paths = {}
    for i, l in ipairs(layers) do paths[i] = store:blob_path(l.digest) end
    return paths
  end)()))
  for i, l in ipairs(layers) do
    t.eq(l.files, nil, "descriptors carry no file list")
    local rec = oci.cached_files(cache, l.digest)
    t.ok(rec, "a record for layer " .. i)
    t.same(rec:entries(), blobs_read[i]:entries(), "layer " .. i .. ": the record is what the blob holds")
  end
  -- the second name of an inode in name order is a hard link to the first
  local hard
  for _, e in ipairs(oci.cached_files(cache, layers[5].digest):entries()) do if e.name == "lf/sub/a.txt" then hard = e end end
  t.same(hard, { name = "lf/sub/a.txt", type = "h", mode = 384, link = "lf/hard" }, "a hard link")

  -- an image of those layers: attest.files reads no layer (layer_files is not called) and finds
  -- what reading every blob finds
  local img = assert(oci.image(store, { platform = "linux/amd64", layers = layers, created = 0 }))
  local from_blobs = assert(attest.files(store, img, { cache = false }))
  local real, calls = sc.layer_files, 0
  sc.layer_files = function(...) calls = calls + 1; return real(...) end
  local ok, from_cache = pcall(attest.files, store, img, { cache = cache })
  sc.layer_files = real
  t.ok(ok, tostring(from_cache))
  t.eq(calls, 0, "layer blobs read by attest.files")
  t.same(from_cache, from_blobs, "the SBOM's files")
  t.ok(#from_blobs >= 6, "files found")

  -- layers taken from the layer cache keep their records; without a cache nothing is recorded
  t.eq(assert(oci.layers(store, specs, { mtime = 0, cache = cache }))[1].cached, true)
  local nc = assert(oci.layers(store, { ui_spec() }, { mtime = 7, cache = false }))
  t.eq(oci.cached_files(cache, nc[1].digest), nil, "no record without a cache")
  local off = assert(oci.layers(store, { ui_spec() }, { mtime = 8, cache = cache, files = false }))
  t.eq(off[1].cached, false)
  t.eq(oci.cached_files(cache, off[1].digest), nil, "no record with files = false")
  t.raises(function() oci.layers(store, { ui_spec() }, { cache = cache, files = "yes" }) end, "opts.files must be a boolean")

  -- a record that is not a whole record is no record: another format, a line cut short, an entry
  -- missing or one too many, a bad field
  local rpath = cache .. "/files/" .. nc[1].digest:sub(8) .. ".jsonl"
  local head = '{"entries":1,"hoist-files":2}\n'
  local good = '{"link":null,"mode":420,"name":"a","sha1":"' .. ("1"):rep(40) .. '","sha256":"' .. ("2"):rep(64) ..
               '","size":3,"type":"f"}\n'
  for _, text in ipairs({ '[{"name":1}]', head, head .. good:sub(1, -2), head .. good .. good,
                          head:gsub("2}", "3}") .. good, head .. good:gsub('"f"', '"x"'),
                          head .. good:gsub('"size":3', '"size":-3'), head .. good:gsub("1111", "zzzz") }) do
    assert(fs.write(rpath, text))
    t.eq(oci.cached_files(cache, nc[1].digest), nil, "not a record: " .. text)
  end
  assert(fs.write(rpath, head .. good))
  t.same(oci.cached_files(cache, nc[1].digest):entries(),
         { { name = "a", type = "f", mode = 420, size = 3, sha1 = ("1"):rep(40), sha256 = ("2"):rep(64) } })
  local list = sc.layer_list({ { name = "x", type = "d", mode = 493 }, { name = "x/l", type = "l", link = "../y", mode = 511 },
                               { name = "x/\u{e9}t\u{e9}\n", type = "f", mode = 420, size = 1, sha1 = ("a"):rep(40),
                                 sha256 = ("b"):rep(64) } })
  t.eq(oci.cache_files(cache, nc[1].digest, list), true)
  t.same(oci.cached_files(cache, nc[1].digest):entries(), list:entries(), "a record reads back as written")
  t.raises(function() oci.cached_files(cache, "sha256:xyz") end, "a sha256 digest expected")
  t.raises(function() oci.cache_files(nil, nc[1].digest, {}) end, "a cache folder expected")
  t.raises(function() oci.cache_files(cache, nc[1].digest) end, "a layer file list")
end)

t.test("platforms", function()
  t.same(oci.parse_platform("linux/arm64/v8"), { os = "linux", architecture = "arm64", variant = "v8" })
  t.same(oci.parse_platform("linux/amd64"), { os = "linux", architecture = "amd64" })
  t.same(oci.parse_platform("windows/amd64"), { os = "windows", architecture = "amd64" })
  for _, bad in ipairs({ "linux", "linux/", "/amd64", "linux/amd64/v8/x", "linux amd64", "" }) do
    local p, msg = oci.parse_platform(bad)
    t.eq(p, nil, bad)
    t.ok(msg:find("invalid platform", 1, true), msg)
  end
  t.raises(function() oci.parse_platform(nil) end, "platform")
  t.eq(oci.platform_string(oci.parse_platform("linux/arm/v7")), "linux/arm/v7")
  t.eq(oci.platform_string({ os = "linux", architecture = "amd64" }), "linux/amd64")
  -- one shape everywhere: a descriptor's table is taken wherever a string is, and checked
  t.same(oci.parse_platform({ os = "linux", architecture = "arm", variant = "v7" }),
         { os = "linux", architecture = "arm", variant = "v7" })
  t.eq(oci.platform_string("linux/arm64"), "linux/arm64")
  t.eq(select(2, oci.parse_platform({ os = "linux" })):find("invalid platform", 1, true) ~= nil, true)
  t.raises(function() oci.platform_string({ architecture = "amd64" }) end, "invalid platform")
  t.raises(function() oci.platform_string("linux") end, "invalid platform 'linux'")
  local ext = require("hoist.extension")
  t.eq(ext.expand("host/${arch}", "linux/arm64"), "host/arm64")
  t.eq(ext.expand("host/${arch}", { os = "linux", architecture = "amd64" }), "host/amd64")
  t.eq(oci.timestamp(0), "1970-01-01T00:00:00Z")
  t.eq(oci.timestamp(1700000000), "2023-11-14T22:13:20Z")
  t.eq(oci.timestamp(), "1970-01-01T00:00:00Z")
end)

-- One image (and layout) shared by the image and index tests.
local istore = assert(oci.layout(P("images")))
local ilayers = assert(oci.layers(istore, { ui_spec(), bin_spec() }, { mtime = 1700000000, cache = false }))

t.test("image: config and manifest", function()
  local img = assert(oci.image(istore, {
    platform = "linux/arm64/v8",
    layers = ilayers,
    created = 1700000000,
    config = {
      labels = { ["com.docker.desktop.extension.api.version"] = ">= 0.3.3", zeta = "z", alpha = "a" },
      env = { PATH = "/usr/bin", A = "1" },
      entrypoint = { "/usr/bin/tool" },
      cmd = "serve",
      workdir = "/ui",
      user = "1000",
      exposed_ports = { "8080/tcp" },
    },
    history = { "ui", "tool and metadata" },
    annotations = { ["org.opencontainers.image.title"] = "test" },
  }))
  t.same(img.platform, { os = "linux", architecture = "arm64", variant = "v8" })

  -- the config blob
  local ctext, cfg = check_stored(istore, img.config, oci.MEDIA.config)
  keys_in_order(ctext, { "architecture", "config", "created", "history", "os", "rootfs", "variant" })
  t.eq(cfg.architecture, "arm64")
  t.eq(cfg.os, "linux")
  t.eq(cfg.variant, "v8")
  t.eq(cfg.created, "2023-11-14T22:13:20Z")
  t.eq(cfg.rootfs.type, "layers")
  t.same(cfg.rootfs.diff_ids, { ilayers[1].diff_id, ilayers[2].diff_id })
  t.same(cfg.config.Labels, { ["com.docker.desktop.extension.api.version"] = ">= 0.3.3", zeta = "z", alpha = "a" })
  t.same(cfg.config.Env, { "A=1", "PATH=/usr/bin" })
  t.same(cfg.config.Entrypoint, { "/usr/bin/tool" })
  t.same(cfg.config.Cmd, { "/bin/sh", "-c", "serve" }, "a string is shell form, as Docker's CMD string")
  t.eq(cfg.config.WorkingDir, "/ui")
  t.eq(cfg.config.User, "1000")
  t.ok(ctext:find('"ExposedPorts":{"8080/tcp":{}}', 1, true), "ExposedPorts as an object of objects")
  t.ok(ctext:find('"Labels":{"alpha":"a","com.docker', 1, true), "labels sorted")
  t.same(cfg.history, {
    { created = "2023-11-14T22:13:20Z", created_by = "ui" },
    { created = "2023-11-14T22:13:20Z", created_by = "tool and metadata" },
  })
  keys_in_order(ctext:match('"config":(%b{})'), { "Cmd", "Entrypoint", "Env", "ExposedPorts", "Labels", "User", "WorkingDir" })

  -- the manifest blob
  local mtext, man = check_stored(istore, img, oci.MEDIA.manifest)
  keys_in_order(mtext, { "annotations", "config", "layers", "mediaType", "schemaVersion" })
  t.eq(man.schemaVersion, 2)
  t.eq(man.mediaType, oci.MEDIA.manifest)
  t.same(man.config, { mediaType = oci.MEDIA.config, digest = img.config.digest, size = img.config.size })
  t.eq(#man.layers, 2)
  for i, l in ipairs(man.layers) do
    -- descriptors only: no diff_id, key or cached in the manifest
    t.same(l, { mediaType = ilayers[i].mediaType, digest = ilayers[i].digest, size = ilayers[i].size })
  end
  t.same(man.annotations, { ["org.opencontainers.image.title"] = "test" })
  t.same(img.manifest.layers[1], man.layers[1])
end)

-- A base image's config, layers, diff_ids and history are inherited the way Docker builds on a
-- FROM (each rule against what buildah does is checked in tests/registry/test_base.sh).
t.test("image: on a base", function()
  local base_layers = { { mediaType = oci.MEDIA.layer_gzip, digest = "sha256:" .. string.rep("b", 64), size = 10 } }
  local base_config = {
    architecture = "amd64", os = "linux",
    config = { Env = json.array({ "PATH=/usr/bin:/bin", "LANG=C" }), Cmd = json.array({ "sh" }),
               Entrypoint = json.array({ "/init" }), WorkingDir = "/srv", User = "nobody",
               Labels = { from = "base", keep = "yes" }, ExposedPorts = { ["80/tcp"] = json.object({}) },
               Volumes = { ["/data"] = json.object({}) }, StopSignal = "SIGQUIT",
               OnBuild = json.array({ "RUN make" }) },
    rootfs = { type = "layers", diff_ids = json.array({ "sha256:" .. string.rep("d", 64) }) },
    history = json.array({ { created = "2020-01-01T00:00:00Z", created_by = "base layer" },
                           { created = "2020-01-01T00:00:00Z", created_by = "ENV", empty_layer = true } }),
  }
  local function build(config)
    local img = assert(oci.image(istore, { platform = "linux/amd64", layers = { ilayers[1] }, created = 0,
      config = config, history = { "ours" }, base = { config = base_config, layers = base_layers } }))
    local _, cfg = check_stored(istore, img.config, oci.MEDIA.config)
    return img, cfg
  end
  local img, cfg = build({ env = { LANG = "C.UTF-8", NEW = "1" }, entrypoint = { "/service" },
                           labels = { from = "ours" }, exposed_ports = { "8080/tcp" }, volumes = { "/cache" } })
  t.same(cfg.config.Env, { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", "NEW=1" }, "Env merged by key, in order")
  t.same(cfg.config.Entrypoint, { "/service" })
  t.eq(cfg.config.Cmd, nil, "a new entrypoint resets the base's Cmd")
  t.eq(cfg.config.WorkingDir, "/srv")
  t.eq(cfg.config.User, "nobody")
  t.eq(cfg.config.StopSignal, "SIGQUIT")
  t.same(cfg.config.Labels, { from = "ours", keep = "yes" })
  t.same(cfg.config.ExposedPorts, { ["80/tcp"] = {}, ["8080/tcp"] = {} })
  t.same(cfg.config.Volumes, { ["/data"] = {}, ["/cache"] = {} })
  t.eq(cfg.config.OnBuild, nil, "ONBUILD triggers are not inherited")
  t.same(cfg.rootfs.diff_ids, { "sha256:" .. string.rep("d", 64), ilayers[1].diff_id })
  t.eq(#cfg.history, 3)
  t.eq(cfg.history[2].empty_layer, true)
  t.eq(cfg.history[3].created_by, "ours")
  t.eq(#img.manifest.layers, 2)
  t.eq(img.manifest.layers[1].digest, base_layers[1].digest)
  -- cmd alone keeps the base's entrypoint; an entrypoint with a cmd keeps both
  img, cfg = build({ cmd = "echo hi" })
  t.same(cfg.config.Entrypoint, { "/init" })
  t.same(cfg.config.Cmd, { "/bin/sh", "-c", "echo hi" })
  img, cfg = build({ entrypoint = "exec /x", cmd = { "a" }, workdir = "/app", user = "1000:1000" })
  t.same(cfg.config.Entrypoint, { "/bin/sh", "-c", "exec /x" })
  t.same(cfg.config.Cmd, { "a" })
  t.eq(cfg.config.WorkingDir, "/app")
  t.eq(cfg.config.User, "1000:1000")
  -- nothing of ours: the base's config as it was (minus ONBUILD)
  img, cfg = build(nil)
  t.same(cfg.config.Cmd, { "sh" })
  t.same(cfg.config.Entrypoint, { "/init" })
  -- a base whose diff_ids do not match its layers is refused
  t.raises(function()
    oci.image(istore, { platform = "linux/amd64", base = { config = { rootfs = { diff_ids = {} } }, layers = base_layers } })
  end, "the base has 1 layers but 0 diff_ids")
end)

t.test("image: defaults", function()
  local img = assert(oci.image(istore, { platform = "linux/amd64", layers = { ilayers[1] } }))
  local ctext, cfg = check_stored(istore, img.config, oci.MEDIA.config)
  t.eq(cfg.created, "1970-01-01T00:00:00Z")
  t.eq(cfg.variant, nil)
  t.ok(not ctext:find("variant", 1, true), "no variant key")
  t.ok(ctext:find('"config":{}', 1, true), "an empty config object")
  t.same(cfg.rootfs.diff_ids, { ilayers[1].diff_id })
  t.eq(cfg.history[1].created_by, "hoist layer 1")
  local mtext, man = check_stored(istore, img, oci.MEDIA.manifest)
  t.eq(man.annotations, nil)
  t.ok(not mtext:find("annotations", 1, true), "no annotations key")
  -- the same spec again: the same digests
  local again = assert(oci.image(istore, { platform = "linux/amd64", layers = { ilayers[1] } }))
  t.eq(again.digest, img.digest)
  t.eq(again.config.digest, img.config.digest)
  -- no layers at all is an empty rootfs, still an array
  local empty = assert(oci.image(istore, { platform = "linux/amd64" }))
  local etext = check_stored(istore, empty.config, oci.MEDIA.config)
  t.ok(etext:find('"diff_ids":[]', 1, true), "diff_ids stays an array")
  t.raises(function() oci.image(istore, { platform = "linux" }) end, "invalid platform")
  t.raises(function() oci.image(istore, { platform = "linux/amd64", config = { cmd = { 1 } } }) end, "cmd[1]")
end)

t.test("index: manifests with platforms", function()
  local arm = assert(oci.image(istore, { platform = "linux/arm64/v8", layers = ilayers, created = 1700000000 }))
  local amd = assert(oci.image(istore, { platform = "linux/amd64", layers = ilayers, created = 1700000000 }))
  t.eq(arm.config_doc.rootfs.diff_ids[1], amd.config_doc.rootfs.diff_ids[1])
  local idx = assert(oci.index(istore, { arm, amd }, { annotations = { ["org.opencontainers.image.version"] = "1.0.0" } }))
  local text, doc = check_stored(istore, idx, oci.MEDIA.index)
  keys_in_order(text, { "annotations", "manifests", "mediaType", "schemaVersion" })
  t.eq(doc.schemaVersion, 2)
  t.eq(doc.mediaType, oci.MEDIA.index)
  t.same(doc.manifests, {
    { mediaType = oci.MEDIA.manifest, digest = arm.digest, size = arm.size,
      platform = { os = "linux", architecture = "arm64", variant = "v8" } },
    { mediaType = oci.MEDIA.manifest, digest = amd.digest, size = amd.size,
      platform = { os = "linux", architecture = "amd64" } },
  })
  keys_in_order(text:match('"manifests":%[(%b{})'), { "digest", "mediaType", "platform", "size" })
  t.same(doc.annotations, { ["org.opencontainers.image.version"] = "1.0.0" })
  t.same(idx.index.manifests, doc.manifests)
  -- tag the index; the layout resolves it
  assert(istore:tag(idx, "1.0.0"))
  t.eq(istore:resolve("1.0.0").digest, idx.digest)
  t.eq(istore:resolve("1.0.0").mediaType, oci.MEDIA.index)
  t.raises(function() oci.index(istore, { { digest = arm.digest, size = 1 } }) end, "has no platform")
end)

t.test("cleanup", function()
  t.eq(fs.remove(root), true)
  t.eq(fs.exists(root), false)
end)

t.done()
