#define _DEFAULT_SOURCE 1

#include "registry.h"

#include "authhdr.h"
#include "http.h"
#include "linkhdr.h"
#include "ref.h"
#include "registry_int.h"
#include "strbuf.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MANIFEST_MAX (4u << 20)
#define BLOB_GET_DEFAULT_MAX (4u << 20)
#define TOKEN_MIN_SECS 60      /* the token spec: a shorter or missing expires_in means 60 */
#define TOKEN_SLACK_MS 10000   /* a token this close to its end is fetched anew */
#define MAX_SCOPES 16

static const char accept_manifests[] =
  "Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
  "application/vnd.docker.distribution.manifest.list.v2+json, "
  "application/vnd.docker.distribution.manifest.v2+json";

/* Secrets are wiped before their memory goes back. */
static void secret_free(char *s)
{
  if (s) {
    OPENSSL_cleanse(s, strlen(s));
    free(s);
  }
}

static char *basic_header(const char *user, const char *pass)
{
  struct strbuf plain, out;
  unsigned char *enc;
  int n;
  strbuf_init(&plain, 4096);
  if (strbuf_addf(&plain, "%s:%s", user, pass ? pass : "")) {
    strbuf_release(&plain);
    return NULL;
  }
  enc = malloc(4 * (plain.len / 3 + 1) + 1);
  if (!enc) {
    OPENSSL_cleanse(plain.buf, plain.len);
    strbuf_release(&plain);
    return NULL;
  }
  n = EVP_EncodeBlock(enc, (const unsigned char *)plain.buf, (int)plain.len);
  /* the secret stays in memory only as long as needed */
  OPENSSL_cleanse(plain.buf, plain.len);
  strbuf_release(&plain);
  strbuf_init(&out, 8192);
  if (n < 0 || strbuf_addf(&out, "Authorization: Basic %.*s", n, enc)) {
    OPENSSL_cleanse(enc, n > 0 ? (size_t)n : 0);
    free(enc);
    strbuf_release(&out);
    return NULL;
  }
  OPENSSL_cleanse(enc, (size_t)n);
  free(enc);
  return strbuf_detach(&out, NULL);
}

static void auth_free(struct reg_auth *a)
{
  size_t i;
  if (!a)
    return;
  secret_free(a->basic);
  secret_free(a->identity);
  free(a->realm);
  free(a->service);
  for (i = 0; i < a->ntokens; i++) {
    free(a->tokens[i].scopes);
    secret_free(a->tokens[i].header);
  }
  pthread_mutex_destroy(&a->mu);
  free(a);
}

long reg_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned new_seed(const void *p)
{
  return (unsigned)reg_now_ms() ^ (unsigned)getpid() * 2654435761u ^ (unsigned)(uintptr_t)p;
}

