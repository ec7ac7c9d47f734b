/*
** hoist.semver: the Lua face of semver.c. Converts arguments and errors only.
** Versions are userdata "hoist.Version" (fields major, minor, patch,
** prerelease, build, version; __eq/__lt/__le by precedence; tostring with
** build). Ranges given as strings are parsed once and kept in a small cache
** per option set, as node-semver does, because recipes test many versions
** against the same few ranges.
*/
#include "semver.h"
#include "semver_sort.h"

#include <lauxlib.h>
#include <lua.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VERSION_MT "hoist.Version"
#define RANGE_MT "hoist.Range"
#define RANGE_CACHE_MAX 1000

struct lversion {
  struct hoist_semver *v;
};

struct lrange {
  struct hoist_range *r;
};

/* ---- options ---- */

static int opt_flags(lua_State *L, int idx)
{
  int flags = 0;
  if (lua_isnoneornil(L, idx))
    return 0;
  if (lua_type(L, idx) == LUA_TBOOLEAN)
    return lua_toboolean(L, idx) ? HOIST_SEMVER_LOOSE : 0;
  luaL_checktype(L, idx, LUA_TTABLE);
  if (lua_getfield(L, idx, "loose") != LUA_TNIL && lua_toboolean(L, -1))
    flags |= HOIST_SEMVER_LOOSE;
  if (lua_getfield(L, idx, "include_prerelease") != LUA_TNIL && lua_toboolean(L, -1))
    flags |= HOIST_SEMVER_INCLUDE_PRERELEASE;
  if (lua_getfield(L, idx, "rtl") != LUA_TNIL && lua_toboolean(L, -1))
    flags |= HOIST_SEMVER_RTL;
  lua_pop(L, 3);
  return flags;
}

/* ---- versions ---- */

static struct lversion *test_version(lua_State *L, int idx)
{
  return luaL_testudata(L, idx, VERSION_MT);
}

static void push_version(lua_State *L, struct hoist_semver *v)
{
  struct lversion *lv = lua_newuserdatauv(L, sizeof *lv, 0);
  lv->v = v;
  luaL_setmetatable(L, VERSION_MT);
}

/* Room for a parsed temporary version on the C stack, so hot paths do not allocate. */
struct vbuf {
  union {
    uint64_t u;
    void *p;
    char b[1536];
  } u;
};

/*
** A version argument: a version object, or a string parsed into vb (when
** given and big enough) or else into *owned. NULL when invalid.
*/
static const struct hoist_semver *arg_version_in(lua_State *L, int idx, int flags,
                                                 struct hoist_semver **owned,
                                                 struct hoist_err *err, struct vbuf *vb)
{
  struct lversion *lv;
  size_t len;
  const char *s;
  *owned = NULL;
  if (vb && lua_type(L, idx) == LUA_TSTRING) {
    struct hoist_semver *v;
    int rc;
    s = lua_tolstring(L, idx, &len);
    rc = hoist_semver_parse_in(s, len, flags, vb->u.b, sizeof vb->u.b, &v, err);
    if (rc == HOIST_OK)
      return v;
    if (rc != HOIST_ERANGE)
      return NULL;
  }
  if ((lv = test_version(L, idx)) != NULL)
    return lv->v;
  s = lua_tolstring(L, idx, &len);
  if (!s || lua_type(L, idx) != LUA_TSTRING) {
    hoist_err_set(err, HOIST_EINVAL, "invalid version (a %s value)", luaL_typename(L, idx));
    return NULL;
  }
  if (hoist_semver_parse(s, len, flags, owned, err) != HOIST_OK)
    return NULL;
  return *owned;
}

static const struct hoist_semver *arg_version(lua_State *L, int idx, int flags,
                                              struct hoist_semver **owned, struct hoist_err *err)
{
  return arg_version_in(L, idx, flags, owned, err, NULL);
}

/* Like arg_version but raises on a bad value (compare, diff, sort: node throws there). */
static const struct hoist_semver *check_version(lua_State *L, int idx, int flags,
                                                struct hoist_semver **owned)
{
  struct hoist_err err;
  const struct hoist_semver *v;
  int t = lua_type(L, idx);
  if (t != LUA_TSTRING && !test_version(L, idx))
    luaL_typeerror(L, idx, "version string or object");
  v = arg_version(L, idx, flags, owned, &err);
  if (!v)
    luaL_error(L, "%s", err.msg);
  return v;
}

