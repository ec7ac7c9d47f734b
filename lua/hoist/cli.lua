-- hoist.cli: what recipes share: exit codes, failing with a code, option parsing and output.
local host = require("hoist.host")

local cli = {}

-- Exit codes of the command line (DESIGN.md section 2).
cli.EXIT = { ok = 0, failure = 1, usage = 2, validation = 3 }

local error_mt = {
  __tostring = function(e) return e.message end,
}

-- Stops the recipe with an exit code and a one-line message (main prints "hoist: <message>").
function cli.fail(code, message)
  if type(code) ~= "number" then error("cli.fail: exit code expected", 2) end
  error(setmetatable({ exit = code, message = tostring(message) }, error_mt), 0)
end

function cli.usage_error(message) cli.fail(cli.EXIT.usage, message) end

-- Global flags that recipes accept anywhere on their command line.
local global_flags = {
  ["--json"] = "json", ["--debug"] = "debug", ["-q"] = "quiet", ["--quiet"] = "quiet",
}

--[[
Parses argv against spec:
  spec.options = { ["--version"] = { key = "version", value = true },
                   ["--latest"] = { key = "latest" }, ["-r"] = { key = "reverse" } , ... }
  spec.usage   = "usage: hoist NAME ..."          (appended to usage errors)
Returns opts (keys set to true or the value; a repeated value option with
`list = true` collects an array) and the positional arguments. "--" ends options.
"--key=value" is accepted for value options.
]]
function cli.parse(argv, spec)
  local opts, positional = {}, {}
  local options = spec.options or {}
  local i, n = 1, #argv
  local only_positional = false
  local function usage(msg)
    cli.usage_error(msg .. (spec.usage and ("; " .. spec.usage) or ""))
  end
  while i <= n do
    local a = argv[i]
    if only_positional or a == "-" or a:sub(1, 1) ~= "-" then
      positional[#positional + 1] = a
    elseif a == "--" then
      only_positional = true
    elseif global_flags[a] then
      host[global_flags[a]] = true
    elseif a == "--help" or a == "-h" then
      cli.print_help(arg and arg[0])
      os.exit(cli.EXIT.ok)
    else
      local name, inline = a:match("^(%-%-[^=]+)=(.*)$")
      name = name or a
      local o = options[name]
      if not o then usage("unknown option '" .. name .. "'") end
      local value = true
      if o.value then
        if inline then
          value = inline
        else
          i = i + 1
          value = argv[i]
          if value == nil then usage("option '" .. name .. "' needs a value") end
        end
      elseif inline then
        usage("option '" .. name .. "' takes no value")
      end
      if o.list then
        opts[o.key] = opts[o.key] or {}
        table.insert(opts[o.key], value)
      else
        opts[o.key] = value
      end
    end
    i = i + 1
  end
  return opts, positional
end

-- Prints a recipe's leading comment block (its help text).
function cli.print_help(path)
  local f = path and io.open(path)
  if not f then return end
  for line in f:lines() do
    if line:sub(1, 2) ~= "--" then break end
    io.stdout:write((line:gsub("^%-%- ?", "")), "\n")
  end
  f:close()
end

function cli.json_mode() return host.json == true end
function cli.quiet() return host.quiet == true end

-- Prints a result: JSON on stdout with --json, else the text form (a string or lines).
function cli.output(value, text)
  if host.json then
    io.stdout:write(require("hoist.json").encode(value, { sort_keys = true }), "\n")
  elseif type(text) == "table" then
    for _, line in ipairs(text) do io.stdout:write(line, "\n") end
  elseif text ~= nil then
    io.stdout:write(tostring(text), "\n")
  end
end

--[[
cli.warnings(list [, result]): prints each warning as "warning: ..." on stderr (log.warn: -q does
not hide it) and, when result is given, sets result.warnings to the list (a JSON array, [] when
none) for --json output. Returns how many there were. (--strict is the recipe's: it moves the
warnings into its problems before calling this.)
]]
function cli.warnings(list, result)
  if list ~= nil and type(list) ~= "table" then error("cli.warnings: a list of strings expected", 2) end
  local copy = {}
  for i, w in ipairs(list or {}) do
    copy[i] = tostring(w)
    require("hoist.log").warn("%s", copy[i])
  end
  if result ~= nil then result.warnings = require("hoist.json").array(copy) end
  return #copy
end

-- A human note on stderr (silenced by -q).
function cli.note(fmt, ...)
  require("hoist.log").info(fmt, ...)
end

return cli
