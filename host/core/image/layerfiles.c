#include "layerfiles.h"

#include "digest.h"
#include "interrupt.h"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static char *normalize(const char *name)
{
  size_t n;
  char *s;
  while (name[0] == '.' && name[1] == '/')
    name += 2;
  while (name[0] == '/')
    name++;
  n = strlen(name);
  while (n > 0 && name[n - 1] == '/')
    n--;
  if (n == 1 && name[0] == '.')
    n = 0;
  s = malloc(n + 1);
  if (s) {
    memcpy(s, name, n);
    s[n] = '\0';
  }
  return s;
}

int hoist_layer_entry_init(struct hoist_layer_entry *e, const char *name, char type, unsigned mode,
                           const char *link, struct hoist_err *err)
{
  memset(e, 0, sizeof *e);
  if (!name)
    return hoist_err_set(err, HOIST_EINVAL, "a layer entry without a name");
  e->type = type;
  e->mode = mode;
  e->name = normalize(name);
  if (link)
    e->link = type == 'h' ? normalize(link) : strdup(link);
  if (!e->name || (link && !e->link))
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  return HOIST_OK;
}

struct hoist_file_hash {
  EVP_MD_CTX *c256, *c1;
};

void hoist_file_hash_free(struct hoist_file_hash *h)
{
  if (!h)
    return;
  EVP_MD_CTX_free(h->c256);
  EVP_MD_CTX_free(h->c1);
  free(h);
}

int hoist_file_hash_new(struct hoist_file_hash **out, struct hoist_err *err)
{
  struct hoist_file_hash *h = calloc(1, sizeof *h);
  *out = NULL;
  if (!h || !(h->c256 = EVP_MD_CTX_new()) || !(h->c1 = EVP_MD_CTX_new())) {
    hoist_file_hash_free(h);
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  *out = h;
  return HOIST_OK;
}

int hoist_file_hash_start(struct hoist_file_hash *h, struct hoist_err *err)
{
  if (EVP_DigestInit_ex(h->c256, EVP_sha256(), NULL) != 1 ||
      EVP_DigestInit_ex(h->c1, EVP_sha1(), NULL) != 1)
    return hoist_err_set(err, HOIST_EIO, "cannot start SHA-256 and SHA-1");
  return HOIST_OK;
}

int hoist_file_hash_update(struct hoist_file_hash *h, const void *buf, size_t n,
                           struct hoist_err *err)
{
  if (EVP_DigestUpdate(h->c256, buf, n) != 1 || EVP_DigestUpdate(h->c1, buf, n) != 1)
    return hoist_err_set(err, HOIST_EIO, "cannot hash a file");
  return HOIST_OK;
}

int hoist_file_hash_final(struct hoist_file_hash *h, struct hoist_layer_entry *e,
                          struct hoist_err *err)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned mdlen = 0;
  if (EVP_DigestFinal_ex(h->c256, md, &mdlen) != 1 || mdlen != 32)
    return hoist_err_set(err, HOIST_EIO, "cannot finish SHA-256");
  hoist_hex(md, mdlen, e->sha256);
  if (EVP_DigestFinal_ex(h->c1, md, &mdlen) != 1 || mdlen != 20)
    return hoist_err_set(err, HOIST_EIO, "cannot finish SHA-1");
  hoist_hex(md, mdlen, e->sha1);
  return HOIST_OK;
}

/* Streams the current entry's data through SHA-256 and SHA-1. */
static int hash_data(struct archive *a, struct hoist_file_hash *h, struct hoist_layer_entry *e,
                     const char *path, struct hoist_err *err)
{
  const void *buf;
  size_t len;
  la_int64_t off;
  int r, rc = hoist_file_hash_start(h, err);
  if (rc)
    return rc;
  e->size = 0;
  /* read_data_block hands libarchive's own buffers over: no copy */
  while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
    if (hoist_interrupted())
      return hoist_err_set(err, HOIST_EINTR, "interrupted");
    /* sparse entries: the holes are zeros, and count */
    if (off > e->size) {
      static const unsigned char zeros[4096];
      while (e->size < off) {
        size_t k = (size_t)(off - e->size) < sizeof zeros ? (size_t)(off - e->size) : sizeof zeros;
        if ((rc = hoist_file_hash_update(h, zeros, k, err)) != HOIST_OK)
          return rc;
        e->size += (long long)k;
      }
    }
    if ((rc = hoist_file_hash_update(h, buf, len, err)) != HOIST_OK)
      return rc;
    e->size += (long long)len;
  }
  if (r != ARCHIVE_EOF)
    return hoist_err_set(err, HOIST_EIO, "cannot read '%s' in layer '%s': %s", e->name, path,
                         archive_error_string(a));
  return hoist_file_hash_final(h, e, err);
}

