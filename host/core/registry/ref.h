/*
** ref: image references for the docker transport, after the grammar of
** github.com/distribution/reference (ParseNormalizedNamed) and skopeo's
** "docker://" spelling.
**
**   [docker://][DOMAIN[:PORT]/]PATH[:TAG][@DIGEST]
**
** DOMAIN is the first '/'-separated component when it is "localhost" or holds
** a '.' or a ':'; otherwise the reference names Docker Hub ("docker.io", API
** host "registry-1.docker.io") and a one-component PATH gets "library/".
** "index.docker.io" is read as "docker.io".
**
** Pure C, no Lua. Every function that can fail returns 0 or a negative
** HOIST_E* code and fills a caller-owned struct hoist_err (which may be NULL)
** with one line: "invalid reference '<input>': <what is wrong>". Non-printable
** bytes of the input are shown as \xHH and long inputs are cut with "...".
**
** Deliberate differences from distribution/reference:
**   - a first component with uppercase letters is not taken as a domain
**     ("Acme/app" is "repository name must be lowercase", not host "Acme");
**   - a port must be 1..65535, and a bracketed IPv6 host must be an address
**     inet_pton accepts;
**   - only the digest algorithms go-digest registers (sha256, sha384, sha512)
**     are accepted, each with its exact length of lowercase hex.
*/
#ifndef HOIST_REF_H
#define HOIST_REF_H

#include "err.h"

#include <stddef.h>

#define HOIST_REF_NAME_MAX 255   /* "registry/repository", as distribution counts it */
#define HOIST_REF_TAG_MAX 128
#define HOIST_REF_INPUT_MAX 1024 /* longer inputs are refused before parsing */

/*
** A parsed reference. It is one allocation: every string points inside it,
** is NUL-terminated and lives until hoist_ref_free. Treat it as read-only.
*/
struct hoist_ref {
  const char *registry;   /* "docker.io", "ghcr.io", "localhost:5000", "[::1]:5000" (port kept) */
  const char *api_host;   /* host[:port] serving /v2/: "registry-1.docker.io" for docker.io,
                             else the same as registry */
  const char *repository; /* "library/alpine", "acme/my-ext" (no registry) */
  const char *tag;        /* "1.2.0", or NULL when the reference has none */
  const char *digest;     /* "sha256:<hex>", or NULL when the reference has none */
  const char *reference;  /* what /v2/<repository>/manifests/ takes: the digest when there is
                             one (a digest wins over a tag), else the tag, else "latest" */
  const char *name;       /* registry "/" repository: "docker.io/library/alpine" */
  const char *canonical;  /* name[":" tag]["@" digest]; parses back to the same fields */
  int loopback;           /* hoist_ref_is_loopback(registry): plain HTTP is used */
};

/*
** Parses s (len bytes; no NUL needed after them, an embedded NUL is invalid).
** On success *out is a new reference (hoist_ref_free). On failure *out is
** NULL, err says why and nothing is allocated: HOIST_EINVAL for a malformed
** reference, HOIST_ERANGE for a name, tag or input beyond its maximum,
** HOIST_ENOMEM.
*/
int hoist_ref_parse(const char *s, size_t len, struct hoist_ref **out, struct hoist_err *err);

/* Frees a reference from hoist_ref_parse; NULL is fine. */
void hoist_ref_free(struct hoist_ref *ref);

/* The canonical form, ref->canonical (owned by ref): "docker.io/library/alpine:3.19". */
const char *hoist_ref_string(const struct hoist_ref *ref);

/*
** 1 when host (NUL-terminated, optionally with ":PORT") is a loopback
** registry: "localhost" (any case), an IPv4 address in 127.0.0.0/8, "::1"
** (also as "[::1]" and "[::1]:PORT") or its IPv4-mapped forms
** ("::ffff:127.x.y.z"). 0 otherwise, including for malformed hosts.
*/
int hoist_ref_is_loopback(const char *host);

#endif
