/*
** test_manifest: data-driven tests of the manifest and index decoder
** (manifest.h).
**
**   test_manifest CASES_DIR
**
** Each CASES_DIR/manifest/NAME.expect is one case; its body is NAME.json
** beside it (or the file a "body" line names). An .expect file holds one
** directive a line; '#' starts a comment line:
**
**   body FILE             the body is FILE (in the same folder), not NAME.json
**   hint TEXT             the media type hint: the rest of the line, "-" for
**                         NULL, "" for the empty string. Several hint lines
**                         run the case once per hint, all expecting the same;
**                         no hint line runs it once with NULL.
**   error CODE TEXT       the parse fails with CODE (EINVAL, ERANGE) and an
**                         err.msg containing TEXT.
**   kind image|index      the parse succeeds, and then every field is checked:
**   media_type MT         pub.media_type
**   docker 0|1
**   config MT DIGEST SIZE [ATTR...]
**   layer MT DIGEST SIZE [ATTR...]     one line per layer, in order
**   manifest MT DIGEST SIZE [ATTR...]  one line per child, in order
**   subject MT DIGEST SIZE [ATTR...]
**   artifact_type MT
**   annotation KEY VALUE  one line per top-level annotation, in order (VALUE
**                         is the rest of the line)
**
** ATTRs of a descriptor: platform=OS/ARCH[/VARIANT], os.version=V,
** artifactType=MT, annotations=N (how many), alg=sha256|sha512|other. An ATTR
** left out wants the field absent (alg: what the digest's prefix says).
** Counts of layers, manifests and annotations must match the lines exactly.
**
** Bodies are passed in buffers of exactly their length, so ASan and valgrind
** catch over-reads. Every success is also parsed again with its media type as
** the hint and must give the same result; every call is repeated with a NULL
** err and must give the same status. Generated cases cover the bounds (entry
** counts, body size, size 2^53), and every allocation of a few parses is
** made to fail in turn (ENOMEM, nothing leaked). Prints each failure as file: message, then
** "N passed, M failed"; exits 1 on any failure.
*/
#include "manifest.h"

#include <jansson.h>

#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES 256
#define MAX_HINTS 8

static int n_passed, n_failed;

struct expect {
  const char *name;       /* for messages: the .expect file */
  char *lines[MAX_LINES]; /* directives, NUL-terminated, in order */
  int n;
};

struct run {
  const char *name;
  const char *hint;
  int failed;
};

static void failf(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failf(struct run *r, const char *fmt, ...)
{
  va_list ap;
  r->failed++;
  printf("%s (hint %s%s%s): ", r->name, r->hint ? "'" : "", r->hint ? r->hint : "NULL",
         r->hint ? "'" : "");
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
}

static int same(const char *a, const char *b)
{
  if (!a || !b)
    return a == b;
  return strcmp(a, b) == 0;
}

static void check_str(struct run *r, const char *what, const char *want, const char *got)
{
  if (!same(want, got))
    failf(r, "%s: expected '%s', got '%s'", what, want ? want : "(null)", got ? got : "(null)");
}

static char *read_file(const char *path, size_t *len)
{
  FILE *fp = fopen(path, "rb");
  char *buf = NULL;
  long n;
  if (!fp)
    return NULL;
  if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0) {
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
      free(buf);
      buf = NULL;
    }
    if (buf) {
      buf[n] = '\0';
      *len = (size_t)n;
    }
  }
  fclose(fp);
  return buf;
}

/* A copy in a buffer of exactly n bytes (no NUL after), for length-taking calls. */
static char *exact(const char *s, size_t n)
{
  char *p = malloc(n ? n : 1);
  if (p && n)
    memcpy(p, s, n);
  return p;
}

/* Splits a line into at most max space-separated words, in place; returns the count. */
static int split(char *s, char **w, int max)
{
  int n = 0;
  while (*s && n < max) {
    while (*s == ' ')
      s++;
    if (!*s)
      break;
    w[n++] = s;
    while (*s && *s != ' ')
      s++;
    if (*s)
      *s++ = '\0';
  }
  return n;
}

/* ---- the checks of one successful parse ---- */

