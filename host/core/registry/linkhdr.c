/*
** linkhdr.c: one pass over the Link header with a cursor, and RFC 3986
** section 5.2 resolution (split by Appendix B, merge, remove_dot_segments).
**
** The whole header is checked even after the next link is found: a page
** whose header cannot be read might hide its next link, and listing tags
** silently short is worse than failing.
*/
#include "httptok.h"
#include "linkhdr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* A byte a URL may hold here: visible ASCII but '<' and '>'. */
static int is_url_byte(unsigned char c)
{
  return c > 0x20 && c < 0x7f && c != '<' && c != '>';
}

static int is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* ------------------------------------------------------------------ URLs */

struct uri {
  const char *scheme, *auth, *path, *query;
  size_t scheme_n, auth_n, path_n, query_n;
  int has_scheme, has_auth, has_query;
};

/* RFC 3986 Appendix B, with the scheme held to its grammar. Returns 0, or -1 on a bad byte. */
static int split_uri(const char *s, size_t n, struct uri *u)
{
  size_t i = 0, k;
  memset(u, 0, sizeof *u);
  for (k = 0; k < n; k++)
    if (!is_url_byte((unsigned char)s[k]))
      return -1;
  while (i < n && s[i] != ':' && s[i] != '/' && s[i] != '?' && s[i] != '#')
    i++;
  if (i > 0 && i < n && s[i] == ':') {
    for (k = 0; k < i; k++)
      if (!(is_alpha((unsigned char)s[k]) ||
            (k > 0 && (is_digit((unsigned char)s[k]) || s[k] == '+' || s[k] == '-' || s[k] == '.'))))
        return -1;
    u->has_scheme = 1;
    u->scheme = s;
    u->scheme_n = i;
    i++;
  } else {
    i = 0;
  }
  if (n - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
    i += 2;
    u->has_auth = 1;
    u->auth = s + i;
    while (i < n && s[i] != '/' && s[i] != '?' && s[i] != '#')
      i++;
    u->auth_n = (size_t)(s + i - u->auth);
  }
  u->path = s + i;
  while (i < n && s[i] != '?' && s[i] != '#')
    i++;
  u->path_n = (size_t)(s + i - u->path);
  if (i < n && s[i] == '?') {
    i++;
    u->has_query = 1;
    u->query = s + i;
    while (i < n && s[i] != '#')
      i++;
    u->query_n = (size_t)(s + i - u->query);
  }
  return 0;
}

static int is_web(const struct uri *u)
{
  return u->has_scheme && (hoist_httptok_is_ci(u->scheme, u->scheme_n, "http") ||
                           hoist_httptok_is_ci(u->scheme, u->scheme_n, "https")) &&
         u->has_auth && u->auth_n > 0;
}

int hoist_url_origin(const char *url, char *out, size_t cap, struct hoist_err *err)
{
  struct uri u;
  char shown[HOIST_ERR_SHOW_MAX];
  const char *host, *port = NULL;
  size_t host_n, port_n = 0, i, o = 0;
  int https;
  if (split_uri(url, strlen(url), &u) != 0 || !is_web(&u))
    return hoist_err_set(err, HOIST_EINVAL, "URL '%s' is not an absolute http(s) URL",
                         hoist_err_show(shown, url, strlen(url)));
  if (memchr(u.auth, '@', u.auth_n))
    return hoist_err_set(err, HOIST_EINVAL, "URL '%s' carries user information",
                         hoist_err_show(shown, url, strlen(url)));
  https = u.scheme_n == 5;
  host = u.auth;
  host_n = u.auth_n;
  if (host[0] == '[') {
    const char *close = memchr(host, ']', host_n);
    size_t end = close ? (size_t)(close - host) + 1 : host_n;
    if (end < host_n && host[end] == ':') {
      port = host + end + 1;
      port_n = host_n - end - 1;
    }
    host_n = end;
  } else {
    const char *colon = memchr(host, ':', host_n);
    if (colon) {
      port = colon + 1;
      port_n = host_n - (size_t)(colon - host) - 1;
      host_n = (size_t)(colon - host);
    }
  }
  for (i = 0; i < port_n; i++)
    if (!is_digit((unsigned char)port[i]))
      return hoist_err_set(err, HOIST_EINVAL, "URL '%s' has an invalid port",
                           hoist_err_show(shown, url, strlen(url)));
  if (port_n == 0) {
    port = https ? "443" : "80";
    port_n = strlen(port);
  }
  /* leading zeros would make "host:080" differ from "host:80" */
  while (port_n > 1 && port[0] == '0') {
    port++;
    port_n--;
  }
  if (host_n == 0 || (https ? 8u : 7u) + host_n + 1 + port_n + 1 > cap)
    return hoist_err_set(err, host_n == 0 ? HOIST_EINVAL : HOIST_ERANGE, "URL '%s' has %s",
                         hoist_err_show(shown, url, strlen(url)),
                         host_n == 0 ? "no host" : "a host too long");
  memcpy(out, https ? "https://" : "http://", https ? 8 : 7);
  o = https ? 8 : 7;
  for (i = 0; i < host_n; i++)
    out[o++] = (char)hoist_httptok_lower((unsigned char)host[i]);
  out[o++] = ':';
  memcpy(out + o, port, port_n);
  o += port_n;
  out[o] = '\0';
  return 0;
}