/*
** The two version arguments of compare(), diff(), gt() ...: parsed, or a raise
** naming the invalid one (before anything is owned). Release with two_release.
*/
struct two {
  const struct hoist_semver *a, *b;
  struct hoist_semver *oa, *ob;
};

static void two_versions(lua_State *L, int flags, struct two *t)
{
  t->oa = t->ob = NULL;
  t->a = check_version(L, 1, flags, &t->oa);
  t->b = arg_version(L, 2, flags, &t->ob, NULL);
  if (!t->b) {
    hoist_semver_free(t->oa);
    t->oa = NULL;
    check_version(L, 2, flags, &t->ob);  /* raises with the message */
  }
}

static void two_release(struct two *t)
{
  hoist_semver_free(t->oa);
  hoist_semver_free(t->ob);
  t->oa = t->ob = NULL;
}

static int l_version_index(lua_State *L)
{
  struct lversion *lv = luaL_checkudata(L, 1, VERSION_MT);
  const char *k = luaL_checkstring(L, 2);
  const struct hoist_semver *v = lv->v;
  size_t i;
  if (strcmp(k, "major") == 0)
    lua_pushinteger(L, (lua_Integer)v->major);
  else if (strcmp(k, "minor") == 0)
    lua_pushinteger(L, (lua_Integer)v->minor);
  else if (strcmp(k, "patch") == 0)
    lua_pushinteger(L, (lua_Integer)v->patch);
  else if (strcmp(k, "version") == 0)
    lua_pushlstring(L, v->version, v->version_len);
  else if (strcmp(k, "prerelease") == 0) {
    lua_createtable(L, (int)v->npre, 0);
    for (i = 0; i < v->npre; i++) {
      if (v->pre[i].numeric && !v->pre[i].big)
        lua_pushinteger(L, (lua_Integer)v->pre[i].num);
      else
        lua_pushlstring(L, v->pre[i].str, v->pre[i].len);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
  } else if (strcmp(k, "build") == 0) {
    lua_createtable(L, (int)v->nbuild, 0);
    for (i = 0; i < v->nbuild; i++) {
      lua_pushlstring(L, v->build[i].str, v->build[i].len);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
  } else {
    /* methods: v:compare(other), v:inc(release, ...) and friends */
    luaL_getmetafield(L, 1, "methods");
    lua_getfield(L, -1, k);
  }
  return 1;
}

static int l_version_tostring(lua_State *L)
{
  struct lversion *lv = luaL_checkudata(L, 1, VERSION_MT);
  lua_pushlstring(L, lv->v->full, lv->v->full_len);
  return 1;
}

static int l_version_gc(lua_State *L)
{
  struct lversion *lv = luaL_checkudata(L, 1, VERSION_MT);
  hoist_semver_free(lv->v);
  lv->v = NULL;
  return 0;
}

/* Both operands of a comparison metamethod; strings are parsed (raises if invalid). */
/* Both operands of a comparison metamethod (raises on an invalid one). */
static int compare_args(lua_State *L, int flags)
{
  struct two t;
  int c;
  two_versions(L, flags, &t);
  c = hoist_semver_compare(t.a, t.b);
  two_release(&t);
  return c;
}

static int l_version_eq(lua_State *L)
{
  lua_pushboolean(L, compare_args(L, 0) == 0);
  return 1;
}

static int l_version_lt(lua_State *L)
{
  lua_pushboolean(L, compare_args(L, 0) < 0);
  return 1;
}

static int l_version_le(lua_State *L)
{
  lua_pushboolean(L, compare_args(L, 0) <= 0);
  return 1;
}

/* ---- ranges ---- */

static int l_range_gc(lua_State *L)
{
  struct lrange *lr = luaL_checkudata(L, 1, RANGE_MT);
  hoist_range_free(lr->r);
  lr->r = NULL;
  return 0;
}

static int l_range_tostring(lua_State *L)
{
  struct lrange *lr = luaL_checkudata(L, 1, RANGE_MT);
  lua_pushstring(L, lr->r->formatted[0] ? lr->r->formatted : "*");
  return 1;
}

/*
** The range at idx as a parsed range: a range object, or a string looked up
** in (or added to) the cache for these flags. Returns NULL with err filled
** when the string is not a valid range; the userdata, if any, is left on the stack.
*/
static const struct hoist_range *arg_range(lua_State *L, int idx, int flags,
                                           struct hoist_err *err)
{
  struct lrange *lr;
  struct hoist_range *r;
  size_t len;
  const char *s;
  int cache;

  if ((lr = luaL_testudata(L, idx, RANGE_MT)) != NULL && (lr->r->flags & 3) == (flags & 3)) {
    lua_pushvalue(L, idx);
    return lr->r;
  }
  if (lr) {
    lua_pushstring(L, lr->r->formatted);
    lua_replace(L, idx);
  }
  if (lua_type(L, idx) != LUA_TSTRING) {
    luaL_typeerror(L, idx, "range string or object");
    return NULL;
  }
  s = lua_tolstring(L, idx, &len);
  /* registry[upvalue 1][flags & 3] is the cache table for those options */
  cache = lua_upvalueindex(1);
  if (lua_rawgeti(L, cache, (flags & 3) + 1) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawseti(L, cache, (flags & 3) + 1);
  }
  lua_pushvalue(L, idx);
  if (lua_rawget(L, -2) == LUA_TUSERDATA) {
    lr = lua_touserdata(L, -1);
    lua_remove(L, -2);
    return lr->r;
  }
  lua_pop(L, 1);
  lr = lua_newuserdatauv(L, sizeof *lr, 0);
  lr->r = NULL;
  luaL_setmetatable(L, RANGE_MT);
  if (hoist_range_parse(s, len, flags, &r, err) != HOIST_OK) {
    lua_pop(L, 2);
    return NULL;
  }
  lr->r = r;
  /* bounded: start a fresh table once it holds RANGE_CACHE_MAX ranges */
  lua_getfield(L, -2, "n");
  if (lua_tointeger(L, -1) >= RANGE_CACHE_MAX) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawseti(L, cache, (flags & 3) + 1);
    lua_replace(L, -3);
    lua_pushinteger(L, 0);
  }
  lua_pushinteger(L, lua_tointeger(L, -1) + 1);
  lua_setfield(L, -4, "n");
  lua_pop(L, 1);
  lua_pushvalue(L, idx);
  lua_pushvalue(L, -2);
  lua_rawset(L, -4);
  lua_remove(L, -2);
  return r;
}

/* ---- module functions ---- */

static int l_semver_parse(lua_State *L)
{
  struct hoist_semver *v;
  struct hoist_err err;
  size_t len;
  const char *s;
  int flags = opt_flags(L, 2);
  if (test_version(L, 1)) {
    lua_settop(L, 1);
    return 1;
  }
  s = luaL_checklstring(L, 1, &len);
  if (hoist_semver_parse(s, len, flags, &v, &err) != HOIST_OK) {
    luaL_pushfail(L);
    lua_pushstring(L, err.msg);
    lua_pushstring(L, hoist_err_name(err.code));
    return 3;
  }
  push_version(L, v);
  return 1;
}

/* valid(), clean(): the canonical string or nil. */
static int push_canonical(lua_State *L, struct hoist_semver *v)
{
  if (!v) {
    luaL_pushfail(L);
    return 1;
  }
  lua_pushlstring(L, v->version, v->version_len);
  hoist_semver_free(v);
  return 1;
}

static int l_semver_valid(lua_State *L)
{
  struct hoist_semver *owned;
  const struct hoist_semver *v;
  int flags = opt_flags(L, 2);
  if (lua_type(L, 1) != LUA_TSTRING && !test_version(L, 1)) {
    luaL_pushfail(L);
    return 1;
  }
  v = arg_version(L, 1, flags, &owned, NULL);
  if (!v) {
    luaL_pushfail(L);
    return 1;
  }
  lua_pushlstring(L, v->version, v->version_len);
  hoist_semver_free(owned);
  return 1;
}

static int l_semver_clean(lua_State *L)
{
  struct hoist_semver *v = NULL;
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  hoist_semver_clean(s, len, opt_flags(L, 2), &v, NULL);
  return push_canonical(L, v);
}

static int l_semver_coerce(lua_State *L)
{
  struct hoist_semver *v = NULL;
  struct hoist_err err;
  size_t len;
  const char *s;
  int flags = opt_flags(L, 2);
  struct lversion *lv = test_version(L, 1);
  if (lv) {
    lua_pushlstring(L, lv->v->version, lv->v->version_len);
    return 1;
  }
  if (lua_type(L, 1) != LUA_TSTRING && lua_type(L, 1) != LUA_TNUMBER) {
    luaL_pushfail(L);
    return 1;
  }
  s = lua_tolstring(L, 1, &len);
  if (hoist_semver_coerce(s, len, flags, &v, &err) != HOIST_OK)
    return luaL_error(L, "%s", err.msg);
  if (!v) {
    luaL_pushfail(L);
    return 1;
  }
  /* node answers a SemVer whose string drops build metadata */
  lua_pushlstring(L, v->version, v->version_len);
  hoist_semver_free(v);
  return 1;
}

static int l_semver_compare(lua_State *L)
{
  struct two t;
  int c;
  two_versions(L, opt_flags(L, 3), &t);
  c = hoist_semver_compare(t.a, t.b);
  two_release(&t);
  lua_pushinteger(L, c);
  return 1;
}

static int l_semver_compare_build(lua_State *L)
{
  struct two t;
  int c;
  two_versions(L, opt_flags(L, 3), &t);
  c = hoist_semver_compare_build(t.a, t.b);
  two_release(&t);
  lua_pushinteger(L, c);
  return 1;
}

/* gt, gte, lt, lte, eq, neq: compare() against a fixed outcome. */
static int compare_op(lua_State *L, int want_lt, int want_eq, int want_gt)
{
  struct two t;
  int c;
  two_versions(L, opt_flags(L, 3), &t);
  c = hoist_semver_compare(t.a, t.b);
  two_release(&t);
  lua_pushboolean(L, c < 0 ? want_lt : c == 0 ? want_eq : want_gt);
  return 1;
}

static int l_semver_gt(lua_State *L) { return compare_op(L, 0, 0, 1); }
static int l_semver_gte(lua_State *L) { return compare_op(L, 0, 1, 1); }
static int l_semver_lt(lua_State *L) { return compare_op(L, 1, 0, 0); }
static int l_semver_lte(lua_State *L) { return compare_op(L, 1, 1, 0); }
static int l_semver_eq(lua_State *L) { return compare_op(L, 0, 1, 0); }
static int l_semver_neq(lua_State *L) { return compare_op(L, 1, 0, 1); }

/*
** Recently parsed version strings, for comparison only (no text): a release
** script tests the same tags against several ranges in a row. One cache per
** process is enough: Lua states are used from one thread at a time, and push
** workers never parse versions.
*/
static struct hoist_semver_cache vcache;

/* Tests the version at vidx against r; invalid or empty versions do not satisfy. */
static int test_version_arg(lua_State *L, int vidx, const struct hoist_range *r)
{
  struct hoist_semver *owned;
  const struct hoist_semver *v;
  int ok;
  struct vbuf vb;
  int flags = (r->flags & ~HOIST_SEMVER_RTL) | HOIST_SEMVER_NO_TEXT;
  if (lua_type(L, vidx) == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, vidx, &len);
    if (len == 0)
      return 0;
    if ((v = hoist_semver_cache_get(&vcache, s, len, flags)) != NULL)
      return hoist_range_test(r, v);
  }
  v = arg_version_in(L, vidx, (r->flags & ~HOIST_SEMVER_RTL) | HOIST_SEMVER_NO_TEXT, &owned, NULL,
                     &vb);
  if (!v)
    return 0;
  ok = hoist_range_test(r, v);
  hoist_semver_free(owned);
  return ok;
}

