-- hoist.release: the flow behind `hoist release`, in steps a script can call or replace:
-- load, resolve_version, validate, check_existing, build, publish, report. Each step takes the
-- release context and fills it; expected failures come back as nil, message, exit code.
local cli = require("hoist.cli")
local endpoint = require("hoist.endpoint")
local extension = require("hoist.extension")
local fs = require("hoist.fs")
local keys = require("hoist.keys")
local oci = require("hoist.oci")
local publish = require("hoist.publish")
local ref = require("hoist.ref")
local semver = require("hoist.semver")

local release = {}

local VERSION_LABEL = "org.opencontainers.image.version"
local CREATED_LABEL = "org.opencontainers.image.created"
local REVISION_LABEL = "org.opencontainers.image.revision"
local BASE_NAME = "org.opencontainers.image.base.name"
local BASE_DIGEST = "org.opencontainers.image.base.digest"

-- expected failures: nil, message, kind (see hoist.cli.KINDS)
local function fail(kind, msg) return nil, msg, kind end

--[[
A new release context. opts: { dir = ".", version = "1.2.0" | bump = "minor" | "prerelease:rc",
to = "oci:dist/oci", platforms = {"linux/amd64", ...}, latest, float, force, dry_run,
push_by_digest, creds, insecure, parallel, sdk = "0.3.4", private, strict, authfile = FILE
(credentials looked up there first, like skopeo's --authfile), sign = KEY FILE (the index and
every platform manifest signed; the key is loaded before anything is built), identity = HOST/REPO
(what a layout release is signed as), sbom = bool, provenance = bool (default: true for a
registry, false elsewhere), labels = { KEY = VALUE } (extra labels), tags = { TAG, ... } (extra
tags; a semver one is immutable like the version) }. An unknown key raises: `dryrun = true` must
not publish for real.
]]
release.OPTIONS = { "dir", "version", "bump", "to", "platforms", "latest", "float", "force", "dry_run",
                    "push_by_digest", "creds", "insecure", "parallel", "sdk", "private", "strict",
                    "authfile", "sign", "identity", "sbom", "provenance", "labels", "tags" }
function release.context(opts)
  opts = keys.options(opts, release.OPTIONS, "release.context")
  return { opts = opts, dir = opts.dir or ".", problems = {}, warnings = {} }
end

-- A tag as the distribution spec allows it: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}.
function release.valid_tag(t)
  return type(t) == "string" and #t <= 128 and t:match("^[%w_][%w._-]*$") ~= nil
end

-- Labels hoist sets or checks itself: --label cannot set them (that would bypass validation).
local function reserved_label(k)
  return k:match("^com%.docker%.extension%.") or k:match("^com%.docker%.desktop%.extension%.")
    or k == VERSION_LABEL or k == CREATED_LABEL or k == REVISION_LABEL or k == BASE_NAME or k == BASE_DIGEST
    or k == "org.opencontainers.image.title" or k == "org.opencontainers.image.description"
    or k == "org.opencontainers.image.vendor"
end

-- What the options ask that can be refused before anything is read: extra labels and tags.
local function check_extras(ctx)
  local o = ctx.opts
  for k, v in pairs(o.labels or {}) do
    if type(k) ~= "string" or k == "" or type(v) ~= "string" then
      return fail("EUSAGE", "a label is KEY=VALUE, got '" .. tostring(k) .. "'")
    end
    if reserved_label(k) then
      return fail("EUSAGE", "label '" .. k .. "' is set by hoist from extension.lua and checked there; " ..
        "--label adds other labels")
    end
  end
  for _, t in ipairs(o.tags or {}) do
    if not release.valid_tag(t) then
      return fail("EUSAGE", "invalid tag '" .. tostring(t) .. "' (letters, digits, '_', '.', '-'; 128 at most)")
    end
    if t == "latest" then return fail("EUSAGE", "use --latest for 'latest': it only moves forward") end
  end
  if o.tags and #o.tags > 0 and o.push_by_digest then
    return fail("EUSAGE", "--tag and --push-by-digest: a push by digest writes no tag")
  end
  return true
end

function release.load(ctx)
  local ok, xerr, xkind = check_extras(ctx)
  if not ok then return nil, xerr, xkind end
  -- the signing key first: a missing key, a wrong password or a key of the wrong type stops the
  -- release before the extension runs, anything is built, or the destination is touched
  if ctx.opts.sign then
    local key, kerr, kkind = require("hoist.attach").load_key(ctx.opts.sign)
    if not key then return fail(kkind, kerr) end
    ctx.key = key
  end
  local desc, err = extension.load(ctx.dir)
  if not desc then return fail("EINVAL", err) end
  ctx.desc = desc
  local dest, derr = ref.parse(ctx.opts.to or "oci:dist/oci", { default_name = desc.name })
  if not dest then return fail("EUSAGE", derr) end
  if (dest.transport == "oci" or dest.transport == "docker") and (dest.tag or dest.digest) then
    return fail("EUSAGE", "give the destination without a tag ('" .. dest.display .. "'): the version is the tag")
  end
  if dest.transport == "docker-archive" then
    if ctx.opts.sign or ctx.opts.sbom or ctx.opts.provenance then
      return fail("EUSAGE", "a docker-archive holds no signature or attestation: --sign, --sbom and --provenance " ..
        "need a registry or an OCI layout")
    end
    if ctx.opts.tags and #ctx.opts.tags > 0 then
      return fail("EUSAGE", "a docker-archive has one name: give it in the destination (docker-archive:FILE:REPO:TAG)")
    end
  end
  if dest.transport == "oci" and ctx.key and not ctx.opts.identity then
    return fail("EUSAGE", "signing a release into " .. dest.display .. " needs --identity HOST/REPO " ..
      "(the repository it will be published as)")
  end
  -- attestations: on by default for a registry (what a pull finds), asked for elsewhere
  local default = dest.transport == "docker"
  ctx.want_sbom = ctx.opts.sbom == nil and default or ctx.opts.sbom == true
  ctx.want_provenance = ctx.opts.provenance == nil and default or ctx.opts.provenance == true
  if dest.transport == "docker" then
    -- --creds USER:PASS, else what docker/podman login stored (hoist.auth)
    local ep, cerr, ccode = endpoint.open(dest, { creds = ctx.opts.creds, insecure = ctx.opts.insecure,
                                                  parallel = ctx.opts.parallel, authfile = ctx.opts.authfile })
    if not ep then return fail(ccode or "EIO", cerr) end
    ctx.endpoint = ep
    ctx.client = ep.client
  end
  ctx.dest = dest
  if dest.transport == "docker-archive" then
    -- docker load takes one platform: the one asked for, else this machine's
    ctx.single_platform = true
    if not ctx.opts.platforms then ctx.opts.platforms = { require("hoist.host").platform } end
    if #ctx.opts.platforms ~= 1 then
      return fail("EUSAGE", "a docker-archive holds one platform: give one with --platform (e.g. linux/amd64)")
    end
  end
  return true
