/*
** test_registry_parsers: data-driven tests of the registry client's pure
** parsers: image references (ref.h), WWW-Authenticate (authhdr.h) and Link
** (linkhdr.h).
**
**   test_registry_parsers CASES_DIR
**
** Reads CASES_DIR/ref.txt, authhdr.txt, linkhdr.txt and origin.txt: one case a line,
** TAB-separated fields, '#' comments and blank lines ignored, columns
** described in each file's header. Field escapes as in the semver case files:
** \s space, \t tab, \n newline, \r CR, \\ backslash, \xHH a byte; a field of
** exactly "" is the empty string. In expected columns "-" means NULL/absent.
** An expected column "!CODE" (e.g. "!EINVAL") means the call fails with that
** code, and the next column is text its err.msg must contain.
**
** Inputs are passed in buffers of exactly their length (no NUL after them),
** so ASan and valgrind catch over-reads. Besides the listed fields, every
** success is checked against invariants: a reference's canonical form parses
** back to the same fields, a parsed challenge re-serialized parses back to the
** same values, a resolved next URL resolves to itself. Prints each failure as
** file:line, then "N passed, M failed"; exits 1 on any failure.
*/
#include "authhdr.h"
#include "linkhdr.h"
#include "ref.h"
#include "strbuf.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 12

struct field {
  char *s;     /* unescaped, NUL-terminated (may hold NULs inside) */
  size_t n;
  const char *raw;  /* the field as written in the file (not NUL-terminated) */
  int raw_n;
};

struct ctx {
  const char *file;
  int line;
  int failed;  /* failures recorded for the current case */
};

static int n_passed, n_failed;

/* Prints s escaped, the first 300 bytes at most: enough to tell a case apart. */
static void print_escaped(const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) {
    if (i == 300) {
      printf("...(%zu bytes)", n);
      break;
    }
    unsigned char c = (unsigned char)s[i];
    if (c == '\\')
      fputs("\\\\", stdout);
    else if (c == '\t')
      fputs("\\t", stdout);
    else if (c == '\n')
      fputs("\\n", stdout);
    else if (c < 0x20 || c >= 0x7f)
      printf("\\x%02x", c);
    else
      putchar(c);
  }
}

static void fail(struct ctx *cx, const char *what, const char *expected, const char *actual)
{
  cx->failed++;
  printf("%s:%d: %s: expected '", cx->file, cx->line, what);
  print_escaped(expected, strlen(expected));
  fputs("', got '", stdout);
  if (actual)
    print_escaped(actual, strlen(actual));
  else
    fputs("(null)", stdout);
  fputs("'\n", stdout);
}