static int l_semver_satisfies(lua_State *L)
{
  const struct hoist_range *r;
  int flags = opt_flags(L, 3);
  if (lua_type(L, 2) != LUA_TSTRING && !luaL_testudata(L, 2, RANGE_MT)) {
    lua_pushboolean(L, 0);
    return 1;
  }
  r = arg_range(L, 2, flags, NULL);
  lua_pushboolean(L, r && test_version_arg(L, 1, r));
  return 1;
}

static int l_semver_range(lua_State *L)
{
  struct hoist_err err;
  int flags = opt_flags(L, 2);
  if (!arg_range(L, 1, flags, &err)) {
    luaL_pushfail(L);
    lua_pushstring(L, err.msg);
    lua_pushstring(L, hoist_err_name(err.code));
    return 3;
  }
  return 1;
}

static int l_range_test(lua_State *L)
{
  struct lrange *lr = luaL_checkudata(L, 1, RANGE_MT);
  lua_pushboolean(L, test_version_arg(L, 2, lr->r));
  return 1;
}

/*
** The best element so far of a scan over a list: a version from the list
** (objects stay alive in the list; parsed strings are owned here) and its index.
*/
struct pick {
  const struct hoist_semver *v;
  struct hoist_semver *owned;
  lua_Integer index;
};

