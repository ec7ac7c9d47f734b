/*
** hoist's command line: parse global flags, pick the command, and run all of
** the work inside lua_pcall (as lua.c does) so every failure becomes one line
** "hoist: <message>" and an exit code from the documented set.
*/
#include "runtime.h"

#include "cleanup.h"
#include "interrupt.h"

#include <jansson.h>
#include <lauxlib.h>
#include <lualib.h>

#include <dirent.h>
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef HOIST_VERSION
#define HOIST_VERSION "0.0.0"
#endif

static const char usage_text[] =
  "usage: hoist [--debug] [--json] [-q] COMMAND [ARGS...]\n"
  "\n"
  "commands:\n"
  "  run FILE.lua [ARGS...]   run a Lua release script (ARGS in the global 'arg')\n"
  "  eval 'CHUNK' [ARGS...]   run a Lua chunk\n"
  "  RECIPE [ARGS...]         run a bundled or team recipe (see 'hoist recipes')\n"
  "  recipes                  list recipes with a one-line description\n"
  "  version                  print hoist's version\n"
  "  help [RECIPE]            this text, or a recipe's usage\n"
  "\n"
  "global flags:\n"
  "  --debug                  Lua tracebacks on error\n"
  "  --json                   machine output on stdout\n"
  "  -q, --quiet              no progress on stderr\n"
  "\n"
  "exit codes: 0 success, 1 runtime failure, 2 usage error, 3 validation problems\n";

struct invocation {
  struct hoist_options opts;
  int argc;       /* arguments after the global flags */
  char **argv;
  int status;     /* exit code chosen inside pmain */
};

/* An error value may be a table { exit = N, message = "..." } raised by hoist.cli. */
static int error_exit_code(lua_State *L, int idx)
{
  int code = HOIST_EXIT_FAILURE;
  if (lua_type(L, idx) == LUA_TTABLE) {
    if (lua_getfield(L, idx, "exit") == LUA_TNUMBER)
      code = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  return code;
}

/* Turns any error value into a message string; adds a traceback when --debug is on. */
static int msghandler(lua_State *L)
{
  struct hoist_options opts = {0, 0, 0};
  const char *msg;
  if (lua_type(L, 1) == LUA_TTABLE) {
    if (lua_getfield(L, 1, "message") == LUA_TSTRING) {
      hoist_runtime_options(L, &opts);
      if (!opts.debug) {
        lua_pop(L, 1);
        return 1;  /* keep the table: pmain's caller reads exit and message */
      }
      msg = lua_tostring(L, -1);
      luaL_traceback(L, L, msg, 1);
      lua_setfield(L, 1, "message");
      lua_pop(L, 1);
      return 1;
    }
    lua_pop(L, 1);
  }
  msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      msg = lua_tostring(L, -1);
    else
      msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  hoist_runtime_options(L, &opts);
  if (opts.debug)
    luaL_traceback(L, L, msg, 1);
  else
    lua_pushstring(L, msg);
  return 1;
}

static int docall(lua_State *L, int narg, int nres)
{
  int status;
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  status = lua_pcall(L, narg, nres, base);
  lua_remove(L, base);
  return status;
}

/* Creates the global 'arg' (arg[0] = script, arg[1..] = ARGS) and pushes ARGS as varargs. */
static int push_script_args(lua_State *L, const char *script, int argc, char **argv)
{
  int i;
  lua_createtable(L, argc, 2);
  lua_pushstring(L, "hoist");
  lua_rawseti(L, -2, -1);
  lua_pushstring(L, script);
  lua_rawseti(L, -2, 0);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setglobal(L, "arg");
  luaL_checkstack(L, argc, "too many arguments");
  for (i = 0; i < argc; i++)
    lua_pushstring(L, argv[i]);
  return argc;
}

static int usage_error(lua_State *L, const char *fmt, const char *what)
{
  lua_createtable(L, 0, 2);
  lua_pushinteger(L, HOIST_EXIT_USAGE);
  lua_setfield(L, -2, "exit");
  lua_pushfstring(L, fmt, what);
  lua_setfield(L, -2, "message");
  return lua_error(L);
}

/* First comment line of a recipe file: its one-line description. */
static void read_recipe_lines(const char *path, int all, luaL_Buffer *b)
{
  char line[512];
  FILE *f = fopen(path, "r");
  if (!f)
    return;
  while (fgets(line, sizeof line, f)) {
    char *p = line;
    if (p[0] == '#' && p[1] == '!')
      continue;
    if (p[0] != '-' || p[1] != '-')
      break;
    p += 2;
    if (*p == ' ')
      p++;
    luaL_addstring(b, p);
    if (!all)
      break;
  }
  fclose(f);
}

static int cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

#define MAX_RECIPES 512

struct recipe_list {
  size_t n;
  char *name[MAX_RECIPES];
  char *path[MAX_RECIPES];
};

/* Adds the *.lua files of dir not already listed (earlier folders win, as in lookup). */
static void collect_recipes(struct recipe_list *rl, const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  if (!d)
    return;
  while ((e = readdir(d)) != NULL && rl->n < MAX_RECIPES) {
    size_t len = strlen(e->d_name), i;
    char path[4200];
    int seen = 0;
    if (len <= 4 || strcmp(e->d_name + len - 4, ".lua") != 0 || e->d_name[0] == '_' ||
        e->d_name[0] == '.')
      continue;
    for (i = 0; i < rl->n; i++)
      if (strncmp(rl->name[i], e->d_name, len - 4) == 0 && rl->name[i][len - 4] == '\0')
        seen = 1;
    if (seen)
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    rl->name[rl->n] = strndup(e->d_name, len - 4);
    rl->path[rl->n] = strdup(path);
    if (rl->name[rl->n] && rl->path[rl->n])
      rl->n++;
  }
  closedir(d);
}

/* Folders of the HOIST_PATH templates that end in "/?.lua". */
static void collect_hoist_path(struct recipe_list *rl)
{
  const char *p = getenv("HOIST_PATH");
  while (p && *p) {
    const char *end = strchr(p, ';');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n > 6 && n < 4096 && memcmp(p + n - 6, "/?.lua", 6) == 0) {
      char dir[4096];
      memcpy(dir, p, n - 6);
      dir[n - 6] = '\0';
      collect_recipes(rl, dir);
    }
    p += n;
    if (*p == ';')
      p++;
  }
}

