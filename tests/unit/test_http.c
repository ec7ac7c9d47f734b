/*
** The HTTP layer against a real registry and a fault proxy in front of it.
** usage: test_http REGISTRY_URL DROP_PROXY_URL   (tests/registry/test_http.sh starts both)
*/
#include "digest.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int passed, failed;

#define CHECK(c)                                                                \
  do {                                                                          \
    if (c)                                                                      \
      passed++;                                                                 \
    else {                                                                      \
      failed++;                                                                 \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);     \
    }                                                                           \
  } while (0)

/* A sink collecting a 2xx body, remembering the statuses it saw; refuses data when asked to. */
struct collect {
  unsigned char buf[300000];
  size_t len;
  long status;
  int calls, refuse;
};

static int collect(void *ctx, const struct hoist_http_resp *resp, const char *data, size_t len)
{
  struct collect *c = ctx;
  c->calls++;
  c->status = resp->status;
  if (c->refuse)
    return HOIST_EIO;
  if (len > sizeof c->buf - c->len)
    return HOIST_ERANGE;
  memcpy(c->buf + c->len, data, len);
  c->len += len;
  return 0;
}

static void url_join(char *out, size_t cap, const char *base, const char *loc)
{
  if (strncmp(loc, "http", 4) == 0)
    snprintf(out, cap, "%s", loc);
  else
    snprintf(out, cap, "%s%s", base, loc);
}

