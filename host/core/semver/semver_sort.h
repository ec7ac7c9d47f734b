/*
** semver_sort.h: sorting many versions fast, and a small cache of recently
** parsed versions. Both serve hoist.semver (sort, rsort, satisfies), whose
** callers sort every tag of a repository and test the same tags against
** several ranges in a row.
*/
#ifndef HOIST_SEMVER_SORT_H
#define HOIST_SEMVER_SORT_H

#include "err.h"
#include "semver.h"

#include <stddef.h>
#include <stdint.h>

/* ---- sorter ---- */

struct hoist_semver_sorter;

/* A sorter for up to n versions. HOIST_ENOMEM when memory is short. */
int hoist_semver_sorter_new(size_t n, struct hoist_semver_sorter **out);
void hoist_semver_sorter_free(struct hoist_semver_sorter *s);

/*
** Adds the version s[0..len) (parsed with flags into the sorter's own arena,
** so no allocation per version) as item `index`. HOIST_EINVAL with err set
** when it is not a version; HOIST_ERANGE when the sorter is full.
*/
int hoist_semver_sorter_add_text(struct hoist_semver_sorter *s, const char *str, size_t len,
                                 int flags, size_t index, struct hoist_err *err);

/* Adds v as item `index`. v is borrowed and must outlive the sorter. */
int hoist_semver_sorter_add(struct hoist_semver_sorter *s, const struct hoist_semver *v,
                            size_t index);

/* Adds v as item `index` and takes it: freed with the sorter, even on error. */
int hoist_semver_sorter_add_owned(struct hoist_semver_sorter *s, struct hoist_semver *v,
                                  size_t index);

/*
** Sorts the items by precedence, then build metadata (compare_build),
** ascending or descending; equal items keep the order they were added in.
*/
void hoist_semver_sorter_sort(struct hoist_semver_sorter *s, int descending);

size_t hoist_semver_sorter_count(const struct hoist_semver_sorter *s);
/* The index given with the i-th item (in sorted order after a sort). */
size_t hoist_semver_sorter_index(const struct hoist_semver_sorter *s, size_t i);

/* ---- cache of parsed versions ---- */

#define HOIST_SEMVER_CACHE_SLOTS 64
#define HOIST_SEMVER_CACHE_TEXT 48   /* longer strings are not cached */

/*
** Direct-mapped by the string's content. A version is valid until the next
** lookup that maps to its slot. Not thread-safe: one cache per thread.
*/
struct hoist_semver_cache {
  struct hoist_semver_cache_entry {
    uint32_t len;
    int flags;
    char text[HOIST_SEMVER_CACHE_TEXT];
    struct hoist_semver *v;  /* points into mem when set */
    union {
      uint64_t u;
      void *p;
      char b[1536];
    } mem;
  } slot[HOIST_SEMVER_CACHE_SLOTS];
};

/*
** The version s[0..len) parsed with flags, from the cache or parsed into it.
** NULL when it is not a version or is too long to cache (parse it directly).
*/
const struct hoist_semver *hoist_semver_cache_get(struct hoist_semver_cache *c, const char *s,
                                                  size_t len, int flags);

#endif
