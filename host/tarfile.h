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

#endif
