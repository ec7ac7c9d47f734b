-- hoist.auth: where credentials come from (each file, precedence, host spellings, Docker Hub,
-- credential helpers), how they are stored and erased, base64, and no secret in any message.
-- The environment is injected (opts.env), so nothing of the real HOME is read or written.
local t = require("testlib")
local auth = require("hoist.auth")
local fs = require("hoist.fs")
local json = require("hoist.json")
local ref = require("hoist.ref")

local root = assert(fs.tmpdir("hoist-test-auth"))
local BIN = root .. "/bin"
local PATH = BIN .. ":/usr/bin:/bin"
local SECRET = "s3cr3t-Pa55:with:colons"

-- A fake docker-credential helper: keeps one file per server URL in BIN/store, logs its argv.
local HELPER = [[#!/bin/sh
dir=$(dirname "$0")
store="$dir/store"
mkdir -p "$store"
echo "$(basename "$0") $*" >>"$dir/calls.log"
input=$(cat)
case "$1" in
get)
  case "$input" in fail.example*) echo "keyring exploded" >&2; exit 3 ;; esac
  f="$store/$(printf %s "$input" | tr '/:' '__')"
  if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
store)
  url=$(printf %s "$input" | sed -n 's/.*"ServerURL": *"\([^"]*\)".*/\1/p')
  case "$url" in fail.example*) echo "cannot store: $input"; exit 1 ;; esac
  printf %s "$input" >"$store/$(printf %s "$url" | tr '/:' '__')" ;;
erase)
  f="$store/$(printf %s "$input" | tr '/:' '__')"
  if [ -f "$f" ]; then rm "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
*) echo "unknown action $1"; exit 1 ;;
esac
]]
assert(fs.mkdir(BIN))
assert(fs.write(BIN .. "/docker-credential-hoisttest", HELPER, { mode = "0755" }))
-- a helper that hands out an identity token
assert(fs.write(BIN .. "/docker-credential-hoisttoken",
  "#!/bin/sh\ncat >/dev/null\necho '{\"ServerURL\":\"x\",\"Username\":\"<token>\",\"Secret\":\"refresh-TOKEN-1\"}'\n",
  { mode = "0755" }))

local n = 0
-- A fresh home for one test: { HOME, PATH } plus extra variables.
local function env(extra)
  n = n + 1
  local home = root .. "/home" .. n
  assert(fs.mkdir(home))
  local e = { HOME = home, PATH = PATH }
  for k, v in pairs(extra or {}) do e[k] = (v:gsub("^~", home)) end
  return e
end

local function write_json(path, v)
  assert(fs.mkdir(path:match("^(.*)/")))
  assert(fs.write(path, json.encode(v)))
end

local function b64(s) return auth.base64_encode(s) end

local function no_secret(...)
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if type(v) == "string" then
      t.ok(not v:find(SECRET, 1, true), "secret in: " .. v)
      t.ok(not v:find(b64("hoist:" .. SECRET), 1, true), "base64 secret in: " .. v)
      t.ok(not v:find("s3cr3t", 1, true), "part of the secret in: " .. v)
    end
  end
end

