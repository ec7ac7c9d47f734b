#include "base64.h"

#include <stdint.h>
#include <stdlib.h>

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int hoist_base64_encode(const void *in, size_t n, char **out, size_t *outlen, struct hoist_err *err)
{
  const unsigned char *p = in;
  size_t i, o = 0, len;
  char *s;
  if (n > (SIZE_MAX - 1) / 4 * 3 - 3)
    return hoist_err_set(err, HOIST_ERANGE, "base64: input too large");
  len = (n + 2) / 3 * 4;
  s = malloc(len + 1);
  if (!s)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  for (i = 0; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    s[o++] = ALPHABET[v >> 18 & 63];
    s[o++] = ALPHABET[v >> 12 & 63];
    s[o++] = ALPHABET[v >> 6 & 63];
    s[o++] = ALPHABET[v & 63];
  }
  if (i < n) {
    uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
    s[o++] = ALPHABET[v >> 18 & 63];
    s[o++] = ALPHABET[v >> 12 & 63];
    s[o++] = i + 1 < n ? ALPHABET[v >> 6 & 63] : '=';
    s[o++] = '=';
  }
  s[o] = '\0';
  *out = s;
  if (outlen)
    *outlen = o;
  return HOIST_OK;
}

static int value_of(unsigned char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

int hoist_base64_decode(const char *s, size_t n, unsigned char **out, size_t *outlen,
                        struct hoist_err *err)
{
  unsigned char *buf;
  size_t i, o = 0, pad = 0;
  if (n % 4 != 0)
    return hoist_err_set(err, HOIST_EINVAL, "base64: length %zu is not a multiple of 4", n);
  if (n >= 1 && s[n - 1] == '=')
    pad++;
  if (n >= 2 && s[n - 2] == '=')
    pad++;
  buf = malloc(n / 4 * 3 + 1);
  if (!buf)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  for (i = 0; i < n; i += 4) {
    int v[4], k, last = i + 4 == n;
    uint32_t w;
    for (k = 0; k < 4; k++) {
      v[k] = value_of((unsigned char)s[i + k]);
      if (v[k] < 0 && !(last && s[i + k] == '=' && k >= 4 - (int)pad)) {
        free(buf);
        return hoist_err_set(err, HOIST_EINVAL, "base64: invalid character at offset %zu", i + k);
      }
    }
    w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)(v[2] < 0 ? 0 : v[2]) << 6 |
        (uint32_t)(v[3] < 0 ? 0 : v[3]);
    /* the bits the padding hides must be zero: one spelling per byte string */
    if (last && ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))) {
      free(buf);
      return hoist_err_set(err, HOIST_EINVAL, "base64: non-zero bits under the padding");
    }
    buf[o++] = (unsigned char)(w >> 16);
    if (!(last && pad == 2))
      buf[o++] = (unsigned char)(w >> 8);
    if (!(last && pad >= 1))
      buf[o++] = (unsigned char)w;
  }
  buf[o] = 0;
  *out = buf;
  *outlen = o;
  return HOIST_OK;
}
