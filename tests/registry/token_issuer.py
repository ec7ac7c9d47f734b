#!/usr/bin/env python3
"""A small Docker token issuer for the registry tests (python3 stdlib + the openssl command).

Implements the token flow the CNCF distribution registry's `auth: token:` configuration expects:

  GET  /token?service=S&scope=repository:NAME:pull,push[&scope=...]   (Basic auth, or anonymous)
       -> 200 {"token": JWT, "access_token": JWT, "expires_in": N, "issued_at": RFC3339}
  POST /token   (OAuth2, application/x-www-form-urlencoded)
       grant_type=password&username=U&password=P&service=S&client_id=C[&scope=S1 S2][&access_type=offline]
       grant_type=refresh_token&refresh_token=R&service=S&client_id=C[&scope=...]
       -> 200 {"access_token": JWT, "scope": "...", "expires_in": N, "issued_at": ...
               [, "refresh_token": R]}   (refresh_token when access_type=offline, or on a refresh grant)

Bad credentials answer 401 with {"errors":[{"code":"UNAUTHORIZED","message":...}]} (GET) or
{"error":"invalid_grant","error_description":...} (POST). No credentials on GET give an anonymous
token granting nothing (or only pull with --anonymous-pull), as public token servers do.

The JWT is RS256, signed by `openssl dgst -sha256 -sign KEY` over "header.payload". Its header
names the key with "kid" (the libtrust key ID of the certificate's public key, which the registry
looks up among the keys of its rootcertbundle) or, with --x5c, carries the certificate itself in
"x5c" (the registry then verifies the chain against rootcertbundle).

Each request is logged as one JSON line to --log (no password, token or refresh token in it):
{"time","method","path","grant_type","service","client_id","user","scopes":[...],
 "granted":[...],"offline","status"}.

usage: token_issuer.py --key KEY.pem --cert CERT.pem --issuer ISS --user U --password-file F
                       [--listen 127.0.0.1:0] [--port-file F] [--log F] [--expires-in 300]
                       [--x5c] [--anonymous-pull] [--grant ACTIONS]
"""

import argparse
import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def run_openssl(args, data=None):
    r = subprocess.run(["openssl"] + args, input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, check=False)
    if r.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (" ".join(args), r.stderr.decode(errors="replace")))
    return r.stdout


def libtrust_key_id(spki_der):
    """The key ID docker/libtrust gives a public key: SHA-256 of the DER SubjectPublicKeyInfo,
    first 240 bits (30 bytes), base32 (no padding needed: 240 = 48 x 5), groups of 4 joined by ':'."""
    b32 = base64.b32encode(hashlib.sha256(spki_der).digest()[:30]).decode("ascii")
    return ":".join(b32[i:i + 4] for i in range(0, len(b32), 4))


def parse_scope(s):
    """'repository:host:5000/ns/app:pull,push' -> ('repository', 'host:5000/ns/app', ['pull','push']).
    Type is before the first ':', actions after the last ':' (a name may hold a host:port)."""
    first = s.find(":")
    last = s.rfind(":")
    if first < 0 or last == first:
        return None
    typ, name, actions = s[:first], s[first + 1:last], s[last + 1:]
    if not typ or not name:
        return None
    return typ, name, [a for a in actions.split(",") if a]