static void list_recipes(lua_State *L)
{
  struct recipe_list rl;
  char dir[4096];
  size_t i, k;

  rl.n = 0;
  collect_hoist_path(&rl);
  collect_recipes(&rl, "./.hoist");
  snprintf(dir, sizeof dir, "%s/scripts", hoist_runtime_share_dir());
  collect_recipes(&rl, dir);
  /* sort names and paths together */
  for (i = 1; i < rl.n; i++)
    for (k = i; k > 0 && cmp_names(&rl.name[k - 1], &rl.name[k]) > 0; k--) {
      char *t = rl.name[k];
      rl.name[k] = rl.name[k - 1];
      rl.name[k - 1] = t;
      t = rl.path[k];
      rl.path[k] = rl.path[k - 1];
      rl.path[k - 1] = t;
    }
  for (i = 0; i < rl.n; i++) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    read_recipe_lines(rl.path[i], 0, &b);
    luaL_pushresult(&b);
    printf("  %-10s %s", rl.name[i], lua_tostring(L, -1));
    if (lua_rawlen(L, -1) == 0 || lua_tostring(L, -1)[lua_rawlen(L, -1) - 1] != '\n')
      putchar('\n');
    lua_pop(L, 1);
    free(rl.name[i]);
    free(rl.path[i]);
  }
}

static int run_chunk(lua_State *L, int loaded, int nargs)
{
  if (loaded != LUA_OK)
    return lua_error(L);
  lua_insert(L, -(nargs + 1));
  lua_call(L, nargs, 0);
  return 0;
}

