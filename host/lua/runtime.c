#include "runtime.h"

#include <lauxlib.h>
#include <lualib.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef HOIST_VERSION
#define HOIST_VERSION "0.0.0"
#endif
#ifndef HOIST_SOURCE_DIR
#define HOIST_SOURCE_DIR "."
#endif

int luaopen_hoist_semver(lua_State *L);
int luaopen_hoist_json(lua_State *L);
int luaopen_hoist_fs(lua_State *L);
int luaopen_hoist_oci_core(lua_State *L);
int luaopen_hoist_registry(lua_State *L);
int luaopen_hoist_exec(lua_State *L);
int luaopen_hoist_yaml_core(lua_State *L);
int luaopen_hoist_sign_core(lua_State *L);

static const luaL_Reg native_modules[] = {
  {"hoist.semver", luaopen_hoist_semver},
  {"hoist.json", luaopen_hoist_json},
  {"hoist.fs", luaopen_hoist_fs},
  {"hoist.oci.core", luaopen_hoist_oci_core},
  {"hoist.registry", luaopen_hoist_registry},
  {"hoist.exec", luaopen_hoist_exec},
  {"hoist.yaml.core", luaopen_hoist_yaml_core},
  {"hoist.sign.core", luaopen_hoist_sign_core},
  {NULL, NULL}
};

static int is_dir(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The share folder: $HOIST_HOME, else <exe>/../share/hoist after install, else the source tree. */
const char *hoist_runtime_share_dir(void)
{
  static char dir[PATH_MAX + 32];
  char exe[PATH_MAX], probe[PATH_MAX + 32];
  const char *home = getenv("HOIST_HOME");
  ssize_t n;
  char *slash;

  if (dir[0])
    return dir;
  if (home && *home) {
    snprintf(dir, sizeof dir, "%s", home);
    return dir;
  }
  n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (slash) {
      *slash = '\0';
      snprintf(probe, sizeof probe, "%s/../share/hoist/lua", exe);
      if (is_dir(probe)) {
        snprintf(dir, sizeof dir, "%s/../share/hoist", exe);
        return dir;
      }
    }
  }
  snprintf(dir, sizeof dir, "%s", HOIST_SOURCE_DIR);
  return dir;
}

static void set_package_path(lua_State *L)
{
  const char *share = hoist_runtime_share_dir();
  const char *user = getenv("HOIST_PATH");
  luaL_Buffer b;

  lua_getglobal(L, "package");
  luaL_buffinit(L, &b);
  if (user && *user) {
    luaL_addstring(&b, user);
    luaL_addchar(&b, ';');
  }
  luaL_addstring(&b, "./.hoist/?.lua;./.hoist/?/init.lua;");
  /* a luarocks tree in ./.hoist/rocks (hoist.rocks): found by `hoist run` and `eval` too */
  luaL_addstring(&b, "./.hoist/rocks/share/lua/5.4/?.lua;./.hoist/rocks/share/lua/5.4/?/init.lua;");
  lua_pushfstring(L, "%s/lua/?.lua;%s/lua/?/init.lua;%s/scripts/?.lua", share, share, share);
  luaL_addvalue(&b);
  luaL_pushresult(&b);
  lua_setfield(L, -2, "path");
  lua_getfield(L, -1, "cpath");
  lua_pushfstring(L, "./.hoist/rocks/lib/lua/5.4/?.so;%s", lua_tostring(L, -1));
  lua_setfield(L, -3, "cpath");
  lua_pop(L, 2);
}

static void preload_native(lua_State *L)
{
  const luaL_Reg *m;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (m = native_modules; m->name; m++) {
    lua_pushcfunction(L, m->func);
    lua_setfield(L, -2, m->name);
  }
  lua_pop(L, 1);
}