class Issuer:
    def __init__(self, opts):
        self.opts = opts
        self.lock = threading.Lock()
        self.refresh_tokens = {}  # refresh token -> user
        with open(opts.password_file, encoding="utf-8") as f:
            self.password = f.read().rstrip("\r\n")
        spki = run_openssl(["pkey", "-in", opts.key, "-pubout", "-outform", "DER"])
        cert_spki = run_openssl(["x509", "-in", opts.cert, "-noout", "-pubkey"])
        cert_spki = run_openssl(["pkey", "-pubin", "-outform", "DER"], cert_spki)
        if spki != cert_spki:
            raise RuntimeError("the key does not match the certificate's public key")
        self.kid = libtrust_key_id(spki)
        self.cert_der_b64 = base64.b64encode(
            run_openssl(["x509", "-in", opts.cert, "-outform", "DER"])).decode("ascii")
        self.grant_limit = None
        if opts.grant is not None:
            self.grant_limit = set(a for a in opts.grant.split(",") if a)
        self.log_file = open(opts.log, "a", encoding="utf-8") if opts.log else None

    def log(self, entry):
        if not self.log_file:
            return
        with self.lock:
            self.log_file.write(json.dumps(entry, sort_keys=True) + "\n")
            self.log_file.flush()

    def check_password(self, user, password):
        return (user is not None and password is not None
                and secrets.compare_digest(user.encode(), self.opts.user.encode())
                and secrets.compare_digest(password.encode(), self.password.encode()))

    def grant(self, user, scopes):
        """The access claim: for the valid user every requested action (limited by --grant);
        for the anonymous user nothing, or pull only with --anonymous-pull."""
        access = []
        for s in scopes:
            p = parse_scope(s)
            if p is None:
                continue
            typ, name, actions = p
            if user is None:
                actions = [a for a in actions if a == "pull"] if self.opts.anonymous_pull else []
            elif self.grant_limit is not None:
                actions = [a for a in actions if a in self.grant_limit]
            # Merge repeated scopes for the same resource.
            for a in access:
                if a["type"] == typ and a["name"] == name:
                    a["actions"] += [x for x in actions if x not in a["actions"]]
                    break
            else:
                access.append({"type": typ, "name": name, "actions": actions})
        return access

    def make_jwt(self, user, service, access):
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256"}
        if self.opts.x5c:
            header["x5c"] = [self.cert_der_b64]
        else:
            header["kid"] = self.kid
        claims = {
            "iss": self.opts.issuer,
            "sub": user or "",
            "aud": service,  # a string: registry 2.8 unmarshals "aud" into a Go string
            "exp": now + self.opts.expires_in,
            "nbf": now - 1,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode()))
        sig = run_openssl(["dgst", "-sha256", "-sign", self.opts.key], signing_input.encode())
        return signing_input + "." + b64url(sig), now


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hoist-test-token-issuer/1"

    def log_message(self, fmt, *args):  # quiet: the JSON request log is the record
        pass

    def send_json(self, status, obj, extra_headers=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def basic_auth(self):
        h = self.headers.get("Authorization")
        if not h:
            return None, None, False
        parts = h.split(None, 1)
        if len(parts) != 2 or parts[0].lower() != "basic":
            return None, None, True
        try:
            raw = base64.b64decode(parts[1].strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None, None, True
        user, sep, password = raw.partition(":")
        if not sep:
            return None, None, True
        return user, password, True

    def do_GET(self):
        iss = self.server.issuer
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        service = (q.get("service") or [""])[0]
        scopes = q.get("scope", [])
        entry = {"time": rfc3339(time.time()), "method": "GET", "path": url.path,
                 "service": service, "client_id": (q.get("client_id") or [""])[0],
                 "scopes": scopes, "offline": (q.get("offline_token") or [""])[0] == "true"}
        if url.path != "/token":
            entry.update(status=404, user=None, granted=[])
            iss.log(entry)
            return self.send_json(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})
        user, password, sent = self.basic_auth()
        entry["user"] = user
        if sent and not iss.check_password(user, password):
            entry.update(status=401, granted=[])
            iss.log(entry)
            return self.send_json(
                401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication failed",
                                  "detail": None}]},
                [("WWW-Authenticate", 'Basic realm="hoist-test-token-issuer"')])
        if sent and service != self.server.opts.service:
            entry.update(status=400, granted=[])
            iss.log(entry)
            return self.send_json(400, {"errors": [{"code": "DENIED",
                                                    "message": "unknown service %r" % service}]})
        access = iss.grant(user if sent else None, scopes)
        token, now = iss.make_jwt(user if sent else None, service, access)
        resp = {"token": token, "access_token": token, "expires_in": self.server.opts.expires_in,
                "issued_at": rfc3339(now)}
        if sent and entry["offline"]:
            resp["refresh_token"] = self.new_refresh_token(user)
        entry.update(status=200, granted=access)
        iss.log(entry)
        self.send_json(200, resp)

    def new_refresh_token(self, user):
        rt = secrets.token_urlsafe(32)
        with self.server.issuer.lock:
            self.server.issuer.refresh_tokens[rt] = user
        return rt

    def do_POST(self):
        iss = self.server.issuer
        url = urllib.parse.urlsplit(self.path)
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked" or length is None:
            # Not used by any registry client for a token request; refuse rather than guess.
            self.close_connection = True
            return self.send_json(411, {"error": "invalid_request",
                                        "error_description": "Content-Length required"})
        body = self.rfile.read(int(length)).decode("utf-8", errors="replace")
        form = urllib.parse.parse_qs(body, keep_blank_values=True)
        get = lambda k: (form.get(k) or [""])[0]  # noqa: E731
        grant_type = get("grant_type")
        service = get("service")
        scopes = [s for v in form.get("scope", []) for s in v.split(" ") if s]
        entry = {"time": rfc3339(time.time()), "method": "POST", "path": url.path,
                 "grant_type": grant_type, "service": service, "client_id": get("client_id"),
                 "scopes": scopes, "offline": get("access_type") == "offline"}
        if url.path != "/token":
            entry.update(status=404, user=None, granted=[])
            iss.log(entry)
            return self.send_json(404, {"error": "not_found"})
        user = None
        if grant_type == "password":
            user = get("username")
            ok = iss.check_password(user, get("password"))
        elif grant_type == "refresh_token":
            with iss.lock:
                user = iss.refresh_tokens.get(get("refresh_token"))
            ok = user is not None
        else:
            entry.update(status=400, user=None, granted=[])
            iss.log(entry)
            return self.send_json(400, {"error": "unsupported_grant_type",
                                        "error_description": "grant_type %r" % grant_type})
        entry["user"] = user
        if not ok:
            entry.update(status=401, granted=[])
            iss.log(entry)
            return self.send_json(401, {"error": "invalid_grant",
                                        "error_description": "authentication failed"})
        if service != self.server.opts.service:
            entry.update(status=400, granted=[])
            iss.log(entry)
            return self.send_json(400, {"error": "invalid_request",
                                        "error_description": "unknown service %r" % service})
        access = iss.grant(user, scopes)
        token, now = iss.make_jwt(user, service, access)
        resp = {"access_token": token, "scope": " ".join(scopes),
                "expires_in": self.server.opts.expires_in, "issued_at": rfc3339(now)}
        if grant_type == "refresh_token":
            resp["refresh_token"] = get("refresh_token")
        elif entry["offline"]:
            resp["refresh_token"] = self.new_refresh_token(user)
        entry.update(status=200, granted=access)
        iss.log(entry)
        self.send_json(200, resp)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--port-file")
    ap.add_argument("--key", required=True, help="RSA private key (PEM)")
    ap.add_argument("--cert", required=True, help="self-signed certificate of that key (PEM)")
    ap.add_argument("--issuer", required=True, help="the iss claim (registry: auth.token.issuer)")
    ap.add_argument("--service", required=True, help="the service (registry: auth.token.service)")
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-file", required=True, help="file holding the password (one line)")
    ap.add_argument("--log", help="append one JSON line per request here")
    ap.add_argument("--expires-in", type=int, default=300)
    ap.add_argument("--x5c", action="store_true", help="put the certificate in the JWT header "
                    "(x5c) instead of the libtrust key ID (kid)")
    ap.add_argument("--anonymous-pull", action="store_true",
                    help="grant pull to requests without credentials (default: nothing)")
    ap.add_argument("--grant", help="comma-separated actions the valid user may get "
                    "(default: whatever is asked)")
    opts = ap.parse_args()

    host, _, port = opts.listen.rpartition(":")
    srv = ThreadingHTTPServer((host, int(port)), Handler)
    srv.daemon_threads = True
    srv.opts = opts
    srv.issuer = Issuer(opts)
    if opts.port_file:
        tmp = opts.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.replace(tmp, opts.port_file)
    print("token issuer listening on %s:%d kid=%s" % (srv.server_address[0], srv.server_address[1],
                                                     srv.issuer.kid), file=sys.stderr, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
