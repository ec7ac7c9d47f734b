-- A staged release to several registries: build once, push to every registry by digest, verify
-- what each one holds, and only then write the tags, everywhere. A registry that fails at any
-- point leaves no new tag on any of them.
--
-- usage: hoist run examples/scripts/multi-registry.lua DIR --version V --to REF --to REF...
--                  [--latest] [--float] [--creds USER:PASS] [--insecure] [--json]
-- REF: docker://HOST/REPO (or oci:DIR). Credentials: --creds for all, or stored ones (hoist login).
local cli = require("hoist.cli")
local copy = require("hoist.copy")
local endpoint = require("hoist.endpoint")
local fs = require("hoist.fs")
local json = require("hoist.json")
local log = require("hoist.log")
local release = require("hoist.release")
local validate = require("hoist.validate")

local USAGE = "usage: hoist run multi-registry.lua DIR --version V --to REF --to REF... [--latest] [--float]"
local opts, args = cli.parse(arg, { usage = USAGE, options = {
  ["--version"] = { key = "version", value = true },
  ["--to"] = { key = "to", value = true, list = true },
  ["--latest"] = { key = "latest" },
  ["--float"] = { key = "float" },
  ["--creds"] = { key = "creds", value = true },
  ["--insecure"] = { key = "insecure" },
} })
if #args ~= 1 or not opts.version or not opts.to or #opts.to < 1 then cli.usage_error(USAGE) end

-- 1. build once, into a staging layout, untagged
local staging = assert(fs.tmpdir("hoist-multi"))
local ctx = release.context{ dir = args[1], version = opts.version, to = "oci:" .. staging, push_by_digest = true }
local built, err, code = release.run(ctx)
if not built then
  for _, p in ipairs(ctx.problems) do io.stderr:write(p, "\n") end
  fs.remove(staging)
  cli.fail(code or cli.EXIT.failure, err)
end
local src = assert(endpoint.open("oci:" .. staging))
local index = { mediaType = ctx.index.mediaType, digest = ctx.index.digest, size = ctx.index.size }
local index_bytes = assert(ctx.store:blob(index.digest))

local dests = {}
local function stop(c, msg)
  for _, d in ipairs(dests) do d.ep:close() end
  src:close(); fs.remove(staging)
  cli.fail(c, msg)
end

-- 2. push to every registry by digest (no tag anywhere yet)
for _, to in ipairs(opts.to) do
  local ep, oerr, ocode = endpoint.open(to, { creds = opts.creds, insecure = opts.insecure, create = true })
  if not ep then stop(ocode or cli.EXIT.failure, oerr) end
  dests[#dests + 1] = { ep = ep }
  local r, cerr = copy.run(src, ep, { reference = index.digest, tags = {} })
  if not r then stop(cli.EXIT.failure, to .. ": " .. cerr) end
  log.info("pushed %s to %s (%s sent)", index.digest:sub(1, 19), ep.display, log.bytes(r.blobs.uploaded_bytes))
end

-- 3. verify what each registry now holds, as a client would read it
for _, d in ipairs(dests) do
  local problems, summary = validate.image(validate.endpoint_source(d.ep), index.digest)
  if not problems then stop(cli.EXIT.failure, d.ep.display .. ": " .. summary) end
  if #problems > 0 then
    for _, p in ipairs(problems) do io.stderr:write(p, "\n") end
    stop(cli.EXIT.validation, d.ep.display .. "@" .. index.digest .. " does not validate; nothing was tagged")
  end
  local existing, terr = d.ep:tags()
  if not existing then stop(cli.EXIT.failure, terr) end
  for _, t in ipairs(existing) do
    if t == ctx.tag then stop(cli.EXIT.failure, d.ep.display .. ":" .. ctx.tag .. " already exists; nothing was tagged") end
  end
end

-- 4. every registry holds a valid image: tag them all (the version, then latest/floats computed
-- from each registry's tags as they are when written: hoist.publish)
local publish = require("hoist.publish")
local result = { version = ctx.version, digest = index.digest, destinations = {} }
for _, d in ipairs(dests) do
  local tags, terr = publish.version(d.ep, index, index_bytes, ctx.tag, { latest = opts.latest, float = opts.float })
  if not tags then stop(cli.EXIT.failure, terr) end
  d.tags = tags
  result.destinations[d.ep.display] = json.array(d.tags)
end
for _, d in ipairs(dests) do d.ep:close() end
src:close(); fs.remove(staging)
local lines = { string.format("released %s (%s) to %d destinations", ctx.version, index.digest, #dests) }
for _, d in ipairs(dests) do lines[#lines + 1] = "  " .. d.ep.display .. ": " .. table.concat(d.tags, ", ") end
cli.output(result, lines)
