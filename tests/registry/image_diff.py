#!/usr/bin/env python3
"""Compares the image hoist released from an imported Dockerfile with the image buildah built from
the same Dockerfile, for one platform: labels, the config fields a Dockerfile sets, and the whole
file system (every layer applied in order, base layers included, whiteouts honoured): path, type,
mode, uid/gid, content digest (or link target).

  image_diff.py HOIST_LAYOUT TAG BUILDAH_LAYOUT BUILDAH_INSPECT DESC PLATFORM [--skip-env NAME]...

HOIST_LAYOUT:TAG  the OCI layout `hoist release` wrote (an index; PLATFORM's manifest is used)
BUILDAH_LAYOUT    `buildah push IMAGE oci:BUILDAH_LAYOUT:x` (one manifest)
BUILDAH_INSPECT   `buildah inspect --type image IMAGE` (its Docker config keeps Healthcheck)
DESC              extension.lua as JSON (the dump of tests/registry/test_dockerfile_e2e.sh): layers,
                  config, base, and `added_labels`, the label keys init wrote itself (`-- not in
                  the Dockerfile`: placeholders the author filled in, the default title)
--skip-env NAME   an Env entry not compared (a documented difference of buildah's own)

Every difference gets a kind:
  file, config, label      a real difference: the test fails
  pending-owner            uid/gid differ where an entry of extension.lua has `owner`
  pending-exclude          a path only in hoist's image that an entry's `exclude` leaves out
                           (both: the layer builder does not apply these yet; the test fails on
                           them in one place of its own)
  accepted                 a difference docs/dockerfile-import.md explains; printed, never a failure
The result is printed as lines "KIND: what" and written as JSON to stdout's last line
("RESULT {...}"). Exit 0 (the caller decides), 2 on bad input.
"""
import hashlib
import json
import os
import re
import sys
import tarfile

HOIST_ADDS = ("org.opencontainers.image.version", "org.opencontainers.image.created",
              "org.opencontainers.image.revision")
JSON_LABELS = ("com.docker.extension.screenshots", "com.docker.extension.additional-urls")


def blob(lay, digest):
    return os.path.join(lay, "blobs", *digest.split(":", 1))


def load(lay, digest):
    with open(blob(lay, digest), "rb") as f:
        return json.load(f)


