#define _GNU_SOURCE 1 /* posix_spawn_file_actions_addchdir_np, pipe2, environ */

#include "exec.h"

#include "interrupt.h"

#include "strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IO_CHUNK 65536
#define DEFAULT_PATH "/bin:/usr/bin" /* what execvp uses when PATH is unset */

void hoist_exec_result_release(struct hoist_exec_result *res)
{
  free(res->out);
  free(res->err);
  res->out = res->err = NULL;
  res->out_len = res->err_len = 0;
}

static size_t name_len(const char *entry)
{
  const char *eq = strchr(entry, '=');
  return eq ? (size_t)(eq - entry) : strlen(entry);
}

/*
** The child's environment as an array of pointers into environ and o->env (no
** copies: both outlive the spawn). An override replaces every entry of its name.
*/
static const char **build_env(const struct hoist_exec_opts *o)
{
  size_t n = 0, k = 0, i, j;
  const char **envp;
  if (!o->clear_env)
    for (i = 0; environ[i]; i++)
      n++;
  if (o->env)
    for (i = 0; o->env[i]; i++)
      n++;
  envp = calloc(n + 1, sizeof *envp);
  if (!envp)
    return NULL;
  if (!o->clear_env)
    for (i = 0; environ[i]; i++)
      envp[k++] = environ[i];
  for (i = 0; o->env && o->env[i]; i++) {
    const char *ov = o->env[i];
    size_t len = name_len(ov);
    for (j = 0; j < k;) {
      if (name_len(envp[j]) == len && strncmp(envp[j], ov, len) == 0)
        envp[j] = envp[--k];
      else
        j++;
    }
    if (ov[len] == '=')
      envp[k++] = ov;
  }
  envp[k] = NULL;
  return envp;
}

static const char *env_get(const char **envp, const char *name)
{
  size_t len = strlen(name);
  for (; *envp; envp++)
    if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
      return *envp + len + 1;
  return NULL;
}

/*
** Finds name the way execvp would, but on the child's PATH and from the
** child's folder, so that env = { PATH = ... } and cwd mean what they say.
** Leaves in out what to hand posix_spawnp; returns 0 or an errno value.
*/
/* Whether candidate (relative to cwd when it is relative) is an executable file: 0 or an errno. */
static int probe_program(const char *candidate, const char *cwd)
{
  struct strbuf probe;
  struct stat st;
  int e = 0;
  strbuf_init(&probe, PATH_MAX);
  if (((candidate[0] == '/' || !cwd) ? strbuf_addstr(&probe, candidate)
                                     : strbuf_addf(&probe, "%s/%s", cwd, candidate)) != 0)
    e = ENAMETOOLONG;
  else if (stat(probe.buf, &st) != 0)
    e = errno;
  else if (!S_ISREG(st.st_mode) || access(probe.buf, X_OK) != 0)
    e = EACCES;
  strbuf_release(&probe);
  return e;
}

static int find_program(const char *name, const char *path, const char *cwd, struct strbuf *out)
{
  int seen_eacces = 0, e;
  if (!*name)
    return ENOENT;
  /* checked here too, not only by posix_spawn: where it runs the child as a
  ** real fork (valgrind does), a failed exec is only an exit status of 127 */
  if (strchr(name, '/'))
    return (e = probe_program(name, cwd)) != 0 ? e : strbuf_addstr(out, name) ? ENAMETOOLONG : 0;
  if (!path)
    path = DEFAULT_PATH;
  for (;;) {
    const char *end = strchr(path, ':');
    size_t n = end ? (size_t)(end - path) : strlen(path);
    strbuf_reset(out);
    /* an empty PATH entry is the current folder, as for the shell */
    if (strbuf_add(out, n ? path : ".", n ? n : 1) == 0 && strbuf_addch(out, '/') == 0 &&
        strbuf_addstr(out, name) == 0) {
      e = probe_program(out->buf, cwd);
      if (e == 0)
        return 0;
      seen_eacces |= e == EACCES;
    }
    if (!end)
      break;
    path = end + 1;
  }
  strbuf_reset(out);
  return seen_eacces ? EACCES : ENOENT;
}

static double now_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Milliseconds until deadline for poll (-1: none; 0: already past). */
static int ms_until(double deadline)
{
  double left;
  if (deadline <= 0)
    return -1;
  left = deadline - now_seconds();
  if (left <= 0)
    return 0;
  return left > (double)INT_MAX / 1000 ? INT_MAX : (int)(left * 1000) + 1;
}

