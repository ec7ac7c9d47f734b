/*
** linkhdr: the rel="next" target of an HTTP Link header (RFC 8288), as tag
** listing and referrers pages use it, and RFC 3986 reference resolution,
** which a Location header needs too.
**
**   Link: </v2/acme/app/tags/list?n=100&last=1.2.0>; rel="next"
**
** The header holds comma-separated link-values `<URI-Reference>` followed by
** `; param` or `; param=token` or `; param="quoted"` (case-insensitive names,
** whitespace tolerated around ';', '=' and ','). rel holds one or more
** space-separated relation types, compared case-insensitively; a rel after
** the first of one link is ignored, as RFC 8288 requires. The first link whose
** rel includes "next" wins. Several Link fields of a response may be joined
** with ", " into one value.
**
** Pure C, no Lua. Returns 0 or a negative HOIST_E* code and fills a
** caller-owned struct hoist_err (which may be NULL) with one line. Bounds: a
** header over HOIST_LINKHDR_MAX bytes, more than HOIST_LINKHDR_MAX_LINKS links
** or more than HOIST_LINKHDR_MAX_PARAMS params in all is HOIST_ERANGE.
*/
#ifndef HOIST_LINKHDR_H
#define HOIST_LINKHDR_H

#include "err.h"

#include <stddef.h>

#define HOIST_LINKHDR_MAX 8192
#define HOIST_LINKHDR_MAX_LINKS 32
#define HOIST_LINKHDR_MAX_PARAMS 32

/*
** Finds the rel="next" link of the header value s (len bytes; no NUL needed
** after them; a trailing CRLF is ignored) and resolves its target against
** base (see hoist_url_resolve). *next is then a new string (free()), or NULL
** when the header is well-formed but has no next link (0 is returned: the
** last page). On failure *next is NULL: HOIST_EINVAL for a malformed header,
** a next target that is not an http(s) URL once resolved, or a bad base.
*/
int hoist_linkhdr_next(const char *s, size_t len, const char *base, char **next,
                       struct hoist_err *err);

/*
** Resolves the URI reference ref (ref_len bytes) against base (NUL-terminated)
** by RFC 3986 section 5.2: "https://r.example" or a full request URL such as
** "https://r.example:5000/v2/acme/app/tags/list?n=10". base must be an
** absolute http or https URL with a host; the result must be one too. An
** absolute ref is kept (dot segments removed), "//host/p" takes base's scheme,
** "/p" base's scheme and host, "?q" and "p" are read relative to base's path.
** The fragment is dropped (it is never sent). Bytes outside visible ASCII are
** refused. *out is a new string (free()); on failure *out is NULL.
*/
int hoist_url_resolve(const char *base, const char *ref, size_t ref_len, char **out,
                      struct hoist_err *err);

/*
** The origin of an absolute http(s) URL as "scheme://host:port", lower case,
** with the scheme's default port filled in (80, 443), into out. Credentials
** are only ever sent to the origin they belong to, so two URLs go to the
** same place exactly when their origins are equal strings. A URL that is not
** absolute http(s), or that holds user information ("user@host"), is
** HOIST_EINVAL; an origin longer than cap-1 is HOIST_ERANGE.
*/
int hoist_url_origin(const char *url, char *out, size_t cap, struct hoist_err *err);

#endif
