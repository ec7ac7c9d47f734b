#include "err.h"

#include <stdarg.h>
#include <stdio.h>

int hoist_err_set(struct hoist_err *err, int code, const char *fmt, ...)
{
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return code;
}

const char *hoist_err_name(int code)
{
  switch (code) {
  case HOIST_OK: return "OK";
  case HOIST_EINVAL: return "EINVAL";
  case HOIST_ENOMEM: return "ENOMEM";
  case HOIST_EIO: return "EIO";
  case HOIST_ERANGE: return "ERANGE";
  case HOIST_ENOENT: return "ENOENT";
  default: return "EUNKNOWN";
  }
}
