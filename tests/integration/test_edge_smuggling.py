"""Request smuggling and framing at the edge (issue 10, findings 1, 2, 3, 4 and 14): the classic
desync cases (CL.TE, TE.CL, TE.TE obfuscations, bare LF and CR, duplicate and conflicting
lengths, chunk-extension and trailer abuse, whitespace before a colon, duplicate or bad Host,
absolute-form targets, CONNECT with a body), each followed by a pipelined second request, sent
over TLS to the edge in front of a strict origin (a Python socket server that keeps the raw bytes
it receives and parses them strictly) and a lenient one (Node's http server with
insecureHTTPParser). Each origin must receive exactly one well-framed request per request the
edge accepted and nothing for one it refused; the client must get the right status, and a
later request must find every origin still in step."""

import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest

from conftest import Deployment, finish_servers, uniq
from edge_helpers import (EchoOrigin, TestCA, curl, edge_ports, import_cert, refusing_port,
                          split_status, wait_served)

NODE = shutil.which("node") or shutil.which("nodejs")

# Node's http server with the lenient parser: it logs each complete request (once its body has
# ended) as a JSON line and answers "METHOD URL", keeping connections alive.
NODE_ORIGIN = r"""
const http = require('http'), fs = require('fs');
const log = process.argv[2];
const srv = http.createServer({insecureHTTPParser: true}, (req, res) => {
  const parts = [];
  req.on('data', d => parts.push(d));
  req.on('end', () => {
    fs.appendFileSync(log, JSON.stringify({method: req.method, url: req.url,
      headers: req.headers, body: Buffer.concat(parts).toString('latin1'),
      trailers: req.trailers}) + '\n');
    const out = req.method + ' ' + req.url;
    res.writeHead(200, {'Content-Length': Buffer.byteLength(out)});
    res.end(out);
  });
});
srv.keepAliveTimeout = 60000;
srv.listen(0, '127.0.0.1', () => console.log(srv.address().port));
"""


class NodeOrigin:
    def __init__(self, directory):
        self.log = directory / "node-requests.jsonl"
        self.log.write_text("")
        script = directory / "origin.js"
        script.write_text(NODE_ORIGIN)
        self.proc = subprocess.Popen([NODE, str(script), str(self.log)],
                                     stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())

    def requests(self):
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def paths(self):
        return [r["url"] for r in self.requests()]

    def reset(self):
        self.log.write_text("")

    def close(self):
        self.proc.kill()
        self.proc.wait()


