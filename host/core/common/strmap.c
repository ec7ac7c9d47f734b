#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_str(const char *s)
{
  uint64_t h = 1469598103934665603ull;   /* FNV-1a */
  while (*s)
    h = (h ^ (unsigned char)*s++) * 1099511628211ull;
  return h;
}

void strmap_init(struct strmap *m, int owns)
{
  memset(m, 0, sizeof *m);
  m->owns = owns;
}

void strmap_free(struct strmap *m)
{
  size_t i;
  int owns = m->owns;
  if (owns)
    for (i = 0; i < m->cap; i++)
      free((char *)m->s[i].key);
  free(m->s);
  strmap_init(m, owns);
}

/* The live slot of key, or NULL; *free_slot (when asked) is where key would go. */
static struct strmap_slot *find(const struct strmap *m, const char *key, struct strmap_slot **free_slot)
{
  size_t i, mask = m->cap - 1;
  if (free_slot)
    *free_slot = NULL;
  if (m->cap == 0)
    return NULL;
  for (i = hash_str(key) & mask;; i = (i + 1) & mask) {
    struct strmap_slot *s = &m->s[i];
    if (!s->key) {
      if (free_slot && !*free_slot)
        *free_slot = s;
      return NULL;
    }
    if (s->live && strcmp(s->key, key) == 0)
      return s;
    if (!s->live && free_slot && !*free_slot)
      *free_slot = s;   /* a tombstone can be reused */
  }
}

static int grow(struct strmap *m)
{
  struct strmap bigger;
  size_t i;
  strmap_init(&bigger, m->owns);
  bigger.cap = m->cap ? 2 * m->cap : 64;
  /* at most half full after the rehash (tombstones are dropped by it) */
  while (bigger.cap < 2 * (m->live + 1))
    bigger.cap *= 2;
  bigger.s = calloc(bigger.cap, sizeof *bigger.s);
  if (!bigger.s)
    return -1;
  for (i = 0; i < m->cap; i++) {
    struct strmap_slot *s = &m->s[i], *to;
    if (!s->key)
      continue;
    if (!s->live) {
      if (m->owns)
        free((char *)s->key);
      continue;
    }
    find(&bigger, s->key, &to);
    *to = *s;
    bigger.used++;
    bigger.live++;
  }
  free(m->s);
  *m = bigger;
  return 0;
}

int strmap_has(const struct strmap *m, const char *key) { return find(m, key, NULL) != NULL; }

const void *strmap_get(const struct strmap *m, const char *key)
{
  struct strmap_slot *s = find(m, key, NULL);
  return s ? s->val : NULL;
}

int strmap_put(struct strmap *m, const char *key, const void *val)
{
  struct strmap_slot *s, *free_slot;
  const char *k;
  if (2 * (m->used + 1) > m->cap && grow(m) != 0)
    return -1;
  s = find(m, key, &free_slot);
  if (s) {
    s->val = val;
    return 0;
  }
  k = m->owns ? strdup(key) : key;
  if (!k)
    return -1;
  if (!free_slot->key)
    m->used++;
  else if (m->owns)
    free((char *)free_slot->key);   /* a tombstone's */
  free_slot->key = k;
  free_slot->val = val;
  free_slot->live = 1;
  m->live++;
  return 0;
}

void strmap_del(struct strmap *m, const char *key)
{
  struct strmap_slot *s = find(m, key, NULL);
  if (s) {
    s->live = 0;   /* the key stays as a tombstone (an owned one is freed on reuse or growth) */
    m->live--;
  }
}

void strmap_del_prefix(struct strmap *m, const char *prefix)
{
  size_t i, n = strlen(prefix);
  for (i = 0; i < m->cap; i++)
    if (m->s[i].live && strncmp(m->s[i].key, prefix, n) == 0) {
      m->s[i].live = 0;
      m->live--;
    }
}
