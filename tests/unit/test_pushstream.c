/*
** Push streams (pushstream.h) against the real registry in one auth mode: layers uploaded
** while they are written, through fault proxies for resumes and failures.
** usage: test_pushstream HOST:PORT USER PASSWORD   (USER "-" for anonymous; test_pushstream.sh)
**
** Environment (set by tests/registry/test_pushstream.sh):
**   HOIST_TEST_DIR   the registry.sh folder: fault proxies at proxy-PATTERN.url, logs at
**                    proxy-PATTERN.log (one JSON line per request)
**
** Most cases drive the stream's hoist_layer_out by hand, so that what they prove does not hang on
** timing: bytes are written, then the test waits (a bounded poll) until the registry confirmed a
** chunk of the layer that is still open, which only happens if the upload follows the file as it
** grows. The last cases build real layers from files on the layer pool. Every error message the
** client returns is printed ("note: ..."), so the script can check that no secret is in one.
*/
#define _DEFAULT_SOURCE 1

#include "digest.h"
#include "layer.h"
#include "layerfiles.h"
#include "pushstream.h"
#include "registry.h"

#include <dirent.h>
#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

#define MiB (1024ull * 1024ull)
#define POLL_LIMIT_MS 60000L

static const char *dir;
static char work[] = "/tmp/hoist-pushstream-XXXXXX";
static const char *user, *pass;

static int noted(int rc, const struct hoist_err *err)
{
  if (rc)
    printf("note: rc %d: %s\n", rc, err->msg);
  return rc;
}

static void nap_ms(long ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  nanosleep(&ts, NULL);
}

/* Deterministic bytes (xorshift), different for each seed. */
static void fill(unsigned char *buf, size_t n, unsigned long long *state)
{
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned long long x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    buf[i] = (unsigned char)(x >> 24);
  }
}

/* "HOST:PORT" of the fault proxy with this pattern. */
static const char *proxy(const char *pattern)
{
  static char out[8][256];
  static int next;
  char path[4096], url[256];
  char *o = out[next++ % 8];
  FILE *f;
  snprintf(path, sizeof path, "%s/proxy-%s.url", dir, pattern);
  f = fopen(path, "r");
  o[0] = '\0';
  if (f && fgets(url, sizeof url, f)) {
    url[strcspn(url, "\r\n")] = '\0';
    snprintf(o, 256, "%.200s", strncmp(url, "http://", 7) == 0 ? url + 7 : url);
  }
  if (f)
    fclose(f);
  return o;
}

static struct hoist_registry *client(const char *host, unsigned long long chunk)
{
  struct hoist_registry_opts o;
  struct hoist_registry *r = NULL;
  struct hoist_err err;
  memset(&o, 0, sizeof o);
  o.username = user;
  o.password = pass;
  o.chunk_size = chunk;
  if (noted(hoist_registry_new(host, &o, &r, &err), &err))
    fprintf(stderr, "cannot make a client for %s\n", host);
  return r;
}

static struct hoist_push_stream *stream(struct hoist_registry *r, const char *repo)
{
  struct hoist_push_stream *s = NULL;
  struct hoist_err err;
  CHECK(noted(hoist_push_stream_new(r, repo, 4, &s, &err), &err) == 0);
  return s;
}

static int same_files(const char *a, const char *b)
{
  FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
  int same = fa && fb, ca, cb;
  while (same) {
    ca = getc(fa);
    cb = getc(fb);
    if (ca != cb)
      same = 0;
    if (ca == EOF || cb == EOF)
      break;
  }
  if (fa)
    fclose(fa);
  if (fb)
    fclose(fb);
  return same;
}

/* Files in folder d whose name starts with prefix. */
static int count_prefix(const char *d, const char *prefix)
{
  DIR *dd = opendir(d);
  struct dirent *de;
  int n = 0;
  while (dd && (de = readdir(dd)))
    if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
      n++;
  if (dd)
    closedir(dd);
  return n;
}

static void make_dir(const char *p)
{
  mkdir(p, 0755);
}

/* ---------------------------------------------------------------- the proxy's log */

/* One request of a proxy log about repo. */
struct req {
  char method[8];
  char path[512];
  const char *fault;      /* NULL when forwarded */
  char fault_buf[32];
  long status;
  unsigned long long start, end;  /* the Content-Range of a PATCH */
  int has_range;
};

