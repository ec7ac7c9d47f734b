#include "binding.h"

#include <lauxlib.h>

#include <stdlib.h>
#include <string.h>

int hoist_lua_push_err(lua_State *L, const struct hoist_err *err)
{
  luaL_pushfail(L);
  lua_pushstring(L, err->msg);
  lua_pushstring(L, hoist_err_name(err->code));
  return 3;
}

/* Levenshtein distance, bounded: words of interest are short option names. */
static size_t distance(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b), i, j;
  size_t row[64], prev, tmp;
  if (la >= 63 || lb >= 63)
    return (size_t)-1;
  for (j = 0; j <= lb; j++)
    row[j] = j;
  for (i = 1; i <= la; i++) {
    prev = row[0];
    row[0] = i;
    for (j = 1; j <= lb; j++) {
      size_t best = prev + (a[i - 1] != b[j - 1]);
      if (row[j] + 1 < best)
        best = row[j] + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      tmp = row[j];
      row[j] = best;
      prev = tmp;
    }
  }
  return row[lb];
}

const char *hoist_closest(const char *word, const char *const *known)
{
  const char *best = NULL;
  size_t best_d = (size_t)-1, limit = strlen(word) / 3 + 1, k;
  for (k = 0; known[k]; k++) {
    size_t d = distance(word, known[k]);
    if (d < best_d) {
      best_d = d;
      best = known[k];
    }
  }
  return best_d <= limit ? best : NULL;
}

void hoist_lua_check_keys(lua_State *L, int idx, const char *fname, const char *const *known)
{
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *key, *near;
    size_t k;
    int found = 0;
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "bad option table to '%s' (keys must be names, got a %s)", fname,
                 luaL_typename(L, -1));
    key = lua_tostring(L, -1);
    for (k = 0; known[k] && !found; k++)
      found = strcmp(key, known[k]) == 0;
    if (!found) {
      near = hoist_closest(key, known);
      if (near)
        luaL_error(L, "bad option '%s' to '%s' (did you mean '%s'?)", key, fname, near);
      luaL_error(L, "bad option '%s' to '%s' (unknown)", key, fname);
    }
  }
}

static int push_lstring(lua_State *L)
{
  lua_pushlstring(L, lua_touserdata(L, 1), (size_t)lua_tointeger(L, 2));
  return 1;
}

void hoist_lua_push_owned(lua_State *L, char *body, size_t len)
{
  int st;
  lua_pushcfunction(L, push_lstring);
  lua_pushlightuserdata(L, body);
  lua_pushinteger(L, (lua_Integer)len);
  st = lua_pcall(L, 2, 1, 0);
  free(body);
  if (st != LUA_OK)
    lua_error(L);
}
