#!/usr/bin/env python3
"""Checks an SPDX 2.3 JSON document: the fields SPDX 2.3 requires (document, creation info,
packages, files, relationships), that its checksums are well-formed, that the package
verification code is what SPDX 2.3 section 7.9 defines, and that it lists exactly the regular
files of ROOTFS (a folder `umoci unpack` wrote) with their SHA-1 and SHA-256.
usage: check_sbom.py SBOM.json ROOTFS [--base NAME@DIGEST] [--image-digest sha256:...]
"""
import hashlib, json, os, re, sys

doc = json.load(open(sys.argv[1]))
rootfs = sys.argv[2]
args = sys.argv[3:]
opt = dict(zip(args[::2], args[1::2]))
problems = []


def need(cond, msg):
    if not cond:
        problems.append(msg)


for k in ("spdxVersion", "dataLicense", "SPDXID", "name", "documentNamespace", "creationInfo"):
    need(k in doc, f"document: {k} missing")
need(doc.get("spdxVersion") == "SPDX-2.3", "spdxVersion is not SPDX-2.3")
need(doc.get("dataLicense") == "CC0-1.0", "dataLicense is not CC0-1.0")
need(doc.get("SPDXID") == "SPDXRef-DOCUMENT", "SPDXID is not SPDXRef-DOCUMENT")
need(re.match(r"^[a-z][a-z0-9+.-]*://[^#\s]+$", doc.get("documentNamespace", "")), "documentNamespace is not an absolute URI without #")
ci = doc.get("creationInfo", {})
need(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", ci.get("created", "")), "creationInfo.created is not YYYY-MM-DDThh:mm:ssZ")
need(ci.get("creators") and all(re.match(r"^(Tool|Person|Organization): .+", c) for c in ci["creators"]), "creators")
ids = {"SPDXRef-DOCUMENT"}
idre = re.compile(r"^SPDXRef-[A-Za-z0-9.-]+$")
for p in doc.get("packages", []):
    for k in ("name", "SPDXID", "downloadLocation"):
        need(k in p, f"package {p.get('SPDXID')}: {k} missing")
    need(idre.match(p.get("SPDXID", "")), f"bad SPDXID {p.get('SPDXID')}")
    ids.add(p.get("SPDXID"))
    for c in p.get("checksums", []):
        need(c["algorithm"] == "SHA256" and re.match(r"^[0-9a-f]{64}$", c["checksumValue"]), f"package checksum {c}")
files = {}
for f in doc.get("files", []):
    for k in ("fileName", "SPDXID", "checksums"):
        need(k in f, f"file {f.get('fileName')}: {k} missing")
    need(idre.match(f.get("SPDXID", "")), f"bad SPDXID {f.get('SPDXID')}")
    need(f["SPDXID"] not in ids, f"duplicate SPDXID {f['SPDXID']}")
    ids.add(f["SPDXID"])
    algs = {c["algorithm"]: c["checksumValue"] for c in f.get("checksums", [])}
    need(re.match(r"^[0-9a-f]{40}$", algs.get("SHA1", "")), f"{f['fileName']}: SHA1 missing (SPDX 2.3 requires it)")
    need(re.match(r"^[0-9a-f]{64}$", algs.get("SHA256", "")), f"{f['fileName']}: SHA256 missing")
    need(f["fileName"].startswith("./"), f"{f['fileName']}: not relative to the package root")
    files[f["fileName"][2:]] = algs
for r in doc.get("relationships", []):
    need(r.get("spdxElementId") in ids and r.get("relatedSpdxElement") in ids, f"relationship {r} names an unknown element")
image = [p for p in doc["packages"] if p["SPDXID"] in doc.get("documentDescribes", [])]
need(len(image) == 1, "documentDescribes does not name one package")
if image:
    img = image[0]
    need(set(img.get("hasFiles", [])) == {f["SPDXID"] for f in doc["files"]}, "hasFiles is not every file")
    sha1s = sorted(a["SHA1"] for a in files.values())
    code = hashlib.sha1("".join(sha1s).encode()).hexdigest()
    need(img.get("filesAnalyzed") is True and img.get("packageVerificationCode", {}).get("packageVerificationCodeValue") == code,
         "packageVerificationCode is not SPDX 2.3's")
    if "--image-digest" in opt:
        need({"algorithm": "SHA256", "checksumValue": opt["--image-digest"].split(":")[1]} in img.get("checksums", []),
             "the image package does not carry the image digest")
if "--base" in opt:
    name, digest = opt["--base"].rsplit("@", 1)
    base = [p for p in doc["packages"] if p.get("name") == name]
    need(len(base) == 1 and {"algorithm": "SHA256", "checksumValue": digest.split(":")[1]} in base[0].get("checksums", []),
         "the base image package with its digest is missing")
    need(any(r["relationshipType"] == "DESCENDANT_OF" and r["relatedSpdxElement"] == (base[0]["SPDXID"] if base else "") for r in doc["relationships"]),
         "no DESCENDANT_OF relationship to the base")

# the files of the unpacked root filesystem
real = {}
for dirpath, dirnames, filenames in os.walk(rootfs):
    for n in filenames:
        p = os.path.join(dirpath, n)
        if os.path.isfile(p) and not os.path.islink(p):
            data = open(p, "rb").read()
            real[os.path.relpath(p, rootfs)] = {"SHA1": hashlib.sha1(data).hexdigest(), "SHA256": hashlib.sha256(data).hexdigest()}
missing = sorted(set(real) - set(files))
extra = sorted(set(files) - set(real))
need(not missing, f"files of the image missing from the SBOM: {missing[:10]}")
need(not extra, f"files in the SBOM that the image does not have: {extra[:10]}")
for p in sorted(set(real) & set(files)):
    need(real[p] == {"SHA1": files[p]["SHA1"], "SHA256": files[p]["SHA256"]}, f"{p}: checksums differ")
if problems:
    print("\n".join(problems[:30]))
    sys.exit(1)
print(f"ok: {len(files)} files")
