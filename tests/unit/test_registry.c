/*
** The registry client against the real registry in one auth mode.
** usage: test_registry HOST:PORT USER PASSWORD   (USER "-" for anonymous; tests/registry/test_registry.sh)
**
** Environment (set by test_registry.sh):
**   HOIST_TEST_DIR            the registry.sh folder: fault proxies at proxy-PATTERN.url, their
**                             logs at proxy-PATTERN.log, token.log in token mode
**   HOIST_TEST_REFRESH_TOKEN  token mode: a refresh token from the issuer (identity token flow)
**   HOIST_TEST_MODE           none | basic | token
** Every error message the client returns is printed ("note: ..."), so the script can check that
** no password ever appears in one.
*/
#define _DEFAULT_SOURCE 1

#include "digest.h"
#include "registry.h"

#include <dirent.h>
#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

#define CONFIG_MT "application/vnd.oci.image.config.v1+json"
#define MANIFEST_MT "application/vnd.oci.image.manifest.v1+json"
#define MiB (1024ull * 1024ull)
#define WRONG_PW "definitely-wrong-pw"

static const char *dir, *mode;
static char work[] = "/tmp/hoist-reg-XXXXXX";
static const char *user, *pass;

/* Prints what the client said (the script checks these lines for secrets). */
static int noted(int rc, const struct hoist_err *err)
{
  if (rc)
    printf("note: rc %d: %s\n", rc, err->msg);
  return rc;
}

