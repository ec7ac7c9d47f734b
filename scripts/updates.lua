-- List the versions of an extension newer than the current one, newest first.
--
-- usage: hoist updates REF --current V [--api API] [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]
--
-- REF: docker://HOST/REPO or oci:DIR. The candidates are the repository's tags that are valid
-- semantic versions with a higher precedence than V (prereleases included: they are newer).
-- --api API   keep only the versions whose com.docker.desktop.extension.api.version label (a
--             semver range such as ">= 0.3.0") accepts the Extension API version API; this
--             reads each candidate's manifest and config, never a layer. A candidate without
--             that label is left out (and named on stderr).
-- Output: one version per line; --json prints {"current": V, "api": API, "updates": [...]}.
--
-- Exit codes: 0 (with or without updates); 1 the registry or layout cannot be read; 2 usage.
local cli = require("hoist.cli")
local endpoint = require("hoist.endpoint")
local json = require("hoist.json")
local semver = require("hoist.semver")

local API_LABEL = "com.docker.desktop.extension.api.version"
local USAGE = "usage: hoist updates REF --current V [--api API] [--creds USER:PASS] [--authfile FILE] [--insecure] [--json]"
local opts, args = cli.parse(arg, { usage = USAGE, options = cli.registry_options({
  ["--current"] = { key = "current", value = true },
  ["--api"] = { key = "api", value = true },
}) })
if #args ~= 1 then cli.usage_error(USAGE) end
if not opts.current then cli.usage_error("--current V is required; " .. USAGE) end
local current = semver.valid(opts.current)
if not current then cli.usage_error("invalid version '" .. opts.current .. "' for --current") end
local api = opts.api and semver.valid(opts.api)
if opts.api and not api then cli.usage_error("invalid Extension API version '" .. opts.api .. "' for --api") end

local ep, err, code = endpoint.open(args[1], { creds = opts.creds, insecure = opts.insecure, authfile = opts.authfile })
if not ep then cli.fail(code, err) end

-- The api.version label of a tag's image: its config (the first platform's, for an index).
local function api_range(tag)
  local top, rerr = ep:resolve(tag)
  if not top then return nil, rerr end
  local _, m = ep:manifest(top)
  if not _ then return nil, m end
  if m.kind == "index" then
    local child = m.manifests[1]
    for _, c in ipairs(m.manifests) do
      if c.platform and c.platform.os == "linux" and c.platform.architecture == "amd64" then child = c end
    end
    if not child then return nil, "the index of " .. tag .. " is empty" end
    _, m = ep:manifest(child)
    if not _ then return nil, m end
  end
  local bytes, berr = ep:blob(m.config)
  if not bytes then return nil, berr end
  local config = json.decode(bytes)
  local labels = type(config) == "table" and type(config.config) == "table" and config.config.Labels
  return type(labels) == "table" and labels[API_LABEL] or false
end

local tags
tags, err = ep:tags()
if not tags then ep:close(); cli.fail(cli.EXIT.failure, err) end
local newer = {}
for _, t in ipairs(tags) do
  if t:sub(1, 1) ~= "v" and semver.valid(t) and semver.gt(t, current) then newer[#newer + 1] = t end
end
newer = semver.rsort(newer)
local updates = {}
for _, v in ipairs(newer) do
  if not api then
    updates[#updates + 1] = v
  else
    local range, rerr = api_range(v)
    if range == nil then ep:close(); cli.fail(cli.EXIT.failure, rerr) end
    if range == false then
      cli.note("%s: no %s label, left out", v, API_LABEL)
    elseif semver.satisfies(api, range) then
      updates[#updates + 1] = v
    end
  end
end
ep:close()
cli.output({ current = current, api = api, updates = json.array(updates) },
  #updates > 0 and table.concat(updates, "\n") or nil)