/* The requests of proxy-PATTERN.log whose path names repo (at most cap); their count. */
static size_t log_reqs(const char *pattern, const char *repo, struct req *out, size_t cap)
{
  char path[4096], line[65536], needle[512];
  FILE *f;
  size_t n = 0;
  snprintf(path, sizeof path, "%s/proxy-%s.log", dir, pattern);
  snprintf(needle, sizeof needle, "/v2/%s/", repo);
  if (!(f = fopen(path, "r")))
    return 0;
  while (fgets(line, sizeof line, f) && n < cap) {
    json_t *e = json_loads(line, 0, NULL);
    const char *p = e ? json_string_value(json_object_get(e, "path")) : NULL;
    const char *m = e ? json_string_value(json_object_get(e, "method")) : NULL;
    const char *fault = e ? json_string_value(json_object_get(e, "fault")) : NULL;
    const char *range = e ? json_string_value(json_object_get(e, "range")) : NULL;
    if (p && m && strstr(p, needle)) {
      struct req *q = &out[n++];
      memset(q, 0, sizeof *q);
      snprintf(q->method, sizeof q->method, "%s", m);
      snprintf(q->path, sizeof q->path, "%s", p);
      if (fault) {
        snprintf(q->fault_buf, sizeof q->fault_buf, "%s", fault);
        q->fault = q->fault_buf;
      }
      q->status = (long)json_integer_value(json_object_get(e, "status"));
      if (range && sscanf(range, "%llu-%llu", &q->start, &q->end) == 2)
        q->has_range = 1;
    }
    json_decref(e);
  }
  fclose(f);
  return n;
}

static size_t count_reqs(const struct req *q, size_t n, const char *method, const char *fault,
                         long status)
{
  size_t i, k = 0;
  for (i = 0; i < n; i++)
    if (strcmp(q[i].method, method) == 0 &&
        (fault ? q[i].fault && strcmp(q[i].fault, fault) == 0 : !q[i].fault) &&
        (!status || q[i].status == status))
      k++;
  return k;
}

/*
** The PATCHes the registry accepted (forwarded, 202) for repo, in log order, must cover
** 0..size-1 exactly once, one after the other: no byte range reached the registry twice.
*/
static int ranges_exact(const struct req *q, size_t n, unsigned long long size,
                        unsigned long long min_len, size_t *patches)
{
  unsigned long long next = 0;
  size_t i, k = 0;
  for (i = 0; i < n; i++) {
    if (strcmp(q[i].method, "PATCH") != 0 || q[i].fault || q[i].status != 202)
      continue;
    if (!q[i].has_range || q[i].start != next || q[i].end < q[i].start) {
      fprintf(stderr, "PATCH %zu: range %llu-%llu, expected it to start at %llu\n", i, q[i].start,
              q[i].end, next);
      return 0;
    }
    if (q[i].end + 1 < size && q[i].end + 1 - q[i].start < min_len) {
      fprintf(stderr, "PATCH %zu: %llu bytes, under the %llu a chunk needs\n", i,
              q[i].end + 1 - q[i].start, min_len);
      return 0;
    }
    next = q[i].end + 1;
    k++;
  }
  if (patches)
    *patches = k;
  if (next != size)
    fprintf(stderr, "PATCHes covered %llu of %llu bytes\n", next, size);
  return next == size;
}

/* ---------------------------------------------------------------- a layer written by hand */

/* A layer the test writes itself through the stream's hoist_layer_out. */
struct hand {
  struct hoist_layer_out out;
  struct hoist_digest d;
  unsigned long long size, seed;
  unsigned char buf[64 * 1024];
};

static int hand_open(struct hoist_push_stream *s, struct hand *h, const char *blob_dir,
                     unsigned long long seed)
{
  struct hoist_err err;
  memset(h, 0, sizeof *h);
  h->seed = seed;
  if (noted(hoist_push_stream_out(s, 1, blob_dir, &h->out, &err), &err))
    return -1;
  if (hoist_digest_init(&h->d, &err))
    return -1;
  return noted(h->out.open(h->out.ctx, 0, &err), &err);
}