/* Drops the last segment and its '/' from out[0..*o). */
static void pop_segment(const char *out, size_t *o)
{
  while (*o > 0 && out[*o - 1] != '/')
    (*o)--;
  if (*o > 0)
    (*o)--;
}

static int starts(const char *p, size_t n, const char *lit)
{
  size_t k = strlen(lit);
  return n >= k && memcmp(p, lit, k) == 0;
}

static int equals(const char *p, size_t n, const char *lit)
{
  return n == strlen(lit) && memcmp(p, lit, n) == 0;
}

/* RFC 3986 5.2.4 remove_dot_segments of p[0..n) into out (n bytes at least); returns the length. */
static size_t remove_dots(const char *p, size_t n, char *out)
{
  size_t o = 0;
  while (n > 0) {
    if (starts(p, n, "../")) {
      p += 3; n -= 3;
    } else if (starts(p, n, "./")) {
      p += 2; n -= 2;
    } else if (starts(p, n, "/./")) {
      p += 2; n -= 2;
    } else if (equals(p, n, "/.")) {
      p = "/"; n = 1;
    } else if (starts(p, n, "/../")) {
      p += 3; n -= 3;
      pop_segment(out, &o);
    } else if (equals(p, n, "/..")) {
      p = "/"; n = 1;
      pop_segment(out, &o);
    } else if (equals(p, n, ".") || equals(p, n, "..")) {
      n = 0;
    } else {
      size_t k = (p[0] == '/') ? 1 : 0;
      while (k < n && p[k] != '/')
        k++;
      memcpy(out + o, p, k);
      o += k;
      p += k;
      n -= k;
    }
  }
  return o;
}

int hoist_url_resolve(const char *base, const char *ref, size_t ref_len, char **out,
                      struct hoist_err *err)
{
  struct uri b, r;
  const struct uri *from_auth;
  const char *scheme, *query = NULL;
  size_t scheme_n, query_n = 0, merged_n, path_n, size, i;
  char shown[HOIST_ERR_SHOW_MAX];
  char *merged, *res, *o;
  int has_query;

  *out = NULL;
  if (split_uri(base, strlen(base), &b) != 0 || !is_web(&b))
    return hoist_err_set(err, HOIST_EINVAL, "base URL '%s' is not an absolute http(s) URL",
                         hoist_err_show(shown, base, strlen(base)));
  if (split_uri(ref, ref_len, &r) != 0)
    return hoist_err_set(err, HOIST_EINVAL, "URL '%s' holds a byte or a scheme that is not allowed",
                         hoist_err_show(shown, ref, ref_len));
  if (r.has_scheme && !is_web(&r))
    return hoist_err_set(err, HOIST_EINVAL, "URL '%s' is not an http(s) URL with a host",
                         hoist_err_show(shown, ref, ref_len));

