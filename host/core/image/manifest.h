/*
** manifest: OCI image manifests and indexes, and their Docker v2 schema 2
** counterparts (manifest, manifest list), decoded from the bytes a registry
** or an image layout serves.
**
**   struct hoist_manifest *m;
**   struct hoist_err err;
**   if (hoist_manifest_parse(body, len, content_type, &m, &err))
**     return report(err.msg);     "invalid manifest: 'layers[0].size' must be ..."
**   for (i = 0; i < m->n_layers; i++) fetch(m->layers[i].digest);
**   hoist_manifest_free(m);
**
** Pure C on jansson, no Lua. Every function that can fail returns 0 or a
** negative HOIST_E* code and fills a caller-owned struct hoist_err (which may
** be NULL) with one line: "invalid manifest: <what is wrong>", naming the
** field as a path ('manifests[2].platform.os').
**
** What kind a document is, in order:
**   1. the body's "mediaType", when it has one;
**   2. else the hint (Content-Type, or the referring descriptor's mediaType);
**   3. else its shape: "manifests" is an index, "config" + "layers" an image,
**      and the media type is then the OCI one (OCI made "mediaType" optional
**      in manifests, Docker always writes it).
** A body "mediaType" that differs from a hint is an error. A hint may carry
** parameters ("; charset=utf-8") and is compared without them and without
** case; the generic hints "application/json", "application/octet-stream",
** "text/plain" and "" say nothing about the kind and are ignored, because
** file servers and some proxies send them. A document holding both
** "manifests" and "config"/"layers" is refused whatever its media type
** (the ambiguity of CVE-2021-41190), as containerd does.
**
** What is checked, besides the kind: "schemaVersion" is the integer 2 (schema
** 1 has its own message); duplicate object keys are refused (two parsers must
** not read two different documents from one digest); each descriptor has a
** media type (printable ASCII "type/subtype", no spaces: it ends up in HTTP
** headers), a digest and a size from 0 to 2^53; a platform has string
** "os" and "architecture" and, when present, string "variant" and
** "os.version"; annotations are string to string; "layers", "manifests" and
** each annotation map hold at most HOIST_MANIFEST_MAX_ENTRIES entries; the
** body is at most HOIST_MANIFEST_MAX_BYTES. Unknown fields are ignored, as
** the OCI spec asks. Fields hoist does not use ("urls", "data",
** "os.features") are not returned.
**
** Digests follow the OCI grammar: ALGORITHM ":" ENCODED with ALGORITHM
** [a-z0-9]+ joined by '+', '.', '_' or '-', and ENCODED [A-Za-z0-9=_-]+. The
** two algorithms the OCI spec registers are held to their exact form
** (sha256: 64 and sha512: 128 lowercase hex digits); any other algorithm is
** accepted, as the spec allows, and reported as HOIST_DIGEST_OTHER so the
** caller can refuse to fetch what it cannot verify.
*/
#ifndef HOIST_MANIFEST_H
#define HOIST_MANIFEST_H

#include "err.h"

#include <stddef.h>

#define HOIST_MANIFEST_MAX_BYTES (4u << 20)  /* distribution's own limit on a manifest body */
#define HOIST_MANIFEST_MAX_ENTRIES 10000     /* layers, manifests, annotations of one map */
#define HOIST_MANIFEST_MAX_SIZE 9007199254740992LL  /* 2^53: exact as a double, as in JS */

#define HOIST_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define HOIST_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define HOIST_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define HOIST_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

enum hoist_manifest_kind {
  HOIST_MANIFEST_IMAGE = 1,  /* config + layers */
  HOIST_MANIFEST_INDEX = 2   /* manifests (children with platforms) */
};

enum hoist_digest_alg {
  HOIST_DIGEST_SHA256 = 1,
  HOIST_DIGEST_SHA512 = 2,
  HOIST_DIGEST_OTHER = 3     /* well-formed, but not an algorithm hoist verifies */
};

struct hoist_annotation {
  const char *key;
  const char *value;
};

struct hoist_platform {
  const char *os;            /* "linux" */
  const char *architecture;  /* "amd64", "arm64" */
  const char *variant;       /* "v8", or NULL */
  const char *os_version;    /* "os.version", or NULL */
};

struct hoist_descriptor {
  const char *media_type;
  const char *digest;
  long long size;                       /* 0 .. HOIST_MANIFEST_MAX_SIZE */
  enum hoist_digest_alg digest_alg;
  const char *artifact_type;            /* or NULL */
  const struct hoist_platform *platform; /* index children only; NULL when absent */
  const struct hoist_annotation *annotations;
  size_t n_annotations;
};

/*
** A decoded manifest or index. Everything it points to lives until
** hoist_manifest_free; treat it as read-only. Strings are NUL-terminated and
** hold no NUL (a "\u0000" in the body is refused).
*/
struct hoist_manifest {
  enum hoist_manifest_kind kind;
  const char *media_type;   /* one of the four HOIST_MT_* (see the rules above) */
  int docker;               /* 1 for the Docker types, 0 for OCI */
  const char *artifact_type;              /* or NULL */
  const struct hoist_descriptor *config;  /* image: never NULL; index: NULL */
  const struct hoist_descriptor *layers;  /* image only; may be empty */
  size_t n_layers;
  const struct hoist_descriptor *manifests;  /* index only; may be empty */
  size_t n_manifests;
  const struct hoist_descriptor *subject;    /* or NULL */
  const struct hoist_annotation *annotations;
  size_t n_annotations;
  void *priv;               /* the parsed tree the strings live in */
};

/*
** Decodes bytes[0..len) (no NUL needed after them). media_type is the hint
** described above, NUL-terminated, or NULL. On success *out is a new
** manifest (hoist_manifest_free). On failure *out is NULL, err says why and
** nothing stays allocated: HOIST_EINVAL for a malformed or unsupported
** document, HOIST_ERANGE for a body, count or size beyond the bounds above,
** HOIST_ENOMEM.
*/
int hoist_manifest_parse(const char *bytes, size_t len, const char *media_type,
                         struct hoist_manifest **out, struct hoist_err *err);

/* Frees a manifest from hoist_manifest_parse; NULL is fine. */
void hoist_manifest_free(struct hoist_manifest *m);

/*
** The kind a media type names, after the hint rules above (parameters and
** case ignored): HOIST_MANIFEST_IMAGE or _INDEX for the four supported
** types, 0 for anything else. NULL gives 0.
*/
int hoist_manifest_kind_of(const char *media_type);

#endif
