/*
** upload: blob uploads (monolithic and chunked, with resume), cross-repository
** mounts and parallel pushes, for registry.h. Auth, retries and error
** messages come from registry.c (registry_int.h).
*/
#define _DEFAULT_SOURCE 1

#include "registry.h"

#include "condwait.h"
#include "linkhdr.h"
#include "registry_int.h"
#include "strbuf.h"

#include <jansson.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ monolithic */

/*
** One try of a monolithic upload: a session (kept in *session across tries: a
** PUT that failed may be sent again into the same session), then the content.
** *again says whether another try could help.
*/
static int blob_put_once(struct hoist_registry *r, const char *repo, const char *digest,
                         const char *path, unsigned long long size, char **session, int *again,
                         struct hoist_err *err)
{
  struct reg_target t;
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  char loc[2048];
  char *put = NULL;
  const char *hdrs[1] = { "Content-Type: application/octet-stream" };
  struct strbuf sb;
  int rc;

  *again = 0;
  if ((rc = reg_target(r, &t, repo, "pull,push", err, "/blobs/uploads/")) != HOIST_OK)
    return rc;
  if (!*session) {
    /* the session first, without a body: auth is settled before any byte is streamed */
    reg_request(&rq, "POST", t.url);
    rq.has_body = 1;
    /*
    ** reg_send_retry has retried a busy or dropped POST already: the
    ** outer loop does not do it again (*again stays 0); it is for the PUT.
    */
    rc = reg_send_retry(r, t.scope, &rq, &rs, err);
    if (rc)
      return rc;
    int long_loc = 0;
    if (rs.status != 202 || !hoist_http_header_ex(&rs, "Location", loc, sizeof loc, &long_loc)) {
      rc = rs.status != 202 ? reg_remote_error(r, "an upload", &rs, err)
           : long_loc ? hoist_err_set(err, HOIST_EREMOTE, "registry '%s' opened an upload with a Location "
                                      "longer than %zu bytes", r->host, sizeof loc - 1)
                      : hoist_err_set(err, HOIST_EREMOTE, "registry '%s' opened an upload without a Location", r->host);
      hoist_http_resp_release(&rs);
      return rc;
    }
    hoist_http_resp_release(&rs);
    /* relative or absolute, query and all: resolved against the request, otherwise kept */
    if (hoist_url_resolve(t.url, loc, strlen(loc), session, err))
      return err ? err->code : HOIST_EINVAL;
  }
  strbuf_init(&sb, 8192);
  if (strbuf_addf(&sb, "%s%sdigest=%s", *session, strchr(*session, '?') ? "&" : "?", digest))
    return hoist_err_set(err, HOIST_ERANGE, "upload location too long");
  put = strbuf_detach(&sb, NULL);
  if (!put)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  reg_request(&rq, "PUT", put);
  rq.headers = hdrs;
  rq.nheaders = 1;
  rq.has_body = 1;
  rq.body_path = path;
  rq.body_size = size;
  rc = reg_send_authed(r, t.scope, &rq, &rs, err);
  free(put);
  if (rc) {
    *again = rs.transport_error != 0;
    return rc;
  }
  if (rs.status != 201) {
    *again = reg_retryable_status(rs.status);
    if (rs.status == 404 || rs.status == 400 || rs.status == 416) {
      /* the session is gone (or was spoiled): the next try opens a new one */
      free(*session);
      *session = NULL;
      *again = 1;
    }
    rc = reg_remote_error(r, "a blob upload", &rs, err);
  }
  hoist_http_resp_release(&rs);
  return rc;
}

/*
** Uploads a blob in one PUT, trying again when the transfer failed in a way
** worth retrying. Before each new try the blob is looked up, since a PUT whose
** answer was lost may have been committed; the session is reused while the
** registry keeps it.
*/
static int blob_put_monolithic(struct hoist_registry *r, const char *repo, const char *digest,
                               const char *path, unsigned long long size, struct hoist_err *err)
{
  long start = reg_now_ms();
  char *session = NULL;
  int attempt, rc;
  for (attempt = 1;; attempt++) {
    int again = 0, exists = 0;
    long wait;
    rc = blob_put_once(r, repo, digest, path, size, &session, &again, err);
    if (rc == HOIST_OK || !again || attempt >= 2 * REG_RETRY_ATTEMPTS)
      break;
    wait = reg_backoff_ms(r, NULL, attempt);
    if (reg_now_ms() - start + wait > REG_RETRY_BUDGET_MS)
      break;
    reg_note_retry(r, "PUT", session ? session : r->base, err && err->msg[0] ? err->msg : "failed",
                   attempt, wait);
    reg_sleep_ms(wait);
    if (hoist_registry_blob_exists(r, repo, digest, &exists, NULL, NULL) == HOIST_OK && exists) {
      rc = HOIST_OK;
      break;
    }
  }
  free(session);
  return rc;
}

