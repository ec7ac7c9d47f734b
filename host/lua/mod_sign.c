/*
** hoist.sign.core: the native half of hoist.sign and hoist.attest
** (lua/hoist/sign.lua, lua/hoist/attest.lua): ECDSA P-256 keys and signatures
** (sign.c, cosignkey.c), base64 (base64.c), the files of layer blobs with
** their hashes (layerfiles.c) and their records in the cache (filesrecord.c),
** an image's files from its layers' (imagefiles.c), and the files part of its
** SPDX document (spdxfiles.c).
*/
#include "base64.h"
#include "binding.h"
#include "filesrecord.h"
#include "imagefiles.h"
#include "layerfiles.h"
#include "sign.h"
#include "spdxfiles.h"

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
** layer_files({ path, ... } [, threads]) -> { list, ... } (one hoist.LayerFiles per path, its
** entries in archive order: list:entries() gives them as tables) | nil, err, code
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
    hoist_lua_push_layer_list(L, &b->files[j]);   /* the entries move to Lua's collector */
    lua_rawseti(L, -2, (lua_Integer)j + 1);
  }
  return 1;
}

/* A string field of the entry table at -1 (NULL when absent); raises on another type. */
static const char *opt_field(lua_State *L, const char *k, lua_Integer i)
{
  const char *v = NULL;
  int t = lua_getfield(L, -1, k);
  if (t == LUA_TSTRING)
    v = lua_tostring(L, -1);
  else if (t != LUA_TNIL)
    luaL_error(L, "layer_list: entry %d: %s must be a string", (int)i, k);
  lua_pop(L, 1);   /* the entry table keeps the string alive */
  return v;
}

/*
** layer_list({ {name=, type=, mode=, link=, size=, sha256=, sha1=}, ... }) -> list: a layer's
** list made from tables, as list:entries() gives them (for tests, and records made by hand).
*/
static int l_layer_list(lua_State *L)
{
  struct hoist_layer_files *f;
  lua_Integer i, n;
  luaL_checktype(L, 1, LUA_TTABLE);
  n = (lua_Integer)lua_rawlen(L, 1);
  if (n > HOIST_LAYER_FILES_MAX)
    return luaL_argerror(L, 1, "too many entries");
  {
    struct hoist_layer_files empty = { 0 };
    hoist_lua_push_layer_list(L, &empty);   /* owns the entries from here on, if we raise */
  }
  f = hoist_lua_check_layer_list(L, -1);
  f->entries = calloc((size_t)n + 1, sizeof *f->entries);
  if (!f->entries)
    return luaL_error(L, "out of memory");
  for (i = 1; i <= n; i++) {
    struct hoist_layer_entry *e = &f->entries[i - 1];
    struct hoist_err err;
    const char *name, *type, *link, *sha256, *sha1;
    lua_Integer mode, size;
    if (lua_rawgeti(L, 1, i) != LUA_TTABLE)
      return luaL_error(L, "layer_list: entry %d must be a table", (int)i);
    name = opt_field(L, "name", i);
    type = opt_field(L, "type", i);
    link = opt_field(L, "link", i);
    sha256 = opt_field(L, "sha256", i);
    sha1 = opt_field(L, "sha1", i);
    lua_getfield(L, -1, "mode");
    mode = luaL_optinteger(L, -1, 0644);
    lua_getfield(L, -2, "size");
    size = luaL_optinteger(L, -1, 0);
    lua_pop(L, 2);
    if (!name || !type || strlen(type) != 1 || !strchr("fdlho", type[0]) || mode < 0 || mode > 07777 || size < 0)
      return luaL_error(L, "layer_list: entry %d needs a name, a type (f, d, l, h, o) and a mode", (int)i);
    if (hoist_layer_entry_init(e, name, type[0], (unsigned)mode, link, &err))
      return luaL_error(L, "layer_list: entry %d: %s", (int)i, err.msg);
    f->n = (size_t)i;
    if (type[0] == 'f') {
      if (!sha256 || strlen(sha256) != 64 || !sha1 || strlen(sha1) != 40)
        return luaL_error(L, "layer_list: entry %d (a file) needs sha256 and sha1", (int)i);
      memcpy(e->sha256, sha256, 65);
      memcpy(e->sha1, sha1, 41);
      e->size = size;
    }
    lua_pop(L, 1);
  }
  return 1;
}

/* files_record_read(path) -> list | nil, err, code (ENOENT: no record; EINVAL: not a whole one) */
static int l_files_record_read(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  struct hoist_layer_files f;
  struct hoist_err err;
  if (hoist_files_record_read(path, &f, &err))
    return hoist_lua_push_err(L, &err);
  hoist_lua_push_layer_list(L, &f);
  return 1;
}

