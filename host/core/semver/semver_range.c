/*
** semver_range.c: node-semver 7 ranges. The pipeline keeps node's order of
** rewrites (hyphen ranges, comparator whitespace, carets, tildes, x-ranges,
** stars), because the rewrites interact; then comparator sets, their test
** and the minimum version a range admits.
*/
#include "semver.h"
#include "semver_scan.h"

#include "strbuf.h"

#include <stdlib.h>
#include <string.h>

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
  return sv_scan_number(s, i, n, loose);
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
    else if ((k = sv_ws_len(s, j, n)) > 0)
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
          e = sv_scan_tail(s, g, n, loose, &t);
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
      size_t j = sv_id_run(s, i + 1, n);
      while (j + 1 < n && s[j] == '.' && is_idchar(s[j + 1]))
        j = sv_id_run(s, j + 1, n);
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

  if ((k = sv_ws_len(s, i, n)) > 0)
    i += k;
  e = scan_xrangeplain(s, i, n, loose, &f);
  if (e == NPOS || (k = sv_ws_len(s, e, n)) == 0 || e + k >= n || s[e + k] != '-')
    return strbuf_add(out, s, n);
  e += k + 1;
  if ((k = sv_ws_len(s, e, n)) == 0)
    return strbuf_add(out, s, n);
  e = scan_xrangeplain(s, e + k, n, loose, &t);
  if (e == NPOS)
    return strbuf_add(out, s, n);
  e += sv_ws_len(s, e, n);
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

static int tc_ws(const char *s, size_t i, size_t n) { return i < n && sv_ws_len(s, i, n) == 1; }
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
  end = sv_digit_run(s, start, n);
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
    if ((k = sv_ws_len(s, j, n)) > 0 && j + k < n && s[j + k] == op) {
      lead = k;
      j += k;
    }
    if (s[j] == op) {
      size_t after = j + 1;
      if (op == '~' && after < n && s[after] == '>' && sv_ws_len(s, after + 1, n) > 0)
        after++;
      if ((k = sv_ws_len(s, after, n)) > 0) {
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
    k = i < n ? sv_ws_len(s, i, n) : 0;
    if (i >= n || k > 0) {
      if (!first)
        rc = strbuf_addch(out, ' ');
      first = 0;
      rc = rc ? rc : fn(s + start, i - start, flags, out);
      if (rc || i >= n)
        return rc;
      while (i < n && (k = sv_ws_len(s, i, n)) > 0)
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

  sv_trim(&s, &n);
  g = scan_gtlt(s, 0, n);
  i = g;
  if ((k = sv_ws_len(s, i, n)) > 0)
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
  sv_trim(&s, &n);
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
            if ((k = sv_ws_len(s, q3, n)) == 0)
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
  sv_trim(&s, &n);
  rc = map_words(s, n, flags, caret_one, &a);
  if (!rc) {
    const char *t = a.buf ? a.buf : "";
    size_t tn = a.len;
    sv_trim(&t, &tn);
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
  if ((k = sv_ws_len(s, i, n)) > 0)
    i += k;
  if (!sv_match_version(s + i, n - i, loose, &m))
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
  sv_trim(&s, &n);
  if (n < 2 || s[0] != '>' || s[1] != '=')
    return 0;
  i = 2;
  if ((k = sv_ws_len(s, i, n)) > 0)
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
      sv_trim(&w, &wn);
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
  sv_trim(&s, &n);
  while (i < n && !rc) {
    if ((k = sv_ws_len(s, i, n)) > 0 || s[i] == ',') {
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
      sv_trim(&p, &pn);
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
