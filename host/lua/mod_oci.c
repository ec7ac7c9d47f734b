/*
** hoist.oci.core: the native half of hoist.oci (lua/hoist/oci.lua holds the
** rest): digests, and layers planned and written in parallel.
*/
#include "binding.h"
#include "condwait.h"
#include "digest.h"
#include "layer.h"
#include "manifest.h"
#include "pool.h"
#include "pushstream.h"
#include "tarfile.h"

#include <lauxlib.h>
#include <lua.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdatomic.h>

#include <stdlib.h>
#include <string.h>

#define PLAN_MT "hoist.LayerPlan"
#define FILES_MT "hoist.LayerWriteFiles"

int luaopen_hoist_oci_core(lua_State *L);

struct lplan {
  struct hoist_layer_plan *p;
};

static int push_err(lua_State *L, const struct hoist_err *err)
{
  luaL_pushfail(L);
  lua_pushstring(L, err->msg);
  lua_pushstring(L, hoist_err_name(err->code));
  return 3;
}

static int l_oci_digest(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  char out[HOIST_DIGEST_LEN + 1];
  struct hoist_err err;
  if (hoist_digest_buffer(s, len, out, &err))
    return push_err(L, &err);
  lua_pushstring(L, out);
  return 1;
}

static int l_oci_digest_file(lua_State *L)
{
  char out[HOIST_DIGEST_LEN + 1];
  unsigned long long size;
  struct hoist_err err;
  if (hoist_digest_file(luaL_checkstring(L, 1), out, &size, &err))
    return push_err(L, &err);
  lua_pushstring(L, out);
  lua_pushinteger(L, (lua_Integer)size);
  return 2;
}

static int l_oci_digest_valid(lua_State *L)
{
  lua_pushboolean(L, lua_type(L, 1) == LUA_TSTRING && hoist_digest_valid(lua_tostring(L, 1)));
  return 1;
}

static enum hoist_compression check_compression(lua_State *L, int idx, const char *s)
{
  if (!s || strcmp(s, "gzip") == 0)
    return HOIST_COMPRESS_GZIP;
  if (strcmp(s, "zstd") == 0)
    return HOIST_COMPRESS_ZSTD;
  if (strcmp(s, "none") == 0)
    return HOIST_COMPRESS_NONE;
  luaL_argerror(L, idx, "compression must be gzip, zstd or none");
  return HOIST_COMPRESS_GZIP;
}

static int l_oci_media_type(lua_State *L)
{
  lua_pushstring(L, hoist_layer_media_type(check_compression(L, 1, luaL_optstring(L, 1, "gzip"))));
  return 1;
}

static int l_plan_gc(lua_State *L)
{
  struct lplan *lp = luaL_checkudata(L, 1, PLAN_MT);
  hoist_layer_plan_free(lp->p);
  lp->p = NULL;
  return 0;
}

static int l_plan_key(lua_State *L)
{
  struct lplan *lp = luaL_checkudata(L, 1, PLAN_MT);
  lua_pushstring(L, hoist_layer_plan_key(lp->p));
  return 1;
}

static int l_plan_entries(lua_State *L)
{
  struct lplan *lp = luaL_checkudata(L, 1, PLAN_MT);
  lua_pushinteger(L, (lua_Integer)hoist_layer_plan_entries(lp->p));
  return 1;
}

static const char *const entry_keys[] = { "from", "to", "mode", "owner", "exclude", NULL };

