/*
** test_layer: the digest, layer, tarfile and fsutil cores against real files
** in a temporary folder. Layers are read back with libarchive (entries,
** metadata, content) and through its raw format (the tar bytes behind the
** diff_id), so the test does not trust the writer's own accounting.
**
**   test_layer [CASES_DIR]   (the argument is accepted and ignored)
**
** Runs with LC_CTYPE = C.UTF-8, as hoist's main sets it; the "C" locale is
** tried in forked children, so that a crash there is one failed check.
** Prints each failure as test_layer.c:LINE, then "N passed, M failed";
** exits 1 on any failure. Everything it creates lives under one mkdtemp
** folder ($TMPDIR or /tmp) that is removed at the end.
*/
#include "digest.h"
#include "dirlist.h"
#include "err.h"
#include "exec.h"
#include "fsutil.h"
#include "layer.h"
#include "tarfile.h"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int n_passed, n_failed, case_failed;

#define CHECK(cond) check(__LINE__, (cond), #cond)
/* A check that also prints the error record, for calls expected to succeed. */
#define CHECK_OK(rc, err) check_ok(__LINE__, (rc), (err), #rc)

static void check(int line, int ok, const char *what)
{
  if (ok)
    return;
  case_failed++;
  printf("test_layer.c:%d: check failed: %s\n", line, what);
}

static void check_ok(int line, int rc, const struct hoist_err *err, const char *what)
{
  if (rc == HOIST_OK)
    return;
  case_failed++;
  printf("test_layer.c:%d: %s returned %d: %s\n", line, what, rc, err ? err->msg : "");
}

static void done(const char *name)
{
  if (case_failed) {
    n_failed++;
    printf("FAIL %s\n", name);
  } else {
    n_passed++;
  }
  case_failed = 0;
}

/* ------------------------------------------------------------ helpers */

static char g_tmp[PATH_MAX];  /* the test's private folder */

/* g_tmp + "/" + formatted suffix, into out (PATH_MAX bytes). */
static char *tmp_path(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *tmp_path(char *out, const char *fmt, ...)
{
  char rel[PATH_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(rel, sizeof rel, fmt, ap);
  va_end(ap);
  if (snprintf(out, PATH_MAX, "%s/%s", g_tmp, rel) >= PATH_MAX)
    out[0] = '\0';
  return out;
}

/* a + "/" + b into out (PATH_MAX bytes); "" if it does not fit. */
static char *join(char *out, const char *a, const char *b)
{
  if (snprintf(out, PATH_MAX, "%s/%s", a, b) >= PATH_MAX)
    out[0] = '\0';
  return out;
}

static int write_file(const char *path, const void *data, size_t len, int mode)
{
  FILE *f = fopen(path, "wb");
  int ok;
  if (!f)
    return -1;
  ok = fwrite(data, 1, len, f) == len;
  ok = fclose(f) == 0 && ok;
  if (ok && mode >= 0)
    ok = chmod(path, (mode_t)mode) == 0;
  return ok ? 0 : -1;
}

static int write_str(const char *path, const char *s, int mode)
{
  return write_file(path, s, strlen(s), mode);
}

static int make_dir(const char *path, int mode)
{
  if (mkdir(path, 0700) != 0)
    return -1;
  return chmod(path, (mode_t)mode);
}

/* Entries in a folder (no "." or ".."), or -1 when it cannot be listed. */
static int count_dir(const char *path)
{
  DIR *d = opendir(path);
  struct dirent *e;
  int n = 0;
  if (!d)
    return -1;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      n++;
  closedir(d);
  return n;
}

/* 1 when path's content is exactly data. */
static int file_is(const char *path, const void *data, size_t len)
{
  struct hoist_err err;
  char *buf;
  size_t n;
  int same;
  if (hoist_fs_read(path, (size_t)64 << 20, &buf, &n, &err))
    return 0;
  same = n == len && memcmp(buf, data, len) == 0;
  free(buf);
  return same;
}

static int contains(const char *s, const char *needle)
{
  return s && strstr(s, needle) != NULL;
}

static int mode_of(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* ------------------------------------------------------------ reading layers back */

struct tentry {
  char *name;
  unsigned type;        /* AE_IFREG, AE_IFDIR, AE_IFLNK */
  unsigned perm;
  long long uid, gid;
  int has_owner_name;   /* a non-empty uname or gname */
  long long mtime;
  char *symlink;
  char *hardlink;
  long long size;
  unsigned char *data;
  size_t len;
};

struct tlist {
  struct tentry *e;
  size_t n;
};

static char *dup_or_null(const char *s)
{
  return s ? strdup(s) : NULL;
}

static void tlist_free(struct tlist *l)
{
  size_t i;
  for (i = 0; i < l->n; i++) {
    free(l->e[i].name);
    free(l->e[i].symlink);
    free(l->e[i].hardlink);
    free(l->e[i].data);
  }
  free(l->e);
  l->e = NULL;
  l->n = 0;
}

/* Reads every entry of a (compressed or not) tar with its content; 0 on success. */
static int read_layer(const char *path, struct tlist *out)
{
  struct archive *a = archive_read_new();
  struct archive_entry *ae;
  int r, rc = 0;
  out->e = NULL;
  out->n = 0;
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
    printf("  cannot open '%s': %s\n", path, archive_error_string(a));
    archive_read_free(a);
    return -1;
  }
  while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
    struct tentry *t, *ne = realloc(out->e, (out->n + 1) * sizeof *ne);
    const char *un = archive_entry_uname(ae), *gn = archive_entry_gname(ae);
    char buf[65536];
    la_ssize_t n;
    if (!ne) {
      rc = -1;
      break;
    }
    out->e = ne;
    t = &out->e[out->n++];
    memset(t, 0, sizeof *t);
    t->name = dup_or_null(archive_entry_pathname_utf8(ae));
    /* tar writers spell folders "bin/"; compare names without the slash */
    if (t->name && t->name[0] && t->name[strlen(t->name) - 1] == '/')
      t->name[strlen(t->name) - 1] = '\0';
    t->type = archive_entry_filetype(ae);
    t->perm = archive_entry_perm(ae);
    t->uid = archive_entry_uid(ae);
    t->gid = archive_entry_gid(ae);
    t->has_owner_name = (un && un[0]) || (gn && gn[0]);
    t->mtime = archive_entry_mtime(ae);
    t->symlink = dup_or_null(archive_entry_symlink_utf8(ae));
    t->hardlink = dup_or_null(archive_entry_hardlink_utf8(ae));
    t->size = archive_entry_size(ae);
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) {
      unsigned char *nd = realloc(t->data, t->len + (size_t)n);
      if (!nd) {
        rc = -1;
        break;
      }
      t->data = nd;
      memcpy(t->data + t->len, buf, (size_t)n);
      t->len += (size_t)n;
    }
    if (n < 0)
      rc = -1;
    if (rc)
      break;
  }
  if (!rc && r != ARCHIVE_EOF) {
    printf("  reading '%s': %s\n", path, archive_error_string(a));
    rc = -1;
  }
  archive_read_free(a);
  if (rc)
    tlist_free(out);
  return rc;
}

/* The decompressed bytes of a blob (libarchive's raw format behind every filter). */
static int read_raw(const char *path, unsigned char **out, size_t *len)
{
  struct archive *a = archive_read_new();
  struct archive_entry *ae;
  unsigned char buf[65536];
  la_ssize_t n;
  int rc = 0;
  *out = NULL;
  *len = 0;
  archive_read_support_filter_all(a);
  archive_read_support_format_raw(a);
  if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK ||
      archive_read_next_header(a, &ae) != ARCHIVE_OK) {
    archive_read_free(a);
    return -1;
  }
  while ((n = archive_read_data(a, buf, sizeof buf)) > 0) {
    unsigned char *nb = realloc(*out, *len + (size_t)n);
    if (!nb) {
      rc = -1;
      break;
    }
    *out = nb;
    memcpy(*out + *len, buf, (size_t)n);
    *len += (size_t)n;
  }
  if (n < 0)
    rc = -1;
  archive_read_free(a);
  if (rc) {
    free(*out);
    *out = NULL;
  }
  return rc;
}

static const struct tentry *find_entry(const struct tlist *l, const char *name)
{
  size_t i;
  for (i = 0; i < l->n; i++)
    if (l->e[i].name && strcmp(l->e[i].name, name) == 0)
      return &l->e[i];
  return NULL;
}

/* ------------------------------------------------------------ the tree */

static char g_long[256];   /* a 200-character nested path, relative */
static const char g_utf8[] = "caf\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac.txt";  /* café-日本.txt */
static unsigned char *g_big;  /* the 1 MiB file's content */
#define BIG_SIZE ((size_t)1 << 20)

enum { T_FILE, T_DIR, T_LINK, T_HARD };

struct expect {
  const char *name;  /* relative to the input's root */
  int kind;
  int perm;          /* for files and folders */
  const char *target;
  const void *data;
  size_t len;
};

static const char A_TXT[] = "hello, layer\n";
static const char RUN_SH[] = "#!/bin/sh\necho hi\n";
static const char SHARED[] = "shared by two names\n";
static const char LONG_TXT[] = "deep\n";
static const char UTF8_TXT[] = "unicode\n";

/* Fills exp (at least 16 slots) with the tree's entries; returns how many. */
static size_t tree_expect(struct expect *exp)
{
  static char d1[64], d2[128], d3[192];
  size_t n = 0;
  snprintf(d1, sizeof d1, "%.60s", g_long);
  snprintf(d2, sizeof d2, "%.121s", g_long);
  snprintf(d3, sizeof d3, "%.182s", g_long);
  exp[n++] = (struct expect){ "a.txt", T_FILE, 0644, NULL, A_TXT, sizeof A_TXT - 1 };
  exp[n++] = (struct expect){ "bin", T_DIR, 0755, NULL, NULL, 0 };
  exp[n++] = (struct expect){ "bin/run.sh", T_FILE, 0755, NULL, RUN_SH, sizeof RUN_SH - 1 };
  exp[n++] = (struct expect){ "big.bin", T_FILE, 0644, NULL, NULL, BIG_SIZE };
  exp[n++] = (struct expect){ "empty", T_DIR, 0750, NULL, NULL, 0 };
  exp[n++] = (struct expect){ "hard1", T_FILE, 0644, NULL, SHARED, sizeof SHARED - 1 };
  exp[n++] = (struct expect){ "hard2", T_HARD, 0644, "hard1", NULL, 0 };
  exp[n++] = (struct expect){ "link", T_LINK, -1, "a.txt", NULL, 0 };
  exp[n++] = (struct expect){ d1, T_DIR, 0755, NULL, NULL, 0 };
  exp[n++] = (struct expect){ d2, T_DIR, 0755, NULL, NULL, 0 };
  exp[n++] = (struct expect){ d3, T_DIR, 0755, NULL, NULL, 0 };
  exp[n++] = (struct expect){ g_long, T_FILE, 0644, NULL, LONG_TXT, sizeof LONG_TXT - 1 };
  exp[n++] = (struct expect){ g_utf8, T_FILE, 0644, NULL, UTF8_TXT, sizeof UTF8_TXT - 1 };
  return n;
}

/* tree/: every kind of entry a layer holds. Returns 0 when it was made. */
static int make_tree(const char *root)
{
  char p[PATH_MAX], q[PATH_MAX];
  unsigned long long x = 88172645463325252ULL;
  size_t i;
  int rc = 0;

  /* 60 + 1 + 60 + 1 + 60 + 1 + 17 = 200 characters */
  memset(g_long, 0, sizeof g_long);
  memset(g_long, 'a', 60);
  g_long[60] = '/';
  memset(g_long + 61, 'b', 60);
  g_long[121] = '/';
  memset(g_long + 122, 'c', 60);
  g_long[182] = '/';
  memset(g_long + 183, 'f', 13);
  memcpy(g_long + 196, ".txt", 4);

  g_big = malloc(BIG_SIZE);
  if (!g_big)
    return -1;
  for (i = 0; i < BIG_SIZE; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    /* half noise, half text, so compression has something to do */
    g_big[i] = (i / 4096) % 2 ? (unsigned char)x : (unsigned char)("layer!\n"[i % 7]);
  }

  rc |= make_dir(root, 0755);
  snprintf(p, sizeof p, "%s/a.txt", root);
  rc |= write_str(p, A_TXT, 0644);
  snprintf(p, sizeof p, "%s/bin", root);
  rc |= make_dir(p, 0755);
  snprintf(p, sizeof p, "%s/bin/run.sh", root);
  rc |= write_str(p, RUN_SH, 0755);
  snprintf(p, sizeof p, "%s/big.bin", root);
  rc |= write_file(p, g_big, BIG_SIZE, 0644);
  snprintf(p, sizeof p, "%s/empty", root);
  rc |= make_dir(p, 0750);
  snprintf(p, sizeof p, "%s/hard1", root);
  rc |= write_str(p, SHARED, 0644);
  snprintf(q, sizeof q, "%s/hard2", root);
  rc |= link(p, q);
  snprintf(p, sizeof p, "%s/link", root);
  rc |= symlink("a.txt", p);
  snprintf(p, sizeof p, "%s/%.60s", root, g_long);
  rc |= make_dir(p, 0755);
  snprintf(p, sizeof p, "%s/%.121s", root, g_long);
  rc |= make_dir(p, 0755);
  snprintf(p, sizeof p, "%s/%.182s", root, g_long);
  rc |= make_dir(p, 0755);
  join(p, root, g_long);
  rc |= write_str(p, LONG_TXT, 0644);
  join(p, root, g_utf8);
  rc |= write_str(p, UTF8_TXT, 0644);
  return rc ? -1 : 0;
}

