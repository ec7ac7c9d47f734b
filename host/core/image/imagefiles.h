/*
** imagefiles: the regular files of an image's filesystem, from its layers'
** file lists (layerfiles.h) applied bottom first the way a container runtime
** applies layers:
**   - whiteouts (".wh.NAME" removes NAME and what is under it, ".wh..wh..opq"
**     empties its folder) act on the layers below;
**   - a later entry replaces an earlier one; an entry that is not a folder
**     replaces a folder and its content;
**   - a hard link is a regular file with its target's content.
** The result points into the layer lists: keep them until it is freed.
*/
#ifndef HOIST_IMAGEFILES_H
#define HOIST_IMAGEFILES_H

#include "err.h"
#include "layerfiles.h"

struct hoist_image_file {
  const char *path;                         /* no leading "/" (an entry's name) */
  const struct hoist_layer_entry *content;  /* the regular file whose bytes it has */
};

struct hoist_image_files {
  struct hoist_image_file *files;   /* sorted by path, byte order */
  size_t n;
};

int hoist_image_files_apply(const struct hoist_layer_files *const *layers, size_t n,
                            struct hoist_image_files *out, struct hoist_err *err);
void hoist_image_files_free(struct hoist_image_files *f);

#endif
