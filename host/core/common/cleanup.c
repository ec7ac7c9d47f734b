#include "cleanup.h"

#include "fsutil.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct entry {
  char *path;
  struct entry *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct entry *head;

int hoist_cleanup_add(const char *path)
{
  struct entry *e = malloc(sizeof *e);
  if (!e || !(e->path = strdup(path))) {
    free(e);
    return -1;
  }
  pthread_mutex_lock(&mu);
  e->next = head;
  head = e;
  pthread_mutex_unlock(&mu);
  return 0;
}

void hoist_cleanup_forget(const char *path)
{
  struct entry **p;
  pthread_mutex_lock(&mu);
  for (p = &head; *p; p = &(*p)->next) {
    if (strcmp((*p)->path, path) == 0) {
      struct entry *e = *p;
      *p = e->next;
      free(e->path);
      free(e);
      break;
    }
  }
  pthread_mutex_unlock(&mu);
}

void hoist_cleanup_run(void)
{
  struct entry *e;
  pthread_mutex_lock(&mu);
  e = head;
  head = NULL;
  pthread_mutex_unlock(&mu);
  while (e) {
    struct entry *next = e->next;
    hoist_fs_remove_tree(e->path, NULL);
    free(e->path);
    free(e);
    e = next;
  }
}
