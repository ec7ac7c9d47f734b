#define _GNU_SOURCE 1  /* realpath, lstat, readlink, mkstemp */

#include "layer.h"

#include "dirlist.h"

#include "strmap.h"

#include "pathglob.h"
#include "pgzip.h"
#include "pool.h"
#include "strbuf.h"
#include "strmap.h"
#include "utf8.h"

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>
#include <zstd.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A name or path for a one-line message (escaped, see hoist_err_filename), in a buffer of its own. */
#define NAME(s) hoist_err_filename((char[HOIST_ERR_NAME_MAX]){0}, HOIST_ERR_NAME_MAX, (s))

#define PATH_MAX_IMAGE 4096
#define READ_BLOCK (128 * 1024)

struct entry {
  char *name;            /* path in the tar, no leading '/' */
  char *src;             /* host path; NULL for a folder implied by its children */
  char *link;            /* symlink target */
  const char *hardlink;  /* earlier entry sharing the inode */
  unsigned type;         /* AE_IFREG, AE_IFDIR, AE_IFLNK */
  unsigned perm;
  unsigned long uid, gid;
  unsigned long long size;
  long long mtime_ns;
  long long ctime_ns;    /* for the key: an edit that restores the mtime still moves ctime */
  dev_t dev;
  ino_t ino;
  nlink_t nlink;
  size_t seq;            /* input order: the later entry for a name wins */
  size_t implied_by;     /* an implied folder (seq 0): the seq of the entry below it */
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
unsigned long long hoist_layer_plan_bytes(const struct hoist_layer_plan *p) { return p->bytes; }

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
      return hoist_err_set(err, HOIST_EINVAL, "layer target '%s' contains '..'", NAME(in));
    if (o + n + 2 > cap)
      return hoist_err_set(err, HOIST_ERANGE, "layer target '%s' is too long", NAME(in));
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

/* What walking one input needs besides the current path. */
struct walk_ctx {
  struct hoist_layer_plan *p;
  const struct hoist_layer_input *in;
  const struct hoist_glob *exclude;  /* NULL: nothing excluded */
  size_t root_off;                   /* where a name's path relative to `from` starts */
  struct hoist_pool **pool;          /* stats large folders' entries; started on first need */
  int threads;                       /* for that pool, the calling thread included */
};

/*
** Adds what src is (stat'ed as st) to the plan under name, with the input's owner and mode.
** at: the folder src is in, opened (src's last component is base), or AT_FDCWD with base = src.
*/
static int add_walked(struct walk_ctx *w, const char *src, const char *name, const struct stat *st,
                      int at, const char *base, struct hoist_err *err)
{
  struct entry *e = plan_add(w->p, name, err);
  if (!e)
    return HOIST_ENOMEM;
  set_from_stat(e, st);
  e->uid = w->in->uid;
  e->gid = w->in->gid;
  if (!(e->src = strdup(src)))
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  if (e->type == AE_IFREG) {
    if (w->in->mode >= 0)
      e->perm = (unsigned)w->in->mode;
    w->p->bytes += e->size;
  }
  if (e->type == AE_IFLNK) {
    char target[PATH_MAX];
    ssize_t n = readlinkat(at, base, target, sizeof target - 1);
    if (n < 0)
      return hoist_err_set(err, HOIST_EIO, "cannot read link '%s': %s", NAME(src), strerror(errno));
    target[n] = '\0';
    if (!(e->link = strdup(target)))
      return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  return HOIST_OK;
}

/* What a file that cannot go into a layer is, for the message. */
static const char *kind_of(mode_t m)
{
  if (S_ISFIFO(m))
    return "a FIFO";
  if (S_ISSOCK(m))
    return "a socket";
  if (S_ISCHR(m))
    return "a character device";
  if (S_ISBLK(m))
    return "a block device";
  return "not a regular file";
}

/* dst := a "/" b (or b when a is empty), without printf: the walk does it for every file. */
static int join(struct strbuf *dst, const char *a, const char *b)
{
  strbuf_reset(dst);
  if (a[0] && (strbuf_addstr(dst, a) || strbuf_addch(dst, '/')))
    return -1;
  return strbuf_addstr(dst, b);
}

/*
** Walks src (named name in the layer) into the plan. at/base: src is base in the open folder at
** (its parent, being walked), so that stat and open look up one name instead of the whole path;
** the first call passes AT_FDCWD and src. known: src's stat when the parent's listing has it
** (NULL: stat it here).
*/
static int walk(struct walk_ctx *w, const char *src, const char *name, int follow, int depth, int at,
                const char *base, const struct stat *known, struct hoist_err *err)
{
  struct stat st;
  struct hoist_dirlist list;
  struct strbuf cs, cn;
  size_t before, i;
  int rc = HOIST_OK, excluded = 0, fd, e;

  if (depth > 256)
    return hoist_err_set(err, HOIST_EINVAL, "'%s' is nested too deeply",
                         NAME(src));
  if (known)
    st = *known;
  else if (fstatat(at, base, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) != 0)
    return hoist_err_set(err, errno == ENOENT ? HOIST_ENOENT : HOIST_EIO, "cannot read '%s': %s",
                         NAME(src), strerror(errno));
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
    return hoist_err_set(err, HOIST_EINVAL, "'%s' is %s: a layer holds files, folders and symlinks only",
                         NAME(src), kind_of(st.st_mode));
  /* OCI layers name files in UTF-8 (and Docker Desktop's engines read them so) */
  if (!hoist_utf8_valid(name, strlen(name)))
    return hoist_err_set(err, HOIST_EINVAL, "'%s': the file name is not UTF-8 (rename it)",
                         NAME(src));
  if (name[0] == '\0' && !S_ISDIR(st.st_mode))
    return hoist_err_set(err, HOIST_EINVAL, "'%s' is a file: it needs a file name in the image",
                         NAME(src));
  /* `from` itself is never excluded; what is under it is matched by its path below it */
  if (depth > 0 && w->exclude) {
    excluded = hoist_glob_excluded(w->exclude, name + w->root_off, S_ISDIR(st.st_mode));
    /* an excluded folder is only entered when a '!' pattern may bring something back */
    if (excluded && (!S_ISDIR(st.st_mode) || !hoist_glob_has_negations(w->exclude)))
      return HOIST_OK;
  }
  if (name[0] && !excluded && (rc = add_walked(w, src, name, &st, at, base, err)) != HOIST_OK)
    return rc;
  if (!S_ISDIR(st.st_mode))
    return HOIST_OK;
  /* O_NOFOLLOW below the top: a folder replaced by a symlink since the stat is not followed */
  fd = openat(at, base, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
  if (fd < 0)
    return hoist_err_set(err, HOIST_EIO, "cannot list '%s': %s", NAME(src), strerror(errno));
  if ((e = hoist_dirlist_open(fd, &list)) != 0) {
    close(fd);
    return hoist_err_set(err, HOIST_EIO, "cannot list '%s': %s", NAME(src), strerror(e));
  }
  before = w->p->n;
  strbuf_init(&cs, PATH_MAX);
  strbuf_init(&cn, PATH_MAX_IMAGE);
  /* in readdir order, a batch at a time: the stats come from the listing */
  while (!rc && (e = hoist_dirlist_next(&list, w->pool, w->threads)) == 0 && list.n) {
    for (i = 0; i < list.n && !rc; i++) {
      const char *child = hoist_dirlist_name(&list, i);
      if (join(&cs, src, child) || join(&cn, name, child))
        rc = hoist_err_set(err, HOIST_ERANGE, "path too long under '%s'", NAME(src));
      else if (list.errs[i])
        rc = hoist_err_set(err, list.errs[i] == ENOENT ? HOIST_ENOENT : HOIST_EIO, "cannot read '%s': %s",
                           NAME(cs.buf), strerror(list.errs[i]));
      else
        rc = walk(w, cs.buf, cn.buf, 0, depth + 1, fd, child, &list.st[i], err);
    }
  }
  strbuf_release(&cs);
  strbuf_release(&cn);
  if (!rc && e)
    rc = hoist_err_set(err, HOIST_EIO, "cannot list '%s': %s", NAME(src), strerror(e));
  hoist_dirlist_close(&list);
  close(fd);
  /* an excluded folder holding re-included paths comes with them, as it is on the host */
  if (!rc && excluded && w->p->n > before)
    rc = add_walked(w, src, name, &st, at, base, err);
  return rc;
}

/* Refuses a source that resolves outside root (through "..", or a symlink). */
static int check_inside(const char *root_real, const char *from, struct hoist_err *err)
{
  char real[PATH_MAX];
  size_t n = strlen(root_real);
  if (!realpath(from, real))
    return hoist_err_set(err, HOIST_ENOENT, "layer source '%s' does not exist", NAME(from));
  if (strcmp(root_real, "/") == 0)
    return HOIST_OK;
  if (strncmp(real, root_real, n) != 0 || (real[n] != '\0' && real[n] != '/'))
    return hoist_err_set(err, HOIST_EINVAL, "layer source '%s' resolves outside the extension folder",
                         NAME(from));
  return HOIST_OK;
}

static int cmp_entry(const void *a, const void *b)
{
  const struct entry *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  if (c)
    return c;
  if (x->seq != y->seq)
    return x->seq < y->seq ? -1 : 1;
  /* implied folders: the one the earliest entry implies sorts last, so dedupe keeps it */
  return x->implied_by > y->implied_by ? -1 : x->implied_by < y->implied_by;
}

/*
** Adds folders implied by deeper entries ("ui" for "ui/index.html"), 0755 and owned like the
** entry implying them (the earliest one, when several do).
*/
static int add_parents(struct hoist_layer_plan *p, struct hoist_err *err)
{
  /* each folder once, implied by the earliest entry below it (entries are in seq order): one
  ** per file and level was 3 entries per file of a deep UI tree, 40 MB at 60,000 files */
  struct strmap implied;
  size_t i, n = p->n;
  int rc = HOIST_OK;
  strmap_init(&implied, 1);
  for (i = 0; rc == HOIST_OK && i < n; i++) {
    char buf[PATH_MAX_IMAGE];
    char *slash;
    unsigned long uid = p->e[i].uid, gid = p->e[i].gid;
    size_t by = p->e[i].seq;
    snprintf(buf, sizeof buf, "%s", p->e[i].name);
    while ((slash = strrchr(buf, '/')) != NULL) {
      struct entry *e;
      *slash = '\0';
      if (strmap_has(&implied, buf))
        break;   /* and so are the folders above it */
      if (strmap_put(&implied, buf, NULL) != 0 || !(e = plan_add(p, buf, err))) {
        rc = hoist_err_set(err, HOIST_ENOMEM, "out of memory");
        break;
      }
      e->type = AE_IFDIR;
      e->perm = 0755;
      e->uid = uid;
      e->gid = gid;
      e->seq = 0;  /* a real folder entry of that name wins */
      e->implied_by = by;
    }
  }
  strmap_free(&implied);
  return rc;
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

/*
** Version 2: gzip is written in parallel blocks (pgzip), zstd by its workers, and
** entries have owners: the bytes of version 1 keys are not what this writes.
*/
/* Writes v in base (8 or 10) at *pp, then sep; what snprintf's %llu / %llo wrote, without it. */
static void put_uint(char **pp, unsigned long long v, unsigned base, char sep)
{
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % base);
    v /= base;
  } while (v);
  while (n)
    *(*pp)++ = tmp[--n];
  *(*pp)++ = sep;
}

static void put_int(char **pp, long long v, char sep)
{
  if (v < 0) {
    *(*pp)++ = '-';
    put_uint(pp, 0ULL - (unsigned long long)v, 10, sep);
  } else {
    put_uint(pp, (unsigned long long)v, 10, sep);
  }
}

/* An entry's line of the key: "%u %o %llu %lld %lld %llu %llu %lu:%lu\n" as it always was. */
static size_t key_line(const struct entry *e, char *buf)
{
  char *p = buf;
  put_uint(&p, e->type, 10, ' ');
  put_uint(&p, e->perm, 8, ' ');
  put_uint(&p, e->size, 10, ' ');
  put_int(&p, e->mtime_ns, ' ');
  put_int(&p, e->ctime_ns, ' ');
  put_uint(&p, (unsigned long long)e->dev, 10, ' ');
  put_uint(&p, (unsigned long long)e->ino, 10, ' ');
  put_uint(&p, e->uid, 10, ':');
  put_uint(&p, e->gid, 10, '\n');
  return (size_t)(p - buf);
}

static int compute_key(struct hoist_layer_plan *p, const struct hoist_layer_input *in, size_t nin,
                       struct hoist_err *err)
{
  struct hoist_digest d;
  char buf[256];
  size_t i, k;
  int rc = hoist_digest_init(&d, err), n;
  if (rc)
    return rc;
  n = snprintf(buf, sizeof buf, "hoist-layer-3 %d %d %lld %d\n", (int)p->opts.compression,
               p->opts.level, p->opts.mtime, p->opts.no_parents);
  rc = hoist_digest_update(&d, buf, (size_t)n);
  /* the patterns themselves, not only what they left out: a new file they would
     exclude must not make an old key look right */
  for (i = 0; i < nin && !rc; i++) {
    if (!in[i].n_exclude)
      continue;
    n = snprintf(buf, sizeof buf, "exclude %zu %zu\n", i, in[i].n_exclude);
    rc = hoist_digest_update(&d, buf, (size_t)n);
    for (k = 0; k < in[i].n_exclude && !rc; k++)
      rc = hoist_digest_update(&d, in[i].exclude[k], strlen(in[i].exclude[k]) + 1);
  }
  for (i = 0; i < p->n && !rc; i++) {
    const struct entry *e = &p->e[i];
    size_t len = key_line(e, buf);
    /* the file is known by device and inode, not by the path it was named with
       ("fx", "./fx" and "/abs/fx" are one cache entry) */
    rc = hoist_digest_update(&d, e->name, strlen(e->name) + 1);
    rc = rc ? rc : hoist_digest_update(&d, buf, len);
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
  struct hoist_glob *glob = NULL;
  struct hoist_pool *pool = NULL;
  char root_real[PATH_MAX];
  size_t i;
  int rc = HOIST_OK, threads = hoist_pool_default_threads();

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
        rc = hoist_err_set(err, HOIST_ERANGE, "layer target '%s' is too long", NAME(in[i].to));
        break;
      }
      if (name[0])
        strncat(name, "/", sizeof name - strlen(name) - 1);
      strncat(name, base, sizeof name - strlen(name) - 1);
    }
    if (in[i].n_exclude)
      rc = hoist_glob_compile(in[i].exclude, in[i].n_exclude, &glob, err);
    if (!rc) {
      struct walk_ctx w;
      w.p = p;
      w.in = &in[i];
      w.exclude = glob;
      w.root_off = name[0] ? strlen(name) + 1 : 0;
      /* the stats of large folders on every thread hoist computes with: the walk is mostly the
      ** kernel's stat of each file (the pool starts with the first such folder) */
      w.pool = &pool;
      w.threads = threads;
      rc = walk(&w, in[i].from, name, 1, 0, AT_FDCWD, in[i].from, NULL, err);
    }
    hoist_glob_free(glob);
    glob = NULL;
  }
  hoist_pool_free(pool);
  if (!o->no_parents)
    rc = rc ? rc : add_parents(p, err);
  if (!rc) {
    dedupe(p);
    rc = link_hardlinks(p, err);
  }
  rc = rc ? rc : compute_key(p, in, n, err);
  if (rc) {
    hoist_layer_plan_free(p);
    return rc;
  }
  *out = p;
  return HOIST_OK;
}

