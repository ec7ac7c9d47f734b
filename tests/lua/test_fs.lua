-- hoist.fs: files and folders, atomic writes, sorted listings, and the nil, msg, code contract.
local t = require("testlib")
local fs = require("hoist.fs")

local root = assert(fs.tmpdir("hoist-test-fs"))
local function P(rel) return root .. "/" .. rel end

-- The error contract of io.open: nil, a message naming the path, a stable code.
local function fails(code, path, ok, msg, got)
  t.eq(ok, nil, "first result")
  t.eq(type(msg), "string", "message")
  if path then t.ok(msg:find(path, 1, true), "message names '" .. path .. "': " .. msg) end
  t.eq(got, code, "code")
end

t.test("tmpdir makes a new private folder", function()
  t.ok(root:find("/hoist-test-fs.", 1, true), root)
  local st = assert(fs.stat(root))
  t.eq(st.type, "dir")
  t.eq(st.mode, tonumber("700", 8))
  local a, b = assert(fs.tmpdir()), assert(fs.tmpdir())
  t.ok(a ~= b, "two folders")
  t.ok(a:find("/hoist.", 1, true), "default prefix: " .. a)
  t.ok(fs.remove(a) and fs.remove(b))
  t.eq(fs.exists(a), false)
end)

t.test("write and read bytes", function()
  t.eq(fs.write(P("a.txt"), "hello"), true)
  t.eq(fs.read(P("a.txt")), "hello")
  local bin = "\0\1\2\255 mid\0end\n"
  assert(fs.write(P("bin"), bin))
  t.eq(fs.read(P("bin")), bin)
  assert(fs.write(P("empty"), ""))
  t.eq(fs.read(P("empty")), "")
  local big = string.rep("0123456789abcdef", 65536)  -- 1 MiB, more than one block
  assert(fs.write(P("big"), big))
  t.eq(fs.read(P("big")) == big, true, "1 MiB round trip")
  -- replacing shrinks the file (a fresh file renamed over, not an overwrite in place)
  assert(fs.write(P("big"), "small"))
  t.eq(fs.read(P("big")), "small")
  t.eq(fs.stat(P("big")).size, 5)
end)

t.test("write without an fsync: the same atomic replace; a bad option raises", function()
  assert(fs.write(P("nd"), "one", { durable = false }))
  t.eq(fs.read(P("nd")), "one")
  assert(fs.write(P("nd"), "two", { durable = false, mode = "0600" }))
  t.eq(fs.read(P("nd")), "two")
  t.eq(fs.stat(P("nd")).mode, tonumber("600", 8))
  t.raises(function() fs.write(P("nd"), "x", { durable = "no" }) end, "durable")
  t.raises(function() fs.write(P("nd"), "x", { durabel = false }) end, "did you mean 'durable'")
end)

t.test("write with a mode, and a rewrite keeps the mode", function()
  assert(fs.write(P("m1"), "x", { mode = "0640" }))
  t.eq(fs.stat(P("m1")).mode, tonumber("640", 8))
  assert(fs.write(P("m2"), "x", { mode = tonumber("755", 8) }))
  t.eq(fs.stat(P("m2")).mode, tonumber("755", 8))
  assert(fs.write(P("m1"), "new"))  -- no mode: the existing one stays
  t.eq(fs.stat(P("m1")).mode, tonumber("640", 8))
  t.eq(fs.read(P("m1")), "new")
  assert(fs.write(P("m1"), "newer", { mode = "600" }))
  t.eq(fs.stat(P("m1")).mode, tonumber("600", 8))
  assert(fs.write(P("m3"), "x", {}))  -- an empty options table is fine
  t.raises(function() fs.write(P("m4"), "x", { mode = true }) end, "bad option 'mode' to 'write'")
  t.eq(fs.exists(P("m4")), false)
end)

