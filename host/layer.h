/*
** layer: one OCI layer from files, in one streaming pass.
**
** Inputs are mapped into the image ({from, to, mode}); planning walks them,
** sorts every entry and computes a cache key from what was seen (paths,
** sizes, modes, mtimes, inodes, options). Writing runs the entries through
** libarchive's PAX writer into a sink that hashes the tar (the diff_id),
** compresses it (gzip or zstd) and hashes and writes the compressed bytes to a
** temporary blob that is renamed to its digest at the end. Nothing is held in
** memory but one block of one file. The result is reproducible: uid/gid 0, no
** owner names, mtimes from the options, a gzip header without time or name,
** fixed levels.
*/
#ifndef HOIST_LAYER_H
#define HOIST_LAYER_H

#include "digest.h"
#include "err.h"

#include <stddef.h>

enum hoist_compression { HOIST_COMPRESS_GZIP, HOIST_COMPRESS_ZSTD, HOIST_COMPRESS_NONE };

struct hoist_layer_input {
  const char *from;   /* a file or folder on the host (relative to the working directory) */
  const char *to;     /* where it lands in the image ("/ui", "/", "/service") */
  int mode;           /* permission bits forced on regular files, or -1 to keep them */
};

struct hoist_layer_opts {
  enum hoist_compression compression;
  int level;              /* -1: gzip 6, zstd 3 */
  long long mtime;        /* every entry's mtime (SOURCE_DATE_EPOCH, 0 when unset) */
  const char *root;       /* every input must resolve inside this folder (NULL: no check) */
};

struct hoist_layer_result {
  char digest[HOIST_DIGEST_LEN + 1];   /* of the compressed blob */
  char diff_id[HOIST_DIGEST_LEN + 1];  /* of the uncompressed tar */
  unsigned long long size;             /* compressed bytes */
  unsigned long long tar_size;
  size_t entries;
};

struct hoist_layer_plan;

/* Walks the inputs. *out is the plan (hoist_layer_plan_free), with its key filled. */
int hoist_layer_plan(const struct hoist_layer_input *in, size_t n, const struct hoist_layer_opts *o,
                     struct hoist_layer_plan **out, struct hoist_err *err);
/* "sha256:..." over everything that decides the layer's bytes. */
const char *hoist_layer_plan_key(const struct hoist_layer_plan *p);
size_t hoist_layer_plan_entries(const struct hoist_layer_plan *p);
void hoist_layer_plan_free(struct hoist_layer_plan *p);

/*
** Writes the layer into blob_dir (an OCI blobs/sha256 folder) as <hex of digest>.
** On failure nothing is left in blob_dir.
*/
int hoist_layer_write(const struct hoist_layer_plan *p, const char *blob_dir,
                      struct hoist_layer_result *res, struct hoist_err *err);

/*
** Writes several plans on up to nthreads threads (0: one per core). errs[i]
** and rcs[i] report each one; returns the first failure's code, or 0.
*/
int hoist_layer_write_all(struct hoist_layer_plan *const *plans, size_t n, const char *blob_dir,
                          int nthreads, struct hoist_layer_result *res, int *rcs,
                          struct hoist_err *errs);

/* The OCI media type of a layer with that compression. */
const char *hoist_layer_media_type(enum hoist_compression c);

#endif
