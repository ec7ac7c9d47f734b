/*
** spdxfiles: the part of an SPDX 2.3 JSON document that lists an image's
** files, written by C straight to disk: at 60,000 files it is 15 MB of JSON,
** and building it as Lua tables and strings took 4.7 KB of memory per file.
**
** The Lua side (hoist.attest) builds the rest of the document; these two calls
** write the files array and the hasFiles array into a fragment file, then
** stream the whole document (head, files, middle, hasFiles, tail) to its file
** while hashing it, so that the document is never whole in memory.
**
** Fragment file: "hoist-sbom-files 2 COUNT CODE\n" FILES "\n" IDS "\n", where
** FILES is the JSON array of File objects (keys sorted), IDS the JSON array of
** their SPDX ids, and CODE the package verification code (SPDX 2.3 section
** 7.9: SHA-1 over the sorted SHA-1s of the files).
*/
#ifndef HOIST_SPDXFILES_H
#define HOIST_SPDXFILES_H

#include "digest.h"
#include "err.h"
#include "imagefiles.h"

struct hoist_spdx_fragment {
  size_t count;
  char code[41];
};

/* Writes the fragment of files to path (atomically). A name that is not UTF-8 is HOIST_EINVAL. */
int hoist_spdx_fragment_write(const struct hoist_image_files *files, const char *path,
                              struct hoist_spdx_fragment *out, struct hoist_err *err);

/* Reads a fragment's count and code; HOIST_EINVAL when the file is not a fragment. */
int hoist_spdx_fragment_read(const char *path, struct hoist_spdx_fragment *out, struct hoist_err *err);

/*
** Writes head FILES middle IDS tail to path (atomically), FILES and IDS taken
** from the fragment at fragment_path; digest and size are the document's.
*/
int hoist_spdx_document_write(const char *path, const char *fragment_path, const char *head,
                              const char *middle, const char *tail, char digest[HOIST_DIGEST_LEN + 1],
                              unsigned long long *size, struct hoist_err *err);

#endif
