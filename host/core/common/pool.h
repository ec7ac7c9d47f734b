/*
** pool: hoist's one worker pool. A fixed set of threads runs tasks from one
** priority queue (higher priority first, equal priorities in submission
** order). Tasks are intrusive: the submitter embeds a struct hoist_task in its
** own record and keeps it alive until the task is done; submitting never
** allocates, so it cannot fail.
**
** A thread that must wait for work queued on the pool (a layer producer
** waiting for its blocks, the caller waiting for its layers) does not sleep
** while work is queued: hoist_pool_help_until runs queued tasks of at least a
** given priority on the waiting thread until a condition holds. That keeps
** every thread busy, and lets a pool of N workers plus one helping caller run
** N + 1 things at once; a pool of 0 workers is valid (the helper runs all).
**
** A waiter restricts what it helps with by priority, so it never starts a task
** that could itself wait on the waiter (a producer helps with blocks only).
*/
#ifndef HOIST_POOL_H
#define HOIST_POOL_H

#include "err.h"

#include <limits.h>
#include <stddef.h>

#define HOIST_POOL_PRIO_MAX LLONG_MAX
#define HOIST_POOL_PRIO_MIN LLONG_MIN
#define HOIST_POOL_MAX_THREADS 256

struct hoist_pool;

struct hoist_task {
  void (*run)(struct hoist_task *t);  /* set by the submitter */
  long long priority;                 /* set by the submitter: higher runs first */
  /* the pool's, under its lock */
  struct hoist_task *next;
  int state;
};

/*
** The number of threads hoist computes with: $HOIST_THREADS when it is an
** integer in 1..256 (tests pin it), else the CPUs this process may run on (a
** container's CPU set, not every online CPU).
*/
int hoist_pool_default_threads(void);

/* Starts a pool of `workers` threads (0 to HOIST_POOL_MAX_THREADS). */
int hoist_pool_new(int workers, struct hoist_pool **out, struct hoist_err *err);
/* The worker threads actually started (thread creation may give fewer than asked). */
int hoist_pool_workers(const struct hoist_pool *p);
/* Stops and joins the workers. Every submitted task must be done. NULL is fine. */
void hoist_pool_free(struct hoist_pool *p);

/* Queues t (run and priority set; not queued already). Never fails. */
void hoist_pool_submit(struct hoist_pool *p, struct hoist_task *t);
/* 1 once t's run function has returned; what it wrote is then visible to the caller. */
int hoist_pool_task_done(struct hoist_pool *p, const struct hoist_task *t);

/*
** Returns when ready(ctx) is true; until then runs queued tasks whose priority
** is >= min_priority on this thread, and sleeps when there are none. ready is
** called without the pool's lock; whatever makes it true must happen in a task
** (its end wakes waiters) or be followed by hoist_pool_notify.
*/
void hoist_pool_help_until(struct hoist_pool *p, long long min_priority, int (*ready)(void *ctx),
                           void *ctx);
/*
** help_until for the usual condition: each of n tasks is done. The first is at
** first, the next ones stride bytes apart (an array of records that embed their
** task at the same place: &recs[0].task, n, sizeof recs[0]).
*/
void hoist_pool_help_until_all(struct hoist_pool *p, long long min_priority,
                               const struct hoist_task *first, size_t n, size_t stride);
/* Wakes every waiter of help_until so it checks its condition again. */
void hoist_pool_notify(struct hoist_pool *p);

#endif
