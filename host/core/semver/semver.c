/*
** semver.c: node-semver 7 semantics without regular expressions.
**
** node-semver parses with backtracking regexes and rewrites range strings in
** several passes. Each matcher here reproduces one of those regexes (the
** "safe" variants node uses, with their length limits) by a greedy scan;
** comments note where a backtracking step changes the result and how it is
** reproduced. The range pipeline keeps node's order of rewrites, because the
** rewrites interact (e.g. "~> 1.2" becomes "~1.2" before tilde expansion).
**
** This file holds versions: parse, compare, clean, coerce, inc, diff. Ranges
** are in semver_range.c, the shared scanners in semver_scan.c.
*/
#include "semver.h"
#include "semver_scan.h"

#include "strbuf.h"

#include <stdlib.h>
#include <string.h>

static int id_is_numeric(const char *s, size_t len)
{
  size_t i;
  if (len == 0)
    return 0;
  for (i = 0; i < len; i++)
    if (!is_digit(s[i]))
      return 0;
  return 1;
}

/* Counts dot-separated parts of s[0..n). */
static size_t count_parts(const char *s, size_t n)
{
  size_t i, c = 1;
  if (n == 0)
    return 0;
  for (i = 0; i < n; i++)
    if (s[i] == '.')
      c++;
  return c;
}

/* Fills ids from dot-separated text; numeric ids below 2^53-1 get their value. */
static char *fill_ids(struct hoist_semver_id *ids, const char *s, size_t n, char *arena,
                      int numify)
{
  size_t i = 0, k = 0;
  while (i <= n && n > 0) {
    size_t j = i;
    struct hoist_semver_id *id = &ids[k++];
    while (j < n && s[j] != '.')
      j++;
    id->numeric = id_is_numeric(s + i, j - i);
    id->big = 0;
    id->num = 0;
    if (id->numeric) {
      uint64_t v;
      if (sv_to_u64(s + i, j - i, &v) == HOIST_OK && v < MAX_SAFE)
        id->num = v;
      else
        id->big = 1;
    }
    if (numify && id->numeric && !id->big) {
      /* node turns "01" into the number 1: print it canonically */
      int len = 0;
      char tmp[24];
      uint64_t v = id->num;
      do {
        tmp[len++] = (char)('0' + v % 10);
        v /= 10;
      } while (v);
      id->str = arena;
      while (len)
        *arena++ = tmp[--len];
    } else {
      id->str = arena;
      memcpy(arena, s + i, j - i);
      arena += j - i;
    }
    id->len = (uint32_t)(arena - id->str);
    *arena++ = '\0';
    i = j + 1;
  }
  return arena;
}

