/*
** yamljson.c: YAML documents (compose files) as JSON, through libyaml's document
** loader, so that Lua reads them with hoist.json's decoder.
**
** Plain scalars are resolved by the YAML 1.2 core schema, as docker compose's
** parser (go-yaml v3) does: null, true/false, integers, floats; anything quoted,
** and every other plain scalar, is a string. Aliases are expanded; the merge
** key "<<" merges a mapping (or a list of them) under the keys already there.
** Bounded: the text's size is the caller's, the nesting by MAX_DEPTH and the
** values an expansion may create by MAX_NODES (a "billion laughs" document is
** an error, not a fork bomb).
*/
#include "yamljson.h"

#include <jansson.h>
#include <yaml.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64
#define MAX_NODES 200000

struct conv {
  yaml_document_t *doc;
  size_t nodes;
  struct hoist_err *err;
  const char *name;
  int rc;
};

static int fail_at(struct conv *c, const yaml_node_t *n, const char *what)
{
  if (!c->rc)
    c->rc = hoist_err_set(c->err, HOIST_EINVAL, "%s:%lu:%lu: %s", c->name,
                          n ? (unsigned long)n->start_mark.line + 1 : 0ul,
                          n ? (unsigned long)n->start_mark.column + 1 : 0ul, what);
  return c->rc;
}

static int all_digits(const char *s, const char *set)
{
  if (!*s)
    return 0;
  return strspn(s, set) == strlen(s);
}

/* A plain scalar by the YAML 1.2 core schema. */
static json_t *plain_scalar(const char *s)
{
  const char *d = s[0] == '-' || s[0] == '+' ? s + 1 : s;
  char *end;
  if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
    return json_null();
  if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
    return json_true();
  if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
    return json_false();
  if (all_digits(d, "0123456789")) {
    long long v;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (!errno && !*end)
      return json_integer(v);
    return json_string(s);
  }
  if (!strncmp(s, "0x", 2) && all_digits(s + 2, "0123456789abcdefABCDEF")) {
    errno = 0;
    long long v = strtoll(s + 2, &end, 16);
    return !errno && !*end ? json_integer(v) : json_string(s);
  }
  if (!strncmp(s, "0o", 2) && all_digits(s + 2, "01234567")) {
    errno = 0;
    long long v = strtoll(s + 2, &end, 8);
    return !errno && !*end ? json_integer(v) : json_string(s);
  }
  if (strpbrk(d, "0123456789") && strspn(d, "0123456789.eE+-") == strlen(d) && strchr("0123456789.", d[0])) {
    double v;
    errno = 0;
    v = strtod(s, &end);
    if (!errno && !*end)
      return json_real(v);
  }
  return json_string(s);
}

static json_t *convert(struct conv *c, yaml_node_t *n, int depth);

/* The "<<" merge key: the keys of the merged mapping(s) that are not set already. */
static int merge_into(struct conv *c, json_t *obj, yaml_node_t *v, int depth)
{
  /* a list of merges may hold itself through an alias ("<<: &a [*a]"): bounded like nesting */
  if (depth > MAX_DEPTH)
    return fail_at(c, v, "nested too deep");
  if (v->type == YAML_SEQUENCE_NODE) {
    yaml_node_item_t *it;
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
      yaml_node_t *m = yaml_document_get_node(c->doc, *it);
      if (!m || merge_into(c, obj, m, depth + 1))
        return c->rc ? c->rc : fail_at(c, v, "a merge key (<<) needs mappings");
    }
    return HOIST_OK;
  }
  if (v->type != YAML_MAPPING_NODE)
    return fail_at(c, v, "a merge key (<<) needs a mapping or a list of mappings");
  {
    json_t *m = convert(c, v, depth + 1);
    const char *k;
    json_t *x;
    if (!m)
      return c->rc;
    json_object_foreach(m, k, x) {
      if (!json_object_get(obj, k))
        json_object_set(obj, k, x);
    }
    json_decref(m);
  }
  return HOIST_OK;
}

