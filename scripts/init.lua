-- Scaffold a new extension folder: extension.lua, metadata.json, an icon and a UI stub.
--
-- usage: hoist init DIR [--name REPO/NAME] [--title TITLE] [--json]
--        hoist init --from-dockerfile [PATH] DIR [--build-arg NAME=VALUE]... [--name REPO/NAME] [--title TITLE]
--
-- Writes DIR/extension.lua (every label, the two platforms, the layers), DIR/metadata.json (a
-- dashboard tab), DIR/docker.svg and DIR/ui/index.html. What only you know (vendor, description,
-- URLs, screenshots) is left as "<fill in: ...>" placeholders: until each is replaced,
-- `hoist release DIR` stops with one line per placeholder naming it (exit 3). Then:
--   hoist release DIR --version 0.1.0
-- --name   the image repository name (default: acme/DIR's name; lowercase, digits, . _ - /)
-- --title  the title shown in Docker Desktop (default: DIR's name)
-- DIR must not exist yet, or be empty.
--
-- Exit codes: 0 written; 1 DIR is not empty or cannot be written; 2 usage.
--
-- --from-dockerfile [PATH]: writes only DIR/extension.lua, translated from the final stage of the
-- Dockerfile at PATH (default ./Dockerfile; its folder is the build context, with its
-- .dockerignore): FROM -> base, LABEL -> labels, COPY/ADD -> layers, CMD ENTRYPOINT ENV WORKDIR
-- USER EXPOSE VOLUME STOPSIGNAL HEALTHCHECK -> config, COPY --from=STAGE -> layers from build/STAGE
-- and a before_build hook listing what each stage must make. DIR may hold files (usually it is
-- the Dockerfile's folder: `hoist init --from-dockerfile Dockerfile .`) but not extension.lua.
-- --build-arg NAME=VALUE  overrides an ARG's default (repeatable; NAME alone takes $NAME)
-- Each problem (what hoist cannot reproduce, like RUN in the final stage) is one line on stderr
-- naming PATH:LINE; docs/dockerfile-import.md says what is translated and how.
-- Exit codes: 0 written; 1 extension.lua exists or cannot be written; 2 usage or no Dockerfile;
-- 3 the Dockerfile has problems (extension.lua is still written when it can be).
local cli = require("hoist.cli")
local fs = require("hoist.fs")
local json = require("hoist.json")

local USAGE = "usage: hoist init DIR [--name REPO/NAME] [--title TITLE] [--json], or " ..
  "hoist init --from-dockerfile [PATH] DIR [--build-arg NAME=VALUE]... [--name REPO/NAME] [--title TITLE] [--json]"

-- "--from-dockerfile=PATH" is the flag plus its path; "--from-dockerfile PATH DIR" is told from
-- "--from-dockerfile DIR" by the number of positional arguments.
local argv, dockerfile_path = {}, nil
for _, a in ipairs(arg) do
  local v = a:match("^%-%-from%-dockerfile=(.*)$")
  if v then
    if v == "" then cli.usage_error("option '--from-dockerfile=' needs a path; " .. USAGE) end
    dockerfile_path = v
    argv[#argv + 1] = "--from-dockerfile"
  else
    argv[#argv + 1] = a
  end
end
local opts, args = cli.parse(argv, { usage = USAGE, options = {
  ["--name"] = { key = "name", value = true },
  ["--title"] = { key = "title", value = true },
  ["--from-dockerfile"] = { key = "from_dockerfile" },
  ["--build-arg"] = { key = "build_args", value = true, list = true },
} })

local function valid_name(name)
  return name:match("^[a-z0-9][a-z0-9._/-]*$") ~= nil
end

-- hoist init --from-dockerfile [PATH] DIR
local function from_dockerfile()
  local dockerfile = require("hoist.dockerfile")
  local path, dir
  if dockerfile_path then
    if #args ~= 1 then cli.usage_error(USAGE) end
    path, dir = dockerfile_path, args[1]
  elseif #args == 1 then
    path, dir = "Dockerfile", args[1]
  elseif #args == 2 then
    path, dir = args[1], args[2]
  else
    cli.usage_error(USAGE)
  end
  dir = dir:gsub("(.)/+$", "%1")
  local build_args = {}
  for _, a in ipairs(opts.build_args or {}) do
    local k, v = a:match("^([%a_][%w_]*)=(.*)$")
    if not k then
      k = a:match("^([%a_][%w_]*)$")
      if not k then cli.usage_error("invalid --build-arg '" .. a .. "' (NAME=VALUE, or NAME to take $NAME)") end
      v = os.getenv(k)
    end
    if v ~= nil then build_args[k] = v end
  end
  if fs.stat(path, true) == nil then cli.usage_error("no Dockerfile at '" .. path .. "'") end
  if fs.stat(path, true).type == "dir" then cli.usage_error("'" .. path .. "' is a folder, not a Dockerfile") end
  local target = (dir == "/" and "" or dir) .. "/extension.lua"
  if fs.exists(target) then
    cli.fail(cli.EXIT.failure, "'" .. target .. "' exists: init never overwrites it (move it away to import again)")
  end
  if not fs.exists(dir) then
    local ok, err = fs.mkdir(dir)
    if not ok then cli.fail(cli.EXIT.failure, err) end
  elseif fs.stat(dir, true).type ~= "dir" then
    cli.fail(cli.EXIT.failure, "'" .. dir .. "' exists and is not a folder")
  end
  local real = fs.realpath(dir) or dir
  local base = real:match("([^/]+)$") or "extension"
  local name = opts.name or ("acme/" .. base:lower():gsub("[^a-z0-9._-]+", "-"))
  if not valid_name(name) then
    cli.usage_error("invalid --name '" .. name .. "' (a lowercase repository path like acme/my-extension)")
  end
  local result, err = dockerfile.import(path, dir, {
    build_args = build_args, name = name, title = opts.title, default_title = base,
  })
  if not result then cli.fail(cli.EXIT.failure, err) end
  local written
  if result.text then
    local ok, werr = fs.write(target, result.text)
    if not ok then cli.fail(cli.EXIT.failure, werr) end
    written = target
  end
  local problems, notes = {}, {}
  for _, p in ipairs(result.problems) do problems[#problems + 1] = dockerfile.problem_line(p) end
  for _, p in ipairs(result.notes) do notes[#notes + 1] = dockerfile.problem_line(p) end
  local stages = {}
  for _, bs in ipairs(result.build_stages) do stages[#stages + 1] = bs.name or tostring(bs.index) end
  local layers = result.desc and #result.desc.layers or 0
  local text = {}
  if written then
    text[1] = string.format("wrote %s from %s (its final stage, line %d: %d layer%s)", written, path,
      result.stage.line, layers, layers == 1 and "" or "s")
    if #stages > 0 then
      text[#text + 1] = "  before_build: make what the build stages " .. table.concat(stages, ", ") ..
        " make (the hook in extension.lua says what and where)"
    end
    text[#text + 1] = "next: fill in the <fill in: ...> placeholders, then"
    text[#text + 1] = "  hoist release " .. dir .. " --version 0.1.0"
  end
  local out = { file = written or json.null, dockerfile = path, name = name, problems = json.array(problems),
    notes = json.array(notes), build_stages = json.array(stages), layers = layers }
  -- on problems the --json object comes from cli.fail (one object, with the error added)
  if #problems == 0 then cli.output(out, text) elseif not cli.json_mode() then cli.output(out, text) end
  if not cli.quiet() then
    for _, n in ipairs(notes) do io.stderr:write("note: ", n, "\n") end
  end
  for _, p in ipairs(problems) do io.stderr:write(p, "\n") end
  if #problems > 0 then
    cli.fail("EINVAL", string.format("%d problem%s in %s: %s", #problems, #problems == 1 and "" or "s",
      path, written and ("fill them in by hand in " .. written) or "nothing was written"),
      { result = out, problems = problems })
  end
end

if opts.from_dockerfile then return from_dockerfile() end
if opts.build_args then cli.usage_error("--build-arg goes with --from-dockerfile; " .. USAGE) end
if #args ~= 1 then cli.usage_error(USAGE) end
local dir = args[1]:gsub("/+$", "")
if dir == "" then cli.usage_error(USAGE) end
local base = dir:match("([^/]+)$")
local name = opts.name or ("acme/" .. base:lower():gsub("[^a-z0-9._-]+", "-"))
if not name:match("^[a-z0-9][a-z0-9._/-]*$") then
  cli.usage_error("invalid --name '" .. name .. "' (a lowercase repository path like acme/my-extension)")
end
local title = opts.title or base
if fs.exists(dir) then
  local entries = fs.list(dir)
  if entries == nil then cli.fail(cli.EXIT.failure, "'" .. dir .. "' exists and is not a folder") end
  if #entries > 0 then cli.fail(cli.EXIT.failure, "'" .. dir .. "' is not empty: init writes into a new folder") end
end

-- Lua string literal
local function q(s) return string.format("%q", s) end

local extension_lua = ([[
-- %s: a Docker Desktop extension, released with hoist.
--   hoist release . --version 0.1.0                       -- to the OCI layout dist/oci
--   hoist release . --version 0.1.0 --to docker://REGISTRY/REPO
-- Replace every "<fill in: ...>" below; until then `hoist release` lists what is left.
return {
  name = %s,
  platforms = { "linux/amd64", "linux/arm64" },
  labels = {
    title = %s,
    description = "<fill in: one line saying what the extension does>",
    vendor = "<fill in: who publishes it, e.g. your company>",
    api_version = ">= 0.3.3",       -- the Docker Desktop Extension API versions it works with
    icon = "<fill in: https URL of the icon shown in the Marketplace>",
    screenshots = {
      { alt = "<fill in: what the screenshot shows>", url = "<fill in: https URL of a screenshot, 2400x1600>" },
    },
    detailed_description = "<fill in: a few sentences of HTML for the Marketplace page>",
    publisher_url = "<fill in: https URL of your site>",
    changelog = "<p>First release.</p>",
    categories = { "utility-tools" },  -- see `hoist eval 'print(table.concat(require("hoist.label").CATEGORIES, " "))'`
  },
  layers = {
    { { from = "metadata.json", to = "/metadata.json" }, { from = "docker.svg", to = "/docker.svg" } },
    { from = "ui", to = "/ui" },
  },
  -- hooks = { before_build = function(ctx) ... end },    -- team steps: see hoist's README
}
]]):format(title, q(name), q(title))

local metadata = {
  icon = "docker.svg",
  ui = { ["dashboard-tab"] = { title = title, root = "/ui", src = "index.html" } },
}

local icon = [[
<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">
  <rect x="4" y="4" width="56" height="56" rx="12" fill="#1d63ed"/>
  <path d="M18 40h28M18 32h28M18 24h28" stroke="#fff" stroke-width="4" stroke-linecap="round"/>
</svg>
]]

local ui = ([[
<!doctype html>
<html>
  <head><meta charset="utf-8"><title>%s</title></head>
  <body>
    <h1>%s</h1>
    <p>Edit ui/index.html. Docker Desktop gives this page window.ddClient (the extension SDK).</p>
  </body>
</html>
]]):format(title, title)

local files = {
  { "extension.lua", extension_lua },
  { "metadata.json", json.encode(metadata, { sort_keys = true, indent = 2 }) .. "\n" },
  { "docker.svg", icon },
  { "ui/index.html", ui },
}
local ok, err = fs.mkdir(dir .. "/ui")
if not ok then cli.fail(cli.EXIT.failure, err) end
local written = {}
for _, f in ipairs(files) do
  ok, err = fs.write(dir .. "/" .. f[1], f[2])
  if not ok then cli.fail(cli.EXIT.failure, err) end
  written[#written + 1] = dir .. "/" .. f[1]
end
cli.output({ dir = dir, name = name, files = json.array(written) }, {
  "created " .. dir .. " (" .. name .. "):",
  "  " .. table.concat(written, "\n  "),
  "next: replace the <fill in: ...> placeholders in " .. dir .. "/extension.lua, then",
  "  hoist release " .. dir .. " --version 0.1.0",
})