/*
** Checks entry i (the table on top of the stack): only known keys, right types. Raises.
** Returns its number of exclude patterns.
*/
static size_t check_entry(lua_State *L, lua_Integer i)
{
  size_t k, n = 0;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    int known = 0;
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "layer entry %d: unknown key of type %s", (int)i, luaL_typename(L, -1));
    for (k = 0; entry_keys[k]; k++)
      if (strcmp(lua_tostring(L, -1), entry_keys[k]) == 0)
        known = 1;
    if (!known)
      luaL_error(L, "layer entry %d: unknown key '%s' (known: from, to, mode, owner, exclude)",
                 (int)i, lua_tostring(L, -1));
  }
  /* strings only: a number would be converted on a stack slot popped below, and freed */
  if (lua_getfield(L, -1, "from") != LUA_TSTRING || lua_getfield(L, -2, "to") != LUA_TSTRING)
    luaL_error(L, "layer entry %d: 'from' and 'to' must be strings", (int)i);
  lua_pop(L, 2);
  if (lua_getfield(L, -1, "owner") != LUA_TNIL && lua_type(L, -1) != LUA_TSTRING)
    luaL_error(L, "layer entry %d: owner must be a string \"uid:gid\"", (int)i);
  lua_pop(L, 1);
  switch (lua_getfield(L, -1, "exclude")) {
  case LUA_TNIL:
    break;
  case LUA_TTABLE:
    n = (size_t)lua_rawlen(L, -1);
    for (k = 1; k <= n; k++) {
      if (lua_rawgeti(L, -1, (lua_Integer)k) != LUA_TSTRING)
        luaL_error(L, "layer entry %d: exclude[%d] must be a string", (int)i, (int)k);
      lua_pop(L, 1);
    }
    break;
  default:
    luaL_error(L, "layer entry %d: exclude must be a list of patterns", (int)i);
  }
  lua_pop(L, 1);
  return n;
}

/*
** plan_layer({ {from=, to=, mode=, owner="uid:gid", exclude={glob, ...}}, ... },
**            { compression=, level=, mtime=, root=, parents= }) -> plan | nil, err, code
** parents = false: folders implied by deeper entries are not written (a layer over a base).
** All arguments are checked and read into C arrays before anything is allocated that a raise
** could leak; the strings stay referenced by the tables of argument 1.
*/
static int l_oci_plan_layer(lua_State *L)
{
  struct hoist_layer_input *in;
  struct hoist_layer_opts o;
  struct hoist_err err;
  struct lplan *lp;
  const char **pats;
  lua_Integer i, n;
  size_t total = 0, used = 0, k;
  int rc;

  luaL_checktype(L, 1, LUA_TTABLE);
  n = (lua_Integer)lua_rawlen(L, 1);
  if (n < 1)
    luaL_argerror(L, 1, "a layer needs at least one {from=, to=} entry");
  memset(&o, 0, sizeof o);
  o.level = -1;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getfield(L, 2, "compression");
    o.compression = check_compression(L, 2, lua_tostring(L, -1));
    lua_getfield(L, 2, "level");
    o.level = (int)luaL_optinteger(L, -1, -1);
    lua_getfield(L, 2, "mtime");
    o.mtime = (long long)luaL_optinteger(L, -1, 0);
    lua_getfield(L, 2, "root");
    o.root = lua_tostring(L, -1);  /* stays on the stack, so stays alive */
    lua_getfield(L, 2, "parents");
    if (!lua_isnil(L, -1) && !lua_isboolean(L, -1))
      luaL_argerror(L, 2, "parents must be a boolean");
    o.no_parents = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
  }
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, 1, i) != LUA_TTABLE)
      return luaL_error(L, "layer entry %d: a table {from=, to=} expected", (int)i);
    total += check_entry(L, i);
    lua_pop(L, 1);
  }
  /* userdata scratch arrays, so a raise below frees them through the GC */
  in = lua_newuserdatauv(L, (size_t)n * sizeof *in, 0);
  memset(in, 0, (size_t)n * sizeof *in);
  pats = lua_newuserdatauv(L, (total ? total : 1) * sizeof *pats, 0);
  for (i = 1; i <= n; i++) {
    struct hoist_layer_input *e = &in[i - 1];
    lua_rawgeti(L, 1, i);
    lua_getfield(L, -1, "from");
    lua_getfield(L, -2, "to");
    e->from = lua_tostring(L, -2);
    e->to = lua_tostring(L, -1);
    lua_pop(L, 2);
    lua_getfield(L, -1, "mode");
    if (lua_isnil(L, -1))
      e->mode = -1;
    else if (lua_type(L, -1) == LUA_TSTRING)
      e->mode = (int)strtol(lua_tostring(L, -1), NULL, 8);
    else
      e->mode = (int)luaL_checkinteger(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, -1, "owner") == LUA_TSTRING &&
        hoist_layer_parse_owner(lua_tostring(L, -1), &e->uid, &e->gid, &err))
      return luaL_error(L, "layer entry %d: %s", (int)i, err.msg);
    lua_pop(L, 1);
    if (lua_getfield(L, -1, "exclude") == LUA_TTABLE) {
      e->exclude = pats + used;
      e->n_exclude = (size_t)lua_rawlen(L, -1);
      for (k = 1; k <= e->n_exclude; k++) {
        lua_rawgeti(L, -1, (lua_Integer)k);
        pats[used++] = lua_tostring(L, -1);  /* alive in the exclude table */
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 2);
  }
  lp = lua_newuserdatauv(L, sizeof *lp, 0);
  lp->p = NULL;
  luaL_setmetatable(L, PLAN_MT);
  rc = hoist_layer_plan(in, (size_t)n, &o, &lp->p, &err);
  if (rc)
    return push_err(L, &err);
  return 1;
}

