#!/usr/bin/env python3
"""A deliberately evil registry front for the client's tests (hoist issue 9; stdlib only).

It forwards to a real registry (like fault_proxy.py, whose HTTP helpers it uses) and rewrites the
answers by pattern, to check that the client neither leaks credentials to another host nor can
be made to read files, connect to odd services, fill the disk, grow without end or hang.

Three listeners, all on 127.0.0.1 with ports picked by the kernel:
  MAIN   the registry as the client is told about it; answers are rewritten per pattern.
  OTHER  stands for "another host" (another port): it forwards every request to the registry as
         it came (so an operation may complete when the registry needs no auth) and passes the
         answer back untouched (but for link-other's tag pages); each request is logged with
         "auth": whether an Authorization header came, as its scheme word ("Basic", "Bearer";
         never the value) or false.
  SNIFF  plain TCP: logs each connection it accepts (and how many bytes came), answers nothing.

Patterns:
  link-other         tag lists come in pages of --page-size (2) tags, sorted; the first page
                     (from MAIN) links to the next one on OTHER:
                     Link: <http://127.0.0.1:OTHER/v2/NAME/tags/list?n=2&last=T>; rel="next"
                     and OTHER serves the rest (its own Links stay on OTHER). The pages are cut
                     here from the registry's full answer: distribution 2.8 ignores n and last
                     for tag lists
  location-other     the Location of a 202 to a POST /v2/NAME/blobs/uploads/ (a new upload
                     session) is pointed at OTHER; the PATCH and PUT that follow go there
  realm-file         every WWW-Authenticate realm="..." is replaced by file:///etc/passwd
  realm-gopher       ... by gopher://127.0.0.1:SNIFF/_x
  realm-http-remote  ... by http://hoist-realm.invalid/token (plain http, not loopback)
  huge-blob          a blob GET the registry answers 200 (--huge-target: any blob, or only a
                     config or a layer named by a manifest seen so far) gets 200 with
                     Content-Length: --huge-size (2147483648) and a body generated on the fly
  huge-blob-chunked  the same with Transfer-Encoding: chunked and no end
  tags-same-url      a tag list GET answered 200 gets the registry's body with
                     Link: <the very same URL>; rel="next"
  tags-endless       a tag list GET answered 200 gets --endless-tags (25000) new tag names and a
                     Link to a new URL (last= the last name), forever
  trickle            a manifest GET answered 200 gets its real head at once and its real body at
                     --trickle-bps (2) bytes per second
  none               forward everything (MAIN as a plain proxy)
Requests the registry does not answer as the pattern expects (a 401, a 404) pass untouched, so
the client's auth flow runs as usual.

--log gets one JSON line per event, written before the answer goes out (a client that reads it
right after its call sees the line):
  {"listener": "main"|"other", "n", "method", "path", "query", "auth", "status", "rewrite"}
  {"listener": "sniff", "event": "connect"}, then {..., "event": "closed", "bytes": N}
  {"listener": "main", "event": "body-end", "kind": "huge"|"chunked"|"trickle", "digest"|"path",
   "sent": body bytes handed to the kernel, "outcome": "client closed"|"complete"|"timeout"|...}
     (written when the body stops: after the client hung up, for the huge and trickle bodies)

usage: hostile_proxy.py --upstream http://127.0.0.1:PORT --pattern P --port-file F --log F
                        [--other-port-file F] [--sniff-port-file F] [--page-size 2]
                        [--huge-size 2147483648] [--huge-target any|config|layer]
                        [--endless-tags 25000] [--trickle-bps 2] [--timeout 60]
"""

import argparse
import json
import os
import re
import socket
import socketserver
import sys
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree from the import below
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault_proxy import (COPY, Closed, copy_chunked, copy_exact, framing,  # noqa: E402
                         get_header, has_token, header_list, read_head)

PATTERNS = ("none", "link-other", "location-other", "realm-file", "realm-gopher",
            "realm-http-remote", "huge-blob", "huge-blob-chunked", "tags-same-url",
            "tags-endless", "trickle")