/* ------------------------------------------------------------------ chunked */

/* How a step of a chunked upload failed, which decides the next one. */
enum fail_kind {
  FAIL_FATAL,      /* give up: auth refused, a bad request, our file changed */
  FAIL_TRANSIENT,  /* a dropped connection, 408/429/5xx: wait, then ask the session where it is */
  FAIL_RANGE,      /* 416: ask the session where it is, at once */
  FAIL_GONE        /* the session is lost (404, spoiled): open a new one */
};

struct upload {
  struct hoist_registry *r;
  const char *repo, *digest, *path;
  unsigned long long size;      /* the blob's size; with a source, the bytes written so far */
  const struct reg_source *src; /* a blob still being written (NULL: a finished file) */
  int final;                    /* size and digest are the blob's (always, without a source) */
  unsigned long long chunk;     /* this session's chunk size: the most a PATCH sends */
  unsigned long long step;      /* with a source: the least a PATCH waits for (but the last) */
  unsigned long long offset;    /* bytes the registry has confirmed */
  char *session;                /* the latest Location, absolute */
  long retry_after;             /* the last failure's Retry-After in ms, or -1 */
  char scope[512];
};

/* The session becomes the response's Location, resolved against the URL it answered. */
static int take_location(struct upload *u, const char *req_url, const struct hoist_http_resp *rs,
                         int required, struct hoist_err *err)
{
  char loc[4096];
  char *abs = NULL;
  int long_loc = 0;
  if (!hoist_http_header_ex(rs, "Location", loc, sizeof loc, &long_loc)) {
    if (long_loc)
      return hoist_err_set(err, HOIST_EREMOTE, "registry '%s' answered an upload step with a Location "
                           "longer than %zu bytes", u->r->host, sizeof loc - 1);
    if (!required)
      return HOIST_OK;
    return hoist_err_set(err, HOIST_EREMOTE, "registry '%s' answered an upload step without a Location",
                         u->r->host);
  }
  if (hoist_url_resolve(req_url, loc, strlen(loc), &abs, err))
    return err ? err->code : HOIST_EINVAL;
  free(u->session);
  u->session = abs;
  return HOIST_OK;
}

/* "0-END" (some registries write "bytes=0-END") -> END; -1 when absent or malformed. */
static long long range_end(const struct hoist_http_resp *rs)
{
  char v[128], *p, *end;
  unsigned long long n;
  if (!hoist_http_header(rs, "Range", v, sizeof v))
    return -1;
  p = strncmp(v, "bytes=", 6) == 0 ? v + 6 : v;
  if (p[0] != '0' || p[1] != '-' || p[2] < '0' || p[2] > '9')
    return -1;
  n = strtoull(p + 2, &end, 10);
  return *end == '\0' && n < (1ull << 62) ? (long long)n : -1;
}

/* POST a new session (no body: auth is settled before any byte is streamed). */
static int session_open(struct upload *u, struct hoist_err *err)
{
  struct reg_target t;
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  char min[64];
  int rc;
  if ((rc = reg_target(u->r, &t, u->repo, "pull,push", err, "/blobs/uploads/")) != HOIST_OK)
    return rc;
  reg_request(&rq, "POST", t.url);
  rq.has_body = 1;
  if ((rc = reg_send_retry(u->r, u->scope, &rq, &rs, err)) != HOIST_OK)
    return rc;
  if (rs.status != 202)
    rc = reg_remote_error(u->r, "an upload", &rs, err);
  else
    rc = take_location(u, t.url, &rs, 1, err);
  if (!rc) {
    unsigned long long m = 0;
    u->offset = 0;
    u->chunk = u->r->chunk_size;
    /* a registry may want bigger chunks than we would send (ECR: 5 MB) */
    if (hoist_http_header(&rs, "OCI-Chunk-Min-Length", min, sizeof min)) {
      char *end;
      m = strtoull(min, &end, 10);
      if (end == min || *end != '\0')
        m = 0;
      if (m > u->chunk)
        u->chunk = m;
    }
    /*
    ** A blob still being written is sent as soon as a step is on disk, so the link is busy
    ** from the start; when the upload falls behind, a PATCH takes up to a whole chunk.
    */
    u->step = u->chunk < REG_STREAM_STEP ? u->chunk : REG_STREAM_STEP > m ? REG_STREAM_STEP : m;
  }
  hoist_http_resp_release(&rs);
  return rc;
}

