/*
** semver: semantic versions and ranges with npm's node-semver 7 as the reference.
**
** Pure C, no Lua. Every function that can fail returns 0 or a negative
** HOIST_E* code and fills a caller-owned struct hoist_err. Objects returned
** through an out parameter are owned by the caller and freed with the
** matching _free function; on failure nothing is returned and nothing leaks.
**
** Deliberate differences from node-semver (see README):
**   - numbers above 2^53-1 are rejected, as node does for major/minor/patch;
**     numeric prerelease identifiers beyond that compare exactly;
**   - a comma between comparators means AND (">= 1.4.7, < 2.0"), the form the
**     Docker extension api.version label uses; node rejects it.
*/
#ifndef HOIST_SEMVER_H
#define HOIST_SEMVER_H

#include "err.h"

#include <stddef.h>
#include <stdint.h>

enum {
  HOIST_SEMVER_LOOSE = 1,              /* accept "=v1.2.3", "1.2.3beta", leading zeros */
  HOIST_SEMVER_INCLUDE_PRERELEASE = 2, /* ranges match prereleases of any tuple */
  HOIST_SEMVER_RTL = 4,                /* coerce: take the rightmost candidate */
  HOIST_SEMVER_NO_TEXT = 8             /* parse: for comparing only; version and full stay "" */
};

#define HOIST_SEMVER_MAX_LENGTH 256
#define HOIST_SEMVER_MAX_SAFE_INTEGER 9007199254740991ULL

/* A prerelease or build identifier. */
struct hoist_semver_id {
  const char *str;   /* the identifier's text, NUL-terminated */
  uint64_t num;      /* the value when numeric and below 2^53-1 (else 0 and 'big' set) */
  uint32_t len;
  uint8_t numeric;   /* all digits: compared by numeric value */
  uint8_t big;       /* numeric but too large for num: compared as a digit string */
};

struct hoist_semver {
  uint64_t major, minor, patch;
  size_t npre, nbuild;
  struct hoist_semver_id *pre;
  struct hoist_semver_id *build;
  const char *version;  /* "M.m.p[-pre]": the canonical form without build */
  size_t version_len;
  const char *full;     /* version plus "+build" when there is build metadata */
  size_t full_len;
  size_t size;          /* bytes of the block holding all of this (see hoist_semver_parse_in) */
};

/* Parses s (len bytes). On success *out is a new version (hoist_semver_free). */
int hoist_semver_parse(const char *s, size_t len, int flags,
                       struct hoist_semver **out, struct hoist_err *err);
/*
** Like hoist_semver_parse, but builds the version inside buf (cap bytes,
** suitably aligned) without allocating. HOIST_ERANGE when it does not fit:
** then call hoist_semver_parse. Never pass such a version to hoist_semver_free.
*/
int hoist_semver_parse_in(const char *s, size_t len, int flags, void *buf, size_t cap,
                          struct hoist_semver **out, struct hoist_err *err);
/* Builds a version from parts; pre/build are dot-joined identifier strings or NULL. */
int hoist_semver_make(uint64_t major, uint64_t minor, uint64_t patch,
                      const char *pre, const char *build,
                      struct hoist_semver **out, struct hoist_err *err);
void hoist_semver_free(struct hoist_semver *v);

/* Precedence: -1, 0 or 1. Build metadata is ignored. */
int hoist_semver_compare(const struct hoist_semver *a, const struct hoist_semver *b);
/* Precedence, then build metadata (node's compareBuild), for a total order in sort. */
int hoist_semver_compare_build(const struct hoist_semver *a, const struct hoist_semver *b);

/* node's clean(): trims and drops leading '=' and 'v', then parses. */
int hoist_semver_clean(const char *s, size_t len, int flags,
                       struct hoist_semver **out, struct hoist_err *err);

/*
** node's coerce(): finds the first (or with RTL the last) run of up to three
** dot-separated numbers in s. *out is NULL when there is none (still 0 returned).
*/
int hoist_semver_coerce(const char *s, size_t len, int flags,
                        struct hoist_semver **out, struct hoist_err *err);

/*
** node's inc(). release: major minor patch premajor preminor prepatch
** prerelease release. identifier may be NULL. identifier_base is 0 or 1, or
** -1 for node's `false` (no number after the identifier).
** *out is the new version string (free()).
*/
int hoist_semver_inc(const struct hoist_semver *v, const char *release,
                     const char *identifier, int identifier_base, int flags,
                     char **out, struct hoist_err *err);

/* node's diff(): "major" "premajor" "minor" "preminor" "patch" "prepatch" "prerelease", or NULL if equal. */
const char *hoist_semver_diff(const struct hoist_semver *a, const struct hoist_semver *b);

/* ---- ranges ---- */

enum hoist_semver_op { HOIST_OP_ANY, HOIST_OP_EQ, HOIST_OP_LT, HOIST_OP_LE, HOIST_OP_GT, HOIST_OP_GE };

struct hoist_comparator {
  enum hoist_semver_op op;
  struct hoist_semver *v;  /* NULL for ANY */
  char *value;             /* "", ">=1.2.3", "<2.0.0-0" ... */
};

struct hoist_comparator_set {
  size_t n;
  struct hoist_comparator *c;
};

struct hoist_range {
  int flags;
  size_t nsets;
  struct hoist_comparator_set *sets;  /* OR of ANDs */
  char *formatted;                    /* node's Range.range ("" means any) */
};

int hoist_range_parse(const char *s, size_t len, int flags,
                      struct hoist_range **out, struct hoist_err *err);
void hoist_range_free(struct hoist_range *r);
/* 1 when v satisfies r, honouring node's prerelease rule and the range's flags. */
int hoist_range_test(const struct hoist_range *r, const struct hoist_semver *v);
/* node's minVersion(); *out NULL when no version satisfies the range. */
int hoist_range_min_version(const struct hoist_range *r, struct hoist_semver **out,
                            struct hoist_err *err);

#endif