TAGS_PATH = re.compile(r"^/v2/(.+)/tags/list$")
BLOB_PATH = re.compile(r"^/v2/.+/blobs/(sha256:[0-9a-f]{64})$")
MANIFEST_PATH = re.compile(r"^/v2/.+/manifests/[^/]+$")
UPLOADS_PATH = re.compile(r"^/v2/.+/blobs/uploads/?$")
REALM = re.compile(r'(?i)(realm\s*=\s*)"[^"]*"')
MAX_MANIFEST = 4 << 20
FILL = bytes(range(256)) * 256  # 64 KiB of body, sent again and again


class State:
    def __init__(self, opts):
        self.opts = opts
        self.lock = threading.Lock()
        self.n = 0
        self.pages = 0          # tags-endless: pages generated
        self.configs = set()    # digests named as a config by a manifest seen
        self.layers = set()     # ... as a layer
        self.ports = {}
        self.log_file = open(opts.log, "a", encoding="utf-8") if opts.log else None

    def number(self):
        with self.lock:
            self.n += 1
            return self.n

    def log(self, entry):
        with self.lock:
            if self.log_file:
                self.log_file.write(json.dumps(entry, sort_keys=True) + "\n")
                self.log_file.flush()

    def base(self, listener):
        return "http://127.0.0.1:%d" % self.ports[listener]


def auth_scheme(headers):
    v = get_header(headers, "authorization")
    if v is None:
        return False
    return v.split(None, 1)[0] if v.strip() else "(empty)"


def set_header(rlines, name, value):
    """The head lines with every `name` header replaced by one `name: value` (or added)."""
    out = [rlines[0]]
    for raw in rlines[1:]:
        if raw.decode("latin-1").partition(":")[0].strip().lower() != name.lower():
            out.append(raw)
    if value is not None:
        out.append(("%s: %s\r\n" % (name, value)).encode("latin-1"))
    return out


