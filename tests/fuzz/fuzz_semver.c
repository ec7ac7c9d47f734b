/*
** fuzz_semver: libFuzzer target for the semver core.
**
** The input is split at its first NUL or newline into a version part and a
** range part (without a separator both are the whole input). Each part is
** copied to a buffer of exactly its length, so reads past len are caught,
** and run through every function of semver.h under all eight flag
** combinations. Besides crashes, leaks and UB, the target aborts when one of
** node-semver's invariants breaks:
**   - a parsed version's canonical form parses again to an equal version,
**     and hoist_semver_parse_in and hoist_semver_make agree with it;
**   - compare and compare_build are antisymmetric, diff is symmetric;
**   - a range's formatted form parses again, and a second round is a fixed
**     point (node's first round is not always one);
**   - a range's min version satisfies the range.
*/
#include "semver.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const releases[] = {
  "major", "minor", "patch", "premajor", "preminor", "prepatch", "prerelease", "release", "pre", "",
};

static void broken(const char *what, const char *a, const char *b)
{
  fprintf(stderr, "fuzz_semver: invariant broken: %s ('%s', '%s')\n", what, a ? a : "(null)",
          b ? b : "(null)");
  abort();
}

static int sign(int x)
{
  return (x > 0) - (x < 0);
}

static char *copy(const uint8_t *p, size_t n)
{
  char *s = malloc(n ? n : 1);
  if (s && n)
    memcpy(s, p, n);
  return s;
}

/* A NUL-terminated copy of at most max bytes, for use as an inc identifier. */
static char *cstr(const uint8_t *p, size_t n, size_t max)
{
  char *s;
  if (n > max)
    n = max;
  s = malloc(n + 1);
  if (!s)
    return NULL;
  if (n)
    memcpy(s, p, n);
  s[n] = '\0';
  return s;
}

static void check_pair(const struct hoist_semver *a, const struct hoist_semver *b)
{
  const char *d1, *d2;
  if (!a || !b)
    return;
  if (sign(hoist_semver_compare(a, b)) != -sign(hoist_semver_compare(b, a)))
    broken("compare is not antisymmetric", a->full, b->full);
  if (sign(hoist_semver_compare_build(a, b)) != -sign(hoist_semver_compare_build(b, a)))
    broken("compare_build is not antisymmetric", a->full, b->full);
  if (hoist_semver_compare(a, b) != 0 && hoist_semver_compare_build(a, b) != hoist_semver_compare(a, b))
    broken("compare_build disagrees with compare", a->full, b->full);
  d1 = hoist_semver_diff(a, b);
  d2 = hoist_semver_diff(b, a);
  if ((d1 == NULL) != (d2 == NULL) || (d1 && strcmp(d1, d2) != 0))
    broken("diff is not symmetric", a->full, b->full);
  if ((d1 == NULL) != (hoist_semver_compare(a, b) == 0))
    broken("diff is null but compare is not 0", a->full, b->full);
}

static void check_version(const struct hoist_semver *v, int flags)
{
  union {
    max_align_t align;
    char bytes[2048];
  } block;
  struct hoist_semver *again = NULL, *in = NULL, *made = NULL;
  struct hoist_err err;
  const char *dash, *plus;
  char *pre = NULL;
  int rc;

  if (hoist_semver_compare(v, v) != 0 || hoist_semver_compare_build(v, v) != 0)
    broken("a version differs from itself", v->full, NULL);
  if (strlen(v->full) != v->full_len || strlen(v->version) != v->version_len)
    broken("length fields disagree with the strings", v->full, v->version);

  rc = hoist_semver_parse(v->full, v->full_len, flags, &again, &err);
  if (rc != 0 || !again)
    broken("canonical form does not parse again", v->full, err.msg);
  if (hoist_semver_compare_build(v, again) != 0 || strcmp(v->full, again->full) != 0)
    broken("canonical form parses to another version", v->full, again->full);
  hoist_semver_free(again);

  rc = hoist_semver_parse_in(v->full, v->full_len, flags, &block, sizeof block, &in, &err);
  if (rc == 0 && (!in || strcmp(in->full, v->full) != 0))
    broken("parse_in disagrees with parse", v->full, in ? in->full : NULL);

  /* rebuild from the parts: "M.m.p" then pre after the first '-', build after '+' */
  dash = memchr(v->version, '-', v->version_len);
  plus = memchr(v->full, '+', v->full_len);
  if (dash)
    pre = cstr((const uint8_t *)dash + 1, v->version_len - (size_t)(dash + 1 - v->version),
               v->version_len);
  if (!dash || pre) {
    rc = hoist_semver_make(v->major, v->minor, v->patch, pre, plus ? plus + 1 : NULL, &made, &err);
    if (rc != 0 || !made)
      broken("make from the parts fails", v->full, err.msg);
    if (strcmp(made->full, v->full) != 0)
      broken("make from the parts gives another version", v->full, made->full);
    hoist_semver_free(made);
  }
  free(pre);
}

