/*
** The registry client against the real registry in one auth mode.
** usage: test_registry HOST:PORT USER PASSWORD   (USER "-" for anonymous; tests/registry/test_registry.sh)
*/
#include "digest.h"
#include "registry.h"

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

#define CONFIG_MT "application/vnd.oci.image.config.v1+json"
#define MANIFEST_MT "application/vnd.oci.image.manifest.v1+json"

int main(int argc, char **argv)
{
  struct hoist_registry *r;
  struct hoist_registry_opts o;
  struct hoist_err err;
  char path[] = "/tmp/hoist-reg-XXXXXX", cfg_digest[HOIST_DIGEST_LEN + 1];
  char man_digest[HOIST_DIGEST_LEN + 1], got[HOIST_DIGEST_LEN + 1], mt[128], manifest[1024];
  const char *config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
  unsigned long long size = 0;
  char **tags;
  size_t ntags, i;
  char *body;
  size_t len;
  int fd, exists, rc, k;

  if (argc < 4)
    return 2;
  memset(&o, 0, sizeof o);
  if (strcmp(argv[2], "-") != 0) {
    o.username = argv[2];
    o.password = argv[3];
  }
  fd = mkstemp(path);
  if (fd < 0 || write(fd, config, strlen(config)) != (ssize_t)strlen(config) || close(fd) != 0)
    return 1;
  CHECK(hoist_digest_buffer(config, strlen(config), cfg_digest, &err) == 0);
  CHECK(hoist_registry_new(argv[1], &o, &r, &err) == 0);

  /* blob: missing, uploaded from a file, then present with its size */
  CHECK(hoist_registry_blob_exists(r, "test/client", cfg_digest, &exists, &size, &err) == 0 && !exists);
  rc = hoist_registry_blob_put_file(r, "test/client", cfg_digest, path, strlen(config), &err);
  if (rc)
    fprintf(stderr, "upload: %s\n", err.msg);
  CHECK(rc == 0);
  CHECK(hoist_registry_blob_exists(r, "test/client", cfg_digest, &exists, &size, &err) == 0 && exists &&
        size == strlen(config));

  /* a manifest under several tags, read back by tag and by digest */
  snprintf(manifest, sizeof manifest,
           "{\"config\":{\"digest\":\"%s\",\"mediaType\":\"" CONFIG_MT "\",\"size\":%zu},"
           "\"layers\":[],\"mediaType\":\"" MANIFEST_MT "\",\"schemaVersion\":2}",
           cfg_digest, strlen(config));
  for (k = 0; k < 5; k++) {
    char tag[16];
    snprintf(tag, sizeof tag, "1.%d.0", k);
    rc = hoist_registry_manifest_put(r, "test/client", tag, MANIFEST_MT, manifest, strlen(manifest),
                                     man_digest, &err);
    if (rc)
      fprintf(stderr, "manifest: %s\n", err.msg);
    CHECK(rc == 0);
  }
  CHECK(hoist_digest_buffer(manifest, strlen(manifest), got, &err) == 0 && strcmp(got, man_digest) == 0);
  CHECK(hoist_registry_manifest_get(r, "test/client", "1.2.0", &body, &len, mt, sizeof mt, &err) == 0);
  CHECK(len == strlen(manifest) && memcmp(body, manifest, len) == 0 && strcmp(mt, MANIFEST_MT) == 0);
  free(body);
  CHECK(hoist_registry_manifest_get(r, "test/client", man_digest, &body, &len, NULL, 0, &err) == 0);
  free(body);

  /* errors carry the registry's code */
  rc = hoist_registry_manifest_get(r, "test/client", "9.9.9", &body, &len, NULL, 0, &err);
  CHECK(rc == HOIST_EREMOTE && strstr(err.msg, "MANIFEST_UNKNOWN") != NULL);
  {
    static const char dangling[] =
      "{\"schemaVersion\":2,\"mediaType\":\"" MANIFEST_MT "\",\"config\":{\"mediaType\":\"" CONFIG_MT
      "\",\"digest\":\"sha256:0000000000000000000000000000000000000000000000000000000000000000\","
      "\"size\":1},\"layers\":[]}";
    rc = hoist_registry_manifest_put(r, "test/client", "bad", MANIFEST_MT, dangling, strlen(dangling),
                                     NULL, &err);
    if (rc != HOIST_EREMOTE)
      fprintf(stderr, "dangling manifest: rc %d: %s\n", rc, err.msg);
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

  /* wrong credentials: a clear error that never shows the password */
  if (o.username) {
    o.password = "definitely-wrong-pw";
    CHECK(hoist_registry_new(argv[1], &o, &r, &err) == 0);
    rc = hoist_registry_blob_exists(r, "test/client", cfg_digest, &exists, &size, &err);
    CHECK(rc == HOIST_EAUTH && strstr(err.msg, "authentication failed") != NULL &&
          strstr(err.msg, "definitely-wrong-pw") == NULL);
    hoist_registry_free(r);
    o.username = NULL;
    CHECK(hoist_registry_new(argv[1], &o, &r, &err) == 0);
    rc = hoist_registry_blob_put_file(r, "test/client", cfg_digest, path, strlen(config), &err);
    CHECK(rc == HOIST_EAUTH);
    hoist_registry_free(r);
  }
  unlink(path);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
