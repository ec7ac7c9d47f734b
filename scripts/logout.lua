-- Log out of a registry: remove the credentials `hoist login` stored.
--
-- usage: hoist logout HOST [--json]
--
-- Removes HOST's entries from $DOCKER_CONFIG/config.json (default ~/.docker/config.json), under
-- every spelling of the host, and erases them from the credential helper configured there for
-- HOST (docker-credential-NAME erase). Other files ($REGISTRY_AUTH_FILE, podman's auth.json) are
-- left alone. --json prints {"registry": HOST, "removed": true} on stdout.
--
-- Exit codes: 0 removed; 1 nothing was stored for HOST, or the file or helper failed; 2 usage.
local auth = require("hoist.auth")
local cli = require("hoist.cli")
local ref = require("hoist.ref")

local USAGE = "usage: hoist logout HOST [--json]"
local _, args = cli.parse(arg, { usage = USAGE, options = {} })
if #args ~= 1 then cli.usage_error("give one registry host; " .. USAGE) end

local host = args[1]:gsub("^%a[%w+.-]*://", ""):gsub("/.*$", ""):lower()
local r = host ~= "" and ref.parse("docker://" .. host .. "/hoist/logout")
if not r or r.transport ~= "docker" then cli.usage_error("invalid registry host '" .. args[1] .. "'") end

local ok, err = auth.erase(r.registry)
if not ok then cli.fail(cli.EXIT.failure, err) end
cli.note("Removed login credentials for %s", r.registry)
if cli.json_mode() then cli.output({ registry = r.registry, removed = true }) end