  /* the path before dot removal: at most base's path, a '/' and ref's path */
  merged = malloc(b.path_n + r.path_n + 2);
  if (!merged)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory resolving a URL");
  merged_n = 0;
  if (r.has_scheme || r.has_auth || (r.path_n > 0 && r.path[0] == '/')) {
    memcpy(merged, r.path, r.path_n);
    merged_n = r.path_n;
    query = r.query;
    query_n = r.query_n;
    has_query = r.has_query;
  } else if (r.path_n == 0) {
    memcpy(merged, b.path, b.path_n);
    merged_n = b.path_n;
    has_query = r.has_query || b.has_query;
    query = r.has_query ? r.query : b.query;
    query_n = r.has_query ? r.query_n : b.query_n;
  } else {
    /* merge: base's path up to its last '/', or "/" when base has a host and no path */
    if (b.path_n == 0) {
      merged[merged_n++] = '/';
    } else {
      size_t keep = b.path_n;
      while (keep > 0 && b.path[keep - 1] != '/')
        keep--;
      memcpy(merged, b.path, keep);
      merged_n = keep;
    }
    memcpy(merged + merged_n, r.path, r.path_n);
    merged_n += r.path_n;
    query = r.query;
    query_n = r.query_n;
    has_query = r.has_query;
  }
  from_auth = (r.has_scheme || r.has_auth) ? &r : &b;
  scheme = r.has_scheme ? r.scheme : b.scheme;
  scheme_n = r.has_scheme ? r.scheme_n : b.scheme_n;
  if (from_auth->auth_n == 0) {
    free(merged);
    return hoist_err_set(err, HOIST_EINVAL, "URL '%s' has no host", hoist_err_show(shown, ref, ref_len));
  }

  /* + 1 for a '/' put before a path that lacks one */
  size = scheme_n + 3 + from_auth->auth_n + 1 + merged_n + 1 + query_n + 1;
  res = malloc(size);
  if (!res) {
    free(merged);
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory resolving a URL");
  }
  o = res;
  for (i = 0; i < scheme_n; i++)
    *o++ = (char)hoist_httptok_lower((unsigned char)scheme[i]);
  memcpy(o, "://", 3);
  o += 3;
  memcpy(o, from_auth->auth, from_auth->auth_n);
  o += from_auth->auth_n;
  path_n = remove_dots(merged, merged_n, o);
  /* an authority is followed by an empty path or one that starts with '/' */
  if (path_n > 0 && o[0] != '/') {
    memmove(o + 1, o, path_n);
    o[0] = '/';
    path_n++;
  }
  o += path_n;
  if (has_query) {
    *o++ = '?';
    memcpy(o, query, query_n);
    o += query_n;
  }
  *o = '\0';
  free(merged);
  *out = res;
  return 0;
}

/* ------------------------------------------------------------------ Link */

/* 1 when the rel value (quoted: with quoted-pairs) lists "next" among its blank-separated types. */
static int rel_has_next(const char *v, size_t n, int quoted)
{
  static const char want[] = "next";
  size_t i, matched = 0;
  int in_word = 0, ok = 1;
  for (i = 0; i <= n; i++) {
    unsigned char c;
    if (i == n) {
      c = ' ';
    } else {
      c = (unsigned char)v[i];
      if (quoted && c == '\\' && i + 1 < n)
        c = (unsigned char)v[++i];
    }
    if (c == ' ' || c == '\t') {
      if (in_word && ok && matched == 4)
        return 1;
      in_word = 0;
      continue;
    }
    if (!in_word) {
      in_word = 1;
      matched = 0;
      ok = 1;
    }
    if (ok && matched < 4 && hoist_httptok_lower(c) == (unsigned char)want[matched])
      matched++;
    else
      ok = 0;
  }
  return 0;
}

int hoist_linkhdr_next(const char *s, size_t len, const char *base, char **next,
                       struct hoist_err *err)
{
  struct hoist_httptok sc;
  const char *found = NULL;
  size_t found_n = 0, nlinks = 0, nparams = 0;
  char shown[HOIST_ERR_SHOW_MAX];
  struct uri b;
  int rc;

