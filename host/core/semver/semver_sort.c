/*
** semver_sort.c: sorting versions and caching parsed ones.
**
** Sorting 100k tags is dominated by allocation and page faults, not by
** comparisons: versions are parsed into one arena (no malloc each), items
** and the arena share one anonymous mapping marked for transparent huge
** pages, and most orderings are decided by a packed major.minor.patch key in
** a radix sort, so only runs of equal numbers need the full comparison.
*/
#define _DEFAULT_SOURCE 1  /* MAP_ANONYMOUS, MADV_HUGEPAGE */

#include "semver_sort.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct item {
  uint64_t key;  /* major, minor, patch packed when they fit, else 0 */
  const struct hoist_semver *v;
  size_t index;
  size_t order;  /* position when added: ties keep it (stable, like JavaScript's sort) */
};

#define ARENA_BLOCK (64 * 1024)
#define HUGE_PAGE ((size_t)2 << 20)
#define ARENA_PER_ITEM 192

struct arena_block {
  struct arena_block *next;
  size_t used;
  union {
    uint64_t u;
    char b[ARENA_BLOCK];
  } mem;
};

struct hoist_semver_sorter {
  size_t n, cap;
  struct item *items, *tmp;
  struct hoist_semver **owned;   /* versions the sorter frees (rare) */
  size_t nowned;
  struct arena_block *blocks;    /* once the mapped arena is full */
  void *map;                     /* one mapping: items, tmp, then the arena */
  size_t map_len;
  char *arena;
  size_t arena_used, arena_len;
};

