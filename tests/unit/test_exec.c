/*
** test_exec: hoist_exec_run against real programs (sh, cat, head, sleep, env):
** exit codes and signals, environment overrides and PATH lookup, cwd, stdin
** small and large, large stdout and stderr at once, missing programs, the
** output bound, timeouts, and a child that exits while we still write.
**
**   test_exec [CASES_DIR]   (the argument is accepted and ignored)
**
** Prints each failure as test_exec.c:LINE, then "N passed, M failed";
** exits 1 on any failure.
*/
#define _DEFAULT_SOURCE 1 /* mkdtemp */

#include "exec.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int n_passed, n_failed, case_failed;

#define CHECK(cond) check(__LINE__, (cond), #cond)

static void check(int line, int ok, const char *what)
{
  if (ok)
    return;
  case_failed++;
  printf("test_exec.c:%d: check failed: %s\n", line, what);
}

static void done(const char *name)
{
  if (case_failed) {
    n_failed++;
    printf("FAIL %s\n", name);
  } else {
    n_passed++;
  }
  case_failed = 0;
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs argv with the given options (argv replaced); returns the rc. */
static int run(struct hoist_exec_opts o, const char *const *argv, struct hoist_exec_result *res,
               struct hoist_err *err)
{
  o.argv = argv;
  err->code = 0;
  err->msg[0] = '\0';
  return hoist_exec_run(&o, res, err);
}

static const struct hoist_exec_opts none;

static void test_exit_codes(void)
{
  const char *ok[] = {"true", NULL}, *bad[] = {"false", NULL};
  const char *three[] = {"sh", "-c", "exit 3", NULL};
  struct hoist_exec_result res;
  struct hoist_err err;
  CHECK(run(none, ok, &res, &err) == 0 && res.code == 0 && res.signal == 0);
  CHECK(res.out && res.out_len == 0 && res.out[0] == '\0' && res.err && res.err_len == 0);
  hoist_exec_result_release(&res);
  CHECK(run(none, bad, &res, &err) == 0 && res.code == 1 && res.signal == 0);
  hoist_exec_result_release(&res);
  CHECK(run(none, three, &res, &err) == 0 && res.code == 3);
  hoist_exec_result_release(&res);
  hoist_exec_result_release(&res); /* twice is fine */
  done("exit codes");
}

static void test_signal(void)
{
  const char *term[] = {"sh", "-c", "kill -TERM $$", NULL};
  struct hoist_exec_result res;
  struct hoist_err err;
  CHECK(run(none, term, &res, &err) == 0);
  CHECK(res.signal == SIGTERM && res.code == 128 + SIGTERM);
  hoist_exec_result_release(&res);
  done("signal");
}

static void test_output_and_argv(void)
{
  /* arguments reach the program as they are: no shell sees them */
  const char *argv[] = {"printf", "%s|%s", "$HOME; `id` * \"q\"", "two words", NULL};
  const char *both[] = {"sh", "-c", "echo out; echo err >&2; exit 7", NULL};
  struct hoist_exec_result res;
  struct hoist_err err;
  CHECK(run(none, argv, &res, &err) == 0 && res.code == 0);
  CHECK(res.out && strcmp(res.out, "$HOME; `id` * \"q\"|two words") == 0);
  hoist_exec_result_release(&res);
  CHECK(run(none, both, &res, &err) == 0 && res.code == 7);
  CHECK(res.out && strcmp(res.out, "out\n") == 0 && res.out_len == 4);
  CHECK(res.err && strcmp(res.err, "err\n") == 0 && res.err_len == 4);
  hoist_exec_result_release(&res);
  done("output and argv");
}

static void test_env(void)
{
  const char *show[] = {"sh", "-c", "printf '%s|%s|%s' \"$HOIST_T1\" \"${HOIST_T2-unset}\" \"$HOME\"", NULL};
  const char *envcmd[] = {"/usr/bin/env", NULL};
  const char *set[] = {"HOIST_T1=one=1", "HOIST_T2", "HOIST_T1=two", NULL};
  const char *only[] = {"HOIST_ONLY=x", NULL};
  struct hoist_exec_opts o = none;
  struct hoist_exec_result res;
  struct hoist_err err;
  setenv("HOIST_T2", "inherited", 1);
  CHECK(run(none, show, &res, &err) == 0);
  CHECK(res.out && strncmp(res.out, "|inherited|", 11) == 0);
  hoist_exec_result_release(&res);
  /* the last override of a name wins; "NAME" alone unsets; the rest is inherited */
  o.env = set;
  CHECK(run(o, show, &res, &err) == 0);
  CHECK(res.out && strncmp(res.out, "two|unset|", 10) == 0 && strlen(res.out) > 10);
  hoist_exec_result_release(&res);
  o.env = only;
  o.clear_env = 1;
  CHECK(run(o, envcmd, &res, &err) == 0);
  CHECK(res.out && strcmp(res.out, "HOIST_ONLY=x\n") == 0);
  hoist_exec_result_release(&res);
  unsetenv("HOIST_T2");
  done("env");
}

static void test_path_lookup(const char *tmp)
{
  char dir[512], prog[600], pathvar[700], noexec[600];
  const char *argv[] = {"hoist-test-prog", "arg", NULL};
  const char *env[] = {pathvar, NULL};
  struct hoist_exec_opts o = none;
  struct hoist_exec_result res;
  struct hoist_err err;
  FILE *f;
  snprintf(dir, sizeof dir, "%s/bin", tmp);
  mkdir(dir, 0700);
  snprintf(prog, sizeof prog, "%s/hoist-test-prog", dir);
  f = fopen(prog, "w");
  fputs("#!/bin/sh\necho \"found $1\"\n", f);
  fclose(f);
  chmod(prog, 0755);
  /* the child's PATH decides, not hoist's */
  CHECK(run(none, argv, &res, &err) == HOIST_ENOENT);
  CHECK(strcmp(err.msg, "cannot run 'hoist-test-prog': No such file or directory") == 0);
  hoist_exec_result_release(&res);
  snprintf(pathvar, sizeof pathvar, "PATH=/nonexistent:%s:/usr/bin:/bin", dir);
  o.env = env;
  CHECK(run(o, argv, &res, &err) == 0 && res.code == 0);
  CHECK(res.out && strcmp(res.out, "found arg\n") == 0);
  hoist_exec_result_release(&res);
  /* a relative PATH entry is relative to cwd */
  snprintf(pathvar, sizeof pathvar, "PATH=bin:/usr/bin:/bin");
  o.cwd = tmp;
  CHECK(run(o, argv, &res, &err) == 0 && res.code == 0);
  hoist_exec_result_release(&res);
  /* found, but not executable */
  snprintf(noexec, sizeof noexec, "%s/hoist-test-noexec", dir);
  f = fopen(noexec, "w");
  fputs("#!/bin/sh\n", f);
  fclose(f);
  chmod(noexec, 0644);
  argv[0] = "hoist-test-noexec";
  o.cwd = NULL;
  snprintf(pathvar, sizeof pathvar, "PATH=%s", dir);
  CHECK(run(o, argv, &res, &err) == HOIST_EIO);
  CHECK(strcmp(err.msg, "cannot run 'hoist-test-noexec': Permission denied") == 0);
  hoist_exec_result_release(&res);
  done("PATH lookup");
}

static void test_missing(void)
{
  const char *argv[] = {"hoist-no-such-program", "--secret-arg", NULL};
  const char *slash[] = {"/nonexistent/cc", NULL};
  const char *empty[] = {NULL};
  struct hoist_exec_result res;
  struct hoist_err err;
  CHECK(run(none, argv, &res, &err) == HOIST_ENOENT);
  CHECK(strcmp(err.msg, "cannot run 'hoist-no-such-program': No such file or directory") == 0);
  CHECK(!strstr(err.msg, "secret"));
  CHECK(res.out == NULL && res.err == NULL);
  hoist_exec_result_release(&res);
  CHECK(run(none, slash, &res, &err) == HOIST_ENOENT);
  CHECK(strcmp(err.msg, "cannot run '/nonexistent/cc': No such file or directory") == 0);
  CHECK(run(none, empty, &res, &err) == HOIST_EINVAL);
  done("missing program");
}

static void test_cwd(const char *tmp)
{
  const char *pwd[] = {"pwd", NULL};
  struct hoist_exec_opts o = none;
  struct hoist_exec_result res;
  struct hoist_err err;
  char want[PATH_MAX + 2], real[PATH_MAX];
  o.cwd = tmp;
  CHECK(run(o, pwd, &res, &err) == 0);
  CHECK(realpath(tmp, real) != NULL);
  snprintf(want, sizeof want, "%s\n", real);
  CHECK(res.out && strcmp(res.out, want) == 0);
  hoist_exec_result_release(&res);
  o.cwd = "/nonexistent-hoist-dir";
  CHECK(run(o, pwd, &res, &err) == HOIST_ENOENT);
  CHECK(strcmp(err.msg, "cannot run 'pwd' in '/nonexistent-hoist-dir': No such file or directory") == 0);
  done("cwd");
}

static char *pattern(size_t n)
{
  char *p = malloc(n);
  size_t i;
  for (i = 0; i < n; i++)
    p[i] = (char)('a' + (i * 7 + i / 4096) % 26);
  return p;
}

static void test_stdin(void)
{
  const char *cat[] = {"cat", NULL};
  const char *wc[] = {"wc", "-c", NULL};
  struct hoist_exec_opts o = none;
  struct hoist_exec_result res;
  struct hoist_err err;
  size_t big = (size_t)3 << 20;
  char *data = pattern(big);
  /* no stdin: /dev/null, so cat ends at once */
  CHECK(run(none, cat, &res, &err) == 0 && res.out_len == 0);
  hoist_exec_result_release(&res);
  o.input = "hello\nworld";
  o.input_len = 11;
  CHECK(run(o, cat, &res, &err) == 0 && res.out && strcmp(res.out, "hello\nworld") == 0);
  hoist_exec_result_release(&res);
  o.input = "";
  o.input_len = 0;
  CHECK(run(o, cat, &res, &err) == 0 && res.out_len == 0);
  hoist_exec_result_release(&res);
  /* 3 MiB through cat: it writes while we still write, so both directions must move at once */
  o.input = data;
  o.input_len = big;
  CHECK(run(o, cat, &res, &err) == 0 && res.code == 0);
  CHECK(res.out_len == big && res.out && memcmp(res.out, data, big) == 0);
  hoist_exec_result_release(&res);
  CHECK(run(o, wc, &res, &err) == 0 && res.out && atol(res.out) == (long)big);
  hoist_exec_result_release(&res);
  free(data);
  done("stdin");
}

static void test_large_both(void)
{
  /* stderr first: reading stdout to its end before stderr would deadlock */
  const char *argv[] = {"sh", "-c",
                        "head -c 4000000 /dev/zero >&2; head -c 5000000 /dev/zero; "
                        "head -c 1000000 /dev/zero >&2",
                        NULL};
  struct hoist_exec_result res;
  struct hoist_err err;
  size_t i, zeros = 1;
  CHECK(run(none, argv, &res, &err) == 0 && res.code == 0);
  CHECK(res.out_len == 5000000 && res.err_len == 5000000);
  for (i = 0; res.out && i < res.out_len; i++)
    zeros &= res.out[i] == 0;
  CHECK(zeros);
  hoist_exec_result_release(&res);
  done("large stdout and stderr");
}

static void test_output_bound(void)
{
  const char *argv[] = {"head", "-c", "50000", "/dev/zero", NULL};
  const char *forever[] = {"yes", NULL};
  struct hoist_exec_opts o = none;
  struct hoist_exec_result res;
  struct hoist_err err;
  o.output_max = 1000;
  CHECK(run(o, argv, &res, &err) == HOIST_ERANGE);
  CHECK(strcmp(err.msg, "'head' wrote more than 1000 bytes of output and was killed") == 0);
  hoist_exec_result_release(&res);
  o.output_max = (size_t)2 << 20;
  CHECK(run(o, forever, &res, &err) == HOIST_ERANGE);
  CHECK(strcmp(err.msg, "'yes' wrote more than 2 MiB of output and was killed") == 0);
  CHECK(res.signal == SIGKILL && res.out_len <= ((size_t)2 << 20));
  hoist_exec_result_release(&res);
  done("output bound");
}

static void test_timeout(void)
{
  const char *sleeper[] = {"sleep", "10", NULL};
  const char *orphan[] = {"sh", "-c", "sleep 10 & echo started; wait", NULL};
  const char *quick[] = {"sh", "-c", "echo fast", NULL};
  struct hoist_exec_opts o = none;
  struct hoist_exec_result res;
  struct hoist_err err;
  double t0;
  o.timeout = 0.3;
  t0 = now();
  CHECK(run(o, sleeper, &res, &err) == HOIST_ETIMEDOUT);
  CHECK(now() - t0 < 3);
  CHECK(strcmp(err.msg, "'sleep' timed out after 0.3 s and was killed") == 0);
  CHECK(res.signal == SIGKILL);
  hoist_exec_result_release(&res);
  /* a grandchild keeps the pipes open: we stop at the deadline anyway */
  t0 = now();
  CHECK(run(o, orphan, &res, &err) == HOIST_ETIMEDOUT);
  CHECK(now() - t0 < 3);
  CHECK(res.out && strcmp(res.out, "started\n") == 0);
  hoist_exec_result_release(&res);
  /* passed-through output: no pipe to poll, the wait itself has the deadline */
  o.passthrough = 1;
  t0 = now();
  CHECK(run(o, sleeper, &res, &err) == HOIST_ETIMEDOUT);
  CHECK(now() - t0 < 3 && res.out == NULL);
  hoist_exec_result_release(&res);
  /* within the deadline: a normal result */
  o.passthrough = 0;
  o.timeout = 5;
  CHECK(run(o, quick, &res, &err) == 0 && res.code == 0 && strcmp(res.out, "fast\n") == 0);
  hoist_exec_result_release(&res);
  done("timeout");
}

static void test_early_exit(void)
{
  /* the child ignores (true) or reads part of (head) a large stdin: EPIPE, not SIGPIPE */
  const char *t[] = {"true", NULL};
  const char *h[] = {"head", "-c", "10", NULL};
  struct hoist_exec_opts o = none;
  struct hoist_exec_result res;
  struct hoist_err err;
  size_t big = (size_t)8 << 20;
  char *data = pattern(big);
  o.input = data;
  o.input_len = big;
  CHECK(run(o, t, &res, &err) == 0 && res.code == 0);
  hoist_exec_result_release(&res);
  CHECK(run(o, h, &res, &err) == 0 && res.code == 0 && res.out_len == 10);
  CHECK(res.out && memcmp(res.out, data, 10) == 0);
  hoist_exec_result_release(&res);
  free(data);
  done("early exit while writing stdin");
}

static void test_passthrough(void)
{
  const char *argv[] = {"sh", "-c", "exit 4", NULL};
  struct hoist_exec_opts o = none;
  struct hoist_exec_result res;
  struct hoist_err err;
  o.passthrough = 1;
  CHECK(run(o, argv, &res, &err) == 0 && res.code == 4 && res.out == NULL && res.err == NULL);
  hoist_exec_result_release(&res);
  done("passthrough");
}

int main(int argc, char **argv)
{
  char tmp[] = "/tmp/hoist-test-exec.XXXXXX";
  (void)argc;
  (void)argv;
  if (!mkdtemp(tmp)) {
    perror("mkdtemp");
    return 1;
  }
  test_exit_codes();
  test_signal();
  test_output_and_argv();
  test_env();
  test_path_lookup(tmp);
  test_missing();
  test_cwd(tmp);
  test_stdin();
  test_large_both();
  test_output_bound();
  test_timeout();
  test_early_exit();
  test_passthrough();
  {
    const char *rm[] = {"rm", "-rf", tmp, NULL};
    struct hoist_exec_opts o = none;
    struct hoist_exec_result res;
    struct hoist_err err;
    run(o, rm, &res, &err);
    hoist_exec_result_release(&res);
  }
  printf("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