class Handler(socketserver.BaseRequestHandler):
    """One client connection to MAIN or OTHER (self.server.listener says which)."""

    def setup(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request.settimeout(self.server.opts.timeout)
        self.rfile = self.request.makefile("rb", buffering=COPY)
        self.st = self.server.state
        self.opts = self.server.opts

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

    def one_exchange(self):
        first = self.rfile.peek(1)[:1]
        if not first:
            return False
        if not (first.isalpha() or first in b"\r\n"):
            # not HTTP (a TLS ClientHello): answer like Go's net/http, so clients fall back
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
        client_close = has_token(headers, "connection", "close") or (
            version == "HTTP/1.0" and not has_token(headers, "connection", "keep-alive"))
        u = urllib.parse.urlsplit(target)
        entry = {"listener": self.server.listener, "n": self.st.number(), "method": method,
                 "path": u.path, "query": u.query, "auth": auth_scheme(headers),
                 "status": None, "rewrite": None}
        # OTHER rewrites nothing (link-other's pages aside: see answer)
        pattern = self.opts.pattern if self.server.listener == "main" else "none"
        return self.forward(method, target, lines, headers, client_close, entry, pattern)

    # ------------------------------------------------------------------ forwarding

    def forward(self, method, target, lines, headers, client_close, entry, pattern):
        opts = self.opts
        up = socket.create_connection((opts.up_host, opts.up_port), timeout=opts.timeout)
        up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        upr = up.makefile("rb", buffering=COPY)
        try:
            up.sendall(b"".join(lines) + b"\r\n")
            kind, length = framing(headers)
            pump, failed = None, []
            if kind != "none" and not (kind == "length" and length == 0):
                # the body streams up while the answer is awaited (an early 401 is possible)
                def pump_body():
                    try:
                        if kind == "length":
                            copy_exact(self.rfile, length, up.sendall)
                        else:
                            copy_chunked(self.rfile, up.sendall)
                    except (Closed, OSError, ValueError) as e:
                        failed.append(e)
                pump = threading.Thread(target=pump_body, daemon=True)
                pump.start()
            while True:
                rlines = read_head(upr)
                if rlines is None:
                    raise Closed("upstream closed without answering")
                status = int(rlines[0].decode("latin-1").split(None, 2)[1])
                if 100 <= status < 200 and status != 101:
                    self.send(b"".join(rlines) + b"\r\n")
                    continue
                break
            rheaders = header_list(rlines)
            if method == "HEAD" or status in (204, 304):
                rkind, rlen = "none", 0
            elif has_token(rheaders, "transfer-encoding", "chunked"):
                rkind, rlen = "chunked", None
            elif get_header(rheaders, "content-length") is not None:
                rkind, rlen = "length", int(get_header(rheaders, "content-length"))
            else:
                rkind, rlen = "close", None
            entry["status"] = status
            u = urllib.parse.urlsplit(target)

            keep = self.answer(pattern, method, u, status, rlines, rheaders, rkind, rlen, upr,
                               entry)
            if pump is not None:
                pump.join(timeout=opts.timeout)
                if pump.is_alive() or failed:
                    return False
            if not keep or rkind == "close" or client_close or \
                    has_token(rheaders, "connection", "close"):
                return False
            return True
        finally:
            try:
                upr.close()
                up.close()
            except OSError:
                pass

    def read_body(self, rkind, rlen, upr):
        if rkind == "length":
            data = bytearray()
            copy_exact(upr, rlen, data.extend)
            return bytes(data)
        if rkind == "none":
            return b""
        raise Closed("a body to rewrite must have a Content-Length")

    def pass_body(self, rkind, rlen, upr):
        if rkind == "length":
            copy_exact(upr, rlen, self.send)
        elif rkind == "chunked":
            copy_chunked(upr, self.send)
        elif rkind == "close":
            while True:
                chunk = upr.read1(COPY)
                if not chunk:
                    break
                self.send(chunk)

    def out(self, rlines, entry, body=None):
        """Logs entry, then sends the head (and body when given)."""
        self.st.log(entry)
        self.send(b"".join(rlines) + b"\r\n")
        if body:
            self.send(body)

    def answer(self, pattern, method, u, status, rlines, rheaders, rkind, rlen, upr, entry):
        """Sends the (rewritten) answer; False when the connection must close afterwards."""
        opts, st = self.opts, self.st
        path = u.path

        if pattern.startswith("realm-") and get_header(rheaders, "www-authenticate"):
            realm = {"realm-file": "file:///etc/passwd",
                     "realm-gopher": "gopher://127.0.0.1:%d/_x" % st.ports["sniff"],
                     "realm-http-remote": "http://hoist-realm.invalid/token"}[pattern]
            www = REALM.sub(lambda m: m.group(1) + '"%s"' % realm,
                            get_header(rheaders, "www-authenticate"))
            entry["rewrite"] = "realm"
            self.out(set_header(rlines, "WWW-Authenticate", www), entry)
            self.pass_body(rkind, rlen, upr)
            return True

        if self.opts.pattern == "link-other" and method == "GET" and status == 200 \
                and TAGS_PATH.match(path) and rkind == "length":
            return self.paginate(u, rlines, self.read_body(rkind, rlen, upr), entry)

        if pattern == "location-other" and method == "POST" and status == 202 \
                and UPLOADS_PATH.match(path):
            loc = get_header(rheaders, "location")
            if loc:
                ref = urllib.parse.urlsplit(loc)
                moved = "%s%s%s" % (st.base("other"), ref.path, "?" + ref.query if ref.query else "")
                rlines = set_header(rlines, "Location", moved)
                entry["rewrite"] = "location"
            self.out(rlines, entry)
            self.pass_body(rkind, rlen, upr)
            return True

        if pattern in ("tags-same-url", "tags-endless") and method == "GET" and status == 200 \
                and TAGS_PATH.match(path) and rkind == "length":
            real = self.read_body(rkind, rlen, upr)
            target = path + ("?" + u.query if u.query else "")
            if pattern == "tags-same-url":
                body, link = real, target
                entry["rewrite"] = "same-url"
            else:
                with st.lock:
                    st.pages += 1
                    page = st.pages
                names = ["e%06d-%05d" % (page, i) for i in range(opts.endless_tags)]
                name = TAGS_PATH.match(path).group(1)
                body = json.dumps({"name": name, "tags": names}).encode()
                link = "%s?n=%d&last=%s" % (path, opts.endless_tags, names[-1])
                entry["rewrite"] = "endless page %d" % page
            rlines = set_header(rlines, "Content-Length", str(len(body)))
            rlines = set_header(rlines, "Link", '<%s>; rel="next"' % link)
            self.out(rlines, entry, body)
            return True

        if pattern in ("huge-blob", "huge-blob-chunked") and method == "GET" and status == 200:
            if MANIFEST_PATH.match(path) and rkind == "length" and rlen <= MAX_MANIFEST:
                body = self.read_body(rkind, rlen, upr)
                self.learn(body)
                self.out(rlines, entry, body)
                return True
            m = BLOB_PATH.match(path)
            if m and self.targeted(m.group(1)):
                if rkind == "length":
                    copy_exact(upr, rlen, lambda _b: None)  # the real body: not sent
                elif rkind == "chunked":
                    copy_chunked(upr, lambda _b: None)
                return self.huge(m.group(1), rlines, entry, pattern == "huge-blob-chunked")

        if pattern == "trickle" and method == "GET" and status == 200 \
                and MANIFEST_PATH.match(path) and rkind == "length":
            body = self.read_body(rkind, rlen, upr)
            entry["rewrite"] = "trickle"
            self.out(rlines, entry)
            return self.trickle(path, body)

        self.out(rlines, entry)
        self.pass_body(rkind, rlen, upr)
        return True

    def paginate(self, u, rlines, real, entry):
        """link-other: a tag list page as a paginating registry serves it.

        The distribution registry 2.8 ignores n and last for tag lists (only 3.x paginates), so
        the pages are cut here from its full answer: sorted, the tags after last=, n of them.
        MAIN serves the first page, its next Link absolute and pointed at OTHER; OTHER serves
        the later ones (its Link, if any, relative: it stays on OTHER)."""
        try:
            doc = json.loads(real)
            tags = sorted(t for t in (doc.get("tags") or []) if isinstance(t, str))
        except (ValueError, AttributeError):
            self.out(rlines, entry, real)
            return True
        q = dict(urllib.parse.parse_qsl(u.query))
        last = q.get("last")
        if self.server.listener == "main":
            n = self.opts.page_size
        else:
            try:
                n = int(q.get("n", "0")) or len(tags)
            except ValueError:
                n = len(tags)
        rest = [t for t in tags if last is None or t > last]
        page, more = rest[:n], len(rest) > n
        body = json.dumps({"name": doc.get("name"), "tags": page}).encode()
        rlines = set_header(rlines, "Content-Length", str(len(body)))
        rlines = set_header(rlines, "Link", None)
        if more:
            nxt = "%s?%s" % (u.path, urllib.parse.urlencode([("n", n), ("last", page[-1])]))
            if self.server.listener == "main":
                nxt = self.st.base("other") + nxt
            rlines = set_header(rlines, "Link", '<%s>; rel="next"' % nxt)
        entry["rewrite"] = "page of %d%s" % (len(page), ", next on OTHER" if more and
                                             self.server.listener == "main" else "")
        self.out(rlines, entry, body)
        return True

    # ------------------------------------------------------------------ the hostile bodies

    def learn(self, body):
        """Remembers the config and layer digests a manifest names (huge-blob --huge-target)."""
        try:
            doc = json.loads(body)
        except ValueError:
            return
        if not isinstance(doc, dict):
            return
        with self.st.lock:
            cfg = doc.get("config")
            if isinstance(cfg, dict) and isinstance(cfg.get("digest"), str):
                self.st.configs.add(cfg["digest"])
            for layer in doc.get("layers") or []:
                if isinstance(layer, dict) and isinstance(layer.get("digest"), str):
                    self.st.layers.add(layer["digest"])

    def targeted(self, digest):
        t = self.opts.huge_target
        with self.st.lock:
            return t == "any" or (t == "config" and digest in self.st.configs) or \
                (t == "layer" and digest in self.st.layers)

    def body_end(self, kind, what, sent, outcome, started):
        entry = {"listener": "main", "event": "body-end", "kind": kind, "sent": sent,
                 "outcome": outcome, "seconds": round(time.monotonic() - started, 3)}
        entry.update(what)
        self.st.log(entry)

    def huge(self, digest, rlines, entry, chunked):
        """200 with a body far beyond the blob's size, generated as it goes (never buffered)."""
        head = [rlines[0]]
        for raw in rlines[1:]:
            name = raw.decode("latin-1").partition(":")[0].strip().lower()
            if name not in ("content-length", "transfer-encoding", "connection", "etag",
                            "accept-ranges"):
                head.append(raw)
        if chunked:
            head.append(b"Transfer-Encoding: chunked\r\n")
            frame = b"%x\r\n" % len(FILL) + FILL + b"\r\n"
        else:
            head.append(b"Content-Length: %d\r\n" % self.opts.huge_size)
            frame = FILL
        head.append(b"Connection: close\r\n")
        entry["rewrite"] = "huge-chunked" if chunked else "huge %d" % self.opts.huge_size
        self.out(head, entry)
        sent, outcome, started = 0, "complete", time.monotonic()
        try:
            while chunked or sent < self.opts.huge_size:
                if chunked:
                    self.send(frame)
                    sent += len(FILL)
                else:
                    n = min(len(FILL), self.opts.huge_size - sent)
                    self.send(FILL[:n])
                    sent += n
        except socket.timeout:
            outcome = "timeout (the client stopped reading)"
        except OSError:
            outcome = "client closed"
        self.body_end("chunked" if chunked else "huge", {"digest": BLOB_PATH.match(
            entry["path"]).group(1)}, sent, outcome, started)
        return False

    def trickle(self, path, body):
        """The body at --trickle-bps bytes per second: a server that is alive but barely."""
        sent, outcome, started = 0, "complete", time.monotonic()
        step = max(1, self.opts.trickle_bps)
        try:
            while sent < len(body):
                self.send(body[sent:sent + step])
                sent += len(body[sent:sent + step])
                if sent < len(body):
                    time.sleep(1.0)  # the evil server's pace (not a synchronisation)
        except socket.timeout:
            outcome = "timeout"
        except OSError:
            outcome = "client closed"
        self.body_end("trickle", {"path": path}, sent, outcome, started)
        return outcome == "complete"


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 64


def sniff_loop(sock, state):
    """SNIFF: records every connection (and the bytes it sent), answers nothing."""
    def one(conn):
        state.log({"listener": "sniff", "event": "connect"})  # at once: no race with the client
        got = 0
        conn.settimeout(2.0)
        try:
            while got < 65536:
                data = conn.recv(4096)
                if not data:
                    break
                got += len(data)
        except OSError:
            pass
        finally:
            conn.close()
        state.log({"listener": "sniff", "event": "closed", "bytes": got})
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=one, args=(conn,), daemon=True).start()


