/*
** httptok.c: RFC 9110 section 5.6 (tokens, whitespace, quoted strings,
** lists) as a cursor, shared by the WWW-Authenticate and Link readers.
*/
#include "httptok.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void hoist_httptok_init(struct hoist_httptok *t, const char *field, const char *s, size_t len,
                        struct hoist_err *err)
{
  while (len > 0 &&
         (s[len - 1] == '\r' || s[len - 1] == '\n' || hoist_httptok_is_ows((unsigned char)s[len - 1])))
    len--;
  t->s = s;
  t->n = len;
  t->i = 0;
  t->field = field;
  t->err = err;
}

int hoist_httptok_is_tchar(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int hoist_httptok_is_ows(unsigned char c) { return c == ' ' || c == '\t'; }

int hoist_httptok_lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c; }

int hoist_httptok_eq_ci(const char *a, size_t an, const char *b, size_t bn)
{
  size_t i;
  if (an != bn)
    return 0;
  for (i = 0; i < an; i++)
    if (hoist_httptok_lower((unsigned char)a[i]) != hoist_httptok_lower((unsigned char)b[i]))
      return 0;
  return 1;
}

int hoist_httptok_is_ci(const char *s, size_t n, const char *lit)
{
  return hoist_httptok_eq_ci(s, n, lit, strlen(lit));
}

int hoist_httptok_end(const struct hoist_httptok *t) { return t->i >= t->n; }

int hoist_httptok_at(const struct hoist_httptok *t, char c) { return t->i < t->n && t->s[t->i] == c; }

void hoist_httptok_ows(struct hoist_httptok *t)
{
  while (t->i < t->n && hoist_httptok_is_ows((unsigned char)t->s[t->i]))
    t->i++;
}

void hoist_httptok_list_sep(struct hoist_httptok *t)
{
  while (t->i < t->n && (hoist_httptok_is_ows((unsigned char)t->s[t->i]) || t->s[t->i] == ','))
    t->i++;
}

size_t hoist_httptok_token(struct hoist_httptok *t)
{
  size_t start = t->i;
  while (t->i < t->n && hoist_httptok_is_tchar((unsigned char)t->s[t->i]))
    t->i++;
  return t->i - start;
}

static int is_ctl(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

int hoist_httptok_quoted(struct hoist_httptok *t, const char **val, size_t *val_n)
{
  size_t open = t->i;
  t->i++;
  *val = t->s + t->i;
  while (t->i < t->n) {
    unsigned char c = (unsigned char)t->s[t->i];
    if (c == '"') {
      *val_n = (size_t)(t->s + t->i - *val);
      t->i++;
      return 0;
    }
    if (c == '\\') {
      if (t->i + 1 >= t->n)
        break;
      if (is_ctl((unsigned char)t->s[t->i + 1]))
        return hoist_httptok_fail(t, HOIST_EINVAL, t->i + 1,
                                  "a control character escaped in a quoted string");
      t->i += 2;
      continue;
    }
    if (is_ctl(c))
      return hoist_httptok_fail(t, HOIST_EINVAL, t->i, "a control character in a quoted string");
    t->i++;
  }
  return hoist_httptok_fail(t, HOIST_EINVAL, open, "an unterminated quoted string");
}

size_t hoist_httptok_bare(struct hoist_httptok *t, const char *also_stop)
{
  size_t start = t->i;
  while (t->i < t->n) {
    unsigned char c = (unsigned char)t->s[t->i];
    if (c <= 0x20 || c >= 0x7f || c == ',' || c == '"' || strchr(also_stop, c))
      break;
    t->i++;
  }
  return t->i - start;
}

size_t hoist_httptok_unquote(const char *v, size_t n, char *out)
{
  size_t i, o = 0;
  for (i = 0; i < n; i++) {
    if (v[i] == '\\' && i + 1 < n)
      i++;
    out[o++] = v[i];
  }
  return o;
}

int hoist_httptok_fail(struct hoist_httptok *t, int code, size_t at, const char *fmt, ...)
{
  char what[160], near[HOIST_ERR_SHOW_MAX];
  size_t left = at < t->n ? t->n - at : 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (left == 0)
    return hoist_err_set(t->err, code, "invalid %s header: %s at its end", t->field, what);
  return hoist_err_set(t->err, code, "invalid %s header: %s at byte %zu near '%s'", t->field, what,
                       at, hoist_err_show(near, t->s + at, left));
}