/* Sends the next chunk; on success the offset moves to what the registry confirms. */
static int patch_chunk(struct upload *u, enum fail_kind *kind, struct hoist_err *err)
{
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  char cr[96];
  const char *hdrs[2] = { "Content-Type: application/octet-stream", cr };
  unsigned long long n = u->size - u->offset;
  char *url;
  long long end;
  int rc;
  if (n > u->chunk)
    n = u->chunk;
  snprintf(cr, sizeof cr, "Content-Range: %llu-%llu", u->offset, u->offset + n - 1);
  if (!(url = strdup(u->session)))
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  reg_request(&rq, "PATCH", url);
  rq.headers = hdrs;
  rq.nheaders = 2;
  rq.has_body = 1;
  rq.body_path = u->path;
  rq.body_offset = u->offset;
  rq.body_size = n;
  *kind = FAIL_FATAL;
  rc = reg_send_authed(u->r, u->scope, &rq, &rs, err);
  if (rc) {
    *kind = rs.transport_error ? FAIL_TRANSIENT : FAIL_FATAL;
    free(url);
    return rc;
  }
  if (rs.status == 202) {
    rc = take_location(u, url, &rs, 0, err);
    end = range_end(&rs);
    /* what the registry says it has wins over what we think we sent */
    if (!rc && end >= 0 && (unsigned long long)end + 1 > u->size)
      rc = hoist_err_set(err, HOIST_EREMOTE, "registry '%s' claims more bytes than blob %s has",
                         u->r->host, u->final ? u->digest : "(being built)");
    else if (!rc)
      u->offset = end >= 0 ? (unsigned long long)end + 1 : u->offset + n;
  } else {
    *kind = rs.status == 416   ? FAIL_RANGE
            : rs.status == 404 ? FAIL_GONE
            : reg_retryable_status(rs.status) ? FAIL_TRANSIENT
                                              : FAIL_FATAL;
    u->retry_after = reg_retry_after_ms(&rs);
    rc = reg_remote_error(u->r, "a blob chunk", &rs, err);
  }
  hoist_http_resp_release(&rs);
  free(url);
  return rc;
}

/*
** Asks the session how many bytes it holds (GET: 204 with Range 0-N and a
** fresh Location). *gone when the registry lost it (404, or an answer that
** makes no sense for this blob).
*/
static int session_status(struct upload *u, int *gone, struct hoist_err *err)
{
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  char *url = strdup(u->session);
  long long end;
  int rc;
  *gone = 0;
  if (!url)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  reg_request(&rq, "GET", url);
  rc = reg_send_retry(u->r, u->scope, &rq, &rs, err);
  if (rc) {
    free(url);
    return rc;
  }
  if (rs.status == 404 || rs.status == 400) {
    *gone = 1;  /* distribution answers a stale session 404 BLOB_UPLOAD_INVALID */
  } else if (rs.status == 204 || rs.status == 200 || rs.status == 202) {
    rc = take_location(u, url, &rs, 0, err);
    end = range_end(&rs);
    /*
    ** "0-0" is both "nothing" and "one byte" for distribution: it is one
    ** byte only when we had that byte confirmed already.
    */
    if (!rc) {
      unsigned long long have = end < 0 ? 0 : end == 0 && u->offset == 0 ? 0 : (unsigned long long)end + 1;
      if (have > u->size)
        *gone = 1;
      else
        u->offset = have;
    }
  } else {
    rc = reg_remote_error(u->r, "an upload status request", &rs, err);
  }
  hoist_http_resp_release(&rs);
  free(url);
  return rc;
}

