/*
** regauth: how the registry client authenticates (registry_int.h): the
** credentials it holds, the Bearer tokens it caches per scope set, the
** challenge flow of reg_send_authed, and the rule that credentials go to the
** registry's own origin only (a URL the registry hands back that points
** elsewhere gets none; a token realm must be http(s), and https off
** loopback). Secrets are wiped before their memory goes back and never
** appear in a message.
*/
#define _DEFAULT_SOURCE 1

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

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOKEN_MIN_SECS 60      /* the token spec: a shorter or missing expires_in means 60 */
#define TOKEN_SLACK_MS 10000   /* a token this close to its end is fetched anew */
#define MAX_SCOPES 16

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

void reg_auth_free(struct reg_auth *a)
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

struct reg_auth *reg_auth_new(const char *user, const char *pass, const char *identity)
{
  struct reg_auth *a = calloc(1, sizeof *a);
  if (!a)
    return NULL;
  if (pthread_mutex_init(&a->mu, NULL) != 0) {
    free(a);
    return NULL;
  }
  if ((user && !(a->basic = basic_header(user, pass))) ||
      (identity && *identity && !(a->identity = strdup(identity)))) {
    reg_auth_free(a);
    return NULL;
  }
  return a;
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
  reg_request(&rq, "POST", realm);
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
  reg_request(&rq, "GET", url.buf);
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