int hoist_registry_new(const char *host, const struct hoist_registry_opts *o,
                       struct hoist_registry **out, struct hoist_err *err)
{
  struct hoist_registry *r;
  char hostonly[256];
  size_t hl;
  int loop;
  *out = NULL;
  if (!host || !*host || strlen(host) >= sizeof r->host)
    return hoist_err_set(err, HOIST_EINVAL, "invalid registry host");
  r = calloc(1, sizeof *r);
  if (!r)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  r->auth = calloc(1, sizeof *r->auth);
  if (!r->auth || pthread_mutex_init(&r->auth->mu, NULL) != 0) {
    free(r->auth);
    free(r);
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  r->owns_auth = 1;
  r->http_opts.insecure_tls = o && o->insecure;
  r->http_opts.deadline_ms = o ? o->deadline_ms : 0;
  if (hoist_http_new(&r->http_opts, &r->http, err)) {
    hoist_registry_free(r);
    return err ? err->code : HOIST_ENOMEM;
  }
  snprintf(r->host, sizeof r->host, "%s", host);
  /* loopback registries speak plain HTTP (DESIGN section 2) */
  hl = strcspn(host, "]");
  if (host[0] == '[' && host[hl] == ']')
    snprintf(hostonly, sizeof hostonly, "%.*s", (int)(hl + 1), host);
  else
    snprintf(hostonly, sizeof hostonly, "%.*s", (int)strcspn(host, ":"), host);
  loop = hoist_ref_is_loopback(hostonly);
  snprintf(r->base, sizeof r->base, "%s://%s", loop || (o && o->insecure) ? "http" : "https", host);
  r->insecure = o && o->insecure;
  if (hoist_url_origin(r->base, r->origin, sizeof r->origin, err)) {
    hoist_registry_free(r);
    return hoist_err_set(err, HOIST_EINVAL, "invalid registry host '%s'", host);
  }
  r->seed = new_seed(r);
  r->chunk_size = o && o->chunk_size ? o->chunk_size : HOIST_REGISTRY_CHUNK_DEFAULT;
  r->parallel = o && o->parallel > 0 ? o->parallel : HOIST_REGISTRY_PARALLEL_DEFAULT;
  if (r->parallel > HOIST_REGISTRY_PARALLEL_MAX)
    r->parallel = HOIST_REGISTRY_PARALLEL_MAX;
  if ((o && o->username && !(r->auth->basic = basic_header(o->username, o->password))) ||
      (o && o->identity_token && *o->identity_token &&
       !(r->auth->identity = strdup(o->identity_token)))) {
    hoist_registry_free(r);
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  *out = r;
  return HOIST_OK;
}

int reg_clone(struct hoist_registry *r, struct hoist_registry **out, struct hoist_err *err)
{
  struct hoist_registry *c = malloc(sizeof *c);
  *out = NULL;
  if (!c)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  *c = *r;
  c->owns_auth = 0;
  c->seed = new_seed(c);
  if (hoist_http_new(&r->http_opts, &c->http, err)) {
    free(c);
    return err ? err->code : HOIST_ENOMEM;
  }
  *out = c;
  return HOIST_OK;
}

void hoist_registry_free(struct hoist_registry *r)
{
  if (!r)
    return;
  hoist_http_free(r->http);
  if (r->owns_auth)
    auth_free(r->auth);
  free(r);
}

/* ------------------------------------------------------------------ errors */

const char *reg_error_first(const struct hoist_http_resp *rs, char *code, size_t ccap, char *msg,
                            size_t mcap)
{
  json_t *doc = rs->body.len ? json_loadb(rs->body.buf, rs->body.len, 0, NULL) : NULL;
  json_t *first = doc ? json_array_get(json_object_get(doc, "errors"), 0) : NULL;
  const char *c = first ? json_string_value(json_object_get(first, "code")) : NULL;
  const char *m = first ? json_string_value(json_object_get(first, "message")) : NULL;
  snprintf(code, ccap, "%s", c ? c : "");
  if (msg && mcap)
    snprintf(msg, mcap, "%s", m ? m : "");
  json_decref(doc);
  return code;
}

/* "CODE: message" from a registry error body, else the status. */
int reg_remote_error(const struct hoist_registry *r, const char *what,
                     const struct hoist_http_resp *rs, struct hoist_err *err)
{
  json_t *doc = rs->body.len ? json_loadb(rs->body.buf, rs->body.len, 0, NULL) : NULL;
  json_t *first = doc ? json_array_get(json_object_get(doc, "errors"), 0) : NULL;
  const char *code = first ? json_string_value(json_object_get(first, "code")) : NULL;
  const char *msg = first ? json_string_value(json_object_get(first, "message")) : NULL;
  int ecode = rs->status == 401 || rs->status == 403 ? HOIST_EAUTH : HOIST_EREMOTE;
  int rc;
  if (code)
    rc = hoist_err_set(err, ecode, "registry '%s' refused %s: %s: %s (HTTP %ld)", r->host, what,
                       code, msg ? msg : "", rs->status);
  else
    rc = hoist_err_set(err, ecode, "registry '%s' answered %ld to %s", r->host, rs->status, what);
  json_decref(doc);
  return rc;
}

/* ------------------------------------------------------------------ scopes */

/*
** The union of the scope set a (space-separated) and the scopes b[0..nb):
** one entry per resource ("type:name", split at the last ':' since a name
** may hold host:port), actions merged, a's entries first (the push scope
** stays first: some token servers only look at the first).
*/
static int scope_union(const char *a, const char *const *b, size_t nb, char *out, size_t cap)
{
  struct {
    char res[REG_SCOPES_MAX / 2];
    char acts[128];
  } ent[MAX_SCOPES];
  const char *words[2 * MAX_SCOPES];
  size_t wl[2 * MAX_SCOPES], nw = 0, nent = 0, k, o = 0;
  const char *p = a;

  while (*p) {
    while (*p == ' ')
      p++;
    if (!*p)
      break;
    if (nw == 2 * MAX_SCOPES)
      return HOIST_ERANGE;
    words[nw] = p;
    wl[nw] = strcspn(p, " ");
    p += wl[nw++];
  }
  for (k = 0; k < nb; k++) {
    if (nw == 2 * MAX_SCOPES)
      return HOIST_ERANGE;
    words[nw] = b[k];
    wl[nw++] = strlen(b[k]);
  }
  for (k = 0; k < nw; k++) {
    const char *w = words[k], *end = words[k] + wl[k], *last = NULL, *q;
    size_t rlen, j;
    for (q = w; q < end; q++)
      if (*q == ':')
        last = q;
    rlen = last ? (size_t)(last - w) : wl[k];
    if (rlen >= sizeof ent[0].res)
      return HOIST_ERANGE;
    for (j = 0; j < nent; j++)
      if (strlen(ent[j].res) == rlen && memcmp(ent[j].res, w, rlen) == 0)
        break;
    if (j == nent) {
      if (nent == MAX_SCOPES)
        return HOIST_ERANGE;
      memcpy(ent[j].res, w, rlen);
      ent[j].res[rlen] = '\0';
      ent[j].acts[0] = '\0';
      nent++;
    }
    /* merge the actions, each once */
    for (q = last ? last + 1 : end; q < end;) {
      size_t alen = 0, cur;
      const char *have = ent[j].acts;
      int found = 0;
      while (q + alen < end && q[alen] != ',')
        alen++;
      while (alen && *have) {
        size_t hl = strcspn(have, ",");
        if (hl == alen && memcmp(have, q, alen) == 0)
          found = 1;
        have += hl + (have[hl] == ',');
      }
      if (alen && !found) {
        cur = strlen(ent[j].acts);
        if (cur + alen + 2 > sizeof ent[j].acts)
          return HOIST_ERANGE;
        if (cur)
          ent[j].acts[cur++] = ',';
        memcpy(ent[j].acts + cur, q, alen);
        ent[j].acts[cur + alen] = '\0';
      }
      q += alen + (q + alen < end);
    }
  }
  out[0] = '\0';
  for (k = 0; k < nent; k++) {
    int n = snprintf(out + o, cap - o, "%s%s%s%s", k ? " " : "", ent[k].res,
                     ent[k].acts[0] ? ":" : "", ent[k].acts);
    if (n < 0 || (size_t)n >= cap - o)
      return HOIST_ERANGE;
    o += (size_t)n;
  }
  return HOIST_OK;
}

int reg_scope(char *out, size_t cap, const char *repo, const char *actions)
{
  return snprintf(out, cap, "repository:%s:%s", repo, actions) < (int)cap ? HOIST_OK : HOIST_ERANGE;
}

/* ------------------------------------------------------------------ tokens */

/*
** The Authorization header a request with this scope set carries: a copy
** (secret_free it) or NULL. *need_token: a Bearer realm is known but no
** valid token for these scopes is, so one should be fetched before sending.
*/
static char *auth_for(struct hoist_registry *r, const char *scopes, int *need_token)
{
  struct reg_auth *a = r->auth;
  char *h = NULL;
  size_t i;
  long now = reg_now_ms();
  *need_token = 0;
  pthread_mutex_lock(&a->mu);
  for (i = 0; i < a->ntokens; i++)
    if (strcmp(a->tokens[i].scopes, scopes) == 0)
      break;
  if (i < a->ntokens && now < a->tokens[i].expires)
    h = strdup(a->tokens[i].header);
  else if (a->use_basic && a->basic)
    h = strdup(a->basic);
  else if (a->realm)
    *need_token = 1;
  pthread_mutex_unlock(&a->mu);
  return h;
}

/* Caches header (taken over) for scopes, replacing what was there; the oldest goes when full. */
static int store_token(struct hoist_registry *r, const char *scopes, char *header, long expires)
{
  struct reg_auth *a = r->auth;
  char *key = strdup(scopes);
  size_t i;
  if (!key) {
    secret_free(header);
    return HOIST_ENOMEM;
  }
  pthread_mutex_lock(&a->mu);
  for (i = 0; i < a->ntokens; i++)
    if (strcmp(a->tokens[i].scopes, scopes) == 0)
      break;
  if (i == a->ntokens && a->ntokens == REG_MAX_TOKENS) {
    free(a->tokens[0].scopes);
    secret_free(a->tokens[0].header);
    memmove(&a->tokens[0], &a->tokens[1], (REG_MAX_TOKENS - 1) * sizeof a->tokens[0]);
    a->ntokens--;
    i = a->ntokens;
  }
  if (i == a->ntokens) {
    a->ntokens++;
  } else {
    free(a->tokens[i].scopes);
    secret_free(a->tokens[i].header);
  }
  a->tokens[i].scopes = key;
  a->tokens[i].header = header;
  a->tokens[i].expires = expires;
  pthread_mutex_unlock(&a->mu);
  return HOIST_OK;
}

/*
** A token realm comes from the registry's challenge and is where credentials
** go next: it must be an http(s) URL (never file:, gopher: ...), and https
** unless it is on loopback or the user said --insecure, so that a Basic
** password never crosses a network in clear.
*/
static int realm_check(const struct hoist_registry *r, const char *realm, struct hoist_err *err)
{
  char origin[300], shown[HOIST_ERR_SHOW_MAX];
  hoist_err_show(shown, realm, strlen(realm));
  if (hoist_url_origin(realm, origin, sizeof origin, NULL) != 0)
    return hoist_err_set(err, HOIST_EREMOTE,
                         "registry '%s' names token realm '%s', which is not an http(s) URL", r->host,
                         shown);
  if (strncmp(origin, "http://", 7) == 0 && !r->insecure && !hoist_ref_is_loopback(origin + 7))
    return hoist_err_set(err, HOIST_EREMOTE,
                         "registry '%s' names token realm '%s', which is not https: credentials would "
                         "cross the network in clear (--insecure allows it)", r->host, shown);
  return HOIST_OK;
}

/* Remembers the Bearer realm and service, so later tokens are fetched before their request. */
static void remember_realm(struct hoist_registry *r, const char *realm, const char *service)
{
  struct reg_auth *a = r->auth;
  char *rl = strdup(realm), *sv = service ? strdup(service) : NULL;
  if (!rl || (service && !sv)) {
    free(rl);
    free(sv);
    return;  /* only an optimisation: the 401 path still works */
  }
  pthread_mutex_lock(&a->mu);
  free(a->realm);
  free(a->service);
  a->realm = rl;
  a->service = sv;
  pthread_mutex_unlock(&a->mu);
}

static int escape_into(struct strbuf *sb, CURL *esc, const char *prefix, const char *value)
{
  char *s = curl_easy_escape(esc, value, 0);
  int rc = s ? strbuf_addf(sb, "%s%s", prefix, s) : HOIST_ENOMEM;
  if (s) {
    OPENSSL_cleanse(s, strlen(s));
    curl_free(s);
  }
  return rc;
}

/* The token of a token server's 200 answer as an Authorization header, and its end. */
static int token_from_body(struct hoist_registry *r, const struct hoist_http_resp *rs, long started,
                           char **header, long *expires, struct hoist_err *err)
{
  json_t *doc = json_loadb(rs->body.buf ? rs->body.buf : "", rs->body.len, 0, NULL);
  const char *tok = doc ? json_string_value(json_object_get(doc, "token")) : NULL;
  json_int_t secs = doc ? json_integer_value(json_object_get(doc, "expires_in")) : 0;
  struct strbuf hdr;
  if (!tok && doc)
    tok = json_string_value(json_object_get(doc, "access_token"));
  if (!tok || !*tok) {
    json_decref(doc);
    return hoist_err_set(err, HOIST_EREMOTE, "the token server of '%s' answered no token", r->host);
  }
  strbuf_init(&hdr, 16384);
  if (strbuf_addf(&hdr, "Authorization: Bearer %s", tok)) {
    json_decref(doc);
    strbuf_release(&hdr);
    return hoist_err_set(err, HOIST_ERANGE, "token from '%s' too long", r->host);
  }
  json_decref(doc);
  if (secs < TOKEN_MIN_SECS)
    secs = TOKEN_MIN_SECS;
  if (secs > 86400)
    secs = 86400;
  *expires = started + (long)secs * 1000 - TOKEN_SLACK_MS;
  *header = strbuf_detach(&hdr, NULL);
  return *header ? HOIST_OK : hoist_err_set(err, HOIST_ENOMEM, "out of memory");
}

static int token_refused(struct hoist_registry *r, struct hoist_err *err)
{
  const struct reg_auth *a = r->auth;
  return hoist_err_set(err, HOIST_EAUTH, "authentication failed for registry '%s'%s", r->host,
                       a->identity ? " (the identity token was refused)"
                       : a->basic  ? " (check the user name and password)"
                                   : " (no credentials given)");
}

/*
** The OAuth2 token request: POST realm, form grant_type=refresh_token. *fallback
** is set when the server does not speak it (404, 405): the GET flow is next.
*/
static int fetch_token_post(struct hoist_registry *r, const char *realm, const char *service,
                            const char *scopes, char **header, long *expires, int *fallback,
                            struct hoist_err *err)
{
  static const char *const hdrs[] = { "Content-Type: application/x-www-form-urlencoded" };
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  struct strbuf form;
  CURL *esc = curl_easy_init();
  long started = reg_now_ms();
  int rc;
  *fallback = 0;
  if (!esc)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  strbuf_init(&form, 64 * 1024);
  rc = strbuf_addstr(&form, "grant_type=refresh_token&client_id=hoist");
  if (!rc)
    rc = escape_into(&form, esc, "&refresh_token=", r->auth->identity);
  if (!rc && service)
    rc = escape_into(&form, esc, "&service=", service);
  if (!rc && *scopes)
    rc = escape_into(&form, esc, "&scope=", scopes);  /* space-separated, as OAuth2 has it */
  curl_easy_cleanup(esc);
  if (rc) {
    OPENSSL_cleanse(form.buf, form.len);
    strbuf_release(&form);
    return hoist_err_set(err, rc, "token request too long");
  }
  memset(&rq, 0, sizeof rq);
  rq.method = "POST";
  rq.url = realm;
  rq.headers = hdrs;
  rq.nheaders = 1;
  rq.has_body = 1;
  rq.body = form.buf;
  rq.body_len = form.len;
  rc = hoist_http_do(r->http, &rq, &rs, err);
  OPENSSL_cleanse(form.buf, form.len);
  strbuf_release(&form);
  if (rc)
    return rc;
  if (rs.status == 404 || rs.status == 405) {
    *fallback = 1;
  } else if (rs.status == 400 || rs.status == 401 || rs.status == 403) {
    /* OAuth2 answers a bad refresh token with 400 invalid_grant */
    rc = token_refused(r, err);
  } else if (rs.status != 200) {
    rc = reg_remote_error(r, "the token request", &rs, err);
  } else {
    rc = token_from_body(r, &rs, started, header, expires, err);
  }
  OPENSSL_cleanse(rs.body.buf ? rs.body.buf : (char *)"", rs.body.len);
  hoist_http_resp_release(&rs);
  return rc;
}

/* The token request of the Docker flow: GET realm?service=&scope=&scope=, Basic credentials when we have them. */
static int fetch_token_get(struct hoist_registry *r, const char *realm, const char *service,
                           const char *scopes, char **header, long *expires, struct hoist_err *err)
{
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  struct strbuf url;
  const char *hdrs[1];
  CURL *esc = curl_easy_init();
  const char *p = scopes;
  long started = reg_now_ms();
  int rc;

  if (!esc)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  strbuf_init(&url, 16384);
  rc = strbuf_addstr(&url, realm);
  if (!rc && service)
    rc = escape_into(&url, esc, strchr(realm, '?') ? "&service=" : "?service=", service);
  /* each scope its own parameter */
  while (!rc && *p) {
    char one[REG_SCOPES_MAX];
    size_t len;
    while (*p == ' ')
      p++;
    len = strcspn(p, " ");
    if (!len)
      break;
    snprintf(one, sizeof one, "%.*s", (int)len, p);
    rc = escape_into(&url, esc, strchr(url.buf, '?') ? "&scope=" : "?scope=", one);
    p += len;
  }
  curl_easy_cleanup(esc);
  if (rc) {
    strbuf_release(&url);
    return hoist_err_set(err, rc, "token request too long");
  }
  memset(&rq, 0, sizeof rq);
  rq.method = "GET";
  rq.url = url.buf;
  if (r->auth->basic) {
    hdrs[0] = r->auth->basic;
    rq.headers = hdrs;
    rq.nheaders = 1;
  }
  rc = hoist_http_do(r->http, &rq, &rs, err);
  strbuf_release(&url);
  if (rc)
    return rc;
  if (rs.status == 401 || rs.status == 403)
    rc = token_refused(r, err);
  else if (rs.status != 200)
    rc = reg_remote_error(r, "the token request", &rs, err);
  else
    rc = token_from_body(r, &rs, started, header, expires, err);
  OPENSSL_cleanse(rs.body.buf ? rs.body.buf : (char *)"", rs.body.len);
  hoist_http_resp_release(&rs);
  return rc;
}

/* Fetches a token for the scope set want and caches it under key. */
static int fetch_token(struct hoist_registry *r, const char *realm, const char *service,
                       const char *key, const char *want, struct hoist_err *err)
{
  char *header = NULL;
  long expires = 0;
  int rc = HOIST_OK, fallback = 1;
  if ((rc = realm_check(r, realm, err)) != HOIST_OK)
    return rc;
  if (r->auth->identity)
    rc = fetch_token_post(r, realm, service, want, &header, &expires, &fallback, err);
  if (!rc && fallback)
    rc = fetch_token_get(r, realm, service, want, &header, &expires, err);
  if (rc)
    return rc;
  if (store_token(r, key, header, expires))
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  return HOIST_OK;
}

/* A token for scopes from the realm remembered from an earlier challenge. */
static int fetch_known(struct hoist_registry *r, const char *scopes, struct hoist_err *err)
{
  struct reg_auth *a = r->auth;
  char *realm, *service;
  int rc;
  pthread_mutex_lock(&a->mu);
  realm = a->realm ? strdup(a->realm) : NULL;
  service = a->service ? strdup(a->service) : NULL;
  pthread_mutex_unlock(&a->mu);
  if (!realm) {
    free(service);
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  rc = fetch_token(r, realm, service, scopes, scopes, err);
  free(realm);
  free(service);
  return rc;
}

/*
** A request to a URL the registry handed us (a Link, an upload Location) on
** another scheme, host or port goes out without credentials, and a 401 from
** there is not answered: credentials belong to the registry's origin only.
** An https registry sending us to plain http is refused outright.
*/
static int foreign_request(struct hoist_registry *r, struct hoist_http_req *rq,
                           struct hoist_http_resp *rs, struct hoist_err *err)
{
  char origin[300], shown[HOIST_ERR_SHOW_MAX];
  int rc;
  if (strncmp(r->origin, "https:", 6) == 0 && strncasecmp(rq->url, "http:", 5) == 0)
    return hoist_err_set(err, HOIST_EREMOTE,
                         "registry '%s' sent hoist from https to plain http ('%s'): refused", r->host,
                         hoist_err_show(shown, rq->url, strlen(rq->url)));
  if ((rc = hoist_http_do(r->http, rq, rs, err)) != HOIST_OK)
    return rc;
  if (rs->status == 401) {
    hoist_url_origin(rq->url, origin, sizeof origin, NULL);
    hoist_http_resp_release(rs);
    return hoist_err_set(err, HOIST_EAUTH,
                         "registry '%s' sent hoist to another host ('%s'), which asks for credentials: "
                         "hoist sends them only to '%s'", r->host, origin, r->host);
  }
  return HOIST_OK;
}

int reg_send_authed(struct hoist_registry *r, const char *scopes, struct hoist_http_req *rq,
                    struct hoist_http_resp *rs, struct hoist_err *err)
{
  const char *hdrs[8];
  const char *const *orig = rq->headers;
  size_t norig = rq->nheaders, i;
  int attempt, rc = HOIST_OK;
  char origin[300];

  /* defined even when no request goes out (a token request failed first) */
  memset(rs, 0, sizeof *rs);
  if (norig > 6)
    return hoist_err_set(err, HOIST_EINVAL, "too many headers");
  if ((rc = hoist_url_origin(rq->url, origin, sizeof origin, err)) != HOIST_OK)
    return rc;
  if (strcmp(origin, r->origin) != 0)
    return foreign_request(r, rq, rs, err);
  for (attempt = 0; attempt < 2; attempt++) {
    int need = 0;
    char *auth = auth_for(r, scopes, &need);
    char wa[HOIST_AUTHHDR_MAX];
    struct hoist_authhdr *ch = NULL;
    if (!auth && need) {
      /* the realm is known: settle auth before sending (a body is never streamed to be refused) */
      if ((rc = fetch_known(r, scopes, err)) != HOIST_OK) {
        rs->transport_error = rc == HOIST_EIO;  /* the token server's connection: worth a retry */
        return rc;
      }
      auth = auth_for(r, scopes, &need);
    }
    for (i = 0; i < norig; i++)
      hdrs[i] = orig[i];
    rq->headers = hdrs;
    rq->nheaders = norig + (auth ? 1 : 0);
    if (auth)
      hdrs[norig] = auth;
    rc = hoist_http_do(r->http, rq, rs, err);
    rq->headers = orig;
    rq->nheaders = norig;
    secret_free(auth);
    if (rc || rs->status != 401 || attempt == 1)
      break;
    if (!hoist_http_header(rs, "WWW-Authenticate", wa, sizeof wa) ||
        hoist_authhdr_parse(wa, strlen(wa), &ch, NULL) != HOIST_OK) {
      break;  /* a 401 without a usable challenge: reported below */
    }
    hoist_http_resp_release(rs);
    if (ch->bearer && ch->realm) {
      /*
      ** A token for what we asked and what the challenge names (a wider
      ** scope, or the same one after insufficient_scope or an expiry):
      ** fetched once, cached under our scope set.
      */
      char want[REG_SCOPES_MAX];
      remember_realm(r, ch->realm, ch->service);
      if (scope_union(scopes, ch->scopes, ch->nscopes, want, sizeof want))
        rc = hoist_err_set(err, HOIST_ERANGE, "registry '%s' asks for too many scopes", r->host);
      else
        rc = fetch_token(r, ch->realm, ch->service, scopes, want, err);
    } else if (ch->basic && r->auth->basic) {
      pthread_mutex_lock(&r->auth->mu);
      r->auth->use_basic = 1;
      pthread_mutex_unlock(&r->auth->mu);
    } else if (ch->basic && r->auth->identity) {
      rc = hoist_err_set(err, HOIST_EAUTH, "registry '%s' asks for a user name and password "
                         "(an identity token works only with Bearer tokens)", r->host);
    } else {
      rc = hoist_err_set(err, HOIST_EAUTH, "registry '%s' needs credentials (none given)", r->host);
    }
    hoist_authhdr_free(ch);
    if (rc) {
      rs->transport_error = rc == HOIST_EIO;
      return rc;
    }
  }
  if (!rc && rs->status == 401) {
    if (r->auth->basic || r->auth->identity)
      rc = hoist_err_set(err, HOIST_EAUTH, "authentication failed for registry '%s'", r->host);
    else
      rc = hoist_err_set(err, HOIST_EAUTH,
                         "authentication failed for registry '%s' (no credentials given)", r->host);
    hoist_http_resp_release(rs);
  }
  return rc;
}

/* ------------------------------------------------------------------ retries */

/* Statuses worth another try: the registry or a proxy in front of it is busy or failing. */
int reg_retryable_status(long status)
{
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

void reg_sleep_ms(long ms)
{
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

long reg_retry_after_ms(const struct hoist_http_resp *rs)
{
  char ra[64], *end;
  long secs;
  if (!rs || !hoist_http_header(rs, "Retry-After", ra, sizeof ra))
    return -1;
  secs = strtol(ra, &end, 10);
  if (end == ra || *end != '\0' || secs < 0)
    return -1;  /* an HTTP date: the exponential wait is as good a guess */
  return secs > 30 ? 30000 : secs * 1000;
}

/* Exponential from 100 ms, capped at 5 s, with jitter; Retry-After wins when the registry sends it. */
long reg_backoff_ms(struct hoist_registry *r, const struct hoist_http_resp *rs, int attempt)
{
  long ms = 100L << (attempt < 7 ? attempt - 1 : 6), ra = reg_retry_after_ms(rs);
  if (ra >= 0)
    return ra;
  if (ms > 5000)
    ms = 5000;
  /* jitter: spread clients that failed together */
  r->seed = r->seed * 1103515245u + 12345u;
  return ms / 2 + (long)((r->seed >> 16) % (unsigned)(ms / 2 + 1));
}

void reg_note_retry(struct hoist_registry *r, const char *method, const char *url, const char *why,
                    int attempt, long wait_ms)
{
  struct reg_auth *a = r->auth;
  const char *path = strstr(url, "://");
  char *line;
  path = path ? strchr(path + 3, '/') : NULL;
  pthread_mutex_lock(&a->mu);
  a->retries++;
  line = a->retry_log[a->retry_next % REG_RETRY_LOG];
  /* the path without its query: upload sessions carry state tokens there */
  snprintf(line, REG_RETRY_LINE, "%s %.*s: %s; try %d in %ld ms", method,
           path ? (int)strcspn(path, "?") : 0, path ? path : "", why, attempt + 1, wait_ms);
  a->retry_next++;
  pthread_mutex_unlock(&a->mu);
}

size_t hoist_registry_take_retries(struct hoist_registry *r, char **lines, size_t max,
                                   unsigned long *total)
{
  struct reg_auth *a = r->auth;
  size_t n, i, first;
  pthread_mutex_lock(&a->mu);
  *total = a->retries;
  n = a->retry_next < REG_RETRY_LOG ? a->retry_next : REG_RETRY_LOG;
  if (n > max)
    n = max;
  first = a->retry_next - n;
  for (i = 0; i < n; i++)
    lines[i] = strdup(a->retry_log[(first + i) % REG_RETRY_LOG]);
  a->retries = 0;
  a->retry_next = 0;
  pthread_mutex_unlock(&a->mu);
  return n;
}

/* Why a request is tried again, for the retry log. */
static void retry_reason(const struct hoist_http_resp *rs, int rc, const struct hoist_err *err,
                         char *out, size_t cap)
{
  if (rc)
    snprintf(out, cap, "%.*s", (int)(cap - 1), err ? err->msg : "failed");
  else
    snprintf(out, cap, "HTTP %ld", rs->status);
}

/*
** reg_send_authed, again after a dropped connection or a busy answer, with
** backoff, for at most REG_RETRY_ATTEMPTS tries and REG_RETRY_BUDGET_MS in
** all. Only for requests that are safe to repeat (GET, HEAD, DELETE, PUT of a
** manifest, POST of a new upload session); a blob's PATCH and final PUT are
** retried by their callers, who know what the registry kept.
*/
int reg_send_retry(struct hoist_registry *r, const char *scopes, struct hoist_http_req *rq,
                   struct hoist_http_resp *rs, struct hoist_err *err)
{
  long start = reg_now_ms();
  int attempt;
  for (attempt = 1;; attempt++) {
    int rc = reg_send_authed(r, scopes, rq, rs, err);
    int again = rc ? (rs->transport_error != 0) : reg_retryable_status(rs->status);
    long wait;
    if (!again || attempt >= REG_RETRY_ATTEMPTS)
      return rc;
    wait = reg_backoff_ms(r, rc ? NULL : rs, attempt);
    if (reg_now_ms() - start + wait > REG_RETRY_BUDGET_MS)
      return rc;
    {
      char why[160];
      retry_reason(rs, rc, err, why, sizeof why);
      reg_note_retry(r, rq->method, rq->url, why, attempt, wait);
    }
    if (!rc)
      hoist_http_resp_release(rs);
    reg_sleep_ms(wait);
  }
}

/* ------------------------------------------------------------------ requests */

int hoist_registry_check_auth(struct hoist_registry *r, struct hoist_err *err)
{
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  char url[REG_URL_MAX];
  int rc;
  snprintf(url, sizeof url, "%s/v2/", r->base);
  memset(&rq, 0, sizeof rq);
  rq.method = "GET";
  rq.url = url;
  /* no scope: /v2/ is challenged without one, and the token server grants an empty access list */
  rc = reg_send_retry(r, "", &rq, &rs, err);
  if (rc)
    return rc;
  if (rs.status != 200)
    rc = reg_remote_error(r, "the API check (GET /v2/)", &rs, err);
  hoist_http_resp_release(&rs);
  return rc;
}

int hoist_registry_blob_exists(struct hoist_registry *r, const char *repo, const char *digest,
                               int *exists, unsigned long long *size, struct hoist_err *err)
{
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  char url[REG_URL_MAX], scope[512], len[64];
  int rc;
  *exists = 0;
  if (reg_scope(scope, sizeof scope, repo, "pull") ||
      snprintf(url, sizeof url, "%s/v2/%s/blobs/%s", r->base, repo, digest) >= (int)sizeof url)
    return hoist_err_set(err, HOIST_ERANGE, "repository name too long");
  memset(&rq, 0, sizeof rq);
  rq.method = "HEAD";
  rq.url = url;
  rc = reg_send_retry(r, scope, &rq, &rs, err);
  if (rc)
    return rc;
  if (rs.status == 200) {
    *exists = 1;
    if (size && hoist_http_header(&rs, "Content-Length", len, sizeof len))
      *size = strtoull(len, NULL, 10);
  } else if (rs.status != 404) {
    rc = reg_remote_error(r, "a blob check", &rs, err);
  }
  hoist_http_resp_release(&rs);
  return rc;
}

int hoist_registry_blob_get(struct hoist_registry *r, const char *repo, const char *digest,
                            size_t max_bytes, char **body, size_t *len, struct hoist_err *err)
{
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  char url[REG_URL_MAX], scope[512], d[HOIST_DIGEST_LEN + 1];
  int rc;
  *body = NULL;
  *len = 0;
  if (!hoist_digest_valid(digest))
    return hoist_err_set(err, HOIST_EINVAL, "invalid blob digest");
  if (reg_scope(scope, sizeof scope, repo, "pull") ||
      snprintf(url, sizeof url, "%s/v2/%s/blobs/%s", r->base, repo, digest) >= (int)sizeof url)
    return hoist_err_set(err, HOIST_ERANGE, "repository name too long");
  memset(&rq, 0, sizeof rq);
  rq.method = "GET";
  rq.url = url;
  rq.follow_redirects = 1;  /* to storage; libcurl drops Authorization when the host changes */
  rq.max_response = max_bytes ? max_bytes : BLOB_GET_DEFAULT_MAX;
  rq.expected_bytes = rq.max_response;
  rc = reg_send_retry(r, scope, &rq, &rs, err);
  if (rc == HOIST_ERANGE)
    return hoist_err_set(err, HOIST_EREMOTE, "registry '%s' answered blob %s with more than %zu bytes",
                         r->host, digest, rq.max_response);
  if (rc)
    return rc;
  if (rs.status != 200) {
    rc = reg_remote_error(r, "a blob download", &rs, err);
    hoist_http_resp_release(&rs);
    return rc;
  }
  if (hoist_digest_buffer(rs.body.buf ? rs.body.buf : "", rs.body.len, d, err) ||
      strcmp(d, digest) != 0) {
    hoist_http_resp_release(&rs);
    return hoist_err_set(err, HOIST_EREMOTE, "registry '%s' answered blob %s with other content",
                         r->host, digest);
  }
  if (rs.body.len == 0) {
    /* an empty blob: the caller still gets a string it can free */
    hoist_http_resp_release(&rs);
    *body = calloc(1, 1);
    return *body ? HOIST_OK : hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  *body = strbuf_detach(&rs.body, len);
  hoist_http_resp_release(&rs);
  return *body ? HOIST_OK : hoist_err_set(err, HOIST_ENOMEM, "out of memory");
}

/* A blob download in progress: the temp file, the hash of what it holds. */
struct download {
  int fd;
  struct hoist_digest hash;
  unsigned long long written;
  unsigned long long limit;  /* the blob's size: never more is written */
  int too_big;
  int fresh;          /* no byte of the current response seen yet */
  int bad_range;      /* a 206 that does not continue where we are */
  int io_errno;
};

static int download_restart(struct download *dl)
{
  hoist_digest_release(&dl->hash);
  if (hoist_digest_init(&dl->hash, NULL) || ftruncate(dl->fd, 0) != 0 ||
      lseek(dl->fd, 0, SEEK_SET) != 0) {
    dl->io_errno = errno ? errno : EIO;
    return HOIST_EIO;
  }
  dl->written = 0;
  return HOIST_OK;
}

static int download_sink(void *ctx, const struct hoist_http_resp *resp, const char *data, size_t len)
{
  struct download *dl = ctx;
  if (dl->fresh) {
    char cl[64];
    unsigned long long start = 0;
    dl->fresh = 0;
    if (resp->status == 206) {
      char cr[128];
      /* "bytes START-END/TOTAL" must start where the file ends */
      if (!hoist_http_header(resp, "Content-Range", cr, sizeof cr) ||
          sscanf(cr, "bytes %llu-", &start) != 1 || start != dl->written) {
        dl->bad_range = 1;
        return HOIST_EREMOTE;
      }
    } else if (dl->written > 0 && download_restart(dl)) {
      /* the server sent the whole blob again (it ignores Range): start over */
      return HOIST_EIO;
    }
    /* a body announced bigger than the blob is refused before a byte of it is stored */
    if (hoist_http_header(resp, "Content-Length", cl, sizeof cl) &&
        strtoull(cl, NULL, 10) > dl->limit - start) {
      dl->too_big = 1;
      return HOIST_EREMOTE;
    }
  }
  if (len > dl->limit - dl->written) {
    dl->too_big = 1;  /* stops at the first byte past the blob's size */
    return HOIST_EREMOTE;
  }
  while (len > 0) {
    ssize_t n = write(dl->fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      dl->io_errno = n < 0 ? errno : ENOSPC;
      return HOIST_EIO;
    }
    if (hoist_digest_update(&dl->hash, data, (size_t)n)) {
      dl->io_errno = ENOMEM;
      return HOIST_EIO;
    }
    dl->written += (unsigned long long)n;
    data += n;
    len -= (size_t)n;
  }
  return HOIST_OK;
}

/* A new temp file beside path (same folder: the final rename stays on one file system). */
static int open_temp(struct hoist_registry *r, const char *path, char *tmp, size_t cap, int *fd,
                     struct hoist_err *err)
{
  int i;
  for (i = 0; i < 100; i++) {
    r->seed = r->seed * 1103515245u + 12345u;
    if (snprintf(tmp, cap, "%s.tmp-%ld-%08x", path, (long)getpid(), r->seed) >= (int)cap)
      return hoist_err_set(err, HOIST_ERANGE, "path too long: '%s'", path);
    *fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (*fd >= 0)
      return HOIST_OK;
    if (errno != EEXIST)
      return hoist_err_set(err, HOIST_EIO, "cannot create '%s': %s", tmp, strerror(errno));
  }
  return hoist_err_set(err, HOIST_EIO, "cannot create a temp file beside '%s'", path);
}

int hoist_registry_blob_get_file(struct hoist_registry *r, const char *repo, const char *digest,
                                 unsigned long long expected, const char *path,
                                 unsigned long long *size, struct hoist_err *err)
{
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  struct download dl;
  char url[REG_URL_MAX], scope[512], range[64], tmp[4096], got[HOIST_DIGEST_LEN + 1];
  const char *hdrs[1] = { range };
  long last_progress = reg_now_ms();
  int rc, failures = 0, stalls = 0, done = 0;

  if (size)
    *size = 0;
  if (!hoist_digest_valid(digest))
    return hoist_err_set(err, HOIST_EINVAL, "invalid blob digest");
  if (reg_scope(scope, sizeof scope, repo, "pull") ||
      snprintf(url, sizeof url, "%s/v2/%s/blobs/%s", r->base, repo, digest) >= (int)sizeof url)
    return hoist_err_set(err, HOIST_ERANGE, "repository name too long");
  memset(&dl, 0, sizeof dl);
  dl.limit = expected;
  if ((rc = open_temp(r, path, tmp, sizeof tmp, &dl.fd, err)) != HOIST_OK)
    return rc;
  if (hoist_digest_init(&dl.hash, err)) {
    close(dl.fd);
    unlink(tmp);
    return err ? err->code : HOIST_ENOMEM;
  }
  while (!done) {
    unsigned long long before = dl.written;
    long retry_after = -1;
    int again = 0, answered;
    memset(&rq, 0, sizeof rq);
    rq.method = "GET";
    rq.url = url;
    rq.follow_redirects = 1;  /* to storage; libcurl drops Authorization when the host changes */
    rq.sink = download_sink;
    rq.sink_ctx = &dl;
    rq.expected_bytes = expected - dl.written;
    if (dl.written > 0) {
      /* resume: only what is missing */
      snprintf(range, sizeof range, "Range: bytes=%llu-", dl.written);
      rq.headers = hdrs;
      rq.nheaders = 1;
    }
    dl.fresh = 1;
    dl.bad_range = 0;
    rc = reg_send_authed(r, scope, &rq, &rs, err);
    answered = rc == HOIST_OK;  /* rs holds a response to release */
    if (rc) {
      if (rs.sink_error && dl.too_big) {
        rc = hoist_err_set(err, HOIST_EREMOTE, "registry '%s' answered blob %s with more than its "
                           "%llu bytes", r->host, digest, expected);
      } else if (rs.sink_error && dl.bad_range) {
        again = 1;  /* a range we cannot use: the next try starts from the beginning */
        rc = download_restart(&dl) ? hoist_err_set(err, HOIST_EIO, "cannot write '%s': %s", tmp,
                                                   strerror(dl.io_errno))
                                   : hoist_err_set(err, HOIST_EREMOTE,
                                                   "registry '%s' answered a range request for "
                                                   "blob %s with another range", r->host, digest);
      } else if (rs.sink_error) {
        rc = hoist_err_set(err, HOIST_EIO, "cannot write '%s': %s", tmp, strerror(dl.io_errno));
      } else {
        again = rs.transport_error;
      }
    } else if (rs.status == 200 || rs.status == 206) {
      done = 1;
    } else if (rs.status == 416 && dl.written > 0) {
      done = 1;  /* nothing left to send: the file may be whole already (the hash decides) */
    } else {
      again = reg_retryable_status(rs.status);
      retry_after = reg_retry_after_ms(&rs);
      rc = reg_remote_error(r, "a blob download", &rs, err);
    }
    if (answered)
      hoist_http_resp_release(&rs);
    if (done || !again)
      break;
    /* bounded: so many failures in all, fewer in a row without a byte of progress */
    if (dl.written > before) {
      stalls = 0;
      last_progress = reg_now_ms();
    }
    if (++failures >= 4 * REG_RETRY_ATTEMPTS || ++stalls >= REG_RETRY_ATTEMPTS)
      break;
    {
      long wait = retry_after >= 0 ? retry_after : reg_backoff_ms(r, NULL, stalls);
      if (reg_now_ms() - last_progress + wait > REG_RETRY_BUDGET_MS)
        break;
      reg_note_retry(r, "GET", url, err && err->msg[0] ? err->msg : "failed", failures, wait);
      reg_sleep_ms(wait);
    }
  }
  if (done) {
    rc = hoist_digest_final(&dl.hash, got) ? hoist_err_set(err, HOIST_ENOMEM, "out of memory")
                                           : HOIST_OK;
    if (!rc && strcmp(got, digest) != 0)
      rc = hoist_err_set(err, HOIST_EREMOTE, "registry '%s' answered blob %s with other content",
                         r->host, digest);
  } else {
    hoist_digest_release(&dl.hash);
    if (!rc)
      rc = hoist_err_set(err, HOIST_EIO, "blob %s from '%s': download failed", digest, r->host);
  }
  if (close(dl.fd) != 0 && !rc)
    rc = hoist_err_set(err, HOIST_EIO, "cannot write '%s': %s", tmp, strerror(errno));
  if (!rc && rename(tmp, path) != 0)
    rc = hoist_err_set(err, HOIST_EIO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
  if (rc) {
    unlink(tmp);
    return rc;
  }
  if (size)
    *size = dl.written;
  return HOIST_OK;
}

int hoist_registry_manifest_put(struct hoist_registry *r, const char *repo, const char *ref,
                                const char *media_type, const char *body, size_t len,
                                char digest_out[HOIST_DIGEST_LEN + 1], struct hoist_err *err)
{
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  char url[REG_URL_MAX], scope[512], ct[256], got[128];
  const char *hdrs[1];
  int rc;
  if (reg_scope(scope, sizeof scope, repo, "pull,push") ||
      snprintf(url, sizeof url, "%s/v2/%s/manifests/%s", r->base, repo, ref) >= (int)sizeof url ||
      snprintf(ct, sizeof ct, "Content-Type: %s", media_type) >= (int)sizeof ct)
    return hoist_err_set(err, HOIST_ERANGE, "repository or media type too long");
  hdrs[0] = ct;
  memset(&rq, 0, sizeof rq);
  rq.method = "PUT";
  rq.url = url;
  rq.headers = hdrs;
  rq.nheaders = 1;
  rq.has_body = 1;
  rq.body = body;
  rq.body_len = len;
  rc = reg_send_retry(r, scope, &rq, &rs, err);
  if (rc)
    return rc;
  if (rs.status != 201) {
    rc = reg_remote_error(r, "a manifest", &rs, err);
  } else if (digest_out) {
    /* the digest of what we sent; the registry's header must agree when present */
    rc = hoist_digest_buffer(body, len, digest_out, err);
    if (!rc && hoist_http_header(&rs, "Docker-Content-Digest", got, sizeof got) &&
        strcmp(got, digest_out) != 0)
      rc = hoist_err_set(err, HOIST_EREMOTE, "registry '%s' stored the manifest as %s, not %s",
                         r->host, got, digest_out);
  }
  hoist_http_resp_release(&rs);
  return rc;
}

/* GET of a manifest, any status: the caller reads rs (and releases it). */
static int manifest_request(struct hoist_registry *r, const char *repo, const char *ref,
                            const char *method, struct hoist_http_resp *rs, struct hoist_err *err)
{
  struct hoist_http_req rq;
  char url[REG_URL_MAX], scope[512];
  const char *hdrs[1] = { accept_manifests };
  if (reg_scope(scope, sizeof scope, repo, "pull") ||
      snprintf(url, sizeof url, "%s/v2/%s/manifests/%s", r->base, repo, ref) >= (int)sizeof url)
    return hoist_err_set(err, HOIST_ERANGE, "repository name too long");
  memset(&rq, 0, sizeof rq);
  rq.method = method;
  rq.url = url;
  rq.headers = hdrs;
  rq.nheaders = 1;
  rq.max_response = MANIFEST_MAX;
  return reg_send_retry(r, scope, &rq, rs, err);
}

/* A fetched manifest's bytes must be what a digest reference asked for. */
static int check_manifest_digest(struct hoist_registry *r, const char *ref,
                                 const struct hoist_http_resp *rs, char d[HOIST_DIGEST_LEN + 1],
                                 struct hoist_err *err)
{
  if (hoist_digest_buffer(rs->body.buf ? rs->body.buf : "", rs->body.len, d, err))
    return err ? err->code : HOIST_ENOMEM;
  if (strncmp(ref, "sha256:", 7) == 0 && strcmp(d, ref) != 0)
    return hoist_err_set(err, HOIST_EREMOTE, "registry '%s' answered %s with other content", r->host, ref);
  return HOIST_OK;
}

int hoist_registry_manifest_get(struct hoist_registry *r, const char *repo, const char *ref,
                                char **body, size_t *len, char *media_type, size_t mt_cap,
                                struct hoist_err *err)
{
  struct hoist_http_resp rs;
  char d[HOIST_DIGEST_LEN + 1];
  int rc;
  *body = NULL;
  if ((rc = manifest_request(r, repo, ref, "GET", &rs, err)) != HOIST_OK)
    return rc;
  if (rs.status != 200) {
    rc = reg_remote_error(r, "a manifest request", &rs, err);
    hoist_http_resp_release(&rs);
    return rc;
  }
  if (media_type && !hoist_http_header(&rs, "Content-Type", media_type, mt_cap))
    media_type[0] = '\0';
  if ((rc = check_manifest_digest(r, ref, &rs, d, err)) != HOIST_OK) {
    hoist_http_resp_release(&rs);
    return rc;
  }
  *body = strbuf_detach(&rs.body, len);
  hoist_http_resp_release(&rs);
  return *body ? HOIST_OK : hoist_err_set(err, HOIST_ENOMEM, "out of memory");
}

int hoist_registry_manifest_head(struct hoist_registry *r, const char *repo, const char *ref,
                                 int *exists, char digest[HOIST_DIGEST_LEN + 1], char *mt,
                                 size_t mt_cap, unsigned long long *size, struct hoist_err *err)
{
  struct hoist_http_resp rs;
  char got[128], len[64];
  int rc;
  *exists = 0;
  digest[0] = '\0';
  if (mt && mt_cap)
    mt[0] = '\0';
  if (size)
    *size = 0;
  if ((rc = manifest_request(r, repo, ref, "HEAD", &rs, err)) != HOIST_OK)
    return rc;
  if (rs.status == 404) {
    hoist_http_resp_release(&rs);
    return HOIST_OK;
  }
  if (rs.status == 200 && hoist_http_header(&rs, "Docker-Content-Digest", got, sizeof got) &&
      hoist_digest_valid(got)) {
    if (strncmp(ref, "sha256:", 7) == 0 && strcmp(got, ref) != 0) {
      hoist_http_resp_release(&rs);
      return hoist_err_set(err, HOIST_EREMOTE, "registry '%s' answered %s with %s", r->host, ref, got);
    }
    *exists = 1;
    memcpy(digest, got, HOIST_DIGEST_LEN + 1);
    if (mt && !hoist_http_header(&rs, "Content-Type", mt, mt_cap))
      mt[0] = '\0';
    if (size && hoist_http_header(&rs, "Content-Length", len, sizeof len))
      *size = strtoull(len, NULL, 10);
    hoist_http_resp_release(&rs);
    return HOIST_OK;
  }
  if (rs.status != 200 && rs.status != 405) {
    rc = reg_remote_error(r, "a manifest check", &rs, err);
    hoist_http_resp_release(&rs);
    return rc;
  }
  /* no HEAD (405) or no digest in its answer: GET the manifest and hash what came */
  hoist_http_resp_release(&rs);
  if ((rc = manifest_request(r, repo, ref, "GET", &rs, err)) != HOIST_OK)
    return rc;
  if (rs.status == 404) {
    hoist_http_resp_release(&rs);
    return HOIST_OK;
  }
  if (rs.status != 200)
    rc = reg_remote_error(r, "a manifest request", &rs, err);
  else
    rc = check_manifest_digest(r, ref, &rs, digest, err);
  if (!rc) {
    *exists = 1;
    if (mt && !hoist_http_header(&rs, "Content-Type", mt, mt_cap))
      mt[0] = '\0';
    if (size)
      *size = rs.body.len;
  }
  hoist_http_resp_release(&rs);
  return rc;
}

int hoist_registry_manifest_delete(struct hoist_registry *r, const char *repo, const char *ref,
                                   struct hoist_err *err)
{
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  char url[REG_URL_MAX], scope[512], code[64], msg[160];
  int rc, by_digest = strchr(ref, ':') != NULL;
  /* deleting needs its own action: pull,push is not enough */
  if (reg_scope(scope, sizeof scope, repo, "delete") ||
      snprintf(url, sizeof url, "%s/v2/%s/manifests/%s", r->base, repo, ref) >= (int)sizeof url)
    return hoist_err_set(err, HOIST_ERANGE, "repository name too long");
  memset(&rq, 0, sizeof rq);
  rq.method = "DELETE";
  rq.url = url;
  rc = reg_send_retry(r, scope, &rq, &rs, err);
  if (rc)
    return rc;
  reg_error_first(&rs, code, sizeof code, msg, sizeof msg);
  if (rs.status == 202 || rs.status == 200 || rs.status == 204) {
    rc = HOIST_OK;
  } else if (rs.status == 405 || strcmp(code, "UNSUPPORTED") == 0 ||
             (!by_digest && rs.status == 400 && strcmp(code, "DIGEST_INVALID") == 0)) {
    /*
    ** Deletion switched off (405 UNSUPPORTED), or a registry that deletes
    ** manifests only by digest (distribution 2.x answers a tag 400
    ** DIGEST_INVALID): say so rather than pass on a puzzling code.
    */
    const char *what = by_digest ? "manifests" : "tags";
    const char *hint = by_digest ? "" : "; delete the manifest by digest instead";
    if (code[0])
      rc = hoist_err_set(err, HOIST_EREMOTE, "registry '%s' does not allow deleting %s (%s: %s)%s",
                         r->host, what, code, msg, hint);
    else
      rc = hoist_err_set(err, HOIST_EREMOTE, "registry '%s' does not allow deleting %s (HTTP %ld)%s",
                         r->host, what, rs.status, hint);
  } else {
    rc = reg_remote_error(r, "a delete", &rs, err);
  }
  hoist_http_resp_release(&rs);
  return rc;
}

/*
** Bounds on a tag listing: a registry (or something in its place) that sends
** pages forever must not take the memory or the time; a real repository
** stays far below them.
*/
#define TAGS_MAX 250000
#define TAGS_BYTES_MAX (64u << 20)
#define TAGS_EMPTY_PAGES_MAX 16

struct tag_pages {
  char **list;
  size_t count, cap;
  char **seen;                 /* every page URL asked for: a repeat means a loop */
  size_t nseen, seen_cap;
  unsigned long long bytes;
};

static void tag_pages_free(struct tag_pages *tp, int keep_list)
{
  size_t i;
  for (i = 0; i < tp->nseen; i++)
    free(tp->seen[i]);
  free(tp->seen);
  if (!keep_list) {
    for (i = 0; i < tp->count; i++)
      free(tp->list[i]);
    free(tp->list);
  }
}

/* Records url as asked for; HOIST_EREMOTE when it was asked for already. */
static int tag_page_visit(struct hoist_registry *r, struct tag_pages *tp, const char *url,
                          struct hoist_err *err)
{
  size_t i;
  for (i = 0; i < tp->nseen; i++)
    if (strcmp(tp->seen[i], url) == 0)
      return hoist_err_set(err, HOIST_EREMOTE, "registry '%s' sends tag pages without end (a next "
                           "page links back to one already read)", r->host);
  if (tp->nseen == tp->seen_cap) {
    size_t nc = tp->seen_cap ? tp->seen_cap * 2 : 16;
    char **ns = realloc(tp->seen, nc * sizeof *ns);
    if (!ns)
      return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    tp->seen = ns;
    tp->seen_cap = nc;
  }
  if (!(tp->seen[tp->nseen] = strdup(url)))
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  tp->nseen++;
  return HOIST_OK;
}

static int tag_add(struct hoist_registry *r, struct tag_pages *tp, const char *t, struct hoist_err *err)
{
  if (tp->count == TAGS_MAX)
    return hoist_err_set(err, HOIST_EREMOTE, "registry '%s' sends tag pages without end (more than "
                         "%d tags)", r->host, TAGS_MAX);
  if (tp->count == tp->cap) {
    size_t nc = tp->cap ? tp->cap * 2 : 64;
    char **nl = realloc(tp->list, nc * sizeof *nl);
    if (!nl)
      return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    tp->list = nl;
    tp->cap = nc;
  }
  if (!(tp->list[tp->count] = strdup(t)))
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  tp->count++;
  return HOIST_OK;
}

int hoist_registry_tags(struct hoist_registry *r, const char *repo, size_t page_size,
                        char ***tags, size_t *n, struct hoist_err *err)
{
  char scope[512], first[REG_URL_MAX];
  char *url = NULL;
  struct tag_pages tp;
  int rc = HOIST_OK, empty_run = 0;
  *tags = NULL;
  *n = 0;
  memset(&tp, 0, sizeof tp);
  if (reg_scope(scope, sizeof scope, repo, "pull") ||
      snprintf(first, sizeof first, "%s/v2/%s/tags/list?n=%zu", r->base, repo,
               page_size ? page_size : 1000) >= (int)sizeof first)
    return hoist_err_set(err, HOIST_ERANGE, "repository name too long");
  url = strdup(first);
  if (!url)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  while (!rc && url) {
    struct hoist_http_req rq;
    struct hoist_http_resp rs;
    char link[4096];
    char *next = NULL;
    json_t *doc, *arr;
    size_t i, before = tp.count;
    if ((rc = tag_page_visit(r, &tp, url, err)) != HOIST_OK)
      break;
    memset(&rq, 0, sizeof rq);
    rq.method = "GET";
    rq.url = url;
    rq.max_response = 16u << 20;
    rc = reg_send_retry(r, scope, &rq, &rs, err);
    if (rc)
      break;
    if (rs.status == 404) {
      hoist_http_resp_release(&rs);  /* no such repository yet: no tags */
      break;
    }
    if (rs.status != 200) {
      rc = reg_remote_error(r, "the tag list", &rs, err);
      hoist_http_resp_release(&rs);
      break;
    }
    tp.bytes += rs.body.len;
    if (tp.bytes > TAGS_BYTES_MAX) {
      hoist_http_resp_release(&rs);
      rc = hoist_err_set(err, HOIST_EREMOTE, "registry '%s' sends tag pages without end (more than "
                         "%u MiB of tag lists)", r->host, TAGS_BYTES_MAX >> 20);
      break;
    }
    doc = json_loadb(rs.body.buf ? rs.body.buf : "", rs.body.len, 0, NULL);
    arr = doc ? json_object_get(doc, "tags") : NULL;
    if (!doc || (arr && !json_is_array(arr) && !json_is_null(arr))) {
      json_decref(doc);
      hoist_http_resp_release(&rs);
      rc = hoist_err_set(err, HOIST_EREMOTE, "registry '%s' answered the tag list with invalid JSON", r->host);
      break;
    }
    for (i = 0; !rc && json_is_array(arr) && i < json_array_size(arr); i++) {
      const char *t = json_string_value(json_array_get(arr, i));
      if (t)
        rc = tag_add(r, &tp, t, err);
    }
    json_decref(doc);
    empty_run = tp.count == before ? empty_run + 1 : 0;
    if (!rc && empty_run > TAGS_EMPTY_PAGES_MAX)
      rc = hoist_err_set(err, HOIST_EREMOTE, "registry '%s' sends tag pages without end (%d empty "
                         "pages in a row)", r->host, TAGS_EMPTY_PAGES_MAX + 1);
    if (!rc && hoist_http_header(&rs, "Link", link, sizeof link))
      rc = hoist_linkhdr_next(link, strlen(link), url, &next, err);
    hoist_http_resp_release(&rs);
    free(url);
    url = next;
  }
  free(url);
  tag_pages_free(&tp, rc == HOIST_OK);
  if (rc)
    return rc;
  *tags = tp.list;
  *n = tp.count;
  return HOIST_OK;
}
