/*
** fuzz_linkhdr: libFuzzer target for the Link header parser and URL
** resolution (linkhdr.h).
**
** When the input holds a newline, the text before the first one is the base
** URL and the rest the header; otherwise the base is a fixed request URL and
** the whole input the header. The header is copied to a buffer of exactly its
** length, so reads past len are caught. It is parsed with hoist_linkhdr_next
** and, as a URI reference, resolved with hoist_url_resolve. Besides crashes,
** leaks and UB, the target aborts when an invariant breaks:
**   - a failure returns nothing and a one-line message whose code matches;
**   - a result is an http(s) URL with a host and no blank, control byte,
**     '#', '<' or '>';
**   - resolving a result against the base again gives it back (resolution is
**     idempotent on its own output), and a header naming it alone as
**     rel="next" gives it back;
**   - surrounding the header with blanks, a leading ',' and a trailing CRLF
**     changes nothing.
*/
#include "linkhdr.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char default_base[] = "https://registry.example:5000/v2/acme/app/tags/list?n=10";

static void broken(const char *what, const char *a, const char *b) __attribute__((noreturn));
static void broken(const char *what, const char *a, const char *b)
{
  fprintf(stderr, "fuzz_linkhdr: invariant broken: %s ('%s', '%s')\n", what, a ? a : "(null)",
          b ? b : "(null)");
  abort();
}

static int same(const char *a, const char *b)
{
  if (!a || !b)
    return a == b;
  return strcmp(a, b) == 0;
}

static void check_message(int rc, const struct hoist_err *err)
{
  size_t i;
  if (err->code != rc)
    broken("err.code differs from the status", err->msg, NULL);
  if (err->msg[0] == '\0')
    broken("an empty message", NULL, NULL);
  for (i = 0; err->msg[i]; i++)
    if ((unsigned char)err->msg[i] < 0x20 || (unsigned char)err->msg[i] >= 0x7f)
      broken("message holds a control or non-ASCII byte", err->msg, NULL);
}

static void check_url(const char *base, const char *url)
{
  struct hoist_err err;
  char *again = NULL, *hdr;
  const char *host;
  size_t n = strlen(url), i;
  int rc;

  if (strncmp(url, "http://", 7) == 0)
    host = url + 7;
  else if (strncmp(url, "https://", 8) == 0)
    host = url + 8;
  else
    broken("result is not http(s)", url, NULL);
  if (*host == '\0' || *host == '/' || *host == '?')
    broken("result has no host", url, NULL);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)url[i];
    if (c <= 0x20 || c >= 0x7f || c == '#' || c == '<' || c == '>')
      broken("result holds a byte it must not", url, NULL);
  }

  rc = hoist_url_resolve(base, url, n, &again, &err);
  if (rc != 0 || !again)
    broken("result does not resolve again", url, err.msg);
  if (strcmp(again, url) != 0)
    broken("resolving the result again changes it", url, again);
  free(again);
  again = NULL;

  hdr = malloc(n + 16);
  if (!hdr)
    return;
  memcpy(hdr, "<", 1);
  memcpy(hdr + 1, url, n);
  memcpy(hdr + 1 + n, ">;rel=next", 10);
  if (n + 11 <= HOIST_LINKHDR_MAX) {
    rc = hoist_linkhdr_next(hdr, n + 11, base, &again, &err);
    if (rc != 0 || !same(again, url))
      broken("a header naming the result alone does not give it back", url,
             rc ? err.msg : again);
  }
  free(again);
  free(hdr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const uint8_t *nl = memchr(data, '\n', size);
  const uint8_t *hdr_p = data;
  size_t hdr_n = size;
  char *base = NULL, *buf = NULL, *wrapped = NULL, *next = NULL, *next2 = NULL, *res = NULL;
  struct hoist_err err;
  int rc, rc2;

  if (nl && !memchr(data, '\0', (size_t)(nl - data))) {
    size_t bn = (size_t)(nl - data);
    base = malloc(bn + 1);
    if (!base)
      return 0;
    memcpy(base, data, bn);
    base[bn] = '\0';
    hdr_p = nl + 1;
    hdr_n = size - bn - 1;
  } else {
    base = malloc(sizeof default_base);
    if (!base)
      return 0;
    memcpy(base, default_base, sizeof default_base);
  }
  buf = malloc(hdr_n ? hdr_n : 1);
  if (!buf)
    goto out;
  if (hdr_n)
    memcpy(buf, hdr_p, hdr_n);

  err.code = 0;
  err.msg[0] = '\0';
  rc = hoist_linkhdr_next(buf, hdr_n, base, &next, &err);
  if (rc != 0) {
    if (next)
      broken("parse failed but returned a URL", next, NULL);
    check_message(rc, &err);
  } else if (next) {
    check_url(base, next);
  }

  if (hdr_n + 5 <= HOIST_LINKHDR_MAX) {
    wrapped = malloc(hdr_n + 5);
    if (wrapped) {
      memcpy(wrapped, " ,", 2);
      if (hdr_n)
        memcpy(wrapped + 2, hdr_p, hdr_n);
      memcpy(wrapped + 2 + hdr_n, " \r\n", 3);
      rc2 = hoist_linkhdr_next(wrapped, hdr_n + 5, base, &next2, NULL);
      if (rc2 != rc || !same(next, next2))
        broken("surrounding blanks change the result", next, next2);
    }
  }

  /* the header as a URI reference on its own */
  err.code = 0;
  err.msg[0] = '\0';
  rc = hoist_url_resolve(base, buf, hdr_n, &res, &err);
  if (rc != 0) {
    if (res)
      broken("resolve failed but returned a URL", res, NULL);
    check_message(rc, &err);
  } else {
    char ob[300], orr[300];
    int has_scheme = 0;
    size_t k;
    if (!res)
      broken("resolve succeeded without a URL", NULL, NULL);
    check_url(base, res);
    /*
    ** Credentials follow the origin: a reference without a scheme and without
    ** "//" (a path, a query) must stay on the base's origin; hoist_url_origin
    ** never fails on a resolved URL unless it carries user information.
    */
    for (k = 0; k < hdr_n && buf[k] != '/' && buf[k] != '?' && buf[k] != '#'; k++)
      if (buf[k] == ':')
        has_scheme = 1;
    if (hoist_url_origin(base, ob, sizeof ob, NULL) == 0 &&
        hoist_url_origin(res, orr, sizeof orr, NULL) == 0 && !has_scheme &&
        !(hdr_n >= 2 && buf[0] == '/' && buf[1] == '/') && strcmp(ob, orr) != 0)
      broken("a relative reference moved to another origin", base, res);
  }

out:
  free(res);
  free(next);
  free(next2);
  free(wrapped);
  free(buf);
  free(base);
  return 0;
}