/* The closing PUT ?digest= with no body (every byte went in PATCHes). */
static int put_final(struct upload *u, enum fail_kind *kind, struct hoist_err *err)
{
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  struct strbuf sb;
  const char *hdrs[1] = { "Content-Type: application/octet-stream" };
  char code[64];
  char *put;
  int rc;
  *kind = FAIL_FATAL;
  strbuf_init(&sb, 8192);
  if (strbuf_addf(&sb, "%s%sdigest=%s", u->session, strchr(u->session, '?') ? "&" : "?", u->digest))
    return hoist_err_set(err, HOIST_ERANGE, "upload location too long");
  if (!(put = strbuf_detach(&sb, NULL)))
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  reg_request(&rq, "PUT", put);
  rq.headers = hdrs;
  rq.nheaders = 1;
  rq.has_body = 1;
  rc = reg_send_authed(u->r, u->scope, &rq, &rs, err);
  free(put);
  if (rc) {
    *kind = rs.transport_error ? FAIL_TRANSIENT : FAIL_FATAL;
    return rc;
  }
  if (rs.status != 201) {
    reg_error_first(&rs, code, sizeof code, NULL, 0);
    u->retry_after = reg_retry_after_ms(&rs);
    if (reg_retryable_status(rs.status))
      *kind = FAIL_TRANSIENT;
    else if (rs.status == 404 || rs.status == 416 ||
             (rs.status == 400 && strcmp(code, "DIGEST_INVALID") != 0))
      *kind = FAIL_GONE;  /* lost or spoiled; a wrong digest is ours and stays fatal */
    rc = reg_remote_error(u->r, "a blob upload", &rs, err);
  }
  hoist_http_resp_release(&rs);
  return rc;
}

/*
** The chunked upload: POST, PATCH chunks to the latest Location, PUT
** ?digest=. After a failure: a final PUT first HEADs the blob (its answer may
** have been lost after the commit); then the session is asked where it
** stands and the upload goes on from there, or starts over in a new session
** when it is lost. Bounded: REG_RETRY_ATTEMPTS failures in a row without a
** confirmed byte more, 4 times that in all, and REG_RETRY_BUDGET_MS without
** progress.
*/
/*
** With a source (a blob still being written): before each step, wait until a step's worth past
** what the registry confirmed is on disk (the PATCH then sends all there is, up to a chunk), or
** the blob is complete; only then is the size known and the closing PUT possible. Resuming
** reads the bytes again from the file, as for a file.
*/
static int source_step(struct upload *u, long *last_progress, struct hoist_err *err)
{
  const char *digest = NULL;
  unsigned long long have = 0;
  int final = 0, waited = 0;
  int rc = u->src->wait(u->src->ctx, u->offset + u->step, &have, &final, &digest, &waited, err);
  if (rc)
    return rc;
  u->size = have;
  u->final = final;
  if (final)
    u->digest = digest;
  /* waiting for the build is not a stall of the upload */
  if (waited)
    *last_progress = reg_now_ms();
  return HOIST_OK;
}

static int blob_put_chunked(struct hoist_registry *r, const char *repo, const char *digest,
                            const char *path, unsigned long long size,
                            const struct reg_source *src, struct hoist_err *err)
{
  struct upload u;
  unsigned long long best = 0;
  long last_progress = reg_now_ms();
  int rc, failures = 0, stalls = 0;

  memset(&u, 0, sizeof u);
  u.r = r;
  u.repo = repo;
  u.digest = digest;
  u.path = path;
  u.size = size;
  u.src = src;
  u.final = src == NULL;
  if (reg_scope(u.scope, sizeof u.scope, repo, "pull,push"))
    return hoist_err_set(err, HOIST_ERANGE, "repository name too long");
  for (;;) {
    enum fail_kind kind = FAIL_FATAL;
    int gone = 0, exists = 0, final = 0;
    u.retry_after = -1;
    if (!u.session && (rc = session_open(&u, err)) != HOIST_OK)
      break;  /* reg_send_retry has retried it already */
    if (src && (rc = source_step(&u, &last_progress, err)) != HOIST_OK)
      break;  /* rolled back, stopped or interrupted: nothing to retry */
    if (u.offset < u.size) {
      rc = patch_chunk(&u, &kind, err);
      if (rc == HOIST_OK && src && src->confirmed)
        src->confirmed(src->ctx, u.offset);
    } else {
      final = 1;
      rc = put_final(&u, &kind, err);
    }
    if (rc == HOIST_OK) {
      if (final)
        break;
      continue;
    }
    if (kind == FAIL_FATAL)
      break;
    if (u.offset > best) {
      best = u.offset;
      stalls = 0;
      last_progress = reg_now_ms();
    }
    if (++failures >= 4 * REG_RETRY_ATTEMPTS || ++stalls >= REG_RETRY_ATTEMPTS)
      break;
    if (kind != FAIL_RANGE) {
      long wait = u.retry_after >= 0 ? u.retry_after : reg_backoff_ms(r, NULL, stalls);
      if (reg_now_ms() - last_progress + wait > REG_RETRY_BUDGET_MS)
        break;
      reg_note_retry(r, final ? "PUT" : "PATCH", u.session ? u.session : r->base,
                     err && err->msg[0] ? err->msg : "failed", failures, wait);
      reg_sleep_ms(wait);
    }
    if (final && hoist_registry_blob_exists(r, repo, u.digest, &exists, NULL, NULL) == HOIST_OK &&
        exists) {
      rc = HOIST_OK;  /* the PUT was committed; only its answer was lost */
      break;
    }
    if (final && kind == FAIL_TRANSIENT)
      continue;  /* the session still holds every byte: PUT again (a lost one answers 404) */
    if (kind != FAIL_GONE) {
      struct hoist_err serr;
      if (session_status(&u, &gone, &serr) != HOIST_OK)
        gone = 1;  /* we cannot learn where it stands: a new session is the safe way on */
    }
    if (kind == FAIL_GONE || gone) {
      free(u.session);
      u.session = NULL;
      u.offset = 0;
    }
  }
  free(u.session);
  return rc;
}

