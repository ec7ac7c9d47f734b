/*
** fuzz_ref: libFuzzer target for the image reference parser (ref.h).
**
** The input is copied to a buffer of exactly its length, so reads past len
** are caught, and parsed. Besides crashes, leaks and UB, the target aborts
** when an invariant breaks:
**   - a failure returns no reference and a one-line "invalid reference '...'"
**     message whose code matches the status;
**   - a reference's fields agree: name is registry/repository (at most 255
**     characters), canonical is name[:tag][@digest], reference is the digest,
**     else the tag, else "latest", api_host differs from registry only for
**     docker.io, loopback agrees with hoist_ref_is_loopback;
**   - each part keeps to its grammar, checked here character by character;
**   - the canonical form, with and without "docker://", parses again to the
**     same fields.
** hoist_ref_is_loopback is also run on the raw input.
*/
#include "ref.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what, const char *a, const char *b) __attribute__((noreturn));
static void broken(const char *what, const char *a, const char *b)
{
  fprintf(stderr, "fuzz_ref: invariant broken: %s ('%s', '%s')\n", what, a ? a : "(null)",
          b ? b : "(null)");
  abort();
}

static int same(const char *a, const char *b)
{
  if (!a || !b)
    return a == b;
  return strcmp(a, b) == 0;
}

static void check_message(int rc, const struct hoist_err *err)
{
  size_t i;
  if (err->code != rc)
    broken("err.code differs from the status", err->msg, NULL);
  if (strncmp(err->msg, "invalid reference '", 19) != 0)
    broken("message does not start with \"invalid reference '\"", err->msg, NULL);
  for (i = 0; err->msg[i]; i++)
    if ((unsigned char)err->msg[i] < 0x20 || (unsigned char)err->msg[i] >= 0x7f)
      broken("message holds a control or non-ASCII byte", err->msg, NULL);
}

/* Independent of ref.c: lowercase alnum runs separated by '.', '_', '__', '-'+, and '/'. */
static int repository_ok(const char *s)
{
  size_t i, n = strlen(s);
  if (n == 0)
    return 0;
  for (i = 0; i < n; i++) {
    char c = s[i], prev = i ? s[i - 1] : '/', next = s[i + 1];
    int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum)
      continue;
    if (c != '/' && c != '.' && c != '_' && c != '-')
      return 0;
    /* a separator sits between alphanumerics, or inside a run of '-' or "__" */
    if (prev == '/' || prev == '.' || (prev == '_' && (c != '_' || (i >= 2 && s[i - 2] == '_'))))
      return 0;
    if (prev == '-' && c != '-')
      return 0;
    if (next == '\0' || next == '/' || next == '.')
      return 0;
  }
  return 1;
}

static int tag_ok(const char *t)
{
  size_t i, n = strlen(t);
  if (n == 0 || n > HOIST_REF_TAG_MAX)
    return 0;
  for (i = 0; i < n; i++) {
    char c = t[i];
    int word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!word && (i == 0 || (c != '.' && c != '-')))
      return 0;
  }
  return 1;
}

static int digest_ok(const char *d)
{
  const char *colon = strchr(d, ':');
  size_t i, hex;
  if (!colon)
    return 0;
  if (colon - d == 6 && memcmp(d, "sha256", 6) == 0)
    hex = 64;
  else if (colon - d == 6 && memcmp(d, "sha384", 6) == 0)
    hex = 96;
  else if (colon - d == 6 && memcmp(d, "sha512", 6) == 0)
    hex = 128;
  else
    return 0;
  for (i = 0; colon[1 + i]; i++)
    if (!((colon[1 + i] >= '0' && colon[1 + i] <= '9') || (colon[1 + i] >= 'a' && colon[1 + i] <= 'f')))
      return 0;
  return i == hex;
}

static void compare(const struct hoist_ref *a, const struct hoist_ref *b, const char *what)
{
  if (!same(a->registry, b->registry) || !same(a->api_host, b->api_host) ||
      !same(a->repository, b->repository) || !same(a->tag, b->tag) ||
      !same(a->digest, b->digest) || !same(a->reference, b->reference) ||
      !same(a->name, b->name) || !same(a->canonical, b->canonical) || a->loopback != b->loopback)
    broken(what, a->canonical, b->canonical);
}

