#include "digest.h"

#include <openssl/evp.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

int hoist_digest_init(struct hoist_digest *d, struct hoist_err *err)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  d->ctx = NULL;
  d->bytes = 0;
  if (!ctx)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
    EVP_MD_CTX_free(ctx);
    return hoist_err_set(err, HOIST_EIO, "cannot start a sha256 digest");
  }
  d->ctx = ctx;
  return HOIST_OK;
}

int hoist_digest_update(struct hoist_digest *d, const void *buf, size_t len)
{
  d->bytes += len;
  return EVP_DigestUpdate(d->ctx, buf, len) == 1 ? HOIST_OK : HOIST_EIO;
}

void hoist_hex(const unsigned char *md, unsigned n, char *out)
{
  static const char digits[] = "0123456789abcdef";
  unsigned i;
  for (i = 0; i < n; i++) {
    out[2 * i] = digits[md[i] >> 4];
    out[2 * i + 1] = digits[md[i] & 15];
  }
  out[2 * n] = '\0';
}

int hoist_digest_final(struct hoist_digest *d, char out[HOIST_DIGEST_LEN + 1])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  int ok = EVP_DigestFinal_ex(d->ctx, md, &n) == 1 && n == 32;
  hoist_digest_release(d);
  if (!ok)
    return HOIST_EIO;
  memcpy(out, "sha256:", 7);
  hoist_hex(md, n, out + 7);
  return HOIST_OK;
}

void hoist_digest_release(struct hoist_digest *d)
{
  if (d->ctx)
    EVP_MD_CTX_free(d->ctx);
  d->ctx = NULL;
}

int hoist_digest_buffer(const void *buf, size_t len, char out[HOIST_DIGEST_LEN + 1],
                        struct hoist_err *err)
{
  struct hoist_digest d;
  int rc = hoist_digest_init(&d, err);
  if (rc)
    return rc;
  if (hoist_digest_update(&d, buf, len) || hoist_digest_final(&d, out)) {
    hoist_digest_release(&d);
    return hoist_err_set(err, HOIST_EIO, "sha256 digest failed");
  }
  return HOIST_OK;
}

int hoist_digest_file(const char *path, char out[HOIST_DIGEST_LEN + 1], unsigned long long *size,
                      struct hoist_err *err)
{
  unsigned char buf[1 << 16];
  struct hoist_digest d;
  size_t n;
  int rc;
  FILE *f = fopen(path, "rb");
  if (!f)
    return hoist_err_set(err, HOIST_EIO, "cannot open '%s': %s", path, strerror(errno));
  rc = hoist_digest_init(&d, err);
  while (!rc && (n = fread(buf, 1, sizeof buf, f)) > 0)
    rc = hoist_digest_update(&d, buf, n);
  if (!rc && ferror(f))
    rc = hoist_err_set(err, HOIST_EIO, "cannot read '%s': %s", path, strerror(errno));
  fclose(f);
  if (rc) {
    hoist_digest_release(&d);
    return rc;
  }
  if (size)
    *size = d.bytes;
  if (hoist_digest_final(&d, out))
    return hoist_err_set(err, HOIST_EIO, "sha256 digest failed");
  return HOIST_OK;
}

int hoist_digest_valid(const char *s)
{
  size_t i;
  if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != HOIST_DIGEST_LEN)
    return 0;
  for (i = 7; i < HOIST_DIGEST_LEN; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return 0;
  return 1;
}
