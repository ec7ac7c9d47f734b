#define _DEFAULT_SOURCE 1

#include "registry.h"

#include "http.h"
#include "linkhdr.h"
#include "ref.h"
#include "registry_int.h"

#include <jansson.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MANIFEST_MAX (4u << 20)

static const char accept_manifests[] =
  "Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
  "application/vnd.docker.distribution.manifest.list.v2+json, "
  "application/vnd.docker.distribution.manifest.v2+json";

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
  r->auth = reg_auth_new(o ? o->username : NULL, o ? o->password : NULL, o ? o->identity_token : NULL);
  if (!r->auth) {
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
    reg_auth_free(r->auth);
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

/* Whether the error body of rs lists the error code `code`. */
int reg_error_has(const struct hoist_http_resp *rs, const char *code)
{
  json_t *doc = rs->body.len ? json_loadb(rs->body.buf, rs->body.len, 0, NULL) : NULL;
  json_t *errs = doc ? json_object_get(doc, "errors") : NULL, *e;
  size_t i;
  int found = 0;
  json_array_foreach(errs, i, e) {
    const char *c = json_string_value(json_object_get(e, "code"));
    if (c && strcmp(c, code) == 0)
      found = 1;
  }
  json_decref(doc);
  return found;
}

/*
** "CODE: message" from a registry error body (every error it lists, with the detail of one
** naming a digest: distribution answers a manifest whose blob it cannot see with
** DIGEST_INVALID first and MANIFEST_BLOB_UNKNOWN, the reason, second), else the status.
*/
int reg_remote_error(const struct hoist_registry *r, const char *what,
                     const struct hoist_http_resp *rs, struct hoist_err *err)
{
  json_t *doc = rs->body.len ? json_loadb(rs->body.buf, rs->body.len, 0, NULL) : NULL;
  json_t *errs = doc ? json_object_get(doc, "errors") : NULL, *e;
  int ecode = rs->status == 401 || rs->status == 403 ? HOIST_EAUTH : HOIST_EREMOTE;
  char text[512] = "";
  size_t i, o = 0;
  int rc;
  json_array_foreach(errs, i, e) {
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    const char *detail = json_string_value(json_object_get(e, "detail"));
    char shown[HOIST_ERR_SHOW_MAX];
    int n;
    if (!code || o >= sizeof text - 1)
      continue;
    n = snprintf(text + o, sizeof text - o, "%s%s: %s%s%s%s", o ? "; " : "", code, msg ? msg : "",
                 detail ? " (" : "", detail ? hoist_err_show(shown, detail, strlen(detail)) : "",
                 detail ? ")" : "");
    o += n > 0 ? (size_t)n : 0;
    if (o >= sizeof text)
      o = sizeof text - 1;
  }
  if (o)
    rc = hoist_err_set(err, ecode, "registry '%s' refused %s: %s (HTTP %ld)", r->host, what, text,
                       rs->status);
  else
    rc = hoist_err_set(err, ecode, "registry '%s' answered %ld to %s", r->host, rs->status, what);
  json_decref(doc);
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

int reg_target(struct hoist_registry *r, struct reg_target *t, const char *repo, const char *actions,
               struct hoist_err *err, const char *fmt, ...)
{
  va_list ap;
  int n = snprintf(t->url, sizeof t->url, "%s/v2/%s", r->base, repo), m;
  if (n < 0 || (size_t)n >= sizeof t->url || reg_scope(t->scope, sizeof t->scope, repo, actions))
    return hoist_err_set(err, HOIST_ERANGE, "repository name too long");
  va_start(ap, fmt);
  m = vsnprintf(t->url + n, sizeof t->url - (size_t)n, fmt, ap);
  va_end(ap);
  if (m < 0 || (size_t)m >= sizeof t->url - (size_t)n)
    return hoist_err_set(err, HOIST_ERANGE, "repository name too long");
  return HOIST_OK;
}

void reg_request(struct hoist_http_req *rq, const char *method, const char *url)
{
  memset(rq, 0, sizeof *rq);
  rq->method = method;
  rq->url = url;
}

int hoist_registry_check_auth(struct hoist_registry *r, struct hoist_err *err)
{
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  char url[REG_URL_MAX];
  int rc;
  snprintf(url, sizeof url, "%s/v2/", r->base);
  reg_request(&rq, "GET", url);
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
  struct reg_target t;
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  char len[64];
  int rc;
  *exists = 0;
  if ((rc = reg_target(r, &t, repo, "pull", err, "/blobs/%s", digest)) != HOIST_OK)
    return rc;
  reg_request(&rq, "HEAD", t.url);
  rc = reg_send_retry(r, t.scope, &rq, &rs, err);
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

int hoist_registry_manifest_put(struct hoist_registry *r, const char *repo, const char *ref,
                                const char *media_type, const char *body, size_t len,
                                char digest_out[HOIST_DIGEST_LEN + 1], struct hoist_err *err)
{
  struct reg_target t;
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  char ct[256], got[128];
  const char *hdrs[1];
  int rc, attempt;
  if ((rc = reg_target(r, &t, repo, "pull,push", err, "/manifests/%s", ref)) != HOIST_OK)
    return rc;
  if (snprintf(ct, sizeof ct, "Content-Type: %s", media_type) >= (int)sizeof ct)
    return hoist_err_set(err, HOIST_ERANGE, "media type too long");
  hdrs[0] = ct;
  reg_request(&rq, "PUT", t.url);
  rq.headers = hdrs;
  rq.nheaders = 1;
  rq.has_body = 1;
  rq.body = body;
  rq.body_len = len;
  for (attempt = 0;; attempt++) {
    long wait = 100L << attempt;
    if ((rc = reg_send_retry(r, t.scope, &rq, &rs, err)) != HOIST_OK)
      return rc;
    /*
    ** A blob the manifest names that another client is committing at this very moment:
    ** distribution's filesystem storage rewrites the repository's link to it in place, and
    ** a manifest checked then finds none ("blob unknown"). We pushed or found every blob
    ** first, so it is there: a few short tries, then the registry's answer.
    */
    if (rs.status != 400 || attempt >= 3 || !reg_error_has(&rs, "MANIFEST_BLOB_UNKNOWN"))
      break;
    hoist_http_resp_release(&rs);
    reg_note_retry(r, "PUT", t.url, "a blob it names is not visible yet (MANIFEST_BLOB_UNKNOWN)",
                   attempt, wait);
    reg_sleep_ms(wait);
  }
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
  struct reg_target t;
  struct hoist_http_req rq;
  const char *hdrs[1] = { accept_manifests };
  int rc;
  if ((rc = reg_target(r, &t, repo, "pull", err, "/manifests/%s", ref)) != HOIST_OK)
    return rc;
  reg_request(&rq, method, t.url);
  rq.headers = hdrs;
  rq.nheaders = 1;
  rq.max_response = MANIFEST_MAX;
  return reg_send_retry(r, t.scope, &rq, rs, err);
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
  struct reg_target t;
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  char code[64], msg[160];
  int rc, by_digest = strchr(ref, ':') != NULL;
  /* deleting needs its own action: pull,push is not enough */
  if ((rc = reg_target(r, &t, repo, "delete", err, "/manifests/%s", ref)) != HOIST_OK)
    return rc;
  reg_request(&rq, "DELETE", t.url);
  rc = reg_send_retry(r, t.scope, &rq, &rs, err);
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