int hoist_layer_files_read(const char *path, struct hoist_layer_files *out, struct hoist_err *err)
{
  struct archive *a;
  struct archive_entry *ae;
  struct hoist_file_hash *h;
  size_t cap = 0;
  int rc, r = ARCHIVE_OK;

  memset(out, 0, sizeof *out);
  if ((rc = hoist_file_hash_new(&h, err)) != HOIST_OK)
    return rc;
  if (!(a = archive_read_new())) {
    hoist_file_hash_free(h);
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  if (archive_read_open_filename(a, path, 1 << 17) != ARCHIVE_OK) {
    rc = hoist_err_set(err, HOIST_EIO, "cannot read layer '%s': %s", path, archive_error_string(a));
    archive_read_free(a);
    hoist_file_hash_free(h);
    return rc;
  }
  while (!rc && (r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
    const char *name = archive_entry_pathname_utf8(ae), *hl = archive_entry_hardlink_utf8(ae);
    const char *sl = archive_entry_symlink_utf8(ae);
    mode_t ft = archive_entry_filetype(ae);
    struct hoist_layer_entry *e;
    char type;
    if (!name)
      name = archive_entry_pathname(ae);
    if (!hl)
      hl = archive_entry_hardlink(ae);
    if (!sl)
      sl = archive_entry_symlink(ae);
    if (!name)
      continue;
    if (out->n == cap) {
      size_t ncap = cap ? cap * 2 : 256;
      struct hoist_layer_entry *grown;
      if (ncap > HOIST_LAYER_FILES_MAX)
        ncap = HOIST_LAYER_FILES_MAX;
      if (ncap == cap) {
        rc = hoist_err_set(err, HOIST_ERANGE, "layer '%s' has more than %d entries", path,
                           HOIST_LAYER_FILES_MAX);
        break;
      }
      grown = realloc(out->entries, ncap * sizeof *grown);
      if (!grown) {
        rc = hoist_err_set(err, HOIST_ENOMEM, "out of memory");
        break;
      }
      out->entries = grown;
      cap = ncap;
    }
    e = &out->entries[out->n++];
    type = hl ? 'h' : ft == AE_IFREG ? 'f' : ft == AE_IFDIR ? 'd' : ft == AE_IFLNK ? 'l' : 'o';
    rc = hoist_layer_entry_init(e, name, type, (unsigned)archive_entry_perm(ae), hl ? hl : sl, err);
    if (!rc && e->type == 'f')
      rc = hash_data(a, h, e, path, err);
  }
  if (!rc && r != ARCHIVE_EOF)
    rc = hoist_err_set(err, HOIST_EIO, "layer '%s' is damaged: %s", path, archive_error_string(a));
  archive_read_free(a);
  hoist_file_hash_free(h);
  if (rc)
    hoist_layer_files_free(out);
  return rc;
}

void hoist_layer_files_free(struct hoist_layer_files *f)
{
  size_t i;
  if (!f)
    return;
  for (i = 0; i < f->n; i++) {
    free(f->entries[i].name);
    free(f->entries[i].link);
  }
  free(f->entries);
  f->entries = NULL;
  f->n = 0;
}

struct pool {
  pthread_mutex_t lock;
  size_t next, n;
  const char *const *paths;
  struct hoist_layer_files *out;
  int *rcs;
  struct hoist_err *errs;
};

static void *worker(void *arg)
{
  struct pool *p = arg;
  for (;;) {
    size_t i;
    pthread_mutex_lock(&p->lock);
    i = p->next++;
    pthread_mutex_unlock(&p->lock);
    if (i >= p->n)
      return NULL;
    p->rcs[i] = hoist_layer_files_read(p->paths[i], &p->out[i], &p->errs[i]);
  }
}

int hoist_layer_files_read_all(const char *const *paths, size_t n, int nthreads,
                               struct hoist_layer_files *out, int *rcs, struct hoist_err *errs)
{
  struct pool p;
  pthread_t th[16];
  size_t i, started = 0, want;
  if (nthreads <= 0)
    nthreads = 2;
  want = (size_t)nthreads < n ? (size_t)nthreads : n;
  if (want > 16)
    want = 16;
  for (i = 0; i < n; i++) {
    rcs[i] = HOIST_OK;
    memset(&out[i], 0, sizeof out[i]);
  }
  memset(&p, 0, sizeof p);
  p.n = n;
  p.paths = paths;
  p.out = out;
  p.rcs = rcs;
  p.errs = errs;
  pthread_mutex_init(&p.lock, NULL);
  /* the calling thread works too, so a failed pthread_create only costs speed */
  for (i = 1; i < want; i++)
    if (pthread_create(&th[started], NULL, worker, &p) == 0)
      started++;
  worker(&p);
  for (i = 0; i < started; i++)
    pthread_join(th[i], NULL);
  pthread_mutex_destroy(&p.lock);
  for (i = 0; i < n; i++)
    if (rcs[i])
      return rcs[i];
  return HOIST_OK;
}
