/*
** hoist.fs: files and folders for release scripts. Expected failures
** return nil, message, code ("ENOENT", "EIO", ...); wrong argument types raise.
*/
#define _DEFAULT_SOURCE 1  /* mkdtemp, realpath */

#include "binding.h"
#include "cleanup.h"
#include "fsutil.h"

#include <lauxlib.h>
#include <lua.h>

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int luaopen_hoist_fs(lua_State *L);

static int push_errno(lua_State *L, const char *what, const char *path)
{
  int e = errno;
  luaL_pushfail(L);
  lua_pushfstring(L, "%s '%s': %s", what, path, strerror(e));
  lua_pushstring(L, e == ENOENT ? "ENOENT" : e == EEXIST ? "EEXIST" : e == EACCES ? "EACCES" : "EIO");
  return 3;
}

#define push_err hoist_lua_push_err

#define LOCK_MT "hoist.Lock"

static int l_fs_exists(lua_State *L)
{
  struct stat st;
  lua_pushboolean(L, lstat(luaL_checkstring(L, 1), &st) == 0);
  return 1;
}

static const char *type_name(mode_t m)
{
  return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "link" : "other";
}

/* stat(path [, follow]) -> { type, size, mode, mtime, mtime_ns, ino, dev } (lstat unless follow) */
static int l_fs_stat(lua_State *L)
{
  const char *p = luaL_checkstring(L, 1);
  struct stat st;
  if ((lua_toboolean(L, 2) ? stat(p, &st) : lstat(p, &st)) != 0)
    return push_errno(L, "cannot stat", p);
  lua_createtable(L, 0, 4);
  lua_pushstring(L, type_name(st.st_mode));
  lua_setfield(L, -2, "type");
  lua_pushinteger(L, (lua_Integer)st.st_size);
  lua_setfield(L, -2, "size");
  lua_pushinteger(L, (lua_Integer)(st.st_mode & 07777));
  lua_setfield(L, -2, "mode");
  lua_pushinteger(L, (lua_Integer)st.st_mtim.tv_sec);
  lua_setfield(L, -2, "mtime");
  lua_pushinteger(L, (lua_Integer)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec);
  lua_setfield(L, -2, "mtime_ns");
  lua_pushinteger(L, (lua_Integer)st.st_ino);
  lua_setfield(L, -2, "ino");
  lua_pushinteger(L, (lua_Integer)st.st_dev);
  lua_setfield(L, -2, "dev");
  return 1;
}

/* read(path [, max_bytes]) -> content: a regular file of at most max_bytes (default 1 GiB) */
static int l_fs_read(lua_State *L)
{
  const char *p = luaL_checkstring(L, 1);
  lua_Integer max = luaL_optinteger(L, 2, (lua_Integer)1 << 30);
  struct hoist_err err;
  char *data;
  size_t len;
  luaL_argcheck(L, max >= 0, 2, "must not be negative");
  if (hoist_fs_read(p, (size_t)max, &data, &len, &err))
    return push_err(L, &err);
  lua_pushlstring(L, data, len);
  free(data);
  return 1;
}

/*
** A mode value at idx ("0644", "644", "0o644" or an integer up to 0o7777) into *mode;
** 0, or HOIST_EINVAL with a message naming the value.
*/
static int to_mode(lua_State *L, int idx, int *mode, struct hoist_err *err)
{
  lua_Integer v;
  int isint;
  if (lua_type(L, idx) == LUA_TSTRING)
    return hoist_mode_parse(lua_tostring(L, idx), mode, err);
  v = lua_tointegerx(L, idx, &isint);
  if (lua_type(L, idx) == LUA_TNUMBER && isint && v >= 0 && v <= 07777) {
    *mode = (int)v;
    return HOIST_OK;
  }
  return hoist_err_set(err, HOIST_EINVAL, "invalid file mode %s (octal like \"0755\" or \"644\")",
                       lua_type(L, idx) == LUA_TNUMBER ? "(a number out of 0..0o7777)"
                                                       : luaL_typename(L, idx));
}

