#include "sign.h"

#include "base64.h"
#include "cosignkey.h"
#include "digest.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct hoist_key {
  EVP_PKEY *pkey;
  int is_private;
};

/* The PEM block types we tell apart before handing the text to OpenSSL. */
enum pem_kind { PEM_NONE, PEM_PRIVATE, PEM_ENCRYPTED, PEM_COSIGN, PEM_PUBLIC, PEM_CERT, PEM_OTHER };

struct pem_block {
  enum pem_kind kind;
  char type[64];
  const char *body;   /* between the BEGIN and END lines */
  size_t body_len;
};

static const char *find_mem(const char *hay, size_t n, const char *needle)
{
  size_t k = strlen(needle), i;
  for (i = 0; k <= n && i <= n - k; i++)
    if (memcmp(hay + i, needle, k) == 0)
      return hay + i;
  return NULL;
}

/* Finds the first "-----BEGIN TYPE-----" block and classifies it. */
static void find_pem(const char *text, size_t len, struct pem_block *b)
{
  const char *begin = find_mem(text, len, "-----BEGIN "), *t, *dash, *end;
  size_t tlen;
  char endline[96];
  memset(b, 0, sizeof *b);
  if (!begin)
    return;
  t = begin + 11;
  dash = find_mem(t, len - (size_t)(t - text), "-----");
  if (!dash || (tlen = (size_t)(dash - t)) >= sizeof b->type || memchr(t, '\n', tlen)) {
    b->kind = PEM_OTHER;
    return;
  }
  memcpy(b->type, t, tlen);
  b->type[tlen] = '\0';
  b->body = dash + 5;
  snprintf(endline, sizeof endline, "-----END %s-----", b->type);
  end = find_mem(b->body, len - (size_t)(b->body - text), endline);
  b->body_len = end ? (size_t)(end - b->body) : 0;
  if (strcmp(b->type, "PRIVATE KEY") == 0 || strcmp(b->type, "EC PRIVATE KEY") == 0 ||
      strcmp(b->type, "RSA PRIVATE KEY") == 0)
    b->kind = PEM_PRIVATE;
  else if (strcmp(b->type, "ENCRYPTED PRIVATE KEY") == 0)
    b->kind = PEM_ENCRYPTED;
  else if (strcmp(b->type, "ENCRYPTED SIGSTORE PRIVATE KEY") == 0 ||
           strcmp(b->type, "ENCRYPTED COSIGN PRIVATE KEY") == 0)
    b->kind = end ? PEM_COSIGN : PEM_OTHER;
  else if (strcmp(b->type, "PUBLIC KEY") == 0)
    b->kind = PEM_PUBLIC;
  else if (strcmp(b->type, "CERTIFICATE") == 0)
    b->kind = PEM_CERT;
  else
    b->kind = PEM_OTHER;
}

struct pw {
  const char *s;
  size_t n;
  int asked;
};

/* OpenSSL's password callback. Always installed: without one OpenSSL would prompt on the terminal. */
static int pw_cb(char *buf, int size, int rwflag, void *u)
{
  struct pw *p = u;
  (void)rwflag;
  p->asked = 1;
  if (!p->s || size <= 0 || p->n > (size_t)size)
    return -1;
  memcpy(buf, p->s, p->n);
  return (int)p->n;
}

/* Only ECDSA on P-256 (what cosign generates and containers/image's sigstore support expects). */
static int check_p256(EVP_PKEY *pkey, const char *what, struct hoist_err *err)
{
  char group[64];
  size_t glen = 0;
  if (!EVP_PKEY_is_a(pkey, "EC")) {
    const char *t = EVP_PKEY_get0_type_name(pkey);
    return hoist_err_set(err, HOIST_EINVAL, "%s is an %s key; hoist signs with ECDSA P-256 keys",
                         what, t ? t : "unknown");
  }
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen) != 1 ||
      strcmp(group, "prime256v1") != 0)
    return hoist_err_set(err, HOIST_EINVAL, "%s is an EC key on curve %s; hoist signs with P-256",
                         what, glen ? group : "unknown");
  return HOIST_OK;
}

