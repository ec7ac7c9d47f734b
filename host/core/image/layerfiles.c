#include "layerfiles.h"

#include "interrupt.h"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES 10000000   /* a layer with more entries than this is refused, not read */

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

static void hex(const unsigned char *md, unsigned n, char *out)
{
  static const char digits[] = "0123456789abcdef";
  unsigned i;
  for (i = 0; i < n; i++) {
    out[2 * i] = digits[md[i] >> 4];
    out[2 * i + 1] = digits[md[i] & 15];
  }
  out[2 * n] = '\0';
}

/* Streams the current entry's data through SHA-256 and SHA-1. */
static int hash_data(struct archive *a, struct hoist_layer_entry *e, const char *path,
                     struct hoist_err *err)
{
  EVP_MD_CTX *c256 = EVP_MD_CTX_new(), *c1 = EVP_MD_CTX_new();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned mdlen;
  const void *buf;
  size_t len;
  la_int64_t off;
  int r, rc = HOIST_OK;
  if (!c256 || !c1 || EVP_DigestInit_ex(c256, EVP_sha256(), NULL) != 1 ||
      EVP_DigestInit_ex(c1, EVP_sha1(), NULL) != 1) {
    rc = hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    goto out;
  }
  e->size = 0;
  /* read_data_block hands libarchive's own buffers over: no copy */
  while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
    if (hoist_interrupted()) {
      rc = hoist_err_set(err, HOIST_EINTR, "interrupted");
      goto out;
    }
    /* sparse entries: the holes are zeros, and count */
    if (off > e->size) {
      static const unsigned char zeros[4096];
      while (e->size < off) {
        size_t k = (size_t)(off - e->size) < sizeof zeros ? (size_t)(off - e->size) : sizeof zeros;
        EVP_DigestUpdate(c256, zeros, k);
        EVP_DigestUpdate(c1, zeros, k);
        e->size += (long long)k;
      }
    }
    EVP_DigestUpdate(c256, buf, len);
    EVP_DigestUpdate(c1, buf, len);
    e->size += (long long)len;
  }
  if (r != ARCHIVE_EOF) {
    rc = hoist_err_set(err, HOIST_EIO, "cannot read '%s' in layer '%s': %s", e->name, path,
                       archive_error_string(a));
    goto out;
  }
  EVP_DigestFinal_ex(c256, md, &mdlen);
  hex(md, mdlen, e->sha256);
  EVP_DigestFinal_ex(c1, md, &mdlen);
  hex(md, mdlen, e->sha1);
out:
  EVP_MD_CTX_free(c256);
  EVP_MD_CTX_free(c1);
  return rc;
}

int hoist_layer_files_read(const char *path, struct hoist_layer_files *out, struct hoist_err *err)
{
  struct archive *a = archive_read_new();
  struct archive_entry *ae;
  size_t cap = 0;
  int rc = HOIST_OK, r;

  memset(out, 0, sizeof *out);
  if (!a)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  if (archive_read_open_filename(a, path, 1 << 17) != ARCHIVE_OK) {
    rc = hoist_err_set(err, HOIST_EIO, "cannot read layer '%s': %s", path, archive_error_string(a));
    archive_read_free(a);
    return rc;
  }
  while (!rc && (r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
    const char *name = archive_entry_pathname_utf8(ae), *hl = archive_entry_hardlink_utf8(ae);
    const char *sl = archive_entry_symlink_utf8(ae);
    mode_t ft = archive_entry_filetype(ae);
    struct hoist_layer_entry *e;
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
      if (ncap > MAX_ENTRIES) {
        rc = hoist_err_set(err, HOIST_ERANGE, "layer '%s' has more than %d entries", path, MAX_ENTRIES);
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
    e = &out->entries[out->n];
    memset(e, 0, sizeof *e);
    e->name = normalize(name);
    e->type = hl ? 'h' : ft == AE_IFREG ? 'f' : ft == AE_IFDIR ? 'd' : ft == AE_IFLNK ? 'l' : 'o';
    e->mode = (unsigned)archive_entry_perm(ae);
    if (hl)
      e->link = normalize(hl);
    else if (sl)
      e->link = strdup(sl);
    out->n++;
    if (!e->name || ((hl || sl) && !e->link)) {
      rc = hoist_err_set(err, HOIST_ENOMEM, "out of memory");
      break;
    }
    if (e->type == 'f')
      rc = hash_data(a, e, path, err);
  }
  if (!rc && r != ARCHIVE_EOF)
    rc = hoist_err_set(err, HOIST_EIO, "layer '%s' is damaged: %s", path, archive_error_string(a));
  archive_read_free(a);
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