class StrictOrigin:
    """A TCP origin that records every byte it receives and parses requests strictly (CRLF
    only, Content-Length or canonical chunked framing as the edge writes it, trailer fields
    included); anything else is recorded in self.errors and the connection is closed. Answers
    the path as body."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.reset()
        threading.Thread(target=self._serve, daemon=True).start()

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.raw = bytearray()   # everything received since the reset
            self.requests = []       # (head bytes, body bytes, the message's exact bytes)
            self.errors = []

    def paths(self):
        return [r[0].split(b" ")[1].decode() for r in self.requests]

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _recv(self, conn, buf):
        data = conn.recv(65536)
        if not data:
            raise EOFError
        with self.lock:
            self.raw += data
        return buf + data

    def _one(self, conn):
        buf = b""
        with conn:
            try:
                while True:
                    while b"\r\n\r\n" not in buf:
                        buf = self._recv(conn, buf)
                    head, _, rest = buf.partition(b"\r\n\r\n")
                    lines = head.split(b"\r\n")
                    if any(b"\r" in line or b"\n" in line for line in lines):
                        raise ValueError(f"bare CR or LF in {head!r}")
                    fields = {}
                    for line in lines[1:]:
                        name, sep, value = line.partition(b":")
                        if not sep or name != name.strip() or name.lower() in fields:
                            raise ValueError(f"bad or repeated field {line!r}")
                        fields[name.lower()] = value.strip()
                    if b"transfer-encoding" in fields and b"content-length" in fields:
                        raise ValueError("TE and CL")
                    body = b""
                    if fields.get(b"transfer-encoding") == b"chunked":
                        consumed = 0
                        while True:
                            while b"\r\n" not in rest[consumed:]:
                                rest = self._recv(conn, rest)
                            line, _, _ = rest[consumed:].partition(b"\r\n")
                            if not re.fullmatch(rb"[0-9a-f]+", line):
                                raise ValueError(f"chunk line {line!r}")
                            size = int(line, 16)
                            consumed += len(line) + 2
                            while size == 0:  # trailer lines, up to the empty line
                                while b"\r\n" not in rest[consumed:]:
                                    rest = self._recv(conn, rest)
                                line, _, _ = rest[consumed:].partition(b"\r\n")
                                consumed += len(line) + 2
                                if not line:
                                    break
                                if not re.fullmatch(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+:[ \t]*"
                                                    rb"[\x21-\x7e]*([ \t]+[\x21-\x7e]+)*[ \t]*",
                                                    line):
                                    raise ValueError(f"trailer line {line!r}")
                            if size == 0:
                                break
                            while len(rest) < consumed + size + 2:
                                rest = self._recv(conn, rest)
                            body += rest[consumed:consumed + size]
                            if rest[consumed + size:consumed + size + 2] != b"\r\n":
                                raise ValueError("chunk end")
                            consumed += size + 2
                    elif b"transfer-encoding" in fields:
                        raise ValueError("transfer coding")
                    else:
                        consumed = int(fields.get(b"content-length", b"0"))
                        while len(rest) < consumed:
                            rest = self._recv(conn, rest)
                        body = rest[:consumed]
                    message = head + b"\r\n\r\n" + rest[:consumed]
                    buf = rest[consumed:]
                    with self.lock:
                        self.requests.append((head, body, message))
                    path = lines[0].split(b" ")[1]
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s"
                                 % (len(path), path))
            except EOFError:
                return
            except (ValueError, IndexError) as e:
                with self.lock:
                    self.errors.append(str(e))

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    if not NODE:
        pytest.skip("node is not installed")
    root = tmp_path_factory.mktemp("edge_smuggling")
    d = Deployment(root)
    d.start(roles="api,edge", extra_args=[
        "--edge.workers=1", "--edge.read_timeout=3", "--edge.header_timeout=3",
        "--edge.connect_timeout=2", "--edge.max_header_bytes=4096"])
    d.ca = TestCA(root / "ca")
    d.creds = d.zone()
    d.https, d.http = edge_ports(d.server)
    d.strict = StrictOrigin()
    d.node = NodeOrigin(root)
    d.names = {"strict": served_hostname(d, f"127.0.0.1:{d.strict.port}"),
               "node": served_hostname(d, f"127.0.0.1:{d.node.port}")}
    yield d
    d.strict.close()
    d.node.close()
    finish_servers(d.servers)


def served_hostname(edge, origin, prefix="smuggle", **extra):
    api = edge.api(edge.creds)
    name = uniq(prefix)
    api.create(name, ssl={"method": "http", "type": "dv"}, custom_origin_server=origin, **extra)
    chain, key, serial = edge.ca.leaf([name], "ec")
    import_cert(edge.data, name, chain, key)
    wait_served(edge.https, name, serial, 5)
    return name


def tls_socket(edge, name):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", edge.https), timeout=10)
    return ctx.wrap_socket(raw, server_hostname=name)


def read_responses(sock, count, timeout=5):
    """Up to COUNT responses (Content-Length or chunked bodies) -> ([(status, head, body)],
    whether the connection closed before COUNT came)."""
    sock.settimeout(timeout)
    buf, out = b"", []

    def more():
        nonlocal buf
        try:
            data = sock.recv(65536)
        except (socket.timeout, ConnectionResetError, ssl.SSLError):
            data = b""
        if not data:
            raise EOFError
        buf += data

    try:
        while len(out) < count:
            while b"\r\n\r\n" not in buf:
                more()
            head, _, buf = buf.partition(b"\r\n\r\n")
            status = int(head.split(b" ")[1])
            m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
            if m:
                n = int(m.group(1))
                while len(buf) < n:
                    more()
                body, buf = buf[:n], buf[n:]
            else:  # chunked: kept as it came, for the test to look at
                last = re.compile(rb"(^|\r\n)0\r\n([^\r\n]+\r\n)*\r\n")
                while not last.search(buf):
                    more()
                end = last.search(buf).end()
                body, buf = buf[:end], buf[end:]
            out.append((status, head, body))
    except EOFError:
        return out, True
    return out, False


def second(name):
    return f"GET /second HTTP/1.1\r\nHost: {name}\r\n\r\n".encode()


def origin_of(edge, kind):
    return edge.strict if kind == "strict" else edge.node


def assert_in_step(edge, kind, name, expected_paths):
    """The origin got exactly EXPECTED_PATHS (well framed: the strict origin parsed every byte
    it received), and a new request on a new connection is answered normally."""
    origin = origin_of(edge, kind)
    s = tls_socket(edge, name)
    s.sendall(f"GET /canary HTTP/1.1\r\nHost: {name}\r\n\r\n".encode())
    got, _ = read_responses(s, 1)
    s.close()
    assert [(g[0], g[2]) for g in got] == [
        (200, b"/canary" if kind == "strict" else b"GET /canary")], got
    assert origin.paths() == expected_paths + ["/canary"], origin.paths()
    if kind == "strict":
        assert origin.errors == []
        assert bytes(origin.raw) == b"".join(r[2] for r in origin.requests), origin.raw


@pytest.fixture(params=["strict", "node"])
def target(request, edge):
    """(kind, hostname) for one origin, its records cleared."""
    origin_of(edge, request.param).reset()
    return request.param, edge.names[request.param]


# Finding 1, exactly: the head ends with CRLF LF; 34 bytes of "body" then GET /second.
SMUGGLED_34 = b"GET /smuggled HTTP/1.1\r\nX-Pad: 123"
assert len(SMUGGLED_34) == 34

REFUSED = {
    # id: (request bytes with {N} for the name, expected status)
    "finding1-crlf-lf-head-end": (b"POST /first HTTP/1.1\r\nHost: {N}\r\nContent-Length: 34\r\n\n"
                                  + SMUGGLED_34, 400),
    "bare-lf-request-line": (b"GET /first HTTP/1.1\nHost: {N}\r\n\r\n", 400),
    "bare-lf-field": (b"GET /first HTTP/1.1\r\nHost: {N}\nX-A: b\r\n\r\n", 400),
    "bare-cr-field": (b"GET /first HTTP/1.1\r\nHost: {N}\r\nX-A: b\rTransfer-Encoding: chunked"
                      b"\r\n\r\n", 400),
    "cl-te": (b"POST /first HTTP/1.1\r\nHost: {N}\r\nContent-Length: 6\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nG", 400),
    "te-cl": (b"POST /first HTTP/1.1\r\nHost: {N}\r\nTransfer-Encoding: chunked\r\n"
              b"Content-Length: 4\r\n\r\n5c\r\nGPOST /smuggled HTTP/1.1\r\nContent-Length: 15"
              b"\r\n\r\nx=1\r\n0\r\n\r\n", 400),
    "te-list-chunked-identity": (b"POST /first HTTP/1.1\r\nHost: {N}\r\n"
                                 b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400),
    "te-xchunked": (b"POST /first HTTP/1.1\r\nHost: {N}\r\nTransfer-Encoding: xchunked\r\n"
                    b"Content-Length: 3\r\n\r\nabc", 501),
    "te-unknown-coding": (b"POST /first HTTP/1.1\r\nHost: {N}\r\nTransfer-Encoding: cow\r\n\r\n"
                          b"0\r\n\r\n", 501),
    "te-twice": (b"POST /first HTTP/1.1\r\nHost: {N}\r\nTransfer-Encoding: chunked\r\n"
                 b"Transfer-Encoding: identity\r\n\r\n0\r\n\r\n", 400),
    "te-space-before-colon": (b"POST /first HTTP/1.1\r\nHost: {N}\r\n"
                              b"Transfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc", 400),
    "te-vertical-tab": (b"POST /first HTTP/1.1\r\nHost: {N}\r\n"
                        b"Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n", 400),
    "te-quoted": (b"POST /first HTTP/1.1\r\nHost: {N}\r\nTransfer-Encoding: \"chunked\"\r\n\r\n"
                  b"0\r\n\r\n", 400),
    "te-obs-fold": (b"POST /first HTTP/1.1\r\nHost: {N}\r\nX-A: b\r\n Transfer-Encoding: chunked"
                    b"\r\n\r\n0\r\n\r\n", 400),
    "te-in-http10": (b"POST /first HTTP/1.0\r\nHost: {N}\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"0\r\n\r\n", 400),
    "cl-twice-same": (b"POST /first HTTP/1.1\r\nHost: {N}\r\nContent-Length: 3\r\n"
                      b"Content-Length: 3\r\n\r\nabc", 400),
    "cl-conflicting": (b"POST /first HTTP/1.1\r\nHost: {N}\r\nContent-Length: 3\r\n"
                       b"Content-Length: 0\r\n\r\nabc", 400),
    "cl-list": (b"POST /first HTTP/1.1\r\nHost: {N}\r\nContent-Length: 3, 3\r\n\r\nabc", 400),
    "cl-plus-sign": (b"POST /first HTTP/1.1\r\nHost: {N}\r\nContent-Length: +3\r\n\r\nabc", 400),
    "chunk-ext-bare-lf": (b"POST /first HTTP/1.1\r\nHost: {N}\r\nTransfer-Encoding: chunked\r\n"
                          b"\r\n2;\nxx\r\n0\r\n\r\n", 400),
    "chunk-ext-name-bare-lf": (b"POST /first HTTP/1.1\r\nHost: {N}\r\n"
                               b"Transfer-Encoding: chunked\r\n\r\n2;a\nxx\r\n0\r\n\r\n", 400),
    "chunk-end-unchecked": (b"POST /first HTTP/1.1\r\nHost: {N}\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", 400),
    "chunk-size-bare-cr": (b"POST /first HTTP/1.1\r\nHost: {N}\r\nTransfer-Encoding: chunked\r\n"
                           b"\r\n2\rX\r\nxx\r\n0\r\n\r\n", 400),
    "chunk-size-overflow": (b"POST /first HTTP/1.1\r\nHost: {N}\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\n"
                            b"10000000000000001\r\nx\r\n0\r\n\r\n", 400),
    "chunk-size-0x": (b"POST /first HTTP/1.1\r\nHost: {N}\r\nTransfer-Encoding: chunked\r\n"
                      b"\r\n0x2\r\nxx\r\n0\r\n\r\n", 400),
    "trailer-bare-lf": (b"POST /first HTTP/1.1\r\nHost: {N}\r\nTransfer-Encoding: chunked\r\n"
                        b"\r\n0\r\nX-T: 1\nGET /smuggled HTTP/1.1\r\n\r\n", 400),
    "trailer-space-before-colon": (b"POST /first HTTP/1.1\r\nHost: {N}\r\n"
                                   b"Transfer-Encoding: chunked\r\n\r\n0\r\n"
                                   b"Content-Length : 5\r\n\r\n", 400),
    "field-name-with-space": (b"GET /first HTTP/1.1\r\nHost: {N}\r\nFoo Bar: x\r\n\r\n", 400),
    "host-space-before-colon": (b"GET /first HTTP/1.1\r\nHost : other.example\r\n\r\n", 400),
    "host-twice": (b"GET /first HTTP/1.1\r\nHost: {N}\r\nHost: other.example\r\n\r\n", 400),
    "host-empty": (b"GET /first HTTP/1.1\r\nHost:\r\n\r\n", 400),
    "host-inner-space": (b"GET /first HTTP/1.1\r\nHost: {N} other.example\r\n\r\n", 400),
    "host-userinfo": (b"GET /first HTTP/1.1\r\nHost: user@{N}\r\n\r\n", 400),
    "host-missing-http11": (b"GET /first HTTP/1.1\r\nX-A: b\r\n\r\n", 400),
    "host-padded-other": (b"GET /first HTTP/1.1\r\nHost: other.example" + b" " * 300
                          + b"\r\n\r\n", 421),
    "absolute-form-other": (b"GET http://other.example/admin HTTP/1.1\r\nHost: {N}\r\n\r\n", 421),
    "absolute-form-userinfo": (b"GET http://{N}@other.example/admin HTTP/1.1\r\nHost: {N}\r\n"
                               b"\r\n", 400),
    "connect-with-body": (b"CONNECT {N}:443 HTTP/1.1\r\nHost: {N}\r\nContent-Length: 32\r\n\r\n"
                          b"GET /smuggled HTTP/1.1\r\nX-A: b\r\n", 405),
}


@pytest.mark.parametrize("case", list(REFUSED), ids=list(REFUSED))
def test_refused_requests_reach_no_origin(edge, target, case):
    kind, name = target
    payload, status = REFUSED[case]
    s = tls_socket(edge, name)
    s.sendall(payload.replace(b"{N}", name.encode()) + second(name))
    got, closed = read_responses(s, 2)
    s.close()
    assert [g[0] for g in got] == [status], got
    assert closed, "the connection stays open after a refused request"
    assert_in_step(edge, kind, name, [])


BROKEN_LATER = {
    "chunk-ext-bare-lf": b"2;\nxx\r\n0\r\n\r\n",
    "chunk-end-unchecked": b"5\r\nhelloXX0\r\n\r\n",
    "chunk-size-bare-cr": b"2\rX\r\nxx\r\n0\r\n\r\n",
    "trailer-bare-lf": b"0\r\nX-T: 1\nGET /smuggled HTTP/1.1\r\n\r\n",
}


@pytest.mark.parametrize("case", list(BROKEN_LATER), ids=list(BROKEN_LATER))
def test_body_broken_after_its_head_was_sent(edge, target, case):
    """The head goes to the origin before the body arrives; when the body then breaks its
    chunked framing the client gets a 400, the origin connection (holding a partial request)
    is closed, and the origin never sees a complete request, nor the bytes that followed."""
    kind, name = target
    s = tls_socket(edge, name)
    s.sendall(f"POST /first HTTP/1.1\r\nHost: {name}\r\nTransfer-Encoding: chunked\r\n\r\n"
              .encode())
    origin = origin_of(edge, kind)
    if kind == "strict":  # the head reached the origin first
        deadline = time.monotonic() + 5
        while b"POST /first" not in bytes(origin.raw) and time.monotonic() < deadline:
            time.sleep(0.02)
    else:
        time.sleep(0.3)
    s.sendall(BROKEN_LATER[case] + second(name))
    got, closed = read_responses(s, 2)
    s.close()
    assert [g[0] for g in got] == [400] and closed, got
    if kind == "strict":  # the head and nothing after it; then the connection closed
        assert bytes(origin.raw).endswith(b"\r\n\r\n") and origin.requests == [], origin.raw
        origin.reset()
    assert_in_step(edge, kind, name, [])


# Requests the edge accepts and forwards in a normal form: (request bytes, what the origin must
# get as the first request's exact bytes from the edge (strict origin), the body).
def accepted_cases(name, peer="127.0.0.1"):
    xf = f"Host: {name}\r\n".encode()
    tail = f"X-Forwarded-For: {peer}\r\nX-Forwarded-Proto: https\r\n\r\n".encode()
    return {
        # the trailer fields that frame, route or are the edge's own are kept out (RFC 9110
        # 6.5.1): an origin that merges trailers into the head must not take them from a client
        "chunk-extension-dropped-trailers-filtered": (
            b"POST /first HTTP/1.1\r\n" + xf + b"Transfer-Encoding: chunked\r\n"
            b"Trailer: X-T\r\n\r\n5;name=\"va;lue\"\r\nhello\r\n006 ; x\r\n world\r\n"
            b"0;last\r\nX-T: 1\r\nContent-Length: 5\r\nX-Forwarded-For: 6.6.6.6\r\n"
            b"Host: other.example\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST /first HTTP/1.1\r\nTrailer: X-T\r\n" + xf + b"Transfer-Encoding: chunked\r\n"
            + tail + b"5\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n",
            b"hello world"),
        "content-length-normalised": (
            b"POST /first HTTP/1.1\r\n" + xf + b"Content-Length:\t007 \r\n\r\nabcdefg",
            b"POST /first HTTP/1.1\r\n" + xf + b"Content-Length: 7\r\n" + tail + b"abcdefg",
            b"abcdefg"),
        "absolute-form-becomes-origin-form": (
            f"GET https://{name}/first?q=1 HTTP/1.1\r\nHost: {name}\r\n\r\n".encode(),
            f"GET /first?q=1 HTTP/1.1\r\nHost: {name}\r\n".encode() + tail,
            b""),
        "connection-named-fields-dropped": (
            b"GET /first HTTP/1.1\r\n" + xf + b"Connection: keep-alive, X-Secret\r\n"
            b"X-Secret: internal\r\nTE: trailers\r\nX-Kept: 1\r\n\r\n",
            b"GET /first HTTP/1.1\r\nX-Kept: 1\r\n" + xf + tail,
            b""),
    }


ACCEPTED_IDS = list(accepted_cases("x"))


@pytest.mark.parametrize("case", ACCEPTED_IDS, ids=ACCEPTED_IDS)
def test_accepted_requests_are_forwarded_well_framed(edge, target, case):
    kind, name = target
    payload, expected, body = accepted_cases(name)[case]
    s = tls_socket(edge, name)
    s.sendall(payload + second(name))
    got, _ = read_responses(s, 2)
    s.close()
    path = "/first?q=1" if "absolute" in case else "/first"
    method = "POST" if body else "GET"
    if kind == "strict":
        assert [(g[0], g[2]) for g in got] == [(200, path.encode()), (200, b"/second")], got
        first = edge.strict.requests[0]
        assert first[2] == expected, first[2]
        assert first[1] == body
    else:
        assert [(g[0], g[2]) for g in got] == [(200, f"{method} {path}".encode()),
                                               (200, b"GET /second")], got
        req = edge.node.requests()[0]
        trailers = {"x-t": "1"} if "trailers" in case else {}
        assert req["body"].encode("latin1") == body and req["trailers"] == trailers, req
        assert "x-secret" not in req["headers"] and "te" not in req["headers"], req
    assert_in_step(edge, kind, name, [path, "/second"])


class MalformedResponseOrigin(StrictOrigin):
    """Answers every request with self.answer (raw bytes)."""

    def __init__(self, answer):
        self.answer = answer
        self.connections = 0
        super().__init__()

    def _one(self, conn):
        self.connections += 1
        with conn:
            try:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                conn.sendall(self.answer)
                time.sleep(0.3)
            except OSError:
                pass


BAD_RESPONSES = {
    "bare-lf-head": b"HTTP/1.1 200 OK\nContent-Length: 2\r\n\r\nok",
    "cl-and-te": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"2\r\nok\r\n0\r\n\r\n",
    "two-lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
    "bad-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n",
    "field-name-space": b"HTTP/1.1 200 OK\r\nContent Length: 2\r\n\r\nok",
}


@pytest.mark.parametrize("case", list(BAD_RESPONSES), ids=list(BAD_RESPONSES))
def test_malformed_origin_response_is_a_502(edge, case):
    origin = MalformedResponseOrigin(BAD_RESPONSES[case])
    try:
        name = served_hostname(edge, f"127.0.0.1:{origin.port}", "badresp")
        s = tls_socket(edge, name)
        s.sendall(f"GET /a HTTP/1.1\r\nHost: {name}\r\n\r\n".encode() * 2)
        got, closed = read_responses(s, 2)
        s.close()
        assert [g[0] for g in got] == [502] and closed, got
        assert b"malformed" in got[0][2]
    finally:
        origin.close()


def test_chunked_response_is_rechunked(edge):
    """Extensions from an origin do not reach the client, nor trailer fields that frame or
    control a response; the others do. The origin connection serves the next request (the
    response was well framed)."""
    origin = MalformedResponseOrigin(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;ext=\"x\"\r\nabc\r\n0003\r\ndef\r\n0\r\nX-Trailer: 1\r\nSet-Cookie: a=b\r\n"
        b"Content-Length: 9\r\n\r\n")
    try:
        name = served_hostname(edge, f"127.0.0.1:{origin.port}", "rechunk")
        s = tls_socket(edge, name)
        s.sendall(f"GET /a HTTP/1.1\r\nHost: {name}\r\n\r\n".encode())
        got, _ = read_responses(s, 1)
        s.close()
        assert [(g[0], g[2]) for g in got] == [
            (200, b"3\r\nabc\r\n3\r\ndef\r\n0\r\nX-Trailer: 1\r\n\r\n")], got
    finally:
        origin.close()


def test_request_host_header_is_the_origin_sni(edge):
    """custom_origin_sni ":request_host_header:" sends the request's Host as the TLS SNI."""
    chain, key, _ = edge.ca.leaf(["origin.internal"], "ec")
    origin = EchoOrigin(tls=(chain, key))
    try:
        name = served_hostname(edge, f"https://127.0.0.1:{origin.port}", "reqhost",
                               custom_origin_sni=":request_host_header:")
        code, body = split_status(curl(edge.https, name, "/sni"))
        assert code == 200, body
        assert json.loads(body)["sni"] == name
    finally:
        origin.close()


