/*
** hoist.json: JSON for Lua scripts on top of jansson, which parses and prints.
** This file converts between Lua values and json_t trees, and errors.
**
**   JSON object   <-> table with string keys
**   JSON array    <-> table whose keys are exactly 1..n
**   JSON null     <-> json.null, one zero-size userdata per state (tostring gives "null")
**   JSON integer  <-> Lua integer; an integer literal beyond 64 bits decodes as a float
**   JSON real     <-> Lua float; 1.0 encodes as 1.0 (jansson keeps the two number types)
**
** Marks: an empty table encodes as {}. json.array(t) and json.object(t) mark a
** table so it encodes as [] or {} whatever it holds (a key that does not fit is
** then an error). Marks live in a weak-keyed table (registry "hoist.json.marks",
** upvalue 2 of every function), not in metatables: marking never replaces or
** changes a table's own metatable, and a marked table stays a plain table.
** decode marks every array it makes, so "[]" survives a round trip.
**
** Ownership: jansson memory is held in a "box" userdata created before it is
** allocated, so a Lua error (out of memory while pushing) frees it through
** __gc, as liolib's newprefile does. Misuse is reported only after the
** partial tree has been freed; the box then owns nothing.
*/
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700  /* realpath, fsync, lstat */
#endif

#include "fsutil.h"
#include "jsonload.h"
#include "utf8.h"

#include <jansson.h>

#include <lauxlib.h>
#include <lua.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NULL_MT "hoist.JSONNull"
#define BOX_MT "hoist.JSONBox"
#define NULL_KEY "hoist.json.null"
#define MARKS_KEY "hoist.json.marks"

#define UV_NULL lua_upvalueindex(1)
#define UV_MARKS lua_upvalueindex(2)

#define JSON_MAX_NESTING 1000           /* tables inside tables, for encode */
#define JSON_MAX_FILE (256u << 20)      /* json.read refuses bigger files */
#define MSG_SIZE 512

_Static_assert(sizeof(lua_Integer) >= sizeof(json_int_t), "JSON integers must fit lua_Integer");

enum mark { MARK_NONE = 0, MARK_ARRAY = 1, MARK_OBJECT = 2 };

/* ---- box: jansson memory owned by a userdata ---- */

struct jbox {
  json_t *root;   /* a tree being converted */
  char *text;     /* json_dumps output */
};

static void box_clear(struct jbox *b)
{
  json_decref(b->root);
  b->root = NULL;
  free(b->text);
  b->text = NULL;
}

static int box_gc(lua_State *L)
{
  box_clear(luaL_checkudata(L, 1, BOX_MT));
  return 0;
}

/* Pushes an empty box. Call it before allocating what it will own. */
static struct jbox *box_new(lua_State *L)
{
  struct jbox *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->root = NULL;
  b->text = NULL;
  luaL_setmetatable(L, BOX_MT);
  return b;
}

/* ---- bounded message buffer ---- */

struct sbuf {
  char *p;
  size_t size, len;  /* p[len] is always '\0'; what does not fit is dropped */
};

static void sb_addf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_addf(struct sbuf *b, const char *fmt, ...)
{
  va_list ap;
  int n;
  if (b->len + 1 >= b->size)
    return;
  va_start(ap, fmt);
  n = vsnprintf(b->p + b->len, b->size - b->len, fmt, ap);
  va_end(ap);
  if (n > 0)
    b->len += (size_t)n < b->size - b->len ? (size_t)n : b->size - b->len - 1;
}

/*
** A key as a quoted Lua literal with \ddd escapes (of every byte above 0x7f
** too when the key is not UTF-8, so the message stays UTF-8), shortened past
** 40 bytes at a character boundary.
*/
static void sb_addkey(struct sbuf *b, const char *k, size_t len)
{
  size_t i, shown = len > 40 ? 40 : len;
  int raw8 = hoist_utf8_valid(k, len);
  while (shown < len && shown > 0 && ((unsigned char)k[shown] & 0xC0) == 0x80)
    shown--;
  sb_addf(b, "\"");
  for (i = 0; i < shown; i++) {
    unsigned char c = (unsigned char)k[i];
    if (c == '"' || c == '\\')
      sb_addf(b, "\\%c", c);
    else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !raw8))
      sb_addf(b, "\\%u", c);
    else
      sb_addf(b, "%c", c);
  }
  sb_addf(b, shown < len ? "\"..." : "\"");
}