/* Takes v (and ownership of owned) when better says so; otherwise frees owned. */
static void pick_offer(struct pick *p, const struct hoist_semver *v, struct hoist_semver *owned,
                       lua_Integer index, int better)
{
  if (!p->v || better) {
    hoist_semver_free(p->owned);
    p->v = v;
    p->owned = owned;
    p->index = index;
  } else {
    hoist_semver_free(owned);
  }
}

/* Pushes the picked element as given in the list at idx (or fail), and frees the pick. */
static int pick_push(lua_State *L, int idx, struct pick *p)
{
  hoist_semver_free(p->owned);
  if (!p->v) {
    luaL_pushfail(L);
    return 1;
  }
  lua_rawgeti(L, idx, p->index);
  return 1;
}

/* max_satisfying / min_satisfying: the element as given. */
static int extreme_satisfying(lua_State *L, int want)
{
  const struct hoist_range *r;
  struct pick best = { NULL, NULL, 0 };
  lua_Integer i, n;
  int flags = opt_flags(L, 3);
  luaL_checktype(L, 1, LUA_TTABLE);
  if (lua_type(L, 2) != LUA_TSTRING && !luaL_testudata(L, 2, RANGE_MT)) {
    luaL_pushfail(L);
    return 1;
  }
  r = arg_range(L, 2, flags, NULL);
  if (!r) {
    luaL_pushfail(L);
    return 1;
  }
  n = (lua_Integer)lua_rawlen(L, 1);
  for (i = 1; i <= n; i++) {
    struct hoist_semver *owned = NULL;
    const struct hoist_semver *v;
    lua_rawgeti(L, 1, i);
    v = arg_version(L, -1, flags & ~HOIST_SEMVER_RTL, &owned, NULL);
    lua_pop(L, 1);
    if (!v || !hoist_range_test(r, v)) {
      hoist_semver_free(owned);
      continue;
    }
    pick_offer(&best, v, owned, i, best.v && hoist_semver_compare(best.v, v) == -want);
  }
  return pick_push(L, 1, &best);
}

