/*
** ref.c: docker-transport image references without regular expressions.
**
** distribution/reference matches one anchored regex; here the reference is
** cut at fixed points instead, which that grammar allows because '@', ':' and
** '/' each have one meaning per part: the first '@' starts the digest (no
** other part may hold '@'); in what is left, the first '/' ends the domain
** when the first component looks like one; in the path that remains, the
** first ':' starts the tag (path components cannot hold ':'). Each piece is
** then checked on its own, left to right, so the first culprit is reported.
*/
#include "ref.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HUB_DOMAIN "docker.io"
#define HUB_LEGACY_DOMAIN "index.docker.io"
#define HUB_API_HOST "registry-1.docker.io"
#define HUB_OFFICIAL "library/"
#define TRANSPORT "docker://"

static int is_lower(char c) { return c >= 'a' && c <= 'z'; }
static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alnum(char c) { return is_lower(c) || is_upper(c) || is_digit(c); }
static int is_word(char c) { return is_alnum(c) || c == '_'; }
static int is_lower_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }
static int is_hex(char c) { return is_lower_hex(c) || (c >= 'A' && c <= 'F'); }


/* Records "invalid reference '<s>': <reason>" and returns code. */
static int bad(struct hoist_err *err, int code, const char *s, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int bad(struct hoist_err *err, int code, const char *s, size_t n, const char *fmt, ...)
{
  char in[HOIST_ERR_SHOW_MAX], reason[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  return hoist_err_set(err, code, "invalid reference '%s': %s", hoist_err_show(in, s, n), reason);
}

static int span_is(const char *s, size_t n, const char *lit)
{
  return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static int ascii_lower(int c)
{
  return is_upper((char)c) ? c - 'A' + 'a' : c;
}

static int span_is_ci(const char *s, size_t n, const char *lit)
{
  size_t i;
  if (strlen(lit) != n)
    return 0;
  for (i = 0; i < n; i++)
    if (ascii_lower((unsigned char)s[i]) != (unsigned char)lit[i])
      return 0;
  return 1;
}

/* ------------------------------------------------------------------ loopback */

/* Copies s[0..n) NUL-terminated into dst (cap bytes); 0 when it does not fit. */
static int copy_z(char *dst, size_t cap, const char *s, size_t n)
{
  if (n >= cap)
    return 0;
  memcpy(dst, s, n);
  dst[n] = '\0';
  return 1;
}

static int valid_port(const char *s, size_t n)
{
  unsigned long v = 0;
  size_t i;
  if (n == 0 || n > 5)
    return 0;
  for (i = 0; i < n; i++) {
    if (!is_digit(s[i]))
      return 0;
    v = v * 10 + (unsigned long)(s[i] - '0');
  }
  return v >= 1 && v <= 65535;
}

static int ipv6_is_loopback(const char *s, size_t n)
{
  static const unsigned char one[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
  static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  char buf[64];
  struct in6_addr a;
  if (!copy_z(buf, sizeof buf, s, n) || inet_pton(AF_INET6, buf, &a) != 1)
    return 0;
  if (memcmp(a.s6_addr, one, 16) == 0)
    return 1;
  return memcmp(a.s6_addr, mapped, 12) == 0 && a.s6_addr[12] == 127;
}

int hoist_ref_is_loopback(const char *host)
{
  size_t n, colons = 0, i;
  const char *colon = NULL;
  char buf[64];
  struct in_addr a4;
  if (!host)
    return 0;
  n = strlen(host);
  if (n > 0 && host[0] == '[') {
    const char *close = memchr(host, ']', n);
    size_t rest;
    if (!close)
      return 0;
    rest = n - (size_t)(close + 1 - host);
    if (rest > 0 && (close[1] != ':' || !valid_port(close + 2, rest - 1)))
      return 0;
    return ipv6_is_loopback(host + 1, (size_t)(close - host - 1));
  }
  for (i = 0; i < n; i++)
    if (host[i] == ':') {
      colons++;
      if (!colon)
        colon = host + i;
    }
  if (colons > 1)  /* a bare IPv6 address: no port can be told apart */
    return ipv6_is_loopback(host, n);
  if (colon) {
    if (!valid_port(colon + 1, n - (size_t)(colon + 1 - host)))
      return 0;
    n = (size_t)(colon - host);
  }
  if (span_is_ci(host, n, "localhost"))
    return 1;
  if (!copy_z(buf, sizeof buf, host, n) || inet_pton(AF_INET, buf, &a4) != 1)
    return 0;
  return ((const unsigned char *)&a4.s_addr)[0] == 127;
}

/* ------------------------------------------------------------------ parts */

/*
** The domain grammar: a DNS name (components [A-Za-z0-9] with inner '-',
** joined by '.') or a bracketed IPv6 address, then an optional ":PORT".
** Returns NULL when valid, else the reason.
*/
static const char *check_domain(const char *s, size_t n)
{
  size_t i = 0, host_end;
  if (n > 0 && s[0] == '[') {
    char buf[64];
    struct in6_addr a;
    const char *close = memchr(s, ']', n);
    size_t k;
    if (!close)
      return "has no closing ']'";
    host_end = (size_t)(close - s) + 1;
    for (k = 1; k + 1 < host_end; k++)
      if (!is_hex(s[k]) && s[k] != ':')
        return "is not an IPv6 address";
    if (!copy_z(buf, sizeof buf, s + 1, host_end - 2) || inet_pton(AF_INET6, buf, &a) != 1)
      return "is not an IPv6 address";
  } else {
    for (;;) {
      size_t start = i;
      while (i < n && (is_alnum(s[i]) || s[i] == '-'))
        i++;
      if (i == start || s[start] == '-' || s[i - 1] == '-')
        return "is not a valid host name";
      if (i < n && s[i] == '.') {
        i++;
        continue;
      }
      break;
    }
    host_end = i;
  }
  if (host_end == n)
    return NULL;
  if (s[host_end] != ':')
    return "is not a valid host name";
  if (!valid_port(s + host_end + 1, n - host_end - 1))
    return "has an invalid port (1 to 65535)";
  return NULL;
}

/* One path component: [a-z0-9]+ ((. | _ | __ | -+) [a-z0-9]+)*. */
static int valid_component(const char *s, size_t n)
{
  size_t i = 0;
  for (;;) {
    size_t start = i;
    while (i < n && (is_lower(s[i]) || is_digit(s[i])))
      i++;
    if (i == start)
      return 0;
    if (i == n)
      return 1;
    if (s[i] == '.') {
      i++;
    } else if (s[i] == '_') {
      i++;
      if (i < n && s[i] == '_')
        i++;
    } else if (s[i] == '-') {
      while (i < n && s[i] == '-')
        i++;
    } else {
      return 0;
    }
  }
}

static int has_upper(const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (is_upper(s[i]))
      return 1;
  return 0;
}

/*
** Digest: ALG ":" HEX with ALG one of go-digest's registered algorithms and
** HEX exactly its length in lowercase. Returns 0 or the error.
*/
static int check_digest(const char *in, size_t inlen, const char *d, size_t n,
                        struct hoist_err *err)
{
  static const struct { const char *name; size_t hex; } algs[] = {
    { "sha256", 64 }, { "sha384", 96 }, { "sha512", 128 },
  };
  char what[HOIST_ERR_SHOW_MAX];
  const char *colon = memchr(d, ':', n);
  size_t alen, hlen, i, k;
  if (n == 0)
    return bad(err, HOIST_EINVAL, in, inlen, "digest is empty after '@'");
  if (!colon || colon == d || colon + 1 == d + n)
    return bad(err, HOIST_EINVAL, in, inlen, "digest '%s' is not ALGORITHM:HEX",
               hoist_err_show(what, d, n));
  alen = (size_t)(colon - d);
  hlen = n - alen - 1;
  for (k = 0; k < sizeof algs / sizeof algs[0]; k++)
    if (span_is(d, alen, algs[k].name))
      break;
  if (k == sizeof algs / sizeof algs[0])
    return bad(err, HOIST_EINVAL, in, inlen,
               "digest algorithm '%s' is not supported (sha256, sha384, sha512)",
               hoist_err_show(what, d, alen));
  for (i = 0; i < hlen; i++)
    if (!is_lower_hex(colon[1 + i]))
      break;
  if (i < hlen || hlen != algs[k].hex)
    return bad(err, HOIST_EINVAL, in, inlen,
               "digest '%s' is invalid: %s needs %zu lowercase hex digits",
               hoist_err_show(what, d, n), algs[k].name, algs[k].hex);
  return 0;
}

/* Tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. Returns 0 or the error. */
static int check_tag(const char *in, size_t inlen, const char *t, size_t n, struct hoist_err *err)
{
  char what[HOIST_ERR_SHOW_MAX];
  size_t i;
  if (n == 0)
    return bad(err, HOIST_EINVAL, in, inlen, "tag is empty after ':'");
  if (memchr(t, '+', n))
    return bad(err, HOIST_EINVAL, in, inlen,
               "tag '%s' cannot contain '+' (semver build metadata is not allowed in tags: "
               "drop the '+...' part)", hoist_err_show(what, t, n));
  for (i = 0; i < n; i++)
    if (!is_word(t[i]) && (i == 0 || (t[i] != '.' && t[i] != '-')))
      return bad(err, HOIST_EINVAL, in, inlen,
                 "tag '%s' is invalid (letters, digits, '_', '.' and '-', not first '.' or '-')",
                 hoist_err_show(what, t, n));
  if (n > HOIST_REF_TAG_MAX)
    return bad(err, HOIST_ERANGE, in, inlen, "tag '%s' is longer than %d characters",
               hoist_err_show(what, t, n), HOIST_REF_TAG_MAX);
  return 0;
}

/* Path: components joined by '/'. Returns 0 or the error. */
static int check_path(const char *in, size_t inlen, const char *p, size_t n, struct hoist_err *err)
{
  char what[HOIST_ERR_SHOW_MAX];
  size_t i = 0;
  if (n == 0)
    return bad(err, HOIST_EINVAL, in, inlen, "repository name is empty");
  if (has_upper(p, n))
    return bad(err, HOIST_EINVAL, in, inlen, "repository name must be lowercase");
  while (i <= n) {
    const char *slash = memchr(p + i, '/', n - i);
    size_t end = slash ? (size_t)(slash - p) : n;
    if (end == i)
      return bad(err, HOIST_EINVAL, in, inlen, "repository name has an empty component");
    if (!valid_component(p + i, end - i))
      return bad(err, HOIST_EINVAL, in, inlen,
                 "repository name component '%s' is invalid (lowercase letters and digits, "
                 "separated by '.', '_', '__' or '-')", hoist_err_show(what, p + i, end - i));
    i = end + 1;
  }
  return 0;
}

/* ------------------------------------------------------------------ parse */

struct span {
  const char *s;
  size_t n;
};

/* Appends the concatenation of parts[0..count) and a NUL at *cur; returns where it was put. */
static const char *put(char **cur, const struct span *parts, size_t count)
{
  char *at = *cur, *o = at;
  size_t i;
  for (i = 0; i < count; i++)
    if (parts[i].n) {
      memcpy(o, parts[i].s, parts[i].n);
      o += parts[i].n;
    }
  *o = '\0';
  *cur = o + 1;
  return at;
}

int hoist_ref_parse(const char *s, size_t len, struct hoist_ref **out, struct hoist_err *err)
{
  const char *p = s, *at, *name, *slash, *colon, *path, *tag = NULL, *digest = NULL;
  const char *registry, *api_host;
  size_t n = len, name_n, path_n, tag_n = 0, digest_n = 0, reg_n, api_n, pre_n = 0, i;
  size_t repo_n, name_total, canon_n, ref_n, size;
  struct hoist_ref *r;
  char what[HOIST_ERR_SHOW_MAX];
  char *cur;
  int rc, hub = 0;

  *out = NULL;
  if (len > HOIST_REF_INPUT_MAX)
    return bad(err, HOIST_ERANGE, s, len, "longer than %d characters", HOIST_REF_INPUT_MAX);
  if (n >= strlen(TRANSPORT) && memcmp(p, TRANSPORT, strlen(TRANSPORT)) == 0) {
    p += strlen(TRANSPORT);
    n -= strlen(TRANSPORT);
  }
  if (n == 0)
    return bad(err, HOIST_EINVAL, s, len, "repository name is empty");
  /* "https://ghcr.io/a" would otherwise read as registry "https:" with a bad port */
  for (i = 0; i < n && (is_alnum(p[i]) || p[i] == '+' || p[i] == '.' || p[i] == '-'); i++)
    ;
  if (i > 0 && n - i >= 3 && memcmp(p + i, "://", 3) == 0)
    return bad(err, HOIST_EINVAL, s, len, "'%s' is not a registry transport (use docker://)",
               hoist_err_show(what, p, i + 3));
  /* distribution refuses what reads as an image ID, which docker would look up locally */
  for (i = 0; i < n && is_lower_hex(p[i]); i++)
    ;
  if (n == 64 && i == 64)
    return bad(err, HOIST_EINVAL, s, len,
               "a 64-character hex string is an image ID, not a repository name");

  at = memchr(p, '@', n);
  name = p;
  name_n = at ? (size_t)(at - p) : n;
  if (at) {
    digest = at + 1;
    digest_n = n - name_n - 1;
  }
  if (name_n == 0)
    return bad(err, HOIST_EINVAL, s, len, "repository name is empty");

  /* the domain: a first component that is "localhost" or holds '.' or ':' */
  slash = memchr(name, '/', name_n);
  path = name;
  path_n = name_n;
  registry = HUB_DOMAIN;
  reg_n = strlen(HUB_DOMAIN);
  if (slash) {
    size_t first = (size_t)(slash - name);
    if (span_is(name, first, "localhost") || memchr(name, '.', first) || memchr(name, ':', first)) {
      const char *why = check_domain(name, first);
      if (why)
        return bad(err, HOIST_EINVAL, s, len, "registry '%s' %s", hoist_err_show(what, name, first), why);
      registry = name;
      reg_n = first;
      path = slash + 1;
      path_n = name_n - first - 1;
    }
  }
  if (span_is(registry, reg_n, HUB_LEGACY_DOMAIN)) {
    registry = HUB_DOMAIN;
    reg_n = strlen(HUB_DOMAIN);
  }
  hub = span_is(registry, reg_n, HUB_DOMAIN);
  api_host = hub ? HUB_API_HOST : registry;
  api_n = hub ? strlen(HUB_API_HOST) : reg_n;

  colon = memchr(path, ':', path_n);
  if (colon) {
    tag = colon + 1;
    tag_n = path_n - (size_t)(colon - path) - 1;
    path_n = (size_t)(colon - path);
  }
  if ((rc = check_path(s, len, path, path_n, err)) != 0)
    return rc;
  if (hub && !memchr(path, '/', path_n))
    pre_n = strlen(HUB_OFFICIAL);
  repo_n = pre_n + path_n;
  name_total = reg_n + 1 + repo_n;
  if (name_total > HOIST_REF_NAME_MAX)
    return bad(err, HOIST_ERANGE, s, len, "name '%s' is longer than %d characters",
               hoist_err_show(what, name, name_n), HOIST_REF_NAME_MAX);
  if (tag && (rc = check_tag(s, len, tag, tag_n, err)) != 0)
    return rc;
  if (digest && (rc = check_digest(s, len, digest, digest_n, err)) != 0)
    return rc;

  canon_n = name_total + (tag ? 1 + tag_n : 0) + (digest ? 1 + digest_n : 0);
  ref_n = digest ? digest_n : tag ? tag_n : 6;  /* "latest" */
  size = sizeof *r + (reg_n + 1) + (api_n + 1) + (repo_n + 1) + (tag_n + 1) + (digest_n + 1) +
         (ref_n + 1) + (name_total + 1) + (canon_n + 1);
  r = malloc(size);
  if (!r)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory parsing a reference");
  cur = (char *)(r + 1);
  {
    struct span reg = { registry, reg_n }, api = { api_host, api_n };
    struct span repo[2] = { { HUB_OFFICIAL, pre_n }, { path, path_n } };
    struct span t = { tag, tag_n }, d = { digest, digest_n }, latest = { "latest", 6 };
    struct span nm[3], canon[5];
    r->registry = put(&cur, &reg, 1);
    r->api_host = put(&cur, &api, 1);
    r->repository = put(&cur, repo, 2);
    r->tag = tag ? put(&cur, &t, 1) : NULL;
    r->digest = digest ? put(&cur, &d, 1) : NULL;
    r->reference = put(&cur, digest ? &d : tag ? &t : &latest, 1);
    nm[0] = reg;
    nm[1].s = "/";
    nm[1].n = 1;
    nm[2].s = r->repository;
    nm[2].n = repo_n;
    r->name = put(&cur, nm, 3);
    canon[0].s = r->name;
    canon[0].n = name_total;
    canon[1].s = ":";
    canon[1].n = tag ? 1 : 0;
    canon[2] = t;
    canon[3].s = "@";
    canon[3].n = digest ? 1 : 0;
    canon[4] = d;
    r->canonical = put(&cur, canon, 5);
  }
  r->loopback = hoist_ref_is_loopback(r->registry);
  *out = r;
  return 0;
}

void hoist_ref_free(struct hoist_ref *ref)
{
  free(ref);
}

const char *hoist_ref_string(const struct hoist_ref *ref)
{
  return ref->canonical;
}
