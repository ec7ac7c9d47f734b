/*
** pushstream: layers pushed to a registry while they are built. See pushstream.h.
**
** One mutex guards the stream and every layer record; two condition variables
** (on the monotonic clock) carry the wake-ups: `work` for the upload threads
** (a layer queued, a chunk's worth written, a layer closed, stop) and `ended`
** for hoist_push_stream_wait (an upload ended). The producer side only ever
** takes the mutex for a few instructions: it never waits on an upload.
*/
#define _GNU_SOURCE 1  /* mkstemp */

#include "pushstream.h"

#include "condwait.h"
#include "interrupt.h"
#include "registry_int.h"
#include "strbuf.h"

#include <jansson.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How long a waiting upload sleeps at most before it looks at the interrupt flag again. */
#define POLL_MS 100

struct layer {
  size_t index;                       /* in its hoist_push_stream_layers call */
  char *tmp;                          /* the file written and read back; NULL before open */
  int tmp_gone;                       /* unlinked (by the last of producer and upload) */
  int fd;                             /* the producer's; -1 once closed */
  unsigned long long written;         /* bytes in the file (the size once built) */
  unsigned long long want;            /* an upload sleeps until written >= want (0: none does) */
  enum hoist_push_layer_state state;
  char digest[HOIST_DIGEST_LEN + 1];
  int done, rc;
  enum hoist_blob_outcome outcome;
  unsigned long long confirmed;
  unsigned long patches;
  long open_ms, built_ms, first_patch_ms, done_ms;
  struct hoist_push_stream *s;
};

struct worker {
  struct hoist_push_stream *s;
  struct hoist_registry *r;           /* a clone: its own connection */
  pthread_t th;
};

struct hoist_push_stream {
  struct hoist_registry *r;           /* the caller's: cloned, never used by a thread */
  char *repo;
  int parallel;
  pthread_mutex_t mu;
  pthread_cond_t work, ended;
  struct layer **layers;
  size_t n, cap;
  size_t *queue;                      /* layer numbers in the order they were opened */
  size_t queued, next, ended_count;   /* next: the next one an upload thread takes */
  size_t building;                    /* opened and not closed */
  struct worker workers[HOIST_REGISTRY_PARALLEL_MAX];
  size_t nworkers;
  int stop;
  int rc;                             /* the first upload failure */
  struct hoist_err err;
  size_t fail_index;
  char fail_digest[HOIST_DIGEST_LEN + 1];
  unsigned long patches, patches_while_building;
  struct timespec t0;
  /* the current call (hoist_push_stream_out): what its hoist_layer_out writes */
  struct call {
    struct hoist_push_stream *s;
    char *blob_dir;
    size_t base;                      /* layer number of the call's layer 0 */
  } call;
};

static long since_ms(const struct hoist_push_stream *s)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)((ts.tv_sec - s->t0.tv_sec) * 1000L + (ts.tv_nsec - s->t0.tv_nsec) / 1000000L);
}