t.test("base64 both ways", function()
  local vectors = { [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==",
                    fooba = "Zm9vYmE=", foobar = "Zm9vYmFy" }
  for plain, enc in pairs(vectors) do
    t.eq(auth.base64_encode(plain), enc)
    t.eq(auth.base64_decode(enc), plain)
  end
  local all = {}
  for i = 0, 255 do all[#all + 1] = string.char(i) end
  all = table.concat(all)
  for len = 0, 20 do t.eq(auth.base64_decode(auth.base64_encode(all:sub(1, len))), all:sub(1, len)) end
  t.eq(auth.base64_decode(auth.base64_encode(all)), all)
  t.eq(auth.base64_decode("Zm9vYg"), "foob", "no padding")
  t.eq(auth.base64_decode("Zm9v\nYmFy"), "foobar", "line breaks")
  t.eq(auth.base64_decode("-_8="), "\251\255", "URL-safe alphabet")
  local v, err = auth.base64_decode("c2Vj!mV0")
  t.eq(v, nil)
  t.eq(err, "invalid base64")
  t.eq((auth.base64_decode("Z")), nil, "one stray character")
  t.raises(function() auth.base64_encode(nil) end, "string expected")
end)

t.test("no file at all: anonymous", function()
  local c, src = auth.credentials("r.example", { env = env() })
  t.same(c, {})
  t.eq(src, nil)
  t.same(auth.credentials("r.example", { env = {} }), {}, "not even HOME")
end)

t.test("docker config.json auths: auth and identitytoken", function()
  local e = env({ DOCKER_CONFIG = "~/dc" })
  write_json(e.DOCKER_CONFIG .. "/config.json", { auths = {
    ["r.example"] = { auth = b64("hoist:" .. SECRET) },
    ["tok.example"] = { auth = b64("alice:"), identitytoken = "refresh-1" },
    ["onlytok.example"] = { identitytoken = "refresh-2" },
    ["empty.example"] = {},
    ["legacy.example"] = { username = "bob", password = "pw" },
  } })
  local c, src = auth.credentials("r.example", { env = e })
  t.same(c, { username = "hoist", password = SECRET })
  t.eq(src, e.DOCKER_CONFIG .. "/config.json")
  t.same(auth.credentials("tok.example", { env = e }), { username = "alice", identity_token = "refresh-1" })
  t.same(auth.credentials("onlytok.example", { env = e }), { identity_token = "refresh-2" })
  t.same(auth.credentials("empty.example", { env = e }), {})
  t.same(auth.credentials("legacy.example", { env = e }), { username = "bob", password = "pw" })
  t.same(auth.credentials("other.example", { env = e }), {})
  -- without DOCKER_CONFIG: ~/.docker/config.json
  local e2 = env()
  write_json(e2.HOME .. "/.docker/config.json", { auths = { ["r.example"] = { auth = b64("u:p") } } })
  t.same(auth.credentials("r.example", { env = e2 }), { username = "u", password = "p" })
  t.eq(auth.config_path({ env = e2 }), e2.HOME .. "/.docker/config.json")
  t.eq(auth.config_path({ env = e }), e.DOCKER_CONFIG .. "/config.json")
end)

t.test("host keys are matched however they are spelled", function()
  for _, key in ipairs({ "r.example:5000", "https://r.example:5000", "http://r.example:5000",
                         "r.example:5000/v1/", "https://r.example:5000/v2/", "HTTPS://R.Example:5000" }) do
    local e = env()
    write_json(e.HOME .. "/.docker/config.json", { auths = { [key] = { auth = b64("u:" .. key) } } })
    t.same(auth.credentials("r.example:5000", { env = e }), { username = "u", password = key }, key)
    t.same(auth.credentials("r.example", { env = e }), {}, "another port is another registry: " .. key)
    t.same(auth.credentials("r.example:5001", { env = e }), {}, key)
  end
  -- the exact spelling wins over another one
  local e = env()
  write_json(e.HOME .. "/.docker/config.json", { auths = {
    ["https://r.example"] = { auth = b64("u:https") }, ["r.example"] = { auth = b64("u:plain") } } })
  t.same(auth.credentials("r.example", { env = e }), { username = "u", password = "plain" })
  t.same(auth.credentials("https://r.example/", { env = e }), { username = "u", password = "plain" })
end)

t.test("Docker Hub: one entry for docker.io, index.docker.io, registry-1.docker.io", function()
  for _, key in ipairs({ "https://index.docker.io/v1/", "docker.io", "index.docker.io", "registry-1.docker.io" }) do
    local e = env()
    write_json(e.HOME .. "/.docker/config.json", { auths = { [key] = { auth = b64("hub:pw") } } })
    for _, host in ipairs({ "docker.io", "registry-1.docker.io", "index.docker.io" }) do
      t.same(auth.credentials(host, { env = e }), { username = "hub", password = "pw" }, key .. " for " .. host)
    end
    t.same(auth.credentials("quay.io", { env = e }), {}, key)
  end
  t.eq(auth.server_key("docker.io"), "https://index.docker.io/v1/")
  t.eq(auth.server_key("registry-1.docker.io"), "https://index.docker.io/v1/")
  t.eq(auth.server_key("localhost:5000"), "localhost:5000")
  -- the Hub key is not a wildcard for others
  local e = env()
  write_json(e.HOME .. "/.docker/config.json", { auths = { ["https://index.docker.io/v1/"] = { auth = b64("hub:pw") } } })
  t.same(auth.credentials("ghcr.io", { env = e }), {})
end)

t.test("precedence: REGISTRY_AUTH_FILE, docker config, XDG_RUNTIME_DIR, XDG_CONFIG_HOME", function()
  local e = env({ REGISTRY_AUTH_FILE = "~/raf.json", DOCKER_CONFIG = "~/dc", XDG_RUNTIME_DIR = "~/run" })
  local files = auth.files({ env = e })
  t.eq(#files, 4)
  t.eq(files[1].path, e.REGISTRY_AUTH_FILE)
  t.eq(files[2].path, e.DOCKER_CONFIG .. "/config.json")
  t.eq(files[3].path, e.XDG_RUNTIME_DIR .. "/containers/auth.json")
  t.eq(files[4].path, e.HOME .. "/.config/containers/auth.json")
  write_json(e.REGISTRY_AUTH_FILE, { auths = { a = { auth = b64("raf:1") } } })
  write_json(e.DOCKER_CONFIG .. "/config.json", { auths = { a = { auth = b64("docker:1") }, b = { auth = b64("docker:2") } } })
  write_json(e.XDG_RUNTIME_DIR .. "/containers/auth.json", { auths = {
    a = { auth = b64("run:1") }, b = { auth = b64("run:2") }, c = { auth = b64("run:3") } } })
  write_json(e.HOME .. "/.config/containers/auth.json", { auths = {
    a = { auth = b64("cfg:1") }, c = { auth = b64("cfg:3") }, d = { auth = b64("cfg:4") } } })
  local function user(host) return (auth.credentials(host, { env = e })).username end
  t.eq(user("a"), "raf")
  t.eq(user("b"), "docker")
  t.eq(user("c"), "run")
  t.eq(user("d"), "cfg")
  local _, src = auth.credentials("d", { env = e })
  t.eq(src, e.HOME .. "/.config/containers/auth.json")
  -- XDG_CONFIG_HOME moves the last one
  e.XDG_CONFIG_HOME = e.HOME .. "/xdg"
  write_json(e.XDG_CONFIG_HOME .. "/containers/auth.json", { auths = { d = { auth = b64("xdg:4") } } })
  t.eq(user("d"), "xdg")
end)

t.test("--creds overrides every file; a malformed one is a usage error", function()
  local e = env()
  write_json(e.HOME .. "/.docker/config.json", { auths = { r = { auth = b64("file:pw") } } })
  local c, src = auth.credentials("r", { env = e, creds = "cli:" .. SECRET })
  t.same(c, { username = "cli", password = SECRET })
  t.eq(src, "--creds")
  t.same(auth.credentials("r", { creds = "u:" }), { username = "u", password = "" })
  for _, bad in ipairs({ SECRET:gsub(":", ""), ":" .. SECRET, "" }) do
    local v, err, code = auth.credentials("r", { env = e, creds = bad })
    t.eq(v, nil)
    t.eq(err, "--creds must be USER:PASSWORD")
    t.eq(code, "EINVAL")
    no_secret(err)
  end
end)

t.test("credHelpers: the helper answers for its host", function()
  local e = env()
  assert(auth.store("helped.example", "hoist", SECRET, { env = (function()
    -- put the credentials into the fake helper's store through the helper itself
    write_json(e.HOME .. "/.docker/config.json", { credHelpers = { ["helped.example"] = "hoisttest" } })
    return e
  end)() }))
  local c, src = auth.credentials("helped.example", { env = e })
  t.same(c, { username = "hoist", password = SECRET })
  t.eq(src, e.HOME .. "/.docker/config.json")
  -- the helper got the host on stdin; its argv never held a secret
  local calls = assert(fs.read(BIN .. "/calls.log"))
  t.ok(calls:find("docker-credential-hoisttest get", 1, true), calls)
  no_secret(calls)
  -- a host the helper is configured for but has nothing: anonymous, and the auths entry is not consulted
  write_json(e.HOME .. "/.docker/config.json", { credHelpers = { ["https://none.example"] = "hoisttest" },
    auths = { ["none.example"] = { auth = b64("stale:pw") } } })
  t.same(auth.credentials("none.example", { env = e }), {})
  -- an identity token
  write_json(e.HOME .. "/.docker/config.json", { credHelpers = { ["tok.example"] = "hoisttoken" } })
  t.same(auth.credentials("tok.example", { env = e }), { identity_token = "refresh-TOKEN-1" })
end)

t.test("credsStore: used when auths has no credentials for the host", function()
  local e = env()
  write_json(e.HOME .. "/.docker/config.json", { credsStore = "hoisttest",
    auths = { ["inline.example"] = { auth = b64("inline:pw") } } })
  assert(auth.store("stored.example", "carol", "pw-carol", { env = e }))
  local cfg = json.decode(fs.read(e.HOME .. "/.docker/config.json"))
  t.same(cfg.auths["stored.example"], {}, "an empty entry, as docker writes")
  t.eq(cfg.auths["inline.example"].auth, b64("inline:pw"), "the other entry kept")
  t.same(auth.credentials("stored.example", { env = e }), { username = "carol", password = "pw-carol" })
  t.same(auth.credentials("inline.example", { env = e }), { username = "inline", password = "pw" })
  t.same(auth.credentials("unknown.example", { env = e }), {})
end)

t.test("a failing or missing helper is an error naming it", function()
  local e = env()
  write_json(e.HOME .. "/.docker/config.json", { credHelpers = {
    ["fail.example"] = "hoisttest", ["missing.example"] = "hoist-not-installed", ["bad.example"] = "../evil" } })
  local c, err, code = auth.credentials("fail.example", { env = e })
  t.eq(c, nil)
  t.eq(code, "EHELPER")
  t.eq(err, "cannot get credentials for 'fail.example': helper 'docker-credential-hoisttest' exited with 3: keyring exploded")
  c, err = auth.credentials("missing.example", { env = e })
  t.eq(c, nil)
  t.ok(err:find("docker-credential-hoist-not-installed", 1, true), err)
  t.ok(err:find("No such file or directory", 1, true), err)
  c, err = auth.credentials("bad.example", { env = e })
  t.eq(c, nil)
  t.ok(err:find("invalid credential helper name", 1, true), err)
  -- a store that fails and repeats its input: the secret is masked
  local ok, serr, scode = auth.store("fail.example", "hoist", SECRET, { env = e })
  t.eq(ok, nil)
  t.eq(scode, "EHELPER")
  t.ok(serr:find("docker-credential-hoisttest", 1, true), serr)
  t.ok(serr:find("***", 1, true), serr)
  no_secret(serr)
end)

t.test("a broken file is an error naming it, never quoting it", function()
  local e = env({ REGISTRY_AUTH_FILE = "~/auth.json" })
  local path = e.REGISTRY_AUTH_FILE
  local b = b64("hoist:" .. SECRET)
  local broken = {
    '{"auths": {"r": {"auth" "' .. b .. '"}}}',
    '{"auths": {"r": {"auth": "' .. b .. '" "' .. b .. '"}}}',
    '{"auths": {"r": {"auth": "' .. b .. '"',
    '["' .. b .. '"]',
    '{"auths": "' .. b .. '"}',
  }
  for _, text in ipairs(broken) do
    assert(fs.write(path, text))
    local c, err, code = auth.credentials("r", { env = e })
    t.eq(c, nil, text)
    t.eq(code, "ECONFIG")
    t.ok(err:find("'" .. path .. "'", 1, true), err)
    no_secret(err)
  end
  assert(fs.write(path, '{"auths": {"r": {"auth": "' .. b64("no-colon-s3cr3t-xyz") .. '"}}}'))
  local c, err = auth.credentials("r", { env = e })
  t.eq(c, nil)
  t.eq(err, "invalid 'auth' for 'r' in '" .. path .. "' (base64 of USER:PASSWORD expected)")
  assert(fs.write(path, '{"auths": {"r": {"auth": "!!' .. SECRET .. '"}}}'))
  c, err = auth.credentials("r", { env = e })
  t.eq(c, nil)
  no_secret(err)
  -- a folder where the file should be
  assert(fs.remove(path))
  assert(fs.mkdir(path))
  c, err = auth.credentials("r", { env = e })
  t.eq(c, nil)
  t.ok(err:find(path, 1, true), err)
  -- an empty file is no credentials
  assert(fs.remove(path))
  assert(fs.write(path, "  \n"))
  t.same(auth.credentials("r", { env = e }), {})
end)

t.test("store writes config.json like docker login", function()
  local e = env({ DOCKER_CONFIG = "~/new/docker" })
  local path = e.DOCKER_CONFIG .. "/config.json"
  local ok, where, helper = auth.store("r.example:5000", "hoist", SECRET, { env = e })
  t.eq(ok, true)
  t.eq(where, path)
  t.eq(helper, nil)
  t.eq(fs.stat(path).mode, tonumber("600", 8))
  t.eq(fs.stat(e.DOCKER_CONFIG).mode, tonumber("700", 8), "the folder it made")
  local cfg = json.decode(fs.read(path))
  t.same(cfg, { auths = { ["r.example:5000"] = { auth = b64("hoist:" .. SECRET) } } })
  t.same(auth.credentials("r.example:5000", { env = e }), { username = "hoist", password = SECRET })
  t.ok(fs.read(path):find('\n\t"auths": {', 1, true), "tab-indented like docker")
  -- every other key stays; another spelling of the same host is replaced; the mode is kept 0600
  write_json(path, { psFormat = "table {{.ID}}", HttpHeaders = { ["User-Agent"] = "x" },
    credHelpers = { ["other.example"] = "hoisttest" }, plugins = json.object({}), list = json.array({}),
    auths = { ["https://r.example:5000/v1/"] = { auth = b64("old:pw"), email = "x@y" },
              ["keep.example"] = { auth = b64("k:p") } } })
  assert(auth.store("r.example:5000", "new", "pw2", { env = e }))
  cfg = json.decode(fs.read(path))
  t.eq(cfg.psFormat, "table {{.ID}}")
  t.same(cfg.HttpHeaders, { ["User-Agent"] = "x" })
  t.same(cfg.credHelpers, { ["other.example"] = "hoisttest" })
  t.same(cfg.plugins, {})
  t.ok(fs.read(path):find('"list": []', 1, true), "an empty array stays an array")
  t.same(cfg.auths, { ["r.example:5000"] = { auth = b64("new:pw2") }, ["keep.example"] = { auth = b64("k:p") } })
  t.eq(fs.stat(path).mode, tonumber("600", 8))
  -- Docker Hub goes under its historical key
  assert(auth.store("docker.io", "hub", "pw", { env = e }))
  t.same(json.decode(fs.read(path)).auths["https://index.docker.io/v1/"], { auth = b64("hub:pw") })
  t.same(auth.credentials("registry-1.docker.io", { env = e }), { username = "hub", password = "pw" })
  -- no temporary file left
  t.same(fs.list(e.DOCKER_CONFIG), { "config.json" })
  -- a user name with ':' cannot be stored in USER:PASSWORD
  local v, err, code = auth.store("r", "a:b", SECRET, { env = e })
  t.eq(v, nil)
  t.eq(code, "EINVAL")
  no_secret(err)
  -- a broken config is not overwritten
  assert(fs.write(path, "{ broken"))
  v, err, code = auth.store("r", "u", SECRET, { env = e })
  t.eq(v, nil)
  t.eq(code, "ECONFIG")
  t.eq(fs.read(path), "{ broken")
end)

t.test("store through credHelpers keeps the secret out of the file", function()
  local e = env()
  local path = e.HOME .. "/.docker/config.json"
  write_json(path, { credHelpers = { ["h.example"] = "hoisttest" },
                     auths = { ["h.example"] = { auth = b64("stale:old") } } })
  local ok, _, helper = auth.store("h.example", "hoist", SECRET, { env = e })
  t.eq(ok, true)
  t.eq(helper, "docker-credential-hoisttest")
  local text = fs.read(path)
  no_secret(text)
  t.ok(not text:find("stale", 1, true), "the old inline entry is gone")
  t.same(json.decode(text).auths, { ["h.example"] = {} })
  t.same(auth.credentials("h.example", { env = e }), { username = "hoist", password = SECRET })
  -- erase through the helper
  t.eq(auth.erase("h.example", { env = e }), true)
  t.same(auth.credentials("h.example", { env = e }), {})
  local v, err, code = auth.erase("h.example", { env = e })
  t.eq(v, nil)
  t.eq(code, "ENOENT")
  t.ok(err:find("not logged in to h.example", 1, true), err)
end)

t.test("erase removes every spelling and keeps the rest", function()
  local e = env()
  local path = e.HOME .. "/.docker/config.json"
  local v, err, code = auth.erase("r.example", { env = e })
  t.eq(v, nil)
  t.eq(code, "ENOENT")
  write_json(path, { psFormat = "x", auths = { ["r.example"] = { auth = b64("a:b") },
    ["https://r.example"] = { auth = b64("c:d") }, ["other.example"] = { auth = b64("e:f") } } })
  t.eq(auth.erase("r.example", { env = e }), true)
  local cfg = json.decode(fs.read(path))
  t.same(cfg, { psFormat = "x", auths = { ["other.example"] = { auth = b64("e:f") } } })
  t.eq(fs.stat(path).mode, tonumber("600", 8))
  v, err, code = auth.erase("r.example", { env = e })
  t.eq(v, nil)
  t.eq(code, "ENOENT")
end)

t.test("connect: credentials into a registry client; failure kinds", function()
  local e = env()
  local r = assert(ref.parse("docker://127.0.0.1:1/ns/app"))
  local c = assert(auth.connect(r, { env = e }))
  t.eq(type(c), "userdata")
  c = assert(auth.connect(r, { creds = "u:p", env = e }))
  local v, err, code = auth.connect(r, { creds = SECRET:gsub(":", ""), env = e })
  t.eq(v, nil)
  t.eq(code, "EUSAGE")
  no_secret(err)
  write_json(e.HOME .. "/.docker/config.json", { auths = { ["127.0.0.1:1"] = { identitytoken = "tok" } } })
  assert(auth.connect(r, { env = e }))
  assert(auth.connect("docker://127.0.0.1:1/ns/app", { env = e }))
  assert(fs.write(e.HOME .. "/.docker/config.json", "{"))
  v, err, code = auth.connect(r, { env = e })
  t.eq(v, nil)
  t.eq(code, "ECONFIG")
  t.ok(err:find(e.HOME .. "/.docker/config.json", 1, true), err)
  v, err, code = auth.connect("docker://Bad/Repo", { env = e })
  t.eq(v, nil)
  t.eq(code, "EUSAGE")
end)

t.test("misuse raises", function()
  t.raises(function() auth.credentials() end, "registry host expected")
  t.raises(function() auth.credentials(5) end, "registry host expected")
  t.raises(function() auth.credentials("r", "u:p") end, "options must be a table")
  t.raises(function() auth.credentials("r", { creds = 5 }) end, "creds must be a string")
  t.raises(function() auth.credentials("r", { env = "HOME" }) end, "opts.env must be a table")
  t.raises(function() auth.store("r", nil, "p") end, "user name expected")
  t.raises(function() auth.store("r", "u", nil) end, "password expected")
  t.raises(function() auth.erase({}) end, "registry host expected")
  t.raises(function() auth.connect(42) end, "docker:// reference expected")
end)

fs.remove(root)
t.done()
