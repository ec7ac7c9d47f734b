/*
** test_jsonload: hoist_json_load (integers beyond 64 bits read as reals,
** digits inside strings untouched, errors placed in the original text even
** after the big-integer rewrite), hoist_utf8_valid and hoist_err_filename.
**
**   test_jsonload [CASES_DIR]   (the argument is accepted and ignored)
*/
#include "err.h"
#include "jsonload.h"
#include "utf8.h"

#include <stdio.h>
#include <string.h>

static int n_passed, n_failed, case_failed;

#define CHECK(cond) check(__LINE__, (cond), #cond)

static void check(int line, int ok, const char *what)
{
  if (ok)
    return;
  case_failed++;
  printf("test_jsonload.c:%d: check failed: %s\n", line, what);
}

static void done(void)
{
  if (case_failed)
    n_failed++;
  else
    n_passed++;
  case_failed = 0;
}

static json_t *load(const char *s, char *msg, size_t size)
{
  return hoist_json_load(s, strlen(s), "x.json", msg, size);
}

static void test_plain(void)
{
  char msg[256];
  json_t *j = load("{\"a\": [1, 2.5, \"s\", null]}", msg, sizeof msg);
  CHECK(j && json_is_object(j));
  CHECK(json_integer_value(json_array_get(json_object_get(j, "a"), 0)) == 1);
  json_decref(j);
  j = load("9223372036854775807", msg, sizeof msg);  /* the largest that fits stays an integer */
  CHECK(j && json_is_integer(j) && json_integer_value(j) == 9223372036854775807LL);
  json_decref(j);
  j = load("-9223372036854775808", msg, sizeof msg);
  CHECK(j && json_is_integer(j));
  json_decref(j);
  done();
}

static void test_big_ints(void)
{
  char msg[256];
  json_t *j = load("[9223372036854775808, \"12345678901234567890123\", -99999999999999999999, 1]",
                   msg, sizeof msg);
  CHECK(j && json_array_size(j) == 4);
  CHECK(json_is_real(json_array_get(j, 0)) && json_real_value(json_array_get(j, 0)) > 9.2e18);
  CHECK(json_is_string(json_array_get(j, 1)) &&
        strcmp(json_string_value(json_array_get(j, 1)), "12345678901234567890123") == 0);
  CHECK(json_is_real(json_array_get(j, 2)) && json_real_value(json_array_get(j, 2)) < -9.9e19);
  CHECK(json_is_integer(json_array_get(j, 3)));
  json_decref(j);
  /* a string holding a quote before the big number does not hide it */
  j = load("{\"k\\\"\": 100000000000000000000}", msg, sizeof msg);
  CHECK(j && json_is_real(json_object_get(j, "k\"")));
  json_decref(j);
  done();
}

static void test_errors(void)
{
  char msg[256];
  CHECK(load("{\"a\": }", msg, sizeof msg) == NULL);
  CHECK(strncmp(msg, "invalid JSON in 'x.json' at line 1, column 7", 44) == 0);
  CHECK(hoist_json_load("[1,", 3, NULL, msg, sizeof msg) == NULL);
  CHECK(strncmp(msg, "invalid JSON at line 1", 22) == 0);
  /*
  ** After the rewrite ("...808.0"), the error must still be reported where it
  ** is in the original: line 2, column 5, not two columns further right.
  */
  CHECK(load("[99999999999999999999,\n 1, x]", msg, sizeof msg) == NULL);
  CHECK(strstr(msg, "line 2, column 5") != NULL);
  CHECK(load("[99999999999999999999, 99999999999999999999, x]", msg, sizeof msg) == NULL);
  CHECK(strstr(msg, "line 1, column 46") != NULL);
  done();
}

static void test_utf8(void)
{
  CHECK(hoist_utf8_valid("", 0));
  CHECK(hoist_utf8_valid("plain", 5));
  CHECK(hoist_utf8_valid("caf\xc3\xa9", 5));
  CHECK(hoist_utf8_valid("\xf0\x9f\x90\xb3", 4));       /* U+1F433 */
  CHECK(hoist_utf8_valid("a\0b", 3));                   /* NUL is the caller's business */
  CHECK(!hoist_utf8_valid("\xc3", 1));                  /* truncated */
  CHECK(!hoist_utf8_valid("\xc0\xaf", 2));              /* overlong '/' */
  CHECK(!hoist_utf8_valid("\xe0\x80\xaf", 3));          /* overlong, three bytes */
  CHECK(!hoist_utf8_valid("\xed\xa0\x80", 3));          /* surrogate U+D800 */
  CHECK(!hoist_utf8_valid("\xf4\x90\x80\x80", 4));      /* above U+10FFFF */
  CHECK(!hoist_utf8_valid("\xff", 1));
  CHECK(!hoist_utf8_valid("\xe9t\xe9", 3));             /* Latin-1 */
  done();
}

static void test_filename(void)
{
  char b[HOIST_ERR_NAME_MAX], small[12];
  CHECK(strcmp(hoist_err_filename(b, sizeof b, "ui/caf\xc3\xa9 x.js"), "ui/caf\xc3\xa9 x.js") == 0);
  CHECK(strcmp(hoist_err_filename(b, sizeof b, "bad\xffname\nx"), "bad\\xffname\\x0ax") == 0);
  CHECK(strcmp(hoist_err_filename(b, sizeof b, "\xc3"), "\\xc3") == 0);            /* truncated UTF-8 */
  CHECK(strcmp(hoist_err_filename(b, sizeof b, "a\x7f\x1b[31m"), "a\\x7f\\x1b[31m") == 0);
  CHECK(strcmp(hoist_err_filename(small, sizeof small, "abcdefghijklmnop"), "abcdefgh...") == 0);
  done();
}

int main(void)
{
  test_filename();
  test_plain();
  test_big_ints();
  test_errors();
  test_utf8();
  printf("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
