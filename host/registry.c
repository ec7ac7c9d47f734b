#define _DEFAULT_SOURCE 1

#include "registry.h"

#include "authhdr.h"
#include "http.h"
#include "linkhdr.h"
#include "ref.h"
#include "strbuf.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TOKENS 16
#define MANIFEST_MAX (4u << 20)

struct token {
  char *scope;    /* the scope string it was issued for */
  char *header;   /* "Authorization: Bearer ..." */
};

struct hoist_registry {
  struct hoist_http *http;
  char base[300];          /* scheme://host */
  char host[256];
  char *basic;             /* "Authorization: Basic ..." when credentials were given */
  int use_basic;           /* the registry asked for Basic */
  struct token tokens[MAX_TOKENS];
  size_t ntokens;
  unsigned seed;           /* jitter */
};

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
    strbuf_release(&plain);
    return NULL;
  }
  n = EVP_EncodeBlock(enc, (const unsigned char *)plain.buf, (int)plain.len);
  /* the secret stays in memory only as long as needed */
  OPENSSL_cleanse(plain.buf, plain.len);
  strbuf_release(&plain);
  strbuf_init(&out, 8192);
  if (n < 0 || strbuf_addf(&out, "Authorization: Basic %.*s", n, enc)) {
    free(enc);
    strbuf_release(&out);
    return NULL;
  }
  OPENSSL_cleanse(enc, (size_t)n);
  free(enc);
  return strbuf_detach(&out, NULL);
}

