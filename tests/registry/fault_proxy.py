#!/usr/bin/env python3
"""An HTTP/1.1 forwarding proxy that injects faults, for the registry client's tests (stdlib only).

It sits in front of a registry: clients talk to it as if it were the registry. Every request is
forwarded on a fresh upstream connection with its request line and headers byte for byte (Host
included) and its body streamed (Content-Length or chunked, passed through as received); the
response comes back the same way. Interim 1xx responses (100 Continue) are passed on. The only
rewrite: a Location header pointing at the upstream becomes one pointing at the proxy.

Patterns (deterministic: per-proxy counters, no randomness; requests are numbered from 1 in the
order their headers arrive):
  none          forward everything
  fail-every-3  requests 3, 6, 9... get 503 {"errors":[{"code":"UNAVAILABLE",...}]}, not forwarded
  429           requests 2, 4, 6... get 429 with Retry-After: 1 and a TOOMANYREQUESTS body
  drop-before   requests 3, 6, 9... are read (body included) and the connection closed, no answer,
                not forwarded
  drop-mid      responses with a body are numbered too; responses 3, 6, 9... are cut: the
                headers and the first half of the body are sent, then the connection is closed
                (the request itself did reach the registry)
  delay         every response is held 200 ms before its headers are sent
  writes-fail   every PUT, PATCH and POST gets 500 {"errors":[{"code":"UNKNOWN",...}]}, not
                forwarded; GET, HEAD and DELETE pass
  drop-patch    PATCH requests are numbered on their own; PATCHes 2, 5, 8... are read half-way
                (half their Content-Length) and the connection closed, no answer, not forwarded.
                Every other answer closes its connection (Connection: close), so each PATCH
                comes on a fresh one: libcurl silently replays a request whose reused
                connection died before any answer, which would hide the drop from the client
  patch-500     PATCHes 2, 5, 8... are read whole and get 500 code UNKNOWN, not forwarded
  patch-denied  every PATCH but the first is read whole and gets 403 code DENIED ("quota
                exceeded"), not forwarded: a registry that stops taking an upload half-way, for
                good (403 is not retried)
  chunk-min     forward everything; 202 answers to POST get OCI-Chunk-Min-Length: N
                (--chunk-min, default 2097152)
  head-405      HEAD of a manifest gets 405 (as registries without manifest HEAD), not forwarded
  delete-405    every DELETE gets 405 code UNSUPPORTED (a registry with deletes disabled),
                not forwarded
  corrupt-blobs a blob GET answered 200 has its first body byte inverted (Content-Length kept)
  redirect-blobs a blob GET the registry would answer 200 (probed with HEAD, same headers) gets
                307 to http://localhost:PORT/_storage/N/v2/... (another host name for the same
                proxy, as registries redirect to storage); that request is served with the
                Authorization of the original one (like a signed URL) and logged with "auth":
                whether the client sent an Authorization header to the other host (it must not)
  tags-500      every GET of a tag list gets 500 code UNKNOWN, not forwarded (a registry whose
                listing fails while writes work)
  steal-tag     a PUT of a manifest by tag is forwarded; once the registry answers 201, the proxy
                itself PUTs the same body plus a newline (another digest, still a valid manifest)
                under the same tag before it passes the answer on: another writer winning the
                race for that tag right after the client's write
  garbage-json  a manifest or tag-list GET answered 200 has its body replaced by bytes that are
                not JSON (same Content-Length): a registry that answers garbage
  blob-unknown  the first two PUTs of a manifest by digest get 400 with distribution's answer to
                a manifest whose blob it cannot see at that moment (DIGEST_INVALID, then
                MANIFEST_BLOB_UNKNOWN with the blob's digest), not forwarded: what a registry
                answers while another client commits the same blob (its storage rewrites the
                repository's link to it in place)
  scope-widen   forward everything, except that the 2nd request carrying a Bearer token gets
                401 with the registry's own challenge (realm and service, learnt from a 401 it
                passed on) widened: error="insufficient_scope",
                scope="repository:NAME:pull repository:hoist-test/extra:pull", not forwarded

Link emulation, with any pattern (for benchmarks: a registry across the internet):
  --rate BYTES_PER_S  every body byte, requests and responses, of every connection, goes through
                      one shared pacer at this rate (a virtual clock: a chunk waits until the
                      link would have carried the chunks before it), so parallel uploads share
                      the bandwidth as on one real link
  --latency-ms N      every response is held N ms before its headers are sent (one round trip
                      per request; "delay" does the same with --delay-ms)

A fault answer to a request with a body first reads (and discards) that body, so the client sees
a clean answer, except with "Expect: 100-continue" where it answers at once and closes.

--port-file gets the port it listens on (written once listening). --state-file is rewritten
(atomically) after every request with the counters as JSON:
  {"pattern", "upstream", "port", "requests", "bodied_responses", "forwarded", "faults": {...}}
--log appends one JSON line per request, written before the answer goes out (so a client that
reads it right after its request sees the line): {"n", "method", "path", "fault", "status", "ms",
"length", "range"} (ms: until the answer's head; length: the request's Content-Length or null;
range: its Content-Range, else its Range header, else null; redirect-blobs adds "auth" to storage
requests).

usage: fault_proxy.py --upstream http://127.0.0.1:PORT [--listen 127.0.0.1:0] [--pattern P]
                      [--port-file F] [--state-file F] [--log F] [--delay-ms 200]
                      [--chunk-min 2097152] [--rate BYTES_PER_S] [--latency-ms N]
"""

