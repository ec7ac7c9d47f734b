/*
** semver.c: node-semver 7 semantics without regular expressions.
**
** node-semver parses with backtracking regexes and rewrites range strings in
** several passes. Each matcher here reproduces one of those regexes (the
** "safe" variants node uses, with their length limits) by a greedy scan;
** comments note where a backtracking step changes the result and how it is
** reproduced. The range pipeline keeps node's order of rewrites, because the
** rewrites interact (e.g. "~> 1.2" becomes "~1.2" before tilde expansion).
*/
#include "semver.h"

#include "strbuf.h"

#include <stdlib.h>
#include <string.h>

#define MAX_LENGTH HOIST_SEMVER_MAX_LENGTH
#define MAX_SAFE_BUILD_LENGTH (MAX_LENGTH - 6)
#define MAX_SAFE HOIST_SEMVER_MAX_SAFE_INTEGER
#define NPOS ((size_t)-1)
#define WORK_MAX (1u << 20)  /* bound for every intermediate range string */

/* ------------------------------------------------------------------ chars */

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_idchar(char c) { return is_digit(c) || is_alpha(c) || c == '-'; }

/*
** Length in bytes of the ECMAScript whitespace character (\s) at s[i], or 0.
** Besides ASCII blanks that is NBSP, the Unicode space separators, LS, PS and
** the BOM, here in their UTF-8 forms.
*/
static size_t ws_len(const char *s, size_t i, size_t n)
{
  const unsigned char *p = (const unsigned char *)s + i;
  size_t left = n - i;
  if (i >= n)
    return 0;
  if (p[0] == ' ' || (p[0] >= '\t' && p[0] <= '\r'))
    return 1;
  if (left >= 2 && p[0] == 0xC2 && p[1] == 0xA0)
    return 2;
  if (left >= 3) {
    if (p[0] == 0xE1 && p[1] == 0x9A && p[2] == 0x80)
      return 3;
    if (p[0] == 0xE2 && p[1] == 0x80 && ((p[2] >= 0x80 && p[2] <= 0x8A) || p[2] == 0xA8 ||
                                         p[2] == 0xA9 || p[2] == 0xAF))
      return 3;
    if (p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0x9F)
      return 3;
    if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80)
      return 3;
    if (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
      return 3;
  }
  return 0;
}

/* Whitespace that ends at s[n-1], for trimming from the right. */
static size_t ws_len_before(const char *s, size_t n)
{
  size_t k;
  for (k = 1; k <= 3 && k <= n; k++)
    if (ws_len(s, n - k, n) == k)
      return k;
  return 0;
}

static void trim(const char **s, size_t *n)
{
  size_t k;
  while ((k = ws_len(*s, 0, *n)) > 0) {
    *s += k;
    *n -= k;
  }
  while ((k = ws_len_before(*s, *n)) > 0)
    *n -= k;
}

/* The length JavaScript sees: UTF-16 code units. */
static size_t js_length(const char *s, size_t n)
{
  size_t i, len = 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c & 0xC0) != 0x80)
      len += (c >= 0xF0) ? 2 : 1;
  }
  return len;
}

static size_t digit_run(const char *s, size_t i, size_t n)
{
  size_t j = i;
  while (j < n && is_digit(s[j]))
    j++;
  return j;
}

static size_t id_run(const char *s, size_t i, size_t n)
{
  size_t j = i;
  while (j < n && is_idchar(s[j]))
    j++;
  return j;
}

/* Digits to a number; HOIST_ERANGE above 2^53-1 (node rejects those too). */
static int to_u64(const char *s, size_t n, uint64_t *out)
{
  uint64_t v = 0;
  size_t i;
  for (i = 0; i < n; i++) {
    v = v * 10 + (uint64_t)(s[i] - '0');
    if (v > MAX_SAFE)
      return HOIST_ERANGE;
  }
  *out = v;
  return HOIST_OK;
}

/* -------------------------------------------------------- identifiers */

/*
** A prerelease identifier is NONNUMERIC (\d{0,256}[a-zA-Z-][a-zA-Z0-9-]{0,250})
** or NUMERIC (strict 0|[1-9]\d{0,256}, loose \d{1,256}).
*/
static int pre_id_ok(const char *s, size_t len, int loose)
{
  size_t d = 0;
  if (len == 0)
    return 0;
  while (d < len && is_digit(s[d]))
    d++;
  if (d == len)
    return loose ? len <= MAX_LENGTH : ((len == 1 || s[0] != '0') && len <= MAX_LENGTH + 1);
  return d <= MAX_LENGTH && len - d - 1 <= MAX_SAFE_BUILD_LENGTH;
}

/*
** Dot-separated prerelease identifiers from i. Greedy: stops before a '.'
** that is not followed by a valid identifier. Returns the end, or i when even
** the first identifier is invalid.
*/
static size_t scan_pre_ids(const char *s, size_t i, size_t n, int loose)
{
  size_t e = id_run(s, i, n);
  if (!pre_id_ok(s + i, e - i, loose))
    return i;
  while (e < n && s[e] == '.') {
    size_t f = id_run(s, e + 1, n);
    if (!pre_id_ok(s + e + 1, f - e - 1, loose))
      break;
    e = f;
  }
  return e;
}

static size_t scan_build_ids(const char *s, size_t i, size_t n)
{
  size_t e = id_run(s, i, n);
  if (e == i || e - i > MAX_SAFE_BUILD_LENGTH)
    return i;
  while (e < n && s[e] == '.') {
    size_t f = id_run(s, e + 1, n);
    if (f == e + 1 || f - e - 1 > MAX_SAFE_BUILD_LENGTH)
      break;
    e = f;
  }
  return e;
}

struct tail {
  size_t pre_s, pre_e;  /* pre_s == pre_e: no prerelease */
  size_t bld_s, bld_e;  /* no build when equal */
};

/*
** (?:PRERELEASE)?(?:BUILD)? at i, greedy. In loose mode the hyphen is
** optional: "-beta" takes the hyphen, while "1.2.3-" and "1.2.3-.a" fall back
** to an identifier that starts with the hyphen itself (node gives "-").
*/
static size_t scan_tail(const char *s, size_t i, size_t n, int loose, struct tail *t)
{
  size_t j = i, e;
  t->pre_s = t->pre_e = t->bld_s = t->bld_e = i;
  if (j < n && s[j] == '-') {
    e = scan_pre_ids(s, j + 1, n, loose);
    if (e > j + 1) {
      t->pre_s = j + 1;
      t->pre_e = e;
      j = e;
    } else if (loose) {
      e = scan_pre_ids(s, j, n, loose);
      if (e > j) {
        t->pre_s = j;
        t->pre_e = e;
        j = e;
      }
    }
  } else if (loose && j < n && is_idchar(s[j])) {
    e = scan_pre_ids(s, j, n, loose);
    if (e > j) {
      t->pre_s = j;
      t->pre_e = e;
      j = e;
    }
  }
  t->bld_s = t->bld_e = j;
  if (j + 1 < n && s[j] == '+') {
    e = scan_build_ids(s, j + 1, n);
    if (e > j + 1) {
      t->bld_s = j + 1;
      t->bld_e = e;
      j = e;
    }
  }
  return j;
}

