/*
** pathglob: the exclusion list of a layer input, .dockerignore-style, matched
** against paths relative to the input's folder ("assets/app.js.map").
**
**   *        any run of characters within one path segment (never '/')
**   ?        one character (a whole UTF-8 sequence) within a segment
**   [a-z] [!a-z] [^a-z]   one byte in (or not in) a set; \ escapes inside
**   \c       the character c itself
**   **       as a whole segment: any number of segments, none included
**   /x       a leading '/' (or "./") changes nothing: every pattern is
**            anchored at the folder, as in a .dockerignore ("*.map" is only
**            the folder's own; "**" "/" "*.map" is any depth)
**   x/       a trailing '/' matches folders only
**   !x       re-includes what x matches
**
** A path is excluded when the last pattern matching it or one of its parent
** folders is not a '!' one: excluding a folder excludes everything in it,
** and a later "!folder/keep.txt" brings that one file back.
*/
#ifndef HOIST_PATHGLOB_H
#define HOIST_PATHGLOB_H

#include "err.h"

#include <stddef.h>

struct hoist_glob;

/* Compiles n patterns (in order). Empty patterns, "..", a bare "/", bad [sets] are errors. */
int hoist_glob_compile(const char *const *patterns, size_t n, struct hoist_glob **out,
                       struct hoist_err *err);
void hoist_glob_free(struct hoist_glob *g);

/* 1 when path ('/'-separated, relative, no leading '/') is excluded; is_dir: it is a folder. */
int hoist_glob_excluded(const struct hoist_glob *g, const char *path, int is_dir);

/* 1 when some pattern starts with '!': an excluded folder may still hold included paths. */
int hoist_glob_has_negations(const struct hoist_glob *g);

#endif
