#include "pgzip.h"

#include <zlib.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RECENT_BITS 14  /* 16384 slots, 64 KiB: fits the caches */

/* One block: its input, the dictionary before it, its output, and a deflate
   state kept across uses (a reset is much cheaper than an init). */
struct block {
  struct hoist_task task;   /* the first member: a task pointer is a block pointer */
  struct block *next;       /* the budget's free list, or the stream's blocks in flight */
  z_stream zs;
  int zs_level;             /* the level zs was made for, -1: none yet */
  int level, last, rc;      /* rc: the task's outcome, read once the task is done */
  unsigned long crc;        /* of the input alone */
  size_t dict_len, in_len, out_len, out_cap;
  unsigned char *out;
  uint32_t recent[1 << RECENT_BITS];  /* incompressible()'s table of 4-byte sequences */
  unsigned char dict[HOIST_PGZIP_DICT];
  unsigned char in[HOIST_PGZIP_BLOCK];
};

struct hoist_pgzip_budget {
  pthread_mutex_t lock;
  size_t cap, made;         /* made: blocks allocated so far, in use or free */
  struct block *free;
};

struct hoist_pgzip {
  struct hoist_pool *pool;
  struct hoist_pgzip_budget *budget, *own;
  int level;
  hoist_pgzip_emit_fn emit;
  void *ctx;
  struct block *cur;        /* being filled, not submitted */
  struct block *head, *tail;  /* submitted, in stream order */
  unsigned long crc;        /* of the input retired so far */
  unsigned long long in_total, out_total;
  int have_tail, finished;
  int rc;                   /* the first failure, repeated by every later call */
  struct hoist_err fail;
  unsigned char tail_buf[HOIST_PGZIP_DICT];  /* the last 32 KiB submitted: the next dictionary */
};

/* ------------------------------------------------------------ budget */

int hoist_pgzip_budget_new(size_t blocks, struct hoist_pgzip_budget **out, struct hoist_err *err)
{
  struct hoist_pgzip_budget *b = calloc(1, sizeof *b);
  *out = NULL;
  if (!b)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  if (pthread_mutex_init(&b->lock, NULL) != 0) {
    free(b);
    return hoist_err_set(err, HOIST_ENOMEM, "cannot create a lock");
  }
  b->cap = blocks ? blocks : 1;
  *out = b;
  return HOIST_OK;
}

static void block_destroy(struct block *b)
{
  if (b->zs_level >= 0)
    deflateEnd(&b->zs);
  free(b->out);
  free(b);
}

void hoist_pgzip_budget_free(struct hoist_pgzip_budget *bg)
{
  struct block *b;
  if (!bg)
    return;
  while ((b = bg->free) != NULL) {
    bg->free = b->next;
    block_destroy(b);
  }
  pthread_mutex_destroy(&bg->lock);
  free(bg);
}

/* 1 and *out: a block; 0: the budget is spent; HOIST_ENOMEM. */
static int budget_take(struct hoist_pgzip_budget *bg, struct block **out)
{
  struct block *b;
  int make = 0;
  pthread_mutex_lock(&bg->lock);
  b = bg->free;
  if (b)
    bg->free = b->next;
  else if (bg->made < bg->cap)
    make = 1, bg->made++;
  pthread_mutex_unlock(&bg->lock);
  if (make) {
    /* not zeroed: only in[0..in_len) and dict[0..dict_len) are ever read */
    b = malloc(sizeof *b);
    if (!b) {
      pthread_mutex_lock(&bg->lock);
      bg->made--;
      pthread_mutex_unlock(&bg->lock);
      return HOIST_ENOMEM;
    }
    memset(b, 0, offsetof(struct block, dict));
    b->zs_level = -1;
  }
  *out = b;
  return b ? 1 : 0;
}

static int budget_available(struct hoist_pgzip_budget *bg)
{
  int yes;
  pthread_mutex_lock(&bg->lock);
  yes = bg->free != NULL || bg->made < bg->cap;
  pthread_mutex_unlock(&bg->lock);
  return yes;
}

static void budget_give(struct hoist_pgzip_budget *bg, struct block *b)
{
  pthread_mutex_lock(&bg->lock);
  b->next = bg->free;
  bg->free = b;
  pthread_mutex_unlock(&bg->lock);
}

/* ------------------------------------------------------------ one block (a pool task) */

static int grow_out(struct block *b)
{
  size_t cap = b->out_cap ? b->out_cap * 2 : HOIST_PGZIP_BLOCK + HOIST_PGZIP_BLOCK / 16 + 1024;
  unsigned char *n = realloc(b->out, cap);
  if (!n)
    return HOIST_ENOMEM;
  b->out = n;
  b->out_cap = cap;
  return HOIST_OK;
}

