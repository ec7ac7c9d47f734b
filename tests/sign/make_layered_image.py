#!/usr/bin/env python3
"""Writes an OCI layout DIR with one linux/amd64 image tagged 1.0.0 whose three layers exercise
what an SBOM must get right when it applies layers: whiteouts (.wh.NAME of a file and of a
folder), an opaque folder (.wh..wh..opq), a file replaced by a folder and a folder by a file, a
hard link, a symlink, an empty file, a sparse-looking large file, names with spaces and UTF-8,
gzip and plain tar layers. Deterministic (fixed mtimes, sorted). usage: make_layered_image.py DIR
"""
import gzip, hashlib, io, json, os, sys, tarfile

out = sys.argv[1]
os.makedirs(f"{out}/blobs/sha256", exist_ok=True)


def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{out}/blobs/sha256/{d}", "wb").write(data)
    return "sha256:" + d, len(data)


def layer(entries, compress):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            kind, name = e[0], e[1]
            ti = tarfile.TarInfo(name)
            ti.mtime = 0
            if kind == "f":
                data = e[2]
                ti.size, ti.mode = len(data), e[3] if len(e) > 3 else 0o644
                t.addfile(ti, io.BytesIO(data))
            elif kind == "d":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            elif kind == "l":
                ti.type, ti.linkname = tarfile.SYMTYPE, e[2]
                t.addfile(ti)
            elif kind == "h":
                ti.type, ti.linkname = tarfile.LNKTYPE, e[2]
                t.addfile(ti)
    tar = buf.getvalue()
    diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
    blob = gzip.compress(tar, mtime=0) if compress else tar
    digest, size = put(blob)
    mt = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if compress else "")
    return {"mediaType": mt, "digest": digest, "size": size}, diff_id


big = bytes(range(256)) * 4096 + b"\0" * (1 << 20)
l1 = layer([
    ("d", "etc"), ("f", "etc/passwd", b"root:x:0:0::/root:/bin/sh\n"), ("f", "etc/gone", b"old"),
    ("d", "opt"), ("f", "opt/a", b"a"), ("f", "opt/b", b"b"), ("d", "opt/sub"), ("f", "opt/sub/c", b"c"),
    ("d", "var"), ("d", "var/lib"), ("f", "var/lib/state", b"1"), ("f", "var/lib/more", b"2"),
    ("f", "becomes-dir", b"file first"), ("d", "becomes-file"), ("f", "becomes-file/inner", b"x"),
    ("f", "empty", b""), ("f", "big.bin", big, 0o755), ("f", "with space/é ü.txt".replace("with space/", "with space-"), b"utf8"),
], True)
l2 = layer([
    ("f", "etc/.wh.gone", b""), ("f", "opt/.wh..wh..opq", b""), ("f", "opt/new", b"new"),
    ("f", "var/.wh.lib", b""), ("d", "becomes-dir"), ("f", "becomes-dir/now", b"dir now"),
    ("f", "becomes-file", b"file now"), ("h", "etc/passwd-link", "etc/passwd"), ("l", "etc/sym", "passwd"),
    ("f", "etc/passwd", b"root:x:0:0::/root:/bin/bash\n"),
], False)
l3 = layer([
    ("h", "opt/new-hard", "opt/new"), ("f", "opt/sub2/deep/file", b"deep"),
    ("f", ".wh.empty", b""),
], True)
layers, diff_ids = zip(*[l1, l2, l3])
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                     "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
                     "history": [{"created_by": "layer"}] * 3}, sort_keys=True).encode()
cd, cs = put(config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
                       "layers": list(layers)}, sort_keys=True).encode()
md, ms = put(manifest)
open(f"{out}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
           "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
                          "platform": {"os": "linux", "architecture": "amd64"},
                          "annotations": {"org.opencontainers.image.ref.name": "1.0.0"}}]},
          open(f"{out}/index.json", "w"))
print(md)
