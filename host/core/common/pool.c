#define _GNU_SOURCE 1  /* sched_getaffinity, CPU_COUNT */

#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { T_NEW, T_QUEUED, T_RUNNING, T_DONE };

struct hoist_pool {
  pthread_mutex_t lock;
  pthread_cond_t changed;     /* broadcast on submit, on every task's end, on notify */
  struct hoist_task *queue;   /* sorted: priority descending, then submission order */
  unsigned long long events;  /* counts those broadcasts, so a waiter cannot miss one */
  int stop;
  int workers;
  pthread_t th[HOIST_POOL_MAX_THREADS];
};

int hoist_pool_default_threads(void)
{
  const char *env = getenv("HOIST_THREADS");
  cpu_set_t set;
  long cores;
  if (env && *env) {
    char *end;
    long v = strtol(env, &end, 10);
    if (*end == '\0' && v >= 1 && v <= HOIST_POOL_MAX_THREADS)
      return (int)v;
  }
  cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
                                                      : sysconf(_SC_NPROCESSORS_ONLN);
  if (cores < 1)
    return 1;
  return cores > HOIST_POOL_MAX_THREADS ? HOIST_POOL_MAX_THREADS : (int)cores;
}

/* Under the lock: the first queued task with at least that priority, unlinked. */
static struct hoist_task *take(struct hoist_pool *p, long long min_priority)
{
  struct hoist_task *t = p->queue;
  if (!t || t->priority < min_priority)
    return NULL;
  p->queue = t->next;
  t->next = NULL;
  t->state = T_RUNNING;
  return t;
}

/* Runs t without the lock; takes it back and announces the end. */
static void run_locked(struct hoist_pool *p, struct hoist_task *t)
{
  pthread_mutex_unlock(&p->lock);
  t->run(t);
  pthread_mutex_lock(&p->lock);
  t->state = T_DONE;
  p->events++;
  pthread_cond_broadcast(&p->changed);
}

static void *worker(void *arg)
{
  struct hoist_pool *p = arg;
  pthread_mutex_lock(&p->lock);
  for (;;) {
    struct hoist_task *t = take(p, HOIST_POOL_PRIO_MIN);
    if (t) {
      run_locked(p, t);
      continue;
    }
    if (p->stop)
      break;
    pthread_cond_wait(&p->changed, &p->lock);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

int hoist_pool_new(int workers, struct hoist_pool **out, struct hoist_err *err)
{
  struct hoist_pool *p;
  int i;
  *out = NULL;
  if (workers < 0 || workers > HOIST_POOL_MAX_THREADS)
    return hoist_err_set(err, HOIST_ERANGE, "a pool of %d threads is out of range", workers);
  p = calloc(1, sizeof *p);
  if (!p)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  if (pthread_mutex_init(&p->lock, NULL) != 0) {
    free(p);
    return hoist_err_set(err, HOIST_ENOMEM, "cannot create a lock");
  }
  if (pthread_cond_init(&p->changed, NULL) != 0) {
    pthread_mutex_destroy(&p->lock);
    free(p);
    return hoist_err_set(err, HOIST_ENOMEM, "cannot create a condition variable");
  }
  /* fewer threads than asked is still a working pool: waiters help */
  for (i = 0; i < workers; i++)
    if (pthread_create(&p->th[p->workers], NULL, worker, p) == 0)
      p->workers++;
  *out = p;
  return HOIST_OK;
}

int hoist_pool_workers(const struct hoist_pool *p) { return p->workers; }

void hoist_pool_free(struct hoist_pool *p)
{
  int i;
  if (!p)
    return;
  pthread_mutex_lock(&p->lock);
  p->stop = 1;
  pthread_cond_broadcast(&p->changed);
  pthread_mutex_unlock(&p->lock);
  for (i = 0; i < p->workers; i++)
    pthread_join(p->th[i], NULL);
  pthread_cond_destroy(&p->changed);
  pthread_mutex_destroy(&p->lock);
  free(p);
}

void hoist_pool_submit(struct hoist_pool *p, struct hoist_task *t)
{
  struct hoist_task **at;
  pthread_mutex_lock(&p->lock);
  /* after every task of the same or a higher priority: FIFO within a priority */
  for (at = &p->queue; *at && (*at)->priority >= t->priority; at = &(*at)->next)
    ;
  t->next = *at;
  *at = t;
  t->state = T_QUEUED;
  p->events++;
  pthread_cond_broadcast(&p->changed);
  pthread_mutex_unlock(&p->lock);
}

int hoist_pool_task_done(struct hoist_pool *p, const struct hoist_task *t)
{
  int done;
  pthread_mutex_lock(&p->lock);
  done = t->state == T_DONE;
  pthread_mutex_unlock(&p->lock);
  return done;
}

void hoist_pool_notify(struct hoist_pool *p)
{
  pthread_mutex_lock(&p->lock);
  p->events++;
  pthread_cond_broadcast(&p->changed);
  pthread_mutex_unlock(&p->lock);
}

void hoist_pool_help_until(struct hoist_pool *p, long long min_priority, int (*ready)(void *ctx),
                           void *ctx)
{
  pthread_mutex_lock(&p->lock);
  for (;;) {
    /* read the event count before the condition: anything that makes it true
       after this point also moves the count, so the sleep below cannot miss it */
    unsigned long long seen = p->events;
    struct hoist_task *t;
    pthread_mutex_unlock(&p->lock);
    if (ready(ctx))
      return;
    pthread_mutex_lock(&p->lock);
    t = take(p, min_priority);
    if (t) {
      run_locked(p, t);
      continue;
    }
    while (p->events == seen)
      pthread_cond_wait(&p->changed, &p->lock);
  }
}

/* The tasks help_until_all waits for. */
struct task_array {
  struct hoist_pool *p;
  const char *first;
  size_t n, stride;
};

static int task_array_done(void *ctx)
{
  const struct task_array *a = ctx;
  size_t i;
  for (i = 0; i < a->n; i++)
    if (!hoist_pool_task_done(a->p, (const struct hoist_task *)(const void *)(a->first + i * a->stride)))
      return 0;
  return 1;
}

void hoist_pool_help_until_all(struct hoist_pool *p, long long min_priority,
                               const struct hoist_task *first, size_t n, size_t stride)
{
  struct task_array a;
  a.p = p;
  a.first = (const char *)first;
  a.n = n;
  a.stride = stride;
  hoist_pool_help_until(p, min_priority, task_array_done, &a);
}
