/*
** hoist.sign.core: the native half of hoist.sign and hoist.attest
** (lua/hoist/sign.lua, lua/hoist/attest.lua): ECDSA P-256 keys and signatures
** (sign.c, cosignkey.c), base64 (base64.c), and the files of layer blobs with
** their hashes (layerfiles.c).
*/
#include "base64.h"
#include "binding.h"
#include "layerfiles.h"
#include "sign.h"

#include <lauxlib.h>
#include <lua.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MT "hoist.SigningKey"
#define FILES_MT "hoist.LayerFilesBox"

int luaopen_hoist_sign_core(lua_State *L);

struct lkey {
  struct hoist_key *k;
};

static struct hoist_key *check_key(lua_State *L, int idx)
{
  struct lkey *lk = luaL_checkudata(L, idx, KEY_MT);
  if (!lk->k)
    luaL_argerror(L, idx, "the key was freed");
  return lk->k;
}

/* A new key userdata on the stack, adopting k (freed when pushing fails: the userdata exists first). */
static struct lkey *new_key_box(lua_State *L)
{
  struct lkey *lk = lua_newuserdatauv(L, sizeof *lk, 0);
  lk->k = NULL;
  luaL_setmetatable(L, KEY_MT);
  return lk;
}

static int l_generate(lua_State *L)
{
  struct lkey *lk = new_key_box(L);
  struct hoist_err err;
  if (hoist_key_generate(&lk->k, &err))
    return hoist_lua_push_err(L, &err);
  return 1;
}

/* load_private(pem, password|nil, what) -> key | nil, err, code */
static int l_load_private(lua_State *L)
{
  size_t len, pwlen = 0;
  const char *pem = luaL_checklstring(L, 1, &len);
  const char *pw = luaL_optlstring(L, 2, NULL, &pwlen);
  const char *what = luaL_optstring(L, 3, "the key");
  struct lkey *lk = new_key_box(L);
  struct hoist_err err;
  if (hoist_key_load_private(pem, len, pw, pwlen, what, &lk->k, &err))
    return hoist_lua_push_err(L, &err);
  return 1;
}

/* load_public(pem, what) -> key | nil, err, code */
static int l_load_public(lua_State *L)
{
  size_t len;
  const char *pem = luaL_checklstring(L, 1, &len);
  const char *what = luaL_optstring(L, 2, "the key");
  struct lkey *lk = new_key_box(L);
  struct hoist_err err;
  if (hoist_key_load_public(pem, len, what, &lk->k, &err))
    return hoist_lua_push_err(L, &err);
  return 1;
}

static int l_key_gc(lua_State *L)
{
  struct lkey *lk = luaL_checkudata(L, 1, KEY_MT);
  hoist_key_free(lk->k);
  lk->k = NULL;
  return 0;
}

static int l_key_is_private(lua_State *L)
{
  lua_pushboolean(L, hoist_key_is_private(check_key(L, 1)));
  return 1;
}

/* Pushes a C string the key functions made; it may hold key material, so it is cleansed. */
static void push_secret(lua_State *L, char *s, size_t len)
{
  luaL_Buffer b;
  char *dst = luaL_buffinitsize(L, &b, len);   /* may raise: s would leak, so copy first */
  memcpy(dst, s, len);
  OPENSSL_cleanse(s, len);
  free(s);
  luaL_pushresultsize(&b, len);
}

/* key:private_pem([password]) -> PEM (PKCS#8; encrypted when a password is given) */
static int l_key_private_pem(lua_State *L)
{
  struct hoist_key *k = check_key(L, 1);
  size_t pwlen = 0, len;
  const char *pw = luaL_optlstring(L, 2, NULL, &pwlen);
  char *out;
  struct hoist_err err;
  luaL_checkstack(L, 4, NULL);
  if (hoist_key_private_pem(k, pw, pwlen, &out, &len, &err))
    return hoist_lua_push_err(L, &err);
  push_secret(L, out, len);
  return 1;
}

