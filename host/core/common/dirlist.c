#define _GNU_SOURCE 1 /* fstatat, O_CLOEXEC for dup */

#include "dirlist.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One share of a folder's entries, stat'ed by one thread. */
struct stat_task {
  struct hoist_task task;
  struct hoist_dirlist *l;
  int dirfd;
  size_t lo, hi;
};

static void stat_range(struct hoist_dirlist *l, int dirfd, size_t lo, size_t hi)
{
  size_t i;
  for (i = lo; i < hi; i++)
    l->errs[i] = fstatat(dirfd, hoist_dirlist_name(l, i), &l->st[i], AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
}

static void run_stat_task(struct hoist_task *t)
{
  struct stat_task *s = (struct stat_task *)t;
  stat_range(s->l, s->dirfd, s->lo, s->hi);
}

/*
** Stats every entry: shares 1.. on the pool, share 0 here, then helps until all are done. The
** pool is started here, for the first batch large enough to need it: most plans never do.
*/
static int stat_all(struct hoist_dirlist *l, int dirfd, struct hoist_pool **pool, int nthreads)
{
  size_t threads, per, i, n;
  struct stat_task *t;
  struct hoist_err err;
  if (nthreads > 1 && l->n >= HOIST_DIRLIST_PARALLEL_MIN && !*pool &&
      hoist_pool_new(nthreads - 1, pool, &err) != HOIST_OK)
    *pool = NULL;  /* then on this thread alone, with the same result */
  threads = *pool ? (size_t)hoist_pool_workers(*pool) + 1 : 1;
  if (threads < 2 || l->n < HOIST_DIRLIST_PARALLEL_MIN) {
    stat_range(l, dirfd, 0, l->n);
    return 0;
  }
  /* at least half the threshold each, so a share is worth its hand-over */
  if (threads > l->n / (HOIST_DIRLIST_PARALLEL_MIN / 2))
    threads = l->n / (HOIST_DIRLIST_PARALLEL_MIN / 2);
  per = (l->n + threads - 1) / threads;
  n = threads - 1;
  t = calloc(n, sizeof *t);
  if (!t)
    return ENOMEM;
  for (i = 0; i < n; i++) {
    t[i].task.run = run_stat_task;
    t[i].l = l;
    t[i].dirfd = dirfd;
    t[i].lo = (i + 1) * per < l->n ? (i + 1) * per : l->n;
    t[i].hi = (i + 2) * per < l->n ? (i + 2) * per : l->n;
    hoist_pool_submit(*pool, &t[i].task);
  }
  stat_range(l, dirfd, 0, per < l->n ? per : l->n);
  hoist_pool_help_until_all(*pool, HOIST_POOL_PRIO_MIN, &t[0].task, n, sizeof t[0]);
  free(t);
  return 0;
}

/* Appends name to the batch (names and offsets grow as needed). 0 or ENOMEM. */
static int add_name(struct hoist_dirlist *l, const char *name, size_t *used)
{
  size_t len = strlen(name) + 1;
  if (l->n == l->cap_entries) {
    size_t cap = l->cap_entries ? l->cap_entries * 2 : 64;
    size_t *off = realloc(l->off, cap * sizeof *off);
    struct stat *st;
    int *errs;
    if (!off)
      return ENOMEM;
    l->off = off;
    if (!(st = realloc(l->st, cap * sizeof *st)))
      return ENOMEM;
    l->st = st;
    if (!(errs = realloc(l->errs, cap * sizeof *errs)))
      return ENOMEM;
    l->errs = errs;
    l->cap_entries = cap;
  }
  if (*used + len > l->cap_names) {
    size_t cap = l->cap_names ? l->cap_names * 2 : 4096;
    char *names;
    while (cap < *used + len)
      cap *= 2;
    if (!(names = realloc(l->names, cap)))
      return ENOMEM;
    l->names = names;
    l->cap_names = cap;
  }
  memcpy(l->names + *used, name, len);
  l->off[l->n++] = *used;
  *used += len;
  return 0;
}

int hoist_dirlist_open(int dirfd, struct hoist_dirlist *l)
{
  int fd, e;
  memset(l, 0, sizeof *l);
  l->dirfd = dirfd;
  /* a descriptor of its own for readdir: fdopendir takes it, and the caller keeps dirfd */
  fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0)
    return errno;
  if (!(l->dir = fdopendir(fd))) {
    e = errno;
    close(fd);
    return e;
  }
  return 0;
}

int hoist_dirlist_next(struct hoist_dirlist *l, struct hoist_pool **pool, int threads)
{
  size_t used = 0;
  struct dirent *de;
  int e = 0;
  l->n = 0;
  if (!l->dir)
    return 0;
  while (l->n < HOIST_DIRLIST_BATCH && (errno = 0, de = readdir(l->dir)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if ((e = add_name(l, de->d_name, &used)) != 0)
      break;
  }
  if (!e && l->n < HOIST_DIRLIST_BATCH && errno)
    e = errno;
  if (e) {
    l->n = 0;
    return e;
  }
  return l->n ? stat_all(l, l->dirfd, pool, threads) : 0;
}

void hoist_dirlist_close(struct hoist_dirlist *l)
{
  if (l->dir)
    closedir(l->dir);
  free(l->names);
  free(l->off);
  free(l->st);
  free(l->errs);
  memset(l, 0, sizeof *l);
}
