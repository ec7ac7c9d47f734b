#include "pathglob.h"

#include <stdlib.h>
#include <string.h>

/* Paths deeper than this are matched on their first MAX_SEGS segments' worth of parents. */
#define MAX_SEGS 1024

struct pat {
  char **seg;      /* cleaned segments; "**" stands alone, consecutive ones merged */
  size_t nseg;
  int negate, dir_only;
};

struct hoist_glob {
  struct pat *p;
  size_t n;
  int negations;
};

struct span {
  const char *s;
  size_t n;
};

static int is_globstar(const char *seg) { return seg[0] == '*' && seg[1] == '*' && !seg[2]; }

/* The byte after a [set] starting at p ('['), or NULL when it is not closed. */
static const char *set_end(const char *p)
{
  p++;
  if (*p == '!' || *p == '^')
    p++;
  if (*p == ']')  /* a leading ']' is a member */
    p++;
  while (*p && *p != ']') {
    if (*p == '\\') {
      if (!p[1])
        return NULL;
      p++;
    }
    p++;
  }
  return *p == ']' ? p + 1 : NULL;
}

/* c is in the [set] at p. */
static int set_has(const char *p, unsigned char c)
{
  int neg = 0, in = 0, first = 1;
  p++;
  if (*p == '!' || *p == '^')
    neg = 1, p++;
  while (*p && (*p != ']' || first)) {
    unsigned char lo, hi;
    first = 0;
    if (*p == '\\')
      p++;
    lo = (unsigned char)*p++;
    hi = lo;
    if (p[0] == '-' && p[1] && p[1] != ']') {
      p++;
      if (*p == '\\')
        p++;
      hi = (unsigned char)*p++;
    }
    if (c >= lo && c <= hi)
      in = 1;
  }
  return in != neg;
}

/* Length of the UTF-8 character at s (1 for a stray byte), at most n. */
static size_t char_len(const char *s, size_t n)
{
  size_t k = 1;
  if ((unsigned char)s[0] >= 0xc0)
    while (k < n && ((unsigned char)s[k] & 0xc0) == 0x80)
      k++;
  return k;
}

/* One pattern segment against one path segment. */
static int seg_match(const char *p, const char *s, size_t n)
{
  const char *star_p = NULL;
  size_t i = 0, star_i = 0;
  while (*p || i < n) {
    if (*p == '*') {
      while (*p == '*')
        p++;
      star_p = p;
      star_i = i;
      continue;
    }
    if (i < n && *p) {
      const char *np = p + 1;
      size_t step = 1;
      int ok;
      if (*p == '?') {
        ok = 1;
        step = char_len(s + i, n - i);
      } else if (*p == '[') {
        np = set_end(p);
        ok = set_has(p, (unsigned char)s[i]);
      } else if (*p == '\\') {
        ok = p[1] == s[i];
        np = p + 2;
      } else {
        ok = *p == s[i];
      }
      if (ok) {
        p = np;
        i += step;
        continue;
      }
    }
    /* backtrack: the last '*' takes one more character */
    if (star_p && star_i < n) {
      star_i += char_len(s + star_i, n - star_i);
      p = star_p;
      i = star_i;
      continue;
    }
    return 0;
  }
  return 1;
}

/*
** Pattern segments from i against path segments from j. Consuming the whole
** pattern before the path's end means a parent folder matched.
*/
static int match_from(const struct pat *p, size_t i, const struct span *s, size_t j, size_t ns,
                      int is_dir)
{
  for (; i < p->nseg; i++, j++) {
    if (is_globstar(p->seg[i])) {
      size_t k;
      for (k = j; k <= ns; k++)
        if (match_from(p, i + 1, s, k, ns, is_dir))
          return 1;
      return 0;
    }
    if (j == ns || !seg_match(p->seg[i], s[j].s, s[j].n))
      return 0;
  }
  if (j < ns)
    return 1;  /* a parent folder */
  return !p->dir_only || is_dir;
}

/* Patterns are anchored at the input's folder, as .dockerignore lines are at the context. */
static int pat_matches(const struct pat *p, const struct span *s, size_t ns, int is_dir)
{
  return match_from(p, 0, s, 0, ns, is_dir);
}

