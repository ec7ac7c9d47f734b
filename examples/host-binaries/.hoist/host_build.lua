-- host_build: the team step of the host-binaries example, found by `require` because it sits in
-- .hoist/ next to extension.lua. It builds src/hello.c for every OS Docker Desktop runs on, for
-- each architecture being released, into build/host/ARCH/{darwin,windows,linux}/.
--
-- It uses the compilers this machine has, through hoist.exec (argv lists, no shell), the first
-- one found for each target:
--   linux    `cc` for this machine's architecture, `<triple>-gcc` for the other one
--            (Debian: gcc-aarch64-linux-gnu, gcc-x86-64-linux-gnu), linked statically;
--   windows  `x86_64-w64-mingw32-gcc` for amd64 (Debian: gcc-mingw-w64-x86-64), or zig;
--   darwin   `zig cc -target ...` when zig is installed.
-- Where none is found it writes a small stand-in script and warns, so the image layout is
-- complete and validates.
local exec = require("hoist.exec")
local fs = require("hoist.fs")
local host = require("hoist.host")
local log = require("hoist.log")

local M = {}

local ZIG = { amd64 = "x86_64", arm64 = "aarch64" }

-- The compiler command lines for one target, best first: { argv prefix, ... }.
local function compilers(os_, arch)
  local native = host.platform:match("/(%w+)$") == arch
  local list = {}
  if os_ == "linux" then
    if native then list[#list + 1] = { "cc", "-static" } end
    list[#list + 1] = { ({ amd64 = "x86_64-linux-gnu-gcc", arm64 = "aarch64-linux-gnu-gcc" })[arch], "-static" }
  elseif os_ == "windows" and arch == "amd64" then
    list[#list + 1] = { "x86_64-w64-mingw32-gcc", "-static" }
  end
  if os_ ~= "linux" then
    list[#list + 1] = { "zig", "cc", "-target", ZIG[arch] .. "-" .. (os_ == "darwin" and "macos" or "windows-gnu") }
  end
  return list
end

-- Compiles with argv: true when built, false when that compiler is not installed; raises with
-- the compiler's own message when it fails.
local function compile(argv, what)
  local r, err, code = exec.run(argv)
  if not r and code == "ENOENT" then return false end
  if not r then error(what .. ": " .. err, 0) end
  if not r.ok then
    error(string.format("%s: %s exited with %d: %s", what, argv[1], r.code, (r.stderr:gsub("%s+$", ""))), 0)
  end
  return true
end

local function stand_in(path, os_, arch)
  local text = os_ == "windows"
    and ("@echo hello %%1, from a stand-in for windows/" .. arch .. " (no compiler on the build machine)\r\n")
    or ("#!/bin/sh\necho \"hello ${1:-world}, from a stand-in for " .. os_ .. "/" .. arch ..
        " (no compiler on the build machine)\"\n")
  assert(fs.write(path, text, { mode = "0755" }))
  log.warn("host_build: no compiler for %s/%s here: wrote a stand-in %s", os_, arch, path)
end

-- Builds every host binary for one architecture; returns the output folder.
function M.build(dir, arch)
  local out = dir .. "/build/host/" .. arch
  local src = dir .. "/src/hello.c"
  for _, target in ipairs({ { "darwin", "/darwin/hello" }, { "windows", "/windows/hello.exe" },
                            { "linux", "/linux/hello" } }) do
    local os_, path = target[1], out .. target[2]
    assert(fs.mkdir(out .. "/" .. os_))
    local built = false
    for _, cc in ipairs(compilers(os_, arch)) do
      local argv = {}
      for _, a in ipairs(cc) do argv[#argv + 1] = a end
      for _, a in ipairs({ "-O2", "-DHELLO_TARGET=\"" .. os_ .. "/" .. arch .. "\"", "-o", path, src }) do
        argv[#argv + 1] = a
      end
      if compile(argv, "host_build " .. os_ .. "/" .. arch) then
        log.info("host_build: %s built %s/%s", cc[1], os_, arch)
        built = true
        break
      end
    end
    if not built then stand_in(path, os_, arch) end
  end
  return out
end

-- The before_build hook: every architecture of the release.
function M.before_build(ctx)
  local seen = {}
  for _, p in ipairs(ctx.platforms) do
    local arch = p:match("^[^/]+/([^/]+)")
    if arch and not seen[arch] then
      seen[arch] = true
      M.build(ctx.desc.dir, arch)
    end
  end
end

return M
