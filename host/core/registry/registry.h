/*
** registry: a client for one OCI distribution registry.
**
** Auth follows the challenge flow: a request goes out with what is cached for
** its scope set; a 401 names the scheme: Basic takes the credentials, Bearer
** makes a token request whose token is cached per scope set (until its
** expires_in runs out) and the request is sent once more. The token request
** is the OAuth2 POST (grant_type=refresh_token) when an identity token was
** given, falling back to GET when the server answers 404/405, else GET
** realm?service=&scope=&scope= with the credentials as Basic auth when there
** are any. Once the registry's realm is known, a missing or expired token is
** fetched before the request (no body is streamed only to be refused). A 401
** to a request that carried a token (error="insufficient_scope", or a
** challenge naming scopes we did not ask for) fetches one token for the union
** of both scope sets, once. Registry error bodies become "CODE: message".
** Plain HTTP is used for loopback registries, TLS (verified unless insecure)
** otherwise. Credentials and tokens appear in no message, and redirects never
** carry them to another host (libcurl drops Authorization on a host change).
**
** Retries: 408, 429, 5xx and dropped connections are retried with exponential
** backoff, jitter and Retry-After; a blob download resumes with a Range
** request, a chunked upload from the offset the registry confirms, and a
** blob's final PUT is retried only after a HEAD shows the blob is not there.
*/
#ifndef HOIST_REGISTRY_H
#define HOIST_REGISTRY_H

#include "digest.h"
#include "err.h"

#include <stddef.h>


#define HOIST_REGISTRY_CHUNK_DEFAULT (16ull << 20)
#define HOIST_REGISTRY_PARALLEL_DEFAULT 4
#define HOIST_REGISTRY_PARALLEL_MAX 32

struct hoist_registry_opts {
  const char *username;    /* NULL: anonymous */
  const char *password;
  const char *identity_token; /* an OAuth2 refresh token (docker's "identitytoken"), or NULL */
  int insecure;            /* TLS without verification, or plain HTTP off loopback */
  unsigned long long chunk_size; /* blobs larger than this go in PATCH chunks of it (0: 16 MiB) */
  int parallel;            /* blobs pushed at once by push_blobs (0: 4; at most 32) */
  long deadline_ms;        /* the base of each request's deadline (see http.h; 0: 30 s) */
};

struct hoist_registry;

/* host is "HOST[:PORT]" (the API host). */
int hoist_registry_new(const char *host, const struct hoist_registry_opts *o,
                       struct hoist_registry **out, struct hoist_err *err);
void hoist_registry_free(struct hoist_registry *r);

/*
** GET /v2/, answering the challenge with the credentials (Basic) or a token
** for no scope (Bearer). 0 when the registry accepts them (or needs none);
** HOIST_EAUTH "authentication failed for registry 'HOST'" when it refuses.
*/
int hoist_registry_check_auth(struct hoist_registry *r, struct hoist_err *err);

/* *exists 1 or 0 (and *size when found). */
int hoist_registry_blob_exists(struct hoist_registry *r, const char *repo, const char *digest,
                               int *exists, unsigned long long *size, struct hoist_err *err);
/*
** Uploads size bytes of path. Up to the chunk size: monolithic (POST a
** session, PUT the content with ?digest=). Larger: POST, then PATCH chunks
** (Content-Range START-END; the size is raised to the registry's
** OCI-Chunk-Min-Length), each to the latest Location, then PUT ?digest= with
** no body. A failed PATCH resumes where the registry says it has the bytes
** (GET on the session: Range 0-N), a lost session starts over; attempts are
** bounded.
*/
int hoist_registry_blob_put_file(struct hoist_registry *r, const char *repo, const char *digest,
                                 const char *path, unsigned long long size, struct hoist_err *err);

/*
** Mounts digest from from_repo (same registry): *mounted 1 when the registry
** did (201), 0 when it did not (202: the session it opened is cancelled, best
** effort; upload the blob instead). The token asks for push,pull on repo and
** pull on from_repo.
*/
int hoist_registry_blob_mount(struct hoist_registry *r, const char *repo, const char *digest,
                              const char *from_repo, int *mounted, struct hoist_err *err);

/*
** A small blob (a config) in memory: at most max_bytes (0: 4 MiB; more is
** HOIST_ERANGE), verified against digest. *body is malloc'd (NUL-terminated
** after *len bytes). Redirects to storage are followed.
*/
int hoist_registry_blob_get(struct hoist_registry *r, const char *repo, const char *digest,
                            size_t max_bytes, char **body, size_t *len, struct hoist_err *err);

/*
** A blob of `expected` bytes (its descriptor's size) streamed to path: written
** to a temp file beside it while its sha256 is computed, renamed into place
** only when it matches digest; the temp is removed on any failure (path is
** then untouched). A response announcing more than expected is refused before
** its body is read, and one that sends more stops at the first byte too many
** (HOIST_EREMOTE): a registry cannot fill the disk with a blob it describes as
** small. Redirects are followed; a dropped connection resumes with a Range
** request (or starts again when the server ignores it). *size gets the byte
** count.
*/
int hoist_registry_blob_get_file(struct hoist_registry *r, const char *repo, const char *digest,
                                 unsigned long long expected, const char *path,
                                 unsigned long long *size, struct hoist_err *err);