/* files_record_write(path, list) -> true | nil, err, code */
static int l_files_record_write(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  struct hoist_err err;
  if (hoist_files_record_write(path, hoist_lua_check_layer_list(L, 2), &err))
    return hoist_lua_push_err(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

/* The layer lists of the table at idx, bottom first, in a userdata-owned array at the top of the stack. */
static const struct hoist_layer_files **check_lists(lua_State *L, int idx, size_t *n)
{
  const struct hoist_layer_files **lists;
  lua_Integer i, len;
  luaL_checktype(L, idx, LUA_TTABLE);
  len = (lua_Integer)lua_rawlen(L, idx);
  lists = lua_newuserdatauv(L, ((size_t)len + 1) * sizeof *lists, 0);
  for (i = 1; i <= len; i++) {
    lua_rawgeti(L, idx, i);
    lists[i - 1] = hoist_lua_test_layer_list(L, -1);
    if (!lists[i - 1])
      luaL_argerror(L, idx, "a list of layer file lists (hoist.LayerFiles) expected");
    lua_pop(L, 1);   /* still referenced by the table */
  }
  *n = (size_t)len;
  return lists;
}

/* Applied files, owned by a userdata so that a raise while the result is built frees them. */
#define IMAGE_FILES_MT "hoist.ImageFilesBox"

static int l_image_files_gc(lua_State *L)
{
  hoist_image_files_free(luaL_checkudata(L, 1, IMAGE_FILES_MT));
  return 0;
}

static struct hoist_image_files *apply(lua_State *L, int idx, struct hoist_err *err)
{
  size_t n;
  const struct hoist_layer_files **lists = check_lists(L, idx, &n);
  struct hoist_image_files *out = lua_newuserdatauv(L, sizeof *out, 0);
  memset(out, 0, sizeof *out);
  luaL_setmetatable(L, IMAGE_FILES_MT);
  if (hoist_image_files_apply(lists, n, out, err))
    return NULL;
  return out;
}

/*
** image_files({ list, ... }) -> { {path="/a/b", sha256=, sha1=, size=, mode=}, ... } sorted by
** path: the regular files of an image whose layers (bottom first) have those lists (imagefiles.h).
*/
static int l_image_files(lua_State *L)
{
  struct hoist_err err;
  struct hoist_image_files *files = apply(L, 1, &err);
  size_t k;
  if (!files)
    return hoist_lua_push_err(L, &err);
  lua_createtable(L, (int)files->n, 0);
  for (k = 0; k < files->n; k++) {
    const struct hoist_layer_entry *c = files->files[k].content;
    lua_createtable(L, 0, 5);
    lua_pushfstring(L, "/%s", files->files[k].path);
    lua_setfield(L, -2, "path");
    set_str(L, "sha256", c->sha256);
    set_str(L, "sha1", c->sha1);
    lua_pushinteger(L, (lua_Integer)c->size);
    lua_setfield(L, -2, "size");
    lua_pushinteger(L, (lua_Integer)c->mode);
    lua_setfield(L, -2, "mode");
    lua_rawseti(L, -2, (lua_Integer)k + 1);
  }
  return 1;
}

/*
** spdx_fragment({ list, ... }, path) -> count, code | nil, err, code: writes the files part of an
** SPDX document of an image with those layers to path (spdxfiles.h).
*/
static int l_spdx_fragment(lua_State *L)
{
  const char *path = luaL_checkstring(L, 2);
  struct hoist_err err;
  struct hoist_spdx_fragment frag;
  struct hoist_image_files *files = apply(L, 1, &err);
  if (!files || hoist_spdx_fragment_write(files, path, &frag, &err))
    return hoist_lua_push_err(L, &err);
  lua_pushinteger(L, (lua_Integer)frag.count);
  lua_pushstring(L, frag.code);
  return 2;
}

/* spdx_fragment_read(path) -> count, code | nil, err, code */
static int l_spdx_fragment_read(lua_State *L)
{
  struct hoist_err err;
  struct hoist_spdx_fragment frag;
  if (hoist_spdx_fragment_read(luaL_checkstring(L, 1), &frag, &err))
    return hoist_lua_push_err(L, &err);
  lua_pushinteger(L, (lua_Integer)frag.count);
  lua_pushstring(L, frag.code);
  return 2;
}

/* spdx_document(path, fragment_path, head, middle, tail) -> digest, size | nil, err, code */
static int l_spdx_document(lua_State *L)
{
  char digest[HOIST_DIGEST_LEN + 1];
  unsigned long long size = 0;
  struct hoist_err err;
  if (hoist_spdx_document_write(luaL_checkstring(L, 1), luaL_checkstring(L, 2), luaL_checkstring(L, 3),
                                luaL_checkstring(L, 4), luaL_checkstring(L, 5), digest, &size, &err))
    return hoist_lua_push_err(L, &err);
  lua_pushstring(L, digest);
  lua_pushinteger(L, (lua_Integer)size);
  return 2;
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
  {"layer_list", l_layer_list},
  {"files_record_read", l_files_record_read},
  {"files_record_write", l_files_record_write},
  {"image_files", l_image_files},
  {"spdx_fragment", l_spdx_fragment},
  {"spdx_fragment_read", l_spdx_fragment_read},
  {"spdx_document", l_spdx_document},
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
  luaL_newmetatable(L, IMAGE_FILES_MT);
  lua_pushcfunction(L, l_image_files_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  return 1;
}
