/*
** layerfiles: what a layer blob holds, entry by entry, with the SHA-256 and
** SHA-1 of every regular file's content (an SBOM needs both: SPDX 2.3 requires
** SHA-1 per file). One streaming pass per layer through libarchive (gzip, zstd
** or plain tar); nothing but one block is held in memory. Several layers are
** read on several threads.
**
** The layer writer (layer.h, hoist_layer_write_all_files) makes the same list
** while it writes a layer, through the two helpers below that this reader uses
** too (hoist_layer_entry_init, struct hoist_file_hash): one description of an
** entry, so that a list recorded while writing equals the list read back.
*/
#ifndef HOIST_LAYERFILES_H
#define HOIST_LAYERFILES_H

#include "err.h"

#include <stddef.h>

struct hoist_layer_entry {
  char *name;          /* normalized: no leading "./" or "/", no trailing "/" */
  char type;           /* 'f' file, 'd' folder, 'l' symlink, 'h' hard link, 'o' other */
  unsigned mode;       /* permission bits */
  long long size;      /* of a regular file */
  char *link;          /* symlink or hard link target (normalized for hard links), else NULL */
  char sha256[65];     /* hex, regular files only */
  char sha1[41];
};

struct hoist_layer_files {
  struct hoist_layer_entry *entries;   /* in archive order */
  size_t n;
};

/* The most entries one list holds: a layer with more is refused (read or recorded). */
#define HOIST_LAYER_FILES_MAX 10000000

/*
** Fills e (zeroed first) as a reader of the tar sees that entry: name as stored in the tar and
** normalized, type, permission bits; link is a hard link's target (normalized like names) or a
** symlink's (as stored), NULL otherwise. The hashes and size are left for the caller.
*/
int hoist_layer_entry_init(struct hoist_layer_entry *e, const char *name, char type, unsigned mode,
                           const char *link, struct hoist_err *err);

/* SHA-256 and SHA-1 of one regular file's content at a time, fed in pieces. */
struct hoist_file_hash;

int hoist_file_hash_new(struct hoist_file_hash **out, struct hoist_err *err);
/* Starts a file (the previous one's state is dropped). */
int hoist_file_hash_start(struct hoist_file_hash *h, struct hoist_err *err);
int hoist_file_hash_update(struct hoist_file_hash *h, const void *buf, size_t n,
                           struct hoist_err *err);
/* Finishes the file into e->sha256 and e->sha1 (hex). */
int hoist_file_hash_final(struct hoist_file_hash *h, struct hoist_layer_entry *e,
                          struct hoist_err *err);
void hoist_file_hash_free(struct hoist_file_hash *h);

/* Reads one layer blob (or plain tar) at path. */
int hoist_layer_files_read(const char *path, struct hoist_layer_files *out, struct hoist_err *err);

/*
** Reads n layers on up to nthreads threads (0: 2). out[i], rcs[i] and errs[i]
** report each one; returns the first failure's code, or 0.
*/
int hoist_layer_files_read_all(const char *const *paths, size_t n, int nthreads,
                               struct hoist_layer_files *out, int *rcs, struct hoist_err *errs);

void hoist_layer_files_free(struct hoist_layer_files *f);

#endif