/* A file of size pseudo-random bytes (seeded) in the work folder; its digest. */
static void make_blob(const char *name, unsigned long long size, unsigned seed, char *path,
                      size_t cap, char digest[HOIST_DIGEST_LEN + 1])
{
  FILE *f;
  unsigned char buf[65536];
  unsigned long long left = size;
  unsigned x = seed * 2654435761u + 1;
  struct hoist_err err;
  snprintf(path, cap, "%s/%s", work, name);
  f = fopen(path, "wb");
  while (f && left > 0) {
    size_t n = left < sizeof buf ? (size_t)left : sizeof buf, i;
    for (i = 0; i < n; i++) {
      x = x * 1103515245u + 12345u;
      buf[i] = (unsigned char)(x >> 16);
    }
    if (fwrite(buf, 1, n, f) != n)
      break;
    left -= n;
  }
  if (!f || fclose(f) != 0 || left)
    fprintf(stderr, "cannot write %s\n", path);
  if (hoist_digest_file(path, digest, NULL, &err))
    fprintf(stderr, "cannot hash %s: %s\n", path, err.msg);
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

/* "HOST:PORT" of the fault proxy with this pattern (registry.sh wrote proxy-P.url). */
static const char *proxy(const char *pattern)
{
  static char out[16][256];
  static int next;
  char path[4096], url[256];
  char *o = out[next++ % 16];
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

/* ---------------------------------------------------------------- log assertions */

typedef int (*entry_pred)(json_t *e, const void *arg);

/* Applies fn to each JSON line of DIR/name; returns how many matched. */
static int log_count(const char *name, entry_pred fn, const void *arg)
{
  char path[4096], line[65536];
  FILE *f;
  int n = 0;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (!(f = fopen(path, "r")))
    return -1;
  while (fgets(line, sizeof line, f)) {
    json_t *e = json_loads(line, 0, NULL);
    if (e && fn(e, arg))
      n++;
    json_decref(e);
  }
  fclose(f);
  return n;
}

static const char *sfield(json_t *e, const char *k)
{
  const char *s = json_string_value(json_object_get(e, k));
  return s ? s : "";
}

struct req_match {
  const char *method;
  const char *path_has;   /* substring of the path, or NULL */
  const char *fault;      /* "" for none (forwarded), NULL for any */
  long status;            /* 0 for any */
};

static int match_req(json_t *e, const void *arg)
{
  const struct req_match *m = arg;
  json_t *fault = json_object_get(e, "fault");
  if (m->method && strcmp(sfield(e, "method"), m->method) != 0)
    return 0;
  if (m->path_has && !strstr(sfield(e, "path"), m->path_has))
    return 0;
  if (m->fault && (*m->fault ? !json_is_string(fault) || strcmp(json_string_value(fault), m->fault)
                             : !json_is_null(fault)))
    return 0;
  if (m->status && json_integer_value(json_object_get(e, "status")) != m->status)
    return 0;
  return 1;
}

static int count(const char *log, const char *method, const char *path_has, const char *fault,
                 long status)
{
  struct req_match m = { method, path_has, fault, status };
  return log_count(log, match_req, &m);
}

/* The Content-Lengths of the forwarded PATCHes (in order) into lens; how many. */
struct patch_lens {
  unsigned long long lens[64];
  int n;
  unsigned long long sum;
};

static int collect_patch(json_t *e, const void *arg)
{
  struct patch_lens *pl = (struct patch_lens *)arg;
  if (strcmp(sfield(e, "method"), "PATCH") != 0 || !json_is_null(json_object_get(e, "fault")) ||
      json_integer_value(json_object_get(e, "status")) != 202)
    return 0;
  if (pl->n < 64)
    pl->lens[pl->n++] = (unsigned long long)json_integer_value(json_object_get(e, "length"));
  pl->sum += (unsigned long long)json_integer_value(json_object_get(e, "length"));
  return 1;
}

static void patches(const char *log, struct patch_lens *pl)
{
  memset(pl, 0, sizeof *pl);
  log_count(log, collect_patch, pl);
}

/* token.log: a successful POST refresh_token grant. */
static int refresh_grant(json_t *e, const void *arg)
{
  (void)arg;
  return strcmp(sfield(e, "method"), "POST") == 0 &&
         strcmp(sfield(e, "grant_type"), "refresh_token") == 0 &&
         json_integer_value(json_object_get(e, "status")) == 200 &&
         strcmp(sfield(e, "client_id"), "hoist") == 0;
}

/* token.log: a token request naming this scope. */
static int names_scope(json_t *e, const void *arg)
{
  json_t *scopes = json_object_get(e, "scopes");
  size_t i;
  for (i = 0; i < json_array_size(scopes); i++)
    if (strcmp(json_string_value(json_array_get(scopes, i)), (const char *)arg) == 0)
      return 1;
  return 0;
}

/* The work folder holds only these names (no temp file left behind). */
static int only_files(const char *const *names, size_t n)
{
  DIR *d = opendir(work);
  struct dirent *de;
  int ok = d != NULL;
  while (d && (de = readdir(d))) {
    size_t i;
    int known = de->d_name[0] == '.';
    for (i = 0; i < n && !known; i++)
      known = strcmp(de->d_name, names[i]) == 0;
    if (!known) {
      fprintf(stderr, "unexpected file %s\n", de->d_name);
      ok = 0;
    }
  }
  if (d)
    closedir(d);
  return ok;
}

/* ---------------------------------------------------------------- the first cut's checks */

static void test_basics(const char *host, const char *cfg_path, const char *config,
                        const char *cfg_digest, char man_digest[HOIST_DIGEST_LEN + 1],
                        char *manifest, size_t mcap)
{
  struct hoist_registry *r = client(host, 0);
  struct hoist_err err;
  char got[HOIST_DIGEST_LEN + 1], mt[128];
  unsigned long long size = 0;
  char **tags;
  size_t ntags, i, len;
  char *body;
  int exists, rc, k;

  /* blob: missing, uploaded from a file, then present with its size */
  CHECK(hoist_registry_blob_exists(r, "test/client", cfg_digest, &exists, &size, &err) == 0 && !exists);
  rc = noted(hoist_registry_blob_put_file(r, "test/client", cfg_digest, cfg_path, strlen(config), &err), &err);
  CHECK(rc == 0);
  CHECK(hoist_registry_blob_exists(r, "test/client", cfg_digest, &exists, &size, &err) == 0 && exists &&
        size == strlen(config));

  /* a manifest under several tags, read back by tag and by digest */
  snprintf(manifest, mcap,
           "{\"config\":{\"digest\":\"%s\",\"mediaType\":\"" CONFIG_MT "\",\"size\":%zu},"
           "\"layers\":[],\"mediaType\":\"" MANIFEST_MT "\",\"schemaVersion\":2}",
           cfg_digest, strlen(config));
  for (k = 0; k < 5; k++) {
    char tag[16];
    snprintf(tag, sizeof tag, "1.%d.0", k);
    rc = noted(hoist_registry_manifest_put(r, "test/client", tag, MANIFEST_MT, manifest,
                                           strlen(manifest), man_digest, &err), &err);
    CHECK(rc == 0);
  }
  CHECK(hoist_digest_buffer(manifest, strlen(manifest), got, &err) == 0 && strcmp(got, man_digest) == 0);
  CHECK(hoist_registry_manifest_get(r, "test/client", "1.2.0", &body, &len, mt, sizeof mt, &err) == 0);
  CHECK(len == strlen(manifest) && memcmp(body, manifest, len) == 0 && strcmp(mt, MANIFEST_MT) == 0);
  free(body);
  CHECK(hoist_registry_manifest_get(r, "test/client", man_digest, &body, &len, NULL, 0, &err) == 0);
  free(body);

  /* errors carry the registry's code */
  rc = noted(hoist_registry_manifest_get(r, "test/client", "9.9.9", &body, &len, NULL, 0, &err), &err);
  CHECK(rc == HOIST_EREMOTE && strstr(err.msg, "MANIFEST_UNKNOWN") != NULL);
  {
    static const char dangling[] =
      "{\"schemaVersion\":2,\"mediaType\":\"" MANIFEST_MT "\",\"config\":{\"mediaType\":\"" CONFIG_MT
      "\",\"digest\":\"sha256:0000000000000000000000000000000000000000000000000000000000000000\","
      "\"size\":1},\"layers\":[]}";
    rc = noted(hoist_registry_manifest_put(r, "test/client", "bad", MANIFEST_MT, dangling,
                                           strlen(dangling), NULL, &err), &err);
  }
  CHECK(rc == HOIST_EREMOTE && strstr(err.msg, "BLOB_UNKNOWN") != NULL);

  /* tags, two per page: the Link header is followed to the end */
  CHECK(hoist_registry_tags(r, "test/client", 2, &tags, &ntags, &err) == 0);
  CHECK(ntags == 5);
  for (i = 0; i < ntags; i++)
    free(tags[i]);
  free(tags);
  CHECK(hoist_registry_tags(r, "test/none-yet", 0, &tags, &ntags, &err) == 0 && ntags == 0);
  free(tags);
  hoist_registry_free(r);
}

/* ---------------------------------------------------------------- check_auth and wrong credentials */

static void test_auth(const char *host, const char *cfg_path, size_t cfg_len, const char *cfg_digest)
{
  struct hoist_registry_opts o;
  struct hoist_registry *r;
  struct hoist_err err;
  unsigned long long size;
  int exists, rc;

  r = client(host, 0);
  CHECK(noted(hoist_registry_check_auth(r, &err), &err) == 0);
  hoist_registry_free(r);
  if (!user)
    return;

  memset(&o, 0, sizeof o);
  o.username = user;
  o.password = WRONG_PW;
  CHECK(hoist_registry_new(host, &o, &r, &err) == 0);
  rc = noted(hoist_registry_check_auth(r, &err), &err);
  CHECK(rc == HOIST_EAUTH && strstr(err.msg, "authentication failed for registry") != NULL &&
        strstr(err.msg, WRONG_PW) == NULL);
  rc = noted(hoist_registry_blob_exists(r, "test/client", cfg_digest, &exists, &size, &err), &err);
  CHECK(rc == HOIST_EAUTH && strstr(err.msg, "authentication failed") != NULL &&
        strstr(err.msg, WRONG_PW) == NULL);
  hoist_registry_free(r);

  o.username = NULL;
  o.password = NULL;
  CHECK(hoist_registry_new(host, &o, &r, &err) == 0);
  rc = noted(hoist_registry_blob_put_file(r, "test/client", cfg_digest, cfg_path, cfg_len, &err), &err);
  CHECK(rc == HOIST_EAUTH);
  hoist_registry_free(r);
}

/* ---------------------------------------------------------------- downloads */

static void test_get(const char *host, const char *config, const char *cfg_digest)
{
  static const char missing[] =
    "sha256:1111111111111111111111111111111111111111111111111111111111111111";
  struct hoist_registry *r = client(host, 0);
  struct hoist_err err;
  char *body = NULL, path[4096], big[4096], bigd[HOIST_DIGEST_LEN + 1], out[4096];
  unsigned long long size = 0;
  size_t len = 0;
  int rc;

  CHECK(noted(hoist_registry_blob_get(r, "test/client", cfg_digest, 0, &body, &len, &err), &err) == 0);
  CHECK(body && len == strlen(config) && memcmp(body, config, len) == 0);
  free(body);
  /* a body bigger than the caller allows (its descriptor's size) is refused */
  rc = noted(hoist_registry_blob_get(r, "test/client", cfg_digest, 10, &body, &len, &err), &err);
  CHECK(rc == HOIST_EREMOTE && body == NULL && strstr(err.msg, "more than 10 bytes") != NULL);
  rc = noted(hoist_registry_blob_get(r, "test/client", missing, 0, &body, &len, &err), &err);
  CHECK(rc == HOIST_EREMOTE && strstr(err.msg, "BLOB_UNKNOWN") != NULL);

  /* a 3 MB blob: uploaded (chunked), then streamed to disk */
  make_blob("get.bin", 3 * MiB + 12345, 7, big, sizeof big, bigd);
  hoist_registry_free(r);
  r = client(host, 1 * MiB);
  CHECK(noted(hoist_registry_blob_put_file(r, "test/client", bigd, big, 3 * MiB + 12345, &err), &err) == 0);
  snprintf(out, sizeof out, "%s/get.out", work);
  CHECK(noted(hoist_registry_blob_get_file(r, "test/client", bigd, 3 * MiB + 12345, out, &size, &err), &err) == 0);
  CHECK(size == 3 * MiB + 12345 && same_files(big, out));
  /* again over the existing file: replaced atomically */
  CHECK(noted(hoist_registry_blob_get_file(r, "test/client", bigd, 3 * MiB + 12345, out, &size, &err), &err) == 0);
  CHECK(same_files(big, out));
  /* more bytes than the descriptor says: refused before the body is stored, no file left */
  snprintf(path, sizeof path, "%s/toobig.out", work);
  rc = noted(hoist_registry_blob_get_file(r, "test/client", bigd, 1000, path, &size, &err), &err);
  CHECK(rc == HOIST_EREMOTE && strstr(err.msg, "more than its 1000 bytes") != NULL &&
        access(path, F_OK) != 0);
  /* a digest the registry lacks: an error, and no file (nor temp file) */
  snprintf(path, sizeof path, "%s/missing.out", work);
  rc = noted(hoist_registry_blob_get_file(r, "test/client", missing, 100, path, &size, &err), &err);
  CHECK(rc == HOIST_EREMOTE && strstr(err.msg, "BLOB_UNKNOWN") != NULL && access(path, F_OK) != 0);
  {
    static const char *const names[] = { "config.json", "get.bin", "get.out" };
    CHECK(only_files(names, 3));
  }
  hoist_registry_free(r);

  /* a proxy that inverts a blob's first byte: caught by the digest, nothing written */
  r = client(proxy("corrupt-blobs"), 0);
  rc = noted(hoist_registry_blob_get(r, "test/client", cfg_digest, 0, &body, &len, &err), &err);
  CHECK(rc == HOIST_EREMOTE && strstr(err.msg, "other content") != NULL);
  rc = noted(hoist_registry_blob_get_file(r, "test/client", bigd, 3 * MiB + 12345, path, &size, &err), &err);
  CHECK(rc == HOIST_EREMOTE && strstr(err.msg, "other content") != NULL && access(path, F_OK) != 0);
  CHECK(count("proxy-corrupt-blobs.log", "GET", "/blobs/", "corrupt", 200) >= 2);
  {
    static const char *const names[] = { "config.json", "get.bin", "get.out" };
    CHECK(only_files(names, 3));
  }
  hoist_registry_free(r);

  /* redirected to "storage" on another host name: followed, without our credentials */
  r = client(proxy("redirect-blobs"), 0);
  CHECK(noted(hoist_registry_blob_get(r, "test/client", cfg_digest, 0, &body, &len, &err), &err) == 0);
  CHECK(body && len == strlen(config) && memcmp(body, config, len) == 0);
  free(body);
  unlink(out);
  CHECK(noted(hoist_registry_blob_get_file(r, "test/client", bigd, 3 * MiB + 12345, out, &size, &err), &err) == 0);
  CHECK(same_files(big, out));
  CHECK(count("proxy-redirect-blobs.log", "GET", "/blobs/", "redirect", 307) == 2);
  CHECK(count("proxy-redirect-blobs.log", "GET", "/blobs/", "storage", 200) == 2);
  hoist_registry_free(r);

  /* a proxy that cuts every third body in half: the download resumes with a Range request */
  r = client(proxy("drop-mid"), 0);
  {
    int k, ok = 1;
    for (k = 0; k < 3; k++) {
      unlink(out);
      ok &= noted(hoist_registry_blob_get_file(r, "test/client", bigd, 3 * MiB + 12345, out, &size, &err), &err) == 0 &&
            same_files(big, out);
    }
    CHECK(ok);
  }
  CHECK(count("proxy-drop-mid.log", "GET", "/blobs/", "drop-mid", 200) >= 1);
  CHECK(count("proxy-drop-mid.log", "GET", "/blobs/", "", 206) >= 1);
  hoist_registry_free(r);
  unlink(out);
}

/* No storage request may carry an Authorization header: registry credentials stay with the registry. */
static int storage_with_auth(json_t *e, const void *arg)
{
  (void)arg;
  return strcmp(sfield(e, "fault"), "storage") == 0 && json_is_true(json_object_get(e, "auth"));
}

/* ---------------------------------------------------------------- chunked uploads */

static void test_chunked(const char *host)
{
  struct hoist_registry *r;
  struct hoist_err err;
  struct patch_lens pl;
  char path[4096], d[HOIST_DIGEST_LEN + 1], out[4096];
  unsigned long long size;
  int exists;

  snprintf(out, sizeof out, "%s/chunked.out", work);

  /* through a pass-through proxy, to see the requests: 4 PATCHes of 1 MiB at most */
  make_blob("c1.bin", 3 * MiB + 777, 11, path, sizeof path, d);
  r = client(proxy("none"), 1 * MiB);
  CHECK(noted(hoist_registry_blob_put_file(r, "test/chunked", d, path, 3 * MiB + 777, &err), &err) == 0);
  hoist_registry_free(r);
  patches("proxy-none.log", &pl);
  CHECK(pl.n == 4 && pl.lens[0] == MiB && pl.lens[3] == 777 && pl.sum == 3 * MiB + 777);
  CHECK(count("proxy-none.log", "PUT", "/blobs/uploads/", "", 201) == 1);
  r = client(host, 0);
  CHECK(noted(hoist_registry_blob_get_file(r, "test/chunked", d, 3 * MiB + 777, out, &size, &err), &err) == 0 &&
        same_files(path, out));
  hoist_registry_free(r);

  /* the 2nd and 5th PATCH dropped half-way: resumed from what the registry has, not restarted */
  make_blob("c2.bin", 4 * MiB, 12, path, sizeof path, d);
  r = client(proxy("drop-patch"), 1 * MiB);
  CHECK(noted(hoist_registry_blob_put_file(r, "test/chunked", d, path, 4 * MiB, &err), &err) == 0);
  hoist_registry_free(r);
  patches("proxy-drop-patch.log", &pl);
  CHECK(count("proxy-drop-patch.log", "PATCH", NULL, "drop-patch", 0) == 2);
  CHECK(count("proxy-drop-patch.log", "GET", "/blobs/uploads/", "", 204) == 2);
  CHECK(count("proxy-drop-patch.log", "POST", "/blobs/uploads/", "", 202) == 1);
  /* every byte reached the registry once: 4 chunks, no more */
  CHECK(pl.n == 4 && pl.sum == 4 * MiB);
  r = client(host, 0);
  CHECK(noted(hoist_registry_blob_get_file(r, "test/chunked", d, 4 * MiB, out, &size, &err), &err) == 0 &&
        same_files(path, out));
  hoist_registry_free(r);

  /* the same with 500 answers */
  make_blob("c3.bin", 4 * MiB + 1, 13, path, sizeof path, d);
  r = client(proxy("patch-500"), 1 * MiB);
  CHECK(noted(hoist_registry_blob_put_file(r, "test/chunked", d, path, 4 * MiB + 1, &err), &err) == 0);
  hoist_registry_free(r);
  patches("proxy-patch-500.log", &pl);
  CHECK(count("proxy-patch-500.log", "PATCH", NULL, "500", 500) == 2);
  CHECK(count("proxy-patch-500.log", "GET", "/blobs/uploads/", "", 204) == 2);
  CHECK(pl.n == 5 && pl.sum == 4 * MiB + 1 && pl.lens[4] == 1);
  r = client(host, 0);
  CHECK(hoist_registry_blob_exists(r, "test/chunked", d, &exists, &size, &err) == 0 && exists &&
        size == 4 * MiB + 1);
  CHECK(noted(hoist_registry_blob_get_file(r, "test/chunked", d, 4 * MiB + 1, out, &size, &err), &err) == 0 &&
        same_files(path, out));
  hoist_registry_free(r);

  /* OCI-Chunk-Min-Length: 2 MiB raises our 1 MiB chunks */
  make_blob("c4.bin", 5 * MiB, 14, path, sizeof path, d);
  r = client(proxy("chunk-min"), 1 * MiB);
  CHECK(noted(hoist_registry_blob_put_file(r, "test/chunked", d, path, 5 * MiB, &err), &err) == 0);
  hoist_registry_free(r);
  patches("proxy-chunk-min.log", &pl);
  CHECK(pl.n == 3 && pl.lens[0] == 2 * MiB && pl.lens[1] == 2 * MiB && pl.lens[2] == MiB);
  r = client(host, 0);
  CHECK(noted(hoist_registry_blob_get_file(r, "test/chunked", d, 5 * MiB, out, &size, &err), &err) == 0 &&
        same_files(path, out));
  hoist_registry_free(r);

  /* small blobs stay monolithic: one PUT with the body, no PATCH */
  make_blob("c5.bin", 1000, 15, path, sizeof path, d);
  r = client(proxy("chunk-min"), 1 * MiB);
  CHECK(noted(hoist_registry_blob_put_file(r, "test/chunked", d, path, 1000, &err), &err) == 0);
  hoist_registry_free(r);
  patches("proxy-chunk-min.log", &pl);
  CHECK(pl.n == 3);
  CHECK(count("proxy-chunk-min.log", "PUT", "/blobs/uploads/", "", 201) == 2);
  unlink(out);
}

/* ---------------------------------------------------------------- mounts */

static void test_mount(const char *host, const char *cfg_digest)
{
  struct hoist_registry *r = client(proxy("none"), 0);
  struct hoist_err err;
  char path[4096], d[HOIST_DIGEST_LEN + 1];
  unsigned long long size;
  int mounted = -1, exists = 0, rc;
  (void)host;

  /* the config is in test/client: mounted into test/mounted */
  CHECK(noted(hoist_registry_blob_mount(r, "test/mounted", cfg_digest, "test/client", &mounted, &err), &err) == 0);
  CHECK(mounted == 1);
  CHECK(hoist_registry_blob_exists(r, "test/mounted", cfg_digest, &exists, &size, &err) == 0 && exists);
  /* a source without the blob: not mounted (202), the session cancelled, then an upload works */
  make_blob("m1.bin", 5000, 21, path, sizeof path, d);
  mounted = -1;
  CHECK(noted(hoist_registry_blob_mount(r, "test/mounted", d, "test/empty-source", &mounted, &err), &err) == 0);
  CHECK(mounted == 0);
  /* (in token mode the cancel first gets 401: distribution wants the delete action for it) */
  CHECK(count("proxy-none.log", "DELETE", "/v2/test/mounted/blobs/uploads/", "", 204) == 1);
  CHECK(noted(hoist_registry_blob_put_file(r, "test/mounted", d, path, 5000, &err), &err) == 0);
  CHECK(hoist_registry_blob_exists(r, "test/mounted", d, &exists, &size, &err) == 0 && exists && size == 5000);
  rc = noted(hoist_registry_blob_mount(r, "test/mounted", "sha256:zz", "test/client", &mounted, &err), &err);
  CHECK(rc == HOIST_EINVAL);
  hoist_registry_free(r);
}

/* ---------------------------------------------------------------- manifests */

static void test_manifests(const char *host, const char *cfg_digest, size_t cfg_len,
                           const char *man_digest, const char *manifest)
{
  struct hoist_registry *r = client(host, 0), *p;
  struct hoist_err err;
  char d[HOIST_DIGEST_LEN + 1], mt[128], other[1024], odig[HOIST_DIGEST_LEN + 1];
  unsigned long long size = 0;
  int exists = -1, rc;

  CHECK(noted(hoist_registry_manifest_head(r, "test/client", "1.1.0", &exists, d, mt, sizeof mt, &size, &err), &err) == 0);
  CHECK(exists == 1 && strcmp(d, man_digest) == 0 && strcmp(mt, MANIFEST_MT) == 0 && size == strlen(manifest));
  CHECK(hoist_registry_manifest_head(r, "test/client", man_digest, &exists, d, NULL, 0, NULL, &err) == 0 &&
        exists == 1 && strcmp(d, man_digest) == 0);
  exists = -1;
  CHECK(noted(hoist_registry_manifest_head(r, "test/client", "7.7.7", &exists, d, mt, sizeof mt, &size, &err), &err) == 0);
  CHECK(exists == 0);
  exists = -1;
  CHECK(hoist_registry_manifest_head(r, "test/never-pushed", "latest", &exists, d, mt, sizeof mt, &size, &err) == 0 &&
        exists == 0);

  /*
  ** A manifest whose blob the registry cannot see for a moment (another client committing the
  ** same blob): distribution answers DIGEST_INVALID + MANIFEST_BLOB_UNKNOWN. A few short tries,
  ** then it goes through; a manifest that really names a missing blob still fails, saying why.
  */
  p = client(proxy("blob-unknown"), 0);
  CHECK(noted(hoist_registry_manifest_put(p, "test/client", man_digest, MANIFEST_MT, manifest,
                                          strlen(manifest), d, &err), &err) == 0);
  CHECK(strcmp(d, man_digest) == 0);
  CHECK(count("proxy-blob-unknown.log", "PUT", "/manifests/", "blob-unknown", 400) == 2);
  CHECK(count("proxy-blob-unknown.log", "PUT", "/manifests/", "", 201) == 1);
  {
    char *lines[4];
    unsigned long total = 0;
    size_t i, n = hoist_registry_take_retries(p, lines, 4, &total);
    CHECK(total == 2 && n == 2 && strstr(lines[0], "MANIFEST_BLOB_UNKNOWN") != NULL);
    for (i = 0; i < n; i++)
      free(lines[i]);
  }
  hoist_registry_free(p);

  /* a registry without manifest HEAD (405): GET instead, the digest computed from the bytes */
  p = client(proxy("head-405"), 0);
  exists = -1;
  CHECK(noted(hoist_registry_manifest_head(p, "test/client", "1.1.0", &exists, d, mt, sizeof mt, &size, &err), &err) == 0);
  CHECK(exists == 1 && strcmp(d, man_digest) == 0 && strcmp(mt, MANIFEST_MT) == 0 && size == strlen(manifest));
  exists = -1;
  CHECK(hoist_registry_manifest_head(p, "test/client", "7.7.7", &exists, d, mt, sizeof mt, &size, &err) == 0 &&
        exists == 0);
  CHECK(count("proxy-head-405.log", "HEAD", "/manifests/", "405", 405) == 2);
  CHECK(count("proxy-head-405.log", "GET", "/manifests/1.1.0", "", 200) == 1);
  CHECK(count("proxy-head-405.log", "GET", "/manifests/7.7.7", "", 404) == 1);
  hoist_registry_free(p);

  /* delete: a manifest of its own (so the shared one keeps its tags), by digest */
  snprintf(other, sizeof other,
           "{\"schemaVersion\":2,\"mediaType\":\"" MANIFEST_MT "\",\"config\":{\"mediaType\":\"" CONFIG_MT
           "\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[],\"annotations\":{\"delete\":\"me\"}}",
           cfg_digest, cfg_len);
  CHECK(noted(hoist_registry_manifest_put(r, "test/client", "doomed", MANIFEST_MT, other, strlen(other), odig, &err), &err) == 0);
  /* distribution 2.x deletes by digest only: a tag gets a clear refusal */
  rc = noted(hoist_registry_manifest_delete(r, "test/client", "doomed", &err), &err);
  CHECK(rc == HOIST_EREMOTE && strstr(err.msg, "does not allow deleting tags") != NULL);
  CHECK(noted(hoist_registry_manifest_delete(r, "test/client", odig, &err), &err) == 0);
  exists = -1;
  CHECK(hoist_registry_manifest_head(r, "test/client", odig, &exists, d, NULL, 0, NULL, &err) == 0 && exists == 0);
  CHECK(hoist_registry_manifest_head(r, "test/client", "1.1.0", &exists, d, NULL, 0, NULL, &err) == 0 && exists == 1);
  rc = noted(hoist_registry_manifest_delete(r, "test/client", odig, &err), &err);
  CHECK(rc == HOIST_EREMOTE && strstr(err.msg, "MANIFEST_UNKNOWN") != NULL);
  hoist_registry_free(r);

  /* a registry with deletes switched off */
  p = client(proxy("delete-405"), 0);
  rc = noted(hoist_registry_manifest_delete(p, "test/client", man_digest, &err), &err);
  CHECK(rc == HOIST_EREMOTE && strstr(err.msg, "does not allow deleting manifests (UNSUPPORTED: ") != NULL);
  hoist_registry_free(p);
}

/* ---------------------------------------------------------------- parallel push */

#define NJOBS 8

static void test_push(const char *host, const char *via, const char *repo, const char *cfg_digest,
                      const char *cfg_path, size_t cfg_len, int with_existing)
{
  static const unsigned long long sizes[NJOBS] = { 1, 1000, 200000, 700000, 1200000, 90000, 3, 2500000 };
  struct hoist_blob_job jobs[NJOBS + 2];
  char paths[NJOBS][4096], digests[NJOBS][HOIST_DIGEST_LEN + 1], out[4096];
  struct hoist_push_stats st;
  struct hoist_registry *r;
  struct hoist_err err;
  unsigned long long want = 0, size;
  size_t n = 0, i;
  int ok = 1, rc;

  for (i = 0; i < NJOBS; i++) {
    char name[64];
    snprintf(name, sizeof name, "p-%s-%zu.bin", via, i);
    make_blob(name, sizes[i], (unsigned)(100 + i + 17 * (unsigned)strlen(via)), paths[i],
              sizeof paths[i], digests[i]);
    jobs[n].digest = digests[i];
    jobs[n].path = paths[i];
    jobs[n].size = sizes[i];
    jobs[n].mount_from = NULL;
    want += sizes[i];
    n++;
  }
  if (with_existing) {
    /* one already there (HEAD skips it), one mountable from test/client */
    r = client(host, 0);
    CHECK(noted(hoist_registry_blob_put_file(r, repo, digests[0], paths[0], sizes[0], &err), &err) == 0);
    hoist_registry_free(r);
    want -= sizes[0];
    jobs[n].digest = cfg_digest;
    jobs[n].path = cfg_path;
    jobs[n].size = cfg_len;
    jobs[n].mount_from = "test/client";
    n++;
  }
  /* chunks of 512 KiB: the big ones go chunked, in parallel */
  r = client(via, 512 * 1024);
  rc = noted(hoist_registry_push_blobs(r, repo, jobs, n, 4, &st, &err), &err);
  CHECK(rc == 0);
  if (with_existing)
    CHECK(st.existing == 1 && st.mounted == 1 && st.uploaded == NJOBS - 1 && st.uploaded_bytes == want);
  else
    CHECK(st.existing == 0 && st.mounted == 0 && st.uploaded == NJOBS && st.uploaded_bytes == want);
  hoist_registry_free(r);

  /* all of them intact */
  r = client(host, 0);
  snprintf(out, sizeof out, "%s/push.out", work);
  for (i = 0; i < NJOBS; i++) {
    int got = noted(hoist_registry_blob_get_file(r, repo, digests[i], sizes[i], out, &size, &err), &err) == 0;
    ok &= got && size == sizes[i] && same_files(paths[i], out);
  }
  CHECK(ok);
  /* again: everything is there now */
  rc = noted(hoist_registry_push_blobs(r, repo, jobs, n, 0, &st, &err), &err);
  CHECK(rc == 0 && st.existing == n && st.uploaded == 0 && st.uploaded_bytes == 0);
  hoist_registry_free(r);
  unlink(out);
  for (i = 0; i < NJOBS; i++)
    unlink(paths[i]);
}

static void test_push_failure(const char *host)
{
  struct hoist_blob_job jobs[3];
  char paths[2][4096], digests[2][HOIST_DIGEST_LEN + 1];
  struct hoist_push_stats st;
  struct hoist_registry *r = client(host, 0);
  struct hoist_err err;
  int rc;
  make_blob("f0.bin", 100, 300, paths[0], sizeof paths[0], digests[0]);
  make_blob("f1.bin", 100, 301, paths[1], sizeof paths[1], digests[1]);
  unlink(paths[1]);  /* its content is gone: that job fails */
  jobs[0].digest = digests[0];
  jobs[0].path = paths[0];
  jobs[0].size = 100;
  jobs[0].mount_from = NULL;
  jobs[1] = jobs[0];
  jobs[1].digest = digests[1];
  jobs[1].path = paths[1];
  jobs[2] = jobs[0];
  jobs[2].digest = "not-a-digest";
  rc = noted(hoist_registry_push_blobs(r, "test/fail", jobs, 3, 1, &st, &err), &err);
  CHECK(rc == HOIST_EIO && strstr(err.msg, "f1.bin") != NULL);
  /* parallel 1: the first job was done, the third never handed out */
  CHECK(st.uploaded == 1);
  hoist_registry_free(r);
  unlink(paths[0]);
}

/* ---------------------------------------------------------------- token mode only */

static void test_identity_token(const char *host, const char *cfg_digest)
{
  const char *rt = getenv("HOIST_TEST_REFRESH_TOKEN");
  struct hoist_registry_opts o;
  struct hoist_registry *r;
  struct hoist_err err;
  char path[4096], d[HOIST_DIGEST_LEN + 1];
  unsigned long long size;
  int before, exists, rc;

  CHECK(rt && *rt);
  if (!rt)
    return;
  before = log_count("token.log", refresh_grant, NULL);
  memset(&o, 0, sizeof o);
  o.identity_token = rt;
  CHECK(hoist_registry_new(host, &o, &r, &err) == 0);
  CHECK(noted(hoist_registry_check_auth(r, &err), &err) == 0);
  make_blob("id.bin", 4321, 400, path, sizeof path, d);
  CHECK(noted(hoist_registry_blob_put_file(r, "test/identity", d, path, 4321, &err), &err) == 0);
  CHECK(hoist_registry_blob_exists(r, "test/identity", d, &exists, &size, &err) == 0 && exists);
  CHECK(hoist_registry_blob_exists(r, "test/client", cfg_digest, &exists, &size, &err) == 0 && exists);
  hoist_registry_free(r);
  /* check_auth (no scope), push on test/identity, pull on it, pull on test/client: four POST grants */
  CHECK(log_count("token.log", refresh_grant, NULL) - before == 4);

  o.identity_token = "not-a-refresh-token";
  CHECK(hoist_registry_new(host, &o, &r, &err) == 0);
  rc = noted(hoist_registry_check_auth(r, &err), &err);
  CHECK(rc == HOIST_EAUTH && strstr(err.msg, "identity token was refused") != NULL &&
        strstr(err.msg, "not-a-refresh-token") == NULL);
  hoist_registry_free(r);
  unlink(path);
}

/* A cached token refused with insufficient_scope: one new token for the union, then success. */
static void test_scope_widen(const char *cfg_digest)
{
  struct hoist_registry *r = client(proxy("scope-widen"), 0);
  struct hoist_err err;
  unsigned long long size;
  int exists = 0;
  CHECK(noted(hoist_registry_blob_exists(r, "test/client", cfg_digest, &exists, &size, &err), &err) == 0 && exists);
  CHECK(log_count("token.log", names_scope, "repository:hoist-test/extra:pull") == 0);
  exists = 0;
  CHECK(noted(hoist_registry_blob_exists(r, "test/client", cfg_digest, &exists, &size, &err), &err) == 0 && exists);
  CHECK(count("proxy-scope-widen.log", "HEAD", NULL, "insufficient-scope", 401) == 1);
  CHECK(log_count("token.log", names_scope, "repository:hoist-test/extra:pull") == 1);
  hoist_registry_free(r);
}

int main(int argc, char **argv)
{
  char cfg_path[4096], cfg_digest[HOIST_DIGEST_LEN + 1], man_digest[HOIST_DIGEST_LEN + 1];
  char manifest[1024];
  const char *config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
  struct hoist_err err;
  FILE *f;

  if (argc < 4)
    return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);  /* notes reach the script even if a sanitizer ends us */
  dir = getenv("HOIST_TEST_DIR");
  mode = getenv("HOIST_TEST_MODE");
  if (!mode)
    mode = "none";
  if (strcmp(argv[2], "-") != 0) {
    user = argv[2];
    pass = argv[3];
  }
  if (!mkdtemp(work))
    return 1;
  snprintf(cfg_path, sizeof cfg_path, "%s/config.json", work);
  f = fopen(cfg_path, "wb");
  if (!f || fwrite(config, 1, strlen(config), f) != strlen(config) || fclose(f) != 0)
    return 1;
  CHECK(hoist_digest_buffer(config, strlen(config), cfg_digest, &err) == 0);

  test_basics(argv[1], cfg_path, config, cfg_digest, man_digest, manifest, sizeof manifest);
  test_auth(argv[1], cfg_path, strlen(config), cfg_digest);
  if (dir) {
    test_get(argv[1], config, cfg_digest);
    CHECK(log_count("proxy-redirect-blobs.log", storage_with_auth, NULL) == 0);
    test_chunked(argv[1]);
    test_mount(argv[1], cfg_digest);
    test_manifests(argv[1], cfg_digest, strlen(config), man_digest, manifest);
    test_push(argv[1], argv[1], "test/push", cfg_digest, cfg_path, strlen(config), 1);
    test_push(argv[1], proxy("fail-every-3"), "test/push-faults", cfg_digest, cfg_path,
              strlen(config), 0);
    CHECK(count("proxy-fail-every-3.log", NULL, NULL, "503", 503) >= 5);
    test_push_failure(argv[1]);
    if (strcmp(mode, "token") == 0) {
      test_identity_token(argv[1], cfg_digest);
      test_scope_widen(cfg_digest);
    }
  }
  {
    /* the blobs made here; nothing else may be left (a temp file would show) */
    DIR *d = opendir(work);
    struct dirent *de;
    while (d && (de = readdir(d))) {
      char p[4096];
      size_t l = strlen(de->d_name);
      if (de->d_name[0] == '.')
        continue;
      CHECK(l > 4 && strcmp(de->d_name + l - 4, ".bin") == 0 ? 1 : strcmp(de->d_name, "config.json") == 0);
      snprintf(p, sizeof p, "%s/%s", work, de->d_name);
      unlink(p);
    }
    if (d)
      closedir(d);
    CHECK(rmdir(work) == 0);
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
