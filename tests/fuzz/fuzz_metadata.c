/*
** fuzz_metadata: libFuzzer target for an extension's metadata.json as hoist
** reads it: hoist.json.decode, then hoist.extension's check_metadata_shape
** (problems and warnings), check_backend, named_files and check_named_files
** over two platforms that hold different files, then an encode/decode round
** trip. When the root is an object, its string members are also taken as
** image labels for hoist.label.validate_extension (public and private, with an
** SDK version) and label.unknown.
**
** One Lua state with hoist's runtime (runtime.h) is made at start-up and
** reused; each input runs in a pcall, so a Lua error is an ordinary outcome.
** What must not happen is a C crash, a sanitizer report, a problem or warning
** that is not a one-line string, a named file that is not absolute, a private
** check that finds more problems than the public one, or a decoded value that
** does not survive encode + decode.
**
** The system Lua library carries no coverage instrumentation, so a line hook
** feeds libFuzzer's extra counters with (previous line, line) pairs of the
** Lua code run: inputs that take new paths through check_metadata_shape are
** kept even when the C side looks the same.
*/
#include "runtime.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define COUNTERS (1u << 14)

__attribute__((used, section("__libfuzzer_extra_counters")))
static uint8_t lua_edges[COUNTERS];

static lua_State *L;
static int run_ref = LUA_NOREF;
static uintptr_t prev_line;

/* The per-input work, in Lua: errors raise and are caught by the pcall below. */
static const char run_src[] =
  "local json = require('hoist.json')\n"
  "local extension = require('hoist.extension')\n"
  "local label = require('hoist.label')\n"
  "local function lines(list, what)\n"
  "  for i, p in ipairs(list) do\n"
  "    if type(p) ~= 'string' then error('FUZZ: ' .. what .. ' ' .. i .. ' is not a string') end\n"
  "    if p:find('\\n', 1, true) then error('FUZZ: ' .. what .. ' ' .. i .. ' is not one line') end\n"
  "  end\n"
  "end\n"
  "return function(text)\n"
  "  local meta = json.decode(text)\n"
  "  if meta == nil then return end\n"
  "  local problems, warnings = {}, {}\n"
  "  extension.check_metadata_shape(meta, problems, warnings)\n"
  "  extension.check_backend(meta, false, problems)\n"
  "  for _, f in ipairs(extension.named_files(meta)) do\n"
  "    if f.path:sub(1, 1) ~= '/' then error('FUZZ: a named file is not absolute') end\n"
  "    if type(f.given) ~= 'string' then error('FUZZ: a named file has no text to quote') end\n"
  "  end\n"
  "  extension.check_named_files(meta, {\n"
  "    { name = 'linux/amd64', exists = function(p) return #p % 2 == 0 end },\n"
  "    { name = 'linux/arm64', exists = function(p) return #p % 3 == 0 end },\n"
  "  }, problems, warnings)\n"
  "  lines(problems, 'problem')\n"
  "  lines(warnings, 'warning')\n"
  "  if type(meta) == 'table' then\n"
  "    local labels = {}\n"
  "    for k, v in pairs(meta) do\n"
  "      if type(k) == 'string' and type(v) == 'string' then labels[k] = v end\n"
  "    end\n"
  "    local _, lp, lw = label.validate_extension(labels, { sdk = '0.3.3' })\n"
  "    local _, pp, pw = label.validate_extension(labels, { private = true, sdk = '0.3.3' })\n"
  "    lines(lp or {}, 'label problem'); lines(lw, 'label warning')\n"
  "    lines(pp or {}, 'private problem'); lines(pw, 'private warning')\n"
  "    if #(pp or {}) > #(lp or {}) then error('FUZZ: private found more problems') end\n"
  "    for _, u in ipairs(label.unknown(labels)) do\n"
  "      if type(u.name) ~= 'string' then error('FUZZ: label.unknown gave a non-string name') end\n"
  "    end\n"
  "  end\n"
  "  local ok, again = pcall(json.encode, meta)\n"
  "  if ok and again and json.decode(again) == nil then\n"
  "    error('FUZZ: an encoded value does not decode')\n"
  "  end\n"
  "end\n";

static void line_hook(lua_State *S, lua_Debug *ar)
{
  uintptr_t here;
  if (!lua_getinfo(S, "S", ar))
    return;
  /* the source string is interned per chunk, so its address names the file */
  here = ((uintptr_t)ar->source * 2654435761u) ^ (uintptr_t)ar->currentline;
  lua_edges[(here ^ (prev_line >> 1)) % COUNTERS]++;
  prev_line = here;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  struct hoist_options opts = { 0, 0, 1 };
  (void)argc;
  (void)argv;
  L = hoist_runtime_new(&opts);
  if (!L) {
    fprintf(stderr, "fuzz_metadata: cannot create the Lua state\n");
    abort();
  }
  if (luaL_loadstring(L, run_src) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
    fprintf(stderr, "fuzz_metadata: setup failed: %s\n", lua_tostring(L, -1));
    abort();
  }
  run_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_sethook(L, line_hook, LUA_MASKLINE, 0);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static unsigned runs;
  lua_settop(L, 0);
  prev_line = 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, run_ref);
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    /* a Lua error is fine, except the ones the checks above raise */
    if (msg && strstr(msg, "FUZZ: ")) {
      fprintf(stderr, "fuzz_metadata: %s\n", msg);
      abort();
    }
  }
  lua_settop(L, 0);
  if (++runs % 1000 == 0)
    lua_gc(L, LUA_GCCOLLECT);  /* keeps RSS flat across a long run */
  return 0;
}
