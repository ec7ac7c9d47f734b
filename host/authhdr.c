/*
** authhdr.c: WWW-Authenticate in two passes. The first pass scans the header
** into spans (challenges and their params, pointing into the input) in
** fixed-size arrays, which is where the bounds are enforced; the second sizes
** one block and unescapes the few values hoist keeps into it.
**
** The one ambiguity of the grammar is what follows a comma: a token followed
** by '=' is another auth-param of the current challenge, any other token
** starts a new challenge. Right after a scheme, a token68 (base64-like, '='
** padding only at its end, then ',' or the end) is told apart from a param
** the same way.
*/
#include "authhdr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


struct param {
  const char *key, *val;
  size_t key_n, val_n;
  int quoted;
};

struct challenge {
  const char *scheme;
  size_t scheme_n;
  size_t first, nparams;  /* its params: params[first .. first + nparams) */
};

struct scan {
  const char *s;
  size_t n, i;
  struct challenge ch[HOIST_AUTHHDR_MAX_CHALLENGES];
  struct param pa[HOIST_AUTHHDR_MAX_PARAMS];
  size_t nch, npa;
  struct hoist_err *err;
};

static int is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_ows(unsigned char c) { return c == ' ' || c == '\t'; }

/* RFC 9110 tchar */
static int is_tchar(unsigned char c)
{
  return is_alpha(c) || is_digit(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int is_token68(unsigned char c)
{
  return is_alpha(c) || is_digit(c) || (c && strchr("-._~+/", c) != NULL);
}

/* A byte of an unquoted value: visible ASCII but ',' and '"'. */
static int is_bare(unsigned char c)
{
  return c > 0x20 && c < 0x7f && c != ',' && c != '"';
}

static int ascii_lower(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int span_eq_ci(const char *a, size_t an, const char *b, size_t bn)
{
  size_t i;
  if (an != bn)
    return 0;
  for (i = 0; i < an; i++)
    if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
      return 0;
  return 1;
}

static int span_is_ci(const char *s, size_t n, const char *lit)
{
  return span_eq_ci(s, n, lit, strlen(lit));
}


/* Records "<what> at byte N near '...'" for the position at. */
static int bad_at(struct scan *sc, int code, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad_at(struct scan *sc, int code, size_t at, const char *fmt, ...)
{
  char what[160], near[HOIST_ERR_SHOW_MAX];
  size_t left = at < sc->n ? sc->n - at : 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (left == 0)
    return hoist_err_set(sc->err, code, "invalid WWW-Authenticate header: %s at its end", what);
  return hoist_err_set(sc->err, code, "invalid WWW-Authenticate header: %s at byte %zu near '%s'",
                       what, at, hoist_err_show(near, sc->s + at, left));
}

static void skip_ows(struct scan *sc)
{
  while (sc->i < sc->n && is_ows((unsigned char)sc->s[sc->i]))
    sc->i++;
}

static size_t scan_token(struct scan *sc)
{
  size_t start = sc->i;
  while (sc->i < sc->n && is_tchar((unsigned char)sc->s[sc->i]))
    sc->i++;
  return sc->i - start;
}

/*
** A quoted-string at sc->i (the opening quote): qdtext is HTAB, SP, visible
** ASCII but '"' and '\', and bytes >= 0x80; a quoted-pair escapes HTAB, SP,
** visible ASCII or a byte >= 0x80. The span excludes the quotes.
*/
static int scan_quoted(struct scan *sc, const char **val, size_t *val_n)
{
  size_t open = sc->i;
  sc->i++;
  *val = sc->s + sc->i;
  while (sc->i < sc->n) {
    unsigned char c = (unsigned char)sc->s[sc->i];
    if (c == '"') {
      *val_n = (size_t)(sc->s + sc->i - *val);
      sc->i++;
      return 0;
    }
    if (c == '\\') {
      if (sc->i + 1 >= sc->n)
        break;
      c = (unsigned char)sc->s[sc->i + 1];
      if ((c < 0x20 && c != '\t') || c == 0x7f)
        return bad_at(sc, HOIST_EINVAL, sc->i + 1, "a control character escaped in a quoted string");
      sc->i += 2;
      continue;
    }
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return bad_at(sc, HOIST_EINVAL, sc->i, "a control character in a quoted string");
    sc->i++;
  }
  return bad_at(sc, HOIST_EINVAL, open, "an unterminated quoted string");
}

/*
** An auth-param at sc->i: token BWS "=" BWS (quoted-string | bare value).
** Adds it to the current challenge.
*/
static int scan_param(struct scan *sc)
{
  struct challenge *c = &sc->ch[sc->nch - 1];
  struct param p;
  size_t at = sc->i, k;
  char what[HOIST_ERR_SHOW_MAX];
  int rc;
  p.key = sc->s + sc->i;
  p.key_n = scan_token(sc);
  if (p.key_n == 0)
    return bad_at(sc, HOIST_EINVAL, at, "expected a parameter name");
  skip_ows(sc);
  if (sc->i >= sc->n || sc->s[sc->i] != '=')
    return bad_at(sc, HOIST_EINVAL, sc->i, "expected '=' after parameter '%s'",
                  hoist_err_show(what, p.key, p.key_n));
  sc->i++;
  skip_ows(sc);
  if (sc->i < sc->n && sc->s[sc->i] == '"') {
    if ((rc = scan_quoted(sc, &p.val, &p.val_n)) != 0)
      return rc;
    p.quoted = 1;
  } else {
    p.val = sc->s + sc->i;
    while (sc->i < sc->n && is_bare((unsigned char)sc->s[sc->i]))
      sc->i++;
    p.val_n = (size_t)(sc->s + sc->i - p.val);
    p.quoted = 0;
    if (p.val_n == 0)
      return bad_at(sc, HOIST_EINVAL, sc->i, "parameter '%s' has no value",
                    hoist_err_show(what, p.key, p.key_n));
  }
  for (k = c->first; k < c->first + c->nparams; k++)
    if (span_eq_ci(sc->pa[k].key, sc->pa[k].key_n, p.key, p.key_n))
      return bad_at(sc, HOIST_EINVAL, at, "parameter '%s' appears twice in one challenge",
                    hoist_err_show(what, p.key, p.key_n));
  if (sc->npa == HOIST_AUTHHDR_MAX_PARAMS)
    return bad_at(sc, HOIST_ERANGE, at, "more than %d parameters", HOIST_AUTHHDR_MAX_PARAMS);
  sc->pa[sc->npa++] = p;
  c->nparams++;
  return 0;
}

/* A token68 right at sc->i, ending at ',' or the end: consumes it and returns 1. */
static int try_token68(struct scan *sc)
{
  size_t j = sc->i;
  while (j < sc->n && is_token68((unsigned char)sc->s[j]))
    j++;
  if (j == sc->i)
    return 0;
  while (j < sc->n && sc->s[j] == '=')
    j++;
  while (j < sc->n && is_ows((unsigned char)sc->s[j]))
    j++;
  if (j < sc->n && sc->s[j] != ',')
    return 0;
  sc->i = j;
  return 1;
}

static int scan_header(struct scan *sc)
{
  int rc;
  for (;;) {
    size_t at, tok_n;
    /* empty list elements are allowed: ", ,Basic" */
    while (sc->i < sc->n && (is_ows((unsigned char)sc->s[sc->i]) || sc->s[sc->i] == ','))
      sc->i++;
    if (sc->i >= sc->n)
      break;
    at = sc->i;
    tok_n = scan_token(sc);
    if (tok_n == 0)
      return bad_at(sc, HOIST_EINVAL, at, "expected an auth scheme or a parameter");
    skip_ows(sc);
    if (sc->nch > 0 && sc->i < sc->n && sc->s[sc->i] == '=') {
      /* another auth-param of the current challenge */
      sc->i = at;
      if ((rc = scan_param(sc)) != 0)
        return rc;
    } else {
      struct challenge *c;
      size_t after = at + tok_n;
      if (sc->nch == HOIST_AUTHHDR_MAX_CHALLENGES)
        return bad_at(sc, HOIST_ERANGE, at, "more than %d challenges",
                      HOIST_AUTHHDR_MAX_CHALLENGES);
      c = &sc->ch[sc->nch++];
      c->scheme = sc->s + at;
      c->scheme_n = tok_n;
      c->first = sc->npa;
      c->nparams = 0;
      if (sc->i < sc->n && sc->s[sc->i] != ',') {
        if (sc->i == after)
          return bad_at(sc, HOIST_EINVAL, sc->i, "expected a space after the auth scheme");
        if (!try_token68(sc) && (rc = scan_param(sc)) != 0)
          return rc;
      }
    }
    skip_ows(sc);
    if (sc->i < sc->n && sc->s[sc->i] != ',')
      return bad_at(sc, HOIST_EINVAL, sc->i, "expected ',' or the end of the header");
  }
  if (sc->nch == 0)
    return hoist_err_set(sc->err, HOIST_EINVAL, "invalid WWW-Authenticate header: no challenge");
  return 0;
}

static const struct param *find(const struct scan *sc, const struct challenge *c, const char *key)
{
  size_t k;
  for (k = c->first; k < c->first + c->nparams; k++)
    if (span_is_ci(sc->pa[k].key, sc->pa[k].key_n, key))
      return &sc->pa[k];
  return NULL;
}

/* Unescapes p's value at *cur (NUL-terminated); returns where it was put. */
static const char *put_value(char **cur, const struct param *p)
{
  char *at = *cur, *o = at;
  size_t i;
  for (i = 0; i < p->val_n; i++) {
    if (p->quoted && p->val[i] == '\\')
      i++;  /* scan_quoted guarantees a byte after every backslash */
    *o++ = p->val[i];
  }
  *o = '\0';
  *cur = o + 1;
  return at;
}

static int is_split(char c)
{
  return c == ' ' || c == '\t';
}

/* Counts the scopes in s. */
static size_t count_scopes(const char *s)
{
  size_t k = 0;
  while (*s) {
    while (is_split(*s))
      s++;
    if (!*s)
      break;
    k++;
    while (*s && !is_split(*s))
      s++;
  }
  return k;
}

int hoist_authhdr_parse(const char *s, size_t len, struct hoist_authhdr **out,
                        struct hoist_err *err)
{
  struct scan sc;
  const struct challenge *bearer = NULL, *basic = NULL;
  const struct param *want[5] = { NULL, NULL, NULL, NULL, NULL };
  static const char *const keys[4] = { "realm", "service", "scope", "error" };
  const char **slots[5];
  struct hoist_authhdr *h;
  size_t i, size, strings = 0, nscopes_max = 0;
  char *cur;
  int rc;

  *out = NULL;
  if (len > HOIST_AUTHHDR_MAX)
    return hoist_err_set(err, HOIST_ERANGE,
                         "invalid WWW-Authenticate header: longer than %d bytes", HOIST_AUTHHDR_MAX);
  /* a trailing CRLF, as a header callback hands it over, and surrounding blanks */
  while (len > 0 && (s[len - 1] == '\r' || s[len - 1] == '\n' || is_ows((unsigned char)s[len - 1])))
    len--;
  memset(&sc, 0, sizeof sc);
  sc.s = s;
  sc.n = len;
  sc.err = err;
  if ((rc = scan_header(&sc)) != 0)
    return rc;

  for (i = 0; i < sc.nch; i++) {
    if (!bearer && span_is_ci(sc.ch[i].scheme, sc.ch[i].scheme_n, "bearer"))
      bearer = &sc.ch[i];
    if (!basic && span_is_ci(sc.ch[i].scheme, sc.ch[i].scheme_n, "basic"))
      basic = &sc.ch[i];
  }
  if (bearer)
    for (i = 0; i < 4; i++)
      want[i] = find(&sc, bearer, keys[i]);
  if (basic)
    want[4] = find(&sc, basic, "realm");
  for (i = 0; i < 5; i++)
    if (want[i])
      strings += want[i]->val_n + 1;
  if (want[2]) {
    /* the split copy is at most the value again; scopes need a pointer each */
    strings += want[2]->val_n + 1;
    nscopes_max = want[2]->val_n / 2 + 1;
  }
  size = sizeof *h + nscopes_max * sizeof(char *) + strings;
  h = malloc(size);
  if (!h)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory parsing a WWW-Authenticate header");
  memset(h, 0, sizeof *h);
  h->nchallenges = sc.nch;
  h->bearer = bearer != NULL;
  h->basic = basic != NULL;
  cur = (char *)(h + 1) + nscopes_max * sizeof(char *);
  slots[0] = &h->realm;
  slots[1] = &h->service;
  slots[2] = &h->scope;
  slots[3] = &h->error;
  slots[4] = &h->basic_realm;
  for (i = 0; i < 5; i++)
    if (want[i])
      *slots[i] = put_value(&cur, want[i]);
  if (h->scope) {
    const char **list = (const char **)(void *)(h + 1);
    char *o = cur;
    const char *p = h->scope;
    h->nscopes = count_scopes(h->scope);
    for (i = 0; i < h->nscopes; i++) {
      while (is_split(*p))
        p++;
      list[i] = o;
      while (*p && !is_split(*p))
        *o++ = *p++;
      *o++ = '\0';
    }
    h->scopes = list;
  }
  *out = h;
  return 0;
}

void hoist_authhdr_free(struct hoist_authhdr *h)
{
  free(h);
}