/* The file lists of write_layers, owned by a userdata so that a raise while the tables are built frees them. */
struct files_box {
  size_t n;
  struct hoist_layer_files f[];
};

static void files_box_clear(struct files_box *b)
{
  size_t i;
  for (i = 0; i < b->n; i++)
    hoist_layer_files_free(&b->f[i]);
  b->n = 0;
}

static int l_files_box_gc(lua_State *L)
{
  files_box_clear(luaL_checkudata(L, 1, FILES_MT));
  return 0;
}

/* A build run on a thread of its own while the calling thread reports progress to Lua. */
struct build {
  struct hoist_push_stream *push;
  struct hoist_layer_plan **plans;
  size_t n;
  const char *dir;
  int threads;
  struct hoist_layer_result *res;
  struct hoist_layer_files *files;
  _Atomic unsigned long long read_bytes;
  int *rcs;
  struct hoist_err *errs;
  int rc;
  int done;                    /* under mu */
  pthread_mutex_t mu;
  pthread_cond_t cv;
};

static int build_run(struct build *b)
{
  if (b->push)
    return hoist_push_stream_layers(b->push, b->plans, b->n, b->dir, b->threads, b->res,
                                    b->files, &b->read_bytes, b->rcs, b->errs);
  return hoist_layer_write_all_watch(b->plans, b->n, b->dir, b->threads, b->res, b->files,
                                     &b->read_bytes, b->rcs, b->errs);
}

static void *build_thread(void *arg)
{
  struct build *b = arg;
  int rc = build_run(b);
  pthread_mutex_lock(&b->mu);
  b->rc = rc;
  b->done = 1;
  pthread_cond_signal(&b->cv);
  pthread_mutex_unlock(&b->mu);
  return NULL;
}

/* Calls the progress function at fn with { read_bytes, total_bytes [, done = true] }; lua_pcall's result. */
static int report_build(lua_State *L, struct build *b, int fn, unsigned long long total, int done)
{
  lua_pushvalue(L, fn);
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer)atomic_load(&b->read_bytes));
  lua_setfield(L, -2, "read_bytes");
  lua_pushinteger(L, (lua_Integer)total);
  lua_setfield(L, -2, "total_bytes");
  if (done) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "done");
  }
  return lua_pcall(L, 1, 0, 0);
}