static json_t *convert(struct conv *c, yaml_node_t *n, int depth)
{
  if (depth > MAX_DEPTH) {
    fail_at(c, n, "nested too deep");
    return NULL;
  }
  if (++c->nodes > MAX_NODES) {
    fail_at(c, n, "too many values (aliases expanded)");
    return NULL;
  }
  switch (n->type) {
  case YAML_SCALAR_NODE: {
    const char *s = (const char *)n->data.scalar.value;
    json_t *v;
    if (strlen(s) != n->data.scalar.length) {
      fail_at(c, n, "a NUL byte in a value");
      return NULL;
    }
    v = n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_scalar(s) : json_string(s);
    if (!v)
      fail_at(c, n, "a value that is not UTF-8");
    return v;
  }
  case YAML_SEQUENCE_NODE: {
    json_t *arr = json_array();
    yaml_node_item_t *it;
    for (it = n->data.sequence.items.start; arr && it < n->data.sequence.items.top; it++) {
      json_t *v = convert(c, yaml_document_get_node(c->doc, *it), depth + 1);
      if (!v || json_array_append_new(arr, v)) {
        json_decref(arr);
        return NULL;
      }
    }
    return arr;
  }
  case YAML_MAPPING_NODE: {
    json_t *obj = json_object();
    yaml_node_pair_t *p;
    yaml_node_t *merge = NULL;
    for (p = n->data.mapping.pairs.start; obj && p < n->data.mapping.pairs.top; p++) {
      yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
      yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
      json_t *jv;
      if (!k || !v || k->type != YAML_SCALAR_NODE) {
        fail_at(c, k, "a mapping key must be a plain value");
        json_decref(obj);
        return NULL;
      }
      if (k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !strcmp((char *)k->data.scalar.value, "<<")) {
        merge = v;
        continue;
      }
      if (json_object_get(obj, (char *)k->data.scalar.value)) {
        fail_at(c, k, "a key is set twice in one mapping");
        json_decref(obj);
        return NULL;
      }
      jv = convert(c, v, depth + 1);
      if (!jv || json_object_set_new(obj, (char *)k->data.scalar.value, jv)) {
        if (jv)
          fail_at(c, k, "a key that is not UTF-8");
        json_decref(obj);
        return NULL;
      }
    }
    if (obj && merge && merge_into(c, obj, merge, depth)) {
      json_decref(obj);
      return NULL;
    }
    return obj;
  }
  default:
    fail_at(c, n, "an empty node");
    return NULL;
  }
}

int hoist_yaml_to_json(const char *text, size_t len, const char *name, char **out, size_t *out_len,
                       struct hoist_err *err)
{
  yaml_parser_t parser;
  yaml_document_t doc, extra;
  struct conv c;
  json_t *root = NULL;
  int rc = HOIST_OK;

  *out = NULL;
  if (!yaml_parser_initialize(&parser))
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  if (!yaml_parser_load(&parser, &doc)) {
    rc = hoist_err_set(err, HOIST_EINVAL, "%s:%lu:%lu: %s%s%s", name,
                       (unsigned long)parser.problem_mark.line + 1,
                       (unsigned long)parser.problem_mark.column + 1,
                       parser.problem ? parser.problem : "not valid YAML",
                       parser.context ? " " : "", parser.context ? parser.context : "");
    yaml_parser_delete(&parser);
    return rc;
  }
  memset(&c, 0, sizeof c);
  c.doc = &doc;
  c.err = err;
  c.name = name;
  {
    yaml_node_t *top = yaml_document_get_root_node(&doc);
    if (!top) {
      rc = hoist_err_set(err, HOIST_EINVAL, "%s: the document is empty", name);
    } else {
      root = convert(&c, top, 0);
      rc = root ? HOIST_OK : c.rc;
    }
  }
  yaml_document_delete(&doc);
  /* a second document is not something a compose file has: say so rather than drop it */
  if (!rc && yaml_parser_load(&parser, &extra)) {
    if (yaml_document_get_root_node(&extra))
      rc = hoist_err_set(err, HOIST_EINVAL, "%s:%lu: a second YAML document (only one is read)", name,
                         (unsigned long)extra.start_mark.line + 1);
    yaml_document_delete(&extra);
  }
  yaml_parser_delete(&parser);
  if (!rc) {
    *out = json_dumps(root, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!*out)
      rc = hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    else
      *out_len = strlen(*out);
  }
  json_decref(root);
  return rc;
}
