#include "imagefiles.h"

#include "strmap.h"

#include <stdlib.h>
#include <string.h>

struct state {
  struct strmap files;   /* path -> content */
  struct strmap dirs;    /* folders that exist (owned keys) */
  char *buf;          /* scratch for names */
  size_t bufcap;
};

static const char *base_of(const char *name)
{
  const char *slash = strrchr(name, '/');
  return slash ? slash + 1 : name;
}

/* buf := name[0..n) followed by tail; NULL when out of memory. */
static char *scratch(struct state *st, const char *name, size_t n, const char *tail)
{
  size_t t = strlen(tail);
  if (n + t + 1 > st->bufcap) {
    char *p = realloc(st->buf, 2 * (n + t + 1));
    if (!p)
      return NULL;
    st->buf = p;
    st->bufcap = 2 * (n + t + 1);
  }
  memcpy(st->buf, name, n);
  memcpy(st->buf + n, tail, t + 1);
  return st->buf;
}

/* A folder that goes away takes its files with it. */
static int forget_dir(struct state *st, const char *name)
{
  char *prefix;
  if (!strmap_has(&st->dirs, name))
    return 0;
  if (!(prefix = scratch(st, name, strlen(name), "/")))
    return -1;
  strmap_del_prefix(&st->files, prefix);
  strmap_del(&st->dirs, name);
  return 0;
}

/* The whiteouts of one layer, which act on the layers below it. */
static int whiteouts(struct state *st, const struct hoist_layer_files *l)
{
  size_t i;
  for (i = 0; i < l->n; i++) {
    const char *name = l->entries[i].name, *base = base_of(name);
    size_t dirlen = (size_t)(base - name);   /* with its "/" */
    char *p;
    if (strcmp(base, ".wh..wh..opq") == 0) {
      if (!(p = scratch(st, name, dirlen, "")))
        return -1;
      strmap_del_prefix(&st->files, p);
    } else if (strncmp(base, ".wh.", 4) == 0) {
      int rc;
      /* a copy: forget_dir writes the scratch buffer */
      if (!(p = malloc(dirlen + strlen(base + 4) + 1)))
        return -1;
      memcpy(p, name, dirlen);
      strcpy(p + dirlen, base + 4);
      strmap_del(&st->files, p);
      rc = forget_dir(st, p);
      free(p);
      if (rc != 0)
        return -1;
    }
  }
  return 0;
}

static int add_parents(struct state *st, const char *name)
{
  size_t n = strlen(name);
  while (n > 0) {
    char *d;
    while (n > 0 && name[n - 1] != '/')
      n--;
    if (n == 0)
      break;
    n--;   /* the folder's name, without its "/" */
    if (!(d = scratch(st, name, n, "")))
      return -1;
    if (strmap_has(&st->dirs, d))
      break;   /* and so are its parents */
    if (strmap_put(&st->dirs, d, NULL) != 0)
      return -1;
  }
  return 0;
}

static int apply_layer(struct state *st, const struct hoist_layer_files *l)
{
  struct strmap here;   /* this layer's files, for its hard links: kept only when it has some */
  size_t i;
  int rc = 0, links = 0;
  strmap_init(&here, 0);
  for (i = 0; !links && i < l->n; i++)
    links = l->entries[i].type == 'h';
  for (i = 0; rc == 0 && i < l->n; i++) {
    const struct hoist_layer_entry *e = &l->entries[i], *f = NULL;
    if (e->name[0] == '\0' || strncmp(base_of(e->name), ".wh.", 4) == 0)
      continue;
    if (e->type == 'd') {
      strmap_del(&st->files, e->name);
      rc = strmap_has(&st->dirs, e->name) ? 0 : strmap_put(&st->dirs, e->name, NULL);
      continue;
    }
    if (forget_dir(st, e->name) != 0)
      rc = -1;
    if (e->type == 'f')
      f = e;
    else if (e->type == 'h' && e->link) {
      f = strmap_get(&here, e->link);   /* never NULL when present */
      if (!f)
        f = strmap_get(&st->files, e->link);
    }
    if (f) {
      if (rc == 0)
        rc = strmap_put(&st->files, e->name, f) || (links && strmap_put(&here, e->name, f)) || add_parents(st, e->name);
    } else {
      strmap_del(&st->files, e->name);
      strmap_del(&here, e->name);
    }
  }
  strmap_free(&here);
  return rc;
}

static int by_path(const void *a, const void *b)
{
  return strcmp(((const struct hoist_image_file *)a)->path, ((const struct hoist_image_file *)b)->path);
}

int hoist_image_files_apply(const struct hoist_layer_files *const *layers, size_t n,
                            struct hoist_image_files *out, struct hoist_err *err)
{
  struct state st = { 0 };
  size_t i, k = 0;
  int rc = 0;
  memset(out, 0, sizeof *out);
  strmap_init(&st.files, 0);
  strmap_init(&st.dirs, 1);
  for (i = 0; rc == 0 && i < n; i++)
    rc = whiteouts(&st, layers[i]) || apply_layer(&st, layers[i]);
  if (rc == 0 && !(out->files = calloc(st.files.live + 1, sizeof *out->files)))
    rc = -1;
  for (i = 0; rc == 0 && i < st.files.cap; i++)
    if (st.files.s[i].live) {
      out->files[k].path = st.files.s[i].key;
      out->files[k].content = st.files.s[i].val;
      k++;
    }
  out->n = k;
  strmap_free(&st.files);
  strmap_free(&st.dirs);
  free(st.buf);
  if (rc != 0) {
    hoist_image_files_free(out);
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  }
  qsort(out->files, out->n, sizeof *out->files, by_path);
  return HOIST_OK;
}

void hoist_image_files_free(struct hoist_image_files *f)
{
  free(f->files);
  memset(f, 0, sizeof *f);
}
