#define _DEFAULT_SOURCE 1  /* mkstemp */

#include "tarfile.h"

#include "strbuf.h"

#include <archive.h>
#include <archive_entry.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int add_file(struct archive *a, struct archive_entry *ae, const struct hoist_tar_member *m,
                    struct hoist_err *err)
{
  char buf[65536];
  struct stat st;
  int fd = open(m->path, O_RDONLY | O_CLOEXEC);
  long long left;
  if (fd < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0)
      close(fd);
    return hoist_err_set(err, HOIST_EIO, "cannot read '%s': %s", m->path, strerror(errno));
  }
  archive_entry_set_size(ae, (la_int64_t)st.st_size);
  if (archive_write_header(a, ae) < ARCHIVE_WARN) {
    close(fd);
    return hoist_err_set(err, HOIST_EIO, "cannot add '%s': %s", m->name, archive_error_string(a));
  }
  left = (long long)st.st_size;
  while (left > 0) {
    ssize_t n = read(fd, buf, sizeof buf < (size_t)left ? sizeof buf : (size_t)left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0 || archive_write_data(a, buf, (size_t)n) != n) {
      close(fd);
      return hoist_err_set(err, HOIST_EIO, "cannot copy '%s' into the archive", m->path);
    }
    left -= n;
  }
  close(fd);
  return HOIST_OK;
}

int hoist_tar_write(const char *path, const struct hoist_tar_member *m, size_t n, long long mtime,
                    struct hoist_err *err)
{
  struct strbuf tmp;
  struct archive *a = NULL;
  struct archive_entry *ae = NULL;
  size_t i;
  int fd, rc = HOIST_OK;
  locale_t u8, old;

  strbuf_init(&tmp, PATH_MAX);
  if (strbuf_addf(&tmp, "%s.tmp-XXXXXX", path))
    return hoist_err_set(err, HOIST_ERANGE, "path too long: '%s'", path);
  fd = mkstemp(tmp.buf);
  if (fd < 0) {
    rc = hoist_err_set(err, HOIST_EIO, "cannot create '%s': %s", path, strerror(errno));
    strbuf_release(&tmp);
    return rc;
  }
  u8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
  old = u8 ? uselocale(u8) : (locale_t)0;
  a = archive_write_new();
  ae = archive_entry_new();
  if (!a || !ae || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
      archive_write_open_fd(a, fd) != ARCHIVE_OK) {
    rc = hoist_err_set(err, HOIST_EIO, "cannot start writing '%s'", path);
    goto out;
  }
  for (i = 0; i < n && !rc; i++) {
    archive_entry_clear(ae);
    archive_entry_set_pathname_utf8(ae, m[i].name);
    if (!archive_entry_pathname(ae)) {
      rc = hoist_err_set(err, HOIST_EINVAL, "cannot store the name '%s' in this locale", m[i].name);
      break;
    }
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_entry_set_perm(ae, (mode_t)(m[i].mode ? m[i].mode : 0644));
    archive_entry_set_mtime(ae, (time_t)mtime, 0);
    archive_entry_set_uid(ae, 0);
    archive_entry_set_gid(ae, 0);
    if (m[i].path) {
      rc = add_file(a, ae, &m[i], err);
    } else {
      archive_entry_set_size(ae, (la_int64_t)m[i].len);
      if (archive_write_header(a, ae) < ARCHIVE_WARN ||
          (m[i].len && archive_write_data(a, m[i].data, m[i].len) != (la_ssize_t)m[i].len))
        rc = hoist_err_set(err, HOIST_EIO, "cannot add '%s': %s", m[i].name, archive_error_string(a));
    }
  }
  if (!rc && archive_write_close(a) != ARCHIVE_OK)
    rc = hoist_err_set(err, HOIST_EIO, "cannot finish '%s': %s", path, archive_error_string(a));
out:
  if (ae)
    archive_entry_free(ae);
  if (a)
    archive_write_free(a);
  if (u8) {
    uselocale(old);
    freelocale(u8);
  }
  if (!rc && (fsync(fd) != 0 || close(fd) != 0))
    rc = hoist_err_set(err, HOIST_EIO, "cannot write '%s': %s", path, strerror(errno));
  else if (rc)
    close(fd);
  if (!rc && rename(tmp.buf, path) != 0)
    rc = hoist_err_set(err, HOIST_EIO, "cannot write '%s': %s", path, strerror(errno));
  if (rc)
    unlink(tmp.buf);
  strbuf_release(&tmp);
  return rc;
}

int hoist_tar_scan(const char *path, size_t max, hoist_tar_entry_fn on_entry,
                   hoist_tar_data_fn on_data, void *ctx, struct hoist_err *err)
{
  struct archive *a = archive_read_new();
  struct archive_entry *ae;
  struct strbuf data;
  int rc = HOIST_OK, r;

  if (!a)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
    rc = hoist_err_set(err, HOIST_EIO, "cannot read layer '%s': %s", path, archive_error_string(a));
    archive_read_free(a);
    return rc;
  }
  strbuf_init(&data, max);
  while (!rc && (r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
    const char *name = archive_entry_pathname_utf8(ae);
    mode_t ft = archive_entry_filetype(ae);
    char type = archive_entry_hardlink(ae) ? 'h' : ft == AE_IFREG ? 'f' : ft == AE_IFDIR ? 'd'
              : ft == AE_IFLNK ? 'l' : 'o';
    struct hoist_tar_entry e;
    int want;
    if (!name)
      name = archive_entry_pathname(ae);
    if (!name)
      continue;
    e.name = name;
    e.type = type;
    e.size = (long long)archive_entry_size(ae);
    e.mode = (int)(archive_entry_perm(ae) & 07777);
    e.link = type == 'h' ? archive_entry_hardlink(ae) : type == 'l' ? archive_entry_symlink(ae) : NULL;
    want = on_entry(ctx, &e);
    if (want < 0) {
      rc = hoist_err_set(err, HOIST_EINVAL, "reading layer '%s' stopped at '%s'", path, name);
      break;
    }
    if (want == 1 && type == 'f') {
      char buf[65536];
      la_ssize_t n;
      strbuf_reset(&data);
      while ((n = archive_read_data(a, buf, sizeof buf)) > 0)
        if (strbuf_add(&data, buf, (size_t)n)) {
          rc = hoist_err_set(err, HOIST_ERANGE, "'%s' in layer '%s' is larger than %zu bytes", name,
                             path, max);
          break;
        }
      if (!rc && n < 0)
        rc = hoist_err_set(err, HOIST_EIO, "cannot read '%s' in layer '%s': %s", name, path,
                           archive_error_string(a));
      if (!rc && on_data(ctx, name, data.buf ? data.buf : "", data.len) < 0)
        rc = hoist_err_set(err, HOIST_EINVAL, "reading layer '%s' stopped at '%s'", path, name);
    }
  }
  if (!rc && r != ARCHIVE_EOF)
    rc = hoist_err_set(err, HOIST_EIO, "layer '%s' is damaged: %s", path, archive_error_string(a));
  strbuf_release(&data);
  archive_read_free(a);
  return rc;
}
