/*
** fuzz_manifest: libFuzzer target for the manifest and index decoder
** (manifest.h).
**
** The input is copied to a buffer of exactly its length, so reads past len
** are caught, and parsed once with each hint a caller passes: NULL, the four
** supported media types, a generic one with a parameter and an unsupported
** one. The input is also used as the hint (cut at its first NUL) for a fixed
** valid body. Besides crashes, leaks and UB, the target aborts when an
** invariant breaks:
**   - a failure returns no manifest and a one-line, printable "invalid
**     manifest: ..." message whose code matches the status;
**   - a NULL err does not change the status;
**   - a success is consistent: its media type is one of the four and names
**     its kind, an image has a config and no children, an index the reverse,
**     counts are within bounds, every descriptor has a media type of the RFC
**     6838 shape, a digest whose algorithm flag agrees with its prefix (and
**     sha256/sha512 ones have their exact form), a size in 0..2^53, and each
**     platform its os and architecture;
**   - a supported hint that succeeds is the media type returned;
**   - parsing again with the returned media type as the hint gives the same.
*/
#include "manifest.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const hints[] = {
  NULL,
  HOIST_MT_OCI_MANIFEST,
  HOIST_MT_OCI_INDEX,
  HOIST_MT_DOCKER_MANIFEST,
  HOIST_MT_DOCKER_LIST,
  "application/json; charset=utf-8",
  "text/html",
};

static const char valid_body[] =
  "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
  "\"digest\":\"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
  "\"size\":2},\"layers\":[]}";

static void broken(const char *what, const char *detail) __attribute__((noreturn));
static void broken(const char *what, const char *detail)
{
  fprintf(stderr, "fuzz_manifest: invariant broken: %s (%s)\n", what, detail ? detail : "-");
  abort();
}

static void check_failure(int rc, const struct hoist_manifest *m, const struct hoist_err *err)
{
  size_t i;
  if (m)
    broken("a failure returned a manifest", err->msg);
  if (rc != HOIST_EINVAL && rc != HOIST_ERANGE && rc != HOIST_ENOMEM)
    broken("an unexpected status", err->msg);
  if (err->code != rc)
    broken("err.code differs from the status", err->msg);
  if (strncmp(err->msg, "invalid manifest: ", 18) != 0)
    broken("message does not start with \"invalid manifest: \"", err->msg);
  for (i = 0; err->msg[i]; i++)
    if ((unsigned char)err->msg[i] < 0x20 || (unsigned char)err->msg[i] >= 0x7f)
      broken("message holds a control or non-ASCII byte", err->msg);
}

/* Independent of manifest.c: printable ASCII, no space, one '/' with text on both sides. */
static int media_type_shape(const char *s)
{
  const char *slash = strchr(s, '/');
  size_t i;
  if (!slash || slash == s || slash[1] == '\0' || strchr(slash + 1, '/'))
    return 0;
  for (i = 0; s[i]; i++)
    if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == ';' || s[i] == ',')
      return 0;
  return i <= 255;
}

static int lower_hex_run(const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return 0;
  return s[n] == '\0';
}

static void check_descriptor(const struct hoist_descriptor *d, int child)
{
  size_t i;
  if (!d->media_type || !media_type_shape(d->media_type))
    broken("a descriptor media type of the wrong shape", d->media_type);
  if (!d->digest || !strchr(d->digest, ':'))
    broken("a digest without ':'", d->digest);
  if (d->digest_alg == HOIST_DIGEST_SHA256) {
    if (strncmp(d->digest, "sha256:", 7) != 0 || !lower_hex_run(d->digest + 7, 64))
      broken("a sha256 digest of the wrong form", d->digest);
  } else if (d->digest_alg == HOIST_DIGEST_SHA512) {
    if (strncmp(d->digest, "sha512:", 7) != 0 || !lower_hex_run(d->digest + 7, 128))
      broken("a sha512 digest of the wrong form", d->digest);
  } else if (d->digest_alg == HOIST_DIGEST_OTHER) {
    if (strncmp(d->digest, "sha256:", 7) == 0 || strncmp(d->digest, "sha512:", 7) == 0)
      broken("a sha256/sha512 digest flagged as other", d->digest);
  } else {
    broken("an unknown digest algorithm flag", d->digest);
  }
  if (d->size < 0 || d->size > HOIST_MANIFEST_MAX_SIZE)
    broken("a size out of 0..2^53", d->digest);
  if (d->artifact_type && !media_type_shape(d->artifact_type))
    broken("an artifactType of the wrong shape", d->artifact_type);
  if (d->platform && (!child || !d->platform->os || !d->platform->architecture))
    broken("a platform without os or architecture, or outside an index", d->digest);
  if (d->n_annotations > HOIST_MANIFEST_MAX_ENTRIES || (d->n_annotations && !d->annotations))
    broken("descriptor annotations out of bounds", d->digest);
  for (i = 0; i < d->n_annotations; i++)
    if (!d->annotations[i].key || !d->annotations[i].value)
      broken("an annotation with a NULL key or value", d->digest);
}