static int wrap(EVP_PKEY *pkey, int is_private, struct hoist_key **out, struct hoist_err *err)
{
  struct hoist_key *k = calloc(1, sizeof *k);
  if (!k) {
    EVP_PKEY_free(pkey);
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  k->pkey = pkey;
  k->is_private = is_private;
  *out = k;
  return HOIST_OK;
}

int hoist_key_generate(struct hoist_key **out, struct hoist_err *err)
{
  EVP_PKEY *pkey = EVP_EC_gen("P-256");
  if (!pkey)
    return hoist_err_set(err, HOIST_EIO, "cannot generate a P-256 key");
  return wrap(pkey, 1, out, err);
}

/* PEM body (base64 lines) to bytes. */
static int pem_body(const struct pem_block *b, unsigned char **out, size_t *outlen,
                    struct hoist_err *err)
{
  char *clean = malloc(b->body_len + 1);
  size_t i, n = 0;
  int rc;
  if (!clean)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  for (i = 0; i < b->body_len; i++)
    if (b->body[i] != '\n' && b->body[i] != '\r' && b->body[i] != ' ' && b->body[i] != '\t')
      clean[n++] = b->body[i];
  rc = hoist_base64_decode(clean, n, out, outlen, err);
  free(clean);
  return rc;
}

static int load_cosign(const struct pem_block *b, const char *password, size_t pwlen,
                       const char *what, EVP_PKEY **pkey, struct hoist_err *err)
{
  unsigned char *env = NULL, *der = NULL;
  const unsigned char *p;
  size_t envlen = 0, derlen = 0;
  int rc;
  if (pem_body(b, &env, &envlen, err))
    return hoist_err_set(err, HOIST_EINVAL, "%s: the %s block is not base64", what, b->type);
  rc = hoist_cosign_decrypt((const char *)env, envlen, password, pwlen, &der, &derlen, err);
  free(env);
  if (rc == HOIST_EAUTH)
    return hoist_err_set(err, HOIST_EAUTH, password ? "wrong password for %s" :
                         "%s is encrypted: set HOIST_SIGNING_PASSWORD", what);
  if (rc) {
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", err->msg);
    return hoist_err_set(err, rc, "%s: %s", what, msg);
  }
  p = der;
  *pkey = d2i_PrivateKey_ex(EVP_PKEY_NONE, NULL, &p, (long)derlen, NULL, NULL);
  if (!*pkey) {
    /* PKCS#8 is what cosign seals; d2i_AutoPrivateKey covers the rest */
    p = der;
    *pkey = d2i_AutoPrivateKey(NULL, &p, (long)derlen);
  }
  OPENSSL_cleanse(der, derlen);
  free(der);
  if (!*pkey)
    return hoist_err_set(err, HOIST_EINVAL, "%s: the sealed key is not a PKCS#8 private key", what);
  return HOIST_OK;
}

int hoist_key_load_private(const char *pem, size_t len, const char *password, size_t pwlen,
                           const char *what, struct hoist_key **out, struct hoist_err *err)
{
  struct pem_block b;
  struct pw pw = { password, pwlen, 0 };
  EVP_PKEY *pkey = NULL;
  BIO *bio;
  int rc;

  if (len > INT_MAX)
    return hoist_err_set(err, HOIST_ERANGE, "%s is too large to be a key", what);
  find_pem(pem, len, &b);
  switch (b.kind) {
  case PEM_NONE:
    return hoist_err_set(err, HOIST_EINVAL, "%s holds no PEM key", what);
  case PEM_PUBLIC:
  case PEM_CERT:
    return hoist_err_set(err, HOIST_EINVAL, "%s is a %s, not a private key (sign with the private key; "
                         "verify with the public one)", what, b.kind == PEM_PUBLIC ? "public key" : "certificate");
  case PEM_OTHER:
    return hoist_err_set(err, HOIST_EINVAL, "%s holds a PEM block of type '%s', not a private key",
                         what, b.type);
  case PEM_COSIGN:
    if ((rc = load_cosign(&b, password, pwlen, what, &pkey, err)))
      return rc;
    break;
  case PEM_ENCRYPTED:
    if (!password)
      return hoist_err_set(err, HOIST_EAUTH, "%s is encrypted: set HOIST_SIGNING_PASSWORD", what);
    /* fall through */
  case PEM_PRIVATE:
    bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio)
      return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    pkey = PEM_read_bio_PrivateKey(bio, NULL, pw_cb, &pw);
    BIO_free(bio);
    ERR_clear_error();
    if (!pkey) {
      if (b.kind == PEM_ENCRYPTED || pw.asked)
        return hoist_err_set(err, HOIST_EAUTH, password ? "wrong password for %s" :
                             "%s is encrypted: set HOIST_SIGNING_PASSWORD", what);
      return hoist_err_set(err, HOIST_EINVAL, "%s: the %s block cannot be read", what, b.type);
    }
    break;
  }
  if ((rc = check_p256(pkey, what, err))) {
    EVP_PKEY_free(pkey);
    return rc;
  }
  return wrap(pkey, 1, out, err);
}

