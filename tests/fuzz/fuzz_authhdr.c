/*
** fuzz_authhdr: libFuzzer target for the WWW-Authenticate parser (authhdr.h).
**
** The input is copied to a buffer of exactly its length, so reads past len
** are caught, and parsed. Besides crashes, leaks and UB, the target aborts
** when an invariant breaks:
**   - a failure returns nothing and a one-line message starting with
**     "invalid WWW-Authenticate header: " whose code matches the status;
**   - a success has 1..32 challenges, Bearer fields only with a Bearer
**     challenge, values without control bytes but HTAB, and scopes that are
**     scope split at blanks;
**   - the kept values written out again as Bearer and Basic challenges, with
**     quoted-string escapes, parse back to the same values;
**   - surrounding the input with blanks, a leading ',' and a trailing CRLF
**     changes nothing.
*/
#include "authhdr.h"
#include "strbuf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what, const char *a, const char *b) __attribute__((noreturn));
static void broken(const char *what, const char *a, const char *b)
{
  fprintf(stderr, "fuzz_authhdr: invariant broken: %s ('%s', '%s')\n", what, a ? a : "(null)",
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
  static const char prefix[] = "invalid WWW-Authenticate header: ";
  size_t i;
  if (err->code != rc)
    broken("err.code differs from the status", err->msg, NULL);
  if (strncmp(err->msg, prefix, sizeof prefix - 1) != 0)
    broken("message lacks its prefix", err->msg, NULL);
  for (i = 0; err->msg[i]; i++)
    if ((unsigned char)err->msg[i] < 0x20 || (unsigned char)err->msg[i] >= 0x7f)
      broken("message holds a control or non-ASCII byte", err->msg, NULL);
}

static void check_value(const char *v)
{
  const unsigned char *p = (const unsigned char *)v;
  if (!v)
    return;
  for (; *p; p++)
    if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
      broken("a value holds a control byte", v, NULL);
}

static int same_header(const struct hoist_authhdr *a, const struct hoist_authhdr *b)
{
  size_t i;
  if (a->bearer != b->bearer || a->basic != b->basic || !same(a->realm, b->realm) ||
      !same(a->service, b->service) || !same(a->scope, b->scope) || !same(a->error, b->error) ||
      !same(a->basic_realm, b->basic_realm) || a->nscopes != b->nscopes)
    return 0;
  for (i = 0; i < a->nscopes; i++)
    if (strcmp(a->scopes[i], b->scopes[i]) != 0)
      return 0;
  return 1;
}

static int add_quoted(struct strbuf *sb, const char *s)
{
  int rc = strbuf_addch(sb, '"');
  for (; *s && rc == 0; s++) {
    if (*s == '"' || *s == '\\')
      rc = strbuf_addch(sb, '\\');
    if (rc == 0)
      rc = strbuf_addch(sb, *s);
  }
  return rc ? rc : strbuf_addch(sb, '"');
}

static void check_header(const struct hoist_authhdr *h)
{
  static const char *const keys[4] = { "realm", "service", "scope", "error" };
  const char *vals[4];
  struct hoist_authhdr *again = NULL;
  struct hoist_err err;
  struct strbuf sb;
  const char *p;
  size_t i, k = 0, nparams = 0;
  int rc = 0;

  if (h->nchallenges < 1 || h->nchallenges > HOIST_AUTHHDR_MAX_CHALLENGES)
    broken("nchallenges out of range", NULL, NULL);
  if (!h->bearer && (h->realm || h->service || h->scope || h->error))
    broken("Bearer fields without a Bearer challenge", NULL, NULL);
  if (!h->basic && h->basic_realm)
    broken("basic_realm without a Basic challenge", NULL, NULL);
  vals[0] = h->realm;
  vals[1] = h->service;
  vals[2] = h->scope;
  vals[3] = h->error;
  for (i = 0; i < 4; i++)
    check_value(vals[i]);
  check_value(h->basic_realm);

  /* scopes: scope split at runs of blanks */
  if ((h->scope == NULL) != (h->scopes == NULL))
    broken("scope and scopes disagree", h->scope, NULL);
  if (h->scope) {
    p = h->scope;
    for (;;) {
      size_t n;
      while (*p == ' ' || *p == '\t')
        p++;
      if (!*p)
        break;
      n = strcspn(p, " \t");
      if (k >= h->nscopes || strlen(h->scopes[k]) != n || memcmp(h->scopes[k], p, n) != 0)
        broken("scopes is not scope split at blanks", h->scope, k < h->nscopes ? h->scopes[k] : NULL);
      k++;
      p += n;
    }
  }
  if (k != h->nscopes)
    broken("nscopes is not the number of scopes", h->scope, NULL);

  strbuf_init(&sb, 1 << 20);
  if (h->bearer) {
    rc = strbuf_addstr(&sb, "Bearer");
    for (i = 0; i < 4 && rc == 0; i++) {
      if (!vals[i])
        continue;
      rc = strbuf_addf(&sb, "%s%s=", nparams++ ? ", " : " ", keys[i]);
      if (rc == 0)
        rc = add_quoted(&sb, vals[i]);
    }
  }
  if (h->basic && rc == 0) {
    rc = strbuf_addstr(&sb, h->bearer ? ", Basic" : "Basic");
    if (rc == 0 && h->basic_realm) {
      rc = strbuf_addstr(&sb, " realm=");
      if (rc == 0)
        rc = add_quoted(&sb, h->basic_realm);
    }
  }
  /* escapes can double a value: only a result within the bound must read back */
  if (rc == 0 && sb.len > 0 && sb.len <= HOIST_AUTHHDR_MAX) {
    char *buf = malloc(sb.len);
    if (buf) {
      memcpy(buf, sb.buf, sb.len);
      rc = hoist_authhdr_parse(buf, sb.len, &again, &err);
      free(buf);
      if (rc != 0 || !again)
        broken("re-serialized header does not parse", sb.buf, err.msg);
      if (!same_header(h, again))
        broken("re-serialized header reads back differently", sb.buf, NULL);
      hoist_authhdr_free(again);
    }
  }
  strbuf_release(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct hoist_authhdr *h = NULL, *h2 = NULL;
  struct hoist_err err;
  char *buf = malloc(size ? size : 1), *wrapped;
  int rc, rc2;
  if (!buf)
    return 0;
  if (size)
    memcpy(buf, data, size);
  err.code = 0;
  err.msg[0] = '\0';
  rc = hoist_authhdr_parse(buf, size, &h, &err);
  if (rc != 0) {
    if (h)
      broken("parse failed but returned a header", NULL, NULL);
    check_message(rc, &err);
  } else {
    if (!h)
      broken("parse succeeded without a header", NULL, NULL);
    check_header(h);
  }

  /* " ," + input + " \r\n" reads the same, when it stays within the bound */
  if (size + 5 <= HOIST_AUTHHDR_MAX) {
    wrapped = malloc(size + 5);
    if (wrapped) {
      memcpy(wrapped, " ,", 2);
      if (size)
        memcpy(wrapped + 2, data, size);
      memcpy(wrapped + 2 + size, " \r\n", 3);
      rc2 = hoist_authhdr_parse(wrapped, size + 5, &h2, NULL);
      if (rc2 != rc)
        broken("surrounding blanks change the status", NULL, NULL);
      if (h && (!h2 || !same_header(h, h2) || h->nchallenges != h2->nchallenges))
        broken("surrounding blanks change the result", NULL, NULL);
      hoist_authhdr_free(h2);
      free(wrapped);
    }
  }
  hoist_authhdr_free(h);
  free(buf);
  return 0;
}
