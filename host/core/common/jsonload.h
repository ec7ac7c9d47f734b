/*
** jsonload.h: parse JSON text into a jansson tree, with integers beyond 64
** bits read as reals and errors that name the source, line and column.
*/
#ifndef HOIST_JSONLOAD_H
#define HOIST_JSONLOAD_H

#include <jansson.h>

#include <stddef.h>

/*
** Parses any JSON value (NUL in strings allowed). Returns a new reference,
** or NULL with msg[0..size) holding "invalid JSON[ in 'SOURCE'] at line L,
** column C: why" (source may be NULL).
*/
json_t *hoist_json_load(const char *s, size_t n, const char *source, char *msg, size_t size);

#endif
