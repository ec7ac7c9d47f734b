-- Scaffold a new extension folder: extension.lua, metadata.json, an icon and a UI stub.
--
-- usage: hoist init DIR [--name REPO/NAME] [--title TITLE] [--json]
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
local cli = require("hoist.cli")
local fs = require("hoist.fs")
local json = require("hoist.json")

local USAGE = "usage: hoist init DIR [--name REPO/NAME] [--title TITLE] [--json]"
local opts, args = cli.parse(arg, { usage = USAGE, options = {
  ["--name"] = { key = "name", value = true },
  ["--title"] = { key = "title", value = true },
} })
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
