#!/usr/bin/env python3
"""Fetches the SPDX SBOM attached to each platform image of an index, through the referrers tag
schema (`sha256-<hex>` index -> artifact manifest -> document blob), from an OCI layout or a
registry (plain HTTP, no auth). Writes OUT/sbom-OS-ARCH.spdx.json and prints "OS/ARCH DIGEST"
per platform; exits 1 when a platform has no SBOM.
usage: sboms_of.py (oci:DIR | http://HOST:PORT/REPO) TAG OUT
"""
import json, os, sys, urllib.request

src, tag, out = sys.argv[1:4]
A = "application/vnd.oci.image.index.v1+json,application/vnd.oci.image.manifest.v1+json"
SPDX = "application/spdx+json"

if src.startswith("oci:"):
    root = src[4:]
    tags = {m["annotations"]["org.opencontainers.image.ref.name"]: m["digest"]
            for m in json.load(open(root + "/index.json"))["manifests"]}

    def blob(d):
        return open(root + "/blobs/sha256/" + d.split(":")[1], "rb").read()

    def manifest(ref):
        return json.loads(blob(tags[ref] if ref in tags else ref))
else:
    host, repo = src.split("://", 1)[1].split("/", 1)

    def blob(d):
        return urllib.request.urlopen("http://%s/v2/%s/blobs/%s" % (host, repo, d)).read()

    def manifest(ref):
        req = urllib.request.Request("http://%s/v2/%s/manifests/%s" % (host, repo, ref), headers={"Accept": A})
        return json.loads(urllib.request.urlopen(req).read())

os.makedirs(out, exist_ok=True)
missing = 0
for m in manifest(tag)["manifests"]:
    p = m["platform"]["os"] + "-" + m["platform"]["architecture"]
    refs = manifest(m["digest"].replace(":", "-"))
    found = [e for e in refs["manifests"] if e.get("artifactType") == SPDX]
    if len(found) != 1:
        print("no SBOM for " + p, file=sys.stderr)
        missing += 1
        continue
    am = manifest(found[0]["digest"])
    assert am["subject"]["digest"] == m["digest"], am
    open(os.path.join(out, "sbom-%s.spdx.json" % p), "wb").write(blob(am["layers"][0]["digest"]))
    print(p.replace("-", "/"), m["digest"])
sys.exit(1 if missing else 0)