/* Writes n more bytes; the write's own return code. */
static int hand_write(struct hand *h, unsigned long long n, struct hoist_err *err)
{
  while (n > 0) {
    size_t k = n < sizeof h->buf ? (size_t)n : sizeof h->buf;
    int rc;
    fill(h->buf, k, &h->seed);
    hoist_digest_update(&h->d, h->buf, k);
    if ((rc = h->out.write(h->out.ctx, 0, h->buf, k, err)) != 0)
      return rc;
    h->size += k;
    n -= k;
  }
  return 0;
}

/* Closes it as finished (res filled) or rolled back (ok 0). */
static int hand_close(struct hand *h, int ok, struct hoist_layer_result *res)
{
  struct hoist_err err;
  int rc;
  memset(res, 0, sizeof *res);
  if (ok) {
    hoist_digest_final(&h->d, res->digest);
    res->size = h->size;
  } else {
    hoist_digest_release(&h->d);
  }
  memset(&err, 0, sizeof err);
  rc = h->out.close(h->out.ctx, 0, ok ? res : NULL, &err);
  return noted(rc, &err);
}

/* The stats of layer k (0-based in the stream). */
static void layer_stats(struct hoist_push_stream *s, size_t k, struct hoist_push_stream_stats *st,
                        struct hoist_push_layer_stats *l)
{
  struct hoist_push_layer_stats all[16];
  hoist_push_stream_stats(s, st, all, 16);
  *l = all[k < 16 ? k : 15];
}

/* Polls (bounded) until the registry confirmed at least `bytes` of layer k, or the stream failed. */
static int until_confirmed(struct hoist_push_stream *s, size_t k, unsigned long long bytes)
{
  long waited = 0;
  for (;;) {
    struct hoist_push_stream_stats st;
    struct hoist_push_layer_stats l;
    layer_stats(s, k, &st, &l);
    if (l.confirmed >= bytes)
      return 1;
    if (st.failed || waited > POLL_LIMIT_MS)
      return 0;
    nap_ms(5);
    waited += 5;
  }
}

static int until_failed(struct hoist_push_stream *s)
{
  long waited = 0;
  struct hoist_push_stream_stats st;
  for (;;) {
    hoist_push_stream_stats(s, &st, NULL, 0);
    if (st.failed)
      return 1;
    if (waited > POLL_LIMIT_MS)
      return 0;
    nap_ms(5);
    waited += 5;
  }
}

/* The blob is in repo with that size and the bytes of path. */
static int in_registry(const char *host, const char *repo, const char *digest,
                       unsigned long long size, const char *path)
{
  struct hoist_registry *r = client(host, 0);
  struct hoist_err err;
  char out[4096];
  unsigned long long got = 0, head = 0;
  int exists = 0, ok;
  snprintf(out, sizeof out, "%s/fetched.bin", work);
  ok = noted(hoist_registry_blob_exists(r, repo, digest, &exists, &head, &err), &err) == 0 &&
       exists && head == size &&
       noted(hoist_registry_blob_get_file(r, repo, digest, size, out, &got, &err), &err) == 0 &&
       got == size && same_files(path, out);
  unlink(out);
  hoist_registry_free(r);
  return ok;
}

