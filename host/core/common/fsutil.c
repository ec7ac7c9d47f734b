#define _GNU_SOURCE 1  /* fsync, mkstemp, copy_file_range */

#include "fsutil.h"

#include "strbuf.h"

#include "interrupt.h"
#include "pool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int hoist_fs_mkdirs(const char *path, int mode, struct hoist_err *err)
{
  char buf[PATH_MAX];
  size_t i, n = strlen(path);
  struct stat st;
  if (n == 0 || n >= sizeof buf)
    return hoist_err_set(err, HOIST_EINVAL, "invalid folder path '%s'", path);
  memcpy(buf, path, n + 1);
  for (i = 1; i <= n; i++) {
    if (buf[i] != '/' && buf[i] != '\0')
      continue;
    buf[i] = '\0';
    if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST)
      return hoist_err_set(err, HOIST_EIO, "cannot create folder '%s': %s", buf, strerror(errno));
    if (i < n)
      buf[i] = '/';
  }
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
    return hoist_err_set(err, HOIST_EIO, "'%s' is not a folder", path);
  return HOIST_OK;
}

static int write_all(int fd, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* A temporary file next to path: opened O_EXCL, name returned in tmp. */
static int open_temp_beside(const char *path, struct strbuf *tmp)
{
  /* atomic: several threads write files at once (hoist_fs_copy_all) */
  static atomic_uint counter;
  unsigned attempt;
  for (attempt = 0; attempt < 100; attempt++) {
    int fd;
    strbuf_reset(tmp);
    if (strbuf_addf(tmp, "%s.tmp-%ld-%u", path, (long)getpid(), atomic_fetch_add(&counter, 1)))
      return -1;
    fd = open(tmp->buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST)
      return fd;
  }
  return -1;
}

int hoist_fs_out_open(struct hoist_fs_out *o, const char *path, struct hoist_err *err)
{
  struct strbuf tmp;
  int fd, saved;
  memset(o, 0, sizeof *o);
  strbuf_init(&tmp, PATH_MAX);
  fd = open_temp_beside(path, &tmp);
  if (fd < 0) {
    saved = errno;
    strbuf_release(&tmp);
    return hoist_err_set(err, saved == ENOENT ? HOIST_ENOENT : HOIST_EIO, "cannot write '%s': %s", path,
                         strerror(saved));
  }
  o->tmp = strbuf_detach(&tmp, NULL);
  o->path = strdup(path);
  o->f = fdopen(fd, "wb");
  if (!o->tmp || !o->path || !o->f) {
    if (!o->f)
      close(fd);
    hoist_fs_out_abort(o);
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  return HOIST_OK;
}

int hoist_fs_out_commit(struct hoist_fs_out *o, int durable, struct hoist_err *err)
{
  int bad = fflush(o->f) != 0 || ferror(o->f) || (durable && fsync(fileno(o->f)) != 0);
  int saved = errno;
  if (fclose(o->f) != 0 && !bad) {
    bad = 1;
    saved = errno;
  }
  o->f = NULL;
  if (!bad && rename(o->tmp, o->path) != 0) {
    bad = 1;
    saved = errno;
  }
  if (bad) {
    hoist_err_set(err, HOIST_EIO, "cannot write '%s': %s", o->path, strerror(saved));
    hoist_fs_out_abort(o);
    return HOIST_EIO;
  }
  free(o->tmp);
  free(o->path);
  memset(o, 0, sizeof *o);
  return HOIST_OK;
}

void hoist_fs_out_abort(struct hoist_fs_out *o)
{
  if (o->f)
    fclose(o->f);
  if (o->tmp)
    unlink(o->tmp);
  free(o->tmp);
  free(o->path);
  memset(o, 0, sizeof *o);
}

int hoist_fs_write_atomic(const char *path, const void *data, size_t len, const char *suffix,
                          int mode, int flags, struct hoist_err *err)
{
  struct hoist_fs_out o;
  struct stat st;
  char target[PATH_MAX];
  const char *dest = path;
  int rc, saved;
  /* replacing a symlink would break whatever it is there for (a shared config, say) */
  if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && realpath(path, target))
    dest = target;
  if (mode < 0 && stat(dest, &st) == 0 && S_ISREG(st.st_mode))
    mode = (int)(st.st_mode & 07777);
  if ((rc = hoist_fs_out_open(&o, dest, err)))
    return rc;
  if ((mode >= 0 && fchmod(fileno(o.f), (mode_t)mode) != 0) || fwrite(data, 1, len, o.f) != len ||
      (suffix && fputs(suffix, o.f) == EOF)) {
    saved = errno;
    hoist_fs_out_abort(&o);
    return hoist_err_set(err, HOIST_EIO, "cannot write '%s': %s", path, strerror(saved));
  }
  return hoist_fs_out_commit(&o, !(flags & HOIST_FS_NOSYNC), err);
}

int hoist_fs_read(const char *path, size_t max, char **out, size_t *len, struct hoist_err *err)
{
  struct strbuf sb;
  char buf[65536];
  struct stat st;
  /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), rc = HOIST_OK;
  *out = NULL;
  if (fd < 0)
    return hoist_err_set(err, errno == ENOENT ? HOIST_ENOENT : HOIST_EIO, "cannot read '%s': %s",
                         path, strerror(errno));
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return hoist_err_set(err, HOIST_EIO, "cannot read '%s': %s", path, strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return hoist_err_set(err, HOIST_EINVAL, "cannot read '%s': %s", path,
                         S_ISDIR(st.st_mode)    ? "it is a folder"
                         : S_ISFIFO(st.st_mode) ? "it is a FIFO, not a regular file"
                         : S_ISSOCK(st.st_mode) ? "it is a socket, not a regular file"
                                                : "it is a device, not a regular file");
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  strbuf_init(&sb, max);
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      rc = hoist_err_set(err, HOIST_EIO, "cannot read '%s': %s", path, strerror(errno));
      break;
    }
    if (n == 0)
      break;
    if (strbuf_add(&sb, buf, (size_t)n)) {
      rc = max >= (1u << 20)
             ? hoist_err_set(err, HOIST_ERANGE, "cannot read '%s': larger than %zu MiB", path, max >> 20)
             : hoist_err_set(err, HOIST_ERANGE, "cannot read '%s': larger than %zu bytes", path, max);
      break;
    }
  }
  close(fd);
  if (rc) {
    strbuf_release(&sb);
    return rc;
  }
  *out = strbuf_detach(&sb, len);
  return *out ? HOIST_OK : hoist_err_set(err, HOIST_ENOMEM, "out of memory");
}

