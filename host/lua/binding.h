/*
** binding: what every Lua binding (mod_*.c) shares, so that each one only
** converts arguments and results: failures as `nil, message, code`, option
** tables checked for keys the function does not know, C strings handed to Lua
** without leaking when Lua raises.
*/
#ifndef HOIST_BINDING_H
#define HOIST_BINDING_H

#include "err.h"

#include <lua.h>

#include <stddef.h>

/* Pushes fail, err->msg, the code's name ("EIO", "EAUTH", ...); returns 3 for `return`. */
int hoist_lua_push_err(lua_State *L, const struct hoist_err *err);

/*
** Raises "bad option 'KEY' to 'FNAME' (did you mean 'K'?)" when the table at
** idx has a key that is not in known (NULL-terminated), or a key that is not
** a string. The suggestion is the closest known key, when one is close.
*/
void hoist_lua_check_keys(lua_State *L, int idx, const char *fname, const char *const *known);

/* The closest of known (NULL-terminated) to word by edit distance, or NULL when none is close. */
const char *hoist_closest(const char *word, const char *const *known);

/* Pushes body[0..len) as a Lua string and frees body, also when pushing raises. */
void hoist_lua_push_owned(lua_State *L, char *body, size_t len);

struct hoist_layer_files;
/*
** A layer's file list as a Lua value (layerlist.c: a hoist.LayerFiles userdata with
** list:entries() and #list). push takes the entries from *moved (left empty), so that
** Lua's collector frees them; check raises when idx is not one, test returns NULL.
*/
void hoist_lua_push_layer_list(lua_State *L, struct hoist_layer_files *moved);
struct hoist_layer_files *hoist_lua_check_layer_list(lua_State *L, int idx);
struct hoist_layer_files *hoist_lua_test_layer_list(lua_State *L, int idx);

struct hoist_push_stream;
/*
** The push stream at idx (a hoist.PushStream from c:push_stream, mod_registry.c), for
** hoist.oci.core's write_layers. Raises when idx is not one, or is closed.
*/
struct hoist_push_stream *hoist_lua_check_push_stream(lua_State *L, int idx);
/* Adds delta to the busy count of that stream (a busy stream cannot be closed); returns the
** count before. write_layers holds it while a build uploads into it. */
int hoist_lua_push_stream_busy(lua_State *L, int idx, int delta);

#endif