int hoist_registry_blob_put_file(struct hoist_registry *r, const char *repo, const char *digest,
                                 const char *path, unsigned long long size, struct hoist_err *err)
{
  if (size > r->chunk_size)
    return blob_put_chunked(r, repo, digest, path, size, NULL, err);
  return blob_put_monolithic(r, repo, digest, path, size, err);
}

int reg_put_streamed(struct hoist_registry *r, const char *repo, const char *path,
                     const struct reg_source *src, struct hoist_err *err)
{
  return blob_put_chunked(r, repo, NULL, path, 0, src, err);
}

/* ------------------------------------------------------------------ mount */

int hoist_registry_blob_mount(struct hoist_registry *r, const char *repo, const char *digest,
                              const char *from_repo, int *mounted, struct hoist_err *err)
{
  struct reg_target t;
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  char scopes[REG_SCOPES_MAX], loc[4096];
  int rc;
  *mounted = 0;
  if (!hoist_digest_valid(digest))
    return hoist_err_set(err, HOIST_EINVAL, "invalid blob digest");
  if ((rc = reg_target(r, &t, repo, "pull,push", err, "/blobs/uploads/?mount=%s&from=%s", digest,
                       from_repo)) != HOIST_OK)
    return rc;
  /* push,pull on the target first (some token servers read only the first), pull on the source */
  if (snprintf(scopes, sizeof scopes, "%s repository:%s:pull", t.scope, from_repo) >= (int)sizeof scopes)
    return hoist_err_set(err, HOIST_ERANGE, "repository name too long");
  reg_request(&rq, "POST", t.url);
  rq.has_body = 1;
  if ((rc = reg_send_retry(r, scopes, &rq, &rs, err)) != HOIST_OK)
    return rc;
  if (rs.status == 201) {
    *mounted = 1;
  } else if (rs.status == 202) {
    /* not mounted, but a session was opened for us: cancel it (best effort) */
    char *cancel = NULL;
    if (hoist_http_header(&rs, "Location", loc, sizeof loc) &&
        hoist_url_resolve(t.url, loc, strlen(loc), &cancel, NULL) == HOIST_OK) {
      struct hoist_http_resp cr;
      reg_request(&rq, "DELETE", cancel);
      if (reg_send_authed(r, scopes, &rq, &cr, NULL) == HOIST_OK)
        hoist_http_resp_release(&cr);
    }
    free(cancel);
  } else {
    rc = reg_remote_error(r, "a blob mount", &rs, err);
  }
  hoist_http_resp_release(&rs);
  return rc;
}

/* ------------------------------------------------------------------ parallel push */

enum job_result { JOB_EXISTING, JOB_MOUNTED, JOB_UPLOADED };

