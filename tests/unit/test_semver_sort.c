/*
** test_semver_sort: the version sorter (radix path, qsort fallback for
** numbers too large to pack, stability, descending order, the arena past its
** mapping, owned versions) and the cache of parsed versions.
**
**   test_semver_sort [CASES_DIR]   (the argument is accepted and ignored)
*/
#include "semver.h"
#include "semver_sort.h"

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
  printf("test_semver_sort.c:%d: check failed: %s\n", line, what);
}

static void done(void)
{
  if (case_failed)
    n_failed++;
  else
    n_passed++;
  case_failed = 0;
}

/* Sorts texts and checks the resulting order of indexes (1-based, as given). */
static void sorts_to(const char *const *texts, size_t n, int desc, const size_t *want)
{
  struct hoist_semver_sorter *s;
  struct hoist_err err;
  size_t i;
  CHECK(hoist_semver_sorter_new(n, &s) == HOIST_OK);
  for (i = 0; i < n; i++)
    CHECK(hoist_semver_sorter_add_text(s, texts[i], strlen(texts[i]), HOIST_SEMVER_NO_TEXT,
                                       i + 1, &err) == HOIST_OK);
  hoist_semver_sorter_sort(s, desc);
  CHECK(hoist_semver_sorter_count(s) == n);
  for (i = 0; i < n; i++) {
    if (hoist_semver_sorter_index(s, i) != want[i]) {
      printf("  position %zu: got %s, want %s\n", i, texts[hoist_semver_sorter_index(s, i) - 1],
             texts[want[i] - 1]);
      CHECK(!"order");
    }
  }
  hoist_semver_sorter_free(s);
}

static void test_radix(void)
{
  /* prerelease below release, numeric prerelease ids below alphanumeric, equal versions stable */
  static const char *const t[] = { "1.10.0", "1.2.0", "1.2.0-rc.1", "1.2.0-alpha", "0.0.1",
                                   "1.2.0", "1.2.0-rc.10", "2.0.0", "1.2.0-rc.2" };
  static const size_t asc[] = { 5, 4, 3, 9, 7, 2, 6, 1, 8 };
  static const size_t desc[] = { 8, 1, 2, 6, 7, 9, 3, 4, 5 };
  sorts_to(t, 9, 0, asc);
  sorts_to(t, 9, 1, desc);
  done();
}

static void test_fallback(void)
{
  /* 2^21 does not pack: the whole sort goes through the full comparison */
  static const char *const t[] = { "3.0.0", "1.2097152.0", "1.2.0", "1.2097152.0-rc.1", "0.1.0" };
  static const size_t asc[] = { 5, 3, 4, 2, 1 };
  static const size_t desc[] = { 1, 2, 4, 3, 5 };
  sorts_to(t, 5, 0, asc);
  sorts_to(t, 5, 1, desc);
  done();
}

static void test_build_metadata(void)
{
  /* compare_build orders builds; an equal pair keeps its insertion order both ways */
  static const char *const t[] = { "1.0.0+b", "1.0.0+a", "1.0.0", "1.0.0+a" };
  static const size_t asc[] = { 3, 2, 4, 1 };
  static const size_t desc[] = { 1, 2, 4, 3 };
  sorts_to(t, 4, 0, asc);
  sorts_to(t, 4, 1, desc);
  done();
}

static void test_many(void)
{
  /* versions bigger than the mapped arena holds on average: the sorter goes on in blocks */
  size_t n = 20000, i;
  struct hoist_semver_sorter *s;
  struct hoist_err err;
  char buf[1200];
  int ordered = 1;
  CHECK(hoist_semver_sorter_new(n, &s) == HOIST_OK);
  for (i = 0; i < n; i++) {
    size_t k = (i * 7919) % n, len;
    len = (size_t)snprintf(buf, sizeof buf, "%zu.%zu.%zu-%s", k / 1000, (k / 10) % 100, k % 10,
                           "x");
    if (i % 4 == 0) {
      /* 110 more prerelease identifiers: far more than the arena's 192 bytes an item */
      size_t j;
      for (j = 0; j < 110; j++) {
        buf[len++] = '.';
        buf[len++] = 'a';
      }
    }
    CHECK(hoist_semver_sorter_add_text(s, buf, len, HOIST_SEMVER_NO_TEXT, k + 1, &err) ==
          HOIST_OK);
  }
  {
    struct hoist_semver *v;
    CHECK(hoist_semver_parse("9.9.9", 5, 0, &v, NULL) == HOIST_OK);
    CHECK(hoist_semver_sorter_add_owned(s, v, 7) == HOIST_ERANGE);  /* full, and v is freed */
    CHECK(hoist_semver_sorter_add_text(s, "1.0.0", 5, 0, 1, &err) == HOIST_ERANGE);
  }
  hoist_semver_sorter_sort(s, 0);
  for (i = 0; i < n; i++)
    if (hoist_semver_sorter_index(s, i) != i + 1)
      ordered = 0;
  CHECK(ordered);
  hoist_semver_sorter_free(s);
  done();
}

static void test_invalid_and_owned(void)
{
  struct hoist_semver_sorter *s;
  struct hoist_err err;
  struct hoist_semver *v;
  CHECK(hoist_semver_sorter_new(3, &s) == HOIST_OK);
  CHECK(hoist_semver_sorter_add_text(s, "1.2", 3, 0, 1, &err) == HOIST_EINVAL);
  CHECK(strstr(err.msg, "1.2") != NULL);
  CHECK(hoist_semver_parse("2.0.0", 5, 0, &v, NULL) == HOIST_OK);
  CHECK(hoist_semver_sorter_add_owned(s, v, 2) == HOIST_OK);
  CHECK(hoist_semver_sorter_add(s, v, 3) == HOIST_OK);  /* borrowed: the same one, once freed */
  CHECK(hoist_semver_sorter_count(s) == 2);
  hoist_semver_sorter_free(s);
  hoist_semver_sorter_free(NULL);
  done();
}

static void test_cache(void)
{
  static struct hoist_semver_cache c;
  const struct hoist_semver *a, *b;
  char text[8] = "1.2.3";
  char long_text[64];
  a = hoist_semver_cache_get(&c, text, 5, 0);
  CHECK(a && a->major == 1 && a->patch == 3);
  b = hoist_semver_cache_get(&c, "1.2.3", 5, 0);
  CHECK(b == a);                                   /* content, not the pointer, is the key */
  text[4] = '4';                                   /* the same buffer now says 1.2.4 */
  b = hoist_semver_cache_get(&c, text, 5, 0);
  CHECK(b && b->patch == 4);
  CHECK(hoist_semver_cache_get(&c, "=1.2.3", 6, 0) == NULL);                    /* strict */
  b = hoist_semver_cache_get(&c, "=1.2.3", 6, HOIST_SEMVER_LOOSE);
  CHECK(b && b->minor == 2);
  CHECK(hoist_semver_cache_get(&c, "nope", 4, 0) == NULL);
  memset(long_text, '1', sizeof long_text);
  long_text[1] = '.';
  long_text[3] = '.';
  CHECK(hoist_semver_cache_get(&c, long_text, sizeof long_text, 0) == NULL);   /* too long */
  done();
}

int main(void)
{
  test_radix();
  test_fallback();
  test_build_metadata();
  test_many();
  test_invalid_and_owned();
  test_cache();
  printf("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
