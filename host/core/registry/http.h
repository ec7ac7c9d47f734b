/*
** http: one HTTP request at a time on libcurl, for the registry client.
**
** Bodies stream: a request body comes from memory or from a range of a file
** (read with pread, never loaded whole); a response body is kept in memory up
** to a bound (errors and manifests are small), or, when it is a success (2xx)
** and the request names a sink, handed to the sink as it arrives (blobs go to
** disk this way and never sit in memory). Only the final
** response's headers are kept. Connections are reused between requests of
** one client. Redirects are followed only when asked, and libcurl then drops
** the Authorization header when the scheme, host or port changes, so
** credentials never leave the registry they belong to; an https request is
** never redirected to http. libcurl speaks http and https only (a URL or a
** redirect naming file:, gopher: or anything else fails).
**
** Every request has a deadline: opts.deadline_ms (30 s by default) plus the
** time the bytes it moves take at 64 KiB/s, the bytes being the larger of
** req.expected_bytes and the sizes the transfer announces (Content-Length).
** A server that trickles a small answer is given up on after the base, a big
** upload or download gets time in proportion. A transfer also stops at once
** when hoist_interrupted() (SIGINT/SIGTERM).
*/
#ifndef HOIST_HTTP_H
#define HOIST_HTTP_H

#include "err.h"
#include "strbuf.h"

#include <stddef.h>

struct hoist_http;

struct hoist_http_resp;

struct hoist_http_opts {
  int insecure_tls;        /* skip certificate checks (the user asked with --insecure) */
  long connect_timeout_ms; /* 0: 30 s */
  long timeout_ms;         /* whole request; 0: none (big uploads) */
  long low_speed_secs;     /* abort when slower than 1 byte/s for this long; 0: 60 */
  long deadline_ms;        /* the base of every request's deadline (see above); 0: 30 s */
};

#define HOIST_HTTP_DEADLINE_DEFAULT_MS 30000L
#define HOIST_HTTP_MIN_RATE (64u * 1024u) /* bytes/s the deadline allows for the payload */

struct hoist_http_req {
  const char *method;              /* GET HEAD PUT POST PATCH DELETE */
  const char *url;
  const char *const *headers;      /* "Name: value" lines */
  size_t nheaders;
  const void *body;                /* a body in memory, or */
  size_t body_len;
  const char *body_path;           /* a body read from this file, */
  unsigned long long body_offset;  /* from this offset, */
  unsigned long long body_size;    /* this many bytes */
  int has_body;                    /* send a body (possibly empty) */
  size_t max_response;             /* response bytes kept; beyond: HOIST_ERANGE (0: 1 MiB) */
  int follow_redirects;
  unsigned long long expected_bytes; /* what this request moves (a blob's size): scales the deadline */
  /*
  ** The body of a 2xx final response goes here instead of memory (other
  ** statuses still fill resp->body, for their error message). resp holds
  ** that response's status and headers already (a 206's Content-Range, say).
  ** A non-zero return aborts the transfer: hoist_http_do then returns that
  ** code with resp->sink_error set and a generic message the caller is
  ** expected to replace (it knows why).
  */
  int (*sink)(void *ctx, const struct hoist_http_resp *resp, const char *data, size_t len);
  void *sink_ctx;
};

struct hoist_http_resp {
  long status;                 /* 0 when no response came */
  struct strbuf body;
  struct strbuf head;          /* the final response's header lines */
  int transport_error;         /* connection refused, reset, timed out: worth retrying */
  int timed_out;               /* the request's deadline passed (transport_error is set too) */
  int sink_error;              /* the sink refused data (its code is what hoist_http_do returned) */
};

int hoist_http_new(const struct hoist_http_opts *o, struct hoist_http **out, struct hoist_err *err);
void hoist_http_free(struct hoist_http *h);

/*
** From now on, the request body bytes libcurl reports as sent (its transfer callback) on h are
** added to *counter (NULL: no longer counted), which another thread may read: a push reports
** progress inside a blob this way. A body sent again (a redirect, a retry) counts again.
*/
void hoist_http_count_sent(struct hoist_http *h, _Atomic unsigned long long *counter);

/*
** Performs req. resp is initialised here; release it with hoist_http_resp_release.
** Returns 0 whenever a response arrived (whatever its status), else an error
** naming the URL's host (never its credentials) with resp->transport_error set;
** resp then holds no memory (releasing it again is harmless).
*/
int hoist_http_do(struct hoist_http *h, const struct hoist_http_req *req,
                  struct hoist_http_resp *resp, struct hoist_err *err);
void hoist_http_resp_release(struct hoist_http_resp *resp);

/*
** The last value of a response header (case-insensitive name), trimmed, into buf; NULL if absent.
** A value that does not fit in buf is never cut short: NULL too, and *too_long (when given) is
** set, so a caller can say that a header was too long rather than missing.
*/
const char *hoist_http_header_ex(const struct hoist_http_resp *resp, const char *name, char *buf,
                                 size_t cap, int *too_long);
#define hoist_http_header(resp, name, buf, cap) hoist_http_header_ex((resp), (name), (buf), (cap), NULL)

#endif