static int push_one(struct hoist_registry *r, const char *repo, const struct hoist_blob_job *j,
                    enum job_result *res, struct hoist_err *err)
{
  int exists = 0, mounted = 0, rc;
  if (!j->digest || !j->path || !hoist_digest_valid(j->digest))
    return hoist_err_set(err, HOIST_EINVAL, "invalid blob job (digest and path are required)");
  if ((rc = hoist_registry_blob_exists(r, repo, j->digest, &exists, NULL, err)) != HOIST_OK)
    return rc;
  if (exists) {
    *res = JOB_EXISTING;
    return HOIST_OK;
  }
  if (j->mount_from && *j->mount_from && strcmp(j->mount_from, repo) != 0) {
    if ((rc = hoist_registry_blob_mount(r, repo, j->digest, j->mount_from, &mounted, err)) != HOIST_OK)
      return rc;
    if (mounted) {
      *res = JOB_MOUNTED;
      return HOIST_OK;
    }
  }
  if ((rc = hoist_registry_blob_put_file(r, repo, j->digest, j->path, j->size, err)) != HOIST_OK)
    return rc;
  *res = JOB_UPLOADED;
  return HOIST_OK;
}

struct pool {
  pthread_mutex_t mu;
  pthread_cond_t done_cv;      /* signalled when a job ends (only with a progress callback) */
  int reporting;               /* a progress callback waits on done_cv */
  size_t *finished;            /* with reporting: job indexes in the order they ended */
  size_t nfinished;
  size_t exited;               /* workers that have stopped */
  const char *repo;
  struct hoist_blob_job *jobs;
  size_t n, next;
  int rc;                      /* the first failure, which stops handing out jobs */
  struct hoist_err err;
  struct hoist_push_stats st;
  struct worker *workers;      /* with reporting: whose bytes in flight are reported */
  size_t nworkers;
};

struct worker {
  struct pool *pool;
  struct hoist_registry *r;    /* the caller's client, or a clone */
  /* with reporting: the body bytes curl has sent for the job in hand (job, active under mu) */
  _Atomic unsigned long long sent;
  size_t job;
  int active;
};

