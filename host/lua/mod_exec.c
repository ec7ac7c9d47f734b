/*
** hoist.exec: runs programs for release scripts (compilers, git, credential
** helpers) from an argv list, never a shell string. Converts arguments and
** results only; the work is exec.c's.
**
**   exec.run{ "cc", "-o", "out", "main.c", env = { CC = "gcc", NOISE = false },
**             cwd = "dir", stdin = "text", capture = true, timeout = 30, clear_env = false }
**     -> { ok = code == 0, code = N, signal = N|nil, stdout = "...", stderr = "..." }
**        | nil, message, code ("ENOENT", "EIO", "ETIMEDOUT", "ERANGE")
**   exec.output{ ... } -> stdout | nil, "'cc' exited with 1: <last stderr line>", "EEXIT"
**
** A non-zero exit is a result for run, an error for output. Misuse (no
** program, an argv item that is not a string, an unknown option) raises.
*/
#include "binding.h"
#include "exec.h"

#include <lauxlib.h>
#include <lua.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define RESULT_MT "hoist.ExecResult"

int luaopen_hoist_exec(lua_State *L);

static const char *const option_names[] = {"env", "cwd", "stdin", "capture", "timeout",
                                           "clear_env", NULL};

/* What a call asked for, with every C array anchored in a Lua userdata (nothing to free on a raise). */
struct call {
  struct hoist_exec_opts o;
  struct hoist_exec_result *res;
};

static int known_option(const char *key)
{
  const char *const *p;
  for (p = option_names; *p; p++)
    if (strcmp(*p, key) == 0)
      return 1;
  return 0;
}

static void check_option_type(lua_State *L, const char *key, int want)
{
  if (lua_type(L, -1) != want)
    luaL_argerror(L, 1, lua_pushfstring(L, "option '%s' must be a %s, got %s", key,
                                        lua_typename(L, want), luaL_typename(L, -1)));
}

/* Fills c->o.env from the table at the top: "NAME=VALUE" for a string, "NAME" (unset) for false. */
static void read_env(lua_State *L, struct call *c)
{
  int t = lua_gettop(L), n = 0, i = 0;
  const char **env;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    n++;
    lua_pop(L, 1);
  }
  env = lua_newuserdatauv(L, sizeof *env * (size_t)(n + 1), 1);
  lua_createtable(L, n, 0); /* keeps the composed strings alive as long as env */
  lua_setiuservalue(L, -2, 1);
  lua_getiuservalue(L, -1, 1);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    const char *k;
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_argerror(L, 1, "option 'env' names must be strings");
    k = lua_tostring(L, -2);
    if (!*k || strchr(k, '='))
      luaL_argerror(L, 1, lua_pushfstring(L, "option 'env' has an invalid name '%s'", k));
    if (lua_type(L, -1) == LUA_TSTRING)
      lua_pushfstring(L, "%s=%s", k, lua_tostring(L, -1));
    else if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1))
      lua_pushstring(L, k);
    else
      luaL_argerror(L, 1, lua_pushfstring(L, "option 'env': '%s' must be a string, or false to unset", k));
    env[i] = lua_tostring(L, -1);
    lua_rawseti(L, -4, ++i);
    lua_pop(L, 1);
  }
  env[i] = NULL;
  lua_pop(L, 1); /* the strings table; the userdata stays on the stack */
  c->o.env = env;
}

static int result_gc(lua_State *L)
{
  hoist_exec_result_release(luaL_checkudata(L, 1, RESULT_MT));
  return 0;
}

/*
** Reads the call table at index 1. Leaves anchors on the stack (argv, env,
** the result box); everything raises before a process exists.
*/
static void read_call(lua_State *L, struct call *c, int for_output)
{
  lua_Integer n, i;
  const char **argv;
  memset(c, 0, sizeof *c);
  luaL_checktype(L, 1, LUA_TTABLE);
  n = luaL_len(L, 1);
  if (n < 1)
    luaL_argerror(L, 1, "a program to run expected: { \"prog\", \"arg\", ... }");
  argv = lua_newuserdatauv(L, sizeof *argv * (size_t)(n + 1), 0);
  for (i = 1; i <= n; i++) {
    if (lua_geti(L, 1, i) != LUA_TSTRING)
      luaL_argerror(L, 1, lua_pushfstring(L, "item %d must be a string, got %s", (int)i,
                                          luaL_typename(L, -1)));
    argv[i - 1] = lua_tostring(L, -1); /* anchored by the table at index 1 */
    lua_pop(L, 1);
  }
  argv[n] = NULL;
  c->o.argv = argv;

  /* every other key must be a known option: a typo should not silently do nothing */
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    lua_pop(L, 1);
    if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 && lua_tointeger(L, -1) <= n)
      continue;
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_argerror(L, 1, lua_pushfstring(L, "unexpected key of type %s", luaL_typename(L, -1)));
    if (!known_option(lua_tostring(L, -1))) {
      const char *near = hoist_closest(lua_tostring(L, -1), option_names);
      luaL_argerror(L, 1, near ? lua_pushfstring(L, "unknown option '%s' (did you mean '%s'?)",
                                                 lua_tostring(L, -1), near)
                               : lua_pushfstring(L, "unknown option '%s'", lua_tostring(L, -1)));
    }
  }

  if (lua_getfield(L, 1, "env") != LUA_TNIL) {
    check_option_type(L, "env", LUA_TTABLE);
    read_env(L, c);
    /* the array stays on the stack as its own anchor: popping it instead of
    ** the table let a collection free it before the spawn read it */
    lua_remove(L, -2);
  } else
    lua_pop(L, 1);
  if (lua_getfield(L, 1, "cwd") != LUA_TNIL) {
    check_option_type(L, "cwd", LUA_TSTRING);
    c->o.cwd = lua_tostring(L, -1);
  }
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "stdin") != LUA_TNIL) {
    check_option_type(L, "stdin", LUA_TSTRING);
    c->o.input = lua_tolstring(L, -1, &c->o.input_len);
  }
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "capture") != LUA_TNIL) {
    check_option_type(L, "capture", LUA_TBOOLEAN);
    c->o.passthrough = !lua_toboolean(L, -1);
    if (for_output && c->o.passthrough)
      luaL_argerror(L, 1, "option 'capture' cannot be false: output returns stdout");
  }
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "timeout") != LUA_TNIL) {
    check_option_type(L, "timeout", LUA_TNUMBER);
    c->o.timeout = lua_tonumber(L, -1);
    if (!(c->o.timeout > 0))
      luaL_argerror(L, 1, "option 'timeout' must be a number of seconds > 0");
  }
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "clear_env") != LUA_TNIL) {
    check_option_type(L, "clear_env", LUA_TBOOLEAN);
    c->o.clear_env = lua_toboolean(L, -1);
  }
  lua_pop(L, 1);

  /* the result lives in a box with __gc, so a raise while it is converted frees it */
  c->res = lua_newuserdatauv(L, sizeof *c->res, 0);
  memset(c->res, 0, sizeof *c->res);
  luaL_setmetatable(L, RESULT_MT);
}