/*
** Runs the build on a thread and calls the Lua function at index fn about every 250 ms, and
** once at the end, with { read_bytes, total_bytes } (file content read into the tars; the last
** call also has done = true). The
** thread only touches C memory the caller keeps alive on the stack; an error the function
** raises is raised once the build has ended (it cannot be stopped halfway without leaving
** uploads behind).
*/
static int build_with_progress(lua_State *L, struct build *b, int fn, unsigned long long total)
{
  int failed = 0;
  pthread_t th;
  if (pthread_mutex_init(&b->mu, NULL) != 0)
    return luaL_error(L, "write_layers: out of memory");
  if (hoist_cond_init(&b->cv) != 0) {
    pthread_mutex_destroy(&b->mu);
    return luaL_error(L, "write_layers: out of memory");
  }
  if (pthread_create(&th, NULL, build_thread, b) != 0) {
    b->rc = build_run(b);       /* no thread to be had: build here, report at the end */
    b->done = 1;
  } else {
    pthread_mutex_lock(&b->mu);
    while (!b->done) {
      hoist_cond_wait_ms(&b->cv, &b->mu, 250);
      if (b->done || failed)
        continue;
      pthread_mutex_unlock(&b->mu);
      if (report_build(L, b, fn, total, 0) != LUA_OK)
        failed = 1;             /* the error stays on the stack */
      pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    pthread_join(th, NULL);
  }
  pthread_cond_destroy(&b->cv);
  pthread_mutex_destroy(&b->mu);
  if (failed)
    return -1;
  return report_build(L, b, fn, total, 1) != LUA_OK ? -1 : 0;
}

/*
** write_layers({plan, ...}, blob_dir [, threads | { threads = n, push = stream, files = bool }])
**   -> { {digest=, diff_id=, size=, ...}, ... } | nil, "layer N: err", code, N
** threads: how many threads compress, the calling one included (nil or 0: $HOIST_THREADS, else
** the CPUs hoist may use). The bytes written do not depend on it. push: a push stream
** (c:push_stream): every layer is also uploaded while it is written (pushstream.h); when an
** upload failed, that is the failure reported (N the layer it was uploading).
** files: true adds `files` to each result, the layer's entries with their hashes, recorded while
** it was written (a hoist.LayerFiles, layerlist.c): what layer_files (hoist.sign.core) reads
** back from the blob.
** progress: a function called on this thread about 4 times a second while the layers are
** built, and once at the end, with { read_bytes, total_bytes } (file content read so far;
** done = true in the last call).
*/
static int l_oci_write_layers(lua_State *L)
{
  static const char *const keys[] = { "threads", "push", "files", "progress", NULL };
  const char *dir = luaL_checkstring(L, 2);
  lua_Integer threads = 0;
  int want_files = 0, fn = 0, push_at = 0;
  struct hoist_push_stream *push = NULL;
  lua_Integer i, n;
  struct files_box *fb = NULL;
  struct hoist_layer_plan **plans;
  struct hoist_layer_result *res;
  struct hoist_err *errs;
  int *rcs, rc;
  size_t bytes;
  char *block;

  if (lua_istable(L, 3)) {
    hoist_lua_check_keys(L, 3, "write_layers", keys);
    lua_getfield(L, 3, "threads");
    threads = luaL_optinteger(L, -1, 0);
    lua_pop(L, 1);
    if (lua_getfield(L, 3, "files") != LUA_TNIL)
      luaL_checktype(L, -1, LUA_TBOOLEAN);
    want_files = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, 3, "push") != LUA_TNIL) {
      push_at = lua_gettop(L);  /* stays on the stack */
      push = hoist_lua_check_push_stream(L, push_at);
    }
    if (lua_getfield(L, 3, "progress") != LUA_TNIL) {
      luaL_argcheck(L, lua_isfunction(L, -1), 3, "'progress' must be a function");
      fn = lua_gettop(L);
    }
  } else {
    threads = luaL_optinteger(L, 3, 0);
  }

  luaL_checktype(L, 1, LUA_TTABLE);
  n = (lua_Integer)lua_rawlen(L, 1);
  bytes = (size_t)n * (sizeof *plans + sizeof *res + sizeof *errs + sizeof *rcs) + 64;
  block = lua_newuserdatauv(L, bytes, 0);
  /* pointers, then 8-byte aligned results, then the int-aligned parts */
  plans = (struct hoist_layer_plan **)block;
  res = (struct hoist_layer_result *)(plans + n);
  errs = (struct hoist_err *)(res + n);
  rcs = (int *)(errs + n);
  /* the plans are anchored here too: a progress function may change the caller's table */
  lua_createtable(L, (int)n, 0);
  for (i = 1; i <= n; i++) {
    struct lplan *lp;
    lua_rawgeti(L, 1, i);
    lp = luaL_testudata(L, -1, PLAN_MT);
    if (!lp || !lp->p)
      return luaL_error(L, "write_layers: element %d is not a layer plan", (int)i);
    plans[i - 1] = lp->p;
    lua_rawseti(L, -2, i);
  }
  luaL_argcheck(L, threads >= 0 && threads <= HOIST_POOL_MAX_THREADS, 3,
                "threads must be 0 (automatic) to 256");
  if (want_files) {
    fb = lua_newuserdatauv(L, sizeof *fb + (size_t)n * sizeof fb->f[0], 0);
    memset(fb, 0, sizeof *fb + (size_t)n * sizeof fb->f[0]);
    luaL_setmetatable(L, FILES_MT);
    fb->n = (size_t)n;
  }
  {
    struct build *b = lua_newuserdatauv(L, sizeof *b, 0);
    unsigned long long total = 0;
    memset(b, 0, sizeof *b);
    b->push = push;
    b->plans = plans;
    b->n = (size_t)n;
    b->dir = dir;
    b->threads = (int)threads;
    b->res = res;
    b->files = fb ? fb->f : NULL;
    b->rcs = rcs;
    b->errs = errs;
    atomic_init(&b->read_bytes, 0);
    if (push && hoist_lua_push_stream_busy(L, push_at, 1) > 0) {
      hoist_lua_push_stream_busy(L, push_at, -1);
      return luaL_error(L, "write_layers: the push stream is busy (a wait or a build runs on it)");
    }
    if (fn) {
      for (i = 0; i < n; i++)
        total += hoist_layer_plan_bytes(plans[i]);
      if (build_with_progress(L, b, fn, total) != 0) {
        if (push)
          hoist_lua_push_stream_busy(L, push_at, -1);
        if (fb)
          files_box_clear(fb);
        return lua_error(L);
      }
    } else {
      b->rc = build_run(b);
    }
    if (push)
      hoist_lua_push_stream_busy(L, push_at, -1);
    rc = b->rc;
#ifdef __GLIBC__
    /* The build's threads freed their blocks into arenas of their own, which the main thread
    ** does not reuse: without this, what follows a build (SBOMs, the push) stacks on top of the
    ** build's peak instead of reusing its memory. */
    malloc_trim(0);
#endif
  }
  if (rc) {
    struct hoist_err ferr;
    size_t at = 0;
    if (fb)
      files_box_clear(fb);   /* the layers that were written: their lists are not returned */
    /* an upload failure is what stopped the build: name the layer it was uploading */
    if (push && hoist_push_stream_failure(push, &ferr, &at, NULL)) {
      rcs[at] = ferr.code;
      errs[at] = ferr;
    }
    for (i = push ? (lua_Integer)at : 0; i < n; i++)
      if (rcs[i]) {
        luaL_pushfail(L);
        lua_pushfstring(L, "layer %d: %s", (int)i + 1, errs[i].msg);
        lua_pushstring(L, hoist_err_name(rcs[i]));
        lua_pushinteger(L, i + 1);
        return 4;
      }
  }
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    lua_createtable(L, 0, 5);
    lua_pushstring(L, res[i].digest);
    lua_setfield(L, -2, "digest");
    lua_pushstring(L, res[i].diff_id);
    lua_setfield(L, -2, "diff_id");
    lua_pushinteger(L, (lua_Integer)res[i].size);
    lua_setfield(L, -2, "size");
    lua_pushinteger(L, (lua_Integer)res[i].tar_size);
    lua_setfield(L, -2, "tar_size");
    lua_pushinteger(L, (lua_Integer)res[i].entries);
    lua_setfield(L, -2, "entries");
    if (fb) {
      hoist_lua_push_layer_list(L, &fb->f[i]);   /* the entries move to Lua's collector */
      lua_setfield(L, -2, "files");
    }
    if (push) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "streamed");
    }
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* write_tar(path, { {name=, path=} | {name=, data=}, ... } [, mtime]) -> true | nil, err */
static int l_oci_write_tar(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  long long mtime = (long long)luaL_optinteger(L, 3, 0);
  struct hoist_tar_member *m;
  struct hoist_err err;
  lua_Integer i, n;
  luaL_checktype(L, 2, LUA_TTABLE);
  n = (lua_Integer)lua_rawlen(L, 2);
  m = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *m, 0);
  for (i = 1; i <= n; i++) {
    struct hoist_tar_member *e = &m[i - 1];
    size_t len = 0;
    if (lua_rawgeti(L, 2, i) != LUA_TTABLE)
      return luaL_error(L, "write_tar: member %d must be a table", (int)i);
    lua_getfield(L, -1, "name");
    lua_getfield(L, -2, "path");
    lua_getfield(L, -3, "data");
    if (lua_type(L, -3) != LUA_TSTRING || (!lua_isnil(L, -2) && lua_type(L, -2) != LUA_TSTRING) ||
        (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING))
      return luaL_error(L, "write_tar: member %d: name, path and data must be strings", (int)i);
    e->name = lua_tostring(L, -3);
    e->path = lua_tostring(L, -2);
    e->data = lua_tolstring(L, -1, &len);
    e->len = len;
    e->mode = 0644;
    if (!e->name || (!e->path && !e->data))
      return luaL_error(L, "write_tar: member %d needs a name and a path or data", (int)i);
    lua_pop(L, 4);  /* the strings stay alive in the member tables of argument 2 */
  }
  if (hoist_tar_write(path, m, (size_t)n, mtime, &err))
    return push_err(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

struct scan_ctx {
  lua_State *L;
  int paths;   /* stack index of the name -> type table */
  int want;    /* stack index of the set of wanted names (or 0) */
  int files;   /* stack index of the name -> content table */
  int info;    /* stack index of the name -> { type, mode, link } table (or 0) */
};

static int scan_entry(void *c, const struct hoist_tar_entry *e)
{
  struct scan_ctx *s = c;
  char t[2] = { e->type, 0 };
  const char *name = e->name;
  int wanted = 0;
  while (name[0] == '.' && name[1] == '/')
    name += 2;
  lua_pushstring(s->L, t);
  lua_setfield(s->L, s->paths, name);
  if (s->info) {
    lua_createtable(s->L, 0, 3);
    lua_pushstring(s->L, t);
    lua_setfield(s->L, -2, "type");
    lua_pushinteger(s->L, e->mode);
    lua_setfield(s->L, -2, "mode");
    if (e->link) {
      lua_pushstring(s->L, e->link);
      lua_setfield(s->L, -2, "link");
    }
    lua_setfield(s->L, s->info, name);
  }
  if (s->want) {
    lua_getfield(s->L, s->want, name);
    wanted = lua_toboolean(s->L, -1);
    lua_pop(s->L, 1);
  }
  return wanted;
}

static int scan_data(void *c, const char *name, const char *data, size_t len)
{
  struct scan_ctx *s = c;
  while (name[0] == '.' && name[1] == '/')
    name += 2;
  lua_pushlstring(s->L, data, len);
  lua_setfield(s->L, s->files, name);
  return 0;
}

/*
** scan_layer(path [, { "metadata.json", ... } [, max [, details]]]) -> paths, files [, info] | nil, err
** paths: every entry name -> "f" | "d" | "l" | "h" | "o"; files: wanted name -> content;
** with details, info: every entry name -> { type, mode, link = target (symlinks, hard links) }.
** Lua values are only created from the callbacks, between archive calls: nothing raises inside
** libarchive (the tables are preallocated on the stack).
*/
static int l_oci_scan_layer(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  size_t max = (size_t)luaL_optinteger(L, 3, 16 << 20);
  int details = lua_toboolean(L, 4);
  struct scan_ctx s;
  struct hoist_err err;
  lua_settop(L, 3);
  s.L = L;
  s.want = 0;
  s.info = 0;
  if (lua_istable(L, 2)) {
    lua_Integer i, n = (lua_Integer)lua_rawlen(L, 2);
    lua_createtable(L, 0, (int)n);
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, 2, i);
      lua_pushboolean(L, 1);
      lua_settable(L, -3);
    }
    s.want = lua_gettop(L);
  }
  lua_newtable(L);
  s.paths = lua_gettop(L);
  lua_newtable(L);
  s.files = lua_gettop(L);
  if (details) {
    lua_newtable(L);
    s.info = lua_gettop(L);
  }
  luaL_checkstack(L, 8, NULL);
  if (hoist_tar_scan(path, max, scan_entry, scan_data, &s, &err))
    return push_err(L, &err);
  return details ? 3 : 2;
}