/* key:cosign_pem([password]) -> PEM "ENCRYPTED SIGSTORE PRIVATE KEY" */
static int l_key_cosign_pem(lua_State *L)
{
  struct hoist_key *k = check_key(L, 1);
  size_t pwlen = 0, len;
  const char *pw = luaL_optlstring(L, 2, NULL, &pwlen);
  char *out;
  struct hoist_err err;
  luaL_checkstack(L, 4, NULL);
  if (hoist_key_cosign_pem(k, pw, pwlen, &out, &len, &err))
    return hoist_lua_push_err(L, &err);
  push_secret(L, out, len);
  return 1;
}

static int l_key_public_pem(lua_State *L)
{
  struct hoist_key *k = check_key(L, 1);
  size_t len;
  char *out;
  struct hoist_err err;
  if (hoist_key_public_pem(k, &out, &len, &err))
    return hoist_lua_push_err(L, &err);
  hoist_lua_push_owned(L, out, len);
  return 1;
}

static int l_key_id(lua_State *L)
{
  struct hoist_key *k = check_key(L, 1);
  char id[72];
  struct hoist_err err;
  if (hoist_key_id(k, id, &err))
    return hoist_lua_push_err(L, &err);
  lua_pushstring(L, id);
  return 1;
}

/* key:sign(data) -> base64 DER signature */
static int l_key_sign(lua_State *L)
{
  struct hoist_key *k = check_key(L, 1);
  size_t len, siglen, b64len;
  const char *data = luaL_checklstring(L, 2, &len);
  unsigned char *sig;
  char *b64;
  struct hoist_err err;
  int rc;
  if (!hoist_key_is_private(k))
    return luaL_argerror(L, 1, "a public key cannot sign");
  if (hoist_key_sign(k, data, len, &sig, &siglen, &err))
    return hoist_lua_push_err(L, &err);
  rc = hoist_base64_encode(sig, siglen, &b64, &b64len, &err);
  free(sig);
  if (rc)
    return hoist_lua_push_err(L, &err);
  hoist_lua_push_owned(L, b64, b64len);
  return 1;
}

