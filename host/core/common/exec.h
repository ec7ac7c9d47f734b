/*
** exec: runs one program from an argv list (never a shell string) and waits
** for it. The environment is hoist's (or empty) with overrides on top; stdin
** is a string or /dev/null; stdout and stderr are captured into bounded
** buffers (read together in a poll loop, so a child that fills one pipe while
** we feed the other never deadlocks) or go straight to hoist's own. A timeout
** kills the child. Writing stdin to a child that has exited is not fatal:
** SIGPIPE is held off in the calling thread for the duration of the run.
**
** Messages name the program (argv[0]) only: arguments may hold secrets.
*/
#ifndef HOIST_EXEC_H
#define HOIST_EXEC_H

#include "err.h"

#include <stddef.h>

#define HOIST_ETIMEDOUT (-30) /* the program ran past its timeout and was killed */

#define HOIST_EXEC_OUTPUT_MAX_DEFAULT ((size_t)64 << 20)

struct hoist_exec_opts {
  const char *const *argv; /* NULL-terminated; argv[0] without '/' is looked up on PATH */
  const char *const *env;  /* NULL-terminated overrides, or NULL: "NAME=VALUE" sets, "NAME" unsets */
  int clear_env;           /* start from an empty environment instead of hoist's */
  const char *cwd;         /* the child's working folder, or NULL for hoist's */
  const char *input;       /* stdin content (input_len bytes), or NULL for /dev/null */
  size_t input_len;
  int passthrough;         /* 1: the child writes to hoist's stdout/stderr; 0: captured */
  double timeout;          /* seconds; <= 0: wait as long as it takes */
  size_t output_max;       /* bound of each captured stream; 0: 64 MiB */
};

struct hoist_exec_result {
  int code;            /* the exit status; 128 + signal when a signal ended it (as shells say) */
  int signal;          /* the signal that ended it, or 0 */
  char *out, *err;     /* captured stdout and stderr, malloc'd and NUL-terminated; NULL when passed through */
  size_t out_len, err_len;
};

/*
** Runs o->argv and waits for it. PATH is taken from the environment the child
** gets (so an override of PATH decides where argv[0] is found), relative to
** o->cwd. Returns 0 when the program ran to its end, whatever its exit status.
** Failures: HOIST_ENOENT / HOIST_EIO "cannot run 'NAME': <strerror>" (nothing
** ran), HOIST_ETIMEDOUT (killed at the timeout), HOIST_ERANGE (a captured
** stream passed its bound: killed), HOIST_EINVAL (no argv), HOIST_ENOMEM.
** After a timeout or an overflow *res still holds the status and what was
** captured. Release *res with hoist_exec_result_release on every path.
*/
int hoist_exec_run(const struct hoist_exec_opts *o, struct hoist_exec_result *res,
                   struct hoist_err *err);

/* Frees the captured output; res can be released twice. */
void hoist_exec_result_release(struct hoist_exec_result *res);

#endif
