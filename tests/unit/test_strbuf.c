/*
** test_strbuf: growth, the hard maximum, reset, detach and release of strbuf.
**
**   test_strbuf [CASES_DIR]   (the argument is accepted and ignored)
**
** Prints each failure as test_strbuf.c:LINE, then "N passed, M failed";
** exits 1 on any failure.
*/
#include "err.h"
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_passed, n_failed, case_failed;

#define CHECK(cond) check(__LINE__, (cond), #cond)

static void check(int line, int ok, const char *what)
{
  if (ok)
    return;
  case_failed++;
  printf("test_strbuf.c:%d: check failed: %s\n", line, what);
}

static void done(void)
{
  if (case_failed)
    n_failed++;
  else
    n_passed++;
  case_failed = 0;
}

static int holds(const struct strbuf *sb, const char *s)
{
  size_t n = strlen(s);
  return sb->len == n && sb->buf && memcmp(sb->buf, s, n) == 0 && sb->buf[n] == '\0';
}

static void test_init(void)
{
  struct strbuf sb;
  strbuf_init(&sb, 100);
  CHECK(sb.buf == NULL && sb.len == 0 && sb.cap == 0 && sb.max == 100);
  strbuf_release(&sb);  /* releasing an empty buffer is fine */
  CHECK(sb.buf == NULL && sb.len == 0 && sb.max == 100);
  strbuf_reset(&sb);    /* so is resetting one */
  CHECK(sb.buf == NULL && sb.len == 0);
  done();
}

static void test_growth(void)
{
  struct strbuf sb;
  size_t i;
  int ok = 1;
  strbuf_init(&sb, 1 << 20);
  CHECK(strbuf_addstr(&sb, "") == HOIST_OK);
  CHECK(holds(&sb, ""));  /* appending nothing still yields a terminated string */
  CHECK(strbuf_addstr(&sb, "hello") == HOIST_OK);
  CHECK(strbuf_addch(&sb, ' ') == HOIST_OK);
  CHECK(strbuf_add(&sb, "world!!", 5) == HOIST_OK);
  CHECK(holds(&sb, "hello world"));
  CHECK(sb.cap > sb.len);
  /* many small appends cross several reallocations and keep every byte */
  for (i = 0; i < 10000; i++)
    if (strbuf_addch(&sb, (char)('a' + i % 26)) != HOIST_OK)
      ok = 0;
  CHECK(ok);
  CHECK(sb.len == 11 + 10000);
  CHECK(sb.cap > sb.len && sb.buf[sb.len] == '\0');
  for (i = 0; i < 10000; i++)
    if (sb.buf[11 + i] != (char)('a' + i % 26))
      ok = 0;
  CHECK(ok);
  /* one large append */
  {
    char *big = malloc(100000);
    CHECK(big != NULL);
    if (big) {
      memset(big, 'z', 100000);
      CHECK(strbuf_add(&sb, big, 100000) == HOIST_OK);
      CHECK(sb.len == 11 + 10000 + 100000 && sb.buf[sb.len - 1] == 'z' && sb.buf[sb.len] == '\0');
      free(big);
    }
  }
  /* embedded NULs are bytes like any other */
  strbuf_reset(&sb);
  CHECK(strbuf_add(&sb, "a\0b", 3) == HOIST_OK);
  CHECK(sb.len == 3 && memcmp(sb.buf, "a\0b", 4) == 0);
  strbuf_release(&sb);
  done();
}

