/*
** layer: one OCI layer from files, in one streaming pass.
**
** Inputs are mapped into the image ({from, to, mode, owner, exclude});
** planning walks them, sorts every entry and computes a cache key from what
** was seen (paths, sizes, modes, owners, mtimes, inodes, exclusions, options).
** Writing runs the entries through libarchive's PAX writer into a sink that
** hashes the tar (the diff_id) on the producing thread, compresses it and
** hashes the compressed bytes where they leave, in order (the digest), then
** hands them to an output: a temporary blob renamed to its digest at the end,
** or any writer (hoist_layer_stream_all). On request (the _files variants) the
** same pass records every entry with the SHA-256 and SHA-1 of each regular
** file's bytes as they go into the tar: the list an SBOM needs, without reading
** the finished layer again.
**
** Compression runs on one hoist_pool shared by every layer of a call: gzip
** with pgzip (fixed 128 KiB blocks compressed in parallel, one standard gzip
** member, see pgzip.h), zstd with its own workers (ZSTD_c_nbWorkers, always
** >= 1: zstd's multi-threaded output does not depend on their number). The
** biggest layers start first; blocks run before new layers. Memory is bounded
** by two blocks in flight per thread, whatever the number of layers.
**
** The result is reproducible: the same inputs and the same hoist give the same
** bytes on any machine with any number of threads: owners from the inputs
** (0:0 by default) with no owner names, mtimes from the options, a gzip header
** without time or name, fixed levels and block sizes.
*/
#ifndef HOIST_LAYER_H
#define HOIST_LAYER_H

#include "digest.h"
#include "err.h"
#include "layerfiles.h"

#include <stddef.h>

enum hoist_compression { HOIST_COMPRESS_GZIP, HOIST_COMPRESS_ZSTD, HOIST_COMPRESS_NONE };

struct hoist_layer_input {
  const char *from;   /* a file or folder on the host (relative to the working directory) */
  const char *to;     /* where it lands in the image ("/ui", "/", "/service") */
  int mode;           /* permission bits forced on regular files, or -1 to keep them */
  /* what a zeroed tail means: owner 0:0, nothing excluded */
  unsigned long uid, gid;             /* every entry's owner in the tar (no names) */
  const char *const *exclude;         /* globs (pathglob.h) on paths under a folder `from`; */
  size_t n_exclude;                   /* ignored when `from` is a file */
};

/* "uid:gid" (decimal, each 0..4294967294) -> *uid, *gid; HOIST_EINVAL otherwise. */
int hoist_layer_parse_owner(const char *s, unsigned long *uid, unsigned long *gid,
                            struct hoist_err *err);

