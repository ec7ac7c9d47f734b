-- hoist.label: building the extension labels and validating them like `docker extension validate`.
local t = require("testlib")
local label = require("hoist.label")
local json = require("hoist.json")

local K = {
  title = "org.opencontainers.image.title",
  description = "org.opencontainers.image.description",
  vendor = "org.opencontainers.image.vendor",
  api = "com.docker.desktop.extension.api.version",
  icon = "com.docker.desktop.extension.icon",
  screenshots = "com.docker.extension.screenshots",
  detailed = "com.docker.extension.detailed-description",
  publisher = "com.docker.extension.publisher-url",
  urls = "com.docker.extension.additional-urls",
  changelog = "com.docker.extension.changelog",
  account = "com.docker.extension.account-info",
  categories = "com.docker.extension.categories",
}

-- A complete description; each call returns a fresh table so tests can change it.
local function fields()
  return {
    title = "My Tool", description = "Does things", vendor = "Acme", api_version = ">= 0.3.3",
    icon = "https://acme.example/icon.svg",
    screenshots = { { alt = "main", url = "https://acme.example/1.png" },
                    { url = "https://acme.example/2.png", alt = "settings" } },
    detailed_description = "<p>Long text</p>", publisher_url = "https://acme.example",
    additional_urls = { { title = "Docs", url = "https://acme.example/docs" } },
    changelog = "<p>First release</p>", account_info = "required",
    categories = { "utility-tools", "networking" },
  }
end

local function valid_labels() return label.extension(fields()) end

