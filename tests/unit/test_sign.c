/*
** test_sign: the signing cores without Lua: base64 (vectors, strictness), P-256 keys (generate,
** PEM and encrypted PEM round trips, cosign's envelope, refusals), ECDSA sign/verify, and
** layerfiles (every entry of tars written by tarfile.c, hashed, on several threads), their
** records (filesrecord.c), layers applied (imagefiles.c) and an SPDX files part (spdxfiles.c).
**
**   test_sign [CASES_DIR]   (the argument is accepted and ignored)
**
** Prints each failure as test_sign.c:LINE, then "N passed, M failed"; exits 1 on any failure.
*/
#include "base64.h"
#include "err.h"
#include "filesrecord.h"
#include "fsutil.h"
#include "imagefiles.h"
#include "layerfiles.h"
#include "sign.h"
#include "spdxfiles.h"
#include "tarfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int n_passed, n_failed, case_failed;

#define CHECK(cond) check(__LINE__, (cond), #cond)

static void check(int line, int ok, const char *what)
{
  if (ok)
    return;
  case_failed++;
  printf("test_sign.c:%d: check failed: %s\n", line, what);
}

static void done(void)
{
  if (case_failed)
    n_failed++;
  else
    n_passed++;
  case_failed = 0;
}

static void test_base64(void)
{
  static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  static const char *const bad[] = {"Zg=", "Zh==", "Zm9=Yg==", "Zm 9", "====", "Z===", "Zm9vYg=a"};
  struct hoist_err err;
  size_t i, n;
  for (i = 0; i < sizeof plain / sizeof *plain; i++) {
    char *s = NULL;
    unsigned char *d = NULL;
    CHECK(hoist_base64_encode(plain[i], strlen(plain[i]), &s, &n, &err) == 0);
    CHECK(s && strcmp(s, coded[i]) == 0 && n == strlen(coded[i]));
    CHECK(hoist_base64_decode(coded[i], strlen(coded[i]), &d, &n, &err) == 0);
    CHECK(d && n == strlen(plain[i]) && memcmp(d, plain[i], n) == 0);
    free(s);
    free(d);
  }
  for (i = 0; i < sizeof bad / sizeof *bad; i++) {
    unsigned char *d = NULL;
    CHECK(hoist_base64_decode(bad[i], strlen(bad[i]), &d, &n, &err) == HOIST_EINVAL);
    CHECK(d == NULL);
  }
  done();
}

