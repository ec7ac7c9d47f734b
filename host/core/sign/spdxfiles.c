#include "spdxfiles.h"

#include "fsutil.h"
#include "utf8.h"

#include <jansson.h>
#include <openssl/evp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAGMENT_MAGIC "hoist-sbom-files 2"

#define ID_LEN (13 + 24)   /* "SPDXRef-File-" and 24 hex digits */

/*
** The SPDX id of every file, once (both arrays of the fragment name them): "SPDXRef-File-" and the
** first 24 hex digits of the SHA-256 of "/PATH", as hoist always named them. NULL when out of memory.
*/
static char (*file_ids(const struct hoist_image_files *files))[ID_LEN + 1]
{
  char (*ids)[ID_LEN + 1] = calloc(files->n + 1, sizeof *ids);
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  unsigned char md[EVP_MAX_MD_SIZE];
  char h[2 * EVP_MAX_MD_SIZE + 1];
  unsigned n = 0;
  size_t i;
  int ok = ids && c;
  for (i = 0; ok && i < files->n; i++) {
    const char *path = files->files[i].path;
    ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(c, "/", 1) == 1 &&
         EVP_DigestUpdate(c, path, strlen(path)) == 1 && EVP_DigestFinal_ex(c, md, &n) == 1;
    if (ok) {
      hoist_hex(md, n, h);
      memcpy(ids[i], "SPDXRef-File-", 13);
      memcpy(ids[i] + 13, h, 24);
      ids[i][ID_LEN] = '\0';
    }
  }
  EVP_MD_CTX_free(c);
  if (!ok) {
    free(ids);
    return NULL;
  }
  return ids;
}

/* Writes "./PATH" as a JSON string, the way jansson (hoist.json) writes strings. */
static int write_name(FILE *f, const char *path)
{
  size_t n = strlen(path);
  char *s = malloc(n + 3);
  json_t *j;
  int rc;
  if (!s)
    return -1;
  memcpy(s, "./", 2);
  memcpy(s + 2, path, n + 1);
  j = json_stringn(s, n + 2);
  free(s);
  if (!j)
    return -1;
  rc = json_dumpf(j, f, JSON_COMPACT | JSON_ENCODE_ANY);
  json_decref(j);
  return rc;
}

