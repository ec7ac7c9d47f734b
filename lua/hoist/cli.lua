-- hoist.cli: what recipes share: exit codes, failing with a code, option parsing and output.
local host = require("hoist.host")

local cli = {}

-- recipes find a team's rocks too: ./.hoist/rocks, a luarocks tree (hoist.rocks)
require("hoist.rocks").activate(".")

-- Exit codes of the command line: 0 success, 1 a remote or runtime failure, 2 usage, 3 bad input
-- (128 + the signal when SIGINT/SIGTERM stopped it).
cli.EXIT = { ok = 0, failure = 1, usage = 2, validation = 3 }

--[[
The kinds of failure: the third value of every `nil, message, kind` the Lua library returns (the
C bindings' codes are the same names). Only hoist.cli and the recipes turn a kind into an exit code.
]]
cli.KINDS = {
  EUSAGE = 2,      -- the caller's arguments or options are wrong
  EINVAL = 3,      -- the input is invalid: the extension, an image, a file, a reference
  ENOENT = 1,      -- something named does not exist
  EIO = 1,         -- the operating system refused (a file, a folder, a process)
  EREMOTE = 1,     -- a registry answered with an error, or out of spec
  EAUTH = 1,       -- credentials refused or missing
  ECONFLICT = 1,   -- a version tag exists with other content, or was released concurrently
  ERANGE = 1,      -- beyond a bound hoist keeps (sizes, counts)
  ENOMEM = 1,
  ECANCELED = 1,   -- a callback asked to stop
  EINTR = 1,       -- SIGINT/SIGTERM (the CLI exits 128 + the signal)
  ECONFIG = 1,     -- a credentials file cannot be read or parsed
  EHELPER = 1,     -- a credential helper failed
  EEXIST = 1,      -- something is in the way that is never overwritten (a key file)
  ETIMEDOUT = 1,   -- a program (hoist.exec) ran past its timeout
  EEXIT = 1,       -- a program (hoist.exec) exited with a failure
}

-- The exit code of a kind (or of a number, which is one already); an unknown kind is a bug.
function cli.exit_code(kind)
  if math.type(kind) == "integer" then return kind end
  local code = cli.KINDS[kind]
  if not code then error("cli.exit_code: unknown kind '" .. tostring(kind) .. "'", 2) end
  return code
end

local error_mt = {
  __tostring = function(e) return e.message end,
}

--[[
Stops the recipe with a one-line message (main prints "hoist: <message>") and the exit code of
kind (a kind name such as "EINVAL", or an exit code). With --json, a JSON object goes to stdout
too, so a script that reads the output gets one on failure as well: extra.result (the recipe's
own result, when it has one) with `error`, `exit`, `kind`, `problems` and `warnings` added.
extra: { problems = {...}, warnings = {...}, result = {...} }.
]]
function cli.fail(kind, message, extra)
  local code = cli.exit_code(kind or "EIO")
  local e = { exit = code, message = tostring(message) }
  -- under GitHub Actions the failure shows on the run's page too (problems were annotated apiece)
  if code ~= 0 then cli.annotate("error", e.message) end
  if type(kind) == "string" then e.kind = kind end
  extra = type(extra) == "table" and extra or {}
  e.problems, e.warnings = extra.problems, extra.warnings
  if host.json then
    local json = require("hoist.json")
    local obj = {}
    for k, v in pairs(type(extra.result) == "table" and extra.result or {}) do obj[k] = v end
    obj.error, obj.exit, obj.kind = e.message, code, e.kind
    obj.problems = json.array(extra.problems or obj.problems or {})
    obj.warnings = json.array(extra.warnings or obj.warnings or {})
    io.stdout:write(json.encode(obj, { sort_keys = true }), "\n")
    e.json_reported = true
  end
  error(setmetatable(e, error_mt), 0)
end

function cli.usage_error(message) cli.fail("EUSAGE", message) end

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

--[[
Adds the options every recipe that talks to a registry takes to an options spec (and returns it):
--creds USER:PASS, --insecure, --authfile FILE (like skopeo and podman: credentials looked up in
FILE first; it must exist). opts.creds, opts.insecure, opts.authfile then go to endpoint.open.
]]
function cli.registry_options(options)
  options = options or {}
  options["--creds"] = options["--creds"] or { key = "creds", value = true }
  options["--insecure"] = options["--insecure"] or { key = "insecure" }
  options["--authfile"] = { key = "authfile", value = true }
  return options
end

---------------------------------------------------------------------------------------------------
-- CI engines: GitHub Actions workflow commands and the step summary

-- Whether problems go to GitHub Actions as annotations too (GITHUB_ACTIONS=true, as its runners set).
function cli.github_actions() return os.getenv("GITHUB_ACTIONS") == "true" end

-- A workflow command's data and properties escaped as the runner expects (%, CR, LF; and : , in
-- properties), so a message cannot end the command early or start another.
local function gh_escape(s, property)
  s = tostring(s):gsub("%%", "%%25"):gsub("\r", "%%0D"):gsub("\n", "%%0A")
  if property then s = s:gsub(":", "%%3A"):gsub(",", "%%2C") end
  return s
