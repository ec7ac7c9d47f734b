/*
** pushstream: layers pushed to a registry while they are built (issue 11).
**
** A push stream is the hoist_layer_out (layer.h) of a registry release: every
** layer it is given goes two ways at once, to a file in a blob folder (the
** staging layout, from which the layer cache is filled) and, chunk by chunk,
** into an upload session of the registry:
**   open   the file is made (.tmp-layer-XXXXXX) and the layer queued; a free
**          upload thread takes it and POSTs a session at once;
**   write  the compressed bytes go to the file with write(2) (no buffer, so an
**          upload thread can read them back at once); an upload thread waiting
**          for a whole chunk past what the registry confirmed is woken when it
**          is there, and PATCHes it from the file (Content-Range; the client's
**          chunk size, raised to the registry's OCI-Chunk-Min-Length);
**   close  the file is synced and linked under its digest; the upload sends
**          what is left and PUTs ?digest=. A rolled-back layer (NULL) ends its
**          upload without a PUT (the session is left to the registry's purge).
** The chunked upload and its resume (the session's Range, then the bytes read
** again from the file; a lost session started over) are upload.c's, shared
** with finished files (reg_put_streamed). A layer already built when an
** upload thread takes it goes the ordinary way: HEAD (present: skipped), then
** hoist_registry_blob_put_file.
**
** Threads. The layers are written by the pool threads producing them
** (layer.c); they never wait for the network: the file is the buffer and no
** layer is held in memory. Uploads run on the stream's own threads, at most
** `parallel`, each with its own clone of the client (its own connection;
** credentials and tokens shared under the client's lock): an upload blocks in
** network I/O for as long as the link needs, and must not hold a thread that
** compression could use (docs/architecture.md, "Threads").
**
** Failures. The first upload failure stops the other uploads (at their next
** request) and fails every later write, open and close of the build with the
** same error, so a release stops early. A push stream never writes a manifest
** or a tag: the caller does that after hoist_push_stream_wait said every
** upload ended well. SIGINT/SIGTERM stop a request at once (http.c) and a
** waiting upload within 100 ms.
*/
#ifndef HOIST_PUSHSTREAM_H
#define HOIST_PUSHSTREAM_H

#include "err.h"
#include "layer.h"
#include "registry.h"

#include <stddef.h>

struct hoist_push_stream;

/*
** A push stream to repo on r's registry, with up to `parallel` uploads at once (0: r's
** option; at most HOIST_REGISTRY_PARALLEL_MAX). r must outlive the stream; its threads only use
** clones of it. No thread starts before the first layers are given.
*/
int hoist_push_stream_new(struct hoist_registry *r, const char *repo, int parallel,
                          struct hoist_push_stream **out, struct hoist_err *err);

/*
** hoist_layer_write_all of plans into blob_dir (nthreads as there), every layer also uploaded
** as it is written. Returns when every layer is built; their uploads may still run
** (hoist_push_stream_wait). rcs/errs report each layer as hoist_layer_write_all does; when an
** upload failed, that failure is returned (hoist_push_stream_failure names the layer). May be
** called again with more layers (not from two threads at once). files: NULL, or where each
** layer's file list is recorded, as hoist_layer_write_all_files does; read_bytes: NULL, or
** the progress counter of hoist_layer_write_all_watch.
*/
int hoist_push_stream_layers(struct hoist_push_stream *s, struct hoist_layer_plan *const *plans,
                             size_t n, const char *blob_dir, int nthreads,
                             struct hoist_layer_result *res, struct hoist_layer_files *files,
                             _Atomic unsigned long long *read_bytes, int *rcs,
                             struct hoist_err *errs);

/*
** The hoist_layer_out behind hoist_push_stream_layers, for a caller that produces n layers
** itself (tests drive it byte by byte): n more layers, numbered 0..n-1 in its calls, written
** into blob_dir. Every open must be followed by a close before the next hoist_push_stream_out;
** a layer never opened is never uploaded.
*/
int hoist_push_stream_out(struct hoist_push_stream *s, size_t n, const char *blob_dir,
                          struct hoist_layer_out *out, struct hoist_err *err);

/*
** Waits up to timeout_ms (< 0: as long as it takes) for every upload to end. Returns 0 when
** they all ended well, 1 when some still run, or the first failure's code (err set: "upload of
** sha256:... failed: <the registry's answer>").
*/
int hoist_push_stream_wait(struct hoist_push_stream *s, long timeout_ms, struct hoist_err *err);

/*
** The first upload failure: its code (0 when none), message, and which layer (its index in the
** hoist_push_stream_layers call that gave it, and its digest, "" when it was still being built).
*/
int hoist_push_stream_failure(struct hoist_push_stream *s, struct hoist_err *err, size_t *index,
                              char digest[HOIST_DIGEST_LEN + 1]);

/* WAITING: not started yet; ROLLED_BACK: its build failed (or never started: the call failed). */
enum hoist_push_layer_state { HOIST_PUSH_WAITING, HOIST_PUSH_BUILDING, HOIST_PUSH_BUILT,
                              HOIST_PUSH_ROLLED_BACK };

/* One layer of a push stream, as hoist_push_stream_stats reports it. Times: ms since the stream was made, -1 when not yet. */
struct hoist_push_layer_stats {
  size_t index;                       /* in its hoist_push_stream_layers call */
  enum hoist_push_layer_state state;
  char digest[HOIST_DIGEST_LEN + 1];  /* "" until built */
  unsigned long long written;         /* compressed bytes written so far (the size once built) */
  unsigned long long confirmed;       /* bytes the registry has confirmed */
  unsigned long patches;              /* PATCHes the registry accepted */
  int done;                           /* the upload ended */
  int rc;                             /* how (0: well) */
  enum hoist_blob_outcome outcome;    /* UPLOADED, EXISTING (a HEAD found it), or PENDING */
  long open_ms, built_ms, first_patch_ms, done_ms;
};

struct hoist_push_stream_stats {
  size_t layers, building, done, uploaded, existing;
  unsigned long long written_bytes;   /* written to the files, every layer */
  unsigned long long built_bytes;     /* sizes of the built layers */
  unsigned long long confirmed_bytes; /* confirmed by the registry, every layer */
  unsigned long long uploaded_bytes;  /* sizes of the layers uploaded (ended well) */
  unsigned long patches;              /* PATCHes accepted */
  unsigned long patches_while_building; /* of those, accepted while some layer was being built */
  int failed;                         /* an upload failed */
};

/* A snapshot of the counters, and of up to cap layers (in the order they were given). */
void hoist_push_stream_stats(struct hoist_push_stream *s, struct hoist_push_stream_stats *st,
                             struct hoist_push_layer_stats *layers, size_t cap);

/*
** Stops the uploads still running (at their next request), joins the threads, removes the
** temporary files; the blobs linked under their digest stay. NULL is fine.
*/
void hoist_push_stream_free(struct hoist_push_stream *s);

#endif