static void failf(struct ctx *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failf(struct ctx *cx, const char *fmt, ...)
{
  va_list ap;
  cx->failed++;
  printf("%s:%d: ", cx->file, cx->line);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
}

static int is(const struct field *f, const char *lit)
{
  return strlen(lit) == f->n && memcmp(f->s, lit, f->n) == 0;
}

/* An expected string column: "-" wants NULL, anything else that exact string. */
static void check_opt(struct ctx *cx, const char *what, const struct field *f, const char *actual)
{
  if (is(f, "-")) {
    if (actual)
      fail(cx, what, "(null)", actual);
    return;
  }
  if (!actual || strlen(actual) != f->n || memcmp(actual, f->s, f->n) != 0)
    fail(cx, what, f->s, actual);
}

static void check_int(struct ctx *cx, const char *what, const struct field *f, long actual)
{
  char buf[32];
  snprintf(buf, sizeof buf, "%ld", actual);
  if (!is(f, buf))
    fail(cx, what, f->s, buf);
}

static int same(const char *a, const char *b)
{
  if (!a || !b)
    return a == b;
  return strcmp(a, b) == 0;
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Unescapes raw[0..n) into f; returns 0, or -1 on a bad escape or no memory. */
static int unescape(const char *raw, size_t n, struct field *f)
{
  size_t i, o = 0;
  f->raw = raw;
  f->raw_n = (int)n;
  f->s = malloc(n + 1);
  if (!f->s)
    return -1;
  if (n == 2 && raw[0] == '"' && raw[1] == '"') {
    f->s[0] = '\0';
    f->n = 0;
    return 0;
  }
  for (i = 0; i < n; i++) {
    char c = raw[i];
    if (c != '\\') {
      f->s[o++] = c;
      continue;
    }
    if (++i >= n)
      return -1;
    switch (raw[i]) {
    case 's': f->s[o++] = ' '; break;
    case 't': f->s[o++] = '\t'; break;
    case 'n': f->s[o++] = '\n'; break;
    case 'r': f->s[o++] = '\r'; break;
    case '\\': f->s[o++] = '\\'; break;
    case 'x': {
      int hi, lo;
      if (i + 2 >= n)
        return -1;
      hi = hexval(raw[i + 1]);
      lo = hexval(raw[i + 2]);
      if (hi < 0 || lo < 0)
        return -1;
      f->s[o++] = (char)(hi * 16 + lo);
      i += 2;
      break;
    }
    default:
      return -1;
    }
  }
  f->s[o] = '\0';
  f->n = o;
  return 0;
}

/* A copy of f's bytes in a buffer of exactly f->n bytes, for length-taking calls. */
static char *exact(const char *s, size_t n)
{
  char *p = malloc(n ? n : 1);
  if (p && n)
    memcpy(p, s, n);
  return p;
}

static void reset_err(struct hoist_err *err)
{
  err->code = 0;
  err->msg[0] = '\0';
}

/*
** Checks a call's status against an expected column: "!CODE" wants that
** failure with msg_col contained in err.msg, anything else wants success.
** Returns 1 when the call succeeded as expected (the caller checks values).
*/
static int check_status(struct ctx *cx, const char *what, int rc, const struct hoist_err *err,
                        const struct field *expect, const struct field *msg_col)
{
  size_t i;
  if (rc < 0) {
    if (err->code != rc)
      failf(cx, "%s: returned %d but err.code is %d", what, rc, err->code);
    if (err->msg[0] == '\0')
      failf(cx, "%s: failed (%d) with an empty err.msg", what, rc);
    for (i = 0; err->msg[i]; i++)
      if ((unsigned char)err->msg[i] < 0x20 || (unsigned char)err->msg[i] == 0x7f) {
        failf(cx, "%s: err.msg holds a control character: '%s'", what, err->msg);
        break;
      }
  }
  if (expect->n > 0 && expect->s[0] == '!') {
    if (rc >= 0) {
      failf(cx, "%s: expected %s, but it succeeded", what, expect->s);
      return 0;
    }
    if (strcmp(expect->s + 1, hoist_err_name(rc)) != 0)
      failf(cx, "%s: expected %s, got %s: %s", what, expect->s, hoist_err_name(rc), err->msg);
    if (!msg_col)
      failf(cx, "malformed case: no message column after %s", expect->s);
    else if (!strstr(err->msg, msg_col->s))
      fail(cx, "err.msg containing", msg_col->s, err->msg);
    return 0;
  }
  if (rc < 0) {
    failf(cx, "%s: failed with %s: %s", what, hoist_err_name(rc), err->msg);
    return 0;
  }
  return 1;
}

/* ---- ref.txt ---- */

static void ref_compare(struct ctx *cx, const char *what, const struct hoist_ref *a,
                        const struct hoist_ref *b)
{
  if (!same(a->registry, b->registry) || !same(a->api_host, b->api_host) ||
      !same(a->repository, b->repository) || !same(a->tag, b->tag) ||
      !same(a->digest, b->digest) || !same(a->reference, b->reference) ||
      !same(a->name, b->name) || !same(a->canonical, b->canonical) || a->loopback != b->loopback)
    failf(cx, "%s: '%s' reads back as '%s'", what, a->canonical, b->canonical);
}

/* The fields agree with each other, and the canonical form reads back the same. */
static void ref_invariants(struct ctx *cx, const struct hoist_ref *r)
{
  struct hoist_ref *again = NULL;
  struct hoist_err err;
  struct strbuf sb;
  const char *want_ref = r->digest ? r->digest : r->tag ? r->tag : "latest";
  char *buf;
  int rc;

  if (hoist_ref_string(r) != r->canonical)
    failf(cx, "hoist_ref_string is not ->canonical");
  if (!same(r->reference, want_ref))
    fail(cx, "->reference", want_ref, r->reference);
  strbuf_init(&sb, 4096);
  if (strbuf_addf(&sb, "%s/%s", r->registry, r->repository) != 0 || !same(sb.buf, r->name))
    fail(cx, "->name is registry/repository", sb.buf ? sb.buf : "", r->name);
  strbuf_reset(&sb);
  if (strbuf_addf(&sb, "%s%s%s%s%s", r->name, r->tag ? ":" : "", r->tag ? r->tag : "",
                  r->digest ? "@" : "", r->digest ? r->digest : "") != 0 ||
      !same(sb.buf, r->canonical))
    fail(cx, "->canonical is name[:tag][@digest]", sb.buf ? sb.buf : "", r->canonical);
  if (strlen(r->name) > HOIST_REF_NAME_MAX)
    failf(cx, "name '%s' is longer than %d", r->name, HOIST_REF_NAME_MAX);
  if (r->loopback != hoist_ref_is_loopback(r->registry))
    failf(cx, "->loopback %d disagrees with hoist_ref_is_loopback", r->loopback);

  buf = exact(r->canonical, strlen(r->canonical));
  reset_err(&err);
  rc = hoist_ref_parse(buf, strlen(r->canonical), &again, &err);
  free(buf);
  if (rc != 0 || !again)
    failf(cx, "canonical '%s' does not parse again: %s", r->canonical, err.msg);
  else
    ref_compare(cx, "canonical", r, again);
  hoist_ref_free(again);
  again = NULL;

  strbuf_reset(&sb);
  if (strbuf_addf(&sb, "docker://%s", r->canonical) == 0) {
    buf = exact(sb.buf, sb.len);
    rc = hoist_ref_parse(buf, sb.len, &again, &err);
    free(buf);
    if (rc != 0 || !again)
      failf(cx, "'%s' does not parse: %s", sb.buf, err.msg);
    else
      ref_compare(cx, "docker:// + canonical", r, again);
    hoist_ref_free(again);
  }
  strbuf_release(&sb);
}

/*
** ref.txt: input canonical registry api_host repository tag digest loopback
**      or: input !CODE message
*/
static void case_ref(struct ctx *cx, struct field *f, size_t nf)
{
  struct hoist_ref *r = NULL;
  struct hoist_err err;
  char *buf;
  int rc, ok;
  if (!(nf == 8 || (nf == 3 && f[1].n && f[1].s[0] == '!'))) {
    failf(cx, "malformed case: %zu fields", nf);
    return;
  }
  buf = exact(f[0].s, f[0].n);
  reset_err(&err);
  rc = hoist_ref_parse(buf, f[0].n, &r, &err);
  free(buf);
  if (rc < 0 && r)
    failf(cx, "hoist_ref_parse failed but set *out");
  ok = check_status(cx, "hoist_ref_parse", rc, &err, &f[1], nf == 3 ? &f[2] : NULL);
  if (ok && r) {
    check_opt(cx, "->canonical", &f[1], r->canonical);
    check_opt(cx, "->registry", &f[2], r->registry);
    check_opt(cx, "->api_host", &f[3], r->api_host);
    check_opt(cx, "->repository", &f[4], r->repository);
    check_opt(cx, "->tag", &f[5], r->tag);
    check_opt(cx, "->digest", &f[6], r->digest);
    check_int(cx, "->loopback", &f[7], r->loopback);
    ref_invariants(cx, r);
  }
  if (rc < 0)
    return;
  hoist_ref_free(r);
  /* a NULL err is allowed */
  buf = exact(f[0].s, f[0].n);
  r = NULL;
  if (hoist_ref_parse(buf, f[0].n, &r, NULL) != rc)
    failf(cx, "hoist_ref_parse with a NULL err returns another status");
  hoist_ref_free(r);
  free(buf);
}

/* ---- authhdr.txt ---- */

/* Appends s as a quoted-string, escaping '"' and '\'. */
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

static void auth_invariants(struct ctx *cx, const struct hoist_authhdr *h)
{
  struct hoist_authhdr *again = NULL;
  struct hoist_err err;
  struct strbuf sb;
  const char *keys[4] = { "realm", "service", "scope", "error" };
  const char *vals[4];
  size_t i, nparams = 0;
  char *buf;
  int rc = 0;

  vals[0] = h->realm;
  vals[1] = h->service;
  vals[2] = h->scope;
  vals[3] = h->error;
  if ((h->scope == NULL) != (h->scopes == NULL) || (!h->scope && h->nscopes))
    failf(cx, "scope and scopes disagree");
  for (i = 0; i < h->nscopes; i++)
    if (!h->scopes[i][0] || strchr(h->scopes[i], ' ') || strchr(h->scopes[i], '\t'))
      failf(cx, "scopes[%zu] '%s' is empty or holds a blank", i, h->scopes[i]);
  if (h->nchallenges == 0 || (h->bearer + h->basic) > (int)h->nchallenges)
    failf(cx, "nchallenges %zu with bearer %d basic %d", h->nchallenges, h->bearer, h->basic);
  if (!h->bearer && (h->realm || h->service || h->scope || h->error))
    failf(cx, "Bearer fields without a Bearer challenge");
  if (!h->basic && h->basic_realm)
    failf(cx, "basic_realm without a Basic challenge");

  /* what was kept, written out again, reads back the same */
  strbuf_init(&sb, 65536);
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
  if (rc == 0 && sb.len > 0) {
    buf = exact(sb.buf, sb.len);
    reset_err(&err);
    rc = hoist_authhdr_parse(buf, sb.len, &again, &err);
    free(buf);
    if (rc != 0 || !again) {
      failf(cx, "re-serialized '%s' does not parse: %s", sb.buf, err.msg);
    } else if (again->bearer != h->bearer || again->basic != h->basic ||
               !same(again->realm, h->realm) || !same(again->service, h->service) ||
               !same(again->scope, h->scope) || !same(again->error, h->error) ||
               !same(again->basic_realm, h->basic_realm) || again->nscopes != h->nscopes) {
      failf(cx, "re-serialized '%s' reads back differently", sb.buf);
    }
    hoist_authhdr_free(again);
  }
  strbuf_release(&sb);
}

/*
** authhdr.txt: input nchallenges bearer basic realm service scope scopes error basic_realm
**          or: input !CODE message
*/
static void case_authhdr(struct ctx *cx, struct field *f, size_t nf)
{
  struct hoist_authhdr *h = NULL;
  struct hoist_err err;
  char *buf;
  int rc, ok;
  if (!(nf == 10 || (nf == 3 && f[1].n && f[1].s[0] == '!'))) {
    failf(cx, "malformed case: %zu fields", nf);
    return;
  }
  buf = exact(f[0].s, f[0].n);
  reset_err(&err);
  rc = hoist_authhdr_parse(buf, f[0].n, &h, &err);
  free(buf);
  if (rc < 0 && h)
    failf(cx, "hoist_authhdr_parse failed but set *out");
  ok = check_status(cx, "hoist_authhdr_parse", rc, &err, &f[1], nf == 3 ? &f[2] : NULL);
  if (ok && h) {
    struct strbuf sb;
    size_t i;
    check_int(cx, "->nchallenges", &f[1], (long)h->nchallenges);
    check_int(cx, "->bearer", &f[2], h->bearer);
    check_int(cx, "->basic", &f[3], h->basic);
    check_opt(cx, "->realm", &f[4], h->realm);
    check_opt(cx, "->service", &f[5], h->service);
    check_opt(cx, "->scope", &f[6], h->scope);
    strbuf_init(&sb, 65536);
    for (i = 0; i < h->nscopes; i++)
      if (strbuf_addf(&sb, "%s%s", i ? "|" : "", h->scopes[i]) != 0)
        break;
    check_opt(cx, "->scopes joined with '|'", &f[7], h->scopes ? (sb.buf ? sb.buf : "") : NULL);
    strbuf_release(&sb);
    check_opt(cx, "->error", &f[8], h->error);
    check_opt(cx, "->basic_realm", &f[9], h->basic_realm);
    auth_invariants(cx, h);
  }
  hoist_authhdr_free(h);
}

/* ---- linkhdr.txt ---- */

static void link_invariants(struct ctx *cx, const char *base, const char *next)
{
  struct hoist_err err;
  struct strbuf sb;
  char *again = NULL, *buf;
  int rc;
  if (strncmp(next, "http://", 7) != 0 && strncmp(next, "https://", 8) != 0)
    failf(cx, "next '%s' is not an http(s) URL", next);
  if (strpbrk(next, " \t\r\n#<>"))
    failf(cx, "next '%s' holds a blank, '#', '<' or '>'", next);
  /* an absolute result resolves to itself */
  buf = exact(next, strlen(next));
  reset_err(&err);
  rc = hoist_url_resolve(base, buf, strlen(next), &again, &err);
  free(buf);
  if (rc != 0 || !again)
    failf(cx, "next '%s' does not resolve again: %s", next, err.msg);
  else if (strcmp(again, next) != 0)
    fail(cx, "next resolved again", next, again);
  free(again);
  again = NULL;
  /* and a header naming it alone gives it back (when that header is within bounds) */
  strbuf_init(&sb, HOIST_LINKHDR_MAX);
  if (strbuf_addf(&sb, "<%s>; rel=\"next\"", next) == 0) {
    buf = exact(sb.buf, sb.len);
    rc = hoist_linkhdr_next(buf, sb.len, base, &again, &err);
    free(buf);
    if (rc != 0 || !again || strcmp(again, next) != 0)
      fail(cx, "the next link alone", next, rc ? err.msg : again);
    free(again);
  }
  strbuf_release(&sb);
}

/*
** linkhdr.txt: base input next        (next "-": no next link)
**          or: base input !CODE message
*/
static void case_linkhdr(struct ctx *cx, struct field *f, size_t nf)
{
  struct hoist_err err;
  char *buf, *next = NULL;
  int rc, ok;
  if (!(nf == 3 || (nf == 4 && f[2].n && f[2].s[0] == '!'))) {
    failf(cx, "malformed case: %zu fields", nf);
    return;
  }
  if (memchr(f[0].s, '\0', f[0].n)) {
    failf(cx, "malformed case: a NUL in the base");
    return;
  }
  buf = exact(f[1].s, f[1].n);
  reset_err(&err);
  rc = hoist_linkhdr_next(buf, f[1].n, f[0].s, &next, &err);
  free(buf);
  if (rc < 0 && next)
    failf(cx, "hoist_linkhdr_next failed but set *next");
  ok = check_status(cx, "hoist_linkhdr_next", rc, &err, &f[2], nf == 4 ? &f[3] : NULL);
  if (ok) {
    check_opt(cx, "next", &f[2], next);
    if (next)
      link_invariants(cx, f[0].s, next);
  }
  free(next);
}

/*
** origin.txt: url origin            (hoist_url_origin: where credentials may go)
**         or: url !CODE message
** Invariant: a path, query or fragment appended to the URL does not change its origin.
*/
static void case_origin(struct ctx *cx, struct field *f, size_t nf)
{
  struct hoist_err err;
  char out[300], again[300];
  struct strbuf sb;
  int rc, ok;
  if (!(nf == 2 || (nf == 3 && f[1].n && f[1].s[0] == '!'))) {
    failf(cx, "malformed case: %zu fields", nf);
    return;
  }
  reset_err(&err);
  out[0] = '\0';
  rc = hoist_url_origin(f[0].s, out, sizeof out, &err);
  ok = check_status(cx, "hoist_url_origin", rc, &err, &f[1], nf == 3 ? &f[2] : NULL);
  if (!ok || rc != 0)
    return;
  check_opt(cx, "origin", &f[1], out);
  strbuf_init(&sb, 4096);
  /* only for a bare origin ("scheme://host[:port]"): a path goes straight after it */
  if (!strchr(strstr(f[0].s, "://") + 3, '/') &&
      strbuf_addf(&sb, "%s/v2/x/tags/list?n=1#frag", f[0].s) == 0) {
    if (hoist_url_origin(sb.buf, again, sizeof again, NULL) != 0 || strcmp(again, out) != 0)
      fail(cx, "origin with a path", out, again);
  }
  strbuf_release(&sb);
}

/* ---- running a case file ---- */

struct casefile {
  const char *name;
  void (*run)(struct ctx *cx, struct field *f, size_t nf);
};

static const struct casefile casefiles[] = {
  { "ref.txt", case_ref },
  { "authhdr.txt", case_authhdr },
  { "linkhdr.txt", case_linkhdr },
  { "origin.txt", case_origin },
};

static char *read_file(const char *path, size_t *len)
{
  FILE *fp = fopen(path, "rb");
  char *buf = NULL;
  size_t cap = 0, n = 0;
  if (!fp)
    return NULL;
  for (;;) {
    size_t got;
    if (cap - n < 4096) {
      char *p = realloc(buf, cap + 65536);
      if (!p) {
        free(buf);
        fclose(fp);
        return NULL;
      }
      buf = p;
      cap += 65536;
    }
    got = fread(buf + n, 1, cap - n - 1, fp);
    n += got;
    if (got == 0)
      break;
  }
  if (ferror(fp)) {
    free(buf);
    fclose(fp);
    return NULL;
  }
  fclose(fp);
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* Runs every case of one file; returns the number of cases found. */
static int run_file(const char *dir, const struct casefile *cf)
{
  char path[4096];
  size_t len, pos = 0;
  char *text;
  int ncases = 0, lineno = 0;
  if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, cf->name) >= sizeof path) {
    printf("%s: path too long\n", cf->name);
    n_failed++;
    return 0;
  }
  text = read_file(path, &len);
  if (!text) {
    printf("%s: cannot read\n", path);
    n_failed++;
    return 0;
  }
  while (pos < len) {
    const char *line = text + pos;
    const char *nl = memchr(line, '\n', len - pos);
    size_t ll = nl ? (size_t)(nl - line) : len - pos;
    struct field f[MAX_FIELDS];
    size_t nf = 0, i, start = 0;
    struct ctx cx;
    int bad = 0;
    pos += ll + (nl ? 1 : 0);
    lineno++;
    if (ll && line[ll - 1] == '\r')
      ll--;
    if (ll == 0 || line[0] == '#')
      continue;
    cx.file = cf->name;
    cx.line = lineno;
    cx.failed = 0;
    for (i = 0; i <= ll && !bad; i++) {
      if (i < ll && line[i] != '\t')
        continue;
      if (nf == MAX_FIELDS) {
        bad = 1;
        break;
      }
      if (unescape(line + start, i - start, &f[nf]) < 0) {
        free(f[nf].s);
        bad = 1;
        break;
      }
      nf++;
      start = i + 1;
    }
    ncases++;
    if (bad)
      failf(&cx, "malformed case: bad escape or more than %d fields", MAX_FIELDS);
    else
      cf->run(&cx, f, nf);
    if (cx.failed)
      n_failed++;
    else
      n_passed++;
    for (i = 0; i < nf; i++)
      free(f[i].s);
  }
  free(text);
  return ncases;
}

/* ---- API edge cases ---- */

static struct ctx api = { "api", 0, 0 };

#define API_CHECK(cond) api_check(__LINE__, (cond), #cond)

static void api_check(int line, int ok, const char *what)
{
  if (ok)
    return;
  api.failed++;
  printf("test_registry_parsers.c:%d: check failed: %s\n", line, what);
}

static void api_case_done(void)
{
  if (api.failed)
    n_failed++;
  else
    n_passed++;
  api.failed = 0;
}

static void test_null_frees(void)
{
  hoist_ref_free(NULL);
  hoist_authhdr_free(NULL);
  api_case_done();
}

static void test_loopback(void)
{
  static const struct { const char *host; int want; } hosts[] = {
    { "localhost", 1 }, { "localhost:5000", 1 }, { "LocalHost:443", 1 }, { "127.0.0.1", 1 },
    { "127.0.0.1:5000", 1 }, { "127.255.255.254:1", 1 }, { "127.1.2.3", 1 }, { "::1", 1 },
    { "[::1]", 1 }, { "[::1]:5000", 1 }, { "0:0:0:0:0:0:0:1", 1 }, { "[0::1]:80", 1 },
    { "::ffff:127.0.0.1", 1 }, { "[::ffff:127.9.9.9]:5000", 1 },
    { "", 0 }, { "localhost.", 0 }, { "localhost:", 0 }, { "localhost:0", 0 },
    { "localhost:65536", 0 }, { "localhost:5000:1", 0 }, { "localhost.example", 0 },
    { "my.localhost", 0 }, { "128.0.0.1", 0 }, { "126.255.255.255", 0 }, { "127.0.0", 0 },
    { "127.0.0.1.5", 0 }, { "127.0.0.256", 0 }, { "0127.0.0.1", 0 }, { "10.0.0.1", 0 },
    { "::2", 0 }, { "[::1", 0 }, { "[::1]x", 0 }, { "[::1]:", 0 }, { "[::1]:99999", 0 },
    { "[127.0.0.1]", 0 }, { "::", 0 }, { "[::1%lo]", 0 }, { "::ffff:10.0.0.1", 0 },
    { "docker.io", 0 }, { "registry-1.docker.io:443", 0 },
  };
  size_t i;
  for (i = 0; i < sizeof hosts / sizeof hosts[0]; i++)
    if (hoist_ref_is_loopback(hosts[i].host) != hosts[i].want) {
      api.failed++;
      printf("test_registry_parsers.c: hoist_ref_is_loopback('%s') is not %d\n", hosts[i].host,
             hosts[i].want);
    }
  API_CHECK(hoist_ref_is_loopback(NULL) == 0);
  api_case_done();
}

static void test_ref_lengths(void)
{
  struct hoist_ref *r = NULL;
  struct hoist_err err;
  char name[HOIST_REF_NAME_MAX + 64], tag[HOIST_REF_TAG_MAX + 8];
  size_t n;
  int rc;
  /* only len bytes are read */
  rc = hoist_ref_parse("alpine:3garbage", 8, &r, &err);
  API_CHECK(rc == 0 && r && strcmp(r->canonical, "docker.io/library/alpine:3") == 0);
  hoist_ref_free(r);
  r = NULL;
  /* an embedded NUL is invalid */
  reset_err(&err);
  rc = hoist_ref_parse("alpine\0:3", 9, &r, &err);
  API_CHECK(rc == HOIST_EINVAL && r == NULL && strstr(err.msg, "\\x00") != NULL);
  /* "localhost/" plus a path to exactly 255 characters of name, then 256 */
  memcpy(name, "localhost/", 10);
  memset(name + 10, 'a', sizeof name - 10);
  n = HOIST_REF_NAME_MAX;
  rc = hoist_ref_parse(name, n, &r, &err);
  API_CHECK(rc == 0 && r && strlen(r->name) == HOIST_REF_NAME_MAX);
  hoist_ref_free(r);
  r = NULL;
  reset_err(&err);
  rc = hoist_ref_parse(name, n + 1, &r, &err);
  API_CHECK(rc == HOIST_ERANGE && r == NULL && strstr(err.msg, "255") != NULL);
  /* docker.io counts: "docker.io/library/" is 18 of the 255 */
  rc = hoist_ref_parse(name + 10, HOIST_REF_NAME_MAX - 18, &r, &err);
  API_CHECK(rc == 0 && r && strlen(r->name) == HOIST_REF_NAME_MAX);
  hoist_ref_free(r);
  r = NULL;
  rc = hoist_ref_parse(name + 10, HOIST_REF_NAME_MAX - 17, &r, &err);
  API_CHECK(rc == HOIST_ERANGE && r == NULL);
  /* a tag of 128 characters, then 129 */
  memcpy(tag, "a:", 2);
  memset(tag + 2, 'v', sizeof tag - 2);
  rc = hoist_ref_parse(tag, 2 + HOIST_REF_TAG_MAX, &r, &err);
  API_CHECK(rc == 0 && r && r->tag && strlen(r->tag) == HOIST_REF_TAG_MAX);
  hoist_ref_free(r);
  r = NULL;
  reset_err(&err);
  rc = hoist_ref_parse(tag, 2 + HOIST_REF_TAG_MAX + 1, &r, &err);
  API_CHECK(rc == HOIST_ERANGE && r == NULL && strstr(err.msg, "128") != NULL);
  api_case_done();
}

static void test_ref_input_max(void)
{
  char *big = malloc(HOIST_REF_INPUT_MAX + 1);
  struct hoist_ref *r = NULL;
  struct hoist_err err;
  int rc;
  if (!big) {
    api.failed++;
    api_case_done();
    return;
  }
  memset(big, 'a', HOIST_REF_INPUT_MAX + 1);
  reset_err(&err);
  rc = hoist_ref_parse(big, HOIST_REF_INPUT_MAX + 1, &r, &err);
  API_CHECK(rc == HOIST_ERANGE && r == NULL && strstr(err.msg, "1024") != NULL);
  /* the message quotes a bounded excerpt */
  API_CHECK(strstr(err.msg, "...") != NULL && strlen(err.msg) < 200);
  free(big);
  api_case_done();
}

static void test_authhdr_bounds(void)
{
  struct hoist_authhdr *h = NULL;
  struct hoist_err err;
  struct strbuf sb;
  int rc, i;
  strbuf_init(&sb, 1 << 20);
  /* 32 params are fine, the 33rd is not */
  strbuf_addstr(&sb, "Bearer realm=\"https://a.example/token\"");
  for (i = 1; i < HOIST_AUTHHDR_MAX_PARAMS; i++)
    strbuf_addf(&sb, ",k%d=v", i);
  rc = hoist_authhdr_parse(sb.buf, sb.len, &h, &err);
  API_CHECK(rc == 0 && h && h->realm && strcmp(h->realm, "https://a.example/token") == 0);
  hoist_authhdr_free(h);
  h = NULL;
  strbuf_addstr(&sb, ",k99=v");
  reset_err(&err);
  rc = hoist_authhdr_parse(sb.buf, sb.len, &h, &err);
  API_CHECK(rc == HOIST_ERANGE && h == NULL && strstr(err.msg, "32") != NULL);
  /* exactly 8192 bytes are fine, 8193 are not */
  strbuf_reset(&sb);
  strbuf_addstr(&sb, "Bearer scope=\"");
  while (sb.len < HOIST_AUTHHDR_MAX - 1)
    strbuf_addch(&sb, 'x');
  strbuf_addch(&sb, '"');
  rc = hoist_authhdr_parse(sb.buf, sb.len, &h, &err);
  API_CHECK(sb.len == HOIST_AUTHHDR_MAX && rc == 0 && h && h->nscopes == 1);
  hoist_authhdr_free(h);
  h = NULL;
  strbuf_addch(&sb, ' ');
  reset_err(&err);
  rc = hoist_authhdr_parse(sb.buf, sb.len, &h, &err);
  API_CHECK(rc == HOIST_ERANGE && h == NULL && strstr(err.msg, "8192") != NULL);
  /* many scopes: the pointer array is sized right */
  strbuf_reset(&sb);
  strbuf_addstr(&sb, "Bearer scope=\"");
  for (i = 0; sb.len < HOIST_AUTHHDR_MAX - 3; i++)
    strbuf_addstr(&sb, "a ");
  strbuf_addch(&sb, '"');
  rc = hoist_authhdr_parse(sb.buf, sb.len, &h, &err);
  API_CHECK(rc == 0 && h && h->nscopes == (size_t)i);
  hoist_authhdr_free(h);
  h = NULL;
  /* a NULL err is allowed */
  rc = hoist_authhdr_parse("Bearer realm=", 13, &h, NULL);
  API_CHECK(rc == 0 && h && h->bearer && !h->realm);
  hoist_authhdr_free(h);
  h = NULL;
  rc = hoist_authhdr_parse("\"", 1, &h, NULL);
  API_CHECK(rc == HOIST_EINVAL && h == NULL);
  strbuf_release(&sb);
  api_case_done();
}

static void test_linkhdr_bounds(void)
{
  struct hoist_err err;
  struct strbuf sb;
  char *next = NULL;
  int rc, i;
  strbuf_init(&sb, 1 << 20);
  for (i = 0; i < HOIST_LINKHDR_MAX_LINKS; i++)
    strbuf_addf(&sb, "%s</p%d>", i ? ", " : "", i);
  strbuf_addstr(&sb, ";rel=next");
  rc = hoist_linkhdr_next(sb.buf, sb.len, "https://r.example", &next, &err);
  API_CHECK(rc == 0 && next && strcmp(next, "https://r.example/p31") == 0);
  free(next);
  next = NULL;
  strbuf_addstr(&sb, ", </p32>");
  reset_err(&err);
  rc = hoist_linkhdr_next(sb.buf, sb.len, "https://r.example", &next, &err);
  API_CHECK(rc == HOIST_ERANGE && next == NULL && strstr(err.msg, "32") != NULL);
  strbuf_reset(&sb);
  strbuf_addstr(&sb, "</p>");
  for (i = 0; i < HOIST_LINKHDR_MAX_PARAMS; i++)
    strbuf_addstr(&sb, ";a=b");
  rc = hoist_linkhdr_next(sb.buf, sb.len, "https://r.example", &next, &err);
  API_CHECK(rc == 0 && next == NULL);
  strbuf_addstr(&sb, ";rel=next");
  rc = hoist_linkhdr_next(sb.buf, sb.len, "https://r.example", &next, &err);
  API_CHECK(rc == HOIST_ERANGE && next == NULL);
  strbuf_reset(&sb);
  strbuf_addstr(&sb, "</");
  while (sb.len < HOIST_LINKHDR_MAX - 10)
    strbuf_addch(&sb, 'x');
  strbuf_addstr(&sb, ">;rel=next");
  rc = hoist_linkhdr_next(sb.buf, sb.len, "https://r.example", &next, &err);
  API_CHECK(sb.len == HOIST_LINKHDR_MAX && rc == 0 && next &&
            strlen(next) == strlen("https://r.example") + HOIST_LINKHDR_MAX - 11);
  free(next);
  next = NULL;
  strbuf_addch(&sb, ' ');
  rc = hoist_linkhdr_next(sb.buf, sb.len, "https://r.example", &next, &err);
  API_CHECK(rc == HOIST_ERANGE && next == NULL);
  /* a bad base fails even without a next link, and a NULL err is allowed */
  rc = hoist_linkhdr_next("", 0, "r.example", &next, NULL);
  API_CHECK(rc == HOIST_EINVAL && next == NULL);
  rc = hoist_linkhdr_next("</x>; rel=next", 14, "https://r.example", &next, NULL);
  API_CHECK(rc == 0 && next && strcmp(next, "https://r.example/x") == 0);
  free(next);
  next = NULL;
  /* hoist_url_resolve on its own: a Location header */
  rc = hoist_url_resolve("https://r.example/v2/a/blobs/uploads/", "?_state=x&digest=sha256:1",
                         25, &next, &err);
  API_CHECK(rc == 0 && next &&
            strcmp(next, "https://r.example/v2/a/blobs/uploads/?_state=x&digest=sha256:1") == 0);
  free(next);
  next = NULL;
  rc = hoist_url_resolve("https://r.example/v2/a/blobs/uploads/", "abc-123", 7, &next, &err);
  API_CHECK(rc == 0 && next && strcmp(next, "https://r.example/v2/a/blobs/uploads/abc-123") == 0);
  free(next);
  next = NULL;
  rc = hoist_url_resolve("https://r.example/v2/", "https://s3.example/b?sig=1#frag", 31, &next, &err);
  API_CHECK(rc == 0 && next && strcmp(next, "https://s3.example/b?sig=1") == 0);
  free(next);
  strbuf_release(&sb);
  api_case_done();
}

int main(int argc, char **argv)
{
  size_t i;
  if (argc != 2) {
    fprintf(stderr, "usage: %s CASES_DIR\n", argv[0]);
    return 2;
  }
  for (i = 0; i < sizeof casefiles / sizeof casefiles[0]; i++) {
    int n = run_file(argv[1], &casefiles[i]);
    if (n == 0) {
      printf("%s: no cases\n", casefiles[i].name);
      n_failed++;
    }
  }
  test_null_frees();
  test_loopback();
  test_ref_lengths();
  test_ref_input_max();
  test_authhdr_bounds();
  test_linkhdr_bounds();
  printf("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
