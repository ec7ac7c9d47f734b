/*
** hoist.registry: the Lua face of registry.c and ref.c. Converts arguments and errors only.
** Failures return nil, message, code ("EAUTH", "EREMOTE", "EIO", ...).
*/
#include "ref.h"
#include "registry.h"

#include <lauxlib.h>
#include <lua.h>

#include <stdlib.h>
#include <string.h>

#define CLIENT_MT "hoist.RegistryClient"

int luaopen_hoist_registry(lua_State *L);

struct lclient {
  struct hoist_registry *r;
};

static const char *code_name(int code)
{
  if (code == HOIST_EAUTH)
    return "EAUTH";
  if (code == HOIST_EREMOTE)
    return "EREMOTE";
  return hoist_err_name(code);
}

static int push_err(lua_State *L, const struct hoist_err *err)
{
  luaL_pushfail(L);
  lua_pushstring(L, err->msg);
  lua_pushstring(L, code_name(err->code));
  return 3;
}

static struct hoist_registry *check_client(lua_State *L)
{
  struct lclient *c = luaL_checkudata(L, 1, CLIENT_MT);
  if (!c->r)
    luaL_error(L, "attempt to use a closed registry client");
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

/* connect(api_host [, { username=, password=, insecure= }]) -> client */
static int l_connect(lua_State *L)
{
  const char *host = luaL_checkstring(L, 1);
  struct hoist_registry_opts o;
  struct lclient *c;
  struct hoist_err err;
  memset(&o, 0, sizeof o);
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getfield(L, 2, "username");
    lua_getfield(L, 2, "password");
    lua_getfield(L, 2, "insecure");
    o.username = lua_tostring(L, -3);
    o.password = lua_tostring(L, -2);
    o.insecure = lua_toboolean(L, -1);
  }
  c = lua_newuserdatauv(L, sizeof *c, 0);
  c->r = NULL;
  luaL_setmetatable(L, CLIENT_MT);
  if (hoist_registry_new(host, &o, &c->r, &err))
    return push_err(L, &err);
  return 1;
}

static int l_client_gc(lua_State *L)
{
  struct lclient *c = luaL_checkudata(L, 1, CLIENT_MT);
  hoist_registry_free(c->r);
  c->r = NULL;
  return 0;
}

static int l_client_blob_exists(lua_State *L)
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

static int l_client_get_manifest(lua_State *L)
{
  struct hoist_registry *r = check_client(L);
  const char *repo = luaL_checkstring(L, 2), *ref = luaL_checkstring(L, 3);
  char mt[256];
  char *body;
  size_t len;
  struct hoist_err err;
  if (hoist_registry_manifest_get(r, repo, ref, &body, &len, mt, sizeof mt, &err))
    return push_err(L, &err);
  lua_pushlstring(L, body, len);
  free(body);
  lua_pushstring(L, mt);
  return 2;
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

static const luaL_Reg client_methods[] = {
  {"blob_exists", l_client_blob_exists},
  {"put_blob_file", l_client_put_blob_file},
  {"put_manifest", l_client_put_manifest},
  {"get_manifest", l_client_get_manifest},
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
  luaL_newlib(L, registry_funcs);
  return 1;
}
