/*
** authhdr: the WWW-Authenticate header of a registry's 401 (RFC 7235 and
** RFC 9110 section 11), reduced to what the token flow needs.
**
**   WWW-Authenticate: Bearer realm="https://auth.example/token",
**                     service="registry.example",scope="repository:acme/app:pull,push"
**
** The header holds one or more challenges, separated by commas: a scheme, then
** either a token68 or comma-separated auth-params `key=token` or
** `key="quoted \"escaped\" value"`. Schemes and keys are case-insensitive,
** whitespace around '=' and ',' is tolerated, empty list elements are skipped.
** Several header fields of a response may be joined with ", " into one
** value. An unquoted value is read up to whitespace or ',' even when it is not
** an RFC token (so `realm=https://a.example/token` works).
**
** Pure C, no Lua. Returns 0 or a negative HOIST_E* code and fills a
** caller-owned struct hoist_err (which may be NULL) with one line:
** "invalid WWW-Authenticate header: <what> at byte N near '<excerpt>'".
** Bounds: a header over HOIST_AUTHHDR_MAX bytes, more than
** HOIST_AUTHHDR_MAX_CHALLENGES challenges or more than HOIST_AUTHHDR_MAX_PARAMS
** auth-params in all is HOIST_ERANGE. A parameter repeated within one
** challenge is HOIST_EINVAL (RFC 9110: each name occurs once per challenge).
*/
#ifndef HOIST_AUTHHDR_H
#define HOIST_AUTHHDR_H

#include "err.h"

#include <stddef.h>

#define HOIST_AUTHHDR_MAX 8192
#define HOIST_AUTHHDR_MAX_PARAMS 32
#define HOIST_AUTHHDR_MAX_CHALLENGES 32

/*
** The parsed header. It is one allocation: every string points inside it, is
** NUL-terminated (quoted values are unescaped and never hold a NUL) and lives
** until hoist_authhdr_free. The Bearer fields describe the first Bearer
** challenge; they are NULL when it lacks the parameter or there is none.
*/
struct hoist_authhdr {
  size_t nchallenges;       /* challenges of any scheme (Basic, Bearer, Negotiate...) */
  int bearer;               /* 1 when a Bearer challenge is present */
  int basic;                /* 1 when a Basic challenge is offered */
  const char *realm;        /* Bearer realm: the token endpoint URL */
  const char *service;      /* Bearer service */
  const char *scope;        /* Bearer scope as given: one or more scopes separated by spaces */
  const char *error;        /* Bearer error, e.g. "insufficient_scope" */
  size_t nscopes;           /* scope split at runs of spaces and tabs (0 when scope is NULL) */
  const char *const *scopes;
  const char *basic_realm;  /* the first Basic challenge's realm */
};

/*
** Parses the header value s (len bytes; no NUL needed after them). A trailing
** CRLF and surrounding whitespace are ignored. On success *out is new
** (hoist_authhdr_free); on failure *out is NULL and nothing is allocated.
** A header with no challenge at all is HOIST_EINVAL.
*/
int hoist_authhdr_parse(const char *s, size_t len, struct hoist_authhdr **out,
                        struct hoist_err *err);

/* Frees a header from hoist_authhdr_parse; NULL is fine. */
void hoist_authhdr_free(struct hoist_authhdr *h);

#endif