/*
** Checks one written layer: the blob's name and digest, the tar behind the
** diff_id, and every entry (order, parents, owners, times, modes, links,
** content). prefix is where the tree went in the image ("" or "app/"); mode is
** the input's file mode override or -1.
*/
static void check_layer(const char *blob_dir, const struct hoist_layer_result *r,
                        enum hoist_compression c, long long mtime, const char *prefix, int mode,
                        size_t plan_entries)
{
  char blob[PATH_MAX], name[PATH_MAX], dig[HOIST_DIGEST_LEN + 1];
  struct expect exp[16];
  struct hoist_err err;
  unsigned long long size = 0;
  unsigned char *raw = NULL, head[512];
  size_t raw_len = 0, nexp = tree_expect(exp), i, extra = prefix[0] ? 1 : 0;
  struct tlist l;
  FILE *f;

  CHECK(hoist_digest_valid(r->digest));
  CHECK(hoist_digest_valid(r->diff_id));
  join(blob, blob_dir, r->digest + 7);
  /* the blob is named by the digest of its bytes, and is the only file there */
  CHECK_OK(hoist_digest_file(blob, dig, &size, &err), &err);
  CHECK(strcmp(dig, r->digest) == 0);
  CHECK(size == r->size);
  CHECK(count_dir(blob_dir) == 1);

  /* the uncompressed tar is what diff_id and tar_size describe */
  CHECK(read_raw(blob, &raw, &raw_len) == 0);
  if (raw) {
    CHECK(raw_len == r->tar_size);
    CHECK_OK(hoist_digest_buffer(raw, raw_len, dig, &err), &err);
    CHECK(strcmp(dig, r->diff_id) == 0);
    CHECK(raw_len % 512 == 0 && raw_len >= 1024);
  }
  free(raw);

  /* the compressed header: gzip without time or name; the zstd magic; or a bare tar */
  f = fopen(blob, "rb");
  CHECK(f != NULL);
  if (f) {
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    CHECK(got >= 18);
    if (c == HOIST_COMPRESS_GZIP) {
      CHECK(head[0] == 0x1f && head[1] == 0x8b && head[2] == 8);
      CHECK(head[4] == 0 && head[5] == 0 && head[6] == 0 && head[7] == 0);  /* MTIME */
      CHECK((head[3] & 0x08) == 0);  /* no FNAME */
      CHECK((head[3] & 0x10) == 0);  /* no FCOMMENT */
    } else if (c == HOIST_COMPRESS_ZSTD) {
      CHECK(head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd);
    } else {
      CHECK(got == 512 && memcmp(head + 257, "ustar", 5) == 0);
      CHECK(strcmp(r->digest, r->diff_id) == 0);
      CHECK(r->size == r->tar_size);
    }
  }

  if (read_layer(blob, &l) != 0) {
    CHECK(!"the layer reads back");
    return;
  }
  CHECK(l.n == nexp + extra);
  CHECK(r->entries == l.n);
  CHECK(plan_entries == l.n);
  for (i = 0; i < l.n; i++) {
    const struct tentry *t = &l.e[i];
    const char *slash;
    CHECK(t->name != NULL);
    if (!t->name)
      continue;
    if (i > 0 && l.e[i - 1].name)
      CHECK(strcmp(l.e[i - 1].name, t->name) < 0);  /* sorted, no duplicates */
    CHECK(t->name[0] != '/' && strncmp(t->name, "./", 2) != 0);
    /* every parent folder comes earlier */
    slash = strrchr(t->name, '/');
    if (slash) {
      size_t j;
      int found = 0;
      for (j = 0; j < i; j++)
        if (l.e[j].name && strlen(l.e[j].name) == (size_t)(slash - t->name) &&
            strncmp(l.e[j].name, t->name, (size_t)(slash - t->name)) == 0 &&
            l.e[j].type == AE_IFDIR)
          found = 1;
      CHECK(found);
    }
    CHECK(t->uid == 0 && t->gid == 0);
    CHECK(!t->has_owner_name);
    CHECK(t->mtime == mtime);
  }
  if (extra) {
    const struct tentry *t;
    snprintf(name, sizeof name, "%.*s", (int)strlen(prefix) - 1, prefix);
    t = find_entry(&l, name);
    CHECK(t && t->type == AE_IFDIR && t->perm == 0755);
  }
  for (i = 0; i < nexp; i++) {
    const struct tentry *t;
    snprintf(name, sizeof name, "%s%s", prefix, exp[i].name);
    t = find_entry(&l, name);
    if (!t) {
      printf("  missing entry '%s'\n", name);
      CHECK(t != NULL);
      continue;
    }
    switch (exp[i].kind) {
    case T_FILE:
      CHECK(t->type == AE_IFREG && !t->hardlink && !t->symlink);
      CHECK(t->perm == (unsigned)(mode >= 0 ? mode : exp[i].perm));
      CHECK(t->size == (long long)exp[i].len && t->len == exp[i].len);
      if (t->len == exp[i].len)
        CHECK(memcmp(t->data, exp[i].data ? exp[i].data : (const void *)g_big, t->len) == 0);
      break;
    case T_DIR:
      CHECK(t->type == AE_IFDIR);
      CHECK(t->perm == (unsigned)exp[i].perm);  /* the override is for files only */
      break;
    case T_LINK:
      CHECK(t->type == AE_IFLNK);
      CHECK(t->symlink && strcmp(t->symlink, exp[i].target) == 0);  /* kept as written */
      break;
    case T_HARD: {
      char target[PATH_MAX];
      snprintf(target, sizeof target, "%s%s", prefix, exp[i].target);
      CHECK(t->hardlink && strcmp(t->hardlink, target) == 0);
      CHECK(t->len == 0);
      CHECK(t->perm == (unsigned)(mode >= 0 ? mode : exp[i].perm));
      break;
    }
    }
  }
  tlist_free(&l);
}

/* ------------------------------------------------------------ digest */