import argparse
import http.client
import json
import os
import re
import socket
import socketserver
import sys
import threading
import time
import urllib.parse

PATTERNS = ("none", "fail-every-3", "429", "drop-before", "drop-mid", "delay", "writes-fail",
            "drop-patch", "patch-500", "chunk-min", "head-405", "delete-405", "corrupt-blobs",
            "redirect-blobs", "scope-widen", "garbage-json", "tags-500", "steal-tag",
            "blob-unknown", "patch-denied")
BLOB_PATH = re.compile(r"^/v2/.+/blobs/sha256:[0-9a-f]{64}$")
STORAGE_PREFIX = "/_storage/"
MAX_HEAD = 256 * 1024
COPY = 64 * 1024


class Closed(Exception):
    pass


def read_head(f):
    """Read a message head (start line + header lines) as a list of raw lines (bytes, CRLF kept),
    without the blank line. None at a clean EOF before anything was read."""
    lines, total = [], 0
    while True:
        line = f.readline(MAX_HEAD + 1)
        if not line:
            if not lines:
                return None
            raise Closed("EOF inside a message head")
        total += len(line)
        if total > MAX_HEAD:
            raise Closed("message head too large")
        if line in (b"\r\n", b"\n"):
            if not lines:  # tolerate stray CRLF between messages (RFC 9112 2.2)
                continue
            return lines
        lines.append(line)


def header_list(lines):
    out = []
    for raw in lines[1:]:
        name, sep, value = raw.decode("latin-1").partition(":")
        if sep:
            out.append((name.strip().lower(), value.strip()))
    return out


def get_header(headers, name):
    for k, v in headers:
        if k == name:
            return v
    return None


def has_token(headers, name, token):
    for k, v in headers:
        if k == name and token in [t.strip().lower() for t in v.split(",")]:
            return True
    return False


def framing(headers):
    """('chunked', None) | ('length', N) | ('none', 0)  for a request."""
    if has_token(headers, "transfer-encoding", "chunked"):
        return "chunked", None
    cl = get_header(headers, "content-length")
    if cl is not None:
        try:
            n = int(cl)
        except ValueError:
            raise Closed("bad Content-Length")
        return "length", n
    return "none", 0


def copy_exact(src, n, write):
    while n > 0:
        chunk = src.read1(min(COPY, n))
        if not chunk:
            raise Closed("EOF inside a body")
        write(chunk)
        n -= len(chunk)


def copy_chunked(src, write):
    """Pass a chunked body through as received (size lines, data, trailers)."""
    while True:
        line = src.readline(1024)
        if not line:
            raise Closed("EOF inside a chunked body")
        write(line)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise Closed("bad chunk size")
        if size == 0:
            while True:  # trailers, then the blank line
                t = src.readline(MAX_HEAD)
                if not t:
                    raise Closed("EOF inside trailers")
                write(t)
                if t in (b"\r\n", b"\n"):
                    return
        copy_exact(src, size, write)
        crlf = src.readline(3)
        write(crlf)


def read_chunked(src):
    """Decode a chunked body fully; returns (data, ok)."""
    data = bytearray()
    out = data.extend
    try:
        copy_chunked_decoded(src, out)
        return bytes(data), True
    except Closed:
        return bytes(data), False


