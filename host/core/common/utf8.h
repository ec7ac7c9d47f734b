/*
** utf8.h: strict UTF-8 validation, as jansson and OCI require it.
*/
#ifndef HOIST_UTF8_H
#define HOIST_UTF8_H

#include <stddef.h>

/*
** Whether s[0..n) is UTF-8 with no overlong forms, no surrogates and nothing
** above U+10FFFF. NUL bytes are allowed (JSON escapes them; callers that
** cannot hold them check separately).
*/
int hoist_utf8_valid(const char *s, size_t n);

#endif