-- one mode parser for every API: a text that is not octal is an error naming it, never mode 0000
t.test("modes: one parser, bad ones named", function()
  for _, bad in ipairs({ "rw-r--r--", "0999", "75", "07777x", "", "0o" }) do
    t.raises(function() fs.write(P("m5"), "x", { mode = bad }) end, "invalid file mode '" .. bad .. "'")
    t.raises(function() fs.mkdir(P("m5d"), { mode = bad }) end, "invalid file mode '" .. bad .. "'")
  end
  t.raises(function() fs.write(P("m5"), "x", { mode = 8 ^ 5 }) end, "invalid file mode")
  t.raises(function() fs.write(P("m5"), "x", { mode = -1 }) end, "invalid file mode")
  t.raises(function() fs.write(P("m5"), "x", { mod = "0644" }) end, "did you mean 'mode'")
  t.eq(fs.exists(P("m5")), false)
  t.eq(fs.exists(P("m5d")), false)
  t.eq(fs.parse_mode("0755"), tonumber("755", 8))
  t.eq(fs.parse_mode("644"), tonumber("644", 8))
  t.eq(fs.parse_mode("0o4755"), tonumber("4755", 8))
  t.eq(fs.parse_mode(420), 420)
  local none, err = fs.parse_mode("rw-r--r--")
  t.ok(none == nil and err:find("invalid file mode 'rw-r--r--'", 1, true), err)
end)

t.test("read refuses what is not a regular file without blocking on it", function()
  assert(os.execute("mkfifo '" .. P("fifo") .. "'"))
  local none, err, code = fs.read(P("fifo"))
  t.ok(none == nil and code == "EINVAL" and err:find("FIFO", 1, true), err)
  none, err, code = fs.read(root)
  t.ok(none == nil and code == "EINVAL" and err:find("folder", 1, true), err)
end)

t.test("copy_all copies several files on several threads; the first failure is named", function()
  local list = {}
  for i = 1, 7 do
    assert(fs.write(P("ca-src" .. i), string.rep(tostring(i), i * 70000)))
    list[i] = { from = P("ca-src" .. i), to = P("ca-dst" .. i) }
  end
  t.eq(fs.copy_all(list, { threads = 3 }), true)
  for i = 1, 7 do
    t.eq(fs.read(P("ca-dst" .. i)), string.rep(tostring(i), i * 70000))
    t.ok(fs.stat(P("ca-dst" .. i)).ino ~= fs.stat(P("ca-src" .. i)).ino, "no shared inode")
  end
  t.eq(fs.copy_all({}), true)
  list[3].from = P("ca-missing")
  local ok, err, code, at = fs.copy_all(list, { durable = false })
  t.eq(ok, nil)
  t.eq(at, 3)
  t.eq(code, "EIO")
  t.ok(err:find("ca-missing", 1, true), err)
  t.eq(fs.read(P("ca-dst7")), string.rep("7", 7 * 70000), "the others are copied")
  t.raises(function() fs.copy_all({ { from = 1 } }) end, "{ from = path, to = path }")
  t.raises(function() fs.copy_all({}, { thread = 2 }) end, "did you mean 'threads'")
  t.raises(function() fs.copy_all({}, { durable = "no" }) end, "bad option 'durable' to 'copy_all'")
  t.raises(function() fs.copy_all({}, { threads = 0 }) end, "bad option 'threads' to 'copy_all'")
  -- more threads than a pool can have, for more files than that: as many as it can, not a
  -- failure of every copy
  local many = {}
  for i = 1, 300 do
    assert(fs.write(P("cm-src" .. i), tostring(i), { durable = false }))
    many[i] = { from = P("cm-src" .. i), to = P("cm-dst" .. i) }
  end
  t.eq(fs.copy_all(many, { threads = 1000, durable = false }), true)
  t.eq(fs.read(P("cm-dst300")), "300")
end)

t.test("copy shares no inode; lock excludes; sweep_temps removes what dead writers left", function()
  assert(fs.write(P("c-src"), "content"))
  assert(fs.copy(P("c-src"), P("c-dst")))
  t.eq(fs.read(P("c-dst")), "content")
  assert(fs.write(P("c-src"), "changed"))
  t.eq(fs.read(P("c-dst")), "content")
  -- a lock held here makes another process wait: it cannot take it with flock -n
  local l = assert(fs.lock(P("the.lock")))
  t.ok(not os.execute("flock -n '" .. P("the.lock") .. "' true"), "a second holder is refused while held")
  l:unlock()
  t.ok(os.execute("flock -n '" .. P("the.lock") .. "' true"), "free again once unlocked")
  do
    local l2 <close> = assert(fs.lock(P("the.lock")))
    t.ok(not os.execute("flock -n '" .. P("the.lock") .. "' true"), "held by a <close> variable")
  end
  t.ok(os.execute("flock -n '" .. P("the.lock") .. "' true"), "released when the variable closes")
  -- temp files: a dead writer's (pid 999999 cannot exist: pid_max is lower) and an old nameless
  -- one go; a live writer's (pid 1) and a fresh nameless one stay
  local d = P("sweep")
  assert(fs.mkdir(d))
  for _, n in ipairs({ "a.tmp-999999-1", ".tmp-layer-old", ".tmp-layer-new", "b.tmp-1-2", "keep" }) do
    assert(fs.write(d .. "/" .. n, "x"))
  end
  assert(os.execute("touch -d '2 hours ago' '" .. d .. "/.tmp-layer-old'"))
  t.eq(fs.sweep_temps(d, 900), 2)
  t.ok(not fs.exists(d .. "/a.tmp-999999-1") and not fs.exists(d .. "/.tmp-layer-old"), "stale ones removed")
  t.ok(fs.exists(d .. "/.tmp-layer-new") and fs.exists(d .. "/keep"), "fresh and unrelated ones kept")
end)