#define MANIFEST_BOX_MT "hoist.ManifestBox"

/* A box owns the decoded manifest, so a raise while its table is built cannot leak it. */
static int l_manifest_box_gc(lua_State *L)
{
  struct hoist_manifest **box = luaL_checkudata(L, 1, MANIFEST_BOX_MT);
  hoist_manifest_free(*box);
  *box = NULL;
  return 0;
}

static void push_annotations(lua_State *L, const struct hoist_annotation *a, size_t n)
{
  size_t i;
  lua_createtable(L, 0, (int)n);
  for (i = 0; i < n; i++) {
    lua_pushstring(L, a[i].value);
    lua_setfield(L, -2, a[i].key);
  }
}

/*
** { mediaType, digest, size [, artifactType] [, annotations]
**   [, platform = { os, architecture [, variant] [, ["os.version"]] }] }
*/
static void push_descriptor(lua_State *L, const struct hoist_descriptor *d)
{
  lua_createtable(L, 0, 4);
  lua_pushstring(L, d->media_type);
  lua_setfield(L, -2, "mediaType");
  lua_pushstring(L, d->digest);
  lua_setfield(L, -2, "digest");
  lua_pushinteger(L, (lua_Integer)d->size);
  lua_setfield(L, -2, "size");
  if (d->artifact_type) {
    lua_pushstring(L, d->artifact_type);
    lua_setfield(L, -2, "artifactType");
  }
  if (d->n_annotations) {
    push_annotations(L, d->annotations, d->n_annotations);
    lua_setfield(L, -2, "annotations");
  }
  if (d->platform) {
    lua_createtable(L, 0, 3);
    lua_pushstring(L, d->platform->os);
    lua_setfield(L, -2, "os");
    lua_pushstring(L, d->platform->architecture);
    lua_setfield(L, -2, "architecture");
    lua_pushstring(L, d->platform->variant);  /* NULL pushes nil: no field */
    lua_setfield(L, -2, "variant");
    lua_pushstring(L, d->platform->os_version);
    lua_setfield(L, -2, "os.version");
    lua_setfield(L, -2, "platform");
  }
}

