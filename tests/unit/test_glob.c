/*
** test_glob: the exclude matcher (host/core/image/pathglob.c) against tests/unit/cases/glob.txt.
**
**   test_glob CASES_DIR
**
** The case file's header says how a case is written. Prints each failure as
** glob.txt:LINE, then "N passed, M failed"; exits 1 on any failure or when
** the file holds no case.
*/
#include "err.h"
#include "pathglob.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 16

static int n_passed, n_failed;

struct field {
  char *s;  /* unescaped, NUL-terminated */
  size_t n;
};

struct ctx {
  int line;
  int failed;
};

static void failf(struct ctx *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failf(struct ctx *cx, const char *fmt, ...)
{
  va_list ap;
  cx->failed++;
  printf("glob.txt:%d: ", cx->line);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
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

/* \s \t \xHH \\ and "" (the empty string); -1 on a bad escape. */
static int unescape(const char *raw, size_t n, struct field *f)
{
  size_t i, o = 0;
  f->s = malloc(n + 1);
  if (!f->s)
    return -1;
  if (n == 2 && raw[0] == '"' && raw[1] == '"') {
    f->s[0] = '\0';
    f->n = 0;
    return 0;
  }
  for (i = 0; i < n; i++) {
    if (raw[i] != '\\') {
      f->s[o++] = raw[i];
      continue;
    }
    if (++i >= n)
      return -1;
    switch (raw[i]) {
    case 's': f->s[o++] = ' '; break;
    case 't': f->s[o++] = '\t'; break;
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

/* Compiles pats and asks about path; -1 when the patterns do not compile. */
static int verdict(struct ctx *cx, const char *const *pats, size_t n, const char *path, int is_dir)
{
  struct hoist_glob *g = NULL;
  struct hoist_err err;
  int v;
  if (hoist_glob_compile(pats, n, &g, &err) != HOIST_OK) {
    failf(cx, "does not compile: %s", err.msg);
    return -1;
  }
  v = hoist_glob_excluded(g, path, is_dir);
  hoist_glob_free(g);
  return v;
}

static void run_case(struct ctx *cx, struct field *f, size_t nf)
{
  const char *pats[MAX_FIELDS], *rev[MAX_FIELDS];
  size_t np, i;
  int negations = 0;

  if (nf >= 2 && strcmp(f[0].s, "!") == 0) {
    struct hoist_glob *g = (struct hoist_glob *)cx;
    struct hoist_err err;
    int rc;
    for (i = 2; i < nf; i++)
      pats[i - 2] = f[i].s;
    memset(&err, 0, sizeof err);
    rc = hoist_glob_compile(pats, nf - 2, &g, &err);
    if (rc != HOIST_EINVAL || err.code != HOIST_EINVAL || g != NULL)
      failf(cx, "compiled (rc %d), expected an error", rc);
    else if (!strstr(err.msg, f[1].s))
      failf(cx, "error \"%s\" does not say \"%s\"", err.msg, f[1].s);
    return;
  }
  if (nf < 3 || (strcmp(f[0].s, "x") != 0 && strcmp(f[0].s, "-") != 0) ||
      (strcmp(f[2].s, "f") != 0 && strcmp(f[2].s, "d") != 0)) {
    failf(cx, "malformed case");
    return;
  }
  np = nf - 3;
  for (i = 0; i < np; i++) {
    pats[i] = f[3 + i].s;
    rev[np - 1 - i] = f[3 + i].s;
    negations |= pats[i][0] == '!';
  }
  {
    int want = f[0].s[0] == 'x', is_dir = f[2].s[0] == 'd';
    int got = verdict(cx, pats, np, f[1].s, is_dir);
    if (got >= 0 && got != want)
      failf(cx, "'%s' is %s, expected %s", f[1].s, got ? "excluded" : "kept",
            want ? "excluded" : "kept");
    if (negations)
      return;
    /* without '!', order does not matter, and what is in an excluded path goes too */
    got = verdict(cx, rev, np, f[1].s, is_dir);
    if (got >= 0 && got != want)
      failf(cx, "with the patterns reversed, '%s' is %s", f[1].s, got ? "excluded" : "kept");
    if (want && f[1].n) {
      char inner[4200];
      snprintf(inner, sizeof inner, "%s/x", f[1].s);
      if (verdict(cx, pats, np, inner, 0) != 1)
        failf(cx, "'%s' is kept in an excluded path", inner);
    }
  }
}

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
  fclose(fp);
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* API edges the case file cannot express. */
static void test_api(void)
{
  struct hoist_glob *g = NULL;
  struct hoist_err err;
  const char *pats[] = { "a", "!b" };
  int failed = 0;
  failed |= hoist_glob_excluded(NULL, "a", 0) != 0;
  failed |= hoist_glob_has_negations(NULL) != 0;
  hoist_glob_free(NULL);
  if (hoist_glob_compile(pats, 1, &g, &err) != HOIST_OK)
    failed = 1;
  else
    failed |= hoist_glob_has_negations(g) != 0 || hoist_glob_excluded(g, "a", 0) != 1;
  hoist_glob_free(g);
  if (hoist_glob_compile(pats, 2, &g, &err) != HOIST_OK)
    failed = 1;
  else
    failed |= hoist_glob_has_negations(g) != 1;
  hoist_glob_free(g);
  /* a path deeper than the matcher splits: still answered, as a folder's content */
  {
    static char deep[3 * 1100 + 8];
    const char *star[] = { "/a" };
    size_t i, o = 0;
    for (i = 0; i < 1100; i++) {
      deep[o++] = 'a';
      deep[o++] = '/';
    }
    deep[o++] = 'z';
    deep[o] = '\0';
    if (hoist_glob_compile(star, 1, &g, &err) != HOIST_OK)
      failed = 1;
    else
      failed |= hoist_glob_excluded(g, deep, 0) != 1 || hoist_glob_excluded(g, deep + 2, 0) != 1;
    hoist_glob_free(g);
  }
  if (failed) {
    printf("test_glob.c: API edge cases failed\n");
    n_failed++;
  } else {
    n_passed++;
  }
}

int main(int argc, char **argv)
{
  char path[4096];
  size_t len, pos = 0;
  char *text;
  int lineno = 0, ncases = 0;
  if (argc < 2) {
    printf("usage: test_glob CASES_DIR\n");
    return 2;
  }
  snprintf(path, sizeof path, "%s/glob.txt", argv[1]);
  text = read_file(path, &len);
  if (!text) {
    printf("%s: cannot read\n", path);
    return 1;
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
    if (ll == 0 || line[0] == '#')
      continue;
    cx.line = lineno;
    cx.failed = 0;
    for (i = 0; i <= ll && !bad; i++) {
      if (i < ll && line[i] != '\t')
        continue;
      if (nf == MAX_FIELDS || unescape(line + start, i - start, &f[nf]) < 0) {
        if (nf < MAX_FIELDS)
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
      run_case(&cx, f, nf);
    if (cx.failed)
      n_failed++;
    else
      n_passed++;
    for (i = 0; i < nf; i++)
      free(f[i].s);
  }
  free(text);
  test_api();
  if (ncases == 0) {
    printf("glob.txt: no cases\n");
    return 1;
  }
  printf("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