static int pmain(lua_State *L)
{
  struct invocation *inv = lua_touserdata(L, 1);
  const char *cmd;
  int nargs;

  lua_settop(L, 0);
  if (inv->argc < 1) {
    fputs(usage_text, stderr);
    inv->status = HOIST_EXIT_USAGE;
    return 0;
  }
  cmd = inv->argv[0];

  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    if (inv->opts.json)
      printf("{\"version\": \"%s\"}\n", HOIST_VERSION);
    else
      printf("hoist %s\n", HOIST_VERSION);
    return 0;
  }
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    if (inv->argc >= 2) {
      luaL_Buffer b;
      char path[4096];
      if (!hoist_runtime_find_recipe(L, inv->argv[1]))
        return usage_error(L, "unknown recipe '%s' (see 'hoist recipes')", inv->argv[1]);
      snprintf(path, sizeof path, "%s", lua_tostring(L, -1));
      lua_pop(L, 1);
      luaL_buffinit(L, &b);
      read_recipe_lines(path, 1, &b);
      luaL_pushresult(&b);
      fputs(lua_tostring(L, -1), stdout);
      return 0;
    }
    fputs(usage_text, stdout);
    puts("\nrecipes:");
    list_recipes(L);
    return 0;
  }
  if (strcmp(cmd, "recipes") == 0) {
    list_recipes(L);
    return 0;
  }

  if (strcmp(cmd, "run") == 0) {
    if (inv->argc < 2)
      return usage_error(L, "%s", "usage: hoist run FILE.lua [ARGS...]");
    nargs = push_script_args(L, inv->argv[1], inv->argc - 2, inv->argv + 2);
    hoist_runtime_strict_globals(L);
    return run_chunk(L, luaL_loadfilex(L, inv->argv[1], "t"), nargs);
  }
  if (strcmp(cmd, "eval") == 0) {
    if (inv->argc < 2)
      return usage_error(L, "%s", "usage: hoist eval 'CHUNK' [ARGS...]");
    nargs = push_script_args(L, "(eval)", inv->argc - 2, inv->argv + 2);
    hoist_runtime_strict_globals(L);
    return run_chunk(L, luaL_loadbufferx(L, inv->argv[1], strlen(inv->argv[1]), "=(eval)", "t"),
                     nargs);
  }
  if (cmd[0] == '-')
    return usage_error(L, "unknown flag '%s' (see 'hoist help')", cmd);
  if (!hoist_runtime_find_recipe(L, cmd))
    return usage_error(L, "unknown command or recipe '%s' (see 'hoist help')", cmd);
  {
    char path[4096];
    snprintf(path, sizeof path, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    nargs = push_script_args(L, path, inv->argc - 1, inv->argv + 1);
    hoist_runtime_strict_globals(L);
    return run_chunk(L, luaL_loadfilex(L, path, "t"), nargs);
  }
}

/* {=================================== SIGINT and SIGTERM

A cancelled CI job or a Ctrl-C must not leave staging folders and temp files
behind. As lua.c does, the handler only records the signal and sets a hook;
the hook raises an error at the next Lua instruction, which unwinds like any
failure (C cores poll hoist_interrupted and return early); main then removes
the registered temp folders and exits 128 + the signal. A second signal takes
the default action. */

static lua_State *signal_L;

static void stop_hook(lua_State *L, lua_Debug *ar)
{
  int sig = hoist_interrupted();
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  lua_createtable(L, 0, 2);
  lua_pushinteger(L, 128 + sig);
  lua_setfield(L, -2, "exit");
  lua_pushfstring(L, "interrupted by %s; temporary files removed", sig == SIGINT ? "SIGINT" : "SIGTERM");
  lua_setfield(L, -2, "message");
  lua_error(L);
}

