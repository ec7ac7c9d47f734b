/*
** yamljson: a YAML document (a compose file) converted to JSON text, on libyaml
** (Debian's libyaml-dev): a real YAML parser rather than a hand-written one,
** for a format with anchors, merge keys, block and flow styles and quoting
** rules that a line-by-line reader gets wrong. See yamljson.c for the schema.
*/
#ifndef HOIST_YAMLJSON_H
#define HOIST_YAMLJSON_H

#include "err.h"

#include <stddef.h>

/*
** Converts the one YAML document of text[0..len) to compact JSON in *out
** (malloc'd, NUL-terminated, *out_len bytes). name is used in messages:
** "NAME:LINE:COLUMN: what is wrong" (HOIST_EINVAL).
*/
int hoist_yaml_to_json(const char *text, size_t len, const char *name, char **out, size_t *out_len,
                       struct hoist_err *err);

#endif
