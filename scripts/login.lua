-- Log in to a registry: verify the credentials, then store them like `docker login`.
--
-- usage: hoist login HOST -u USER --password-stdin [--authfile FILE] [--insecure] [--json]
--        hoist login HOST -u USER -p PASSWORD       (insecure: the password shows in `ps`)
--
-- HOST is a registry host (ghcr.io, localhost:5000; docker.io for Docker Hub).
-- -u, --username USER    the account
-- --password-stdin       read the password (or token) from the first line of stdin
-- -p, --password PASS    the password on the command line (warns: prefer --password-stdin)
-- --insecure             plain HTTP or unverified TLS for a registry that is not on loopback
-- --authfile FILE        store the credentials in FILE (podman's auth.json format, made when
--                        missing) instead of the docker config; `--authfile FILE` on other
--                        commands reads them from there
--
-- The credentials are checked against the registry first; nothing is stored when it refuses
-- them. They go where `docker login` puts them: $DOCKER_CONFIG/config.json (default
-- ~/.docker/config.json, mode 0600), or the credential helper configured there for HOST
-- (credHelpers, else credsStore: docker-credential-NAME store). Every hoist command that talks
-- to HOST uses them from then on, unless --creds is given. Prints "Login Succeeded" on stderr;
-- --json prints {"registry": HOST, "username": USER} on stdout.
--
-- Exit codes: 0 logged in; 1 authentication failed, the registry cannot be reached or the
-- credentials cannot be stored; 2 usage.
local auth = require("hoist.auth")
local cli = require("hoist.cli")
local log = require("hoist.log")
local ref = require("hoist.ref")

local USAGE = "usage: hoist login HOST -u USER --password-stdin [--authfile FILE] [--insecure] [--json]"
local opts, args = cli.parse(arg, { usage = USAGE, options = {
  ["-u"] = { key = "username", value = true },
  ["--username"] = { key = "username", value = true },
  ["-p"] = { key = "password", value = true },
  ["--password"] = { key = "password", value = true },
  ["--password-stdin"] = { key = "password_stdin" },
  ["--insecure"] = { key = "insecure" },
  ["--authfile"] = { key = "authfile", value = true },
} })
if #args ~= 1 then cli.usage_error("give one registry host; " .. USAGE) end

-- "https://Ghcr.io/", "docker://localhost:5000" and "localhost:5000" name the same registry
local host = args[1]:gsub("^%a[%w+.-]*://", ""):gsub("/.*$", ""):lower()
local r = host ~= "" and ref.parse("docker://" .. host .. "/hoist/login")
if not r or r.transport ~= "docker" then cli.usage_error("invalid registry host '" .. args[1] .. "'") end

local user = opts.username
if not user or user == "" then cli.usage_error("give the user name with -u USER; " .. USAGE) end
if user:find(":", 1, true) then cli.usage_error("a user name cannot contain ':'") end
local password
if opts.password_stdin and opts.password then
  cli.usage_error("give the password with --password-stdin or -p, not both")
elseif opts.password_stdin then
  password = io.stdin:read("l")
  if password then password = password:gsub("\r$", "") end
  if not password or password == "" then cli.usage_error("no password on stdin (--password-stdin)") end
elseif opts.password then
  password = opts.password
  log.warn("a password given with -p is visible to other users of this machine: use --password-stdin")
  if password == "" then cli.usage_error("the password is empty") end
else
  cli.usage_error("give the password with --password-stdin; " .. USAGE)
end

-- verify first: a wrong password must leave nothing behind
local client, err = require("hoist.registry").connect(r.api_host, {
  username = user, password = password, insecure = opts.insecure })
if not client then cli.fail(cli.EXIT.failure, err) end
local ok, cerr, code = client:check_auth()
if not ok then
  if code == "EAUTH" then cli.fail(cli.EXIT.failure, "authentication failed for " .. r.registry) end
  cli.fail(cli.EXIT.failure, cerr)
end

local stored, where, helper = auth.store(r.registry, user, password, { authfile = opts.authfile })
if not stored then cli.fail(cli.EXIT.failure, where) end
log.debug("credentials for %s stored in %s", r.registry, helper or where)
-- $REGISTRY_AUTH_FILE is read first (podman's convention): say when it hides what was just stored
if os.getenv("REGISTRY_AUTH_FILE") and not opts.authfile then
  local found, source = auth.credentials(r.registry)
  if found and source and source ~= where then
    log.warn("credentials for %s in '%s' take precedence over the ones just stored in '%s'",
      r.registry, source, where)
  end
end

cli.note("Login Succeeded")
if cli.json_mode() then cli.output({ registry = r.registry, username = user }) end