static void test_addf(void)
{
  struct strbuf sb;
  char big[300];
  strbuf_init(&sb, 4096);
  CHECK(strbuf_addf(&sb, "%d-%s", 42, "x") == HOIST_OK);
  CHECK(holds(&sb, "42-x"));
  /* longer than the formatter's on-stack buffer */
  memset(big, 'q', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  CHECK(strbuf_addf(&sb, "[%s]", big) == HOIST_OK);
  CHECK(sb.len == 4 + 2 + 299 && sb.buf[4] == '[' && sb.buf[sb.len - 1] == ']');
  CHECK(sb.buf[sb.len] == '\0');
  strbuf_release(&sb);
  done();
}

static void test_max(void)
{
  struct strbuf sb;
  char *before;
  size_t cap;
  strbuf_init(&sb, 10);
  CHECK(strbuf_addstr(&sb, "0123456789") == HOIST_OK);  /* exactly max is allowed */
  CHECK(holds(&sb, "0123456789"));
  before = sb.buf;
  cap = sb.cap;
  /* one byte past the bound: refused, buffer unchanged */
  CHECK(strbuf_addch(&sb, 'x') == HOIST_ERANGE);
  CHECK(holds(&sb, "0123456789") && sb.buf == before && sb.cap == cap);
  CHECK(strbuf_add(&sb, "xyz", 3) == HOIST_ERANGE);
  CHECK(strbuf_addf(&sb, "%s", "xyz") == HOIST_ERANGE);
  CHECK(holds(&sb, "0123456789") && sb.buf == before && sb.cap == cap);
  /* a huge length does not wrap around */
  CHECK(strbuf_add(&sb, "x", (size_t)-1) == HOIST_ERANGE);
  CHECK(holds(&sb, "0123456789"));
  /* appending nothing at the bound is fine */
  CHECK(strbuf_add(&sb, "", 0) == HOIST_OK);
  /* a partially fitting append is refused whole */
  strbuf_reset(&sb);
  CHECK(holds(&sb, ""));
  CHECK(strbuf_addstr(&sb, "01234567") == HOIST_OK);
  CHECK(strbuf_addstr(&sb, "abc") == HOIST_ERANGE);
  CHECK(holds(&sb, "01234567"));
  CHECK(strbuf_addf(&sb, "%d", 123) == HOIST_ERANGE);
  CHECK(holds(&sb, "01234567"));
  CHECK(strbuf_addstr(&sb, "ab") == HOIST_OK);
  CHECK(holds(&sb, "01234567ab"));
  strbuf_release(&sb);
  CHECK(sb.buf == NULL && sb.len == 0 && sb.max == 10);

  /* a long formatted string past the bound leaves the buffer as it was */
  {
    char big[200];
    strbuf_init(&sb, 150);
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(strbuf_addstr(&sb, "keep") == HOIST_OK);
    CHECK(strbuf_addf(&sb, "%s", big) == HOIST_ERANGE);
    CHECK(holds(&sb, "keep"));
    strbuf_release(&sb);
  }

  /* max 0 refuses any byte */
  strbuf_init(&sb, 0);
  CHECK(strbuf_addch(&sb, 'a') == HOIST_ERANGE);
  CHECK(sb.len == 0);
  strbuf_release(&sb);
  done();
}

static void test_detach(void)
{
  struct strbuf sb;
  size_t len = 99;
  char *p;
  strbuf_init(&sb, 64);
  CHECK(strbuf_addstr(&sb, "abc") == HOIST_OK);
  p = strbuf_detach(&sb, &len);
  CHECK(p != NULL && len == 3 && strcmp(p, "abc") == 0);
  CHECK(sb.buf == NULL && sb.len == 0 && sb.cap == 0 && sb.max == 64);
  free(p);
  /* the buffer is reusable after detach */
  CHECK(strbuf_addstr(&sb, "de") == HOIST_OK);
  CHECK(holds(&sb, "de"));
  p = strbuf_detach(&sb, NULL);
  CHECK(p != NULL && strcmp(p, "de") == 0);
  free(p);
  /* detaching an empty buffer gives an empty string, not NULL */
  len = 99;
  p = strbuf_detach(&sb, &len);
  CHECK(p != NULL && len == 0 && p[0] == '\0');
  free(p);
  /* after reset, detach gives "" with the memory kept */
  CHECK(strbuf_addstr(&sb, "xyz") == HOIST_OK);
  strbuf_reset(&sb);
  p = strbuf_detach(&sb, &len);
  CHECK(p != NULL && len == 0 && p[0] == '\0');
  free(p);
  strbuf_release(&sb);
  done();
}

int main(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  test_init();
  test_growth();
  test_addf();
  test_max();
  test_detach();
  printf("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
