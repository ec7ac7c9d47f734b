/*
** test_pgzip: the worker pool and the parallel gzip stream (host/core/common/pool.c,
** host/core/image/pgzip.c) on generated data.
**
**   test_pgzip [CASES_DIR]   (the argument is accepted and ignored)
**
** Every stream is decompressed again with zlib (as ONE gzip member that ends
** exactly at the end of the bytes) and compared with its input; the bytes
** must be the same whatever the pool size, the budget and the sizes of the
** writes. gzip(1) and python3's gzip module read streams written to files,
** and the size on a realistic mix of text and binary is compared with
** `gzip -6`. Exits 77 (skipped) when gzip or python3 is missing; prints each
** failure as test_pgzip.c:LINE, then "N passed, M failed".
*/
#include "digest.h"
#include "err.h"
#include "exec.h"
#include "fsutil.h"
#include "pgzip.h"
#include "pool.h"

#include <zlib.h>

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int n_passed, n_failed, case_failed;

#define CHECK(cond) check(__LINE__, (cond), #cond)
#define CHECK_OK(rc, err) check_ok(__LINE__, (rc), (err), #rc)

static void check(int line, int ok, const char *what)
{
  if (ok)
    return;
  case_failed++;
  printf("test_pgzip.c:%d: check failed: %s\n", line, what);
}

static void check_ok(int line, int rc, const struct hoist_err *err, const char *what)
{
  if (rc == HOIST_OK)
    return;
  case_failed++;
  printf("test_pgzip.c:%d: %s returned %d: %s\n", line, what, rc, err ? err->msg : "");
}

static void done(const char *name)
{
  if (case_failed) {
    n_failed++;
    printf("FAIL %s\n", name);
  } else {
    n_passed++;
  }
  case_failed = 0;
}

static char g_tmp[PATH_MAX];

/* ------------------------------------------------------------ data */

static unsigned long long g_rng;

static unsigned long long rnd(void)
{
  g_rng ^= g_rng >> 12;
  g_rng ^= g_rng << 25;
  g_rng ^= g_rng >> 27;
  return g_rng * 2685821657736338717ULL;
}

/*
** Like shared/bench/make_fixture.py: words of a fixed vocabulary (UI code), and
** binaries half incompressible, half a short repeated pattern, in parts of 20000 to
** max_part bytes. Deterministic. Below 262144, no block is all noise.
*/
static unsigned char *make_mix(size_t len, unsigned long long seed, size_t max_part)
{
  static char words[512][10];
  unsigned char *d = malloc(len ? len : 1);
  size_t i = 0, w;
  g_rng = seed;
  for (w = 0; w < 512; w++) {
    size_t k, n = 2 + rnd() % 8;
    for (k = 0; k < n; k++)
      words[w][k] = (char)('a' + rnd() % 26);
    words[w][n] = '\0';
  }
  while (d && i < len) {
    size_t part = (size_t)(20000 + rnd() % (max_part - 20000)), k;
    if (part > len - i)
      part = len - i;
    if (rnd() % 3) {  /* text */
      for (k = 0; k < part;) {
        const char *word = words[rnd() % 512];
        while (*word && k < part)
          d[i + k++] = (unsigned char)*word++;
        if (k < part)
          d[i + k++] = rnd() % 12 ? ' ' : '\n';
      }
    } else {  /* binary */
      static const unsigned char fill[3] = { 0x00, 0x90, 0xff };
      for (k = 0; k < part / 2; k++)
        d[i + k] = (unsigned char)rnd();
      for (; k < part; k++)
        d[i + k] = fill[(k / 64 + i) % 3];
    }
    i += part;
  }
  return d;
}

/* ------------------------------------------------------------ streams */

struct buf {
  unsigned char *p;
  size_t n, cap;
  size_t fail_after;  /* emit fails once this many bytes went out (0: never) */
};