int hoist_glob_excluded(const struct hoist_glob *g, const char *path, int is_dir)
{
  struct span s[MAX_SEGS];
  size_t ns = 0, i;
  const char *q = path;
  int excluded = 0;
  if (!g || !g->n)
    return 0;
  while (*q && ns < MAX_SEGS) {
    const char *e = strchr(q, '/');
    size_t n = e ? (size_t)(e - q) : strlen(q);
    if (n) {
      s[ns].s = q;
      s[ns].n = n;
      ns++;
    }
    q += n;
    while (*q == '/')
      q++;
  }
  if (*q)
    is_dir = 1;  /* cut short: what was kept is a parent folder */
  if (ns == 0)
    return 0;  /* the input's own folder is never excluded */
  for (i = 0; i < g->n; i++)
    if (pat_matches(&g->p[i], s, ns, is_dir))
      excluded = !g->p[i].negate;
  return excluded;
}

int hoist_glob_has_negations(const struct hoist_glob *g) { return g && g->negations; }

static void pat_release(struct pat *p)
{
  size_t i;
  for (i = 0; i < p->nseg; i++)
    free(p->seg[i]);
  free(p->seg);
}

void hoist_glob_free(struct hoist_glob *g)
{
  size_t i;
  if (!g)
    return;
  for (i = 0; i < g->n; i++)
    pat_release(&g->p[i]);
  free(g->p);
  free(g);
}

static int check_segment(const char *seg, const char *pattern, struct hoist_err *err)
{
  const char *p = seg;
  while (*p) {
    if (*p == '[') {
      if (!(p = set_end(p)))
        return hoist_err_set(err, HOIST_EINVAL, "exclude pattern '%s' has an unclosed '['",
                             pattern);
      continue;
    }
    if (*p == '\\' && !*++p)
      return hoist_err_set(err, HOIST_EINVAL, "exclude pattern '%s' ends with '\\'", pattern);
    p++;
  }
  return HOIST_OK;
}

static int compile_one(const char *pattern, struct pat *p, struct hoist_err *err)
{
  const char *q = pattern;
  size_t len;
  memset(p, 0, sizeof *p);
  if (*q == '!')
    p->negate = 1, q++;
  len = strlen(q);
  if (len && q[len - 1] == '/')
    p->dir_only = 1;
  p->seg = calloc(len / 2 + 2, sizeof *p->seg);  /* a segment takes at least one byte and a '/' */
  if (!p->seg)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  while (*q) {
    const char *e = strchr(q, '/');
    size_t n = e ? (size_t)(e - q) : strlen(q);
    char *seg;
    int rc;
    if (n == 0 || (n == 1 && q[0] == '.')) {
      q += n + (e ? 1 : 0);
      continue;
    }
    if (n == 2 && q[0] == '.' && q[1] == '.')
      return hoist_err_set(err, HOIST_EINVAL, "exclude pattern '%s' contains '..'", pattern);
    if (!(seg = strndup(q, n)))
      return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    if ((rc = check_segment(seg, pattern, err)) != HOIST_OK) {
      free(seg);
      return rc;
    }
    q += n + (e ? 1 : 0);
    if (p->nseg && is_globstar(seg) && is_globstar(p->seg[p->nseg - 1])) {
      free(seg);  /* "**" "/" "**" is "**" */
      continue;
    }
    p->seg[p->nseg++] = seg;
  }
  if (p->nseg == 0)
    return hoist_err_set(err, HOIST_EINVAL, "exclude pattern '%s' names no path", pattern);
  return HOIST_OK;
}

int hoist_glob_compile(const char *const *patterns, size_t n, struct hoist_glob **out,
                       struct hoist_err *err)
{
  struct hoist_glob *g;
  size_t i;
  *out = NULL;
  g = calloc(1, sizeof *g);
  if (!g || (n && !(g->p = calloc(n, sizeof *g->p)))) {
    free(g);
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  for (i = 0; i < n; i++) {
    int rc = compile_one(patterns[i], &g->p[i], err);
    g->n = i + 1;  /* pat i is released with the rest, even half made */
    if (rc) {
      hoist_glob_free(g);
      return rc;
    }
    g->negations |= g->p[i].negate;
  }
  *out = g;
  return HOIST_OK;
}