static const char *alg_name(enum hoist_digest_alg a)
{
  return a == HOIST_DIGEST_SHA256 ? "sha256" : a == HOIST_DIGEST_SHA512 ? "sha512" : "other";
}

static const char *alg_of(const char *digest)
{
  if (strncmp(digest, "sha256:", 7) == 0)
    return "sha256";
  if (strncmp(digest, "sha512:", 7) == 0)
    return "sha512";
  return "other";
}

/* "MT DIGEST SIZE [ATTR...]" (a copy of the directive's arguments) against d. */
static void check_descriptor(struct run *r, const char *what, const char *args,
                             const struct hoist_descriptor *d)
{
  char *copy = strdup(args), *w[16], platform[256];
  const char *want_platform = NULL, *want_osv = NULL, *want_at = NULL, *want_alg = NULL;
  long want_ann = 0;
  int n, i;
  if (!copy)
    return;
  n = split(copy, w, 16);
  if (n < 3) {
    failf(r, "malformed case: %s needs MT DIGEST SIZE", what);
    free(copy);
    return;
  }
  for (i = 3; i < n; i++) {
    if (strncmp(w[i], "platform=", 9) == 0)
      want_platform = w[i] + 9;
    else if (strncmp(w[i], "os.version=", 11) == 0)
      want_osv = w[i] + 11;
    else if (strncmp(w[i], "artifactType=", 13) == 0)
      want_at = w[i] + 13;
    else if (strncmp(w[i], "annotations=", 12) == 0)
      want_ann = strtol(w[i] + 12, NULL, 10);
    else if (strncmp(w[i], "alg=", 4) == 0)
      want_alg = w[i] + 4;
    else
      failf(r, "malformed case: %s: unknown attribute '%s'", what, w[i]);
  }
  check_str(r, what, w[0], d->media_type);
  check_str(r, what, w[1], d->digest);
  if (d->size != strtoll(w[2], NULL, 10))
    failf(r, "%s: size: expected %s, got %lld", what, w[2], d->size);
  check_str(r, what, want_alg ? want_alg : alg_of(w[1]), alg_name(d->digest_alg));
  check_str(r, what, want_at, d->artifact_type);
  if ((long)d->n_annotations != want_ann)
    failf(r, "%s: expected %ld annotations, got %zu", what, want_ann, d->n_annotations);
  if (d->n_annotations && !d->annotations)
    failf(r, "%s: annotations counted but NULL", what);
  if (!d->platform) {
    if (want_platform || want_osv)
      failf(r, "%s: expected platform %s, got none", what, want_platform ? want_platform : "");
  } else {
    if (!d->platform->os || !d->platform->architecture)
      failf(r, "%s: platform without os or architecture", what);
    snprintf(platform, sizeof platform, "%s/%s%s%s", d->platform->os, d->platform->architecture,
             d->platform->variant ? "/" : "", d->platform->variant ? d->platform->variant : "");
    check_str(r, what, want_platform, platform);
    check_str(r, what, want_osv, d->platform->os_version);
  }
  free(copy);
}