/* ------------------------------------------------------------- writing */

#define OUT_BLOCK (128 * 1024)

/* What one call writing layers shares: the pool, the gzip block budget, the output. */
struct run {
  struct hoist_pool *pool;
  struct hoist_pgzip_budget *budget;
  int nthreads;
  const struct hoist_layer_out *out;
  _Atomic unsigned long long *read_bytes;  /* file bytes read into tars so far, or NULL */
};

/*
** Where one layer's tar goes: hashed (diff_id) as libarchive produces it,
** compressed, then hashed again (digest) and handed to the output in order.
*/
struct sink {
  struct hoist_digest tar, blob;
  enum hoist_compression comp;
  struct hoist_pgzip *gz;
  ZSTD_CCtx *zc;
  const struct hoist_layer_out *out;
  _Atomic unsigned long long *read_bytes;  /* the run's */
  size_t index;
  unsigned long long tar_size, blob_size;
  int failed;
  struct hoist_err *err;
  unsigned char zout[OUT_BLOCK];
};

static int emit(struct sink *s, const void *buf, size_t n, struct hoist_err *err)
{
  int rc;
  if (n == 0)
    return HOIST_OK;
  if (hoist_digest_update(&s->blob, buf, n))
    return hoist_err_set(err, HOIST_EIO, "cannot hash the layer blob");
  rc = s->out->write(s->out->ctx, s->index, buf, n, err);
  if (rc)
    return err->code ? err->code : rc;
  s->blob_size += n;
  return HOIST_OK;
}

