-- hoist.exec: run and output from argv lists, results vs errors, options, misuse raises.
local t = require("testlib")
local exec = require("hoist.exec")
local fs = require("hoist.fs")

local root = assert(fs.tmpdir("hoist-test-exec"))

t.test("run returns a result for every exit", function()
  local r = assert(exec.run{ "sh", "-c", "echo out; echo err >&2; exit 3" })
  t.eq(r.ok, false)
  t.eq(r.code, 3)
  t.eq(r.signal, nil)
  t.eq(r.stdout, "out\n")
  t.eq(r.stderr, "err\n")
  r = assert(exec.run{ "true" })
  t.eq(r.ok, true)
  t.eq(r.code, 0)
  t.eq(r.stdout, "")
end)

t.test("a signal is reported as signal and 128 + N", function()
  local r = assert(exec.run{ "sh", "-c", "kill -KILL $$" })
  t.eq(r.ok, false)
  t.eq(r.signal, 9)
  t.eq(r.code, 137)
end)

t.test("arguments are never interpreted by a shell", function()
  local s = "$(id) `id` ; | * ' \" \\"
  t.eq(exec.output{ "printf", "%s", s }, s)
end)

t.test("env overrides, unsets and clear_env", function()
  local script = 'printf "%s|%s" "$HOIST_A" "${HOME-unset}"'
  t.eq(exec.output{ "sh", "-c", script, env = { HOIST_A = "1" } }, "1|" .. os.getenv("HOME"))
  t.eq(exec.output{ "sh", "-c", script, env = { HOIST_A = "x y", HOME = false } }, "x y|unset")
  t.eq(exec.output{ "/usr/bin/env", clear_env = true, env = { ONLY = "me" } }, "ONLY=me\n")
  t.eq(exec.output{ "/usr/bin/env", clear_env = true }, "")
end)

-- Regression: the env array was popped off the stack before the spawn, so a
-- collection in between freed it (ASan: heap-use-after-free in build_env).
-- An eager collector makes that collection happen inside the call.
t.test("env survives a garbage collection during the call", function()
  for _, mode in ipairs{ { "generational", 1, 100 }, { "incremental", 1, 4000, 1 } } do
    collectgarbage(table.unpack(mode))
    for i = 1, 200 do
      local env = {}
      for j = 1, 20 do env["HOIST_GC_" .. j] = ("v"):rep(j) .. i end
      t.eq(exec.output{ "sh", "-c", 'printf %s "$HOIST_GC_20"', env = env }, ("v"):rep(20) .. i)
    end
  end
  collectgarbage("incremental", 200, 100)
end)

t.test("PATH from env decides where the program is found", function()
  local bin = root .. "/bin"
  assert(fs.mkdir(bin))
  assert(fs.write(bin .. "/hoist-lua-prog", "#!/bin/sh\necho \"it is $1\"\n", { mode = "0755" }))
  local r, err, code = exec.run{ "hoist-lua-prog" }
  t.eq(r, nil)
  t.eq(err, "cannot run 'hoist-lua-prog': No such file or directory")
  t.eq(code, "ENOENT")
  t.eq(exec.output{ "hoist-lua-prog", "me", env = { PATH = bin .. ":/usr/bin:/bin" } }, "it is me\n")
end)

t.test("cwd", function()
  t.eq(exec.output{ "pwd", cwd = root }, fs.realpath(root) .. "\n")
  local r, err, code = exec.run{ "pwd", cwd = root .. "/missing" }
  t.eq(r, nil)
  t.ok(err:find("cannot run 'pwd' in '" .. root .. "/missing'", 1, true), err)
  t.eq(code, "ENOENT")
end)

t.test("stdin: a string, or /dev/null", function()
  t.eq(exec.output{ "cat", stdin = "hello\0world" }, "hello\0world")
  t.eq(exec.output{ "cat" }, "")
  local big = string.rep("0123456789abcdef", 131072)  -- 2 MiB in, 2 MiB out at the same time
  local out = exec.output{ "cat", stdin = big }
  t.eq(#out, #big)
  t.ok(out == big, "2 MiB round trip")
  -- a child that exits without reading: no SIGPIPE for hoist
  t.eq(exec.run{ "true", stdin = big }.ok, true)
end)

t.test("capture = false passes output through", function()
  local r = assert(exec.run{ "sh", "-c", "exit 5", capture = false })
  t.eq(r.code, 5)
  t.eq(r.stdout, nil)
  t.eq(r.stderr, nil)
end)

t.test("timeout kills and says so", function()
  local r, err, code = exec.run{ "sleep", "10", timeout = 0.2 }
  t.eq(r, nil)
  t.eq(err, "'sleep' timed out after 0.2 s and was killed")
  t.eq(code, "ETIMEDOUT")
  t.eq(exec.output{ "echo", "quick", timeout = 10 }, "quick\n")
end)

t.test("output: stdout, or the exit and the last stderr line", function()
  t.eq(exec.output{ "echo", "hi" }, "hi\n")
  local out, err, code = exec.output{ "sh", "-c", "echo partial; echo first >&2; echo '  the cause  ' >&2; echo >&2; exit 2" }
  t.eq(out, nil)
  t.eq(err, "'sh' exited with 2: the cause")
  t.eq(code, "EEXIT")
  out, err = exec.output{ "false" }
  t.eq(err, "'false' exited with 1")
  out, err = exec.output{ "sh", "-c", "kill -TERM $$" }
  t.ok(err:find("^'sh' was killed by signal 15"), err)
  out, err, code = exec.output{ "hoist-no-such-program", "--password", "hunter2" }
  t.eq(err, "cannot run 'hoist-no-such-program': No such file or directory")
  t.eq(code, "ENOENT")
end)

t.test("misuse raises", function()
  t.raises(function() exec.run() end, "bad argument #1")
  t.raises(function() exec.run("cc main.c") end, "bad argument #1")
  t.raises(function() exec.run{} end, "a program to run expected")
  t.raises(function() exec.run{ env = {} } end, "a program to run expected")
  t.raises(function() exec.run{ "echo", 42 } end, "item 2 must be a string")
  t.raises(function() exec.run{ "echo", { "x" } } end, "item 2 must be a string")
  t.raises(function() exec.run{ "echo", capture = "yes" } end, "option 'capture' must be a boolean")
  t.raises(function() exec.run{ "echo", timeout = 0 } end, "option 'timeout'")
  t.raises(function() exec.run{ "echo", timout = 5 } end, "unknown option 'timout'")
  t.raises(function() exec.run{ "echo", env = { A = 1 } } end, "'A' must be a string, or false")
  t.raises(function() exec.run{ "echo", env = { ["A=B"] = "x" } } end, "invalid name 'A=B'")
  t.raises(function() exec.run{ "echo", cwd = 5 } end, "option 'cwd' must be a string")
  t.raises(function() exec.output{ "echo", capture = false } end, "option 'capture'")
end)

fs.remove(root)
t.done()
