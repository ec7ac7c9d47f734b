/*
** fsutil: the file operations hoist needs to be atomic or bounded: folders
** created with their parents, files replaced through a temporary file and
** rename (readers see the old or the new content, never a part), bounded
** reads, blobs linked or copied, trees removed.
*/
#ifndef HOIST_FSUTIL_H
#define HOIST_FSUTIL_H

#include "err.h"

#include <stddef.h>

/* mkdir -p; existing folders are fine. */
int hoist_fs_mkdirs(const char *path, int mode, struct hoist_err *err);

/*
** Replaces path with data, then suffix (a C string, or NULL): a temporary file
** in the same folder, fsync, rename. A symlink at path stays; its target gets
** the content. mode < 0 keeps an existing file's permissions (else 0666 &
** ~umask). On failure the old file is untouched and no temporary file is left.
*/
int hoist_fs_write_atomic(const char *path, const void *data, size_t len, const char *suffix,
                          int mode, struct hoist_err *err);

/* Reads a whole file of at most max bytes; *out is malloc'd and NUL-terminated.
** A missing file is HOIST_ENOENT, a folder or a larger file HOIST_EINVAL / HOIST_ERANGE. */
int hoist_fs_read(const char *path, size_t max, char **out, size_t *len, struct hoist_err *err);

/* Puts src's content at dst (atomically): a hard link when possible, else a copy. */
int hoist_fs_link_or_copy(const char *src, const char *dst, struct hoist_err *err);

/* rm -rf; a missing path is fine. */
int hoist_fs_remove_tree(const char *path, struct hoist_err *err);

#endif