/*
** The core of push-while-building: the upload follows the file. 3 MiB are written, and the
** registry confirms the first chunk while the layer is still open; then the rest, the close
** (the final PUT), and the blob is in the registry, in the blob folder, with no temp file left.
*/
static void test_follows(const char *host, const char *via_pattern, const char *repo,
                         unsigned long long chunk, unsigned long long min_len)
{
  struct hoist_registry *r = client(proxy(via_pattern), chunk);
  struct hoist_push_stream *s = stream(r, repo);
  struct hoist_push_stream_stats st;
  struct hoist_push_layer_stats l;
  struct hoist_layer_result res;
  struct hoist_err err;
  struct hand h;
  struct req q[256];
  char blobs[4096], path[4096];
  unsigned long long step, written = 0, total = 5 * MiB + 12345;
  size_t n, patches = 0;

  snprintf(blobs, sizeof blobs, "%s/follows-%s", work, via_pattern);
  make_dir(blobs);
  CHECK(hand_open(s, &h, blobs, 7 + strlen(via_pattern)) == 0);
  CHECK(count_prefix(blobs, ".tmp-layer-") == 1);
  /* a step at a time; each must reach the registry while the layer is still being written */
  step = chunk > min_len ? chunk : min_len;
  while (written + step < total) {
    CHECK(noted(hand_write(&h, step, &err), &err) == 0);
    written += step;
    CHECK(until_confirmed(s, 0, written));
    layer_stats(s, 0, &st, &l);
    CHECK(l.state == HOIST_PUSH_BUILDING && st.building == 1 && l.patches >= 1 &&
          l.first_patch_ms >= 0 && l.built_ms < 0);
  }
  CHECK(noted(hand_write(&h, total - written, &err), &err) == 0);
  CHECK(hand_close(&h, 1, &res) == 0);
  CHECK(noted(hoist_push_stream_wait(s, -1, &err), &err) == 0);
  layer_stats(s, 0, &st, &l);
  CHECK(st.uploaded == 1 && st.uploaded_bytes == total && st.done == 1 && !st.failed);
  CHECK(l.state == HOIST_PUSH_BUILT && l.outcome == HOIST_BLOB_UPLOADED && l.confirmed == total);
  /* the overlap, as the stream measured it: chunks accepted before the layer was finished */
  CHECK(l.first_patch_ms >= 0 && l.first_patch_ms < l.built_ms && st.patches_while_building >= 2);
  hoist_push_stream_free(s);
  hoist_registry_free(r);
  snprintf(path, sizeof path, "%.3000s/%s", blobs, res.digest + 7);
  CHECK(in_registry(host, repo, res.digest, total, path));
  CHECK(count_prefix(blobs, ".tmp-") == 0);
  /* what the registry got: one session, every byte once, in order, then one PUT */
  n = log_reqs(via_pattern, repo, q, 256);
  CHECK(ranges_exact(q, n, total, min_len, &patches));
  CHECK(patches >= 3);
  CHECK(count_reqs(q, n, "POST", NULL, 202) == 1);
  CHECK(count_reqs(q, n, "PUT", NULL, 201) == 1);
}

/*
** A failed chunk, while the layer is still being written, resumes from the session's Range
** with the bytes read again from the file: each fault shows in the log, and the PATCHes the
** registry accepted still cover every byte exactly once.
*/
static void test_resume(const char *host, const char *pattern, const char *fault)
{
  char repo[64];
  struct hoist_registry *r;
  struct hoist_push_stream *s;
  struct hoist_layer_result res;
  struct hoist_err err;
  struct hand h;
  struct req q[256];
  char blobs[4096], path[4096];
  /* PATCHes: 1 ok, 2 fails, 3 (2 again) ok, 4 ok, 5 fails, 6 (5 again) ok, 7 (the last 7 bytes) ok */
  unsigned long long written = 0, total = 4 * MiB + 7;
  size_t n;

  snprintf(repo, sizeof repo, "stream/resume-%s", pattern);
  snprintf(blobs, sizeof blobs, "%s/resume-%s", work, pattern);
  make_dir(blobs);
  r = client(proxy(pattern), 1 * MiB);
  s = stream(r, repo);
  CHECK(hand_open(s, &h, blobs, 99 + strlen(pattern)) == 0);
  while (written + MiB < total) {
    CHECK(noted(hand_write(&h, MiB, &err), &err) == 0);
    written += MiB;
    CHECK(until_confirmed(s, 0, written));
  }
  CHECK(noted(hand_write(&h, total - written, &err), &err) == 0);
  CHECK(hand_close(&h, 1, &res) == 0);
  CHECK(noted(hoist_push_stream_wait(s, -1, &err), &err) == 0);
  hoist_push_stream_free(s);
  hoist_registry_free(r);
  snprintf(path, sizeof path, "%.3000s/%s", blobs, res.digest + 7);
  CHECK(in_registry(host, repo, res.digest, total, path));
  n = log_reqs(pattern, repo, q, 256);
  /* PATCHes 2 and 5 of the proxy failed, each followed by a status GET (204) */
  CHECK(count_reqs(q, n, "PATCH", fault, 0) == 2);
  CHECK(count_reqs(q, n, "GET", NULL, 204) == 2);
  CHECK(count_reqs(q, n, "POST", NULL, 202) == 1);
  CHECK(ranges_exact(q, n, total, 1, NULL));
  CHECK(count_prefix(blobs, ".tmp-") == 0);
}

