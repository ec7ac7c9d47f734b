/*
** hoist.registry: the Lua face of registry.c and ref.c. Converts arguments and errors only.
** Failures return nil, message, code ("EAUTH", "EREMOTE", "EIO", ...).
*/
#include "binding.h"
#include "pushstream.h"
#include "ref.h"
#include "registry.h"

#include <lauxlib.h>
#include <lua.h>

#include <stdlib.h>
#include <string.h>

#define CLIENT_MT "hoist.RegistryClient"
#define STREAM_MT "hoist.PushStream"

int luaopen_hoist_registry(lua_State *L);

struct lclient {
  struct hoist_registry *r;
  int busy;     /* a put_blobs runs on it: its progress callback must not use it */
  int streams;  /* push streams open on it: their threads use clones of r */
};

/* A push stream; its user value is its client's userdata, which it keeps alive. */
struct lstream {
  struct hoist_push_stream *s;
  struct lclient *client;
  int busy;     /* s:wait or a write_layers runs on it (a count): callbacks must not close it */
};

#define push_err hoist_lua_push_err

static struct hoist_registry *check_client(lua_State *L)
{
  struct lclient *c = luaL_checkudata(L, 1, CLIENT_MT);
  if (!c->r)
    luaL_error(L, "attempt to use a closed registry client");
  if (c->busy)
    luaL_error(L, "registry client is busy: put_blobs is running on it (its progress callback "
                  "must use another client)");
  return c->r;
}

/* parse_ref(s) -> { registry, api_host, repository, tag, digest, reference, name, canonical, loopback } */
static int l_parse_ref(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  struct hoist_ref *ref;
  struct hoist_err err;
  if (hoist_ref_parse(s, len, &ref, &err))
    return push_err(L, &err);
  lua_createtable(L, 0, 9);
#define FIELD(k)                      \
  if (ref->k) {                       \
    lua_pushstring(L, ref->k);        \
    lua_setfield(L, -2, #k);          \
  }
  FIELD(registry) FIELD(api_host) FIELD(repository) FIELD(tag) FIELD(digest) FIELD(reference)
  FIELD(name) FIELD(canonical)
#undef FIELD
  lua_pushboolean(L, ref->loopback);
  lua_setfield(L, -2, "loopback");
  hoist_ref_free(ref);
  return 1;
}

/* An optional positive integer field of the table at idx (0 when absent); raises when it is not one. */
static lua_Integer opt_count(lua_State *L, int idx, const char *key, lua_Integer max)
{
  lua_Integer v = 0;
  int isnum;
  if (lua_getfield(L, idx, key) != LUA_TNIL) {
    v = lua_tointegerx(L, -1, &isnum);
    if (!isnum || v <= 0 || v > max)
      luaL_error(L, "bad option '%s' (a positive integer up to %I expected)", key, max);
  }
  lua_pop(L, 1);
  return v;
}

/*
** connect(api_host [, { username=, password=, identity_token=, insecure=, chunk_size=, parallel=,
**                       timeout= }]) -> client
** timeout: the base of every request's deadline in seconds (see http.h).
*/
static int l_connect(lua_State *L)
{
  static const char *const keys[] = { "username", "password", "identity_token", "insecure",
                                      "chunk_size", "parallel", "timeout", NULL };
  const char *host = luaL_checkstring(L, 1);
  struct hoist_registry_opts o;
  struct lclient *c;
  struct hoist_err err;
  memset(&o, 0, sizeof o);
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    hoist_lua_check_keys(L, 2, "connect", keys);
    o.chunk_size = (unsigned long long)opt_count(L, 2, "chunk_size", (lua_Integer)1 << 40);
    o.parallel = (int)opt_count(L, 2, "parallel", HOIST_REGISTRY_PARALLEL_MAX);
    o.deadline_ms = (long)opt_count(L, 2, "timeout", 86400) * 1000L;
    /* the strings stay on the stack (so alive) until the client is made */
    lua_getfield(L, 2, "username");
    lua_getfield(L, 2, "password");
    lua_getfield(L, 2, "insecure");
    lua_getfield(L, 2, "identity_token");
    o.username = lua_tostring(L, -4);
    o.password = lua_tostring(L, -3);
    o.insecure = lua_toboolean(L, -2);
    o.identity_token = lua_tostring(L, -1);
  }
  c = lua_newuserdatauv(L, sizeof *c, 0);
  c->r = NULL;
  c->busy = 0;
  c->streams = 0;
  luaL_setmetatable(L, CLIENT_MT);
  if (hoist_registry_new(host, &o, &c->r, &err))
    return push_err(L, &err);
  return 1;
}

