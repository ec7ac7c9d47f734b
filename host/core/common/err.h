/*
** hoist_err: the error record every pure C core fills instead of printing.
** A core function returns 0 on success or a negative HOIST_E* code, and on
** failure writes a one-line, lowercase message naming the thing at fault.
*/
#ifndef HOIST_ERR_H
#define HOIST_ERR_H

#include <stddef.h>

enum hoist_errcode {
  HOIST_OK = 0,
  HOIST_EINVAL = -1,   /* the input is malformed (a user's mistake) */
  HOIST_ENOMEM = -2,   /* allocation failed */
  HOIST_EIO = -3,      /* the operating system refused */
  HOIST_ERANGE = -4,   /* a number or a length is beyond what we accept */
  HOIST_ENOENT = -5,   /* a file or folder that should exist does not */
  HOIST_EAUTH = -20,   /* authentication failed or was refused */
  HOIST_EREMOTE = -21, /* a remote (registry) answered with an error or out of spec */
  HOIST_ECANCELED = -22, /* a caller's callback asked to stop */
  HOIST_EINTR = -23    /* stopped by SIGINT or SIGTERM (see interrupt.h) */
};

struct hoist_err {
  int code;
  char msg[256];
};

/* Records code and a printf-style message in err (which may be NULL); returns code. */
int hoist_err_set(struct hoist_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
** Writes s[0..n) into dst for a one-line message: printable ASCII as is, any
** other byte as \xHH, and "..." when it does not fit. Returns dst.
*/
#define HOIST_ERR_SHOW_MAX 80
const char *hoist_err_show(char dst[HOIST_ERR_SHOW_MAX], const char *s, size_t n);

/*
** Writes the NUL-terminated name s into dst[0..cap) for a one-line message: printable
** ASCII and well-formed UTF-8 as they are, control characters and bytes that are not
** UTF-8 as \xHH (a file name with a newline or a Latin-1 byte stays one readable line),
** "..." when it does not fit. Returns dst.
*/
#define HOIST_ERR_NAME_MAX 400
const char *hoist_err_filename(char *dst, size_t cap, const char *s);

/* Stable short name of a code, e.g. "EINVAL", for Lua's third return value. */
const char *hoist_err_name(int code);

#endif