int hoist_registry_new(const char *host, const struct hoist_registry_opts *o,
                       struct hoist_registry **out, struct hoist_err *err)
{
  struct hoist_registry *r;
  struct hoist_http_opts ho;
  char hostonly[256];
  size_t hl;
  int loop;
  *out = NULL;
  if (!host || !*host || strlen(host) >= sizeof r->host)
    return hoist_err_set(err, HOIST_EINVAL, "invalid registry host");
  r = calloc(1, sizeof *r);
  if (!r)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  memset(&ho, 0, sizeof ho);
  ho.insecure_tls = o && o->insecure;
  if (hoist_http_new(&ho, &r->http, err)) {
    free(r);
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
  if (o && o->username && !(r->basic = basic_header(o->username, o->password))) {
    hoist_registry_free(r);
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  *out = r;
  return HOIST_OK;
}

void hoist_registry_free(struct hoist_registry *r)
{
  size_t i;
  if (!r)
    return;
  hoist_http_free(r->http);
  if (r->basic) {
    OPENSSL_cleanse(r->basic, strlen(r->basic));
    free(r->basic);
  }
  for (i = 0; i < r->ntokens; i++) {
    free(r->tokens[i].scope);
    free(r->tokens[i].header);
  }
  free(r);
}

/* "CODE: message" from a registry error body, else the status. */
static int remote_error(const struct hoist_registry *r, const char *what,
                        const struct hoist_http_resp *rs, struct hoist_err *err)
{
  json_t *doc = rs->body.len ? json_loadb(rs->body.buf, rs->body.len, 0, NULL) : NULL;
  json_t *first = doc ? json_array_get(json_object_get(doc, "errors"), 0) : NULL;
  const char *code = first ? json_string_value(json_object_get(first, "code")) : NULL;
  const char *msg = first ? json_string_value(json_object_get(first, "message")) : NULL;
  int rc;
  if (code)
    rc = hoist_err_set(err, rs->status == 401 || rs->status == 403 ? HOIST_EAUTH : HOIST_EREMOTE,
                       "registry '%s' refused %s: %s: %s (HTTP %ld)", r->host, what, code,
                       msg ? msg : "", rs->status);
  else
    rc = hoist_err_set(err, rs->status == 401 || rs->status == 403 ? HOIST_EAUTH : HOIST_EREMOTE,
                       "registry '%s' answered %ld to %s", r->host, rs->status, what);
  json_decref(doc);
  return rc;
}

static const char *cached_token(const struct hoist_registry *r, const char *scope)
{
  size_t i;
  for (i = 0; i < r->ntokens; i++)
    if (strcmp(r->tokens[i].scope, scope) == 0)
      return r->tokens[i].header;
  return NULL;
}

/* GET realm?service=&scope= (Basic credentials when we have them), cache the token. */
static int fetch_token(struct hoist_registry *r, const struct hoist_authhdr *ch, const char *scope,
                       struct hoist_err *err)
{
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  struct strbuf url, hdr;
  const char *hdrs[1];
  CURL *esc = curl_easy_init();
  json_t *doc = NULL;
  const char *tok;
  size_t i;
  int rc = HOIST_OK;

  strbuf_init(&url, 8192);
  strbuf_init(&hdr, 16384);
  if (!esc)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  rc = strbuf_addf(&url, "%s%s", ch->realm, strchr(ch->realm, '?') ? "&" : "?");
  if (!rc && ch->service) {
    char *s = curl_easy_escape(esc, ch->service, 0);
    rc = s ? strbuf_addf(&url, "service=%s", s) : HOIST_ENOMEM;
    curl_free(s);
  }
  /* each scope of the challenge (or the one we need) as its own parameter */
  for (i = 0; !rc && i < (ch->nscopes ? ch->nscopes : 1); i++) {
    char *s = curl_easy_escape(esc, ch->nscopes ? ch->scopes[i] : scope, 0);
    rc = s ? strbuf_addf(&url, "%sscope=%s", url.buf[url.len - 1] == '?' ? "" : "&", s) : HOIST_ENOMEM;
    curl_free(s);
  }
  curl_easy_cleanup(esc);
  if (rc) {
    strbuf_release(&url);
    return hoist_err_set(err, rc, "token request too long");
  }
  memset(&rq, 0, sizeof rq);
  rq.method = "GET";
  rq.url = url.buf;
  if (r->basic) {
    hdrs[0] = r->basic;
    rq.headers = hdrs;
    rq.nheaders = 1;
  }
  rc = hoist_http_do(r->http, &rq, &rs, err);
  strbuf_release(&url);
  if (rc) {
    hoist_http_resp_release(&rs);
    return rc;
  }
  if (rs.status == 401 || rs.status == 403) {
    hoist_http_resp_release(&rs);
    return hoist_err_set(err, HOIST_EAUTH, "authentication failed for registry '%s'%s", r->host,
                         r->basic ? " (check the user name and password)" : " (no credentials given)");
  }
  if (rs.status != 200) {
    rc = remote_error(r, "the token request", &rs, err);
    hoist_http_resp_release(&rs);
    return rc;
  }
  doc = json_loadb(rs.body.buf ? rs.body.buf : "", rs.body.len, 0, NULL);
  hoist_http_resp_release(&rs);
  tok = doc ? json_string_value(json_object_get(doc, "token")) : NULL;
  if (!tok && doc)
    tok = json_string_value(json_object_get(doc, "access_token"));
  if (!tok) {
    json_decref(doc);
    return hoist_err_set(err, HOIST_EREMOTE, "the token server of '%s' answered no token", r->host);
  }
  if (strbuf_addf(&hdr, "Authorization: Bearer %s", tok)) {
    json_decref(doc);
    strbuf_release(&hdr);
    return hoist_err_set(err, HOIST_ERANGE, "token from '%s' too long", r->host);
  }
  json_decref(doc);
  if (r->ntokens == MAX_TOKENS) {
    free(r->tokens[0].scope);
    free(r->tokens[0].header);
    memmove(&r->tokens[0], &r->tokens[1], (MAX_TOKENS - 1) * sizeof r->tokens[0]);
    r->ntokens--;
  }
  r->tokens[r->ntokens].scope = strdup(scope);
  r->tokens[r->ntokens].header = strbuf_detach(&hdr, NULL);
  if (!r->tokens[r->ntokens].scope || !r->tokens[r->ntokens].header) {
    free(r->tokens[r->ntokens].scope);
    free(r->tokens[r->ntokens].header);
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  r->ntokens++;
  return HOIST_OK;
}

/*
** Sends rq with the auth its scope needs, answering one 401 challenge. extra
** headers come first; the Authorization header is added here.
*/
static int send_authed(struct hoist_registry *r, const char *scope, struct hoist_http_req *rq,
                       struct hoist_http_resp *rs, struct hoist_err *err)
{
  const char *hdrs[8];
  const char *const *orig = rq->headers;
  size_t norig = rq->nheaders, i;
  int attempt, rc = HOIST_OK;

  if (norig > 7)
    return hoist_err_set(err, HOIST_EINVAL, "too many headers");
  for (attempt = 0; attempt < 2; attempt++) {
    const char *auth = cached_token(r, scope);
    char wa[HOIST_AUTHHDR_MAX];
    struct hoist_authhdr *ch = NULL;
    if (!auth && r->use_basic)
      auth = r->basic;
    for (i = 0; i < norig; i++)
      hdrs[i] = orig[i];
    rq->headers = hdrs;
    rq->nheaders = norig + (auth ? 1 : 0);
    if (auth)
      hdrs[norig] = auth;
    rc = hoist_http_do(r->http, rq, rs, err);
    rq->headers = orig;
    rq->nheaders = norig;
    if (rc || rs->status != 401 || attempt == 1)
      break;
    if (!hoist_http_header(rs, "WWW-Authenticate", wa, sizeof wa) ||
        hoist_authhdr_parse(wa, strlen(wa), &ch, NULL) != HOIST_OK) {
      break;  /* a 401 without a usable challenge: reported by the caller */
    }
    hoist_http_resp_release(rs);
    if (ch->bearer && ch->realm) {
      rc = fetch_token(r, ch, scope, err);
    } else if (ch->basic && r->basic) {
      r->use_basic = 1;
    } else {
      rc = hoist_err_set(err, HOIST_EAUTH, "registry '%s' needs credentials (none given)", r->host);
    }
    hoist_authhdr_free(ch);
    if (rc)
      return rc;
  }
  if (!rc && rs->status == 401) {
    rc = hoist_err_set(err, HOIST_EAUTH, "authentication failed for registry '%s'", r->host);
    hoist_http_resp_release(rs);
  }
  return rc;
}

/* Statuses worth another try: the registry or a proxy in front of it is busy or failing. */
static int retryable_status(long status)
{
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

static void sleep_ms(long ms)
{
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

static long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
** The wait before try number `attempt` (1-based): Retry-After when the
** registry says, else exponential from 100 ms with jitter, capped.
*/
static long backoff_ms(struct hoist_registry *r, const struct hoist_http_resp *rs, int attempt)
{
  char ra[64];
  long ms = 100L << (attempt < 7 ? attempt - 1 : 6);
  if (rs && hoist_http_header(rs, "Retry-After", ra, sizeof ra)) {
    char *end;
    long secs = strtol(ra, &end, 10);
    if (end != ra && *end == '\0' && secs >= 0)
      return secs > 30 ? 30000 : secs * 1000;
  }
  if (ms > 5000)
    ms = 5000;
  /* jitter: spread clients that failed together */
  r->seed = r->seed * 1103515245u + 12345u;
  return ms / 2 + (long)((r->seed >> 16) % (unsigned)(ms / 2 + 1));
}

/*
** send_authed, again after a dropped connection or a busy answer, with
** backoff, for at most RETRY_ATTEMPTS tries and RETRY_BUDGET_MS in all. Only
** for requests that are safe to repeat (GET, HEAD, PUT of a manifest, POST of
** a new upload session); a blob's final PUT is retried by its caller.
*/
#define RETRY_ATTEMPTS 6
#define RETRY_BUDGET_MS 120000L

static int send_retry(struct hoist_registry *r, const char *scope, struct hoist_http_req *rq,
                      struct hoist_http_resp *rs, struct hoist_err *err)
{
  long start = now_ms();
  int attempt;
  for (attempt = 1;; attempt++) {
    int rc = send_authed(r, scope, rq, rs, err);
    int again = rc ? (rs->transport_error != 0) : retryable_status(rs->status);
    long wait;
    if (!again || attempt >= RETRY_ATTEMPTS)
      return rc;
    wait = backoff_ms(r, rc ? NULL : rs, attempt);
    if (now_ms() - start + wait > RETRY_BUDGET_MS)
      return rc;
    if (!rc)
      hoist_http_resp_release(rs);
    sleep_ms(wait);
  }
}

static int scope_for(char *out, size_t cap, const char *repo, const char *actions)
{
  return snprintf(out, cap, "repository:%s:%s", repo, actions) < (int)cap ? HOIST_OK : HOIST_ERANGE;
}

int hoist_registry_blob_exists(struct hoist_registry *r, const char *repo, const char *digest,
                               int *exists, unsigned long long *size, struct hoist_err *err)
{
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  char url[1024], scope[512], len[64];
  int rc;
  *exists = 0;
  if (scope_for(scope, sizeof scope, repo, "pull") ||
      snprintf(url, sizeof url, "%s/v2/%s/blobs/%s", r->base, repo, digest) >= (int)sizeof url)
    return hoist_err_set(err, HOIST_ERANGE, "repository name too long");
  memset(&rq, 0, sizeof rq);
  rq.method = "HEAD";
  rq.url = url;
  rc = send_retry(r, scope, &rq, &rs, err);
  if (rc)
    return rc;
  if (rs.status == 200) {
    *exists = 1;
    if (size && hoist_http_header(&rs, "Content-Length", len, sizeof len))
      *size = strtoull(len, NULL, 10);
  } else if (rs.status != 404) {
    rc = remote_error(r, "a blob check", &rs, err);
  }
  hoist_http_resp_release(&rs);
  return rc;
}

/*
** One try of an upload: a session (kept in *session across tries: a PUT
** that failed may be sent again into the same session), then the content.
** *again says whether another try could help.
*/
static int blob_put_once(struct hoist_registry *r, const char *repo, const char *digest,
                         const char *path, unsigned long long size, char **session, int *again,
                         struct hoist_err *err)
{
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  char url[1024], scope[512], loc[2048];
  char *put = NULL;
  const char *hdrs[1] = { "Content-Type: application/octet-stream" };
  struct strbuf sb;
  int rc;

  *again = 0;
  if (scope_for(scope, sizeof scope, repo, "pull,push") ||
      snprintf(url, sizeof url, "%s/v2/%s/blobs/uploads/", r->base, repo) >= (int)sizeof url)
    return hoist_err_set(err, HOIST_ERANGE, "repository name too long");
  if (!*session) {
    /* the session first, without a body: auth is settled before any byte is streamed */
    memset(&rq, 0, sizeof rq);
    rq.method = "POST";
    rq.url = url;
    rq.has_body = 1;
    rc = send_retry(r, scope, &rq, &rs, err);
    if (rc) {
      *again = rs.transport_error != 0;
      return rc;
    }
    if (rs.status != 202 || !hoist_http_header(&rs, "Location", loc, sizeof loc)) {
      *again = retryable_status(rs.status);
      rc = rs.status == 202 ? hoist_err_set(err, HOIST_EREMOTE, "registry '%s' opened an upload without a Location", r->host)
                            : remote_error(r, "an upload", &rs, err);
      hoist_http_resp_release(&rs);
      return rc;
    }
    hoist_http_resp_release(&rs);
    /* relative or absolute, query and all: resolved against the request, otherwise kept */
    if (hoist_url_resolve(url, loc, strlen(loc), session, err))
      return err ? err->code : HOIST_EINVAL;
  }
  strbuf_init(&sb, 8192);
  if (strbuf_addf(&sb, "%s%sdigest=%s", *session, strchr(*session, '?') ? "&" : "?", digest))
    return hoist_err_set(err, HOIST_ERANGE, "upload location too long");
  put = strbuf_detach(&sb, NULL);
  memset(&rq, 0, sizeof rq);
  rq.method = "PUT";
  rq.url = put;
  rq.headers = hdrs;
  rq.nheaders = 1;
  rq.has_body = 1;
  rq.body_path = path;
  rq.body_size = size;
  rc = send_authed(r, scope, &rq, &rs, err);
  free(put);
  if (rc) {
    *again = rs.transport_error != 0;
    return rc;
  }
  if (rs.status != 201) {
    *again = retryable_status(rs.status);
    if (rs.status == 404 || rs.status == 400 || rs.status == 416) {
      /* the session is gone (or was spoiled): the next try opens a new one */
      free(*session);
      *session = NULL;
      *again = 1;
    }
    rc = remote_error(r, "a blob upload", &rs, err);
  }
  hoist_http_resp_release(&rs);
  return rc;
}

/*
** Uploads a blob, trying again when the transfer failed in a way worth
** retrying. Before each new try the blob is looked up, since a PUT whose
** answer was lost may have been committed; the session is reused while the
** registry keeps it.
*/
int hoist_registry_blob_put_file(struct hoist_registry *r, const char *repo, const char *digest,
                                 const char *path, unsigned long long size, struct hoist_err *err)
{
  long start = now_ms();
  char *session = NULL;
  int attempt, rc;
  for (attempt = 1;; attempt++) {
    int again = 0, exists = 0;
    long wait;
    rc = blob_put_once(r, repo, digest, path, size, &session, &again, err);
    if (rc == HOIST_OK || !again || attempt >= 2 * RETRY_ATTEMPTS)
      break;
    wait = backoff_ms(r, NULL, attempt);
    if (now_ms() - start + wait > RETRY_BUDGET_MS)
      break;
    sleep_ms(wait);
    if (hoist_registry_blob_exists(r, repo, digest, &exists, NULL, NULL) == HOIST_OK && exists) {
      rc = HOIST_OK;
      break;
    }
  }
  free(session);
  return rc;
}

int hoist_registry_manifest_put(struct hoist_registry *r, const char *repo, const char *ref,
                                const char *media_type, const char *body, size_t len,
                                char digest_out[HOIST_DIGEST_LEN + 1], struct hoist_err *err)
{
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  char url[1024], scope[512], ct[256], got[128];
  const char *hdrs[1];
  int rc;
  if (scope_for(scope, sizeof scope, repo, "pull,push") ||
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
  rc = send_retry(r, scope, &rq, &rs, err);
  if (rc)
    return rc;
  if (rs.status != 201) {
    rc = remote_error(r, "a manifest", &rs, err);
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

int hoist_registry_manifest_get(struct hoist_registry *r, const char *repo, const char *ref,
                                char **body, size_t *len, char *media_type, size_t mt_cap,
                                struct hoist_err *err)
{
  static const char accept[] =
    "Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  char url[1024], scope[512];
  const char *hdrs[1] = { accept };
  int rc;
  *body = NULL;
  if (scope_for(scope, sizeof scope, repo, "pull") ||
      snprintf(url, sizeof url, "%s/v2/%s/manifests/%s", r->base, repo, ref) >= (int)sizeof url)
    return hoist_err_set(err, HOIST_ERANGE, "repository name too long");
  memset(&rq, 0, sizeof rq);
  rq.method = "GET";
  rq.url = url;
  rq.headers = hdrs;
  rq.nheaders = 1;
  rq.max_response = MANIFEST_MAX;
  rc = send_retry(r, scope, &rq, &rs, err);
  if (rc)
    return rc;
  if (rs.status != 200) {
    rc = remote_error(r, "a manifest request", &rs, err);
    hoist_http_resp_release(&rs);
    return rc;
  }
  if (media_type && !hoist_http_header(&rs, "Content-Type", media_type, mt_cap))
    media_type[0] = '\0';
  /* fetched by digest: the bytes must be what was asked for */
  if (strncmp(ref, "sha256:", 7) == 0) {
    char d[HOIST_DIGEST_LEN + 1];
    if (hoist_digest_buffer(rs.body.buf ? rs.body.buf : "", rs.body.len, d, err) ||
        strcmp(d, ref) != 0) {
      hoist_http_resp_release(&rs);
      return hoist_err_set(err, HOIST_EREMOTE, "registry '%s' answered %s with other content", r->host, ref);
    }
  }
  *body = strbuf_detach(&rs.body, len);
  hoist_http_resp_release(&rs);
  return *body ? HOIST_OK : hoist_err_set(err, HOIST_ENOMEM, "out of memory");
}

int hoist_registry_tags(struct hoist_registry *r, const char *repo, size_t page_size,
                        char ***tags, size_t *n, struct hoist_err *err)
{
  char scope[512], first[1024];
  char *url = NULL;
  char **list = NULL;
  size_t count = 0, cap = 0, pages = 0;
  int rc = HOIST_OK;
  *tags = NULL;
  *n = 0;
  if (scope_for(scope, sizeof scope, repo, "pull") ||
      snprintf(first, sizeof first, "%s/v2/%s/tags/list?n=%zu", r->base, repo,
               page_size ? page_size : 1000) >= (int)sizeof first)
    return hoist_err_set(err, HOIST_ERANGE, "repository name too long");
  url = strdup(first);
  while (!rc && url) {
    struct hoist_http_req rq;
    struct hoist_http_resp rs;
    char link[4096];
    char *next = NULL;
    json_t *doc, *arr;
    size_t i;
    if (++pages > 10000) {
      rc = hoist_err_set(err, HOIST_EREMOTE, "registry '%s' sends tag pages without end", r->host);
      break;
    }
    memset(&rq, 0, sizeof rq);
    rq.method = "GET";
    rq.url = url;
    rq.max_response = 16u << 20;
    rc = send_retry(r, scope, &rq, &rs, err);
    if (rc)
      break;
    if (rs.status == 404) {
      hoist_http_resp_release(&rs);  /* no such repository yet: no tags */
      break;
    }
    if (rs.status != 200) {
      rc = remote_error(r, "the tag list", &rs, err);
      hoist_http_resp_release(&rs);
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
      if (!t)
        continue;
      if (count == cap) {
        size_t nc = cap ? cap * 2 : 64;
        char **nl = realloc(list, nc * sizeof *nl);
        if (!nl) {
          rc = hoist_err_set(err, HOIST_ENOMEM, "out of memory");
          break;
        }
        list = nl;
        cap = nc;
      }
      if (!(list[count] = strdup(t)))
        rc = hoist_err_set(err, HOIST_ENOMEM, "out of memory");
      else
        count++;
    }
    json_decref(doc);
    if (!rc && hoist_http_header(&rs, "Link", link, sizeof link))
      rc = hoist_linkhdr_next(link, strlen(link), url, &next, err);
    hoist_http_resp_release(&rs);
    free(url);
    url = next;
  }
  free(url);
  if (rc) {
    size_t i;
    for (i = 0; i < count; i++)
      free(list[i]);
    free(list);
    return rc;
  }
  *tags = list;
  *n = count;
  return HOIST_OK;
}