static void check_ref(const struct hoist_ref *r)
{
  struct hoist_ref *again = NULL;
  struct hoist_err err;
  size_t reg_n, repo_n, name_n, canon_n, off;
  char *buf;
  int rc;

  if (!r->registry || !r->api_host || !r->repository || !r->reference || !r->name || !r->canonical)
    broken("a field that is never NULL is NULL", r->canonical, NULL);
  if (hoist_ref_string(r) != r->canonical)
    broken("hoist_ref_string is not ->canonical", r->canonical, NULL);
  reg_n = strlen(r->registry);
  repo_n = strlen(r->repository);
  name_n = strlen(r->name);
  if (name_n != reg_n + 1 + repo_n || memcmp(r->name, r->registry, reg_n) != 0 ||
      r->name[reg_n] != '/' || strcmp(r->name + reg_n + 1, r->repository) != 0)
    broken("name is not registry/repository", r->name, r->registry);
  if (name_n > HOIST_REF_NAME_MAX)
    broken("name longer than 255", r->name, NULL);
  canon_n = strlen(r->canonical);
  if (canon_n < name_n || memcmp(r->canonical, r->name, name_n) != 0)
    broken("canonical does not start with name", r->canonical, r->name);
  off = name_n;
  if (r->tag) {
    size_t t = strlen(r->tag);
    if (r->canonical[off] != ':' || strncmp(r->canonical + off + 1, r->tag, t) != 0)
      broken("canonical lacks the tag", r->canonical, r->tag);
    off += 1 + t;
  }
  if (r->digest) {
    if (r->canonical[off] != '@' || strcmp(r->canonical + off + 1, r->digest) != 0)
      broken("canonical lacks the digest", r->canonical, r->digest);
    off += 1 + strlen(r->digest);
  }
  if (off != canon_n)
    broken("canonical has more than name:tag@digest", r->canonical, NULL);
  if (!same(r->reference, r->digest ? r->digest : r->tag ? r->tag : "latest"))
    broken("reference is not digest, else tag, else latest", r->canonical, r->reference);
  if (strcmp(r->registry, "docker.io") == 0) {
    if (strcmp(r->api_host, "registry-1.docker.io") != 0)
      broken("docker.io without registry-1.docker.io", r->canonical, r->api_host);
    if (!strchr(r->repository, '/'))
      broken("a Docker Hub repository without a namespace", r->canonical, NULL);
  } else if (strcmp(r->api_host, r->registry) != 0) {
    broken("api_host differs from registry", r->registry, r->api_host);
  }
  if (strcmp(r->registry, "index.docker.io") == 0)
    broken("index.docker.io was not normalized", r->canonical, NULL);
  if (!repository_ok(r->repository))
    broken("repository breaks the grammar", r->repository, NULL);
  if (r->tag && !tag_ok(r->tag))
    broken("tag breaks the grammar", r->tag, NULL);
  if (r->digest && !digest_ok(r->digest))
    broken("digest breaks the grammar", r->digest, NULL);
  if (r->loopback != hoist_ref_is_loopback(r->registry))
    broken("loopback disagrees with hoist_ref_is_loopback", r->registry, NULL);

  buf = malloc(canon_n + 9);
  if (!buf)
    return;
  memcpy(buf, r->canonical, canon_n);
  rc = hoist_ref_parse(buf, canon_n, &again, &err);
  if (rc != 0 || !again)
    broken("canonical does not parse again", r->canonical, err.msg);
  compare(r, again, "canonical parses to other fields");
  hoist_ref_free(again);
  again = NULL;
  memcpy(buf, "docker://", 9);
  memcpy(buf + 9, r->canonical, canon_n);
  rc = hoist_ref_parse(buf, canon_n + 9, &again, &err);
  if (rc != 0 || !again)
    broken("docker:// + canonical does not parse", r->canonical, err.msg);
  compare(r, again, "docker:// + canonical parses to other fields");
  hoist_ref_free(again);
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct hoist_ref *r = NULL;
  struct hoist_err err;
  char *buf = malloc(size ? size : 1), *z;
  int rc;
  if (!buf)
    return 0;
  if (size)
    memcpy(buf, data, size);
  err.code = 0;
  err.msg[0] = '\0';
  rc = hoist_ref_parse(buf, size, &r, &err);
  if (rc != 0) {
    if (r)
      broken("parse failed but returned a reference", NULL, NULL);
    check_message(rc, &err);
  } else {
    if (!r)
      broken("parse succeeded without a reference", NULL, NULL);
    check_ref(r);
  }
  hoist_ref_free(r);
  r = NULL;
  if (hoist_ref_parse(buf, size, &r, NULL) != rc)
    broken("a NULL err changes the status", NULL, NULL);
  hoist_ref_free(r);
  free(buf);

  /* the loopback test on the raw input, as a string */
  z = malloc(size + 1);
  if (z) {
    if (size)
      memcpy(z, data, size);
    z[size] = '\0';
    (void)hoist_ref_is_loopback(z);
    free(z);
  }
  return 0;
}
