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
#include <stdio.h>

/* mkdir -p; existing folders are fine. */
int hoist_fs_mkdirs(const char *path, int mode, struct hoist_err *err);

/*
** Replaces path with data, then suffix (a C string, or NULL): a temporary file
** in the same folder, fsync (unless HOIST_FS_NOSYNC is in flags: a file that
** does not outlive the process), rename. A symlink at path stays; its target gets
** the content. mode < 0 keeps an existing file's permissions (else 0666 &
** ~umask). On failure the old file is untouched and no temporary file is left.
*/
#define HOIST_FS_NOSYNC 1
int hoist_fs_write_atomic(const char *path, const void *data, size_t len, const char *suffix,
                          int mode, int flags, struct hoist_err *err);

/*
** A file written in pieces and put in place only when whole: hoist_fs_out_open
** writes into a temporary file beside path (buffered stdio in o->f);
** hoist_fs_out_commit flushes it (and fsyncs when durable) and renames it over
** path; hoist_fs_out_abort removes it. Either one ends o. A writer killed
** half-way leaves a ".tmp-PID-N" file that hoist_fs_sweep_temps recognises.
*/
struct hoist_fs_out {
  FILE *f;
  char *tmp;
  char *path;
};
int hoist_fs_out_open(struct hoist_fs_out *o, const char *path, struct hoist_err *err);
int hoist_fs_out_commit(struct hoist_fs_out *o, int durable, struct hoist_err *err);
void hoist_fs_out_abort(struct hoist_fs_out *o);

/* Reads a whole file of at most max bytes; *out is malloc'd and NUL-terminated.
** A missing file is HOIST_ENOENT; anything but a regular file (a folder, a FIFO, a
** device: opened without blocking, never read) HOIST_EINVAL; a larger file HOIST_ERANGE. */
int hoist_fs_read(const char *path, size_t max, char **out, size_t *len, struct hoist_err *err);

/* Puts src's content at dst (atomically): a hard link when possible, else a copy. */
int hoist_fs_link_or_copy(const char *src, const char *dst, struct hoist_err *err);

/*
** Puts a copy of src's content at dst (atomically) that shares no inode with
** src, so that editing one never changes the other: a reflink (FICLONE) where
** the file system has them, else an in-kernel copy (copy_file_range), else
** read/write. durable: fsync before the rename (a cache entry that is checked
** when used does not need it).
*/
int hoist_fs_copy(const char *src, const char *dst, int durable, struct hoist_err *err);

/*
** hoist_fs_copy of n files at once, on up to `threads` threads (0: hoist's default,
** hoist_pool_default_threads), taking them in the order given (put the biggest
** first): the in-kernel copies and the fsyncs of several files overlap. rcs[i]
** and errs[i] report each one; returns the first failure's code, or 0.
*/
int hoist_fs_copy_all(const char *const *src, const char *const *dst, size_t n, int durable, int threads,
                      int *rcs, struct hoist_err *errs);

/*
** An exclusive advisory lock (flock) on path, created if missing; waits for
** other holders. *fd is the lock: hoist_fs_unlock releases it. A wait cut
** short by SIGINT/SIGTERM is HOIST_EINTR.
*/
int hoist_fs_lock(const char *path, int *fd, struct hoist_err *err);
void hoist_fs_unlock(int fd);

/*
** Removes in dir the temporary files hoist leaves when it is killed: names with
** ".tmp-" in them whose writer is gone (the process id in the name is not
** running) or, without a process id, untouched for stale_secs. Best effort;
** returns how many were removed.
*/
int hoist_fs_sweep_temps(const char *dir, long stale_secs);

/*
** A file mode as people write it: "0755", "755" or "0o755" (3 or 4 octal digits,
** at most 07777), into *mode. Anything else is HOIST_EINVAL naming the text.
** (An integer mode is checked by the caller to be in 0..07777.)
*/
int hoist_mode_parse(const char *text, int *mode, struct hoist_err *err);

/* rm -rf; a missing path is fine. */
int hoist_fs_remove_tree(const char *path, struct hoist_err *err);

#endif