static int buf_emit(void *ctx, const void *data, size_t n, struct hoist_err *err)
{
  struct buf *b = ctx;
  if (b->fail_after && b->n + n >= b->fail_after)
    return hoist_err_set(err, HOIST_EIO, "the test's output refuses bytes");
  if (b->n + n > b->cap) {
    size_t cap = (b->n + n) * 2;
    unsigned char *np = realloc(b->p, cap);
    if (!np)
      return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->n, data, n);
  b->n += n;
  return HOIST_OK;
}

/*
** Compresses data in writes of `chunk` bytes (0: one write) on pool; out gets
** the stream. Returns the first failing call's code.
*/
static int pgz(struct hoist_pool *pool, struct hoist_pgzip_budget *budget, int level,
                    const unsigned char *data, size_t len, size_t chunk, struct buf *out,
                    struct hoist_err *err)
{
  struct hoist_pgzip *z;
  size_t at = 0;
  int rc = hoist_pgzip_new(pool, budget, level, buf_emit, out, &z, err);
  if (rc)
    return rc;
  while (!rc && at < len) {
    size_t n = chunk && chunk < len - at ? chunk : len - at;
    rc = hoist_pgzip_write(z, data + at, n, err);
    at += n;
  }
  if (!rc)
    rc = hoist_pgzip_finish(z, err);
  if (!rc) {
    CHECK(hoist_pgzip_total_in(z) == len);
    CHECK(hoist_pgzip_total_out(z) == out->n);
  }
  hoist_pgzip_free(z);
  return rc;
}

/*
** 1 when gz is one gzip member, ending exactly at its last byte, whose content
** is data; also checks the fixed header.
*/
static int gunzip_is(const struct buf *gz, const unsigned char *data, size_t len)
{
  z_stream s;
  unsigned char *out = malloc(len + 1);
  int zr, ok;
  if (!out || gz->n < 18)
    return free(out), 0;
  /* 1f 8b, deflate, no flags, MTIME 0, OS 3 */
  if (memcmp(gz->p, "\x1f\x8b\x08\x00\x00\x00\x00\x00", 8) != 0 || gz->p[9] != 3)
    return free(out), 0;
  memset(&s, 0, sizeof s);
  if (inflateInit2(&s, 15 + 16) != Z_OK)
    return free(out), 0;
  s.next_in = gz->p;
  s.avail_in = (uInt)gz->n;
  s.next_out = out;
  s.avail_out = (uInt)(len + 1);
  zr = inflate(&s, Z_FINISH);
  ok = zr == Z_STREAM_END && s.avail_in == 0 && s.total_out == len &&
       (len == 0 || memcmp(out, data, len) == 0);
  inflateEnd(&s);
  free(out);
  return ok;
}