/* The `durable` option of the options table at arg (if any): true unless false; not a boolean raises. */
static int opt_durable(lua_State *L, int arg, const char *fname)
{
  int t, durable = 1;
  if (!lua_istable(L, arg))
    return 1;
  t = lua_getfield(L, arg, "durable");
  if (t != LUA_TNIL && t != LUA_TBOOLEAN)
    luaL_error(L, "bad option 'durable' to '%s' (a boolean expected)", fname);
  if (t == LUA_TBOOLEAN)
    durable = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return durable;
}

/*
** The `mode` of an options table at arg, or dflt when there is none; a bad one raises, and so
** does a key not in known (NULL-terminated).
*/
static int opt_mode(lua_State *L, int arg, int dflt, const char *fname, const char *const *known)
{
  int mode = dflt;
  if (!lua_isnoneornil(L, arg)) {
    struct hoist_err err;
    luaL_checktype(L, arg, LUA_TTABLE);
    hoist_lua_check_keys(L, arg, fname, known);
    if (lua_getfield(L, arg, "mode") != LUA_TNIL && to_mode(L, -1, &mode, &err))
      luaL_error(L, "bad option 'mode' to '%s' (%s)", fname, err.msg);
    lua_pop(L, 1);
  }
  return mode;
}

/* parse_mode(v) -> integer | nil, message: the one mode parser of hoist (see fsutil.h) */
static int l_fs_parse_mode(lua_State *L)
{
  struct hoist_err err;
  int mode;
  luaL_checkany(L, 1);
  if (to_mode(L, 1, &mode, &err))
    return push_err(L, &err);
  lua_pushinteger(L, mode);
  return 1;
}

