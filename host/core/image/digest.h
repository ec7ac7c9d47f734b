/*
** digest: streaming SHA-256 over OpenSSL's EVP interface, and the
** "sha256:<64 hex>" strings OCI uses to name content.
*/
#ifndef HOIST_DIGEST_H
#define HOIST_DIGEST_H

#include "err.h"

#include <stddef.h>

#define HOIST_DIGEST_LEN 71   /* "sha256:" + 64 hex digits */

struct hoist_digest {
  void *ctx;        /* EVP_MD_CTX */
  unsigned long long bytes;
};

int hoist_digest_init(struct hoist_digest *d, struct hoist_err *err);
int hoist_digest_update(struct hoist_digest *d, const void *buf, size_t len);
/* Writes "sha256:<hex>" (HOIST_DIGEST_LEN + 1 bytes with the NUL) and releases d. */
int hoist_digest_final(struct hoist_digest *d, char out[HOIST_DIGEST_LEN + 1]);
/* Releases d without a result (safe on an initialised or zeroed digest). */
void hoist_digest_release(struct hoist_digest *d);

/* One-shot digest of a buffer. */
int hoist_digest_buffer(const void *buf, size_t len, char out[HOIST_DIGEST_LEN + 1],
                        struct hoist_err *err);
/* Digest and size of a file, read in blocks. */
int hoist_digest_file(const char *path, char out[HOIST_DIGEST_LEN + 1], unsigned long long *size,
                      struct hoist_err *err);
/* Writes md[0..n) as 2n lowercase hex digits and a NUL into out. */
void hoist_hex(const unsigned char *md, unsigned n, char *out);

/* 1 when s is a well-formed "sha256:<64 lowercase hex>". */
int hoist_digest_valid(const char *s);

#endif