static int copy_into(int in, int out)
{
  char buf[1 << 16];
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0)
      return 0;
    if (write_all(out, buf, (size_t)n) != 0)
      return -1;
  }
}

int hoist_fs_link_or_copy(const char *src, const char *dst, struct hoist_err *err)
{
  struct strbuf tmp;
  int in, out, saved;
  strbuf_init(&tmp, PATH_MAX);
  /* a hard link to a temporary name, then rename: dst appears whole or not at all */
  if (strbuf_addf(&tmp, "%s.tmp-%ld-link", dst, (long)getpid()) == 0) {
    unlink(tmp.buf);
    if (link(src, tmp.buf) == 0) {
      if (rename(tmp.buf, dst) == 0) {
        /* dst already a link to src: rename does nothing and tmp stays */
        unlink(tmp.buf);
        strbuf_release(&tmp);
        return HOIST_OK;
      }
      unlink(tmp.buf);
    }
  }
  in = open(src, O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    saved = errno;
    strbuf_release(&tmp);
    return hoist_err_set(err, HOIST_EIO, "cannot read '%s': %s", src, strerror(saved));
  }
  out = open_temp_beside(dst, &tmp);
  if (out < 0 || copy_into(in, out) != 0 || fsync(out) != 0) {
    saved = errno;
    goto fail;
  }
  if (close(out) != 0) {
    out = -1;
    saved = errno;
    goto fail;
  }
  out = -1;
  if (rename(tmp.buf, dst) != 0) {
    saved = errno;
    goto fail;
  }
  close(in);
  strbuf_release(&tmp);
  return HOIST_OK;
fail:
  close(in);
  if (out >= 0) {
    close(out);
  }
  if (tmp.buf)
    unlink(tmp.buf);
  strbuf_release(&tmp);
  return hoist_err_set(err, HOIST_EIO, "cannot copy '%s' to '%s': %s", src, dst, strerror(saved));
}