/*
** write(path, data [, { mode = "0644" | 420, durable = false }]): atomic replace; durable = false
** skips the fsync, for a file that does not outlive the process (a blob staged for an upload)
*/
static int l_fs_write(lua_State *L)
{
  size_t len;
  const char *p = luaL_checkstring(L, 1);
  const char *data = luaL_checklstring(L, 2, &len);
  struct hoist_err err;
  static const char *const keys[] = { "mode", "durable", NULL };
  int mode = opt_mode(L, 3, -1, "write", keys), flags = 0;
  if (!opt_durable(L, 3, "write"))
    flags = HOIST_FS_NOSYNC;
  if (hoist_fs_write_atomic(p, data, len, NULL, mode, flags, &err))
    return push_err(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

/* mkdir(path [, { mode = "0700" }]): with parents; the folders it creates get mode (& ~umask) */
static int l_fs_mkdir(lua_State *L)
{
  struct hoist_err err;
  static const char *const keys[] = { "mode", NULL };
  if (hoist_fs_mkdirs(luaL_checkstring(L, 1), opt_mode(L, 2, 0777, "mkdir", keys), &err))
    return push_err(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

/* list(dir) -> sorted names (no "." or "..") */
static int l_fs_list(lua_State *L)
{
  const char *p = luaL_checkstring(L, 1);
  DIR *d = opendir(p);
  struct dirent *e;
  int n = 0;
  if (!d)
    return push_errno(L, "cannot list", p);
  lua_newtable(L);
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    lua_pushstring(L, e->d_name);
    lua_rawseti(L, -2, ++n);
  }
  closedir(d);
  {
    /* sort in Lua's own table.sort to keep ownership simple */
    lua_getglobal(L, "table");
    lua_getfield(L, -1, "sort");
    lua_remove(L, -2);
    lua_pushvalue(L, -2);
    lua_call(L, 1, 0);
  }
  return 1;
}

static int l_fs_remove(lua_State *L)
{
  struct hoist_err err;
  const char *p = luaL_checkstring(L, 1);
  if (hoist_fs_remove_tree(p, &err))
    return push_err(L, &err);
  hoist_cleanup_forget(p);
  lua_pushboolean(L, 1);
  return 1;
}

/* readlink(path) -> the target of a symlink | nil, err, code */
static int l_fs_readlink(lua_State *L)
{
  const char *p = luaL_checkstring(L, 1);
  char buf[PATH_MAX];
  ssize_t n = readlink(p, buf, sizeof buf - 1);
  if (n < 0)
    return push_errno(L, "cannot read link", p);
  lua_pushlstring(L, buf, (size_t)n);
  return 1;
}

/* copy(src, dst [, { durable = true }]): dst gets src's content and shares nothing with it (a
** reflink or a copy); durable = false skips the fsync */
static int l_fs_copy(lua_State *L)
{
  static const char *const keys[] = { "durable", NULL };
  struct hoist_err err;
  int durable = 1;
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    hoist_lua_check_keys(L, 3, "copy", keys);
    if (lua_getfield(L, 3, "durable") != LUA_TNIL)
      durable = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  if (hoist_fs_copy(luaL_checkstring(L, 1), luaL_checkstring(L, 2), durable, &err))
    return push_err(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

/*
** copy_all({ { from = src, to = dst }, ... } [, { durable = true, threads = n }]) -> true |
** nil, err, code, i (the first that failed, in list order; the others are done or not): copy
** for several files at once, on several threads (fsutil.h, hoist_fs_copy_all). The strings stay
** referenced by argument 1.
*/
static int l_fs_copy_all(lua_State *L)
{
  static const char *const keys[] = { "durable", "threads", NULL };
  const char **paths;
  int *rcs;
  struct hoist_err *errs;
  lua_Integer i, n, threads = 0;
  int durable = 1;
  luaL_checktype(L, 1, LUA_TTABLE);
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    hoist_lua_check_keys(L, 2, "copy_all", keys);
    durable = opt_durable(L, 2, "copy_all");
    if (lua_getfield(L, 2, "threads") != LUA_TNIL) {
      if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1)
        luaL_error(L, "bad option 'threads' to 'copy_all' (a whole number >= 1 expected)");
      threads = lua_tointeger(L, -1);
      if (threads > INT_MAX)
        threads = INT_MAX;
    }
    lua_pop(L, 1);
  }
  n = (lua_Integer)lua_rawlen(L, 1);
  if (n == 0) {
    lua_pushboolean(L, 1);
    return 1;
  }
  /* scratch owned by userdata, so that a raise below leaks nothing */
  paths = lua_newuserdatauv(L, 2 * (size_t)n * sizeof *paths, 0);
  rcs = lua_newuserdatauv(L, (size_t)n * sizeof *rcs, 0);
  errs = lua_newuserdatauv(L, (size_t)n * sizeof *errs, 0);
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, 1, i) != LUA_TTABLE || lua_getfield(L, -1, "from") != LUA_TSTRING ||
        lua_getfield(L, -2, "to") != LUA_TSTRING)
      return luaL_argerror(L, 1, "a list of { from = path, to = path } expected");
    paths[i - 1] = lua_tostring(L, -2);
    paths[n + i - 1] = lua_tostring(L, -1);
    lua_pop(L, 3);
  }
  if (hoist_fs_copy_all(paths, paths + n, (size_t)n, durable, (int)threads, rcs, errs)) {
    for (i = 0; i < n; i++)
      if (rcs[i]) {
        push_err(L, &errs[i]);
        lua_pushinteger(L, i + 1);
        return 4;
      }
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* lock(path) -> a lock (exclusive; waits for other holders) | nil, err, code; released by
** lock:unlock(), by closing it (local l <close> = ...) or when it is collected */
static int l_fs_lock(lua_State *L)
{
  const char *p = luaL_checkstring(L, 1);
  struct hoist_err err;
  int *fd = lua_newuserdatauv(L, sizeof *fd, 0);
  *fd = -1;
  luaL_setmetatable(L, LOCK_MT);
  if (hoist_fs_lock(p, fd, &err))
    return push_err(L, &err);
  return 1;
}

static int l_lock_unlock(lua_State *L)
{
  int *fd = luaL_checkudata(L, 1, LOCK_MT);
  hoist_fs_unlock(*fd);
  *fd = -1;
  return 0;
}

/* sweep_temps(dir [, stale_secs]) -> n: temp files of writers that are gone, removed */
static int l_fs_sweep_temps(lua_State *L)
{
  lua_pushinteger(L, hoist_fs_sweep_temps(luaL_checkstring(L, 1), (long)luaL_optinteger(L, 2, 900)));
  return 1;
}

static int l_fs_rename(lua_State *L)
{
  const char *a = luaL_checkstring(L, 1), *b = luaL_checkstring(L, 2);
  if (rename(a, b) != 0)
    return push_errno(L, "cannot rename", a);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_fs_link_or_copy(lua_State *L)
{
  struct hoist_err err;
  if (hoist_fs_link_or_copy(luaL_checkstring(L, 1), luaL_checkstring(L, 2), &err))
    return push_err(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_fs_realpath(lua_State *L)
{
  const char *p = luaL_checkstring(L, 1);
  char out[PATH_MAX];
  if (!realpath(p, out))
    return push_errno(L, "cannot resolve", p);
  lua_pushstring(L, out);
  return 1;
}

/* tmpdir([prefix]) -> a new private folder under $TMPDIR (or /tmp) */
static int l_fs_tmpdir(lua_State *L)
{
  const char *prefix = luaL_optstring(L, 1, "hoist");
  const char *base = getenv("TMPDIR");
  char path[PATH_MAX];
  if (!base || !*base)
    base = "/tmp";
  if (snprintf(path, sizeof path, "%s/%s.XXXXXX", base, prefix) >= (int)sizeof path)
    return luaL_error(L, "temporary folder path too long");
  if (!mkdtemp(path))
    return push_errno(L, "cannot create a temporary folder in", base);
  hoist_cleanup_add(path);  /* removed when hoist exits, however it exits */
  lua_pushstring(L, path);
  return 1;
}

static int l_fs_glob(lua_State *L)
{
  const char *pat = luaL_checkstring(L, 1);
  glob_t g;
  size_t i;
  int rc = glob(pat, 0, NULL, &g);
  lua_newtable(L);
  if (rc != 0) {
    globfree(&g);
    if (rc == GLOB_NOMATCH)
      return 1;
    return luaL_error(L, "glob '%s' failed", pat);
  }
  for (i = 0; i < g.gl_pathc; i++) {
    lua_pushstring(L, g.gl_pathv[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  globfree(&g);
  return 1;
}

/* isatty("stdin"|"stdout"|"stderr" or 0|1|2) -> boolean: whether progress may be drawn */
static int l_fs_isatty(lua_State *L)
{
  static const char *const names[] = {"stdin", "stdout", "stderr", NULL};
  int fd = lua_type(L, 1) == LUA_TNUMBER ? (int)luaL_checkinteger(L, 1) : luaL_checkoption(L, 1, NULL, names);
  luaL_argcheck(L, fd >= 0 && fd <= 2, 1, "0, 1 or 2 expected");
  lua_pushboolean(L, isatty(fd));
  return 1;
}

static const luaL_Reg fs_funcs[] = {
  {"exists", l_fs_exists},
  {"stat", l_fs_stat},
  {"read", l_fs_read},
  {"write", l_fs_write},
  {"mkdir", l_fs_mkdir},
  {"list", l_fs_list},
  {"remove", l_fs_remove},
  {"rename", l_fs_rename},
  {"link_or_copy", l_fs_link_or_copy},
  {"realpath", l_fs_realpath},
  {"tmpdir", l_fs_tmpdir},
  {"glob", l_fs_glob},
  {"isatty", l_fs_isatty},
  {"copy", l_fs_copy},
  {"copy_all", l_fs_copy_all},
  {"readlink", l_fs_readlink},
  {"lock", l_fs_lock},
  {"parse_mode", l_fs_parse_mode},
  {"sweep_temps", l_fs_sweep_temps},
  {NULL, NULL}
};

int luaopen_hoist_fs(lua_State *L)
{
  luaL_newmetatable(L, LOCK_MT);
  lua_pushcfunction(L, l_lock_unlock);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_lock_unlock);
  lua_setfield(L, -2, "__close");
  lua_newtable(L);
  lua_pushcfunction(L, l_lock_unlock);
  lua_setfield(L, -2, "unlock");
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newlib(L, fs_funcs);
  return 1;
}
