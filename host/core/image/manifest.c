/*
** manifest.c: manifests and indexes on top of a jansson tree.
**
** The document is parsed once with jansson and kept: every string the result
** hands out points into that tree, so nothing is copied, and the descriptor,
** platform and annotation arrays come from a small block list freed with it.
** Checks run top-down in document order (schemaVersion, kind, config, layers
** or manifests, subject, annotations), so the first culprit is reported.
*/
#include "manifest.h"

#include <jansson.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SCHEMA1_JSON "application/vnd.docker.distribution.manifest.v1+json"
#define SCHEMA1_JWS "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define HINT_MAX 256        /* a longer hint is no media type we know */
#define DIGEST_MAX 1024     /* far past sha512's 135 characters */
#define PATH_MAX_LEN 96     /* "manifests[9999].platform.os.version" and room to spare */

/* Allocations that live as long as the manifest, freed in one walk. */
struct block {
  struct block *next;
  max_align_t data[];
};

struct impl {
  struct hoist_manifest pub;   /* first: a hoist_manifest * is an impl * */
  json_t *root;
  struct block *blocks;
};

struct parser {
  struct impl *m;
  struct hoist_err *err;
};

static const struct {
  const char *type;
  enum hoist_manifest_kind kind;
  int docker;
} known[] = {
  { HOIST_MT_OCI_MANIFEST, HOIST_MANIFEST_IMAGE, 0 },
  { HOIST_MT_OCI_INDEX, HOIST_MANIFEST_INDEX, 0 },
  { HOIST_MT_DOCKER_MANIFEST, HOIST_MANIFEST_IMAGE, 1 },
  { HOIST_MT_DOCKER_LIST, HOIST_MANIFEST_INDEX, 1 },
};
#define N_KNOWN (sizeof known / sizeof known[0])