-- validate_extension must fail with exactly one problem naming key and containing text.
local function one_problem(labels, key, text)
  local ok, problems = label.validate_extension(labels)
  t.eq(ok, false, "validate result")
  t.eq(#problems, 1, "problem count: " .. table.concat(problems, " | "))
  t.ok(problems[1]:find('"' .. key .. '"', 1, true), "names the key: " .. problems[1])
  if text then t.ok(problems[1]:find(text, 1, true), "mentions " .. text .. ": " .. problems[1]) end
  t.ok(not problems[1]:find("\n", 1, true), "one line")
  return problems[1]
end

t.test("KEYS, REQUIRED and CATEGORIES", function()
  t.eq(#label.KEYS, 12)
  t.same(label.KEYS[1], { key = K.title, field = "title", required = true })
  t.same(label.KEYS[4], { key = K.api, field = "api_version", required = true })
  local required = 0
  for _, k in ipairs(label.KEYS) do
    t.eq(label.REQUIRED[k.key] == true, k.required, k.key)
    if k.required then required = required + 1 end
  end
  t.eq(required, 10)
  t.eq(label.REQUIRED[K.urls], nil)
  t.eq(label.REQUIRED[K.account], nil)
  t.eq(label.REQUIRED[K.categories], true)   -- validate requires it, though the docs say optional
  t.eq(#label.CATEGORIES, 12)
  t.eq(label.CATEGORIES[1], "ci-cd")
end)

t.test("extension builds every label", function()
  local l = valid_labels()
  t.eq(l[K.title], "My Tool")
  t.eq(l[K.description], "Does things")
  t.eq(l[K.vendor], "Acme")
  t.eq(l[K.api], ">= 0.3.3")
  t.eq(l[K.icon], "https://acme.example/icon.svg")
  t.eq(l[K.screenshots],
    '[{"alt":"main","url":"https://acme.example/1.png"},{"alt":"settings","url":"https://acme.example/2.png"}]')
  t.eq(l[K.detailed], "<p>Long text</p>")
  t.eq(l[K.publisher], "https://acme.example")
  t.eq(l[K.urls], '[{"title":"Docs","url":"https://acme.example/docs"}]')
  t.eq(l[K.changelog], "<p>First release</p>")
  t.eq(l[K.account], "required")
  t.eq(l[K.categories], "utility-tools,networking")
  local n = 0
  for _, v in pairs(l) do n = n + 1; t.eq(type(v), "string") end
  t.eq(n, 12)
end)

t.test("a complete set validates", function()
  local ok, problems = label.validate_extension(valid_labels())
  t.eq(ok, true)
  t.eq(problems, nil)
end)

t.test("nil fields produce no label; optional ones may be left out", function()
  local f = fields()
  f.additional_urls, f.account_info = nil, nil
  local l = label.extension(f)
  t.eq(l[K.urls], nil)
  t.eq(l[K.account], nil)
  t.eq(label.validate_extension(l), true)
  t.same(label.extension({}), {})
end)

t.test("each missing required label is reported", function()
  for _, k in ipairs(label.KEYS) do
    if k.required then
      local l = valid_labels()
      l[k.key] = nil
      local p = one_problem(l, k.key)
      t.eq(p, '(required) image label "' .. k.key .. '" is missing')
    end
  end
end)

t.test("each empty required label is reported", function()
  for _, k in ipairs(label.KEYS) do
    if k.required then
      for _, empty in ipairs({ "", "  " }) do
        local f = fields()
        f[k.field] = empty            -- strings pass through extension() unchanged
        local p = one_problem(label.extension(f), k.key)
        t.eq(p, '(required) image label "' .. k.key .. '" is set to empty string')
      end
    end
  end
end)

t.test("empty optional labels are accepted", function()
  local l = valid_labels()
  l[K.account] = ""
  l[K.urls] = ""
  t.eq(label.validate_extension(l), true)
end)

t.test("all problems are reported, sorted by key", function()
  local ok, problems = label.validate_extension({ [K.title] = "", [K.api] = "latest" })
  t.eq(ok, false)
  t.eq(#problems, 10)
  local keys = {}
  for i, p in ipairs(problems) do keys[i] = p:match('image label "([^"]+)"') end
  local sorted = { table.unpack(keys) }
  table.sort(sorted)
  t.same(keys, sorted)
  t.eq(problems[1], '(required) image label "' .. K.api .. '" ("latest") is not a semver version or constraint')
  local function has(text)
    for _, p in ipairs(problems) do if p == text then return true end end
    return false
  end
  t.ok(has('(required) image label "' .. K.title .. '" is set to empty string'))
  t.ok(has('(required) image label "' .. K.categories .. '" is missing'))
  t.ok(has('(required) image label "' .. K.vendor .. '" is missing'))
  -- The same input gives the same list.
  local _, again = label.validate_extension({ [K.title] = "", [K.api] = "latest" })
  t.same(again, problems)
end)

t.test("malformed screenshots", function()
  local function check(value, text)
    local l = valid_labels()
    l[K.screenshots] = value
    return one_problem(l, K.screenshots, text)
  end
  check("not json", "is not valid JSON")
  check('{"alt":"a","url":"u"}', "is not a JSON array")
  check('"a string"', "is not a JSON array")
  check('[{"alt":"a","url":"u"},{"alt":"b"}]', 'has entry 2 without "url"')
  check('[{"url":"u"}]', 'has entry 1 without "alt"')
  check('[{"alt":"","url":"u"}]', 'has entry 1 whose "alt" is empty or not a string')
  check('[{"alt":"a","url":7}]', 'has entry 1 whose "url" is empty or not a string')
  check('["u"]', "has entry 1 that is not an object")
  check("[[]]", "has entry 1 that is not an object")
  -- Through extension(): an entry given without url.
  local f = fields()
  f.screenshots = { { alt = "main", url = "https://acme.example/1.png" }, { alt = "two" } }
  one_problem(label.extension(f), K.screenshots, 'has entry 2 without "url"')
  -- Several broken entries: one problem each.
  local l = valid_labels()
  l[K.screenshots] = '[{"alt":"a"},{"url":"u"}]'
  local ok, problems = label.validate_extension(l)
  t.eq(ok, false)
  t.eq(#problems, 2)
end)

t.test("malformed additional-urls", function()
  local function check(value, text)
    local l = valid_labels()
    l[K.urls] = value
    local p = one_problem(l, K.urls, text)
    t.eq(p:sub(1, 11), "image label")   -- an optional label: no "(required)" prefix
  end
  check("[{", "is not valid JSON")
  check('{"title":"Docs","url":"u"}', "is not a JSON array")
  check('[{"url":"https://a.example"}]', 'has entry 1 without "title"')
  check('[{"title":"Docs","url":"u"},{"title":"Support"}]', 'has entry 2 without "url"')
  check('[null]', "has entry 1 that is not an object")
end)

-- validate_extension must pass with exactly one warning naming key and containing text.
local function one_warning(labels, key, text, opts)
  local ok, problems, warnings = label.validate_extension(labels, opts)
  t.eq(ok, true, "validate result: " .. table.concat(problems or {}, " | "))
  t.eq(#warnings, 1, "warning count: " .. table.concat(warnings, " | "))
  t.ok(warnings[1]:find('"' .. key .. '"', 1, true), "names the key: " .. warnings[1])
  if text then t.ok(warnings[1]:find(text, 1, true), "mentions " .. text .. ": " .. warnings[1]) end
  return warnings[1]
end

-- Docker does not check category values: "Utility tools", "utility", "DATABASES & STORAGE" and
-- "kubernetes, cloud-deployment" all passed validate (EXTENSIONS.md section 9). Outside the
-- documented list is a warning; present and non-empty stays required.
t.test("categories", function()
  local l = valid_labels()
  l[K.categories] = " volumes , kubernetes,ci-cd"   -- trimmed
  local ok, _, w = label.validate_extension(l)
  t.eq(ok, true); t.eq(#w, 0)
  for _, c in ipairs(label.CATEGORIES) do
    l[K.categories] = c
    t.eq(label.validate_extension(l), true, c)
  end
  l[K.categories] = "volumes,tools"
  one_warning(l, K.categories, 'has "tools", which is not one of the documented categories')
  l[K.categories] = "Volumes"
  one_warning(l, K.categories, '"Volumes"')
  l[K.categories] = "utility-tool"
  one_warning(l, K.categories, '(did you mean "utility-tools"?)')
  for _, seen in ipairs({ "Utility tools", "utility", "DATABASES & STORAGE" }) do
    l[K.categories] = seen
    one_warning(l, K.categories, string.format("%q", seen))
  end
  l[K.categories] = "volumes,,networking"
  one_warning(l, K.categories, "has an empty entry")
  -- Each unknown one is named.
  l[K.categories] = "foo,database,bar"
  local ok2, problems, warnings = label.validate_extension(l)
  t.eq(ok2, true); t.eq(problems, nil)
  t.eq(#warnings, 2)
  t.ok(warnings[1]:find('"foo"', 1, true) and warnings[1]:find(K.categories, 1, true), warnings[1])
  t.ok(warnings[2]:find('"bar"', 1, true) and warnings[2]:find(K.categories, 1, true), warnings[2])
  -- still required: missing and empty are problems
  l[K.categories] = nil
  one_problem(l, K.categories, "is missing")
  l[K.categories] = ""
  one_problem(l, K.categories, "is set to empty string")
end)

-- collabnix/redisinsight-docker-extension#3: `title "RedisInsight Extension for Docker Desktop"
-- should not include "extension"`; only the title label, in any case.
t.test("the title must not include \"extension\"", function()
  local l = valid_labels()
  l[K.title] = "RedisInsight Extension for Docker Desktop"
  local p = one_problem(l, "RedisInsight Extension for Docker Desktop")
  t.eq(p, 'title "RedisInsight Extension for Docker Desktop" should not include "extension"')
  l[K.title] = "my-EXTENSIONS"
  t.eq(one_problem(l, "my-EXTENSIONS"), 'title "my-EXTENSIONS" should not include "extension"')
  -- the description and the other labels may say it
  l = valid_labels()
  l[K.description] = "An extension for Docker Desktop"
  l[K.detailed] = "<p>This extension ...</p>"
  t.eq(label.validate_extension(l), true)
  -- a private extension: a warning (Desktop installs it)
  l[K.title] = "Team Extension"
  local ok, problems, warnings = label.validate_extension(l, { private = true })
  t.eq(ok, true, table.concat(problems or {}, " | "))
  t.same(warnings, { 'title "Team Extension" should not include "extension"' })
end)

-- docker/extensions-submissions (failed.txt): validate --sdk-compatibility said
-- `(required) image label "com.docker.desktop.extension.api.version" ("0.3.0") is incompatible with
-- current SDK version "0.3.3". Consider changing it to ">=0.3.3"`.
t.test("api.version against an SDK version", function()
  local l = valid_labels()
  l[K.api] = "0.3.0"
  t.eq(label.validate_extension(l), true, "no sdk: no check")
  local ok, problems = label.validate_extension(l, { sdk = "0.3.3" })
  t.eq(ok, false)
  t.same(problems, { '(required) image label "com.docker.desktop.extension.api.version" ("0.3.0") is ' ..
    'incompatible with current SDK version "0.3.3". Consider changing it to ">=0.3.3"' })
  for _, good in ipairs({ ">=0.3.3", ">= 0.2.0", "0.3.3", ">= 0.3.0, < 0.4", "^0.3.0" }) do
    l[K.api] = good
    t.eq(label.validate_extension(l, { sdk = "0.3.3" }), true, good)
  end
  for _, bad in ipairs({ "0.3.4", ">= 0.3.4", ">= 0.2.0, < 0.3.3", ">=1.4.7, <2.0" }) do
    l[K.api] = bad
    local ok2, pr = label.validate_extension(l, { sdk = "0.3.3" })
    t.eq(ok2, false, bad)
    t.eq(pr[1], string.format('(required) image label "%s" (%q) is incompatible with current SDK version "0.3.3". ' ..
      'Consider changing it to ">=0.3.3"', K.api, bad))
  end
  -- the same for a private extension (Desktop refuses an extension it is too old for)
  l[K.api] = "0.3.0"
  t.eq((label.validate_extension(l, { sdk = "0.3.3", private = true })), false)
  t.eq(label.sdk_problem(">= 0.3.3", "0.3.4"), nil)
  t.ok(label.sdk_problem("0.3.0", "0.3.4"):find('Consider changing it to ">=0.3.4"', 1, true))
  t.raises(function() label.sdk_problem("0.3.0", "latest") end, "SDK version")
  t.raises(function() label.validate_extension(l, { sdk = "x" }) end, "opts.sdk")
  t.raises(function() label.validate_extension(l, { sdkk = "0.3.3" }) end, "did you mean 'sdk'")
end)

t.test("a private extension: Marketplace-only labels give warnings", function()
  local l = { [K.title] = "Team tool", [K.api] = ">= 0.3.3" }
  local ok, problems = label.validate_extension(l)
  t.eq(ok, false)
  t.eq(#problems, 8)     -- the ten required labels but the two given
  local ok2, p2, warnings = label.validate_extension(l, { private = true })
  t.eq(ok2, true, table.concat(p2 or {}, " | "))
  t.eq(#warnings, 8)
  for _, w in ipairs(warnings) do t.ok(w:find("a private extension may go without", 1, true), w) end
  -- the title and api.version stay required
  for _, k in ipairs({ K.title, K.api }) do
    local m = { [K.title] = "Team tool", [K.api] = ">= 0.3.3" }
    m[k] = nil
    local ok3, p3 = label.validate_extension(m, { private = true })
    t.eq(ok3, false, k)
    t.eq(p3[1], '(required) image label "' .. k .. '" is missing')
  end
  -- a malformed Marketplace label is a warning too
  l[K.icon] = "icon.svg"
  local _, _, w2 = label.validate_extension(l, { private = true })
  local found = false
  for _, w in ipairs(w2) do if w:find("is not an http(s) URL", 1, true) then found = true end end
  t.ok(found, "the icon's URL warning")
  t.eq(#label.FIELDS, #label.KEYS)
  local n = 0
  for _ in pairs(label.MARKETPLACE_ONLY) do n = n + 1 end
  t.eq(n, 10)
end)

t.test("keys in Docker's namespaces that are not Docker labels", function()
  local l = valid_labels()
  l["com.docker.extension.category"] = "utility-tools"
  l["com.docker.extension.api.version"] = ">= 0.3.3"
  l["com.docker.desktop.extension.foo"] = "x"
  l["org.example.team"] = "ours"              -- not Docker's: fine
  local ok, _, w = label.validate_extension(l)
  t.eq(ok, true)   -- Docker ignores them: a warning on an image
  t.same(w, {
    'image label "com.docker.desktop.extension.foo" is not a Docker extension label',
    'image label "com.docker.extension.api.version" is not a Docker extension label ' ..
      '(did you mean "com.docker.desktop.extension.api.version"?)',
    'image label "com.docker.extension.category" is not a Docker extension label ' ..
      '(did you mean "com.docker.extension.categories"?)',
  })
  -- label.unknown: what extension.lua gets as problems
  local u = label.unknown({ catgories = {}, title = "x", ["com.docker.extension.category"] = "a",
    ["com.docker.extension.title"] = "b", ["org.opencontainers.image.source"] = "s", zzz = 1 })
  t.same(u, {
    { name = "catgories", raw = false, near = "categories" },
    { name = "com.docker.extension.category", raw = true, near = "categories" },
    { name = "com.docker.extension.title", raw = true, near = "title" },
    { name = "zzz", raw = false },
  })
  t.raises(function() label.unknown(nil) end, "table expected")
  -- label.extension names the field meant
  t.raises(function() label.extension({ catgories = { "volumes" } }) end, "did you mean 'categories'?")
end)

t.test("api.version", function()
  local l = valid_labels()
  for _, good in ipairs({ "0.3.3", ">= 0.3.3", ">=0.3.3", ">= 1.4.7, < 2.0", ">=0.2.0 <1.0.0", "^0.3.0" }) do
    l[K.api] = good
    t.eq(label.validate_extension(l), true, good)
  end
  for _, bad in ipairs({ "latest", ">=x.1", "0.3.3 beta", ">= 1.4.7, foo" }) do
    l[K.api] = bad
    local p = one_problem(l, K.api, "is not a semver version or constraint")
    t.ok(p:find(bad, 1, true), "quotes the value: " .. p)
  end
end)

t.test("icon, publisher-url and account-info", function()
  for _, key in ipairs({ K.icon, K.publisher }) do
    for _, bad in ipairs({ "icon.svg", "ftp://a.example/x", "https://", "https://a.example/a b" }) do
      local l = valid_labels()
      l[key] = bad
      one_problem(l, key, "is not an http(s) URL")
    end
    local l = valid_labels()
    l[key] = "http://a.example:8080/x.png?v=1"
    t.eq(label.validate_extension(l), true)
  end
  local l = valid_labels()
  l[K.account] = "yes"
  one_problem(l, K.account, 'must be "required" or empty')
  -- A newline in a value stays escaped: problems are one line each.
  l[K.account] = "a\nb"
  one_problem(l, K.account, [["a\nb"]])
end)

t.test("strings for list fields pass through as-is", function()
  local f = fields()
  f.screenshots = "not json"
  f.additional_urls = '[{"title":"x"}]'
  f.categories = "volumes, nope"
  local l = label.extension(f)
  t.eq(l[K.screenshots], "not json")
  t.eq(l[K.urls], '[{"title":"x"}]')
  t.eq(l[K.categories], "volumes, nope")
  local ok, problems, warnings = label.validate_extension(l)
  t.eq(ok, false)
  t.eq(#problems, 2)
  t.eq(#warnings, 1)    -- "nope" is not a documented category
end)

t.test("empty lists encode as an empty JSON array", function()
  local f = fields()
  f.screenshots, f.additional_urls, f.categories = {}, {}, {}
  local l = label.extension(f)
  t.eq(l[K.screenshots], "[]")
  t.eq(l[K.urls], "[]")
  t.eq(l[K.categories], "")
  one_problem(l, K.categories, "is set to empty string")
end)

t.test("raw labels pass through", function()
  local f = fields()
  f["org.opencontainers.image.source"] = "https://example.com/acme/ext"
  f["org.opencontainers.image.licenses"] = ""
  local l = label.extension(f)
  t.eq(l["org.opencontainers.image.source"], "https://example.com/acme/ext")
  t.eq(l["org.opencontainers.image.licenses"], "")
  t.eq(label.validate_extension(l), true)   -- extra labels are harmless
  -- A raw key may name an extension label when the field is not also given.
  local only_raw = label.extension({ [K.title] = "Raw title" })
  t.same(only_raw, { [K.title] = "Raw title" })
  t.raises(function() label.extension({ title = "A", [K.title] = "B" }) end, "set twice")
  t.raises(function() label.extension({ ["org.example.n"] = 5 }) end, "org.example.n")
end)

t.test("output is deterministic", function()
  local function encoded()
    local l = label.extension(fields())
    return json.encode(l, { sort_keys = true })
  end
  local first = encoded()
  for _ = 1, 20 do t.eq(encoded(), first) end
  -- Keys inside each record are sorted whatever order they were written in.
  local a = label.extension({ screenshots = { { url = "u", alt = "a", extra = "x" } } })
  t.eq(a[K.screenshots], '[{"alt":"a","extra":"x","url":"u"}]')
  -- The caller's list is not marked or changed.
  local list = {}
  label.extension({ screenshots = list })
  t.eq(json.encode(list), "{}")
end)

t.test("misuse raises", function()
  t.raises(function() label.extension(nil) end, "table expected")
  t.raises(function() label.extension("x") end, "table expected")
  t.raises(function() label.extension({ titel = "x" }) end, '"titel"')
  t.raises(function() label.extension({ api_version = 3 }) end, "api_version")
  t.raises(function() label.extension({ title = true }) end, "title")
  t.raises(function() label.extension({ screenshots = 5 }) end, "screenshots")
  t.raises(function() label.extension({ screenshots = { alt = "a", url = "u" } }) end, "screenshots must be an array")
  t.raises(function() label.extension({ screenshots = { "https://a.example/1.png" } }) end, "screenshots[1]")
  t.raises(function() label.extension({ categories = { "volumes", 3 } }) end, "categories[2]")
  t.raises(function() label.extension({ "title" }) end, "unexpected key")
  t.raises(function() label.validate_extension(nil) end, "table expected")
  -- The error points at the caller, not inside the module.
  local err = t.raises(function() label.extension({ titel = "x" }) end)
  t.ok(err:find("test_label.lua", 1, true), err)
  err = t.raises(function() label.extension({ categories = { 1 } }) end)
  t.ok(err:find("test_label.lua", 1, true), err)
end)

t.test("a non-string label value is a problem, not a crash", function()
  local l = valid_labels()
  l[K.vendor] = 42
  one_problem(l, K.vendor, "is not a string")
end)

t.done()
