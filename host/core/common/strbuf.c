#include "strbuf.h"

#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_init(struct strbuf *sb, size_t max)
{
  sb->buf = NULL;
  sb->len = 0;
  sb->cap = 0;
  sb->max = max;
}

void strbuf_release(struct strbuf *sb)
{
  free(sb->buf);
  strbuf_init(sb, sb->max);
}

void strbuf_reset(struct strbuf *sb)
{
  sb->len = 0;
  if (sb->buf)
    sb->buf[0] = '\0';
}

static int strbuf_grow(struct strbuf *sb, size_t extra)
{
  size_t need, cap;
  char *p;
  if (extra > sb->max || sb->len > sb->max - extra)
    return HOIST_ERANGE;
  need = sb->len + extra + 1;
  if (need <= sb->cap)
    return HOIST_OK;
  cap = sb->cap ? sb->cap : 32;
  while (cap < need)
    cap *= 2;
  p = realloc(sb->buf, cap);
  if (!p)
    return HOIST_ENOMEM;
  sb->buf = p;
  sb->cap = cap;
  return HOIST_OK;
}

int strbuf_add(struct strbuf *sb, const char *s, size_t n)
{
  int rc = strbuf_grow(sb, n);
  if (rc)
    return rc;
  if (n)
    memcpy(sb->buf + sb->len, s, n);
  sb->len += n;
  sb->buf[sb->len] = '\0';
  return HOIST_OK;
}

int strbuf_addstr(struct strbuf *sb, const char *s)
{
  return strbuf_add(sb, s, strlen(s));
}

int strbuf_addch(struct strbuf *sb, char c)
{
  return strbuf_add(sb, &c, 1);
}

int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
  char small[128];
  va_list ap;
  int n, rc;
  va_start(ap, fmt);
  n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0)
    return HOIST_EINVAL;
  if ((size_t)n < sizeof small)
    return strbuf_add(sb, small, (size_t)n);
  rc = strbuf_grow(sb, (size_t)n);
  if (rc)
    return rc;
  va_start(ap, fmt);
  vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  sb->len += (size_t)n;
  return HOIST_OK;
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
  char *p = sb->buf;
  if (!p)
    p = calloc(1, 1);
  if (len)
    *len = sb->len;
  strbuf_init(sb, sb->max);
  return p;
}