/* --------------------------------------------------------- versions */

struct vmatch {
  size_t maj_s, maj_e, min_s, min_e, pat_s, pat_e;
  struct tail t;
};

/* A main-version number: strict 0|[1-9]\d{0,256}, loose \d{1,256}. Returns its end or NPOS. */
static size_t scan_number(const char *s, size_t i, size_t n, int loose)
{
  size_t e;
  if (i >= n || !is_digit(s[i]))
    return NPOS;
  if (!loose && s[i] == '0')
    return i + 1;
  e = digit_run(s, i, n);
  if (e - i > (size_t)(loose ? MAX_LENGTH : MAX_LENGTH + 1))
    e = i + (loose ? MAX_LENGTH : MAX_LENGTH + 1);
  return e;
}

/*
** MAINVERSION plus tail, starting at i, without prefix. Returns the end or
** NPOS. In loose mode "1.2.34.5" backtracks the patch to "3" so that "4.5"
** becomes the prerelease (node: 1.2.3-4.5); that is the only backtracking
** step that changes a loose match, and it applies when a '.' follows the patch.
*/
static size_t scan_main_version(const char *s, size_t i, size_t n, int loose, struct vmatch *m)
{
  size_t e;
  m->maj_s = i;
  if ((e = scan_number(s, i, n, loose)) == NPOS || e >= n || s[e] != '.')
    return NPOS;
  m->maj_e = e;
  m->min_s = e + 1;
  if ((e = scan_number(s, e + 1, n, loose)) == NPOS || e >= n || s[e] != '.')
    return NPOS;
  m->min_e = e;
  m->pat_s = e + 1;
  if ((e = scan_number(s, e + 1, n, loose)) == NPOS)
    return NPOS;
  if (loose && e < n && s[e] == '.' && e - m->pat_s >= 2)
    e--;
  m->pat_e = e;
  return scan_tail(s, e, n, loose, &m->t);
}