static int by_string(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The package verification code: SHA-1 over the files' SHA-1s, sorted, concatenated. */
static int verification_code(const struct hoist_image_files *files, char code[41])
{
  const char **sha1s = calloc(files->n + 1, sizeof *sha1s);
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  size_t i;
  int ok = sha1s && c && EVP_DigestInit_ex(c, EVP_sha1(), NULL) == 1;
  for (i = 0; ok && i < files->n; i++)
    sha1s[i] = files->files[i].content->sha1;
  if (ok)
    qsort(sha1s, files->n, sizeof *sha1s, by_string);
  for (i = 0; ok && i < files->n; i++)
    ok = EVP_DigestUpdate(c, sha1s[i], strlen(sha1s[i])) == 1;
  ok = ok && EVP_DigestFinal_ex(c, md, &n) == 1;
  if (ok)
    hoist_hex(md, n, code);
  EVP_MD_CTX_free(c);
  free(sha1s);
  return ok ? 0 : -1;
}

int hoist_spdx_fragment_write(const struct hoist_image_files *files, const char *path,
                              struct hoist_spdx_fragment *out, struct hoist_err *err)
{
  struct hoist_fs_out o;
  char (*ids)[ID_LEN + 1];
  size_t i;
  int rc;
  memset(out, 0, sizeof *out);
  for (i = 0; i < files->n; i++)
    if (!hoist_utf8_valid(files->files[i].path, strlen(files->files[i].path))) {
      char shown[HOIST_ERR_NAME_MAX];
      return hoist_err_set(err, HOIST_EINVAL, "the file '%s' cannot be listed in an SPDX document: its name is not UTF-8",
                           hoist_err_filename(shown, sizeof shown, files->files[i].path));
    }
  if (verification_code(files, out->code) != 0 || !(ids = file_ids(files)))
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  out->count = files->n;
  if ((rc = hoist_fs_out_open(&o, path, err))) {
    free(ids);
    return rc;
  }
  fprintf(o.f, FRAGMENT_MAGIC " %zu %s\n[", out->count, out->code);
  for (i = 0; i < files->n; i++) {
    const struct hoist_image_file *f = &files->files[i];
    fprintf(o.f, "%s{\"SPDXID\":\"%s\",\"checksums\":[{\"algorithm\":\"SHA1\",\"checksumValue\":\"%s\"},"
                 "{\"algorithm\":\"SHA256\",\"checksumValue\":\"%s\"}],\"fileName\":",
            i ? "," : "", ids[i], f->content->sha1, f->content->sha256);
    if (write_name(o.f, f->path) != 0) {
      free(ids);
      hoist_fs_out_abort(&o);
      return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    }
    fputc('}', o.f);
  }
  fputs("]\n[", o.f);
  for (i = 0; i < files->n; i++)
    fprintf(o.f, "%s\"%s\"", i ? "," : "", ids[i]);
  fputs("]\n", o.f);
  free(ids);
  return hoist_fs_out_commit(&o, 0, err);
}

/* The header line of a fragment into out; the stream is left at FILES. */
static int read_header(FILE *f, const char *path, struct hoist_spdx_fragment *out, struct hoist_err *err)
{
  char line[128], code[41];
  size_t count;
  int used = 0;
  if (!fgets(line, sizeof line, f) ||
      sscanf(line, FRAGMENT_MAGIC " %zu %40[0-9a-f]%n", &count, code, &used) != 2 || strlen(code) != 40 ||
      strcmp(line + used, "\n") != 0)
    return hoist_err_set(err, HOIST_EINVAL, "'%s' is not an SBOM fragment", path);
  out->count = count;
  memcpy(out->code, code, sizeof out->code);
  return HOIST_OK;
}

int hoist_spdx_fragment_read(const char *path, struct hoist_spdx_fragment *out, struct hoist_err *err)
{
  FILE *f = fopen(path, "rb");
  int rc;
  memset(out, 0, sizeof *out);
  if (!f)
    return hoist_err_set(err, errno == ENOENT ? HOIST_ENOENT : HOIST_EIO, "cannot read '%s': %s", path,
                         strerror(errno));
  rc = read_header(f, path, out, err);
  fclose(f);
  return rc;
}

struct tee {
  FILE *f;
  EVP_MD_CTX *c;
  unsigned long long size;
  int bad;
};

static void put(struct tee *t, const void *p, size_t n)
{
  if (t->bad || n == 0)
    return;
  if (fwrite(p, 1, n, t->f) != n || EVP_DigestUpdate(t->c, p, n) != 1)
    t->bad = 1;
  t->size += n;
}

/* Copies one line of the fragment (without its "\n"); -1 when the fragment ends first. */
static int copy_line(FILE *in, struct tee *t)
{
  char buf[65536];
  for (;;) {
    size_t n;
    char *nl;
    if (!fgets(buf, sizeof buf, in))
      return -1;
    n = strlen(buf);
    nl = n > 0 && buf[n - 1] == '\n' ? &buf[n - 1] : NULL;
    put(t, buf, nl ? n - 1 : n);
    if (nl)
      return 0;
  }
}

int hoist_spdx_document_write(const char *path, const char *fragment_path, const char *head,
                              const char *middle, const char *tail, char digest[HOIST_DIGEST_LEN + 1],
                              unsigned long long *size, struct hoist_err *err)
{
  struct hoist_spdx_fragment frag;
  struct hoist_fs_out o;
  struct tee t = { 0 };
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  FILE *in = fopen(fragment_path, "rb");
  int rc;
  if (!in)
    return hoist_err_set(err, errno == ENOENT ? HOIST_ENOENT : HOIST_EIO, "cannot read '%s': %s", fragment_path,
                         strerror(errno));
  if ((rc = read_header(in, fragment_path, &frag, err)) || (rc = hoist_fs_out_open(&o, path, err))) {
    fclose(in);
    return rc;
  }
  t.f = o.f;
  t.c = EVP_MD_CTX_new();
  if (!t.c || EVP_DigestInit_ex(t.c, EVP_sha256(), NULL) != 1)
    t.bad = 1;
  put(&t, head, strlen(head));
  if (copy_line(in, &t) != 0)
    rc = hoist_err_set(err, HOIST_EINVAL, "'%s' is not a whole SBOM fragment", fragment_path);
  put(&t, middle, strlen(middle));
  if (!rc && copy_line(in, &t) != 0)
    rc = hoist_err_set(err, HOIST_EINVAL, "'%s' is not a whole SBOM fragment", fragment_path);
  put(&t, tail, strlen(tail));
  if (!rc && ferror(in))
    rc = hoist_err_set(err, HOIST_EIO, "cannot read '%s'", fragment_path);
  fclose(in);
  if (!rc && (t.bad || EVP_DigestFinal_ex(t.c, md, &n) != 1))
    rc = hoist_err_set(err, HOIST_EIO, "cannot write '%s': %s", path, strerror(errno));
  EVP_MD_CTX_free(t.c);
  if (rc) {
    hoist_fs_out_abort(&o);
    return rc;
  }
  if ((rc = hoist_fs_out_commit(&o, 0, err)))
    return rc;
  memcpy(digest, "sha256:", 7);
  hoist_hex(md, n, digest + 7);
  *size = t.size;
  return HOIST_OK;
}
