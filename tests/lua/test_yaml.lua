-- hoist.yaml: compose files as Lua tables (libyaml through host/core/common/yamljson.c): the
-- YAML 1.2 core schema docker compose uses, aliases and merge keys, and the bounds and errors
-- (file:line:column) that keep a hostile file from hanging or crashing a release.
local t = require("testlib")
local yaml = require("hoist.yaml")

t.test("a compose file", function()
  local doc = assert(yaml.decode([[
services:
  backend:
    image: ${DESKTOP_PLUGIN_IMAGE}
    command: ["/service", "-socket", "/run/guest-services/x.sock"]
    environment:
      DEBUG: "true"
    ports: [8080]
]], "docker-compose.yaml"))
  t.eq(doc.services.backend.image, "${DESKTOP_PLUGIN_IMAGE}")
  t.eq(doc.services.backend.command[3], "/run/guest-services/x.sock")
  t.eq(doc.services.backend.environment.DEBUG, "true")   -- quoted: a string
  t.eq(doc.services.backend.ports[1], 8080)
end)

t.test("the core schema: null, booleans, numbers; everything else a string", function()
  local doc = assert(yaml.decode("a: null\nb: ~\nc: true\nd: False\ne: 0x1F\nf: 0o17\ng: 1.5e3\nh: yes\ni: 012\nj: '7'\n"))
  t.eq(doc.a, require("hoist.json").null)
  t.eq(doc.c, true); t.eq(doc.d, false)
  t.eq(doc.e, 31); t.eq(doc.f, 15); t.eq(doc.g, 1500.0)
  t.eq(doc.h, "yes")          -- YAML 1.1's booleans are strings in 1.2, as in go-yaml v3
  t.eq(doc.i, 12)
  t.eq(doc.j, "7")
end)

t.test("anchors, aliases and merge keys", function()
  local doc = assert(yaml.decode([[
x-base: &base
  image: ${DESKTOP_PLUGIN_IMAGE}
  restart: always
services:
  one:
    <<: *base
    restart: "no"
  two:
    <<: [*base]
]]))
  t.eq(doc.services.one.image, "${DESKTOP_PLUGIN_IMAGE}")
  t.eq(doc.services.one.restart, "no")         -- keys already there win
  t.eq(doc.services.two.restart, "always")
end)

t.test("hostile files end in one-line errors naming the place", function()
  local _, err = yaml.decode("a: [1, 2\n", "c.yaml")
  t.ok(err and err:find("^c%.yaml:%d+:%d+: "), err)
  -- a list of merges holding itself through an alias (found by fuzz_yaml: a stack overflow)
  _, err = yaml.decode('a: {k: [0 s"]}\ny:\n  <<: &a [*a]\n', "self.yaml")
  t.ok(err and err:find("self.yaml:3:", 1, true) and err:find("nested too deep", 1, true), err)
  -- a billion laughs: an error, not a fork bomb
  local lines = { "a0: &a0 [x, x, x, x, x, x, x, x, x, x]" }
  for i = 1, 9 do
    lines[#lines + 1] = string.format("a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]",
      i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1)
  end
  _, err = yaml.decode(table.concat(lines, "\n") .. "\n", "laughs.yaml")
  t.ok(err and err:find("too many values", 1, true), err)
  _, err = yaml.decode("a: b" .. string.char(0xff) .. "\n", "bytes.yaml")   -- not UTF-8
  t.ok(err and err:find("bytes.yaml", 1, true), err)
  for _, e in ipairs({ err }) do t.ok(not e:find("\n", 1, true), "one line") end
  t.raises(function() yaml.decode(nil) end, "a string expected")
end)

t.done()
