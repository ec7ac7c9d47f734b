/*
** semver_scan.h: the scanners semver.c (versions) and semver_range.c (ranges)
** share. Private to those files; the public interface is semver.h.
**
** Each scanner reproduces one of node-semver's "safe" regexes by a greedy
** scan and returns the end of its match (or NPOS when it does not match).
*/
#ifndef HOIST_SEMVER_SCAN_H
#define HOIST_SEMVER_SCAN_H

#include "semver.h"

#include <stddef.h>
#include <stdint.h>

#define MAX_LENGTH HOIST_SEMVER_MAX_LENGTH
#define MAX_SAFE_BUILD_LENGTH (MAX_LENGTH - 6)
#define MAX_SAFE HOIST_SEMVER_MAX_SAFE_INTEGER
#define NPOS ((size_t)-1)
#define WORK_MAX (1u << 20)  /* bound for every intermediate range string */

static inline int is_digit(char c) { return c >= '0' && c <= '9'; }
static inline int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static inline int is_idchar(char c) { return is_digit(c) || is_alpha(c) || c == '-'; }

struct tail {
  size_t pre_s, pre_e;  /* pre_s == pre_e: no prerelease */
  size_t bld_s, bld_e;  /* no build when equal */
};

/* The captures of FULLPLAIN / LOOSEPLAIN. */
struct vmatch {
  size_t maj_s, maj_e, min_s, min_e, pat_s, pat_e;
  struct tail t;
};

size_t sv_ws_len(const char *s, size_t i, size_t n);
void sv_trim(const char **s, size_t *n);
size_t sv_js_length(const char *s, size_t n);
size_t sv_digit_run(const char *s, size_t i, size_t n);
size_t sv_id_run(const char *s, size_t i, size_t n);
int sv_to_u64(const char *s, size_t n, uint64_t *out);
size_t sv_scan_pre_ids(const char *s, size_t i, size_t n, int loose);
size_t sv_scan_tail(const char *s, size_t i, size_t n, int loose, struct tail *t);
size_t sv_scan_number(const char *s, size_t i, size_t n, int loose);
int sv_match_version(const char *s, size_t n, int loose, struct vmatch *m);

#endif
