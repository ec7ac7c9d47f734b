/*
** pgzip: one gzip stream compressed in parallel on a hoist_pool, the way pigz
** does it, with bytes that depend only on the input and the level.
**
** The input is cut into fixed blocks of HOIST_PGZIP_BLOCK bytes (whatever the
** sizes of the writes). Each block is compressed by a pool task as raw deflate
** at the stream's level, primed with the 32 KiB of input before it
** (deflateSetDictionary), and ended with Z_SYNC_FLUSH, or Z_FINISH for the
** last one: the blocks, written in order after a fixed 10-byte header (no
** name, MTIME 0, OS 3) and followed by the CRC-32 (crc32_combine of the
** blocks' CRCs) and ISIZE, are ONE standard single-member gzip stream. A
** block deflate could not shrink by 1% (nearly uniform bytes and no 4-byte
** repeats within reach: random or already compressed data) is written as stored
** deflate blocks instead, without deflate's search; that test reads the block's
** bytes alone. Neither the number of threads nor the timing decides a block
** boundary or a byte.
**
** The producer (the thread calling write/finish) copies the input into
** blocks and submits them; it also retires finished blocks in order, passing
** their bytes to emit on its own thread. Blocks in flight are bounded by a
** budget (shared by every stream of one pool, so memory does not grow with
** the number of layers): a producer that needs a block when the budget is
** spent retires its own finished blocks or helps compress queued ones.
*/
#ifndef HOIST_PGZIP_H
#define HOIST_PGZIP_H

#include "err.h"
#include "pool.h"

#include <stddef.h>

#define HOIST_PGZIP_BLOCK ((size_t)128 * 1024)
#define HOIST_PGZIP_DICT ((size_t)32 * 1024)
/* Block tasks run before any other work of the pool: they are what producers wait for. */
#define HOIST_PGZIP_PRIORITY HOIST_POOL_PRIO_MAX

/* Receives the compressed stream in order; returns 0, or a HOIST_E* code with err set. */
typedef int (*hoist_pgzip_emit_fn)(void *ctx, const void *buf, size_t n, struct hoist_err *err);

struct hoist_pgzip_budget;

/* A budget of `blocks` blocks in flight (at least 1), for streams that share one pool. */
int hoist_pgzip_budget_new(size_t blocks, struct hoist_pgzip_budget **out, struct hoist_err *err);
/* After every stream using it is freed. NULL is fine. */
void hoist_pgzip_budget_free(struct hoist_pgzip_budget *b);

struct hoist_pgzip;

/*
** Starts a stream at level 0..9 on pool. budget may be NULL: the stream then
** has its own, of two blocks per thread. The header is emitted here.
*/
int hoist_pgzip_new(struct hoist_pool *pool, struct hoist_pgzip_budget *budget, int level,
                    hoist_pgzip_emit_fn emit, void *ctx, struct hoist_pgzip **out,
                    struct hoist_err *err);
/* Adds input. After a failure every later call fails with the same code. */
int hoist_pgzip_write(struct hoist_pgzip *z, const void *buf, size_t n, struct hoist_err *err);
/* Compresses the rest and emits it with the trailer. */
int hoist_pgzip_finish(struct hoist_pgzip *z, struct hoist_err *err);
/* Input bytes taken so far, and compressed bytes emitted so far. */
unsigned long long hoist_pgzip_total_in(const struct hoist_pgzip *z);
unsigned long long hoist_pgzip_total_out(const struct hoist_pgzip *z);
/*
** Frees the stream at any point, finished or not: blocks still in flight are
** waited for (helping the pool) and given back to the budget. NULL is fine.
*/
void hoist_pgzip_free(struct hoist_pgzip *z);

#endif