static const char *code_name(int code)
{
  return code == HOIST_ETIMEDOUT ? "ETIMEDOUT" : hoist_err_name(code);
}

static int push_err(lua_State *L, const struct hoist_err *err)
{
  luaL_pushfail(L);
  lua_pushstring(L, err->msg);
  lua_pushstring(L, code_name(err->code));
  return 3;
}

static int run(struct call *c, struct hoist_err *err)
{
  /* what hoist printed so far must come before what the child prints */
  fflush(stdout);
  fflush(stderr);
  return hoist_exec_run(&c->o, c->res, err);
}

static int l_exec_run(lua_State *L)
{
  struct call c;
  struct hoist_err err;
  read_call(L, &c, 0);
  if (run(&c, &err))
    return push_err(L, &err);
  lua_createtable(L, 0, 5);
  lua_pushboolean(L, c.res->code == 0 && c.res->signal == 0);
  lua_setfield(L, -2, "ok");
  lua_pushinteger(L, c.res->code);
  lua_setfield(L, -2, "code");
  if (c.res->signal) {
    lua_pushinteger(L, c.res->signal);
    lua_setfield(L, -2, "signal");
  }
  if (c.res->out) {
    lua_pushlstring(L, c.res->out, c.res->out_len);
    lua_setfield(L, -2, "stdout");
    lua_pushlstring(L, c.res->err, c.res->err_len);
    lua_setfield(L, -2, "stderr");
  }
  hoist_exec_result_release(c.res);
  return 1;
}

/* Pushes the last non-empty line of s (at most 300 bytes, control characters as '?'). */
static void push_last_line(lua_State *L, const char *s, size_t n)
{
  size_t end = n, start, i;
  luaL_Buffer b;
  while (end > 0 && (s[end - 1] == '\n' || s[end - 1] == '\r' || s[end - 1] == ' ' ||
                     s[end - 1] == '\t'))
    end--;
  start = end;
  while (start > 0 && s[start - 1] != '\n')
    start--;
  while (start < end && (s[start] == ' ' || s[start] == '\t'))
    start++;
  if (end - start > 300)
    start = end - 300;
  luaL_buffinit(L, &b);
  for (i = start; i < end; i++) {
    unsigned char ch = (unsigned char)s[i];
    luaL_addchar(&b, (ch < 0x20 && ch != '\t') || ch == 0x7f ? '?' : (char)ch);
  }
  luaL_pushresult(&b);
}

static int l_exec_output(lua_State *L)
{
  struct call c;
  struct hoist_err err;
  char name[HOIST_ERR_SHOW_MAX];
  read_call(L, &c, 1);
  if (run(&c, &err))
    return push_err(L, &err);
  if (c.res->code == 0 && c.res->signal == 0) {
    lua_pushlstring(L, c.res->out, c.res->out_len);
    hoist_exec_result_release(c.res);
    return 1;
  }
  hoist_err_show(name, c.o.argv[0], strlen(c.o.argv[0]));
  luaL_pushfail(L);
  if (c.res->signal)
    lua_pushfstring(L, "'%s' was killed by signal %d (%s)", name, c.res->signal,
                    strsignal(c.res->signal));
  else
    lua_pushfstring(L, "'%s' exited with %d", name, c.res->code);
  push_last_line(L, c.res->err, c.res->err_len);
  if (lua_rawlen(L, -1) > 0) {
    lua_pushliteral(L, ": ");
    lua_insert(L, -2);
    lua_concat(L, 3);
  } else {
    lua_pop(L, 1);
  }
  lua_pushliteral(L, "EEXIT");
  hoist_exec_result_release(c.res);
  return 3;
}

static const luaL_Reg exec_funcs[] = {
  {"run", l_exec_run},
  {"output", l_exec_output},
  {NULL, NULL}
};

int luaopen_hoist_exec(lua_State *L)
{
  luaL_newmetatable(L, RESULT_MT);
  lua_pushcfunction(L, result_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_newlib(L, exec_funcs);
  return 1;
}