/* copy_file_range until EOF; -1 when the kernel or the file systems cannot (then copy_into) */
static int copy_kernel(int in, int out)
{
  for (;;) {
    ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0)
      return 0;
  }
}

int hoist_fs_copy(const char *src, const char *dst, int durable, struct hoist_err *err)
{
  struct strbuf tmp;
  int in, out = -1, saved;
  strbuf_init(&tmp, PATH_MAX);
  in = open(src, O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    saved = errno;
    strbuf_release(&tmp);
    return hoist_err_set(err, HOIST_EIO, "cannot read '%s': %s", src, strerror(saved));
  }
  out = open_temp_beside(dst, &tmp);
  if (out < 0) {
    saved = errno;
    goto fail;
  }
  /* a reflink shares blocks copy-on-write: as good as a copy, without the I/O */
  if (ioctl(out, FICLONE, in) != 0 && copy_kernel(in, out) != 0) {
    /* copy_file_range may have written part before failing: start again from 0 */
    if (ftruncate(out, 0) != 0 || lseek(in, 0, SEEK_SET) != 0 || lseek(out, 0, SEEK_SET) != 0 ||
        copy_into(in, out) != 0) {
      saved = errno;
      goto fail;
    }
  }
  if (durable && fsync(out) != 0) {
    saved = errno;
    goto fail;
  }
  if (close(out) != 0) {
    out = -1;
    saved = errno;
    goto fail;
  }
  out = -1;
  if (rename(tmp.buf, dst) != 0) {
    saved = errno;
    goto fail;
  }
  close(in);
  strbuf_release(&tmp);
  return HOIST_OK;
fail:
  close(in);
  if (out >= 0)
    close(out);
  if (tmp.buf)
    unlink(tmp.buf);
  strbuf_release(&tmp);
  return hoist_err_set(err, HOIST_EIO, "cannot copy '%s' to '%s': %s", src, dst, strerror(saved));
}

/* One copy of hoist_fs_copy_all, run on hoist's pool. */
struct copy_task {
  struct hoist_task task;
  const char *src, *dst;
  int durable;
  int *rc;
  struct hoist_err *err;
};

static void copy_run(struct hoist_task *t)
{
  struct copy_task *c = (struct copy_task *)t;
  *c->rc = hoist_interrupted() ? hoist_err_set(c->err, HOIST_EINTR, "interrupted")
                               : hoist_fs_copy(c->src, c->dst, c->durable, c->err);
}

int hoist_fs_copy_all(const char *const *src, const char *const *dst, size_t n, int durable, int threads,
                      int *rcs, struct hoist_err *errs)
{
  struct hoist_pool *pool = NULL;
  struct copy_task *t;
  struct hoist_err err;
  size_t i;
  int rc;
  if (n == 0)
    return HOIST_OK;
  if (threads <= 0)
    threads = hoist_pool_default_threads();
  if (threads > HOIST_POOL_MAX_THREADS + 1)
    threads = HOIST_POOL_MAX_THREADS + 1;  /* the caller and a full pool */
  t = calloc(n, sizeof *t);
  /* the calling thread is one of the copiers: it helps until every copy is done */
  rc = t ? hoist_pool_new((size_t)threads < n ? threads - 1 : (int)n - 1, &pool, &err)
         : hoist_err_set(&err, HOIST_ENOMEM, "out of memory");
  for (i = 0; i < n; i++) {
    rcs[i] = rc;
    errs[i] = err;
  }
  if (rc) {
    free(t);
    return rc;
  }
  for (i = 0; i < n; i++) {
    /* equal priorities run in submission order: the caller's, biggest first */
    t[i] = (struct copy_task){ .task = { .run = copy_run, .priority = 0 }, .src = src[i], .dst = dst[i],
                               .durable = durable, .rc = &rcs[i], .err = &errs[i] };
    hoist_pool_submit(pool, &t[i].task);
  }
  hoist_pool_help_until_all(pool, HOIST_POOL_PRIO_MIN, &t[0].task, n, sizeof t[0]);
  hoist_pool_free(pool);
  free(t);
  for (i = 0; i < n; i++)
    if (rcs[i])
      return rcs[i];
  return HOIST_OK;
}