static void push_descriptors(lua_State *L, const struct hoist_descriptor *d, size_t n)
{
  size_t i;
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    push_descriptor(L, &d[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

/*
** parse_manifest(bytes [, media_type]) -> { kind = "image"|"index", media_type, config, layers,
**   manifests [, subject] [, artifact_type] [, annotations] } | nil, err, code
** media_type is the Content-Type or the referring descriptor's mediaType (see manifest.h).
** layers and manifests are always arrays (the other kind's is empty); config is an image's.
*/
static int l_oci_parse_manifest(lua_State *L)
{
  size_t len, hint_len = 0;
  const char *bytes = luaL_checklstring(L, 1, &len);
  const char *hint = luaL_optlstring(L, 2, NULL, &hint_len);
  struct hoist_manifest **box, *m;
  struct hoist_err err;
  luaL_argcheck(L, !hint || strlen(hint) == hint_len, 2, "media type holds a NUL byte");
  box = lua_newuserdatauv(L, sizeof *box, 0);
  *box = NULL;
  if (luaL_newmetatable(L, MANIFEST_BOX_MT)) {
    lua_pushcfunction(L, l_manifest_box_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  if (hoist_manifest_parse(bytes, len, hint, box, &err))
    return push_err(L, &err);
  m = *box;
  lua_createtable(L, 0, 8);
  lua_pushstring(L, m->kind == HOIST_MANIFEST_INDEX ? "index" : "image");
  lua_setfield(L, -2, "kind");
  lua_pushstring(L, m->media_type);
  lua_setfield(L, -2, "media_type");
  if (m->config) {
    push_descriptor(L, m->config);
    lua_setfield(L, -2, "config");
  }
  push_descriptors(L, m->layers, m->n_layers);
  lua_setfield(L, -2, "layers");
  push_descriptors(L, m->manifests, m->n_manifests);
  lua_setfield(L, -2, "manifests");
  if (m->subject) {
    push_descriptor(L, m->subject);
    lua_setfield(L, -2, "subject");
  }
  if (m->artifact_type) {
    lua_pushstring(L, m->artifact_type);
    lua_setfield(L, -2, "artifact_type");
  }
  if (m->n_annotations) {
    push_annotations(L, m->annotations, m->n_annotations);
    lua_setfield(L, -2, "annotations");
  }
  hoist_manifest_free(m);
  *box = NULL;
  return 1;
}

static const luaL_Reg oci_funcs[] = {
  {"parse_manifest", l_oci_parse_manifest},
  {"scan_layer", l_oci_scan_layer},
  {"write_tar", l_oci_write_tar},
  {"digest", l_oci_digest},
  {"digest_file", l_oci_digest_file},
  {"digest_valid", l_oci_digest_valid},
  {"media_type", l_oci_media_type},
  {"plan_layer", l_oci_plan_layer},
  {"write_layers", l_oci_write_layers},
  {NULL, NULL}
};

static const luaL_Reg plan_methods[] = {
  {"key", l_plan_key},
  {"entries", l_plan_entries},
  {NULL, NULL}
};

int luaopen_hoist_oci_core(lua_State *L)
{
  luaL_newmetatable(L, FILES_MT);
  lua_pushcfunction(L, l_files_box_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_newmetatable(L, PLAN_MT);
  lua_pushcfunction(L, l_plan_gc);
  lua_setfield(L, -2, "__gc");
  luaL_newlib(L, plan_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newlib(L, oci_funcs);
  return 1;
}
