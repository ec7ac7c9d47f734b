-- backend_build: compiles src/service.c for each architecture being released into
-- build/backend/ARCH/service (static, so it runs in an image with nothing else in it), with `cc`
-- for this machine's architecture and the Debian cross compiler for the other one
-- (gcc-aarch64-linux-gnu / gcc-x86-64-linux-gnu). A missing compiler stops the release: a
-- backend cannot be faked.
local exec = require("hoist.exec")
local fs = require("hoist.fs")
local host = require("hoist.host")
local log = require("hoist.log")

local M = {}

local CROSS = { amd64 = "x86_64-linux-gnu-gcc", arm64 = "aarch64-linux-gnu-gcc" }

function M.build(dir, arch)
  local cc = host.platform:match("/(%w+)$") == arch and "cc" or CROSS[arch]
  if not cc then error("backend_build: no compiler known for linux/" .. arch, 0) end
  local out = dir .. "/build/backend/" .. arch
  assert(fs.mkdir(out))
  local r, err = exec.run{ cc, "-static", "-O2", "-Wall", "-DSERVICE_ARCH=\"" .. arch .. "\"",
                           "-o", out .. "/service", dir .. "/src/service.c" }
  if not r then error("backend_build linux/" .. arch .. ": " .. err .. " (install the cross compiler: tools/deps.sh)", 0) end
  if not r.ok then error("backend_build linux/" .. arch .. ": " .. cc .. " failed: " .. (r.stderr:gsub("%s+$", "")), 0) end
  log.info("backend_build: %s built linux/%s", cc, arch)
end

function M.before_build(ctx)
  local seen = {}
  for _, p in ipairs(ctx.platforms) do
    local arch = p:match("^linux/([^/]+)")
    if arch and not seen[arch] then seen[arch] = true; M.build(ctx.desc.dir, arch) end
  end
end

return M