/* Records "invalid manifest: <reason>" and returns code. */
static int bad(struct hoist_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(struct hoist_err *err, int code, const char *fmt, ...)
{
  char reason[224];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  return hoist_err_set(err, code, "invalid manifest: %s", reason);
}

/*
** Memory comes from jansson's allocator, like the tree's, so one
** json_set_alloc_funcs makes every allocation of a parse fail in turn
** (test_manifest's out-of-memory loop).
*/
static void *zalloc(size_t n)
{
  json_malloc_t jmalloc;
  json_free_t jfree;
  void *p;
  json_get_alloc_funcs(&jmalloc, &jfree);
  p = jmalloc(n);
  if (p)
    memset(p, 0, n);
  return p;
}

static void zfree(void *p)
{
  json_malloc_t jmalloc;
  json_free_t jfree;
  json_get_alloc_funcs(&jmalloc, &jfree);
  if (p)
    jfree(p);
}

static void *palloc(struct parser *p, size_t count, size_t each)
{
  struct block *b;
  if (count == 0)
    count = 1;
  if (each && count > (SIZE_MAX - sizeof *b) / each)
    return NULL;
  b = zalloc(sizeof *b + count * each);
  if (!b)
    return NULL;
  b->next = p->m->blocks;
  p->m->blocks = b;
  return b->data;
}

static int no_memory(struct parser *p)
{
  return bad(p->err, HOIST_ENOMEM, "out of memory");
}

static const char *type_name(const json_t *v)
{
  switch (json_typeof(v)) {
  case JSON_OBJECT: return "an object";
  case JSON_ARRAY: return "an array";
  case JSON_STRING: return "a string";
  case JSON_INTEGER: return "an integer";
  case JSON_REAL: return "a real number";
  case JSON_TRUE:
  case JSON_FALSE: return "a boolean";
  case JSON_NULL: return "null";
  }
  return "unknown";
}

/* s shown safely in a message: escaped, cut with "..." past ~76 bytes. */
static const char *show(char buf[HOIST_ERR_SHOW_MAX], const char *s)
{
  return hoist_err_show(buf, s, strlen(s));
}

/* ------------------------------------------------------------------ media types */

static int is_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 6838 4.2 restricted-name: an alphanumeric, then up to 126 of these. */
static size_t restricted_name(const char *s)
{
  size_t i;
  if (!is_alnum(s[0]))
    return 0;
  for (i = 1; s[i] && (is_alnum(s[i]) || strchr("!#$&-^_.+", s[i])); i++)
    ;
  return i <= 127 ? i : 0;
}

/*
** type "/" subtype as RFC 6838 names them, which the OCI spec requires. That
** also keeps CR, LF and spaces out of the Content-Type and Accept headers a
** media type is copied into.
*/
static int media_type_ok(const char *s)
{
  size_t a = restricted_name(s), b;
  if (a == 0 || s[a] != '/')
    return 0;
  b = restricted_name(s + a + 1);
  return b > 0 && s[a + 1 + b] == '\0';
}

static int ascii_lower(int c)
{
  return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/*
** A hint as a bare lowercase media type in buf: surrounding spaces and tabs
** and any ";parameters" dropped. Returns 0 when it is too long to be one.
*/
static int normalize_hint(const char *hint, char buf[HINT_MAX])
{
  size_t start = 0, end, i;
  const char *semi = strchr(hint, ';');
  end = semi ? (size_t)(semi - hint) : strlen(hint);
  while (start < end && (hint[start] == ' ' || hint[start] == '\t'))
    start++;
  while (end > start && (hint[end - 1] == ' ' || hint[end - 1] == '\t'))
    end--;
  if (end - start >= HINT_MAX)
    return 0;
  for (i = start; i < end; i++)
    buf[i - start] = (char)ascii_lower((unsigned char)hint[i]);
  buf[end - start] = '\0';
  return 1;
}

static int find_known(const char *s)
{
  size_t i;
  for (i = 0; i < N_KNOWN; i++)
    if (strcmp(s, known[i].type) == 0)
      return (int)i;
  return -1;
}

static int is_schema1(const char *s)
{
  return strcmp(s, SCHEMA1_JSON) == 0 || strcmp(s, SCHEMA1_JWS) == 0;
}

/* Hints that name a transport's default, not a manifest kind. */
static int is_generic(const char *s)
{
  return s[0] == '\0' || strcmp(s, "application/json") == 0 ||
         strcmp(s, "application/octet-stream") == 0 || strcmp(s, "text/plain") == 0;
}

int hoist_manifest_kind_of(const char *media_type)
{
  char buf[HINT_MAX];
  int k;
  if (!media_type || !normalize_hint(media_type, buf))
    return 0;
  k = find_known(buf);
  return k < 0 ? 0 : (int)known[k].kind;
}

/* ------------------------------------------------------------------ fields */

static int is_lower_hex(char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/*
** OCI digest grammar:
**   digest    := algorithm ":" encoded
**   algorithm := component (separator component)*   component := [a-z0-9]+
**   separator := [+._-]                              encoded := [a-zA-Z0-9=_-]+
** Registered algorithms must have their exact encoding.
*/
static int check_digest(struct parser *p, const char *path, const char *d,
                        enum hoist_digest_alg *alg)
{
  char what[HOIST_ERR_SHOW_MAX];
  size_t n = strlen(d), i, alen, hex;
  int prev_sep = 1;
  if (n > DIGEST_MAX)
    return bad(p->err, HOIST_EINVAL, "'%s' '%s' is not a valid digest (longer than %d characters)",
               path, show(what, d), DIGEST_MAX);
  for (i = 0; i < n && d[i] != ':'; i++) {
    char c = d[i];
    int sep = c == '+' || c == '.' || c == '_' || c == '-';
    if (!sep && !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
      break;
    if (sep && prev_sep)
      break;
    prev_sep = sep;
  }
  alen = i;
  if (i == n || d[i] != ':' || alen == 0 || prev_sep || i + 1 == n)
    return bad(p->err, HOIST_EINVAL, "'%s' '%s' is not a valid digest (ALGORITHM:ENCODED)", path,
               show(what, d));
  for (i = alen + 1; i < n; i++)
    if (!is_alnum(d[i]) && d[i] != '=' && d[i] != '_' && d[i] != '-')
      return bad(p->err, HOIST_EINVAL, "'%s' '%s' is not a valid digest (ALGORITHM:ENCODED)",
                 path, show(what, d));
  if (alen == 6 && memcmp(d, "sha256", 6) == 0) {
    *alg = HOIST_DIGEST_SHA256;
    hex = 64;
  } else if (alen == 6 && memcmp(d, "sha512", 6) == 0) {
    *alg = HOIST_DIGEST_SHA512;
    hex = 128;
  } else {
    *alg = HOIST_DIGEST_OTHER;
    return 0;
  }
  for (i = alen + 1; i < n && is_lower_hex(d[i]); i++)
    ;
  if (i < n || n - alen - 1 != hex)
    return bad(p->err, HOIST_EINVAL, "'%s' '%s' is not a valid digest (%.6s needs %zu lowercase "
               "hex digits)", path, show(what, d), d, hex);
  return 0;
}

/* A string member: missing is fine unless required; present must be a string. */
static int get_string(struct parser *p, const json_t *obj, const char *path, const char *key,
                      int required, const char **out)
{
  const json_t *v = json_object_get(obj, key);
  *out = NULL;
  if (!v) {
    if (required)
      return bad(p->err, HOIST_EINVAL, "'%s%s%s' is missing", path, *path ? "." : "", key);
    return 0;
  }
  if (!json_is_string(v))
    return bad(p->err, HOIST_EINVAL, "'%s%s%s' must be a string, not %s", path, *path ? "." : "",
               key, type_name(v));
  *out = json_string_value(v);
  return 0;
}

static int get_media_type(struct parser *p, const json_t *obj, const char *path, const char *key,
                          int required, const char **out)
{
  char what[HOIST_ERR_SHOW_MAX];
  int rc = get_string(p, obj, path, key, required, out);
  if (rc == 0 && *out && !media_type_ok(*out))
    rc = bad(p->err, HOIST_EINVAL, "'%s%s%s' '%s' is not a media type (type/subtype, RFC 6838)",
             path, *path ? "." : "", key, show(what, *out));
  return rc;
}

/* The members of an array field, at most HOIST_MANIFEST_MAX_ENTRIES. */
static int get_array(struct parser *p, const json_t *obj, const char *key, const json_t **out)
{
  const json_t *v = json_object_get(obj, key);
  *out = NULL;
  if (!v)
    return bad(p->err, HOIST_EINVAL, "'%s' is missing", key);
  if (!json_is_array(v))
    return bad(p->err, HOIST_EINVAL, "'%s' must be an array, not %s", key, type_name(v));
  if (json_array_size(v) > HOIST_MANIFEST_MAX_ENTRIES)
    return bad(p->err, HOIST_ERANGE, "'%s' has %zu entries, more than %d", key,
               json_array_size(v), HOIST_MANIFEST_MAX_ENTRIES);
  *out = v;
  return 0;
}

/* "annotations": a string-to-string map, as the OCI spec defines it. */
static int parse_annotations(struct parser *p, const json_t *obj, const char *path,
                             const struct hoist_annotation **out, size_t *count)
{
  char what[HOIST_ERR_SHOW_MAX];
  const char *dot = *path ? "." : "";
  const json_t *map = json_object_get(obj, "annotations");
  struct hoist_annotation *a;
  const char *key;
  json_t *value;
  size_t n = 0;
  *out = NULL;
  *count = 0;
  if (!map)
    return 0;
  if (!json_is_object(map))
    return bad(p->err, HOIST_EINVAL, "'%s%sannotations' must be an object, not %s", path, dot,
               type_name(map));
  if (json_object_size(map) > HOIST_MANIFEST_MAX_ENTRIES)
    return bad(p->err, HOIST_ERANGE, "'%s%sannotations' has %zu entries, more than %d", path, dot,
               json_object_size(map), HOIST_MANIFEST_MAX_ENTRIES);
  if (json_object_size(map) == 0)
    return 0;
  a = palloc(p, json_object_size(map), sizeof *a);
  if (!a)
    return no_memory(p);
  json_object_foreach((json_t *)map, key, value) {
    if (!json_is_string(value))
      return bad(p->err, HOIST_EINVAL, "'%s%sannotations' value of '%s' must be a string, not %s",
                 path, dot, show(what, key), type_name(value));
    a[n].key = key;
    a[n].value = json_string_value(value);
    n++;
  }
  *out = a;
  *count = n;
  return 0;
}

static int parse_platform(struct parser *p, const json_t *v, const char *path,
                          const struct hoist_platform **out)
{
  struct hoist_platform *pl;
  int rc;
  *out = NULL;
  if (!json_is_object(v))
    return bad(p->err, HOIST_EINVAL, "'%s' must be an object, not %s", path, type_name(v));
  pl = palloc(p, 1, sizeof *pl);
  if (!pl)
    return no_memory(p);
  if ((rc = get_string(p, v, path, "os", 1, &pl->os)) != 0 ||
      (rc = get_string(p, v, path, "architecture", 1, &pl->architecture)) != 0 ||
      (rc = get_string(p, v, path, "variant", 0, &pl->variant)) != 0 ||
      (rc = get_string(p, v, path, "os.version", 0, &pl->os_version)) != 0)
    return rc;
  *out = pl;
  return 0;
}

/* One descriptor at path; a platform is read only for an index's children. */
static int parse_descriptor(struct parser *p, const json_t *v, const char *path,
                            int with_platform, struct hoist_descriptor *d)
{
  const json_t *size, *platform;
  char sub[PATH_MAX_LEN];
  int rc;
  if (!json_is_object(v))
    return bad(p->err, HOIST_EINVAL, "'%s' must be an object, not %s", path, type_name(v));
  if ((rc = get_media_type(p, v, path, "mediaType", 1, &d->media_type)) != 0 ||
      (rc = get_string(p, v, path, "digest", 1, &d->digest)) != 0)
    return rc;
  snprintf(sub, sizeof sub, "%s.digest", path);
  if ((rc = check_digest(p, sub, d->digest, &d->digest_alg)) != 0)
    return rc;
  size = json_object_get(v, "size");
  if (!size)
    return bad(p->err, HOIST_EINVAL, "'%s.size' is missing", path);
  if (!json_is_integer(size))
    return bad(p->err, HOIST_EINVAL, "'%s.size' must be an integer, not %s", path,
               type_name(size));
  d->size = (long long)json_integer_value(size);
  if (d->size < 0)
    return bad(p->err, HOIST_EINVAL, "'%s.size' is negative (%lld)", path, d->size);
  if (d->size > HOIST_MANIFEST_MAX_SIZE)
    return bad(p->err, HOIST_ERANGE, "'%s.size' %lld is more than 2^53", path, d->size);
  if ((rc = get_media_type(p, v, path, "artifactType", 0, &d->artifact_type)) != 0 ||
      (rc = parse_annotations(p, v, path, &d->annotations, &d->n_annotations)) != 0)
    return rc;
  platform = json_object_get(v, "platform");
  if (with_platform && platform) {
    snprintf(sub, sizeof sub, "%s.platform", path);
    return parse_platform(p, platform, sub, &d->platform);
  }
  return 0;
}

static int parse_list(struct parser *p, const json_t *root, const char *key, int with_platform,
                      const struct hoist_descriptor **out, size_t *count)
{
  const json_t *arr;
  struct hoist_descriptor *d;
  char path[PATH_MAX_LEN];
  size_t i, n;
  int rc;
  if ((rc = get_array(p, root, key, &arr)) != 0)
    return rc;
  n = json_array_size(arr);
  d = palloc(p, n, sizeof *d);
  if (!d)
    return no_memory(p);
  for (i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s[%zu]", key, i);
    if ((rc = parse_descriptor(p, json_array_get(arr, i), path, with_platform, &d[i])) != 0)
      return rc;
  }
  *out = d;
  *count = n;
  return 0;
}

static int parse_single(struct parser *p, const json_t *root, const char *key, int required,
                        const struct hoist_descriptor **out)
{
  const json_t *v = json_object_get(root, key);
  struct hoist_descriptor *d;
  int rc;
  *out = NULL;
  if (!v) {
    if (required)
      return bad(p->err, HOIST_EINVAL, "'%s' is missing", key);
    return 0;
  }
  d = palloc(p, 1, sizeof *d);
  if (!d)
    return no_memory(p);
  if ((rc = parse_descriptor(p, v, key, 0, d)) != 0)
    return rc;
  *out = d;
  return 0;
}

/* ------------------------------------------------------------------ the document */

static int check_schema_version(struct parser *p, const json_t *root)
{
  const json_t *v = json_object_get(root, "schemaVersion");
  if (!v)
    return bad(p->err, HOIST_EINVAL, "'schemaVersion' is missing");
  if (!json_is_integer(v))
    return bad(p->err, HOIST_EINVAL, "'schemaVersion' must be the integer 2, not %s",
               type_name(v));
  if (json_integer_value(v) == 1)
    return bad(p->err, HOIST_EINVAL, "schema 1 manifests are not supported (schemaVersion 1); "
               "the image must be pushed again as schema 2 or OCI");
  if (json_integer_value(v) != 2)
    return bad(p->err, HOIST_EINVAL, "'schemaVersion' %lld is not supported (only 2)",
               (long long)json_integer_value(v));
  return 0;
}

/* Sets the kind and media type from the body's mediaType, the hint, then the shape. */
static int classify(struct parser *p, const json_t *root, const char *hint)
{
  char what[HOIST_ERR_SHOW_MAX], what2[HOIST_ERR_SHOW_MAX], norm[HINT_MAX];
  const char *body;
  int b = -1, h = -1, rc, has_index, has_image;

  if ((rc = get_string(p, root, "", "mediaType", 0, &body)) != 0)
    return rc;
  if (body) {
    if (is_schema1(body))
      return bad(p->err, HOIST_EINVAL, "schema 1 manifests are not supported ('mediaType' '%s')",
                 body);
    b = find_known(body);
    if (b < 0)
      return bad(p->err, HOIST_EINVAL, "'mediaType' '%s' is not a manifest or index media type "
                 "hoist supports", show(what, body));
  }
  if (hint) {
    if (!normalize_hint(hint, norm))
      return bad(p->err, HOIST_EINVAL, "media type '%s' is not a manifest or index media type "
                 "hoist supports", show(what, hint));
    if (is_schema1(norm))
      return bad(p->err, HOIST_EINVAL, "schema 1 manifests are not supported (media type '%s')",
                 norm);
    if (!is_generic(norm)) {
      h = find_known(norm);
      if (b >= 0 && h != b)
        return bad(p->err, HOIST_EINVAL, "'mediaType' is '%s' but '%s' was expected", body,
                   show(what2, hint));
      if (h < 0)
        return bad(p->err, HOIST_EINVAL, "media type '%s' is not a manifest or index media type "
                   "hoist supports", show(what, hint));
    }
  }

  has_index = json_object_get(root, "manifests") != NULL;
  has_image = json_object_get(root, "config") != NULL || json_object_get(root, "layers") != NULL;
  if (has_index && has_image)
    return bad(p->err, HOIST_EINVAL, "it has both 'manifests' and 'config' or 'layers': an "
               "ambiguous document (CVE-2021-41190)");
  if (b < 0)
    b = h;
  if (b < 0) {
    if (!has_index && !has_image)
      return bad(p->err, HOIST_EINVAL, "not a manifest or an index: no 'mediaType', "
                 "'manifests', 'config' or 'layers'");
    b = find_known(has_index ? HOIST_MT_OCI_INDEX : HOIST_MT_OCI_MANIFEST);
  }
  p->m->pub.kind = known[b].kind;
  p->m->pub.media_type = known[b].type;
  p->m->pub.docker = known[b].docker;
  return 0;
}

static int parse_document(struct parser *p, const json_t *root, const char *hint)
{
  struct hoist_manifest *m = &p->m->pub;
  int rc;
  if (!json_is_object(root))
    return bad(p->err, HOIST_EINVAL, "not a JSON object but %s", type_name(root));
  if ((rc = check_schema_version(p, root)) != 0 || (rc = classify(p, root, hint)) != 0)
    return rc;
  if (m->kind == HOIST_MANIFEST_IMAGE) {
    if ((rc = parse_single(p, root, "config", 1, &m->config)) != 0 ||
        (rc = parse_list(p, root, "layers", 0, &m->layers, &m->n_layers)) != 0)
      return rc;
  } else {
    if ((rc = parse_list(p, root, "manifests", 1, &m->manifests, &m->n_manifests)) != 0)
      return rc;
  }
  if ((rc = parse_single(p, root, "subject", 0, &m->subject)) != 0 ||
      (rc = get_media_type(p, root, "", "artifactType", 0, &m->artifact_type)) != 0 ||
      (rc = parse_annotations(p, root, "", &m->annotations, &m->n_annotations)) != 0)
    return rc;
  return 0;
}

int hoist_manifest_parse(const char *bytes, size_t len, const char *media_type,
                         struct hoist_manifest **out, struct hoist_err *err)
{
  char what[HOIST_ERR_SHOW_MAX];
  struct parser p;
  json_error_t jerr;
  struct impl *m;
  int rc;

  *out = NULL;
  if (len > HOIST_MANIFEST_MAX_BYTES)
    return bad(err, HOIST_ERANGE, "it is %zu bytes, more than the %u-byte limit", len,
               HOIST_MANIFEST_MAX_BYTES);
  m = zalloc(sizeof *m);
  if (!m)
    return bad(err, HOIST_ENOMEM, "out of memory");
  /*
  ** Duplicate keys are refused: a registry or a signer reading the same bytes
  ** with a last-wins parser would otherwise see another document. Without
  ** JSON_ALLOW_NUL a "\u0000" is refused too, so strings stay C strings.
  */
  memset(&jerr, 0, sizeof jerr);  /* jansson sets the code byte only with a message */
  m->root = json_loadb(bytes ? bytes : "", len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
  if (!m->root) {
    enum json_error_code code = json_error_code(&jerr);
    zfree(m);
    /* jansson leaves the text empty when an allocation fails under it */
    if (code == json_error_out_of_memory || jerr.text[0] == '\0')
      return bad(err, HOIST_ENOMEM, "out of memory");
    if (code == json_error_null_character || code == json_error_null_byte_in_key)
      return bad(err, HOIST_EINVAL, "not valid JSON: a string holds \\u0000 (line %d, column %d)",
                 jerr.line, jerr.column);
    return bad(err, code == json_error_numeric_overflow ? HOIST_ERANGE : HOIST_EINVAL,
               "not valid JSON: %s (line %d, column %d)",
               hoist_err_show(what, jerr.text, strnlen(jerr.text, sizeof jerr.text - 1)), jerr.line,
               jerr.column);
  }
  m->pub.priv = m->root;
  p.m = m;
  p.err = err;
  rc = parse_document(&p, m->root, media_type);
  if (rc) {
    hoist_manifest_free(&m->pub);
    return rc;
  }
  *out = &m->pub;
  return 0;
}

void hoist_manifest_free(struct hoist_manifest *pub)
{
  struct impl *m = (struct impl *)pub;
  struct block *b, *next;
  if (!m)
    return;
  for (b = m->blocks; b; b = next) {
    next = b->next;
    zfree(b);
  }
  json_decref(m->root);
  zfree(m);
}
