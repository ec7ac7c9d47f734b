-- hoist.yaml: YAML documents (compose files) as Lua tables, read by libyaml (host/core/common/yamljson.c) with
-- the YAML 1.2 core schema that docker compose uses: null, booleans, numbers, strings; aliases
-- expanded, merge keys (<<) applied. Arrays come back marked as hoist.json arrays.
local core = require("hoist.yaml.core")
local json = require("hoist.json")

local yaml = {}

-- yaml.decode(text [, name]) -> value | nil, "NAME:LINE:COLUMN: what is wrong"
function yaml.decode(text, name)
  if type(text) ~= "string" then error("yaml.decode: a string expected", 2) end
  local j, err = core.to_json(text, name)
  if not j then return nil, err end
  return json.decode(j)
end

return yaml
