/*
** filesrecord: a layer's file list (layerfiles.h) kept on disk beside the
** layer cache, so that an SBOM of a layer hoist built (or read once) never
** reads the layer again.
**
** The record is JSON Lines, written and read one entry at a time, so that a
** layer of 60,000 files costs one line of memory, not a parsed tree of the
** whole list:
**
**   {"entries":N,"hoist-files":2}
**   {"link":null,"mode":420,"name":"ui/index.html","sha1":"..","sha256":"..","size":97,"type":"f"}
**   ... N lines in archive order
**
** A record is content-addressed (by the layer's digest) and written to a
** temporary name, then renamed: a reader sees a whole record or none. A record
** that is not exactly that (another version, cut short by a crash, edited) is
** "no record", never a partial list.
*/
#ifndef HOIST_FILESRECORD_H
#define HOIST_FILESRECORD_H

#include "err.h"
#include "layerfiles.h"

/* Writes f to path (atomically: temporary file, then rename; no fsync, it is a cache). */
int hoist_files_record_write(const char *path, const struct hoist_layer_files *f, struct hoist_err *err);

/*
** Reads the record at path into out. HOIST_ENOENT when there is none, HOIST_EINVAL
** when the file is not a whole record (both mean: read the layer instead).
*/
int hoist_files_record_read(const char *path, struct hoist_layer_files *out, struct hoist_err *err);

#endif