/* FULL (^v?MAIN...$) or LOOSE (^[v=\s]*MAIN...$) over all of s[0..n). */
static int match_version(const char *s, size_t n, int loose, struct vmatch *m)
{
  size_t i = 0, k;
  if (loose) {
    while (i < n) {
      if (s[i] == 'v' || s[i] == '=')
        i++;
      else if ((k = ws_len(s, i, n)) > 0)
        i += k;
      else
        break;
    }
  } else if (i < n && s[i] == 'v') {
    i++;
  }
  return scan_main_version(s, i, n, loose, m) == n;
}

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
      if (to_u64(s + i, j - i, &v) == HOIST_OK && v < MAX_SAFE)
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

  if (to_u64(s + m->maj_s, m->maj_e - m->maj_s, &major))
    return hoist_err_set(err, HOIST_EINVAL, "invalid major version in '%.*s'", (int)orig_len, orig);
  if (to_u64(s + m->min_s, m->min_e - m->min_s, &minor))
    return hoist_err_set(err, HOIST_EINVAL, "invalid minor version in '%.*s'", (int)orig_len, orig);
  if (to_u64(s + m->pat_s, m->pat_e - m->pat_s, &patch))
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
  if (len > MAX_LENGTH && (len > 4 * MAX_LENGTH || js_length(s, len) > MAX_LENGTH))
    return hoist_err_set(err, HOIST_EINVAL, "version is longer than %d characters", MAX_LENGTH);
  trim(&t, &n);
  if (!match_version(t, n, flags & HOIST_SEMVER_LOOSE, &m))
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
  trim(&t, &n);
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
  size_t run = id_run(s, j, n), d = j;
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
  size_t run = id_run(s, j, n);
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
  e = digit_run(s, ms, n);
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
    size_t f = digit_run(s, p + 1, n);
    if (f > p + 1 && f - p - 1 <= COERCE_DIGITS) {
      m->min_s = p + 1;
      m->min_e = f;
      p = f;
      if (p + 1 < n && s[p] == '.') {
        size_t g = digit_run(s, p + 1, n);
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
  d = digit_run(s, i, n);
  if (d == i)
    return 1;
  i = d;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && s[i] == '-')
      i++;
    d = digit_run(s, i, n);
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
    if (idlen && scan_pre_ids(identifier, 0, idlen, flags & HOIST_SEMVER_LOOSE) != idlen)
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

/* ------------------------------------------------------------- ranges */

/* Captures of XRANGEPLAIN: [v=\s]*(XID)(?:\.(XID)(?:\.(XID)(?:PRE)?BUILD?)?)? */
struct xcap {
  size_t all_s, all_e;
  size_t M_s, M_e, m_s, m_e, p_s, p_e; /* absent: s == e */
  size_t pr_s, pr_e;
};

static size_t scan_xid(const char *s, size_t i, size_t n, int loose)
{
  if (i >= n)
    return NPOS;
  if (s[i] == 'x' || s[i] == 'X' || s[i] == '*')
    return i + 1;
  return scan_number(s, i, n, loose);
}

static size_t scan_xrangeplain(const char *s, size_t i, size_t n, int loose, struct xcap *x)
{
  size_t j = i, e, k;
  struct tail t;
  memset(x, 0, sizeof *x);
  x->all_s = i;
  while (j < n) {
    if (s[j] == 'v' || s[j] == '=')
      j++;
    else if ((k = ws_len(s, j, n)) > 0)
      j += k;
    else
      break;
  }
  if ((e = scan_xid(s, j, n, loose)) == NPOS)
    return NPOS;
  x->M_s = j;
  x->M_e = e;
  x->m_s = x->m_e = x->p_s = x->p_e = x->pr_s = x->pr_e = e;
  if (e < n && s[e] == '.') {
    size_t f = scan_xid(s, e + 1, n, loose);
    if (f != NPOS) {
      x->m_s = e + 1;
      x->m_e = f;
      e = f;
      x->p_s = x->p_e = x->pr_s = x->pr_e = e;
      if (e < n && s[e] == '.') {
        size_t g = scan_xid(s, e + 1, n, loose);
        if (g != NPOS) {
          x->p_s = e + 1;
          /* loose "1.2.34.5": the patch gives its last digit to the prerelease */
          if (loose && g < n && s[g] == '.' && is_digit(s[e + 1]) && g - e - 1 >= 2)
            g--;
          x->p_e = g;
          e = scan_tail(s, g, n, loose, &t);
          x->pr_s = t.pre_s;
          x->pr_e = t.pre_e;
        }
      }
    }
  }
  x->all_e = e;
  return e;
}

/* node's isX(): absent, "x", "X" or "*". */
static int is_x(const char *s, size_t a, size_t b)
{
  return a == b || (b - a == 1 && (s[a] == 'x' || s[a] == 'X' || s[a] == '*'));
}

/* Appends +text + 1 the way JS prints it (leading zeros dropped). */
static int add_plus_one(struct strbuf *sb, const char *s, size_t a, size_t b)
{
  char tmp[MAX_LENGTH + 4];
  size_t n, i;
  int carry = 1;
  while (a + 1 < b && s[a] == '0')
    a++;
  n = b - a;
  if (n > MAX_LENGTH + 1)
    return strbuf_addstr(sb, "Infinity");  /* beyond any valid number: invalid later */
  for (i = n; i-- > 0;) {
    int d = s[a + i] - '0' + carry;
    carry = d / 10;
    tmp[i + 1] = (char)('0' + d % 10);
  }
  tmp[0] = '1';
  return carry ? strbuf_add(sb, tmp, n + 1) : strbuf_add(sb, tmp + 1, n);
}

static int add_range(struct strbuf *sb, const char *s, size_t a, size_t b)
{
  return strbuf_add(sb, s + a, b - a);
}

static int text_is(const char *s, size_t a, size_t b, const char *lit)
{
  size_t n = strlen(lit);
  return b - a == n && memcmp(s + a, lit, n) == 0;
}

/* Removes every build suffix, unbounded (node's BUILDSTRIPRE, applied first). */
static int strip_builds(const char *s, size_t n, struct strbuf *out)
{
  size_t i = 0;
  int rc = 0;
  while (i < n && !rc) {
    if (s[i] == '+' && i + 1 < n && is_idchar(s[i + 1])) {
      size_t j = id_run(s, i + 1, n);
      while (j + 1 < n && s[j] == '.' && is_idchar(s[j + 1]))
        j = id_run(s, j + 1, n);
      i = j;
    } else {
      rc = strbuf_addch(out, s[i++]);
    }
  }
  return rc;
}

/* `1.2 - 3.4` => `>=1.2.0 <3.5.0-0` (node's hyphenReplace). */
static int hyphen_replace(const char *s, size_t n, int flags, struct strbuf *out)
{
  int loose = flags & HOIST_SEMVER_LOOSE, incpr = flags & HOIST_SEMVER_INCLUDE_PRERELEASE;
  struct xcap f, t;
  size_t i = 0, e, k;
  struct strbuf from, to;
  int rc = 0;

  if ((k = ws_len(s, i, n)) > 0)
    i += k;
  e = scan_xrangeplain(s, i, n, loose, &f);
  if (e == NPOS || (k = ws_len(s, e, n)) == 0 || e + k >= n || s[e + k] != '-')
    return strbuf_add(out, s, n);
  e += k + 1;
  if ((k = ws_len(s, e, n)) == 0)
    return strbuf_add(out, s, n);
  e = scan_xrangeplain(s, e + k, n, loose, &t);
  if (e == NPOS)
    return strbuf_add(out, s, n);
  e += ws_len(s, e, n);
  if (e != n)
    return strbuf_add(out, s, n);

  strbuf_init(&from, WORK_MAX);
  strbuf_init(&to, WORK_MAX);
  if (is_x(s, f.M_s, f.M_e)) {
    /* from = '' */
  } else if (is_x(s, f.m_s, f.m_e)) {
    rc = strbuf_addstr(&from, ">=");
    rc = rc ? rc : add_range(&from, s, f.M_s, f.M_e);
    rc = rc ? rc : strbuf_addstr(&from, incpr ? ".0.0-0" : ".0.0");
  } else if (is_x(s, f.p_s, f.p_e)) {
    rc = strbuf_addstr(&from, ">=");
    rc = rc ? rc : add_range(&from, s, f.M_s, f.M_e);
    rc = rc ? rc : strbuf_addch(&from, '.');
    rc = rc ? rc : add_range(&from, s, f.m_s, f.m_e);
    rc = rc ? rc : strbuf_addstr(&from, incpr ? ".0-0" : ".0");
  } else {
    rc = strbuf_addstr(&from, ">=");
    rc = rc ? rc : add_range(&from, s, f.all_s, f.all_e);
    if (!rc && f.pr_e == f.pr_s && incpr)
      rc = strbuf_addstr(&from, "-0");
  }
  if (rc) {
    /* fall through to cleanup */
  } else if (is_x(s, t.M_s, t.M_e)) {
    /* to = '' */
  } else if (is_x(s, t.m_s, t.m_e)) {
    rc = strbuf_addch(&to, '<');
    rc = rc ? rc : add_plus_one(&to, s, t.M_s, t.M_e);
    rc = rc ? rc : strbuf_addstr(&to, ".0.0-0");
  } else if (is_x(s, t.p_s, t.p_e)) {
    rc = strbuf_addch(&to, '<');
    rc = rc ? rc : add_range(&to, s, t.M_s, t.M_e);
    rc = rc ? rc : strbuf_addch(&to, '.');
    rc = rc ? rc : add_plus_one(&to, s, t.m_s, t.m_e);
    rc = rc ? rc : strbuf_addstr(&to, ".0-0");
  } else if (t.pr_e > t.pr_s) {
    rc = strbuf_addstr(&to, "<=");
    rc = rc ? rc : add_range(&to, s, t.M_s, t.M_e);
    rc = rc ? rc : strbuf_addch(&to, '.');
    rc = rc ? rc : add_range(&to, s, t.m_s, t.m_e);
    rc = rc ? rc : strbuf_addch(&to, '.');
    rc = rc ? rc : add_range(&to, s, t.p_s, t.p_e);
    rc = rc ? rc : strbuf_addch(&to, '-');
    rc = rc ? rc : add_range(&to, s, t.pr_s, t.pr_e);
  } else if (incpr) {
    rc = strbuf_addch(&to, '<');
    rc = rc ? rc : add_range(&to, s, t.M_s, t.M_e);
    rc = rc ? rc : strbuf_addch(&to, '.');
    rc = rc ? rc : add_range(&to, s, t.m_s, t.m_e);
    rc = rc ? rc : strbuf_addch(&to, '.');
    rc = rc ? rc : add_plus_one(&to, s, t.p_s, t.p_e);
    rc = rc ? rc : strbuf_addstr(&to, "-0");
  } else {
    rc = strbuf_addstr(&to, "<=");
    rc = rc ? rc : add_range(&to, s, t.all_s, t.all_e);
  }
  /* `${from} ${to}`.trim() */
  if (!rc) {
    if (from.len && to.len)
      rc = strbuf_addf(out, "%s %s", from.buf, to.buf);
    else if (from.len)
      rc = strbuf_add(out, from.buf, from.len);
    else if (to.len)
      rc = strbuf_add(out, to.buf, to.len);
  }
  strbuf_release(&from);
  strbuf_release(&to);
  return rc;
}

/* ---- node's trimComparatorWhitespace, step for step ---- */

static int tc_ws(const char *s, size_t i, size_t n) { return i < n && ws_len(s, i, n) == 1; }
static int tc_prefix(const char *s, size_t i, size_t n)
{
  return i < n && (s[i] == 'v' || s[i] == '=' || tc_ws(s, i, n));
}
static int tc_start(const char *s, size_t i, size_t n)
{
  return i < n && (is_digit(s[i]) || s[i] == 'x' || s[i] == 'X' || s[i] == '*');
}

static size_t tc_digits_end(const char *s, size_t start, size_t n, size_t limit)
{
  size_t end;
  if (start >= n || !is_digit(s[start]))
    return start;
  end = digit_run(s, start, n);
  return end < start + limit ? end : start + limit;
}

static size_t tc_number_end(const char *s, size_t start, size_t n, int loose)
{
  if (!loose && start < n && s[start] == '0')
    return start + 1;
  return tc_digits_end(s, start, n, loose ? MAX_LENGTH : MAX_LENGTH + 1);
}

static size_t tc_pre_id_end(const char *s, size_t start, size_t n, int loose)
{
  size_t de = tc_digits_end(s, start, n, MAX_LENGTH);
  if (de < n && (is_alpha(s[de]) || s[de] == '-')) {
    size_t end = de + 1, limit = end + MAX_SAFE_BUILD_LENGTH;
    while (end < limit && end < n && is_idchar(s[end]))
      end++;
    return end;
  }
  return tc_number_end(s, start, n, loose);
}

static size_t tc_pre_end(const char *s, size_t start, size_t n, int loose)
{
  int hyphen = start < n && s[start] == '-';
  size_t ids, end;
  if (!loose && !hyphen)
    return start;
  ids = start + (hyphen ? 1 : 0);
  end = tc_pre_id_end(s, ids, n, loose);
  if (end == ids) {
    if (!loose || !hyphen)
      return start;
    end = tc_pre_id_end(s, start, n, loose);
  }
  while (end < n && s[end] == '.') {
    size_t next = tc_pre_id_end(s, end + 1, n, loose);
    if (next == end + 1)
      break;
    end = next;
  }
  return end;
}

static size_t tc_build_id_end(const char *s, size_t start, size_t n)
{
  size_t end = start;
  while (end - start < MAX_SAFE_BUILD_LENGTH && end < n && is_idchar(s[end]))
    end++;
  return end;
}

static size_t tc_build_end(const char *s, size_t start, size_t n)
{
  size_t end;
  if (start >= n || s[start] != '+')
    return start;
  end = tc_build_id_end(s, start + 1, n);
  if (end == start + 1)
    return start;
  while (end < n && s[end] == '.') {
    size_t next = tc_build_id_end(s, end + 1, n);
    if (next == end + 1)
      break;
    end = next;
  }
  return end;
}

static size_t tc_loose_full_end(const char *s, size_t start, size_t n)
{
  size_t end = start;
  int c;
  for (c = 0; c < 3; c++) {
    size_t next = tc_number_end(s, end, n, 1);
    if (next == end)
      return start;
    end = next;
    if (c < 2) {
      if (end >= n || s[end] != '.')
        return start;
      end++;
    }
  }
  return tc_build_end(s, tc_pre_end(s, end, n, 1), n);
}

static size_t tc_partial_comp_end(const char *s, size_t start, size_t n)
{
  if (start < n && is_digit(s[start]))
    return tc_number_end(s, start, n, 0);
  return tc_start(s, start, n) ? start + 1 : start;
}

static size_t tc_partial_end(const char *s, size_t start, size_t n)
{
  size_t end = tc_partial_comp_end(s, start, n);
  int c;
  for (c = 0; c < 2; c++) {
    size_t next;
    if (end >= n || s[end] != '.')
      return end;
    next = tc_partial_comp_end(s, end + 1, n);
    if (next == end + 1)
      return end;
    end = next;
  }
  return tc_build_end(s, tc_pre_end(s, end, n, 0), n);
}

static size_t tc_version_end(const char *s, size_t start, size_t n)
{
  size_t full = tc_loose_full_end(s, start, n);
  return full != start ? full : tc_partial_end(s, start, n);
}

static size_t tc_removable_ws(const char *s, size_t pos, size_t n)
{
  if (tc_ws(s, pos, n))
    pos++;
  if (pos < n && (s[pos] == '<' || s[pos] == '>'))
    pos++;
  if (pos < n && s[pos] == '=')
    pos++;
  return tc_ws(s, pos, n) ? pos : NPOS;
}

/* `> 1.2.3 < 1.2.5` => `>1.2.3 <1.2.5` */
static int trim_comparator_ws(const char *s, size_t n, struct strbuf *out)
{
  size_t copy_from = 0, cursor = 0;
  int rc = 0;
  while (cursor < n && !rc) {
    size_t match_start = cursor, wp;
    if (s[cursor] == '<' || s[cursor] == '>') {
      cursor++;
    } else if (!tc_prefix(s, cursor, n) && !tc_start(s, cursor, n)) {
      cursor++;
      continue;
    }
    while (cursor < n && tc_prefix(s, cursor, n))
      cursor++;
    if (!tc_start(s, cursor, n))
      continue;
    wp = tc_removable_ws(s, match_start, n);
    if (wp != NPOS) {
      rc = strbuf_add(out, s + copy_from, wp - copy_from);
      copy_from = wp + 1;
    }
    cursor = tc_version_end(s, cursor, n);
  }
  return rc ? rc : strbuf_add(out, s + copy_from, n - copy_from);
}

/* TILDETRIM `(\s?)~>?\s` => `$1~` and CARETTRIM `(\s?)\^\s` => `$1^`, global. */
static int lone_trim(const char *s, size_t n, char op, struct strbuf *out)
{
  size_t i = 0;
  int rc = 0;
  while (i < n && !rc) {
    size_t j = i, lead = 0, k;
    if ((k = ws_len(s, j, n)) > 0 && j + k < n && s[j + k] == op) {
      lead = k;
      j += k;
    }
    if (s[j] == op) {
      size_t after = j + 1;
      if (op == '~' && after < n && s[after] == '>' && ws_len(s, after + 1, n) > 0)
        after++;
      if ((k = ws_len(s, after, n)) > 0) {
        rc = strbuf_add(out, s + i, lead);
        rc = rc ? rc : strbuf_addch(out, op);
        i = after + k;
        continue;
      }
    }
    rc = strbuf_add(out, s + i, 1);
    i++;
  }
  return rc;
}

/* ---- per-comparator rewrites: carets, tildes, x-ranges, stars ---- */

typedef int (*word_fn)(const char *s, size_t n, int flags, struct strbuf *out);

/* s.split(/\s+/).map(fn).join(' ') with JavaScript's split semantics. */
static int map_words(const char *s, size_t n, int flags, word_fn fn, struct strbuf *out)
{
  size_t i = 0, start = 0, k;
  int rc = 0, first = 1;
  for (;;) {
    k = i < n ? ws_len(s, i, n) : 0;
    if (i >= n || k > 0) {
      if (!first)
        rc = strbuf_addch(out, ' ');
      first = 0;
      rc = rc ? rc : fn(s + start, i - start, flags, out);
      if (rc || i >= n)
        return rc;
      while (i < n && (k = ws_len(s, i, n)) > 0)
        i += k;
      start = i;
      if (i >= n) {
        /* a trailing separator leaves one more, empty word */
        rc = strbuf_addch(out, ' ');
        return rc ? rc : fn(s + n, 0, flags, out);
      }
      continue;
    }
    i++;
  }
}

static int caret_one(const char *s, size_t n, int flags, struct strbuf *out)
{
  struct xcap x;
  const char *z = (flags & HOIST_SEMVER_INCLUDE_PRERELEASE) ? "-0" : "";
  int rc = 0, m0;
  if (n == 0 || s[0] != '^' || scan_xrangeplain(s, 1, n, flags & HOIST_SEMVER_LOOSE, &x) != n)
    return strbuf_add(out, s, n);
  m0 = text_is(s, x.M_s, x.M_e, "0");
#define PUT(a, b) (rc = rc ? rc : add_range(out, s, a, b))
#define LIT(t) (rc = rc ? rc : strbuf_addstr(out, t))
#define INC(a, b) (rc = rc ? rc : add_plus_one(out, s, a, b))
  if (is_x(s, x.M_s, x.M_e)) {
    /* '' */
  } else if (is_x(s, x.m_s, x.m_e)) {
    LIT(">="); PUT(x.M_s, x.M_e); LIT(".0.0"); LIT(z); LIT(" <"); INC(x.M_s, x.M_e); LIT(".0.0-0");
  } else if (is_x(s, x.p_s, x.p_e)) {
    LIT(">="); PUT(x.M_s, x.M_e); LIT("."); PUT(x.m_s, x.m_e); LIT(".0"); LIT(z);
    if (m0) {
      LIT(" <"); PUT(x.M_s, x.M_e); LIT("."); INC(x.m_s, x.m_e); LIT(".0-0");
    } else {
      LIT(" <"); INC(x.M_s, x.M_e); LIT(".0.0-0");
    }
  } else {
    LIT(">="); PUT(x.M_s, x.M_e); LIT("."); PUT(x.m_s, x.m_e); LIT("."); PUT(x.p_s, x.p_e);
    if (x.pr_e > x.pr_s) {
      LIT("-"); PUT(x.pr_s, x.pr_e);
    }
    if (m0 && text_is(s, x.m_s, x.m_e, "0")) {
      LIT(" <"); PUT(x.M_s, x.M_e); LIT("."); PUT(x.m_s, x.m_e); LIT("."); INC(x.p_s, x.p_e);
      LIT("-0");
    } else if (m0) {
      LIT(" <"); PUT(x.M_s, x.M_e); LIT("."); INC(x.m_s, x.m_e); LIT(".0-0");
    } else {
      LIT(" <"); INC(x.M_s, x.M_e); LIT(".0.0-0");
    }
  }
  return rc;
}

static int tilde_one(const char *s, size_t n, int flags, struct strbuf *out)
{
  struct xcap x;
  const char *z = (flags & HOIST_SEMVER_INCLUDE_PRERELEASE) ? "-0" : "";
  size_t i = 1;
  int rc = 0;
  if (n == 0 || s[0] != '~')
    return strbuf_add(out, s, n);
  if (i < n && s[i] == '>')
    i++;
  if (scan_xrangeplain(s, i, n, flags & HOIST_SEMVER_LOOSE, &x) != n)
    return strbuf_add(out, s, n);
  if (is_x(s, x.M_s, x.M_e)) {
    /* '' */
  } else if (is_x(s, x.m_s, x.m_e)) {
    LIT(">="); PUT(x.M_s, x.M_e); LIT(".0.0"); LIT(z); LIT(" <"); INC(x.M_s, x.M_e); LIT(".0.0-0");
  } else if (is_x(s, x.p_s, x.p_e)) {
    LIT(">="); PUT(x.M_s, x.M_e); LIT("."); PUT(x.m_s, x.m_e); LIT(".0"); LIT(z);
    LIT(" <"); PUT(x.M_s, x.M_e); LIT("."); INC(x.m_s, x.m_e); LIT(".0-0");
  } else {
    LIT(">="); PUT(x.M_s, x.M_e); LIT("."); PUT(x.m_s, x.m_e); LIT("."); PUT(x.p_s, x.p_e);
    if (x.pr_e > x.pr_s) {
      LIT("-"); PUT(x.pr_s, x.pr_e);
    }
    LIT(" <"); PUT(x.M_s, x.M_e); LIT("."); INC(x.m_s, x.m_e); LIT(".0-0");
  }
  return rc;
}

/* GTLT: ((?:<|>)?=?), greedy; returns its end. */
static size_t scan_gtlt(const char *s, size_t i, size_t n)
{
  if (i < n && (s[i] == '<' || s[i] == '>'))
    i++;
  if (i < n && s[i] == '=')
    i++;
  return i;
}

static int xrange_one(const char *s, size_t n, int flags, struct strbuf *out)
{
  struct xcap x;
  size_t g, i, k;
  char gtlt[3];
  int rc = 0, xM, xm, xp;
  const char *pr = (flags & HOIST_SEMVER_INCLUDE_PRERELEASE) ? "-0" : "";

  trim(&s, &n);
  g = scan_gtlt(s, 0, n);
  i = g;
  if ((k = ws_len(s, i, n)) > 0)
    i += k;
  if (scan_xrangeplain(s, i, n, flags & HOIST_SEMVER_LOOSE, &x) != n)
    return strbuf_add(out, s, n);
  /* invalidXRangeOrder: "x.1" or "1.x.1" stay as written (and fail later) */
  if ((is_x(s, x.M_s, x.M_e) && !is_x(s, x.m_s, x.m_e)) ||
      (is_x(s, x.m_s, x.m_e) && x.p_e > x.p_s && !is_x(s, x.p_s, x.p_e)))
    return strbuf_add(out, s, n);
  memcpy(gtlt, s, g);
  gtlt[g] = '\0';
  xM = is_x(s, x.M_s, x.M_e);
  xm = xM || is_x(s, x.m_s, x.m_e);
  xp = xm || is_x(s, x.p_s, x.p_e);
  if (strcmp(gtlt, "=") == 0 && xp)
    gtlt[0] = '\0';
  if (xM) {
    LIT((strcmp(gtlt, ">") == 0 || strcmp(gtlt, "<") == 0) ? "<0.0.0-0" : "*");
  } else if (gtlt[0] && xp) {
    /* M.m.p where x's become 0; '>' and '<=' move to the next M or m */
    int bump_M = 0, bump_m = 0;
    if (strcmp(gtlt, ">") == 0) {
      memcpy(gtlt, ">=", 3);
      if (xm)
        bump_M = 1;
      else
        bump_m = 1;
    } else if (strcmp(gtlt, "<=") == 0) {
      memcpy(gtlt, "<", 2);
      if (xm)
        bump_M = 1;
      else
        bump_m = 1;
    }
    if (strcmp(gtlt, "<") == 0)
      pr = "-0";
    LIT(gtlt);
    if (bump_M)
      INC(x.M_s, x.M_e);
    else
      PUT(x.M_s, x.M_e);
    LIT(".");
    if (xm)
      LIT("0");
    else if (bump_m)
      INC(x.m_s, x.m_e);
    else
      PUT(x.m_s, x.m_e);
    LIT(".0");
    LIT(pr);
  } else if (xm) {
    LIT(">="); PUT(x.M_s, x.M_e); LIT(".0.0"); LIT(pr); LIT(" <"); INC(x.M_s, x.M_e);
    LIT(".0.0-0");
  } else if (xp) {
    LIT(">="); PUT(x.M_s, x.M_e); LIT("."); PUT(x.m_s, x.m_e); LIT(".0"); LIT(pr);
    LIT(" <"); PUT(x.M_s, x.M_e); LIT("."); INC(x.m_s, x.m_e); LIT(".0-0");
  } else {
    rc = strbuf_add(out, s, n);
  }
  return rc;
}
#undef PUT
#undef LIT
#undef INC

/* STAR `(<|>)?=?\s?\*`: the first match is removed (node's replaceStars). */
static int replace_stars(const char *s, size_t n, struct strbuf *out)
{
  size_t p;
  trim(&s, &n);
  for (p = 0; p < n; p++) {
    int a, b, c;
    for (a = 1; a >= 0; a--) {
      size_t q1 = p;
      if (a) {
        if (s[q1] != '<' && s[q1] != '>')
          continue;
        q1++;
      }
      for (b = 1; b >= 0; b--) {
        size_t q2 = q1;
        if (b) {
          if (q2 >= n || s[q2] != '=')
            continue;
          q2++;
        }
        for (c = 1; c >= 0; c--) {
          size_t q3 = q2, k;
          if (c) {
            if ((k = ws_len(s, q3, n)) == 0)
              continue;
            q3 += k;
          }
          if (q3 < n && s[q3] == '*') {
            int rc = strbuf_add(out, s, p);
            return rc ? rc : strbuf_add(out, s + q3 + 1, n - q3 - 1);
          }
        }
      }
    }
  }
  return strbuf_add(out, s, n);
}

static int noop_word(const char *s, size_t n, int flags, struct strbuf *out)
{
  (void)flags;
  return strbuf_add(out, s, n);
}

/* node's parseComparator: carets, then tildes, then x-ranges, then stars. */
static int parse_comparator_text(const char *s, size_t n, int flags, struct strbuf *out)
{
  struct strbuf a, b;
  int rc;
  strbuf_init(&a, WORK_MAX);
  strbuf_init(&b, WORK_MAX);
  trim(&s, &n);
  rc = map_words(s, n, flags, caret_one, &a);
  if (!rc) {
    const char *t = a.buf ? a.buf : "";
    size_t tn = a.len;
    trim(&t, &tn);
    rc = map_words(t, tn, flags, tilde_one, &b);
  }
  if (!rc) {
    strbuf_reset(&a);
    rc = map_words(b.buf ? b.buf : "", b.len, flags, xrange_one, &a);
  }
  if (!rc)
    rc = replace_stars(a.buf ? a.buf : "", a.len, out);
  strbuf_release(&a);
  strbuf_release(&b);
  return rc;
}

/* ---- comparators ---- */

/* COMPARATOR / COMPARATORLOOSE: `^GTLT\s?(FULLPLAIN|LOOSEPLAIN)$|^$`. */
static int match_comparator(const char *s, size_t n, int loose, size_t *op_end, size_t *ver_s)
{
  struct vmatch m;
  size_t g, i, k;
  if (n == 0) {
    *op_end = *ver_s = 0;
    return 1;
  }
  g = scan_gtlt(s, 0, n);
  i = g;
  if ((k = ws_len(s, i, n)) > 0)
    i += k;
  if (!match_version(s + i, n - i, loose, &m))
    return 0;
  *op_end = g;
  *ver_s = i;
  return 1;
}

static int make_comparator(const char *s, size_t n, int flags, struct hoist_comparator *c,
                           struct hoist_err *err)
{
  size_t op_end, ver_s;
  struct strbuf v;
  int rc;
  memset(c, 0, sizeof *c);
  if (!match_comparator(s, n, flags & HOIST_SEMVER_LOOSE, &op_end, &ver_s))
    return hoist_err_set(err, HOIST_EINVAL, "invalid comparator '%.*s'", (int)n, s);
  if (n == 0) {
    c->op = HOIST_OP_ANY;
    c->value = calloc(1, 1);
    return c->value ? HOIST_OK : hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  if (op_end == 0 || (op_end == 1 && s[0] == '='))
    c->op = HOIST_OP_EQ;
  else if (s[0] == '<')
    c->op = op_end == 2 ? HOIST_OP_LE : HOIST_OP_LT;
  else
    c->op = op_end == 2 ? HOIST_OP_GE : HOIST_OP_GT;
  rc = hoist_semver_parse(s + ver_s, n - ver_s, flags & HOIST_SEMVER_LOOSE, &c->v, err);
  if (rc)
    return rc;
  strbuf_init(&v, WORK_MAX);
  rc = strbuf_addstr(&v, c->op == HOIST_OP_EQ ? "" : c->op == HOIST_OP_LT ? "<"
                       : c->op == HOIST_OP_LE ? "<=" : c->op == HOIST_OP_GT ? ">" : ">=");
  rc = rc ? rc : strbuf_add(&v, c->v->version, c->v->version_len);
  if (rc) {
    strbuf_release(&v);
    hoist_semver_free(c->v);
    c->v = NULL;
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  c->value = strbuf_detach(&v, NULL);
  return HOIST_OK;
}

static void comparator_release(struct hoist_comparator *c)
{
  hoist_semver_free(c->v);
  free(c->value);
  c->v = NULL;
  c->value = NULL;
}

static void set_release(struct hoist_comparator_set *set)
{
  size_t i;
  for (i = 0; i < set->n; i++)
    comparator_release(&set->c[i]);
  free(set->c);
  set->c = NULL;
  set->n = 0;
}

static int is_null_set_value(const char *value)
{
  return strcmp(value, "<0.0.0-0") == 0;
}

static int set_push(struct hoist_comparator_set *set, size_t *cap, struct hoist_comparator *c)
{
  if (set->n == *cap) {
    size_t ncap = *cap ? *cap * 2 : 4;
    struct hoist_comparator *p = realloc(set->c, ncap * sizeof *p);
    if (!p)
      return HOIST_ENOMEM;
    set->c = p;
    *cap = ncap;
  }
  set->c[set->n++] = *c;
  return HOIST_OK;
}

/* >=0.0.0 (or >=0.0.0-0 with include_prerelease) means any version. */
static int is_gte0(const char *s, size_t n, int incpr)
{
  size_t i = 0, k;
  const char *zero = incpr ? "0.0.0-0" : "0.0.0";
  size_t zn = strlen(zero);
  trim(&s, &n);
  if (n < 2 || s[0] != '>' || s[1] != '=')
    return 0;
  i = 2;
  if ((k = ws_len(s, i, n)) > 0)
    i += k;
  return n - i == zn && memcmp(s + i, zero, zn) == 0;
}

/*
** node's Range.parseRange for one `||` alternative. Fills set; an empty set
** (loose mode threw every comparator out) is allowed here.
*/
static int parse_range_part(const char *s, size_t n, int flags, struct hoist_comparator_set *set,
                            struct hoist_err *err)
{
  struct strbuf a, b;
  size_t cap = 0, i, start;
  int rc;
  int loose = flags & HOIST_SEMVER_LOOSE;

  set->n = 0;
  set->c = NULL;
  strbuf_init(&a, WORK_MAX);
  strbuf_init(&b, WORK_MAX);
  rc = strip_builds(s, n, &a);
  rc = rc ? rc : hyphen_replace(a.buf ? a.buf : "", a.len, flags, &b);
  if (!rc) {
    strbuf_reset(&a);
    rc = trim_comparator_ws(b.buf ? b.buf : "", b.len, &a);
  }
  if (!rc) {
    strbuf_reset(&b);
    rc = lone_trim(a.buf ? a.buf : "", a.len, '~', &b);
  }
  if (!rc) {
    strbuf_reset(&a);
    rc = lone_trim(b.buf ? b.buf : "", b.len, '^', &a);
  }
  /* split(' ').map(parseComparator).join(' ') */
  if (!rc) {
    const char *t = a.buf ? a.buf : "";
    strbuf_reset(&b);
    start = 0;
    for (i = 0; i <= a.len && !rc; i++) {
      if (i == a.len || t[i] == ' ') {
        if (start > 0)
          rc = strbuf_addch(&b, ' ');
        rc = rc ? rc : parse_comparator_text(t + start, i - start, flags, &b);
        start = i + 1;
      }
    }
  }
  if (rc) {
    strbuf_release(&a);
    strbuf_release(&b);
    return hoist_err_set(err, rc, "range is too long");
  }
  /* split(/\s+/), then >=0.0.0 -> '', the loose filter, and comparators */
  strbuf_reset(&a);
  rc = map_words(b.buf ? b.buf : "", b.len, flags, noop_word, &a);
  {
    const char *t = a.buf ? a.buf : "";
    size_t tn = a.len;
    int any_seen = 0, done = 0;
    start = 0;
    size_t k;
    for (i = 0; i <= tn && !rc; i++) {
      const char *w;
      size_t wn, op_end, ver_s;
      struct hoist_comparator c;
      int dup = 0;
      if (i < tn && t[i] != ' ')
        continue;
      w = t + start;
      wn = i - start;
      start = i + 1;
      if (is_gte0(w, wn, flags & HOIST_SEMVER_INCLUDE_PRERELEASE))
        wn = 0;
      trim(&w, &wn);
      if (loose && !match_comparator(w, wn, 1, &op_end, &ver_s))
        continue;
      rc = make_comparator(w, wn, flags, &c, err);
      if (rc)
        break;
      if (done) {
        /* node builds every comparator before looking for the null set */
        comparator_release(&c);
        continue;
      }
      if (is_null_set_value(c.value)) {
        /* the null set replaces everything else */
        set_release(set);
        cap = 0;
        any_seen = 0;
        rc = set_push(set, &cap, &c);
        if (rc)
          comparator_release(&c);
        done = 1;
        continue;
      }
      for (k = 0; k < set->n; k++)
        if (strcmp(set->c[k].value, c.value) == 0)
          dup = 1;
      if (dup) {
        comparator_release(&c);
        continue;
      }
      if (c.op == HOIST_OP_ANY)
        any_seen = 1;
      rc = set_push(set, &cap, &c);
      if (rc)
        comparator_release(&c);
    }
    /* more than one comparator: drop the "any" one */
    if (!rc && any_seen && set->n > 1) {
      size_t j = 0;
      for (k = 0; k < set->n; k++) {
        if (set->c[k].op == HOIST_OP_ANY)
          comparator_release(&set->c[k]);
        else
          set->c[j++] = set->c[k];
      }
      set->n = j;
    }
  }
  strbuf_release(&a);
  strbuf_release(&b);
  if (rc) {
    set_release(set);
    if (rc == HOIST_ENOMEM || rc == HOIST_ERANGE)
      hoist_err_set(err, rc, "range is too long");
  }
  return rc;
}

void hoist_range_free(struct hoist_range *r)
{
  size_t i;
  if (!r)
    return;
  for (i = 0; i < r->nsets; i++)
    set_release(&r->sets[i]);
  free(r->sets);
  free(r->formatted);
  free(r);
}

static int format_range(struct hoist_range *r)
{
  struct strbuf sb;
  size_t i, k;
  int rc = 0;
  strbuf_init(&sb, WORK_MAX);
  for (i = 0; i < r->nsets && !rc; i++) {
    if (i > 0)
      rc = strbuf_addstr(&sb, "||");
    for (k = 0; k < r->sets[i].n && !rc; k++) {
      if (k > 0)
        rc = strbuf_addch(&sb, ' ');
      rc = rc ? rc : strbuf_addstr(&sb, r->sets[i].c[k].value);
    }
  }
  if (rc) {
    strbuf_release(&sb);
    return rc;
  }
  r->formatted = strbuf_detach(&sb, NULL);
  return r->formatted ? HOIST_OK : HOIST_ENOMEM;
}

/* raw = range.trim().replace(/\s+/g, ' '), with hoist's commas read as spaces. */
static int normalize_raw(const char *s, size_t n, struct strbuf *out)
{
  size_t i = 0, k;
  int rc = 0, pending = 0;
  trim(&s, &n);
  while (i < n && !rc) {
    if ((k = ws_len(s, i, n)) > 0 || s[i] == ',') {
      pending = 1;
      i += k ? k : 1;
      continue;
    }
    if (pending && out->len > 0)
      rc = strbuf_addch(out, ' ');
    pending = 0;
    rc = rc ? rc : strbuf_addch(out, s[i++]);
  }
  return rc;
}

int hoist_range_parse(const char *s, size_t len, int flags, struct hoist_range **out,
                      struct hoist_err *err)
{
  struct hoist_range *r;
  struct strbuf raw;
  size_t cap = 0, i, start = 0;
  int rc;
  const char *t;

  *out = NULL;
  r = calloc(1, sizeof *r);
  if (!r)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  r->flags = flags;
  strbuf_init(&raw, WORK_MAX);
  rc = normalize_raw(s, len, &raw);
  if (rc) {
    strbuf_release(&raw);
    free(r);
    return hoist_err_set(err, rc, "range is too long");
  }
  t = raw.buf ? raw.buf : "";
  /* split on "||"; each part trimmed and parsed; empty sets dropped */
  for (i = 0; i <= raw.len && !rc; i++) {
    if (i == raw.len || (t[i] == '|' && i + 1 < raw.len && t[i + 1] == '|')) {
      const char *p = t + start;
      size_t pn = i - start;
      struct hoist_comparator_set set;
      trim(&p, &pn);
      rc = parse_range_part(p, pn, flags, &set, err);
      if (!rc && set.n > 0) {
        if (r->nsets == cap) {
          size_t ncap = cap ? cap * 2 : 4;
          struct hoist_comparator_set *ns = realloc(r->sets, ncap * sizeof *ns);
          if (!ns) {
            set_release(&set);
            rc = hoist_err_set(err, HOIST_ENOMEM, "out of memory");
            break;
          }
          r->sets = ns;
          cap = ncap;
        }
        r->sets[r->nsets++] = set;
      }
      start = i + 2;
      i++;
    }
  }
  if (!rc && r->nsets == 0)
    rc = hoist_err_set(err, HOIST_EINVAL, "invalid range '%.*s'", (int)len, s);
  if (!rc && r->nsets > 1) {
    /* drop null sets unless all are; then a lone "any" set makes the whole range any */
    size_t j = 0, k;
    for (k = 0; k < r->nsets; k++)
      if (!is_null_set_value(r->sets[k].c[0].value))
        j++;
    if (j > 0) {
      j = 0;
      for (k = 0; k < r->nsets; k++) {
        if (is_null_set_value(r->sets[k].c[0].value))
          set_release(&r->sets[k]);
        else
          r->sets[j++] = r->sets[k];
      }
      r->nsets = j;
    } else {
      for (k = 1; k < r->nsets; k++)
        set_release(&r->sets[k]);
      r->nsets = 1;
    }
    for (k = 0; k < r->nsets && r->nsets > 1; k++) {
      if (r->sets[k].n == 1 && r->sets[k].c[0].op == HOIST_OP_ANY) {
        size_t m;
        struct hoist_comparator_set keep = r->sets[k];
        for (m = 0; m < r->nsets; m++)
          if (m != k)
            set_release(&r->sets[m]);
        r->sets[0] = keep;
        r->nsets = 1;
      }
    }
  }
  if (!rc && format_range(r))
    rc = hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  strbuf_release(&raw);
  if (rc) {
    hoist_range_free(r);
    return rc;
  }
  *out = r;
  return HOIST_OK;
}

static int comparator_test(const struct hoist_comparator *c, const struct hoist_semver *v)
{
  int cmp;
  if (c->op == HOIST_OP_ANY)
    return 1;
  cmp = hoist_semver_compare(v, c->v);
  switch (c->op) {
  case HOIST_OP_EQ: return cmp == 0;
  case HOIST_OP_LT: return cmp < 0;
  case HOIST_OP_LE: return cmp <= 0;
  case HOIST_OP_GT: return cmp > 0;
  case HOIST_OP_GE: return cmp >= 0;
  default: return 1;
  }
}

static int set_test(const struct hoist_comparator_set *set, const struct hoist_semver *v, int incpr)
{
  size_t i;
  for (i = 0; i < set->n; i++)
    if (!comparator_test(&set->c[i], v))
      return 0;
  if (v->npre && !incpr) {
    /* a prerelease passes only when a comparator names a prerelease of the same tuple */
    for (i = 0; i < set->n; i++) {
      const struct hoist_semver *a = set->c[i].v;
      if (!a || a->npre == 0)
        continue;
      if (a->major == v->major && a->minor == v->minor && a->patch == v->patch)
        return 1;
    }
    return 0;
  }
  return 1;
}

int hoist_range_test(const struct hoist_range *r, const struct hoist_semver *v)
{
  size_t i;
  for (i = 0; i < r->nsets; i++)
    if (set_test(&r->sets[i], v, r->flags & HOIST_SEMVER_INCLUDE_PRERELEASE))
      return 1;
  return 0;
}

int hoist_range_min_version(const struct hoist_range *r, struct hoist_semver **out,
                            struct hoist_err *err)
{
  struct hoist_semver *minver = NULL, *cand;
  size_t i, k;
  int rc;

  *out = NULL;
  if ((rc = hoist_semver_parse("0.0.0", 5, 0, &cand, err)))
    return rc;
  if (hoist_range_test(r, cand)) {
    *out = cand;
    return HOIST_OK;
  }
  hoist_semver_free(cand);
  if ((rc = hoist_semver_parse("0.0.0-0", 7, 0, &cand, err)))
    return rc;
  if (hoist_range_test(r, cand)) {
    *out = cand;
    return HOIST_OK;
  }
  hoist_semver_free(cand);

  for (i = 0; i < r->nsets; i++) {
    struct hoist_semver *setmin = NULL;
    for (k = 0; k < r->sets[i].n; k++) {
      const struct hoist_comparator *c = &r->sets[i].c[k];
      struct hoist_semver *cv = NULL;
      if (c->op == HOIST_OP_ANY || c->op == HOIST_OP_LT || c->op == HOIST_OP_LE)
        continue;
      if (c->op == HOIST_OP_GT) {
        /* the next version up: patch+1, or one more prerelease identifier */
        struct strbuf sb;
        strbuf_init(&sb, WORK_MAX);
        if (c->v->npre == 0)
          rc = strbuf_addf(&sb, "%llu.%llu.%llu", (unsigned long long)c->v->major,
                           (unsigned long long)c->v->minor, (unsigned long long)c->v->patch + 1);
        else
          rc = strbuf_addf(&sb, "%s.0", c->v->version);
        if (!rc)
          rc = hoist_semver_parse(sb.buf, sb.len, HOIST_SEMVER_LOOSE, &cv, err);
        strbuf_release(&sb);
      } else {
        rc = hoist_semver_parse(c->v->version, c->v->version_len, HOIST_SEMVER_LOOSE, &cv, err);
      }
      if (rc) {
        hoist_semver_free(setmin);
        hoist_semver_free(minver);
        return rc;
      }
      if (!setmin || hoist_semver_compare(cv, setmin) > 0) {
        hoist_semver_free(setmin);
        setmin = cv;
      } else {
        hoist_semver_free(cv);
      }
    }
    if (setmin && (!minver || hoist_semver_compare(minver, setmin) > 0)) {
      hoist_semver_free(minver);
      minver = setmin;
    } else {
      hoist_semver_free(setmin);
    }
  }
  if (minver && hoist_range_test(r, minver)) {
    *out = minver;
    return HOIST_OK;
  }
  hoist_semver_free(minver);
  return HOIST_OK;
}
