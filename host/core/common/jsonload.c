/*
** jsonload.c: text to a jansson tree, for the JSON Lua scripts read
** (hoist.json); manifests and registry answers have their own stricter reads.
**
** jansson refuses integer literals beyond 64 bits ("too big"), where
** JavaScript and Go read them as floats; hoist reads them as reals too, by
** appending ".0" to each and parsing again. An error in the patched text is
** reported at its place in the original.
*/
#include "jsonload.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DECODE_FLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL)

_Static_assert(sizeof(json_int_t) == 8, "big-integer detection assumes a 64-bit json_int_t");

/* Whether the digits of an integer literal overflow json_int_t (no leading zeros: JSON forbids them). */
static int too_big(const char *digits, size_t n, int negative)
{
  if (n != 19)
    return n > 19;
  return memcmp(digits, negative ? "9223372036854775808" : "9223372036854775807", 19) > 0;
}

/*
** Finds integer literals (outside strings) too big for json_int_t and stores
** the offset just past each one's last digit in offs (up to cap of them).
** Returns how many there are. Only used on text jansson has partly checked.
*/
static size_t find_big_ints(const char *s, size_t n, size_t *offs, size_t cap)
{
  size_t i = 0, count = 0;
  while (i < n) {
    char c = s[i];
    if (c == '"') {
      for (i++; i < n && s[i] != '"'; i++)
        if (s[i] == '\\')
          i++;
      i++;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      int negative = c == '-';
      size_t start = i + (size_t)negative;
      for (i = start; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        ;
      if (i < n && (s[i] == '.' || s[i] == 'e' || s[i] == 'E')) {
        while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == 'e' ||
                         s[i] == 'E' || s[i] == '+' || s[i] == '-'))
          i++;
      } else if (too_big(s + start, i - start, negative)) {
        if (count < cap)
          offs[count] = i;
        count++;
      }
    } else {
      i++;
    }
  }
  return count;
}

static void load_error(const json_error_t *err, const char *source, char *msg, size_t size)
{
  char where[PATH_MAX + 16] = "";
  if (source)
    snprintf(where, sizeof where, " in '%s'", source);
  if (err->line > 0)
    snprintf(msg, size, "invalid JSON%s at line %d, column %d: %s", where, err->line,
             err->column, err->text);
  else
    snprintf(msg, size, "invalid JSON%s: %s", where, err->text);
}

/*
** Decodes text whose integers overflow: appends ".0" to each too-big
** integer, so jansson reads it as a real, and parses again. An error in
** the patched text is mapped back to the original's position and column.
*/
static json_t *load_big_ints(const char *s, size_t n, const char *source, char *msg, size_t size,
                             const json_error_t *first)
{
  size_t count = find_big_ints(s, n, NULL, 0), i, from = 0, to = 0;
  size_t *offs = NULL;
  char *patched = NULL;
  json_error_t err;
  json_t *j = NULL;

  if (count == 0 || count > (SIZE_MAX - n) / 2) {
    load_error(first, source, msg, size);
    return NULL;
  }
  offs = malloc(count * sizeof *offs);
  patched = malloc(n + 2 * count);
  if (!offs || !patched) {
    snprintf(msg, size, "cannot decode JSON: out of memory");
    goto out;
  }
  find_big_ints(s, n, offs, count);
  for (i = 0; i < count; i++) {
    memcpy(patched + to, s + from, offs[i] - from);
    to += offs[i] - from;
    memcpy(patched + to, ".0", 2);
    to += 2;
    from = offs[i];
  }
  memcpy(patched + to, s + from, n - from);
  j = json_loadb(patched, n + 2 * count, DECODE_FLAGS, &err);
  if (!j) {
    size_t pos = (size_t)err.position, k = 0, orig, line_start, same = 0;
    while (k < count && offs[k] + 2 * k < pos)
      k++;
    orig = pos >= 2 * k ? pos - 2 * k : 0;
    if (k > 0 && orig < offs[k - 1])
      orig = offs[k - 1];
    line_start = orig < n ? orig : n;
    while (line_start > 0 && s[line_start - 1] != '\n')
      line_start--;
    for (i = 0; i < k; i++)
      if (offs[i] >= line_start)
        same++;
    if (err.column > 0 && (size_t)err.column > 2 * same)
      err.column -= (int)(2 * same);
    err.position = (int)orig;
    load_error(&err, source, msg, size);
  }
out:
  free(offs);
  free(patched);
  return j;
}

json_t *hoist_json_load(const char *s, size_t n, const char *source, char *msg, size_t size)
{
  json_error_t err;
  json_t *j = json_loadb(s, n, DECODE_FLAGS, &err);
  if (j)
    return j;
  if (json_error_code(&err) == json_error_numeric_overflow && strncmp(err.text, "too big", 7) == 0)
    return load_big_ints(s, n, source, msg, size, &err);
  load_error(&err, source, msg, size);
  return NULL;
}
