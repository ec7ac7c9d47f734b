/*
** strmap: a string-keyed hash map (open addressing, linear probing, FNV-1a)
** for the cores that index thousands of paths: the folders a layer plan implies,
** the files of an image as its layers are applied. Keys are borrowed (the caller
** keeps them alive) unless the map is made owning (it copies and frees them).
** A removed key leaves a tombstone so that probing goes on past it; tombstones
** are reused and dropped when the table grows.
*/
#ifndef HOIST_STRMAP_H
#define HOIST_STRMAP_H

#include <stddef.h>

struct strmap_slot {
  const char *key;   /* NULL: never used */
  const void *val;
  int live;
};

struct strmap {
  struct strmap_slot *s;
  size_t cap, used, live;   /* cap is 0 or a power of two; live is the number of keys */
  int owns;
};

/* An empty map; owns: copy keys on insert and free them. */
void strmap_init(struct strmap *m, int owns);
void strmap_free(struct strmap *m);

int strmap_has(const struct strmap *m, const char *key);
/* The value of key, or NULL when absent (or when NULL was put). */
const void *strmap_get(const struct strmap *m, const char *key);
/* Sets key to val; -1 when out of memory (the map is unchanged). */
int strmap_put(struct strmap *m, const char *key, const void *val);
void strmap_del(struct strmap *m, const char *key);
/* Removes every key that starts with prefix ("" removes all). */
void strmap_del_prefix(struct strmap *m, const char *prefix);

#endif
