#define _DEFAULT_SOURCE 1  /* pread, strncasecmp */

#include "http.h"

#include "interrupt.h"

#include <curl/curl.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_RESPONSE (1u << 20)
#ifndef HOIST_VERSION
#define HOIST_VERSION "0.0.0"
#endif

struct hoist_http {
  CURL *easy;
  struct hoist_http_opts opts;
  _Atomic unsigned long long *sent;  /* hoist_http_count_sent */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
  global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void hoist_http_count_sent(struct hoist_http *h, _Atomic unsigned long long *counter)
{
  h->sent = counter;
}

int hoist_http_new(const struct hoist_http_opts *o, struct hoist_http **out, struct hoist_err *err)
{
  struct hoist_http *h;
  *out = NULL;
  pthread_once(&global_once, global_init);
  if (global_rc != CURLE_OK)
    return hoist_err_set(err, HOIST_EIO, "cannot start libcurl: %s", curl_easy_strerror(global_rc));
  h = calloc(1, sizeof *h);
  if (!h)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  if (o)
    h->opts = *o;
  h->easy = curl_easy_init();
  if (!h->easy) {
    free(h);
    return hoist_err_set(err, HOIST_ENOMEM, "cannot start libcurl");
  }
  *out = h;
  return HOIST_OK;
}

void hoist_http_free(struct hoist_http *h)
{
  if (!h)
    return;
  curl_easy_cleanup(h->easy);
  free(h);
}

void hoist_http_resp_release(struct hoist_http_resp *resp)
{
  strbuf_release(&resp->body);
  strbuf_release(&resp->head);
}

struct xfer {
  struct hoist_http_resp *resp;
  const struct hoist_http_req *req;
  long status;          /* of the response whose headers came last */
  long started_ms;      /* the deadline counts from here */
  long base_ms;         /* the deadline's base */
  int deadline_hit;
  int interrupted;
  int overflow;
  int sink_rc;
  /* request body */
  const char *mem;
  size_t mem_len, mem_off;
  int fd;
  unsigned long long file_off, file_left;
  unsigned long long file_start, file_size;
  int read_error;
  _Atomic unsigned long long *sent;  /* the handle's counter, or NULL */
  curl_off_t ul_seen;                /* libcurl's upload count at the last callback */
};

static long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A Content-Length line's value, or -1 when line is not one (or not a number). */
static long long content_length(const char *line, size_t len)
{
  static const char name[] = "content-length:";
  unsigned long long v = 0;
  size_t i = sizeof name - 1;
  int digits = 0;
  if (len < i || strncasecmp(line, name, i) != 0)
    return -1;
  while (i < len && (line[i] == ' ' || line[i] == '\t'))
    i++;
  for (; i < len && line[i] >= '0' && line[i] <= '9'; i++, digits++) {
    if (v > (1ull << 62) / 10)
      return (long long)(1ull << 62);  /* absurd: larger than anything allowed */
    v = v * 10 + (unsigned long long)(line[i] - '0');
  }
  return digits ? (long long)v : -1;
}

/* Called by libcurl at least once a second: the deadline and SIGINT/SIGTERM are checked here. */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
  struct xfer *x = ctx;
  unsigned long long bytes = x->req->expected_bytes;
  curl_off_t seen[4] = { dltotal, dlnow, ultotal, ulnow };
  size_t i;
  if (hoist_interrupted()) {
    x->interrupted = 1;
    return 1;
  }
  /* ulnow starts again from 0 when a body is sent again: count what each sending adds */
  if (x->sent) {
    if (ulnow < x->ul_seen)
      x->ul_seen = 0;
    if (ulnow > x->ul_seen)
      atomic_fetch_add(x->sent, (unsigned long long)(ulnow - x->ul_seen));
    x->ul_seen = ulnow;
  }
  for (i = 0; i < 4; i++)
    if (seen[i] > 0 && (unsigned long long)seen[i] > bytes)
      bytes = (unsigned long long)seen[i];
  if (now_ms() - x->started_ms > x->base_ms + (long)(bytes / HOIST_HTTP_MIN_RATE) * 1000L) {
    x->deadline_hit = 1;
    return 1;
  }
  return 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
  struct xfer *x = ctx;
  size_t len = size * n;
  long long cl;
  /* a new status line starts a new response (after a redirect or a 100 Continue) */
  if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
    const char *sp = memchr(data, ' ', len);
    strbuf_reset(&x->resp->head);
    x->status = 0;
    /* "HTTP/1.1 206 Partial Content": the sink takes only a success's body */
    for (sp = sp ? sp + 1 : data + len; sp < data + len && *sp >= '0' && *sp <= '9'; sp++)
      x->status = x->status * 10 + (*sp - '0');
    x->resp->status = x->status;
  }
  /* a body bound for memory that announces more than it may hold is refused before it comes */
  cl = content_length(data, len);
  if (cl >= 0 && !(x->req->sink && x->status >= 200 && x->status < 300) &&
      (unsigned long long)cl > x->resp->body.max && strcmp(x->req->method, "HEAD") != 0) {
    x->overflow = 1;
    return 0;
  }
  if (strbuf_add(&x->resp->head, data, len))
    return 0;
  return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
  struct xfer *x = ctx;
  size_t len = size * n;
  if (x->req->sink && x->status >= 200 && x->status < 300) {
    int rc = x->req->sink(x->req->sink_ctx, x->resp, data, len);
    if (rc) {
      x->sink_rc = rc;
      return 0;
    }
    return len;
  }
  if (strbuf_add(&x->resp->body, data, len)) {
    x->overflow = 1;
    return 0;
  }
  return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ctx)
{
  struct xfer *x = ctx;
  size_t want = size * n;
  if (x->fd >= 0) {
    ssize_t got;
    if (x->file_left == 0)
      return 0;
    if (want > x->file_left)
      want = (size_t)x->file_left;
    do
      got = pread(x->fd, buf, want, (off_t)x->file_off);
    while (got < 0 && errno == EINTR);
    if (got <= 0) {
      x->read_error = 1;
      return CURL_READFUNC_ABORT;
    }
    x->file_off += (unsigned long long)got;
    x->file_left -= (unsigned long long)got;
    return (size_t)got;
  }
  if (want > x->mem_len - x->mem_off)
    want = x->mem_len - x->mem_off;
  memcpy(buf, x->mem + x->mem_off, want);
  x->mem_off += want;
  return want;
}