/* hoist.host: what the host knows (version, flags, share dir), a plain table. */
static void push_host_table(lua_State *L, const struct hoist_options *opts)
{
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_createtable(L, 0, 6);
  lua_pushliteral(L, HOIST_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushboolean(L, opts->debug);
  lua_setfield(L, -2, "debug");
  lua_pushboolean(L, opts->json);
  lua_setfield(L, -2, "json");
  lua_pushboolean(L, opts->quiet);
  lua_setfield(L, -2, "quiet");
  lua_pushstring(L, hoist_runtime_share_dir());
  lua_setfield(L, -2, "share");
  /* the machine's platform in OCI spelling, for single-platform outputs */
#if defined(__x86_64__)
  lua_pushliteral(L, "linux/amd64");
#elif defined(__aarch64__)
  lua_pushliteral(L, "linux/arm64");
#elif defined(__arm__)
  lua_pushliteral(L, "linux/arm/v7");
#elif defined(__s390x__)
  lua_pushliteral(L, "linux/s390x");
#elif defined(__powerpc64__)
  lua_pushliteral(L, "linux/ppc64le");
#else
  lua_pushliteral(L, "linux/amd64");
#endif
  lua_setfield(L, -2, "platform");
  lua_setfield(L, -2, "hoist.host");
  lua_pop(L, 1);
}

/*
** HOIST_GC_STRESS=1 runs a collection at nearly every allocation, so a binding
** that lets go of a value C still points at fails at once under ASan instead of
** once in a thousand runs. tools/test.sh sets it for the ASan and TSan stages.
*/
static void set_gc_mode(lua_State *L)
{
  const char *v = getenv("HOIST_GC_STRESS");
  if (v && *v && strcmp(v, "0") != 0)
    lua_gc(L, LUA_GCGEN, 1, 100);
}

lua_State *hoist_runtime_new(const struct hoist_options *opts)
{
  lua_State *L = luaL_newstate();
  if (!L)
    return NULL;
  set_gc_mode(L);
  luaL_openlibs(L);
  preload_native(L);
  set_package_path(L);
  push_host_table(L, opts);
  return L;
}

void hoist_runtime_options(lua_State *L, struct hoist_options *opts)
{
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, "hoist.host") == LUA_TTABLE) {
    lua_getfield(L, -1, "debug");
    opts->debug = lua_toboolean(L, -1);
    lua_getfield(L, -2, "json");
    opts->json = lua_toboolean(L, -1);
    lua_getfield(L, -3, "quiet");
    opts->quiet = lua_toboolean(L, -1);
    lua_pop(L, 3);
  }
  lua_pop(L, 2);
}

static int valid_recipe_name(const char *name)
{
  const char *p;
  if (!*name || *name == '-' || *name == '.')
    return 0;
  for (p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '-' || *p == '_' || *p == '.'))
      return 0;
  return 1;
}

/* Tries one ';'-separated list of templates; pushes the first existing file. */
static int find_in_templates(lua_State *L, const char *templates, const char *name)
{
  const char *p = templates;
  while (*p) {
    const char *end = strchr(p, ';');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n > 0) {
      lua_pushlstring(L, p, n);
      luaL_gsub(L, lua_tostring(L, -1), "?", name);
      lua_remove(L, -2);
      if (is_file(lua_tostring(L, -1)))
        return 1;
      lua_pop(L, 1);
    }
    p += n;
    if (*p == ';')
      p++;
  }
  return 0;
}

int hoist_runtime_find_recipe(lua_State *L, const char *name)
{
  const char *user = getenv("HOIST_PATH");
  if (!valid_recipe_name(name))
    return 0;
  if (user && *user && find_in_templates(L, user, name))
    return 1;
  if (find_in_templates(L, "./.hoist/?.lua", name))
    return 1;
  lua_pushfstring(L, "%s/scripts/?.lua", hoist_runtime_share_dir());
  if (find_in_templates(L, lua_tostring(L, -1), name)) {
    lua_remove(L, -2);
    return 1;
  }
  lua_pop(L, 1);
  return 0;
}

static const char strict_chunk[] =
  "local mt = {}\n"
  "function mt.__index(_, k)\n"
  "  error(\"undeclared global '\" .. tostring(k) .. \"'\", 2)\n"
  "end\n"
  "function mt.__newindex(_, k)\n"
  "  error(\"assignment to undeclared global '\" .. tostring(k) .. \"'\", 2)\n"
  "end\n"
  "setmetatable(_G, mt)\n";

void hoist_runtime_strict_globals(lua_State *L)
{
  if (luaL_loadbuffer(L, strict_chunk, sizeof strict_chunk - 1, "=strict") == LUA_OK)
    lua_call(L, 0, 0);
  else
    lua_error(L);
}
