#!/usr/bin/env python3
"""Signs an image in a registry the way cosign lays signatures out, with no hoist code: the payload
with an "optional" object, the ECDSA signature made by the `openssl dgst -sign` command, a config
shaped like go-containerregistry's empty image config (what cosign writes), and an extra
`dev.sigstore.cosign/bundle`-style annotation that verifiers must ignore. Used to show that
`hoist verify` accepts signatures other tools make, not only its own.

usage: cosign_sign.py --registry URL --repo NAME --ref TAG --key PRIVATE.pem --identity HOST/REPO
                      [--user U --password-env VAR]
Signs the manifest REF names and, for an index, each platform manifest.
"""
import argparse, base64, hashlib, json, os, subprocess, sys, tempfile, urllib.request

ACCEPT = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def main():
    ap = argparse.ArgumentParser()
    for a in ("--registry", "--repo", "--ref", "--key", "--identity"):
        ap.add_argument(a, required=True)
    ap.add_argument("--user")
    ap.add_argument("--password-env")
    a = ap.parse_args()
    auth = None
    if a.user:
        auth = "Basic " + base64.b64encode(f"{a.user}:{os.environ.get(a.password_env or '', '')}".encode()).decode()
    base = f"{a.registry.rstrip('/')}/v2/{a.repo}"

    def req(method, path, data=None, headers=None, full=False):
        r = urllib.request.Request(path if full else base + path, data=data, method=method, headers=headers or {})
        if auth:
            r.add_header("Authorization", auth)
        with urllib.request.urlopen(r) as resp:
            return resp.read(), resp.headers

    def put_blob(data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        _, h = req("POST", "/blobs/uploads/")
        loc = h["Location"]
        if loc.startswith("/"):
            loc = a.registry.rstrip("/") + loc
        loc += ("&" if "?" in loc else "?") + "digest=" + digest
        req("PUT", loc, data, {"Content-Type": "application/octet-stream"}, full=True)
        return digest

    top, _ = req("GET", f"/manifests/{a.ref}", headers={"Accept": ACCEPT})
    targets = ["sha256:" + hashlib.sha256(top).hexdigest()]
    doc = json.loads(top)
    targets += [m["digest"] for m in doc.get("manifests", [])]
    for digest in targets:
        payload = json.dumps({"critical": {"identity": {"docker-reference": a.identity},
                                           "image": {"docker-manifest-digest": digest},
                                           "type": "cosign container image signature"},
                              "optional": {"creator": "cosign_sign.py"}}, separators=(",", ":")).encode()
        with tempfile.TemporaryDirectory() as d:
            open(f"{d}/p", "wb").write(payload)
            subprocess.run(["openssl", "dgst", "-sha256", "-sign", a.key, "-out", f"{d}/s", f"{d}/p"], check=True)
            sig = base64.b64encode(open(f"{d}/s", "rb").read()).decode()
        pd = put_blob(payload)
        config = json.dumps({"architecture": "", "created": "0001-01-01T00:00:00Z",
                             "history": [{"created": "0001-01-01T00:00:00Z"}], "os": "",
                             "rootfs": {"type": "layers", "diff_ids": [pd]}, "config": {}}).encode()
        cd = put_blob(config)
        manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                               "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": len(config), "digest": cd},
                               "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                                           "size": len(payload), "digest": pd,
                                           "annotations": {"dev.cosignproject.cosign/signature": sig,
                                                           "dev.sigstore.cosign/bundle": "{\"not\":\"checked\"}"}}]}).encode()
        req("PUT", f"/manifests/{digest.replace(':', '-')}.sig", manifest, {"Content-Type": OCI_MANIFEST})
    print(f"signed {len(targets)} manifests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