/* ---- encode: Lua value -> json_t ---- */

struct seg {
  const char *key;      /* NULL for an array index; else anchored on the Lua stack */
  size_t len;
  lua_Integer index;
};

struct enc {
  lua_State *L;
  int depth;                              /* tables entered */
  int digits;                             /* significant digits every real needs, 15..17 */
  int reals;                              /* reals seen so far */
  int recheck;                            /* digits grew after some reals were checked */
  const void *tables[JSON_MAX_NESTING];   /* the tables being encoded, outermost first */
  struct seg path[JSON_MAX_NESTING];      /* path[d]: where the item inside tables[d] is */
  char msg[MSG_SIZE];
};

static int is_name(const char *k, size_t len)
{
  size_t i;
  if (len == 0 || len > 64 || (k[0] >= '0' && k[0] <= '9'))
    return 0;
  for (i = 0; i < len; i++) {
    char c = k[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return 0;
  }
  return 1;
}

/* The first n steps of the path, Lua style: a.b[2]["odd key"] (indices are Lua's, from 1). */
static void sb_addpath(struct sbuf *b, const struct seg *path, int n)
{
  int d;
  for (d = 0; d < n; d++) {
    if (b->len > 200) {
      sb_addf(b, "...");
      return;
    }
    if (!path[d].key) {
      sb_addf(b, "[%lld]", (long long)path[d].index);
    } else if (is_name(path[d].key, path[d].len)) {
      sb_addf(b, d ? ".%.*s" : "%.*s", (int)path[d].len, path[d].key);
    } else {
      sb_addf(b, "[");
      sb_addkey(b, path[d].key, path[d].len);
      sb_addf(b, "]");
    }
  }
}

static json_t *enc_fail(struct enc *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records why the item at the current path cannot be encoded; returns NULL to pass up. */
static json_t *enc_fail(struct enc *e, const char *fmt, ...)
{
  struct sbuf b = {e->msg, sizeof e->msg, 0};
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
  if (n > 0)
    b.len = (size_t)n < sizeof e->msg ? (size_t)n : sizeof e->msg - 1;
  if (e->depth > 0) {
    sb_addf(&b, " at '");
    sb_addpath(&b, e->path, e->depth);
    sb_addf(&b, "'");
  }
  return NULL;
}

static int prints_exactly(double d, int digits)
{
  char buf[48];
  snprintf(buf, sizeof buf, "%.*g", digits, d);
  return strtod(buf, NULL) == d;
}

/*
** jansson prints every real of a document with one precision
** (JSON_REAL_PRECISION). Use the fewest digits, 15 to 17, that read back as
** the same double for all of them: 0.1 prints as 0.1, not 0.10000000000000001,
** unless some other real in the document needs 17 digits.
*/
static void note_real(struct enc *e, double d)
{
  int p;
  for (p = e->digits; p < 17; p++)
    if (prints_exactly(d, p))
      break;
  if (p != e->digits && e->reals > 0)
    e->recheck = 1;
  e->digits = p;
  e->reals++;
}

/* Whether every real in j prints exactly with the given digits. */
static int reals_exact(json_t *j, int digits)
{
  const char *k;
  json_t *v;
  size_t i;
  switch (json_typeof(j)) {
  case JSON_REAL:
    return prints_exactly(json_real_value(j), digits);
  case JSON_ARRAY:
    json_array_foreach(j, i, v)
      if (!reals_exact(v, digits))
        return 0;
    return 1;
  case JSON_OBJECT:
    json_object_foreach(j, k, v)
      if (!reals_exact(v, digits))
        return 0;
    return 1;
  default:
    return 1;
  }
}

static json_t *enc_table(struct enc *e, int idx);

/* A new reference to the JSON form of the value at idx (absolute), or NULL with e->msg set. */
static json_t *enc_value(struct enc *e, int idx)
{
  lua_State *L = e->L;
  json_t *j;
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
    return json_null();
  case LUA_TBOOLEAN:
    return json_boolean(lua_toboolean(L, idx));
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) {
      j = json_integer((json_int_t)lua_tointeger(L, idx));
    } else {
      double d = (double)lua_tonumber(L, idx);
      if (!isfinite(d))
        return enc_fail(e, "cannot encode the number %s",
                        isnan(d) ? "nan" : d > 0 ? "inf" : "-inf");
      note_real(e, d);
      j = json_real(d);
    }
    break;
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    if (!hoist_utf8_valid(s, len))
      return enc_fail(e, "cannot encode a string that is not valid UTF-8");
    j = json_stringn_nocheck(s, len);
    break;
  }
  case LUA_TTABLE:
    return enc_table(e, idx);
  case LUA_TUSERDATA:
    if (lua_rawequal(L, idx, UV_NULL))
      return json_null();
    if (luaL_getmetafield(L, idx, "__name") == LUA_TSTRING) {
      char name[64];
      snprintf(name, sizeof name, "%s", lua_tostring(L, -1));
      lua_pop(L, 1);
      return enc_fail(e, "cannot encode a userdata value (%s)", name);
    }
    return enc_fail(e, "cannot encode a userdata value");
  default:
    return enc_fail(e, "cannot encode a %s value", luaL_typename(L, idx));
  }
  return j ? j : enc_fail(e, "out of memory");
}

