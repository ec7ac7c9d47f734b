/*
** utf8.c: strict UTF-8 validation (the rules of RFC 3629, which jansson
** applies to JSON strings and OCI to annotations and file names).
*/
#include "utf8.h"

#include <stdint.h>

int hoist_utf8_valid(const char *str, size_t n)
{
  const unsigned char *s = (const unsigned char *)str, *end = s + n;
  while (s < end) {
    unsigned c = *s;
    size_t len, i;
    uint32_t cp;
    if (c < 0x80) {
      s++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return 0;
    }
    if ((size_t)(end - s) < len)
      return 0;
    for (i = 1; i < len; i++) {
      if ((s[i] & 0xC0) != 0x80)
        return 0;
      cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return 0;
    s += len;
  }
  return 1;
}