static int l_semver_max_satisfying(lua_State *L) { return extreme_satisfying(L, 1); }
static int l_semver_min_satisfying(lua_State *L) { return extreme_satisfying(L, -1); }

static int l_semver_valid_range(lua_State *L)
{
  const struct hoist_range *r;
  int flags = opt_flags(L, 2);
  if (lua_type(L, 1) != LUA_TSTRING && !luaL_testudata(L, 1, RANGE_MT)) {
    luaL_pushfail(L);
    return 1;
  }
  r = arg_range(L, 1, flags, NULL);
  if (!r) {
    luaL_pushfail(L);
    return 1;
  }
  lua_pushstring(L, r->formatted[0] ? r->formatted : "*");
  return 1;
}

static int l_semver_min_version(lua_State *L)
{
  const struct hoist_range *r;
  struct hoist_semver *v;
  struct hoist_err err;
  int flags = opt_flags(L, 2);
  if (lua_type(L, 1) != LUA_TSTRING && !luaL_testudata(L, 1, RANGE_MT))
    luaL_typeerror(L, 1, "range string or object");
  r = arg_range(L, 1, flags, &err);
  if (!r) {
    luaL_pushfail(L);
    lua_pushstring(L, err.msg);
    return 2;
  }
  if (hoist_range_min_version(r, &v, &err) != HOIST_OK)
    return luaL_error(L, "%s", err.msg);
  return push_canonical(L, v);
}