/* Fails about the key on the stack top (which the caller pops). */
static json_t *enc_bad_key(struct enc *e, int mark)
{
  lua_State *L = e->L;
  char key[80];
  struct sbuf b = {key, sizeof key, 0};
  key[0] = '\0';
  switch (lua_type(L, -1)) {
  case LUA_TSTRING: {
    size_t len;
    const char *k = lua_tolstring(L, -1, &len);
    sb_addkey(&b, k, len);
    break;
  }
  case LUA_TNUMBER:
    if (lua_isinteger(L, -1))
      sb_addf(&b, "%lld", (long long)lua_tointeger(L, -1));
    else
      sb_addf(&b, "%.14g", (double)lua_tonumber(L, -1));
    break;
  default:
    return enc_fail(e, "cannot encode a table with a %s key", luaL_typename(L, -1));
  }
  if (mark == MARK_ARRAY)
    return enc_fail(e, "cannot encode key %s in a table marked as an array", key);
  if (mark == MARK_OBJECT)
    return enc_fail(e, "cannot encode key %s in a table marked as an object", key);
  return enc_fail(e, "cannot encode a table with key %s (keys must be strings, or 1..n for an array)",
                  key);
}

static json_t *enc_table(struct enc *e, int idx)
{
  lua_State *L = e->L;
  const void *self = lua_topointer(L, idx);
  lua_Integer nint = 0, maxint = 0, i;
  size_t nstr = 0;
  int d, mark, is_array;
  json_t *out = NULL;

  for (d = 0; d < e->depth; d++) {
    if (e->tables[d] == self) {
      char where[256];
      struct sbuf b = {where, sizeof where, 0};
      where[0] = '\0';
      sb_addpath(&b, e->path, d);
      if (d == 0)
        return enc_fail(e, "cannot encode a table that contains itself (the top-level table)");
      return enc_fail(e, "cannot encode a table that contains itself (the table at '%s')", where);
    }
  }
  if (e->depth >= JSON_MAX_NESTING)
    return enc_fail(e, "cannot encode tables nested deeper than %d levels", JSON_MAX_NESTING);
  if (!lua_checkstack(L, 4))
    return enc_fail(e, "cannot encode: the Lua stack is full");

  lua_pushvalue(L, idx);
  lua_rawget(L, UV_MARKS);
  mark = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);

  /* Classify the keys; lua_next is raw, so __index and __pairs are ignored. */
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING && mark != MARK_ARRAY) {
      nstr++;
    } else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 && mark != MARK_OBJECT) {
      nint++;
      if (lua_tointeger(L, -1) > maxint)
        maxint = lua_tointeger(L, -1);
    } else {
      enc_bad_key(e, mark);
      lua_pop(L, 1);
      return NULL;
    }
  }
  if (nstr > 0 && nint > 0)
    return enc_fail(e, "cannot encode a table with both string keys and integer keys");
  is_array = mark == MARK_ARRAY || nint > 0;
  if (is_array && maxint != nint)
    return enc_fail(e, "cannot encode a sparse array (largest index %lld, %lld items)",
                    (long long)maxint, (long long)nint);

  e->tables[e->depth] = self;
  e->depth++;
  if (is_array) {
    out = json_array();
    if (!out)
      goto oom;
    for (i = 1; i <= nint; i++) {
      json_t *v;
      e->path[e->depth - 1].key = NULL;
      e->path[e->depth - 1].index = i;
      lua_rawgeti(L, idx, i);
      v = enc_value(e, lua_gettop(L));
      lua_pop(L, 1);
      if (!v)
        goto fail;
      if (json_array_append_new(out, v) != 0)
        goto oom;
    }
  } else {
    out = json_object();
    if (!out)
      goto oom;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      json_t *v;
      size_t len;
      const char *k = lua_tolstring(L, -2, &len);  /* a string: checked above */
      e->path[e->depth - 1].key = k;
      e->path[e->depth - 1].len = len;
      if (!hoist_utf8_valid(k, len)) {
        lua_pop(L, 2);
        enc_fail(e, "cannot encode a key that is not valid UTF-8");
        goto fail;
      }
      v = enc_value(e, lua_gettop(L));
      lua_pop(L, 1);
      if (!v) {
        lua_pop(L, 1);
        goto fail;
      }
      if (json_object_setn_new_nocheck(out, k, len, v) != 0) {
        lua_pop(L, 1);
        goto oom;
      }
    }
  }
  e->depth--;
  return out;
