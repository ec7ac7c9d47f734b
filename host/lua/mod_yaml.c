/*
** hoist.yaml.core: the Lua face of yamljson.c. to_json(text [, name]) -> JSON text | nil, err, code.
** (lua/hoist/yaml.lua decodes it with hoist.json.)
*/
#include "binding.h"
#include "yamljson.h"

#include <lauxlib.h>
#include <lua.h>

int luaopen_hoist_yaml_core(lua_State *L);

static int l_to_json(lua_State *L)
{
  size_t len, out_len = 0;
  const char *text = luaL_checklstring(L, 1, &len);
  const char *name = luaL_optstring(L, 2, "(yaml)");
  struct hoist_err err;
  char *out;
  if (hoist_yaml_to_json(text, len, name, &out, &out_len, &err))
    return hoist_lua_push_err(L, &err);
  hoist_lua_push_owned(L, out, out_len);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"to_json", l_to_json},
  {NULL, NULL}
};

int luaopen_hoist_yaml_core(lua_State *L)
{
  luaL_newlib(L, funcs);
  return 1;
}
