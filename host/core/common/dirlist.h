/*
** dirlist: the entries of one open folder, in readdir order, each with its
** fstatat (not following symlinks), in batches. A plan walks 15,000 files at
** scale 10 of the benchmark, and the kernel's stat of each is most of an
** unchanged re-release; a batch's stats are split over a worker pool, which
** halves that on two cores. The result does not depend on the pool: the same
** entries in the same order, with the same stats. Memory stays bounded by the
** batch, whatever the size of the folder.
*/
#ifndef HOIST_DIRLIST_H
#define HOIST_DIRLIST_H

#include "pool.h"

#include <dirent.h>
#include <stddef.h>
#include <sys/stat.h>

/* Entries read, then stat'ed, at a time. */
#define HOIST_DIRLIST_BATCH 4096
/* Below this many entries a batch is stat'ed on the calling thread: a pool's round trip costs more. */
#define HOIST_DIRLIST_PARALLEL_MIN 64

struct hoist_dirlist {
  /* the current batch */
  size_t n;
  char *names;      /* NUL-terminated names, one after the other */
  size_t *off;      /* entry i is names + off[i] */
  struct stat *st;  /* entry i's fstatat, valid when errs[i] == 0 */
  int *errs;        /* entry i's errno from fstatat, or 0 */
  /* the list's own */
  DIR *dir;
  int dirfd;
  size_t cap_names, cap_entries;
};

/*
** Starts listing the folder open as dirfd, which stays open and the caller's
** (the list reads through a descriptor of its own). 0 or an errno value; on
** failure there is nothing to close.
*/
int hoist_dirlist_open(int dirfd, struct hoist_dirlist *l);
/*
** Reads the next batch (up to HOIST_DIRLIST_BATCH entries, without "." and
** "..") and stats each relative to dirfd. A batch large enough is stat'ed on
** threads threads in all (the caller's included), on *pool, which is started
** (threads - 1 workers) the first time it is needed and is the caller's to
** free; threads <= 1: all on the calling thread. n == 0: the end.
** Returns 0, or an errno value from reading the folder (or ENOMEM). A failed
** stat of one entry is not an error here: errs says which, for the caller to
** report in its order.
*/
int hoist_dirlist_next(struct hoist_dirlist *l, struct hoist_pool **pool, int threads);
static inline const char *hoist_dirlist_name(const struct hoist_dirlist *l, size_t i)
{
  return l->names + l->off[i];
}
void hoist_dirlist_close(struct hoist_dirlist *l);

#endif
