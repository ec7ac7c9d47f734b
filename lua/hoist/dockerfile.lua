--[[
hoist.dockerfile: reads a Dockerfile the way BuildKit does and translates its final stage into an
extension description (the table DIR/extension.lua returns), for `hoist init --from-dockerfile`.
docs/dockerfile-import.md says what is translated, how, and what is not.

  dockerfile.parse(text)                      -> parsed { instructions, directives, escape, problems }
  dockerfile.expand(word, lookup [, escape])  -> value, info { used, unset } | nil, err, "EINVAL"
  dockerfile.ignore_patterns(text)            -> patterns of a .dockerignore (with .line)
  dockerfile.ignored(patterns, path)          -> whether docker leaves path out of the context
  dockerfile.ignore_below(patterns, dir)      -> { excluded, patterns, inexpressible }
  dockerfile.translate(parsed, opts)          -> result { desc, problems, notes, ... }
  dockerfile.render(result)                   -> the text of extension.lua
  dockerfile.import(path, dir [, opts])       -> result (with .text) | nil, err, kind
  dockerfile.problem_line(p)                  -> "FILE:LINE: message"

Division of work: this module only reads (the Dockerfile, .dockerignore, the names and first bytes
of the build context's files); scripts/init.lua decides what is written and the exit code.
Problems are what docker build and the written extension.lua would not agree on; notes are what
the reader should know but changes nothing in the image.
]]
local fs = require("hoist.fs")
local text = require("hoist.text")
local json = require("hoist.json")
local label = require("hoist.label")

local dockerfile = {}

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

-- ---------------------------------------------------------------------------------------------
-- Parsing (BuildKit's frontend/dockerfile/parser): directives, comments, continuations, heredocs,
-- builder flags, and each instruction's argument form. Nothing is expanded here.
-- ---------------------------------------------------------------------------------------------

local DIRECTIVES = { syntax = true, escape = true, check = true }

-- How BuildKit's dispatch table reads each instruction's arguments.
local FORM = {
  add = "maybe_json_list", copy = "maybe_json_list", volume = "maybe_json_list",
  cmd = "maybe_json", entrypoint = "maybe_json", run = "maybe_json", shell = "maybe_json",
  expose = "whitespace", from = "whitespace",
  maintainer = "string", stopsignal = "string", user = "string", workdir = "string",
  env = "name_val", label = "name_val", arg = "name_or_name_val",
  healthcheck = "health", onbuild = "sub",
}
local HEREDOC_CMDS = { run = true, copy = true, add = true }

local function split_lines(text)
  local lines = {}
  if text == "" then return lines end
  if text:sub(-1) ~= "\n" then text = text .. "\n" end
  for l in text:gmatch("([^\n]*)\n") do lines[#lines + 1] = (l:gsub("\r$", "")) end
  lines[1] = lines[1]:gsub("^\239\187\191", "")   -- a UTF-8 byte-order mark
  return lines
end

local function is_space(ch) return ch ~= nil and ch:match("^%s$") ~= nil end

-- The leading --name[=value] words of an instruction (quotes removed), and the rest of the line.
local function extract_flags(line)
  local words, word = {}, ""
  local phase, quote, blank_ok = "spaces", nil, false
  local pos, n = 1, #line
  while pos <= n + 1 do
    local ch = pos <= n and line:sub(pos, pos) or nil
    if phase == "spaces" then
      if pos > n then break end
      if is_space(ch) then goto continue end
      if ch ~= "-" or pos == n or line:sub(pos + 1, pos + 1) ~= "-" then return words, line:sub(pos) end
      phase = "word"
    end
    if pos > n then
      if word ~= "--" and (blank_ok or #word > 0) then words[#words + 1] = word end
      break
    end
    if phase == "word" then
      if is_space(ch) then
        phase = "spaces"
        if word == "--" then return words, line:sub(pos) end
        if blank_ok or #word > 0 then words[#words + 1] = word end
        word, blank_ok = "", false
      elseif ch == "'" or ch == '"' then
        quote, blank_ok, phase = ch, true, "quote"
      else
        if ch == "\\" then
          if pos == n then goto continue end
          pos = pos + 1
          ch = line:sub(pos, pos)
        end
        word = word .. ch
      end
    else
      if ch == quote then
        phase = "word"
      else
        if ch == "\\" then
          if pos == n then phase = "word"; goto continue end
          pos = pos + 1
          ch = line:sub(pos, pos)
        end
        word = word .. ch
      end
    end
    ::continue::
    pos = pos + 1
  end
  return words, ""
end

-- BuildKit's parseWords: splits on unquoted blanks, keeping quotes and escapes in the words
-- (they are removed when the word is expanded).
local function parse_words(rest, escape)
  local words, word = {}, ""
  local phase, quote, blank_ok = "spaces", nil, false
  local pos, n = 1, #rest
  while pos <= n + 1 do
    local ch = pos <= n and rest:sub(pos, pos) or nil
    if phase == "spaces" then
      if pos > n then break end
      if is_space(ch) then goto continue end
      phase = "word"
    end
    if pos > n then
      if blank_ok or #word > 0 then words[#words + 1] = word end
      break
    end
    if phase == "word" then
      if is_space(ch) then
        phase = "spaces"
        if blank_ok or #word > 0 then words[#words + 1] = word end
        word, blank_ok = "", false
        goto continue
      end
      if ch == "'" or ch == '"' then quote, blank_ok, phase = ch, true, "quote" end
      if ch == escape then
        if pos == n then goto continue end
        word = word .. ch
        pos = pos + 1
        ch = rest:sub(pos, pos)
      end
      word = word .. ch
    else
      if ch == quote then phase = "word" end
      if ch == escape and quote ~= "'" then
        if pos == n then phase = "word"; goto continue end
        word = word .. ch
        pos = pos + 1
        ch = rest:sub(pos, pos)
      end
      word = word .. ch
    end
    ::continue::
    pos = pos + 1
  end
  return words
end

local function split_whitespace(s)
  local out = {}
  for w in s:gmatch("[^ \t\v\f\r\n]+") do out[#out + 1] = w end
  return out
end

-- The exec (JSON) form: true, words; the shell form: false; an array of non-strings: nil, err.
local function maybe_json(args)
  local r = args:gsub("^%s+", "")
  if r:sub(1, 1) == "[" then
    local v = json.decode(r)
    if type(v) == "table" then
      local words = {}
      for i = 1, #v do
        if type(v[i]) ~= "string" then return nil, "the JSON (exec) form must be an array of strings" end
        words[i] = v[i]
      end
      return true, words
    end
  end
  return false
end

-- ENV and LABEL: "K=V K2=V2" or the legacy "K V" (a space before any '=').
local function name_val(args, keyword, escape)
  local words = parse_words(args, escape)
  if #words == 0 then return nil, keyword .. " names can not be blank" end
  if not words[1]:find("=", 1, true) then
    local k, v = args:match("^(%S+)[ \t\v\f\r]+(.*)$")
    if not k then return nil, keyword .. " must have two arguments" end
    return { { key = k, value = v, legacy = true } }
  end
  local pairs_ = {}
  for _, w in ipairs(words) do
    local k, v = w:match("^([^=]*)=(.*)$")
    if not k then
      return nil, "syntax error: can't find = in " .. text.quote(w) .. ", must be of the form: name=value"
    end
    pairs_[#pairs_ + 1] = { key = k, value = v }
  end
  return pairs_
end

-- The heredocs an instruction opens: words like <<EOF, <<-EOF, <<"EOF" or 3<<EOF.
local function find_heredocs(args, escape)
  local found
  for _, w in ipairs(parse_words(args, escape)) do
    local fd, dash, rest = w:match("^(%d*)<<(%-?)([^<]*)$")
    if rest and rest ~= "" then
      local quoted = rest:find("['\"]") ~= nil
      local name = rest:gsub("['\"]", "")
      if name ~= "" then
        found = found or {}
        found[#found + 1] = { name = name, chomp = dash == "-", expand = not quoted, fd = tonumber(fd) }
      end
    end
  end
  return found
end

local parse_node

local function parse_args(ins, args, escape)
  local form = FORM[ins.cmd]
  local err
  if form == "maybe_json" or form == "maybe_json_list" then
    local is_json, words = maybe_json(args)
    if is_json == nil then
      err = words
    elseif is_json then
      ins.json, ins.words = true, words
    else
      ins.json = false
      ins.rest = args
      if form == "maybe_json_list" then ins.words = split_whitespace(args) end
    end
  elseif form == "whitespace" then
    ins.words = split_whitespace(args)
  elseif form == "string" then
    ins.rest = args
  elseif form == "name_val" then
    ins.pairs, err = name_val(args, ins.keyword:upper(), escape)
  elseif form == "name_or_name_val" then
    ins.args_list = {}
    for _, w in ipairs(parse_words(args, escape)) do
      local k, v = w:match("^([^=]*)=(.*)$")
      ins.args_list[#ins.args_list + 1] = { name = k or w, value = v }
    end
  elseif form == "health" then
    local typ, rest = args:match("^(%S+)%s*(.*)$")
    if not typ then
      err = "HEALTHCHECK needs CMD or NONE"
    elseif typ:upper() == "NONE" then
      ins.health = { kind = "NONE" }
      if rest ~= "" then err = "HEALTHCHECK NONE takes no arguments" end
    elseif typ:upper() == "CMD" then
      local is_json, words = maybe_json(rest)
      if is_json == nil then err = words
      elseif rest == "" then err = "HEALTHCHECK CMD needs a command"
      elseif is_json then ins.health = { kind = "CMD", json = true, words = words }
      else ins.health = { kind = "CMD", json = false, rest = rest } end
    else
      err = "HEALTHCHECK: unknown type " .. text.quote(typ) .. " (CMD or NONE)"
    end
  elseif form == "sub" then
    if args == "" then err = "ONBUILD needs an instruction" else ins.sub = parse_node(args, escape) end
  end
  if HEREDOC_CMDS[ins.cmd] and args:find("<<", 1, true) then ins.heredocs = find_heredocs(args, escape) end
  ins.error = ins.error or err
end

parse_node = function(line, escape)
  local s = trim(line)
  local kw, rest = s:match("^(%S+)[ \t\v\f\r]+(.*)$")
  if not kw then kw, rest = s, "" end
  local ins = { keyword = kw, cmd = kw:lower(), text = s, flags = {} }
  local flag_words, args = extract_flags(rest)
  for _, w in ipairs(flag_words) do
    local name, value = w:match("^%-%-([^=]*)=(.*)$")
    ins.flags[#ins.flags + 1] = { name = name or w:sub(3), value = value, raw = w }
  end
  ins.args = trim(args)
  if FORM[ins.cmd] then parse_args(ins, ins.args, escape) else ins.unknown = true end
  return ins
end

function dockerfile.parse(text)
  if type(text) ~= "string" then error("dockerfile.parse: string expected, got " .. type(text), 2) end
  local lines = split_lines(text)
  local problems, instructions = {}, {}
  local directives, escape, done = {}, "\\", false
  local function problem(line, message) problems[#problems + 1] = { line = line, message = message } end

  -- Parser directives: "# key=value" lines before anything else (a blank line ends them too).
  local function directive(lineno, line)
    if done then return end
    local k, v = line:match("^#%s*(%a%w*)%s*=%s*(.-)%s*$")
    if not k or v == "" or not DIRECTIVES[k:lower()] then done = true; return end
    k = k:lower()
    if directives[k] then problem(lineno, "only one " .. k .. " parser directive can be used"); return end
    directives[k] = v
    if k == "escape" then
      if v ~= "\\" and v ~= "`" then problem(lineno, "invalid escape token '" .. v .. "' does not match ` or \\")
      else escape = v end
    end
  end
  local function continued(s)
    local body = s:match("^(.-)" .. escape .. "[ \t]*$")
    if body then return body, false end
    return s, true
  end

  local i, n = 1, #lines
  while i <= n do
    local lineno = i
    local first = lines[i]:gsub("^%s+", "")
    directive(lineno, first)
    i = i + 1
    if first:sub(1, 1) == "#" then first = "" end
    local line, eol = continued(first)
    if not (eol and line == "") then
      while not eol and i <= n do
        local r = lines[i]
        i = i + 1
        -- comment lines and blank lines inside a continuation are skipped, as BuildKit does
        if not r:match("^%s*#") and not r:match("^%s*$") then
          local c
          c, eol = continued(r)
          line = line .. c
        end
      end
      local ins = parse_node(line, escape)
      ins.line, ins.end_line = lineno, i - 1
      if ins.error then problem(lineno, ins.error) end
      for _, h in ipairs(ins.heredocs or {}) do
        local content, closed = {}, false
        while i <= n do
          local r = lines[i]
          i = i + 1
          local cmp = h.chomp and r:gsub("^\t+", "") or r
          if cmp == h.name then closed = true; break end
          content[#content + 1] = cmp .. "\n"
        end
        if not closed then problem(lineno, "unterminated heredoc <<" .. h.name) end
        h.content = table.concat(content)
      end
      ins.end_line = i - 1
      ins.raw = {}
      for k = lineno, ins.end_line do ins.raw[#ins.raw + 1] = lines[k] end
      instructions[#instructions + 1] = ins
    end
  end
  return { instructions = instructions, directives = directives, escape = escape, problems = problems }
end

-- ---------------------------------------------------------------------------------------------
-- Expansion (BuildKit's shell lexer): quotes removed, $VAR ${VAR} ${VAR:-w} ${VAR:+w} ${VAR:?w}
-- (and the forms without ':') substituted. lookup(name) -> value or nil (unset).
-- ---------------------------------------------------------------------------------------------

local SPECIAL_PARAM = { ["@"] = true, ["*"] = true, ["#"] = true, ["?"] = true, ["-"] = true,
  ["$"] = true, ["!"] = true, ["0"] = true }

function dockerfile.expand(word, lookup, escape)
  if type(word) ~= "string" then error("dockerfile.expand: string expected, got " .. type(word), 2) end
  if type(lookup) == "table" then
    local t = lookup
    lookup = function(name) return t[name] end
  elseif type(lookup) ~= "function" then
    error("dockerfile.expand: lookup must be a table or a function", 2)
  end
  escape = escape or "\\"
  local pos, n = 1, #word
  local info = { used = {}, unset = {} }
  local function peek() return word:sub(pos, pos) end
  local function nextc()
    local c = word:sub(pos, pos)
    pos = pos + 1
    return c
  end
  local function get(name, plain)
    info.used[#info.used + 1] = name
    local v = lookup(name)
    if v == nil and plain then info.unset[#info.unset + 1] = name end
    return v
  end
  local process_stop_on

  local function process_name()
    local name = {}
    while pos <= n do
      local ch = peek()
      if #name == 0 and ch:match("%d") then
        while pos <= n and peek():match("%d") do name[#name + 1] = nextc() end
        return table.concat(name)
      end
      if #name == 0 and SPECIAL_PARAM[ch] then return nextc() end
      if not ch:match("[%w_]") then break end
      name[#name + 1] = nextc()
    end
    return table.concat(name)
  end

  local function process_dollar()
    nextc()
    if peek() ~= "{" then
      local name = process_name()
      if name == "" then return "$" end
      return get(name, true) or ""
    end
    nextc()
    local c = peek()
    if c == "" then error({ "syntax error: missing '}'" }) end
    if c == "{" or c == "}" or c == ":" then error({ "syntax error: bad substitution" }) end
    local name = process_name()
    local ch = nextc()
    if ch == "" then error({ "syntax error: missing '}'" }) end
    if ch == "}" then return get(name, true) or "" end
    local colon = ch == ":"
    local modifier = colon and nextc() or ch
    if modifier ~= "-" and modifier ~= "+" and modifier ~= "?" then
      error({ "unsupported modifier (" .. modifier .. ") in substitution ${" .. name .. "...}" })
    end
    local w = process_stop_on("}")
    local v = get(name, false)
    local empty = v == nil or (colon and v == "")
    if modifier == "-" then
      if empty then return w end
      return v
    elseif modifier == "+" then
      if empty then return "" end
      return w
    end
    if empty then error({ name .. ": " .. (w ~= "" and w or "is not allowed to be empty") }) end
    return v
  end

  local function process_single_quote()
    nextc()
    local out = {}
    while true do
      if pos > n then error({ "unexpected end of statement while looking for matching single-quote" }) end
      local ch = nextc()
      if ch == "'" then return table.concat(out) end
      out[#out + 1] = ch
    end
  end

  local function process_double_quote()
    nextc()
    local out = {}
    while true do
      if pos > n then error({ "unexpected end of statement while looking for matching double-quote" }) end
      local ch = peek()
      if ch == '"' then
        nextc()
        return table.concat(out)
      elseif ch == "$" then
        out[#out + 1] = process_dollar()
      else
        ch = nextc()
        if ch == escape then
          local p = peek()
          if p == "" then goto continue end
          if p == '"' or p == "$" or p == escape then ch = nextc() end
        end
        out[#out + 1] = ch
      end
      ::continue::
    end
  end

  process_stop_on = function(stop)
    local out = {}
    while pos <= n do
      local ch = peek()
      if stop and ch == stop then
        nextc()
        return table.concat(out)
      end
      if ch == "'" then
        out[#out + 1] = process_single_quote()
      elseif ch == '"' then
        out[#out + 1] = process_double_quote()
      elseif ch == "$" then
        out[#out + 1] = process_dollar()
      else
        nextc()
        if ch == escape then
          if pos > n then break end
          ch = nextc()
        end
        out[#out + 1] = ch
      end
    end
    if stop then error({ "syntax error: missing '" .. stop .. "'" }) end
    return table.concat(out)
  end

  local ok, result = pcall(process_stop_on, nil)
  if not ok then
    if type(result) == "table" then return nil, result[1], "EINVAL" end
    error(result, 0)
  end
  return result, info
end

-- ---------------------------------------------------------------------------------------------
-- .dockerignore (moby/patternmatcher): patterns cleaned like paths, '!' exceptions, '**'.
-- ---------------------------------------------------------------------------------------------

-- Path parts without "." and "..": parts, and whether ".." went above the start.
local function clean_parts(p)
  local parts, escaped = {}, false
  for seg in p:gmatch("[^/]+") do
    if seg == ".." then
      if #parts > 0 then parts[#parts] = nil else escaped = true end
    elseif seg ~= "." then
      parts[#parts + 1] = seg
    end
  end
  return parts, escaped
end

local function clean_abs(p) return "/" .. table.concat((clean_parts(p)), "/") end

-- Tokens of a pattern: lit, star ([^/]*), any ([^/]), class, dstar ((.*/)?), dstar_end (.*).
-- component = true compiles a single path component (filepath.Match: no '**').
local function compile(p, component)
  local toks = {}
  local i, n = 1, #p
  while i <= n do
    local c = p:sub(i, i)
    if c == "*" then
      if not component and p:sub(i + 1, i + 1) == "*" then
        i = i + 2
        if p:sub(i, i) == "/" then i = i + 1 end
        toks[#toks + 1] = { t = i > n and "dstar_end" or "dstar" }
      else
        toks[#toks + 1] = { t = "star" }
        i = i + 1
      end
    elseif c == "?" then
      toks[#toks + 1] = { t = "any" }
      i = i + 1
    elseif c == "\\" then
      toks[#toks + 1] = { t = "lit", c = i < n and p:sub(i + 1, i + 1) or "\\" }
      i = i + 2
    elseif c == "[" and p:find("]", i + 2, true) then
      local close = p:find("]", i + 2, true)
      local body = p:sub(i + 1, close - 1)
      local neg = body:sub(1, 1) == "^"
      if neg then body = body:sub(2) end
      toks[#toks + 1] = { t = "class", neg = neg, set = body, text = p:sub(i, close) }
      i = close + 1
    else
      toks[#toks + 1] = { t = "lit", c = c }
      i = i + 1
    end
  end
  return toks
end

local function class_has(tok, ch)
  local set, k, found = tok.set, 1, false
  while k <= #set do
    local a = set:sub(k, k)
    if a == "\\" and k < #set then k = k + 1; a = set:sub(k, k) end
    if set:sub(k + 1, k + 1) == "-" and k + 2 <= #set then
      if ch >= a and ch <= set:sub(k + 2, k + 2) then found = true end
      k = k + 3
    else
      if ch == a then found = true end
      k = k + 1
    end
  end
  if tok.neg then return not found end
  return found
end

-- The NFA over tokens: a state is a token index; -i is "inside the (.*/) of dstar i".
local function closure(toks, set)
  local list = {}
  for s in pairs(set) do list[#list + 1] = s end
  while #list > 0 do
    local s = table.remove(list)
    local tok = s > 0 and toks[s]
    if tok and (tok.t == "star" or tok.t == "dstar" or tok.t == "dstar_end") and not set[s + 1] then
      set[s + 1] = true
      list[#list + 1] = s + 1
    end
  end
  return set
end

local function step(toks, set, ch)
  local out = {}
  for s in pairs(set) do
    if s < 0 then
      out[s] = true
      if ch == "/" then out[-s + 1] = true end
    else
      local tok = toks[s]
      if tok then
        if tok.t == "lit" then
          if ch == tok.c then out[s + 1] = true end
        elseif tok.t == "star" then
          if ch ~= "/" then out[s] = true end
        elseif tok.t == "any" then
          if ch ~= "/" then out[s + 1] = true end
        elseif tok.t == "class" then
          if ch ~= "/" and class_has(tok, ch) then out[s + 1] = true end
        elseif tok.t == "dstar" then
          out[-s] = true
          if ch == "/" then out[s + 1] = true end
        elseif tok.t == "dstar_end" then
          out[s] = true
        end
      end
    end
  end
  return out
end

-- The states after reading str; raw = true leaves out those only reached by skipping an empty
-- '*' or '**' (what remains from them is already said by the state before the skip).
local function run(toks, str, raw)
  local set = { [1] = true }
  for k = 1, #str do
    set = step(toks, closure(toks, set), str:sub(k, k))
    if next(set) == nil then break end
  end
  if raw then return set end
  return closure(toks, set)
end

local function matches(toks, str) return run(toks, str)[#toks + 1] == true end

-- Tokens back to pattern text (for the exclude lists of hoist layers).
local function render_tokens(toks, from)
  local out = {}
  for k = from, #toks do
    local tok = toks[k]
    if tok.t == "lit" then
      out[#out + 1] = tok.c:find("[%*%?%[%]\\]") and ("\\" .. tok.c) or tok.c
    elseif tok.t == "star" then out[#out + 1] = "*"
    elseif tok.t == "any" then out[#out + 1] = "?"
    elseif tok.t == "class" then out[#out + 1] = tok.text
    elseif tok.t == "dstar" then out[#out + 1] = "**/"
    else out[#out + 1] = "**" end
  end
  return table.concat(out)
end

function dockerfile.ignore_patterns(text)
  if type(text) ~= "string" then error("dockerfile.ignore_patterns: string expected, got " .. type(text), 2) end
  local patterns = {}
  for lineno, raw in ipairs(split_lines(text)) do
    if raw:sub(1, 1) ~= "#" then
      local p = trim(raw)
      if p ~= "" then
        local exclusion = p:sub(1, 1) == "!"
        if exclusion then p = trim(p:sub(2)) end
        if p ~= "" then
          local absolute = p:sub(1, 1) == "/"
          p = table.concat((clean_parts(p)), "/")
          if p == "" then p = absolute and "/" or "." end
        end
        patterns[#patterns + 1] = { pattern = p, exclusion = exclusion, line = lineno, toks = compile(p) }
      end
    end
  end
  return patterns
end

-- Whether p matches path or one of its parent folders (patternmatcher's MatchesOrParentMatches).
local function hits(p, parts)
  if matches(p.toks, table.concat(parts, "/")) then return true end
  for k = 1, #parts - 1 do
    if matches(p.toks, table.concat(parts, "/", 1, k)) then return true end
  end
  return false
end

function dockerfile.ignored(patterns, path)
  local parts = clean_parts(path)
  if #parts == 0 then return false end
  local matched = false
  for _, p in ipairs(patterns) do
    if p.exclusion == matched and hits(p, parts) then matched = not p.exclusion end
  end
  return matched
end

-- What remains of pattern p once the folder prefix ("dir/") is consumed: patterns over the paths
-- below dir.
local function remainders(p, prefix)
  local set = run(p.toks, prefix, true)
  local out, seen = {}, {}
  local states = {}
  for s in pairs(set) do states[#states + 1] = s end
  table.sort(states, function(a, b) return math.abs(a) < math.abs(b) end)
  for _, s in ipairs(states) do
    local from = math.abs(s)
    -- "**/" + rest already covers rest alone
    local covered = from > 1 and (set[from - 1] or set[1 - from]) and p.toks[from - 1].t == "dstar"
    if from <= #p.toks and not covered then
      local text = render_tokens(p.toks, from)
      if not seen[text] then seen[text] = true; out[#out + 1] = text end
    end
  end
  return out
end

local function has_wildcard(s)
  local k = 1
  while k <= #s do
    local c = s:sub(k, k)
    if c == "\\" then k = k + 1
    elseif c == "*" or c == "?" or c == "[" then return true end
    k = k + 1
  end
  return false
end

--[[
The .dockerignore patterns that apply below the context folder dir ("" or "." = the context),
rewritten relative to dir, for a layer entry that copies that folder. Returns
{ excluded = true when docker leaves dir itself out, patterns = { ... },
  inexpressible = { pattern entries: exceptions ('!') a plain exclude list cannot say } }.
]]
function dockerfile.ignore_below(patterns, dir)
  local parts = clean_parts(dir)
  local prefix = #parts > 0 and (table.concat(parts, "/") .. "/") or ""
  local whole, list, seen, inexpressible = false, {}, {}, {}
  for _, p in ipairs(patterns) do
    local hit = #parts > 0 and hits(p, parts)
    local rem = remainders(p, prefix)
    if not p.exclusion then
      if hit then
        whole, list, seen = true, {}, {}
      elseif not whole then
        for _, r in ipairs(rem) do
          if not seen[r] then seen[r] = true; list[#list + 1] = r end
        end
      end
    elseif hit then
      whole, list, seen = false, {}, {}
    elseif #rem > 0 then
      -- An exception re-includes what an earlier pattern excluded; a flat exclude list cannot
      -- say "except". When the exception is a plain path that no earlier pattern reaches, it
      -- changes nothing.
      local overlaps = whole
      if not overlaps then
        for _, r in ipairs(rem) do
          if has_wildcard(r) then overlaps = true break end
          local rparts = clean_parts(r)
          for _, l in ipairs(list) do
            local lp = { toks = compile(l) }
            if hits(lp, rparts) or #remainders(lp, r .. "/") > 0 then overlaps = true break end
          end
          if overlaps then break end
        end
      end
      if overlaps then inexpressible[#inexpressible + 1] = p end
    end
  end
  return { excluded = whole, patterns = list, inexpressible = inexpressible }
end

-- ---------------------------------------------------------------------------------------------
-- Translation of the final stage.
-- ---------------------------------------------------------------------------------------------

-- The automatic platform ARGs: the target's become hoist's per-platform ${...} (expanded for each
-- platform by hoist where it expands them: a layer's from and to, a per-platform base).
local TARGET_ARGS = {
  TARGETPLATFORM = "${os}/${arch}", TARGETOS = "${os}", TARGETARCH = "${arch}", TARGETVARIANT = "${variant}",
}
local BUILD_ARGS = { BUILDPLATFORM = true, BUILDOS = true, BUILDARCH = true, BUILDVARIANT = true }
local PER_PLATFORM_MARK = "%${[a-z]+}"

local PLACEHOLDERS = {
  description = "<fill in: one line saying what the extension does>",
  vendor = "<fill in: who publishes it, e.g. your company>",
  api_version = "<fill in: the Docker Desktop Extension API versions it works with, e.g. >= 0.3.3>",
  icon = "<fill in: https URL of the icon shown in the Marketplace>",
  screenshots = "<fill in: a JSON array of {alt, url} screenshots, 2400x1600>",
  detailed_description = "<fill in: a few sentences of HTML for the Marketplace page>",
  publisher_url = "<fill in: https URL of your site>",
  changelog = "<fill in: the changes in this release, as HTML>",
  categories = "<fill in: comma-separated categories, e.g. utility-tools>",
}

local FIELD_BY_KEY = {}
for _, k in ipairs(label.KEYS) do FIELD_BY_KEY[k.key] = k.field end

local TRANSLATE_OPTS = {
  build_args = true, context = true, dir_prefix = true, ignore = true, file = true,
  ignore_file = true, name = true, title = true, default_title = true, platforms = true,
  context_outside = true,
}

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

local function is_url(s)
  return s:match("^[%a][%w+.-]*://") ~= nil or s:match("^git@") ~= nil
end

-- What a file starts with, when it is an archive ADD would unpack: "gzip", "tar", ... or nil.
local function archive_kind(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local head = f:read(512) or ""
  f:close()
  if head:sub(1, 2) == "\31\139" then return "gzip" end
  if head:sub(1, 3) == "BZh" then return "bzip2" end
  if head:sub(1, 6) == "\253\55\122\88\90\0" then return "xz" end
  if head:sub(1, 4) == "\40\181\47\253" then return "zstd" end
  if head:sub(258, 262) == "ustar" then return "tar" end
  return nil
end

local function expand_marks(s, platform)
  local os_, arch, variant = platform:match("^([^/]+)/([^/]+)/?(.*)$")
  local vars = { os = os_, arch = arch, variant = variant }
  return (s:gsub("%${(%w+)}", function(k) return vars[k] end))
end

local function join(a, b)
  if a == "" or a == "." then return b end
  if b == "" or b == "." then return a end
  return a .. "/" .. b
end

local function basename(p) return p:match("([^/]+)/*$") or p end

local function one_line(s, max)
  s = s:gsub("[%c]+", " ")
  if max and #s > max then s = s:sub(1, max - 3) .. "..." end
  return s
end

-- The files of the build context that a COPY source with wildcards matches (filepath.Match on
-- each component: '*' matches names starting with '.', unlike a shell).
local function glob_context(root, pattern)
  local results = { "" }
  for comp in pattern:gmatch("[^/]+") do
    local next_ = {}
    for _, base in ipairs(results) do
      if has_wildcard(comp) then
        local toks = compile(comp, true)
        for _, name in ipairs(fs.list(join(root, base)) or {}) do
          if matches(toks, name) then next_[#next_ + 1] = join(base, name) end
        end
      else
        local lit = comp:gsub("\\(.)", "%1")
        local p = join(base, lit)
        if fs.exists(root .. "/" .. p) then next_[#next_ + 1] = p end
      end
    end
    results = next_
  end
  table.sort(results)
  return results
end

-- ---- the state of one translation ----
--[[
S holds what the steps below share: the options, the result being built (S.result, S.desc), the
stages, and while the final stage's instructions are read, its scope: S.env (ENV, inherited
along the stages the final one is built on), S.scope.args (the ARGs of the stage being read),
S.workdir, S.shell.
]]
local function new_state(parsed, opts)
  local S = {
    opts = opts, file = opts.file or "Dockerfile", ignore_file = opts.ignore_file or ".dockerignore",
    build_args = opts.build_args or {}, platforms = opts.platforms or { "linux/amd64", "linux/arm64" },
    escape = parsed.escape or "\\", patterns = opts.ignore or {},
    used_build_args = {}, meta_values = {}, by_name = {}, pinned = {}, per_platform = {}, ignore_cache = {},
    env = {}, env_lines = {}, scope = { args = {}, arg_lines = {} },
    workdir = "/", workdir_set = false, known_dirs = { ["/"] = true },
    result = {
      file = opts.file or "Dockerfile", problems = {}, notes = {}, layer_items = {}, outputs = {},
      build_stages = {}, images = {}, origin = { labels = {}, env = {}, config = {} },
    },
  }
  local seen = {}
  function S.add(list, file, line, message)
    local key = tostring(file) .. ":" .. tostring(line) .. ":" .. message
    if seen[key] then return end
    seen[key] = true
    list[#list + 1] = { file = file, line = line, message = message, seq = #list + 1 }
  end
  function S.problem(line, message) S.add(S.result.problems, S.file, line, message) end
  function S.note(line, message) S.add(S.result.notes, S.file, line, message) end
  return S
end

-- ---- stages and global ARGs ----

local function split_stages(S, parsed)
  local stages, meta = {}, {}
  for _, ins in ipairs(parsed.instructions) do
    if ins.unknown then
      S.problem(ins.line, "unknown instruction " .. ins.keyword .. ": hoist does not know what it does")
    end
    if ins.cmd == "from" then
      stages[#stages + 1] = { index = #stages, from = ins, instructions = {} }
    elseif #stages == 0 then
      if ins.cmd == "arg" then meta[#meta + 1] = ins
      elseif not ins.unknown then S.problem(ins.line, ins.keyword .. " comes before the first FROM: only ARG may") end
    else
      table.insert(stages[#stages].instructions, ins)
    end
  end
  S.stages, S.meta = stages, meta
end

local function expand_error(S, ins, err) S.problem(ins.line, ins.keyword:upper() .. ": " .. err) end

-- The global ARGs (before the first FROM): the values FROM lines see, with the TARGET* ones.
local function global_args(S)
  S.meta_lookup = function(name)
    if TARGET_ARGS[name] then return TARGET_ARGS[name] end
    local v = S.meta_values[name]
    if v == false then return nil end
    return v
  end
  for _, ins in ipairs(S.meta) do
    for _, a in ipairs(ins.args_list or {}) do
      if S.build_args[a.name] ~= nil then
        S.meta_values[a.name] = S.build_args[a.name]
        S.used_build_args[a.name] = true
      elseif a.value ~= nil then
        local v, err = dockerfile.expand(a.value, S.meta_lookup, S.escape)
        if not v then expand_error(S, ins, err) end
        S.meta_values[a.name] = v or ""
      else
        S.meta_values[a.name] = false       -- declared, without a value
      end
    end
  end
end

-- Each stage's name, image (expanded with the global ARGs) and parent stage (FROM an earlier one).
local function resolve_stages(S)
  for _, st in ipairs(S.stages) do
    local ins = st.from
    local words = ins.words or {}
    if not (#words == 1 or (#words == 3 and words[2]:lower() == "as")) then
      S.problem(ins.line, "FROM needs an image and optionally AS NAME")
    end
    for _, fl in ipairs(ins.flags) do
      if fl.name == "platform" then st.platform = fl.value or ""
      else S.problem(ins.line, "FROM: unknown flag --" .. fl.name) end
    end
    local image = words[1] or "scratch"
    local v, info = dockerfile.expand(image, S.meta_lookup, S.escape)
    if not v then
      expand_error(S, ins, info)
      v = image
    else
      for _, name in ipairs(info.unset) do
        if S.meta_values[name] == false then
          S.problem(ins.line, string.format("ARG %s has no default and no --build-arg %s=VALUE was given: " ..
            "FROM sees it empty", name, name))
        elseif BUILD_ARGS[name] then
          S.problem(ins.line, "$" .. name .. " (the machine building) names no image hoist can use: FROM sees it empty")
        else
          S.problem(ins.line, "$" .. name .. " is not a global ARG (declared before the first FROM): " ..
            "FROM sees it empty")
        end
      end
    end
    st.image = v
    if words[3] then
      st.name = words[3]:lower()
      if S.by_name[st.name] then S.problem(ins.line, "the stage name " .. st.name .. " is used twice") end
      S.by_name[st.name] = st
    end
    if S.by_name[st.image] and S.by_name[st.image] ~= st then st.parent = S.by_name[st.image] end
    st.scratch = not st.parent and st.image == "scratch"
    st.label = "stage " .. (st.name or st.index)
    st.dir_name = st.name and st.name:gsub("[^%w._-]", "-") or ("stage-" .. st.index)
  end
end

-- The stage a COPY --from names (a name or an index), among those before index `before`.
local function find_stage(S, ref, before)
  if ref:match("^%d+$") then
    local idx = tonumber(ref)
    if S.stages[idx + 1] and idx < before then return S.stages[idx + 1] end
    return nil
  end
  local st = S.by_name[ref:lower()]
  if st and st.index < before then return st end
  return nil
end

local function pinned(S, st)
  if S.pinned[st] == nil then S.pinned[st] = st.platform ~= nil or (st.parent ~= nil and pinned(S, st.parent)) end
  return S.pinned[st]
end

-- Whether a stage builds something different for each target platform: it runs on the target
-- (no --platform), or reads a TARGET* ARG, or copies from such a stage.
local function per_platform(S, st)
  if S.per_platform[st] ~= nil then return S.per_platform[st] end
  S.per_platform[st] = false
  local v = not pinned(S, st) or (st.parent ~= nil and per_platform(S, st.parent))
  local all = { st.from }
  for _, ins in ipairs(st.instructions) do all[#all + 1] = ins end
  for _, ins in ipairs(all) do
    for _, raw in ipairs(ins.raw) do
      for name in raw:gmatch("TARGET[A-Z]+") do
        if TARGET_ARGS[name] then v = true end
      end
    end
    for _, fl in ipairs(ins.flags) do
      if ins.cmd ~= "from" and fl.name == "from" and fl.value then
        local src = find_stage(S, fl.value, st.index)
        if src and per_platform(S, src) then v = true end
      end
    end
  end
  S.per_platform[st] = v
  return v
end

-- ---- expansion in the final stage ----

local function lookup(S, name)
  if S.env[name] ~= nil then return S.env[name] end
  local a = S.scope.args[name]
  if a then return a end
  return nil
end

-- A function expanding one word of ins, reporting the variables it finds unset.
local function expander(S, ins)
  return function(word)
    local v, info = dockerfile.expand(word, function(name) return lookup(S, name) end, S.escape)
    if not v then
      expand_error(S, ins, info)
      return word
    end
    for _, name in ipairs(info.unset) do
      if BUILD_ARGS[name] and S.scope.args[name] == false then
        S.problem(ins.line, "$" .. name .. " is the platform of the machine building, which hoist's images do " ..
          "not record: substituted as empty")
      elseif S.scope.args[name] == false then
        S.problem(ins.line, string.format("ARG %s (line %d) has no default and no --build-arg %s=VALUE was given: " ..
          "substituted as empty", name, S.scope.arg_lines[name], name))
      elseif not S.root.scratch then
        S.problem(ins.line, string.format("$%s is not set by the Dockerfile; it may come from the base image %s, " ..
          "which init does not read: substituted as empty", name, S.root.image))
      else
        S.note(ins.line, "$" .. name .. " is not set: substituted as empty, as docker build does")
      end
    end
    return v
  end
end

local function single_platform(S, ins, what, v)
  if v:find(PER_PLATFORM_MARK) then
    S.problem(ins.line, what .. " differs per platform (it uses a TARGET* ARG), but extension.lua's " ..
      "config and labels are the same for every platform: written with ${...} unexpanded")
  end
end

local function note_relative(S, ins)
  if not S.workdir_set and not S.root.scratch and not S.relative_noted then
    S.relative_noted = true
    S.note(ins.line, "a relative path is taken from /, assuming the base image " .. S.root.image ..
      " sets no WORKDIR (init does not read the base image)")
  end
end

-- ---- COPY and ADD ----

-- The destination as an absolute path, and whether it names a folder (ends in /, is ., or is a
-- folder the image already has).
local function resolve_dest(S, ins, dest)
  local dir_form = dest:sub(-1) == "/" or dest == "." or dest:sub(-2) == "/." or dest == ".." or dest:sub(-3) == "/.."
  if dest:sub(1, 1) ~= "/" then
    note_relative(S, ins)
    dest = S.workdir .. "/" .. dest
  end
  local abs = clean_abs(dest)
  return abs, dir_form or S.known_dirs[abs] == true
end

local function to_dir(d) return d == "/" and "/" or (d .. "/") end

-- The .dockerignore patterns below a copied folder, each inexpressible exception reported once.
local function ignore_for(S, ins, rel)
  if S.ignore_cache[rel] == nil then
    local r = dockerfile.ignore_below(S.patterns, rel)
    S.ignore_cache[rel] = r
    for _, p in ipairs(r.inexpressible) do
      S.add(S.result.problems, S.ignore_file, p.line, string.format(
        "the exception !%s cannot be written as a hoist exclude list for %s (the Dockerfile's line %d): " ..
        "what it re-includes stays excluded", p.pattern, rel == "" and "the build context" or rel, ins.line))
    end
  end
  return S.ignore_cache[rel]
end

-- The flags of a COPY/ADD: { from, chown, chmod, excludes }, each value expanded.
local function copy_flags(S, ins, ex)
  local is_add, kw = ins.cmd == "add", ins.keyword:upper()
  local f = { excludes = {} }
  for _, fl in ipairs(ins.flags) do
    local name = fl.name
    local needs_value = name == "from" or name == "chown" or name == "chmod" or name == "exclude" or name == "checksum"
    if needs_value and fl.value == nil then
      S.problem(ins.line, kw .. ": --" .. name .. " needs a value (--" .. name .. "=...)")
    elseif name == "from" and not is_add then f.from = ex(fl.value)
    elseif name == "chown" then f.chown = ex(fl.value)
    elseif name == "chmod" then f.chmod = ex(fl.value)
    elseif name == "exclude" then f.excludes[#f.excludes + 1] = ex(fl.value)
    elseif name == "link" or (is_add and (name == "keep-git-dir" or name == "checksum")) then
      -- --link changes how docker caches the layer, not its files; the other two are for URLs
    elseif name == "parents" then
      S.problem(ins.line, kw .. " --parents is not translated: give each folder its own destination")
    else
      S.problem(ins.line, kw .. ": unknown flag --" .. name)
    end
  end
  return f
end

-- --chmod and --chown as hoist's mode ("0755") and owner ("uid:gid"), or nil (a problem).
local function mode_and_owner(S, ins, f)
  local kw = ins.keyword:upper()
  local mode, owner
  if f.chmod then
    local oct = f.chmod:match("^0?([0-7][0-7][0-7])$")
    if oct then mode = "0" .. oct
    else S.problem(ins.line, kw .. " --chmod=" .. f.chmod .. " is not translated: hoist modes are octal like 0755") end
  end
  if f.chown then
    local u, g = f.chown:match("^([^:]*):?(.*)$")
    if u == "root" then u = "0" end
    if g == "root" then g = "0" end
    if g == "" then g = u end      -- a user alone: its id is the group's too, as docker does
    if u:match("^%d+$") and g:match("^%d+$") then
      owner = u .. ":" .. g
    else
      S.problem(ins.line, kw .. " --chown=" .. f.chown .. " is not translated: hoist needs numeric ids (uid:gid); " ..
        "names are looked up in the base image's /etc/passwd, which init does not read")
    end
  end
  return mode, owner
end

-- COPY --from=STAGE or --from=IMAGE: entries from the build-output folder build/STAGE[/${arch}].
local function copy_from_stage(S, ins, f, srcs, to_base, dir_form, entry, item)
  local kw = ins.keyword:upper()
  local src_stage = find_stage(S, f.from, S.current.index)
  local base_dir
  if src_stage then
    base_dir = "build/" .. src_stage.dir_name .. (per_platform(S, src_stage) and "/${arch}" or "")
  else
    base_dir = "build/image/" .. f.from:lower():gsub("[^%w._-]+", "-") .. "/${arch}"
  end
  if #srcs > 1 and not dir_form then
    S.problem(ins.line, kw .. " with several sources needs a destination ending in /")
    dir_form = true
  end
  for _, src in ipairs(srcs) do
    if has_wildcard(src) then
      S.problem(ins.line, kw .. " --from=" .. f.from .. " " .. src .. " is not translated: name the files " ..
        "(init cannot list what a build stage will make)")
    else
      -- the type of what the stage makes is unknown: a destination folder keeps its trailing /
      local path = clean_abs(src)
      local from = base_dir .. (path == "/" and "" or path)
      item.entries[#item.entries + 1] = entry(from, dir_form and to_dir(to_base) or to_base)
      S.result.outputs[#S.result.outputs + 1] = {
        stage = src_stage, image = not src_stage and f.from or nil, src = path, path = from, line = ins.line,
      }
    end
  end
end

-- The build-context paths the sources name: globs matched now, .dockerignore applied to them.
local function context_sources(S, ins, srcs)
  local kw, is_add = ins.keyword:upper(), ins.cmd == "add"
  local found = {}
  for _, src in ipairs(srcs) do
    local parts, escaped = clean_parts(src)
    local rel = table.concat(parts, "/")
    if is_add and is_url(src) then
      S.problem(ins.line, "ADD of the URL " .. src .. " is not translated: download it (in before_build or " ..
        "by hand) into the build context and COPY the file")
    elseif escaped then
      S.problem(ins.line, kw .. " source " .. src .. " is outside the build context")
    elseif has_wildcard(rel) and rel:find(PER_PLATFORM_MARK) then
      S.problem(ins.line, kw .. " source " .. src .. " mixes wildcards and TARGET* ARGs: not translated")
    elseif has_wildcard(rel) then
      local kept = 0
      for _, m in ipairs(S.opts.context and glob_context(S.opts.context, rel) or {}) do
        if not dockerfile.ignored(S.patterns, m) then     -- docker never sees ignored files
          found[#found + 1] = m
          kept = kept + 1
        end
      end
      if kept == 0 then S.problem(ins.line, kw .. " source " .. src .. " matches no file of the build context") end
    else
      found[#found + 1] = rel
    end
  end
  return found
end

-- What a context source is (stat, or nil when it is missing), checked on every platform when it
-- holds ${arch}; false when it cannot be copied (ignored, or an archive ADD would unpack).
local function check_source(S, ins, rel)
  local kw, is_add = ins.keyword:upper(), ins.cmd == "add"
  local checks = {}
  if rel:find(PER_PLATFORM_MARK) then
    for _, p in ipairs(S.platforms) do checks[#checks + 1] = expand_marks(rel, p) end
  else
    checks[1] = rel
  end
  local st
  for _, c in ipairs(checks) do
    if c ~= "" and dockerfile.ignored(S.patterns, c) then
      S.problem(ins.line, kw .. " source " .. c .. " is excluded by .dockerignore (docker build fails on it)")
      return false
    end
    local cst = S.opts.context and fs.stat(S.opts.context .. "/" .. c, true)
    if S.opts.context and not cst then
      S.problem(ins.line, kw .. " source " .. c .. " does not exist in the build context")
    elseif cst then
      st = st or cst
      local kind = is_add and cst.type ~= "dir" and archive_kind(S.opts.context .. "/" .. c)
      if kind then
        S.problem(ins.line, "ADD of the " .. kind .. " archive " .. c .. " is not translated: docker unpacks it, " ..
          "hoist copies files as they are; unpack it into a folder and COPY the folder")
        return false
      end
    end
  end
  return st
end

-- The folders inside the context folder `rel` (not the ones .dockerignore leaves out) whose mode is
-- not `mode` ("0750"), sorted. docker build's --chmod sets folders too (buildah the folders inside
-- the source; BuildKit since 2025 also the destination and the folders it makes), while a layer
-- entry's `mode` sets files only and folders keep their mode on disk.
local function folders_not_in_mode(S, rel, mode)
  local want, out, stack = tonumber(mode, 8), {}, { rel }
  while #stack > 0 do
    local d = table.remove(stack)
    for _, name in ipairs(fs.list(S.opts.context .. "/" .. d) or {}) do
      local p = join(d, name)
      local st = fs.stat(S.opts.context .. "/" .. p)
      if st and st.type == "dir" and not dockerfile.ignored(S.patterns, p) then
        if st.mode & 0xfff ~= want then out[#out + 1] = { path = p, mode = st.mode & 0xfff } end
        stack[#stack + 1] = p
      end
    end
  end
  table.sort(out, function(x, y) return x.path < y.path end)
  return out
end

-- COPY and ADD: one layer, one entry per source.
local function copy_layer(S, ins)
  local item = { line = ins.line, text = ins.text, entries = {} }
  S.result.layer_items[#S.result.layer_items + 1] = item
  local kw = ins.keyword:upper()
  local ex = expander(S, ins)
  local f = copy_flags(S, ins, ex)
  if ins.heredocs and #ins.heredocs > 0 then
    S.problem(ins.line, kw .. " with a heredoc (<<" .. ins.heredocs[1].name .. ") is not translated: " ..
      "put the text in a file of the build context and " .. kw .. " that file")
    return
  end
  local srcs = {}
  for _, w in ipairs(ins.words or {}) do srcs[#srcs + 1] = ex(w) end
  if #srcs < 2 then
    S.problem(ins.line, kw .. " needs at least one source and a destination")
    return
  end
  local to_base, dir_form = resolve_dest(S, ins, table.remove(srcs))
  local mode, owner = mode_and_owner(S, ins, f)
  local function entry(from, to)
    local e = { from = from, to = to, mode = mode, owner = owner }
    if #f.excludes > 0 then e.exclude = table.move(f.excludes, 1, #f.excludes, 1, {}) end
    return e
  end
  if f.from then return copy_from_stage(S, ins, f, srcs, to_base, dir_form, entry, item) end

  local found = context_sources(S, ins, srcs)
  if #found > 1 and not dir_form then
    S.problem(ins.line, kw .. " with several sources needs a destination ending in /")
    dir_form = true
  end
  for _, rel in ipairs(found) do
    local st = check_source(S, ins, rel)
    if st ~= false then
      local from = join(S.opts.dir_prefix or "", rel)
      if from == "" then from = "." end
      if st and st.type == "dir" then
        -- a folder: its contents go to the destination, less what .dockerignore leaves out
        local e = entry(from, to_base)
        local off = mode and S.opts.context and folders_not_in_mode(S, rel, mode) or {}
        if #off > 0 then
          S.problem(ins.line, string.format("%s --chmod=%s of the folder %s: docker build gives the folders " ..
            "inside it mode %s too, hoist's mode sets files only and %s keeps %04o%s; chmod %s those folders " ..
            "in the build context (hoist keeps a folder's mode)", kw, f.chmod, rel == "" and "." or rel, mode,
            off[1].path, off[1].mode, #off > 1 and string.format(" (and %d more)", #off - 1) or "", mode))
        end
        local ig = ignore_for(S, ins, rel)
        if #ig.patterns > 0 then
          e.exclude = e.exclude or {}
          for _, p in ipairs(ig.patterns) do e.exclude[#e.exclude + 1] = p end
        end
        S.known_dirs[to_base] = true
        item.entries[#item.entries + 1] = e
      else
        item.entries[#item.entries + 1] = entry(from, dir_form and (to_dir(to_base) .. basename(rel)) or to_base)
      end
    end
  end
end

-- ---- the other instructions of the final stage ----

-- A shell-form CMD/ENTRYPOINT: the string (hoist runs it with /bin/sh -c), or the exec form with
-- the SHELL an earlier instruction chose.
local function shell_form(S, ins, text)
  local shell = S.shell
  if shell and not (#shell == 2 and shell[1] == "/bin/sh" and shell[2] == "-c") then
    local list = table.move(shell, 1, #shell, 1, {})
    list[#list + 1] = text
    S.note(ins.line, ins.keyword:upper() .. " in the shell form runs with the SHELL of line " .. shell.line ..
      ": written in the exec form with that shell")
    return list
  end
  return text
end

local function add_unique(list, v)
  for _, e in ipairs(list) do if e == v then return end end
  list[#list + 1] = v
end

local HEALTH_FLAGS = { interval = "interval", timeout = "timeout", ["start-period"] = "start_period",
  ["start-interval"] = "start_interval", retries = "retries" }

local HANDLERS = {}

HANDLERS.arg = function(S, ins)
  local ex = expander(S, ins)
  local args, lines = S.scope.args, S.scope.arg_lines
  for _, a in ipairs(ins.args_list) do
    local name = a.name
    lines[name] = ins.line
    if TARGET_ARGS[name] then
      args[name] = TARGET_ARGS[name]
    elseif BUILD_ARGS[name] then
      args[name] = false
    elseif S.build_args[name] ~= nil then
      args[name] = S.build_args[name]
      S.used_build_args[name] = true
    elseif a.value ~= nil then
      args[name] = ex(a.value)
    elseif S.meta_values[name] ~= nil then
      args[name] = S.meta_values[name]    -- ARG NAME takes the global ARG's value
    else
      args[name] = false
    end
  end
end

local function env_or_label(S, ins)
  local ex = expander(S, ins)
  -- every pair is expanded with the environment from before the instruction
  local expanded = {}
  for i, kv in ipairs(ins.pairs) do expanded[i] = { ex(kv.key), ex(kv.value) } end
  local at = 1
  for i, kv in ipairs(ins.pairs) do
    local k, v = expanded[i][1], expanded[i][2]
    -- the physical line the key is on, for the comment in extension.lua
    for r = at, #ins.raw do
      if ins.raw[r]:find(kv.key, 1, true) then at = r break end
    end
    local line = ins.line + at - 1
    single_platform(S, ins, ins.keyword:upper() .. " " .. k, v)
    if ins.cmd == "env" then
      S.env[k], S.env_lines[k] = v, line
    else
      S.desc.labels[k], S.result.origin.labels[k] = v, line
    end
  end
end
HANDLERS.env, HANDLERS.label = env_or_label, env_or_label
HANDLERS.copy, HANDLERS.add = copy_layer, copy_layer

HANDLERS.run = function(S, ins)
  S.problem(ins.line, "RUN cannot be reproduced by hoist: move it into a base image (built with docker " ..
    "and named by FROM) or into a before_build hook that makes files for a layer")
  S.result.layer_items[#S.result.layer_items + 1] = {
    line = ins.line, text = ins.text, entries = {},
    placeholder = "<fill in: what this RUN made in the image, as a base image or a layer: " ..
      "hoist runs no commands in images>",
  }
end

HANDLERS.cmd = function(S, ins)
  S.config.cmd = ins.json and ins.words or shell_form(S, ins, ins.rest)
  S.corigin.cmd = ins.line
  S.cmd_set = true
end

HANDLERS.entrypoint = function(S, ins)
  S.config.entrypoint = ins.json and ins.words or shell_form(S, ins, ins.rest)
  S.corigin.entrypoint = ins.line
  if not S.cmd_set and (S.config.cmd ~= nil or not S.root.scratch) then
    -- docker build clears a CMD that comes from the base image or an earlier stage
    S.config.cmd = {}
    S.corigin.cmd, S.corigin.cmd_reset = ins.line, true
  end
end

HANDLERS.shell = function(S, ins)
  if not ins.json then
    S.problem(ins.line, "SHELL needs the JSON form, like SHELL [\"/bin/bash\", \"-c\"]")
  else
    S.shell = table.move(ins.words, 1, #ins.words, 1, { line = ins.line })
  end
end

HANDLERS.workdir = function(S, ins)
  local v = expander(S, ins)(ins.rest or "")
  single_platform(S, ins, "WORKDIR", v)
  if v:sub(1, 1) ~= "/" then
    note_relative(S, ins)
    v = S.workdir .. "/" .. v
  end
  S.workdir, S.workdir_set = clean_abs(v), true
  local parts = clean_parts(S.workdir)
  for k = 1, #parts do S.known_dirs["/" .. table.concat(parts, "/", 1, k)] = true end
  S.config.workdir, S.corigin.workdir = S.workdir, ins.line
end

local function simple(key, what)
  return function(S, ins)
    S.config[key] = expander(S, ins)(ins.rest or "")
    single_platform(S, ins, what, S.config[key])
    S.corigin[key] = ins.line
  end
end
HANDLERS.user = simple("user", "USER")
HANDLERS.stopsignal = simple("stop_signal", "STOPSIGNAL")

HANDLERS.expose = function(S, ins)
  local ex = expander(S, ins)
  local ports = {}
  -- the words are split again after expansion (EXPOSE $PORTS), as BuildKit does
  for _, w in ipairs(ins.words or {}) do
    for _, p in ipairs(split_whitespace(ex(w))) do ports[#ports + 1] = p end
  end
  for _, v in ipairs(ports) do
    local port, proto = v:match("^(%d+)/(%a+)$")
    if not port then port, proto = v:match("^(%d+)$"), "tcp" end
    proto = proto and proto:lower()         -- BuildKit lowercases the protocol (80/TCP is 80/tcp)
    if port and (proto == "tcp" or proto == "udp" or proto == "sctp") then
      S.config.exposed_ports = S.config.exposed_ports or {}
      add_unique(S.config.exposed_ports, port .. "/" .. proto)
      S.corigin.exposed_ports = S.corigin.exposed_ports or ins.line
    elseif v:match("^%d+%-%d+") then
      S.problem(ins.line, "EXPOSE of the port range " .. v .. " is not translated: list the ports")
    else
      S.problem(ins.line, "EXPOSE " .. v .. " is not a port like 80 or 80/udp")
    end
  end
end

HANDLERS.volume = function(S, ins)
  local ex = expander(S, ins)
  for _, w in ipairs(ins.words or {}) do
    local v = ex(w)
    S.config.volumes = S.config.volumes or {}
    if v ~= "" then add_unique(S.config.volumes, v) end
    S.corigin.volumes = S.corigin.volumes or ins.line
  end
end

HANDLERS.healthcheck = function(S, ins)
  local h = ins.health
  if not h then return end
  S.corigin.healthcheck = ins.line
  if h.kind == "NONE" then
    S.config.healthcheck = { test = { "NONE" } }
    return
  end
  local hc = {}
  for _, fl in ipairs(ins.flags) do
    local key = HEALTH_FLAGS[fl.name]
    if not key or fl.value == nil then
      S.problem(ins.line, "HEALTHCHECK: unknown flag --" .. fl.name)
    elseif key == "retries" then
      local r = fl.value:match("^%d+$") and tonumber(fl.value)
      if r then hc.retries = r
      else S.problem(ins.line, "HEALTHCHECK --retries=" .. fl.value .. " is not a count") end
    elseif fl.value:match("^[%d.]+[a-zµ]+") then
      hc[key] = fl.value
    else
      S.problem(ins.line, "HEALTHCHECK --" .. fl.name .. "=" .. fl.value .. " is not a duration like 30s")
    end
  end
  if h.json then
    hc.test = table.move(h.words, 1, #h.words, 2, { "CMD" })
  else
    hc.test = { "CMD-SHELL", h.rest }
  end
  S.config.healthcheck = hc
end

HANDLERS.onbuild = function(S, ins)
  if S.current ~= S.final then
    -- the final stage starts FROM this one, so docker runs the trigger in it
    S.problem(ins.line, "ONBUILD in a stage the final one is built on runs in the final stage: not translated " ..
      "(write its instruction out in the final stage)")
  else
    S.note(ins.line, "ONBUILD is dropped: it only acts when another Dockerfile builds FROM this image, " ..
      "and OCI image configs have no place for it")
  end
end

HANDLERS.maintainer = function(S, ins)
  S.note(ins.line, "MAINTAINER is dropped (deprecated, and not a label): add labels[\"maintainer\"] if you want it")
end

-- ---- after the final stage ----

-- docker build makes WORKDIR's folder; in hoist's image it exists only if a layer puts it there.
local function check_workdir(S)
  local wd = S.config.workdir
  if not wd or wd == "/" then return end
  for _, item in ipairs(S.result.layer_items) do
    for _, e in ipairs(item.entries) do
      local to = e.to:gsub("(.)/$", "%1")
      if to == wd or to:sub(1, #wd + 1) == wd .. "/" then return end
    end
  end
  S.note(S.corigin.workdir, "docker build makes the WORKDIR folder " .. wd .. "; no layer here puts " ..
    "anything in it, so the image will not have it (container runtimes make a missing working directory)")
end

-- A JSON label value (screenshots, additional_urls) as a list of records, or nil.
local function json_records(v, want)
  local decoded = json.decode(v)
  if type(decoded) ~= "table" or #decoded == 0 then return nil end
  local list = {}
  for i, rec in ipairs(decoded) do
    if type(rec) ~= "table" or rec[1] ~= nil then return nil end
    local r = {}
    for rk, rv in pairs(rec) do
      if type(rv) ~= "string" then return nil end
      r[rk] = rv
    end
    for _, w in ipairs(want) do if type(r[w]) ~= "string" then return nil end end
    list[i] = r
  end
  return list
end

-- The labels as hoist's fields where one exists, JSON values decoded, placeholders for the
-- required ones the Dockerfile does not set.
local function finish_labels(S)
  local fields, origin = {}, {}
  local raw_origin = S.result.origin.labels
  for _, key in ipairs(sorted_keys(S.desc.labels)) do     -- sorted: notes come out in one order
    local v = S.desc.labels[key]
    local field = FIELD_BY_KEY[key] or key
    local value = v
    if field == "screenshots" or field == "additional_urls" then
      local want = field == "screenshots" and { "alt", "url" } or { "title", "url" }
      value = json_records(v, want)
      if not value then
        value = v
        S.note(raw_origin[key], "LABEL " .. key .. " is not a JSON array of {" .. table.concat(want, ", ") ..
          "} records: kept as written (hoist release will say what is wrong)")
      end
    elseif field == "categories" then
      -- a list only when hoist.label joins it back into the very same text
      local list = {}
      for item in (v .. ","):gmatch("([^,]*),") do
        if item == "" or item ~= trim(item) then list = nil break end
        list[#list + 1] = item
      end
      value = list or v
    end
    if field == key and not key:find(".", 1, true) then
      -- hoist.label takes a raw key only with a dot in it (else it would be a misspelled field)
      S.problem(raw_origin[key], "LABEL " .. key .. " has no dot in its key: hoist.label refuses such raw " ..
        "keys (rename it, e.g. org.example." .. key .. ")")
    end
    fields[field], origin[field] = value, raw_origin[key]
  end
  -- where a label that no LABEL gave comes from, for its comment in extension.lua (every part says)
  S.result.label_sources = {}
  if S.opts.title then
    fields.title, origin.title = S.opts.title, nil
    S.result.label_sources.title = "from --title"
  elseif fields.title == nil then
    fields.title = S.opts.default_title or "<fill in: the title shown in Docker Desktop>"
    if S.opts.default_title then S.result.label_sources.title = "not in the Dockerfile: the folder's name" end
  end
  S.result.placeholders = {}
  for _, k in ipairs(label.KEYS) do
    if k.required and fields[k.field] == nil then
      fields[k.field] = PLACEHOLDERS[k.field]
      S.result.placeholders[k.field] = true
    end
  end
  S.desc.labels, S.result.origin.labels = fields, origin
end

-- The build stages the final one copies from, and the ones those need in turn, in file order.
local function finish_build_stages(S)
  local needed = {}
  local function need(st)
    if not st or needed[st] then return end
    needed[st] = true
    need(st.parent)
    for _, ins in ipairs(st.instructions) do
      for _, fl in ipairs(ins.flags) do
        if ins.cmd == "copy" and fl.name == "from" and fl.value then need(find_stage(S, fl.value, st.index)) end
      end
    end
  end
  for _, o in ipairs(S.result.outputs) do need(o.stage) end
  for _, st in ipairs(S.stages) do
    if needed[st] then
      local outs = {}
      for _, o in ipairs(S.result.outputs) do if o.stage == st then outs[#outs + 1] = o end end
      S.result.build_stages[#S.result.build_stages + 1] = {
        label = st.label, name = st.name, index = st.index, line = st.from.line, image = st.image,
        per_platform = per_platform(S, st), from = st.from, instructions = st.instructions, outputs = outs,
      }
    end
  end
  for _, o in ipairs(S.result.outputs) do
    if o.image then S.result.images[#S.result.images + 1] = o end
  end
end

--[[
Translates a parsed Dockerfile's final stage. opts: build_args = { NAME = VALUE }, context (the
build context folder, to stat and glob sources; without it sources are taken as files),
dir_prefix (the path from the extension folder to the context), ignore (ignore_patterns),
file and ignore_file (names used in problems), name, title, default_title, platforms,
context_outside. Returns result: desc (the description), problems and notes ({ file, line,
message }), layer_items, outputs and build_stages (for the hook), origin (the lines), stage.
]]
function dockerfile.translate(parsed, opts)
  if type(parsed) ~= "table" or type(parsed.instructions) ~= "table" then
    error("dockerfile.translate: the result of dockerfile.parse expected", 2)
  end
  opts = opts or {}
  for _, k in ipairs(sorted_keys(opts)) do
    if not TRANSLATE_OPTS[k] then
      local near = require("hoist.keys").closest(k, sorted_keys(TRANSLATE_OPTS))
      error("dockerfile.translate: unknown option " .. tostring(k) .. (near and (" (did you mean '" .. near .. "'?)") or ""), 2)
    end
  end
  local S = new_state(parsed, opts)
  local result = S.result
  for _, p in ipairs(parsed.problems or {}) do S.problem(p.line, p.message) end
  local syntax = parsed.directives and parsed.directives.syntax
  if syntax and not syntax:match("^docker/dockerfile") then
    S.note(1, "the syntax directive names the frontend " .. syntax ..
      "; the import reads the file as a standard Dockerfile")
  end

  split_stages(S, parsed)
  if #S.stages == 0 then
    S.problem(nil, "no FROM instruction: a Dockerfile needs at least one stage")
    return result
  end
  global_args(S)
  resolve_stages(S)

  -- the final stage, and the stages it is built on (FROM an earlier stage), root first
  local final = S.stages[#S.stages]
  S.final = final
  local chain = {}
  local st = final
  while st do
    table.insert(chain, 1, st)
    st = st.parent
  end
  S.root = chain[1]
  result.stage = { line = final.from.line, name = final.name, index = final.index }
  S.desc = { platforms = S.platforms, labels = {}, layers = {}, config = {}, name = opts.name }
  S.config, S.corigin = S.desc.config, result.origin.config
  result.desc = S.desc

  result.origin.base = S.root.from.line
  if not S.root.scratch then
    local base = S.root.image
    if base:find(PER_PLATFORM_MARK) then
      S.desc.base = {}
      for _, p in ipairs(S.platforms) do S.desc.base[p] = expand_marks(base, p) end
    else
      S.desc.base = base
    end
  end

  for _, stage in ipairs(chain) do
    if stage.platform then
      S.note(stage.from.line, "FROM --platform=" .. stage.platform ..
        " is dropped: hoist builds every platform of `platforms`")
    end
    S.current, S.cmd_set = stage, false
    S.scope = { args = {}, arg_lines = {} }      -- ARGs are the stage's own; ENV carries on
    for _, ins in ipairs(stage.instructions) do
      local handler = HANDLERS[ins.cmd]
      if handler and not ins.error and not ins.unknown then handler(S, ins) end
    end
  end

  check_workdir(S)
  if next(S.env) ~= nil then
    S.config.env = S.env
    result.origin.env = S.env_lines
  end
  for _, name in ipairs(sorted_keys(S.build_args)) do
    if not S.used_build_args[name] then
      S.note(nil, "--build-arg " .. name .. " is not an ARG of the final stage or of FROM: unused")
    end
  end
  finish_labels(S)
  for _, item in ipairs(result.layer_items) do       -- one layer per COPY/ADD
    if #item.entries == 1 then
      S.desc.layers[#S.desc.layers + 1] = item.entries[1]
    elseif #item.entries > 1 then
      S.desc.layers[#S.desc.layers + 1] = item.entries
    end
  end
  if opts.context_outside then
    S.problem(nil, "the build context (the Dockerfile's folder) is outside DIR: hoist takes layer files from " ..
      "inside DIR only; run init with DIR = the Dockerfile's folder (or a parent)")
  end
  finish_build_stages(S)

  -- by file (the Dockerfile first), line, then the order they were found in
  local function order(a, b)
    if a.file ~= b.file then return a.file == S.file end
    if (a.line or 0) ~= (b.line or 0) then return (a.line or 0) < (b.line or 0) end
    return a.seq < b.seq
  end
  table.sort(result.problems, order)
  table.sort(result.notes, order)
  return result
end

function dockerfile.problem_line(p)
  if p.line then return string.format("%s:%d: %s", p.file, p.line, p.message) end
  return string.format("%s: %s", p.file, p.message)
end

-- ---------------------------------------------------------------------------------------------
-- Rendering extension.lua
-- ---------------------------------------------------------------------------------------------

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or repeat
  return then true until while]]):gmatch("%a+") do KEYWORDS[w] = true end

local function lua_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    if c == "\n" then return "\\n" end
    if c == "\t" then return "\\t" end
    if c == "\r" then return "\\r" end
    return string.format("\\%03d", c:byte())
  end) .. '"'
end

local function lua_key(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") and not KEYWORDS[k] then return k end
  return "[" .. lua_string(tostring(k)) .. "]"
end


-- A value on one line: strings, numbers, booleans, arrays and records of them.
local function inline(v)
  if type(v) == "string" then return lua_string(v) end
  if type(v) ~= "table" then return tostring(v) end
  local parts = {}
  if #v > 0 or next(v) == nil then
    for _, x in ipairs(v) do parts[#parts + 1] = inline(x) end
  else
    for _, k in ipairs(sorted_keys(v)) do parts[#parts + 1] = lua_key(k) .. " = " .. inline(v[k]) end
  end
  if #parts == 0 then return "{}" end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

local ENTRY_KEYS = { "from", "to", "mode", "owner", "exclude" }

local function inline_entry(e)
  local parts = {}
  for _, k in ipairs(ENTRY_KEYS) do
    if e[k] ~= nil then parts[#parts + 1] = k .. " = " .. inline(e[k]) end
  end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

local CONFIG_ORDER = { "env", "entrypoint", "cmd", "workdir", "user", "exposed_ports", "volumes",
  "stop_signal", "healthcheck" }
local HEALTH_ORDER = { "test", "interval", "timeout", "start_period", "start_interval", "retries" }

function dockerfile.render(result)
  if type(result) ~= "table" or type(result.desc) ~= "table" then
    error("dockerfile.render: the result of dockerfile.translate expected", 2)
  end
  local desc, file = result.desc, result.comment_file or result.file
  local out = {}
  local function w(s) out[#out + 1] = s end
  local function at(line) return line and (" -- " .. file .. ":" .. line) or "" end

  w(string.format("-- %s: imported from %s by `hoist init --from-dockerfile` (its final stage, %s:%d).",
    desc.name or "extension", file, file, result.stage.line))
  w("-- Each part says which Dockerfile line it comes from.")
  w("--   hoist release . --version 0.1.0                       -- to the OCI layout dist/oci")
  w("--   hoist release . --version 0.1.0 --to docker://REGISTRY/REPO")
  w("-- Replace every \"<fill in: ...>\" below; until then `hoist release` lists what is left.")
  if #result.problems > 0 then
    w("-- Not translated (fill these in by hand):")
    for _, p in ipairs(result.problems) do
      local shown = { file = p.file == result.file and file or (result.comment_ignore_file or p.file), line = p.line,
        message = p.message }
      w("--   " .. one_line(dockerfile.problem_line(shown)))
    end
  end
  w("return {")
  w("  name = " .. lua_string(desc.name or "acme/extension") .. ",")
  if type(desc.base) == "string" then
    w("  base = " .. lua_string(desc.base) .. "," .. at(result.origin.base))
  elseif type(desc.base) == "table" then
    w("  base = {" .. at(result.origin.base) .. " (a TARGET* ARG: one base per platform)")
    for _, p in ipairs(sorted_keys(desc.base)) do
      w("    [" .. lua_string(p) .. "] = " .. lua_string(desc.base[p]) .. ",")
    end
    w("  },")
  else
    w("  -- no base: FROM scratch" .. at(result.origin.base))
  end
  w("  platforms = " .. inline(desc.platforms) .. ",")

  -- labels: hoist's fields in the order of the docs, then raw keys
  w("  labels = {")
  local done = {}
  local function label_line(k)
    local v = desc.labels[k]
    local where = result.origin.labels[k]
    local source = result.placeholders[k] and "not in the Dockerfile" or (result.label_sources or {})[k]
    local comment = where and at(where) or (source and (" -- " .. source) or "")
    if type(v) == "table" and (k == "screenshots" or k == "additional_urls") then
      w("    " .. lua_key(k) .. " = {" .. comment)
      for _, rec in ipairs(v) do w("      " .. inline(rec) .. ",") end
      w("    },")
    else
      w("    " .. lua_key(k) .. " = " .. inline(v) .. "," .. comment)
    end
    done[k] = true
  end
  for _, k in ipairs(label.KEYS) do
    if desc.labels[k.field] ~= nil then label_line(k.field) end
  end
  for _, k in ipairs(sorted_keys(desc.labels)) do
    if not done[k] then label_line(k) end
  end
  w("  },")

  -- layers
  w("  layers = {")
  for _, item in ipairs(result.layer_items) do
    w("    -- " .. file .. ":" .. item.line .. ": " .. one_line(item.text, 100))
    if item.placeholder then
      w("    -- " .. item.placeholder)
    elseif #item.entries == 0 then
      w("    -- (nothing translated: see the list at the top)")
    elseif #item.entries == 1 then
      w("    " .. inline_entry(item.entries[1]) .. ",")
    else
      w("    {")
      for _, e in ipairs(item.entries) do w("      " .. inline_entry(e) .. ",") end
      w("    },")
    end
  end
  w("  },")

  -- config
  local config, corigin = desc.config, result.origin.config
  local any = false
  for _, k in ipairs(CONFIG_ORDER) do if config[k] ~= nil then any = true end end
  if any then
    w("  config = {")
    for _, k in ipairs(CONFIG_ORDER) do
      local v = config[k]
      if v ~= nil then
        if k == "env" then
          w("    env = {")
          for _, name in ipairs(sorted_keys(v)) do
            w("      " .. lua_key(name) .. " = " .. lua_string(v[name]) .. "," .. at(result.origin.env[name]))
          end
          w("    },")
        elseif k == "healthcheck" then
          local parts = {}
          for _, hk in ipairs(HEALTH_ORDER) do
            if v[hk] ~= nil then parts[#parts + 1] = hk .. " = " .. inline(v[hk]) end
          end
          w("    healthcheck = { " .. table.concat(parts, ", ") .. " }," .. at(corigin.healthcheck))
        else
          local comment = at(corigin[k])
          if k == "cmd" and corigin.cmd_reset then
            comment = comment .. " ENTRYPOINT clears the CMD of the base image or an earlier stage"
          elseif (k == "cmd" or k == "entrypoint") and type(v) == "string" then
            comment = comment .. " (shell form: hoist runs it with /bin/sh -c)"
          end
          w("    " .. k .. " = " .. inline(v) .. "," .. comment)
        end
      end
    end
    w("  },")
  end

  -- the hook for what build stages (COPY --from) make
  if #result.outputs > 0 then
    w("  hooks = {")
    w("    -- before_build: the files below come from build stages of the Dockerfile (COPY --from), which")
    w("    -- hoist does not run. Make them here (hoist.exec runs commands) or before `hoist release`;")
    w("    -- until each exists, this hook stops the release naming the first one missing.")
    for _, bs in ipairs(result.build_stages) do
      w("    --")
      w(string.format("    -- %s (%s:%d), built %s:", bs.label, file, bs.line,
        bs.per_platform and "for each platform (${arch} in the paths)" or "once for all platforms"))
      local list = { bs.from }
      for _, ins in ipairs(bs.instructions) do list[#list + 1] = ins end
      for _, ins in ipairs(list) do
        for k, raw in ipairs(ins.raw) do
          local prefix = k == 1 and string.format("%s:%d", file, ins.line + k - 1) or ""
          w(string.format("    --   %-16s %s", prefix, one_line((raw:gsub("%s+$", "")))))
        end
      end
      for _, o in ipairs(bs.outputs) do
        w("    --   it must leave " .. o.src .. " at " .. o.path .. " (for " .. file .. ":" .. o.line .. ")")
      end
    end
    for _, o in ipairs(result.images) do
      w("    --")
      w(string.format("    -- image %s: extract %s from it (for each platform) to %s (for %s:%d)",
        o.image, o.src, o.path, file, o.line))
    end
    w("    before_build = function(ctx)")
    w("      local fs = require(\"hoist.fs\")")
    w("      local needed = {")
    for _, o in ipairs(result.outputs) do
      local what = o.stage and (o.stage.name and ("stage " .. o.stage.name) or ("stage " .. o.stage.index))
        or ("image " .. o.image)
      w("        { " .. lua_string(o.path) .. ", " .. lua_string(what .. ", " .. file .. ":" .. o.line) .. " },")
    end
    w("      }")
    w("      for _, platform in ipairs(ctx.platforms) do")
    w("        local os_, arch, variant = platform:match(\"^([^/]+)/([^/]+)/?(.*)$\")")
    w("        local vars = { os = os_, arch = arch, variant = variant }")
    w("        for _, n in ipairs(needed) do")
    w("          local path = (n[1]:gsub(\"%${(%w+)}\", vars))")
    w("          if not fs.exists(ctx.dir .. \"/\" .. path) then")
    w("            error(path .. \" is missing (\" .. n[2] .. \"): build it first; see before_build in extension.lua\", 0)")
    w("          end")
    w("        end")
    w("      end")
    w("    end,")
    w("  },")
  end
  w("}")
  return table.concat(out, "\n") .. "\n"
end

-- ---------------------------------------------------------------------------------------------
-- Reading a Dockerfile and its context
-- ---------------------------------------------------------------------------------------------

local IMPORT_OPTS = { build_args = true, name = true, title = true, default_title = true, platforms = true }

-- The path of `path` from the folder `from` (both absolute, resolved), and whether it leaves it.
local function relative(path, from)
  if path == from then return "", false end
  if from == "/" then return path:sub(2), false end
  if path:sub(1, #from + 1) == from .. "/" then return path:sub(#from + 2), false end
  local a, b = clean_parts(path), clean_parts(from)
  local k = 1
  while a[k] and b[k] and a[k] == b[k] do k = k + 1 end
  local parts = {}
  for _ = k, #b do parts[#parts + 1] = ".." end
  for m = k, #a do parts[#parts + 1] = a[m] end
  return table.concat(parts, "/"), true
end

--[[
Reads the Dockerfile at path (the build context is its folder, with its .dockerignore) and
translates it for an extension folder dir (which must exist). opts: build_args = { NAME = VALUE },
name, title, default_title, platforms. Returns the translate result plus .text (extension.lua),
.ignore_path; or nil, err, kind when the Dockerfile cannot be read.
]]
function dockerfile.import(path, dir, opts)
  if type(path) ~= "string" or type(dir) ~= "string" then error("dockerfile.import: path and dir expected", 2) end
  opts = opts or {}
  for _, k in ipairs(sorted_keys(opts)) do
    if not IMPORT_OPTS[k] then
      local near = require("hoist.keys").closest(k, sorted_keys(IMPORT_OPTS))
      error("dockerfile.import: unknown option " .. tostring(k) .. (near and (" (did you mean '" .. near .. "'?)") or ""), 2)
    end
  end
  local text, err, kind = fs.read(path)
  if not text then return nil, err, kind end
  local context = path:match("^(.*)/[^/]*$") or "."
  if context == "" then context = "/" end
  -- BuildKit reads NAME.dockerignore next to a Dockerfile called NAME before .dockerignore
  local ignore_path = path .. ".dockerignore"
  if not fs.exists(ignore_path) then ignore_path = (context == "/" and "" or context) .. "/.dockerignore" end
  local patterns = {}
  if fs.exists(ignore_path) then
    local itext, ierr, ikind = fs.read(ignore_path)
    if not itext then return nil, ierr, ikind end
    patterns = dockerfile.ignore_patterns(itext)
  end
  local ctx_real, rerr, rkind = fs.realpath(context)
  if not ctx_real then return nil, rerr, rkind end
  local dir_real, derr, dkind = fs.realpath(dir)
  if not dir_real then return nil, derr, dkind end
  local prefix, outside = relative(ctx_real, dir_real)
  local file_rel = relative(fs.realpath(path) or path, dir_real)

  local parsed = dockerfile.parse(text)
  local result = dockerfile.translate(parsed, {
    build_args = opts.build_args, context = context, dir_prefix = prefix, ignore = patterns,
    file = path, ignore_file = ignore_path, name = opts.name, title = opts.title,
    default_title = opts.default_title, platforms = opts.platforms, context_outside = outside,
  })
  result.parsed = parsed
  result.ignore_path = ignore_path
  if result.desc then
    result.comment_file = file_rel
    result.comment_ignore_file = (relative(fs.realpath(context) or context, dir_real)) .. "/.dockerignore"
    result.comment_ignore_file = result.comment_ignore_file:gsub("^/", "")
    result.text = dockerfile.render(result)
  end
  return result
end

return dockerfile
