#include "err.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int hoist_err_set(struct hoist_err *err, int code, const char *fmt, ...)
{
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return code;
}

const char *hoist_err_name(int code)
{
  switch (code) {
  case HOIST_OK: return "OK";
  case HOIST_EINVAL: return "EINVAL";
  case HOIST_ENOMEM: return "ENOMEM";
  case HOIST_EIO: return "EIO";
  case HOIST_ERANGE: return "ERANGE";
  case HOIST_ENOENT: return "ENOENT";
  case HOIST_EAUTH: return "EAUTH";
  case HOIST_EREMOTE: return "EREMOTE";
  case HOIST_ECANCELED: return "ECANCELED";
  case HOIST_EINTR: return "EINTR";
  default: return "EUNKNOWN";
  }
}

const char *hoist_err_filename(char *dst, size_t cap, const char *s)
{
  static const char hex[] = "0123456789abcdef";
  size_t o = 0, n = strlen(s), i = 0;
  if (cap < 8) {
    if (cap)
      dst[0] = '\0';
    return dst;
  }
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    int keep = c >= 0x20 && c != 0x7f && (c < 0x80 ? 1 : (i + len <= n && hoist_utf8_valid(s + i, len)));
    size_t w = keep ? len : 4;
    if (!keep)
      len = 1;
    if (o + w + 4 > cap) {
      memcpy(dst + o, "...", 3);
      o += 3;
      break;
    }
    if (keep) {
      memcpy(dst + o, s + i, len);
      o += len;
    } else {
      dst[o++] = '\\';
      dst[o++] = 'x';
      dst[o++] = hex[c >> 4];
      dst[o++] = hex[c & 15];
    }
    i += len;
  }
  dst[o] = '\0';
  return dst;
}

const char *hoist_err_show(char dst[HOIST_ERR_SHOW_MAX], const char *s, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  size_t i, o = 0, limit = HOIST_ERR_SHOW_MAX - 4;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    size_t w = (c < 0x20 || c >= 0x7f) ? 4 : 1;
    if (o + w > limit) {
      memcpy(dst + o, "...", 3);
      o += 3;
      break;
    }
    if (w == 1) {
      dst[o++] = (char)c;
    } else {
      dst[o++] = '\\';
      dst[o++] = 'x';
      dst[o++] = hex[c >> 4];
      dst[o++] = hex[c & 15];
    }
  }
  dst[o] = '\0';
  return dst;
}
