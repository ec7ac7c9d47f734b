# Adds an entry to the index an OCI layout's tag names, as other tools write them (for the tests
# of Docker's rules on built images: tests/integration/test_docker_rules.sh and
# tests/registry/test_rules_registry.sh).
#   python3 index_entry.py LAYOUT TAG attestation-amd64|attestation-arm64|armv7
# attestation-ARCH: an attestation manifest as buildx writes one (platform unknown/unknown,
# annotation vnd.docker.reference.type = attestation-manifest, an in-toto layer naming ARCH's
# image); armv7: a linux/arm/v7 entry (pointing at the amd64 image). The index blob is rewritten
# and the tag moved to it.
import hashlib, json, sys
lay, tag, kind = sys.argv[1:4]
def path(d): return lay + "/blobs/sha256/" + d.split(":")[1]
def put(b):
    d = "sha256:" + hashlib.sha256(b).hexdigest()
    open(path(d), "wb").write(b)
    return d
idx = json.load(open(lay + "/index.json"))
ent = [m for m in idx["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag][0]
top = json.loads(open(path(ent["digest"]), "rb").read())
amd = [m for m in top["manifests"] if m["platform"]["architecture"] == "amd64"][0]
if kind.startswith("attestation-"):
    of = [m for m in top["manifests"] if m["platform"]["architecture"] == kind[12:]][0]
    cfg = b"{}"
    stmt = json.dumps({"_type": "https://in-toto.io/Statement/v0.1", "predicateType": "https://spdx.dev/Document",
                       "subject": [{"digest": {"sha256": of["digest"][7:]}}]}).encode()
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(cfg), "size": len(cfg)},
        "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": put(stmt), "size": len(stmt),
                    "annotations": {"in-toto.io/predicate-type": "https://spdx.dev/Document"}}]}).encode()
    top["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put(man),
        "size": len(man), "platform": {"os": "unknown", "architecture": "unknown"},
        "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                        "vnd.docker.reference.digest": of["digest"]}})
else:
    top["manifests"].append({"mediaType": amd["mediaType"], "digest": amd["digest"], "size": amd["size"],
                             "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}})
b = json.dumps(top).encode()
ent["digest"], ent["size"] = put(b), len(b)
json.dump(idx, open(lay + "/index.json", "w"))