int main(int argc, char **argv)
{
  struct hoist_http *h;
  struct hoist_http_req rq;
  struct hoist_http_resp rs;
  struct hoist_err err;
  char url[2048], loc[1024], buf[256], digest[HOIST_DIGEST_LEN + 1], path[] = "/tmp/hoist-http-XXXXXX";
  const char *base, *drop;
  unsigned char data[300000];
  size_t i;
  int fd, rc;
  FILE *f;

  if (argc < 3) {
    fprintf(stderr, "usage: test_http REGISTRY_URL DROP_PROXY_URL\n");
    return 2;
  }
  base = argv[1];
  drop = argv[2];
  for (i = 0; i < sizeof data; i++)
    data[i] = (unsigned char)(i * 7 + i / 251);
  fd = mkstemp(path);
  f = fd >= 0 ? fdopen(fd, "wb") : NULL;
  if (!f || fwrite(data, 1, sizeof data, f) != sizeof data || fclose(f) != 0) {
    fprintf(stderr, "cannot make a temp file\n");
    return 1;
  }
  CHECK(hoist_digest_buffer(data + 1000, 200000, digest, &err) == 0);
  CHECK(hoist_http_new(NULL, &h, &err) == 0);

  /* GET /v2/ */
  memset(&rq, 0, sizeof rq);
  snprintf(url, sizeof url, "%s/v2/", base);
  rq.method = "GET";
  rq.url = url;
  CHECK(hoist_http_do(h, &rq, &rs, &err) == 0);
  CHECK(rs.status == 200);
  CHECK(hoist_http_header(&rs, "docker-distribution-api-version", buf, sizeof buf) &&
        strcmp(buf, "registry/2.0") == 0);
  hoist_http_resp_release(&rs);

  /* POST an upload session, then PUT a range of a file as the blob */
  memset(&rq, 0, sizeof rq);
  snprintf(url, sizeof url, "%s/v2/test/http/blobs/uploads/", base);
  rq.method = "POST";
  rq.url = url;
  rq.has_body = 1;
  CHECK(hoist_http_do(h, &rq, &rs, &err) == 0);
  CHECK(rs.status == 202);
  CHECK(hoist_http_header(&rs, "Location", loc, sizeof loc) != NULL);
  hoist_http_resp_release(&rs);
  {
    const char *hdrs[] = { "Content-Type: application/octet-stream" };
    char put[3072];
    url_join(url, sizeof url, base, loc);
    snprintf(put, sizeof put, "%s%sdigest=%s", url, strchr(url, '?') ? "&" : "?", digest);
    memset(&rq, 0, sizeof rq);
    rq.method = "PUT";
    rq.url = put;
    rq.headers = hdrs;
    rq.nheaders = 1;
    rq.has_body = 1;
    rq.body_path = path;
    rq.body_offset = 1000;
    rq.body_size = 200000;
    CHECK(hoist_http_do(h, &rq, &rs, &err) == 0);
    CHECK(rs.status == 201);
    CHECK(hoist_http_header(&rs, "Docker-Content-Digest", buf, sizeof buf) &&
          strcmp(buf, digest) == 0);
    hoist_http_resp_release(&rs);
  }

  /* HEAD and GET it back */
  memset(&rq, 0, sizeof rq);
  snprintf(url, sizeof url, "%s/v2/test/http/blobs/%s", base, digest);
  rq.method = "HEAD";
  rq.url = url;
  CHECK(hoist_http_do(h, &rq, &rs, &err) == 0);
  CHECK(rs.status == 200);
  CHECK(hoist_http_header(&rs, "content-length", buf, sizeof buf) && strcmp(buf, "200000") == 0);
  CHECK(rs.body.len == 0);
  hoist_http_resp_release(&rs);
  rq.method = "GET";
  rq.follow_redirects = 1;
  CHECK(hoist_http_do(h, &rq, &rs, &err) == 0);
  CHECK(rs.status == 200 && rs.body.len == 200000 && memcmp(rs.body.buf, data + 1000, 200000) == 0);
  hoist_http_resp_release(&rs);

  /*
  ** A sink: the 2xx body goes there, not into memory (so no bound applies);
  ** a 206 is seen with its status; an error answer still fills resp->body; a
  ** sink that refuses aborts with its own code.
  */
  {
    static struct collect c;
    const char *range[] = { "Range: bytes=150000-" };
    memset(&c, 0, sizeof c);
    rq.sink = collect;
    rq.sink_ctx = &c;
    rq.max_response = 1000;
    CHECK(hoist_http_do(h, &rq, &rs, &err) == 0);
    CHECK(rs.status == 200 && rs.body.len == 0 && c.status == 200 && c.len == 200000 &&
          memcmp(c.buf, data + 1000, 200000) == 0);
    hoist_http_resp_release(&rs);
    memset(&c, 0, sizeof c);
    rq.headers = range;
    rq.nheaders = 1;
    CHECK(hoist_http_do(h, &rq, &rs, &err) == 0);
    CHECK(rs.status == 206 && c.status == 206 && c.len == 50000 &&
          memcmp(c.buf, data + 151000, 50000) == 0);
    CHECK(hoist_http_header(&rs, "Content-Range", buf, sizeof buf) &&
          strcmp(buf, "bytes 150000-199999/200000") == 0);
    hoist_http_resp_release(&rs);
    rq.headers = NULL;
    rq.nheaders = 0;
    memset(&c, 0, sizeof c);
    c.refuse = 1;
    rc = hoist_http_do(h, &rq, &rs, &err);
    CHECK(rc == HOIST_EIO && rs.sink_error && !rs.transport_error && c.calls == 1);
    hoist_http_resp_release(&rs);
    memset(&c, 0, sizeof c);
    {
      char missing[2048];
      snprintf(missing, sizeof missing, "%s/v2/test/http/blobs/sha256:%064d", base, 0);
      rq.url = missing;
      rq.max_response = 0;
      CHECK(hoist_http_do(h, &rq, &rs, &err) == 0);
      CHECK(rs.status == 404 && c.calls == 0 && rs.body.buf && strstr(rs.body.buf, "BLOB_UNKNOWN"));
      hoist_http_resp_release(&rs);
    }
    rq.url = url;
    rq.sink = NULL;
    rq.sink_ctx = NULL;
  }

  /* a bounded response: too big is an error, not a truncation */
  rq.max_response = 1000;
  rc = hoist_http_do(h, &rq, &rs, &err);
  CHECK(rc == HOIST_ERANGE && strstr(err.msg, "larger than 1000") != NULL);
  CHECK(!rs.transport_error);
  hoist_http_resp_release(&rs);

  /* a registry error body comes back with its status */
  memset(&rq, 0, sizeof rq);
  snprintf(url, sizeof url, "%s/v2/test/http/manifests/nope", base);
  rq.method = "GET";
  rq.url = url;
  CHECK(hoist_http_do(h, &rq, &rs, &err) == 0);
  CHECK(rs.status == 404 && rs.body.buf && strstr(rs.body.buf, "MANIFEST_UNKNOWN") != NULL);
  hoist_http_resp_release(&rs);

  /*
  ** The proxy drops every third request before answering: a transport error,
  ** retryable. A fresh client each time: on a reused connection libcurl itself
  ** replays a request whose connection died before any answer.
  */
  {
    int drops = 0, oks = 0, k;
    for (k = 0; k < 3; k++) {
      struct hoist_http *fresh;
      CHECK(hoist_http_new(NULL, &fresh, &err) == 0);
      memset(&rq, 0, sizeof rq);
      snprintf(url, sizeof url, "%s/v2/", drop);
      rq.method = "GET";
      rq.url = url;
      rc = hoist_http_do(fresh, &rq, &rs, &err);
      hoist_http_free(fresh);
      if (rc && rs.transport_error && strstr(err.msg, "GET 127.0.0.1") == err.msg)
        drops++;
      else if (rc == 0 && rs.status == 200)
        oks++;
      hoist_http_resp_release(&rs);
    }
    if (!(drops == 1 && oks == 2))
      fprintf(stderr, "drops %d oks %d (%s)\n", drops, oks, err.msg);
    CHECK(drops == 1 && oks == 2);
  }

  /* nothing listens: refused, named by host */
  memset(&rq, 0, sizeof rq);
  rq.method = "GET";
  rq.url = "http://user:secret@127.0.0.1:1/v2/";
  rc = hoist_http_do(h, &rq, &rs, &err);
  CHECK(rc != 0 && rs.transport_error && strstr(err.msg, "secret") == NULL);
  hoist_http_resp_release(&rs);

  hoist_http_free(h);
  unlink(path);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