  *next = NULL;
  if (split_uri(base, strlen(base), &b) != 0 || !is_web(&b))
    return hoist_err_set(err, HOIST_EINVAL, "base URL '%s' is not an absolute http(s) URL",
                         hoist_err_show(shown, base, strlen(base)));
  if (len > HOIST_LINKHDR_MAX)
    return hoist_err_set(err, HOIST_ERANGE, "invalid Link header: longer than %d bytes",
                         HOIST_LINKHDR_MAX);
  hoist_httptok_init(&sc, "Link", s, len, err);
  for (;;) {
    const char *target, *gt;
    size_t target_n, at;
    int rel_seen = 0, is_next = 0;
    hoist_httptok_list_sep(&sc);
    if (sc.i >= sc.n)
      break;
    at = sc.i;
    if (sc.s[sc.i] != '<')
      return hoist_httptok_fail(&sc, HOIST_EINVAL, sc.i, "expected '<' to start a link");
    if (nlinks == HOIST_LINKHDR_MAX_LINKS)
      return hoist_httptok_fail(&sc, HOIST_ERANGE, at, "more than %d links", HOIST_LINKHDR_MAX_LINKS);
    nlinks++;
    gt = memchr(sc.s + sc.i + 1, '>', sc.n - sc.i - 1);
    if (!gt)
      return hoist_httptok_fail(&sc, HOIST_EINVAL, at, "a '<' without its '>'");
    target = sc.s + sc.i + 1;
    target_n = (size_t)(gt - target);
    sc.i = (size_t)(gt - sc.s) + 1;
    for (;;) {
      const char *key, *val = NULL;
      size_t key_n, val_n = 0, pat;
      int quoted = 0;
      hoist_httptok_ows(&sc);
      if (sc.i >= sc.n || sc.s[sc.i] != ';')
        break;
      sc.i++;
      hoist_httptok_ows(&sc);
      if (sc.i >= sc.n || sc.s[sc.i] == ';' || sc.s[sc.i] == ',')
        continue;  /* an empty param: "<u>;;rel=next", "<u>;" */
      pat = sc.i;
      key = sc.s + sc.i;
      key_n = hoist_httptok_token(&sc);
      if (key_n == 0)
        return hoist_httptok_fail(&sc, HOIST_EINVAL, sc.i, "expected a parameter name");
      if (nparams == HOIST_LINKHDR_MAX_PARAMS)
        return hoist_httptok_fail(&sc, HOIST_ERANGE, pat, "more than %d parameters", HOIST_LINKHDR_MAX_PARAMS);
      nparams++;
      hoist_httptok_ows(&sc);
      if (sc.i < sc.n && sc.s[sc.i] == '=') {
        sc.i++;
        hoist_httptok_ows(&sc);
        if (sc.i < sc.n && sc.s[sc.i] == '"') {
          if ((rc = hoist_httptok_quoted(&sc, &val, &val_n)) != 0)
            return rc;
          quoted = 1;
        } else {
          val = sc.s + sc.i;
          val_n = hoist_httptok_bare(&sc, ";");
          if (val_n == 0)
            return hoist_httptok_fail(&sc, HOIST_EINVAL, sc.i, "parameter '%s' has no value",
                          hoist_err_show(shown, key, key_n));
        }
      }
      if (hoist_httptok_is_ci(key, key_n, "rel") && !rel_seen) {
        rel_seen = 1;
        is_next = val && rel_has_next(val, val_n, quoted);
      }
    }
    if (sc.i < sc.n && sc.s[sc.i] != ',')
      return hoist_httptok_fail(&sc, HOIST_EINVAL, sc.i, "expected ';', ',' or the end of the header");
    if (is_next && !found) {
      found = target;
      found_n = target_n;
    }
  }
  if (!found)
    return 0;
  if ((rc = hoist_url_resolve(base, found, found_n, next, err)) != 0) {
    char what[sizeof err->msg];
    if (!err)
      return rc;
    memcpy(what, err->msg, sizeof what);
    return hoist_err_set(err, rc, "invalid Link header: next link: %s", what);
  }
  return 0;
}