/* header + raw deflate of data with one Z_FINISH + trailer: what one block must give. */
static int one_shot(int level, const unsigned char *data, size_t len, struct buf *out)
{
  z_stream s;
  unsigned long crc = crc32(crc32(0L, Z_NULL, 0), data, (uInt)len);
  size_t cap = deflateBound(NULL, (uLong)len) + 64;
  unsigned char *p = malloc(cap + 18);
  int i;
  if (!p)
    return -1;
  memcpy(p, "\x1f\x8b\x08\x00\x00\x00\x00\x00", 8);
  p[8] = level == 9 ? 2 : level < 2 ? 4 : 0;
  p[9] = 3;
  memset(&s, 0, sizeof s);
  if (deflateInit2(&s, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    free(p);
    return -1;
  }
  s.next_in = (Bytef *)(uintptr_t)data;
  s.avail_in = (uInt)len;
  s.next_out = p + 10;
  s.avail_out = (uInt)cap;
  if (deflate(&s, Z_FINISH) != Z_STREAM_END) {
    deflateEnd(&s);
    free(p);
    return -1;
  }
  out->n = 10 + s.total_out;
  deflateEnd(&s);
  for (i = 0; i < 4; i++) {
    p[out->n + (size_t)i] = (unsigned char)(crc >> (8 * i));
    p[out->n + 4 + (size_t)i] = (unsigned char)(len >> (8 * i));
  }
  out->n += 8;
  out->p = p;
  return 0;
}

static int same(const struct buf *a, const struct buf *b)
{
  return a->n == b->n && (a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
}

/* ------------------------------------------------------------ the pool */

struct counter {
  struct hoist_task task;
  int *slot;
  int value;
  pthread_mutex_t *lock;
  int *order;      /* where the task writes its rank of start */
  int *next_rank;
};

static void counter_run(struct hoist_task *t)
{
  struct counter *c = (struct counter *)t;
  pthread_mutex_lock(c->lock);
  *c->order = (*c->next_rank)++;
  pthread_mutex_unlock(c->lock);
  *c->slot = c->value;
}

static void test_pool(void)
{
  static const int workers[] = { 0, 1, 4 };
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  struct hoist_pool *pool;
  struct hoist_err err;
  size_t w;
  for (w = 0; w < sizeof workers / sizeof workers[0]; w++) {
    struct counter c[40];
    int slots[40], order[40], rank = 0, i;
    CHECK_OK(hoist_pool_new(workers[w], &pool, &err), &err);
    if (!pool)
      continue;
    CHECK(hoist_pool_workers(pool) == workers[w]);
    for (i = 0; i < 40; i++) {
      memset(&c[i], 0, sizeof c[i]);
      c[i].task.run = counter_run;
      c[i].task.priority = i % 4;  /* 4 priorities, 10 tasks each */
      c[i].slot = &slots[i];
      c[i].value = i * 3 + 1;
      c[i].lock = &lock;
      c[i].order = &order[i];
      c[i].next_rank = &rank;
      slots[i] = -1;
    }
    /* with no worker, nothing runs before the caller helps: the queue's order shows */
    for (i = 0; i < 40; i++)
      hoist_pool_submit(pool, &c[i].task);
    /* returns only once every task of the array is done (with no worker, having run them all) */
    hoist_pool_help_until_all(pool, HOIST_POOL_PRIO_MIN, &c[0].task, 40, sizeof c[0]);
    for (i = 0; i < 40; i++)
      CHECK(slots[i] == i * 3 + 1);
    CHECK(rank == 40);
    if (workers[w] == 0) {
      /* priority 3 first, in submission order, then 2, 1, 0 */
      for (i = 0; i < 40; i++)
        CHECK(order[i] == (3 - i % 4) * 10 + i / 4);
    }
    hoist_pool_free(pool);
  }
  hoist_pool_free(NULL);
  CHECK(hoist_pool_new(-1, &pool, &err) == HOIST_ERANGE && pool == NULL);
  CHECK(hoist_pool_new(HOIST_POOL_MAX_THREADS + 1, &pool, &err) == HOIST_ERANGE);

  /* HOIST_THREADS pins the default; nonsense is ignored */
  {
    const char *old = getenv("HOIST_THREADS");
    char *keep = old ? strdup(old) : NULL;
    int cores;
    unsetenv("HOIST_THREADS");
    cores = hoist_pool_default_threads();
    CHECK(cores >= 1 && cores <= HOIST_POOL_MAX_THREADS);
    setenv("HOIST_THREADS", "3", 1);
    CHECK(hoist_pool_default_threads() == 3);
    setenv("HOIST_THREADS", "1", 1);
    CHECK(hoist_pool_default_threads() == 1);
    setenv("HOIST_THREADS", "0", 1);
    CHECK(hoist_pool_default_threads() == cores);
    setenv("HOIST_THREADS", "2x", 1);
    CHECK(hoist_pool_default_threads() == cores);
    setenv("HOIST_THREADS", "257", 1);
    CHECK(hoist_pool_default_threads() == cores);
    if (keep)
      setenv("HOIST_THREADS", keep, 1);
    else
      unsetenv("HOIST_THREADS");
    free(keep);
  }
  done("pool: priorities, FIFO, helpers, sizes");
}

/* ------------------------------------------------------------ streams */

static void test_sizes(void)
{
  static const size_t sizes[] = { 0, 1, 1000, HOIST_PGZIP_BLOCK - 1, HOIST_PGZIP_BLOCK,
                                  HOIST_PGZIP_BLOCK + 1, 2 * HOIST_PGZIP_BLOCK,
                                  5 * HOIST_PGZIP_BLOCK + 12345 };
  static const int workers[] = { 0, 1, 3, 7 };
  size_t max = 5 * HOIST_PGZIP_BLOCK + 12345, si, wi;
  unsigned char *data = make_mix(max, 42, 220000);
  struct hoist_pool *pools[4] = { NULL, NULL, NULL, NULL };
  struct hoist_err err;

  CHECK(data != NULL);
  if (!data)
    return;
  for (wi = 0; wi < 4; wi++)
    CHECK_OK(hoist_pool_new(workers[wi], &pools[wi], &err), &err);
  for (si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
    size_t len = sizes[si];
    struct buf ref = { NULL, 0, 0, 0 }, shot = { NULL, 0, 0, 0 };
    CHECK_OK(pgz(pools[0], NULL, 6, data, len, 0, &ref, &err), &err);
    if (!gunzip_is(&ref, data, len)) {
      printf("  size %zu: not one gzip member of the input\n", len);
      CHECK(0);
    }
    /* up to one block, the stream is exactly zlib's deflate of it in one go */
    CHECK(one_shot(6, data, len, &shot) == 0);
    if (len <= HOIST_PGZIP_BLOCK)
      CHECK(same(&ref, &shot));
    else
      CHECK(!same(&ref, &shot) && ref.n < shot.n + shot.n / 100 + 64);
    free(shot.p);
    /* any pool, any write sizes: the same bytes */
    for (wi = 0; wi < 4; wi++) {
      static const size_t chunks[] = { 0, 1, 4093, 65536, HOIST_PGZIP_BLOCK + 7 };
      size_t ci;
      if (!pools[wi])
        continue;
      for (ci = 0; ci < sizeof chunks / sizeof chunks[0]; ci++) {
        struct buf b = { NULL, 0, 0, 0 };
        if (chunks[ci] == 1 && len > HOIST_PGZIP_BLOCK + 1)
          continue;  /* byte by byte only where it is cheap */
        CHECK_OK(pgz(pools[wi], NULL, 6, data, len, chunks[ci], &b, &err), &err);
        if (!same(&b, &ref)) {
          printf("  size %zu, %d workers, writes of %zu: other bytes\n", len, workers[wi],
                 chunks[ci]);
          CHECK(0);
        }
        free(b.p);
      }
    }
    free(ref.p);
  }
  for (wi = 0; wi < 4; wi++)
    hoist_pool_free(pools[wi]);
  free(data);
  done("pgzip: sizes 0..5 blocks, any pool, any writes: one member, the same bytes");
}

static void test_levels(void)
{
  size_t len = 3 * HOIST_PGZIP_BLOCK + 99;
  unsigned char *data = make_mix(len, 7, 220000);
  struct hoist_pool *pool = NULL;
  struct hoist_pgzip *z = (struct hoist_pgzip *)&len;
  struct hoist_err err;
  size_t sizes[10];
  int level;
  CHECK(data != NULL);
  CHECK_OK(hoist_pool_new(2, &pool, &err), &err);
  if (!data || !pool)
    return;
  for (level = 0; level <= 9; level++) {
    struct buf b = { NULL, 0, 0, 0 };
    CHECK_OK(pgz(pool, NULL, level, data, len, 50000, &b, &err), &err);
    CHECK(gunzip_is(&b, data, len));
    CHECK(b.n > 8 && b.p[8] == (level == 9 ? 2 : level < 2 ? 4 : 0));  /* XFL, as zlib sets it */
    sizes[level] = b.n;
    free(b.p);
  }
  if (!(sizes[0] > len && sizes[1] < len && sizes[6] < sizes[1]))
    printf("  sizes: level 0 %zu, 1 %zu, 6 %zu, 9 %zu (input %zu)\n", sizes[0], sizes[1], sizes[6],
           sizes[9], len);
  CHECK(sizes[0] > len && sizes[1] < len && sizes[6] < sizes[1]);
  memset(&err, 0, sizeof err);
  CHECK(hoist_pgzip_new(pool, NULL, 10, buf_emit, NULL, &z, &err) == HOIST_EINVAL && z == NULL);
  CHECK(hoist_pgzip_new(pool, NULL, -1, buf_emit, NULL, &z, &err) == HOIST_EINVAL);
  /* misuse after the end is refused, not undefined */
  {
    struct buf b = { NULL, 0, 0, 0 };
    CHECK_OK(hoist_pgzip_new(pool, NULL, 6, buf_emit, &b, &z, &err), &err);
    if (z) {
      CHECK_OK(hoist_pgzip_finish(z, &err), &err);
      CHECK(hoist_pgzip_write(z, "x", 1, &err) == HOIST_EINVAL);
      CHECK(hoist_pgzip_finish(z, &err) == HOIST_EINVAL);
      CHECK(gunzip_is(&b, data, 0));
      hoist_pgzip_free(z);
    }
    free(b.p);
  }
  hoist_pgzip_free(NULL);
  hoist_pool_free(pool);
  free(data);
  done("pgzip: levels 0..9");
}

/* Noise, and noise with repeats deflate can use: stored only when deflate could not do better. */
static void test_stored(void)
{
  size_t len = 5 * HOIST_PGZIP_BLOCK + 100, k;
  unsigned char *noise = malloc(len);
  struct hoist_pool *p0 = NULL, *p3 = NULL;
  struct hoist_err err;
  int round;
  CHECK(noise != NULL);
  CHECK_OK(hoist_pool_new(0, &p0, &err), &err);
  CHECK_OK(hoist_pool_new(3, &p3, &err), &err);
  if (!noise || !p0 || !p3)
    goto out;
  g_rng = 77;
  for (k = 0; k < len; k++)
    noise[k] = (unsigned char)(rnd() >> 13);
  for (round = 0; round < 3; round++) {
    struct buf a = { NULL, 0, 0, 0 }, b = { NULL, 0, 0, 0 }, shot = { NULL, 0, 0, 0 };
    if (round == 1)  /* 30000 bytes repeated 30000 bytes later, inside the second block */
      memcpy(noise + HOIST_PGZIP_BLOCK + 40000, noise + HOIST_PGZIP_BLOCK + 10000, 30000);
    if (round == 2)  /* the start of the fourth block repeats the end of the third */
      memcpy(noise + 3 * HOIST_PGZIP_BLOCK, noise + 3 * HOIST_PGZIP_BLOCK - 31000, 20000);
    CHECK_OK(pgz(p0, NULL, 6, noise, len, 0, &a, &err), &err);
    CHECK_OK(pgz(p3, NULL, 6, noise, len, 33333, &b, &err), &err);
    CHECK(same(&a, &b));
    CHECK(gunzip_is(&a, noise, len));
    CHECK(one_shot(6, noise, len, &shot) == 0);
    printf("  noise (round %d): pgzip %zu bytes, zlib in one stream %zu, input %zu\n", round, a.n,
           shot.n, len);
    if (round == 0) {
      /* stored: 5 bytes a 65535-byte piece, no more than zlib's own stored blocks */
      CHECK(a.n == 18 + len + 5 * ((HOIST_PGZIP_BLOCK + 65534) / 65535) * 5 + 5);
      CHECK(a.n >= 15 && a.p[10] == 0 && a.p[11] == 0xff && a.p[12] == 0xff && a.p[13] == 0 &&
            a.p[14] == 0);
      CHECK(a.n <= shot.n);
    } else {
      /* the repeat is found and used */
      CHECK(a.n + 15000 < len && (double)a.n <= 1.01 * (double)shot.n);
    }
    free(a.p);
    free(b.p);
    free(shot.p);
  }
out:
  hoist_pool_free(p0);
  hoist_pool_free(p3);
  free(noise);
  done("pgzip: noise is stored, noise with repeats is not");
}

struct worker_arg {
  struct hoist_pool *pool;
  struct hoist_pgzip_budget *budget;
  const unsigned char *data;
  size_t len;
  struct buf out;
  int rc;
  struct hoist_err err;
};

static void *stream_thread(void *p)
{
  struct worker_arg *a = p;
  a->rc = pgz(a->pool, a->budget, 6, a->data, a->len, 10000, &a->out, &a->err);
  return NULL;
}

/* Streams on several threads share one pool and a budget smaller than they would like. */
static void test_shared_budget(void)
{
  static const size_t budgets[] = { 1, 2, 5 };
  size_t len = 12 * HOIST_PGZIP_BLOCK + 5;
  unsigned char *data[3];
  struct buf ref[3];
  struct hoist_pool *pool = NULL;
  struct hoist_err err;
  size_t bi;
  int k;
  CHECK_OK(hoist_pool_new(2, &pool, &err), &err);
  for (k = 0; k < 3; k++) {
    data[k] = make_mix(len, 100 + (unsigned long long)k, 1000000);
    memset(&ref[k], 0, sizeof ref[k]);
    CHECK(data[k] && pool);
    if (data[k] && pool)
      CHECK_OK(pgz(pool, NULL, 6, data[k], len, 0, &ref[k], &err), &err);
  }
  for (bi = 0; pool && bi < sizeof budgets / sizeof budgets[0]; bi++) {
    struct hoist_pgzip_budget *budget = NULL;
    struct worker_arg a[3];
    pthread_t th[3];
    int started[3];
    CHECK_OK(hoist_pgzip_budget_new(budgets[bi], &budget, &err), &err);
    if (!budget)
      continue;
    for (k = 0; k < 3; k++) {
      memset(&a[k], 0, sizeof a[k]);
      a[k].pool = pool;
      a[k].budget = budget;
      a[k].data = data[k];
      a[k].len = len;
      started[k] = pthread_create(&th[k], NULL, stream_thread, &a[k]) == 0;
      CHECK(started[k]);
    }
    for (k = 0; k < 3; k++) {
      if (!started[k])
        continue;
      pthread_join(th[k], NULL);
      CHECK_OK(a[k].rc, &a[k].err);
      CHECK(same(&a[k].out, &ref[k]));
      free(a[k].out.p);
    }
    hoist_pgzip_budget_free(budget);
  }
  for (k = 0; k < 3; k++) {
    free(data[k]);
    free(ref[k].p);
  }
  hoist_pool_free(pool);
  done("pgzip: three streams on one pool and a budget of 1, 2, 5 blocks");
}

/* The output fails midway, with blocks in flight: errors stick, nothing leaks or hangs. */
static void test_emit_failure(void)
{
  size_t len = 40 * HOIST_PGZIP_BLOCK, limits[] = { 5, 10, 0, 0, 0 }, li;
  unsigned char *data = make_mix(len, 9, 1000000);
  struct hoist_pool *pool = NULL;
  struct hoist_err err;
  CHECK(data != NULL);
  CHECK_OK(hoist_pool_new(3, &pool, &err), &err);
  if (data && pool) {
    /* refused: in the middle, in the last block, in the trailer */
    struct buf whole = { NULL, 0, 0, 0 };
    CHECK_OK(pgz(pool, NULL, 6, data, len, 0, &whole, &err), &err);
    limits[2] = whole.n / 3;
    limits[3] = whole.n - 100;
    limits[4] = whole.n - 3;
    free(whole.p);
  }
  for (li = 0; data && pool && li < sizeof limits / sizeof limits[0]; li++) {
    struct buf b = { NULL, 0, 0, 0 };
    struct hoist_pgzip *z = NULL;
    size_t at = 0;
    int rc;
    b.fail_after = limits[li];
    memset(&err, 0, sizeof err);
    rc = hoist_pgzip_new(pool, NULL, 6, buf_emit, &b, &z, &err);
    while (!rc && at < len) {
      size_t n = len - at < 30000 ? len - at : 30000;
      rc = hoist_pgzip_write(z, data + at, n, &err);
      at += n;
    }
    if (!rc)
      rc = hoist_pgzip_finish(z, &err);
    CHECK(rc == HOIST_EIO && err.code == HOIST_EIO && strstr(err.msg, "refuses") != NULL);
    if (z) {
      memset(&err, 0, sizeof err);
      CHECK(hoist_pgzip_write(z, data, 10, &err) == HOIST_EIO && strstr(err.msg, "refuses"));
      CHECK(hoist_pgzip_finish(z, &err) == HOIST_EIO);
    } else {
      CHECK(limits[li] <= 10);  /* the header itself was refused */
    }
    hoist_pgzip_free(z);
    free(b.p);
  }
  /* freed halfway without an error: blocks in flight are waited for */
  if (data && pool) {
    struct buf b = { NULL, 0, 0, 0 };
    struct hoist_pgzip *z = NULL;
    CHECK_OK(hoist_pgzip_new(pool, NULL, 6, buf_emit, &b, &z, &err), &err);
    if (z)
      CHECK_OK(hoist_pgzip_write(z, data, len / 2, &err), &err);
    hoist_pgzip_free(z);
    free(b.p);
  }
  hoist_pool_free(pool);
  free(data);
  done("pgzip: a failing output midway");
}

/* ------------------------------------------------------------ other readers, and the size */

static int write_bytes(const char *path, const void *data, size_t len)
{
  FILE *f = fopen(path, "wb");
  int ok;
  if (!f)
    return -1;
  ok = fwrite(data, 1, len, f) == len;
  return fclose(f) == 0 && ok ? 0 : -1;
}

/* Runs argv; returns its exit status (or -1), with stdout in *out when out is not NULL. */
static int run(const char *const *argv, const void *input, size_t input_len, char **out,
               size_t *out_len)
{
  struct hoist_exec_opts o;
  struct hoist_exec_result r;
  struct hoist_err err;
  int rc;
  memset(&o, 0, sizeof o);
  o.argv = argv;
  o.input = input;
  o.input_len = input_len;
  o.timeout = 120;
  o.output_max = (size_t)256 << 20;
  if (hoist_exec_run(&o, &r, &err) != HOIST_OK) {
    printf("  %s: %s\n", argv[0], err.msg);
    hoist_exec_result_release(&r);
    return -1;
  }
  rc = r.code;
  if (rc != 0)
    printf("  %s exited %d: %.300s\n", argv[0], rc, r.err ? r.err : "");
  if (out) {
    *out = r.out;
    *out_len = r.out_len;
    r.out = NULL;
  }
  hoist_exec_result_release(&r);
  return rc;
}

static const char PY_READ[] =
    "import gzip, hashlib, sys\n"
    "for p in sys.argv[1:]:\n"
    "    with gzip.open(p, 'rb') as f:\n"
    "        print('sha256:' + hashlib.sha256(f.read()).hexdigest())\n";

static void test_other_readers(void)
{
  static const size_t sizes[] = { 0, HOIST_PGZIP_BLOCK, HOIST_PGZIP_BLOCK + 1,
                                  9 * HOIST_PGZIP_BLOCK + 4321 };
  const char *py[8] = { "python3", "-c", PY_READ };
  char paths[4][PATH_MAX], expect[4 * (HOIST_DIGEST_LEN + 1) + 1];
  size_t elen = 0;
  unsigned char *data = make_mix(9 * HOIST_PGZIP_BLOCK + 4321, 3, 1000000);
  struct hoist_pool *pool = NULL;
  struct hoist_err err;
  char *out = NULL;
  size_t i, out_len = 0;
  CHECK(data != NULL);
  CHECK_OK(hoist_pool_new(2, &pool, &err), &err);
  expect[0] = '\0';
  for (i = 0; data && pool && i < 4; i++) {
    struct buf b = { NULL, 0, 0, 0 };
    char dig[HOIST_DIGEST_LEN + 1];
    const char *gz[4] = { "gzip", "-t", NULL, NULL };
    if (snprintf(paths[i], sizeof paths[i], "%s/stream-%zu.gz", g_tmp, sizes[i]) >=
        (int)sizeof paths[i])
      paths[i][0] = '\0';
    CHECK_OK(pgz(pool, NULL, 6, data, sizes[i], 77777, &b, &err), &err);
    CHECK(write_bytes(paths[i], b.p, b.n) == 0);
    gz[2] = paths[i];
    CHECK(run(gz, NULL, 0, NULL, NULL) == 0);
    py[3 + i] = paths[i];
    CHECK_OK(hoist_digest_buffer(data, sizes[i], dig, &err), &err);
    elen += (size_t)snprintf(expect + elen, sizeof expect - elen, "%s\n", dig);
    free(b.p);
  }
  py[7] = NULL;
  CHECK(run(py, NULL, 0, &out, &out_len) == 0);
  CHECK(out && out_len == strlen(expect) && memcmp(out, expect, out_len) == 0);
  free(out);
  hoist_pool_free(pool);
  free(data);
  done("pgzip: gzip -t and python3's gzip module read the streams");
}

static void test_ratio(void)
{
  size_t len = (size_t)3 << 20;
  unsigned char *data = make_mix(len, 2024, 2000000);
  const char *gz[] = { "gzip", "-6", "-n", "-c", NULL };
  struct hoist_pool *pool = NULL;
  struct buf ours = { NULL, 0, 0, 0 }, zlib1 = { NULL, 0, 0, 0 };
  struct hoist_err err;
  char *gzip_out = NULL;
  size_t gzip_len = 0;
  CHECK(data != NULL);
  CHECK_OK(hoist_pool_new(1, &pool, &err), &err);
  if (data && pool) {
    CHECK_OK(pgz(pool, NULL, 6, data, len, 0, &ours, &err), &err);
    CHECK(one_shot(6, data, len, &zlib1) == 0);
    CHECK(run(gz, data, len, &gzip_out, &gzip_len) == 0 && gzip_len > 0);
    printf("  3 MiB of text and binary (parts of up to 2 MB): pgzip %zu bytes, zlib in one stream %zu (%.4fx), "
           "gzip -6 %zu (%.4fx)\n", ours.n, zlib1.n, (double)ours.n / (double)zlib1.n, gzip_len,
           gzip_len ? (double)ours.n / (double)gzip_len : 0.0);
    CHECK(gzip_len > 0 && (double)ours.n <= 1.01 * (double)gzip_len);
    CHECK(zlib1.n > 0 && (double)ours.n <= 1.01 * (double)zlib1.n);
    CHECK(ours.n < len / 2);  /* it did compress */
  }
  free(gzip_out);
  free(ours.p);
  free(zlib1.p);
  hoist_pool_free(pool);
  free(data);
  done("pgzip: within 1% of gzip -6");
}

static int have(const char *tool)
{
  const char *argv[] = { tool, "--version", NULL };
  struct hoist_exec_opts o;
  struct hoist_exec_result r;
  struct hoist_err err;
  int ok;
  memset(&o, 0, sizeof o);
  o.argv = argv;
  ok = hoist_exec_run(&o, &r, &err) == HOIST_OK && r.code == 0;
  hoist_exec_result_release(&r);
  return ok;
}

int main(int argc, char **argv)
{
  const char *base = getenv("TMPDIR");
  struct hoist_err err;
  (void)argc;
  (void)argv;
  if (!have("gzip") || !have("python3")) {
    printf("skipped: gzip and python3 are needed\n");
    return 77;
  }
  if (!base || !*base)
    base = "/tmp";
  snprintf(g_tmp, sizeof g_tmp, "%s/hoist-test-pgzip.XXXXXX", base);
  if (!mkdtemp(g_tmp)) {
    printf("cannot create a temporary folder in %s\n", base);
    return 1;
  }
  test_pool();
  test_sizes();
  test_levels();
  test_stored();
  test_shared_budget();
  test_emit_failure();
  test_other_readers();
  test_ratio();
  if (hoist_fs_remove_tree(g_tmp, &err) != HOIST_OK)
    printf("cannot remove %s: %s\n", g_tmp, err.msg);
  printf("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
