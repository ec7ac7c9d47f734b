-- Check a built extension image like `docker extension validate`: tag, platforms, labels, files.
--
-- usage: hoist validate REF [--json]
--
-- REF: oci:DIR[:TAG] (without TAG: the highest semver tag). The checks: the tag is semver; the
-- image is an index of linux/amd64 and linux/arm64 with nothing else in it; every required
-- extension label is set, well-formed and identical on every platform; metadata.json is valid
-- and every file it names (icon, UI, compose file, host binaries) is in every platform's image.
--
-- Exit codes: 0 valid; 3 problems (one line each on stderr); 1 the image cannot be read;
-- 2 usage.
local cli = require("hoist.cli")
local oci = require("hoist.oci")
local ref = require("hoist.ref")
local validate = require("hoist.validate")

local USAGE = "usage: hoist validate REF [--json]"
local _, args = cli.parse(arg, { usage = USAGE, options = {} })
if #args ~= 1 then cli.usage_error(USAGE) end
local r, err = ref.parse(args[1])
if not r then cli.usage_error(err) end
local src
if r.transport == "oci" then
  local store
  store, err = oci.layout(r.dir, { create = false })
  if not store then cli.fail(cli.EXIT.failure, err) end
  src = validate.layout_source(store)
else
  cli.usage_error("validate reads oci:DIR[:TAG] for now (registries come with the registry client)")
end
local problems, summary = validate.image(src, r.tag)
if not problems then cli.fail(cli.EXIT.failure, summary) end
local result = { reference = args[1], tag = summary.tag, digest = summary.digest,
                 platforms = require("hoist.json").array(summary.platforms),
                 valid = #problems == 0, problems = require("hoist.json").array(problems) }
if #problems > 0 then
  if cli.json_mode() then cli.output(result) end
  for _, p in ipairs(problems) do io.stderr:write(p, "\n") end
  cli.fail(cli.EXIT.validation, string.format("%s:%s has %d problem%s", src.display, summary.tag,
    #problems, #problems == 1 and "" or "s"))
end
cli.output(result, string.format("%s:%s passes the validation checks (%s)", src.display, summary.tag,
  table.concat(summary.platforms, ", ")))
