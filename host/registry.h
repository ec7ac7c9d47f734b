/*
** registry: a client for one OCI distribution registry (first cut: sequential).
**
** Auth follows the challenge flow: a request goes out with what is cached for
** its scope; a 401 names the scheme: Basic takes the credentials, Bearer makes
** a token request (GET realm?service=&scope=, with the credentials as Basic
** auth when there are any) whose token is cached per scope; the request is
** then sent once more. Registry error bodies become "CODE: message". Plain
** HTTP is used for loopback registries, TLS (verified unless insecure) otherwise.
** Credentials appear in no message.
** Left for the next step: retries, chunked and mounted uploads, parallel transfers.
*/
#ifndef HOIST_REGISTRY_H
#define HOIST_REGISTRY_H

#include "digest.h"
#include "err.h"

#include <stddef.h>

#define HOIST_EAUTH (-20)   /* authentication failed or was refused */
#define HOIST_EREMOTE (-21) /* the registry answered with an error */

struct hoist_registry_opts {
  const char *username;    /* NULL: anonymous */
  const char *password;
  int insecure;            /* TLS without verification, or plain HTTP off loopback */
};

struct hoist_registry;

/* host is "HOST[:PORT]" (the API host). */
int hoist_registry_new(const char *host, const struct hoist_registry_opts *o,
                       struct hoist_registry **out, struct hoist_err *err);
void hoist_registry_free(struct hoist_registry *r);

/* *exists 1 or 0 (and *size when found). */
int hoist_registry_blob_exists(struct hoist_registry *r, const char *repo, const char *digest,
                               int *exists, unsigned long long *size, struct hoist_err *err);
/* Uploads size bytes of path (monolithic: POST a session, PUT the content with ?digest=). */
int hoist_registry_blob_put_file(struct hoist_registry *r, const char *repo, const char *digest,
                                 const char *path, unsigned long long size, struct hoist_err *err);
/* PUTs a manifest or index under ref (tag or digest) with its media type; digest_out gets the registry's answer. */
int hoist_registry_manifest_put(struct hoist_registry *r, const char *repo, const char *ref,
                                const char *media_type, const char *body, size_t len,
                                char digest_out[HOIST_DIGEST_LEN + 1], struct hoist_err *err);
/* GETs a manifest or index (all four media types accepted); *body is malloc'd. */
int hoist_registry_manifest_get(struct hoist_registry *r, const char *repo, const char *ref,
                                char **body, size_t *len, char *media_type, size_t mt_cap,
                                struct hoist_err *err);
/* Every tag, following Link pages; *tags is an array of malloc'd strings (free each, then it). */
int hoist_registry_tags(struct hoist_registry *r, const char *repo, size_t page_size,
                        char ***tags, size_t *n, struct hoist_err *err);

#endif