static void exercise_inc(const struct hoist_semver *v, const char *ident, int flags)
{
  /* below 2^53-1 every increment stays a parsable number (node's too) */
  int small = v->major < HOIST_SEMVER_MAX_SAFE_INTEGER && v->minor < HOIST_SEMVER_MAX_SAFE_INTEGER &&
              v->patch < HOIST_SEMVER_MAX_SAFE_INTEGER;
  size_t i;
  int base;
  for (i = 0; i < sizeof releases / sizeof releases[0]; i++) {
    for (base = -1; base <= 1; base++) {
      const char *ids[3] = { NULL, "beta", ident };
      size_t k;
      for (k = 0; k < 3; k++) {
        struct hoist_err err;
        char *out = NULL;
        int rc = hoist_semver_inc(v, releases[i], ids[k], base, flags, &out, &err);
        if (rc == 0) {
          struct hoist_semver *w = NULL;
          if (!out)
            broken("inc succeeded without a result", v->full, releases[i]);
          /* node's inc result is a valid version for the same options when short enough */
          if (small && strlen(out) <= HOIST_SEMVER_MAX_LENGTH &&
              hoist_semver_parse(out, strlen(out), flags, &w, &err) != 0)
            broken("inc result does not parse", v->full, out);
          hoist_semver_free(w);
        } else if (out) {
          broken("inc failed but returned a result", v->full, releases[i]);
        }
        free(out);
      }
    }
  }
}

static void check_range(const struct hoist_range *r, int flags, const struct hoist_semver *v,
                        const struct hoist_semver *co)
{
  struct hoist_range *again = NULL, *third = NULL;
  struct hoist_semver *m = NULL;
  struct hoist_err err;
  size_t i, k;
  int rc;

  for (i = 0; i < r->nsets; i++)
    for (k = 0; k < r->sets[i].n; k++) {
      const struct hoist_comparator *c = &r->sets[i].c[k];
      if (!c->value || ((c->op == HOIST_OP_ANY) != (c->v == NULL)))
        broken("malformed comparator", r->formatted, c->value);
    }
  if (v)
    (void)hoist_range_test(r, v);
  if (co)
    (void)hoist_range_test(r, co);

  /*
  ** node's normal form parses again, but is not always a fixed point: loose
  ** "00.x" gives ">=0.0.0 <1.0.0-0", which then drops ">=0.0.0". A second
  ** round is one.
  */
  rc = hoist_range_parse(r->formatted, strlen(r->formatted), flags, &again, &err);
  if (rc != 0 || !again)
    broken("formatted range does not parse again", r->formatted, err.msg);
  rc = hoist_range_parse(again->formatted, strlen(again->formatted), flags, &third, &err);
  if (rc != 0 || !third)
    broken("formatted range does not parse a second time", again->formatted, err.msg);
  if (strcmp(third->formatted, again->formatted) != 0)
    broken("formatting twice is not a fixed point", again->formatted, third->formatted);
  hoist_range_free(again);
  hoist_range_free(third);

  rc = hoist_range_min_version(r, &m, &err);
  if (rc == 0 && m && !hoist_range_test(r, m))
    broken("min version does not satisfy the range", r->formatted, m->full);
  if (rc != 0 && m)
    broken("min_version failed but returned a version", r->formatted, m->full);
  hoist_semver_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  size_t cut = 0, vlen, rlen;
  const uint8_t *rpart;
  char *vs, *rs, *ident;
  int flags;

  while (cut < size && data[cut] != '\0' && data[cut] != '\n')
    cut++;
  if (cut < size) {
    vlen = cut;
    rpart = data + cut + 1;
    rlen = size - cut - 1;
  } else {
    vlen = size;
    rpart = data;
    rlen = size;
  }
  vs = copy(data, vlen);
  rs = copy(rpart, rlen);
  ident = cstr(rpart, rlen, 32);
  if (!vs || !rs || !ident)
    goto out;

  for (flags = 0; flags < 8; flags++) {
    struct hoist_semver *v = NULL, *cl = NULL, *co = NULL, *rv = NULL;
    struct hoist_range *r = NULL;
    struct hoist_err err;

    if (hoist_semver_parse(vs, vlen, flags, &v, &err) != 0 && v)
      broken("parse failed but returned a version", NULL, NULL);
    if (hoist_semver_clean(vs, vlen, flags, &cl, &err) != 0 && cl)
      broken("clean failed but returned a version", NULL, NULL);
    if (hoist_semver_coerce(vs, vlen, flags, &co, &err) != 0 && co)
      broken("coerce failed but returned a version", NULL, NULL);
    (void)hoist_semver_parse(rs, rlen, flags, &rv, &err);
    if (hoist_range_parse(rs, rlen, flags, &r, &err) != 0 && r)
      broken("range parse failed but returned a range", NULL, NULL);

    if (v) {
      check_version(v, flags);
      exercise_inc(v, ident, flags);
      /* node: anything parse accepts, clean accepts as the same version */
      if (!cl || hoist_semver_compare(v, cl) != 0)
        broken("clean rejects or changes a parsable version", v->full, cl ? cl->full : NULL);
    }
    if (cl)
      check_version(cl, flags);
    if (co)
      check_version(co, flags);
    check_pair(v, cl);
    check_pair(v, co);
    check_pair(v, rv);
    check_pair(co, rv);
    if (r)
      check_range(r, flags, v, co);

    hoist_semver_free(v);
    hoist_semver_free(cl);
    hoist_semver_free(co);
    hoist_semver_free(rv);
    hoist_range_free(r);
  }
out:
  free(vs);
  free(rs);
  free(ident);
  return 0;
}
