-- hoist.log: messages and progress for humans, on stderr (stdout is for results: --json output
-- stays one clean document). Levels: debug (shown with --debug), info (hidden by -q), warn, error.
-- On a terminal, progress is a bar redrawn in place; otherwise plain lines at 25% steps. With
-- HOIST_LOG_FORMAT=json every message and progress step is one JSON object per line instead.
local fs = require("hoist.fs")
local host = require("hoist.host")
local json = require("hoist.json")
local keys = require("hoist.keys")

local log = {}

local LEVELS = { debug = 1, info = 2, warn = 3, error = 4, silent = 5 }
local PREFIX = { debug = "debug: ", info = "", warn = "warning: ", error = "error: " }

local state = { level = nil, format = nil, write = nil, tty = nil }

local function level()
  if state.level then return state.level end
  if host.debug then return LEVELS.debug end
  if host.quiet then return LEVELS.warn end
  return LEVELS.info
end

local function format()
  if state.format then return state.format end
  local f = os.getenv("HOIST_LOG_FORMAT")
  return (f == "json") and "json" or "text"
end

local function out(s)
  if state.write then state.write(s) else io.stderr:write(s) end
end

local function is_tty()
  if state.tty ~= nil then return state.tty end
  local term = os.getenv("TERM")
  return fs.isatty("stderr") and term ~= nil and term ~= "dumb"
end

-- Sets the threshold: "debug", "info", "warn", "error" or "silent" (nil: back to the flags).
function log.set_level(name)
  if name ~= nil and not LEVELS[name] then error("log.set_level: unknown level '" .. tostring(name) .. "'", 2) end
  state.level = name and LEVELS[name]
end

-- "text" or "json" (nil: back to HOIST_LOG_FORMAT).
function log.set_format(name)
  if name ~= nil and name ~= "text" and name ~= "json" then
    error("log.set_format: 'text' or 'json' expected", 2)
  end
  state.format = name
end

--[[
Redirects output (tests, or a script that keeps its own log): fn(s) receives each piece of text;
tty forces (true) or forbids (false) terminal drawing. log.set_output() restores stderr.
]]
function log.set_output(fn, tty)
  state.write = fn
  state.tty = tty
end

function log.enabled(name) return LEVELS[name] >= level() end

local function emit(name, fmt, ...)
  if LEVELS[name] < level() then return end
  local msg = select("#", ...) > 0 and string.format(fmt, ...) or tostring(fmt)
  if format() == "json" then
    out(json.encode({ level = name, msg = msg, time = os.time() }, { sort_keys = true }) .. "\n")
  else
    out(PREFIX[name] .. msg .. "\n")
  end
end

function log.debug(fmt, ...) emit("debug", fmt, ...) end
function log.info(fmt, ...) emit("info", fmt, ...) end
function log.warn(fmt, ...) emit("warn", fmt, ...) end
function log.error(fmt, ...) emit("error", fmt, ...) end

-- 1536 -> "1.5 KB"
function log.bytes(n)
  local units = { "B", "KB", "MB", "GB", "TB" }
  local i = 1
  while n >= 1024 and i < #units do n = n / 1024; i = i + 1 end
  return i == 1 and string.format("%d B", n) or string.format("%.1f %s", n, units[i])
end

local Progress = {}
Progress.__index = Progress
Progress.__name = "hoist.Progress"

local function amount(p, n)
  if p.unit == "bytes" then return log.bytes(n) end
  return tostring(math.floor(n))
end

local function draw(self, final)
  local pct = self.total > 0 and math.floor(self.done * 100 / self.total) or (final and 100 or 0)
  if format() == "json" then
    if final or pct >= self.next_step then
      out(json.encode({ progress = self.label, done = self.done, total = self.total, percent = pct,
                        finished = final or nil }, { sort_keys = true }) .. "\n")
      while pct >= self.next_step do self.next_step = self.next_step + 25 end
    end
  elseif self.tty then
    if pct == self.drawn and not final then return end
    self.drawn = pct
    local width = 24
    local fill = math.floor(width * pct / 100)
    out(string.format("\r\27[K%s [%s%s] %3d%% %s/%s", self.label, string.rep("=", fill),
      string.rep(" ", width - fill), pct, amount(self, self.done), amount(self, self.total)))
    if final then out("\n") end
  else
    if final then
      out(string.format("%s: done, %s\n", self.label, amount(self, self.done)))
    elseif pct >= self.next_step then
      out(string.format("%s: %d%% (%s of %s)\n", self.label, pct, amount(self, self.done), amount(self, self.total)))
      while pct >= self.next_step do self.next_step = self.next_step + 25 end
    end
  end
end

-- Sets how much is done (clamped to the total) and redraws when something visible changed.
function Progress:update(done)
  if self.finished or not self.visible then return end
  self.done = math.min(math.max(done, 0), self.total > 0 and self.total or done)
  draw(self, false)
end

function Progress:add(n) self:update(self.done + n) end

-- Ends the progress (a last line; the bar is completed). A message replaces the default line.
function Progress:finish(message)
  if self.finished then return end
  self.finished = true
  if not self.visible then return end
  if message then
    if self.tty and format() ~= "json" then out("\r\27[K") end
    emit("info", "%s", message)
  else
    draw(self, true)
  end
end

--[[
log.progress(label, total [, { unit = "bytes" | "items", tty_only = true }]) -> a progress with
:update(done), :add(n) and :finish([message]). Hidden by -q (it is info level); with tty_only,
also hidden unless stderr is a terminal (a step that takes seconds on every release, which
would only add lines to a CI log).
]]
function log.progress(label, total, opts)
  if type(label) ~= "string" then error("log.progress: a label expected", 2) end
  if type(total) ~= "number" or total < 0 then error("log.progress: a total >= 0 expected", 2) end
  opts = keys.options(opts, { "unit", "tty_only" }, "log.progress")
  local tty = is_tty()
  local p = setmetatable({ label = label, total = total, done = 0, unit = opts.unit or "items",
                           tty = tty, next_step = 25, drawn = -1,
                           visible = LEVELS.info >= level() and (tty or not opts.tty_only) }, Progress)
  return p
end

return log
