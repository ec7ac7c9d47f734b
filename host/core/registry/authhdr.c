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
#include "httptok.h"

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
  struct hoist_httptok t;
  struct challenge ch[HOIST_AUTHHDR_MAX_CHALLENGES];
  struct param pa[HOIST_AUTHHDR_MAX_PARAMS];
  size_t nch, npa;
};

static int is_token68(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c && strchr("-._~+/", c) != NULL);
}

/*
** An auth-param at sc->t.i: token BWS "=" BWS (quoted-string | bare value).
** Adds it to the current challenge.
*/
static int scan_param(struct scan *sc)
{
  struct challenge *c = &sc->ch[sc->nch - 1];
  struct param p;
  size_t at = sc->t.i, k;
  char what[HOIST_ERR_SHOW_MAX];
  int rc;
  p.key = sc->t.s + sc->t.i;
  p.key_n = hoist_httptok_token(&sc->t);
  if (p.key_n == 0)
    return hoist_httptok_fail(&sc->t, HOIST_EINVAL, at, "expected a parameter name");
  hoist_httptok_ows(&sc->t);
  if (sc->t.i >= sc->t.n || sc->t.s[sc->t.i] != '=')
    return hoist_httptok_fail(&sc->t, HOIST_EINVAL, sc->t.i, "expected '=' after parameter '%s'",
                  hoist_err_show(what, p.key, p.key_n));
  sc->t.i++;
  hoist_httptok_ows(&sc->t);
  if (sc->t.i < sc->t.n && sc->t.s[sc->t.i] == '"') {
    if ((rc = hoist_httptok_quoted(&sc->t, &p.val, &p.val_n)) != 0)
      return rc;
    p.quoted = 1;
  } else {
    p.val = sc->t.s + sc->t.i;
    p.val_n = hoist_httptok_bare(&sc->t, "");
    p.quoted = 0;
    if (p.val_n == 0)
      return hoist_httptok_fail(&sc->t, HOIST_EINVAL, sc->t.i, "parameter '%s' has no value",
                    hoist_err_show(what, p.key, p.key_n));
  }
  for (k = c->first; k < c->first + c->nparams; k++)
    if (hoist_httptok_eq_ci(sc->pa[k].key, sc->pa[k].key_n, p.key, p.key_n))
      return hoist_httptok_fail(&sc->t, HOIST_EINVAL, at, "parameter '%s' appears twice in one challenge",
                    hoist_err_show(what, p.key, p.key_n));
  if (sc->npa == HOIST_AUTHHDR_MAX_PARAMS)
    return hoist_httptok_fail(&sc->t, HOIST_ERANGE, at, "more than %d parameters", HOIST_AUTHHDR_MAX_PARAMS);
  sc->pa[sc->npa++] = p;
  c->nparams++;
  return 0;
}

/* A token68 right at sc->t.i, ending at ',' or the end: consumes it and returns 1. */
static int try_token68(struct scan *sc)
{
  size_t j = sc->t.i;
  while (j < sc->t.n && is_token68((unsigned char)sc->t.s[j]))
    j++;
  if (j == sc->t.i)
    return 0;
  while (j < sc->t.n && sc->t.s[j] == '=')
    j++;
  while (j < sc->t.n && hoist_httptok_is_ows((unsigned char)sc->t.s[j]))
    j++;
  if (j < sc->t.n && sc->t.s[j] != ',')
    return 0;
  sc->t.i = j;
  return 1;
}

static int scan_header(struct scan *sc)
{
  int rc;
  for (;;) {
    size_t at, tok_n;
    /* empty list elements are allowed: ", ,Basic" */
    hoist_httptok_list_sep(&sc->t);
    if (sc->t.i >= sc->t.n)
      break;
    at = sc->t.i;
    tok_n = hoist_httptok_token(&sc->t);
    if (tok_n == 0)
      return hoist_httptok_fail(&sc->t, HOIST_EINVAL, at, "expected an auth scheme or a parameter");
    hoist_httptok_ows(&sc->t);
    if (sc->nch > 0 && sc->t.i < sc->t.n && sc->t.s[sc->t.i] == '=') {
      /* another auth-param of the current challenge */
      sc->t.i = at;
      if ((rc = scan_param(sc)) != 0)
        return rc;
    } else {
      struct challenge *c;
      size_t after = at + tok_n;
      if (sc->nch == HOIST_AUTHHDR_MAX_CHALLENGES)
        return hoist_httptok_fail(&sc->t, HOIST_ERANGE, at, "more than %d challenges",
                      HOIST_AUTHHDR_MAX_CHALLENGES);
      c = &sc->ch[sc->nch++];
      c->scheme = sc->t.s + at;
      c->scheme_n = tok_n;
      c->first = sc->npa;
      c->nparams = 0;
      if (sc->t.i < sc->t.n && sc->t.s[sc->t.i] != ',') {
        if (sc->t.i == after)
          return hoist_httptok_fail(&sc->t, HOIST_EINVAL, sc->t.i, "expected a space after the auth scheme");
        if (!try_token68(sc) && (rc = scan_param(sc)) != 0)
          return rc;
      }
    }
    hoist_httptok_ows(&sc->t);
    if (sc->t.i < sc->t.n && sc->t.s[sc->t.i] != ',')
      return hoist_httptok_fail(&sc->t, HOIST_EINVAL, sc->t.i, "expected ',' or the end of the header");
  }
  if (sc->nch == 0)
    return hoist_err_set(sc->t.err, HOIST_EINVAL, "invalid WWW-Authenticate header: no challenge");
  return 0;
}

static const struct param *find(const struct scan *sc, const struct challenge *c, const char *key)
{
  size_t k;
  for (k = c->first; k < c->first + c->nparams; k++)
    if (hoist_httptok_is_ci(sc->pa[k].key, sc->pa[k].key_n, key))
      return &sc->pa[k];
  return NULL;
}

/* Unescapes p's value at *cur (NUL-terminated); returns where it was put. */
static const char *put_value(char **cur, const struct param *p)
{
  char *at = *cur;
  size_t n = p->quoted ? hoist_httptok_unquote(p->val, p->val_n, at) : p->val_n;
  if (!p->quoted)
    memcpy(at, p->val, n);
  at[n] = '\0';
  *cur = at + n + 1;
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
  memset(&sc, 0, sizeof sc);
  hoist_httptok_init(&sc.t, "WWW-Authenticate", s, len, err);
  if ((rc = scan_header(&sc)) != 0)
    return rc;

  for (i = 0; i < sc.nch; i++) {
    if (!bearer && hoist_httptok_is_ci(sc.ch[i].scheme, sc.ch[i].scheme_n, "bearer"))
      bearer = &sc.ch[i];
    if (!basic && hoist_httptok_is_ci(sc.ch[i].scheme, sc.ch[i].scheme_n, "basic"))
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
