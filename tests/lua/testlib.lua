-- Tiny test harness for tests/lua: t.test(name, fn) records, t.done() reports and fails the run.
local t = {}
local results = { passed = 0, failed = 0 }

local function fmt(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

function t.eq(actual, expected, what)
  if actual ~= expected then
    error(string.format("%sexpected %s, got %s", what and (what .. ": ") or "", fmt(expected), fmt(actual)), 2)
  end
end

function t.ok(cond, what)
  if not cond then error("assertion failed" .. (what and (": " .. what) or ""), 2) end
end

-- Deep equality of plain tables (arrays and records).
function t.same(actual, expected, what)
  local function same(a, b)
    if type(a) ~= type(b) then return false end
    if type(a) ~= "table" then return a == b end
    for k, v in pairs(a) do if not same(v, b[k]) then return false end end
    for k in pairs(b) do if a[k] == nil then return false end end
    return true
  end
  if not same(actual, expected) then
    local json_ok, json = pcall(require, "hoist.json")
    local show = function(v) return json_ok and json.encode(v, { sort_keys = true }) or tostring(v) end
    error(string.format("%snot the same: got %s, expected %s", what and (what .. ": ") or "",
      show(actual), show(expected)), 2)
  end
end

-- Asserts that fn raises, and that the message contains pattern (plain text).
function t.raises(fn, pattern, what)
  local ok, err = pcall(fn)
  if ok then error("expected an error" .. (what and (": " .. what) or ""), 2) end
  if pattern and not tostring(err):find(pattern, 1, true) then
    error(string.format("error %q does not mention %q", tostring(err), pattern), 2)
  end
  return err
end

function t.test(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    results.passed = results.passed + 1
  else
    results.failed = results.failed + 1
    io.stderr:write("FAIL ", name, "\n", tostring(err), "\n")
  end
end

function t.done()
  print(string.format("%d passed, %d failed", results.passed, results.failed))
  if results.failed > 0 or results.passed == 0 then os.exit(1) end
end

return t
