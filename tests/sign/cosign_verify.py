#!/usr/bin/env python3
"""An independent check of cosign "simple signing" signatures, written from containers/image's
rules (docker/docker_image_src.go reading sigstore attachments, signature/internal/sigstore_payload.go
and signature/policy_eval_sigstore.go), with no hoist code: the registry (or OCI layout) is read
with urllib or plain file reads, the signature is checked by the `openssl` command.

usage: cosign_verify.py (--registry URL --repo NAME | --layout DIR) --ref TAG_OR_DIGEST --key PUB.pem
                        --identity HOST/REPO [--user U --password-env VAR] [--no-recursive]
Exit 0: the image (and, for an index, every platform manifest, as containers/image checks the
instance it copies) carries a valid signature; 1 otherwise, with the reason on stderr.
"""
import argparse, base64, hashlib, json, os, subprocess, sys, tempfile, urllib.error, urllib.request

SIG_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
ANNOTATION = "dev.cosignproject.cosign/signature"
ACCEPT = ", ".join([
    "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json"])


class Reject(Exception):
    pass


class Registry:
    def __init__(self, url, repo, user=None, password=None):
        self.url, self.repo = url.rstrip("/"), repo
        self.auth = None
        if user:
            self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def get(self, path, accept=None):
        req = urllib.request.Request(f"{self.url}/v2/{self.repo}/{path}")
        if accept:
            req.add_header("Accept", accept)
        if self.auth:
            req.add_header("Authorization", self.auth)
        try:
            with urllib.request.urlopen(req) as r:
                return r.read()
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise

    def manifest(self, ref):
        return self.get(f"manifests/{ref}", ACCEPT)

    def blob(self, digest):
        return self.get(f"blobs/{digest}")


class Layout:
    def __init__(self, root):
        self.root = root

    def blob(self, digest):
        p = os.path.join(self.root, "blobs", *digest.split(":", 1))
        return open(p, "rb").read() if os.path.exists(p) else None

    def manifest(self, ref):
        if ref.startswith("sha256:"):
            return self.blob(ref)
        index = json.load(open(os.path.join(self.root, "index.json")))
        for m in index.get("manifests", []):
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref:
                return self.blob(m["digest"])
        return None


def digest_of(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def exact_fields(obj, fields, where):
    """containers/image's ParanoidUnmarshalJSONObjectExactFields: exactly these keys."""
    if not isinstance(obj, dict) or set(obj) != set(fields):
        raise Reject(f"{where}: fields {sorted(obj) if isinstance(obj, dict) else obj!r}, want {sorted(fields)}")


def check_payload(payload, want_digest, identity):
    p = json.loads(payload)
    exact_fields(p, ["critical", "optional"], "payload")
    c = p["critical"]
    exact_fields(c, ["type", "image", "identity"], "critical")
    if c["type"] != "cosign container image signature":
        raise Reject(f"critical.type is {c['type']!r}")
    exact_fields(c["image"], ["docker-manifest-digest"], "critical.image")
    exact_fields(c["identity"], ["docker-reference"], "critical.identity")
    if p["optional"] is not None and not isinstance(p["optional"], dict):
        raise Reject("optional is neither null nor an object")
    if c["image"]["docker-manifest-digest"] != want_digest:
        raise Reject(f"the signature is for {c['image']['docker-manifest-digest']}, not {want_digest}")
    # matchRepository: the signed reference names the same repository (a tag or digest on it is
    # not part of the comparison)
    ref = c["identity"]["docker-reference"]
    repo = ref.split("@", 1)[0]
    last = repo.rsplit("/", 1)
    if ":" in last[-1]:
        repo = repo[: repo.rfind(":")]
    if repo != identity:
        raise Reject(f"the signature is for {ref!r}, not {identity!r}")


def openssl_verify(key, payload, sig):
    with tempfile.TemporaryDirectory() as d:
        pf, sf = os.path.join(d, "payload"), os.path.join(d, "sig")
        open(pf, "wb").write(payload)
        open(sf, "wb").write(sig)
        r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", key, "-signature", sf, pf],
                           capture_output=True)
        return r.returncode == 0


def verify_digest(src, digest, key, identity):
    tag = digest.replace(":", "-", 1) + ".sig"
    body = src.manifest(tag)
    if body is None:
        raise Reject(f"no signature manifest {tag}")
    m = json.loads(body)
    if m.get("mediaType", "application/vnd.oci.image.manifest.v1+json") != "application/vnd.oci.image.manifest.v1+json":
        raise Reject(f"{tag} is a {m.get('mediaType')}")
    reasons = []
    for i, layer in enumerate(m.get("layers", [])):
        if layer.get("mediaType") != SIG_TYPE:
            reasons.append(f"layer {i}: media type {layer.get('mediaType')}")
            continue
        b64 = (layer.get("annotations") or {}).get(ANNOTATION)
        if b64 is None:
            reasons.append(f"layer {i}: no {ANNOTATION}")
            continue
        payload = src.blob(layer["digest"])
        if payload is None or digest_of(payload) != layer["digest"]:
            reasons.append(f"layer {i}: payload blob missing or not matching its digest")
            continue
        try:
            sig = base64.b64decode(b64, validate=True)
        except Exception as e:  # noqa: BLE001 - any decoding failure rejects this signature
            reasons.append(f"layer {i}: signature is not base64 ({e})")
            continue
        if not openssl_verify(key, payload, sig):
            reasons.append(f"layer {i}: cryptographic signature verification failed")
            continue
        try:
            check_payload(payload, digest, identity)
        except (Reject, ValueError, KeyError, TypeError) as e:
            reasons.append(f"layer {i}: {e}")
            continue
        return
    raise Reject(f"{digest}: no valid signature ({'; '.join(reasons) or 'no layers'})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--registry")
    ap.add_argument("--repo")
    ap.add_argument("--layout")
    ap.add_argument("--ref", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--identity", required=True)
    ap.add_argument("--user")
    ap.add_argument("--password-env")
    ap.add_argument("--no-recursive", action="store_true")
    a = ap.parse_args()
    if a.layout:
        src = Layout(a.layout)
    else:
        src = Registry(a.registry, a.repo, a.user, os.environ.get(a.password_env or "", ""))
    body = src.manifest(a.ref)
    if body is None:
        print(f"REJECT: {a.ref} not found", file=sys.stderr)
        return 1
    top = digest_of(body)
    try:
        verify_digest(src, top, a.key, a.identity)
        doc = json.loads(body)
        n = 0
        if not a.no_recursive and "manifests" in doc:
            for m in doc["manifests"]:
                verify_digest(src, m["digest"], a.key, a.identity)
                n += 1
    except Reject as e:
        print(f"REJECT: {e}", file=sys.stderr)
        return 1
    print(f"ACCEPT {top} (+{n} platform manifests) for {a.identity}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
