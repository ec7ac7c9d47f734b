# Adds a layer on top of every platform image of the index an OCI layout's tag names, as another
# tool would write it (for the runtime checks of `hoist validate` on built images:
# tests/integration/test_docker_rules.sh). The config's diff_ids and the manifests, the index and
# the tag are rewritten to match.
#   python3 add_layer.py LAYOUT TAG SPEC...
# SPEC: file:PATH:MODE[:CONTENT] (a regular file, octal mode), link:PATH:TARGET (a symlink),
#       whiteout:PATH (a .wh. entry hiding PATH), cmd:JSON (the config's Cmd, no layer entry)
import gzip, hashlib, io, json, sys, tarfile
lay, tag, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
def path(d): return lay + "/blobs/sha256/" + d.split(":")[1]
def put(b):
    d = "sha256:" + hashlib.sha256(b).hexdigest()
    open(path(d), "wb").write(b)
    return d, len(b)
raw = io.BytesIO()
cmd = None
with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
    for spec in specs:
        kind, rest = spec.split(":", 1)
        if kind == "cmd":
            cmd = json.loads(rest)
            continue
        if kind == "file":
            p, mode, *content = rest.split(":", 2)
            data = (content[0] if content else "#!/bin/sh\n").encode()
            ti = tarfile.TarInfo(p.lstrip("/")); ti.mode = int(mode, 8); ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
        elif kind == "link":
            p, target = rest.split(":", 1)
            ti = tarfile.TarInfo(p.lstrip("/")); ti.type = tarfile.SYMTYPE; ti.linkname = target
            t.addfile(ti)
        elif kind == "whiteout":
            d, _, leaf = rest.lstrip("/").rpartition("/")
            ti = tarfile.TarInfo((d + "/" if d else "") + ".wh." + leaf); ti.size = 0
            t.addfile(ti, io.BytesIO(b""))
        else:
            sys.exit("add_layer.py: unknown spec " + spec)
tar = raw.getvalue()
diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
gz = gzip.compress(tar, mtime=0)
idx = json.load(open(lay + "/index.json"))
ent = [m for m in idx["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag][0]
top = json.load(open(path(ent["digest"])))
for m in top["manifests"]:
    man = json.load(open(path(m["digest"])))
    cfg = json.load(open(path(man["config"]["digest"])))
    if any(s.split(":", 1)[0] != "cmd" for s in specs):
        d, n = put(gz)
        man["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": n})
        cfg["rootfs"]["diff_ids"].append(diff_id)
    if cmd is not None:
        cfg.setdefault("config", {})["Cmd"] = cmd
    man["config"]["digest"], man["config"]["size"] = put(json.dumps(cfg).encode())
    m["digest"], m["size"] = put(json.dumps(man).encode())
ent["digest"], ent["size"] = put(json.dumps(top).encode())
json.dump(idx, open(lay + "/index.json", "w"))
