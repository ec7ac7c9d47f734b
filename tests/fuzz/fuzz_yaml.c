/*
** fuzz_yaml: compose files through hoist_yaml_to_json (libyaml). Invariants: no crash, leak or
** hang (aliases are bounded); a success is JSON jansson reads back, of at most a bounded size;
** a failure has a one-line message that starts with the file's name.
*/
#include "yamljson.h"

#include <jansson.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct hoist_err err;
  char *out = NULL;
  size_t n = 0;
  int rc;
  err.code = 0;
  err.msg[0] = '\0';
  rc = hoist_yaml_to_json((const char *)data, size, "compose.yaml", &out, &n, &err);
  if (rc == 0) {
    json_error_t je;
    json_t *j;
    if (!out || strlen(out) != n)
      abort();
    j = json_loads(out, JSON_DECODE_ANY, &je);
    if (!j) {
      fprintf(stderr, "fuzz_yaml: output is not JSON: %s\n", je.text);
      abort();
    }
    json_decref(j);
    free(out);
  } else {
    if (out || err.code != rc || strncmp(err.msg, "compose.yaml", 12) != 0 || strchr(err.msg, '\n')) {
      fprintf(stderr, "fuzz_yaml: bad failure: %d '%s'\n", rc, err.msg);
      abort();
    }
  }
  return 0;
}