/* key:verify(data, base64_signature) -> true | false, why */
static int l_key_verify(lua_State *L)
{
  struct hoist_key *k = check_key(L, 1);
  size_t len, slen, siglen;
  const char *data = luaL_checklstring(L, 2, &len);
  const char *b64 = luaL_checklstring(L, 3, &slen);
  unsigned char *sig;
  struct hoist_err err;
  int rc;
  if (hoist_base64_decode(b64, slen, &sig, &siglen, &err)) {
    lua_pushboolean(L, 0);
    lua_pushfstring(L, "the signature is not base64 (%s)", err.msg);
    return 2;
  }
  rc = hoist_key_verify(k, data, len, sig, siglen, &err);
  free(sig);
  if (rc == HOIST_EINVAL) {
    lua_pushboolean(L, 0);
    lua_pushstring(L, err.msg);
    return 2;
  }
  if (rc)
    return hoist_lua_push_err(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_base64_encode(lua_State *L)
{
  size_t len, olen;
  const char *s = luaL_checklstring(L, 1, &len);
  char *out;
  struct hoist_err err;
  if (hoist_base64_encode(s, len, &out, &olen, &err))
    return hoist_lua_push_err(L, &err);
  hoist_lua_push_owned(L, out, olen);
  return 1;
}

static int l_base64_decode(lua_State *L)
{
  size_t len, olen;
  const char *s = luaL_checklstring(L, 1, &len);
  unsigned char *out;
  struct hoist_err err;
  if (hoist_base64_decode(s, len, &out, &olen, &err))
    return hoist_lua_push_err(L, &err);
  hoist_lua_push_owned(L, (char *)out, olen);
  return 1;
}

/* sha1(s) -> 40 hex digits (SPDX's package verification code is built from SHA-1s) */
static int l_sha1(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0, i;
  char out[2 * EVP_MAX_MD_SIZE + 1];
  if (EVP_Digest(s, len, md, &n, EVP_sha1(), NULL) != 1)
    return luaL_error(L, "sha1 failed");
  for (i = 0; i < n; i++)
    snprintf(out + 2 * i, 3, "%02x", md[i]);
  lua_pushlstring(L, out, 2 * n);
  return 1;
}

/* The C results of layer_files, owned by a userdata so that a raise while the tables are built frees them. */
struct files_box {
  struct hoist_layer_files *files;
  int *rcs;
  struct hoist_err *errs;
  const char **paths;
  size_t n;
};

static int l_files_box_gc(lua_State *L)
{
  struct files_box *b = luaL_checkudata(L, 1, FILES_MT);
  size_t i;
  if (b->files)
    for (i = 0; i < b->n; i++)
      hoist_layer_files_free(&b->files[i]);
  free(b->files);
  free(b->rcs);
  free(b->errs);
  free(b->paths);
  memset(b, 0, sizeof *b);
  return 0;
}

static void set_str(lua_State *L, const char *k, const char *v)
{
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

/*
** layer_files({ path, ... } [, threads]) -> { { {name=, type=, mode=, size=, sha256=, sha1=,
** link=}, ... }, ... } (one list per path, in archive order) | nil, err, code
*/
static int l_layer_files(lua_State *L)
{
  struct files_box *b;
  lua_Integer n, i, threads;
  size_t j;
  luaL_checktype(L, 1, LUA_TTABLE);
  threads = luaL_optinteger(L, 2, 2);
  n = (lua_Integer)lua_rawlen(L, 1);
  b = lua_newuserdatauv(L, sizeof *b, 0);
  memset(b, 0, sizeof *b);
  luaL_setmetatable(L, FILES_MT);
  b->files = calloc((size_t)n + 1, sizeof *b->files);
  b->rcs = calloc((size_t)n + 1, sizeof *b->rcs);
  b->errs = calloc((size_t)n + 1, sizeof *b->errs);
  b->paths = calloc((size_t)n + 1, sizeof *b->paths);
  if (!b->files || !b->rcs || !b->errs || !b->paths)
    return luaL_error(L, "out of memory");
  b->n = (size_t)n;
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, 1, i);
    if (lua_type(L, -1) != LUA_TSTRING)
      return luaL_argerror(L, 1, "a list of layer file paths expected");
    b->paths[i - 1] = lua_tostring(L, -1);   /* kept alive by argument 1 */
    lua_pop(L, 1);
  }
  if (hoist_layer_files_read_all(b->paths, b->n, (int)threads, b->files, b->rcs, b->errs)) {
    for (j = 0; j < b->n; j++)
      if (b->rcs[j])
        return hoist_lua_push_err(L, &b->errs[j]);
  }
  lua_createtable(L, (int)n, 0);
  for (j = 0; j < b->n; j++) {
    struct hoist_layer_files *f = &b->files[j];
    size_t k;
    lua_createtable(L, (int)f->n, 0);
    for (k = 0; k < f->n; k++) {
      struct hoist_layer_entry *e = &f->entries[k];
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
    lua_rawseti(L, -2, (lua_Integer)j + 1);
    hoist_layer_files_free(f);   /* done with it: memory back early on big images */
  }
  return 1;
}

static const luaL_Reg key_methods[] = {
  {"is_private", l_key_is_private},
  {"private_pem", l_key_private_pem},
  {"cosign_pem", l_key_cosign_pem},
  {"public_pem", l_key_public_pem},
  {"id", l_key_id},
  {"sign", l_key_sign},
  {"verify", l_key_verify},
  {NULL, NULL}
};

static const luaL_Reg funcs[] = {
  {"generate", l_generate},
  {"load_private", l_load_private},
  {"load_public", l_load_public},
  {"base64_encode", l_base64_encode},
  {"base64_decode", l_base64_decode},
  {"layer_files", l_layer_files},
  {"sha1", l_sha1},
  {NULL, NULL}
};

int luaopen_hoist_sign_core(lua_State *L)
{
  luaL_newmetatable(L, KEY_MT);
  lua_pushcfunction(L, l_key_gc);
  lua_setfield(L, -2, "__gc");
  luaL_newlib(L, key_methods);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "hoist.SigningKey");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
  luaL_newmetatable(L, FILES_MT);
  lua_pushcfunction(L, l_files_box_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  return 1;
}
