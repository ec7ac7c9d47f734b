/*
** regtags: a repository's tags, across Link pages, for the registry client
** (registry.h), bounded against a registry that sends pages forever.
*/
#define _DEFAULT_SOURCE 1

#include "registry.h"

#include "http.h"
#include "linkhdr.h"
#include "registry_int.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
** Bounds on a tag listing: a registry (or something in its place) that sends
** pages forever must not take the memory or the time; a real repository
** stays far below them.
*/
#define TAGS_MAX 250000
#define TAGS_BYTES_MAX (64u << 20)
#define TAGS_EMPTY_PAGES_MAX 16

struct tag_pages {
  char **list;
  size_t count, cap;
  char **seen;                 /* every page URL asked for: a repeat means a loop */
  size_t nseen, seen_cap;
  unsigned long long bytes;
};

static void tag_pages_free(struct tag_pages *tp, int keep_list)
{
  size_t i;
  for (i = 0; i < tp->nseen; i++)
    free(tp->seen[i]);
  free(tp->seen);
  if (!keep_list) {
    for (i = 0; i < tp->count; i++)
      free(tp->list[i]);
    free(tp->list);
  }
}

/* Records url as asked for; HOIST_EREMOTE when it was asked for already. */
static int tag_page_visit(struct hoist_registry *r, struct tag_pages *tp, const char *url,
                          struct hoist_err *err)
{
  size_t i;
  for (i = 0; i < tp->nseen; i++)
    if (strcmp(tp->seen[i], url) == 0)
      return hoist_err_set(err, HOIST_EREMOTE, "registry '%s' sends tag pages without end (a next "
                           "page links back to one already read)", r->host);
  if (tp->nseen == tp->seen_cap) {
    size_t nc = tp->seen_cap ? tp->seen_cap * 2 : 16;
    char **ns = realloc(tp->seen, nc * sizeof *ns);
    if (!ns)
      return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    tp->seen = ns;
    tp->seen_cap = nc;
  }
  if (!(tp->seen[tp->nseen] = strdup(url)))
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  tp->nseen++;
  return HOIST_OK;
}

static int tag_add(struct hoist_registry *r, struct tag_pages *tp, const char *t, struct hoist_err *err)
{
  if (tp->count == TAGS_MAX)
    return hoist_err_set(err, HOIST_EREMOTE, "registry '%s' sends tag pages without end (more than "
                         "%d tags)", r->host, TAGS_MAX);
  if (tp->count == tp->cap) {
    size_t nc = tp->cap ? tp->cap * 2 : 64;
    char **nl = realloc(tp->list, nc * sizeof *nl);
    if (!nl)
      return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    tp->list = nl;
    tp->cap = nc;
  }
  if (!(tp->list[tp->count] = strdup(t)))
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  tp->count++;
  return HOIST_OK;
}

int hoist_registry_tags(struct hoist_registry *r, const char *repo, size_t page_size,
                        char ***tags, size_t *n, struct hoist_err *err)
{
  struct reg_target first;
  char *url = NULL;
  struct tag_pages tp;
  int rc = HOIST_OK, empty_run = 0;
  *tags = NULL;
  *n = 0;
  memset(&tp, 0, sizeof tp);
  if ((rc = reg_target(r, &first, repo, "pull", err, "/tags/list?n=%zu",
                       page_size ? page_size : 1000)) != HOIST_OK)
    return rc;
  url = strdup(first.url);
  if (!url)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  while (!rc && url) {
    struct hoist_http_req rq;
    struct hoist_http_resp rs;
    char link[4096];
    char *next = NULL;
    json_t *doc, *arr;
    size_t i, before = tp.count;
    if ((rc = tag_page_visit(r, &tp, url, err)) != HOIST_OK)
      break;
    reg_request(&rq, "GET", url);
    rq.max_response = 16u << 20;
    rc = reg_send_retry(r, first.scope, &rq, &rs, err);
    if (rc)
      break;
    if (rs.status == 404) {
      hoist_http_resp_release(&rs);  /* no such repository yet: no tags */
      break;
    }
    if (rs.status != 200) {
      rc = reg_remote_error(r, "the tag list", &rs, err);
      hoist_http_resp_release(&rs);
      break;
    }
    tp.bytes += rs.body.len;
    if (tp.bytes > TAGS_BYTES_MAX) {
      hoist_http_resp_release(&rs);
      rc = hoist_err_set(err, HOIST_EREMOTE, "registry '%s' sends tag pages without end (more than "
                         "%u MiB of tag lists)", r->host, TAGS_BYTES_MAX >> 20);
      break;
    }
    doc = json_loadb(rs.body.buf ? rs.body.buf : "", rs.body.len, 0, NULL);
    arr = doc ? json_object_get(doc, "tags") : NULL;
    if (!doc || (arr && !json_is_array(arr) && !json_is_null(arr))) {
      json_decref(doc);
      hoist_http_resp_release(&rs);
      rc = hoist_err_set(err, HOIST_EREMOTE, "registry '%s' answered the tag list with invalid JSON", r->host);
      break;
    }
    for (i = 0; !rc && json_is_array(arr) && i < json_array_size(arr); i++) {
      const char *t = json_string_value(json_array_get(arr, i));
      if (t)
        rc = tag_add(r, &tp, t, err);
    }
    json_decref(doc);
    empty_run = tp.count == before ? empty_run + 1 : 0;
    if (!rc && empty_run > TAGS_EMPTY_PAGES_MAX)
      rc = hoist_err_set(err, HOIST_EREMOTE, "registry '%s' sends tag pages without end (%d empty "
                         "pages in a row)", r->host, TAGS_EMPTY_PAGES_MAX + 1);
    {
      int long_link = 0;
      if (!rc && hoist_http_header_ex(&rs, "Link", link, sizeof link, &long_link))
        rc = hoist_linkhdr_next(link, strlen(link), url, &next, err);
      else if (!rc && long_link)
        rc = hoist_err_set(err, HOIST_EREMOTE, "registry '%s' sent a Link header longer than %zu bytes",
                           r->host, sizeof link - 1);
    }
    hoist_http_resp_release(&rs);
    free(url);
    url = next;
  }
  free(url);
  tag_pages_free(&tp, rc == HOIST_OK);
  if (rc)
    return rc;
  *tags = tp.list;
  *n = tp.count;
  return HOIST_OK;
}
