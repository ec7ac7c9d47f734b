-- hoist.imagefs: an image's filesystem as layers read top-down (imagefs.layered), with whiteouts,
-- opaque folders and files in place of folders, and the lookups the runtime checks make on it.
local t = require("testlib")
local imagefs = require("hoist.imagefs")

local F = function(mode) return { type = "f", mode = tonumber(mode, 8) } end
local L = function(link) return { type = "l", mode = tonumber("777", 8), link = link } end

-- layers[1] is the bottom; loads counts how often each was read
local function image(layers)
  local loads = {}
  local lookup, failure = imagefs.layered(#layers, function(i)
    loads[i] = (loads[i] or 0) + 1
    if layers[i] == "broken" then return nil, "layer " .. i .. " cannot be read" end
    return imagefs.layer_index(layers[i])
  end)
  return lookup, failure, loads
end

t.test("the topmost layer holding a path decides it; lower layers are read only when needed", function()
  local lookup, failure, loads = image({
    { ["bin/"] = { type = "d", mode = tonumber("755", 8) }, ["bin/sh"] = F("755"), ["etc/os"] = F("644") },
    { ["./app/run"] = F("644") },
    { ["app/run"] = F("755"), ["metadata.json"] = F("644") },
  })
  t.eq(lookup("/metadata.json").mode, tonumber("644", 8))
  t.eq(loads[3], 1); t.eq(loads[2], nil); t.eq(loads[1], nil)   -- the top layer answered
  t.eq(lookup("app/run").mode, tonumber("755", 8))                 -- not the 0644 below
  t.eq(loads[2], nil)
  t.eq(lookup("bin/sh").mode, tonumber("755", 8))
  t.eq(loads[1], 1); t.eq(loads[2], 1)                             -- each read once
  t.eq(lookup("app").type, "d")                                    -- a folder no entry writes
  t.eq(lookup("nope"), nil)
  t.eq(loads[1], 1)
  t.eq(failure(), nil)
end)

t.test("whiteouts, opaque folders and files in place of folders hide what lies below", function()
  local lookup = image({
    { ["a/x"] = F("755"), ["b/y"] = F("755"), ["c/z"] = F("755"), ["d/w"] = F("755"), ["e/v"] = F("755") },
    { ["a/.wh.x"] = F("644"), [".wh.b"] = F("644"), ["c/.wh..wh..opq"] = F("644"), ["c/new"] = F("755"),
      ["d"] = F("644"), ["e"] = L("/a") },
  })
  t.eq(lookup("a/x"), nil)        -- whited out
  t.eq(lookup("b/y"), nil)        -- its folder whited out
  t.eq(lookup("b"), nil)
  t.eq(lookup("c/z"), nil)        -- an opaque folder hides what was under it ...
  t.eq(lookup("c/new").mode, tonumber("755", 8))  -- ... not what the same layer puts there
  t.eq(lookup("d/w"), nil)        -- a file replaced the folder
  t.eq(lookup("d").type, "f")
  t.eq(lookup("e/v"), nil)        -- so did a symlink (resolve follows it instead)
  t.eq(lookup(".wh.b"), nil)      -- whiteout entries are never files of the image
end)

t.test("symlinks and PATH through the layers; a broken layer is a failure, not an absence", function()
  local lookup, failure = image({
    { ["usr/bin/node"] = F("755"), ["bin/sh"] = F("755") },
    { ["app"] = L("usr/bin"), ["svc"] = L("/app/node") },
  })
  t.eq(imagefs.executable(lookup, "/svc"), "/usr/bin/node")
  t.eq(imagefs.find_program(lookup, "node", { "PATH=/opt/bin:/app" }), "/usr/bin/node")
  local broken, bfail = image({ "broken", { ["x"] = F("755") } })
  t.eq(broken("x").mode, tonumber("755", 8))
  t.eq(bfail(), nil)
  t.eq(broken("y"), nil)
  t.eq(bfail(), "layer 1 cannot be read")
  t.eq(failure(), nil)
end)

t.done()