def manifest(lay, tag, platform):
    """The image manifest for PLATFORM of LAYOUT's TAG (or its only entry when tag is None)."""
    with open(os.path.join(lay, "index.json")) as f:
        entries = json.load(f)["manifests"]
    if tag is not None:
        entries = [m for m in entries if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
    if len(entries) != 1:
        sys.exit("image_diff: %s: %d entries for tag %r" % (lay, len(entries), tag))
    doc = load(lay, entries[0]["digest"])
    if "manifests" in doc:
        os_, arch = platform.split("/")[:2]
        hits = [m for m in doc["manifests"] if m.get("platform", {}).get("os") == os_
                and m["platform"].get("architecture") == arch]
        if len(hits) != 1:
            sys.exit("image_diff: %s: no single %s manifest" % (lay, platform))
        doc = load(lay, hits[0]["digest"])
    return doc


def norm(name):
    while name.startswith("./"):
        name = name[2:]
    return name.strip("/")


def filesystem(lay, man):
    """path -> {type, mode, uid, gid, data} after applying every layer (whiteouts included)."""
    fs = {}
    for layer in man["layers"]:
        with tarfile.open(blob(lay, layer["digest"])) as tf:
            for m in tf.getmembers():
                name = norm(m.name)
                if name in ("", "."):
                    continue
                parent, base = os.path.dirname(name), os.path.basename(name)
                if base == ".wh..wh..opq":
                    for k in [k for k in fs if k.startswith(parent + "/")]:
                        del fs[k]
                    continue
                if base.startswith(".wh."):
                    gone = os.path.join(parent, base[4:])
                    for k in [k for k in fs if k == gone or k.startswith(gone + "/")]:
                        del fs[k]
                    continue
                if m.isfile():
                    e = {"type": "file", "data": hashlib.sha256(tf.extractfile(m).read()).hexdigest()}
                elif m.isdir():
                    e = {"type": "dir", "data": None}
                elif m.issym():
                    e = {"type": "symlink", "data": m.linkname}
                elif m.islnk():  # a hard link: the same content as its target
                    e = {"type": "file", "data": fs.get(norm(m.linkname), {}).get("data")}
                else:
                    e = {"type": "other", "data": None}
                e.update(mode="%04o" % (m.mode & 0o7777), uid=m.uid, gid=m.gid)
                # as containerd and Docker apply a layer: a missing parent folder is made 0755 root
                d = os.path.dirname(name)
                while d and d not in fs:
                    fs[d] = {"type": "dir", "data": None, "mode": "0755", "uid": 0, "gid": 0, "implied": True}
                    d = os.path.dirname(d)
                fs[name] = e
    return fs


def glob_re(p):
    """An exclude pattern of extension.lua: '*' '?' '[..]' in a name, '**' any number of folders."""
    out, i = "^", 0
    while i < len(p):
        c = p[i]
        if c == "*" and p[i + 1:i + 2] == "*":
            i += 2
            if p[i:i + 1] == "/":
                i += 1
            out += ".*" if i >= len(p) else "(.*/)?"
            continue
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[" and "]" in p[i + 2:]:
            j = p.index("]", i + 2)
            body = p[i + 1:j]
            out += "[" + ("^" + body[1:] if body.startswith("^") else body) + "]"
            i = j
        else:
            out += re.escape(c)
        i += 1
    return re.compile(out + "$")


def entries(desc, platform):
    """Each layer entry with its root in the image (the path it puts there) for PLATFORM."""
    os_, arch = platform.split("/")[:2]
    variant = platform.split("/")[2] if platform.count("/") == 2 else ""
    def expand(s):
        return s.replace("${os}", os_).replace("${arch}", arch).replace("${variant}", variant)
    out = []
    for layer in desc.get("layers") or []:
        for e in ([layer] if isinstance(layer, dict) else layer):
            frm, to = expand(e["from"]), expand(e["to"])
            root = norm(to + "/" + os.path.basename(frm.rstrip("/"))) if to.endswith("/") and not e.get("is_dir") else norm(to)
            out.append({"root": root, "owner": e.get("owner"), "exclude": [glob_re(p) for p in e.get("exclude") or []]})
    return out


def under(path, root):
    return root == "" or path == root or path.startswith(root + "/")


def main(argv):
    if len(argv) < 6:
        sys.exit(2)
    hoist_lay, tag, bah_lay, inspect_path, desc_path, platform = argv[:6]
    skip_env = set()
    rest = argv[6:]
    while rest:
        if rest[0] == "--skip-env" and len(rest) > 1:
            skip_env.add(rest[1])
            rest = rest[2:]
        else:
            sys.exit("image_diff: unknown argument %r" % rest[0])
    with open(desc_path) as f:
        desc = json.load(f)
    with open(inspect_path) as f:
        bcfg = json.load(f)["Docker"]["config"]
    hman = manifest(hoist_lay, tag, platform)
    hcfg = load(hoist_lay, hman["config"]["digest"]).get("config", {})
    bman = manifest(bah_lay, None, platform)
    ours, theirs = filesystem(hoist_lay, hman), filesystem(bah_lay, bman)

    diffs, checks = [], 0

    def diff(kind, what):
        diffs.append({"kind": kind, "what": what})

    # ---- the file systems
    ents = entries(desc, platform)
    workdir = norm((desc.get("config") or {}).get("workdir") or "")
    wd_parts = workdir.split("/") if workdir else []
    made_by_workdir = {"/".join(wd_parts[:k]) for k in range(1, len(wd_parts) + 1)}
    for name in sorted(set(ours) | set(theirs)):
        checks += 1
        a, b = theirs.get(name), ours.get(name)
        if a == b:
            continue
        if b is None:
            if a["type"] == "dir" and name in made_by_workdir:
                diff("accepted", "/%s only in buildah's image: WORKDIR makes it, hoist's image has it only "
                     "when a layer puts something there (a note of init; runtimes make it)" % name)
            else:
                diff("file", "/%s only in buildah's image: %s" % (name, a))
            continue
        if a is None:
            excl = [e for e in ents if e["exclude"] and under(name, e["root"]) and name != e["root"] and any(
                r.match("/".join(name[len(e["root"]) + 1 if e["root"] else 0:].split("/")[:k]))
                for r in e["exclude"] for k in range(1, name.count("/") + 2))]
            if excl:
                diff("pending-exclude", "/%s is in hoist's image, buildah's leaves it out (.dockerignore -> "
                     "exclude of the entry for /%s)" % (name, excl[-1]["root"]))
            else:
                diff("file", "/%s only in hoist's image: %s" % (name, b))
            continue
        if b.get("implied") and a["type"] == "dir":
            # over a base hoist leaves folders its entries only imply to the runtime (never
            # rewriting a base's folder: /root 0700, /tmp 1777); buildah's --chown owns the ones
            # COPY creates (docs/dockerfile-import.md)
            b = {k: v for k, v in b.items() if k != "implied"}
            if a == b:
                continue
            if {k: v for k, v in a.items() if k not in ("uid", "gid")} == {k: v for k, v in b.items() if k not in ("uid", "gid")}:
                diff("accepted", "/%s: buildah %d:%d (--chown on a folder COPY creates over a base), hoist leaves "
                     "it to the runtime (0:0)" % (name, a["uid"], a["gid"]))
                continue
        same_but_owner = {k: v for k, v in a.items() if k not in ("uid", "gid")} == \
            {k: v for k, v in b.items() if k not in ("uid", "gid")}
        owned = [e for e in ents if e["owner"] and (under(name, e["root"]) or under(e["root"], name))]
        if same_but_owner and owned and "%d:%d" % (a["uid"], a["gid"]) == owned[-1]["owner"]:
            diff("pending-owner", "/%s: buildah %d:%d (--chown, owner = \"%s\" of the entry for /%s), hoist %d:%d"
                 % (name, a["uid"], a["gid"], owned[-1]["owner"], owned[-1]["root"], b["uid"], b["gid"]))
        else:
            fields = ", ".join("%s buildah %s hoist %s" % (k, a.get(k), b.get(k)) for k in
                               ("type", "mode", "uid", "gid", "data") if a.get(k) != b.get(k))
            diff("file", "/%s differs: %s" % (name, fields))

    # ---- the config
    def cmd(v):
        return v or None
    env_h = dict(x.split("=", 1) for x in hcfg.get("Env") or [])
    env_b = dict(x.split("=", 1) for x in bcfg.get("Env") or [])
    for k in skip_env:
        if env_h.get(k) != env_b.get(k):
            diff("accepted", "Env %s: buildah %r, hoist %r (--skip-env: a documented difference of buildah's)"
                 % (k, env_b.get(k), env_h.get(k)))
        env_h.pop(k, None)
        env_b.pop(k, None)
    if not desc.get("base") and "PATH" in env_b and "PATH" not in env_h:
        diff("accepted", "Env PATH=%s only in buildah's image: buildah and BuildKit add a default PATH to an "
             "image FROM scratch; hoist writes what extension.lua says" % env_b.pop("PATH"))
    checks += 1
    if env_h != env_b:
        diff("config", "Env: buildah %s, hoist %s" % (sorted(env_b.items()), sorted(env_h.items())))
    for k in ("Cmd", "Entrypoint", "WorkingDir", "User", "StopSignal"):
        checks += 1
        if cmd(hcfg.get(k)) != cmd(bcfg.get(k)):
            diff("config", "%s: buildah %r, hoist %r" % (k, bcfg.get(k), hcfg.get(k)))
    checks += 1
    hp, bp = sorted(hcfg.get("ExposedPorts") or {}), sorted(bcfg.get("ExposedPorts") or {})
    if hp != bp:
        if sorted(p.lower() for p in bp) == hp:
            diff("accepted", "ExposedPorts: buildah keeps %s as written, hoist (like BuildKit) lowercases the "
                 "protocol: %s" % (bp, hp))
        else:
            diff("config", "ExposedPorts: buildah %s, hoist %s" % (bp, hp))
    checks += 1
    if sorted(hcfg.get("Volumes") or {}) != sorted(bcfg.get("Volumes") or {}):
        diff("config", "Volumes: buildah %s, hoist %s" % (sorted(bcfg.get("Volumes") or {}), sorted(hcfg.get("Volumes") or {})))
    checks += 1
    if (hcfg.get("Healthcheck") or None) != (bcfg.get("Healthcheck") or None):
        diff("config", "Healthcheck: buildah %s, hoist %s" % (bcfg.get("Healthcheck"), hcfg.get("Healthcheck")))

    # ---- the labels
    lh, lb = dict(hcfg.get("Labels") or {}), dict(bcfg.get("Labels") or {})
    added = set(desc.get("added_labels") or [])
    for k in sorted(set(lh) | set(lb)):
        checks += 1
        a, b = lb.get(k), lh.get(k)
        if k in JSON_LABELS and a is not None and b is not None:
            try:
                a, b = json.loads(a), json.loads(b)
            except ValueError:
                pass
        if a == b:
            continue
        if a is None and k in HOIST_ADDS:
            diff("accepted", "label %s=%r only in hoist's image: hoist release adds it" % (k, b))
        elif a is None and k in added:
            diff("accepted", "label %s only in hoist's image: init wrote it (not in the Dockerfile) and the "
                 "author filled it in" % k)
        elif b is None and k == "io.buildah.version":
            diff("accepted", "label io.buildah.version only in buildah's image")
        else:
            diff("label", "label %s: buildah %r, hoist %r" % (k, a, b))

    for d in diffs:
        print("%s: %s" % (d["kind"], d["what"]))
    print("RESULT " + json.dumps({"checks": checks, "files": len(ours), "diffs": diffs}))


if __name__ == "__main__":
    main(sys.argv[1:])