/* inc(v, release [, opts] [, identifier [, identifier_base]]) */
static int l_semver_inc(lua_State *L)
{
  struct hoist_semver *owned;
  const struct hoist_semver *v;
  const char *release = luaL_checkstring(L, 2);
  const char *identifier = NULL;
  int flags = 0, base = 0, at = 3;
  char *out;
  if (lua_type(L, 3) == LUA_TTABLE || lua_type(L, 3) == LUA_TBOOLEAN) {
    flags = opt_flags(L, 3);
    at = 4;
  }
  if (!lua_isnoneornil(L, at))
    identifier = luaL_checkstring(L, at);
  if (lua_type(L, at + 1) == LUA_TBOOLEAN && !lua_toboolean(L, at + 1)) {
    base = -1;  /* node's `false`: no number after the identifier */
  } else if (!lua_isnoneornil(L, at + 1)) {
    /* node: Number(identifierBase) ? 1 : 0 */
    int isnum;
    lua_Number num;
    lua_pushvalue(L, at + 1);
    num = lua_tonumberx(L, -1, &isnum);
    lua_pop(L, 1);
    base = (isnum && num != 0 && num == num) ? 1 : 0;
  }
  v = arg_version(L, 1, flags, &owned, NULL);
  if (!v) {
    luaL_pushfail(L);
    return 1;
  }
  if (hoist_semver_inc(v, release, identifier, base, flags, &out, NULL) != HOIST_OK) {
    hoist_semver_free(owned);
    luaL_pushfail(L);
    return 1;
  }
  hoist_semver_free(owned);
  lua_pushstring(L, out);
  free(out);
  return 1;
}

static int l_semver_diff(lua_State *L)
{
  struct two t;
  const char *d;
  two_versions(L, 0, &t);
  d = hoist_semver_diff(t.a, t.b);
  two_release(&t);
  if (d)
    lua_pushstring(L, d);
  else
    luaL_pushfail(L);
  return 1;
}

/* ---- sort, rsort, latest ---- */

#define SORTER_MT "hoist.semver.sorter"

struct lsorter {
  struct hoist_semver_sorter *s;
};

static int l_sorter_gc(lua_State *L)
{
  struct lsorter *ls = lua_touserdata(L, 1);
  hoist_semver_sorter_free(ls->s);
  ls->s = NULL;
  return 0;
}

/*
** The sorter lives in a userdata freed by its __gc, so a raise in the middle
** (an invalid element) leaks nothing.
*/
static int sort_common(lua_State *L, int descending)
{
  lua_Integer i, n;
  struct lsorter *ls;
  int flags = (opt_flags(L, 2) & ~HOIST_SEMVER_RTL) | HOIST_SEMVER_NO_TEXT;
  luaL_checktype(L, 1, LUA_TTABLE);
  n = (lua_Integer)lua_rawlen(L, 1);
  ls = lua_newuserdatauv(L, sizeof *ls, 0);
  ls->s = NULL;
  luaL_setmetatable(L, SORTER_MT);
  if (hoist_semver_sorter_new((size_t)n, &ls->s) != HOIST_OK)
    return luaL_error(L, "out of memory");
  for (i = 1; i <= n; i++) {
    struct hoist_err err;
    int rc;
    lua_rawgeti(L, 1, i);
    if (lua_type(L, -1) == LUA_TSTRING) {
      size_t len;
      const char *str = lua_tolstring(L, -1, &len);
      rc = hoist_semver_sorter_add_text(ls->s, str, len, flags, (size_t)i, &err);
    } else {
      /* a version object stays alive in the table; anything else is an error */
      struct hoist_semver *owned = NULL;
      const struct hoist_semver *v = arg_version(L, -1, flags, &owned, &err);
      rc = !v        ? err.code
           : owned ? hoist_semver_sorter_add_owned(ls->s, owned, (size_t)i)
                   : hoist_semver_sorter_add(ls->s, v, (size_t)i);
      if (v && rc != HOIST_OK)
        hoist_err_set(&err, rc, "out of memory");
    }
    lua_pop(L, 1);
    if (rc != HOIST_OK)
      return luaL_error(L, "%s (element %d)", err.msg, (int)i);
  }
  hoist_semver_sorter_sort(ls->s, descending);
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, 1, (lua_Integer)hoist_semver_sorter_index(ls->s, (size_t)i));
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int l_semver_sort(lua_State *L) { return sort_common(L, 0); }
static int l_semver_rsort(lua_State *L) { return sort_common(L, 1); }