static void close_fd(int *fd)
{
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

/* The state of one run, so that the error paths share one cleanup. */
struct run {
  pid_t pid;
  int in, out, err; /* our ends: stdin's write end, stdout's and stderr's read ends */
  const char *input;
  size_t input_len, input_off;
  struct strbuf out_buf, err_buf;
  double deadline;
  int timed_out, overflowed, reaped, status;
  int forwarded;    /* SIGINT/SIGTERM reached us and was passed on to the child */
};

/* When hoist is asked to stop, the child is asked too (it may not share our process group). */
static void forward_stop(struct run *r)
{
  if (!r->forwarded && hoist_interrupted()) {
    r->forwarded = 1;
    kill(r->pid, SIGTERM);
  }
}

/* Reads what one pipe has; returns 0, or -1 when its buffer is full (the run must stop). */
static int drain(int *fd, struct strbuf *sb)
{
  char buf[IO_CHUNK];
  ssize_t n = read(*fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 0;
  if (n <= 0) {
    close_fd(fd);
    return 0;
  }
  return strbuf_add(sb, buf, (size_t)n) ? -1 : 0;
}

static void feed(struct run *r)
{
  size_t left = r->input_len - r->input_off;
  ssize_t n = write(r->in, r->input + r->input_off, left < IO_CHUNK ? left : IO_CHUNK);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n < 0) {
    /* EPIPE: the child stopped reading (exited, or closed stdin); the rest is not wanted */
    close_fd(&r->in);
    return;
  }
  r->input_off += (size_t)n;
  if (r->input_off == r->input_len)
    close_fd(&r->in); /* EOF for the child */
}

/* Moves bytes both ways until every pipe is closed, the deadline passes or a buffer fills. */
static void pump(struct run *r)
{
  while (r->in >= 0 || r->out >= 0 || r->err >= 0) {
    struct pollfd p[3];
    int np = 0, i, wait_ms = ms_until(r->deadline), ready;
    if (wait_ms == 0) {
      r->timed_out = 1;
      return;
    }
    if (r->in >= 0)
      p[np++] = (struct pollfd){.fd = r->in, .events = POLLOUT};
    if (r->out >= 0)
      p[np++] = (struct pollfd){.fd = r->out, .events = POLLIN};
    if (r->err >= 0)
      p[np++] = (struct pollfd){.fd = r->err, .events = POLLIN};
    ready = poll(p, (nfds_t)np, wait_ms);
    if (ready < 0 && errno == EINTR) {
      forward_stop(r);
      continue;
    }
    if (ready < 0)
      return; /* cannot happen with valid fds; waitpid still collects the child */
    for (i = 0; i < np; i++) {
      if (!p[i].revents)
        continue;
      if (p[i].fd == r->in)
        feed(r);
      else if ((p[i].fd == r->out ? drain(&r->out, &r->out_buf) : drain(&r->err, &r->err_buf)) != 0) {
        r->overflowed = 1;
        return;
      }
    }
  }
}

/* Waits for the child; with a deadline, kills it once the deadline passes. */
static void reap(struct run *r)
{
  int step_ms = 1;
  while (!r->reaped) {
    pid_t w;
    if (r->deadline > 0 && !r->timed_out && !r->overflowed) {
      w = waitpid(r->pid, &r->status, WNOHANG);
      if (w == 0) {
        int left = ms_until(r->deadline);
        if (left == 0) {
          r->timed_out = 1;
          kill(r->pid, SIGKILL);
          continue;
        }
        /* no pipe to poll (passed-through output): sleep in short, growing steps */
        poll(NULL, 0, left < step_ms ? left : step_ms);
        if (step_ms < 50)
          step_ms *= 2;
        continue;
      }
    } else {
      w = waitpid(r->pid, &r->status, 0);
    }
    if (w == r->pid)
      r->reaped = 1;
    else if (w < 0 && errno == EINTR)
      forward_stop(r);
    else if (w < 0)
      break; /* ECHILD: someone else reaped it (SIGCHLD ignored); nothing to report */
  }
}

static int make_pipe(int fds[2])
{
  return pipe2(fds, O_CLOEXEC);
}

int hoist_exec_run(const struct hoist_exec_opts *o, struct hoist_exec_result *res,
                   struct hoist_err *err)
{
  char name[HOIST_ERR_SHOW_MAX];
  int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
  const char **envp = NULL;
  struct strbuf prog;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t pipe_set, old_mask, pending;
  int rc = HOIST_OK, e, pipe_was_pending;
  struct run r;
  struct stat st;

  memset(res, 0, sizeof *res);
  if (!o->argv || !o->argv[0] || !o->argv[0][0])
    return hoist_err_set(err, HOIST_EINVAL, "no program to run");
  hoist_err_show(name, o->argv[0], strlen(o->argv[0]));
  /* checked here because a failed chdir in the child would read as a missing program */
  if (o->cwd) {
    e = stat(o->cwd, &st) != 0 ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR : 0;
    if (e)
      return hoist_err_set(err, HOIST_ENOENT, "cannot run '%s' in '%s': %s", name, o->cwd,
                           strerror(e));
  }
  envp = build_env(o);
  if (!envp)
    return hoist_err_set(err, HOIST_ENOMEM, "out of memory");
  strbuf_init(&prog, PATH_MAX);
  e = find_program(o->argv[0], env_get(envp, "PATH"), o->cwd, &prog);
  if (e) {
    free(envp);
    strbuf_release(&prog);
    return hoist_err_set(err, e == ENOENT ? HOIST_ENOENT : HOIST_EIO, "cannot run '%s': %s", name,
                         strerror(e));
  }

  memset(&r, 0, sizeof r);
  r.in = r.out = r.err = -1;
  r.input = o->input;
  r.input_len = o->input_len;
  r.deadline = o->timeout > 0 ? now_seconds() + o->timeout : 0;
  strbuf_init(&r.out_buf, o->output_max ? o->output_max : HOIST_EXEC_OUTPUT_MAX_DEFAULT);
  strbuf_init(&r.err_buf, o->output_max ? o->output_max : HOIST_EXEC_OUTPUT_MAX_DEFAULT);

  if ((o->input && make_pipe(pin) != 0) ||
      (!o->passthrough && (make_pipe(pout) != 0 || make_pipe(perr) != 0))) {
    rc = hoist_err_set(err, HOIST_EIO, "cannot run '%s': %s", name, strerror(errno));
    goto done_pipes;
  }

  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  if (o->input)
    posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
  else
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (!o->passthrough) {
    posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
    posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
  }
  /* last, so that opening /dev/null never depends on it */
  if (o->cwd)
    posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
  /* the child starts with hoist's mask minus SIGPIPE, and SIGPIPE at its default:
  ** programs like `yes | head` rely on dying quietly when a reader goes away */
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, NULL, &old_mask);
  sigdelset(&old_mask, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &old_mask);
  posix_spawnattr_setsigdefault(&attr, &pipe_set);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  e = posix_spawnp(&r.pid, prog.buf, &fa, &attr, (char *const *)o->argv, (char *const *)envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (e) {
    rc = hoist_err_set(err, e == ENOENT ? HOIST_ENOENT : HOIST_EIO, "cannot run '%s': %s", name,
                       strerror(e));
    goto done_pipes;
  }
  close_fd(&pin[0]);
  close_fd(&pout[1]);
  close_fd(&perr[1]);
  r.in = pin[1];
  r.out = pout[0];
  r.err = perr[0];
  pin[1] = pout[0] = perr[0] = -1;
  if (r.in >= 0)
    fcntl(r.in, F_SETFL, fcntl(r.in, F_GETFL) | O_NONBLOCK);
  if (r.in >= 0 && r.input_len == 0)
    close_fd(&r.in);

  /*
  ** A write to a child that has exited raises SIGPIPE, which would end hoist.
  ** It is directed at this thread, so blocking it here (not process-wide:
  ** other threads keep their disposition) turns it into EPIPE; one that we
  ** caused is then taken off the pending set before the mask is restored.
  */
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
  sigpending(&pending);
  pipe_was_pending = sigismember(&pending, SIGPIPE);
  pump(&r);
  /* killed before its pipes close, so that it ends by our signal, not a SIGPIPE of its own */
  if (r.timed_out || r.overflowed)
    kill(r.pid, SIGKILL);
  close_fd(&r.in);
  if (!pipe_was_pending) {
    struct timespec zero = {0, 0};
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE))
      sigtimedwait(&pipe_set, NULL, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
  /* after a timeout or an overflow, nobody reads any more: a grandchild holding
  ** the pipes open must not keep us here */
  close_fd(&r.out);
  close_fd(&r.err);
  reap(&r);

  if (r.reaped) {
    if (WIFSIGNALED(r.status)) {
      res->signal = WTERMSIG(r.status);
      res->code = 128 + res->signal;
    } else {
      res->code = WEXITSTATUS(r.status);
    }
  }
  if (!o->passthrough) {
    res->out = strbuf_detach(&r.out_buf, &res->out_len);
    res->err = strbuf_detach(&r.err_buf, &res->err_len);
    if (!res->out || !res->err) {
      hoist_exec_result_release(res);
      rc = hoist_err_set(err, HOIST_ENOMEM, "out of memory");
    }
  }
  if (r.timed_out)
    rc = hoist_err_set(err, HOIST_ETIMEDOUT, "'%s' timed out after %g s and was killed", name,
                       o->timeout);
  else if (r.overflowed && r.out_buf.max >= ((size_t)1 << 20))
    rc = hoist_err_set(err, HOIST_ERANGE, "'%s' wrote more than %zu MiB of output and was killed",
                       name, r.out_buf.max >> 20);
  else if (r.overflowed)
    rc = hoist_err_set(err, HOIST_ERANGE, "'%s' wrote more than %zu bytes of output and was killed",
                       name, r.out_buf.max);

done_pipes:
  close_fd(&pin[0]);
  close_fd(&pin[1]);
  close_fd(&pout[0]);
  close_fd(&pout[1]);
  close_fd(&perr[0]);
  close_fd(&perr[1]);
  strbuf_release(&r.out_buf);
  strbuf_release(&r.err_buf);
  strbuf_release(&prog);
  free(envp);
  return rc;
}