/* Checks m against the directives; returns nothing, records failures in r. */
static void check_manifest(struct run *r, const struct expect *e, const struct hoist_manifest *m)
{
  size_t layers = 0, children = 0, anns = 0;
  int i, saw_config = 0, saw_subject = 0, saw_at = 0;
  for (i = 0; i < e->n; i++) {
    const char *l = e->lines[i], *arg = strchr(l, ' ');
    char what[64];
    arg = arg ? arg + 1 : "";
    if (strncmp(l, "kind ", 5) == 0) {
      check_str(r, "kind", arg, m->kind == HOIST_MANIFEST_IMAGE ? "image"
                                : m->kind == HOIST_MANIFEST_INDEX ? "index" : "?");
    } else if (strncmp(l, "media_type ", 11) == 0) {
      check_str(r, "media_type", arg, m->media_type);
    } else if (strncmp(l, "docker ", 7) == 0) {
      if (m->docker != atoi(arg))
        failf(r, "docker: expected %s, got %d", arg, m->docker);
    } else if (strncmp(l, "config ", 7) == 0) {
      saw_config = 1;
      if (!m->config)
        failf(r, "config: expected one, got NULL");
      else
        check_descriptor(r, "config", arg, m->config);
    } else if (strncmp(l, "layer ", 6) == 0) {
      snprintf(what, sizeof what, "layers[%zu]", layers);
      if (layers < m->n_layers)
        check_descriptor(r, what, arg, &m->layers[layers]);
      layers++;
    } else if (strncmp(l, "manifest ", 9) == 0) {
      snprintf(what, sizeof what, "manifests[%zu]", children);
      if (children < m->n_manifests)
        check_descriptor(r, what, arg, &m->manifests[children]);
      children++;
    } else if (strncmp(l, "subject ", 8) == 0) {
      saw_subject = 1;
      if (!m->subject)
        failf(r, "subject: expected one, got NULL");
      else
        check_descriptor(r, "subject", arg, m->subject);
    } else if (strncmp(l, "artifact_type ", 14) == 0) {
      saw_at = 1;
      check_str(r, "artifact_type", arg, m->artifact_type);
    } else if (strncmp(l, "annotation ", 11) == 0) {
      const char *v = strchr(arg, ' ');
      if (anns < m->n_annotations) {
        size_t kn = v ? (size_t)(v - arg) : strlen(arg);
        const struct hoist_annotation *a = &m->annotations[anns];
        if (strlen(a->key) != kn || strncmp(a->key, arg, kn) != 0)
          failf(r, "annotations[%zu]: expected key '%.*s', got '%s'", anns, (int)kn, arg, a->key);
        check_str(r, "annotation value", v ? v + 1 : "", a->value);
      }
      anns++;
    }
  }
  if (layers != m->n_layers)
    failf(r, "expected %zu layers, got %zu", layers, m->n_layers);
  if (children != m->n_manifests)
    failf(r, "expected %zu manifests, got %zu", children, m->n_manifests);
  if (anns != m->n_annotations)
    failf(r, "expected %zu annotations, got %zu", anns, m->n_annotations);
  if (!saw_config && m->config)
    failf(r, "unexpected config %s", m->config->digest);
  if (!saw_subject && m->subject)
    failf(r, "unexpected subject %s", m->subject->digest);
  if (!saw_at && m->artifact_type)
    failf(r, "unexpected artifact_type %s", m->artifact_type);
  if ((m->kind == HOIST_MANIFEST_IMAGE) != (m->config != NULL))
    failf(r, "an image has a config and an index has none");
  if (hoist_manifest_kind_of(m->media_type) != (int)m->kind)
    failf(r, "media_type %s does not name kind %d", m->media_type, (int)m->kind);
}

/* The same bytes with the result's media type as the hint must give the same manifest. */
static void check_reparse(struct run *r, const char *body, size_t len,
                          const struct hoist_manifest *m)
{
  struct hoist_manifest *again = NULL;
  struct hoist_err err;
  size_t i;
  if (hoist_manifest_parse(body, len, m->media_type, &again, &err) != 0) {
    failf(r, "parsing again with hint %s fails: %s", m->media_type, err.msg);
    return;
  }
  if (again->kind != m->kind || !same(again->media_type, m->media_type) ||
      again->n_layers != m->n_layers || again->n_manifests != m->n_manifests ||
      again->n_annotations != m->n_annotations)
    failf(r, "parsing again with its media type gives another manifest");
  for (i = 0; i < m->n_layers && i < again->n_layers; i++)
    if (!same(m->layers[i].digest, again->layers[i].digest))
      failf(r, "parsing again: layers[%zu] differs", i);
  hoist_manifest_free(again);
}

static void check_message(struct run *r, int rc, const struct hoist_err *err)
{
  size_t i;
  if (err->code != rc)
    failf(r, "returned %d but err.code is %d", rc, err->code);
  if (strncmp(err->msg, "invalid manifest: ", 18) != 0)
    failf(r, "message does not start with 'invalid manifest: ': %s", err->msg);
  for (i = 0; err->msg[i]; i++)
    if ((unsigned char)err->msg[i] < 0x20 || (unsigned char)err->msg[i] >= 0x7f) {
      failf(r, "message holds a control or non-ASCII byte: %s", err->msg);
      break;
    }
}

