/*
** base64: the standard alphabet with padding (RFC 4648 section 4), as cosign
** stores signatures and Go's encoding/json stores []byte. Decoding is strict:
** no whitespace, no missing or misplaced padding, no bits left over, so that
** one signature has exactly one spelling.
*/
#ifndef HOIST_BASE64_H
#define HOIST_BASE64_H

#include "err.h"

#include <stddef.h>

/* Encodes in[0..n) into a new NUL-terminated string (free() it); *outlen without the NUL. */
int hoist_base64_encode(const void *in, size_t n, char **out, size_t *outlen, struct hoist_err *err);

/* Decodes s[0..n) into a new buffer (free() it; NUL-terminated for convenience). */
int hoist_base64_decode(const char *s, size_t n, unsigned char **out, size_t *outlen,
                        struct hoist_err *err);

#endif
