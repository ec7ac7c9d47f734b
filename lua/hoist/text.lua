-- hoist.text: values from users and registries shown inside one-line messages.
-- Every problem, warning and error hoist prints is one line, whatever the value holds:
-- a label key with a newline must not forge a second problem line.
local text = {}

-- The value in double quotes as Lua's %q writes it, with a newline as \n (not a
-- backslash and a real newline): quoted as written, escapes only for what cannot be shown.
function text.quote(v)
  return (string.format("%q", tostring(v)):gsub("\\\n", "\\n"))
end

-- The value unquoted (for messages that copy another tool's wording), with control
-- characters escaped as \ddd.
function text.bare(v)
  return (tostring(v):gsub("%c", function(c) return string.format("\\%03d", c:byte()) end))
end

return text
