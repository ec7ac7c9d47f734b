/*
** strbuf: a growable byte string with a hard maximum (curl's dynbuf idea).
** Appending past the maximum, or failing to allocate, frees nothing the caller
** owns, leaves the buffer as it was and returns HOIST_ERANGE or HOIST_ENOMEM.
** The content is always NUL-terminated once anything was appended.
*/
#ifndef HOIST_STRBUF_H
#define HOIST_STRBUF_H

#include <stddef.h>

struct strbuf {
  char *buf;
  size_t len;
  size_t cap;
  size_t max;
};

void strbuf_init(struct strbuf *sb, size_t max);
void strbuf_release(struct strbuf *sb);          /* frees the memory; sb can be reused after init */
void strbuf_reset(struct strbuf *sb);            /* empties, keeps the memory */
int strbuf_add(struct strbuf *sb, const char *s, size_t n);
int strbuf_addstr(struct strbuf *sb, const char *s);
int strbuf_addch(struct strbuf *sb, char c);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the buffer to the caller (free() it); sb is left empty. Never NULL unless out of memory. */
char *strbuf_detach(struct strbuf *sb, size_t *len);

#endif