/* Little-endian whatever the machine: which sequences share a hash slot decides a block's
   fate, so it must not depend on byte order (compilers make this one load on x86 and arm). */
static uint32_t read32(const unsigned char *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The sum of the squared counts of four histograms added up. */
static uint64_t squares(uint32_t (*hist)[256])
{
  uint64_t sq = 0;
  int k;
  for (k = 0; k < 256; k++) {
    uint64_t c = (uint64_t)hist[0][k] + hist[1][k] + hist[2][k] + hist[3][k];
    sq += c * c;
  }
  return sq;
}

/*
** 1 when deflate could not shrink the block by 1%: its bytes are nearly uniform
** (sum of squared byte counts within 2% of a uniform spread: Renyi entropy >= 7.97
** bits, so Huffman codes save under 0.4%) and under 1% of its positions start a
** 4-byte sequence seen shortly before (in it or the 32 KiB before it), which is
** what deflate's matches would use. Integers only: the answer, like the bytes,
** never depends on the machine. Such blocks are stored, as deflate would store
** them, without the search that costs most of deflate's time on compressed or
** random data.
*/
static int incompressible(struct block *b)
{
  uint32_t hist[4][256];  /* four counters a byte value: no store waits for the previous one */
  uint64_t n = b->in_len;
  size_t i, hits = 0, limit = b->in_len / 100;
  memset(hist, 0, sizeof hist);
  for (i = 0; i + 4 <= b->in_len; i += 4) {
    hist[0][b->in[i]]++;
    hist[1][b->in[i + 1]]++;
    hist[2][b->in[i + 2]]++;
    hist[3][b->in[i + 3]]++;
    /* text and code are plain from their first 16 KiB (1.5 times a uniform spread): most
       blocks stop here */
    if (i + 4 == 16384 && n > 16384 && squares(hist) * 256 * 100 > (uint64_t)16384 * 16384 * 150)
      return 0;
  }
  for (; i < b->in_len; i++)
    hist[0][b->in[i]]++;
  if (squares(hist) * 256 * 100 > n * n * 102)
    return 0;
  /* the last 4-byte sequence of each hash: a hit is a sequence seen before (a repeat a
     window back survives in 1 slot of 7; a repeat worth 1% of a block is 1300 tries) */
  memset(b->recent, 0, sizeof b->recent);
  for (i = 0; i + 4 <= b->dict_len; i++) {
    uint32_t v = read32(b->dict + i);
    b->recent[(v * 2654435761u) >> (32 - RECENT_BITS)] = v;
  }
  for (i = 0; i + 4 <= b->in_len; i++) {
    uint32_t v = read32(b->in + i), *slot = &b->recent[(v * 2654435761u) >> (32 - RECENT_BITS)];
    hits += *slot == v;  /* no branch: on random bytes it would be mispredicted */
    *slot = v;
    if ((i & 8191) == 0 && hits > limit)
      return 0;
  }
  return hits <= limit;
}

/* Stored deflate blocks (at most 65535 bytes each), byte-aligned like a sync flush. */
static int block_store(struct block *b)
{
  size_t at = 0, need = b->in_len + (b->in_len / 65535 + 1) * 5;
  if (b->out_cap < need) {
    unsigned char *n = realloc(b->out, need);
    if (!n)
      return HOIST_ENOMEM;
    b->out = n;
    b->out_cap = need;
  }
  b->out_len = 0;
  do {
    size_t len = b->in_len - at > 65535 ? 65535 : b->in_len - at;
    unsigned char *o = b->out + b->out_len;
    o[0] = b->last && at + len == b->in_len;  /* BFINAL, BTYPE 00 */
    o[1] = (unsigned char)(len & 0xff);
    o[2] = (unsigned char)(len >> 8);
    o[3] = (unsigned char)(~len & 0xff);
    o[4] = (unsigned char)((~len >> 8) & 0xff);
    memcpy(o + 5, b->in + at, len);
    b->out_len += 5 + len;
    at += len;
  } while (at < b->in_len);
  return HOIST_OK;
}

static int block_compress(struct block *b)
{
  z_stream *s = &b->zs;
  int flush = b->last ? Z_FINISH : Z_SYNC_FLUSH;
  if (b->level > 0 && b->in_len >= 4096 && incompressible(b)) {
    b->crc = crc32(0L, b->in, (uInt)b->in_len);
    return block_store(b);
  }
  if (b->zs_level != b->level) {
    if (b->zs_level >= 0)
      deflateEnd(s);
    b->zs_level = -1;
    memset(s, 0, sizeof *s);
    /* raw deflate (-15): the stream's one header and trailer are written around the blocks */
    if (deflateInit2(s, b->level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      return HOIST_ENOMEM;
    b->zs_level = b->level;
  } else if (deflateReset(s) != Z_OK) {
    return HOIST_EIO;
  }
  if (b->dict_len && deflateSetDictionary(s, b->dict, (uInt)b->dict_len) != Z_OK)
    return HOIST_EIO;
  b->crc = crc32(0L, b->in, (uInt)b->in_len);
  s->next_in = b->in;
  s->avail_in = (uInt)b->in_len;
  b->out_len = 0;
  for (;;) {
    int zr;
    if (b->out_cap - b->out_len < 64 && grow_out(b))
      return HOIST_ENOMEM;
    s->next_out = b->out + b->out_len;
    s->avail_out = (uInt)(b->out_cap - b->out_len);
    zr = deflate(s, flush);
    b->out_len = b->out_cap - s->avail_out;
    if (zr == Z_STREAM_ERROR)
      return HOIST_EIO;
    /* Z_FINISH is done at Z_STREAM_END; a sync flush when it left room in the output */
    if (b->last ? zr == Z_STREAM_END : (s->avail_in == 0 && s->avail_out != 0))
      return HOIST_OK;
    if (s->avail_out == 0 && grow_out(b))
      return HOIST_ENOMEM;
  }
}

static void block_run(struct hoist_task *t)
{
  struct block *b = (struct block *)t;
  b->rc = block_compress(b);
}

/* ------------------------------------------------------------ the stream */

static int fail(struct hoist_pgzip *z, int rc, struct hoist_err *err)
{
  if (!z->rc) {
    z->rc = rc;
    z->fail = *err;
  }
  return rc;
}

static int failed(struct hoist_pgzip *z, struct hoist_err *err)
{
  if (err)
    *err = z->fail;
  return z->rc;
}

static int put(struct hoist_pgzip *z, const void *buf, size_t n, struct hoist_err *err)
{
  int rc = n ? z->emit(z->ctx, buf, n, err) : HOIST_OK;
  if (rc)
    return err->code ? err->code : rc;
  z->out_total += n;
  return HOIST_OK;
}

static int head_done(void *arg)
{
  struct hoist_pgzip *z = arg;
  return z->head == NULL || hoist_pool_task_done(z->pool, &z->head->task);
}

/* Writes out the finished blocks at the head, in order, and gives them back. */
static int retire_ready(struct hoist_pgzip *z, struct hoist_err *err)
{
  int rc = HOIST_OK;
  while (!rc && z->head && hoist_pool_task_done(z->pool, &z->head->task)) {
    struct block *b = z->head;
    z->head = b->next;
    if (!z->head)
      z->tail = NULL;
    if (b->rc) {
      rc = hoist_err_set(err, b->rc, "cannot compress a gzip block: %s",
                         b->rc == HOIST_ENOMEM ? "out of memory" : "zlib failed");
    } else {
      z->crc = crc32_combine(z->crc, b->crc, (z_off_t)b->in_len);
      rc = put(z, b->out, b->out_len, err);
    }
    budget_give(z->budget, b);
    hoist_pool_notify(z->pool);  /* a producer of another stream may wait for this block */
  }
  return rc ? fail(z, rc, err) : HOIST_OK;
}

static int can_take(void *arg)
{
  struct hoist_pgzip *z = arg;
  return budget_available(z->budget) || (z->head && hoist_pool_task_done(z->pool, &z->head->task));
}

/* Makes z->cur a fresh block, primed with the dictionary; waits (helping) for the budget. */
static int acquire(struct hoist_pgzip *z, struct hoist_err *err)
{
  struct block *b = NULL;
  for (;;) {
    int r;
    if (retire_ready(z, err))
      return z->rc;
    r = budget_take(z->budget, &b);
    if (r < 0)
      return fail(z, hoist_err_set(err, HOIST_ENOMEM, "out of memory"), err);
    if (r > 0)
      break;
    hoist_pool_help_until(z->pool, HOIST_PGZIP_PRIORITY, can_take, z);
  }
  b->next = NULL;
  b->level = z->level;
  b->last = 0;
  b->rc = 0;
  b->in_len = 0;
  b->dict_len = 0;
  if (z->have_tail) {
    memcpy(b->dict, z->tail_buf, HOIST_PGZIP_DICT);
    b->dict_len = HOIST_PGZIP_DICT;
  }
  memset(&b->task, 0, sizeof b->task);
  b->task.run = block_run;
  b->task.priority = HOIST_PGZIP_PRIORITY;
  z->cur = b;
  return HOIST_OK;
}

static void submit(struct hoist_pgzip *z, int last)
{
  struct block *b = z->cur;
  b->last = last;
  if (!last) {
    /* a block that is not the last is full: its end is the next one's dictionary */
    memcpy(z->tail_buf, b->in + b->in_len - HOIST_PGZIP_DICT, HOIST_PGZIP_DICT);
    z->have_tail = 1;
  }
  z->cur = NULL;
  b->next = NULL;
  if (z->tail)
    z->tail->next = b;
  else
    z->head = b;
  z->tail = b;
  hoist_pool_submit(z->pool, &b->task);
}

int hoist_pgzip_new(struct hoist_pool *pool, struct hoist_pgzip_budget *budget, int level,
                    hoist_pgzip_emit_fn emit, void *ctx, struct hoist_pgzip **out,
                    struct hoist_err *err)
{
  struct hoist_pgzip *z;
  /* RFC 1952: no FTEXT/FNAME/FCOMMENT, MTIME 0, XFL as zlib sets it, OS 3 (Unix) */
  unsigned char head[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
  int rc;
  *out = NULL;
  if (level < 0 || level > 9)
    return hoist_err_set(err, HOIST_EINVAL, "gzip level %d is not in 0..9", level);
  z = malloc(sizeof *z);
  if (!z)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  memset(z, 0, offsetof(struct hoist_pgzip, tail_buf));
  z->pool = pool;
  z->level = level;
  z->emit = emit;
  z->ctx = ctx;
  z->crc = crc32(0L, Z_NULL, 0);
  z->budget = budget;
  if (!budget) {
    rc = hoist_pgzip_budget_new(2 * ((size_t)hoist_pool_workers(pool) + 1), &z->own, err);
    if (rc) {
      free(z);
      return rc;
    }
    z->budget = z->own;
  }
  head[8] = level == 9 ? 2 : level < 2 ? 4 : 0;
  rc = put(z, head, sizeof head, err);
  if (rc) {
    hoist_pgzip_free(z);
    return rc;
  }
  *out = z;
  return HOIST_OK;
}

int hoist_pgzip_write(struct hoist_pgzip *z, const void *buf, size_t n, struct hoist_err *err)
{
  const unsigned char *p = buf;
  if (z->rc)
    return failed(z, err);
  if (z->finished)
    return hoist_err_set(err, HOIST_EINVAL, "gzip stream written after its end");
  while (n > 0) {
    size_t take;
    if (!z->cur) {
      if (acquire(z, err))
        return z->rc;
    } else if (z->cur->in_len == HOIST_PGZIP_BLOCK) {
      /* more input follows a full block: it is not the last one */
      submit(z, 0);
      if (acquire(z, err))
        return z->rc;
    }
    take = HOIST_PGZIP_BLOCK - z->cur->in_len;
    if (take > n)
      take = n;
    memcpy(z->cur->in + z->cur->in_len, p, take);
    z->cur->in_len += take;
    z->in_total += take;
    p += take;
    n -= take;
  }
  return HOIST_OK;
}

int hoist_pgzip_finish(struct hoist_pgzip *z, struct hoist_err *err)
{
  unsigned char trailer[8];
  unsigned long long isize;
  int i;
  if (z->rc)
    return failed(z, err);
  if (z->finished)
    return hoist_err_set(err, HOIST_EINVAL, "gzip stream finished twice");
  if (!z->cur && acquire(z, err))  /* no input at all: one empty final block */
    return z->rc;
  submit(z, 1);
  while (z->head) {
    hoist_pool_help_until(z->pool, HOIST_PGZIP_PRIORITY, head_done, z);
    if (retire_ready(z, err))
      return z->rc;
  }
  isize = z->in_total & 0xffffffffULL;
  for (i = 0; i < 4; i++) {
    trailer[i] = (unsigned char)((z->crc >> (8 * i)) & 0xff);
    trailer[4 + i] = (unsigned char)((isize >> (8 * i)) & 0xff);
  }
  if (put(z, trailer, sizeof trailer, err))
    return fail(z, err->code ? err->code : HOIST_EIO, err);
  z->finished = 1;
  return HOIST_OK;
}

unsigned long long hoist_pgzip_total_in(const struct hoist_pgzip *z) { return z->in_total; }
unsigned long long hoist_pgzip_total_out(const struct hoist_pgzip *z) { return z->out_total; }

void hoist_pgzip_free(struct hoist_pgzip *z)
{
  if (!z)
    return;
  if (z->cur)
    budget_give(z->budget, z->cur);
  /* blocks in flight are being read by workers: wait for each before giving it back */
  while (z->head) {
    struct block *b = z->head;
    hoist_pool_help_until(z->pool, HOIST_PGZIP_PRIORITY, head_done, z);
    z->head = b->next;
    budget_give(z->budget, b);
  }
  hoist_pool_notify(z->pool);
  hoist_pgzip_budget_free(z->own);
  free(z);
}