t.test("a write leaves no temporary file behind", function()
  local dir = P("atomic")
  assert(fs.mkdir(dir))
  for i = 1, 5 do assert(fs.write(dir .. "/f", "round " .. i)) end
  t.same(fs.list(dir), { "f" })
  t.eq(fs.read(dir .. "/f"), "round 5")
  -- a failed write (the folder is missing) leaves nothing either
  fails("ENOENT", dir .. "/nope/f", fs.write(dir .. "/nope/f", "x"))
  t.same(fs.list(dir), { "f" })
end)

t.test("write through a symlink keeps the link", function()
  assert(fs.write(P("target.txt"), "old"))
  assert(os.execute("ln -s target.txt '" .. P("via-link") .. "'"))
  assert(fs.write(P("via-link"), "new"))
  t.eq(fs.stat(P("via-link")).type, "link")
  t.eq(fs.read(P("target.txt")), "new")
end)

t.test("exists and stat", function()
  t.eq(fs.exists(P("a.txt")), true)
  t.eq(fs.exists(root), true)
  t.eq(fs.exists(P("no-such")), false)
  local st = assert(fs.stat(P("a.txt")))
  t.eq(st.type, "file")
  t.eq(st.size, 5)
  t.eq(math.type(st.mtime), "integer")
  t.ok(math.abs(st.mtime - os.time()) < 3600, "mtime is now-ish")
  t.eq(math.type(st.mode), "integer")
  -- stat does not follow links unless asked
  t.eq(fs.stat(P("via-link")).type, "link")
  t.eq(fs.stat(P("via-link"), true).type, "file")
  t.eq(fs.stat(P("via-link"), true).size, 3)
  -- a dangling link exists (it is there), but following it fails
  assert(os.execute("ln -s nowhere '" .. P("dangling") .. "'"))
  t.eq(fs.exists(P("dangling")), true)
  fails("ENOENT", P("dangling"), fs.stat(P("dangling"), true))
  fails("ENOENT", P("no-such"), fs.stat(P("no-such")))
end)

t.test("read errors: missing file, folder", function()
  fails("ENOENT", P("no-such"), fs.read(P("no-such")))
  fails("EINVAL", root, fs.read(root))
end)

t.test("mkdir with a mode gives the folders it creates that mode", function()
  t.eq(fs.mkdir(P("private/inner"), { mode = "0700" }), true)
  t.eq(fs.stat(P("private")).mode, tonumber("700", 8))
  t.eq(fs.stat(P("private/inner")).mode, tonumber("700", 8))
  t.raises(function() fs.mkdir(P("x"), { mode = true }) end, "invalid file mode boolean")
end)

t.test("mkdir makes parents and accepts existing folders", function()
  t.eq(fs.mkdir(P("d1/d2/d3")), true)
  t.eq(fs.stat(P("d1/d2/d3")).type, "dir")
  t.eq(fs.mkdir(P("d1/d2/d3")), true)
  t.eq(fs.mkdir(P("d1/d2/")), true)
  local ok, msg, code = fs.mkdir(P("a.txt"))  -- a file is in the way
  t.eq(ok, nil)
  t.ok(msg:find(P("a.txt"), 1, true), msg)
  t.eq(type(code), "string")
  ok, msg, code = fs.mkdir(P("a.txt/sub"))
  t.eq(ok, nil)
  t.eq(type(msg), "string")
  t.eq(type(code), "string")
end)