int hoist_key_load_public(const char *pem, size_t len, const char *what, struct hoist_key **out,
                          struct hoist_err *err)
{
  struct pem_block b;
  EVP_PKEY *pkey;
  BIO *bio;
  int rc;
  if (len > INT_MAX)
    return hoist_err_set(err, HOIST_ERANGE, "%s is too large to be a key", what);
  find_pem(pem, len, &b);
  if (b.kind == PEM_NONE)
    return hoist_err_set(err, HOIST_EINVAL, "%s holds no PEM key", what);
  if (b.kind != PEM_PUBLIC)
    return hoist_err_set(err, HOIST_EINVAL, "%s holds a '%s' block; a public key (PUBLIC KEY) is needed",
                         what, b.type);
  bio = BIO_new_mem_buf(pem, (int)len);
  if (!bio)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
  BIO_free(bio);
  ERR_clear_error();
  if (!pkey)
    return hoist_err_set(err, HOIST_EINVAL, "%s: the PUBLIC KEY block cannot be read", what);
  if ((rc = check_p256(pkey, what, err))) {
    EVP_PKEY_free(pkey);
    return rc;
  }
  return wrap(pkey, 0, out, err);
}

int hoist_key_is_private(const struct hoist_key *k)
{
  return k->is_private;
}

static int bio_take(BIO *bio, char **out, size_t *outlen, struct hoist_err *err)
{
  char *data;
  long n = BIO_get_mem_data(bio, &data);
  char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (!s)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  memcpy(s, data, (size_t)n);
  s[n] = '\0';
  OPENSSL_cleanse(data, (size_t)n);
  *out = s;
  if (outlen)
    *outlen = (size_t)n;
  return HOIST_OK;
}

int hoist_key_private_pem(const struct hoist_key *k, const char *password, size_t pwlen,
                          char **out, size_t *outlen, struct hoist_err *err)
{
  BIO *bio;
  int ok, rc;
  if (!k->is_private)
    return hoist_err_set(err, HOIST_EINVAL, "a public key has no private half to write");
  if (pwlen > INT_MAX)
    return hoist_err_set(err, HOIST_ERANGE, "password too long");
  bio = BIO_new(BIO_s_mem());
  if (!bio)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  if (password)
    ok = PEM_write_bio_PKCS8PrivateKey(bio, k->pkey, EVP_aes_256_cbc(), password, (int)pwlen,
                                       NULL, NULL);
  else
    ok = PEM_write_bio_PKCS8PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL);
  if (!ok) {
    BIO_free(bio);
    ERR_clear_error();
    return hoist_err_set(err, HOIST_EIO, "cannot encode the private key");
  }
  rc = bio_take(bio, out, outlen, err);
  BIO_free(bio);
  return rc;
}

static int private_der(const struct hoist_key *k, unsigned char **out, size_t *outlen,
                          struct hoist_err *err)
{
  PKCS8_PRIV_KEY_INFO *p8;
  unsigned char *der = NULL;
  int n;
  if (!k->is_private)
    return hoist_err_set(err, HOIST_EINVAL, "a public key has no private half to write");
  p8 = EVP_PKEY2PKCS8(k->pkey);
  n = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8, &der) : -1;
  PKCS8_PRIV_KEY_INFO_free(p8);
  if (n <= 0) {
    ERR_clear_error();
    return hoist_err_set(err, HOIST_EIO, "cannot encode the private key");
  }
  *out = malloc((size_t)n);
  if (!*out) {
    OPENSSL_clear_free(der, (size_t)n);
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  memcpy(*out, der, (size_t)n);
  OPENSSL_clear_free(der, (size_t)n);
  *outlen = (size_t)n;
  return HOIST_OK;
}