def write_port(path, port):
    if path:
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream", required=True, help="http://HOST:PORT of the registry")
    ap.add_argument("--pattern", required=True, choices=PATTERNS)
    ap.add_argument("--port-file", required=True, help="gets MAIN's port")
    ap.add_argument("--log", required=True)
    ap.add_argument("--other-port-file", help="gets OTHER's port")
    ap.add_argument("--sniff-port-file", help="gets SNIFF's port")
    ap.add_argument("--page-size", type=int, default=2, help="link-other: n of the first page")
    ap.add_argument("--huge-size", type=int, default=2147483648)
    ap.add_argument("--huge-target", choices=("any", "config", "layer"), default="any")
    ap.add_argument("--endless-tags", type=int, default=25000)
    ap.add_argument("--trickle-bps", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60.0, help="socket timeout, seconds")
    opts = ap.parse_args()
    u = urllib.parse.urlsplit(opts.upstream)
    if u.scheme != "http" or not u.hostname:
        ap.error("--upstream must be http://HOST:PORT")
    opts.up_host, opts.up_port = u.hostname, u.port or 80

    state = State(opts)
    servers = []
    for listener in ("main", "other"):
        srv = Server(("127.0.0.1", 0), Handler)
        srv.opts, srv.state, srv.listener = opts, state, listener
        state.ports[listener] = srv.server_address[1]
        servers.append(srv)
    sniff = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sniff.bind(("127.0.0.1", 0))
    sniff.listen(16)
    state.ports["sniff"] = sniff.getsockname()[1]
    threading.Thread(target=sniff_loop, args=(sniff, state), daemon=True).start()
    threading.Thread(target=servers[1].serve_forever, daemon=True).start()
    # the port files last: once MAIN's exists, every listener is up
    write_port(opts.other_port_file, state.ports["other"])
    write_port(opts.sniff_port_file, state.ports["sniff"])
    write_port(opts.port_file, state.ports["main"])
    print("hostile proxy main=%d other=%d sniff=%d -> %s pattern=%s" % (
        state.ports["main"], state.ports["other"], state.ports["sniff"], opts.upstream,
        opts.pattern), file=sys.stderr, flush=True)
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
