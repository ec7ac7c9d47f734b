#define _GNU_SOURCE 1  /* realpath, lstat, readlink, mkstemp, sched_getaffinity */

#include "layer.h"

#include "strbuf.h"

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>
#include <zstd.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_MAX_IMAGE 4096
#define READ_BLOCK (128 * 1024)

struct entry {
  char *name;            /* path in the tar, no leading '/' */
  char *src;             /* host path; NULL for a folder implied by its children */
  char *link;            /* symlink target */
  const char *hardlink;  /* earlier entry sharing the inode */
  unsigned type;         /* AE_IFREG, AE_IFDIR, AE_IFLNK */
  unsigned perm;
  unsigned long long size;
  long long mtime_ns;
  long long ctime_ns;    /* for the key: an edit that restores the mtime still moves ctime */
  dev_t dev;
  ino_t ino;
  nlink_t nlink;
  size_t seq;            /* input order: the later entry for a name wins */
};

struct hoist_layer_plan {
  struct entry *e;
  size_t n, cap;
  size_t seq;
  unsigned long long bytes;  /* file content, for scheduling */
  struct hoist_layer_opts opts;
  char key[HOIST_DIGEST_LEN + 1];
};

const char *hoist_layer_media_type(enum hoist_compression c)
{
  switch (c) {
  case HOIST_COMPRESS_ZSTD: return "application/vnd.oci.image.layer.v1.tar+zstd";
  case HOIST_COMPRESS_NONE: return "application/vnd.oci.image.layer.v1.tar";
  default: return "application/vnd.oci.image.layer.v1.tar+gzip";
  }
}

/* ------------------------------------------------------------ planning */

static void entry_release(struct entry *e)
{
  free(e->name);
  free(e->src);
  free(e->link);
}

void hoist_layer_plan_free(struct hoist_layer_plan *p)
{
  size_t i;
  if (!p)
    return;
  for (i = 0; i < p->n; i++)
    entry_release(&p->e[i]);
  free(p->e);
  free(p);
}

const char *hoist_layer_plan_key(const struct hoist_layer_plan *p) { return p->key; }
size_t hoist_layer_plan_entries(const struct hoist_layer_plan *p) { return p->n; }

static struct entry *plan_add(struct hoist_layer_plan *p, const char *name, struct hoist_err *err)
{
  struct entry *e;
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 64;
    struct entry *ne = realloc(p->e, cap * sizeof *ne);
    if (!ne) {
      hoist_err_set(err, HOIST_ENOMEM, "out of memory");
      return NULL;
    }
    p->e = ne;
    p->cap = cap;
  }
  e = &p->e[p->n];
  memset(e, 0, sizeof *e);
  e->name = strdup(name);
  if (!e->name) {
    hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    return NULL;
  }
  e->seq = ++p->seq;
  p->n++;
  return e;
}

/*
** Normalises an image path: no leading '/', no empty or "." components.
** ".." is refused: a layer cannot write outside its root.
*/
static int normalize_image_path(const char *in, char *out, size_t cap, struct hoist_err *err)
{
  size_t o = 0;
  const char *p = in;
  while (*p) {
    const char *s;
    size_t n;
    while (*p == '/')
      p++;
    s = p;
    while (*p && *p != '/')
      p++;
    n = (size_t)(p - s);
    if (n == 0 || (n == 1 && s[0] == '.'))
      continue;
    if (n == 2 && s[0] == '.' && s[1] == '.')
      return hoist_err_set(err, HOIST_EINVAL, "layer target '%s' contains '..'", in);
    if (o + n + 2 > cap)
      return hoist_err_set(err, HOIST_ERANGE, "layer target '%s' is too long", in);
    if (o)
      out[o++] = '/';
    memcpy(out + o, s, n);
    o += n;
  }
  out[o] = '\0';
  return HOIST_OK;
}

static int set_from_stat(struct entry *e, const struct stat *st)
{
  e->perm = st->st_mode & 07777;
  e->dev = st->st_dev;
  e->ino = st->st_ino;
  e->nlink = st->st_nlink;
  e->mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
  e->ctime_ns = (long long)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
  if (S_ISREG(st->st_mode)) {
    e->type = AE_IFREG;
    e->size = (unsigned long long)st->st_size;
  } else if (S_ISDIR(st->st_mode)) {
    e->type = AE_IFDIR;
  } else if (S_ISLNK(st->st_mode)) {
    e->type = AE_IFLNK;
  } else {
    return -1;
  }
  return 0;
}