static int l_client_gc(lua_State *L)
{
  struct lclient *c = luaL_checkudata(L, 1, CLIENT_MT);
  if (c->busy)
    return luaL_error(L, "registry client is busy: put_blobs is running on it");
  /* a stream keeps its client alive (and is finalized first): only an explicit close gets here */
  if (c->streams)
    return luaL_error(L, "registry client has an open push stream: close it first");
  hoist_registry_free(c->r);
  c->r = NULL;
  return 0;
}

static int l_client_has_blob(lua_State *L)
{
  struct hoist_registry *r = check_client(L);
  const char *repo = luaL_checkstring(L, 2), *digest = luaL_checkstring(L, 3);
  struct hoist_err err;
  unsigned long long size = 0;
  int exists;
  if (hoist_registry_blob_exists(r, repo, digest, &exists, &size, &err))
    return push_err(L, &err);
  lua_pushboolean(L, exists);
  lua_pushinteger(L, (lua_Integer)size);
  return 2;
}

static int l_client_put_blob_file(lua_State *L)
{
  struct hoist_registry *r = check_client(L);
  const char *repo = luaL_checkstring(L, 2), *digest = luaL_checkstring(L, 3);
  const char *path = luaL_checkstring(L, 4);
  lua_Integer size = luaL_checkinteger(L, 5);
  struct hoist_err err;
  if (hoist_registry_blob_put_file(r, repo, digest, path, (unsigned long long)size, &err))
    return push_err(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_client_put_manifest(lua_State *L)
{
  struct hoist_registry *r = check_client(L);
  const char *repo = luaL_checkstring(L, 2), *ref = luaL_checkstring(L, 3);
  const char *mt = luaL_checkstring(L, 4);
  size_t len;
  const char *body = luaL_checklstring(L, 5, &len);
  char digest[HOIST_DIGEST_LEN + 1];
  struct hoist_err err;
  if (hoist_registry_manifest_put(r, repo, ref, mt, body, len, digest, &err))
    return push_err(L, &err);
  lua_pushstring(L, digest);
  return 1;
}

static int push_owned(lua_State *L, char *body, size_t len)
{
  hoist_lua_push_owned(L, body, len);
  return 1;
}

static int l_client_manifest(lua_State *L)
{
  struct hoist_registry *r = check_client(L);
  const char *repo = luaL_checkstring(L, 2), *ref = luaL_checkstring(L, 3);
  char mt[256];
  char *body;
  size_t len;
  struct hoist_err err;
  if (hoist_registry_manifest_get(r, repo, ref, &body, &len, mt, sizeof mt, &err))
    return push_err(L, &err);
  push_owned(L, body, len);
  lua_pushstring(L, mt);
  return 2;
}

/* c:check_auth() -> true | nil, err, code */
static int l_client_check_auth(lua_State *L)
{
  struct hoist_registry *r = check_client(L);
  struct hoist_err err;
  if (hoist_registry_check_auth(r, &err))
    return push_err(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

/* c:blob(repo, digest [, max_bytes]) -> bytes; max_bytes: the descriptor's size (default 4 MiB) */
static int l_client_blob(lua_State *L)
{
  struct hoist_registry *r = check_client(L);
  const char *repo = luaL_checkstring(L, 2), *digest = luaL_checkstring(L, 3);
  lua_Integer max = luaL_optinteger(L, 4, 0);
  struct hoist_err err;
  char *body;
  size_t len;
  luaL_argcheck(L, max >= 0, 4, "must not be negative");
  if (hoist_registry_blob_get(r, repo, digest, (size_t)max, &body, &len, &err))
    return push_err(L, &err);
  return push_owned(L, body, len);
}

/* c:blob_file(repo, digest, size, path) -> size; size is the descriptor's (more is refused) */
static int l_client_blob_file(lua_State *L)
{
  struct hoist_registry *r = check_client(L);
  const char *repo = luaL_checkstring(L, 2), *digest = luaL_checkstring(L, 3);
  lua_Integer expected = luaL_checkinteger(L, 4);
  const char *path = luaL_checkstring(L, 5);
  unsigned long long size;
  struct hoist_err err;
  luaL_argcheck(L, expected >= 0, 4, "a blob size must not be negative");
  if (hoist_registry_blob_get_file(r, repo, digest, (unsigned long long)expected, path, &size, &err))
    return push_err(L, &err);
  lua_pushinteger(L, (lua_Integer)size);
  return 1;
}

/* c:mount_blob(repo, digest, from_repo) -> true (mounted) | false (upload it) | nil, err, code */
static int l_client_mount_blob(lua_State *L)
{
  struct hoist_registry *r = check_client(L);
  const char *repo = luaL_checkstring(L, 2), *digest = luaL_checkstring(L, 3);
  const char *from = luaL_checkstring(L, 4);
  struct hoist_err err;
  int mounted;
  if (hoist_registry_blob_mount(r, repo, digest, from, &mounted, &err))
    return push_err(L, &err);
  lua_pushboolean(L, mounted);
  return 1;
}

/* c:resolve(repo, ref) -> { digest, mediaType, size } | false | nil, err, code (a HEAD) */
static int l_client_resolve(lua_State *L)
{
  struct hoist_registry *r = check_client(L);
  const char *repo = luaL_checkstring(L, 2), *ref = luaL_checkstring(L, 3);
  char digest[HOIST_DIGEST_LEN + 1], mt[256];
  unsigned long long size;
  struct hoist_err err;
  int exists;
  if (hoist_registry_manifest_head(r, repo, ref, &exists, digest, mt, sizeof mt, &size, &err))
    return push_err(L, &err);
  if (!exists) {
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_createtable(L, 0, 3);
  lua_pushstring(L, digest);
  lua_setfield(L, -2, "digest");
  lua_pushstring(L, mt);
  lua_setfield(L, -2, "mediaType");
  lua_pushinteger(L, (lua_Integer)size);
  lua_setfield(L, -2, "size");
  return 1;
}

/* c:delete_manifest(repo, ref) -> true | nil, err, code */
static int l_client_delete_manifest(lua_State *L)
{
  struct hoist_registry *r = check_client(L);
  const char *repo = luaL_checkstring(L, 2), *ref = luaL_checkstring(L, 3);
  struct hoist_err err;
  if (hoist_registry_manifest_delete(r, repo, ref, &err))
    return push_err(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

/*
** A string field of the job table at the top of the stack, copied into C
** memory: the workers read it on other threads while the progress callback
** may change the job table and collect the Lua string.
*/
static const char *job_string(lua_State *L, int anchor, const char *key, int required, lua_Integer i)
{
  const char *s;
  char *copy;
  size_t len;
  int t = lua_getfield(L, -1, key);
  if (t == LUA_TNIL && !required) {
    lua_pop(L, 1);
    return NULL;
  }
  if (t != LUA_TSTRING)
    luaL_error(L, "bad job #%I to 'put_blobs' ('%s' must be a string)", i, key);
  s = lua_tolstring(L, -1, &len);
  /* a userdata held by the anchor table (on the stack for the whole call) owns the copy */
  copy = lua_newuserdatauv(L, len + 1, 0);
  memcpy(copy, s, len + 1);
  lua_rawseti(L, anchor, (lua_Integer)lua_rawlen(L, anchor) + 1);
  lua_pop(L, 1);
  return copy;
}

/*
** c:put_blobs(repo, { {digest=, path=, size=, mount_from=}, ... } [, { parallel = n }])
**   -> { existing = n, mounted = n, uploaded = n, uploaded_bytes = n,
**        results = { "existing"|"mounted"|"uploaded", ... in job order } } | nil, err, code
*/
/* What the progress callback of put_blobs needs: the Lua state (this thread's) and the totals. */
struct push_progress {
  lua_State *L;
  int fn;                       /* stack index of the Lua function */
  struct hoist_blob_job *jobs;
  size_t n;
  unsigned long long total_bytes;
  int failed;                   /* the Lua function raised: its error is on the stack */
};

static int on_push_progress(void *ud, size_t index, const struct hoist_push_stats *st,
                            unsigned long long done_bytes)
{
  static const char *const names[] = {"pending", "existing", "mounted", "uploaded"};
  struct push_progress *pp = ud;
  lua_State *L = pp->L;
  if (pp->failed)
    return 1;
  lua_pushvalue(L, pp->fn);
  lua_createtable(L, 0, 8);
  lua_pushinteger(L, (lua_Integer)(st->existing + st->mounted + st->uploaded));
  lua_setfield(L, -2, "done");
  lua_pushinteger(L, (lua_Integer)pp->n);
  lua_setfield(L, -2, "total");
  lua_pushinteger(L, (lua_Integer)done_bytes);
  lua_setfield(L, -2, "done_bytes");
  lua_pushinteger(L, (lua_Integer)pp->total_bytes);
  lua_setfield(L, -2, "total_bytes");
  lua_pushinteger(L, (lua_Integer)st->uploaded_bytes);
  lua_setfield(L, -2, "uploaded_bytes");
  if (index != HOIST_PUSH_TICK) {  /* a tick: bytes moved inside blobs, no job ended */
    lua_pushinteger(L, (lua_Integer)index + 1);
    lua_setfield(L, -2, "job");
    lua_pushstring(L, pp->jobs[index].digest);
    lua_setfield(L, -2, "digest");
    lua_pushstring(L, names[pp->jobs[index].outcome]);
    lua_setfield(L, -2, "outcome");
  }
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    pp->failed = 1;             /* the error stays on the stack, raised once the workers stop */
    return 1;
  }
  return 0;
}

static int l_client_put_blobs(lua_State *L)
{
  struct hoist_registry *r = check_client(L);
  struct lclient *c = lua_touserdata(L, 1);
  const char *repo = luaL_checkstring(L, 2);
  struct hoist_blob_job *jobs;
  struct hoist_push_stats st;
  struct hoist_err err;
  struct push_progress pp;
  lua_Integer n, i, parallel = 0;
  int rc, anchor;
  luaL_checktype(L, 3, LUA_TTABLE);
  memset(&pp, 0, sizeof pp);
  if (!lua_isnoneornil(L, 4)) {
    luaL_checktype(L, 4, LUA_TTABLE);
    parallel = opt_count(L, 4, "parallel", HOIST_REGISTRY_PARALLEL_MAX);
    lua_getfield(L, 4, "progress");
    if (!lua_isnil(L, -1)) {
      luaL_argcheck(L, lua_isfunction(L, -1), 4, "'progress' must be a function");
      pp.fn = lua_gettop(L);
    } else {
      lua_pop(L, 1);
    }
  }
  n = (lua_Integer)lua_rawlen(L, 3);
  /* every argument is checked before C holds anything; the job array is a userdata (freed by Lua) */
  jobs = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof *jobs, 0);
  lua_createtable(L, (int)(n > 0 ? n * 2 : 1), 0);
  anchor = lua_gettop(L);
  for (i = 1; i <= n; i++) {
    struct hoist_blob_job *j = &jobs[i - 1];
    lua_Integer size;
    int isnum;
    if (lua_rawgeti(L, 3, i) != LUA_TTABLE)
      return luaL_error(L, "bad job #%I to 'put_blobs' (table expected)", i);
    j->digest = job_string(L, anchor, "digest", 1, i);
    j->path = job_string(L, anchor, "path", 1, i);
    j->mount_from = job_string(L, anchor, "mount_from", 0, i);
    lua_getfield(L, -1, "size");
    size = lua_tointegerx(L, -1, &isnum);
    if (!isnum || size < 0)
      return luaL_error(L, "bad job #%I to 'put_blobs' ('size' must be a non-negative integer)", i);
    j->size = (unsigned long long)size;
    j->outcome = HOIST_BLOB_PENDING;
    lua_pop(L, 2);
  }
  if (pp.fn) {
    pp.L = L;
    pp.jobs = jobs;
    pp.n = (size_t)n;
    for (i = 0; i < n; i++)
      pp.total_bytes += jobs[i].size;
    c->busy = 1;  /* the callback runs Lua while workers use clones of this client */
    rc = hoist_registry_push_blobs_progress(r, repo, jobs, (size_t)n, (int)parallel, on_push_progress,
                                            &pp, &st, &err);
    c->busy = 0;
    if (pp.failed)
      return lua_error(L);      /* the progress function's own error */
  } else {
    rc = hoist_registry_push_blobs(r, repo, jobs, (size_t)n, (int)parallel, &st, &err);
  }
  if (rc)
    return push_err(L, &err);
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, (lua_Integer)st.existing);
  lua_setfield(L, -2, "existing");
  lua_pushinteger(L, (lua_Integer)st.mounted);
  lua_setfield(L, -2, "mounted");
  lua_pushinteger(L, (lua_Integer)st.uploaded);
  lua_setfield(L, -2, "uploaded");
  lua_pushinteger(L, (lua_Integer)st.uploaded_bytes);
  lua_setfield(L, -2, "uploaded_bytes");
  lua_createtable(L, (int)n, 0);
  for (i = 1; i <= n; i++) {
    static const char *const names[] = {"pending", "existing", "mounted", "uploaded"};
    lua_pushstring(L, names[jobs[i - 1].outcome]);
    lua_rawseti(L, -2, i);
  }
  lua_setfield(L, -2, "results");
  return 1;
}

/*
** c:put_manifests(repo, { { ref =, media_type =, bytes = }, ... }) -> true | nil, err, code
** Independent manifests (one index's platform manifests) PUT at once.
*/
static int l_client_put_manifests(lua_State *L)
{
  struct hoist_registry *r = check_client(L);
  const char *repo = luaL_checkstring(L, 2);
  struct hoist_manifest_item *items;
  struct hoist_err err;
  lua_Integer n, i;
  luaL_checktype(L, 3, LUA_TTABLE);
  n = (lua_Integer)lua_rawlen(L, 3);
  items = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof *items, 0);
  for (i = 1; i <= n; i++) {
    struct hoist_manifest_item *it = &items[i - 1];
    if (lua_rawgeti(L, 3, i) != LUA_TTABLE)
      return luaL_error(L, "bad manifest #%I to 'put_manifests' (table expected)", i);
    /* the strings stay referenced by the argument table while C uses them */
    lua_getfield(L, -1, "ref");
    it->ref = luaL_checkstring(L, -1);
    lua_getfield(L, -2, "media_type");
    it->media_type = luaL_checkstring(L, -1);
    lua_getfield(L, -3, "bytes");
    it->body = luaL_checklstring(L, -1, &it->len);
    lua_pop(L, 4);
  }
  if (hoist_registry_manifests_put(r, repo, items, (size_t)n, &err))
    return push_err(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

static int push_tag_list(lua_State *L)
{
  char **tags = lua_touserdata(L, 1);
  lua_Integer i, n = lua_tointeger(L, 2);
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    lua_pushstring(L, tags[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int l_client_tags(lua_State *L)
{
  struct hoist_registry *r = check_client(L);
  const char *repo = luaL_checkstring(L, 2);
  lua_Integer page = luaL_optinteger(L, 3, 0);
  struct hoist_err err;
  char **tags;
  size_t n, i;
  if (hoist_registry_tags(r, repo, (size_t)(page > 0 ? page : 0), &tags, &n, &err))
    return push_err(L, &err);
  /* the C list goes into a Lua table through a protected call, so a memory error frees it too */
  lua_pushcfunction(L, push_tag_list);
  lua_pushlightuserdata(L, tags);
  lua_pushinteger(L, (lua_Integer)n);
  i = (size_t)lua_pcall(L, 2, 1, 0);
  for (size_t k = 0; k < n; k++)
    free(tags[k]);
  free(tags);
  if (i != LUA_OK)
    return lua_error(L);
  return 1;
}

/* c:retries() -> { total = n, recent = { "GET /v2/...: HTTP 503; try 2 in 180 ms", ... } }: the
** retries since the last call (the latest 32 of them in recent), for the caller to log */
static int push_retries(lua_State *L)
{
  char **lines = lua_touserdata(L, 1);
  lua_Integer i, n = lua_tointeger(L, 2);
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    lua_pushstring(L, lines[i] ? lines[i] : "");
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int l_client_retries(lua_State *L)
{
  struct hoist_registry *r = check_client(L);
  char *lines[64];
  unsigned long total = 0;
  size_t n = hoist_registry_take_retries(r, lines, 64, &total), k;
  int st;
  lua_createtable(L, 0, 2);
  lua_pushinteger(L, (lua_Integer)total);
  lua_setfield(L, -2, "total");
  lua_pushcfunction(L, push_retries);
  lua_pushlightuserdata(L, lines);
  lua_pushinteger(L, (lua_Integer)n);
  st = lua_pcall(L, 2, 1, 0);
  for (k = 0; k < n; k++)
    free(lines[k]);
  if (st != LUA_OK)
    return lua_error(L);
  lua_setfield(L, -2, "recent");
  return 1;
}

/* ------------------------------------------------------------------ push streams */

static struct lstream *check_stream(lua_State *L, int idx)
{
  struct lstream *ls = luaL_checkudata(L, idx, STREAM_MT);
  if (!ls->s)
    luaL_error(L, "attempt to use a closed push stream");
  return ls;
}

struct hoist_push_stream *hoist_lua_check_push_stream(lua_State *L, int idx)
{
  return check_stream(L, idx)->s;
}

int hoist_lua_push_stream_busy(lua_State *L, int idx, int delta)
{
  struct lstream *ls = check_stream(L, idx);
  ls->busy += delta;
  return ls->busy - delta;
}

/*
** c:push_stream(repo [, { parallel = n }]) -> stream: layers given to hoist.oci.core's
** write_layers with { push = stream } are uploaded to repo while they are built.
*/
static int l_client_push_stream(lua_State *L)
{
  static const char *const keys[] = { "parallel", NULL };
  struct hoist_registry *r = check_client(L);
  struct lclient *c = lua_touserdata(L, 1);
  const char *repo = luaL_checkstring(L, 2);
  lua_Integer parallel = 0;
  struct lstream *ls;
  struct hoist_err err;
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    hoist_lua_check_keys(L, 3, "push_stream", keys);
    parallel = opt_count(L, 3, "parallel", HOIST_REGISTRY_PARALLEL_MAX);
  }
  ls = lua_newuserdatauv(L, sizeof *ls, 1);
  ls->s = NULL;
  ls->client = c;
  ls->busy = 0;
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, STREAM_MT);
  if (hoist_push_stream_new(r, repo, (int)parallel, &ls->s, &err))
    return push_err(L, &err);
  c->streams++;
  return 1;
}

static int l_stream_close(lua_State *L)
{
  struct lstream *ls = luaL_checkudata(L, 1, STREAM_MT);
  if (ls->busy)
    return luaL_error(L, "push stream is busy: a wait or a build is running on it");
  if (ls->s) {
    hoist_push_stream_free(ls->s);
    ls->s = NULL;
    ls->client->streams--;
  }
  return 0;
}

static const char *const state_names[] = { "waiting", "building", "built", "rolled back" };
static const char *const outcome_names[] = { "pending", "existing", "mounted", "uploaded" };

#define SET_INT(name, v)                        \
  do {                                          \
    lua_pushinteger(L, (lua_Integer)(v));       \
    lua_setfield(L, -2, name);                  \
  } while (0)

/* Pushes the stats table of s:stats() (below); the layer array is a userdata scratch. */
static void push_stream_stats(lua_State *L, struct hoist_push_stream *s)
{
  struct hoist_push_stream_stats st;
  struct hoist_push_layer_stats *ls;
  size_t i, n;
  hoist_push_stream_stats(s, &st, NULL, 0);
  n = st.layers;
  ls = lua_newuserdatauv(L, (n ? n : 1) * sizeof *ls, 0);
  hoist_push_stream_stats(s, &st, ls, n);
  if (st.layers < n)
    n = st.layers;
  lua_createtable(L, 0, 12);
  SET_INT("building", st.building);
  SET_INT("done", st.done);
  SET_INT("uploaded", st.uploaded);
  SET_INT("existing", st.existing);
  SET_INT("written_bytes", st.written_bytes);
  SET_INT("built_bytes", st.built_bytes);
  SET_INT("confirmed_bytes", st.confirmed_bytes);
  SET_INT("uploaded_bytes", st.uploaded_bytes);
  SET_INT("patches", st.patches);
  SET_INT("patches_while_building", st.patches_while_building);
  lua_pushboolean(L, st.failed);
  lua_setfield(L, -2, "failed");
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    const struct hoist_push_layer_stats *o = &ls[i];
    lua_createtable(L, 0, 13);
    SET_INT("index", o->index + 1);
    lua_pushstring(L, state_names[o->state]);
    lua_setfield(L, -2, "state");
    if (o->digest[0]) {
      lua_pushstring(L, o->digest);
      lua_setfield(L, -2, "digest");
    }
    SET_INT("written", o->written);
    SET_INT("confirmed", o->confirmed);
    SET_INT("patches", o->patches);
    lua_pushboolean(L, o->done);
    lua_setfield(L, -2, "done");
    lua_pushstring(L, o->done && o->rc ? "failed" : outcome_names[o->outcome]);
    lua_setfield(L, -2, "outcome");
    SET_INT("open_ms", o->open_ms);
    SET_INT("built_ms", o->built_ms);
    SET_INT("first_patch_ms", o->first_patch_ms);
    SET_INT("done_ms", o->done_ms);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "layers");
  lua_remove(L, -2);  /* the scratch */
}

/* s:stats() -> { layers = { per layer }, building, done, uploaded, ..., failed } */
static int l_stream_stats(lua_State *L)
{
  push_stream_stats(L, check_stream(L, 1)->s);
  return 1;
}

/* nil, message, code, index (in the write_layers call, 1-based), digest (when built) */
static int push_stream_failure(lua_State *L, struct hoist_push_stream *s, int rc,
                               const struct hoist_err *err)
{
  struct hoist_err ferr;
  char digest[HOIST_DIGEST_LEN + 1];
  size_t index = 0;
  if (!hoist_push_stream_failure(s, &ferr, &index, digest)) {
    luaL_pushfail(L);
    lua_pushstring(L, err->msg);
    lua_pushstring(L, hoist_err_name(rc));
    return 3;
  }
  luaL_pushfail(L);
  lua_pushstring(L, ferr.msg);
  lua_pushstring(L, hoist_err_name(ferr.code));
  lua_pushinteger(L, (lua_Integer)index + 1);
  if (digest[0])
    lua_pushstring(L, digest);
  else
    lua_pushnil(L);
  return 5;
}

/*
** s:wait([{ progress = fn, interval = seconds }]) -> { uploaded, existing, uploaded_bytes,
**   layers = { per layer, as s:stats() } } | nil, err, code, index, digest
** progress(stats) runs on this thread every interval (default 0.25 s) until every upload ended.
*/
static int l_stream_wait(lua_State *L)
{
  static const char *const keys[] = { "progress", "interval", NULL };
  struct lstream *ls = check_stream(L, 1);
  struct hoist_err err;
  long interval = 250;
  int fn = 0, rc;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    hoist_lua_check_keys(L, 2, "wait", keys);
    if (lua_getfield(L, 2, "interval") != LUA_TNIL) {
      lua_Number v = lua_tonumber(L, -1);
      if (!lua_isnumber(L, -1) || !(v > 0 && v <= 3600))
        luaL_error(L, "bad option 'interval' to 'wait' (seconds, more than 0 and up to 3600)");
      interval = (long)(v * 1000) > 0 ? (long)(v * 1000) : 1;
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 2, "progress") != LUA_TNIL) {
      luaL_argcheck(L, lua_isfunction(L, -1), 2, "'progress' must be a function");
      fn = lua_gettop(L);
    } else {
      lua_pop(L, 1);
    }
  }
  for (;;) {
    rc = hoist_push_stream_wait(ls->s, fn ? interval : -1, &err);
    if (rc != 1)
      break;
    /* the callback may do anything but close this stream */
    ls->busy++;
    lua_pushvalue(L, fn);
    push_stream_stats(L, ls->s);
    rc = lua_pcall(L, 1, 0, 0);
    ls->busy--;
    if (rc != LUA_OK)
      return lua_error(L);
  }
  if (rc)
    return push_stream_failure(L, ls->s, rc, &err);
  push_stream_stats(L, ls->s);
  return 1;
}

static const luaL_Reg stream_methods[] = {
  {"stats", l_stream_stats},
  {"wait", l_stream_wait},
  {"close", l_stream_close},
  {NULL, NULL}
};

static const luaL_Reg client_methods[] = {
  {"push_stream", l_client_push_stream},
  {"retries", l_client_retries},
  {"check_auth", l_client_check_auth},
  {"has_blob", l_client_has_blob},
  {"blob", l_client_blob},
  {"blob_file", l_client_blob_file},
  {"mount_blob", l_client_mount_blob},
  {"put_blobs", l_client_put_blobs},
  {"resolve", l_client_resolve},
  {"delete_manifest", l_client_delete_manifest},
  {"put_blob_file", l_client_put_blob_file},
  {"put_manifest", l_client_put_manifest},
  {"put_manifests", l_client_put_manifests},
  {"manifest", l_client_manifest},
  {"tags", l_client_tags},
  {NULL, NULL}
};

static const luaL_Reg registry_funcs[] = {
  {"parse_ref", l_parse_ref},
  {"connect", l_connect},
  {NULL, NULL}
};

int luaopen_hoist_registry(lua_State *L)
{
  luaL_newmetatable(L, CLIENT_MT);
  lua_pushcfunction(L, l_client_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_client_gc);
  lua_setfield(L, -2, "__close");
  luaL_newlib(L, client_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newmetatable(L, STREAM_MT);
  lua_pushcfunction(L, l_stream_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_stream_close);
  lua_setfield(L, -2, "__close");
  luaL_newlib(L, stream_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newlib(L, registry_funcs);
  return 1;
}
