/*
** regget: blob downloads for the registry client (registry.h): a small blob
** (a config) into memory, a layer streamed to a file; both bounded by the
** descriptor's size, checked against the digest, resumed after a dropped
** connection, redirects to storage followed without credentials.
*/
#define _DEFAULT_SOURCE 1

#include "registry.h"

#include "http.h"
#include "registry_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOB_GET_DEFAULT_MAX (4u << 20)

int hoist_registry_blob_get(struct hoist_registry *r, const char *repo, const char *digest,
                            size_t max_bytes, char **body, size_t *len, struct hoist_err *err)
{
  struct reg_target t;
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  char d[HOIST_DIGEST_LEN + 1];
  int rc;
  *body = NULL;
  *len = 0;
  if (!hoist_digest_valid(digest))
    return hoist_err_set(err, HOIST_EINVAL, "invalid blob digest");
  if ((rc = reg_target(r, &t, repo, "pull", err, "/blobs/%s", digest)) != HOIST_OK)
    return rc;
  reg_request(&rq, "GET", t.url);
  rq.follow_redirects = 1;  /* to storage; libcurl drops Authorization when the host changes */
  rq.max_response = max_bytes ? max_bytes : BLOB_GET_DEFAULT_MAX;
  rq.expected_bytes = rq.max_response;
  rc = reg_send_retry(r, t.scope, &rq, &rs, err);
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
  struct reg_target t;
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  struct download dl;
  char range[64], tmp[4096], got[HOIST_DIGEST_LEN + 1];
  const char *hdrs[1] = { range };
  long last_progress = reg_now_ms();
  int rc, failures = 0, stalls = 0, done = 0;

  if (size)
    *size = 0;
  if (!hoist_digest_valid(digest))
    return hoist_err_set(err, HOIST_EINVAL, "invalid blob digest");
  if ((rc = reg_target(r, &t, repo, "pull", err, "/blobs/%s", digest)) != HOIST_OK)
    return rc;
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
    reg_request(&rq, "GET", t.url);
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
    rc = reg_send_authed(r, t.scope, &rq, &rs, err);
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
      reg_note_retry(r, "GET", t.url, err && err->msg[0] ? err->msg : "failed", failures, wait);
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