end

--[[
The line of `file` a problem is about, when it can be told: the problem names a key ("labels.vendor",
"layers[2].from", a quoted label key or value) that is written on one line of the file. nil when
none is found (then the annotation names the file only).
]]
function cli.problem_line(text, problem)
  if type(text) ~= "string" or type(problem) ~= "string" then return nil end
  local lines = {}
  for l in (text .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
  local function find(pat, plain)
    for i, l in ipairs(lines) do
      if not l:match("^%s*%-%-") and l:find(pat, 1, plain) then return i end
    end
  end
  -- a quoted word of the message, longest first ('com.docker.extension.changelog', "hello")
  local quoted = {}
  for q in problem:gmatch("'([^'\n]+)'") do quoted[#quoted + 1] = q end
  for q in problem:gmatch('"([^"\n]+)"') do quoted[#quoted + 1] = q end
  table.sort(quoted, function(a, b) return #a > #b end)
  for _, q in ipairs(quoted) do
    if #q >= 3 then local n = find(q, true); if n then return n end end
  end
  -- a label key ("org.opencontainers.image.vendor") is written as its field (vendor = ...)
  local ok, label = pcall(require, "hoist.label")
  if ok and type(label.KEYS) == "table" then
    for _, q in ipairs(quoted) do
      for _, k in ipairs(label.KEYS) do
        if k.key == q and k.field then
          local n = find("^%s*" .. k.field .. "%s*=") or find("[{,]%s*" .. k.field .. "%s*=")
          if n then return n end
        end
      end
    end
  end
  -- a dotted key path at the start ("labels.vendor: ...", "layers[2].from ..."): its last name as a key
  local path = problem:match("^([%w_%.%[%]]+)[:%s]")
  if path then
    local last = path:match("([%a_][%w_]*)[%]%[%d]*$")
    if last and #last >= 3 then
      local n = find("^%s*" .. last .. "%s*=") or find("[{,]%s*" .. last .. "%s*=")
      if n then return n end
    end
  end
  return nil
end

--[[
Prints each problem on stderr (one line each, as recipes always have) and, under GitHub Actions,
also as an `::error file=F,line=N::` workflow command so it shows on the pull request and the run.
opts: { file = "extension.lua" path the problems are about (read to find lines), title = "..." }.
]]
-- The path GitHub wants in an annotation: relative to the checkout ($GITHUB_WORKSPACE).
local function workspace_path(path)
  local fs = require("hoist.fs")
  local ws = os.getenv("GITHUB_WORKSPACE")
  local real = fs.realpath(path)
  ws = ws and ws ~= "" and fs.realpath(ws)
  if real and ws and real:sub(1, #ws + 1) == ws .. "/" then return real:sub(#ws + 2) end
  return (path:gsub("^%./", ""))
end

function cli.problems(list, opts)
  opts = opts or {}
  local gh = cli.github_actions()
  local text = gh and opts.file and require("hoist.fs").read(opts.file, 4 * 1024 * 1024) or nil
  for _, p in ipairs(list or {}) do
    io.stderr:write(tostring(p), "\n")
    if gh then
      local props = {}
      if opts.file then
        props[#props + 1] = "file=" .. gh_escape(workspace_path(opts.file), true)
        local n = cli.problem_line(text, tostring(p))
        if n then props[#props + 1] = "line=" .. n end
      end
      if opts.title then props[#props + 1] = "title=" .. gh_escape(opts.title, true) end
      io.stdout:flush()
      io.stderr:write("::error", #props > 0 and (" " .. table.concat(props, ",")) or "", "::", gh_escape(p), "\n")
    end
  end
end

-- Under GitHub Actions, a warning or error as a workflow command (nothing elsewhere).
function cli.annotate(level, message, file)
  if not cli.github_actions() then return end
  io.stderr:write("::", level, file and (" file=" .. gh_escape(file, true)) or "", "::", gh_escape(message), "\n")
end

--[[
Appends markdown to the job's summary ($GITHUB_STEP_SUMMARY, which GitHub's runner sets to a file
it shows on the run's page). Does nothing elsewhere; a file that cannot be written is a warning,
never a failure of the release. Returns true when written.
]]
function cli.step_summary(markdown)
  local path = os.getenv("GITHUB_STEP_SUMMARY")
  if not path or path == "" then return false end
  local f, err = io.open(path, "a")
  if not f then require("hoist.log").warn("cannot write the step summary: %s", tostring(err)); return false end
  f:write(markdown, markdown:sub(-1) == "\n" and "" or "\n")
  f:close()
  return true
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