def test_error_page_escapes_the_server_name(edge):
    """A name under a wildcard hostname is quoted in the 502 page: HTML-escaped (or, once SNI
    is checked at ClientHello, refused before any page)."""
    api = edge.api(edge.creds)
    parent = uniq("wild")
    api.create("*." + parent, ssl={"method": "txt", "type": "dv", "wildcard": True},
               custom_origin_server=f"127.0.0.1:{refusing_port()}")
    chain, key, serial = edge.ca.leaf(["*." + parent], "ec")
    import_cert(edge.data, "*." + parent, chain, key)
    wait_served(edge.https, "a." + parent, serial, 5)
    evil = f"<b>x</b>.{parent}"
    try:
        s = tls_socket(edge, evil)
    except (ssl.SSLError, OSError, UnicodeError, ValueError):
        return  # refused at ClientHello: nothing to escape
    # HTTP/1.0 without Host: the server name is what the edge would use as Host
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    got, _ = read_responses(s, 1)
    s.close()
    body = got[0][2] if got else b""
    assert b"<b>" not in body, body
    assert not got or got[0][0] in (400, 421, 502), got


def test_x_forwarded_for_overwrite(tmp_path):
    """edge.x_forwarded_for=overwrite: the origin sees only the peer's address; append (the
    default, checked in test_edge_proxy.py) keeps the client's list in front of it."""
    d = Deployment(tmp_path)
    d.start(roles="api,edge", extra_args=["--edge.workers=1", "--edge.x_forwarded_for=overwrite"])
    origin = EchoOrigin()
    try:
        d.ca = TestCA(tmp_path / "ca")
        d.creds = d.zone()
        d.https, d.http = edge_ports(d.server)
        name = served_hostname(d, f"127.0.0.1:{origin.port}", "xff")
        code, body = split_status(curl(d.https, name, "/", "-H", "X-Forwarded-For: 6.6.6.6"))
        assert code == 200, body
        assert json.loads(body)["xff"] == "127.0.0.1"
    finally:
        origin.close()
        finish_servers(d.servers)