static void test_digest(void)
{
  static const char empty[] =
      "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  static const char abc[] =
      "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  char out[HOIST_DIGEST_LEN + 1], out2[HOIST_DIGEST_LEN + 1], p[PATH_MAX];
  struct hoist_digest d;
  struct hoist_err err;
  unsigned long long size = 99;
  int rc;

  CHECK_OK(hoist_digest_buffer("", 0, out, &err), &err);
  CHECK(strcmp(out, empty) == 0);
  CHECK_OK(hoist_digest_buffer("abc", 3, out, &err), &err);
  CHECK(strcmp(out, abc) == 0);
  CHECK(strlen(out) == HOIST_DIGEST_LEN);

  /* streaming in pieces gives the same digest */
  CHECK_OK(hoist_digest_init(&d, &err), &err);
  CHECK(hoist_digest_update(&d, "a", 1) == HOIST_OK);
  CHECK(hoist_digest_update(&d, "", 0) == HOIST_OK);
  CHECK(hoist_digest_update(&d, "bc", 2) == HOIST_OK);
  CHECK(d.bytes == 3);
  CHECK(hoist_digest_final(&d, out) == HOIST_OK);
  CHECK(strcmp(out, abc) == 0);
  CHECK(d.ctx == NULL);  /* final released it */
  hoist_digest_release(&d);  /* and releasing again is harmless */
  memset(&d, 0, sizeof d);
  hoist_digest_release(&d);  /* so is releasing a zeroed one */
  CHECK_OK(hoist_digest_init(&d, &err), &err);
  hoist_digest_release(&d);  /* an abandoned digest */

  /* well-formed digests */
  CHECK(hoist_digest_valid(empty));
  CHECK(hoist_digest_valid(abc));
  CHECK(!hoist_digest_valid(""));
  CHECK(!hoist_digest_valid("sha256:"));
  CHECK(!hoist_digest_valid("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  CHECK(!hoist_digest_valid("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
  CHECK(!hoist_digest_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"));
  CHECK(!hoist_digest_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555"));
  CHECK(!hoist_digest_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85g"));
  CHECK(!hoist_digest_valid("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  CHECK(!hoist_digest_valid("SHA256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  CHECK(!hoist_digest_valid(" sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"));

  /* a file, in blocks: the same digest as its bytes, and its size */
  CHECK(write_str(tmp_path(p, "abc.txt"), "abc", 0644) == 0);
  CHECK_OK(hoist_digest_file(p, out, &size, &err), &err);
  CHECK(strcmp(out, abc) == 0 && size == 3);
  CHECK(write_file(tmp_path(p, "empty.txt"), "", 0, 0644) == 0);
  CHECK_OK(hoist_digest_file(p, out, NULL, &err), &err);  /* size is optional */
  CHECK(strcmp(out, empty) == 0);
  CHECK(write_file(tmp_path(p, "big-digest.bin"), g_big, BIG_SIZE, 0644) == 0);
  CHECK_OK(hoist_digest_file(p, out, &size, &err), &err);
  CHECK_OK(hoist_digest_buffer(g_big, BIG_SIZE, out2, &err), &err);
  CHECK(strcmp(out, out2) == 0 && size == BIG_SIZE);

  /* a missing file is an error naming it */
  memset(&err, 0, sizeof err);
  rc = hoist_digest_file(tmp_path(p, "no-such-file"), out, &size, &err);
  CHECK(rc == HOIST_EIO && err.code == rc);
  CHECK(contains(err.msg, p));
  /* so is a folder (reading it fails) */
  memset(&err, 0, sizeof err);
  rc = hoist_digest_file(g_tmp, out, &size, &err);
  CHECK(rc != HOIST_OK && err.code == rc && contains(err.msg, g_tmp));
  done("digest");
}

/* ------------------------------------------------------------ layers */

static const char *comp_name(enum hoist_compression c)
{
  return c == HOIST_COMPRESS_GZIP ? "gzip" : c == HOIST_COMPRESS_ZSTD ? "zstd" : "none";
}

static void test_layer_write(void)
{
  static const enum hoist_compression comps[] = { HOIST_COMPRESS_GZIP, HOIST_COMPRESS_ZSTD,
                                                  HOIST_COMPRESS_NONE };
  char tree[PATH_MAX], dir[PATH_MAX], diff_ids[3][HOIST_DIGEST_LEN + 1];
  struct hoist_layer_input in = { NULL, "/", -1, 0, 0, NULL, 0 };
  struct hoist_layer_opts o = { HOIST_COMPRESS_GZIP, -1, 1700000000LL, NULL, 0 };
  struct hoist_layer_result r;
  struct hoist_err err;
  size_t k;

  tmp_path(tree, "tree");
  in.from = tree;
  for (k = 0; k < 3; k++) {
    struct hoist_layer_plan *p = NULL;
    o.compression = comps[k];
    CHECK_OK(hoist_layer_plan(&in, 1, &o, &p, &err), &err);
    if (!p)
      continue;
    CHECK(hoist_digest_valid(hoist_layer_plan_key(p)));
    tmp_path(dir, "blobs-%s", comp_name(comps[k]));
    CHECK(mkdir(dir, 0755) == 0);
    CHECK_OK(hoist_layer_write(p, dir, &r, &err), &err);
    check_layer(dir, &r, comps[k], o.mtime, "", -1, hoist_layer_plan_entries(p));
    memcpy(diff_ids[k], r.diff_id, sizeof diff_ids[k]);
    hoist_layer_plan_free(p);
  }
  /* compression changes the blob, never the tar inside */
  CHECK(strcmp(diff_ids[0], diff_ids[1]) == 0 && strcmp(diff_ids[0], diff_ids[2]) == 0);

  /* under a prefix, with files forced to 0600 (folders keep theirs) */
  {
    struct hoist_layer_input in2 = { NULL, "/app", 0600, 0, 0, NULL, 0 };
    struct hoist_layer_plan *p = NULL;
    in2.from = tree;
    o.compression = HOIST_COMPRESS_GZIP;
    CHECK_OK(hoist_layer_plan(&in2, 1, &o, &p, &err), &err);
    tmp_path(dir, "blobs-mode");
    CHECK(mkdir(dir, 0755) == 0);
    if (p) {
      CHECK_OK(hoist_layer_write(p, dir, &r, &err), &err);
      check_layer(dir, &r, HOIST_COMPRESS_GZIP, o.mtime, "app/", 0600,
                  hoist_layer_plan_entries(p));
      hoist_layer_plan_free(p);
    }
  }

  CHECK(strcmp(hoist_layer_media_type(HOIST_COMPRESS_GZIP),
               "application/vnd.oci.image.layer.v1.tar+gzip") == 0);
  CHECK(strcmp(hoist_layer_media_type(HOIST_COMPRESS_ZSTD),
               "application/vnd.oci.image.layer.v1.tar+zstd") == 0);
  CHECK(strcmp(hoist_layer_media_type(HOIST_COMPRESS_NONE),
               "application/vnd.oci.image.layer.v1.tar") == 0);
  done("layer: write and read back (gzip, zstd, none)");
}

/* Plans and writes one layer of inputs into dir; returns the plan's rc. */
static int plan_write(const struct hoist_layer_input *in, size_t n, const struct hoist_layer_opts *o,
                      const char *dir, struct hoist_layer_result *r, char key[HOIST_DIGEST_LEN + 1],
                      struct hoist_err *err)
{
  struct hoist_layer_plan *p = NULL;
  int rc = hoist_layer_plan(in, n, o, &p, err);
  if (rc)
    return rc;
  if (key)
    memcpy(key, hoist_layer_plan_key(p), HOIST_DIGEST_LEN + 1);
  rc = hoist_layer_write(p, dir, r, err);
  hoist_layer_plan_free(p);
  return rc;
}

static void test_layer_reproducible(void)
{
  char tree[PATH_MAX], dir[PATH_MAX], p[PATH_MAX];
  char key1[HOIST_DIGEST_LEN + 1], key2[HOIST_DIGEST_LEN + 1], key3[HOIST_DIGEST_LEN + 1];
  char key4[HOIST_DIGEST_LEN + 1];
  struct hoist_layer_input in = { NULL, "/ui", -1, 0, 0, NULL, 0 };
  struct hoist_layer_opts o = { HOIST_COMPRESS_GZIP, -1, 1234567890LL, NULL, 0 };
  struct hoist_layer_result r1, r2, r3, r4;
  struct hoist_layer_plan *plan = NULL;
  struct timespec ts[2];
  struct hoist_err err;

  in.from = tmp_path(tree, "tree");
  tmp_path(dir, "blobs-repro");
  CHECK(mkdir(dir, 0755) == 0);

  /* one plan written twice, and a fresh plan of the same files: the same bytes */
  CHECK_OK(hoist_layer_plan(&in, 1, &o, &plan, &err), &err);
  if (plan) {
    CHECK_OK(hoist_layer_write(plan, dir, &r1, &err), &err);
    CHECK_OK(hoist_layer_write(plan, dir, &r2, &err), &err);
    CHECK(strcmp(r1.digest, r2.digest) == 0 && strcmp(r1.diff_id, r2.diff_id) == 0);
    CHECK(r1.size == r2.size && r1.tar_size == r2.tar_size);
    CHECK(count_dir(dir) == 1);  /* the second write replaced the first, no temp left */
    memcpy(key1, hoist_layer_plan_key(plan), sizeof key1);
    hoist_layer_plan_free(plan);
  }
  CHECK_OK(plan_write(&in, 1, &o, dir, &r2, key2, &err), &err);
  CHECK(strcmp(key1, key2) == 0);
  CHECK(strcmp(r1.digest, r2.digest) == 0);

  /* new mtimes on the host: a new key (the cache must look again), the same layer */
  ts[0].tv_sec = 1000000000;
  ts[0].tv_nsec = 0;
  ts[1].tv_sec = 1000000000;
  ts[1].tv_nsec = 123;
  CHECK(utimensat(AT_FDCWD, tmp_path(p, "tree/a.txt"), ts, 0) == 0);
  CHECK(utimensat(AT_FDCWD, tmp_path(p, "tree/bin"), ts, 0) == 0);
  CHECK_OK(plan_write(&in, 1, &o, dir, &r3, key3, &err), &err);
  CHECK(strcmp(key3, key1) != 0);
  CHECK(strcmp(r3.digest, r1.digest) == 0 && strcmp(r3.diff_id, r1.diff_id) == 0);

  /* another opts.mtime: another key and another layer */
  o.mtime = 1234567891LL;
  CHECK_OK(plan_write(&in, 1, &o, dir, &r4, key4, &err), &err);
  CHECK(strcmp(key4, key3) != 0);
  CHECK(strcmp(r4.digest, r1.digest) != 0 && strcmp(r4.diff_id, r1.diff_id) != 0);
  CHECK(r4.tar_size == r1.tar_size);

  /* another level: another key, another blob, the same tar */
  o.mtime = 1234567890LL;
  o.level = 1;
  CHECK_OK(plan_write(&in, 1, &o, dir, &r4, key4, &err), &err);
  CHECK(strcmp(key4, key3) != 0);
  CHECK(strcmp(r4.diff_id, r1.diff_id) == 0 && strcmp(r4.digest, r1.digest) != 0);
  /* level -1 is the default (gzip 6): the same key as saying 6 */
  o.level = 6;
  CHECK_OK(plan_write(&in, 1, &o, dir, &r4, key4, &err), &err);
  CHECK(strcmp(key4, key3) == 0 && strcmp(r4.digest, r1.digest) == 0);
  done("layer: reproducible bytes, keys that see mtimes");
}

static void test_layer_mapping(void)
{
  char a[PATH_MAX], run[PATH_MAX], dir[PATH_MAX], blob[PATH_MAX];
  struct hoist_layer_opts o = { HOIST_COMPRESS_NONE, -1, 0, NULL, 0 };
  struct hoist_layer_result r;
  struct hoist_layer_plan *p = NULL;
  struct hoist_err err;
  struct tlist l;

  tmp_path(a, "tree/a.txt");
  tmp_path(run, "tree/bin/run.sh");
  tmp_path(dir, "blobs-map");
  CHECK(mkdir(dir, 0755) == 0);
  {
    /* "to" ending in '/' keeps the file's name; a later input for a name wins */
    struct hoist_layer_input in[3] = {
      { NULL, "/etc/conf/", -1, 0, 0, NULL, 0 },
      { NULL, "//x/./y", -1, 0, 0, NULL, 0 },
      { NULL, "x/y", 0700, 0, 0, NULL, 0 },
    };
    in[0].from = a;
    in[1].from = a;
    in[2].from = run;
    CHECK_OK(hoist_layer_plan(in, 3, &o, &p, &err), &err);
    if (p) {
      CHECK(hoist_layer_plan_entries(p) == 5);  /* etc etc/conf etc/conf/a.txt x x/y */
      CHECK_OK(hoist_layer_write(p, dir, &r, &err), &err);
      join(blob, dir, r.digest + 7);
      if (read_layer(blob, &l) == 0) {
        const struct tentry *t;
        CHECK(l.n == 5);
        t = find_entry(&l, "etc/conf/a.txt");
        CHECK(t && t->len == sizeof A_TXT - 1 && memcmp(t->data, A_TXT, t->len) == 0);
        t = find_entry(&l, "x/y");
        CHECK(t && t->perm == 0700 && t->len == sizeof RUN_SH - 1 &&
              memcmp(t->data, RUN_SH, t->len) == 0);
        CHECK(find_entry(&l, "etc") && find_entry(&l, "etc/conf") && find_entry(&l, "x"));
        tlist_free(&l);
      } else {
        CHECK(!"the layer reads back");
      }
      hoist_layer_plan_free(p);
    }
  }
  {
    /* a file needs a name in the image */
    struct hoist_layer_input in = { NULL, "/", -1, 0, 0, NULL, 0 };
    in.from = a;
    in.to = "";
    p = (struct hoist_layer_plan *)&err;  /* must be reset to NULL on failure */
    memset(&err, 0, sizeof err);
    CHECK(hoist_layer_plan(&in, 1, &o, &p, &err) == HOIST_EINVAL);
    CHECK(p == NULL && contains(err.msg, a));
  }
  {
    /* a missing source is named */
    struct hoist_layer_input in = { NULL, "/x", -1, 0, 0, NULL, 0 };
    char missing[PATH_MAX];
    in.from = tmp_path(missing, "tree/not-there");
    memset(&err, 0, sizeof err);
    CHECK(hoist_layer_plan(&in, 1, &o, &p, &err) != HOIST_OK);
    CHECK(p == NULL && err.code != 0 && contains(err.msg, missing));
  }
  done("layer: target mapping");
}

static void test_layer_escapes(void)
{
  char root[PATH_MAX], from[PATH_MAX], p[PATH_MAX];
  struct hoist_layer_input in = { NULL, "/x", -1, 0, 0, NULL, 0 };
  struct hoist_layer_opts o = { HOIST_COMPRESS_GZIP, -1, 0, NULL, 0 };
  struct hoist_layer_plan *plan = NULL;
  struct hoist_err err;
  int rc;

  tmp_path(root, "esc/root");
  CHECK(make_dir(tmp_path(p, "esc"), 0755) == 0);
  CHECK(make_dir(root, 0755) == 0);
  CHECK(make_dir(tmp_path(p, "esc/root/ui"), 0755) == 0);
  CHECK(write_str(tmp_path(p, "esc/root/ui/index.html"), "<html/>", 0644) == 0);
  CHECK(write_str(tmp_path(p, "esc/outside.txt"), "secret", 0644) == 0);
  CHECK(make_dir(tmp_path(p, "esc/root2"), 0755) == 0);  /* shares root's prefix */
  CHECK(write_str(tmp_path(p, "esc/root2/f"), "f", 0644) == 0);
  CHECK(symlink("../outside.txt", tmp_path(p, "esc/root/escape")) == 0);
  CHECK(symlink("/etc", tmp_path(p, "esc/root/etc")) == 0);
  o.root = root;

  /* inside the root: fine */
  in.from = tmp_path(from, "esc/root/ui");
  CHECK_OK(hoist_layer_plan(&in, 1, &o, &plan, &err), &err);
  hoist_layer_plan_free(plan);
  plan = NULL;
  /* the root itself: fine */
  in.from = root;
  CHECK_OK(hoist_layer_plan(&in, 1, &o, &plan, &err), &err);
  hoist_layer_plan_free(plan);
  plan = NULL;

  /* through ".." */
  in.from = tmp_path(from, "esc/root/../outside.txt");
  memset(&err, 0, sizeof err);
  rc = hoist_layer_plan(&in, 1, &o, &plan, &err);
  CHECK(rc == HOIST_EINVAL && err.code == rc && plan == NULL);
  CHECK(contains(err.msg, from));
  /* "../x" relative to the working directory, which is the root */
  {
    char cwd[PATH_MAX];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK(chdir(root) == 0);
    in.from = "../outside.txt";
    o.root = ".";
    memset(&err, 0, sizeof err);
    rc = hoist_layer_plan(&in, 1, &o, &plan, &err);
    CHECK(rc == HOIST_EINVAL && plan == NULL && contains(err.msg, "'../outside.txt'"));
    in.from = "ui";  /* and a relative path inside is fine */
    CHECK_OK(hoist_layer_plan(&in, 1, &o, &plan, &err), &err);
    hoist_layer_plan_free(plan);
    plan = NULL;
    CHECK(chdir(cwd) == 0);
    o.root = root;
  }
  /* through a symlink to a file, and to a folder, outside */
  in.from = tmp_path(from, "esc/root/escape");
  memset(&err, 0, sizeof err);
  rc = hoist_layer_plan(&in, 1, &o, &plan, &err);
  CHECK(rc == HOIST_EINVAL && plan == NULL && contains(err.msg, from));
  in.from = tmp_path(from, "esc/root/etc");
  memset(&err, 0, sizeof err);
  rc = hoist_layer_plan(&in, 1, &o, &plan, &err);
  CHECK(rc == HOIST_EINVAL && plan == NULL && contains(err.msg, from));
  /* a sibling folder whose name starts with the root's */
  in.from = tmp_path(from, "esc/root2/f");
  memset(&err, 0, sizeof err);
  rc = hoist_layer_plan(&in, 1, &o, &plan, &err);
  CHECK(rc == HOIST_EINVAL && plan == NULL && contains(err.msg, from));
  /* one bad input among good ones fails the plan */
  {
    struct hoist_layer_input two[2] = { { NULL, "/ui", -1, 0, 0, NULL, 0 }, { NULL, "/x", -1, 0, 0, NULL, 0 } };
    char good[PATH_MAX];
    two[0].from = tmp_path(good, "esc/root/ui");
    two[1].from = tmp_path(from, "esc/root/escape");
    memset(&err, 0, sizeof err);
    rc = hoist_layer_plan(two, 2, &o, &plan, &err);
    CHECK(rc == HOIST_EINVAL && plan == NULL && contains(err.msg, from));
  }
  /* a root that does not exist */
  o.root = tmp_path(p, "esc/nope");
  in.from = tmp_path(from, "esc/root/ui");
  memset(&err, 0, sizeof err);
  rc = hoist_layer_plan(&in, 1, &o, &plan, &err);
  CHECK(rc != HOIST_OK && plan == NULL && contains(err.msg, p));
  o.root = root;

  /* a target that climbs out of the image root */
  {
    static const char *const bad[] = { "..", "/..", "/app/../../etc", "a/../b", "../x", "x/.." };
    size_t i;
    in.from = tmp_path(from, "esc/root/ui");
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
      in.to = bad[i];
      memset(&err, 0, sizeof err);
      rc = hoist_layer_plan(&in, 1, &o, &plan, &err);
      CHECK(rc == HOIST_EINVAL && plan == NULL && contains(err.msg, "..") &&
            contains(err.msg, bad[i]));
    }
    /* names that only look like it are fine */
    in.to = "/a/..b/...";
    CHECK_OK(hoist_layer_plan(&in, 1, &o, &plan, &err), &err);
    hoist_layer_plan_free(plan);
    plan = NULL;
  }
  done("layer: escapes refused");
}

static void test_layer_failures(void)
{
  char tree[PATH_MAX], dir[PATH_MAX], p[PATH_MAX], shrink[PATH_MAX];
  struct hoist_layer_input in = { NULL, "/", -1, 0, 0, NULL, 0 };
  struct hoist_layer_opts o = { HOIST_COMPRESS_GZIP, -1, 0, NULL, 0 };
  struct hoist_layer_plan *plan = NULL;
  struct hoist_layer_result r;
  struct hoist_err err;
  unsigned char *data = malloc(300000);
  size_t i;
  int rc;

  in.from = tmp_path(tree, "tree");
  CHECK(data != NULL);
  if (!data)
    return;
  for (i = 0; i < 300000; i++)
    data[i] = (unsigned char)(i * 7 + i / 1000);

  /* a blob folder that does not exist: an error, and it still does not exist */
  CHECK_OK(hoist_layer_plan(&in, 1, &o, &plan, &err), &err);
  if (plan) {
    tmp_path(dir, "no-such-folder/blobs");
    memset(&err, 0, sizeof err);
    rc = hoist_layer_write(plan, dir, &r, &err);
    CHECK(rc == HOIST_EIO && err.code == rc && contains(err.msg, dir));
    CHECK(count_dir(tmp_path(p, "no-such-folder")) == -1);
    hoist_layer_plan_free(plan);
    plan = NULL;
  }

  /* a file that shrinks after planning, with each compressor */
  CHECK(make_dir(tmp_path(p, "shrink"), 0755) == 0);
  tmp_path(shrink, "shrink/data.bin");
  for (i = 0; i < 3; i++) {
    struct hoist_layer_input sin = { NULL, "/data", -1, 0, 0, NULL, 0 };
    o.compression = i == 0 ? HOIST_COMPRESS_GZIP : i == 1 ? HOIST_COMPRESS_ZSTD
                                                          : HOIST_COMPRESS_NONE;
    sin.from = tmp_path(p, "shrink");
    CHECK(write_file(shrink, data, 300000, 0644) == 0);
    CHECK_OK(hoist_layer_plan(&sin, 1, &o, &plan, &err), &err);
    CHECK(truncate(shrink, 1000) == 0);
    tmp_path(dir, "blobs-shrink-%d", (int)i);
    CHECK(mkdir(dir, 0755) == 0);
    if (plan) {
      memset(&err, 0, sizeof err);
      rc = hoist_layer_write(plan, dir, &r, &err);
      CHECK(rc == HOIST_EIO && err.code == rc);
      CHECK(contains(err.msg, "changed while it was read") && contains(err.msg, shrink));
      CHECK(count_dir(dir) == 0);  /* no blob, no temporary file */
      hoist_layer_plan_free(plan);
      plan = NULL;
    }
  }

  /* a file removed after planning */
  {
    struct hoist_layer_input sin = { NULL, "/data", -1, 0, 0, NULL, 0 };
    sin.from = tmp_path(p, "shrink");
    o.compression = HOIST_COMPRESS_GZIP;
    CHECK(write_file(shrink, data, 1000, 0644) == 0);
    CHECK_OK(hoist_layer_plan(&sin, 1, &o, &plan, &err), &err);
    CHECK(unlink(shrink) == 0);
    tmp_path(dir, "blobs-gone");
    CHECK(mkdir(dir, 0755) == 0);
    if (plan) {
      memset(&err, 0, sizeof err);
      rc = hoist_layer_write(plan, dir, &r, &err);
      CHECK(rc == HOIST_EIO && contains(err.msg, shrink));
      CHECK(count_dir(dir) == 0);
      hoist_layer_plan_free(plan);
      plan = NULL;
    }
  }

  /* write_all: one of three fails; the other two are written and reported */
  {
    int threads[] = { 3, 1, 0 };
    size_t t;
    for (t = 0; t < 3; t++) {
      struct hoist_layer_input ins[3] = {
        { NULL, "/", -1, 0, 0, NULL, 0 }, { NULL, "/data", -1, 0, 0, NULL, 0 }, { NULL, "/bin", -1, 0, 0, NULL, 0 },
      };
      struct hoist_layer_plan *plans[3] = { NULL, NULL, NULL };
      struct hoist_layer_result res[3];
      struct hoist_err errs[3];
      int rcs[3] = { 99, 99, 99 };
      char a[PATH_MAX], blob[PATH_MAX], dig[HOIST_DIGEST_LEN + 1];
      ins[0].from = tree;
      ins[1].from = tmp_path(p, "shrink");
      ins[2].from = tmp_path(a, "tree/bin");
      CHECK(write_file(shrink, data, 300000, 0644) == 0);
      o.compression = HOIST_COMPRESS_GZIP;
      CHECK_OK(hoist_layer_plan(&ins[0], 1, &o, &plans[0], &err), &err);
      o.compression = HOIST_COMPRESS_ZSTD;
      CHECK_OK(hoist_layer_plan(&ins[1], 1, &o, &plans[1], &err), &err);
      CHECK_OK(hoist_layer_plan(&ins[2], 1, &o, &plans[2], &err), &err);
      CHECK(truncate(shrink, 10) == 0);
      tmp_path(dir, "blobs-all-%d", (int)t);
      CHECK(mkdir(dir, 0755) == 0);
      if (plans[0] && plans[1] && plans[2]) {
        memset(errs, 0, sizeof errs);
        rc = hoist_layer_write_all(plans, 3, dir, threads[t], res, rcs, errs);
        CHECK(rc == HOIST_EIO);
        CHECK(rcs[1] == HOIST_EIO && errs[1].code == HOIST_EIO);
        CHECK(contains(errs[1].msg, "changed while it was read"));
        CHECK(rcs[0] == HOIST_OK && rcs[2] == HOIST_OK);
        CHECK(count_dir(dir) == 2);
        for (i = 0; i < 3; i += 2) {
          unsigned long long size = 0;
          join(blob, dir, res[i].digest + 7);
          CHECK_OK(hoist_digest_file(blob, dig, &size, &err), &err);
          CHECK(strcmp(dig, res[i].digest) == 0 && size == res[i].size);
          CHECK(res[i].entries == hoist_layer_plan_entries(plans[i]));
        }
      }
      for (i = 0; i < 3; i++)
        hoist_layer_plan_free(plans[i]);
    }
  }
  /* write_all of nothing is fine */
  CHECK(hoist_layer_write_all(NULL, 0, g_tmp, 0, NULL, NULL, NULL) == HOIST_OK);
  hoist_layer_plan_free(NULL);
  free(data);
  done("layer: failures leave nothing behind");
}

/* ------------------------------------------------------------ owners and exclusions */

static void test_owner_parse(void)
{
  static const struct { const char *s; unsigned long uid, gid; } good[] = {
    { "0:0", 0, 0 }, { "1000:1000", 1000, 1000 }, { "1:2", 1, 2 },
    { "4294967294:65534", 4294967294UL, 65534 }, { "007:010", 7, 10 },
  };
  static const char *const bad[] = {
    "", "1000", ":1", "1:", "a:b", "-1:0", "1:-1", "1:2:3", "4294967295:0", "0:4294967295",
    "99999999999:0", " 1:2", "1:2 ", "1 :2", "+1:2", "0x10:0", "1:2\n", "root:root",
  };
  struct hoist_err err;
  size_t i;
  for (i = 0; i < sizeof good / sizeof good[0]; i++) {
    unsigned long u = 99, g = 99;
    CHECK_OK(hoist_layer_parse_owner(good[i].s, &u, &g, &err), &err);
    CHECK(u == good[i].uid && g == good[i].gid);
  }
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    unsigned long u = 99, g = 99;
    memset(&err, 0, sizeof err);
    if (hoist_layer_parse_owner(bad[i], &u, &g, &err) != HOIST_EINVAL) {
      printf("  owner '%s' accepted\n", bad[i]);
      CHECK(0);
    }
    CHECK(err.code == HOIST_EINVAL && contains(err.msg, "uid:gid") && u == 99 && g == 99);
  }
  done("layer: owner \"uid:gid\" parsing");
}

/* ox/app: a web app with things to leave out; ox/single.txt: a lone file. */
static int make_ox(void)
{
  static const char *const dirs[] = { "ox", "ox/app", "ox/app/assets", "ox/app/node_modules",
                                      "ox/app/node_modules/react", "ox/app/docs" };
  static const char *const files[] = { "ox/app/index.html", "ox/app/app.js", "ox/app/app.js.map",
                                       "ox/app/assets/x.map", "ox/app/assets/logo.svg",
                                       "ox/app/node_modules/react/index.js",
                                       "ox/app/docs/README.md", "ox/app/docs/other.md",
                                       "ox/single.txt" };
  char p[PATH_MAX];
  size_t i;
  int rc = 0;
  for (i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
    rc |= make_dir(tmp_path(p, "%s", dirs[i]), 0755);
  rc |= chmod(tmp_path(p, "ox/app/docs"), 0750);
  for (i = 0; i < sizeof files / sizeof files[0]; i++)
    rc |= write_str(tmp_path(p, "%s", files[i]), files[i], 0644);
  rc |= symlink("index.html", tmp_path(p, "ox/app/link"));
  return rc ? -1 : 0;
}

/* Plans and writes in into dir, reads it back into l; returns the plan's key in key. */
static int ox_layer(const struct hoist_layer_input *in, size_t n, const char *dir, struct tlist *l,
                    char key[HOIST_DIGEST_LEN + 1])
{
  struct hoist_layer_opts o = { HOIST_COMPRESS_GZIP, -1, 0, NULL, 0 };
  struct hoist_layer_result r;
  struct hoist_err err;
  char blob[PATH_MAX];
  int rc = plan_write(in, n, &o, dir, &r, key, &err);
  if (rc) {
    printf("  plan_write: %s\n", err.msg);
    return rc;
  }
  return read_layer(join(blob, dir, r.digest + 7), l);
}

static void test_layer_owner_exclude(void)
{
  static const char *const excl[] = { "**/*.map", "node_modules", "/docs", "!docs/README.md" };
  static const char *const kept[] = { "srv", "srv/index.html", "srv/app.js", "srv/assets",
                                      "srv/assets/logo.svg", "srv/docs", "srv/docs/README.md",
                                      "srv/link" };
  static const char *const gone[] = { "srv/app.js.map", "srv/assets/x.map", "srv/node_modules",
                                      "srv/node_modules/react", "srv/node_modules/react/index.js",
                                      "srv/docs/other.md" };
  char app[PATH_MAX], single[PATH_MAX], dir[PATH_MAX];
  char key_a[HOIST_DIGEST_LEN + 1], key_b[HOIST_DIGEST_LEN + 1], key_c[HOIST_DIGEST_LEN + 1];
  struct hoist_layer_input in = { NULL, "/srv", -1, 1000, 2000, excl, 4 };
  struct hoist_layer_opts o = { HOIST_COMPRESS_GZIP, -1, 0, NULL, 0 };
  struct hoist_layer_plan *plan = NULL;
  struct hoist_err err;
  struct tlist l;
  size_t i;

  CHECK(make_ox() == 0);
  in.from = tmp_path(app, "ox/app");
  tmp_path(dir, "blobs-ox");
  CHECK(mkdir(dir, 0755) == 0);

  /* owner on every entry of the input; excluded paths gone; a re-included file keeps its
     excluded folder, with the folder's own mode */
  if (ox_layer(&in, 1, dir, &l, key_a) == 0) {
    CHECK(l.n == sizeof kept / sizeof kept[0]);
    for (i = 0; i < sizeof kept / sizeof kept[0]; i++) {
      const struct tentry *t = find_entry(&l, kept[i]);
      if (!t) {
        printf("  missing '%s'\n", kept[i]);
        CHECK(t != NULL);
        continue;
      }
      CHECK(t->uid == 1000 && t->gid == 2000 && !t->has_owner_name);
    }
    for (i = 0; i < sizeof gone / sizeof gone[0]; i++)
      if (find_entry(&l, gone[i])) {
        printf("  '%s' is in the layer\n", gone[i]);
        CHECK(0);
      }
    CHECK(find_entry(&l, "srv/docs") && find_entry(&l, "srv/docs")->perm == 0750);
    CHECK(find_entry(&l, "srv/link") && find_entry(&l, "srv/link")->type == AE_IFLNK);
    tlist_free(&l);
  } else {
    CHECK(!"the layer reads back");
  }

  /* without exclusions and owner: everything, owned by 0:0; another key */
  in.n_exclude = 0;
  in.exclude = NULL;
  in.uid = in.gid = 0;
  if (ox_layer(&in, 1, dir, &l, key_b) == 0) {
    CHECK(l.n == sizeof kept / sizeof kept[0] + sizeof gone / sizeof gone[0]);
    for (i = 0; i < l.n; i++)
      CHECK(l.e[i].uid == 0 && l.e[i].gid == 0);
    tlist_free(&l);
  } else {
    CHECK(!"the layer reads back");
  }
  CHECK(strcmp(key_a, key_b) != 0);

  /* the key follows the owner, and the patterns (even one that excludes nothing) */
  {
    static const char *const more[] = { "**/*.map", "node_modules", "/docs", "!docs/README.md",
                                        "*.nothing" };
    char k1[HOIST_DIGEST_LEN + 1], k2[HOIST_DIGEST_LEN + 1], k3[HOIST_DIGEST_LEN + 1];
    struct hoist_layer_input x = { NULL, "/srv", -1, 1000, 2000, excl, 4 };
    x.from = app;
    CHECK_OK(hoist_layer_plan(&x, 1, &o, &plan, &err), &err);
    memcpy(k1, plan ? hoist_layer_plan_key(plan) : "", plan ? sizeof k1 : 1);
    hoist_layer_plan_free(plan);
    CHECK(plan && strcmp(k1, key_a) == 0);  /* the same inputs, the same key */
    x.gid = 2001;
    CHECK_OK(hoist_layer_plan(&x, 1, &o, &plan, &err), &err);
    memcpy(k2, plan ? hoist_layer_plan_key(plan) : "", plan ? sizeof k2 : 1);
    hoist_layer_plan_free(plan);
    CHECK(plan && strcmp(k2, k1) != 0);
    x.gid = 2000;
    x.exclude = more;
    x.n_exclude = 5;
    CHECK_OK(hoist_layer_plan(&x, 1, &o, &plan, &err), &err);
    memcpy(k3, plan ? hoist_layer_plan_key(plan) : "", plan ? sizeof k3 : 1);
    CHECK(plan && hoist_layer_plan_entries(plan) == sizeof kept / sizeof kept[0]);
    hoist_layer_plan_free(plan);
    CHECK(plan && strcmp(k3, k1) != 0);
    plan = NULL;
  }

  /* under a deeper target: implied parents are owned like the entry implying them (COPY --chown) */
  {
    struct hoist_layer_input deep = { NULL, "/opt/srv", -1, 7, 8, excl, 4 };
    deep.from = app;
    if (ox_layer(&deep, 1, dir, &l, key_c) == 0) {
      const struct tentry *t = find_entry(&l, "opt");
      CHECK(t && t->uid == 7 && t->gid == 8 && t->perm == 0755);
      t = find_entry(&l, "opt/srv/app.js");
      CHECK(t && t->uid == 7 && t->gid == 8);
      CHECK(!find_entry(&l, "opt/srv/app.js.map"));
      tlist_free(&l);
    } else {
      CHECK(!"the layer reads back");
    }
  }

  /* a single file keeps working with every option; exclude does not apply to it */
  {
    static const char *const all[] = { "*", "**" };
    struct hoist_layer_input one[2] = { { NULL, "/etc/single.txt", 0600, 3000000000UL,
                                          4294967294UL, all, 2 },
                                        { NULL, "/x/", -1, 5, 6, all, 2 } };
    one[0].from = tmp_path(single, "ox/single.txt");
    one[1].from = single;
    if (ox_layer(one, 2, dir, &l, key_c) == 0) {
      const struct tentry *t = find_entry(&l, "etc/single.txt");
      /* beyond the 7 octal digits of ustar: PAX carries them */
      CHECK(t && t->uid == 3000000000LL && t->gid == 4294967294LL && t->perm == 0600);
      CHECK(t && t->len == strlen("ox/single.txt") && memcmp(t->data, "ox/single.txt", t->len) == 0);
      t = find_entry(&l, "x/single.txt");
      CHECK(t && t->uid == 5 && t->gid == 6 && t->perm == 0644);
      t = find_entry(&l, "etc");
      CHECK(t && t->uid == 3000000000LL && t->gid == 4294967294LL && t->perm == 0755);
      CHECK(l.n == 4);
      tlist_free(&l);
    } else {
      CHECK(!"the layer reads back");
    }
  }

  /* a folder every path of which is excluded: only the folder itself */
  {
    static const char *const all[] = { "*" };
    struct hoist_layer_input in2 = { NULL, "/srv", -1, 0, 0, all, 1 };
    in2.from = app;
    if (ox_layer(&in2, 1, dir, &l, key_c) == 0) {
      CHECK(l.n == 1 && find_entry(&l, "srv") && find_entry(&l, "srv")->type == AE_IFDIR);
      tlist_free(&l);
    } else {
      CHECK(!"the layer reads back");
    }
  }

  /* a bad pattern fails the plan and is named */
  {
    static const char *const badp[] = { "ok", "a/../b" };
    struct hoist_layer_input in3 = { NULL, "/srv", -1, 0, 0, badp, 2 };
    in3.from = app;
    memset(&err, 0, sizeof err);
    plan = (struct hoist_layer_plan *)&err;
    CHECK(hoist_layer_plan(&in3, 1, &o, &plan, &err) == HOIST_EINVAL);
    CHECK(plan == NULL && contains(err.msg, "a/../b"));
  }
  done("layer: owner and exclude");
}

/* ------------------------------------------------------------ threads and blocks */

/* Runs argv (stdout into *out when out is set); returns the exit status, -1 when it did not run. */
static int run_tool(const char *const *argv, char **out)
{
  struct hoist_exec_opts o;
  struct hoist_exec_result r;
  struct hoist_err err;
  int rc;
  memset(&o, 0, sizeof o);
  o.argv = argv;
  o.timeout = 300;
  if (hoist_exec_run(&o, &r, &err) != HOIST_OK) {
    printf("  %s: %s\n", argv[0], err.msg);
    hoist_exec_result_release(&r);
    return -1;
  }
  rc = r.code;
  if (rc)
    printf("  %s exited %d: %.300s\n", argv[0], rc, r.err ? r.err : "");
  if (out) {
    *out = r.out;
    r.out = NULL;
  }
  hoist_exec_result_release(&r);
  return rc;
}

static int g_have_tools = -1;  /* gzip and python3 */

static int have_tools(void)
{
  if (g_have_tools < 0) {
    const char *gz[] = { "gzip", "--version", NULL }, *py[] = { "python3", "--version", NULL };
    g_have_tools = run_tool(gz, NULL) == 0 && run_tool(py, NULL) == 0;
    if (!g_have_tools)
      printf("  (gzip or python3 missing: other readers not tried)\n");
  }
  return g_have_tools;
}

/* gzip -t and python3's gzip module read the blob; python's sha256 of the content is diff_id. */
static void other_readers(const char *dir, const struct hoist_layer_result *r)
{
  static const char py_sha[] =
      "import gzip, hashlib, sys\n"
      "print('sha256:' + hashlib.sha256(gzip.open(sys.argv[1], 'rb').read()).hexdigest())\n";
  char blob[PATH_MAX], *out = NULL;
  const char *gz[] = { "gzip", "-t", NULL, NULL }, *py[] = { "python3", "-c", py_sha, NULL, NULL };
  if (!have_tools())
    return;
  join(blob, dir, r->digest + 7);
  gz[2] = blob;
  py[3] = blob;
  CHECK(run_tool(gz, NULL) == 0);
  CHECK(run_tool(py, &out) == 0);
  CHECK(out && strncmp(out, r->diff_id, HOIST_DIGEST_LEN) == 0 && out[HOIST_DIGEST_LEN] == '\n');
  free(out);
}

/* A file of text and noise (deterministic), len bytes. */
static int write_mix(const char *path, size_t len, unsigned long long x)
{
  unsigned char *d = malloc(len ? len : 1);
  size_t i;
  int rc;
  if (!d)
    return -1;
  for (i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    d[i] = (i / 50000) % 3 == 2 ? (unsigned char)x : (unsigned char)("abcd efgh ij\n"[(x >> 8) % 13]);
  }
  rc = write_file(path, d, len, 0644);
  free(d);
  return rc;
}

/*
** The same layers with 1, 2 and 8 threads, and with $HOIST_THREADS: the same bytes. Plans of
** several compressions run together on one pool; every gzip blob is read by gzip and python.
*/
static void test_layer_threads(void)
{
  static const int threads[] = { 1, 2, 8, 0 };
  static const enum hoist_compression comps[] = { HOIST_COMPRESS_GZIP, HOIST_COMPRESS_ZSTD,
                                                  HOIST_COMPRESS_NONE, HOIST_COMPRESS_ZSTD,
                                                  HOIST_COMPRESS_GZIP };
  enum { NP = 5 };
  char mix[PATH_MAX], tree[PATH_MAX], dir[PATH_MAX], zbig[PATH_MAX];
  char digests[NP][HOIST_DIGEST_LEN + 1];
  struct hoist_layer_plan *plans[NP] = { NULL, NULL, NULL, NULL, NULL };
  struct hoist_layer_opts o = { HOIST_COMPRESS_GZIP, -1, 0, NULL, 0 };
  struct hoist_err err;
  const char *old = getenv("HOIST_THREADS");
  char *keep = old ? strdup(old) : NULL;
  size_t k, t;

  CHECK(make_dir(tmp_path(mix, "mix"), 0755) == 0);
  CHECK(write_mix(tmp_path(mix, "mix/a.bin"), (size_t)3 << 19, 1) == 0);
  CHECK(write_mix(tmp_path(mix, "mix/b.txt"), 70000, 2) == 0);
  /* zstd cuts jobs of 8 MiB at level 3: 20 MiB is three jobs on as many workers as it has */
  CHECK(write_mix(tmp_path(zbig, "zbig.bin"), (size_t)20 << 20, 3) == 0);
  tmp_path(mix, "mix");
  tmp_path(tree, "tree");
  for (k = 0; k < NP; k++) {
    struct hoist_layer_input in = { NULL, "/", -1, 0, 0, NULL, 0 };
    in.from = k == 3 ? zbig : k == 4 ? tree : mix;
    in.to = k == 3 ? "/z.bin" : "/";
    o.compression = comps[k];
    CHECK_OK(hoist_layer_plan(&in, 1, &o, &plans[k], &err), &err);
  }
  for (t = 0; t < sizeof threads / sizeof threads[0]; t++) {
    struct hoist_layer_result res[NP];
    struct hoist_err errs[NP];
    int rcs[NP];
    if (!plans[0] || !plans[1] || !plans[2] || !plans[3] || !plans[4])
      break;
    if (threads[t] == 0)
      setenv("HOIST_THREADS", "3", 1);
    tmp_path(dir, "blobs-threads-%d", threads[t]);
    CHECK(mkdir(dir, 0755) == 0);
    CHECK(hoist_layer_write_all(plans, NP, dir, threads[t], res, rcs, errs) == HOIST_OK);
    for (k = 0; k < NP; k++) {
      CHECK_OK(rcs[k], &errs[k]);
      if (t == 0)
        memcpy(digests[k], res[k].digest, sizeof digests[k]);
      else if (strcmp(digests[k], res[k].digest) != 0) {
        printf("  layer %zu: %d threads give %s, 1 thread %s\n", k, threads[t], res[k].digest,
               digests[k]);
        CHECK(0);
      }
      if (t == 0 && comps[k] == HOIST_COMPRESS_GZIP)
        other_readers(dir, &res[k]);
    }
    if (t == 0) {
      /* the tree's layer alone, checked entry by entry, is the one written with the others */
      struct hoist_layer_result one;
      char dir1[PATH_MAX];
      tmp_path(dir1, "blobs-threads-tree");
      CHECK(mkdir(dir1, 0755) == 0);
      CHECK_OK(hoist_layer_write(plans[4], dir1, &one, &err), &err);
      check_layer(dir1, &one, HOIST_COMPRESS_GZIP, 0, "", -1, hoist_layer_plan_entries(plans[4]));
      CHECK(strcmp(one.digest, res[4].digest) == 0);
    }
    CHECK(count_dir(dir) == NP);
  }
  if (keep)
    setenv("HOIST_THREADS", keep, 1);
  else
    unsetenv("HOIST_THREADS");
  free(keep);
  for (k = 0; k < NP; k++)
    hoist_layer_plan_free(plans[k]);
  done("layer: the same bytes with 1, 2, 8 threads and $HOIST_THREADS");
}

/*
** Plans a tree whose folders are stat'ed on the pool (hoist_dirlist): the same key and entries
** on 1, 2 and 3 threads. Folder a/ spans two batches of HOIST_DIRLIST_BATCH, b/ is one batch
** split over the threads, c/ is small enough to stay on the calling thread. A FIFO inside a large
** folder is refused by name whatever the thread count.
*/
static void test_layer_plan_threads(void)
{
  static const char *const counts[] = { "1", "2", "3" };
  static const char *const exclude[] = { "a/f-1*7", "b/sub" };
  char root[PATH_MAX], path[PATH_MAX], keys[2][3][HOIST_DIGEST_LEN + 1], msg[3][sizeof ((struct hoist_err *)0)->msg];
  size_t entries[2][3];
  struct hoist_layer_opts o = { HOIST_COMPRESS_GZIP, -1, 0, NULL, 0 };
  struct hoist_err err;
  const char *old = getenv("HOIST_THREADS");
  char *keep = old ? strdup(old) : NULL;
  int i, t, x;

  CHECK(make_dir(tmp_path(root, "wide"), 0755) == 0);
  CHECK(make_dir(tmp_path(path, "wide/a"), 0755) == 0);
  CHECK(make_dir(tmp_path(path, "wide/b"), 0755) == 0);
  CHECK(make_dir(tmp_path(path, "wide/b/sub"), 0755) == 0);
  CHECK(make_dir(tmp_path(path, "wide/c"), 0755) == 0);
  for (i = 0; i < HOIST_DIRLIST_BATCH + 104; i++)
    CHECK(write_file(tmp_path(path, "wide/a/f-%d", i), "a", 1, 0644) == 0);
  for (i = 0; i < 100; i++)
    CHECK(write_file(tmp_path(path, "wide/b/f-%d", i), "bb", 2, i % 2 ? 0755 : 0644) == 0);
  for (i = 0; i < 70; i++)
    CHECK(write_file(tmp_path(path, "wide/b/sub/f-%d", i), "s", 1, 0600) == 0);
  for (i = 0; i < 10; i++)
    CHECK(write_file(tmp_path(path, "wide/c/f-%d", i), "c", 1, 0644) == 0);
  CHECK(symlink("f-1", tmp_path(path, "wide/b/link")) == 0);
  CHECK(make_dir(tmp_path(path, "wide2"), 0755) == 0);
  for (i = 0; i < 200; i++)
    CHECK(write_file(tmp_path(path, "wide2/f-%d", i), "w", 1, 0644) == 0);
  CHECK(mkfifo(tmp_path(path, "wide2/f-150-fifo"), 0644) == 0);

  for (t = 0; t < 3; t++) {
    setenv("HOIST_THREADS", counts[t], 1);
    for (x = 0; x < 2; x++) {
      struct hoist_layer_input in = { NULL, "/", -1, 0, 0, NULL, 0 };
      struct hoist_layer_plan *p = NULL;
      in.from = root;
      in.exclude = x ? exclude : NULL;
      in.n_exclude = x ? 2 : 0;
      CHECK_OK(hoist_layer_plan(&in, 1, &o, &p, &err), &err);
      keys[x][t][0] = '\0';
      entries[x][t] = 0;
      if (p) {
        snprintf(keys[x][t], sizeof keys[x][t], "%s", hoist_layer_plan_key(p));
        entries[x][t] = hoist_layer_plan_entries(p);
        hoist_layer_plan_free(p);
      }
      CHECK(strcmp(keys[x][t], keys[x][0]) == 0 && entries[x][t] == entries[x][0]);
    }
    {
      struct hoist_layer_input in = { NULL, "/", -1, 0, 0, NULL, 0 };
      struct hoist_layer_plan *p = NULL;
      in.from = tmp_path(path, "wide2");
      CHECK(hoist_layer_plan(&in, 1, &o, &p, &err) == HOIST_EINVAL);
      CHECK(strstr(err.msg, "f-150-fifo' is a FIFO") != NULL);
      snprintf(msg[t], sizeof msg[t], "%s", err.msg);
      CHECK(strcmp(msg[t], msg[0]) == 0);
      hoist_layer_plan_free(p);
    }
  }
  /* every file, the link and the four folders; then without a/f-1*7 (f-17, f-107, f-1007 ...)
  ** and b/sub with what it holds */
  CHECK(entries[0][0] == (size_t)(HOIST_DIRLIST_BATCH + 104 + 100 + 70 + 10 + 1 + 4));
  CHECK(entries[1][0] < entries[0][0] - 71);
  if (keep)
    setenv("HOIST_THREADS", keep, 1);
  else
    unsetenv("HOIST_THREADS");
  free(keep);
  done("layer: the same plan on 1, 2 and 3 threads (folders stat'ed on the pool)");
}

/* Tars of 1.5 KiB (an empty file), exactly one gzip block, and one block and 512 bytes. */
static void test_layer_block_edges(void)
{
  static const size_t sizes[] = { 0, 129536, 129537 };
  static const unsigned long long tars[] = { 1536, 131072, 131584 };
  struct hoist_layer_opts o = { HOIST_COMPRESS_GZIP, -1, 0, NULL, 0 };
  char f[PATH_MAX], dir[PATH_MAX], blob[PATH_MAX];
  size_t i;
  tmp_path(dir, "blobs-edges");
  CHECK(mkdir(dir, 0755) == 0);
  for (i = 0; i < 3; i++) {
    struct hoist_layer_input in = { NULL, "/f", -1, 0, 0, NULL, 0 };
    struct hoist_layer_result r;
    struct hoist_err err;
    struct tlist l;
    tmp_path(f, "edge-%zu", sizes[i]);
    CHECK(write_mix(f, sizes[i], 5 + i) == 0);
    in.from = f;
    CHECK_OK(plan_write(&in, 1, &o, dir, &r, NULL, &err), &err);
    CHECK(r.tar_size == tars[i]);
    other_readers(dir, &r);
    if (read_layer(join(blob, dir, r.digest + 7), &l) == 0) {
      CHECK(l.n == 1 && l.e[0].len == sizes[i]);
      tlist_free(&l);
    } else {
      CHECK(!"the layer reads back");
    }
  }
  done("layer: tars around the gzip block size");
}

/* A big file that shrinks after planning fails its layer with many blocks in flight. */
static void test_layer_shrink_in_flight(void)
{
  static const int threads[] = { 1, 2, 8 };
  static const enum hoist_compression comps[] = { HOIST_COMPRESS_GZIP, HOIST_COMPRESS_ZSTD };
  char f[PATH_MAX], dir[PATH_MAX];
  size_t t, c;
  tmp_path(f, "shrinking.bin");
  for (c = 0; c < 2; c++)
    for (t = 0; t < 3; t++) {
      struct hoist_layer_input in = { NULL, "/big", -1, 0, 0, NULL, 0 };
      struct hoist_layer_opts o = { HOIST_COMPRESS_GZIP, -1, 0, NULL, 0 };
      struct hoist_layer_plan *plan = NULL;
      struct hoist_layer_result r;
      struct hoist_err err;
      int rc = 0;
      in.from = f;
      o.compression = comps[c];
      CHECK(write_mix(f, (size_t)4 << 20, 11) == 0);
      CHECK_OK(hoist_layer_plan(&in, 1, &o, &plan, &err), &err);
      CHECK(truncate(f, (off_t)3 << 20) == 0);
      tmp_path(dir, "blobs-shrink-flight-%zu-%d", c, threads[t]);
      CHECK(mkdir(dir, 0755) == 0);
      if (!plan)
        continue;
      memset(&err, 0, sizeof err);
      CHECK(hoist_layer_write_all(&plan, 1, dir, threads[t], &r, &rc, &err) == HOIST_EIO);
      CHECK(rc == HOIST_EIO && contains(err.msg, "changed while it was read"));
      CHECK(count_dir(dir) == 0);
      hoist_layer_plan_free(plan);
    }
  done("layer: a file shrinking with blocks in flight");
}

/* hoist_layer_stream_all: the hook hands out the compressed bytes in order, then the result. */
struct capture {
  unsigned char *p[2];
  size_t n[2];
  int opened[2], closed[2], failed_open;
  struct hoist_layer_result res[2];
};

static int cap_open(void *ctx, size_t i, struct hoist_err *err)
{
  struct capture *c = ctx;
  if ((int)i == c->failed_open)
    return hoist_err_set(err, HOIST_EIO, "the test refuses layer %zu", i);
  c->opened[i]++;
  return HOIST_OK;
}

static int cap_write(void *ctx, size_t i, const void *buf, size_t n, struct hoist_err *err)
{
  struct capture *c = ctx;
  unsigned char *np = realloc(c->p[i], c->n[i] + n);
  if (!np)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  memcpy(np + c->n[i], buf, n);
  c->p[i] = np;
  c->n[i] += n;
  return HOIST_OK;
}

static int cap_close(void *ctx, size_t i, const struct hoist_layer_result *res,
                     struct hoist_err *err)
{
  struct capture *c = ctx;
  (void)err;
  c->closed[i]++;
  if (res)
    c->res[i] = *res;
  return HOIST_OK;
}

static void test_layer_stream_hook(void)
{
  char tree[PATH_MAX], mix[PATH_MAX], dig[HOIST_DIGEST_LEN + 1];
  struct hoist_layer_input in[2] = { { NULL, "/", -1, 0, 0, NULL, 0 },
                                     { NULL, "/", -1, 0, 0, NULL, 0 } };
  struct hoist_layer_opts o = { HOIST_COMPRESS_GZIP, -1, 0, NULL, 0 };
  struct hoist_layer_plan *plans[2] = { NULL, NULL };
  struct hoist_layer_out out = { cap_open, cap_write, cap_close, NULL };
  struct hoist_layer_result res[2];
  struct hoist_err errs[2], err;
  struct capture c;
  int rcs[2], k, round;
  in[0].from = tmp_path(tree, "tree");
  in[1].from = tmp_path(mix, "mix");
  CHECK_OK(hoist_layer_plan(&in[0], 1, &o, &plans[0], &err), &err);
  o.compression = HOIST_COMPRESS_ZSTD;
  CHECK_OK(hoist_layer_plan(&in[1], 1, &o, &plans[1], &err), &err);
  for (round = 0; round < 2 && plans[0] && plans[1]; round++) {
    memset(&c, 0, sizeof c);
    c.failed_open = round == 0 ? -1 : 1;  /* round 1: layer 1's output cannot open */
    out.ctx = &c;
    hoist_layer_stream_all(plans, 2, &out, 2, res, rcs, errs);
    CHECK_OK(rcs[0], &errs[0]);
    CHECK(c.opened[0] == 1 && c.closed[0] == 1);
    CHECK_OK(hoist_digest_buffer(c.p[0], c.n[0], dig, &err), &err);
    CHECK(strcmp(dig, res[0].digest) == 0 && c.n[0] == res[0].size);
    CHECK(strcmp(c.res[0].digest, res[0].digest) == 0);
    if (round == 0) {
      CHECK_OK(rcs[1], &errs[1]);
      CHECK_OK(hoist_digest_buffer(c.p[1], c.n[1], dig, &err), &err);
      CHECK(strcmp(dig, res[1].digest) == 0 && c.n[1] == res[1].size && c.closed[1] == 1);
    } else {
      /* an output that fails to open fails its layer alone, and is not closed */
      CHECK(rcs[1] == HOIST_EIO && contains(errs[1].msg, "refuses layer 1"));
      CHECK(c.opened[1] == 0 && c.closed[1] == 0 && c.n[1] == 0);
    }
    for (k = 0; k < 2; k++)
      free(c.p[k]);
  }
  hoist_layer_plan_free(plans[0]);
  hoist_layer_plan_free(plans[1]);
  done("layer: the stream hook");
}

/* ------------------------------------------------------------ file lists recorded while writing */

/* lf/: what the other trees lack: empty files (one hard-linked), setuid, a private folder,
   absolute, dangling and folder symlinks, a symlink beside a hard link, spaces in names. */
static int make_lf(void)
{
  char p[PATH_MAX], q[PATH_MAX];
  int rc = 0;
  rc |= make_dir(tmp_path(p, "lf"), 0755);
  rc |= write_str(tmp_path(p, "lf/empty"), "", 0644);
  rc |= link(tmp_path(p, "lf/empty"), tmp_path(q, "lf/empty-too"));
  rc |= write_str(tmp_path(p, "lf/suid"), "#!/bin/sh\n", 04755);
  rc |= make_dir(tmp_path(p, "lf/private"), 0700);
  rc |= write_str(tmp_path(p, "lf/private/key file.txt"), "secret-ish\n", 0600);
  rc |= link(tmp_path(p, "lf/private/key file.txt"), tmp_path(q, "lf/key-link"));
  rc |= symlink("/etc/passwd", tmp_path(p, "lf/abs"));
  rc |= symlink("nowhere/x", tmp_path(p, "lf/dangling"));
  rc |= symlink("private", tmp_path(p, "lf/to-dir"));
  rc |= symlink("key-link", tmp_path(p, "lf/to-hard"));
  return rc ? -1 : 0;
}

/* Compares a recorded list with the one read back from the blob; prints the first difference. */
static int same_files(const struct hoist_layer_files *rec, const struct hoist_layer_files *back)
{
  size_t i;
  if (rec->n != back->n) {
    printf("  recorded %zu entries, read back %zu\n", rec->n, back->n);
    return 0;
  }
  for (i = 0; i < rec->n; i++) {
    const struct hoist_layer_entry *a = &rec->entries[i], *b = &back->entries[i];
    if (strcmp(a->name, b->name) != 0 || a->type != b->type || a->mode != b->mode ||
        a->size != b->size || (!a->link) != (!b->link) || (a->link && strcmp(a->link, b->link)) ||
        strcmp(a->sha256, b->sha256) != 0 || strcmp(a->sha1, b->sha1) != 0) {
      printf("  entry %zu: recorded %s %c %o %lld %s %s %s, read back %s %c %o %lld %s %s %s\n", i,
             a->name, a->type, a->mode, a->size, a->link ? a->link : "-", a->sha256, a->sha1,
             b->name, b->type, b->mode, b->size, b->link ? b->link : "-", b->sha256, b->sha1);
      return 0;
    }
  }
  return 1;
}

static const struct hoist_layer_entry *files_find(const struct hoist_layer_files *f, const char *name)
{
  size_t i;
  for (i = 0; i < f->n; i++)
    if (strcmp(f->entries[i].name, name) == 0)
      return &f->entries[i];
  return NULL;
}

/* e is a regular file holding exactly data (hashed here by OpenSSL's one-shot EVP_Digest). */
static int holds(const struct hoist_layer_entry *e, const void *data, size_t len)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  char h256[65], h1[41];
  unsigned n = 0, i;
  if (!e || e->type != 'f' || e->size != (long long)len)
    return 0;
  if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1)
    return 0;
  for (i = 0; i < n; i++)
    snprintf(h256 + 2 * i, 3, "%02x", md[i]);
  if (EVP_Digest(data, len, md, &n, EVP_sha1(), NULL) != 1)
    return 0;
  for (i = 0; i < n; i++)
    snprintf(h1 + 2 * i, 3, "%02x", md[i]);
  return strcmp(e->sha256, h256) == 0 && strcmp(e->sha1, h1) == 0;
}

/*
** hoist_layer_write_all_files: the lists recorded while writing equal what hoist_layer_files_read
** reads back from the blobs, for every compression, with and without implied folders, on one and
** several threads; the hashes are right (checked against OpenSSL's one-shot digests); recording
** changes no byte of the layers.
*/
static void test_layer_files(void)
{
  static const char *const excl[] = { "**/*.map", "node_modules", "/docs", "!docs/README.md" };
  static const enum hoist_compression comps[] = { HOIST_COMPRESS_GZIP, HOIST_COMPRESS_ZSTD,
                                                  HOIST_COMPRESS_NONE };
  static const int threads[] = { 1, 3 };
  char tree[PATH_MAX], app[PATH_MAX], single[PATH_MAX], lf[PATH_MAX], dir[PATH_MAX], blob[PATH_MAX];
  struct hoist_layer_input a = { NULL, "/", -1, 0, 0, NULL, 0 };
  struct hoist_layer_input b[3] = { { NULL, "/srv", 0600, 1000, 2000, excl, 4 },
                                    { NULL, "/opt/one/", -1, 7, 8, NULL, 0 },
                                    { NULL, "/lf", -1, 0, 0, NULL, 0 } };
  size_t c, np, t, i;

  CHECK(make_lf() == 0);
  a.from = tmp_path(tree, "tree");
  b[0].from = tmp_path(app, "ox/app");
  b[1].from = tmp_path(single, "ox/single.txt");
  b[2].from = tmp_path(lf, "lf");
  for (c = 0; c < 3; c++)
    for (np = 0; np < 2; np++)
      for (t = 0; t < 2; t++) {
        struct hoist_layer_opts o = { HOIST_COMPRESS_GZIP, -1, 1700000000, NULL, 0 };
        struct hoist_layer_plan *plans[2] = { NULL, NULL };
        struct hoist_layer_result res[2], plain[2];
        struct hoist_layer_files files[2], back;
        struct hoist_err errs[2], err;
        int rcs[2];
        o.compression = comps[c];
        o.no_parents = (int)np;
        CHECK_OK(hoist_layer_plan(&a, 1, &o, &plans[0], &err), &err);
        CHECK_OK(hoist_layer_plan(b, 3, &o, &plans[1], &err), &err);
        if (!plans[0] || !plans[1]) {
          hoist_layer_plan_free(plans[0]);
          hoist_layer_plan_free(plans[1]);
          continue;
        }
        tmp_path(dir, "blobs-files-%zu-%zu-%d", c, np, threads[t]);
        CHECK(mkdir(dir, 0755) == 0);
        CHECK(hoist_layer_write_all_files(plans, 2, dir, threads[t], res, files, rcs, errs) == 0);
        for (i = 0; i < 2; i++) {
          CHECK_OK(rcs[i], &errs[i]);
          CHECK(files[i].n == hoist_layer_plan_entries(plans[i]) && files[i].n == res[i].entries);
          memset(&back, 0, sizeof back);
          CHECK_OK(hoist_layer_files_read(join(blob, dir, res[i].digest + 7), &back, &err), &err);
          CHECK(same_files(&files[i], &back));
          hoist_layer_files_free(&back);
        }
        /* the hashes are the content's, whatever both readers agree on */
        CHECK(holds(files_find(&files[0], "a.txt"), A_TXT, sizeof A_TXT - 1));
        CHECK(holds(files_find(&files[0], "big.bin"), g_big, BIG_SIZE));
        CHECK(holds(files_find(&files[0], g_utf8), UTF8_TXT, sizeof UTF8_TXT - 1));
        CHECK(holds(files_find(&files[0], g_long), LONG_TXT, sizeof LONG_TXT - 1));
        CHECK(holds(files_find(&files[1], "lf/empty"), "", 0));
        CHECK(holds(files_find(&files[1], "srv/index.html"), "ox/app/index.html", 17));
        CHECK(files_find(&files[1], "srv/index.html") &&
              files_find(&files[1], "srv/index.html")->mode == 0600);
        CHECK(files_find(&files[1], "lf/suid") && files_find(&files[1], "lf/suid")->mode == 04755);
        CHECK(files_find(&files[1], "srv/app.js.map") == NULL &&
              files_find(&files[1], "srv/docs/README.md") != NULL);
        CHECK(files_find(&files[1], "opt/one/single.txt") != NULL &&
              (files_find(&files[1], "opt") != NULL) == !np);
        {
          const struct hoist_layer_entry *h = files_find(&files[0], "hard2");
          const struct hoist_layer_entry *l = files_find(&files[1], "lf/abs");
          const struct hoist_layer_entry *e2 = files_find(&files[1], "lf/empty-too");
          CHECK(h && h->type == 'h' && h->link && strcmp(h->link, "hard1") == 0 && !h->sha256[0]);
          CHECK(l && l->type == 'l' && l->link && strcmp(l->link, "/etc/passwd") == 0);
          CHECK(e2 && e2->type == 'h' && e2->link && strcmp(e2->link, "lf/empty") == 0);
        }
        /* recording changes no byte: the same layers written without it */
        tmp_path(dir, "blobs-nofiles-%zu-%zu-%d", c, np, threads[t]);
        CHECK(mkdir(dir, 0755) == 0);
        CHECK(hoist_layer_write_all(plans, 2, dir, threads[t], plain, rcs, errs) == 0);
        for (i = 0; i < 2; i++) {
          CHECK(strcmp(plain[i].digest, res[i].digest) == 0);
          hoist_layer_files_free(&files[i]);
          CHECK(files[i].n == 0 && files[i].entries == NULL);
        }
        hoist_layer_plan_free(plans[0]);
        hoist_layer_plan_free(plans[1]);
      }
  done("layer: file lists recorded while writing equal the blobs' (gzip, zstd, none)");
}

/*
** A layer that fails leaves its list empty (nothing to free, nothing leaked: valgrind), the
** others of the call keep theirs; through the stream hook too, where the list equals what the
** captured bytes hold.
*/
static void test_layer_files_failures(void)
{
  char tree[PATH_MAX], f[PATH_MAX], dir[PATH_MAX], cap[PATH_MAX];
  struct hoist_layer_input in[2] = { { NULL, "/", -1, 0, 0, NULL, 0 },
                                     { NULL, "/big", -1, 0, 0, NULL, 0 } };
  struct hoist_layer_opts o = { HOIST_COMPRESS_GZIP, -1, 0, NULL, 0 };
  struct hoist_layer_plan *plans[2] = { NULL, NULL };
  struct hoist_layer_out out = { cap_open, cap_write, cap_close, NULL };
  struct hoist_layer_result res[2];
  struct hoist_layer_files files[2], back;
  struct hoist_err errs[2], err;
  struct capture c;
  int rcs[2], k;

  in[0].from = tmp_path(tree, "tree");
  in[1].from = tmp_path(f, "files-shrinking.bin");
  CHECK(write_mix(f, (size_t)2 << 20, 5) == 0);
  CHECK_OK(hoist_layer_plan(&in[0], 1, &o, &plans[0], &err), &err);
  CHECK_OK(hoist_layer_plan(&in[1], 1, &o, &plans[1], &err), &err);
  CHECK(truncate(f, (off_t)1 << 20) == 0);
  tmp_path(dir, "blobs-files-fail");
  CHECK(mkdir(dir, 0755) == 0);
  if (plans[0] && plans[1]) {
    CHECK(hoist_layer_write_all_files(plans, 2, dir, 2, res, files, rcs, errs) == HOIST_EIO);
    CHECK_OK(rcs[0], &errs[0]);
    CHECK(files[0].n == hoist_layer_plan_entries(plans[0]));
    CHECK(rcs[1] == HOIST_EIO && contains(errs[1].msg, "changed while it was read"));
    CHECK(files[1].n == 0 && files[1].entries == NULL);
    CHECK(count_dir(dir) == 1);
    hoist_layer_files_free(&files[0]);
    hoist_layer_files_free(&files[1]);

    /* the stream hook: layer 1's output refuses to open, layer 0's bytes are captured */
    CHECK(write_mix(f, (size_t)2 << 20, 5) == 0);
    hoist_layer_plan_free(plans[1]);
    plans[1] = NULL;
    CHECK_OK(hoist_layer_plan(&in[1], 1, &o, &plans[1], &err), &err);
    memset(&c, 0, sizeof c);
    c.failed_open = 1;
    out.ctx = &c;
    if (plans[1]) {
      CHECK(hoist_layer_stream_all_files(plans, 2, &out, 2, res, files, rcs, errs) == HOIST_EIO);
      CHECK_OK(rcs[0], &errs[0]);
      CHECK(rcs[1] == HOIST_EIO && files[1].n == 0 && files[1].entries == NULL);
      CHECK(write_file(tmp_path(cap, "files-captured.tar.gz"), c.p[0], c.n[0], 0644) == 0);
      memset(&back, 0, sizeof back);
      CHECK_OK(hoist_layer_files_read(cap, &back, &err), &err);
      CHECK(same_files(&files[0], &back));
      hoist_layer_files_free(&back);
      hoist_layer_files_free(&files[0]);
      hoist_layer_files_free(&files[1]);
    }
    for (k = 0; k < 2; k++)
      free(c.p[k]);
  }
  hoist_layer_plan_free(plans[0]);
  hoist_layer_plan_free(plans[1]);
  done("layer: file lists of failed layers are empty, the others kept (folder and stream hook)");
}

/* An output that refuses bytes at its k-th write (a push stream whose upload failed). */
struct refuser {
  int writes, fail_at, opened, closed, closed_ok;
};

static int ref_open(void *ctx, size_t i, struct hoist_err *err)
{
  (void)i;
  (void)err;
  ((struct refuser *)ctx)->opened++;
  return HOIST_OK;
}

static int ref_write(void *ctx, size_t i, const void *buf, size_t n, struct hoist_err *err)
{
  struct refuser *r = ctx;
  (void)i;
  (void)buf;
  (void)n;
  if (++r->writes == r->fail_at)
    return hoist_err_set(err, HOIST_EREMOTE, "the test's output refuses write %d", r->writes);
  return HOIST_OK;
}

static int ref_close(void *ctx, size_t i, const struct hoist_layer_result *res,
                     struct hoist_err *err)
{
  struct refuser *r = ctx;
  (void)i;
  (void)err;
  r->closed++;
  r->closed_ok += res != NULL;
  return HOIST_OK;
}

/*
** An output that fails at any one of its writes fails the layer with its error, is closed once
** as failed, and nothing leaks (the ASan and valgrind stages check): with 3,000 small files,
** some failures land while libarchive writes a header, which leaves it in its FATAL state.
*/
static void test_layer_output_refuses(void)
{
  char dir[PATH_MAX], p[PATH_MAX];
  struct hoist_layer_input in = { NULL, "/many", -1, 0, 0, NULL, 0 };
  struct hoist_layer_opts o = { HOIST_COMPRESS_GZIP, -1, 0, NULL, 0 };
  struct hoist_layer_plan *plan = NULL;
  struct hoist_layer_out out = { ref_open, ref_write, ref_close, NULL };
  struct hoist_layer_result res;
  struct hoist_err err;
  struct refuser r;
  unsigned char body[900];
  unsigned long long x = 42;
  int i, k, total, rc = 0, ok = 1;

  in.from = tmp_path(dir, "many-small");
  CHECK(make_dir(dir, 0755) == 0);
  for (i = 0; i < 3000; i++) {
    size_t n = 10 + (size_t)(x % 890), j;
    for (j = 0; j < n; j++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      body[j] = (unsigned char)('a' + x % 8);
    }
    snprintf(p, sizeof p, "%.4000s/f%04d.txt", dir, i);
    CHECK(write_file(p, body, n, 0644) == 0);
  }
  CHECK_OK(hoist_layer_plan(&in, 1, &o, &plan, &err), &err);
  if (!plan)
    return;
  memset(&r, 0, sizeof r);
  out.ctx = &r;
  CHECK(hoist_layer_stream_all(&plan, 1, &out, 2, &res, &rc, &err) == 0 && r.closed_ok == 1);
  total = r.writes;
  CHECK(total >= 10);
  for (k = 1; k <= total; k++) {
    memset(&r, 0, sizeof r);
    r.fail_at = k;
    memset(&err, 0, sizeof err);
    hoist_layer_stream_all(&plan, 1, &out, 2, &res, &rc, &err);
    ok &= rc == HOIST_EREMOTE && contains(err.msg, "refuses write") && r.opened == 1 &&
          r.closed == 1 && r.closed_ok == 0;
  }
  CHECK(ok);
  hoist_layer_plan_free(plan);
  done("layer: an output refusing any one of its writes");
}

/* ------------------------------------------------------------ tarfile */

#define SCAN_CAP 32

struct scan {
  char names[SCAN_CAP][256];
  char types[SCAN_CAP];
  long long sizes[SCAN_CAP];
  int n;
  char *data[SCAN_CAP];
  size_t len[SCAN_CAP];
  int stop_at;   /* entry number whose on_entry returns -1, or -1 */
};

static int scan_entry(void *ctx, const struct hoist_tar_entry *e)
{
  struct scan *s = ctx;
  const char *name = e->name;
  char type = e->type;
  long long size = e->size;
  if (s->n >= SCAN_CAP)
    return -1;
  snprintf(s->names[s->n], sizeof s->names[s->n], "%s", name);
  if (type == 'd' && s->names[s->n][0] && s->names[s->n][strlen(s->names[s->n]) - 1] == '/')
    s->names[s->n][strlen(s->names[s->n]) - 1] = '\0';  /* "bin/" */
  s->types[s->n] = type;
  s->sizes[s->n] = size;
  if (s->n == s->stop_at)
    return -1;
  s->n++;
  return 1;
}

static int scan_data(void *ctx, const char *name, const char *data, size_t len)
{
  struct scan *s = ctx;
  int k = s->n - 1;
  if (k < 0 || strcmp(s->names[k], name) != 0)
    return -1;
  s->data[k] = malloc(len ? len : 1);
  if (!s->data[k])
    return -1;
  memcpy(s->data[k], data, len);
  s->len[k] = len;
  return 0;
}

static void scan_init(struct scan *s)
{
  memset(s, 0, sizeof *s);
  s->stop_at = -1;
}

static void scan_release(struct scan *s)
{
  int i;
  for (i = 0; i < SCAN_CAP; i++)
    free(s->data[i]);
  scan_init(s);
}

static int scan_find(const struct scan *s, const char *name)
{
  int i;
  for (i = 0; i < s->n; i++)
    if (strcmp(s->names[i], name) == 0)
      return i;
  return -1;
}

/*
** The locale: hoist's main sets LC_CTYPE to C.UTF-8, but the cores are a
** library (unit tests, fuzzers, a future .so) and the "C" locale is what a
** bare container gives. There a UTF-8 name must either be stored as its bytes
** or be refused with an error; it must never crash. Each case runs in a child
** so that a crash is reported as a failure instead of ending the test.
*/
static int child_status(void (*fn)(void))
{
  pid_t pid;
  int status = 0;
  fflush(stdout);
  pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    setlocale(LC_CTYPE, "C");
    fn();
    _exit(99);
  }
  if (waitpid(pid, &status, 0) != pid)
    return -1;
  return status;
}

/* exit 0: written with the name intact; 10: refused with a message; 2: a wrong name
** (not 1, which is how ASan ends a process) */
static void child_layer_utf8(void)
{
  char dir[PATH_MAX], blobs[PATH_MAX], blob[PATH_MAX];
  struct hoist_layer_input in = { NULL, "/", -1, 0, 0, NULL, 0 };
  struct hoist_layer_opts o = { HOIST_COMPRESS_NONE, -1, 0, NULL, 0 };
  struct hoist_layer_result r;
  struct hoist_err err;
  struct tlist l;
  int rc;
  in.from = tmp_path(dir, "utf8only");
  tmp_path(blobs, "blobs-utf8-c");
  memset(&err, 0, sizeof err);
  rc = plan_write(&in, 1, &o, blobs, &r, NULL, &err);
  if (rc)
    _exit(err.code == rc && err.msg[0] ? 10 : 3);
  join(blob, blobs, r.digest + 7);
  setlocale(LC_CTYPE, "C.UTF-8");  /* the test's reader needs it; the writer was in "C" */
  if (read_layer(blob, &l) != 0)
    _exit(2);
  rc = l.n == 1 && strcmp(l.e[0].name, g_utf8) == 0 ? 0 : 2;
  tlist_free(&l);
  _exit(rc);
}

static void child_tar_utf8(void)
{
  char tar[PATH_MAX];
  struct hoist_tar_member m;
  struct hoist_err err;
  struct tlist l;
  int rc;
  memset(&m, 0, sizeof m);
  m.name = g_utf8;
  m.data = "x";
  m.len = 1;
  m.mode = 0644;
  tmp_path(tar, "utf8-c.tar");
  memset(&err, 0, sizeof err);
  rc = hoist_tar_write(tar, &m, 1, 0, &err);
  if (rc)
    _exit(err.code == rc && err.msg[0] ? 10 : 3);
  /* scanning it in the "C" locale: the name as written, or an error, never a crash */
  {
    struct scan s;
    scan_init(&s);
    memset(&err, 0, sizeof err);
    rc = hoist_tar_scan(tar, 16, scan_entry, scan_data, &s, &err);
    if (rc == HOIST_OK ? !(s.n == 1 && strcmp(s.names[0], g_utf8) == 0)
                       : !(err.code == rc && err.msg[0]))
      _exit(4);
    scan_release(&s);
  }
  setlocale(LC_CTYPE, "C.UTF-8");  /* the test's reader needs it; the writer was in "C" */
  if (read_layer(tar, &l) != 0)
    _exit(2);
  rc = l.n == 1 && strcmp(l.e[0].name, g_utf8) == 0 ? 0 : 2;
  tlist_free(&l);
  _exit(rc);
}

static void test_c_locale(void)
{
  char p[PATH_MAX];
  int st;
  CHECK(make_dir(tmp_path(p, "utf8only"), 0755) == 0);
  CHECK(write_str(tmp_path(p, "utf8only/%s", g_utf8), UTF8_TXT, 0644) == 0);
  CHECK(make_dir(tmp_path(p, "blobs-utf8-c"), 0755) == 0);
  st = child_status(child_layer_utf8);
  if (!(WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 10)))
    printf("  layer with a UTF-8 name in the C locale: %s %d\n",
           WIFSIGNALED(st) ? "killed by signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
  CHECK(WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 10));
  st = child_status(child_tar_utf8);
  if (!(WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 10)))
    printf("  tar member with a UTF-8 name in the C locale: %s %d\n",
           WIFSIGNALED(st) ? "killed by signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
  CHECK(WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 10));
  done("layer and tarfile: UTF-8 names in the C locale do not crash");
}

static void test_tarfile(void)
{
  static const char doc[] = "{\"manifest\":true}";
  char tar[PATH_MAX], src[PATH_MAX], p[PATH_MAX];
  struct hoist_tar_member m[2];
  struct hoist_err err;
  struct scan s;
  struct tlist l;
  int rc;

  tmp_path(src, "tar-src.bin");
  CHECK(write_file(src, g_big, 70000, 0600) == 0);  /* more than one 64 KiB block */
  memset(m, 0, sizeof m);
  m[0].name = "manifest.json";
  m[0].data = doc;
  m[0].len = sizeof doc - 1;
  m[0].mode = 0644;
  m[1].name = "blobs/sha256/abc";
  m[1].path = src;
  m[1].mode = 0640;
  tmp_path(tar, "archive.tar");
  CHECK_OK(hoist_tar_write(tar, m, 2, 1600000000LL, &err), &err);

  /* read back with libarchive: metadata */
  if (read_layer(tar, &l) == 0) {
    CHECK(l.n == 2);
    if (l.n == 2) {
      CHECK(strcmp(l.e[0].name, "manifest.json") == 0 && l.e[0].perm == 0644);
      CHECK(strcmp(l.e[1].name, "blobs/sha256/abc") == 0 && l.e[1].perm == 0640);
      CHECK(l.e[0].mtime == 1600000000LL && l.e[1].mtime == 1600000000LL);
      CHECK(l.e[0].uid == 0 && l.e[1].gid == 0 && !l.e[0].has_owner_name);
    }
    tlist_free(&l);
  } else {
    CHECK(!"the tar reads back");
  }

  /* scan: names, types and contents through the callbacks */
  scan_init(&s);
  CHECK_OK(hoist_tar_scan(tar, 1 << 20, scan_entry, scan_data, &s, &err), &err);
  CHECK(s.n == 2);
  CHECK(strcmp(s.names[0], "manifest.json") == 0 && s.types[0] == 'f');
  CHECK(strcmp(s.names[1], "blobs/sha256/abc") == 0 && s.types[1] == 'f');
  CHECK(s.len[0] == sizeof doc - 1 && s.data[0] && memcmp(s.data[0], doc, s.len[0]) == 0);
  CHECK(s.len[1] == 70000 && s.data[1] && memcmp(s.data[1], g_big, 70000) == 0);
  scan_release(&s);

  /* the bound: exactly fits, one byte less does not */
  CHECK_OK(hoist_tar_scan(tar, 70000, scan_entry, scan_data, &s, &err), &err);
  scan_release(&s);
  memset(&err, 0, sizeof err);
  rc = hoist_tar_scan(tar, 69999, scan_entry, scan_data, &s, &err);
  CHECK(rc == HOIST_ERANGE && err.code == rc && contains(err.msg, "blobs/sha256/abc"));
  scan_release(&s);

  /* a callback stopping the scan: EINVAL, with a message like every other failure */
  s.stop_at = 1;
  memset(&err, 0, sizeof err);
  rc = hoist_tar_scan(tar, 1 << 20, scan_entry, scan_data, &s, &err);
  CHECK(rc == HOIST_EINVAL);
  CHECK(err.code == HOIST_EINVAL && err.msg[0] != '\0');
  scan_release(&s);

  /* the layers hoist writes scan too (gzip), with every kind of entry typed */
  {
    char dir[PATH_MAX], blob[PATH_MAX];
    struct expect exp[16];
    size_t nexp = tree_expect(exp), i;
    DIR *d;
    struct dirent *e;
    tmp_path(dir, "blobs-gzip");
    blob[0] = '\0';
    d = opendir(dir);
    CHECK(d != NULL);
    while (d && (e = readdir(d)) != NULL)
      if (e->d_name[0] != '.')
        join(blob, dir, e->d_name);
    if (d)
      closedir(d);
    CHECK_OK(hoist_tar_scan(blob, BIG_SIZE, scan_entry, scan_data, &s, &err), &err);
    CHECK(s.n == (int)nexp);
    for (i = 0; i < nexp; i++) {
      static const char kinds[] = { 'f', 'd', 'l', 'h' };
      int k = scan_find(&s, exp[i].name);
      CHECK(k >= 0);
      if (k < 0)
        continue;
      CHECK(s.types[k] == kinds[exp[i].kind]);
      if (exp[i].kind == T_FILE) {
        CHECK(s.sizes[k] == (long long)exp[i].len && s.len[k] == exp[i].len && s.data[k]);
        if (s.len[k] == exp[i].len && s.data[k])
          CHECK(memcmp(s.data[k], exp[i].data ? exp[i].data : (const void *)g_big, s.len[k]) == 0);
      } else {
        CHECK(s.data[k] == NULL);  /* only files have content */
      }
    }
    scan_release(&s);
    /* the bound applies to each file: big.bin does not fit in 1 MiB - 1 */
    memset(&err, 0, sizeof err);
    rc = hoist_tar_scan(blob, BIG_SIZE - 1, scan_entry, scan_data, &s, &err);
    CHECK(rc == HOIST_ERANGE && contains(err.msg, "big.bin"));
    scan_release(&s);
  }

  /* not a tar, and no file at all */
  CHECK(write_str(tmp_path(p, "not-a-tar.txt"), "this is not a tar archive, just text\n", 0644) == 0);
  memset(&err, 0, sizeof err);
  rc = hoist_tar_scan(p, 1 << 20, scan_entry, scan_data, &s, &err);
  CHECK(rc != HOIST_OK && err.code == rc && contains(err.msg, p));
  CHECK(s.n == 0);
  scan_release(&s);
  memset(&err, 0, sizeof err);
  rc = hoist_tar_scan(tmp_path(p, "missing.tar"), 1 << 20, scan_entry, scan_data, &s, &err);
  CHECK(rc != HOIST_OK && err.code == rc && contains(err.msg, p));
  scan_release(&s);

  /* writing fails cleanly: a missing member file, a missing folder */
  m[1].path = tmp_path(p, "no-such-member");
  tmp_path(tar, "archive2.tar");
  memset(&err, 0, sizeof err);
  rc = hoist_tar_write(tar, m, 2, 0, &err);
  CHECK(rc == HOIST_EIO && contains(err.msg, p));
  CHECK(access(tar, F_OK) != 0);
  {
    char dir[PATH_MAX];
    int before;
    tmp_path(dir, "tardir");
    CHECK(make_dir(dir, 0755) == 0);
    tmp_path(tar, "tardir/out.tar");
    before = count_dir(dir);
    memset(&err, 0, sizeof err);
    rc = hoist_tar_write(tar, m, 2, 0, &err);
    CHECK(rc == HOIST_EIO && count_dir(dir) == before);  /* no temporary file left */
    m[1].path = src;
    tmp_path(tar, "no-such-dir/out.tar");
    memset(&err, 0, sizeof err);
    rc = hoist_tar_write(tar, m, 2, 0, &err);
    CHECK(rc == HOIST_EIO && contains(err.msg, tar));
  }
  done("tarfile: write and scan");
}

/* ------------------------------------------------------------ fsutil */

static void test_fsutil(void)
{
  char p[PATH_MAX], q[PATH_MAX], dir[PATH_MAX];
  struct hoist_err err;
  struct stat st1, st2;
  char *buf = NULL;
  size_t len = 0;
  int rc;

  tmp_path(dir, "fs");
  CHECK(make_dir(dir, 0755) == 0);

  /* mkdirs: nested, again, with a trailing slash, relative to nothing existing */
  CHECK_OK(hoist_fs_mkdirs(tmp_path(p, "fs/a/b/c/d"), 0755, &err), &err);
  CHECK(count_dir(p) == 0);
  CHECK_OK(hoist_fs_mkdirs(p, 0755, &err), &err);
  CHECK_OK(hoist_fs_mkdirs(tmp_path(p, "fs/a/b/e/"), 0755, &err), &err);
  CHECK(count_dir(tmp_path(p, "fs/a/b")) == 2);
  CHECK(write_str(tmp_path(p, "fs/file"), "x", 0644) == 0);
  memset(&err, 0, sizeof err);
  CHECK(hoist_fs_mkdirs(p, 0755, &err) != HOIST_OK && contains(err.msg, p));
  memset(&err, 0, sizeof err);
  CHECK(hoist_fs_mkdirs(tmp_path(p, "fs/file/sub"), 0755, &err) != HOIST_OK && err.code != 0);
  CHECK(hoist_fs_mkdirs("", 0755, &err) == HOIST_EINVAL);

  /* write_atomic: a new file with a mode, then replaced keeping its mode */
  tmp_path(p, "fs/w.txt");
  CHECK_OK(hoist_fs_write_atomic(p, "one", 3, NULL, 0640, 0, &err), &err);
  CHECK(file_is(p, "one", 3) && mode_of(p) == 0640);
  CHECK(chmod(p, 0604) == 0);
  CHECK_OK(hoist_fs_write_atomic(p, "second", 6, "\n", -1, 0, &err), &err);
  CHECK(file_is(p, "second\n", 7) && mode_of(p) == 0604);
  CHECK_OK(hoist_fs_write_atomic(p, "", 0, NULL, 0600, 0, &err), &err);
  CHECK(file_is(p, "", 0) && mode_of(p) == 0600);
  CHECK(count_dir(dir) == 3);  /* a, file, w.txt: no temporary file */
  /* through a symlink: the link stays, its target changes */
  CHECK(symlink("w.txt", tmp_path(q, "fs/w-link")) == 0);
  CHECK_OK(hoist_fs_write_atomic(q, "via link", 8, NULL, -1, 0, &err), &err);
  CHECK(lstat(q, &st1) == 0 && S_ISLNK(st1.st_mode));
  CHECK(file_is(p, "via link", 8) && mode_of(p) == 0600);
  /* into a missing folder: ENOENT, named */
  memset(&err, 0, sizeof err);
  rc = hoist_fs_write_atomic(tmp_path(p, "fs/nope/x"), "x", 1, NULL, -1, 0, &err);
  CHECK(rc == HOIST_ENOENT && err.code == rc && contains(err.msg, p));
  CHECK(count_dir(dir) == 4);

  /* read: bounded, exact fit, missing, folder, empty */
  CHECK(write_file(tmp_path(p, "fs/r.bin"), g_big, 100, 0644) == 0);
  CHECK_OK(hoist_fs_read(p, 100, &buf, &len, &err), &err);
  CHECK(buf && len == 100 && memcmp(buf, g_big, 100) == 0 && buf[100] == '\0');
  free(buf);
  buf = (char *)p;
  memset(&err, 0, sizeof err);
  rc = hoist_fs_read(p, 99, &buf, &len, &err);
  CHECK(rc == HOIST_ERANGE && buf == NULL && contains(err.msg, p));
  memset(&err, 0, sizeof err);
  rc = hoist_fs_read(tmp_path(q, "fs/missing"), 100, &buf, &len, &err);
  CHECK(rc == HOIST_ENOENT && buf == NULL && contains(err.msg, q));
  memset(&err, 0, sizeof err);
  rc = hoist_fs_read(dir, 100, &buf, &len, &err);
  CHECK(rc == HOIST_EINVAL && buf == NULL && contains(err.msg, dir));
  CHECK(write_file(tmp_path(p, "fs/empty"), "", 0, 0644) == 0);
  CHECK_OK(hoist_fs_read(p, 0, &buf, &len, &err), &err);
  CHECK(buf && len == 0 && buf[0] == '\0');
  free(buf);
  /* a big file, read in many blocks */
  CHECK(write_file(tmp_path(p, "fs/big"), g_big, BIG_SIZE, 0644) == 0);
  CHECK_OK(hoist_fs_read(p, BIG_SIZE, &buf, &len, &err), &err);
  CHECK(buf && len == BIG_SIZE && memcmp(buf, g_big, BIG_SIZE) == 0);
  free(buf);

  /* link_or_copy: the same inode on one file system; replacing; missing source */
  tmp_path(p, "fs/r.bin");
  tmp_path(q, "fs/linked.bin");
  CHECK_OK(hoist_fs_link_or_copy(p, q, &err), &err);
  CHECK(file_is(q, g_big, 100));
  CHECK(stat(p, &st1) == 0 && stat(q, &st2) == 0 && st1.st_ino == st2.st_ino);
  CHECK(unlink(q) == 0);
  CHECK(write_str(q, "old content", 0644) == 0);
  CHECK_OK(hoist_fs_link_or_copy(p, q, &err), &err);
  CHECK(file_is(q, g_big, 100));
  rc = count_dir(dir);
  /* again, when dst is already a link to src: still no temporary file left */
  CHECK_OK(hoist_fs_link_or_copy(p, q, &err), &err);
  CHECK(file_is(q, g_big, 100));
  CHECK(count_dir(dir) == rc);
  memset(&err, 0, sizeof err);
  rc = hoist_fs_link_or_copy(tmp_path(p, "fs/missing"), q, &err);
  CHECK(rc == HOIST_EIO && contains(err.msg, p));
  CHECK(file_is(q, g_big, 100));  /* untouched */
  /* a copy when linking is impossible (dst's folder is a different device, if /dev/shm is) */
  if (access("/dev/shm", W_OK) == 0) {
    char shm[PATH_MAX];
    snprintf(shm, sizeof shm, "/dev/shm/hoist-test-layer-%ld", (long)getpid());
    tmp_path(p, "fs/r.bin");
    if (hoist_fs_link_or_copy(p, shm, &err) == HOIST_OK) {
      CHECK(file_is(shm, g_big, 100));
      unlink(shm);
    }
  }

  /* remove_tree: nested files, symlinks not followed, missing is fine */
  CHECK(make_dir(tmp_path(p, "fs/keep"), 0755) == 0);
  CHECK(write_str(tmp_path(p, "fs/keep/precious"), "keep me", 0644) == 0);
  CHECK(symlink("../keep", tmp_path(p, "fs/a/b/c/to-keep")) == 0);
  CHECK(write_str(tmp_path(p, "fs/a/b/c/d/f"), "f", 0400) == 0);
  CHECK_OK(hoist_fs_remove_tree(tmp_path(p, "fs/a"), &err), &err);
  CHECK(access(p, F_OK) != 0);
  CHECK(file_is(tmp_path(q, "fs/keep/precious"), "keep me", 7));
  CHECK_OK(hoist_fs_remove_tree(p, &err), &err);  /* gone already */
  CHECK_OK(hoist_fs_remove_tree(tmp_path(p, "fs/w-link"), &err), &err);  /* a link alone */
  CHECK(access(tmp_path(p, "fs/w.txt"), F_OK) == 0);
  done("fsutil");
}

int main(int argc, char **argv)
{
  const char *base = getenv("TMPDIR");
  char tree[PATH_MAX];
  struct hoist_err err;
  (void)argc;
  (void)argv;
  /* as hoist's main does: file names are UTF-8 bytes, and libarchive converts through ctype */
  if (!setlocale(LC_CTYPE, "C.UTF-8"))
    setlocale(LC_CTYPE, "");
  if (!base || !*base)
    base = "/tmp";
  snprintf(g_tmp, sizeof g_tmp, "%s/hoist-test-layer.XXXXXX", base);
  if (!mkdtemp(g_tmp)) {
    printf("cannot create a temporary folder in %s\n", base);
    return 1;
  }
  if (make_tree(tmp_path(tree, "tree")) != 0) {
    printf("cannot create the test tree in %s\n", g_tmp);
    hoist_fs_remove_tree(g_tmp, &err);
    free(g_big);
    return 1;
  }
  test_digest();
  test_c_locale();  /* before any thread: a forked child then has nothing of them to leak */
  test_layer_write();
  test_layer_reproducible();
  test_layer_mapping();
  test_layer_escapes();
  test_layer_failures();
  test_owner_parse();
  test_layer_owner_exclude();
  test_layer_threads();
  test_layer_plan_threads();
  test_layer_block_edges();
  test_layer_shrink_in_flight();
  test_layer_stream_hook();
  test_layer_files();
  test_layer_files_failures();
  test_layer_output_refuses();
  test_tarfile();
  test_fsutil();
  if (hoist_fs_remove_tree(g_tmp, &err) != HOIST_OK)
    printf("cannot remove %s: %s\n", g_tmp, err.msg);
  free(g_big);
  printf("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