def copy_chunked_decoded(src, write):
    while True:
        line = src.readline(1024)
        if not line:
            raise Closed("EOF inside a chunked body")
        size = int(line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while True:
                t = src.readline(MAX_HEAD)
                if not t or t in (b"\r\n", b"\n"):
                    return
        copy_exact(src, size, write)
        src.readline(3)


def drain_body(f, headers):
    kind, n = framing(headers)
    sink = lambda b: None  # noqa: E731
    if kind == "length":
        copy_exact(f, n, sink)
    elif kind == "chunked":
        copy_chunked(f, sink)


class Pacer:
    """One link's bandwidth, shared by every connection: write(data) returns when a link of
    `rate` bytes/s would have carried data after everything paced before it."""

    def __init__(self, rate):
        self.rate = float(rate)
        self.lock = threading.Lock()
        self.free_at = 0.0  # monotonic time at which the link is idle again

    def wrap(self, write):
        if self.rate <= 0:
            return write

        def paced(data):
            n = len(data)
            with self.lock:
                now = time.monotonic()
                start = max(now, self.free_at)
                self.free_at = start + n / self.rate
                done = self.free_at
            wait = done - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            write(data)
        return paced


class State:
    def __init__(self, opts):
        self.opts = opts
        self.lock = threading.Lock()
        self.requests = 0
        self.bodied = 0
        self.forwarded = 0
        self.patches = 0
        self.faults = {}
        self.signed = {}  # redirect-blobs: nonce -> the Authorization of the redirected request
        self.bearers = 0  # scope-widen: requests seen with a Bearer token
        self.challenge = None  # scope-widen: (realm, service) of the registry's Bearer challenge
        self.port = None
        self.pacer = Pacer(opts.rate)
        self.log_file = open(opts.log, "a", encoding="utf-8") if opts.log else None

    def next_request(self, method, path=""):
        """Number this request and decide its fault (one taken before forwarding)."""
        p = self.opts.pattern
        with self.lock:
            self.requests += 1
            n = self.requests
        if p == "fail-every-3" and n % 3 == 0:
            return n, "503"
        if p == "429" and n % 2 == 0:
            return n, "429"
        if p == "drop-before" and n % 3 == 0:
            return n, "drop-before"
        if p == "writes-fail" and method in ("PUT", "PATCH", "POST"):
            return n, "500"
        if p in ("drop-patch", "patch-500") and method == "PATCH":
            with self.lock:
                self.patches += 1
                k = self.patches
            if k % 3 == 2:
                return n, "drop-patch" if p == "drop-patch" else "500"
        if p == "patch-denied" and method == "PATCH":
            with self.lock:
                self.patches += 1
                k = self.patches
            if k >= 2:
                return n, "403"
        if p == "head-405" and method == "HEAD" and "/manifests/" in path:
            return n, "405"
        if p == "delete-405" and method == "DELETE":
            return n, "405"
        if p == "tags-500" and method == "GET" and "/tags/list" in path:
            return n, "500"
        if p == "blob-unknown" and method == "PUT" and "/manifests/sha256:" in path:
            with self.lock:
                self.manifest_puts = getattr(self, "manifest_puts", 0) + 1
                k = self.manifest_puts
            if k <= 2:
                return n, "blob-unknown"
        return n, None

    def next_bodied_response(self):
        with self.lock:
            self.bodied += 1
            return self.opts.pattern == "drop-mid" and self.bodied % 3 == 0

    def record(self, n, method, target, fault, status, started, headers=(), extra=None):
        ms = int((time.monotonic() - started) * 1000)
        length = get_header(headers, "content-length")
        rng = get_header(headers, "content-range") or get_header(headers, "range")
        with self.lock:
            if fault:
                self.faults[fault] = self.faults.get(fault, 0) + 1
            else:
                self.forwarded += 1
            if self.log_file:
                path = urllib.parse.urlsplit(target).path
                entry = {"n": n, "method": method, "path": path, "fault": fault,
                         "status": status, "ms": ms,
                         "length": int(length) if length and length.isdigit() else None,
                         "range": rng}
                entry.update(extra or {})
                self.log_file.write(json.dumps(entry) + "\n")
                self.log_file.flush()
            self.write_state()

    def write_state(self):
        if not self.opts.state_file:
            return
        tmp = self.opts.state_file + ".tmp.%d" % threading.get_ident()
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"pattern": self.opts.pattern, "upstream": self.opts.upstream,
                       "port": self.port, "requests": self.requests,
                       "bodied_responses": self.bodied, "forwarded": self.forwarded,
                       "faults": self.faults}, f, sort_keys=True)
            f.write("\n")
        os.replace(tmp, self.opts.state_file)


