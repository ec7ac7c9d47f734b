/*
** tarfile: a plain (uncompressed) tar file of named files and buffers,
** written through a temporary file and renamed into place, reproducibly
** (mtime from the caller, uid/gid 0, no owner names). Used for docker-archive.
*/
#ifndef HOIST_TARFILE_H
#define HOIST_TARFILE_H

#include "err.h"

#include <stddef.h>

struct hoist_tar_member {
  const char *name;   /* path in the archive */
  const char *path;   /* a file to copy in, or NULL to use data */
  const void *data;
  size_t len;
  int mode;           /* permission bits */
};

int hoist_tar_write(const char *path, const struct hoist_tar_member *m, size_t n, long long mtime,
                    struct hoist_err *err);

/* What a scan sees of one entry. */
struct hoist_tar_entry {
  const char *name;
  char type;          /* 'f' file, 'd' folder, 'l' symlink, 'h' hard link, 'o' other */
  long long size;
  int mode;           /* permission bits (07777) as written in the header */
  const char *link;   /* a symlink's target or a hard link's name, else NULL */
};

/*
** Reads a tar (compressed with gzip or zstd, or not) entry by entry. For each
** entry, on_entry(ctx, entry) is called; when it returns 1 the entry's content
** (at most max bytes) is passed to on_data(ctx, name, data, len). A callback
** returning < 0 stops the scan with HOIST_EINVAL.
*/
typedef int (*hoist_tar_entry_fn)(void *ctx, const struct hoist_tar_entry *e);
typedef int (*hoist_tar_data_fn)(void *ctx, const char *name, const char *data, size_t len);
int hoist_tar_scan(const char *path, size_t max, hoist_tar_entry_fn on_entry,
                   hoist_tar_data_fn on_data, void *ctx, struct hoist_err *err);

#endif
