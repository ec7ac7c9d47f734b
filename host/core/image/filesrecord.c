#define _GNU_SOURCE 1  /* getline */

#include "filesrecord.h"

#include "fsutil.h"

#include <jansson.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_VERSION 2
/* One entry's line: a name of PATH_MAX bytes escaped at worst 6 bytes each, and the rest. */
#define RECORD_LINE_MAX (6 * 4096 + 1024)

static const char *type_name(char t)
{
  switch (t) {
  case 'f': return "f";
  case 'd': return "d";
  case 'l': return "l";
  case 'h': return "h";
  default: return "o";
  }
}

/* One entry as a JSON object (keys sorted, as the rest of hoist writes them), or NULL. */
static json_t *entry_json(const struct hoist_layer_entry *e)
{
  json_t *o = json_object(), *name = json_string(e->name);
  json_t *link = e->link ? json_string(e->link) : json_null();
  if (!o || !name || !link || json_object_set_new(o, "name", name) || json_object_set_new(o, "link", link) ||
      json_object_set_new(o, "type", json_string(type_name(e->type))) ||
      json_object_set_new(o, "mode", json_integer(e->mode))) {
    json_decref(o);
    return NULL;
  }
  if (e->type == 'f' && (json_object_set_new(o, "size", json_integer(e->size)) ||
                         json_object_set_new(o, "sha256", json_string(e->sha256)) ||
                         json_object_set_new(o, "sha1", json_string(e->sha1)))) {
    json_decref(o);
    return NULL;
  }
  return o;
}

int hoist_files_record_write(const char *path, const struct hoist_layer_files *f, struct hoist_err *err)
{
  struct hoist_fs_out out;
  size_t i;
  int rc = hoist_fs_out_open(&out, path, err);
  if (rc)
    return rc;
  fprintf(out.f, "{\"entries\":%zu,\"hoist-files\":%d}\n", f->n, RECORD_VERSION);
  for (i = 0; i < f->n; i++) {
    json_t *o = entry_json(&f->entries[i]);
    if (!o) {
      char shown[HOIST_ERR_NAME_MAX];
      hoist_fs_out_abort(&out);
      /* jansson refuses a name that is not UTF-8: such a layer is read again when needed */
      return hoist_err_set(err, HOIST_EINVAL, "cannot record the file '%s' of a layer: its name is not UTF-8",
                           hoist_err_filename(shown, sizeof shown, f->entries[i].name));
    }
    rc = json_dumpf(o, out.f, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (rc != 0 || fputc('\n', out.f) == EOF) {
      hoist_fs_out_abort(&out);
      return hoist_err_set(err, HOIST_EIO, "cannot write '%s': %s", path, strerror(errno));
    }
  }
  return hoist_fs_out_commit(&out, 0, err);
}

static char *dup_string(json_t *o, const char *key, int required, int *bad)
{
  json_t *v = json_object_get(o, key);
  char *s;
  if (!v || json_is_null(v)) {
    *bad |= required;
    return NULL;
  }
  if (!json_is_string(v) || memchr(json_string_value(v), '\0', json_string_length(v))) {
    *bad = 1;
    return NULL;
  }
  s = strdup(json_string_value(v));
  *bad |= !s;
  return s;
}

static int copy_hex(json_t *o, const char *key, char *dst, size_t len)
{
  json_t *v = json_object_get(o, key);
  const char *s = json_string_value(v);
  size_t i;
  if (!s || json_string_length(v) != len)
    return -1;
  for (i = 0; i < len; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return -1;
  memcpy(dst, s, len + 1);
  return 0;
}

/* Fills e from one line's object; -1 when the object is not an entry as written above. */
static int entry_from_json(json_t *o, struct hoist_layer_entry *e)
{
  const char *type = json_string_value(json_object_get(o, "type"));
  json_t *mode = json_object_get(o, "mode"), *size = json_object_get(o, "size");
  int bad = 0;
  memset(e, 0, sizeof *e);
  if (!json_is_object(o) || !type || strlen(type) != 1 || !strchr("fdlho", type[0]) || !json_is_integer(mode) ||
      json_integer_value(mode) < 0 || json_integer_value(mode) > 07777)
    return -1;
  e->type = type[0];
  e->mode = (unsigned)json_integer_value(mode);
  e->name = dup_string(o, "name", 1, &bad);
  e->link = dup_string(o, "link", e->type == 'l' || e->type == 'h', &bad);
  if (e->type == 'f') {
    if (!json_is_integer(size) || json_integer_value(size) < 0 || copy_hex(o, "sha256", e->sha256, 64) ||
        copy_hex(o, "sha1", e->sha1, 40))
      bad = 1;
    else
      e->size = json_integer_value(size);
  }
  if (bad) {
    free(e->name);
    free(e->link);
    memset(e, 0, sizeof *e);
    return -1;
  }
  return 0;
}

static json_t *parse_line(const char *line, size_t n)
{
  json_error_t jerr;
  if (n == 0 || line[n - 1] != '\n')
    return NULL;   /* the last line of a record cut short */
  return json_loadb(line, n - 1, JSON_REJECT_DUPLICATES, &jerr);
}

int hoist_files_record_read(const char *path, struct hoist_layer_files *out, struct hoist_err *err)
{
  FILE *f = fopen(path, "rb");
  char *line = NULL;
  size_t cap = 0, i, count = 0;
  ssize_t n;
  json_t *head = NULL;
  int rc = HOIST_EINVAL;
  memset(out, 0, sizeof *out);
  if (!f)
    return hoist_err_set(err, errno == ENOENT ? HOIST_ENOENT : HOIST_EIO, "cannot read '%s': %s", path,
                         strerror(errno));
  n = getline(&line, &cap, f);
  if (n > 0 && n < RECORD_LINE_MAX && (head = parse_line(line, (size_t)n)) &&
      json_integer_value(json_object_get(head, "hoist-files")) == RECORD_VERSION &&
      json_is_integer(json_object_get(head, "entries")) && json_object_size(head) == 2 &&
      json_integer_value(json_object_get(head, "entries")) >= 0 &&
      json_integer_value(json_object_get(head, "entries")) <= HOIST_LAYER_FILES_MAX) {
    count = (size_t)json_integer_value(json_object_get(head, "entries"));
    out->entries = calloc(count ? count : 1, sizeof *out->entries);
    rc = out->entries ? HOIST_OK : HOIST_ENOMEM;
  }
  json_decref(head);
  for (i = 0; rc == HOIST_OK && i < count; i++) {
    json_t *o;
    n = getline(&line, &cap, f);
    o = n > 0 && n < RECORD_LINE_MAX ? parse_line(line, (size_t)n) : NULL;
    if (!o || entry_from_json(o, &out->entries[i]) != 0)
      rc = HOIST_EINVAL;
    else
      out->n = i + 1;
    json_decref(o);
  }
  /* nothing may follow the last entry */
  if (rc == HOIST_OK && getline(&line, &cap, f) != -1)
    rc = HOIST_EINVAL;
  if (rc == HOIST_OK && ferror(f))
    rc = HOIST_EIO;
  free(line);
  fclose(f);
  if (rc != HOIST_OK) {
    hoist_layer_files_free(out);
    if (rc == HOIST_ENOMEM)
      return hoist_err_set(err, rc, "out of memory");
    if (rc == HOIST_EIO)
      return hoist_err_set(err, rc, "cannot read '%s'", path);
    return hoist_err_set(err, rc, "'%s' is not a whole file list record", path);
  }
  return HOIST_OK;
}