static void *worker_run(void *arg)
{
  struct worker *w = arg;
  struct pool *p = w->pool;
  if (p->reporting)
    hoist_http_count_sent(w->r->http, &w->sent);
  for (;;) {
    struct hoist_err err;
    enum job_result res = JOB_EXISTING;
    size_t i;
    int rc;
    pthread_mutex_lock(&p->mu);
    if (p->rc || p->next >= p->n) {
      pthread_mutex_unlock(&p->mu);
      break;
    }
    i = p->next++;
    w->job = i;
    w->active = 1;
    atomic_store(&w->sent, 0);
    pthread_mutex_unlock(&p->mu);
    err.code = 0;
    err.msg[0] = '\0';
    rc = push_one(w->r, p->repo, &p->jobs[i], &res, &err);
    pthread_mutex_lock(&p->mu);
    w->active = 0;
    if (rc) {
      if (!p->rc) {
        p->rc = rc;
        p->err = err;
      }
    } else if (res == JOB_EXISTING) {
      p->st.existing++;
      p->jobs[i].outcome = HOIST_BLOB_EXISTING;
    } else if (res == JOB_MOUNTED) {
      p->st.mounted++;
      p->jobs[i].outcome = HOIST_BLOB_MOUNTED;
    } else {
      p->st.uploaded++;
      p->st.uploaded_bytes += p->jobs[i].size;
      p->jobs[i].outcome = HOIST_BLOB_UPLOADED;
    }
    if (p->reporting) {
      if (!rc)
        p->finished[p->nfinished++] = i;
      pthread_cond_signal(&p->done_cv);
    }
    pthread_mutex_unlock(&p->mu);
  }
  if (p->reporting)
    hoist_http_count_sent(w->r->http, NULL);
  pthread_mutex_lock(&p->mu);
  p->exited++;
  if (p->reporting)
    pthread_cond_signal(&p->done_cv);
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

/*
** The bytes a push has moved (under p->mu): the jobs that ended (reported or not yet) and, of
** the jobs in flight, what curl has sent of them (capped at their size: a body sent again after
** a dropped connection counts once).
*/
static unsigned long long bytes_moved(const struct pool *p)
{
  unsigned long long b = 0;
  size_t k;
  for (k = 0; k < p->nfinished; k++)
    b += p->jobs[p->finished[k]].size;
  for (k = 0; k < p->nworkers; k++) {
    const struct worker *w = &p->workers[k];
    if (w->active) {
      unsigned long long sent = atomic_load(&w->sent);
      b += sent < p->jobs[w->job].size ? sent : p->jobs[w->job].size;
    }
  }
  return b;
}

/*
** Reports on this thread, until every worker has stopped: each finished job (index: the job),
** and every PROGRESS_TICK_MS while bytes move inside blobs (index HOIST_PUSH_TICK). done_bytes
** never goes down.
*/
#define PROGRESS_TICK_MS 250
static void report_progress(struct pool *p, size_t running, hoist_push_progress_fn progress, void *ud)
{
  size_t reported = 0;
  unsigned long long last = 0;
  struct hoist_push_stats seen;
  memset(&seen, 0, sizeof seen);
  pthread_mutex_lock(&p->mu);
  for (;;) {
    int stop = 0, called = 0;
    while (reported < p->nfinished) {
      size_t i = p->finished[reported++];
      struct hoist_push_stats snap;
      unsigned long long moved = bytes_moved(p);
      /* counts of the jobs reported so far (p->st may already hold later ones) */
      if (p->jobs[i].outcome == HOIST_BLOB_EXISTING)
        seen.existing++;
      else if (p->jobs[i].outcome == HOIST_BLOB_MOUNTED)
        seen.mounted++;
      else {
        seen.uploaded++;
        seen.uploaded_bytes += p->jobs[i].size;
      }
      if (moved > last)
        last = moved;
      snap = seen;
      pthread_mutex_unlock(&p->mu);
      stop = progress(ud, i, &snap, last);
      pthread_mutex_lock(&p->mu);
      called = 1;
      if (stop)
        break;
    }
    if (!stop && !called && p->exited < running) {
      unsigned long long moved = bytes_moved(p);
      if (moved > last) {
        struct hoist_push_stats snap = seen;
        last = moved;
        pthread_mutex_unlock(&p->mu);
        stop = progress(ud, HOIST_PUSH_TICK, &snap, last);
        pthread_mutex_lock(&p->mu);
      }
    }
    if (stop && !p->rc) {
      p->rc = HOIST_ECANCELED;
      hoist_err_set(&p->err, HOIST_ECANCELED, "the push was stopped");
    }
    if (p->exited == running && reported == p->nfinished)
      break;
    if (reported == p->nfinished && p->exited < running)
      hoist_cond_wait_ms(&p->done_cv, &p->mu, PROGRESS_TICK_MS);
  }
  pthread_mutex_unlock(&p->mu);
}

int hoist_registry_push_blobs(struct hoist_registry *r, const char *repo,
                              struct hoist_blob_job *jobs, size_t n, int parallel,
                              struct hoist_push_stats *st, struct hoist_err *err)
{
  return hoist_registry_push_blobs_progress(r, repo, jobs, n, parallel, NULL, NULL, st, err);
}

int hoist_registry_push_blobs_progress(struct hoist_registry *r, const char *repo,
                                       struct hoist_blob_job *jobs, size_t n, int parallel,
                                       hoist_push_progress_fn progress, void *ud,
                                       struct hoist_push_stats *st, struct hoist_err *err)
{
  struct pool p;
  struct worker ws[HOIST_REGISTRY_PARALLEL_MAX];
  pthread_t th[HOIST_REGISTRY_PARALLEL_MAX];
  size_t nw, running = 0, i;
  int inline_first;

  if (st)
    memset(st, 0, sizeof *st);
  if (n == 0)
    return HOIST_OK;
  if (parallel <= 0)
    parallel = r->parallel;
  if (parallel > HOIST_REGISTRY_PARALLEL_MAX)
    parallel = HOIST_REGISTRY_PARALLEL_MAX;
  nw = (size_t)parallel < n ? (size_t)parallel : n;
  memset(&p, 0, sizeof p);
  if (pthread_mutex_init(&p.mu, NULL) != 0)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  if (progress) {
    p.finished = malloc(n * sizeof *p.finished);
    if (!p.finished || hoist_cond_init(&p.done_cv) != 0) {
      free(p.finished);
      pthread_mutex_destroy(&p.mu);
      return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    }
    p.reporting = 1;
  }
  p.repo = repo;
  p.jobs = jobs;
  p.n = n;
  /* seeds jansson's hash function here, so worker threads never race to do it */
  json_object_seed(0);
  /*
  ** Without progress, worker 0 is this thread with the caller's client and the
  ** others are threads with clones (own connection, shared tokens). With
  ** progress, this thread reports (running the caller's callback, which may
  ** touch what the caller owns) and every worker is a thread with a clone:
  ** no thread ever shares the caller's client with the callback. A clone or a
  ** thread that cannot be had just means fewer workers; with none at all the
  ** push runs here, reporting as it goes.
  */
  memset(ws, 0, sizeof ws);
  ws[0].pool = &p;
  ws[0].r = r;
  inline_first = 1;
  if (progress && reg_clone(r, &ws[0].r, NULL) == HOIST_OK) {
    if (pthread_create(&th[0], NULL, worker_run, &ws[0]) == 0) {
      inline_first = 0;
      running = 1;
    } else {
      hoist_registry_free(ws[0].r);
      ws[0].r = r;
    }
  }
  for (i = 1; i < nw; i++) {
    ws[i].pool = &p;
    if (reg_clone(r, &ws[i].r, NULL) != HOIST_OK)
      break;
    if (pthread_create(&th[i], NULL, worker_run, &ws[i]) != 0) {
      hoist_registry_free(ws[i].r);
      break;
    }
    running = i + 1;
  }
  if (inline_first) {
    worker_run(&ws[0]);
    running = running > 0 ? running : 1;
  }
  if (progress) {
    p.workers = ws;
    p.nworkers = inline_first ? 0 : running;  /* an inline push has ended by now */
    report_progress(&p, running, progress, ud);
  }
  for (i = inline_first ? 1 : 0; i < running; i++) {
    pthread_join(th[i], NULL);
    if (ws[i].r != r)
      hoist_registry_free(ws[i].r);
  }
  if (progress) {
    pthread_cond_destroy(&p.done_cv);
    free(p.finished);
  }
  pthread_mutex_destroy(&p.mu);
  if (st)
    *st = p.st;
  if (p.rc) {
    if (err)
      *err = p.err;
    return p.rc;
  }
  return HOIST_OK;
}

/* {=================================== several manifests at once */

struct manifest_slot {
  struct hoist_registry *r;
  const char *repo;
  const struct hoist_manifest_item *item;
  int rc;
  struct hoist_err err;
};

static void *manifest_run(void *arg)
{
  struct manifest_slot *m = arg;
  m->err.code = 0;
  m->err.msg[0] = '\0';
  m->rc = hoist_registry_manifest_put(m->r, m->repo, m->item->ref, m->item->media_type,
                                      m->item->body, m->item->len, NULL, &m->err);
  return NULL;
}

int hoist_registry_manifests_put(struct hoist_registry *r, const char *repo,
                                 const struct hoist_manifest_item *items, size_t n,
                                 struct hoist_err *err)
{
  struct manifest_slot slots[HOIST_REGISTRY_PARALLEL_MAX];
  pthread_t th[HOIST_REGISTRY_PARALLEL_MAX];
  int threaded[HOIST_REGISTRY_PARALLEL_MAX];
  size_t base, width = r->parallel > 0 ? (size_t)r->parallel : 1, i;
  int first_rc = HOIST_OK;

  if (width > HOIST_REGISTRY_PARALLEL_MAX)
    width = HOIST_REGISTRY_PARALLEL_MAX;
  json_object_seed(0);
  for (base = 0; base < n; base += width) {
    size_t k = n - base < width ? n - base : width;
    /* slot 0 runs here with the caller's client; the others on threads with clones (a clone
    ** or a thread that cannot be had runs here too, after) */
    for (i = 0; i < k; i++) {
      slots[i].repo = repo;
      slots[i].item = &items[base + i];
      slots[i].r = r;
      threaded[i] = 0;
      if (i > 0 && reg_clone(r, &slots[i].r, NULL) == HOIST_OK) {
        if (pthread_create(&th[i], NULL, manifest_run, &slots[i]) == 0)
          threaded[i] = 1;
        else {
          hoist_registry_free(slots[i].r);
          slots[i].r = r;
        }
      }
    }
    manifest_run(&slots[0]);
    for (i = 1; i < k; i++) {
      if (threaded[i]) {
        pthread_join(th[i], NULL);
        hoist_registry_free(slots[i].r);
      } else {
        manifest_run(&slots[i]);
      }
    }
    for (i = 0; i < k; i++) {
      if (slots[i].rc && first_rc == HOIST_OK) {
        first_rc = slots[i].rc;
        if (err)
          *err = slots[i].err;
      }
    }
  }
  return first_rc;
}

/* }=================================== */