/* Rewinds the request body when libcurl must send it again (a redirect, an auth retry). */
static int on_seek(void *ctx, curl_off_t offset, int origin)
{
  struct xfer *x = ctx;
  if (origin != SEEK_SET || offset < 0)
    return CURL_SEEKFUNC_CANTSEEK;
  if (x->fd >= 0) {
    if ((unsigned long long)offset > x->file_size)
      return CURL_SEEKFUNC_FAIL;
    x->file_off = x->file_start + (unsigned long long)offset;
    x->file_left = x->file_size - (unsigned long long)offset;
  } else {
    if ((size_t)offset > x->mem_len)
      return CURL_SEEKFUNC_FAIL;
    x->mem_off = (size_t)offset;
  }
  return CURL_SEEKFUNC_OK;
}

/* The host of a URL, for messages: no user info, no path. */
static void url_host(const char *url, char *out, size_t cap)
{
  const char *p = strstr(url, "://"), *end, *at;
  size_t n;
  p = p ? p + 3 : url;
  end = p + strcspn(p, "/?#");
  at = memchr(p, '@', (size_t)(end - p));
  if (at)
    p = at + 1;
  n = (size_t)(end - p) < cap - 1 ? (size_t)(end - p) : cap - 1;
  memcpy(out, p, n);
  out[n] = '\0';
}

int hoist_http_do(struct hoist_http *h, const struct hoist_http_req *req,
                  struct hoist_http_resp *resp, struct hoist_err *err)
{
  CURL *c = h->easy;
  struct curl_slist *hdrs = NULL;
  struct xfer x;
  CURLcode cc;
  size_t i;
  int rc = HOIST_OK;
  unsigned long long body_len = 0;