int hoist_semver_sorter_new(size_t n, struct hoist_semver_sorter **out)
{
  struct hoist_semver_sorter *s = calloc(1, sizeof *s);
  size_t items, want, len;
  char *base;
  *out = NULL;
  if (!s)
    return HOIST_ENOMEM;
  s->cap = n ? n : 1;
  if (s->cap > (SIZE_MAX / 4) / (2 * sizeof *s->items + ARENA_PER_ITEM)) {
    free(s);
    return HOIST_ENOMEM;
  }
  items = s->cap * sizeof *s->items;
  want = 2 * items + s->cap * ARENA_PER_ITEM;
  len = ((want + HUGE_PAGE - 1) / HUGE_PAGE + 1) * HUGE_PAGE;
  base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) {
    free(s);
    return HOIST_ENOMEM;
  }
  s->map = base;
  s->map_len = len;
  base = (char *)(((uintptr_t)base + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
#ifdef MADV_HUGEPAGE
  madvise(base, len - HUGE_PAGE, MADV_HUGEPAGE);
#endif
  s->items = (struct item *)base;
  s->tmp = (struct item *)(base + items);
  s->arena = base + 2 * items;
  s->arena_len = len - HUGE_PAGE - 2 * items;
  *out = s;
  return HOIST_OK;
}

void hoist_semver_sorter_free(struct hoist_semver_sorter *s)
{
  size_t i;
  if (!s)
    return;
  for (i = 0; i < s->nowned; i++)
    hoist_semver_free(s->owned[i]);
  free(s->owned);
  while (s->blocks) {
    struct arena_block *next = s->blocks->next;
    free(s->blocks);
    s->blocks = next;
  }
  if (s->map)
    munmap(s->map, s->map_len);
  free(s);
}

/* Packs major.minor.patch so most comparisons touch no version at all. */
static uint64_t pack_key(const struct hoist_semver *v)
{
  if (v->major >= (1u << 20) || v->minor >= (1u << 21) || v->patch >= (1u << 21))
    return 0;
  return (v->major + 1) << 42 | v->minor << 21 | v->patch;
}

static void put_item(struct hoist_semver_sorter *s, const struct hoist_semver *v, size_t index)
{
  struct item *it = &s->items[s->n];
  it->v = v;
  it->key = pack_key(v);
  it->index = index;
  it->order = s->n++;
}

int hoist_semver_sorter_add(struct hoist_semver_sorter *s, const struct hoist_semver *v,
                            size_t index)
{
  if (s->n >= s->cap)
    return HOIST_ERANGE;
  put_item(s, v, index);
  return HOIST_OK;
}

int hoist_semver_sorter_add_owned(struct hoist_semver_sorter *s, struct hoist_semver *v,
                                  size_t index)
{
  if (s->n >= s->cap) {
    hoist_semver_free(v);
    return HOIST_ERANGE;
  }
  if (!s->owned && !(s->owned = malloc(s->cap * sizeof *s->owned))) {
    hoist_semver_free(v);
    return HOIST_ENOMEM;
  }
  s->owned[s->nowned++] = v;
  put_item(s, v, index);
  return HOIST_OK;
}

/* Parses into buf[0..cap); on success advances *used past the version, 16-byte aligned. */
static int parse_into(const char *str, size_t len, int flags, char *buf, size_t cap,
                      size_t *used, struct hoist_semver **v, struct hoist_err *err)
{
  int rc = hoist_semver_parse_in(str, len, flags, buf, cap, v, err);
  if (rc == HOIST_OK)
    *used += (size_t)((char *)*v - buf) + (((*v)->size + 15) & ~(size_t)15);
  return rc;
}

int hoist_semver_sorter_add_text(struct hoist_semver_sorter *s, const char *str, size_t len,
                                 int flags, size_t index, struct hoist_err *err)
{
  struct hoist_semver *v = NULL;
  int rc;
  if (s->n >= s->cap)
    return hoist_err_set(err, HOIST_ERANGE, "sorter full (%zu versions)", s->cap);
  if (s->arena_used < s->arena_len) {
    rc = parse_into(str, len, flags, s->arena + s->arena_used, s->arena_len - s->arena_used,
                    &s->arena_used, &v, err);
    if (rc != HOIST_ERANGE)
      goto parsed;
  }
  if (s->blocks && s->blocks->used < ARENA_BLOCK) {
    struct arena_block *b = s->blocks;
    rc = parse_into(str, len, flags, b->mem.b + b->used, ARENA_BLOCK - b->used, &b->used, &v,
                    err);
    if (rc != HOIST_ERANGE)
      goto parsed;
  }
  if (len < ARENA_BLOCK / 8) {
    struct arena_block *b = malloc(sizeof *b);
    if (!b)
      return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    b->used = 0;
    b->next = s->blocks;
    s->blocks = b;
    rc = parse_into(str, len, flags, b->mem.b, ARENA_BLOCK, &b->used, &v, err);
    if (rc != HOIST_ERANGE)
      goto parsed;
  }
  /* too big for any arena block: a version of its own */
  if ((rc = hoist_semver_parse(str, len, flags, &v, err)) != HOIST_OK)
    return rc;
  if ((rc = hoist_semver_sorter_add_owned(s, v, index)) != HOIST_OK)
    return hoist_err_set(err, rc, "out of memory");
  return HOIST_OK;
parsed:
  if (rc != HOIST_OK)
    return rc;
  put_item(s, v, index);
  return HOIST_OK;
}

/* Full comparison: numbers first (the common case), then compare_build, then insertion order. */
static int cmp_full(const struct item *a, const struct item *b)
{
  const struct hoist_semver *x = a->v, *y = b->v;
  int c;
  if (x->major != y->major)
    return x->major < y->major ? -1 : 1;
  if (x->minor != y->minor)
    return x->minor < y->minor ? -1 : 1;
  if (x->patch != y->patch)
    return x->patch < y->patch ? -1 : 1;
  c = hoist_semver_compare_build(x, y);
  return c;
}

static int sort_asc(const void *pa, const void *pb)
{
  const struct item *a = pa, *b = pb;
  int c;
  if (a->key != b->key && a->key && b->key)
    return a->key < b->key ? -1 : 1;
  c = cmp_full(a, b);
  return c ? c : (a->order > b->order) - (a->order < b->order);
}

static int sort_desc(const void *pa, const void *pb)
{
  const struct item *a = pa, *b = pb;
  int c;
  if (a->key != b->key && a->key && b->key)
    return a->key > b->key ? -1 : 1;
  c = cmp_full(b, a);
  return c ? c : (a->order > b->order) - (a->order < b->order);
}

/*
** Stable LSD radix sort on the packed keys (11 bits a pass; passes where all
** digits agree are skipped), then the full comparison inside runs of equal
** keys. qsort with the full comparison when some version's numbers are too
** large to pack.
*/
void hoist_semver_sorter_sort(struct hoist_semver_sorter *s, int descending)
{
  struct item *a = s->items, *tmp = s->tmp;
  size_t i, j, shift, n = s->n;
  int (*cmp)(const void *, const void *) = descending ? sort_desc : sort_asc;
  enum { BITS = 11, RADIX = 1 << 11 };
  size_t count[RADIX];
  for (i = 0; i < n; i++)
    if (a[i].key == 0) {
      qsort(a, n, sizeof *a, cmp);
      return;
    }
  for (shift = 0; shift < 64; shift += BITS) {
    size_t sum = 0;
    memset(count, 0, sizeof count);
    for (i = 0; i < n; i++) {
      uint64_t k = descending ? ~a[i].key : a[i].key;
      count[(k >> shift) & (RADIX - 1)]++;
    }
    if (n && count[((descending ? ~a[0].key : a[0].key) >> shift) & (RADIX - 1)] == n)
      continue;
    for (i = 0; i < RADIX; i++) {
      size_t c = count[i];
      count[i] = sum;
      sum += c;
    }
    for (i = 0; i < n; i++) {
      uint64_t k = descending ? ~a[i].key : a[i].key;
      tmp[count[(k >> shift) & (RADIX - 1)]++] = a[i];
    }
    memcpy(a, tmp, n * sizeof *a);
  }
  for (i = 0; i < n; i = j) {
    for (j = i + 1; j < n && a[j].key == a[i].key; j++)
      ;
    if (j - i > 1)
      qsort(a + i, j - i, sizeof *a, cmp);
  }
}

size_t hoist_semver_sorter_count(const struct hoist_semver_sorter *s) { return s->n; }

size_t hoist_semver_sorter_index(const struct hoist_semver_sorter *s, size_t i)
{
  return s->items[i].index;
}

/* ---- cache ---- */

static size_t slot_of(const char *s, size_t len, int flags)
{
  uint32_t h = 2166136261u ^ (uint32_t)flags;  /* FNV-1a */
  size_t i;
  for (i = 0; i < len; i++)
    h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h % HOIST_SEMVER_CACHE_SLOTS;
}

const struct hoist_semver *hoist_semver_cache_get(struct hoist_semver_cache *c, const char *s,
                                                  size_t len, int flags)
{
  struct hoist_semver_cache_entry *e;
  struct hoist_semver *v;
  if (len > HOIST_SEMVER_CACHE_TEXT)
    return NULL;
  e = &c->slot[slot_of(s, len, flags)];
  if (e->v && e->len == len && e->flags == flags && memcmp(e->text, s, len) == 0)
    return e->v;
  e->v = NULL;
  if (hoist_semver_parse_in(s, len, flags, e->mem.b, sizeof e->mem.b, &v, NULL) != HOIST_OK)
    return NULL;
  memcpy(e->text, s, len);
  e->len = (uint32_t)len;
  e->flags = flags;
  e->v = v;
  return v;
}