/* A layer rolled back mid-stream: its upload ends without a PUT, and that is no failure. */
static void test_rollback(const char *host)
{
  const char *repo = "stream/rollback";
  struct hoist_registry *r = client(proxy("none"), 1 * MiB);
  struct hoist_push_stream *s = stream(r, repo);
  struct hoist_push_stream_stats st;
  struct hoist_push_layer_stats l;
  struct hoist_layer_result res;
  struct hoist_err err;
  struct hand h;
  struct req q[64];
  char blobs[4096];
  size_t n;

  (void)host;
  snprintf(blobs, sizeof blobs, "%s/rollback", work);
  make_dir(blobs);
  CHECK(hand_open(s, &h, blobs, 3) == 0);
  CHECK(noted(hand_write(&h, 2 * MiB, &err), &err) == 0);
  CHECK(until_confirmed(s, 0, MiB));
  /* not finished: a wait with a timeout says so */
  CHECK(hoist_push_stream_wait(s, 20, &err) == 1);
  CHECK(hand_close(&h, 0, &res) == 0);
  CHECK(noted(hoist_push_stream_wait(s, -1, &err), &err) == 0);
  layer_stats(s, 0, &st, &l);
  CHECK(l.state == HOIST_PUSH_ROLLED_BACK && l.done && l.outcome == HOIST_BLOB_PENDING &&
        !st.failed && st.uploaded == 0);
  CHECK(hoist_push_stream_failure(s, &err, NULL, NULL) == 0);
  hoist_push_stream_free(s);
  hoist_registry_free(r);
  n = log_reqs("none", repo, q, 64);
  CHECK(count_reqs(q, n, "PATCH", NULL, 202) >= 1);
  CHECK(count_reqs(q, n, "PUT", NULL, 0) == 0);
  CHECK(count_prefix(blobs, ".tmp-") == 0 && count_prefix(blobs, "") == 2);  /* "." and ".." */
}

/*
** A registry that refuses a chunk for good (403 DENIED after the first PATCH): the upload fails,
** the producer's next write fails with the registry's answer, no PUT is sent, nothing is left.
*/
static void test_denied(const char *host)
{
  const char *repo = "stream/denied";
  struct hoist_registry *r = client(proxy("patch-denied"), 1 * MiB);
  struct hoist_push_stream *s = stream(r, repo);
  struct hoist_layer_result res;
  struct hoist_err err;
  struct hand h;
  struct req q[64];
  char blobs[4096], digest[HOIST_DIGEST_LEN + 1];
  size_t n, at = 99;
  int rc;

  (void)host;
  snprintf(blobs, sizeof blobs, "%s/denied", work);
  make_dir(blobs);
  CHECK(hand_open(s, &h, blobs, 5) == 0);
  /* a chunk the registry takes; then one it refuses (that PATCH starts once the chunk is whole,
     after the write that completes it has returned) */
  CHECK(noted(hand_write(&h, MiB, &err), &err) == 0);
  CHECK(until_confirmed(s, 0, MiB));
  CHECK(noted(hand_write(&h, MiB, &err), &err) == 0);
  CHECK(until_failed(s));
  memset(&err, 0, sizeof err);
  rc = hand_write(&h, 1, &err);
  noted(rc, &err);
  CHECK(rc == HOIST_EAUTH && strstr(err.msg, "DENIED") && strstr(err.msg, "quota exceeded"));
  CHECK(hand_close(&h, 0, &res) == 0);
  memset(&err, 0, sizeof err);
  rc = noted(hoist_push_stream_wait(s, -1, &err), &err);
  CHECK(rc == HOIST_EAUTH && strncmp(err.msg, "upload failed: registry '", 25) == 0 &&
        strstr(err.msg, "refused a blob chunk: DENIED") != NULL);
  CHECK(hoist_push_stream_failure(s, &err, &at, digest) == HOIST_EAUTH && at == 0 && digest[0] == '\0');
  hoist_push_stream_free(s);
  hoist_registry_free(r);
  n = log_reqs("patch-denied", repo, q, 64);
  CHECK(count_reqs(q, n, "PATCH", NULL, 202) == 1 && count_reqs(q, n, "PATCH", "403", 403) == 1);
  CHECK(count_reqs(q, n, "PUT", NULL, 0) == 0);
  CHECK(count_prefix(blobs, ".tmp-") == 0);
}

