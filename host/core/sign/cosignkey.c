#include "cosignkey.h"

#include "base64.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sodium.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KEY_BYTES 32
#define SALT_BYTES 32
#define WRITE_N 32768

/* The parameters secure-systems-lab's package writes (legacy 2^15, standard 2^16, OWASP-like 2^17)
** with r=8, p=1; anything else is refused before scrypt runs, so a hostile file cannot make us
** allocate gigabytes. */
static int params_ok(json_int_t n, json_int_t r, json_int_t p)
{
  return (n == 32768 || n == 65536 || n == 131072) && r == 8 && p == 1;
}

static int derive(const char *password, size_t pwlen, const unsigned char *salt, size_t saltlen,
                  uint64_t n, uint64_t r, uint64_t p, unsigned char key[KEY_BYTES],
                  struct hoist_err *err)
{
  /* scrypt needs 128 * r * N bytes; allow that and a little more */
  uint64_t maxmem = 128 * r * n + (1u << 20);
  if (EVP_PBE_scrypt(password ? password : "", password ? pwlen : 0, salt, saltlen, n, r, p,
                     maxmem, key, KEY_BYTES) != 1)
    return hoist_err_set(err, HOIST_ENOMEM, "scrypt failed (out of memory?)");
  return HOIST_OK;
}

static int b64_field(json_t *obj, const char *name, unsigned char **out, size_t *len,
                     struct hoist_err *err)
{
  json_t *v = json_object_get(obj, name);
  if (!json_is_string(v))
    return hoist_err_set(err, HOIST_EINVAL, "cosign key: '%s' is missing or not a string", name);
  if (hoist_base64_decode(json_string_value(v), json_string_length(v), out, len, err))
    return hoist_err_set(err, HOIST_EINVAL, "cosign key: '%s' is not base64", name);
  return HOIST_OK;
}

int hoist_cosign_decrypt(const char *text, size_t len, const char *password, size_t pwlen,
                         unsigned char **der, size_t *derlen, struct hoist_err *err)
{
  json_error_t jerr;
  json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  json_t *kdf, *params, *cipher;
  unsigned char *salt = NULL, *nonce = NULL, *box = NULL, *plain = NULL;
  size_t saltlen = 0, noncelen = 0, boxlen = 0;
  unsigned char key[KEY_BYTES];
  json_int_t n, r, p;
  int rc = HOIST_OK;

  if (!doc || !json_is_object(doc)) {
    json_decref(doc);
    return hoist_err_set(err, HOIST_EINVAL, "cosign key: the envelope is not a JSON object");
  }
  if (sodium_init() < 0) {
    json_decref(doc);
    return hoist_err_set(err, HOIST_EIO, "libsodium cannot start");
  }
  kdf = json_object_get(doc, "kdf");
  params = json_object_get(kdf, "params");
  cipher = json_object_get(doc, "cipher");
  if (!json_is_object(kdf) || !json_is_object(params) || !json_is_object(cipher) ||
      !json_is_string(json_object_get(kdf, "name")) ||
      strcmp(json_string_value(json_object_get(kdf, "name")), "scrypt") != 0 ||
      !json_is_string(json_object_get(cipher, "name")) ||
      strcmp(json_string_value(json_object_get(cipher, "name")), "nacl/secretbox") != 0) {
    rc = hoist_err_set(err, HOIST_EINVAL, "cosign key: not an scrypt + nacl/secretbox envelope");
    goto out;
  }
  n = json_integer_value(json_object_get(params, "N"));
  r = json_integer_value(json_object_get(params, "r"));
  p = json_integer_value(json_object_get(params, "p"));
  if (!params_ok(n, r, p)) {
    rc = hoist_err_set(err, HOIST_EINVAL, "cosign key: unexpected scrypt parameters N=%lld r=%lld p=%lld",
                       (long long)n, (long long)r, (long long)p);
    goto out;
  }
  if ((rc = b64_field(kdf, "salt", &salt, &saltlen, err)) ||
      (rc = b64_field(cipher, "nonce", &nonce, &noncelen, err)) ||
      (rc = b64_field(doc, "ciphertext", &box, &boxlen, err)))
    goto out;
  if (noncelen != crypto_secretbox_NONCEBYTES || boxlen < crypto_secretbox_MACBYTES) {
    rc = hoist_err_set(err, HOIST_EINVAL, "cosign key: bad nonce or ciphertext length");
    goto out;
  }
  if ((rc = derive(password, pwlen, salt, saltlen, (uint64_t)n, (uint64_t)r, (uint64_t)p, key, err)))
    goto out;
  plain = malloc(boxlen - crypto_secretbox_MACBYTES + 1);
  if (!plain) {
    rc = hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    goto out;
  }
  if (crypto_secretbox_open_easy(plain, box, boxlen, nonce, key) != 0) {
    /* Poly1305 refused: with a well-formed envelope, that is the password */
    rc = hoist_err_set(err, HOIST_EAUTH, "wrong password");
    free(plain);
    plain = NULL;
    goto out;
  }
  *der = plain;
  *derlen = boxlen - crypto_secretbox_MACBYTES;
out:
  OPENSSL_cleanse(key, sizeof key);
  free(salt);
  free(nonce);
  free(box);
  json_decref(doc);
  return rc;
}

