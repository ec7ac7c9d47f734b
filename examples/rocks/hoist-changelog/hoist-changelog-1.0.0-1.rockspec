-- A team step shared as a LuaRocks package: install it into an extension's .hoist/rocks tree
-- (luarocks --tree DIR/.hoist/rocks --lua-version 5.4 make THIS.rockspec) and use it from
-- extension.lua: hooks = { before_build = require("hoist_team.changelog").before_build }.
rockspec_format = "3.0"
package = "hoist-changelog"
version = "1.0.0-1"
source = {
  url = "git+https://example.invalid/acme/hoist-changelog.git",
  tag = "v1.0.0",
}
description = {
  summary = "hoist team step: refuse a release whose version has no CHANGELOG.md entry",
  detailed = [[
    A before_build hook for hoist (Docker Desktop extension releases): the release's version must
    have a '## VERSION' section in CHANGELOG.md next to extension.lua; its first paragraph becomes
    the com.docker.extension.changelog label.
  ]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.4",
}
build = {
  type = "builtin",
  modules = {
    ["hoist_team.changelog"] = "src/hoist_team/changelog.lua",
  },
}