/* PUTs a manifest or index under ref (tag or digest) with its media type; digest_out gets the registry's answer. */
int hoist_registry_manifest_put(struct hoist_registry *r, const char *repo, const char *ref,
                                const char *media_type, const char *body, size_t len,
                                char digest_out[HOIST_DIGEST_LEN + 1], struct hoist_err *err);
/* GETs a manifest or index (all four media types accepted); *body is malloc'd. */
int hoist_registry_manifest_get(struct hoist_registry *r, const char *repo, const char *ref,
                                char **body, size_t *len, char *media_type, size_t mt_cap,
                                struct hoist_err *err);
/*
** HEAD of a manifest or index with all four media types accepted. 404: *exists
** 0 and 0 is returned. Found: *exists 1, digest (Docker-Content-Digest), mt
** (Content-Type; may be NULL) and *size (may be NULL). A registry answering
** 405, or no Docker-Content-Digest, is asked with GET and the body hashed.
*/
int hoist_registry_manifest_head(struct hoist_registry *r, const char *repo, const char *ref,
                                 int *exists, char digest[HOIST_DIGEST_LEN + 1], char *mt,
                                 size_t mt_cap, unsigned long long *size, struct hoist_err *err);

/*
** DELETE of a manifest (ref a digest) or tag (the token asks for the delete
** action). A registry that refuses deletion gives HOIST_EREMOTE "the registry
** does not allow deleting manifests (CODE: ...)" (or "... tags" for a tag).
*/
int hoist_registry_manifest_delete(struct hoist_registry *r, const char *repo, const char *ref,
                                   struct hoist_err *err);

enum hoist_blob_outcome { HOIST_BLOB_PENDING, HOIST_BLOB_EXISTING, HOIST_BLOB_MOUNTED, HOIST_BLOB_UPLOADED };

struct hoist_blob_job {
  const char *digest;
  const char *path;             /* the blob's content */
  unsigned long long size;
  const char *mount_from;       /* NULL, or a repository of the same registry to mount it from */
  enum hoist_blob_outcome outcome; /* set by push_blobs: what happened to this one */
};

struct hoist_push_stats {
  size_t existing;              /* already in repo (HEAD) */
  size_t mounted;
  size_t uploaded;
  unsigned long long uploaded_bytes;
};

/*
** For each job: HEAD (present: skipped), else mount when mount_from names
** another repository (mounted: done), else upload (hoist_registry_blob_put_file).
** Up to parallel jobs at once (0: the client's option; at most 32), each on
** its own connection; credentials and tokens are shared. The first failure
** stops handing out jobs; those in flight finish; that failure is returned.
** *st counts what was done, failure or not.
*/
int hoist_registry_push_blobs(struct hoist_registry *r, const char *repo,
                              struct hoist_blob_job *jobs, size_t n, int parallel,
                              struct hoist_push_stats *st, struct hoist_err *err);

/*
** Called on the caller's thread each time a job is done (index: which one; st: the counts so
** far), and about 4 times a second while bytes move inside blobs (index HOIST_PUSH_TICK; st as
** at the last job). done_bytes: the sizes of the jobs done plus what curl has sent of the jobs
** in flight (its transfer callback); it never goes down. Non-zero stops handing out jobs (those
** in flight finish) and the push fails with HOIST_ECANCELED.
*/
#define HOIST_PUSH_TICK ((size_t)-1)
typedef int (*hoist_push_progress_fn)(void *ud, size_t index, const struct hoist_push_stats *st,
                                      unsigned long long done_bytes);

/* hoist_registry_push_blobs with progress: every transfer runs on a worker thread while this
** thread reports (so the callback may use what only this thread may touch, a Lua state). */
int hoist_registry_push_blobs_progress(struct hoist_registry *r, const char *repo,
                                       struct hoist_blob_job *jobs, size_t n, int parallel,
                                       hoist_push_progress_fn progress, void *ud,
                                       struct hoist_push_stats *st, struct hoist_err *err);

struct hoist_manifest_item {
  const char *ref;              /* tag or digest */
  const char *media_type;
  const char *body;
  size_t len;
};

/*
** PUTs independent manifests at once (the platform manifests of one index), each on its own
** connection, at most the client's `parallel` at a time. Every one is attempted; the first
** failure (in item order) is returned.
*/
int hoist_registry_manifests_put(struct hoist_registry *r, const char *repo,
                                 const struct hoist_manifest_item *items, size_t n,
                                 struct hoist_err *err);

/*
** The retries this client (and the clones of its pushes) made since the last call: *total is
** their count; up to max of the latest are copied into lines (malloc'd, one line each:
** "GET /v2/acme/app/manifests/1.0.0: 503 UNAVAILABLE; try 2 in 180 ms"); the count of lines is
** returned. The record is cleared.
*/
size_t hoist_registry_take_retries(struct hoist_registry *r, char **lines, size_t max,
                                   unsigned long *total);

/* Every tag, following Link pages; *tags is an array of malloc'd strings (free each, then it). */
int hoist_registry_tags(struct hoist_registry *r, const char *repo, size_t page_size,
                        char ***tags, size_t *n, struct hoist_err *err);

#endif
