-- hoist.log: levels, formats, progress on a terminal and off it, output redirection.
local t = require("testlib")
local log = require("hoist.log")
local json = require("hoist.json")

local buf
local function capture(tty) buf = {}; log.set_output(function(s) buf[#buf + 1] = s end, tty) end
local function text() return table.concat(buf) end

t.test("levels: info by default, debug hidden, warn and error prefixed", function()
  capture(false); log.set_level(nil); log.set_format("text")
  log.debug("hidden %d", 1); log.info("hello %s", "world"); log.warn("careful"); log.error("broken")
  t.eq(text(), "hello world\nwarning: careful\nerror: broken\n")
end)

t.test("set_level filters, and a message with % but no arguments is not a format", function()
  capture(false); log.set_level("warn")
  log.info("not shown"); log.warn("100%% sure %s", "!"); log.warn("50% off")
  t.eq(text(), "warning: 100% sure !\nwarning: 50% off\n")
  log.set_level("debug"); capture(false); log.debug("x=%d", 3)
  t.eq(text(), "debug: x=3\n")
  log.set_level(nil)
  t.raises(function() log.set_level("loud") end, "unknown level 'loud'")
end)

t.test("json format: one object per line", function()
  capture(false); log.set_format("json")
  log.warn("disk %s", "full")
  local rec = json.decode(text())
  t.eq(rec.level, "warn"); t.eq(rec.msg, "disk full"); t.eq(type(rec.time), "number")
  log.set_format("text")
end)

t.test("progress off a terminal: lines at 25% steps and a final line", function()
  capture(false)
  local p = log.progress("upload", 1000, { unit = "bytes" })
  for i = 1, 10 do p:add(100) end
  p:finish()
  p:add(5) -- after finish: nothing
  t.eq(text(), "upload: 30% (300 B of 1000 B)\nupload: 50% (500 B of 1000 B)\n" ..
    "upload: 80% (800 B of 1000 B)\nupload: 100% (1000 B of 1000 B)\nupload: done, 1000 B\n")
end)

t.test("progress on a terminal: redrawn in place, only when the percentage changes", function()
  capture(true)
  local p = log.progress("layers", 4)
  p:update(1); p:update(1); p:update(2)
  p:finish()
  local s = text()
  t.eq(select(2, s:gsub("\r", "")), 3)          -- 25%, 50%, the final 50% line
  t.ok(s:find(" 25%% 1/4") ~= nil, s)
  t.ok(s:sub(-1) == "\n", "the bar ends with a newline")
end)

t.test("progress is hidden by quiet levels and clamps to its total", function()
  capture(false); log.set_level("warn")
  local p = log.progress("x", 10); p:update(5); p:finish()
  t.eq(text(), "")
  log.set_level(nil); capture(false)
  p = log.progress("y", 10); p:update(50); p:finish()
  t.ok(text():find("y: done, 10") ~= nil, text())
  t.raises(function() log.progress(nil, 1) end, "a label expected")
end)

t.test("tty_only progress: drawn on a terminal, silent off it (the build bar of a release)", function()
  capture(false)
  local p = log.progress("building layers", 100, { unit = "bytes", tty_only = true })
  p:update(50); p:finish()
  t.eq(text(), "")
  capture(true)
  p = log.progress("building layers", 100, { unit = "bytes", tty_only = true })
  p:update(50); p:finish()
  t.ok(text():find("building layers [", 1, true) ~= nil, text())
end)

t.test("bytes", function()
  t.eq(log.bytes(0), "0 B"); t.eq(log.bytes(1536), "1.5 KB"); t.eq(log.bytes(5 * 1024 * 1024), "5.0 MB")
end)

log.set_output()
t.done()
