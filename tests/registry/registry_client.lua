-- The Lua face of the registry client (hoist.registry) against a real registry in one auth mode.
-- usage: hoist run registry_client.lua HOST USER PASSWORD BLOBS MODE [REFRESH_TOKEN]
--   USER "-": anonymous. BLOBS: a folder with index.txt, one "DIGEST SIZE FILE" line per blob.
-- Run by test_registry_lua.sh; fails by raising, prints "N passed" at the end.
local registry = require("hoist.registry")
local json = require("hoist.json")

local host, user, pass, blobs, mode, refresh = arg[1], arg[2], arg[3], arg[4], arg[5], arg[6]
local creds = user ~= "-" and { username = user, password = pass } or {}
local passed = 0

local function check(cond, what, ...)
  if not cond then error("check failed: " .. what .. " " .. table.concat({ ... }, " | "), 2) end
  passed = passed + 1
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function opts(extra)
  local o = {}
  for k, v in pairs(creds) do o[k] = v end
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

local list = {}
for line in io.lines(blobs .. "/index.txt") do
  local d, size, file = line:match("^(%S+) (%d+) (%S+)$")
  list[#list + 1] = { digest = d, size = tonumber(size), path = blobs .. "/" .. file }
end
check(#list == 6, "six blobs listed")

-- options are checked before anything is made
for _, bad in ipairs({ { chunk_size = -1 }, { chunk_size = 1.5 }, { parallel = 0 }, { parallel = "x" }, { parallel = 99 } }) do
  local ok, err = pcall(registry.connect, host, bad)
  check(not ok and tostring(err):find("bad option", 1, true), "bad option raises", tostring(err))
end

local c = assert(registry.connect(host, opts({ chunk_size = 256 * 1024, parallel = 3 })))
check(c:check_auth() == true, "check_auth")
if user ~= "-" then
  local w = assert(registry.connect(host, { username = user, password = "lua-wrong-pw" }))
  local ok, err, code = w:check_auth()
  check(ok == nil and code == "EAUTH" and err:find("authentication failed", 1, true)
        and not err:find("lua-wrong-pw", 1, true), "wrong password", tostring(err), tostring(code))
end

-- put_blobs: everything uploaded (the big ones in chunks), then everything found
local jobs = {}
local total = 0
for i = 1, 5 do
  jobs[i] = { digest = list[i].digest, path = list[i].path, size = list[i].size }
  total = total + list[i].size
end
local st, err = c:put_blobs("lua/app", jobs, { parallel = 4 })
check(st and st.uploaded == 5 and st.existing == 0 and st.mounted == 0 and st.uploaded_bytes == total,
      "put_blobs uploads", tostring(err))
st = assert(c:put_blobs("lua/app", jobs))
check(st.existing == 5 and st.uploaded == 0 and st.uploaded_bytes == 0, "put_blobs again")
check(#st.results == 5 and st.results[1] == "existing" and st.results[5] == "existing", "put_blobs results")
-- results follow the job order: one new blob among found ones
assert(c:put_blobs("lua/results", { jobs[2] }))
st = assert(c:put_blobs("lua/results", { jobs[2], jobs[3], jobs[4] }, { parallel = 2 }))
check(st.results[1] == "existing" and st.results[2] == "uploaded" and st.results[3] == "uploaded"
      and st.uploaded_bytes == list[3].size + list[4].size, "put_blobs results in job order")
-- progress: called on this thread once per job, in completion order, with running totals
local seen, last = {}, nil
assert(c:put_blobs("lua/progress", jobs, { parallel = 3, progress = function(p)
  if p.job then
    seen[#seen + 1] = p.job
    check(p.total == 5 and p.total_bytes == total and p.done == #seen and p.outcome == "uploaded"
          and p.digest == jobs[p.job].digest, "progress fields")
  else
    -- a tick: bytes moved inside blobs, no job named
    check(p.digest == nil and p.outcome == nil and p.done == #seen and p.done_bytes <= total, "progress tick",
          tostring(p.done), tostring(#seen), tostring(p.done_bytes), tostring(total))
  end
  check(not last or p.done_bytes >= last, "progress bytes never go down")
  last = p.done_bytes
end }))
table.sort(seen)
check(#seen == 5 and seen[1] == 1 and seen[5] == 5 and last == total, "progress saw every job once")
-- a progress function that raises stops the push, and its error comes out
local perr_ok, perr_msg = pcall(c.put_blobs, c, "lua/progress2", jobs, { progress = function() error("stop here") end })
check(not perr_ok and tostring(perr_msg):find("stop here", 1, true), "progress error raised")
-- a progress callback that misbehaves: it rewrites the job tables (the C side must have copied
-- what its threads read), collects garbage, and tries to use the client the push runs on (a clear
-- error, not a race); the push still stores every blob intact
do
  local mjobs = {}
  for i = 1, 5 do
    mjobs[i] = { digest = list[i].digest .. "", path = list[i].path .. "", size = list[i].size }
  end
  local busy_errors, other_ok, calls = 0, 0, 0
  local other = assert(registry.connect(host, opts({})))
  local mst = assert(c:put_blobs("lua/misbehave", mjobs, { parallel = 4, progress = function(p)
    calls = calls + 1  -- one per job, and a tick whenever bytes moved inside blobs meanwhile
    for _, j in ipairs(mjobs) do
      j.digest = string.rep("x", 64 + p.done); j.path = nil; j.mount_from = {}
    end
    for _ = 1, 3 do collectgarbage("collect") end
    local ok, e = pcall(c.has_blob, c, "lua/misbehave", list[1].digest)
    if not ok and tostring(e):find("busy", 1, true) then busy_errors = busy_errors + 1 end
    if other:has_blob("lua/misbehave", list[1].digest) ~= nil then other_ok = other_ok + 1 end
  end }))
  check(mst.uploaded == 5 and calls >= 5 and busy_errors == calls and other_ok == calls,
        "misbehaving progress callback", tostring(mst.uploaded), tostring(calls), tostring(busy_errors),
        tostring(other_ok))
  for i = 1, 5 do
    check(select(2, c:has_blob("lua/misbehave", list[i].digest)) == list[i].size, "blob intact after misbehaving callback")
  end
end
-- put_manifests: independent manifests at once; a bad one fails the call with its error
do
  local cfg = assert(c:put_blobs("lua/many", { jobs[1], jobs[2] }))
  local docs = {}
  for i = 1, 3 do
    docs[i] = json.encode({ schemaVersion = 2, mediaType = "application/vnd.oci.image.manifest.v1+json",
      config = { mediaType = "application/vnd.oci.image.config.v1+json", digest = jobs[1].digest, size = jobs[1].size },
      layers = { { mediaType = "application/vnd.oci.image.layer.v1.tar+gzip", digest = jobs[2].digest, size = jobs[2].size } },
      annotations = { n = tostring(i) } }, { sort_keys = true })
  end
  local items = {}
  for i, d in ipairs(docs) do
    items[i] = { ref = require("hoist.oci.core").digest(d), media_type = "application/vnd.oci.image.manifest.v1+json", bytes = d }
  end
  check(cfg and c:put_manifests("lua/many", items) == true, "put_manifests")
  for _, it in ipairs(items) do
    local body = c:manifest("lua/many", it.ref)
    check(body == it.bytes, "put_manifests stored " .. it.ref)
  end
  local missing = json.encode({ schemaVersion = 2, mediaType = "application/vnd.oci.image.manifest.v1+json",
    config = { mediaType = "application/vnd.oci.image.config.v1+json", digest = "sha256:" .. string.rep("0", 64), size = 1 },
    layers = {} }, { sort_keys = true })
  local ok2, merr = c:put_manifests("lua/many", { items[1], { ref = "broken", media_type = "application/vnd.oci.image.manifest.v1+json", bytes = missing } })
  check(ok2 == nil and tostring(merr):find("refused a manifest: MANIFEST_", 1, true), "put_manifests reports the failing one", tostring(merr))
end
-- a job mounted from another repository
st = assert(c:put_blobs("lua/other", { { digest = list[1].digest, path = list[1].path, size = list[1].size,
                                          mount_from = "lua/app" } }))
check(st.mounted == 1 and st.uploaded == 0 and st.results[1] == "mounted", "put_blobs mounts")
local ok, perr = pcall(c.put_blobs, c, "lua/app", { { digest = list[1].digest, size = 1 } })
check(not ok and tostring(perr):find("bad job #1", 1, true), "a job without path raises", tostring(perr))
local bad, berr, bcode = c:put_blobs("lua/app", { { digest = list[6].digest, path = blobs .. "/nope", size = 3 } })
check(bad == nil and bcode == "EIO" and berr:find("nope", 1, true), "a job that fails", tostring(berr))

-- downloads
local small = list[1]
check(c:blob("lua/app", small.digest) == read(small.path), "blob")
local none, gerr, gcode = c:blob("lua/app", list[5].digest, 10)
check(none == nil and gcode == "EREMOTE" and gerr:find("more than 10 bytes", 1, true), "blob max_bytes", tostring(gerr))
local out = blobs .. "/download.out"
check(c:blob_file("lua/app", list[5].digest, list[5].size, out) == list[5].size, "blob_file size")
check(read(out) == read(list[5].path), "blob_file content")
os.remove(out)
none, gerr, gcode = c:blob_file("lua/app", list[5].digest, list[5].size - 1, out)
check(none == nil and gcode == "EREMOTE" and gerr:find("more than its", 1, true) and not io.open(out),
      "blob_file refuses more bytes than the descriptor says", tostring(gerr))
none, gerr, gcode = c:blob_file("lua/app", list[6].digest, 100, out)
check(none == nil and gcode == "EREMOTE" and gerr:find("BLOB_UNKNOWN", 1, true) and not io.open(out),
      "blob_file of a missing blob", tostring(gerr))

-- mounts
check(c:mount_blob("lua/third", list[2].digest, "lua/app") == true, "mount_blob 201")
check(c:mount_blob("lua/third", list[3].digest, "lua/not-there") == false, "mount_blob 202")
check(select(2, c:has_blob("lua/third", list[2].digest)) == list[2].size, "mounted blob exists")

-- manifests: head, delete
local cfg = list[1]
local manifest = string.format('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
  .. '"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[]}',
  cfg.digest, cfg.size)
local md = assert(c:put_manifest("lua/app", "1.0.0", "application/vnd.oci.image.manifest.v1+json", manifest))
local desc = c:resolve("lua/app", "1.0.0") or {}
check(desc.digest == md and desc.mediaType == "application/vnd.oci.image.manifest.v1+json" and desc.size == #manifest,
      "resolve", tostring(desc.digest), tostring(desc.mediaType), tostring(desc.size))
check(c:resolve("lua/app", "0.0.1") == false, "resolve of an absent tag")
local dok, derr, dcode = c:delete_manifest("lua/app", "1.0.0")
check(dok == nil and dcode == "EREMOTE" and derr:find("does not allow deleting tags", 1, true), "delete by tag",
      tostring(derr))
check(c:delete_manifest("lua/app", md) == true, "delete_manifest")
check(c:resolve("lua/app", md) == false, "deleted")

-- the identity token (an OAuth2 refresh token) instead of a password
if mode == "token" then
  local it = assert(registry.connect(host, { identity_token = refresh }))
  check(it:check_auth() == true, "identity_token check_auth")
  check(it:has_blob("lua/app", list[2].digest) == true, "identity_token pull")
  local bad_it = assert(registry.connect(host, { identity_token = "lua-bogus-refresh" }))
  local iok, ierr, icode = bad_it:check_auth()
  check(iok == nil and icode == "EAUTH" and not ierr:find("lua-bogus-refresh", 1, true), "bad identity token",
        tostring(ierr))
end

-- push while building: layers built by oci.layers are uploaded through a push stream
do
  local oci = require("hoist.oci")
  local fs = require("hoist.fs")
  local tmp = assert(fs.tmpdir("hoist-lua-stream"))
  local src = tmp .. "/src"
  assert(fs.mkdir(src))
  local words = {}
  for i = 1, 200000 do words[i] = tostring(i * 7919 % 100003) end
  assert(fs.write(src .. "/big.txt", table.concat(words, " ")))
  assert(fs.write(src .. "/small.txt", "small\n"))
  local store = assert(oci.layout(tmp .. "/layout"))
  local specs = { { inputs = { { from = src .. "/big.txt", to = "/big.txt" } } },
                  { inputs = { { from = src .. "/small.txt", to = "/small.txt" } } } }
  -- options are checked; a stream of a closed client cannot be made
  local sc = assert(registry.connect(host, opts({ chunk_size = 256 * 1024 })))
  local ok, err = pcall(sc.push_stream, sc, "lua/stream", { paralel = 2 })
  check(not ok and tostring(err):find("did you mean 'parallel'", 1, true), "push_stream option typo", tostring(err))
  local s = assert(sc:push_stream("lua/stream", { parallel = 2 }))
  ok, err = pcall(getmetatable(sc).__close, sc)
  check(not ok and tostring(err):find("open push stream", 1, true), "closing a client with an open stream", tostring(err))
  ok, err = pcall(s.wait, s, { every = 1 })
  check(not ok and tostring(err):find("bad option 'every'", 1, true), "wait option", tostring(err))
  local layers = assert(oci.layers(store, specs, { cache = false, push = s }))
  check(layers[1].streamed == true and layers[2].streamed == true, "descriptors say streamed")
  -- a progress callback may read the stream but not close it
  local calls, closed_err = 0, nil
  local st = assert(s:wait({ interval = 0.001, progress = function(p)
    calls = calls + 1
    check(type(p.confirmed_bytes) == "number" and #p.layers == 2, "progress stats")
    local cok, cerr = pcall(s.close, s)
    if not cok then closed_err = tostring(cerr) end
  end }))
  check(closed_err == nil or closed_err:find("busy", 1, true), "close from progress raises", tostring(closed_err))
  check(st.uploaded + st.existing == 2 and st.done == 2 and not st.failed and #st.layers == 2, "wait: every layer done",
        tostring(st.uploaded), tostring(st.existing))
  for i, l in ipairs(layers) do
    check(st.layers[i].digest == l.digest and st.layers[i].written == l.size and st.layers[i].state == "built",
          "stats layer " .. i)
    local there, size = c:has_blob("lua/stream", l.digest)
    check(there == true and size == l.size, "streamed layer in the registry", tostring(there))
    check(oci.digest_file(store:blob_path(l.digest)) == l.digest, "streamed layer in the layout")
  end
  -- the big layer went in several chunks of 256 KiB
  check(st.layers[1].patches >= 2 and st.patches >= 2, "big layer chunked", tostring(st.layers[1].patches))
  s:close()
  ok, err = pcall(s.stats, s)
  check(not ok and tostring(err):find("closed push stream", 1, true), "a closed stream raises", tostring(err))
  s:close()  -- twice is fine
  -- a build's progress function runs while the build uploads into a stream: it cannot close
  -- that stream, nor start another build on it
  local s2 = assert(sc:push_stream("lua/stream-progress"))
  local close_errs, build_errs, pcalls = 0, 0, 0
  local layers2 = assert(oci.layers(assert(oci.layout(tmp .. "/layout2")), specs, { cache = false, push = s2,
    progress = function(p)
      pcalls = pcalls + 1
      local cok, cerr = pcall(s2.close, s2)
      if not cok and tostring(cerr):find("busy", 1, true) then close_errs = close_errs + 1 end
      local bok, berr = pcall(require("hoist.oci.core").write_layers, {}, tmp, { push = s2 })
      if not bok and tostring(berr):find("busy", 1, true) then build_errs = build_errs + 1 end
    end }))
  check(pcalls >= 1 and close_errs == pcalls and build_errs == pcalls, "progress cannot close or reuse the stream",
        tostring(pcalls), tostring(close_errs), tostring(build_errs))
  local st2 = assert(s2:wait())
  check(st2.done == 2 and layers2[1].digest == layers[1].digest, "the build with progress streamed its layers")
  s2:close()
  getmetatable(sc).__close(sc)
  -- the same specs into another layout without a stream: the same digests
  local plain = assert(oci.layers(assert(oci.layout(tmp .. "/plain")), specs, { cache = false }))
  check(plain[1].digest == layers[1].digest and plain[2].digest == layers[2].digest and not plain[1].streamed,
        "streamed and plain layers are the same")
  fs.remove(tmp)
end

print(passed .. " passed")