/* latest(tags [, range [, opts]]): highest valid semver tag, as written. */
static int l_semver_latest(lua_State *L)
{
  const struct hoist_range *r = NULL;
  struct pick best = { NULL, NULL, 0 };
  lua_Integer i, n;
  int flags;
  luaL_checktype(L, 1, LUA_TTABLE);
  if (lua_type(L, 2) == LUA_TTABLE && !luaL_testudata(L, 2, RANGE_MT)) {
    lua_settop(L, 2);
    lua_pushnil(L);
    lua_insert(L, 2);  /* latest(tags, opts) */
  }
  flags = opt_flags(L, 3);
  if (!lua_isnoneornil(L, 2)) {
    struct hoist_err err;
    r = arg_range(L, 2, flags, &err);
    if (!r)
      return luaL_error(L, "%s", err.msg);
  }
  n = (lua_Integer)lua_rawlen(L, 1);
  for (i = 1; i <= n; i++) {
    struct hoist_semver *owned = NULL;
    const struct hoist_semver *v;
    lua_rawgeti(L, 1, i);
    v = arg_version(L, -1, flags & HOIST_SEMVER_LOOSE, &owned, NULL);
    lua_pop(L, 1);
    if (!v)
      continue;
    if (r ? !hoist_range_test(r, v)
          : (v->npre && !(flags & HOIST_SEMVER_INCLUDE_PRERELEASE))) {
      hoist_semver_free(owned);
      continue;
    }
    pick_offer(&best, v, owned, i, best.v && hoist_semver_compare(v, best.v) > 0);
  }
  return pick_push(L, 1, &best);
}

/* ---- registration ---- */

static const luaL_Reg semver_funcs[] = {
  {"parse", l_semver_parse},
  {"valid", l_semver_valid},
  {"clean", l_semver_clean},
  {"coerce", l_semver_coerce},
  {"compare", l_semver_compare},
  {"compare_build", l_semver_compare_build},
  {"gt", l_semver_gt},
  {"gte", l_semver_gte},
  {"lt", l_semver_lt},
  {"lte", l_semver_lte},
  {"eq", l_semver_eq},
  {"neq", l_semver_neq},
  {"satisfies", l_semver_satisfies},
  {"range", l_semver_range},
  {"max_satisfying", l_semver_max_satisfying},
  {"min_satisfying", l_semver_min_satisfying},
  {"valid_range", l_semver_valid_range},
  {"min_version", l_semver_min_version},
  {"inc", l_semver_inc},
  {"diff", l_semver_diff},
  {"sort", l_semver_sort},
  {"rsort", l_semver_rsort},
  {"latest", l_semver_latest},
  {NULL, NULL}
};

/* Methods on version objects: v:compare(w), v:satisfies(r), v:inc("minor") ... */
static const char *const version_methods[] = {
  "compare", "compare_build", "satisfies", "inc", "diff", "gt", "gte", "lt", "lte", "eq", "neq",
  NULL
};

static const luaL_Reg version_meta[] = {
  {"__index", l_version_index},
  {"__tostring", l_version_tostring},
  {"__gc", l_version_gc},
  {"__eq", l_version_eq},
  {"__lt", l_version_lt},
  {"__le", l_version_le},
  {NULL, NULL}
};

static const luaL_Reg range_methods[] = {
  {"test", l_range_test},
  {NULL, NULL}
};

int luaopen_hoist_semver(lua_State *L);

int luaopen_hoist_semver(lua_State *L)
{
  const char *const *m;

  luaL_newmetatable(L, SORTER_MT);
  lua_pushcfunction(L, l_sorter_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);

  /* upvalue 1 of every function: the range caches, one table per option set */
  lua_newtable(L);
  lua_createtable(L, 0, (int)(sizeof semver_funcs / sizeof semver_funcs[0]));
  lua_pushvalue(L, -2);
  luaL_setfuncs(L, semver_funcs, 1);

  luaL_newmetatable(L, VERSION_MT);
  luaL_setfuncs(L, version_meta, 0);
  lua_createtable(L, 0, 12);
  for (m = version_methods; *m; m++) {
    lua_getfield(L, -3, *m);
    lua_setfield(L, -2, *m);
  }
  lua_setfield(L, -2, "methods");
  lua_pop(L, 1);

  luaL_newmetatable(L, RANGE_MT);
  lua_pushcfunction(L, l_range_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_range_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_newtable(L);
  lua_pushvalue(L, -4);
  luaL_setfuncs(L, range_methods, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);

  lua_remove(L, -2);
  return 1;
}