t.test("list is sorted and has no . or ..", function()
  local dir = P("listing")
  assert(fs.mkdir(dir))
  for _, n in ipairs({ "b", "a", "c", "B", "a.b", "_", "10", "9" }) do assert(fs.write(dir .. "/" .. n, n)) end
  assert(fs.mkdir(dir .. "/sub"))
  t.same(fs.list(dir), { "10", "9", "B", "_", "a", "a.b", "b", "c", "sub" })
  assert(fs.mkdir(P("emptydir")))
  t.same(fs.list(P("emptydir")), {})
  fails("ENOENT", P("no-such"), fs.list(P("no-such")))
end)

t.test("remove deletes trees, not what links point at", function()
  assert(fs.mkdir(P("tree/x/y")))
  assert(fs.write(P("tree/x/y/f"), "f"))
  assert(fs.write(P("tree/g"), "g"))
  assert(fs.mkdir(P("precious")))
  assert(fs.write(P("precious/keep"), "keep"))
  assert(os.execute("ln -s ../precious '" .. P("tree/x/link") .. "'"))
  t.eq(fs.remove(P("tree")), true)
  t.eq(fs.exists(P("tree")), false)
  t.eq(fs.read(P("precious/keep")), "keep")
  t.eq(fs.remove(P("tree")), true)  -- already gone: fine
  assert(fs.write(P("lonely"), "x"))
  t.eq(fs.remove(P("lonely")), true)  -- a single file
  t.eq(fs.exists(P("lonely")), false)
end)

t.test("rename", function()
  assert(fs.write(P("r1"), "one"))
  assert(fs.write(P("r2"), "two"))
  t.eq(fs.rename(P("r1"), P("r2")), true)  -- replaces
  t.eq(fs.exists(P("r1")), false)
  t.eq(fs.read(P("r2")), "one")
  fails("ENOENT", P("r1"), fs.rename(P("r1"), P("r3")))
end)

t.test("link_or_copy", function()
  assert(fs.write(P("src.bin"), "blob bytes"))
  t.eq(fs.link_or_copy(P("src.bin"), P("dst.bin")), true)
  t.eq(fs.read(P("dst.bin")), "blob bytes")
  assert(fs.write(P("dst2.bin"), "old"))
  t.eq(fs.link_or_copy(P("src.bin"), P("dst2.bin")), true)  -- replaces
  t.eq(fs.read(P("dst2.bin")), "blob bytes")
  fails("EIO", P("no-such"), fs.link_or_copy(P("no-such"), P("dst3.bin")))
  t.eq(fs.exists(P("dst3.bin")), false)
  t.eq(fs.read(P("dst2.bin")), "blob bytes")
end)

t.test("realpath", function()
  local real = assert(fs.realpath(root))
  t.eq(real:sub(1, 1), "/")
  t.eq(fs.realpath(root .. "/d1/./d2/../../a.txt"), real .. "/a.txt")
  t.eq(fs.realpath(P("via-link")), real .. "/target.txt")
  fails("ENOENT", P("no-such"), fs.realpath(P("no-such")))
end)

t.test("glob", function()
  local dir = P("globbing")
  assert(fs.mkdir(dir .. "/sub"))
  for _, n in ipairs({ "b.txt", "a.txt", "c.md", "sub/d.txt" }) do assert(fs.write(dir .. "/" .. n, n)) end
  t.same(fs.glob(dir .. "/*.txt"), { dir .. "/a.txt", dir .. "/b.txt" })
  t.same(fs.glob(dir .. "/*/*.txt"), { dir .. "/sub/d.txt" })
  t.same(fs.glob(dir .. "/?.md"), { dir .. "/c.md" })
  t.same(fs.glob(dir .. "/*.none"), {})
  t.same(fs.glob(P("no-such/*")), {})
end)

t.test("misuse raises", function()
  t.raises(function() fs.read() end, "bad argument #1 to 'read'")
  t.raises(function() fs.write(P("x")) end, "bad argument #2 to 'write'")
  t.raises(function() fs.stat({}) end, "bad argument #1")
  t.raises(function() fs.rename(P("x")) end, "bad argument #2")
  t.raises(function() fs.link_or_copy(nil, "x") end, "bad argument #1")
end)

t.test("cleanup", function()
  t.eq(fs.remove(root), true)
  t.eq(fs.exists(root), false)
end)

t.done()