int hoist_fs_lock(const char *path, int *fd, struct hoist_err *err)
{
  *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (*fd < 0)
    return hoist_err_set(err, HOIST_EIO, "cannot open lock '%s': %s", path, strerror(errno));
  while (flock(*fd, LOCK_EX) != 0) {
    int e = errno;
    if (e == EINTR && !hoist_interrupted())
      continue;
    close(*fd);
    *fd = -1;
    if (e == EINTR)
      return hoist_err_set(err, HOIST_EINTR, "interrupted while waiting for lock '%s'", path);
    return hoist_err_set(err, HOIST_EIO, "cannot lock '%s': %s", path, strerror(e));
  }
  return HOIST_OK;
}

void hoist_fs_unlock(int fd)
{
  if (fd >= 0)
    close(fd);  /* closing the descriptor releases the flock */
}

/* The writer's process id in a temp name ("X.tmp-PID-..."), or 0 when the name has none. */
static long temp_owner(const char *name)
{
  const char *p = strstr(name, ".tmp-");
  char *end;
  long pid;
  if (!p)
    return 0;
  pid = strtol(p + 5, &end, 10);
  return end != p + 5 && *end == '-' && pid > 0 ? pid : 0;
}

int hoist_fs_sweep_temps(const char *dir, long stale_secs)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  int removed = 0;
  time_t now = time(NULL);
  if (!d)
    return 0;
  while ((e = readdir(d)) != NULL) {
    char path[PATH_MAX];
    struct stat st;
    long pid;
    int stale;
    if (!strstr(e->d_name, ".tmp-"))
      continue;
    if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
        lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    pid = temp_owner(e->d_name);
    if (pid && pid != (long)getpid())
      stale = kill((pid_t)pid, 0) != 0 && errno == ESRCH;
    else
      stale = !pid && now - st.st_mtime > stale_secs;
    if (stale && unlink(path) == 0)
      removed++;
  }
  closedir(d);
  return removed;
}

int hoist_mode_parse(const char *text, int *mode, struct hoist_err *err)
{
  const char *p = text;
  char shown[HOIST_ERR_SHOW_MAX];
  size_t n;
  int v = 0;
  if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
    p += 2;
  n = strlen(p);
  if (n >= 3 && n <= 4 && strspn(p, "01234567") == n) {
    for (; *p; p++)
      v = v * 8 + (*p - '0');
    *mode = v;
    return HOIST_OK;
  }
  return hoist_err_set(err, HOIST_EINVAL, "invalid file mode '%s' (octal like \"0755\" or \"644\")",
                       hoist_err_show(shown, text, strlen(text)));
}

int hoist_fs_remove_tree(const char *path, struct hoist_err *err)
{
  struct stat st;
  DIR *d;
  struct dirent *e;
  int rc = HOIST_OK;
  if (lstat(path, &st) != 0)
    return errno == ENOENT ? HOIST_OK
                           : hoist_err_set(err, HOIST_EIO, "cannot remove '%s': %s", path,
                                           strerror(errno));
  if (!S_ISDIR(st.st_mode)) {
    if (unlink(path) != 0)
      return hoist_err_set(err, HOIST_EIO, "cannot remove '%s': %s", path, strerror(errno));
    return HOIST_OK;
  }
  d = opendir(path);
  if (!d)
    return hoist_err_set(err, HOIST_EIO, "cannot remove '%s': %s", path, strerror(errno));
  while (!rc && (e = readdir(d)) != NULL) {
    struct strbuf child;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    strbuf_init(&child, PATH_MAX);
    if (strbuf_addf(&child, "%s/%s", path, e->d_name))
      rc = hoist_err_set(err, HOIST_ERANGE, "path too long under '%s'", path);
    else
      rc = hoist_fs_remove_tree(child.buf, err);
    strbuf_release(&child);
  }
  closedir(d);
  if (!rc && rmdir(path) != 0)
    rc = hoist_err_set(err, HOIST_EIO, "cannot remove '%s': %s", path, strerror(errno));
  return rc;
}
