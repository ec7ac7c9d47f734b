/*
** layerlist: one layer's file list (layerfiles.h) as a Lua value, shared by
** hoist.oci.core (recorded while a layer is written) and hoist.sign.core (read
** back from a blob or a record, applied into SBOMs). The entries stay in C:
** 60,000 files as Lua tables took 0.5 KB each, as C structs under 0.2 KB.
** list:entries() gives them as tables for the few callers that want them.
*/
#include "binding.h"

#include "layerfiles.h"

#include <lauxlib.h>

#include <stdlib.h>
#include <string.h>

#define LAYER_LIST_MT "hoist.LayerFiles"

static int l_list_gc(lua_State *L)
{
  hoist_layer_files_free(luaL_checkudata(L, 1, LAYER_LIST_MT));
  return 0;
}

static int l_list_len(lua_State *L)
{
  lua_pushinteger(L, (lua_Integer)hoist_lua_check_layer_list(L, 1)->n);
  return 1;
}

static void set_str(lua_State *L, const char *k, const char *v)
{
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

/*
** list:entries() -> { {name=, type=, mode=, link= (links), size=, sha256=, sha1= (regular
** files)}, ... } in archive order.
*/
static int l_list_entries(lua_State *L)
{
  const struct hoist_layer_files *f = hoist_lua_check_layer_list(L, 1);
  size_t k;
  lua_createtable(L, (int)f->n, 0);
  for (k = 0; k < f->n; k++) {
    const struct hoist_layer_entry *e = &f->entries[k];
    char t[2] = { e->type, 0 };
    lua_createtable(L, 0, 7);
    set_str(L, "name", e->name);
    set_str(L, "type", t);
    lua_pushinteger(L, (lua_Integer)e->mode);
    lua_setfield(L, -2, "mode");
    if (e->link)
      set_str(L, "link", e->link);
    if (e->type == 'f') {
      lua_pushinteger(L, (lua_Integer)e->size);
      lua_setfield(L, -2, "size");
      set_str(L, "sha256", e->sha256);
      set_str(L, "sha1", e->sha1);
    }
    lua_rawseti(L, -2, (lua_Integer)k + 1);
  }
  return 1;
}

static const luaL_Reg list_methods[] = {
  {"entries", l_list_entries},
  {NULL, NULL}
};

void hoist_lua_push_layer_list(lua_State *L, struct hoist_layer_files *moved)
{
  struct hoist_layer_files *u = lua_newuserdatauv(L, sizeof *u, 0);
  memset(u, 0, sizeof *u);
  if (luaL_newmetatable(L, LAYER_LIST_MT)) {
    lua_pushcfunction(L, l_list_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, l_list_len);
    lua_setfield(L, -2, "__len");
    luaL_newlib(L, list_methods);
    lua_setfield(L, -2, "__index");
  }
  lua_setmetatable(L, -2);
  *u = *moved;
  memset(moved, 0, sizeof *moved);
}

struct hoist_layer_files *hoist_lua_check_layer_list(lua_State *L, int idx)
{
  return luaL_checkudata(L, idx, LAYER_LIST_MT);
}

struct hoist_layer_files *hoist_lua_test_layer_list(lua_State *L, int idx)
{
  return luaL_testudata(L, idx, LAYER_LIST_MT);
}