int hoist_key_cosign_pem(const struct hoist_key *k, const char *password, size_t pwlen,
                         char **out, size_t *outlen, struct hoist_err *err)
{
  static const char begin[] = "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n";
  static const char end[] = "-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";
  unsigned char *der = NULL;
  char *env = NULL, *b64 = NULL, *s;
  size_t derlen = 0, envlen = 0, b64len = 0, i, o;
  int rc = private_der(k, &der, &derlen, err);
  if (rc)
    return rc;
  rc = hoist_cosign_encrypt(der, derlen, password ? password : "", password ? pwlen : 0, &env,
                            &envlen, err);
  OPENSSL_cleanse(der, derlen);
  free(der);
  if (!rc)
    rc = hoist_base64_encode(env, envlen, &b64, &b64len, err);
  free(env);
  if (rc)
    return rc;
  /* PEM lines of 64 characters, as Go's encoding/pem writes them */
  s = malloc(sizeof begin + sizeof end + b64len + b64len / 64 + 2);
  if (!s) {
    free(b64);
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  memcpy(s, begin, sizeof begin - 1);
  o = sizeof begin - 1;
  for (i = 0; i < b64len; i += 64) {
    size_t n = b64len - i < 64 ? b64len - i : 64;
    memcpy(s + o, b64 + i, n);
    o += n;
    s[o++] = '\n';
  }
  memcpy(s + o, end, sizeof end);
  o += sizeof end - 1;
  free(b64);
  *out = s;
  *outlen = o;
  return HOIST_OK;
}

int hoist_key_public_pem(const struct hoist_key *k, char **out, size_t *outlen,
                         struct hoist_err *err)
{
  BIO *bio = BIO_new(BIO_s_mem());
  int rc;
  if (!bio)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  if (!PEM_write_bio_PUBKEY(bio, k->pkey)) {
    BIO_free(bio);
    ERR_clear_error();
    return hoist_err_set(err, HOIST_EIO, "cannot encode the public key");
  }
  rc = bio_take(bio, out, outlen, err);
  BIO_free(bio);
  return rc;
}

int hoist_key_id(const struct hoist_key *k, char out[72], struct hoist_err *err)
{
  unsigned char *der = NULL;
  int n = i2d_PUBKEY(k->pkey, &der);
  int rc;
  if (n <= 0) {
    ERR_clear_error();
    return hoist_err_set(err, HOIST_EIO, "cannot encode the public key");
  }
  rc = hoist_digest_buffer(der, (size_t)n, out, err);
  OPENSSL_free(der);
  return rc;
}

int hoist_key_sign(const struct hoist_key *k, const void *data, size_t len, unsigned char **sig,
                   size_t *siglen, struct hoist_err *err)
{
  EVP_MD_CTX *ctx;
  size_t n = 0;
  unsigned char *buf = NULL;
  int rc = HOIST_OK;
  if (!k->is_private)
    return hoist_err_set(err, HOIST_EINVAL, "a public key cannot sign");
  ctx = EVP_MD_CTX_new();
  if (!ctx)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) != 1 ||
      EVP_DigestSign(ctx, NULL, &n, data, len) != 1 || !(buf = malloc(n)) ||
      EVP_DigestSign(ctx, buf, &n, data, len) != 1) {
    free(buf);
    ERR_clear_error();
    rc = hoist_err_set(err, HOIST_EIO, "signing failed");
  } else {
    *sig = buf;
    *siglen = n;
  }
  EVP_MD_CTX_free(ctx);
  return rc;
}

int hoist_key_verify(const struct hoist_key *k, const void *data, size_t len,
                     const unsigned char *sig, size_t siglen, struct hoist_err *err)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int r;
  if (!ctx)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) != 1) {
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return hoist_err_set(err, HOIST_EIO, "cannot start verifying");
  }
  r = EVP_DigestVerify(ctx, sig, siglen, data, len);
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  if (r != 1)
    return hoist_err_set(err, HOIST_EINVAL, "the signature does not match");
  return HOIST_OK;
}

void hoist_key_free(struct hoist_key *k)
{
  if (!k)
    return;
  EVP_PKEY_free(k->pkey);
  free(k);
}