static void on_signal(int sig)
{
  signal(sig, SIG_DFL);
  hoist_interrupt_raise(sig);
  lua_sethook(signal_L, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

static void catch_signals(lua_State *L)
{
  struct sigaction sa;
  signal_L = L;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  /* no SA_RESTART: a blocking wait (a lock, a child) returns EINTR and is checked */
  for (int i = 0; i < 2; i++) {
    int sig = i == 0 ? SIGINT : SIGTERM;
    struct sigaction old;
    /* a signal the parent ignores (nohup, a shell's background job) stays ignored */
    if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
      continue;
    sigaction(sig, &sa, NULL);
  }
}

/* }=================================== */

/* Global flags come before the command; the rest belongs to the command. */
static int parse_global_flags(int argc, char **argv, struct invocation *inv)
{
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--debug") == 0)
      inv->opts.debug = 1;
    else if (strcmp(a, "--json") == 0)
      inv->opts.json = 1;
    else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
      inv->opts.quiet = 1;
    else
      break;
  }
  inv->argc = argc - i;
  inv->argv = argv + i;
  return 0;
}

/* A list of strings in field `name` of the table at idx, as a JSON array (empty when absent). */
static json_t *string_list(lua_State *L, int idx, const char *name)
{
  json_t *arr = json_array();
  if (lua_type(L, idx) != LUA_TTABLE)
    return arr;
  if (lua_getfield(L, idx, name) == LUA_TTABLE) {
    lua_Integer i, n = (lua_Integer)lua_rawlen(L, -1);
    for (i = 1; i <= n; i++) {
      if (lua_rawgeti(L, -1, i) == LUA_TSTRING)
        json_array_append_new(arr, json_string(lua_tostring(L, -1)));
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  return arr;
}

/* --json given after the command (hoist.cli's parser sets hoist.host.json). */
static int json_flag_set(lua_State *L)
{
  struct hoist_options o = {0, 0, 0};
  hoist_runtime_options(L, &o);
  return o.json;
}

/*
** The failure's one line on stderr: "hoist: <message>", or a JSON log line with
** HOIST_LOG_FORMAT=json; with --json also a JSON object on stdout, so that a
** script parsing the output gets one on failure too:
**   {"error": "...", "exit": N, "kind": "EINVAL", "problems": [...], "warnings": [...]}
*/
static void report(lua_State *L, int status_idx, int json, int code)
{
  const char *msg = NULL, *kind = NULL, *fmt = getenv("HOIST_LOG_FORMAT");
  if (lua_type(L, status_idx) == LUA_TTABLE) {
    if (lua_getfield(L, status_idx, "message") == LUA_TSTRING)
      msg = lua_tostring(L, -1);
    if (lua_getfield(L, status_idx, "kind") == LUA_TSTRING)
      kind = lua_tostring(L, -1);
  } else {
    msg = lua_tostring(L, status_idx);
  }
  if (!msg)
    msg = "(no error message)";
  if (fmt && strcmp(fmt, "json") == 0) {
    json_t *line = json_pack("{s:s, s:s, s:i}", "level", "error", "message", msg, "exit", code);
    char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    if (text) {
      fprintf(stderr, "%s\n", text);
      free(text);
    }
    json_decref(line);
  } else {
    fprintf(stderr, "hoist: %s\n", msg);
  }
  fflush(stderr);
  /* hoist.cli's failures print their JSON object themselves (with the recipe's result) */
  if (json && lua_type(L, status_idx) == LUA_TTABLE &&
      lua_getfield(L, status_idx, "json_reported") != LUA_TNIL)
    json = 0;
  if (json) {
    json_t *obj = json_pack("{s:s, s:i}", "error", msg, "exit", code);
    char *text = NULL;
    if (obj) {
      if (kind)
        json_object_set_new(obj, "kind", json_string(kind));
      json_object_set_new(obj, "problems", string_list(L, status_idx, "problems"));
      json_object_set_new(obj, "warnings", string_list(L, status_idx, "warnings"));
      text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    }
    if (text) {
      printf("%s\n", text);
      free(text);
    }
    json_decref(obj);
  }
}

int main(int argc, char **argv)
{
  struct invocation inv;
  lua_State *L;
  int status, code;

  /* file names are UTF-8 bytes; libarchive converts through the C library's ctype */
  if (!setlocale(LC_CTYPE, "C.UTF-8"))
    setlocale(LC_CTYPE, "");
  memset(&inv, 0, sizeof inv);
  parse_global_flags(argc, argv, &inv);
  L = hoist_runtime_new(&inv.opts);
  if (!L) {
    fputs("hoist: cannot create Lua state: not enough memory\n", stderr);
    return HOIST_EXIT_FAILURE;
  }
  catch_signals(L);
  lua_pushcfunction(L, pmain);
  lua_pushlightuserdata(L, &inv);
  status = docall(L, 1, 0);
  if (status != LUA_OK) {
    code = error_exit_code(L, -1);
    if (hoist_interrupted() && code < 128)
      code = 128 + hoist_interrupted();
    report(L, lua_gettop(L), inv.opts.json || json_flag_set(L), code);
  } else {
    code = inv.status;
  }
  signal(SIGINT, SIG_IGN);   /* the cleanup below is not cut short */
  signal(SIGTERM, SIG_IGN);
  lua_close(L);
  hoist_cleanup_run();
  if (hoist_interrupted() && code < 128)
    code = 128 + hoist_interrupted();  /* stopped inside C: no Lua instruction ran after */
  if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
    if (errno != EPIPE)
      fprintf(stderr, "hoist: write error on standard output: %s\n", strerror(errno));
    if (code == HOIST_EXIT_OK)
      code = HOIST_EXIT_FAILURE;
  }
  return code;
}