struct hoist_layer_opts {
  enum hoist_compression compression;
  int level;              /* -1: gzip 6, zstd 3 */
  long long mtime;        /* every entry's mtime (SOURCE_DATE_EPOCH, 0 when unset) */
  const char *root;       /* every input must resolve inside this folder (NULL: no check) */
  /*
  ** 1: folders implied by deeper entries ("opt" for "opt/app") are not written. For a layer
  ** over a base image: a folder the base has keeps its mode and owner (/root 0700), one it lacks
  ** is created by the runtime. 0: they are written, mode 0755, owned like the entry that implies
  ** them first (as BuildKit's COPY --chown creates them).
  */
  int no_parents;
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
/* The bytes of file content the plan will read (what read_bytes below counts up to). */
unsigned long long hoist_layer_plan_bytes(const struct hoist_layer_plan *p);
void hoist_layer_plan_free(struct hoist_layer_plan *p);

/*
** Writes the layer into blob_dir (an OCI blobs/sha256 folder) as <hex of digest>,
** with hoist_pool_default_threads() threads. On failure nothing is left in blob_dir.
*/
int hoist_layer_write(const struct hoist_layer_plan *p, const char *blob_dir,
                      struct hoist_layer_result *res, struct hoist_err *err);

/*
** Writes several plans into blob_dir with nthreads threads in all (the
** calling thread is one of them; <= 0: hoist_pool_default_threads(), which
** honours $HOIST_THREADS). errs[i] and rcs[i] report each one; returns the
** first failure's code, or 0. The bytes do not depend on nthreads.
*/
int hoist_layer_write_all(struct hoist_layer_plan *const *plans, size_t n, const char *blob_dir,
                          int nthreads, struct hoist_layer_result *res, int *rcs,
                          struct hoist_err *errs);

/*
** The hook for sending layers somewhere else than a folder (a registry upload
** while the layer is being compressed): the compressed stream of plan i goes
** through these calls, in this order, on the pool thread producing layer i:
**   open(ctx, i, err)            before the first byte (may be NULL)
**   write(ctx, i, buf, n, err)   the compressed bytes, in order, any number of times
**   close(ctx, i, res, err)      once, at the end: res is the finished layer (its digest
**                                and sizes), or NULL when the layer failed (roll back)
** Calls for one layer never overlap; calls for different layers may run at the
** same time on different threads. A non-zero return (with err set) fails that
** layer; close is still called (with res NULL) when open succeeded.
*/
struct hoist_layer_out {
  int (*open)(void *ctx, size_t i, struct hoist_err *err);
  int (*write)(void *ctx, size_t i, const void *buf, size_t n, struct hoist_err *err);
  int (*close)(void *ctx, size_t i, const struct hoist_layer_result *res, struct hoist_err *err);
  void *ctx;
};

/* hoist_layer_write_all, with every layer's compressed stream going through out. */
int hoist_layer_stream_all(struct hoist_layer_plan *const *plans, size_t n,
                           const struct hoist_layer_out *out, int nthreads,
                           struct hoist_layer_result *res, int *rcs, struct hoist_err *errs);

/*
** hoist_layer_write_all and hoist_layer_stream_all, which also record what each layer holds:
** files[i] (when files is not NULL) receives layer i's entries exactly as hoist_layer_files_read
** would read them back from the finished blob (names as in the tar, archive order, hard links,
** symlinks, folders), with the SHA-256 and SHA-1 of every regular file computed from the bytes
** as they are written (each file is still read once). files[i] is filled when rcs[i] is 0 and
** empty otherwise; the caller frees every one with hoist_layer_files_free. A layer of more than
** HOIST_LAYER_FILES_MAX entries fails with HOIST_ERANGE. Costs two hashes of the files' bytes
** on the thread writing each layer, and memory for one entry per tar entry until freed.
*/
int hoist_layer_write_all_files(struct hoist_layer_plan *const *plans, size_t n,
                                const char *blob_dir, int nthreads,
                                struct hoist_layer_result *res, struct hoist_layer_files *files,
                                int *rcs, struct hoist_err *errs);
int hoist_layer_stream_all_files(struct hoist_layer_plan *const *plans, size_t n,
                                 const struct hoist_layer_out *out, int nthreads,
                                 struct hoist_layer_result *res, struct hoist_layer_files *files,
                                 int *rcs, struct hoist_err *errs);

/*
** The same, counting progress: every byte of file content read into a tar is added to
** *read_bytes (NULL: not counted) as it is read, from the threads writing the layers, so that
** another thread can report it (the total is the sum of hoist_layer_plan_bytes).
*/
int hoist_layer_write_all_watch(struct hoist_layer_plan *const *plans, size_t n,
                                const char *blob_dir, int nthreads,
                                struct hoist_layer_result *res, struct hoist_layer_files *files,
                                _Atomic unsigned long long *read_bytes, int *rcs,
                                struct hoist_err *errs);
int hoist_layer_stream_all_watch(struct hoist_layer_plan *const *plans, size_t n,
                                 const struct hoist_layer_out *out, int nthreads,
                                 struct hoist_layer_result *res, struct hoist_layer_files *files,
                                 _Atomic unsigned long long *read_bytes, int *rcs,
                                 struct hoist_err *errs);

/* The OCI media type of a layer with that compression. */
const char *hoist_layer_media_type(enum hoist_compression c);

#endif