static int gz_emit(void *ctx, const void *buf, size_t n, struct hoist_err *err)
{
  return emit(ctx, buf, n, err);
}

static int compress_chunk(struct sink *s, const void *buf, size_t n, int finish)
{
  if (s->comp == HOIST_COMPRESS_NONE)
    return emit(s, buf, n, s->err) ? -1 : 0;
  if (s->comp == HOIST_COMPRESS_GZIP) {
    if (n && hoist_pgzip_write(s->gz, buf, n, s->err))
      return -1;
    return finish && hoist_pgzip_finish(s->gz, s->err) ? -1 : 0;
  } else {
    ZSTD_inBuffer zin = { buf, n, 0 };
    size_t left;
    do {
      ZSTD_outBuffer zout = { s->zout, sizeof s->zout, 0 };
      left = ZSTD_compressStream2(s->zc, &zout, &zin, finish ? ZSTD_e_end : ZSTD_e_continue);
      if (ZSTD_isError(left)) {
        hoist_err_set(s->err, HOIST_EIO, "zstd compression failed: %s", ZSTD_getErrorName(left));
        return -1;
      }
      if (emit(s, s->zout, zout.pos, s->err))
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

static int sink_open(struct sink *s, const struct hoist_layer_opts *o, const struct run *run,
                     size_t index, struct hoist_err *err)
{
  int rc;
  memset(s, 0, offsetof(struct sink, zout));
  s->comp = o->compression;
  s->out = run->out;
  s->read_bytes = run->read_bytes;
  s->index = index;
  s->err = err;
  if (hoist_digest_init(&s->tar, err))
    return HOIST_ENOMEM;
  if (hoist_digest_init(&s->blob, err)) {
    hoist_digest_release(&s->tar);
    return HOIST_ENOMEM;
  }
  if (s->comp == HOIST_COMPRESS_GZIP) {
    rc = hoist_pgzip_new(run->pool, run->budget, o->level, gz_emit, s, &s->gz, err);
    if (rc) {
      hoist_digest_release(&s->tar);
      hoist_digest_release(&s->blob);
      return rc;
    }
  } else if (s->comp == HOIST_COMPRESS_ZSTD) {
    /* workers >= 1 in every case: zstd's multi-threaded frames are the same for any number of
       workers, but not the same as its single-threaded ones */
    int workers = run->nthreads > 0 ? run->nthreads : 1;
    s->zc = ZSTD_createCCtx();
    if (!s->zc || ZSTD_isError(ZSTD_CCtx_setParameter(s->zc, ZSTD_c_compressionLevel, o->level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(s->zc, ZSTD_c_nbWorkers, workers))) {
      hoist_digest_release(&s->tar);
      hoist_digest_release(&s->blob);
      if (s->zc)
        ZSTD_freeCCtx(s->zc);
      s->zc = NULL;
      return hoist_err_set(err, HOIST_EIO, "cannot start zstd with %d workers (a libzstd "
                           "without threads cannot make hoist's zstd layers)", workers);
    }
  }
  return HOIST_OK;
}

static void sink_release(struct sink *s)
{
  /* waits for the blocks still in flight after a failure */
  hoist_pgzip_free(s->gz);
  s->gz = NULL;
  if (s->zc)
    ZSTD_freeCCtx(s->zc);
  s->zc = NULL;
  hoist_digest_release(&s->tar);
  hoist_digest_release(&s->blob);
}

/* Copies e's file into the tar; hash (NULL: not recorded) sees the same bytes. */
static int write_entry_data(struct archive *a, const struct entry *e, unsigned char *buf,
                            struct sink *s, struct hoist_file_hash *hash, struct hoist_err *err)
{
  unsigned long long done = 0;
  int fd = open(e->src, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return hoist_err_set(err, HOIST_EIO, "cannot open '%s': %s", NAME(e->src), strerror(errno));
  while (done < e->size) {
    size_t want = e->size - done < READ_BLOCK ? (size_t)(e->size - done) : READ_BLOCK;
    ssize_t n = read(fd, buf, want);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      close(fd);
      return hoist_err_set(err, HOIST_EIO, "cannot read '%s': %s", NAME(e->src), strerror(errno));
    }
    if (n == 0)
      break;
    if (hash && hoist_file_hash_update(hash, buf, (size_t)n, err) != HOIST_OK) {
      close(fd);
      return err->code;
    }
    if (archive_write_data(a, buf, (size_t)n) != n) {
      close(fd);
      if (s->failed)
        return err->code ? err->code : HOIST_EIO;
      return hoist_err_set(err, HOIST_EIO, "cannot write '%s' into the layer: %s", NAME(e->src),
                           archive_error_string(a));
    }
    done += (unsigned long long)n;
    if (s->read_bytes)
      atomic_fetch_add_explicit(s->read_bytes, (unsigned long long)n, memory_order_relaxed);
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
    return hoist_err_set(err, HOIST_EIO, "'%s' changed while it was read", NAME(e->src));
  return HOIST_OK;
}

/*
** Starts recording entry i of a layer into files: described from the tar entry ae as written
** (its stored name, link and permission bits), as hoist_layer_files_read describes it when it
** reads the tar back. A regular file's size and hashes come with its data.
*/
static int record_entry(struct hoist_layer_files *files, const struct entry *e,
                        struct archive_entry *ae, struct hoist_err *err)
{
  struct hoist_layer_entry *fe = &files->entries[files->n++];
  const char *link = NULL;
  char type = 'o';
  if (e->hardlink) {
    type = 'h';
    link = archive_entry_hardlink_utf8(ae);
  } else if (e->type == AE_IFREG) {
    type = 'f';
  } else if (e->type == AE_IFDIR) {
    type = 'd';
  } else if (e->type == AE_IFLNK) {
    type = 'l';
    link = archive_entry_symlink_utf8(ae);
  }
  /* the tar's mode field holds the permission bits only (ustar: mode & 07777) */
  return hoist_layer_entry_init(fe, archive_entry_pathname_utf8(ae), type,
                                (unsigned)archive_entry_perm(ae) & 07777, link, err);
}

/* A regular file's data into the tar; fe (NULL: not recorded) gets its size and hashes. */
static int write_file(struct archive *a, const struct entry *e, unsigned char *buf, struct sink *s,
                      struct hoist_layer_entry *fe, struct hoist_file_hash *hash,
                      struct hoist_err *err)
{
  int rc = fe ? hoist_file_hash_start(hash, err) : HOIST_OK;
  if (!rc && e->size > 0)
    rc = write_entry_data(a, e, buf, s, fe ? hash : NULL, err);
  if (!rc && fe) {
    fe->size = (long long)e->size;
    rc = hoist_file_hash_final(hash, fe, err);
  }
  return rc;
}

/* Writes the tar of p into s; files (NULL: not recorded) receives its entries. */
static int write_tar(const struct hoist_layer_plan *p, struct sink *s,
                     struct hoist_layer_files *files, struct hoist_err *err)
{
  struct archive *a = archive_write_new();
  struct archive_entry *ae = archive_entry_new();
  unsigned char *buf = malloc(READ_BLOCK);
  locale_t u8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
  locale_t old = u8 ? uselocale(u8) : (locale_t)0;
  struct hoist_file_hash *hash = NULL;
  size_t i;
  int rc = HOIST_OK;

  if (!a || !ae || !buf) {
    rc = hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    goto out;
  }
  if (files) {
    /* one record per tar entry, allocated once: the plan already bounds how many */
    if (p->n > HOIST_LAYER_FILES_MAX) {
      rc = hoist_err_set(err, HOIST_ERANGE, "a layer of %zu entries is more than the %d whose "
                         "files can be listed", p->n, HOIST_LAYER_FILES_MAX);
      goto out;
    }
    if ((rc = hoist_file_hash_new(&hash, err)) != HOIST_OK)
      goto out;
    if (p->n && !(files->entries = calloc(p->n, sizeof *files->entries))) {
      rc = hoist_err_set(err, HOIST_ENOMEM, "out of memory");
      goto out;
    }
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
      rc = hoist_err_set(err, HOIST_EINVAL, "cannot store the name '%s' in this locale", NAME(e->name));
      break;
    }
    archive_entry_set_uid(ae, (la_int64_t)e->uid);
    archive_entry_set_gid(ae, (la_int64_t)e->gid);
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
                     : hoist_err_set(err, HOIST_EIO, "cannot add '%s' to the layer: %s", NAME(e->name),
                                     archive_error_string(a));
      break;
    }
    if (files && (rc = record_entry(files, e, ae, err)) != HOIST_OK)
      break;
    if (e->type == AE_IFREG && !e->hardlink)
      rc = write_file(a, e, buf, s, files ? &files->entries[files->n - 1] : NULL, hash, err);
  }
  if (!rc && archive_write_close(a) != ARCHIVE_OK)
    rc = s->failed ? (err->code ? err->code : HOIST_EIO)
                   : hoist_err_set(err, HOIST_EIO, "cannot finish the layer: %s",
                                   archive_error_string(a));
out:
  /*
  ** An output that refuses bytes while a header is written (a push stream whose upload failed,
  ** a full disk) leaves libarchive in its FATAL state, in which archive_write_free skips the
  ** close that frees its 10 KiB block buffer: close it here, into a sink that takes nothing more.
  */
  if (rc && a) {
    s->failed = 1;
    archive_write_close(a);
  }
  hoist_file_hash_free(hash);
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

/*
** Produces layer `index` of a run into its output; res is filled on success, and files (NULL:
** not recorded) with its entries, or left empty on failure.
*/
static int layer_produce(const struct run *run, const struct hoist_layer_plan *p, size_t index,
                         struct hoist_layer_result *res, struct hoist_layer_files *files,
                         struct hoist_err *err)
{
  const struct hoist_layer_out *out = run->out;
  struct hoist_err close_err;
  struct sink *s;
  int rc, crc;

  memset(res, 0, sizeof *res);
  s = malloc(sizeof *s);
  if (!s)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  if (out->open && (rc = out->open(out->ctx, index, err)) != HOIST_OK) {
    free(s);
    return err->code ? err->code : rc;
  }
  rc = sink_open(s, &p->opts, run, index, err);
  if (!rc) {
    rc = write_tar(p, s, files, err);
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
  /* a failed layer's close only cleans up: the first error is the one to report */
  memset(&close_err, 0, sizeof close_err);
  crc = out->close(out->ctx, index, rc ? NULL : res, rc ? &close_err : err);
  if (!rc && crc)
    rc = err->code ? err->code : crc;
  if (rc)
    hoist_layer_files_free(files);
  return rc;
}

/* ------------------------------------------------------------- into a folder */

struct blob_file {
  FILE *f;
  char *tmp;   /* the temporary name while it is written */
};

struct blob_dir {
  const char *dir;
  struct blob_file *files;
};

static int blob_open(void *ctx, size_t i, struct hoist_err *err)
{
  struct blob_dir *bd = ctx;
  struct blob_file *bf = &bd->files[i];
  struct strbuf tmp;
  int fd, rc;
  strbuf_init(&tmp, PATH_MAX);
  if (strbuf_addf(&tmp, "%s/.tmp-layer-XXXXXX", bd->dir))
    return hoist_err_set(err, HOIST_ERANGE, "blob folder path too long");
  fd = mkstemp(tmp.buf);
  /* mkstemp makes 0600; blobs are readable like every other file of the layout */
  if (fd >= 0)
    fchmod(fd, 0644);
  if (fd < 0 || !(bf->f = fdopen(fd, "wb"))) {
    rc = hoist_err_set(err, HOIST_EIO, "cannot create a blob in '%s': %s", bd->dir, strerror(errno));
    if (fd >= 0) {
      close(fd);
      unlink(tmp.buf);
    }
    strbuf_release(&tmp);
    return rc;
  }
  bf->tmp = strbuf_detach(&tmp, NULL);
  return HOIST_OK;
}

static int blob_write(void *ctx, size_t i, const void *buf, size_t n, struct hoist_err *err)
{
  struct blob_dir *bd = ctx;
  if (fwrite(buf, 1, n, bd->files[i].f) != n)
    return hoist_err_set(err, HOIST_EIO, "cannot write the layer blob: %s", strerror(errno));
  return HOIST_OK;
}

static int blob_close(void *ctx, size_t i, const struct hoist_layer_result *res,
                      struct hoist_err *err)
{
  struct blob_dir *bd = ctx;
  struct blob_file *bf = &bd->files[i];
  struct strbuf final;
  int rc = HOIST_OK;
  /* on disk before its name appears: index.json, written after, may point at it */
  if (res && (fflush(bf->f) != 0 || fsync(fileno(bf->f)) != 0))
    rc = hoist_err_set(err, HOIST_EIO, "cannot write a blob in '%s': %s", bd->dir, strerror(errno));
  if (fclose(bf->f) != 0 && res && !rc)
    rc = hoist_err_set(err, HOIST_EIO, "cannot write a blob in '%s': %s", bd->dir, strerror(errno));
  bf->f = NULL;
  strbuf_init(&final, PATH_MAX);
  if (res && !rc && strbuf_addf(&final, "%s/%s", bd->dir, res->digest + 7))
    rc = hoist_err_set(err, HOIST_ERANGE, "blob folder path too long");
  if (res && !rc && rename(bf->tmp, final.buf) != 0)
    rc = hoist_err_set(err, HOIST_EIO, "cannot store blob '%s': %s", final.buf, strerror(errno));
  if (!res || rc)
    unlink(bf->tmp);
  strbuf_release(&final);
  free(bf->tmp);
  bf->tmp = NULL;
  return rc;
}

int hoist_layer_write_all(struct hoist_layer_plan *const *plans, size_t n, const char *blob_dir,
                          int nthreads, struct hoist_layer_result *res, int *rcs,
                          struct hoist_err *errs)
{
  return hoist_layer_write_all_files(plans, n, blob_dir, nthreads, res, NULL, rcs, errs);
}

int hoist_layer_write_all_files(struct hoist_layer_plan *const *plans, size_t n,
                                const char *blob_dir, int nthreads,
                                struct hoist_layer_result *res, struct hoist_layer_files *files,
                                int *rcs, struct hoist_err *errs)
{
  return hoist_layer_write_all_watch(plans, n, blob_dir, nthreads, res, files, NULL, rcs, errs);
}

int hoist_layer_write_all_watch(struct hoist_layer_plan *const *plans, size_t n,
                                const char *blob_dir, int nthreads,
                                struct hoist_layer_result *res, struct hoist_layer_files *files,
                                _Atomic unsigned long long *read_bytes, int *rcs,
                                struct hoist_err *errs)
{
  struct blob_dir bd;
  struct hoist_layer_out out;
  size_t i;
  int rc;
  if (n == 0)
    return HOIST_OK;
  bd.dir = blob_dir;
  bd.files = calloc(n, sizeof *bd.files);
  if (!bd.files) {
    for (i = 0; i < n; i++) {
      rcs[i] = hoist_err_set(&errs[i], HOIST_ENOMEM, "out of memory");
      if (files)
        memset(&files[i], 0, sizeof files[i]);
    }
    return HOIST_ENOMEM;
  }
  out.open = blob_open;
  out.write = blob_write;
  out.close = blob_close;
  out.ctx = &bd;
  rc = hoist_layer_stream_all_watch(plans, n, &out, nthreads, res, files, read_bytes, rcs, errs);
  free(bd.files);
  return rc;
}

int hoist_layer_write(const struct hoist_layer_plan *p, const char *blob_dir,
                      struct hoist_layer_result *res, struct hoist_err *err)
{
  struct hoist_layer_plan *one = (struct hoist_layer_plan *)(uintptr_t)p;  /* only read */
  int rc = 0;
  hoist_layer_write_all(&one, 1, blob_dir, 0, res, &rc, err);
  return rc;
}

/* -------------------------------------------------------------- scheduling */

/* One layer as a pool task. */
struct job {
  struct hoist_task task;  /* the first member: a task pointer is a job pointer */
  const struct run *run;
  const struct hoist_layer_plan *plan;
  size_t index;
  struct hoist_layer_result *res;
  struct hoist_layer_files *files;  /* NULL: not recorded */
  int *rc;
  struct hoist_err *err;
};

static void job_run(struct hoist_task *t)
{
  struct job *j = (struct job *)t;
  *j->rc = layer_produce(j->run, j->plan, j->index, j->res, j->files, j->err);
}

int hoist_layer_stream_all(struct hoist_layer_plan *const *plans, size_t n,
                           const struct hoist_layer_out *out, int nthreads,
                           struct hoist_layer_result *res, int *rcs, struct hoist_err *errs)
{
  return hoist_layer_stream_all_files(plans, n, out, nthreads, res, NULL, rcs, errs);
}

int hoist_layer_stream_all_files(struct hoist_layer_plan *const *plans, size_t n,
                                 const struct hoist_layer_out *out, int nthreads,
                                 struct hoist_layer_result *res, struct hoist_layer_files *files,
                                 int *rcs, struct hoist_err *errs)
{
  return hoist_layer_stream_all_watch(plans, n, out, nthreads, res, files, NULL, rcs, errs);
}

int hoist_layer_stream_all_watch(struct hoist_layer_plan *const *plans, size_t n,
                                 const struct hoist_layer_out *out, int nthreads,
                                 struct hoist_layer_result *res, struct hoist_layer_files *files,
                                 _Atomic unsigned long long *read_bytes, int *rcs,
                                 struct hoist_err *errs)
{
  struct run run;
  struct job *jobs;
  struct hoist_err err;
  size_t i;
  int rc = HOIST_OK;

  if (n == 0)
    return HOIST_OK;
  if (nthreads <= 0)
    nthreads = hoist_pool_default_threads();
  if (nthreads > HOIST_POOL_MAX_THREADS)
    nthreads = HOIST_POOL_MAX_THREADS;
  for (i = 0; i < n; i++) {
    rcs[i] = HOIST_OK;
    memset(&errs[i], 0, sizeof errs[i]);
    memset(&res[i], 0, sizeof res[i]);
    if (files)
      memset(&files[i], 0, sizeof files[i]);
  }
  memset(&run, 0, sizeof run);
  run.nthreads = nthreads;
  run.out = out;
  run.read_bytes = read_bytes;
  jobs = calloc(n, sizeof *jobs);
  /* the calling thread is one of the nthreads: it helps until every layer is done */
  if (!jobs)
    rc = hoist_err_set(&err, HOIST_ENOMEM, "out of memory");
  if (!rc)
    rc = hoist_pool_new(nthreads - 1, &run.pool, &err);
  /* two blocks in flight per thread: one being compressed, one waiting to be */
  if (!rc)
    rc = hoist_pgzip_budget_new(2 * (size_t)nthreads, &run.budget, &err);
  if (rc) {
    for (i = 0; i < n; i++) {
      rcs[i] = rc;
      errs[i] = err;
    }
    hoist_pool_free(run.pool);
    free(jobs);
    return rc;
  }
  /* the biggest layers first (the last to finish is then a small one); among equals, in order */
  for (i = 0; i < n; i++) {
    struct job *j = &jobs[i];
    unsigned long long bytes = plans[i]->bytes;
    j->task.run = job_run;
    j->task.priority = bytes >= (unsigned long long)HOIST_PGZIP_PRIORITY ? HOIST_PGZIP_PRIORITY - 1
                                                                          : (long long)bytes;
    j->run = &run;
    j->plan = plans[i];
    j->index = i;
    j->res = &res[i];
    j->files = files ? &files[i] : NULL;
    j->rc = &rcs[i];
    j->err = &errs[i];
    hoist_pool_submit(run.pool, &j->task);
  }
  hoist_pool_help_until_all(run.pool, HOIST_POOL_PRIO_MIN, &jobs[0].task, n, sizeof jobs[0]);
  hoist_pool_free(run.pool);
  hoist_pgzip_budget_free(run.budget);
  free(jobs);
  for (i = 0; i < n; i++)
    if (rcs[i])
      return rcs[i];
  return HOIST_OK;
}

int hoist_layer_parse_owner(const char *s, unsigned long *uid, unsigned long *gid,
                            struct hoist_err *err)
{
  unsigned long long v[2] = { 0, 0 };
  const char *p = s;
  int k;
  for (k = 0; k < 2; k++) {
    const char *start = p;
    while (*p >= '0' && *p <= '9' && p - start < 11)
      v[k] = v[k] * 10 + (unsigned long long)(*p++ - '0');
    /* 4294967295 is (uid_t)-1, "no owner" to chown: not an owner */
    if (p == start || (*p >= '0' && *p <= '9') || v[k] > 4294967294ULL || *p != (k ? '\0' : ':'))
      return hoist_err_set(err, HOIST_EINVAL, "owner must be \"uid:gid\" with numbers up to "
                           "4294967294, not '%.40s'", s);
    p++;
  }
  *uid = (unsigned long)v[0];
  *gid = (unsigned long)v[1];
  return HOIST_OK;
}