ERRORS = {
    "503": (503, "Service Unavailable", "UNAVAILABLE", "fault proxy: service unavailable", []),
    "429": (429, "Too Many Requests", "TOOMANYREQUESTS", "fault proxy: too many requests",
            [("Retry-After", "1")]),
    "500": (500, "Internal Server Error", "UNKNOWN", "fault proxy: writes fail", []),
    "405": (405, "Method Not Allowed", "UNSUPPORTED", "fault proxy: the operation is unsupported",
            [("Allow", "GET, PUT")]),
    "blob-unknown": (400, "Bad Request", "DIGEST_INVALID", "provided digest did not match uploaded content",
                     []),
    "403": (403, "Forbidden", "DENIED", "fault proxy: quota exceeded", []),
}


class Handler(socketserver.BaseRequestHandler):
    def setup(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request.settimeout(self.server.opts.timeout)
        self.rfile = self.request.makefile("rb", buffering=COPY)

    def finish(self):
        try:
            self.rfile.close()
        except OSError:
            pass

    def handle(self):
        try:
            while self.one_exchange():
                pass
        except (Closed, OSError, ValueError):
            pass
        finally:
            try:
                self.request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def send(self, data):
        self.request.sendall(data)

    def error_answer(self, n, method, target, fault, close, headers=()):
        status, reason, code, message, extra = ERRORS[fault]
        errors = [{"code": code, "message": "%s (request %d, %s %s)" % (
            message, n, method, urllib.parse.urlsplit(target).path), "detail": None}]
        if fault == "blob-unknown":
            # distribution lists the reason second, with the digest of the blob it cannot see
            errors.append({"code": "MANIFEST_BLOB_UNKNOWN", "message": "blob unknown to registry",
                           "detail": "sha256:" + "0" * 64})
        body = json.dumps({"errors": errors}).encode()
        head = ["HTTP/1.1 %d %s" % (status, reason),
                "Content-Type: application/json; charset=utf-8",
                "Content-Length: %d" % len(body),
                "Docker-Distribution-Api-Version: registry/2.0"]
        head += ["%s: %s" % kv for kv in extra]
        if close:
            head.append("Connection: close")
        # logged before the answer goes out, so a client that reads the log next sees the line
        self.server.state.record(n, method, target, fault, status, self.started, headers)
        self.send(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if method != "HEAD":
            self.send(body)

    def one_exchange(self):
        """Serve one request; True when the client connection can carry another."""
        first = self.rfile.peek(1)[:1]
        if not first:
            return False
        if not (first.isalpha() or first in b"\r\n"):
            # Not HTTP (a TLS ClientHello from a client trying https first, as skopeo does):
            # answer like Go's net/http so the client falls back to http at once. Not counted.
            self.send(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
                      b"Connection: close\r\n\r\n400 Bad Request")
            return False
        lines = read_head(self.rfile)
        if lines is None:
            return False
        start = lines[0].decode("latin-1").split()
        if len(start) != 3:
            raise Closed("bad request line")
        method, target, version = start
        headers = header_list(lines)
        expect = has_token(headers, "expect", "100-continue")
        client_close = has_token(headers, "connection", "close") or (
            version == "HTTP/1.0" and not has_token(headers, "connection", "keep-alive"))
        path = urllib.parse.urlsplit(target).path
        n, fault = self.server.state.next_request(method, path)
        self.started = time.monotonic()

        if fault in ERRORS:
            if expect:  # the body may or may not come: answer now, then close
                self.error_answer(n, method, target, fault, close=True, headers=headers)
                return False
            drain_body(self.rfile, headers)
            self.error_answer(n, method, target, fault, close=client_close, headers=headers)
            return not client_close
        if fault == "drop-before":
            if not expect:
                drain_body(self.rfile, headers)
            self.server.state.record(n, method, target, fault, None, self.started, headers)
            return False
        if self.server.opts.pattern == "scope-widen" and self.widen(n, method, target, headers,
                                                                    path, expect, client_close):
            return False if expect else not client_close
        if fault == "drop-patch":
            # half of the body arrives, then the connection goes: the registry never sees it
            kind, length = framing(headers)
            if kind == "length" and not expect:
                copy_exact(self.rfile, length // 2, lambda b: None)
            self.server.state.record(n, method, target, fault, None, self.started, headers)
            return False
        if self.server.opts.pattern == "redirect-blobs":
            if path.startswith(STORAGE_PREFIX):
                return self.serve_storage(n, method, target, lines, headers, expect, client_close)
            if method == "GET" and BLOB_PATH.match(path) and self.probe_ok(target, headers):
                return self.redirect_to_storage(n, method, target, headers, client_close)
        return self.forward(n, method, target, lines, headers, expect, client_close)

    def widen(self, n, method, target, headers, path, expect, client_close):
        """scope-widen: answer the 2nd Bearer request 401 insufficient_scope; True if it did."""
        st = self.server.state
        if not (get_header(headers, "authorization") or "").lower().startswith("bearer "):
            return False
        with st.lock:
            st.bearers += 1
            k, ch = st.bearers, st.challenge
        m = re.match(r"^/v2/(.+?)/(blobs|manifests|tags)/", path)
        if k != 2 or ch is None or m is None:
            return False
        if not expect:
            drain_body(self.rfile, headers)
        scope = "repository:%s:pull repository:hoist-test/extra:pull" % m.group(1)
        www = 'Bearer realm="%s",service="%s",scope="%s",error="insufficient_scope"' % (
            ch[0], ch[1], scope)
        body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "fault proxy: "
                                       "insufficient scope", "detail": None}]}).encode()
        head = ["HTTP/1.1 401 Unauthorized", "Content-Type: application/json; charset=utf-8",
                "Content-Length: %d" % len(body), "WWW-Authenticate: " + www,
                "Docker-Distribution-Api-Version: registry/2.0"]
        if client_close or expect:
            head.append("Connection: close")
        st.record(n, method, target, "insufficient-scope", 401, self.started, headers)
        self.send(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if method != "HEAD":
            self.send(body)
        return True

    def probe_ok(self, target, headers):
        """Would the registry serve this blob to this client? (HEAD upstream, same auth)"""
        opts = self.server.opts
        conn = http.client.HTTPConnection(opts.up_host, opts.up_port, timeout=opts.timeout)
        try:
            h = {}
            auth = get_header(headers, "authorization")
            if auth:
                h["Authorization"] = auth
            conn.request("HEAD", target, headers=h)
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def redirect_to_storage(self, n, method, target, headers, client_close):
        st = self.server.state
        with st.lock:
            nonce = "%d" % n
            st.signed[nonce] = get_header(headers, "authorization")
        loc = "http://localhost:%d%s%s%s" % (st.port, STORAGE_PREFIX, nonce, target)
        head = ["HTTP/1.1 307 Temporary Redirect", "Location: " + loc, "Content-Length: 0",
                "Docker-Distribution-Api-Version: registry/2.0"]
        if client_close:
            head.append("Connection: close")
        st.record(n, method, target, "redirect", 307, self.started, headers)
        self.send(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        return not client_close

    def serve_storage(self, n, method, target, lines, headers, expect, client_close):
        """The storage side: the original request's auth stands in for a signed URL."""
        st = self.server.state
        rest = target[len(STORAGE_PREFIX):]
        nonce, _, up_target = rest.partition("/")
        up_target = "/" + up_target
        with st.lock:
            auth = st.signed.get(nonce)
        sent_auth = get_header(headers, "authorization") is not None
        start = lines[0].decode("latin-1").split()
        out = [("%s %s %s\r\n" % (start[0], up_target, start[2])).encode("latin-1")]
        for raw in lines[1:]:
            name = raw.decode("latin-1").partition(":")[0].strip().lower()
            if name != "authorization":
                out.append(raw)
        if auth:
            out.append(("Authorization: %s\r\n" % auth).encode("latin-1"))
        return self.forward(n, method, up_target, out, headers, expect, client_close,
                            fault="storage", extra={"auth": sent_auth})

    def forward(self, n, method, target, lines, headers, expect, client_close, fault=None,
                extra=None):
        opts = self.server.opts
        up = socket.create_connection((opts.up_host, opts.up_port), timeout=opts.timeout)
        up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        upr = up.makefile("rb", buffering=COPY)
        try:
            up.sendall(b"".join(lines) + b"\r\n")
            kind, length = framing(headers)
            body_done = threading.Event()
            body_failed = []
            pump = None
            steal = (opts.pattern == "steal-tag" and method == "PUT" and kind == "length"
                     and re.match(r"^/v2/.+/manifests/(?!sha256:)[^/]+$",
                                  urllib.parse.urlsplit(target).path))
            captured = []

            up_paced = self.server.state.pacer.wrap(up.sendall)

            def send_up(data):
                if steal:
                    captured.append(bytes(data))
                up_paced(data)
            if kind != "none" and not (kind == "length" and length == 0):
                def pump_body():
                    try:
                        if kind == "length":
                            copy_exact(self.rfile, length, send_up)
                        else:
                            copy_chunked(self.rfile, up_paced)
                    except (Closed, OSError, ValueError) as e:
                        body_failed.append(e)
                    finally:
                        body_done.set()
                pump = threading.Thread(target=pump_body, daemon=True)
                pump.start()
            else:
                body_done.set()

            # Responses: pass interim 1xx on, then the final one.
            while True:
                rlines = read_head(upr)
                if rlines is None:
                    raise Closed("upstream closed without answering")
                rstart = rlines[0].decode("latin-1").split(None, 2)
                status = int(rstart[1])
                if 100 <= status < 200 and status != 101:
                    self.send(b"".join(rlines) + b"\r\n")
                    continue
                break
            rheaders = header_list(rlines)
            rlines = self.rewrite_location(rlines)
            if steal and status == 201 and body_done.wait(opts.timeout) and not body_failed:
                self.steal_tag(target, headers, b"".join(captured) + b"\n")
            if opts.pattern == "scope-widen" and status == 401:
                m = re.match(r'(?i)bearer\s+realm="([^"]*)"\s*,\s*service="([^"]*)"',
                             get_header(rheaders, "www-authenticate") or "")
                if m:
                    with self.server.state.lock:
                        self.server.state.challenge = (m.group(1), m.group(2))
            if opts.pattern == "drop-patch":
                rlines = [l for l in rlines
                          if l.decode("latin-1").partition(":")[0].strip().lower() != "connection"]
                rlines.append(b"Connection: close\r\n")
                client_close = True
            if (opts.pattern == "chunk-min" and method == "POST" and status == 202):
                rlines = rlines[:1] + [("OCI-Chunk-Min-Length: %d\r\n" % opts.chunk_min)
                                       .encode("latin-1")] + rlines[1:]

            if method == "HEAD" or status in (204, 304):
                rkind, rlen = "none", 0
            elif has_token(rheaders, "transfer-encoding", "chunked"):
                rkind, rlen = "chunked", None
            elif get_header(rheaders, "content-length") is not None:
                rkind, rlen = "length", int(get_header(rheaders, "content-length"))
            else:
                rkind, rlen = "close", None
            has_body = rkind in ("chunked", "close") or (rkind == "length" and rlen > 0)
            cut = has_body and self.server.state.next_bodied_response()

            if opts.pattern == "delay":
                time.sleep(opts.delay_ms / 1000.0)
            if opts.latency_ms > 0:
                time.sleep(opts.latency_ms / 1000.0)
            down = self.server.state.pacer.wrap(self.send)

            # logged before the answer goes out, so a client that reads the log next sees it
            if cut:
                self.server.state.record(n, method, target, "drop-mid", status, self.started,
                                         headers, extra)
                self.send_cut(rlines, rkind, rlen, upr)
                return False

            corrupt = (opts.pattern == "corrupt-blobs" and method == "GET" and status == 200
                       and rkind == "length" and rlen > 0
                       and BLOB_PATH.match(urllib.parse.urlsplit(target).path))
            path = urllib.parse.urlsplit(target).path
            garbage = (opts.pattern == "garbage-json" and method == "GET" and status == 200
                       and rkind == "length" and rlen > 0
                       and ("/manifests/" in path or path.endswith("/tags/list")))
            self.server.state.record(n, method, target,
                                     "corrupt" if corrupt else "garbage" if garbage else fault,
                                     status, self.started, headers, extra)
            self.send(b"".join(rlines) + b"\r\n")
            if garbage:
                copy_exact(upr, rlen, lambda _data: None)
                self.send((b"<html>oops{" * (rlen // 11 + 1))[:rlen])
            elif corrupt:
                first = upr.read(1)
                if len(first) != 1:
                    raise Closed("EOF inside a body")
                self.send(bytes([first[0] ^ 0xFF]))
                copy_exact(upr, rlen - 1, self.send)
            elif rkind == "length":
                copy_exact(upr, rlen, down)
            elif rkind == "chunked":
                copy_chunked(upr, down)
            elif rkind == "close":
                while True:
                    chunk = upr.read1(COPY)
                    if not chunk:
                        break
                    down(chunk)

            # The request body must have been passed on whole for the connection to stay in step
            # (an upstream that answered early, or a client still waiting for 100 Continue).
            if pump is not None:
                pump.join(timeout=0.5 if expect else opts.timeout)
                if pump.is_alive() or body_failed:
                    return False
            if rkind == "close" or client_close or has_token(rheaders, "connection", "close"):
                return False
            return True
        finally:
            try:
                upr.close()
                up.close()
            except OSError:
                pass

    def steal_tag(self, target, headers, body):
        """steal-tag: another writer puts its manifest under the tag the client just wrote."""
        opts = self.server.opts
        conn = http.client.HTTPConnection(opts.up_host, opts.up_port, timeout=opts.timeout)
        try:
            h = {"Content-Type": get_header(headers, "content-type") or ""}
            auth = get_header(headers, "authorization")
            if auth:
                h["Authorization"] = auth
            conn.request("PUT", target, body=body, headers=h)
            resp = conn.getresponse()
            resp.read()
            self.server.state.record(0, "PUT", target, "stolen", resp.status, self.started, headers)
        finally:
            conn.close()

    def rewrite_location(self, rlines):
        opts = self.server.opts
        out = [rlines[0]]
        for raw in rlines[1:]:
            name, sep, value = raw.decode("latin-1").partition(":")
            if sep and name.strip().lower() == "location":
                v = value.strip()
                if v.lower().startswith(opts.up_base.lower()):
                    v = self.server.base + v[len(opts.up_base):]
                    raw = ("%s: %s\r\n" % (name, v)).encode("latin-1")
            out.append(raw)
        return out

    def send_cut(self, rlines, rkind, rlen, upr):
        """Send the headers and half of the body, then the caller closes the connection."""
        if rkind == "length":
            self.send(b"".join(rlines) + b"\r\n")
            copy_exact(upr, rlen // 2, self.send)
        elif rkind == "chunked":
            data, _ = read_chunked(upr)
            half = data[:len(data) // 2]
            self.send(b"".join(rlines) + b"\r\n")
            if half:
                self.send(b"%x\r\n" % len(half) + half + b"\r\n")
        else:
            data = upr.read()
            self.send(b"".join(rlines) + b"\r\n")
            self.send(data[:len(data) // 2])


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 64


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--upstream", required=True, help="http://HOST:PORT of the registry")
    ap.add_argument("--pattern", default="none", choices=PATTERNS)
    ap.add_argument("--port-file")
    ap.add_argument("--state-file")
    ap.add_argument("--log")
    ap.add_argument("--delay-ms", type=int, default=200)
    ap.add_argument("--chunk-min", type=int, default=2097152,
                    help="chunk-min: the OCI-Chunk-Min-Length announced")
    ap.add_argument("--timeout", type=float, default=120.0, help="socket timeout, seconds")
    ap.add_argument("--rate", type=float, default=0,
                    help="bytes/s of the emulated link, shared by every connection (0: no limit)")
    ap.add_argument("--latency-ms", type=int, default=0,
                    help="each response held this long before its headers (a round trip)")
    opts = ap.parse_args()

    u = urllib.parse.urlsplit(opts.upstream)
    if u.scheme != "http" or not u.hostname:
        ap.error("--upstream must be http://HOST:PORT")
    opts.up_host, opts.up_port = u.hostname, u.port or 80
    opts.up_base = "%s://%s" % (u.scheme, u.netloc)

    host, _, port = opts.listen.rpartition(":")
    srv = Server((host, int(port)), Handler)
    srv.opts = opts
    srv.state = State(opts)
    srv.state.port = srv.server_address[1]
    srv.base = "http://%s:%d" % (srv.server_address[0], srv.server_address[1])
    srv.state.write_state()
    if opts.port_file:
        tmp = opts.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.replace(tmp, opts.port_file)
    print("fault proxy %s -> %s pattern=%s" % (srv.base, opts.up_base, opts.pattern),
          file=sys.stderr, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