/* ---------------------------------------------------------------- real layers */

static void write_bytes(const char *path, size_t n, unsigned long long seed, int text)
{
  FILE *f = fopen(path, "wb");
  unsigned char *b = malloc(n ? n : 1);
  size_t i;
  fill(b, n, &seed);
  if (text)
    for (i = 0; i < n; i++)
      b[i] = (unsigned char)("abcdefgh ij\nklmnop"[b[i] % 18]);
  if (!f || fwrite(b, 1, n, f) != n)
    fprintf(stderr, "cannot write %s\n", path);
  if (f)
    fclose(f);
  free(b);
}

/*
** Three layers from files, built on the layer pool and streamed: the same digests and bytes as
** hoist_layer_write_all of the same plans, every blob in the registry; then the same through a
** registry that refuses chunks: the build fails with the registry's answer and leaves no temp
** file.
*/
/* Two file lists agree entry for entry (names, types, modes, links, sizes, hashes). */
static int same_list(const struct hoist_layer_files *x, const struct hoist_layer_files *y)
{
  size_t i;
  if (x->n != y->n || x->n == 0)
    return 0;
  for (i = 0; i < x->n; i++) {
    const struct hoist_layer_entry *e = &x->entries[i], *f = &y->entries[i];
    if (strcmp(e->name, f->name) || e->type != f->type || e->mode != f->mode ||
        e->size != f->size || (!e->link) != (!f->link) || (e->link && strcmp(e->link, f->link)) ||
        strcmp(e->sha256, f->sha256) || strcmp(e->sha1, f->sha1))
      return 0;
  }
  return 1;
}

static void test_layers(const char *host)
{
  static const char *const names[3] = { "text", "noise", "tiny" };
  struct hoist_layer_plan *plans[3];
  struct hoist_layer_result a[3], b[3];
  struct hoist_layer_files fl[3], back;
  struct hoist_err ea[3], eb[3], err;
  struct hoist_layer_opts o;
  struct hoist_push_stream_stats st;
  struct hoist_registry *r;
  struct hoist_push_stream *s;
  int ra[3], rb[3], rc;
  char src[4096], p[4096], q[4096], dira[4096], dirb[4096], dirc[4096];
  size_t i;

  snprintf(src, sizeof src, "%s/src", work);
  make_dir(src);
  for (i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "%.3000s/%s", src, names[i]);
    make_dir(p);
    snprintf(q, sizeof q, "%.3000s/file.bin", p);
    write_bytes(q, i == 0 ? 6 * MiB : i == 1 ? 5 * MiB : 100, 1000 + i, i != 1);
  }
  memset(&o, 0, sizeof o);
  o.level = -1;
  for (i = 0; i < 3; i++) {
    struct hoist_layer_input in;
    memset(&in, 0, sizeof in);
    snprintf(p, sizeof p, "%.3000s/%s", src, names[i]);
    in.from = p;
    in.to = "/data";
    in.mode = -1;
    CHECK(noted(hoist_layer_plan(&in, 1, &o, &plans[i], &err), &err) == 0);
  }
  snprintf(dira, sizeof dira, "%s/layers-stream", work);
  snprintf(dirb, sizeof dirb, "%s/layers-plain", work);
  snprintf(dirc, sizeof dirc, "%s/layers-denied", work);
  make_dir(dira);
  make_dir(dirb);
  make_dir(dirc);

  r = client(host, 1 * MiB);
  s = stream(r, "stream/layers");
  rc = hoist_push_stream_layers(s, plans, 3, dira, 2, a, fl, NULL, ra, ea);
  CHECK(noted(rc, &ea[0]) == 0);
  CHECK(noted(hoist_push_stream_wait(s, -1, &err), &err) == 0);
  hoist_push_stream_stats(s, &st, NULL, 0);
  CHECK(st.layers == 3 && st.done == 3 && st.uploaded + st.existing == 3 && !st.failed);
  hoist_push_stream_free(s);
  hoist_registry_free(r);
  CHECK(hoist_layer_write_all(plans, 3, dirb, 1, b, rb, eb) == 0);
  for (i = 0; i < 3; i++) {
    CHECK(ra[i] == 0 && strcmp(a[i].digest, b[i].digest) == 0 && a[i].size == b[i].size &&
          strcmp(a[i].diff_id, b[i].diff_id) == 0);
    snprintf(p, sizeof p, "%.3000s/%s", dira, a[i].digest + 7);
    snprintf(q, sizeof q, "%.3000s/%s", dirb, b[i].digest + 7);
    CHECK(same_files(p, q));
    CHECK(in_registry(host, "stream/layers", a[i].digest, a[i].size, p));
    /* the file list recorded while streaming is the one read back from the blob (SBOMs use it) */
    CHECK(noted(hoist_layer_files_read(p, &back, &err), &err) == 0);
    CHECK(same_list(&fl[i], &back));
    hoist_layer_files_free(&back);
    hoist_layer_files_free(&fl[i]);
  }
  CHECK(count_prefix(dira, ".tmp-") == 0);

  /* a registry refusing chunks: the build stops with its answer */
  r = client(proxy("patch-denied"), 1 * MiB);
  s = stream(r, "stream/layers-denied");
  rc = hoist_push_stream_layers(s, plans, 3, dirc, 2, a, NULL, NULL, ra, ea);
  /* the refusal stops the build when it comes first, else the wait reports it */
  CHECK(rc == HOIST_EAUTH || rc == 0);
  CHECK(noted(hoist_push_stream_wait(s, -1, &err), &err) == HOIST_EAUTH && strstr(err.msg, "DENIED"));
  CHECK(hoist_push_stream_failure(s, &err, NULL, NULL) == HOIST_EAUTH && strstr(err.msg, "DENIED"));
  hoist_push_stream_free(s);
  hoist_registry_free(r);
  CHECK(count_prefix(dirc, ".tmp-") == 0);
  for (i = 0; i < 3; i++)
    hoist_layer_plan_free(plans[i]);
}

