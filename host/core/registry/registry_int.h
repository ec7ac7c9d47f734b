/*
** registry_int: what the files of the registry client share. Not a public API.
**   registry.c  the client's life, error bodies, retries, blob HEAD, manifests
**   regauth.c   credentials, tokens, the challenge flow, origins and realms
**   regget.c    blob downloads (memory and file), bounded and verified
**   regtags.c   tag listings across pages, bounded
**   upload.c    blob uploads (monolithic, chunked, resumed), mounts, parallel pushes
**   pushstream.c  layers uploaded while they are built (chunked uploads of growing files)
**
** Threads: a client is used by one thread at a time, except that
** hoist_registry_push_blobs and a push stream clone it (reg_clone) for their workers. A clone has
** its own HTTP handle and backoff seed and shares the parent's struct
** reg_auth: credentials (read-only after hoist_registry_new) and the token
** cache (behind auth->mu). Clones never outlive the call that made them.
*/
#ifndef HOIST_REGISTRY_INT_H
#define HOIST_REGISTRY_INT_H

#include "http.h"
#include "registry.h"

#include <pthread.h>

#define REG_MAX_TOKENS 16
#define REG_SCOPES_MAX 1024       /* a scope set: "repository:a:pull,push repository:b:pull" */
#define REG_URL_MAX 1024
#define REG_RETRY_ATTEMPTS 6      /* tries of one request (send_retry) */
#define REG_RETRY_BUDGET_MS 120000L
#define REG_RETRY_LOG 32          /* retries remembered for hoist_registry_take_retries */
#define REG_RETRY_LINE 200
/* A blob being written is PATCHed once this much more is on disk (pushstream.c; <= the chunk). */
#define REG_STREAM_STEP (4ull * 1024 * 1024)

struct reg_token {
  char *scopes;   /* the scope set requests ask for it by */
  char *header;   /* "Authorization: Bearer ..." */
  long expires;   /* reg_now_ms() after which it is not sent any more */
};

struct reg_auth {
  pthread_mutex_t mu;        /* guards everything below that is not marked read-only */
  char *basic;               /* read-only: "Authorization: Basic ..." when credentials were given */
  char *identity;            /* read-only: the identity (refresh) token, or NULL */
  int use_basic;             /* the registry asked for Basic */
  char *realm, *service;     /* the last Bearer challenge's: tokens are then fetched before sending */
  struct reg_token tokens[REG_MAX_TOKENS];
  size_t ntokens;
  /* retries, for the caller to log: a count and the latest ones (a ring) */
  unsigned long retries;
  char retry_log[REG_RETRY_LOG][REG_RETRY_LINE];
  size_t retry_next;
};

struct hoist_registry {
  struct hoist_http *http;
  struct hoist_http_opts http_opts;
  char base[300];                  /* scheme://host */
  char origin[300];                /* base as hoist_url_origin writes it: credentials go here only */
  char host[256];
  int insecure;                    /* the user allowed plain http / unverified TLS off loopback */
  struct reg_auth *auth;
  int owns_auth;                   /* 0 in a clone */
  unsigned seed;                   /* jitter */
  unsigned long long chunk_size;   /* blobs above it go in PATCH chunks */
  int parallel;                    /* push_blobs' default */
};

/* The credentials a client holds (regauth.c): NULL when out of memory. */
struct reg_auth *reg_auth_new(const char *user, const char *pass, const char *identity);
void reg_auth_free(struct reg_auth *a);

/* A worker's copy of r: its own HTTP handle, r's auth shared (see above). Free with hoist_registry_free. */
int reg_clone(struct hoist_registry *r, struct hoist_registry **out, struct hoist_err *err);

/*
** Sends rq with the auth its scope set needs (see registry.h), answering one
** 401 challenge. rq's own headers come first (at most 6); the Authorization
** header is added here. 0 when a response came (any status but a final 401).
*/
int reg_send_authed(struct hoist_registry *r, const char *scopes, struct hoist_http_req *rq,
                    struct hoist_http_resp *rs, struct hoist_err *err);
/* reg_send_authed again after a dropped connection or a busy answer (only for requests safe to repeat). */
int reg_send_retry(struct hoist_registry *r, const char *scopes, struct hoist_http_req *rq,
                   struct hoist_http_resp *rs, struct hoist_err *err);
/* "CODE: message" from a registry error body, else the status; HOIST_EAUTH for 401/403. */
int reg_remote_error(const struct hoist_registry *r, const char *what,
                     const struct hoist_http_resp *rs, struct hoist_err *err);
/* The first error's code and message of a registry error body ("" when none); returns code. */
const char *reg_error_first(const struct hoist_http_resp *rs, char *code, size_t ccap, char *msg,
                            size_t mcap);
int reg_retryable_status(long status);
/* Whether the error body of rs lists the error code `code` (e.g. "MANIFEST_BLOB_UNKNOWN"). */
int reg_error_has(const struct hoist_http_resp *rs, const char *code);
/* The wait before try `attempt` (1-based): Retry-After when given (rs may be NULL), else exponential with jitter. */
long reg_backoff_ms(struct hoist_registry *r, const struct hoist_http_resp *rs, int attempt);
/* Retry-After of rs in ms (capped at 30 s), or -1 when it has none. */
long reg_retry_after_ms(const struct hoist_http_resp *rs);
void reg_sleep_ms(long ms);
/* Records a retry: "METHOD URL-path: why; try N in W ms" (shared by clones; never a secret). */
void reg_note_retry(struct hoist_registry *r, const char *method, const char *url, const char *why,
                    int attempt, long wait_ms);
long reg_now_ms(void);
/* "repository:REPO:ACTIONS" into out. */
int reg_scope(char *out, size_t cap, const char *repo, const char *actions);

/* Where a request goes and the scope set its token needs. */
struct reg_target {
  char url[REG_URL_MAX];
  char scope[512];
};
/*
** t->url = r->base + "/v2/" + repo + the printf-style path (e.g. "/blobs/%s"), t->scope =
** "repository:REPO:ACTIONS". HOIST_ERANGE "repository name too long" when either does not fit.
*/
int reg_target(struct hoist_registry *r, struct reg_target *t, const char *repo, const char *actions,
               struct hoist_err *err, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* A request of method to url, every other field zero. */
void reg_request(struct hoist_http_req *rq, const char *method, const char *url);

/*
** A blob still being written to a file (pushstream.c: a layer streamed while it is
** compressed), for upload.c's chunked upload, which asks it before every step.
*/
struct reg_source {
  /*
  ** Returns once the file holds at least `want` bytes or the blob is complete: *have the bytes
  ** in the file, *final 1 when complete (*have is then the blob's size and *digest its digest),
  ** *waited 1 when it had to wait for them. Non-zero (HOIST_ECANCELED: rolled back or stopped;
  ** HOIST_EINTR) ends the upload at once.
  */
  int (*wait)(void *ctx, unsigned long long want, unsigned long long *have, int *final,
              const char **digest, int *waited, struct hoist_err *err);
  /* After each PATCH: the bytes the registry has confirmed (may be NULL). */
  void (*confirmed)(void *ctx, unsigned long long confirmed);
  void *ctx;
};

/*
** The chunked upload of hoist_registry_blob_put_file (POST, PATCH chunks of the client's chunk
** size, PUT ?digest=, resumed from the session's Range by reading path again) of a blob that
** src says is still growing: a chunk is sent once it is whole on disk, the closing PUT once the
** blob is complete.
*/
int reg_put_streamed(struct hoist_registry *r, const char *repo, const char *path,
                     const struct reg_source *src, struct hoist_err *err);

#endif