static int walk(struct hoist_layer_plan *p, const char *src, const char *name, int follow,
                int mode, int depth, struct hoist_err *err)
{
  struct stat st;
  struct entry *e;
  DIR *d;
  struct dirent *de;
  int rc = HOIST_OK;

  if (depth > 256)
    return hoist_err_set(err, HOIST_EINVAL, "'%s' is nested too deeply", src);
  if ((follow ? stat(src, &st) : lstat(src, &st)) != 0)
    return hoist_err_set(err, errno == ENOENT ? HOIST_ENOENT : HOIST_EIO, "cannot read '%s': %s",
                         src, strerror(errno));
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
    return hoist_err_set(err, HOIST_EINVAL, "'%s' is not a file, folder or symlink", src);
  if (name[0] == '\0' && !S_ISDIR(st.st_mode))
    return hoist_err_set(err, HOIST_EINVAL, "'%s' is a file: it needs a file name in the image", src);
  if (name[0]) {
    if (!(e = plan_add(p, name, err)))
      return HOIST_ENOMEM;
    set_from_stat(e, &st);
    if (!(e->src = strdup(src)))
      return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    if (e->type == AE_IFREG) {
      if (mode >= 0)
        e->perm = (unsigned)mode;
      p->bytes += e->size;
    }
    if (e->type == AE_IFLNK) {
      char target[PATH_MAX];
      ssize_t n = readlink(src, target, sizeof target - 1);
      if (n < 0)
        return hoist_err_set(err, HOIST_EIO, "cannot read link '%s': %s", src, strerror(errno));
      target[n] = '\0';
      if (!(e->link = strdup(target)))
        return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    }
  }
  if (!S_ISDIR(st.st_mode))
    return HOIST_OK;
  d = opendir(src);
  if (!d)
    return hoist_err_set(err, HOIST_EIO, "cannot list '%s': %s", src, strerror(errno));
  while (!rc && (errno = 0, de = readdir(d)) != NULL) {
    struct strbuf cs, cn;
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    strbuf_init(&cs, PATH_MAX);
    strbuf_init(&cn, PATH_MAX_IMAGE);
    if (strbuf_addf(&cs, "%s/%s", src, de->d_name) ||
        (name[0] ? strbuf_addf(&cn, "%s/%s", name, de->d_name) : strbuf_addstr(&cn, de->d_name)))
      rc = hoist_err_set(err, HOIST_ERANGE, "path too long under '%s'", src);
    else
      rc = walk(p, cs.buf, cn.buf, 0, mode, depth + 1, err);
    strbuf_release(&cs);
    strbuf_release(&cn);
  }
  if (!rc && errno)
    rc = hoist_err_set(err, HOIST_EIO, "cannot list '%s': %s", src, strerror(errno));
  closedir(d);
  return rc;
}

/* Refuses a source that resolves outside root (through "..", or a symlink). */
static int check_inside(const char *root_real, const char *from, struct hoist_err *err)
{
  char real[PATH_MAX];
  size_t n = strlen(root_real);
  if (!realpath(from, real))
    return hoist_err_set(err, HOIST_ENOENT, "layer source '%s' does not exist", from);
  if (strcmp(root_real, "/") == 0)
    return HOIST_OK;
  if (strncmp(real, root_real, n) != 0 || (real[n] != '\0' && real[n] != '/'))
    return hoist_err_set(err, HOIST_EINVAL, "layer source '%s' resolves outside the extension folder",
                         from);
  return HOIST_OK;
}