end

-- Tags already at the destination (none for a file destination, or a layout not made yet); a
-- destination whose tags cannot be read is an error (nil, message, code), never "no tags".
function release.existing_tags(ctx)
  if ctx.dest.transport == "oci" then
    if not fs.exists(ctx.dest.dir .. "/oci-layout") then return {} end
    local store, err = oci.layout(ctx.dest.dir, { create = false })
    if not store then return nil, err, "EINVAL" end
    local tags, terr = store:tags()
    if not tags then return nil, "cannot read the tags of " .. ctx.dest.display .. ": " .. tostring(terr), "EIO" end
    return tags
  elseif ctx.dest.transport == "docker" then
    if not ctx.remote_tags then
      local tags, err, code = ctx.client:tags(ctx.dest.repository)
      if not tags then return nil, err, code end
      ctx.remote_tags = tags
    end
    return ctx.remote_tags
  end
  return {}
end

function release.resolve_version(ctx)
  local o = ctx.opts
  local v
  if o.version then
    v = o.version:gsub("^v", "")
    if not semver.valid(v) then
      ctx.problems[#ctx.problems + 1] = "version '" .. o.version .. "' is not a valid semantic version (like 1.2.0)"
      return true
    end
  elseif o.bump then
    local kind, id = o.bump:match("^(%a+):?(.*)$")
    local kinds = { major = true, minor = true, patch = true, prerelease = true }
    if not kinds[kind] then
      return fail("EUSAGE", "--bump must be major, minor, patch or prerelease[:ID], got '" .. o.bump .. "'")
    end
    local tags = {}
    local existing, terr, tkind = release.existing_tags(ctx)
    if not existing then return fail(tkind or "EREMOTE", terr) end
    for _, t in ipairs(existing) do
      if semver.valid(t) then tags[#tags + 1] = t end
    end
    local highest = #tags > 0 and semver.rsort(tags)[1] or "0.0.0"
    v = semver.inc(highest, kind, id ~= "" and id or nil)
    if not v then return fail("EUSAGE", "cannot bump '" .. highest .. "' by '" .. o.bump .. "'") end
  else
    return fail("EUSAGE", "give --version V or --bump major|minor|patch|prerelease[:ID]")
  end
  local parsed = semver.parse(v)
  ctx.version = tostring(parsed)      -- with build metadata: the label and annotation
  ctx.tag = parsed.version            -- without: '+' cannot be in a tag
  return true
end

local layer_specs

-- "'examples/hello-extension'" as given; "'.' (hello-extension)" for the current folder.
local function folder_name(dir)
  local real = (dir == "." or dir == "./") and fs.realpath(dir)
  local base = real and real:match("([^/]+)/*$")
  return "'" .. dir .. "'" .. (base and (" (" .. base .. ")") or "")
end

-- Whether a layer has a source the before_build hook has yet to produce (a dry run).
local function layer_pending(layer)
  for _, e in ipairs(layer.inputs) do if e.pending then return true end end
  return false
end

function release.validate(ctx)
  local platforms = ctx.opts.platforms
  local hooks = ctx.desc.hooks
  -- base images: resolved here (manifests and configs only); their layers are looked into only
  -- when a file metadata.json names is not in the extension's own layers, and never in a dry run
  if ctx.desc.base ~= nil and not ctx.base_session then
    ctx.base_session = require("hoist.base").session({ insecure = ctx.opts.insecure, authfile = ctx.opts.authfile })
  end
  local bs = ctx.base_session
  local plan, problems, warnings = extension.check(ctx.desc, {
    platforms = platforms, single_platform = ctx.opts.push_by_digest or ctx.single_platform,
    private = ctx.opts.private, sdk = ctx.opts.sdk,
    -- a dry run does not run before_build: what it would produce is not there yet
    pending = ctx.opts.dry_run and type(hooks) == "table" and type(hooks.before_build) == "function",
    resolve_base = bs and function(ref_s, pname) return bs:resolve(ref_s, pname) end,
    base_lookup = bs and not ctx.opts.dry_run and function(r) return bs:lookup(r) end,
  })
  ctx.plan = plan
  if plan.base_failure then return fail(plan.base_failure[2] or "EREMOTE", plan.base_failure[1]) end
  for _, p in ipairs(problems) do ctx.problems[#ctx.problems + 1] = p end
  ctx.warnings = ctx.warnings or {}
  for _, w in ipairs(warnings or {}) do
    if ctx.opts.strict then ctx.problems[#ctx.problems + 1] = w else ctx.warnings[#ctx.warnings + 1] = w end
  end
  local pending = false
  for _, view in ipairs(plan.platforms or {}) do if view.pending then pending = true end end
  if #ctx.problems == 0 and not pending then
    -- the files are walked now, so that what cannot go into a layer (a FIFO, a device, a name
    -- that is not UTF-8) is a problem of the extension found by validation and --dry-run; the
    -- build reuses these plans
    local epoch, eerr = oci.source_date_epoch()
    if not epoch then return fail("EUSAGE", eerr) end
    ctx.epoch = epoch
    ctx.layer_specs, ctx.layer_owner = layer_specs(ctx)
    local set, perr, _, failed = oci.plan(ctx.layer_specs, { mtime = epoch, root = fs.realpath(ctx.dir) })
    if not set then
      local o = failed and ctx.layer_owner[failed]
      local view = o and plan.platforms[o.platform]
      ctx.problems[#ctx.problems + 1] = (view and string.format("extension.lua: layer %d (%s): ",
        view.layers[o.layer].index or o.layer, view.name) or "") .. tostring(perr)
    else
      ctx.layer_plans = set
    end
  end
  if #ctx.problems > 0 then
    return fail("EINVAL", string.format("%d problem%s found in %s; nothing was built",
      #ctx.problems, #ctx.problems == 1 and "" or "s", folder_name(ctx.dir)))
  end
  return true
end

--[[
What the version tag points at before anything is built: ctx.seen_version = digest, or false.
An existing tag is not refused yet: a release killed between its tag writes is run again with the
same inputs, builds the same digest and then only finishes the missing tags (release.
check_same). Tags that cannot be read stop the release here.
]]
function release.check_existing(ctx)
  if ctx.opts.push_by_digest then return true end
  local existing, err, kind = release.existing_tags(ctx)
  if not existing then return fail(kind or "EREMOTE", err) end
  ctx.seen_version = false
  for _, t in ipairs(existing) do
    if t == ctx.tag then
      local d, terr = release.destination_view(ctx).target(t)
      if d == nil and terr then return fail("EREMOTE", terr) end
      ctx.seen_version = d or false
    end
  end
  return true
end

-- Once built: an existing version tag must point at exactly this release, unless --force.
function release.check_same(ctx)
  if ctx.opts.force or not ctx.seen_version or ctx.seen_version == ctx.index.digest then return true end
  return fail("ECONFLICT", string.format("tag '%s' already exists at %s as %s, not this release's %s " ..
    "(use --force to replace it)", ctx.tag, ctx.dest.display, ctx.seen_version:sub(1, 19), ctx.index.digest:sub(1, 19)))
end

-- The git revision of the extension folder, read from .git without running git.
function release.git_revision(dir)
  local d = fs.realpath(dir)
  while d do
    local git = d .. "/.git"
    local head = fs.read(git .. "/HEAD")
    if head then
      head = head:gsub("%s+$", "")
      local refname = head:match("^ref: (.+)$")
      if not refname then return head:match("^%x+$") end
      local sha = fs.read(git .. "/" .. refname)
      if sha then return (sha:gsub("%s+$", "")) end
      local packed = fs.read(git .. "/packed-refs") or ""
      for line in packed:gmatch("[^\n]+") do
        local s, r = line:match("^(%x+) (.+)$")
        if r == refname then return s end
      end
      return nil
    end
    if d == "/" then return nil end
    d = d:match("^(.*)/[^/]*$")
    if d == "" then d = "/" end
  end
end

--[[
The time of the last commit of the extension folder's git repository (seconds since the epoch),
for `created` when SOURCE_DATE_EPOCH is unset: reproducible (the same commit gives the same time)
and meaningful, unlike 1970. git stores commits zlib-compressed, loose or packed, so this asks
`git log -1 --format=%ct` (through hoist.exec); nil when git is not installed or DIR is not in a
repository.
]]
function release.commit_time(dir)
  local ok, exec = pcall(require, "hoist.exec")
  if not ok then return nil end
  local r = exec.run({ "git", "-C", dir, "log", "-1", "--format=%ct", capture = true, timeout = 30 })
  if not r or not r.ok then return nil end
  local t = math.tointeger(tonumber((r.stdout or ""):match("^%s*(%d+)%s*$")))
  return t
end

--[[
The time written as `created` (image configs, the created label and annotation, SBOM and
provenance): SOURCE_DATE_EPOCH when set, else the last commit's time, else 0. Files in layers keep
SOURCE_DATE_EPOCH (default 0) as their mtime, so an unchanged layer keeps its digest from one
commit to the next. Returns epoch, or nil, message.
]]
function release.created_epoch(ctx)
  if ctx.created_epoch then return ctx.created_epoch end
  local v = os.getenv("SOURCE_DATE_EPOCH")
  if v and v ~= "" then
    local epoch, err = oci.source_date_epoch()
    if not epoch then return nil, err end
    ctx.created_epoch, ctx.created_from = epoch, "SOURCE_DATE_EPOCH"
  else
    local t = release.commit_time(ctx.dir)
    ctx.created_epoch, ctx.created_from = t or 0, t and "commit" or nil
  end
  return ctx.created_epoch
end

layer_specs = function(ctx)
  local specs, owner = {}, {}
  for pi, view in ipairs(ctx.plan.platforms) do
    for li, layer in ipairs(view.layers) do
      local inputs = {}
      for _, e in ipairs(layer.inputs) do
        -- source: for messages, as extension.lua spelled it with ${arch} and friends expanded
        inputs[#inputs + 1] = { from = e.from, to = e.to, mode = e.mode, owner = e.owner, exclude = e.exclude,
                                source = e.source and extension.expand(e.source, view.platform) }
      end
      -- over a base, folders the entries only imply are left to the base (/root stays 0700)
      specs[#specs + 1] = { inputs = inputs, compression = ctx.desc.compression,
                            parents = not (ctx.plan.base and ctx.plan.base[view.name]) }
      owner[#specs] = { platform = pi, layer = li }
    end
  end
  return specs, owner
end

function release.build(ctx)
  local epoch = ctx.epoch
  if not epoch then
    local eerr
    epoch, eerr = oci.source_date_epoch()
    if not epoch then return fail("EUSAGE", eerr) end
    ctx.epoch = epoch
  end
  local store
  if ctx.dest.transport == "oci" then
    store = ctx.dest.dir
  else
    store = ctx.staging or fs.tmpdir("hoist-release")
    ctx.staging = store
  end
  local layout, lerr = oci.layout(store)
  if not layout then return fail("EIO", lerr) end
  ctx.store = layout

  local specs, owner = ctx.layer_specs, ctx.layer_owner
  if not specs or not ctx.layer_plans then specs, owner = layer_specs(ctx) end
  -- to a registry, every layer that has to be built is uploaded while it is compressed (a push
  -- stream: its own upload threads, chunked uploads that follow the blob file as it grows);
  -- cached layers, base layers and configs go in release.push as before
  local push = ctx.push_stream
  if not push and ctx.dest.transport == "docker" and os.getenv("HOIST_PUSH_STREAM") ~= "0" then
    local perr, pkind
    push, perr, pkind = ctx.client:push_stream(ctx.dest.repository, { parallel = ctx.opts.parallel })
    if not push then return fail(pkind or "EIO", perr) end
    ctx.push_stream = push
  end
  -- bytes of file content read into the layers being built, on a terminal, once the build has
  -- taken a second (4 calls come 250 ms apart): a quick build draws nothing
  local build_bar, ticks = nil, 0
  local function build_progress(p)
    ticks = ticks + 1
    if not build_bar and not p.done and ticks >= 4 then
      build_bar = require("hoist.log").progress("building layers", p.total_bytes, { unit = "bytes", tty_only = true })
    end
    if build_bar then build_bar:update(p.read_bytes) end
  end
  local layers, err, lkind = oci.layers(layout, specs, { mtime = epoch, root = fs.realpath(ctx.dir),
                                                  private = ctx.staging ~= nil, push = push,
                                                  progress = build_progress,
                                                  -- file hashes only when an SBOM will want them
                                                  files = ctx.want_sbom and true or false,
                                                  plans = specs == ctx.layer_specs and ctx.layer_plans or nil })
  if build_bar then build_bar:finish() end
  if not layers then
    local kinds = { EINVAL = true, EREMOTE = true, EAUTH = true, EINTR = true }
    return fail(kinds[lkind] and lkind or "EIO", err)
  end
  local per_platform = {}
  ctx.built_bytes = 0
  ctx.streamed = {}
  for i, d in ipairs(layers) do
    local o = owner[i]
    per_platform[o.platform] = per_platform[o.platform] or {}
    per_platform[o.platform][o.layer] = d
    if d.written then ctx.built_bytes = ctx.built_bytes + d.size end
    if d.streamed then ctx.streamed[d.digest] = d end
    local view = ctx.plan.platforms[o.platform]
    ctx.layer_names = ctx.layer_names or {}
    ctx.layer_names[d.digest] = ctx.layer_names[d.digest] or
      string.format("%s layer %d %s", view and view.name or "?", o.layer, oci.describe_spec(specs[i]))
  end

  local labels = {}
  for k, v in pairs(ctx.plan.labels) do labels[k] = v end
  local config_labels = ctx.plan.config.labels
  if type(config_labels) == "table" then for k, v in pairs(config_labels) do labels[k] = v end end
  for k, v in pairs(ctx.opts.labels or {}) do labels[k] = v end
  local created_epoch, cerr = release.created_epoch(ctx)
  if not created_epoch then return fail("EUSAGE", cerr) end
  local created = oci.timestamp(created_epoch)
  labels[VERSION_LABEL] = ctx.version
  labels[CREATED_LABEL] = created
  ctx.revision = release.git_revision(ctx.dir)
  if ctx.revision then labels[REVISION_LABEL] = ctx.revision end

  local images, base_names = {}, {}
  ctx.base_blobs = {}
  for pi, view in ipairs(ctx.plan.platforms) do
    local history = {}
    for li, layer in ipairs(view.layers) do
      local parts = {}
      for _, e in ipairs(layer.inputs) do parts[#parts + 1] = e.source .. " -> " .. e.to end
      history[li] = "hoist: " .. table.concat(parts, ", ")
    end
    local c = {}
    for k, v in pairs(ctx.plan.config) do c[k] = v end
    c.labels = labels
    local b = ctx.plan.base and ctx.plan.base[view.name]
    local img_annotations
    if b then
      -- the standard annotations: where this image starts (name@digest pulls that base again)
      img_annotations = { [BASE_NAME] = b.name, [BASE_DIGEST] = b.digest }
      base_names[b.name .. "@" .. b.digest] = true
      for _, l in ipairs(b.layers) do ctx.base_blobs[l.digest] = b end
      -- a layout or an archive must be complete: the base's layers are copied in (a registry
      -- gets them mounted or streamed when it is pushed to)
      if ctx.dest.transport ~= "docker" then
        local ok, berr = ctx.base_session:copy_into(layout, b, ctx.staging ~= nil)
        if not ok then return fail("EREMOTE", berr) end
      end
    end
    local img, ierr = oci.image(layout, {
      platform = view.name, layers = per_platform[pi] or {}, created = created_epoch, history = history,
      config = c, annotations = img_annotations,
      base = b and { config = b.config, layers = b.layers } or nil,
    })
    if not img then return fail("EIO", ierr) end
    images[pi] = img
  end
  local annotations = { [VERSION_LABEL] = ctx.version, [CREATED_LABEL] = created,
                        [REVISION_LABEL] = ctx.revision }
  local title = labels["org.opencontainers.image.title"]
  if title then annotations["org.opencontainers.image.title"] = title end
  local only_base = next(base_names)
  if only_base and next(base_names, only_base) == nil then
    -- every platform on one base: the index says so too
    annotations[BASE_NAME], annotations[BASE_DIGEST] = only_base:match("^(.*)@(sha256:%x+)$")
  end
  local index, xerr = oci.index(layout, images, { annotations = annotations })
  if not index then return fail("EIO", xerr) end
  ctx.images = images
  ctx.index = index
  return true
end

-- Which tags this release writes: the version, then latest / MAJOR / MAJOR.MINOR when asked
-- and when the version is the highest stable one (in its line, for --float).
--[[
The tags a version gets: itself, then `latest` (opts.latest) when it is the highest stable version
among existing_tags and itself, and `MAJOR` / `MAJOR.MINOR` (opts.float) when it is the highest
stable one in that line. A prerelease gets only its own tag.
]]
release.tags_for = publish.tags_for

-- The tags this release would write, from the destination's tags as they are now (nil, message,
-- code when they cannot be read). publish() computes them again when it writes them.
function release.tags_to_write(ctx)
  if ctx.opts.push_by_digest then return {} end
  local existing, err, code = release.existing_tags(ctx)
  if not existing then return nil, err, code end
  return release.tags_for(ctx.tag, existing, ctx.opts)
end

local function publish_opts(ctx)
  return { latest = ctx.opts.latest, float = ctx.opts.float, force = ctx.opts.force,
           seen = ctx.seen_version, extra = ctx.opts.tags }
end

--[[
Signatures and attestations of the built release at its destination endpoint ep, keyed by digest
and written before any tag (ctx.index must already be there by digest): the index and each
platform manifest signed with ctx.key (--sign), an SBOM per platform image (SBOMs read from the
staging store, base layers through the base session), one provenance statement for the index.
Fills ctx.attached (see hoist.attach.release). Nothing to do without a key, SBOM or provenance.
]]
function release.attach(ctx, ep)
  if not (ctx.key or ctx.want_sbom or ctx.want_provenance) then return true end
  local attach = require("hoist.attach")
  local identity = ctx.opts.identity or require("hoist.sign").identity_of(ep)
  local created = release.created_epoch(ctx)
  local res, err, kind = attach.release(ctx, ep, {
    key = ctx.key, identity = identity, sbom = ctx.want_sbom, provenance = ctx.want_provenance,
    source = attach.staging_source(ctx.store, ctx.base_session, ctx.base_blobs),
    -- a time only when one was given (SOURCE_DATE_EPOCH or the commit): else none, reproducibly
    created = ctx.created_from and created or nil,
    name = identity or ctx.desc.name,
  })
  if not res then return fail(kind or "EREMOTE", err) end
  ctx.attached = res
  return true
end

function release.publish(ctx)
  if ctx.dest.transport == "oci" then
    ctx.tags = {}
    local ep = { transport = "oci", display = ctx.dest.display, store = ctx.store }
    if ctx.key or ctx.want_sbom or ctx.want_provenance then
      local lep, lerr, lkind = endpoint.open(ctx.dest, { create = true })
      if not lep then return fail(lkind or "EIO", lerr) end
      local ok, aerr, akind = release.attach(ctx, lep)
      if not ok then return nil, aerr, akind end
    end
    if ctx.opts.push_by_digest then return true end
    local tags, err, code = publish.version(ep, ctx.index, nil, ctx.tag, publish_opts(ctx))
    if not tags then return fail(code or "EIO", err) end
    ctx.tags = tags
    return true
  elseif ctx.dest.transport == "docker-archive" then
    local archive = require("hoist.archive")
    if #ctx.images ~= 1 then
      return fail("EUSAGE", "a docker-archive holds one platform: choose it with --platform (e.g. linux/amd64)")
    end
    ctx.tags = {}
    local repo_tag = ctx.dest.repo and (ctx.dest.repo .. ":" .. (ctx.dest.tag or ctx.tag))
      or ((ctx.desc.name or "extension") .. ":" .. ctx.tag)
    local ok, err = archive.write_docker(ctx.dest.file, ctx.store, ctx.images[1], { repo_tag })
    if not ok then return fail("EIO", err) end
    ctx.tags = { repo_tag }
    return true
  elseif ctx.dest.transport == "docker" then
    return release.push(ctx)
  end
  return fail("EUSAGE", "unsupported destination " .. ctx.dest.display)
end

--[[
Pushes the staged image to the registry in the order that never leaves a tag dangling: every
blob the registry lacks, then each platform manifest by digest, then the index under its
version tag, then the other tags.
]]
--[[
A base image's layers at a registry destination, never downloaded when not needed: already there
(HEAD), or mounted from the base's repository when base and destination share the registry;
otherwise streamed from the base registry through the layer cache. Returns push jobs for those
that must be uploaded, and the counts, or nil, message.
]]
function release.base_jobs(ctx)
  local client, repo = ctx.client, ctx.dest.repository
  local jobs, stats, digests = {}, { existing = 0, mounted = 0 }, {}
  for d in pairs(ctx.base_blobs or {}) do digests[#digests + 1] = d end
  table.sort(digests)
  for _, d in ipairs(digests) do
    local b = ctx.base_blobs[d]
    local desc
    for _, l in ipairs(b.layers) do if l.digest == d then desc = l end end
    local exists, err = client:has_blob(repo, d)
    if exists == nil then return nil, err end
    local done = exists
    if exists then stats.existing = stats.existing + 1 end
    if not done and b.transport == "docker" and b.api_host == ctx.dest.api_host and b.repository ~= repo then
      local mounted, merr = client:mount_blob(repo, d, b.repository)
      if mounted == nil then return nil, merr end
      if mounted then stats.mounted = stats.mounted + 1; done = true end
    end
    if not done then
      local path, perr = ctx.base_session:blob_file(b, desc)
      if not path then return nil, perr end
      jobs[#jobs + 1] = { digest = d, size = desc.size, path = path }
    end
  end
  return jobs, stats
end

-- "sha256:0123456789ab (linux/amd64 layer 2 ('ui' -> /ui))": a layer this release built, by
-- digest (nil for another one).
function release.describe_layer(ctx, digest)
  local name = (ctx.layer_names or {})[digest]
  return name and (digest:sub(1, 19) .. " (" .. name .. ")") or nil
end

function release.push(ctx)
  local client, repo, store = ctx.client, ctx.dest.repository, ctx.store
  -- the base's layers first (looked up, mounted, or fetched to be sent with the rest)
  local base_jobs, base_stats, bkind = release.base_jobs(ctx)
  if not base_jobs then return fail(bkind or "EREMOTE", base_stats) end
  -- every distinct blob in one parallel batch: layers, then configs; the layers being streamed
  -- since the build (ctx.push_stream) are not in it
  local jobs, is_layer, seen = {}, {}, {}
  local stream, streamed_total = ctx.push_stream, 0
  for d, l in pairs(ctx.streamed or {}) do
    seen[d] = true
    streamed_total = streamed_total + l.size
  end
  local function add(d, layer)
    if seen[d.digest] then return end
    seen[d.digest] = true
    jobs[#jobs + 1] = { digest = d.digest, size = d.size, path = store:blob_path(d.digest) }
    is_layer[#jobs] = layer
  end
  for _, j in ipairs(base_jobs) do
    seen[j.digest] = true
    jobs[#jobs + 1] = j
    is_layer[#jobs] = true
  end
  for _, img in ipairs(ctx.images) do
    for _, l in ipairs(img.manifest.layers) do
      if not (ctx.base_blobs or {})[l.digest] then add(l, true) end
    end
  end
  for _, img in ipairs(ctx.images) do add(img.config, false) end
  local log = require("hoist.log")
  -- counted in bytes, a blob at a time (host/core/registry/upload.c reports each finished blob with the bytes
  -- done so far; a blob already there or mounted counts as done without being sent)
  -- the streamed layers count as they are confirmed by the registry
  local total = streamed_total
  for _, j in ipairs(jobs) do total = total + (j.size or 0) end
  local nblobs = #jobs
  for _ in pairs(ctx.streamed or {}) do nblobs = nblobs + 1 end
  local bar = log.progress("pushing " .. nblobs .. " blobs to " .. ctx.dest.display, total, { unit = "bytes" })
  local function streamed_done() return stream and stream:stats().confirmed_bytes or 0 end
  local stats, err, pkind = { existing = 0, mounted = 0, uploaded = 0, uploaded_bytes = 0, results = {} }
  -- an upload that failed already fails the release before anything else is sent
  if not (stream and stream:stats().failed) then
    stats, err, pkind = client:put_blobs(repo, jobs, { parallel = ctx.opts.parallel,
      progress = function(p) bar:update(p.done_bytes + streamed_done()) end })
  end
  if stats and stream then
    local put_done = 0
    for _, j in ipairs(jobs) do put_done = put_done + (j.size or 0) end
    local sres, serr, skind, _, sdigest = stream:wait({ progress = function(p) bar:update(put_done + p.confirmed_bytes) end })
    if not sres then
      stats, pkind, err = nil, skind, serr
      local name = sdigest and release.describe_layer(ctx, sdigest)
      if name then err = serr:gsub("^upload of sha256:%x+", function() return "upload of layer " .. name end, 1) end
    else
      -- when each streamed layer was built and sent (--debug): the overlap, layer by layer
      for _, l in ipairs(sres.layers) do
        log.debug("streamed %s: opened at %d ms, built at %d ms, first chunk confirmed at %d ms, %s at %d ms " ..
          "(%d PATCH%s)", release.describe_layer(ctx, l.digest or "") or tostring(l.digest), l.open_ms, l.built_ms,
          l.first_patch_ms, l.outcome, l.done_ms, l.patches, l.patches == 1 and "" or "es")
      end
      if #sres.layers > 0 then
        log.debug("streamed %d layer%s: %d of %d PATCHes accepted while layers were still being built",
          #sres.layers, #sres.layers == 1 and "" or "s", sres.patches_while_building, sres.patches)
      end
      stats.uploaded = stats.uploaded + sres.uploaded
      stats.uploaded_bytes = stats.uploaded_bytes + sres.uploaded_bytes
      stats.existing = stats.existing + sres.existing
      ctx.streamed_layer_bytes = sres.uploaded_bytes
    end
  end
  if not stats then bar:finish("push to " .. ctx.dest.display .. " failed"); return fail(pkind or "EREMOTE", err) end
  stats.existing = stats.existing + base_stats.existing
  stats.mounted = stats.mounted + base_stats.mounted
  ctx.push_stats = stats
  bar:finish(string.format("pushed %s in %d blob%s to %s (%d already there, %d mounted)",
    log.bytes(stats.uploaded_bytes), stats.uploaded, stats.uploaded == 1 and "" or "s", ctx.dest.display,
    stats.existing, stats.mounted))
  ctx.built_bytes = stats.uploaded_bytes
  ctx.layer_bytes = ctx.streamed_layer_bytes or 0
  for i, outcome in ipairs(stats.results) do
    if is_layer[i] and outcome == "uploaded" then ctx.layer_bytes = ctx.layer_bytes + jobs[i].size end
  end
  local function push_manifest(desc, ref)
    local bytes = assert(store:blob(desc.digest))
    return client:put_manifest(repo, ref, desc.mediaType, bytes)
  end
  -- the platform manifests are independent: all at once
  local items = {}
  for _, img in ipairs(ctx.images) do
    items[#items + 1] = { ref = img.digest, media_type = img.mediaType, bytes = assert(store:blob(img.digest)) }
  end
  local ok, perr, mkind = client:put_manifests(repo, items)
  if not ok then return fail(mkind or "EREMOTE", perr) end
  ctx.tags = {}
  if ctx.opts.push_by_digest or ctx.key or ctx.want_sbom or ctx.want_provenance then
    -- the index by digest: signatures and attestations refer to it before any tag does
    ok, perr, mkind = push_manifest(ctx.index, ctx.index.digest)
    if not ok then return fail(mkind or "EREMOTE", perr) end
    ok, perr, mkind = release.attach(ctx, ctx.endpoint)
    if not ok then return nil, perr, mkind end
  end
  if ctx.opts.push_by_digest then return true end
  -- the index goes up under its version tag directly (the registry takes it only when every
  -- manifest it names is there), checked before and read back after; then the float tags
  local tags, err, code = publish.version(ctx.endpoint, ctx.index, assert(store:blob(ctx.index.digest)),
                                          ctx.tag, publish_opts(ctx))
  if not tags then return fail(code or "EIO", err) end
  ctx.tags = tags
  return true
end

function release.result(ctx)
  local a = ctx.attached
  local platforms = {}
  for _, img in ipairs(ctx.images or {}) do platforms[oci.platform_string(img.platform)] = img.digest end
  return {
    version = ctx.version, destination = ctx.dest.display, base = release.base_summary(ctx),
    digest = ctx.index and ctx.index.digest, platforms = platforms,
    tags = require("hoist.json").array(ctx.tags or {}), uploaded_bytes = ctx.built_bytes or 0,
    uploaded_layer_bytes = ctx.layer_bytes or ctx.built_bytes or 0,
    warnings = require("hoist.json").array(ctx.warnings or {}),
    created = ctx.created_epoch and oci.timestamp(ctx.created_epoch) or nil,
    signed = a and a.signed and { identity = a.signed.identity, tag = a.signed.tag,
                                  manifests = 1 + #a.signed.children } or nil,
    sbom = a and #a.sbom > 0 and a.sbom or nil,
    provenance = a and a.provenance and a.provenance.digest or nil,
  }
end

-- { name, digest, platforms = { [platform] = manifest digest } } of the base(s), or nil.
function release.base_summary(ctx)
  local b = ctx.plan and ctx.plan.base
  if not b or next(b) == nil then return nil end
  local out = { platforms = {} }
  for pname, r in pairs(b) do
    out.platforms[pname] = { name = r.name, digest = r.digest, manifest = r.manifest_digest }
    if out.name == nil then out.name, out.digest = r.name, r.digest
    elseif out.name ~= r.name or out.digest ~= r.digest then out.name, out.digest = "(one per platform)", nil end
  end
  return out
end

local function base_lines(summary, lines)
  if not summary then return end
  if summary.digest then
    lines[#lines + 1] = "  base         " .. summary.name .. "@" .. summary.digest
  else
    local names = {}
    for p in pairs(summary.platforms) do names[#names + 1] = p end
    table.sort(names)
    for _, p in ipairs(names) do
      local b = summary.platforms[p]
      lines[#lines + 1] = string.format("  base %-7s %s@%s", p:match("/(.*)$"), b.name, b.digest)
    end
  end
end

-- The result and the lines `hoist release` prints for it (the caller prints: cli.output).
function release.report(ctx)
  local r = release.result(ctx)
  local lines = { string.format("released %s to %s", r.version, r.destination),
                  "  index        " .. tostring(r.digest) }
  base_lines(r.base, lines)
  local names = {}
  for name in pairs(r.platforms) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do lines[#lines + 1] = string.format("  %-12s %s", name, r.platforms[name]) end
  lines[#lines + 1] = "  tags         " .. (#r.tags > 0 and table.concat(r.tags, ", ") or "(none: pushed by digest)")
  if r.signed then
    lines[#lines + 1] = string.format("  signed       as %s (%d manifests, %s)", r.signed.identity, r.signed.manifests, r.signed.tag)
  end
  for _, sb in ipairs(r.sbom or {}) do
    lines[#lines + 1] = string.format("  sbom         %-12s %s", sb.platform, tostring(sb.digest))
  end
  if r.provenance then lines[#lines + 1] = "  provenance   " .. r.provenance end
  if ctx.warnings and #ctx.warnings > 0 then r.warnings = require("hoist.json").array(ctx.warnings) end
  return r, lines
end

-- What the destination holds, asked of the layout (opened once) or the registry:
-- { target = function(tag) -> digest | nil (absent) | nil, message (cannot tell),
--   has_blob = function(digest) -> bool }.
function release.destination_view(ctx)
  if ctx.dest.transport == "oci" then
    local store = fs.exists(ctx.dest.dir .. "/oci-layout") and oci.layout(ctx.dest.dir, { create = false })
    return {
      target = function(tag) local d = store and store:resolve(tag); return d and d.digest end,
      has_blob = function(digest) return store and store:has_blob(digest) or false end,
    }
  elseif ctx.dest.transport == "docker" then
    local repo = ctx.dest.repository
    return {
      target = function(tag)
        local d, err = ctx.client:resolve(repo, tag)
        if d == nil then return nil, err end
        return d and d.digest or nil
      end,
      has_blob = function(digest) return ctx.client:has_blob(repo, digest) == true end,
    }
  end
  -- a file is written whole: nothing is there yet
  return { target = function() return nil end, has_blob = function() return false end }
end

--[[
What --dry-run reports (returned as result, lines; the caller prints them): each layer with what would happen to it (built; or found in the cache and
then already at the destination or to be sent), and each tag, new or moved from what it points
at now. Reads the destination; changes nothing.
]]
function release.dry_run(ctx)
  local plan_lines = { string.format("would release %s to %s", ctx.version, ctx.dest.display) }
  local to_write, terr, tcode = release.tags_to_write(ctx)
  if not to_write then return fail(tcode or "EREMOTE", terr) end
  local result = { version = ctx.version, destination = ctx.dest.display, dry_run = true,
                   platforms = {}, layers = require("hoist.json").array({}),
                   tags = require("hoist.json").array(to_write), tag_moves = {},
                   base = release.base_summary(ctx) }
  base_lines(result.base, plan_lines)
  for _, u in ipairs(ctx.plan.unchecked or {}) do
    plan_lines[#plan_lines + 1] = string.format("  %s: %s would come from the base image (not checked: a dry run " ..
      "downloads no base layer)", u.platform, u.path)
  end
  local epoch = ctx.epoch or oci.source_date_epoch() or 0
  local specs, owner = ctx.layer_specs, ctx.layer_owner
  if not specs then specs, owner = layer_specs(ctx) end
  -- a layer whose source before_build has yet to produce cannot be looked up in the cache
  local ready, slot = {}, {}
  for i, o in ipairs(owner) do
    if not layer_pending(ctx.plan.platforms[o.platform].layers[o.layer]) then
      ready[#ready + 1] = specs[i]; slot[i] = #ready
    end
  end
  local cached, kerr = {}, nil
  if #ready == #specs then ready = specs end   -- then the plans made by validate are for these
  if #ready > 0 then
    cached, kerr = oci.cached_layers(ready, { mtime = epoch, root = fs.realpath(ctx.dir),
      plans = ready == ctx.layer_specs and ctx.layer_plans or nil })
    if not cached then return fail("EINVAL", kerr) end
  end
  local known = {}
  for i in ipairs(owner) do known[i] = slot[i] and cached[slot[i]] or { pending = true } end
  local bytes, seen, dest = 0, {}, release.destination_view(ctx)
  for i, o in ipairs(owner) do
    local view = ctx.plan.platforms[o.platform]
    local layer = view.layers[o.layer]
    local parts = {}
    for _, e in ipairs(layer.inputs) do
      -- ${arch} and friends as they are for this platform
      parts[#parts + 1] = extension.expand(e.source, view.platform) .. " -> " .. e.to
    end
    local text = table.concat(parts, ", ")
    local k = known[i] or {}
    local status
    if k.pending then
      status = "pending"
    elseif not k.digest then
      status = "build"
    elseif dest.has_blob(k.digest) then
      status = "exists"
    else
      status = "send"
      if not seen[k.digest] then bytes = bytes + (k.size or 0) end
    end
    if k.digest then seen[k.digest] = true end
    local note = ({ pending = "produced by before_build, to build", build = "to build",
                    exists = "cached " .. tostring(k.digest):sub(1, 19) .. ", already at the destination",
                    send = "cached " .. tostring(k.digest):sub(1, 19) .. ", to send (" .. tostring(k.size) .. " bytes)" })[status]
    result.platforms[view.name] = result.platforms[view.name] or {}
    table.insert(result.platforms[view.name], text)
    result.layers[#result.layers + 1] = { platform = view.name, layer = o.layer, inputs = text,
                                          digest = k.digest, status = status }
    plan_lines[#plan_lines + 1] = string.format("  %s layer %d: %s (%s)", view.name, o.layer, text, note)
  end
  local moves = {}
  for _, t in ipairs(result.tags) do
    local from = dest.target(t)
    result.tag_moves[t] = from or false
    moves[#moves + 1] = from and (t .. " (moves from " .. from:sub(1, 19) .. ")") or (t .. " (new)")
  end
  result.known_bytes_to_send = bytes
  if ctx.warnings and #ctx.warnings > 0 then result.warnings = require("hoist.json").array(ctx.warnings) end
  plan_lines[#plan_lines + 1] = "  tags: " .. (#moves > 0 and table.concat(moves, ", ") or "(none: pushed by digest)")
  return result, plan_lines
end

local function run_hook(ctx, name, ...)
  local hooks = ctx.desc and ctx.desc.hooks
  local fn = type(hooks) == "table" and hooks[name]
  if not fn then return true end
  local ok, err = pcall(fn, ctx, ...)
  if not ok then
    return fail("ECANCELED", string.format("hook %s stopped the release: %s", name, tostring(err)))
  end
  return true
end

local function cleanup(ctx)
  -- uploads still running (a failed release) stop before their files go
  if ctx.push_stream then ctx.push_stream:close(); ctx.push_stream = nil end
  if ctx.staging then fs.remove(ctx.staging) end
  if ctx.endpoint then ctx.endpoint:close() end
  if ctx.base_session then ctx.base_session:close() end
end

-- The whole flow; returns the result table, or nil, message, exit code (problems in ctx.problems).
function release.run(ctx)
  for _, step in ipairs({ release.load, release.resolve_version }) do
    local ok, err, code = step(ctx)
    if not ok then cleanup(ctx); return nil, err, code end
  end
  -- what hooks read (besides ctx.version, ctx.tag, ctx.desc, ctx.opts; ctx.plan once validated)
  ctx.destination = ctx.dest.display
  ctx.platforms = {}
  for _, p in ipairs(ctx.opts.platforms or ctx.desc.platforms or {}) do ctx.platforms[#ctx.platforms + 1] = p end
  -- before_build runs before validation: it may produce files the image needs (compiled host
  -- binaries), and what it produces is validated like the rest
  local hooks = ctx.desc.hooks
  if not ctx.opts.dry_run and #ctx.problems == 0 and type(hooks) == "table" and hooks.before_build then
    -- the plan as it stands (the hook may still add files; release.validate checks again after it)
    ctx.plan = extension.check(ctx.desc, {
      platforms = ctx.opts.platforms, single_platform = ctx.opts.push_by_digest or ctx.single_platform,
    })
    local ok, err, code = run_hook(ctx, "before_build")
    if not ok then cleanup(ctx); return nil, err, code end
  end
  for _, step in ipairs({ release.validate, release.check_existing }) do
    local ok, err, code = step(ctx)
    if not ok then cleanup(ctx); return nil, err, code end
  end
  if ctx.opts.dry_run then return release.dry_run(ctx) end
  local ok, err, code = release.build(ctx)
  if ok then ok, err, code = release.check_same(ctx) end
  if ok then ok, err, code = run_hook(ctx, "after_build", release.result(ctx)) end
  if ok then ok, err, code = run_hook(ctx, "before_publish") end
  if ok then ok, err, code = release.publish(ctx) end
  if ok then ok, err, code = run_hook(ctx, "after_publish", release.result(ctx)) end
  cleanup(ctx)
  if not ok then return nil, err, code end
  return release.result(ctx)
end

return release