/* hint is media_type, in any case, with optional blanks around and ";..." after. */
static int names(const char *hint, const char *media_type)
{
  size_t n = strlen(media_type);
  while (*hint == ' ' || *hint == '\t')
    hint++;
  if (strncasecmp(hint, media_type, n) != 0)
    return 0;
  for (hint += n; *hint == ' ' || *hint == '\t'; hint++)
    ;
  return *hint == '\0' || *hint == ';';
}

static void check_success(const struct hoist_manifest *m, const char *hint)
{
  size_t i;
  int kind = hoist_manifest_kind_of(m->media_type);
  if (!m->media_type || kind == 0 || kind != (int)m->kind)
    broken("the media type does not name the kind", m->media_type);
  if (m->docker != (strstr(m->media_type, "vnd.docker.") != NULL))
    broken("docker flag disagrees with the media type", m->media_type);
  if (m->kind == HOIST_MANIFEST_IMAGE) {
    if (!m->config || m->n_manifests)
      broken("an image without a config, or with children", m->media_type);
    check_descriptor(m->config, 0);
  } else if (m->config || m->n_layers) {
    broken("an index with a config or layers", m->media_type);
  }
  if (m->n_layers > HOIST_MANIFEST_MAX_ENTRIES || m->n_manifests > HOIST_MANIFEST_MAX_ENTRIES ||
      m->n_annotations > HOIST_MANIFEST_MAX_ENTRIES || (m->n_layers && !m->layers) ||
      (m->n_manifests && !m->manifests) || (m->n_annotations && !m->annotations))
    broken("counts out of bounds", m->media_type);
  for (i = 0; i < m->n_layers; i++)
    check_descriptor(&m->layers[i], 0);
  for (i = 0; i < m->n_manifests; i++)
    check_descriptor(&m->manifests[i], 1);
  if (m->subject)
    check_descriptor(m->subject, 0);
  if (m->artifact_type && !media_type_shape(m->artifact_type))
    broken("an artifactType of the wrong shape", m->artifact_type);
  for (i = 0; i < m->n_annotations; i++)
    if (!m->annotations[i].key || !m->annotations[i].value)
      broken("an annotation with a NULL key or value", NULL);
  if (hint && hoist_manifest_kind_of(hint) && !names(hint, m->media_type))
    broken("a supported hint is not the media type returned", hint);
}

static void parse_with(const char *buf, size_t size, const char *hint)
{
  struct hoist_manifest *m = NULL, *again = NULL;
  struct hoist_err err = { 0, "" };
  int rc = hoist_manifest_parse(buf, size, hint, &m, &err);
  if (rc != 0) {
    check_failure(rc, m, &err);
  } else {
    if (!m)
      broken("a success without a manifest", NULL);
    check_success(m, hint);
    if (hoist_manifest_parse(buf, size, m->media_type, &again, &err) != 0)
      broken("parsing again with the media type returned fails", err.msg);
    if (again->kind != m->kind || strcmp(again->media_type, m->media_type) != 0 ||
        again->n_layers != m->n_layers || again->n_manifests != m->n_manifests ||
        again->n_annotations != m->n_annotations || !again->subject != !m->subject)
      broken("parsing again with the media type returned gives another manifest", m->media_type);
    hoist_manifest_free(again);
  }
  hoist_manifest_free(m);
  m = NULL;
  if (hoist_manifest_parse(buf, size, hint, &m, NULL) != rc)
    broken("a NULL err changes the status", hint);
  hoist_manifest_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *buf = malloc(size ? size : 1), *hint;
  size_t i;
  if (!buf)
    return 0;
  if (size)
    memcpy(buf, data, size);
  for (i = 0; i < sizeof hints / sizeof hints[0]; i++)
    parse_with(buf, size, hints[i]);
  free(buf);

  /* the input as a Content-Type for a body that is valid whatever the image hint */
  hint = malloc(size + 1);
  if (hint) {
    if (size)
      memcpy(hint, data, size);
    hint[size] = '\0';
    parse_with(valid_body, sizeof valid_body - 1, hint);
    free(hint);
  }
  return 0;
}
