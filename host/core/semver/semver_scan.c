/*
** semver_scan.c: character classes and the version scanners node-semver
** writes as regexes (identifiers, prerelease and build tails, FULLPLAIN and
** LOOSEPLAIN), shared by versions (semver.c) and ranges (semver_range.c).
*/
#include "semver_scan.h"

/* ------------------------------------------------------------------ chars */


/*
** Length in bytes of the ECMAScript whitespace character (\s) at s[i], or 0.
** Besides ASCII blanks that is NBSP, the Unicode space separators, LS, PS and
** the BOM, here in their UTF-8 forms.
*/
size_t sv_ws_len(const char *s, size_t i, size_t n)
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
    if (sv_ws_len(s, n - k, n) == k)
      return k;
  return 0;
}

void sv_trim(const char **s, size_t *n)
{
  size_t k;
  while ((k = sv_ws_len(*s, 0, *n)) > 0) {
    *s += k;
    *n -= k;
  }
  while ((k = ws_len_before(*s, *n)) > 0)
    *n -= k;
}

/* The length JavaScript sees: UTF-16 code units. */
size_t sv_js_length(const char *s, size_t n)
{
  size_t i, len = 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c & 0xC0) != 0x80)
      len += (c >= 0xF0) ? 2 : 1;
  }
  return len;
}

size_t sv_digit_run(const char *s, size_t i, size_t n)
{
  size_t j = i;
  while (j < n && is_digit(s[j]))
    j++;
  return j;
}

size_t sv_id_run(const char *s, size_t i, size_t n)
{
  size_t j = i;
  while (j < n && is_idchar(s[j]))
    j++;
  return j;
}

/* Digits to a number; HOIST_ERANGE above 2^53-1 (node rejects those too). */
int sv_to_u64(const char *s, size_t n, uint64_t *out)
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
size_t sv_scan_pre_ids(const char *s, size_t i, size_t n, int loose)
{
  size_t e = sv_id_run(s, i, n);
  if (!pre_id_ok(s + i, e - i, loose))
    return i;
  while (e < n && s[e] == '.') {
    size_t f = sv_id_run(s, e + 1, n);
    if (!pre_id_ok(s + e + 1, f - e - 1, loose))
      break;
    e = f;
  }
  return e;
}

static size_t scan_build_ids(const char *s, size_t i, size_t n)
{
  size_t e = sv_id_run(s, i, n);
  if (e == i || e - i > MAX_SAFE_BUILD_LENGTH)
    return i;
  while (e < n && s[e] == '.') {
    size_t f = sv_id_run(s, e + 1, n);
    if (f == e + 1 || f - e - 1 > MAX_SAFE_BUILD_LENGTH)
      break;
    e = f;
  }
  return e;
}

/*
** (?:PRERELEASE)?(?:BUILD)? at i, greedy. In loose mode the hyphen is
** optional: "-beta" takes the hyphen, while "1.2.3-" and "1.2.3-.a" fall back
** to an identifier that starts with the hyphen itself (node gives "-").
*/
size_t sv_scan_tail(const char *s, size_t i, size_t n, int loose, struct tail *t)
{
  size_t j = i, e;
  t->pre_s = t->pre_e = t->bld_s = t->bld_e = i;
  if (j < n && s[j] == '-') {
    e = sv_scan_pre_ids(s, j + 1, n, loose);
    if (e > j + 1) {
      t->pre_s = j + 1;
      t->pre_e = e;
      j = e;
    } else if (loose) {
      e = sv_scan_pre_ids(s, j, n, loose);
      if (e > j) {
        t->pre_s = j;
        t->pre_e = e;
        j = e;
      }
    }
  } else if (loose && j < n && is_idchar(s[j])) {
    e = sv_scan_pre_ids(s, j, n, loose);
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

/* A main-version number: strict 0|[1-9]\d{0,256}, loose \d{1,256}. Returns its end or NPOS. */
size_t sv_scan_number(const char *s, size_t i, size_t n, int loose)
{
  size_t e;
  if (i >= n || !is_digit(s[i]))
    return NPOS;
  if (!loose && s[i] == '0')
    return i + 1;
  e = sv_digit_run(s, i, n);
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
  if ((e = sv_scan_number(s, i, n, loose)) == NPOS || e >= n || s[e] != '.')
    return NPOS;
  m->maj_e = e;
  m->min_s = e + 1;
  if ((e = sv_scan_number(s, e + 1, n, loose)) == NPOS || e >= n || s[e] != '.')
    return NPOS;
  m->min_e = e;
  m->pat_s = e + 1;
  if ((e = sv_scan_number(s, e + 1, n, loose)) == NPOS)
    return NPOS;
  if (loose && e < n && s[e] == '.' && e - m->pat_s >= 2)
    e--;
  m->pat_e = e;
  return sv_scan_tail(s, e, n, loose, &m->t);
}

/* FULL (^v?MAIN...$) or LOOSE (^[v=\s]*MAIN...$) over all of s[0..n). */
int sv_match_version(const char *s, size_t n, int loose, struct vmatch *m)
{
  size_t i = 0, k;
  if (loose) {
    while (i < n) {
      if (s[i] == 'v' || s[i] == '=')
        i++;
      else if ((k = sv_ws_len(s, i, n)) > 0)
        i += k;
      else
        break;
    }
  } else if (i < n && s[i] == 'v') {
    i++;
  }
  return scan_main_version(s, i, n, loose, m) == n;
}
