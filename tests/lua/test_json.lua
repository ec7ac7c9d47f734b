-- hoist.json: conversion both ways, markers, options, errors, files.
local t = require("testlib")
local json = require("hoist.json")

-- Sorted compact encoding: a canonical text to compare tables with.
local function canon(v) return json.encode(v, { sort_keys = true }) end

local function read_all(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function shell(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return (out:gsub("%s+$", ""))
end

-- Files in dir whose name starts with prefix (to find leftover temp files).
local function leftovers(dir, prefix)
  local found = {}
  for name in shell("ls -a " .. dir):gmatch("[^\n]+") do
    if name:sub(1, #prefix) == prefix then found[#found + 1] = name end
  end
  return found
end

t.test("round trip of nested values", function()
  local v = {
    name = "ext", version = "1.2.0", count = 3, ratio = 0.25, ok = true, off = false,
    platforms = { "linux/amd64", "linux/arm64" },
    nested = { a = { b = { c = { 1, 2, { d = "deep" } } } } },
    list_of_objects = { { alt = "a", url = "u" }, { alt = "b", url = "v" } },
  }
  local back = assert(json.decode(json.encode(v)))
  t.same(back, v)
  t.eq(canon(back), canon(v))
  t.eq(json.encode(json.decode('{"a":[1,{"b":[]},"x"]}')), '{"a":[1,{"b":[]},"x"]}')
end)

t.test("top-level scalars both ways", function()
  t.eq(json.encode("x"), '"x"')
  t.eq(json.encode(12), "12")
  t.eq(json.encode(true), "true")
  t.eq(json.encode(nil), "null")
  t.eq(json.decode('"x"'), "x")
  t.eq(json.decode(" 12 "), 12)
  t.eq(json.decode("false"), false)
end)

t.test("null is a unique sentinel that round-trips", function()
  t.eq(type(json.null), "userdata")
  t.eq(tostring(json.null), "null")
  t.eq(json.decode("null"), json.null)
  t.eq(require("hoist.json").null, json.null)
  t.eq(json.encode(json.null), "null")
  t.eq(json.encode({ 1, json.null, 3 }), "[1,null,3]")
  t.eq(json.encode({ a = json.null }), '{"a":null}')
  local v = json.decode('{"a":null,"b":[null,1]}')
  t.eq(v.a, json.null)
  t.eq(v.b[1], json.null)
  t.eq(#v.b, 2)
  t.eq(canon(v), '{"a":null,"b":[null,1]}')
end)

t.test("arrays, objects and empty tables", function()
  t.eq(json.encode({ 1, 2, 3 }), "[1,2,3]")
  t.eq(json.encode({ "a" }), '["a"]')
  t.eq(json.encode({ x = 1 }), '{"x":1}')
  t.eq(json.encode({}), "{}")
  t.eq(json.encode({ list = {} }), '{"list":{}}')
  -- keys arriving in any order still make an array
  local r = {}
  r[3] = "c"; r[1] = "a"; r[2] = "b"
  t.eq(json.encode(r), '["a","b","c"]')
end)

t.test("array and object markers", function()
  local a = {}
  t.eq(json.array(a), a, "returns the same table")
  t.eq(json.encode(a), "[]")
  t.eq(json.encode(json.array()), "[]", "no argument: a new table")
  t.eq(json.encode(json.object({})), "{}")
  t.eq(json.encode({ tags = json.array({}), labels = json.object({}) }, { sort_keys = true }),
    '{"labels":{},"tags":[]}')
  -- a marked table still works as an array once filled
  a[1] = "x"
  t.eq(json.encode(a), '["x"]')
  -- marking leaves a table's own metatable alone
  local mt = { __index = function() return "dflt" end }
  local m = setmetatable({}, mt)
  json.array(m)
  t.eq(getmetatable(m), mt)
  t.eq(json.encode(m), "[]")
  -- the last mark wins
  local b = json.array({})
  json.object(b)
  t.eq(json.encode(b), "{}")
  -- decoded arrays stay arrays when emptied, so [] round-trips
  local d = json.decode('{"x":[],"y":[1]}')
  t.eq(next(d.x), nil)
  t.eq(json.encode(d.x), "[]")
  d.y[1] = nil
  t.eq(json.encode(d.y), "[]")
  t.eq(json.encode(json.decode("{}")), "{}")
  t.raises(function() json.array(5) end, "bad argument #1")
  t.raises(function() json.object("x") end, "bad argument #1")
end)

t.test("sort_keys sorts at every level", function()
  local v = { b = 1, a = 2, c = { z = 1, y = 2, x = { 3, 2, 1 } }, A = 0, ["_"] = 9 }
  t.eq(json.encode(v, { sort_keys = true }), '{"A":0,"_":9,"a":2,"b":1,"c":{"x":[3,2,1],"y":2,"z":1}}')
  -- without sort_keys the order is unspecified, but the content is the same
  t.same(json.decode(json.encode(v)), v)
  t.eq(json.encode(v, { sort_keys = false }):len(), json.encode(v, { sort_keys = true }):len())
end)

t.test("indent gives jansson's layout", function()
  local v = { name = "x", list = { 1, 2 }, empty = json.array(), obj = { k = json.null } }
  t.eq(json.encode(v, { indent = 2, sort_keys = true }), table.concat({
    '{',
    '  "empty": [],',
    '  "list": [',
    '    1,',
    '    2',
    '  ],',
    '  "name": "x",',
    '  "obj": {',
    '    "k": null',
    '  }',
    '}',
  }, "\n"))
  t.eq(json.encode({ a = { 1 } }, { indent = 4 }), '{\n    "a": [\n        1\n    ]\n}')
  t.eq(json.encode({ a = 1, b = { 2 } }, { sort_keys = true }), '{"a":1,"b":[2]}', "compact")
  t.eq(json.encode({ a = 1 }, { indent = 0 }), '{"a":1}', "indent 0 is compact")
  t.eq(json.encode("s", { indent = 2 }), '"s"')
end)

t.test("unicode and special characters in strings", function()
  local s = "héllo ✓ 日本 😀"
  t.eq(json.decode(json.encode(s)), s)
  t.eq(json.encode(s), '"' .. s .. '"', "UTF-8 is written as is")
  t.eq(json.decode('"\\u00e9\\u2713\\ud83d\\ude00"'), "é✓😀")
  t.eq(json.encode('q"b\\s/\n\t\1'), '"q\\"b\\\\s/\\n\\t\\u0001"')
  -- NUL inside strings survives both ways
  t.eq(json.encode("a\0b"), '"a\\u0000b"')
  t.eq(json.decode('"a\\u0000b"'), "a\0b")
  t.eq(json.encode({ ["k\0"] = 1 }), '{"k\\u0000":1}')
  t.same(json.decode('{"ключ":"значение"}'), { ["ключ"] = "значение" })
  -- invalid UTF-8 is misuse when encoding, an error when decoding
  t.raises(function() json.encode("\255") end, "not valid UTF-8")
  t.raises(function() json.encode({ "\237\160\128" }) end, "not valid UTF-8 at '[1]'") -- a surrogate
  t.raises(function() json.encode({ ["\192\128"] = 1 }) end, "key that is not valid UTF-8")
  local v, err = json.decode('"\255"')
  t.eq(v, nil)
  t.ok(err:find("line 1", 1, true), err)
end)

t.test("integers and floats", function()
  t.eq(json.encode(1), "1")
  t.eq(json.encode(-42), "-42")
  t.eq(json.encode(1.0), "1.0")
  t.eq(json.encode(-0.0), "-0.0")
  t.eq(json.encode(0.5), "0.5")
  t.eq(json.encode(0.1), "0.1")
  t.eq(json.encode(1e300), "1e300")
  t.eq(json.encode(1e-5), "1e-5")
  t.eq(json.encode(math.maxinteger), "9223372036854775807")
  t.eq(json.encode(math.mininteger), "-9223372036854775808")
  t.eq(math.type(json.decode("3")), "integer")
  t.eq(math.type(json.decode("3.0")), "float")
  t.eq(math.type(json.decode("3e0")), "float")
  t.eq(json.decode("-9223372036854775808"), math.mininteger)
  t.eq(json.decode("9223372036854775807"), math.maxinteger)
  -- integers beyond 64 bits become floats, as Lua's own literals do
  t.eq(math.type(json.decode("9223372036854775808")), "float")
  t.eq(json.decode("12345678901234567890"), 12345678901234567890.0)
  t.eq(json.decode("-99999999999999999999"), -1e20)
  t.same(json.decode('{"big":[18446744073709551616,1],"s":"18446744073709551616"}'),
    { big = { 2.0 ^ 64, 1 }, s = "18446744073709551616" })
  t.eq(math.type(json.decode("[18446744073709551616, 1]")[2]), "integer")
  -- every double survives a round trip exactly, and short ones print short
  local reals = { 0.1, 1 / 3, 2 / 3, 1e-7, 123.456, 5e-324, 1.7976931348623157e308, 2 ^ 53 + 0.0 }
  for _, r in ipairs(reals) do
    t.eq(json.decode(json.encode(r)), r, tostring(r))
  end
  local back = json.decode(json.encode(reals))
  for i, r in ipairs(reals) do t.eq(back[i], r, "in one document: " .. tostring(r)) end
  t.eq(json.encode({ 0.1, 0.25 }), "[0.1,0.25]")
end)

t.test("decode errors return nil, message and code", function()
  local v, err, code = json.decode('{\n  "a": 1,\n  "b" 2\n}')
  t.eq(v, nil)
  t.eq(code, "EINVAL")
  t.ok(err:find("invalid JSON at line 3, column", 1, true), err)
  t.ok(err:find("':' expected", 1, true), err)
  local cases = { "", "[1,", "{", "[1 2]", "nul", "{'a':1}", "[1]x", '{"a":1,}', "01", "[1e999]" }
  for _, s in ipairs(cases) do
    local ok, e = json.decode(s)
    t.eq(ok, nil, s)
    t.ok(e:find("line %d+, column %d+") ~= nil, e)
  end
  -- the position stays right when big integers were rewritten before a later error
  local _, e2 = json.decode("[12345678901234567890, x]")
  t.ok(e2:find("line 1, column 24", 1, true), e2)
  t.raises(function() json.decode() end, "bad argument #1")
  t.raises(function() json.decode({}) end, "bad argument #1")
end)

t.test("encode misuse raises naming the path", function()
  t.raises(function() json.encode({ a = { b = { 1, print } } }) end,
    "cannot encode a function value at 'a.b[2]'")
  t.raises(function() json.encode({ ["odd key"] = { coroutine.create(print) } }) end,
    "cannot encode a thread value at '[\"odd key\"][1]'")
  t.raises(function() json.encode(print) end, "cannot encode a function value")
  t.raises(function() json.encode({ x = io.stdout }) end, "cannot encode a userdata value (FILE*) at 'x'")
  t.raises(function() json.encode({ n = 0 / 0 }) end, "cannot encode the number nan")
  t.raises(function() json.encode({ 1 / 0 }) end, "cannot encode the number inf at '[1]'")
  t.raises(function() json.encode(-1 / 0) end, "-inf")
  t.raises(function() json.encode({ 1, 2, x = 3 }) end, "both string keys and integer keys")
  t.raises(function() json.encode({ [1] = 1, [3] = 3 }) end, "sparse array")
  t.raises(function() json.encode({ a = { [0] = 1 } }) end, "key 0")
  t.raises(function() json.encode({ [1.5] = 1 }) end, "key 1.5")
  t.raises(function() json.encode({ [true] = 1 }) end, "boolean key")
  t.raises(function() json.encode({ [{}] = 1 }) end, "table key")
  t.raises(function() json.encode(json.array({ x = 1 })) end, 'key "x" in a table marked as an array')
  t.raises(function() json.encode(json.object({ 1 })) end, "key 1 in a table marked as an object")
end)

t.test("cycles and nesting depth", function()
  local c = {}
  c.self = c
  t.raises(function() json.encode(c) end, "contains itself")
  local d = { x = {} }
  d.x.y = { z = d.x }
  t.raises(function() json.encode(d) end, "the table at 'x'")
  -- the same table twice, but not inside itself, is fine
  local shared = { 1 }
  t.eq(json.encode({ shared, shared }), "[[1],[1]]")
  -- 1000 nested tables encode; 1001 do not
  local root = {}
  local cur = root
  for _ = 2, 1000 do cur[1] = {}; cur = cur[1] end
  local s = json.encode(root)
  t.eq(#s, 2000)
  t.eq(#json.encode(json.decode(s)), 2000)
  cur[1] = {}
  t.raises(function() json.encode(root) end, "nested deeper than 1000")
end)

t.test("option misuse raises", function()
  t.raises(function() json.encode() end, "bad argument #1")
  t.raises(function() json.encode(1, 5) end, "bad argument #2")
  t.raises(function() json.encode(1, { indent = -1 }) end, "indent")
  t.raises(function() json.encode(1, { indent = 32 }) end, "indent")
  t.raises(function() json.encode(1, { indent = 1.5 }) end, "indent")
  t.raises(function() json.encode(1, { indent = "2" }) end, "indent")
  t.raises(function() json.encode(1, { sort_keys = "yes" }) end, "sort_keys")
end)

t.test("write then read a file", function()
  local path = os.tmpname()
  local v = { name = "x", list = { 1, 2.5, "three" }, none = json.null, empty = json.array() }
  t.eq(json.write(path, v, { sort_keys = true }), true)
  t.eq(read_all(path), '{"empty":[],"list":[1,2.5,"three"],"name":"x","none":null}\n')
  t.same(assert(json.read(path)), v)
  t.eq(json.encode(json.read(path).empty), "[]")
  t.eq(json.write(path, { a = { 1 } }, { indent = 2 }), true)
  t.eq(read_all(path), '{\n  "a": [\n    1\n  ]\n}\n')
  t.eq(json.write(path, "scalar"), true)
  t.eq(json.read(path), "scalar")
  os.remove(path)
end)

t.test("write is atomic and leaves no temp file", function()
  local path = os.tmpname()
  local dir, base = path:match("^(.*)/([^/]+)$")
  t.eq(json.write(path, { n = 1 }), true)
  t.eq(json.write(path, { n = 2 }), true)
  t.same(json.read(path), { n = 2 })
  t.same(leftovers(dir, base .. "."), {})
  -- a failed encode leaves the old file alone
  t.raises(function() json.write(path, { f = print }) end, "cannot encode a function value at 'f'")
  t.same(json.read(path), { n = 2 })
  t.same(leftovers(dir, base .. "."), {})
  -- permissions of an existing file are kept; mode sets them
  shell("chmod 600 " .. path)
  t.eq(json.write(path, { n = 3 }), true)
  t.eq(shell("stat -c %a " .. path), "600")
  t.eq(json.write(path, { n = 4 }, { mode = "0640" }), true)
  t.eq(shell("stat -c %a " .. path), "640")
  t.eq(json.write(path, { n = 5 }, { mode = 420 }), true)
  t.eq(shell("stat -c %a " .. path), "644")
  t.raises(function() json.write(path, 1, { mode = "rw" }) end, "mode")
  -- a symlink stays a link; its target gets the new content
  local link = path .. ".link"
  shell("ln -s " .. path .. " " .. link)
  t.eq(json.write(link, { n = 6 }), true)
  t.eq(shell("test -L " .. link .. " && echo link"), "link")
  t.same(json.read(path), { n = 6 })
  t.same(leftovers(dir, base .. ".tmp"), {})
  os.remove(link)
  os.remove(path)
end)

t.test("file errors return nil, message naming the path, code", function()
  local missing = os.tmpname()
  os.remove(missing)
  local v, err, code = json.read(missing)
  t.eq(v, nil)
  t.ok(err:find("'" .. missing .. "'", 1, true), err)
  t.eq(code, "ENOENT")

  local bad = os.tmpname()
  local f = assert(io.open(bad, "wb"))
  f:write('{\n  "a": [1,\n    2,,\n  ]\n}\n')
  f:close()
  v, err, code = json.read(bad)
  t.eq(v, nil)
  t.ok(err:find("invalid JSON in '" .. bad .. "' at line 3, column", 1, true), err)
  t.eq(code, "EINVAL")
  os.remove(bad)

  local ok
  ok, err, code = json.write(missing .. "/sub/x.json", {})
  t.eq(ok, nil)
  t.ok(err:find("cannot write '" .. missing .. "/sub/x.json'", 1, true), err)
  t.eq(code, "ENOENT")
  t.raises(function() json.read() end, "bad argument #1")
  t.raises(function() json.write(missing) end, "bad argument #2")
  t.raises(function() json.write("", {}) end, "bad argument #1")
end)

t.done()