/* One parse of body with hint against e. */
static void run_one(const struct expect *e, const char *body, size_t len, const char *hint)
{
  struct run r = { e->name, hint, 0 };
  static struct hoist_manifest sentinel;
  struct hoist_manifest *m = &sentinel;  /* a failure must reset it to NULL */
  struct hoist_err err = { 0, "" };
  const char *want_error = NULL;
  char *buf = exact(body, len);
  int i, rc, rc2;

  for (i = 0; i < e->n; i++)
    if (strncmp(e->lines[i], "error ", 6) == 0)
      want_error = e->lines[i] + 6;
  rc = hoist_manifest_parse(buf, len, hint, &m, &err);
  if (want_error) {
    const char *sp = strchr(want_error, ' ');
    size_t cn = sp ? (size_t)(sp - want_error) : strlen(want_error);
    if (rc == 0) {
      failf(&r, "expected %s, but it parsed as %s", want_error, m ? m->media_type : "?");
    } else {
      check_message(&r, rc, &err);
      if (strlen(hoist_err_name(rc)) != cn || strncmp(hoist_err_name(rc), want_error, cn) != 0)
        failf(&r, "expected %.*s, got %s: %s", (int)cn, want_error, hoist_err_name(rc), err.msg);
      if (sp && !strstr(err.msg, sp + 1))
        failf(&r, "message '%s' does not contain '%s'", err.msg, sp + 1);
      if (m)
        failf(&r, "failed but *out is not NULL");
    }
  } else if (rc != 0) {
    failf(&r, "failed with %s: %s", hoist_err_name(rc), err.msg);
  } else {
    check_manifest(&r, e, m);
    check_reparse(&r, buf, len, m);
  }
  if (rc == 0)
    hoist_manifest_free(m);
  m = NULL;
  rc2 = hoist_manifest_parse(buf, len, hint, &m, NULL);
  if (rc2 != rc)
    failf(&r, "a NULL err changes the status from %d to %d", rc, rc2);
  hoist_manifest_free(m);
  free(buf);
  if (r.failed)
    n_failed++;
  else
    n_passed++;
}

static void run_case(const char *dir, const char *file)
{
  char path[1024], *text, *line, *save = NULL, *body = NULL;
  const char *hints[MAX_HINTS];
  struct expect e;
  size_t len, body_len = 0;
  int n_hints = 0, i;

  if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path) {
    printf("%s: path too long\n", file);
    n_failed++;
    return;
  }
  text = read_file(path, &len);
  if (!text) {
    printf("%s: cannot read\n", path);
    n_failed++;
    return;
  }
  e.name = file;
  e.n = 0;
  for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    if (line[0] == '#' || line[0] == '\0')
      continue;
    if (strncmp(line, "hint ", 5) == 0) {
      const char *h = line + 5;
      if (n_hints < MAX_HINTS)
        hints[n_hints++] = strcmp(h, "-") == 0 ? NULL : strcmp(h, "\"\"") == 0 ? "" : h;
    } else if (strncmp(line, "body ", 5) == 0) {
      free(body);
      body = snprintf(path, sizeof path, "%s/%s", dir, line + 5) < (int)sizeof path
               ? read_file(path, &body_len) : NULL;
    } else if (e.n < MAX_LINES) {
      e.lines[e.n++] = line;
    }
  }
  if (!body) {
    if (snprintf(path, sizeof path, "%s/%.*s.json", dir, (int)(strlen(file) - 7), file) < (int)sizeof path)
      body = read_file(path, &body_len);
  }
  if (!body) {
    printf("%s: no body (%s)\n", file, path);
    n_failed++;
  } else if (n_hints == 0) {
    run_one(&e, body, body_len, NULL);
  } else {
    for (i = 0; i < n_hints; i++)
      run_one(&e, body, body_len, hints[i]);
  }
  free(body);
  free(text);
}