  memset(resp, 0, sizeof *resp);
  strbuf_init(&resp->body, req->max_response ? req->max_response : DEFAULT_MAX_RESPONSE);
  strbuf_init(&resp->head, 64 * 1024);
  memset(&x, 0, sizeof x);
  x.resp = resp;
  x.req = req;
  x.sent = req->has_body ? h->sent : NULL;
  x.fd = -1;
  x.started_ms = now_ms();
  x.base_ms = h->opts.deadline_ms > 0 ? h->opts.deadline_ms : HOIST_HTTP_DEADLINE_DEFAULT_MS;
  if (req->has_body) {
    if (req->body_path) {
      x.fd = open(req->body_path, O_RDONLY | O_CLOEXEC);
      if (x.fd < 0)
        return hoist_err_set(err, HOIST_EIO, "cannot read '%s': %s", req->body_path, strerror(errno));
      x.file_off = x.file_start = req->body_offset;
      x.file_left = x.file_size = req->body_size;
      body_len = req->body_size;
    } else {
      x.mem = req->body;
      x.mem_len = req->body_len;
      body_len = req->body_len;
    }
  }

  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, req->url);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  /* http and https only, and an https request is never redirected to plain http */
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
                   strncasecmp(req->url, "https:", 6) == 0 ? "https" : "http,https");
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "hoist/" HOIST_VERSION);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->opts.connect_timeout_ms ? h->opts.connect_timeout_ms : 30000L);
  if (h->opts.timeout_ms)
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->opts.timeout_ms);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, h->opts.low_speed_secs ? h->opts.low_speed_secs : 60L);
  if (h->opts.insecure_tls) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
  if (req->follow_redirects) {
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);  /* the default, stated: no credentials elsewhere */
  }
  if (strcmp(req->method, "HEAD") == 0) {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (req->has_body) {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &x);
    curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(c, CURLOPT_SEEKDATA, &x);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
  } else if (strcmp(req->method, "GET") != 0) {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
  }
  for (i = 0; i < req->nheaders && !rc; i++) {
    struct curl_slist *n = curl_slist_append(hdrs, req->headers[i]);
    if (!n)
      rc = hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    hdrs = n ? n : hdrs;
  }
  if (!rc && req->has_body) {
    /* no 100-continue round trip: registries answer errors before reading anyway */
    struct curl_slist *n = curl_slist_append(hdrs, "Expect:");
    hdrs = n ? n : hdrs;
  }
  if (!rc) {
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    if (cc != CURLE_OK) {
      char host[256];
      url_host(req->url, host, sizeof host);
      if (x.sink_rc) {
        resp->sink_error = 1;
        rc = hoist_err_set(err, x.sink_rc, "cannot store the response from '%s'", host);
      } else if (x.overflow) {
        rc = hoist_err_set(err, HOIST_ERANGE, "response from '%s' is larger than %zu bytes", host,
                           resp->body.max);
      } else if (x.read_error) {
        rc = hoist_err_set(err, HOIST_EIO, "cannot read '%s' while sending it", req->body_path);
      } else if (x.interrupted) {
        rc = hoist_err_set(err, HOIST_EINTR, "%s %s: interrupted", req->method, host);
      } else if (x.deadline_hit) {
        resp->transport_error = 1;
        resp->timed_out = 1;
        rc = hoist_err_set(err, HOIST_EIO, "%s %s: timed out after %ld s", req->method, host,
                           (now_ms() - x.started_ms + 500) / 1000);
      } else {
        resp->transport_error = 1;
        rc = hoist_err_set(err, HOIST_EIO, "%s %s: %s", req->method, host, curl_easy_strerror(cc));
      }
    }
  }
  curl_slist_free_all(hdrs);
  if (x.fd >= 0)
    close(x.fd);
  if (rc)
    hoist_http_resp_release(resp);  /* a failed request holds only its status and transport_error */
  return rc;
}

const char *hoist_http_header_ex(const struct hoist_http_resp *resp, const char *name, char *buf,
                                 size_t cap, int *too_long)
{
  const char *p = resp->head.buf, *end, *found = NULL;
  size_t nlen = strlen(name), flen = 0;
  if (!p || cap == 0)
    return NULL;
  end = p + resp->head.len;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = eol ? eol : end;
    if ((size_t)(line_end - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
      const char *v = p + nlen + 1, *ve = line_end;
      while (v < ve && (*v == ' ' || *v == '\t'))
        v++;
      while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
      found = v;
      flen = (size_t)(ve - v);
    }
    p = eol ? eol + 1 : end;
  }
  if (too_long)
    *too_long = 0;
  if (!found)
    return NULL;
  if (flen >= cap) {
    if (too_long)
      *too_long = 1;
    return NULL;
  }
  memcpy(buf, found, flen);
  buf[flen] = '\0';
  return buf;
}