static int cmp_entry(const void *a, const void *b)
{
  const struct entry *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  if (c)
    return c;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Adds folders implied by deeper entries ("ui" for "ui/index.html"). */
static int add_parents(struct hoist_layer_plan *p, struct hoist_err *err)
{
  size_t i, n = p->n;
  for (i = 0; i < n; i++) {
    char buf[PATH_MAX_IMAGE];
    char *slash;
    snprintf(buf, sizeof buf, "%s", p->e[i].name);
    while ((slash = strrchr(buf, '/')) != NULL) {
      struct entry *e;
      *slash = '\0';
      if (!(e = plan_add(p, buf, err)))
        return HOIST_ENOMEM;
      e->type = AE_IFDIR;
      e->perm = 0755;
      e->seq = 0;  /* a real folder entry of that name wins */
    }
  }
  return HOIST_OK;
}

/* Keeps one entry per name (the latest input), in name order. */
static void dedupe(struct hoist_layer_plan *p)
{
  size_t i, j = 0;
  qsort(p->e, p->n, sizeof *p->e, cmp_entry);
  for (i = 0; i < p->n; i++) {
    if (i + 1 < p->n && strcmp(p->e[i].name, p->e[i + 1].name) == 0) {
      entry_release(&p->e[i]);
      continue;
    }
    p->e[j++] = p->e[i];
  }
  p->n = j;
}

static int cmp_inode(const void *a, const void *b)
{
  const struct entry *const *x = a, *const *y = b;
  if ((*x)->dev != (*y)->dev)
    return (*x)->dev < (*y)->dev ? -1 : 1;
  if ((*x)->ino != (*y)->ino)
    return (*x)->ino < (*y)->ino ? -1 : 1;
  return (*x < *y) ? -1 : (*x > *y);
}

/* Files sharing an inode become hard links to the first of them in name order. */
static int link_hardlinks(struct hoist_layer_plan *p, struct hoist_err *err)
{
  struct entry **v;
  size_t i, m = 0;
  for (i = 0; i < p->n; i++)
    if (p->e[i].type == AE_IFREG && p->e[i].nlink > 1 && p->e[i].src)
      m++;
  if (m < 2)
    return HOIST_OK;
  v = malloc(m * sizeof *v);
  if (!v)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  m = 0;
  for (i = 0; i < p->n; i++)
    if (p->e[i].type == AE_IFREG && p->e[i].nlink > 1 && p->e[i].src)
      v[m++] = &p->e[i];
  qsort(v, m, sizeof *v, cmp_inode);
  for (i = 1; i < m; i++)
    if (v[i]->dev == v[i - 1]->dev && v[i]->ino == v[i - 1]->ino)
      v[i]->hardlink = v[i - 1]->hardlink ? v[i - 1]->hardlink : v[i - 1]->name;
  free(v);
  return HOIST_OK;
}

static int compute_key(struct hoist_layer_plan *p, struct hoist_err *err)
{
  struct hoist_digest d;
  char buf[256];
  size_t i;
  int rc = hoist_digest_init(&d, err), n;
  if (rc)
    return rc;
  n = snprintf(buf, sizeof buf, "hoist-layer-1 %d %d %lld\n", (int)p->opts.compression,
               p->opts.level, p->opts.mtime);
  hoist_digest_update(&d, buf, (size_t)n);
  for (i = 0; i < p->n && !rc; i++) {
    const struct entry *e = &p->e[i];
    n = snprintf(buf, sizeof buf, "%u %o %llu %lld %lld %llu %llu\n", e->type, e->perm, e->size,
                 e->mtime_ns, e->ctime_ns, (unsigned long long)e->dev,
                 (unsigned long long)e->ino);
    /* the file is known by device and inode, not by the path it was named with
       ("fx", "./fx" and "/abs/fx" are one cache entry) */
    rc = hoist_digest_update(&d, e->name, strlen(e->name) + 1);
    rc = rc ? rc : hoist_digest_update(&d, buf, (size_t)n);
    if (!rc && e->link)
      rc = hoist_digest_update(&d, e->link, strlen(e->link) + 1);
    if (!rc && e->hardlink)
      rc = hoist_digest_update(&d, e->hardlink, strlen(e->hardlink) + 1);
  }
  if (rc || hoist_digest_final(&d, p->key)) {
    hoist_digest_release(&d);
    return hoist_err_set(err, HOIST_EIO, "cannot compute the layer key");
  }
  return HOIST_OK;
}

int hoist_layer_plan(const struct hoist_layer_input *in, size_t n, const struct hoist_layer_opts *o,
                     struct hoist_layer_plan **out, struct hoist_err *err)
{
  struct hoist_layer_plan *p;
  char root_real[PATH_MAX];
  size_t i;
  int rc = HOIST_OK;

  *out = NULL;
  if (o->root && !realpath(o->root, root_real))
    return hoist_err_set(err, HOIST_EINVAL, "extension folder '%s' does not exist", o->root);
  p = calloc(1, sizeof *p);
  if (!p)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  p->opts = *o;
  p->opts.root = NULL;
  if (p->opts.level < 0)
    p->opts.level = o->compression == HOIST_COMPRESS_ZSTD ? 3 : 6;
  for (i = 0; i < n && !rc; i++) {
    char name[PATH_MAX_IMAGE];
    size_t tl = strlen(in[i].to);
    struct stat st;
    if (o->root)
      rc = check_inside(root_real, in[i].from, err);
    rc = rc ? rc : normalize_image_path(in[i].to, name, sizeof name, err);
    if (rc)
      break;
    /* "to" ending in '/' names a folder: a file keeps its own name inside it */
    if (tl > 0 && in[i].to[tl - 1] == '/' && stat(in[i].from, &st) == 0 && !S_ISDIR(st.st_mode)) {
      const char *base = strrchr(in[i].from, '/');
      base = base ? base + 1 : in[i].from;
      if (strlen(name) + strlen(base) + 2 > sizeof name) {
        rc = hoist_err_set(err, HOIST_ERANGE, "layer target '%s' is too long", in[i].to);
        break;
      }
      if (name[0])
        strncat(name, "/", sizeof name - strlen(name) - 1);
      strncat(name, base, sizeof name - strlen(name) - 1);
    }
    rc = walk(p, in[i].from, name, 1, in[i].mode, 0, err);
  }
  rc = rc ? rc : add_parents(p, err);
  if (!rc) {
    dedupe(p);
    rc = link_hardlinks(p, err);
  }
  rc = rc ? rc : compute_key(p, err);
  if (rc) {
    hoist_layer_plan_free(p);
    return rc;
  }
  *out = p;
  return HOIST_OK;
}

/* ------------------------------------------------------------- writing */

#define OUT_BLOCK (128 * 1024)

/* Where the tar goes: hashed, compressed, hashed again, written. */
struct sink {
  struct hoist_digest tar, blob;
  enum hoist_compression comp;
  z_stream z;
  int z_ready;
  ZSTD_CCtx *zc;
  FILE *f;
  unsigned long long tar_size, blob_size;
  int failed;
  struct hoist_err *err;
  unsigned char out[OUT_BLOCK];
};

static int emit(struct sink *s, const void *buf, size_t n)
{
  if (n == 0)
    return 0;
  if (hoist_digest_update(&s->blob, buf, n) || fwrite(buf, 1, n, s->f) != n) {
    hoist_err_set(s->err, HOIST_EIO, "cannot write the layer blob: %s", strerror(errno));
    return -1;
  }
  s->blob_size += n;
  return 0;
}

static int compress_chunk(struct sink *s, const void *buf, size_t n, int finish)
{
  if (s->comp == HOIST_COMPRESS_NONE)
    return emit(s, buf, n);
  if (s->comp == HOIST_COMPRESS_GZIP) {
    int zr;
    s->z.next_in = (Bytef *)(uintptr_t)buf;
    s->z.avail_in = (uInt)n;
    do {
      s->z.next_out = s->out;
      s->z.avail_out = sizeof s->out;
      zr = deflate(&s->z, finish ? Z_FINISH : Z_NO_FLUSH);
      if (zr == Z_STREAM_ERROR) {
        hoist_err_set(s->err, HOIST_EIO, "gzip compression failed");
        return -1;
      }
      if (emit(s, s->out, sizeof s->out - s->z.avail_out))
        return -1;
    } while (s->z.avail_out == 0 || (finish && zr != Z_STREAM_END));
    return 0;
  } else {
    ZSTD_inBuffer zin = { buf, n, 0 };
    size_t left;
    do {
      ZSTD_outBuffer zout = { s->out, sizeof s->out, 0 };
      left = ZSTD_compressStream2(s->zc, &zout, &zin, finish ? ZSTD_e_end : ZSTD_e_continue);
      if (ZSTD_isError(left)) {
        hoist_err_set(s->err, HOIST_EIO, "zstd compression failed: %s", ZSTD_getErrorName(left));
        return -1;
      }
      if (emit(s, s->out, zout.pos))
        return -1;
    } while (finish ? left != 0 : zin.pos < zin.size);
    return 0;
  }
}

static la_ssize_t sink_write(struct archive *a, void *ctx, const void *buf, size_t n)
{
  struct sink *s = ctx;
  (void)a;
  if (s->failed)
    return -1;
  if (hoist_digest_update(&s->tar, buf, n) || compress_chunk(s, buf, n, 0)) {
    s->failed = 1;
    return -1;
  }
  s->tar_size += n;
  return (la_ssize_t)n;
}

static int sink_open(struct sink *s, const struct hoist_layer_opts *o, FILE *f,
                     struct hoist_err *err)
{
  memset(s, 0, sizeof *s - sizeof s->out);
  s->comp = o->compression;
  s->f = f;
  s->err = err;
  if (hoist_digest_init(&s->tar, err))
    return HOIST_ENOMEM;
  if (hoist_digest_init(&s->blob, err)) {
    hoist_digest_release(&s->tar);
    return HOIST_ENOMEM;
  }
  if (s->comp == HOIST_COMPRESS_GZIP) {
    /* windowBits 15+16: a gzip wrapper whose header zlib writes with no name and time 0 */
    if (deflateInit2(&s->z, o->level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      goto fail;
    s->z_ready = 1;
  } else if (s->comp == HOIST_COMPRESS_ZSTD) {
    s->zc = ZSTD_createCCtx();
    if (!s->zc || ZSTD_isError(ZSTD_CCtx_setParameter(s->zc, ZSTD_c_compressionLevel, o->level)))
      goto fail;
  }
  return HOIST_OK;
fail:
  hoist_digest_release(&s->tar);
  hoist_digest_release(&s->blob);
  if (s->zc)
    ZSTD_freeCCtx(s->zc);
  return hoist_err_set(err, HOIST_ENOMEM, "cannot start the compressor");
}

static void sink_release(struct sink *s)
{
  if (s->z_ready)
    deflateEnd(&s->z);
  s->z_ready = 0;
  if (s->zc)
    ZSTD_freeCCtx(s->zc);
  s->zc = NULL;
  hoist_digest_release(&s->tar);
  hoist_digest_release(&s->blob);
}

static int write_entry_data(struct archive *a, const struct entry *e, unsigned char *buf,
                            struct sink *s, struct hoist_err *err)
{
  unsigned long long done = 0;
  int fd = open(e->src, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return hoist_err_set(err, HOIST_EIO, "cannot open '%s': %s", e->src, strerror(errno));
  while (done < e->size) {
    size_t want = e->size - done < READ_BLOCK ? (size_t)(e->size - done) : READ_BLOCK;
    ssize_t n = read(fd, buf, want);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      close(fd);
      return hoist_err_set(err, HOIST_EIO, "cannot read '%s': %s", e->src, strerror(errno));
    }
    if (n == 0)
      break;
    if (archive_write_data(a, buf, (size_t)n) != n) {
      close(fd);
      if (s->failed)
        return err->code ? err->code : HOIST_EIO;
      return hoist_err_set(err, HOIST_EIO, "cannot write '%s' into the layer: %s", e->src,
                           archive_error_string(a));
    }
    done += (unsigned long long)n;
  }
  /* a file that grew since planning would be cut silently: one more byte says so */
  if (done == e->size) {
    ssize_t extra;
    do
      extra = read(fd, buf, 1);
    while (extra < 0 && errno == EINTR);
    if (extra > 0)
      done++;
  }
  close(fd);
  if (done != e->size)
    return hoist_err_set(err, HOIST_EIO, "'%s' changed while it was read", e->src);
  return HOIST_OK;
}

static int write_tar(const struct hoist_layer_plan *p, struct sink *s, struct hoist_err *err)
{
  struct archive *a = archive_write_new();
  struct archive_entry *ae = archive_entry_new();
  unsigned char *buf = malloc(READ_BLOCK);
  locale_t u8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
  locale_t old = u8 ? uselocale(u8) : (locale_t)0;
  size_t i;
  int rc = HOIST_OK;

  if (!a || !ae || !buf) {
    rc = hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    goto out;
  }
  /* ustar headers, PAX extensions only when a name or link needs them */
  if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
      archive_write_open(a, s, NULL, sink_write, NULL) != ARCHIVE_OK) {
    rc = hoist_err_set(err, HOIST_EIO, "cannot start the tar writer: %s", archive_error_string(a));
    goto out;
  }
  for (i = 0; i < p->n && !rc; i++) {
    const struct entry *e = &p->e[i];
    archive_entry_clear(ae);
    archive_entry_set_pathname_utf8(ae, e->name);
    if (!archive_entry_pathname(ae)) {
      rc = hoist_err_set(err, HOIST_EINVAL, "cannot store the name '%s' in this locale", e->name);
      break;
    }
    archive_entry_set_uid(ae, 0);
    archive_entry_set_gid(ae, 0);
    archive_entry_set_mtime(ae, (time_t)p->opts.mtime, 0);
    archive_entry_set_perm(ae, e->perm);
    if (e->hardlink) {
      archive_entry_set_filetype(ae, AE_IFREG);
      archive_entry_set_hardlink_utf8(ae, e->hardlink);
      archive_entry_set_size(ae, 0);
    } else {
      archive_entry_set_filetype(ae, e->type);
      if (e->type == AE_IFLNK)
        archive_entry_set_symlink_utf8(ae, e->link);
      archive_entry_set_size(ae, e->type == AE_IFREG ? (la_int64_t)e->size : 0);
    }
    if (archive_write_header(a, ae) < ARCHIVE_WARN) {
      rc = s->failed ? (err->code ? err->code : HOIST_EIO)
                     : hoist_err_set(err, HOIST_EIO, "cannot add '%s' to the layer: %s", e->name,
                                     archive_error_string(a));
      break;
    }
    if (e->type == AE_IFREG && !e->hardlink && e->size > 0)
      rc = write_entry_data(a, e, buf, s, err);
  }
  if (!rc && archive_write_close(a) != ARCHIVE_OK)
    rc = s->failed ? (err->code ? err->code : HOIST_EIO)
                   : hoist_err_set(err, HOIST_EIO, "cannot finish the layer: %s",
                                   archive_error_string(a));
out:
  free(buf);
  if (ae)
    archive_entry_free(ae);
  if (a)
    archive_write_free(a);
  if (u8) {
    uselocale(old);
    freelocale(u8);
  }
  return rc;
}

int hoist_layer_write(const struct hoist_layer_plan *p, const char *blob_dir,
                      struct hoist_layer_result *res, struct hoist_err *err)
{
  struct sink *s;
  struct strbuf tmp, final;
  FILE *f = NULL;
  int fd, rc;

  memset(res, 0, sizeof *res);
  s = malloc(sizeof *s);
  if (!s)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  strbuf_init(&tmp, PATH_MAX);
  strbuf_init(&final, PATH_MAX);
  if (strbuf_addf(&tmp, "%s/.tmp-layer-XXXXXX", blob_dir)) {
    free(s);
    return hoist_err_set(err, HOIST_ERANGE, "blob folder path too long");
  }
  fd = mkstemp(tmp.buf);
  /* mkstemp makes 0600; blobs are readable like every other file of the layout */
  if (fd >= 0)
    fchmod(fd, 0644);
  if (fd < 0 || !(f = fdopen(fd, "wb"))) {
    rc = hoist_err_set(err, HOIST_EIO, "cannot create a blob in '%s': %s", blob_dir,
                       strerror(errno));
    if (fd >= 0) {
      close(fd);
      unlink(tmp.buf);
    }
    free(s);
    strbuf_release(&tmp);
    return rc;
  }
  rc = sink_open(s, &p->opts, f, err);
  if (!rc) {
    rc = write_tar(p, s, err);
    if (!rc && compress_chunk(s, NULL, 0, 1))
      rc = err->code ? err->code : HOIST_EIO;
    if (!rc && (hoist_digest_final(&s->tar, res->diff_id) || hoist_digest_final(&s->blob, res->digest)))
      rc = hoist_err_set(err, HOIST_EIO, "cannot finish the layer digests");
    res->size = s->blob_size;
    res->tar_size = s->tar_size;
    res->entries = p->n;
    sink_release(s);
  }
  free(s);
  /* on disk before its name appears: index.json, written after, may point at it */
  if (!rc && (fflush(f) != 0 || fsync(fileno(f)) != 0))
    rc = hoist_err_set(err, HOIST_EIO, "cannot write a blob in '%s': %s", blob_dir, strerror(errno));
  if (fclose(f) != 0 && !rc)
    rc = hoist_err_set(err, HOIST_EIO, "cannot write a blob in '%s': %s", blob_dir, strerror(errno));
  if (!rc && strbuf_addf(&final, "%s/%s", blob_dir, res->digest + 7))
    rc = hoist_err_set(err, HOIST_ERANGE, "blob folder path too long");
  if (!rc && rename(tmp.buf, final.buf) != 0)
    rc = hoist_err_set(err, HOIST_EIO, "cannot store blob '%s': %s", final.buf, strerror(errno));
  if (rc)
    unlink(tmp.buf);
  strbuf_release(&tmp);
  strbuf_release(&final);
  return rc;
}

/* -------------------------------------------------------------- threads */

struct pool {
  pthread_mutex_t lock;
  size_t next, n;
  size_t *order;
  struct hoist_layer_plan *const *plans;
  const char *blob_dir;
  struct hoist_layer_result *res;
  int *rcs;
  struct hoist_err *errs;
};

static void *pool_worker(void *arg)
{
  struct pool *pl = arg;
  for (;;) {
    size_t k;
    pthread_mutex_lock(&pl->lock);
    k = pl->next < pl->n ? pl->order[pl->next++] : (size_t)-1;
    pthread_mutex_unlock(&pl->lock);
    if (k == (size_t)-1)
      return NULL;
    pl->errs[k].code = 0;
    pl->errs[k].msg[0] = '\0';
    pl->rcs[k] = hoist_layer_write(pl->plans[k], pl->blob_dir, &pl->res[k], &pl->errs[k]);
  }
}

struct by_size {
  unsigned long long bytes;
  size_t index;
};

static int cmp_bigger_first(const void *a, const void *b)
{
  const struct by_size *x = a, *y = b;
  if (x->bytes != y->bytes)
    return x->bytes > y->bytes ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

int hoist_layer_write_all(struct hoist_layer_plan *const *plans, size_t n, const char *blob_dir,
                          int nthreads, struct hoist_layer_result *res, int *rcs,
                          struct hoist_err *errs)
{
  struct pool pl;
  struct by_size *sizes;
  pthread_t th[64];
  size_t i;
  int started = 0, t;

  if (n == 0)
    return HOIST_OK;
  if (nthreads <= 0) {
    /* the cores this process may run on (a container's CPU set), not all online ones */
    cpu_set_t set;
    long cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
                                                              : sysconf(_SC_NPROCESSORS_ONLN);
    nthreads = cores > 0 ? (int)cores : 1;
  }
  if ((size_t)nthreads > n)
    nthreads = (int)n;
  if (nthreads > 64)
    nthreads = 64;
  pl.order = malloc(n * sizeof *pl.order);
  sizes = malloc(n * sizeof *sizes);
  if (!pl.order || !sizes) {
    free(pl.order);
    free(sizes);
    for (i = 0; i < n; i++)
      rcs[i] = hoist_err_set(&errs[i], HOIST_ENOMEM, "out of memory");
    return HOIST_ENOMEM;
  }
  /* the biggest layers first, so the last one to finish is a small one */
  for (i = 0; i < n; i++) {
    sizes[i].bytes = plans[i]->bytes;
    sizes[i].index = i;
  }
  qsort(sizes, n, sizeof *sizes, cmp_bigger_first);
  for (i = 0; i < n; i++)
    pl.order[i] = sizes[i].index;
  free(sizes);
  pthread_mutex_init(&pl.lock, NULL);
  pl.next = 0;
  pl.n = n;
  pl.plans = plans;
  pl.blob_dir = blob_dir;
  pl.res = res;
  pl.rcs = rcs;
  pl.errs = errs;
  for (t = 1; t < nthreads; t++)
    if (pthread_create(&th[started], NULL, pool_worker, &pl) == 0)
      started++;
  pool_worker(&pl);  /* this thread works too */
  for (t = 0; t < started; t++)
    pthread_join(th[t], NULL);
  pthread_mutex_destroy(&pl.lock);
  free(pl.order);
  for (i = 0; i < n; i++)
    if (rcs[i])
      return rcs[i];
  return HOIST_OK;
}