static int by_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *cases)
{
  char dir[1024], *names[1024];
  struct dirent *de;
  DIR *d;
  int n = 0, i;
  snprintf(dir, sizeof dir, "%s/manifest", cases);
  d = opendir(dir);
  if (!d) {
    printf("%s: cannot open\n", dir);
    return 0;
  }
  while ((de = readdir(d)) && n < 1024) {
    size_t l = strlen(de->d_name);
    if (l > 7 && strcmp(de->d_name + l - 7, ".expect") == 0)
      names[n++] = strdup(de->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof names[0], by_name);
  for (i = 0; i < n; i++) {
    if (names[i])
      run_case(dir, names[i]);
    free(names[i]);
  }
  return n;
}

/* ---- generated cases: the bounds ---- */

#define D64 "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define LAYER "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" D64 \
              "\",\"size\":1}"

struct gen {
  char *s;
  size_t n, cap;
};

static void gen_add(struct gen *g, const char *s)
{
  size_t l = strlen(s);
  if (g->n + l + 1 > g->cap) {
    size_t cap = (g->n + l + 1) * 2;
    char *p = realloc(g->s, cap);
    if (!p) {
      fprintf(stderr, "out of memory\n");
      exit(2);
    }
    g->s = p;
    g->cap = cap;
  }
  memcpy(g->s + g->n, s, l + 1);
  g->n += l;
}

/* An OCI image with n layers, or an index with n children, or n annotations. */
static void gen_doc(struct gen *g, const char *what, size_t n)
{
  size_t i;
  char buf[64];
  g->n = 0;
  if (strcmp(what, "manifests") == 0) {
    gen_add(g, "{\"schemaVersion\":2,\"manifests\":[");
    for (i = 0; i < n; i++) {
      gen_add(g, i ? "," : "");
      gen_add(g, LAYER);
    }
    gen_add(g, "]}");
    return;
  }
  gen_add(g, "{\"schemaVersion\":2,\"config\":" LAYER ",\"layers\":[");
  for (i = 0; strcmp(what, "layers") == 0 && i < n; i++) {
    gen_add(g, i ? "," : "");
    gen_add(g, LAYER);
  }
  gen_add(g, "],\"annotations\":{");
  for (i = 0; strcmp(what, "annotations") == 0 && i < n; i++) {
    snprintf(buf, sizeof buf, "%s\"k%zu\":\"v\"", i ? "," : "", i);
    gen_add(g, buf);
  }
  gen_add(g, "}}");
}

static void expect_gen(const char *name, const char *doc, size_t len, int want_rc,
                       const char *fragment, size_t want_count)
{
  struct run r = { name, NULL, 0 };
  struct hoist_manifest *m = NULL;
  struct hoist_err err = { 0, "" };
  char *buf = exact(doc, len);
  int rc = hoist_manifest_parse(buf, len, NULL, &m, &err);
  if (rc != want_rc)
    failf(&r, "expected %s, got %s: %s", hoist_err_name(want_rc), hoist_err_name(rc), err.msg);
  else if (rc)
    check_message(&r, rc, &err);
  if (rc && fragment && !strstr(err.msg, fragment))
    failf(&r, "message '%s' does not contain '%s'", err.msg, fragment);
  if (rc == 0 && m->n_layers + m->n_manifests + m->n_annotations != want_count)
    failf(&r, "expected %zu entries, got %zu", want_count,
          m->n_layers + m->n_manifests + m->n_annotations);
  hoist_manifest_free(m);
  free(buf);
  if (r.failed)
    n_failed++;
  else
    n_passed++;
}

static void test_bounds(void)
{
  static const char *const what[] = { "layers", "manifests", "annotations" };
  struct gen g = { NULL, 0, 0 };
  char name[64];
  size_t i;
  for (i = 0; i < 3; i++) {
    snprintf(name, sizeof name, "generated: %d %s", HOIST_MANIFEST_MAX_ENTRIES, what[i]);
    gen_doc(&g, what[i], HOIST_MANIFEST_MAX_ENTRIES);
    expect_gen(name, g.s, g.n, 0, NULL, HOIST_MANIFEST_MAX_ENTRIES);
    snprintf(name, sizeof name, "generated: %d %s", HOIST_MANIFEST_MAX_ENTRIES + 1, what[i]);
    gen_doc(&g, what[i], HOIST_MANIFEST_MAX_ENTRIES + 1);
    expect_gen(name, g.s, g.n, HOIST_ERANGE, "more than 10000", 0);
  }
  /* the body bound: a document just over it, padded with spaces JSON ignores */
  gen_doc(&g, "layers", 1);
  while (g.n <= HOIST_MANIFEST_MAX_BYTES)
    gen_add(&g, "                                                                ");
  expect_gen("generated: body over 4 MiB", g.s, HOIST_MANIFEST_MAX_BYTES + 1, HOIST_ERANGE,
             "4194304-byte limit", 0);
  expect_gen("generated: body of exactly 4 MiB", g.s, HOIST_MANIFEST_MAX_BYTES, 0, NULL, 1);
  free(g.s);

  /* a NULL body of length 0 is "not JSON", not a crash */
  {
    struct hoist_manifest *m = NULL;
    struct hoist_err err;
    struct run r = { "generated: NULL body", NULL, 0 };
    if (hoist_manifest_parse(NULL, 0, NULL, &m, &err) != HOIST_EINVAL || m)
      failf(&r, "expected EINVAL");
    hoist_manifest_free(NULL);
    if (hoist_manifest_kind_of(NULL) != 0 || hoist_manifest_kind_of("") != 0 ||
        hoist_manifest_kind_of(" application/vnd.oci.image.index.v1+json ;q=1") !=
            HOIST_MANIFEST_INDEX ||
        hoist_manifest_kind_of(HOIST_MT_DOCKER_MANIFEST) != HOIST_MANIFEST_IMAGE)
      failf(&r, "hoist_manifest_kind_of");
    if (r.failed)
      n_failed++;
    else
      n_passed++;
  }
}

/* ---- out of memory: every allocation of a parse fails in turn ---- */

static long alloc_countdown = -1;  /* fail when it reaches 0; -1: never */
static long alloc_calls;

static void *failing_malloc(size_t n)
{
  alloc_calls++;
  if (alloc_countdown >= 0 && alloc_countdown-- == 0)
    return NULL;
  return malloc(n);
}

static void test_out_of_memory(const char *cases)
{
  static const char *const names[] = { "oci_index", "artifact", "docker_list", "other_algorithms" };
  char path[1024], name[128];
  size_t i, len;
  long n, loadb;
  json_set_alloc_funcs(failing_malloc, free);
  for (i = 0; i < sizeof names / sizeof names[0]; i++) {
    struct run r = { name, NULL, 0 };
    char *body;
    snprintf(name, sizeof name, "out of memory: %s", names[i]);
    snprintf(path, sizeof path, "%s/manifest/%s.json", cases, names[i]);
    body = read_file(path, &len);
    if (!body) {
      failf(&r, "cannot read %s", path);
      n_failed++;
      continue;
    }
    /* how many allocations json_loadb makes for this body: 1.. of the parse (0 is the record) */
    {
      json_t *root;
      alloc_calls = 0;
      root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
      loadb = alloc_calls;
      json_decref(root);
    }
    for (n = 0;; n++) {
      struct hoist_manifest *m = NULL;
      struct hoist_err err = { 0, "" };
      int rc;
      alloc_countdown = n;
      alloc_calls = 0;
      rc = hoist_manifest_parse(body, len, NULL, &m, &err);
      alloc_countdown = -1;
      if (rc == 0) {
        hoist_manifest_free(m);
        /* allocation n was made and failed, yet the parse succeeded: fine only inside jansson,
           which can do without some (a hashtable that stays small) */
        if (n < alloc_calls && (n < 1 || n > loadb))
          failf(&r, "allocation %ld failed but the parse succeeded", n);
        break;
      }
      /* under json_loadb (allocations 1..loadb) jansson may call it a syntax error */
      if (m || (rc != HOIST_ENOMEM && (n < 1 || n > loadb)) || err.code != rc ||
          (rc == HOIST_ENOMEM && !strstr(err.msg, "out of memory")))
        failf(&r, "allocation %ld failing gives %s: %s", n, hoist_err_name(rc), err.msg);
      if (n > 100000) {
        failf(&r, "never succeeds");
        break;
      }
    }
    free(body);
    if (r.failed)
      n_failed++;
    else
      n_passed++;
  }
  json_set_alloc_funcs(malloc, free);
}

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: %s CASES_DIR\n", argv[0]);
    return 2;
  }
  if (run_dir(argv[1]) == 0) {
    printf("manifest: no cases\n");
    n_failed++;
  }
  test_bounds();
  test_out_of_memory(argv[1]);
  printf("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
