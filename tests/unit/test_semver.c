/*
** test_semver: data-driven tests of the semver core against node-semver 7.
**
**   test_semver CASES_DIR
**
** Each CASES_DIR/<function>.txt holds one case a line: TAB-separated fields,
** '#' comments and blank lines ignored, columns described in the file's
** header. The expected columns are node's answers (cases/regen.js recomputes
** them). Field escapes: \s space, \t tab, \n newline, \r CR, \\ backslash,
** \xHH a byte; a field of exactly "" is the empty string.
**
** Inputs that the core takes with a length are passed in buffers of exactly
** that length (no NUL after them), so ASan and valgrind catch over-reads.
** Prints each failure as file:line, then "N passed, M failed"; exits 1 on
** any failure.
*/
#include "semver.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 8

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

static void print_escaped(const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\\')
      fputs("\\\\", stdout);
    else if (c == '\t')
      fputs("\\t", stdout);
    else if (c == '\n')
      fputs("\\n", stdout);
    else if (c < 0x20 || c == 0x7f)
      printf("\\x%02x", c);
    else
      putchar(c);
  }
}

/* Records a failure of the current case: what was checked, expected and actual. */
static void fail(struct ctx *cx, const char *what, const char *expected, const char *actual,
                 size_t actual_len)
{
  cx->failed++;
  printf("%s:%d: %s: expected '", cx->file, cx->line, what);
  print_escaped(expected, strlen(expected));
  fputs("', got '", stdout);
  print_escaped(actual, actual_len);
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

static void check_str(struct ctx *cx, const char *what, const char *expected, const char *actual,
                      size_t actual_len)
{
  if (strlen(expected) != actual_len || memcmp(expected, actual, actual_len) != 0)
    fail(cx, what, expected, actual, actual_len);
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
static char *exact(const struct field *f)
{
  char *p = malloc(f->n ? f->n : 1);
  if (p && f->n)
    memcpy(p, f->s, f->n);
  return p;
}

/* Parses a flags field: '-' or letters from "lpr". Returns -1 when malformed. */
static int parse_flags(const struct field *f)
{
  int flags = 0;
  size_t i;
  if (f->n == 1 && f->s[0] == '-')
    return 0;
  if (f->n == 0)
    return -1;
  for (i = 0; i < f->n; i++) {
    switch (f->s[i]) {
    case 'l': flags |= HOIST_SEMVER_LOOSE; break;
    case 'p': flags |= HOIST_SEMVER_INCLUDE_PRERELEASE; break;
    case 'r': flags |= HOIST_SEMVER_RTL; break;
    default: return -1;
    }
  }
  return flags;
}

static int is(const struct field *f, const char *lit)
{
  return strlen(lit) == f->n && memcmp(f->s, lit, f->n) == 0;
}

/* A failed call must report an error code and a message. */
static void check_err(struct ctx *cx, const char *what, int rc, const struct hoist_err *err)
{
  if (rc >= 0)
    return;
  if (err->code != rc)
    failf(cx, "%s: returned %d but err.code is %d", what, rc, err->code);
  if (err->msg[0] == '\0')
    failf(cx, "%s: failed (%d) with an empty err.msg", what, rc);
}

static void reset_err(struct hoist_err *err)
{
  err->code = 0;
  err->msg[0] = '\0';
}

/* Parses a version the case depends on; a failure is a broken case or a core bug. */
static struct hoist_semver *need_version(struct ctx *cx, const struct field *f, int flags)
{
  struct hoist_semver *v = NULL;
  struct hoist_err err;
  char *buf = exact(f);
  int rc;
  reset_err(&err);
  rc = buf ? hoist_semver_parse(buf, f->n, flags, &v, &err) : HOIST_ENOMEM;
  free(buf);
  if (rc < 0 || !v) {
    failf(cx, "cannot parse version '%.*s': %s", f->raw_n, f->raw, err.msg);
    return NULL;
  }
  return v;
}

/* ---- per-file checks ---- */

static int digits_only(const char *s, size_t n)
{
  size_t i;
  if (n == 0)
    return 0;
  for (i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return 1;
}

/* Appends to buf[*len..cap), truncating silently (the comparison then fails). */
static void append(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
  if (*len >= cap)
    return;
  if (n > cap - 1 - *len)
    n = cap - 1 - *len;
  memcpy(buf + *len, s, n);
  *len += n;
  buf[*len] = '\0';
}

static void append_ids(char *buf, size_t cap, size_t *len, char sep,
                       const struct hoist_semver_id *ids, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) {
    char c = i ? '.' : sep;
    append(buf, cap, len, &c, 1);
    append(buf, cap, len, ids[i].str, ids[i].len);
  }
}

/* The struct must agree with its own strings: numbers, ids, lengths. */
static void check_version_struct(struct ctx *cx, const struct hoist_semver *v)
{
  char buf[1024];
  size_t len = 0, i;
  int n = snprintf(buf, sizeof buf, "%llu.%llu.%llu", (unsigned long long)v->major,
                   (unsigned long long)v->minor, (unsigned long long)v->patch);
  len = (size_t)n;
  append_ids(buf, sizeof buf, &len, '-', v->pre, v->npre);
  if (strlen(v->version) != v->version_len)
    failf(cx, "version_len %zu but strlen(version) %zu", v->version_len, strlen(v->version));
  if (strlen(v->full) != v->full_len)
    failf(cx, "full_len %zu but strlen(full) %zu", v->full_len, strlen(v->full));
  check_str(cx, "version rebuilt from major.minor.patch-pre", buf, v->version, v->version_len);
  append_ids(buf, sizeof buf, &len, '+', v->build, v->nbuild);
  check_str(cx, "full rebuilt from the fields", buf, v->full, v->full_len);
  for (i = 0; i < v->npre; i++) {
    const struct hoist_semver_id *id = &v->pre[i];
    int num = digits_only(id->str, id->len);
    if (id->len != strlen(id->str))
      failf(cx, "pre[%zu] len %zu but strlen %zu", i, (size_t)id->len, strlen(id->str));
    if (id->numeric != num)
      failf(cx, "pre[%zu] '%s' numeric=%d", i, id->str, id->numeric);
    if (num && !id->big) {
      uint64_t x = 0;
      size_t k;
      for (k = 0; k < id->len; k++)
        x = x * 10 + (uint64_t)(id->str[k] - '0');
      if (x != id->num)
        failf(cx, "pre[%zu] '%s' num=%llu", i, id->str, (unsigned long long)id->num);
    }
  }
  for (i = 0; i < v->nbuild; i++)
    if (v->build[i].len == 0 || v->build[i].len != strlen(v->build[i].str))
      failf(cx, "build[%zu] has a bad length %zu", i, (size_t)v->build[i].len);
}

/* hoist_semver_parse_in agrees with hoist_semver_parse, and refuses a short buffer. */
static void check_parse_in(struct ctx *cx, const struct field *in, int flags,
                           const struct hoist_semver *want)
{
  union {
    max_align_t align;
    char bytes[4096];
  } block;
  struct hoist_semver *v = NULL;
  struct hoist_err err;
  char *buf = exact(in);
  int rc;
  reset_err(&err);
  rc = hoist_semver_parse_in(buf, in->n, flags, &block, sizeof block, &v, &err);
  if (rc < 0 || !v) {
    failf(cx, "hoist_semver_parse_in failed: %s", err.msg);
  } else {
    check_str(cx, "hoist_semver_parse_in ->full", want->full, v->full, v->full_len);
    check_version_struct(cx, v);
    if (v->size > sizeof block)
      failf(cx, "hoist_semver_parse_in: size %zu beyond cap", v->size);
    /* a block one byte short of what it needs is refused */
    if (v->size > 0) {
      size_t need = v->size;
      char *tight = malloc(need);
      v = NULL;
      if (tight) {
        rc = hoist_semver_parse_in(buf, in->n, flags, tight, need - 1, &v, &err);
        if (rc != HOIST_ERANGE || v)
          failf(cx, "hoist_semver_parse_in with cap %zu (needs %zu): rc %d", need - 1, need, rc);
        v = NULL;
        rc = hoist_semver_parse_in(buf, in->n, flags, tight, need, &v, &err);
        if (rc < 0 || !v)
          failf(cx, "hoist_semver_parse_in with cap %zu (its size) failed: %s", need, err.msg);
        else
          check_str(cx, "hoist_semver_parse_in (exact cap) ->full", want->full, v->full,
                    v->full_len);
        free(tight);
      }
    }
  }
  free(buf);
}

/* parse: flags input version full */
static void case_parse(struct ctx *cx, struct field *f)
{
  struct hoist_semver *v = NULL, *again = NULL;
  struct hoist_err err;
  int flags = parse_flags(&f[0]);
  char *buf = exact(&f[1]);
  int rc;
  reset_err(&err);
  rc = hoist_semver_parse(buf, f[1].n, flags, &v, &err);
  free(buf);
  check_err(cx, "hoist_semver_parse", rc, &err);
  if (is(&f[2], "invalid")) {
    if (v)
      fail(cx, "hoist_semver_parse", "invalid", v->full, v->full_len);
    else if (rc >= 0)
      failf(cx, "hoist_semver_parse returned %d without a version", rc);
    hoist_semver_free(v);
    return;
  }
  if (rc < 0 || !v) {
    fail(cx, "hoist_semver_parse", f[3].s, err.msg, strlen(err.msg));
    return;
  }
  check_str(cx, "hoist_semver_parse ->version", f[2].s, v->version, v->version_len);
  check_str(cx, "hoist_semver_parse ->full", f[3].s, v->full, v->full_len);
  check_version_struct(cx, v);
  check_parse_in(cx, &f[1], flags, v);
  /* the canonical form reads back as the same version */
  rc = hoist_semver_parse(v->full, v->full_len, flags, &again, &err);
  if (rc < 0 || !again)
    failf(cx, "canonical '%s' does not parse again: %s", v->full, err.msg);
  else if (hoist_semver_compare_build(v, again) != 0)
    failf(cx, "canonical '%s' reads back as '%s'", v->full, again->full);
  hoist_semver_free(again);
  hoist_semver_free(v);
}

static const char *int_text(int x)
{
  return x < 0 ? "-1" : x > 0 ? "1" : "0";
}

static int sign(int x)
{
  return (x > 0) - (x < 0);
}

/* compare: flags a b compare compare_build */
static void case_compare(struct ctx *cx, struct field *f)
{
  int flags = parse_flags(&f[0]);
  struct hoist_semver *a = need_version(cx, &f[1], flags);
  struct hoist_semver *b = a ? need_version(cx, &f[2], flags) : NULL;
  if (a && b) {
    int c = hoist_semver_compare(a, b), cb = hoist_semver_compare_build(a, b);
    const char *t = int_text(c), *tb = int_text(cb);
    check_str(cx, "hoist_semver_compare", f[3].s, t, strlen(t));
    check_str(cx, "hoist_semver_compare_build", f[4].s, tb, strlen(tb));
    if (sign(hoist_semver_compare(b, a)) != -sign(c))
      failf(cx, "hoist_semver_compare(b, a) is not -compare(a, b)");
    if (sign(hoist_semver_compare_build(b, a)) != -sign(cb))
      failf(cx, "hoist_semver_compare_build(b, a) is not -compare_build(a, b)");
    if (hoist_semver_compare(a, a) != 0 || hoist_semver_compare_build(a, a) != 0)
      failf(cx, "a version does not compare equal to itself");
  }
  hoist_semver_free(a);
  hoist_semver_free(b);
}

/* satisfies: flags version range true|false */
static void case_satisfies(struct ctx *cx, struct field *f)
{
  int flags = parse_flags(&f[0]);
  struct hoist_semver *v = NULL;
  struct hoist_range *r = NULL;
  struct hoist_err err;
  char *vb = exact(&f[1]), *rb = exact(&f[2]);
  int rc, ok = 0;
  const char *got;
  reset_err(&err);
  rc = hoist_range_parse(rb, f[2].n, flags, &r, &err);
  check_err(cx, "hoist_range_parse", rc, &err);
  if (rc == 0 && r) {
    reset_err(&err);
    rc = hoist_semver_parse(vb, f[1].n, flags, &v, &err);
    check_err(cx, "hoist_semver_parse", rc, &err);
    if (rc == 0 && v)
      ok = hoist_range_test(r, v);
  }
  got = ok ? "true" : "false";
  check_str(cx, "hoist_range_test", f[3].s, got, strlen(got));
  free(vb);
  free(rb);
  hoist_semver_free(v);
  hoist_range_free(r);
}

/* inc: flags version release identifier base result */
static void case_inc(struct ctx *cx, struct field *f)
{
  int flags = parse_flags(&f[0]);
  struct hoist_semver *v = NULL;
  struct hoist_err err;
  char *vb = exact(&f[1]), *out = NULL;
  const char *ident = is(&f[3], "-") ? NULL : f[3].s;
  int base = 0, rc;
  if (is(&f[4], "false"))
    base = -1;
  else if (is(&f[4], "1"))
    base = 1;
  else if (!is(&f[4], "-") && !is(&f[4], "0"))
    failf(cx, "bad identifier base '%.*s'", f[4].raw_n, f[4].raw);
  reset_err(&err);
  rc = hoist_semver_parse(vb, f[1].n, flags, &v, &err);
  free(vb);
  if (rc == 0 && v) {
    reset_err(&err);
    rc = hoist_semver_inc(v, f[2].s, ident, base, flags, &out, &err);
    check_err(cx, "hoist_semver_inc", rc, &err);
    if (rc < 0 && out) {
      failf(cx, "hoist_semver_inc failed but set *out");
      free(out);
      out = NULL;
    }
  }
  if (out)
    check_str(cx, "hoist_semver_inc", f[5].s, out, strlen(out));
  else if (!is(&f[5], "null"))
    fail(cx, "hoist_semver_inc", f[5].s, err.msg, strlen(err.msg));
  free(out);
  hoist_semver_free(v);
}

/* diff: a b result */
static void case_diff(struct ctx *cx, struct field *f)
{
  struct hoist_semver *a = need_version(cx, &f[0], 0);
  struct hoist_semver *b = a ? need_version(cx, &f[1], 0) : NULL;
  if (a && b) {
    const char *d = hoist_semver_diff(a, b);
    const char *rd = hoist_semver_diff(b, a);
    if (!d)
      d = "null";
    if (!rd)
      rd = "null";
    check_str(cx, "hoist_semver_diff", f[2].s, d, strlen(d));
    check_str(cx, "hoist_semver_diff (swapped)", f[2].s, rd, strlen(rd));
  }
  hoist_semver_free(a);
  hoist_semver_free(b);
}

/* coerce: flags input result */
static void case_coerce(struct ctx *cx, struct field *f)
{
  int flags = parse_flags(&f[0]);
  struct hoist_semver *v = NULL;
  struct hoist_err err;
  char *buf = exact(&f[1]);
  int rc;
  reset_err(&err);
  rc = hoist_semver_coerce(buf, f[1].n, flags, &v, &err);
  free(buf);
  check_err(cx, "hoist_semver_coerce", rc, &err);
  if (rc < 0)
    fail(cx, "hoist_semver_coerce", f[2].s, err.msg, strlen(err.msg));
  else if (!v)
    check_str(cx, "hoist_semver_coerce", f[2].s, "null", 4);
  else {
    check_str(cx, "hoist_semver_coerce", f[2].s, v->full, v->full_len);
    check_version_struct(cx, v);
  }
  hoist_semver_free(v);
}

/* clean: flags input result */
static void case_clean(struct ctx *cx, struct field *f)
{
  int flags = parse_flags(&f[0]);
  struct hoist_semver *v = NULL;
  struct hoist_err err;
  char *buf = exact(&f[1]);
  int rc;
  reset_err(&err);
  rc = hoist_semver_clean(buf, f[1].n, flags, &v, &err);
  free(buf);
  check_err(cx, "hoist_semver_clean", rc, &err);
  if (rc < 0 || !v) {
    if (!is(&f[2], "null"))
      fail(cx, "hoist_semver_clean", f[2].s, err.msg, strlen(err.msg));
    if (rc == 0)
      failf(cx, "hoist_semver_clean returned 0 without a version");
  } else {
    check_str(cx, "hoist_semver_clean", f[2].s, v->version, v->version_len);
  }
  hoist_semver_free(v);
}

/* valid_range: flags range result */
static void case_valid_range(struct ctx *cx, struct field *f)
{
  int flags = parse_flags(&f[0]);
  struct hoist_range *r = NULL, *again = NULL;
  struct hoist_err err;
  char *buf = exact(&f[1]);
  const char *got;
  int rc;
  reset_err(&err);
  rc = hoist_range_parse(buf, f[1].n, flags, &r, &err);
  free(buf);
  check_err(cx, "hoist_range_parse", rc, &err);
  if (rc < 0 || !r) {
    if (!is(&f[2], "invalid"))
      fail(cx, "hoist_range_parse", f[2].s, err.msg, strlen(err.msg));
    return;
  }
  got = r->formatted[0] ? r->formatted : "*";
  check_str(cx, "hoist_range->formatted", f[2].s, got, strlen(got));
  /* node's normal form is a fixed point */
  rc = hoist_range_parse(r->formatted, strlen(r->formatted), flags, &again, &err);
  if (rc < 0 || !again)
    failf(cx, "formatted '%s' does not parse again: %s", r->formatted, err.msg);
  else if (strcmp(again->formatted, r->formatted) != 0)
    failf(cx, "formatted '%s' formats again as '%s'", r->formatted, again->formatted);
  hoist_range_free(again);
  hoist_range_free(r);
}

/* min_version: flags range result */
static void case_min_version(struct ctx *cx, struct field *f)
{
  int flags = parse_flags(&f[0]);
  struct hoist_range *r = NULL;
  struct hoist_semver *m = NULL;
  struct hoist_err err;
  char *buf = exact(&f[1]);
  int rc;
  reset_err(&err);
  rc = hoist_range_parse(buf, f[1].n, flags, &r, &err);
  free(buf);
  check_err(cx, "hoist_range_parse", rc, &err);
  if (rc < 0 || !r) {
    if (!is(&f[2], "invalid"))
      fail(cx, "hoist_range_parse", f[2].s, err.msg, strlen(err.msg));
    return;
  }
  reset_err(&err);
  rc = hoist_range_min_version(r, &m, &err);
  check_err(cx, "hoist_range_min_version", rc, &err);
  if (rc < 0)
    fail(cx, "hoist_range_min_version", f[2].s, err.msg, strlen(err.msg));
  else if (!m)
    check_str(cx, "hoist_range_min_version", f[2].s, "null", 4);
  else {
    check_str(cx, "hoist_range_min_version", f[2].s, m->version, m->version_len);
    if (!hoist_range_test(r, m))
      failf(cx, "the min version '%s' does not satisfy the range", m->version);
  }
  hoist_semver_free(m);
  hoist_range_free(r);
}

struct casefile {
  const char *name;
  size_t ncols;
  int has_flags;  /* the first column is a flags field */
  void (*run)(struct ctx *cx, struct field *f);
};

static const struct casefile casefiles[] = {
  { "parse.txt", 4, 1, case_parse },
  { "compare.txt", 5, 1, case_compare },
  { "satisfies.txt", 4, 1, case_satisfies },
  { "inc.txt", 6, 1, case_inc },
  { "diff.txt", 3, 0, case_diff },
  { "coerce.txt", 3, 1, case_coerce },
  { "clean.txt", 3, 1, case_clean },
  { "valid_range.txt", 3, 1, case_valid_range },
  { "min_version.txt", 3, 1, case_min_version },
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
    if (bad || nf != cf->ncols) {
      failf(&cx, "malformed case: expected %zu TAB-separated fields, got %zu%s", cf->ncols, nf,
            bad ? " (bad escape or too many fields)" : "");
    } else if (cf->has_flags && parse_flags(&f[0]) < 0) {
      failf(&cx, "malformed case: bad flags field '%.*s'", f[0].raw_n, f[0].raw);
    } else {
      cf->run(&cx, f);
    }
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
  printf("test_semver.c:%d: check failed: %s\n", line, what);
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
  hoist_semver_free(NULL);
  hoist_range_free(NULL);
  api_case_done();
}

static void test_max_length(void)
{
  char buf[HOIST_SEMVER_MAX_LENGTH + 8];
  struct hoist_semver *v = NULL;
  struct hoist_err err;
  size_t n;
  int rc;
  /* "1.2.3-" then 'a' up to exactly 256 characters: accepted */
  memcpy(buf, "1.2.3-", 6);
  memset(buf + 6, 'a', sizeof buf - 6);
  n = HOIST_SEMVER_MAX_LENGTH;
  reset_err(&err);
  rc = hoist_semver_parse(buf, n, 0, &v, &err);
  API_CHECK(rc == 0 && v != NULL);
  if (v)
    API_CHECK(v->version_len == n);
  hoist_semver_free(v);
  v = NULL;
  /* 257 characters: rejected, and the message says why */
  reset_err(&err);
  rc = hoist_semver_parse(buf, n + 1, 0, &v, &err);
  API_CHECK(rc < 0);
  API_CHECK(v == NULL);
  API_CHECK(err.code == rc);
  API_CHECK(strstr(err.msg, "256") != NULL);
  if (rc < 0 && !strstr(err.msg, "256"))
    printf("  (message was '%s')\n", err.msg);
  hoist_semver_free(v);
  /* the bound counts the raw input, before trimming (as node does) */
  v = NULL;
  memset(buf, ' ', sizeof buf);
  memcpy(buf + HOIST_SEMVER_MAX_LENGTH - 4, "1.2.3", 5);
  rc = hoist_semver_parse(buf, HOIST_SEMVER_MAX_LENGTH + 1, 0, &v, &err);
  API_CHECK(rc < 0 && v == NULL);
  hoist_semver_free(v);
  api_case_done();
}

static void test_err_messages(void)
{
  struct hoist_semver *v = NULL, *ok = NULL;
  struct hoist_range *r = NULL;
  struct hoist_err err;
  char *out = NULL;
  int rc;

  reset_err(&err);
  rc = hoist_semver_parse("blerg", 5, 0, &v, &err);
  API_CHECK(rc == HOIST_EINVAL && v == NULL);
  API_CHECK(err.code == rc && strstr(err.msg, "blerg") != NULL);

  reset_err(&err);
  rc = hoist_range_parse(">=1.2.3 blerg", 13, 0, &r, &err);
  API_CHECK(rc == HOIST_EINVAL && r == NULL);
  API_CHECK(err.code == rc && strstr(err.msg, "blerg") != NULL);

  rc = hoist_semver_parse("1.2.3", 5, 0, &ok, &err);
  API_CHECK(rc == 0 && ok != NULL);
  if (ok) {
    reset_err(&err);
    rc = hoist_semver_inc(ok, "fake", NULL, 0, 0, &out, &err);
    API_CHECK(rc < 0 && out == NULL);
    API_CHECK(err.code == rc && strstr(err.msg, "fake") != NULL);
    free(out);
    out = NULL;
    reset_err(&err);
    rc = hoist_semver_inc(ok, "prerelease", "be_ta", 0, 0, &out, &err);
    API_CHECK(rc < 0 && out == NULL);
    API_CHECK(err.code == rc && strstr(err.msg, "be_ta") != NULL);
    free(out);
  }
  hoist_semver_free(ok);

  /* a NULL err is allowed */
  rc = hoist_semver_parse("x", 1, 0, &v, NULL);
  API_CHECK(rc < 0 && v == NULL);
  rc = hoist_range_parse("blerg", 5, 0, &r, NULL);
  API_CHECK(rc < 0 && r == NULL);
  api_case_done();
}

static void test_lengths(void)
{
  struct hoist_semver *v = NULL;
  struct hoist_range *r = NULL;
  struct hoist_err err;
  int rc;
  /* only len bytes are read */
  rc = hoist_semver_parse("1.2.3garbage", 5, 0, &v, &err);
  API_CHECK(rc == 0 && v && strcmp(v->full, "1.2.3") == 0);
  hoist_semver_free(v);
  v = NULL;
  rc = hoist_semver_parse("1.2.3-beta", 7, 0, &v, &err);
  API_CHECK(rc == 0 && v && strcmp(v->full, "1.2.3-b") == 0);
  hoist_semver_free(v);
  v = NULL;
  rc = hoist_range_parse("^1.2.3 || garbage", 6, 0, &r, &err);
  API_CHECK(rc == 0 && r && strcmp(r->formatted, ">=1.2.3 <2.0.0-0") == 0);
  hoist_range_free(r);
  r = NULL;
  /* an embedded NUL is a character like any other, and not a valid one */
  rc = hoist_semver_parse("1.2.3\0", 6, 0, &v, &err);
  API_CHECK(rc < 0 && v == NULL);
  rc = hoist_range_parse("1.2.3\0", 6, 0, &r, &err);
  API_CHECK(rc < 0 && r == NULL);
  api_case_done();
}

static void test_make(void)
{
  struct hoist_semver *v = NULL, *p = NULL;
  struct hoist_err err;
  int rc;
  rc = hoist_semver_make(1, 2, 3, "beta.1", "b.5", &v, &err);
  API_CHECK(rc == 0 && v != NULL);
  if (v) {
    API_CHECK(strcmp(v->version, "1.2.3-beta.1") == 0);
    API_CHECK(strcmp(v->full, "1.2.3-beta.1+b.5") == 0);
    API_CHECK(v->npre == 2 && v->nbuild == 2 && v->pre[1].numeric && v->pre[1].num == 1);
    rc = hoist_semver_parse("1.2.3-beta.1+b.5", 16, 0, &p, &err);
    API_CHECK(rc == 0 && p && hoist_semver_compare_build(v, p) == 0);
    hoist_semver_free(p);
  }
  hoist_semver_free(v);
  v = NULL;
  rc = hoist_semver_make(1, 2, 3, NULL, NULL, &v, &err);
  API_CHECK(rc == 0 && v && strcmp(v->full, "1.2.3") == 0 && v->npre == 0 && v->nbuild == 0);
  hoist_semver_free(v);
  v = NULL;
  reset_err(&err);
  rc = hoist_semver_make(1, 2, 3, "be_ta", NULL, &v, &err);
  API_CHECK(rc < 0 && v == NULL && err.msg[0] != '\0');
  /* make reads its parts loosely: a leading zero is dropped, as loose parse does */
  rc = hoist_semver_make(1, 2, 3, "01", NULL, &v, &err);
  API_CHECK(rc == 0 && v && strcmp(v->full, "1.2.3-1") == 0);
  hoist_semver_free(v);
  v = NULL;
  reset_err(&err);
  rc = hoist_semver_make(1, 2, 3, NULL, "a..b", &v, &err);
  API_CHECK(rc < 0 && v == NULL && err.msg[0] != '\0');
  reset_err(&err);
  rc = hoist_semver_make(HOIST_SEMVER_MAX_SAFE_INTEGER + 1, 0, 0, NULL, NULL, &v, &err);
  API_CHECK(rc < 0 && v == NULL && err.msg[0] != '\0');
  api_case_done();
}

static void test_range_struct(void)
{
  struct hoist_range *r = NULL;
  struct hoist_err err;
  int rc = hoist_range_parse("1.x || >=2.5.0 || 5.0.0 - 7.2.3", 31, HOIST_SEMVER_LOOSE, &r, &err);
  API_CHECK(rc == 0 && r != NULL);
  if (r) {
    API_CHECK(r->flags == HOIST_SEMVER_LOOSE);
    API_CHECK(r->nsets == 3);
    if (r->nsets == 3) {
      API_CHECK(r->sets[0].n == 2 && r->sets[1].n == 1 && r->sets[2].n == 2);
      API_CHECK(r->sets[0].c[0].op == HOIST_OP_GE && strcmp(r->sets[0].c[0].value, ">=1.0.0") == 0);
      API_CHECK(r->sets[0].c[1].op == HOIST_OP_LT && strcmp(r->sets[0].c[1].value, "<2.0.0-0") == 0);
      API_CHECK(r->sets[2].c[1].op == HOIST_OP_LE && r->sets[2].c[1].v &&
                strcmp(r->sets[2].c[1].v->version, "7.2.3") == 0);
    }
  }
  hoist_range_free(r);
  r = NULL;
  rc = hoist_range_parse("*", 1, 0, &r, &err);
  API_CHECK(rc == 0 && r && r->nsets == 1 && r->sets[0].n == 1 &&
            r->sets[0].c[0].op == HOIST_OP_ANY && r->sets[0].c[0].v == NULL &&
            strcmp(r->formatted, "") == 0);
  hoist_range_free(r);
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
  test_max_length();
  test_err_messages();
  test_lengths();
  test_make();
  test_range_struct();
  printf("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