static char *put_u64(char *p, uint64_t v)
{
  char tmp[24];
  int len = 0;
  do {
    tmp[len++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (len)
    *p++ = tmp[--len];
  return p;
}

/* Builds the object from a match: one allocation holding ids and strings. */
static size_t u64_digits(uint64_t v)
{
  size_t d = 1;
  while (v >= 10) {
    v /= 10;
    d++;
  }
  return d;
}

/*
** Builds the object from a match: one block holding ids and strings, placed
** in buf when it fits (cap bytes), else malloc'd (buf NULL). HOIST_ERANGE
** when a buf was given and is too small.
*/
static int build_version(const char *s, const struct vmatch *m, struct hoist_semver **out,
                         struct hoist_err *err, const char *orig, size_t orig_len,
                         void *buf, size_t cap, int no_text)
{
  uint64_t major, minor, patch;
  size_t npre = count_parts(s + m->t.pre_s, m->t.pre_e - m->t.pre_s);
  size_t nbuild = count_parts(s + m->t.bld_s, m->t.bld_e - m->t.bld_s);
  size_t prelen = m->t.pre_e - m->t.pre_s, bldlen = m->t.bld_e - m->t.bld_s;
  size_t size, i;
  struct hoist_semver *v;
  char *arena, *p;

  if (sv_to_u64(s + m->maj_s, m->maj_e - m->maj_s, &major))
    return hoist_err_set(err, HOIST_EINVAL, "invalid major version in '%.*s'", (int)orig_len, orig);
  if (sv_to_u64(s + m->min_s, m->min_e - m->min_s, &minor))
    return hoist_err_set(err, HOIST_EINVAL, "invalid minor version in '%.*s'", (int)orig_len, orig);
  if (sv_to_u64(s + m->pat_s, m->pat_e - m->pat_s, &patch))
    return hoist_err_set(err, HOIST_EINVAL, "invalid patch version in '%.*s'", (int)orig_len, orig);

  /* struct, ids, id strings, then "M.m.p-pre" and "M.m.p-pre+build" */
  i = u64_digits(major) + u64_digits(minor) + u64_digits(patch) + 2 + (prelen ? prelen + 1 : 0);
  if (no_text)
    i = 0;
  size = sizeof *v + (npre + nbuild) * sizeof(struct hoist_semver_id) + (prelen + 1 + npre) +
         (bldlen + 1 + nbuild) + 2 * (i + 1) + bldlen + 1;
  if (buf) {
    if (size > cap)
      return HOIST_ERANGE;
    v = buf;
  } else {
    v = malloc(size);
    if (!v)
      return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  v->size = size;
  v->major = major;
  v->minor = minor;
  v->patch = patch;
  v->npre = npre;
  v->nbuild = nbuild;
  v->pre = (struct hoist_semver_id *)(v + 1);
  v->build = v->pre + npre;
  arena = (char *)(v->build + nbuild);
  arena = fill_ids(v->pre, s + m->t.pre_s, prelen, arena, 1);
  arena = fill_ids(v->build, s + m->t.bld_s, bldlen, arena, 0);

  if (no_text) {
    v->version = v->full = "";
    v->version_len = v->full_len = 0;
    *out = v;
    return HOIST_OK;
  }
  p = arena;
  v->version = p;
  p = put_u64(p, major);
  *p++ = '.';
  p = put_u64(p, minor);
  *p++ = '.';
  p = put_u64(p, patch);
  for (i = 0; i < npre; i++) {
    *p++ = i ? '.' : '-';
    memcpy(p, v->pre[i].str, v->pre[i].len);
    p += v->pre[i].len;
  }
  v->version_len = (size_t)(p - v->version);
  *p++ = '\0';
  v->full = p;
  memcpy(p, v->version, v->version_len);
  p += v->version_len;
  if (bldlen) {
    *p++ = '+';
    memcpy(p, s + m->t.bld_s, bldlen);
    p += bldlen;
  }
  v->full_len = (size_t)(p - v->full);
  *p = '\0';
  *out = v;
  return HOIST_OK;
}

static int parse_version(const char *s, size_t len, int flags, struct hoist_semver **out,
                         struct hoist_err *err, void *buf, size_t cap)
{
  struct vmatch m;
  const char *t = s;
  size_t n = len;

  *out = NULL;
  /* UTF-16 length <= bytes, so only long inputs need counting */
  if (len > MAX_LENGTH && (len > 4 * MAX_LENGTH || sv_js_length(s, len) > MAX_LENGTH))
    return hoist_err_set(err, HOIST_EINVAL, "version is longer than %d characters", MAX_LENGTH);
  sv_trim(&t, &n);
  if (!sv_match_version(t, n, flags & HOIST_SEMVER_LOOSE, &m))
    return hoist_err_set(err, HOIST_EINVAL, "invalid version '%.*s'", (int)len, s);
  return build_version(t, &m, out, err, s, len, buf, cap, flags & HOIST_SEMVER_NO_TEXT);
}

int hoist_semver_parse(const char *s, size_t len, int flags, struct hoist_semver **out,
                       struct hoist_err *err)
{
  return parse_version(s, len, flags, out, err, NULL, 0);
}

int hoist_semver_parse_in(const char *s, size_t len, int flags, void *buf, size_t cap,
                          struct hoist_semver **out, struct hoist_err *err)
{
  return parse_version(s, len, flags, out, err, buf, cap);
}

void hoist_semver_free(struct hoist_semver *v)
{
  free(v);
}

int hoist_semver_make(uint64_t major, uint64_t minor, uint64_t patch, const char *pre,
                      const char *build, struct hoist_semver **out, struct hoist_err *err)
{
  struct strbuf sb;
  int rc;
  strbuf_init(&sb, 4 * MAX_LENGTH);
  rc = strbuf_addf(&sb, "%llu.%llu.%llu", (unsigned long long)major, (unsigned long long)minor,
                   (unsigned long long)patch);
  if (!rc && pre && *pre)
    rc = strbuf_addf(&sb, "-%s", pre);
  if (!rc && build && *build)
    rc = strbuf_addf(&sb, "+%s", build);
  if (rc) {
    strbuf_release(&sb);
    *out = NULL;
    return hoist_err_set(err, rc, "version too long");
  }
  rc = hoist_semver_parse(sb.buf, sb.len, HOIST_SEMVER_LOOSE, out, err);
  strbuf_release(&sb);
  return rc;
}

/* ------------------------------------------------------------ compare */

static int cmp_u64(uint64_t a, uint64_t b)
{
  return a < b ? -1 : a > b ? 1 : 0;
}

static int cmp_big_digits(const char *a, size_t an, const char *b, size_t bn)
{
  int c;
  while (an > 1 && *a == '0') {
    a++;
    an--;
  }
  while (bn > 1 && *b == '0') {
    b++;
    bn--;
  }
  if (an != bn)
    return an < bn ? -1 : 1;
  c = memcmp(a, b, an);
  return c < 0 ? -1 : c > 0;
}

/* node's compareIdentifiers: numbers below strings, numbers by value, strings by code unit. */
static int cmp_id(const struct hoist_semver_id *a, const struct hoist_semver_id *b)
{
  int c;
  size_t n;
  if (a->numeric && b->numeric) {
    if (!a->big && !b->big)
      return cmp_u64(a->num, b->num);
    return cmp_big_digits(a->str, a->len, b->str, b->len);
  }
  if (a->numeric)
    return -1;
  if (b->numeric)
    return 1;
  n = a->len < b->len ? a->len : b->len;
  c = memcmp(a->str, b->str, n);
  if (c)
    return c < 0 ? -1 : 1;
  return a->len == b->len ? 0 : a->len < b->len ? -1 : 1;
}

/*
** node's `a === b`: prerelease numbers are canonical text here, and build
** identifiers stay strings in node, so "0" and "00" are not identical (but
** compareIdentifiers then calls them equal, and node stops there).
*/
static int same_id(const struct hoist_semver_id *a, const struct hoist_semver_id *b)
{
  return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
}

/* node returns compareIdentifiers at the first non-identical pair, even when that is 0. */
static int cmp_id_lists(const struct hoist_semver_id *a, size_t an, const struct hoist_semver_id *b,
                        size_t bn)
{
  size_t i;
  for (i = 0;; i++) {
    if (i >= an && i >= bn)
      return 0;
    if (i >= bn)
      return 1;
    if (i >= an)
      return -1;
    if (!same_id(&a[i], &b[i]))
      return cmp_id(&a[i], &b[i]);
  }
}

static int cmp_main(const struct hoist_semver *a, const struct hoist_semver *b)
{
  int c = cmp_u64(a->major, b->major);
  if (!c)
    c = cmp_u64(a->minor, b->minor);
  if (!c)
    c = cmp_u64(a->patch, b->patch);
  return c;
}

static int cmp_pre(const struct hoist_semver *a, const struct hoist_semver *b)
{
  if (a->npre && !b->npre)
    return -1;
  if (!a->npre && b->npre)
    return 1;
  if (!a->npre && !b->npre)
    return 0;
  return cmp_id_lists(a->pre, a->npre, b->pre, b->npre);
}

int hoist_semver_compare(const struct hoist_semver *a, const struct hoist_semver *b)
{
  /* node first checks the strings for equality; equal strings compare 0 below too */
  int c = cmp_main(a, b);
  return c ? c : cmp_pre(a, b);
}

int hoist_semver_compare_build(const struct hoist_semver *a, const struct hoist_semver *b)
{
  int c = hoist_semver_compare(a, b);
  return c ? c : cmp_id_lists(a->build, a->nbuild, b->build, b->nbuild);
}

/* ------------------------------------------------------ clean, coerce */

int hoist_semver_clean(const char *s, size_t len, int flags, struct hoist_semver **out,
                       struct hoist_err *err)
{
  const char *t = s;
  size_t n = len;
  sv_trim(&t, &n);
  while (n > 0 && (*t == '=' || *t == 'v')) {
    t++;
    n--;
  }
  return hoist_semver_parse(t, n, flags, out, err);
}

struct cmatch {
  size_t index;      /* where the match starts (the non-digit before major, if any) */
  size_t end;        /* end of the whole match, including the closing non-digit */
  size_t after_major;
  size_t maj_s, maj_e, min_s, min_e, pat_s, pat_e;
  struct tail t;
};

#define COERCE_DIGITS 16

/* End of one UTF-8 character for `[^\d]`; a 4-byte one is two code units in JS, of which one matches. */
static size_t one_char_end(const char *s, size_t q, size_t n)
{
  unsigned char c = (unsigned char)s[q];
  size_t k = c < 0x80 ? 1 : c >= 0xF0 ? 1 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  return q + k > n ? n : q + k;
}

/* Largest e in [lo, hi] where s[e] is not a digit (or e == n); NPOS when none. */
static size_t last_nondigit_stop(const char *s, size_t lo, size_t hi, size_t n)
{
  size_t e;
  for (e = hi; e >= lo && e != NPOS; e--)
    if (e >= n || !is_digit(s[e]))
      return e;
  return NPOS;
}

/*
** One prerelease identifier as COERCEFULL's unanchored regex takes it. The
** regex ends with (?:$|[^\d]), so where the identifier's length limits cut a
** run short, it backs up to a point not followed by a digit; NONNUMERIC is
** tried before NUMERIC. Returns the end, or NPOS.
*/
static size_t coerce_pre_id(const char *s, size_t j, size_t n)
{
  size_t run = sv_id_run(s, j, n), d = j;
  while (d < run && is_digit(s[d]))
    d++;
  if (run == j)
    return NPOS;
  if (d < run && d - j <= MAX_LENGTH) {
    size_t hi = run < d + 1 + MAX_SAFE_BUILD_LENGTH ? run : d + 1 + MAX_SAFE_BUILD_LENGTH;
    size_t e = last_nondigit_stop(s, d + 1, hi, n);
    if (e != NPOS)
      return e;
  }
  if (!is_digit(s[j]))
    return NPOS;
  if (s[j] == '0')
    return (j + 1 >= n || !is_digit(s[j + 1])) ? j + 1 : NPOS;
  return (d - j <= MAX_LENGTH + 1 && (d >= n || !is_digit(s[d]))) ? d : NPOS;
}

static size_t coerce_build_id(const char *s, size_t j, size_t n)
{
  size_t run = sv_id_run(s, j, n);
  size_t hi = run < j + MAX_SAFE_BUILD_LENGTH ? run : j + MAX_SAFE_BUILD_LENGTH;
  if (run == j)
    return NPOS;
  return last_nondigit_stop(s, j + 1, hi, n);
}

/* (?:PRERELEASE)?(?:BUILD)? inside COERCEFULL, where the match may stop early. */
static size_t coerce_tail(const char *s, size_t p, size_t n, struct tail *t)
{
  size_t e, f;
  t->pre_s = t->pre_e = p;
  if (p < n && s[p] == '-' && (e = coerce_pre_id(s, p + 1, n)) != NPOS) {
    while (e < n && s[e] == '.' && (f = coerce_pre_id(s, e + 1, n)) != NPOS)
      e = f;
    t->pre_s = p + 1;
    t->pre_e = e;
    p = e;
  }
  t->bld_s = t->bld_e = p;
  if (p < n && s[p] == '+' && (e = coerce_build_id(s, p + 1, n)) != NPOS) {
    while (e < n && s[e] == '.' && (f = coerce_build_id(s, e + 1, n)) != NPOS)
      e = f;
    t->bld_s = p + 1;
    t->bld_e = e;
    p = e;
  }
  return p;
}

/*
** COERCE / COERCEFULL tried at position i: (^|[^\d])(\d{1,16})(?:\.(\d{1,16}))?
** (?:\.(\d{1,16}))? [PRERELEASE BUILD] (?:$|[^\d]). A number can only be
** taken whole: a shorter take leaves a digit where '.', a non-digit or the
** end must follow. So a run longer than 16 digits never matches, and a
** minor that is too long also rules out the patch.
*/
static int coerce_at(const char *s, size_t n, size_t i, int full, struct cmatch *m)
{
  size_t ms, e, p, q;
  if (i == 0 && n > 0 && is_digit(s[0]))
    ms = 0;
  else if (i < n && !is_digit(s[i]))
    ms = i + 1;
  else
    return 0;
  e = sv_digit_run(s, ms, n);
  if (e == ms || e - ms > COERCE_DIGITS)
    return 0;
  memset(m, 0, sizeof *m);
  m->index = i;
  m->maj_s = ms;
  m->maj_e = e;
  m->after_major = e;
  m->min_s = m->min_e = m->pat_s = m->pat_e = e;
  p = e;
  if (p + 1 < n && s[p] == '.') {
    size_t f = sv_digit_run(s, p + 1, n);
    if (f > p + 1 && f - p - 1 <= COERCE_DIGITS) {
      m->min_s = p + 1;
      m->min_e = f;
      p = f;
      if (p + 1 < n && s[p] == '.') {
        size_t g = sv_digit_run(s, p + 1, n);
        if (g > p + 1 && g - p - 1 <= COERCE_DIGITS) {
          m->pat_s = p + 1;
          m->pat_e = g;
          p = g;
        }
      }
    }
  }
  if (full) {
    q = coerce_tail(s, p, n, &m->t);
  } else {
    q = p;
    m->t.pre_s = m->t.pre_e = m->t.bld_s = m->t.bld_e = p;
  }
  if (q < n && is_digit(s[q]))
    return 0;  /* cannot happen for whole runs; kept as the regex's end check */
  m->end = q == n ? n : one_char_end(s, q, n);
  return 1;
}

static int coerce_exec(const char *s, size_t n, size_t from, int full, struct cmatch *m)
{
  size_t i;
  for (i = from; i < n; i++)
    if (coerce_at(s, n, i, full, m))
      return 1;
  return 0;
}

int hoist_semver_coerce(const char *s, size_t len, int flags, struct hoist_semver **out,
                        struct hoist_err *err)
{
  struct cmatch match, next;
  int have = 0, full = flags & HOIST_SEMVER_INCLUDE_PRERELEASE;
  struct strbuf sb;
  int rc;

  *out = NULL;
  if (!(flags & HOIST_SEMVER_RTL)) {
    have = coerce_exec(s, len, 0, full, &match);
  } else {
    size_t last = 0;
    /* node's loop: keep the rightmost candidate, resuming after each major */
    while (coerce_exec(s, len, last, full, &next) && (!have || match.end != len)) {
      if (!have || next.end != match.end) {
        match = next;
        have = 1;
      }
      last = next.after_major;
    }
  }
  if (!have)
    return HOIST_OK;
  strbuf_init(&sb, WORK_MAX);
  rc = strbuf_add(&sb, s + match.maj_s, match.maj_e - match.maj_s);
  if (!rc)
    rc = strbuf_addch(&sb, '.');
  if (!rc && match.min_e > match.min_s)
    rc = strbuf_add(&sb, s + match.min_s, match.min_e - match.min_s);
  else if (!rc)
    rc = strbuf_addch(&sb, '0');
  if (!rc)
    rc = strbuf_addch(&sb, '.');
  if (!rc && match.pat_e > match.pat_s)
    rc = strbuf_add(&sb, s + match.pat_s, match.pat_e - match.pat_s);
  else if (!rc)
    rc = strbuf_addch(&sb, '0');
  if (!rc && full && match.t.pre_e > match.t.pre_s) {
    rc = strbuf_addch(&sb, '-');
    if (!rc)
      rc = strbuf_add(&sb, s + match.t.pre_s, match.t.pre_e - match.t.pre_s);
  }
  if (!rc && full && match.t.bld_e > match.t.bld_s) {
    rc = strbuf_addch(&sb, '+');
    if (!rc)
      rc = strbuf_add(&sb, s + match.t.bld_s, match.t.bld_e - match.t.bld_s);
  }
  if (rc) {
    strbuf_release(&sb);
    return hoist_err_set(err, rc, "out of memory");
  }
  /* node parses the coerced text and answers null when that fails (e.g. "01.2.3") */
  if (hoist_semver_parse(sb.buf, sb.len, flags, out, NULL) != HOIST_OK)
    *out = NULL;
  strbuf_release(&sb);
  return HOIST_OK;
}

/* ---------------------------------------------------------------- inc */

/* A prerelease element while incrementing: a JS number or a JS string. */
struct mid {
  int isnum;
  uint64_t num;
  const char *s;
  size_t len;
  char buf[24];
};

#define INC_MAX_PRE 160

struct mutver {
  uint64_t major, minor, patch;
  size_t npre;
  struct mid pre[INC_MAX_PRE];
};

static void mid_set_num(struct mid *m, uint64_t v)
{
  char *e = put_u64(m->buf, v);
  *e = '\0';
  m->isnum = 1;
  m->num = v;
  m->s = m->buf;
  m->len = (size_t)(e - m->buf);
}

static void mid_set_str(struct mid *m, const char *s, size_t len)
{
  m->isnum = 0;
  m->num = 0;
  m->s = s;
  m->len = len;
}

/* compareIdentifiers(a, b) == 0 for an element and a text part. */
static int mid_equals_text(const struct mid *a, const char *b, size_t blen)
{
  if (id_is_numeric(a->s, a->len) && id_is_numeric(b, blen))
    return cmp_big_digits(a->s, a->len, b, blen) == 0;
  if (a->isnum)
    return 0;
  return a->len == blen && memcmp(a->s, b, blen) == 0;
}

/*
** isNaN(Number(s)) for an identifier-shaped string ([0-9A-Za-z-]+): Number()
** accepts decimal with a sign and exponent, Infinity, and 0x/0o/0b literals.
*/
static int js_isnan_text(const char *s, size_t n)
{
  size_t i = 0, d;
  if (n >= 2 && s[0] == '0' && strchr("xXoObB", s[1])) {
    char k = (char)(s[1] | 0x20);
    if (n == 2)
      return 1;
    for (i = 2; i < n; i++) {
      char c = s[i];
      int ok = k == 'x' ? (is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
             : k == 'o' ? (c >= '0' && c <= '7') : (c == '0' || c == '1');
      if (!ok)
        return 1;
    }
    return 0;
  }
  if (i < n && s[i] == '-')
    i++;
  if (n - i == 8 && memcmp(s + i, "Infinity", 8) == 0)
    return 0;
  d = sv_digit_run(s, i, n);
  if (d == i)
    return 1;
  i = d;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && s[i] == '-')
      i++;
    d = sv_digit_run(s, i, n);
    if (d == i)
      return 1;
    i = d;
  }
  return i != n;
}

static size_t join_pre(const struct mutver *v, char *buf, size_t cap)
{
  size_t i, len = 0;
  for (i = 0; i < v->npre; i++) {
    if (i && len < cap)
      buf[len++] = '.';
    if (len + v->pre[i].len <= cap) {
      memcpy(buf + len, v->pre[i].s, v->pre[i].len);
      len += v->pre[i].len;
    }
  }
  return len;
}

static int inc_step(struct mutver *v, const char *release, const char *id, size_t idlen,
                    int base, struct hoist_err *err);

static int inc_pre(struct mutver *v, const char *id, size_t idlen, int ib, struct hoist_err *err)
{
  int base = ib == 1 ? 1 : 0;
  if (v->npre == 0) {
    mid_set_num(&v->pre[0], (uint64_t)base);
    v->npre = 1;
  } else {
    size_t i = v->npre;
    int done = 0;
    while (i-- > 0) {
      if (v->pre[i].isnum) {
        mid_set_num(&v->pre[i], v->pre[i].num + 1);
        done = 1;
        break;
      }
    }
    if (!done) {
      char joined[4 * MAX_LENGTH];
      size_t jl = join_pre(v, joined, sizeof joined);
      if (idlen && ib == -1 && jl == idlen && memcmp(joined, id, idlen) == 0)
        return hoist_err_set(err, HOIST_EINVAL,
                             "invalid increment argument: identifier already exists");
      if (v->npre >= INC_MAX_PRE)
        return hoist_err_set(err, HOIST_ERANGE, "too many prerelease identifiers");
      mid_set_num(&v->pre[v->npre++], (uint64_t)base);
    }
  }
  if (idlen) {
    size_t nparts = count_parts(id, idlen), k, off = 0;
    int is_prefix = nparts <= v->npre, replace;
    for (k = 0; is_prefix && k < nparts; k++) {
      size_t e = off;
      while (e < idlen && id[e] != '.')
        e++;
      if (!mid_equals_text(&v->pre[k], id + off, e - off))
        is_prefix = 0;
      off = e + 1;
    }
    if (is_prefix) {
      /* keep "beta.1" -> "beta.2"; replace when what follows the identifier is not a number */
      replace = nparts >= v->npre ||
                (!v->pre[nparts].isnum && js_isnan_text(v->pre[nparts].s, v->pre[nparts].len));
    } else {
      replace = 1;
    }
    if (replace) {
      mid_set_str(&v->pre[0], id, idlen);
      v->npre = 1;
      if (ib != -1) {
        mid_set_num(&v->pre[1], (uint64_t)base);
        v->npre = 2;
      }
    }
  }
  return HOIST_OK;
}

static int inc_step(struct mutver *v, const char *release, const char *id, size_t idlen,
                    int ib, struct hoist_err *err)
{
  int rc;
  if (strcmp(release, "premajor") == 0) {
    v->npre = 0;
    v->patch = 0;
    v->minor = 0;
    v->major++;
    return inc_pre(v, id, idlen, ib, err);
  }
  if (strcmp(release, "preminor") == 0) {
    v->npre = 0;
    v->patch = 0;
    v->minor++;
    return inc_pre(v, id, idlen, ib, err);
  }
  if (strcmp(release, "prepatch") == 0) {
    v->npre = 0;
    if ((rc = inc_step(v, "patch", id, idlen, ib, err)))
      return rc;
    return inc_pre(v, id, idlen, ib, err);
  }
  if (strcmp(release, "prerelease") == 0) {
    if (v->npre == 0 && (rc = inc_step(v, "patch", id, idlen, ib, err)))
      return rc;
    return inc_pre(v, id, idlen, ib, err);
  }
  if (strcmp(release, "release") == 0) {
    if (v->npre == 0)
      return hoist_err_set(err, HOIST_EINVAL, "version is not a prerelease");
    v->npre = 0;
    return HOIST_OK;
  }
  if (strcmp(release, "major") == 0) {
    if (v->minor != 0 || v->patch != 0 || v->npre == 0)
      v->major++;
    v->minor = 0;
    v->patch = 0;
    v->npre = 0;
    return HOIST_OK;
  }
  if (strcmp(release, "minor") == 0) {
    if (v->patch != 0 || v->npre == 0)
      v->minor++;
    v->patch = 0;
    v->npre = 0;
    return HOIST_OK;
  }
  if (strcmp(release, "patch") == 0) {
    if (v->npre == 0)
      v->patch++;
    v->npre = 0;
    return HOIST_OK;
  }
  if (strcmp(release, "pre") == 0)
    return inc_pre(v, id, idlen, ib, err);
  return hoist_err_set(err, HOIST_EINVAL, "invalid increment argument '%s'", release);
}

int hoist_semver_inc(const struct hoist_semver *v, const char *release, const char *identifier,
                     int identifier_base, int flags, char **out, struct hoist_err *err)
{
  struct mutver *m;
  size_t idlen = identifier ? strlen(identifier) : 0, i;
  struct strbuf sb;
  int rc;

  *out = NULL;
  if (strncmp(release, "pre", 3) == 0) {
    if (!idlen && identifier_base == -1)
      return hoist_err_set(err, HOIST_EINVAL, "invalid increment argument: identifier is empty");
    if (idlen && sv_scan_pre_ids(identifier, 0, idlen, flags & HOIST_SEMVER_LOOSE) != idlen)
      return hoist_err_set(err, HOIST_EINVAL, "invalid identifier '%s'", identifier);
  }
  m = malloc(sizeof *m);
  if (!m)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  m->major = v->major;
  m->minor = v->minor;
  m->patch = v->patch;
  m->npre = v->npre < INC_MAX_PRE ? v->npre : INC_MAX_PRE;
  for (i = 0; i < m->npre; i++) {
    if (v->pre[i].numeric && !v->pre[i].big)
      mid_set_num(&m->pre[i], v->pre[i].num);
    else
      mid_set_str(&m->pre[i], v->pre[i].str, v->pre[i].len);
  }
  rc = inc_step(m, release, identifier, idlen, identifier_base, err);
  if (rc == HOIST_OK) {
    strbuf_init(&sb, WORK_MAX);
    rc = strbuf_addf(&sb, "%llu.%llu.%llu", (unsigned long long)m->major,
                     (unsigned long long)m->minor, (unsigned long long)m->patch);
    for (i = 0; !rc && i < m->npre; i++) {
      rc = strbuf_addch(&sb, i ? '.' : '-');
      if (!rc)
        rc = strbuf_add(&sb, m->pre[i].s, m->pre[i].len);
    }
    if (rc) {
      strbuf_release(&sb);
      rc = hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    } else {
      *out = strbuf_detach(&sb, NULL);
    }
  }
  free(m);
  return rc;
}

/* --------------------------------------------------------------- diff */

const char *hoist_semver_diff(const struct hoist_semver *a, const struct hoist_semver *b)
{
  int c = hoist_semver_compare(a, b);
  const struct hoist_semver *high, *low;
  int high_pre, low_pre;
  if (c == 0)
    return NULL;
  high = c > 0 ? a : b;
  low = c > 0 ? b : a;
  high_pre = high->npre > 0;
  low_pre = low->npre > 0;
  if (low_pre && !high_pre) {
    if (!low->patch && !low->minor)
      return "major";
    if (cmp_main(low, high) == 0) {
      if (low->minor && !low->patch)
        return "minor";
      return "patch";
    }
  }
  if (a->major != b->major)
    return high_pre ? "premajor" : "major";
  if (a->minor != b->minor)
    return high_pre ? "preminor" : "minor";
  if (a->patch != b->patch)
    return high_pre ? "prepatch" : "patch";
  return "prerelease";
}
