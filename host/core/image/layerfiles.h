/*
** layerfiles: what a layer blob holds, entry by entry, with the SHA-256 and
** SHA-1 of every regular file's content (an SBOM needs both: SPDX 2.3 requires
** SHA-1 per file). One streaming pass per layer through libarchive (gzip, zstd
** or plain tar); nothing but one block is held in memory. Several layers are
** read on several threads.
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
