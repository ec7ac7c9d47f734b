/*
** runtime: the Lua state hoist runs scripts in. It preloads the native
** modules, points package.path at hoist's lua/ and scripts/ folders (the
** build tree or <prefix>/share/hoist), and guards globals.
*/
#ifndef HOIST_RUNTIME_H
#define HOIST_RUNTIME_H

#include <lua.h>

/* Exit codes of the command line (DESIGN.md section 2). */
enum hoist_exit {
  HOIST_EXIT_OK = 0,
  HOIST_EXIT_FAILURE = 1,     /* runtime failure: I/O, registry, auth */
  HOIST_EXIT_USAGE = 2,       /* the command line was wrong */
  HOIST_EXIT_VALIDATION = 3   /* validation found problems */
};

struct hoist_options {
  int debug;   /* tracebacks on error */
  int json;    /* machine output on stdout */
  int quiet;   /* less on stderr */
};

/* Creates the state with standard libraries, hoist's modules in package.preload,
** package.path set, and the table `hoist.host` filled from opts. NULL if out of memory. */
lua_State *hoist_runtime_new(const struct hoist_options *opts);

/* Where hoist's share folder (holding lua/ and scripts/) is; never NULL. */
const char *hoist_runtime_share_dir(void);

/* Finds the file of a recipe: HOIST_PATH templates, ./.hoist/, then scripts/.
** Pushes the path and returns 1, or pushes nothing and returns 0. */
int hoist_runtime_find_recipe(lua_State *L, const char *name);

/* Makes reading or assigning an undeclared global raise an error naming it. */
void hoist_runtime_strict_globals(lua_State *L);

/* Reads the options back (a recipe may have turned --json or --debug on). */
void hoist_runtime_options(lua_State *L, struct hoist_options *opts);

#endif