oom:
  enc_fail(e, "out of memory");
fail:
  json_decref(out);
  e->depth--;
  return NULL;
}

/*
** Encodes the value at idx into a new box pushed on the stack, holding the
** text. Raises on misuse, after freeing what it built.
*/
static struct jbox *encode_boxed(lua_State *L, int idx, size_t flags)
{
  struct enc e;
  struct jbox *b;
  idx = lua_absindex(L, idx);
  b = box_new(L);
  e.L = L;
  e.depth = 0;
  e.digits = 15;
  e.reals = 0;
  e.recheck = 0;
  e.msg[0] = '\0';
  b->root = enc_value(&e, idx);
  if (!b->root)
    luaL_error(L, "%s", e.msg);  /* nothing is owned: the partial tree is freed */
  if (e.recheck && e.digits < 17 && !reals_exact(b->root, e.digits))
    e.digits = 17;
  b->text = json_dumps(b->root, flags | JSON_ENCODE_ANY | JSON_REAL_PRECISION(e.digits));
  json_decref(b->root);
  b->root = NULL;
  if (!b->text)
    luaL_error(L, "cannot encode JSON: out of memory");
  return b;
}

/* ---- decode: text -> json_t -> Lua ---- */

/* Pushes the Lua form of j. May raise (memory, stack): j must be owned by a box. */
static void push_json(lua_State *L, json_t *j)
{
  switch (json_typeof(j)) {
  case JSON_OBJECT: {
    const char *k;
    size_t klen, n = json_object_size(j);
    json_t *v;
    luaL_checkstack(L, 4, "JSON nested too deeply");
    lua_createtable(L, 0, n > INT_MAX ? INT_MAX : (int)n);
    json_object_keylen_foreach(j, k, klen, v) {
      lua_pushlstring(L, k, klen);
      push_json(L, v);
      lua_rawset(L, -3);
    }
    break;
  }
  case JSON_ARRAY: {
    size_t i, n = json_array_size(j);
    luaL_checkstack(L, 4, "JSON nested too deeply");
    lua_createtable(L, n > INT_MAX ? INT_MAX : (int)n, 0);
    for (i = 0; i < n; i++) {
      push_json(L, json_array_get(j, i));
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_pushvalue(L, -1);
    lua_pushinteger(L, MARK_ARRAY);
    lua_rawset(L, UV_MARKS);
    break;
  }
  case JSON_STRING:
    lua_pushlstring(L, json_string_value(j), json_string_length(j));
    break;
  case JSON_INTEGER:
    lua_pushinteger(L, (lua_Integer)json_integer_value(j));
    break;
  case JSON_REAL:
    lua_pushnumber(L, (lua_Number)json_real_value(j));
    break;
  case JSON_TRUE:
    lua_pushboolean(L, 1);
    break;
  case JSON_FALSE:
    lua_pushboolean(L, 0);
    break;
  case JSON_NULL:
  default:
    lua_pushvalue(L, UV_NULL);
    break;
  }
}

/* ---- files ---- */

/* ---- arguments ---- */

/* Reads { indent = n, sort_keys = bool } (and mode = for write) at arg into dump flags. */
static size_t check_opts(lua_State *L, int arg, int *mode)
{
  size_t flags = JSON_COMPACT;
  int t;
  if (mode)
    *mode = -1;
  if (lua_isnoneornil(L, arg))
    return flags;
  luaL_checktype(L, arg, LUA_TTABLE);

  t = lua_getfield(L, arg, "indent");
  if (t != LUA_TNIL) {
    int ok = 0;
    lua_Integer n = lua_tointegerx(L, -1, &ok);
    if (t != LUA_TNUMBER || !ok || n < 0 || n > JSON_MAX_INDENT)
      luaL_argerror(L, arg, "indent must be an integer from 0 to 31");
    if (n > 0)
      flags = JSON_INDENT(n);
  }
  lua_pop(L, 1);

  t = lua_getfield(L, arg, "sort_keys");
  if (t != LUA_TNIL && t != LUA_TBOOLEAN)
    luaL_argerror(L, arg, "sort_keys must be a boolean");
  if (lua_toboolean(L, -1))
    flags |= JSON_SORT_KEYS;
  lua_pop(L, 1);

  if (mode) {
    t = lua_getfield(L, arg, "mode");
    if (t == LUA_TSTRING) {
      const char *s = lua_tostring(L, -1);
      char *end;
      long m = strtol(s, &end, 8);
      if (!*s || *end || m < 0 || m > 07777)
        luaL_argerror(L, arg, "mode must be octal digits like \"0644\", or an integer");
      *mode = (int)m;
    } else if (t != LUA_TNIL) {
      int ok = 0;
      lua_Integer m = lua_tointegerx(L, -1, &ok);
      if (t != LUA_TNUMBER || !ok || m < 0 || m > 07777)
        luaL_argerror(L, arg, "mode must be octal digits like \"0644\", or an integer");
      *mode = (int)m;
    }
    lua_pop(L, 1);
  }
  return flags;
}

static const char *check_path(lua_State *L, int arg)
{
  size_t len;
  const char *path = luaL_checklstring(L, arg, &len);
  luaL_argcheck(L, len > 0 && strlen(path) == len, arg, "path is empty or holds a NUL byte");
  return path;
}

static int push_fail(lua_State *L, const char *msg, const char *code)
{
  luaL_pushfail(L);
  lua_pushstring(L, msg);
  lua_pushstring(L, code);
  return 3;
}

/* ---- bindings ---- */

/* json.decode(s) -> value | nil, err, "EINVAL" */
static int l_json_decode(lua_State *L)
{
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  char msg[MSG_SIZE];
  struct jbox *b = box_new(L);
  b->root = hoist_json_load(s, n, NULL, msg, sizeof msg);
  if (!b->root)
    return push_fail(L, msg, "EINVAL");
  push_json(L, b->root);
  box_clear(b);
  return 1;
}

/* json.encode(v [, opts]) -> string; raises on values JSON cannot hold */
static int l_json_encode(lua_State *L)
{
  size_t flags;
  struct jbox *b;
  luaL_checkany(L, 1);
  flags = check_opts(L, 2, NULL);
  b = encode_boxed(L, 1, flags);
  lua_pushstring(L, b->text);  /* no NUL inside: jansson escapes it */
  box_clear(b);
  return 1;
}

/* json.read(path) -> value | nil, err, code */
static int l_json_read(lua_State *L)
{
  const char *path = check_path(L, 1);
  char msg[MSG_SIZE];
  struct hoist_err err;
  size_t n = 0;
  char *text;
  struct jbox *b = box_new(L);
  if (hoist_fs_read(path, JSON_MAX_FILE, &text, &n, &err) != HOIST_OK)
    return push_fail(L, err.msg, hoist_err_name(err.code == HOIST_ENOENT ? HOIST_ENOENT : HOIST_EIO));
  b->root = hoist_json_load(text, n, path, msg, sizeof msg);
  free(text);
  if (!b->root)
    return push_fail(L, msg, "EINVAL");
  push_json(L, b->root);
  box_clear(b);
  return 1;
}

/* json.write(path, v [, opts]) -> true | nil, err, code; opts as encode's, plus mode */
static int l_json_write(lua_State *L)
{
  const char *path = check_path(L, 1);
  struct hoist_err err;
  size_t flags;
  int mode, rc;
  struct jbox *b;
  luaL_checkany(L, 2);
  flags = check_opts(L, 3, &mode);
  b = encode_boxed(L, 2, flags);
  rc = hoist_fs_write_atomic(path, b->text, strlen(b->text), "\n", mode, 0, &err);
  box_clear(b);
  if (rc != 0)
    return push_fail(L, err.msg, hoist_err_name(rc == HOIST_ENOENT ? HOIST_ENOENT : HOIST_EIO));
  lua_pushboolean(L, 1);
  return 1;
}

static int set_mark(lua_State *L, int mark)
{
  if (lua_isnone(L, 1))
    lua_newtable(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_pushvalue(L, 1);
  lua_pushinteger(L, mark);
  lua_rawset(L, UV_MARKS);
  return 1;
}

/* json.array([t]) -> t, marked to encode as an array (a new table without t) */
static int l_json_array(lua_State *L)
{
  return set_mark(L, MARK_ARRAY);
}

/* json.object([t]) -> t, marked to encode as an object */
static int l_json_object(lua_State *L)
{
  return set_mark(L, MARK_OBJECT);
}

static int l_null_tostring(lua_State *L)
{
  lua_pushliteral(L, "null");
  return 1;
}

/* ---- registration ---- */

static const luaL_Reg json_funcs[] = {
  {"decode", l_json_decode},
  {"encode", l_json_encode},
  {"read", l_json_read},
  {"write", l_json_write},
  {"array", l_json_array},
  {"object", l_json_object},
  {NULL, NULL}
};

int luaopen_hoist_json(lua_State *L);

int luaopen_hoist_json(lua_State *L)
{
  if (luaL_newmetatable(L, BOX_MT)) {
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);

  lua_createtable(L, 0, (int)(sizeof json_funcs / sizeof json_funcs[0]) + 1);

  /* upvalue 1: json.null, one per state even if the module is loaded twice */
  if (lua_getfield(L, LUA_REGISTRYINDEX, NULL_KEY) != LUA_TUSERDATA) {
    lua_pop(L, 1);
    lua_newuserdatauv(L, 0, 0);
    if (luaL_newmetatable(L, NULL_MT)) {
      lua_pushcfunction(L, l_null_tostring);
      lua_setfield(L, -2, "__tostring");
    }
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, NULL_KEY);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "null");

  /* upvalue 2: the marks, table -> MARK_ARRAY | MARK_OBJECT, weak keys */
  if (lua_getfield(L, LUA_REGISTRYINDEX, MARKS_KEY) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, MARKS_KEY);
  }
  luaL_setfuncs(L, json_funcs, 2);
  return 1;
}