static void test_keys(void)
{
  struct hoist_key *k = NULL, *pub = NULL, *back = NULL, *cos = NULL, *none = NULL;
  struct hoist_err err;
  char *pem = NULL, *epem = NULL, *cpem = NULL, *ppem = NULL, id1[72], id2[72];
  size_t len, elen, clen, plen, siglen;
  unsigned char *sig = NULL;
  const char msg[] = "payload";

  CHECK(hoist_key_generate(&k, &err) == 0);
  CHECK(hoist_key_private_pem(k, NULL, 0, &pem, &len, &err) == 0);
  CHECK(pem && strstr(pem, "-----BEGIN PRIVATE KEY-----") == pem);
  CHECK(hoist_key_private_pem(k, "pw", 2, &epem, &elen, &err) == 0);
  CHECK(epem && strstr(epem, "-----BEGIN ENCRYPTED PRIVATE KEY-----") == epem);
  CHECK(hoist_key_cosign_pem(k, "pw", 2, &cpem, &clen, &err) == 0);
  CHECK(cpem && strstr(cpem, "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----") == cpem);
  CHECK(hoist_key_public_pem(k, &ppem, &plen, &err) == 0);
  CHECK(hoist_key_load_public(ppem, plen, "pub", &pub, &err) == 0);
  CHECK(pub && !hoist_key_is_private(pub));
  CHECK(hoist_key_id(k, id1, &err) == 0 && pub && hoist_key_id(pub, id2, &err) == 0 && strcmp(id1, id2) == 0);

  CHECK(hoist_key_sign(k, msg, sizeof msg - 1, &sig, &siglen, &err) == 0);
  CHECK(pub && hoist_key_verify(pub, msg, sizeof msg - 1, sig, siglen, &err) == 0);
  CHECK(pub && hoist_key_verify(pub, msg, sizeof msg - 2, sig, siglen, &err) == HOIST_EINVAL);
  sig[siglen / 2] ^= 1;
  CHECK(pub && hoist_key_verify(pub, msg, sizeof msg - 1, sig, siglen, &err) == HOIST_EINVAL);
  CHECK(pub && hoist_key_sign(pub, msg, 1, &sig, &siglen, &err) == HOIST_EINVAL);   /* sig untouched */
  free(sig);

  /* encrypted PKCS#8 and cosign's envelope: right, wrong and missing passwords */
  CHECK(hoist_key_load_private(epem, elen, "pw", 2, "k", &back, &err) == 0);
  hoist_key_free(back);
  back = NULL;
  CHECK(hoist_key_load_private(epem, elen, "px", 2, "k", &back, &err) == HOIST_EAUTH && back == NULL);
  CHECK(strstr(err.msg, "wrong password for k") != NULL && strstr(err.msg, "px") == NULL);
  CHECK(hoist_key_load_private(epem, elen, NULL, 0, "k", &back, &err) == HOIST_EAUTH);
  CHECK(strstr(err.msg, "HOIST_SIGNING_PASSWORD") != NULL);
  CHECK(hoist_key_load_private(cpem, clen, "pw", 2, "c", &cos, &err) == 0);
  CHECK(cos && hoist_key_id(cos, id2, &err) == 0 && strcmp(id1, id2) == 0);
  CHECK(hoist_key_load_private(cpem, clen, "", 0, "c", &none, &err) == HOIST_EAUTH && none == NULL);
  /* the wrong kinds of PEM */
  CHECK(hoist_key_load_private(ppem, plen, NULL, 0, "p", &none, &err) == HOIST_EINVAL);
  CHECK(strstr(err.msg, "is a public key") != NULL);
  CHECK(hoist_key_load_public(pem, len, "k", &none, &err) == HOIST_EINVAL);
  CHECK(hoist_key_load_private("hello", 5, NULL, 0, "x", &none, &err) == HOIST_EINVAL);
  CHECK(hoist_key_load_private("-----BEGIN FOO-----\n-----END FOO-----\n", 38, NULL, 0, "x", &none, &err) ==
        HOIST_EINVAL);
  CHECK(none == NULL);

  free(pem);
  free(epem);
  free(cpem);
  free(ppem);
  hoist_key_free(k);
  hoist_key_free(pub);
  hoist_key_free(cos);
  done();
}

static const struct hoist_layer_entry *find(const struct hoist_layer_files *f, const char *name)
{
  size_t i;
  for (i = 0; i < f->n; i++)
    if (strcmp(f->entries[i].name, name) == 0)
      return &f->entries[i];
  return NULL;
}

