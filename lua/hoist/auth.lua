--[[
hoist.auth: registry credentials, found and stored the way docker and podman do.

Where credentials are looked up, first match wins (per host, not per file):
  1. $REGISTRY_AUTH_FILE                               (podman, skopeo, buildah; explicit)
  2. $DOCKER_CONFIG/config.json, else ~/.docker/config.json   (docker; where `hoist login` writes)
  3. ${XDG_RUNTIME_DIR}/containers/auth.json           (podman login's default)
  4. ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json
In each file: credHelpers[host] (its answer is final for that file), else auths[host] (`auth`:
base64 "user:password"; `identitytoken`: an OAuth2 refresh token), else credsStore. A helper is
`docker-credential-NAME get`: the server URL on stdin, {"Username","Secret"} on stdout; Username
"<token>" means Secret is an identity token. Host keys match however they are spelled ("host",
"https://host", "http://host/v1/"...); Docker Hub is "https://index.docker.io/v1/" for docker.io,
index.docker.io and registry-1.docker.io.

Tests (and tools) inject the environment: opts.env = { HOME =, DOCKER_CONFIG =, REGISTRY_AUTH_FILE =,
XDG_RUNTIME_DIR =, XDG_CONFIG_HOME =, PATH = } replaces os.getenv for these names (PATH: where
helpers are found). Secrets never appear in a message.
]]
local exec = require("hoist.exec")
local fs = require("hoist.fs")
local json = require("hoist.json")
local keys = require("hoist.keys")

local auth = {}

auth.HUB_KEY = "https://index.docker.io/v1/"
local HUB = { ["docker.io"] = true, ["index.docker.io"] = true, ["registry-1.docker.io"] = true }
local HELPER_TIMEOUT = 300  -- seconds: a helper may wait for a keyring to unlock, not forever

---------------------------------------------------------------------------------------------------
-- base64 (RFC 4648; decode also takes the URL-safe alphabet and missing padding)

local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local VALUE = {}
for i = 1, 64 do VALUE[ALPHABET:byte(i)] = i - 1 end
VALUE[("-"):byte()] = 62
VALUE[("_"):byte()] = 63

function auth.base64_encode(s)
  if type(s) ~= "string" then error("auth.base64_encode: string expected", 2) end
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1, c2, c3, c4 = n >> 18, (n >> 12) & 63, (n >> 6) & 63, n & 63
    out[#out + 1] = ALPHABET:sub(c1 + 1, c1 + 1) .. ALPHABET:sub(c2 + 1, c2 + 1) ..
      (b and ALPHABET:sub(c3 + 1, c3 + 1) or "=") .. (c and ALPHABET:sub(c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end

-- -> string | nil, "invalid base64" (the input is never echoed: it may be a secret)
function auth.base64_decode(s)
  if type(s) ~= "string" then error("auth.base64_decode: string expected", 2) end
  s = s:gsub("%s", ""):gsub("=+$", "")
  if #s % 4 == 1 then return nil, "invalid base64" end
  local out, n, bits = {}, 0, 0
  for i = 1, #s do
    local v = VALUE[s:byte(i)]
    if not v then return nil, "invalid base64" end
    n, bits = (n << 6) | v, bits + 6
    if bits >= 8 then
      bits = bits - 8
      out[#out + 1] = string.char((n >> bits) & 255)
    end
  end
  return table.concat(out)
end

---------------------------------------------------------------------------------------------------
-- hosts and keys

-- "https://Host:5000/v1/" -> "host:5000"
local function hostname(key)
  return (key:gsub("^%a[%w+.-]*://", ""):gsub("/.*$", ""):lower())
end

local function matches(key, host)
  local k = hostname(key)
  if HUB[host] then return HUB[k] == true end
  return k == host
end

-- The key `docker login` writes for a registry: the host, or Docker Hub's historical URL.
function auth.server_key(registry)
  if type(registry) ~= "string" or registry == "" then error("auth.server_key: registry host expected", 2) end
  local host = hostname(registry)
  return HUB[host] and auth.HUB_KEY or host
end

-- Keys of t that name host, the exact spellings first, then the rest sorted (deterministic).
local function matching_keys(t, host)
  local keys, seen = {}, {}
  local preferred = HUB[host] and { auth.HUB_KEY, "index.docker.io", "docker.io", "registry-1.docker.io" }
    or { host, "https://" .. host, "http://" .. host }
  for _, k in ipairs(preferred) do
    if t[k] ~= nil then keys[#keys + 1] = k; seen[k] = true end
  end
  local rest = {}
  for k in pairs(t) do
    if type(k) == "string" and not seen[k] and matches(k, host) then rest[#rest + 1] = k end
  end
  table.sort(rest)
  for _, k in ipairs(rest) do keys[#keys + 1] = k end
  return keys
end

---------------------------------------------------------------------------------------------------
-- the environment and the files

local function getenv_of(opts)
  if opts and opts.env ~= nil then
    if type(opts.env) ~= "table" then error("auth: opts.env must be a table", 3) end
    return function(name)
      local v = opts.env[name]
      if v == "" then return nil end
      return v
    end
  end
  return function(name)
    local v = os.getenv(name)
    if v == "" then return nil end
    return v
  end
end

-- The docker config.json `hoist login` writes: $DOCKER_CONFIG/config.json or ~/.docker/config.json.
function auth.config_path(opts)
  opts = keys.options(opts, { "env" }, "auth.config_path")
  local getenv = getenv_of(opts)
  local dir = getenv("DOCKER_CONFIG")
  if dir then return dir .. "/config.json" end
  local home = getenv("HOME")
  if not home then return nil, "cannot find the docker config: neither DOCKER_CONFIG nor HOME is set" end
  return home .. "/.docker/config.json"
end

-- The files read, in precedence order: { { path =, source = "--authfile" | "REGISTRY_AUTH_FILE" |
-- "docker" | ... } }. opts.authfile (skopeo's and podman's --authfile) takes REGISTRY_AUTH_FILE's
-- place: the file a user named on the command line is read first, the usual ones after it.
function auth.files(opts)
  opts = keys.options(opts, { "env", "authfile" }, "auth.files")
  local getenv = getenv_of(opts)
  local files, seen = {}, {}
  local function add(path, source)
    if path and not seen[path] then
      seen[path] = true
      files[#files + 1] = { path = path, source = source }
    end
  end
  if opts.authfile ~= nil then
    if type(opts.authfile) ~= "string" or opts.authfile == "" then error("auth: authfile must be a path", 3) end
    add(opts.authfile, "--authfile")
  else
    add(getenv("REGISTRY_AUTH_FILE"), "REGISTRY_AUTH_FILE")
  end
  add((auth.config_path({ env = opts.env })), "docker")
  local run = getenv("XDG_RUNTIME_DIR")
  add(run and (run .. "/containers/auth.json"), "XDG_RUNTIME_DIR")
  local cfg = getenv("XDG_CONFIG_HOME") or (getenv("HOME") and getenv("HOME") .. "/.config")
  add(cfg and (cfg .. "/containers/auth.json"), "XDG_CONFIG_HOME")
  return files
end

-- A config file as a table; false when there is none; nil, message (naming the file, never its content).
local function read_config(path)
  local data, err, code = fs.read(path)
  if not data then
    if code == "ENOENT" then return false end
    return nil, err
  end
  if not data:find("%S") then return {} end
  local cfg, jerr = json.decode(data)
  if cfg == nil then
    -- jansson's text quotes the token at fault ("near '...'"), which can be a secret: keep the place only
    local where = jerr and jerr:match("line %d+, column %d+")
    return nil, "invalid JSON in '" .. path .. "'" .. (where and (" at " .. where) or "")
  end
  if type(cfg) ~= "table" or (next(cfg) ~= nil and cfg[1] ~= nil) then
    return nil, "invalid credentials file '" .. path .. "': a JSON object expected"
  end
  for _, k in ipairs({ "auths", "credHelpers" }) do
    if cfg[k] ~= nil and type(cfg[k]) ~= "table" then
      return nil, "invalid credentials file '" .. path .. "': '" .. k .. "' must be an object"
    end
  end
  if cfg.credsStore ~= nil and type(cfg.credsStore) ~= "string" then
    return nil, "invalid credentials file '" .. path .. "': 'credsStore' must be a string"
  end
  return cfg
end

-- Writes cfg to path like docker does: tab-indented JSON, mode 0600, atomically; the folder 0700.
local function write_config(path, cfg)
  local dir = path:match("^(.*)/[^/]*$")
  if dir and dir ~= "" and not fs.exists(dir) then
    local ok, err = fs.mkdir(dir, { mode = "0700" })
    if not ok then return nil, err end
  end
  local text = json.encode(cfg, { indent = 1, sort_keys = true })
  -- JSON strings hold no raw newline, so every newline is followed by indentation only
  text = text:gsub("\n( +)", function(sp) return "\n" .. string.rep("\t", #sp) end)
  return fs.write(path, text .. "\n", { mode = "0600" })
end

---------------------------------------------------------------------------------------------------
-- credential helpers

local function helper_program(name)
  if type(name) ~= "string" or not name:match("^[%w][%w._-]*$") then return nil end
  return "docker-credential-" .. name
end

-- The first line of a helper's own words (stdout, else stderr), bounded, with secret hidden.
local function helper_says(r, secret)
  local text = (r.stdout or ""):match("%S") and r.stdout or (r.stderr or "")
  local line = text:match("^%s*([^\n]*)") or ""
  line = line:gsub("%s+$", ""):gsub("[%c]", "?")
  if secret and secret ~= "" then
    local i, j = line:find(secret, 1, true)
    while i do
      line = line:sub(1, i - 1) .. "***" .. line:sub(j + 1)
      i, j = line:find(secret, i + 3, true)
    end
  end
  if #line > 200 then line = line:sub(1, 200) .. "..." end
  return line
end

local function not_found(r)
  return ((r.stdout or "") .. (r.stderr or "")):lower():find("credentials not found", 1, true) ~= nil
end

--[[
Runs `docker-credential-NAME ACTION` with input on stdin. Returns the result table on success;
false when the helper says "credentials not found"; nil, message otherwise (naming the helper).
]]
local function helper_run(name, action, input, host, opts, secret)
  local prog = helper_program(name)
  local what = (action == "get" and "cannot get credentials for '" or action == "store"
    and "cannot store credentials for '" or "cannot erase credentials for '") .. host .. "'"
  if not prog then return nil, what .. ": invalid credential helper name '" .. tostring(name) .. "'" end
  local path = opts and opts.env and opts.env.PATH
  local r, err = exec.run{ prog, action, stdin = input, timeout = HELPER_TIMEOUT,
                           env = path and { PATH = path } or nil }
  if not r then return nil, what .. ": " .. err end  -- err names the helper: "cannot run 'docker-credential-x': ..."
  if r.ok then return r end
  if not_found(r) then return false end
  local says = helper_says(r, secret)
  return nil, what .. ": helper '" .. prog .. "' " ..
    (r.signal and ("was killed by signal " .. r.signal) or ("exited with " .. r.code)) ..
    (says ~= "" and (": " .. says) or "")
end

local function helper_get(name, host, opts)
  local r, err = helper_run(name, "get", auth.server_key(host), host, opts)
  if not r then return r, err end
  local prog = helper_program(name)
  local d = json.decode(r.stdout)
  if type(d) ~= "table" or (d.Secret ~= nil and type(d.Secret) ~= "string")
      or (d.Username ~= nil and type(d.Username) ~= "string") then
    return nil, "cannot get credentials for '" .. host .. "': helper '" .. prog .. "' answered with invalid JSON"
  end
  if not d.Secret or d.Secret == "" then return false end
  if d.Username == "<token>" then return { identity_token = d.Secret } end
  return { username = d.Username or "", password = d.Secret }
end

-- The helper that stores credentials for host in cfg (credHelpers, else credsStore), or nil.
local function helper_for(cfg, host)
  if type(cfg.credHelpers) == "table" then
    local keys = matching_keys(cfg.credHelpers, host)
    if keys[1] and type(cfg.credHelpers[keys[1]]) == "string" and cfg.credHelpers[keys[1]] ~= "" then
      return cfg.credHelpers[keys[1]], "credHelpers"
    end
  end
  if type(cfg.credsStore) == "string" and cfg.credsStore ~= "" then return cfg.credsStore, "credsStore" end
  return nil
end

---------------------------------------------------------------------------------------------------
-- lookup

-- One auths entry: credentials, false (an empty entry), or nil, message.
local function from_entry(entry, key, path)
  if type(entry) ~= "table" then return false end
  local user, pass
  if type(entry.auth) == "string" and entry.auth ~= "" then
    local plain = auth.base64_decode(entry.auth)
    if plain then user, pass = plain:match("^([^:]*):(.*)$") end
    if not user then
      return nil, "invalid 'auth' for '" .. key .. "' in '" .. path .. "' (base64 of USER:PASSWORD expected)"
    end
  elseif type(entry.username) == "string" and type(entry.password) == "string" then
    user, pass = entry.username, entry.password
  end
  if type(entry.identitytoken) == "string" and entry.identitytoken ~= "" then
    return { username = (user ~= "" and user) or nil, identity_token = entry.identitytoken }
  end
  if user then return { username = user, password = pass } end
  return false
end

local function lookup_file(cfg, path, host, opts)
  local helper, kind = helper_for(cfg, host)
  if kind == "credHelpers" then return helper_get(helper, host, opts) end
  if type(cfg.auths) == "table" then
    for _, key in ipairs(matching_keys(cfg.auths, host)) do
      local c, err = from_entry(cfg.auths[key], key, path)
      if c == nil then return nil, err end
      if c then return c end
    end
  end
  if helper then return helper_get(helper, host, opts) end
  return false
end

local function check_registry(registry, fname)
  if type(registry) ~= "string" or registry == "" then
    error("auth." .. fname .. ": registry host expected, got " .. type(registry), 3)
  end
  local host = hostname(registry)
  if host == "" then error("auth." .. fname .. ": registry host expected, got '" .. registry .. "'", 3) end
  return host
end


-- An --authfile must exist and be a file (podman checks it the same way): a typo in the path
-- would otherwise fall back silently to other credentials. Returns true or nil, message.
function auth.check_authfile(path)
  if type(path) ~= "string" or path == "" then return nil, "--authfile needs a file" end
  local st = fs.stat(path, true)
  if not st then return nil, "authfile '" .. path .. "' does not exist" end
  if st.type ~= "file" then return nil, "authfile '" .. path .. "' is not a file" end
  return true
end

--[[
Credentials for registry (a host such as "ghcr.io" or "localhost:5000"). opts: { creds = "USER:PASS"
(overrides every file), authfile = FILE (read first, instead of $REGISTRY_AUTH_FILE), env = {...} }. Returns { username =, password = } | { username =,
identity_token = } | {} (anonymous), and the file they came from (or "--creds"); or nil, message,
code: "EINVAL" for a malformed creds, "ECONFIG" for a file that cannot be read or parsed,
"EHELPER" for a credential helper that failed.
]]
function auth.credentials(registry, opts)
  local host = check_registry(registry, "credentials")
  opts = keys.options(opts, { "creds", "env", "authfile" }, "auth.credentials")
  if opts.creds ~= nil then
    if type(opts.creds) ~= "string" then error("auth.credentials: creds must be a string", 2) end
    local user, pass = opts.creds:match("^([^:]+):(.*)$")
    if not user then return nil, "--creds must be USER:PASSWORD", "EINVAL" end
    return { username = user, password = pass }, "--creds"
  end
  if opts.authfile ~= nil then
    local ok, aerr = auth.check_authfile(opts.authfile)
    if not ok then return nil, aerr, "EINVAL" end
  end
  for _, f in ipairs(auth.files({ env = opts.env, authfile = opts.authfile })) do
    local cfg, err = read_config(f.path)
    if cfg == nil then return nil, err, "ECONFIG" end
    if cfg then
      local c, lerr = lookup_file(cfg, f.path, host, opts)
      if c == nil then return nil, lerr, "EHELPER" end
      if c then return c, f.path end
    end
  end
  return {}, nil
end

--[[
A registry client for r (what hoist.ref.parse returns for docker://..., or such a string) with the
credentials auth.credentials finds. opts: { creds =, insecure =, env =, parallel =, chunk_size = }.
Returns the client, or nil, message, kind (EUSAGE for a malformed creds or reference; ECONFIG,
EHELPER for stored credentials that cannot be read; EAUTH, EREMOTE... from the client).
]]
function auth.connect(r, opts)
  if type(r) == "string" then
    local parsed, err = require("hoist.ref").parse(r)
    if not parsed then return nil, err, "EUSAGE" end
    r = parsed
  end
  if type(r) ~= "table" or type(r.api_host) ~= "string" then
    error("auth.connect: a docker:// reference expected (from hoist.ref.parse)", 2)
  end
  opts = keys.options(opts, { "creds", "insecure", "env", "parallel", "chunk_size", "authfile" }, "auth.connect")
  local c, err, code = auth.credentials(r.registry or r.api_host, { creds = opts.creds, env = opts.env,
                                                                    authfile = opts.authfile })
  if not c then return nil, err, code == "EINVAL" and "EUSAGE" or code end
  -- HOIST_REQUEST_TIMEOUT: the base of every request's deadline, in seconds (see hoist.registry)
  local timeout = getenv_of(opts)("HOIST_REQUEST_TIMEOUT")
  if timeout ~= nil and timeout ~= "" then
    local n = math.tointeger(tonumber(timeout))
    if not n or n < 1 or n > 86400 or not timeout:match("^%d+$") then
      return nil, "HOIST_REQUEST_TIMEOUT must be a number of seconds from 1 to 86400, got '" .. timeout .. "'", "EUSAGE"
    end
    timeout = n
  else
    timeout = nil
  end
  local client, cerr, ckind = require("hoist.registry").connect(r.api_host, {
    username = c.username, password = c.password, identity_token = c.identity_token,
    insecure = opts.insecure, parallel = opts.parallel, chunk_size = opts.chunk_size, timeout = timeout,
  })
  if not client then return nil, cerr, ckind == "EINVAL" and "EUSAGE" or (ckind or "EIO") end
  return client
end

local function check_secret_args(user, password, fname)
  if type(user) ~= "string" then error("auth." .. fname .. ": user name expected", 3) end
  if type(password) ~= "string" then error("auth." .. fname .. ": password expected", 3) end
end

--[[
Stores credentials like `docker login`: through the credential helper configured for the host
(credHelpers, else credsStore) with `docker-credential-NAME store`, else as auths[key].auth, in the
docker config.json (every other key kept; mode 0600; written atomically). Returns true, the file,
the helper used (or nil); or nil, message, code.
]]
function auth.store(registry, user, password, opts)
  local host = check_registry(registry, "store")
  check_secret_args(user, password, "store")
  opts = keys.options(opts, { "env", "authfile" }, "auth.store")
  if user == "" then return nil, "the user name is empty", "EINVAL" end
  if user:find(":", 1, true) then return nil, "a user name cannot contain ':'", "EINVAL" end
  local path, perr
  if opts.authfile then path = opts.authfile else path, perr = auth.config_path({ env = opts.env }) end
  if not path then return nil, perr, "ECONFIG" end
  local cfg, err = read_config(path)
  if cfg == nil then return nil, err, "ECONFIG" end
  cfg = cfg or {}
  local key = auth.server_key(host)
  if type(cfg.auths) ~= "table" then cfg.auths = {} end
  for _, k in ipairs(matching_keys(cfg.auths, host)) do cfg.auths[k] = nil end
  local helper = helper_for(cfg, host)
  if helper then
    local input = json.encode({ ServerURL = key, Username = user, Secret = password })
    local r, herr = helper_run(helper, "store", input, host, opts, password)
    if not r then return nil, herr or ("cannot store credentials for '" .. host .. "': helper '" ..
      helper_program(helper) .. "' failed"), "EHELPER" end
    -- as docker does: the entry stays (empty), the secret lives in the helper
    cfg.auths[key] = json.object({})
  else
    cfg.auths[key] = { auth = auth.base64_encode(user .. ":" .. password) }
  end
  local ok, werr = write_config(path, cfg)
  if not ok then return nil, werr, "EIO" end
  return true, path, helper and helper_program(helper) or nil
end

--[[
Removes the stored credentials for registry (`docker logout`): `docker-credential-NAME erase` when a
helper is configured for it, and its auths entries in config.json. Returns true, or nil, message,
"ENOENT" when nothing was stored there (or another code on failure).
]]
function auth.erase(registry, opts)
  local host = check_registry(registry, "erase")
  opts = keys.options(opts, { "env" }, "auth.erase")
  local path, perr = auth.config_path(opts)
  if not path then return nil, perr, "ECONFIG" end
  local cfg, err = read_config(path)
  if cfg == nil then return nil, err, "ECONFIG" end
  if not cfg then return nil, "not logged in to " .. host .. " ('" .. path .. "' does not exist)", "ENOENT" end
  local found, changed = false, false
  local helper = helper_for(cfg, host)
  if helper then
    local r, herr = helper_run(helper, "erase", auth.server_key(host), host, opts)
    if r == nil then return nil, herr, "EHELPER" end
    found = r ~= false
  end
  if type(cfg.auths) == "table" then
    for _, k in ipairs(matching_keys(cfg.auths, host)) do
      if from_entry(cfg.auths[k], k, path) ~= false then found = true end
      cfg.auths[k] = nil
      changed = true
    end
  end
  if changed then
    local ok, werr = write_config(path, cfg)
    if not ok then return nil, werr, "EIO" end
  end
  if not found then return nil, "not logged in to " .. host .. " (no credentials in '" .. path .. "')", "ENOENT" end
  return true, path
end

return auth