static int put_b64(json_t *obj, const char *name, const unsigned char *data, size_t len,
                   struct hoist_err *err)
{
  char *s;
  size_t slen;
  int rc = hoist_base64_encode(data, len, &s, &slen, err);
  if (rc)
    return rc;
  rc = json_object_set_new(obj, name, json_stringn(s, slen)) ? HOIST_ENOMEM : HOIST_OK;
  free(s);
  return rc ? hoist_err_set(err, rc, "out of memory") : HOIST_OK;
}

int hoist_cosign_encrypt(const unsigned char *der, size_t derlen, const char *password,
                         size_t pwlen, char **out, size_t *outlen, struct hoist_err *err)
{
  unsigned char salt[SALT_BYTES], nonce[crypto_secretbox_NONCEBYTES], key[KEY_BYTES];
  unsigned char *box = NULL;
  json_t *doc = NULL, *kdf, *params, *cipher;
  char *text;
  int rc = HOIST_OK;

  if (sodium_init() < 0)
    return hoist_err_set(err, HOIST_EIO, "libsodium cannot start");
  if (RAND_bytes(salt, sizeof salt) != 1 || RAND_bytes(nonce, sizeof nonce) != 1)
    return hoist_err_set(err, HOIST_EIO, "no randomness for the key envelope");
  if ((rc = derive(password, pwlen, salt, sizeof salt, WRITE_N, 8, 1, key, err)))
    return rc;
  box = malloc(derlen + crypto_secretbox_MACBYTES);
  doc = json_object();
  kdf = json_object();
  params = json_pack("{s:i,s:i,s:i}", "N", WRITE_N, "r", 8, "p", 1);
  cipher = json_object();
  if (!box || !doc || !kdf || !params || !cipher) {
    json_decref(kdf);
    json_decref(params);
    json_decref(cipher);
    rc = hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    goto out;
  }
  crypto_secretbox_easy(box, der, derlen, nonce, key);
  json_object_set_new(doc, "kdf", kdf);
  json_object_set_new(doc, "cipher", cipher);
  json_object_set_new(kdf, "name", json_string("scrypt"));
  json_object_set_new(kdf, "params", params);
  json_object_set_new(cipher, "name", json_string("nacl/secretbox"));
  if ((rc = put_b64(kdf, "salt", salt, sizeof salt, err)) ||
      (rc = put_b64(cipher, "nonce", nonce, sizeof nonce, err)) ||
      (rc = put_b64(doc, "ciphertext", box, derlen + crypto_secretbox_MACBYTES, err)))
    goto out;
  text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (!text) {
    rc = hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    goto out;
  }
  *out = text;
  *outlen = strlen(text);
out:
  OPENSSL_cleanse(key, sizeof key);
  free(box);
  json_decref(doc);
  return rc;
}