static void test_layerfiles(void)
{
  char dir[] = "/tmp/hoist-test-sign-XXXXXX", p1[64], p2[64];
  const char *paths[3];
  struct hoist_tar_member a[] = {
    {"./ui/index.html", NULL, "abc", 3, 0644},
    {"/empty", NULL, "", 0, 0600},
  };
  struct hoist_tar_member b[] = {{"bin/tool", NULL, "xyz\n", 4, 0755}};
  struct hoist_layer_files out[3];
  struct hoist_err errs[3];
  int rcs[3];
  const struct hoist_layer_entry *e;

  CHECK(mkdtemp(dir) != NULL);
  snprintf(p1, sizeof p1, "%s/a.tar", dir);
  snprintf(p2, sizeof p2, "%s/b.tar", dir);
  CHECK(hoist_tar_write(p1, a, 2, 0, &errs[0]) == 0);
  CHECK(hoist_tar_write(p2, b, 1, 0, &errs[0]) == 0);
  paths[0] = p1;
  paths[1] = p2;
  paths[2] = p1;
  CHECK(hoist_layer_files_read_all(paths, 3, 2, out, rcs, errs) == 0);
  CHECK(out[0].n == 2 && out[1].n == 1 && out[2].n == 2);
  e = find(&out[0], "ui/index.html");
  CHECK(e && e->type == 'f' && e->size == 3 && e->mode == 0644);
  CHECK(e && strcmp(e->sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
  CHECK(e && strcmp(e->sha1, "a9993e364706816aba3e25717850c26c9cd0d89d") == 0);
  e = find(&out[0], "empty");
  CHECK(e && e->size == 0 && strcmp(e->sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
  e = find(&out[1], "bin/tool");
  CHECK(e && e->mode == 0755 && e->size == 4);
  hoist_layer_files_free(&out[0]);
  hoist_layer_files_free(&out[1]);
  hoist_layer_files_free(&out[2]);

  /* a missing layer and a damaged one fail with a message; nothing is left allocated */
  snprintf(p2, sizeof p2, "%s/missing.tar", dir);
  paths[1] = p2;
  CHECK(hoist_layer_files_read_all(paths, 2, 2, out, rcs, errs) == HOIST_EIO);
  CHECK(rcs[0] == 0 && rcs[1] == HOIST_EIO && strstr(errs[1].msg, "missing.tar") != NULL);
  CHECK(out[1].n == 0 && out[1].entries == NULL);
  hoist_layer_files_free(&out[0]);
  {
    FILE *f = fopen(p2, "wb");
    CHECK(f != NULL);
    if (f) {
      fputs("this is not a tar archive at all, not even close", f);
      fclose(f);
    }
    CHECK(hoist_layer_files_read(p2, &out[0], &errs[0]) != 0 && out[0].n == 0);
  }
  unlink(p1);
  unlink(p2);
  snprintf(p2, sizeof p2, "%s/b.tar", dir);
  unlink(p2);
  rmdir(dir);
  done();
}

/* Adds an entry to f (entries allocated for 8). */
static void add(struct hoist_layer_files *f, const char *name, char type, const char *link, const char *hash)
{
  struct hoist_layer_entry *e = &f->entries[f->n++];
  struct hoist_err err;
  CHECK(hoist_layer_entry_init(e, name, type, 0644, link, &err) == 0);
  if (type == 'f') {
    memset(e->sha256, hash[0], 64);
    memset(e->sha1, hash[0], 40);
    e->size = 1;
  }
}

static void test_records_and_spdx(void)
{
  char dir[] = "/tmp/hoist-test-spdx-XXXXXX", rec[80], frag[80], doc[80], digest[HOIST_DIGEST_LEN + 1];
  struct hoist_layer_files l1 = { calloc(8, sizeof(struct hoist_layer_entry)), 0 };
  struct hoist_layer_files l2 = { calloc(8, sizeof(struct hoist_layer_entry)), 0 }, back;
  const struct hoist_layer_files *layers[2] = { &l1, &l2 };
  struct hoist_image_files files;
  struct hoist_spdx_fragment fr, fr2;
  struct hoist_err err;
  unsigned long long size = 0;
  char *text = NULL;
  size_t len = 0, i;

  CHECK(mkdtemp(dir) != NULL);
  add(&l1, "etc", 'd', NULL, NULL);
  add(&l1, "etc/a", 'f', NULL, "a");
  add(&l1, "etc/b", 'f', NULL, "b");
  add(&l1, "bin/sh", 'f', NULL, "c");
  add(&l2, "etc/.wh.a", 'f', NULL, "0");
  add(&l2, "etc/hard", 'h', "etc/b", NULL);
  add(&l2, "bin", 'l', "usr/bin", NULL);   /* a symlink replaces the folder bin and its file */
  add(&l2, "z\"q", 'f', NULL, "d");

  /* a record reads back as written; a cut one is no record */
  snprintf(rec, sizeof rec, "%s/rec.jsonl", dir);
  CHECK(hoist_files_record_write(rec, &l2, &err) == 0);
  CHECK(hoist_files_record_read(rec, &back, &err) == 0);
  CHECK(back.n == l2.n);
  for (i = 0; i < back.n && i < l2.n; i++) {
    CHECK(strcmp(back.entries[i].name, l2.entries[i].name) == 0 && back.entries[i].type == l2.entries[i].type);
    CHECK(strcmp(back.entries[i].sha256, l2.entries[i].sha256) == 0 && back.entries[i].size == l2.entries[i].size);
    CHECK((back.entries[i].link == NULL) == (l2.entries[i].link == NULL));
  }
  hoist_layer_files_free(&back);
  CHECK(truncate(rec, 60) == 0);
  CHECK(hoist_files_record_read(rec, &back, &err) == HOIST_EINVAL && back.n == 0 && back.entries == NULL);
  CHECK(strstr(err.msg, "not a whole file list record") != NULL);
  unlink(rec);
  CHECK(hoist_files_record_read(rec, &back, &err) == HOIST_ENOENT);

  /* applied: the whiteout, the hard link, the symlink over a folder; sorted by path */
  CHECK(hoist_image_files_apply(layers, 2, &files, &err) == 0);
  CHECK(files.n == 3);
  if (files.n == 3) {
    CHECK(strcmp(files.files[0].path, "etc/b") == 0 && strcmp(files.files[1].path, "etc/hard") == 0);
    CHECK(files.files[1].content == &l1.entries[2]);
    CHECK(strcmp(files.files[2].path, "z\"q") == 0);
  }

  /* the fragment, read back, and the document around it */
  snprintf(frag, sizeof frag, "%s/frag", dir);
  snprintf(doc, sizeof doc, "%s/doc.json", dir);
  CHECK(hoist_spdx_fragment_write(&files, frag, &fr, &err) == 0);
  CHECK(fr.count == 3 && strlen(fr.code) == 40);
  CHECK(hoist_spdx_fragment_read(frag, &fr2, &err) == 0 && fr2.count == 3 && strcmp(fr2.code, fr.code) == 0);
  CHECK(hoist_spdx_document_write(doc, frag, "{\"files\":", ",\"ids\":", "}", digest, &size, &err) == 0);
  CHECK(hoist_fs_read(doc, 1 << 20, &text, &len, &err) == 0);
  CHECK(size == len && hoist_digest_valid(digest));
  {
    static const char start[] = "{\"files\":[{\"SPDXID\":\"SPDXRef-File-";
    CHECK(text && strncmp(text, start, sizeof start - 1) == 0);
  }
  CHECK(text && strstr(text, "\"fileName\":\"./z\\\"q\"}],\"ids\":[\"SPDXRef-File-") != NULL);
  CHECK(text && text[len - 1] == '}' && text[len - 2] == ']');
  free(text);
  /* a fragment cut short is refused, and no document is left */
  CHECK(truncate(frag, 100) == 0);
  unlink(doc);
  CHECK(hoist_spdx_document_write(doc, frag, "", "", "", digest, &size, &err) == HOIST_EINVAL);
  CHECK(access(doc, F_OK) != 0);
  unlink(frag);
  CHECK(hoist_spdx_fragment_read(frag, &fr2, &err) == HOIST_ENOENT);
  hoist_image_files_free(&files);

  /* a name that is not UTF-8 cannot be listed, and says which */
  add(&l2, "bad\xff", 'f', NULL, "e");
  CHECK(hoist_image_files_apply(layers, 2, &files, &err) == 0);
  CHECK(hoist_spdx_fragment_write(&files, frag, &fr, &err) == HOIST_EINVAL && strstr(err.msg, "bad\\xff") != NULL);
  CHECK(access(frag, F_OK) != 0);
  hoist_image_files_free(&files);
  hoist_layer_files_free(&l1);
  hoist_layer_files_free(&l2);
  rmdir(dir);
  done();
}

int main(void)
{
  test_base64();
  test_keys();
  test_layerfiles();
  test_records_and_spdx();
  printf("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