int hoist_push_stream_new(struct hoist_registry *r, const char *repo, int parallel,
                          struct hoist_push_stream **out, struct hoist_err *err)
{
  struct hoist_push_stream *s;
  *out = NULL;
  s = calloc(1, sizeof *s);
  if (!s || !(s->repo = strdup(repo))) {
    free(s);
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  s->r = r;
  s->parallel = parallel > 0 ? parallel : r->parallel > 0 ? r->parallel : 4;
  if (s->parallel > HOIST_REGISTRY_PARALLEL_MAX)
    s->parallel = HOIST_REGISTRY_PARALLEL_MAX;
  clock_gettime(CLOCK_MONOTONIC, &s->t0);
  if (hoist_cond_init(&s->work) != 0) {
    free(s->repo);
    free(s);
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  if (hoist_cond_init(&s->ended) != 0) {
    pthread_cond_destroy(&s->work);
    free(s->repo);
    free(s);
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  pthread_mutex_init(&s->mu, NULL);
  *out = s;
  return HOIST_OK;
}

/* ---------------------------------------------------------------- the upload side */

/* Under the lock: the producer and the upload are both done with the file. */
static void drop_tmp(struct layer *L)
{
  if (L->tmp && !L->tmp_gone && L->state != HOIST_PUSH_BUILDING && L->done) {
    unlink(L->tmp);
    L->tmp_gone = 1;
  }
}

/* reg_source.wait: until a chunk's worth is in the file, or the layer is finished. */
static int src_wait(void *ctx, unsigned long long want, unsigned long long *have, int *final,
                    const char **digest, int *waited, struct hoist_err *err)
{
  struct layer *L = ctx;
  struct hoist_push_stream *s = L->s;
  int rc = HOIST_OK;
  *final = 0;
  *waited = 0;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    if (s->rc || s->stop) {
      rc = hoist_err_set(err, HOIST_ECANCELED, "the push was stopped");
      break;
    }
    if (hoist_interrupted()) {
      rc = hoist_err_set(err, HOIST_EINTR, "interrupted");
      break;
    }
    if (L->state == HOIST_PUSH_ROLLED_BACK) {
      rc = hoist_err_set(err, HOIST_ECANCELED, "the layer was not built");
      break;
    }
    if (L->state == HOIST_PUSH_BUILT) {
      *have = L->written;
      *final = 1;
      *digest = L->digest;
      break;
    }
    if (L->written >= want) {
      *have = L->written;
      break;
    }
    L->want = want;
    *waited = 1;
    hoist_cond_wait_ms(&s->work, &s->mu, POLL_MS);
  }
  L->want = 0;
  pthread_mutex_unlock(&s->mu);
  return rc;
}

/* reg_source.confirmed: after each PATCH the registry accepted. */
static void src_confirmed(void *ctx, unsigned long long confirmed)
{
  struct layer *L = ctx;
  struct hoist_push_stream *s = L->s;
  pthread_mutex_lock(&s->mu);
  L->confirmed = confirmed;
  if (L->patches++ == 0)
    L->first_patch_ms = since_ms(s);
  s->patches++;
  if (s->building > 0)
    s->patches_while_building++;
  pthread_mutex_unlock(&s->mu);
}

/* One layer's upload, on an upload thread with its clone r. */
static int upload(struct hoist_registry *r, struct layer *L, enum hoist_blob_outcome *outcome,
                  struct hoist_err *err)
{
  struct hoist_push_stream *s = L->s;
  struct reg_source src;
  enum hoist_push_layer_state state;
  unsigned long long size;
  char digest[HOIST_DIGEST_LEN + 1];
  int stopped, rc;

  pthread_mutex_lock(&s->mu);
  state = L->state;
  size = L->written;
  memcpy(digest, L->digest, sizeof digest);
  stopped = s->rc || s->stop;
  pthread_mutex_unlock(&s->mu);
  if (stopped || state == HOIST_PUSH_ROLLED_BACK)
    return hoist_err_set(err, HOIST_ECANCELED, "the push was stopped");
  if (state == HOIST_PUSH_BUILT) {
    /* built before an upload thread was free: the registry may have it already */
    int exists = 0;
    if ((rc = hoist_registry_blob_exists(r, s->repo, digest, &exists, NULL, err)) != HOIST_OK)
      return rc;
    if (exists) {
      *outcome = HOIST_BLOB_EXISTING;
      return HOIST_OK;
    }
    if (size <= r->chunk_size) {
      rc = hoist_registry_blob_put_file(r, s->repo, digest, L->tmp, size, err);
      if (!rc)
        *outcome = HOIST_BLOB_UPLOADED;
      return rc;
    }
  }
  src.wait = src_wait;
  src.confirmed = src_confirmed;
  src.ctx = L;
  rc = reg_put_streamed(r, s->repo, L->tmp, &src, err);
  if (!rc)
    *outcome = HOIST_BLOB_UPLOADED;
  return rc;
}

/* Under the lock: L's upload ended with rc. */
static void upload_ended(struct hoist_push_stream *s, struct layer *L, int rc,
                         enum hoist_blob_outcome outcome, const struct hoist_err *err)
{
  L->done = 1;
  L->rc = rc;
  L->done_ms = since_ms(s);
  L->outcome = rc ? HOIST_BLOB_PENDING : outcome;
  if (!rc)
    L->confirmed = L->written;
  s->ended_count++;
  /* a layer rolled back, or an upload stopped because another failed, is no failure of its own */
  if (rc && !(rc == HOIST_ECANCELED && (L->state == HOIST_PUSH_ROLLED_BACK || s->rc || s->stop)) &&
      !s->rc) {
    s->rc = rc;
    s->fail_index = L->index;
    if (L->state == HOIST_PUSH_BUILT) {
      memcpy(s->fail_digest, L->digest, sizeof s->fail_digest);
      hoist_err_set(&s->err, rc, "upload of %.19s failed: %s", L->digest, err->msg);
    } else {
      s->fail_digest[0] = '\0';
      hoist_err_set(&s->err, rc, "upload failed: %s", err->msg);
    }
  }
  drop_tmp(L);
  pthread_cond_broadcast(&s->ended);
}

static void *uploader(void *arg)
{
  struct worker *w = arg;
  struct hoist_push_stream *s = w->s;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    struct layer *L;
    struct hoist_err err;
    enum hoist_blob_outcome outcome = HOIST_BLOB_PENDING;
    int rc;
    while (!s->stop && s->next >= s->queued)
      pthread_cond_wait(&s->work, &s->mu);
    if (s->stop)
      break;
    L = s->layers[s->queue[s->next++]];
    pthread_mutex_unlock(&s->mu);
    memset(&err, 0, sizeof err);
    rc = upload(w->r, L, &outcome, &err);
    pthread_mutex_lock(&s->mu);
    upload_ended(s, L, rc, outcome, &err);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

/* ---------------------------------------------------------------- the producer side */


/* Under the lock: the first upload failure into err (for a producer), or 0. */
static int failure_locked(struct hoist_push_stream *s, struct hoist_err *err)
{
  if (!s->rc)
    return HOIST_OK;
  if (err)
    *err = s->err;
  return s->rc;
}

static int out_open(void *ctx, size_t i, struct hoist_err *err)
{
  struct call *c = ctx;
  struct hoist_push_stream *s = c->s;
  struct layer *L = s->layers[c->base + i];
  struct strbuf tmp;
  int fd, rc;
  pthread_mutex_lock(&s->mu);
  rc = failure_locked(s, err);
  pthread_mutex_unlock(&s->mu);
  if (rc)
    return rc;
  strbuf_init(&tmp, PATH_MAX);
  if (strbuf_addf(&tmp, "%s/.tmp-layer-XXXXXX", c->blob_dir))
    return hoist_err_set(err, HOIST_ERANGE, "blob folder path too long");
  fd = mkstemp(tmp.buf);
  if (fd < 0) {
    rc = hoist_err_set(err, HOIST_EIO, "cannot create a blob in '%s': %s", c->blob_dir,
                       strerror(errno));
    strbuf_release(&tmp);
    return rc;
  }
  /* mkstemp makes 0600; blobs are readable like every other file of the layout */
  fchmod(fd, 0644);
  pthread_mutex_lock(&s->mu);
  L->tmp = strbuf_detach(&tmp, NULL);
  L->fd = fd;
  L->state = HOIST_PUSH_BUILDING;
  L->open_ms = since_ms(s);
  s->building++;
  s->queue[s->queued++] = c->base + i;
  pthread_cond_broadcast(&s->work);
  pthread_mutex_unlock(&s->mu);
  return HOIST_OK;
}

static int out_write(void *ctx, size_t i, const void *buf, size_t n, struct hoist_err *err)
{
  struct call *c = ctx;
  struct hoist_push_stream *s = c->s;
  struct layer *L = s->layers[c->base + i];
  const char *p = buf;
  size_t left = n;
  int rc;
  if (hoist_interrupted())
    return hoist_err_set(err, HOIST_EINTR, "interrupted");
  /* write(2), not stdio: what an upload thread reads back with pread must be in the file */
  while (left > 0) {
    ssize_t w = write(L->fd, p, left);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return hoist_err_set(err, HOIST_EIO, "cannot write the layer blob: %s",
                           w < 0 ? strerror(errno) : "no space written");
    p += w;
    left -= (size_t)w;
  }
  pthread_mutex_lock(&s->mu);
  L->written += n;
  if (L->want && L->written >= L->want)
    pthread_cond_broadcast(&s->work);
  rc = failure_locked(s, err);
  pthread_mutex_unlock(&s->mu);
  return rc;
}

static int out_close(void *ctx, size_t i, const struct hoist_layer_result *res,
                     struct hoist_err *err)
{
  struct call *c = ctx;
  struct hoist_push_stream *s = c->s;
  struct layer *L = s->layers[c->base + i];
  struct strbuf final;
  int rc = HOIST_OK;
  /* on disk before its name appears, as a layout's blobs (layer.c) */
  if (res && fsync(L->fd) != 0)
    rc = hoist_err_set(err, HOIST_EIO, "cannot write a blob in '%s': %s", c->blob_dir,
                       strerror(errno));
  close(L->fd);
  L->fd = -1;
  strbuf_init(&final, PATH_MAX);
  if (res && !rc && strbuf_addf(&final, "%s/%s", c->blob_dir, res->digest + 7))
    rc = hoist_err_set(err, HOIST_ERANGE, "blob folder path too long");
  /* a link, not a rename: an upload may still read the file by its temporary name */
  if (res && !rc && link(L->tmp, final.buf) != 0 && errno != EEXIST)
    rc = hoist_err_set(err, HOIST_EIO, "cannot store blob '%s': %s", final.buf, strerror(errno));
  strbuf_release(&final);
  pthread_mutex_lock(&s->mu);
  if (res && !rc)
    rc = failure_locked(s, err);  /* built, but an upload failed: the build fails with it */
  if (res && !rc) {
    memcpy(L->digest, res->digest, sizeof L->digest);
    L->written = res->size;
    L->state = HOIST_PUSH_BUILT;
  } else {
    L->state = HOIST_PUSH_ROLLED_BACK;
  }
  L->built_ms = since_ms(s);
  s->building--;
  drop_tmp(L);
  pthread_cond_broadcast(&s->work);
  pthread_mutex_unlock(&s->mu);
  return rc;
}

/* Starts upload threads up to want (each with a clone); returns how many run. */
static size_t start_workers(struct hoist_push_stream *s, size_t want)
{
  if (want > (size_t)s->parallel)
    want = (size_t)s->parallel;
  /* seeds jansson's hash function here, so upload threads never race to do it */
  json_object_seed(0);
  while (s->nworkers < want) {
    struct worker *w = &s->workers[s->nworkers];
    w->s = s;
    if (reg_clone(s->r, &w->r, NULL) != HOIST_OK)
      break;
    if (pthread_create(&w->th, NULL, uploader, w) != 0) {
      hoist_registry_free(w->r);
      break;
    }
    s->nworkers++;
  }
  return s->nworkers;
}

int hoist_push_stream_out(struct hoist_push_stream *s, size_t n, const char *blob_dir,
                          struct hoist_layer_out *out, struct hoist_err *err)
{
  size_t i, base;
  char *dir = strdup(blob_dir);
  int rc = HOIST_OK;

  if (!dir)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  pthread_mutex_lock(&s->mu);
  base = s->n;
  if (s->n + n > s->cap) {
    size_t cap = s->n + n;
    struct layer **nl = realloc(s->layers, cap * sizeof *nl);
    size_t *nq = nl ? realloc(s->queue, cap * sizeof *nq) : NULL;
    if (nl)
      s->layers = nl;
    if (nq)
      s->queue = nq;
    if (nl && nq)
      s->cap = cap;
    else
      rc = hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  for (i = 0; i < n && !rc; i++) {
    struct layer *L = calloc(1, sizeof *L);
    if (!L) {
      rc = hoist_err_set(err, HOIST_ENOMEM, "out of memory");
      break;
    }
    L->s = s;
    L->index = i;
    L->fd = -1;
    L->state = HOIST_PUSH_WAITING;
    L->open_ms = L->built_ms = L->first_patch_ms = L->done_ms = -1;
    s->layers[s->n++] = L;
  }
  pthread_mutex_unlock(&s->mu);
  if (!rc && start_workers(s, s->n) == 0)
    rc = hoist_err_set(err, HOIST_ENOMEM, "cannot start an upload thread");
  if (rc) {
    free(dir);
    return rc;
  }
  free(s->call.blob_dir);
  s->call.s = s;
  s->call.blob_dir = dir;
  s->call.base = base;
  out->open = out_open;
  out->write = out_write;
  out->close = out_close;
  out->ctx = &s->call;
  return HOIST_OK;
}

int hoist_push_stream_layers(struct hoist_push_stream *s, struct hoist_layer_plan *const *plans,
                             size_t n, const char *blob_dir, int nthreads,
                             struct hoist_layer_result *res, struct hoist_layer_files *files,
                             _Atomic unsigned long long *read_bytes, int *rcs,
                             struct hoist_err *errs)
{
  struct hoist_layer_out out;
  struct hoist_err err;
  size_t i, base = s->n;
  int rc;

  if (n == 0)
    return HOIST_OK;
  if ((rc = hoist_push_stream_out(s, n, blob_dir, &out, &err)) != HOIST_OK) {
    for (i = 0; i < n; i++) {
      rcs[i] = rc;
      errs[i] = err;
      memset(&res[i], 0, sizeof res[i]);
      if (files)
        memset(&files[i], 0, sizeof files[i]);
    }
    return rc;
  }
  rc = hoist_layer_stream_all_watch(plans, n, &out, nthreads, res, files, read_bytes, rcs, errs);
  pthread_mutex_lock(&s->mu);
  /* a layer whose open failed was never started */
  for (i = 0; i < n; i++)
    if (s->layers[base + i]->state == HOIST_PUSH_WAITING)
      s->layers[base + i]->state = HOIST_PUSH_ROLLED_BACK;
  if (s->rc)
    rc = s->rc;
  pthread_mutex_unlock(&s->mu);
  return rc;
}

/* ---------------------------------------------------------------- waiting, stats, the end */

int hoist_push_stream_wait(struct hoist_push_stream *s, long timeout_ms, struct hoist_err *err)
{
  long start = since_ms(s);
  int rc;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    long left;
    if ((rc = failure_locked(s, err)) != HOIST_OK)
      break;
    if (s->ended_count == s->queued && s->building == 0) {
      rc = HOIST_OK;
      break;
    }
    if (hoist_interrupted()) {
      rc = hoist_err_set(err, HOIST_EINTR, "interrupted");
      break;
    }
    left = timeout_ms < 0 ? POLL_MS : timeout_ms - (since_ms(s) - start);
    if (left <= 0) {
      rc = 1;
      break;
    }
    hoist_cond_wait_ms(&s->ended, &s->mu, left < POLL_MS ? left : POLL_MS);
  }
  pthread_mutex_unlock(&s->mu);
  return rc;
}

int hoist_push_stream_failure(struct hoist_push_stream *s, struct hoist_err *err, size_t *index,
                              char digest[HOIST_DIGEST_LEN + 1])
{
  int rc;
  pthread_mutex_lock(&s->mu);
  rc = failure_locked(s, err);
  if (rc && index)
    *index = s->fail_index;
  if (rc && digest)
    memcpy(digest, s->fail_digest, HOIST_DIGEST_LEN + 1);
  pthread_mutex_unlock(&s->mu);
  return rc;
}

void hoist_push_stream_stats(struct hoist_push_stream *s, struct hoist_push_stream_stats *st,
                             struct hoist_push_layer_stats *layers, size_t cap)
{
  size_t i;
  memset(st, 0, sizeof *st);
  pthread_mutex_lock(&s->mu);
  st->layers = s->n;
  st->building = s->building;
  st->patches = s->patches;
  st->patches_while_building = s->patches_while_building;
  st->failed = s->rc != 0;
  for (i = 0; i < s->n; i++) {
    const struct layer *L = s->layers[i];
    st->written_bytes += L->written;
    st->confirmed_bytes += L->confirmed;
    if (L->state == HOIST_PUSH_BUILT)
      st->built_bytes += L->written;
    if (L->done) {
      st->done++;
      if (L->outcome == HOIST_BLOB_UPLOADED) {
        st->uploaded++;
        st->uploaded_bytes += L->written;
      } else if (L->outcome == HOIST_BLOB_EXISTING) {
        st->existing++;
      }
    }
    if (layers && i < cap) {
      struct hoist_push_layer_stats *o = &layers[i];
      o->index = L->index;
      o->state = L->state;
      memcpy(o->digest, L->digest, sizeof o->digest);
      o->written = L->written;
      o->confirmed = L->confirmed;
      o->patches = L->patches;
      o->done = L->done;
      o->rc = L->rc;
      o->outcome = L->outcome;
      o->open_ms = L->open_ms;
      o->built_ms = L->built_ms;
      o->first_patch_ms = L->first_patch_ms;
      o->done_ms = L->done_ms;
    }
  }
  pthread_mutex_unlock(&s->mu);
}

void hoist_push_stream_free(struct hoist_push_stream *s)
{
  size_t i;
  if (!s)
    return;
  pthread_mutex_lock(&s->mu);
  s->stop = 1;
  pthread_cond_broadcast(&s->work);
  pthread_mutex_unlock(&s->mu);
  for (i = 0; i < s->nworkers; i++) {
    pthread_join(s->workers[i].th, NULL);
    hoist_registry_free(s->workers[i].r);
  }
  for (i = 0; i < s->n; i++) {
    struct layer *L = s->layers[i];
    if (L->fd >= 0)
      close(L->fd);
    if (L->tmp && !L->tmp_gone)
      unlink(L->tmp);
    free(L->tmp);
    free(L);
  }
  free(s->layers);
  free(s->queue);
  free(s->call.blob_dir);
  pthread_cond_destroy(&s->work);
  pthread_cond_destroy(&s->ended);
  pthread_mutex_destroy(&s->mu);
  free(s->repo);
  free(s);
}