/* Freed while an upload runs: the threads stop and are joined, the temp file goes. */
static void test_free_early(void)
{
  struct hoist_registry *r = client(proxy("none"), 1 * MiB);
  struct hoist_push_stream *s = stream(r, "stream/early");
  struct hoist_layer_result res;
  struct hoist_err err;
  struct hand h;
  char blobs[4096], path[4096];
  snprintf(blobs, sizeof blobs, "%s/early", work);
  make_dir(blobs);
  CHECK(hand_open(s, &h, blobs, 11) == 0);
  CHECK(noted(hand_write(&h, 3 * MiB, &err), &err) == 0);
  CHECK(hand_close(&h, 1, &res) == 0);
  hoist_push_stream_free(s);
  hoist_registry_free(r);
  snprintf(path, sizeof path, "%.3000s/%s", blobs, res.digest + 7);
  CHECK(access(path, R_OK) == 0);  /* the built blob stays */
  CHECK(count_prefix(blobs, ".tmp-") == 0);
}

static void remove_tree(const char *p)
{
  DIR *d = opendir(p);
  struct dirent *de;
  while (d && (de = readdir(d))) {
    char q[4096];
    struct stat st;
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    snprintf(q, sizeof q, "%s/%s", p, de->d_name);
    if (lstat(q, &st) == 0 && S_ISDIR(st.st_mode))
      remove_tree(q);
    else
      unlink(q);
  }
  if (d)
    closedir(d);
  rmdir(p);
}

int main(int argc, char **argv)
{
  if (argc < 4)
    return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  dir = getenv("HOIST_TEST_DIR");
  if (!dir) {
    fprintf(stderr, "HOIST_TEST_DIR is not set (run test_pushstream.sh)\n");
    return 2;
  }
  if (strcmp(argv[2], "-") != 0) {
    user = argv[2];
    pass = argv[3];
  }
  if (!mkdtemp(work))
    return 1;
  /* 1 MiB chunks: a step is 1 MiB; with OCI-Chunk-Min-Length 2 MiB every chunk but the last is 2 */
  test_follows(argv[1], "none", "stream/follows", 1 * MiB, 1);
  test_follows(argv[1], "chunk-min", "stream/chunk-min", 1 * MiB, 2 * MiB);
  test_resume(argv[1], "drop-patch", "drop-patch");
  test_resume(argv[1], "patch-500", "500");
  test_rollback(argv[1]);
  test_denied(argv[1]);
  test_layers(argv[1]);
  test_free_early();
  remove_tree(work);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
