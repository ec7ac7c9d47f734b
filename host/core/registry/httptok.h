/*
** httptok.h: the RFC 9110 field-value grammar both structured headers hoist
** reads share (WWW-Authenticate in authhdr.c, Link in linkhdr.c): tokens,
** optional whitespace, quoted strings with quoted-pairs, list separators,
** case-insensitive names, and one error format:
**
**   invalid FIELD header: WHAT at byte N near 'EXCERPT'
**
** A cursor over one header value; nothing is allocated. Pure C, no Lua.
*/
#ifndef HOIST_HTTPTOK_H
#define HOIST_HTTPTOK_H

#include "err.h"

#include <stddef.h>

struct hoist_httptok {
  const char *s;
  size_t n, i;          /* the value is s[0..n); the cursor is at i */
  const char *field;    /* the header's name, for errors */
  struct hoist_err *err;
};

/*
** Starts a cursor over s[0..len) without a trailing CRLF (as a libcurl
** header callback hands it over) or trailing whitespace.
*/
void hoist_httptok_init(struct hoist_httptok *t, const char *field, const char *s, size_t len,
                        struct hoist_err *err);

int hoist_httptok_is_tchar(unsigned char c);     /* RFC 9110 tchar */
int hoist_httptok_is_ows(unsigned char c);       /* SP or HTAB */
int hoist_httptok_lower(unsigned char c);        /* ASCII only */
/* Whether a[0..an) and b[0..bn) are equal ignoring ASCII case. */
int hoist_httptok_eq_ci(const char *a, size_t an, const char *b, size_t bn);
int hoist_httptok_is_ci(const char *s, size_t n, const char *lit);

/* 1 when the cursor is at the end, or at byte c. */
int hoist_httptok_end(const struct hoist_httptok *t);
int hoist_httptok_at(const struct hoist_httptok *t, char c);

void hoist_httptok_ows(struct hoist_httptok *t);
/* Skips whitespace and commas: the empty elements a list may hold (", ,x"). */
void hoist_httptok_list_sep(struct hoist_httptok *t);
/* Consumes a token; returns its length (0: none there). */
size_t hoist_httptok_token(struct hoist_httptok *t);
/*
** Consumes a quoted-string at the cursor (the opening quote): qdtext is
** HTAB, SP, visible ASCII but '"' and '\', and bytes >= 0x80; a quoted-pair
** escapes HTAB, SP, visible ASCII or a byte >= 0x80. *val spans the inside,
** escapes included. Control characters and a missing close quote are errors.
*/
int hoist_httptok_quoted(struct hoist_httptok *t, const char **val, size_t *val_n);
/*
** Consumes an unquoted parameter value: visible ASCII but ',', '"' and the
** bytes of also_stop. Looser than a token, as registries send
** realm=https://a.example/token unquoted. Returns its length.
*/
size_t hoist_httptok_bare(struct hoist_httptok *t, const char *also_stop);
/* Copies v[0..n) to out without the backslashes of quoted-pairs; returns the length written. */
size_t hoist_httptok_unquote(const char *v, size_t n, char *out);

/* Records "invalid FIELD header: WHAT at byte N near '...'" and returns code. */
int hoist_httptok_fail(struct hoist_httptok *t, int code, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
