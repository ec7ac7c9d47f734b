-- hoist.dockerfile: the BuildKit parsing rules one case each, the expansion rules, .dockerignore
-- matching and its translation to exclude lists, and the translation of a final stage into an
-- extension description (rendered, loaded back and run).
local t = require("testlib")
local d = require("hoist.dockerfile")
local fs = require("hoist.fs")
local json = require("hoist.json")
local label = require("hoist.label")

local function parse(text) return d.parse(text) end
local function ins(text, i) return d.parse(text).instructions[i or 1] end
local function tr(text, opts) return d.translate(d.parse(text), opts) end
local function messages(list)
  local out = {}
  for _, p in ipairs(list) do out[#out + 1] = (p.line or "-") .. ": " .. p.message end
  return table.concat(out, "\n")
end
local function has(list, line, text)
  for _, p in ipairs(list) do
    if p.line == line and p.message:find(text, 1, true) then return true end
  end
  error(string.format("no problem/note at line %s containing %q in:\n%s", tostring(line), text, messages(list)), 2)
end
local function expand(word, vars) return (d.expand(word, vars or {})) end

-- a folder with files, removed at the end
local tmp = assert(fs.tmpdir("hoist-dockerfile-test"))
local function context(name, files)
  local dir = tmp .. "/" .. name
  for path, content in pairs(files) do
    local parent = (dir .. "/" .. path):match("^(.*)/[^/]*$")
    assert(fs.mkdir(parent))
    if content ~= true then assert(fs.write(dir .. "/" .. path, content)) else assert(fs.mkdir(dir .. "/" .. path)) end
  end
  return dir
end

-- ---- parsing: one case per BuildKit rule ----

t.test("parser directives: syntax and escape, then only comments", function()
  local p = parse("# syntax=docker/dockerfile:1.4\n#  ESCAPE = `\n# escape=\\\nFROM scratch\n")
  t.eq(p.directives.syntax, "docker/dockerfile:1.4")
  t.eq(p.escape, "`")
  t.eq(#p.problems, 1, "a second escape directive is a problem")
  t.ok(p.problems[1].message:find("only one escape", 1, true))
  -- a directive after a comment, a blank line or an instruction is an ordinary comment
  t.eq(parse("# hello\n# escape=`\nFROM scratch\n").escape, "\\")
  t.eq(parse("\n# escape=`\nFROM scratch\n").escape, "\\")
  t.eq(parse("FROM scratch\n# escape=`\n").escape, "\\")
  t.eq(#parse("# escape=x\nFROM scratch\n").problems, 1, "an invalid escape token")
end)

t.test("comments: whole lines only, and a byte-order mark and CRLF are dropped", function()
  local p = parse("\239\187\191# first\r\n  # indented comment\r\nRUN echo a # not a comment\r\n")
  t.eq(#p.instructions, 1)
  t.eq(p.instructions[1].rest, "echo a # not a comment")
  t.eq(p.instructions[1].line, 3)
end)

t.test("continuations: the escape char at the end, blank and comment lines inside skipped", function()
  local p = parse("FROM scratch\nLABEL a=1 \\\n\n   # inside\n      b=2\nRUN x\n")
  local label_ins = p.instructions[2]
  t.eq(label_ins.line, 2)
  t.eq(label_ins.end_line, 5)
  t.same(label_ins.pairs, { { key = "a", value = "1" }, { key = "b", value = "2" } })
  -- the continuation keeps the next line's leading blanks
  t.eq(ins("RUN a \\\n    b\n").rest, "a     b")
  -- with escape=` a backslash at the end is an ordinary character
  local q = parse("# escape=`\nRUN dir c:\\ `\n  /w\nCMD x\\\n")
  t.eq(q.instructions[1].rest, "dir c:\\   /w")
  t.eq(q.instructions[2].rest, "x\\")
  -- whitespace after the escape char still continues
  t.eq(ins("RUN a \\  \t\nb\n").rest, "a b")
end)

t.test("heredocs: recognised with their bodies, <<- strips tabs, quotes stop expansion", function()
  local p = parse("FROM scratch\nRUN <<EOF\necho a\n  echo b\nEOF\nCOPY <<-\"END\" /x\n\tline\n\tEND\nCMD y\n")
  local run = p.instructions[2]
  t.eq(run.line, 2)
  t.eq(run.end_line, 5)
  t.eq(#run.heredocs, 1)
  t.same({ run.heredocs[1].name, run.heredocs[1].content, run.heredocs[1].expand }, { "EOF", "echo a\n  echo b\n", true })
  local copy = p.instructions[3]
  t.same({ copy.heredocs[1].name, copy.heredocs[1].content, copy.heredocs[1].chomp, copy.heredocs[1].expand },
    { "END", "line\n", true, false })
  t.eq(p.instructions[4].line, 9, "lines after a heredoc keep their numbers")
  local bad = parse("FROM scratch\nRUN <<EOF\necho\n")
  t.eq(bad.problems[1].line, 2)
  t.ok(bad.problems[1].message:find("unterminated heredoc", 1, true))
  t.eq(ins("RUN echo '<<EOF'\n").heredocs, nil, "<< inside quotes is not a heredoc")
end)

t.test("exec (JSON) form versus shell form", function()
  local a = ins('CMD ["node", "server.js"]\n')
  t.same({ a.json, a.words }, { true, { "node", "server.js" } })
  local b = ins("CMD node server.js\n")
  t.same({ b.json, b.rest }, { false, "node server.js" })
  local c = ins("CMD [node, server.js]\n")
  t.same({ c.json, c.rest }, { false, "[node, server.js]" }, "not JSON: the shell form")
  local e = parse('CMD ["a", 1]\n')
  t.ok(e.problems[1].message:find("array of strings", 1, true))
  -- the whole text must be the array (BuildKit's json.Unmarshal): anything after it is the shell form
  local trailing = ins('CMD ["a", "b]"] trailing\n')
  t.same({ trailing.json, trailing.rest }, { false, '["a", "b]"] trailing' })
  local v = ins('VOLUME ["/a", "/b"]\n')
  t.same(v.words, { "/a", "/b" })
  t.same(ins("VOLUME /a /b\n").words, { "/a", "/b" })
end)

t.test("builder flags: --name=value before the arguments, quotes removed, -- ends them", function()
  local c = ins('COPY --from=build --chmod=0755 --chown="1000:1000" --link a b /x/\n')
  t.same(c.flags, {
    { name = "from", value = "build", raw = "--from=build" },
    { name = "chmod", value = "0755", raw = "--chmod=0755" },
    { name = "chown", value = "1000:1000", raw = "--chown=1000:1000" },
    { name = "link", raw = "--link" },
  })
  t.same(c.words, { "a", "b", "/x/" })
  t.same(ins("COPY -- --weird /x\n").words, { "--weird", "/x" })
end)

t.test("ENV and LABEL: K=V pairs with quotes, and the legacy K V form", function()
  t.same(ins('ENV K=V K2="v 2" K3=a\\ b\n').pairs,
    { { key = "K", value = "V" }, { key = "K2", value = '"v 2"' }, { key = "K3", value = "a\\ b" } })
  t.same(ins("ENV K the rest  of the line\n").pairs, { { key = "K", value = "the rest  of the line", legacy = true } })
  t.ok(parse("ENV K=V oops\n").problems[1].message:find("can't find =", 1, true))
  t.ok(parse("LABEL onlykey\n").problems[1].message:find("two arguments", 1, true))
end)

t.test("ARG: names with and without defaults, several on a line", function()
  t.same(ins('ARG A B=2 C="x y"\n').args_list, { { name = "A" }, { name = "B", value = "2" }, { name = "C", value = '"x y"' } })
end)

t.test("HEALTHCHECK: NONE, CMD in both forms, options as flags", function()
  t.same(ins("HEALTHCHECK NONE\n").health, { kind = "NONE" })
  local h = ins("HEALTHCHECK --interval=5s --retries=2 CMD curl -f http://x/ || exit 1\n")
  t.same(h.health, { kind = "CMD", json = false, rest = "curl -f http://x/ || exit 1" })
  t.eq(h.flags[1].value, "5s")
  t.same(ins('HEALTHCHECK CMD ["curl", "-f", "http://x/"]\n').health,
    { kind = "CMD", json = true, words = { "curl", "-f", "http://x/" } })
  t.ok(parse("HEALTHCHECK WHAT x\n").problems[1].message:find("unknown type", 1, true))
end)

t.test("unknown instructions are kept and marked; keywords are case-insensitive", function()
  local p = parse("from scratch\nFrobnicate now\n")
  t.eq(p.instructions[1].cmd, "from")
  t.eq(p.instructions[2].unknown, true)
  has(tr("from scratch\nFrobnicate now\n").problems, 2, "unknown instruction Frobnicate")
end)

-- ---- expansion ----

t.test("expansion: $VAR ${VAR} ${VAR:-d} ${VAR:+a} and the forms without ':'", function()
  local vars = { A = "x", E = "" }
  t.eq(expand("$A/${A}/$A_/${A}_", vars), "x/x//x_")
  t.eq(expand("${A:-d} ${B:-d} ${E:-d} ${E-d} ${B-d}", vars), "x d d  d")
  t.eq(expand("${A:+alt} [${B:+alt}] [${E:+alt}] ${E+set}", vars), "alt [] [] set")
  t.eq(expand("${B:-${A}-nested}", vars), "x-nested")
  t.eq(expand("$ alone, $1 and ${A}$", vars), "$ alone,  and x$")
  local none, err, kind = d.expand("${A:?must be set} ${B:?must be set}", vars)
  t.same({ none, err, kind }, { nil, "B: must be set", "EINVAL" })
  t.eq(select(2, d.expand("${A", vars)), "syntax error: missing '}'")
  t.eq(select(2, d.expand("${}", vars)), "syntax error: bad substitution")
  t.ok(select(2, d.expand("${A#x}", vars)):find("unsupported modifier", 1, true))
  local _, info = d.expand("$A $B ${C:-x}", vars)
  t.same(info.unset, { "B" }, "only plain references count as unset")
end)

t.test("expansion: quotes and the escape character", function()
  local vars = { A = "x" }
  t.eq(expand([['$A' "$A" \$A "a\"b" "a\nb" a\ b]], vars), [[$A x $A a"b a\nb a b]])
  t.eq(expand([["\$A \\ \x"]], vars), [[$A \ \x]])
  t.eq(select(2, d.expand([["open]], vars)), "unexpected end of statement while looking for matching double-quote")
  t.eq((d.expand("C:\\dir `$A", vars, "`")), "C:\\dir $A", "with escape=` a backslash is literal")
end)

t.test("expansion happens in FROM COPY ENV LABEL WORKDIR USER EXPOSE VOLUME STOPSIGNAL ARG, not RUN CMD", function()
  local r = tr([[
ARG BASE=alpine
FROM $BASE:3.20
ARG P=8080 DIR=/srv U=1000 SIG=SIGTERM
ENV HOME_DIR=$DIR
LABEL com.example.dir=$DIR
WORKDIR $DIR/app
USER $U
EXPOSE $P
VOLUME $DIR/data
STOPSIGNAL $SIG
COPY a $DIR/
CMD echo $DIR
ENTRYPOINT ["echo", "$DIR"]
]])
  local c = r.desc.config
  t.eq(r.desc.base, "alpine:3.20")
  t.same(c.env, { HOME_DIR = "/srv" })
  t.eq(r.desc.labels["com.example.dir"], "/srv")
  t.same({ c.workdir, c.user, c.stop_signal }, { "/srv/app", "1000", "SIGTERM" })
  t.same(c.exposed_ports, { "8080/tcp" })
  t.same(c.volumes, { "/srv/data" })
  t.same(r.desc.layers[1], { from = "a", to = "/srv/a" })
  t.same(c.entrypoint, { "echo", "$DIR" })
  t.eq(c.cmd, "echo $DIR", "CMD of the same stage stays next to the ENTRYPOINT")
end)

t.test("ENV: all pairs of one instruction see the environment from before it; ENV beats ARG", function()
  local r = tr("FROM scratch\nARG V=arg\nENV V=env\nENV A=one\nENV A=two B=$A C=$V\n")
  t.same(r.desc.config.env, { V = "env", A = "two", B = "one", C = "env" })
end)

t.test("ARG: global ARGs reach FROM only; a stage re-declares them; --build-arg overrides", function()
  local text = "ARG TAG=3.19\nARG ONLY_GLOBAL=g\nFROM alpine:$TAG\nARG TAG\nENV T=$TAG G=${ONLY_GLOBAL:-unset}\n"
  local r = tr(text)
  t.eq(r.desc.base, "alpine:3.19")
  t.same(r.desc.config.env, { T = "3.19", G = "unset" })
  local o = tr(text, { build_args = { TAG = "3.20" } })
  t.eq(o.desc.base, "alpine:3.20")
  t.same(o.desc.config.env, { T = "3.20", G = "unset" })
  t.eq(#o.problems, 0, messages(o.problems))
  local u = tr("FROM scratch\nARG MISSING\nENV X=$MISSING\n")
  has(u.problems, 3, "ARG MISSING (line 2) has no default")
  t.eq(#tr("FROM scratch\nARG MISSING\nENV X=$MISSING\n", { build_args = { MISSING = "m" } }).problems, 0)
  local n = tr("FROM scratch\nENV A=1\n", { build_args = { NOPE = "1" } })
  has(n.notes, nil, "--build-arg NOPE")
end)

t.test("a variable the Dockerfile never sets: empty over scratch, a problem over a base image", function()
  has(tr("FROM scratch\nENV X=$NOWHERE\n").notes, 2, "$NOWHERE is not set")
  has(tr("FROM alpine\nENV PATH=/app/bin:$PATH\n").problems, 2, "it may come from the base image alpine")
  t.eq(#tr("FROM alpine\nENV X=${MAYBE:-d}\n").problems, 0, "a default is fine")
end)

-- ---- .dockerignore ----

t.test(".dockerignore: cleaning, '**', parents, exceptions (patternmatcher semantics)", function()
  local p = d.ignore_patterns("# comment\n/secrets/\n**/*.map\nnode_modules\n*.md\n  !README.md  \n\nbuild/**\n")
  t.same((function()
    local o = {}
    for _, x in ipairs(p) do o[#o + 1] = (x.exclusion and "!" or "") .. x.pattern .. "@" .. x.line end
    return o
  end)(), { "secrets@2", "**/*.map@3", "node_modules@4", "*.md@5", "!README.md@6", "build/**@8" })
  t.eq(d.ignored(p, "secrets/key"), true, "a folder excludes what is under it")
  t.eq(d.ignored(p, "ui/app.js.map"), true)
  t.eq(d.ignored(p, "app.js.map"), true, "**/ matches no folder too")
  t.eq(d.ignored(p, "ui/node_modules/x"), false, "node_modules is anchored at the context")
  t.eq(d.ignored(p, "node_modules/x/y.js"), true)
  t.eq(d.ignored(p, "CHANGES.md"), true)
  t.eq(d.ignored(p, "README.md"), false, "re-included")
  t.eq(d.ignored(p, "ui/NOTES.md"), false, "*.md is anchored too")
  t.eq(d.ignored(p, "build"), false, "build/** does not match build itself")
  t.eq(d.ignored(p, "build/x"), true)
  t.eq(d.ignored(d.ignore_patterns("a?c\n[xy]z\n[^q]q\n"), "abc"), true)
  t.eq(d.ignored(d.ignore_patterns("a?c\n[xy]z\n[^q]q\n"), "yz"), true)
  t.eq(d.ignored(d.ignore_patterns("a?c\n[xy]z\n[^q]q\n"), "qq"), false)
end)

t.test(".dockerignore below a copied folder: the patterns that reach into it, relative to it", function()
  local p = d.ignore_patterns("**/*.map\nnode_modules\nui/node_modules\nui/*/tmp\n*.md\n!README.md\n")
  local below = d.ignore_below(p, "ui")
  t.same(below.patterns, { "**/*.map", "node_modules", "*/tmp" })
  t.eq(below.excluded, false)
  t.eq(#below.inexpressible, 0, "README.md is not below ui")
  local root = d.ignore_below(p, ".")
  t.same(root.patterns, { "**/*.map", "node_modules", "ui/node_modules", "ui/*/tmp", "*.md" })
  t.eq(#root.inexpressible, 1, "!README.md re-includes what *.md excludes")
  t.eq(root.inexpressible[1].line, 6)
  local gone = d.ignore_below(d.ignore_patterns("ui\n"), "ui/src")
  t.eq(gone.excluded, true, "a parent folder is excluded")
  local back = d.ignore_below(d.ignore_patterns("*\n!ui\n"), "ui")
  t.same({ back.excluded, back.patterns, #back.inexpressible }, { false, {}, 0 }, "an exception on the folder itself")
  -- an exception no earlier pattern reaches changes nothing
  t.eq(#d.ignore_below(d.ignore_patterns("*.map\n!keep.txt\n"), ".").inexpressible, 0)
end)

-- ---- translation ----

t.test("FROM: scratch is no base, an image is the base, --platform is dropped, TARGETARCH gives one per platform", function()
  t.eq(tr("FROM scratch\n").desc.base, nil)
  local r = tr("FROM --platform=$BUILDPLATFORM alpine:3.20 AS final\n")
  t.eq(r.desc.base, "alpine:3.20")
  has(r.notes, 1, "FROM --platform=$BUILDPLATFORM is dropped")
  t.same(tr("FROM acme/base-$TARGETARCH\n").desc.base,
    { ["linux/amd64"] = "acme/base-amd64", ["linux/arm64"] = "acme/base-arm64" })
  t.eq(tr("FROM docker.io/library/alpine@sha256:" .. string.rep("a", 64) .. "\n").desc.base,
    "docker.io/library/alpine@sha256:" .. string.rep("a", 64))
  has(tr("RUN x\nFROM scratch\n").problems, 1, "comes before the first FROM")
  has(tr("# nothing\n").problems, nil, "no FROM instruction")
end)

t.test("the final stage built on an earlier one brings its instructions along", function()
  local r = tr([[
FROM alpine AS base
ENV A=1
LABEL org.opencontainers.image.vendor=Acme
COPY a /a
CMD ["base"]
FROM scratch AS other
COPY nope /nope
FROM base
ENV B=2
COPY b /b
]])
  t.eq(r.desc.base, "alpine")
  t.same(r.desc.config.env, { A = "1", B = "2" })
  t.eq(r.desc.labels.vendor, "Acme")
  t.same(r.desc.layers, { { from = "a", to = "/a" }, { from = "b", to = "/b" } })
  t.same(r.desc.config.cmd, { "base" })
  t.eq(r.stage.line, 8)
end)

t.test("LABEL: friendly keys, JSON decoded, categories as a list only when exact, raw keys, later wins", function()
  local r = tr([[
FROM scratch
LABEL org.opencontainers.image.title="T1" com.docker.extension.screenshots="[{\"alt\":\"a\",\"url\":\"https://x/1.png\"}]"
LABEL org.opencontainers.image.title="T2" com.docker.extension.categories="volumes,utility-tools"
LABEL com.docker.extension.additional-urls="not json" org.opencontainers.image.source=https://x
LABEL version=1
]])
  local l = r.desc.labels
  t.eq(l.title, "T2")
  t.same(l.screenshots, { { alt = "a", url = "https://x/1.png" } })
  t.same(l.categories, { "volumes", "utility-tools" })
  t.eq(l.additional_urls, "not json")
  has(r.notes, 4, "is not a JSON array of {title, url}")
  t.eq(l["org.opencontainers.image.source"], "https://x")
  has(r.problems, 5, "LABEL version has no dot in its key")
  t.eq(l.vendor, "<fill in: who publishes it, e.g. your company>", "a missing required label is a placeholder")
  t.eq(tr("FROM scratch\nLABEL com.docker.extension.categories=\"a, b\"\n").desc.labels.categories, "a, b")
  -- what hoist.label makes of them
  local encoded = label.extension(tr("FROM scratch\nLABEL com.docker.extension.screenshots='[{\"url\": \"u\", \"alt\": \"a\"}]'\n").desc.labels)
  t.same(json.decode(encoded["com.docker.extension.screenshots"]), { { alt = "a", url = "u" } })
end)

t.test("COPY of local files: destinations, WORKDIR, several sources, folders, --chmod and --chown", function()
  local ctx = context("copy", { ["a.txt"] = "a", ["b.txt"] = "b", ["ui/index.html"] = "<p>", ["bin/x"] = "x", ["bin/.y"] = "y" })
  local r = tr([[
FROM scratch
COPY a.txt /etc/
COPY a.txt /etc/renamed
WORKDIR /app
COPY a.txt .
COPY a.txt b.txt sub/
COPY ui ui
COPY --chmod=755 --chown=1000 bin/* /usr/bin/
COPY --chown=root:0 a.txt /app
COPY ["b.txt", "/j son/"]
COPY --chmod=u+x a.txt /x
COPY --chown=node a.txt /y
]], { context = ctx })
  t.same(r.desc.layers, {
    { from = "a.txt", to = "/etc/a.txt" },
    { from = "a.txt", to = "/etc/renamed" },
    { from = "a.txt", to = "/app/a.txt" },
    { { from = "a.txt", to = "/app/sub/a.txt" }, { from = "b.txt", to = "/app/sub/b.txt" } },
    { from = "ui", to = "/app/ui" },
    { { from = "bin/.y", to = "/usr/bin/.y", mode = "0755", owner = "1000:1000" },
      { from = "bin/x", to = "/usr/bin/x", mode = "0755", owner = "1000:1000" } },
    { from = "a.txt", to = "/app/a.txt", owner = "0:0" },
    { from = "b.txt", to = "/j son/b.txt" },
    { from = "a.txt", to = "/x" },
    { from = "a.txt", to = "/y" },
  })
  has(r.problems, 11, "--chmod=u+x is not translated")
  has(r.problems, 12, "--chown=node is not translated")
  t.eq(#r.problems, 2, messages(r.problems))
  local m = tr("FROM scratch\nCOPY a.txt b.txt /dir\nCOPY missing.txt /\nCOPY ../up /\nCOPY *.none /x/\n", { context = ctx })
  has(m.problems, 2, "needs a destination ending in /")
  has(m.problems, 3, "missing.txt does not exist in the build context")
  has(m.problems, 4, "is outside the build context")
  has(m.problems, 5, "matches no file")
  t.eq(tr("FROM scratch\nCOPY a /x\n", { dir_prefix = "ctx" }).desc.layers[1].from, "ctx/a")
end)

t.test("COPY with TARGETARCH: ${arch} in from, each platform's file checked", function()
  local ctx = context("arch", { ["bin/amd64/s"] = "a" })
  local r = tr("FROM scratch\nARG TARGETARCH\nCOPY bin/$TARGETARCH/s /s\n", { context = ctx })
  t.same(r.desc.layers, { { from = "bin/${arch}/s", to = "/s" } })
  has(r.problems, 3, "bin/arm64/s does not exist")
  has(tr("FROM scratch\nARG TARGETARCH\nENV A=$TARGETARCH\n").problems, 3, "differs per platform")
end)

t.test(".dockerignore on COPY: folders get exclude lists, files and globs are checked at import", function()
  local ctx = context("ignore", { ["ui/a.js"] = "", ["ui/a.js.map"] = "", ["README.md"] = "", ["CHANGES.md"] = "",
    ["secret.txt"] = "" })
  local p = d.ignore_patterns("**/*.map\n*.md\n!README.md\nsecret.txt\n")
  local r = tr("FROM scratch\nCOPY ui /ui\nCOPY *.md /docs/\nCOPY secret.txt /\nCOPY . /all\n", { context = ctx, ignore = p })
  t.same(r.desc.layers[1], { from = "ui", to = "/ui", exclude = { "**/*.map" } })
  t.same(r.desc.layers[2], { from = "README.md", to = "/docs/README.md" })
  has(r.problems, 4, "secret.txt is excluded by .dockerignore")
  t.same(r.desc.layers[3], { from = ".", to = "/all", exclude = { "**/*.map", "*.md", "secret.txt" } })
  has(r.problems, 3, "the exception !README.md cannot be written")
  local f = tr("FROM scratch\nCOPY --exclude=*.txt ui /ui\n", { context = ctx })
  t.same(f.desc.layers[1], { from = "ui", to = "/ui", exclude = { "*.txt" } })
end)

t.test("COPY --chmod of a folder: folders inside it in another mode are a problem (docker sets them too)", function()
  local ctx = context("chmod-dirs", { ["tool/bin/x"] = "x", ["tool/y"] = "y", ["flat/z"] = "z", ["ui/a.js"] = "" })
  assert(fs.mkdir(ctx .. "/tool/lib", { mode = "0750" }))
  assert(fs.mkdir(ctx .. "/ui/node_modules/m", { mode = "0700" }))
  local p = d.ignore_patterns("ui/node_modules\n")
  local r = tr("FROM scratch\nCOPY --chmod=0750 tool /opt/tool/\nCOPY --chmod=0755 tool /t2/\n" ..
    "COPY --chmod=0750 flat /f/\nCOPY --chmod=0755 ui /ui\n", { context = ctx, ignore = p })
  has(r.problems, 2, "COPY --chmod=0750 of the folder tool: docker build gives the folders inside it mode 0750 too, " ..
    "hoist's mode sets files only and tool/bin keeps 0755; chmod 0750 those folders")
  has(r.problems, 3, "tool/lib keeps 0750")
  t.eq(#r.problems, 2, "a folder without folders inside, and folders .dockerignore leaves out, are fine: " .. messages(r.problems))
  t.same(r.desc.layers[1], { from = "tool", to = "/opt/tool", mode = "0750" }, "still translated")
end)

t.test("a title no LABEL gives says where it comes from in extension.lua", function()
  local text = d.render(tr("FROM scratch\n", { default_title = "zoo" }))
  t.ok(text:find('\n    title = "zoo", %-%- not in the Dockerfile: the folder\'s name\n'), text)
  text = d.render(tr('FROM scratch\nLABEL org.opencontainers.image.title="Zoo"\n', { title = "Other" }))
  t.ok(text:find('\n    title = "Other", %-%- from %-%-title\n'), text)
  text = d.render(tr('FROM scratch\nLABEL org.opencontainers.image.title="Zoo"\n', { default_title = "zoo" }))
  t.ok(text:find('\n    title = "Zoo", %-%- Dockerfile:2\n'), text)
end)

t.test("ADD: a URL and a local archive are problems, other files are copied", function()
  local ctx = context("add", { ["plain.txt"] = "text", ["a.tar.gz"] = "\31\139\8\0rest", ["t.tar"] = string.rep("\0", 257) .. "ustar\0" })
  local r = tr("FROM scratch\nADD https://example.com/x.tgz /opt/\nADD a.tar.gz /opt/\nADD t.tar /opt/\nADD plain.txt /opt/\n",
    { context = ctx })
  has(r.problems, 2, "ADD of the URL https://example.com/x.tgz is not translated")
  has(r.problems, 3, "ADD of the gzip archive a.tar.gz is not translated")
  has(r.problems, 4, "ADD of the tar archive t.tar")
  t.same(r.desc.layers, { { from = "plain.txt", to = "/opt/plain.txt" } })
end)

t.test("COPY --from: build-output folders, ${arch} for stages built per platform, the hook", function()
  local r = tr([[
FROM golang:1.21 AS gobuild
RUN go build -o /out/service
FROM --platform=$BUILDPLATFORM node:20 AS ui
RUN npm run build
FROM --platform=$BUILDPLATFORM golang:1.21 AS cross
ARG TARGETARCH
RUN GOARCH=$TARGETARCH go build -o /out/tool
FROM --platform=$BUILDPLATFORM alpine AS uses-gobuild
COPY --from=gobuild /out/service /s
FROM scratch
COPY --from=gobuild /out/service /
COPY --from=ui /app/build ui
COPY --from=cross /out/tool /bin/tool
COPY --from=3 /s /s2
COPY --from=busybox:1.36 /bin/busybox /bin/
COPY --from=ui /app/*.js /js/
]])
  t.same(r.desc.layers, {
    { from = "build/gobuild/${arch}/out/service", to = "/" },
    { from = "build/ui/app/build", to = "/ui" },
    { from = "build/cross/${arch}/out/tool", to = "/bin/tool" },
    { from = "build/uses-gobuild/${arch}/s", to = "/s2" },
    { from = "build/image/busybox-1.36/${arch}/bin/busybox", to = "/bin/" },
  })
  has(r.problems, 16, "is not translated: name the files")
  local stages = {}
  for _, bs in ipairs(r.build_stages) do stages[#stages + 1] = bs.name .. (bs.per_platform and "*" or "") end
  t.same(stages, { "gobuild*", "ui", "cross*", "uses-gobuild*" })
  t.eq(#r.images, 1)
  t.eq(#r.problems, 1, messages(r.problems))
end)

t.test("RUN: a problem in the final stage and in the stages it is built on, with a placeholder", function()
  local r = tr("FROM alpine AS base\nRUN apk add curl\nFROM base\nRUN <<EOF\necho hi\nEOF\nCOPY a /a\n")
  has(r.problems, 2, "RUN cannot be reproduced by hoist")
  has(r.problems, 4, "RUN cannot be reproduced by hoist")
  t.eq(#r.layer_items, 3)
  t.ok(r.layer_items[1].placeholder:find("<fill in:", 1, true))
  t.same(r.desc.layers, { { from = "a", to = "/a" } })
  has(tr("FROM scratch\nCOPY <<EOF /x\nhi\nEOF\n").problems, 2, "with a heredoc (<<EOF) is not translated")
end)

t.test("CMD and ENTRYPOINT: both forms, SHELL, ENTRYPOINT clearing an inherited CMD", function()
  local c = tr('FROM scratch\nCMD node server.js\nENTRYPOINT ["/init"]\n').desc.config
  t.same({ c.cmd, c.entrypoint }, { "node server.js", { "/init" } }, "CMD of the same stage stays")
  local e = tr('FROM alpine\nENTRYPOINT /service -v\n')
  t.same({ e.desc.config.entrypoint, e.desc.config.cmd }, { "/service -v", {} }, "the base's CMD is cleared")
  local s = tr('FROM scratch\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nCMD echo $HOME | cat\n')
  t.same(s.desc.config.cmd, { "/bin/bash", "-o", "pipefail", "-c", "echo $HOME | cat" })
  has(s.notes, 3, "runs with the SHELL of")
  t.eq(tr('FROM scratch\nSHELL ["/bin/sh", "-c"]\nCMD a\n').desc.config.cmd, "a")
  has(tr("FROM scratch\nSHELL /bin/bash -c\n").problems, 2, "SHELL needs the JSON form")
end)

t.test("EXPOSE VOLUME STOPSIGNAL HEALTHCHECK WORKDIR USER ONBUILD MAINTAINER", function()
  local r = tr([[
FROM scratch
EXPOSE 80 53/udp 80/tcp 443/TCP
EXPOSE 8000-8010 http
VOLUME ["/data"]
VOLUME /cache /data
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=30s --timeout=5s --start-period=1m --start-interval=2s --retries=3 CMD ["curl", "-f", "http://localhost/"]
WORKDIR /srv
WORKDIR app/../www
USER 1000:1000
ONBUILD RUN make
MAINTAINER someone
]])
  local c = r.desc.config
  t.same(c.exposed_ports, { "80/tcp", "53/udp", "443/tcp" })
  has(r.problems, 3, "port range 8000-8010 is not translated")
  has(r.problems, 3, "EXPOSE http is not a port")
  t.same(c.volumes, { "/data", "/cache" })
  t.eq(c.stop_signal, "SIGQUIT")
  t.same(c.healthcheck, { test = { "CMD", "curl", "-f", "http://localhost/" }, interval = "30s", timeout = "5s",
    start_period = "1m", start_interval = "2s", retries = 3 })
  t.eq(c.workdir, "/srv/www")
  has(r.notes, 9, "docker build makes the WORKDIR folder /srv/www")
  t.eq(c.user, "1000:1000")
  has(r.notes, 11, "ONBUILD is dropped")
  has(r.notes, 12, "MAINTAINER is dropped")
  has(tr("FROM alpine AS base\nONBUILD COPY . /app\nFROM base\n").problems, 2, "ONBUILD in a stage the final one is built on")
  t.same(tr("FROM scratch\nHEALTHCHECK NONE\n").desc.config.healthcheck, { test = { "NONE" } })
  t.same(tr("FROM scratch\nHEALTHCHECK CMD wget -q x || exit 1\n").desc.config.healthcheck,
    { test = { "CMD-SHELL", "wget -q x || exit 1" } })
end)

t.test("import: a Dockerfile's own NAME.dockerignore comes before .dockerignore", function()
  local ctx = context("own-ignore", { ["app.Dockerfile"] = "FROM scratch\nCOPY ui /ui\n",
    ["app.Dockerfile.dockerignore"] = "**/*.map\n", [".dockerignore"] = "**/*.log\n", ["ui/a.js"] = "" })
  local own = assert(d.import(ctx .. "/app.Dockerfile", ctx))
  t.same(own.desc.layers, { { from = "ui", to = "/ui", exclude = { "**/*.map" } } })
  assert(fs.write(ctx .. "/Dockerfile", "FROM scratch\nCOPY ui /ui\n"))
  local plain = assert(d.import(ctx .. "/Dockerfile", ctx))
  t.same(plain.desc.layers, { { from = "ui", to = "/ui", exclude = { "**/*.log" } } })
  t.ok(plain.text:find('{ from = "ui", to = "/ui", exclude = { "**/*.log" } },', 1, true))
end)

t.test("options are checked; misuse raises", function()
  t.raises(function() tr("FROM scratch\n", { nope = 1 }) end, "unknown option nope")
  t.raises(function() d.parse(42) end, "string expected")
  t.raises(function() d.expand("x", 1) end, "lookup must be")
  t.raises(function() d.render({}) end, "dockerfile.translate expected")
  t.raises(function() d.import("Dockerfile", tmp, { frob = true }) end, "unknown option frob")
  local none, err, kind = d.import(tmp .. "/nope/Dockerfile", tmp)
  t.same({ none, kind }, { nil, "ENOENT" })
  t.ok(err:find("nope", 1, true))
end)

-- ---- rendering ----

local SDK = [[
FROM golang:1.21-alpine AS builder
WORKDIR /backend
COPY backend/. .
RUN go build -o bin/service
FROM --platform=$BUILDPLATFORM node:18 AS client-builder
WORKDIR /ui
COPY ui /ui
RUN npm run build
FROM alpine
LABEL org.opencontainers.image.title="Demo" \
    com.docker.extension.detailed-description="<p>A \"demo\"\
 with HTML</p>" \
    com.docker.extension.screenshots="[{\"alt\":\"a\",\"url\":\"https://x/1.png\"}]"
ENV MODE=prod
COPY --from=builder /backend/bin/service /
COPY metadata.json .
COPY --from=client-builder /ui/build ui
CMD /service -socket /run/guest-services/backend.sock
]]

t.test("render: valid Lua that returns the description, the same text every time", function()
  local ctx = context("sdk", { ["metadata.json"] = "{}" })
  local r = tr(SDK, { context = ctx, name = "acme/demo" })
  t.eq(#r.problems, 0, messages(r.problems))
  local text = d.render(r)
  t.eq(d.render(tr(SDK, { context = ctx, name = "acme/demo" })), text, "deterministic")
  local chunk = assert(load(text, "=extension.lua", "t", setmetatable({}, { __index = _G })))
  local desc = chunk()
  t.eq(desc.name, "acme/demo")
  t.eq(desc.base, "alpine")
  t.same(desc.labels, r.desc.labels)
  t.eq(desc.labels.detailed_description, '<p>A "demo" with HTML</p>')
  t.same(desc.layers, r.desc.layers)
  t.same(desc.config, { env = { MODE = "prod" }, cmd = "/service -socket /run/guest-services/backend.sock" })
  t.ok(text:find("-- Dockerfile:15: COPY --from=builder /backend/bin/service /", 1, true), "layers name their line")
  t.ok(text:find("MODE = \"prod\", -- Dockerfile:14", 1, true))
  t.ok(text:find("Dockerfile:4 +RUN go build %-o bin/service"), "the hook comment lists the stage's RUN")
  t.ok(text:find("it must leave /ui/build at build/client-builder/ui/build", 1, true))
  local ok, errs = label.validate_extension(label.extension(desc.labels))
  t.eq(ok, false, "placeholders are left for the missing labels")
  t.ok(#errs > 0)
end)

t.test("render: the before_build stub stops naming what is missing, passes once it is there", function()
  local ctx = context("hook", { ["metadata.json"] = "{}" })
  local desc = assert(load(d.render(tr(SDK, { context = ctx })), "=x", "t", setmetatable({}, { __index = _G })))()
  local hook = desc.hooks.before_build
  local run_ctx = { dir = ctx, platforms = { "linux/amd64", "linux/arm64" } }
  local ok, err = pcall(hook, run_ctx)
  t.eq(ok, false)
  t.eq(err, "build/builder/amd64/backend/bin/service is missing (stage builder, Dockerfile:15): " ..
    "build it first; see before_build in extension.lua")
  for _, arch in ipairs({ "amd64", "arm64" }) do
    assert(fs.mkdir(ctx .. "/build/builder/" .. arch .. "/backend/bin"))
    assert(fs.write(ctx .. "/build/builder/" .. arch .. "/backend/bin/service", "x"))
  end
  ok, err = pcall(hook, run_ctx)
  t.eq(err, "build/client-builder/ui/build is missing (stage client-builder, Dockerfile:17): " ..
    "build it first; see before_build in extension.lua")
  assert(fs.mkdir(ctx .. "/build/client-builder/ui/build"))
  t.eq(pcall(hook, run_ctx), true)
end)

t.test("render: odd strings stay valid Lua", function()
  local r = tr('FROM scratch\nLABEL "com.example.k\\"q"="a\\\\b\tc" com.example.ctl="x\\]]y" end.x=1\n')
  local desc = assert(load(d.render(r), "=x", "t", {}))()
  t.eq(desc.labels['com.example.k"q'], "a\\b\tc")
  t.eq(desc.labels["com.example.ctl"], "x\\]]y", "a backslash before ] stays in double quotes")
  t.eq(desc.labels["end.x"], "1")
end)

fs.remove(tmp)
t.done()
