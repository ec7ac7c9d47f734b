-- Print an image's manifest or index as JSON, and with --config the configs of its images.
--
-- usage: hoist inspect REF [--config] [--creds USER:PASS] [--authfile FILE] [--insecure]
--        hoist inspect --referrers REF [--type T] [--platforms] ...   (the same as `hoist referrers`)
--
-- REF: docker://HOST/REPO[:TAG|@DIGEST] (or HOST/REPO...) or oci:DIR[:TAG] (default tag: latest).
-- Without --config: the manifest or index exactly as stored (the bytes its digest is taken of),
-- like `crane manifest`. With --config: one JSON object
--   {"reference": REF, "digest": "sha256:...", "mediaType": "...", "manifest": {...},
--    "platforms": {"linux/amd64": {"digest": ..., "manifest": {...}, "config": {...}}, ...}}
-- (an image that is not an index has "config" beside "manifest" instead of "platforms").
-- The digest of what was printed goes to stderr (silenced by -q).
--
-- Exit codes: 0 printed; 1 not found or unreadable; 2 usage.
local cli = require("hoist.cli")

-- --referrers: `hoist referrers` with the other arguments (what refers to REF: SBOMs, provenance,
-- signatures), so that the same question has the name other tools give it
for i, a in ipairs(arg) do
  if a == "--referrers" then
    table.remove(arg, i)
    local path = arg[0]:gsub("inspect%.lua$", "referrers.lua")
    if path == arg[0] then path = require("hoist.host").share .. "/scripts/referrers.lua" end
    arg[0] = path
    return dofile(path)
  end
end

local endpoint = require("hoist.endpoint")
local json = require("hoist.json")
local oci = require("hoist.oci")

local USAGE = "usage: hoist inspect REF [--config | --referrers] [--creds USER:PASS] [--authfile FILE] [--insecure]"
local opts, args = cli.parse(arg, { usage = USAGE, options = cli.registry_options({
  ["--config"] = { key = "config" },
}) })
if #args ~= 1 then cli.usage_error(USAGE) end
local ep, err, code = endpoint.open(args[1], { creds = opts.creds, insecure = opts.insecure, authfile = opts.authfile })
if not ep then cli.fail(code, err) end

local function check(ok, e)
  if not ok then ep:close(); cli.fail(cli.EXIT.failure, e) end
  return ok
end

local top = check(ep:resolve())
local bytes, m = ep:manifest(top)
check(bytes, m)
cli.note("%s", top.digest)
if not opts.config then
  io.stdout:write(bytes, bytes:sub(-1) == "\n" and "" or "\n")
  ep:close()
  return
end

local function config_of(man)
  return json.decode(check(ep:blob(man.config)))
end

local out = { reference = args[1], digest = top.digest, mediaType = top.mediaType or m.media_type,
              manifest = json.decode(bytes) }
if m.kind == "index" then
  out.platforms = {}
  for i, child in ipairs(m.manifests) do
    local cbytes, cm = ep:manifest(child)
    check(cbytes, cm)
    local name = child.platform and oci.platform_string(child.platform) or ("#" .. i)
    if out.platforms[name] then name = name .. "#" .. i end
    local entry = { digest = child.digest, manifest = json.decode(cbytes) }
    if cm.kind == "image" then entry.config = config_of(cm) end
    out.platforms[name] = entry
  end
else
  out.config = config_of(m)
end
ep:close()
io.stdout:write(json.encode(out, { sort_keys = true, indent = 2 }), "\n")
